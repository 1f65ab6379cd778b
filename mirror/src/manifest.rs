//! The manifest of a mirror state: every served file with its size, modification time and
//! sha256, plus where the mirror syncs from. It lets the next sync reuse a file without
//! fetching or hashing it again, as long as its size and modification time are unchanged.
//!
//! A state updated in place (see the sync's `in_place` module) does not rewrite its
//! manifest of every file: the entries an update adds or changes go to the state's
//! journal, folded in by [`Manifest::read_state`]. The next state built from scratch
//! starts without one.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::UpdateError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub metadata_url: String,
    pub targets_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i128,
    pub sha256: String,
    /// When the file stopped being referenced by current metadata (RFC 3339); it is kept
    /// for clients in the middle of an update until the grace period has passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub origin: Origin,
    /// When this state was built (RFC 3339).
    pub synced_at: String,
    pub files: BTreeMap<String, FileEntry>,
}

pub const FORMAT: u32 = 1;

/// The manifest's file name in a state directory.
pub const FILE: &str = "manifest.json";
/// The journal's file name in a state directory.
pub const JOURNAL: &str = "manifest-journal.json";

/// The manifest entries updates in place added or changed since the state was built, in
/// one file rewritten atomically by each (they are few: the new metadata and targets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub format: u32,
    /// When the last update in place ran (RFC 3339).
    pub synced_at: String,
    pub files: BTreeMap<String, FileEntry>,
}

pub fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128)
}

impl Manifest {
    pub fn read(path: &Path) -> Result<Manifest, UpdateError> {
        let bytes = std::fs::read(path).map_err(|e| UpdateError::io(path, e))?;
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|source| UpdateError::ManifestUnreadable {
            path: path.to_path_buf(),
            source,
        })?;
        if manifest.format != FORMAT {
            return Err(UpdateError::ManifestFormat {
                path: path.to_path_buf(),
                found: manifest.format,
                expected: FORMAT,
            });
        }
        Ok(manifest)
    }

    /// The manifest of state directory `state`, its journal folded in.
    pub fn read_state(state: &Path) -> Result<Manifest, UpdateError> {
        let mut manifest = Manifest::read(&state.join(FILE))?;
        if let Some(journal) = Journal::read(state)? {
            manifest.synced_at = journal.synced_at;
            manifest.files.extend(journal.files);
        }
        Ok(manifest)
    }

    /// The manifest as written to `path`: compact JSON (a third smaller than indented for
    /// 100,000 entries, and as quick to read back). A failure to encode it is a failure to
    /// write it, never an empty file.
    pub fn to_bytes(&self, path: &Path) -> Result<Vec<u8>, UpdateError> {
        serde_json::to_vec(self).map_err(|e| UpdateError::io(path, e.into()))
    }
}

impl Journal {
    /// The journal of state directory `state`; `None` when it has none.
    pub fn read(state: &Path) -> Result<Option<Journal>, UpdateError> {
        let path = state.join(JOURNAL);
        let Some(bytes) = trustroot_store::read_optional(&path)? else {
            return Ok(None);
        };
        let journal: Journal = serde_json::from_slice(&bytes).map_err(|source| UpdateError::ManifestUnreadable {
            path: path.clone(),
            source,
        })?;
        if journal.format != FORMAT {
            return Err(UpdateError::ManifestFormat {
                path,
                found: journal.format,
                expected: FORMAT,
            });
        }
        Ok(Some(journal))
    }

    /// Replaces the journal of `state` atomically and durably.
    pub fn write(&self, state: &Path) -> Result<(), UpdateError> {
        let path = state.join(JOURNAL);
        let bytes = serde_json::to_vec(self).map_err(|e| UpdateError::io(&path, e.into()))?;
        Ok(trustroot_store::write_atomic(&path, &bytes)?)
    }
}
