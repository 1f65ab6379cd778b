//! The state a repository serves, resolved once per switch, and its small files kept in
//! memory.
//!
//! A sync switches states by renaming a new symlink over `DIR/repository`, so the link's
//! identity (device, inode and change time) changes at every switch, and only then. Each
//! request looks at that identity (one `lstat`, where reading the link was one
//! `readlink`); while it is the one last resolved, the request is answered from that
//! resolution ([`View`]): the state's number, its `tree/` opened once (Linux), the
//! `consistent_snapshot` of the root it trusts, and the small files read from it so far.
//! When the identity differs, the link is read and the state checked again
//! ([`MirrorDir::current`]: no symlink among the state's directories) before anything of it
//! is served. So a request is answered from the state the link named when it arrived,
//! exactly as when every request read the link, and never from a state the link has
//! stopped naming.
//!
//! Keyed by the link, not by the state's number: a mirror removed and made again while the
//! server runs numbers its states from 1 again, and is never answered from what was
//! remembered of the old one. (A new link could only take the identity of an old one by
//! reusing its inode with the same change time, to the nanosecond on the usual file
//! systems; switches are seconds apart.)
//!
//! The files kept are the ones of at most [`SMALL`] bytes, read whole anyway to be
//! answered, under a name served as immutable (versioned metadata and hash-prefixed
//! targets with consistent snapshots: the caller decides); at most [`MAX_BYTES`] of them
//! (paths counted) and [`MAX_FILES`] files per state, the first ones asked for; the rest
//! is read from disk each time. A state changes after it is served only by an update in
//! place, which adds files under new names and replaces `timestamp.json`, never the
//! content under such a name, so what is kept is what the state holds; it is dropped with
//! the view at the next switch. A request answered from memory makes no system call for
//! the file (no `openat2`, `fstat`, `read`, `close`): the most of what a request cost
//! besides the socket (docs/benchmarks.md).

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use hyper::body::Bytes;

use super::named::Repository;
use crate::error::UpdateError;
use crate::layout::MirrorDir;

/// Files larger than this are streamed, and never kept.
pub(super) const SMALL: usize = 64 * 1024;
/// The bytes of files (and their paths) kept per state.
pub(super) const MAX_BYTES: usize = 16 * 1024 * 1024;
/// The files kept per state.
pub(super) const MAX_FILES: usize = 16 * 1024;
/// What keeping one file costs besides its bytes and its path (the map's entry, the
/// allocations' headers), counted against [`MAX_BYTES`].
const ENTRY_OVERHEAD: usize = 96;

/// What identifies one symlink: it never changes its target, so the same identity means
/// the same target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LinkId {
    dev: u64,
    ino: u64,
    ctime: i64,
    ctime_nsec: i64,
}

impl LinkId {
    fn of(meta: &std::fs::Metadata) -> LinkId {
        LinkId {
            dev: meta.dev(),
            ino: meta.ino(),
            ctime: meta.ctime(),
            ctime_nsec: meta.ctime_nsec(),
        }
    }
}

/// One resolution of the served link: the state it named, checked.
pub(super) struct View {
    link: LinkId,
    pub state: u64,
    /// The state's `tree/`, opened once, that files are opened beneath (Linux).
    pub tree: Option<Arc<std::fs::File>>,
    consistent: OnceLock<bool>,
    files: RwLock<Files>,
}

#[derive(Default)]
struct Files {
    by_path: HashMap<Box<str>, Bytes>,
    bytes: usize,
}

impl View {
    /// File `path` (relative to the tree, `/`-separated) when it is kept.
    pub fn file(&self, path: &str) -> Option<Bytes> {
        self.files
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_path
            .get(path)
            .cloned()
    }

    /// Keeps `contents`, the whole of file `path` of this state, while there is room. The
    /// caller keeps only names whose content never changes (see the module
    /// documentation).
    pub fn keep(&self, path: &str, contents: &Bytes) {
        if contents.len() > SMALL {
            return;
        }
        let mut files = self.files.write().unwrap_or_else(PoisonError::into_inner);
        let cost = contents.len() + path.len() + ENTRY_OVERHEAD;
        if files.by_path.len() >= MAX_FILES || files.bytes + cost > MAX_BYTES || files.by_path.contains_key(path) {
            return;
        }
        files.bytes += cost;
        files.by_path.insert(path.into(), contents.clone());
    }

    /// `consistent_snapshot` of the root this state trusts (false when unreadable: the
    /// cautious answer, as it only ever removes caching).
    pub fn consistent_snapshot(&self, mirror: &MirrorDir) -> bool {
        *self.consistent.get_or_init(|| {
            std::fs::read(mirror.state(self.state).join("client/root.json"))
                .ok()
                .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
                .and_then(|root| root["signed"]["consistent_snapshot"].as_bool())
                .unwrap_or(false)
        })
    }
}

/// The view of what `repository` serves now, or `None` when it serves nothing (no served
/// link). Refuses what [`MirrorDir::current`] refuses.
pub(super) fn current(repository: &Repository) -> Result<Option<Arc<View>>, UpdateError> {
    let mirror = &repository.mirror;
    let served = mirror.served();
    // A sync prunes the old state right after switching: a state gone between reading
    // the link and opening its tree means the link has moved on; look again (a sync
    // takes far longer than this).
    for _ in 0..3 {
        let link = match std::fs::symlink_metadata(&served) {
            Ok(meta) if meta.file_type().is_symlink() => LinkId::of(&meta),
            // Not a link: `current` says what it is (and had it just become one, look again).
            Ok(_) => {
                mirror.current()?;
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(UpdateError::io(&served, e)),
        };
        {
            let cached = repository.view.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(view) = cached.as_ref().filter(|view| view.link == link) {
                return Ok(Some(view.clone()));
            }
        }
        let Some(state) = mirror.current()? else {
            return Ok(None);
        };
        let tree = match open_tree(&mirror.state(state).join("tree")) {
            Ok(tree) => tree,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(UpdateError::io(mirror.state(state).join("tree"), e)),
        };
        let view = Arc::new(View {
            link,
            state,
            tree,
            consistent: OnceLock::new(),
            files: RwLock::new(Files::default()),
        });
        // Had the link moved between the `lstat` and `current`, this view is remembered
        // under the older identity, which no request sees again: the next one resolves.
        *repository.view.write().unwrap_or_else(PoisonError::into_inner) = Some(view.clone());
        return Ok(Some(view));
    }
    Err(UpdateError::ServedStateGone { served })
}

/// `tree`, opened as a directory without following a symlink (Linux: files are opened
/// beneath it with `openat2`); `None` elsewhere, where files are opened by path.
fn open_tree(tree: &Path) -> std::io::Result<Option<Arc<std::fs::File>>> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let dir = rustix::fs::open(tree, flags, Mode::empty())?;
        Ok(Some(Arc::new(std::fs::File::from(dir))))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = tree;
        Ok(None)
    }
}
