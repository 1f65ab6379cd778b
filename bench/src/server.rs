//! A plain static file server on 127.0.0.1 for the benchmark: HTTP/1.1 with keep-alive,
//! every file read whole from the page cache, and a request counter. Every tool fetches from
//! the same server, so its cost is the same for all of them.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::Result;

/// A running server; stopped (and its thread joined) when dropped.
pub struct Server {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Serves the files under `root` on `127.0.0.1` and a port the system chooses.
    pub fn start(root: &Path) -> Result<Server> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let listener = runtime.block_on(TcpListener::bind(("127.0.0.1", 0)))?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(AtomicU64::new(0));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let root = Arc::new(root.to_path_buf());
        let counter = requests.clone();
        let thread = std::thread::Builder::new().name("bench-server".into()).spawn(move || {
            runtime.block_on(async move {
                tokio::select! {
                    () = accept_loop(listener, root, counter) => {}
                    _ = stopped => {}
                }
            });
            runtime.shutdown_background();
        })?;
        Ok(Server {
            addr,
            requests,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Requests answered since the last call (and resets the count).
    pub fn take_requests(&self) -> u64 {
        self.requests.swap(0, Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, root: Arc<PathBuf>, counter: Arc<AtomicU64>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let root = root.clone();
        let counter = counter.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                counter.fetch_add(1, Ordering::SeqCst);
                answer(root.clone(), request)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The file `path` names under `root`, or `None` for anything but plain relative segments.
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let relative = path.strip_prefix('/')?;
    if relative.is_empty()
        || relative
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == ".." || s.contains(['%', '\\', '\0']))
    {
        return None;
    }
    Some(root.join(relative))
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}

async fn answer(
    root: Arc<PathBuf>,
    request: Request<Incoming>,
) -> std::result::Result<Response<Full<Bytes>>, Infallible> {
    if request.method() != Method::GET {
        return Ok(status(StatusCode::METHOD_NOT_ALLOWED));
    }
    let Some(path) = resolve(&root, request.uri().path()) else {
        return Ok(status(StatusCode::NOT_FOUND));
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok(Response::new(Full::new(Bytes::from(bytes)))),
        Err(_) => Ok(status(StatusCode::NOT_FOUND)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_plain_relative_paths_resolve() {
        let root = Path::new("/srv");
        assert_eq!(resolve(root, "/a/b.json"), Some(PathBuf::from("/srv/a/b.json")));
        for bad in ["/", "/../x", "/a//b", "/a/./b", "/a%2fb", "x"] {
            assert_eq!(resolve(root, bad), None, "{bad}");
        }
    }
}
