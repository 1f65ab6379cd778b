//! The third step of a sync: the targets not kept from staging or the served state are
//! downloaded concurrently into the staged tree, their length and hashes checked while
//! streaming, each content fetched once and linked under its other names.

use std::collections::BTreeMap;
use std::sync::Arc;

use trustroot_core::{TargetFile, target_path};
use url::Url;

use super::stage::{Staged, target_entry};
use super::{SyncOptions, SyncSummary};
use crate::error::{Task, UpdateError};
use crate::fetch::Fetcher;
use crate::tree_path::TreePath;
use crate::updater::{encode_target_path, join};

/// A target to fetch once, under the first of its names; the others are linked to it.
pub(super) struct Download {
    pub name: String,
    pub info: TargetFile,
    pub paths: Vec<TreePath>,
}

/// Fetches every target still missing from `staged`.
pub(super) async fn fetch_targets(
    fetcher: &Fetcher,
    targets_url: &Url,
    staged: &mut Staged,
    options: &SyncOptions,
    summary: &mut SyncSummary,
) -> Result<(), UpdateError> {
    prefer_sha256_names(staged)?;
    let downloads = std::mem::take(&mut staged.downloads);
    fetch_all(fetcher, targets_url, downloads, options, staged, summary).await
}

/// Fetch each target under its preferred (sha256) name, the one every publisher writes;
/// its other names are linked to it.
fn prefer_sha256_names(staged: &mut Staged) -> Result<(), UpdateError> {
    let Staged { tree, files, downloads } = staged;
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
    Ok(())
}

/// A progress bar for `len` downloads, when asked for and there are any.
fn progress_bar(options: &SyncOptions, len: usize) -> Option<indicatif::ProgressBar> {
    if !options.progress || len == 0 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} targets {bytes_per_sec} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}

/// Downloads every missing target, `options.jobs` at a time, each into its first name,
/// then links its other names.
async fn fetch_all(
    fetcher: &Fetcher,
    targets_url: &Url,
    downloads: BTreeMap<String, Download>,
    options: &SyncOptions,
    staged: &mut Staged,
    summary: &mut SyncSummary,
) -> Result<(), UpdateError> {
    let progress = progress_bar(options, downloads.len());
    let tree = &mut staged.tree;
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
        let (result, info, paths) = joined.map_err(|source| UpdateError::TaskFailed {
            task: Task::Download,
            source,
        })?;
        match result {
            Ok(bytes) => {
                trustroot_store::crash::after_write();
                // Every download spawned has a first name (see above).
                let Some((first, aliases)) = paths.split_first() else {
                    continue;
                };
                let first = tree.path(first);
                let entry = target_entry(&first, &info)?;
                tree.unsynced.push(first.clone());
                for alias in aliases {
                    tree.link(&first, alias)?;
                }
                for path in &paths {
                    staged.files.insert(path.as_str().to_string(), entry.clone());
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
