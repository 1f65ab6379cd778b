//! Pushes to a local directory (file:// and plain paths): the grace period, the refusal
//! to give a versioned name other bytes, and the manifest kept beside the tree.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use chrono::{TimeZone as _, Utc};
use trustroot_store::object::{Connect, Destination, ObjectError, PushOptions, StoreBackend, push};
use trustroot_test_support::RepoSim;

fn backend(dir: &Path) -> StoreBackend {
    let destination = Destination::parse(&format!("file://{}", dir.display()), Path::new("/")).unwrap();
    StoreBackend::open(&destination, &Connect::default(), &|_| None)
        .unwrap()
        .0
}

fn sim() -> RepoSim {
    let mut sim = RepoSim::new(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap());
    sim.add_target("targets", "a.json", b"{}");
    sim.publish();
    sim
}

#[test]
fn superseded_files_stay_for_the_grace_period_then_go() {
    let work = tempfile::tempdir().unwrap();
    let (tree, served) = (work.path().join("tree"), work.path().join("served"));
    let sim = sim();
    sim.write_published(&tree).unwrap();
    let day0 = Utc.with_ymd_and_hms(2030, 1, 2, 0, 0, 0).unwrap();
    push(&backend(&served), &tree, &PushOptions::new(day0), None).unwrap();
    assert!(work.path().join("served.trustroot-push.json").is_file());
    assert!(!served.join("served.trustroot-push.json").exists());

    // A rebuilt tree without the target's file (as a mirror prunes one).
    let old_target = sim.target_paths("targets", "a.json");
    assert!(!old_target.is_empty());
    for path in &old_target {
        std::fs::remove_file(tree.join(path.strip_prefix("metadata/").unwrap_or(path))).unwrap();
    }
    let report = push(
        &backend(&served),
        &tree,
        &PushOptions::new(day0 + chrono::Duration::days(1)),
        None,
    )
    .unwrap();
    assert!(!report.plan.superseded.is_empty(), "{:?}", report.plan.render());
    for path in &old_target {
        let rel = path.strip_prefix("metadata/").unwrap_or(path);
        assert!(served.join(rel).is_file(), "{rel} kept for clients mid-update");
    }

    // Eight days on, the grace period (7 days) is over.
    let report = push(
        &backend(&served),
        &tree,
        &PushOptions::new(day0 + chrono::Duration::days(9)),
        None,
    )
    .unwrap();
    assert_eq!(report.deleted, report.plan.deletions.len());
    assert!(report.deleted > 0);
    for path in &old_target {
        let rel = path.strip_prefix("metadata/").unwrap_or(path);
        assert!(!served.join(rel).exists(), "{rel} pruned");
    }
}

#[test]
fn versioned_file_published_twice_with_other_bytes_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let (tree, served) = (work.path().join("tree"), work.path().join("served"));
    sim().write_published(&tree).unwrap();
    push(&backend(&served), &tree, &PushOptions::new(Utc::now()), None).unwrap();
    let before = std::fs::read(served.join("1.root.json")).unwrap();
    std::fs::write(tree.join("1.root.json"), b"{\"signed\":{}}").unwrap();
    let error = push(&backend(&served), &tree, &PushOptions::new(Utc::now()), None).unwrap_err();
    assert!(
        matches!(&error, ObjectError::Republished { key, .. } if key == "1.root.json"),
        "{error}"
    );
    assert_eq!(std::fs::read(served.join("1.root.json")).unwrap(), before);
}

#[test]
fn symlink_in_the_local_tree_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let (tree, served) = (work.path().join("tree"), work.path().join("served"));
    sim().write_published(&tree).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", tree.join("targets/passwd")).unwrap();
    let error = push(&backend(&served), &tree, &PushOptions::new(Utc::now()), None).unwrap_err();
    assert!(matches!(error, ObjectError::LocalTree { .. }), "{error}");
    assert!(!served.exists());
}
