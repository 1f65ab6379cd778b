//! The repository lock: `ceremony publish` and `online refresh` each hold an exclusive lock
//! on `.trustroot.lock` in the signing repository while they write, so two of them can
//! never both publish (the second fails within two seconds, having written nothing).

use std::fs::{File, OpenOptions, TryLockError};

use crate::error::{Error, IoOp, Operation, PublishError, Result};
use crate::repo::Repo;

/// The lock file, in the signing repository's top directory.
pub const LOCK_FILE: &str = ".trustroot.lock";

/// Held while a publish or a refresh writes; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct RepoLock {
    _file: File,
}

/// How long a second run waits for the lock before it gives up (a lock can be held for an
/// instant by a process forked elsewhere in the same program, before it runs another).
const WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Takes the repository lock for `operation`, or fails after [`WAIT`].
pub fn lock(repo: &Repo, operation: Operation) -> Result<RepoLock> {
    let path = repo.root.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, IoOp::OpenLock, e))?;
    let start = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(RepoLock { _file: file }),
            Err(TryLockError::WouldBlock) if start.elapsed() < WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(PublishError::LockHeld { operation, path }.into());
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, IoOp::Lock, e)),
        }
    }
}
