//! Issue 8's acceptance path on the real Sigstore production repository, clock pinned to
//! its reference time: mirror it, serve it with `trustroot mirror serve`, and let
//! `trustroot client`, python-tuf's ngclient, tuf-js and tough update from it and download
//! `trusted_root.json` and `signing_config.v0.2.json`; then export the mirror, import the
//! bundle into a second directory, serve that, and run the four clients again.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{Serving, file_url, ngclient, text, tough, trustroot_at, trustroot_client, tufjs, unpack_fixtures};

const TIME: &str = "2026-08-22 00:00:00";
const WANTED: [&str; 2] = ["trusted_root.json", "signing_config.v0.2.json"];

/// Every client updates from the served mirror and downloads both payloads, each
/// starting from the oldest Sigstore root it can read (see cli/tests/interop_clients.rs:
/// python-tuf cannot parse roots 1-4, tough rejects roots 1-11).
fn every_client_accepts(served_dir: &Path, roots: &Path, context: &str) {
    let mut server = Serving::start(
        served_dir,
        &served_dir.parent().unwrap().join(format!("{context}.access.log")),
    );
    let url = server.url.clone();
    let targets = format!("{url}targets/");
    let root = |v: u32| roots.join(format!("{v}.root.json"));
    let runs = [
        (
            "trustroot client",
            trustroot_client(Some(TIME), &root(1), &url, &targets, &WANTED),
        ),
        ("python-tuf", ngclient(Some(TIME), &root(5), &url, &targets, &WANTED)),
        ("tuf-js", tufjs(Some(TIME), &root(1), &url, &targets, &WANTED)),
        ("tough", tough(Some(TIME), &root(12), &url, &targets, &WANTED)),
    ];
    for (client, out) in runs {
        assert!(out.status.success(), "{context}: {client} failed: {}", text(&out));
    }
    assert!(server.stop("TERM").success());
}

#[test]
fn sigstore_production_served_exported_imported_and_served_again_to_every_client() {
    let fixtures = unpack_fixtures();
    let published = fixtures.path().join("sigstore-prod/published");
    let work = tempfile::tempdir().unwrap();
    let first = work.path().join("connected");
    let root1 = published.join("1.root.json");
    let out = trustroot_at(
        TIME,
        &[
            "mirror",
            "sync",
            first.to_str().unwrap(),
            "--from",
            &file_url(&published),
            "--root",
            root1.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    every_client_accepts(&first, &published, "connected side");

    let bundle = work.path().join("sigstore.tar.zst");
    let out = trustroot_at(
        TIME,
        &[
            "mirror",
            "export",
            first.to_str().unwrap(),
            "--out",
            bundle.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));

    let second = work.path().join("isolated");
    let out = trustroot_at(
        TIME,
        &[
            "mirror",
            "import",
            second.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
            "--root",
            root1.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = trustroot_at(TIME, &["mirror", "verify", second.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    every_client_accepts(&second, &published, "isolated side");
}
