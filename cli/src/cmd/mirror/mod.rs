//! `trustroot mirror ...`: verified mirrors of TUF repositories for air-gapped sites.

mod page;
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

use super::shared::{now, parse_duration, parse_time};
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
    /// atomic step, so readers never see a mix. With no --from and no --root, mirrors
    /// Sigstore's public-good repository from the production root built into trustroot.
    Sync(SyncArgs),
    /// Re-verify the mirror in DIR offline: every metadata file and every target.
    #[command(
        after_help = "Exit status: 0 no problems; 1 problems found (each listed; under --json, the report); 2 could not run: DIR is not a mirror or cannot be read, a usage error (under --json, the error object). See docs/exit-codes.md."
    )]
    Verify(VerifyArgs),
    /// Show what DIR mirrors, from where, since when, and when each role expires.
    Status(StatusArgs),
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
    Import(ImportArgs),
    /// Serve the mirror in DIR over HTTP (the same view a static web server would).
    Serve(serve::ServeArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The mirror directory (created if missing).
    dir: PathBuf,
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
    /// Concurrent downloads.
    #[arg(long, default_value_t = 8, value_name = "N")]
    jobs: usize,
    /// How long files that current metadata no longer references stay served, for
    /// clients in the middle of an update (e.g. 7d, 12h, 30m).
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
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The mirror directory (as given to `mirror sync`).
    dir: PathBuf,
    /// Start from this root instead of the first root the mirror trusted.
    #[arg(long, value_name = "FILE")]
    root: Option<PathBuf>,
    /// Judge expiry at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
    /// Print the report as JSON (exit 1 still means problems were found, 2 that the check
    /// could not run: then the error object is printed).
    #[arg(long)]
    json: bool,
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
    /// Verify as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
    /// Print a JSON summary.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The mirror directory to import into (created if missing; --root is then required).
    dir: PathBuf,
    /// The bundle to import (tar, or tar.zst).
    #[arg(long, value_name = "FILE")]
    bundle: PathBuf,
    /// The root this site pins: the bundle must verify from it. Required for a new mirror.
    #[arg(long, value_name = "FILE")]
    root: Option<PathBuf>,
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
    /// The mirror directory (as given to `mirror sync`).
    dir: PathBuf,
    /// As of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Write the status as one self-contained HTML page to FILE (nothing fetched, no
    /// scripts: it opens offline and from file://), the page `mirror serve --status-page`
    /// serves at /_status. With --json, the JSON is printed too.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// A root file named on the command line (`--root`), read whole with the input cap.
fn read(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    crate::input::read_bounded(path)
}

/// The async runtime a sync, a verify or an import runs on.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
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
            return output::finish(Format::json_if(args.json), run_verify(args), 2);
        }
        MirrorCommand::Status(args) => (args.json, run_status(args)),
        MirrorCommand::Export(args) => (args.json, run_export(args)),
        MirrorCommand::Import(args) => (args.json, run_import(args)),
        MirrorCommand::Serve(args) => return serve::run(args),
    };
    output::finish(Format::json_if(json), outcome, 1)
}

fn run_sync(args: SyncArgs) -> Outcome {
    let options = SyncOptions {
        dir: args.dir.clone(),
        from: args.from.clone(),
        targets_from: args.targets_from.clone(),
        root: args.root.as_deref().map(read).transpose()?,
        jobs: args.jobs,
        keep: args.keep,
        verify_all: args.verify_all,
        now: now(args.at),
        limits: trustroot_mirror::mirror_limits(),
        fetch: FetchConfig::default(),
        progress: !args.json && std::io::stderr().is_terminal(),
        record_origin: None,
        record_failure: true,
    };
    let summary = runtime()?.block_on(sync(options))?;
    if args.json {
        output::json(&summary)?;
    } else {
        let v = &summary.after;
        let what = if summary.changed {
            format!("now serving state {}", summary.state)
        } else {
            "already current".into()
        };
        outln!("{}: {what}", summary.served)?;
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
    }
    Ok(skipped_status(&summary.skipped))
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

fn run_verify(args: VerifyArgs) -> Outcome {
    let root = args.root.as_deref().map(read).transpose()?;
    let now = now(args.at);
    let report = runtime()?.block_on(trustroot_mirror::verify::verify(
        &args.dir,
        root,
        now,
        trustroot_mirror::mirror_limits(),
    ))?;
    if args.json {
        output::json(&report)?;
    } else {
        if let Some(v) = &report.versions {
            outln!(
                "{}: root v{}, timestamp v{}, snapshot v{}, targets v{}; {} files checked",
                report.served,
                v.root,
                v.timestamp,
                v.snapshot,
                v.targets,
                report.files_checked
            )?;
        }
        for problem in &report.problems {
            outln!("problem: {problem}")?;
        }
        print_skipped(&report.skipped)?;
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

fn run_status(args: StatusArgs) -> Outcome {
    let at = now(args.at);
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
    outln!("{} (state {})", status.served, status.state)?;
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
    for role in &status.roles {
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
    if let Some(until) = &status.valid_until {
        outln!("  clients of this mirror fail after {until} unless it is synced again")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn run_export(args: ExportArgs) -> Outcome {
    let now = now(args.at);
    let report = runtime()?.block_on(trustroot_mirror::verify::verify(
        &args.dir,
        None,
        now,
        trustroot_mirror::mirror_limits(),
    ))?;
    if let Some(problem) = report.problems.first() {
        return Err(Failure::repository(format!(
            "{} does not verify, so it is not exported: {problem}",
            args.dir.display()
        ))
        .with_hint_text("run `trustroot mirror verify` for every problem"));
    }
    let compress = args.zstd || args.out.extension().is_some_and(|e| e == "zst");
    let summary = trustroot_mirror::bundle::export(&args.dir, &args.out, compress)?;
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

fn run_import(args: ImportArgs) -> Outcome {
    let options = trustroot_mirror::bundle::ImportOptions {
        dir: args.dir.clone(),
        bundle: args.bundle.clone(),
        root: args.root.as_deref().map(read).transpose()?,
        now: now(args.at),
        limits: trustroot_mirror::mirror_limits(),
        bundle_limits: trustroot_mirror::bundle::BundleLimits {
            max_total_size: args.max_size,
            ..Default::default()
        },
        scratch: None,
    };
    let summary = runtime()?.block_on(trustroot_mirror::bundle::import(options))?;
    if args.json {
        output::json(&summary)?;
    } else {
        let v = &summary.after;
        let what = if summary.changed {
            format!("now serving state {}", summary.state)
        } else {
            "already current".into()
        };
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
