//! `trustroot client` against the real Sigstore repositories, with the clock pinned by
//! faketime: from `1.root.json` through every root, to `trusted_root.json` and the npm
//! delegation's target; and refused, naming the role, one day past expiry.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{file_url, text, trustroot_at, unpack_fixtures};

/// The npm delegation's name, read from the top-level targets metadata.
fn delegated_role(published: &Path) -> String {
    let targets = std::fs::read_dir(published)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().ends_with(".targets.json"))
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(targets).unwrap()).unwrap();
    value["signed"]["delegations"]["roles"][0]["name"]
        .as_str()
        .unwrap()
        .to_string()
}

fn client_run(set: &str, time: &str) {
    let fixtures = unpack_fixtures();
    let published = fixtures.path().join(set).join("published");
    let work = tempfile::tempdir().unwrap();
    let metadata = work.path().join("metadata");
    let downloads = work.path().join("downloads");
    std::fs::create_dir_all(&metadata).unwrap();
    std::fs::create_dir_all(&downloads).unwrap();
    let root = published.join("1.root.json");
    let out = trustroot_at(
        time,
        &[
            "client",
            "--metadata-dir",
            metadata.to_str().unwrap(),
            "init",
            root.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "init failed: {}", text(&out));

    let npm_target = format!("{}/keys.json", delegated_role(&published));
    let metadata_url = file_url(&published);
    let targets_url = file_url(&published.join("targets"));
    let out = trustroot_at(
        time,
        &[
            "client",
            "--metadata-dir",
            metadata.to_str().unwrap(),
            "--metadata-url",
            &metadata_url,
            "--target-dir",
            downloads.to_str().unwrap(),
            "--target-base-url",
            &targets_url,
            "--target-name",
            "trusted_root.json",
            "--target-name",
            &npm_target,
            "download",
        ],
    );
    assert!(out.status.success(), "download failed: {}", text(&out));
    let source = fixtures.path().join(set).join("source");
    assert_eq!(
        std::fs::read(downloads.join("trusted_root.json")).unwrap(),
        std::fs::read(source.join("targets/trusted_root.json")).unwrap()
    );
    let encoded_npm = npm_target.replace('/', "%2F");
    assert_eq!(
        std::fs::read(downloads.join(encoded_npm)).unwrap(),
        std::fs::read(source.join("targets").join(&npm_target)).unwrap()
    );
    // What the client keeps is exactly the bytes the repository published.
    assert_eq!(
        std::fs::read(metadata.join("root.json")).unwrap(),
        std::fs::read(source.join("metadata/root.json")).unwrap()
    );
    assert_eq!(
        std::fs::read(metadata.join("timestamp.json")).unwrap(),
        std::fs::read(source.join("metadata/timestamp.json")).unwrap()
    );
    let mut stored: Vec<String> = std::fs::read_dir(&metadata)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    stored.sort();
    let mut expected = vec![
        "root.json".to_string(),
        "snapshot.json".into(),
        "targets.json".into(),
        "timestamp.json".into(),
        format!("{}.json", delegated_role(&published)),
    ];
    expected.sort();
    assert_eq!(stored, expected);

    // A second run finds everything cached and current.
    let out = trustroot_at(
        time,
        &[
            "client",
            "--metadata-dir",
            metadata.to_str().unwrap(),
            "--metadata-url",
            &metadata_url,
            "--target-dir",
            downloads.to_str().unwrap(),
            "--target-base-url",
            &targets_url,
            "--target-name",
            "trusted_root.json",
            "download",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("already downloaded and verified"), "{}", text(&out));
}

#[test]
fn client_downloads_trusted_root_from_sigstore_production() {
    client_run("sigstore-prod", "2026-08-22 00:00:00");
}

#[test]
fn client_downloads_trusted_root_from_sigstore_staging() {
    client_run("sigstore-staging", "2026-08-22 00:00:00");
}

#[test]
fn client_refreshes_sigstore_legacy_production() {
    let fixtures = unpack_fixtures();
    let published = fixtures.path().join("sigstore-prod-legacy/published");
    let metadata = tempfile::tempdir().unwrap();
    let dir = metadata.path().to_str().unwrap();
    let root = published.join("1.root.json");
    let time = "2024-09-05 00:00:00";
    assert!(
        trustroot_at(time, &["client", "--metadata-dir", dir, "init", root.to_str().unwrap()])
            .status
            .success()
    );
    let url = file_url(&published);
    let out = trustroot_at(
        time,
        &["client", "--metadata-dir", dir, "--metadata-url", &url, "refresh"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("root v9, timestamp v216"), "{}", text(&out));
}

#[test]
fn client_refuses_sigstore_production_one_day_after_timestamp_expiry() {
    let fixtures = unpack_fixtures();
    let published = fixtures.path().join("sigstore-prod/published");
    let metadata = tempfile::tempdir().unwrap();
    let dir = metadata.path().to_str().unwrap();
    let root = published.join("1.root.json");
    // timestamp v762 expires 2026-08-28T19:25:56Z.
    let time = "2026-08-29 19:26:00";
    assert!(
        trustroot_at(time, &["client", "--metadata-dir", dir, "init", root.to_str().unwrap()])
            .status
            .success()
    );
    let url = file_url(&published);
    let out = trustroot_at(
        time,
        &["client", "--metadata-dir", dir, "--metadata-url", &url, "refresh"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let message = text(&out);
    assert!(
        message.contains("timestamp v762") && message.contains("expired at 2026-08-28T19:25:56Z"),
        "{message}"
    );
    // The roots were valid and are kept; the expired timestamp is not.
    assert!(metadata.path().join("root.json").exists());
    assert!(!metadata.path().join("timestamp.json").exists());
}

#[test]
fn client_exits_1_on_usage_errors_and_unreadable_roots() {
    let out = common::trustroot(&["client", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(1));
    let metadata = tempfile::tempdir().unwrap();
    let bogus = metadata.path().join("bogus.json");
    std::fs::write(&bogus, b"{\"signed\": 1}").unwrap();
    let out = common::trustroot(&[
        "client",
        "--metadata-dir",
        metadata.path().to_str().unwrap(),
        "init",
        bogus.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("malformed"), "{}", text(&out));
    assert!(!metadata.path().join("root.json").exists());
}
