//! The third step of a sync: the targets not kept from staging or the served state are
//! downloaded concurrently into the staged tree, their length and hashes checked while
//! streaming, each content fetched once and linked under its other names.

use std::collections::BTreeMap;
use std::sync::Arc;

use trustroot_core::target_path;
use url::Url;

use super::desired::WantedTarget;
use super::stage::{Staged, target_entry};
use super::{SyncOptions, SyncSummary};
use crate::error::{Task, UpdateError};
use crate::fetch::Fetcher;
use crate::tree_path::TreePath;
use crate::updater::{encode_target_path, join};

/// A target to fetch once, under the first of its names; the others are linked to it.
pub(super) struct Download {
    pub target: Arc<WantedTarget>,
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
        let preferred = format!(
            "targets/{}",
            target_path::consistent_name(&download.target.name, digest)
        );
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
/// then links its other names. A download is started only when one of the `jobs` slots is
/// free, never queued as a task ahead of time: 100,000 tasks waiting for their turn held
/// about 2.8 KB each (their future, URL and entry), more than half the memory of a fresh
/// sync of 100,000 targets.
async fn fetch_all(
    fetcher: &Fetcher,
    targets_url: &Url,
    downloads: BTreeMap<String, Download>,
    options: &SyncOptions,
    staged: &mut Staged,
    summary: &mut SyncSummary,
) -> Result<(), UpdateError> {
    let progress = progress_bar(options, downloads.len());
    let jobs = options.jobs.max(1);
    let mut waiting = downloads.into_values();
    let mut tasks = tokio::task::JoinSet::new();
    let mut first_error = None;
    loop {
        while tasks.len() < jobs {
            let Some(Download { target, paths }) = waiting.next() else {
                break;
            };
            let Some(first) = paths.first() else {
                continue;
            };
            let relative = first.as_str().strip_prefix("targets/").unwrap_or(first.as_str());
            let url = join(targets_url, &encode_target_path(relative))?;
            staged.tree.make_parent(first)?;
            let destination = staged.tree.path(first);
            let fetcher = fetcher.clone();
            let adopt = options.adopt_local_targets;
            tasks.spawn(async move {
                let info = target.target_file();
                let result = if adopt {
                    crate::download::adopt_unsynced(&fetcher, &url, &target.name, &info, &destination).await
                } else {
                    crate::download::download_unsynced(&fetcher, &url, &target.name, &info, &destination).await
                };
                (result, target, paths)
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let (result, target, paths) = joined.map_err(|source| UpdateError::TaskFailed {
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
                let tree = &mut staged.tree;
                let first = tree.path(first);
                let entry = target_entry(&first, &target)?;
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
                // Let the other downloads run (they resume next time), report the first.
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
