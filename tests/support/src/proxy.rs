//! A real TCP proxy on 127.0.0.1 in front of an HTTP server (moto), which drops the
//! client's connection on the k-th PUT it sees: before forwarding it (the store never got
//! the upload) or after the server answered (the upload is applied, the answer lost).
//! The client's own HTTP stack and error path run, as when a network cuts a connection.
//!
//! Every connection carries one request: the proxy asks the server to close after its
//! answer and tells the client the same (`Connection: close`), so that a pooled connection
//! never carries a request the test did not mean to cut.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// When the k-th PUT's connection is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// After reading the request, before the server sees it: nothing is applied.
    BeforeForwarding,
    /// After the server answered, before the client gets the answer: the upload is applied.
    AfterAnswer,
}

#[derive(Debug, Default)]
struct Armed {
    /// The PUT (1-based, counted since arming) whose connection is dropped.
    target: Option<(usize, Cut)>,
    puts: usize,
    /// The request line of the PUT that was cut, once it was.
    cut: Option<String>,
}

/// A running proxy; its accept loop stops when dropped.
pub struct CutProxy {
    port: u16,
    armed: Arc<Mutex<Armed>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl CutProxy {
    /// Starts a proxy on a free loopback port forwarding to `upstream` (`127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let armed = Arc::new(Mutex::new(Armed::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let upstream = upstream.to_string();
        let accept = {
            let (armed, stop) = (armed.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let (armed, upstream) = (armed.clone(), upstream.clone());
                            std::thread::spawn(move || serve(client, &upstream, &armed));
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => return,
                    }
                }
            })
        };
        CutProxy {
            port,
            armed,
            stop,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`: the endpoint a client is pointed at.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Counts PUTs from now on and drops the connection of the `k`-th (1-based).
    pub fn cut_put(&self, k: usize, when: Cut) {
        let mut armed = self.armed.lock().unwrap();
        *armed = Armed {
            target: Some((k, when)),
            ..Armed::default()
        };
    }

    /// Counts PUTs from now on, cutting none.
    pub fn count_puts(&self) {
        *self.armed.lock().unwrap() = Armed::default();
    }

    /// PUTs seen since the last [`CutProxy::cut_put`] or [`CutProxy::count_puts`].
    pub fn puts(&self) -> usize {
        self.armed.lock().unwrap().puts
    }

    /// The request line of the PUT that was cut, if one was.
    pub fn cut(&self) -> Option<String> {
        self.armed.lock().unwrap().cut.clone()
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// One request on `client`: read, forward (or not), answer (or not), close.
fn serve(mut client: TcpStream, upstream: &str, armed: &Mutex<Armed>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let Some((head, body)) = read_request(&mut client) else {
        return;
    };
    let request_line = head.lines().next().unwrap_or_default().to_string();
    let cut = if request_line.starts_with("PUT ") {
        let mut armed = armed.lock().unwrap();
        armed.puts += 1;
        match armed.target {
            Some((k, when)) if k == armed.puts => {
                armed.cut = Some(request_line.clone());
                Some(when)
            }
            _ => None,
        }
    } else {
        None
    };
    if cut == Some(Cut::BeforeForwarding) {
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let Ok(mut server) = TcpStream::connect(upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = server.set_read_timeout(Some(Duration::from_secs(60)));
    let head = with_connection_close(&head);
    if server.write_all(head.as_bytes()).is_err() || server.write_all(&body).is_err() {
        return;
    }
    // The server closes after its answer (Connection: close), so the answer is all it sends.
    let mut answer = Vec::new();
    if server.read_to_end(&mut answer).is_err() {
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    if cut == Some(Cut::AfterAnswer) {
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let split = find(&answer, b"\r\n\r\n").map_or(answer.len(), |i| i + 4);
    let (answer_head, answer_body) = answer.split_at(split);
    let answer_head = with_connection_close(&String::from_utf8_lossy(answer_head));
    let _ = client.write_all(answer_head.as_bytes());
    let _ = client.write_all(answer_body);
    let _ = client.shutdown(Shutdown::Both);
}

/// The request's head (up to and with the blank line) and its body (by Content-Length).
fn read_request(client: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let end = loop {
        if let Some(i) = find(&buffer, b"\r\n\r\n") {
            break i + 4;
        }
        let n = client.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buffer[..end].to_vec()).ok()?;
    let header = |name: &str| {
        head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_string())
        })
    };
    assert!(
        header("transfer-encoding").is_none(),
        "the cutting proxy reads bodies by Content-Length only: {head}"
    );
    let length: usize = header("content-length").map_or(0, |v| v.parse().unwrap());
    let mut body = buffer[end..].to_vec();
    while body.len() < length {
        let n = client.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((head, body))
}

/// `head` with its Connection and Keep-Alive headers replaced by `Connection: close`.
fn with_connection_close(head: &str) -> String {
    let mut out = String::new();
    for line in head.split("\r\n").filter(|line| !line.is_empty()) {
        let name = line.split_once(':').map(|(k, _)| k.trim().to_ascii_lowercase());
        if matches!(name.as_deref(), Some("connection" | "keep-alive")) {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
