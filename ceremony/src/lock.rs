//! The repository lock: `ceremony publish` and `online refresh` each hold an exclusive lock
//! on `.trustroot.lock` in the signing repository while they write, so two of them can
//! never both publish (the second fails at once, having written nothing).

use std::fs::{File, OpenOptions, TryLockError};

use crate::error::{Error, Result};
use crate::repo::Repo;

/// The lock file, in the signing repository's top directory.
pub const LOCK_FILE: &str = ".trustroot.lock";

/// Held while a publish or a refresh writes; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct RepoLock {
    _file: File,
}

/// Takes the repository lock for `what` (e.g. "online refresh"), or fails at once.
pub fn lock(repo: &Repo, what: &str) -> Result<RepoLock> {
    let path = repo.root.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::file(&path, format!("cannot open the repository lock: {e}")))?;
    match file.try_lock() {
        Ok(()) => Ok(RepoLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(Error::refused(format!(
            "{what} refused: another publish or online refresh holds the repository lock {} (is one running?); nothing was written",
            path.display()
        ))),
        Err(TryLockError::Error(e)) => Err(Error::file(&path, format!("cannot lock: {e}"))),
    }
}
