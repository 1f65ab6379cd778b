//! A whole round with three keyholders (2-of-3 root and targets), each signing alone on
//! an "air-gapped" directory holding only the request and their key.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;

use ceremony_common::*;

#[test]
fn three_keyholders_sign_from_request_files_and_status_moves_0_1_2() {
    let setup = Setup::new();
    let started = setup.start();
    assert!(started.contains("staged root v1"), "{started}");
    assert!(started.contains("staged targets v1"), "{started}");
    let request = setup.request("request.json");

    let status = setup.status_json();
    assert_eq!(status["complete"], false);
    assert_eq!(counts(&status), vec![("root".into(), 0, 2), ("targets".into(), 0, 2)]);
    let text = ok(&setup.repo, &["ceremony", "status"]);
    assert!(text.contains("0/2 valid signatures from signers of root v1"), "{text}");
    assert!(text.contains("not signed yet: alice (@alice"), "{text}");

    let alice = setup.sign_airgapped("alice", &request);
    assert_eq!(alice.len(), 2, "one signature file per role: {alice:?}");
    setup.add(&alice);
    let status = setup.status_json();
    assert_eq!(counts(&status), vec![("root".into(), 1, 2), ("targets".into(), 1, 2)]);
    let root = &status["roles"][0]["thresholds"][0];
    assert_eq!(root["signed"][0]["name"], "alice");
    let missing: Vec<&str> = root["not_signed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["bob", "carol"]);
    let text = ok(&setup.repo, &["ceremony", "status"]);
    assert!(
        text.contains("1/2 valid signatures from signers of root v1 (not met)"),
        "{text}"
    );
    assert!(text.contains("signed:         alice (@alice"), "{text}");

    let carol = setup.sign_airgapped("carol", &request);
    setup.add(&carol);
    let status = setup.status_json();
    assert_eq!(counts(&status), vec![("root".into(), 2, 2), ("targets".into(), 2, 2)]);
    assert_eq!(status["complete"], true);
    let text = ok(&setup.repo, &["ceremony", "status"]);
    assert!(
        text.contains("2/2 valid signatures from signers of root v1 (met)"),
        "{text}"
    );
    assert!(text.contains("every threshold is met"), "{text}");

    // The transcript has every step: staging, the request, each signature.
    let transcript = std::fs::read_to_string(setup.round_dir().join("transcript.jsonl")).unwrap();
    let actions: Vec<String> = transcript
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        actions,
        [
            "stage",
            "stage",
            "request",
            "add-signature",
            "add-signature",
            "add-signature",
            "add-signature"
        ]
    );
    for line in transcript.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            trustroot_core::time::parse(entry["at"].as_str().unwrap()).is_some(),
            "{line}"
        );
        if entry["action"] == "add-signature" {
            assert_eq!(entry["keyid"].as_str().unwrap().len(), 64, "{line}");
            assert_eq!(entry["signed_sha256"].as_str().unwrap().len(), 64, "{line}");
        }
    }
}

#[test]
fn staged_metadata_has_computed_versions_periods_and_python_tuf_shape() {
    let setup = Setup::new();
    setup.start();
    let root = std::fs::read_to_string(setup.round_dir().join("staged/root.json")).unwrap();
    assert!(
        root.starts_with("{\n \"signatures\": [],\n \"signed\": {\n  \"_type\": \"root\""),
        "{root}"
    );
    let root: serde_json::Value = serde_json::from_str(&root).unwrap();
    let signed = &root["signed"];
    assert_eq!(signed["version"], 1);
    assert_eq!(signed["expires"], "2030-07-17T00:00:00Z"); // 197 days
    assert_eq!(signed["consistent_snapshot"], true);
    assert_eq!(signed["spec_version"], "1.0.31");
    assert_eq!(signed["x-tuf-on-ci-expiry-period"], 197);
    assert_eq!(signed["x-tuf-on-ci-signing-period"], 46);
    assert_eq!(signed["roles"]["timestamp"]["x-tuf-on-ci-expiry-period"], 7);
    assert_eq!(signed["roles"]["root"]["threshold"], 2);
    // Key IDs are the hash of the whole key object, keyowner included.
    for (id, key) in signed["keys"].as_object().unwrap() {
        let key: trustroot_core::Key = serde_json::from_value(key.clone()).unwrap();
        assert_eq!(&key.computed_key_id(), id);
    }
    let targets: serde_json::Value =
        serde_json::from_slice(&std::fs::read(setup.round_dir().join("staged/targets.json")).unwrap()).unwrap();
    assert_eq!(
        targets["signed"]["targets"]["trusted_root.json"]["length"],
        sigstore_trusted_root().len()
    );
}

#[test]
fn a_second_round_stages_only_what_changed_with_both_root_thresholds() {
    let setup = Setup::new();
    setup.start();
    let request = setup.request("request.json");
    for holder in ["alice", "bob"] {
        let files = setup.sign_airgapped(holder, &request);
        setup.add(&files);
    }
    let repo = trustroot_ceremony::repo::Repo::open(&setup.repo).unwrap();
    let round = trustroot_ceremony::round::Round::open(&repo, None).unwrap();
    trustroot_ceremony::round::install_signed_round(&repo, &round).unwrap();
    assert!(setup.repo.join("metadata/root_history/1.root.json").exists());

    // Nothing changed: nothing to stage.
    let out = ok(&setup.repo, &["ceremony", "start", "--at", AT]);
    assert!(out.contains("Nothing to stage"), "{out}");

    // A target file added: only targets is staged, as v2.
    std::fs::write(setup.repo.join("targets/extra.txt"), b"x").unwrap();
    let out = ok(&setup.repo, &["ceremony", "start", "--at", AT]);
    assert!(
        out.contains("staged targets v2") && !out.contains("staged root"),
        "{out}"
    );

    // Root threshold changed: root v2 needs both the new and the published root's thresholds.
    let policy = std::fs::read_to_string(setup.repo.join("trustroot.toml")).unwrap();
    std::fs::write(
        setup.repo.join("trustroot.toml"),
        policy.replacen(
            "threshold = 2\nexpiry_days = 197",
            "threshold = 3\nexpiry_days = 197",
            1,
        ),
    )
    .unwrap();
    let out = ok(&setup.repo, &["ceremony", "start", "--at", AT]);
    assert!(out.contains("staged root v2"), "{out}");
    let status = setup.status_json();
    assert_eq!(status["round"], "0003");
    let thresholds: Vec<String> = status["roles"][0]["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("{} {}/{}", t["of"].as_str().unwrap(), t["valid"], t["required"]))
        .collect();
    assert_eq!(thresholds, ["root v2 0/3", "root v1 (the published root) 0/2"]);
    let request = setup.request("request2.json");
    let text = std::fs::read_to_string(&request).unwrap();
    assert!(text.contains("~ roles.root.threshold: 2 -> 3"), "{text}");
}
