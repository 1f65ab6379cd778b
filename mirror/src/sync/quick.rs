//! The no-change fast path. Each state carries a small `summary.json` beside its manifest:
//! what a sync must know to say "nothing changed" without loading the manifest, the
//! snapshot or any targets role. When the repository's timestamp is byte for byte the one
//! the served state serves, no new root was found, and nothing in the state has expired
//! or left its grace period since, the sync ends there: two requests (the next root
//! version and the timestamp, in the specification's order) and no local work that grows
//! with the repository.
//!
//! Whenever one of those conditions is in doubt the full sync runs, so it reports exactly
//! what it reported before: an expired role (even one the timestamp leaves unchanged), a
//! grace period that ended, a changed origin, `--verify-all`, or a state written before
//! summaries existed (the full sync then adds its summary).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use trustroot_core::hashes::sha256_hex;
use trustroot_core::metadata::Targets;
use trustroot_core::{Trusted, TrustedSet};

use super::{Skipped, SyncOptions, Versions, versions};
use crate::error::UpdateError;
use crate::manifest::{FileEntry, Origin};

/// The file name of a state's summary, beside `manifest.json`.
pub(super) const FILE: &str = "summary.json";

/// Bumped when a field changes meaning; a summary of another format is ignored (the full
/// sync runs and writes a new one). 2: every targets role is recorded ([`RoleRecord`]).
const FORMAT: u32 = 2;

/// What a no-change sync reports and checks, for one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct StateSummary {
    pub format: u32,
    pub origin: Origin,
    pub versions: Versions,
    /// Files the state serves, and their bytes.
    pub files: u64,
    pub bytes: u64,
    /// The earliest expiry of any role the state trusts (root, timestamp, snapshot, every
    /// targets role), RFC 3339. From then on only the full sync may answer.
    pub expires: String,
    /// The earliest time a file still kept for its grace period was superseded, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_superseded: Option<String>,
    /// Targets the state could not store, reported by every sync until they change.
    pub skipped: Vec<Skipped>,
    /// Every targets role the state trusts, by name: what lets an update in place
    /// ([`super::in_place`]) leave an unchanged role unread.
    pub roles: BTreeMap<String, RoleRecord>,
    /// Entries in the state's manifest journal (updates in place since the state was
    /// built).
    #[serde(default)]
    pub journal: u64,
}

/// What a state records of one targets role it trusts: enough to tell from a new
/// snapshot's entry that the role did not change, and to check its expiry unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct RoleRecord {
    pub version: u64,
    /// The verified file's length and sha256, compared with what a snapshot lists.
    pub length: u64,
    pub sha256: String,
    pub expires: String,
    /// True when the role delegates: a change to it may change how other targets resolve.
    pub delegates: bool,
}

impl StateSummary {
    /// The summary of a state trusting what `plan` verified, holding `files`.
    pub fn new<'a>(plan: &PlanFacts, files: impl Iterator<Item = &'a FileEntry>) -> StateSummary {
        let (mut count, mut bytes, mut oldest_superseded) = (0, 0, None::<String>);
        for entry in files {
            count += 1;
            bytes += entry.size;
            if let Some(since) = &entry.superseded_at
                && oldest_superseded.as_ref().is_none_or(|oldest| earlier(since, oldest))
            {
                oldest_superseded = Some(since.clone());
            }
        }
        StateSummary {
            format: FORMAT,
            origin: plan.origin.clone(),
            versions: plan.versions.clone(),
            files: count,
            bytes,
            expires: trustroot_core::time::format(&plan.expires),
            oldest_superseded,
            skipped: plan.skipped.clone(),
            roles: plan.roles.clone(),
            journal: 0,
        }
    }

    /// The summary of state directory `state`; `None` when it has none, or one this
    /// version cannot use (the full sync then runs: never an error).
    pub fn read(state: &Path) -> Option<StateSummary> {
        let bytes = std::fs::read(state.join(FILE)).ok()?;
        serde_json::from_slice::<StateSummary>(&bytes)
            .ok()
            .filter(|summary| summary.format == FORMAT)
    }

    /// Writes the summary into `state` atomically (a crash leaves the old one, or none).
    pub fn write(&self, state: &Path) -> Result<(), UpdateError> {
        let path = state.join(FILE);
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| UpdateError::io(&path, e.into()))?;
        Ok(trustroot_store::write_atomic(&path, &bytes)?)
    }

    /// True when nothing in the state has expired and no file kept for its grace period
    /// is due to go, as of `options.now`: only then may a sync skip the full check.
    pub fn still_current(&self, options: &SyncOptions) -> bool {
        let Some(expires) = trustroot_core::time::parse(&self.expires) else {
            return false;
        };
        let in_grace = match &self.oldest_superseded {
            None => true,
            Some(since) => trustroot_core::time::parse(since).is_some_and(|since| options.now - since < options.keep),
        };
        options.now < expires && in_grace
    }
}

/// True when RFC 3339 time `a` is before `b` (unparsable times sort first: the full sync
/// then decides).
pub(super) fn earlier(a: &str, b: &str) -> bool {
    match (trustroot_core::time::parse(a), trustroot_core::time::parse(b)) {
        (Some(a), Some(b)) => a < b,
        _ => true,
    }
}

/// What a summary records of a verified plan, short of the files.
#[derive(Debug, Clone)]
pub(super) struct PlanFacts {
    pub origin: Origin,
    pub versions: Versions,
    /// See [`StateSummary::expires`].
    pub expires: DateTime<Utc>,
    pub skipped: Vec<Skipped>,
    pub roles: BTreeMap<String, RoleRecord>,
}

impl PlanFacts {
    pub fn new(origin: Origin, trusted: &TrustedSet, skipped: Vec<Skipped>) -> PlanFacts {
        PlanFacts {
            origin,
            versions: versions(trusted),
            expires: earliest_expiry(trusted),
            skipped,
            roles: role_records(trusted),
        }
    }
}

/// The record of every targets role in `trusted`.
fn role_records(trusted: &TrustedSet) -> BTreeMap<String, RoleRecord> {
    trusted
        .all_targets()
        .iter()
        .map(|(name, role)| (name.to_string(), RoleRecord::of(role)))
        .collect()
}

impl RoleRecord {
    /// The record of a verified targets role.
    pub fn of(role: &Trusted<Targets>) -> RoleRecord {
        let signed = role.signed();
        let delegates = signed
            .delegations
            .as_ref()
            .is_some_and(|d| d.roles.as_ref().is_some_and(|roles| !roles.is_empty()) || d.succinct_roles.is_some());
        RoleRecord {
            version: signed.common.version,
            length: role.bytes().len() as u64,
            sha256: sha256_hex(role.bytes()),
            expires: trustroot_core::time::format(&signed.common.expires),
            delegates,
        }
    }
}

/// The earliest `expires` among the roles in `trusted`.
fn earliest_expiry(trusted: &TrustedSet) -> DateTime<Utc> {
    let mut earliest = trusted.root().signed().common.expires;
    if let Some(timestamp) = trusted.timestamp() {
        earliest = earliest.min(timestamp.signed().common.expires);
    }
    if let Some(snapshot) = trusted.snapshot() {
        earliest = earliest.min(snapshot.signed().common.expires);
    }
    for targets in trusted.all_targets().values() {
        earliest = earliest.min(targets.signed().common.expires);
    }
    earliest
}

/// True when the repository's timestamp is byte for byte the one `state` serves.
pub(super) fn same_timestamp(state: &Path, fetched: Option<&[u8]>) -> bool {
    let Some(fetched) = fetched else {
        return false;
    };
    std::fs::read(state.join("tree").join("timestamp.json")).is_ok_and(|served| served == fetched)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn summary(expires: &str, oldest_superseded: Option<&str>) -> StateSummary {
        StateSummary {
            format: FORMAT,
            origin: Origin {
                metadata_url: "http://127.0.0.1/".into(),
                targets_url: "http://127.0.0.1/targets/".into(),
            },
            versions: Versions {
                root: 1,
                timestamp: 1,
                snapshot: 1,
                targets: 1,
            },
            files: 0,
            bytes: 0,
            expires: expires.into(),
            oldest_superseded: oldest_superseded.map(str::to_string),
            skipped: Vec::new(),
            roles: BTreeMap::new(),
            journal: 0,
        }
    }

    fn options_at(now: &str) -> SyncOptions {
        SyncOptions::new(Path::new("/nonexistent"), trustroot_core::time::parse(now).unwrap())
    }

    #[test]
    fn a_state_with_an_expired_role_is_not_current() {
        let s = summary("2030-01-02T00:00:00Z", None);
        assert!(s.still_current(&options_at("2030-01-01T00:00:00Z")));
        assert!(!s.still_current(&options_at("2030-01-02T00:00:00Z")));
    }

    #[test]
    fn a_state_whose_grace_period_ended_is_not_current() {
        let s = summary("2031-01-01T00:00:00Z", Some("2030-01-01T00:00:00Z"));
        assert!(s.still_current(&options_at("2030-01-07T23:00:00Z")));
        assert!(!s.still_current(&options_at("2030-01-08T00:00:00Z")));
    }

    #[test]
    fn an_unreadable_expiry_is_never_current() {
        assert!(!summary("soon", None).still_current(&options_at("2030-01-01T00:00:00Z")));
    }
}
