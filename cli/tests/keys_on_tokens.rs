//! Keys on PKCS#11 tokens, through the `trustroot` binary, against SoftHSM2 (a real PKCS#11
//! module, installed by scripts/test.sh; a missing one fails the test, never skips it):
//!
//! - a 2-of-3 ceremony where alice signs on a token with ECDSA P-256, bob on a token with
//!   Ed25519 and carol with a key file, published and then refreshed with the online key on
//!   a token; python-tuf, tuf-js, tough and `trustroot client` accept the repository;
//! - every bad input (wrong PIN, a URI naming no object or two, an object that is not a
//!   private key, an RSA key, a module that is not one, a YubiKey module with no YubiKey)
//!   is a one-line error naming the reference, exit 1, with the round and policy unchanged;
//! - a P-384 key is refused unless `[gate] allow_p384`, and then the gate says tough was
//!   skipped.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use ceremony_common::{HOLDERS, Setup, sigstore_trusted_root, tree_hash, trustroot_env};
use trustroot_test_support::SimServer;
use trustroot_test_support::softhsm::{SOFTHSM, SoftHsm as Hsm};

const YKCS11: &str = "/usr/lib/x86_64-linux-gnu/libykcs11.so";

/// The environment every trustroot command gets: the token store, the module, and the PIN
/// when given.
fn hsm_env<'a>(conf: &'a str, pin: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![("SOFTHSM2_CONF", conf), ("TRUSTROOT_PKCS11_MODULE", SOFTHSM)];
    if let Some(pin) = pin {
        env.push(("TRUSTROOT_PKCS11_PIN", pin));
    }
    env
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    trustroot_env(dir, args, env)
}

fn ok(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = run(dir, args, env);
    assert!(out.status.success(), "trustroot {args:?}:\n{}", common::text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must fail with exit 1 and one error line naming `reference`;
/// returns that line.
fn refused(dir: &Path, args: &[&str], env: &[(&str, &str)], reference: &str) -> String {
    let out = run(dir, args, env);
    assert_eq!(
        out.status.code(),
        Some(1),
        "trustroot {args:?}:\n{}",
        common::text(&out)
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(error.contains(reference), "the error names {reference}: {error}");
    error.to_string()
}

/// `[online] signer = "..."` in the policy.
fn set_online_signer(repo: &Path, reference: &str) {
    let path = repo.join("trustroot.toml");
    let policy = std::fs::read_to_string(&path).unwrap();
    let start = policy.find("signer = ").unwrap();
    let end = start + policy[start..].find('\n').unwrap();
    let line = format!("signer = \"{reference}\"");
    std::fs::write(&path, format!("{}{}{}", &policy[..start], line, &policy[end..])).unwrap();
}

/// A signing repository whose keyholders are alice (P-256 on her token), bob (Ed25519 on
/// his) and carol (a key file), 2-of-3 for root and targets, with the online key on a
/// third token read through a PIN file.
struct TokenCeremony {
    hsm: Hsm,
    conf: String,
    tmp: tempfile::TempDir,
    repo: PathBuf,
}

const ALICE: &str = "pkcs11:token=alice;object=alice-root";
const BOB: &str = "pkcs11:token=bob;object=bob-root";
const ONLINE: &str = "pkcs11:token=online;object=online";

impl TokenCeremony {
    fn new() -> TokenCeremony {
        let hsm = Hsm::new();
        hsm.token("alice", "1111");
        hsm.token("bob", "2222");
        hsm.token("online", "3333");
        let conf = hsm.conf();
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let env = hsm_env(&conf, None);
        ok(tmp.path(), &["init", "repo"], &env);
        let with_pin = |pin| hsm_env(&conf, Some(pin));
        ok(
            tmp.path(),
            &["key", "generate", "--type", "ecdsa-p256", "--out", ALICE],
            &with_pin("1111"),
        );
        ok(
            tmp.path(),
            &["key", "generate", "--type", "ed25519", "--out", BOB],
            &with_pin("2222"),
        );
        ok(
            tmp.path(),
            &["key", "generate", "--type", "ecdsa-p256", "--out", ONLINE],
            &with_pin("3333"),
        );
        let carol = tmp.path().join("carol.pem");
        ok(
            tmp.path(),
            &[
                "key",
                "generate",
                "--type",
                "ecdsa-p256",
                "--out",
                carol.to_str().unwrap(),
            ],
            &env,
        );
        let carol_public = format!("{}.pub", carol.display());
        for (name, reference) in [("alice", ALICE), ("bob", BOB), ("carol", carol_public.as_str())] {
            for role in ["root", "targets"] {
                ok(
                    &repo,
                    &[
                        "key",
                        "add",
                        name,
                        "--role",
                        role,
                        "--holder",
                        &format!("@{name}"),
                        reference,
                    ],
                    &env,
                );
            }
        }
        ok(&repo, &["key", "add", "online", "--role", "online", ONLINE], &env);
        let pin_file = tmp.path().join("online.pin");
        std::fs::write(&pin_file, "3333\n").unwrap();
        set_online_signer(&repo, &format!("{ONLINE}?pin-source=file:{}", pin_file.display()));
        ok(&repo, &["key", "threshold", "root", "2"], &env);
        ok(&repo, &["key", "threshold", "targets", "2"], &env);
        std::fs::write(repo.join("targets/trusted_root.json"), sigstore_trusted_root()).unwrap();
        TokenCeremony { hsm, conf, tmp, repo }
    }

    fn env(&self, pin: Option<&'static str>) -> Vec<(&str, &str)> {
        hsm_env(&self.conf, pin)
    }

    /// Starts a round and writes its signing request; returns the request's path.
    fn start(&self) -> PathBuf {
        ok(&self.repo, &["ceremony", "start"], &self.env(None));
        let request = self.tmp.path().join("request.json");
        ok(
            &self.repo,
            &["ceremony", "request", "--out", request.to_str().unwrap()],
            &self.env(None),
        );
        request
    }

    /// A keyholder signs the request in a directory of their own and hands the files back.
    fn sign(&self, holder: &str, key: &str, pin: Option<&'static str>, request: &Path) {
        let dir = self.tmp.path().join(format!("airgap-{holder}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(request, dir.join("request.json")).unwrap();
        let out = ok(
            &dir,
            &["ceremony", "sign", "--request", "request.json", "--key", key, "--yes"],
            &self.env(pin),
        );
        assert!(out.contains("Signed root v1"), "{out}");
        let files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap() != "request.json")
            .map(|p| p.display().to_string())
            .collect();
        let mut args = vec!["ceremony", "add-signature"];
        args.extend(files.iter().map(String::as_str));
        ok(&self.repo, &args, &self.env(None));
    }

    fn served(&self) -> PathBuf {
        self.repo.join("public/repository")
    }
}

/// python-tuf, tuf-js, tough and `trustroot client` update from root v1 and download the
/// target.
fn every_client_accepts(served: &Path) {
    let server = SimServer::serve_dir(served);
    let root = served.join("1.root.json");
    let metadata_url = server.base_url();
    let targets_url = format!("{}targets/", server.base_url());
    let file = common::file_url(served);
    let file_targets = format!("{file}targets/");
    let names = ["trusted_root.json"];
    let outputs = [
        (
            "python-tuf",
            common::ngclient(None, &root, &metadata_url, &targets_url, &names),
        ),
        (
            "tuf-js",
            common::tufjs(None, &root, &metadata_url, &targets_url, &names),
        ),
        ("tough", common::tough(None, &root, &metadata_url, &targets_url, &names)),
        (
            "trustroot client",
            common::trustroot_client(None, &root, &file, &file_targets, &names),
        ),
    ];
    for (client, out) in outputs {
        assert!(out.status.success(), "{client} refused it:\n{}", common::text(&out));
    }
}

#[test]
fn a_two_of_three_ceremony_signed_on_tokens_is_accepted_by_every_client() {
    let ceremony = TokenCeremony::new();
    let request = ceremony.start();
    ceremony.sign("alice", ALICE, Some("1111"), &request);
    ceremony.sign("bob", BOB, Some("2222"), &request);
    let status = ok(&ceremony.repo, &["ceremony", "status", "--json"], &ceremony.env(None));
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["complete"], true, "{status:#}");

    // The online key on its token signs snapshot and timestamp (PIN from the pin-source file).
    let out = ok(&ceremony.repo, &["ceremony", "publish"], &ceremony.env(None));
    assert!(out.contains("Published round"), "{out}");
    every_client_accepts(&ceremony.served());

    // Root lists the token keys as they are on the tokens; the published signatures are theirs.
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ceremony.served().join("1.root.json")).unwrap()).unwrap();
    let schemes: Vec<&str> = root["signed"]["keys"]
        .as_object()
        .unwrap()
        .values()
        .map(|k| k["scheme"].as_str().unwrap())
        .collect();
    assert!(schemes.contains(&"ed25519"), "{schemes:?}");
    assert_eq!(root["signatures"].as_array().unwrap().len(), 2);

    // An online refresh with the key on the token: a new timestamp every client accepts.
    let before = std::fs::read(ceremony.served().join("timestamp.json")).unwrap();
    let out = ok(&ceremony.repo, &["online", "refresh", "--force"], &ceremony.env(None));
    assert!(out.contains("timestamp"), "{out}");
    assert_ne!(std::fs::read(ceremony.served().join("timestamp.json")).unwrap(), before);
    every_client_accepts(&ceremony.served());

    // A wrong PIN in the online key's PIN file: the refresh is refused, nothing changes.
    std::fs::write(ceremony.tmp.path().join("online.pin"), "0000\n").unwrap();
    let before = tree_hash(&ceremony.repo);
    let error = refused(
        &ceremony.repo,
        &["online", "refresh", "--force"],
        &ceremony.env(None),
        ONLINE,
    );
    assert!(error.contains("wrong PIN"), "{error}");
    assert_eq!(tree_hash(&ceremony.repo), before, "a refused refresh changes nothing");
}

#[test]
fn a_wrong_pin_is_refused_with_the_round_unchanged() {
    let ceremony = TokenCeremony::new();
    ceremony.start();
    let before = tree_hash(&ceremony.repo);
    let error = refused(
        &ceremony.repo,
        &["ceremony", "sign", "--key", ALICE, "--yes"],
        &ceremony.env(Some("9999")),
        ALICE,
    );
    assert!(error.contains("wrong PIN"), "{error}");
    // After one wrong PIN, SoftHSM2 says few tries are left; the second error says so.
    let error = refused(
        &ceremony.repo,
        &["ceremony", "sign", "--key", ALICE, "--yes"],
        &ceremony.env(Some("9998")),
        ALICE,
    );
    assert!(error.contains("wrong PIN"), "{error}");
    assert_eq!(tree_hash(&ceremony.repo), before, "a wrong PIN changes nothing");
    // The right PIN still signs.
    let out = ok(
        &ceremony.repo,
        &["ceremony", "sign", "--key", ALICE, "--yes"],
        &ceremony.env(Some("1111")),
    );
    assert!(out.contains("Signed root v1"), "{out}");
}

#[test]
fn bad_token_references_are_refused_with_nothing_changed() {
    let ceremony = TokenCeremony::new();
    // A lone public key object (no private key), and an RSA key pair, on alice's token.
    let public_der = ceremony.tmp.path().join("lonely.der");
    let pem = std::fs::read_to_string(format!("{}/carol.pem.pub", ceremony.tmp.path().display())).unwrap();
    std::fs::write(&public_der, pem_body(&pem)).unwrap();
    ceremony.hsm.pkcs11_tool(
        "alice",
        "1111",
        &[
            "--write-object",
            public_der.to_str().unwrap(),
            "--type",
            "pubkey",
            "--label",
            "lonely",
        ],
    );
    ceremony.hsm.pkcs11_tool(
        "alice",
        "1111",
        &["--keypairgen", "--key-type", "rsa:2048", "--label", "rsa", "--id", "0a"],
    );
    ceremony.start();
    let before = tree_hash(&ceremony.repo);
    let sign = |key: &str, env: &[(&str, &str)], reference: &str| {
        refused(
            &ceremony.repo,
            &["ceremony", "sign", "--key", key, "--yes"],
            env,
            reference,
        )
    };
    let pin = ceremony.env(Some("1111"));

    let none = "pkcs11:token=alice;object=nobody";
    assert!(sign(none, &pin, none).contains("no private key"));
    let two = "pkcs11:token=alice";
    assert!(sign(two, &pin, two).contains("matches 2 private keys"));
    // A key that asks for its PIN before each signature, on a token that cannot sign after
    // that login (SoftHSM2 has raw CKM_ECDSA only): refused before anything is signed.
    ceremony.hsm.pkcs11_tool(
        "alice",
        "1111",
        &[
            "--keypairgen",
            "--key-type",
            "EC:prime256v1",
            "--label",
            "always",
            "--id",
            "0b",
            "--always-auth",
        ],
    );
    let always = "pkcs11:token=alice;object=always";
    assert!(sign(always, &pin, always).contains("CKA_ALWAYS_AUTHENTICATE"));
    let public_only = "pkcs11:token=alice;object=lonely";
    assert!(sign(public_only, &pin, public_only).contains("names a public key but no private key"));
    let rsa = "pkcs11:token=alice;object=rsa";
    assert!(sign(rsa, &pin, rsa).contains("TUF keys on a token are"));
    let no_token = "pkcs11:token=mallory;object=alice-root";
    assert!(sign(no_token, &pin, no_token).contains("no token matches"));

    let not_a_module = "pkcs11:token=alice;object=alice-root?module-path=/etc/passwd";
    assert!(sign(not_a_module, &pin, "/etc/passwd").contains("not a PKCS#11 module"));
    let no_module: Vec<(&str, &str)> = vec![("SOFTHSM2_CONF", &ceremony.conf)];
    assert!(sign(ALICE, &no_module, ALICE).contains("no PKCS#11 module named"));
    let secret = "pkcs11:token=alice;object=alice-root?pin-value=1111";
    let error = sign(secret, &pin, "pin-value");
    assert!(!error.contains("1111"), "the PIN is not echoed: {error}");

    // No terminal, no PIN source: the error says where a PIN can come from.
    let no_pin = ceremony.env(None);
    assert!(sign(ALICE, &no_pin, ALICE).contains("needs its PIN"));

    // The YubiKey module with no YubiKey: said so, no crash.
    assert!(
        Path::new(YKCS11).is_file(),
        "{YKCS11} is missing: scripts/test.sh installs Debian's ykcs11"
    );
    let yubikey = format!("pkcs11:object=X.509%20Certificate%20for%20Digital%20Signature?module-path={YKCS11}");
    let error = sign(&yubikey, &pin, YKCS11);
    assert!(error.contains("is the YubiKey or HSM connected"), "{error}");
    let out = run(ceremony.tmp.path(), &["key", "list", "--module", YKCS11], &pin);
    assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));

    assert_eq!(tree_hash(&ceremony.repo), before, "the refusals changed the repository");

    // key list shows every token's keys with their URIs (private ones after a login).
    let list = ok(
        ceremony.tmp.path(),
        &["key", "list", "--module", SOFTHSM, "--login", "--json"],
        &pin_for_every_token(&ceremony),
    );
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let alice = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == "alice")
        .unwrap();
    let private: Vec<&str> = alice["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"] == "private")
        .map(|o| o["uri"].as_str().unwrap())
        .collect();
    assert_eq!(private.len(), 3, "{alice:#}");
    let listed = private.iter().find(|u| u.contains("object=alice-root")).unwrap();
    // The listed URI names the key on its own (module included).
    let shown = ok(
        ceremony.tmp.path(),
        &["key", "show", listed, "--json"],
        &[("SOFTHSM2_CONF", &ceremony.conf)],
    );
    let registered = std::fs::read_to_string(ceremony.repo.join("keys/alice.pub")).unwrap();
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["key"]["keyval"]["public"].as_str().unwrap(), registered);
}

/// Every token of the ceremony shares no PIN; `key list --login` logs in to each, so the
/// test gives them all one PIN first.
fn pin_for_every_token(ceremony: &TokenCeremony) -> Vec<(&str, &str)> {
    for (label, old) in [("bob", "2222"), ("online", "3333")] {
        ceremony
            .hsm
            .pkcs11_tool(label, old, &["--change-pin", "--new-pin", "1111"]);
    }
    ceremony.env(Some("1111"))
}

/// The DER bytes of a PEM block.
fn pem_body(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

#[test]
fn a_p384_key_on_a_token_needs_allow_p384_and_then_tough_is_skipped_by_name() {
    let setup = Setup::for_publish();
    let hsm = Hsm::new();
    hsm.token("dave", "4444");
    hsm.pkcs11_tool(
        "dave",
        "4444",
        &[
            "--keypairgen",
            "--key-type",
            "EC:secp384r1",
            "--label",
            "dave",
            "--id",
            "0d",
        ],
    );
    let conf = hsm.conf();
    let env = hsm_env(&conf, Some("4444"));
    let dave = "pkcs11:token=dave;object=dave";
    let before = tree_hash(&setup.repo);
    let error = refused(
        &setup.repo,
        &["key", "add", "dave", "--role", "root", dave],
        &env,
        "P-384",
    );
    assert!(error.contains("allow_p384"), "{error}");
    assert_eq!(tree_hash(&setup.repo), before, "a refused key add changes nothing");

    let policy_path = setup.repo.join("trustroot.toml");
    let policy = std::fs::read_to_string(&policy_path).unwrap();
    assert!(policy.contains("\n[gate]\n"), "{policy}");
    std::fs::write(
        &policy_path,
        policy.replace("\n[gate]\n", "\n[gate]\nallow_p384 = true\n"),
    )
    .unwrap();
    ok(&setup.repo, &["key", "add", "dave", "--role", "root", dave], &env);
    let signers: Vec<&str> = HOLDERS[..2].to_vec();
    setup.round_now(&signers);
    let out = ok(&setup.repo, &["ceremony", "publish", "--json"], &env);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let skipped = findings
        .iter()
        .find(|f| f["check"] == "tough")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(skipped["severity"], "warning");
    assert!(
        skipped["message"].as_str().unwrap().starts_with("tough-skipped-p384"),
        "{skipped}"
    );
}
