//! `mirror verify`: re-verifies a mirror's served tree offline, as a client would, from
//! the mirror's first root (or a root the site pins), at a given time; every target is
//! re-hashed. Problems are listed, each with its file.

use std::collections::BTreeSet;
use std::path::Path;

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
use crate::sync::{Desired, Skipped, Versions, Wanted, desired_files, versions};
use crate::updater::{Updater, UpdaterConfig};

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
) -> Result<Result<(Versions, Desired), UpdateError>, UpdateError> {
    let scratch = tempfile::tempdir().map_err(|e| UpdateError::io(std::env::temp_dir(), e))?;
    // A mirror directory given as a relative path (`trustroot mirror verify tuf-mirror`)
    // still makes a file:// URL: made absolute against the working directory.
    let absolute = std::path::absolute(tree).map_err(|e| UpdateError::io(tree, e))?;
    let url = Url::from_directory_path(&absolute).map_err(|_| UpdateError::NotAbsolute {
        path: tree.to_path_buf(),
    })?;
    let outcome = async {
        Updater::init(scratch.path(), &root, now, &limits)?;
        let config = UpdaterConfig {
            metadata_dir: scratch.path().to_path_buf(),
            metadata_url: url,
            target_dir: None,
            target_url: None,
            now,
            limits,
            root_history_dir: None,
        };
        let mut updater = Updater::new(config, Fetcher::default())?;
        updater.load_all_targets().await?;
        Ok::<_, UpdateError>(updater)
    }
    .await;
    let updater = match outcome {
        Ok(updater) => updater,
        Err(error) => return Ok(Err(error)),
    };
    let desired = desired_files(updater.trusted(), tree)?;
    Ok(Ok((versions(updater.trusted()), desired)))
}

/// Verifies a published tree on disk (`N.root.json`, `timestamp.json`, ..., `targets/`) as
/// a client would, from `root`, at `now`, re-hashing every target.
pub async fn verify_tree(
    tree: &Path,
    root: Vec<u8>,
    now: DateTime<Utc>,
    limits: Limits,
) -> Result<TreeReport, UpdateError> {
    let mut report = TreeReport {
        versions: None,
        files_checked: 0,
        problems: Vec::new(),
        skipped: Vec::new(),
        wanted: BTreeSet::new(),
    };
    let (versions, desired) = match verify_metadata(tree, root, now, limits).await? {
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
        let Wanted::Target { name, info } = want else {
            continue;
        };
        match file.exists() {
            false => report
                .problems
                .push(format!("{}: missing (target '{}')", file.display(), escape(name))),
            true if !file_matches(&file, name, info)? => report.problems.push(format!(
                "{}: length or hash differs from target '{}'",
                file.display(),
                escape(name)
            )),
            true => {}
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
) -> Result<VerifyReport, UpdateError> {
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
            return Ok(report);
        }
    };
    let Some(root) = root.or_else(|| first_root(&state.join("client/root_history"))) else {
        report
            .problems
            .push("no root to start from: the mirror keeps no root history, and no root was pinned".to_string());
        return Ok(report);
    };
    let tree_report = verify_tree(&tree, root, now, limits).await?;
    report.versions = tree_report.versions;
    report.files_checked = tree_report.files_checked;
    report.problems.extend(tree_report.problems);
    report.skipped = tree_report.skipped;
    if report.versions.is_none() {
        return Ok(report);
    }
    let wanted = tree_report.wanted;
    let manifest = Manifest::read(&state.join("manifest.json")).ok();
    let known: BTreeSet<&String> = manifest.iter().flat_map(|m| m.files.keys()).collect();
    for (relative, _) in &files {
        if !wanted.contains(relative) && !known.contains(relative) {
            report
                .problems
                .push(format!("{}: not part of the mirror", tree.join(relative).display()));
        }
    }
    Ok(report)
}
