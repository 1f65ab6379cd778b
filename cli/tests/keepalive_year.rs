//! A year in the life of a Sigstore-shaped repository (root and targets 2-of-3, an online
//! key, a delegation with its own key and periods): every day the online key refreshes,
//! `ceremony start --due` opens a round when root or the delegation enters its signing
//! period, the keyholders sign it from the request file and it is published; `expiry
//! --within 30d` turns non-zero exactly on the days a role is inside the window; python-tuf's
//! ngclient, with its clock pinned to that day, updates from root v1 every day. The same
//! flow runs through the binary under faketime, and crashes between writing snapshot and
//! timestamp leave a published tree that verifies and a repository the next run repairs.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;
mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use ceremony_common::*;
use chrono::{DateTime, Duration, Utc};
use trustroot_ceremony::keys::{KeyRef, SoftwareSigner};
use trustroot_ceremony::repo::Repo;
use trustroot_ceremony::round::{self, DueOutcome, Round, SigningRequest};
use trustroot_ceremony::{online, publish};
use trustroot_test_support::SimServer;

const DELEGATION: &str = "npm-example";
const TARGETS: [&str; 2] = ["trusted_root.json", "npm-example/keys.json"];

/// Published at the real time: root 197/46 days, targets 3650/31, the delegation 120/21.
fn sigstore_shaped() -> Setup {
    let setup = Setup::for_publish();
    setup.add_npm_style_delegation(120, 21);
    setup.round_now(&["alice", "bob", "npm-delegate"]);
    setup.publish();
    setup
}

fn load(setup: &Setup, name: &str) -> SoftwareSigner {
    KeyRef::File(setup.keys.join(format!("{name}.pem")))
        .load_software(&mut || panic!("test keys are not encrypted"))
        .unwrap()
}

/// The keyholders sign round `id` from its request file (each key signs what it may), the
/// signatures are added, and the round is published at `now`.
fn sign_and_publish(setup: &Setup, repo: &Repo, id: &str, now: DateTime<Utc>) {
    let round = Round::open(repo, Some(id)).unwrap();
    let request = setup.tmp.path().join(format!("request-{id}.json"));
    std::fs::write(
        &request,
        serde_json::to_vec_pretty(&round.request(repo, now).unwrap()).unwrap(),
    )
    .unwrap();
    let (request, bytes) = SigningRequest::load(&request).unwrap();
    for holder in ["alice", "bob", "npm-delegate"] {
        let Ok(signatures) = round::sign_request(&request, &bytes, &load(setup, holder)) else {
            continue;
        };
        for signature in signatures {
            let file = setup.tmp.path().join(signature.file_name());
            let text = serde_json::to_vec(&signature).unwrap();
            round::add_signature(repo, &round, &file, &text, now).unwrap();
        }
    }
    let round = Round::open(repo, Some(id)).unwrap();
    let report = publish::publish(repo, &round, &load(setup, "online"), now).unwrap();
    assert!(report.passed, "the gate refused: {:?}", report.findings);
}

fn faketime_text(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// ngclient, clock pinned to `time`, from root v1: returns the root version it ends at.
fn ngclient_root_version(setup: &Setup, time: Option<&str>) -> u64 {
    let served = setup.served();
    let server = SimServer::serve_dir(&served);
    let out = common::ngclient(
        time,
        &served.join("1.root.json"),
        &server.base_url(),
        &format!("{}targets/", server.base_url()),
        &TARGETS,
    );
    let text = common::text(&out);
    assert!(out.status.success(), "ngclient at {time:?}:\n{text}");
    text.lines()
        .find_map(|l| l.strip_prefix("ngclient: root v"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{text}"))
}

fn expiry_code(setup: &Setup, now: DateTime<Utc>) -> i32 {
    let at = trustroot_core::time::format(&now);
    let repo = setup.repo.to_str().unwrap();
    let out = common::trustroot(&["expiry", repo, "--within", "30d", "--at", &at]);
    out.status.code().unwrap_or_else(|| panic!("{}", common::text(&out)))
}

#[test]
fn a_year_of_daily_refreshes_and_due_rounds_keeps_every_role_valid_for_ngclient() {
    let setup = sigstore_shaped();
    let repo = Repo::open(&setup.repo).unwrap();
    let online_key = load(&setup, "online");
    let t0 = Utc::now();
    let mut rounds: Vec<(i64, Vec<String>)> = Vec::new();
    let mut alerts = BTreeSet::new();
    let mut held: Option<(String, i64)> = None;
    for day in 1..=365 {
        let now = t0 + Duration::days(day);
        online::refresh(&repo, &online_key, now, false).unwrap();
        match round::start_due(&repo, None, now).unwrap() {
            DueOutcome::Opened(round, _) => {
                let roles: Vec<String> = round.roles.iter().map(|r| r.meta.role.clone()).collect();
                rounds.push((day, roles));
                if day == 99 {
                    // The first delegation round waits three days for its keyholder.
                    held = Some((round.id.clone(), day));
                } else {
                    sign_and_publish(&setup, &repo, &round.id, now);
                }
            }
            DueOutcome::AlreadyOpen { round, pending } => {
                let (id, since) = held.clone().unwrap_or_else(|| panic!("day {day}: {round} {pending:?}"));
                assert_eq!(round, id);
                assert_eq!(pending, vec![format!("{DELEGATION} v2")]);
                if day == since + 3 {
                    sign_and_publish(&setup, &repo, &id, now);
                    held = None;
                }
            }
            DueOutcome::Refused { findings } => panic!("day {day}: {findings:?}"),
            DueOutcome::NothingDue { next } => {
                assert!(held.is_none(), "day {day}");
                assert!(
                    next.iter().all(|n| n.due_from > trustroot_core::time::format(&now)),
                    "{next:?}"
                );
            }
        }
        // After the day's publish nothing more is due.
        if held.is_none() {
            assert!(
                matches!(
                    round::start_due(&repo, None, now).unwrap(),
                    DueOutcome::NothingDue { .. }
                ),
                "day {day}"
            );
        }
        match expiry_code(&setup, now) {
            0 => {}
            1 => {
                alerts.insert(day);
            }
            code => panic!("day {day}: expiry exit {code}"),
        }
        let expected_root = if day < 151 {
            1
        } else if day < 302 {
            2
        } else {
            3
        };
        assert_eq!(
            ngclient_root_version(&setup, Some(&faketime_text(now))),
            expected_root,
            "day {day}"
        );
    }
    // The delegation (120 days, renewed 21 days before expiry) and root (197 days, 46)
    // each fall due on the first day inside their signing period. A version expires a whole
    // period after its round started (the round of day 99 was published on day 102).
    let delegation = vec![DELEGATION.to_string()];
    let root = vec!["root".to_string()];
    assert_eq!(
        rounds,
        vec![
            (99, delegation.clone()),
            (151, root.clone()),
            (198, delegation.clone()),
            (297, delegation),
            (302, root),
        ]
    );
    // `expiry --within 30d` alerts from the day the delegation is 30 days from expiry until
    // the day its renewal is published; root is renewed before it enters the window.
    let expected: BTreeSet<i64> = (90..=101).chain(189..=197).chain(288..=296).collect();
    assert_eq!(alerts, expected);
    assert_eq!(
        std::fs::read(setup.repo.join("metadata/targets.json")).unwrap(),
        std::fs::read(setup.served().join("1.targets.json")).unwrap(),
        "targets is never re-signed: it is far from its signing period all year"
    );
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", common::text(out)))
}

fn start_due_at(setup: &Setup, time: &str) -> serde_json::Value {
    let repo = setup.repo.to_str().unwrap();
    let out = common::trustroot_at(time, &["ceremony", "start", "--due", "--json", "--repo", repo]);
    assert!(out.status.success(), "{}", common::text(&out));
    json(&out)
}

/// Keyholders sign round `id` each on their own copy of the request, under faketime.
fn sign_airgapped_at(setup: &Setup, time: &str, id: &str, holders: &[&str]) {
    let request = setup.tmp.path().join(format!("request-{id}.json"));
    let repo = setup.repo.to_str().unwrap();
    let out = common::trustroot_at(
        time,
        &[
            "ceremony",
            "request",
            "--out",
            request.to_str().unwrap(),
            "--repo",
            repo,
        ],
    );
    assert!(out.status.success(), "{}", common::text(&out));
    for holder in holders {
        let dir = setup.tmp.path().join(format!("airgap-{id}-{holder}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&request, dir.join("request.json")).unwrap();
        std::fs::copy(setup.key(holder), dir.join("key.pem")).unwrap();
        // The keyholder checks the request against their own copy of the published root.
        std::fs::copy(setup.repo.join("metadata/root.json"), dir.join("root.json")).unwrap();
        let dir_text = dir.to_str().unwrap();
        let out = common::trustroot_at(
            time,
            &[
                "ceremony",
                "sign",
                "--request",
                &format!("{dir_text}/request.json"),
                "--key",
                &format!("{dir_text}/key.pem"),
                "--root",
                &format!("{dir_text}/root.json"),
                "--out-dir",
                dir_text,
                "--yes",
            ],
        );
        assert!(out.status.success(), "{holder}: {}", common::text(&out));
        let files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_str().unwrap();
                name.contains(".json") && name != "request.json" && name != "root.json"
            })
            .collect();
        let mut args = vec!["ceremony".to_string(), "add-signature".to_string()];
        args.extend(files.iter().map(|f| f.display().to_string()));
        args.extend(["--repo".to_string(), repo.to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = common::trustroot_at(time, &args);
        assert!(out.status.success(), "{}", common::text(&out));
    }
}

#[test]
fn start_due_under_faketime_opens_a_root_round_once_and_the_signed_round_is_published() {
    let setup = sigstore_shaped();
    let repo = setup.repo.to_str().unwrap();
    let t0 = Utc::now();
    // Day 50: nothing is due; the delegation falls due first (day 99), then root (151).
    let quiet = faketime_text(t0 + Duration::days(50));
    let out = start_due_at(&setup, &quiet);
    assert_eq!(out["action"], "nothing-due", "{out}");
    let next = out["next"].as_array().unwrap();
    assert_eq!(next[0]["role"], DELEGATION, "{out}");
    assert_eq!(next[1]["role"], "root", "{out}");

    // Day 152: both are inside their signing periods: one round opens for both, and the
    // keyholders sign it from request files and publish it, all through the binary.
    let day = t0 + Duration::days(152);
    let time = faketime_text(day);
    let out = common::trustroot_at(&time, &["online", "refresh", "--repo", repo]);
    assert!(out.status.success(), "{}", common::text(&out));
    let opened = start_due_at(&setup, &time);
    assert_eq!(opened["action"], "opened", "{opened}");
    let id = opened["round"].as_str().unwrap().to_string();
    let staged: Vec<&str> = opened["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        staged,
        vec!["root", DELEGATION],
        "both are inside their signing periods"
    );
    // A second run (cron an hour later) sees the round waiting, and opens nothing.
    let before = tree_hash(&setup.repo.join("ceremonies"));
    let waiting = start_due_at(&setup, &time);
    assert_eq!(waiting["action"], "waiting", "{waiting}");
    assert_eq!(waiting["round"], id.as_str());
    assert_eq!(tree_hash(&setup.repo.join("ceremonies")), before);
    let text = common::trustroot_at(&time, &["ceremony", "start", "--due", "--repo", repo]);
    assert!(
        common::text(&text).contains("still waiting to be published"),
        "{}",
        common::text(&text)
    );

    sign_airgapped_at(&setup, &time, &id, &["alice", "bob", "npm-delegate"]);
    let out = common::trustroot_at(&time, &["ceremony", "publish", "--repo", repo]);
    assert!(out.status.success(), "{}", common::text(&out));
    assert_eq!(start_due_at(&setup, &time)["action"], "nothing-due");
    assert_eq!(ngclient_root_version(&setup, Some(&time)), 2);
    let out = common::trustroot_at(&time, &["expiry", repo, "--within", "30d"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out));
}

/// Runs `args` in the repository with the crash hook set; the process must abort.
fn crash_after(setup: &Setup, role: &str, args: &[&str]) {
    let out = trustroot_env(&setup.repo, args, &[("TRUSTROOT_TEST_CRASH_AFTER_METADATA", role)]);
    assert!(!out.status.success(), "{}", common::text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("crashing after writing metadata/{role}.json")),
        "{}",
        common::text(&out)
    );
}

#[test]
fn a_crash_between_writing_snapshot_and_timestamp_leaves_a_valid_tree_and_the_next_run_repairs_it() {
    let setup = sigstore_shaped();
    // Publish: a new target, crash after metadata/snapshot.json.
    std::fs::write(
        setup.repo.join("targets/signing_config.v0.2.json"),
        sigstore_signing_config(),
    )
    .unwrap();
    setup.round_now(&["alice", "bob"]);
    let served_before = tree_hash(&setup.served());
    let timestamp_before = std::fs::read(setup.repo.join("metadata/timestamp.json")).unwrap();
    crash_after(&setup, "snapshot", &["ceremony", "publish"]);
    assert_eq!(
        tree_hash(&setup.served()),
        served_before,
        "the served tree is untouched"
    );
    assert_eq!(
        std::fs::read(setup.repo.join("metadata/timestamp.json")).unwrap(),
        timestamp_before
    );
    assert_ne!(
        std::fs::read(setup.repo.join("metadata/snapshot.json")).unwrap(),
        std::fs::read(setup.served().join("1.snapshot.json")).unwrap(),
        "metadata/ is ahead of the served tree"
    );
    assert_eq!(ngclient_root_version(&setup, None), 1, "the served tree still verifies");
    // Running publish again restores metadata/ and publishes the round.
    let out = trustroot(&setup.repo, &["ceremony", "publish"]);
    assert!(out.status.success(), "{}", common::text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("an earlier publish or online refresh stopped"),
        "{stderr}"
    );
    assert!(setup.served().join("2.targets.json").is_file());
    let server = SimServer::serve_dir(&setup.served());
    let out = common::ngclient(
        None,
        &setup.served().join("1.root.json"),
        &server.base_url(),
        &format!("{}targets/", server.base_url()),
        &["signing_config.v0.2.json"],
    );
    assert!(out.status.success(), "{}", common::text(&out));
    drop(server);

    // Refresh: snapshot re-signed on every refresh, crash after metadata/snapshot.json.
    let policy_path = setup.repo.join("trustroot.toml");
    let policy = std::fs::read_to_string(&policy_path).unwrap();
    let policy = policy.replace(
        "[roles.snapshot]\nexpiry_days = 3650\nsigning_days = 365",
        "[roles.snapshot]\nexpiry_days = 3650\nsigning_days = 3649",
    );
    std::fs::write(&policy_path, policy).unwrap();
    // Two days on, snapshot is inside its (now 3649-day) signing period.
    let at = trustroot_core::time::format(&(Utc::now() + Duration::days(2)));
    let served_before = tree_hash(&setup.served());
    crash_after(&setup, "snapshot", &["online", "refresh", "--at", &at]);
    assert_eq!(tree_hash(&setup.served()), served_before);
    assert_eq!(ngclient_root_version(&setup, None), 1);
    let out = trustroot(&setup.repo, &["online", "refresh", "--at", &at, "--json"]);
    assert!(out.status.success(), "{}", common::text(&out));
    let report = json(&out);
    assert!(
        report["recovered"].as_str().unwrap().contains("metadata/ was restored"),
        "{report}"
    );
    assert_eq!(report["refreshed"], serde_json::json!(["snapshot", "timestamp"]));
    assert_eq!(
        std::fs::read(setup.repo.join("metadata/timestamp.json")).unwrap(),
        std::fs::read(setup.served().join("timestamp.json")).unwrap()
    );
    assert_eq!(ngclient_root_version(&setup, None), 1);
    // A further refresh has nothing to repair.
    let out = trustroot(&setup.repo, &["online", "refresh", "--at", &at, "--force", "--json"]);
    assert!(json(&out).get("recovered").is_none(), "{}", common::text(&out));
}

#[test]
fn metadata_behind_the_served_tree_is_refused_not_rolled_back() {
    let setup = sigstore_shaped();
    let old = std::fs::read(setup.repo.join("metadata/timestamp.json")).unwrap();
    ok(&setup.repo, &["online", "refresh", "--force"]);
    // metadata/ now lags: an older timestamp than the one served.
    std::fs::write(setup.repo.join("metadata/timestamp.json"), &old).unwrap();
    let served_before = tree_hash(&setup.served());
    let stderr = fails(&setup.repo, &["online", "refresh", "--force"]);
    assert!(
        stderr.contains("metadata/ is behind what clients are served"),
        "{stderr}"
    );
    assert_eq!(tree_hash(&setup.served()), served_before);
    assert_eq!(std::fs::read(setup.repo.join("metadata/timestamp.json")).unwrap(), old);
}
