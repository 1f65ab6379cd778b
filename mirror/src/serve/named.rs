//! What a server serves: one unnamed repository at `/`, or the named repositories of a
//! directory ([`crate::set`]), each at `/NAME/`.
//!
//! A request's first segment names the repository. It is checked as a name
//! ([`set::check_name`]) before anything is looked up, and looked up among the names the
//! directory holds, never joined to a path unchecked: `/../x`, `/%2e%2e/x` and
//! `/production/../staging/x` are refused by `decode_path` before they get here, and a
//! first segment that is not a repository is a 404. The names are read once when the
//! server starts and again whenever a request names one not seen yet, so a repository
//! added while the server runs (`mirror sync DIR --name NEW`) is served from its first
//! request on, without a restart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::status_page::NamedStatus;
use super::view::View;
use crate::error::UpdateError;
use crate::layout::MirrorDir;
use crate::set::{self, Kind};

/// One repository served: its directory, and the view of the state it serves, resolved
/// once per switch (read by every request, written once per switch: see `view`).
pub(super) struct Repository {
    pub mirror: MirrorDir,
    pub view: RwLock<Option<Arc<View>>>,
}

impl Repository {
    fn new(dir: &Path) -> Repository {
        Repository {
            mirror: MirrorDir::new(dir),
            view: RwLock::new(None),
        }
    }
}

/// What a server serves.
pub(super) enum Served {
    /// A mirror made before names existed: its one repository, at `/`.
    Unnamed(Arc<Repository>),
    /// A directory of named repositories, each at `/NAME/`.
    Named(Named),
}

impl Served {
    /// What `dir` holds, for a server about to start: an unnamed mirror with a served
    /// state, or named repositories of which at least one has one.
    pub fn open(dir: &Path) -> Result<Served, UpdateError> {
        match set::kind(dir)? {
            Kind::Named(names) => {
                let named = Named {
                    dir: dir.to_path_buf(),
                    known: RwLock::new(BTreeMap::new()),
                };
                named.remember(names)?;
                if named.served()?.is_empty() {
                    return Err(UpdateError::NothingMirrored { dir: dir.to_path_buf() });
                }
                Ok(Served::Named(named))
            }
            Kind::Unnamed | Kind::Empty => {
                let mirror = MirrorDir::new(dir);
                if mirror.current()?.is_none() {
                    return Err(UpdateError::NoServedState {
                        served: mirror.served(),
                        dir: dir.to_path_buf(),
                    });
                }
                Ok(Served::Unnamed(Arc::new(Repository::new(dir))))
            }
        }
    }
}

/// The named repositories of a directory, as far as requests have needed them.
pub(super) struct Named {
    pub dir: PathBuf,
    known: RwLock<BTreeMap<String, Arc<Repository>>>,
}

impl Named {
    /// The repository called `name`, or `None` when the directory holds none by that name.
    /// An unknown name reads the directory's names again (a repository added meanwhile).
    pub fn get(&self, name: &str) -> Result<Option<Arc<Repository>>, UpdateError> {
        if set::check_name(name).is_err() {
            return Ok(None);
        }
        if let Some(found) = self.read().get(name) {
            return Ok(Some(found.clone()));
        }
        match set::kind(&self.dir)? {
            Kind::Named(names) => self.remember(names)?,
            // The marker went away under the server: nothing new to serve.
            Kind::Unnamed | Kind::Empty => return Ok(None),
        }
        Ok(self.read().get(name).cloned())
    }

    /// The names of the repositories that have a served state now, sorted, read afresh.
    pub fn served(&self) -> Result<Vec<String>, UpdateError> {
        let names = match set::kind(&self.dir)? {
            Kind::Named(names) => names,
            Kind::Unnamed | Kind::Empty => Vec::new(),
        };
        let mut served = Vec::new();
        for name in names {
            if MirrorDir::new(&set::repository_dir(&self.dir, &name)?)
                .current()?
                .is_some()
            {
                served.push(name);
            }
        }
        Ok(served)
    }

    /// `/` of a directory of named repositories: the repositories served, as JSON, so a
    /// person or a script finds the prefixes without being told.
    pub fn index(&self) -> Result<String, UpdateError> {
        let repositories: Vec<serde_json::Value> = self
            .served()?
            .into_iter()
            .map(|name| serde_json::json!({ "name": name, "path": format!("/{name}/") }))
            .collect();
        Ok(format!("{}\n", serde_json::json!({ "repositories": repositories })))
    }

    /// Every named repository's status, for the status page.
    pub fn statuses(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<NamedStatus>, UpdateError> {
        super::status_page::named_statuses(&self.dir, now)
    }

    fn remember(&self, names: Vec<String>) -> Result<(), UpdateError> {
        let mut known = self.known.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for name in names {
            let dir = set::repository_dir(&self.dir, &name)?;
            known.entry(name).or_insert_with(|| Arc::new(Repository::new(&dir)));
        }
        Ok(())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<Repository>>> {
        self.known.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
