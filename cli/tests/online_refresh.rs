//! Keeping a repository alive: `online refresh` re-signs timestamp (and snapshot) with the
//! online key only, `expiry` reports what expires when. A Sigstore-shaped repository is
//! walked across a year of daily refreshes (library, time passed in), a few days of
//! refreshes run under faketime with python-tuf's ngclient updating after each, and
//! refreshes that must be refused leave the published tree as it was.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;
mod common;

use std::path::Path;

use ceremony_common::*;
use chrono::{DateTime, Duration, Utc};
use trustroot_ceremony::keys::{KeyRef, SoftwareSigner};
use trustroot_ceremony::online;
use trustroot_ceremony::repo::Repo;
use trustroot_core::expiry::{self, State};
use trustroot_test_support::SimServer;

/// A published repository: root and targets 2-of-3, one online key, Sigstore's periods.
fn published() -> Setup {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    setup
}

fn signer(setup: &Setup) -> SoftwareSigner {
    KeyRef::File(setup.keys.join("online.pem"))
        .load_software(&mut || panic!("the online key is not encrypted"))
        .unwrap()
}

/// What `expiry --within 30d` decides for the signing repository at `now`.
fn expiry_state(repo: &Repo, now: DateTime<Utc>) -> State {
    let roles = online::published(repo).unwrap();
    let windows: Vec<_> = roles
        .iter()
        .map(|r| {
            (
                r.expires,
                expiry::window_for(&r.role, Duration::days(30), Duration::days(2)),
            )
        })
        .collect();
    expiry::summarize(&windows, now).worst
}

fn served_timestamp(setup: &Setup) -> Vec<u8> {
    std::fs::read(setup.served().join("timestamp.json")).unwrap()
}

#[test]
fn a_year_of_daily_refreshes_keeps_the_timestamp_valid_and_expiry_alerts_when_root_enters_the_window() {
    let setup = published();
    let repo = Repo::open(&setup.repo).unwrap();
    let signer = signer(&setup);
    let root_before = std::fs::read(setup.repo.join("metadata/root.json")).unwrap();
    let targets_before = std::fs::read(setup.repo.join("metadata/targets.json")).unwrap();
    let t0 = Utc::now();
    let root_expires = online::published(&repo)
        .unwrap()
        .into_iter()
        .find(|r| r.role == "root")
        .unwrap()
        .expires;
    let mut refreshes = 0;
    let mut first_alert = None;
    let mut first_expired = None;
    for day in 1..=365 {
        let now = t0 + Duration::days(day);
        let report = online::refresh(&repo, &signer, now, false).unwrap();
        if !report.refreshed.is_empty() {
            refreshes += 1;
            assert!(report.refreshed.contains(&"timestamp".to_string()), "{report:?}");
        }
        let roles = online::published(&repo).unwrap();
        let timestamp = roles.iter().find(|r| r.role == "timestamp").unwrap();
        assert!(timestamp.expires > now + Duration::days(4), "day {day}: {timestamp:?}");
        assert_eq!(
            served_timestamp(&setup),
            std::fs::read(setup.repo.join("metadata/timestamp.json")).unwrap(),
            "day {day}: the served timestamp is the recorded one"
        );
        let state = expiry_state(&repo, now);
        let expected = expiry::State::of(root_expires, now, Duration::days(30));
        assert_eq!(state, expected, "day {day}");
        if state != State::Valid && first_alert.is_none() {
            first_alert = Some(day);
        }
        if state == State::Expired && first_expired.is_none() {
            first_expired = Some(day);
        }
    }
    // Root (197 days, Sigstore's period) enters the 30-day window on day 167 and expires on
    // day 197; nothing else alerts in the year.
    assert_eq!(first_alert, Some(167));
    assert_eq!(first_expired, Some(197));
    assert!(
        refreshes >= 365,
        "a daily refresh re-signs the 7-day timestamp every day: {refreshes}"
    );
    assert_eq!(
        std::fs::read(setup.repo.join("metadata/root.json")).unwrap(),
        root_before
    );
    assert_eq!(
        std::fs::read(setup.repo.join("metadata/targets.json")).unwrap(),
        targets_before
    );
    // A second refresh on the same day has nothing to do.
    let now = t0 + Duration::days(365);
    let report = online::refresh(&repo, &signer, now, false).unwrap();
    assert!(report.refreshed.is_empty(), "{report:?}");
    assert!(report.reason.contains("nothing to do"), "{}", report.reason);
}

fn faketime_text(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn ngclient_updates(setup: &Setup, time: Option<&str>) {
    let served = setup.served();
    let server = SimServer::serve_dir(&served);
    let metadata_url = server.base_url();
    let targets_url = format!("{}targets/", server.base_url());
    let out = common::ngclient(
        time,
        &served.join("1.root.json"),
        &metadata_url,
        &targets_url,
        &["trusted_root.json"],
    );
    assert!(out.status.success(), "ngclient at {time:?}:\n{}", common::text(&out));
}

#[test]
fn days_of_refreshes_under_faketime_each_followed_by_ngclient() {
    let setup = published();
    let repo = setup.repo.to_str().unwrap().to_string();
    let t0 = Utc::now();
    for day in 1..=3 {
        let time = faketime_text(t0 + Duration::days(day));
        let out = common::trustroot_at(&time, &["online", "refresh", "--repo", &repo]);
        assert!(out.status.success(), "day {day}:\n{}", common::text(&out));
        assert!(common::text(&out).contains("Refreshed"), "{}", common::text(&out));
        let again = common::trustroot_at(&time, &["online", "refresh", "--repo", &repo]);
        assert!(again.status.success(), "{}", common::text(&again));
        assert!(
            common::text(&again).contains("Nothing refreshed"),
            "{}",
            common::text(&again)
        );
        let out = common::trustroot_at(&time, &["expiry", &repo, "--within", "30d"]);
        assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
        assert!(common::text(&out).contains("timestamp"), "{}", common::text(&out));
        ngclient_updates(&setup, Some(&time));
    }
    // The published tree and the publish destination report the same; root (197 days) is
    // inside a 200-day window (1); far ahead, without refreshes, everything is expired (3).
    let dest = setup.repo.join("public");
    for path in [dest.clone(), setup.served()] {
        let path = path.to_str().unwrap();
        let out = common::trustroot(&["expiry", path, "--within", "30d", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["status"], "valid");
        assert_eq!(json["roles"].as_array().unwrap().len(), 4, "{json}");
    }
    let at = |days: i64| trustroot_core::time::format(&(t0 + Duration::days(days)));
    let out = common::trustroot(&["expiry", &repo, "--within", "200d"]);
    assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));
    let out = common::trustroot(&["expiry", &repo, "--within", "30d", "--at", &at(400)]);
    assert_eq!(out.status.code(), Some(3), "{}", common::text(&out));
    assert!(common::text(&out).contains("EXPIRED"), "{}", common::text(&out));
    let out = common::trustroot(&["expiry", &repo, "--within", "thirty days"]);
    assert_eq!(out.status.code(), Some(2), "{}", common::text(&out));
}

fn refused(setup: &Setup, expect: &str) {
    let before = tree_hash(&setup.served());
    let out = trustroot(&setup.repo, &["online", "refresh", "--force"]);
    assert!(!out.status.success(), "{}", common::text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(stderr.contains(expect), "expected '{expect}' in:\n{stderr}");
    assert_eq!(tree_hash(&setup.served()), before, "the published tree changed");
    ngclient_updates(setup, None);
}

#[test]
fn refreshes_without_the_online_key_with_another_key_or_under_the_lock_are_refused() {
    let setup = published();
    // The online key is not there.
    let key = setup.keys.join("online.pem");
    let moved = setup.keys.join("online.pem.away");
    std::fs::rename(&key, &moved).unwrap();
    refused(&setup, "online.pem");
    std::fs::rename(&moved, &key).unwrap();
    // A key that is not the online key root lists.
    setup.generate("other", "ecdsa-p256");
    setup.use_online_key("other");
    refused(&setup, "is not a timestamp key of root v1");
    setup.use_online_key("online");
    // Another publish or refresh holds the lock.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(setup.repo.join(trustroot_ceremony::lock::LOCK_FILE))
        .unwrap();
    lock.lock().unwrap();
    refused(&setup, "holds the repository lock");
    let publish = trustroot(&setup.repo, &["ceremony", "publish"]);
    assert!(!publish.status.success());
    drop(lock);
    // Released: the refresh goes through.
    ok(&setup.repo, &["online", "refresh", "--force"]);
    ngclient_updates(&setup, None);
    assert!(Path::new(&setup.served().join("timestamp.json")).is_file());
}

#[test]
fn plain_expiry_alerts_on_a_timestamp_23_hours_from_expiry_and_within_0s_keeps_the_old_default() {
    let setup = published();
    let repo = setup.repo.to_str().unwrap().to_string();
    let served = setup.served();
    let tree = served.to_str().unwrap();
    let timestamp: serde_json::Value = serde_json::from_slice(&served_timestamp(&setup)).unwrap();
    let expires = trustroot_core::time::parse(timestamp["signed"]["expires"].as_str().unwrap()).unwrap();
    let at = trustroot_core::time::format(&(expires - Duration::hours(23)));
    // The signing repository: the policy's 6 days; the published tree: timestamp declares
    // no period, so 1 day (root declares the policy's 46).
    for (path, ts_days, root_days) in [(repo.as_str(), 6, 46), (tree, 1, 46)] {
        let out = common::trustroot(&["expiry", path, "--at", &at]);
        assert_eq!(out.status.code(), Some(1), "{path}:\n{}", common::text(&out));
        let out = common::trustroot(&["expiry", path, "--at", &at, "--within", "0s"]);
        assert_eq!(out.status.code(), Some(0), "{path}:\n{}", common::text(&out));
        let out = common::trustroot(&["expiry", path, "--at", &at, "--json"]);
        assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["within_seconds"], serde_json::Value::Null, "{json}");
        let roles = json["roles"].as_array().unwrap();
        let ts = roles.iter().find(|r| r["role"] == "timestamp").unwrap();
        assert_eq!(ts["window_seconds"], ts_days * 86_400, "{json}");
        let root = roles.iter().find(|r| r["role"] == "root").unwrap();
        assert_eq!(root["window_seconds"], root_days * 86_400, "{json}");
        assert_eq!(ts["state"], "within", "{json}");
    }
    // Right after the publish nothing is inside its signing period: exit 0.
    let out = common::trustroot(&["expiry", &repo]);
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
}

/// An imported repository's online key reference (here Sigstore's Google Cloud KMS key)
/// is kept as written: the policy loads, `expiry` and `ceremony status` show the key as not
/// usable and why, and a refresh is refused naming `online.signer` and what to do, with
/// nothing changed.
#[test]
fn a_kept_gcpkms_online_signer_is_shown_unusable_and_a_refresh_is_refused_naming_online_signer() {
    let setup = published();
    let gcp =
        "gcpkms:projects/sigstore-root-signing/locations/global/keyRings/root/cryptoKeys/timestamp/cryptoKeyVersions/1";
    let path = setup.repo.join("trustroot.toml");
    let policy = std::fs::read_to_string(&path).unwrap();
    let start = policy.find("signer = ").unwrap();
    let end = start + policy[start..].find('\n').unwrap();
    std::fs::write(
        &path,
        format!("{}signer = \"{gcp}\"{}", &policy[..start], &policy[end..]),
    )
    .unwrap();

    let before = tree_hash(&setup.repo);
    let out = trustroot(&setup.repo, &["online", "refresh", "--force"]);
    assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    for expected in ["online.signer", gcp, "configure [online] signer", "libkmsp11", "rotate"] {
        assert!(stderr.contains(expected), "expected '{expected}' in:\n{stderr}");
    }
    assert_eq!(tree_hash(&setup.repo), before, "a refused refresh changes nothing");

    let repo = setup.repo.to_str().unwrap();
    let out = common::trustroot(&["expiry", repo, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let online = &json["online_keys"][0];
    assert_eq!(online["field"], "online.signer", "{json}");
    assert_eq!(online["reference"], gcp);
    assert_eq!(online["kind"], "gcpkms");
    assert_eq!(online["usable"], false);
    assert!(online["reason"].as_str().unwrap().contains("libkmsp11"), "{online}");
    let table = common::text(&common::trustroot(&["expiry", repo]));
    assert!(
        table.contains("online key online (online.signer, signs snapshot, timestamp)"),
        "{table}"
    );
    assert!(table.contains("NOT usable"), "{table}");

    // A round opens without the online key; its status shows the key the same way.
    std::fs::write(setup.repo.join("targets/notes.txt"), b"a new target\n").unwrap();
    setup.start_now();
    let status = setup.status_json();
    let online = &status["repository"]["online_keys"][0];
    assert_eq!(online["usable"], false, "{status:#}");
    assert_eq!(online["reference"], gcp);
    let text = ok(&setup.repo, &["ceremony", "status"]);
    assert!(
        text.contains("NOT usable: trustroot cannot sign with gcpkms: keys"),
        "{text}"
    );
}
