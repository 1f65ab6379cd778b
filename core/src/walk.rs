//! The TUF client workflow (spec 5.3-5.6) as a walk that does no I/O: it says which
//! metadata it needs next, the caller answers with bytes (or "none"), and it verifies them.
//!
//! ```text
//! let mut walk = ClientWalk::new(TrustedSet::new(root, now, limits)?, true);
//! walk.start(Goal::Everything);
//! loop {
//!     let need = match walk.next_step()? { Step::Need(need) => need, _ => break };
//!     let bytes = match need.source {
//!         Source::Cache => /* the local copy of need.role, if any */,
//!         Source::Remote => /* fetch need.file_name(), at most need.max_length bytes */,
//!     };
//!     if walk.answer(bytes.as_deref())? == Keep::Store { /* persist the bytes */ }
//! }
//! ```
//!
//! The order is the specification's: each new root until there is none, the timestamp,
//! the snapshot, then the top-level targets and, as the goal asks, every delegated role or
//! the roles a target search visits. A client that keeps metadata is asked for its local
//! copy of a role before the repository's: a local timestamp or snapshot still guards
//! against rollback, and a local snapshot or targets role that is still current saves a
//! download. A local copy that no longer verifies is dropped, never an error. The mirror's
//! updater and the ceremony's publish gate both drive this walk; only their I/O differs.

use std::collections::HashSet;

use crate::delegation::{RoleToVisit, TargetSearch};
use crate::error::{Error, ErrorKind, OrderProblem, Result};
use crate::metadata::TargetFile;
use crate::names::{RoleName, TargetPath};
use crate::trusted_set::{TimestampUpdate, TrustedSet};

/// Where the walk wants a role's bytes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The caller's own copy of the role (`<role>.json`), if it keeps one. Answering
    /// `None` is always fine.
    Cache,
    /// The repository. `None` means the repository does not have the file: the end of
    /// the root chain for a root, an error for anything else.
    Remote,
}

/// One piece of metadata the walk needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The role: `root`, `timestamp`, `snapshot`, `targets` or a delegated role.
    pub role: RoleName,
    /// For a targets role, the role that delegates to it (`root` for `targets`).
    pub delegator: Option<RoleName>,
    /// The version in the file name (every root; snapshot and targets roles when the
    /// repository publishes consistent snapshots); `None` for `<role>.json`.
    pub version: Option<u64>,
    /// The most bytes to read: the trusted length, or the limit for the role.
    pub max_length: u64,
    pub source: Source,
}

impl Need {
    /// The metadata file to read: `<role>.json` or `<version>.<role>.json`, the role
    /// name percent-encoded.
    pub fn file_name(&self) -> String {
        match self.source {
            Source::Cache => self.role.file_name(None),
            Source::Remote => self.role.file_name(self.version),
        }
    }
}

/// What the walk wants next, or how it ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Need(Need),
    /// The goal is reached.
    Done,
    /// A target search found the target (not yet checked as usable: see
    /// [`crate::target_path::check_usable`]).
    Found(TargetFile),
    /// A target search ended without finding the target.
    NotFound,
}

/// What the caller should do with the bytes it just answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// They are now trusted and newer than the caller's copy: store them as the role's
    /// current metadata (a root also as `<version>.root.json`, if the caller keeps the
    /// chain).
    Store,
    /// Nothing to store: a local copy, or a timestamp equal to the trusted one.
    Nothing,
}

/// How far the walk should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goal {
    /// Root, timestamp, snapshot and the top-level targets.
    TopLevel,
    /// Every targets role the repository delegates to, depth first (what a mirror holds
    /// and what the publish gate checks). At most [`crate::Limits::max_mirrored_roles`].
    Everything,
    /// The roles the search for one target visits (spec 5.6.7).
    Target(TargetPath),
}

/// The walk's progress through the top-level roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Root,
    Timestamp {
        cache_tried: bool,
    },
    Snapshot {
        cache_tried: bool,
    },
    /// Root, timestamp and snapshot are trusted: targets roles come next.
    Ready,
}

/// A targets role being loaded.
#[derive(Debug, Clone)]
struct Load {
    role: RoleName,
    delegator: RoleName,
    cache_tried: bool,
}

/// The targets roles the goal still needs.
#[derive(Debug, Clone)]
enum Work {
    Idle,
    TopLevel {
        started: bool,
    },
    Everything(Everything),
    Search {
        search: TargetSearch,
        visiting: Option<RoleToVisit>,
    },
}

/// Depth-first over every delegation edge: each edge checked once, each role's children
/// queued once, so cycles and diamonds cost nothing more.
#[derive(Debug, Clone, Default)]
struct Everything {
    stack: Vec<(RoleName, RoleName)>,
    edges: HashSet<(RoleName, RoleName)>,
    expanded: HashSet<RoleName>,
    loaded: u64,
}

/// The client workflow over a [`TrustedSet`]; see the module documentation.
#[derive(Debug, Clone)]
pub struct ClientWalk {
    set: TrustedSet,
    use_cache: bool,
    phase: Phase,
    work: Work,
    loading: Option<Load>,
    /// The need handed out and not answered yet; the phase it was asked in says how to
    /// take the answer.
    pending: Option<Need>,
    /// Delegation edges (role, delegator) verified, so a role reached again through the
    /// same edge is not verified again.
    verified_edges: HashSet<(RoleName, RoleName)>,
}

impl ClientWalk {
    /// A walk from the trusted root in `set`. With `use_cache`, the walk asks for the
    /// caller's local copy of each role before the repository's.
    pub fn new(set: TrustedSet, use_cache: bool) -> Self {
        ClientWalk {
            set,
            use_cache,
            phase: Phase::Root,
            work: Work::Idle,
            loading: None,
            pending: None,
            verified_edges: HashSet::new(),
        }
    }

    /// The metadata trusted so far.
    pub fn trusted(&self) -> &TrustedSet {
        &self.set
    }

    /// Sets what the following [`Self::next_step`] calls work towards. The top-level roles are
    /// walked once per walk; a later goal starts from the trusted top-level targets.
    pub fn start(&mut self, goal: Goal) {
        self.loading = None;
        self.pending = None;
        self.work = match goal {
            Goal::TopLevel => Work::TopLevel { started: false },
            Goal::Everything => Work::Everything(Everything {
                stack: vec![(RoleName::new("targets"), RoleName::new("root"))],
                ..Everything::default()
            }),
            Goal::Target(path) => Work::Search {
                search: TargetSearch::new(&path, self.set.limits().max_delegations),
                visiting: None,
            },
        };
    }

    /// What the walk needs next, or how the goal ended.
    pub fn next_step(&mut self) -> Result<Step> {
        if let Some(pending) = &self.pending {
            return Err(Error::new(
                pending.role.as_str(),
                ErrorKind::Order(OrderProblem::NeedUnanswered),
            ));
        }
        let step = match self.phase {
            Phase::Root => Step::Need(self.root_need()),
            Phase::Timestamp { cache_tried } => Step::Need(self.timestamp_need(cache_tried)),
            Phase::Snapshot { cache_tried } => Step::Need(self.snapshot_need(cache_tried)?),
            Phase::Ready => self.next_targets()?,
        };
        if let Step::Need(need) = &step {
            self.pending = Some(need.clone());
        }
        Ok(step)
    }

    /// Answers the last [`Step::Need`]: the bytes, or `None` when there are none.
    /// Errors are the repository's (or, for a root chain, the trusted root's) refusal;
    /// a local copy that fails verification is dropped without one.
    pub fn answer(&mut self, bytes: Option<&[u8]>) -> Result<Keep> {
        let Some(need) = self.pending.take() else {
            return Err(Error::new("walk", ErrorKind::Order(OrderProblem::NoPendingNeed)));
        };
        match self.phase {
            Phase::Root => self.answer_root(bytes),
            Phase::Timestamp { .. } => self.answer_timestamp(bytes, &need),
            Phase::Snapshot { .. } => self.answer_snapshot(bytes, &need),
            Phase::Ready => self.answer_targets(bytes, &need),
        }
    }

    fn root_need(&self) -> Need {
        Need {
            role: RoleName::new("root"),
            delegator: None,
            version: Some(self.set.root().signed().common.version.saturating_add(1)),
            max_length: self.set.limits().max_root_size,
            source: Source::Remote,
        }
    }

    /// Spec 5.3: `N+1.root.json` until the repository has none.
    fn answer_root(&mut self, bytes: Option<&[u8]>) -> Result<Keep> {
        let Some(bytes) = bytes else {
            self.phase = Phase::Timestamp { cache_tried: false };
            return Ok(Keep::Nothing);
        };
        self.set.update_root(bytes)?;
        Ok(Keep::Store)
    }

    /// Whether local timestamp and snapshot copies may be trusted: not after a rotation
    /// of the snapshot keys (spec 5.3.11).
    fn cache_allowed(&self) -> bool {
        self.use_cache && !self.set.snapshot_keys_rotated()
    }

    fn timestamp_need(&self, cache_tried: bool) -> Need {
        Need {
            role: RoleName::new("timestamp"),
            delegator: None,
            version: None,
            max_length: self.set.limits().max_timestamp_size,
            source: if !cache_tried && self.cache_allowed() {
                Source::Cache
            } else {
                Source::Remote
            },
        }
    }

    /// Spec 5.4: a local timestamp (if it still verifies) guards against rollback of the
    /// repository's.
    fn answer_timestamp(&mut self, bytes: Option<&[u8]>, need: &Need) -> Result<Keep> {
        if need.source == Source::Cache {
            self.phase = Phase::Timestamp { cache_tried: true };
            if let Some(bytes) = bytes {
                // An expired copy, or one signed by rotated keys, is not trusted.
                let _ = self.set.update_timestamp(bytes);
            }
            return Ok(Keep::Nothing);
        }
        let bytes = bytes.ok_or_else(|| missing(need))?;
        let outcome = self.set.update_timestamp(bytes)?;
        self.phase = Phase::Snapshot { cache_tried: false };
        Ok(match outcome {
            TimestampUpdate::Updated => Keep::Store,
            TimestampUpdate::Unchanged => Keep::Nothing,
        })
    }

    /// Spec 5.5: the local snapshot first (used if it is still the one timestamp names),
    /// then the repository's.
    fn snapshot_need(&self, cache_tried: bool) -> Result<Need> {
        if !cache_tried && self.cache_allowed() {
            return Ok(Need {
                role: RoleName::new("snapshot"),
                delegator: None,
                version: None,
                max_length: self.set.limits().max_snapshot_size,
                source: Source::Cache,
            });
        }
        let meta = self.set.final_timestamp_snapshot_meta()?;
        Ok(Need {
            role: RoleName::new("snapshot"),
            delegator: None,
            version: self.set.consistent_snapshot().then_some(meta.version),
            max_length: meta.length.unwrap_or(self.set.limits().max_snapshot_size),
            source: Source::Remote,
        })
    }

    fn answer_snapshot(&mut self, bytes: Option<&[u8]>, need: &Need) -> Result<Keep> {
        if need.source == Source::Cache {
            let current = bytes.is_some_and(|b| self.set.update_snapshot(b, true).is_ok());
            self.phase = if current {
                Phase::Ready
            } else {
                Phase::Snapshot { cache_tried: true }
            };
            return Ok(Keep::Nothing);
        }
        let bytes = bytes.ok_or_else(|| missing(need))?;
        self.set.update_snapshot(bytes, false)?;
        self.phase = Phase::Ready;
        Ok(Keep::Store)
    }

    /// The next targets role to load for the goal, or the goal's end.
    fn next_targets(&mut self) -> Result<Step> {
        loop {
            if let Some(load) = &self.loading {
                if self.set.targets(&load.role).is_none() {
                    return self.targets_need(load.clone());
                }
                // Trusted through another path already: it must also satisfy this
                // delegator ("diamond" delegations).
                let edge = (load.role.clone(), load.delegator.clone());
                if !self.verified_edges.contains(&edge) {
                    self.set.verify_trusted_targets(&load.role, &load.delegator)?;
                    self.verified_edges.insert(edge);
                }
                if let Some(step) = self.loaded()? {
                    return Ok(step);
                }
                continue;
            }
            if let Some(step) = self.next_load()? {
                return Ok(step);
            }
        }
    }

    fn targets_need(&self, load: Load) -> Result<Step> {
        if !load.cache_tried && self.use_cache {
            return Ok(Step::Need(Need {
                role: load.role,
                delegator: Some(load.delegator),
                version: None,
                max_length: self.set.limits().max_targets_size,
                source: Source::Cache,
            }));
        }
        let meta = self.set.snapshot_meta(&load.role)?;
        Ok(Step::Need(Need {
            version: self.set.consistent_snapshot().then_some(meta.version),
            max_length: meta.length.unwrap_or(self.set.limits().max_targets_size),
            role: load.role,
            delegator: Some(load.delegator),
            source: Source::Remote,
        }))
    }

    /// Spec 5.6: a targets role from the local copy if it is still the one snapshot
    /// names, else from the repository.
    fn answer_targets(&mut self, bytes: Option<&[u8]>, need: &Need) -> Result<Keep> {
        let Some(load) = self.loading.as_mut().filter(|l| l.role == need.role) else {
            return Err(Error::new(
                need.role.as_str(),
                ErrorKind::Order(OrderProblem::NotLoadingRole),
            ));
        };
        let delegator = load.delegator.clone();
        if need.source == Source::Cache {
            load.cache_tried = true;
            if let Some(bytes) = bytes
                && self.set.update_delegated_targets(bytes, &need.role, &delegator).is_ok()
            {
                self.verified_edges.insert((need.role.clone(), delegator));
            }
            return Ok(Keep::Nothing);
        }
        let bytes = bytes.ok_or_else(|| missing(need))?;
        self.set.update_delegated_targets(bytes, &need.role, &delegator)?;
        self.verified_edges.insert((need.role.clone(), delegator));
        Ok(Keep::Store)
    }

    /// Picks the next role the goal needs and starts loading it; a step when the goal ends.
    fn next_load(&mut self) -> Result<Option<Step>> {
        let next = match &mut self.work {
            Work::Idle => return Ok(Some(Step::Done)),
            Work::TopLevel { started: true } => {
                self.work = Work::Idle;
                return Ok(Some(Step::Done));
            }
            Work::TopLevel { started } => {
                *started = true;
                (RoleName::new("targets"), RoleName::new("root"))
            }
            Work::Everything(all) => {
                let Some(edge) = all.stack.pop() else {
                    self.work = Work::Idle;
                    return Ok(Some(Step::Done));
                };
                if !all.edges.insert(edge.clone()) {
                    return Ok(None);
                }
                all.loaded += 1;
                let limit = self.set.limits().max_mirrored_roles as u64;
                if all.loaded > limit {
                    return Err(Error::new(edge.1.as_str(), ErrorKind::TooManyRoles { limit }));
                }
                edge
            }
            Work::Search { search, visiting } => {
                let Some(role) = search.next_role() else {
                    let limit = self.set.limits().max_delegations;
                    let hit_limit = search.hit_limit();
                    self.work = Work::Idle;
                    if hit_limit {
                        return Err(Error::new("targets", ErrorKind::SearchLimit { limit }));
                    }
                    return Ok(Some(Step::NotFound));
                };
                let edge = (role.name.clone(), role.delegator.clone());
                *visiting = Some(role);
                edge
            }
        };
        self.loading = Some(Load {
            role: next.0,
            delegator: next.1,
            cache_tried: false,
        });
        Ok(None)
    }

    /// The role being loaded is trusted: queue its children (everything) or look for the
    /// target in it (search).
    fn loaded(&mut self) -> Result<Option<Step>> {
        let Some(load) = self.loading.take() else {
            return Ok(None);
        };
        let Some(trusted) = self.set.targets(&load.role) else {
            return Ok(None);
        };
        match &mut self.work {
            Work::Idle | Work::TopLevel { .. } => Ok(None),
            Work::Everything(all) => {
                if !all.expanded.insert(load.role.clone()) {
                    return Ok(None);
                }
                let Some(delegations) = &trusted.signed().delegations else {
                    return Ok(None);
                };
                let limit = self.set.limits().max_mirrored_roles as u64;
                if delegations.child_count() > limit {
                    return Err(Error::new(load.role.as_str(), ErrorKind::TooManyRoles { limit }));
                }
                let children: Vec<RoleName> = delegations.children().map(RoleName::new).collect();
                // A role already trusted is still checked against this delegator.
                all.stack
                    .extend(children.into_iter().rev().map(|child| (child, load.role.clone())));
                Ok(None)
            }
            Work::Search { search, visiting } => {
                let Some(role) = visiting.take() else {
                    return Ok(None);
                };
                match search.visit_indexed(&role, trusted.signed(), self.set.delegation_index(&role.name)) {
                    Some(found) => {
                        self.work = Work::Idle;
                        Ok(Some(Step::Found(found)))
                    }
                    None => Ok(None),
                }
            }
        }
    }
}

fn missing(need: &Need) -> Error {
    let error = Error::new(need.role.as_str(), ErrorKind::Missing);
    match need.version {
        Some(version) => error.with_version(version),
        None => error,
    }
}
