//! The never-mixed view, end to end: `trustroot mirror serve` serves a mirror while
//! `trustroot mirror sync` replaces its state again and again (new targets each time, and
//! a rotation of the timestamp and snapshot keys), and clients running `trustroot client
//! refresh` in a loop against the server never fail.
//!
//! The rotation is done the way an operator rotates online keys: the new key is added
//! (root N+1 lists both, metadata signed by both), then the old one is removed. Replacing
//! a key in one step cannot be served safely by any HTTP server: a client that looks for
//! root N+1 just before the switch and fetches `timestamp.json` just after holds a root
//! without the new key. The server makes each response one file of one complete state;
//! across requests, TUF's versioned names and the sync's grace period do the rest.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{text, trustroot};
use trustroot_test_support::{RepoSim, SimServer};

const CLIENTS: usize = 3;
const SYNCS: usize = 8;

/// A running `trustroot mirror serve`, killed if the test ends without stopping it.
struct Serving {
    child: Child,
    url: String,
}

impl Serving {
    fn start(dir: &Path) -> Serving {
        let mut child = Command::new(env!("CARGO_BIN_EXE_trustroot"))
            .args(["mirror", "serve"])
            .arg(dir)
            .args(["--listen", "127.0.0.1:0", "--access-log", "/dev/null"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().rsplit_once(" on ").unwrap().1.to_string();
        Serving { child, url }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sync(dir: &Path, origin: &SimServer, root: &Path) {
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
    assert!(out.status.success(), "sync: {}", text(&out));
}

/// One client: its own metadata directory, initialised once from root v1.
fn client_loop(metadata: PathBuf, url: String, stop: Arc<AtomicBool>, done: Arc<AtomicU64>) -> Vec<String> {
    let mut failures = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let out = trustroot(&[
            "client",
            "--metadata-dir",
            metadata.to_str().unwrap(),
            "--metadata-url",
            &url,
            "refresh",
        ]);
        if !out.status.success() {
            failures.push(text(&out));
        }
        done.fetch_add(1, Ordering::SeqCst);
    }
    failures
}

#[test]
fn clients_refreshing_in_a_loop_never_fail_while_syncs_replace_the_served_state() {
    let started = Instant::now();
    let work = tempfile::tempdir().unwrap();
    let mut repo = RepoSim::new(chrono::Utc::now());
    repo.add_target("targets", "a.txt", b"first target");
    repo.publish();
    let root = work.path().join("1.root.json");
    std::fs::write(&root, repo.root_bytes(1).unwrap()).unwrap();
    let repo = Arc::new(Mutex::new(repo));
    let origin = SimServer::start(repo.clone());
    let dir = work.path().join("mirror");
    sync(&dir, &origin, &root);
    let serving = Serving::start(&dir);

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let metadata = work.path().join(format!("client-{i}"));
            std::fs::create_dir(&metadata).unwrap();
            let out = trustroot(&[
                "client",
                "--metadata-dir",
                metadata.to_str().unwrap(),
                "init",
                root.to_str().unwrap(),
            ]);
            assert!(out.status.success(), "{}", text(&out));
            let done = Arc::new(AtomicU64::new(0));
            let (url, stop, counter) = (serving.url.clone(), stop.clone(), done.clone());
            (
                done,
                std::thread::spawn(move || client_loop(metadata, url, stop, counter)),
            )
        })
        .collect();

    let mut old_keys = Vec::new();
    for round in 0..SYNCS {
        {
            let mut repo = repo.lock().unwrap();
            repo.add_target("targets", &format!("round-{round}.txt"), round.to_string().as_bytes());
            match round {
                // Rotate the online keys: add the new ones...
                2 | 5 => {
                    old_keys = ["timestamp", "snapshot"]
                        .map(|role| (role, repo.keys(role)[0].key_id()))
                        .to_vec();
                    repo.add_new_key("timestamp");
                    repo.add_new_key("snapshot");
                }
                // ...then, one sync later, drop the old ones.
                3 | 6 => {
                    for (role, key_id) in &old_keys {
                        assert!(repo.remove_key(role, key_id));
                    }
                }
                _ => {}
            }
            repo.publish();
        }
        sync(&dir, &origin, &root);
        // Every client completes a refresh that started after this sync before the next
        // one: each of them updates across every state switch.
        let wanted: Vec<u64> = clients
            .iter()
            .map(|(done, _)| done.load(Ordering::SeqCst) + 2)
            .collect();
        let deadline = Instant::now() + Duration::from_secs(20);
        while clients
            .iter()
            .zip(&wanted)
            .any(|((done, _), want)| done.load(Ordering::SeqCst) < *want)
        {
            assert!(Instant::now() < deadline, "clients stalled");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    assert_eq!(repo.lock().unwrap().version("root"), 5, "two rotations, two steps each");
    stop.store(true, Ordering::SeqCst);
    let mut refreshes = 0;
    for (done, client) in clients {
        let failures = client.join().unwrap();
        assert!(
            failures.is_empty(),
            "{} client runs failed, the first: {}",
            failures.len(),
            failures[0]
        );
        refreshes += done.load(Ordering::SeqCst);
    }
    assert!(refreshes >= (CLIENTS * SYNCS * 2) as u64);
    eprintln!("{refreshes} refreshes, {SYNCS} syncs in {:?}", started.elapsed());

    // The clients hold the newest metadata, and the server went on serving throughout.
    let after = trustroot(&[
        "client",
        "--metadata-dir",
        work.path().join("client-0").to_str().unwrap(),
        "--metadata-url",
        &serving.url,
        "refresh",
    ]);
    assert!(after.status.success(), "{}", text(&after));
    let trusted = std::fs::read(work.path().join("client-0/root.json")).unwrap();
    assert_eq!(trusted, repo.lock().unwrap().root_bytes(5).unwrap());
}
