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
