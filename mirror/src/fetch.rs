//! Fetchers: HTTP(S) through one reused connection pool, local directories (`file://`
//! URLs) and, for a repository pushed to object storage, the store itself
//! ([`Fetcher::with_store`]), all with size caps and, for HTTP, timeouts that also stop a
//! server dripping bytes slowly.

use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::AsyncReadExt as _;
use tokio::time::Instant;
use url::Url;

use crate::error::FetchError;

/// Timeouts of HTTP fetches.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Longest silence allowed while reading a response.
    pub read_timeout: Duration,
    /// Time allowed for any response, on top of the time its size needs at
    /// `min_bytes_per_second`: a server sending a byte now and then cannot hold a fetch
    /// open forever.
    pub base_timeout: Duration,
    pub min_bytes_per_second: u64,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            base_timeout: Duration::from_secs(60),
            min_bytes_per_second: 64 * 1024,
        }
    }
}

impl FetchConfig {
    fn deadline_for(&self, max_len: u64) -> Duration {
        let transfer = max_len / self.min_bytes_per_second.max(1);
        self.base_timeout + Duration::from_secs(transfer)
    }
}

/// Gets repository files over HTTP(S) or from the local file system.
#[derive(Debug, Clone, Default)]
pub struct Fetcher {
    config: FetchConfig,
    /// Clients are built on first use: a run that only reads local files builds none.
    proxied: std::sync::Arc<OnceLock<Result<reqwest::Client, String>>>,
    direct: std::sync::Arc<OnceLock<Result<reqwest::Client, String>>>,
    /// One URL answered from memory (see [`Fetcher::with_overlay`]).
    overlay: Option<std::sync::Arc<(Url, hyper::body::Bytes)>>,
    /// URLs under a store's prefix, read through its API (see [`Fetcher::with_store`]).
    store: Option<std::sync::Arc<Store>>,
}

/// A pushed prefix read through the store's own GET (with the credentials of the
/// environment), for a repository whose public address is not at hand or not to be
/// trusted to be the store's.
struct Store {
    /// `s3://BUCKET/PREFIX/` (or `az://`, `gs://`): the URL keys are joined under.
    base: Url,
    backend: trustroot_store::object::StoreBackend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("base", &self.base.as_str()).finish()
    }
}

/// A response body being read, at most `max_len` bytes.
pub struct Body {
    url: String,
    max_len: u64,
    seen: u64,
    deadline: Instant,
    after: Duration,
    source: Source,
}

enum Source {
    Http(reqwest::Response),
    File(tokio::fs::File),
    /// The overlay's bytes, handed out once.
    Memory(Option<hyper::body::Bytes>),
}

const FILE_CHUNK: usize = 64 * 1024;

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl Fetcher {
    pub fn new(config: FetchConfig) -> Self {
        Fetcher {
            config,
            ..Default::default()
        }
    }

    /// Answers `url` with `bytes` instead of fetching it: a push's read-back updates from
    /// the public address with the new `timestamp.json` before it is uploaded (the store
    /// must keep serving the old one until everything else is checked).
    pub fn with_overlay(self, url: Url, bytes: Vec<u8>) -> Self {
        Fetcher {
            overlay: Some(std::sync::Arc::new((url, hyper::body::Bytes::from(bytes)))),
            ..self
        }
    }

    /// Reads URLs under `base` (`s3://BUCKET/PREFIX/`, ending in '/') through `backend`,
    /// the store's API: `base` joined with a file name is that object's key under the
    /// prefix, percent-decoded as an HTTP server decodes a path.
    pub fn with_store(self, base: Url, backend: trustroot_store::object::StoreBackend) -> Self {
        Fetcher {
            store: Some(std::sync::Arc::new(Store { base, backend })),
            ..self
        }
    }

    /// The store [`Fetcher::with_store`] reads through, if any.
    pub fn store(&self) -> Option<&trustroot_store::object::StoreBackend> {
        self.store.as_ref().map(|store| &store.backend)
    }

    /// The object `url` names in the store, if it is under the store's prefix.
    async fn read_stored(&self, url: &Url, max_len: u64) -> Option<Result<hyper::body::Bytes, FetchError>> {
        let store = self.store.as_ref()?;
        let relative = url.as_str().strip_prefix(store.base.as_str())?;
        let name = url.to_string();
        let key = percent_encoding::percent_decode_str(relative).decode_utf8_lossy();
        use trustroot_store::object::Backend as _;
        Some(match store.backend.get(&key, max_len).await {
            Ok(Some((bytes, _etag))) => Ok(hyper::body::Bytes::from(bytes)),
            Ok(None) => Err(FetchError::NotFound { url: name }),
            Err(error) => Err(FetchError::Transport {
                url: name,
                reason: error.to_string(),
            }),
        })
    }

    fn client(&self, url: &Url) -> Result<reqwest::Client, FetchError> {
        // Loopback is never sent through a proxy from the environment.
        let loopback = is_loopback(url);
        let cell = if loopback { &self.direct } else { &self.proxied };
        let built = cell.get_or_init(|| {
            let mut builder = reqwest::Client::builder()
                .connect_timeout(self.config.connect_timeout)
                .read_timeout(self.config.read_timeout)
                .user_agent(concat!("trustroot/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::limited(5));
            if loopback {
                builder = builder.no_proxy();
            }
            builder.build().map_err(|e| e.to_string())
        });
        built.clone().map_err(|reason| FetchError::Transport {
            url: url.to_string(),
            reason,
        })
    }

    /// Opens `url` for reading at most `max_len` bytes.
    pub async fn open(&self, url: &Url, max_len: u64) -> Result<Body, FetchError> {
        let after = self.config.deadline_for(max_len);
        let deadline = Instant::now() + after;
        let name = url.to_string();
        let overlaid = self.overlay.as_ref().filter(|overlay| overlay.0 == *url);
        let stored = match overlaid {
            Some(_) => None,
            None => self.read_stored(url, max_len).await,
        };
        let source = match url.scheme() {
            _ if let Some(stored) = stored => Source::Memory(Some(stored?)),
            _ if let Some(overlay) = overlaid => {
                if overlay.1.len() as u64 > max_len {
                    return Err(FetchError::TooLarge {
                        url: name,
                        limit: max_len,
                    });
                }
                Source::Memory(Some(overlay.1.clone()))
            }
            "http" | "https" => {
                let client = self.client(url)?;
                let sent = tokio::time::timeout_at(deadline, client.get(url.clone()).send()).await;
                let response = sent
                    .map_err(|_| FetchError::Timeout {
                        url: name.clone(),
                        after,
                    })?
                    .map_err(|e| FetchError::Transport {
                        url: name.clone(),
                        reason: describe(&e),
                    })?;
                let status = response.status().as_u16();
                match status {
                    200 => {}
                    403 | 404 | 410 => return Err(FetchError::NotFound { url: name }),
                    _ => return Err(FetchError::Status { url: name, status }),
                }
                if response.content_length().is_some_and(|len| len > max_len) {
                    return Err(FetchError::TooLarge {
                        url: name,
                        limit: max_len,
                    });
                }
                Source::Http(response)
            }
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|_| FetchError::NotALocalPath { url: name.clone() })?;
                let file = tokio::fs::File::open(&path).await.map_err(|e| match e.kind() {
                    std::io::ErrorKind::NotFound => FetchError::NotFound { url: name.clone() },
                    _ => FetchError::Transport {
                        url: name.clone(),
                        reason: e.to_string(),
                    },
                })?;
                let meta = file.metadata().await.map_err(|e| FetchError::Transport {
                    url: name.clone(),
                    reason: e.to_string(),
                })?;
                if !meta.is_file() {
                    return Err(FetchError::NotFound { url: name });
                }
                if meta.len() > max_len {
                    return Err(FetchError::TooLarge {
                        url: name,
                        limit: max_len,
                    });
                }
                Source::File(file)
            }
            _ => return Err(FetchError::UnsupportedScheme { url: name }),
        };
        Ok(Body {
            url: name,
            max_len,
            seen: 0,
            deadline,
            after,
            source,
        })
    }

    /// Fetches the whole of `url`, at most `max_len` bytes.
    pub async fn fetch(&self, url: &Url, max_len: u64) -> Result<Vec<u8>, FetchError> {
        let mut body = self.open(url, max_len).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = body.chunk().await? {
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

fn describe(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl Body {
    /// The next chunk, or `None` at the end. Fails once more than the allowed bytes
    /// arrive, or when the deadline passes.
    pub async fn chunk(&mut self) -> Result<Option<hyper::body::Bytes>, FetchError> {
        let timeout = || FetchError::Timeout {
            url: self.url.clone(),
            after: self.after,
        };
        let chunk = match &mut self.source {
            Source::Http(response) => {
                let next = tokio::time::timeout_at(self.deadline, response.chunk())
                    .await
                    .map_err(|_| timeout())?;
                next.map_err(|e| FetchError::Transport {
                    url: self.url.clone(),
                    reason: describe(&e),
                })?
            }
            Source::File(file) => {
                let mut buffer = vec![0u8; FILE_CHUNK];
                let n = file.read(&mut buffer).await.map_err(|e| FetchError::Transport {
                    url: self.url.clone(),
                    reason: e.to_string(),
                })?;
                buffer.truncate(n);
                (n > 0).then(|| hyper::body::Bytes::from(buffer))
            }
            Source::Memory(bytes) => bytes.take(),
        };
        if let Some(chunk) = &chunk {
            self.seen += chunk.len() as u64;
            if self.seen > self.max_len {
                return Err(FetchError::TooLarge {
                    url: self.url.clone(),
                    limit: self.max_len,
                });
            }
        }
        Ok(chunk)
    }
}
