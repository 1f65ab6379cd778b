//! `--json` of the commands that gained it with the CLI reference: key generate, key add,
//! ceremony request and ceremony add-signature. The shapes are the ones docs/json-output.md
//! documents; text output is unchanged without the flag.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;

use ceremony_common::*;
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn is_hex64(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[test]
fn key_generate_and_add_report_json() {
    let setup = Setup::new();
    let dir = setup.tmp.path();
    let out = dir.join("dave.pem");
    let generated = json(&ok(
        dir,
        &[
            "key",
            "generate",
            "--type",
            "ed25519",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    ));
    assert_eq!(generated["file"], out.display().to_string());
    assert_eq!(generated["public_file"], format!("{}.pub", out.display()));
    assert_eq!(generated["encrypted"], false);
    assert!(is_hex64(&generated["keyid"]), "{generated}");
    assert_eq!(generated["key"]["keytype"], "ed25519");
    assert!(out.is_file());
    // The same key ID as `key show` computes, from the private and from the public file.
    let shown = json(&ok(dir, &["key", "show", out.to_str().unwrap(), "--json"]));
    assert_eq!(shown["keyid"], generated["keyid"]);
    assert_eq!(shown["key"], generated["key"]);

    let public = format!("{}.pub", out.display());
    let added = json(&ok(
        &setup.repo,
        &[
            "key", "add", "dave", "--role", "targets", "--holder", "@dave", &public, "--json",
        ],
    ));
    assert_eq!(added["name"], "dave");
    assert_eq!(added["role"], "targets");
    assert_eq!(added["holder"], "@dave");
    // The ID root will list: the holder is part of the key object, so it differs from the
    // bare key's ID that `key generate` printed.
    assert!(is_hex64(&added["keyid"]), "{added}");
    assert_ne!(added["keyid"], generated["keyid"]);
    assert_eq!(added["public_file"], "keys/dave.pub");
    assert_eq!(added["notes"], serde_json::json!([]));
    assert!(setup.repo.join("keys/dave.pub").is_file());
    // The online key: the note is in the JSON, not printed around it.
    let online = dir.join("online2.pem");
    ok(
        dir,
        &[
            "key",
            "generate",
            "--type",
            "ecdsa-p256",
            "--out",
            online.to_str().unwrap(),
        ],
    );
    let added = json(&ok(
        &setup.repo,
        &[
            "key",
            "add",
            "online2",
            "--role",
            "online",
            &format!("{}.pub", online.display()),
            "--json",
        ],
    ));
    assert_eq!(added["notes"].as_array().unwrap().len(), 1, "{added}");
    // No root is published yet: this is the first online key, not a rotation.
    let note = added["notes"][0].as_str().unwrap();
    assert!(
        note.contains("the first root lists it") && !note.contains("Rotating"),
        "{note}"
    );

    // A refusal is a JSON error on stdout that says what to do, with the same exit code.
    let taken = trustroot(
        dir,
        &[
            "key",
            "generate",
            "--type",
            "ed25519",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(taken.status.code(), Some(1));
    assert!(taken.stderr.is_empty(), "{}", String::from_utf8_lossy(&taken.stderr));
    let error = &json(&String::from_utf8(taken.stdout).unwrap())["error"];
    assert_eq!(error["kind"], "local-state", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("already exists")
            && error["hint"].as_str().unwrap().contains("choose another --out"),
        "{error}"
    );
}

#[test]
fn ceremony_request_and_add_signature_report_json() {
    let setup = Setup::new();
    setup.start();
    let path = setup.tmp.path().join("request.json");
    let report = json(&ok(
        &setup.repo,
        &[
            "ceremony",
            "request",
            "--out",
            path.to_str().unwrap(),
            "--at",
            AT,
            "--json",
        ],
    ));
    let written: Value = json(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(report["round"], "0001");
    assert_eq!(report["file"], path.display().to_string());
    assert_eq!(report["request_sha256"], written["request_sha256"]);
    let roles = report["roles"].as_array().unwrap();
    assert_eq!(roles.len(), written["roles"].as_array().unwrap().len());
    for (role, full) in roles.iter().zip(written["roles"].as_array().unwrap()) {
        assert_eq!(role["role"], full["role"]);
        assert_eq!(role["version"], full["version"]);
        assert_eq!(role["signed_sha256"], full["signed_sha256"]);
        assert!(is_hex64(&role["signed_sha256"]));
    }

    let signatures = setup.sign_airgapped("alice", &path);
    assert!(!signatures.is_empty());
    let junk = setup.tmp.path().join("junk.sig.json");
    std::fs::write(&junk, b"{not json").unwrap();
    let mut args: Vec<String> = vec!["ceremony".into(), "add-signature".into(), "--json".into()];
    args.extend(signatures.iter().map(|p| p.display().to_string()));
    args.push(junk.display().to_string());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = trustroot(&setup.repo, &argv);
    assert_eq!(out.status.code(), Some(1), "one file refused");
    let report = json(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(report["round"], "0001");
    assert_eq!(report["refused"], 1);
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), signatures.len() + 1);
    for f in &files[..signatures.len()] {
        assert_eq!(f["result"], "stored", "{f}");
        assert!(std::path::Path::new(f["path"].as_str().unwrap()).is_file());
    }
    let last = &files[signatures.len()];
    assert_eq!(last["result"], "refused");
    assert_eq!(last["file"], junk.display().to_string());
    assert!(!last["error"].as_str().unwrap().is_empty());
    // The failure is part of the one JSON document, as its `error`.
    let error = &report["error"];
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("1 signature file(s) refused")
            && error["hint"].as_str().unwrap().contains("ceremony status"),
        "{error}"
    );

    // Again: every file is already there; nothing refused, exit 0.
    let mut args: Vec<&str> = vec!["ceremony", "add-signature", "--json"];
    let names: Vec<String> = signatures.iter().map(|p| p.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let report = json(&ok(&setup.repo, &args));
    assert_eq!(report["refused"], 0);
    for f in report["files"].as_array().unwrap() {
        assert_eq!(f["result"], "already_signed", "{f}");
    }
    // The signatures count in the status.
    let status = setup.status_json();
    assert!(counts(&status).iter().all(|(_, valid, _)| *valid == 1), "{status}");
}

/// One key, two IDs (the ID root lists covers the holder's name, as tuf-on-ci's does; the
/// key alone has another): the fingerprint `key show` prints is the one `key add`,
/// `ceremony status` and the signing request show, so a keyholder finds their key by it.
#[test]
fn a_keyholder_finds_their_key_by_the_same_fingerprint_everywhere() {
    let setup = Setup::new();
    let public = format!("{}.pub", setup.key("alice"));
    let shown = json(&ok(setup.tmp.path(), &["key", "show", &public, "--json"]));
    let fingerprint = shown["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(fingerprint.len(), 64, "{shown}");
    setup.start();
    let status = setup.status_json();
    let root = status["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "root")
        .unwrap();
    let alice = root["thresholds"][0]["not_signed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "alice")
        .unwrap();
    assert_eq!(alice["fingerprint"], fingerprint.as_str(), "{alice}");
    // The two IDs differ, and each is labelled where both are shown.
    assert_ne!(alice["keyid"], shown["keyid"], "{alice}");
    let text = ok(&setup.repo, &["ceremony", "status"]);
    assert!(text.contains(&format!("material {}", &fingerprint[..16])), "{text}");
    let request = setup.request("request.json");
    let summary = std::fs::read_to_string(request).unwrap();
    assert!(summary.contains(&format!("material sha256:{fingerprint}")), "{summary}");
}
