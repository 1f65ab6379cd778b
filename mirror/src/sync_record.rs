//! What a mirror's syncs came to, kept across runs in `.trustroot-mirror/sync-record.json`:
//! when the last one succeeded, when the last one failed and why, and how many have
//! failed. `mirror serve --metrics` reports it (the last success, the failures counted),
//! so that a mirror whose syncs stopped working is seen before its metadata expires.
//!
//! A state's manifest already says when it was built, but a sync that finds the mirror
//! current builds no state: the manifest alone would make a healthy mirror of a quiet
//! repository look stale. So every sync that takes the mirror's lock ends by updating
//! this record, whatever its outcome. An import is a sync from a bundle: its success
//! counts as one, but its failure is not recorded, since a refused bundle must leave the
//! mirror exactly as it was. A sync that never took the lock (another one was running)
//! is not counted: it did not fail, it did not start.
//!
//! The record is replaced with `trustroot_store::write_atomic`, under the sync's lock. One
//! that cannot be read (edited by hand, damaged) is replaced by a fresh one, its count
//! starting again from 0, which Prometheus reads as a counter reset.

use std::io::Read as _;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::UpdateError;
use crate::layout::{MirrorDir, check_plain};

/// The largest record read: it holds two times, a count and one error message.
const MAX_RECORD_SIZE: u64 = 64 * 1024;
/// The longest error message kept.
const MAX_ERROR_CHARS: usize = 4096;
const FORMAT: u32 = 1;

/// The record as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRecord {
    pub format: u32,
    /// When the last sync that succeeded ran (RFC 3339), changed or not.
    pub last_success: Option<String>,
    /// When the last sync that failed ran (RFC 3339).
    pub last_failure: Option<String>,
    /// Why it failed, as the error was reported.
    pub last_error: Option<String>,
    /// Syncs that failed since the record began.
    pub failures_total: u64,
}

impl SyncRecord {
    /// The last success as a time, when there is one that parses.
    pub fn last_success_at(&self) -> Option<DateTime<Utc>> {
        self.last_success.as_deref().and_then(trustroot_core::time::parse)
    }
}

/// Reads the record of the mirror in `layout`: `None` when no sync has written one (a
/// mirror synced before syncs were recorded, or none at all).
pub fn read(layout: &MirrorDir) -> Result<Option<SyncRecord>, UpdateError> {
    let path = layout.sync_record();
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(UpdateError::io(&path, e)),
    };
    // Never through a planted symlink, and never more than a record's size.
    check_plain(&path, &meta)?;
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|file| file.take(MAX_RECORD_SIZE + 1).read_to_end(&mut bytes))
        .map_err(|e| UpdateError::io(&path, e))?;
    if bytes.len() as u64 > MAX_RECORD_SIZE {
        return Err(UpdateError::io(
            &path,
            std::io::Error::other(format!("larger than {MAX_RECORD_SIZE} bytes")),
        ));
    }
    let record: SyncRecord = serde_json::from_slice(&bytes).map_err(|source| UpdateError::SyncRecordUnreadable {
        path: path.clone(),
        source,
    })?;
    if record.format != FORMAT {
        return Err(UpdateError::SyncRecordUnreadable {
            path,
            source: serde::de::Error::custom(format!("format {} is not {FORMAT}", record.format)),
        });
    }
    Ok(Some(record))
}

/// Records a sync that succeeded at `at`.
pub(crate) fn success(layout: &MirrorDir, at: DateTime<Utc>) -> Result<(), UpdateError> {
    let mut record = previous(layout);
    record.last_success = Some(trustroot_core::time::format(&at));
    write(layout, &record)
}

/// Records a sync that failed at `at` with `error`.
pub(crate) fn failure(layout: &MirrorDir, at: DateTime<Utc>, error: &UpdateError) -> Result<(), UpdateError> {
    let mut record = previous(layout);
    record.last_failure = Some(trustroot_core::time::format(&at));
    record.last_error = Some(error.to_string().chars().take(MAX_ERROR_CHARS).collect());
    record.failures_total = record.failures_total.saturating_add(1);
    write(layout, &record)
}

/// The record to update: the stored one, or a fresh one when there is none or it cannot
/// be read (see the module documentation).
fn previous(layout: &MirrorDir) -> SyncRecord {
    read(layout).ok().flatten().unwrap_or_default()
}

fn write(layout: &MirrorDir, record: &SyncRecord) -> Result<(), UpdateError> {
    let path = layout.sync_record();
    let record = SyncRecord {
        format: FORMAT,
        ..record.clone()
    };
    let bytes = serde_json::to_vec_pretty(&record).map_err(|e| UpdateError::io(&path, e.into()))?;
    Ok(trustroot_store::write_atomic(&path, &bytes)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        trustroot_core::time::parse(text).unwrap()
    }

    fn mirror() -> (tempfile::TempDir, MirrorDir) {
        let dir = tempfile::tempdir().unwrap();
        let layout = MirrorDir::new(dir.path());
        std::fs::create_dir_all(layout.hidden()).unwrap();
        (dir, layout)
    }

    #[test]
    fn successes_and_failures_accumulate() {
        let (_dir, layout) = mirror();
        assert_eq!(read(&layout).unwrap(), None);
        success(&layout, at("2026-08-22T00:00:00Z")).unwrap();
        let error = UpdateError::NoTargetDir;
        failure(&layout, at("2026-08-22T01:00:00Z"), &error).unwrap();
        failure(&layout, at("2026-08-22T02:00:00Z"), &error).unwrap();
        let record = read(&layout).unwrap().unwrap();
        assert_eq!(record.last_success_at(), Some(at("2026-08-22T00:00:00Z")));
        assert_eq!(record.last_failure.as_deref(), Some("2026-08-22T02:00:00Z"));
        assert_eq!(record.last_error.as_deref(), Some("no target directory given"));
        assert_eq!(record.failures_total, 2);
    }

    #[test]
    fn a_damaged_record_is_reported_then_replaced() {
        let (_dir, layout) = mirror();
        std::fs::write(layout.sync_record(), b"{\"format\": 1, \"failures_total\": -1").unwrap();
        assert!(matches!(read(&layout), Err(UpdateError::SyncRecordUnreadable { .. })));
        failure(&layout, at("2026-08-22T01:00:00Z"), &UpdateError::NoTargetDir).unwrap();
        assert_eq!(read(&layout).unwrap().unwrap().failures_total, 1);
    }

    #[test]
    fn a_planted_symlink_is_not_followed() {
        let (dir, layout) = mirror();
        let elsewhere = dir.path().join("elsewhere.json");
        std::fs::write(&elsewhere, b"{}").unwrap();
        std::os::unix::fs::symlink(&elsewhere, layout.sync_record()).unwrap();
        assert!(read(&layout).is_err());
    }
}
