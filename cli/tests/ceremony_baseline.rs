//! What a keyholder's signature is judged against: `ceremony sign --root` checks the
//! request's baseline (the published versions its changes are shown against) from a root
//! the keyholder keeps, so a coordinator cannot show a doctored "previous" version.
//! Real keys, real rounds, through the binary.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;

use std::path::{Path, PathBuf};

use ceremony_common::*;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Installs the latest round of `setup` as published (metadata/ and root_history/).
fn install(setup: &Setup) {
    let repo = trustroot_ceremony::repo::Repo::open(&setup.repo).unwrap();
    let round = trustroot_ceremony::round::Round::open(&repo, None).unwrap();
    trustroot_ceremony::round::install_signed_round(&repo, &round).unwrap();
}

/// Signs the latest round from a request with `holders` (each pinning the published
/// root when there is one) and installs it.
fn sign_and_install(setup: &Setup, request_name: &str, holders: &[&str]) {
    let request = setup.request(request_name);
    for holder in holders {
        let files = setup.sign_airgapped(holder, &request);
        setup.add(&files);
        std::fs::remove_dir_all(setup.tmp.path().join(format!("airgap-{holder}"))).unwrap();
    }
    install(setup);
}

/// A repository with root v1 (alice, bob, carol; 2 of 3) published, and root v2 (dave
/// joins) published; returns the setup and the real root v2's bytes.
fn published_v2() -> (Setup, Vec<u8>) {
    let setup = Setup::new();
    setup.start();
    sign_and_install(&setup, "request-1.json", &["alice", "bob"]);
    let dave = setup.generate("dave", "ecdsa-p256");
    ok(
        &setup.repo,
        &["key", "add", "dave", "--role", "root", "--holder", "@dave", &dave],
    );
    let out = setup.start();
    assert!(out.contains("staged root v2"), "{out}");
    sign_and_install(&setup, "request-2.json", &["alice", "bob"]);
    let v2 = std::fs::read(setup.repo.join("metadata/root.json")).unwrap();
    assert_eq!(json(&v2)["signed"]["version"], 2);
    (setup, v2)
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// An air-gapped directory for `holder` with the request, their key, and `root` as their
/// own copy of the published root.
fn airgap_with_root(setup: &Setup, holder: &str, request: &Path, root: &[u8]) -> PathBuf {
    let dir = setup.airgap(holder, request);
    std::fs::write(dir.join("my-root.json"), root).unwrap();
    dir
}

fn signature_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("root.") || n.starts_with("targets."))
        .collect();
    names.sort();
    names
}

fn run(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = trustroot(dir, args);
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const SIGN: [&str; 6] = ["ceremony", "sign", "--request", "request.json", "--key", "key.pem"];

fn sign_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args: Vec<&str> = SIGN.to_vec();
    args.extend_from_slice(extra);
    args.push("--yes");
    args
}

/// The finding, reproduced: the coordinator stages root v3 that adds a key labelled
/// `@carol` (theirs) and lowers the root threshold from 2 to 1, and replaces the
/// "previous" root everywhere they can (the round's previous/, its manifest, the
/// repository's metadata/ and root_history/) with a fake v2 that already has that key and
/// threshold, so the summary shows only `~ expires` and `~ version`. A keyholder pinning
/// the real published root v2 (or v1) is refused before any change is shown, and signs
/// nothing. Honestly made, the same request shows the key and the threshold change.
#[test]
fn a_coordinator_swapping_the_previous_root_in_a_request_is_refused_by_a_keyholder_pinning_the_published_root() {
    let (setup, real_v2) = published_v2();
    let real_v1 = std::fs::read(setup.repo.join("metadata/root_history/1.root.json")).unwrap();

    // The coordinator's change: their own key, labelled as carol, and threshold 1.
    let mallory = setup.generate("mallory", "ecdsa-p256");
    ok(
        &setup.repo,
        &[
            "key", "add", "mallory", "--role", "root", "--holder", "@carol", &mallory,
        ],
    );
    ok(&setup.repo, &["key", "threshold", "root", "1"]);
    let out = setup.start();
    assert!(out.contains("staged root v3"), "{out}");
    let round = setup.repo.join("ceremonies/0003");
    let mallory_id = {
        let staged = json(&std::fs::read(round.join("staged/root.json")).unwrap());
        let ids: Vec<String> = staged["signed"]["roles"]["root"]["keyids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .filter(|id| {
                staged["signed"]["keys"][id]["x-tuf-on-ci-keyowner"] == "@carol"
                    && json(&real_v2)["signed"]["keys"].get(id.as_str()).is_none()
            })
            .collect();
        assert_eq!(ids.len(), 1, "{ids:?}");
        ids[0].clone()
    };

    // Honestly made, the request shows what changes, by key ID, against the verified root.
    let honest = setup.request("honest.json");
    let dir = airgap_with_root(&setup, "alice", &honest, &real_v2);
    let (_, stdout, stderr) = run(&dir, &sign_args(&["--root", "my-root.json"]));
    assert!(
        stdout.contains("Baseline VERIFIED against your root my-root.json (v2)"),
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "+ key {mallory_id} (ecdsa/ecdsa-sha2-nistp256, material sha256:"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("labelled \"@carol\" added"), "{stdout}");
    assert!(stdout.contains("~ root role: threshold 2 -> 1"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();

    // The attack: a fake v2 that is the staged v3 with v2's version and expiry, under the
    // real v2's signatures, put wherever the request's baseline comes from.
    let staged = json(&std::fs::read(round.join("staged/root.json")).unwrap());
    let mut fake_signed = staged["signed"].clone();
    fake_signed["version"] = 2.into();
    fake_signed["expires"] = json(&real_v2)["signed"]["expires"].clone();
    let fake = serde_json::to_vec_pretty(&serde_json::json!({
        "signatures": json(&real_v2)["signatures"].clone(),
        "signed": fake_signed,
    }))
    .unwrap();
    std::fs::write(round.join("previous/root.json"), &fake).unwrap();
    let manifest_path = round.join("round.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    std::fs::write(&manifest_path, manifest.replace(&sha256(&real_v2), &sha256(&fake))).unwrap();
    for file in ["metadata/root.json", "metadata/root_history/2.root.json"] {
        std::fs::write(setup.repo.join(file), &fake).unwrap();
    }
    let forged = setup.request("forged.json");

    // What the keyholders were shown before: only the version and the expiry change.
    let dir = airgap_with_root(&setup, "bob", &forged, &real_v2);
    let (signed, stdout, _) = run(&dir, &sign_args(&["--unverified-baseline"]));
    assert!(signed, "{stdout}");
    assert!(stdout.contains("keys and thresholds: unchanged"), "{stdout}");
    assert!(stdout.contains("Baseline NOT VERIFIED"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();

    // A keyholder pinning the real v2: refused before any change is shown; nothing signed.
    let dir = airgap_with_root(&setup, "alice", &forged, &real_v2);
    let (signed, stdout, stderr) = run(&dir, &sign_args(&["--root", "my-root.json"]));
    assert!(!signed, "{stdout}");
    assert!(
        stderr.contains("the request's root v2 is not your root v2 (my-root.json)"),
        "{stderr}"
    );
    assert!(!stdout.contains("changes against"), "no change may be shown: {stdout}");
    assert!(signature_files(&dir).is_empty(), "{:?}", signature_files(&dir));
    std::fs::remove_dir_all(&dir).unwrap();

    // Pinning the older root v1: the fake v2 does not verify from it.
    let dir = airgap_with_root(&setup, "alice", &forged, &real_v1);
    let (signed, stdout, stderr) = run(&dir, &sign_args(&["--root", "my-root.json"]));
    assert!(!signed, "{stdout}");
    assert!(
        stderr.contains("the request's root v2 does not verify from your root v1 (my-root.json)"),
        "{stderr}"
    );
    assert!(signature_files(&dir).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();

    // Without --root or --unverified-baseline, nothing is signed either.
    let dir = setup.airgap("alice", &forged);
    let (signed, _, stderr) = run(&dir, &sign_args(&[]));
    assert!(!signed);
    assert!(
        stderr.contains("this request stages root v3 after published versions; pass --root FILE"),
        "{stderr}"
    );
    assert!(signature_files(&dir).is_empty());
}

/// A coordinator who swaps only the previous targets (a targets round) is refused too: the
/// previous targets must be signed by the targets keys of the root reached.
#[test]
fn a_coordinator_swapping_the_previous_targets_is_refused_by_a_keyholder_pinning_the_published_root() {
    let setup = Setup::new();
    setup.start();
    sign_and_install(&setup, "request-1.json", &["alice", "bob"]);
    let real_v1 = std::fs::read(setup.repo.join("metadata/root.json")).unwrap();
    std::fs::write(setup.repo.join("targets/extra.txt"), b"extra").unwrap();
    let out = setup.start();
    assert!(
        out.contains("staged targets v2") && !out.contains("staged root"),
        "{out}"
    );
    // A fake targets v1 that already lists extra.txt, under the real signatures.
    let round = setup.repo.join("ceremonies/0002");
    let staged = json(&std::fs::read(round.join("staged/targets.json")).unwrap());
    let real = json(&std::fs::read(setup.repo.join("metadata/targets.json")).unwrap());
    let mut fake_signed = staged["signed"].clone();
    fake_signed["version"] = 1.into();
    fake_signed["expires"] = real["signed"]["expires"].clone();
    let fake = serde_json::to_vec_pretty(&serde_json::json!({"signatures": real["signatures"], "signed": fake_signed}))
        .unwrap();
    let real_bytes = std::fs::read(round.join("previous/targets.json")).unwrap();
    std::fs::write(round.join("previous/targets.json"), &fake).unwrap();
    let manifest_path = round.join("round.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    std::fs::write(&manifest_path, manifest.replace(&sha256(&real_bytes), &sha256(&fake))).unwrap();
    let forged = setup.request("forged.json");
    let dir = airgap_with_root(&setup, "alice", &forged, &real_v1);
    let (signed, stdout, stderr) = run(&dir, &sign_args(&["--root", "my-root.json"]));
    assert!(!signed, "{stdout}");
    assert!(
        stderr.contains("targets v2: the previous targets v1 the request diffs it against is not signed by 2 of the targets keys of root v1"),
        "{stderr}"
    );
    assert!(!stdout.contains("changes against"), "{stdout}");
    assert!(signature_files(&dir).is_empty());
}

/// `--unverified-baseline` signs, after the summary says in plain words that the baseline
/// is the request's own claim, not verified, with the sha256 of the file it carries.
/// Without it (or --root) a request that follows a published root is refused.
#[test]
fn signing_with_an_unverified_baseline_says_it_is_the_requests_claim_with_its_sha256() {
    let setup = Setup::new();
    setup.start();
    sign_and_install(&setup, "request-1.json", &["alice", "bob"]);
    let published = std::fs::read(setup.repo.join("metadata/targets.json")).unwrap();
    std::fs::write(setup.repo.join("targets/extra.txt"), b"extra").unwrap();
    setup.start();
    let request = setup.request("request-2.json");

    let dir = setup.airgap("alice", &request);
    let (signed, _, stderr) = run(&dir, &sign_args(&[]));
    assert!(!signed);
    assert!(
        stderr.contains("round 0002: this request stages targets v2 after published versions; pass --root FILE"),
        "{stderr}"
    );
    assert!(signature_files(&dir).is_empty());

    let (signed, stdout, stderr) = run(&dir, &sign_args(&["--unverified-baseline"]));
    assert!(signed, "{stdout}{stderr}");
    assert!(
        stdout.contains("Baseline NOT VERIFIED (--unverified-baseline): the changes below are against the request's own claim of what is published, not against a root you hold"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "targets v1: sha256 {} of the file the request carries",
            sha256(&published)
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("Reminder: the baseline above is NOT VERIFIED"),
        "{stdout}"
    );
    assert_eq!(signature_files(&dir).len(), 1);

    // --root and --unverified-baseline do not go together.
    let err = fails(&dir, &sign_args(&["--unverified-baseline", "--root", "x.json"]));
    assert!(err.contains("cannot be used with"), "{err}");
}

/// Root v1 of a new repository has no baseline: the summary says so, and --root is
/// refused (there is nothing published to check it against).
#[test]
fn a_new_repository_has_no_baseline_and_root_is_refused_there() {
    let setup = Setup::new();
    setup.start();
    let request = setup.request("request.json");
    let dir = setup.airgap("alice", &request);
    let root_v1_elsewhere = {
        // Any root: a keyholder pinning a root for a request that claims a new repository.
        let other = Setup::new();
        other.start();
        sign_and_install(&other, "request.json", &["alice", "bob"]);
        std::fs::read(other.repo.join("metadata/root.json")).unwrap()
    };
    std::fs::write(dir.join("my-root.json"), root_v1_elsewhere).unwrap();
    let (signed, stdout, stderr) = run(&dir, &sign_args(&["--root", "my-root.json"]));
    assert!(!signed, "{stdout}");
    assert!(
        stderr.contains(
            "the request carries no published root: it stages a new repository, yet your root my-root.json is v1"
        ),
        "{stderr}"
    );
    let (signed, stdout, stderr) = run(&dir, &sign_args(&[]));
    assert!(signed, "{stderr}");
    assert!(
        stdout.contains("Baseline: none. Nothing published precedes this request (a new repository, root v1)"),
        "{stdout}"
    );
    assert!(stdout.contains("keys and thresholds of this new version"), "{stdout}");
}

/// A request made by an older trustroot (format 1) is refused with what to do.
#[test]
fn a_request_in_the_old_format_is_refused_ask_for_a_new_request() {
    let setup = Setup::new();
    setup.start();
    let request = setup.request("request.json");
    let mut value = json(&std::fs::read(&request).unwrap());
    value["trustroot_signing_request"] = 1.into();
    value.as_object_mut().unwrap().remove("published_roots");
    std::fs::write(&request, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    let dir = setup.airgap("alice", &request);
    let (signed, stdout, stderr) = run(&dir, &sign_args(&[]));
    assert!(!signed, "{stdout}");
    assert!(
        stderr.contains("is a signing request in format 1, made by an older trustroot")
            && stderr.contains("ask for a new request"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
    assert!(signature_files(&dir).is_empty());
}

/// Key labels are the stager's text: bidi overrides and zero-width characters are shown
/// escaped (and flagged), next to the key's full ID and material fingerprint.
#[test]
fn key_labels_with_bidi_and_zero_width_characters_are_escaped_and_key_ids_shown() {
    let setup = Setup::new();
    setup.start();
    sign_and_install(&setup, "request-1.json", &["alice", "bob"]);
    let published = std::fs::read(setup.repo.join("metadata/root.json")).unwrap();
    let (bidi, zero_width) = ("\u{202e}lorac@", "car\u{200b}ol");
    for (name, label) in [("mallory", bidi), ("trudy", zero_width)] {
        let public = setup.generate(name, "ed25519");
        ok(
            &setup.repo,
            &["key", "add", name, "--role", "root", "--holder", label, &public],
        );
    }
    setup.start();
    let staged = json(&std::fs::read(setup.repo.join("ceremonies/0002/staged/root.json")).unwrap());
    let request = setup.request("request-2.json");
    let dir = airgap_with_root(&setup, "alice", &request, &published);
    let (signed, stdout, stderr) = run(&dir, &sign_args(&["--root", "my-root.json"]));
    assert!(signed, "{stderr}");
    for c in ['\u{202e}', '\u{200b}'] {
        assert!(!stdout.contains(c), "{c:?} reached the terminal: {stdout}");
    }
    assert!(stdout.contains("labelled \"\\u{202e}lorac@\""), "{stdout}");
    assert!(stdout.contains("labelled \"car\\u{200b}ol\""), "{stdout}");
    assert!(
        stdout.contains("(the label holds hidden or control characters, shown escaped) added"),
        "{stdout}"
    );
    // `ceremony status` names the keyholders with the same escaping.
    let status = ok(&setup.repo, &["ceremony", "status"]);
    for c in ['\u{202e}', '\u{200b}'] {
        assert!(!status.contains(c), "{c:?} reached the terminal: {status}");
    }
    assert!(status.contains("mallory (\\u{202e}lorac@"), "{status}");
    for label in [bidi, zero_width] {
        let keys = staged["signed"]["keys"].as_object().unwrap();
        let (id, _) = keys.iter().find(|(_, k)| k["x-tuf-on-ci-keyowner"] == label).unwrap();
        assert!(
            stdout.contains(&format!("+ key {id} (ed25519/ed25519, material sha256:")),
            "{stdout}"
        );
    }
}

/// Defence in depth: a round whose copy of the published version (previous/) changed
/// since `ceremony start` is refused by every command that opens it.
#[test]
fn a_round_whose_previous_root_was_edited_after_start_is_refused() {
    let setup = Setup::new();
    setup.start();
    sign_and_install(&setup, "request-1.json", &["alice", "bob"]);
    ok(&setup.repo, &["key", "threshold", "root", "3"]);
    setup.start();
    let previous = setup.repo.join("ceremonies/0002/previous/root.json");
    let mut bytes = std::fs::read(&previous).unwrap();
    bytes.extend_from_slice(b"\n");
    std::fs::write(&previous, bytes).unwrap();
    for args in [
        &["ceremony", "status"][..],
        &["ceremony", "request", "--out", "r.json", "--at", AT][..],
        &["ceremony", "sign", "--key", "k.pem", "--unverified-baseline", "--yes"][..],
    ] {
        let err = fails(&setup.repo, args);
        assert!(
            err.contains("ceremonies/0002/previous/root.json: changed since round '0002' started")
                && err.contains("published root v1 the round was staged against; start a new round"),
            "{args:?}: {err}"
        );
    }
}

/// A round that stages a root after a root that is no longer the latest published one is
/// stale: `ceremony request` says so instead of writing a request keyholders would refuse.
#[test]
fn a_request_for_a_round_overtaken_by_a_newer_published_root_is_refused() {
    let setup = Setup::new();
    setup.start();
    sign_and_install(&setup, "request-1.json", &["alice", "bob"]);
    ok(&setup.repo, &["key", "threshold", "root", "3"]);
    let first = ok(&setup.repo, &["ceremony", "start", "--id", "a", "--at", AT]);
    assert!(first.contains("staged root v2"), "{first}");
    let second = ok(&setup.repo, &["ceremony", "start", "--id", "b", "--at", AT]);
    assert!(second.contains("staged root v2"), "{second}");
    sign_and_install(&setup, "request-b.json", &["alice", "bob", "carol"]);
    let out = setup.tmp.path().join("request-a.json");
    let err = fails(
        &setup.repo,
        &[
            "ceremony",
            "request",
            "--round",
            "a",
            "--out",
            out.to_str().unwrap(),
            "--at",
            AT,
        ],
    );
    assert!(
        err.contains("round a: it stages root v2 after root v1, but root v2 is published now; start a new round"),
        "{err}"
    );
    assert!(!out.exists());
}
