//! Errors of the signing side: each one names the file, policy field, role, version or
//! round it concerns, as data, so a caller can act on it without reading the sentence.
//!
//! [`Error`] sorts a failure by subject; each subject has its own enum in a submodule.
//! [`Error::class`] says which kind of failure it is and [`Error::hint`] which remedy
//! applies; only the command line turns a hint into words with flag and command names.

mod attestation;
mod edit;
mod file;
mod import;
mod key;
mod kms;
mod policy;
mod publish;
mod request;
mod round;
mod token;

use std::path::{Path, PathBuf};

use trustroot_core::display::escape;
use trustroot_core::{ErrorClass, Hint};

pub use attestation::AttestationError;
pub use edit::EditError;
pub use file::{FileProblem, IoOp};
pub use import::ImportError;
pub use key::{KdfProblem, KeyError, PrivateKeyProblem, PublicKeyProblem};
pub use kms::{KmsError, Unsuitable};
pub use policy::PolicyProblem;
pub use publish::{Operation, PublishError};
pub use request::{BaselineError, RequestError, RequestProblem, Tamper, UnsafeText};
pub use round::{RoundError, SignatureError, SignatureProblem};
pub use token::{PinTries, TokenError, TokenProblem, UriProblem};

/// A path for a message, escaped: names under `targets/` or `metadata/` can come from
/// anyone who could put a file there.
pub(crate) fn shown(path: &Path) -> String {
    escape(&path.display().to_string()).into_owned()
}

/// A result with a ceremony [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a ceremony step failed. Nothing staged changes when a step fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read, written, created or locked.
    #[error("{}: {op}{source}", shown(path))]
    Io {
        path: PathBuf,
        op: IoOp,
        #[source]
        source: std::io::Error,
    },
    /// A file or directory is there but its content or kind is not what it must be.
    #[error("{}: {problem}", shown(path))]
    File { path: PathBuf, problem: Box<FileProblem> },
    /// The store refused a path it owns (a symlink, a special file...).
    #[error(transparent)]
    Store(trustroot_store::Error),
    /// The policy (`trustroot.toml`) is invalid; `field` is its dotted name.
    #[error("trustroot.toml: {field}: {problem}")]
    Policy { field: String, problem: PolicyProblem },
    /// A private key could not be decrypted with the passphrase given.
    #[error("{what}: wrong passphrase (or the key file is damaged)")]
    WrongPassphrase { what: String },
    /// A key, a key reference or a passphrase is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A PKCS#11 token, its module, PIN or key could not be used.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// An AWS KMS key could not be reached, used or trusted.
    #[error(transparent)]
    Kms(#[from] KmsError),
    /// A change to the policy (a key added or removed, a threshold, a delegation) was refused.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// A YubiKey attestation did not verify, or attests another key.
    #[error(transparent)]
    Attestation(#[from] AttestationError),
    /// A round cannot be started, found or completed as asked.
    #[error(transparent)]
    Round(#[from] RoundError),
    /// A signature could not be made or collected.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// A signing request file is unreadable, altered or stale.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// A request does not follow the root the keyholder holds.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// A publish, an online refresh or a scheduled start was refused.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// A value of ours could not be encoded as JSON.
    #[error("cannot encode {what} as JSON: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// Signed metadata could not be written out (the writer's or the encoder's failure).
    #[error("{role}: cannot write the signed metadata: {source}")]
    WriteMetadata {
        role: trustroot_core::RoleName,
        #[source]
        source: serde_json::Error,
    },
    /// Metadata could not be put in canonical JSON.
    #[error("{what}: cannot make canonical JSON: {source}")]
    Canonical {
        what: String,
        #[source]
        source: trustroot_core::canonical::CanonicalError,
    },
    /// TUF metadata was refused by the core checks.
    #[error(transparent)]
    Core(#[from] trustroot_core::Error),
    /// A push to object storage (`--to`) was refused or failed.
    #[error(transparent)]
    Push(#[from] trustroot_store::object::ObjectError),
    /// `init --import` refused the repository it was given.
    #[error(transparent)]
    Import(Box<ImportError>),
}

impl From<ImportError> for Error {
    fn from(error: ImportError) -> Self {
        Error::Import(Box::new(error))
    }
}

impl Error {
    /// Reading, writing, creating or locking `path` failed.
    pub fn io(path: &Path, op: IoOp, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            op,
            source,
        }
    }

    /// The file or directory at `path` is not what it must be.
    pub fn content(path: &Path, problem: FileProblem) -> Self {
        Error::File {
            path: path.to_path_buf(),
            problem: Box::new(problem),
        }
    }

    /// The policy's field `field` (a dotted name) has `problem`.
    pub fn policy(field: impl Into<String>, problem: PolicyProblem) -> Self {
        Error::Policy {
            field: field.into(),
            problem,
        }
    }

    /// Metadata at `path` that must be of one role type (`what`: "a snapshot"...) is not.
    pub(crate) fn not_role<E: std::fmt::Display>(path: &Path, what: &'static str) -> impl FnOnce(E) -> Self + use<E> {
        let path = path.to_path_buf();
        move |e| {
            Error::content(
                &path,
                FileProblem::NotRole {
                    what,
                    reason: e.to_string(),
                },
            )
        }
    }

    /// Encoding a value of ours (`what` names it) as JSON failed.
    pub(crate) fn encode(what: &'static str) -> impl FnOnce(serde_json::Error) -> Self {
        move |source| Error::Encode { what, source }
    }

    /// Putting metadata (`what` names it) in canonical JSON failed.
    pub(crate) fn canonical(what: impl Into<String>) -> impl FnOnce(trustroot_core::canonical::CanonicalError) -> Self {
        let what = what.into();
        move |source| Error::Canonical { what, source }
    }

    /// Which kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Io { .. } => ErrorClass::Io,
            Error::File { problem, .. } => problem.class(),
            Error::Store(trustroot_store::Error::Io { .. }) => ErrorClass::Io,
            Error::Store(_)
            | Error::Policy { .. }
            | Error::WrongPassphrase { .. }
            | Error::Encode { .. }
            | Error::WriteMetadata { .. }
            | Error::Canonical { .. } => ErrorClass::LocalState,
            Error::Key(e) => e.class(),
            Error::Token(e) => e.class(),
            Error::Kms(e) => e.class(),
            Error::Edit(e) => e.class(),
            Error::Attestation(e) => e.class(),
            Error::Round(e) => e.class(),
            Error::Signature(e) => e.class(),
            Error::Request(e) => e.class(),
            Error::Baseline(_) => ErrorClass::Repository,
            Error::Publish(e) => e.class(),
            Error::Core(e) => e.class(),
            Error::Push(e) => push_class(e),
            Error::Import(e) => e.class(),
        }
    }

    /// What the person can do about it, when there is something.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            Error::File { problem, .. } => problem.hint(),
            Error::Policy { problem, .. } => problem.hint(),
            Error::Key(e) => e.hint(),
            Error::Kms(e) => e.hint(),
            Error::Edit(e) => e.hint(),
            Error::Attestation(e) => e.hint(),
            Error::Round(e) => e.hint(),
            Error::Request(e) => e.hint(),
            Error::Baseline(e) => e.hint(),
            Error::Publish(e) => e.hint(),
            Error::Import(e) => e.hint(),
            _ => None,
        }
    }
}

/// A URL or flag that cannot name a store is a usage error; a store that cannot be
/// reached or refuses the request is I/O; a destination inside the repository, or a store
/// whose content is not what trustroot pushed, is local state to fix.
fn push_class(error: &trustroot_store::object::ObjectError) -> ErrorClass {
    use trustroot_store::object::ObjectError as E;
    match error {
        E::Inside { .. } => ErrorClass::LocalState,
        e if e.is_usage() => ErrorClass::Usage,
        E::Credentials { .. }
        | E::Setup { .. }
        | E::NoBucket { .. }
        | E::Denied { .. }
        | E::Request { .. }
        | E::LocalTree { .. } => ErrorClass::Io,
        E::ReadBack { .. } => ErrorClass::Repository,
        _ => ErrorClass::LocalState,
    }
}
