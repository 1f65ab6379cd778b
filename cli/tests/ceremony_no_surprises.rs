//! Issue 17, items 2, 6 and 7: a round checks its Sigstore payloads before anyone signs;
//! a rotation round names who left and who joined; a published round says so.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;

use ceremony_common::*;

/// Sigstore's trusted_root.json with one date that is no date (month 13).
fn broken_trusted_root() -> Vec<u8> {
    let text = String::from_utf8(sigstore_trusted_root()).unwrap();
    assert!(text.contains("2021-01-12T11:53:27Z"));
    text.replacen("2021-01-12T11:53:27Z", "2021-13-12T11:53:27Z", 1)
        .into_bytes()
}

fn json_of(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn a_broken_trusted_root_refuses_start_unless_allowed_and_every_keyholder_is_shown_the_finding() {
    let setup = Setup::new();
    std::fs::write(setup.repo.join("targets/trusted_root.json"), broken_trusted_root()).unwrap();

    // Refused: the finding is printed, no round is opened, exit 1.
    let out = trustroot(&setup.repo, &["ceremony", "start", "--at", AT]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("error [payload] targets (targets/trusted_root.json): bad-timestamp"),
        "{stdout}"
    );
    assert!(stderr.contains("no round was opened"), "{stderr}");
    assert!(stderr.contains("--allow-findings"), "{stderr}");
    assert!(!setup.round_dir().exists());

    // The same under --json: the result object with the error in it.
    let out = trustroot(&setup.repo, &["ceremony", "start", "--json", "--at", AT]);
    assert_eq!(out.status.code(), Some(1));
    let result = json_of(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(result["action"], "refused");
    assert_eq!(result["findings"][0]["check"], "payload");
    assert_eq!(result["findings"][0]["severity"], "error");
    assert_eq!(result["error"]["kind"], "local-state", "{result}");
    assert!(!setup.round_dir().exists());

    // Allowed: the round opens, and the finding goes with it.
    let started = ok(&setup.repo, &["ceremony", "start", "--allow-findings", "--at", AT]);
    assert!(started.contains("bad-timestamp"), "{started}");
    assert!(started.contains("Started round 0001"), "{started}");
    let path = setup.tmp.path().join("request.json");
    let made = ok(
        &setup.repo,
        &["ceremony", "request", "--out", path.to_str().unwrap(), "--at", AT],
    );
    assert!(made.contains("bad-timestamp"), "{made}");
    let request = json_of(&std::fs::read_to_string(&path).unwrap());
    let targets = request["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "targets")
        .unwrap();
    assert!(
        targets["findings"][0].as_str().unwrap().contains("bad-timestamp"),
        "{targets}"
    );

    // The keyholder sees it before typing yes.
    let dir = setup.airgap("alice", &path);
    let signed = ok(
        &dir,
        &[
            "ceremony",
            "sign",
            "--request",
            "request.json",
            "--key",
            "key.pem",
            "--yes",
        ],
    );
    assert!(signed.contains("what the payload rules and lints found"), "{signed}");
    assert!(signed.contains("bad-timestamp"), "{signed}");

    // The findings are covered by the request digest: dropping them is tampering.
    let mut altered = request.clone();
    for role in altered["roles"].as_array_mut().unwrap() {
        role.as_object_mut().unwrap().remove("findings");
    }
    std::fs::write(dir.join("request.json"), serde_json::to_vec_pretty(&altered).unwrap()).unwrap();
    let refused = fails(
        &dir,
        &[
            "ceremony",
            "sign",
            "--request",
            "request.json",
            "--key",
            "key.pem",
            "--yes",
        ],
    );
    assert!(refused.contains("request_sha256 does not match"), "{refused}");
}

#[test]
fn a_valid_payload_starts_a_round_whose_request_carries_no_findings() {
    let setup = Setup::new();
    let started = setup.start();
    assert!(!started.contains("error ["), "{started}");
    let path = setup.request("request.json");
    let request = json_of(&std::fs::read_to_string(&path).unwrap());
    for role in request["roles"].as_array().unwrap() {
        assert!(role.get("findings").is_none(), "{role}");
    }
}

#[test]
fn start_due_opens_no_round_with_errors_prints_the_findings_and_exits_1() {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    std::fs::write(setup.repo.join("targets/trusted_root.json"), broken_trusted_root()).unwrap();
    // Root and targets (3650 days, renewed in their last 31) are inside their signing
    // period then, and targets lists the payload.
    let later = (chrono::Utc::now() + chrono::Duration::days(3630))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let out = trustroot(&setup.repo, &["ceremony", "start", "--due", "--at", &later]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("bad-timestamp"), "{stdout}");
    assert!(!setup.repo.join("ceremonies/0002").exists());
    let out = trustroot(&setup.repo, &["ceremony", "start", "--due", "--json", "--at", &later]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&String::from_utf8_lossy(&out.stdout))["action"], "refused");
    // --allow-findings is for a person, never for the scheduler.
    fails(
        &setup.repo,
        &["ceremony", "start", "--due", "--allow-findings", "--at", &later],
    );
    assert!(!setup.repo.join("ceremonies/0002").exists());
}

/// The key ID of the key labelled `holder` in `signed`'s key list.
fn keyid_of(signed: &serde_json::Value, holder: &str) -> String {
    signed["keys"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, k)| k["x-tuf-on-ci-keyowner"] == holder)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no key of {holder}"))
}

#[test]
fn a_rotation_round_names_who_left_and_who_joined_by_name_holder_and_short_key_id() {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    let dave = setup.generate("dave", "ed25519");
    for role in ["root", "targets"] {
        ok(
            &setup.repo,
            &["key", "add", "dave", "--role", role, "--holder", "@dave", &dave],
        );
    }
    ok(&setup.repo, &["key", "remove", "carol"]);
    let started = ok(&setup.repo, &["ceremony", "start"]);
    let published = json_of(&std::fs::read_to_string(setup.repo.join("metadata/root.json")).unwrap());
    let staged = json_of(&std::fs::read_to_string(setup.repo.join("ceremonies/0002/staged/root.json")).unwrap());
    // carol is no longer in the policy: her holder, as the published root labels her key.
    let carol = format!("@carol ({})", &keyid_of(&published["signed"], "@carol")[..16]);
    let dave = format!("dave (@dave, {})", &keyid_of(&staged["signed"], "@dave")[..16]);
    let root = started.lines().find(|l| l.contains("staged root")).unwrap();
    assert!(
        root.contains(&format!(
            "root role from 2 of 3 key(s) to 2 of 3 key(s); left: {carol}; joined: {dave}"
        )),
        "{root}"
    );
    let targets = started.lines().find(|l| l.contains("staged targets")).unwrap();
    assert!(
        targets.contains(&format!(
            "its signers or threshold change (from 2 of 3 key(s) to 2 of 3 key(s); left: {carol}; joined: {dave})"
        )),
        "{targets}"
    );
}

#[test]
fn a_published_round_is_named_published_with_its_time_by_status_request_sign_verify_publish_and_add_signature() {
    let setup = Setup::for_publish();
    let round = setup.round_now(&["alice", "bob"]);
    setup.publish();
    let transcript = std::fs::read_to_string(setup.repo.join(format!("ceremonies/{round}/transcript.jsonl"))).unwrap();
    let at = transcript
        .lines()
        .map(json_of)
        .find(|e| e["action"] == "publish")
        .unwrap()["at"]
        .as_str()
        .unwrap()
        .to_string();
    let said = format!("round {round} was published at {at}");

    let status = ok(&setup.repo, &["ceremony", "status"]);
    assert!(
        status.contains(&format!("Round {round} was published at {at}")),
        "{status}"
    );
    assert!(!status.contains("every threshold is met"), "{status}");
    assert_eq!(setup.status_json()["published_at"], at.as_str());

    let request = setup.tmp.path().join("again.json");
    let refused = fails(
        &setup.repo,
        &["ceremony", "request", "--out", request.to_str().unwrap()],
    );
    assert!(refused.contains(&said), "{refused}");
    assert!(!request.exists());

    let alice = setup.key("alice");
    let refused = fails(&setup.repo, &["ceremony", "sign", "--key", &alice, "--yes"]);
    assert!(refused.contains(&said), "{refused}");
    for command in ["verify", "publish"] {
        let refused = fails(&setup.repo, &["ceremony", command]);
        assert!(refused.contains(&said), "{command}: {refused}");
        assert!(!refused.contains("now holds"), "{command}: {refused}");
    }
    let out = trustroot(&setup.repo, &["ceremony", "publish", "--json"]);
    let error = json_of(&String::from_utf8_lossy(&out.stdout));
    assert!(error["error"]["message"].as_str().unwrap().contains(&said), "{error}");
    // A signature that arrives late is refused too, and nothing is stored.
    let signatures = setup.repo.join(format!("ceremonies/{round}/signatures"));
    let stored = std::fs::read_dir(&signatures).unwrap().count();
    let late = std::fs::read_dir(&signatures).unwrap().next().unwrap().unwrap().path();
    let copy = setup.tmp.path().join("late.json");
    std::fs::copy(&late, &copy).unwrap();
    let refused = fails(&setup.repo, &["ceremony", "add-signature", copy.to_str().unwrap()]);
    assert!(refused.contains(&said), "{refused}");
    assert_eq!(std::fs::read_dir(&signatures).unwrap().count(), stored);
}

/// Re-signs `metadata/targets.json` after `edit` with `holders`' keys, and writes the same
/// bytes over the served copy, so the repository stays consistent (as if that version had
/// been published with those fields by another tool).
fn republish_targets_edited(setup: &Setup, holders: &[&str], edit: impl FnOnce(&mut serde_json::Value)) {
    use trustroot_ceremony::keys::KeyRef;
    let path = setup.repo.join("metadata/targets.json");
    let mut envelope: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut envelope["signed"]);
    let canonical = trustroot_core::canonical::to_canonical_bytes(&envelope["signed"]).unwrap();
    // Each holder signs under the key ID root lists for their key (with its holder label).
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(setup.repo.join("metadata/root.json")).unwrap()).unwrap();
    let mut signatures = Vec::new();
    for holder in holders {
        let signer = KeyRef::File(setup.key(holder).into())
            .load(&mut || unreachable!("the test keys have no passphrase"))
            .unwrap();
        let public = serde_json::to_value(signer.public_key()).unwrap()["keyval"]["public"].clone();
        let (keyid, _) = root["signed"]["keys"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(_, key)| key["keyval"]["public"] == public)
            .unwrap();
        signatures.push(serde_json::json!({"keyid": keyid, "sig": hex::encode(signer.sign(&canonical).unwrap())}));
    }
    envelope["signatures"] = serde_json::Value::Array(signatures);
    let bytes = trustroot_ceremony::repo::to_metadata_json(&envelope);
    let version = envelope["signed"]["version"].as_u64().unwrap();
    std::fs::write(&path, &bytes).unwrap();
    std::fs::write(setup.served().join(format!("{version}.targets.json")), &bytes).unwrap();
}

#[test]
fn a_targets_role_keeps_its_unknown_and_custom_fields_byte_for_byte_through_a_round() {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    let custom = serde_json::json!({"sigstore": {"usage": "TrustedRoot", "status": "Active", "uri": "a\"b\\c"}});
    republish_targets_edited(&setup, &["alice", "bob"], |signed| {
        signed["x-unknown-top"] = serde_json::json!({"b": [1, "two", null], "a": {"nested": true}});
        let entry = &mut signed["targets"]["trusted_root.json"];
        entry["custom"] = custom.clone();
        entry["hashes"]["sha512"] = serde_json::json!("ab".repeat(64));
        entry["x-entry-field"] = serde_json::json!([3, 2, 1]);
    });
    let before: serde_json::Value =
        serde_json::from_slice(&std::fs::read(setup.repo.join("metadata/targets.json")).unwrap()).unwrap();

    std::fs::write(setup.repo.join("targets/added.txt"), b"a new target\n").unwrap();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    let after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(setup.repo.join("metadata/targets.json")).unwrap()).unwrap();

    let (mut old, mut new) = (before["signed"].clone(), after["signed"].clone());
    assert_eq!(new["version"].as_u64(), Some(old["version"].as_u64().unwrap() + 1));
    let added = new["targets"].as_object_mut().unwrap().remove("added.txt").unwrap();
    assert_eq!(added["length"], 13);
    for signed in [&mut old, &mut new] {
        let fields = signed.as_object_mut().unwrap();
        fields.remove("version");
        fields.remove("expires");
    }
    // Everything else, the unknown top-level field and the entry's custom, other hash and
    // unknown field included, is what was published, to the byte of its canonical form.
    let canonical =
        |v: &serde_json::Value| String::from_utf8(trustroot_core::canonical::to_canonical_bytes(v).unwrap());
    assert_eq!(canonical(&new).unwrap(), canonical(&old).unwrap());
    assert_eq!(new["targets"]["trusted_root.json"]["custom"], custom);
}
