//! The push: the local tree up to the store in principle 5's order, each phase only after
//! the previous one fully succeeded, `timestamp.json` last and only after the read-back
//! accepted everything else; then the manifest, then the pruning of what the grace
//! period no longer protects. A failure at any point leaves the store serving the
//! previous timestamp, and the same command resumes.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use futures::{StreamExt as _, TryStreamExt as _};

use super::backend::{Backend, Expect, Headers, Meta};
use super::error::ObjectError;
use super::layout::{CacheControl, Phase};
use super::manifest::{MAX_MANIFEST, Manifest, State};
use super::plan::{self, Plan, Tree, object_of};

/// Uploads in flight at once by default: enough to hide a cloud's round trips without
/// tripping a store's per-prefix request rate.
pub const DEFAULT_JOBS: usize = 8;
/// The most uploads in flight at once: past this a store throttles (S3 answers 503 Slow
/// Down) rather than going faster.
pub const MAX_JOBS: usize = 256;

/// `--jobs N` (and `[publish] jobs`): a number from 1 to [`MAX_JOBS`].
pub fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_JOBS).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{}' is not a number of concurrent uploads from 1 to {MAX_JOBS} (default {DEFAULT_JOBS})",
            text.escape_debug()
        )),
    }
}

/// How a push runs.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Uploads in flight at once.
    pub jobs: usize,
    /// How long a superseded object stays for clients mid-update.
    pub keep: chrono::Duration,
    pub cache: CacheControl,
    /// Plan only: nothing is written.
    pub dry_run: bool,
    /// List the prefix and check it against the manifest before planning.
    pub audit: bool,
    pub now: DateTime<Utc>,
}

impl PushOptions {
    pub fn new(now: DateTime<Utc>) -> PushOptions {
        PushOptions {
            jobs: DEFAULT_JOBS,
            keep: chrono::Duration::days(7),
            cache: CacheControl::default(),
            dry_run: false,
            audit: false,
            now,
        }
    }
}

/// Checks the uploaded state through the address clients use, before `timestamp.json`
/// goes up. `Err((key, reason))` stops the push. `Sync`: read-backs run side by side
/// ([`super::readback::Chain`]).
pub trait ReadBack: Sync {
    fn check(&self, uploaded: &[String], timestamp: &[u8]) -> Result<(), (String, String)>;

    /// What the clients it ran did, one line per client and starting root.
    fn runs(&self) -> Vec<String> {
        Vec::new()
    }
}

/// What a push did (or, with `dry_run`, would do).
#[derive(Debug, Clone)]
pub struct Report {
    pub plan: Plan,
    /// Objects deleted after their grace period.
    pub deleted: usize,
    /// Found by `--audit`: objects under the prefix that no push of ours put there.
    pub foreign: Vec<String>,
    /// Found by `--audit`: objects the manifest lists that are missing (uploaded again).
    pub missing: Vec<String>,
    /// The manifest's generation after the push (unchanged when nothing was to do).
    pub generation: u64,
}

/// Opens `destination` (and `manifest`, where the push manifest is kept when not beside
/// the prefix: `--manifest`) and pushes `tree` there. Returns the report and the set-up's
/// warnings (an `http://` endpoint off this machine).
pub fn open_and_push(
    destination: &super::Destination,
    manifest: Option<&super::Destination>,
    connect: &super::Connect,
    env: super::credentials::Env<'_>,
    tree: &Path,
    options: &PushOptions,
    read_back: Option<&dyn ReadBack>,
) -> Result<(Report, Vec<String>), ObjectError> {
    let (backend, warnings) = super::StoreBackend::open(destination, connect, env)?;
    let report = match manifest {
        None => push(&backend, tree, options, read_back)?,
        Some(at) => {
            let (manifest, _) = super::StoreBackend::open(at, connect, env)?;
            let elsewhere = super::manifest::ManifestAt {
                served: backend,
                manifest,
            };
            push(&elsewhere, tree, options, read_back)?
        }
    };
    Ok((report, warnings))
}

/// Pushes the tree under `tree` (a published repository) to `backend`.
pub fn push<B: Backend>(
    backend: &B,
    tree: &Path,
    options: &PushOptions,
    read_back: Option<&dyn ReadBack>,
) -> Result<Report, ObjectError> {
    let local = plan::read_tree(tree)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ObjectError::Setup {
            url: backend.url().to_string(),
            reason: format!("cannot start the I/O runtime: {e}"),
        })?;
    let mut run = runtime.block_on(prepare(backend, &local, options))?;
    if options.dry_run || run.done {
        return Ok(run.report);
    }
    runtime.block_on(upload_phases(backend, &local, options, &mut run))?;
    // What went up in this run, and what an earlier run put up but never saw accepted (a
    // resumed push must not take it on trust); timestamp.json is not up yet (the
    // read-back decides).
    let uploaded = run.report.plan.read_back_keys();
    if let (Some(read_back), Some(timestamp)) = (read_back, local.get("timestamp.json")) {
        let bytes = std::fs::read(&timestamp.path).map_err(|e| ObjectError::LocalTree {
            path: timestamp.path.clone(),
            reason: e.to_string(),
        })?;
        read_back
            .check(&uploaded, &bytes)
            .map_err(|(key, reason)| ObjectError::ReadBack {
                url: backend.url().to_string(),
                key,
                reason,
            })?;
    }
    runtime.block_on(finish(backend, &local, options, &mut run))?;
    Ok(run.report)
}

/// A push under way: the manifest being built and the ETag to replace.
struct Run {
    manifest: Manifest,
    expect: Expect,
    report: Report,
    /// Nothing to do: the store already serves the tree.
    done: bool,
}

/// Reads the manifest (or adopts an empty prefix), audits if asked, plans.
async fn prepare<B: Backend>(backend: &B, local: &Tree, options: &PushOptions) -> Result<Run, ObjectError> {
    let url = backend.url().to_string();
    let (mut previous, expect) = match backend.get_manifest(MAX_MANIFEST).await? {
        Some((bytes, etag)) => {
            let manifest = Manifest::parse(&bytes).map_err(|reason| ObjectError::BadManifest {
                url: url.clone(),
                manifest: manifest_name(backend),
                reason,
            })?;
            (manifest, Expect::ETag(etag))
        }
        None => {
            // No manifest: the prefix must hold nothing, or only files of this very tree
            // (a manifest lost after an upload), never someone else's objects.
            for meta in backend.list().await? {
                let ours = local.get(&meta.key).is_some_and(|file| file.size == meta.size);
                if !ours {
                    return Err(ObjectError::ForeignPrefix {
                        url,
                        key: meta.key,
                        manifest: manifest_name(backend),
                    });
                }
            }
            (Manifest::new(&url, options.now), Expect::Absent)
        }
    };
    let (mut foreign, mut missing) = (Vec::new(), Vec::new());
    if options.audit {
        (foreign, missing) = audit(backend, &mut previous).await?;
    }
    let plan = plan::plan(&url, local, &previous, &options.cache, options.keep, options.now)?;
    let mut done = false;
    if !options.dry_run && plan.is_empty() && previous.state == State::Complete && expect != Expect::Absent {
        // Nothing new: one HEAD shows the store still serves our timestamp.
        done = timestamp_is_ours(backend, &previous).await?;
    }
    let generation = previous.generation;
    Ok(Run {
        manifest: plan.manifest.clone(),
        expect,
        report: Report {
            plan,
            deleted: 0,
            foreign,
            missing,
            generation,
        },
        done,
    })
}

/// True when the store's `timestamp.json` is the one the manifest records; an error when
/// it was replaced by someone else. A missing one is uploaded again by the caller.
async fn timestamp_is_ours<B: Backend>(backend: &B, manifest: &Manifest) -> Result<bool, ObjectError> {
    let Some(recorded) = manifest.objects.get("timestamp.json") else {
        return Ok(false);
    };
    match backend.head("timestamp.json").await? {
        None => Ok(false),
        Some(meta) if same(&meta, recorded.size, recorded.etag.as_deref()) => Ok(true),
        Some(meta) => Err(changed(backend, &meta, recorded.size)),
    }
}

fn same(meta: &Meta, size: u64, etag: Option<&str>) -> bool {
    meta.size == size && (etag.is_none() || meta.etag.is_none() || meta.etag.as_deref() == etag)
}

fn changed<B: Backend>(backend: &B, meta: &Meta, size: u64) -> ObjectError {
    ObjectError::Changed {
        url: backend.url().to_string(),
        key: meta.key.clone(),
        what: if meta.size == size {
            "its ETag is not the one trustroot recorded".to_string()
        } else {
            format!("{} bytes where trustroot put {size}", meta.size)
        },
    }
}

/// `--audit`: lists the prefix; an object that differs from the manifest is an error, one
/// the manifest lists but the store lacks is dropped from it (so it is uploaded again),
/// and objects no push of ours made are reported.
async fn audit<B: Backend>(backend: &B, manifest: &mut Manifest) -> Result<(Vec<String>, Vec<String>), ObjectError> {
    let listed: BTreeMap<String, Meta> = backend.list().await?.into_iter().map(|m| (m.key.clone(), m)).collect();
    let mut foreign = Vec::new();
    for (key, meta) in &listed {
        if let Some(object) = manifest.objects.get(key) {
            if !same(meta, object.size, object.etag.as_deref()) {
                return Err(changed(backend, meta, object.size));
            }
        } else if let Some(old) = manifest.superseded.get(key) {
            if !same(meta, old.size, old.etag.as_deref()) {
                return Err(changed(backend, meta, old.size));
            }
        } else {
            foreign.push(key.clone());
        }
    }
    let missing: Vec<String> = manifest
        .objects
        .keys()
        .filter(|k| !listed.contains_key(*k))
        .cloned()
        .collect();
    for key in &missing {
        manifest.objects.remove(key);
    }
    manifest.superseded.retain(|k, _| listed.contains_key(k));
    Ok((foreign, missing))
}

/// Every phase but the timestamp, in order; the manifest is checkpointed after the
/// targets and after the root versions, so a resumed push skips what is up.
async fn upload_phases<B: Backend>(
    backend: &B,
    local: &Tree,
    options: &PushOptions,
    run: &mut Run,
) -> Result<(), ObjectError> {
    run.manifest.state = State::Pushing;
    for phase in Phase::ALL {
        if phase == Phase::Timestamp {
            break;
        }
        let keys = run.report.plan.uploads.get(&phase).cloned().unwrap_or_default();
        if keys.is_empty() {
            continue;
        }
        upload(backend, local, options, run, &keys).await?;
        backend.barrier().await?;
        if matches!(phase, Phase::Targets | Phase::Root) {
            checkpoint(backend, run).await?;
        }
    }
    Ok(())
}

/// `timestamp.json`, the manifest, then the pruning.
async fn finish<B: Backend>(
    backend: &B,
    local: &Tree,
    options: &PushOptions,
    run: &mut Run,
) -> Result<(), ObjectError> {
    let timestamp = run
        .report
        .plan
        .uploads
        .get(&Phase::Timestamp)
        .cloned()
        .unwrap_or_default();
    if !timestamp.is_empty() {
        upload(backend, local, options, run, &timestamp).await?;
        backend.barrier().await?;
    }
    run.manifest.state = State::Complete;
    run.manifest.unconfirmed.clear();
    run.manifest.generation = run.manifest.generation.saturating_add(1);
    run.manifest.pushed_at = options.now;
    checkpoint(backend, run).await?;
    run.report.generation = run.manifest.generation;
    let due = run.report.plan.deletions.clone();
    if due.is_empty() {
        return Ok(());
    }
    futures::stream::iter(due.iter().map(|key| backend.delete(key)))
        .buffer_unordered(options.jobs.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    backend.barrier().await?;
    for key in &due {
        run.manifest.superseded.remove(key);
    }
    run.report.deleted = due.len();
    checkpoint(backend, run).await
}

/// Uploads `keys`, `jobs` at a time, recording each in the manifest once answered.
async fn upload<B: Backend>(
    backend: &B,
    local: &Tree,
    options: &PushOptions,
    run: &mut Run,
    keys: &[String],
) -> Result<(), ObjectError> {
    let puts = keys
        .iter()
        .filter_map(|key| local.get(key).map(|file| (key, file)))
        .map(|(key, file)| async move {
            let bytes = tokio::fs::read(&file.path).await.map_err(|e| ObjectError::LocalTree {
                path: file.path.clone(),
                reason: e.to_string(),
            })?;
            // The file must still be what was planned: the tree is a committed state, but a
            // change under it would otherwise be pushed under the old hash.
            if bytes.len() as u64 != file.size {
                return Err(ObjectError::LocalTree {
                    path: file.path.clone(),
                    reason: "changed while the push ran; run the command again".into(),
                });
            }
            let object = object_of(key, file, None, &options.cache);
            let headers = Headers {
                content_type: object.content_type.clone(),
                cache_control: object.cache_control.clone(),
            };
            let etag = backend.put(key, bytes, &headers).await?;
            Ok::<_, ObjectError>((key.clone(), super::manifest::Object { etag, ..object }))
        });
    let mut results = futures::stream::iter(puts).buffer_unordered(options.jobs.max(1));
    while let Some(result) = results.next().await {
        let (key, object) = result?;
        run.manifest.unconfirmed.insert(key.clone());
        run.manifest.objects.insert(key, object);
    }
    Ok(())
}

/// Writes the manifest as it stands, replacing only the version this push last saw.
async fn checkpoint<B: Backend>(backend: &B, run: &mut Run) -> Result<(), ObjectError> {
    let bytes = run.manifest.to_bytes().map_err(|reason| ObjectError::BadManifest {
        url: backend.url().to_string(),
        manifest: manifest_name(backend),
        reason,
    })?;
    let etag = backend.put_manifest(bytes, &run.expect).await?;
    run.expect = Expect::ETag(etag);
    Ok(())
}

fn manifest_name<B: Backend>(backend: &B) -> String {
    backend.manifest_name()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn jobs_from_1_to_256() {
        assert_eq!(parse_jobs("1").unwrap(), 1);
        assert_eq!(parse_jobs("256").unwrap(), MAX_JOBS);
        for bad in ["0", "257", "-1", "", "eight", "99999999999999999999999"] {
            assert!(parse_jobs(bad).unwrap_err().contains("from 1 to 256"), "{bad}");
        }
    }
}
