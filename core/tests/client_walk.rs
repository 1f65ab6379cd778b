//! The client walk (`ClientWalk`) over the real Sigstore repositories: the needs it states
//! are the specification's order with the files a client fetches, local copies save
//! downloads, and a repository that lacks what it must have, or answers out of turn, is
//! refused naming the role.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{at, unpack};
use trustroot_core::{ClientWalk, ErrorKind, Goal, Keep, Limits, Need, Source, Step, TargetPath, TrustedSet};

/// What one walk asked for and what it ended with.
struct Run {
    needs: Vec<Need>,
    stored: Vec<String>,
    end: Result<Step, trustroot_core::Error>,
}

/// Drives `walk` to `goal`, answering remote needs from `published` and cache needs from
/// `cache` (role -> bytes).
fn drive(walk: &mut ClientWalk, goal: Goal, published: &Path, cache: &BTreeMap<String, Vec<u8>>) -> Run {
    walk.start(goal);
    let mut run = Run {
        needs: Vec::new(),
        stored: Vec::new(),
        end: Ok(Step::Done),
    };
    loop {
        let need = match walk.next_step() {
            Ok(Step::Need(need)) => need,
            end => {
                run.end = end;
                return run;
            }
        };
        let bytes = match need.source {
            Source::Cache => cache.get(need.role.as_str()).cloned(),
            Source::Remote => std::fs::read(published.join(need.file_name())).ok(),
        };
        run.needs.push(need.clone());
        match walk.answer(bytes.as_deref()) {
            Ok(Keep::Store) => run.stored.push(need.file_name()),
            Ok(Keep::Nothing) => {}
            Err(e) => {
                run.end = Err(e);
                return run;
            }
        }
    }
}

fn start(published: &Path, now: &str) -> ClientWalk {
    let root = std::fs::read(published.join("1.root.json")).unwrap();
    ClientWalk::new(TrustedSet::new(&root, at(now), Limits::default()).unwrap(), false)
}

fn npm_delegation(walk: &ClientWalk) -> String {
    let targets = walk.trusted().targets("targets").unwrap().signed();
    targets.delegations.as_ref().unwrap().roles.as_ref().unwrap()[0]
        .name
        .clone()
}

#[test]
fn walk_fetches_the_production_repository_in_spec_order_from_root_1() {
    let dir = unpack();
    let published = dir.path().join("sigstore-prod/published");
    let mut walk = start(&published, "2026-08-22T00:00:00Z");
    let run = drive(&mut walk, Goal::Everything, &published, &BTreeMap::new());
    assert_eq!(run.end.unwrap(), Step::Done);
    let npm = npm_delegation(&walk);
    let mut expected: Vec<String> = (2..=16).map(|v| format!("{v}.root.json")).collect();
    expected.extend([
        "timestamp.json".to_string(),
        "165.snapshot.json".to_string(),
        "14.targets.json".to_string(),
        trustroot_core::role_name::metadata_file_name(&npm, Some(8)),
    ]);
    let asked: Vec<String> = run.needs.iter().map(Need::file_name).collect();
    assert_eq!(asked, expected);
    // Everything fetched is stored, except the root probe past the chain's end.
    assert_eq!(
        run.stored,
        expected[..14]
            .iter()
            .chain(&expected[15..])
            .cloned()
            .collect::<Vec<_>>()
    );
    let delegated = run.needs.last().unwrap();
    assert_eq!(delegated.delegator.as_deref(), Some("targets"));
    assert_eq!(walk.trusted().root().signed().common.version, 15);

    // A target search afterwards needs nothing more: every role is trusted.
    let run = drive(
        &mut walk,
        Goal::Target(TargetPath::parse("trusted_root.json").unwrap()),
        &published,
        &BTreeMap::new(),
    );
    let Ok(Step::Found(found)) = run.end else {
        panic!("trusted_root.json not found: {:?}", run.end.err())
    };
    assert!(run.needs.is_empty());
    assert!(found.hashes.contains_key("sha256"));
    let run = drive(
        &mut walk,
        Goal::Target(TargetPath::parse("no-such-target").unwrap()),
        &published,
        &BTreeMap::new(),
    );
    assert_eq!(run.end.unwrap(), Step::NotFound);
}

#[test]
fn walk_uses_current_local_copies_instead_of_downloading() {
    let dir = unpack();
    let published = dir.path().join("sigstore-prod/published");
    let mut first = start(&published, "2026-08-22T00:00:00Z");
    assert_eq!(
        drive(&mut first, Goal::Everything, &published, &BTreeMap::new())
            .end
            .unwrap(),
        Step::Done
    );
    // What a client kept from that walk.
    let set = first.trusted();
    let mut cache = BTreeMap::new();
    cache.insert("timestamp".to_string(), set.timestamp().unwrap().bytes().to_vec());
    cache.insert("snapshot".to_string(), set.snapshot().unwrap().bytes().to_vec());
    for (role, trusted) in set.all_targets() {
        cache.insert(role.as_str().to_string(), trusted.bytes().to_vec());
    }
    let root = set.root().bytes().to_vec();
    let mut walk = ClientWalk::new(
        TrustedSet::new(&root, at("2026-08-22T00:00:00Z"), Limits::default()).unwrap(),
        true,
    );
    let run = drive(&mut walk, Goal::Everything, &published, &cache);
    assert_eq!(run.end.unwrap(), Step::Done);
    let remote: Vec<String> = run
        .needs
        .iter()
        .filter(|n| n.source == Source::Remote)
        .map(Need::file_name)
        .collect();
    // Only the root probe and the timestamp, which is always fetched; the same
    // timestamp version needs no storing.
    assert_eq!(remote, ["16.root.json", "timestamp.json"]);
    assert!(run.stored.is_empty());
}

#[test]
fn repository_without_the_snapshot_timestamp_names_is_refused() {
    let dir = unpack();
    let published = dir.path().join("sigstore-prod/published");
    std::fs::remove_file(published.join("165.snapshot.json")).unwrap();
    let mut walk = start(&published, "2026-08-22T00:00:00Z");
    let error = drive(&mut walk, Goal::TopLevel, &published, &BTreeMap::new())
        .end
        .unwrap_err();
    assert_eq!((error.role.as_str(), error.version), ("snapshot", Some(165)));
    assert_eq!(error.kind, ErrorKind::Missing);
}

#[test]
fn expired_timestamp_is_refused_and_nothing_after_it_is_asked() {
    let dir = unpack();
    let published = dir.path().join("sigstore-prod/published");
    // One day past timestamp v762's expiry.
    let mut walk = start(&published, "2026-08-29T20:00:00Z");
    let run = drive(&mut walk, Goal::Everything, &published, &BTreeMap::new());
    let error = run.end.unwrap_err();
    assert_eq!(error.role, "timestamp");
    assert!(error.is_expired());
    assert_eq!(run.needs.last().unwrap().role, "timestamp");
}

#[test]
fn answers_out_of_turn_are_refused() {
    let dir = unpack();
    let published = dir.path().join("sigstore-prod/published");
    let mut walk = start(&published, "2026-08-22T00:00:00Z");
    walk.start(Goal::TopLevel);
    let error = walk.answer(None).unwrap_err();
    assert!(matches!(error.kind, ErrorKind::Order(_)), "{error}");
    let Step::Need(need) = walk.next_step().unwrap() else {
        panic!()
    };
    assert_eq!(need.file_name(), "2.root.json");
    // Asking again before answering is a misuse, not a second need.
    assert!(matches!(walk.next_step().unwrap_err().kind, ErrorKind::Order(_)));
}

#[test]
fn a_hostile_root_in_the_chain_is_refused_naming_its_version() {
    let dir = unpack();
    let published = dir.path().join("sigstore-prod/published");
    // Root v3 replaced by root v4: a repository serving the wrong version.
    std::fs::copy(published.join("4.root.json"), published.join("3.root.json")).unwrap();
    let mut walk = start(&published, "2026-08-22T00:00:00Z");
    let error = drive(&mut walk, Goal::TopLevel, &published, &BTreeMap::new())
        .end
        .unwrap_err();
    assert_eq!(error.role, "root");
    assert_eq!(error.version, Some(4));
}
