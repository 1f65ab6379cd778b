//! `mirror export|import` of a directory of named repositories (issue 23): one bundle
//! carrying each repository's own, each imported from its own pinned root
//! (`--root NAME=FILE`), verified and switched on its own; hostile bundles refused with
//! nothing written.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{Duration, Utc};
use common::{file_url, text, trustroot, trustroot_client};
use trustroot_test_support::RepoSim;

/// A repository published into `dir` (a file:// origin), valid now, with one target
/// named after it.
fn origin(dir: &Path, name: &str) -> PathBuf {
    let mut sim = RepoSim::new(Utc::now() - Duration::hours(1));
    sim.add_target(
        "targets",
        "trusted_root.json",
        format!("{{\"of\":\"{name}\"}}\n").as_bytes(),
    );
    sim.publish();
    sim.write_published(dir).unwrap();
    dir.join("1.root.json")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", text(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", text(out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file of a served tree, by relative path.
fn served(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = pending.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let entry = entry.unwrap();
            let name = format!("{prefix}{}", entry.file_name().to_str().unwrap());
            if entry.file_type().unwrap().is_dir() {
                pending.push((entry.path(), format!("{name}/")));
            } else {
                files.push((name, std::fs::read(entry.path()).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// A directory of named repositories `names`, each synced from an origin of its own
/// under `work/origins/NAME`; returns the directory and each origin's root v1.
fn named_mirror(work: &Path, names: &[&str]) -> (PathBuf, Vec<PathBuf>) {
    let dir = work.join("site");
    let mut roots = Vec::new();
    for name in names {
        let from = work.join("origins").join(name);
        let root = origin(&from, name);
        let into = dir.join(name);
        ok(&trustroot(&[
            "mirror",
            "sync",
            into.to_str().unwrap(),
            "--from",
            &file_url(&from),
            "--root",
            root.to_str().unwrap(),
        ]));
        roots.push(root);
    }
    // The layout of mirror/src/set.rs: each repository a mirror directory of its own,
    // the directory marked as one of named repositories.
    std::fs::write(dir.join(".trustroot-mirrors.json"), br#"{"format":1}"#).unwrap();
    (dir, roots)
}

/// `trustroot mirror import DIR --bundle BUNDLE ARGS...`.
fn import(dir: &Path, bundle: &Path, args: &[&str]) -> Output {
    let mut all = vec![
        "mirror",
        "import",
        dir.to_str().unwrap(),
        "--bundle",
        bundle.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    trustroot(&all)
}

fn root_arg(name: &str, root: &Path) -> String {
    format!("{name}={}", root.display())
}

#[test]
fn named_repositories_travel_in_one_bundle_each_verified_from_its_own_root() {
    let work = tempfile::tempdir().unwrap();
    let (site, roots) = named_mirror(work.path(), &["production", "staging"]);
    let bundle = work.path().join("site.tar.zst");
    let out = ok(&trustroot(&[
        "mirror",
        "export",
        site.to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
    ]));
    assert!(out.contains("2 repositories, zstd-compressed"), "{out}");
    assert!(out.contains("  production: ") && out.contains("  staging: "), "{out}");

    // The other side of the gap: a new directory, each repository pinned by name.
    let other = work.path().join("isolated");
    let out = ok(&import(
        &other,
        &bundle,
        &[
            "--root",
            &root_arg("production", &roots[0]),
            "--root",
            &root_arg("staging", &roots[1]),
        ],
    ));
    assert!(out.contains("production: now serving state 1"), "{out}");
    assert!(out.contains("staging: now serving state 1"), "{out}");
    for (name, root) in ["production", "staging"].iter().zip(&roots) {
        assert_eq!(
            served(&other.join(name).join("repository")),
            served(&site.join(name).join("repository")),
            "{name}"
        );
        let base = file_url(&other.join(name).join("repository"));
        let client = trustroot_client(None, root, &base, &format!("{base}targets/"), &["trusted_root.json"]);
        assert!(client.status.success(), "{name}: {}", text(&client));
    }

    // Again, with no roots: each repository verifies from the root it already trusts.
    let out = ok(&import(&other, &bundle, &[]));
    assert!(
        out.contains("production: already current") && out.contains("staging: already current"),
        "{out}"
    );

    // --only one of them, exported and imported.
    let one = work.path().join("staging.tar");
    let out = ok(&trustroot(&[
        "mirror",
        "export",
        site.to_str().unwrap(),
        "--out",
        one.to_str().unwrap(),
        "--only",
        "staging",
    ]));
    assert!(out.contains("1 repository") && !out.contains("production"), "{out}");
    let third = work.path().join("third");
    let out = ok(&import(
        &third,
        &bundle,
        &["--only", "staging", "--root", &root_arg("staging", &roots[1])],
    ));
    assert!(
        out.contains("staging: now serving state 1") && !out.contains("production"),
        "{out}"
    );
    assert!(!third.join("production").exists());
}

#[test]
fn repository_that_does_not_verify_from_its_pinned_root_is_refused_alone() {
    let work = tempfile::tempdir().unwrap();
    let (site, roots) = named_mirror(work.path(), &["production", "staging"]);
    let bundle = work.path().join("site.tar");
    ok(&trustroot(&[
        "mirror",
        "export",
        site.to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
    ]));
    let other = work.path().join("isolated");
    // staging pinned to production's root: its bundle does not verify from it.
    let out = import(
        &other,
        &bundle,
        &[
            "--root",
            &root_arg("production", &roots[0]),
            "--root",
            &root_arg("staging", &roots[0]),
        ],
    );
    let stderr = refused(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("production: now serving state 1"), "{stdout}");
    assert!(stdout.contains("staging: refused, left as it was"), "{stdout}");
    assert!(
        stderr.contains("1 of 2 repositories refused") && stderr.contains("staging"),
        "{stderr}"
    );
    assert!(other.join("production/repository/timestamp.json").is_file());
    assert!(
        !other.join("staging").exists(),
        "nothing of the refused repository is left"
    );

    // Under --json: an object per repository, as `mirror sync` prints them.
    let out = import(&other, &bundle, &["--json", "--root", &root_arg("staging", &roots[0])]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failed"], serde_json::json!(["staging"]), "{report}");
    assert_eq!(report["repositories"][0]["name"], "production", "{report}");
    assert_eq!(report["repositories"][0]["changed"], false, "{report}");
    assert_eq!(report["repositories"][1]["name"], "staging", "{report}");
    assert!(report["repositories"][1]["error"]["message"].is_string(), "{report}");

    // A new repository without a pinned root is refused too, by name.
    let out = import(&other, &bundle, &[]);
    refused(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("staging: refused"),
        "{}",
        text(&out)
    );
}

#[test]
fn bundle_mixups_and_a_root_for_a_missing_repository_are_refused_with_nothing_written() {
    let work = tempfile::tempdir().unwrap();
    let (site, roots) = named_mirror(work.path(), &["production"]);
    let named = work.path().join("named.tar");
    ok(&trustroot(&[
        "mirror",
        "export",
        site.to_str().unwrap(),
        "--out",
        named.to_str().unwrap(),
    ]));
    let other = work.path().join("other");
    let nothing_written = |why: &str| assert!(!other.exists(), "{why}: {}", other.display());

    // A root pinned for a repository the bundle does not hold: a typo, never ignored.
    let out = import(&other, &named, &["--root", &root_arg("prodution", &roots[0])]);
    let stderr = refused(&out);
    assert!(
        stderr.contains("no repository named 'prodution'") && stderr.contains("production"),
        "{stderr}"
    );
    nothing_written("a root for a missing repository");

    // A bundle of named repositories into a mirror of one, and the other way round.
    let out = import(&other, &named, &["--root", roots[0].to_str().unwrap()]);
    assert!(text(&out).contains("holds named repositories"), "{}", text(&out));
    nothing_written("a bundle of named repositories as one");
    let single = work.path().join("single.tar");
    ok(&trustroot(&[
        "mirror",
        "export",
        site.join("production").to_str().unwrap(),
        "--out",
        single.to_str().unwrap(),
    ]));
    let out = import(&other, &single, &["--root", &root_arg("production", &roots[0])]);
    assert!(text(&out).contains("holds one unnamed repository"), "{}", text(&out));
    nothing_written("one repository's bundle as named ones");
    // Hostile members of a bundle of named repositories: mirror/tests/bundle.rs.
}
