//! Errors of the signing side: each one names the file, policy field or role it concerns.

use std::path::{Path, PathBuf};

use trustroot_core::display::escape;
use trustroot_core::{ErrorClass, Hint};

/// A path for a message, escaped: names under `targets/` or `metadata/` can come from
/// anyone who could put a file there.
fn shown(path: &Path) -> String {
    escape(&path.display().to_string()).into_owned()
}

/// A result with a ceremony [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a ceremony step failed. Nothing staged changes when a step fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read, written or understood.
    #[error("{}: {reason}", shown(path))]
    File { path: PathBuf, reason: String },
    /// The policy (`trustroot.toml`) is invalid; `field` is its dotted name.
    #[error("trustroot.toml: {field}: {reason}")]
    Policy { field: String, reason: String },
    /// A private key could not be decrypted with the passphrase given.
    #[error("{what}: wrong passphrase (or the key file is damaged)")]
    WrongPassphrase { what: String },
    /// A step was refused; the message says why and what to do.
    #[error("{0}")]
    Refused(String),
    /// TUF metadata was refused by the core checks.
    #[error(transparent)]
    Core(#[from] trustroot_core::Error),
}

impl Error {
    pub fn file(path: &Path, reason: impl std::fmt::Display) -> Self {
        Error::File {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }

    pub fn policy(field: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Error::Policy {
            field: field.into(),
            reason: reason.to_string(),
        }
    }

    pub fn refused(reason: impl std::fmt::Display) -> Self {
        Error::Refused(reason.to_string())
    }

    /// Which kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::File { .. } => ErrorClass::Io,
            Error::Policy { .. } | Error::WrongPassphrase { .. } | Error::Refused(_) => ErrorClass::LocalState,
            Error::Core(e) => e.class(),
        }
    }

    /// What the person can do about it, when there is something.
    pub fn hint(&self) -> Option<Hint> {
        None
    }
}
