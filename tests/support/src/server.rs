//! [`SimServer`]: serves a [`RepoSim`] over plain HTTP on 127.0.0.1, logs every request
//! and injects faults by path.

use std::collections::HashMap;
use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::repo::RepoSim;

/// What the server does instead of answering normally for one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP status and a short text body.
    Status(u16),
    /// Answer 200 with these bytes instead of the published ones.
    Body(Vec<u8>),
    /// Send the response headers (with the real `Content-Length`), then nothing for this
    /// long, then close.
    Stall(Duration),
    /// Answer 200 with no `Content-Length` and stream bytes until the client hangs up,
    /// 1 GiB has been sent, or the server stops.
    Endless,
    /// Send the real response at this many bytes per second.
    SlowDrip(u32),
    /// Declare 100 more bytes in `Content-Length` than the body has, send the body, close.
    WrongContentLength,
}

/// Upper bound of an [`Fault::Endless`] body.
pub const ENDLESS_LIMIT: u64 = 1 << 30;

struct Shared {
    repo: Arc<Mutex<RepoSim>>,
    /// When set, files are served from this directory instead of `repo`.
    root_dir: Option<std::path::PathBuf>,
    requests: Mutex<Vec<String>>,
    faults: Mutex<HashMap<String, Fault>>,
    stop: AtomicBool,
}

/// An HTTP server for a shared [`RepoSim`], on `127.0.0.1` and an ephemeral port.
///
/// Paths are those of [`RepoSim::bytes`] (`/metadata/1.root.json`, `/targets/...`);
/// missing paths get a 404. Each response carries `Content-Length` (except
/// [`Fault::Endless`]) and `Connection: close`, and the connection is closed after it.
/// Dropping the server stops it and joins all its threads.
pub struct SimServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SimServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimServer").field("addr", &self.addr).finish()
    }
}

impl SimServer {
    /// Starts serving `repo` on `127.0.0.1:0`. Edits to `repo` are visible immediately.
    pub fn start(repo: Arc<Mutex<RepoSim>>) -> SimServer {
        Self::start_with(repo, None)
    }

    /// Serves the files under `dir` (a published repository, a mirror's served path) on
    /// `127.0.0.1:0`, with the same request log and faults. Paths that leave `dir`
    /// (`..`) or name a directory get a 404. The files are read at each request, so
    /// changes on disk (a mirror sync) are visible immediately.
    pub fn serve_dir(dir: &std::path::Path) -> SimServer {
        let placeholder = Arc::new(Mutex::new(RepoSim::new(chrono::Utc::now())));
        Self::start_with(placeholder, Some(dir.to_path_buf()))
    }

    fn start_with(repo: Arc<Mutex<RepoSim>>, root_dir: Option<std::path::PathBuf>) -> SimServer {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            repo,
            root_dir,
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(HashMap::new()),
            stop: AtomicBool::new(false),
        });
        let accept_shared = shared.clone();
        let accept = std::thread::Builder::new()
            .name("sim-server-accept".into())
            .spawn(move || accept_loop(&listener, &accept_shared))
            .expect("spawn accept thread");
        SimServer {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// The listening address (always 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// `http://127.0.0.1:PORT/metadata/`.
    pub fn metadata_url(&self) -> String {
        format!("http://{}/metadata/", self.addr)
    }

    /// `http://127.0.0.1:PORT/targets/`.
    pub fn targets_url(&self) -> String {
        format!("http://{}/targets/", self.addr)
    }

    /// The shared repository.
    pub fn repo(&self) -> Arc<Mutex<RepoSim>> {
        self.shared.repo.clone()
    }

    /// Paths requested so far, in arrival order, without the leading `/` and query
    /// (e.g. `metadata/2.root.json`), as sent (percent-encoding kept).
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Forgets the logged requests.
    pub fn clear_requests(&self) {
        self.shared.requests.lock().unwrap().clear();
    }

    /// Injects `fault` for every request of `path` (as in [`SimServer::requests`]) until
    /// cleared.
    pub fn set_fault(&self, path: &str, fault: Fault) {
        self.shared
            .faults
            .lock()
            .unwrap()
            .insert(path.trim_start_matches('/').to_string(), fault);
    }

    /// Removes the fault on `path`.
    pub fn clear_fault(&self, path: &str) {
        self.shared.faults.lock().unwrap().remove(path.trim_start_matches('/'));
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.faults.lock().unwrap().clear();
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let conn_shared = shared.clone();
                let spawned = std::thread::Builder::new()
                    .name("sim-server-conn".into())
                    .spawn(move || handle_connection(stream, &conn_shared));
                if let Ok(handle) = spawned {
                    workers.push(handle);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(2)),
        }
        workers.retain(|w| !w.is_finished());
    }
    for worker in workers {
        let _ = worker.join();
    }
}

/// Longest time spent reading a request head.
const READ_DEADLINE: Duration = Duration::from_secs(10);
/// Largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Longest time a single response may take to write (unless a fault says otherwise).
const WRITE_DEADLINE: Duration = Duration::from_secs(60);

fn read_head(stream: &mut TcpStream, stop: &AtomicBool) -> Option<String> {
    stream.set_read_timeout(Some(Duration::from_millis(100))).ok()?;
    let started = Instant::now();
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < READ_DEADLINE && !stop.load(Ordering::SeqCst) {
        match stream.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => {
                head.extend_from_slice(&buf[..n]);
                if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
                    return Some(String::from_utf8_lossy(&head).into_owned());
                }
                if head.len() > MAX_HEAD {
                    return None;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return None,
        }
    }
    None
}

/// The request path without leading `/`, query or fragment, from the request line.
fn request_path(head: &str) -> Option<String> {
    let target = head.lines().next()?.split_whitespace().nth(1)?;
    let target = match target.find("://") {
        Some(i) => {
            let rest = &target[i + 3..];
            rest.find('/').map_or("/", |j| &rest[j..])
        }
        None => target,
    };
    let path = target.split(['?', '#']).next().unwrap_or("");
    Some(path.trim_start_matches('/').to_string())
}

/// Writes all of `data`, giving up when the peer is gone, the server stops or `deadline`
/// passes. Returns whether everything was written.
fn send(stream: &mut TcpStream, data: &[u8], stop: &AtomicBool, deadline: Instant) -> bool {
    let mut off = 0;
    while off < data.len() {
        if stop.load(Ordering::SeqCst) || Instant::now() > deadline {
            return false;
        }
        match stream.write(&data[off..]) {
            Ok(0) => return false,
            Ok(n) => off += n,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => return false,
        }
    }
    true
}

/// Sleeps up to `d`, waking early when the server stops.
fn pause(d: Duration, stop: &AtomicBool) {
    let until = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= until {
            return;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(10)));
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn header(status: u16, length: Option<u64>) -> Vec<u8> {
    let mut h = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    h.push_str("Content-Type: application/octet-stream\r\n");
    if let Some(len) = length {
        h.push_str(&format!("Content-Length: {len}\r\n"));
    }
    h.push_str("Connection: close\r\n\r\n");
    h.into_bytes()
}

fn lookup(shared: &Shared, path: &str) -> Option<Vec<u8>> {
    if let Some(dir) = &shared.root_dir {
        let decoded = percent_encoding::percent_decode_str(path).decode_utf8().ok()?;
        if decoded.split('/').any(|segment| segment == ".." || segment.is_empty()) {
            return None;
        }
        let file = dir.join(decoded.as_ref());
        return if file.is_file() { std::fs::read(file).ok() } else { None };
    }
    let repo = shared.repo.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(bytes) = repo.bytes(path) {
        return Some(bytes);
    }
    if path.starts_with("targets/") && path.contains('%') {
        let decoded = percent_encoding::percent_decode_str(path).decode_utf8().ok()?;
        return repo.bytes(&decoded);
    }
    None
}

fn handle_connection(mut stream: TcpStream, shared: &Shared) {
    let stop = &shared.stop;
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
    let Some(head) = read_head(&mut stream, stop) else {
        return;
    };
    let Some(path) = request_path(&head) else {
        let _ = send(
            &mut stream,
            &header(400, Some(0)),
            stop,
            Instant::now() + WRITE_DEADLINE,
        );
        return;
    };
    shared
        .requests
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(path.clone());
    let fault = shared
        .faults
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&path)
        .cloned();
    let found = lookup(shared, &path);
    let (status, body) = match found {
        Some(b) => (200, b),
        None => (404, b"not found\n".to_vec()),
    };
    let len = body.len() as u64;
    let deadline = Instant::now() + WRITE_DEADLINE;
    let s = &mut stream;
    match fault {
        None => {
            let _ = send(s, &header(status, Some(len)), stop, deadline) && send(s, &body, stop, deadline);
        }
        Some(Fault::Status(code)) => {
            let text = format!("status {code}\n").into_bytes();
            let _ = send(s, &header(code, Some(text.len() as u64)), stop, deadline) && send(s, &text, stop, deadline);
        }
        Some(Fault::Body(bytes)) => {
            let _ = send(s, &header(200, Some(bytes.len() as u64)), stop, deadline) && send(s, &bytes, stop, deadline);
        }
        Some(Fault::Stall(d)) => {
            if send(s, &header(status, Some(len)), stop, deadline) {
                pause(d, stop);
            }
        }
        Some(Fault::Endless) => {
            if send(s, &header(200, None), stop, deadline) {
                let chunk = vec![b'x'; 16 * 1024];
                let mut sent = 0u64;
                let endless_deadline = Instant::now() + Duration::from_secs(600);
                while sent < ENDLESS_LIMIT && send(s, &chunk, stop, endless_deadline) {
                    sent += chunk.len() as u64;
                }
            }
        }
        Some(Fault::SlowDrip(bps)) => {
            let bps = bps.max(1) as usize;
            let (step, every) = if bps >= 10 {
                (bps / 10, Duration::from_millis(100))
            } else {
                (1, Duration::from_millis(1000 / bps as u64))
            };
            let far = Instant::now() + Duration::from_secs(3600);
            if send(s, &header(status, Some(len)), stop, far) {
                for piece in body.chunks(step) {
                    if !send(s, piece, stop, far) {
                        break;
                    }
                    pause(every, stop);
                }
            }
        }
        Some(Fault::WrongContentLength) => {
            let _ = send(s, &header(status, Some(len + 100)), stop, deadline) && send(s, &body, stop, deadline);
        }
    }
    let _ = s.flush();
    let _ = s.shutdown(Shutdown::Write);
    // Let the client read to the end before the socket is dropped.
    let _ = s.set_read_timeout(Some(Duration::from_millis(50)));
    let mut sink = [0u8; 1024];
    for _ in 0..20 {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        match s.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}
