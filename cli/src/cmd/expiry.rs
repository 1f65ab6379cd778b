//! `trustroot expiry`: every role's version, expiry and time left, as a table, JSON or
//! Prometheus metrics. No TUF logic lives here: the rows are `trustroot_ceremony::expiry`'s
//! (a mirror's, `trustroot_mirror`'s status), the expiry computation
//! `trustroot_core::expiry`'s, the metrics format `trustroot_mirror::metrics`'.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Args;
use serde_json::json;
use trustroot_ceremony::expiry::{self as expiry_rows, Row, RowSource};
use trustroot_ceremony::online::RoleExpiry;
use trustroot_ceremony::overview::{self, OnlineKeyOverview};
use trustroot_core::expiry::{self, State};
use trustroot_mirror::metrics::{self, RoleTimes};
use trustroot_mirror::set::{self, Kind};

use super::shared::{now, parse_duration, parse_time};
use crate::outln;
use crate::output::{self, Failure, ReportFormat};

/// Arguments of `trustroot expiry`.
#[derive(Debug, Args)]
pub struct ExpiryArgs {
    /// A signing repository, a publish destination (or its repository/ tree), or a mirror
    /// directory, one of named repositories too (each repository's roles, labelled with
    /// its name) (default: the current directory).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Exit 1 when a role expires within this window: 30d, 12h, 2w, 90m (default: each
    /// role's own signing period: the policy's, else the metadata's
    /// x-tuf-on-ci-signing-period, else 1d for timestamp and snapshot and 30d for others).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub within: Option<chrono::Duration>,
    /// Timestamp and snapshot (re-signed by `online refresh`, normally days from expiry)
    /// count only within this window: they alert when refreshes stopped (default: their
    /// signing period; with --within, 2d).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub online_within: Option<chrono::Duration>,
    /// Use this time instead of the clock (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<DateTime<Utc>>,
    /// Print JSON (short for --format json).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// How to print: a table, JSON, or Prometheus metrics (the text format node_exporter's
    /// textfile collector reads; see docs/monitoring.md). The exit code is the same in each.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ReportFormat>,
    /// The `repository` label of the metrics under --format prometheus (default: a
    /// mirror's origin URL, else PATH made absolute).
    #[arg(long, value_name = "NAME")]
    pub repository_label: Option<String>,
}

/// The roles of one repository under PATH.
struct Repository {
    /// Its name in a mirror directory of named repositories.
    name: Option<String>,
    rows: Vec<Row>,
    /// The default `repository` label of its metrics.
    label: String,
}

/// The repositories under PATH: each named repository of a mirror directory of them
/// (labelled with its name); else one: a mirror's rows from its status (labelled with its
/// origin), anything else from the signing side (labelled with its absolute path).
fn repositories(path: &Path, now: DateTime<Utc>) -> Result<Vec<Repository>, Failure> {
    if let Kind::Named(names) = set::kind(path)? {
        if names.is_empty() {
            return Err(expiry_rows::no_roles_here(path).into());
        }
        return names
            .into_iter()
            .map(|name| {
                let (rows, _) = mirror_rows(&set::repository_dir(path, &name)?, now)?;
                Ok(Repository {
                    label: name.clone(),
                    name: Some(name),
                    rows,
                })
            })
            .collect();
    }
    let (rows, label) = if path.join(trustroot_mirror::layout::HIDDEN).is_dir() {
        mirror_rows(path, now)?
    } else {
        let kind = expiry_rows::detect(path).ok_or_else(|| expiry_rows::no_roles_here(path))?;
        let label = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        (expiry_rows::rows(path, &kind)?, label.display().to_string())
    };
    Ok(vec![Repository {
        name: None,
        rows,
        label,
    }])
}

/// A mirror: the roles its status reports.
fn mirror_rows(path: &Path, now: DateTime<Utc>) -> Result<(Vec<Row>, String), Failure> {
    let status = trustroot_mirror::status::status(path, now)?;
    let rows = status
        .roles
        .into_iter()
        .map(|r| Row {
            role: RoleExpiry {
                file: format!("{}/{}.json", status.served, r.role),
                role: r.role,
                version: r.version,
                expires: r.expires,
                signing_days: r.signing_days,
            },
            source: RowSource::Mirror,
            periods: None,
            counts: true,
        })
        .collect();
    Ok((rows, status.origin.metadata_url))
}

/// `trustroot expiry`: exit 0 when nothing expires within the window, 1 when something
/// does, 3 when something has expired, 2 on an error.
pub fn run(args: ExpiryArgs) -> ExitCode {
    let outcome = expiry_report(&args).map(|state| match state {
        State::Valid => ExitCode::SUCCESS,
        State::Within => ExitCode::from(1),
        State::Expired => ExitCode::from(3),
    });
    output::finish(ReportFormat::chosen(args.format, args.json).errors(), outcome, 2)
}

fn expiry_report(args: &ExpiryArgs) -> std::result::Result<State, Failure> {
    let now = now(args.at);
    let format = ReportFormat::chosen(args.format, args.json);
    if args.repository_label.is_some() && format != ReportFormat::Prometheus {
        return Err(Failure::usage(
            "--repository-label labels metrics: it needs --format prometheus",
        ));
    }
    let (within, online_within) = (args.within, args.online_within);
    let repositories = repositories(&args.path, now)?;
    let online_keys = online_keys(&args.path);
    let named = repositories.iter().any(|r| r.name.is_some());
    if named && args.repository_label.is_some() {
        return Err(Failure::usage(
            "--repository-label: each named repository is labelled with its name",
        ));
    }
    // Each row with the name of its repository, where it has one.
    let rows: Vec<(Option<&str>, &Row)> = repositories
        .iter()
        .flat_map(|repo| repo.rows.iter().map(move |row| (repo.name.as_deref(), row)))
        .collect();
    let window = |r: &Row| {
        let days = r.periods.map(|p| p.signing_days).or(r.role.signing_days);
        expiry::default_window(&r.role.role, within, online_within, days)
    };
    let counted: Vec<&Row> = rows.iter().map(|(_, r)| *r).filter(|r| r.counts).collect();
    let windows: Vec<(DateTime<Utc>, chrono::Duration)> = counted.iter().map(|r| (r.role.expires, window(r))).collect();
    let summary = expiry::summarize(&windows, now);
    let earliest = summary.earliest.and_then(|(i, at)| counted.get(i).map(|r| (r, at)));
    if format == ReportFormat::Prometheus {
        let mut families = Vec::new();
        for repo in &repositories {
            let label = args.repository_label.as_deref().unwrap_or(&repo.label);
            let counted: Vec<&Row> = repo.rows.iter().filter(|r| r.counts).collect();
            metrics::merge(&mut families, prometheus(label, &counted));
        }
        output::text(&metrics::render(&families))?;
        return Ok(summary.worst);
    }
    if format == ReportFormat::Json {
        let roles: Vec<serde_json::Value> = rows
            .iter()
            .map(|(repository, r)| {
                json!({
                    "repository": repository,
                    "role": r.role.role,
                    "version": r.role.version,
                    "expires": trustroot_core::time::format(&r.role.expires),
                    "seconds_left": (r.role.expires - now).num_seconds(),
                    "window_seconds": window(r).num_seconds(),
                    "state": expiry::State::of(r.role.expires, now, window(r)).as_str(),
                    "source": r.source.to_string(),
                    "file": r.role.file,
                    "expiry_days": r.periods.map(|p| p.expiry_days),
                    "signing_days": r.periods.map(|p| p.signing_days),
                })
            })
            .collect();
        let out = json!({
            "now": trustroot_core::time::format(&now),
            "within_seconds": within.map(|w| w.num_seconds()),
            "status": summary.worst.as_str(),
            "earliest": earliest.map(|(r, at)| json!({"role": r.role.role, "version": r.role.version, "expires": trustroot_core::time::format(&at)})),
            "roles": roles,
            "online_keys": online_keys,
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
    for (repository, r) in &rows {
        let state = expiry::State::of(r.role.expires, now, window(r));
        let role = match repository {
            Some(name) => format!("{name}/{}", crate_printable(&r.role.role)),
            None => crate_printable(&r.role.role),
        };
        let period = match r.periods {
            Some(p) => format!("{}d of {}d", p.signing_days, p.expiry_days),
            None => "-".to_string(),
        };
        outln!(
            "{:<24} {:>8}  {:<20}  {:<20}  {:<8}  {:<16}  {}",
            role,
            r.role.version,
            trustroot_core::time::format(&r.role.expires),
            expiry::describe_left(r.role.expires, now),
            state.as_str(),
            period,
            r.source
        )?;
    }
    for key in &online_keys {
        outln!("{}", key.line())?;
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

/// The online keys of a signing repository (none for a published tree or a mirror, which
/// have no policy): usable or not, and why.
fn online_keys(path: &Path) -> Vec<OnlineKeyOverview> {
    if !matches!(expiry_rows::detect(path), Some(expiry_rows::Kind::SigningRepository)) {
        return Vec::new();
    }
    match trustroot_ceremony::repo::Repo::open(path) {
        Ok(repo) => overview::online_keys(&repo.policy),
        Err(_) => Vec::new(),
    }
}

/// The role gauges of the roles that count (staged roles are not served: they have no
/// expiry a client could run into yet).
fn prometheus(repository: &str, counted: &[&Row]) -> Vec<metrics::Family> {
    let roles: Vec<RoleTimes> = counted
        .iter()
        .map(|r| RoleTimes {
            role: r.role.role.clone(),
            version: r.role.version,
            expires: r.role.expires,
            signing_days: r.periods.map(|p| p.signing_days).or(r.role.signing_days),
        })
        .collect();
    metrics::role_families(repository, &roles)
}

fn crate_printable(text: &str) -> String {
    trustroot_ceremony::round::printable(text)
}
