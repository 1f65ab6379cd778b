//! Tests of `policy`, kept beside it so that the module itself stays short.

#![allow(clippy::unwrap_used)]
use super::*;

const BASE: &str = r#"
[keys.alice]
public = "keys/alice.pub"
holder = "@alice"
[keys.bob]
public = "keys/bob.pub"

[roles.root]
keys = ["alice", "bob"]
threshold = 2

[roles.targets]
keys = ["alice"]
threshold = 1
expiry_days = 365

[online]
signer = "env:ONLINE"
public = "keys/online.pub"

[publish]
destination = "public"
"#;

#[test]
fn parses_with_sigstore_defaults() {
    let policy = Policy::parse(BASE).unwrap();
    assert_eq!(
        policy.periods("root"),
        Periods {
            expiry_days: 197,
            signing_days: 46
        }
    );
    assert_eq!(
        policy.periods("targets"),
        Periods {
            expiry_days: 365,
            signing_days: 182
        }
    );
    assert_eq!(
        policy.periods("snapshot"),
        Periods {
            expiry_days: 3650,
            signing_days: 365
        }
    );
    assert_eq!(
        policy.periods("timestamp"),
        Periods {
            expiry_days: 7,
            signing_days: 6
        }
    );
}

fn error_of(text: &str) -> String {
    Policy::parse(text).unwrap_err().to_string()
}

#[test]
fn errors_name_the_field() {
    let e = error_of(&BASE.replace("threshold = 2", "threshold = 3"));
    assert!(e.contains("roles.root.threshold"), "{e}");
    let e = error_of(&BASE.replace("threshold = 2", "threshold = 0"));
    assert!(e.contains("roles.root.threshold"), "{e}");
    let e = error_of(&BASE.replace("keys = [\"alice\"]", "keys = [\"mallory\"]"));
    assert!(e.contains("roles.targets.keys") && e.contains("mallory"), "{e}");
    let e = error_of(&BASE.replace("expiry_days = 365", "expiry_days = 365\nsigning_days = 400"));
    assert!(e.contains("roles.targets.signing_days"), "{e}");
    let e = error_of(&BASE.replace("holder = \"@alice\"", "holdr = \"@alice\""));
    assert!(e.contains("holdr"), "{e}");
    let e = error_of(&BASE.replace("signer = \"env:ONLINE\"", "signer = \"env:\""));
    assert!(e.contains("online.signer"), "{e}");
    let e = error_of(&BASE.replace("keys/bob.pub", "../bob.pub"));
    assert!(e.contains("keys.bob.public"), "{e}");
    let e = error_of(&format!(
        "{BASE}\n[delegations.targets]\nthreshold = 1\npaths = [\"x/*\"]\n"
    ));
    assert!(e.contains("delegations.targets"), "{e}");
    let e = error_of(&format!("{BASE}\n[delegations.npm]\nthreshold = 1\npaths = []\n"));
    assert!(e.contains("delegations.npm.paths"), "{e}");
    let e = error_of(&BASE.replace("[publish]\ndestination = \"public\"", ""));
    assert!(e.contains("publish"), "{e}");
}

/// `BASE` with alice's attestation recorded and `[attestation]` requiring `required_for`.
fn with_attestation(required_for: &str) -> String {
    let alice = r#"[keys.alice.attestation]
serial = 13078778
firmware = "5.2.6"
form_factor = "USB-C keychain"
slot = "9c"
pin_policy = "always"
touch_policy = "always"
root = "Yubico PIV Root CA Serial 263751"
key_cert = "keys/alice.attestation-key.pem"
device_cert = "keys/alice.attestation-device.pem"
[keys.bob]"#;
    format!(
        "{}\n[attestation]\nrequired_for = {required_for}\n",
        BASE.replacen("[keys.bob]", alice, 1)
    )
}

#[test]
fn a_recorded_attestation_parses_and_old_policies_are_unchanged() {
    assert!(Policy::parse(BASE).unwrap().keys["alice"].attestation.is_none());
    let policy = Policy::parse(&with_attestation("[\"targets\"]")).unwrap();
    let recorded = policy.keys["alice"].attestation.as_ref().unwrap();
    assert_eq!(recorded.serial, Some(13078778));
    assert_eq!(recorded.slot, "9c");
    assert!(policy.attestation.required("targets"));
    assert!(!policy.attestation.required("root"));
    // targets' one key is attested; root's bob is not, and root is not required.
    policy.check_complete().unwrap();
}

#[test]
fn required_for_refuses_staging_a_role_with_an_unattested_key() {
    let policy = Policy::parse(&with_attestation("[\"root\"]")).unwrap();
    let err = policy.check_complete().unwrap_err().to_string();
    assert!(err.contains("keys.bob.attestation: is missing"), "{err}");
}

#[test]
fn required_for_names_roles_keyholders_sign_and_records_take_no_unknown_field() {
    let err = error_of(&with_attestation("[\"snapshot\"]"));
    assert!(
        err.contains("attestation.required_for: 'snapshot' is not root, targets"),
        "{err}"
    );
    let err = error_of(&with_attestation("[\"root\"]").replace("slot = \"9c\"", "slot = \"9c\"\nmodel = \"5C\""));
    assert!(err.contains("model"), "{err}");
}

#[test]
fn a_record_without_evidence_is_refused_only_for_a_role_that_requires_attestation() {
    // What the version before evidence was kept wrote: the facts alone.
    let without = |required_for: &str| {
        with_attestation(required_for)
            .replace("key_cert = \"keys/alice.attestation-key.pem\"\n", "")
            .replace("device_cert = \"keys/alice.attestation-device.pem\"\n", "")
    };
    let policy = Policy::parse(&without("[]")).unwrap();
    assert!(!policy.keys["alice"].attestation.as_ref().unwrap().has_evidence());
    policy.check_complete().unwrap();
    let err = Policy::parse(&without("[\"targets\"]"))
        .unwrap()
        .check_complete()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("keys.alice.attestation: records no evidence files"),
        "{text}"
    );
    assert!(text.contains("register the key again"), "{text}");
    assert!(err.hint().is_some());
}

#[test]
fn evidence_paths_go_together_and_stay_inside_the_repository() {
    let half = with_attestation("[]").replace("device_cert = \"keys/alice.attestation-device.pem\"\n", "");
    let err = error_of(&half);
    assert!(
        err.contains("keys.alice.attestation: names one evidence file without the other"),
        "{err}"
    );
    let outside = with_attestation("[]").replace("\"keys/alice.attestation-key.pem\"", "\"../alice.pem\"");
    let err = error_of(&outside);
    assert!(err.contains("keys.alice.attestation.key_cert"), "{err}");
}

#[test]
fn gate_accept_names_are_checked_and_an_unknown_name_is_a_policy_error_naming_gate_accept() {
    let accepting = |names: &str| format!("{BASE}\n[gate]\naccept = [{names}]\n");
    let policy = Policy::parse(&accepting("\"tough-root-history\", \"key-id-not-hash\"")).unwrap();
    assert!(policy.gate.accepts("tough-root-history"));
    assert!(policy.gate.accepts("key-id-not-hash"));
    assert!(!policy.gate.accepts("tough-key-type"));
    // The P-384 finding's old name accepts the finding that replaced it.
    let policy = Policy::parse(&accepting("\"tough-skipped-p384\"")).unwrap();
    assert!(policy.gate.accepts("tough-key-type"));
    let e = error_of(&accepting("\"tough-everything\""));
    assert!(e.contains("gate.accept") && e.contains("tough-everything"), "{e}");
    assert!(e.contains("tough-root-history"), "the known names are listed: {e}");
    // Policies without the new tables still load, and say nothing is accepted.
    assert!(Policy::parse(BASE).unwrap().gate.accept.is_empty());
}

#[test]
fn an_import_table_records_where_the_repository_came_from_and_is_checked() {
    let import = |fields: &str| format!("{BASE}\n[import]\n{fields}\n");
    let good = "source = \"../root-signing\"\nroot_version = 15\nat = \"2026-08-22T00:00:00Z\"";
    let policy = Policy::parse(&import(good)).unwrap();
    let recorded = policy.import.as_ref().unwrap();
    assert_eq!(recorded.root_version, 15);
    assert!(!recorded.metadata_only);
    let policy = Policy::parse(&import(&format!("{good}\nmetadata_only = true"))).unwrap();
    assert!(policy.import.unwrap().metadata_only);
    let e = error_of(&import(&good.replace("root_version = 15", "root_version = 0")));
    assert!(e.contains("import.root_version"), "{e}");
    let e = error_of(&import(&good.replace("2026-08-22T00:00:00Z", "yesterday")));
    assert!(e.contains("import.at") && e.contains("yesterday"), "{e}");
    let e = error_of(&import(&good.replace("../root-signing", "")));
    assert!(e.contains("import.source"), "{e}");
    let e = error_of(&import(&format!("{good}\nrevision = \"abc\"")));
    assert!(e.contains("revision"), "{e}");
}

#[test]
fn a_key_marked_online_keeps_its_reference_as_written_and_a_foreign_uri_is_refused() {
    let online = |reference: &str| BASE.replace("holder = \"@alice\"", &format!("online = \"{reference}\""));
    let azure =
        "azurekms://npm-tuf-delegate.vault.azure.net/keys/npm-tuf-delegate-2024-08/e2772c1d01ca400da571096889f1660e";
    let policy = Policy::parse(&online(azure)).unwrap();
    assert_eq!(policy.keys["alice"].online.as_deref(), Some(azure));
    for refused in ["file2:online-test-key", "file:/etc/passwd"] {
        let e = error_of(&online(refused));
        assert!(e.contains("keys.alice.online"), "{refused}: {e}");
    }
    // The online signer may be a reference trustroot keeps but cannot sign with.
    let gcp =
        "gcpkms:projects/sigstore-root-signing/locations/global/keyRings/root/cryptoKeys/timestamp/cryptoKeyVersions/1";
    let policy = Policy::parse(&BASE.replace("env:ONLINE", gcp)).unwrap();
    assert_eq!(policy.online.signer, gcp);
    // And so may tuf-on-ci's keyless online key, kept as written.
    let policy = Policy::parse(&BASE.replace("env:ONLINE", "sigstore:")).unwrap();
    assert_eq!(policy.online.signer, "sigstore:");
}
