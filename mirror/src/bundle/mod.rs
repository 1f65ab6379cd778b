//! Offline bundles: one archive that carries a mirror across an air gap.
//!
//! A bundle is a tar archive (optionally zstd-compressed) holding the served tree under
//! `repository/` and, last, `trustroot-bundle.json`: the length and sha256 of every file.
//! The TUF metadata inside already authenticates everything; the manifest catches damage in
//! transit early and with a clear message. Import never trusts the archive: it unpacks it
//! outside the mirror refusing anything but plain files with safe names, checks the
//! manifest, then runs the full client verification on the unpacked tree (from the site's
//! pinned root, and from the trust the mirror already holds) and updates the mirror
//! through the same atomic switch as `mirror sync`.
//!
//! - `export`: writing a bundle from the served tree.
//! - `members`: reading an untrusted bundle, member by member, within its limits.
//! - `import`: unpacking, verifying and syncing a bundle into a mirror.
//! - `repositories`: a bundle of several named repositories, each one's own bundle inside.

mod export;
mod import;
mod members;
mod repositories;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use self::export::export;
pub use self::import::{ImportOptions, import, unpack_metadata, unpack_targets};
pub use self::repositories::{
    NamedImport, NamedImportOptions, REPOSITORIES_MANIFEST, RepositoriesManifest, export_named, import_named,
};
use crate::error::{BundleProblem, UpdateError};
use crate::manifest::Origin;

/// The name of the manifest member, the last one of a bundle.
pub const MANIFEST_NAME: &str = "trustroot-bundle.json";
const TREE_PREFIX: &str = "repository/";
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// The manifest is read into memory: enough for millions of files, no more.
const MAX_MANIFEST_SIZE: u64 = 256 << 20;

/// The default cap on all of a bundle's members together (`mirror import --max-size`).
pub const DEFAULT_MAX_TOTAL_SIZE: u64 = 16 << 30;

/// Bounds on what an import unpacks: a hostile archive cannot fill the disk. Beyond these,
/// each target is held to the length its verified metadata gives it, and all of them
/// together to the free space where they are written.
#[derive(Debug, Clone)]
pub struct BundleLimits {
    pub max_files: usize,
    pub max_file_size: u64,
    pub max_total_size: u64,
}

impl Default for BundleLimits {
    fn default() -> Self {
        BundleLimits {
            max_files: 1_000_000,
            max_file_size: 8 << 30,
            max_total_size: DEFAULT_MAX_TOTAL_SIZE,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleFile {
    pub length: u64,
    pub sha256: String,
}

/// `trustroot-bundle.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleManifest {
    pub format: u32,
    pub created_at: String,
    /// Where the mirror that made the bundle syncs from.
    pub origin: Origin,
    /// Every file of the served tree, by path relative to it.
    pub files: BTreeMap<String, BundleFile>,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    pub bundle: String,
    pub files: u64,
    pub bytes: u64,
    pub compressed: bool,
}

/// The bundle at `bundle` refused for `problem`.
fn refused(bundle: &Path, problem: BundleProblem) -> UpdateError {
    UpdateError::bundle(bundle, problem)
}

/// A writer that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}
