//! `trustroot export OUT --layout tuf-on-ci`: the way back to tuf-on-ci. An imported
//! repository exports to its source byte for byte; what python-tuf's Metadata API reads
//! back keeps every custom field; an open round is exported as tuf-on-ci's signing event
//! holds it (`"sig": ""` for each keyholder who has not signed); a trustroot-native
//! repository is exported with a warning for what tuf-on-ci would need.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;
mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{files, python, text, trustroot, unpack_fixtures};

fn ok(args: &[&str]) -> String {
    let out = trustroot(args);
    assert!(out.status.success(), "trustroot {args:?}: {}", text(&out));
    text(&out)
}

/// The strongest lossless check: Sigstore's production checkout, imported then exported,
/// is the checkout again, byte for byte.
#[test]
fn sigstore_production_exports_back_to_its_checkout_byte_for_byte() {
    let fixtures = unpack_fixtures();
    let source = fixtures.path().join("sigstore-prod/source");
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    let out = work.path().join("out");
    let at = "2026-08-22T00:00:00Z";
    ok(&[
        "init",
        repo.to_str().unwrap(),
        "--import",
        source.to_str().unwrap(),
        "--at",
        at,
    ]);
    ok(&[
        "export",
        out.to_str().unwrap(),
        "--layout",
        "tuf-on-ci",
        "--repo",
        repo.to_str().unwrap(),
        "--at",
        at,
    ]);
    assert_eq!(files(&out.join("metadata")), files(&source.join("metadata")));
    assert_eq!(files(&out.join("targets")), files(&source.join("targets")));
}

/// A tuf-on-ci-shaped repository, imported and exported: python-tuf's Metadata API reads
/// every file, writes each back to the same bytes, and finds every custom field.
#[test]
fn an_exported_repository_reads_back_in_python_tuf_with_every_custom_field() {
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("source");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/tuf_on_ci_shaped.py");
    let made = Command::new(python())
        .arg(script)
        .arg(&source)
        .args(["--time", "2026-12-01T00:00:00Z"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    let repo = work.path().join("repo");
    let out = work.path().join("out");
    let at = "2026-12-02T00:00:00Z";
    ok(&[
        "init",
        repo.to_str().unwrap(),
        "--import",
        source.to_str().unwrap(),
        "--at",
        at,
    ]);
    ok(&[
        "export",
        out.to_str().unwrap(),
        "--layout",
        "tuf-on-ci",
        "--repo",
        repo.to_str().unwrap(),
    ]);
    assert_eq!(files(&out.join("metadata")), files(&source.join("metadata")));

    let reader = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/read_tuf_on_ci.py");
    let read = Command::new(python()).arg(reader).arg(&out).output().unwrap();
    assert!(read.status.success(), "python-tuf: {}", text(&read));
    let fields: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    let root = fields["root.json"].as_object().unwrap();
    assert_eq!(root["roles.root.x-tufrepo-note"], "root's role entry");
    assert_eq!(root["x-tuf-on-ci-expiry-period"], 365);
    assert!(
        root.keys()
            .any(|k| k.ends_with("x-tufrepo-note") && k.starts_with("keys."))
    );
    assert!(root.keys().any(|k| k.ends_with("x-tuf-on-ci-online-uri")));
    assert_eq!(fields["targets.json"]["x-tufrepo-note"], "targets' own field");
    assert_eq!(fields["team.json"]["x-tuf-on-ci-expiry-period"], 365);
}

/// An open round is exported as a signing event: the staged role with the one signature
/// collected and a placeholder for each keyholder still to sign; root history, snapshot and
/// timestamp as published.
#[test]
fn an_open_round_exports_with_placeholders_for_keyholders_who_have_not_signed() {
    let setup = published();
    let repo = setup.repo.to_str().unwrap();
    fs::write(setup.repo.join("targets/new.txt"), b"a new target\n").unwrap();
    let round = setup.start_now();
    setup.sign_round(round.clone(), &["alice"]);

    let out = setup.tmp.path().join("out");
    let said = ok(&["export", out.to_str().unwrap(), "--layout", "tuf-on-ci", "--repo", repo]);
    assert!(said.contains(&format!("round {round}")), "{said}");
    let targets: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("metadata/targets.json")).unwrap()).unwrap();
    assert_eq!(targets["signed"]["version"], 2);
    let sigs = targets["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 3, "alice's signature and two placeholders: {sigs:?}");
    assert_eq!(sigs.iter().filter(|s| s["sig"] == "").count(), 2);
    for role in ["snapshot.json", "timestamp.json", "root.json"] {
        assert_eq!(
            fs::read(out.join("metadata").join(role)).unwrap(),
            fs::read(setup.repo.join("metadata").join(role)).unwrap(),
            "{role} stays the published one"
        );
    }
    assert_eq!(fs::read(out.join("targets/new.txt")).unwrap(), b"a new target\n");
}

/// A trustroot-native repository's online key has no x-tuf-on-ci-online-uri: the export
/// says tuf-on-ci could not sign with it.
#[test]
fn exporting_a_native_repository_warns_what_tuf_on_ci_would_need() {
    let setup = published();
    let out = setup.tmp.path().join("out");
    let said = ok(&[
        "export",
        out.to_str().unwrap(),
        "--layout",
        "tuf-on-ci",
        "--repo",
        setup.repo.to_str().unwrap(),
    ]);
    assert!(
        said.contains("x-tuf-on-ci-online-uri: tuf-on-ci cannot sign with it"),
        "{said}"
    );
    // OUT must be new or empty: a second export into it is refused, and changes nothing.
    let before = files(&out);
    let again = trustroot(&[
        "export",
        out.to_str().unwrap(),
        "--layout",
        "tuf-on-ci",
        "--repo",
        setup.repo.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert_eq!(files(&out), before);
}

/// A native repository (2-of-3 root and targets, an online key), published once.
fn published() -> ceremony_common::Setup {
    let setup = ceremony_common::Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    setup
}
