//! Signing requests: the file a coordinator hands keyholders, and the baseline a keyholder
//! checks it against with a root of their own.

use std::path::PathBuf;

use trustroot_core::{ErrorClass, Hint, RoleName};

use super::shown;

/// A signing request file is unreadable, altered, stale or in another format.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    #[error("{}: {problem}", shown(path))]
    File { path: PathBuf, problem: RequestProblem },
    /// A base64 field of the request (`what` names it) does not decode.
    #[error("{what}: not base64: {reason}")]
    NotBase64 { what: String, reason: String },
}

impl RequestError {
    /// Which kind of failure this is: a request that contradicts itself is hostile or
    /// damaged input; one in another format is the coordinator's state, not an attack.
    pub fn class(&self) -> ErrorClass {
        match self {
            RequestError::File {
                problem: RequestProblem::OlderFormat { .. } | RequestProblem::NewerFormat { .. },
                ..
            } => ErrorClass::LocalState,
            _ => ErrorClass::Repository,
        }
    }

    /// The remedy, when there is one beyond the message.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            RequestError::File {
                problem: RequestProblem::OlderFormat { .. },
                ..
            } => Some(Hint::NewSigningRequest),
            _ => None,
        }
    }
}

/// What is wrong with a signing request file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestProblem {
    #[error("not a trustroot signing request: {reason}")]
    NotRequest { reason: String },
    #[error("not a trustroot signing request: no trustroot_signing_request format number")]
    NoFormat,
    #[error(
        "is a signing request in format {format}, made by an older trustroot: it does not carry the published root versions and signatures your root can check its changes against; ask for a new request"
    )]
    OlderFormat { format: u64 },
    #[error(
        "is a signing request in format {format}, newer than this trustroot reads (format {supported}): use the coordinator's trustroot version, or ask for a new request"
    )]
    NewerFormat { format: u64, supported: u32 },
    /// Text a keyholder would read carries what a terminal would act on.
    #[error("refused signing request: {0}")]
    UnsafeText(UnsafeText),
    /// The request contradicts itself: altered on the way, or damaged.
    #[error("tampered or damaged signing request: {0}")]
    Tampered(Tamper),
}

/// A field of a request that could mislead a terminal or name no file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnsafeText {
    /// `what` names the field: "round", "the summary"...
    #[error("{what} contains control characters")]
    ControlCharacters { what: &'static str },
    #[error("role name {role:?} cannot name a file")]
    RoleNameNotAFile { role: String },
    #[error("key ID {keyid:?} is not a sha256 in lowercase hex")]
    KeyIdNotHex { keyid: String },
    #[error("key {keyid} has a field with control characters")]
    KeyFieldControl { keyid: String },
}

/// How a request contradicts itself. `role` is the role the part concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Tamper {
    #[error("request_sha256 does not match the request's contents")]
    Digest,
    /// Published root number `index` (from 1) is not metadata.
    #[error("published root #{index}: {source}")]
    PublishedRoot {
        index: usize,
        #[source]
        source: Box<trustroot_core::Error>,
    },
    #[error("published root #{index} is not the next root version after v{previous}")]
    PublishedRootOrder { index: usize, previous: u64 },
    #[error("{role}: the previous version is not metadata: {source}")]
    PreviousNotMetadata {
        role: RoleName,
        #[source]
        source: Box<trustroot_core::Error>,
    },
    #[error("{role}: role type, version or expiry differ from the bytes")]
    Claims { role: RoleName },
    #[error("{role}: the summary does not match the bytes")]
    Summary { role: RoleName },
    #[error("{role}: the bytes do not match signed_sha256")]
    SignedDigest { role: RoleName },
    #[error("{role}: the bytes are not JSON: {reason}")]
    NotJson { role: RoleName, reason: String },
    #[error("{role}: the bytes are not canonical JSON")]
    NotCanonical { role: RoleName },
    #[error("root: the previous version (v{previous}) is not the last published root the request carries (v{last})")]
    PreviousNotLastRoot { previous: u64, last: u64 },
    #[error("root: it names a previous version but carries no published root")]
    PreviousWithoutRoots,
    #[error("root v{version}: staged as a new root, yet the request carries published root v{last}")]
    NewRootWithPublished { version: u64, last: u64 },
    #[error("root: not a valid root: {reason}")]
    InvalidRoot { reason: String },
    #[error("root: the previous version is not a valid root: {reason}")]
    InvalidPreviousRoot { reason: String },
    #[error("root: the listed signers differ from the root's own keys")]
    RootSigners,
}

/// A request that does not follow the root a keyholder holds (`file`), or that hides what
/// it follows. The keyholder refuses it and tells the other keyholders.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// A new repository's request, though the keyholder holds a published root.
    #[error(
        "the request carries no published root: it stages a new repository, yet your root {} is v{pinned}. A request that hides the published root cannot be checked; refuse it and tell the coordinator and the other keyholders",
        shown(file)
    )]
    NoPublishedRoot { file: PathBuf, pinned: u64 },
    #[error(
        "your root {} is v{pinned}, newer than the newest root the request carries (v{newest}): the request is out of date or rolls the root back; ask for a new request",
        shown(file)
    )]
    PinnedNewer { file: PathBuf, pinned: u64, newest: u64 },
    #[error(
        "the request's root v{version} is not your root v{pinned} ({}): the request does not follow the root you hold; refuse it and tell the other keyholders",
        shown(file)
    )]
    RootDiffers { file: PathBuf, version: u64, pinned: u64 },
    #[error(
        "the request's root v{version} does not verify from your root v{pinned} ({}): {source}; refuse the request and tell the other keyholders",
        shown(file)
    )]
    RootDoesNotVerify {
        file: PathBuf,
        version: u64,
        pinned: u64,
        #[source]
        source: Box<trustroot_core::Error>,
    },
    /// The previous root the request diffs against (`claimed`) is not the root reached.
    #[error(
        "root v{version}: the request diffs it against a previous root (v{claimed}) that is not the published root v{root_version} reached from your root {}; refuse the request and tell the other keyholders",
        shown(file)
    )]
    PreviousRootDiffers {
        file: PathBuf,
        version: u64,
        claimed: u64,
        root_version: u64,
    },
    #[error("root v{root_version} has no targets role to check targets v{version} against")]
    NoTargetsRole { root_version: u64, version: u64 },
    /// `failures`: the signatures that did not count, as core's check lists them.
    #[error(
        "targets v{version}: the previous targets v{previous} the request diffs it against is not signed by {threshold} of the targets keys of root v{root_version} ({valid} valid: {failures}); refuse the request and tell the other keyholders"
    )]
    PreviousTargetsUnsigned {
        version: u64,
        previous: u64,
        threshold: u64,
        root_version: u64,
        valid: usize,
        failures: String,
    },
    #[error(
        "{role} v{version}: the request names no previous version although v{} must have been published; refuse the request and tell the other keyholders",
        version.saturating_sub(1)
    )]
    NoPrevious { role: RoleName, version: u64 },
    #[error(
        "targets v{version}: the signers the request lists are not the targets keys of root v{root_version} reached from your root {}; refuse the request and tell the other keyholders",
        shown(file)
    )]
    TargetsSigners {
        file: PathBuf,
        version: u64,
        root_version: u64,
    },
}

impl BaselineError {
    /// The remedy, when there is one beyond the message.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            BaselineError::NoPublishedRoot { .. } => Some(Hint::SignNewRepositoryWithoutRoot),
            _ => None,
        }
    }
}
