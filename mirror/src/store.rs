//! Writing files so that a reader or a crash sees the old bytes or the new, never half:
//! trustroot-store's writes, with a mirror's errors and its `(dir, name)` calling shape.

use std::path::{Path, PathBuf};

pub use trustroot_store::Durability;

use crate::error::UpdateError;

/// Writes `bytes` to `dir/name` through a hidden temporary file (no `.json` suffix) in the
/// same directory, synced, then renamed over the target.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), UpdateError> {
    Ok(trustroot_store::write_atomic(&dir.join(name), bytes)?)
}

/// [`write_atomic`], with the syncs left out when `durable` is false: for a directory that
/// is made durable as a whole before anything can rely on it (a mirror's `staging/`, see
/// [`sync_files`]).
pub fn write_replacing(dir: &Path, name: &str, bytes: &[u8], durable: bool) -> Result<(), UpdateError> {
    Ok(trustroot_store::write_replacing(
        &dir.join(name),
        bytes,
        durability(durable),
    )?)
}

/// The store's [`Durability`] for a mirror's `durable` flag.
pub fn durability(durable: bool) -> Durability {
    if durable {
        Durability::Synced
    } else {
        Durability::Deferred
    }
}

/// Makes every file in `paths`, all under `dir`, durable (see [`trustroot_store::sync_files`]).
pub fn sync_files(dir: &Path, paths: &[PathBuf]) -> Result<(), UpdateError> {
    Ok(trustroot_store::sync_files(dir, paths)?)
}

/// Makes the renames and links in `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<(), UpdateError> {
    Ok(trustroot_store::sync_dir(dir)?)
}

/// Reads a file if it exists; any other error is reported.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, UpdateError> {
    Ok(trustroot_store::read_optional(path)?)
}
