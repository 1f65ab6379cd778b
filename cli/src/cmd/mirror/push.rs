//! `--to URL` on `mirror sync` and `mirror import`: after the local commit (which stays
//! the source of truth), the served tree is pushed to object storage by
//! `trustroot_mirror::push`, read back by the byte compare and tough (ceremony's
//! `HttpReadBack`, handed in: the mirror crate does not depend on ceremony) and by our own
//! client, side by side.

use std::path::Path;

use chrono::{DateTime, Utc};
use trustroot_ceremony::push::PushReport;
use trustroot_mirror::push::{Checked, Target};
use trustroot_store::object::layout::CacheControl;
use trustroot_store::object::{DEFAULT_JOBS, ObjectError, PushOptions, ReadBack};

use crate::cmd::shared::{CmdResult, PushArgs};
use crate::output::Failure;

/// A mirror's push, checked before the sync or import starts.
#[derive(Debug)]
pub struct MirrorPush {
    checked: Checked,
    audit: bool,
    dry_run: bool,
    jobs: usize,
    cache: CacheControl,
    /// The command that resumes a failed push.
    rerun: String,
}

/// The push `args` ask for on the mirror in `dir` (`command` is the command without its
/// push flags, for the hint that resumes it), checked with no request made; `None`
/// without `--to`. `jobs_downloads`: the command also uses `--jobs` for its downloads
/// (`mirror sync`), so it is no push flag there.
pub fn check(args: &PushArgs, dir: &Path, command: &str, jobs_downloads: bool) -> CmdResult<Option<MirrorPush>> {
    // Every field named: a flag added to PushArgs must be handled here too (it shows in
    // the mirror commands' --help), or this stops compiling.
    let PushArgs {
        to,
        endpoint,
        public_url,
        audit,
        dry_run,
        jobs,
        manifest,
        cache_control,
    } = args;
    let Some(to) = to else {
        let companions = *audit
            || *dry_run
            || endpoint.is_some()
            || public_url.is_some()
            || (jobs.is_some() && !jobs_downloads)
            || manifest.is_some()
            || !cache_control.is_empty();
        if companions {
            return Err(Failure::usage(
                "--audit, --dry-run, --endpoint, --public-url, --jobs, --manifest and --cache-control go with a push: give --to URL",
            ));
        }
        return Ok(None);
    };
    let cache = args.cache(CacheControl::default())?;
    let target = Target {
        to: to.clone(),
        endpoint: endpoint.clone(),
        public_url: public_url.clone(),
        manifest: manifest.clone(),
    };
    let checked = target.check(dir).map_err(|e| {
        failure(e).with_hint_text("nothing was synced or pushed; fix --to (or --public-url, --endpoint) and run again")
    })?;
    let rerun = crate::cmd::shared::rerun_push(
        command,
        &checked.destination,
        checked.endpoint.as_deref(),
        checked.public_url.as_ref(),
        checked.manifest.as_ref(),
    );
    Ok(Some(MirrorPush {
        checked,
        audit: *audit,
        dry_run: *dry_run,
        jobs: jobs.unwrap_or(DEFAULT_JOBS),
        cache,
        rerun,
    }))
}

/// Pushes the tree the mirror in `dir` serves. Superseded objects stay in the store for
/// `keep` (the mirror's grace period). A failure says the mirror is synced and how to
/// resume.
pub fn push(dir: &Path, push: &MirrorPush, keep: chrono::Duration, now: DateTime<Utc>) -> CmdResult<PushReport> {
    let resume = |e: ObjectError| {
        failure(e).with_hint_text(format!(
            "the mirror in {} is up to date, the store still serves what it served before; run `{}` to push again",
            dir.display(),
            push.rerun
        ))
    };
    let served = trustroot_mirror::push::served_tree(dir).map_err(resume)?;
    let options = PushOptions {
        keep,
        audit: push.audit,
        dry_run: push.dry_run,
        jobs: push.jobs,
        cache: push.cache.clone(),
        ..PushOptions::new(now)
    };
    // tough cannot load a root with an ECDSA P-384 key; a mirror serves whatever its
    // origin signs, so such a root skips tough (the byte compare and our client stand).
    let reader = push.checked.public_url.as_ref().map(|base| {
        trustroot_ceremony::readback::HttpReadBack::new(base.clone(), served.clone(), true, options.cache.clone())
            .with_jobs(options.jobs)
    });
    let pushed = trustroot_mirror::push::push(
        &served,
        &push.checked,
        &options,
        reader.as_ref().map(|r| r as &dyn ReadBack),
    )
    .map_err(resume)?;
    Ok(PushReport::of(
        &push.checked.destination,
        pushed.report,
        push.dry_run,
        reader.as_ref(),
        pushed.clients,
        push.checked.public_url.as_ref(),
        pushed.warnings,
    ))
}

/// A store's error, classed as the publish side classes it.
pub fn failure(error: ObjectError) -> Failure {
    Failure::from(trustroot_ceremony::Error::from(error))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The command a failed push prints must run as printed: `--manifest` names the
    /// object, suffix and all, as the flag requires.
    #[test]
    fn the_resume_command_names_the_manifest_as_the_flag_takes_it() {
        let work = tempfile::tempdir().unwrap();
        let (store, kept) = (work.path().join("store"), work.path().join("kept"));
        let manifest = kept.join("m.trustroot-push.json").display().to_string();
        let args = PushArgs {
            to: Some(store.join("repo").display().to_string()),
            manifest: Some(manifest.clone()),
            ..PushArgs::default()
        };
        let push = check(&args, &work.path().join("mirror"), "trustroot mirror sync M", true)
            .unwrap()
            .unwrap();
        assert!(
            push.rerun.ends_with(&format!(" --manifest {manifest}")),
            "{}",
            push.rerun
        );
    }
}
