//! Every refusal ends in a clear message and changes nothing staged.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;

use ceremony_common::*;

type Tamper = Box<dyn Fn(&mut serde_json::Value)>;

fn ready() -> (Setup, std::path::PathBuf) {
    let setup = Setup::new();
    setup.start();
    let request = setup.request("request.json");
    (setup, request)
}

fn refused_unchanged(setup: &Setup, files: &[std::path::PathBuf], expect: &str) {
    let before = tree_hash(&setup.round_dir());
    let mut args = vec!["ceremony".to_string(), "add-signature".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = fails(&setup.repo, &args);
    assert!(err.contains(expect), "expected '{expect}' in: {err}");
    assert_eq!(tree_hash(&setup.round_dir()), before, "the round changed");
}

fn root_signature(files: &[std::path::PathBuf]) -> std::path::PathBuf {
    files
        .iter()
        .find(|f| f.file_name().unwrap().to_str().unwrap().starts_with("root."))
        .unwrap()
        .clone()
}

#[test]
fn a_signature_over_different_bytes_is_refused() {
    let (setup, request) = ready();
    let files = setup.sign_airgapped("alice", &request);
    let good = root_signature(&files);
    let mut sig: serde_json::Value = serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
    // Same claims, but a signature by alice's key over other bytes (the targets role's).
    let other: serde_json::Value =
        serde_json::from_slice(&std::fs::read(files.iter().find(|f| *f != &good).unwrap()).unwrap()).unwrap();
    sig["sig"] = other["sig"].clone();
    std::fs::write(&good, serde_json::to_vec(&sig).unwrap()).unwrap();
    refused_unchanged(
        &setup,
        std::slice::from_ref(&good),
        "does not verify over the staged root v1",
    );

    // And claiming another digest is refused as well.
    sig["signed_sha256"] = serde_json::json!("0".repeat(64));
    std::fs::write(&good, serde_json::to_vec(&sig).unwrap()).unwrap();
    refused_unchanged(&setup, &[good], "made over different bytes");
    assert_eq!(counts(&setup.status_json())[0], ("root".into(), 0, 2));
}

#[test]
fn a_signature_by_a_key_that_is_not_a_signer_is_refused_and_never_counted() {
    let (setup, request) = ready();
    // A stranger's key cannot sign the request at all.
    let stranger = setup.tmp.path().join("stranger.pem");
    ok(
        setup.tmp.path(),
        &[
            "key",
            "generate",
            "--type",
            "ed25519",
            "--out",
            stranger.to_str().unwrap(),
        ],
    );
    let dir = setup.airgap("alice", &request);
    let err = fails(
        &dir,
        &[
            "ceremony",
            "sign",
            "--request",
            "request.json",
            "--key",
            stranger.to_str().unwrap(),
            "--yes",
        ],
    );
    assert!(err.contains("is not a signer of any role"), "{err}");

    // A signature file naming a key that does not sign root is refused.
    let files = setup.sign_airgapped("alice", &request);
    let good = root_signature(&files);
    let mut sig: serde_json::Value = serde_json::from_slice(&std::fs::read(&good).unwrap()).unwrap();
    sig["keyid"] = serde_json::json!("ab".repeat(32));
    let forged = setup.tmp.path().join("forged.json");
    std::fs::write(&forged, serde_json::to_vec(&sig).unwrap()).unwrap();
    refused_unchanged(&setup, std::slice::from_ref(&forged), "is not a signer of root");

    // Dropped into signatures/ by hand, it is listed as not counted.
    let name = format!("root.{}.json", "ab".repeat(32));
    std::fs::copy(&forged, setup.round_dir().join("signatures").join(&name)).unwrap();
    let status = setup.status_json();
    assert_eq!(counts(&status)[0], ("root".into(), 0, 2));
    let rejected = &status["roles"][0]["rejected"][0];
    assert_eq!(rejected["file"], name);
    assert!(
        rejected["reason"].as_str().unwrap().contains("not a signer"),
        "{rejected}"
    );
    let text = ok(&setup.repo, &["ceremony", "status"]);
    assert!(text.contains(&format!("not counted: {name}")), "{text}");
}

#[test]
fn the_same_key_signing_twice_counts_once() {
    let (setup, request) = ready();
    let first = setup.sign_airgapped("alice", &request);
    setup.add(&first);
    // Alice signs again (a fresh ECDSA signature, different bytes in the file).
    let dir = setup.tmp.path().join("again");
    std::fs::create_dir_all(&dir).unwrap();
    ok(
        &dir,
        &[
            "ceremony",
            "sign",
            "--request",
            request.to_str().unwrap(),
            "--key",
            &setup.key("alice"),
            "--yes",
        ],
    );
    let again: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    let before = tree_hash(&setup.round_dir());
    let out = setup.add(&again);
    assert!(out.contains("already signed this role"), "{out}");
    assert_eq!(tree_hash(&setup.round_dir()), before);
    assert_eq!(
        counts(&setup.status_json()),
        vec![("root".into(), 1, 2), ("targets".into(), 1, 2)]
    );
}

#[test]
fn a_staged_file_edited_after_signing_loses_its_signatures() {
    let (setup, request) = ready();
    for holder in ["alice", "bob"] {
        let files = setup.sign_airgapped(holder, &request);
        setup.add(&files);
    }
    assert_eq!(counts(&setup.status_json())[1], ("targets".into(), 2, 2));
    let staged = setup.round_dir().join("staged/targets.json");
    let text = std::fs::read_to_string(&staged).unwrap();
    let length = sigstore_trusted_root().len();
    let edited = text.replace(&format!("\"length\": {length}"), &format!("\"length\": {}", length + 1));
    assert_ne!(edited, text);
    std::fs::write(&staged, edited).unwrap();
    let status = setup.status_json();
    assert_eq!(counts(&status)[1], ("targets".into(), 0, 2));
    assert_eq!(status["roles"][1]["changed_since_start"], true);
    assert_eq!(status["roles"][1]["rejected"].as_array().unwrap().len(), 2);
    assert_eq!(status["complete"], false);
    let text = ok(&setup.repo, &["ceremony", "status"]);
    assert!(text.contains("changed after the round started"), "{text}");
    // Root is untouched and still signed.
    assert_eq!(counts(&status)[0], ("root".into(), 2, 2));
    // No new request and no signing over the edited file.
    let err = fails(&setup.repo, &["ceremony", "request", "--out", "/dev/null/x"]);
    assert!(err.contains("changed after the round started"), "{err}");
}

#[test]
fn a_tampered_request_is_refused_before_anything_is_signed() {
    let (setup, request) = ready();
    let original: serde_json::Value = serde_json::from_slice(&std::fs::read(&request).unwrap()).unwrap();
    let cases: Vec<(&str, Tamper)> = vec![
        (
            "summary edited",
            Box::new(|r| r["roles"][0]["summary"][0] = serde_json::json!("root v1 (harmless)")),
        ),
        (
            "threshold edited",
            Box::new(|r| r["roles"][0]["requirements"][0]["threshold"] = serde_json::json!(1)),
        ),
        (
            "bytes edited",
            Box::new(|r| r["roles"][1]["signed"] = serde_json::json!("e30=")),
        ),
        (
            "digest edited",
            Box::new(|r| r["roles"][1]["signed_sha256"] = serde_json::json!("0".repeat(64))),
        ),
    ];
    for (what, tamper) in cases {
        let mut value = original.clone();
        tamper(&mut value);
        let dir = setup.airgap("alice", &request);
        std::fs::write(dir.join("request.json"), serde_json::to_vec(&value).unwrap()).unwrap();
        let before = tree_hash(&dir);
        let err = fails(
            &dir,
            &[
                "ceremony",
                "sign",
                "--request",
                "request.json",
                "--key",
                "key.pem",
                "--yes",
            ],
        );
        assert!(err.contains("tampered"), "{what}: {err}");
        assert_eq!(tree_hash(&dir), before, "{what}: files were written");
    }
    // A tamperer who also recomputes request_sha256 is still caught by the bytes' checks.
    let mut value = original.clone();
    value["roles"][0]["summary"][0] = serde_json::json!("root v1 (harmless)");
    let mut copy: trustroot_ceremony::round::SigningRequest = serde_json::from_value(value).unwrap();
    copy.request_sha256 = String::new();
    let digest = trustroot_core::hashes::sha256_hex(
        &trustroot_core::canonical::to_canonical_bytes(&serde_json::to_value(&copy).unwrap()).unwrap(),
    );
    copy.request_sha256 = digest;
    let dir = setup.airgap("alice", &request);
    std::fs::write(dir.join("request.json"), serde_json::to_vec(&copy).unwrap()).unwrap();
    let err = fails(
        &dir,
        &[
            "ceremony",
            "sign",
            "--request",
            "request.json",
            "--key",
            "key.pem",
            "--yes",
        ],
    );
    assert!(err.contains("the summary does not match the bytes"), "{err}");
}

#[test]
fn signing_needs_a_terminal_or_yes() {
    let (setup, request) = ready();
    let dir = setup.airgap("alice", &request);
    let err = fails(
        &dir,
        &["ceremony", "sign", "--request", "request.json", "--key", "key.pem"],
    );
    assert!(err.contains("refusing to sign without confirmation"), "{err}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
}

#[test]
fn encrypted_keys_wrong_passphrase_and_existing_key_files() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("k.pem");
    let pass = tmp.path().join("pass");
    std::fs::write(&pass, "right horse\n").unwrap();
    let k = key.to_str().unwrap();
    let p = pass.to_str().unwrap();
    ok(
        tmp.path(),
        &[
            "key",
            "generate",
            "--type",
            "ecdsa-p256",
            "--out",
            k,
            "--passphrase-file",
            p,
            "--scrypt-log-n",
            "10",
        ],
    );
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"), "{pem}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        // The public key beside it is for sharing: readable by everyone, whatever the umask
        // leaves (umask can only take bits away).
        let public = std::fs::metadata(format!("{k}.pub")).unwrap().permissions().mode() & 0o777;
        assert_eq!(public & 0o444, 0o444, "{public:o}");
        assert_eq!(public & 0o022, 0, "{public:o}");
    }
    let shown = trustroot_env(
        tmp.path(),
        &["key", "show", k, "--passphrase-env", "PASS"],
        &[("PASS", "right horse")],
    );
    assert!(shown.status.success());
    let public = ok(tmp.path(), &["key", "show", &format!("{k}.pub"), "--json"]);
    let from_private: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap_or_default();
    let _ = from_private;
    let public: serde_json::Value = serde_json::from_str(&public).unwrap();
    assert!(String::from_utf8_lossy(&shown.stdout).contains(public["keyid"].as_str().unwrap()));

    let wrong = trustroot_env(
        tmp.path(),
        &["key", "show", k, "--passphrase-env", "PASS"],
        &[("PASS", "wrong horse")],
    );
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("wrong passphrase"),
        "{wrong:?}"
    );
    // No passphrase and no terminal: a clear message, not a hang.
    let err = fails(tmp.path(), &["key", "show", k]);
    assert!(err.contains("--passphrase-env"), "{err}");

    // An existing key file is never overwritten.
    let before = std::fs::read(&key).unwrap();
    let err = fails(tmp.path(), &["key", "generate", "--type", "ed25519", "--out", k]);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&key).unwrap(), before);
}

#[test]
fn a_wrong_passphrase_signs_nothing() {
    let (setup, request) = ready();
    let dir = setup.airgap("alice", &request);
    // Replace alice's key by an encrypted copy of the same key.
    let plain = std::fs::read(dir.join("key.pem")).unwrap();
    let key = trustroot_ceremony::PrivateKey::from_pkcs8_pem("k", &plain, &mut || unreachable!()).unwrap();
    let encrypted = key
        .to_pkcs8_pem(Some("right"), trustroot_ceremony::keys::KdfCost { log_n: 10 })
        .unwrap();
    std::fs::write(dir.join("key.pem"), encrypted.as_bytes()).unwrap();
    let before = tree_hash(&dir);
    let out = trustroot_env(
        &dir,
        &[
            "ceremony",
            "sign",
            "--request",
            "request.json",
            "--key",
            "key.pem",
            "--yes",
            "--passphrase-env",
            "P",
        ],
        &[("P", "wrong")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"));
    assert_eq!(tree_hash(&dir), before);
    let out = trustroot_env(
        &dir,
        &[
            "ceremony",
            "sign",
            "--request",
            "request.json",
            "--key",
            "key.pem",
            "--yes",
            "--passphrase-env",
            "P",
        ],
        &[("P", "right")],
    );
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn invalid_policy_names_the_field() {
    let setup = Setup::new();
    let policy = std::fs::read_to_string(setup.repo.join("trustroot.toml")).unwrap();
    std::fs::write(
        setup.repo.join("trustroot.toml"),
        policy.replacen(
            "threshold = 2\nexpiry_days = 197",
            "threshold = 4\nexpiry_days = 197",
            1,
        ),
    )
    .unwrap();
    let err = fails(&setup.repo, &["ceremony", "start", "--at", AT]);
    assert!(err.contains("roles.root.threshold"), "{err}");
    assert!(!setup.repo.join("ceremonies/0001").exists());
}

#[test]
fn garbage_signature_files_are_refused() {
    let (setup, _request) = ready();
    let junk = setup.tmp.path().join("junk.json");
    for content in [
        &b"not json"[..],
        b"{}",
        b"{\"trustroot_signature\":1,\"extra\":1}",
        &[0xff; 40][..],
    ] {
        std::fs::write(&junk, content).unwrap();
        refused_unchanged(&setup, std::slice::from_ref(&junk), "junk.json");
    }
}

#[test]
fn terminal_escapes_and_path_tricks_in_a_request_are_refused() {
    let (setup, request) = ready();
    let original: serde_json::Value = serde_json::from_slice(&std::fs::read(&request).unwrap()).unwrap();
    let cases: Vec<(&str, Tamper, &str)> = vec![
        (
            "an escape sequence that would overwrite the digest line",
            Box::new(|r| r["roles"][1]["role"] = serde_json::json!("targets\u{1b}[2A\u{1b}[2K\rrequest digest: 0")),
            "control characters",
        ),
        (
            "a key ID that walks out of the output directory",
            Box::new(|r| r["roles"][0]["requirements"][0]["signers"][0]["keyid"] = serde_json::json!("/../../escaped")),
            "not a sha256",
        ),
        (
            "a role named '.'",
            Box::new(|r| r["roles"][1]["role"] = serde_json::json!(".")),
            "cannot name a file",
        ),
    ];
    for (what, tamper, expected) in cases {
        let mut value = original.clone();
        tamper(&mut value);
        // Recompute the request digest, as a careful tamperer would.
        let mut copy: trustroot_ceremony::round::SigningRequest = serde_json::from_value(value).unwrap();
        copy.request_sha256 = String::new();
        let dir = setup.airgap("alice", &request);
        std::fs::write(dir.join("request.json"), serde_json::to_vec(&copy).unwrap()).unwrap();
        let before = tree_hash(&dir);
        let err = fails(
            &dir,
            &[
                "ceremony",
                "sign",
                "--request",
                "request.json",
                "--key",
                "key.pem",
                "--yes",
            ],
        );
        assert!(err.contains(expected), "{what}: {err}");
        assert!(!err.contains('\u{1b}'), "{what}: the error printed an escape sequence");
        assert_eq!(tree_hash(&dir), before, "{what}: files were written");
        assert!(!dir.parent().unwrap().parent().unwrap().join("escaped.json").exists());
    }
}

#[test]
fn one_key_registered_under_two_names_is_refused() {
    // Two "signers" that are one key would let one keyholder meet a 2-of-3 threshold alone.
    // `key add` refuses a key it already has; a hand-edited policy is caught at start.
    let setup = Setup::new();
    let alice = format!("{}.pub", setup.key("alice"));
    let err = fails(&setup.repo, &["key", "add", "mallory", "--role", "root", &alice]);
    assert!(err.contains("already registered as 'alice'"), "{err}");
    let policy_path = setup.repo.join("trustroot.toml");
    let policy = std::fs::read_to_string(&policy_path).unwrap();
    let alice_entry = policy
        .lines()
        .skip_while(|l| *l != "[keys.alice]")
        .nth(1)
        .unwrap()
        .to_string();
    let edited = policy
        .replacen(
            "[keys.alice]",
            &format!("[keys.mallory]\n{alice_entry}\n\n[keys.alice]"),
            1,
        )
        .replacen("keys = [\"alice\", ", "keys = [\"mallory\", \"alice\", ", 1);
    std::fs::write(&policy_path, edited).unwrap();
    let ceremonies = setup.repo.join("ceremonies");
    let before = ceremonies.exists().then(|| tree_hash(&ceremonies));
    let err = fails(&setup.repo, &["ceremony", "start", "--at", AT]);
    assert!(
        err.contains("keys.mallory") && err.contains("is the same key as keys.alice"),
        "{err}"
    );
    assert_eq!(ceremonies.exists().then(|| tree_hash(&ceremonies)), before);
}

/// The request file handed in where its signatures belong is named for what it is.
#[test]
fn a_signing_request_given_to_add_signature_is_named_as_one() {
    let setup = Setup::new();
    setup.start();
    let request = setup.request("request.json");
    let err = fails(&setup.repo, &["ceremony", "add-signature", request.to_str().unwrap()]);
    assert!(err.contains("this is a signing request, not a signature file"), "{err}");
}

/// A new signing repository keeps what is never committed out of git: the publish
/// destination the policy names and the repository lock.
#[test]
fn init_keeps_the_publish_destination_and_the_lock_out_of_git() {
    let tmp = tempfile::tempdir().unwrap();
    ok(tmp.path(), &["init", "repo"]);
    let repo = tmp.path().join("repo");
    let ignored = std::fs::read_to_string(repo.join(".gitignore")).unwrap();
    let lines: Vec<&str> = ignored.lines().filter(|l| !l.starts_with('#')).collect();
    let policy = std::fs::read_to_string(repo.join("trustroot.toml")).unwrap();
    assert!(policy.contains("destination = \"public\""), "{policy}");
    assert!(lines.contains(&"/public/"), "{ignored}");
    assert!(lines.contains(&"/.trustroot.lock"), "{ignored}");
}

/// `keys/` of a signing repository holds public keys and is committed: an unencrypted
/// private key generated there (however the path is spelled) is refused, and nothing is
/// written. Encrypted, or outside the repository, it is fine.
#[test]
fn an_unencrypted_key_generated_into_the_repository_keys_dir_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(dir, &["init", "repo"]);
    std::os::unix::fs::symlink(dir.join("repo/keys"), dir.join("link")).unwrap();
    std::fs::create_dir(dir.join("repo/keys/sub")).unwrap();
    let generate = |cwd: &std::path::Path, out: &str, extra: &[&str]| {
        let mut args = vec!["key", "generate", "--type", "ed25519", "--out", out];
        args.extend_from_slice(extra);
        trustroot(cwd, &args)
    };
    for (cwd, out) in [
        (dir.to_path_buf(), "repo/keys/alice.pem"),
        (dir.to_path_buf(), "repo/targets/../keys/alice.pem"),
        (dir.to_path_buf(), "link/alice.pem"),
        (dir.to_path_buf(), "repo/keys/sub/alice.pem"),
        (dir.join("repo"), "keys/alice.pem"),
        (dir.join("repo/keys"), "alice.pem"),
    ] {
        let output = generate(&cwd, out, &[]);
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{out} was written");
        assert!(
            err.contains("refused") && err.contains("keys/ directory of the signing repository"),
            "{out}: {err}"
        );
        assert!(err.contains("--encrypt"), "{err}");
    }
    let mut left: Vec<_> = std::fs::read_dir(dir.join("repo/keys"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    left.sort();
    assert_eq!(left, [".gitkeep", "sub"], "a key file was written");

    std::fs::write(dir.join("pass"), "a long passphrase\n").unwrap();
    let encrypted = generate(
        dir,
        "repo/keys/alice.pem",
        &["--passphrase-file", "pass", "--scrypt-log-n", "10"],
    );
    assert!(encrypted.status.success(), "{encrypted:?}");
    std::fs::create_dir(dir.join("private-keys")).unwrap();
    assert!(generate(dir, "private-keys/alice.pem", &[]).status.success());
    // A directory merely named keys, outside any signing repository, is fine.
    std::fs::create_dir(dir.join("keys")).unwrap();
    assert!(generate(dir, "keys/bob.pem", &[]).status.success());
}

/// A private key file its group or others can read is used, with a warning naming the
/// file, its mode and the chmod that fixes it.
#[test]
fn a_private_key_file_readable_by_others_is_used_with_a_warning() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("k.pem");
    let k = key.to_str().unwrap();
    ok(tmp.path(), &["key", "generate", "--type", "ed25519", "--out", k]);
    let private = trustroot(tmp.path(), &["key", "show", k]);
    assert!(private.status.success());
    assert!(
        !String::from_utf8_lossy(&private.stderr).contains("warning"),
        "{private:?}"
    );

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let shown = trustroot(tmp.path(), &["key", "show", k]);
    assert!(shown.status.success(), "{shown:?}");
    let err = String::from_utf8_lossy(&shown.stderr);
    assert!(
        err.contains(&format!("warning: the private key file {k} has mode 0644")),
        "{err}"
    );
    assert!(err.contains(&format!("chmod 600 {k}")), "{err}");
}
