//! The never-mixed view, end to end: `trustroot mirror serve` serves a mirror while
//! `trustroot mirror sync` replaces its state again and again (new targets each time, and
//! a rotation of the timestamp and snapshot keys), and clients running `trustroot client
//! refresh` in a loop against the server never fail. A 60-second soak (five minutes in the
//! benchmark, `TRUSTROOT_SOAK_SECONDS`) does the same under
//! load: keep-alive HTTP clients walk timestamp, snapshot, targets and a target as fast as
//! they can while a sync publishes new metadata every two seconds (three times in four
//! updating the served state in place, the fourth, with a new root, switching to a new
//! state); no request fails, every walk sees one repository version, and the server's
//! memory does not grow.
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

/// How long the soak runs: 60 s in the test run; `scripts/bench.sh` runs it for five
/// minutes (`TRUSTROOT_SOAK_SECONDS=300`). Bounded, so a typo cannot hang a run.
fn soak_duration() -> Duration {
    let seconds = std::env::var("TRUSTROOT_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(60);
    Duration::from_secs(seconds.clamp(10, 3600))
}

/// How often the soak's sync switches the served state.
const SWITCH_EVERY: Duration = Duration::from_secs(2);
const LOAD_CLIENTS: usize = 4;

/// A keep-alive HTTP/1.1 connection to the server under test (plain std I/O: the test
/// reads exactly what a client reads, with nothing between).
struct Connection {
    addr: String,
    reader: Option<BufReader<std::net::TcpStream>>,
}

impl Connection {
    fn new(url: &str) -> Connection {
        let addr = url.trim_start_matches("http://").trim_end_matches('/').to_string();
        Connection { addr, reader: None }
    }

    /// GETs `path`: the status and body, or why the request failed. A connection the
    /// server closed between two requests (allowed by HTTP/1.1) is opened again, once.
    fn get(&mut self, path: &str) -> Result<(u16, Vec<u8>), String> {
        for attempt in 0..2 {
            match self.try_get(path) {
                Ok(answer) => return Ok(answer),
                Err((reused, e)) if reused && attempt == 0 => {
                    self.reader = None;
                    let _ = e;
                }
                Err((_, e)) => return Err(format!("GET {path}: {e}")),
            }
        }
        unreachable!()
    }

    /// The request on the open connection (or a new one). The flag says whether the
    /// connection had served a request before (only then is a retry allowed).
    fn try_get(&mut self, path: &str) -> Result<(u16, Vec<u8>), (bool, String)> {
        use std::io::{Read, Write};
        let reused = self.reader.is_some();
        if self.reader.is_none() {
            let stream = std::net::TcpStream::connect(&self.addr).map_err(|e| (false, e.to_string()))?;
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            self.reader = Some(BufReader::new(stream));
        }
        let reader = self.reader.as_mut().unwrap();
        let request = format!("GET /{path} HTTP/1.1\r\nHost: {}\r\n\r\n", self.addr);
        reader
            .get_mut()
            .write_all(request.as_bytes())
            .map_err(|e| (reused, e.to_string()))?;
        let mut status_line = String::new();
        let n = reader
            .read_line(&mut status_line)
            .map_err(|e| (reused, e.to_string()))?;
        if n == 0 {
            return Err((reused, "connection closed before the answer".into()));
        }
        let status: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or((false, format!("bad status line {status_line:?}")))?;
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).map_err(|e| (false, e.to_string()))?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value
                    .trim()
                    .parse()
                    .map_err(|_| (false, format!("bad length {value}")))?;
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).map_err(|e| (false, e.to_string()))?;
        Ok((status, body))
    }
}

fn signed(body: &[u8], what: &str) -> Result<serde_json::Value, String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .map(|v| v["signed"].clone())
        .map_err(|e| format!("{what} is not JSON: {e}"))
}

/// One walk a client makes: the timestamp, the snapshot it names, the targets role that
/// snapshot names and one target that role lists, each checked against the one before:
/// a mixed state (a snapshot of another state) shows as a wrong version or a 404.
fn walk(connection: &mut Connection, pick: usize) -> Result<(), String> {
    let ok = |(status, body): (u16, Vec<u8>), what: &str| {
        if status == 200 {
            Ok(body)
        } else {
            Err(format!("{what}: status {status}"))
        }
    };
    let timestamp = signed(&ok(connection.get("timestamp.json")?, "timestamp.json")?, "timestamp")?;
    let snapshot_version = timestamp["meta"]["snapshot.json"]["version"]
        .as_u64()
        .ok_or("no snapshot version")?;
    let name = format!("{snapshot_version}.snapshot.json");
    let snapshot = signed(&ok(connection.get(&name)?, &name)?, &name)?;
    if snapshot["version"].as_u64() != Some(snapshot_version) {
        return Err(format!("{name} holds version {}", snapshot["version"]));
    }
    let targets_version = snapshot["meta"]["targets.json"]["version"]
        .as_u64()
        .ok_or("no targets version")?;
    let name = format!("{targets_version}.targets.json");
    let targets = signed(&ok(connection.get(&name)?, &name)?, &name)?;
    if targets["version"].as_u64() != Some(targets_version) {
        return Err(format!("{name} holds version {}", targets["version"]));
    }
    let listed = targets["targets"].as_object().ok_or("no targets")?;
    let (path, info) = listed
        .iter()
        .nth(pick % listed.len().max(1))
        .ok_or("no target listed")?;
    let sha256 = info["hashes"]["sha256"].as_str().ok_or("no sha256")?;
    let file = format!("targets/{sha256}.{path}");
    let body = ok(connection.get(&file)?, &file)?;
    if Some(body.len() as u64) != info["length"].as_u64() {
        return Err(format!("{file}: {} bytes, listed as {}", body.len(), info["length"]));
    }
    Ok(())
}

/// The resident set of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn soak_serving_under_load_while_syncs_switch_states_never_fails_nor_grows() {
    let work = tempfile::tempdir().unwrap();
    let mut repo = RepoSim::new(chrono::Utc::now());
    for i in 0..50 {
        repo.add_target("targets", &format!("t{i}.txt"), format!("target {i}").as_bytes());
    }
    repo.publish();
    let root = work.path().join("1.root.json");
    std::fs::write(&root, repo.root_bytes(1).unwrap()).unwrap();
    let repo = Arc::new(Mutex::new(repo));
    let origin = SimServer::start(repo.clone());
    let dir = work.path().join("mirror");
    sync(&dir, &origin, &root);
    let serving = Serving::start(&dir);
    let pid = serving.child.id();

    let stop = Arc::new(AtomicBool::new(false));
    let walks = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..LOAD_CLIENTS)
        .map(|i| {
            let (url, stop, walks) = (serving.url.clone(), stop.clone(), walks.clone());
            std::thread::spawn(move || {
                let mut connection = Connection::new(&url);
                let mut failures = Vec::new();
                let mut pick = i;
                // Bounded: it stops with the soak, and after 20 failures.
                while !stop.load(Ordering::SeqCst) && failures.len() < 20 {
                    if let Err(e) = walk(&mut connection, pick) {
                        failures.push(e);
                    }
                    pick += 1;
                    walks.fetch_add(1, Ordering::SeqCst);
                }
                failures
            })
        })
        .collect();

    let soak = soak_duration();
    let started = Instant::now();
    let mut memory = Vec::new();
    let (mut rounds, mut switches) = (0, 0);
    while started.elapsed() < soak {
        {
            let mut repo = repo.lock().unwrap();
            repo.add_target("targets", &format!("round-{rounds}.txt"), rounds.to_string().as_bytes());
            // A new root (same keys) sends the sync the full way: a new state, switched to.
            // The other rounds change only targets: the served state is updated in place.
            if rounds % 4 == 3 {
                repo.bump("root");
            }
            repo.publish();
        }
        let before = std::fs::read_link(dir.join("repository")).unwrap();
        sync(&dir, &origin, &root);
        rounds += 1;
        if std::fs::read_link(dir.join("repository")).unwrap() != before {
            switches += 1;
        }
        let next = Instant::now() + SWITCH_EVERY;
        while Instant::now() < next {
            memory.push((started.elapsed(), rss_kib(pid)));
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    stop.store(true, Ordering::SeqCst);
    let failures: Vec<String> = clients.into_iter().flat_map(|c| c.join().unwrap()).collect();
    let walks = walks.load(Ordering::SeqCst);
    assert!(
        failures.is_empty(),
        "{} of {walks} walks failed, the first: {}",
        failures.len(),
        failures[0]
    );
    assert!(rounds >= 10, "only {rounds} syncs");
    assert!(
        switches >= 2 && switches < rounds,
        "{switches} state switches in {rounds} syncs"
    );
    assert!(walks >= 200, "only {walks} walks in {soak:?}: the load did not run");
    // Memory: what the server holds after the first half (warm: every buffer, cache and
    // connection made) bounds the second half, give or take 16 MiB of allocator slack. A
    // leak per request (tens of thousands of requests a half) shows well above that.
    let half = soak / 2;
    let first = memory.iter().filter(|(t, _)| *t < half).map(|(_, k)| *k).max().unwrap();
    let second = memory
        .iter()
        .filter(|(t, _)| *t >= half)
        .map(|(_, k)| *k)
        .max()
        .unwrap();
    eprintln!(
        "soak of {soak:?}: {walks} walks, {rounds} syncs ({switches} state switches, the others in place); RSS at most {first} KiB in the first half, {second} KiB in the second"
    );
    assert!(second <= first + 16 * 1024, "RSS grew from {first} KiB to {second} KiB");
}
