//! Signature thresholds, counted by distinct keys.

use std::collections::{BTreeMap, HashSet};

use crate::envelope::Envelope;
use crate::error::{Error, ErrorKind, Result};
use crate::keys::Key;

/// What became of one key a role lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyStatus {
    /// A signature from this key verifies.
    Valid,
    /// The key signed, but so did another ID for the same key material; counted once.
    DuplicateKey,
    /// There is a signature entry, but it does not verify (or is an empty placeholder).
    Invalid,
    /// There is no signature entry for this key.
    Missing,
    /// The key cannot verify anything (unknown type, unreadable key, not in the key list).
    Unusable(String),
}

/// The outcome of checking one role's signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThresholdReport {
    /// Each distinct key ID the role lists, in order, with its status.
    pub keys: Vec<(String, KeyStatus)>,
    /// Signature entries from key IDs the role does not list (ignored, as the spec says).
    pub unlisted_signatures: Vec<String>,
    pub valid: usize,
    pub threshold: u64,
}

impl ThresholdReport {
    pub fn is_met(&self) -> bool {
        self.valid as u64 >= self.threshold
    }
}

/// Checks the signatures of `envelope` for a role with `keyids` and `threshold`, the keys
/// looked up in `keys`. A key listed twice counts once, two IDs of the same key material
/// count once, and signatures from unlisted keys are ignored.
pub fn check_signatures(
    envelope: &Envelope,
    keys: &BTreeMap<String, Key>,
    keyids: &[String],
    threshold: u64,
) -> ThresholdReport {
    let message = envelope.signed_bytes();
    let mut seen_ids = HashSet::new();
    let mut seen_keys: HashSet<Vec<u8>> = HashSet::new();
    let mut report = ThresholdReport {
        keys: Vec::new(),
        unlisted_signatures: Vec::new(),
        valid: 0,
        threshold,
    };
    for keyid in keyids {
        if !seen_ids.insert(keyid.as_str()) {
            continue;
        }
        let status = match keys.get(keyid).map(Key::public_key) {
            None => KeyStatus::Unusable("not in the key list".to_string()),
            Some(Err(reason)) => KeyStatus::Unusable(reason),
            Some(Ok(public)) => match envelope.signatures.iter().find(|s| &s.keyid == keyid) {
                None => KeyStatus::Missing,
                Some(signature) => {
                    let valid = hex::decode(&signature.sig).is_ok_and(|sig| public.verify(message, &sig));
                    if !valid {
                        KeyStatus::Invalid
                    } else if seen_keys.insert(public.identity()) {
                        report.valid += 1;
                        KeyStatus::Valid
                    } else {
                        KeyStatus::DuplicateKey
                    }
                }
            },
        };
        report.keys.push((keyid.clone(), status));
    }
    report.unlisted_signatures = envelope
        .signatures
        .iter()
        .filter(|s| !seen_ids.contains(s.keyid.as_str()))
        .map(|s| s.keyid.clone())
        .collect();
    report
}

/// Fails unless a threshold of distinct listed keys signed `envelope`.
pub fn verify_threshold(
    role: &str,
    envelope: &Envelope,
    keys: &BTreeMap<String, Key>,
    keyids: &[String],
    threshold: u64,
) -> Result<()> {
    let report = check_signatures(envelope, keys, keyids, threshold);
    if report.is_met() {
        return Ok(());
    }
    let error = Error::new(
        role,
        ErrorKind::ThresholdNotMet {
            valid: report.valid,
            threshold,
        },
    );
    Err(match envelope.version() {
        Some(v) => error.with_version(v),
        None => error,
    })
}
