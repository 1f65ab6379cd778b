//! `trustroot init --import` on tuf-on-ci repositories other than Sigstore's: Docker's
//! production root (tests/fixtures/tuf-on-ci, metadata only, as published), and
//! repositories the tests build in tuf-on-ci's shape (tests/interop/tuf_on_ci_shaped.py)
//! for what must be refused: keyowners that collide, online key references trustroot
//! cannot use.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ngclient, python, text, tough, trustroot, trustroot_at, trustroot_client};
use trustroot_test_support::static_server::StaticServer;

/// A tuf-on-ci-shaped checkout in `dir`/source, written by the generator at `time`.
fn shaped(dir: &Path, time: &str, extra: &[&str]) -> PathBuf {
    let source = dir.join("source");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/tuf_on_ci_shaped.py");
    let out = Command::new(python())
        .arg(script)
        .arg(&source)
        .args(["--time", time])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    source
}

/// Imports `source` into `work`/dir (made empty first) at `at`, expecting a refusal that
/// names every one of `expected`, with DIR left empty and no temporary directory beside it.
fn assert_refused(source: &Path, work: &Path, at: &str, expected: &[&str]) {
    let dir = work.join("dir");
    fs::create_dir_all(&dir).unwrap();
    let out = trustroot(&[
        "init",
        dir.to_str().unwrap(),
        "--import",
        source.to_str().unwrap(),
        "--at",
        at,
    ]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    for part in expected {
        assert!(said.contains(part), "names {part}: {said}");
    }
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "DIR is left empty");
    assert!(
        !fs::read_dir(work)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().contains("trustroot-import")),
        "no temporary directory is left"
    );
}

const NOW: &str = "2026-12-01T00:00:00Z";

#[test]
fn keyowners_that_collide_after_naming_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let source = shaped(work.path(), NOW, &["--collide"]);
    assert_refused(
        &source,
        work.path(),
        NOW,
        &[
            "metadata/root_history/2.root.json",
            "x-tuf-on-ci-keyowner '@alice'",
            "x-tuf-on-ci-keyowner '@Alice'",
            "key name 'alice'",
        ],
    );
}

/// tuf-on-ci's own test signer reference names a key file: an import must never read a
/// metadata-chosen path as the online key, so it is refused by kind, not opened.
#[test]
fn an_online_key_reference_naming_a_local_file_is_refused_not_read() {
    let work = tempfile::tempdir().unwrap();
    let secret = work.path().join("secret.pem");
    fs::write(&secret, "not for the import to read").unwrap();
    let reference = format!("file2:{}", secret.display());
    let source = shaped(work.path(), NOW, &["--online-uri", &reference]);
    assert_refused(
        &source,
        work.path(),
        NOW,
        &[
            "x-tuf-on-ci-online-uri",
            "file2:",
            "not an online key reference trustroot knows",
        ],
    );
}

/// tuf-on-ci's keyless online key reference (`sigstore:`) is kept as written, like a
/// `gcpkms:` one, and shown as one trustroot cannot sign with.
#[test]
fn a_keyless_online_key_reference_is_kept_as_written_and_not_usable() {
    let work = tempfile::tempdir().unwrap();
    let uri = "sigstore:?issuer=https://example.com";
    let source = shaped(work.path(), NOW, &["--online-uri", uri]);
    let dir = work.path().join("dir");
    let out = trustroot(&[
        "init",
        dir.to_str().unwrap(),
        "--import",
        source.to_str().unwrap(),
        "--at",
        NOW,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let policy = fs::read_to_string(dir.join("trustroot.toml")).unwrap();
    assert!(policy.contains(&format!("signer = \"{uri}\"")), "{policy}");
    let expiry = text(&trustroot(&["expiry", dir.to_str().unwrap(), "--at", NOW]));
    assert!(
        expiry.contains(&format!("{uri}: NOT usable: trustroot cannot sign with sigstore: keys")),
        "{expiry}"
    );
}

/// Docker's production root (docker/tuf, metadata only): ECDSA P-384 keyholders, an AWS KMS
/// online key, three delegations listed out of name order, a key listed under an ID that is
/// not its hash, "sig": "" placeholders.
#[test]
fn docker_production_root_imports_as_published() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tuf-on-ci/docker-tuf");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("docker");
    let at = "2024-12-04T00:00:00Z";
    let out = trustroot(&[
        "init",
        dir.to_str().unwrap(),
        "--import",
        fixture.to_str().unwrap(),
        "--at",
        at,
        "--metadata-only",
    ]);
    assert!(out.status.success(), "{}", text(&out));

    let policy: toml::Table = fs::read_to_string(dir.join("trustroot.toml")).unwrap().parse().unwrap();
    let roles = &policy["roles"];
    assert_eq!(roles["root"]["threshold"].as_integer(), Some(3));
    assert_eq!(roles["root"]["keys"].as_array().unwrap().len(), 5);
    assert_eq!(roles["targets"]["threshold"].as_integer(), Some(2));
    assert_eq!(roles["targets"]["keys"].as_array().unwrap().len(), 4);
    assert_eq!(roles["timestamp"]["expiry_days"].as_integer(), Some(2));
    assert_eq!(roles["snapshot"]["expiry_days"].as_integer(), Some(365));
    let delegations = policy["delegations"].as_table().unwrap();
    for (name, keys, threshold) in [("doi", 7, 2), ("testing", 7, 2), ("rekor", 4, 2)] {
        assert_eq!(delegations[name]["keys"].as_array().unwrap().len(), keys, "{name}");
        assert_eq!(delegations[name]["threshold"].as_integer(), Some(threshold), "{name}");
        assert_eq!(
            delegations[name]["paths"][0].as_str(),
            Some(format!("{name}/*").as_str())
        );
    }
    assert_eq!(
        policy["gate"]["allow_p384"].as_bool(),
        Some(true),
        "P-384 keys are allowed, said so"
    );
    assert_eq!(policy["gate"]["min_valid_days"]["timestamp"].as_integer(), Some(1));
    assert!(
        policy["online"]["signer"]
            .as_str()
            .unwrap()
            .starts_with("awskms:arn:aws:kms:")
    );
    assert_eq!(policy["import"]["metadata_only"].as_bool(), Some(true));
    for role in ["root", "timestamp", "snapshot", "targets", "doi", "testing", "rekor"] {
        assert_eq!(
            fs::read(dir.join(format!("metadata/{role}.json"))).unwrap(),
            fs::read(fixture.join(format!("metadata/{role}.json"))).unwrap(),
            "metadata/{role}.json is the fixture's"
        );
    }

    // The tree laid out from it, served as a web root: trustroot's client and python-tuf
    // accept it from root v1; tough cannot read P-384 keys (a known limit of the original
    // bytes, asserted).
    let server = StaticServer::start(&dir.join("public/repository"), None);
    let root = fixture.join("metadata/root_history/1.root.json");
    let (url, targets_url) = (server.url(), format!("{}targets/", server.url()));
    let clock = "2024-12-04 00:00:00";
    let ours = trustroot_client(Some(clock), &root, &url, &targets_url, &[]);
    assert!(ours.status.success(), "trustroot client: {}", text(&ours));
    let python_tuf = ngclient(Some(clock), &root, &url, &targets_url, &[]);
    assert!(python_tuf.status.success(), "python-tuf: {}", text(&python_tuf));
    let tough = tough(Some(clock), &root, &url, &targets_url, &[]);
    assert!(
        !tough.status.success(),
        "tough reads P-384 keys now: update the gate's tough-key-type finding"
    );

    // Continuing: the policy predicts the gate's finding about the key IDs that are not
    // their keys' hash, commented out until the operator accepts it.
    let policy_path = dir.join("trustroot.toml");
    let text_before = fs::read_to_string(&policy_path).unwrap();
    assert!(
        text_before.contains("# accept = [\"key-id-not-hash\"]"),
        "{text_before}"
    );
    let repo = dir.to_str().unwrap();
    let refused = trustroot_at(clock, &["ceremony", "start", "--role", "root", "--repo", repo]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("key-id-not-hash"), "{}", text(&refused));
    fs::write(&policy_path, text_before.replace("# accept = [", "accept = [")).unwrap();
    // Targets cannot be staged without their files (imported with --metadata-only)...
    let whole = trustroot_at(clock, &["ceremony", "start", "--repo", repo]);
    assert_eq!(whole.status.code(), Some(1), "{}", text(&whole));
    assert!(text(&whole).contains("--metadata-only"), "{}", text(&whole));
    assert_eq!(
        fs::read_dir(dir.join("ceremonies")).unwrap().count(),
        1,
        "only .gitkeep: no round opened"
    );
    // ...root can, and keeps every key under the ID root v1 lists.
    let started = trustroot_at(
        clock,
        &["ceremony", "start", "--role", "root", "--repo", repo, "--json"],
    );
    assert!(started.status.success(), "{}", text(&started));
    let round: serde_json::Value = serde_json::from_slice(&started.stdout).unwrap();
    let id = round["round"].as_str().unwrap();
    let staged: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join(format!("ceremonies/{id}/staged/root.json"))).unwrap()).unwrap();
    let staged = staged.get("signed").unwrap_or(&staged);
    let v1: serde_json::Value = serde_json::from_slice(&fs::read(fixture.join("metadata/root.json")).unwrap()).unwrap();
    let ids = |root: &serde_json::Value| root["keys"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(ids(staged), ids(&v1["signed"]), "every key under its published ID");
    assert_eq!(staged["keys"], v1["signed"]["keys"], "every key with every field");

    let expiry = trustroot_at(clock, &["expiry", dir.to_str().unwrap(), "--json", "--at", at]);
    let report: serde_json::Value = serde_json::from_slice(&expiry.stdout).unwrap();
    let published = report["roles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == "published")
        .count();
    assert_eq!(published, 7, "every imported role: {report}");
    assert_eq!(
        report["online_keys"][0]["usable"], true,
        "an awskms: online key is usable as written"
    );
}

/// The fixtures are the bytes their README names (SHA256SUMS), unchanged.
#[test]
fn the_tuf_on_ci_fixtures_are_unchanged() {
    use sha2::Digest as _;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tuf-on-ci");
    let sums = fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    assert!(sums.lines().count() >= 8);
    for line in sums.lines() {
        let (sum, file) = line.split_once("  ").unwrap();
        let digest = hex::encode(sha2::Sha256::digest(fs::read(dir.join(file)).unwrap()));
        assert_eq!(digest, sum, "{file}");
    }
}

/// jku/root-signing-test: Sigstore's history re-imported into tuf-on-ci with one keyholder.
/// Its chain breaks between roots 9 and 10, so an import from its own v1 is refused naming
/// root v10, and one pinned at v10 imports, leaving the older roots out.
#[test]
fn root_signing_test_imports_from_its_pinned_root() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tuf-on-ci/root-signing-test");
    let at = "2024-09-18T13:00:00Z";
    let work = tempfile::tempdir().unwrap();
    assert_refused(
        &fixture,
        work.path(),
        at,
        &["metadata/root_history/10.root.json", "root v10"],
    );

    let dir = work.path().join("imported");
    let pinned = fixture.join("metadata/root_history/10.root.json");
    let out = trustroot(&[
        "init",
        dir.to_str().unwrap(),
        "--import",
        fixture.to_str().unwrap(),
        "--root",
        pinned.to_str().unwrap(),
        "--at",
        at,
        "--metadata-only",
    ]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("not imported: roots v1–v9"), "{said}");

    let policy: toml::Table = fs::read_to_string(dir.join("trustroot.toml")).unwrap().parse().unwrap();
    let roles = &policy["roles"];
    for role in ["root", "targets"] {
        assert_eq!(
            roles[role]["keys"].as_array().unwrap()[0].as_str(),
            Some("jku"),
            "{role}"
        );
        assert_eq!(roles[role]["threshold"].as_integer(), Some(1));
        assert_eq!(roles[role]["expiry_days"].as_integer(), Some(91));
        assert_eq!(roles[role]["signing_days"].as_integer(), Some(35));
    }
    assert_eq!(roles["timestamp"]["signing_days"].as_integer(), Some(4));
    let delegations = policy["delegations"].as_table().unwrap();
    assert_eq!(delegations.len(), 1);
    let (name, delegation) = delegations.iter().next().unwrap();
    assert_eq!(
        delegation["keys"].as_array().unwrap()[0].as_str(),
        Some("jku"),
        "one key, one name"
    );
    assert_eq!(delegation["paths"][0].as_str(), Some(format!("{name}/*").as_str()));
    assert!(policy["online"]["signer"].as_str().unwrap().starts_with("gcpkms:"));
    let history: Vec<String> = fs::read_dir(dir.join("metadata/root_history"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(history.len(), 2, "roots 10 and 11 only: {history:?}");

    // Served, it is accepted from the pinned root by trustroot's client, python-tuf and tough.
    let server = StaticServer::start(&dir.join("public/repository"), None);
    let (url, targets_url) = (server.url(), format!("{}targets/", server.url()));
    let clock = "2024-09-18 13:00:00";
    let ours = trustroot_client(Some(clock), &pinned, &url, &targets_url, &[]);
    assert!(ours.status.success(), "trustroot client: {}", text(&ours));
    let python_tuf = ngclient(Some(clock), &pinned, &url, &targets_url, &[]);
    assert!(python_tuf.status.success(), "python-tuf: {}", text(&python_tuf));
    let tough = tough(Some(clock), &pinned, &url, &targets_url, &[]);
    assert!(tough.status.success(), "tough: {}", text(&tough));
}
