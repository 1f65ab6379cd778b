//! `trustroot inspect`: one metadata file shown to a person (or as JSON): role, version,
//! expiry, keys and their owners, thresholds, and which signatures verify.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Args;
use serde_json::{Value, json};
use trustroot_core::display::escape;
use trustroot_core::metadata::{Common, Role};
use trustroot_core::verify::{KeyStatus, ThresholdReport, check_signatures};
use trustroot_core::{Envelope, Key, Limits, RoleKeys, Root, Snapshot, Targets, Timestamp};

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
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

fn read_envelope(path: &Path) -> Result<Envelope, String> {
    let bytes = crate::input::read_bounded(path)?;
    Envelope::parse(&path.display().to_string(), &bytes, &Limits::default()).map_err(|e| e.to_string())
}

fn parse_role<T: Role>(name: &str, envelope: &Envelope) -> Result<T, String> {
    T::from_envelope(name, envelope).map_err(|e| e.to_string())
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
    match inspect(&args) {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            } else {
                print!("{}", render(&report));
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

fn key_json(id: &str, key: &Key) -> Value {
    let computed = key.computed_key_id();
    json!({
        "keyid": id,
        "keytype": key.keytype,
        "scheme": key.scheme,
        "owner": key.unknown.get("x-tuf-on-ci-keyowner"),
        "online_uri": key.unknown.get("x-tuf-on-ci-online-uri"),
        "usable": key.public_key().err().map_or(Value::Bool(true), Value::String),
        "keyid_matches_content": computed == id,
        "computed_keyid": computed,
    })
}

fn status_text(status: &KeyStatus) -> String {
    match status {
        KeyStatus::Valid => "valid".into(),
        KeyStatus::DuplicateKey => "valid, same key as another ID (counted once)".into(),
        KeyStatus::Invalid => "INVALID or empty signature".into(),
        KeyStatus::Missing => "not signed".into(),
        KeyStatus::Unusable(reason) => format!("unusable key: {reason}"),
    }
}

fn report_json(by: &str, report: &ThresholdReport) -> Value {
    json!({
        "checked_against": by,
        "threshold": report.threshold,
        "valid": report.valid,
        "met": report.is_met(),
        "keys": report.keys.iter().map(|(id, s)| json!({"keyid": id, "status": status_text(s)})).collect::<Vec<_>>(),
        "signatures_from_unlisted_keys": report.unlisted_signatures,
    })
}

fn role_keys_json(keys: &RoleKeys) -> Value {
    json!({"keyids": keys.keyids, "threshold": keys.threshold})
}

fn check_with_root(name: &str, envelope: &Envelope, root: &Root, by: &str) -> Value {
    match root.roles.get(name) {
        Some(keys) => report_json(
            by,
            &check_signatures(envelope, &root.keys, &keys.keyids, keys.threshold),
        ),
        None => json!({"checked_against": by, "error": format!("root lists no '{name}' role")}),
    }
}

fn common_json(name: &str, common: &Common, now: DateTime<Utc>) -> Value {
    let left = common.expires - now;
    json!({
        "role": name,
        "type": common.role_type,
        "version": common.version,
        "spec_version": common.spec_version,
        "expires": trustroot_core::time::format(&common.expires),
        "expired": common.is_expired(now),
        "days_left": left.num_days(),
    })
}

fn meta_json(meta: &BTreeMap<String, trustroot_core::MetaFile>) -> Value {
    meta.iter()
        .map(|(file, m)| {
            (
                file.clone(),
                json!({"version": m.version, "length": m.length, "hashes": m.hashes}),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn inspect(args: &InspectArgs) -> Result<Value, String> {
    let now = match &args.at {
        Some(text) => trustroot_core::time::parse(text)
            .ok_or_else(|| format!("--at '{text}' is not an RFC 3339 time (e.g. 2030-01-01T00:00:00Z)"))?,
        None => Utc::now(),
    };
    let envelope = read_envelope(&args.file)?;
    let file = args.file.display().to_string();
    let mut out = match envelope.role_type().unwrap_or("") {
        "root" => inspect_root(args, &envelope, now)?,
        kind @ ("timestamp" | "snapshot") => inspect_timestamp_or_snapshot(kind, args, &envelope, now)?,
        "targets" => inspect_targets(args, &envelope, now)?,
        other => {
            return Err(format!(
                "{file}: unknown metadata type '{other}' (inspect reads root, timestamp, snapshot and targets metadata)"
            ));
        }
    };
    out["file"] = json!(file);
    Ok(out)
}

fn load_root(path: &Path) -> Result<Root, String> {
    parse_role::<Root>("root", &read_envelope(path)?)
}

/// A root: its keys and roles, its signatures checked against itself and, with --root,
/// against the previous root.
fn inspect_root(args: &InspectArgs, envelope: &Envelope, now: DateTime<Utc>) -> Result<Value, String> {
    let root: Root = parse_role("root", envelope)?;
    let mut out = common_json("root", &root.common, now);
    out["consistent_snapshot"] = json!(root.consistent_snapshot);
    out["keys"] = root
        .keys
        .iter()
        .map(|(id, k)| key_json(id, k))
        .collect::<Vec<_>>()
        .into();
    out["roles"] = root
        .roles
        .iter()
        .map(|(n, k)| (n.clone(), role_keys_json(k)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let mut checks = vec![check_with_root("root", envelope, &root, "itself")];
    if let Some(path) = &args.root {
        let previous = load_root(path)?;
        checks.push(check_with_root(
            "root",
            envelope,
            &previous,
            &format!("root v{}", previous.common.version),
        ));
    }
    out["signatures"] = checks.into();
    Ok(out)
}

/// A timestamp or a snapshot: the metadata it lists, its signatures checked with --root.
fn inspect_timestamp_or_snapshot(
    kind: &str,
    args: &InspectArgs,
    envelope: &Envelope,
    now: DateTime<Utc>,
) -> Result<Value, String> {
    let (common, meta) = if kind == "timestamp" {
        let t: Timestamp = parse_role(kind, envelope)?;
        (t.common, t.meta)
    } else {
        let s: Snapshot = parse_role(kind, envelope)?;
        (s.common, s.meta)
    };
    let mut out = common_json(kind, &common, now);
    out["meta"] = meta_json(&meta);
    if let Some(path) = &args.root {
        let root = load_root(path)?;
        out["signatures"] = vec![check_with_root(
            kind,
            envelope,
            &root,
            &format!("root v{}", root.common.version),
        )]
        .into();
    }
    Ok(out)
}

/// Targets or a delegated targets role: its targets and delegations, its signatures
/// checked with --root (targets) or --delegator (a delegated role).
fn inspect_targets(args: &InspectArgs, envelope: &Envelope, now: DateTime<Utc>) -> Result<Value, String> {
    let name = args.role.clone().unwrap_or_else(|| role_name_from_file(&args.file));
    let targets: Targets = parse_role(&name, envelope)?;
    let mut out = common_json(&name, &targets.common, now);
    out["targets"] = targets
        .targets
        .iter()
        .map(|(path, t)| json!({"path": path, "length": t.length, "hashes": t.hashes, "custom": t.custom}))
        .collect::<Vec<_>>()
        .into();
    if let Some(d) = &targets.delegations {
        out["delegations"] = delegations_json(d);
    }
    if name == "targets" {
        if let Some(path) = &args.root {
            let root = load_root(path)?;
            out["signatures"] = vec![check_with_root(
                "targets",
                envelope,
                &root,
                &format!("root v{}", root.common.version),
            )]
            .into();
        }
    } else if let Some(path) = &args.delegator {
        out["signatures"] = check_with_delegator(&name, envelope, path)?;
    }
    Ok(out)
}

fn delegations_json(d: &trustroot_core::metadata::Delegations) -> Value {
    json!({
        "keys": d.keys.iter().map(|(id, k)| key_json(id, k)).collect::<Vec<_>>(),
        "roles": d.roles.as_ref().map(|roles| roles.iter().map(|r| json!({
            "name": r.name, "keyids": r.keyids, "threshold": r.threshold, "terminating": r.terminating,
            "paths": r.paths, "path_hash_prefixes": r.path_hash_prefixes,
        })).collect::<Vec<_>>()),
        "succinct_roles": d.succinct_roles.as_ref().map(|s| json!({
            "name_prefix": s.name_prefix, "bit_length": s.bit_length, "bins": s.bin_count(),
            "keyids": s.keyids, "threshold": s.threshold,
        })),
    })
}

/// The signatures of the delegated role `name`, checked against the keys its delegator
/// (the targets metadata at `path`) gives it.
fn check_with_delegator(name: &str, envelope: &Envelope, path: &Path) -> Result<Value, String> {
    let parent_envelope = read_envelope(path)?;
    let parent: Targets = parse_role("delegator", &parent_envelope)?;
    let keys = parent
        .delegations
        .as_ref()
        .and_then(|d| d.role_keys(name).map(|(ids, t)| (d, ids, t)));
    Ok(match keys {
        Some((d, ids, threshold)) => vec![report_json(
            &path.display().to_string(),
            &check_signatures(envelope, &d.keys, ids, threshold),
        )]
        .into(),
        None => {
            json!([{"checked_against": path.display().to_string(), "error": format!("'{name}' is not delegated there")}])
        }
    })
}

// Everything shown comes from the metadata (role names, key IDs, owners, target paths),
// so it is escaped; errors are escaped already where they are made.
fn text(v: &Value) -> String {
    let raw = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    escape(&raw).into_owned()
}

fn error_text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

fn render(report: &Value) -> String {
    let mut s = String::new();
    render_header(&mut s, report);
    if let Some(keys) = report.get("keys") {
        let _ = writeln!(s, "  keys:");
        render_keys(&mut s, keys);
    }
    render_lists(&mut s, report);
    if let Some(d) = report.get("delegations") {
        render_delegations(&mut s, d);
    }
    render_signatures(&mut s, report);
    s
}

/// The file, role, version, expiry and consistent_snapshot.
fn render_header(s: &mut String, report: &Value) {
    let _ = writeln!(s, "{}", text(&report["file"]));
    let _ = writeln!(
        s,
        "  role:     {} (type {}, spec {})",
        text(&report["role"]),
        text(&report["type"]),
        text(&report["spec_version"])
    );
    let _ = writeln!(s, "  version:  {}", report["version"]);
    let state = if report["expired"].as_bool() == Some(true) {
        "EXPIRED".to_string()
    } else {
        format!("{} days left", report["days_left"])
    };
    let _ = writeln!(s, "  expires:  {} ({state})", text(&report["expires"]));
    if let Some(cs) = report.get("consistent_snapshot").filter(|v| !v.is_null()) {
        let _ = writeln!(s, "  consistent snapshot: {cs}");
    }
}

fn render_keys(s: &mut String, keys: &Value) {
    for key in keys.as_array().into_iter().flatten() {
        let owner = key["owner"]
            .as_str()
            .map(|o| format!(" owner {}", escape(o)))
            .unwrap_or_default();
        let online = key["online_uri"]
            .as_str()
            .map(|o| format!(" online {}", escape(o)))
            .unwrap_or_default();
        let usable = if key["usable"] == Value::Bool(true) {
            String::new()
        } else {
            format!(" [{}]", text(&key["usable"]))
        };
        let mismatch = if key["keyid_matches_content"] == Value::Bool(true) {
            String::new()
        } else {
            format!(
                " [key ID is not the hash of the key; computed {}]",
                text(&key["computed_keyid"])
            )
        };
        let _ = writeln!(
            s,
            "    {} {}/{}{owner}{online}{usable}{mismatch}",
            text(&key["keyid"]),
            text(&key["keytype"]),
            text(&key["scheme"])
        );
    }
}

/// A root's roles, a timestamp's or snapshot's meta, a targets role's targets.
fn render_lists(s: &mut String, report: &Value) {
    if let Some(roles) = report.get("roles").and_then(Value::as_object) {
        let _ = writeln!(s, "  roles:");
        for (name, r) in roles {
            let _ = writeln!(
                s,
                "    {}: threshold {} of {} keys",
                escape(name),
                r["threshold"],
                r["keyids"].as_array().map_or(0, Vec::len)
            );
        }
    }
    if let Some(meta) = report.get("meta").and_then(Value::as_object) {
        let _ = writeln!(s, "  meta:");
        for (file, m) in meta {
            let _ = writeln!(s, "    {}: version {}", escape(file), m["version"]);
        }
    }
    if let Some(targets) = report.get("targets").and_then(Value::as_array) {
        let _ = writeln!(s, "  targets: {}", targets.len());
        for t in targets {
            let _ = writeln!(s, "    {} ({} bytes)", text(&t["path"]), t["length"]);
        }
    }
}

fn render_delegations(s: &mut String, d: &Value) {
    let _ = writeln!(s, "  delegations:");
    for r in d["roles"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "    {}: threshold {}, terminating {}, paths {}",
            text(&r["name"]),
            r["threshold"],
            r["terminating"],
            text(&r["paths"])
        );
    }
    if d["succinct_roles"].is_object() {
        let sr = &d["succinct_roles"];
        let _ = writeln!(
            s,
            "    {} hashed bins '{}-*', threshold {}",
            sr["bins"],
            text(&sr["name_prefix"]),
            sr["threshold"]
        );
    }
    render_keys(s, &d["keys"]);
}

/// Each signature check: the count against the threshold, and each key's status.
fn render_signatures(s: &mut String, report: &Value) {
    if report.get("signatures").is_none() {
        let _ = writeln!(
            s,
            "  signatures: not checked (pass --root, or --delegator for a delegated role)"
        );
    }
    for check in report.get("signatures").and_then(Value::as_array).into_iter().flatten() {
        if let Some(error) = check.get("error") {
            let _ = writeln!(
                s,
                "  signatures checked against {}: {}",
                text(&check["checked_against"]),
                error_text(error)
            );
            continue;
        }
        let met = if check["met"] == Value::Bool(true) {
            "threshold met"
        } else {
            "THRESHOLD NOT MET"
        };
        let _ = writeln!(
            s,
            "  signatures checked against {}: {} valid, {} required, {met}",
            text(&check["checked_against"]),
            check["valid"],
            check["threshold"]
        );
        for key in check["keys"].as_array().into_iter().flatten() {
            let _ = writeln!(s, "    {}: {}", text(&key["keyid"]), text(&key["status"]));
        }
        for id in check["signatures_from_unlisted_keys"].as_array().into_iter().flatten() {
            let _ = writeln!(
                s,
                "    {}: signature from a key this role does not list (ignored)",
                text(id)
            );
        }
    }
}
