//! `ceremony start --role ROLE`: a role staged at its next version though nothing changed
//! (root renewed before its signing period), other waiting changes listed and left alone,
//! and a name that is no role refused with nothing written.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;

use ceremony_common::*;
use serde_json::Value;

fn signed(path: &std::path::Path) -> Value {
    let value: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    value["signed"].clone()
}

fn without_version_and_expires(mut signed: Value) -> Value {
    let object = signed.as_object_mut().unwrap();
    object.remove("version");
    object.remove("expires");
    signed
}

#[test]
fn role_root_renews_root_alone_and_lists_the_waiting_targets_change() {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    let out = ok(&setup.repo, &["ceremony", "start"]);
    assert!(out.contains("Nothing to stage"), "{out}");

    // A target changes; root is renewed alone, the change waits for its own round.
    std::fs::write(setup.repo.join("targets/notes.txt"), b"new notes\n").unwrap();
    let out = ok(&setup.repo, &["ceremony", "start", "--role", "root"]);
    assert!(out.contains("staged root v2"), "{out}");
    assert!(out.contains("requested (--role root)"), "{out}");
    assert!(!out.contains("staged targets"), "{out}");
    assert!(out.contains("Not staged"), "{out}");
    assert!(out.contains("  targets: content changed"), "{out}");
    let round = setup.repo.join("ceremonies/0002");
    assert!(!round.join("staged/targets.json").exists());
    let v1 = signed(&setup.repo.join("metadata/root.json"));
    let v2 = signed(&round.join("staged/root.json"));
    assert_eq!(v2["version"], 2);
    assert_eq!(without_version_and_expires(v2), without_version_and_expires(v1));

    // Asked for, targets is staged with its change.
    std::fs::remove_dir_all(&round).unwrap();
    let out = ok(&setup.repo, &["ceremony", "start", "--role", "targets", "--json"]);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["action"], "opened");
    assert_eq!(json["roles"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(json["roles"][0]["role"], "targets");
    assert_eq!(json["roles"][0]["version"], 2);
    assert_eq!(json["roles"][0]["reason"], "content changed");
    assert!(json.get("not_staged").is_none(), "{json}");
    let targets = signed(&round.join("staged/targets.json"));
    assert_eq!(targets["targets"]["notes.txt"]["length"], 10);
}

#[test]
fn role_that_is_not_in_the_policy_is_refused_naming_it_and_nothing_changes() {
    let setup = Setup::new();
    let before = tree_hash(&setup.repo);
    let err = fails(&setup.repo, &["ceremony", "start", "--role", "nosuch", "--at", AT]);
    assert!(err.contains("--role nosuch"), "{err}");
    assert!(err.contains("no such role"), "{err}");
    assert!(err.contains("root, targets"), "{err}");
    let err = fails(&setup.repo, &["ceremony", "start", "--role", "timestamp", "--at", AT]);
    assert!(err.contains("online refresh"), "{err}");
    let err = fails(
        &setup.repo,
        &["ceremony", "start", "--role", "root", "--due", "--at", AT],
    );
    assert!(err.contains("cannot be used with"), "{err}");
    assert_eq!(tree_hash(&setup.repo), before, "nothing was written");
}
