//! A delegated role's signer attacks every mirror of the repository through the target
//! entries it lists: hash values that are paths, and names a mirror cannot store. The
//! mirror must never create, link or remove anything outside the state it builds, must
//! skip (and report) what it cannot store, and must go on serving everything else.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use common::text;
use trustroot_test_support::{DelegatedRoleSpec, RepoSim, SimServer, TargetHashes};

/// From `MIRROR/.trustroot-mirror/staging/tree/targets/npm/` up to the directory holding
/// MIRROR: the depth a hostile digest must climb to leave the mirror.
const CLIMB: &str = "../../../../../../victim/";

struct Site {
    repo: Arc<Mutex<RepoSim>>,
    server: SimServer,
    root: PathBuf,
    base: tempfile::TempDir,
}

impl Site {
    /// A repository whose top-level targets lists `trusted_root.json` and delegates `npm/*`
    /// to a role named `npm` (the attacker holds its key), and a victim's files beside the
    /// mirror directory.
    fn new() -> Site {
        let mut repo = RepoSim::new(chrono::Utc::now());
        repo.add_target("targets", "trusted_root.json", b"{\"the\": \"real trust root\"}");
        repo.add_delegation("targets", DelegatedRoleSpec::new("npm", &["npm/*"]));
        repo.add_target("npm", "npm/pkg.tgz", b"a package");
        repo.publish();
        let base = tempfile::tempdir().unwrap();
        let root = base.path().join("root.json");
        std::fs::write(&root, repo.root_bytes(1).unwrap()).unwrap();
        let victim = base.path().join("victim");
        std::fs::create_dir_all(victim.join(".ssh")).unwrap();
        std::fs::write(victim.join(".ssh/authorized_keys"), b"ssh-ed25519 AAAA the owner").unwrap();
        std::fs::write(victim.join(".bashrc"), b"# the owner's shell").unwrap();
        let repo = Arc::new(Mutex::new(repo));
        let server = SimServer::start(repo.clone());
        Site {
            repo,
            server,
            root,
            base,
        }
    }

    fn mirror(&self) -> PathBuf {
        self.base.path().join("mirror")
    }

    fn victim(&self) -> PathBuf {
        self.base.path().join("victim")
    }

    fn sync(&self) -> Output {
        Command::new(env!("CARGO_BIN_EXE_trustroot"))
            .args(["mirror", "sync"])
            .arg(self.mirror())
            .args(["--from", &self.server.metadata_url()])
            .args(["--targets-from", &self.server.targets_url()])
            .arg("--root")
            .arg(&self.root)
            .args(["--jobs", "1", "--json"])
            .output()
            .unwrap()
    }

    /// The attacker (the npm delegation's signer) lists `npm/<name>` with a real sha256
    /// and a sha512 that climbs out of the mirror.
    fn publish_hostile(&self, name: &str, bytes: &[u8]) {
        let mut repo = self.repo.lock().unwrap();
        repo.add_target_with(
            "npm",
            &format!("npm/{name}"),
            bytes,
            TargetHashes::Listed(vec![("sha512".into(), CLIMB.into())]),
        );
        repo.publish();
    }

    fn assert_victim_untouched(&self) {
        let victim = self.victim();
        assert_eq!(std::fs::read(victim.join(".bashrc")).unwrap(), b"# the owner's shell");
        assert_eq!(
            std::fs::read(victim.join(".ssh/authorized_keys")).unwrap(),
            b"ssh-ed25519 AAAA the owner"
        );
        assert_eq!(
            std::fs::read_dir(&victim).unwrap().count(),
            2,
            "nothing was added beside the victim's files"
        );
    }

    fn served(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.mirror().join("repository").join(path)).ok()
    }
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

fn served_target(site: &Site, path: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    let digest = trustroot_core::hashes::sha256_hex(bytes);
    let (dir, base) = path.rsplit_once('/').map_or(("", path), |(d, b)| (d, b));
    let name = if dir.is_empty() {
        format!("targets/{digest}.{base}")
    } else {
        format!("targets/{dir}/{digest}.{base}")
    };
    site.served(&name)
}

fn skipped_paths(out: &Output) -> Vec<String> {
    json(out)["skipped"]
        .as_array()
        .unwrap_or_else(|| panic!("no 'skipped' list: {}", text(out)))
        .iter()
        .map(|s| s["target"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_hostile_sha512_path_in_a_resync_cannot_overwrite_a_file_outside_the_mirror() {
    let site = Site::new();
    // The first sync mirrors `npm/bashrc` listed with its sha256 only.
    {
        let mut repo = site.repo.lock().unwrap();
        repo.add_target("npm", "npm/bashrc", b"echo pwned");
        repo.publish();
    }
    let first = site.sync();
    assert!(first.status.success(), "{}", text(&first));

    // Then its signer adds a sha512 whose "digest" climbs to ../victim/: the sha256 name is
    // reused, and the sha512 name would be linked over the victim's .bashrc.
    site.publish_hostile("bashrc", b"echo pwned");
    let second = site.sync();
    site.assert_victim_untouched();
    assert!(
        second.status.code() == Some(1),
        "a sync that skipped a target says so with exit 1: {}",
        text(&second)
    );
    assert_eq!(skipped_paths(&second), ["npm/bashrc"], "{}", text(&second));
    let report = text(&second);
    assert!(report.contains("sha512") && report.contains("npm/bashrc"), "{report}");
    // Everything else is still mirrored from the new metadata.
    assert_eq!(
        served_target(&site, "trusted_root.json", b"{\"the\": \"real trust root\"}").unwrap(),
        b"{\"the\": \"real trust root\"}"
    );
    assert_eq!(served_target(&site, "npm/pkg.tgz", b"a package").unwrap(), b"a package");
}

#[test]
fn a_hostile_sha512_path_in_a_new_mirror_cannot_make_a_resumed_sync_delete_a_directory_outside_it() {
    let site = Site::new();
    site.publish_hostile("ssh", b"not a key");
    // A new mirror, twice: the second run resumes whatever the first left in staging. The
    // victim is checked after each run, before anything else.
    let runs: Vec<Output> = (0..2)
        .map(|_| {
            let out = site.sync();
            site.assert_victim_untouched();
            out
        })
        .collect();
    for (run, out) in runs.iter().enumerate() {
        assert_eq!(out.status.code(), Some(1), "run {run}: {}", text(out));
        assert_eq!(skipped_paths(out), ["npm/ssh"], "run {run}: {}", text(out));
    }
    assert_eq!(
        served_target(&site, "trusted_root.json", b"{\"the\": \"real trust root\"}").unwrap(),
        b"{\"the\": \"real trust root\"}"
    );
}

#[test]
fn one_role_listing_names_a_mirror_cannot_store_does_not_freeze_the_other_targets() {
    let site = Site::new();
    // First a good state, so the test also shows the new one replaces it.
    let first = site.sync();
    assert!(first.status.success(), "{}", text(&first));
    let long = format!("npm/{}", "x".repeat(200));
    {
        let mut repo = site.repo.lock().unwrap();
        // `npm/..` and a backslash are names no directory can hold safely; a 200-byte
        // segment passes the file-name limit alone, not with the 129-byte sha512 prefix.
        repo.add_target("npm", "npm/..", b"dot dot");
        repo.add_target("npm", "npm/a\\b", b"backslash");
        repo.add_target_with("npm", &long, b"long", TargetHashes::Both);
        repo.add_target("targets", "trusted_root.json", b"{\"the\": \"next trust root\"}");
        repo.publish();
    }
    let out = site.sync();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let mut skipped = skipped_paths(&out);
    skipped.sort();
    assert_eq!(skipped, ["npm/..", "npm/a\\b", long.as_str()], "{}", text(&out));
    // The trust root moved on all the same.
    assert_eq!(
        served_target(&site, "trusted_root.json", b"{\"the\": \"next trust root\"}").unwrap(),
        b"{\"the\": \"next trust root\"}"
    );
    assert_eq!(served_target(&site, "npm/pkg.tgz", b"a package").unwrap(), b"a package");
    // Without --json, the report names each skipped target and why; the exit status is
    // the same.
    let plain = Command::new(env!("CARGO_BIN_EXE_trustroot"))
        .args(["mirror", "sync"])
        .arg(site.mirror())
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(1), "{}", text(&plain));
    let report = text(&plain);
    for name in ["npm/..", "npm/a\\\\b", "file name"] {
        assert!(report.contains(name), "{name} missing from: {report}");
    }
}

#[test]
fn a_file_and_directory_clash_without_consistent_snapshots_skips_only_the_clashing_targets() {
    let mut repo = RepoSim::new(chrono::Utc::now());
    repo.set_consistent_snapshot(false);
    repo.add_target("targets", "trusted_root.json", b"{}");
    repo.add_delegation("targets", DelegatedRoleSpec::new("npm", &["npm/*", "npm/*/*"]));
    repo.add_target("npm", "npm/a", b"a file");
    repo.add_target("npm", "npm/a/b", b"a file under a file");
    repo.publish();
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("root.json");
    std::fs::write(&root, repo.root_bytes(1).unwrap()).unwrap();
    let server = SimServer::start(Arc::new(Mutex::new(repo)));
    let mirror = base.path().join("mirror");
    let out = Command::new(env!("CARGO_BIN_EXE_trustroot"))
        .args(["mirror", "sync"])
        .arg(&mirror)
        .args(["--from", &server.metadata_url()])
        .args(["--targets-from", &server.targets_url(), "--root"])
        .arg(&root)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let mut skipped = skipped_paths(&out);
    skipped.sort();
    assert_eq!(skipped, ["npm/a", "npm/a/b"], "{}", text(&out));
    assert_eq!(
        std::fs::read(mirror.join("repository/targets/trusted_root.json")).unwrap(),
        b"{}"
    );
}
