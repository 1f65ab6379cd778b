//! The updater: the TUF client workflow around trustroot-core's [`TrustedSet`], fetching
//! with a [`Fetcher`] and keeping trusted metadata in a directory.
//!
//! The metadata directory holds `root.json`, `timestamp.json`, `snapshot.json`,
//! `targets.json` and `<encoded role>.json` for delegated roles: exactly the bytes that
//! were verified, each written atomically as soon as it is trusted. Downloaded targets are
//! stored in the target directory under their percent-encoded path, one flat file each,
//! moved into place only after their length and hashes are checked.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use std::collections::VecDeque;

use tokio::task::JoinHandle;
use trustroot_core::keyless::SigstoreTrust;
use trustroot_core::{
    ClientWalk, Goal, Keep, Limits, Need, Source, Step, TargetFile, TargetPath, TrustedSet, role_name, target_path,
};
use trustroot_store::Durability;
use url::Url;

use crate::error::{FetchError, Task, UpdateError};
use crate::fetch::Fetcher;

/// `signed.version` of a metadata document, every other field skipped while parsing (a
/// targets role of 100,000 entries read as a JSON value would cost hundreds of MB); `None`
/// when the document does not have one.
pub(crate) fn signed_version(bytes: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        signed: Signed,
    }
    #[derive(serde::Deserialize)]
    struct Signed {
        version: u64,
    }
    serde_json::from_slice::<Envelope>(bytes).ok().map(|e| e.signed.version)
}

/// Where the updater keeps its state and where it fetches from.
#[derive(Debug, Clone)]
pub struct UpdaterConfig {
    /// Directory of trusted metadata; must hold `root.json` (see [`Updater::init`]).
    pub metadata_dir: PathBuf,
    /// Base URL of the repository's metadata (a trailing `/` is added if missing).
    pub metadata_url: Url,
    /// Directory for downloaded targets.
    pub target_dir: Option<PathBuf>,
    /// Base URL of the repository's targets.
    pub target_url: Option<Url>,
    /// The reference time for every expiry check.
    pub now: DateTime<Utc>,
    pub limits: Limits,
    /// When set, every root version accepted is also written here as `N.root.json`
    /// (before `root.json` moves on), so a mirror can publish the whole chain.
    pub root_history_dir: Option<PathBuf>,
    /// The Sigstore trust material keyless (`sigstore-oidc`) keys are checked against,
    /// pinned by the caller, never taken from the repository; none: keyless keys are
    /// unusable, and the threshold error says so.
    pub sigstore: Option<Arc<SigstoreTrust>>,
}

/// A TUF client bound to one metadata directory and one repository: the I/O around
/// trustroot-core's [`ClientWalk`].
pub struct Updater {
    config: UpdaterConfig,
    fetcher: Fetcher,
    walk: ClientWalk,
    /// Deferred when the caller makes the metadata directory durable itself (a mirror
    /// sync syncs its whole `staging/` once before switching to it).
    durability: Durability,
    /// Root versions fetched at once while walking a root chain (1: one at a time).
    roots_ahead: usize,
    /// Metadata files fetched from the repository and checked, and their bytes.
    fetched: (u64, u64),
    /// The bytes of `timestamp.json` as the repository last served them (kept or not: an
    /// equal version keeps the trusted copy, which may differ).
    remote_timestamp: Option<Vec<u8>>,
}

/// One root version being fetched.
type RootFetch = JoinHandle<Result<Vec<u8>, FetchError>>;

/// Root fetches under way, in version order; aborted when the walk ends.
#[derive(Default)]
struct RootsAhead {
    tasks: VecDeque<(u64, RootFetch)>,
    /// The next version to request.
    next: u64,
}

impl Drop for RootsAhead {
    fn drop(&mut self) {
        for (_, task) in &self.tasks {
            task.abort();
        }
    }
}

/// Makes sure a base URL ends with `/`, so file names append to it.
pub fn base_url(url: &Url) -> Url {
    let mut url = url.clone();
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

pub(crate) fn join(base: &Url, relative: &str) -> Result<Url, UpdateError> {
    Url::parse(&format!("{}{relative}", base.as_str())).map_err(|source| UpdateError::UrlFromName {
        base: base.to_string(),
        relative: relative.to_string(),
        source,
    })
}

/// Percent-encodes a target path for a URL, segment by segment (the `/` stay).
pub(crate) fn encode_target_path(path: &str) -> String {
    use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
    const SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}');
    path.split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

impl Updater {
    /// Sets up local trust in `metadata_dir` from a root file, without any network
    /// access. The root must be signed by a threshold of its own keys (it may be expired:
    /// the next refresh walks to the newest root).
    pub fn init(
        metadata_dir: &Path,
        root_bytes: &[u8],
        now: DateTime<Utc>,
        limits: &Limits,
        sigstore: Option<Arc<SigstoreTrust>>,
    ) -> Result<(), UpdateError> {
        TrustedSet::with_keyless(root_bytes, now, limits.clone(), sigstore)?;
        Ok(trustroot_store::write_atomic(
            &metadata_dir.join("root.json"),
            root_bytes,
        )?)
    }

    /// Loads the trusted root from the metadata directory. Nothing is fetched: a missing,
    /// malformed or unsigned local root fails here, before any request.
    pub fn new(config: UpdaterConfig, fetcher: Fetcher) -> Result<Self, UpdateError> {
        let root_path = config.metadata_dir.join("root.json");
        let root = std::fs::read(&root_path).map_err(|e| UpdateError::io(&root_path, e))?;
        let trusted = TrustedSet::with_keyless(&root, config.now, config.limits.clone(), config.sigstore.clone())?;
        let config = UpdaterConfig {
            metadata_url: base_url(&config.metadata_url),
            target_url: config.target_url.as_ref().map(base_url),
            ..config
        };
        Ok(Updater {
            config,
            fetcher,
            walk: ClientWalk::new(trusted, true),
            durability: Durability::Synced,
            roots_ahead: 1,
            fetched: (0, 0),
            remote_timestamp: None,
        })
    }

    /// Writes metadata without syncing each file: for a metadata directory the caller
    /// makes durable as a whole before relying on it. Each file is still replaced
    /// atomically.
    pub fn defer_durability(&mut self) {
        self.durability = Durability::Deferred;
    }

    /// Once a new root version exists, fetches up to `window` versions of a root chain at
    /// once (each is still verified against the one before, in order). After the last
    /// version, up to `window` requests more than needed are made (and answered 404),
    /// so clients whose requests are counted (the conformance suite) keep the default of 1.
    pub fn fetch_roots_ahead(&mut self, window: usize) {
        self.roots_ahead = window.max(1);
    }

    /// The metadata trusted so far.
    /// How many metadata files this updater fetched from the repository (each one
    /// checked, kept or not), and their bytes.
    pub fn metadata_fetched(&self) -> (u64, u64) {
        self.fetched
    }

    pub fn trusted(&self) -> &TrustedSet {
        self.walk.trusted()
    }

    /// Spec 5.3-5.6 for the top-level roles: newest root, timestamp, snapshot, targets.
    /// What is accepted is persisted at once, so a later failure keeps earlier progress.
    pub async fn refresh(&mut self) -> Result<(), UpdateError> {
        self.run(Goal::TopLevel).await.map(drop)
    }

    /// Spec 5.3-5.4 only: the newest root, then the timestamp; stops before the snapshot.
    /// A later [`Self::load_all_targets`] or [`Self::refresh`] goes on from there. A mirror
    /// uses it to see whether the repository changed at all before it loads anything else.
    pub async fn refresh_timestamp(&mut self) -> Result<(), UpdateError> {
        self.run_until(Goal::TopLevel, Some("snapshot")).await.map(drop)
    }

    /// Spec 5.3-5.5: [`Self::refresh_timestamp`], then the snapshot; stops before the
    /// top-level targets. A mirror compares the snapshot with what it serves before it
    /// reads any targets role.
    pub async fn refresh_snapshot(&mut self) -> Result<(), UpdateError> {
        self.run_until(Goal::TopLevel, Some("targets")).await.map(drop)
    }

    /// The bytes of `timestamp.json` as the repository served them in this walk, if it
    /// was fetched.
    pub fn remote_timestamp(&self) -> Option<&[u8]> {
        self.remote_timestamp.as_deref()
    }

    /// Loads every targets role the repository delegates to, depth first from the
    /// top-level targets (what a mirror must hold). Roles reached twice are verified
    /// against each delegator; at most [`Limits::max_mirrored_roles`] roles are loaded.
    pub async fn load_all_targets(&mut self) -> Result<(), UpdateError> {
        self.run(Goal::Everything).await.map(drop)
    }

    /// Drives the walk to `goal`: each need answered from the metadata directory or the
    /// repository, each newly trusted file persisted.
    async fn run(&mut self, goal: Goal) -> Result<Step, UpdateError> {
        self.run_until(goal, None).await
    }

    /// [`Self::run`], stopping early (with [`Step::Done`]) when the walk first needs the
    /// role `stop_before`; starting a goal again resumes the walk there.
    async fn run_until(&mut self, goal: Goal, stop_before: Option<&str>) -> Result<Step, UpdateError> {
        self.walk.start(goal);
        let mut roots = RootsAhead::default();
        // Without per-file durability (a mirror's staging), `root.json` is replaced once, by
        // the last root accepted, not once per version.
        let mut unpersisted_root = None;
        let result = self.drive(&mut roots, &mut unpersisted_root, stop_before).await;
        drop(roots);
        if let Some(bytes) = unpersisted_root {
            self.persist("root", &bytes)?;
        }
        result
    }

    async fn drive(
        &mut self,
        roots: &mut RootsAhead,
        unpersisted_root: &mut Option<Vec<u8>>,
        stop_before: Option<&str>,
    ) -> Result<Step, UpdateError> {
        loop {
            let need = match self.walk.next_step()? {
                Step::Need(need) => need,
                end => return Ok(end),
            };
            if stop_before == Some(need.role.as_str()) {
                return Ok(Step::Done);
            }
            let bytes = match (need.source, need.role.as_str()) {
                (Source::Cache, _) => self.local(&need)?,
                (Source::Remote, "root") => self.fetch_root(&need, roots).await?,
                (Source::Remote, _) => Some(self.fetch_metadata(&need).await?),
            };
            if let (Source::Remote, Some(fetched)) = (need.source, &bytes) {
                self.fetched.0 += 1;
                self.fetched.1 += fetched.len() as u64;
                if need.role == "timestamp" {
                    self.remote_timestamp = Some(fetched.clone());
                }
            }
            if self.walk.answer(bytes.as_deref())? == Keep::Nothing {
                continue;
            }
            let Some(bytes) = bytes else { continue };
            if need.role == "root" {
                let version = self.walk.trusted().root().signed().common.version;
                if let Some(dir) = &self.config.root_history_dir {
                    trustroot_store::write_replacing(
                        &dir.join(format!("{version}.root.json")),
                        &bytes,
                        self.durability,
                    )?;
                }
                if self.durability == Durability::Deferred {
                    *unpersisted_root = Some(bytes);
                    continue;
                }
            }
            self.persist(&need.role, &bytes)?;
        }
    }

    fn local(&self, need: &Need) -> Result<Option<Vec<u8>>, UpdateError> {
        let bytes = trustroot_store::read_optional(&self.config.metadata_dir.join(need.file_name()))?;
        Ok(bytes.filter(|bytes| !self.stale_targets_copy(need, bytes)))
    }

    /// True when `bytes`, the local copy of a targets role, is plainly not the version the
    /// trusted snapshot names: core would verify it in full only to refuse it (spec 5.6.4),
    /// which for a role of 100,000 entries is most of a sync's time. Only the version is
    /// read (every other field skipped); anything unreadable goes to core, which decides.
    fn stale_targets_copy(&self, need: &Need, bytes: &[u8]) -> bool {
        if need.delegator.is_none() {
            return false;
        }
        let Some(listed) = self
            .walk
            .trusted()
            .snapshot()
            .and_then(|snapshot| snapshot.signed().meta.get(&format!("{}.json", need.role)))
        else {
            return false;
        };
        signed_version(bytes).is_some_and(|version| version != listed.version)
    }

    fn persist(&self, role: &str, bytes: &[u8]) -> Result<(), UpdateError> {
        Ok(trustroot_store::write_replacing(
            &self.config.metadata_dir.join(role_name::metadata_file_name(role, None)),
            bytes,
            self.durability,
        )?)
    }

    async fn fetch_metadata(&self, need: &Need) -> Result<Vec<u8>, UpdateError> {
        let url = join(&self.config.metadata_url, &need.file_name())?;
        Ok(self.fetcher.fetch(&url, need.max_length).await?)
    }

    /// Spec 5.3: the next root version, `None` at the end of the chain. Once a first new
    /// version exists, fetches run ahead of verification (never past the rotation limit).
    async fn fetch_root(&self, need: &Need, roots: &mut RootsAhead) -> Result<Option<Vec<u8>>, UpdateError> {
        let version = need.version.unwrap_or(0);
        if roots.tasks.front().is_some_and(|(v, _)| *v != version) {
            *roots = RootsAhead::default();
        }
        if roots.tasks.is_empty() {
            roots.next = version;
        }
        let trusted = self.walk.trusted();
        // One probe past the rotation limit, so a longer chain is reported, not ignored.
        let first = trusted.root().signed().common.version - u64::from(trusted.root_updates()) + 1;
        let last = first.saturating_add(u64::from(trusted.limits().max_root_rotations));
        let window = if trusted.root_updates() == 0 {
            1
        } else {
            self.roots_ahead
        };
        while roots.tasks.len() < window && roots.next <= last.max(version) {
            let url = join(
                &self.config.metadata_url,
                &role_name::metadata_file_name("root", Some(roots.next)),
            )?;
            let fetcher = self.fetcher.clone();
            let max = need.max_length;
            let task = tokio::spawn(async move { fetcher.fetch(&url, max).await });
            roots.tasks.push_back((roots.next, task));
            roots.next += 1;
        }
        let Some((_, task)) = roots.tasks.pop_front() else {
            return Ok(None);
        };
        let fetched = task.await.map_err(|source| UpdateError::TaskFailed {
            task: Task::RootFetch,
            source,
        })?;
        match fetched {
            Ok(bytes) => Ok(Some(bytes)),
            Err(FetchError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Finds the trusted description of `target` (spec 5.6.7), loading delegated roles as
    /// the search needs them (after the top-level roles, if this updater has not loaded them).
    pub async fn target_info(&mut self, target: &str) -> Result<TargetFile, UpdateError> {
        let path = TargetPath::parse(target)?;
        match self.run(Goal::Target(path)).await? {
            Step::Found(found) => {
                target_path::check_usable(target, &found.hashes)?;
                Ok(found)
            }
            _ => Err(UpdateError::TargetNotFound {
                target: target.to_string(),
            }),
        }
    }

    /// Where a target is stored in the target directory: one flat file named by the
    /// percent-encoded target path, so no name can escape the directory.
    pub fn target_file(&self, target: &str) -> Result<PathBuf, UpdateError> {
        let dir = self.config.target_dir.as_ref().ok_or(UpdateError::NoTargetDir)?;
        Ok(dir.join(role_name::encode(target)))
    }

    /// True when the stored copy of `target` matches its trusted length and hashes.
    pub fn is_cached(&self, target: &str, info: &TargetFile) -> Result<bool, UpdateError> {
        let path = self.target_file(target)?;
        if !path.exists() {
            return Ok(false);
        }
        crate::download::file_matches(&path, target, info)
    }

    /// Downloads `target`, checking length and hashes while streaming into a hidden
    /// temporary file, which replaces the stored copy only once verified.
    pub async fn download_target(&self, target: &str, info: &TargetFile) -> Result<PathBuf, UpdateError> {
        target_path::validate(target)?;
        target_path::check_usable(target, &info.hashes)?;
        let base = self.config.target_url.as_ref().ok_or(UpdateError::NoTargetUrl)?;
        let relative = if self.walk.trusted().consistent_snapshot() {
            let digest = preferred_hash(info).ok_or_else(|| {
                trustroot_core::Error::new(
                    target,
                    trustroot_core::ErrorKind::NoSupportedHash {
                        algorithms: info.hashes.keys().cloned().collect(),
                    },
                )
            })?;
            target_path::consistent_name(target, digest)
        } else {
            target.to_string()
        };
        let url = join(base, &encode_target_path(&relative))?;
        let destination = self.target_file(target)?;
        crate::download::download_verified(&self.fetcher, &url, target, info, &destination).await?;
        Ok(destination)
    }
}

/// The hash a consistent-snapshot target is published under: sha256 when listed (what
/// every current publisher writes), else sha512.
pub(crate) fn preferred_hash(info: &TargetFile) -> Option<&str> {
    preferred_hash_of(|algorithm| info.hashes.get(algorithm).map(String::as_str))
}

/// [`preferred_hash`] of a target whose digests `listed` gives by algorithm name.
pub(crate) fn preferred_hash_of<'a>(listed: impl Fn(&str) -> Option<&'a str>) -> Option<&'a str> {
    ["sha256", "sha512"]
        .iter()
        .find_map(|alg| listed(alg).filter(|digest| target_path::is_hex_digest(alg, digest)))
}
