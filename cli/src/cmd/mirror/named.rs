//! Several named repositories in one mirror directory (`trustroot_mirror::set`):
//! `mirror sync DIR --name NAME` adds or syncs one, `mirror sync`, `mirror status` and
//! `mirror verify` on such a DIR take each repository in name order, labelled by its name,
//! and `mirror rename` names the one repository of a mirror made before names existed.
//!
//! Each repository is synced on its own (its own state, lock and atomic switch): one that
//! fails is named, keeps serving what it served, and the others still sync.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use serde::Serialize;
use trustroot_ceremony::push::PushReport;
use trustroot_mirror::UpdateError;
use trustroot_mirror::set::{self, Kind};
use trustroot_mirror::status::MirrorStatus;
use trustroot_mirror::sync::{SyncOptions, SyncSummary, sync as sync_one};
use trustroot_mirror::verify::VerifyReport;

use super::{RenameArgs, StatusArgs, SyncArgs, VerifyArgs, page, push, read, runtime};
use crate::cmd::shared::now;
use crate::outln;
use crate::output::{self, Failure, Format, Outcome, Report};

/// The repositories a command acts on in a directory of named repositories: `only` (which
/// must be one of them), else every one. None when `dir` holds no named repositories.
pub(super) fn picked(dir: &Path, only: Option<&str>) -> Result<Option<Vec<String>>, Failure> {
    let names = match (set::kind(dir)?, only) {
        (Kind::Named(names), _) => names,
        (Kind::Empty | Kind::Unnamed, None) => return Ok(None),
        (Kind::Empty, Some(_)) => {
            return Err(Failure::from(UpdateError::NothingMirrored { dir: dir.to_path_buf() }));
        }
        (Kind::Unnamed, Some(_)) => {
            return Err(Failure::usage(format!(
                "--only picks one of the named repositories of a directory; {} holds one repository without a name (served at /): leave --only out, or name it first with `trustroot mirror rename {} --name NAME`",
                dir.display(),
                dir.display()
            )));
        }
    };
    match only {
        Some(only) => {
            set::check_name(only)?;
            if !names.iter().any(|n| n == only) {
                return Err(Failure::local_state(format!(
                    "{} holds no repository named '{only}' (it holds: {})",
                    dir.display(),
                    listed(&names)
                )));
            }
            Ok(Some(vec![only.to_string()]))
        }
        None if names.is_empty() => Err(Failure::from(UpdateError::NothingMirrored { dir: dir.to_path_buf() })
            .with_hint_text(format!(
                "add a repository with `trustroot mirror sync {} --name NAME --from URL --root FILE`",
                dir.display()
            ))),
        None => Ok(Some(names)),
    }
}

fn listed(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// The error of one repository as printed: its name first.
pub(super) fn report_of(name: &str, failure: Failure) -> Result<Report, Failure> {
    match failure.about(name) {
        Failure::Report(report) => Ok(report),
        // Standard output went away (or the error is printed already): stop here.
        other => Err(other),
    }
}

/// One repository's sync (or import), as `--json` prints it: the summary, or its error.
#[derive(Serialize)]
pub(super) struct RepositorySync {
    pub name: String,
    #[serde(flatten)]
    pub summary: Option<SyncSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<PushReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Report>,
}

#[derive(Serialize)]
pub(super) struct SetSync {
    pub repositories: Vec<RepositorySync>,
    /// The names of the repositories that failed (each still serves what it served).
    pub failed: Vec<String>,
}

/// `mirror sync` when DIR holds named repositories, or `--name` makes it hold one. None:
/// DIR is (or becomes) a mirror of one unnamed repository, synced as before.
pub(super) fn sync(args: &SyncArgs) -> Result<Option<ExitCode>, Failure> {
    let dir = &args.dir;
    let kind = set::kind(dir)?;
    let existing = match (&kind, &args.name) {
        (Kind::Named(names), _) => names.clone(),
        (Kind::Empty | Kind::Unnamed, None) => {
            picked(dir, args.only.as_deref())?;
            return Ok(None);
        }
        (Kind::Empty, Some(_)) => Vec::new(),
        (Kind::Unnamed, Some(name)) => {
            set::check_name(name)?;
            return Err(UpdateError::UnnamedMirror { dir: dir.clone() }.into());
        }
    };
    let names = match &args.name {
        Some(name) => {
            set::check_name(name)?;
            vec![name.clone()]
        }
        None => {
            if args.from.is_some() || args.targets_from.is_some() || args.root.is_some() {
                return Err(Failure::usage(format!(
                    "{} holds named repositories ({}), each synced from where it was first synced: --from, --targets-from and --root go with --name NAME, the repository they add",
                    dir.display(),
                    listed(&existing)
                )));
            }
            picked(dir, args.only.as_deref())?.unwrap_or_default()
        }
    };
    if names.len() > 1 && args.push.to.is_some() {
        return Err(Failure::usage(format!(
            "--to pushes one repository: add --only NAME (one of {})",
            listed(&names)
        )));
    }
    let command = match (names.as_slice(), &args.name) {
        ([only], Some(_)) => format!("trustroot mirror sync {} --name {only}", dir.display()),
        ([only], None) => format!("trustroot mirror sync {} --only {only}", dir.display()),
        _ => format!("trustroot mirror sync {}", dir.display()),
    };
    // Checked against all of DIR: a push never goes into another repository of it.
    let to = push::check(&args.push, dir, &command, true)?;
    // Read before anything is written.
    let root = args.root.as_deref().map(read).transpose()?;
    let added = match &args.name {
        Some(name) if !existing.contains(name) => {
            let made = set::check_new(dir, name)?;
            if kind == Kind::Empty {
                set::create(dir)?;
            }
            Some(Added {
                made,
                marked: kind == Kind::Empty,
            })
        }
        _ => None,
    };
    sync_each(args, &names, root, added, to.as_ref()).map(Some)
}

/// A repository `mirror sync DIR --name NAME` adds (as opposed to one DIR holds).
struct Added {
    /// The sync made `DIR/NAME` (it was not there).
    made: bool,
    /// The sync marked DIR as a directory of named repositories.
    marked: bool,
}

/// Syncs each of `names` in turn, each on its own: a failure is reported and the next one
/// synced all the same. Exit 1 when any failed or skipped a target. `root`: `--root`,
/// read, for the repository `--name` picks.
fn sync_each(
    args: &SyncArgs,
    names: &[String],
    root: Option<Vec<u8>>,
    added: Option<Added>,
    to: Option<&push::MirrorPush>,
) -> Outcome {
    let now = now(args.at);
    let runtime = runtime()?;
    let sigstore = args.sigstore.trust()?;
    let mut results = Vec::new();
    let mut skipped = false;
    for name in names {
        let repo = args.dir.join(name);
        let result = if args.name.is_some() {
            // As `mirror sync DIR` on one repository: the flags given, else what the
            // repository records.
            let options = SyncOptions {
                from: args.from.clone(),
                targets_from: args.targets_from.clone(),
                root: root.clone(),
                ..super::sync_options(args, &repo, now, &sigstore)
            };
            runtime.block_on(sync_one(options)).map_err(Failure::from)
        } else {
            match served(&repo) {
                Ok(true) => runtime
                    .block_on(sync_one(super::sync_options(args, &repo, now, &sigstore)))
                    .map_err(Failure::from),
                // Nothing served means no origin recorded: never a silent default.
                Ok(false) => Err(
                    Failure::from(UpdateError::NothingMirrored { dir: repo.clone() }).with_hint_text(format!(
                        "add it again with `trustroot mirror sync {} --name {name} --from URL --root FILE`",
                        args.dir.display()
                    )),
                ),
                Err(failure) => Err(failure),
            }
        };
        let mut entry = RepositorySync {
            name: name.clone(),
            summary: None,
            push: None,
            error: None,
        };
        match result {
            Ok(summary) => {
                if !args.json {
                    super::print_sync(&summary, Some(name))?;
                }
                skipped |= !summary.skipped.is_empty();
                if let Some(to) = to {
                    match push::push(&repo, to, args.keep, now) {
                        Ok(report) => {
                            if !args.json {
                                crate::cmd::shared::show_push(&report)?;
                            }
                            entry.push = Some(report);
                        }
                        Err(failure) => entry.error = Some(report_of(name, failure)?),
                    }
                }
                entry.summary = Some(summary);
            }
            Err(failure) => {
                // A first sync that failed leaves no repository behind. The sync's error
                // is the one reported; one left behind is said, not hidden.
                if let Some(added) = &added
                    && let Err(e) = set::undo_add(&args.dir, name, added.made, added.marked)
                {
                    crate::note!("warning: {name}: the failed first sync left {}: {e}", repo.display());
                }
                entry.error = Some(report_of(name, failure)?);
            }
        }
        if let (Some(report), false) = (&entry.error, args.json) {
            output::print_error(Format::Text, report);
        }
        results.push(entry);
    }
    let failed: Vec<String> = results
        .iter()
        .filter(|r| r.error.is_some())
        .map(|r| r.name.clone())
        .collect();
    if args.json {
        output::json(&SetSync {
            repositories: results,
            failed: failed.clone(),
        })?;
    } else {
        let synced: Vec<String> = results
            .iter()
            .filter(|r| r.error.is_none())
            .map(|r| r.name.clone())
            .collect();
        if failed.is_empty() {
            outln!("synced: {}", listed(&synced))?;
        } else {
            outln!(
                "synced: {}; FAILED: {} (still serving what it served before)",
                listed(&synced),
                failed.join(", ")
            )?;
        }
    }
    Ok(if failed.is_empty() && !skipped {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Whether the repository in `repo` serves a state (a first sync that stopped part-way
/// leaves one that does not, and no origin to sync it from).
fn served(repo: &Path) -> Result<bool, Failure> {
    Ok(trustroot_mirror::layout::MirrorDir::new(repo).current()?.is_some())
}

/// `DIR|URL` of `mirror status` and `mirror verify` names a served repository rather than
/// a directory.
fn is_remote(dir: &Path) -> bool {
    dir.to_str().is_some_and(trustroot_mirror::remote::is_remote)
}

/// One repository's verify report, as `--json` prints it.
#[derive(Serialize)]
struct RepositoryVerify {
    name: String,
    #[serde(flatten)]
    report: VerifyReport,
}

#[derive(Serialize)]
struct SetVerify {
    repositories: Vec<RepositoryVerify>,
}

/// `mirror verify DIR` when DIR holds named repositories: each one, labelled by its name.
/// A repository that cannot be checked (nothing served, a file that cannot be read) is a
/// problem of it: the others are still checked. None: not such a DIR.
pub(super) fn verify(args: &VerifyArgs) -> Result<Option<ExitCode>, Failure> {
    if is_remote(&args.dir) {
        if args.only.is_some() {
            return Err(Failure::usage(
                "--only picks a repository of a mirror directory; a URL names one already",
            ));
        }
        return Ok(None);
    }
    let Some(names) = picked(&args.dir, args.only.as_deref())? else {
        return Ok(None);
    };
    if args.root.is_some() && names.len() > 1 {
        return Err(Failure::usage(format!(
            "--root is the root one repository starts from: add --only NAME (one of {})",
            listed(&names)
        )));
    }
    let root = args.root.as_deref().map(read).transpose()?;
    let now = now(args.at);
    let sigstore = args.sigstore.trust()?;
    let runtime = runtime()?;
    let mut repositories = Vec::new();
    for name in &names {
        let repo = args.dir.join(name);
        let report = runtime
            .block_on(trustroot_mirror::verify::verify(
                &repo,
                root.clone(),
                now,
                trustroot_mirror::mirror_limits(),
                Some(sigstore.clone()),
            ))
            .unwrap_or_else(|error| VerifyReport {
                served: trustroot_mirror::layout::MirrorDir::new(&repo)
                    .served()
                    .display()
                    .to_string(),
                state: None,
                versions: None,
                files_checked: 0,
                problems: vec![format!("cannot be checked: {error}")],
                skipped: Vec::new(),
            });
        if !args.json {
            super::show_verify(&report, Some(name))?;
        }
        repositories.push(RepositoryVerify {
            name: name.clone(),
            report,
        });
    }
    let ok = repositories.iter().all(|r| r.report.ok());
    if args.json {
        output::json(&SetVerify { repositories })?;
    } else if ok {
        outln!("verified: no problems in {}", listed(&names))?;
    }
    Ok(Some(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) }))
}

/// One repository's status, as `--json` prints it: its status, or why it cannot be read.
#[derive(Serialize)]
struct RepositoryStatus {
    name: String,
    #[serde(flatten)]
    status: Option<MirrorStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Report>,
}

#[derive(Serialize)]
struct SetStatus {
    repositories: Vec<RepositoryStatus>,
}

/// `mirror status DIR` when DIR holds named repositories: each one, labelled by its name;
/// one that cannot be read is reported (exit 1) and the others shown. None: not such a
/// DIR.
pub(super) fn status(args: &StatusArgs, at: DateTime<Utc>) -> Result<Option<ExitCode>, Failure> {
    let Some(names) = picked(&args.dir, args.only.as_deref())? else {
        return Ok(None);
    };
    let mut repositories = Vec::new();
    for name in &names {
        let (status, error) = match trustroot_mirror::status::status(&args.dir.join(name), at) {
            Ok(status) => (Some(status), None),
            Err(error) => (None, Some(report_of(name, Failure::from(error))?)),
        };
        repositories.push(RepositoryStatus {
            name: name.clone(),
            status,
            error,
        });
    }
    if let Some(out) = &args.html {
        // One repository: its own page; several: the page `mirror serve` shows at /_status,
        // a section each.
        let html = match repositories.as_slice() {
            [
                RepositoryStatus {
                    status: Some(status), ..
                },
            ] => Some(page::render(status, at)),
            [_] => None,
            _ => {
                let statuses: Vec<_> = trustroot_mirror::serve::status_page::named_statuses(&args.dir, at)?
                    .into_iter()
                    .filter(|named| names.contains(&named.name))
                    .collect();
                Some(page::render_named(&statuses, at))
            }
        };
        if let Some(html) = html {
            trustroot_store::write_atomic(out, html.as_bytes())
                .map_err(|e| Failure::io(format!("cannot write {}: {e}", out.display())))?;
            if !args.json {
                outln!("Wrote the status page {}", out.display())?;
            }
        }
        if !args.json {
            for error in repositories.iter().filter_map(|r| r.error.as_ref()) {
                output::print_error(Format::Text, error);
            }
            return Ok(Some(exit_status(&repositories)));
        }
    }
    if args.json {
        let code = exit_status(&repositories);
        output::json(&SetStatus { repositories })?;
        return Ok(Some(code));
    }
    for repository in &repositories {
        match (&repository.status, &repository.error) {
            (Some(status), _) => super::show_status(status, Some(&repository.name))?,
            (None, Some(error)) => output::print_error(Format::Text, error),
            (None, None) => {}
        }
    }
    Ok(Some(exit_status(&repositories)))
}

fn exit_status(repositories: &[RepositoryStatus]) -> ExitCode {
    if repositories.iter().any(|r| r.error.is_some()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[derive(Serialize)]
struct Renamed {
    dir: PathBuf,
    name: String,
    /// Where the repository now is (`DIR/NAME`), served at `/NAME/` by `mirror serve DIR`.
    repository: PathBuf,
}

/// `mirror rename DIR --name NAME`.
pub(super) fn rename(args: &RenameArgs) -> Outcome {
    set::rename(&args.dir, &args.name)?;
    let repository = args.dir.join(&args.name);
    if args.json {
        output::json(&Renamed {
            dir: args.dir.clone(),
            name: args.name.clone(),
            repository,
        })?;
    } else {
        outln!(
            "{}: the repository is now {}, served at /{}/ by `trustroot mirror serve {}`",
            args.dir.display(),
            repository.display(),
            args.name,
            args.dir.display()
        )?;
        outln!(
            "  a web server pointed at {} must now be pointed at {}",
            args.dir.join("repository").display(),
            repository.join("repository").display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
