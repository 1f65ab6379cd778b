//! Hostile input: truncated files and every field replaced by values of the wrong type or
//! garbage. Validation must report, never panic; parsing must fail with a JSON path.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use serde_json::Value;
use trustroot_targets::sigstore::diff;
use trustroot_targets::sigstore::json::Document;
use trustroot_targets::sigstore::signing_config::SigningConfig;
use trustroot_targets::sigstore::trusted_root::{TrustedRoot, TrustedRootEdit};
use trustroot_targets::sigstore::validate::{self, Severity};

fn leaves(v: &Value, path: Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    out.push(path.clone());
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let mut p = path.clone();
                p.push(PathStep::Key(k.clone()));
                leaves(x, p, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let mut p = path.clone();
                p.push(PathStep::Index(i));
                leaves(x, p, out);
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn set(v: &mut Value, path: &[PathStep], new: Value) {
    let mut cur = v;
    for s in path {
        cur = match s {
            PathStep::Key(k) => cur.get_mut(k).unwrap(),
            PathStep::Index(i) => cur.get_mut(*i).unwrap(),
        };
    }
    *cur = new;
}

fn replacements() -> Vec<Value> {
    vec![
        Value::Null,
        Value::from(0),
        Value::from(-1),
        Value::from(1e300),
        Value::from(""),
        Value::from("AAAA"),
        Value::from("not base64 !"),
        Value::from("2025-09-04:00:00Z"),
        Value::Array(vec![]),
        serde_json::json!({}),
        serde_json::json!([{"rawBytes": "MIIB"}]),
    ]
}

fn check_file(rel: &str, trusted_root: bool) {
    let bytes = common::read(&common::history().join(rel));
    // Truncations.
    for cut in (0..bytes.len()).step_by(53) {
        let b = &bytes[..cut];
        let f = if trusted_root {
            validate::validate_trusted_root(b)
        } else {
            validate::validate_signing_config(b, None)
        };
        assert!(f.iter().any(|f| f.severity == Severity::Error), "{rel} cut at {cut}");
    }
    // Every node replaced by garbage of every type.
    let orig: Value = serde_json::from_slice(&bytes).unwrap();
    let mut paths = Vec::new();
    leaves(&orig, Vec::new(), &mut paths);
    let base_root = Document::<TrustedRoot>::parse(&bytes).ok();
    for p in &paths {
        for r in replacements() {
            let mut v = orig.clone();
            set(&mut v, p, r);
            let b = serde_json::to_vec(&v).unwrap();
            if trusted_root {
                let _ = validate::validate_trusted_root(&b);
                match Document::<TrustedRoot>::parse(&b) {
                    Ok(d) => {
                        let _ = d.value.extract_all();
                        if let Some(base) = &base_root {
                            let _ = diff::diff_trusted_roots(&base.value, &d.value);
                            let _ = diff::diff_trusted_roots(&d.value, &base.value);
                        }
                        let _ = d.to_bytes().unwrap();
                    }
                    Err(e) => assert!(e.to_string().starts_with('$'), "{e}"),
                }
            } else {
                let _ = validate::validate_signing_config(&b, base_root.as_ref().map(|d| &d.value));
                if let Ok(d) = Document::<SigningConfig>::parse(&b) {
                    let _ = diff::diff_signing_configs(&d.value, &d.value);
                }
            }
        }
    }
}

#[test]
fn trusted_roots_with_garbage_are_reported_not_panicked_on() {
    // The 2023 production root: a 3-certificate TSA without uri; and staging's latest,
    // with PKCS#1 and Ed25519 keys and Rekor v2 log IDs.
    check_file("prod/2023-04-04_f50a9deb_trusted_root.json", true);
    check_file("staging/2026-06-11_8b4e8006_trusted_root.json", true);
}

#[test]
fn signing_configs_with_garbage_are_reported_not_panicked_on() {
    check_file("prod/2025-09-22_c9bda74a_signing_config.v0.2.json", false);
    check_file("staging/2024-08-21_6533dfb7_signing_config.json", false);
}

#[test]
fn a_log_without_log_id_is_an_error_naming_the_path() {
    // The air-gapped failure of sigstore/root-signing#1565: "tlog missing log ID".
    let bytes = common::read(&common::history().join("prod/2025-09-22_c9bda74a_trusted_root.json"));
    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
    v["tlogs"][1].as_object_mut().unwrap().remove("logId");
    let f = validate::validate_trusted_root(&serde_json::to_vec(&v).unwrap());
    let e: Vec<_> = f.iter().filter(|f| f.severity == Severity::Error).collect();
    assert_eq!(e.len(), 1, "{f:#?}");
    assert_eq!(e[0].path, "$.tlogs[1].logId");
    assert!(
        e[0].fix.contains("zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A="),
        "{}",
        e[0].fix
    );
}

#[test]
fn wrong_log_ids_keys_and_chains_are_errors() {
    let bytes = common::read(&common::history().join("prod/2025-09-22_c9bda74a_trusted_root.json"));
    let orig: Value = serde_json::from_slice(&bytes).unwrap();
    let errors = |v: &Value| -> Vec<(String, String)> {
        validate::validate_trusted_root(&serde_json::to_vec(v).unwrap())
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| (f.code.to_string(), f.path))
            .collect()
    };
    // Log ID of another log.
    let mut v = orig.clone();
    v["ctlogs"][1]["logId"] = orig["ctlogs"][0]["logId"].clone();
    assert_eq!(
        errors(&v),
        [("log-id-mismatch".to_string(), "$.ctlogs[1].logId.keyId".to_string())]
    );
    // keyDetails that do not match the key.
    let mut v = orig.clone();
    v["tlogs"][0]["publicKey"]["keyDetails"] = "PKIX_ECDSA_P384_SHA_384".into();
    assert_eq!(
        errors(&v),
        [("bad-key".to_string(), "$.tlogs[0].publicKey.rawBytes".to_string())]
    );
    // UNSPECIFIED hash.
    let mut v = orig.clone();
    v["tlogs"][0]["hashAlgorithm"] = "HASH_ALGORITHM_UNSPECIFIED".into();
    assert_eq!(
        errors(&v),
        [("unknown-hash".to_string(), "$.tlogs[0].hashAlgorithm".to_string())]
    );
    // A chain with the intermediate of one CA and the root of another: no order works.
    let mut v = orig.clone();
    v["certificateAuthorities"][1]["certChain"]["certificates"][1] =
        orig["timestampAuthorities"][0]["certChain"]["certificates"][1].clone();
    assert!(errors(&v).contains(&(
        "broken-chain".to_string(),
        "$.certificateAuthorities[1].certChain.certificates".to_string()
    )));
    // A CA window that outlives its certificates (notAfter 2031-10-05T13:56:58Z).
    let mut v = orig.clone();
    v["certificateAuthorities"][1]["validFor"]["end"] = "2032-01-01T00:00:00Z".into();
    assert_eq!(
        errors(&v),
        [(
            "window-after-certs".to_string(),
            "$.certificateAuthorities[1].validFor.end".to_string()
        )]
    );
    // end before start.
    let mut v = orig.clone();
    v["ctlogs"][0]["publicKey"]["validFor"]["end"] = "2020-01-01T00:00:00Z".into();
    assert_eq!(
        errors(&v),
        [(
            "end-before-start".to_string(),
            "$.ctlogs[0].publicKey.validFor.end".to_string()
        )]
    );
    // An unknown field under v0.1.
    let mut v = orig.clone();
    v["tlogs"][0]["publicKeyy"] = Value::from(1);
    assert_eq!(
        errors(&v),
        [("unknown-field".to_string(), "$.tlogs[0].publicKeyy".to_string())]
    );
    // A corrupted certificate.
    let mut v = orig.clone();
    v["timestampAuthorities"][0]["certChain"]["certificates"][0]["rawBytes"] = "MIIBAAAA".into();
    assert!(errors(&v).contains(&(
        "bad-certificate".to_string(),
        "$.timestampAuthorities[0].certChain.certificates[0].rawBytes".to_string()
    )));
}

#[test]
fn signing_config_rules() {
    let bytes = common::read(&common::history().join("prod/2025-09-22_c9bda74a_signing_config.v0.2.json"));
    let orig: Value = serde_json::from_slice(&bytes).unwrap();
    let codes = |v: &Value, tr: Option<&TrustedRoot>| -> Vec<(Severity, String, String)> {
        validate::validate_signing_config(&serde_json::to_vec(v).unwrap(), tr)
            .into_iter()
            .map(|f| (f.severity, f.code.to_string(), f.path))
            .collect()
    };
    let mut v = orig.clone();
    v["rekorTlogConfig"] = serde_json::json!({"selector": "EXACT", "count": 2});
    // Two Rekor services, but one operator: clients pick at most one per operator.
    assert_eq!(
        codes(&v, None),
        [(Severity::Error, "bad-count".into(), "$.rekorTlogConfig.count".into())]
    );
    v["rekorTlogConfig"] = serde_json::json!({"selector": "EXACT", "count": 1});
    assert!(codes(&v, None).is_empty());
    v["tsaConfig"] = serde_json::json!({"selector": "SERVICE_SELECTOR_UNDEFINED"});
    assert_eq!(
        codes(&v, None),
        [(Severity::Error, "bad-selector".into(), "$.tsaConfig.selector".into())]
    );
    let mut v = orig.clone();
    v["rekorTlogUrls"].as_array_mut().unwrap().reverse();
    assert_eq!(
        codes(&v, None),
        [(Severity::Warning, "not-sorted".into(), "$.rekorTlogUrls[1]".into())]
    );
    // Against the trusted roots: prod matches prod, not staging.
    let prod = Document::<TrustedRoot>::parse(&common::read(
        &common::history().join("prod/2025-09-22_c9bda74a_trusted_root.json"),
    ))
    .unwrap()
    .value;
    assert!(codes(&orig, Some(&prod)).is_empty());
    let staging = Document::<TrustedRoot>::parse(&common::read(
        &common::history().join("staging/2026-06-11_8b4e8006_trusted_root.json"),
    ))
    .unwrap()
    .value;
    let c = codes(&orig, Some(&staging));
    assert_eq!(c.len(), 4, "{c:#?}");
    assert!(
        c.iter()
            .all(|(s, code, _)| *s == Severity::Error && code == "not-in-trusted-root")
    );
}

/// Field names, media types and URLs are the file's own text: a finding shows them
/// escaped, so a hostile trusted root cannot drive the terminal of whoever validates it.
#[test]
fn terminal_controls_in_a_trusted_root_are_escaped_in_findings() {
    let bytes = common::read(&common::history().join("prod/2025-09-22_c9bda74a_trusted_root.json"));
    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
    let hostile = "x\u{1b}]0;owned\u{7}\u{202e}";
    v.as_object_mut()
        .unwrap()
        .insert(hostile.to_string(), Value::Bool(true));
    v["mediaType"] = Value::String(format!("application/{hostile}"));
    v["tlogs"][0]["baseUrl"] = Value::String(format!("https://{hostile}"));
    let findings = validate::validate_trusted_root(&serde_json::to_vec(&v).unwrap());
    let shown: String = findings.iter().map(|f| format!("{f}\n")).collect();
    assert!(
        shown.contains("unknown field `x\\u{1b}]0;owned\\u{7}\\u{202e}`"),
        "{shown}"
    );
    assert!(shown.contains("unknown media type `application/x\\u{1b}"), "{shown}");
    for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!shown.contains(c), "{c:?} shown raw in:\n{shown}");
    }
    let err = Document::<TrustedRoot>::parse(&serde_json::to_vec(&v).unwrap())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!err.contains(c), "{c:?} shown raw in: {err}");
    }
}
