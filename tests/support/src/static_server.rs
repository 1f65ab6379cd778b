//! A static web server for tests: `python3 -m http.server` (the pinned venv's Python, as the
//! operator guide starts it) on 127.0.0.1, answering 404 for what is not there, as a web
//! root does.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `python3 -m http.server` on 127.0.0.1 and a free port, stopped when dropped.
pub struct StaticServer {
    child: Child,
    pub port: u16,
}

impl StaticServer {
    /// Serves `dir` from `cwd` (`--directory` is resolved for each request).
    pub fn start(cwd: &Path, directory: Option<&Path>) -> StaticServer {
        let python = std::env::var("TRUSTROOT_TEST_PYTHON")
            .unwrap_or_else(|_| panic!("TRUSTROOT_TEST_PYTHON is not set: run the tests through scripts/test.sh"));
        let mut cmd = Command::new(python);
        cmd.args(["-u", "-m", "http.server", "--bind", "127.0.0.1"]);
        if let Some(dir) = directory {
            cmd.arg("--directory").arg(dir);
        }
        let mut child = cmd
            .arg("0")
            .current_dir(cwd)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split(" port ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        StaticServer { child, port }
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The HTTP status of GET `path`.
    pub fn status(&self, path: &str) -> u16 {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(stream, "GET /{path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP status in {response:?}"))
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
