//! Keyless signatures: a `sigstore-oidc` / `Fulcio` key names an identity, and its
//! signature entry carries a Sigstore bundle that proves the identity signed.
//!
//! [`verify`] checks one entry against the Sigstore trust material given
//! ([`SigstoreTrust`], from a pinned `trusted_root.json`, never from the repository being
//! verified), offline. The steps, in order; the first that fails refuses the signature and
//! is named ([`Step`]):
//!
//! 1. bundle: a v0.1 to v0.3 message-signature bundle with one log entry and the proofs its
//!    version requires, whose signature is the entry's `sig`;
//! 2. signed bytes: its message digest is SHA-256 of the canonical `signed` bytes;
//! 3. signature: the certificate's key verifies the signature over those bytes;
//! 4. log entry: a `hashedrekord` entry (Rekor v1 or v2) for this digest, signature and
//!    certificate, in a transparency log of the trusted root;
//! 5. inclusion promise (Rekor v1): the log signed the entry and its time (a signing time);
//! 6. inclusion proof and checkpoint: when present, the entry is in the tree the log signed;
//! 7. timestamp: each RFC 3161 signed timestamp is over the signature, by a timestamp
//!    authority of the trusted root inside its window (a signing time);
//! 8. signing time: there is a verified one; each is not in the future, inside the
//!    certificate's validity and inside the log's window;
//! 9. chain and CA window: a certificate authority of the trusted root issued the
//!    certificate, its window and every certificate of its chain valid at each signing time;
//! 10. identity, issuer: the certificate's SAN and OIDC issuer are exactly the key's;
//! 11. SCT: a CT log of the trusted root logged the certificate.
//!
//! No I/O and no clock: `now` is only used to refuse a signing time in the future.

mod bundle;
mod fulcio;
mod rekor;
mod sct;
mod trust;
mod tsa;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::envelope::Signature;
use crate::keys::KeylessIdentity;

pub use trust::{SigstoreTrust, TrustError};

/// The trust material and time a threshold check needs for keyless keys.
#[derive(Debug, Clone, Copy)]
pub struct KeylessContext<'a> {
    pub trust: &'a SigstoreTrust,
    /// The reference time: a signing time after it (plus a few minutes of clock skew) is
    /// refused, so `--at` cannot be used to accept a signature that did not exist yet.
    pub now: DateTime<Utc>,
}

/// The verification step a keyless signature failed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Bundle,
    SignedBytes,
    Signature,
    LogEntry,
    InclusionPromise,
    InclusionProof,
    Checkpoint,
    Timestamp,
    SigningTime,
    Chain,
    CaWindow,
    Identity,
    Issuer,
    Sct,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Bundle => "bundle",
            Step::SignedBytes => "signed bytes",
            Step::Signature => "signature",
            Step::LogEntry => "log entry",
            Step::InclusionPromise => "inclusion promise",
            Step::InclusionProof => "inclusion proof",
            Step::Checkpoint => "checkpoint",
            Step::Timestamp => "timestamp",
            Step::SigningTime => "signing time",
            Step::Chain => "chain",
            Step::CaWindow => "CA window",
            Step::Identity => "identity",
            Step::Issuer => "issuer",
            Step::Sct => "SCT",
        })
    }
}

/// Why a keyless signature does not count: the step and what was found. What `detail`
/// quotes from the bundle or certificate (an identity, a media type) is escaped in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub step: Step,
    pub detail: String,
}

impl Refusal {
    pub(crate) fn new(step: Step, detail: impl Into<String>) -> Self {
        Refusal {
            step,
            detail: detail.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.step, self.detail)
    }
}

impl std::error::Error for Refusal {}

/// What a verified keyless signature proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// When the signature was made, as the transparency log (or else the first timestamp
    /// authority) signed it.
    pub signing_time: DateTime<Utc>,
    /// The entry's index in its transparency log.
    pub log_index: u64,
}

/// How far in the future a signing time may be before it is refused (clock skew between
/// the log and the reference time).
const FUTURE_SKEW_SECONDS: i64 = 5 * 60;

/// Checks that `entry` is a keyless signature by `who` over `message` (the canonical
/// `signed` bytes), against `trust`. See the module documentation for the steps.
pub fn verify(
    trust: &SigstoreTrust,
    who: &KeylessIdentity,
    message: &[u8],
    entry: &Signature,
    now: DateTime<Utc>,
) -> Result<Verified, Refusal> {
    let raw = entry
        .bundle
        .as_ref()
        .ok_or_else(|| Refusal::new(Step::Bundle, "the signature entry carries no Sigstore bundle"))?;
    let bundle = bundle::Bundle::parse(raw, &entry.sig)?;
    let digest: [u8; 32] = Sha256::digest(message).into();
    if bundle.digest != digest {
        return Err(Refusal::new(
            Step::SignedBytes,
            "the bundle signs other bytes than this metadata's (copied from another version or role?)",
        ));
    }
    let leaf = fulcio::Leaf::parse(&bundle.leaf_der)?;
    crate::sigstore::certs::verify_signature(
        leaf.cert.spki_der(),
        crate::sigstore::certs::OID_ECDSA_SHA256,
        message,
        &bundle.signature,
    )
    .map_err(|e| {
        Refusal::new(
            Step::Signature,
            format!("the certificate's key does not verify it: {e}"),
        )
    })?;

    let log = rekor::check_entry(trust, &bundle, &digest)?;
    let promised = rekor::check_promise(log, &bundle.entry)?;
    if let Some(proof) = &bundle.entry.proof {
        rekor::check_proof(log, &bundle.entry, proof)?;
    }
    let mut times: Vec<(DateTime<Utc>, &str)> = promised.map(|t| (t, "log entry")).into_iter().collect();
    for token in &bundle.timestamps {
        times.push((tsa::check(trust, token, &bundle.signature)?, "signed timestamp"));
    }
    if times.is_empty() {
        return Err(Refusal::new(
            Step::SigningTime,
            "no verified signing time: the bundle has neither an inclusion promise nor a signed timestamp",
        ));
    }
    let mut issuer = None;
    for &(time, source) in &times {
        if time > now + chrono::Duration::seconds(FUTURE_SKEW_SECONDS) {
            return Err(Refusal::new(
                Step::SigningTime,
                format!("the {source}'s time {time} is after the reference time {now}"),
            ));
        }
        if time < leaf.cert.not_before || time > leaf.cert.not_after {
            return Err(Refusal::new(
                Step::SigningTime,
                format!(
                    "the {source}'s time {time} is outside the certificate's validity ({} to {})",
                    leaf.cert.not_before, leaf.cert.not_after
                ),
            ));
        }
        if !trust::window_contains(&log.window, time) {
            return Err(Refusal::new(
                Step::LogEntry,
                format!(
                    "the transparency log's window in the trusted root does not contain the {source}'s time {time}"
                ),
            ));
        }
        issuer = Some(fulcio::check_chain(trust, &leaf, time)?);
    }
    fulcio::check_identity(&leaf, who)?;
    // `times` is not empty, so the chain was checked and the issuer found.
    let issuer = issuer.ok_or_else(|| Refusal::new(Step::Chain, "no signing time to check the chain at"))?;
    sct::check(trust, &leaf, issuer)?;
    Ok(Verified {
        signing_time: times[0].0,
        log_index: bundle.entry.log_index,
    })
}

/// Decodes a proto3-JSON `bytes` field (standard base64). Line breaks are skipped, as Go's
/// and Python's decoders do: real bundles carry `base64` output wrapped at 76 columns.
fn b64(step: Step, what: &str, value: &str) -> Result<Vec<u8>, Refusal> {
    let unwrapped: String = value.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
    crate::sigstore::keys::decode_b64(&unwrapped).map_err(|e| Refusal::new(step, format!("{what}: {e}")))
}
