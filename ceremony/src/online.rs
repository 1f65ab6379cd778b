//! `online refresh`: keeps a published repository alive between ceremonies. The online key
//! alone re-signs timestamp (and snapshot, when its own expiry is inside its signing period
//! or its content must change); root, targets and delegated roles are kept byte for byte.
//! The new metadata goes to `metadata/` and the published tree is switched exactly as
//! `ceremony publish` does it (see [`crate::pubdir`]), under the repository lock.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use trustroot_core::metadata::Root;
use trustroot_core::{Envelope, Limits};

use crate::candidate::Candidate;
use crate::error::{Error, FileProblem, Operation, PublishError, Result};
use crate::keys::{self, Signer};
use crate::pubdir::PublishDir;
use crate::published::{reachable_roles, read_published};
use crate::repo::Repo;
use crate::sign::{expires, online_keyids, sign_envelope};
use crate::stage::carried_top_level;

/// One role as published.
#[derive(Debug, Clone, Serialize)]
pub struct RoleExpiry {
    pub role: String,
    pub version: u64,
    #[serde(serialize_with = "trustroot_core::time::serialize")]
    pub expires: DateTime<Utc>,
    /// Where it was read.
    pub file: String,
    /// The signing period its metadata declares (`x-tuf-on-ci-signing-period`), in days.
    #[serde(skip)]
    pub signing_days: Option<u32>,
}

/// What a refresh did.
#[derive(Debug, Clone, Serialize)]
pub struct RefreshReport {
    /// The roles re-signed (empty: nothing was due).
    pub refreshed: Vec<String>,
    /// Why (or why nothing was done).
    pub reason: String,
    /// Every published role after the refresh.
    pub roles: Vec<RoleExpiry>,
    /// The published state switched to, if any.
    pub state: Option<u64>,
    /// `metadata/` was restored from the published tree first (an earlier publish or
    /// refresh had stopped half way): what was restored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<String>,
}

fn parse(file: &str, role: &str, bytes: &[u8]) -> Result<Envelope> {
    Envelope::parse(role, bytes, &Limits::default())
        .map_err(|e| Error::content(Path::new(file), FileProblem::Metadata(Box::new(e))))
}

fn expires_of(file: &str, role: &str, envelope: &Envelope) -> Result<DateTime<Utc>> {
    envelope
        .signed
        .get("expires")
        .and_then(Value::as_str)
        .and_then(trustroot_core::time::parse)
        .ok_or_else(|| {
            Error::content(
                Path::new(file),
                FileProblem::NoExpires {
                    role: role.into(),
                    version: envelope.version().unwrap_or(0),
                },
            )
        })
}

/// Every role in `metadata`, with its version and expiry, in TUF order (root, timestamp,
/// snapshot, targets, then delegated roles by name).
pub fn role_expiries(metadata: &BTreeMap<String, Vec<u8>>, dir: &str) -> Result<Vec<RoleExpiry>> {
    let mut out = Vec::new();
    let order = |r: &str| match r {
        "root" => 0,
        "timestamp" => 1,
        "snapshot" => 2,
        "targets" => 3,
        _ => 4,
    };
    let mut names: Vec<&String> = metadata.keys().collect();
    names.sort_by(|a, b| order(a).cmp(&order(b)).then(a.cmp(b)));
    for role in names {
        let Some(bytes) = metadata.get(role) else { continue };
        let file = format!("{dir}/{}", trustroot_core::role_name::metadata_file_name(role, None));
        let envelope = parse(&file, role, bytes)?;
        out.push(RoleExpiry {
            role: role.clone(),
            version: envelope.version().unwrap_or(0),
            expires: expires_of(&file, role, &envelope)?,
            signing_days: trustroot_core::expiry::declared_signing_days(&envelope.signed),
            file,
        });
    }
    Ok(out)
}

/// The roles `metadata/` holds, as published.
pub fn published(repo: &Repo) -> Result<Vec<RoleExpiry>> {
    let (metadata, _) = read_published(repo)?;
    role_expiries(&metadata, "metadata")
}

/// True when `expires` is inside the signing period of `days` at `now`.
fn due(expires: DateTime<Utc>, now: DateTime<Utc>, days: u32) -> bool {
    expires - now <= Duration::days(i64::from(days))
}

/// Why `role` v`version` is re-signed: it is inside its signing period of `days`, or it has
/// expired already (clients refuse it until this refresh).
fn due_reason(role: &str, version: u64, expires: DateTime<Utc>, now: DateTime<Utc>, days: u32) -> String {
    let at = trustroot_core::time::format(&expires);
    if expires <= now {
        let ago = trustroot_core::expiry::expires_phrase(expires, now);
        format!("{role} v{version} {ago}: clients refuse it until it is re-signed")
    } else {
        format!("{role} v{version} expires {at} (inside its signing period of {days} days)")
    }
}

/// Re-signs timestamp (and snapshot when due) with `online` at `now`, and publishes. Does
/// nothing when no online role is inside its signing period, unless `force`.
pub fn refresh(repo: &Repo, online: &dyn Signer, now: DateTime<Utc>, force: bool) -> Result<RefreshReport> {
    let _lock = crate::lock::lock(repo, Operation::OnlineRefresh)?;
    let dir = PublishDir::new(&repo.policy, &repo.root);
    crate::publish::ensure_outside_metadata(repo, &dir)?;
    let recovered = crate::recover::reconcile(repo, &dir)?;
    let (previous, root_history) = read_published(repo)?;
    let current = OnlineState::read(repo, &previous)?;
    let (meta, content_changed) = snapshot_meta(&previous, &current.snapshot)?;
    let due = Due::decide(repo, &current, content_changed, now, force);
    if !due.timestamp && !force {
        return Ok(RefreshReport {
            refreshed: Vec::new(),
            reason: format!(
                "nothing to do: timestamp v{} (expires {}) and snapshot v{} (expires {}) are outside their signing periods",
                current.timestamp_version(),
                trustroot_core::time::format(&current.timestamp_expires),
                current.snapshot_version(),
                trustroot_core::time::format(&current.snapshot_expires)
            ),
            roles: role_expiries(&previous, "metadata")?,
            state: None,
            recovered,
        });
    }

    let mut metadata = previous.clone();
    let mut new_roles = Vec::new();
    for (role, old_version, value) in next_online_roles(repo, &current, meta, due.snapshot, now) {
        let keyids = online_keyids(&current.root, role, online);
        if keyids.is_empty() {
            return Err(PublishError::OnlineKeyNotListed {
                signer: online.describe(),
                keyid: keys::short_id(&online.public_key().computed_key_id()).to_string(),
                role: role.into(),
                root_version: current.root.common.version,
                version: old_version,
            }
            .into());
        }
        metadata.insert(role.to_string(), sign_envelope(role, &value, &keyids, online)?);
        new_roles.push(role.to_string());
    }
    let mut versions = BTreeMap::new();
    for (role, bytes) in &metadata {
        versions.insert(role.clone(), parse(role, role, bytes)?.version().unwrap_or(0));
    }
    let candidate = Candidate {
        round: "online-refresh".to_string(),
        metadata,
        versions,
        new_roles: new_roles.clone(),
        root_history,
        previous,
        targets: BTreeMap::new(),
        left_out: Vec::new(),
    };
    let state = switch_published(repo, &dir, &candidate)?;
    Ok(RefreshReport {
        refreshed: new_roles,
        reason: due.reason,
        roles: role_expiries(&candidate.metadata, "metadata")?,
        state: Some(state),
        recovered,
    })
}

/// The published root, snapshot and timestamp a refresh starts from.
struct OnlineState {
    root: Root,
    snapshot: Envelope,
    timestamp: Envelope,
    snapshot_expires: DateTime<Utc>,
    timestamp_expires: DateTime<Utc>,
}

impl OnlineState {
    fn read(repo: &Repo, previous: &BTreeMap<String, Vec<u8>>) -> Result<OnlineState> {
        let get = |role: &str| -> Result<Envelope> {
            let file = format!("metadata/{role}.json");
            let bytes = previous.get(role).ok_or_else(|| {
                Error::content(
                    &repo.root.join(&file),
                    FileProblem::NeverPublished { role: role.into() },
                )
            })?;
            parse(&file, role, bytes)
        };
        let root_envelope = get("root")?;
        let root: Root = serde_json::from_value(root_envelope.signed.clone())
            .map_err(Error::not_role(&repo.root.join("metadata/root.json"), "a root"))?;
        let snapshot = get("snapshot")?;
        let timestamp = get("timestamp")?;
        let snapshot_expires = expires_of("metadata/snapshot.json", "snapshot", &snapshot)?;
        let timestamp_expires = expires_of("metadata/timestamp.json", "timestamp", &timestamp)?;
        Ok(OnlineState {
            root,
            snapshot,
            timestamp,
            snapshot_expires,
            timestamp_expires,
        })
    }

    fn snapshot_version(&self) -> u64 {
        self.snapshot.version().unwrap_or(0)
    }

    fn timestamp_version(&self) -> u64 {
        self.timestamp.version().unwrap_or(0)
    }
}

/// What snapshot must list: what it lists now, with every reachable role's version; and
/// whether that differs from what it lists now.
fn snapshot_meta(previous: &BTreeMap<String, Vec<u8>>, old_snapshot: &Envelope) -> Result<(Map<String, Value>, bool)> {
    let old_meta = old_snapshot
        .signed
        .get("meta")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| {
            Error::content(
                Path::new("metadata/snapshot.json"),
                FileProblem::NoMeta {
                    version: old_snapshot.version().unwrap_or(0),
                },
            )
        })?;
    let mut meta: Map<String, Value> = old_meta.clone();
    let (reachable, _) = reachable_roles(previous);
    for role in &reachable {
        let Some(bytes) = previous.get(role) else { continue };
        let version = parse(&format!("metadata/{role}.json"), role, bytes)?
            .version()
            .unwrap_or(0);
        meta.insert(format!("{role}.json"), json!({"version": version}));
    }
    let content_changed = meta != old_meta;
    Ok((meta, content_changed))
}

/// Which online roles are due for re-signing, and why.
struct Due {
    snapshot: bool,
    timestamp: bool,
    reason: String,
}

impl Due {
    fn decide(repo: &Repo, current: &OnlineState, content_changed: bool, now: DateTime<Utc>, force: bool) -> Due {
        let policy = &repo.policy;
        let snapshot_version = current.snapshot_version();
        let timestamp_version = current.timestamp_version();
        let snapshot = content_changed || due(current.snapshot_expires, now, policy.periods("snapshot").signing_days);
        let timestamp = snapshot || due(current.timestamp_expires, now, policy.periods("timestamp").signing_days);
        let reason = if content_changed {
            format!("snapshot v{snapshot_version} does not list every role's current version")
        } else if snapshot {
            due_reason(
                "snapshot",
                snapshot_version,
                current.snapshot_expires,
                now,
                policy.periods("snapshot").signing_days,
            )
        } else if timestamp {
            due_reason(
                "timestamp",
                timestamp_version,
                current.timestamp_expires,
                now,
                policy.periods("timestamp").signing_days,
            )
        } else if force {
            "forced".to_string()
        } else {
            String::new()
        };
        Due {
            snapshot,
            timestamp,
            reason,
        }
    }
}

/// The next versions of the online roles to sign, unsigned: snapshot (when due) listing
/// `meta`, and timestamp. Each with the version it replaces. Every other field of the
/// published versions is carried, and their `spec_version` kept (see `stage::carry`).
fn next_online_roles(
    repo: &Repo,
    current: &OnlineState,
    meta: Map<String, Value>,
    snapshot_due: bool,
    now: DateTime<Utc>,
) -> Vec<(&'static str, u64, Value)> {
    let policy = &repo.policy;
    let snapshot_version = current.snapshot_version();
    let timestamp_version = current.timestamp_version();
    let mut refreshed_snapshot_version = snapshot_version;
    let mut to_sign = Vec::new();
    if snapshot_due {
        refreshed_snapshot_version = snapshot_version + 1;
        let mut snapshot = carried_top_level(Some(&current.snapshot.signed), "snapshot");
        snapshot.insert("version".into(), json!(refreshed_snapshot_version));
        snapshot.insert(
            "expires".into(),
            json!(expires(now, policy.periods("snapshot").expiry_days)),
        );
        snapshot.insert("meta".into(), Value::Object(meta));
        to_sign.push(("snapshot", snapshot_version, Value::Object(snapshot)));
    }
    let mut timestamp = carried_top_level(Some(&current.timestamp.signed), "timestamp");
    timestamp.insert("version".into(), json!(timestamp_version + 1));
    timestamp.insert(
        "expires".into(),
        json!(expires(now, policy.periods("timestamp").expiry_days)),
    );
    timestamp.insert(
        "meta".into(),
        json!({"snapshot.json": {"version": refreshed_snapshot_version}}),
    );
    to_sign.push(("timestamp", timestamp_version, Value::Object(timestamp)));
    to_sign
}

/// Writes `candidate` to `metadata/` and switches the published tree to it, carrying the
/// published targets over; the new state's number.
fn switch_published(repo: &Repo, dir: &PublishDir, candidate: &Candidate) -> Result<u64> {
    if dir.current()?.is_none() {
        return Err(Error::content(&dir.served(), FileProblem::NotPublishedYet));
    }
    let staged = dir.stage(candidate)?;
    if let Err(e) = crate::publish::write_metadata(repo, candidate) {
        staged.discard();
        return Err(e);
    }
    dir.commit(staged)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn t(text: &str) -> DateTime<Utc> {
        trustroot_core::time::parse(text).unwrap()
    }

    #[test]
    fn refreshed_snapshot_and_timestamp_keep_published_fields_and_spec_version() {
        let (_dir, repo) = crate::stage::carry_tests::carried_repo();
        let envelope = |role: &str, signed: Value| {
            let bytes = serde_json::to_vec(&json!({"signatures": [], "signed": signed})).unwrap();
            parse(role, role, &bytes).unwrap()
        };
        let published = |type_: &str, meta: Value| {
            json!({
                "_type": type_, "spec_version": "1.0", "version": 7,
                "expires": "2030-01-02T00:00:00Z", "x-tufrepo-note": type_, "meta": meta,
            })
        };
        let root = repo.published("root").unwrap().unwrap().envelope.signed;
        let current = OnlineState {
            root: serde_json::from_value(root).unwrap(),
            snapshot: envelope(
                "snapshot",
                published("snapshot", json!({"targets.json": {"version": 5}})),
            ),
            timestamp: envelope(
                "timestamp",
                published("timestamp", json!({"snapshot.json": {"version": 7}})),
            ),
            snapshot_expires: t("2030-01-02T00:00:00Z"),
            timestamp_expires: t("2030-01-02T00:00:00Z"),
        };
        let meta = json!({"targets.json": {"version": 6}}).as_object().cloned().unwrap();
        let now = t("2030-01-01T00:00:00Z");
        let roles = next_online_roles(&repo, &current, meta, true, now);
        let [(snapshot, 7, snapshot_signed), (timestamp, 7, timestamp_signed)] = roles.as_slice() else {
            panic!("{roles:?}");
        };
        assert_eq!((*snapshot, *timestamp), ("snapshot", "timestamp"));
        assert_eq!(
            snapshot_signed,
            &json!({
                "_type": "snapshot", "spec_version": "1.0", "version": 8,
                "expires": "2039-12-30T00:00:00Z", "x-tufrepo-note": "snapshot",
                "meta": {"targets.json": {"version": 6}},
            })
        );
        assert_eq!(
            timestamp_signed,
            &json!({
                "_type": "timestamp", "spec_version": "1.0", "version": 8,
                "expires": "2030-01-08T00:00:00Z", "x-tufrepo-note": "timestamp",
                "meta": {"snapshot.json": {"version": 8}},
            })
        );
    }

    #[test]
    fn an_expired_timestamp_is_called_expired_not_inside_its_signing_period() {
        let now = t("2030-01-10T00:00:00Z");
        let expired = due_reason("timestamp", 7, t("2030-01-09T00:00:00Z"), now, 1);
        assert_eq!(
            expired,
            "timestamp v7 expired 2030-01-09T00:00:00Z (1.0 days ago): clients refuse it until it is re-signed"
        );
        let due = due_reason("timestamp", 7, t("2030-01-10T12:00:00Z"), now, 1);
        assert_eq!(
            due,
            "timestamp v7 expires 2030-01-10T12:00:00Z (inside its signing period of 1 days)"
        );
    }
}
