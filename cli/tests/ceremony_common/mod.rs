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
        std::fs::write(repo.join("targets/trusted_root.json"), sigstore_trusted_root()).unwrap();
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

    /// The keyholder's own copy of the published root, put in `dir` as `root.json`, and the
    /// `--root root.json` arguments of `ceremony sign`; none before anything is published.
    pub fn pin_published_root(&self, dir: &Path) -> Vec<&'static str> {
        let published = self.repo.join("metadata/root.json");
        if !published.exists() {
            return Vec::new();
        }
        std::fs::copy(published, dir.join("root.json")).unwrap();
        vec!["--root", "root.json"]
    }

    /// Signs on the air-gapped directory (checking the request against the published root
    /// the keyholder holds, once there is one); returns the signature files written.
    pub fn sign_airgapped(&self, holder: &str, request: &Path) -> Vec<PathBuf> {
        let dir = self.airgap(holder, request);
        let mut args = vec![
            "ceremony",
            "sign",
            "--request",
            "request.json",
            "--key",
            "key.pem",
            "--yes",
        ];
        args.extend(self.pin_published_root(&dir));
        ok(&dir, &args);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_str().unwrap();
                n != "request.json" && n != "key.pem" && n != "root.json"
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

/// Sigstore's real production payloads (tests/fixtures/history), valid under the payload rules.
pub fn sigstore_trusted_root() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/history/prod/2025-09-22_c9bda74a_trusted_root.json"
    ))
    .unwrap()
}

pub fn sigstore_signing_config() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/history/prod/2025-09-22_c9bda74a_signing_config.v0.2.json"
    ))
    .unwrap()
}

/// Rounds and publishes at the real time (tough, run by the gate and the interop tests,
/// reads the wall clock): every expiry is in the future.
impl Setup {
    /// A repository as [`Setup::new`], with Sigstore's real trusted_root.json as its target and
    /// the online key read from its file (outside the repository).
    pub fn for_publish() -> Setup {
        let setup = Setup::new();
        std::fs::write(setup.repo.join("targets/trusted_root.json"), sigstore_trusted_root()).unwrap();
        setup.use_online_key("online");
        setup
    }

    /// Generates a key `name` (keys/<name>.pem, outside the repository); returns its public key path.
    pub fn generate(&self, name: &str, key_type: &str) -> String {
        let out = self.keys.join(format!("{name}.pem"));
        ok(
            self.tmp.path(),
            &["key", "generate", "--type", key_type, "--out", out.to_str().unwrap()],
        );
        format!("{}.pub", out.display())
    }

    /// Adds the npm-style delegation `npm-example` (terminating, `npm-example/*`, one key
    /// `npm-delegate`, the given periods in days) and its target `npm-example/keys.json`.
    pub fn add_npm_style_delegation(&self, expiry_days: u32, signing_days: u32) {
        let public = self.generate("npm-delegate", "ecdsa-p256");
        let (expiry, signing) = (expiry_days.to_string(), signing_days.to_string());
        ok(
            &self.repo,
            &[
                "ceremony",
                "delegate",
                "npm-example",
                "--path",
                "npm-example/*",
                "--threshold",
                "1",
                "--terminating",
                "true",
                "--expiry-days",
                &expiry,
                "--signing-days",
                &signing,
            ],
        );
        ok(
            &self.repo,
            &["key", "add", "npm-delegate", "--role", "npm-example", &public],
        );
        std::fs::create_dir_all(self.repo.join("targets/npm-example")).unwrap();
        std::fs::write(self.repo.join("targets/npm-example/keys.json"), b"{\"keys\": []}\n").unwrap();
    }

    /// Points `[online] signer` at keys/<name>.pem.
    pub fn use_online_key(&self, name: &str) {
        let path = self.repo.join("trustroot.toml");
        let policy = std::fs::read_to_string(&path).unwrap();
        let start = policy.find("signer = ").unwrap();
        let end = start + policy[start..].find('\n').unwrap();
        let line = format!("signer = \"{}\"", self.keys.join(format!("{name}.pem")).display());
        std::fs::write(&path, format!("{}{}{}", &policy[..start], line, &policy[end..])).unwrap();
    }

    /// Starts a round now; returns its id.
    pub fn start_now(&self) -> String {
        self.start_now_with(&[])
    }

    /// Starts a round now with more `ceremony start` arguments; returns its id.
    pub fn start_now_with(&self, args: &[&str]) -> String {
        let mut all = vec!["ceremony", "start"];
        all.extend(args);
        let out = ok(&self.repo, &all);
        let line = out
            .lines()
            .find(|l| l.starts_with("Started round "))
            .unwrap_or_else(|| panic!("{out}"));
        line.split_whitespace().nth(2).unwrap().to_string()
    }

    /// Starts a round now and has each of `signers` sign it on their own "air-gapped"
    /// directory (only the request and their key), then brings the signatures back.
    pub fn round_now(&self, signers: &[&str]) -> String {
        self.sign_round(self.start_now(), signers)
    }

    /// [`Setup::round_now`], opening the round whatever the checks at start find.
    pub fn round_allowing_findings(&self, signers: &[&str]) -> String {
        self.sign_round(self.start_now_with(&["--allow-findings"]), signers)
    }

    /// Has each of `signers` sign `round` on their own "air-gapped" directory.
    pub fn sign_round(&self, round: String, signers: &[&str]) -> String {
        let request = self.tmp.path().join(format!("request-{round}.json"));
        ok(&self.repo, &["ceremony", "request", "--out", request.to_str().unwrap()]);
        for holder in signers {
            let dir = self.tmp.path().join(format!("airgap-{round}-{holder}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(&request, dir.join("request.json")).unwrap();
            std::fs::copy(self.key(holder), dir.join("key.pem")).unwrap();
            let mut args = vec![
                "ceremony",
                "sign",
                "--request",
                "request.json",
                "--key",
                "key.pem",
                "--yes",
            ];
            args.extend(self.pin_published_root(&dir));
            ok(&dir, &args);
            let files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    let n = p.file_name().unwrap().to_str().unwrap();
                    n != "request.json" && n != "key.pem" && n != "root.json"
                })
                .collect();
            self.add(&files);
        }
        round
    }

    /// `ceremony publish`; returns its output.
    pub fn publish(&self) -> String {
        ok(&self.repo, &["ceremony", "publish"])
    }

    /// What clients are served: DEST/repository.
    pub fn served(&self) -> PathBuf {
        self.repo.join("public/repository")
    }

    /// Every target path listed under the signing repository's targets/.
    pub fn target_names(&self) -> Vec<String> {
        fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name().to_str().unwrap().to_string();
                if name.starts_with('.') {
                    continue;
                }
                let rel = if prefix.is_empty() {
                    name.clone()
                } else {
                    format!("{prefix}/{name}")
                };
                if entry.path().is_dir() {
                    walk(&entry.path(), &rel, out);
                } else {
                    out.push(rel);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.repo.join("targets"), "", &mut out);
        out.sort();
        out
    }
}
