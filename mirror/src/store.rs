//! Writing files so that a reader or a crash sees the old bytes or the new, never half.

use std::io::Write as _;
use std::path::Path;

use crate::error::UpdateError;

/// Writes `bytes` to `dir/name` through a hidden temporary file (no `.json` suffix) in the
/// same directory, synced, then renamed over the target.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), UpdateError> {
    let path = dir.join(name);
    let mut temp = tempfile::Builder::new()
        .prefix(".trustroot-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| UpdateError::io(dir, e))?;
    temp.write_all(bytes).map_err(|e| UpdateError::io(temp.path(), e))?;
    make_readable(temp.as_file(), temp.path())?;
    temp.as_file().sync_all().map_err(|e| UpdateError::io(temp.path(), e))?;
    temp.persist(&path).map_err(|e| UpdateError::io(&path, e.error))?;
    sync_dir(dir);
    Ok(())
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
