//! Syncs that update the served state in place (consistent-snapshot repositories): each one
//! ends where the full sync ends (the same tree, byte for byte, and the same manifest), reads
//! and fetches only what changed, and falls back to the full sync wherever it could not be
//! sure of that.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use trustroot_core::Limits;
use trustroot_mirror::FetchConfig;
use trustroot_mirror::manifest::Manifest;
use trustroot_mirror::sync::{SyncOptions, SyncSummary, sync};
use trustroot_test_support::RepoSim;
use url::Url;

fn options(dir: &Path, origin: &Path, root: Vec<u8>, now: DateTime<Utc>) -> SyncOptions {
    SyncOptions {
        dir: dir.to_path_buf(),
        from: Some(Url::from_directory_path(origin).unwrap()),
        targets_from: None,
        root: Some(root),
        jobs: 2,
        keep: chrono::Duration::days(7),
        verify_all: false,
        now,
        limits: Limits::default(),
        fetch: FetchConfig {
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(2),
            base_timeout: Duration::from_secs(3),
            min_bytes_per_second: 64 * 1024,
        },
        progress: false,
        record_origin: None,
        record_failure: true,
        sigstore: None,
        adopt_local_targets: false,
    }
}

/// Two mirrors of one repository: `quick` synced as `mirror sync` does, `full` with
/// `--verify-all` (which never updates in place): the oracle.
struct Pair {
    work: tempfile::TempDir,
    sim: RepoSim,
    now: DateTime<Utc>,
}

impl Pair {
    fn new(sim: RepoSim) -> Pair {
        let now = sim.base() + chrono::Duration::hours(1);
        Pair {
            work: tempfile::tempdir().unwrap(),
            sim,
            now,
        }
    }

    fn origin(&self) -> PathBuf {
        self.work.path().join("origin")
    }

    fn mirror(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    fn options(&self, name: &str) -> SyncOptions {
        options(
            &self.mirror(name),
            &self.origin(),
            self.sim.root_bytes(1).unwrap(),
            self.now,
        )
    }

    /// Publishes the repository as it is now and syncs both mirrors; returns `quick`'s report.
    async fn sync_both(&mut self) -> SyncSummary {
        self.sim.publish();
        self.sim.write_published(&self.origin()).unwrap();
        let quick = sync(self.options("quick")).await.unwrap();
        let mut full = self.options("full");
        full.verify_all = true;
        let full = sync(full).await.unwrap();
        assert!(!full.in_place);
        self.assert_same();
        quick
    }

    /// Both mirrors serve the same files, byte for byte, and record the same manifest.
    fn assert_same(&self) {
        assert_eq!(
            names(&tree(&self.mirror("quick"))),
            names(&tree(&self.mirror("full"))),
            "the served trees differ"
        );
        assert_eq!(tree(&self.mirror("quick")), tree(&self.mirror("full")));
        assert_eq!(manifest(&self.mirror("quick")), manifest(&self.mirror("full")));
    }
}

fn names(files: &BTreeMap<String, Vec<u8>>) -> Vec<&String> {
    files.keys().collect()
}

fn served_state(mirror: &Path) -> PathBuf {
    let link = std::fs::read_link(mirror.join("repository")).unwrap();
    mirror.join(link).parent().unwrap().to_path_buf()
}

/// Every file a mirror serves, with its bytes.
fn tree(mirror: &Path) -> BTreeMap<String, Vec<u8>> {
    let root = served_state(mirror).join("tree");
    let mut files = BTreeMap::new();
    let mut pending = vec![root.clone()];
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let entry = entry.unwrap();
            let meta = std::fs::symlink_metadata(entry.path()).unwrap();
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                let relative = entry.path().strip_prefix(&root).unwrap().to_string_lossy().into_owned();
                files.insert(relative, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    files
}

/// A mirror's manifest (journal folded in) as a sync relies on it: each file's size and
/// sha256, and whether it is kept only for its grace period.
fn manifest(mirror: &Path) -> BTreeMap<String, (u64, String, bool)> {
    let manifest = Manifest::read_state(&served_state(mirror)).unwrap();
    manifest
        .files
        .into_iter()
        .map(|(name, entry)| (name, (entry.size, entry.sha256, entry.superseded_at.is_some())))
        .collect()
}

fn state_number(mirror: &Path) -> String {
    served_state(mirror).file_name().unwrap().to_string_lossy().into_owned()
}

/// A repository of `count` targets in the top-level targets role.
fn flat(count: usize) -> RepoSim {
    let mut sim = RepoSim::new(Utc::now() - chrono::Duration::hours(2));
    for i in 0..count {
        sim.add_target("targets", &format!("t{i}.txt"), format!("content {i}").as_bytes());
    }
    sim
}

/// A repository of `count` targets in 8 succinct hashed bins, some in directories.
fn binned(count: usize) -> RepoSim {
    let mut sim = RepoSim::new(Utc::now() - chrono::Duration::hours(2));
    sim.add_succinct_delegation("targets", 3, "bin");
    for i in 0..count {
        let path = if i % 3 == 0 {
            format!("dir/t{i}.txt")
        } else {
            format!("t{i}.txt")
        };
        sim.add_target_to_bin("targets", &path, format!("content {i}").as_bytes());
    }
    sim
}

#[tokio::test]
async fn a_new_snapshot_is_served_in_place_with_no_targets_role_read() {
    let mut pair = Pair::new(binned(40));
    let first = pair.sync_both().await;
    assert!(!first.in_place);
    let state = state_number(&pair.mirror("quick"));
    // A client mid-update keeps what it read: remember the old snapshot's name.
    let old_snapshot = format!("{}.snapshot.json", pair.sim.version("snapshot"));

    pair.sim.bump("snapshot");
    let report = pair.sync_both().await;
    assert!(report.in_place, "{report:?}");
    assert!(report.changed);
    assert_eq!(state_number(&pair.mirror("quick")), state, "the same state, updated");
    // The timestamp and the snapshot (the next root was asked for and is absent): no
    // targets role, no target.
    assert_eq!(report.metadata_fetched, 2, "{report:?}");
    assert_eq!(report.files_fetched, 2, "{report:?}");
    assert_eq!(report.after.snapshot, pair.sim.version("snapshot"));
    assert!(
        manifest(&pair.mirror("quick"))[&old_snapshot].2,
        "the old snapshot is in grace"
    );

    // And a sync that finds nothing new still stops at the timestamp.
    let again = sync(pair.options("quick")).await.unwrap();
    assert!(!again.changed && !again.in_place, "{again:?}");
    assert_eq!(again.metadata_fetched, 1, "the timestamp alone");
}

#[tokio::test]
async fn one_changed_target_in_a_bin_fetches_that_bin_and_that_target_only() {
    let mut pair = Pair::new(binned(60));
    pair.sync_both().await;
    for round in 0..3 {
        let path = format!("dir/t{}.txt", round * 3);
        let bin = pair.sim.bin_for("targets", &path).unwrap();
        pair.sim.add_target(&bin, &path, format!("changed {round}").as_bytes());
        let report = pair.sync_both().await;
        assert!(report.in_place, "round {round}: {report:?}");
        // The timestamp, the snapshot, the one bin; then the target, once for its names
        // (sha256, sha512 and tough's are linked).
        assert_eq!(report.metadata_fetched, 3, "round {round}: {report:?}");
        assert_eq!(report.files_fetched, 4, "round {round}: {report:?}");
    }
}

#[tokio::test]
async fn targets_added_and_removed_in_the_top_level_role_are_updated_in_place() {
    let mut pair = Pair::new(flat(30));
    pair.sync_both().await;
    pair.sim.add_target("targets", "new/file.bin", b"a new target");
    assert!(pair.sim.remove_target("targets", "t3.txt"));
    pair.sim.add_target("targets", "t4.txt", b"t4, replaced");
    let report = pair.sync_both().await;
    assert!(report.in_place, "{report:?}");
    // The timestamp, the snapshot, the targets role, and the two new contents.
    assert_eq!(report.metadata_fetched, 3, "{report:?}");
    assert_eq!(report.files_fetched, 5, "{report:?}");
    // Removed and replaced targets stay for their grace period, marked so.
    let old = &pair.sim.target_paths("targets", "t3.txt");
    assert!(old.is_empty(), "t3.txt is gone from the metadata");
    let superseded = manifest(&pair.mirror("quick"))
        .into_iter()
        .filter(|(name, (_, _, superseded))| *superseded && name.ends_with(".t3.txt"))
        .count();
    assert!(superseded >= 1, "t3.txt's names are kept for the grace period");
    // A target put back under a name still in its grace period is served again.
    pair.sim.add_target("targets", "t3.txt", b"content 3");
    let report = pair.sync_both().await;
    assert!(report.in_place, "{report:?}");
    assert_eq!(report.files_fetched, 3, "nothing fetched again: {report:?}");
}

#[tokio::test]
async fn a_changed_role_that_delegates_is_synced_in_full() {
    let mut pair = Pair::new(binned(20));
    pair.sync_both().await;
    let state = state_number(&pair.mirror("quick"));
    pair.sim
        .add_target("targets", "top-level.txt", b"listed by the delegating role");
    let report = pair.sync_both().await;
    assert!(!report.in_place, "{report:?}");
    assert_ne!(state_number(&pair.mirror("quick")), state, "a new state");
}

#[tokio::test]
async fn a_repository_without_consistent_snapshots_is_still_rebuilt_and_switched() {
    let mut sim = flat(10);
    sim.set_consistent_snapshot(false);
    let mut pair = Pair::new(sim);
    pair.sync_both().await;
    let state = state_number(&pair.mirror("quick"));
    pair.sim.add_target("targets", "t1.txt", b"changed");
    let report = pair.sync_both().await;
    assert!(!report.in_place, "{report:?}");
    assert_ne!(state_number(&pair.mirror("quick")), state);
}

#[tokio::test]
async fn a_new_root_is_synced_in_full() {
    let mut pair = Pair::new(flat(10));
    pair.sync_both().await;
    pair.sim.bump("root");
    let report = pair.sync_both().await;
    assert!(!report.in_place, "{report:?}");
    assert_eq!(report.after.root, 2);
}

#[tokio::test]
async fn freeze_attack_an_unchanged_targets_role_that_expired_is_refused_without_being_read() {
    let mut pair = Pair::new(flat(5));
    pair.sim.set_expires("targets", pair.now + chrono::Duration::hours(1));
    pair.sync_both().await;
    let before = tree(&pair.mirror("quick"));
    // The online roles move on; the targets role, unchanged, expires behind them.
    pair.sim.bump("snapshot");
    pair.sim.publish();
    pair.sim.write_published(&pair.origin()).unwrap();
    let mut options = pair.options("quick");
    options.now = pair.now + chrono::Duration::hours(2);
    let error = sync(options).await.unwrap_err().to_string();
    assert!(error.contains("targets") && error.contains("expired"), "{error}");
    assert_eq!(tree(&pair.mirror("quick")), before, "nothing changed");
}

#[tokio::test]
async fn an_interrupted_update_in_place_is_rebuilt_in_full_and_verify_reports_it() {
    let mut pair = Pair::new(flat(10));
    pair.sync_both().await;
    let quick = pair.mirror("quick");
    let state = served_state(&quick);
    std::fs::write(state.join("in-place-update"), b"").unwrap();
    let report = trustroot_mirror::verify::verify(&quick, None, pair.now, Limits::default(), None)
        .await
        .unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("interrupted")),
        "{:?}",
        report.problems
    );
    // Even with nothing new at the origin, the state is built again from scratch.
    pair.sim.bump("snapshot");
    let report = pair.sync_both().await;
    assert!(!report.in_place, "{report:?}");
    assert_ne!(served_state(&quick), state);
    let report = trustroot_mirror::verify::verify(&quick, None, pair.now, Limits::default(), None)
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[tokio::test]
async fn the_journal_is_folded_by_the_next_full_sync() {
    let mut pair = Pair::new(flat(5));
    pair.sync_both().await;
    for _ in 0..3 {
        pair.sim.bump("snapshot");
        assert!(pair.sync_both().await.in_place);
    }
    let state = served_state(&pair.mirror("quick"));
    assert!(state.join("manifest-journal.json").is_file());
    // A new root sends the sync the full way: a new state, with no journal.
    pair.sim.bump("root");
    assert!(!pair.sync_both().await.in_place);
    let state = served_state(&pair.mirror("quick"));
    assert!(!state.join("manifest-journal.json").exists());
}

#[tokio::test]
async fn an_export_cannot_read_a_state_while_a_sync_may_update_it() {
    let mut pair = Pair::new(flat(3));
    pair.sync_both().await;
    let quick = pair.mirror("quick");
    // What `mirror export` takes before it verifies and writes the bundle.
    let held = trustroot_mirror::sync::lock_mirror(&quick).unwrap();
    let error = trustroot_mirror::sync::lock_mirror(&quick).unwrap_err().to_string();
    assert!(error.contains("another sync is running"), "{error}");
    // And a sync waits for no export: it is refused while the export holds the lock.
    pair.sim.bump("snapshot");
    pair.sim.publish();
    pair.sim.write_published(&pair.origin()).unwrap();
    let error = sync(pair.options("quick")).await.unwrap_err().to_string();
    assert!(error.contains("another sync is running"), "{error}");
    drop(held);
    assert!(sync(pair.options("quick")).await.unwrap().in_place);
    let nothing = pair.work.path().join("not-a-mirror");
    std::fs::create_dir(&nothing).unwrap();
    let error = trustroot_mirror::sync::lock_mirror(&nothing).unwrap_err().to_string();
    assert!(error.contains("no mirror") || error.contains("nothing"), "{error}");
}

#[tokio::test]
async fn a_leaf_role_that_starts_delegating_is_synced_in_full() {
    let mut pair = Pair::new(binned(16));
    pair.sync_both().await;
    let state = state_number(&pair.mirror("quick"));
    // A bin that delegated nothing now delegates: only the full walk may say what its
    // targets resolve to. The update in place verifies the walk, then gives way.
    let bin = pair.sim.bin_for("targets", "t1.txt").unwrap();
    pair.sim.add_delegation(
        &bin,
        trustroot_test_support::DelegatedRoleSpec::new("deeper", &["deep/*"]),
    );
    // A path of that bin (so a client's search reaches the delegation).
    let path = (0..)
        .map(|i| format!("deep/x{i}.txt"))
        .find(|path| pair.sim.bin_for("targets", path).as_deref() == Some(bin.as_str()))
        .unwrap();
    pair.sim.add_target("deeper", &path, b"delegated further");
    let report = pair.sync_both().await;
    assert!(!report.in_place, "{report:?}");
    assert_ne!(state_number(&pair.mirror("quick")), state);
    let name = path.rsplit('/').next().unwrap().to_string();
    assert!(
        tree(&pair.mirror("quick"))
            .keys()
            .any(|file| file.ends_with(&format!(".{name}"))),
        "{path} is mirrored"
    );
}
