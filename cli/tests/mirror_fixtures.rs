//! `trustroot mirror` run as a user would, on the real Sigstore repositories served on
//! 127.0.0.1, the clock pinned by faketime; what it serves is then accepted by
//! `trustroot client` and python-tuf's ngclient.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{file_url, ngclient, text, trustroot_at, trustroot_client, unpack_fixtures};
use trustroot_test_support::SimServer;

const TIME: &str = "2026-08-22 00:00:00";

#[test]
fn mirror_of_sigstore_production_serves_python_tuf_and_trustroot_clients() {
    let fixtures = unpack_fixtures();
    let published = fixtures.path().join("sigstore-prod/published");
    let origin = SimServer::serve_dir(&published);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("mirror");
    let root = published.join("1.root.json");
    let out = trustroot_at(
        TIME,
        &[
            "mirror",
            "sync",
            dir.to_str().unwrap(),
            "--from",
            &origin.base_url(),
            "--root",
            root.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["after"]["root"], 15);
    assert_eq!(summary["changed"], true);

    let out = trustroot_at(TIME, &["mirror", "verify", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("verified: no problems"), "{}", text(&out));

    let out = trustroot_at(TIME, &["mirror", "status", dir.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["valid_until"], "2026-08-28T19:25:56Z");
    assert_eq!(status["roles"][1]["role"], "timestamp");
    // `trustroot expiry` reads the mirror the same way: the earliest expiry is the mirror's
    // valid_until, and once it passes, the exit code is 3.
    let out = trustroot_at(
        TIME,
        &[
            "expiry",
            dir.to_str().unwrap(),
            "--at",
            "2026-08-22T00:00:00Z",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let expiry: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(expiry["earliest"]["expires"], status["valid_until"]);
    assert_eq!(
        expiry["roles"].as_array().unwrap().len(),
        status["roles"].as_array().unwrap().len()
    );
    let out = trustroot_at(TIME, &["expiry", dir.to_str().unwrap(), "--at", "2026-08-29T00:00:00Z"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));

    // Clients of the mirror: trustroot over file:// and over HTTP, python-tuf over HTTP.
    let served = dir.join("repository");
    let mirror_server = SimServer::serve_dir(&served);
    let npm = {
        let targets: serde_json::Value =
            serde_json::from_slice(&std::fs::read(served.join("14.targets.json")).unwrap()).unwrap();
        format!(
            "{}/keys.json",
            targets["signed"]["delegations"]["roles"][0]["name"].as_str().unwrap()
        )
    };
    let wanted = ["trusted_root.json", "signing_config.v0.2.json", npm.as_str()];
    let targets_url = format!("{}targets/", mirror_server.base_url());
    let out = trustroot_client(
        Some(TIME),
        &root,
        &file_url(&served),
        &file_url(&served.join("targets")),
        &wanted,
    );
    assert!(out.status.success(), "trustroot client over file://: {}", text(&out));
    let out = trustroot_client(Some(TIME), &root, &mirror_server.base_url(), &targets_url, &wanted);
    assert!(out.status.success(), "trustroot client over HTTP: {}", text(&out));
    // python-tuf cannot read the `expires` forms of Sigstore's roots 1 to 3 (offsets,
    // nanoseconds): like Sigstore's own client tests, it starts from root v5.
    let root5 = served.join("5.root.json");
    let out = ngclient(Some(TIME), &root5, &mirror_server.base_url(), &targets_url, &wanted);
    assert!(out.status.success(), "python-tuf ngclient: {}", text(&out));
    assert!(text(&out).contains("root v15"), "{}", text(&out));
}

#[test]
fn mirror_verify_lists_a_tampered_target_and_exits_1() {
    let fixtures = unpack_fixtures();
    let published = fixtures.path().join("sigstore-prod/published");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("mirror");
    let root = published.join("1.root.json");
    let out = trustroot_at(
        TIME,
        &[
            "mirror",
            "sync",
            dir.to_str().unwrap(),
            "--from",
            &file_url(&published),
            "--root",
            root.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let target = std::fs::read_dir(dir.join("repository/targets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("trusted_root.json"))
        .unwrap();
    let mut bytes = std::fs::read(&target).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&target, bytes).unwrap();
    let out = trustroot_at(TIME, &["mirror", "verify", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("trusted_root.json: length or hash differs"),
        "{}",
        text(&out)
    );
}

#[test]
fn mirror_verify_one_day_after_expiry_names_the_role() {
    let fixtures = unpack_fixtures();
    let published = fixtures.path().join("sigstore-prod/published");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("mirror");
    let root = published.join("1.root.json");
    let from = file_url(&published);
    let out = trustroot_at(
        TIME,
        &[
            "mirror",
            "sync",
            dir.to_str().unwrap(),
            "--from",
            &from,
            "--root",
            root.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = trustroot_at("2026-08-29 20:00:00", &["mirror", "verify", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("timestamp v762: expired at 2026-08-28T19:25:56Z"),
        "{}",
        text(&out)
    );
}
