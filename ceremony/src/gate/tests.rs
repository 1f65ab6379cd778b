//! Tests of the gate's named findings, on candidates built in memory, and of
//! `tough-root-history` on Sigstore's real production repository.

#![allow(clippy::unwrap_used, clippy::panic)]
use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use super::*;
use crate::candidate::CandidateTarget;

/// A policy with no keyholders yet (the gate reads only its `[gate]` and `[import]`).
fn policy(extra: &str) -> Policy {
    Policy::parse(&format!(
        r#"
[roles.root]
threshold = 1
[roles.targets]
threshold = 1
[online]
signer = "env:ONLINE"
public = "keys/online.pub"
[publish]
destination = "public"
{extra}
"#
    ))
    .unwrap()
}

fn empty_candidate() -> Candidate {
    Candidate {
        round: "test".into(),
        metadata: BTreeMap::new(),
        versions: BTreeMap::new(),
        new_roles: Vec::new(),
        root_history: BTreeMap::new(),
        previous: BTreeMap::new(),
        targets: BTreeMap::new(),
        left_out: Vec::new(),
    }
}

/// Adds `role` v`version` with `signed` to the candidate, as a role this publish writes
/// (`new`) or carries as published.
fn add(candidate: &mut Candidate, role: &str, version: u64, signed: Value, new: bool) {
    let bytes = serde_json::to_vec(&json!({"signatures": [], "signed": signed})).unwrap();
    if role == "root" {
        candidate.root_history.insert(version, bytes.clone());
    }
    candidate.metadata.insert(role.into(), bytes);
    candidate.versions.insert(role.into(), version);
    if new {
        candidate.new_roles.push(role.into());
    }
}

fn ed25519(public_byte: u8) -> Value {
    json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": hex::encode([public_byte; 32])}})
}

fn key_id(key: &Value) -> String {
    serde_json::from_value::<trustroot_core::Key>(key.clone())
        .unwrap()
        .computed_key_id()
        .into_string()
}

/// A root v`version` listing `keys` (key ID -> key), all signing every role.
fn root(version: u64, keys: &[(String, Value)]) -> Value {
    let ids: Vec<&String> = keys.iter().map(|(id, _)| id).collect();
    let role = json!({"keyids": ids, "threshold": 1});
    json!({
        "_type": "root",
        "spec_version": "1.0.31",
        "version": version,
        "expires": "2099-01-01T00:00:00Z",
        "consistent_snapshot": true,
        "keys": keys.iter().cloned().collect::<serde_json::Map<String, Value>>(),
        "roles": {"root": role, "targets": role, "snapshot": role, "timestamp": role},
    })
}

fn named_findings<'f>(findings: &'f [Finding], name: &str) -> Vec<&'f Finding> {
    findings.iter().filter(|f| f.name == Some(name)).collect()
}

fn now() -> DateTime<Utc> {
    trustroot_core::time::parse("2026-08-22T00:00:00Z").unwrap()
}

/// A root listing one key under an ID that is not its sha256 (Docker's root does).
fn root_with_legacy_key_id() -> Value {
    let key = ed25519(7);
    assert_ne!(key_id(&key), "ab".repeat(32));
    root(2, &[("ab".repeat(32), key)])
}

#[test]
fn a_key_id_that_is_not_the_hash_on_a_newly_staged_role_is_an_error_unless_accepted() {
    let mut candidate = empty_candidate();
    add(&mut candidate, "root", 2, root_with_legacy_key_id(), true);
    let findings = lint(&candidate, &policy(""), now());
    let found = named_findings(&findings, named::KEY_ID_NOT_HASH);
    assert_eq!(found.len(), 1, "{findings:#?}");
    assert_eq!(found[0].severity, Severity::Error);
    assert!(
        found[0].to_string().contains("key-id-not-hash: key ID abab"),
        "{}",
        found[0]
    );

    let findings = lint(&candidate, &policy("[gate]\naccept = [\"key-id-not-hash\"]"), now());
    let found = named_findings(&findings, named::KEY_ID_NOT_HASH);
    assert_eq!(found[0].severity, Severity::Warning);
    assert!(found[0].message.contains("accepted by [gate] accept"), "{}", found[0]);
    assert!(!has_errors(&findings), "{findings:#?}");
}

#[test]
fn lints_on_a_role_carried_as_published_are_warnings() {
    let mut candidate = empty_candidate();
    let mut carried = root_with_legacy_key_id();
    carried["spec_version"] = json!("1");
    carried["consistent_snapshot"] = json!(false);
    add(&mut candidate, "root", 2, carried.clone(), false);
    let findings = lint(&candidate, &policy(""), now());
    assert_eq!(findings.len(), 3, "{findings:#?}");
    for finding in &findings {
        assert_eq!(finding.severity, Severity::Warning, "{finding}");
        assert!(finding.message.contains("already published"), "{finding}");
    }
    assert_eq!(named_findings(&findings, named::KEY_ID_NOT_HASH).len(), 1);
    // The same bytes staged anew are three errors.
    let mut candidate = empty_candidate();
    add(&mut candidate, "root", 2, carried, true);
    let findings = lint(&candidate, &policy(""), now());
    assert_eq!(findings.iter().filter(|f| f.severity == Severity::Error).count(), 3);
    // An expiry inside the horizon is a renewal a round can make: still an error.
    let mut candidate = empty_candidate();
    let mut soon = root(2, &[(key_id(&ed25519(1)), ed25519(1))]);
    soon["expires"] = json!("2026-08-25T00:00:00Z");
    add(&mut candidate, "root", 2, soon, false);
    let findings = lint(&candidate, &policy(""), now());
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error);
}

/// tough 0.24 cannot even parse a root that lists a keyless (`sigstore-oidc`) key: the
/// gate names it `tough-key-type`, an error until the policy accepts it, and then tough is
/// not run on such a root (trustroot's client, which verifies keyless keys, still is).
#[test]
fn a_keyless_key_is_one_tough_cannot_read_and_accepted_only_by_name() {
    let keyless = json!({"keytype": "sigstore-oidc", "scheme": "Fulcio",
        "keyval": {"identity": "dave@example.com", "issuer": "https://accounts.google.com"}});
    let good = ed25519(4);
    let mut candidate = empty_candidate();
    add(
        &mut candidate,
        "root",
        1,
        root(1, &[(key_id(&good), good), ("ab".repeat(32), keyless)]),
        true,
    );
    let readable = tough_readable(&candidate, &policy(""));
    assert!(readable.unknown_key_type);
    assert_eq!(readable.findings[0].name, Some(named::TOUGH_KEY_TYPE));
    assert_eq!(readable.findings[0].severity, Severity::Error);
    assert!(
        readable.findings[0].message.contains("tough cannot read keyless keys")
            && readable.findings[0].message.contains("sigstore-oidc"),
        "{}",
        readable.findings[0]
    );
    let allowed = tough_readable(&candidate, &policy("[gate]\nallow_p384 = true"));
    assert_eq!(
        allowed.findings[0].severity,
        Severity::Error,
        "allow_p384 says nothing of keyless keys"
    );
    let accepted = tough_readable(&candidate, &policy("[gate]\naccept = [\"tough-key-type\"]"));
    assert_eq!(accepted.findings[0].severity, Severity::Warning);
}

#[test]
fn a_key_tough_cannot_read_is_named_tough_key_type_and_accepted_only_when_the_policy_says_so() {
    let p384 = json!({"keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp384", "keyval": {"public": "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"}});
    let pkcs1 = json!({"keytype": "rsa", "scheme": "rsa-pkcs1v15-sha256", "keyval": {"public": "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"}});
    let good = ed25519(3);
    let mut candidate = empty_candidate();
    add(
        &mut candidate,
        "root",
        1,
        root(1, &[(key_id(&good), good.clone()), ("cd".repeat(32), p384)]),
        true,
    );
    let readable = tough_readable(&candidate, &policy(""));
    assert!(readable.unknown_key_type);
    assert_eq!(readable.findings.len(), 1, "{:#?}", readable.findings);
    let finding = &readable.findings[0];
    assert_eq!(finding.name, Some(named::TOUGH_KEY_TYPE));
    assert_eq!(finding.severity, Severity::Error);
    assert!(finding.message.contains("ecdsa-sha2-nistp384"), "{finding}");

    // Accepted by name, or (P-384 alone) by the older allow_p384, as it always was.
    let accepted = tough_readable(&candidate, &policy("[gate]\naccept = [\"tough-key-type\"]"));
    assert_eq!(accepted.findings[0].severity, Severity::Warning);
    assert!(accepted.findings[0].message.contains("accepted by [gate] accept"));
    let allowed = tough_readable(&candidate, &policy("[gate]\nallow_p384 = true"));
    assert_eq!(allowed.findings[0].severity, Severity::Warning);
    assert!(allowed.findings[0].message.starts_with("tough-skipped-p384"));

    // allow_p384 says nothing about an RSA PKCS#1 key, which tough cannot read either.
    let mut candidate = empty_candidate();
    add(
        &mut candidate,
        "root",
        1,
        root(1, &[(key_id(&good), good), ("ef".repeat(32), pkcs1)]),
        true,
    );
    let readable = tough_readable(&candidate, &policy("[gate]\nallow_p384 = true"));
    assert_eq!(readable.findings[0].severity, Severity::Error);
    assert!(readable.findings[0].message.contains("rsa-pkcs1v15-sha256"));
}

#[test]
fn fields_inside_delegations_that_tough_drops_are_named_tough_delegation_fields() {
    let key = ed25519(9);
    let id = key_id(&key);
    let targets = |entry_extra: Option<(&str, &str)>| {
        let mut entry =
            json!({"name": "team", "keyids": [id], "threshold": 1, "terminating": true, "paths": ["team/*"]});
        if let Some((field, value)) = entry_extra {
            entry[field] = json!(value);
        }
        json!({
            "_type": "targets",
            "spec_version": "1.0.31",
            "version": 3,
            "expires": "2099-01-01T00:00:00Z",
            "targets": {},
            "x-tuf-on-ci-expiry-period": 365,
            "delegations": {"keys": {id.clone(): key.clone()}, "roles": [entry]},
        })
    };
    let mut candidate = empty_candidate();
    add(&mut candidate, "targets", 3, targets(None), true);
    let readable = tough_readable(&candidate, &policy(""));
    assert!(
        readable.findings.is_empty(),
        "top-level custom fields are fine: {:#?}",
        readable.findings
    );

    let mut candidate = empty_candidate();
    add(
        &mut candidate,
        "targets",
        3,
        targets(Some(("x-tufrepo-note", "hello"))),
        true,
    );
    let readable = tough_readable(&candidate, &policy(""));
    assert_eq!(readable.extra_delegation_fields, vec!["targets".to_string()]);
    let finding = &readable.findings[0];
    assert_eq!(finding.name, Some(named::TOUGH_DELEGATION_FIELDS));
    assert_eq!(finding.severity, Severity::Error);
    assert!(
        finding.message.contains("delegations.roles[0] (team).x-tufrepo-note"),
        "{finding}"
    );
    let accepted = tough_readable(&candidate, &policy("[gate]\naccept = [\"tough-delegation-fields\"]"));
    assert_eq!(accepted.findings[0].severity, Severity::Warning);
}

/// A published tree (`N.root.json`, `timestamp.json`, `V.ROLE.json`, `targets/`) as the
/// candidate of a publish that adds nothing: e.g. Sigstore's production repository (roots
/// 1 to 15), as trustroot would hold it after importing it.
fn published_candidate(published: &Path) -> Candidate {
    let mut candidate = empty_candidate();
    for entry in std::fs::read_dir(published).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        let bytes = std::fs::read(published.join(&name)).unwrap();
        if stem == "timestamp" {
            let version = trustroot_core::Envelope::parse("timestamp", &bytes, &trustroot_core::Limits::default())
                .unwrap()
                .version()
                .unwrap();
            candidate.versions.insert("timestamp".into(), version);
            candidate.metadata.insert("timestamp".into(), bytes);
            continue;
        }
        let (version, role) = stem.split_once('.').unwrap();
        let version: u64 = version.parse().unwrap();
        if role == "root" {
            candidate.root_history.insert(version, bytes);
        } else {
            candidate.versions.insert(role.into(), version);
            candidate.metadata.insert(role.into(), bytes);
        }
    }
    let (&newest, root) = candidate.root_history.iter().next_back().unwrap();
    candidate.metadata.insert("root".into(), root.clone());
    candidate.versions.insert("root".into(), newest);
    candidate.previous = candidate.metadata.clone();
    // The top-level targets, read by tough from the published tree.
    let targets: Value = serde_json::from_slice(&candidate.metadata["targets"]).unwrap();
    for (path, entry) in targets["signed"]["targets"].as_object().unwrap() {
        let sha256 = entry["hashes"]["sha256"].as_str().unwrap().to_string();
        let source = published.join("targets").join(format!("{sha256}.{path}"));
        candidate.targets.insert(
            path.clone(),
            CandidateTarget {
                role: "targets".into(),
                length: entry["length"].as_u64().unwrap(),
                sha256,
                source: Some(source),
            },
        );
    }
    candidate.targets.retain(|path, _| !path.contains('/'));
    candidate
}

/// tough cannot start from Sigstore production's roots 1 to 11 (root 11 lists a key ID
/// that is not the hash; root 1 an `expires` it re-serialises differently). Imported at
/// root v15, those roots predate trustroot: the refusal from root v1 is
/// `tough-root-history`, an error until accepted; accepted, tough must start from the
/// first root it can (v12) and from the published root. With the import said to be at
/// root v5, root v5 is trustroot's own history: never accepted.
///
/// tough checks expiry against the wall clock, so the test runs again under faketime at
/// the fixture's reference time (faketime is a required test dependency).
#[test]
fn tough_root_history_on_sigstore_production_is_named_and_accepted_only_before_the_import() {
    let test = "gate::tests::tough_root_history_on_sigstore_production_is_named_and_accepted_only_before_the_import";
    if !trustroot_test_support::faketime::under_faketime(test, "2026-08-22 00:00:00") {
        return;
    }
    let fixtures = trustroot_test_support::unpack_sigstore_fixtures();
    let published = fixtures.path().join("sigstore-prod/published");
    let candidate = published_candidate(&published);
    assert_eq!(candidate.root_history.len(), 15);
    let import = |root_version: u64, accept: bool| {
        let accept = if accept {
            "[gate]\naccept = [\"tough-root-history\"]\n"
        } else {
            ""
        };
        policy(&format!(
            "{accept}[import]\nsource = \"root-signing\"\nroot_version = {root_version}\nat = \"2026-08-22T00:00:00Z\"\n"
        ))
    };

    // No import: an ordinary refusal, not a named one.
    let findings = tough_client(&candidate, &published, &policy(""));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error);
    assert_eq!(findings[0].name, None);
    assert!(
        findings[0].message.starts_with("tough from root v1 refuses it"),
        "{}",
        findings[0]
    );

    // Imported at v15: named, an error until accepted.
    let findings = tough_client(&candidate, &published, &import(15, false));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].name, Some(named::TOUGH_ROOT_HISTORY));
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(
        findings[0].message.contains("[import] root_version = 15"),
        "{}",
        findings[0]
    );

    let findings = tough_client(&candidate, &published, &import(15, true));
    assert!(!has_errors(&findings), "{findings:#?}");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].name, Some(named::TOUGH_ROOT_HISTORY));
    assert_eq!(findings[0].file, "12.root.json");
    assert!(
        findings[0]
            .message
            .starts_with("tough can start from root v12 (history before trustroot: v1–v11 accepted by [gate] accept)"),
        "{}",
        findings[0]
    );

    // Root v5 and later are trustroot's: accepting cannot cover a refusal from them.
    let findings = tough_client(&candidate, &published, &import(5, true));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error);
    assert_eq!(findings[0].name, Some(named::TOUGH_ROOT_HISTORY));
    assert!(
        findings[0].message.starts_with("tough from root v5 refuses it"),
        "{}",
        findings[0]
    );
    assert!(findings[0].message.contains("cannot accept"), "{}", findings[0]);
}

/// Fields inside a delegation entry that tough drops: tough then checks the signatures of
/// `targets` over bytes without them and refuses it. The gate names that refusal
/// `tough-delegation-fields` too, and both are warnings once accepted (the same tree without
/// the field passes tough: the refusal is the field's).
#[test]
fn tough_refuses_delegation_fields_it_drops_and_the_refusal_is_named() {
    use trustroot_test_support::{DelegatedRoleSpec, RepoSim};
    let build = |field: Option<&str>| {
        let mut sim = RepoSim::new(Utc::now());
        sim.add_delegation("targets", DelegatedRoleSpec::new("team", &["team/*"]));
        sim.add_target("targets", "notes.txt", b"notes\n");
        sim.publish();
        if let Some(field) = field {
            // targets, re-signed by its own key with a custom field in the delegation entry
            // (as python-tuf and tuf-on-ci keep them).
            let mut signed = sim.signed("targets");
            signed["delegations"]["roles"][0][field] = json!("kept by python-tuf");
            let signatures = trustroot_test_support::envelope::sign_all(&signed, &sim.keys("targets"));
            let bytes = trustroot_test_support::envelope::serialize(signatures, &signed);
            let path = sim.current_path("targets");
            sim.set_override(&path, Some(bytes));
        }
        let dir = tempfile::tempdir().unwrap();
        sim.write_published(dir.path()).unwrap();
        dir
    };
    let plain = build(None);
    let candidate = published_candidate(plain.path());
    assert_eq!(candidate.targets.len(), 1);
    let findings = tough_client(&candidate, plain.path(), &policy(""));
    assert!(findings.is_empty(), "{findings:#?}");

    let extra = build(Some("x-tufrepo-note"));
    let candidate = published_candidate(extra.path());
    let findings = tough_client(&candidate, extra.path(), &policy(""));
    let named = named_findings(&findings, named::TOUGH_DELEGATION_FIELDS);
    assert_eq!(named.len(), 2, "the scan and tough's refusal: {findings:#?}");
    assert_eq!(findings.len(), 2, "{findings:#?}");
    assert!(named.iter().all(|f| f.severity == Severity::Error));
    assert!(
        named[1]
            .message
            .starts_with("tough from the published root v1 refuses it"),
        "{}",
        named[1]
    );
    let accepted = tough_client(
        &candidate,
        extra.path(),
        &policy("[gate]\naccept = [\"tough-delegation-fields\"]"),
    );
    assert_eq!(accepted.len(), 2, "{accepted:#?}");
    assert!(!has_errors(&accepted), "{accepted:#?}");
    assert!(accepted.iter().all(|f| f.message.contains("accepted by [gate] accept")));
}

/// The gate's tough reads the targets through a load that leaves out its per-read clock
/// check, but first loads the repository as tough's clients do, expiry checked against the
/// wall clock: an expired role is still refused.
#[test]
fn tough_in_the_gate_still_refuses_an_expired_repository() {
    use trustroot_test_support::RepoSim;
    let mut sim = RepoSim::new(Utc::now());
    sim.add_target("targets", "notes.txt", b"notes\n");
    sim.set_expires("snapshot", Utc::now() - chrono::Duration::days(1));
    sim.publish();
    let dir = tempfile::tempdir().unwrap();
    sim.write_published(dir.path()).unwrap();
    let candidate = published_candidate(dir.path());
    let findings = tough_client(&candidate, dir.path(), &policy(""));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(findings[0].message.contains("xpired"), "{}", findings[0]);
}
