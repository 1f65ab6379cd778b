//! The policy, `trustroot.toml`: what is wrong with one of its fields.

use std::path::PathBuf;

use trustroot_core::display::escape;
use trustroot_core::{Hint, RoleName};

use super::shown;

/// What is wrong with a field of the policy. The field's dotted name is beside it in
/// [`crate::Error::Policy`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyProblem {
    /// The TOML parser's message, which names the key and line.
    #[error("{reason}")]
    Syntax { reason: String },
    #[error(
        "'{}' is not a valid name (letters, digits, '-', '_', '.'; not starting with '.'; at most 64)",
        escape(name)
    )]
    InvalidName { name: String },
    #[error("a delegated role cannot have a top-level role's name")]
    TopLevelName,
    #[error("lists no path pattern")]
    NoPaths,
    #[error("'{}' is not a relative path pattern", escape(pattern))]
    BadPattern { pattern: String },
    #[error("{bins} is not a power of two from 2 to {max}")]
    BadBins { bins: u64, max: u64 },
    /// A delegation named like one of another delegation's hashed bins.
    #[error("is also the name of one of {delegation}'s hashed bins")]
    BinName { delegation: RoleName },
    #[error("names no role of this policy")]
    NoSuchRole,
    /// A gate minimum the role's own expiry could never meet.
    #[error("{days} is not less than the role's expiry_days ({expiry}): no publish could pass the gate")]
    MinValidDays { days: u64, expiry: u64 },
    #[error("is empty")]
    Empty,
    #[error("'{}' is not a key in [keys]", escape(name))]
    UnknownKey { name: String },
    #[error("'{}' is listed twice", escape(name))]
    ListedTwice { name: String },
    #[error("must be at least 1")]
    ThresholdZero,
    #[error("{threshold} is more than the {keys} key(s) listed")]
    ThresholdAboveKeys { threshold: u64, keys: usize },
    /// A role the repository needs signed has no keyholders yet.
    #[error("no keys yet")]
    NoKeys { role: RoleName },
    #[error("'{}' must be a path inside the repository (relative, no '..')", escape(path))]
    OutsideRepository { path: String },
    #[error("{days} is outside 1..=36500")]
    ExpiryRange { days: u64 },
    #[error("{days} must be at least 1 and less than expiry_days ({expiry})")]
    SigningRange { days: u64, expiry: u64 },
    /// A key the field names cannot be read or used.
    #[error("{0}")]
    Key(Box<crate::Error>),
    /// The online public key cannot be read: it was not made or not registered yet.
    #[error("{0}")]
    OnlineKeyMissing(Box<crate::Error>),
    #[error("is the same key as keys.{}: each name must be a different key", escape(other))]
    SameKey { other: String },
    #[error("is the online key: keyholders' keys must stay offline, separate from [online]")]
    OnlineKeyholder,
    /// A P-384 key where `[gate] allow_p384` is off.
    #[error(
        "is an ECDSA P-384 key: tough (a gate client, and the Rust client in the field) refuses a whole root that lists one; use P-256 or Ed25519, or set allow_p384 = true in [gate] to accept it with tough skipped"
    )]
    P384NotAllowed,
    /// `[attestation] required_for` names a role that keyholders do not sign.
    #[error("'{}' is not root, targets or a delegated role of this policy", escape(role))]
    NotAttestable { role: String },
    /// A key of a role that requires attestation was registered without one.
    #[error("is missing: [attestation] requires a verified YubiKey attestation for every {role} key")]
    NotAttested { role: RoleName },
    /// A record of a role that requires attestation names no evidence files (it was written
    /// before evidence was kept): it is a claim nothing can check.
    #[error(
        "records no evidence files (registered before they were kept): [attestation] requires re-verifiable evidence for every {role} key; register the key again with its YubiKey attestation"
    )]
    NoEvidence { role: RoleName },
    /// A record names one evidence file without the other.
    #[error("names one evidence file without the other: key_cert and device_cert go together")]
    HalfEvidence,
    /// An evidence file the record names cannot be read.
    #[error("its evidence cannot be read: {0}")]
    EvidenceUnreadable(Box<crate::Error>),
    /// The evidence no longer verifies (another key's certificate, a broken or expired chain).
    #[error("its evidence does not verify: {0}")]
    EvidenceRefused(Box<crate::error::AttestationError>),
    /// The record says something its evidence does not: an edited record or replaced files.
    #[error(
        "records {fact} '{}', but its evidence attests '{}': the record was edited or the evidence replaced",
        escape(recorded),
        escape(attested)
    )]
    EvidenceMismatch {
        fact: &'static str,
        recorded: String,
        attested: String,
    },
    /// An edit found the field of another type than the policy gives it.
    #[error("is not an array")]
    NotAnArray,
    #[error("is not defined")]
    NotDefined,
    /// The publish destination overlaps a directory of the signing repository (`sub`).
    #[error(
        "{} overlaps the signing repository's {sub}/: choose a directory of its own",
        shown(destination)
    )]
    Overlaps { destination: PathBuf, sub: &'static str },
    /// The online signer is a key file inside the signing repository.
    #[error(
        "{} is inside the signing repository: private keys never enter it; move the key out and point the signer at it",
        shown(path)
    )]
    PrivateKeyInside { path: PathBuf },
    /// `[gate] accept` names a finding the gate does not have.
    #[error("'{}' is not a finding the gate names (known: {known})", escape(name))]
    UnknownFinding { name: String, known: String },
    #[error("'{}' holds control characters", escape(text))]
    ControlCharacters { text: String },
    #[error("'{}' is not an RFC 3339 time (e.g. 2026-08-22T00:00:00Z)", escape(text))]
    NotATime { text: String },
    #[error("must be at least 1 (root versions start at 1)")]
    VersionZero,
    /// An online key reference trustroot keeps as written but cannot sign with.
    #[error(
        "'{}' is kept as written, but trustroot cannot sign with {scheme} keys: {advice}",
        escape(reference)
    )]
    OnlineKeyUnusable {
        reference: String,
        scheme: &'static str,
        advice: String,
    },
}

impl PolicyProblem {
    /// The remedy, when there is one beyond the message.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            PolicyProblem::NoKeys { role } => Some(Hint::AddKeyholders { role: role.clone() }),
            PolicyProblem::OnlineKeyMissing(_) => Some(Hint::AddOnlineKey),
            PolicyProblem::Key(e) => e.hint(),
            PolicyProblem::NotAttested { .. }
            | PolicyProblem::NoEvidence { .. }
            | PolicyProblem::EvidenceRefused(_)
            | PolicyProblem::EvidenceMismatch { .. } => Some(Hint::ExportAttestation),
            PolicyProblem::EvidenceUnreadable(e) => e.hint(),
            _ => None,
        }
    }
}
