//! A sync crashed at every write it makes, and killed at random times, never leaves a
//! served view that fails to verify (checked with trustroot's client and python-tuf's
//! ngclient), and the next sync completes without fetching again what it already had.
//! The new state rotates the online (timestamp and snapshot) keys; a second scenario
//! changes only targets, so the sync updates the served state in place.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use common::{file_url, ngclient, text, trustroot_client};
use trustroot_test_support::{KeyType, RepoSim, SimServer};

const OLD_TARGETS: [&str; 2] = ["a.txt", "dir/b.txt"];
const NEW_TARGETS: [&str; 4] = ["c.txt", "dir/d.txt", "e/f/g.txt", "h.txt"];

struct Scenario {
    repo: Arc<Mutex<RepoSim>>,
    server: SimServer,
    root: tempfile::NamedTempFile,
    base: tempfile::TempDir,
}

fn sync_command(dir: &Path, server: &SimServer, root: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trustroot"));
    command.args(["mirror", "sync"]).arg(dir);
    command.args([
        "--from",
        &server.metadata_url(),
        "--targets-from",
        &server.targets_url(),
    ]);
    command.arg("--root").arg(root).args(["--jobs", "1", "--json"]);
    command
}

/// A repository mirrored once (state 1), then changed: new targets, and new timestamp and
/// snapshot keys in a new root.
fn scenario() -> Scenario {
    scenario_changing(true)
}

/// [`scenario`]; without `rotate`, only targets change (one replaced, new ones added):
/// what a sync updates in place.
fn scenario_changing(rotate: bool) -> Scenario {
    let mut repo = RepoSim::new(chrono::Utc::now());
    for (i, name) in OLD_TARGETS.iter().enumerate() {
        repo.add_target("targets", name, &vec![b'a' + i as u8; 40_000]);
    }
    repo.publish();
    let root = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(root.path(), repo.root_bytes(1).unwrap()).unwrap();
    let repo = Arc::new(Mutex::new(repo));
    let server = SimServer::start(repo.clone());
    let base = tempfile::tempdir().unwrap();
    let out = sync_command(&base.path().join("mirror"), &server, root.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    {
        let mut repo = repo.lock().unwrap();
        if rotate {
            repo.rotate_keys("timestamp", 1, KeyType::EcdsaP256);
            repo.rotate_keys("snapshot", 1, KeyType::EcdsaP256);
        } else {
            repo.add_target("targets", OLD_TARGETS[0], &vec![b'z'; 30_000]);
        }
        for (i, name) in NEW_TARGETS.iter().enumerate() {
            repo.add_target("targets", name, &vec![b'k' + i as u8; 60_000]);
        }
        repo.publish();
        assert_eq!(repo.version("root"), if rotate { 2 } else { 1 });
    }
    Scenario {
        repo,
        server,
        root,
        base,
    }
}

/// A copy of the mirror as it was after the first sync (hard links, symlinks kept).
fn copy_of(base: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(base.join("mirror"))
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Clients of the served view succeed: it is the old state or the new one, never a mix.
fn served_view_verifies(dir: &Path, root: &Path, context: &str) {
    let served = dir.join("repository");
    let out = trustroot_client(
        None,
        root,
        &file_url(&served),
        &file_url(&served.join("targets")),
        &OLD_TARGETS,
    );
    assert!(
        out.status.success(),
        "{context}: trustroot client failed: {}",
        text(&out)
    );
    let server = SimServer::serve_dir(&served);
    let targets_url = format!("{}targets/", server.base_url());
    let out = ngclient(None, root, &server.base_url(), &targets_url, &OLD_TARGETS);
    assert!(
        out.status.success(),
        "{context}: python-tuf ngclient failed: {}",
        text(&out)
    );
}

/// Targets the origin served, by path.
fn target_requests(server: &SimServer) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("targets/"))
        .collect()
}

/// Target files a crashed sync had completed (they sit in staging, or in a state it
/// built but did not serve yet).
fn completed_downloads(dir: &Path) -> BTreeSet<String> {
    let mut done = BTreeSet::new();
    let hidden = dir.join(".trustroot-mirror");
    let mut roots = vec![hidden.join("staging/tree")];
    if let Ok(states) = std::fs::read_dir(hidden.join("states")) {
        roots.extend(states.flatten().map(|e| e.path().join("tree")));
    }
    for root in roots {
        let mut pending = vec![root.join("targets")];
        while let Some(path) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&path) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_type().unwrap().is_dir() {
                    pending.push(entry.path());
                } else if !entry.file_name().to_string_lossy().starts_with('.') {
                    done.insert(entry.path().strip_prefix(&root).unwrap().to_string_lossy().into_owned());
                }
            }
        }
    }
    done
}

fn finish(scenario: &Scenario, dir: &Path, context: &str) -> Output {
    let out = sync_command(dir, &scenario.server, scenario.root.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{context}: the sync after the crash failed: {}",
        text(&out)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let root = scenario.repo.lock().unwrap().version("root");
    assert_eq!(summary["after"]["root"], root, "{context}");
    for name in NEW_TARGETS {
        let path = scenario.repo.lock().unwrap().target_paths("targets", name)[0].clone();
        assert!(
            dir.join("repository").join(&path).is_file(),
            "{context}: {path} missing after the resumed sync"
        );
    }
    out
}

#[test]
fn a_sync_crashed_after_any_write_leaves_a_verifiable_mirror_and_resumes() {
    crash_after_each_write(&scenario(), false);
}

#[test]
fn a_crash_at_each_step_of_an_update_in_place_recovers() {
    crash_after_each_write(&scenario_changing(false), true);
}

/// Crashes a sync of `scenario` after each write it makes; `in_place` is whether the
/// uninterrupted sync updates the served state in place.
fn crash_after_each_write(scenario: &Scenario, in_place: bool) {
    let work = tempfile::tempdir().unwrap();
    // A full run on a copy tells how many writes a sync makes (the binary built for these
    // tests has trustroot-store's crash points: see cli/Cargo.toml).
    let probe = work.path().join("probe");
    copy_of(scenario.base.path(), &probe);
    let out = sync_command(&probe, &scenario.server, scenario.root.path())
        .env("TRUSTROOT_TEST_COUNT_WRITES", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["in_place"], in_place, "{summary}");
    let writes = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|line| line.starts_with("TRUSTROOT_TEST_COUNT_WRITES: write "))
        .count() as u64;
    assert!(writes >= 10, "{writes} writes: {summary}");

    for point in 1..=writes {
        let context = format!("crash after write {point} of {writes}");
        let dir = work.path().join(format!("crash-{point}"));
        copy_of(scenario.base.path(), &dir);
        scenario.server.clear_requests();
        let out = sync_command(&dir, &scenario.server, scenario.root.path())
            .env("TRUSTROOT_TEST_CRASH_AFTER_WRITE", point.to_string())
            .output()
            .unwrap();
        assert!(
            !out.status.success(),
            "{context}: the sync did not crash: {}",
            text(&out)
        );
        served_view_verifies(&dir, scenario.root.path(), &context);
        let completed = completed_downloads(&dir);
        scenario.server.clear_requests();
        finish(scenario, &dir, &context);
        for request in target_requests(&scenario.server) {
            assert!(!completed.contains(&request), "{context}: {request} was fetched again");
        }
        served_view_verifies(&dir, scenario.root.path(), &context);
        let verify = Command::new(env!("CARGO_BIN_EXE_trustroot"))
            .args(["mirror", "verify"])
            .arg(&dir)
            .arg("--root")
            .arg(scenario.root.path())
            .output()
            .unwrap();
        assert!(verify.status.success(), "{context}: mirror verify: {}", text(&verify));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_sync_killed_at_random_times_leaves_a_verifiable_mirror_and_resumes() {
    let scenario = scenario();
    let work = tempfile::tempdir().unwrap();
    // A fixed pseudo-random sequence: the run is repeatable.
    let mut seed: u64 = 0x5eed_1234;
    for round in 0..6 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = std::time::Duration::from_millis((seed >> 33) % 120);
        let context = format!("kill after {delay:?} (round {round})");
        let dir = work.path().join(format!("kill-{round}"));
        copy_of(scenario.base.path(), &dir);
        let mut child = sync_command(&dir, &scenario.server, scenario.root.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        served_view_verifies(&dir, scenario.root.path(), &context);
        finish(&scenario, &dir, &context);
        served_view_verifies(&dir, scenario.root.path(), &context);
    }
}
