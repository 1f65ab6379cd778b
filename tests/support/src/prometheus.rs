//! Prometheus for the metrics tests: `promtool` (checks an exposition, runs rule tests) and
//! a real Prometheus server on 127.0.0.1 (a free port, a temporary config and data
//! directory, waited for until ready, killed by its pid when dropped), both from the
//! Debian package `prometheus` that scripts/test.sh installs.
//!
//! A missing promtool or prometheus fails the test loudly: these tests never skip.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A command of the Debian package `prometheus`, found on `PATH`.
fn tool(name: &str) -> PathBuf {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .unwrap();
    assert!(
        found.status.success(),
        "{name} is missing: install the Debian package 'prometheus' (scripts/test.sh does, with --no-install-recommends)"
    );
    PathBuf::from(String::from_utf8(found.stdout).unwrap().trim())
}

/// `promtool check metrics` on `exposition`; panics with promtool's words when it finds
/// any problem (lint warnings included: promtool exits non-zero on them).
pub fn check_metrics(exposition: &str) {
    let mut child = Command::new(tool("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(exposition.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\non:\n{exposition}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `promtool test rules FILE`: its output, asserting nothing.
pub fn test_rules(file: &Path) -> Output {
    Command::new(tool("promtool"))
        .args(["test", "rules"])
        .arg(file)
        .output()
        .unwrap()
}

/// A running Prometheus; killed (by pid) when dropped, its directory removed.
pub struct Prometheus {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus on a free loopback port, scraping `target` (`HOST:PORT`) at
    /// `/metrics` every second, and waits until it is ready.
    pub fn start(target: &str) -> Prometheus {
        let prometheus = tool("prometheus");
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
                 scrape_configs:\n  - job_name: trustroot-mirror\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        // A port the kernel hands out, released just before Prometheus binds it.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(&prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", prometheus.display()));
        let mut server = Prometheus { child, port, _dir: dir };
        server.wait_ready();
        server
    }

    /// `GET PATH` on Prometheus: the status code and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        http_get(self.port, path).unwrap_or_else(|e| panic!("GET {path} from Prometheus: {e}"))
    }

    /// `/api/v1/query?query=EXPR` (EXPR given already percent-encoded where it needs to
    /// be): the JSON answer.
    pub fn query(&self, expr: &str) -> serde_json::Value {
        let (code, body) = self.get(&format!("/api/v1/query?query={expr}"));
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Prometheus's own log, for a failure message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("prometheus exited ({status}) before it was ready:\n{}", self.log());
            }
            if matches!(http_get(self.port, "/-/ready"), Ok((200, _))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "prometheus was not ready on port {} within 60 s:\n{}",
            self.port,
            self.log()
        );
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        // Our own child, by its pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.0 GET on 127.0.0.1:`port` (no chunked answers): status and body.
pub fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no end of headers in {response:?}")))?;
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {head:?}")))?;
    Ok((code, body.to_string()))
}
