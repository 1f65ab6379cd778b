//! Syncs that make renames, links and whole directories durable. Every failure is
//! returned: a caller that goes on to serve a state must know it may not survive a crash.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// Files synced at once by [`fsync_each`]: a file system commits concurrent syncs together,
/// so thousands of small files take a fraction of the time one at a time would.
const SYNC_THREADS: usize = 16;

/// Makes the entries of `dir` (renames, links, removals in it) durable.
pub fn sync_dir(dir: &Path) -> Result<(), Error> {
    std::fs::File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// [`sync_dir`] of `dir` and of every directory under it (symlinks are not followed).
pub fn sync_dirs(dir: &Path) -> Result<(), Error> {
    sync_dir(dir)?;
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
        if kind.is_dir() {
            sync_dirs(&entry.path())?;
        }
    }
    Ok(())
}

/// Makes a whole tree durable before it is renamed into place: every regular file in it
/// ([`sync_files`]), then every directory ([`sync_dirs`]). Symlinks are not followed.
pub fn sync_tree(dir: &Path) -> Result<(), Error> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).map_err(|e| Error::io(&current, e))? {
            let entry = entry.map_err(|e| Error::io(&current, e))?;
            let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    sync_files(dir, &files)?;
    sync_dirs(dir)
}

/// Makes every file in `paths`, all under `dir`, durable. On Linux one `syncfs(2)` of the
/// file system holding `dir` does it (ten thousand small files in well under a second,
/// where one `fsync` each takes seconds); elsewhere, or if that fails, each file is synced,
/// several at a time.
pub fn sync_files(dir: &Path, paths: &[PathBuf]) -> Result<(), Error> {
    if paths.is_empty() {
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    if std::fs::File::open(dir).is_ok_and(|d| rustix::fs::syncfs(&d).is_ok()) {
        return Ok(());
    }
    fsync_each(dir, paths)
}

/// `fsync` of every file in `paths`, several at a time.
fn fsync_each(dir: &Path, paths: &[PathBuf]) -> Result<(), Error> {
    let per_thread = paths.len().div_ceil(SYNC_THREADS);
    std::thread::scope(|scope| {
        let workers: Vec<_> = paths
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    for path in chunk {
                        std::fs::File::open(path)
                            .and_then(|f| f.sync_all())
                            .map_err(|e| Error::io(path, e))?;
                    }
                    Ok(())
                })
            })
            .collect();
        let mut result = Ok(());
        for worker in workers {
            let outcome = worker
                .join()
                .unwrap_or_else(|_| Err(Error::io(dir, std::io::Error::other("a sync thread panicked"))));
            if result.is_ok() {
                result = outcome;
            }
        }
        result
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_sync_of_a_missing_directory_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        assert_eq!(sync_dir(&missing).unwrap_err().path(), missing);
        assert!(sync_dirs(&missing).is_err());
    }

    #[test]
    fn every_file_and_directory_of_a_tree_syncs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        let files: Vec<PathBuf> = (0..40).map(|i| dir.path().join(format!("a/b/{i}"))).collect();
        for file in &files {
            std::fs::write(file, b"x").unwrap();
        }
        sync_dirs(dir.path()).unwrap();
        sync_tree(dir.path()).unwrap();
        sync_files(dir.path(), &files).unwrap();
        fsync_each(dir.path(), &files).unwrap();
        let missing = [dir.path().join("missing")];
        assert!(fsync_each(dir.path(), &missing).is_err());
    }
}
