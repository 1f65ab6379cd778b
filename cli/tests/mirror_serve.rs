//! `trustroot mirror serve` as a process: it prints the address it bound, `trustroot client`
//! updates and downloads through it, every request is in the access log, and SIGTERM or
//! SIGINT stops it with exit status 0.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Serving, text, trustroot, trustroot_client};
use trustroot_test_support::{RepoSim, SimServer};

/// A simulated repository with two targets, mirrored once with `trustroot mirror sync`.
fn mirrored(work: &Path) -> (SimServer, std::path::PathBuf) {
    let mut repo = RepoSim::new(chrono::Utc::now());
    repo.add_target("targets", "a.txt", b"first target");
    repo.add_target("targets", "dir/b.txt", b"second target");
    repo.publish();
    let root = work.join("1.root.json");
    std::fs::write(&root, repo.root_bytes(1).unwrap()).unwrap();
    let origin = SimServer::start(Arc::new(Mutex::new(repo)));
    let dir = work.join("mirror");
    let out = trustroot(&[
        "mirror",
        "sync",
        dir.to_str().unwrap(),
        "--from",
        &origin.metadata_url(),
        "--targets-from",
        &origin.targets_url(),
        "--root",
        root.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    (origin, dir)
}

#[test]
fn the_client_updates_through_the_server_which_logs_and_stops_on_sigterm() {
    let work = tempfile::tempdir().unwrap();
    let (_origin, dir) = mirrored(work.path());
    let log = work.path().join("access.log");
    let mut serving = Serving::start(&dir, &log);
    let targets = format!("{}targets/", serving.url);

    let root = work.path().join("1.root.json");
    let out = trustroot_client(None, &root, &serving.url, &targets, &[]);
    assert!(out.status.success(), "refresh: {}", text(&out));
    let out = trustroot_client(None, &root, &serving.url, &targets, &["a.txt", "dir/b.txt"]);
    assert!(out.status.success(), "download: {}", text(&out));

    let started = Instant::now();
    let status = serving.stop("TERM");
    assert!(status.success(), "exit status after SIGTERM: {status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );

    let log = std::fs::read_to_string(&log).unwrap();
    for expected in [
        " GET /2.root.json 404 ",
        " GET /timestamp.json 200 ",
        ".targets.json 200 ",
    ] {
        assert_eq!(log.matches(expected).count(), 2, "{expected} twice in:\n{log}");
    }
    let targets_fetched = log
        .lines()
        .filter(|l| l.contains(" GET /targets/") && l.contains(" 200 "))
        .count();
    assert_eq!(targets_fetched, 2, "{log}");
    assert!(
        log.lines()
            .all(|l| l.starts_with("20") && l.contains(" 127.0.0.1:") && l.ends_with("ms")),
        "{log}"
    );
}

#[test]
fn sigint_stops_it_too() {
    let work = tempfile::tempdir().unwrap();
    let (_origin, dir) = mirrored(work.path());
    let mut serving = Serving::start(&dir, &work.path().join("access.log"));
    assert!(serving.stop("INT").success());
}

#[test]
fn refuses_a_directory_that_is_not_a_synced_mirror() {
    let work = tempfile::tempdir().unwrap();
    let out = trustroot(&[
        "mirror",
        "serve",
        work.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("run `trustroot mirror sync"), "{}", text(&out));

    std::fs::create_dir(work.path().join("repository")).unwrap();
    let out = trustroot(&[
        "mirror",
        "serve",
        work.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("is not the symlink a mirror sync makes"),
        "{}",
        text(&out)
    );
}

/// `GET path` over HTTP/1.0: the status code, the headers (names lowercased) and the body.
fn get_with_headers(url: &str, path: &str) -> (u16, Vec<(String, String)>, String) {
    request(url, "GET", path)
}

/// `METHOD path` over HTTP/1.0: the status code, the headers (names lowercased) and the body.
fn request(url: &str, method: &str, path: &str) -> (u16, Vec<(String, String)>, String) {
    use std::io::{Read as _, Write as _};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let code = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .map(|l| {
            let (name, value) = l.split_once(':').unwrap();
            (name.trim().to_ascii_lowercase(), value.trim().to_string())
        })
        .collect();
    (code, headers, body.to_string())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
}

#[test]
fn status_page_answers_html_only_with_the_flag_and_a_role_named_to_inject_script_stays_text() {
    // A delegated role whose name opens a script, closes an attribute and adds an image
    // with an onerror handler; and a target called `_status`, which must stay a target.
    const ATTACK: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>'";
    let work = tempfile::tempdir().unwrap();
    let mut repo = RepoSim::new(chrono::Utc::now());
    repo.add_delegation(
        "targets",
        trustroot_test_support::DelegatedRoleSpec::new(ATTACK, &["hostile/*"]),
    );
    repo.add_target(ATTACK, "hostile/a.txt", b"a");
    repo.add_target("targets", "_status", b"a target called _status");
    repo.publish();
    let root = work.path().join("1.root.json");
    std::fs::write(&root, repo.root_bytes(1).unwrap()).unwrap();
    let origin = SimServer::start(Arc::new(Mutex::new(repo)));
    let dir = work.path().join("mirror");
    let out = trustroot(&[
        "mirror",
        "sync",
        dir.to_str().unwrap(),
        "--from",
        &origin.metadata_url(),
        "--targets-from",
        &origin.targets_url(),
        "--root",
        root.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let log = work.path().join("access.log");

    {
        let serving = Serving::start(&dir, &log);
        assert_eq!(get_with_headers(&serving.url, "/_status").0, 404);
    }
    let serving = Serving::start_with(&dir, &log, &["--status-page"]);
    let (code, headers, page) = get_with_headers(&serving.url, "/_status");
    assert_eq!(code, 200, "{page}");
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&headers, "cache-control"), "no-store");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(
        header(&headers, "content-security-policy"),
        "default-src 'none'; style-src 'unsafe-inline'"
    );
    assert_eq!(header(&headers, "content-length"), page.len().to_string());
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    for markup in ["<script", "<img", "onerror=alert(2)>"] {
        assert!(!page.contains(markup), "{markup} reached the page as markup:\n{page}");
    }
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&#39;";
    // The role's row: its data-role attribute and its header cell.
    assert_eq!(page.matches(escaped).count(), 2, "{page}");
    for role in ["root", "timestamp", "snapshot", "targets"] {
        assert!(page.contains(&format!("data-role=\"{role}\"")), "{role}: {page}");
    }
    assert!(page.contains(&origin.metadata_url()), "{page}");

    // HEAD: the same headers, no body.
    let (code, headers, body) = request(&serving.url, "HEAD", "/_status");
    assert_eq!((code, body.as_str()), (200, ""));
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");

    // The target called _status is served under /targets/ (hash-prefixed: consistent
    // snapshots), downloaded and verified by a client through the same server.
    let targets = format!("{}targets/", serving.url);
    let out = trustroot_client(None, &root, &serving.url, &targets, &["_status"]);
    assert!(out.status.success(), "download: {}", text(&out));

    // `mirror status --html` writes the same page to a file.
    let file = work.path().join("mirror-status.html");
    let out = trustroot(&[
        "mirror",
        "status",
        dir.to_str().unwrap(),
        "--html",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Wrote the status page"), "{}", text(&out));
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written.matches(escaped).count(), 2, "{written}");
    assert!(!written.contains("<script"), "{written}");
}
