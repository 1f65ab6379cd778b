//! Replacing one file so that a reader, or a crash, sees the old bytes or the new, never
//! half: a temporary file in the same directory (so the rename cannot cross file systems),
//! synced, renamed over the target, and the rename synced.

use std::io::Write as _;
use std::path::Path;

use tempfile::NamedTempFile;

use crate::durable::sync_dir;
use crate::error::Error;

/// Whether a write is made durable on its own, before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The file and the rename are synced before the write returns.
    Synced,
    /// No sync: for a directory made durable as a whole before anything relies on it
    /// (a mirror's `staging/`, see [`crate::sync_files`]).
    Deferred,
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A new temporary file in `dir`, hidden and without a `.json` suffix, so that a reader
/// listing the directory (a publish's recovery, a mirror's scan) never takes it for
/// metadata. It is created exclusively under a fresh random name: never opened through a
/// symlink or a leftover of a crashed run.
pub fn temp_file_in(dir: &Path) -> Result<NamedTempFile, Error> {
    tempfile::Builder::new()
        .prefix(".trustroot-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))
}

/// Makes the fully written `temp` the file at `path` (in the same directory): readable by
/// all, synced when `durability` asks, renamed over `path`, and the rename synced.
pub fn persist(temp: NamedTempFile, path: &Path, durability: Durability) -> Result<(), Error> {
    make_readable(temp.as_file(), temp.path())?;
    if durability == Durability::Synced {
        temp.as_file().sync_all().map_err(|e| Error::io(temp.path(), e))?;
    }
    temp.persist(path).map_err(|e| Error::io(path, e.error))?;
    if durability == Durability::Synced {
        sync_dir(parent_of(path))?;
    }
    Ok(())
}

/// Replaces the file at `path` with `bytes` (see the module documentation). A symlink at
/// `path` is replaced, never written through.
pub fn write_replacing(path: &Path, bytes: &[u8], durability: Durability) -> Result<(), Error> {
    let mut temp = temp_file_in(parent_of(path))?;
    temp.write_all(bytes).map_err(|e| Error::io(temp.path(), e))?;
    persist(temp, path, durability)
}

/// [`write_replacing`], synced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_replacing(path, bytes, Durability::Synced)
}

/// Reads a file if it exists; any other error is reported.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// What the store writes is public (published metadata and targets, a signing
/// repository's files, Sigstore payloads): readable by a web server's user, where a
/// temporary file starts as 0600.
pub fn make_readable(file: &std::fs::File, path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn a_write_replaces_the_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomic(&path, b"old").unwrap();
        write_replacing(&path, b"new", Durability::Deferred).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.json"]);
    }

    #[test]
    fn a_symlink_at_the_path_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let path = dir.path().join("link");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert!(std::fs::symlink_metadata(&path).unwrap().is_file());
    }

    #[test]
    fn a_write_into_a_missing_directory_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let error = write_atomic(&missing.join("a"), b"x").unwrap_err();
        assert_eq!(error.path(), missing);
    }

    #[test]
    fn read_optional_tells_a_missing_file_from_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_optional(&dir.path().join("none")).unwrap().is_none());
        assert!(read_optional(dir.path()).is_err());
    }
}
