//! The updater: the TUF client workflow around trustroot-core's [`TrustedSet`], fetching
//! with a [`Fetcher`] and keeping trusted metadata in a directory.
//!
//! The metadata directory holds `root.json`, `timestamp.json`, `snapshot.json`,
//! `targets.json` and `<encoded role>.json` for delegated roles: exactly the bytes that
//! were verified, each written atomically as soon as it is trusted. Downloaded targets are
//! stored in the target directory under their percent-encoded path, one flat file each,
//! moved into place only after their length and hashes are checked.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use trustroot_core::display::escape;
use trustroot_core::{Limits, TargetFile, TargetSearch, TimestampUpdate, TrustedSet, role_name, target_path};
use url::Url;

use crate::error::{FetchError, UpdateError};
use crate::fetch::Fetcher;
use crate::store::{read_optional, write_atomic, write_replacing};

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
}

/// A TUF client bound to one metadata directory and one repository.
pub struct Updater {
    config: UpdaterConfig,
    fetcher: Fetcher,
    trusted: TrustedSet,
    refreshed: bool,
    /// Delegation edges (role, delegator) already verified, so a role reached again is
    /// not re-verified for every target looked up.
    verified_edges: std::collections::HashSet<(String, String)>,
    /// False when the caller makes the metadata directory durable itself (a mirror sync
    /// syncs its whole `staging/` once before switching to it).
    durable: bool,
    /// Root versions fetched at once while walking a root chain (1: one at a time).
    roots_ahead: usize,
}

/// Root fetches under way, in version order; aborted when the walk ends.
#[derive(Default)]
struct RootsAhead(std::collections::VecDeque<tokio::task::JoinHandle<Result<Vec<u8>, FetchError>>>);

impl Drop for RootsAhead {
    fn drop(&mut self) {
        for task in &self.0 {
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
    Url::parse(&format!("{}{relative}", base.as_str()))
        .map_err(|e| UpdateError::Config(format!("cannot form a URL from {base} and {}: {e}", escape(relative))))
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
    ) -> Result<(), UpdateError> {
        TrustedSet::new(root_bytes, now, limits.clone())?;
        write_atomic(metadata_dir, "root.json", root_bytes)
    }

    /// Loads the trusted root from the metadata directory. Nothing is fetched: a missing,
    /// malformed or unsigned local root fails here, before any request.
    pub fn new(config: UpdaterConfig, fetcher: Fetcher) -> Result<Self, UpdateError> {
        let root_path = config.metadata_dir.join("root.json");
        let root = std::fs::read(&root_path).map_err(|e| UpdateError::io(&root_path, e))?;
        let trusted = TrustedSet::new(&root, config.now, config.limits.clone())?;
        let config = UpdaterConfig {
            metadata_url: base_url(&config.metadata_url),
            target_url: config.target_url.as_ref().map(base_url),
            ..config
        };
        Ok(Updater {
            config,
            fetcher,
            trusted,
            refreshed: false,
            verified_edges: Default::default(),
            durable: true,
            roots_ahead: 1,
        })
    }

    /// Writes metadata without syncing each file: for a metadata directory the caller
    /// makes durable as a whole before relying on it. Each file is still replaced
    /// atomically.
    pub fn defer_durability(&mut self) {
        self.durable = false;
    }

    /// Once a new root version exists, fetches up to `window` versions of a root chain at
    /// once (each is still verified against the one before, in order). After the last
    /// version, up to `window` requests more than needed are made (and answered 404),
    /// so clients whose requests are counted (the conformance suite) keep the default of 1.
    pub fn fetch_roots_ahead(&mut self, window: usize) {
        self.roots_ahead = window.max(1);
    }

    /// The metadata trusted so far.
    pub fn trusted(&self) -> &TrustedSet {
        &self.trusted
    }

    /// Spec 5.3-5.6 for the top-level roles: newest root, timestamp, snapshot, targets.
    /// What is accepted is persisted at once, so a later failure keeps earlier progress.
    pub async fn refresh(&mut self) -> Result<(), UpdateError> {
        self.refreshed = true;
        self.load_root().await?;
        self.load_timestamp().await?;
        self.load_snapshot().await?;
        self.load_targets("targets", "root").await?;
        Ok(())
    }

    fn local(&self, role: &str) -> Result<Option<Vec<u8>>, UpdateError> {
        read_optional(&self.config.metadata_dir.join(role_name::metadata_file_name(role, None)))
    }

    fn persist(&self, role: &str, bytes: &[u8]) -> Result<(), UpdateError> {
        write_replacing(
            &self.config.metadata_dir,
            &role_name::metadata_file_name(role, None),
            bytes,
            self.durable,
        )
    }

    async fn fetch_metadata(&self, role: &str, version: Option<u64>, max_len: u64) -> Result<Vec<u8>, UpdateError> {
        let url = join(&self.config.metadata_url, &role_name::metadata_file_name(role, version))?;
        Ok(self.fetcher.fetch(&url, max_len).await?)
    }

    /// Spec 5.3: fetch `N+1.root.json` until there is none.
    async fn load_root(&mut self) -> Result<(), UpdateError> {
        // Without per-file durability (a mirror's staging), `root.json` is replaced once, by
        // the last root accepted, not once per version.
        let mut unpersisted = None;
        let result = self.walk_roots(&mut unpersisted).await;
        if let Some(bytes) = unpersisted {
            self.persist("root", &bytes)?;
        }
        result
    }

    async fn walk_roots(&mut self, unpersisted: &mut Option<Vec<u8>>) -> Result<(), UpdateError> {
        let limits = self.trusted.limits().clone();
        let first = self.trusted.root().signed.common.version + 1;
        // One probe past the rotation limit, so a longer chain is reported, not ignored.
        let last = first.saturating_add(u64::from(limits.max_root_rotations));
        // Fetches run ahead of verification (never past the limit) once a first new
        // version exists; each root is still verified against the one before, in order.
        let mut ahead = RootsAhead::default();
        let mut next_request = first;
        let mut window = 1;
        loop {
            while ahead.0.len() < window && next_request <= last {
                let url = join(
                    &self.config.metadata_url,
                    &role_name::metadata_file_name("root", Some(next_request)),
                )?;
                let fetcher = self.fetcher.clone();
                let max = limits.max_root_size;
                ahead
                    .0
                    .push_back(tokio::spawn(async move { fetcher.fetch(&url, max).await }));
                next_request += 1;
            }
            let Some(task) = ahead.0.pop_front() else {
                return Ok(());
            };
            let fetched = task
                .await
                .map_err(|e| UpdateError::Config(format!("a root fetch failed: {e}")))?;
            let bytes = match fetched {
                Ok(bytes) => bytes,
                Err(FetchError::NotFound { .. }) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            self.trusted.update_root(&bytes)?;
            let version = self.trusted.root().signed.common.version;
            if let Some(dir) = &self.config.root_history_dir {
                write_replacing(dir, &format!("{version}.root.json"), &bytes, self.durable)?;
            }
            if self.durable {
                self.persist("root", &bytes)?;
            } else {
                *unpersisted = Some(bytes);
            }
            window = self.roots_ahead;
        }
    }

    /// Spec 5.4: the local timestamp (if it still verifies) guards against rollback of
    /// the fetched one.
    async fn load_timestamp(&mut self) -> Result<(), UpdateError> {
        // Spec 5.3.11: after a snapshot key rotation the local copies are not trusted.
        if !self.trusted.snapshot_keys_rotated()
            && let Some(local) = self.local("timestamp")?
        {
            // A local copy that fails (expired, or signed by rotated keys) is not trusted.
            let _ = self.trusted.update_timestamp(&local);
        }
        let max = self.trusted.limits().max_timestamp_size;
        let bytes = self.fetch_metadata("timestamp", None, max).await?;
        match self.trusted.update_timestamp(&bytes)? {
            TimestampUpdate::Unchanged => Ok(()),
            TimestampUpdate::Updated => self.persist("timestamp", &bytes),
        }
    }

    /// Spec 5.5: the local snapshot is used if it is still the one timestamp names.
    async fn load_snapshot(&mut self) -> Result<(), UpdateError> {
        if !self.trusted.snapshot_keys_rotated()
            && let Some(local) = self.local("snapshot")?
            && self.trusted.update_snapshot(&local, true).is_ok()
        {
            return Ok(());
        }
        let meta = self.trusted.final_timestamp_snapshot_meta()?.clone();
        let version = self.trusted.consistent_snapshot().then_some(meta.version);
        let max = meta.length.unwrap_or(self.trusted.limits().max_snapshot_size);
        let bytes = self.fetch_metadata("snapshot", version, max).await?;
        self.trusted.update_snapshot(&bytes, false)?;
        self.persist("snapshot", &bytes)
    }

    /// Loads every targets role the repository delegates to, depth first from the
    /// top-level targets (what a mirror must hold). Roles reached twice are verified
    /// against each delegator; at most [`Limits::max_mirrored_roles`] roles are loaded.
    pub async fn load_all_targets(&mut self) -> Result<(), UpdateError> {
        if !self.refreshed {
            self.refresh().await?;
        }
        let max = self.trusted.limits().max_mirrored_roles;
        let mut stack = vec![("targets".to_string(), "root".to_string())];
        let mut edges = std::collections::HashSet::new();
        let mut expanded = std::collections::HashSet::new();
        let mut loaded = 0usize;
        while let Some((role, delegator)) = stack.pop() {
            // Each delegation edge is checked once, each role's children queued once:
            // cycles and diamonds cost nothing more.
            if !edges.insert((role.clone(), delegator.clone())) {
                continue;
            }
            loaded += 1;
            if loaded > max {
                return Err(UpdateError::Config(format!(
                    "the repository delegates to more than {max} targets roles; refusing to mirror it"
                )));
            }
            self.load_targets(&role, &delegator).await?;
            if !expanded.insert(role.clone()) {
                continue;
            }
            let Some(trusted) = self.trusted.targets(&role) else {
                continue;
            };
            let Some(delegations) = &trusted.signed.delegations else {
                continue;
            };
            let children: Vec<String> = match (&delegations.roles, &delegations.succinct_roles) {
                (Some(roles), _) => roles.iter().map(|r| r.name.clone()).collect(),
                (None, Some(succinct)) => {
                    if succinct.bin_count() > max as u64 {
                        return Err(UpdateError::Config(format!(
                            "role '{}' delegates to {} hashed bins, more than the limit of {max}",
                            escape(&role),
                            succinct.bin_count()
                        )));
                    }
                    succinct.bin_names().collect()
                }
                (None, None) => Vec::new(),
            };
            for child in children.into_iter().rev() {
                // A role already trusted is still checked against this delegator.
                stack.push((child, role.clone()));
            }
        }
        Ok(())
    }

    /// Spec 5.6: a targets role, from the local copy if it is still the one snapshot
    /// names, else fetched.
    async fn load_targets(&mut self, role: &str, delegator: &str) -> Result<(), UpdateError> {
        let edge = (role.to_string(), delegator.to_string());
        if self.trusted.targets(role).is_some() {
            // Trusted through another path already: it must also satisfy this delegator.
            if !self.verified_edges.contains(&edge) {
                self.trusted.verify_trusted_targets(role, delegator)?;
                self.verified_edges.insert(edge);
            }
            return Ok(());
        }
        if let Some(local) = self.local(role)?
            && self.trusted.update_delegated_targets(&local, role, delegator).is_ok()
        {
            self.verified_edges.insert(edge);
            return Ok(());
        }
        let meta = self.trusted.snapshot_meta(role)?.clone();
        let version = self.trusted.consistent_snapshot().then_some(meta.version);
        let max = meta.length.unwrap_or(self.trusted.limits().max_targets_size);
        let bytes = self.fetch_metadata(role, version, max).await?;
        self.trusted.update_delegated_targets(&bytes, role, delegator)?;
        self.verified_edges.insert(edge);
        self.persist(role, &bytes)
    }

    /// Finds the trusted description of `target` (spec 5.6.7), loading delegated roles as
    /// the search needs them. Refreshes first if this updater has not.
    pub async fn target_info(&mut self, target: &str) -> Result<TargetFile, UpdateError> {
        target_path::validate(target)?;
        if !self.refreshed {
            self.refresh().await?;
        }
        let mut search = TargetSearch::new(target, self.trusted.limits().max_delegations);
        while let Some(role) = search.next_role() {
            self.load_targets(&role.name, &role.delegator).await?;
            let Some(trusted) = self.trusted.targets(&role.name) else {
                break;
            };
            if let Some(found) = search.visit(&role, &trusted.signed) {
                target_path::check_usable(target, &found.hashes)?;
                return Ok(found);
            }
        }
        if search.hit_limit() {
            return Err(UpdateError::Config(format!(
                "target '{}': the search visited {} targets roles without finding it, the limit; \
                 the repository's delegations are too deep or too many",
                escape(target),
                self.trusted.limits().max_delegations
            )));
        }
        Err(UpdateError::TargetNotFound {
            target: target.to_string(),
        })
    }

    /// Where a target is stored in the target directory: one flat file named by the
    /// percent-encoded target path, so no name can escape the directory.
    pub fn target_file(&self, target: &str) -> Result<PathBuf, UpdateError> {
        let dir = self
            .config
            .target_dir
            .as_ref()
            .ok_or_else(|| UpdateError::Config("no target directory given".into()))?;
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
        let base = self
            .config
            .target_url
            .as_ref()
            .ok_or_else(|| UpdateError::Config("no target base URL given".into()))?;
        let relative = if self.trusted.consistent_snapshot() {
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
    ["sha256", "sha512"].iter().find_map(|alg| {
        info.hashes
            .get(*alg)
            .map(String::as_str)
            .filter(|digest| target_path::is_hex_digest(alg, digest))
    })
}
