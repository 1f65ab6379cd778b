//! A Sigstore-shaped repository (root and targets 3-of-5, one online key for snapshot and
//! timestamp, an npm-style delegation, Sigstore's trusted_root.json and signing_config as
//! targets, Sigstore's periods) is published and accepted by `trustroot client`,
//! python-tuf's ngclient, tuf-js and tough, each from 1.root.json.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;
mod common;

use ceremony_common::*;
use trustroot_test_support::SimServer;

#[test]
fn a_sigstore_shaped_repository_is_published_and_every_client_accepts_it() {
    let setup = Setup::for_publish();
    for name in ["dan", "erin"] {
        let public = setup.generate(name, "ecdsa-p256");
        for role in ["root", "targets"] {
            ok(
                &setup.repo,
                &[
                    "key",
                    "add",
                    name,
                    "--role",
                    role,
                    "--holder",
                    &format!("@{name}"),
                    &public,
                ],
            );
        }
    }
    for role in ["root", "targets"] {
        ok(&setup.repo, &["key", "threshold", role, "3"]);
    }
    std::fs::write(
        setup.repo.join("targets/signing_config.v0.2.json"),
        sigstore_signing_config(),
    )
    .unwrap();
    // The npm-style delegation: one key, terminating, Sigstore's periods for it.
    setup.add_npm_style_delegation(182, 31);

    // 3 of the 5 keyholders, and the delegate, sign.
    setup.round_now(&["alice", "carol", "erin", "npm-delegate"]);
    let verify = ok(&setup.repo, &["ceremony", "verify"]);
    assert!(verify.contains("passes the gate"), "{verify}");
    // The gate judges the payloads at the publish time: in December 2031 the Fulcio chain of
    // the trusted root (it expires 2031-10-05) is over while its window is open.
    let late = trustroot(
        &setup.repo,
        &["ceremony", "verify", "--at", "2031-12-01T00:00:00Z", "--json"],
    );
    assert_eq!(late.status.code(), Some(1), "{}", common::text(&late));
    let report = String::from_utf8_lossy(&late.stdout);
    assert!(
        report.contains("certificate-expired $.certificateAuthorities[1].certChain"),
        "{report}"
    );
    setup.publish();

    let served = setup.served();
    let root: serde_json::Value = serde_json::from_slice(&std::fs::read(served.join("1.root.json")).unwrap()).unwrap();
    let roles = &root["signed"]["roles"];
    assert_eq!(roles["root"]["threshold"], 3);
    assert_eq!(roles["root"]["keyids"].as_array().unwrap().len(), 5);
    assert_eq!(roles["targets"]["threshold"], 3);
    assert_eq!(roles["snapshot"]["keyids"], roles["timestamp"]["keyids"]);
    assert_eq!(root["signed"]["consistent_snapshot"], true);
    let targets: serde_json::Value =
        serde_json::from_slice(&std::fs::read(served.join("1.targets.json")).unwrap()).unwrap();
    let delegation = &targets["signed"]["delegations"]["roles"][0];
    assert_eq!(delegation["name"], "npm-example");
    assert_eq!(delegation["terminating"], true);
    // Consistent-snapshot target names.
    let trusted_root = sigstore_trusted_root();
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&trusted_root));
    assert_eq!(
        std::fs::read(served.join(format!("targets/{digest}.trusted_root.json"))).unwrap(),
        trusted_root
    );
    assert!(served.join("1.npm-example.json").is_file());

    let server = SimServer::serve_dir(&served);
    let root_path = served.join("1.root.json");
    let metadata_url = server.base_url();
    let targets_url = format!("{}targets/", server.base_url());
    let names = ["trusted_root.json", "signing_config.v0.2.json", "npm-example/keys.json"];
    for (client, out) in [
        (
            "trustroot client",
            common::trustroot_client(None, &root_path, &metadata_url, &targets_url, &names),
        ),
        (
            "python-tuf",
            common::ngclient(None, &root_path, &metadata_url, &targets_url, &names),
        ),
        (
            "tuf-js",
            common::tufjs(None, &root_path, &metadata_url, &targets_url, &names),
        ),
        (
            "tough",
            common::tough(None, &root_path, &metadata_url, &targets_url, &names),
        ),
    ] {
        assert!(out.status.success(), "{client}:\n{}", common::text(&out));
    }
    // `trustroot client` over file:// too.
    let file = common::file_url(&served);
    let out = common::trustroot_client(None, &root_path, &file, &format!("{file}targets/"), &names);
    assert!(out.status.success(), "{}", common::text(&out));
}
