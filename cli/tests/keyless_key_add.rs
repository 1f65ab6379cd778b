//! `key add NAME --role ROLE --identity EMAIL_OR_URI --issuer URL`: a keyless keyholder
//! (tuf-on-ci's sigstore-oidc key) registered in the policy; `key show` names the identity
//! and issuer; hostile or malformed identities and issuers are refused, nothing written.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;

use ceremony_common::{Setup, fails, ok, tree_hash};

#[test]
fn a_keyless_keyholder_is_registered_with_identity_and_issuer() {
    let setup = Setup::new();
    let repo = &setup.repo;
    let added = ok(
        repo,
        &[
            "key",
            "add",
            "dave",
            "--role",
            "targets",
            "--holder",
            "@dave",
            "--identity",
            "dave@example.com",
            "--issuer",
            "https://accounts.google.com",
            "--json",
        ],
    );
    let added: serde_json::Value = serde_json::from_str(&added).unwrap();
    assert_eq!(added["name"], "dave");
    let key: serde_json::Value = serde_json::from_slice(&std::fs::read(repo.join("keys/dave.pub")).unwrap()).unwrap();
    assert_eq!(key["keytype"], "sigstore-oidc");
    assert_eq!(key["scheme"], "Fulcio");
    assert_eq!(key["keyval"]["identity"], "dave@example.com");
    assert_eq!(key["keyval"]["issuer"], "https://accounts.google.com");
    let policy = std::fs::read_to_string(repo.join("trustroot.toml")).unwrap();
    assert!(policy.contains("[keys.dave]"), "{policy}");

    let shown = ok(repo, &["key", "show", "keys/dave.pub"]);
    assert!(shown.contains("sigstore-oidc (Fulcio)"), "{shown}");
    assert!(
        shown.contains("identity dave@example.com (issuer https://accounts.google.com)"),
        "{shown}"
    );
    assert!(shown.contains("registered as 'dave' for targets"), "{shown}");
}

#[test]
fn a_keyless_identity_or_issuer_that_cannot_be_one_is_refused_and_nothing_changes() {
    let setup = Setup::new();
    let repo = &setup.repo;
    let before = tree_hash(repo);
    for (identity, issuer, says) in [
        ("", "https://accounts.google.com", "non-empty"),
        ("dave@example.com\u{1b}[2J", "https://accounts.google.com", "non-empty"),
        ("dave@example.com", "http://issuer.example.com", "not an https:// URL"),
        (
            "dave@example.com",
            "https://issuer.example.com/\nX",
            "not an https:// URL",
        ),
    ] {
        let said = fails(
            repo,
            &[
                "key",
                "add",
                "dave",
                "--role",
                "targets",
                "--identity",
                identity,
                "--issuer",
                issuer,
            ],
        );
        assert!(said.contains(says), "{said}");
        assert!(
            !said.contains('\u{1b}'),
            "control characters are never echoed: {said:?}"
        );
    }
    let online = fails(
        repo,
        &[
            "key",
            "add",
            "ci",
            "--role",
            "online",
            "--identity",
            "https://github.com/example/tuf/.github/workflows/online-sign.yml@refs/heads/main",
            "--issuer",
            "https://token.actions.githubusercontent.com",
        ],
    );
    assert!(
        online.contains("online key signs snapshot and timestamp with a key"),
        "{online}"
    );
    assert_eq!(tree_hash(repo), before, "nothing was written");
}

/// A keyless keyholder has no key material to compare: `ceremony status` (text, JSON and
/// the page) and the request's summary name its identity and issuer instead.
#[test]
fn ceremony_status_and_the_request_summary_name_a_keyless_keyholders_identity_and_issuer() {
    let setup = Setup::new();
    let repo = &setup.repo;
    ok(
        repo,
        &[
            "key",
            "add",
            "dave",
            "--role",
            "root",
            "--holder",
            "@dave",
            "--identity",
            "dave@example.com",
            "--issuer",
            "https://accounts.google.com",
        ],
    );
    setup.start();
    let shown = "identity dave@example.com (issuer https://accounts.google.com)";
    let status = ok(repo, &["ceremony", "status", "--at", ceremony_common::AT]);
    assert!(status.contains(shown), "{status}");
    let json = setup.status_json();
    let keyholders: Vec<&serde_json::Value> = json["roles"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["thresholds"].as_array().unwrap())
        .flat_map(|t| t["not_signed"].as_array().unwrap())
        .filter(|k| k["name"] == "dave")
        .collect();
    assert!(!keyholders.is_empty(), "{json}");
    for k in keyholders {
        assert_eq!(k["keyless"]["identity"], "dave@example.com", "{k}");
        assert_eq!(k["keyless"]["issuer"], "https://accounts.google.com", "{k}");
    }
    let page = setup.tmp.path().join("status.html");
    ok(
        repo,
        &[
            "ceremony",
            "status",
            "--html",
            page.to_str().unwrap(),
            "--at",
            ceremony_common::AT,
        ],
    );
    let page = std::fs::read_to_string(page).unwrap();
    assert!(page.contains(shown), "the threshold table names the identity");
    assert!(
        page.contains("identity dave@example.com, issuer https://accounts.google.com"),
        "the keyholders table names the identity"
    );
    let request = std::fs::read_to_string(setup.request("request.json")).unwrap();
    assert!(
        request.contains(r#"identity \"dave@example.com\", issuer \"https://accounts.google.com\""#),
        "{request}"
    );
}

/// A keyless key file someone sent is text from outside: `key show` prints its identity
/// and issuer escaped, never a raw control character a terminal would obey.
#[test]
fn key_show_escapes_a_hostile_keyless_identity() {
    let setup = Setup::new();
    let file = setup.tmp.path().join("mallory.pub");
    let key = serde_json::json!({
        "keytype": "sigstore-oidc",
        "scheme": "Fulcio",
        "keyval": {"identity": "mallory@example.com\u{1b}[2J", "issuer": "https://accounts.google.com"}
    });
    std::fs::write(&file, serde_json::to_vec(&key).unwrap()).unwrap();
    let shown = ok(&setup.repo, &["key", "show", file.to_str().unwrap()]);
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
    assert!(shown.contains("identity mallory@example.com"), "{shown}");
}
