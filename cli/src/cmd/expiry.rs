//! `trustroot expiry`: every role's version, expiry and time left. No TUF logic lives
//! here: the expiry computation is `trustroot_core::expiry`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Args;
use serde_json::json;
use trustroot_ceremony::online::{self, RoleExpiry};
use trustroot_ceremony::round::Round;
use trustroot_ceremony::{Error, Result, repo};
use trustroot_core::expiry::{self, State};

use super::shared::{now, parse_duration, parse_time};
use crate::outln;
use crate::output::{self, Failure, Format};

/// Arguments of `trustroot expiry`.
#[derive(Debug, Args)]
pub struct ExpiryArgs {
    /// A signing repository, a publish destination (or its repository/ tree), or a mirror
    /// directory (default: the current directory).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Exit 1 when a role expires within this window: 30d, 12h, 2w, 90m (default 0s).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub within: chrono::Duration,
    /// Timestamp and snapshot (re-signed by `online refresh`, normally days from expiry)
    /// count only within this shorter window: they alert when refreshes stopped.
    #[arg(long, value_name = "DURATION", default_value = "2d", value_parser = parse_duration)]
    pub online_within: chrono::Duration,
    /// Use this time instead of the clock (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<DateTime<Utc>>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// One line of `expiry`.
struct Row {
    role: RoleExpiry,
    /// "published", "staged (round N)", "mirror"...
    source: String,
    /// (expiry_days, signing_days) from the policy, for a signing repository.
    periods: Option<(u32, u32)>,
    /// Whether the role counts for the exit code (staged roles do not: they are not served).
    counts: bool,
}

fn read_limited(path: &Path) -> Result<Vec<u8>> {
    trustroot_ceremony::keys::read_limited(path, repo::MAX_METADATA_SIZE)
}

/// The roles of a published tree (a directory served to clients): timestamp.json, the
/// snapshot it names, the newest root, and every role the snapshot lists.
fn published_tree(dir: &Path) -> Result<Vec<RoleExpiry>> {
    let mut metadata: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let limits = trustroot_core::Limits::default();
    let timestamp = read_limited(&dir.join("timestamp.json"))?;
    let ts = trustroot_core::Envelope::parse("timestamp", &timestamp, &limits)
        .map_err(|e| Error::file(&dir.join("timestamp.json"), e))?;
    metadata.insert("timestamp".into(), timestamp);
    let snapshot_version = ts
        .signed
        .pointer("/meta/snapshot.json/version")
        .and_then(serde_json::Value::as_u64);
    let pick = |role: &str, version: Option<u64>| -> Option<PathBuf> {
        let versioned = version.map(|v| dir.join(trustroot_core::role_name::metadata_file_name(role, Some(v))));
        let plain = dir.join(trustroot_core::role_name::metadata_file_name(role, None));
        versioned
            .filter(|p| p.is_file())
            .or_else(|| plain.is_file().then_some(plain))
    };
    let snapshot_path = pick("snapshot", snapshot_version)
        .ok_or_else(|| Error::file(dir, "has a timestamp.json but not the snapshot it names"))?;
    let snapshot = read_limited(&snapshot_path)?;
    let snap =
        trustroot_core::Envelope::parse("snapshot", &snapshot, &limits).map_err(|e| Error::file(&snapshot_path, e))?;
    metadata.insert("snapshot".into(), snapshot);
    if let Some(meta) = snap.signed.get("meta").and_then(serde_json::Value::as_object) {
        for (name, entry) in meta {
            let Some(role) = name.strip_suffix(".json") else {
                continue;
            };
            let version = entry.get("version").and_then(serde_json::Value::as_u64);
            if let Some(path) = pick(role, version) {
                metadata.insert(role.to_string(), read_limited(&path)?);
            }
        }
    }
    let mut newest_root: Option<(u64, PathBuf)> = None;
    for entry in std::fs::read_dir(dir).map_err(|e| Error::file(dir, e))?.flatten() {
        let name = entry.file_name();
        let Some(v) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".root.json"))
            .and_then(|v| v.parse::<u64>().ok())
        else {
            continue;
        };
        if newest_root.as_ref().is_none_or(|(n, _)| v > *n) {
            newest_root = Some((v, entry.path()));
        }
    }
    let root_path = newest_root
        .map(|(_, p)| p)
        .or_else(|| pick("root", None))
        .ok_or_else(|| Error::file(dir, "has no root metadata (N.root.json or root.json)"))?;
    metadata.insert("root".into(), read_limited(&root_path)?);
    online::role_expiries(&metadata, &dir.display().to_string())
}

/// The rows of `expiry` for PATH: a signing repository, a mirror, a publish destination
/// or a published tree.
fn rows(path: &Path, now: DateTime<Utc>) -> Result<Vec<Row>> {
    if path.join(repo::POLICY_FILE).is_file() {
        return signing_repository_rows(path);
    }
    if path.join(trustroot_mirror::layout::HIDDEN).is_dir() {
        return mirror_rows(path, now);
    }
    published_rows(path)
}

/// A signing repository: its published roles, then the newer roles of a round not
/// published yet (for information; they do not count).
fn signing_repository_rows(path: &Path) -> Result<Vec<Row>> {
    let repo = repo::Repo::open(path)?;
    let published = online::published(&repo)?;
    if published.is_empty() {
        return Err(Error::file(
            &path.join("metadata"),
            "holds no published metadata yet: publish a round with `trustroot ceremony publish`",
        ));
    }
    let periods = |role: &str| {
        let p = repo.policy.periods(role);
        Some((p.expiry_days, p.signing_days))
    };
    let mut rows: Vec<Row> = published
        .iter()
        .map(|r| Row {
            role: r.clone(),
            source: "published".into(),
            periods: periods(&r.role),
            counts: true,
        })
        .collect();
    // A round not published yet: its staged roles, for information.
    if repo.ceremonies_dir().is_dir()
        && let Ok(round) = Round::open(&repo, None)
    {
        for staged in &round.roles {
            let newer = published
                .iter()
                .find(|p| p.role == staged.meta.role)
                .is_none_or(|p| p.version < staged.meta.version);
            let Some(expires) = trustroot_core::time::parse(&staged.meta.expires) else {
                continue;
            };
            if newer {
                rows.push(Row {
                    role: RoleExpiry {
                        role: staged.meta.role.clone(),
                        version: staged.meta.version,
                        expires,
                        file: staged.staged_path.display().to_string(),
                    },
                    source: format!("staged (round {})", round.id),
                    periods: periods(&staged.meta.role),
                    counts: false,
                });
            }
        }
    }
    Ok(rows)
}

/// A mirror: the roles its status reports.
fn mirror_rows(path: &Path, now: DateTime<Utc>) -> Result<Vec<Row>> {
    let status = trustroot_mirror::status::status(path, now).map_err(|e| Error::file(path, e))?;
    status
        .roles
        .into_iter()
        .map(|r| {
            let expires = trustroot_core::time::parse(&r.expires).ok_or_else(|| {
                Error::file(
                    path,
                    format!("{} v{}: invalid expires {}", r.role, r.version, r.expires),
                )
            })?;
            Ok(Row {
                role: RoleExpiry {
                    file: format!("{}/{}.json", status.served, r.role),
                    role: r.role,
                    version: r.version,
                    expires,
                },
                source: "mirror".into(),
                periods: None,
                counts: true,
            })
        })
        .collect()
}

/// A publish destination (its served tree) or a published tree itself.
fn published_rows(path: &Path) -> Result<Vec<Row>> {
    let tree = if path
        .join(trustroot_ceremony::pubdir::SERVED)
        .join("timestamp.json")
        .is_file()
    {
        path.join(trustroot_ceremony::pubdir::SERVED)
    } else {
        path.to_path_buf()
    };
    if !tree.join("timestamp.json").is_file() {
        return Err(Error::file(
            path,
            "is not a signing repository (trustroot.toml), a published tree (timestamp.json), a publish destination or a mirror: pass one of those as PATH",
        ));
    }
    Ok(published_tree(&tree)?
        .into_iter()
        .map(|role| Row {
            role,
            source: "published".into(),
            periods: None,
            counts: true,
        })
        .collect())
}

/// `trustroot expiry`: exit 0 when nothing expires within the window, 1 when something
/// does, 3 when something has expired, 2 on an error.
pub fn run(args: ExpiryArgs) -> ExitCode {
    let outcome = expiry_report(&args).map(|state| match state {
        State::Valid => ExitCode::SUCCESS,
        State::Within => ExitCode::from(1),
        State::Expired => ExitCode::from(3),
    });
    output::finish(Format::json_if(args.json), outcome, 2)
}

fn expiry_report(args: &ExpiryArgs) -> std::result::Result<State, Failure> {
    let now = now(args.at);
    let (within, online_within) = (args.within, args.online_within);
    let window = |role: &str| expiry::window_for(role, within, online_within);
    let rows = rows(&args.path, now)?;
    let counted: Vec<&Row> = rows.iter().filter(|r| r.counts).collect();
    let windows: Vec<(DateTime<Utc>, chrono::Duration)> =
        counted.iter().map(|r| (r.role.expires, window(&r.role.role))).collect();
    let summary = expiry::summarize(&windows, now);
    let earliest = summary.earliest.and_then(|(i, at)| counted.get(i).map(|r| (r, at)));
    if args.json {
        let roles: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "role": r.role.role,
                    "version": r.role.version,
                    "expires": trustroot_core::time::format(&r.role.expires),
                    "seconds_left": (r.role.expires - now).num_seconds(),
                    "state": expiry::State::of(r.role.expires, now, window(&r.role.role)).as_str(),
                    "source": r.source,
                    "file": r.role.file,
                    "expiry_days": r.periods.map(|p| p.0),
                    "signing_days": r.periods.map(|p| p.1),
                })
            })
            .collect();
        let out = json!({
            "now": trustroot_core::time::format(&now),
            "within_seconds": within.num_seconds(),
            "status": summary.worst.as_str(),
            "earliest": earliest.map(|(r, at)| json!({"role": r.role.role, "version": r.role.version, "expires": trustroot_core::time::format(&at)})),
            "roles": roles,
        });
        output::json(&out)?;
        return Ok(summary.worst);
    }
    outln!(
        "{:<24} {:>8}  {:<20}  {:<20}  {:<8}  {:<16}  SOURCE",
        "ROLE",
        "VERSION",
        "EXPIRES",
        "LEFT",
        "STATE",
        "SIGNING PERIOD"
    )?;
    for r in &rows {
        let state = expiry::State::of(r.role.expires, now, window(&r.role.role));
        let period = match r.periods {
            Some((e, s)) => format!("{s}d of {e}d"),
            None => "-".to_string(),
        };
        outln!(
            "{:<24} {:>8}  {:<20}  {:<20}  {:<8}  {:<16}  {}",
            crate_printable(&r.role.role),
            r.role.version,
            trustroot_core::time::format(&r.role.expires),
            expiry::describe_left(r.role.expires, now),
            state.as_str(),
            period,
            r.source
        )?;
    }
    if let Some((r, at)) = earliest {
        let what = match summary.worst {
            State::Expired => "EXPIRED: clients refuse this repository until it is re-signed",
            State::Within => "something expires within the window",
            State::Valid => "nothing expires within the window",
        };
        outln!(
            "First to expire: {} v{} at {} ({}); {what}.",
            crate_printable(&r.role.role),
            r.role.version,
            trustroot_core::time::format(&at),
            expiry::describe_left(at, now)
        )?;
    }
    Ok(summary.worst)
}

fn crate_printable(text: &str) -> String {
    trustroot_ceremony::round::printable(text)
}
