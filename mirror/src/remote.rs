//! A repository read from where it is served rather than from a mirror directory
//! (`mirror verify|status URL`): a public http(s) address, read as any client reads it;
//! a store (`s3://`, `az://`, `gs://`), read through the store's API with the
//! environment's credentials, so what a push left there can be checked even where the
//! public address is a CDN that may hide it; or a directory a push wrote (`file:///DIR`).

use trustroot_store::object::backend::Connect;
use trustroot_store::object::{Destination, Kind, ObjectError, StoreBackend};
use url::Url;

use crate::fetch::{FetchConfig, Fetcher};

/// True when `text` names a repository by URL rather than a mirror directory.
pub fn is_remote(text: &str) -> bool {
    ["http://", "https://", "s3://", "az://", "gs://", "file://"]
        .iter()
        .any(|scheme| text.get(..scheme.len()).is_some_and(|s| s.eq_ignore_ascii_case(scheme)))
}

/// Where to read a served repository, and how.
#[derive(Debug, Clone)]
pub struct Remote {
    /// The repository's base URL, ending in '/': metadata at the top, targets under
    /// `targets/`.
    pub base: Url,
    pub fetcher: Fetcher,
    /// Warnings about the set-up (an `http://` endpoint off this machine).
    pub warnings: Vec<String>,
}

impl Remote {
    /// Opens `text` (see [`is_remote`]); `endpoint` is an S3-compatible store's (only with
    /// a store URL).
    pub fn open(text: &str, endpoint: Option<&str>) -> Result<Remote, ObjectError> {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            if let Some(endpoint) = endpoint {
                return Err(ObjectError::BadUrl {
                    url: text.to_string(),
                    reason: format!(
                        "--endpoint {endpoint} goes with a store URL (s3://BUCKET/PREFIX); an http(s) address is read as clients read it"
                    ),
                });
            }
            // Checked as a public address is: no credentials in it, a trailing '/'.
            let base = trustroot_store::object::readback::public_url(text)?;
            return Ok(Remote {
                base,
                fetcher: Fetcher::new(FetchConfig::default()),
                warnings: Vec::new(),
            });
        }
        let destination = Destination::parse(text, std::path::Path::new("/"))?;
        if let Kind::File { dir } = &destination.kind {
            if endpoint.is_some() {
                return Err(ObjectError::BadUrl {
                    url: text.to_string(),
                    reason: "--endpoint goes with a store URL (s3://BUCKET/PREFIX), not a directory".into(),
                });
            }
            let base = Url::from_directory_path(dir).map_err(|()| ObjectError::BadUrl {
                url: text.to_string(),
                reason: "not an absolute directory".into(),
            })?;
            return Ok(Remote {
                base,
                fetcher: Fetcher::new(FetchConfig::default()),
                warnings: Vec::new(),
            });
        }
        let connect = Connect {
            endpoint: endpoint.map(str::to_string),
            ..Connect::default()
        };
        let env = |name: &str| std::env::var(name).ok();
        let (backend, warnings) = StoreBackend::open(&destination, &connect, &env)?;
        let bad = |reason: String| ObjectError::BadUrl {
            url: text.to_string(),
            reason,
        };
        let mut base = Url::parse(text).map_err(|e| bad(format!("not a URL ({e})")))?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        Ok(Remote {
            fetcher: Fetcher::new(FetchConfig::default()).with_store(base.clone(), backend),
            base,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_and_directories_are_told_apart() {
        for url in [
            "http://127.0.0.1/r/",
            "HTTPS://cdn.test/",
            "s3://b/p",
            "az://c/p",
            "gs://b/p",
        ] {
            assert!(is_remote(url), "{url}");
        }
        assert!(is_remote("file:///srv/pushed"));
        for dir in ["mirror", "/srv/mirror", "./s3:", "s3", "file:"] {
            assert!(!is_remote(dir), "{dir}");
        }
    }

    #[test]
    fn public_addresses_get_their_slash_and_refuse_an_endpoint_or_credentials() {
        let remote = Remote::open("http://127.0.0.1:9/bucket/prefix", None).unwrap();
        assert_eq!(remote.base.as_str(), "http://127.0.0.1:9/bucket/prefix/");
        assert!(Remote::open("http://127.0.0.1:9/b/p/", Some("http://127.0.0.1:9")).is_err());
        let error = Remote::open("https://user:secret@cdn.test/r/", None)
            .unwrap_err()
            .to_string();
        assert!(!error.contains("secret"), "{error}");
    }
}
