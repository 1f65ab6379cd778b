//! `mirror verify`: re-verifies a mirror's served tree offline, as a client would, from
//! the mirror's first root (or a root the site pins), at a given time; every target is
//! re-hashed. Problems are listed, each with its file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use trustroot_core::Limits;
use trustroot_core::display::escape;
use url::Url;

use crate::download::file_matches;
use crate::error::UpdateError;
use crate::fetch::Fetcher;
use crate::layout::{MirrorDir, scan_files};
use crate::manifest::Manifest;
use crate::remote::Remote;
use crate::sync::{Desired, Skipped, Versions, Wanted, WantedTarget, desired_files, versions};
use crate::updater::{Updater, UpdaterConfig};
use trustroot_core::keyless::SigstoreTrust;

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub served: String,
    pub state: Option<u64>,
    pub versions: Option<Versions>,
    pub files_checked: u64,
    pub problems: Vec<String>,
    /// Targets the metadata lists that no mirror stores (see `mirror sync`): not problems
    /// of the mirror, but told.
    pub skipped: Vec<Skipped>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The lowest `N.root.json` in a directory: the mirror's first trusted root.
fn first_root(dir: &Path) -> Option<Vec<u8>> {
    let lowest = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".root.json")?
                .parse::<u64>()
                .ok()
                .map(|v| (v, e.path()))
        })
        .min_by_key(|(v, _)| *v)?;
    std::fs::read(lowest.1).ok()
}

/// The outcome of verifying one published tree.
pub struct TreeReport {
    pub versions: Option<Versions>,
    pub files_checked: u64,
    pub problems: Vec<String>,
    /// Targets no mirror can store.
    pub skipped: Vec<Skipped>,
    /// Every file the verified metadata calls for.
    pub(crate) wanted: BTreeSet<String>,
    /// With [`Targets::LeftToTheReader`], each target the metadata calls for, by its name
    /// in the tree.
    pub(crate) targets: TrustedTargets,
}

/// How a verification treats the target files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Targets {
    /// Each one read and re-hashed.
    Rehashed,
    /// Each one checked for its trusted length only, and handed to the caller, who checks
    /// the hashes of the bytes it reads (an export does, as it writes the bundle: one pass
    /// over the targets instead of two).
    LeftToTheReader,
}

/// The target files a verified tree calls for, by name in the tree, with their trusted
/// length and hashes (see [`Targets::LeftToTheReader`]).
#[derive(Debug, Default)]
pub struct TrustedTargets(pub(crate) BTreeMap<String, Arc<WantedTarget>>);

/// What a verification starts from, both pinned by the caller: the root, and the Sigstore
/// trust material keyless keys are checked against.
pub(crate) struct Pinned {
    pub root: Vec<u8>,
    pub sigstore: Option<Arc<SigstoreTrust>>,
}

/// Verifies the metadata of a published tree on disk (`N.root.json`, `timestamp.json`,
/// ...) as a client would, from `root`, at `now`, and returns what it calls for: the
/// versions and every file by name (targets with their trusted length and hashes). The
/// outer error is the caller's (a directory that cannot be read); the inner one is the
/// tree's (metadata that does not verify). Target files are not read.
pub(crate) async fn verify_metadata(
    tree: &Path,
    root: Vec<u8>,
    now: DateTime<Utc>,
    limits: Limits,
    sigstore: Option<Arc<SigstoreTrust>>,
) -> Result<Result<(Versions, Desired), UpdateError>, UpdateError> {
    let scratch = tempfile::tempdir().map_err(|e| UpdateError::io(std::env::temp_dir(), e))?;
    // A mirror directory given as a relative path (`trustroot mirror verify tuf-mirror`)
    // still makes a file:// URL: made absolute against the working directory.
    let absolute = std::path::absolute(tree).map_err(|e| UpdateError::io(tree, e))?;
    let url = Url::from_directory_path(&absolute).map_err(|_| UpdateError::NotAbsolute {
        path: tree.to_path_buf(),
    })?;
    let updater = match load_verified(
        scratch.path(),
        url,
        Fetcher::default(),
        Pinned { root, sigstore },
        now,
        limits,
        None,
    )
    .await
    {
        Ok(updater) => updater,
        Err(error) => return Ok(Err(error)),
    };
    let desired = desired_files(updater.trusted(), tree)?;
    Ok(Ok((versions(updater.trusted()), desired)))
}

/// Runs the client workflow from `root` against the repository at `url` through
/// `fetcher`, keeping the trusted metadata in `metadata_dir` (and every root version it
/// crosses in `root_history`): all metadata, every delegated role, each verified.
pub(crate) async fn load_verified(
    metadata_dir: &Path,
    url: Url,
    fetcher: Fetcher,
    pinned: Pinned,
    now: DateTime<Utc>,
    limits: Limits,
    root_history: Option<std::path::PathBuf>,
) -> Result<Updater, UpdateError> {
    let Pinned { root, sigstore } = pinned;
    Updater::init(metadata_dir, &root, now, &limits, sigstore.clone())?;
    let config = UpdaterConfig {
        metadata_dir: metadata_dir.to_path_buf(),
        metadata_url: url,
        target_dir: None,
        target_url: None,
        now,
        limits,
        root_history_dir: root_history,
        sigstore,
    };
    let mut updater = Updater::new(config, fetcher)?;
    updater.load_all_targets().await?;
    Ok(updater)
}

/// Verifies a repository where it is served (`mirror verify URL`): the same client
/// workflow as for a directory, through `remote`'s fetcher, from `root`, at `now`; then
/// every file the verified metadata calls for is read from there, each target held to its
/// trusted length and hashes. A problem names the object's URL.
pub async fn verify_remote(
    remote: &Remote,
    root: Vec<u8>,
    now: DateTime<Utc>,
    limits: Limits,
    sigstore: Option<Arc<SigstoreTrust>>,
) -> Result<VerifyReport, UpdateError> {
    let mut report = VerifyReport {
        served: remote.base.to_string(),
        state: None,
        versions: None,
        files_checked: 0,
        problems: Vec::new(),
        skipped: Vec::new(),
    };
    let scratch = tempfile::tempdir().map_err(|e| UpdateError::io(std::env::temp_dir(), e))?;
    let history = scratch.path().join("root_history");
    std::fs::create_dir(&history).map_err(|e| UpdateError::io(&history, e))?;
    let client = scratch.path().join("client");
    std::fs::create_dir(&client).map_err(|e| UpdateError::io(&client, e))?;
    let loaded = load_verified(
        &client,
        remote.base.clone(),
        remote.fetcher.clone(),
        Pinned { root, sigstore },
        now,
        limits,
        Some(history.clone()),
    )
    .await;
    let updater = match loaded {
        Ok(updater) => updater,
        Err(problem) => {
            // The role is named by the client; the address says where it was read.
            report.problems.push(format!("{}: {problem}", remote.base));
            return Ok(report);
        }
    };
    // The root versions this client crossed: the older ones are the pinned root's past,
    // which a client starting from it never reads.
    let desired = desired_files(updater.trusted(), &history)?;
    report.versions = Some(versions(updater.trusted()));
    report.skipped = desired.skipped;
    for (path, want) in &desired.files {
        report.files_checked += 1;
        let Wanted::Target(target) = want else {
            // Metadata: read and verified by the client above, from this very address.
            continue;
        };
        let url = remote
            .base
            .join(path.as_str())
            .map_err(|source| UpdateError::UrlFromName {
                base: remote.base.to_string(),
                relative: path.as_str().to_string(),
                source,
            })?;
        if let Some(problem) = target_problem(&remote.fetcher, &url, &target.name, &target.target_file()).await {
            report.problems.push(problem);
        }
    }
    Ok(report)
}

/// What is wrong with the target `name` served at `url`, if anything.
async fn target_problem(fetcher: &Fetcher, url: &Url, name: &str, info: &trustroot_core::TargetFile) -> Option<String> {
    use trustroot_core::hashes::StreamVerifier;
    let differs = || format!("{url}: length or hash differs from target '{}'", escape(name));
    let mut verifier = match StreamVerifier::new(name, Some(info.length), info.length, Some(&info.hashes)) {
        Ok(verifier) => verifier,
        Err(e) => return Some(format!("{url}: target '{}': {e}", escape(name))),
    };
    let mut body = match fetcher.open(url, info.length).await {
        Ok(body) => body,
        Err(crate::FetchError::NotFound { .. }) => {
            return Some(format!("{url}: missing (target '{}')", escape(name)));
        }
        Err(crate::FetchError::TooLarge { .. }) => return Some(differs()),
        Err(e) => return Some(e.to_string()),
    };
    loop {
        match body.chunk().await {
            Ok(Some(chunk)) => {
                if verifier.update(&chunk).is_err() {
                    return Some(differs());
                }
            }
            Ok(None) => return verifier.finish().is_err().then(differs),
            Err(crate::FetchError::TooLarge { .. }) => return Some(differs()),
            Err(e) => return Some(e.to_string()),
        }
    }
}

/// Verifies a published tree on disk (`N.root.json`, `timestamp.json`, ..., `targets/`) as
/// a client would, from `root`, at `now`, re-hashing every target or leaving that to the
/// caller (`targets`).
pub async fn verify_tree(
    tree: &Path,
    root: Vec<u8>,
    now: DateTime<Utc>,
    limits: Limits,
    sigstore: Option<Arc<SigstoreTrust>>,
    targets: Targets,
) -> Result<TreeReport, UpdateError> {
    let mut report = TreeReport {
        versions: None,
        files_checked: 0,
        problems: Vec::new(),
        skipped: Vec::new(),
        wanted: BTreeSet::new(),
        targets: TrustedTargets::default(),
    };
    let (versions, desired) = match verify_metadata(tree, root, now, limits, sigstore).await? {
        Ok(verified) => verified,
        Err(problem) => {
            report.problems.push(problem.to_string());
            return Ok(report);
        }
    };
    report.versions = Some(versions);
    report.skipped = desired.skipped;
    for (path, want) in &desired.files {
        report.files_checked += 1;
        report.wanted.insert(path.as_str().to_string());
        let file = path.under(tree);
        let Wanted::Target(target) = want else {
            continue;
        };
        let name = &target.name;
        let differs = || {
            format!(
                "{}: length or hash differs from target '{}'",
                file.display(),
                escape(name)
            )
        };
        match std::fs::symlink_metadata(&file) {
            Err(_) => report
                .problems
                .push(format!("{}: missing (target '{}')", file.display(), escape(name))),
            Ok(_) if targets == Targets::Rehashed => {
                if !file_matches(&file, name, &target.target_file())? {
                    report.problems.push(differs());
                }
            }
            Ok(meta) if meta.len() != target.length => report.problems.push(differs()),
            Ok(_) => {
                report.targets.0.insert(path.as_str().to_string(), Arc::clone(target));
            }
        }
    }
    Ok(report)
}

/// Verifies the served state of the mirror in `dir`. `root` pins the starting root
/// (default: the first root the mirror trusted).
pub async fn verify(
    dir: &Path,
    root: Option<Vec<u8>>,
    now: DateTime<Utc>,
    limits: Limits,
    sigstore: Option<Arc<SigstoreTrust>>,
) -> Result<VerifyReport, UpdateError> {
    verify_served(dir, root, now, limits, sigstore, Targets::Rehashed)
        .await
        .map(|(report, _)| report)
}

/// [`verify`] with the targets' hashes left to the caller ([`Targets::LeftToTheReader`]):
/// what an export runs before it writes, checking each target's bytes as it writes them.
pub async fn verify_leaving_targets(
    dir: &Path,
    now: DateTime<Utc>,
    limits: Limits,
    sigstore: Option<Arc<SigstoreTrust>>,
) -> Result<(VerifyReport, TrustedTargets), UpdateError> {
    verify_served(dir, None, now, limits, sigstore, Targets::LeftToTheReader).await
}

async fn verify_served(
    dir: &Path,
    root: Option<Vec<u8>>,
    now: DateTime<Utc>,
    limits: Limits,
    sigstore: Option<Arc<SigstoreTrust>>,
    targets: Targets,
) -> Result<(VerifyReport, TrustedTargets), UpdateError> {
    let layout = MirrorDir::new(dir);
    let mut report = VerifyReport {
        served: layout.served().display().to_string(),
        state: None,
        versions: None,
        files_checked: 0,
        problems: Vec::new(),
        skipped: Vec::new(),
    };
    // Nothing to verify is not a problem found: the check cannot run.
    let Some(n) = layout.current()? else {
        return Err(UpdateError::NothingMirrored { dir: dir.to_path_buf() });
    };
    report.state = Some(n);
    let state = layout.state(n);
    let tree = state.join("tree");
    let files = match scan_files(&tree) {
        Ok(files) => files,
        Err(error) => {
            report.problems.push(error.to_string());
            return Ok((report, TrustedTargets::default()));
        }
    };
    let Some(root) = root.or_else(|| first_root(&state.join("client/root_history"))) else {
        report
            .problems
            .push("no root to start from: the mirror keeps no root history, and no root was pinned".to_string());
        return Ok((report, TrustedTargets::default()));
    };
    let tree_report = verify_tree(&tree, root, now, limits, sigstore, targets).await?;
    report.versions = tree_report.versions;
    report.files_checked = tree_report.files_checked;
    report.problems.extend(tree_report.problems);
    report.skipped = tree_report.skipped;
    if report.versions.is_none() {
        return Ok((report, TrustedTargets::default()));
    }
    let wanted = tree_report.wanted;
    if crate::sync::in_place_interrupted(&state) {
        report.problems.push(format!(
            "{}: an update in place of this state was interrupted; run `trustroot mirror sync` to build a new one",
            state.display()
        ));
    }
    let manifest = Manifest::read_state(&state).ok();
    let known: BTreeSet<&String> = manifest.iter().flat_map(|m| m.files.keys()).collect();
    for (relative, _) in &files {
        if !wanted.contains(relative) && !known.contains(relative) {
            report
                .problems
                .push(format!("{}: not part of the mirror", tree.join(relative).display()));
        }
    }
    Ok((report, tree_report.targets))
}
