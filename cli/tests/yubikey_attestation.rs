//! `key add --attestation --attestation-intermediate` with the real YubiKey attestations
//! Sigstore published for its root keyholders (valid 2016-03-14 to 2052-04-17, so the
//! real clock is inside them), and the refusals: a pair swapped between two keyholders, an
//! attestation of another key, and `[attestation] required_for` without one. A refusal
//! leaves trustroot.toml and keys/ byte for byte as they were.
//!
//! The evidence kept in the repository is verified again at `ceremony start`: the attacks
//! on it (a forged record, another keyholder's certificates put in place, evidence
//! deleted) are refused there.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;
mod common;

use std::path::{Path, PathBuf};

use ceremony_common::{fails, ok, tree_hash, trustroot};

/// The unpacked fixtures and a new signing repository beside them.
struct Setup {
    _fixtures: tempfile::TempDir,
    attestations: PathBuf,
    tmp: tempfile::TempDir,
    repo: PathBuf,
}

impl Setup {
    fn new() -> Setup {
        let fixtures = common::unpack_fixtures();
        let attestations = fixtures.path().join("sigstore-prod-legacy/yubikey-attestations");
        let tmp = tempfile::tempdir().unwrap();
        ok(tmp.path(), &["init", "repo"]);
        let repo = tmp.path().join("repo");
        Setup {
            _fixtures: fixtures,
            attestations,
            tmp,
            repo,
        }
    }

    /// `<serial>_<what>.pem` of one keyholder.
    fn file(&self, serial: &str, what: &str) -> String {
        self.attestations
            .join(serial)
            .join(format!("{serial}_{what}.pem"))
            .display()
            .to_string()
    }

    /// `key add NAME --role ROLE` of `serial`'s key, with the key and device certificates given.
    fn add_args(&self, name: &str, role: &str, serial: &str, key_cert: &str, device_cert: &str) -> Vec<String> {
        vec![
            "key".into(),
            "add".into(),
            name.into(),
            "--role".into(),
            role.into(),
            self.file(serial, "pubkey"),
            "--attestation".into(),
            self.file(key_cert, "key_cert"),
            "--attestation-intermediate".into(),
            self.file(device_cert, "device_cert"),
        ]
    }

    /// The policy and keys/, hashed: what a refusal must leave unchanged.
    fn state(&self) -> (Vec<u8>, String) {
        (
            std::fs::read(self.repo.join("trustroot.toml")).unwrap(),
            tree_hash(&self.repo.join("keys")),
        )
    }

    fn policy(&self) -> String {
        std::fs::read_to_string(self.repo.join("trustroot.toml")).unwrap()
    }

    fn require(&self, roles: &str) {
        let policy = self.policy();
        std::fs::write(
            self.repo.join("trustroot.toml"),
            format!("{policy}\n[attestation]\nrequired_for = {roles}\n"),
        )
        .unwrap();
    }
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn a_real_sigstore_attestation_is_verified_and_recorded() {
    let s = Setup::new();
    let args = s.add_args("alice", "root", "13078778", "13078778", "13078778");
    let out = ok(&s.repo, &strs(&args));
    assert!(
        out.contains(
            "YubiKey attestation: serial 13078778, fw 5.2.6, USB-C keychain, slot 9c, PIN always, touch always"
        ),
        "{out}"
    );
    let policy = s.policy();
    for line in [
        "key_cert = \"keys/alice.attestation-key.pem\"",
        "device_cert = \"keys/alice.attestation-device.pem\"",
        "[keys.alice.attestation]",
        "serial = 13078778",
        "firmware = \"5.2.6\"",
        "form_factor = \"USB-C keychain\"",
        "slot = \"9c\"",
        "pin_policy = \"always\"",
        "touch_policy = \"always\"",
        "root = \"Yubico PIV Root CA Serial 263751\"",
    ] {
        assert!(policy.contains(line), "{line} missing from:\n{policy}");
    }
    // --json carries the same record.
    let mut args = s.add_args("bob", "root", "18158855", "18158855", "18158855");
    args.push("--json".into());
    let json: serde_json::Value = serde_json::from_str(&ok(&s.repo, &strs(&args))).unwrap();
    assert_eq!(json["attestation"]["serial"], 18158855);
    assert_eq!(json["attestation"]["firmware"], "5.4.3");
    assert_eq!(json["attestation"]["form_factor"], "USB-A keychain");
    assert_eq!(json["attestation"]["key_cert"], "keys/bob.attestation-key.pem");
    // The certificates are kept exactly as given.
    for (kept, given) in [
        ("keys/alice.attestation-key.pem", s.file("13078778", "key_cert")),
        ("keys/alice.attestation-device.pem", s.file("13078778", "device_cert")),
    ] {
        assert_eq!(std::fs::read(s.repo.join(kept)).unwrap(), std::fs::read(given).unwrap());
    }
}

#[test]
fn a_pair_swapped_between_two_keyholders_is_refused_and_changes_nothing() {
    let s = Setup::new();
    let before = s.state();
    let args = s.add_args("alice", "root", "13078778", "13078778", "14470876");
    let out = trustroot(&s.repo, &strs(&args));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("13078778_key_cert.pem: signature does not verify"),
        "{err}"
    );
    assert_eq!(s.state(), before);
    assert!(!s.repo.join("keys/alice.pub").exists());
}

#[test]
fn an_attestation_of_another_key_is_refused_and_changes_nothing() {
    let s = Setup::new();
    let before = s.state();
    let args = s.add_args("alice", "root", "13078778", "15938765", "15938765");
    let err = fails(&s.repo, &strs(&args));
    assert!(err.contains("15938765_key_cert.pem: attests another key"), "{err}");
    assert_eq!(s.state(), before);
}

#[test]
fn required_for_refuses_an_unattested_root_key_and_changes_nothing() {
    let s = Setup::new();
    s.require("[\"root\"]");
    let before = s.state();
    let pubkey = s.file("13078778", "pubkey");
    let out = trustroot(&s.repo, &["key", "add", "alice", "--role", "root", &pubkey]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("root requires a verified YubiKey attestation"), "{err}");
    assert_eq!(s.state(), before);
    // Targets is not required: the same key registers there without one.
    ok(&s.repo, &["key", "add", "alice", "--role", "targets", &pubkey]);
    // And with its attestation, root takes it (the attestation is added to the key).
    ok(
        &s.repo,
        &strs(&s.add_args("alice", "root", "13078778", "13078778", "13078778")),
    );
    assert!(s.policy().contains("[keys.alice.attestation]"));
}

#[test]
fn ceremony_start_refuses_a_required_role_with_an_unattested_key() {
    let s = Setup::new();
    ok(
        &s.repo,
        &strs(&s.add_args("alice", "root", "13078778", "13078778", "13078778")),
    );
    ok(
        &s.repo,
        &strs(&s.add_args("alice", "targets", "13078778", "13078778", "13078778")),
    );
    let bob = s.file("14470876", "pubkey");
    ok(&s.repo, &["key", "add", "bob", "--role", "targets", &bob]);
    add_online_key(s.tmp.path(), &s.repo);
    s.require("[\"root\", \"targets\"]");
    let err = fails(&s.repo, &["ceremony", "start"]);
    assert!(err.contains("keys.bob.attestation: is missing"), "{err}");
    assert!(!s.repo.join("ceremonies").join("0001").exists());
    // Requiring root alone, the same policy stages, and status shows alice's YubiKey.
    let policy = s
        .policy()
        .replace("required_for = [\"root\", \"targets\"]", "required_for = [\"root\"]");
    std::fs::write(s.repo.join("trustroot.toml"), policy).unwrap();
    ok(&s.repo, &["ceremony", "start"]);
    let status = ok(&s.repo, &["ceremony", "status"]);
    assert!(
        status.contains("YubiKey of alice: serial 13078778, fw 5.2.6, USB-C keychain, slot 9c"),
        "{status}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(&s.repo, &["ceremony", "status", "--json"])).unwrap();
    assert!(json.to_string().contains("\"serial\":13078778"), "{json}");
    // The signing request carries it (digest-covered), and `ceremony sign` shows it.
    let request = s.tmp.path().join("request.json");
    ok(&s.repo, &["ceremony", "request", "--out", request.to_str().unwrap()]);
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&request).unwrap()).unwrap();
    let signer = &value["roles"][0]["requirements"][0]["signers"][0];
    assert_eq!(signer["attestation"]["serial"], 13078778, "{signer}");
    // Where the coordinator keeps the evidence is not the signing machine's business.
    assert!(signer["attestation"].get("key_cert").is_none(), "{signer}");
    let out = trustroot(
        s.tmp.path(),
        &[
            "ceremony",
            "sign",
            "--request",
            request.to_str().unwrap(),
            "--key",
            "online.pem",
        ],
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("YubiKey serial 13078778, fw 5.2.6, USB-C keychain, slot 9c, PIN always, touch always (as the coordinator's policy records it)"),
        "{shown}"
    );
}

#[test]
fn required_for_names_only_roles_keyholders_sign() {
    let s = Setup::new();
    s.require("[\"timestamp\"]");
    let pubkey = s.file("13078778", "pubkey");
    let err = fails(&s.repo, &["key", "add", "alice", "--role", "root", &pubkey]);
    assert!(err.contains("attestation.required_for"), "{err}");
}

/// Generates the online key outside the repository and registers it.
fn add_online_key(dir: &Path, repo: &Path) {
    let online = dir.join("online.pem");
    ok(
        dir,
        &[
            "key",
            "generate",
            "--type",
            "ecdsa-p256",
            "--out",
            online.to_str().unwrap(),
        ],
    );
    ok(
        repo,
        &[
            "key",
            "add",
            "online",
            "--role",
            "online",
            &format!("{}.pub", online.display()),
        ],
    );
}

#[test]
fn an_attestation_is_added_to_a_hand_written_inline_key_entry() {
    let s = Setup::new();
    std::fs::copy(s.file("13078778", "pubkey"), s.repo.join("keys/alice.pub")).unwrap();
    let policy = s
        .policy()
        .replacen("[keys]\n", "[keys]\nalice = { public = \"keys/alice.pub\" }\n", 1)
        .replacen("[roles.root]\nkeys = []", "[roles.root]\nkeys = [\"alice\"]", 1);
    std::fs::write(s.repo.join("trustroot.toml"), policy).unwrap();
    ok(
        &s.repo,
        &strs(&s.add_args("alice", "root", "13078778", "13078778", "13078778")),
    );
    let policy = s.policy();
    assert!(
        policy.contains("attestation = { serial = 13078778, firmware = \"5.2.6\""),
        "{policy}"
    );
    assert!(
        policy.contains(
            "key_cert = \"keys/alice.attestation-key.pem\", device_cert = \"keys/alice.attestation-device.pem\" }"
        ),
        "{policy}"
    );
    // The inline record's evidence verifies again: the round stages.
    ok(
        &s.repo,
        &strs(&s.add_args("alice", "targets", "13078778", "13078778", "13078778")),
    );
    add_online_key(s.tmp.path(), &s.repo);
    s.require("[\"root\"]");
    ok(&s.repo, &["ceremony", "start"]);
    assert!(s.repo.join("ceremonies").join("0001").exists());
}

/// A repository ready to stage: alice (serial 13078778) signs root and targets with her
/// attestation kept, the online key is registered, and root requires attestation.
fn ready() -> Setup {
    let s = Setup::new();
    for role in ["root", "targets"] {
        ok(
            &s.repo,
            &strs(&s.add_args("alice", role, "13078778", "13078778", "13078778")),
        );
    }
    add_online_key(s.tmp.path(), &s.repo);
    s.require("[\"root\"]");
    s
}

/// `ceremony start` refuses, with a message containing `expected`, and stages nothing.
fn start_refuses(s: &Setup, expected: &str) -> String {
    let err = fails(&s.repo, &["ceremony", "start"]);
    assert!(err.contains(expected), "{err}");
    assert!(!s.repo.join("ceremonies").join("0001").exists());
    err
}

#[test]
fn the_kept_evidence_verifies_again_and_the_round_stages() {
    let s = ready();
    ok(&s.repo, &["ceremony", "start"]);
    let status = ok(&s.repo, &["ceremony", "status"]);
    assert!(
        status.contains("YubiKey of alice: serial 13078778, fw 5.2.6, USB-C keychain, slot 9c"),
        "{status}"
    );
    assert!(!status.contains("WARNING"), "{status}");
}

#[test]
fn a_hand_forged_record_with_an_edited_serial_is_refused_at_ceremony_start() {
    let s = ready();
    let forged = s.policy().replace("serial = 13078778", "serial = 99999999");
    std::fs::write(s.repo.join("trustroot.toml"), forged).unwrap();
    let err = start_refuses(
        &s,
        "keys.alice.attestation: records serial '99999999', but its evidence attests '13078778'",
    );
    assert!(err.contains("the record was edited or the evidence replaced"), "{err}");
}

#[test]
fn a_hand_forged_record_without_evidence_is_refused_where_attestation_is_required() {
    let s = Setup::new();
    let pubkey = s.file("13078778", "pubkey");
    ok(&s.repo, &["key", "add", "alice", "--role", "root", &pubkey]);
    ok(&s.repo, &["key", "add", "alice", "--role", "targets", &pubkey]);
    add_online_key(s.tmp.path(), &s.repo);
    // What anyone who can edit the policy can write, and what the previous version wrote.
    let forged = s.policy().replacen(
        "public = \"keys/alice.pub\"\n",
        "public = \"keys/alice.pub\"\n\n[keys.alice.attestation]\nserial = 13078778\nfirmware = \"5.2.6\"\nslot = \"9c\"\nroot = \"Yubico PIV Root CA Serial 263751\"\n",
        1,
    );
    std::fs::write(s.repo.join("trustroot.toml"), forged).unwrap();
    s.require("[\"root\"]");
    let err = start_refuses(&s, "keys.alice.attestation: records no evidence files");
    assert!(err.contains("register the key again"), "{err}");
    assert!(err.contains("--attestation"), "the hint names the flag: {err}");
    // Where no role requires attestation, such a record is accepted (and status says it
    // was not checked).
    let policy = s.policy().replace("required_for = [\"root\"]", "required_for = []");
    std::fs::write(s.repo.join("trustroot.toml"), policy).unwrap();
    ok(&s.repo, &["ceremony", "start"]);
    let status = ok(&s.repo, &["ceremony", "status"]);
    assert!(status.contains("recorded without evidence"), "{status}");
}

#[test]
fn an_evidence_file_replaced_by_another_keyholders_certificate_is_refused() {
    let s = ready();
    // bob's key certificate and device certificate: a good chain, for another key.
    std::fs::copy(
        s.file("14470876", "key_cert"),
        s.repo.join("keys/alice.attestation-key.pem"),
    )
    .unwrap();
    std::fs::copy(
        s.file("14470876", "device_cert"),
        s.repo.join("keys/alice.attestation-device.pem"),
    )
    .unwrap();
    start_refuses(
        &s,
        "keys.alice.attestation: its evidence does not verify: keys/alice.attestation-key.pem: attests another key",
    );
    // Only the key certificate replaced: it is not signed by alice's device.
    std::fs::copy(
        s.file("13078778", "device_cert"),
        s.repo.join("keys/alice.attestation-device.pem"),
    )
    .unwrap();
    start_refuses(&s, "keys.alice.attestation: its evidence does not verify");
}

#[test]
fn a_record_whose_evidence_was_deleted_is_refused() {
    let s = ready();
    std::fs::remove_file(s.repo.join("keys/alice.attestation-key.pem")).unwrap();
    start_refuses(&s, "keys.alice.attestation: its evidence cannot be read");
    // Registering the key again with its attestation puts the evidence back.
    ok(
        &s.repo,
        &strs(&s.add_args("alice", "root", "13078778", "13078778", "13078778")),
    );
    ok(&s.repo, &["ceremony", "start"]);
}

#[test]
fn evidence_replaced_after_a_round_started_is_reported_by_status() {
    let s = ready();
    ok(&s.repo, &["ceremony", "start"]);
    let forged = s
        .policy()
        .replace("touch_policy = \"always\"", "touch_policy = \"cached\"");
    std::fs::write(s.repo.join("trustroot.toml"), forged).unwrap();
    let status = ok(&s.repo, &["ceremony", "status"]);
    assert!(
        status.contains("WARNING: the YubiKey attestation of alice does not verify: trustroot.toml: keys.alice.attestation: records touch_policy 'cached'"),
        "{status}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(&s.repo, &["ceremony", "status", "--json"])).unwrap();
    assert!(json.to_string().contains("\"attestation_problem\""), "{json}");
    // The signing request does not show the keyholder a YubiKey nothing backs.
    let request = s.tmp.path().join("request.json");
    ok(&s.repo, &["ceremony", "request", "--out", request.to_str().unwrap()]);
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&request).unwrap()).unwrap();
    assert!(!value.to_string().contains("\"attestation\""), "{value}");
}

#[test]
fn registering_again_replaces_the_kept_evidence() {
    let s = ready();
    std::fs::write(s.repo.join("keys/alice.attestation-device.pem"), b"not a certificate").unwrap();
    ok(
        &s.repo,
        &strs(&s.add_args("alice", "root", "13078778", "13078778", "13078778")),
    );
    assert_eq!(
        std::fs::read(s.repo.join("keys/alice.attestation-device.pem")).unwrap(),
        std::fs::read(s.file("13078778", "device_cert")).unwrap()
    );
    ok(&s.repo, &["ceremony", "start"]);
}

#[test]
fn key_show_in_a_repository_names_the_registration_and_verifies_the_evidence_again() {
    let s = ready();
    let alice = s.file("13078778", "pubkey");
    let out = ok(&s.repo, &["key", "show", &alice]);
    assert!(
        out.contains("policy:  registered as 'alice' for root, targets"),
        "{out}"
    );
    assert!(
        out.contains("YubiKey attestation: serial 13078778, fw 5.2.6, USB-C keychain, slot 9c"),
        "{out}"
    );
    assert!(out.contains("attestation evidence: verified"), "{out}");
    // From elsewhere, --repo names the repository; --json carries the same.
    let repo = s.repo.to_str().unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&ok(s.tmp.path(), &["key", "show", &alice, "--repo", repo, "--json"])).unwrap();
    assert_eq!(json["registered"][0]["name"], "alice");
    assert_eq!(json["registered"][0]["attestation"]["serial"], 13078778);
    assert_eq!(json["registered"][0]["evidence"], "verified");
    // Outside a repository and without --repo, only the key.
    let out = ok(s.tmp.path(), &["key", "show", &alice]);
    assert!(!out.contains("policy:"), "{out}");
    // A key the policy does not register.
    let bob = s.file("18158855", "pubkey");
    let out = ok(&s.repo, &["key", "show", &bob]);
    assert!(
        out.contains("this repository's policy does not register this key"),
        "{out}"
    );
    // Evidence replaced by another keyholder's: shown as not verifying, and nothing changes.
    std::fs::copy(
        s.file("14470876", "key_cert"),
        s.repo.join("keys/alice.attestation-key.pem"),
    )
    .unwrap();
    let before = s.state();
    let out = ok(&s.repo, &["key", "show", &alice]);
    assert!(
        out.contains("attestation evidence: trustroot.toml: keys.alice.attestation: its evidence does not verify"),
        "{out}"
    );
    assert_eq!(s.state(), before);
}

#[test]
fn key_show_in_a_repository_whose_policy_cannot_be_read_still_shows_the_key() {
    let s = Setup::new();
    let alice = s.file("13078778", "pubkey");
    // A new repository: no key registered, the online key not made yet.
    let out = ok(&s.repo, &["key", "show", &alice]);
    assert!(
        out.contains("this repository's policy does not register this key"),
        "{out}"
    );
    // A policy that does not parse: the key is shown, the problem said.
    std::fs::write(s.repo.join("trustroot.toml"), "[roles\n").unwrap();
    let out = ok(&s.repo, &["key", "show", &alice]);
    assert!(out.contains("material sha256:"), "{out}");
    assert!(out.contains("policy:  not looked up: "), "{out}");
    // Named with --repo, the same policy is an error.
    let repo = s.repo.to_str().unwrap();
    fails(s.tmp.path(), &["key", "show", &alice, "--repo", repo]);
}
