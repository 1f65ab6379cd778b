//! The store's errors, each naming the path concerned. Callers map them into their own
//! errors (and messages): a mirror and a publish directory say different things about the
//! same refusal.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// A path the store owns is a symlink: it is refused, never followed.
    #[error("{} is a symlink where trustroot keeps its own state; refusing to follow it", path.display())]
    Symlink { path: PathBuf },
    /// A path the store owns is neither a regular file nor a directory.
    #[error("{} is not a regular file or directory", path.display())]
    Special { path: PathBuf },
    /// The served path exists but is not a symlink: something else put it there.
    #[error("{} is not the symlink trustroot makes; refusing to touch it", path.display())]
    NotALink { path: PathBuf },
    /// The served symlink points somewhere other than one of the states.
    #[error("{} points at {}, not at a state; refusing to follow it", path.display(), target.display())]
    ForeignTarget { path: PathBuf, target: PathBuf },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The path the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Error::Io { path, .. }
            | Error::Symlink { path }
            | Error::Special { path }
            | Error::NotALink { path }
            | Error::ForeignTarget { path, .. } => path,
        }
    }
}
