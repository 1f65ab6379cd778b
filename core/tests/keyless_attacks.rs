//! Attacks on keyless signatures that need certificates, SCTs, log entries and signed
//! timestamps no real instance would issue: made by a Sigstore-like instance built in the
//! tests (tests/support/src/sigstore_instance.rs). Each test is named after the attack and checks the step
//! that refuses it; the last ones run keyless roots through the TrustedSet.
#![allow(clippy::unwrap_used, clippy::panic)]

// The test-support crate depends on core, so core's tests include its instance by path.
#[path = "../../tests/support/src/sigstore_instance.rs"]
mod sigstore_instance;

use std::sync::Arc;

use sigstore_instance::{ACTIONS, Entry, Instance, Leaf, ONLINE, ONLINE_ID, Sct, Stamp, at, metadata, root_signed};
use trustroot_core::envelope::Signature;
use trustroot_core::keyless::{self, Refusal, SigstoreTrust, Step};
use trustroot_core::keys::KeylessIdentity;
use trustroot_core::{Limits, TrustedSet};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const GOOGLE: &str = "https://accounts.google.com";
const GITHUB: &str = "https://github.com/login/oauth";
const MESSAGE: &[u8] = b"{\"_type\":\"root\",\"version\":1}";

fn now() -> chrono::DateTime<chrono::Utc> {
    at("2026-06-01T00:00:00Z")
}

fn trust(instance: &Instance, ca_end: Option<&str>) -> SigstoreTrust {
    SigstoreTrust::from_json(&serde_json::to_vec(&instance.trusted_root(ca_end)).unwrap()).unwrap()
}

fn check(
    trust: &SigstoreTrust,
    who: (&str, &str),
    signer: &Instance,
    leaf: &Leaf,
    entry: &Entry,
) -> Result<(), Refusal> {
    check_entry(trust, who, signer.signature_entry("k", leaf, MESSAGE, entry))
}

/// Checks a signature entry (`keyid`, `sig`, `bundle`) over `MESSAGE`.
fn check_entry(trust: &SigstoreTrust, who: (&str, &str), e: serde_json::Value) -> Result<(), Refusal> {
    let entry = Signature {
        keyid: "k".into(),
        sig: e["sig"].as_str().unwrap().into(),
        bundle: Some(e["bundle"].clone()),
    };
    let who = KeylessIdentity {
        identity: who.0.into(),
        issuer: who.1.into(),
    };
    keyless::verify(trust, &who, MESSAGE, &entry, now()).map(|_| ())
}

fn refused_at(result: Result<(), Refusal>, step: Step) -> Refusal {
    match result {
        Ok(()) => panic!("verified, but should be refused at the {step} step"),
        Err(r) => {
            assert_eq!(r.step, step, "refused at another step: {r}");
            r
        }
    }
}

/// Alice's signature with the certificate `leaf` describes, made and checked on one
/// instance with the default log entry.
fn alice_with(leaf: Leaf) -> Result<(), Refusal> {
    let i = Instance::new(1, 1);
    check(&trust(&i, None), (ALICE, GOOGLE), &i, &leaf, &Entry::default())
}

#[test]
fn a_test_instance_signature_verifies() {
    let i = Instance::new(1, 1);
    check(
        &trust(&i, None),
        (ALICE, GOOGLE),
        &i,
        &Leaf::new(ALICE, GOOGLE),
        &Entry::default(),
    )
    .unwrap();
    // A URI identity, as a CI workflow's.
    let uri = "https://github.com/o/r/.github/workflows/online-sign.yml@refs/heads/main";
    check(
        &trust(&i, None),
        (uri, GITHUB),
        &i,
        &Leaf::new(uri, GITHUB),
        &Entry::default(),
    )
    .unwrap();
}

#[test]
fn a_certificate_from_a_ca_outside_the_trusted_root_does_not_count() {
    // The attacker's own CA issues a certificate for the right identity; the logs are real.
    let (real, attacker) = (Instance::new(1, 1), Instance::new(50, 1));
    let r = refused_at(
        check(
            &trust(&real, None),
            (ALICE, GOOGLE),
            &attacker,
            &Leaf::new(ALICE, GOOGLE),
            &Entry::default(),
        ),
        Step::Chain,
    );
    assert!(
        r.to_string().contains("no certificate authority of the trusted root"),
        "{r}"
    );
}

#[test]
fn a_certificate_used_outside_its_cas_window_does_not_count() {
    let i = Instance::new(1, 1);
    let r = refused_at(
        check(
            &trust(&i, Some("2025-12-31T23:59:59.999Z")),
            (ALICE, GOOGLE),
            &i,
            &Leaf::new(ALICE, GOOGLE),
            &Entry::default(),
        ),
        Step::CaWindow,
    );
    assert!(r.to_string().contains("whose window is"), "{r}");
}

#[test]
fn a_certificate_expired_at_signing_time_does_not_count() {
    let i = Instance::new(1, 1);
    let late = Entry {
        integrated_time: at("2026-01-01T00:11:00Z"),
        ..Entry::default()
    };
    refused_at(
        check(&trust(&i, None), (ALICE, GOOGLE), &i, &Leaf::new(ALICE, GOOGLE), &late),
        Step::SigningTime,
    );
}

#[test]
fn a_log_entry_before_the_certificate_was_valid_does_not_count() {
    let i = Instance::new(1, 1);
    let early = Entry {
        integrated_time: at("2025-12-31T23:59:00Z"),
        ..Entry::default()
    };
    refused_at(
        check(&trust(&i, None), (ALICE, GOOGLE), &i, &Leaf::new(ALICE, GOOGLE), &early),
        Step::SigningTime,
    );
}

#[test]
fn conflicting_issuer_extensions_are_refused() {
    let leaf = Leaf {
        issuer_v1: Some(GITHUB.into()),
        ..Leaf::new(ALICE, GOOGLE)
    };
    let r = refused_at(alice_with(leaf), Step::Issuer);
    assert!(r.to_string().contains("conflicting OIDC issuer extensions"), "{r}");
}

#[test]
fn the_legacy_issuer_extension_alone_is_read_and_so_is_the_new_one() {
    let legacy = Leaf {
        issuer_v8: None,
        ..Leaf::new(ALICE, GOOGLE)
    };
    alice_with(legacy).unwrap();
    let new = Leaf {
        issuer_v1: None,
        ..Leaf::new(ALICE, GOOGLE)
    };
    alice_with(new).unwrap();
    let none = Leaf {
        issuer_v1: None,
        issuer_v8: None,
        ..Leaf::new(ALICE, GOOGLE)
    };
    refused_at(alice_with(none), Step::Issuer);
}

#[test]
fn the_right_identity_from_another_issuer_does_not_count() {
    let i = Instance::new(1, 1);
    refused_at(
        check(
            &trust(&i, None),
            (ALICE, GOOGLE),
            &i,
            &Leaf::new(ALICE, GITHUB),
            &Entry::default(),
        ),
        Step::Issuer,
    );
}

#[test]
fn a_certificate_for_another_identity_does_not_count() {
    let i = Instance::new(1, 1);
    // Exact comparison: no case folding either.
    for other in [BOB, "Alice@example.com", "alice@example.com.evil"] {
        refused_at(
            check(
                &trust(&i, None),
                (ALICE, GOOGLE),
                &i,
                &Leaf::new(other, GOOGLE),
                &Entry::default(),
            ),
            Step::Identity,
        );
    }
}

#[test]
fn a_leaf_that_is_a_ca_or_lacks_code_signing_does_not_count() {
    let ca = Leaf {
        is_ca: true,
        ..Leaf::new(ALICE, GOOGLE)
    };
    refused_at(alice_with(ca), Step::Chain);
    let server = Leaf {
        code_signing: false,
        ..Leaf::new(ALICE, GOOGLE)
    };
    refused_at(alice_with(server), Step::Chain);
}

#[test]
fn a_certificate_without_an_sct_does_not_count() {
    let leaf = Leaf {
        sct: Sct::None,
        ..Leaf::new(ALICE, GOOGLE)
    };
    refused_at(alice_with(leaf), Step::Sct);
}

#[test]
fn an_sct_over_another_certificate_does_not_count() {
    let leaf = Leaf {
        sct: Sct::OverAnotherCertificate,
        ..Leaf::new(ALICE, GOOGLE)
    };
    refused_at(alice_with(leaf), Step::Sct);
}

#[test]
fn a_forged_sct_does_not_count() {
    // The attacker's CT log key under the real CT log's ID: its SCT does not verify.
    let (real, attacker) = (Instance::new(1, 1), Instance::new(1, 60));
    let mut root = real.trusted_root(None);
    root["tlogs"] = attacker.trusted_root(None)["tlogs"].clone();
    let forged_ct_id = attacker.trusted_root(None)["ctlogs"][0]["logId"].clone();
    root["ctlogs"][0]["logId"] = forged_ct_id;
    let trust = SigstoreTrust::from_json(&serde_json::to_vec(&root).unwrap()).unwrap();
    let r = refused_at(
        check(
            &trust,
            (ALICE, GOOGLE),
            &attacker,
            &Leaf::new(ALICE, GOOGLE),
            &Entry::default(),
        ),
        Step::Sct,
    );
    assert!(r.to_string().contains("does not verify"), "{r}");
}

#[test]
fn a_forged_inclusion_promise_does_not_count() {
    // The attacker's log key under the real log's ID.
    let (real, attacker) = (Instance::new(1, 1), Instance::new(1, 70));
    let mut root = real.trusted_root(None);
    root["tlogs"][0]["logId"] = attacker.trusted_root(None)["tlogs"][0]["logId"].clone();
    let trust = SigstoreTrust::from_json(&serde_json::to_vec(&root).unwrap()).unwrap();
    refused_at(
        check(
            &trust,
            (ALICE, GOOGLE),
            &attacker,
            &Leaf::new(ALICE, GOOGLE),
            &Entry::default(),
        ),
        Step::InclusionPromise,
    );
}

// ---- RFC 3161 signed timestamps of the instance's TSA ----

/// Alice's signature on one instance with the time sources `entry` describes, checked
/// against `trusted_root` (the instance's, maybe changed).
fn alice_timed(signer: &Instance, trusted_root: serde_json::Value, entry: &Entry) -> Result<(), Refusal> {
    let trust = SigstoreTrust::from_json(&serde_json::to_vec(&trusted_root).unwrap()).unwrap();
    check(&trust, (ALICE, GOOGLE), signer, &Leaf::new(ALICE, GOOGLE), entry)
}

#[test]
fn a_signed_timestamp_is_a_signing_time_without_an_inclusion_promise() {
    let i = Instance::new(1, 1);
    // The TSA's time alone (the entry has a proof, no promise), then both sources.
    alice_timed(
        &i,
        i.trusted_root(None),
        &Entry::timestamped(at("2026-01-01T00:02:00Z")),
    )
    .unwrap();
    let both = Entry {
        timestamp: Some(Stamp::at(at("2026-01-01T00:02:00Z"))),
        ..Entry::default()
    };
    alice_timed(&i, i.trusted_root(None), &both).unwrap();
}

#[test]
fn an_integrated_time_without_an_inclusion_promise_is_no_signing_time() {
    // Nothing signed the entry's integratedTime: it cannot stand for a signing time.
    let i = Instance::new(1, 1);
    let unpromised = Entry {
        promise: false,
        ..Entry::default()
    };
    let r = refused_at(alice_timed(&i, i.trusted_root(None), &unpromised), Step::SigningTime);
    assert!(r.to_string().contains("no verified signing time"), "{r}");
}

#[test]
fn a_timestamp_from_a_tsa_outside_the_trusted_root_does_not_count() {
    // The attacker's own TSA stamps a real signature, its certificate embedded in the token
    // (never trusted: only the trusted root's TSAs are); the CA and the logs are real.
    let (real, attacker) = (Instance::new(1, 1), Instance::new(1, 1).with_tsa_seed(80));
    let r = refused_at(
        alice_timed(
            &attacker,
            real.trusted_root(None),
            &Entry::timestamped(at("2026-01-01T00:02:00Z")),
        ),
        Step::Timestamp,
    );
    assert!(
        r.to_string()
            .contains("no timestamp authority of the trusted root signed the timestamp"),
        "{r}"
    );
}

#[test]
fn a_forged_timestamp_signature_does_not_count_even_beside_a_good_log_time() {
    // Signed with another key under the real TSA's name. The log's promise is good, but a
    // bundle's every time source must verify.
    let i = Instance::new(1, 1);
    let forged = Entry {
        timestamp: Some(Stamp {
            forged: true,
            ..Stamp::at(at("2026-01-01T00:02:00Z"))
        }),
        ..Entry::default()
    };
    let r = refused_at(alice_timed(&i, i.trusted_root(None), &forged), Step::Timestamp);
    assert!(r.to_string().contains("does not verify"), "{r}");
}

#[test]
fn a_timestamp_over_another_signature_does_not_count() {
    let i = Instance::new(1, 1);
    let other = Entry {
        timestamp: Some(Stamp {
            over_another_signature: true,
            ..Stamp::at(at("2026-01-01T00:02:00Z"))
        }),
        promise: false,
        ..Entry::default()
    };
    let r = refused_at(alice_timed(&i, i.trusted_root(None), &other), Step::Timestamp);
    assert!(r.to_string().contains("the timestamp is over another signature"), "{r}");
}

#[test]
fn a_timestamp_before_the_certificate_was_valid_does_not_count() {
    let i = Instance::new(1, 1);
    let early = Entry::timestamped(at("2025-12-31T23:59:00Z"));
    let r = refused_at(alice_timed(&i, i.trusted_root(None), &early), Step::SigningTime);
    assert!(r.to_string().contains("signed timestamp's time"), "{r}");
}

#[test]
fn a_timestamp_after_the_certificate_expired_does_not_count() {
    let i = Instance::new(1, 1);
    let late = Entry::timestamped(at("2026-01-01T00:11:00Z"));
    let r = refused_at(alice_timed(&i, i.trusted_root(None), &late), Step::SigningTime);
    assert!(r.to_string().contains("outside the certificate's validity"), "{r}");
}

#[test]
fn a_timestamp_outside_the_tsas_window_in_the_trusted_root_does_not_count() {
    // The trusted root retired the TSA before the timestamp's time.
    let i = Instance::new(1, 1);
    let mut root = i.trusted_root(None);
    root["timestampAuthorities"][0]["validFor"]["end"] = "2025-12-31T23:59:59Z".into();
    let r = refused_at(
        alice_timed(&i, root, &Entry::timestamped(at("2026-01-01T00:02:00Z"))),
        Step::Timestamp,
    );
    assert!(
        r.to_string().contains("outside the window of https://tsa.test.local"),
        "{r}"
    );
}

#[test]
fn a_timestamp_outside_the_tsa_certificates_validity_does_not_count() {
    // The TSA's certificates end in 2030: a later stamp is not vouched for (and would be in
    // the future anyway, which is checked after).
    let i = Instance::new(1, 1);
    let r = refused_at(
        alice_timed(
            &i,
            i.trusted_root(None),
            &Entry::timestamped(at("2030-06-01T00:00:00Z")),
        ),
        Step::Timestamp,
    );
    assert!(r.to_string().contains("is not valid at the timestamp's time"), "{r}");
}

/// RFC 3161 2.3: a TSA's certificate has one key purpose, timeStamping, in a critical
/// extension. A certificate the trusted root lists that is also for code signing, or whose
/// extension is not critical, vouches for no time.
#[test]
fn a_tsa_certificate_not_only_for_timestamping_does_not_count() {
    const TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
    const CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
    for (purposes, critical) in [
        (&[TIME_STAMPING, CODE_SIGNING][..], true),
        (&[TIME_STAMPING][..], false),
    ] {
        let i = Instance::new(1, 1).with_tsa_purposes(purposes, critical);
        let r = refused_at(
            alice_timed(
                &i,
                i.trusted_root(None),
                &Entry::timestamped(at("2026-01-01T00:02:00Z")),
            ),
            Step::Timestamp,
        );
        assert!(
            r.to_string().contains("not for timestamping only"),
            "{purposes:?} {critical}: {r}"
        );
    }
}

#[test]
fn a_timestamp_without_a_log_entry_is_refused_as_sigstore_clients_do() {
    // Core, like sigstore-python, requires the transparency-log entry: a signed timestamp
    // is a time source, not a substitute for the log.
    let i = Instance::new(1, 1);
    let mut e = i.signature_entry(
        "k",
        &Leaf::new(ALICE, GOOGLE),
        MESSAGE,
        &Entry::timestamped(at("2026-01-01T00:02:00Z")),
    );
    e["bundle"]["verificationMaterial"]["tlogEntries"] = serde_json::json!([]);
    let r = refused_at(check_entry(&trust(&i, None), (ALICE, GOOGLE), e), Step::Bundle);
    assert!(r.to_string().contains("0 transparency-log entries"), "{r}");
}

#[test]
fn too_many_or_duplicate_timestamps_are_refused() {
    let i = Instance::new(1, 1);
    let e = i.signature_entry(
        "k",
        &Leaf::new(ALICE, GOOGLE),
        MESSAGE,
        &Entry::timestamped(at("2026-01-01T00:02:00Z")),
    );
    let stamps = "/bundle/verificationMaterial/timestampVerificationData/rfc3161Timestamps";
    let one = e.pointer(stamps).unwrap()[0].clone();
    for (copies, why) in [
        (2, "the same signed timestamp twice"),
        (33, "more than 32 signed timestamps"),
    ] {
        let mut e = e.clone();
        *e.pointer_mut(stamps).unwrap() = serde_json::Value::Array(vec![one.clone(); copies]);
        let r = refused_at(check_entry(&trust(&i, None), (ALICE, GOOGLE), e), Step::Bundle);
        assert!(r.to_string().contains(why), "{r}");
    }
}

// ---- keyless roots through the TrustedSet ----

fn keyless_set(i: &Instance, root: &[u8]) -> trustroot_core::Result<TrustedSet> {
    TrustedSet::with_keyless(root, now(), Limits::default(), Some(Arc::new(trust(i, None))))
}

#[test]
fn a_keyless_root_rotates_to_a_new_identity_through_the_trusted_set() {
    let i = Instance::new(1, 1);
    let v1 = root_signed(1, &[("k1", ALICE)], GOOGLE, 1);
    let v1_bytes = metadata(&v1, i.sign(&v1, &[("k1", ALICE, GOOGLE)]));
    // v2 adds bob; root threshold 2: signed by alice (v1's threshold) and by both (its own).
    let v2 = root_signed(2, &[("k1", ALICE), ("k2", BOB)], GOOGLE, 2);
    let v2_bytes = metadata(&v2, i.sign(&v2, &[("k1", ALICE, GOOGLE), ("k2", BOB, GOOGLE)]));
    let mut set = keyless_set(&i, &v1_bytes).unwrap();
    set.update_root(&v2_bytes).unwrap();
    assert_eq!(set.root().signed().common.version, 2);
    // The online workflow's keyless key signs timestamp and snapshot, a keyholder targets.
    let online = [(ONLINE_ID, ONLINE, ACTIONS)];
    let timestamp = sigstore_instance::role_signed("timestamp", 1, Some(("snapshot.json", 1)));
    set.update_timestamp(&metadata(&timestamp, i.sign(&timestamp, &online)))
        .unwrap();
    // A keyholder's identity cannot stand in for the online workflow's.
    let forged = sigstore_instance::role_signed("timestamp", 2, Some(("snapshot.json", 1)));
    let e = set
        .update_timestamp(&metadata(&forged, i.sign(&forged, &[(ONLINE_ID, ALICE, GOOGLE)])))
        .unwrap_err()
        .to_string();
    assert!(e.contains("keyless signature refused: identity:"), "{e}");
    let snapshot = sigstore_instance::role_signed("snapshot", 1, Some(("targets.json", 1)));
    set.update_snapshot(&metadata(&snapshot, i.sign(&snapshot, &online)), false)
        .unwrap();
    let targets = sigstore_instance::role_signed("targets", 1, None);
    set.update_targets(&metadata(&targets, i.sign(&targets, &[("k2", BOB, GOOGLE)])))
        .unwrap();
}

#[test]
fn a_keyless_root_without_trust_material_is_refused_naming_why() {
    let i = Instance::new(1, 1);
    let v1 = root_signed(1, &[("k1", ALICE)], GOOGLE, 1);
    let e = TrustedSet::new(
        &metadata(&v1, i.sign(&v1, &[("k1", ALICE, GOOGLE)])),
        now(),
        Limits::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("keyless key: no Sigstore trusted root was given"), "{e}");
}

#[test]
fn a_bundle_copied_from_another_metadata_version_does_not_count() {
    let i = Instance::new(1, 1);
    let v1 = root_signed(1, &[("k1", ALICE)], GOOGLE, 1);
    let v1_sigs = i.sign(&v1, &[("k1", ALICE, GOOGLE)]);
    let v1_bytes = metadata(&v1, v1_sigs.clone());
    // v2 carries alice's signature of v1: the bundle is real, for other bytes.
    let v2 = root_signed(2, &[("k1", ALICE)], GOOGLE, 1);
    let mut set = keyless_set(&i, &v1_bytes).unwrap();
    let e = set.update_root(&metadata(&v2, v1_sigs)).unwrap_err().to_string();
    assert!(e.contains("key k1: keyless signature refused: signed bytes:"), "{e}");
}

#[test]
fn two_signatures_from_one_identity_count_once() {
    let i = Instance::new(1, 1);
    // Alice under two key IDs (as a tuf-on-ci key-ID rotation leaves her) cannot meet a
    // root threshold of 2 alone.
    let v1 = root_signed(1, &[("k1", ALICE), ("k2", ALICE)], GOOGLE, 2);
    let e = keyless_set(
        &i,
        &metadata(&v1, i.sign(&v1, &[("k1", ALICE, GOOGLE), ("k2", ALICE, GOOGLE)])),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("key k2: same key material as another signer, counted once"),
        "{e}"
    );
}

#[test]
fn a_signature_by_another_identity_in_a_keyless_root_is_named_in_the_error() {
    let i = Instance::new(1, 1);
    let v1 = root_signed(1, &[("k1", ALICE)], GOOGLE, 1);
    let e = keyless_set(&i, &metadata(&v1, i.sign(&v1, &[("k1", BOB, GOOGLE)])))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("key k1: keyless signature refused: identity: the certificate is not for alice@example.com"),
        "{e}"
    );
}
