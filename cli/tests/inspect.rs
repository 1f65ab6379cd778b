//! `trustroot inspect` on real Sigstore metadata.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{text, trustroot, unpack_fixtures};

#[test]
fn inspect_shows_owners_thresholds_and_which_signatures_verify() {
    let fixtures = unpack_fixtures();
    let published = fixtures.path().join("sigstore-prod/published");
    let root12 = published.join("12.root.json");
    let root11 = published.join("11.root.json");
    let out = trustroot(&[
        "inspect",
        root12.to_str().unwrap(),
        "--root",
        root11.to_str().unwrap(),
        "--at",
        "2025-03-01T00:00:00Z",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let shown = text(&out);
    for expected in [
        "role:     root",
        "version:  12",
        "expires:  2025-08-19T14:33:09Z (171 days left)",
        "owner @joshuagl",
        "root: threshold 3 of 5 keys",
        "signatures checked against itself: 3 valid, 3 required, threshold met",
        "signatures checked against root v11: 3 valid, 3 required, threshold met",
        "INVALID or empty signature",
    ] {
        assert!(shown.contains(expected), "missing {expected:?} in:\n{shown}");
    }
}

#[test]
fn inspect_flags_a_key_id_that_is_not_the_hash_of_its_key() {
    let fixtures = unpack_fixtures();
    let root11 = fixtures.path().join("sigstore-prod/published/11.root.json");
    let out = trustroot(&["inspect", root11.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mismatched: Vec<&serde_json::Value> = report["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["keyid_matches_content"] == false)
        .collect();
    assert_eq!(mismatched.len(), 1);
    assert!(mismatched[0]["keyid"].as_str().unwrap().starts_with("7247f0db"));
    assert!(
        mismatched[0]["computed_keyid"]
            .as_str()
            .unwrap()
            .starts_with("0c87432c")
    );
}

#[test]
fn inspect_checks_a_delegated_role_against_its_delegator() {
    let fixtures = unpack_fixtures();
    let published = fixtures.path().join("sigstore-prod/published");
    let delegated = std::fs::read_dir(&published)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("8.") && !name.contains("root")
        })
        .unwrap();
    let delegator = published.join("14.targets.json");
    let out = trustroot(&[
        "inspect",
        delegated.to_str().unwrap(),
        "--delegator",
        delegator.to_str().unwrap(),
        "--at",
        "2026-08-22T00:00:00Z",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["version"], 8);
    assert_eq!(report["expired"], false);
    assert_eq!(report["signatures"][0]["met"], true);
    assert_eq!(report["targets"].as_array().unwrap().len(), 1);
}

#[test]
fn inspect_refuses_a_file_that_is_not_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.json");
    std::fs::write(&file, b"[1,2]").unwrap();
    let out = trustroot(&["inspect", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("not a JSON object"), "{}", text(&out));
}

#[test]
fn a_reader_that_closes_the_pipe_early_ends_the_output_quietly() {
    // `trustroot inspect ROOT | head -1`: the reader is gone before the first line.
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../mirror/roots/sigstore-production.root.json"
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_trustroot"))
        .args(["inspect", root])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(out.status.code(), Some(141) | Some(0)),
        "{:?} {stderr}",
        out.status
    );
}

/// An endless input (a device, a runaway file) is read up to the cap and refused with a
/// sentence naming it, by every command that reads a file a person names.
#[test]
fn inspect_of_an_endless_file_is_refused_at_the_cap() {
    // (arguments, exit code): the checks exit 2, they could not run.
    let commands: [(&[&str], i32); 4] = [
        (&["inspect", "/dev/zero"], 1),
        (&["sigstore", "trusted-root", "validate", "/dev/zero"], 2),
        (&["sigstore", "signing-config", "validate", "/dev/zero"], 2),
        (&["sigstore", "trusted-root", "diff", "/dev/zero", "/dev/zero"], 1),
    ];
    for (args, code) in commands {
        let out = trustroot(args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out));
        let shown = text(&out);
        assert!(
            shown.contains("/dev/zero: refused: larger than 64 MiB"),
            "{args:?}: {shown}"
        );
    }
}

/// Key IDs, owners and role names are the metadata's own text: `inspect` shows them
/// escaped, so a hostile file cannot drive the terminal of whoever inspects it.
#[test]
fn terminal_controls_in_inspected_metadata_are_escaped() {
    let hostile = "\u{1b}]0;owned\u{7}\u{202e}";
    let keyid = format!("ab{hostile}");
    let role = serde_json::json!({"keyids": [keyid], "threshold": 1});
    let root = serde_json::json!({
        "signatures": [{"keyid": keyid, "sig": ""}],
        "signed": {
            "_type": "root", "spec_version": "1.0.31", "version": 1,
            "expires": "2030-01-01T00:00:00Z", "consistent_snapshot": true,
            "keys": {keyid.clone(): {
                "keytype": format!("ed25519{hostile}"), "scheme": "ed25519",
                "keyval": {"public": "00".repeat(32)},
                "x-tuf-on-ci-keyowner": format!("@alice{hostile}")
            }},
            "roles": {"root": role, "timestamp": role, "snapshot": role, "targets": role,
                      format!("extra{hostile}"): role}
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("root.json");
    std::fs::write(&file, serde_json::to_vec(&root).unwrap()).unwrap();
    let out = trustroot(&["inspect", file.to_str().unwrap(), "--at", "2025-01-01T00:00:00Z"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("owner @alice\\u{1b}]0;owned\\u{7}\\u{202e}"), "{shown}");
    for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!shown.contains(c), "{c:?} shown raw in:\n{shown}");
    }
}
