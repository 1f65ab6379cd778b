//! The real Sigstore repositories (production, staging, legacy production) verify end to
//! end with the core alone, at their reference times, starting from `1.root.json`; and the
//! same data one day past its first expiry is refused, naming the role.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use common::{at, unpack};
use trustroot_core::hashes::verify_bytes;
use trustroot_core::{ErrorKind, Limits, TargetSearch, TrustedSet, role_name, target_path};

/// Walks a published repository the way a client does, reading files instead of URLs.
/// Returns the trusted set and the bytes of `trusted_root.json`.
fn walk(published: &Path, now: DateTime<Utc>) -> Result<(TrustedSet, Vec<u8>), trustroot_core::Error> {
    let read = |name: &str| std::fs::read(published.join(name)).ok();
    let mut trusted = TrustedSet::new(&read("1.root.json").unwrap(), now, Limits::default())?;
    loop {
        let next = trusted.root().signed().common.version + 1;
        match read(&format!("{next}.root.json")) {
            Some(bytes) => {
                trusted.update_root(&bytes)?;
            }
            None => break,
        }
    }
    trusted.update_timestamp(&read("timestamp.json").unwrap())?;
    let consistent = trusted.consistent_snapshot();
    let version_of = |meta_version: u64| consistent.then_some(meta_version);
    let snapshot_version = trusted.final_timestamp_snapshot_meta()?.version;
    let name = role_name::metadata_file_name("snapshot", version_of(snapshot_version));
    trusted.update_snapshot(&read(&name).unwrap(), false)?;
    let targets_version = trusted.snapshot_meta("targets")?.version;
    let name = role_name::metadata_file_name("targets", version_of(targets_version));
    trusted.update_targets(&read(&name).unwrap())?;
    // Every delegated role of the top-level targets (the npm delegation).
    let delegated: Vec<String> = trusted
        .targets("targets")
        .and_then(|t| t.signed().delegations.as_ref())
        .and_then(|d| d.roles.as_ref())
        .map(|roles| roles.iter().map(|r| r.name.clone()).collect())
        .unwrap_or_default();
    assert!(!delegated.is_empty(), "the npm delegation is missing");
    for role in delegated {
        let version = trusted.snapshot_meta(&role)?.version;
        let name = role_name::metadata_file_name(&role, version_of(version));
        trusted.update_delegated_targets(&read(&name).unwrap(), &role, "targets")?;
    }
    // Find and check trusted_root.json through the delegation search.
    let mut search = TargetSearch::new("trusted_root.json", Limits::default().max_delegations);
    let mut found = None;
    while let Some(role) = search.next_role() {
        let targets = &trusted.targets(&role.name).unwrap().signed();
        if let Some(target) = search.visit(&role, targets) {
            found = Some(target);
            break;
        }
    }
    let target = found.expect("trusted_root.json is not a target");
    let sha256 = &target.hashes["sha256"];
    let file = if consistent {
        target_path::consistent_name("trusted_root.json", sha256)
    } else {
        "trusted_root.json".to_string()
    };
    let bytes = std::fs::read(published.join("targets").join(file)).unwrap();
    verify_bytes("trusted_root.json", &bytes, Some(target.length), Some(&target.hashes))?;
    Ok((trusted, bytes))
}

fn published(dir: &tempfile::TempDir, set: &str) -> PathBuf {
    dir.path().join(set).join("published")
}

#[test]
fn sigstore_production_verifies_from_root_1() {
    let dir = unpack();
    let (trusted, trusted_root) = walk(&published(&dir, "sigstore-prod"), at("2026-08-22T00:00:00Z")).unwrap();
    assert_eq!(trusted.root().signed().common.version, 15);
    assert_eq!(trusted.root_updates(), 14);
    assert_eq!(trusted.timestamp().unwrap().signed().common.version, 762);
    assert_eq!(trusted.snapshot().unwrap().signed().common.version, 165);
    assert_eq!(trusted.targets("targets").unwrap().signed().common.version, 14);
    assert_eq!(trusted.all_targets().len(), 2);
    assert!(trusted_root.starts_with(b"{"));
}

#[test]
fn sigstore_staging_verifies_from_root_1() {
    let dir = unpack();
    let (trusted, _) = walk(&published(&dir, "sigstore-staging"), at("2026-08-22T00:00:00Z")).unwrap();
    assert_eq!(trusted.root().signed().common.version, 14);
    assert_eq!(trusted.timestamp().unwrap().signed().common.version, 703);
}

#[test]
fn sigstore_legacy_production_verifies_from_root_1() {
    let dir = unpack();
    let (trusted, _) = walk(&published(&dir, "sigstore-prod-legacy"), at("2024-09-05T00:00:00Z")).unwrap();
    assert_eq!(trusted.root().signed().common.version, 9);
    assert_eq!(trusted.timestamp().unwrap().signed().common.version, 216);
}

#[test]
fn sigstore_production_one_day_past_timestamp_expiry_is_refused() {
    let dir = unpack();
    // timestamp v762 expires 2026-08-28T19:25:56Z.
    let now = at("2026-08-28T19:25:56Z") + Duration::days(1);
    let error = walk(&published(&dir, "sigstore-prod"), now).unwrap_err();
    assert_eq!(error.role, "timestamp");
    assert_eq!(error.version, Some(762));
    assert!(matches!(error.kind, ErrorKind::Expired { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("timestamp v762") && message.contains("2026-08-28T19:25:56Z"),
        "{message}"
    );
}

#[test]
fn sigstore_production_past_root_expiry_names_the_root() {
    let dir = unpack();
    // root v15 expires 2026-11-20.
    let now = at("2026-11-21T00:00:00Z");
    let error = walk(&published(&dir, "sigstore-prod"), now).unwrap_err();
    assert_eq!((error.role.as_str(), error.version), ("root", Some(15)));
    assert!(error.is_expired(), "{error}");
}

#[test]
fn sigstore_staging_and_legacy_one_day_past_expiry_are_refused() {
    let dir = unpack();
    let error = walk(&published(&dir, "sigstore-staging"), at("2026-08-29T19:24:00Z")).unwrap_err();
    assert_eq!((error.role.as_str(), error.version), ("timestamp", Some(703)));
    let error = walk(&published(&dir, "sigstore-prod-legacy"), at("2024-09-07T16:06:00Z")).unwrap_err();
    assert_eq!((error.role.as_str(), error.version), ("timestamp", Some(216)));
    assert!(error.is_expired());
}
