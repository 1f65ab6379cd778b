//! Updates of the served state in place: a sync whose cost grows with the change, not with
//! the repository.
//!
//! With consistent snapshots every file a client fetches after `timestamp.json` has a name
//! whose content never changes (`N.snapshot.json`, `N.<role>.json`, `N.root.json`,
//! `targets/<digest>.<name>`). The served state can then be updated as a TUF repository is
//! meant to be: the new files first, `timestamp.json` last with one rename. A client reads
//! the timestamp first, so it sees the old repository or the new one, never a mix; the
//! files superseded stay for the grace period, as after a full sync. What changes in the
//! state's manifest goes to its journal ([`crate::manifest::Journal`]), not into a rewrite
//! of every entry.
//!
//! An update in place runs only where it ends exactly where the full sync would:
//!
//! - the served state's summary records every targets role it trusts (version, length,
//!   sha256, expiry, whether it delegates) and the new snapshot lists each of them; a role
//!   whose entry is unchanged is not read at all (its recorded expiry is checked);
//! - a changed role delegates nothing, before and after (so no other target's resolution
//!   can move); the walk verifies every role as the full sync does, and only the targets
//!   whose entries differ between the role's two versions are resolved again;
//! - every name the new files take is free in the tree, or holds a file that verifies.
//!
//! Anything else (a new root, a repository without consistent snapshots, a role added or
//! gone, a changed role that delegates, `--verify-all`, a grace period that ended, a long
//! journal, an update in place that was interrupted) runs the full sync, which builds a
//! new state from verified metadata only.
//!
//! Crash safety: a marker file is written into the state before the first change and
//! removed after the last; a sync that finds it runs the full sync, and `mirror verify`
//! reports it.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use trustroot_core::hashes::sha256_hex;
use trustroot_core::metadata::MetaFile;
use trustroot_core::{TargetFile, TrustedSet, role_name};
use trustroot_store::Durability;

use super::desired::{self, WantedTarget, target_names};
use super::fetch::{Download, fetch_targets};
use super::plan::{Begun, Served};
use super::quick::{RoleRecord, StateSummary, earlier};
use super::stage::{self, Staged, StagedTree, remove_if_exists};
use super::{Skipped, SyncOptions, SyncSummary, Versions};
use crate::download::file_matches;
use crate::error::UpdateError;
use crate::layout::MirrorDir;
use crate::manifest::{FORMAT, FileEntry, Journal, mtime_ns};
use crate::tree_path::TreePath;

/// Written into a state before an update in place changes it, removed after.
pub(crate) const MARKER: &str = "in-place-update";

/// The journal may hold this many entries, or a tenth of the state's files if more, before
/// the full sync runs instead (and starts a new state without one).
const JOURNAL_MIN_LIMIT: u64 = 1_000;

/// True when an update in place of `state` began and did not finish.
pub(crate) fn interrupted(state: &Path) -> bool {
    std::fs::symlink_metadata(state.join(MARKER)).is_ok()
}

/// Clears the marker of an interrupted update in place from `state`, which the full sync
/// has just found to be exactly what current metadata calls for.
pub(super) fn checked_whole(state: &Path) -> Result<(), UpdateError> {
    if interrupted(state) {
        remove_if_exists(&state.join(MARKER))?;
        trustroot_store::sync_dir(state)?;
    }
    Ok(())
}

/// True when the served state may be updated in place, as far as can be told before the
/// snapshot is fetched: see the module documentation.
pub(super) fn eligible(
    begun: &Begun,
    layout: &MirrorDir,
    served: &Served,
    summary: &StateSummary,
    options: &SyncOptions,
) -> bool {
    let trusted = begun.updater.trusted();
    let in_grace = summary
        .oldest_superseded
        .as_deref()
        .is_none_or(|since| trustroot_core::time::parse(since).is_some_and(|since| options.now - since < options.keep));
    !options.verify_all
        && summary.origin == begun.origin
        && trusted.root_updates() == 0
        && trusted.consistent_snapshot()
        && !summary.roles.is_empty()
        && summary.journal <= JOURNAL_MIN_LIMIT.max(summary.files / 10)
        && in_grace
        // Without a grace period a superseded file goes at once, which only the full sync does.
        && options.keep > chrono::Duration::zero()
        && !interrupted(&layout.state(served.number))
}

/// Updates the served state in place when the new snapshot allows it (see the module
/// documentation); `None` when the full sync must run, which goes on from the walk as far
/// as this got.
pub(super) async fn update(
    begun: &mut Begun,
    layout: &MirrorDir,
    served: &Served,
    summary: &StateSummary,
    options: &SyncOptions,
) -> Result<Option<SyncSummary>, UpdateError> {
    begun.updater.refresh_snapshot().await?;
    let Some(changed) = changed_roles(begun.updater.trusted(), summary, options)? else {
        return Ok(None);
    };
    if !changed.is_empty() {
        // Every role verified, as the full sync does: the unchanged ones from the state's
        // own copies, the changed ones fetched.
        begun.updater.load_all_targets().await?;
    }
    let state = layout.state(served.number);
    let Some(mut plan) = plan(begun.updater.trusted(), &state, summary, &changed)? else {
        return Ok(None);
    };
    let (metadata_fetched, metadata_bytes) = begun.updater.metadata_fetched();
    let mut report = SyncSummary {
        served: layout.served().display().to_string(),
        origin: begun.origin.clone(),
        changed: true,
        in_place: true,
        state: served.number,
        before: Some(summary.versions.clone()),
        after: summary.versions.clone(),
        files_fetched: metadata_fetched,
        bytes_fetched: metadata_bytes,
        metadata_fetched,
        files_reused: 0,
        bytes_reused: 0,
        files_resumed: 0,
        files_in_grace: 0,
        files_pruned: 0,
        seconds: 0.0,
        skipped: Vec::new(),
        notes: std::mem::take(&mut begun.notes),
    };
    // The new targets are fetched into staging first, so a failed download changes nothing
    // in the served state.
    let mut staged = Staged {
        tree: StagedTree::at(layout.staging().join("tree")),
        files: BTreeMap::new(),
        downloads: std::mem::take(&mut plan.downloads),
    };
    resume_downloads(&mut staged, &mut report)?;
    fetch_targets(&begun.fetcher, &begun.targets_url, &mut staged, options, &mut report).await?;
    let (new_summary, superseded) = apply(&state, begun.updater.trusted(), summary, plan, &staged, options)?;
    remove_if_exists(&layout.staging())?;
    report.after = new_summary.versions;
    report.files_reused = new_summary
        .files
        .saturating_sub(report.files_fetched - metadata_fetched);
    report.files_in_grace = superseded;
    report.skipped = new_summary.skipped;
    Ok(Some(report))
}

/// Targets an interrupted sync already fetched into staging: kept when they re-hash to
/// what the metadata says (never trusted blindly), and linked under their other names.
fn resume_downloads(staged: &mut Staged, report: &mut SyncSummary) -> Result<(), UpdateError> {
    for (key, download) in std::mem::take(&mut staged.downloads) {
        let info = download.target.target_file();
        let mut resumed = None;
        for path in &download.paths {
            let at = staged.tree.path(path);
            let is_file = std::fs::symlink_metadata(&at).is_ok_and(|meta| meta.file_type().is_file());
            if is_file && file_matches(&at, &download.target.name, &info)? {
                resumed = Some(path.clone());
                break;
            }
        }
        let Some(first) = resumed else {
            staged.downloads.insert(key, download);
            continue;
        };
        let source = staged.tree.path(&first);
        let entry = stage::target_entry(&source, &download.target)?;
        for path in &download.paths {
            if *path != first {
                staged.tree.link(&source, path)?;
            }
            staged.files.insert(path.as_str().to_string(), entry.clone());
        }
        report.files_resumed += 1;
    }
    Ok(())
}

/// The roles whose snapshot entry differs from the state's record; `None` when the full
/// sync must decide (a recorded role the snapshot no longer lists, hashes that cannot be
/// compared, a changed role that delegates, an unchanged role that expired).
fn changed_roles(
    trusted: &TrustedSet,
    summary: &StateSummary,
    options: &SyncOptions,
) -> Result<Option<BTreeSet<String>>, UpdateError> {
    let Some(snapshot) = trusted.snapshot() else {
        return Ok(None);
    };
    let mut changed = BTreeSet::new();
    for (role, record) in &summary.roles {
        let Some(entry) = snapshot.signed().meta.get(&format!("{role}.json")) else {
            return Ok(None);
        };
        match same_role(entry, record) {
            Some(true) => {
                // Not read again, so its expiry is checked from the record; an expired role
                // is refused by the full sync, with core's error.
                let still_valid = trustroot_core::time::parse(&record.expires).is_some_and(|at| options.now < at);
                if !still_valid {
                    return Ok(None);
                }
            }
            Some(false) if !record.delegates => {
                changed.insert(role.clone());
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(changed))
}

/// Whether the snapshot's `entry` names the recorded role: `Some(false)` when it names
/// another version or other bytes, `None` when its hashes cannot be compared (no sha256).
fn same_role(entry: &MetaFile, record: &RoleRecord) -> Option<bool> {
    if entry.version != record.version {
        return Some(false);
    }
    if entry.length.is_some_and(|length| length != record.length) {
        return Some(false);
    }
    match &entry.hashes {
        None => Some(true),
        Some(hashes) => hashes
            .get("sha256")
            .map(|digest| digest.eq_ignore_ascii_case(&record.sha256)),
    }
}

/// What an update in place writes, decided before anything is written.
struct InPlacePlan {
    /// The targets roles whose snapshot entry changed.
    changed: BTreeSet<String>,
    /// New metadata files: the snapshot and the changed roles, under their versioned names.
    metadata: Vec<(TreePath, Vec<u8>)>,
    /// Names current metadata no longer calls for, each with its sha256 when known.
    superseded: Vec<(TreePath, Option<String>)>,
    /// Names the new metadata calls for that the tree already holds, verified.
    present: Vec<TreePath>,
    downloads: BTreeMap<String, Download>,
    /// Targets resolved again, and the ones of them that cannot be stored.
    affected: BTreeSet<String>,
    skipped: Vec<Skipped>,
}

/// A targets role's entries as the state's own verified copy lists them: only what names
/// and checks a target.
/// Borrowed from the file's bytes where JSON allows (a role of 100,000 entries is read in
/// a fraction of the time owned strings take).
#[derive(Deserialize)]
struct RecordedRole<'a> {
    #[serde(borrow)]
    signed: RecordedSigned<'a>,
}

#[derive(Deserialize)]
struct RecordedSigned<'a> {
    #[serde(borrow)]
    targets: BTreeMap<Cow<'a, str>, RecordedTarget<'a>>,
}

#[derive(Deserialize)]
struct RecordedTarget<'a> {
    length: u64,
    #[serde(borrow)]
    hashes: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
}

impl RecordedTarget<'_> {
    fn same_as(&self, info: &TargetFile) -> bool {
        self.length == info.length
            && self.hashes.len() == info.hashes.len()
            && self
                .hashes
                .iter()
                .zip(&info.hashes)
                .all(|((a, x), (b, y))| a == b && x == y)
    }

    fn target_file(&self) -> TargetFile {
        desired::target_file(self.length, self.hashes.iter().map(|(a, d)| (&**a, &**d)))
    }
}

/// Decides the files of the update (see [`InPlacePlan`]); `None` when the full sync must
/// run instead.
fn plan(
    trusted: &TrustedSet,
    state: &Path,
    summary: &StateSummary,
    changed: &BTreeSet<String>,
) -> Result<Option<InPlacePlan>, UpdateError> {
    let tree = state.join("tree");
    let Some(snapshot) = trusted.snapshot() else {
        return Ok(None);
    };
    let snapshot_version = snapshot.signed().common.version;
    let mut plan = InPlacePlan {
        changed: changed.clone(),
        metadata: vec![(metadata_name("snapshot", snapshot_version)?, snapshot.bytes().to_vec())],
        superseded: Vec::new(),
        present: Vec::new(),
        downloads: BTreeMap::new(),
        affected: BTreeSet::new(),
        skipped: Vec::new(),
    };
    if snapshot_version != summary.versions.snapshot {
        plan.superseded
            .push((metadata_name("snapshot", summary.versions.snapshot)?, None));
    }
    if changed.is_empty() {
        return Ok(Some(plan));
    }
    // The roles walked must be the roles recorded: a changed role delegates nothing, so no
    // role can have come or gone, but the full sync decides if one did.
    let recorded: BTreeSet<&str> = summary.roles.keys().map(String::as_str).collect();
    let walked: BTreeSet<&str> = trusted.all_targets().keys().map(|name| &**name).collect();
    if recorded != walked {
        return Ok(None);
    }
    let mut edges = HashSet::new();
    for role in changed {
        let (Some(record), Some(now)) = (summary.roles.get(role), trusted.targets(role)) else {
            return Ok(None);
        };
        if now.signed().delegations.is_some() {
            return Ok(None);
        }
        plan.metadata
            .push((metadata_name(role, now.signed().common.version)?, now.bytes().to_vec()));
        plan.superseded
            .push((metadata_name(role, record.version)?, Some(record.sha256.clone())));
        let Some(bytes) = recorded_role(state, role, record)? else {
            return Ok(None);
        };
        let Ok(RecordedRole {
            signed: RecordedSigned { targets: before },
        }) = serde_json::from_slice::<RecordedRole>(&bytes)
        else {
            return Ok(None);
        };
        let listed_now = &now.signed().targets;
        let differs = |path: &str| match (before.get(path), listed_now.get(path)) {
            (Some(old), Some(new)) => !old.same_as(new),
            _ => true,
        };
        let affected: Vec<String> = before
            .keys()
            .map(|path| &**path)
            .chain(listed_now.keys().map(String::as_str))
            .filter(|path| differs(path))
            .map(str::to_string)
            .collect();
        for path in affected {
            if !plan.affected.insert(path.clone()) {
                continue;
            }
            let wanted = match trusted.find_loaded_target(&path, &mut edges) {
                None => Vec::new(),
                Some((by, info)) => match target_names(&path, &info, true) {
                    Ok(names) => {
                        if !want(&tree, &path, &info, &names, &mut plan)? {
                            return Ok(None);
                        }
                        names
                    }
                    Err(reason) => {
                        plan.skipped.push(Skipped {
                            target: path.clone(),
                            role: by.into_string(),
                            reason,
                        });
                        Vec::new()
                    }
                },
            };
            if let Some(old) = before.get(path.as_str())
                && let Ok(old_names) = target_names(&path, &old.target_file(), true)
            {
                let sha256 = old.hashes.get("sha256").map(|digest| digest.to_lowercase());
                for name in old_names {
                    if !wanted.contains(&name) && std::fs::symlink_metadata(name.under(&tree)).is_ok() {
                        plan.superseded.push((name, sha256.clone()));
                    }
                }
            }
        }
    }
    Ok(Some(plan))
}

/// Adds the names `path` is now served under to the plan: a name the tree holds must hold
/// this target (checked); a free name must not collide with a file or directory there.
/// False when the full sync must decide.
fn want(
    tree: &Path,
    path: &str,
    info: &TargetFile,
    names: &[TreePath],
    plan: &mut InPlacePlan,
) -> Result<bool, UpdateError> {
    let mut missing = Vec::new();
    for name in names {
        let at = name.under(tree);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_file() && file_matches(&at, path, info)? => {
                plan.present.push(name.clone());
            }
            Ok(_) => return Ok(false),
            Err(_) => {
                // Every directory on the way must be a directory (or not there yet): a file
                // in the way is a clash only the full sync reports.
                let blocked = name
                    .parents()
                    .any(|dir| std::fs::symlink_metadata(tree.join(dir)).is_ok_and(|meta| !meta.file_type().is_dir()));
                if blocked {
                    return Ok(false);
                }
                missing.push(name.clone());
            }
        }
    }
    if missing.is_empty() {
        return Ok(true);
    }
    let target = Arc::new(WantedTarget::new(path, info));
    let Some(key) = target.preferred_hash().map(str::to_string) else {
        return Ok(false);
    };
    plan.downloads
        .entry(key)
        .or_insert_with(|| Download {
            target,
            paths: Vec::new(),
        })
        .paths
        .extend(missing);
    Ok(true)
}

/// The bytes of the state's verified copy of `role`; `None` when that copy is not the one
/// `record` describes.
fn recorded_role(state: &Path, role: &str, record: &RoleRecord) -> Result<Option<Vec<u8>>, UpdateError> {
    let path = state.join("client").join(role_name::metadata_file_name(role, None));
    let Some(bytes) = trustroot_store::read_optional(&path)? else {
        return Ok(None);
    };
    if bytes.len() as u64 != record.length || sha256_hex(&bytes) != record.sha256 {
        return Ok(None);
    }
    Ok(Some(bytes))
}

fn metadata_name(role: &str, version: u64) -> Result<TreePath, UpdateError> {
    TreePath::new(&role_name::metadata_file_name(role, Some(version)))
        .map_err(|reason| UpdateError::MetadataFileName { reason })
}

/// Writes the update into the served state, in the order that keeps it whole for clients
/// and recoverable after a crash: marker, new targets and metadata (synced), journal,
/// `timestamp.json` (the switch), the mirror's own trusted copies, summary, marker gone.
/// Returns the new summary and how many files the update superseded.
fn apply(
    state: &Path,
    trusted: &TrustedSet,
    summary: &StateSummary,
    plan: InPlacePlan,
    staged: &Staged,
    options: &SyncOptions,
) -> Result<(StateSummary, u64), UpdateError> {
    let tree = state.join("tree");
    let now = trustroot_core::time::format(&options.now);
    let marker = state.join(MARKER);
    trustroot_store::write_atomic(&marker, b"")?;
    trustroot_store::crash::after_write();

    let mut journal = Journal::read(state)?.unwrap_or_else(|| Journal {
        format: FORMAT,
        synced_at: now.clone(),
        files: BTreeMap::new(),
    });
    journal.synced_at = now.clone();
    let mut written = Vec::new();
    let (mut added_files, mut added_bytes) = (0u64, 0i128);
    for (name, entry) in &staged.files {
        let name = TreePath::new(name).map_err(|reason| UpdateError::MetadataFileName { reason })?;
        let destination = name.under(&tree);
        make_parents(&tree, &name)?;
        std::fs::hard_link(name.under(&staged.tree.root), &destination)
            .map_err(|e| UpdateError::io(&destination, e))?;
        trustroot_store::crash::after_write();
        added_files += 1;
        added_bytes += i128::from(entry.size);
        journal.files.insert(name.as_str().to_string(), entry.clone());
        written.push(destination);
    }
    for name in &plan.present {
        let at = name.under(&tree);
        let meta = std::fs::metadata(&at).map_err(|e| UpdateError::io(&at, e))?;
        let sha256 = match journal.files.get(name.as_str()) {
            Some(entry) => entry.sha256.clone(),
            None => stage::file_sha256(&at)?,
        };
        journal.files.insert(
            name.as_str().to_string(),
            FileEntry {
                size: meta.len(),
                mtime_ns: mtime_ns(&meta),
                sha256,
                superseded_at: None,
            },
        );
    }
    for (name, bytes) in &plan.metadata {
        let destination = name.under(&tree);
        let existed = std::fs::symlink_metadata(&destination).is_ok();
        trustroot_store::write_replacing(&destination, bytes, Durability::Deferred)?;
        trustroot_store::crash::after_write();
        let meta = std::fs::metadata(&destination).map_err(|e| UpdateError::io(&destination, e))?;
        if !existed {
            added_files += 1;
            added_bytes += i128::from(meta.len());
        }
        journal
            .files
            .insert(name.as_str().to_string(), entry_of(&meta, sha256_hex(bytes)));
        written.push(destination);
    }
    let mut superseded = 0;
    for (name, sha256) in &plan.superseded {
        let at = name.under(&tree);
        let Ok(meta) = std::fs::symlink_metadata(&at) else {
            continue;
        };
        let sha256 = match (journal.files.get(name.as_str()), sha256) {
            (Some(entry), _) => entry.sha256.clone(),
            (None, Some(digest)) => digest.clone(),
            (None, None) => stage::file_sha256(&at)?,
        };
        let since = journal
            .files
            .get(name.as_str())
            .and_then(|entry| entry.superseded_at.clone())
            .unwrap_or_else(|| now.clone());
        journal.files.insert(
            name.as_str().to_string(),
            FileEntry {
                superseded_at: Some(since),
                ..entry_of(&meta, sha256)
            },
        );
        superseded += 1;
    }
    let timestamp = trusted
        .timestamp()
        .ok_or_else(|| UpdateError::io(&tree, std::io::Error::other("no timestamp was trusted")))?;
    let timestamp_path = tree.join("timestamp.json");
    let old_timestamp_len = std::fs::metadata(&timestamp_path).map_or(0, |m| m.len());
    // Everything the new timestamp leads to is on disk before it is served.
    sync_written(&tree, &written)?;
    for dir in written.iter().filter_map(|path| path.parent()).collect::<BTreeSet<_>>() {
        trustroot_store::sync_dir(dir)?;
    }
    journal.write(state)?;
    trustroot_store::crash::after_write();
    trustroot_store::write_atomic(&timestamp_path, timestamp.bytes())?;
    trustroot_store::crash::after_write();
    let meta = std::fs::metadata(&timestamp_path).map_err(|e| UpdateError::io(&timestamp_path, e))?;
    journal.files.insert(
        "timestamp.json".to_string(),
        entry_of(&meta, sha256_hex(timestamp.bytes())),
    );
    journal.write(state)?;
    added_bytes += i128::from(meta.len()) - i128::from(old_timestamp_len);

    update_client(state, trusted, &plan)?;
    let new_summary = next_summary(
        trusted,
        summary,
        &plan,
        &journal,
        superseded > 0,
        &now,
        added_files,
        added_bytes,
    );
    new_summary.write(state)?;
    trustroot_store::crash::after_write();
    std::fs::remove_file(&marker).map_err(|e| UpdateError::io(&marker, e))?;
    trustroot_store::sync_dir(state)?;
    Ok((new_summary, superseded))
}

/// Makes the files written durable: one by one when they are few (a file system sync would
/// wait for every other write on the disk too), else with one sync of the file system.
fn sync_written(tree: &Path, written: &[std::path::PathBuf]) -> Result<(), UpdateError> {
    if written.len() > 64 {
        return Ok(trustroot_store::sync_files(tree, written)?);
    }
    for path in written {
        std::fs::File::open(path)
            .and_then(|file| file.sync_all())
            .map_err(|e| UpdateError::io(path, e))?;
    }
    Ok(())
}

/// The mirror's own trusted copies in the state's `client/`, from which the next sync
/// starts: the timestamp, the snapshot and the changed roles, exactly as verified.
fn update_client(state: &Path, trusted: &TrustedSet, plan: &InPlacePlan) -> Result<(), UpdateError> {
    let client = state.join("client");
    let mut copies: Vec<(String, &[u8])> = Vec::new();
    if let Some(timestamp) = trusted.timestamp() {
        copies.push(("timestamp.json".into(), timestamp.bytes()));
    }
    if let Some(snapshot) = trusted.snapshot() {
        copies.push(("snapshot.json".into(), snapshot.bytes()));
    }
    for name in &plan.changed {
        if let Some(role) = trusted.targets(name) {
            copies.push((role_name::metadata_file_name(name, None), role.bytes()));
        }
    }
    for (file, bytes) in &copies {
        trustroot_store::write_replacing(&client.join(file), bytes, Durability::Synced)?;
    }
    Ok(())
}

/// The summary of the state after the update.
#[allow(clippy::too_many_arguments)]
fn next_summary(
    trusted: &TrustedSet,
    before: &StateSummary,
    plan: &InPlacePlan,
    journal: &Journal,
    superseded_any: bool,
    now: &str,
    added_files: u64,
    added_bytes: i128,
) -> StateSummary {
    let mut roles = before.roles.clone();
    for name in &plan.changed {
        if let (Some(kept), Some(role)) = (roles.get_mut(name), trusted.targets(name)) {
            *kept = RoleRecord::of(role);
        }
    }
    let mut expires = trusted.root().signed().common.expires;
    if let Some(timestamp) = trusted.timestamp() {
        expires = expires.min(timestamp.signed().common.expires);
    }
    if let Some(snapshot) = trusted.snapshot() {
        expires = expires.min(snapshot.signed().common.expires);
    }
    for record in roles.values() {
        if let Some(at) = trustroot_core::time::parse(&record.expires) {
            expires = expires.min(at);
        }
    }
    let oldest_superseded = match (&before.oldest_superseded, superseded_any) {
        (Some(oldest), true) if earlier(now, oldest) => Some(now.to_string()),
        (Some(oldest), _) => Some(oldest.clone()),
        (None, true) => Some(now.to_string()),
        (None, false) => None,
    };
    let mut skipped: Vec<Skipped> = before
        .skipped
        .iter()
        .filter(|s| !plan.affected.contains(&s.target))
        .cloned()
        .collect();
    skipped.extend(plan.skipped.iter().cloned());
    skipped.sort_by(|a, b| a.target.cmp(&b.target));
    let bytes = i128::from(before.bytes) + added_bytes;
    StateSummary {
        format: before.format,
        origin: before.origin.clone(),
        versions: Versions {
            root: trusted.root().signed().common.version,
            timestamp: trusted.timestamp().map_or(0, |t| t.signed().common.version),
            snapshot: trusted.snapshot().map_or(0, |s| s.signed().common.version),
            targets: roles.get("targets").map_or(before.versions.targets, |r| r.version),
        },
        files: before.files + added_files,
        bytes: u64::try_from(bytes.max(0)).unwrap_or(u64::MAX),
        expires: trustroot_core::time::format(&expires),
        oldest_superseded,
        skipped,
        roles,
        journal: journal.files.len() as u64,
    }
}

fn entry_of(meta: &std::fs::Metadata, sha256: String) -> FileEntry {
    FileEntry {
        size: meta.len(),
        mtime_ns: mtime_ns(meta),
        sha256,
        superseded_at: None,
    }
}

/// Makes the directories `name` lies in inside `tree`, refusing any that is not a plain
/// directory (never following a planted symlink).
fn make_parents(tree: &Path, name: &TreePath) -> Result<(), UpdateError> {
    let mut dirs: Vec<&str> = name.parents().collect();
    dirs.sort_by_key(|dir| dir.len());
    for dir in dirs {
        let path = tree.join(dir);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) => crate::layout::check_plain(&path, &meta)?,
            Err(_) => std::fs::create_dir(&path).map_err(|e| UpdateError::io(&path, e))?,
        }
    }
    Ok(())
}
