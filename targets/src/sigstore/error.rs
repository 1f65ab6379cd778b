//! Errors of reading, building and editing a payload: each says which document part, key,
//! certificate or PEM block is concerned, and why, in a typed value.

use chrono::{DateTime, Utc};
use trustroot_core::display::escape;
use trustroot_core::{ErrorClass, Hint};

use super::TRUSTED_ROOT_MEDIA_TYPE_V02;
use super::certs::{CertError, ChainBreak};
use super::keys::{Base64Error, KeyError};
use super::time::{self, TimeError};

/// An error from reading, building or editing a payload. The message names the JSON path
/// when there is one; the caller adds the file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// The bytes are not the JSON document expected. The path and serde's message can
    /// quote the document, so both are escaped when shown.
    #[error("{}: {}", escape(path), escape(message))]
    Parse { path: String, message: String },
    /// PEM text that is not the blocks expected.
    #[error("{0}")]
    Pem(PemError),
    /// A public key that cannot be used.
    #[error("{0}")]
    Key(KeyError),
    /// PEM block `index` (from 0) is not a usable certificate.
    #[error("PEM block {index}: {reason}")]
    Certificate { index: usize, reason: CertError },
    /// The certificates given form no chain, in any order.
    #[error("the certificates do not form a chain in any order: {0}")]
    Chain(ChainBreak),
    /// A `bytes` field of the document (at the JSON path `field`) is not base64.
    #[error("{field}: {reason}")]
    Base64 { field: String, reason: Base64Error },
    /// A field an instance needs is absent (at the JSON path `field`).
    #[error("{field} is missing")]
    Missing { field: String },
    /// The requested edit cannot be made.
    #[error("{0}")]
    Edit(EditError),
}

impl PayloadError {
    /// Which kind of failure this is: a payload, key or certificate that cannot be read
    /// is the repository's failure; an edit that cannot be made is the caller's.
    pub fn class(&self) -> ErrorClass {
        match self {
            PayloadError::Parse { .. }
            | PayloadError::Pem(_)
            | PayloadError::Key(_)
            | PayloadError::Certificate { .. }
            | PayloadError::Chain(_)
            | PayloadError::Base64 { .. }
            | PayloadError::Missing { .. } => ErrorClass::Repository,
            PayloadError::Edit(e) => e.class(),
        }
    }

    /// What the person can do about it, when there is something.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            PayloadError::Edit(EditError::AmbiguousService { .. }) => Some(Hint::ChooseServiceApiVersion),
            _ => None,
        }
    }
}

impl From<EditError> for PayloadError {
    fn from(error: EditError) -> Self {
        PayloadError::Edit(error)
    }
}

impl From<PemError> for PayloadError {
    fn from(error: PemError) -> Self {
        PayloadError::Pem(error)
    }
}

impl From<KeyError> for PayloadError {
    fn from(error: KeyError) -> Self {
        PayloadError::Key(error)
    }
}

/// PEM text that is not what was expected. Labels come from the text, so they are escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PemError {
    #[error("no PEM `CERTIFICATE` block found")]
    NoCertificate,
    #[error("PEM block {index} is labelled `{}`, expected `CERTIFICATE`", escape(label))]
    NotACertificate { index: usize, label: String },
    #[error("expected exactly one PEM block with a public key, found {found}")]
    KeyBlockCount { found: usize },
    #[error(
        "a PEM block labelled `{}` is not a public key (expected `PUBLIC KEY` or `RSA PUBLIC KEY`)",
        escape(label)
    )]
    NotAPublicKey { label: String },
    #[error("a PEM BEGIN line is not closed by `-----`")]
    BeginNotClosed,
    #[error("the PEM block `{}` has no END line", escape(label))]
    NoEnd { label: String },
    #[error("a PEM END line is not closed by `-----`")]
    EndNotClosed,
    #[error("the PEM block `{}` ends with `{}`", escape(label), escape(end))]
    EndMismatch { label: String, end: String },
    /// `reason` is the base64 decoder's message.
    #[error("the PEM block `{}` is not valid base64: {reason}", escape(label))]
    NotBase64 { label: String, reason: String },
    /// `reason` is the PEM encoder's message.
    #[error("cannot write PEM: {reason}")]
    Write { reason: String },
}

/// An edit refused. `path` fields are JSON paths (`$.tlogs[1]`); URLs and operators are the
/// caller's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// An instance names its operator only in the v0.2 media type.
    #[error(
        "`operator` needs the v0.2 media type ({TRUSTED_ROOT_MEDIA_TYPE_V02}); this file is {}. \
         Deployed clients read the legacy media type only, so keep operators for a separate v0.2 file",
        media_type.as_deref().unwrap_or("without a media type")
    )]
    OperatorNeedsV02 { media_type: Option<String> },
    /// `add_log` was called with a section of authorities.
    #[error("add_log takes tlogs or ctlogs")]
    NotALogSection,
    /// `add_authority` was called with a section of logs.
    #[error("add_authority takes certificateAuthorities or timestampAuthorities")]
    NotAnAuthoritySection,
    #[error("the log URL is empty")]
    EmptyLogUrl,
    #[error("unknown hash algorithm `{name}` (known: {})", super::keys::HASH_ALGORITHMS.join(", "))]
    UnknownHashAlgorithm { name: String },
    #[error("checkpoint log IDs are for Rekor v2 transparency logs, not CT logs")]
    CheckpointForCtLog,
    /// `kind` is the key's description (`an ECDSA P-256`, ...).
    #[error("trustroot computes Rekor v2 checkpoint log IDs for Ed25519 keys; this key is {kind}")]
    CheckpointNeedsEd25519 { kind: String },
    #[error(
        "{path} already has log ID {log_id} ({}); retire it or edit its dates instead of adding it twice",
        url.as_deref().unwrap_or("no baseUrl")
    )]
    DuplicateLog {
        path: String,
        log_id: String,
        url: Option<String>,
    },
    #[error("the certificate chain is empty")]
    EmptyChain,
    #[error("{path} already has this certificate chain")]
    DuplicateChain { path: String },
    #[error("{path} does not exist")]
    NoSuchInstance { path: String },
    /// The document's own start of the window cannot be read.
    #[error("{path}: {reason}")]
    UnreadableStart { path: String, reason: TimeError },
    #[error("the end {} is before the window's start {start}", time::format(end))]
    EndBeforeWindowStart { end: DateTime<Utc>, start: String },
    #[error("the end {} is before the start {}", time::format(end), time::format(start))]
    EndBeforeStart { end: DateTime<Utc>, start: DateTime<Utc> },
    #[error(
        "the start {} is after a certificate in the chain expires ({})",
        time::format(start),
        time::format(expiry)
    )]
    StartAfterChainExpiry {
        start: DateTime<Utc>,
        expiry: DateTime<Utc>,
    },
    #[error(
        "the end {} is after a certificate in the chain expires ({}); end the window by then",
        time::format(end),
        time::format(expiry)
    )]
    EndAfterChainExpiry { end: DateTime<Utc>, expiry: DateTime<Utc> },
    #[error("`{url}` is not a URL with a scheme and a host")]
    NotAServiceUrl { url: String },
    #[error("the operator is empty; give a scheme-less URI such as sigstore.dev")]
    EmptyOperator,
    #[error("the end is before the start")]
    ServiceEndBeforeStart,
    /// A v0.1 list (`tlogUrls`, `tsaUrls`) that already has the URL.
    #[error("{path} already lists {url}")]
    DuplicateUrl { path: String, url: String },
    #[error("{path} already lists {url} with API version {api_version}")]
    DuplicateService {
        path: String,
        url: String,
        api_version: u32,
    },
    /// `noun` and `field` name the kind of service (`certificate authority`, `caUrls`).
    #[error("no {noun} in {field} has the URL {url}")]
    NoSuchService {
        noun: &'static str,
        field: &'static str,
        url: String,
    },
    /// Several services share the URL, with different API versions.
    #[error("{url} is listed {count} times in {field}")]
    AmbiguousService {
        url: String,
        count: usize,
        field: &'static str,
    },
}

impl EditError {
    /// A published start that cannot be read is the document's failure; every other
    /// refusal is of what the caller asked.
    pub fn class(&self) -> ErrorClass {
        match self {
            EditError::UnreadableStart { .. } => ErrorClass::Repository,
            _ => ErrorClass::Usage,
        }
    }
}
