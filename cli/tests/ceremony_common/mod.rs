//! Helpers for the ceremony binary tests: a signing repository with three keyholders.
#![allow(clippy::unwrap_used, clippy::panic, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest as _, Sha256};

pub const AT: &str = "2030-01-01T00:00:00Z";

pub fn trustroot(dir: &Path, args: &[&str]) -> Output {
    trustroot_env(dir, args, &[])
}

pub fn trustroot_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trustroot"));
    cmd.current_dir(dir).args(args).stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = trustroot(dir, args);
    assert!(
        out.status.success(),
        "trustroot {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must fail; returns stderr.
pub fn fails(dir: &Path, args: &[&str]) -> String {
    let out = trustroot(dir, args);
    assert!(
        !out.status.success(),
        "trustroot {args:?} succeeded:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

/// A hash of every file (path and contents) under `dir`.
pub fn tree_hash(dir: &Path) -> String {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                let rel = path.strip_prefix(base).unwrap().display().to_string();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    let mut hasher = Sha256::new();
    for (name, bytes) in files {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(Sha256::digest(&bytes));
    }
    hex::encode(hasher.finalize())
}

/// A signing repository with keyholders alice, bob, carol (2-of-3 root and targets),
/// an online key, one target file, and a started round with a request file.
pub struct Setup {
    pub tmp: tempfile::TempDir,
    pub repo: PathBuf,
    pub keys: PathBuf,
}

pub const HOLDERS: [&str; 3] = ["alice", "bob", "carol"];

impl Setup {
    pub fn new() -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let keys = tmp.path().join("keys");
        std::fs::create_dir_all(&keys).unwrap();
        ok(tmp.path(), &["init", "repo"]);
        for (i, name) in HOLDERS.iter().enumerate() {
            let key_type = if i == 1 { "ed25519" } else { "ecdsa-p256" };
            let out = keys.join(format!("{name}.pem"));
            ok(
                tmp.path(),
                &["key", "generate", "--type", key_type, "--out", out.to_str().unwrap()],
            );
            let public = format!("{}.pub", out.display());
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
                        &public,
                    ],
                );
            }
        }
        let online = keys.join("online.pem");
        ok(
            tmp.path(),
            &[
                "key",
                "generate",
                "--type",
                "ecdsa-p256",
                "--out",
                online.to_str().unwrap(),
            ],
        );
        ok(
            &repo,
            &[
                "key",
                "add",
                "online",
                "--role",
                "online",
                &format!("{}.pub", online.display()),
            ],
        );
        let policy = std::fs::read_to_string(repo.join("trustroot.toml")).unwrap();
        let policy = policy.replace("threshold = 1\nexpiry_days = 197", "threshold = 2\nexpiry_days = 197");
        let policy = policy.replace("threshold = 1\nexpiry_days = 3650", "threshold = 2\nexpiry_days = 3650");
        std::fs::write(repo.join("trustroot.toml"), policy).unwrap();
        std::fs::write(repo.join("targets/trusted_root.json"), b"{\"mediaType\": \"test\"}").unwrap();
        Setup { tmp, repo, keys }
    }

    pub fn key(&self, name: &str) -> String {
        self.keys.join(format!("{name}.pem")).display().to_string()
    }

    pub fn start(&self) -> String {
        ok(&self.repo, &["ceremony", "start", "--at", AT])
    }

    pub fn request(&self, name: &str) -> PathBuf {
        let path = self.tmp.path().join(name);
        ok(
            &self.repo,
            &["ceremony", "request", "--out", path.to_str().unwrap(), "--at", AT],
        );
        path
    }

    /// A directory holding only the request and `holder`'s key, as an air-gapped machine.
    pub fn airgap(&self, holder: &str, request: &Path) -> PathBuf {
        let dir = self.tmp.path().join(format!("airgap-{holder}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(request, dir.join("request.json")).unwrap();
        std::fs::copy(self.key(holder), dir.join("key.pem")).unwrap();
        dir
    }

    /// Signs on the air-gapped directory; returns the signature files written.
    pub fn sign_airgapped(&self, holder: &str, request: &Path) -> Vec<PathBuf> {
        let dir = self.airgap(holder, request);
        ok(
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
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_str().unwrap();
                n != "request.json" && n != "key.pem"
            })
            .collect();
        files.sort();
        files
    }

    pub fn add(&self, files: &[PathBuf]) -> String {
        let mut args = vec!["ceremony", "add-signature"];
        let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        args.extend(names.iter().map(String::as_str));
        ok(&self.repo, &args)
    }

    pub fn status_json(&self) -> serde_json::Value {
        serde_json::from_str(&ok(&self.repo, &["ceremony", "status", "--json"])).unwrap()
    }

    pub fn round_dir(&self) -> PathBuf {
        self.repo.join("ceremonies/0001")
    }
}

/// (valid, required) per role and threshold, from `status --json`.
pub fn counts(status: &serde_json::Value) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    for role in status["roles"].as_array().unwrap() {
        for t in role["thresholds"].as_array().unwrap() {
            out.push((
                role["role"].as_str().unwrap().to_string(),
                t["valid"].as_u64().unwrap(),
                t["required"].as_u64().unwrap(),
            ));
        }
    }
    out
}
