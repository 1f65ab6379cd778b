//! `trustroot client`: a verifying TUF client, speaking the client protocol of the public
//! TUF conformance suite (exit 0 on success, 1 on any failure).

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use trustroot_core::Limits;
use trustroot_mirror::{Fetcher, Updater, UpdaterConfig};
use url::Url;

use super::shared::{now, parse_time};
use crate::outln;
use crate::output::{self, Failure, Format};

/// Options of `trustroot client`; they may come before or after the action.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Directory of trusted metadata (root.json, timestamp.json, ...), kept between runs.
    #[arg(long, global = true, value_name = "DIR")]
    metadata_dir: Option<PathBuf>,
    /// Base URL of the repository's metadata, e.g. https://tuf-repo-cdn.sigstore.dev/
    /// (http, https or file).
    #[arg(long, global = true, value_name = "URL")]
    metadata_url: Option<Url>,
    /// A target path to download; repeat for several (downloaded in order).
    #[arg(long = "target-name", global = true, value_name = "PATH")]
    target_names: Vec<String>,
    /// Directory to store verified targets in (one file per target path).
    #[arg(long, global = true, value_name = "DIR")]
    target_dir: Option<PathBuf>,
    /// Base URL of the repository's targets, e.g. https://tuf-repo-cdn.sigstore.dev/targets/
    #[arg(long, global = true, value_name = "URL")]
    target_base_url: Option<Url>,
    /// Judge expiry at this time (RFC 3339, e.g. 2026-08-22T00:00:00Z) instead of now: for
    /// audits, and for checking an old copy of a repository. Never use it to accept a
    /// repository that has expired.
    #[arg(long, global = true, value_name = "TIME", value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
    /// Sigstore trusted_root.json that keyless keys (tuf-on-ci's sigstore-oidc keyholders)
    /// are checked against: certificate authorities, transparency logs, CT logs and
    /// timestamp authorities. Default: Sigstore production's, embedded in trustroot. Take
    /// another from the Sigstore instance's own TUF repository (its trusted_root.json
    /// target), never from the repository being verified.
    #[arg(long, global = true, value_name = "FILE")]
    sigstore_trusted_root: Option<PathBuf>,
    #[command(subcommand)]
    action: ClientAction,
}

#[derive(Debug, Subcommand)]
enum ClientAction {
    /// Trust ROOT as the starting point: checks it is signed by its own keys and stores it
    /// in the metadata directory. Makes no network request.
    Init {
        /// A root.json file you obtained out of band (for Sigstore, the root shipped with
        /// your client, or 1.root.json checked against a published checksum).
        root: PathBuf,
    },
    /// Update the trusted metadata from the repository: root, timestamp, snapshot, targets.
    Refresh,
    /// Refresh, then download and verify every --target-name into --target-dir.
    Download,
}

fn required<'a, T>(value: &'a Option<T>, flag: &str) -> Result<&'a T, Failure> {
    value.as_ref().ok_or_else(|| {
        Failure::usage(format!("{flag} is required for this action")).with_hint_text("see `trustroot client --help`")
    })
}

/// Exit 0 on success and 1 on any failure, as the conformance suite's protocol asks.
pub fn run(args: ClientArgs) -> ExitCode {
    output::finish(Format::Text, run_inner(args).map(|()| ExitCode::SUCCESS), 1)
}

fn run_inner(args: ClientArgs) -> Result<(), Failure> {
    // The clock is read once: every expiry in this run is judged at the same instant.
    let now = now(args.at);
    let limits = Limits::default();
    let metadata_dir = required(&args.metadata_dir, "--metadata-dir")?.clone();
    let sigstore = Some(super::shared::sigstore_trust(args.sigstore_trusted_root.as_ref())?);
    if let ClientAction::Init { root } = &args.action {
        let bytes = crate::input::read_bounded(root)?;
        Updater::init(&metadata_dir, &bytes, now, &limits, sigstore)?;
        return outln!("trusted root stored in {}", metadata_dir.display());
    }
    let config = UpdaterConfig {
        metadata_dir,
        metadata_url: required(&args.metadata_url, "--metadata-url")?.clone(),
        target_dir: args.target_dir.clone(),
        target_url: args.target_base_url.clone(),
        now,
        limits,
        root_history_dir: None,
        sigstore,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::io(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let mut updater = Updater::new(config, Fetcher::default())?;
        updater.refresh().await?;
        let trusted = updater.trusted();
        outln!(
            "refreshed: root v{}, timestamp v{}, snapshot v{}, targets v{}",
            trusted.root().signed().common.version,
            trusted.timestamp().map_or(0, |t| t.signed().common.version),
            trusted.snapshot().map_or(0, |t| t.signed().common.version),
            trusted.targets("targets").map_or(0, |t| t.signed().common.version),
        )?;
        if let ClientAction::Download = args.action {
            if args.target_names.is_empty() {
                return Err(Failure::usage("download needs at least one --target-name PATH")
                    .with_hint_text("repeat --target-name for several targets"));
            }
            required(&args.target_dir, "--target-dir")?;
            required(&args.target_base_url, "--target-base-url")?;
            for name in &args.target_names {
                let info = updater.target_info(name).await?;
                if updater.is_cached(name, &info)? {
                    outln!("{name}: already downloaded and verified")?;
                    continue;
                }
                let path = updater.download_target(name, &info).await?;
                outln!("{name}: verified, stored at {}", path.display())?;
            }
        }
        Ok(())
    })
}
