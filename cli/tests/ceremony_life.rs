//! A whole life of a trust root, through the `trustroot` binary, with three independent
//! clients after every publish:
//!
//! init; three keyholders, 2-of-3 root and targets; publish v1 -> add a delegated role with
//! its own key -> root v2 adds a key and raises the thresholds to 3-of-4 -> root v3 removes a
//! compromised key and rotates the online key (and 1,000 targets arrive) -> the 1,000 targets
//! move into 16 hashed bins signed by one key.
//!
//! After each publish python-tuf's ngclient, tuf-js, tough and `trustroot client`, each
//! starting from 1.root.json, update to the newest version and download every target
//! (the delegated ones too). The clients are pinned and installed by scripts/test.sh; a
//! missing one fails the test.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;
mod common;

use ceremony_common::*;
use trustroot_test_support::SimServer;

fn check_clients(setup: &Setup, server: &SimServer, expect_root: u64) {
    let root = setup.served().join("1.root.json");
    let metadata_url = server.base_url();
    let targets_url = format!("{}targets/", server.base_url());
    let names = setup.target_names();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let newest = setup.served().join(format!("{expect_root}.root.json"));
    assert!(newest.is_file(), "{expect_root}.root.json is published");
    assert!(!setup.served().join(format!("{}.root.json", expect_root + 1)).exists());
    // `trustroot client` reads the tree directly (file://); the others over HTTP. The four
    // run side by side.
    let file = common::file_url(&setup.served());
    let file_targets = format!("{file}targets/");
    fn timed(run: impl FnOnce() -> std::process::Output) -> (std::process::Output, std::time::Duration) {
        let t = std::time::Instant::now();
        let out = run();
        (out, t.elapsed())
    }
    let outputs = std::thread::scope(|scope| {
        let python = scope.spawn(|| timed(|| common::ngclient(None, &root, &metadata_url, &targets_url, &names)));
        let tufjs = scope.spawn(|| timed(|| common::tufjs(None, &root, &metadata_url, &targets_url, &names)));
        let tough = scope.spawn(|| timed(|| common::tough(None, &root, &metadata_url, &targets_url, &names)));
        let ours = scope.spawn(|| timed(|| common::trustroot_client(None, &root, &file, &file_targets, &names)));
        [
            ("python-tuf", python.join().unwrap()),
            ("tuf-js", tufjs.join().unwrap()),
            ("tough", tough.join().unwrap()),
            ("trustroot client", ours.join().unwrap()),
        ]
    });
    for (client, (out, elapsed)) in outputs {
        eprintln!("{client}: {} targets in {elapsed:?}", names.len());
        assert!(
            out.status.success(),
            "{client} refused root v{expect_root} ({} targets):\n{}",
            names.len(),
            common::text(&out)
        );
    }
}

fn published_json(setup: &Setup, file: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(setup.served().join(file)).unwrap()).unwrap()
}

#[test]
fn a_whole_life_every_client_follows_from_root_v1() {
    let setup = Setup::for_publish();
    std::fs::create_dir_all(setup.repo.join("targets/docs")).unwrap();
    std::fs::write(setup.repo.join("targets/docs/readme.txt"), b"hello\n").unwrap();

    // v1: 2-of-3 root and targets.
    setup.round_now(&["alice", "bob"]);
    let out = setup.publish();
    assert!(out.contains("Published round 0001"), "{out}");
    let server = SimServer::serve_dir(&setup.served());
    check_clients(&setup, &server, 1);
    assert!(setup.repo.join("metadata/root_history/1.root.json").is_file());

    // A delegated role with its own key.
    let npm_pub = setup.generate("npmkey", "ecdsa-p256");
    ok(
        &setup.repo,
        &["ceremony", "delegate", "npm", "--path", "npm/*", "--threshold", "1"],
    );
    ok(&setup.repo, &["key", "add", "npmkey", "--role", "npm", &npm_pub]);
    std::fs::create_dir_all(setup.repo.join("targets/npm")).unwrap();
    std::fs::write(setup.repo.join("targets/npm/keys.json"), b"{\"keys\": []}\n").unwrap();
    setup.round_now(&["alice", "bob", "npmkey"]);
    setup.publish();
    let targets = published_json(&setup, "2.targets.json");
    assert_eq!(targets["signed"]["delegations"]["roles"][0]["name"], "npm");
    assert!(setup.served().join("1.npm.json").is_file());
    check_clients(&setup, &server, 1);

    // Root v2: dave joins, root and targets become 3-of-4.
    let dave_pub = setup.generate("dave", "ed25519");
    for role in ["root", "targets"] {
        ok(
            &setup.repo,
            &["key", "add", "dave", "--role", role, "--holder", "@dave", &dave_pub],
        );
        ok(&setup.repo, &["key", "threshold", role, "3"]);
    }
    setup.round_now(&["alice", "bob", "dave"]);
    setup.publish();
    let root = published_json(&setup, "2.root.json");
    assert_eq!(root["signed"]["roles"]["root"]["threshold"], 3);
    assert_eq!(root["signed"]["roles"]["root"]["keyids"].as_array().unwrap().len(), 4);
    check_clients(&setup, &server, 2);

    // Root v3: carol's key is compromised and removed; the online key rotates; 1,000
    // targets arrive (in targets itself).
    ok(&setup.repo, &["key", "remove", "carol"]);
    let online2_pub = setup.generate("online2", "ed25519");
    ok(
        &setup.repo,
        &["key", "add", "online2", "--role", "online", &online2_pub],
    );
    setup.use_online_key("online2");
    std::fs::create_dir_all(setup.repo.join("targets/packages")).unwrap();
    for i in 0..1000 {
        std::fs::write(
            setup.repo.join(format!("targets/packages/pkg-{i:04}.txt")),
            format!("package {i}\n"),
        )
        .unwrap();
    }
    setup.round_now(&["alice", "bob", "dave"]);
    setup.publish();
    let root = published_json(&setup, "3.root.json");
    assert_eq!(root["signed"]["roles"]["root"]["keyids"].as_array().unwrap().len(), 3);
    let online2 = root["signed"]["roles"]["timestamp"]["keyids"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(root["signed"]["roles"]["snapshot"]["keyids"][0], online2.as_str());
    let timestamp = published_json(&setup, "timestamp.json");
    assert_eq!(timestamp["signatures"][0]["keyid"], online2.as_str());
    check_clients(&setup, &server, 3);

    // The 1,000 targets move into 16 hashed bins signed by one key.
    let bins_pub = setup.generate("binkey", "ed25519");
    ok(
        &setup.repo,
        &[
            "ceremony",
            "delegate",
            "packages",
            "--path",
            "packages/*",
            "--threshold",
            "1",
            "--bins",
            "16",
        ],
    );
    ok(&setup.repo, &["key", "add", "binkey", "--role", "packages", &bins_pub]);
    setup.round_now(&["alice", "bob", "dave", "binkey"]);
    setup.publish();
    let targets = published_json(&setup, "5.targets.json");
    assert!(targets["signed"]["targets"].get("packages/pkg-0001.txt").is_none());
    let mut in_bins = 0;
    for i in 0..16 {
        let bin = published_json(&setup, &format!("1.packages-{i:x}.json"));
        let listed = bin["signed"]["targets"].as_object().unwrap();
        assert!(!listed.is_empty(), "bin {i} is empty");
        in_bins += listed.len();
    }
    assert_eq!(in_bins, 1000);
    check_clients(&setup, &server, 3);

    // Every root version and the whole history stay published.
    for v in 1..=3 {
        assert!(setup.served().join(format!("{v}.root.json")).is_file());
        assert!(
            setup
                .repo
                .join(format!("metadata/root_history/{v}.root.json"))
                .is_file()
        );
    }
}
