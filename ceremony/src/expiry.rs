//! What `trustroot expiry` lists for a path on the signing side: which kind of directory
//! it is, and every role's version and expiry there, with typed times.
//!
//! A signing repository lists its published roles, then the newer roles of a round not
//! published yet (for information: they are not served, so they do not count). A publish
//! destination or a published tree lists the roles it serves. A mirror is the mirror
//! crate's to read.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{FileProblem, IoOp};
use crate::online::{self, RoleExpiry};
use crate::policy::Periods;
use crate::round::Round;
use crate::{Error, Result, pubdir, repo};

/// What a directory is, as far as the signing side can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A signing repository (it has `trustroot.toml`).
    SigningRepository,
    /// A publish destination; its served tree is `tree`.
    PublishDestination { tree: PathBuf },
    /// A tree served to clients (it has `timestamp.json`).
    PublishedTree,
}

/// The kind of `path`, or `None` when it is none of those.
pub fn detect(path: &Path) -> Option<Kind> {
    if path.join(repo::POLICY_FILE).is_file() {
        return Some(Kind::SigningRepository);
    }
    let served = path.join(pubdir::SERVED);
    if served.join("timestamp.json").is_file() {
        return Some(Kind::PublishDestination { tree: served });
    }
    path.join("timestamp.json").is_file().then_some(Kind::PublishedTree)
}

/// Where a row's role was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowSource {
    Published,
    /// Staged in a round not published yet.
    Staged {
        round: String,
    },
    Mirror,
}

impl fmt::Display for RowSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowSource::Published => f.write_str("published"),
            RowSource::Staged { round } => write!(f, "staged (round {round})"),
            RowSource::Mirror => f.write_str("mirror"),
        }
    }
}

/// One role of `expiry`.
#[derive(Debug, Clone)]
pub struct Row {
    pub role: RoleExpiry,
    pub source: RowSource,
    /// The policy's periods, for a signing repository's roles.
    pub periods: Option<Periods>,
    /// Whether the role counts for the verdict (staged roles do not: they are not served).
    pub counts: bool,
}

/// The rows of `path`, of kind `kind`.
pub fn rows(path: &Path, kind: &Kind) -> Result<Vec<Row>> {
    let tree = match kind {
        Kind::SigningRepository => return signing_repository_rows(path),
        Kind::PublishDestination { tree } => tree.as_path(),
        Kind::PublishedTree => path,
    };
    Ok(published_tree(tree)?
        .into_iter()
        .map(|role| Row {
            role,
            source: RowSource::Published,
            periods: None,
            counts: true,
        })
        .collect())
}

/// The refusal of a path that is none of the kinds (and not a mirror either).
pub fn no_roles_here(path: &Path) -> Error {
    Error::content(path, FileProblem::NoRolesHere)
}

/// A signing repository: its published roles, then the newer roles of a round not
/// published yet.
fn signing_repository_rows(path: &Path) -> Result<Vec<Row>> {
    let repo = repo::Repo::open(path)?;
    let published = online::published(&repo)?;
    if published.is_empty() {
        return Err(Error::content(&path.join("metadata"), FileProblem::NothingPublished));
    }
    let periods = |role: &str| Some(repo.policy.periods(role));
    let mut rows: Vec<Row> = published
        .iter()
        .map(|r| Row {
            role: r.clone(),
            source: RowSource::Published,
            periods: periods(&r.role),
            counts: true,
        })
        .collect();
    // A round not published yet: its staged roles, for information. A round that cannot
    // be read is `ceremony status`'s to report, not this listing's.
    if repo.ceremonies_dir().is_dir()
        && let Ok(round) = Round::open(&repo, None)
    {
        for staged in &round.roles {
            let newer = published
                .iter()
                .find(|p| p.role == staged.meta.role)
                .is_none_or(|p| p.version < staged.meta.version);
            let Some(expires) = trustroot_core::time::parse(&staged.meta.expires) else {
                continue;
            };
            if newer {
                rows.push(Row {
                    role: RoleExpiry {
                        role: staged.meta.role.clone(),
                        version: staged.meta.version,
                        expires,
                        file: staged.staged_path.display().to_string(),
                        signing_days: None,
                    },
                    source: RowSource::Staged {
                        round: round.id.clone(),
                    },
                    periods: periods(&staged.meta.role),
                    counts: false,
                });
            }
        }
    }
    Ok(rows)
}

fn read_limited(path: &Path) -> Result<Vec<u8>> {
    crate::keys::read_limited(path, repo::MAX_METADATA_SIZE)
}

/// The roles of a published tree (a directory served to clients): timestamp.json, the
/// snapshot it names, the newest root, and every role the snapshot lists.
fn published_tree(dir: &Path) -> Result<Vec<RoleExpiry>> {
    let limits = trustroot_core::Limits::default();
    let parse = |role: &str, path: &Path, bytes: &[u8]| {
        trustroot_core::Envelope::parse(role, bytes, &limits)
            .map_err(|e| Error::content(path, FileProblem::Metadata(Box::new(e))))
    };
    let mut metadata: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let timestamp_path = dir.join("timestamp.json");
    let timestamp = read_limited(&timestamp_path)?;
    let snapshot_version = parse("timestamp", &timestamp_path, &timestamp)?
        .signed
        .pointer("/meta/snapshot.json/version")
        .and_then(serde_json::Value::as_u64);
    metadata.insert("timestamp".into(), timestamp);
    let snapshot_path =
        pick(dir, "snapshot", snapshot_version).ok_or_else(|| Error::content(dir, FileProblem::NoNamedSnapshot))?;
    let snapshot = read_limited(&snapshot_path)?;
    let snap = parse("snapshot", &snapshot_path, &snapshot)?;
    metadata.insert("snapshot".into(), snapshot);
    if let Some(meta) = snap.signed.get("meta").and_then(serde_json::Value::as_object) {
        for (name, entry) in meta {
            let Some(role) = name.strip_suffix(".json") else {
                continue;
            };
            let version = entry.get("version").and_then(serde_json::Value::as_u64);
            if let Some(path) = pick(dir, role, version) {
                metadata.insert(role.to_string(), read_limited(&path)?);
            }
        }
    }
    let root_path = newest_root(dir)?
        .or_else(|| pick(dir, "root", None))
        .ok_or_else(|| Error::content(dir, FileProblem::NoRootMetadata))?;
    metadata.insert("root".into(), read_limited(&root_path)?);
    online::role_expiries(&metadata, &dir.display().to_string())
}

/// The file of `role` in `dir`: its versioned name when `version` is known and there,
/// else its plain name when there.
fn pick(dir: &Path, role: &str, version: Option<u64>) -> Option<PathBuf> {
    use trustroot_core::role_name::metadata_file_name;
    let versioned = version.map(|v| dir.join(metadata_file_name(role, Some(v))));
    let plain = dir.join(metadata_file_name(role, None));
    versioned
        .filter(|p| p.is_file())
        .or_else(|| plain.is_file().then_some(plain))
}

/// The `N.root.json` of `dir` with the highest N.
fn newest_root(dir: &Path) -> Result<Option<PathBuf>> {
    let mut newest: Option<(u64, PathBuf)> = None;
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, IoOp::Access, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(v) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".root.json"))
            .and_then(|v| v.parse::<u64>().ok())
        else {
            continue;
        };
        if newest.as_ref().is_none_or(|(n, _)| v > *n) {
            newest = Some((v, entry.path()));
        }
    }
    Ok(newest.map(|(_, path)| path))
}
