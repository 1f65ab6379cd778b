//! `ceremony publish` refuses, saying what is missing, and changes nothing: too few
//! signatures for the old or the new root, a staged file edited after signing, a payload
//! that fails validation, an expiry inside the policy's horizon. Each test compares
//! metadata/ and the published tree byte for byte before and after.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;

use ceremony_common::*;

/// metadata/ and the whole publish destination (with its hidden states), hashed.
fn snapshot_of(setup: &Setup) -> (String, Option<String>) {
    let public = setup.repo.join("public");
    (
        tree_hash(&setup.repo.join("metadata")),
        public.exists().then(|| tree_hash(&public)),
    )
}

fn refused(setup: &Setup) -> String {
    let before = snapshot_of(setup);
    // Under --json, one document: the gate's report, as `verify` prints it, with the
    // refusal as its `error`.
    let out = trustroot(&setup.repo, &["ceremony", "publish", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(document["passed"], false, "{document}");
    assert!(
        document["findings"].as_array().is_some_and(|f| !f.is_empty()),
        "{document}"
    );
    let message = document["error"]["message"].as_str().unwrap();
    assert!(message.contains("publish refused"), "{document}");
    // The error object reads as everywhere else: kind, message, hint.
    let text = String::from_utf8_lossy(&out.stdout);
    let error = &text[text.find("\"error\": {").unwrap()..];
    let at = |key: &str| error.find(&format!("\"{key}\":")).unwrap();
    assert!(at("kind") < at("message") && at("message") < at("hint"), "{error}");
    assert_eq!(snapshot_of(setup), before, "a refused publish --json changed files");
    let err = fails(&setup.repo, &["ceremony", "publish"]);
    assert_eq!(snapshot_of(setup), before, "a refused publish changed files:\n{err}");
    assert!(err.contains("publish refused"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    err
}

/// A repository with v1 published (2-of-3) and dave registered for root.
fn published_v1() -> Setup {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    let dave = setup.generate("dave", "ed25519");
    ok(
        &setup.repo,
        &["key", "add", "dave", "--role", "root", "--holder", "@dave", &dave],
    );
    setup
}

#[test]
fn too_few_signatures_for_the_new_root() {
    let setup = published_v1();
    ok(&setup.repo, &["key", "threshold", "root", "3"]);
    // The old root's 2-of-3 is met; the new root's 3-of-4 is not.
    setup.round_now(&["alice", "bob"]);
    let err = refused(&setup);
    assert!(
        err.contains("root v2 has 2 of the 3 signatures required from the signers of root v2"),
        "{err}"
    );
    assert!(err.contains("carol (@carol)") && err.contains("dave (@dave)"), "{err}");
    // Signing completes the round; then it publishes.
    let round = std::fs::read_dir(setup.repo.join("ceremonies")).unwrap().count();
    assert!(round >= 2);
}

#[test]
fn too_few_signatures_for_the_old_root() {
    let setup = published_v1();
    // The new root (2-of-4) is signed by alice and dave; the published root's 2-of-3 only by alice.
    setup.round_now(&["alice", "dave"]);
    let err = refused(&setup);
    assert!(
        err.contains("root v2 has 1 of the 2 signatures required from the signers of root v1 (the published root)"),
        "{err}"
    );
    assert!(err.contains("bob (@bob)") && err.contains("carol (@carol)"), "{err}");
}

#[test]
fn a_staged_file_edited_after_signing() {
    let setup = published_v1();
    std::fs::write(setup.repo.join("targets/extra.txt"), b"extra\n").unwrap();
    let round = setup.round_now(&["alice", "bob", "dave"]);
    let staged = setup.repo.join(format!("ceremonies/{round}/staged/targets.json"));
    let text = std::fs::read_to_string(&staged).unwrap();
    std::fs::write(&staged, text.replace("\"length\": 6", "\"length\": 7")).unwrap();
    let err = refused(&setup);
    assert!(err.contains("targets v2 was edited after the round started"), "{err}");
    assert!(
        err.contains(&format!("ceremonies/{round}/staged/targets.json")),
        "{err}"
    );
}

#[test]
fn a_payload_that_fails_validation() {
    let setup = Setup::for_publish();
    std::fs::write(
        setup.repo.join("targets/trusted_root.json"),
        b"{\"mediaType\": \"application/vnd.dev.sigstore.trustedroot+json;version=0.1\", \"tlogs\": 3}",
    )
    .unwrap();
    // `ceremony start` already refuses it; a coordinator who allows the finding still
    // cannot publish it.
    let err = fails(&setup.repo, &["ceremony", "start"]);
    assert!(err.contains("no round was opened"), "{err}");
    setup.round_allowing_findings(&["alice", "bob"]);
    let err = refused(&setup);
    assert!(err.contains("[payload] targets (targets/trusted_root.json)"), "{err}");
    assert!(!setup.repo.join("public").exists());
    // `ceremony verify` reports the same, and writes nothing either; it refuses nothing,
    // so it does not say so.
    let err = fails(&setup.repo, &["ceremony", "verify"]);
    assert!(err.contains("[payload]"), "{err}");
    assert!(err.contains("verify: the gate found"), "{err}");
    assert!(
        !err.contains("refused") && !err.contains("nothing was written"),
        "{err}"
    );
}

/// A round of targets (40-day expiry) staged `days` ago and signed by a threshold: its
/// refusal at publish today.
fn targets_staged_days_ago(days: i64) -> String {
    let setup = Setup::for_publish();
    let policy = std::fs::read_to_string(setup.repo.join("trustroot.toml")).unwrap();
    let policy = policy.replace(
        "expiry_days = 3650\nsigning_days = 31",
        "expiry_days = 40\nsigning_days = 20",
    );
    std::fs::write(setup.repo.join("trustroot.toml"), policy).unwrap();
    let past = chrono::Utc::now() - chrono::Duration::days(days);
    let past = past.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    ok(&setup.repo, &["ceremony", "start", "--at", &past]);
    let request = setup.tmp.path().join("request.json");
    ok(
        &setup.repo,
        &["ceremony", "request", "--out", request.to_str().unwrap()],
    );
    for holder in ["alice", "bob"] {
        let files = setup.sign_airgapped(holder, &request);
        setup.add(&files);
    }
    refused(&setup)
}

#[test]
fn an_expiry_inside_the_policy_horizon() {
    // Staged 15 days ago: targets expires in 25 days, inside the default 30-day horizon.
    let err = targets_staged_days_ago(15);
    assert!(err.contains("[lint] targets (1.targets.json)"), "{err}");
    assert!(err.contains("inside the policy's horizon of 30 days"), "{err}");
}

#[test]
fn an_expiry_already_past_reads_as_days_ago() {
    // Staged 43 days ago: targets expired 3 days ago.
    let err = targets_staged_days_ago(43);
    assert!(err.contains("targets v1 expired "), "{err}");
    assert!(err.contains(" days ago), inside the policy's horizon"), "{err}");
    assert!(!err.contains("(-"), "a negative count of days: {err}");
}

#[test]
fn a_target_edited_after_signing_is_reported_as_changed_with_both_hashes() {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    // Made longer after signing: not "missing", but changed, with what it is now.
    let target = setup.repo.join("targets/trusted_root.json");
    let mut bytes = std::fs::read(&target).unwrap();
    bytes.extend_from_slice(b"\n");
    std::fs::write(&target, &bytes).unwrap();
    let err = refused(&setup);
    assert!(
        err.contains("targets/trusted_root.json changed since targets v1 was signed (sha256 was "),
        "{err}"
    );
    assert!(
        err.contains(&format!("{} bytes, was {}", bytes.len(), bytes.len() - 1)),
        "{err}"
    );
    assert!(!err.contains("missing"), "{err}");
}

#[test]
fn a_signature_from_a_non_signer_is_left_out_and_the_round_publishes() {
    let setup = Setup::for_publish();
    let round = setup.round_now(&["alice", "bob", "carol"]);
    // A stray signature file from a key that signs nothing in the round.
    let stray = setup
        .round_dir()
        .join("signatures/targets.".to_string() + &"ab".repeat(32) + ".json");
    let sig = serde_json::json!({
        "trustroot_signature": 1, "round": round, "role": "targets", "version": 1,
        "signed_sha256": "cd".repeat(32), "keyid": "ab".repeat(32), "sig": "00"
    });
    std::fs::write(&stray, serde_json::to_vec(&sig).unwrap()).unwrap();
    let out = setup.publish();
    assert!(out.contains("signature left out"), "{out}");
    let targets: serde_json::Value =
        serde_json::from_slice(&std::fs::read(setup.served().join("1.targets.json")).unwrap()).unwrap();
    assert_eq!(targets["signatures"].as_array().unwrap().len(), 3);
    // Publishing the same round again is refused: it was published.
    let before = snapshot_of(&setup);
    let err = fails(&setup.repo, &["ceremony", "publish"]);
    assert!(err.contains(&format!("round {round} was published at ")), "{err}");
    assert!(err.contains("start a new round"), "{err}");
    assert_eq!(snapshot_of(&setup), before);
}

#[test]
fn a_publish_destination_symlinked_into_metadata_is_refused() {
    // `publish.destination = "out/public"`, where `out` is a symlink to the repository's
    // own metadata/: written as a path it is outside; resolved it is not.
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    std::os::unix::fs::symlink(setup.repo.join("metadata"), setup.repo.join("out")).unwrap();
    let policy_path = setup.repo.join("trustroot.toml");
    let policy = std::fs::read_to_string(&policy_path).unwrap();
    std::fs::write(
        &policy_path,
        policy.replace("destination = \"public\"", "destination = \"out/public\""),
    )
    .unwrap();
    let before = tree_hash(&setup.repo.join("metadata"));
    let err = fails(&setup.repo, &["ceremony", "publish"]);
    assert!(err.contains("overlaps the signing repository's metadata/"), "{err}");
    assert_eq!(tree_hash(&setup.repo.join("metadata")), before);
    assert!(!setup.repo.join("metadata/public").exists());
}

/// `--at` rehearses. On the live repository, a date whose timestamp would already be
/// expired by the clock is refused by `online refresh` and `ceremony publish` before
/// anything is signed: one mistyped date must not take every client offline.
#[test]
fn publishing_at_a_past_time_whose_timestamp_is_already_expired_is_refused() {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    let before = snapshot_of(&setup);
    let past = chrono::Utc::now() - chrono::Duration::days(30);
    let past = past.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    for args in [
        vec!["online", "refresh", "--force", "--at", &past],
        vec!["ceremony", "publish", "--at", &past],
    ] {
        let err = fails(&setup.repo, &args);
        assert!(err.contains("already past by the clock"), "{args:?}: {err}");
        assert!(err.contains("nothing was published"), "{args:?}: {err}");
        assert_eq!(snapshot_of(&setup), before, "{args:?} changed files");
    }
}
