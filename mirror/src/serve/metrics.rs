//! `/metrics` (with `mirror serve --metrics`): the server's request counters, and what it
//! reports in the Prometheus text format: the served repository's role expiry gauges, the
//! mirror's last successful sync and failed syncs ([`crate::sync_record`]), and the
//! requests and bytes served since the server started.
//!
//! Repositories are told apart by the `repository` label: an unnamed mirror's is its
//! recorded origin URL (or `--repository-label`); each named repository's is its name
//! ([`crate::set`]), every one of them in the same exposition. The request and byte
//! counters are the server's, for all repositories together (no `repository` label).
//!
//! `/metrics` never names a file of the served tree: a tree's top level holds only
//! metadata (`*.json`) and the `targets/` directory, so a target called `metrics` is
//! `/targets/metrics` and stays served as it is. Without `--metrics`, `/metrics` is an
//! ordinary path (and a 404).

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use trustroot_core::display::escape;

use super::named::Served;
use crate::error::UpdateError;
use crate::layout::MirrorDir;
use crate::metrics::{Family, Kind, RoleTimes, merge, render, role_families};
use crate::set;
use crate::status::MirrorStatus;

/// The path metrics are served at.
pub const PATH: &str = "/metrics";

/// The status codes counted one by one: every code a response can carry (hyper's
/// `StatusCode` holds no other).
const CODES: std::ops::Range<u16> = 100..1000;

/// Responses finished since the server started: how many per status code, and the body
/// bytes sent. Atomic counters, one per code: every request counts itself without a lock.
#[derive(Debug)]
pub(super) struct Counters {
    requests: Box<[AtomicU64]>,
    bytes: AtomicU64,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            requests: CODES.map(|_| AtomicU64::new(0)).collect(),
            bytes: AtomicU64::new(0),
        }
    }
}

impl Counters {
    /// Counts one response, when its body is finished or abandoned.
    pub(super) fn record(&self, status: u16, sent: u64) {
        if let Some(count) = self.requests.get(usize::from(status.wrapping_sub(CODES.start))) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        self.bytes.fetch_add(sent, Ordering::Relaxed);
    }

    /// The codes answered at least once, in order, with their counts.
    fn by_code(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        CODES
            .zip(self.requests.iter())
            .map(|(code, count)| (code, count.load(Ordering::Relaxed)))
            .filter(|&(_, count)| count > 0)
    }
}

/// The exposition, and warnings for the server's log (a record of syncs that cannot be
/// read leaves out what only it knows, and says so; so does a named repository whose
/// status cannot be read, the others being reported).
pub(super) fn exposition(
    served: &Served,
    repository: Option<&str>,
    counters: &Counters,
    now: DateTime<Utc>,
) -> Result<(String, Vec<String>), UpdateError> {
    let mut families = Vec::new();
    let mut warnings = Vec::new();
    match served {
        Served::Unnamed(served) => {
            let status = crate::status::status(served.mirror.root(), now)?;
            let repository = repository.unwrap_or(&status.origin.metadata_url);
            merge(
                &mut families,
                repository_families(&served.mirror, &status, repository, &mut warnings),
            );
        }
        // Read afresh on every scrape: a repository added since is reported at once.
        Served::Named(named) => {
            let names = match set::kind(&named.dir)? {
                set::Kind::Named(names) => names,
                set::Kind::Unnamed | set::Kind::Empty => Vec::new(),
            };
            for name in names {
                let mirror = MirrorDir::new(&set::repository_dir(&named.dir, &name)?);
                match crate::status::status(mirror.root(), now) {
                    Ok(status) => merge(
                        &mut families,
                        repository_families(&mirror, &status, &name, &mut warnings),
                    ),
                    Err(e) => warnings.push(format!("warning: /metrics without repository {name}: {e}")),
                }
            }
        }
    }

    let mut requests = Family::new(
        "trustroot_http_requests_total",
        Kind::Counter,
        "HTTP responses finished by this server since it started, by status code.",
    );
    for (code, count) in counters.by_code() {
        requests.sample(&[("code", &code.to_string())], i128::from(count));
    }
    families.push(requests);
    let mut bytes = Family::new(
        "trustroot_http_response_bytes_total",
        Kind::Counter,
        "Response body bytes sent by this server since it started.",
    );
    bytes.sample(&[], i128::from(counters.bytes.load(Ordering::Relaxed)));
    families.push(bytes);
    Ok((render(&families), warnings))
}

/// One repository's role gauges and sync record, labelled `repository`.
fn repository_families(
    mirror: &MirrorDir,
    status: &MirrorStatus,
    repository: &str,
    warnings: &mut Vec<String>,
) -> Vec<Family> {
    let roles: Vec<RoleTimes> = status
        .roles
        .iter()
        .map(|r| RoleTimes {
            role: r.role.clone(),
            version: r.version,
            expires: r.expires,
            signing_days: r.signing_days,
        })
        .collect();
    let mut families = role_families(repository, &roles);

    let (record, record_read) = match crate::sync_record::read(mirror) {
        Ok(record) => (record, true),
        Err(e) => {
            warnings.push(format!(
                "warning: /metrics without the sync failures of {}: {e}",
                escape(repository)
            ));
            (None, false)
        }
    };
    // The served state was built by a successful sync, so its time is a lower bound for
    // mirrors whose syncs were not recorded yet.
    let built = trustroot_core::time::parse(&status.synced_at);
    let last_success = record.as_ref().and_then(|r| r.last_success_at()).max(built);
    let labels = [("repository", repository)];
    if let Some(at) = last_success {
        let mut family = Family::new(
            "trustroot_mirror_last_sync_success_timestamp_seconds",
            Kind::Gauge,
            "When the last mirror sync (or import) that succeeded ran (Unix time), whether or not it found anything new.",
        );
        family.sample(&labels, i128::from(at.timestamp()));
        families.push(family);
    }
    if record_read {
        let mut family = Family::new(
            "trustroot_mirror_sync_failures_total",
            Kind::Counter,
            "Mirror syncs that failed, as recorded in the mirror's directory.",
        );
        family.sample(&labels, i128::from(record.as_ref().map_or(0, |r| r.failures_total)));
        families.push(family);
    }
    families
}
