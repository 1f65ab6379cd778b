//! What a hostile repository can put in metadata text: terminal controls in the fields
//! errors quote, duplicate object keys, spec versions python-tuf refuses. And the real
//! Sigstore metadata, which must all still load.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;

use serde_json::{Value, json};
use trustroot_core::metadata::{Role, supported_spec_version};
use trustroot_core::{Envelope, Limits, Root, Snapshot, Targets, Timestamp, target_path};

fn root_signed() -> Value {
    json!({
        "_type": "root",
        "spec_version": "1.0.31",
        "version": 1,
        "expires": "2030-01-01T00:00:00Z",
        "consistent_snapshot": true,
        "keys": {},
        "roles": {
            "root": {"keyids": [], "threshold": 1},
            "timestamp": {"keyids": [], "threshold": 1},
            "snapshot": {"keyids": [], "threshold": 1},
            "targets": {"keyids": [], "threshold": 1}
        }
    })
}

fn envelope(signed: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"signatures": [], "signed": signed})).unwrap()
}

fn parse_root(bytes: &[u8]) -> Result<Root, trustroot_core::Error> {
    let envelope = Envelope::parse("root", bytes, &Limits::default())?;
    Root::from_envelope("root", &envelope)
}

#[test]
fn a_bidi_override_in_a_metadata_type_is_escaped_in_the_error() {
    let mut signed = root_signed();
    signed["_type"] = json!("\u{202e}toor\u{1b}]0;owned\u{7}");
    let err = parse_root(&envelope(&signed)).unwrap_err().to_string();
    assert!(
        !err.contains('\u{202e}') && !err.contains('\u{1b}') && !err.contains('\u{7}'),
        "{err}"
    );
    assert!(err.contains("found '\\u{202e}toor\\u{1b}]0;owned\\u{7}'"), "{err}");
}

#[test]
fn terminal_controls_in_role_names_key_ids_and_target_paths_are_escaped_in_errors() {
    // A delegated role listed twice, named with a cursor movement.
    let name = "bins\u{1b}[1A\u{200b}";
    let targets = json!({
        "_type": "targets", "spec_version": "1.0", "version": 1,
        "expires": "2030-01-01T00:00:00Z", "targets": {},
        "delegations": {"keys": {}, "roles": [
            {"name": name, "keyids": [], "threshold": 1, "paths": ["*"]},
            {"name": name, "keyids": [], "threshold": 1, "paths": ["*"]}
        ]}
    });
    let envelope_bytes = envelope(&targets);
    let parsed = Envelope::parse("targets", &envelope_bytes, &Limits::default()).unwrap();
    let err = Targets::from_envelope("targets", &parsed).unwrap_err().to_string();
    assert!(err.contains("bins\\u{1b}[1A\\u{200b}' is listed twice"), "{err}");

    // Two signatures from one key ID with a bidi override.
    let keyid = "\u{202e}abc";
    let bytes = serde_json::to_vec(&json!({
        "signatures": [{"keyid": keyid, "sig": ""}, {"keyid": keyid, "sig": ""}],
        "signed": root_signed()
    }))
    .unwrap();
    let err = Envelope::parse("root", &bytes, &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("from key \\u{202e}abc"), "{err}");

    // An unsafe target path is named escaped.
    let err = target_path::validate("a/\u{202e}/../../etc\u{1b}[2J")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("a/\\u{202e}/../../etc\\u{1b}[2J: unsafe target path"),
        "{err}"
    );
}

#[test]
fn duplicate_keys_in_metadata_are_refused() {
    // At the top, in `signed`, and deep inside a target's custom field.
    let signed = serde_json::to_string(&root_signed()).unwrap();
    let cases = [
        (
            format!(r#"{{"signatures": [], "signatures": [], "signed": {signed}}}"#),
            "signatures",
        ),
        (
            format!(
                r#"{{"signatures": [], "signed": {}}}"#,
                signed.replacen(r#""version":1"#, r#""version":1,"version":2"#, 1)
            ),
            "version",
        ),
        (
            r#"{"signatures": [], "signed": {"_type": "targets", "targets": {"a": {"custom": {"x": [{"status": "Active", "status": "Expired"}]}}}}}"#.to_string(),
            "status",
        ),
    ];
    for (text, key) in cases {
        let err = Envelope::parse("targets", text.as_bytes(), &Limits::default()).unwrap_err();
        let shown = err.to_string();
        assert_eq!(err.role, "targets");
        assert!(shown.starts_with("targets: "), "{shown}");
        assert!(shown.contains(&format!("the key '{key}' appears twice")), "{shown}");
    }
    // The same key in different objects is not a duplicate.
    assert!(parse_root(&envelope(&root_signed())).is_ok());
}

#[test]
fn spec_versions_python_tuf_refuses_are_refused() {
    for bad in [
        "1",
        "1.x.y",
        "1.0.0-rc1",
        "1.0.0.0",
        "2.0.0",
        "01.0",
        "1..0",
        "1.0.",
        " 1.0",
        "1.0\u{202e}",
    ] {
        assert!(!supported_spec_version(bad), "{bad:?} accepted");
        let mut signed = root_signed();
        signed["spec_version"] = json!(bad);
        let err = parse_root(&envelope(&signed)).unwrap_err().to_string();
        assert!(err.contains("unsupported spec_version"), "{bad:?}: {err}");
        assert!(!err.contains('\u{202e}'), "{err}");
    }
    for good in ["1.0", "1.0.0", "1.0.31", "1.20.3"] {
        assert!(supported_spec_version(good), "{good:?} refused");
    }
}

/// Every metadata file of the real Sigstore repositories loads: no duplicate keys, a spec
/// version of the accepted form.
#[test]
fn the_real_sigstore_metadata_all_still_loads() {
    let dir = common::unpack();
    let mut files = Vec::new();
    collect(dir.path(), &mut files);
    assert!(files.len() > 150, "{} metadata files", files.len());
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let what = path.display().to_string();
        let envelope = Envelope::parse(&what, &bytes, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        let result = match envelope.role_type() {
            Some("root") => Root::from_envelope(&what, &envelope).map(drop),
            Some("timestamp") => Timestamp::from_envelope(&what, &envelope).map(drop),
            Some("snapshot") => Snapshot::from_envelope(&what, &envelope).map(drop),
            Some("targets") => Targets::from_envelope(&what, &envelope).map(drop),
            other => panic!("{what}: type {other:?}"),
        };
        result.unwrap_or_else(|e| panic!("{e}"));
    }
}

/// The metadata files under `dir` (not the targets, not the manifest).
fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "targets") {
                collect(&path, files);
            }
        } else if path.extension().is_some_and(|e| e == "json") {
            files.push(path);
        }
    }
}
