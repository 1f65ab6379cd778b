//! Metrics as Prometheus reads them: `trustroot expiry --format prometheus` and `mirror
//! serve --metrics` checked by promtool, scraped by a real Prometheus on 127.0.0.1 and
//! queried through its HTTP API, and the documented alert rules run by `promtool test
//! rules` on the series these tests get. Sigstore's production repository (the bundled
//! copy) is mirrored with the clock pinned by faketime, as the other mirror tests do.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;
mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Serving, text, trustroot, trustroot_at, trustroot_client, unpack_fixtures};
use trustroot_test_support::prometheus::{self, Prometheus, http_get};
use trustroot_test_support::{DelegatedRoleSpec, RepoSim, SimServer};

const TIME: &str = "2026-08-22 00:00:00";
/// When Sigstore production's timestamp v762 expires: 2026-08-28T19:25:56Z.
const TIMESTAMP_EXPIRES: &str = "1787945156";
/// When the sync of [`sigstore_mirror`] succeeded, as Unix time, from the mirror's record:
/// faketime starts it at TIME and lets the clock run, so on a loaded machine it is
/// recorded a second or two after TIME.
fn synced(dir: &Path) -> String {
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(".trustroot-mirror/sync-record.json")).unwrap()).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(record["last_success"].as_str().unwrap()).unwrap();
    let seconds = at.timestamp() - 1_787_356_800;
    assert!(
        (0..10).contains(&seconds),
        "synced at TIME (2026-08-22T00:00:00Z): {record}"
    );
    at.timestamp().to_string()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A mirror of Sigstore production, synced at TIME.
fn sigstore_mirror(fixtures: &Path, work: &Path) -> PathBuf {
    let published = fixtures.join("sigstore-prod/published");
    let dir = work.join("mirror");
    let out = trustroot_at(
        TIME,
        &[
            "mirror",
            "sync",
            dir.to_str().unwrap(),
            "--from",
            &common::file_url(&published),
            "--root",
            published.join("1.root.json").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    dir
}

/// `mirror serve --metrics` (and more ARGS) on a free port: the server and its port.
fn serve_metrics(dir: &Path, work: &Path, args: &[&str]) -> (Serving, u16) {
    let serving = Serving::start_with(dir, &work.join("access.log"), args);
    let port = serving
        .url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (serving, port)
}

/// `GET /metrics`, asserted to be 200.
fn scrape(port: u16) -> String {
    let (code, body) = http_get(port, "/metrics").unwrap();
    assert_eq!(code, 200, "{body}");
    body
}

/// The input series of the checked-in rules test, each with its first value, as sample
/// lines of the text format.
fn rules_test_samples() -> Vec<String> {
    let test = std::fs::read_to_string(repo_root().join("docs/monitoring/trustroot-alerts.test.yml")).unwrap();
    let mut samples = Vec::new();
    let mut series = None;
    for line in test.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("- series: ") {
            series = Some(rest.trim_matches('\'').to_string());
        } else if let Some(rest) = line.strip_prefix("values: ") {
            let first = rest
                .trim_matches('\'')
                .split(['+', 'x', ' '])
                .next()
                .unwrap()
                .to_string();
            samples.push(format!("{} {first}", series.take().unwrap()));
        }
    }
    assert!(samples.len() >= 3, "{samples:?}");
    samples
}

#[test]
fn expiry_metrics_pass_promtool_and_the_alert_rules_fire_on_them() {
    let fixtures = unpack_fixtures();
    let work = tempfile::tempdir().unwrap();
    let dir = sigstore_mirror(fixtures.path(), work.path());
    let out = trustroot_at(
        TIME,
        &[
            "expiry",
            dir.to_str().unwrap(),
            "--format",
            "prometheus",
            "--repository-label",
            "sigstore-prod",
        ],
    );
    // Nothing expires within its signing period at TIME: exit 0, as with the table.
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let exposition = String::from_utf8(out.stdout).unwrap();
    prometheus::check_metrics(&exposition);
    assert!(
        exposition.contains(&format!(
            "trustroot_role_expiry_timestamp_seconds{{repository=\"sigstore-prod\",role=\"timestamp\"}} {TIMESTAMP_EXPIRES}\n"
        )),
        "{exposition}"
    );
    // Timestamp's signing period is the default day.
    assert!(exposition.contains(
        "trustroot_role_signing_period_start_timestamp_seconds{repository=\"sigstore-prod\",role=\"timestamp\"} 1787858756\n"
    ));
    // The delegated role is there too.
    assert!(exposition.contains("role=\"registry.npmjs.org\"}"), "{exposition}");

    // The series the rules test feeds promtool are these, and the mirror's own from serve.
    let (_serving, port) = serve_metrics(&dir, work.path(), &["--metrics", "--repository-label", "sigstore-prod"]);
    let served = scrape(port);
    for sample in rules_test_samples() {
        assert!(
            exposition.contains(&format!("{sample}\n")) || served.contains(&format!("{sample}\n")),
            "the rules test's input {sample:?} is not what trustroot reports:\n{exposition}\n{served}"
        );
    }
    let out = prometheus::test_rules(&repo_root().join("docs/monitoring/trustroot-alerts.test.yml"));
    assert!(out.status.success(), "promtool test rules:\n{}", text(&out));

    // --json is --format json; the two cannot be given together; a label needs metrics.
    let json = trustroot_at(TIME, &["expiry", dir.to_str().unwrap(), "--json"]);
    let format_json = trustroot_at(TIME, &["expiry", dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(json.stdout, format_json.stdout);
    let both = trustroot_at(TIME, &["expiry", dir.to_str().unwrap(), "--json", "--format", "text"]);
    assert_eq!(both.status.code(), Some(2), "{}", text(&both));
    let label = trustroot_at(TIME, &["expiry", dir.to_str().unwrap(), "--repository-label", "x"]);
    assert_eq!(label.status.code(), Some(2), "{}", text(&label));
    assert!(text(&label).contains("needs --format prometheus"), "{}", text(&label));

    // Expired: exit 3 still, the metrics still printed; an error prints nothing on
    // standard output, so a collector's file is never half an error.
    let out = trustroot_at(
        "2026-08-29 00:00:00",
        &["expiry", dir.to_str().unwrap(), "--format", "prometheus"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    prometheus::check_metrics(&String::from_utf8(out.stdout).unwrap());
    let out = trustroot(&["expiry", work.path().to_str().unwrap(), "--format", "prometheus"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("error: "),
        "{}",
        text(&out)
    );
}

#[test]
fn prometheus_scrapes_mirror_serve_and_finds_the_timestamp_expiry() {
    let fixtures = unpack_fixtures();
    let work = tempfile::tempdir().unwrap();
    let dir = sigstore_mirror(fixtures.path(), work.path());
    let (mut serving, port) = serve_metrics(&dir, work.path(), &["--metrics", "--repository-label", "sigstore-prod"]);
    // A file served, a file missing: counted by code, with the bytes sent.
    assert_eq!(http_get(port, "/timestamp.json").unwrap().0, 200);
    assert_eq!(http_get(port, "/no-such-file.json").unwrap().0, 404);
    let exposition = scrape(port);
    prometheus::check_metrics(&exposition);
    for expected in [
        format!(
            "trustroot_mirror_last_sync_success_timestamp_seconds{{repository=\"sigstore-prod\"}} {}\n",
            synced(&dir)
        ),
        "trustroot_mirror_sync_failures_total{repository=\"sigstore-prod\"} 0\n".to_string(),
        "trustroot_http_requests_total{code=\"200\"} 1\n".to_string(),
        "trustroot_http_requests_total{code=\"404\"} 1\n".to_string(),
    ] {
        assert!(exposition.contains(&expected), "{expected} in:\n{exposition}");
    }
    let timestamp_len = std::fs::metadata(dir.join("repository/timestamp.json")).unwrap().len();
    let bytes = format!(
        "trustroot_http_response_bytes_total {}\n",
        timestamp_len + "not found\n".len() as u64
    );
    assert!(exposition.contains(&bytes), "{bytes} in:\n{exposition}");

    let prometheus = Prometheus::start(&format!("127.0.0.1:{port}"));
    let query = "trustroot_role_expiry_timestamp_seconds%7Brole%3D%22timestamp%22%7D";
    let deadline = Instant::now() + Duration::from_secs(30);
    let result = loop {
        let answer = prometheus.query(query);
        let result = answer["data"]["result"].as_array().cloned().unwrap_or_default();
        if !result.is_empty() {
            break result;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus found no timestamp expiry in 30 s: {answer}\n{}",
            prometheus.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(result.len(), 1, "{result:?}");
    assert_eq!(result[0]["metric"]["repository"], "sigstore-prod");
    assert_eq!(result[0]["metric"]["job"], "trustroot-mirror");
    assert_eq!(result[0]["value"][1], TIMESTAMP_EXPIRES);
    let synced = prometheus.query("trustroot_mirror_last_sync_success_timestamp_seconds");
    assert_eq!(synced["data"]["result"][0]["value"][1], self::synced(&dir), "{synced}");
    // Prometheus's scrapes are requests like any other.
    let (_, targets) = prometheus.get("/api/v1/targets");
    assert!(targets.contains("\"health\":\"up\""), "{targets}");
    drop(prometheus);
    assert!(serving.stop("TERM").success());
}

#[test]
fn metrics_is_served_only_with_the_flag_and_never_hides_a_target_called_metrics() {
    let work = tempfile::tempdir().unwrap();
    let mut repo = RepoSim::new(chrono::Utc::now());
    repo.add_target("targets", "metrics", b"a target called metrics");
    repo.publish();
    let root = work.path().join("1.root.json");
    std::fs::write(&root, repo.root_bytes(1).unwrap()).unwrap();
    let origin = SimServer::start(Arc::new(Mutex::new(repo)));
    let dir = work.path().join("mirror");
    let out = trustroot(&[
        "mirror",
        "sync",
        dir.to_str().unwrap(),
        "--from",
        &origin.metadata_url(),
        "--targets-from",
        &origin.targets_url(),
        "--root",
        root.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));

    {
        let (_serving, port) = serve_metrics(&dir, work.path(), &[]);
        assert_eq!(http_get(port, "/metrics").unwrap().0, 404);
    }
    let (serving, port) = serve_metrics(&dir, work.path(), &["--metrics"]);
    let exposition = scrape(port);
    prometheus::check_metrics(&exposition);
    // Labelled with the recorded origin by default.
    assert!(
        exposition.contains(&format!(
            "{{repository=\"{}\",role=\"timestamp\"}}",
            origin.metadata_url()
        )),
        "{exposition}"
    );
    // The target is under /targets/, downloaded and verified by a client through the
    // same server.
    let targets = format!("{}targets/", serving.url);
    let out = trustroot_client(None, &root, &serving.url, &targets, &["metrics"]);
    assert!(out.status.success(), "download: {}", text(&out));
}

#[test]
fn a_failed_sync_is_counted_and_the_last_success_kept() {
    let fixtures = unpack_fixtures();
    let work = tempfile::tempdir().unwrap();
    let dir = sigstore_mirror(fixtures.path(), work.path());
    let gone = work.path().join("gone");
    for _ in 0..2 {
        let out = trustroot_at(
            "2026-08-22 01:00:00",
            &[
                "mirror",
                "sync",
                dir.to_str().unwrap(),
                "--from",
                &common::file_url(&gone),
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    }
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(".trustroot-mirror/sync-record.json")).unwrap()).unwrap();
    assert_eq!(record["failures_total"], 2);
    // The last success is still the first sync's (at TIME), not a failed one's.
    synced(&dir);
    // faketime starts each sync at 01:00:00 and lets the clock run: on a loaded machine
    // the failure is recorded a second or two later.
    let last_failure = record["last_failure"].as_str().unwrap().to_string();
    assert!(
        within_seconds_after(&last_failure, "2026-08-22T01:00:00Z", 10),
        "{record}"
    );
    assert!(record["last_error"].as_str().unwrap().contains("gone"), "{record}");
    let out = trustroot_at(TIME, &["mirror", "status", dir.to_str().unwrap(), "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["syncs"], record);
    let out = trustroot_at(TIME, &["mirror", "status", dir.to_str().unwrap()]);
    assert!(
        text(&out).contains(&format!("failed syncs: 2 (the last at {last_failure}: ")),
        "{}",
        text(&out)
    );

    let (_serving, port) = serve_metrics(&dir, work.path(), &["--metrics", "--repository-label", "sigstore-prod"]);
    let exposition = scrape(port);
    prometheus::check_metrics(&exposition);
    assert!(exposition.contains("trustroot_mirror_sync_failures_total{repository=\"sigstore-prod\"} 2\n"));
    assert!(exposition.contains(&format!(
        "trustroot_mirror_last_sync_success_timestamp_seconds{{repository=\"sigstore-prod\"}} {}\n",
        synced(&dir)
    )));

    // A sync that succeeds again, finding nothing new, is a success all the same.
    let published = fixtures.path().join("sigstore-prod/published");
    let out = trustroot_at(
        "2026-08-22 02:00:00",
        &[
            "mirror",
            "sync",
            dir.to_str().unwrap(),
            "--from",
            &common::file_url(&published),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let exposition = scrape(port);
    // The no-change sync started at 02:00:00 (1787364000), recorded when it ended.
    let recorded: i64 = exposition
        .lines()
        .find_map(|l| {
            l.strip_prefix("trustroot_mirror_last_sync_success_timestamp_seconds{repository=\"sigstore-prod\"} ")
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{exposition}"));
    assert!((1_787_364_000..1_787_364_010).contains(&recorded), "{exposition}");
    assert!(exposition.contains("trustroot_mirror_sync_failures_total{repository=\"sigstore-prod\"} 2\n"));
}

#[test]
fn role_and_repository_names_built_to_forge_samples_stay_label_values() {
    // A delegated role whose name closes the label value and the sample, then starts a
    // forged series on a new line; and a repository label ending in a backslash.
    let forged = "x\"} 1\ntrustroot_role_expiry_timestamp_seconds{role=\"root\"} 9999999999";
    let work = tempfile::tempdir().unwrap();
    let mut repo = RepoSim::new(chrono::Utc::now());
    repo.add_delegation("targets", DelegatedRoleSpec::new(forged, &["forged/*"]));
    repo.add_target(forged, "forged/a.txt", b"a");
    repo.publish();
    let root = work.path().join("1.root.json");
    std::fs::write(&root, repo.root_bytes(1).unwrap()).unwrap();
    let origin = SimServer::start(Arc::new(Mutex::new(repo)));
    let dir = work.path().join("mirror");
    let out = trustroot(&[
        "mirror",
        "sync",
        dir.to_str().unwrap(),
        "--from",
        &origin.metadata_url(),
        "--targets-from",
        &origin.targets_url(),
        "--root",
        root.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));

    let label = "site \"a\"\nforged_metric 1\\";
    let out = trustroot(&[
        "expiry",
        dir.to_str().unwrap(),
        "--format",
        "prometheus",
        "--repository-label",
        label,
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    let from_expiry = String::from_utf8(out.stdout).unwrap();
    let (_serving, port) = serve_metrics(&dir, work.path(), &["--metrics", "--repository-label", label]);
    let from_serve = scrape(port);
    for exposition in [&from_expiry, &from_serve] {
        prometheus::check_metrics(exposition);
        assert!(!exposition.contains("9999999999\n"), "{exposition}");
        assert!(
            !exposition.lines().any(|l| l.starts_with("forged_metric")),
            "{exposition}"
        );
        // Five roles (root, timestamp, snapshot, targets, the forged one), one line each.
        let expiries = exposition
            .lines()
            .filter(|l| l.starts_with("trustroot_role_expiry_timestamp_seconds{"))
            .count();
        assert_eq!(expiries, 5, "{exposition}");
        assert!(
            exposition.contains(
                "{repository=\"site \\\"a\\\"\\nforged_metric 1\\\\\",role=\"x\\\"} 1\\ntrustroot_role_expiry_timestamp_seconds{role=\\\"root\\\"} 9999999999\"} "
            ),
            "{exposition}"
        );
    }
    // `mirror status` shows the same role name escaped: one line per role, nothing forged.
    let out = trustroot(&["mirror", "status", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let status = String::from_utf8(out.stdout).unwrap();
    assert!(!status.lines().any(|l| l.starts_with("trustroot_role")), "{status}");
    assert!(status.contains("x\"} 1\\ntrustroot_role_expiry"), "{status}");
}

#[test]
fn a_signing_repository_reports_its_published_roles_with_the_policy_signing_periods() {
    let setup = ceremony_common::Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    let repo = setup.repo.to_str().unwrap();
    let out = trustroot(&["expiry", repo, "--format", "prometheus"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let exposition = String::from_utf8(out.stdout).unwrap();
    prometheus::check_metrics(&exposition);
    let timestamp: serde_json::Value =
        serde_json::from_slice(&std::fs::read(setup.served().join("timestamp.json")).unwrap()).unwrap();
    let expires = trustroot_core::time::parse(timestamp["signed"]["expires"].as_str().unwrap()).unwrap();
    // Labelled with the repository's absolute path; timestamp's signing period is the
    // policy's 6 days.
    let labels = format!("{{repository=\"{repo}\",role=\"timestamp\"}}");
    for expected in [
        format!(
            "trustroot_role_expiry_timestamp_seconds{labels} {}\n",
            expires.timestamp()
        ),
        format!(
            "trustroot_role_signing_period_start_timestamp_seconds{labels} {}\n",
            (expires - chrono::Duration::days(6)).timestamp()
        ),
    ] {
        assert!(exposition.contains(&expected), "{expected} in:\n{exposition}");
    }
    for role in ["root", "timestamp", "snapshot", "targets"] {
        let series = format!("trustroot_role_version{{repository=\"{repo}\",role=\"{role}\"}} ");
        assert_eq!(exposition.matches(&series).count(), 1, "{series} in:\n{exposition}");
    }

    // A round opened and not published: its staged roles are not served, so not reported.
    setup.start();
    let table = trustroot(&["expiry", repo]);
    assert!(text(&table).contains("staged (round "), "{}", text(&table));
    let out = trustroot(&["expiry", repo, "--format", "prometheus"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), exposition);
}

/// `at` (RFC 3339) is `start` or at most `seconds` later.
fn within_seconds_after(at: &str, start: &str, seconds: i64) -> bool {
    let (at, start) = (
        chrono::DateTime::parse_from_rfc3339(at).unwrap(),
        chrono::DateTime::parse_from_rfc3339(start).unwrap(),
    );
    (0..=seconds).contains(&(at - start).num_seconds())
}
