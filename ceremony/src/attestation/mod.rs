//! YubiKey PIV attestation at key registration: proof, signed by the YubiKey and chained to
//! Yubico, that the key being registered was generated on a YubiKey (and never left it),
//! with the device's serial, firmware, form factor, slot and PIN and touch policies.
//!
//! A keyholder exports two certificates from the YubiKey: the key certificate (`ykman piv
//! keys attest 9c`), signed by the device's attestation key, and the device certificate
//! (slot F9), signed by Yubico. [`verify`] checks the chain to Yubico's embedded roots
//! (`roots/README.md`) at the time given, checks that the attested key is the key being
//! registered, and returns what the key certificate says ([`Attestation`]), which the
//! policy records.

mod anchors;
mod cert;
mod chain;
mod extensions;
mod signature;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use trustroot_core::Key;

use self::anchors::Anchors;
use self::cert::Cert;
use crate::error::AttestationError;

pub use self::cert::MAX_CERT_FILE;

/// What a verified attestation says, as the policy records it under `[keys.NAME.attestation]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attestation {
    /// The YubiKey's serial number (absent on firmware that does not attest it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<u32>,
    /// The YubiKey's firmware version, `major.minor.patch`.
    pub firmware: String,
    /// The form factor in words (`USB-C keychain`, `USB-A nano`...), when attested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_factor: Option<String>,
    /// The PIV slot of the key, hex (`9c`).
    pub slot: String,
    /// When the YubiKey asks for the PIN: `never`, `once` (per session), `always`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_policy: Option<String>,
    /// When it asks for a touch: `never`, `always`, `cached` (15 seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touch_policy: Option<String>,
    /// The Yubico root the chain ends at.
    pub root: String,
    /// The key certificate as registered, kept in the repository (relative path) so that
    /// staging can check it again: without it the record is only a claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_cert: Option<String>,
    /// The device certificate (slot F9) as registered, kept beside the key certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_cert: Option<String>,
}

impl Attestation {
    /// One line for people: `serial 12345678, fw 5.4.3, USB-C keychain, slot 9c, PIN once, touch always`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        parts.push(match self.serial {
            Some(serial) => format!("serial {serial}"),
            None => "serial not attested".to_string(),
        });
        parts.push(format!("fw {}", self.firmware));
        if let Some(form) = &self.form_factor {
            parts.push(form.clone());
        }
        parts.push(format!("slot {}", self.slot));
        if let Some(pin) = &self.pin_policy {
            parts.push(format!("PIN {pin}"));
        }
        if let Some(touch) = &self.touch_policy {
            parts.push(format!("touch {touch}"));
        }
        parts.join(", ")
    }

    /// The first fact on which this record and `attested` (what its evidence says now)
    /// differ, as (fact, recorded, attested); the evidence paths are not facts.
    pub fn first_difference(&self, attested: &Attestation) -> Option<(&'static str, String, String)> {
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_string());
        let serial = |v: Option<u32>| v.map_or_else(|| "none".to_string(), |s| s.to_string());
        [
            ("serial", serial(self.serial), serial(attested.serial)),
            ("firmware", self.firmware.clone(), attested.firmware.clone()),
            ("form_factor", shown(&self.form_factor), shown(&attested.form_factor)),
            ("slot", self.slot.clone(), attested.slot.clone()),
            ("pin_policy", shown(&self.pin_policy), shown(&attested.pin_policy)),
            ("touch_policy", shown(&self.touch_policy), shown(&attested.touch_policy)),
            ("root", self.root.clone(), attested.root.clone()),
        ]
        .into_iter()
        .find(|(_, recorded, found)| recorded != found)
    }

    /// True when the record names its evidence files (a record without them, written before
    /// evidence was kept, cannot be checked again).
    pub fn has_evidence(&self) -> bool {
        self.key_cert.is_some() && self.device_cert.is_some()
    }
}

/// The two certificate files of an attestation, as read, with their names for messages,
/// and the time to check them at (the command's clock, or a time it was given).
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub key_cert_file: &'a str,
    pub key_cert: &'a [u8],
    pub device_cert_file: &'a str,
    pub device_cert: &'a [u8],
    pub now: DateTime<Utc>,
}

/// Verifies a YubiKey PIV attestation of `expected` against Yubico's embedded roots at `now`:
/// `key_cert_pem` is the key's attestation certificate, `device_cert_pem` the device's slot
/// F9 certificate (PEM, or DER).
pub fn verify(
    key_cert_pem: &[u8],
    device_cert_pem: &[u8],
    expected: &Key,
    now: DateTime<Utc>,
) -> Result<Attestation, AttestationError> {
    verify_evidence(
        &Evidence {
            key_cert_file: "the key certificate",
            key_cert: key_cert_pem,
            device_cert_file: "the device certificate",
            device_cert: device_cert_pem,
            now,
        },
        expected,
    )
}

/// [`verify`], with the files named in every message.
pub fn verify_evidence(evidence: &Evidence<'_>, expected: &Key) -> Result<Attestation, AttestationError> {
    verify_with(evidence, expected, &Anchors::yubico()?)
}

/// The check itself, with the trusted certificates as a parameter (tests stand up their own
/// hierarchy: Yubico's keys sign nothing for them).
fn verify_with(evidence: &Evidence<'_>, expected: &Key, anchors: &Anchors) -> Result<Attestation, AttestationError> {
    let key = Cert::from_pem(evidence.key_cert_file, evidence.key_cert)?;
    let device = Cert::from_pem(evidence.device_cert_file, evidence.device_cert)?;
    // Trust first: nothing a certificate says counts before its chain does.
    let root = chain::verify_chain(&key, &device, anchors, evidence.now)?;
    let facts = extensions::read(&key)?;
    check_same_key(&key, expected)?;
    Ok(Attestation {
        serial: facts.serial,
        firmware: facts.firmware,
        form_factor: facts.form_factor,
        slot: facts.slot,
        pin_policy: facts.pin_policy,
        touch_policy: facts.touch_policy,
        root,
        key_cert: None,
        device_cert: None,
    })
}

/// Refuses an attestation of any key but `expected`: the same key material, compared the
/// way a threshold counts keys (core's key identity), whatever the encoding.
fn check_same_key(key: &Cert, expected: &Key) -> Result<(), AttestationError> {
    let attested = attested_key(key)?;
    let same = match (&attested, expected.public_key()) {
        (Some(attested), Ok(expected)) => attested.identity() == expected.identity(),
        _ => false,
    };
    if same {
        return Ok(());
    }
    Err(AttestationError::AnotherKey {
        file: key.file.clone(),
        attested: attested.map(|k| k.fingerprint()),
        expected: expected.fingerprint(),
    })
}

/// The key the key certificate attests, as core's key type (`None`: a kind TUF has not).
fn attested_key(key: &Cert) -> Result<Option<trustroot_core::keys::PublicKey>, AttestationError> {
    use ed25519_dalek::pkcs8::DecodePublicKey as _;
    use trustroot_core::keys::PublicKey;
    let spki = key.spki_der()?;
    Ok(if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(&spki) {
        Some(PublicKey::EcdsaP256(k))
    } else if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(&spki) {
        Some(PublicKey::EcdsaP384(k))
    } else if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_der(&spki) {
        Some(PublicKey::Ed25519(k))
    } else {
        rsa::RsaPublicKey::from_public_key_der(&spki)
            .ok()
            .map(PublicKey::RsaPssSha256)
    })
}
