//! `mirror sync` in process: the real Sigstore repositories served on 127.0.0.1 at their
//! reference times, incremental re-syncs, a legacy-to-current re-sync, pruning, and hostile
//! origins on the repository simulator, each refused with the served mirror unchanged.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use trustroot_core::Limits;
use trustroot_mirror::FetchConfig;
use trustroot_mirror::sync::{SyncOptions, SyncSummary, sync};
use trustroot_test_support::{Fault, RepoSim, SimServer};
use url::Url;

fn at(text: &str) -> DateTime<Utc> {
    trustroot_core::time::parse(text).unwrap()
}

fn unpack() -> tempfile::TempDir {
    trustroot_test_support::unpack_sigstore_fixtures()
}

fn options(dir: &Path, from: &str, root: Option<Vec<u8>>, now: DateTime<Utc>) -> SyncOptions {
    SyncOptions {
        dir: dir.to_path_buf(),
        from: Some(Url::parse(from).unwrap()),
        targets_from: None,
        root,
        jobs: 4,
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

/// Every regular file under `dir` (following the served symlink) with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let entry = entry.unwrap();
            let meta = std::fs::metadata(entry.path()).unwrap();
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                let relative = entry.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                files.insert(relative, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    files
}

/// A published tree as a mirror serves it: each target in a directory
/// (`targets/<dir>/<sha256>.<name>`) also under tough's name, `targets/<sha256>.<dir>/<name>`.
fn with_tough_names(mut files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    let aliases: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter_map(|(path, bytes)| {
            let (dir, base) = path.strip_prefix("targets/")?.rsplit_once('/')?;
            let (digest, name) = base.split_once('.')?;
            (digest.len() == 64).then(|| (format!("targets/{digest}.{dir}/{name}"), bytes.clone()))
        })
        .collect();
    files.extend(aliases);
    files
}

/// What a sync must never change on failure: the served tree and the mirror's trusted
/// state. (An interrupted sync's `staging/` is kept on purpose, so the next one resumes.)
fn served_state(dir: &Path) -> (Option<PathBuf>, BTreeMap<String, Vec<u8>>) {
    let link = std::fs::read_link(dir.join("repository")).ok();
    let mut files = BTreeMap::new();
    if let Some(link) = &link {
        files = tree(dir.join(link).parent().unwrap());
    }
    (link, files)
}

#[tokio::test]
async fn mirrors_sigstore_production_byte_for_byte_then_resyncs_with_two_requests() {
    let fixtures = unpack();
    let published = fixtures.path().join("sigstore-prod/published");
    let server = SimServer::serve_dir(&published);
    let mirror = tempfile::tempdir().unwrap();
    let root = std::fs::read(published.join("1.root.json")).unwrap();
    let now = at("2026-08-22T00:00:00Z");

    let first = sync(options(mirror.path(), &server.base_url(), Some(root), now))
        .await
        .unwrap();
    assert!(first.changed);
    assert_eq!(
        (
            first.after.root,
            first.after.timestamp,
            first.after.snapshot,
            first.after.targets
        ),
        (15, 762, 165, 14)
    );
    // The served tree is the published repository (plus tough's names for targets in a
    // directory: the npm delegation's).
    assert_eq!(
        tree(&mirror.path().join("repository")),
        with_tough_names(tree(&published))
    );
    // Every file fetched is counted, metadata too: roots 2 to 15, timestamp, snapshot,
    // targets and the npm delegation's role.
    assert_eq!(first.metadata_fetched, 18, "{first:?}");
    assert!(first.files_fetched > first.metadata_fetched, "{first:?}");

    server.clear_requests();
    let again = sync(options(mirror.path(), &server.base_url(), None, now))
        .await
        .unwrap();
    assert!(!again.changed);
    // Nothing new: the one file fetched and checked is timestamp.json.
    assert_eq!((again.files_fetched, again.metadata_fetched), (1, 1));
    assert_eq!(
        server.requests(),
        vec!["16.root.json".to_string(), "timestamp.json".to_string()]
    );
}

#[tokio::test]
async fn mirrors_sigstore_staging_at_its_reference_time() {
    let fixtures = unpack();
    let published = fixtures.path().join("sigstore-staging/published");
    let server = SimServer::serve_dir(&published);
    let mirror = tempfile::tempdir().unwrap();
    let root = std::fs::read(published.join("1.root.json")).unwrap();
    let summary = sync(options(
        mirror.path(),
        &server.base_url(),
        Some(root),
        at("2026-08-22T00:00:00Z"),
    ))
    .await
    .unwrap();
    assert_eq!((summary.after.root, summary.after.timestamp), (14, 703));
    assert_eq!(
        tree(&mirror.path().join("repository")),
        with_tough_names(tree(&published))
    );
}

#[tokio::test]
async fn resyncs_a_legacy_mirror_from_the_current_repository_then_prunes_after_the_grace_period() {
    let fixtures = unpack();
    let legacy = fixtures.path().join("sigstore-prod-legacy/published");
    let current = fixtures.path().join("sigstore-prod/published");
    let legacy_server = SimServer::serve_dir(&legacy);
    let current_server = SimServer::serve_dir(&current);
    let mirror = tempfile::tempdir().unwrap();
    let root = std::fs::read(legacy.join("1.root.json")).unwrap();

    let first = sync(options(
        mirror.path(),
        &legacy_server.base_url(),
        Some(root),
        at("2024-09-05T00:00:00Z"),
    ))
    .await
    .unwrap();
    assert_eq!((first.after.root, first.after.timestamp), (9, 216));
    let served = mirror.path().join("repository");
    // Legacy targets are published under both their sha256 and sha512 names.
    let legacy_targets = std::fs::read_dir(served.join("targets")).unwrap().count();
    assert!(legacy_targets >= 17, "{legacy_targets}");

    let now = at("2026-08-22T00:00:00Z");
    let second: SyncSummary = sync(options(mirror.path(), &current_server.base_url(), None, now))
        .await
        .unwrap();
    assert_eq!(second.before.as_ref().unwrap().root, 9);
    assert_eq!(
        (second.after.root, second.after.timestamp, second.after.snapshot),
        (15, 762, 165)
    );
    assert!(
        second.files_reused > 0,
        "unchanged targets are linked, not fetched: {second:?}"
    );
    assert!(
        second.files_in_grace > 0,
        "superseded legacy files stay for clients mid-update"
    );
    for name in ["10.root.json", "15.root.json", "165.snapshot.json", "timestamp.json"] {
        assert_eq!(
            std::fs::read(served.join(name)).unwrap(),
            std::fs::read(current.join(name)).unwrap(),
            "{name}"
        );
    }
    assert!(
        served.join("155.snapshot.json").exists(),
        "the superseded snapshot is kept during the grace period"
    );

    // With no grace period left, superseded files go.
    let mut prune = options(mirror.path(), &current_server.base_url(), None, now);
    prune.keep = chrono::Duration::zero();
    let third = sync(prune).await.unwrap();
    assert!(third.changed && third.files_pruned > 0, "{third:?}");
    assert!(!served.join("155.snapshot.json").exists());
    assert!(served.join("1.root.json").exists(), "every root version stays");
}

/// A small simulated repository, mirrored once.
struct Origin {
    repo: Arc<Mutex<RepoSim>>,
    server: SimServer,
    mirror: tempfile::TempDir,
    now: DateTime<Utc>,
}

impl Origin {
    async fn synced() -> Origin {
        Origin::synced_with(|_| ()).await
    }

    /// Like [`Origin::synced`], the repository first changed by `setup`.
    async fn synced_with(setup: impl FnOnce(&mut RepoSim)) -> Origin {
        let now = Utc::now();
        let mut repo = RepoSim::new(now);
        setup(&mut repo);
        repo.add_target("targets", "a.txt", b"first target");
        repo.add_target("targets", "dir/b.txt", b"second target");
        repo.publish();
        let root = repo.root_bytes(1).unwrap();
        let repo = Arc::new(Mutex::new(repo));
        let server = SimServer::start(repo.clone());
        let mirror = tempfile::tempdir().unwrap();
        let origin = Origin {
            repo,
            server,
            mirror,
            now,
        };
        let mut first = origin.options();
        first.root = Some(root);
        sync(first).await.unwrap();
        origin
    }

    fn options(&self) -> SyncOptions {
        let mut options = options(self.mirror.path(), &self.server.metadata_url(), None, self.now);
        options.targets_from = Some(Url::parse(&self.server.targets_url()).unwrap());
        options
    }

    /// Publishes a new target and returns its served path.
    fn publish_target(&self, path: &str, bytes: &[u8]) -> String {
        let mut repo = self.repo.lock().unwrap();
        repo.add_target("targets", path, bytes);
        repo.publish();
        repo.target_paths("targets", path)[0].clone()
    }

    /// Runs a sync expected to fail; checks the served mirror did not change.
    async fn refused(&self) -> String {
        let before = served_state(self.mirror.path());
        let error = sync(self.options()).await.unwrap_err().to_string();
        assert_eq!(
            served_state(self.mirror.path()),
            before,
            "the served mirror changed after: {error}"
        );
        error
    }
}

/// The served state's directory.
fn served_state_dir(mirror: &Path) -> PathBuf {
    std::fs::canonicalize(mirror.join("repository"))
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

#[tokio::test]
async fn a_sync_that_finds_the_same_timestamp_stops_before_reading_the_manifest() {
    let origin = Origin::synced().await;
    // The manifest is what a no-change sync no longer needs: make it unreadable.
    let manifest = served_state_dir(origin.mirror.path()).join("manifest.json");
    std::fs::write(&manifest, b"not json").unwrap();
    origin.server.clear_requests();
    let again = sync(origin.options()).await.unwrap();
    assert!(!again.changed, "{again:?}");
    assert_eq!((again.files_fetched, again.metadata_fetched), (1, 1));
    // The specification's order: the next root version first, then the timestamp.
    assert_eq!(
        origin.server.requests(),
        vec![
            "metadata/2.root.json".to_string(),
            "metadata/timestamp.json".to_string()
        ]
    );
    // The summary stands in for the manifest: every file counted as reused.
    assert_eq!(again.files_reused, 7, "{again:?}");
}

#[tokio::test]
async fn freeze_attack_replaying_the_mirrored_timestamp_is_refused_once_it_expires() {
    let origin = Origin::synced().await;
    let before = served_state(origin.mirror.path());
    // The repository is frozen: the same timestamp, which expires a day after it was
    // published. Two days later the mirror must refuse it, not call it unchanged.
    let mut later = origin.options();
    later.now = origin.now + chrono::TimeDelta::days(2);
    let error = sync(later).await.unwrap_err().to_string();
    assert!(error.contains("timestamp") && error.contains("expired"), "{error}");
    assert_eq!(served_state(origin.mirror.path()), before);
}

#[tokio::test]
async fn freeze_attack_with_an_expired_targets_role_behind_the_same_timestamp_is_refused() {
    let origin = Origin::synced_with(|repo| {
        let expires = repo.base() + chrono::TimeDelta::hours(1);
        repo.set_expires("targets", expires);
    })
    .await;
    let before = served_state(origin.mirror.path());
    // The timestamp is still valid and unchanged; the targets role it vouches for is not.
    let mut later = origin.options();
    later.now = origin.now + chrono::TimeDelta::hours(2);
    let error = sync(later).await.unwrap_err().to_string();
    assert!(error.contains("targets") && error.contains("expired"), "{error}");
    assert_eq!(served_state(origin.mirror.path()), before);
}

#[tokio::test]
async fn a_state_without_a_summary_is_synced_in_full_and_gains_one() {
    let origin = Origin::synced().await;
    // A mirror written before states had summaries.
    let summary = served_state_dir(origin.mirror.path()).join("summary.json");
    let written = std::fs::read(&summary).unwrap();
    std::fs::remove_file(&summary).unwrap();
    let manifest = served_state_dir(origin.mirror.path()).join("manifest.json");
    let again = sync(origin.options()).await.unwrap();
    assert!(!again.changed, "{again:?}");
    assert_eq!(std::fs::read(&summary).unwrap(), written);
    // From now on the fast path answers: the manifest is not read.
    std::fs::write(&manifest, b"not json").unwrap();
    assert!(!sync(origin.options()).await.unwrap().changed);
}

#[tokio::test]
async fn wrong_hash_from_the_origin_is_refused() {
    let origin = Origin::synced().await;
    let served = origin.publish_target("c.txt", b"third target");
    origin
        .repo
        .lock()
        .unwrap()
        .set_override(&served, Some(b"THIRD TARGET".to_vec()));
    let error = origin.refused().await;
    assert!(error.contains("c.txt") && error.contains("hash"), "{error}");
}

#[tokio::test]
async fn wrong_length_from_the_origin_is_refused() {
    let origin = Origin::synced().await;
    let served = origin.publish_target("c.txt", b"third target");
    origin
        .repo
        .lock()
        .unwrap()
        .set_override(&served, Some(b"third target, and more".to_vec()));
    let error = origin.refused().await;
    assert!(
        error.contains("c.txt") && (error.contains("length") || error.contains("exceeds")),
        "{error}"
    );
}

#[tokio::test]
async fn endless_metadata_from_the_origin_is_cut_off() {
    let origin = Origin::synced().await;
    origin.publish_target("c.txt", b"third target");
    origin.server.set_fault("metadata/timestamp.json", Fault::Endless);
    let error = origin.refused().await;
    assert!(
        error.contains("timestamp.json") && error.contains("exceeds the limit"),
        "{error}"
    );
}

#[tokio::test]
async fn target_names_that_escape_the_mirror_are_skipped_and_the_rest_is_mirrored() {
    for name in ["../escape.txt", "dir/../../escape.txt"] {
        let origin = Origin::synced().await;
        origin.publish_target(name, b"escape");
        let good = origin.publish_target("c.txt", b"third target");
        let summary = sync(origin.options()).await.unwrap();
        assert_eq!(summary.skipped.len(), 1, "{:?}", summary.skipped);
        assert_eq!(summary.skipped[0].target, name);
        assert_eq!(summary.skipped[0].role, "targets");
        assert!(summary.skipped[0].reason.contains("unsafe"), "{:?}", summary.skipped);
        let (_, served) = served_state(origin.mirror.path());
        assert_eq!(
            served.get(&format!("tree/{good}")).map(Vec::as_slice),
            Some(&b"third target"[..])
        );
        assert!(!origin.mirror.path().parent().unwrap().join("escape.txt").exists());
        assert!(!origin.mirror.path().join("escape.txt").exists());
    }
}

#[tokio::test]
async fn a_planted_states_symlink_cannot_make_a_sync_delete_files_elsewhere() {
    let origin = Origin::synced().await;
    origin.publish_target("c.txt", b"third target");
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("00000009"), b"precious").unwrap();
    std::fs::create_dir(elsewhere.path().join("keep")).unwrap();
    let states = origin.mirror.path().join(".trustroot-mirror/states");
    // The states are moved aside and `states` made a link to a directory of someone else's.
    let aside = origin.mirror.path().join("aside");
    std::fs::rename(&states, &aside).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), &states).unwrap();
    let error = sync(origin.options()).await.unwrap_err().to_string();
    assert!(error.contains("symlink") && error.contains("states"), "{error}");
    assert_eq!(std::fs::read(elsewhere.path().join("00000009")).unwrap(), b"precious");
    assert!(elsewhere.path().join("keep").is_dir());
}

#[tokio::test]
async fn a_planted_lock_symlink_is_not_followed() {
    let origin = Origin::synced().await;
    origin.publish_target("c.txt", b"third target");
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("created-through-the-link");
    let lock = origin.mirror.path().join(".trustroot-mirror/lock");
    let _ = std::fs::remove_file(&lock);
    std::os::unix::fs::symlink(&victim, &lock).unwrap();
    let error = sync(origin.options()).await.unwrap_err().to_string();
    assert!(error.contains("lock"), "{error}");
    assert!(!victim.exists(), "the lock was opened through the symlink");
}

#[tokio::test]
async fn a_planted_symlink_as_the_served_states_directory_is_refused() {
    let origin = Origin::synced().await;
    origin.publish_target("c.txt", b"third target");
    let elsewhere = tempfile::tempdir().unwrap();
    let link = std::fs::read_link(origin.mirror.path().join("repository")).unwrap();
    let state = origin.mirror.path().join(link.parent().unwrap());
    let moved = elsewhere.path().join("state");
    std::fs::rename(&state, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &state).unwrap();
    std::fs::write(moved.join("precious"), b"precious").unwrap();
    let error = sync(origin.options()).await.unwrap_err().to_string();
    assert!(error.contains("symlink"), "{error}");
    assert_eq!(std::fs::read(moved.join("precious")).unwrap(), b"precious");
}

#[tokio::test]
async fn a_symlink_planted_in_the_mirror_is_refused_not_followed() {
    let origin = Origin::synced().await;
    origin.publish_target("dir/c.txt", b"third target");
    let elsewhere = tempfile::tempdir().unwrap();
    let state = std::fs::read_link(origin.mirror.path().join("repository")).unwrap();
    let planted = origin.mirror.path().join(&state).join("targets/dir");
    std::fs::remove_dir_all(&planted).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), &planted).unwrap();
    let error = sync(origin.options()).await.unwrap_err().to_string();
    assert!(error.contains("symlink"), "{error}");
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        0,
        "nothing was written through the symlink"
    );
}

#[tokio::test]
async fn a_stalled_origin_is_cut_off_and_the_mirror_is_unchanged() {
    let origin = Origin::synced().await;
    let served = origin.publish_target("c.txt", b"third target");
    origin.server.set_fault(&served, Fault::Stall(Duration::from_secs(30)));
    let error = origin.refused().await;
    assert!(
        error.contains("c.txt") || error.contains("slow") || error.contains("stalled"),
        "{error}"
    );
}

#[tokio::test]
async fn an_origin_closing_mid_file_is_refused() {
    let origin = Origin::synced().await;
    let served = origin.publish_target("c.txt", b"third target");
    origin.server.set_fault(&served, Fault::WrongContentLength);
    origin.refused().await;
}

#[tokio::test]
async fn a_sync_after_a_refused_one_completes() {
    let origin = Origin::synced().await;
    let served = origin.publish_target("c.txt", b"third target");
    origin.server.set_fault(&served, Fault::Status(500));
    origin.refused().await;
    origin.server.clear_faults();
    let summary = sync(origin.options()).await.unwrap();
    assert!(summary.changed);
    assert_eq!(
        std::fs::read(origin.mirror.path().join("repository").join(&served)).unwrap(),
        b"third target"
    );
}

#[tokio::test]
async fn a_root_chain_longer_than_a_clients_limit_is_mirrored_in_one_sync() {
    let now = Utc::now();
    let mut repo = RepoSim::new(now);
    repo.add_target("targets", "a.txt", b"a target");
    repo.publish();
    let root = repo.root_bytes(1).unwrap();
    for _ in 1..300 {
        repo.bump("root");
        repo.publish();
    }
    assert_eq!(repo.version("root"), 300);
    let server = SimServer::start(Arc::new(Mutex::new(repo)));
    let mirror = tempfile::tempdir().unwrap();
    let options = |limits: Limits| {
        let mut options = options(mirror.path(), &server.metadata_url(), Some(root.clone()), now);
        options.targets_from = Some(Url::parse(&server.targets_url()).unwrap());
        options.limits = limits;
        options
    };

    // A client's limit refuses the chain, and nothing is served.
    let error = sync(options(Limits::default())).await.unwrap_err().to_string();
    assert!(error.contains("more than 256 root rotations"), "{error}");
    assert!(std::fs::read_link(mirror.path().join("repository")).is_err());

    // A mirror's crosses it in one sync and serves every version.
    server.clear_requests();
    let summary = sync(options(trustroot_mirror::mirror_limits())).await.unwrap();
    assert_eq!(summary.after.root, 300);
    let served = tree(&mirror.path().join("repository"));
    for version in 1..=300 {
        assert!(
            served.contains_key(&format!("{version}.root.json")),
            "{version}.root.json"
        );
    }
    // Versions are fetched ahead of verification (8 at a time), each once; at most 8
    // requests past the last version (answered 404), all in flight before the first 404.
    let requests = server.requests();
    for version in 2..=300 {
        let name = format!("/{version}.root.json");
        assert_eq!(requests.iter().filter(|r| r.ends_with(&name)).count(), 1, "{name}");
    }
    let past = requests
        .iter()
        .filter(|r| {
            r.rsplit('/')
                .next()
                .and_then(|f| f.strip_suffix(".root.json"))
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|v| v > 300)
        })
        .count();
    assert!(
        (1..=8).contains(&past),
        "{past} requests past the last root: {requests:?}"
    );
}
