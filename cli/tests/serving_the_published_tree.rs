//! What the operator guide says about serving a publish destination, run: a static server
//! started on `DEST/repository` by its path (`python3 -m http.server --directory ...`)
//! serves each new publish; one started inside it (after `cd`) keeps the state it started
//! in, and answers 404 for what the next publish adds.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use ceremony_common::*;

/// `python3 -m http.server` on 127.0.0.1 and a free port, stopped when dropped.
struct StaticServer {
    child: Child,
    port: u16,
}

impl StaticServer {
    /// Serves `dir` from `cwd` (`--directory` is resolved for each request).
    fn start(cwd: &Path, directory: Option<&Path>) -> StaticServer {
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

    /// The HTTP status of GET `path`.
    fn status(&self, path: &str) -> u16 {
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

#[test]
fn a_server_given_the_path_sees_each_publish_and_one_started_inside_does_not() {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    let served = setup.repo.join("public/repository");
    let by_path = StaticServer::start(&setup.repo, Some(Path::new("public/repository")));
    let inside = StaticServer::start(&served, None);
    assert_eq!(by_path.status("timestamp.json"), 200);
    assert_eq!(inside.status("timestamp.json"), 200);

    // The next publish: targets v2, in a new state the symlink now points at.
    std::fs::write(setup.repo.join("targets/news.txt"), b"the next publish\n").unwrap();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    assert_eq!(by_path.status("2.targets.json"), 200);
    assert_eq!(inside.status("2.targets.json"), 404);
}
