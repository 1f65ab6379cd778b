//! Signature thresholds, counted by distinct keys.

use std::collections::{BTreeMap, HashSet};

use crate::display::escape;
use crate::envelope::Envelope;
use crate::error::{Error, ErrorKind, Result};
use crate::keyless::{KeylessContext, Refusal};
use crate::keys::{Key, PublicKey};

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
    /// The key cannot verify anything (unknown type, unreadable key, not in the key list,
    /// a keyless key with no Sigstore trust material given).
    Unusable(String),
    /// A keyless signature that failed a verification step (named in the refusal).
    Refused(Refusal),
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

    /// Each listed key that did not count, and why, for an error message: key IDs are
    /// shortened and escaped (they come from the metadata), and at most ten are named.
    pub fn failures(&self) -> String {
        const NAMED: usize = 10;
        let failed: Vec<String> = self
            .keys
            .iter()
            .filter_map(|(keyid, status)| {
                let why = match status {
                    KeyStatus::Valid => return None,
                    KeyStatus::DuplicateKey => "same key material as another signer, counted once".to_string(),
                    KeyStatus::Invalid => "signature does not verify".to_string(),
                    KeyStatus::Missing => "no signature".to_string(),
                    KeyStatus::Unusable(reason) => format!("unusable key: {}", escape(reason)),
                    // Refusal's Display escapes what it quotes from the bundle.
                    KeyStatus::Refused(refusal) => format!("keyless signature refused: {refusal}"),
                };
                let short: String = keyid.chars().take(16).collect();
                Some(format!("key {}: {why}", escape(&short)))
            })
            .collect();
        let mut text = if failed.is_empty() {
            // Every listed key signed validly (or none is listed): too few distinct keys
            // for the threshold, which no signature can fix.
            match self.keys.len() {
                0 => "the role lists no keys".to_string(),
                1 => "the role lists 1 distinct key, which signed; more keys must be listed to meet the threshold"
                    .to_string(),
                n => format!(
                    "the role lists {n} distinct keys, all of which signed; more keys must be listed to meet the threshold"
                ),
            }
        } else {
            failed.iter().take(NAMED).cloned().collect::<Vec<_>>().join("; ")
        };
        if failed.len() > NAMED {
            text.push_str(&format!("; and {} more", failed.len() - NAMED));
        }
        text
    }
}

/// Checks the signatures of `envelope` for a role with `keyids` and `threshold`, the keys
/// looked up in `keys`. A key listed twice counts once, two IDs of the same key material
/// (or of one keyless identity) count once, and signatures from unlisted keys are ignored.
/// Keyless keys are checked against `keyless`; without it they are unusable.
pub fn check_signatures(
    envelope: &Envelope,
    keys: &BTreeMap<String, Key>,
    keyids: &[String],
    threshold: u64,
    keyless: Option<&KeylessContext<'_>>,
) -> ThresholdReport {
    check_signatures_over(
        envelope.signed_bytes(),
        &envelope.signatures,
        keys,
        keyids,
        threshold,
        keyless,
    )
}

/// [`check_signatures`] of `signatures` over `message`, the canonical bytes of a `signed`
/// the caller already holds (a signing repository's staged role): no envelope is parsed.
pub fn check_signatures_over(
    message: &[u8],
    signatures: &[crate::envelope::Signature],
    keys: &BTreeMap<String, Key>,
    keyids: &[String],
    threshold: u64,
    keyless: Option<&KeylessContext<'_>>,
) -> ThresholdReport {
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
            Some(Ok(PublicKey::Keyless(_))) if keyless.is_none() => {
                KeyStatus::Unusable("keyless key: no Sigstore trusted root was given".to_string())
            }
            Some(Ok(public)) => match signatures.iter().find(|s| &s.keyid == keyid) {
                None => KeyStatus::Missing,
                Some(signature) => {
                    let checked = match (&public, keyless) {
                        (PublicKey::Keyless(who), Some(ctx)) => {
                            crate::keyless::verify(ctx.trust, who, message, signature, ctx.now)
                                .map(|_| ())
                                .map_err(KeyStatus::Refused)
                        }
                        _ if hex::decode(&signature.sig).is_ok_and(|sig| public.verify(message, &sig)) => Ok(()),
                        _ => Err(KeyStatus::Invalid),
                    };
                    match checked {
                        Err(status) => status,
                        Ok(()) if seen_keys.insert(public.identity()) => {
                            report.valid += 1;
                            KeyStatus::Valid
                        }
                        Ok(()) => KeyStatus::DuplicateKey,
                    }
                }
            },
        };
        report.keys.push((keyid.clone(), status));
    }
    report.unlisted_signatures = signatures
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
    keyless: Option<&KeylessContext<'_>>,
) -> Result<()> {
    let report = check_signatures(envelope, keys, keyids, threshold, keyless);
    if report.is_met() {
        return Ok(());
    }
    let error = Error::new(
        role,
        ErrorKind::ThresholdNotMet {
            valid: report.valid,
            threshold,
        },
    )
    .with_detail(report.failures());
    Err(match envelope.version() {
        Some(v) => error.with_version(v),
        None => error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(keys: Vec<(&str, KeyStatus)>) -> ThresholdReport {
        ThresholdReport {
            keys: keys.into_iter().map(|(id, s)| (id.to_string(), s)).collect(),
            unlisted_signatures: Vec::new(),
            valid: 1,
            threshold: 2,
        }
    }

    #[test]
    fn a_threshold_failure_names_each_key_that_did_not_count_and_why() {
        let text = report(vec![
            ("aaaaaaaaaaaaaaaaaaaaaaaa", KeyStatus::Valid),
            ("bbbbbbbbbbbbbbbbbbbbbbbb", KeyStatus::Invalid),
            ("cccccccccccccccccccccccc", KeyStatus::Missing),
            ("dddddddddddddddddddddddd", KeyStatus::DuplicateKey),
            ("eeee", KeyStatus::Unusable("unknown keytype 'x\u{1b}[2J'".to_string())),
        ])
        .failures();
        assert_eq!(
            text,
            "key bbbbbbbbbbbbbbbb: signature does not verify; key cccccccccccccccc: no signature; \
             key dddddddddddddddd: same key material as another signer, counted once; \
             key eeee: unusable key: unknown keytype 'x\\u{1b}[2J'"
        );
    }

    #[test]
    fn a_role_listing_fewer_keys_than_its_threshold_says_how_many_distinct_keys_it_lists() {
        let mut two = report(vec![("aaaa", KeyStatus::Valid), ("bbbb", KeyStatus::Valid)]);
        two.valid = 2;
        two.threshold = 3;
        let text = two.failures();
        assert!(!text.contains("no usable keys"), "{text}");
        assert!(text.contains("lists 2 distinct keys, all of which signed"), "{text}");
        assert_eq!(report(vec![]).failures(), "the role lists no keys");
    }

    #[test]
    fn terminal_escapes_in_key_ids_and_huge_key_lists_stay_out_of_the_message() {
        let ids: Vec<String> = (0..50).map(|i| format!("\u{1b}]0;{i:02}")).collect();
        let text = report(ids.iter().map(|id| (id.as_str(), KeyStatus::Missing)).collect()).failures();
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.ends_with("; and 40 more"), "{text}");
        assert_eq!(text.matches("no signature").count(), 10);
    }
}
