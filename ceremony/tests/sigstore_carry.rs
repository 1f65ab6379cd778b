//! The real Sigstore production repository (a tuf-on-ci checkout: root v15, targets v14,
//! one online-signed delegation) continued by trustroot: its keys written as the TUF key
//! objects root lists, a policy mirroring its metadata. Nothing may be staged at the
//! fixtures' reference time, and a root renewal asked for with `--role root` must change
//! only `version` and `expires` (every key under its v15 ID with every field).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::fs;
use std::path::Path;

use serde_json::Value;
use trustroot_ceremony::repo::Repo;
use trustroot_ceremony::round::{DueOutcome, start_requested};
use trustroot_ceremony::stage::{plan, plan_requested};

const AT: &str = "2026-08-22T00:00:00Z";

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn signed(repo: &Path, role: &str) -> Value {
    let bytes = fs::read(repo.join(format!("metadata/{role}.json"))).unwrap();
    serde_json::from_slice::<Value>(&bytes).unwrap()["signed"].clone()
}

fn write_key(repo: &Path, name: &str, key: &Value) -> String {
    let file = format!("keys/{name}.pub");
    fs::write(repo.join(&file), serde_json::to_vec_pretty(key).unwrap()).unwrap();
    file
}

/// A trustroot repository holding the Sigstore production checkout, as an import writes it.
fn sigstore_prod_repository(fixtures: &Path, repo: &Path) {
    let source = fixtures.join("sigstore-prod/source");
    copy_tree(&source.join("metadata"), &repo.join("metadata"));
    copy_tree(&source.join("targets"), &repo.join("targets"));
    fs::create_dir_all(repo.join("keys")).unwrap();
    fs::create_dir_all(repo.join("ceremonies")).unwrap();

    let root = signed(repo, "root");
    let targets = signed(repo, "targets");
    let mut policy = String::new();
    let mut names = Vec::new();
    for id in root["roles"]["root"]["keyids"].as_array().unwrap() {
        let key = &root["keys"][id.as_str().unwrap()];
        let owner = key["x-tuf-on-ci-keyowner"].as_str().unwrap();
        let name = owner.trim_start_matches('@');
        let file = write_key(repo, name, key);
        policy.push_str(&format!("[keys.{name}]\npublic = \"{file}\"\nholder = \"{owner}\"\n\n"));
        names.push(format!("\"{name}\""));
    }
    // The delegation is named after what it serves; its name is read from the metadata.
    let delegation = &targets["delegations"]["roles"][0];
    let delegation_name = delegation["name"].as_str().unwrap();
    let delegation_key_id = delegation["keyids"][0].as_str().unwrap();
    let file = write_key(
        repo,
        "delegate-online",
        &targets["delegations"]["keys"][delegation_key_id],
    );
    policy.push_str(&format!("[keys.delegate-online]\npublic = \"{file}\"\n\n"));
    let online_id = root["roles"]["timestamp"]["keyids"][0].as_str().unwrap();
    let online_key = &root["keys"][online_id];
    let online_file = write_key(repo, "online", online_key);
    let keys = names.join(", ");
    policy.push_str(&format!(
        r#"[roles.root]
keys = [{keys}]
threshold = 3
expiry_days = 197
signing_days = 46

[roles.targets]
keys = [{keys}]
threshold = 3
expiry_days = 3650
signing_days = 31

[roles.snapshot]
expiry_days = 3650
signing_days = 365

[roles.timestamp]
expiry_days = 7
signing_days = 6

[delegations."{delegation_name}"]
keys = ["delegate-online"]
threshold = 1
paths = ["{delegation_name}/*"]
expiry_days = 182
signing_days = 31

[online]
signer = "{signer}"
public = "{online_file}"

[publish]
destination = "public"
"#,
        signer = online_key["x-tuf-on-ci-online-uri"].as_str().unwrap(),
    ));
    fs::write(repo.join("trustroot.toml"), policy).unwrap();
}

#[test]
fn sigstore_prod_continued_stages_nothing_and_renews_root_with_only_version_and_expires() {
    let fixtures = trustroot_test_support::unpack_sigstore_fixtures();
    let dir = tempfile::tempdir().unwrap();
    sigstore_prod_repository(fixtures.path(), dir.path());
    let repo = Repo::open(dir.path()).unwrap();
    let at = trustroot_core::time::parse(AT).unwrap();

    let planned = plan(&repo, at).unwrap();
    assert!(
        planned.is_empty(),
        "a repository matching its policy stages nothing: {:?}",
        planned.iter().map(|r| (&r.role, &r.reason)).collect::<Vec<_>>()
    );

    let planned = plan_requested(&repo, at, &["root".to_string()]).unwrap();
    let [root] = planned.as_slice() else {
        panic!("only root: {:?}", planned.iter().map(|r| &r.role).collect::<Vec<_>>());
    };
    assert_eq!(root.role, "root");
    assert_eq!(root.reason, "requested (--role root)");
    let mut v15 = signed(dir.path(), "root");
    let mut v16 = root.signed.to_value();
    assert_eq!(v15["version"], 15);
    assert_eq!(v16["version"], 16);
    assert_eq!(v16["expires"], "2027-03-07T00:00:00Z");
    assert_eq!(v16["spec_version"], "1.0");
    assert_eq!(
        v16["keys"], v15["keys"],
        "every key under its v15 key ID with every field"
    );
    for v in [&mut v15, &mut v16] {
        let object = v.as_object_mut().unwrap();
        object.remove("version");
        object.remove("expires");
    }
    assert_eq!(v16, v15, "root v16 differs from v15 only in version and expires");

    // The round opens: its checks accept what is carried (spec_version "1.0").
    let requested = start_requested(&repo, None, at, false, &["root".to_string()]).unwrap();
    assert!(requested.waiting.is_empty());
    match requested.outcome {
        DueOutcome::Opened(round, findings) => {
            assert_eq!(
                round
                    .roles
                    .iter()
                    .map(|r| (r.meta.role.as_str(), r.meta.version))
                    .collect::<Vec<_>>(),
                [("root", 16)]
            );
            assert!(
                findings
                    .iter()
                    .all(|f| f.severity != trustroot_ceremony::gate::Severity::Error),
                "{findings:#?}"
            );
        }
        other => panic!("{other:?}"),
    }
}
