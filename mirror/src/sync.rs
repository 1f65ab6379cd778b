//! `mirror sync`: a verified, incremental, resumable, crash-safe copy of a TUF repository.
//!
//! A sync runs the full client workflow (every root version, timestamp, snapshot, targets
//! and every delegated role), then builds the next state of the mirror in `staging/`:
//! metadata written from the exact bytes verified, targets hard-linked from the served
//! state when their size and modification time are unchanged (no fetch, no re-hash),
//! taken from an interrupted sync's `staging/` after re-hashing, or downloaded
//! concurrently with their length and hashes checked while streaming. Files that current
//! metadata no longer references stay for a grace period. The finished state is renamed
//! into `states/` and served with one atomic symlink switch.

use std::collections::BTreeMap;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use trustroot_core::display::escape;
use trustroot_core::hashes::sha256_hex;
use trustroot_core::{Limits, TargetFile, TrustedSet, role_name, target_path};
use url::Url;

use crate::download::file_matches;
use crate::error::UpdateError;
use crate::fetch::{FetchConfig, Fetcher};
use crate::layout::{MirrorDir, check_plain, scan_files};
use crate::manifest::{FORMAT, FileEntry, Manifest, Origin, mtime_ns};
use crate::store::{sync_files, write_atomic, write_replacing};
use crate::tree_path::TreePath;
use crate::updater::{Updater, UpdaterConfig, base_url, encode_target_path, join, preferred_hash};

/// Sigstore's public-good repository.
pub const SIGSTORE_URL: &str = "https://tuf-repo-cdn.sigstore.dev/";
/// Sigstore's production root v15, the starting point when no `--root` is given; its
/// sha256 is recorded beside it in `mirror/roots/` and checked by a test.
pub const SIGSTORE_ROOT: &[u8] = include_bytes!("../roots/sigstore-production.root.json");

/// Root versions a sync fetches at once while it walks a long root chain.
const ROOTS_AHEAD: usize = 8;

/// What a sync needs to know.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub dir: PathBuf,
    /// Metadata base URL; default: the mirror's recorded origin, or Sigstore's.
    pub from: Option<Url>,
    /// Targets base URL; default: the recorded one, or `<from>/targets/`.
    pub targets_from: Option<Url>,
    /// The root to start from when the mirror has none yet; default: Sigstore's.
    pub root: Option<Vec<u8>>,
    /// Concurrent target downloads.
    pub jobs: usize,
    /// How long files no longer referenced are kept for clients mid-update.
    pub keep: chrono::Duration,
    /// Re-hash every file already mirrored instead of trusting size and modification time.
    pub verify_all: bool,
    pub now: DateTime<Utc>,
    pub limits: Limits,
    pub fetch: FetchConfig,
    /// Draw a progress bar on standard error.
    pub progress: bool,
    /// The origin to record instead of the URLs fetched from (an import fetches from an
    /// unpacked bundle but mirrors the bundle's origin).
    pub record_origin: Option<Origin>,
}

impl SyncOptions {
    /// Options with the defaults of `mirror sync`: Sigstore's repository unless the mirror
    /// records another origin, 8 downloads at once, a 7-day grace period, the limits of
    /// [`crate::mirror_limits`].
    pub fn new(dir: &Path, now: DateTime<Utc>) -> Self {
        SyncOptions {
            dir: dir.to_path_buf(),
            from: None,
            targets_from: None,
            root: None,
            jobs: 8,
            keep: chrono::Duration::days(7),
            verify_all: false,
            now,
            limits: crate::mirror_limits(),
            fetch: FetchConfig::default(),
            progress: false,
            record_origin: None,
        }
    }
}

/// Role versions a state holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Versions {
    pub root: u64,
    pub timestamp: u64,
    pub snapshot: u64,
    pub targets: u64,
}

/// What a sync did.
#[derive(Debug, Clone, Serialize)]
pub struct SyncSummary {
    pub served: String,
    pub origin: Origin,
    /// True when a new state is now served; false when the mirror was already current.
    pub changed: bool,
    pub state: u64,
    pub before: Option<Versions>,
    pub after: Versions,
    pub files_fetched: u64,
    pub bytes_fetched: u64,
    pub files_reused: u64,
    pub bytes_reused: u64,
    /// Files kept from an interrupted sync (re-hashed, not fetched again).
    pub files_resumed: u64,
    /// Superseded files still served for their grace period.
    pub files_in_grace: u64,
    pub files_pruned: u64,
    pub seconds: f64,
    /// Targets current metadata lists that the mirror could not store, and why; everything
    /// else is mirrored. The CLI exits 1 when this is not empty.
    pub skipped: Vec<Skipped>,
    pub notes: Vec<String>,
}

/// A file the new state must hold.
pub(crate) enum Wanted {
    Metadata(Vec<u8>),
    Target { name: String, info: TargetFile },
}

/// A target current metadata lists that the mirror does not store, and why: its name would
/// leave the mirror, cannot be a file name, or clashes with another; or its hashes cannot
/// name or check it. The rest of the repository is mirrored all the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub target: String,
    /// The targets role that lists it (the one a client would trust it from).
    pub role: String,
    pub reason: String,
}

/// What a state must hold: every file by its name, and the targets left out.
pub(crate) struct Desired {
    pub files: BTreeMap<TreePath, Wanted>,
    pub skipped: Vec<Skipped>,
}

fn file_sha256(path: &Path) -> Result<String, UpdateError> {
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

/// The versions of the top-level roles in a trusted set.
pub(crate) fn versions(trusted: &TrustedSet) -> Versions {
    Versions {
        root: trusted.root().signed().common.version,
        timestamp: trusted.timestamp().map_or(0, |t| t.signed().common.version),
        snapshot: trusted.snapshot().map_or(0, |t| t.signed().common.version),
        targets: trusted.targets("targets").map_or(0, |t| t.signed().common.version),
    }
}

/// A metadata file name made from a role name (percent-encoded, so always one segment).
fn metadata_path(name: &str) -> Result<TreePath, UpdateError> {
    TreePath::new(name).map_err(|reason| UpdateError::Config(format!("metadata file {reason}")))
}

/// The names a target is served under: with consistent snapshots its sha256 and sha512
/// names (clients may ask for either) and, in a directory, tough's name; without, its
/// path. Only hex digests of the right length become part of a name.
fn target_names(path: &str, info: &TargetFile, consistent: bool) -> Result<Vec<TreePath>, String> {
    target_path::validate(path).map_err(|e| match e.kind {
        trustroot_core::ErrorKind::UnsafePath { reason } => format!("its path is unsafe: {reason}"),
        _ => e.to_string(),
    })?;
    target_path::check_usable(path, &info.hashes).map_err(|e| match e.kind {
        trustroot_core::ErrorKind::UnusableTarget { reason } => reason,
        _ => e.to_string(),
    })?;
    let mut names = Vec::new();
    if consistent {
        for alg in ["sha256", "sha512"] {
            if let Some(digest) = info.hashes.get(alg) {
                names.push(format!("targets/{}", target_path::consistent_name(path, digest)));
            }
        }
        // tough (and so sigstore-rs) asks for a target in a directory at
        // `targets/<sha256>.<dir>/<name>`, not the spec's `targets/<dir>/<sha256>.<name>`:
        // the mirror serves it under both, as trustroot's publish does.
        if path.contains('/')
            && let Some(digest) = info.hashes.get("sha256")
        {
            names.push(format!("targets/{digest}.{path}"));
        }
    } else {
        names.push(format!("targets/{path}"));
    }
    names.iter().map(|name| TreePath::new(name)).collect()
}

/// The published tree current metadata calls for: every root version verified, the
/// timestamp, snapshot, every targets role, and every target it can store (see
/// [`target_names`]); the others are reported in [`Desired::skipped`].
pub(crate) fn desired_files(trusted: &TrustedSet, root_history: &Path) -> Result<Desired, UpdateError> {
    let mut wanted = BTreeMap::new();
    for entry in std::fs::read_dir(root_history).map_err(|e| UpdateError::io(root_history, e))? {
        let entry = entry.map_err(|e| UpdateError::io(root_history, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_root = name
            .strip_suffix(".root.json")
            .is_some_and(|v| v.parse::<u64>().is_ok());
        if is_root {
            let bytes = std::fs::read(entry.path()).map_err(|e| UpdateError::io(entry.path(), e))?;
            wanted.insert(metadata_path(&name)?, Wanted::Metadata(bytes));
        }
    }
    let consistent = trusted.consistent_snapshot();
    let name_of =
        |role: &str, version: u64| metadata_path(&role_name::metadata_file_name(role, consistent.then_some(version)));
    if let Some(timestamp) = trusted.timestamp() {
        wanted.insert(
            metadata_path("timestamp.json")?,
            Wanted::Metadata(timestamp.bytes().to_vec()),
        );
    }
    if let Some(snapshot) = trusted.snapshot() {
        wanted.insert(
            name_of("snapshot", snapshot.signed().common.version)?,
            Wanted::Metadata(snapshot.bytes().to_vec()),
        );
    }
    for (role, targets) in trusted.all_targets() {
        let name = name_of(role, targets.signed().common.version)?;
        // A role named like another file (`2.root` without consistent snapshots) must not
        // replace it.
        if wanted
            .insert(name.clone(), Wanted::Metadata(targets.bytes().to_vec()))
            .is_some()
        {
            return Err(UpdateError::Config(format!(
                "role '{}' would be published as {name}, which another file already is",
                escape(role)
            )));
        }
    }
    // Each target as a client would resolve it (spec 5.6.7): from the first role in the
    // delegation search trusted for its path, never from a role that merely lists it.
    let paths: std::collections::BTreeSet<&String> = trusted
        .all_targets()
        .values()
        .flat_map(|t| t.signed().targets.keys())
        .collect();
    let mut verified_edges = std::collections::HashSet::new();
    let mut skipped = Vec::new();
    let mut targets: Vec<(String, String, TargetFile, Vec<TreePath>)> = Vec::new();
    for path in paths {
        let Some((role, info)) = trusted.find_loaded_target(path, &mut verified_edges) else {
            continue;
        };
        match target_names(path, &info, consistent) {
            Ok(names) => targets.push((path.clone(), role.into_string(), info, names)),
            Err(reason) => skipped.push(Skipped {
                target: path.clone(),
                role: role.into_string(),
                reason,
            }),
        }
    }
    // A name that another target needs as a directory (`a` and `a/b` without consistent
    // snapshots) cannot be stored: both targets are left out, never one replacing the other.
    let all_names: std::collections::HashSet<&str> = targets
        .iter()
        .flat_map(|(.., names)| names.iter().map(TreePath::as_str))
        .chain(wanted.keys().map(TreePath::as_str))
        .collect();
    let directories: std::collections::HashSet<&str> = targets
        .iter()
        .flat_map(|(.., names)| names.iter().flat_map(TreePath::parents))
        .collect();
    let mut kept = Vec::new();
    for (path, role, info, names) in &targets {
        let clash = names.iter().find_map(|name| {
            if directories.contains(name.as_str()) {
                return Some(format!("its file name {name} is a directory another target needs"));
            }
            let file = name.parents().find(|dir| all_names.contains(dir))?;
            Some(format!(
                "its file name {name} lies under {}, which another file is",
                escape(file)
            ))
        });
        match clash {
            Some(reason) => skipped.push(Skipped {
                target: path.clone(),
                role: role.clone(),
                reason,
            }),
            None => kept.push((path, info, names)),
        }
    }
    for (path, info, names) in kept {
        for file in names {
            wanted.entry(file.clone()).or_insert_with(|| Wanted::Target {
                name: path.clone(),
                info: info.clone(),
            });
        }
    }
    Ok(Desired { files: wanted, skipped })
}

/// Hard-links every file of `from` into `to` (same file system), creating directories.
fn link_tree(from: &Path, to: &Path) -> Result<(), UpdateError> {
    std::fs::create_dir_all(to).map_err(|e| UpdateError::io(to, e))?;
    for (relative, _) in scan_files(from)? {
        let destination = to.join(&relative);
        if let Some(parent) = destination.parent() {
            std::fs::create_dir_all(parent).map_err(|e| UpdateError::io(parent, e))?;
        }
        std::fs::hard_link(from.join(&relative), &destination).map_err(|e| UpdateError::io(&destination, e))?;
    }
    Ok(())
}

/// The state being built in `staging/tree`: every create, link and remove in it goes
/// through here, by [`TreePath`], so nothing outside the tree is ever touched. It also
/// records the files to sync before the switch, and the directories already made
/// (thousands of targets share a few, and nothing else removes them while the state is
/// built).
#[derive(Default)]
struct StagedTree {
    /// `staging/tree`.
    root: PathBuf,
    unsynced: Vec<PathBuf>,
    dirs: std::collections::HashSet<PathBuf>,
}

impl StagedTree {
    fn path(&self, name: &TreePath) -> PathBuf {
        name.under(&self.root)
    }

    /// Makes the directories `name` lies in.
    fn make_parent(&mut self, name: &TreePath) -> Result<(), UpdateError> {
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
    fn link(&mut self, source: &Path, name: &TreePath) -> Result<(), UpdateError> {
        self.make_parent(name)?;
        self.remove(name)?;
        let destination = self.path(name);
        std::fs::hard_link(source, &destination).map_err(|e| UpdateError::io(&destination, e))?;
        trustroot_store::crash::after_write();
        Ok(())
    }
}

fn remove_if_exists(path: &Path) -> Result<(), UpdateError> {
    Ok(trustroot_store::remove_if_exists(path)?)
}

/// Takes the mirror's lock for the whole sync: two syncs at once would race on `staging/`.
fn lock(layout: &MirrorDir) -> Result<std::fs::File, UpdateError> {
    let path = layout.lock_file();
    // Never through a planted symlink: opening one for writing would create or lock a
    // file anywhere the link points.
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(&path)
        .map_err(|e| UpdateError::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(UpdateError::Config(format!(
            "another sync is running in {} (it holds {})",
            layout.root().display(),
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(UpdateError::io(&path, e)),
    }
}

/// Prepares `staging/`: kept from an interrupted sync (its tree is reused after
/// re-hashing), or recovered from a state that was built but never served, or new.
fn prepare_staging(layout: &MirrorDir, current: Option<u64>) -> Result<(), UpdateError> {
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
    remove_if_exists(&staging.join("manifest.json"))?;
    Ok(())
}

fn next_state_number(layout: &MirrorDir, current: Option<u64>) -> Result<u64, UpdateError> {
    let highest = layout.state_dir().numbers()?.into_iter().max().unwrap_or(0);
    Ok(highest.max(current.unwrap_or(0)) + 1)
}

fn within_grace(entry: &FileEntry, now: DateTime<Utc>, keep: chrono::Duration) -> bool {
    match entry.superseded_at.as_deref().and_then(trustroot_core::time::parse) {
        Some(since) => now - since < keep,
        None => true,
    }
}

/// True when the served file still has the size and modification time recorded.
fn unchanged(path: &Path, entry: &FileEntry) -> bool {
    std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.file_type().is_file() && m.len() == entry.size && mtime_ns(&m) == entry.mtime_ns)
}

/// Mirrors the repository into `options.dir`. See the module documentation.
pub async fn sync(options: SyncOptions) -> Result<SyncSummary, UpdateError> {
    let started = std::time::Instant::now();
    let layout = MirrorDir::new(&options.dir);
    std::fs::create_dir_all(layout.root()).map_err(|e| UpdateError::io(layout.root(), e))?;
    // Never through a planted symlink: see StateDir::create_states.
    layout.state_dir().create_states()?;
    let _lock = lock(&layout)?;
    let mut notes = Vec::new();

    let current = layout.current()?;
    let current_manifest = match current {
        Some(n) => Some(Manifest::read(&layout.state(n).join("manifest.json"))?),
        None => None,
    };
    prepare_staging(&layout, current)?;
    let staging = layout.staging();
    let client = staging.join("client");
    let history = client.join("root_history");

    // Trust: the served state's own metadata, or the given (or embedded) root.
    let metadata_url = match (&options.from, &current_manifest) {
        (Some(url), _) => base_url(url),
        (None, Some(manifest)) => Url::parse(&manifest.origin.metadata_url)
            .map_err(|e| UpdateError::Config(format!("recorded origin is not a URL: {e}")))?,
        (None, None) if options.root.is_none() => {
            Url::parse(SIGSTORE_URL).map_err(|e| UpdateError::Config(e.to_string()))?
        }
        (None, None) => {
            return Err(UpdateError::Config(
                "a new mirror started from --root needs --from URL".into(),
            ));
        }
    };
    let targets_url = match (&options.targets_from, &current_manifest) {
        (Some(url), _) => base_url(url),
        (None, Some(manifest)) if options.from.is_none() => Url::parse(&manifest.origin.targets_url)
            .map_err(|e| UpdateError::Config(format!("recorded origin is not a URL: {e}")))?,
        _ => join(&metadata_url, "targets/")?,
    };
    let origin = options.record_origin.clone().unwrap_or_else(|| Origin {
        metadata_url: metadata_url.to_string(),
        targets_url: targets_url.to_string(),
    });
    let mut before = None;
    match current {
        Some(n) => {
            link_tree(&layout.state(n).join("client"), &client)?;
            if options.root.is_some() {
                notes.push("--root ignored: the mirror already trusts its own root".into());
            }
        }
        None => {
            let root = options.root.clone().unwrap_or_else(|| SIGSTORE_ROOT.to_vec());
            std::fs::create_dir_all(&history).map_err(|e| UpdateError::io(&history, e))?;
            Updater::init(&client, &root, options.now, &options.limits)?;
            let trusted = TrustedSet::new(&root, options.now, options.limits.clone())?;
            write_atomic(
                &history,
                &format!("{}.root.json", trusted.root().signed().common.version),
                &root,
            )?;
        }
    }
    if current.is_some() {
        let trusted_before = TrustedSet::new(
            &std::fs::read(client.join("root.json")).map_err(|e| UpdateError::io(client.join("root.json"), e))?,
            options.now,
            options.limits.clone(),
        )?;
        let mut v = versions(&trusted_before);
        let read_version = |role: &str| -> u64 {
            std::fs::read(client.join(format!("{role}.json")))
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| v["signed"]["version"].as_u64())
                .unwrap_or(0)
        };
        v.timestamp = read_version("timestamp");
        v.snapshot = read_version("snapshot");
        v.targets = read_version("targets");
        before = Some(v);
    }

    // The full client workflow, every delegated role included.
    let fetcher = Fetcher::new(options.fetch.clone());
    let mut updater = Updater::new(
        UpdaterConfig {
            metadata_dir: client.clone(),
            metadata_url: metadata_url.clone(),
            target_dir: None,
            target_url: None,
            now: options.now,
            limits: options.limits.clone(),
            root_history_dir: Some(history.clone()),
        },
        fetcher.clone(),
    )?;
    // staging/ is made durable as a whole before it is switched to: no sync per file.
    updater.defer_durability();
    updater.fetch_roots_ahead(ROOTS_AHEAD);
    updater.load_all_targets().await?;
    let trusted = updater.trusted();
    let after = versions(trusted);
    let Desired { files: wanted, skipped } = desired_files(trusted, &history)?;

    let mut summary = SyncSummary {
        served: layout.served().display().to_string(),
        origin: origin.clone(),
        changed: false,
        state: current.unwrap_or(0),
        before,
        after,
        files_fetched: 0,
        bytes_fetched: 0,
        files_reused: 0,
        bytes_reused: 0,
        files_resumed: 0,
        files_in_grace: 0,
        files_pruned: 0,
        seconds: 0.0,
        skipped,
        notes,
    };

    let current_tree = current.map(|n| layout.state(n).join("tree"));
    if let (Some(tree), Some(manifest)) = (&current_tree, &current_manifest) {
        scan_files(tree)?;
        if !options.verify_all && manifest.origin == origin && is_current(&wanted, manifest, tree, &options) {
            remove_if_exists(&staging)?;
            summary.files_reused = manifest.files.len() as u64;
            summary.bytes_reused = manifest.files.values().map(|e| e.size).sum();
            summary.seconds = started.elapsed().as_secs_f64();
            return Ok(summary);
        }
    }

    // Build the next state in staging/tree. Files written here are synced together, once,
    // before the state is switched to (a resumed sync re-hashes what an interrupted one
    // left, so nothing relies on them earlier).
    let mut tree = StagedTree {
        root: staging.join("tree"),
        ..Default::default()
    };
    let resuming = !scan_files(&tree.root)?.is_empty();
    let mut files: BTreeMap<String, FileEntry> = BTreeMap::new();
    let mut downloads: BTreeMap<String, Download> = BTreeMap::new();
    for (path, want) in &wanted {
        let destination = tree.path(path);
        match want {
            Wanted::Metadata(bytes) => {
                tree.make_parent(path)?;
                let dir = destination.parent().unwrap_or(&tree.root);
                let name = destination.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                // A root version is linked from the verified history it was read from.
                let linked = path.as_str().ends_with(".root.json")
                    && path.parents().next().is_none()
                    && std::fs::symlink_metadata(&destination).is_err()
                    && std::fs::hard_link(path.under(&history), &destination).is_ok();
                let unchanged_copy = linked || std::fs::read(&destination).is_ok_and(|existing| existing == *bytes);
                if !unchanged_copy {
                    write_replacing(dir, name, bytes, false)?;
                    trustroot_store::crash::after_write();
                }
                tree.unsynced.push(destination.clone());
                let meta = std::fs::metadata(&destination).map_err(|e| UpdateError::io(&destination, e))?;
                files.insert(
                    path.as_str().to_string(),
                    FileEntry {
                        size: meta.len(),
                        mtime_ns: mtime_ns(&meta),
                        sha256: sha256_hex(bytes),
                        superseded_at: None,
                    },
                );
            }
            Wanted::Target { name, info } => {
                // Resumed from an interrupted sync: re-hashed, never trusted blindly.
                if resuming && std::fs::symlink_metadata(&destination).is_ok() {
                    if file_matches(&destination, name, info)? {
                        files.insert(path.as_str().to_string(), target_entry(&destination, info)?);
                        tree.unsynced.push(destination.clone());
                        summary.files_resumed += 1;
                        continue;
                    }
                    tree.remove(path)?;
                }
                // Still served and untouched since the last sync: linked, not re-hashed.
                if let (Some(old_tree), Some(manifest)) = (&current_tree, &current_manifest)
                    && let Some(entry) = manifest.files.get(path.as_str())
                {
                    let source = path.under(old_tree);
                    // Same name, size and time is not enough without consistent snapshots (a
                    // target can change under its name): the recorded hash must match too,
                    // and a target listed without sha256 is re-hashed.
                    let reusable = entry.size == info.length
                        && match info.hashes.get("sha256") {
                            Some(digest) if !digest.eq_ignore_ascii_case(&entry.sha256) => false,
                            Some(_) if !options.verify_all => unchanged(&source, entry),
                            _ => file_matches(&source, name, info)?,
                        };
                    if reusable {
                        tree.link(&source, path)?;
                        files.insert(
                            path.as_str().to_string(),
                            FileEntry {
                                superseded_at: None,
                                ..entry.clone()
                            },
                        );
                        summary.files_reused += 1;
                        summary.bytes_reused += entry.size;
                        continue;
                    }
                }
                // The same content under its other hash name is fetched once (every target
                // kept has a usable sha256 or sha512: see `target_names`).
                let Some(key) = preferred_hash(info) else {
                    continue;
                };
                downloads
                    .entry(key.to_string())
                    .or_insert_with(|| Download {
                        name: name.clone(),
                        info: info.clone(),
                        paths: Vec::new(),
                    })
                    .paths
                    .push(path.clone());
            }
        }
    }
    // Fetch each target under its preferred (sha256) name, the one every publisher
    // writes; its other names are linked to it.
    for (digest, download) in downloads.iter_mut() {
        let preferred = format!("targets/{}", target_path::consistent_name(&download.name, digest));
        if let Some(i) = download.paths.iter().position(|p| p.as_str() == preferred) {
            download.paths.swap(0, i);
        } else if let (Some(entry), Ok(preferred)) = (files.get(&preferred).cloned(), TreePath::new(&preferred)) {
            // Its preferred name was resumed or reused above: the names left (tough's,
            // which no upstream serves) are linked to that file, not fetched.
            let source = tree.path(&preferred);
            for alias in download.paths.drain(..) {
                tree.link(&source, &alias)?;
                files.insert(alias.as_str().to_string(), entry.clone());
            }
        }
    }
    fetch_all(
        &fetcher,
        &targets_url,
        downloads,
        &options,
        &mut files,
        &mut summary,
        &mut tree,
    )
    .await?;

    // Superseded files stay for their grace period.
    if let (Some(old_tree), Some(manifest)) = (&current_tree, &current_manifest) {
        for (recorded, entry) in &manifest.files {
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
            let source = path.under(old_tree);
            if within_grace(&entry, options.now, options.keep) && unchanged(&source, &entry) {
                // Linked afresh: a leftover of an interrupted sync may not be this file.
                tree.link(&source, &path)?;
                files.insert(recorded.clone(), entry);
                summary.files_in_grace += 1;
            } else {
                summary.files_pruned += 1;
            }
        }
    }
    // Anything else left in staging (a resumed file no longer wanted) goes: names read
    // from the tree itself, which holds no symlink (scan_files refuses them).
    for (relative, _) in scan_files(&tree.root)? {
        if !files.contains_key(&relative) {
            let leftover = tree.root.join(&relative);
            std::fs::remove_file(&leftover).map_err(|e| UpdateError::io(&leftover, e))?;
        }
    }

    for (relative, _) in scan_files(&client)? {
        tree.unsynced.push(client.join(relative));
    }
    sync_files(&staging, &tree.unsynced)?;
    let manifest = Manifest {
        format: FORMAT,
        origin,
        synced_at: trustroot_core::time::format(&options.now),
        files,
    };
    write_atomic(&staging, "manifest.json", &manifest.to_bytes())?;
    trustroot_store::crash::after_write();
    trustroot_store::sync_dirs(&staging)?;
    let next = next_state_number(&layout, current)?;
    layout.state_dir().install(&staging, next)?;
    trustroot_store::crash::after_write();
    layout.switch_to(next)?;
    trustroot_store::crash::after_write();
    // The state served before goes: readers resolve the served path per request, and an
    // open file survives removal.
    layout.state_dir().prune(next);
    summary.changed = true;
    summary.state = next;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn target_entry(path: &Path, info: &TargetFile) -> Result<FileEntry, UpdateError> {
    let meta = std::fs::metadata(path).map_err(|e| UpdateError::io(path, e))?;
    let sha256 = match info.hashes.get("sha256") {
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

/// True when the served state already is what `wanted` calls for: same files, same
/// metadata bytes, untouched targets, and no superseded file whose grace period ended.
fn is_current(wanted: &BTreeMap<TreePath, Wanted>, manifest: &Manifest, tree: &Path, options: &SyncOptions) -> bool {
    let all_wanted_served = wanted.iter().all(|(path, want)| {
        let Some(entry) = manifest.files.get(path.as_str()) else {
            return false;
        };
        let same = match want {
            Wanted::Metadata(bytes) => entry.sha256 == sha256_hex(bytes),
            // A target listed without sha256 cannot be matched to the manifest: rebuild,
            // which re-hashes it.
            Wanted::Target { info, .. } => {
                entry.size == info.length
                    && info
                        .hashes
                        .get("sha256")
                        .is_some_and(|h| h.eq_ignore_ascii_case(&entry.sha256))
            }
        };
        same && entry.superseded_at.is_none() && unchanged(&path.under(tree), entry)
    });
    let nothing_newly_superseded = manifest.files.iter().all(|(path, entry)| {
        wanted.contains_key(path.as_str())
            || (entry.superseded_at.is_some() && within_grace(entry, options.now, options.keep))
    });
    all_wanted_served && nothing_newly_superseded
}

/// A target to fetch once, under the first of its names; the others are linked to it.
struct Download {
    name: String,
    info: TargetFile,
    paths: Vec<TreePath>,
}

/// Downloads every missing target, `options.jobs` at a time, each into its first name,
/// then links its other names.
async fn fetch_all(
    fetcher: &Fetcher,
    targets_url: &Url,
    downloads: BTreeMap<String, Download>,
    options: &SyncOptions,
    files: &mut BTreeMap<String, FileEntry>,
    summary: &mut SyncSummary,
    tree: &mut StagedTree,
) -> Result<(), UpdateError> {
    let progress = if options.progress && !downloads.is_empty() {
        let bar = indicatif::ProgressBar::new(downloads.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} targets {bytes_per_sec} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (_, Download { name, info, paths }) in downloads {
        let Some(first) = paths.first() else {
            continue;
        };
        let relative = first.as_str().strip_prefix("targets/").unwrap_or(first.as_str());
        let url = join(targets_url, &encode_target_path(relative))?;
        tree.make_parent(first)?;
        let destination = tree.path(first);
        let fetcher = fetcher.clone();
        let semaphore = semaphore.clone();
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let result = crate::download::download_unsynced(&fetcher, &url, &name, &info, &destination).await;
            (result, info, paths)
        });
    }
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        let (result, info, paths) = joined.map_err(|e| UpdateError::Config(format!("a download task failed: {e}")))?;
        match result {
            Ok(bytes) => {
                trustroot_store::crash::after_write();
                let first = tree.path(&paths[0]);
                let entry = target_entry(&first, &info)?;
                tree.unsynced.push(first.clone());
                for alias in &paths[1..] {
                    tree.link(&first, alias)?;
                }
                for path in &paths {
                    files.insert(path.as_str().to_string(), entry.clone());
                }
                summary.files_fetched += 1;
                summary.bytes_fetched += bytes;
                if let Some(bar) = &progress {
                    bar.inc(1);
                }
            }
            Err(error) => {
                // Let the other downloads finish (they resume next time), report the first.
                first_error.get_or_insert(error);
            }
        }
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_embedded_sigstore_root_matches_its_recorded_sha256_and_verifies() {
        let recorded = include_str!("../roots/sigstore-production.root.json.sha256").trim();
        assert_eq!(sha256_hex(SIGSTORE_ROOT), recorded);
        let at = trustroot_core::time::parse("2026-08-22T00:00:00Z").unwrap();
        let trusted = TrustedSet::new(SIGSTORE_ROOT, at, Limits::default()).unwrap();
        assert_eq!(trusted.root().signed().common.version, 15);
    }
}
