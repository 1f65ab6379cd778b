//! The attacks a TUF client must withstand, end to end: the real updater against the
//! repository simulator served on 127.0.0.1.
//!
//! Every attack test first does a good refresh (so trusted metadata exists on disk),
//! takes the bytes of every file in the metadata directory, mounts the attack, and then
//! checks that the refresh or download fails with an error naming the role (and version
//! where meaningful) and the reason, and that the metadata directory is unchanged. Where
//! the specification requires already-verified metadata to be persisted before the
//! attack is met (spec 5.3.8 for each new root, 5.4.6 for a new timestamp, 5.5.7 for a
//! new snapshot), the test says so and checks that exactly those files changed, to
//! exactly the bytes the repository legitimately published.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use common::{Client, assert_mentions, base_time, core_error, files_in};
use serde_json::json;
use trustroot_core::{ErrorKind, Limits};
use trustroot_mirror::{FetchConfig, FetchError, UpdateError};
use trustroot_test_support::{DelegatedRoleSpec, Fault, KeyType, RepoSim, SimKey};

/// A repository at version 2 of timestamp, snapshot and targets (root v1), listing
/// `file.txt`.
fn repo() -> RepoSim {
    let mut repo = RepoSim::new(base_time());
    repo.add_target("targets", "file.txt", b"hello");
    repo.publish();
    assert_eq!(repo.version("timestamp"), 2);
    repo
}

/// A repository whose timestamp role has two keys and threshold 2 (root v2 lists them).
fn repo_with_two_timestamp_keys() -> RepoSim {
    let mut repo = repo();
    repo.add_new_key("timestamp");
    repo.set_threshold("timestamp", 2);
    repo.publish();
    assert_eq!(repo.version("root"), 2);
    repo
}

/// A client with short fetch deadlines: 1 s for any response, whatever its size.
fn impatient(mut client: Client) -> Client {
    client.fetch = FetchConfig {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(10),
        base_timeout: Duration::from_secs(1),
        min_bytes_per_second: 1 << 30,
    };
    client
}

/// The served path of `target` (listed by `role`).
fn served_target(client: &Client, role: &str, target: &str) -> String {
    let paths = client.repo().target_paths(role, target);
    assert_eq!(paths.len(), 1, "{target} is served under one name");
    paths[0].clone()
}

// ----- rollback ------------------------------------------------------------------------

#[tokio::test]
async fn rollback_attack_on_timestamp_is_refused() {
    let client = Client::start(repo());
    client.good_refresh().await;
    client.assert_trusts("timestamp", 2);
    let before = client.metadata_files();

    // The server answers with the older, validly signed timestamp v1.
    client.repo().serve_version("timestamp", 1);
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::Rollback { trusted: 2, found: 1 });
    assert_mentions(&err, &["timestamp v1", "rollback", "older than trusted version 2"]);
    assert_eq!(client.metadata_files(), before);
}

#[tokio::test]
async fn rollback_attack_on_snapshot_version_is_refused() {
    let client = Client::start(repo());
    client.good_refresh().await;
    let before = client.metadata_files();

    // A new, validly signed timestamp v3 that names snapshot v1 (the client trusts v2).
    {
        let mut repo = client.repo();
        repo.pin_meta_version("snapshot", Some(1));
        repo.publish();
        assert_eq!(repo.version("timestamp"), 3);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::Rollback { trusted: 2, found: 1 });
    assert_mentions(&err, &["snapshot v1", "rollback", "older than trusted version 2"]);
    // The timestamp is refused before it is persisted.
    assert_eq!(client.metadata_files(), before);
}

#[tokio::test]
async fn rollback_attack_on_targets_version_is_refused() {
    let client = Client::start(repo());
    client.good_refresh().await;
    client.assert_trusts("targets", 2);
    let before = client.metadata_files();

    // New, validly signed timestamp v3 and snapshot v3; the snapshot names targets v1.
    {
        let mut repo = client.repo();
        repo.pin_meta_version("targets", Some(1));
        repo.publish();
        assert_eq!(repo.version("snapshot"), 3);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::Rollback { trusted: 2, found: 1 });
    assert_mentions(&err, &["targets v1", "rollback", "older than trusted version 2"]);
    // Timestamp v3 is valid and final: spec 5.4.6 persists it before the snapshot is even
    // fetched. The snapshot naming the rolled-back targets is not persisted; root and
    // targets are untouched.
    let mut expected = before;
    expected.insert("timestamp.json".into(), client.repo().current_bytes("timestamp"));
    assert_eq!(client.metadata_files(), expected);
}

#[tokio::test]
async fn rollback_attack_with_an_older_root_is_refused() {
    let mut repo = repo();
    repo.bump("root");
    repo.publish();
    let client = Client::start(repo);
    client.good_refresh().await;
    client.assert_trusts("root", 2);
    let before = client.metadata_files();

    // Asked for 3.root.json, the server answers with root v1 (signed by the same, still
    // trusted root key, so only the version check can catch it).
    {
        let mut repo = client.repo();
        let old = repo.root_bytes(1).unwrap();
        repo.set_override("metadata/3.root.json", Some(old));
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::UnexpectedVersion { expected: 3, found: 1 });
    assert_mentions(&err, &["root v1", "expected version 3", "found version 1"]);
    assert_eq!(client.metadata_files(), before);
}

// ----- freeze ----------------------------------------------------------------------

#[tokio::test]
async fn freeze_attack_with_expired_timestamp_is_refused() {
    let client = Client::start(repo());
    client.good_refresh().await;
    let before = client.metadata_files();

    // A new timestamp v3, validly signed, but expired a day before the reference time.
    {
        let mut repo = client.repo();
        repo.expire("timestamp");
        repo.publish();
        assert_eq!(repo.version("timestamp"), 3);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert!(e.is_expired(), "{e}");
    assert_mentions(&err, &["timestamp v3", "expired at 2029-12-31T00:00:00Z"]);
    // An expired timestamp is never persisted (spec 5.4.5 comes before 5.4.6).
    assert_eq!(client.metadata_files(), before);
}

#[tokio::test]
async fn freeze_attack_replaying_the_last_timestamp_is_refused_once_it_expires() {
    let mut client = Client::start(repo());
    client.good_refresh().await;
    let before = client.metadata_files();

    // The repository is frozen: it keeps serving timestamp v2, which expires a day after
    // the base time. Two days later the client must notice.
    client.now = base_time() + TimeDelta::days(2);
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert!(e.is_expired(), "{e}");
    assert_mentions(
        &err,
        &[
            "timestamp v2",
            "expired at 2030-01-02T00:00:00Z",
            "reference time 2030-01-03T00:00:00Z",
        ],
    );
    assert_eq!(client.metadata_files(), before);
}

#[tokio::test]
async fn freeze_attack_with_expired_snapshot_is_refused() {
    let client = Client::start(repo());
    client.good_refresh().await;
    let before = client.metadata_files();

    {
        let mut repo = client.repo();
        repo.expire("snapshot");
        repo.publish();
        assert_eq!(repo.version("snapshot"), 3);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert!(e.is_expired(), "{e}");
    assert_mentions(&err, &["snapshot v3", "expired at 2029-12-31T00:00:00Z"]);
    // Timestamp v3 is valid and final, so spec 5.4.6 persists it; the expired snapshot is
    // not persisted (5.5.6 before 5.5.7).
    let mut expected = before;
    expected.insert("timestamp.json".into(), client.repo().current_bytes("timestamp"));
    assert_eq!(client.metadata_files(), expected);
}

// ----- mix and match -------------------------------------------------------------------

#[tokio::test]
async fn mix_and_match_attack_is_refused() {
    let client = Client::start(repo());
    client.good_refresh().await;
    client.assert_trusts("targets", 2);
    let before = client.metadata_files();

    // The repository publishes targets v3 (with snapshot v3, timestamp v3); the attacker
    // answers the request for 3.targets.json with targets v2 from the previous publish.
    {
        let mut repo = client.repo();
        repo.add_target("targets", "other.txt", b"other");
        repo.publish();
        assert_eq!(repo.version("targets"), 3);
        repo.serve_version("targets", 2);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::UnexpectedVersion { expected: 3, found: 2 });
    assert_mentions(&err, &["targets v2", "expected version 3", "found version 2"]);
    // Timestamp v3 and snapshot v3 are genuine and verified: spec 5.4.6 and 5.5.7 persist
    // them before targets is fetched. The mismatched targets is not persisted.
    let mut expected = before;
    expected.insert("timestamp.json".into(), client.repo().current_bytes("timestamp"));
    expected.insert("snapshot.json".into(), client.repo().current_bytes("snapshot"));
    assert_eq!(client.metadata_files(), expected);
    client.assert_trusts("targets", 2);
}

#[tokio::test]
async fn mix_and_match_attack_with_pinned_hashes_is_refused() {
    // Snapshot pins the length and hashes of each targets file: a file from another
    // publish is caught before its signature is even looked at.
    let mut repo = repo();
    repo.set_snapshot_meta_hashes(true);
    repo.bump("snapshot");
    repo.publish();
    let client = Client::start(repo);
    client.good_refresh().await;
    let before = client.metadata_files();

    {
        let mut repo = client.repo();
        repo.add_target("targets", "other.txt", b"other");
        repo.publish();
        repo.serve_version("targets", 2);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.role, "targets");
    assert!(
        matches!(
            e.kind,
            ErrorKind::LengthMismatch { .. } | ErrorKind::HashMismatch { .. }
        ),
        "{e}"
    );
    assert_mentions(&err, &["targets", "trusted metadata"]);
    let mut expected = before;
    expected.insert("timestamp.json".into(), client.repo().current_bytes("timestamp"));
    expected.insert("snapshot.json".into(), client.repo().current_bytes("snapshot"));
    assert_eq!(client.metadata_files(), expected);
}

#[tokio::test]
async fn mix_and_match_attack_on_snapshot_is_refused() {
    let client = Client::start(repo());
    client.good_refresh().await;
    let before = client.metadata_files();

    // Timestamp v3 names snapshot v3; the attacker serves snapshot v2 under that name.
    {
        let mut repo = client.repo();
        repo.add_target("targets", "other.txt", b"other");
        repo.publish();
        assert_eq!(repo.version("snapshot"), 3);
        repo.serve_version("snapshot", 2);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::UnexpectedVersion { expected: 3, found: 2 });
    assert_mentions(&err, &["snapshot v2", "expected version 3", "found version 2"]);
    // Timestamp v3 is genuine and final: persisted by spec 5.4.6.
    let mut expected = before;
    expected.insert("timestamp.json".into(), client.repo().current_bytes("timestamp"));
    assert_eq!(client.metadata_files(), expected);
}

// ----- arbitrary target ----------------------------------------------------------------

#[tokio::test]
async fn arbitrary_target_attack_is_refused() {
    let client = Client::start(repo());
    let updater = client.good_refresh().await;
    let info = updater.trusted().targets("targets").unwrap().signed().targets["file.txt"].clone();
    let stored = updater.download_target("file.txt", &info).await.unwrap();
    assert_eq!(std::fs::read(&stored).unwrap(), b"hello");
    let metadata_before = client.metadata_files();
    let targets_before = client.target_files();
    let served = served_target(&client, "targets", "file.txt");

    // Substituted bytes: same length (hash mismatch), shorter (length mismatch), longer
    // (more than the trusted length is never read).
    for (evil, expect) in [
        (&b"HELLO"[..], "sha256 hash does not match trusted metadata"),
        (&b"hell"[..], "length is 4 bytes, trusted metadata says 5"),
        (&b"hello, world"[..], "exceeds the limit of 5 bytes"),
    ] {
        client.repo().set_override(&served, Some(evil.to_vec()));
        let mut updater = client.updater();
        let info = updater.target_info("file.txt").await.unwrap();
        let err = updater.download_target("file.txt", &info).await.unwrap_err();
        match &err {
            UpdateError::Verify(e) => {
                assert_eq!(e.role, "file.txt");
                assert!(
                    matches!(
                        e.kind,
                        ErrorKind::HashMismatch { .. } | ErrorKind::LengthMismatch { .. }
                    ),
                    "{e}"
                );
            }
            UpdateError::Fetch(FetchError::TooLarge { limit: 5, .. }) => {}
            other => panic!("unexpected error for {evil:?}: {other}"),
        }
        assert_mentions(&err, &["file.txt", expect]);
        // The verified copy stays, no temporary file is left, no metadata changed.
        assert_eq!(client.target_files(), targets_before, "after serving {evil:?}");
        assert_eq!(client.metadata_files(), metadata_before);
    }
}

// ----- endless data --------------------------------------------------------------------

#[tokio::test]
async fn endless_data_attack_on_timestamp_is_cut_off() {
    let client = Client::start(repo());
    client.good_refresh().await;
    let before = client.metadata_files();

    client.server.set_fault("metadata/timestamp.json", Fault::Endless);
    let started = Instant::now();
    let err = client.failed_refresh().await;

    assert!(
        matches!(err, UpdateError::Fetch(FetchError::TooLarge { limit: 65536, .. })),
        "{err:?}"
    );
    assert_mentions(
        &err,
        &["timestamp.json", "exceeds the limit of 65536 bytes", "endless data"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(client.metadata_files(), before);
}

#[tokio::test]
async fn endless_data_attack_on_snapshot_is_cut_off() {
    // Timestamp does not pin the snapshot's length: the configured cap applies.
    let mut repo = repo();
    repo.add_target("targets", "other.txt", b"other");
    repo.publish();
    let limits = Limits {
        max_snapshot_size: 256 * 1024,
        ..Limits::default()
    };
    let client = Client::start_with(repo, 1, limits);
    client.good_refresh().await;
    let before = client.metadata_files();

    let path = {
        let mut repo = client.repo();
        repo.add_target("targets", "third.txt", b"third");
        repo.publish();
        repo.current_path("snapshot")
    };
    assert_eq!(path, "metadata/4.snapshot.json");
    client.server.set_fault(&path, Fault::Endless);
    let err = client.failed_refresh().await;

    assert!(
        matches!(err, UpdateError::Fetch(FetchError::TooLarge { limit: 262_144, .. })),
        "{err:?}"
    );
    assert_mentions(&err, &["4.snapshot.json", "exceeds the limit of 262144 bytes"]);
    // The new timestamp is genuine and final: persisted by spec 5.4.6.
    let mut expected = before;
    expected.insert("timestamp.json".into(), client.repo().current_bytes("timestamp"));
    assert_eq!(client.metadata_files(), expected);
}

#[tokio::test]
async fn endless_data_attack_on_target_is_cut_off() {
    let client = Client::start(repo());
    let updater = client.good_refresh().await;
    let before = client.metadata_files();

    client
        .server
        .set_fault(&served_target(&client, "targets", "file.txt"), Fault::Endless);
    let info = updater.trusted().targets("targets").unwrap().signed().targets["file.txt"].clone();
    let err = updater.download_target("file.txt", &info).await.unwrap_err();

    assert!(
        matches!(err, UpdateError::Fetch(FetchError::TooLarge { limit: 5, .. })),
        "{err:?}"
    );
    assert_mentions(&err, &["file.txt", "exceeds the limit of 5 bytes", "endless data"]);
    assert!(client.target_files().is_empty(), "{:?}", client.target_files().keys());
    assert_eq!(client.metadata_files(), before);
}

// ----- slow retrieval ------------------------------------------------------------------

#[tokio::test]
async fn slow_retrieval_attack_is_cut_off() {
    let client = impatient(Client::start(repo()));
    client.good_refresh().await;
    let before = client.metadata_files();

    // 20 bytes per second, a few every 100 ms: never silent long enough for a read
    // timeout, so only the overall deadline can stop it.
    client.server.set_fault("metadata/timestamp.json", Fault::SlowDrip(20));
    let started = Instant::now();
    let err = client.failed_refresh().await;

    assert!(matches!(err, UpdateError::Fetch(FetchError::Timeout { .. })), "{err:?}");
    assert_mentions(
        &err,
        &["timestamp.json", "no complete response within 1s", "slow or stalled"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(client.metadata_files(), before);
}

#[tokio::test]
async fn slow_retrieval_attack_by_stalling_is_cut_off() {
    let client = impatient(Client::start(repo()));
    client.good_refresh().await;
    let before = client.metadata_files();

    client
        .server
        .set_fault("metadata/timestamp.json", Fault::Stall(Duration::from_secs(30)));
    let started = Instant::now();
    let err = client.failed_refresh().await;

    assert!(matches!(err, UpdateError::Fetch(FetchError::Timeout { .. })), "{err:?}");
    assert_mentions(&err, &["timestamp.json", "no complete response within 1s"]);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(client.metadata_files(), before);
}

#[tokio::test]
async fn slow_retrieval_attack_on_target_is_cut_off() {
    let mut repo = repo();
    repo.add_target("targets", "big.bin", &[7u8; 2000]);
    repo.publish();
    let client = impatient(Client::start(repo));
    let updater = client.good_refresh().await;
    let before = client.metadata_files();

    client
        .server
        .set_fault(&served_target(&client, "targets", "big.bin"), Fault::SlowDrip(100));
    let info = updater.trusted().targets("targets").unwrap().signed().targets["big.bin"].clone();
    let started = Instant::now();
    let err = updater.download_target("big.bin", &info).await.unwrap_err();

    assert!(matches!(err, UpdateError::Fetch(FetchError::Timeout { .. })), "{err:?}");
    assert_mentions(&err, &["big.bin", "no complete response within 1s"]);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert!(client.target_files().is_empty(), "{:?}", client.target_files().keys());
    assert_eq!(client.metadata_files(), before);
}

// ----- root rotations ------------------------------------------------------------------

#[tokio::test]
async fn too_many_root_rotations_are_refused() {
    let limits = Limits {
        max_root_rotations: 3,
        ..Limits::default()
    };
    let client = Client::start_with(repo(), 1, limits);
    client.good_refresh().await;
    let before = client.metadata_files();

    // Five new roots (v2..v6), each properly signed by the previous root's keys.
    {
        let mut repo = client.repo();
        for _ in 0..5 {
            repo.bump("root");
            repo.publish();
        }
        assert_eq!(repo.version("root"), 6);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::TooManyRootRotations { limit: 3 });
    assert_mentions(&err, &["root", "more than 3 root rotations"]);
    // Roots v2..v4 were verified one by one and each was persisted as soon as trusted
    // (spec 5.3.8), so root.json is v4; nothing else changed.
    let mut expected = before;
    expected.insert("root.json".into(), client.repo().root_bytes(4).unwrap());
    assert_eq!(client.metadata_files(), expected);

    // The limit bounds one update, not the chain: the next refresh continues from v4.
    let updater = client.good_refresh().await;
    assert_eq!(updater.trusted().root().signed().common.version, 6);
    client.assert_trusts("root", 6);
}

#[tokio::test]
async fn root_rotation_not_signed_by_the_trusted_root_keys_is_refused() {
    let client = Client::start(repo());
    client.good_refresh().await;
    let before = client.metadata_files();

    // Root v2 with a new root key, signed only by that new key (not the trusted one).
    {
        let mut repo = client.repo();
        let new_keys = repo.rotate_keys("root", 1, KeyType::EcdsaP256);
        repo.sign_with("root", new_keys);
        repo.publish();
        assert_eq!(repo.version("root"), 2);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::ThresholdNotMet { valid: 0, threshold: 1 });
    assert_mentions(
        &err,
        &["root v2", "signature threshold not met", "0 valid", "1 required"],
    );
    assert_eq!(client.metadata_files(), before);
}

// ----- signatures and thresholds -------------------------------------------------------

#[tokio::test]
async fn duplicate_signatures_from_one_key_do_not_meet_threshold() {
    let client = Client::start(repo_with_two_timestamp_keys());
    client.good_refresh().await;
    client.assert_trusts("root", 2);
    let before = client.metadata_files();

    // Timestamp v4 carries the signature of its first key twice, and no other.
    let first = {
        let mut repo = client.repo();
        let first = repo.keys("timestamp")[0].clone();
        repo.sign_with("timestamp", vec![first.clone()]);
        repo.sign_with_duplicate_signature("timestamp");
        repo.publish();
        assert_eq!(repo.version("timestamp"), 4);
        first
    };
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::DuplicateSignature { keyid: first.key_id() });
    assert_mentions(
        &err,
        &["timestamp v4", "more than one signature from key", &first.key_id()],
    );
    assert_eq!(client.metadata_files(), before);
}

#[tokio::test]
async fn one_key_under_two_key_ids_does_not_meet_threshold() {
    // Root lists the timestamp key a second time under another key ID (its key object
    // carries an extra field, as Sigstore's root v9 lists keys twice), plus a second key;
    // threshold 2.
    let mut repo = repo();
    let first = repo.keys("timestamp")[0].clone();
    let alias = first.with_field("x-alias", json!("the same key again"));
    assert_ne!(alias.key_id(), first.key_id());
    repo.add_key("timestamp", alias.clone());
    repo.add_new_key("timestamp");
    repo.set_threshold("timestamp", 2);
    repo.publish();
    let client = Client::start_with(repo, 2, Limits::default());
    client.good_refresh().await;
    let before = client.metadata_files();

    // Timestamp v4 is signed by the one key under both of its IDs.
    {
        let mut repo = client.repo();
        repo.sign_with("timestamp", vec![first, alias]);
        repo.publish();
        assert_eq!(repo.version("timestamp"), 4);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::ThresholdNotMet { valid: 1, threshold: 2 });
    assert_mentions(
        &err,
        &["timestamp v4", "signature threshold not met", "1 valid", "2 required"],
    );
    assert_eq!(client.metadata_files(), before);
}

#[tokio::test]
async fn key_id_listed_twice_does_not_meet_threshold() {
    // Root lists the timestamp role's keyids as [k1, k2, k1], threshold 2.
    let mut repo = repo_with_two_timestamp_keys();
    repo.list_key_id_twice("timestamp");
    repo.publish();
    assert_eq!(repo.version("root"), 3);
    let client = Client::start_with(repo, 3, Limits::default());
    client.good_refresh().await;
    let before = client.metadata_files();

    {
        let mut repo = client.repo();
        let first = repo.keys("timestamp")[0].clone();
        repo.sign_with("timestamp", vec![first]);
        repo.publish();
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::ThresholdNotMet { valid: 1, threshold: 2 });
    assert_mentions(&err, &["timestamp v", "signature threshold not met", "2 required"]);
    assert_eq!(client.metadata_files(), before);
}

#[tokio::test]
async fn wrong_key_type_signature_is_refused() {
    // Root lists the timestamp key (ECDSA P-256) once correctly, and three more times
    // under key objects claiming another key type or scheme; threshold 1.
    let mut repo = repo();
    let key = repo.keys("timestamp")[0].clone();
    let mislabelled: Vec<SimKey> = [
        ("ed25519", "ed25519"),
        ("ecdsa", "ecdsa-sha2-nistp384"),
        ("rsa", "rsassa-pss-sha256"),
    ]
    .iter()
    .map(|(keytype, scheme)| key.with_keytype_scheme(keytype, scheme))
    .collect();
    for k in &mislabelled {
        repo.add_key("timestamp", k.clone());
    }
    repo.publish();
    let client = Client::start_with(repo, 2, Limits::default());
    client.good_refresh().await;
    let before = client.metadata_files();

    // Timestamp v4 is signed by the real secret under each mislabelled key ID only.
    {
        let mut repo = client.repo();
        repo.sign_with("timestamp", mislabelled);
        repo.publish();
        assert_eq!(repo.version("timestamp"), 4);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::ThresholdNotMet { valid: 0, threshold: 1 });
    assert_mentions(
        &err,
        &["timestamp v4", "signature threshold not met", "0 valid", "1 required"],
    );
    assert_eq!(client.metadata_files(), before);
}

#[tokio::test]
async fn threshold_not_met_is_refused() {
    let client = Client::start(repo_with_two_timestamp_keys());
    client.good_refresh().await;
    let before = client.metadata_files();

    {
        let mut repo = client.repo();
        repo.sign_below_threshold("timestamp");
        repo.publish();
        assert_eq!(repo.version("timestamp"), 4);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::ThresholdNotMet { valid: 1, threshold: 2 });
    assert_mentions(
        &err,
        &["timestamp v4", "signature threshold not met", "1 valid", "2 required"],
    );
    assert_eq!(client.metadata_files(), before);
}

#[tokio::test]
async fn threshold_not_met_with_foreign_key_signatures_is_refused() {
    let client = Client::start(repo());
    client.good_refresh().await;
    let before = client.metadata_files();

    // Targets v3 signed by a key the root does not list for targets.
    {
        let mut repo = client.repo();
        repo.add_target("targets", "evil.txt", b"evil");
        repo.sign_with("targets", vec![SimKey::generate(KeyType::Ed25519)]);
        repo.publish();
        assert_eq!(repo.version("targets"), 3);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert_eq!(e.kind, ErrorKind::ThresholdNotMet { valid: 0, threshold: 1 });
    assert_mentions(&err, &["targets v3", "signature threshold not met"]);
    // Timestamp v3 and snapshot v3 are genuine: persisted by spec 5.4.6 and 5.5.7.
    let mut expected = before;
    expected.insert("timestamp.json".into(), client.repo().current_bytes("timestamp"));
    expected.insert("snapshot.json".into(), client.repo().current_bytes("snapshot"));
    assert_eq!(client.metadata_files(), expected);
    client.assert_trusts("targets", 2);
}

// ----- path traversal ------------------------------------------------------------------

const HOSTILE_NAMES: [&str; 4] = ["../escape", "a/../../x", "/tmp/escape", "a/./../../escape"];

#[tokio::test]
async fn path_traversal_in_target_name_is_refused() {
    let client = Client::start(repo());
    client.good_refresh().await;

    // The targets role (validly signed) lists targets whose names climb out of any
    // directory. Trusting the metadata is harmless (python-tuf and go-tuf do too); using
    // such a name as a path is not, so lookup and download refuse it.
    {
        let mut repo = client.repo();
        for name in HOSTILE_NAMES {
            repo.add_target("targets", name, b"evil");
        }
        repo.publish();
    }
    let mut updater = client.good_refresh().await;
    client.assert_trusts("targets", 3);
    let before = client.metadata_files();
    client.server.clear_requests();

    for name in HOSTILE_NAMES {
        let info = updater.trusted().targets("targets").unwrap().signed().targets[name].clone();
        let err = updater.download_target(name, &info).await.unwrap_err();
        let e = core_error(&err);
        assert!(matches!(e.kind, ErrorKind::UnsafePath { .. }), "{name}: {e}");
        assert_eq!(e.role, name);
        assert_mentions(&err, &[name, "unsafe target path"]);

        let err = updater.target_info(name).await.unwrap_err();
        assert!(
            matches!(core_error(&err).kind, ErrorKind::UnsafePath { .. }),
            "{name}: {err}"
        );
    }
    assert_mentions(
        &updater.target_info("../escape").await.unwrap_err(),
        &["'.' or '..' segment"],
    );
    assert_mentions(&updater.target_info("/tmp/escape").await.unwrap_err(), &["absolute"]);

    // Nothing was requested, nothing was written anywhere, metadata is unchanged.
    assert_eq!(client.server.requests(), Vec::<String>::new());
    assert!(client.target_files().is_empty(), "{:?}", client.target_files().keys());
    let mut top: Vec<String> = std::fs::read_dir(client.root_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["metadata", "targets"]);
    assert!(!std::path::Path::new("/tmp/escape").exists());
    assert_eq!(client.metadata_files(), before);
}

#[tokio::test]
async fn path_traversal_in_requested_target_name_is_refused() {
    // A `--target-name ../escape` from the command line: refused before any request,
    // even with a genuine target description in hand.
    let client = Client::start(repo());
    let updater = client.good_refresh().await;
    let before = client.metadata_files();
    let info = updater.trusted().targets("targets").unwrap().signed().targets["file.txt"].clone();
    client.server.clear_requests();

    for name in ["../escape", "a/../../x", "../targets/file.txt"] {
        let mut updater = client.updater();
        let err = updater.target_info(name).await.unwrap_err();
        assert!(matches!(core_error(&err).kind, ErrorKind::UnsafePath { .. }), "{err}");
        assert_mentions(&err, &[name, "unsafe target path"]);

        let err = updater.download_target(name, &info).await.unwrap_err();
        assert!(matches!(core_error(&err).kind, ErrorKind::UnsafePath { .. }), "{err}");
        assert_mentions(&err, &[name, "unsafe target path"]);
    }
    assert_eq!(client.server.requests(), Vec::<String>::new());
    assert!(client.target_files().is_empty());
    assert_eq!(files_in(client.root_dir()).len(), before.len());
    assert_eq!(client.metadata_files(), before);
}

// ----- recovery and the good path ------------------------------------------------------

#[tokio::test]
async fn fast_forward_recovery_after_timestamp_key_rotation() {
    let client = Client::start(repo());
    client.good_refresh().await;

    // A compromised timestamp key fast-forwards the client to timestamp version 1000.
    {
        let mut repo = client.repo();
        repo.set_signed_field("timestamp", "version", json!(1000));
        repo.publish();
    }
    let updater = client.good_refresh().await;
    assert_eq!(updater.trusted().timestamp().unwrap().signed().common.version, 1000);

    // Without a key rotation, the repository's next real timestamp (v4) is a rollback.
    {
        let mut repo = client.repo();
        repo.clear_signed_field("timestamp", "version");
        repo.bump("timestamp");
        repo.publish();
        assert_eq!(repo.version("timestamp"), 4);
    }
    let err = client.failed_refresh().await;
    assert_eq!(
        core_error(&err).kind,
        ErrorKind::Rollback {
            trusted: 1000,
            found: 4
        }
    );

    // The repository rotates the timestamp key (root v2) and signs timestamp v5 with it:
    // the local v1000 no longer verifies, is set aside, and the client recovers.
    {
        let mut repo = client.repo();
        repo.rotate_keys("timestamp", 1, KeyType::EcdsaP256);
        repo.publish();
        assert_eq!(repo.version("root"), 2);
        assert_eq!(repo.version("timestamp"), 5);
    }
    let updater = client.good_refresh().await;
    assert_eq!(updater.trusted().root().signed().common.version, 2);
    assert_eq!(updater.trusted().timestamp().unwrap().signed().common.version, 5);
    client.assert_trusts("root", 2);
    client.assert_trusts("timestamp", 5);
    client.assert_trusts("snapshot", 2);
    client.assert_trusts("targets", 2);
}

/// Fast-forwards the client's snapshot to version 1000 (a compromised snapshot and
/// timestamp key), then has the repository publish its next real snapshot: returns the
/// client, now stuck on a snapshot rollback error.
async fn client_after_snapshot_fast_forward() -> Client {
    let client = Client::start(repo());
    client.good_refresh().await;
    {
        let mut repo = client.repo();
        repo.set_signed_field("snapshot", "version", json!(1000));
        repo.pin_meta_version("snapshot", Some(1000));
        repo.publish();
        let bytes = repo.current_bytes("snapshot");
        repo.set_override("metadata/1000.snapshot.json", Some(bytes));
    }
    let updater = client.good_refresh().await;
    assert_eq!(updater.trusted().snapshot().unwrap().signed().common.version, 1000);
    {
        let mut repo = client.repo();
        repo.clear_overrides();
        repo.clear_signed_field("snapshot", "version");
        repo.pin_meta_version("snapshot", None);
        repo.publish();
        assert_eq!(repo.version("snapshot"), 4);
    }
    let err = client.failed_refresh().await;
    assert_eq!(
        core_error(&err).kind,
        ErrorKind::Rollback {
            trusted: 1000,
            found: 4
        }
    );
    assert_mentions(&err, &["snapshot v4", "rollback"]);
    client
}

#[tokio::test]
async fn fast_forward_recovery_after_snapshot_and_timestamp_key_rotation() {
    let client = client_after_snapshot_fast_forward().await;

    // Root v2 rotates the snapshot and timestamp keys: neither local copy verifies any
    // more, both are set aside, and the new snapshot v5 (named by timestamp v5) is trusted.
    {
        let mut repo = client.repo();
        repo.rotate_keys("snapshot", 1, KeyType::EcdsaP256);
        repo.rotate_keys("timestamp", 1, KeyType::EcdsaP256);
        repo.publish();
        assert_eq!(repo.version("root"), 2);
        assert_eq!(repo.version("snapshot"), 5);
    }
    let updater = client.good_refresh().await;
    assert_eq!(updater.trusted().snapshot().unwrap().signed().common.version, 5);
    client.assert_trusts("root", 2);
    let timestamp_version = client.repo().version("timestamp");
    client.assert_trusts("timestamp", timestamp_version);
    client.assert_trusts("snapshot", 5);
}

#[tokio::test]
async fn fast_forward_recovery_after_snapshot_key_rotation() {
    let client = client_after_snapshot_fast_forward().await;

    // Spec 5.3.11: "If the timestamp and / or snapshot keys have been rotated, then
    // delete the trusted timestamp and snapshot metadata files." Here only the snapshot
    // key rotates; the local timestamp (naming snapshot v1000) must not be used as the
    // rollback reference any more.
    {
        let mut repo = client.repo();
        repo.rotate_keys("snapshot", 1, KeyType::EcdsaP256);
        repo.bump("timestamp");
        repo.publish();
        assert_eq!(repo.version("root"), 2);
        assert_eq!(repo.version("snapshot"), 5);
    }
    let updater = client.good_refresh().await;
    assert_eq!(updater.trusted().snapshot().unwrap().signed().common.version, 5);
    client.assert_trusts("snapshot", 5);
}

#[tokio::test]
async fn freeze_attack_with_expired_root_is_refused() {
    let client = Client::start(repo());
    client.good_refresh().await;
    let before = client.metadata_files();

    // Root v2, properly signed, but already expired.
    {
        let mut repo = client.repo();
        repo.expire("root");
        repo.publish();
        assert_eq!(repo.version("root"), 2);
    }
    let err = client.failed_refresh().await;

    let e = core_error(&err);
    assert!(e.is_expired(), "{e}");
    assert_mentions(&err, &["root v2", "expired at 2029-12-31T00:00:00Z"]);
    // Root v2 is signed by a threshold of the trusted root keys and its own: spec 5.3.8
    // persists it before the expiry of the final root is checked (5.3.10), as python-tuf
    // does. Nothing after it is loaded.
    let mut expected = before;
    expected.insert("root.json".into(), client.repo().root_bytes(2).unwrap());
    assert_eq!(client.metadata_files(), expected);
}

#[tokio::test]
async fn path_traversal_in_delegated_role_name_stays_in_the_metadata_dir() {
    // A delegated role named `../escape`: its metadata is stored as `..%2Fescape.json`
    // inside the metadata directory, never one level up.
    let mut repo = repo();
    repo.add_delegation("targets", DelegatedRoleSpec::new("../escape", &["esc/*"]));
    repo.add_target("../escape", "esc/file.txt", b"delegated");
    repo.publish();
    let client = Client::start(repo);
    let mut updater = client.good_refresh().await;
    let info = updater.target_info("esc/file.txt").await.unwrap();
    let path = updater.download_target("esc/file.txt", &info).await.unwrap();
    assert_eq!(std::fs::read(path).unwrap(), b"delegated");

    let version = client.repo().version("../escape");
    client.assert_trusts("../escape", version);
    assert!(client.metadata_files().contains_key("..%2Fescape.json"));
    let mut top: Vec<String> = std::fs::read_dir(client.root_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["metadata", "targets"]);
}

#[tokio::test]
async fn end_to_end_download_through_delegations_and_hashed_bins() {
    let mut repo = RepoSim::new(base_time());
    repo.add_target("targets", "top.txt", b"top-level target");
    repo.add_delegation("targets", DelegatedRoleSpec::new("team", &["team/*"]));
    repo.add_target("team", "team/app.json", b"{\"delegated\": true}");
    repo.add_delegation("targets", DelegatedRoleSpec::new("binned", &["bins/*"]));
    repo.add_succinct_delegation("binned", 3, "bin");
    let bin = repo.add_target_to_bin("binned", "bins/data.txt", b"in a hashed bin");
    repo.publish();
    let client = Client::start(repo);

    let mut updater = client.good_refresh().await;
    let expected = [
        ("top.txt", &b"top-level target"[..]),
        ("team/app.json", &b"{\"delegated\": true}"[..]),
        ("bins/data.txt", &b"in a hashed bin"[..]),
    ];
    for (name, bytes) in expected {
        let info = updater.target_info(name).await.unwrap();
        assert_eq!(info.length, bytes.len() as u64);
        assert!(!updater.is_cached(name, &info).unwrap());
        let path = updater.download_target(name, &info).await.unwrap();
        assert!(path.starts_with(client.target_dir()), "{}", path.display());
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        assert!(updater.is_cached(name, &info).unwrap());
    }
    for role in [
        "root",
        "timestamp",
        "snapshot",
        "targets",
        "team",
        "binned",
        bin.as_str(),
    ] {
        let version = client.repo().version(role);
        client.assert_trusts(role, version);
    }
    // Stored flat under percent-encoded names, nothing else.
    let stored: Vec<String> = client.target_files().into_keys().collect();
    assert_eq!(stored, ["bins%2Fdata.txt", "team%2Fapp.json", "top.txt"]);

    // A later run with nothing new fetches only the next root probe and the timestamp:
    // everything else is the verified local copy.
    client.server.clear_requests();
    let mut updater = client.good_refresh().await;
    updater.target_info("bins/data.txt").await.unwrap();
    updater.target_info("team/app.json").await.unwrap();
    assert_eq!(
        client.server.requests(),
        ["metadata/2.root.json", "metadata/timestamp.json"]
    );
    let err = updater.target_info("team/missing.txt").await.unwrap_err();
    assert!(matches!(err, UpdateError::TargetNotFound { .. }), "{err}");
    assert_mentions(&err, &["team/missing.txt", "not listed"]);
}
