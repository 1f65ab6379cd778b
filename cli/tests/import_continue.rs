//! A tuf-on-ci-shaped repository (tests/interop/tuf_on_ci_shaped.py: keyowners, periods, a
//! delegation, a `"sig": ""` placeholder, an online key URI, custom fields at every level)
//! is imported, taken through two ceremonies and a root rotation, refreshed online and
//! published; after each publish python-tuf, tuf-js, tough and trustroot's client accept it
//! from its root v1, and every custom field is still there. Then it goes back to
//! tuf-on-ci's layout, which python-tuf reads with every custom field intact.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;
mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use ceremony_common::{Setup, ok};
use trustroot_test_support::SimServer;

/// The imported repository, as a [`Setup`] whose keys are the generator's private keys.
fn imported(extra: &[&str]) -> (Setup, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("source");
    // Made an hour ago, so that the gate's tough (which reads the wall clock) and every
    // client see valid metadata now.
    let made_at = (chrono::Utc::now() - chrono::Duration::hours(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/tuf_on_ci_shaped.py");
    let out = Command::new(common::python())
        .arg(script)
        .arg(&source)
        .args(["--time", &made_at])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::text(&out));
    let repo = tmp.path().join("repo");
    ok(
        tmp.path(),
        &["init", repo.to_str().unwrap(), "--import", source.to_str().unwrap()],
    );
    // The online key is configured: its URI names a cloud key; the test signs with its file.
    let policy_path = repo.join("trustroot.toml");
    let policy = fs::read_to_string(&policy_path).unwrap();
    let start = policy.find("\nsigner = ").unwrap() + 1;
    let end = start + policy[start..].find('\n').unwrap();
    let online = source.join("private/online.pem");
    let policy = format!(
        "{}signer = \"{}\"{}",
        &policy[..start],
        online.display(),
        &policy[end..]
    );
    fs::write(&policy_path, policy).unwrap();
    let keys = source.join("private");
    (Setup { tmp, repo, keys }, source)
}

/// Every client, from root v1 of the published tree, downloads `names`.
fn every_client_accepts(setup: &Setup, source: &Path, names: &[&str]) {
    let served = setup.served();
    let server = SimServer::serve_dir(&served);
    let root = source.join("metadata/root_history/1.root.json");
    let (metadata_url, targets_url) = (server.base_url(), format!("{}targets/", server.base_url()));
    for (client, out) in [
        (
            "trustroot client",
            common::trustroot_client(None, &root, &metadata_url, &targets_url, names),
        ),
        (
            "python-tuf",
            common::ngclient(None, &root, &metadata_url, &targets_url, names),
        ),
        ("tuf-js", common::tufjs(None, &root, &metadata_url, &targets_url, names)),
        ("tough", common::tough(None, &root, &metadata_url, &targets_url, names)),
    ] {
        assert!(out.status.success(), "{client}:\n{}", common::text(&out));
    }
    // And a mirror follows it (one mirror directory, synced again after each publish).
    let mirror = setup.tmp.path().join("mirror");
    let metadata_url = common::file_url(&served);
    let synced = ceremony_common::trustroot(
        setup.tmp.path(),
        &[
            "mirror",
            "sync",
            mirror.to_str().unwrap(),
            "--from",
            &metadata_url,
            "--root",
            root.to_str().unwrap(),
        ],
    );
    assert!(synced.status.success(), "mirror sync:\n{}", common::text(&synced));
}

fn signed(path: &Path) -> serde_json::Value {
    let value: serde_json::Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    value["signed"].clone()
}

#[test]
fn an_imported_tuf_on_ci_repository_goes_through_two_ceremonies_and_a_rotation() {
    let (setup, source) = imported(&[]);
    let repo = &setup.repo;

    // Nothing changed: nothing to stage.
    let quiet = ok(repo, &["ceremony", "start"]);
    assert!(quiet.contains("Nothing to stage"), "{quiet}");

    // Ceremony 1: a new file for the team, signed by dave (the delegation's 1 of 1).
    fs::write(repo.join("targets/team/b.txt"), b"a second team file\n").unwrap();
    let round = setup.start_now();
    let status = setup.status_json();
    let staged: Vec<&str> = status["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert_eq!(staged, ["team"], "only the delegation changed: {status}");
    setup.sign_round(round, &["dave"]);
    setup.publish();
    ok(repo, &["online", "refresh", "--force"]);
    every_client_accepts(&setup, &source, &["hello.txt", "team/a.txt", "team/b.txt"]);

    // Ceremony 2: root renewed although nothing in it changed, signed 2 of 3.
    let round = setup.start_now_with(&["--role", "root"]);
    setup.sign_round(round, &["alice", "bob"]);
    setup.publish();
    let root = signed(&repo.join("metadata/root.json"));
    assert_eq!(root["version"], 3);
    let v2 = signed(&source.join("metadata/root_history/2.root.json"));
    let mut renewed = root.clone();
    renewed["version"] = v2["version"].clone();
    renewed["expires"] = v2["expires"].clone();
    assert_eq!(renewed, v2, "root v3 differs from v2 only in version and expires");
    every_client_accepts(&setup, &source, &["hello.txt", "team/b.txt"]);

    // A rotation: carol (who never signed v2) leaves root; 2 of 2 from now on, signed by the
    // old root's threshold and the new one's.
    ok(repo, &["key", "remove", "carol", "--role", "root"]);
    let round = setup.start_now();
    setup.sign_round(round, &["alice", "bob"]);
    setup.publish();
    let root = signed(&repo.join("metadata/root.json"));
    assert_eq!(root["version"], 4);
    assert_eq!(root["roles"]["root"]["keyids"].as_array().unwrap().len(), 2);
    every_client_accepts(&setup, &source, &["hello.txt", "team/a.txt", "team/b.txt"]);

    // Every custom field is still there.
    assert_eq!(root["roles"]["root"]["x-tufrepo-note"], "root's role entry");
    assert!(
        root["keys"]
            .as_object()
            .unwrap()
            .values()
            .any(|k| k["x-tufrepo-note"] == "bob's key, carried by every tool"),
        "{root}"
    );
    assert_eq!(root["x-tuf-on-ci-expiry-period"], 365);
    let targets = signed(&repo.join("metadata/targets.json"));
    assert_eq!(targets["x-tufrepo-note"], "targets' own field");
    assert_eq!(
        signed(&repo.join("metadata/team.json"))["x-tuf-on-ci-expiry-period"],
        365
    );

    // And back to tuf-on-ci's layout, read by python-tuf with every custom field.
    let out = setup.tmp.path().join("back");
    ok(repo, &["export", out.to_str().unwrap(), "--layout", "tuf-on-ci"]);
    let reader = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/read_tuf_on_ci.py");
    let read = Command::new(common::python()).arg(reader).arg(&out).output().unwrap();
    assert!(read.status.success(), "python-tuf: {}", common::text(&read));
    let fields: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(fields["root.json"]["roles.root.x-tufrepo-note"], "root's role entry");
    assert_eq!(
        fields["root_history/4.root.json"]["roles.root.x-tufrepo-note"],
        "root's role entry"
    );
    assert_eq!(fields["targets.json"]["x-tufrepo-note"], "targets' own field");
}

/// A field inside a delegation entry (tuf-on-ci writes none, other tools do): tough drops
/// it and then refuses the role. The gate names that (`tough-delegation-fields`) and
/// refuses the publish until the policy accepts it; then python-tuf, tuf-js and
/// trustroot's client accept the repository while tough refuses it, as the finding said.
#[test]
fn a_field_inside_a_delegation_entry_is_published_only_once_accepted() {
    let (setup, source) = imported(&["--delegation-entry-field"]);
    let repo = &setup.repo;
    fs::write(repo.join("targets/team/b.txt"), b"a second team file\n").unwrap();
    let round = setup.start_now();
    setup.sign_round(round, &["dave"]);
    let refused = ceremony_common::trustroot(repo, &["ceremony", "publish"]);
    assert_eq!(refused.status.code(), Some(1), "{}", common::text(&refused));
    assert!(
        common::text(&refused).contains("tough-delegation-fields"),
        "{}",
        common::text(&refused)
    );

    let policy_path = repo.join("trustroot.toml");
    let policy = fs::read_to_string(&policy_path).unwrap();
    assert!(
        policy.contains("# accept = [\"tough-delegation-fields\"]"),
        "predicted by the import: {policy}"
    );
    fs::write(&policy_path, policy.replace("# accept = [", "accept = [")).unwrap();
    let published = setup.publish();
    assert!(published.contains("accepted by [gate] accept"), "{published}");
    let targets = signed(&repo.join("metadata/targets.json"));
    assert_eq!(
        targets["delegations"]["roles"][0]["x-tufrepo-note"],
        "inside the delegation entry"
    );

    let served = setup.served();
    let server = SimServer::serve_dir(&served);
    let root = source.join("metadata/root_history/1.root.json");
    let (metadata_url, targets_url) = (server.base_url(), format!("{}targets/", server.base_url()));
    let names = ["hello.txt", "team/b.txt"];
    for (client, out) in [
        (
            "trustroot client",
            common::trustroot_client(None, &root, &metadata_url, &targets_url, &names),
        ),
        (
            "python-tuf",
            common::ngclient(None, &root, &metadata_url, &targets_url, &names),
        ),
        (
            "tuf-js",
            common::tufjs(None, &root, &metadata_url, &targets_url, &names),
        ),
    ] {
        assert!(out.status.success(), "{client}:\n{}", common::text(&out));
    }
    let tough = common::tough(None, &root, &metadata_url, &targets_url, &names);
    assert!(
        !tough.status.success(),
        "tough reads fields inside delegation entries now: the finding can go"
    );
}
