//! Errors of fetching and updating, each naming the URL, file or role concerned.

use std::path::{Path, PathBuf};
use std::time::Duration;

use trustroot_core::ErrorClass;
use trustroot_core::display::escape;

/// A path for a message: it can hold a role name or a target path from the repository.
fn shown(path: &Path) -> String {
    escape(&path.display().to_string()).into_owned()
}

/// A failure to get bytes from a repository. URLs are escaped when shown: they hold role
/// names and target paths from the repository.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The server has no such file (HTTP 403, 404 or 410, or a missing local file).
    #[error("{}: not found", escape(url))]
    NotFound { url: String },
    #[error("{}: HTTP status {status}", escape(url))]
    Status { url: String, status: u16 },
    #[error(
        "{}: response exceeds the limit of {limit} bytes (endless data refused)",
        escape(url)
    )]
    TooLarge { url: String, limit: u64 },
    #[error("{}: no complete response within {after:?} (slow or stalled server)", escape(url))]
    Timeout { url: String, after: Duration },
    #[error("{}: {}", escape(url), escape(reason))]
    Transport { url: String, reason: String },
    #[error("{}: unsupported URL scheme (use http, https or file)", escape(url))]
    UnsupportedScheme { url: String },
}

impl FetchError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, FetchError::NotFound { .. })
    }

    /// A server that answers wrongly or too much is the repository's failure; one that
    /// cannot be reached, or too slowly, is I/O.
    pub fn class(&self) -> ErrorClass {
        match self {
            FetchError::NotFound { .. } | FetchError::Status { .. } | FetchError::TooLarge { .. } => {
                ErrorClass::Repository
            }
            FetchError::Timeout { .. } | FetchError::Transport { .. } => ErrorClass::Io,
            FetchError::UnsupportedScheme { .. } => ErrorClass::Usage,
        }
    }
}

/// A failure of an update or a download.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// Metadata or a target failed verification.
    #[error("{0}")]
    Verify(#[from] trustroot_core::Error),
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error("{}: {source}", shown(path))]
    Io { path: PathBuf, source: std::io::Error },
    /// No trusted targets role lists the target.
    #[error("target '{}' is not listed by any trusted targets role", escape(target))]
    TargetNotFound { target: String },
    #[error("{0}")]
    Config(String),
}

impl UpdateError {
    /// Which kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            UpdateError::Verify(e) => e.class(),
            UpdateError::Fetch(e) => e.class(),
            UpdateError::Io { .. } => ErrorClass::Io,
            UpdateError::TargetNotFound { .. } => ErrorClass::Usage,
            UpdateError::Config(_) => ErrorClass::LocalState,
        }
    }

    /// What the person can do about it, when there is something.
    pub fn hint(&self) -> Option<trustroot_core::Hint> {
        None
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        UpdateError::Io {
            path: path.into(),
            source,
        }
    }
}

/// The store's refusals, in a mirror's words.
impl From<trustroot_store::Error> for UpdateError {
    fn from(error: trustroot_store::Error) -> Self {
        use trustroot_store::Error as Store;
        let message = match error {
            Store::Io { path, source } => return UpdateError::Io { path, source },
            Store::Symlink { path } => format!(
                "{} is a symlink, which a mirror never contains; remove it",
                path.display()
            ),
            Store::Special { path } => format!("{} is not a regular file or directory; remove it", path.display()),
            Store::NotALink { path } => format!(
                "{} is not the symlink a mirror sync makes; refusing to touch it",
                path.display()
            ),
            Store::ForeignTarget { path, target } => format!(
                "{} points at {}, not at a mirror state; refusing to follow it",
                path.display(),
                target.display()
            ),
            other => other.to_string(),
        };
        UpdateError::Config(message)
    }
}
