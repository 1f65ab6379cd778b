//! `trustroot init --import` on Sigstore's own tuf-on-ci checkouts (production and
//! staging, from the fixtures), at their reference time: the policy says what the metadata
//! says, and the published tree the import lays out is Sigstore's published tree byte for
//! byte, plus only the tough-style aliases the publish layout adds. And every refusal
//! leaves DIR as it was.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use common::{files, text, trustroot_at, unpack_fixtures};

const AT: &str = "2026-08-22T00:00:00Z";
/// The same moment, for faketime.
const CLOCK: &str = "2026-08-22 00:00:00";

fn import(source: &Path, dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "init",
        dir.to_str().unwrap(),
        "--import",
        source.to_str().unwrap(),
        "--at",
        AT,
    ];
    args.extend_from_slice(extra);
    trustroot_at(CLOCK, &args)
}

fn policy(dir: &Path) -> toml::Table {
    fs::read_to_string(dir.join("trustroot.toml")).unwrap().parse().unwrap()
}

fn strings(value: &toml::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The one delegated role, read from the metadata (never spelled here).
fn delegated_role(source: &Path) -> String {
    let targets: serde_json::Value =
        serde_json::from_slice(&fs::read(source.join("metadata/targets.json")).unwrap()).unwrap();
    targets["signed"]["delegations"]["roles"][0]["name"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The production or staging checkout (`which`) imported into a new directory at the
/// reference time: the unpacked fixtures, the work directory, the source and the repository.
fn imported(which: &str) -> (tempfile::TempDir, tempfile::TempDir, PathBuf, PathBuf) {
    let fixtures = unpack_fixtures();
    let source = fixtures.path().join(which).join("source");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("imported");
    let out = import(&source, &dir, &[]);
    assert!(out.status.success(), "{}", text(&out));
    (fixtures, work, source, dir)
}

/// The published tree laid out by the import is Sigstore's, byte for byte, plus one
/// tough-style alias per target in a directory (`targets/<sha256>.<dir>/<name>`).
fn assert_published_matches(dir: &Path, sigstore: &Path) {
    let ours = files(&dir.join("public/repository"));
    let theirs = files(sigstore);
    for (name, bytes) in &theirs {
        assert_eq!(ours.get(name), Some(bytes), "{name} differs or is missing");
    }
    let extra: BTreeSet<&String> = ours.keys().filter(|n| !theirs.contains_key(*n)).collect();
    assert!(!extra.is_empty(), "the delegated role's target gets a tough alias");
    for name in extra {
        // targets/<sha256>.<dir>/<name> is the alias of targets/<dir>/<sha256>.<name>.
        let rest = name.strip_prefix("targets/").expect("only target aliases are extra");
        let (hashed_dir, base) = rest.split_once('/').unwrap();
        let (sha, dir_name) = hashed_dir.split_once('.').unwrap();
        assert_eq!(sha.len(), 64, "{name} is no alias");
        let original = format!("targets/{dir_name}/{sha}.{base}");
        assert_eq!(ours.get(name), theirs.get(&original), "{name} is not {original}");
    }
}

#[test]
fn sigstore_production_imports_losslessly() {
    let fixtures = unpack_fixtures();
    let source = fixtures.path().join("sigstore-prod/source");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("prod");
    let out = import(&source, &dir, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("the source's own"),
        "says the pin came from the source: {said}"
    );

    // The policy is what the metadata says.
    let policy = policy(&dir);
    let holders = ["mnm678", "santiagotorres", "bobcallaway", "joshuagl", "lance"];
    let roles = policy["roles"].as_table().unwrap();
    assert_eq!(strings(&roles["root"]["keys"]), holders);
    assert_eq!(roles["root"]["threshold"].as_integer(), Some(3));
    assert_eq!(roles["root"]["expiry_days"].as_integer(), Some(197));
    assert_eq!(roles["root"]["signing_days"].as_integer(), Some(46));
    assert_eq!(strings(&roles["targets"]["keys"]), holders);
    assert_eq!(roles["targets"]["threshold"].as_integer(), Some(3));
    assert_eq!(roles["targets"]["expiry_days"].as_integer(), Some(3650));
    assert_eq!(roles["targets"]["signing_days"].as_integer(), Some(31));
    assert_eq!(roles["snapshot"]["expiry_days"].as_integer(), Some(3650));
    assert_eq!(roles["snapshot"]["signing_days"].as_integer(), Some(365));
    assert_eq!(roles["timestamp"]["expiry_days"].as_integer(), Some(7));
    assert_eq!(roles["timestamp"]["signing_days"].as_integer(), Some(6));
    for holder in holders {
        assert_eq!(
            policy["keys"][holder]["holder"].as_str(),
            Some(format!("@{holder}").as_str())
        );
    }
    let delegated = delegated_role(&source);
    let delegation = &policy["delegations"][&delegated];
    let online_key = format!("{delegated}-online");
    assert_eq!(strings(&delegation["keys"]), std::slice::from_ref(&online_key));
    assert_eq!(delegation["threshold"].as_integer(), Some(1));
    assert_eq!(strings(&delegation["paths"]), [format!("{delegated}/*")]);
    assert_eq!(delegation["expiry_days"].as_integer(), Some(182));
    assert_eq!(delegation["signing_days"].as_integer(), Some(31));
    assert!(
        policy["keys"][&online_key]["online"]
            .as_str()
            .unwrap()
            .starts_with("azurekms://")
    );
    assert!(
        policy["online"]["signer"]
            .as_str()
            .unwrap()
            .starts_with("gcpkms:projects/sigstore-root-signing/")
    );
    assert_eq!(policy["import"]["root_version"].as_integer(), Some(15));

    // metadata/ holds the source's bytes, unchanged.
    for name in [
        "root.json",
        "timestamp.json",
        "snapshot.json",
        "targets.json",
        "root_history/1.root.json",
        "root_history/15.root.json",
    ] {
        assert_eq!(
            fs::read(dir.join("metadata").join(name)).unwrap(),
            fs::read(source.join("metadata").join(name)).unwrap(),
            "metadata/{name}"
        );
    }
    // Every key file is the key object as root lists it: its ID is the one root lists.
    let root: serde_json::Value =
        serde_json::from_slice(&fs::read(source.join("metadata/root.json")).unwrap()).unwrap();
    for holder in holders {
        let key: serde_json::Value =
            serde_json::from_slice(&fs::read(dir.join(format!("keys/{holder}.pub"))).unwrap()).unwrap();
        let listed = root["signed"]["keys"]
            .as_object()
            .unwrap()
            .values()
            .find(|k| k["x-tuf-on-ci-keyowner"] == format!("@{holder}"))
            .unwrap();
        assert_eq!(&key, listed, "keys/{holder}.pub");
    }

    assert_published_matches(&dir, &fixtures.path().join("sigstore-prod/published"));

    // The usual commands read it.
    let status = trustroot_at(CLOCK, &["expiry", dir.to_str().unwrap(), "--json", "--at", AT]);
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let roles: Vec<&str> = report["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"root") && roles.contains(&delegated.as_str()),
        "{report}"
    );
    // Both online keys, each kept as written and shown unusable until configured.
    let online = report["online_keys"].as_array().unwrap();
    assert_eq!(online.len(), 2, "{report}");
    for key in online {
        assert_eq!(key["usable"], false, "{key}");
    }
    let references: Vec<&str> = online.iter().map(|k| k["reference"].as_str().unwrap()).collect();
    assert!(references.iter().any(|r| r.starts_with("gcpkms:")), "{references:?}");
    assert!(
        references.iter().any(|r| r.starts_with("azurekms://")),
        "{references:?}"
    );
}

#[test]
fn sigstore_staging_imports_losslessly() {
    let fixtures = unpack_fixtures();
    let source = fixtures.path().join("sigstore-staging/source");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("staging");
    let out = import(&source, &dir, &["--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["roots"].as_array().unwrap().len(), 14);

    let policy = policy(&dir);
    let holders = ["jku", "kommendorkapten", "joshuagl", "mnm678"];
    let roles = policy["roles"].as_table().unwrap();
    assert_eq!(strings(&roles["root"]["keys"]), holders);
    assert_eq!(roles["root"]["threshold"].as_integer(), Some(2));
    assert_eq!(roles["root"]["expiry_days"].as_integer(), Some(182));
    assert_eq!(roles["root"]["signing_days"].as_integer(), Some(35));
    assert_eq!(roles["targets"]["threshold"].as_integer(), Some(1));
    assert_eq!(roles["snapshot"]["expiry_days"].as_integer(), Some(3650));
    assert_eq!(roles["timestamp"]["expiry_days"].as_integer(), Some(7));
    let delegated = delegated_role(&source);
    assert_eq!(
        policy["delegations"][&delegated]["expiry_days"].as_integer(),
        Some(3650)
    );
    assert!(
        policy["online"]["signer"]
            .as_str()
            .unwrap()
            .starts_with("gcpkms:projects/projectsigstore-staging/")
    );

    assert_published_matches(&dir, &fixtures.path().join("sigstore-staging/published"));
}

/// A published tree is a source too: importing Sigstore's `published/` makes the same
/// `metadata/` as importing its checkout.
#[test]
fn a_published_repository_imports_to_the_same_metadata_as_its_checkout() {
    let fixtures = unpack_fixtures();
    let prod = fixtures.path().join("sigstore-prod");
    let work = tempfile::tempdir().unwrap();
    let from_source = work.path().join("from-source");
    let from_published = work.path().join("from-published");
    let out = import(&prod.join("source"), &from_source, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = import(&prod.join("published"), &from_published, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        files(&from_source.join("metadata")),
        files(&from_published.join("metadata"))
    );
    assert_eq!(
        files(&from_source.join("targets")),
        files(&from_published.join("targets"))
    );
    assert_eq!(
        fs::read_to_string(from_source.join("trustroot.toml"))
            .unwrap()
            .lines()
            .filter(|l| !l.contains("source") && !l.contains("checkout") && !l.contains("published repository"))
            .collect::<Vec<_>>(),
        fs::read_to_string(from_published.join("trustroot.toml"))
            .unwrap()
            .lines()
            .filter(|l| !l.contains("source") && !l.contains("checkout") && !l.contains("published repository"))
            .collect::<Vec<_>>(),
    );
}

/// A copy of the production checkout, for a test to damage.
fn prod_copy(fixtures: &Path, work: &Path) -> PathBuf {
    let copy = work.join("source");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(fixtures.join("sigstore-prod/source"))
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    copy
}

/// The refusal names `expected`, and DIR (`work/dir`, empty beforehand) is still empty,
/// with no temporary directory left beside it.
fn assert_refused(source: &Path, work: &Path, expected: &[&str]) {
    let dir = work.join("dir");
    fs::create_dir_all(&dir).unwrap();
    let out = import(source, &dir, &[]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    for part in expected {
        assert!(said.contains(part), "names {part}: {said}");
    }
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "DIR is left empty");
    let left: Vec<_> = fs::read_dir(work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("trustroot-import"))
        .collect();
    assert!(left.is_empty(), "no temporary directory left: {left:?}");
}

#[test]
fn a_root_history_with_a_gap_is_refused() {
    let fixtures = unpack_fixtures();
    let work = tempfile::tempdir().unwrap();
    let source = prod_copy(fixtures.path(), work.path());
    fs::remove_file(source.join("metadata/root_history/7.root.json")).unwrap();
    assert_refused(
        &source,
        work.path(),
        &["metadata/root_history/7.root.json is missing", "1–6, 8–15"],
    );
}

#[test]
fn a_root_chain_that_does_not_verify_is_refused() {
    let fixtures = unpack_fixtures();
    let work = tempfile::tempdir().unwrap();
    let source = prod_copy(fixtures.path(), work.path());
    let file = source.join("metadata/root_history/7.root.json");
    let mut root: serde_json::Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
    // Every signature over root v7 broken: neither v6's threshold nor v7's own is met.
    for signature in root["signatures"].as_array_mut().unwrap() {
        let sig = signature["sig"].as_str().unwrap().to_string();
        if sig.is_empty() {
            continue;
        }
        // A DER signature starts "30": make it "40", which no verifier accepts.
        let flipped = format!("4{}", &sig[1..]);
        signature["sig"] = serde_json::Value::String(flipped);
    }
    fs::write(&file, serde_json::to_vec(&root).unwrap()).unwrap();
    assert_refused(&source, work.path(), &["metadata/root_history/7.root.json"]);
}

#[test]
fn metadata_that_contradicts_itself_is_refused() {
    let fixtures = unpack_fixtures();
    let work = tempfile::tempdir().unwrap();
    let source = prod_copy(fixtures.path(), work.path());
    let file = source.join("metadata/timestamp.json");
    let mut timestamp: serde_json::Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
    timestamp["signed"]["meta"]["snapshot.json"]["version"] = 166.into();
    fs::write(&file, serde_json::to_vec(&timestamp).unwrap()).unwrap();
    assert_refused(
        &source,
        work.path(),
        &[
            "metadata/timestamp.json",
            "meta.snapshot.json.version is 166",
            "metadata/snapshot.json is v165",
        ],
    );
}

#[test]
fn a_target_file_that_differs_from_its_listing_is_refused() {
    let fixtures = unpack_fixtures();
    let work = tempfile::tempdir().unwrap();
    let source = prod_copy(fixtures.path(), work.path());
    let file = source.join("targets/trusted_root.json");
    let mut bytes = fs::read(&file).unwrap();
    bytes[10] ^= 1;
    fs::write(&file, bytes).unwrap();
    assert_refused(&source, work.path(), &["targets/trusted_root.json", "sha256"]);
}

#[test]
fn an_import_into_a_non_empty_directory_is_refused() {
    let fixtures = unpack_fixtures();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("dir");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("notes.txt"), "mine").unwrap();
    let out = import(&fixtures.path().join("sigstore-prod/source"), &dir, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("not empty") || text(&out).contains("empty"),
        "{}",
        text(&out)
    );
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
}

/// A published repository's URL is fetched and verified as `mirror sync` does (from the
/// root pinned with --root, never from the fetched bytes), then imported as a directory.
#[test]
fn a_published_repository_is_imported_from_its_url() {
    let fixtures = unpack_fixtures();
    let prod = fixtures.path().join("sigstore-prod");
    let server = trustroot_test_support::static_server::StaticServer::start(&prod.join("published"), None);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("from-url");
    let url = server.url();

    let unpinned = import(Path::new(&url), &dir, &[]);
    assert_eq!(unpinned.status.code(), Some(1), "{}", text(&unpinned));
    assert!(text(&unpinned).contains("needs --root"), "{}", text(&unpinned));
    assert!(!dir.exists());

    let root = prod.join("published/1.root.json");
    let out = import(Path::new(&url), &dir, &["--root", root.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let from_source = work.path().join("from-source");
    let out = import(&prod.join("source"), &from_source, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(files(&dir.join("metadata")), files(&from_source.join("metadata")));
    assert_eq!(files(&dir.join("targets")), files(&from_source.join("targets")));
    assert_eq!(policy(&dir)["import"]["source"].as_str(), Some(url.as_str()));
}

/// What the "done" asks of the imported production repository: `ceremony start
/// --role root` stages root v16 alone, every key under its v15 key ID with every field, and
/// the round (its status and its signing request) names Sigstore's five keyholders and 3 of
/// 5 for both v15 and v16.
#[test]
fn the_imported_production_root_is_renewed_by_its_five_keyholders() {
    let (_fixtures, work, source, dir) = imported("sigstore-prod");
    let repo = dir.to_str().unwrap();

    let started = trustroot_at(
        CLOCK,
        &["ceremony", "start", "--role", "root", "--repo", repo, "--json"],
    );
    assert!(started.status.success(), "{}", text(&started));
    let round: serde_json::Value = serde_json::from_slice(&started.stdout).unwrap();
    let roles: Vec<&str> = round["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["root"], "{round}");
    let id = round["round"].as_str().unwrap();

    let staged: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join(format!("ceremonies/{id}/staged/root.json"))).unwrap()).unwrap();
    let v15: serde_json::Value = serde_json::from_slice(&fs::read(source.join("metadata/root.json")).unwrap()).unwrap();
    let staged = staged.get("signed").unwrap_or(&staged).clone();
    assert_eq!(staged["version"], 16);
    let mut same = staged.clone();
    same["version"] = v15["signed"]["version"].clone();
    same["expires"] = v15["signed"]["expires"].clone();
    assert_eq!(
        same, v15["signed"],
        "root v16 differs from v15 only in version and expires"
    );

    let status = trustroot_at(CLOCK, &["ceremony", "status", "--repo", repo, "--json", "--at", AT]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let thresholds = status["roles"][0]["thresholds"].as_array().unwrap();
    assert_eq!(
        thresholds.len(),
        2,
        "the published root's threshold and the new one's: {status}"
    );
    for threshold in thresholds {
        assert_eq!(threshold["required"], 3, "{threshold}");
        let mut holders: Vec<&str> = threshold["not_signed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["holder"].as_str().unwrap())
            .collect();
        holders.sort_unstable();
        assert_eq!(
            holders,
            ["@bobcallaway", "@joshuagl", "@lance", "@mnm678", "@santiagotorres"]
        );
    }
    let request = work.path().join("request.json");
    let made = trustroot_at(
        CLOCK,
        &[
            "ceremony",
            "request",
            "--repo",
            repo,
            "--out",
            request.to_str().unwrap(),
            "--at",
            AT,
        ],
    );
    assert!(made.status.success(), "{}", text(&made));
    let request_text = fs::read_to_string(&request).unwrap();
    for holder in ["@mnm678", "@santiagotorres", "@bobcallaway", "@joshuagl", "@lance"] {
        assert!(request_text.contains(holder), "the request names {holder}");
    }
}
