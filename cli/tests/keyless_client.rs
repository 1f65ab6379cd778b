//! `trustroot client` on a tuf-on-ci-shaped repository whose every key is keyless, signed
//! through a Sigstore-like instance built in the test (test-support's sigstore_instance):
//! verified from its root v1 through a rotation with `--sigstore-trusted-root`, and refused,
//! naming why, against Sigstore production's trust by default, with a tampered root, or against another
//! instance.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{file_url, text, trustroot};
use trustroot_test_support::sigstore_instance::{
    ACTIONS, Instance, ONLINE, ONLINE_ID, metadata, role_signed, root_signed,
};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const GOOGLE: &str = "https://accounts.google.com";
const AT: &str = "2026-06-01T00:00:00Z";

/// Writes the published repository (consistent snapshots) signed through `i`: root v1
/// (alice), root v2 (alice and bob, threshold 2), and timestamp, snapshot and targets.
/// `tamper` may replace root v2's signatures.
fn publish(i: &Instance, dir: &Path, tamper: impl FnOnce(Vec<serde_json::Value>) -> Vec<serde_json::Value>) {
    let v1 = root_signed(1, &[("k1", ALICE)], GOOGLE, 1);
    let v2 = root_signed(2, &[("k1", ALICE), ("k2", BOB)], GOOGLE, 2);
    let online = [(ONLINE_ID, ONLINE, ACTIONS)];
    let timestamp = role_signed("timestamp", 1, Some(("snapshot.json", 1)));
    let snapshot = role_signed("snapshot", 1, Some(("targets.json", 1)));
    let targets = role_signed("targets", 1, None);
    let files = [
        ("1.root.json", metadata(&v1, i.sign(&v1, &[("k1", ALICE, GOOGLE)]))),
        (
            "2.root.json",
            metadata(&v2, tamper(i.sign(&v2, &[("k1", ALICE, GOOGLE), ("k2", BOB, GOOGLE)]))),
        ),
        ("timestamp.json", metadata(&timestamp, i.sign(&timestamp, &online))),
        ("1.snapshot.json", metadata(&snapshot, i.sign(&snapshot, &online))),
        (
            "1.targets.json",
            metadata(&targets, i.sign(&targets, &[("k2", BOB, GOOGLE)])),
        ),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

struct Run {
    _work: tempfile::TempDir,
    published: std::path::PathBuf,
    metadata: std::path::PathBuf,
    trust: std::path::PathBuf,
}

impl Run {
    /// The repository published through `signer`; the client given `trusted`'s root.
    fn new(
        signer: &Instance,
        trusted: &Instance,
        tamper: impl FnOnce(Vec<serde_json::Value>) -> Vec<serde_json::Value>,
    ) -> Self {
        let work = tempfile::tempdir().unwrap();
        let (published, metadata) = (work.path().join("published"), work.path().join("metadata"));
        std::fs::create_dir_all(&published).unwrap();
        std::fs::create_dir_all(&metadata).unwrap();
        publish(signer, &published, tamper);
        let trust = work.path().join("trusted_root.json");
        std::fs::write(&trust, serde_json::to_vec(&trusted.trusted_root(None)).unwrap()).unwrap();
        Run {
            _work: work,
            published,
            metadata,
            trust,
        }
    }

    fn client(&self, with_trust: bool, action: &[&str]) -> std::process::Output {
        let mut args = vec!["client", "--at", AT, "--metadata-dir", self.metadata.to_str().unwrap()];
        let url = file_url(&self.published);
        args.extend(["--metadata-url", url.as_str()]);
        if with_trust {
            args.extend(["--sigstore-trusted-root", self.trust.to_str().unwrap()]);
        }
        args.extend(action);
        trustroot(&args)
    }

    fn init(&self, with_trust: bool) -> std::process::Output {
        let root = self.published.join("1.root.json");
        self.client(with_trust, &["init", root.to_str().unwrap()])
    }
}

#[test]
fn the_client_verifies_a_keyless_repository_from_v1_through_a_rotation() {
    let i = Instance::new(1, 1);
    let run = Run::new(&i, &i, |sigs| sigs);
    let out = run.init(true);
    assert!(out.status.success(), "{}", text(&out));
    let out = run.client(true, &["refresh"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("refreshed: root v2, timestamp v1, snapshot v1, targets v1"),
        "{}",
        text(&out)
    );
}

/// Without --sigstore-trusted-root the client checks keyless keys against Sigstore
/// production's trusted root (embedded): the test instance's certificates do not chain to
/// its Fulcio, and each signature is refused with the step named.
#[test]
fn without_its_sigstore_trusted_root_a_keyless_root_is_checked_against_sigstore_production_and_refused() {
    let i = Instance::new(1, 1);
    let run = Run::new(&i, &i, |sigs| sigs);
    let out = run.init(false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("key k1: keyless signature refused"),
        "{}",
        text(&out)
    );
    assert!(!run.metadata.join("root.json").exists());
}

#[test]
fn a_root_carrying_a_bundle_copied_from_another_version_is_refused_and_nothing_changes() {
    let i = Instance::new(1, 1);
    // Bob's signature of root v2 replaced by his signature of other bytes (root v1's).
    let v1 = root_signed(1, &[("k1", ALICE)], GOOGLE, 1);
    let copied = i.sign(&v1, &[("k2", BOB, GOOGLE)]);
    let run = Run::new(&i, &i, |mut sigs| {
        sigs[1] = copied[0].clone();
        sigs
    });
    assert!(run.init(true).status.success());
    let before = std::fs::read(run.metadata.join("root.json")).unwrap();
    let out = run.client(true, &["refresh"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("key k2: keyless signature refused: signed bytes:"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read(run.metadata.join("root.json")).unwrap(), before);
}

#[test]
fn a_repository_signed_through_another_sigstore_instance_is_refused() {
    // The attacker runs their own CA and logs (and may publish a trusted_root.json of
    // them as a target): the pinned trust material vouches for none of it.
    let (real, attacker) = (Instance::new(1, 1), Instance::new(50, 50));
    let run = Run::new(&attacker, &real, |sigs| sigs);
    let out = run.init(true);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("key k1: keyless signature refused: log entry: no transparency log of the trusted root"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_sigstore_trusted_root_that_is_not_one_is_refused_naming_the_file() {
    let i = Instance::new(1, 1);
    let run = Run::new(&i, &i, |sigs| sigs);
    std::fs::write(&run.trust, b"{\"tlogs\": [{}]}").unwrap();
    let out = run.init(true);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let shown = text(&out);
    assert!(
        shown.contains("trusted_root.json: Sigstore trusted root: $.tlogs[0].publicKey is missing"),
        "{shown}"
    );
}

/// `mirror sync` of the same repository from its root v1: with the instance's trusted
/// root it mirrors it through the rotation (and `mirror verify` agrees); against Sigstore
/// production's trust (the default) it is refused, naming the keyless signature, and
/// nothing is served.
#[test]
fn mirror_sync_verifies_a_keyless_repository_with_its_sigstore_trusted_root() {
    let i = Instance::new(1, 1);
    let run = Run::new(&i, &i, |sigs| sigs);
    let root = run.published.join("1.root.json");
    let url = file_url(&run.published);
    let mirror = run.published.parent().unwrap().join("mirror");
    let sync = |with_trust: bool| {
        let mut args = vec![
            "mirror",
            "sync",
            mirror.to_str().unwrap(),
            "--from",
            url.as_str(),
            "--root",
            root.to_str().unwrap(),
            "--at",
            AT,
        ];
        if with_trust {
            args.extend(["--sigstore-trusted-root", run.trust.to_str().unwrap()]);
        }
        trustroot(&args)
    };
    let refused = sync(false);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("keyless signature refused"),
        "{}",
        text(&refused)
    );
    assert!(!mirror.join("repository").exists(), "nothing is served");

    let synced = sync(true);
    assert!(synced.status.success(), "{}", text(&synced));
    assert!(mirror.join("repository/2.root.json").is_file());
    let verified = trustroot(&[
        "mirror",
        "verify",
        mirror.to_str().unwrap(),
        "--at",
        AT,
        "--sigstore-trusted-root",
        run.trust.to_str().unwrap(),
    ]);
    assert!(verified.status.success(), "{}", text(&verified));
}

/// `inspect` checks keyless signatures too: with the instance's trusted root the rotated
/// root meets both thresholds; with the default (Sigstore production's) each keyless
/// signature is refused, the step named.
#[test]
fn inspect_checks_keyless_signatures_against_the_sigstore_trust_given() {
    let i = Instance::new(1, 1);
    let run = Run::new(&i, &i, |sigs| sigs);
    let (v1, v2) = (run.published.join("1.root.json"), run.published.join("2.root.json"));
    let inspect = |with_trust: bool| {
        let mut args = vec![
            "inspect",
            v2.to_str().unwrap(),
            "--root",
            v1.to_str().unwrap(),
            "--at",
            AT,
            "--json",
        ];
        if with_trust {
            args.extend(["--sigstore-trusted-root", run.trust.to_str().unwrap()]);
        }
        let out = trustroot(&args);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let trusted = inspect(true);
    for check in trusted["signatures"].as_array().unwrap() {
        assert_eq!(check["met"], true, "{check}");
    }
    let production = inspect(false);
    let text = production.to_string();
    assert!(
        production["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["met"] == false),
        "{text}"
    );
    assert!(text.contains("keyless signature refused"), "{text}");
}
