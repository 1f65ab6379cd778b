//! Attestation checks against the five real attestations Sigstore published for its root
//! keyholders, against Yubico's embedded certificates, and against attacks made here.

#![allow(clippy::panic)]

mod made;
mod multilevel;

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone as _, Utc};

use super::anchors::{Anchors, INTERMEDIATES, ROOTS};
use super::cert::Cert;
use super::{Evidence, verify, verify_with};
use crate::error::AttestationError;
use made::{Spec, tuf_key};

/// A time inside every Sigstore attestation's validity (2016-03-14 to 2052-04-17).
fn in_validity() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).single().expect("a time")
}

/// The Sigstore keyholders' serials, with the firmware and form factor their key
/// certificates attest (read with `openssl asn1parse`).
const SIGSTORE: &[(u32, &str, &str)] = &[
    (13078778, "5.2.6", "USB-C keychain"),
    (14470876, "5.2.7", "USB-C keychain"),
    (15938765, "5.2.7", "USB-C keychain"),
    (15938791, "5.2.7", "USB-C keychain"),
    (18158855, "5.4.3", "USB-A keychain"),
];

/// One keyholder's three files.
struct Holder {
    key_cert: Vec<u8>,
    device_cert: Vec<u8>,
    key: trustroot_core::Key,
}

fn holder(dir: &Path, serial: u32) -> Holder {
    let base: PathBuf = dir.join(format!("sigstore-prod-legacy/yubikey-attestations/{serial}/{serial}"));
    let read = |suffix: &str| std::fs::read(format!("{}_{suffix}", base.display())).expect("a fixture file");
    let key = crate::keys::parse_public_key("pubkey", &read("pubkey.pem")).expect("a public key");
    Holder {
        key_cert: read("key_cert.pem"),
        device_cert: read("device_cert.pem"),
        key,
    }
}

#[test]
fn every_embedded_certificate_has_its_recorded_sha256_and_name() {
    for embedded in ROOTS.iter().chain(INTERMEDIATES) {
        let cert = embedded.load().unwrap_or_else(|e| panic!("{}: {e}", embedded.name));
        assert_eq!(cert.subject_cn().as_deref(), Some(embedded.name));
    }
    let anchors = Anchors::yubico().expect("the embedded set loads");
    assert_eq!(anchors.roots.len(), 3);
    assert_eq!(anchors.intermediates.len(), 5);
}

#[test]
fn the_embedded_intermediates_chain_to_attestation_root_1() {
    let anchors = Anchors::yubico().expect("the embedded set loads");
    let now = in_validity();
    for intermediate in &anchors.intermediates {
        let mut current = intermediate;
        for _ in 0..3 {
            if let Some(root) = anchors.roots.iter().find(|r| current.names_issuer(r)) {
                super::signature::check_signed_by(current, root).expect("signed by the root");
                assert_eq!(root.subject_cn().as_deref(), Some("Yubico Attestation Root 1"));
                break;
            }
            let next = anchors
                .intermediates
                .iter()
                .find(|i| current.names_issuer(i))
                .expect("its issuer is embedded");
            super::signature::check_signed_by(current, next).expect("signed by its issuer");
            next.check_validity(now).expect("valid");
            current = next;
        }
    }
}

#[test]
fn sigstores_five_real_attestations_verify() {
    let dir = trustroot_test_support::unpack_sigstore_fixtures();
    for (serial, firmware, form) in SIGSTORE {
        let h = holder(dir.path(), *serial);
        let attestation =
            verify(&h.key_cert, &h.device_cert, &h.key, in_validity()).unwrap_or_else(|e| panic!("{serial}: {e}"));
        assert_eq!(attestation.serial, Some(*serial));
        assert_eq!(attestation.firmware, *firmware);
        assert_eq!(attestation.form_factor.as_deref(), Some(*form));
        assert_eq!(attestation.slot, "9c");
        assert_eq!(attestation.pin_policy.as_deref(), Some("always"));
        assert_eq!(attestation.touch_policy.as_deref(), Some("always"));
        assert_eq!(attestation.root, "Yubico PIV Root CA Serial 263751");
    }
}

#[test]
fn a_pair_swapped_between_two_keyholders_is_refused() {
    let dir = trustroot_test_support::unpack_sigstore_fixtures();
    let a = holder(dir.path(), 13078778);
    let b = holder(dir.path(), 18158855);
    let err = verify(&a.key_cert, &b.device_cert, &a.key, in_validity()).expect_err("refused");
    assert!(matches!(err, AttestationError::BadSignature { .. }), "{err}");
    assert!(err.to_string().contains("signature does not verify"), "{err}");
}

#[test]
fn a_key_certificate_for_another_key_is_refused() {
    let dir = trustroot_test_support::unpack_sigstore_fixtures();
    let a = holder(dir.path(), 14470876);
    let b = holder(dir.path(), 15938765);
    let err = verify(&a.key_cert, &a.device_cert, &b.key, in_validity()).expect_err("refused");
    assert!(matches!(err, AttestationError::AnotherKey { .. }), "{err}");
    assert!(err.to_string().contains("attests another key"), "{err}");
}

#[test]
fn the_two_files_given_the_other_way_round_are_named_so() {
    let dir = trustroot_test_support::unpack_sigstore_fixtures();
    let a = holder(dir.path(), 15938765);
    let err = verify(&a.device_cert, &a.key_cert, &a.key, in_validity()).expect_err("refused");
    assert!(matches!(err, AttestationError::Swapped { .. }), "{err}");
    assert!(err.to_string().contains("the other way round"), "{err}");
}

#[test]
fn an_expired_chain_is_refused() {
    let dir = trustroot_test_support::unpack_sigstore_fixtures();
    let a = holder(dir.path(), 15938791);
    let after = Utc.with_ymd_and_hms(2052, 4, 18, 0, 0, 0).single().expect("a time");
    let err = verify(&a.key_cert, &a.device_cert, &a.key, after).expect_err("refused");
    assert!(matches!(err, AttestationError::Expired { .. }), "{err}");
    let before = Utc.with_ymd_and_hms(2016, 3, 13, 0, 0, 0).single().expect("a time");
    let err = verify(&a.key_cert, &a.device_cert, &a.key, before).expect_err("refused");
    assert!(matches!(err, AttestationError::NotYetValid { .. }), "{err}");
}

#[test]
fn a_chain_to_a_foreign_root_is_refused() {
    // Everything a real attestation has, under an attacker's root.
    let root = Spec::new("Attacker Root").issue(None);
    let device = Spec::new("Yubico PIV Attestation").issue(Some(&root));
    let key = Spec::new("YubiKey PIV Attestation 9c")
        .yubico_bare(12345678)
        .issue(Some(&device));
    let err = verify(&key.pem, &device.pem, &tuf_key(&key), in_validity()).expect_err("refused");
    assert!(matches!(err, AttestationError::UnknownRoot { .. }), "{err}");
    assert!(err.to_string().contains("foreign or unknown root"), "{err}");
}

#[test]
fn a_foreign_root_named_like_yubicos_is_refused() {
    let root = Spec::new("Yubico PIV Root CA Serial 263751").issue(None);
    let device = Spec::new("Yubico PIV Attestation").issue(Some(&root));
    let key = Spec::new("YubiKey PIV Attestation 9c")
        .yubico_bare(12345678)
        .issue(Some(&device));
    let err = verify(&key.pem, &device.pem, &tuf_key(&key), in_validity()).expect_err("refused");
    assert!(matches!(err, AttestationError::BadSignature { .. }), "{err}");
}

#[test]
fn a_certificate_without_yubicos_extensions_is_not_an_attestation() {
    let root = Spec::new("Test Root").issue(None);
    let device = Spec::new("Yubico PIV Attestation").issue(Some(&root));
    let key = Spec::new("YubiKey PIV Attestation 9c").issue(Some(&device));
    let anchors = test_anchors(&root, &[]);
    let err = verify_with(&evidence(&key.pem, &device.pem), &tuf_key(&key), &anchors).expect_err("refused");
    assert!(matches!(err, AttestationError::NotYubico { .. }), "{err}");
    let other = Spec::new("Some Key").yubico_bare(1).issue(Some(&device));
    let err = verify_with(&evidence(&other.pem, &device.pem), &tuf_key(&other), &anchors).expect_err("refused");
    assert!(err.to_string().contains("not a YubiKey PIV attestation"), "{err}");
}

#[test]
fn garbage_and_truncated_certificates_are_refused_without_panic() {
    let dir = trustroot_test_support::unpack_sigstore_fixtures();
    let a = holder(dir.path(), 13078778);
    let now = in_validity();
    let text = String::from_utf8(a.key_cert.clone()).expect("PEM is text");
    let der = Cert::from_pem("k", &a.key_cert).expect("parses").der;
    let mut inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"not a certificate".to_vec(),
        vec![0xff; 100],
        text.as_bytes()[..text.len() / 2].to_vec(),
        text.replace("-----END CERTIFICATE-----", "").into_bytes(),
        format!("{text}{text}").into_bytes(),
        vec![b'A'; super::MAX_CERT_FILE + 1],
        text.replacen("MII", "MI!", 1).into_bytes(),
    ];
    // Every truncation of the DER, and every single-byte change of its first 200 bytes.
    inputs.extend((0..der.len()).step_by(3).map(|n| der[..n].to_vec()));
    inputs.extend((0..200.min(der.len())).map(|i| {
        let mut d = der.clone();
        d[i] ^= 0x5a;
        d
    }));
    for input in &inputs {
        assert!(verify(input, &a.device_cert, &a.key, now).is_err());
        assert!(verify(&a.key_cert, input, &a.key, now).is_err());
    }
    let err = verify(b"", &a.device_cert, &a.key, now).expect_err("refused");
    assert!(matches!(err, AttestationError::NotPem { .. }), "{err}");
    let err = verify(&vec![b'A'; super::MAX_CERT_FILE + 1], &a.device_cert, &a.key, now).expect_err("refused");
    assert!(matches!(err, AttestationError::TooLarge { .. }), "{err}");
}

#[test]
fn messages_name_the_files() {
    let dir = trustroot_test_support::unpack_sigstore_fixtures();
    let a = holder(dir.path(), 13078778);
    let b = holder(dir.path(), 14470876);
    let err = super::verify_evidence(
        &Evidence {
            key_cert_file: "alice/key_cert.pem",
            key_cert: &a.key_cert,
            device_cert_file: "bob/device_cert.pem",
            device_cert: &b.device_cert,
            now: in_validity(),
        },
        &a.key,
    )
    .expect_err("refused");
    assert!(err.to_string().starts_with("alice/key_cert.pem: "), "{err}");
}

/// Anchors of a test-made hierarchy.
fn test_anchors(root: &made::Made, intermediates: &[&made::Made]) -> Anchors {
    let load = |m: &made::Made| Cert::from_pem(&m.subject, &m.pem).expect("a made certificate parses");
    Anchors {
        roots: vec![load(root)],
        intermediates: intermediates.iter().map(|m| load(m)).collect(),
    }
}

/// Evidence with two made certificates, checked in the made hierarchy's validity.
fn evidence<'a>(key_cert: &'a [u8], device_cert: &'a [u8]) -> Evidence<'a> {
    Evidence {
        key_cert_file: "key_cert.pem",
        key_cert,
        device_cert_file: "device_cert.pem",
        device_cert,
        now: in_validity(),
    }
}

/// Key `alice`'s attestation as `key add` records it, with its evidence kept in `repo`.
fn kept(repo: &Path, h: &Holder) -> super::Attestation {
    std::fs::create_dir_all(repo.join("keys")).expect("keys/");
    std::fs::write(repo.join("keys/alice.attestation-key.pem"), &h.key_cert).expect("written");
    std::fs::write(repo.join("keys/alice.attestation-device.pem"), &h.device_cert).expect("written");
    let mut record = verify(&h.key_cert, &h.device_cert, &h.key, in_validity()).expect("verifies");
    record.key_cert = Some("keys/alice.attestation-key.pem".into());
    record.device_cert = Some("keys/alice.attestation-device.pem".into());
    record
}

fn recheck_error(repo: &Path, record: &super::Attestation, key: &trustroot_core::Key, at: DateTime<Utc>) -> String {
    match crate::policy::check_evidence(repo, "alice", record, key, at) {
        Ok(()) => panic!("accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn kept_evidence_verifies_again_and_an_edited_fact_is_refused() {
    let dir = trustroot_test_support::unpack_sigstore_fixtures();
    let repo = tempfile::tempdir().expect("a directory");
    let h = holder(dir.path(), 13078778);
    let record = kept(repo.path(), &h);
    crate::policy::check_evidence(repo.path(), "alice", &record, &h.key, in_validity()).expect("verifies again");
    let mut forged = record.clone();
    forged.serial = Some(13078779);
    let err = recheck_error(repo.path(), &forged, &h.key, in_validity());
    assert!(
        err.contains("keys.alice.attestation: records serial '13078779', but its evidence attests '13078778'"),
        "{err}"
    );
    let mut forged = record.clone();
    forged.touch_policy = Some("never".into());
    let err = recheck_error(repo.path(), &forged, &h.key, in_validity());
    assert!(err.contains("records touch_policy 'never'"), "{err}");
    let mut forged = record;
    forged.pin_policy = None;
    let err = recheck_error(repo.path(), &forged, &h.key, in_validity());
    assert!(err.contains("records pin_policy 'none'"), "{err}");
}

#[test]
fn kept_evidence_of_another_keyholder_or_none_at_all_is_refused() {
    let dir = trustroot_test_support::unpack_sigstore_fixtures();
    let repo = tempfile::tempdir().expect("a directory");
    let alice = holder(dir.path(), 13078778);
    let record = kept(repo.path(), &alice);
    // Another keyholder's pair, put in place of alice's: a good chain, for another key.
    let bob = holder(dir.path(), 14470876);
    kept(repo.path(), &bob);
    let err = recheck_error(repo.path(), &record, &alice.key, in_validity());
    assert!(
        err.contains(
            "keys.alice.attestation: its evidence does not verify: keys/alice.attestation-key.pem: attests another key"
        ),
        "{err}"
    );
    std::fs::remove_file(repo.path().join("keys/alice.attestation-device.pem")).expect("removed");
    let err = recheck_error(repo.path(), &record, &alice.key, in_validity());
    assert!(
        err.contains("keys.alice.attestation: its evidence cannot be read"),
        "{err}"
    );
}

#[test]
fn kept_evidence_is_checked_at_the_time_given_so_an_expired_chain_is_refused() {
    let dir = trustroot_test_support::unpack_sigstore_fixtures();
    let repo = tempfile::tempdir().expect("a directory");
    let h = holder(dir.path(), 13078778);
    let record = kept(repo.path(), &h);
    let after = Utc.with_ymd_and_hms(2052, 5, 1, 0, 0, 0).single().expect("a time");
    let err = recheck_error(repo.path(), &record, &h.key, after);
    assert!(err.contains("the attestation chain has expired"), "{err}");
}

#[test]
fn a_records_first_difference_names_the_fact() {
    let dir = trustroot_test_support::unpack_sigstore_fixtures();
    let h = holder(dir.path(), 13078778);
    let record = verify(&h.key_cert, &h.device_cert, &h.key, in_validity()).expect("verifies");
    let mut with_paths = record.clone();
    with_paths.key_cert = Some("elsewhere.pem".into());
    // Where the evidence is kept is not a fact it attests.
    assert_eq!(with_paths.first_difference(&record), None);
    let mut other = record.clone();
    other.firmware = "5.7.1".into();
    assert_eq!(
        other.first_difference(&record),
        Some(("firmware", "5.7.1".to_string(), "5.2.6".to_string()))
    );
}
