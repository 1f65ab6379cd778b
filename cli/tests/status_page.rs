//! The status page of `ceremony status --html`, for a repository with an open round half
//! signed (a root rotation: the published root's threshold and the new root's), opened in
//! the Debian Chromium through puppeteer-core in a network namespace with only loopback:
//! screenshots at desktop and phone width, what the DOM shows (every missing keyholder as
//! missing, every expiry date right), axe-core with no violation of level A. Then hostile
//! text, and a repository damaged in the ways the page must survive. The mirror's page
//! (`mirror status --html`, served at `/_status`) goes through the same check.
//!
//! Chromium (Debian `chromium`), Node with tests/interop/status-page installed, `unshare`
//! and `ip` are required test dependencies (scripts/test.sh installs them and sets
//! TRUSTROOT_TEST_STATUS_PAGE): without them the test fails, saying so; it never skips.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use ceremony_common::*;
use serde_json::Value;

/// Brings `lo` up, checks it is the only interface, then runs the page check.
const OFFLINE: &str = r#"set -e
PATH="$PATH:/usr/sbin:/sbin"
ip link set lo up
links=$(ip -o link show | wc -l)
if [ "$links" != 1 ]; then echo "the namespace has $links interfaces, expected only lo" >&2; exit 97; fi
exec node "$1" "$2" "$3"
"#;

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// Runs tests/interop/status-page/check.mjs on `page` offline; its JSON report.
fn check_in_chromium(page: &Path, out_dir: &Path) -> Value {
    let harness = std::env::var("TRUSTROOT_TEST_STATUS_PAGE").unwrap_or_else(|_| {
        panic!("TRUSTROOT_TEST_STATUS_PAGE is not set: run scripts/test.sh, which installs tests/interop/status-page and sets it")
    });
    assert!(Path::new(&harness).is_file(), "{harness}: no such harness");
    let chromium = std::env::var("TRUSTROOT_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).is_file(),
        "{chromium}: no Chromium; install the Debian package chromium (scripts/test.sh does)"
    );
    let mut cmd = Command::new("unshare");
    if !is_root() {
        cmd.arg("--map-root-user");
    }
    cmd.args(["--net", "sh", "-c", OFFLINE, "sh", &harness])
        .arg(page)
        .arg(out_dir)
        .env("TRUSTROOT_TEST_CHROMIUM", &chromium)
        .stdin(std::process::Stdio::null());
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run `unshare` ({e}): install the Debian packages util-linux and iproute2 (scripts/test.sh does)")
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.starts_with("unshare: "),
        "`unshare --net` cannot make a network namespace here: {stderr}"
    );
    assert!(
        out.status.success(),
        "the page check failed ({}):\n{stderr}",
        out.status
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the page check printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Where the screenshots are kept: under the target directory, printed.
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A published root v1 (alice, bob, carol; 2 of 3), then a round rotating in dave, signed
/// by alice only.
fn half_signed_rotation() -> Setup {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    let dave = setup.generate("dave", "ecdsa-p256");
    ok(
        &setup.repo,
        &["key", "add", "dave", "--role", "root", "--holder", "@dave", &dave],
    );
    let round = setup.start_now();
    let request = setup.tmp.path().join("rotation.json");
    ok(
        &setup.repo,
        &[
            "ceremony",
            "request",
            "--out",
            request.to_str().unwrap(),
            "--round",
            &round,
        ],
    );
    let alice = setup.sign_airgapped("alice", &request);
    setup.add(&alice);
    setup
}

/// What the page must show of a trusted_root.json, read here from the JSON itself (not
/// through trustroot's model): CAs, transparency logs, CT logs, TSAs in that order, each
/// with its window's dates, "open" without an end, and a bar for every stated start.
fn sigstore_windows(trusted_root: &Path) -> Value {
    let root = json_file(trusted_root);
    let mut rows = Vec::new();
    for (field, kind, window) in [
        ("certificateAuthorities", "Certificate authority", "/validFor"),
        ("tlogs", "Transparency log", "/publicKey/validFor"),
        ("ctlogs", "CT log", "/publicKey/validFor"),
        ("timestampAuthorities", "Timestamp authority", "/validFor"),
    ] {
        for entry in root[field].as_array().unwrap() {
            let window = entry.pointer(window).unwrap();
            let start = window["start"].as_str().unwrap();
            let end = window["end"].as_str().unwrap_or("");
            rows.push(serde_json::json!({
                "file": "trusted_root.json",
                "kind": kind,
                "start": start,
                "end": end,
                "from": &start[..10],
                "until": if end.is_empty() { "open" } else { &end[..10] },
                "bar": true,
            }));
        }
    }
    // Sigstore's production root: 2 CAs, 2 logs, 2 CT logs, 1 TSA, some windows closed.
    assert_eq!(rows.len(), 7, "{rows:?}");
    assert!(rows.iter().any(|r| r["until"] == "open") && rows.iter().any(|r| r["until"] != "open"));
    Value::Array(rows)
}

#[test]
fn a_half_signed_round_in_headless_chromium_offline_shows_who_is_missing_and_passes_axe_level_a() {
    let setup = half_signed_rotation();
    let page = setup.tmp.path().join("status.html");
    let out = ok(&setup.repo, &["ceremony", "status", "--html", page.to_str().unwrap()]);
    assert!(out.contains("Wrote the status page"), "{out}");

    let out_dir = artifacts();
    std::fs::copy(&page, out_dir.join("status.html")).unwrap();
    let report = check_in_chromium(&page, &out_dir);
    println!("status page screenshots and report: {}", out_dir.display());
    std::fs::write(out_dir.join("report.json"), serde_json::to_vec_pretty(&report).unwrap()).unwrap();

    assert_eq!(report["requests"], serde_json::json!([]), "the page fetched something");
    assert!(
        report["browser"].as_str().unwrap().contains("Chrome/"),
        "{}",
        report["browser"]
    );
    // What each role's published file says, read here, not from trustroot.
    let expected_dates: Vec<(String, String)> = ["root", "targets", "snapshot", "timestamp"]
        .iter()
        .map(|role| {
            let expires = json_file(&setup.repo.join(format!("metadata/{role}.json")))["signed"]["expires"]
                .as_str()
                .unwrap()
                .to_string();
            (role.to_string(), expires[..10].to_string())
        })
        .collect();
    let expected_payloads = sigstore_windows(&setup.repo.join("targets/trusted_root.json"));
    for width in ["desktop", "phone"] {
        let shown = &report[width];
        assert!(Path::new(shown["screenshot"].as_str().unwrap()).is_file());
        assert_eq!(shown["lang"], "en");
        assert_eq!(shown["scripts"], 0, "{width}");
        assert_eq!(shown["images"], 0, "{width}");
        assert!(
            shown["page_width"].as_u64().unwrap() <= shown["viewport_width"].as_u64().unwrap(),
            "{width}: the page is wider than the screen: {shown}"
        );
        // Signers of the published root v1 and of the new root v2: alice signed both.
        let mut rows: Vec<(String, String, String)> = shown["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let table = s["table"].as_str().unwrap();
                let of = if table.contains("root v1") {
                    "old root"
                } else if table.contains("root v2") {
                    "new root"
                } else {
                    panic!("unexpected threshold table {table}")
                };
                assert!(
                    s["shown"].as_str().unwrap().starts_with(s["state"].as_str().unwrap()),
                    "{s}"
                );
                (
                    of.to_string(),
                    s["keyholder"].as_str().unwrap().to_string(),
                    s["state"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        rows.sort();
        let expect = |of: &str, who: &str, state: &str| (of.to_string(), who.to_string(), state.to_string());
        assert_eq!(
            rows,
            vec![
                expect("new root", "alice", "signed"),
                expect("new root", "bob", "missing"),
                expect("new root", "carol", "missing"),
                expect("new root", "dave", "missing"),
                expect("old root", "alice", "signed"),
                expect("old root", "bob", "missing"),
                expect("old root", "carol", "missing"),
            ],
            "{width}"
        );
        let mut dates: Vec<(String, String)> = shown["expiries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["role"].as_str().unwrap().to_string(),
                    e["date"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        dates.sort();
        let mut expected = expected_dates.clone();
        expected.sort();
        assert_eq!(dates, expected, "{width}");
        assert_eq!(shown["problems"], serde_json::json!([]), "{width}");
        assert_eq!(shown["payloads"], expected_payloads, "{width}");
        let axe = &shown["axe"];
        assert_eq!(axe["version"], "4.14.1");
        assert_eq!(
            axe["violations_a"],
            serde_json::json!([]),
            "{width}: axe-core finds level A violations"
        );
        // Level AA findings are reported, not (yet) failed on.
        println!("{width}: axe-core level AA violations: {}", axe["violations_aa"]);
    }

    // --json has the same data: the round's fields as before, and the repository beside them.
    let status = setup.status_json();
    assert_eq!(status["complete"], false);
    let keys: Vec<&str> = status["repository"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["alice", "bob", "carol", "dave"]);
    let rounds = status["repository"]["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2);
    assert!(rounds[0]["published_at"].is_string());
    assert_eq!(rounds[1]["signatures"][0]["key_name"], "alice");
    // The payload windows the page shows, as written in the file.
    let sigstore = status["sigstore"].as_array().unwrap();
    assert_eq!(sigstore.len(), 1);
    assert_eq!(sigstore[0]["file"], "trusted_root.json");
    let windows: Vec<(String, String, String)> = sigstore[0]["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["kind"].as_str().unwrap().to_string(),
                w["start"].as_str().unwrap().to_string(),
                w["end"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String, String)> = expected_payloads
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_string(),
                p["start"].as_str().unwrap().to_string(),
                p["end"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(windows, expected);
}

#[test]
fn script_and_img_onerror_in_a_keyholder_label_and_a_hand_written_transcript_stay_text() {
    const ATTACK: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>'";
    let setup = Setup::new();
    let mallory = setup.generate("mallory", "ecdsa-p256");
    ok(
        &setup.repo,
        &["key", "add", "mallory", "--role", "root", "--holder", ATTACK, &mallory],
    );
    setup.start();
    // A transcript is a file anyone with the repository can edit.
    let transcript = setup.round_dir().join("transcript.jsonl");
    let mut log = std::fs::read_to_string(&transcript).unwrap();
    log.push_str(
        &serde_json::json!({"action": "stage", "role": ATTACK, "version": 9, "detail": ATTACK, "at": ATTACK})
            .to_string(),
    );
    log.push('\n');
    std::fs::write(&transcript, log).unwrap();
    // So is a staged file: a target named and sized with markup reaches the round's diff.
    let staged = setup.round_dir().join("staged/targets.json");
    let mut targets = json_file(&staged);
    targets["signed"]["targets"][ATTACK] = serde_json::json!({"length": ATTACK});
    std::fs::write(&staged, serde_json::to_vec(&targets).unwrap()).unwrap();

    let page_path = setup.tmp.path().join("status.html");
    ok(
        &setup.repo,
        &["ceremony", "status", "--at", AT, "--html", page_path.to_str().unwrap()],
    );
    let page = std::fs::read_to_string(&page_path).unwrap();
    for markup in ["<script", "<img", "onerror=alert(2)>"] {
        assert!(!page.contains(markup), "{markup} reached the page as markup:\n{page}");
    }
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&#39;";
    // The holder (keyholder table, and the round's table, both as text and as data-*),
    // and the transcript's role and detail.
    assert!(page.matches(escaped).count() >= 4, "{page}");
    // The staged target, in the diff of targets: path and value as text.
    assert!(
        page.contains(&format!(
            "<span class=\"add\">+ targets.{escaped}.length = &quot;&lt;script&gt;"
        )),
        "{page}"
    );
}

/// The new key ids of `staged` (a root) against `previous`, read from the files here.
fn new_key_ids(previous: &Value, staged: &Value) -> Vec<String> {
    let old = previous["signed"]["keys"].as_object().unwrap();
    staged["signed"]["keys"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|id| !old.contains_key(*id))
        .cloned()
        .collect()
}

#[test]
fn a_root_rotation_round_shows_its_diff_on_the_page_and_in_json_and_a_hand_broken_staged_root_is_its_problem() {
    let setup = half_signed_rotation();
    // The rotation is the latest round (the first one published v1 of every role).
    let round = std::fs::read_dir(setup.repo.join("ceremonies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .max()
        .unwrap();
    let previous = json_file(&round.join("previous/root.json"));
    let staged = json_file(&round.join("staged/root.json"));
    let added = new_key_ids(&previous, &staged);
    assert_eq!(added.len(), 1, "dave's key: {added:?}");
    let dave = &added[0];
    let keyids = |v: &Value| v["signed"]["roles"]["root"]["keyids"].to_string();
    let keyids_line = format!("~ roles.root.keyids: {} -> {}", keyids(&previous), keyids(&staged));

    let json: Value = serde_json::from_str(&ok(&setup.repo, &["ceremony", "status", "--json"])).unwrap();
    let rounds = json["repository"]["rounds"].as_array().unwrap();
    let changes = &rounds.last().unwrap()["changes"];
    let root = changes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["role"] == "root")
        .unwrap_or_else(|| panic!("{changes}"));
    assert_eq!(root["version"], 2);
    assert_eq!(root["previous_version"], 1);
    assert_eq!(root["more_lines"], 0);
    let lines: Vec<&str> = root["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(lines.contains(&keyids_line.as_str()), "{lines:?}");
    assert!(lines.contains(&"~ version: 1 -> 2"), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("+ keys.{dave}.keytype = "))),
        "dave's key is added: {lines:?}"
    );
    // The first round created every role: nothing before it.
    let first = rounds[0]["changes"].as_array().unwrap();
    assert!(first.iter().all(|c| c["previous_version"].is_null()), "{first:?}");

    let page_path = setup.tmp.path().join("status.html");
    let html = page_path.to_str().unwrap();
    ok(&setup.repo, &["ceremony", "status", "--html", html]);
    let page = std::fs::read_to_string(&page_path).unwrap();
    // Newest round first.
    let article = &page[page.find("<article data-round=").unwrap()..];
    let article = &article[..article.find("</article>").unwrap()];
    assert!(
        article.contains("<details><summary>Changes to root v2 (against v1): "),
        "{article}"
    );
    let escaped_keyids = keyids_line.replace('"', "&quot;").replace('>', "&gt;");
    assert!(
        article.contains(&format!("<span class=\"chg\">{escaped_keyids}</span>")),
        "{article}"
    );
    assert!(
        article.contains(&format!("<span class=\"add\">+ keys.{dave}.keytype = ")),
        "{article}"
    );

    // The staged root edited by hand into something that does not parse: the round cannot
    // be opened (an error, as before), and the page still says what it can, the problem
    // in that round's history.
    std::fs::write(round.join("staged/root.json"), b"{ edited by hand").unwrap();
    fails(&setup.repo, &["ceremony", "status", "--html", html]);
    let page = std::fs::read_to_string(&page_path).unwrap();
    let article = &page[page.find("<article data-round=").unwrap()..];
    let article = &article[..article.find("</article>").unwrap()];
    assert!(article.contains("what root v2 changes cannot be shown"), "{article}");
    assert!(!article.contains("Changes to root v2"), "{article}");
    assert!(
        page.contains("data-role=\"timestamp\""),
        "the rest still renders: {page}"
    );
}

#[test]
fn an_expired_root_a_missing_transcript_and_a_hand_edited_round_are_said_where_they_are_wrong() {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    let page_path = setup.tmp.path().join("status.html");
    let page = || std::fs::read_to_string(&page_path).unwrap();
    let html = page_path.to_str().unwrap();

    // Years later: everything published has expired.
    ok(
        &setup.repo,
        &["ceremony", "status", "--at", "2099-01-01T00:00:00Z", "--html", html],
    );
    let shown = page();
    let root_row = &shown[shown.find("data-role=\"root\"").unwrap()..];
    let root_row = &root_row[..root_row.find("</tr>").unwrap()];
    assert!(root_row.contains("class=\"bad\">EXPIRED"), "{root_row}");
    assert!(root_row.contains("clients refuse it"), "{root_row}");

    // The round's transcript is gone: the page is still written, says so in the round's
    // place and in its history; the command reports the error too.
    std::fs::remove_file(setup.round_dir().join("transcript.jsonl")).unwrap();
    let err = fails(&setup.repo, &["ceremony", "status", "--html", html]);
    assert!(err.contains("transcript.jsonl"), "{err}");
    let shown = page();
    assert!(shown.contains("the latest round cannot be read"), "{shown}");
    assert!(shown.contains("the transcript cannot be read"), "{shown}");
    assert!(
        shown.contains("data-role=\"timestamp\""),
        "the rest still renders: {shown}"
    );

    // round.json edited by hand into something that does not parse.
    std::fs::write(setup.round_dir().join("round.json"), b"{ edited by hand").unwrap();
    fails(&setup.repo, &["ceremony", "status", "--html", html]);
    let shown = page();
    assert!(shown.contains("round.json does not parse"), "{shown}");
    assert!(shown.contains("the latest round cannot be read"), "{shown}");
    assert!(shown.contains("data-key=\"carol\""), "the rest still renders: {shown}");
}

/// A mirror of a simulated repository with a delegated role, synced once, then a sync that
/// failed: the mirror's page, opened offline in Chromium, shows every role's expiry as the
/// served metadata says, the failed sync, and passes axe-core level A.
#[test]
fn a_mirror_page_with_a_failed_sync_in_headless_chromium_offline_shows_every_expiry_and_passes_axe_level_a() {
    use std::sync::{Arc, Mutex};
    use trustroot_test_support::{DelegatedRoleSpec, RepoSim, SimServer};

    let work = tempfile::tempdir().unwrap();
    let mut repo = RepoSim::new(chrono::Utc::now());
    repo.add_delegation("targets", DelegatedRoleSpec::new("npm", &["npm/*"]));
    repo.add_target("npm", "npm/a.tgz", b"a package");
    repo.add_target("targets", "trusted_root.json", b"{}");
    repo.publish();
    let root = work.path().join("1.root.json");
    std::fs::write(&root, repo.root_bytes(1).unwrap()).unwrap();
    let origin = SimServer::start(Arc::new(Mutex::new(repo)));
    let dir = work.path().join("mirror");
    let sync = |from: &str, targets_from: &str| {
        common::trustroot(&[
            "mirror",
            "sync",
            dir.to_str().unwrap(),
            "--from",
            from,
            "--targets-from",
            targets_from,
            "--root",
            root.to_str().unwrap(),
        ])
    };
    let out = sync(&origin.metadata_url(), &origin.targets_url());
    assert!(out.status.success(), "{}", common::text(&out));
    // The origin went away: the next sync fails, and is recorded.
    let gone = common::file_url(&work.path().join("gone"));
    assert!(!sync(&format!("{gone}/"), &format!("{gone}/targets/")).status.success());

    let page = work.path().join("mirror-status.html");
    let out = common::trustroot(&[
        "mirror",
        "status",
        dir.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", common::text(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("1 failed sync, the latest sync among them"), "{html}");

    let out_dir = artifacts().join("mirror");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::copy(&page, out_dir.join("mirror-status.html")).unwrap();
    let report = check_in_chromium(&page, &out_dir);
    println!("mirror status page screenshots and report: {}", out_dir.display());
    std::fs::write(out_dir.join("report.json"), serde_json::to_vec_pretty(&report).unwrap()).unwrap();
    assert_eq!(report["requests"], serde_json::json!([]), "the page fetched something");

    // What each served metadata file says, read here, not from trustroot.
    let served = dir.join("repository");
    let mut expected: Vec<(String, String)> = ["root", "timestamp", "snapshot", "targets", "npm"]
        .iter()
        .map(|role| {
            let file = if *role == "root" {
                // The served tree has the versioned root; the latest is the only one here.
                served.join("1.root.json")
            } else {
                std::fs::read_dir(&served)
                    .unwrap()
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        let name = p.file_name().unwrap().to_str().unwrap();
                        name == format!("{role}.json") || name.ends_with(&format!(".{role}.json"))
                    })
                    .max()
                    .unwrap_or_else(|| panic!("no {role} metadata in {}", served.display()))
            };
            let expires = json_file(&file)["signed"]["expires"].as_str().unwrap().to_string();
            (role.to_string(), expires[..10].to_string())
        })
        .collect();
    expected.sort();
    for width in ["desktop", "phone"] {
        let shown = &report[width];
        assert!(Path::new(shown["screenshot"].as_str().unwrap()).is_file());
        assert_eq!(shown["lang"], "en");
        assert_eq!(shown["scripts"], 0, "{width}");
        assert_eq!(shown["images"], 0, "{width}");
        assert!(
            shown["page_width"].as_u64().unwrap() <= shown["viewport_width"].as_u64().unwrap(),
            "{width}: the page is wider than the screen: {shown}"
        );
        let mut dates: Vec<(String, String)> = shown["expiries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["role"].as_str().unwrap().to_string(),
                    e["date"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        dates.sort();
        assert_eq!(dates, expected, "{width}");
        let axe = &shown["axe"];
        assert_eq!(axe["version"], "4.14.1");
        assert_eq!(
            axe["violations_a"],
            serde_json::json!([]),
            "{width}: axe-core finds level A violations"
        );
        println!("{width}: axe-core level AA violations: {}", axe["violations_aa"]);
    }
}

#[test]
fn a_trusted_root_with_script_in_a_ca_uri_a_window_that_is_not_a_time_and_a_broken_signing_config_still_renders() {
    const ATTACK: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>'";
    let setup = Setup::new();
    // Written after the round opened (whose gate refuses both): the page reads the
    // targets directory as it is, edited by hand or not.
    setup.start();
    let mut root: Value = serde_json::from_slice(&sigstore_trusted_root()).unwrap();
    root["certificateAuthorities"][0]["uri"] = ATTACK.into();
    root["tlogs"][0]["publicKey"]["validFor"]["start"] = ATTACK.into();
    std::fs::write(
        setup.repo.join("targets/trusted_root.json"),
        serde_json::to_vec(&root).unwrap(),
    )
    .unwrap();
    std::fs::write(setup.repo.join("targets/signing_config.v0.2.json"), b"{ edited by hand").unwrap();
    let page_path = setup.tmp.path().join("status.html");
    ok(
        &setup.repo,
        &["ceremony", "status", "--at", AT, "--html", page_path.to_str().unwrap()],
    );
    let page = std::fs::read_to_string(&page_path).unwrap();
    for markup in ["<script", "<img", "onerror=alert(2)>"] {
        assert!(!page.contains(markup), "{markup} reached the page as markup:\n{page}");
    }
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&#39;";
    // The CA's name cell; the log's start as data-start and as text said not to be a time.
    assert_eq!(page.matches(escaped).count(), 3, "{page}");
    assert!(page.contains(&format!("{escaped} (not a time)")), "{page}");
    assert!(
        page.contains("targets/signing_config.v0.2.json does not parse"),
        "{page}"
    );
    // The rest of the payload still listed.
    assert!(page.contains("data-kind=\"Timestamp authority\""), "{page}");
}

#[test]
fn publish_writes_the_page_beside_the_published_tree_and_never_inside_it() {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    // Inside the published tree (TUF files only): refused before anything is published.
    let inside = setup.served().join("index.html");
    let err = fails(
        &setup.repo,
        &["ceremony", "publish", "--html", inside.to_str().unwrap()],
    );
    assert!(err.contains("inside the published tree"), "{err}");
    assert!(!setup.served().exists(), "nothing is published");
    // Beside it: published, then the page shows the round just published.
    let page = setup.repo.join("public/index.html");
    let out = ok(&setup.repo, &["ceremony", "publish", "--html", page.to_str().unwrap()]);
    assert!(out.contains("Wrote the status page"), "{out}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("was published at"), "{html}");
    assert!(!setup.served().join("index.html").exists());
    // Through the served symlink's state directory too.
    let state = std::fs::canonicalize(setup.served()).unwrap().join("index.html");
    let err = fails(&setup.repo, &["ceremony", "publish", "--html", state.to_str().unwrap()]);
    assert!(err.contains("inside the published tree"), "{err}");
}

/// The page `mirror serve --status-page` answers for a directory of named repositories
/// (issue 23): a section for each, every role's expiry shown, and no level A violation.
#[test]
fn a_named_mirror_page_in_headless_chromium_offline_shows_each_repository_and_passes_axe_level_a() {
    use std::sync::{Arc, Mutex};
    use trustroot_test_support::{RepoSim, SimServer};

    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("mirror");
    trustroot_mirror::set::create(&dir).unwrap();
    let mut origins = Vec::new();
    for name in ["production", "staging"] {
        let mut repo = RepoSim::new(chrono::Utc::now());
        repo.add_target("targets", "trusted_root.json", name.as_bytes());
        repo.publish();
        let root = work.path().join(format!("{name}.root.json"));
        std::fs::write(&root, repo.root_bytes(1).unwrap()).unwrap();
        let origin = SimServer::start(Arc::new(Mutex::new(repo)));
        let out = common::trustroot(&[
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
        assert!(out.status.success(), "{}", common::text(&out));
        origins.push(origin);
    }
    let serving = common::Serving::start_with(&dir, &work.path().join("access.log"), &["--status-page"]);
    let port: u16 = serving
        .url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (code, html) = trustroot_test_support::prometheus::http_get(port, "/_status").unwrap();
    assert_eq!(code, 200, "{html}");
    for name in ["production", "staging"] {
        assert!(html.contains(&format!("data-repository=\"{name}\"")), "{html}");
    }

    let out_dir = artifacts().join("named-mirror");
    std::fs::create_dir_all(&out_dir).unwrap();
    let page = out_dir.join("mirror-status.html");
    std::fs::write(&page, &html).unwrap();
    let report = check_in_chromium(&page, &out_dir);
    println!("named mirror status page screenshots and report: {}", out_dir.display());
    std::fs::write(out_dir.join("report.json"), serde_json::to_vec_pretty(&report).unwrap()).unwrap();
    assert_eq!(report["requests"], serde_json::json!([]), "the page fetched something");
    for width in ["desktop", "phone"] {
        let shown = &report[width];
        assert_eq!(shown["scripts"], 0, "{width}");
        assert!(
            shown["page_width"].as_u64().unwrap() <= shown["viewport_width"].as_u64().unwrap(),
            "{width}: the page is wider than the screen: {shown}"
        );
        // Each repository's four roles, with the dates its served metadata says.
        let mut shown_roles: Vec<String> = shown["expiries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["role"].as_str().unwrap().to_string())
            .collect();
        shown_roles.sort();
        assert_eq!(
            shown_roles,
            [
                "root",
                "root",
                "snapshot",
                "snapshot",
                "targets",
                "targets",
                "timestamp",
                "timestamp"
            ],
            "{width}"
        );
        assert_eq!(
            shown["axe"]["violations_a"],
            serde_json::json!([]),
            "{width}: axe-core finds level A violations"
        );
        println!(
            "{width}: axe-core level AA violations: {}",
            shown["axe"]["violations_aa"]
        );
    }
}
