//! `mirror export|import` of a directory of named repositories (`trustroot_mirror::set`):
//! one bundle carrying each repository's own bundle, each imported from its own pinned
//! root (`--root NAME=FILE`), verified, switched or refused on its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use trustroot_mirror::bundle::{BundleLimits, NamedImportOptions, export_named, import_named};
use trustroot_mirror::set::{self, Kind};

use super::named::{RepositorySync, SetSync, report_of};
use super::{ExportArgs, ImportArgs, push, read, runtime};
use crate::outln;
use crate::output::{self, Failure, Outcome};

/// Where an import goes: named repositories, with the roots given for them by name, or
/// one repository, with its pinned root if given.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Destination {
    Named(BTreeMap<String, PathBuf>),
    One(Option<PathBuf>),
}

/// Reads `--root` values (`NAME=FILE` where the text before the first `=` is a repository
/// name, else a file: write `./FILE` for a file whose name looks like that) against what
/// `dir` holds and `--only`.
pub(super) fn destination(dir: &Path, values: &[String], only: Option<&String>) -> Result<Destination, Failure> {
    let mut named = BTreeMap::new();
    let mut files = Vec::new();
    for value in values {
        match value.split_once('=') {
            Some((name, file)) if set::check_name(name).is_ok() && !file.is_empty() => {
                if named.insert(name.to_string(), PathBuf::from(file)).is_some() {
                    return Err(Failure::usage(format!("--root {name}=... is given twice")));
                }
            }
            _ => files.push(PathBuf::from(value)),
        }
    }
    let holds_named = matches!(set::kind(dir)?, Kind::Named(_));
    match files.as_slice() {
        [] if holds_named || !named.is_empty() || only.is_some() => Ok(Destination::Named(named)),
        [] => Ok(Destination::One(None)),
        [_] if named.is_empty() && !holds_named && only.is_none() => Ok(Destination::One(files.pop())),
        [_] if named.is_empty() && only.is_none() => Err(Failure::usage(format!(
            "{} holds named repositories: give each new one's root as --root NAME=FILE",
            dir.display()
        ))),
        _ => Err(Failure::usage(
            "give one --root FILE for a mirror of one repository, or --root NAME=FILE for each named repository (--only too names one): never both",
        )),
    }
}

/// `mirror export DIR` of a directory of named repositories: each one (or `--only`'s)
/// verified first, then one bundle of all of them.
pub(super) fn export(args: &ExportArgs, names: Vec<String>) -> Outcome {
    let now = super::now(args.at);
    // Each repository's lock is held until the bundle is written: a sync may update a
    // served state in place, so none runs between the check and the export.
    let mut locks = Vec::new();
    let mut verified = Vec::new();
    for name in names {
        let dir = set::repository_dir(&args.dir, &name)?;
        locks.push(trustroot_mirror::sync::lock_mirror(&dir)?);
        let trusted = super::verify_for_export(&dir, &format!("repository '{name}' ({})", dir.display()), now)?;
        verified.push((name, trusted));
    }
    let compress = args.zstd || args.out.extension().is_some_and(|e| e == "zst");
    let summaries = export_named(&args.dir, &verified, &args.out, compress)?;
    if args.json {
        let repositories: Vec<_> = summaries
            .iter()
            .map(|(name, s)| serde_json::json!({ "name": name, "files": s.files, "bytes": s.bytes }))
            .collect();
        output::json(&serde_json::json!({
            "bundle": args.out.display().to_string(),
            "compressed": compress,
            "repositories": repositories,
        }))?;
    } else {
        let count = match summaries.len() {
            1 => "1 repository".to_string(),
            n => format!("{n} repositories"),
        };
        outln!(
            "{}: {count}{}",
            args.out.display(),
            if compress { ", zstd-compressed" } else { "" }
        )?;
        for (name, summary) in &summaries {
            outln!("  {name}: {} files, {} bytes", summary.files, summary.bytes)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `mirror import DIR --bundle FILE [--root NAME=FILE ...] [--only NAME]` into a directory
/// of named repositories: each repository verified and switched on its own; exit 1 when
/// any was refused (each named).
pub(super) fn import(args: &ImportArgs, roots: BTreeMap<String, PathBuf>) -> Outcome {
    let to = match (&args.push.to, &args.only) {
        (Some(_), None) => {
            return Err(Failure::usage(
                "--to pushes one repository: add --only NAME (run the import once per repository to push each to its own prefix)",
            ));
        }
        _ => push::check(
            &args.push,
            &args.dir,
            &format!(
                "trustroot mirror import {} --bundle {} --only {}",
                args.dir.display(),
                args.bundle.display(),
                args.only.as_deref().unwrap_or("NAME")
            ),
            false,
        )?,
    };
    let now = super::now(args.at);
    let roots = roots
        .into_iter()
        .map(|(name, path)| Ok((name, read(&path)?)))
        .collect::<Result<BTreeMap<_, _>, Failure>>()?;
    let options = NamedImportOptions {
        dir: args.dir.clone(),
        bundle: args.bundle.clone(),
        roots,
        only: args.only.clone(),
        now,
        limits: trustroot_mirror::mirror_limits(),
        bundle_limits: BundleLimits {
            max_total_size: args.max_size,
            ..Default::default()
        },
        scratch: None,
        sigstore: Some(args.sigstore.trust()?),
    };
    let imports = runtime()?.block_on(import_named(options))?;
    let total = imports.len();
    let mut repositories = Vec::new();
    let mut failed = Vec::new();
    for import in imports {
        match import.result {
            Ok(summary) => {
                if !args.json {
                    let v = &summary.after;
                    let what = summary.outcome();
                    outln!(
                        "{}: {what} (root v{}, timestamp v{}, snapshot v{}, targets v{})",
                        import.name,
                        v.root,
                        v.timestamp,
                        v.snapshot,
                        v.targets
                    )?;
                    super::print_skipped(&summary.skipped)?;
                }
                // --only: the one repository, pushed (and printed) as one repository's
                // import is.
                if let Some(only) = &args.only {
                    let dir = set::repository_dir(&args.dir, only)?;
                    super::push_after(&dir, to.as_ref(), args.keep, now, args.json, &summary)?;
                    return Ok(super::skipped_status(&summary.skipped));
                }
                repositories.push(RepositorySync {
                    name: import.name,
                    summary: Some(summary),
                    push: None,
                    error: None,
                });
            }
            Err(error) => {
                if !args.json {
                    outln!("{}: refused, left as it was: {error}", import.name)?;
                }
                let report = report_of(&import.name, Failure::from(error))?;
                failed.push(import.name.clone());
                repositories.push(RepositorySync {
                    name: import.name,
                    summary: None,
                    push: None,
                    error: Some(report),
                });
            }
        }
    }
    let refused = failed.join(", ");
    let count = failed.len();
    if args.json {
        // The report says which failed; the exit status says that one did.
        output::json(&SetSync { repositories, failed })?;
        return Ok(if count == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    if count == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    Err(Failure::repository(format!(
        "{count} of {total} repositories refused, each left as it was: {refused}"
    )))
}
