//! The 5.7.4+ shape, with a hierarchy made here: key certificate <- device certificate <-
//! "PIV Attestation" intermediate <- "Attestation Intermediate" <- root, the intermediates
//! supplied by the anchors as the embedded Yubico ones are.

use chrono::{TimeZone as _, Utc};

use super::made::{Spec, tuf_key};
use super::{evidence, test_anchors};
use crate::attestation::verify_with;
use crate::error::AttestationError;

#[test]
fn a_four_level_chain_verifies_through_the_anchors_intermediates() {
    let root = Spec::new("Test Attestation Root 1").issue(None);
    let upper = Spec::new("Test Attestation Intermediate B 1").issue(Some(&root));
    let piv = Spec::new("Test PIV Attestation B 1").issue(Some(&upper));
    let device = Spec::new("YubiKey PIV Attestation").issue(Some(&piv));
    let key = Spec::new("YubiKey PIV Attestation 9a")
        .yubico_574(36345471)
        .issue(Some(&device));
    let anchors = test_anchors(&root, &[&upper, &piv]);
    let attestation = verify_with(&evidence(&key.pem, &device.pem), &tuf_key(&key), &anchors).expect("verifies");
    assert_eq!(attestation.serial, Some(36345471));
    assert_eq!(attestation.firmware, "5.7.4");
    assert_eq!(attestation.slot, "9a");
    assert_eq!(attestation.pin_policy.as_deref(), Some("once"));
    assert_eq!(attestation.touch_policy.as_deref(), Some("cached"));
    assert_eq!(attestation.form_factor.as_deref(), Some("USB-C nano"));
    assert_eq!(attestation.root, "Test Attestation Root 1");
}

#[test]
fn a_chain_missing_an_intermediate_is_refused() {
    let root = Spec::new("Test Attestation Root 1").issue(None);
    let upper = Spec::new("Test Attestation Intermediate B 1").issue(Some(&root));
    let piv = Spec::new("Test PIV Attestation B 1").issue(Some(&upper));
    let device = Spec::new("YubiKey PIV Attestation").issue(Some(&piv));
    let key = Spec::new("YubiKey PIV Attestation 9c")
        .yubico_574(1)
        .issue(Some(&device));
    let anchors = test_anchors(&root, &[&piv]);
    let err = verify_with(&evidence(&key.pem, &device.pem), &tuf_key(&key), &anchors).expect_err("refused");
    assert!(matches!(err, AttestationError::UnknownRoot { .. }), "{err}");
}

#[test]
fn an_intermediate_signed_by_another_key_of_the_same_name_is_refused() {
    let root = Spec::new("Test Attestation Root 1").issue(None);
    let impostor = Spec::new("Test Attestation Root 1").issue(None);
    let piv = Spec::new("Test PIV Attestation B 1").issue(Some(&impostor));
    let device = Spec::new("YubiKey PIV Attestation").issue(Some(&piv));
    let key = Spec::new("YubiKey PIV Attestation 9c")
        .yubico_574(1)
        .issue(Some(&device));
    let anchors = test_anchors(&root, &[&piv]);
    let err = verify_with(&evidence(&key.pem, &device.pem), &tuf_key(&key), &anchors).expect_err("refused");
    assert!(matches!(err, AttestationError::BadSignature { .. }), "{err}");
}

#[test]
fn an_expired_intermediate_expires_the_chain() {
    let root = Spec::new("Test Attestation Root 1").issue(None);
    let end_2024 = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("a time")
        .timestamp();
    let piv = Spec::new("Test PIV Attestation B 1")
        .valid(1_577_836_800, u64::try_from(end_2024).expect("after 1970"))
        .issue(Some(&root));
    let device = Spec::new("YubiKey PIV Attestation").issue(Some(&piv));
    let key = Spec::new("YubiKey PIV Attestation 9c")
        .yubico_574(1)
        .issue(Some(&device));
    let anchors = test_anchors(&root, &[&piv]);
    let err = verify_with(&evidence(&key.pem, &device.pem), &tuf_key(&key), &anchors).expect_err("refused");
    assert!(matches!(err, AttestationError::Expired { .. }), "{err}");
}

#[test]
fn a_key_certificate_signed_by_a_genuine_key_certificate_is_refused() {
    // A keyholder controls an attested key and can sign anything with it: a certificate it
    // signs is not issued by a device certificate, so it must not pass as one.
    let root = Spec::new("Test Attestation Root 1").issue(None);
    let device = Spec::new("YubiKey PIV Attestation").issue(Some(&root));
    let genuine = Spec::new("YubiKey PIV Attestation 9c")
        .yubico_574(1)
        .issue(Some(&device));
    let forged = Spec::new("YubiKey PIV Attestation 9a")
        .yubico_574(2)
        .issue(Some(&genuine));
    let anchors = test_anchors(&root, &[]);
    let err = verify_with(&evidence(&forged.pem, &genuine.pem), &tuf_key(&forged), &anchors).expect_err("refused");
    assert!(matches!(err, AttestationError::UnknownRoot { .. }), "{err}");
}
