//! `trustroot mirror ...`: verified mirrors of TUF repositories for air-gapped sites.

mod named;
mod named_bundle;
mod page;
mod push;
mod serve;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use trustroot_core::display::escape;
use trustroot_mirror::FetchConfig;
use trustroot_mirror::sync::{Skipped, SyncOptions, sync};
use url::Url;

use super::shared::{PushArgs, SigstoreTrustArgs, now, parse_duration, parse_time};
use crate::outln;
use crate::output::{self, Failure, Format, Outcome};

#[derive(Debug, Subcommand)]
pub enum MirrorCommand {
    /// Mirror a TUF repository into DIR, verifying everything; serve DIR/repository.
    ///
    /// Runs the full client workflow, then publishes exactly the verified bytes in the
    /// repository's published layout at DIR/repository (point any static web server
    /// there). Files already mirrored are reused without fetching or hashing them again;
    /// an interrupted sync resumes; the served tree switches to the new state in one
    /// atomic step, so readers never see a mix. A repository with consistent snapshots and
    /// no new root is updated in place instead, new files first and timestamp.json last
    /// (TUF clients read it first, so they see one repository), reading and fetching only
    /// what changed. With no --from and no --root, mirrors
    /// Sigstore's public-good repository from the production root built into trustroot.
    /// With --to, the served tree is then pushed to object storage as well.
    ///
    /// Several repositories in one DIR: `--name NAME` adds (or syncs) the repository
    /// DIR/NAME, served at /NAME/ by `mirror serve DIR`; then `mirror sync DIR` syncs every
    /// one in name order, each from where it was first synced, with its own state and its
    /// own atomic switch (`--only NAME` syncs one). One that fails is named and keeps
    /// serving what it served; the others still sync, and the exit status is 1.
    #[command(
        after_help = "Examples:\n  trustroot mirror sync /srv/mirror --name production --from https://tuf-repo-cdn.sigstore.dev/ --root root.json\n  trustroot mirror sync /srv/mirror --name site --from https://tuf.example.org/ --root site-root.json\n  trustroot mirror sync /srv/mirror                    # every named repository\n  trustroot mirror sync /srv/mirror --only site        # one of them"
    )]
    Sync(SyncArgs),
    /// Re-verify the mirror in DIR offline, or a repository where it is served (a URL):
    /// every metadata file and every target.
    #[command(
        after_help = "Exit status: 0 no problems; 1 problems found (each listed; under --json, the report); 2 could not run: DIR is not a mirror or cannot be read, a usage error (under --json, the error object). See docs/exit-codes.md."
    )]
    Verify(VerifyArgs),
    /// Show what DIR mirrors, from where, since when, and when each role expires (for a
    /// URL: each role's version and expiry, verified from --root). For a DIR of named
    /// repositories, each one, labelled by its name.
    Status(StatusArgs),
    /// Move the one unnamed repository of DIR under a name, so that others can be added
    /// beside it (`mirror sync DIR --name OTHER ...`).
    ///
    /// DIR/repository and DIR/.trustroot-mirror move into DIR/NAME/, under the
    /// repository's lock (no sync runs meanwhile); nothing is fetched and the served state
    /// stays the same. `mirror serve DIR` then serves it at /NAME/ instead of /, and
    /// `mirror sync DIR` syncs it from where it was synced before. A web server pointed at
    /// DIR/repository must now be pointed at DIR/NAME/repository. A rename stopped
    /// half-way (a crash) is finished by running the same command again.
    #[command(after_help = "Example:\n  trustroot mirror rename /srv/mirror --name production")]
    Rename(RenameArgs),
    /// Write the mirror in DIR into one bundle file to carry across an air gap.
    ///
    /// The mirror is verified first (as `mirror verify` does); the bundle holds the
    /// served tree and a manifest of every file's length and sha256.
    Export(ExportArgs),
    /// Import a bundle into the mirror in DIR, verifying everything before serving it.
    ///
    /// The bundle is unpacked outside DIR (plain files with safe names only): its
    /// metadata first, verified as a TUF client would from --root (the root this site
    /// pins) or from the trust DIR already holds, and only then the targets that metadata
    /// calls for, each held to its verified length, all of them to --max-size and to the
    /// free space. Everything is checked against the bundle's manifest, verified again
    /// from the trust DIR holds, then served through the same atomic switch as a sync. A
    /// bundle older than what DIR holds is refused. On any failure DIR is left as it was.
    /// With --to, the served tree is then pushed to object storage as well.
    Import(ImportArgs),
    /// Serve the mirror in DIR over HTTP (the same view a static web server would).
    Serve(serve::ServeArgs),
}

/// The help of the push flags on `mirror sync` and `mirror import`: what `--to` and its
/// companions mean for a mirror (the flags themselves are `PushArgs`, shared with
/// `ceremony publish` and `online refresh`, whose help speaks of a publish).
mod push_help {
    pub const TO: &str = "After the local commit, push the served tree to object storage: s3://BUCKET/PREFIX, az://CONTAINER/PREFIX, gs://BUCKET/PREFIX, file:///DIR or a directory outside DIR. Only what the store lacks is uploaded, timestamp.json last and only after the rest was read back from --public-url; objects the mirror no longer serves are deleted after --keep. A failed push leaves DIR synced and the store as it was: run the same command again to resume.";
    pub const ENDPOINT: &str = "Another address for the store (default: the cloud's own): an S3-compatible store for s3:// (path-style, e.g. http://127.0.0.1:9000), the account's blob URL for az://, an emulator for gs://.";
    pub const PUBLIC_URL: &str = "Where clients read the pushed prefix, e.g. https://tuf.example.org/ (required for s3://, az://, gs://): every uploaded object is read back from here and checked, and the repository loaded by trustroot's client and tough, before timestamp.json goes up.";
    pub const DRY_RUN: &str = "Print the push's plan and upload nothing: per phase the objects and bytes to upload, what would be deleted, the requests it would make. The sync or import itself still runs; the plan is for the tree DIR then serves.";
    pub const MANIFEST: &str = "Where the push manifest is kept (default: beside the prefix, s3://BUCKET/PREFIX.trustroot-push.json): an object ending in .trustroot-push.json in the same kind of store, never under the served prefix nor inside DIR. A bucket's root as --to needs it.";
    pub const CACHE_CONTROL: &str = "Cache-Control for one kind of name, KIND=VALUE, repeatable; KIND is timestamp, unversioned, versioned or targets (default: timestamp and unversioned \"no-cache\", versioned and targets \"public, max-age=31536000, immutable\").";
}

#[derive(Debug, Args)]
#[command(
    mut_arg("to", |a| a.help(push_help::TO)),
    mut_arg("endpoint", |a| a.help(push_help::ENDPOINT)),
    mut_arg("public_url", |a| a.help(push_help::PUBLIC_URL)),
    mut_arg("dry_run", |a| a.help(push_help::DRY_RUN)),
    mut_arg("jobs", |a| a.help("Concurrent downloads, and with --to uploads in flight at once, 1 to 256 (default 8); the push's phases still go up one after another.")),
    mut_arg("manifest", |a| a.help(push_help::MANIFEST)),
    mut_arg("cache_control", |a| a.help(push_help::CACHE_CONTROL)),
    // Listed after the flags it goes with.
    mut_arg("audit", |a| a)
)]
pub struct SyncArgs {
    /// The mirror directory (created if missing).
    dir: PathBuf,
    /// Add, or sync, the repository NAME in DIR (DIR/NAME, served at /NAME/): letters,
    /// digits, '-', '_' and '.', not starting with '.'. --from, --targets-from and --root
    /// go with it when it is added. Refused on a DIR that holds one unnamed repository
    /// (name that one first: `trustroot mirror rename DIR --name NAME`).
    #[arg(long, value_name = "NAME", conflicts_with = "only")]
    name: Option<String>,
    /// Sync only the named repository NAME of DIR, from where it was first synced
    /// (default: every named repository, in name order).
    #[arg(long, value_name = "NAME")]
    only: Option<String>,
    /// Metadata base URL of the repository to mirror (default: the URL of the last sync,
    /// or Sigstore's https://tuf-repo-cdn.sigstore.dev/).
    #[arg(long, value_name = "URL")]
    from: Option<Url>,
    /// Targets base URL (default: <from>/targets/).
    #[arg(long, value_name = "URL")]
    targets_from: Option<Url>,
    /// The root to trust for the first sync (default: Sigstore's production root). Later
    /// syncs start from the mirror's own trusted root.
    #[arg(long, value_name = "FILE")]
    root: Option<PathBuf>,
    /// How long files that current metadata no longer references stay served, for
    /// clients in the middle of an update (e.g. 7d, 12h, 30m), in DIR and in the store
    /// --to pushes to.
    #[arg(long, default_value = "7d", value_name = "DURATION", value_parser = parse_duration)]
    keep: chrono::Duration,
    /// Re-hash every mirrored file instead of trusting unchanged size and modification time.
    #[arg(long)]
    verify_all: bool,
    /// Judge expiry at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sigstore: SigstoreTrustArgs,
    #[command(flatten)]
    push: PushArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The mirror directory (as given to `mirror sync`), or where a repository is served:
    /// a public http(s) address (read as clients read it), the store a `--to` pushed to
    /// (s3://BUCKET/PREFIX, az://, gs://; read through the store's API with the
    /// environment's credentials) or a directory it pushed to (file:///DIR). Every
    /// metadata file is verified from --root and every target downloaded and hashed.
    #[arg(value_name = "DIR|URL")]
    dir: PathBuf,
    /// With a DIR of named repositories: verify only the repository NAME (default: each
    /// one, labelled by its name).
    #[arg(long, value_name = "NAME")]
    only: Option<String>,
    /// Start from this root instead of the first root the mirror trusted (required for a
    /// URL: the root this site pins; with a DIR of several named repositories, give
    /// --only NAME too).
    #[arg(long, value_name = "FILE")]
    root: Option<PathBuf>,
    /// With an s3:// URL: the S3-compatible store's endpoint, e.g. http://127.0.0.1:9000.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// Judge expiry at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
    /// Print the report as JSON (exit 1 still means problems were found, 2 that the check
    /// could not run: then the error object is printed).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sigstore: SigstoreTrustArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The mirror directory to export.
    dir: PathBuf,
    /// The bundle file to write (replaced atomically if it exists).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Compress the bundle with zstd (default when FILE ends in .zst).
    #[arg(long)]
    zstd: bool,
    /// Of a directory of named repositories, export this one only (default: all).
    #[arg(long, value_name = "NAME")]
    only: Option<String>,
    /// Verify as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
#[command(
    mut_arg("to", |a| a.help(push_help::TO)),
    mut_arg("endpoint", |a| a.help(push_help::ENDPOINT)),
    mut_arg("public_url", |a| a.help(push_help::PUBLIC_URL)),
    mut_arg("dry_run", |a| a.help(push_help::DRY_RUN)),
    mut_arg("jobs", |a| a.help("Uploads in flight at once, 1 to 256 (default 8); the phases still go up one after another.")),
    mut_arg("manifest", |a| a.help(push_help::MANIFEST)),
    mut_arg("cache_control", |a| a.help(push_help::CACHE_CONTROL)),
    // Listed after the flags it goes with.
    mut_arg("audit", |a| a)
)]
pub struct ImportArgs {
    /// The mirror directory to import into (created if missing; --root is then required).
    dir: PathBuf,
    /// The bundle to import (tar, or tar.zst).
    #[arg(long, value_name = "FILE")]
    bundle: PathBuf,
    /// The root this site pins: the bundle must verify from it. Required for a new mirror.
    /// For a bundle of named repositories, NAME=FILE, once per repository (required for
    /// each one DIR does not hold yet; the others verify from the root they trust).
    #[arg(long, value_name = "FILE|NAME=FILE")]
    root: Vec<String>,
    /// Of a bundle of named repositories, import this one only.
    #[arg(long, value_name = "NAME")]
    only: Option<String>,
    /// The most the bundle's members may hold in all (e.g. 500M, 16G, 1T; plain bytes
    /// too). Each target is also held to its verified length, and all of them to the free
    /// space where they are unpacked.
    #[arg(long, default_value = "16G", value_name = "SIZE", value_parser = parse_size)]
    max_size: u64,
    /// Judge expiry at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
    /// With --to: how long objects the imported state no longer references stay in the
    /// store, for clients in the middle of an update (e.g. 7d, 12h, 30m).
    #[arg(long, default_value = "7d", value_name = "DURATION", value_parser = parse_duration)]
    keep: chrono::Duration,
    #[command(flatten)]
    sigstore: SigstoreTrustArgs,
    #[command(flatten)]
    push: PushArgs,
}

/// A size in bytes, with an optional K, M, G or T suffix (powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, shift) = match text.char_indices().last() {
        Some((i, 'K' | 'k')) => (&text[..i], 10),
        Some((i, 'M' | 'm')) => (&text[..i], 20),
        Some((i, 'G' | 'g')) => (&text[..i], 30),
        Some((i, 'T' | 't')) => (&text[..i], 40),
        _ => (text, 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1u64 << shift))
        .ok_or_else(|| format!("'{text}' is not a size: write bytes, or a number with K, M, G or T (e.g. 16G)"))
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The mirror directory (as given to `mirror sync`), or where a repository is served
    /// (an http(s) address, s3://BUCKET/PREFIX, az://, gs:// or file:///DIR): its
    /// metadata is then verified from --root and each role's expiry shown.
    #[arg(value_name = "DIR|URL")]
    dir: PathBuf,
    /// With a DIR of named repositories: show only the repository NAME (default: each
    /// one, labelled by its name).
    #[arg(long, value_name = "NAME")]
    only: Option<String>,
    /// With a URL: the root this site pins, to verify the metadata from.
    #[arg(long, value_name = "FILE")]
    root: Option<PathBuf>,
    /// With an s3:// URL: the S3-compatible store's endpoint, e.g. http://127.0.0.1:9000.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// As of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Write the status as one self-contained HTML page to FILE (nothing fetched, no
    /// scripts: it opens offline and from file://), the page `mirror serve --status-page`
    /// serves at /_status. With --json, the JSON is printed too. For a DIR of named
    /// repositories, a section each (--only NAME: that one's page).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    /// The mirror directory holding one unnamed repository (as `mirror sync DIR` made it).
    dir: PathBuf,
    /// The repository's name: letters, digits, '-', '_' and '.', not starting with '.'.
    #[arg(long, value_name = "NAME")]
    name: String,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

/// A root file named on the command line (`--root`), read whole with the input cap.
fn read(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    crate::input::read_bounded(path)
}

/// The async runtime a sync, a verify or an import runs on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::io(format!("cannot start the async runtime: {e}")))
}

pub fn run(command: MirrorCommand) -> ExitCode {
    let (json, outcome) = match command {
        MirrorCommand::Sync(args) => (args.json, run_sync(args)),
        // A check: 1 is kept for problems found, so it could not run is 2.
        MirrorCommand::Verify(args) => {
            let json = args.json;
            let outcome = named::verify(&args).transpose().unwrap_or_else(|| run_verify(args));
            return output::finish(Format::json_if(json), outcome, 2);
        }
        MirrorCommand::Status(args) => (args.json, run_status(args)),
        MirrorCommand::Rename(args) => (args.json, named::rename(&args)),
        MirrorCommand::Export(args) => (args.json, run_export(args)),
        MirrorCommand::Import(args) => (args.json, run_import(args)),
        MirrorCommand::Serve(args) => return serve::run(args),
    };
    output::finish(Format::json_if(json), outcome, 1)
}

/// A sync's or an import's JSON summary, with its push when `--to` was given.
#[derive(serde::Serialize)]
struct WithPush<'a, T: serde::Serialize> {
    #[serde(flatten)]
    summary: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    push: Option<&'a trustroot_ceremony::push::PushReport>,
}

/// After a sync or an import committed: the push `--to` asked for, if any, and its
/// output. Under --json the summary is printed here, with the push, or with the error
/// of a push that failed.
fn push_after<T: serde::Serialize>(
    dir: &std::path::Path,
    to: Option<&push::MirrorPush>,
    keep: chrono::Duration,
    now: DateTime<Utc>,
    json: bool,
    summary: &T,
) -> Result<(), Failure> {
    let pushed = match to.map(|to| push::push(dir, to, keep, now)).transpose() {
        Ok(pushed) => pushed,
        Err(failure) if json => return Err(output::json_failed(summary, failure)),
        Err(failure) => return Err(failure),
    };
    if json {
        return output::json(&WithPush {
            summary,
            push: pushed.as_ref(),
        });
    }
    pushed.as_ref().map_or(Ok(()), super::shared::show_push)
}

fn run_sync(args: SyncArgs) -> Outcome {
    // A directory of named repositories (or one about to become one) is synced there.
    if let Some(code) = named::sync(&args)? {
        return Ok(code);
    }
    // Before anything happens: a mistyped --to never leaves a sync without its push.
    let to = push::check(
        &args.push,
        &args.dir,
        &format!("trustroot mirror sync {}", args.dir.display()),
        true,
    )?;
    let now = now(args.at);
    let sigstore = args.sigstore.trust()?;
    let options = SyncOptions {
        from: args.from.clone(),
        targets_from: args.targets_from.clone(),
        root: args.root.as_deref().map(read).transpose()?,
        ..sync_options(&args, &args.dir, now, &sigstore)
    };
    let summary = runtime()?.block_on(sync(options))?;
    if !args.json {
        print_sync(&summary, None)?;
    }
    push_after(&args.dir, to.as_ref(), args.keep, now, args.json, &summary)?;
    Ok(skipped_status(&summary.skipped))
}

/// The options of a sync into `dir` from the flags every sync shares (not the origin:
/// --from, --targets-from and --root go with the repository they add).
fn sync_options(
    args: &SyncArgs,
    dir: &std::path::Path,
    now: DateTime<Utc>,
    sigstore: &std::sync::Arc<trustroot_core::keyless::SigstoreTrust>,
) -> SyncOptions {
    SyncOptions {
        sigstore: Some(sigstore.clone()),
        // --jobs (from the push flags) sets the downloads' concurrency too.
        jobs: args.push.jobs.unwrap_or(trustroot_store::object::DEFAULT_JOBS),
        keep: args.keep,
        verify_all: args.verify_all,
        limits: trustroot_mirror::mirror_limits(),
        fetch: FetchConfig::default(),
        progress: !args.json && std::io::stderr().is_terminal(),
        ..SyncOptions::new(dir, now)
    }
}

/// A sync's summary for people; `label` names the repository in a directory of several.
fn print_sync(summary: &trustroot_mirror::sync::SyncSummary, label: Option<&str>) -> Result<(), Failure> {
    let v = &summary.after;
    let what = summary.outcome();
    let label = label.map_or(String::new(), |name| format!("{name}: "));
    outln!("{label}{}: {what}", summary.served)?;
    outln!(
        "  from {}: root v{}, timestamp v{}, snapshot v{}, targets v{}",
        summary.origin.metadata_url,
        v.root,
        v.timestamp,
        v.snapshot,
        v.targets
    )?;
    outln!(
        "  {} files fetched and checked ({} metadata, {} bytes), {} reused, {} resumed, {} kept for clients mid-update, {} pruned, in {:.2}s",
        summary.files_fetched,
        summary.metadata_fetched,
        summary.bytes_fetched,
        summary.files_reused,
        summary.files_resumed,
        summary.files_in_grace,
        summary.files_pruned,
        summary.seconds
    )?;
    for note in &summary.notes {
        outln!("  note: {note}")?;
    }
    print_skipped(&summary.skipped)?;
    Ok(())
}

/// Lists the targets a mirror could not store, each with the role that lists it and why.
fn print_skipped(skipped: &[Skipped]) -> Result<(), Failure> {
    for s in skipped {
        outln!(
            "  skipped: target '{}' (listed by role '{}'): {}",
            escape(&s.target),
            escape(&s.role),
            s.reason
        )?;
    }
    if !skipped.is_empty() {
        outln!(
            "  {} target(s) skipped; everything else is served (see docs/air-gapped-site.md, \"Targets a mirror cannot store\")",
            skipped.len()
        )?;
    }
    Ok(())
}

/// Exit 1 when a target was skipped: the mirror is served, but not all of it.
fn skipped_status(skipped: &[Skipped]) -> ExitCode {
    if skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `DIR|URL` as a served repository to read remotely, if it names one: opened with the
/// pinned `--root` (required: a store holds no trust of its own).
fn remote(
    dir: &std::path::Path,
    root: Option<&std::path::Path>,
    endpoint: Option<&str>,
) -> Result<Option<(trustroot_mirror::remote::Remote, Vec<u8>)>, Failure> {
    let Some(text) = dir.to_str().filter(|t| trustroot_mirror::remote::is_remote(t)) else {
        if endpoint.is_some() {
            return Err(Failure::usage(
                "--endpoint goes with a store URL (s3://BUCKET/PREFIX), not a mirror directory",
            ));
        }
        return Ok(None);
    };
    let Some(root) = root else {
        return Err(Failure::usage(format!(
            "{text}: give --root FILE, the root this site pins: a repository read from where it is served is verified from it"
        )));
    };
    let root = read(root)?;
    let remote = trustroot_mirror::remote::Remote::open(text, endpoint).map_err(|e| match e {
        // Said about the argument as given: these commands have no --to or --public-url.
        trustroot_store::object::ObjectError::BadUrl { url, reason }
        | trustroot_store::object::ObjectError::BadPublicUrl { url, reason } => {
            Failure::usage(format!("{url}: {reason}"))
        }
        trustroot_store::object::ObjectError::Unsupported { url, what } => Failure::usage(format!("{url}: {what}")),
        other => push::failure(other),
    })?;
    for warning in &remote.warnings {
        crate::note!("warning: {warning}");
    }
    Ok(Some((remote, root)))
}

fn run_verify(args: VerifyArgs) -> Outcome {
    let now = now(args.at);
    let sigstore = Some(args.sigstore.trust()?);
    let report = match remote(&args.dir, args.root.as_deref(), args.endpoint.as_deref())? {
        Some((remote, root)) => runtime()?.block_on(trustroot_mirror::verify::verify_remote(
            &remote,
            root,
            now,
            trustroot_mirror::mirror_limits(),
            sigstore,
        ))?,
        None => {
            let root = args.root.as_deref().map(read).transpose()?;
            runtime()?.block_on(trustroot_mirror::verify::verify(
                &args.dir,
                root,
                now,
                trustroot_mirror::mirror_limits(),
                sigstore,
            ))?
        }
    };
    if args.json {
        output::json(&report)?;
    } else {
        show_verify(&report, None)?;
        if report.ok() {
            outln!("verified: no problems")?;
        }
    }
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A verify report for people; `label` names the repository in a directory of several.
fn show_verify(report: &trustroot_mirror::verify::VerifyReport, label: Option<&str>) -> Result<(), Failure> {
    let label = label.map_or(String::new(), |name| format!("{name}: "));
    if let Some(v) = &report.versions {
        outln!(
            "{label}{}: root v{}, timestamp v{}, snapshot v{}, targets v{}; {} files checked",
            report.served,
            v.root,
            v.timestamp,
            v.snapshot,
            v.targets,
            report.files_checked
        )?;
    }
    for problem in &report.problems {
        outln!("problem: {label}{problem}")?;
    }
    print_skipped(&report.skipped)
}

fn run_status(args: StatusArgs) -> Outcome {
    let at = now(args.at);
    if let Some((remote, root)) = remote(&args.dir, args.root.as_deref(), args.endpoint.as_deref())? {
        if args.html.is_some() {
            return Err(Failure::usage(
                "--html shows a mirror directory's status; give the mirror's DIR, not a URL",
            ));
        }
        if args.only.is_some() {
            return Err(Failure::usage(
                "--only picks a repository of a mirror directory; a URL names one already",
            ));
        }
        let status = runtime()?.block_on(trustroot_mirror::status::status_remote(
            &remote,
            root,
            at,
            trustroot_mirror::mirror_limits(),
            Some(trustroot_mirror::sync::embedded_sigstore_trust()),
        ))?;
        return show_remote_status(&status, args.json);
    }
    if args.root.is_some() {
        return Err(Failure::usage(
            "--root goes with a URL; a mirror directory's status is read from the trust it holds",
        ));
    }
    if let Some(code) = named::status(&args, at)? {
        return Ok(code);
    }
    let status = trustroot_mirror::status::status(&args.dir, at)?;
    if let Some(out) = &args.html {
        // Replaced whole: a browser or a web server reading it never sees half a page.
        trustroot_store::write_atomic(out, page::render(&status, at).as_bytes())
            .map_err(|e| Failure::io(format!("cannot write {}: {e}", out.display())))?;
        if !args.json {
            outln!("Wrote the status page {}", out.display())?;
            return Ok(ExitCode::SUCCESS);
        }
    }
    if args.json {
        output::json(&status)?;
        return Ok(ExitCode::SUCCESS);
    }
    show_status(&status, None)?;
    Ok(ExitCode::SUCCESS)
}

/// A mirror's status for people; `label` names the repository in a directory of several.
fn show_status(status: &trustroot_mirror::status::MirrorStatus, label: Option<&str>) -> Result<(), Failure> {
    let label = label.map_or(String::new(), |name| format!("{name}: "));
    outln!("{label}{} (state {})", status.served, status.state)?;
    // The origin and role names come from the command line and the repository: escaped,
    // so a delegated role named with a newline or a terminal escape cannot forge lines.
    outln!("  from:    {}", escape(&status.origin.metadata_url))?;
    outln!("  synced:  {}", status.synced_at)?;
    outln!("  files:   {} ({} bytes)", status.files, status.bytes)?;
    if let Some(syncs) = &status.syncs {
        // The record is a file in the mirror's directory: shown escaped, whatever it holds.
        let shown = |text: &Option<String>| text.as_deref().map_or("never".to_string(), |t| escape(t).into_owned());
        outln!("  last sync that succeeded: {}", shown(&syncs.last_success))?;
        if syncs.failures_total > 0 {
            outln!(
                "  failed syncs: {} (the last at {}: {})",
                syncs.failures_total,
                shown(&syncs.last_failure),
                shown(&syncs.last_error)
            )?;
        }
    }
    if let Some(problem) = &status.syncs_unreadable {
        outln!("  record of syncs: {problem} (the next sync replaces it)")?;
    }
    show_roles(&status.roles)?;
    if let Some(until) = &status.valid_until {
        outln!("  clients of this mirror fail after {until} unless it is synced again")?;
    }
    Ok(())
}

/// `mirror status URL`: the verified roles of a served repository.
fn show_remote_status(status: &trustroot_mirror::status::RemoteStatus, json: bool) -> Outcome {
    if json {
        output::json(status)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("{} (verified from the pinned root)", escape(&status.served))?;
    if let Some(push) = &status.push {
        let state = if push.complete {
            "complete"
        } else {
            "NOT complete: a push is under way or stopped before timestamp.json; run it again"
        };
        outln!(
            "  pushed:  {} (push {}, {state}; {} objects, {} kept for clients mid-update)",
            push.pushed_at,
            push.generation,
            push.objects,
            push.superseded
        )?;
    }
    if let Some(problem) = &status.push_unreadable {
        // Read from the bucket: shown escaped, whatever it holds.
        outln!("  push record: {}", escape(problem))?;
    }
    show_roles(&status.roles)?;
    if let Some(until) = &status.valid_until {
        outln!("  clients of this repository fail after {until} unless it is pushed again")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per role: its version and when it expires.
fn show_roles(roles: &[trustroot_mirror::status::RoleStatus]) -> Result<(), Failure> {
    for role in roles {
        let left = if role.expired {
            "EXPIRED".to_string()
        } else if role.hours_left < 48 {
            format!("{} hours left", role.hours_left)
        } else {
            format!("{} days left", role.hours_left / 24)
        };
        outln!(
            "  {:<24} v{:<6} expires {} ({left})",
            escape(&role.role),
            role.version,
            trustroot_core::time::format(&role.expires)
        )?;
    }
    Ok(())
}

fn run_export(args: ExportArgs) -> Outcome {
    // Named repositories (and --only) are picked as `mirror sync` picks them.
    if let Some(names) = named::picked(&args.dir, args.only.as_deref())? {
        return named_bundle::export(&args, names);
    }
    // Held until the bundle is written: a sync may update the served state in place, so
    // none runs between the check and the export.
    let _lock = trustroot_mirror::sync::lock_mirror(&args.dir)?;
    let trusted = verify_for_export(&args.dir, &args.dir.display().to_string(), now(args.at))?;
    let compress = args.zstd || args.out.extension().is_some_and(|e| e == "zst");
    let summary = trustroot_mirror::bundle::export(&args.dir, &args.out, compress, &trusted)?;
    if args.json {
        output::json(&summary)?;
    } else {
        outln!(
            "{}: {} files, {} bytes{}",
            summary.bundle,
            summary.files,
            summary.bytes,
            if summary.compressed { ", zstd-compressed" } else { "" }
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Verifies the mirror in `dir` (`what` names it) before it is exported: a bundle carries
/// only what verifies. The targets' hashes are checked by the export itself, as it reads
/// each target to write it (one read of each, not two): returned for it.
fn verify_for_export(
    dir: &std::path::Path,
    what: &str,
    now: DateTime<Utc>,
) -> Result<trustroot_mirror::verify::TrustedTargets, Failure> {
    let (report, trusted) = runtime()?.block_on(trustroot_mirror::verify::verify_leaving_targets(
        dir,
        now,
        trustroot_mirror::mirror_limits(),
        Some(trustroot_mirror::sync::embedded_sigstore_trust()),
    ))?;
    match report.problems.first() {
        None => Ok(trusted),
        Some(problem) => Err(
            Failure::repository(format!("{what} does not verify, so nothing is exported: {problem}"))
                .with_hint_text("run `trustroot mirror verify` for every problem"),
        ),
    }
}

fn run_import(args: ImportArgs) -> Outcome {
    // A bundle of named repositories goes to a directory of them, each from its own root.
    let root = match named_bundle::destination(&args.dir, &args.root, args.only.as_ref())? {
        named_bundle::Destination::Named(roots) => return named_bundle::import(&args, roots),
        named_bundle::Destination::One(root) => root,
    };
    let to = push::check(
        &args.push,
        &args.dir,
        &format!(
            "trustroot mirror import {} --bundle {}",
            args.dir.display(),
            args.bundle.display()
        ),
        false,
    )?;
    let now = now(args.at);
    let options = trustroot_mirror::bundle::ImportOptions {
        dir: args.dir.clone(),
        bundle: args.bundle.clone(),
        root: root.as_deref().map(read).transpose()?,
        now,
        limits: trustroot_mirror::mirror_limits(),
        bundle_limits: trustroot_mirror::bundle::BundleLimits {
            max_total_size: args.max_size,
            ..Default::default()
        },
        scratch: None,
        sigstore: Some(args.sigstore.trust()?),
    };
    let summary = runtime()?.block_on(trustroot_mirror::bundle::import(options))?;
    if !args.json {
        let v = &summary.after;
        let what = summary.outcome();
        outln!("{}: {what}", summary.served)?;
        outln!(
            "  from bundle {}: root v{}, timestamp v{}, snapshot v{}, targets v{}",
            args.bundle.display(),
            v.root,
            v.timestamp,
            v.snapshot,
            v.targets
        )?;
        print_skipped(&summary.skipped)?;
    }
    push_after(&args.dir, to.as_ref(), args.keep, now, args.json, &summary)?;
    Ok(skipped_status(&summary.skipped))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sizes_take_a_binary_suffix_and_refuse_what_overflows() {
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert_eq!(parse_size("500M").unwrap(), 500 << 20);
        assert_eq!(parse_size("16G").unwrap(), 16 << 30);
        assert_eq!(parse_size("2t").unwrap(), 2 << 40);
        for bad in ["", "G", "-1G", "1.5G", "16GB", "99999999999T"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
