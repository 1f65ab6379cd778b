//! Independent TUF clients (tuf-js, tough, python-tuf's ngclient, and `trustroot client`)
//! update from what `trustroot mirror` serves: Sigstore's real production repository at
//! its reference time (clock pinned by faketime), and a simulated repository with fresh
//! keys, a root rotation and a delegated role. The clients are pinned and installed by
//! scripts/test.sh (see tests/interop/); a missing client fails the test, never skips it.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{file_url, ngclient, text, tough, trustroot, trustroot_at, trustroot_client, tufjs, unpack_fixtures};
use trustroot_test_support::{DelegatedRoleSpec, KeyType, RepoSim, SimServer};

/// Sigstore's production repository is current at this time (timestamp v762 expires
/// 2026-08-28T19:25:56Z).
const TIME: &str = "2026-08-22 00:00:00";

/// The two Sigstore payloads every Sigstore client downloads.
const SIGSTORE_TARGETS: [&str; 2] = ["trusted_root.json", "signing_config.v0.2.json"];

/// A mirror of Sigstore's production repository, synced from root v1 (so it serves every
/// root version, 1 to 15) and served over HTTP.
struct SigstoreMirror {
    _fixtures: tempfile::TempDir,
    _work: tempfile::TempDir,
    served: PathBuf,
    server: SimServer,
}

impl SigstoreMirror {
    fn new() -> SigstoreMirror {
        let fixtures = unpack_fixtures();
        let published = fixtures.path().join("sigstore-prod/published");
        let origin = SimServer::serve_dir(&published);
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("mirror");
        let root = published.join("1.root.json");
        let out = trustroot_at(
            TIME,
            &[
                "mirror",
                "sync",
                dir.to_str().unwrap(),
                "--from",
                &origin.base_url(),
                "--root",
                root.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "mirror sync: {}", text(&out));
        let served = dir.join("repository");
        let server = SimServer::serve_dir(&served);
        SigstoreMirror {
            _fixtures: fixtures,
            _work: work,
            served,
            server,
        }
    }

    fn root(&self, version: u64) -> PathBuf {
        self.served.join(format!("{version}.root.json"))
    }

    fn metadata_url(&self) -> String {
        self.server.base_url()
    }

    fn targets_url(&self) -> String {
        format!("{}targets/", self.server.base_url())
    }

    /// The npm delegated role's target, named from the metadata (its name is a registry
    /// host, which this source tree does not spell).
    fn delegated_target(&self) -> String {
        let targets: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.served.join("14.targets.json")).unwrap()).unwrap();
        let name = targets["signed"]["delegations"]["roles"][0]["name"].as_str().unwrap();
        format!("{name}/keys.json")
    }
}

fn assert_client_ok(client: &str, out: &Output, root_version: u64) {
    assert!(out.status.success(), "{client} failed: {}", text(out));
    let expected = format!("root v{root_version}");
    assert!(
        text(out).contains(&expected),
        "{client}: expected {expected}: {}",
        text(out)
    );
}

fn assert_downloaded(out: &Output, names: &[&str]) {
    for name in names {
        assert!(
            text(out).contains(&format!("{name} -> ")),
            "{name} not downloaded: {}",
            text(out)
        );
    }
}

/// tuf-js (what sigstore-js runs) starts from Sigstore's root v1, as sigstore-js does: it
/// reads every `expires` form of roots 1 to 4 (offsets, nanoseconds) that python-tuf
/// rejects. It walks to root v15 and downloads both payloads and the npm delegation's key.
#[test]
fn sigstore_production_mirror_serves_tuf_js_from_root_1() {
    let mirror = SigstoreMirror::new();
    let delegated = mirror.delegated_target();
    let wanted = [SIGSTORE_TARGETS[0], SIGSTORE_TARGETS[1], delegated.as_str()];
    let out = tufjs(
        Some(TIME),
        &mirror.root(1),
        &mirror.metadata_url(),
        &mirror.targets_url(),
        &wanted,
    );
    assert_client_ok("tuf-js", &out, 15);
    assert_downloaded(&out, &wanted);
}

/// tough cannot start from Sigstore's roots 1 to 11, through no fault of the mirror (the
/// origin's bytes fail the same way):
/// - roots 2 to 11 list a key whose key ID is not the sha256 of the key as written (a
///   field changed after the ID was computed); tough checks every key ID when it parses a
///   root and rejects the whole root (sigstore/root-signing#1431), where python-tuf,
///   go-tuf and tuf-js just use the ID;
/// - root 1 has a non-UTC `expires` with a fraction; tough verifies signatures over its own
///   re-serialisation of the parsed root (in UTC), so none of its 5 valid signatures does.
///
/// Root 12 is the first it can start from (like sigstore-rs, which uses tough, it ships a
/// recent root); from there it walks to root v15 and downloads both payloads, over HTTP
/// and over file://. For the npm delegation's key, in a directory, see the next test.
#[test]
fn sigstore_production_mirror_serves_tough_from_root_12() {
    let mirror = SigstoreMirror::new();
    let out = tough(
        Some(TIME),
        &mirror.root(12),
        &mirror.metadata_url(),
        &mirror.targets_url(),
        &SIGSTORE_TARGETS,
    );
    assert_client_ok("tough over HTTP", &out, 15);
    assert_downloaded(&out, &SIGSTORE_TARGETS);
    let served = &mirror.served;
    let (metadata, targets) = (file_url(served), file_url(&served.join("targets")));
    let out = tough(Some(TIME), &mirror.root(12), &metadata, &targets, &SIGSTORE_TARGETS);
    assert_client_ok("tough over file://", &out, 15);
    assert_downloaded(&out, &SIGSTORE_TARGETS);

    // The roots it cannot start from, and why (if a tough upgrade changes this, this test
    // says so and the comment above needs updating).
    let out = tough(
        Some(TIME),
        &mirror.root(11),
        &mirror.metadata_url(),
        &mirror.targets_url(),
        &[],
    );
    assert!(!out.status.success(), "tough from root 11: {}", text(&out));
    assert!(
        text(&out).contains("Invalid key ID"),
        "tough from root 11: {}",
        text(&out)
    );
    let out = tough(
        Some(TIME),
        &mirror.root(1),
        &mirror.metadata_url(),
        &mirror.targets_url(),
        &[],
    );
    assert!(!out.status.success(), "tough from root 1: {}", text(&out));
    assert!(
        text(&out).contains("Signature threshold of 3 not met for role root (0 valid signatures)"),
        "tough from root 1: {}",
        text(&out)
    );
}

/// With consistent snapshots, the TUF specification (5.7.3) and every repository
/// (Sigstore's, trustroot's) put a target `dir/name` at `targets/dir/<sha256>.name`;
/// tough 0.24.0 asks for `targets/<sha256>.dir/name` instead, so it cannot download such a
/// target from Sigstore's own CDN: here the npm delegation's `keys.json`. A trustroot mirror
/// serves the target under tough's name too, so tough-based clients of the mirror get it.
#[test]
fn sigstore_production_mirror_serves_tough_a_target_in_a_directory() {
    let mirror = SigstoreMirror::new();
    let delegated = mirror.delegated_target();
    let wanted = [delegated.as_str()];
    let out = tough(
        Some(TIME),
        &mirror.root(12),
        &mirror.metadata_url(),
        &mirror.targets_url(),
        &wanted,
    );
    assert_client_ok("tough over HTTP", &out, 15);
    assert_downloaded(&out, &wanted);
}

/// A repository published by the simulator (fresh ECDSA P-256 keys, `spec_version`
/// 1.0.31, consistent snapshots), with a target in top-level targets and targets in a
/// delegated role, then a second publish that rotates the snapshot and timestamp keys
/// (root v2) and adds a target to the delegated role: mirrored with `trustroot mirror
/// sync` and served over HTTP.
struct SimMirror {
    root: tempfile::NamedTempFile,
    _work: tempfile::TempDir,
    _origin: SimServer,
    served: PathBuf,
    server: SimServer,
}

/// Targets whose name has no directory: one from top-level targets, two through the
/// delegated role (one published before the rotation, one after).
const SIM_FLAT_TARGETS: [&str; 3] = ["top.txt", "delegated-a.json", "delegated-new.txt"];
/// Targets of the delegated role in directories.
const SIM_DIR_TARGETS: [&str; 2] = ["delegated/b.bin", "delegated/deeper/c.json"];

impl SimMirror {
    fn new() -> SimMirror {
        let mut repo = RepoSim::new(chrono::Utc::now());
        repo.add_target("targets", "top.txt", b"top-level target\n");
        let paths = ["delegated-*", "delegated/*", "delegated/*/*"];
        repo.add_delegation("targets", DelegatedRoleSpec::new("delegated-role", &paths));
        repo.add_target("delegated-role", "delegated-a.json", br#"{"a": 1}"#);
        repo.add_target("delegated-role", "delegated/b.bin", &[7u8; 70_000]);
        repo.add_target("delegated-role", "delegated/deeper/c.json", br#"{"c": 3}"#);
        repo.publish();
        let root = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(root.path(), repo.root_bytes(1).unwrap()).unwrap();
        repo.rotate_keys("snapshot", 1, KeyType::EcdsaP256);
        repo.rotate_keys("timestamp", 1, KeyType::EcdsaP256);
        repo.add_target("delegated-role", "delegated-new.txt", b"added after the rotation\n");
        repo.publish();
        assert_eq!(repo.version("root"), 2);
        let origin = SimServer::start(std::sync::Arc::new(std::sync::Mutex::new(repo)));
        let work = tempfile::tempdir().unwrap();
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
            root.path().to_str().unwrap(),
        ]);
        assert!(out.status.success(), "mirror sync: {}", text(&out));
        let served = dir.join("repository");
        let server = SimServer::serve_dir(&served);
        SimMirror {
            root,
            _work: work,
            _origin: origin,
            served,
            server,
        }
    }

    fn root(&self) -> &Path {
        self.root.path()
    }

    fn metadata_url(&self) -> String {
        self.server.base_url()
    }

    fn targets_url(&self) -> String {
        format!("{}targets/", self.server.base_url())
    }
}

/// Every target the simulated repository publishes.
fn sim_targets() -> Vec<&'static str> {
    SIM_FLAT_TARGETS.iter().chain(SIM_DIR_TARGETS.iter()).copied().collect()
}

#[test]
fn simulated_mirror_serves_tuf_js_through_a_delegation() {
    let mirror = SimMirror::new();
    let out = tufjs(
        None,
        mirror.root(),
        &mirror.metadata_url(),
        &mirror.targets_url(),
        &sim_targets(),
    );
    assert_client_ok("tuf-js", &out, 2);
    assert_downloaded(&out, &sim_targets());
}

#[test]
fn simulated_mirror_serves_tough_through_a_delegation() {
    let mirror = SimMirror::new();
    let out = tough(
        None,
        mirror.root(),
        &mirror.metadata_url(),
        &mirror.targets_url(),
        &SIM_FLAT_TARGETS,
    );
    assert_client_ok("tough over HTTP", &out, 2);
    assert_downloaded(&out, &SIM_FLAT_TARGETS);
    let served = &mirror.served;
    let (metadata, targets) = (file_url(served), file_url(&served.join("targets")));
    let out = tough(None, mirror.root(), &metadata, &targets, &SIM_FLAT_TARGETS);
    assert_client_ok("tough over file://", &out, 2);
    assert_downloaded(&out, &SIM_FLAT_TARGETS);
}

/// See `sigstore_production_mirror_serves_tough_a_target_in_a_directory`.
#[test]
fn simulated_mirror_serves_tough_targets_in_directories() {
    let mirror = SimMirror::new();
    let out = tough(
        None,
        mirror.root(),
        &mirror.metadata_url(),
        &mirror.targets_url(),
        &SIM_DIR_TARGETS,
    );
    assert_client_ok("tough over HTTP", &out, 2);
    assert_downloaded(&out, &SIM_DIR_TARGETS);
}

#[test]
fn simulated_mirror_serves_python_tuf_through_a_delegation() {
    let mirror = SimMirror::new();
    let out = ngclient(
        None,
        mirror.root(),
        &mirror.metadata_url(),
        &mirror.targets_url(),
        &sim_targets(),
    );
    assert_client_ok("python-tuf ngclient", &out, 2);
    assert_downloaded(&out, &sim_targets());
}

#[test]
fn simulated_mirror_serves_trustroot_client_through_a_delegation() {
    let mirror = SimMirror::new();
    let out = trustroot_client(
        None,
        mirror.root(),
        &mirror.metadata_url(),
        &mirror.targets_url(),
        &sim_targets(),
    );
    assert!(out.status.success(), "trustroot client over HTTP: {}", text(&out));
    assert!(text(&out).contains("root v2"), "{}", text(&out));
    let served = &mirror.served;
    let (metadata, targets) = (file_url(served), file_url(&served.join("targets")));
    let out = trustroot_client(None, mirror.root(), &metadata, &targets, &sim_targets());
    assert!(out.status.success(), "trustroot client over file://: {}", text(&out));
    for name in sim_targets() {
        assert!(
            text(&out).contains(&format!("{name}: verified")),
            "{name}: {}",
            text(&out)
        );
    }
}
