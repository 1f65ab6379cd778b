//! Tests of the carry rules: a repository whose published root and targets another tool
//! wrote (tuf-on-ci's shape: `spec_version` "1.0", `x-` fields at every level, unsorted key
//! IDs, delegations out of name order, a key under an ID that is not its hash).

#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::policy::Policy;
use crate::repo::Repo;
use crate::stage::{StagedRole, diff, plan, plan_requested};

/// The IDs the published metadata lists keys under that are not their hash.
pub(crate) const ALICE_LEGACY_ID: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const CAROL_DELEGATION_ID: &str = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";

pub(crate) fn at() -> DateTime<Utc> {
    trustroot_core::time::parse("2030-01-01T00:00:00Z").unwrap()
}

/// A TUF ed25519 key object (with `extra` fields) from a fixed seed.
fn key_object(seed: u8, extra: Value) -> Value {
    let public = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key();
    let mut key =
        json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": hex::encode(public.as_bytes())}});
    key.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    key
}

fn key_id(object: &Value) -> String {
    serde_json::from_value::<trustroot_core::Key>(object.clone())
        .unwrap()
        .computed_key_id()
        .into_string()
}

pub(crate) struct Keys {
    pub alice: Value,
    pub bob: Value,
    pub carol: Value,
    pub online: Value,
}

pub(crate) fn keys() -> Keys {
    Keys {
        alice: key_object(
            1,
            json!({"x-tuf-on-ci-keyowner": "@alice", "keyid_hash_algorithms": ["sha256", "sha512"], "x-key-note": "yubikey 5"}),
        ),
        bob: key_object(2, json!({"x-tuf-on-ci-keyowner": "@bob"})),
        carol: key_object(3, json!({"x-tuf-on-ci-keyowner": "@carol"})),
        online: key_object(
            4,
            json!({"x-tuf-on-ci-online-uri": "gcpkms:projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1"}),
        ),
    }
}

const POLICY: &str = r#"
[keys.alice]
public = "keys/alice.pub"
holder = "@alice"
[keys.bob]
public = "keys/bob.pub"
holder = "@bob"
[keys.carol]
public = "keys/carol.pub"

[roles.root]
keys = ["carol", "alice", "bob"]
threshold = 2
expiry_days = 197
signing_days = 46

[roles.targets]
keys = ["bob", "alice"]
threshold = 1
expiry_days = 365
signing_days = 182

[roles.snapshot]
expiry_days = 3650
signing_days = 365

[roles.timestamp]
expiry_days = 7
signing_days = 6

[delegations.zeta]
keys = ["carol"]
threshold = 1
paths = ["zeta/*"]
expiry_days = 365
signing_days = 182

[delegations.alpha]
keys = ["carol"]
threshold = 1
paths = ["alpha/*"]
expiry_days = 365
signing_days = 182

[online]
signer = "env:ONLINE_KEY"
public = "keys/online.pub"

[publish]
destination = "public"
"#;

pub(crate) const TARGET: &[u8] = b"hello, carried world\n";

fn write_json(path: &Path, value: &Value) {
    fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

fn envelope(signed: Value) -> Value {
    json!({"signatures": [], "signed": signed})
}

/// The published root, targets and delegated roles, and a policy that matches them.
pub(crate) fn carried_repo() -> (tempfile::TempDir, Repo) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for sub in ["keys", "metadata", "targets", "ceremonies"] {
        fs::create_dir_all(root.join(sub)).unwrap();
    }
    let k = keys();
    // The key files hold the key objects as the metadata lists them; bob's holder comes
    // from the policy instead.
    let mut bob_file = k.bob.clone();
    bob_file.as_object_mut().unwrap().remove("x-tuf-on-ci-keyowner");
    write_json(&root.join("keys/alice.pub"), &k.alice);
    write_json(&root.join("keys/bob.pub"), &bob_file);
    write_json(&root.join("keys/carol.pub"), &k.carol);
    write_json(&root.join("keys/online.pub"), &k.online);
    fs::write(root.join("trustroot.toml"), POLICY).unwrap();
    fs::write(root.join("targets/a.txt"), TARGET).unwrap();

    let (bob, carol, online) = (key_id(&k.bob), key_id(&k.carol), key_id(&k.online));
    let periods = |e: u32, s: u32| json!({"x-tuf-on-ci-expiry-period": e, "x-tuf-on-ci-signing-period": s});
    let with = |mut v: Value, extra: Value| {
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    let root_signed = with(
        json!({
            "_type": "root",
            "spec_version": "1.0",
            "version": 3,
            "expires": "2040-01-01T00:00:00Z",
            "consistent_snapshot": true,
            "x-tufrepo-note": "root top level",
            "keys": {ALICE_LEGACY_ID: k.alice, bob.clone(): k.bob, carol.clone(): k.carol, online.clone(): k.online},
            "roles": {
                "root": {"keyids": [carol, ALICE_LEGACY_ID, bob], "threshold": 2, "x-tufrepo-note": "root entry"},
                "targets": {"keyids": [bob, ALICE_LEGACY_ID], "threshold": 1},
                "snapshot": with(json!({"keyids": [online], "threshold": 1}), periods(3650, 365)),
                "timestamp": with(json!({"keyids": [online], "threshold": 1}), periods(7, 6)),
            },
        }),
        periods(197, 46),
    );
    write_json(&root.join("metadata/root.json"), &envelope(root_signed));

    let sha256 = hex::encode(Sha256::digest(TARGET));
    let delegation = |name: &str, extra: Value| {
        with(
            json!({"name": name, "keyids": [CAROL_DELEGATION_ID], "threshold": 1, "terminating": true, "paths": [format!("{name}/*")]}),
            extra,
        )
    };
    let targets_signed = with(
        json!({
            "_type": "targets",
            "spec_version": "1.0",
            "version": 5,
            "expires": "2040-01-01T00:00:00Z",
            "x-tufrepo-note": "targets top level",
            "targets": {"a.txt": {
                "length": TARGET.len(),
                "hashes": {"sha256": sha256},
                "custom": {"sigstore": {"usage": "Unknown"}},
                "x-tufrepo-note": "target entry",
            }},
            "delegations": {
                "x-tufrepo-note": "delegations",
                "keys": {CAROL_DELEGATION_ID: k.carol},
                "roles": [delegation("zeta", json!({"x-tufrepo-note": "delegation entry"})), delegation("alpha", json!({}))],
            },
        }),
        periods(365, 182),
    );
    write_json(&root.join("metadata/targets.json"), &envelope(targets_signed));
    for name in ["zeta", "alpha"] {
        let signed = with(
            json!({"_type": "targets", "spec_version": "1.0", "version": 1, "expires": "2040-01-01T00:00:00Z", "targets": {}}),
            periods(365, 182),
        );
        write_json(&root.join(format!("metadata/{name}.json")), &envelope(signed));
    }
    let repo = Repo::open(root).unwrap();
    (dir, repo)
}

fn published(repo: &Repo, role: &str) -> Value {
    repo.published(role).unwrap().unwrap().envelope.signed
}

fn staged<'a>(planned: &'a [StagedRole], role: &str) -> &'a StagedRole {
    planned.iter().find(|r| r.role == role).unwrap()
}

/// What changed from the published version of `role` to the staged one, but `version`
/// and `expires`.
fn changes(repo: &Repo, planned: &[StagedRole], role: &str) -> Vec<String> {
    let staged = staged(planned, role);
    assert_eq!(
        staged.signed.version(),
        Some(published(repo, role)["version"].as_u64().unwrap() + 1)
    );
    diff(Some(&published(repo, role)), &staged.signed.to_value())
        .into_iter()
        .filter(|l| !l.starts_with("~ version:") && !l.starts_with("~ expires:"))
        .collect()
}

fn with_policy(repo: &mut Repo, edit: impl Fn(&str) -> String) {
    let text = edit(POLICY);
    fs::write(repo.root.join("trustroot.toml"), &text).unwrap();
    repo.policy = Policy::parse(&text).unwrap();
}

#[test]
fn a_repository_whose_policy_matches_its_metadata_stages_nothing() {
    let (_dir, repo) = carried_repo();
    let planned = plan(&repo, at()).unwrap();
    assert!(
        planned.is_empty(),
        "staged: {:?}",
        planned.iter().map(|r| (&r.role, &r.reason)).collect::<Vec<_>>()
    );
}

#[test]
fn a_requested_version_differs_only_in_version_and_expires() {
    let (_dir, repo) = carried_repo();
    let roles = ["root", "targets", "zeta"].map(String::from);
    let planned = plan_requested(&repo, at(), &roles).unwrap();
    assert_eq!(
        planned.iter().map(|r| r.role.as_str()).collect::<Vec<_>>(),
        ["root", "targets", "zeta"]
    );
    for role in roles {
        assert_eq!(changes(&repo, &planned, &role), Vec::<String>::new(), "{role}");
        assert_eq!(staged(&planned, &role).reason, format!("requested (--role {role})"));
    }
    // The expiry is the policy's period from now.
    assert_eq!(
        staged(&planned, "root").signed.get("expires"),
        Some(&json!("2030-07-17T00:00:00Z"))
    );
}

#[test]
fn a_threshold_change_changes_only_the_threshold() {
    let (_dir, mut repo) = carried_repo();
    with_policy(&mut repo, |p| {
        p.replacen(
            "keys = [\"carol\", \"alice\", \"bob\"]\nthreshold = 2",
            "keys = [\"carol\", \"alice\", \"bob\"]\nthreshold = 3",
            1,
        )
    });
    let planned = plan(&repo, at()).unwrap();
    assert_eq!(planned.iter().map(|r| r.role.as_str()).collect::<Vec<_>>(), ["root"]);
    assert_eq!(changes(&repo, &planned, "root"), ["~ roles.root.threshold: 2 -> 3"]);
}

#[test]
fn a_new_key_is_appended_and_nothing_else_moves() {
    let (dir, mut repo) = carried_repo();
    let dave = key_object(5, json!({"x-tuf-on-ci-keyowner": "@dave"}));
    let dave_id = key_id(&dave);
    write_json(&dir.path().join("keys/dave.pub"), &dave);
    with_policy(&mut repo, |p| {
        p.replacen(
            "keys = [\"carol\", \"alice\", \"bob\"]",
            "keys = [\"dave\", \"carol\", \"alice\", \"bob\"]",
            1,
        )
        .replacen(
            "[keys.carol]",
            "[keys.dave]\npublic = \"keys/dave.pub\"\n[keys.carol]",
            1,
        )
    });
    let planned = plan(&repo, at()).unwrap();
    assert_eq!(planned.iter().map(|r| r.role.as_str()).collect::<Vec<_>>(), ["root"]);
    let root = staged(&planned, "root").signed.to_value();
    let old_ids = published(&repo, "root")["roles"]["root"]["keyids"].clone();
    let mut want = old_ids.as_array().unwrap().clone();
    want.push(json!(dave_id));
    assert_eq!(root["roles"]["root"]["keyids"], Value::Array(want));
    let lines = changes(&repo, &planned, "root");
    assert!(
        lines
            .iter()
            .all(|l| l.contains(&dave_id) || l.starts_with("~ roles.root.keyids")),
        "{lines:#?}"
    );
    assert_eq!(root["keys"][&dave_id], dave);
}

#[test]
fn a_holder_change_changes_only_that_key() {
    let (_dir, mut repo) = carried_repo();
    with_policy(&mut repo, |p| {
        p.replacen("holder = \"@bob\"", "holder = \"@robert\"", 1)
    });
    let roles = ["root"].map(String::from);
    let planned = plan_requested(&repo, at(), &roles).unwrap();
    let old = published(&repo, "root");
    let new = staged(&planned, "root").signed.to_value();
    let old_bob = key_id(&keys().bob);
    let mut robert = keys().bob;
    robert["x-tuf-on-ci-keyowner"] = json!("@robert");
    let new_bob = key_id(&robert);
    assert_eq!(new["keys"][&new_bob], robert);
    assert!(new["keys"].get(&old_bob).is_none());
    // Bob keeps his places in the key ID lists, under his new ID.
    for role in ["root", "targets"] {
        let swapped: Vec<Value> = old["roles"][role]["keyids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| {
                if id == &json!(old_bob) {
                    json!(new_bob)
                } else {
                    id.clone()
                }
            })
            .collect();
        assert_eq!(new["roles"][role]["keyids"], Value::Array(swapped), "{role}");
    }
    let mut unchanged_old = old.clone();
    let mut unchanged_new = new.clone();
    for (v, id) in [(&mut unchanged_old, &old_bob), (&mut unchanged_new, &new_bob)] {
        v["keys"].as_object_mut().unwrap().remove(id.as_str());
        for key in ["version", "expires", "roles"] {
            v.as_object_mut().unwrap().remove(key);
        }
    }
    assert_eq!(unchanged_old, unchanged_new);
}

#[test]
fn a_changed_target_keeps_its_fields_but_its_length_and_hashes() {
    let (dir, repo) = carried_repo();
    fs::write(dir.path().join("targets/a.txt"), b"new content\n").unwrap();
    let planned = plan(&repo, at()).unwrap();
    assert_eq!(planned.iter().map(|r| r.role.as_str()).collect::<Vec<_>>(), ["targets"]);
    let lines = changes(&repo, &planned, "targets");
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(lines[0].starts_with("~ targets.a.txt.hashes.sha256:"), "{lines:#?}");
    assert_eq!(lines[1], "~ targets.a.txt.length: 21 -> 12");
}

#[test]
fn delegations_keep_their_order_and_a_new_one_is_appended_by_name() {
    let (_dir, mut repo) = carried_repo();
    with_policy(&mut repo, |p| {
        format!("{p}\n[delegations.beta]\nkeys = [\"carol\"]\nthreshold = 1\npaths = [\"beta/*\"]\n").replacen(
            "[delegations.alpha]",
            "[delegations.alphabet]",
            1,
        )
    });
    let planned = plan(&repo, at()).unwrap();
    let targets = staged(&planned, "targets").signed.to_value();
    let names: Vec<&str> = targets["delegations"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    // alpha is gone, zeta keeps its place and its fields, the new ones follow by name.
    assert_eq!(names, ["zeta", "alphabet", "beta"]);
    assert_eq!(targets["delegations"]["roles"][0]["x-tufrepo-note"], "delegation entry");
    assert_eq!(targets["delegations"]["x-tufrepo-note"], "delegations");
    // carol keeps the ID the published targets lists her under.
    assert_eq!(
        targets["delegations"]["roles"][2]["keyids"],
        json!([CAROL_DELEGATION_ID])
    );
}

#[test]
fn a_key_listed_under_another_id_is_named_by_it() {
    let (_dir, repo) = carried_repo();
    let keys = repo.keys().unwrap();
    assert_eq!(keys.name_of(ALICE_LEGACY_ID), Some("alice"));
    assert_eq!(keys.name_of(CAROL_DELEGATION_ID), Some("carol"));
    assert_eq!(keys.name_of(&"0".repeat(64)), None);
}

#[test]
fn the_lint_takes_spec_version_1_y_and_refuses_other_majors_and_malformed_ones() {
    let (_dir, repo) = carried_repo();
    let planned = plan_requested(&repo, at(), &["root".to_string()]).unwrap();
    let mut root = staged(&planned, "root").signed.clone();
    let spec_findings = |root: &crate::targets_role::Signed| {
        crate::precheck::staged(&repo, &[("root", root)], at())
            .into_iter()
            .filter(|f| f.message.contains("spec_version"))
            .map(|f| f.severity)
            .collect::<Vec<_>>()
    };
    for good in ["1.0", "1.0.31"] {
        root.set("spec_version", json!(good));
        assert_eq!(spec_findings(&root), [], "{good}");
    }
    for bad in ["1", "2.0.0", "1.0.x"] {
        root.set("spec_version", json!(bad));
        assert_eq!(spec_findings(&root), [crate::finding::Severity::Error], "{bad}");
    }
}
