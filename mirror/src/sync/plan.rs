//! The first step of a sync: what the repository now holds. It settles where to fetch
//! from, seeds the client state from the served state (or the starting root), walks the
//! full client workflow through the [`Updater`], and lists the files the new state must
//! hold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use trustroot_core::TrustedSet;
use trustroot_core::hashes::sha256_hex;
use url::Url;

use super::desired::{Desired, Wanted, desired_files};
use super::quick::{self, PlanFacts, StateSummary};
use super::stage::{unchanged, within_grace};
use super::{SIGSTORE_ROOT, SIGSTORE_URL, SyncOptions, SyncSummary, Versions, versions};
use crate::error::UpdateError;
use crate::fetch::Fetcher;
use crate::layout::{MirrorDir, scan_files};
use crate::manifest::{Manifest, Origin};
use crate::tree_path::TreePath;
use crate::updater::{Updater, UpdaterConfig, base_url, join, signed_version};

/// Root versions a sync fetches at once while it walks a long root chain.
const ROOTS_AHEAD: usize = 8;

/// The state the mirror serves now, with its manifest loaded.
pub(super) struct Current {
    pub number: u64,
    pub manifest: Manifest,
    /// Its `tree`, the files clients are served.
    pub tree: std::path::PathBuf,
}

impl Current {
    /// State `number`, with its manifest.
    pub fn read(layout: &MirrorDir, number: u64) -> Result<Current, UpdateError> {
        let manifest = Manifest::read_state(&layout.state(number))?;
        Ok(Current {
            number,
            manifest,
            tree: layout.state(number).join("tree"),
        })
    }
}

/// What a sync knows of the served state before the walk: its number, the origin it
/// records and, when its summary says so, the role versions it holds.
pub(super) struct Served {
    pub number: u64,
    pub origin: Origin,
    pub versions: Option<Versions>,
}

/// What the repository now holds, verified, and where to fetch its targets.
pub(super) struct Plan {
    pub origin: Origin,
    pub targets_url: Url,
    pub fetcher: Fetcher,
    /// Every file the new state must hold.
    pub wanted: BTreeMap<TreePath, Wanted>,
    /// The summary so far: versions before and after, skipped targets, notes.
    pub summary: SyncSummary,
    /// What the new state's summary records of the verified metadata.
    pub facts: PlanFacts,
}

/// The walk as far as the timestamp (spec 5.3-5.4): trust seeded, every new root and the
/// timestamp verified, in `staging/client`.
pub(super) struct Begun {
    pub origin: Origin,
    pub targets_url: Url,
    pub fetcher: Fetcher,
    pub updater: Updater,
    before: Option<Versions>,
    pub notes: Vec<String>,
    history: PathBuf,
}

/// Seeds the client state from the served state (or the starting root) in
/// `staging/client` (prepared by [`super::stage::prepare_staging`]) and walks the roots
/// and the timestamp.
pub(super) async fn begin(
    layout: &MirrorDir,
    served: Option<&Served>,
    options: &SyncOptions,
) -> Result<Begun, UpdateError> {
    let client = layout.staging().join("client");
    let history = client.join("root_history");
    let (metadata_url, targets_url) = origin_urls(options, served.map(|s| &s.origin))?;
    let origin = options.record_origin.clone().unwrap_or_else(|| Origin {
        metadata_url: metadata_url.to_string(),
        targets_url: targets_url.to_string(),
    });
    let mut notes = Vec::new();
    // Trust: the served state's own metadata, or the given (or embedded) root.
    let before = match served {
        Some(served) => {
            link_tree(&layout.state(served.number).join("client"), &client)?;
            if options.root.is_some() {
                notes.push("the pinned root is not used: the mirror already trusts its own root".into());
            }
            Some(match &served.versions {
                Some(versions) => versions.clone(),
                None => versions_before(&client, options)?,
            })
        }
        None => {
            seed_from_root(&client, &history, options)?;
            None
        }
    };
    let fetcher = Fetcher::new(options.fetch.clone());
    let mut updater = updater(&client, &history, metadata_url, &fetcher, options)?;
    updater.refresh_timestamp().await?;
    Ok(Begun {
        origin,
        targets_url,
        fetcher,
        updater,
        before,
        notes,
        history,
    })
}

impl Begun {
    /// True when the served state `served`, summarised by `summary`, is still exactly what
    /// the repository holds: see [`super::quick`]. The walk has checked the root chain and
    /// the timestamp's signatures; the summary vouches for everything after it.
    pub fn unchanged(
        &self,
        layout: &MirrorDir,
        served: &Served,
        summary: &StateSummary,
        options: &SyncOptions,
    ) -> bool {
        !options.verify_all
            && summary.origin == self.origin
            && self.updater.trusted().root_updates() == 0
            && summary.still_current(options)
            && !super::in_place::interrupted(&layout.state(served.number))
            && quick::same_timestamp(&layout.state(served.number), self.updater.remote_timestamp())
    }

    /// The report of a sync that found the served state unchanged.
    pub fn no_change(self, layout: &MirrorDir, served: &Served, summary: &StateSummary) -> SyncSummary {
        let (fetched, bytes) = self.updater.metadata_fetched();
        SyncSummary {
            served: layout.served().display().to_string(),
            origin: self.origin,
            changed: false,
            in_place: false,
            state: served.number,
            before: self.before,
            after: summary.versions.clone(),
            metadata_fetched: fetched,
            files_fetched: fetched,
            bytes_fetched: bytes,
            files_reused: summary.files,
            bytes_reused: summary.bytes,
            files_resumed: 0,
            files_in_grace: 0,
            files_pruned: 0,
            seconds: 0.0,
            skipped: summary.skipped.clone(),
            notes: self.notes,
        }
    }
}

/// Goes on from [`begin`]: the snapshot and every targets role (the full client
/// workflow), then the files the new state must hold.
/// `served` is the number of the state served now, if any.
pub(super) async fn finish(begun: Begun, layout: &MirrorDir, served: Option<u64>) -> Result<Plan, UpdateError> {
    let Begun {
        origin,
        targets_url,
        fetcher,
        mut updater,
        before,
        notes,
        history,
    } = begun;
    updater.load_all_targets().await?;
    let trusted = updater.trusted();
    let after = versions(trusted);
    let Desired { files: wanted, skipped } = desired_files(trusted, &history)?;
    let facts = PlanFacts::new(origin.clone(), trusted, skipped.clone());
    let summary = SyncSummary {
        served: layout.served().display().to_string(),
        origin: origin.clone(),
        changed: false,
        in_place: false,
        state: served.unwrap_or(0),
        before,
        after,
        // The metadata the walk fetched and checked; the targets fetched are added later.
        metadata_fetched: updater.metadata_fetched().0,
        files_fetched: updater.metadata_fetched().0,
        bytes_fetched: updater.metadata_fetched().1,
        files_reused: 0,
        bytes_reused: 0,
        files_resumed: 0,
        files_in_grace: 0,
        files_pruned: 0,
        seconds: 0.0,
        skipped,
        notes,
    };
    Ok(Plan {
        origin,
        targets_url,
        fetcher,
        wanted,
        summary,
        facts,
    })
}

/// The metadata and targets base URLs: as given, else as the served state records them,
/// else Sigstore's.
fn origin_urls(options: &SyncOptions, recorded_origin: Option<&Origin>) -> Result<(Url, Url), UpdateError> {
    let metadata_url = match (&options.from, recorded_origin) {
        (Some(url), _) => base_url(url),
        (None, Some(origin)) => recorded(&origin.metadata_url)?,
        // The default origin is a constant URL (a test below parses it).
        (None, None) if options.root.is_none() => Url::parse(SIGSTORE_URL).map_err(|source| UpdateError::NotAUrl {
            url: SIGSTORE_URL.to_string(),
            source,
        })?,
        (None, None) => return Err(UpdateError::OriginNeeded),
    };
    let targets_url = match (&options.targets_from, recorded_origin) {
        (Some(url), _) => base_url(url),
        (None, Some(origin)) if options.from.is_none() => recorded(&origin.targets_url)?,
        _ => join(&metadata_url, "targets/")?,
    };
    Ok((metadata_url, targets_url))
}

/// A URL a mirror state records as its origin.
fn recorded(url: &str) -> Result<Url, UpdateError> {
    Url::parse(url).map_err(|source| UpdateError::RecordedOrigin {
        url: url.to_string(),
        source,
    })
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

/// A new mirror's trust: the given (or embedded) root, which also starts the history.
fn seed_from_root(client: &Path, history: &Path, options: &SyncOptions) -> Result<(), UpdateError> {
    let root = options.root.clone().unwrap_or_else(|| SIGSTORE_ROOT.to_vec());
    std::fs::create_dir_all(history).map_err(|e| UpdateError::io(history, e))?;
    Updater::init(client, &root, options.now, &options.limits, options.sigstore.clone())?;
    let trusted = TrustedSet::with_keyless(&root, options.now, options.limits.clone(), options.sigstore.clone())?;
    trustroot_store::write_atomic(
        &history.join(format!("{}.root.json", trusted.root().signed().common.version)),
        &root,
    )?;
    Ok(())
}

/// The role versions the served state's client metadata holds.
fn versions_before(client: &Path, options: &SyncOptions) -> Result<Versions, UpdateError> {
    let trusted_before = TrustedSet::with_keyless(
        &std::fs::read(client.join("root.json")).map_err(|e| UpdateError::io(client.join("root.json"), e))?,
        options.now,
        options.limits.clone(),
        options.sigstore.clone(),
    )?;
    let mut v = versions(&trusted_before);
    // Only the version is read (see `signed_version`).
    let read_version = |role: &str| -> u64 {
        std::fs::read(client.join(format!("{role}.json")))
            .ok()
            .and_then(|bytes| signed_version(&bytes))
            .unwrap_or(0)
    };
    v.timestamp = read_version("timestamp");
    v.snapshot = read_version("snapshot");
    v.targets = read_version("targets");
    Ok(v)
}

/// The client workflow against `metadata_url`, its state in `client`.
fn updater(
    client: &Path,
    history: &Path,
    metadata_url: Url,
    fetcher: &Fetcher,
    options: &SyncOptions,
) -> Result<Updater, UpdateError> {
    let mut updater = Updater::new(
        UpdaterConfig {
            metadata_dir: client.to_path_buf(),
            metadata_url,
            target_dir: None,
            target_url: None,
            now: options.now,
            limits: options.limits.clone(),
            root_history_dir: Some(history.to_path_buf()),
            sigstore: options.sigstore.clone(),
        },
        fetcher.clone(),
    )?;
    // staging/ is made durable as a whole before it is switched to: no sync per file.
    updater.defer_durability();
    updater.fetch_roots_ahead(ROOTS_AHEAD);
    Ok(updater)
}

impl Plan {
    /// True when the served state already is what this plan calls for (and nothing asks
    /// for every file to be re-hashed): the sync then changes nothing.
    pub fn already_served(&self, current: Option<&Current>, options: &SyncOptions) -> Result<bool, UpdateError> {
        let Some(current) = current else {
            return Ok(false);
        };
        scan_files(&current.tree)?;
        Ok(!options.verify_all
            && current.manifest.origin == self.origin
            && is_current(&self.wanted, &current.manifest, &current.tree, options))
    }
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
            Wanted::Target(target) => {
                entry.size == target.length
                    && target
                        .hash("sha256")
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    /// The default origin is a constant: it parses, so a mirror without one never fails on it.
    #[test]
    fn the_default_origin_is_a_url() {
        assert!(url::Url::parse(super::SIGSTORE_URL).is_ok());
    }
}
