//! Our own client as a read-back of a push (`ceremony publish --to`, `online refresh
//! --to`): before `timestamp.json` goes up, the Updater loads the pushed repository
//! through the address clients use, from each starting root, with the new
//! `timestamp.json` answered from memory (it is not up yet), and downloads every target
//! the push uploaded (from the local tree, after a byte compare: see
//! [`ClientReadBack::after_byte_compare`]). The command hands it to the push; ceremony
//! does its own byte compare and tough first.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use futures::{StreamExt as _, TryStreamExt as _};
use trustroot_store::object::ReadBack;
use trustroot_store::object::readback::{starting_roots, target_path};
use url::Url;

use crate::{FetchConfig, Fetcher, UpdateError, Updater, UpdaterConfig};

/// The read-back by our client of the push of `tree` (the local tree pushed) served at
/// `base` (the public address, ending in '/').
pub struct ClientReadBack {
    base: Url,
    tree: PathBuf,
    /// Downloads in flight at once (the push's `--jobs`).
    jobs: usize,
    /// Read the targets from the local tree (see [`ClientReadBack::after_byte_compare`]).
    local_targets: bool,
    runs: Mutex<Vec<String>>,
}

impl ClientReadBack {
    pub fn new(base: Url, tree: PathBuf) -> ClientReadBack {
        ClientReadBack {
            base,
            tree,
            jobs: trustroot_store::object::DEFAULT_JOBS,
            local_targets: false,
            runs: Mutex::new(Vec::new()),
        }
    }

    /// Runs after a byte compare that read every uploaded object back through the public
    /// address and matched it with the local tree: the metadata is still loaded from the
    /// public address (with the new timestamp), but the targets are read from the local
    /// tree and checked against it, instead of a second time over the network.
    pub fn after_byte_compare(self) -> ClientReadBack {
        ClientReadBack {
            local_targets: true,
            ..self
        }
    }

    /// Downloads `jobs` targets at a time (the push's `--jobs`).
    pub fn with_jobs(self, jobs: usize) -> ClientReadBack {
        ClientReadBack {
            jobs: jobs.max(1),
            ..self
        }
    }

    /// The public address of `key`, never outside the base.
    fn url_of(&self, key: &str) -> Result<Url, String> {
        self.base
            .join(key)
            .ok()
            .filter(|u| u.as_str().starts_with(self.base.as_str()))
            .ok_or_else(|| format!("cannot be addressed under {}", self.base))
    }

    async fn run(&self, uploaded: &[String], timestamp: &[u8]) -> Result<(), (String, String)> {
        let whole = |reason: String| ("(the repository)".to_string(), reason);
        let fetcher = Fetcher::new(FetchConfig::default())
            .with_overlay(self.url_of("timestamp.json").map_err(whole)?, timestamp.to_vec());
        let targets_url = if self.local_targets {
            Url::from_directory_path(self.tree.join("targets"))
                .map_err(|()| whole(format!("{} is not an absolute path", self.tree.display())))?
        } else {
            self.url_of("targets/").map_err(whole)?
        };
        let limits = trustroot_core::Limits::default();
        let now = chrono::Utc::now();
        for (version, path) in starting_roots(&self.tree, uploaded)? {
            let who = format!("trustroot client from root v{version}");
            let root = std::fs::read(&path).map_err(|e| whole(format!("cannot read {}: {e}", path.display())))?;
            let work = tempfile::tempdir().map_err(|e| whole(format!("cannot make a client directory: {e}")))?;
            let (metadata_dir, target_dir) = (work.path().join("metadata"), work.path().join("targets"));
            for dir in [&metadata_dir, &target_dir] {
                std::fs::create_dir(dir).map_err(|e| whole(format!("cannot make a client directory: {e}")))?;
            }
            let refused = |e: UpdateError| whole(format!("{who} refuses the repository at {}: {e}", self.base));
            // No Sigstore trust material here yet: keyless keys are unusable, and the error says so.
            Updater::init(&metadata_dir, &root, now, &limits, None).map_err(refused)?;
            let config = UpdaterConfig {
                metadata_dir,
                metadata_url: self.base.clone(),
                target_dir: Some(target_dir),
                target_url: Some(targets_url.clone()),
                now,
                limits: limits.clone(),
                root_history_dir: None,
                sigstore: Some(crate::sync::embedded_sigstore_trust()),
            };
            let mut updater = Updater::new(config, fetcher.clone()).map_err(refused)?;
            updater.load_all_targets().await.map_err(refused)?;
            // The lookups walk the loaded delegations (one at a time: the walk may load a
            // role); the downloads then run `jobs` at a time.
            let mut found = Vec::new();
            for (key, target) in uploaded.iter().filter_map(|key| Some((key, target_path(key)?))) {
                let info = updater
                    .target_info(&target)
                    .await
                    .map_err(|e| (key.clone(), format!("{who}: {e}")))?;
                found.push((key, target, info));
            }
            let count = found.len();
            let (updater, who) = (&updater, &who);
            let downloads = futures::stream::iter(found.into_iter().map(|(key, target, info)| async move {
                updater
                    .download_target(&target, &info)
                    .await
                    .map(drop)
                    .map_err(|e| (key.clone(), format!("{who}: {e}")))
            }));
            downloads.buffer_unordered(self.jobs).try_collect::<Vec<()>>().await?;
            self.runs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(format!("{who}: {count} new target(s) downloaded"));
        }
        Ok(())
    }
}

impl ReadBack for ClientReadBack {
    fn check(&self, uploaded: &[String], timestamp: &[u8]) -> Result<(), (String, String)> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ("(read-back)".to_string(), format!("cannot start the I/O runtime: {e}")))?;
        runtime.block_on(self.run(uploaded, timestamp))
    }

    fn runs(&self) -> Vec<String> {
        self.runs.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}
