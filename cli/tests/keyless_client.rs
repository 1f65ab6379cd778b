//! `trustroot client` on a tuf-on-ci-shaped repository whose every key is keyless, signed
//! through a Sigstore-like instance built in the test (test-support's sigstore_instance):
//! verified from its root v1 through two rotations with `--sigstore-trusted-root`, and refused,
//! naming why, against Sigstore production's trust by default, with a tampered root, or against another
//! instance.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;

use sha2::Digest as _;

use common::{file_url, text, trustroot};
use trustroot_test_support::sigstore_instance::{
    ACTIONS, Instance, ONLINE, ONLINE_ID, metadata, role_signed, root_signed,
};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const CAROL: &str = "carol@example.com";
const GOOGLE: &str = "https://accounts.google.com";
const AT: &str = "2026-06-01T00:00:00Z";

/// A root as tuf-on-ci writes one: its online key is a workflow's identity, marked with
/// `x-tuf-on-ci-online-uri: "sigstore:"`.
fn tuf_on_ci_root(version: u64, keyholders: &[(&str, &str)], threshold: u64) -> serde_json::Value {
    let mut root = root_signed(version, keyholders, GOOGLE, threshold);
    root["keys"][ONLINE_ID]["x-tuf-on-ci-online-uri"] = "sigstore:".into();
    root
}

/// The repository's metadata, every key keyless, signed through `i`: root v1 (alice),
/// root v2 (alice and bob, threshold 2), root v3 (bob and carol: alice leaves), and
/// timestamp, snapshot and targets (listing `files`). `tamper` may replace root v2's
/// signatures.
struct Roles {
    roots: Vec<Vec<u8>>,
    timestamp: Vec<u8>,
    snapshot: Vec<u8>,
    targets: Vec<u8>,
}

fn roles(
    i: &Instance,
    files: &[(&str, &[u8])],
    tamper: impl FnOnce(Vec<serde_json::Value>) -> Vec<serde_json::Value>,
) -> Roles {
    let v1 = tuf_on_ci_root(1, &[("k1", ALICE)], 1);
    let v2 = tuf_on_ci_root(2, &[("k1", ALICE), ("k2", BOB)], 2);
    let v3 = tuf_on_ci_root(3, &[("k2", BOB), ("k3", CAROL)], 1);
    let online = [(ONLINE_ID, ONLINE, ACTIONS)];
    let timestamp = role_signed("timestamp", 1, Some(("snapshot.json", 1)));
    let snapshot = role_signed("snapshot", 1, Some(("targets.json", 1)));
    let mut targets = role_signed("targets", 1, None);
    for (name, bytes) in files {
        targets["targets"][*name] = serde_json::json!({
            "length": bytes.len(),
            "hashes": {"sha256": hex::encode(sha2::Sha256::digest(bytes))}
        });
    }
    let (k1, k2, k3) = (("k1", ALICE, GOOGLE), ("k2", BOB, GOOGLE), ("k3", CAROL, GOOGLE));
    Roles {
        roots: vec![
            metadata(&v1, i.sign(&v1, &[k1])),
            metadata(&v2, tamper(i.sign(&v2, &[k1, k2]))),
            // Signed by v2's threshold (alice and bob) and v3's own (carol).
            metadata(&v3, i.sign(&v3, &[k1, k2, k3])),
        ],
        timestamp: metadata(&timestamp, i.sign(&timestamp, &online)),
        snapshot: metadata(&snapshot, i.sign(&snapshot, &online)),
        targets: metadata(&targets, i.sign(&targets, &[k3])),
    }
}

/// Writes the published repository (consistent snapshots) of [`roles`] into `dir`.
fn publish(i: &Instance, dir: &Path, tamper: impl FnOnce(Vec<serde_json::Value>) -> Vec<serde_json::Value>) {
    publish_with(i, dir, &[], tamper);
}

fn publish_with(
    i: &Instance,
    dir: &Path,
    files: &[(&str, &[u8])],
    tamper: impl FnOnce(Vec<serde_json::Value>) -> Vec<serde_json::Value>,
) {
    let roles = roles(i, files, tamper);
    for (n, root) in roles.roots.iter().enumerate() {
        std::fs::write(dir.join(format!("{}.root.json", n + 1)), root).unwrap();
    }
    std::fs::write(dir.join("timestamp.json"), &roles.timestamp).unwrap();
    std::fs::write(dir.join("1.snapshot.json"), &roles.snapshot).unwrap();
    std::fs::write(dir.join("1.targets.json"), &roles.targets).unwrap();
    std::fs::create_dir_all(dir.join("targets")).unwrap();
    for (name, bytes) in files {
        let digest = hex::encode(sha2::Sha256::digest(bytes));
        std::fs::write(dir.join("targets").join(format!("{digest}.{name}")), bytes).unwrap();
    }
}

/// Writes the same repository as a tuf-on-ci checkout: `metadata/` with `root_history/`,
/// and `targets/`.
fn checkout(i: &Instance, dir: &Path, files: &[(&str, &[u8])]) {
    let roles = roles(i, files, |sigs| sigs);
    let metadata = dir.join("metadata");
    std::fs::create_dir_all(metadata.join("root_history")).unwrap();
    for (n, root) in roles.roots.iter().enumerate() {
        std::fs::write(metadata.join(format!("root_history/{}.root.json", n + 1)), root).unwrap();
    }
    std::fs::write(metadata.join("root.json"), roles.roots.last().unwrap()).unwrap();
    std::fs::write(metadata.join("timestamp.json"), &roles.timestamp).unwrap();
    std::fs::write(metadata.join("snapshot.json"), &roles.snapshot).unwrap();
    std::fs::write(metadata.join("targets.json"), &roles.targets).unwrap();
    std::fs::create_dir_all(dir.join("targets")).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join("targets").join(name), bytes).unwrap();
    }
}

/// `trustroot ARGS`, with `--sigstore-trusted-root TRUST` when given.
fn with_trust<'a>(mut args: Vec<&'a str>, trust: Option<&'a Path>) -> std::process::Output {
    if let Some(trust) = trust {
        args.extend(["--sigstore-trusted-root", trust.to_str().unwrap()]);
    }
    trustroot(&args)
}

/// `mirror sync MIRROR --from URL --root ROOT` as of [`AT`].
fn mirror_sync(mirror: &Path, url: &str, root: &Path, trust: Option<&Path>) -> std::process::Output {
    let args = vec![
        "mirror",
        "sync",
        mirror.to_str().unwrap(),
        "--from",
        url,
        "--root",
        root.to_str().unwrap(),
        "--at",
        AT,
    ];
    with_trust(args, trust)
}

/// `init REPO --import SOURCE` as of [`AT`].
fn import(repo: &Path, source: &Path, trust: Option<&Path>) -> std::process::Output {
    let args = vec![
        "init",
        repo.to_str().unwrap(),
        "--import",
        source.to_str().unwrap(),
        "--at",
        AT,
    ];
    with_trust(args, trust)
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
        // Before the action: the flag is global, and that is where docs/client.md puts it.
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
fn the_client_verifies_a_keyless_repository_from_v1_through_rotations() {
    let i = Instance::new(1, 1);
    let run = Run::new(&i, &i, |sigs| sigs);
    let out = run.init(true);
    assert!(out.status.success(), "{}", text(&out));
    let out = run.client(true, &["refresh"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("refreshed: root v3, timestamp v1, snapshot v1, targets v1"),
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
    let sync = |with_trust: bool| mirror_sync(&mirror, url.as_str(), &root, with_trust.then_some(run.trust.as_path()));
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
    assert!(mirror.join("repository/3.root.json").is_file());
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
    let inspect = |trusted: bool| {
        let args = vec![
            "inspect",
            v2.to_str().unwrap(),
            "--root",
            v1.to_str().unwrap(),
            "--at",
            AT,
            "--json",
        ];
        let out = with_trust(args, trusted.then_some(run.trust.as_path()));
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

/// The attacker's repository ships a `trusted_root.json` of their own Sigstore instance as
/// a target, where a tool that trusted the repository's own material would find it: the
/// client, `mirror sync` and `init --import` check keyless signatures against the pinned
/// trust only (by default Sigstore production's), so it vouches for nothing, and nothing
/// is written.
#[test]
fn a_trusted_root_taken_from_the_repository_itself_never_vouches_for_it() {
    let attacker = Instance::new(50, 50);
    let own = serde_json::to_vec(&attacker.trusted_root(None)).unwrap();
    let files: [(&str, &[u8]); 1] = [("trusted_root.json", &own)];
    let work = tempfile::tempdir().unwrap();
    let (published, checked_out) = (work.path().join("published"), work.path().join("checkout"));
    std::fs::create_dir_all(&published).unwrap();
    publish_with(&attacker, &published, &files, |sigs| sigs);
    checkout(&attacker, &checked_out, &files);
    let root = published.join("1.root.json");
    let url = file_url(&published);

    let metadata = work.path().join("client");
    let out = trustroot(&[
        "client",
        "--at",
        AT,
        "--metadata-dir",
        metadata.to_str().unwrap(),
        "--metadata-url",
        url.as_str(),
        "init",
        root.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("key k1: keyless signature refused"),
        "{}",
        text(&out)
    );
    assert!(!metadata.join("root.json").exists());

    let mirror = work.path().join("mirror");
    let out = mirror_sync(&mirror, url.as_str(), &root, None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("keyless signature refused"), "{}", text(&out));
    assert!(!mirror.join("repository").exists(), "nothing is served");

    let repo = work.path().join("repo");
    let out = import(&repo, &checked_out, None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("keyless signature refused"), "{}", text(&out));
    assert!(!repo.exists(), "nothing is written");
}

/// `init --import` of a tuf-on-ci checkout whose every key is keyless: with the instance's
/// trusted root it is verified from root v1 through both rotations and taken over, the
/// keyholders named by identity, the online key (`sigstore:`) kept as written and marked
/// unusable; without it (Sigstore production's trust) it is refused and nothing written.
#[test]
fn init_import_takes_over_a_keyless_tuf_on_ci_repository_with_its_sigstore_trusted_root() {
    let i = Instance::new(1, 1);
    let work = tempfile::tempdir().unwrap();
    let source = work.path().join("checkout");
    checkout(&i, &source, &[("hello.txt", b"hello\n")]);
    let trust = work.path().join("trusted_root.json");
    std::fs::write(&trust, serde_json::to_vec(&i.trusted_root(None)).unwrap()).unwrap();
    let repo = work.path().join("repo");
    let take_over = |with_trust: bool| import(&repo, &source, with_trust.then_some(trust.as_path()));
    let refused = take_over(false);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("keyless signature refused"),
        "{}",
        text(&refused)
    );
    assert!(!repo.exists(), "nothing is written");

    let imported = take_over(true);
    assert!(imported.status.success(), "{}", text(&imported));
    let policy = std::fs::read_to_string(repo.join("trustroot.toml")).unwrap();
    assert!(policy.contains("signer = \"sigstore:\""), "{policy}");
    let keys: Vec<String> = std::fs::read_dir(repo.join("keys"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    for identity in [BOB, CAROL, ONLINE] {
        assert!(
            keys.iter().any(|k| k.contains("sigstore-oidc") && k.contains(identity)),
            "{identity}: {keys:?}"
        );
    }
    assert!(
        !keys.iter().any(|k| k.contains(ALICE)),
        "alice left in root v3: {keys:?}"
    );
    assert_eq!(std::fs::read(repo.join("targets/hello.txt")).unwrap(), b"hello\n");

    let expiry = text(&trustroot(&["expiry", repo.to_str().unwrap(), "--at", AT]));
    assert!(expiry.contains("root                            3"), "{expiry}");
    assert!(
        expiry.contains("sigstore:: NOT usable: trustroot cannot sign with sigstore: keys: it signs keyless"),
        "{expiry}"
    );
    // The status page names each keyless keyholder by identity, and the online key as
    // one trustroot cannot sign with.
    let page = work.path().join("status.html");
    let status = trustroot(&[
        "ceremony",
        "status",
        "--repo",
        repo.to_str().unwrap(),
        "--at",
        AT,
        "--html",
        page.to_str().unwrap(),
    ]);
    let page = std::fs::read_to_string(&page).unwrap_or_else(|_| panic!("{}", text(&status)));
    assert!(
        page.contains("identity carol@example.com, issuer https://accounts.google.com"),
        "{}",
        text(&status)
    );
    assert!(page.contains("sigstore:"), "the online key is shown as written");
}

/// A new, empty repository verifies nothing: `--sigstore-trusted-root` without `--import`
/// is a usage error, and nothing is made.
#[test]
fn init_without_import_refuses_a_sigstore_trusted_root() {
    let work = tempfile::tempdir().unwrap();
    let repo = work.path().join("repo");
    let trust = work.path().join("trusted_root.json");
    std::fs::write(&trust, b"{}").unwrap();
    let out = trustroot(&[
        "init",
        repo.to_str().unwrap(),
        "--sigstore-trusted-root",
        trust.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("--sigstore-trusted-root is for --import"),
        "{}",
        text(&out)
    );
    assert!(!repo.exists());
}
