//! `mirror status`: what a mirror holds, from where, since when, and when each role
//! expires, so a site sees in advance when its clients will start failing.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;
use trustroot_core::expiry::State;
use trustroot_core::{Envelope, Limits};

use crate::error::UpdateError;
use crate::layout::MirrorDir;
use crate::manifest::{Manifest, Origin};
use crate::sync_record::SyncRecord;

#[derive(Debug, Clone, Serialize)]
pub struct RoleStatus {
    pub role: String,
    pub version: u64,
    #[serde(serialize_with = "trustroot_core::time::serialize")]
    pub expires: DateTime<Utc>,
    pub expired: bool,
    /// Whole hours left before expiry (negative once expired).
    pub hours_left: i64,
    /// Where it stands, with the signing period its metadata declares
    /// (`x-tuf-on-ci-signing-period`) as the window: `Within` means a new version is due
    /// from the signing repository. With no declared period, only `Valid` or `Expired`.
    #[serde(skip)]
    pub state: State,
    /// The signing period its metadata declares, in days.
    #[serde(skip)]
    pub signing_days: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MirrorStatus {
    pub served: String,
    pub state: u64,
    pub origin: Origin,
    pub synced_at: String,
    pub files: u64,
    pub bytes: u64,
    pub roles: Vec<RoleStatus>,
    /// The earliest expiry: after it, clients of this mirror fail until the next sync.
    pub valid_until: Option<String>,
    /// What the syncs came to ([`crate::sync_record`]); `None` before the first recorded.
    pub syncs: Option<SyncRecord>,
    /// Why the record of syncs cannot be read, when it cannot: the status is reported all
    /// the same (the next sync replaces the record).
    pub syncs_unreadable: Option<String>,
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Reads the status of the mirror in `dir` as of `now`.
pub fn status(dir: &Path, now: DateTime<Utc>) -> Result<MirrorStatus, UpdateError> {
    let layout = MirrorDir::new(dir);
    let n = layout
        .current()?
        .ok_or_else(|| UpdateError::NothingMirrored { dir: dir.to_path_buf() })?;
    let state = layout.state(n);
    let manifest = Manifest::read_state(&state)?;
    let (roles, valid_until) = roles(&state.join("client"), now)?;
    let (syncs, syncs_unreadable) = match crate::sync_record::read(&layout) {
        Ok(record) => (record, None),
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(MirrorStatus {
        served: layout.served().display().to_string(),
        state: n,
        origin: manifest.origin,
        synced_at: manifest.synced_at,
        files: manifest.files.len() as u64,
        bytes: manifest.files.values().map(|f| f.size).sum(),
        roles,
        valid_until,
        syncs,
        syncs_unreadable,
    })
}

/// Each role's version and expiry in a client's trusted metadata directory (`root.json`,
/// `timestamp.json`, ..., delegated roles percent-encoded), top-level roles first, and
/// the earliest expiry.
fn roles(client: &Path, now: DateTime<Utc>) -> Result<(Vec<RoleStatus>, Option<String>), UpdateError> {
    let mut roles = Vec::new();
    let mut expires_all = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(client)
        .map_err(|e| UpdateError::io(client, e))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = file.strip_suffix(".json") else {
            continue;
        };
        let role = percent_decode(stem);
        let bytes = std::fs::read(entry.path()).map_err(|e| UpdateError::io(entry.path(), e))?;
        let envelope = Envelope::parse(&role, &bytes, &Limits::default())?;
        let version = envelope.version().unwrap_or(0);
        let Some(expires) = envelope
            .signed
            .get("expires")
            .and_then(|v| v.as_str())
            .and_then(trustroot_core::time::parse)
        else {
            continue;
        };
        expires_all.push((expires, chrono::Duration::zero()));
        let signing_days = trustroot_core::expiry::declared_signing_days(&envelope.signed);
        let signing_period = signing_days.map_or(chrono::Duration::zero(), |d| chrono::Duration::days(i64::from(d)));
        let state = State::of(expires, now, signing_period);
        roles.push(RoleStatus {
            role,
            version,
            expires,
            expired: state == State::Expired,
            hours_left: (expires - now).num_hours(),
            state,
            signing_days,
        });
    }
    let earliest = trustroot_core::expiry::summarize(&expires_all, now)
        .earliest
        .map(|(_, at)| at);
    let order = |r: &RoleStatus| match r.role.as_str() {
        "root" => 0,
        "timestamp" => 1,
        "snapshot" => 2,
        "targets" => 3,
        _ => 4,
    };
    roles.sort_by(|a, b| order(a).cmp(&order(b)).then(a.role.cmp(&b.role)));
    Ok((roles, earliest.map(|t| trustroot_core::time::format(&t))))
}

/// What a repository served at a URL holds (`mirror status URL --root FILE`): verified
/// from the pinned root, as a client reads it.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteStatus {
    pub served: String,
    pub roles: Vec<RoleStatus>,
    /// The earliest expiry: after it, clients fail until the repository is pushed again.
    pub valid_until: Option<String>,
    /// For a store URL: what the push manifest beside the prefix records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<PushRecord>,
    /// For a store URL: why the push manifest cannot be read, when it cannot (the roles
    /// are shown all the same: they were verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push_unreadable: Option<String>,
}

/// The last push into a store, as its manifest records it. Unsigned: anyone who can write
/// the bucket can write it, so it is shown, never trusted for the roles.
#[derive(Debug, Clone, Serialize)]
pub struct PushRecord {
    pub pushed_at: String,
    pub generation: u64,
    /// False while a push is under way, or after one stopped before `timestamp.json`.
    pub complete: bool,
    pub objects: u64,
    /// Objects no longer served but kept for the grace period.
    pub superseded: u64,
}

/// The push manifest beside the prefix `remote` reads through its store, if it does.
async fn push_record(remote: &crate::remote::Remote) -> (Option<PushRecord>, Option<String>) {
    use trustroot_store::object::Backend as _;
    use trustroot_store::object::manifest::{MAX_MANIFEST, Manifest, State};
    let Some(backend) = remote.fetcher.store() else {
        return (None, None);
    };
    let manifest = match backend.get_manifest(MAX_MANIFEST).await {
        Ok(Some((bytes, _))) => Manifest::parse(&bytes),
        Ok(None) => Err("none beside the prefix: nothing was pushed here by trustroot".to_string()),
        Err(e) => Err(e.to_string()),
    };
    match manifest {
        Ok(m) => (
            Some(PushRecord {
                pushed_at: trustroot_core::time::format(&m.pushed_at),
                generation: m.generation,
                complete: m.state == State::Complete,
                objects: m.objects.len() as u64,
                superseded: m.superseded.len() as u64,
            }),
            None,
        ),
        Err(problem) => (None, Some(format!("{}: {problem}", backend.manifest_name()))),
    }
}

/// Reads the status of the repository `remote` serves as of `now`, its metadata verified
/// from `root` (an error when it does not verify: the roles shown would be unverified).
pub async fn status_remote(
    remote: &crate::remote::Remote,
    root: Vec<u8>,
    now: DateTime<Utc>,
    limits: Limits,
    sigstore: Option<std::sync::Arc<trustroot_core::keyless::SigstoreTrust>>,
) -> Result<RemoteStatus, UpdateError> {
    let scratch = tempfile::tempdir().map_err(|e| UpdateError::io(std::env::temp_dir(), e))?;
    crate::verify::load_verified(
        scratch.path(),
        remote.base.clone(),
        remote.fetcher.clone(),
        crate::verify::Pinned { root, sigstore },
        now,
        limits,
        None,
    )
    .await?;
    let (roles, valid_until) = roles(scratch.path(), now)?;
    let (push, push_unreadable) = push_record(remote).await;
    Ok(RemoteStatus {
        served: remote.base.to_string(),
        roles,
        valid_until,
        push,
        push_unreadable,
    })
}
