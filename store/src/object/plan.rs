//! What a push will do: the local tree (the committed state, the source of truth) against
//! the manifest of the last push. Pure: no request is made here, so `--dry-run` shows
//! exactly the plan the push then runs.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use super::error::ObjectError;
use super::layout::{self, CacheControl, Entry, Phase};
use super::manifest::{Manifest, Object, Superseded};

/// One file of the local tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub entry: Entry,
}

/// The local tree, by key.
pub type Tree = BTreeMap<String, LocalFile>;

/// Reads and hashes every file under `root`. Symlinks and special files are refused:
/// the published tree holds regular files only, and a link could point anywhere.
pub fn read_tree(root: &Path) -> Result<Tree, ObjectError> {
    let refuse = |path: &Path, reason: String| ObjectError::LocalTree {
        path: path.to_path_buf(),
        reason,
    };
    let mut tree = Tree::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| refuse(&dir, e.to_string()))?;
        for entry in entries {
            let entry = entry.map_err(|e| refuse(&dir, e.to_string()))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| refuse(&path, e.to_string()))?;
            if kind.is_dir() {
                pending.push(path);
                continue;
            }
            if !kind.is_file() {
                return Err(refuse(
                    &path,
                    "not a regular file; a published tree holds files and directories only".into(),
                ));
            }
            let key = key_of(root, &path).ok_or_else(|| refuse(&path, "the name is not UTF-8".into()))?;
            let entry = layout::classify(&key).map_err(|reason| refuse(&path, reason))?;
            let (size, sha256) = hash_file(&path).map_err(|e| refuse(&path, e.to_string()))?;
            tree.insert(
                key,
                LocalFile {
                    path,
                    size,
                    sha256,
                    entry,
                },
            );
        }
    }
    if !tree.contains_key("timestamp.json") {
        return Err(refuse(root, "no timestamp.json: not a published TUF repository".into()));
    }
    Ok(tree)
}

/// `root`-relative, '/'-separated.
fn key_of(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = relative.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(buffer.get(..n).unwrap_or_default());
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// The plan of one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Keys to upload, by phase, in phase order.
    pub uploads: BTreeMap<Phase, Vec<String>>,
    /// Bytes to upload, by phase.
    pub bytes: BTreeMap<Phase, u64>,
    /// Keys already up with the same bytes.
    pub unchanged: usize,
    /// Keys no longer in the tree, superseded now (kept for the grace period).
    pub superseded: Vec<String>,
    /// Keys whose grace period is over: deleted after the timestamp is up.
    pub deletions: Vec<String>,
    /// The new manifest, as it will be once the push completes (before pruning).
    pub manifest: Manifest,
}

impl Plan {
    /// Every key uploaded.
    pub fn upload_count(&self) -> usize {
        self.uploads.values().map(Vec::len).sum()
    }

    /// True when the push changes nothing in the store.
    pub fn is_empty(&self) -> bool {
        self.upload_count() == 0 && self.superseded.is_empty() && self.deletions.is_empty()
    }

    /// The requests the push makes to the store, on paper (the read-back's GETs through
    /// the public address are apart: [`Plan::read_back_gets`]).
    pub fn requests(&self) -> Requests {
        let has = |phase: Phase| self.uploads.get(&phase).is_some_and(|keys| !keys.is_empty());
        // The manifest is written after the targets, after the root versions, once the
        // timestamp is up, and again after the deletions.
        let checkpoints = usize::from(has(Phase::Targets))
            + usize::from(has(Phase::Root))
            + usize::from(!self.is_empty())
            + usize::from(!self.deletions.is_empty());
        Requests {
            put: self.upload_count() + checkpoints,
            delete: self.deletions.len(),
            // The manifest's GET; then a HEAD of timestamp.json when there is nothing to do.
            read: 1 + usize::from(self.is_empty()),
        }
    }

    /// The objects read back through the public address before the timestamp goes up:
    /// every one this push uploads but the timestamp, and every one an earlier push
    /// uploaded but did not see accepted (it stopped at the read-back, or before).
    pub fn read_back_keys(&self) -> Vec<String> {
        let uploaded = self
            .uploads
            .iter()
            .filter(|(phase, _)| **phase != Phase::Timestamp)
            .flat_map(|(_, keys)| keys.iter());
        let unconfirmed = self.manifest.unconfirmed.iter().filter(|key| *key != "timestamp.json");
        let keys: BTreeSet<&String> = uploaded.chain(unconfirmed).collect();
        keys.into_iter().cloned().collect()
    }

    /// How many objects the read-back fetches (clients then read the metadata again).
    pub fn read_back_gets(&self) -> usize {
        self.read_back_keys().len()
    }

    /// The plan in words, one line each: what `--dry-run` prints.
    pub fn render(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for phase in Phase::ALL {
            let count = self.uploads.get(&phase).map_or(0, Vec::len);
            if count > 0 {
                let bytes = self.bytes.get(&phase).copied().unwrap_or(0);
                lines.push(format!("upload {count} {} ({bytes} bytes)", phase.name()));
            }
        }
        lines.push(format!("unchanged: {} objects", self.unchanged));
        let unconfirmed = self
            .manifest
            .unconfirmed
            .iter()
            .filter(|key| *key != "timestamp.json")
            .count();
        if unconfirmed > 0 {
            lines.push(format!(
                "read back again: {unconfirmed} objects an earlier push put up and never saw accepted"
            ));
        }
        if !self.superseded.is_empty() {
            lines.push(format!(
                "superseded (kept for the grace period): {}",
                self.superseded.join(", ")
            ));
        }
        if !self.deletions.is_empty() {
            lines.push(format!("delete (grace period over): {}", self.deletions.join(", ")));
        }
        let bytes: u64 = self.bytes.values().sum();
        let requests = self.requests();
        lines.push(format!(
            "total: {} objects ({bytes} bytes) uploaded, {} deleted",
            self.upload_count(),
            self.deletions.len()
        ));
        lines.push(format!(
            "requests to the store: about {} ({} PUT, {} DELETE, {} GET/HEAD); read-back: {} GET through the public address, then each client's metadata",
            requests.put + requests.delete + requests.read,
            requests.put,
            requests.delete,
            requests.read,
            self.read_back_gets()
        ));
        lines
    }
}

/// The store requests of a plan, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requests {
    pub put: usize,
    pub delete: usize,
    /// GET and HEAD (a LIST more on a first push, one per 1000 objects with `--audit`).
    pub read: usize,
}

/// Diffs `tree` against `previous`: what to upload, what is superseded, what is due for
/// deletion. A versioned or hashed key whose bytes changed is refused.
pub fn plan(
    url: &str,
    tree: &Tree,
    previous: &Manifest,
    cache: &CacheControl,
    keep: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Plan, ObjectError> {
    let mut next = previous.clone();
    let mut plan = Plan {
        uploads: BTreeMap::new(),
        bytes: BTreeMap::new(),
        unchanged: 0,
        superseded: Vec::new(),
        deletions: Vec::new(),
        manifest: previous.clone(),
    };
    for (key, file) in tree {
        let pushed = previous
            .objects
            .get(key)
            .map(|o| &o.sha256)
            .or_else(|| previous.superseded.get(key).map(|s| &s.sha256));
        // Same bytes with other headers (a new --cache-control): put again, so that the
        // store serves what the configuration says.
        let headers_differ = previous.objects.get(key).is_some_and(|o| {
            o.cache_control != cache.for_entry(file.entry) || o.content_type != layout::content_type(key)
        });
        match pushed {
            Some(sha256) if *sha256 == file.sha256 && !headers_differ => {
                // Superseded, then back in the tree with the same bytes: still in the store.
                if let Some(old) = next.superseded.remove(key) {
                    next.objects.insert(key.clone(), object_of(key, file, old.etag, cache));
                }
                plan.unchanged += 1;
            }
            Some(sha256) if *sha256 != file.sha256 && file.entry.immutable => {
                return Err(ObjectError::Republished {
                    url: url.to_string(),
                    key: key.clone(),
                    pushed: sha256.clone(),
                    local: file.sha256.clone(),
                });
            }
            _ => {
                next.superseded.remove(key);
                plan.uploads.entry(file.entry.phase).or_default().push(key.clone());
                *plan.bytes.entry(file.entry.phase).or_default() += file.size;
            }
        }
    }
    let gone: BTreeSet<String> = next
        .objects
        .keys()
        .filter(|k| !tree.contains_key(*k))
        .cloned()
        .collect();
    for key in gone {
        if let Some(object) = next.objects.remove(&key) {
            next.superseded.insert(
                key.clone(),
                Superseded {
                    size: object.size,
                    sha256: object.sha256,
                    etag: object.etag,
                    superseded_at: now,
                },
            );
            plan.superseded.push(key);
        }
    }
    // What an earlier push left unconfirmed is read back by this one, if still served.
    next.unconfirmed.retain(|key| tree.contains_key(key));
    plan.deletions = next
        .superseded
        .iter()
        .filter(|(_, s)| s.superseded_at + keep <= now)
        .map(|(k, _)| k.clone())
        .collect();
    plan.manifest = next;
    Ok(plan)
}

/// The manifest entry of `key` as it is served.
pub fn object_of(key: &str, file: &LocalFile, etag: Option<String>, cache: &CacheControl) -> Object {
    Object {
        size: file.size,
        sha256: file.sha256.clone(),
        etag,
        content_type: layout::content_type(key).to_string(),
        cache_control: cache.for_entry(file.entry).to_string(),
    }
}
