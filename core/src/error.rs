//! Typed errors: every failure names the role, the version when known, and the reason.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::canonical::CanonicalError;
use crate::display::escape;

/// A result with a core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why metadata was refused. The role and version it concerns are on [`Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes are not TUF metadata this crate can read.
    Malformed(MalformedProblem),
    /// `signed._type` is not the role we asked for.
    WrongType { expected: String, found: String },
    /// Two signature entries carry the same key ID.
    DuplicateSignature { keyid: String },
    /// Fewer distinct keys than the threshold produced a valid signature.
    ThresholdNotMet { valid: usize, threshold: u64 },
    /// The version is not the one the trusted metadata requires.
    UnexpectedVersion { expected: u64, found: u64 },
    /// The version is lower than one already trusted (a rollback attack).
    Rollback { trusted: u64, found: u64 },
    /// The metadata expired before the reference time (a freeze attack, or a stale repository).
    Expired { expires: DateTime<Utc>, now: DateTime<Utc> },
    /// The bytes are longer than allowed or than the trusted length.
    TooLarge { limit: u64 },
    /// The length differs from the trusted length.
    LengthMismatch { expected: u64, found: u64 },
    /// A hash differs from the trusted hash.
    HashMismatch { algorithm: String },
    /// No hash algorithm we support is listed, so the bytes cannot be checked.
    NoSupportedHash { algorithms: Vec<String> },
    /// The snapshot no longer lists a role it listed before.
    RoleRemoved { name: String },
    /// The role is not listed where it must be (snapshot meta, or the delegator's roles).
    NotListed { listed_in: String },
    /// More root rotations in one update than [`crate::Limits::max_root_rotations`].
    TooManyRootRotations { limit: u32 },
    /// The repository delegates to more targets roles than a client walks (the role on
    /// the error is the delegator that crossed the limit).
    TooManyRoles { limit: u64 },
    /// A target search visited the most roles allowed without finding the target.
    SearchLimit { limit: usize },
    /// The repository does not have metadata the client workflow needs.
    Missing,
    /// The caller loaded metadata out of order (a programming error, not hostile input).
    Order(OrderProblem),
    /// A target path that would escape its directory or is otherwise unsafe to use.
    UnsafePath { reason: String },
    /// A target listed in valid metadata that no client can use safely (a hash that is not
    /// hex digits of its algorithm's length, or no hash we know). Only that target fails.
    UnusableTarget { reason: String },
}

/// What a caller asked out of order: the client workflow's order is not the caller's to
/// change (spec 5.3 to 5.6).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrderProblem {
    /// `role` cannot change once `by` is loaded on top of it.
    Frozen { role: &'static str, by: &'static str },
    /// `what` is needed first.
    NotLoaded { what: &'static str },
    /// The delegator of a delegated role is needed first.
    DelegatorNotLoaded { delegator: String },
    /// A walk was asked for its next step before its last need was answered.
    NeedUnanswered,
    /// A walk was answered when it had asked nothing.
    NoPendingNeed,
    /// A walk was answered for a role it is not loading.
    NotLoadingRole,
}

impl fmt::Display for OrderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderProblem::Frozen { role, by } => write!(f, "{role} cannot change once {by} is loaded"),
            OrderProblem::NotLoaded { what } => write!(f, "{what} is not loaded"),
            OrderProblem::DelegatorNotLoaded { delegator } => {
                write!(f, "delegator '{}' is not loaded", escape(delegator))
            }
            OrderProblem::NeedUnanswered => f.write_str("the walk's last need was not answered"),
            OrderProblem::NoPendingNeed => f.write_str("no need to answer"),
            OrderProblem::NotLoadingRole => f.write_str("the walk is not loading this role"),
        }
    }
}

/// Why bytes are not TUF metadata this crate can read: the envelope, the role's fields, or
/// a rule of the role that its fields break.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MalformedProblem {
    /// The bytes are not JSON. `reason` is serde_json's message.
    NotJson { reason: String },
    /// JSON this crate refuses to read (a key twice in one object). `reason` is the
    /// reader's message, which escapes the key it quotes.
    RefusedJson { reason: String },
    /// The top-level value is not a JSON object.
    NotAnObject,
    /// The envelope has no `signed` field.
    NoSigned,
    /// `signed` is not a JSON object.
    SignedNotAnObject,
    /// The envelope has no `signatures` list.
    NoSignatures,
    /// More signature entries than [`crate::Limits::max_signatures`].
    TooManySignatures { count: usize, limit: usize },
    /// A signature entry lacks a string `keyid` or `sig`.
    BadSignatureEntry,
    /// A signature entry's Sigstore `bundle` is larger than the limit (compact JSON bytes).
    BundleTooLarge { keyid: String, size: u64, limit: u64 },
    /// `signed` has no canonical form, so no signature can cover it.
    Canonical(CanonicalError),
    /// `signed` does not have the fields of its role. `reason` is serde's message, which
    /// can quote the metadata (an unknown variant, a custom error).
    Fields { reason: String },
    /// `version` is 0.
    VersionZero,
    /// A `spec_version` this crate does not read.
    UnsupportedSpecVersion { found: String },
    /// A threshold is 0.
    ThresholdZero,
    /// A meta file entry (`snapshot.json`, `targets.json`, ...) has an empty `hashes` object.
    EmptyMetaHashes { file: String },
    /// A target has an empty `hashes` object.
    EmptyTargetHashes { path: String },
    /// Root does not list one of the top-level roles.
    MissingTopLevelRole { role: &'static str },
    /// Timestamp has no `snapshot.json` entry.
    NoSnapshotEntry,
    /// A meta file entry has version 0.
    MetaVersionZero { file: String },
    /// Delegations have both `roles` and `succinct_roles`.
    DelegationsBoth,
    /// Delegations have neither `roles` nor `succinct_roles`.
    DelegationsNeither,
    /// A delegated role has the name of a top-level role.
    DelegatedTopLevelName { role: String },
    /// A delegated role is listed twice.
    DelegatedTwice { role: String },
    /// A delegated role has both `paths` and `path_hash_prefixes`.
    DelegatedBothPaths { role: String },
    /// `succinct_roles.bit_length` is outside 1..=32.
    BitLength { bit_length: u32 },
}

impl fmt::Display for MalformedProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MalformedProblem::NotJson { reason } => write!(f, "not valid JSON: {reason}"),
            MalformedProblem::RefusedJson { reason } => write!(f, "refused JSON: {reason}"),
            MalformedProblem::NotAnObject => f.write_str("metadata is not a JSON object"),
            MalformedProblem::NoSigned => f.write_str("no 'signed' field"),
            MalformedProblem::SignedNotAnObject => f.write_str("'signed' is not an object"),
            MalformedProblem::NoSignatures => f.write_str("no 'signatures' list"),
            MalformedProblem::TooManySignatures { count, limit } => {
                write!(f, "{count} signatures, more than the limit of {limit}")
            }
            MalformedProblem::BadSignatureEntry => f.write_str("a signature entry lacks a string 'keyid' or 'sig'"),
            MalformedProblem::BundleTooLarge { keyid, size, limit } => {
                let short: String = keyid.chars().take(16).collect();
                write!(
                    f,
                    "the Sigstore bundle of key {}'s signature is {size} bytes, more than the limit of {limit}",
                    escape(&short)
                )
            }
            MalformedProblem::Canonical(e) => write!(f, "{e}"),
            MalformedProblem::Fields { reason } => f.write_str(&escape(reason)),
            MalformedProblem::VersionZero => f.write_str("version must be at least 1"),
            MalformedProblem::UnsupportedSpecVersion { found } => write!(
                f,
                "unsupported spec_version '{}' (trustroot reads 1.Y or 1.Y.Z, digits only)",
                escape(found)
            ),
            MalformedProblem::ThresholdZero => f.write_str("a threshold must be at least 1"),
            MalformedProblem::EmptyMetaHashes { file } => {
                write!(f, "{} has an empty 'hashes' object", escape(file))
            }
            MalformedProblem::EmptyTargetHashes { path } => {
                write!(f, "target '{}' has an empty 'hashes' object", escape(path))
            }
            MalformedProblem::MissingTopLevelRole { role } => write!(f, "root lists no '{role}' role"),
            MalformedProblem::NoSnapshotEntry => f.write_str("timestamp has no 'snapshot.json' entry"),
            MalformedProblem::MetaVersionZero { file } => write!(f, "'{}' has version 0", escape(file)),
            MalformedProblem::DelegationsBoth => f.write_str("delegations have both 'roles' and 'succinct_roles'"),
            MalformedProblem::DelegationsNeither => {
                f.write_str("delegations have neither 'roles' nor 'succinct_roles'")
            }
            MalformedProblem::DelegatedTopLevelName { role } => {
                write!(f, "delegated role '{}' has the name of a top-level role", escape(role))
            }
            MalformedProblem::DelegatedTwice { role } => {
                write!(f, "delegated role '{}' is listed twice", escape(role))
            }
            MalformedProblem::DelegatedBothPaths { role } => write!(
                f,
                "delegated role '{}' has both 'paths' and 'path_hash_prefixes'",
                escape(role)
            ),
            MalformedProblem::BitLength { bit_length } => {
                write!(f, "succinct_roles bit_length {bit_length} is outside 1..=32")
            }
        }
    }
}

/// A failure to trust metadata, naming what was refused and why.
///
/// Its `Display` escapes (with [`escape`]) every string that can come from metadata: the
/// role or target path, types, key IDs, role names, hash algorithms. A free-form reason
/// (`detail`, [`ErrorKind::UnsafePath`], [`ErrorKind::UnusableTarget`]) is written by this
/// crate, which escapes what it puts in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The role (or target path, for target checks) the error concerns.
    pub role: String,
    /// The version of the metadata, when it was read far enough to know it.
    pub version: Option<u64>,
    pub kind: ErrorKind,
    /// What a person needs to act on it, beyond the kind (for a threshold: which key
    /// failed how). Not part of what a caller should match on.
    pub detail: Option<String>,
}

impl Error {
    pub fn new(role: impl Into<String>, kind: ErrorKind) -> Self {
        Error {
            role: role.into(),
            version: None,
            kind,
            detail: None,
        }
    }

    pub fn with_version(mut self, version: u64) -> Self {
        self.version = Some(version);
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub(crate) fn malformed(role: &str, problem: MalformedProblem) -> Self {
        Error::new(role, ErrorKind::Malformed(problem))
    }

    /// Every core error is about the metadata given, except calls made out of order.
    pub fn class(&self) -> crate::class::ErrorClass {
        match self.kind {
            ErrorKind::Order(_) => crate::class::ErrorClass::Usage,
            _ => crate::class::ErrorClass::Repository,
        }
    }

    /// True when this is the expiry of otherwise valid metadata.
    pub fn is_expired(&self) -> bool {
        matches!(self.kind, ErrorKind::Expired { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.version {
            Some(v) => write!(f, "{} v{}: ", escape(&self.role), v)?,
            None => write!(f, "{}: ", escape(&self.role))?,
        }
        match &self.kind {
            ErrorKind::Malformed(problem) => write!(f, "malformed metadata: {problem}"),
            ErrorKind::WrongType { expected, found } => {
                write!(
                    f,
                    "wrong metadata type: expected '{}', found '{}'",
                    escape(expected),
                    escape(found)
                )
            }
            ErrorKind::DuplicateSignature { keyid } => {
                write!(f, "more than one signature from key {}", escape(keyid))
            }
            ErrorKind::ThresholdNotMet { valid, threshold } => write!(
                f,
                "signature threshold not met: {valid} valid signature(s) from distinct trusted keys, {threshold} required"
            ),
            ErrorKind::UnexpectedVersion { expected, found } => {
                write!(f, "expected version {expected}, found version {found}")
            }
            ErrorKind::Rollback { trusted, found } => write!(
                f,
                "rollback refused: version {found} is older than trusted version {trusted}"
            ),
            ErrorKind::Expired { expires, now } => write!(
                f,
                "expired at {} (reference time {})",
                crate::time::format(expires),
                crate::time::format(now)
            ),
            ErrorKind::TooLarge { limit } => write!(f, "larger than the limit of {limit} bytes"),
            ErrorKind::LengthMismatch { expected, found } => {
                write!(f, "length is {found} bytes, trusted metadata says {expected}")
            }
            ErrorKind::HashMismatch { algorithm } => {
                write!(f, "{} hash does not match trusted metadata", escape(algorithm))
            }
            ErrorKind::NoSupportedHash { algorithms } => write!(
                f,
                "no supported hash algorithm listed (found: {}); sha256 or sha512 is needed",
                if algorithms.is_empty() {
                    "none".to_string()
                } else {
                    algorithms.iter().map(|a| escape(a)).collect::<Vec<_>>().join(", ")
                }
            ),
            ErrorKind::RoleRemoved { name } => {
                write!(
                    f,
                    "new snapshot no longer lists '{}', which the trusted snapshot lists",
                    escape(name)
                )
            }
            ErrorKind::NotListed { listed_in } => write!(f, "not listed in {}", escape(listed_in)),
            ErrorKind::TooManyRootRotations { limit } => write!(
                f,
                "more than {limit} root rotations in one update; refusing to go further"
            ),
            ErrorKind::TooManyRoles { limit } => write!(
                f,
                "the repository delegates to more than {limit} targets roles; refusing to walk them"
            ),
            ErrorKind::SearchLimit { limit } => write!(
                f,
                "the search visited {limit} targets roles without finding it, the limit; \
                 the repository's delegations are too deep or too many"
            ),
            ErrorKind::Missing => write!(f, "the repository does not have it"),
            ErrorKind::Order(problem) => write!(f, "metadata loaded out of order: {problem}"),
            ErrorKind::UnsafePath { reason } => write!(f, "unsafe target path: {reason}"),
            ErrorKind::UnusableTarget { reason } => write!(f, "unusable target: {reason}"),
        }?;
        match &self.detail {
            Some(detail) => write!(f, " ({detail})"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(problem: MalformedProblem) -> String {
        Error::new("targets", ErrorKind::Malformed(problem))
            .with_version(3)
            .to_string()
    }

    #[test]
    fn malformed_problems_read_as_sentences_with_metadata_escaped() {
        assert_eq!(
            shown(MalformedProblem::NoSigned),
            "targets v3: malformed metadata: no 'signed' field"
        );
        assert_eq!(
            shown(MalformedProblem::MissingTopLevelRole { role: "snapshot" }),
            "targets v3: malformed metadata: root lists no 'snapshot' role"
        );
        assert_eq!(
            shown(MalformedProblem::TooManySignatures { count: 5, limit: 4 }),
            "targets v3: malformed metadata: 5 signatures, more than the limit of 4"
        );
        assert_eq!(
            shown(MalformedProblem::DelegatedTwice {
                role: "a\u{1b}[2J".to_string()
            }),
            "targets v3: malformed metadata: delegated role 'a\\u{1b}[2J' is listed twice"
        );
        assert_eq!(
            shown(MalformedProblem::EmptyTargetHashes {
                path: "f\u{202e}".to_string()
            }),
            "targets v3: malformed metadata: target 'f\\u{202e}' has an empty 'hashes' object"
        );
        assert_eq!(
            shown(MalformedProblem::Fields {
                reason: "unknown variant `x\u{7}`".to_string()
            }),
            "targets v3: malformed metadata: unknown variant `x\\u{7}`"
        );
        assert_eq!(
            shown(MalformedProblem::Canonical(CanonicalError::NegativeZero)),
            "targets v3: malformed metadata: canonical JSON has no negative zero (found -0; write 0)"
        );
    }
}
