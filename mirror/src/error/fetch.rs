//! A failure to get bytes from a repository.

use std::time::Duration;

use trustroot_core::ErrorClass;
use trustroot_core::display::escape;

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
    /// The connection or the local file failed; `reason` is the transport's own message.
    #[error("{}: {}", escape(url), escape(reason))]
    Transport { url: String, reason: String },
    /// A `file:` URL that names no local path (one with a host, say).
    #[error("{}: not a local path", escape(url))]
    NotALocalPath { url: String },
    #[error("{}: unsupported URL scheme (use http, https or file)", escape(url))]
    UnsupportedScheme { url: String },
}

impl FetchError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, FetchError::NotFound { .. })
    }

    /// A server that answers wrongly or too much is the repository's failure; one that
    /// cannot be reached, or too slowly, is I/O; a URL no fetcher speaks is the caller's.
    pub fn class(&self) -> ErrorClass {
        match self {
            FetchError::NotFound { .. } | FetchError::Status { .. } | FetchError::TooLarge { .. } => {
                ErrorClass::Repository
            }
            FetchError::Timeout { .. } | FetchError::Transport { .. } => ErrorClass::Io,
            FetchError::NotALocalPath { .. } | FetchError::UnsupportedScheme { .. } => ErrorClass::Usage,
        }
    }
}
