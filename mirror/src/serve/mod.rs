//! `mirror serve`: a small HTTP/1.1 server for the tree a mirror serves.
//!
//! Any static web server pointed at `DIR/repository` serves a mirror correctly; this one
//! exists so an air-gapped site needs nothing else, and so the caching headers are right
//! by construction.
//!
//! Every request looks at the `DIR/repository` symlink afresh (refusing anything that is
//! not the link a sync makes) and is answered from the state it names: its files opened
//! inside that state's tree, or kept in memory since they were (`view`: the state is
//! resolved, checked and its tree opened once per switch of the link). A state is complete
//! before it is served and afterwards changes only by whole files (an update in place:
//! new names, then `timestamp.json` replaced by a rename), and an open file outlives its
//! removal, so a response is always one whole file of one complete state, while a sync or
//! an import switches the mirror underneath. When the state a request resolved is removed
//! before the file is opened (a sync switched and pruned it in between), the request is
//! resolved again against the new state.
//!
//! Paths are percent-decoded segment by segment; `..`, `.`, empty segments, backslashes,
//! NUL and encoded slashes are refused with 404, and nothing that is not a regular file
//! (directories, symlinks, special files) is ever served, so no request reaches outside
//! the state's tree. Only GET and HEAD are answered.
//!
//! Headers: `Content-Type` is `application/json` for `.json`, `application/x-pem-file` for
//! `.pem`, `application/octet-stream` otherwise. `Cache-Control` follows what may change
//! under a name. In a repository with consistent snapshots (root's `consistent_snapshot`),
//! versioned metadata (`N.root.json`, `N.snapshot.json`, `N.<role>.json`) and
//! hash-prefixed targets never change, so they are `public, max-age=31536000, immutable`.
//! Without consistent snapshots nothing is: `2.bins.json` is then the current file of a
//! role named `2.bins`, replaced by its next version, and `<sha256>.x` a target that keeps
//! its name when it changes. Other metadata (`timestamp.json`, and every metadata file
//! without consistent snapshots) is `no-store`; anything else is `no-cache` (a cache must
//! revalidate).
//!
//! A directory of named repositories ([`crate::set`]) is served each repository under
//! `/NAME/`, by the same rules, the first segment naming the repository (`named`); `/`
//! then lists them.
//!
//! With [`ServeOptions::metrics`], `/metrics` answers in the Prometheus text format
//! (`metrics`); it names no file of the tree, see there. With
//! [`ServeOptions::status_page`], `/_status` answers the mirror's status as an HTML page
//! (`status_page`), likewise outside the tree.
//!
//! The response bodies and the access log are in `body`.

mod body;
mod metrics;
mod named;
pub mod status_page;
mod view;

use std::convert::Infallible;
use std::future::Future;
use std::io::Write;

use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trustroot_core::display::escape;

use chrono::Utc;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use self::body::{AccessLog, FileBody, Logged, Record};
use self::named::{Repository, Served};
use self::view::View;
use crate::error::UpdateError;

/// Connections served at once; further clients wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 1024;
/// How long a client may take to send a request's headers, and how long an idle
/// keep-alive connection stays open: a slow or silent client cannot hold a connection.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may make no progress at all (a client that asked for a target
/// and stopped reading it) before it is dropped. See [`crate::idle`].
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a shutdown waits for responses in flight before closing their connections.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Bytes read from a file per body frame: memory per connection stays bounded whatever
/// the size of a target. A file of at most this is read whole (and kept: `view`).
const CHUNK: usize = view::SMALL;
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// How long an access-log line may wait in memory before it is written out (see
/// `body::AccessLog`): a server killed outright (SIGKILL) loses at most this much of its
/// log.
pub const LOG_FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// How to serve a mirror.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The mirror directory (as given to `mirror sync`): one unnamed repository, or named
    /// ones.
    pub dir: PathBuf,
    /// Where the access log goes (appended); standard error when `None`.
    pub access_log: Option<PathBuf>,
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub shutdown_grace: Duration,
    /// Answer `/metrics` (see the `metrics` module).
    pub metrics: bool,
    /// The `repository` label of the metrics; default: the mirror's recorded origin URL.
    /// Refused for named repositories, labelled with their names.
    pub repository_label: Option<String>,
    /// Answer `/_status` with this page (see the `status_page` module).
    pub status_page: Option<status_page::StatusPage>,
}

impl ServeOptions {
    /// The defaults above, logging to standard error.
    pub fn new(dir: &Path) -> Self {
        ServeOptions {
            dir: dir.to_path_buf(),
            access_log: None,
            max_connections: MAX_CONNECTIONS,
            header_read_timeout: HEADER_READ_TIMEOUT,
            idle_timeout: IDLE_TIMEOUT,
            shutdown_grace: SHUTDOWN_GRACE,
            metrics: false,
            repository_label: None,
            status_page: None,
        }
    }
}

/// A mirror server bound to its address, not yet accepting.
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    options: ServeOptions,
    shared: Arc<Shared>,
}

/// What every request handler needs.
struct Shared {
    served: Served,
    log: Mutex<AccessLog>,
    /// The responses counted for `/metrics`, when it is served.
    counters: Option<metrics::Counters>,
    repository_label: Option<String>,
    status_page: Option<status_page::StatusPage>,
}

/// How a server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// False when some responses were still in flight after the grace period and their
    /// connections were closed.
    pub drained: bool,
}

impl Server {
    /// Checks that `options.dir` is a mirror with a served state, opens the access log and
    /// binds `listen` (`host:port`; port 0 picks a free one).
    pub async fn bind(options: ServeOptions, listen: &str) -> Result<Server, UpdateError> {
        let served = Served::open(&options.dir)?;
        if let (Served::Named(_), Some(_)) = (&served, &options.repository_label) {
            return Err(UpdateError::LabelOfNamedRepositories {
                dir: options.dir.clone(),
            });
        }
        let log: Box<dyn Write + Send> = match &options.access_log {
            Some(path) => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| UpdateError::io(path, e))?,
            ),
            None => Box::new(std::io::stderr()),
        };
        let listener = TcpListener::bind(listen).await.map_err(|source| UpdateError::Listen {
            addr: listen.to_string(),
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| UpdateError::BoundAddress {
            addr: listen.to_string(),
            source,
        })?;
        Ok(Server {
            listener,
            addr,
            shared: Arc::new(Shared {
                served,
                log: Mutex::new(AccessLog::new(log)),
                counters: options.metrics.then(metrics::Counters::default),
                repository_label: options.repository_label.clone(),
                status_page: options.status_page.clone(),
            }),
            options,
        })
    }

    /// The named repositories served when the server started (each at `/NAME/`), or `None`
    /// for an unnamed mirror served at `/`.
    pub fn named(&self) -> Option<Vec<String>> {
        match &self.shared.served {
            Served::Unnamed(_) => None,
            Served::Named(named) => Some(named.served().unwrap_or_default()),
        }
    }

    /// The address actually bound (the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then stops accepting, lets responses in flight
    /// finish (closing idle keep-alive connections at once) for up to the grace period,
    /// and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Stopped {
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.options.header_read_timeout);
        let graceful = GracefulShutdown::new();
        let permits = Arc::new(Semaphore::new(self.options.max_connections.max(1)));
        let flusher = tokio::spawn(flush_log_periodically(self.shared.clone()));
        tokio::pin!(shutdown);
        loop {
            // At the cap, stop accepting: new clients wait in the kernel's backlog.
            let permit = tokio::select! {
                _ = &mut shutdown => break,
                permit = permits.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            let (stream, peer) = tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        log(format_args!("warning: accepting a connection failed: {e}"));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let shared = self.shared.clone();
            let service = hyper::service::service_fn(move |request| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(shared, peer, request).await) }
            });
            let stream = crate::idle::IdleTimeout::new(stream, self.options.idle_timeout);
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                // Client resets and header timeouts end the connection; nothing to report.
                let _ = connection.await;
                drop(permit);
            });
        }
        drop(self.listener);
        let drained = tokio::time::timeout(self.options.shutdown_grace, graceful.shutdown())
            .await
            .is_ok();
        flusher.abort();
        self.shared.flush_log();
        Stopped { drained }
    }
}

impl Shared {
    /// Writes out the access-log lines buffered so far.
    fn flush_log(&self) {
        self.log.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).flush();
    }
}

/// Writes the access log out every [`LOG_FLUSH_INTERVAL`], until aborted.
async fn flush_log_periodically(shared: Arc<Shared>) {
    let mut interval = tokio::time::interval(LOG_FLUSH_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        shared.flush_log();
    }
}

/// Completes on the first SIGINT or SIGTERM. Call it before announcing the server, so a
/// signal sent as soon as the address is printed is handled, not fatal.
pub fn shutdown_signal() -> Result<impl Future<Output = ()> + Send, UpdateError> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &'static str| {
        signal(kind).map_err(|source| UpdateError::Signal { signal: name, source })
    };
    let mut terminate = listen(SignalKind::terminate(), "SIGTERM")?;
    let mut interrupt = listen(SignalKind::interrupt(), "SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

type BoxBody = UnsyncBoxBody<Bytes, std::io::Error>;

async fn handle(shared: Arc<Shared>, peer: SocketAddr, request: Request<Incoming>) -> Response<Logged> {
    let record = Record {
        shared: shared.clone(),
        at: Utc::now(),
        started: Instant::now(),
        peer,
        method: request.method().clone(),
        // The URI itself (a reference count, where a copy of its path was an allocation).
        uri: request.uri().clone(),
        status: 0,
    };
    let head = request.method() == Method::HEAD;
    let response = if request.method() == Method::GET || head {
        respond(shared, request.uri().path(), head).await
    } else {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD are served\n");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        response
    };
    let (parts, body) = response.into_parts();
    let record = Record {
        status: parts.status.as_u16(),
        ..record
    };
    Response::from_parts(
        parts,
        Logged {
            inner: body,
            sent: 0,
            record: Some(record),
        },
    )
}

async fn respond(shared: Arc<Shared>, raw_path: &str, head: bool) -> Response<BoxBody> {
    if raw_path == metrics::PATH && shared.counters.is_some() {
        return respond_metrics(shared, head).await;
    }
    if raw_path == status_page::PATH && shared.status_page.is_some() {
        return respond_status_page(shared, head).await;
    }
    if raw_path == "/"
        && let Served::Named(named) = &shared.served
    {
        return respond_index(named, head);
    }
    let Some(segments) = decode_path(raw_path) else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    // The repository the path names, and the path inside it.
    let (repository, segments) = match &shared.served {
        Served::Unnamed(repository) => (repository.clone(), segments),
        Served::Named(named) => {
            let Some((name, rest)) = segments.split_first().filter(|(_, rest)| !rest.is_empty()) else {
                return text(StatusCode::NOT_FOUND, "not found\n");
            };
            match named.get(name) {
                Ok(Some(repository)) => (repository, rest.to_vec()),
                Ok(None) => return text(StatusCode::NOT_FOUND, "not found\n"),
                Err(e) => return unavailable(raw_path, &e),
            }
        }
    };
    // Opened (and a small file read) right here, on the worker thread, as nginx does in
    // its event loop: a mirror's files are small and in the page cache (or kept in
    // memory), and handing each request to the blocking pool and back cost two thread
    // switches, most of the time a request took under load (measured:
    // docs/benchmarks.md). A file larger than a chunk is still streamed through the
    // blocking pool.
    let (contents, length, view) = match fetch(&repository, &segments, head) {
        Ok(Some(found)) => found,
        Ok(None) => return text(StatusCode::NOT_FOUND, "not found\n"),
        // A named repository with no served state (its first sync has not finished, or it
        // was removed) is not served, like a name the directory does not hold.
        Err(UpdateError::ServedStateGone { .. }) if matches!(shared.served, Served::Named(_)) => {
            return text(StatusCode::NOT_FOUND, "not found\n");
        }
        Err(e) => return unavailable(raw_path, &e),
    };
    // A regular file was found, so the path has a last segment (the root is a directory).
    let Some(name) = segments.last().map(String::as_str) else {
        return text(StatusCode::NOT_FOUND, "not found\n");
    };
    let cache = cache_control(&segments, || view.consistent_snapshot(&repository.mirror));
    let body = match contents {
        _ if head => Empty::new().map_err(|never| match never {}).boxed_unsync(),
        Contents::Read(bytes) => Full::new(bytes).map_err(|never| match never {}).boxed_unsync(),
        Contents::Open(file) => FileBody {
            file: tokio::fs::File::from_std(file),
            remaining: length,
            buffer: vec![0; CHUNK.min(usize::try_from(length).unwrap_or(CHUNK))].into_boxed_slice(),
        }
        .boxed_unsync(),
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(name)));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// A request the mirror's files could not answer: logged, and a 503.
fn unavailable(raw_path: &str, e: &UpdateError) -> Response<BoxBody> {
    log(format_args!("error: cannot serve {}: {e}", escape(raw_path)));
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        "the mirror cannot be served; see the server's log\n",
    )
}

/// `/` of a directory of named repositories: their names and paths, read afresh.
fn respond_index(named: &named::Named, head: bool) -> Response<BoxBody> {
    match named.index() {
        Ok(index) => generated(index, "application/json", head),
        Err(e) => unavailable("/", &e),
    }
}

/// `/metrics`: read from the mirror's files on a blocking thread, as a file would be.
async fn respond_metrics(shared: Arc<Shared>, head: bool) -> Response<BoxBody> {
    let rendered = tokio::task::spawn_blocking(move || {
        let counters = shared.counters.as_ref()?;
        Some(metrics::exposition(
            &shared.served,
            shared.repository_label.as_deref(),
            counters,
            Utc::now(),
        ))
    })
    .await;
    let text_body = match rendered {
        Ok(Some(Ok((text_body, warnings)))) => {
            for warning in warnings {
                log(format_args!("{warning}"));
            }
            text_body
        }
        Ok(None) => return text(StatusCode::NOT_FOUND, "not found\n"),
        Ok(Some(Err(e))) => {
            log(format_args!("error: cannot report {}: {e}", metrics::PATH));
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the mirror's metrics cannot be read; see the server's log\n",
            );
        }
        Err(e) => {
            log(format_args!("error: cannot report {}: {e}", metrics::PATH));
            return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n");
        }
    };
    generated(text_body, crate::metrics::CONTENT_TYPE, head)
}

/// `/_status`: the mirror's status read on a blocking thread, as a file would be, and
/// rendered by the caller's page writer.
async fn respond_status_page(shared: Arc<Shared>, head: bool) -> Response<BoxBody> {
    let rendered = tokio::task::spawn_blocking(move || {
        let page = shared.status_page.as_ref()?;
        let now = Utc::now();
        Some(match &shared.served {
            Served::Unnamed(repository) => {
                crate::status::status(repository.mirror.root(), now).map(|status| page.render(&status, now))
            }
            Served::Named(named) => named.statuses(now).map(|statuses| page.render_named(&statuses, now)),
        })
    })
    .await;
    let page = match rendered {
        Ok(Some(Ok(page))) => page,
        Ok(None) => return text(StatusCode::NOT_FOUND, "not found\n"),
        Ok(Some(Err(e))) => {
            log(format_args!("error: cannot report {}: {e}", status_page::PATH));
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the mirror's status cannot be read; see the server's log\n",
            );
        }
        Err(e) => {
            log(format_args!("error: cannot report {}: {e}", status_page::PATH));
            return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n");
        }
    };
    let mut response = generated(page, status_page::CONTENT_TYPE, head);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(status_page::CONTENT_SECURITY_POLICY),
    );
    response
}

/// A response made here rather than read from the tree: never cached (it describes the
/// mirror now), never sniffed as another type.
fn generated(body_text: String, content_type: &'static str, head: bool) -> Response<BoxBody> {
    let length = body_text.len() as u64;
    let body = if head {
        Empty::new().map_err(|never| match never {}).boxed_unsync()
    } else {
        Full::new(Bytes::from(body_text))
            .map_err(|never| match never {})
            .boxed_unsync()
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

fn text(status: StatusCode, message: &'static str) -> Response<BoxBody> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(message.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The path's segments, percent-decoded, or `None` for anything that could name a file
/// outside the tree, or a directory: no leading `/`, an empty, `.` or `..` segment, or a
/// backslash, NUL or slash inside a decoded segment.
pub fn decode_path(raw: &str) -> Option<Vec<String>> {
    let rest = raw.strip_prefix('/')?;
    rest.split('/')
        .map(|segment| {
            let decoded = percent_encoding::percent_decode_str(segment).decode_utf8().ok()?;
            let refused =
                decoded.is_empty() || decoded == "." || decoded == ".." || decoded.contains(['/', '\\', '\0']);
            (!refused).then(|| decoded.into_owned())
        })
        .collect()
}

/// A file to answer with: read whole already, or open to be streamed.
enum Contents {
    Read(Bytes),
    Open(std::fs::File),
}

/// Reads `file` whole when it is at most [`CHUNK`] bytes (and the request wants a body);
/// a larger one stays open, to be streamed. A file shorter than its length when opened
/// (changed under the server: states never are) is an error, as it is when streamed.
fn read_small(file: std::fs::File, length: u64, head: bool, path: &str) -> Result<Contents, UpdateError> {
    use std::io::Read as _;
    let small = usize::try_from(length).ok().filter(|&n| n <= CHUNK && !head);
    let Some(size) = small else {
        return Ok(Contents::Open(file));
    };
    let mut bytes = vec![0u8; size];
    let mut reader = &file;
    reader
        .read_exact(&mut bytes)
        .map_err(|e| UpdateError::io(Path::new(path), e))?;
    Ok(Contents::Read(Bytes::from(bytes)))
}

/// The file at `segments` in the state served now, kept in memory or read when at most
/// [`CHUNK`] bytes (and the request wants a body), else open to be streamed; with its
/// length and the view of the state it came from. `None` when the state has no such
/// regular file.
fn fetch(
    repository: &Repository,
    segments: &[String],
    head: bool,
) -> Result<Option<(Contents, u64, Arc<View>)>, UpdateError> {
    let path = segments.join("/");
    // A sync removes the old state right after switching; if the state we resolved went
    // away before the file was opened, resolve again. Three times is plenty: a sync
    // takes far longer than one lookup.
    for _ in 0..3 {
        let Some(view) = view::current(repository)? else {
            return Err(UpdateError::ServedStateGone {
                served: repository.mirror.served(),
            });
        };
        if let Some(bytes) = view.file(&path) {
            let length = bytes.len() as u64;
            return Ok(Some((Contents::Read(bytes), length, view)));
        }
        let tree = repository.mirror.state(view.state).join("tree");
        match open_in_state(repository, &view, &tree, &path, segments) {
            Ok(Some((file, length))) => {
                let contents = read_small(file, length, head, &path)?;
                // Kept only under a name whose content never changes: an update in place
                // replaces `timestamp.json` (and, without consistent snapshots, every
                // metadata file) within the same state.
                if let Contents::Read(bytes) = &contents
                    && cache_control(segments, || view.consistent_snapshot(&repository.mirror)) == IMMUTABLE
                {
                    view.keep(&path, bytes);
                }
                return Ok(Some((contents, length, view)));
            }
            Ok(None) if view::current(repository)?.is_some_and(|now| Arc::ptr_eq(&now, &view)) => return Ok(None),
            Ok(None) => continue,
            Err(e) => return Err(UpdateError::io(tree.join(&path), e)),
        }
    }
    Ok(None)
}

/// Opens a regular file of the state of `view` (whose tree is `tree`) without following
/// any symlink. On Linux, one `openat2` beneath the state's open tree directory refuses a
/// symlink anywhere on the path and any way out of the tree, then `fstat` checks it is a
/// regular file: two system calls where [`open_in`] makes one per directory and three for
/// the file. Elsewhere, or on a kernel without `openat2`, [`open_in`].
fn open_in_state(
    repository: &Repository,
    view: &View,
    tree: &Path,
    path: &str,
    segments: &[String],
) -> std::io::Result<Option<(std::fs::File, u64)>> {
    #[cfg(target_os = "linux")]
    if let Some(dir) = &view.tree {
        match beneath::open(dir, path) {
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOSYS.raw_os_error()) => {}
            result => return result,
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = path;
    // By path: check the state's directories again first, as each request is on its own.
    match repository.mirror.current() {
        Ok(Some(n)) if n == view.state => open_in(tree, segments),
        Ok(_) => Ok(None),
        Err(e) => Err(std::io::Error::other(e.to_string())),
    }
}

#[cfg(target_os = "linux")]
mod beneath {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    use rustix::io::Errno;

    /// Opens regular file `path` beneath the open directory `dir`.
    pub(super) fn open(dir: &std::fs::File, path: &str) -> std::io::Result<Option<(std::fs::File, u64)>> {
        let resolve = ResolveFlags::NO_SYMLINKS | ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        // Non-blocking: a FIFO (never in a state the mirror wrote) must not hang the server;
        // it is then refused as not a regular file.
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
        let fd = match rustix::fs::openat2(dir, path, flags, Mode::empty(), resolve) {
            Ok(fd) => fd,
            // Absent, a symlink on the way, a way out of the tree, a name too long: not served.
            Err(Errno::NOENT | Errno::NOTDIR | Errno::LOOP | Errno::XDEV | Errno::ISDIR | Errno::NAMETOOLONG) => {
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        let file = std::fs::File::from(fd);
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Ok(None);
        }
        Ok(Some((file, meta.len())))
    }
}

/// Opens a regular file under `tree` without following any symlink: every directory on
/// the way is checked with `symlink_metadata`, and the file opened must be the one checked.
fn open_in(tree: &Path, segments: &[String]) -> std::io::Result<Option<(std::fs::File, u64)>> {
    let absent = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory | std::io::ErrorKind::InvalidFilename
        )
    };
    let Some((name, directories)) = segments.split_last() else {
        return Ok(None);
    };
    let mut path = tree.to_path_buf();
    for directory in std::iter::once(None).chain(directories.iter().map(Some)) {
        if let Some(directory) = directory {
            path.push(directory);
        }
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_dir() => {}
            Ok(_) => return Ok(None),
            Err(e) if absent(&e) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    path.push(name);
    let checked = match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.file_type().is_file() => meta,
        Ok(_) => return Ok(None),
        Err(e) if absent(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(e) if absent(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() || (meta.dev(), meta.ino()) != (checked.dev(), checked.ino()) {
        return Ok(None);
    }
    Ok(Some((file, meta.len())))
}

/// The `Cache-Control` for a served path (see the module documentation).
fn cache_control(segments: &[String], consistent: impl FnOnce() -> bool) -> &'static str {
    match segments {
        [name] if name.ends_with(".json") => {
            if versioned(name) && consistent() {
                IMMUTABLE
            } else {
                "no-store"
            }
        }
        [first, .., name] if first == "targets" && hash_prefixed(name) && consistent() => IMMUTABLE,
        _ => "no-cache",
    }
}

/// `N.<role>.json`.
fn versioned(name: &str) -> bool {
    name.split_once('.').is_some_and(|(version, rest)| {
        !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()) && rest.len() > ".json".len()
    })
}

/// `<sha256 or sha512 hex>.<name>`.
fn hash_prefixed(name: &str) -> bool {
    name.split_once('.').is_some_and(|(digest, rest)| {
        matches!(digest.len(), 64 | 128) && digest.bytes().all(|b| b.is_ascii_hexdigit()) && !rest.is_empty()
    })
}

fn content_type(name: &str) -> &'static str {
    if name.ends_with(".json") {
        "application/json"
    } else if name.ends_with(".pem") {
        "application/x-pem-file"
    } else {
        "application/octet-stream"
    }
}

/// A line for the server's log on standard error. A closed standard error loses the line
/// and nothing else: the server keeps serving.
fn log(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(path: &str) -> Vec<String> {
        decode_path(path).unwrap_or_default()
    }

    #[test]
    fn decodes_paths_and_refuses_escapes() {
        assert_eq!(segments("/targets/a%20b.json"), vec!["targets", "a b.json"]);
        for refused in [
            "",
            "/",
            "//x",
            "/a//b",
            "/targets/",
            "/..",
            "/a/../b",
            "/%2e%2e/x",
            "/a%2fb",
            "/a%5cb",
            "/a\\b",
            "/a%00b",
            "/.",
            "/%ff",
        ] {
            assert_eq!(decode_path(refused), None, "{refused}");
        }
    }

    #[test]
    fn caches_only_names_that_never_change() {
        let cache = |path: &str, consistent: bool| cache_control(&segments(path), || consistent);
        assert_eq!(cache("/timestamp.json", true), "no-store");
        assert_eq!(cache("/snapshot.json", false), "no-store");
        assert_eq!(cache("/12.root.json", true), IMMUTABLE);
        assert_eq!(cache("/7.snapshot.json", true), IMMUTABLE);
        assert_eq!(cache("/3.bins-0a.json", true), IMMUTABLE);
        assert_eq!(cache("/1.json", true), "no-store");
        // Without consistent snapshots `3.bins-0a.json` is the current file of a role
        // named `3.bins-0a`.
        assert_eq!(cache("/12.root.json", false), "no-store");
        assert_eq!(cache("/7.snapshot.json", false), "no-store");
        assert_eq!(cache("/3.bins-0a.json", false), "no-store");
        let digest = "a".repeat(64);
        assert_eq!(cache(&format!("/targets/{digest}.trusted_root.json"), true), IMMUTABLE);
        assert_eq!(cache(&format!("/targets/dir/{digest}.b"), true), IMMUTABLE);
        // Without consistent snapshots a target keeps its name when it changes.
        assert_eq!(
            cache(&format!("/targets/{digest}.trusted_root.json"), false),
            "no-cache"
        );
        assert_eq!(cache("/targets/trusted_root.json", true), "no-cache");
        assert_eq!(cache("/targets/abc.json", true), "no-cache");
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("1.root.json"), "application/json");
        assert_eq!(content_type("ctfe.pem"), "application/x-pem-file");
        assert_eq!(content_type("artifact.tar.gz"), "application/octet-stream");
    }
}
