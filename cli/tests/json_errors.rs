//! Every command that takes `--json` reports an error as one JSON object on standard output,
//! `{"error": {"kind", "message", "hint"}}`, with the exit code it has without `--json`
//! (docs/json-output.md, "Errors"). Each is made to fail here the way a user would see it
//! fail: a missing file, a directory that is not what the command needs.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn trustroot(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustroot"))
        .args(args)
        .current_dir(dir)
        .env_remove("TRUSTROOT_ONLINE_KEY")
        .output()
        .unwrap()
}

/// The `error` of a JSON error document, checked for its shape.
fn json_error(args: &[&str], out: &Output, code: i32) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stdout}{stderr}");
    assert!(
        !stderr.contains("error:"),
        "{args:?}: the error went to stderr too: {stderr}"
    );
    let document: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?}: stdout is not one JSON document ({e}): {stdout}"));
    let keys: Vec<&String> = document.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["error"], "{args:?}: {document}");
    let error = document["error"].clone();
    let kind = error["kind"]
        .as_str()
        .unwrap_or_else(|| panic!("{args:?}: no kind: {error}"));
    assert!(
        ["repository", "local-state", "io", "usage"].contains(&kind),
        "{args:?}: kind {kind}"
    );
    assert!(!error["message"].as_str().unwrap().is_empty(), "{args:?}: {error}");
    assert!(
        error["hint"].is_null() || error["hint"].is_string(),
        "{args:?}: {error}"
    );
    error
}

#[test]
fn every_json_command_reports_its_error_as_json_with_its_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let empty = dir.join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(dir.join("taken.pem"), b"not a key").unwrap();
    let e = empty.to_str().unwrap();
    // (arguments, exit code, the message names this)
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["inspect", "missing.json", "--json"], 1, "missing.json"),
        (
            vec!["key", "generate", "--type", "ed25519", "--out", "taken.pem", "--json"],
            1,
            "taken.pem",
        ),
        (vec!["key", "show", "missing.pub", "--json"], 1, "missing.pub"),
        (
            vec![
                "key",
                "add",
                "alice",
                "--role",
                "root",
                "missing.pub",
                "--repo",
                e,
                "--json",
            ],
            1,
            "missing.pub",
        ),
        (vec!["ceremony", "start", "--repo", e, "--json"], 1, "empty"),
        (
            vec!["ceremony", "request", "--out", "r.json", "--repo", e, "--json"],
            1,
            "empty",
        ),
        (
            vec!["ceremony", "add-signature", "s.json", "--repo", e, "--json"],
            1,
            "empty",
        ),
        // The checks: 2, could not run (1 is kept for problems found).
        (vec!["ceremony", "verify", "--repo", e, "--json"], 2, "empty"),
        (vec!["ceremony", "publish", "--repo", e, "--json"], 1, "empty"),
        (vec!["ceremony", "status", "--repo", e, "--json"], 1, "empty"),
        (vec!["online", "refresh", "--repo", e, "--json"], 1, "empty"),
        (vec!["expiry", e, "--json"], 2, "empty"),
        (
            vec!["mirror", "sync", "m", "--root", "missing-root.json", "--json"],
            1,
            "missing-root.json",
        ),
        (
            vec!["mirror", "verify", e, "--root", "missing-root.json", "--json"],
            2,
            "missing-root.json",
        ),
        (vec!["mirror", "status", e, "--json"], 1, "empty"),
        (vec!["mirror", "rename", e, "--name", "x", "--json"], 1, "empty"),
        (vec!["mirror", "export", e, "--out", "b.tar", "--json"], 1, "empty"),
        (
            vec!["mirror", "import", "m", "--bundle", "missing.tar", "--json"],
            1,
            "m holds no mirror yet",
        ),
        (
            vec!["sigstore", "trusted-root", "validate", "missing.json", "--json"],
            2,
            "missing.json",
        ),
        (
            vec![
                "sigstore",
                "trusted-root",
                "diff",
                "missing.json",
                "missing.json",
                "--json",
            ],
            1,
            "missing.json",
        ),
        (
            vec!["sigstore", "signing-config", "validate", "missing.json", "--json"],
            2,
            "missing.json",
        ),
        (
            vec![
                "sigstore",
                "signing-config",
                "diff",
                "missing.json",
                "missing.json",
                "--json",
            ],
            1,
            "missing.json",
        ),
    ];
    for (args, code, names) in &cases {
        let out = trustroot(dir, args);
        let error = json_error(args, &out, *code);
        assert!(error["message"].as_str().unwrap().contains(names), "{args:?}: {error}");
    }
    // Nothing was created by the failures.
    for name in ["m", "r.json", "b.tar"] {
        assert!(!dir.join(name).exists(), "{name} was created");
    }
}

#[test]
fn a_json_error_says_what_kind_of_failure_it_is_and_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("taken.pem"), b"not a key").unwrap();
    let args = ["key", "generate", "--type", "ed25519", "--out", "taken.pem", "--json"];
    let error = json_error(&args, &trustroot(dir, &args), 1);
    assert_eq!(error["kind"], "local-state", "{error}");
    assert!(error["hint"].as_str().unwrap().contains("--out"), "{error}");

    let args = ["inspect", "missing.json", "--json"];
    let error = json_error(&args, &trustroot(dir, &args), 1);
    assert_eq!(error["kind"], "io", "{error}");
}

#[test]
fn a_wrong_argument_under_json_is_a_json_usage_error_with_exit_code_2() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        vec!["expiry", ".", "--at", "yesterday", "--json"],
        vec!["ceremony", "status", "--json", "--no-such-flag"],
        vec!["mirror", "sync", "m", "--keep", "forever", "--json"],
    ] {
        let error = json_error(&args, &trustroot(tmp.path(), &args), 2);
        assert_eq!(error["kind"], "usage", "{args:?}: {error}");
    }
    // `client` keeps its protocol's 0 and 1, and has no --json.
    let out = trustroot(tmp.path(), &["client", "--at", "yesterday", "refresh"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn without_json_an_error_is_text_on_stderr_with_its_hint_and_stdout_stays_empty() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("taken.pem"), b"not a key").unwrap();
    let out = trustroot(
        tmp.path(),
        &["key", "generate", "--type", "ed25519", "--out", "taken.pem"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains("taken.pem: already exists"),
        "{stderr}"
    );
    assert!(lines[1].starts_with("hint: ") && lines[1].contains("--out"), "{stderr}");
}

#[test]
fn a_reader_that_went_away_ends_the_output_quietly_with_141() {
    // The reading end is closed before the command starts: its first write meets EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    for args in [vec!["docs", "cli-reference"], vec!["completions", "bash"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_trustroot"))
            .args(&args)
            .stdout(writer.try_clone().unwrap())
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
    }
}

#[test]
fn a_missing_online_key_says_where_it_is_configured() {
    let tmp = tempfile::tempdir().unwrap();
    let out = trustroot(tmp.path(), &["init", "repo"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // trustroot.toml names env:TRUSTROOT_ONLINE_KEY, which is not set here.
    let args = ["online", "refresh", "--repo", "repo", "--json"];
    let error = json_error(&args, &trustroot(tmp.path(), &args), 1);
    assert!(
        error["message"].as_str().unwrap().contains("TRUSTROOT_ONLINE_KEY"),
        "{error}"
    );
    assert!(error["hint"].as_str().unwrap().contains("[online] signer"), "{error}");
}

#[test]
fn every_check_exits_1_with_its_report_for_problems_found_and_2_with_the_error_object_when_it_could_not_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("broken.json"), b"{\"mediaType\": 7}").unwrap();
    std::fs::create_dir(dir.join("not-a-mirror")).unwrap();
    std::fs::create_dir(dir.join("empty")).unwrap();
    // Problems found: 1, and the report (not an error object) on stdout.
    for kind in ["trusted-root", "signing-config"] {
        let args = ["sigstore", kind, "validate", "broken.json", "--json"];
        let out = trustroot(dir, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["valid"], false, "{report}");
        assert!(report.get("error").is_none(), "{report}");
        // Could not run: 2, with and without --json.
        for json in [true, false] {
            let mut args = vec!["sigstore", kind, "validate", "missing.json"];
            if json {
                args.push("--json");
                json_error(&args, &trustroot(dir, &args), 2);
            } else {
                let out = trustroot(dir, &args);
                assert_eq!(out.status.code(), Some(2), "{args:?}");
                assert!(out.stdout.is_empty(), "{args:?}");
            }
        }
    }
    for args in [
        vec!["mirror", "verify", "not-a-mirror"],
        vec!["ceremony", "verify", "--repo", "empty"],
    ] {
        let out = trustroot(dir, &args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut json = args.clone();
        json.push("--json");
        json_error(&json, &trustroot(dir, &json), 2);
    }
}
