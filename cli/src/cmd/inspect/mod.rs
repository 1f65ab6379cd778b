//! `trustroot inspect`: one metadata file shown to a person (or as JSON): role, version,
//! expiry, keys and their owners, thresholds, and which signatures verify.
//!
//! - `report`: what is reported, as types (the `--json` output);
//! - `render`: the text output, from those types.

mod render;
mod report;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Args;
use trustroot_core::display::escape;
use trustroot_core::keyless::KeylessContext;
use trustroot_core::metadata::Role;
use trustroot_core::verify::check_signatures;
use trustroot_core::{Envelope, Limits, Root, Snapshot, Targets, Timestamp};

use super::shared::{SigstoreTrustArgs, now, parse_time};
use crate::output::{self, Failure, Format};
use report::{DelegationsView, KeyView, MetaView, Report, RoleKeysView, SignatureCheck, TargetView};

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A TUF metadata file: root, timestamp, snapshot, targets or a delegated targets role.
    /// Files larger than 64 MiB (core's largest metadata limit) are refused, as are --root
    /// and --delegator files.
    file: PathBuf,
    /// The root that signs FILE: for timestamp, snapshot and targets, the root whose keys
    /// to check signatures with; for a root, the previous root version (to check the
    /// cross-signature a rotation needs). A root is always checked against itself too.
    #[arg(long, value_name = "ROOT")]
    root: Option<PathBuf>,
    /// For a delegated targets role: the targets metadata that delegates to it.
    #[arg(long, value_name = "FILE")]
    delegator: Option<PathBuf>,
    /// The role name of a delegated targets FILE (default: the file name, without a
    /// version prefix and `.json`).
    #[arg(long, value_name = "NAME")]
    role: Option<String>,
    /// Judge expiry at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<DateTime<Utc>>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sigstore: SigstoreTrustArgs,
}

fn read_envelope(path: &Path) -> Result<Envelope, Failure> {
    let bytes = crate::input::read_bounded(path)?;
    Ok(Envelope::parse(
        &path.display().to_string(),
        &bytes,
        &Limits::default(),
    )?)
}

fn parse_role<T: Role>(name: &str, envelope: &Envelope) -> Result<T, Failure> {
    Ok(T::from_envelope(name, envelope)?)
}

fn role_name_from_file(path: &Path) -> String {
    let stem = path.file_name().and_then(|n| n.to_str()).unwrap_or("targets");
    let stem = stem.strip_suffix(".json").unwrap_or(stem);
    let stem = match stem.split_once('.') {
        Some((version, rest)) if version.chars().all(|c| c.is_ascii_digit()) => rest,
        _ => stem,
    };
    percent_decode(stem)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn run(args: InspectArgs) -> ExitCode {
    let format = Format::json_if(args.json);
    let outcome = inspect(&args).and_then(|report| match format {
        Format::Json => output::json(&report),
        Format::Text => output::text(&render::render(&report)),
    });
    output::finish(format, outcome.map(|()| ExitCode::SUCCESS), 1)
}

fn check_with_root(
    name: &str,
    envelope: &Envelope,
    root: &Root,
    by: String,
    keyless: &KeylessContext<'_>,
) -> SignatureCheck {
    match root.roles.get(name) {
        Some(keys) => SignatureCheck::new(
            by,
            &check_signatures(envelope, &root.keys, &keys.keyids, keys.threshold, Some(keyless)),
        ),
        None => SignatureCheck::NotChecked {
            checked_against: by,
            error: format!("root lists no '{}' role", escape(name)),
        },
    }
}

fn inspect(args: &InspectArgs) -> Result<Report, Failure> {
    let now = now(args.at);
    let envelope = read_envelope(&args.file)?;
    let file = args.file.display().to_string();
    // Keyless keys are checked against the Sigstore trust given (or production's).
    let trust = args.sigstore.trust()?;
    let keyless = KeylessContext { trust: &trust, now };
    match envelope.role_type().unwrap_or("") {
        "root" => inspect_root(file, args, &envelope, &keyless),
        kind @ ("timestamp" | "snapshot") => inspect_timestamp_or_snapshot(file, kind, args, &envelope, &keyless),
        "targets" => inspect_targets(file, args, &envelope, &keyless),
        other => Err(Failure::repository(format!(
            "{}: unknown metadata type '{}' (inspect reads root, timestamp, snapshot and targets metadata)",
            escape(&file),
            escape(other)
        ))),
    }
}

fn load_root(path: &Path) -> Result<Root, Failure> {
    parse_role::<Root>("root", &read_envelope(path)?)
}

/// A root: its keys and roles, its signatures checked against itself and, with --root,
/// against the previous root.
fn inspect_root(
    file: String,
    args: &InspectArgs,
    envelope: &Envelope,
    keyless: &KeylessContext<'_>,
) -> Result<Report, Failure> {
    let root: Root = parse_role("root", envelope)?;
    let mut report = Report::new(file, "root", &root.common, keyless.now);
    report.consistent_snapshot = root.consistent_snapshot;
    report.keys = Some(KeyView::all(&root.keys));
    report.roles = Some(
        root.roles
            .iter()
            .map(|(n, k)| (n.clone(), RoleKeysView::from(k)))
            .collect(),
    );
    let mut checks = vec![check_with_root("root", envelope, &root, "itself".to_string(), keyless)];
    if let Some(path) = &args.root {
        let previous = load_root(path)?;
        let by = format!("root v{}", previous.common.version);
        checks.push(check_with_root("root", envelope, &previous, by, keyless));
    }
    report.signatures = Some(checks);
    Ok(report)
}

/// A timestamp or a snapshot: the metadata it lists, its signatures checked with --root.
fn inspect_timestamp_or_snapshot(
    file: String,
    kind: &str,
    args: &InspectArgs,
    envelope: &Envelope,
    keyless: &KeylessContext<'_>,
) -> Result<Report, Failure> {
    let (common, meta) = if kind == "timestamp" {
        let t: Timestamp = parse_role(kind, envelope)?;
        (t.common, t.meta)
    } else {
        let s: Snapshot = parse_role(kind, envelope)?;
        (s.common, s.meta)
    };
    let mut report = Report::new(file, kind, &common, keyless.now);
    report.meta = Some(meta.iter().map(|(f, m)| (f.clone(), MetaView::from(m))).collect());
    if let Some(path) = &args.root {
        let root = load_root(path)?;
        let by = format!("root v{}", root.common.version);
        report.signatures = Some(vec![check_with_root(kind, envelope, &root, by, keyless)]);
    }
    Ok(report)
}

/// Targets or a delegated targets role: its targets and delegations, its signatures
/// checked with --root (targets) or --delegator (a delegated role).
fn inspect_targets(
    file: String,
    args: &InspectArgs,
    envelope: &Envelope,
    keyless: &KeylessContext<'_>,
) -> Result<Report, Failure> {
    let name = args.role.clone().unwrap_or_else(|| role_name_from_file(&args.file));
    let targets: Targets = parse_role(&name, envelope)?;
    let mut report = Report::new(file, &name, &targets.common, keyless.now);
    report.targets = Some(
        targets
            .targets
            .iter()
            .map(|(path, t)| TargetView::new(path, t))
            .collect(),
    );
    report.delegations = targets.delegations.as_ref().map(DelegationsView::from);
    if name == "targets" {
        if let Some(path) = &args.root {
            let root = load_root(path)?;
            let by = format!("root v{}", root.common.version);
            report.signatures = Some(vec![check_with_root("targets", envelope, &root, by, keyless)]);
        }
    } else if let Some(path) = &args.delegator {
        report.signatures = Some(vec![check_with_delegator(&name, envelope, path, keyless)?]);
    }
    Ok(report)
}

/// The signatures of the delegated role `name`, checked against the keys its delegator
/// (the targets metadata at `path`) gives it.
fn check_with_delegator(
    name: &str,
    envelope: &Envelope,
    path: &Path,
    keyless: &KeylessContext<'_>,
) -> Result<SignatureCheck, Failure> {
    let parent_envelope = read_envelope(path)?;
    let parent: Targets = parse_role("delegator", &parent_envelope)?;
    let keys = parent
        .delegations
        .as_ref()
        .and_then(|d| d.role_keys(name).map(|(ids, t)| (d, ids, t)));
    let by = path.display().to_string();
    Ok(match keys {
        Some((d, ids, threshold)) => {
            SignatureCheck::new(by, &check_signatures(envelope, &d.keys, ids, threshold, Some(keyless)))
        }
        None => SignatureCheck::NotChecked {
            checked_against: by,
            error: format!("'{}' is not delegated there", escape(name)),
        },
    })
}
