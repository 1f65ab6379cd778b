//! Where a mirror keeps things inside its directory.
//!
//! ```text
//! DIR/repository -> .trustroot-mirror/states/<n>/tree   what clients are served (a symlink)
//! DIR/.trustroot-mirror/states/<n>/tree/                the published tree of state n
//! DIR/.trustroot-mirror/states/<n>/client/              the mirror's own trusted metadata
//!                                                       (root.json, ..., root_history/)
//! DIR/.trustroot-mirror/states/<n>/manifest.json        every served file: size, mtime, sha256
//! DIR/.trustroot-mirror/states/<n>/manifest-journal.json what updates in place added since
//! DIR/.trustroot-mirror/states/<n>/summary.json         what a sync checks before reading more
//! DIR/.trustroot-mirror/states/<n>/in-place-update      present while an update in place runs
//! DIR/.trustroot-mirror/staging/                        the next state, while a sync builds it
//! DIR/.trustroot-mirror/lock                            held by a running sync
//! DIR/.trustroot-mirror/sync-record.json                what the syncs came to: last success,
//!                                                       last failure, failures counted
//! ```
//!
//! A state is complete before it is served: a sync builds `staging/`, renames it to
//! `states/<n+1>` and then points `repository` at it with one atomic rename, so a reader
//! (or a crash) sees the old state or the new one, never a mix. A consistent-snapshot
//! repository's served state may instead be updated in place, `timestamp.json` last (see
//! the sync's `in_place` module).

use std::path::{Path, PathBuf};

use trustroot_store::{StateDir, ensure_plain};

use crate::error::UpdateError;

/// The name of the served path inside a mirror directory.
pub const SERVED: &str = "repository";
/// The mirror's hidden state directory.
pub const HIDDEN: &str = ".trustroot-mirror";

/// Paths of one mirror directory: its numbered states and the served symlink are a
/// [`StateDir`] serving each state's `tree/`.
#[derive(Debug, Clone)]
pub struct MirrorDir {
    states: StateDir,
}

impl MirrorDir {
    pub fn new(root: &Path) -> Self {
        MirrorDir {
            states: StateDir::new(root, SERVED, HIDDEN, Some("tree")),
        }
    }

    pub fn root(&self) -> &Path {
        self.states.root()
    }

    /// `DIR/repository`: point a static web server here.
    pub fn served(&self) -> PathBuf {
        self.states.served()
    }

    pub fn hidden(&self) -> PathBuf {
        self.states.hidden()
    }

    pub fn states(&self) -> PathBuf {
        self.states.states()
    }

    pub fn state(&self, n: u64) -> PathBuf {
        self.states.state(n)
    }

    /// The numbered states and the served symlink, for what a sync does to them.
    pub fn state_dir(&self) -> &StateDir {
        &self.states
    }

    pub fn staging(&self) -> PathBuf {
        self.hidden().join("staging")
    }

    pub fn lock_file(&self) -> PathBuf {
        self.hidden().join("lock")
    }

    /// See [`crate::sync_record`].
    pub fn sync_record(&self) -> PathBuf {
        self.hidden().join("sync-record.json")
    }

    /// The state currently served, if any. The served path must be the symlink a sync
    /// made, pointing at one of our states: anything else is refused, not followed.
    pub fn current(&self) -> Result<Option<u64>, UpdateError> {
        let Some(n) = self.states.current()? else {
            return Ok(None);
        };
        // The state it points at, and that state's parts, are what a sync reads and links
        // from, and later removes: never through a planted symlink.
        let state = self.state(n);
        for path in [state.clone(), state.join("tree"), state.join("client")] {
            let meta = std::fs::symlink_metadata(&path).map_err(|e| UpdateError::io(&path, e))?;
            check_plain(&path, &meta)?;
        }
        Ok(Some(n))
    }

    /// Points the served path at state `n` with one atomic rename.
    pub fn switch_to(&self, n: u64) -> Result<(), UpdateError> {
        Ok(self.states.switch_to(n)?)
    }
}

/// Refuses a path inside the mirror that is a symlink or a special file: a sync never
/// follows what someone planted in its directory.
pub fn check_plain(path: &Path, meta: &std::fs::Metadata) -> Result<(), UpdateError> {
    Ok(ensure_plain(path, meta)?)
}

/// Every regular file under `dir` (relative paths with `/`), refusing symlinks and special
/// files anywhere in the tree.
pub fn scan_files(dir: &Path) -> Result<Vec<(String, std::fs::Metadata)>, UpdateError> {
    let mut files = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = pending.pop() {
        let entries = std::fs::read_dir(&path).map_err(|e| UpdateError::io(&path, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| UpdateError::io(&path, e))?;
            let child = entry.path();
            let meta = std::fs::symlink_metadata(&child).map_err(|e| UpdateError::io(&child, e))?;
            check_plain(&child, &meta)?;
            let name = entry
                .file_name()
                .to_str()
                .map(str::to_string)
                .ok_or_else(|| UpdateError::NameNotUtf8 { path: child.clone() })?;
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if meta.is_dir() {
                pending.push((child, relative));
            } else {
                files.push((relative, meta));
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}
