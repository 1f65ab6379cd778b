//! Several named repositories in one mirror directory (`mirror sync DIR --name NAME`):
//! each synced on its own from simulated origins served on 127.0.0.1, each served tree
//! read by `trustroot client` from `file://DIR/NAME/repository/`; one repository failing
//! leaves it serving its last good state while the others switch; a mirror made before
//! names existed is refused a second repository until `mirror rename` names it, and keeps
//! syncing as before when it is never renamed; hostile names are refused before anything
//! is written. And the real Sigstore repositories (production, staging, and the expired
//! legacy set) side by side in one mirror, read by python-tuf and trustroot's client.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use common::{file_url, text, trustroot, trustroot_client};
use trustroot_test_support::{RepoSim, SimServer};

/// A simulated repository served on 127.0.0.1, with its first root written beside it.
struct Origin {
    server: SimServer,
    root: PathBuf,
}

impl Origin {
    /// A repository holding `targets` (name, bytes), published once.
    fn start(work: &Path, label: &str, targets: &[(&str, &[u8])]) -> Origin {
        let mut repo = RepoSim::new(chrono::Utc::now());
        for (name, bytes) in targets {
            repo.add_target("targets", name, bytes);
        }
        repo.publish();
        let root = work.join(format!("{label}.root.json"));
        std::fs::write(&root, repo.root_bytes(1).unwrap()).unwrap();
        Origin {
            server: SimServer::start(Arc::new(Mutex::new(repo))),
            root,
        }
    }

    /// Publishes a new version with one more target.
    fn add_target(&self, name: &str, bytes: &[u8]) {
        let repo = self.server.repo();
        let mut repo = repo.lock().unwrap();
        repo.add_target("targets", name, bytes);
        repo.publish();
    }

    /// The timestamp version the origin publishes now.
    fn timestamp(&self) -> u64 {
        self.server.repo().lock().unwrap().version("timestamp")
    }

    /// `mirror sync DIR --name NAME` from this origin, with its root.
    fn sync_named(&self, dir: &Path, name: &str) -> Output {
        trustroot(&[
            "mirror",
            "sync",
            dir.to_str().unwrap(),
            "--name",
            name,
            "--from",
            &self.server.metadata_url(),
            "--targets-from",
            &self.server.targets_url(),
            "--root",
            self.root.to_str().unwrap(),
        ])
    }
}

/// `trustroot client` downloads `targets` from the tree served at `served` (a
/// `repository` symlink), trusting `root`.
fn client(served: &Path, root: &Path, targets: &[&str]) -> Output {
    let base = file_url(served);
    trustroot_client(None, root, &base, &format!("{base}targets/"), targets)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

/// Everything under `dir`: each file's bytes and each symlink's target, by relative path
/// (directories too, so one made or removed shows).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut found = BTreeMap::new();
    if !dir.exists() {
        return found;
    }
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(dir).unwrap().to_path_buf();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                found.insert(relative, target.into_os_string().into_encoded_bytes());
            } else if meta.is_dir() {
                found.insert(relative, b"<dir>".to_vec());
                pending.push(path);
            } else {
                found.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    found
}

/// The timestamp version `mirror status --json` reports for repository `name` (a sync
/// that finds new metadata updates the served state in place, so its number stays).
fn timestamp_of(status: &serde_json::Value, name: &str) -> u64 {
    let repository = status["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {status}"));
    repository["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|role| role["role"] == "timestamp")
        .unwrap_or_else(|| panic!("no timestamp for {name} in {status}"))["version"]
        .as_u64()
        .unwrap()
}

#[test]
fn two_named_repositories_in_one_directory_each_serve_their_own_verified_tree() {
    let work = tempfile::tempdir().unwrap();
    let alpha = Origin::start(work.path(), "alpha", &[("a.txt", b"alpha's target")]);
    let beta = Origin::start(work.path(), "beta", &[("dir/b.txt", b"beta's target")]);
    let dir = work.path().join("mirror");
    let d = dir.to_str().unwrap();

    let out = alpha.sync_named(&dir, "alpha");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("alpha: "), "{}", text(&out));
    let out = beta.sync_named(&dir, "beta");
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir.join(".trustroot-mirrors.json").is_file());
    assert!(!dir.join("repository").exists(), "nothing served at the top");

    let (alpha_served, beta_served) = (dir.join("alpha/repository"), dir.join("beta/repository"));
    let out = client(&alpha_served, &alpha.root, &["a.txt"]);
    assert!(out.status.success(), "alpha: {}", text(&out));
    let out = client(&beta_served, &beta.root, &["dir/b.txt"]);
    assert!(out.status.success(), "beta: {}", text(&out));
    // Each tree is its own repository: beta's is not alpha's, and alpha's root refuses it.
    assert!(!client(&beta_served, &alpha.root, &[]).status.success());
    assert!(!client(&alpha_served, &alpha.root, &["dir/b.txt"]).status.success());

    // Both change; one `mirror sync DIR` syncs both, each from its own origin.
    alpha.add_target("a2.txt", b"alpha's second");
    beta.add_target("b2.txt", b"beta's second");
    let out = trustroot(&["mirror", "sync", d]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("alpha: ") && said.contains("beta: "), "{said}");
    assert!(said.contains("synced: alpha, beta"), "{said}");
    assert!(client(&alpha_served, &alpha.root, &["a2.txt"]).status.success());
    assert!(client(&beta_served, &beta.root, &["b2.txt"]).status.success());

    // --only syncs one; --json gives an object per repository.
    let out = trustroot(&["mirror", "sync", d, "--only", "beta", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report = json(&out);
    assert_eq!(report["repositories"].as_array().unwrap().len(), 1);
    assert_eq!(report["repositories"][0]["name"], "beta");
    assert_eq!(report["repositories"][0]["changed"], false);
    assert_eq!(report["failed"], serde_json::json!([]));

    // --to pushes the repository --only picks, and that one only.
    let pushed = work.path().join("pushed-alpha");
    let out = trustroot(&["mirror", "sync", d, "--only", "alpha", "--to", pushed.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(client(&pushed, &alpha.root, &["a2.txt"]).status.success());
    assert!(!client(&pushed, &beta.root, &[]).status.success());

    // status and verify take each repository, labelled.
    let out = trustroot(&["mirror", "status", d, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let status = json(&out);
    assert_eq!(
        (timestamp_of(&status, "alpha"), timestamp_of(&status, "beta")),
        (alpha.timestamp(), beta.timestamp())
    );
    let out = trustroot(&["mirror", "status", d]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("alpha: ") && text(&out).contains("beta: "));
    let out = trustroot(&["mirror", "verify", d]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("verified: no problems in alpha, beta"),
        "{}",
        text(&out)
    );
    let out = trustroot(&["mirror", "verify", d, "--json"]);
    assert_eq!(json(&out)["repositories"][1]["problems"], serde_json::json!([]));

    // A file changed in one repository's served tree is a problem of that one, exit 1.
    let served_target = std::fs::read_dir(dir.join("beta/repository/targets/dir"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(&served_target).unwrap();
    std::fs::write(&served_target, b"tampered").unwrap();
    let out = trustroot(&["mirror", "verify", d]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("problem: beta: "), "{}", text(&out));
    assert!(!text(&out).contains("problem: alpha: "), "{}", text(&out));

    // Ambiguous flags on several repositories are refused, nothing changed.
    let before = snapshot(&dir);
    for (flags, says) in [
        (
            vec!["--from", "http://127.0.0.1:9/"],
            "--from, --targets-from and --root go with --name",
        ),
        (vec!["--to", "file:///nonexistent/x"], "--to pushes one repository"),
        (vec!["--only", "gamma"], "no repository named 'gamma'"),
        (vec!["--dry-run"], "go with a push: give --to URL"),
    ] {
        let mut args = vec!["mirror", "sync", d];
        args.extend(flags);
        let out = trustroot(&args);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains(says), "{}", text(&out));
    }
    assert_eq!(snapshot(&dir), before);

    // The page of every repository, a section each, as `mirror serve` shows at /_status.
    let page = work.path().join("s.html");
    let out = trustroot(&["mirror", "status", d, "--html", page.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("/alpha/") && html.contains("/beta/"), "{html}");
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn a_new_timestamp_with_a_bad_signature_in_one_of_three_repositories_keeps_it_serving_its_last_good_state() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("mirror");
    let origins: Vec<(&str, Origin)> = ["alpha", "bravo", "charlie"]
        .into_iter()
        .map(|name| (name, Origin::start(work.path(), name, &[("a.txt", name.as_bytes())])))
        .collect();
    for (name, origin) in &origins {
        let out = origin.sync_named(&dir, name);
        assert!(out.status.success(), "{name}: {}", text(&out));
    }
    let broken_served = dir.join("bravo/repository");
    let last_good = std::fs::read(broken_served.join("timestamp.json")).unwrap();

    for (name, origin) in &origins {
        if *name == "bravo" {
            // A new timestamp whose only signature does not verify.
            let repo = origin.server.repo();
            let mut repo = repo.lock().unwrap();
            let key = repo.keys("timestamp")[0].key_id();
            repo.sign_with_invalid_sig("timestamp", &key);
            repo.publish();
        } else {
            origin.add_target("new.txt", b"new target");
        }
    }

    let out = trustroot(&["mirror", "sync", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("error: bravo: "), "{said}");
    assert!(said.contains("synced: alpha, charlie; FAILED: bravo"), "{said}");

    // The other two (one before it in name order, one after) switched to their new states.
    for (name, origin) in &origins {
        if *name != "bravo" {
            let out = client(&dir.join(name).join("repository"), &origin.root, &["new.txt"]);
            assert!(out.status.success(), "{name}: {}", text(&out));
        }
    }
    // The broken one serves its last good state, which still verifies.
    assert_eq!(std::fs::read(broken_served.join("timestamp.json")).unwrap(), last_good);
    let broken_root = &origins.iter().find(|(n, _)| *n == "bravo").unwrap().1.root;
    let out = client(&broken_served, broken_root, &["a.txt"]);
    assert!(out.status.success(), "bravo: {}", text(&out));

    let out = trustroot(&["mirror", "status", dir.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let status = json(&out);
    assert_eq!(
        (
            timestamp_of(&status, "alpha"),
            timestamp_of(&status, "bravo"),
            timestamp_of(&status, "charlie")
        ),
        // bravo still serves the timestamp before the one that does not verify.
        (
            origins[0].1.timestamp(),
            origins[1].1.timestamp() - 1,
            origins[2].1.timestamp()
        )
    );
    let broken = &status["repositories"][1];
    assert_eq!(broken["name"], "bravo");
    assert_eq!(broken["syncs"]["failures_total"], 1);

    // --json names the failure in its entry and in `failed`.
    let out = trustroot(&["mirror", "sync", dir.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json(&out);
    assert_eq!(report["failed"], serde_json::json!(["bravo"]));
    assert!(
        report["repositories"][1]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("bravo: ")
    );
    assert_eq!(report["repositories"][0]["changed"], false);
}

#[test]
fn an_unnamed_mirror_is_refused_a_name_until_renamed_then_syncs_under_it() {
    let work = tempfile::tempdir().unwrap();
    let old = Origin::start(work.path(), "old", &[("a.txt", b"from before names")]);
    let other = Origin::start(work.path(), "other", &[("b.txt", b"another")]);
    let dir = work.path().join("mirror");
    let d = dir.to_str().unwrap();
    let out = trustroot(&[
        "mirror",
        "sync",
        d,
        "--from",
        &old.server.metadata_url(),
        "--targets-from",
        &old.server.targets_url(),
        "--root",
        old.root.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));

    let before = snapshot(&dir);
    let out = other.sync_named(&dir, "x");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("trustroot mirror rename {d} --name NAME")),
        "{}",
        text(&out)
    );
    let out = trustroot(&["mirror", "sync", d, "--only", "x"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(snapshot(&dir), before, "a refused sync changed the mirror");

    let out = trustroot(&["mirror", "rename", d, "--name", "prod"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("served at /prod/"), "{}", text(&out));
    assert!(!dir.join("repository").exists());
    // The same state, served from its new place.
    let out = client(&dir.join("prod/repository"), &old.root, &["a.txt"]);
    assert!(out.status.success(), "{}", text(&out));

    old.add_target("a2.txt", b"after the rename");
    let out = trustroot(&["mirror", "sync", d]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("synced: prod"), "{}", text(&out));
    assert!(
        client(&dir.join("prod/repository"), &old.root, &["a2.txt"])
            .status
            .success()
    );
    // And now others go beside it.
    let out = other.sync_named(&dir, "x");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        client(&dir.join("x/repository"), &other.root, &["b.txt"])
            .status
            .success()
    );
    let out = trustroot(&["mirror", "rename", d, "--name", "again"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

#[test]
fn an_unnamed_mirror_never_renamed_syncs_exactly_as_before() {
    let work = tempfile::tempdir().unwrap();
    let old = Origin::start(work.path(), "old", &[("a.txt", b"from before names")]);
    let dir = work.path().join("mirror");
    let d = dir.to_str().unwrap();
    let out = trustroot(&[
        "mirror",
        "sync",
        d,
        "--from",
        &old.server.metadata_url(),
        "--targets-from",
        &old.server.targets_url(),
        "--root",
        old.root.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    old.add_target("a2.txt", b"later");
    let out = trustroot(&["mirror", "sync", d, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let summary = json(&out);
    // Updated in place: the same state, a new timestamp.
    assert_eq!(
        (summary["state"].as_u64(), summary["in_place"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(
        summary["after"]["timestamp"],
        old.server.repo().lock().unwrap().version("timestamp")
    );
    assert_eq!(summary["served"], dir.join("repository").display().to_string());
    assert!(summary.get("repositories").is_none(), "{summary}");
    let out = trustroot(&["mirror", "sync", d]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with(&format!("{}: already current", dir.join("repository").display())),
        "{}",
        text(&out)
    );
    assert!(!dir.join(".trustroot-mirrors.json").exists());
    assert!(client(&dir.join("repository"), &old.root, &["a2.txt"]).status.success());
    let out = trustroot(&["mirror", "status", d, "--json"]);
    assert_eq!(json(&out)["state"], 1);
    let out = trustroot(&["mirror", "verify", d]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn hostile_repository_names_are_refused_before_anything_is_written() {
    let work = tempfile::tempdir().unwrap();
    let origin = Origin::start(work.path(), "origin", &[("a.txt", b"target")]);
    let fresh = work.path().join("fresh");
    let named = work.path().join("named");
    let out = origin.sync_named(&named, "good");
    assert!(out.status.success(), "{}", text(&out));
    let before = snapshot(work.path());
    for hostile in ["..", "a/b", "_status", "metrics", ".x", "../escape", ""] {
        for dir in [&fresh, &named] {
            let out = origin.sync_named(dir, hostile);
            assert_eq!(out.status.code(), Some(1), "{hostile:?}: {}", text(&out));
            assert!(
                text(&out).contains("cannot name a repository"),
                "{hostile:?}: {}",
                text(&out)
            );
        }
        let out = trustroot(&["mirror", "rename", named.to_str().unwrap(), "--name", hostile]);
        assert_eq!(out.status.code(), Some(1), "{hostile:?}: {}", text(&out));
        let out = trustroot(&["mirror", "sync", named.to_str().unwrap(), "--only", hostile]);
        assert_eq!(out.status.code(), Some(1), "{hostile:?}: {}", text(&out));
    }
    assert_eq!(snapshot(work.path()), before, "a refused name wrote something");
    assert!(!fresh.exists());
}

#[test]
fn a_first_sync_that_fails_leaves_no_repository_behind() {
    let work = tempfile::tempdir().unwrap();
    let origin = Origin::start(work.path(), "origin", &[("a.txt", b"target")]);
    let stranger = Origin::start(work.path(), "stranger", &[("b.txt", b"other")]);
    let dir = work.path().join("mirror");
    // The wrong root: the origin's metadata does not verify from it.
    let out = trustroot(&[
        "mirror",
        "sync",
        dir.to_str().unwrap(),
        "--name",
        "site",
        "--from",
        &origin.server.metadata_url(),
        "--root",
        stranger.root.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("error: site: "), "{}", text(&out));
    assert_eq!(snapshot(&dir), BTreeMap::new(), "{:?}", snapshot(&dir));

    let out = origin.sync_named(&dir, "site");
    assert!(out.status.success(), "{}", text(&out));
    let before = snapshot(&dir);
    let out = trustroot(&[
        "mirror",
        "sync",
        dir.to_str().unwrap(),
        "--name",
        "other",
        "--from",
        &origin.server.metadata_url(),
        "--root",
        stranger.root.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(snapshot(&dir), before);
}

/// The real Sigstore repositories, each mirrored under a name at the time its fixture is
/// valid: production and staging (2026-08-22) and the legacy production set (2024-09-05).
/// At 2026-08-22 the legacy set has expired: `mirror sync DIR` names it, keeps serving its
/// last good state, and production and staging are current; python-tuf and trustroot's
/// client update from each.
#[test]
fn sigstore_production_staging_and_an_expired_legacy_set_in_one_mirror() {
    const TIME: &str = "2026-08-22 00:00:00";
    const LEGACY_TIME: &str = "2024-09-05 00:00:00";
    let fixtures = common::unpack_fixtures();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("mirror");
    let d = dir.to_str().unwrap();
    let sets = [
        ("legacy", "sigstore-prod-legacy", LEGACY_TIME),
        ("production", "sigstore-prod", TIME),
        ("staging", "sigstore-staging", TIME),
    ];
    let mut origins = Vec::new();
    for (name, set, time) in sets {
        let published = fixtures.path().join(set).join("published");
        let origin = SimServer::serve_dir(&published);
        let root = published.join("1.root.json");
        let out = common::trustroot_at(
            time,
            &[
                "mirror",
                "sync",
                d,
                "--name",
                name,
                "--from",
                &origin.base_url(),
                "--root",
                root.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{name}: {}", text(&out));
        origins.push(origin);
    }
    let legacy_timestamp = std::fs::read(dir.join("legacy/repository/timestamp.json")).unwrap();

    let out = common::trustroot_at(TIME, &["mirror", "sync", d]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("synced: production, staging; FAILED: legacy"), "{said}");
    assert!(
        said.contains("error: legacy: root v9: expired at 2024-09-12T06:53:10Z"),
        "{said}"
    );
    assert!(
        said.contains("production: ") && said.contains(": already current"),
        "{said}"
    );
    assert_eq!(
        std::fs::read(dir.join("legacy/repository/timestamp.json")).unwrap(),
        legacy_timestamp
    );

    let out = common::trustroot_at(TIME, &["mirror", "verify", d, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = json(&out);
    let problems = |i: usize| report["repositories"][i]["problems"].as_array().unwrap().len();
    assert_eq!(report["repositories"][0]["name"], "legacy");
    assert!(problems(0) > 0, "{report}");
    assert_eq!((problems(1), problems(2)), (0, 0), "{report}");
    assert_eq!(report["repositories"][1]["versions"]["root"], 15);
    assert_eq!(report["repositories"][2]["versions"]["root"], 14);

    for (name, set, _) in &sets[1..] {
        let served = dir.join(name).join("repository");
        let root = fixtures.path().join(set).join("published/1.root.json");
        let out = common::trustroot_client(
            Some(TIME),
            &root,
            &file_url(&served),
            &file_url(&served.join("targets")),
            &["trusted_root.json"],
        );
        assert!(out.status.success(), "{name}, trustroot client: {}", text(&out));
        // python-tuf cannot read the `expires` forms of Sigstore's first roots: like
        // Sigstore's own client tests, it starts from root v5.
        let server = SimServer::serve_dir(&served);
        let out = common::ngclient(
            Some(TIME),
            &served.join("5.root.json"),
            &server.base_url(),
            &format!("{}targets/", server.base_url()),
            &["trusted_root.json"],
        );
        assert!(out.status.success(), "{name}, python-tuf: {}", text(&out));
    }
}

#[test]
fn expiry_watches_every_named_repository_labelled_by_its_name() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("mirror");
    for name in ["alpha", "beta"] {
        let origin = Origin::start(work.path(), name, &[("a.txt", name.as_bytes())]);
        let out = origin.sync_named(&dir, name);
        assert!(out.status.success(), "{}", text(&out));
    }
    let d = dir.to_str().unwrap();
    // The origins' timestamps expire in a day: inside the default window for them.
    let out = trustroot(&["expiry", d, "--online-within", "1h", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for name in ["alpha", "beta"] {
        assert!(
            report["roles"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["repository"] == name && r["role"] == "timestamp"),
            "{report}"
        );
    }
    let out = trustroot(&["expiry", d, "--online-within", "1h"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("alpha/timestamp") && text(&out).contains("beta/root"),
        "{}",
        text(&out)
    );
    let out = trustroot(&["expiry", d, "--online-within", "1h", "--format", "prometheus"]);
    assert!(out.status.success(), "{}", text(&out));
    let metrics = String::from_utf8_lossy(&out.stdout).into_owned();
    for name in ["alpha", "beta"] {
        assert!(
            metrics.contains(&format!(
                "trustroot_role_expiry_timestamp_seconds{{repository=\"{name}\",role=\"timestamp\"}}"
            )),
            "{metrics}"
        );
    }
    assert_eq!(
        metrics
            .matches("# TYPE trustroot_role_expiry_timestamp_seconds")
            .count(),
        1,
        "{metrics}"
    );
    let out = trustroot(&[
        "expiry",
        d,
        "--online-within",
        "1h",
        "--format",
        "prometheus",
        "--repository-label",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("labelled with its name"), "{}", text(&out));
}
