//! Harness for end-to-end client tests: a simulated repository served on 127.0.0.1, a
//! client with its own metadata and target directories, and helpers to compare what the
//! client holds on disk before and after an attack.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, TimeZone as _, Utc};
use trustroot_core::{Limits, role_name};
use trustroot_mirror::{FetchConfig, Fetcher, UpdateError, Updater, UpdaterConfig};
use trustroot_test_support::{RepoSim, SimServer};
use url::Url;

/// The simulator's base time, and the reference time of every client check unless a test
/// moves it: tests never read the wall clock.
pub fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
}

/// A served repository and one client of it.
pub struct Client {
    pub server: SimServer,
    repo: Arc<Mutex<RepoSim>>,
    dir: tempfile::TempDir,
    /// Reference time of the next updater.
    pub now: DateTime<Utc>,
    pub limits: Limits,
    pub fetch: FetchConfig,
}

impl Client {
    /// Serves `repo` and initialises the client with its root version 1.
    pub fn start(repo: RepoSim) -> Client {
        Client::start_with(repo, 1, Limits::default())
    }

    /// Serves `repo` and initialises the client with its root `root_version` and `limits`.
    pub fn start_with(repo: RepoSim, root_version: u64, limits: Limits) -> Client {
        let now = repo.base();
        let root = repo
            .root_bytes(root_version)
            .unwrap_or_else(|| panic!("root v{root_version} was never published"));
        let repo = Arc::new(Mutex::new(repo));
        let server = SimServer::start(repo.clone());
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("metadata")).unwrap();
        std::fs::create_dir(dir.path().join("targets")).unwrap();
        Updater::init(&dir.path().join("metadata"), &root, now, &limits, None).unwrap();
        Client {
            server,
            repo,
            dir,
            now,
            limits,
            fetch: FetchConfig::default(),
        }
    }

    /// The directory holding `metadata/` and `targets/` (and nothing else).
    pub fn root_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn metadata_dir(&self) -> PathBuf {
        self.dir.path().join("metadata")
    }

    pub fn target_dir(&self) -> PathBuf {
        self.dir.path().join("targets")
    }

    /// The served repository (edits are visible to the next request). Do not hold the
    /// guard across an `.await`, nor while calling another method of the client (they
    /// may lock it too): bind what you need from it first.
    pub fn repo(&self) -> MutexGuard<'_, RepoSim> {
        self.repo.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new updater, as each CLI process builds one.
    pub fn updater(&self) -> Updater {
        let config = UpdaterConfig {
            metadata_dir: self.metadata_dir(),
            metadata_url: Url::parse(&self.server.metadata_url()).unwrap(),
            target_dir: Some(self.target_dir()),
            target_url: Some(Url::parse(&self.server.targets_url()).unwrap()),
            now: self.now,
            limits: self.limits.clone(),
            root_history_dir: None,
            sigstore: None,
        };
        Updater::new(config, Fetcher::new(self.fetch.clone())).unwrap()
    }

    /// Refreshes with a new updater, which is returned on success.
    pub async fn refresh(&self) -> Result<Updater, UpdateError> {
        let mut updater = self.updater();
        updater.refresh().await?;
        Ok(updater)
    }

    /// A refresh that must succeed.
    pub async fn good_refresh(&self) -> Updater {
        match self.refresh().await {
            Ok(updater) => updater,
            Err(e) => panic!("the good refresh failed: {e}"),
        }
    }

    /// A refresh that must fail; returns the error.
    pub async fn failed_refresh(&self) -> UpdateError {
        match self.refresh().await {
            Ok(updater) => {
                let t = updater.trusted();
                panic!(
                    "the attack was not noticed: refresh succeeded with timestamp v{:?}, snapshot v{:?}",
                    t.timestamp().map(|x| x.signed().common.version),
                    t.snapshot().map(|x| x.signed().common.version)
                )
            }
            Err(e) => e,
        }
    }

    /// Every file of the metadata directory (temporary files included) with its bytes.
    pub fn metadata_files(&self) -> BTreeMap<String, Vec<u8>> {
        files_in(&self.metadata_dir())
    }

    /// Every file of the target directory with its bytes.
    pub fn target_files(&self) -> BTreeMap<String, Vec<u8>> {
        files_in(&self.target_dir())
    }

    /// Asserts that the client holds exactly the bytes of `role` version `version` as the
    /// repository published them.
    pub fn assert_trusts(&self, role: &str, version: u64) {
        let want = self
            .repo()
            .role_bytes(role, version)
            .unwrap_or_else(|| panic!("{role} v{version} was never published"));
        let path = self.metadata_dir().join(role_name::metadata_file_name(role, None));
        let have = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(have == want, "{} is not {role} v{version}", path.display());
    }
}

/// Every regular file under `dir` (recursively), keyed by its path relative to `dir`.
pub fn files_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// The verification error inside `err`; fails the test for any other kind of error.
pub fn core_error(err: &UpdateError) -> &trustroot_core::Error {
    match err {
        UpdateError::Verify(e) => e,
        other => panic!("expected a verification error, got: {other} ({other:?})"),
    }
}

/// Asserts that the text of `err` contains every one of `words`.
pub fn assert_mentions(err: &impl Display, words: &[&str]) {
    let text = err.to_string();
    for word in words {
        assert!(text.contains(word), "error {text:?} does not mention {word:?}");
    }
}
