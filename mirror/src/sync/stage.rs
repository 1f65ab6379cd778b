//! The second step of a sync: the new state, built in `staging/tree`. Metadata is written
//! from the exact bytes verified; a target is kept from an interrupted sync after
//! re-hashing, or hard-linked from the served state when it is unchanged, or else queued
//! for download. After the downloads, superseded files are carried over for their grace
//! period and anything else left in staging goes.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use trustroot_core::hashes::sha256_hex;
use trustroot_store::Durability;

use super::desired::{Wanted, WantedTarget};
use super::fetch::Download;
use super::plan::Current;
use super::{SyncOptions, SyncSummary};
use crate::download::file_matches;
use crate::error::UpdateError;
use crate::layout::{MirrorDir, check_plain, scan_files};
use crate::manifest::{FileEntry, mtime_ns};
use crate::tree_path::TreePath;

/// The state being built in `staging/tree`: every create, link and remove in it goes
/// through here, by [`TreePath`], so nothing outside the tree is ever touched. It also
/// records the files to sync before the switch, and the directories already made
/// (thousands of targets share a few, and nothing else removes them while the state is
/// built).
#[derive(Default)]
pub(super) struct StagedTree {
    /// `staging/tree`.
    pub root: PathBuf,
    pub unsynced: Vec<PathBuf>,
    dirs: HashSet<PathBuf>,
    /// True when the tree was empty when this sync started staging: every name in it is
    /// then one this sync put there once, and a link needs no leftover removed first (one
    /// system call fewer per target; a name taken after all fails the link, loudly).
    fresh: bool,
}

impl StagedTree {
    /// A tree at `root` that may hold leftovers (each name is cleared before it is linked).
    pub fn at(root: PathBuf) -> StagedTree {
        StagedTree {
            root,
            ..Default::default()
        }
    }

    pub fn path(&self, name: &TreePath) -> PathBuf {
        name.under(&self.root)
    }

    /// Makes the directories `name` lies in.
    pub fn make_parent(&mut self, name: &TreePath) -> Result<(), UpdateError> {
        if let Some(parent) = self.path(name).parent()
            && !self.dirs.contains(parent)
        {
            std::fs::create_dir_all(parent).map_err(|e| UpdateError::io(parent, e))?;
            self.dirs.insert(parent.to_path_buf());
        }
        Ok(())
    }

    /// Removes what is at `name` in the tree (a leftover of an interrupted sync, or of an
    /// earlier layout), never following a symlink.
    fn remove(&self, name: &TreePath) -> Result<(), UpdateError> {
        remove_if_exists(&self.path(name))
    }

    /// Links `name` to `source` (a file of the served state, or of this tree), replacing
    /// whatever a leftover put there.
    pub fn link(&mut self, source: &Path, name: &TreePath) -> Result<(), UpdateError> {
        self.make_parent(name)?;
        if !self.fresh {
            self.remove(name)?;
        }
        let destination = self.path(name);
        std::fs::hard_link(source, &destination).map_err(|e| UpdateError::io(&destination, e))?;
        trustroot_store::crash::after_write();
        Ok(())
    }
}

/// The new state as staged before the downloads.
pub(super) struct Staged {
    pub tree: StagedTree,
    /// The manifest entry of every file in the tree, by name.
    pub files: BTreeMap<String, FileEntry>,
    /// The targets still to fetch, by the digest that names their content.
    pub downloads: BTreeMap<String, Download>,
}

pub(super) fn remove_if_exists(path: &Path) -> Result<(), UpdateError> {
    Ok(trustroot_store::remove_if_exists(path)?)
}

/// Prepares `staging/`: kept from an interrupted sync (its tree is reused after
/// re-hashing), or recovered from a state that was built but never served, or new.
pub(super) fn prepare_staging(layout: &MirrorDir, current: Option<u64>) -> Result<(), UpdateError> {
    let staging = layout.staging();
    let states = layout.states();
    for entry in std::fs::read_dir(&states).map_err(|e| UpdateError::io(&states, e))? {
        let entry = entry.map_err(|e| UpdateError::io(&states, e))?;
        let n = entry.file_name().to_str().and_then(|s| s.parse::<u64>().ok());
        if n.is_some() && n == current {
            continue;
        }
        let meta = std::fs::symlink_metadata(entry.path()).map_err(|e| UpdateError::io(entry.path(), e))?;
        check_plain(&entry.path(), &meta)?;
        let unserved = n.is_some_and(|n| n > current.unwrap_or(0));
        if unserved && !staging.exists() {
            std::fs::rename(entry.path(), &staging).map_err(|e| UpdateError::io(&staging, e))?;
        } else {
            remove_if_exists(&entry.path())?;
        }
    }
    if let Ok(meta) = std::fs::symlink_metadata(&staging) {
        check_plain(&staging, &meta)?;
    }
    let tree = staging.join("tree");
    std::fs::create_dir_all(&tree).map_err(|e| UpdateError::io(&tree, e))?;
    scan_files(&tree)?;
    remove_if_exists(&staging.join("client"))?;
    remove_if_exists(&staging.join(crate::manifest::FILE))?;
    remove_if_exists(&staging.join(super::quick::FILE))?;
    Ok(())
}

pub(super) fn within_grace(entry: &FileEntry, now: DateTime<Utc>, keep: chrono::Duration) -> bool {
    match entry.superseded_at.as_deref().and_then(trustroot_core::time::parse) {
        Some(since) => now - since < keep,
        None => true,
    }
}

/// True when the served file still has the size and modification time recorded.
pub(super) fn unchanged(path: &Path, entry: &FileEntry) -> bool {
    std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.file_type().is_file() && m.len() == entry.size && mtime_ns(&m) == entry.mtime_ns)
}

pub(super) fn file_sha256(path: &Path) -> Result<String, UpdateError> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).map_err(|e| UpdateError::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buffer).map_err(|e| UpdateError::io(path, e))?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buffer[..n]);
    }
}

/// The manifest entry of a verified target at `path`.
pub(super) fn target_entry(path: &Path, target: &WantedTarget) -> Result<FileEntry, UpdateError> {
    let meta = std::fs::metadata(path).map_err(|e| UpdateError::io(path, e))?;
    let sha256 = match target.hash("sha256") {
        Some(digest) => digest.to_lowercase(),
        None => file_sha256(path)?,
    };
    Ok(FileEntry {
        size: meta.len(),
        mtime_ns: mtime_ns(&meta),
        sha256,
        superseded_at: None,
    })
}

/// Builds the next state in `staging/tree` from every file `wanted`, short of the targets
/// to download. Files written here are synced together, once, before the state is
/// switched to (a resumed sync re-hashes what an interrupted one left, so nothing relies
/// on them earlier).
pub(super) fn stage(
    staging: &Path,
    current: Option<&Current>,
    wanted: &BTreeMap<TreePath, Wanted>,
    options: &SyncOptions,
    summary: &mut SyncSummary,
) -> Result<Staged, UpdateError> {
    let history = staging.join("client").join("root_history");
    let mut tree = StagedTree {
        root: staging.join("tree"),
        ..Default::default()
    };
    let resuming = !scan_files(&tree.root)?.is_empty();
    tree.fresh = !resuming;
    let mut files: BTreeMap<String, FileEntry> = BTreeMap::new();
    let mut downloads: BTreeMap<String, Download> = BTreeMap::new();
    for (path, want) in wanted {
        match want {
            Wanted::Metadata(bytes) => {
                let entry = stage_metadata(&mut tree, &history, path, bytes)?;
                files.insert(path.as_str().to_string(), entry);
            }
            Wanted::Target(target) => {
                if resuming && let Some(entry) = resume_target(&mut tree, path, target)? {
                    files.insert(path.as_str().to_string(), entry);
                    summary.files_resumed += 1;
                    continue;
                }
                if let Some(entry) = reuse_target(&mut tree, current, path, target, options.verify_all)? {
                    summary.files_reused += 1;
                    summary.bytes_reused += entry.size;
                    files.insert(path.as_str().to_string(), entry);
                    continue;
                }
                // The same content under its other hash name is fetched once (every target
                // kept has a usable sha256 or sha512: see `target_names`).
                let Some(key) = target.preferred_hash() else {
                    continue;
                };
                downloads
                    .entry(key.to_string())
                    .or_insert_with(|| Download {
                        target: Arc::clone(target),
                        paths: Vec::new(),
                    })
                    .paths
                    .push(path.clone());
            }
        }
    }
    Ok(Staged { tree, files, downloads })
}

/// Writes a metadata file from the bytes verified (unless an identical copy is there
/// already) and returns its manifest entry.
fn stage_metadata(
    tree: &mut StagedTree,
    history: &Path,
    path: &TreePath,
    bytes: &[u8],
) -> Result<FileEntry, UpdateError> {
    let destination = tree.path(path);
    tree.make_parent(path)?;
    // A root version is linked from the verified history it was read from.
    let linked = path.as_str().ends_with(".root.json")
        && path.parents().next().is_none()
        && std::fs::symlink_metadata(&destination).is_err()
        && std::fs::hard_link(path.under(history), &destination).is_ok();
    let unchanged_copy = linked || std::fs::read(&destination).is_ok_and(|existing| existing == *bytes);
    if !unchanged_copy {
        trustroot_store::write_replacing(&destination, bytes, Durability::Deferred)?;
        trustroot_store::crash::after_write();
    }
    tree.unsynced.push(destination.clone());
    let meta = std::fs::metadata(&destination).map_err(|e| UpdateError::io(&destination, e))?;
    Ok(FileEntry {
        size: meta.len(),
        mtime_ns: mtime_ns(&meta),
        sha256: sha256_hex(bytes),
        superseded_at: None,
    })
}

/// A target an interrupted sync left at `path`: kept when it re-hashes to what the
/// metadata says (never trusted blindly), removed otherwise.
fn resume_target(
    tree: &mut StagedTree,
    path: &TreePath,
    target: &WantedTarget,
) -> Result<Option<FileEntry>, UpdateError> {
    let destination = tree.path(path);
    if std::fs::symlink_metadata(&destination).is_err() {
        return Ok(None);
    }
    if file_matches(&destination, &target.name, &target.target_file())? {
        let entry = target_entry(&destination, target)?;
        tree.unsynced.push(destination);
        return Ok(Some(entry));
    }
    tree.remove(path)?;
    Ok(None)
}

/// A target still served and untouched since the last sync: linked, not re-hashed.
fn reuse_target(
    tree: &mut StagedTree,
    current: Option<&Current>,
    path: &TreePath,
    target: &WantedTarget,
    verify_all: bool,
) -> Result<Option<FileEntry>, UpdateError> {
    let Some(current) = current else {
        return Ok(None);
    };
    let Some(entry) = current.manifest.files.get(path.as_str()) else {
        return Ok(None);
    };
    let source = path.under(&current.tree);
    // Same name, size and time is not enough without consistent snapshots (a target can
    // change under its name): the recorded hash must match too, and a target listed
    // without sha256 is re-hashed.
    let reusable = entry.size == target.length
        && match target.hash("sha256") {
            Some(digest) if !digest.eq_ignore_ascii_case(&entry.sha256) => false,
            Some(_) if !verify_all => unchanged(&source, entry),
            _ => file_matches(&source, &target.name, &target.target_file())?,
        };
    if !reusable {
        return Ok(None);
    }
    tree.link(&source, path)?;
    Ok(Some(FileEntry {
        superseded_at: None,
        ..entry.clone()
    }))
}

/// Superseded files of the served state stay for their grace period; those past it, or
/// changed since, are pruned.
pub(super) fn carry_superseded(
    staged: &mut Staged,
    current: Option<&Current>,
    wanted: &BTreeMap<TreePath, Wanted>,
    options: &SyncOptions,
    summary: &mut SyncSummary,
) -> Result<(), UpdateError> {
    let Some(current) = current else {
        return Ok(());
    };
    for (recorded, entry) in &current.manifest.files {
        // The manifest is a file on disk: a name in it that is no safe tree path is
        // never joined to a directory, only dropped.
        let Ok(path) = TreePath::new(recorded) else {
            summary.files_pruned += 1;
            continue;
        };
        if wanted.contains_key(&path) {
            continue;
        }
        let since = entry
            .superseded_at
            .clone()
            .unwrap_or_else(|| trustroot_core::time::format(&options.now));
        let entry = FileEntry {
            superseded_at: Some(since),
            ..entry.clone()
        };
        let source = path.under(&current.tree);
        if within_grace(&entry, options.now, options.keep) && unchanged(&source, &entry) {
            // Linked afresh: a leftover of an interrupted sync may not be this file.
            staged.tree.link(&source, &path)?;
            staged.files.insert(recorded.clone(), entry);
            summary.files_in_grace += 1;
        } else {
            summary.files_pruned += 1;
        }
    }
    Ok(())
}

/// Anything else left in staging (a resumed file no longer wanted) goes: names read from
/// the tree itself, which holds no symlink (scan_files refuses them).
pub(super) fn remove_leftovers(staged: &Staged) -> Result<(), UpdateError> {
    for (relative, _) in scan_files(&staged.tree.root)? {
        if !staged.files.contains_key(&relative) {
            let leftover = staged.tree.root.join(&relative);
            std::fs::remove_file(&leftover).map_err(|e| UpdateError::io(&leftover, e))?;
        }
    }
    Ok(())
}
