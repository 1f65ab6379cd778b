//! Errors of fetching and updating, each naming the URL, file or role concerned.

use std::path::PathBuf;
use std::time::Duration;

/// A failure to get bytes from a repository.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server has no such file (HTTP 403, 404 or 410, or a missing local file).
    #[error("{url}: not found")]
    NotFound { url: String },
    #[error("{url}: HTTP status {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: response exceeds the limit of {limit} bytes (endless data refused)")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: no complete response within {after:?} (slow or stalled server)")]
    Timeout { url: String, after: Duration },
    #[error("{url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("{url}: unsupported URL scheme (use http, https or file)")]
    UnsupportedScheme { url: String },
}

impl FetchError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, FetchError::NotFound { .. })
    }
}

/// A failure of an update or a download.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// Metadata or a target failed verification.
    #[error("{0}")]
    Verify(#[from] trustroot_core::Error),
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// No trusted targets role lists the target.
    #[error("target '{target}' is not listed by any trusted targets role")]
    TargetNotFound { target: String },
    #[error("{0}")]
    Config(String),
}

impl UpdateError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        UpdateError::Io {
            path: path.into(),
            source,
        }
    }
}
