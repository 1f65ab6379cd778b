//! `trustroot mirror serve` on a directory of named repositories (issue 23): the real
//! Sigstore production and staging repositories (the fixtures), mirrored side by side with
//! the clock pinned by faketime at a time both are valid at, exported in one bundle and
//! imported elsewhere (each from its own pinned root), served together, each under
//! `/NAME/`, to python-tuf's ngclient and `trustroot client`; `/metrics` labels each with
//! its name and `/_status` has a section for each. No path reaches from one repository into
//! another, or out of the directory.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Serving, file_url, ngclient, text, trustroot, trustroot_at, trustroot_client, unpack_fixtures};
use trustroot_mirror::set::{self, Kind};
use trustroot_test_support::prometheus::check_metrics;
use trustroot_test_support::{RepoSim, SimServer};

/// Both repositories are valid then (see cli/tests/mirror_fixtures.rs and client_fixtures.rs).
const TIME: &str = "2026-08-22 00:00:00";
/// TIME as Unix time: when the pinned syncs succeeded.
const SYNCED: &str = "1787356800";

/// The fixture set each repository is mirrored from.
const REPOSITORIES: [(&str, &str); 2] = [("production", "sigstore-prod"), ("staging", "sigstore-staging")];

/// `mirror sync DIR/NAME` at TIME from the fixture set `set`, as a user adding a repository
/// to a directory of named repositories would (the directory is marked with `set::create`).
fn sync_named(fixtures: &Path, dir: &Path, name: &str, fixture: &str) {
    let published = fixtures.join(fixture).join("published");
    let out = trustroot_at(
        TIME,
        &[
            "mirror",
            "sync",
            set::repository_dir(dir, name).unwrap().to_str().unwrap(),
            "--from",
            &file_url(&published),
            "--root",
            published.join("1.root.json").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "sync {name}: {}", text(&out));
}

/// A directory of named repositories holding Sigstore production and staging, synced at TIME.
fn named_mirror(fixtures: &Path, work: &Path) -> PathBuf {
    let dir = work.join("mirror");
    set::create(&dir).unwrap();
    for (name, fixture) in REPOSITORIES {
        sync_named(fixtures, &dir, name, fixture);
    }
    assert_eq!(
        set::kind(&dir).unwrap(),
        Kind::Named(vec!["production".into(), "staging".into()])
    );
    dir
}

/// `dir` carried across the gap: exported at TIME into one bundle and imported into
/// `work/isolated`, each repository verified from its own root, pinned by name.
fn carried_across(fixtures: &Path, work: &Path, dir: &Path) -> PathBuf {
    let bundle = work.join("sigstore.tar.zst");
    let out = trustroot_at(
        TIME,
        &[
            "mirror",
            "export",
            dir.to_str().unwrap(),
            "--out",
            bundle.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "export: {}", text(&out));
    let isolated = work.join("isolated");
    let roots: Vec<String> = REPOSITORIES
        .iter()
        .map(|(name, fixture)| {
            format!(
                "{name}={}",
                fixtures.join(fixture).join("published/1.root.json").display()
            )
        })
        .collect();
    let mut args = vec![
        "mirror",
        "import",
        isolated.to_str().unwrap(),
        "--bundle",
        bundle.to_str().unwrap(),
    ];
    for root in &roots {
        args.extend(["--root", root.as_str()]);
    }
    let out = trustroot_at(TIME, &args);
    assert!(out.status.success(), "import: {}", text(&out));
    for (name, _) in REPOSITORIES {
        assert!(
            text(&out).contains(&format!("{name}: now serving state 1")),
            "{}",
            text(&out)
        );
    }
    isolated
}

/// `METHOD path` over HTTP/1.0, the path sent exactly as given (no client normalises
/// `..` away): the status code, the headers (names lowercased) and the body.
fn request(url: &str, method: &str, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use std::io::{Read as _, Write as _};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(response[..split].to_vec()).unwrap();
    let body = response[split + 4..].to_vec();
    let mut lines = head.lines();
    let code = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .map(|l| {
            let (name, value) = l.split_once(':').unwrap();
            (name.trim().to_ascii_lowercase(), value.trim().to_string())
        })
        .collect();
    (code, headers, body)
}

fn get(url: &str, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    request(url, "GET", path)
}

fn get_text(url: &str, path: &str) -> (u16, String) {
    let (code, _, body) = get(url, path);
    (code, String::from_utf8(body).unwrap())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
}

/// The targets a client asks each repository for: the trusted root, the signing config
/// and the delegated npm role's keys (its name read from the served targets metadata).
fn wanted(served: &Path) -> Vec<String> {
    let targets = std::fs::read_dir(served)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".targets.json"))
        .unwrap();
    let targets: serde_json::Value = serde_json::from_slice(&std::fs::read(targets).unwrap()).unwrap();
    let delegated = targets["signed"]["delegations"]["roles"][0]["name"].as_str().unwrap();
    vec!["trusted_root.json".into(), format!("{delegated}/keys.json")]
}

#[test]
fn production_and_staging_are_served_each_under_its_name_to_python_tuf_and_trustroot_clients() {
    let fixtures = unpack_fixtures();
    let work = tempfile::tempdir().unwrap();
    // Mirrored on the connected side, carried across in one bundle, served on the other.
    let mirrored = named_mirror(fixtures.path(), work.path());
    let dir = carried_across(fixtures.path(), work.path(), &mirrored);
    let log = work.path().join("access.log");
    let mut serving = Serving::start_with(&dir, &log, &["--metrics", "--status-page"]);
    assert!(serving.url.ends_with('/'));

    for (name, fixture) in REPOSITORIES {
        let published = fixtures.path().join(fixture).join("published");
        let served = dir.join(name).join("repository");
        let metadata_url = format!("{}{name}/", serving.url);
        let targets_url = format!("{metadata_url}targets/");
        let wanted = wanted(&served);
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();

        let out = trustroot_client(
            Some(TIME),
            &published.join("1.root.json"),
            &metadata_url,
            &targets_url,
            &wanted,
        );
        assert!(out.status.success(), "trustroot client of /{name}/: {}", text(&out));
        // python-tuf cannot read the `expires` forms of Sigstore's first roots: like
        // Sigstore's own client tests (and mirror_fixtures.rs), it starts from root v5.
        let out = ngclient(
            Some(TIME),
            &served.join("5.root.json"),
            &metadata_url,
            &targets_url,
            &wanted,
        );
        assert!(out.status.success(), "python-tuf ngclient of /{name}/: {}", text(&out));
        let newest_root = std::fs::read_dir(&served)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().into_string().unwrap();
                name.strip_suffix(".root.json")?.parse::<u64>().ok()
            })
            .max()
            .unwrap();
        assert!(
            text(&out).contains(&format!("root v{newest_root}")),
            "/{name}/ should be at root v{newest_root}: {}",
            text(&out)
        );

        // Each prefix serves its own repository's bytes, with the per-repository headers.
        let (code, headers, body) = get(&serving.url, &format!("/{name}/timestamp.json"));
        assert_eq!(code, 200);
        assert_eq!(body, std::fs::read(served.join("timestamp.json")).unwrap());
        assert_eq!(header(&headers, "cache-control"), "no-store");
        let (code, headers, body) = get(&serving.url, &format!("/{name}/{newest_root}.root.json"));
        assert_eq!(code, 200);
        assert_eq!(
            body,
            std::fs::read(served.join(format!("{newest_root}.root.json"))).unwrap()
        );
        assert_eq!(header(&headers, "cache-control"), "public, max-age=31536000, immutable");
    }
    let timestamp = |name: &str| get(&serving.url, &format!("/{name}/timestamp.json")).2;
    assert_ne!(timestamp("production"), timestamp("staging"));

    // `/` lists the repositories and where they are served.
    let (code, headers, index) = get(&serving.url, "/");
    assert_eq!(code, 200);
    assert_eq!(header(&headers, "content-type"), "application/json");
    assert_eq!(header(&headers, "cache-control"), "no-store");
    let index: serde_json::Value = serde_json::from_slice(&index).unwrap();
    assert_eq!(
        index,
        serde_json::json!({"repositories": [
            {"name": "production", "path": "/production/"},
            {"name": "staging", "path": "/staging/"},
        ]})
    );

    // /metrics: both repositories' gauges, each labelled with its name, valid for promtool.
    let (code, metrics) = get_text(&serving.url, "/metrics");
    assert_eq!(code, 200, "{metrics}");
    check_metrics(&metrics);
    for (name, _) in REPOSITORIES {
        for sample in [
            format!("trustroot_role_expiry_timestamp_seconds{{repository=\"{name}\",role=\"timestamp\"}} "),
            format!("trustroot_mirror_last_sync_success_timestamp_seconds{{repository=\"{name}\"}} {SYNCED}\n"),
            format!("trustroot_mirror_sync_failures_total{{repository=\"{name}\"}} 0\n"),
        ] {
            assert!(metrics.contains(&sample), "{sample} in:\n{metrics}");
        }
    }
    assert!(
        metrics.contains("trustroot_role_version{repository=\"production\",role=\"root\"} 15\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("trustroot_role_version{repository=\"staging\",role=\"root\"} 14\n"),
        "{metrics}"
    );
    assert_eq!(
        metrics.matches("# TYPE trustroot_role_version gauge").count(),
        1,
        "{metrics}"
    );

    // /_status: a section for each repository, with where it syncs from.
    let (code, page) = get_text(&serving.url, "/_status");
    assert_eq!(code, 200, "{page}");
    for (name, fixture) in REPOSITORIES {
        assert!(page.contains(&format!("data-repository=\"{name}\"")), "{name}: {page}");
        let origin = file_url(&fixtures.path().join(fixture).join("published"));
        assert!(page.contains(&origin), "{origin}: {page}");
    }
    assert!(
        !page.contains(dir.to_str().unwrap()),
        "the local directory is left out: {page}"
    );
    assert_eq!(page.matches("data-role=\"timestamp\"").count(), 2, "{page}");

    // Every request reached the access log under its prefix (written out when the server
    // stops on SIGTERM: the log is buffered).
    assert!(serving.stop("TERM").success());
    let log = std::fs::read_to_string(&log).unwrap();
    for (name, _) in REPOSITORIES {
        assert!(log.contains(&format!(" GET /{name}/timestamp.json 200 ")), "{log}");
        assert!(log.contains(&format!(" GET /{name}/targets/")), "{log}");
    }
}

#[test]
fn cross_repository_traversal_and_paths_outside_every_repository_are_refused() {
    let fixtures = unpack_fixtures();
    let work = tempfile::tempdir().unwrap();
    let dir = named_mirror(fixtures.path(), work.path());
    // A directory planted beside the repositories as a symlink to one of them, and a
    // secret next to the directory: neither is served.
    std::os::unix::fs::symlink(dir.join("production"), dir.join("planted")).unwrap();
    std::fs::write(work.path().join("secret"), b"not for clients").unwrap();
    let serving = Serving::start_with(&dir, &work.path().join("access.log"), &["--metrics"]);
    assert_eq!(get(&serving.url, "/production/timestamp.json").0, 200);
    for path in [
        "/production/../staging/timestamp.json",
        "/production/%2e%2e/staging/timestamp.json",
        "/production/%2E%2E/staging/timestamp.json",
        "/production/..%2fstaging/timestamp.json",
        "/production%2f..%2fstaging/timestamp.json",
        "/production/targets/../../staging/timestamp.json",
        "/../secret",
        "/%2e%2e/secret",
        "/production/../../secret",
        "/./production/timestamp.json",
        "//production/timestamp.json",
        "/production//timestamp.json",
        "/production",
        "/production/",
        "/%2e%2etrustroot-mirrors.json",
        "/.trustroot-mirrors.json",
        "/production/.trustroot-mirror/sync-record.json",
        "/production/repository/timestamp.json",
        "/production/.trustroot-mirror/states/1/tree/timestamp.json",
        "/planted/timestamp.json",
        "/unknown/timestamp.json",
        "/_status/timestamp.json",
        "/metrics/timestamp.json",
        "/production%00/timestamp.json",
        "/production\\..\\staging/timestamp.json",
    ] {
        let (code, _, body) = get(&serving.url, path);
        assert_eq!(code, 404, "{path}: {}", String::from_utf8_lossy(&body));
    }
}

#[test]
fn a_repository_added_while_serving_is_served_at_once_and_a_label_is_refused() {
    let fixtures = unpack_fixtures();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("mirror");
    set::create(&dir).unwrap();

    // Nothing served yet: refused, saying what to do.
    let out = trustroot(&["mirror", "serve", dir.to_str().unwrap(), "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("nothing is mirrored here yet"), "{}", text(&out));

    sync_named(fixtures.path(), &dir, "production", "sigstore-prod");
    // Each named repository's label is its name: another label is refused.
    let out = trustroot(&[
        "mirror",
        "serve",
        dir.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--metrics",
        "--repository-label",
        "sigstore",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("leave out --repository-label"), "{}", text(&out));

    let serving = Serving::start_with(&dir, &work.path().join("access.log"), &["--metrics", "--status-page"]);
    assert_eq!(get(&serving.url, "/staging/timestamp.json").0, 404);
    sync_named(fixtures.path(), &dir, "staging", "sigstore-staging");
    let (code, _, body) = get(&serving.url, "/staging/timestamp.json");
    assert_eq!(code, 200);
    assert_eq!(
        body,
        std::fs::read(dir.join("staging/repository/timestamp.json")).unwrap()
    );
    assert!(get_text(&serving.url, "/").1.contains("\"/staging/\""));
    assert!(
        get_text(&serving.url, "/metrics")
            .1
            .contains("trustroot_role_version{repository=\"staging\",role=\"root\"} 14\n")
    );
    assert!(
        get_text(&serving.url, "/_status")
            .1
            .contains("data-repository=\"staging\"")
    );

    // A repository whose first sync has not finished (its directory only) is not served,
    // and its section on the status page says so.
    std::fs::create_dir_all(dir.join("next/.trustroot-mirror")).unwrap();
    assert_eq!(get(&serving.url, "/next/timestamp.json").0, 404);
    let (code, page) = get_text(&serving.url, "/_status");
    assert_eq!(code, 200);
    assert!(page.contains("data-repository=\"next\""), "{page}");
    assert!(page.contains("nothing is served yet"), "{page}");
    let (code, metrics) = get_text(&serving.url, "/metrics");
    assert_eq!(code, 200);
    assert!(!metrics.contains("repository=\"next\""), "{metrics}");
    assert!(metrics.contains("repository=\"production\""), "{metrics}");
}

/// A simulated repository with one target, served on 127.0.0.1, mirrored as `DIR/NAME`.
fn simulated(work: &Path, dir: &Path, name: &str) -> (Arc<Mutex<RepoSim>>, SimServer, PathBuf) {
    let mut repo = RepoSim::new(chrono::Utc::now());
    repo.add_target("targets", "a.txt", format!("{name}: first target").as_bytes());
    repo.publish();
    let root = work.join(format!("{name}.1.root.json"));
    std::fs::write(&root, repo.root_bytes(1).unwrap()).unwrap();
    let repo = Arc::new(Mutex::new(repo));
    let origin = SimServer::start(repo.clone());
    sync_simulated(dir, name, &origin, &root);
    (repo, origin, root)
}

fn sync_simulated(dir: &Path, name: &str, origin: &SimServer, root: &Path) {
    let out = trustroot(&[
        "mirror",
        "sync",
        dir.join(name).to_str().unwrap(),
        "--from",
        &origin.metadata_url(),
        "--targets-from",
        &origin.targets_url(),
        "--root",
        root.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "sync {name}: {}", text(&out));
}

#[test]
fn a_sync_of_one_named_repository_switches_what_its_prefix_serves_and_leaves_the_other_alone() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("mirror");
    set::create(&dir).unwrap();
    let (one, one_origin, one_root) = simulated(work.path(), &dir, "one");
    let (_two, _two_origin, two_root) = simulated(work.path(), &dir, "two");
    let serving = Serving::start_with(&dir, &work.path().join("access.log"), &[]);
    let urls = |name: &str| {
        (
            format!("{}{name}/", serving.url),
            format!("{}{name}/targets/", serving.url),
        )
    };

    let (metadata, targets) = urls("one");
    let out = trustroot_client(None, &one_root, &metadata, &targets, &["a.txt"]);
    assert!(out.status.success(), "{}", text(&out));
    let two_before = get(&serving.url, "/two/timestamp.json").2;
    assert_ne!(get(&serving.url, "/one/timestamp.json").2, two_before);

    // A new version of repository one, synced while the server runs: its next request
    // sees it, a client gets its new target, and repository two is served as before.
    {
        let mut repo = one.lock().unwrap();
        repo.add_target("targets", "b.txt", b"one: second target");
        repo.publish();
    }
    sync_simulated(&dir, "one", &one_origin, &one_root);
    assert_eq!(
        get(&serving.url, "/one/timestamp.json").2,
        one.lock().unwrap().current_bytes("timestamp")
    );
    let out = trustroot_client(None, &one_root, &metadata, &targets, &["a.txt", "b.txt"]);
    assert!(out.status.success(), "{}", text(&out));
    let (code, _, body) = get(&serving.url, "/two/targets/b.txt");
    assert_eq!(code, 404, "{}", String::from_utf8_lossy(&body));
    assert_eq!(get(&serving.url, "/two/timestamp.json").2, two_before);
    let (metadata, targets) = urls("two");
    let out = trustroot_client(None, &two_root, &metadata, &targets, &["a.txt"]);
    assert!(out.status.success(), "{}", text(&out));
}
