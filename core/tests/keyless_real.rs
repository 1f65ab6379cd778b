//! Keyless (`sigstore-oidc` / `Fulcio`) signatures on real data: bundles made by Sigstore's
//! public-good instance (tests/fixtures/keyless, from sigstore-conformance) verify against
//! the production `trusted_root.json` of the fixtures, and every tampered copy is refused
//! at the step that catches it.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};
use trustroot_core::envelope::Signature;
use trustroot_core::keyless::{self, KeylessContext, SigstoreTrust, Step};
use trustroot_core::keys::{Key, KeylessIdentity, PublicKey};
use trustroot_core::verify::{KeyStatus, check_signatures_over};
use trustroot_core::{Envelope, Limits};

use common::at;

/// The identity and issuer every conformance bundle here was signed with (their README).
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The reference time: the fixtures' (every bundle here is from 2023 or 2024).
const NOW: &str = "2026-08-22T00:00:00Z";

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keyless/conformance")
}

/// One file of the Sigstore fixture archive, read once per test binary.
fn archived(path: &str) -> Vec<u8> {
    let archive = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/sigstore-repos.tar.xz");
    let out = Command::new("tar")
        .arg("-xJOf")
        .arg(&archive)
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "could not read {path} from {}", archive.display());
    out.stdout
}

fn prod_trusted_root() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| archived("sigstore-prod/source/targets/trusted_root.json"))
}

fn prod() -> &'static SigstoreTrust {
    static TRUST: OnceLock<SigstoreTrust> = OnceLock::new();
    TRUST.get_or_init(|| SigstoreTrust::from_json(prod_trusted_root()).unwrap())
}

/// The production trusted root, changed by `edit`.
fn prod_edited(edit: impl FnOnce(&mut Value)) -> SigstoreTrust {
    let mut v: Value = serde_json::from_slice(prod_trusted_root()).unwrap();
    edit(&mut v);
    SigstoreTrust::from_json(&serde_json::to_vec(&v).unwrap()).unwrap()
}

fn bundle(case: &str) -> Value {
    serde_json::from_slice(&std::fs::read(cases().join(case).join("bundle.sigstore.json")).unwrap()).unwrap()
}

fn artifact(case: &str) -> Vec<u8> {
    let own = cases().join(case).join("artifact");
    std::fs::read(if own.exists() { own } else { cases().join("a.txt") }).unwrap()
}

/// The signature entry tuf-on-ci would write for `bundle`: `sig` is the bundle's signature.
fn entry(bundle: Value) -> Signature {
    let sig = bundle["messageSignature"]["signature"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Signature {
        keyid: "k".into(),
        sig,
        bundle: Some(bundle),
    }
}

fn who() -> KeylessIdentity {
    KeylessIdentity {
        identity: IDENTITY.into(),
        issuer: ISSUER.into(),
    }
}

fn check_with(
    trust: &SigstoreTrust,
    who: &KeylessIdentity,
    message: &[u8],
    bundle: Value,
) -> Result<(), keyless::Refusal> {
    keyless::verify(trust, who, message, &entry(bundle), at(NOW)).map(|_| ())
}

fn refused_at(result: Result<(), keyless::Refusal>, step: Step) {
    match result {
        Ok(()) => panic!("verified, but should be refused at the {step} step"),
        Err(r) => assert_eq!(r.step, step, "refused at another step: {r}"),
    }
}

#[test]
fn real_bundles_v01_to_v03_verify_against_the_production_trusted_root() {
    for case in [
        "happy-path-v0.1",
        "happy-path-v0.2",
        "happy-path-v0.3",
        "happy-path-v0.3-new-mediaType",
    ] {
        let verified = keyless::verify(prod(), &who(), &artifact(case), &entry(bundle(case)), at(NOW))
            .unwrap_or_else(|r| panic!("{case}: {r}"));
        assert!(verified.signing_time > at("2023-01-01T00:00:00Z"), "{case}");
    }
}

/// The trust material a conformance case is checked against: its own `trusted_root.json`
/// (Rekor v2 and TSA cases, made on staging) or the production one.
fn trust_for(case: &str) -> SigstoreTrust {
    match std::fs::read(cases().join(case).join("trusted_root.json")) {
        Ok(bytes) => SigstoreTrust::from_json(&bytes).unwrap_or_else(|e| panic!("{case}: {e}")),
        Err(_) => prod().clone(),
    }
}

fn check_case(case: &str) -> Result<(), keyless::Refusal> {
    check_with(&trust_for(case), &who(), &artifact(case), bundle(case))
}

#[test]
fn real_rekor_v2_and_timestamped_bundles_verify_against_their_trusted_roots() {
    let mut wrong = Vec::new();
    for case in [
        "rekor2-happy-path",
        "rekor2-timestamp-with-embedded-cert",
        "rekor2-timestamp-without-embedded-cert",
        "rekor2-timestamp-with-expired-cert-chain",
        "rekor2-checkpoint-cosigned",
        "rekor2-checkpoint-multiple-cosigs",
        "rekor2-checkpoint-origin-not-first",
        "rekor2-checkpoint-two-sigs-cosigned",
        "rekor2-checkpoint-two-sigs-from-origin",
        "trust-root-tlog-validity-end-inclusive",
        "trust-root-tsa-validity-end-inclusive",
        "bundle-with-sct-with-extensions",
    ] {
        if let Err(r) = check_case(case) {
            wrong.push(format!("{case}: {r}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn each_conformance_failure_case_is_refused_at_its_step() {
    let table = [
        ("set-invalid-signature_fail", Step::InclusionPromise),
        ("checkpoint-wrong-roothash_fail", Step::Checkpoint),
        ("checkpoint-bad-keyhint_fail", Step::Checkpoint),
        ("invalid-checkpoint-signature_fail", Step::Checkpoint),
        ("inclusion-proof-corrupted-hash_fail", Step::InclusionProof),
        // A v0.2 bundle whose proof has no checkpoint: refused before the proof is read.
        ("invalid-inclusion-proof_fail", Step::Bundle),
        ("incorrect-public-key_fail", Step::LogEntry),
        ("signature-mismatch_fail", Step::Signature),
        ("message-digest-mismatch_fail", Step::SignedBytes),
        ("wrong-hashedrekord-artifact_fail", Step::LogEntry),
        ("wrong-hashedrekord-entry_fail", Step::LogEntry),
        ("wrong-hashedrekord-cert-and-sig_fail", Step::LogEntry),
        ("integrated-time-in-future_fail", Step::SigningTime),
        ("bundle-from-wrong-instance_fail", Step::LogEntry),
        ("invalid-ct-key_fail", Step::Sct),
        ("happy-path-intoto-in-dsse-v3", Step::Bundle),
        ("managed-key-happy-path", Step::Bundle),
        ("rekor2-no-timestamp_fail", Step::SigningTime),
        ("rekor2-no-inclusion-proof_fail", Step::Bundle),
        ("rekor2-checkpoint-missing-log-signature_fail", Step::Checkpoint),
        ("rekor2-checkpoint-missing-origin_fail", Step::Checkpoint),
        ("rekor2-checkpoint-missing-root-hash_fail", Step::Checkpoint),
        ("rekor2-checkpoint-missing-size_fail", Step::Checkpoint),
        ("rekor2-checkpoint-no-matching-signature_fail", Step::Checkpoint),
        ("rekor2-timestamp-outside-trust-root-tsa-validity_fail", Step::Timestamp),
        ("rekor2-timestamp-outside-tsa-cert-validity_fail", Step::Timestamp),
        ("rekor2-timestamp-payload-mismatch_fail", Step::Timestamp),
        (
            "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
            Step::Timestamp,
        ),
        (
            "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
            Step::Timestamp,
        ),
        ("rekor2-timestamp-with-incorrect-time_fail", Step::SigningTime),
    ];
    let mut wrong = Vec::new();
    for (case, step) in table {
        match check_case(case) {
            Ok(()) => wrong.push(format!("{case}: verified")),
            Err(r) if r.step != step => wrong.push(format!("{case}: expected {step}, got {r}")),
            Err(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // The last case's trusted root itself is refused: a log with no start vouches for nothing.
    let bytes = std::fs::read(cases().join("trust-root-tlog-missing-validity-start_fail/trusted_root.json")).unwrap();
    let e = SigstoreTrust::from_json(&bytes).unwrap_err().to_string();
    assert!(e.contains("validFor.start is missing"), "{e}");
}

#[test]
fn a_timestamp_from_an_untrusted_tsa_does_not_count_even_with_its_certificate_embedded() {
    let r = check_case("rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail").unwrap_err();
    assert_eq!(r.step, Step::Timestamp, "{r}");
    assert!(
        r.to_string().contains("no timestamp authority of the trusted root"),
        "{r}"
    );
}

#[test]
fn a_timestamp_over_another_signature_does_not_count() {
    refused_at(check_case("rekor2-timestamp-payload-mismatch_fail"), Step::Timestamp);
}

#[test]
fn a_timestamp_outside_the_certificates_validity_does_not_count() {
    let r = check_case("rekor2-timestamp-with-incorrect-time_fail").unwrap_err();
    assert_eq!(r.step, Step::SigningTime, "{r}");
    assert!(r.to_string().contains("signed timestamp's time"), "{r}");
}

#[test]
fn a_bundle_without_a_verified_signing_time_does_not_count() {
    let r = check_case("rekor2-no-timestamp_fail").unwrap_err();
    assert_eq!(r.step, Step::SigningTime, "{r}");
    assert!(r.to_string().contains("no verified signing time"), "{r}");
}

#[test]
fn a_forged_checkpoint_does_not_count() {
    refused_at(check_case("invalid-checkpoint-signature_fail"), Step::Checkpoint);
}

#[test]
fn a_log_entry_for_another_artifact_does_not_count() {
    refused_at(check_case("wrong-hashedrekord-artifact_fail"), Step::LogEntry);
}

#[test]
fn a_certificate_for_another_identity_does_not_count() {
    let other = KeylessIdentity {
        identity: "https://github.com/attacker/repo/.github/workflows/x.yml@refs/heads/main".into(),
        issuer: ISSUER.into(),
    };
    let r = check_with(prod(), &other, &artifact("happy-path-v0.3"), bundle("happy-path-v0.3")).unwrap_err();
    assert_eq!(r.step, Step::Identity, "{r}");
    assert!(
        r.to_string()
            .starts_with("identity: the certificate is not for https://github.com/attacker/repo/"),
        "{r}"
    );
}

#[test]
fn the_right_identity_from_another_issuer_does_not_count() {
    let other = KeylessIdentity {
        identity: IDENTITY.into(),
        issuer: "https://accounts.google.com".into(),
    };
    refused_at(
        check_with(prod(), &other, &artifact("happy-path-v0.2"), bundle("happy-path-v0.2")),
        Step::Issuer,
    );
}

#[test]
fn changed_signed_bytes_do_not_count() {
    let mut message = artifact("happy-path-v0.3");
    message[0] ^= 1;
    refused_at(
        check_with(prod(), &who(), &message, bundle("happy-path-v0.3")),
        Step::SignedBytes,
    );
}

#[test]
fn a_bundle_from_another_message_does_not_count() {
    // A real bundle, valid for its own artifact, copied onto other signed bytes.
    let other = br#"{"_type":"root","version":2}"#;
    refused_at(
        check_with(prod(), &who(), other, bundle("happy-path-v0.1")),
        Step::SignedBytes,
    );
}

#[test]
fn a_trusted_root_without_the_ca_does_not_count() {
    let trust = prod_edited(|v| v["certificateAuthorities"] = json!([]));
    refused_at(
        check_with(&trust, &who(), &artifact("happy-path-v0.3"), bundle("happy-path-v0.3")),
        Step::Chain,
    );
}

#[test]
fn a_trusted_root_without_the_log_does_not_count() {
    let trust = prod_edited(|v| v["tlogs"] = json!([]));
    refused_at(
        check_with(&trust, &who(), &artifact("happy-path-v0.3"), bundle("happy-path-v0.3")),
        Step::LogEntry,
    );
}

#[test]
fn a_trusted_root_whose_ca_window_ended_before_the_signing_does_not_count() {
    let trust = prod_edited(|v| {
        for ca in v["certificateAuthorities"].as_array_mut().unwrap() {
            ca["validFor"]["end"] = json!("2023-01-01T00:00:00Z");
        }
    });
    refused_at(
        check_with(&trust, &who(), &artifact("happy-path-v0.3"), bundle("happy-path-v0.3")),
        Step::CaWindow,
    );
}

#[test]
fn the_staging_trusted_root_vouches_for_no_production_bundle() {
    let staging = SigstoreTrust::from_json(&archived("sigstore-staging/source/targets/trusted_root.json")).unwrap();
    let r = check_with(
        &staging,
        &who(),
        &artifact("happy-path-v0.3"),
        bundle("happy-path-v0.3"),
    )
    .unwrap_err();
    assert!(matches!(r.step, Step::LogEntry | Step::Chain), "{r}");
}

#[test]
fn a_forged_sct_does_not_count() {
    // The CT log's ID kept, its key replaced: the certificate's SCT is then not signed by
    // the CT log the trusted root names, as with an SCT an attacker made.
    let trust = prod_edited(|v| {
        let other_key = v["tlogs"][0]["publicKey"]["rawBytes"].clone();
        for log in v["ctlogs"].as_array_mut().unwrap() {
            log["publicKey"]["rawBytes"] = other_key.clone();
        }
    });
    let r = check_with(&trust, &who(), &artifact("happy-path-v0.3"), bundle("happy-path-v0.3")).unwrap_err();
    assert_eq!(r.step, Step::Sct, "{r}");
    assert!(r.to_string().contains("does not verify"), "{r}");
    // The conformance case: a trusted root whose CT key is another.
    let own = SigstoreTrust::from_json(&std::fs::read(cases().join("invalid-ct-key_fail/trusted_root.json")).unwrap())
        .unwrap();
    refused_at(
        check_with(
            &own,
            &who(),
            &artifact("invalid-ct-key_fail"),
            bundle("invalid-ct-key_fail"),
        ),
        Step::Sct,
    );
}

#[test]
fn a_trusted_root_without_the_ct_log_does_not_count() {
    let trust = prod_edited(|v| v["ctlogs"] = json!([]));
    refused_at(
        check_with(&trust, &who(), &artifact("happy-path-v0.3"), bundle("happy-path-v0.3")),
        Step::Sct,
    );
}

#[test]
fn a_forged_inclusion_promise_does_not_count() {
    let mut b = bundle("happy-path-v0.3");
    let set = &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"];
    // Another valid DER signature: the promise of the v0.2 bundle's entry.
    *set =
        bundle("happy-path-v0.2")["verificationMaterial"]["tlogEntries"][0]["inclusionPromise"]["signedEntryTimestamp"]
            .clone();
    refused_at(
        check_with(prod(), &who(), &artifact("happy-path-v0.3"), b),
        Step::InclusionPromise,
    );
}

#[test]
fn an_inclusion_promise_with_a_moved_integrated_time_does_not_count() {
    let mut b = bundle("happy-path-v0.3");
    let time = &mut b["verificationMaterial"]["tlogEntries"][0]["integratedTime"];
    let moved = time.as_str().unwrap().parse::<u64>().unwrap() + 60;
    *time = json!(moved.to_string());
    refused_at(
        check_with(prod(), &who(), &artifact("happy-path-v0.3"), b),
        Step::InclusionPromise,
    );
}

#[test]
fn a_log_entry_time_outside_the_certificate_validity_does_not_count() {
    let case = "integrated-time-in-future_fail";
    let r = check_with(prod(), &who(), &artifact(case), bundle(case)).unwrap_err();
    assert_eq!(r.step, Step::SigningTime, "{r}");
    assert!(r.to_string().contains("outside the certificate's validity"), "{r}");
}

#[test]
fn a_signing_time_after_the_reference_time_does_not_count() {
    let r = keyless::verify(
        prod(),
        &who(),
        &artifact("happy-path-v0.3"),
        &entry(bundle("happy-path-v0.3")),
        at("2024-01-01T00:00:00Z"),
    )
    .unwrap_err();
    assert_eq!(r.step, Step::SigningTime, "{r}");
}

#[test]
fn a_sig_field_that_disagrees_with_the_bundle_does_not_count() {
    let mut e = entry(bundle("happy-path-v0.3"));
    e.sig = "3045".into();
    let r = keyless::verify(prod(), &who(), &artifact("happy-path-v0.3"), &e, at(NOW)).unwrap_err();
    assert_eq!(r.step, Step::Bundle, "{r}");
}

#[test]
fn a_hex_sig_field_as_tuf_on_ci_wrote_before_sigstore_3_is_read() {
    let mut e = entry(bundle("happy-path-v0.2"));
    let raw = trustroot_core::sigstore::keys::decode_b64(&e.sig).unwrap();
    e.sig = hex::encode(raw);
    keyless::verify(prod(), &who(), &artifact("happy-path-v0.2"), &e, at(NOW)).unwrap();
}

fn keyless_key(identity: &str, issuer: &str) -> Key {
    serde_json::from_value(json!({
        "keytype": "sigstore-oidc",
        "scheme": "Fulcio",
        "keyval": {"identity": identity, "issuer": issuer},
        "x-tuf-on-ci-keyowner": "@someone"
    }))
    .unwrap()
}

#[test]
fn two_signatures_from_one_identity_count_once() {
    let keys = BTreeMap::from([
        ("aa".to_string(), keyless_key(IDENTITY, ISSUER)),
        ("bb".to_string(), keyless_key(IDENTITY, ISSUER)),
    ]);
    let mut first = entry(bundle("happy-path-v0.2"));
    first.keyid = "aa".into();
    let mut second = entry(bundle("happy-path-v0.3"));
    second.keyid = "bb".into();
    let ctx = KeylessContext {
        trust: prod(),
        now: at(NOW),
    };
    let ids = ["aa".to_string(), "bb".to_string()];
    let report = check_signatures_over(&artifact("a"), &[first, second], &keys, &ids, 2, Some(&ctx));
    assert_eq!(report.valid, 1);
    assert!(!report.is_met());
    assert_eq!(report.keys[0].1, KeyStatus::Valid);
    assert_eq!(report.keys[1].1, KeyStatus::DuplicateKey);
}

#[test]
fn a_refused_keyless_signature_is_named_with_its_step_in_the_threshold_report() {
    let keys = BTreeMap::from([("aa".to_string(), keyless_key(IDENTITY, "https://accounts.google.com"))]);
    let mut sig = entry(bundle("happy-path-v0.3"));
    sig.keyid = "aa".into();
    let ctx = KeylessContext {
        trust: prod(),
        now: at(NOW),
    };
    let report = check_signatures_over(&artifact("a"), &[sig], &keys, &["aa".to_string()], 1, Some(&ctx));
    assert!(!report.is_met());
    assert!(matches!(&report.keys[0].1, KeyStatus::Refused(r) if r.step == Step::Issuer));
    let text = report.failures();
    assert!(
        text.starts_with("key aa: keyless signature refused: issuer: the certificate's OIDC issuer is"),
        "{text}"
    );
}

#[test]
fn a_keyless_key_without_trust_material_is_unusable() {
    let keys = BTreeMap::from([("aa".to_string(), keyless_key(IDENTITY, ISSUER))]);
    let mut sig = entry(bundle("happy-path-v0.3"));
    sig.keyid = "aa".into();
    let report = check_signatures_over(&artifact("a"), &[sig], &keys, &["aa".to_string()], 1, None);
    assert!(!report.is_met());
    assert_eq!(
        report.failures(),
        "key aa: unusable key: keyless key: no Sigstore trusted root was given"
    );
}

#[test]
fn only_sigstore_oidc_with_the_fulcio_scheme_is_a_keyless_key() {
    let key = keyless_key("someone@example.com", "https://github.com/login/oauth");
    assert!(matches!(key.public_key(), Ok(PublicKey::Keyless(w)) if w.identity == "someone@example.com"));
    let mut lower = key.clone();
    lower.scheme = "fulcio".into();
    assert!(lower.public_key().is_err());
    let no_issuer: Key = serde_json::from_value(json!({
        "keytype": "sigstore-oidc", "scheme": "Fulcio", "keyval": {"identity": "someone@example.com"}
    }))
    .unwrap();
    assert!(no_issuer.public_key().unwrap_err().contains("keyval.issuer"));
    // Same identity and issuer: one signer; another issuer: another.
    let other = keyless_key("someone@example.com", "https://accounts.google.com");
    assert_eq!(
        key.public_key().unwrap().identity(),
        keyless_key("someone@example.com", "https://github.com/login/oauth")
            .public_key()
            .unwrap()
            .identity()
    );
    assert_ne!(
        key.public_key().unwrap().identity(),
        other.public_key().unwrap().identity()
    );
}

#[test]
fn the_envelope_keeps_each_signature_bundle_and_refuses_an_oversized_one() {
    let metadata = json!({
        "signed": {"_type": "root", "version": 1},
        "signatures": [{"keyid": "aa", "sig": "", "bundle": bundle("happy-path-v0.3")}]
    });
    let bytes = serde_json::to_vec(&metadata).unwrap();
    let envelope = Envelope::parse("root", &bytes, &Limits::default()).unwrap();
    assert_eq!(envelope.signatures[0].bundle, Some(bundle("happy-path-v0.3")));
    let small = Limits {
        max_bundle_size: 1000,
        ..Limits::default()
    };
    let e = Envelope::parse("root", &bytes, &small).unwrap_err().to_string();
    assert!(
        e.contains("Sigstore bundle of key aa's signature is") && e.contains("limit of 1000"),
        "{e}"
    );
}

#[test]
fn a_trusted_root_with_an_instance_without_a_start_is_refused() {
    let mut v: Value = serde_json::from_slice(prod_trusted_root()).unwrap();
    v["tlogs"][0]["publicKey"]["validFor"] = json!({});
    let e = SigstoreTrust::from_json(&serde_json::to_vec(&v).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("$.tlogs[0].publicKey.validFor.start is missing"), "{e}");
    assert_eq!(prod().sha256().len(), 64);
}

/// Every `step`-th byte in `range` of the base64 bytes field at `pointer` flipped in turn:
/// each copy must be refused. Every other byte is flipped too, and must not cause a panic
/// (a byte of unsigned framing, such as an empty CMS certificate set, may change nothing).
fn each_flipped_byte_is_refused(
    case: &str,
    pointer: &str,
    range: impl Fn(&[u8]) -> std::ops::Range<usize>,
    step: usize,
) {
    let trust = trust_for(case);
    let original = bundle(case);
    let raw = trustroot_core::sigstore::keys::decode_b64(original.pointer(pointer).unwrap().as_str().unwrap()).unwrap();
    let must_fail = range(&raw);
    let mut refused = 0;
    for i in (0..raw.len()).step_by(step) {
        let mut bytes = raw.clone();
        bytes[i] ^= 0x01;
        let mut b = original.clone();
        *b.pointer_mut(pointer).unwrap() = json!(trustroot_core::sigstore::keys::encode_b64(&bytes));
        let result = check_with(&trust, &who(), &artifact(case), b);
        if must_fail.contains(&i) {
            assert!(
                result.is_err(),
                "{case}: byte {i} of {pointer} flipped and still verified"
            );
            refused += 1;
        }
    }
    assert!(refused > 10, "{refused}");
}

#[test]
fn a_certificate_with_any_byte_changed_is_refused_without_panicking() {
    each_flipped_byte_is_refused(
        "happy-path-v0.3",
        "/verificationMaterial/certificate/rawBytes",
        |raw| 0..raw.len(),
        23,
    );
}

#[test]
fn a_signed_timestamp_with_any_signed_byte_changed_is_refused_without_panicking() {
    // What the TSA signs (through the message digest attribute): the TSTInfo.
    let tst_info = |raw: &[u8]| {
        use x509_cert::der::{Decode, Encode};
        let resp = x509_tsp::TimeStampResp::from_der(raw).unwrap();
        let signed: cms::signed_data::SignedData = resp.time_stamp_token.unwrap().content.decode_as().unwrap();
        let any = signed.encap_content_info.econtent.unwrap();
        let tst = x509_cert::der::asn1::OctetString::from_der(&any.to_der().unwrap())
            .unwrap()
            .into_bytes();
        let at = raw.windows(tst.len()).position(|w| w == tst.as_slice()).unwrap();
        at..at + tst.len()
    };
    each_flipped_byte_is_refused(
        "rekor2-timestamp-without-embedded-cert",
        "/verificationMaterial/timestampVerificationData/rfc3161Timestamps/0/signedTimestamp",
        tst_info,
        3,
    );
}
