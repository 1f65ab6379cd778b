//! Writing files so that a reader or a crash sees the old bytes or the new, never half.

use std::io::Write as _;
use std::path::Path;

use crate::error::UpdateError;

/// Writes `bytes` to `dir/name` through a hidden temporary file (no `.json` suffix) in the
/// same directory, synced, then renamed over the target.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), UpdateError> {
    write_replacing(dir, name, bytes, true)
}

/// [`write_atomic`], with the syncs left out when `durable` is false: for a directory that
/// is made durable as a whole before anything can rely on it (a mirror's `staging/`, see
/// [`sync_files`]).
pub fn write_replacing(dir: &Path, name: &str, bytes: &[u8], durable: bool) -> Result<(), UpdateError> {
    let path = dir.join(name);
    let mut temp = tempfile::Builder::new()
        .prefix(".trustroot-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| UpdateError::io(dir, e))?;
    temp.write_all(bytes).map_err(|e| UpdateError::io(temp.path(), e))?;
    make_readable(temp.as_file(), temp.path())?;
    if durable {
        temp.as_file().sync_all().map_err(|e| UpdateError::io(temp.path(), e))?;
    }
    temp.persist(&path).map_err(|e| UpdateError::io(&path, e.error))?;
    if durable {
        sync_dir(dir);
    }
    Ok(())
}

/// Files synced at once by [`fsync_each`]: a file system commits concurrent syncs together,
/// so thousands of small files take a fraction of the time one at a time would.
const SYNC_THREADS: usize = 16;

/// Makes every file in `paths`, all under `dir`, durable. On Linux one `syncfs(2)` of the
/// file system holding `dir` does it (ten thousand small files in well under a second,
/// where one `fsync` each takes seconds); elsewhere, or if that fails, each file is synced,
/// several at a time.
pub fn sync_files(dir: &Path, paths: &[std::path::PathBuf]) -> Result<(), UpdateError> {
    if paths.is_empty() {
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    if std::fs::File::open(dir).is_ok_and(|d| rustix::fs::syncfs(&d).is_ok()) {
        return Ok(());
    }
    #[cfg(not(target_os = "linux"))]
    let _ = dir;
    fsync_each(paths)
}

/// `fsync` of every file in `paths`, several at a time.
fn fsync_each(paths: &[std::path::PathBuf]) -> Result<(), UpdateError> {
    let per_thread = paths.len().div_ceil(SYNC_THREADS);
    std::thread::scope(|scope| {
        let workers: Vec<_> = paths
            .chunks(per_thread)
            .map(|chunk| {
                scope.spawn(move || {
                    for path in chunk {
                        std::fs::File::open(path)
                            .and_then(|f| f.sync_all())
                            .map_err(|e| UpdateError::io(path, e))?;
                    }
                    Ok(())
                })
            })
            .collect();
        let mut result = Ok(());
        for worker in workers {
            let outcome = worker
                .join()
                .unwrap_or_else(|_| Err(UpdateError::Config("a sync thread panicked".into())));
            if result.is_ok() {
                result = outcome;
            }
        }
        result
    })
}

/// Makes a rename durable. Failure is not fatal: the rename itself already happened.
pub fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// Reads a file if it exists; any other error is reported.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, UpdateError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(UpdateError::io(path, e)),
    }
}

/// Published metadata and targets are public: readable by a web server's user (temporary
/// files start as 0600).
pub fn make_readable(file: &std::fs::File, path: &Path) -> Result<(), UpdateError> {
    use std::os::unix::fs::PermissionsExt as _;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(|e| UpdateError::io(path, e))
}
