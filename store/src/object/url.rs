//! What `--to` names: `s3://BUCKET/PREFIX`, `gs://BUCKET/PREFIX`, `az://CONTAINER/PREFIX`,
//! `file:///DIR` or a plain path. The text comes from a command line or a policy file that
//! anyone may have edited, so everything that could escape the prefix, hide a character or
//! change the host is refused here, before any client is built.

use std::path::{Component, Path, PathBuf};

use super::error::ObjectError;

/// The suffix of the manifest key, a sibling of the served prefix (never under it: clients
/// must not be able to fetch it, and a listing of the prefix must hold only the tree).
pub const MANIFEST_SUFFIX: &str = ".trustroot-push.json";

/// Where a push goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// As the user wrote it, for messages.
    pub url: String,
    pub kind: Kind,
}

/// The store and the place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// An S3 (or S3-compatible) bucket; `prefix` has no leading or trailing '/'.
    S3 { bucket: String, prefix: String },
    /// A Google Cloud Storage bucket.
    Gcs { bucket: String, prefix: String },
    /// An Azure Blob container.
    Azure { container: String, prefix: String },
    /// A local directory (absolute), served as it is.
    File { dir: PathBuf },
}

impl Destination {
    /// Parses `text`; a relative plain path is taken from `cwd`. A bucket's root is
    /// refused: its manifest would sit in the served tree ([`Destination::parse_root`]).
    pub fn parse(text: &str, cwd: &Path) -> Result<Destination, ObjectError> {
        Destination::parse_inner(text, cwd, false)
    }

    /// [`Destination::parse`], taking a bucket's root too: only for a push whose manifest
    /// is kept elsewhere (`--manifest`).
    pub fn parse_root(text: &str, cwd: &Path) -> Result<Destination, ObjectError> {
        Destination::parse_inner(text, cwd, true)
    }

    fn parse_inner(text: &str, cwd: &Path, root: bool) -> Result<Destination, ObjectError> {
        let bad = |reason: &str| ObjectError::BadUrl {
            url: text.to_string(),
            reason: reason.to_string(),
        };
        if text.is_empty() {
            return Err(bad(
                "empty; give s3://BUCKET/PREFIX, az://CONTAINER/PREFIX, gs://BUCKET/PREFIX, file:///DIR or a path",
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(bad("holds a control character"));
        }
        let kind = match text.split_once("://") {
            None => Kind::File {
                dir: local_dir(Path::new(text), cwd).map_err(|reason| bad(&reason))?,
            },
            Some(("file", rest)) => {
                let path = rest.strip_prefix("localhost").unwrap_or(rest);
                if !path.starts_with('/') {
                    return Err(bad(
                        "a file:// URL names a local absolute path (file:///DIR); other hosts are refused",
                    ));
                }
                if path.contains(['%', '?', '#']) {
                    return Err(bad(
                        "percent-escapes, '?' and '#' are refused in a file:// URL; give the plain path",
                    ));
                }
                Kind::File {
                    dir: local_dir(Path::new(path), cwd).map_err(|reason| bad(&reason))?,
                }
            }
            Some((scheme @ ("s3" | "gs" | "az"), rest)) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                check_bucket(bucket).map_err(|reason| bad(&reason))?;
                let prefix = check_prefix(prefix).map_err(|reason| bad(&reason))?;
                if prefix.is_empty() && !root {
                    return Err(bad(&format!(
                        "give a prefix ({scheme}://{bucket}/repository), or keep the push manifest elsewhere with --manifest URL: it is kept beside the prefix, never in the served tree"
                    )));
                }
                let bucket = bucket.to_string();
                match scheme {
                    "s3" => Kind::S3 { bucket, prefix },
                    "gs" => Kind::Gcs { bucket, prefix },
                    _ => Kind::Azure {
                        container: bucket,
                        prefix,
                    },
                }
            }
            Some((scheme, _)) => {
                return Err(bad(&format!(
                    "the scheme '{}' is not a store trustroot pushes to; give s3://, az://, gs://, file:// or a path",
                    scheme.escape_debug()
                )));
            }
        };
        Ok(Destination {
            url: text.to_string(),
            kind,
        })
    }

    /// The served prefix inside the bucket (empty for a local directory).
    pub fn prefix(&self) -> &str {
        match &self.kind {
            Kind::S3 { prefix, .. } | Kind::Gcs { prefix, .. } | Kind::Azure { prefix, .. } => prefix,
            Kind::File { .. } => "",
        }
    }

    /// The manifest's key in the bucket, or its file beside the directory.
    pub fn manifest_name(&self) -> String {
        match &self.kind {
            Kind::File { dir } => {
                let mut name = dir.file_name().unwrap_or_default().to_os_string();
                name.push(MANIFEST_SUFFIX);
                dir.with_file_name(name).display().to_string()
            }
            _ => format!("{}{MANIFEST_SUFFIX}", self.prefix()),
        }
    }
}

/// An absolute, normalised local directory; `..` and the file-system root are refused.
fn local_dir(path: &Path, cwd: &Path) -> Result<PathBuf, String> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::RootDir | Component::Prefix(_) | Component::Normal(_) => out.push(component),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err("'..' is refused in a destination path; give the directory itself".into());
            }
        }
    }
    if out.parent().is_none() {
        return Err("the file-system root cannot be a destination; give a directory".into());
    }
    Ok(out)
}

/// What S3, Azure and GCS all accept (GCS also allows '_' and longer dotted names; Azure
/// no '.'): 3 to 63 of lowercase letters, digits, '-' and '.', starting and ending with a
/// letter or digit.
fn check_bucket(bucket: &str) -> Result<(), String> {
    let ok_chars = bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ends = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if bucket.is_empty() {
        return Err("no bucket name".into());
    }
    if !(3..=63).contains(&bucket.len()) || !ok_chars || !ends(bucket.bytes().next()) || !ends(bucket.bytes().last()) {
        return Err(format!(
            "'{}' is not a bucket name (3 to 63 lowercase letters, digits, '-' and '.')",
            bucket.escape_debug()
        ));
    }
    Ok(())
}

/// The prefix with its trailing '/' removed; every segment non-empty, not `.` or `..`, and
/// of letters, digits and `-._+=@,` only, so no key escapes or hides in an encoding.
fn check_prefix(prefix: &str) -> Result<String, String> {
    let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
    if prefix.is_empty() {
        return Ok(String::new());
    }
    for segment in prefix.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(format!(
                "the prefix '{}' has an empty, '.' or '..' segment",
                prefix.escape_debug()
            ));
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._+=@,".contains(&b))
        {
            return Err(format!(
                "the prefix segment '{}' holds a character other than letters, digits and -._+=@,",
                segment.escape_debug()
            ));
        }
    }
    Ok(prefix.to_string())
}

/// `text` with anything between "://" and the last '@' of the authority replaced, so that a
/// password pasted into a URL never reaches a message or a log.
pub fn without_userinfo(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.escape_debug().to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!(
            "{}://***@{}{}",
            scheme.escape_debug(),
            host.escape_debug(),
            path.escape_debug()
        ),
        None => text.escape_debug().to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn parse(text: &str) -> Result<Destination, ObjectError> {
        Destination::parse(text, Path::new("/work"))
    }

    #[test]
    fn stores_and_paths() {
        assert_eq!(
            parse("s3://repo-bucket/tuf/prod/").unwrap().kind,
            Kind::S3 {
                bucket: "repo-bucket".into(),
                prefix: "tuf/prod".into()
            }
        );
        assert!(matches!(parse("az://repo/tuf").unwrap().kind, Kind::Azure { .. }));
        assert!(matches!(parse("gs://repo/tuf").unwrap().kind, Kind::Gcs { .. }));
        assert_eq!(
            parse("file:///srv/tuf").unwrap().kind,
            Kind::File { dir: "/srv/tuf".into() }
        );
        assert_eq!(
            parse("out/./tuf").unwrap().kind,
            Kind::File {
                dir: "/work/out/tuf".into()
            }
        );
    }

    #[test]
    fn the_manifest_is_a_sibling_of_the_prefix() {
        assert_eq!(
            parse("s3://b-1/a/repo").unwrap().manifest_name(),
            "a/repo.trustroot-push.json"
        );
        assert_eq!(
            parse("/srv/tuf").unwrap().manifest_name(),
            "/srv/tuf.trustroot-push.json"
        );
    }

    #[test]
    fn path_traversal_in_the_prefix_is_refused() {
        for text in [
            "s3://bucket/a/../b",
            "s3://bucket/./a",
            "s3://bucket/a//b",
            "file:///srv/../etc",
            "../up",
        ] {
            assert!(matches!(parse(text), Err(ObjectError::BadUrl { .. })), "{text}");
        }
    }

    #[test]
    fn hidden_characters_and_encodings_are_refused() {
        for text in [
            "s3://bucket/a b",
            "s3://bucket/a%2F..",
            "s3://bucket/a?x=1",
            "s3://bucket/a\u{202e}b",
            "s3://bucket/a\nb",
            "file:///srv/%2e%2e",
        ] {
            assert!(matches!(parse(text), Err(ObjectError::BadUrl { .. })), "{text:?}");
        }
    }

    #[test]
    fn host_smuggled_in_the_bucket_is_refused() {
        for text in [
            "s3://evil.example:443@bucket/p",
            "s3://Bucket/p",
            "s3://b/p",
            "s3:///p",
            "file://other-host/srv",
        ] {
            assert!(matches!(parse(text), Err(ObjectError::BadUrl { .. })), "{text}");
        }
    }

    #[test]
    fn unknown_schemes_the_bucket_root_and_the_fs_root_are_refused() {
        for text in [
            "http://127.0.0.1/repo",
            "ftp://x/y",
            "s3://bucket",
            "s3://bucket/",
            "/",
            "",
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.starts_with("--to "), "{error}");
        }
    }
}
