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
    let manifest = Manifest::read(&state.join("manifest.json"))?;
    let client = state.join("client");
    let mut roles = Vec::new();
    let mut expires_all = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&client)
        .map_err(|e| UpdateError::io(&client, e))?
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
        valid_until: earliest.map(|t| trustroot_core::time::format(&t)),
        syncs,
        syncs_unreadable,
    })
}
