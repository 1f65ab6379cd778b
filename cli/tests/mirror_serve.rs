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
