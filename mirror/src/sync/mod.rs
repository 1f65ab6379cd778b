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
//!
//! One module per step, run in this order by [`sync`]:
//!
//! - `plan`: what the repository now holds: where to fetch from, the client state seeded
//!   from the served state (or the starting root), the walk through the updater, the
//!   files wanted.
//! - `desired`: the files current metadata calls for (also what `mirror verify` checks).
//! - `stage`: the new state in `staging/tree`, unchanged and resumed files carried over;
//!   after the downloads, superseded files kept for their grace period.
//! - `fetch`: the missing targets, downloaded concurrently and verified while streaming.
//! - `commit`: the new state synced to disk, installed, switched to, the old one pruned.

mod commit;
mod desired;
mod fetch;
mod in_place;
mod plan;
mod quick;
mod stage;

use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use trustroot_core::keyless::SigstoreTrust;
use trustroot_core::{Limits, TrustedSet};
use url::Url;

pub(crate) use self::desired::{Desired, Wanted, WantedTarget, desired_files};
use self::plan::{Current, Plan, Served};
use self::quick::StateSummary;
use crate::error::UpdateError;
use crate::fetch::FetchConfig;
use crate::layout::MirrorDir;
use crate::manifest::Origin;

/// Sigstore's public-good repository.
pub const SIGSTORE_URL: &str = "https://tuf-repo-cdn.sigstore.dev/";
/// Sigstore's production root v15, the starting point when no `--root` is given; its
/// sha256 is recorded beside it in `mirror/roots/` and checked by a test.
pub const SIGSTORE_ROOT: &[u8] = include_bytes!("../../roots/sigstore-production.root.json");
/// The `trusted_root.json` target of the Sigstore production state root v15 belongs to
/// (targets v14 lists it): the trust material keyless (`sigstore-oidc`) keys are checked
/// against when no other is given. Its sha256 is recorded beside it and checked by a test.
pub const SIGSTORE_TRUSTED_ROOT: &[u8] = include_bytes!("../../roots/sigstore-production.trusted_root.json");

/// [`SIGSTORE_TRUSTED_ROOT`], parsed once.
pub fn embedded_sigstore_trust() -> Arc<SigstoreTrust> {
    static TRUST: std::sync::OnceLock<Arc<SigstoreTrust>> = std::sync::OnceLock::new();
    TRUST
        .get_or_init(|| {
            // Checked by a test: the embedded bytes are a valid trusted root.
            Arc::new(
                SigstoreTrust::from_json(SIGSTORE_TRUSTED_ROOT)
                    .unwrap_or_else(|e| unreachable!("the embedded Sigstore trusted root does not parse: {e}")),
            )
        })
        .clone()
}

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
    /// Count a failure in the mirror's [`crate::sync_record`]: true for `mirror sync`;
    /// false for an import, whose refusal of a bundle leaves the mirror as it was.
    pub record_failure: bool,
    /// The Sigstore trust material keyless keys are checked against: pinned by the
    /// caller, never taken from the repository synced. Default: Sigstore production's
    /// ([`embedded_sigstore_trust`]).
    pub sigstore: Option<Arc<SigstoreTrust>>,
    /// The `file://` source is a private directory this process filled and throws away
    /// afterwards (an import's unpacked bundle): a target there that verifies is moved
    /// into the new state instead of copied. Never for a directory anyone else can write:
    /// a moved file is the same inode the source directory held.
    pub adopt_local_targets: bool,
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
            record_failure: true,
            sigstore: Some(embedded_sigstore_trust()),
            adopt_local_targets: false,
        }
    }
}

/// Role versions a state holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// True when the served state was updated in place (new files first, `timestamp.json`
    /// last) instead of a new state being built: see the sync's `in_place` module.
    pub in_place: bool,
    pub state: u64,
    pub before: Option<Versions>,
    pub after: Versions,
    /// Every file fetched from the repository and checked: metadata and targets.
    pub files_fetched: u64,
    pub bytes_fetched: u64,
    /// Of `files_fetched`, the metadata files.
    pub metadata_fetched: u64,
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

impl SyncSummary {
    /// What the sync did to the served tree, for people: a new state served, the served
    /// state updated in place, or nothing.
    pub fn outcome(&self) -> String {
        match (self.changed, self.in_place) {
            (true, true) => format!("state {} updated in place", self.state),
            (true, false) => format!("now serving state {}", self.state),
            (false, _) => "already current".into(),
        }
    }
}

/// A target current metadata lists that the mirror does not store, and why: its name would
/// leave the mirror, cannot be a file name, or clashes with another; or its hashes cannot
/// name or check it. The rest of the repository is mirrored all the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub target: String,
    /// The targets role that lists it (the one a client would trust it from).
    pub role: String,
    pub reason: String,
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

/// True when an update in place of state directory `state` began and did not finish.
pub(crate) fn in_place_interrupted(state: &Path) -> bool {
    in_place::interrupted(state)
}

/// Takes the lock of the mirror in `dir`, as a sync does, for as long as the file returned
/// is open: what reads the served state as a whole (an export) holds it, since a sync may
/// update that state in place. Fails at once when a sync is running.
pub fn lock_mirror(dir: &Path) -> Result<std::fs::File, UpdateError> {
    let layout = MirrorDir::new(dir);
    if std::fs::symlink_metadata(layout.hidden()).is_err() {
        return Err(UpdateError::NothingMirrored { dir: dir.to_path_buf() });
    }
    lock(&layout)
}

/// Takes the mirror's lock for the whole sync: two syncs at once would race on `staging/`.
pub(crate) fn lock(layout: &MirrorDir) -> Result<std::fs::File, UpdateError> {
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
        Err(std::fs::TryLockError::WouldBlock) => Err(UpdateError::SyncRunning {
            dir: layout.root().to_path_buf(),
            lock: path,
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(UpdateError::io(&path, e)),
    }
}

/// Mirrors the repository into `options.dir`. See the module documentation.
pub async fn sync(options: SyncOptions) -> Result<SyncSummary, UpdateError> {
    let started = std::time::Instant::now();
    let layout = MirrorDir::new(&options.dir);
    std::fs::create_dir_all(layout.root()).map_err(|e| UpdateError::io(layout.root(), e))?;
    // Never through a planted symlink: see StateDir::create_states.
    layout.state_dir().create_states()?;
    let _lock = lock(&layout)?;
    let result = sync_locked(&layout, &options, started).await;
    // Every sync that took the lock is recorded (an import only when it succeeds), for
    // `mirror serve --metrics`. The sync's
    // own outcome is what the caller needs: a record that cannot be written after a
    // success is a note, and after a failure the sync's error stays the one reported.
    match result {
        Ok(mut summary) => {
            if let Err(e) = crate::sync_record::success(&layout, options.now) {
                summary
                    .notes
                    .push(format!("the sync succeeded but was not recorded: {e}"));
            }
            Ok(summary)
        }
        Err(error) => {
            if options.record_failure {
                let _ = crate::sync_record::failure(&layout, options.now, &error);
            }
            Err(error)
        }
    }
}

/// The sync itself, under the mirror's lock.
async fn sync_locked(
    layout: &MirrorDir,
    options: &SyncOptions,
    started: std::time::Instant,
) -> Result<SyncSummary, UpdateError> {
    let number = layout.current()?;
    // The served state's summary lets a sync that finds nothing new stop before loading
    // its manifest; a state without one (written before summaries) has its manifest read
    // now, for the origin it records.
    let state_summary = number.and_then(|n| StateSummary::read(&layout.state(n)));
    let mut current = None;
    let served = match (number, &state_summary) {
        (None, _) => None,
        (Some(n), Some(summary)) => Some(Served {
            number: n,
            origin: summary.origin.clone(),
            versions: Some(summary.versions.clone()),
        }),
        (Some(n), None) => {
            let read = Current::read(layout, n)?;
            let origin = read.manifest.origin.clone();
            current = Some(read);
            Some(Served {
                number: n,
                origin,
                versions: None,
            })
        }
    };
    stage::prepare_staging(layout, number)?;
    let mut begun = plan::begin(layout, served.as_ref(), options).await?;
    if let (Some(served), Some(state_summary)) = (&served, &state_summary)
        && begun.unchanged(layout, served, state_summary, options)
    {
        stage::remove_if_exists(&layout.staging())?;
        let mut summary = begun.no_change(layout, served, state_summary);
        summary.seconds = started.elapsed().as_secs_f64();
        return Ok(summary);
    }
    if let (Some(served), Some(state_summary)) = (&served, &state_summary)
        && in_place::eligible(&begun, layout, served, state_summary, options)
        && let Some(mut summary) = in_place::update(&mut begun, layout, served, state_summary, options).await?
    {
        summary.seconds = started.elapsed().as_secs_f64();
        return Ok(summary);
    }
    // The served state's manifest is read once the walk is done and the targets roles it
    // verified are freed: it is not held beside them (for 100,000 targets, tens of MB).
    let plan = plan::finish(begun, layout, number).await?;
    let current = match (current, number) {
        (Some(current), _) => Some(current),
        (None, Some(n)) => Some(Current::read(layout, n)?),
        (None, None) => None,
    };
    if plan.already_served(current.as_ref(), options)? {
        let Plan { mut summary, facts, .. } = plan;
        stage::remove_if_exists(&layout.staging())?;
        if let Some(current) = &current {
            summary.files_reused = current.manifest.files.len() as u64;
            summary.bytes_reused = current.manifest.files.values().map(|e| e.size).sum();
            // A state written before summaries (or by a version whose summary differs)
            // gets one now, so the next sync that finds nothing new takes the fast path.
            let state = layout.state(current.number);
            let mut fresh = StateSummary::new(&facts, current.manifest.files.values());
            fresh.journal = crate::manifest::Journal::read(&state)?.map_or(0, |j| j.files.len() as u64);
            if state_summary.as_ref() != Some(&fresh) {
                fresh.write(&state)?;
            }
            // An update in place that crashed after its last file: the full check above
            // found the state whole, so it may be updated in place again.
            in_place::checked_whole(&state)?;
        }
        summary.seconds = started.elapsed().as_secs_f64();
        return Ok(summary);
    }

    let Plan {
        origin,
        targets_url,
        fetcher,
        wanted,
        mut summary,
        facts,
    } = plan;
    let mut staged = stage::stage(&layout.staging(), current.as_ref(), &wanted, options, &mut summary)?;
    fetch::fetch_targets(&fetcher, &targets_url, &mut staged, options, &mut summary).await?;
    stage::carry_superseded(&mut staged, current.as_ref(), &wanted, options, &mut summary)?;
    stage::remove_leftovers(&staged)?;
    let next = commit::commit(
        layout,
        current.as_ref().map(|c| c.number),
        staged.tree,
        staged.files,
        origin,
        &facts,
        options,
    )?;
    summary.changed = true;
    summary.state = next;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use trustroot_core::hashes::sha256_hex;

    #[test]
    fn the_embedded_sigstore_root_matches_its_recorded_sha256_and_verifies() {
        let recorded = include_str!("../../roots/sigstore-production.root.json.sha256").trim();
        assert_eq!(sha256_hex(SIGSTORE_ROOT), recorded);
        let at = trustroot_core::time::parse("2026-08-22T00:00:00Z").unwrap();
        let trusted = TrustedSet::new(SIGSTORE_ROOT, at, Limits::default()).unwrap();
        assert_eq!(trusted.root().signed().common.version, 15);
    }

    #[test]
    fn the_embedded_sigstore_trusted_root_matches_its_recorded_sha256_and_parses() {
        let recorded = include_str!("../../roots/sigstore-production.trusted_root.json.sha256").trim();
        assert_eq!(sha256_hex(SIGSTORE_TRUSTED_ROOT), recorded);
        assert_eq!(embedded_sigstore_trust().sha256(), recorded);
    }
}
