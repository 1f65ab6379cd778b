//! The online key in AWS KMS, end to end against a real moto server: `key add online
//! --role online awskms:ID` registers the KMS key's public key, `[online] signer =
//! "awskms:ID"` makes the first publish and `online refresh` sign timestamp and snapshot in
//! KMS, and python-tuf's ngclient accepts the published repository. A KMS that cannot be
//! reached leaves the published tree and the signing repository byte for byte unchanged.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;
mod common;

use std::path::Path;
use std::process::Output;

use ceremony_common::{tree_hash, trustroot_env};
use trustroot_test_support::SimServer;
use trustroot_test_support::moto::MotoServer;

fn run(dir: &Path, args: &[&str], env: &[(String, String)]) -> Output {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    trustroot_env(dir, args, &env)
}

fn ok(dir: &Path, args: &[&str], env: &[(String, String)]) -> String {
    let out = run(dir, args, env);
    assert!(
        out.status.success(),
        "trustroot {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Points `[online] signer` at `reference`.
fn set_signer(repo: &Path, reference: &str) {
    let path = repo.join("trustroot.toml");
    let policy = std::fs::read_to_string(&path).unwrap();
    let start = policy.find("signer = ").unwrap();
    let end = start + policy[start..].find('\n').unwrap();
    let line = format!("signer = \"{reference}\"");
    std::fs::write(&path, format!("{}{}{}", &policy[..start], line, &policy[end..])).unwrap();
}

/// python-tuf's ngclient updates from the published tree, served over HTTP.
fn python_tuf_accepts(served: &Path) {
    let server = SimServer::serve_dir(served);
    let targets_url = format!("{}targets/", server.base_url());
    let out = common::ngclient(
        None,
        &served.join("1.root.json"),
        &server.base_url(),
        &targets_url,
        &["hello.txt"],
    );
    assert!(out.status.success(), "python-tuf refused:\n{}", common::text(&out));
}

/// The key ID of the online key in the published timestamp's signatures.
fn timestamp_keyids(served: &Path) -> Vec<String> {
    let bytes = std::fs::read(served.join("timestamp.json")).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    value["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["keyid"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn online_key_in_kms_signs_the_first_publish_and_each_refresh() {
    let moto = MotoServer::start();
    let key_id = moto.create_key("ECC_NIST_P256", "SIGN_VERIFY");
    moto.create_alias("alias/trustroot-online", &key_id);
    let env = moto.env();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    ok(tmp.path(), &["init", "repo"], &env);

    // One keyholder (root and targets, threshold 1) with a key file.
    let alice = tmp.path().join("alice.pem");
    ok(
        tmp.path(),
        &[
            "key",
            "generate",
            "--type",
            "ecdsa-p256",
            "--out",
            alice.to_str().unwrap(),
        ],
        &env,
    );
    let alice_pub = format!("{}.pub", alice.display());
    for role in ["root", "targets"] {
        ok(&repo, &["key", "add", "alice", "--role", role, &alice_pub], &env);
    }

    // The online key: registered from KMS by its alias, signer named by its key ID.
    let out = ok(
        &repo,
        &[
            "key",
            "add",
            "online",
            "--role",
            "online",
            "awskms:alias/trustroot-online",
            "--json",
        ],
        &env,
    );
    let added: serde_json::Value = serde_json::from_str(&out).unwrap();
    let policy = std::fs::read_to_string(repo.join("trustroot.toml")).unwrap();
    assert!(policy.contains("public = \"keys/online.pub\""), "{policy}");
    let pem = std::fs::read_to_string(repo.join("keys/online.pub")).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    // `key show` on the KMS key prints the same key as the registered file.
    let shown: serde_json::Value = serde_json::from_str(&ok(
        &repo,
        &["key", "show", &format!("awskms:{key_id}"), "--json"],
        &env,
    ))
    .unwrap();
    let file: serde_json::Value =
        serde_json::from_str(&ok(&repo, &["key", "show", "keys/online.pub", "--json"], &env)).unwrap();
    assert_eq!(shown["keyid"], file["keyid"]);
    assert_eq!(added["keyid"], file["keyid"]);
    set_signer(&repo, &format!("awskms:{key_id}"));

    // The first round: alice signs root and targets; the publish signs timestamp and
    // snapshot in KMS.
    std::fs::write(repo.join("targets/hello.txt"), b"hello\n").unwrap();
    ok(&repo, &["ceremony", "start"], &env);
    ok(
        &repo,
        &["ceremony", "sign", "--key", alice.to_str().unwrap(), "--yes"],
        &env,
    );
    ok(&repo, &["ceremony", "publish"], &env);
    let served = repo.join("public/repository");
    let online_keyid = file["keyid"].as_str().unwrap().to_string();
    assert_eq!(timestamp_keyids(&served), vec![online_keyid.clone()]);
    python_tuf_accepts(&served);

    // An online refresh: a new timestamp and snapshot, signed in KMS again.
    let before = std::fs::read(served.join("timestamp.json")).unwrap();
    ok(&repo, &["online", "refresh", "--force"], &env);
    assert_ne!(std::fs::read(served.join("timestamp.json")).unwrap(), before);
    assert_eq!(timestamp_keyids(&served), vec![online_keyid]);
    python_tuf_accepts(&served);

    // KMS refuses (the key is not there): nothing changes, the error names the key.
    set_signer(&repo, "awskms:alias/missing");
    let policy = std::fs::read(repo.join("trustroot.toml")).unwrap();
    let whole = tree_hash(&repo);
    let out = run(&repo, &["online", "refresh", "--force"], &env);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("awskms:alias/missing") && stderr.contains("no such KMS key"),
        "{stderr}"
    );
    assert!(!stderr.contains("testing-secret"), "{stderr}");
    assert_eq!(
        tree_hash(&repo),
        whole,
        "the repository and its published tree are unchanged"
    );
    assert_eq!(std::fs::read(repo.join("trustroot.toml")).unwrap(), policy);
}

#[test]
fn kms_unreachable_during_refresh_changes_nothing() {
    let moto = MotoServer::start();
    let key_id = moto.create_key("ECC_NIST_P256", "SIGN_VERIFY");
    let env = moto.env();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    ok(tmp.path(), &["init", "repo"], &env);
    let alice = tmp.path().join("alice.pem");
    ok(
        tmp.path(),
        &[
            "key",
            "generate",
            "--type",
            "ecdsa-p256",
            "--out",
            alice.to_str().unwrap(),
        ],
        &env,
    );
    for role in ["root", "targets"] {
        ok(
            &repo,
            &[
                "key",
                "add",
                "alice",
                "--role",
                role,
                &format!("{}.pub", alice.display()),
            ],
            &env,
        );
    }
    let reference = format!("awskms:{key_id}");
    ok(&repo, &["key", "add", "online", "--role", "online", &reference], &env);
    set_signer(&repo, &reference);
    std::fs::write(repo.join("targets/hello.txt"), b"hello\n").unwrap();
    ok(&repo, &["ceremony", "start"], &env);
    ok(
        &repo,
        &["ceremony", "sign", "--key", alice.to_str().unwrap(), "--yes"],
        &env,
    );
    ok(&repo, &["ceremony", "publish"], &env);
    let served = repo.join("public/repository");

    // The endpoint goes away (moto stopped): the refresh fails and writes nothing.
    let endpoint = moto.endpoint();
    drop(moto);
    let whole = tree_hash(&repo);
    let out = run(&repo, &["online", "refresh", "--force"], &env);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&reference) && stderr.contains(&endpoint), "{stderr}");
    assert_eq!(
        tree_hash(&repo),
        whole,
        "the repository and its published tree are unchanged"
    );
    assert!(served.join("timestamp.json").is_file());
}

/// A KMS key can hold any role: here targets is signed in KMS with `ceremony sign --key
/// awskms:...`, the online key is a second KMS key, and python-tuf accepts the result.
#[test]
fn kms_key_signs_a_role_with_ceremony_sign() {
    let moto = MotoServer::start();
    let targets_key = moto.create_key("ECC_NIST_P256", "SIGN_VERIFY");
    let online_key = moto.create_key("ECC_NIST_P256", "SIGN_VERIFY");
    let env = moto.env();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    ok(tmp.path(), &["init", "repo"], &env);
    let alice = tmp.path().join("alice.pem");
    ok(
        tmp.path(),
        &[
            "key",
            "generate",
            "--type",
            "ecdsa-p256",
            "--out",
            alice.to_str().unwrap(),
        ],
        &env,
    );
    ok(
        &repo,
        &[
            "key",
            "add",
            "alice",
            "--role",
            "root",
            &format!("{}.pub", alice.display()),
        ],
        &env,
    );
    let targets_ref = format!("awskms:{targets_key}");
    ok(
        &repo,
        &[
            "key",
            "add",
            "release",
            "--role",
            "targets",
            "--holder",
            "@release",
            &targets_ref,
        ],
        &env,
    );
    let online_ref = format!("awskms:{online_key}");
    ok(&repo, &["key", "add", "online", "--role", "online", &online_ref], &env);
    set_signer(&repo, &online_ref);
    std::fs::write(repo.join("targets/hello.txt"), b"hello\n").unwrap();
    ok(&repo, &["ceremony", "start"], &env);
    ok(
        &repo,
        &["ceremony", "sign", "--key", alice.to_str().unwrap(), "--yes"],
        &env,
    );
    let out = ok(&repo, &["ceremony", "sign", "--key", &targets_ref, "--yes"], &env);
    assert!(out.contains("targets"), "{out}");
    ok(&repo, &["ceremony", "publish"], &env);
    python_tuf_accepts(&repo.join("public/repository"));
}

/// An RSA_3072 key in KMS registers as TUF's `rsa` / `rsassa-pss-sha256`, its PEM in
/// `keys/NAME.pub`, with the same key ID as `key show` gives for it in KMS. (moto signs
/// PSS with another salt length than KMS: its signatures are refused, see the library
/// tests, so this key signs nothing here.)
#[test]
fn rsa_kms_key_registers_as_rsassa_pss() {
    let moto = MotoServer::start();
    let key_id = moto.create_key("RSA_3072", "SIGN_VERIFY");
    let env = moto.env();
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    ok(tmp.path(), &["init", "repo"], &env);
    let reference = format!("awskms:{key_id}");
    ok(&repo, &["key", "add", "release", "--role", "targets", &reference], &env);
    let pem = std::fs::read_to_string(repo.join("keys/release.pub")).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    let from_kms: serde_json::Value =
        serde_json::from_str(&ok(&repo, &["key", "show", &reference, "--json"], &env)).unwrap();
    let from_file: serde_json::Value =
        serde_json::from_str(&ok(&repo, &["key", "show", "keys/release.pub", "--json"], &env)).unwrap();
    assert_eq!(from_kms["keyid"], from_file["keyid"]);
    assert_eq!(from_file["key"]["keytype"], "rsa");
    assert_eq!(from_file["key"]["scheme"], "rsassa-pss-sha256");
}
