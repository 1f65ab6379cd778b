//! The read-back of a push (plan step 5), before `timestamp.json` goes up, through the
//! address clients use (`--public-url`):
//!
//! 1. every object this push uploaded is fetched and must have the local file's sha256,
//!    Content-Type, and Cache-Control where the store returns one: a CDN serving stale bytes, a bucket policy hiding the prefix, or an
//!    object replaced between its PUT and now all stop the push here;
//! 2. tough loads the repository from that address, from root v1 and from the newest
//!    root, with the new `timestamp.json` served from memory (it is not up yet), and reads
//!    every target this push uploaded. tough is the strictest client the gate knows
//!    (Sigstore's outages of sigstore/root-signing#1431 and #1437).
//!
//! 3. our own client does the same: the mirror crate's `ClientReadBack`, handed in by the
//!    command (ceremony does not depend on the mirror, DESIGN.md's crate boundaries).
//!
//! All three must accept, and they run side by side: the byte compare waits on the
//! store (one request an object), tough and our client work on this machine's CPU; one
//! after the other the read-back took as long again as the uploads (docs/benchmarks.md).
//! tough reads the targets from the local tree, which is sound only because the byte
//! compare must also accept: the push goes on when all of them have.
//!
//! tough's own `http` feature pulls a second reqwest; its transport here is the
//! workspace's reqwest 0.12.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures::{StreamExt as _, TryStreamExt as _};
use sha2::{Digest as _, Sha256};
use trustroot_store::object::ReadBack;
use trustroot_store::object::layout::{self, CacheControl};
use trustroot_store::object::readback::starting_roots;

/// Fetching one object, or one run of tough.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The read-back of one push: `base` is the public address (ending in '/'), `tree` the
/// local published tree that was pushed.
pub struct HttpReadBack {
    base: url::Url,
    tree: PathBuf,
    /// Where the policy allows P-384 keys tough cannot load such a root; it is skipped
    /// as the gate skips it.
    allow_p384: bool,
    /// The Cache-Control values the push gave each kind of name.
    cache: CacheControl,
    checked: AtomicUsize,
    /// Requests in flight at once (the push's `--jobs`).
    jobs: usize,
    /// What tough did, one line per starting root.
    tough: Mutex<Vec<String>>,
    /// Roots below this version were published before trustroot and the policy accepts
    /// that tough cannot start from them (`tough-root-history`).
    history_accepted_below: Option<u64>,
}

impl HttpReadBack {
    pub fn new(base: url::Url, tree: PathBuf, allow_p384: bool, cache: CacheControl) -> HttpReadBack {
        HttpReadBack {
            base,
            tree,
            allow_p384,
            cache,
            checked: AtomicUsize::new(0),
            jobs: trustroot_store::object::DEFAULT_JOBS,
            tough: Mutex::new(Vec::new()),
            history_accepted_below: None,
        }
    }

    /// As the gate with `tough-root-history` accepted: tough may fail from roots below
    /// `version` (published before trustroot took the repository over), and then starts
    /// from the next one.
    pub fn with_history_accepted_below(self, version: Option<u64>) -> HttpReadBack {
        HttpReadBack {
            history_accepted_below: version,
            ..self
        }
    }

    /// Reads back `jobs` objects at a time (the push's `--jobs`): at 10,000 targets one
    /// at a time, the read-back takes longer than the upload.
    pub fn with_jobs(self, jobs: usize) -> HttpReadBack {
        HttpReadBack {
            jobs: jobs.max(1),
            ..self
        }
    }

    /// How many objects were read back and found identical.
    pub fn checked(&self) -> usize {
        self.checked.load(Ordering::Relaxed)
    }

    /// Plan step 6: once `timestamp.json` is up, one GET through the public address. An
    /// older one still served (a CDN that has not revalidated yet) is a warning, not a
    /// failure: the store is right, and clients see the new timestamp once the cache
    /// does. `None` when the new one is served.
    pub fn timestamp_served(&self) -> Option<String> {
        let local = std::fs::read(self.tree.join("timestamp.json")).ok()?;
        let url = self.url_of("timestamp.json").ok()?;
        let (runtime, client) = io().ok()?;
        let limit = (local.len() as u64).saturating_mul(4).max(1 << 16);
        match runtime.block_on(get(&client, &url, limit)) {
            Ok(answer) if answer.body == local => None,
            Ok(_) => Some(format!(
                "{url} still serves an older timestamp.json (a cache in front of the store?); clients see the new one once it revalidates"
            )),
            Err(reason) => Some(format!("timestamp.json is up, but reading it back failed: {reason}")),
        }
    }

    /// The public address of `key`, never outside the base.
    fn url_of(&self, key: &str) -> Result<url::Url, String> {
        self.base
            .join(key)
            .ok()
            .filter(|u| u.as_str().starts_with(self.base.as_str()))
            .ok_or_else(|| format!("cannot be addressed under {}", self.base))
    }

    /// Step 1 for one object.
    async fn compare(&self, client: &reqwest::Client, key: &str) -> Result<(), String> {
        let local = std::fs::read(self.tree.join(key)).map_err(|e| format!("cannot read the local file: {e}"))?;
        let url = self.url_of(key)?;
        let Answer {
            body,
            content_type: served_type,
            cache_control,
        } = get(client, &url, local.len() as u64).await?;
        if Sha256::digest(&body) != Sha256::digest(&local) {
            return Err(format!(
                "GET {url} served {} bytes with another sha256 than the {} bytes pushed (a stale cache, or the object was replaced)",
                body.len(),
                local.len()
            ));
        }
        let expected = layout::content_type(key);
        let served = served_type.as_deref().unwrap_or("");
        if !served
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case(expected)
        {
            return Err(format!(
                "GET {url} is served as '{}', not {expected}",
                served.escape_debug()
            ));
        }
        // A store that does not return the header is not wrong; one that returns another
        // value would let a CDN keep timestamp.json, or refetch what never changes.
        let entry = layout::classify(key).map_err(|reason| format!("{key}: {reason}"))?;
        let expected = self.cache.for_entry(entry);
        if let Some(served) = cache_control
            && served.trim() != expected
        {
            return Err(format!(
                "GET {url} is served with Cache-Control '{}', not '{expected}'",
                served.escape_debug()
            ));
        }
        Ok(())
    }

    /// Step 2: tough from each starting root, with the timestamp overlaid.
    async fn tough(
        &self,
        client: &reqwest::Client,
        uploaded: &[String],
        timestamp: &[u8],
    ) -> Result<(), (String, String)> {
        use tough::IntoVec as _;
        let whole = |reason: String| ("(the repository)".to_string(), reason);
        let starts = starting_roots(&self.tree, uploaded)?;
        if self.allow_p384 && starts.iter().any(|(_, path)| lists_p384(path)) {
            // As the gate: tough refuses such a root outright; the byte compare stands.
            self.note("skipped: a root lists an ECDSA P-384 key, which tough refuses".into());
            return Ok(());
        }
        // The hashes of the targets this push uploaded: tough reads those.
        let fresh: BTreeSet<&str> = uploaded
            .iter()
            .filter_map(|key| key.strip_prefix("targets/"))
            .filter_map(|rest| rest.rsplit('/').next())
            .filter_map(|file| file.split_once('.').map(|(hash, _)| hash))
            .collect();
        let largest = largest_file(&self.tree);
        // Every target this push uploaded was just read back through the public address
        // and found byte for byte the local file (step 1): tough reads it from there
        // rather than a second time over the network, and checks it against the metadata
        // it loaded from the public address.
        let targets_url = url::Url::from_directory_path(self.tree.join("targets"))
            .map_err(|()| whole(format!("{} is not an absolute path", self.tree.display())))?;
        for (start, path) in starts {
            // Roots published before trustroot that tough cannot start from (the policy
            // accepts `tough-root-history` below `[import] root_version`): as the gate, tough
            // starts from the next root, until one it can.
            let (mut version, mut path) = (start, path);
            let (repository, _datastore) = loop {
                match self.load(client, &path, timestamp, largest, &targets_url).await {
                    Ok(loaded) => break loaded,
                    Err(reason) if self.history_accepted_below.is_some_and(|below| version + 1 < below) => {
                        self.note(format!(
                            "tough from root v{version}: refused ({reason}); history before trustroot, accepted by [gate] accept"
                        ));
                        version += 1;
                        path = self.tree.join(format!("{version}.root.json"));
                    }
                    Err(reason) => {
                        return Err(whole(format!(
                            "tough from root v{version} refuses the repository at {}: {reason}",
                            self.base
                        )));
                    }
                }
            };
            let who = format!("tough from root v{version}");
            let names: Vec<(tough::TargetName, String)> = repository
                .all_targets()
                .filter_map(|(name, target)| {
                    let sha = hex::encode(target.hashes.sha256.as_ref());
                    fresh.contains(sha.as_str()).then(|| (name.clone(), sha))
                })
                .collect();
            let count = names.len();
            let (repository, who) = (&repository, &who);
            let reads = futures::stream::iter(names.into_iter().map(|(name, sha)| async move {
                let key = format!("targets/{}", name.raw());
                let fail = |reason: String| (key.clone(), format!("{who}: {reason}"));
                let stream = repository
                    .read_target(&name)
                    .await
                    .map_err(|e| fail(chain(&e)))?
                    .ok_or_else(|| fail("not found through the delegations".into()))?;
                let bytes = stream.into_vec().await.map_err(|e| fail(chain(&e)))?;
                if hex::encode(Sha256::digest(&bytes)) != sha {
                    return Err(fail("read other bytes than the metadata lists".into()));
                }
                Ok(())
            }));
            reads.buffer_unordered(self.jobs).try_collect::<Vec<()>>().await?;
            self.note(format!("tough from root v{version}: {count} new target(s) read"));
        }
        Ok(())
    }

    /// tough's load of the repository at the public address from the root at `root`, with
    /// the timestamp just pushed overlaid; the refusal as text.
    async fn load(
        &self,
        client: &reqwest::Client,
        root: &std::path::Path,
        timestamp: &[u8],
        largest: u64,
        targets_url: &url::Url,
    ) -> Result<(tough::Repository, tempfile::TempDir), String> {
        use tough::{ExpirationEnforcement, RepositoryLoader};
        let root = std::fs::read(root).map_err(|e| format!("cannot read {}: {e}", root.display()))?;
        let transport = Overlay {
            client: client.clone(),
            timestamp_url: self.url_of("timestamp.json")?,
            timestamp: bytes::Bytes::copy_from_slice(timestamp),
            limit: largest,
        };
        let datastore = tempfile::tempdir().map_err(|e| format!("cannot make tough's datastore: {e}"))?;
        let repository = RepositoryLoader::new(&root, self.base.clone(), targets_url.clone())
            .transport(transport)
            .datastore(datastore.path())
            .expiration_enforcement(ExpirationEnforcement::Safe)
            .load()
            .await
            .map_err(|e| chain(&e))?;
        // tough keeps using its datastore while targets are read: it lives as long as the
        // repository does.
        Ok((repository, datastore))
    }
}

impl ReadBack for HttpReadBack {
    fn runs(&self) -> Vec<String> {
        self.tough.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The byte compare and tough side by side, each on a thread of its own: the compare
    /// waits on the store, tough on this machine's CPU. The compare's refusal is the one
    /// reported when both refuse: it names the object.
    fn check(&self, uploaded: &[String], timestamp: &[u8]) -> Result<(), (String, String)> {
        std::thread::scope(|scope| {
            let compared = scope.spawn(|| self.compare_all(uploaded));
            let toughed = scope.spawn(|| {
                let (runtime, client) = io().map_err(|reason| ("(read-back)".to_string(), reason))?;
                runtime.block_on(self.tough(&client, uploaded, timestamp))
            });
            let joined = |handle: std::thread::ScopedJoinHandle<'_, Result<(), (String, String)>>| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(("(read-back)".to_string(), "a read-back thread panicked".to_string())))
            };
            let (compared, toughed) = (joined(compared), joined(toughed));
            compared.and(toughed)
        })
    }
}

impl HttpReadBack {
    /// Step 1: every uploaded object, `jobs` at a time.
    fn compare_all(&self, uploaded: &[String]) -> Result<(), (String, String)> {
        let (runtime, client) = io().map_err(|reason| ("(read-back)".to_string(), reason))?;
        runtime.block_on(async {
            let client = &client;
            let compares = futures::stream::iter(
                uploaded
                    .iter()
                    .map(|key| async move { self.compare(client, key).await.map_err(|reason| (key.clone(), reason)) }),
            );
            let mut compares = compares.buffer_unordered(self.jobs);
            while let Some(compared) = compares.next().await {
                compared?;
                self.checked.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
    }

    /// One line of what tough did.
    fn note(&self, line: String) {
        self.tough.lock().unwrap_or_else(PoisonError::into_inner).push(line);
    }
}

/// An I/O runtime for this thread and an HTTP client on it (a reqwest client keeps its
/// connections on the runtime that made them).
fn io() -> Result<(tokio::runtime::Runtime, reqwest::Client), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the I/O runtime: {e}"))?;
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        // Clients use this address; a redirect elsewhere would show what they may not see.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    Ok((runtime, client))
}

/// A successful answer: its body and the headers the read-back checks.
struct Answer {
    body: Vec<u8>,
    content_type: Option<String>,
    cache_control: Option<String>,
}

/// GETs `url`, refusing a body longer than `limit`.
async fn get(client: &reqwest::Client, url: &url::Url, limit: u64) -> Result<Answer, String> {
    let response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| format!("GET {url} failed: {}", chain(&e)))?;
    read_body(response, url, limit).await
}

/// A successful answer's body (at most `limit` bytes) and headers.
async fn read_body(mut response: reqwest::Response, url: &url::Url, limit: u64) -> Result<Answer, String> {
    if !response.status().is_success() {
        return Err(format!(
            "GET {url} answered {} (is the prefix publicly readable at --public-url?)",
            response.status()
        ));
    }
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header(reqwest::header::CONTENT_TYPE);
    let cache_control = header(reqwest::header::CACHE_CONTROL);
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("GET {url} failed mid-body: {}", chain(&e)))?
    {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > limit {
            return Err(format!("GET {url} served more than the {limit} bytes expected"));
        }
    }
    Ok(Answer {
        body,
        content_type,
        cache_control,
    })
}

/// tough's transport: the public address over reqwest, with `timestamp.json` (not
/// uploaded yet) served from memory, and the targets from the local tree (`file://`),
/// which the byte compare matched with what the public address serves.
#[derive(Debug, Clone)]
struct Overlay {
    client: reqwest::Client,
    timestamp_url: url::Url,
    timestamp: bytes::Bytes,
    /// No object pushed is larger than the largest local file.
    limit: u64,
}

#[async_trait::async_trait]
impl tough::Transport for Overlay {
    async fn fetch(&self, url: url::Url) -> Result<tough::TransportStream, tough::TransportError> {
        use tough::{TransportError, TransportErrorKind};
        let one = |bytes: bytes::Bytes| -> tough::TransportStream { Box::pin(futures::stream::iter([Ok(bytes)])) };
        if url == self.timestamp_url {
            return Ok(one(self.timestamp.clone()));
        }
        if url.scheme() == "file" {
            let path = url
                .to_file_path()
                .map_err(|()| TransportError::new(TransportErrorKind::UnsupportedUrlScheme, url.clone()))?;
            let bytes = match tokio::fs::read(&path).await {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(TransportError::new(TransportErrorKind::FileNotFound, url));
                }
                Err(e) => return Err(TransportError::new_with_cause(TransportErrorKind::Other, &url, e)),
            };
            return Ok(one(bytes::Bytes::from(bytes)));
        }
        if !matches!(url.scheme(), "http" | "https") {
            return Err(TransportError::new(TransportErrorKind::UnsupportedUrlScheme, url));
        }
        let response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| TransportError::new_with_cause(TransportErrorKind::Other, &url, e))?;
        // A bucket that may not be listed answers 403 for a missing key: tough asks for
        // root N+1 until it is missing.
        if matches!(response.status().as_u16(), 403 | 404) {
            return Err(TransportError::new(TransportErrorKind::FileNotFound, url));
        }
        let Answer { body, .. } = read_body(response, &url, self.limit)
            .await
            .map_err(|reason| TransportError::new_with_cause(TransportErrorKind::Other, &url, reason))?;
        Ok(one(bytes::Bytes::from(body)))
    }
}

/// The size of the largest file under `dir` (0 when it cannot be read).
fn largest_file(dir: &std::path::Path) -> u64 {
    let mut largest = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => pending.push(entry.path()),
                Ok(meta) => largest = largest.max(meta.len()),
                Err(_) => {}
            }
        }
    }
    largest
}

/// True when the root file at `path` lists an ECDSA P-384 key, which tough refuses.
fn lists_p384(path: &std::path::Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| {
        bytes
            .windows(b"ecdsa-sha2-nistp384".len())
            .any(|w| w == b"ecdsa-sha2-nistp384")
    })
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text.replace(['\n', '\r'], " ")
}
