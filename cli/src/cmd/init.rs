//! `trustroot init`: lay down a new signing repository, empty or taken over from a
//! repository another tool runs (`--import`). The import itself is
//! `trustroot_ceremony::import`; a URL is first mirrored, with full verification, by
//! `trustroot_mirror::sync` into a temporary directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Args;
use trustroot_ceremony::import::{self, Options, Report};
use trustroot_ceremony::repo;
use trustroot_core::display::escape;

use super::shared::{CmdResult, SigstoreTrustArgs, finish, now, parse_time};
use crate::outln;
use crate::output::{self, Failure, Format};

/// Arguments of `trustroot init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory of the new signing repository (created; must be empty if it exists).
    pub dir: PathBuf,
    /// Take over an existing repository instead of starting an empty one: a tuf-on-ci
    /// checkout (its metadata/ with root_history/, and targets/), a published repository
    /// (a directory with N.root.json and timestamp.json), or the URL of one (fetched and
    /// verified as `mirror sync` does; needs --root). Everything is verified from the pinned
    /// root before anything is written; nothing is re-signed.
    #[arg(long, value_name = "SOURCE")]
    pub import: Option<String>,
    /// The root to verify the import from (a file). Default for a directory: its own root
    /// v1 (root_history/1.root.json or 1.root.json); pin one you obtained another way
    /// when you can.
    #[arg(long, value_name = "FILE", requires = "import")]
    pub root: Option<PathBuf>,
    /// Verify the import as of this time instead of the clock (RFC 3339): an archived
    /// repository can be imported as of a moment it was valid.
    #[arg(long, value_name = "TIME", value_parser = parse_time, requires = "import")]
    pub at: Option<DateTime<Utc>>,
    /// Import the metadata only, for a source without its target files: targets are
    /// neither checked nor copied, and the published tree holds metadata only.
    #[arg(long, requires = "import")]
    pub metadata_only: bool,
    #[command(flatten)]
    pub sigstore: SigstoreTrustArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: InitArgs) -> ExitCode {
    let format = Format::json_if(args.json);
    finish(format, init(&args))
}

fn init(args: &InitArgs) -> CmdResult {
    let Some(source) = &args.import else {
        if args.sigstore.sigstore_trusted_root.is_some() {
            return Err(Failure::usage(
                "--sigstore-trusted-root is for --import: a new, empty repository verifies nothing",
            ));
        }
        repo::init(&args.dir)?;
        if args.json {
            return output::json(&serde_json::json!({ "dir": args.dir }));
        }
        outln!("Created a signing repository in {}", args.dir.display())?;
        return outln!(
            "Next: edit trustroot.toml, register keys with `trustroot key add`, then `trustroot ceremony start`."
        );
    };
    let root = match &args.root {
        Some(path) => Some((
            path.display().to_string(),
            trustroot_ceremony::keys::read_limited(path, repo::MAX_METADATA_SIZE)?,
        )),
        None => None,
    };
    let at = now(args.at);
    let sigstore = args.sigstore.trust()?;
    let report = if source.starts_with("http://") || source.starts_with("https://") || source.starts_with("file://") {
        import_url(args, source, root, at, sigstore)?
    } else {
        let options = Options {
            source: PathBuf::from(source),
            source_label: source.clone(),
            root,
            at,
            metadata_only: args.metadata_only,
            sigstore: Some(sigstore),
        };
        import::import(&args.dir, &options)?
    };
    if args.json {
        return output::json(&report);
    }
    show(&report)
}

/// A URL is mirrored into a temporary directory with the mirror's verified sync (from the
/// pinned root: a pin must never come from the bytes fetched), then imported as the
/// published repository the mirror serves.
fn import_url(
    args: &InitArgs,
    url: &str,
    root: Option<(String, Vec<u8>)>,
    at: DateTime<Utc>,
    sigstore: std::sync::Arc<trustroot_core::keyless::SigstoreTrust>,
) -> Result<Report, Failure> {
    let Some((root_name, root_bytes)) = root else {
        return Err(Failure::usage(format!(
            "--import {}: a URL needs --root FILE (the root to trust it from)",
            escape(url)
        )));
    };
    let from = url::Url::parse(&format!("{}/", url.trim_end_matches('/')))
        .map_err(|e| Failure::usage(format!("--import {}: not a URL: {e}", escape(url))))?;
    let temp = tempfile::tempdir().map_err(|e| Failure::io(format!("cannot make a temporary directory: {e}")))?;
    let options = trustroot_mirror::sync::SyncOptions {
        from: Some(from),
        root: Some(root_bytes.clone()),
        record_failure: false,
        sigstore: Some(sigstore.clone()),
        ..trustroot_mirror::sync::SyncOptions::new(temp.path(), at)
    };
    super::mirror::runtime()?.block_on(trustroot_mirror::sync::sync(options))?;
    let served = served_tree(temp.path())?;
    let options = Options {
        source: served,
        source_label: url.to_string(),
        root: Some((root_name, root_bytes)),
        at,
        metadata_only: args.metadata_only,
        sigstore: Some(sigstore),
    };
    Ok(import::import(&args.dir, &options)?)
}

/// The tree a mirror directory serves (its `repository` link, resolved).
fn served_tree(dir: &Path) -> Result<PathBuf, Failure> {
    let served = trustroot_mirror::layout::MirrorDir::new(dir).served();
    std::fs::canonicalize(&served).map_err(|e| Failure::io(format!("{}: {e}", served.display())))
}

fn show(report: &Report) -> CmdResult {
    outln!(
        "Imported the {} into {} (nothing re-signed).",
        report.layout,
        report.dir.display()
    )?;
    let pinned = if report.pinned_from_source {
        format!(
            "{} (the source's own; pin a root you obtained another way with --root)",
            escape(&report.pinned)
        )
    } else {
        escape(&report.pinned).into_owned()
    };
    outln!("  verified from {pinned}")?;
    let roots = match (report.roots.first(), report.roots.last()) {
        (Some(first), Some(last)) if first != last => format!("v{first}–v{last}"),
        (Some(only), _) => format!("v{only}"),
        _ => "none".to_string(),
    };
    outln!("  roots {roots}")?;
    if let (Some(first), Some(last)) = (report.older_roots.first(), report.older_roots.last()) {
        outln!("  not imported: roots v{first}–v{last}, older than the pinned root (nothing verifies them)")?;
    }
    for role in &report.roles {
        outln!(
            "  {} v{} (expires {})",
            escape(&role.role),
            role.version,
            escape(&role.expires)
        )?;
    }
    for key in &report.keys {
        let who = match (&key.holder, &key.online) {
            (Some(holder), _) => format!("held by {}", escape(holder)),
            (None, Some(uri)) => format!("online: {}", escape(uri)),
            (None, None) => "no keyowner or online reference".to_string(),
        };
        outln!(
            "  key {} ({}…) signs {}: {who}",
            key.name,
            &key.keyid[..key.keyid.len().min(16)],
            key.roles.join(", ")
        )?;
    }
    outln!("  {} target files", report.targets)?;
    for file in &report.unlisted {
        outln!("  not imported: targets/{} (no role lists it)", escape(file))?;
    }
    for file in &report.unreached {
        outln!("  not imported: {} (no verified role reaches it)", escape(file))?;
    }
    outln!(
        "  published tree laid out: {} (state {})",
        report.served.display(),
        report.state
    )?;
    outln!("Next: read trustroot.toml (configure [online] signer), `trustroot ceremony status`, `trustroot expiry`.")
}
