//! The repository as published in the signing repository's `metadata/`: the roles it
//! holds, its root history, the targets roles reachable from it, and the published tree.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use trustroot_core::metadata::{Delegations, Snapshot};
use trustroot_core::{Envelope, Limits};

use crate::error::{Error, FileProblem, IoOp, Result};
use crate::keys;
use crate::repo::{self, Repo};

pub(crate) fn parse_envelope(path: &Path, role: &str, bytes: &[u8]) -> Result<Envelope> {
    Envelope::parse(role, bytes, &Limits::default())
        .map_err(|e| Error::content(path, FileProblem::Metadata(Box::new(e))))
}

/// A targets role's version and `delegations`, read straight from its envelope's bytes:
/// the `targets` map is skipped while it is parsed, so a role of 100,000 entries is never
/// held as values for this. `None` when the bytes are no JSON object with a `signed` object.
pub(crate) fn targets_outline(bytes: &[u8]) -> Option<(Option<u64>, Option<serde_json::Value>)> {
    #[derive(serde::Deserialize)]
    struct Outline {
        signed: Fields,
    }
    #[derive(serde::Deserialize)]
    struct Fields {
        #[serde(default)]
        version: Option<serde_json::Value>,
        #[serde(default)]
        delegations: Option<serde_json::Value>,
    }
    let outline: Outline = serde_json::from_slice(bytes).ok()?;
    Some((
        outline.signed.version.as_ref().and_then(serde_json::Value::as_u64),
        outline.signed.delegations,
    ))
}

/// Reads `metadata/` as published: the roles it holds and the root history.
/// Role -> bytes, and root version -> bytes.
pub(crate) type Published = (BTreeMap<String, Vec<u8>>, BTreeMap<u64, Vec<u8>>);

pub(crate) fn read_published(repo: &Repo) -> Result<Published> {
    let dir = repo.root.join("metadata");
    let mut roles = BTreeMap::new();
    for role in ["root", "timestamp", "snapshot", "targets"] {
        let path = dir.join(format!("{role}.json"));
        if path.is_file() {
            roles.insert(role.to_string(), keys::read_limited(&path, repo::MAX_METADATA_SIZE)?);
        }
    }
    // Every targets role the published snapshot lists.
    if let Some(bytes) = roles.get("snapshot") {
        let path = dir.join("snapshot.json");
        let envelope = parse_envelope(&path, "snapshot", bytes)?;
        let snapshot: Snapshot =
            serde_json::from_value(envelope.signed.clone()).map_err(Error::not_role(&path, "a snapshot"))?;
        for name in snapshot.meta.keys() {
            let Some(role) = name.strip_suffix(".json") else {
                continue;
            };
            if roles.contains_key(role) {
                continue;
            }
            let path = dir.join(trustroot_core::role_name::metadata_file_name(role, None));
            if path.is_file() {
                roles.insert(role.to_string(), keys::read_limited(&path, repo::MAX_METADATA_SIZE)?);
            }
        }
    }
    let mut history = BTreeMap::new();
    let history_dir = dir.join("root_history");
    if let Ok(entries) = std::fs::read_dir(&history_dir) {
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&history_dir, IoOp::Access, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(version) = name.strip_suffix(".root.json").and_then(|v| v.parse::<u64>().ok()) else {
                continue;
            };
            history.insert(version, keys::read_limited(&entry.path(), repo::MAX_METADATA_SIZE)?);
        }
    }
    if let Some(bytes) = roles.get("root") {
        let envelope = parse_envelope(&dir.join("root.json"), "root", bytes)?;
        if let Some(v) = envelope.version() {
            history.entry(v).or_insert_with(|| bytes.clone());
        }
    }
    Ok((roles, history))
}

/// The published tree's current state directory, if `publish` made one.
pub fn published_tree(repo: &Repo) -> Result<Option<PathBuf>> {
    let dir = crate::pubdir::PublishDir::new(&repo.policy, &repo.root);
    Ok(dir.current()?.map(|(_, path)| path))
}

/// Every targets role reachable from `targets` through delegations, in the candidate.
pub fn reachable_roles(metadata: &BTreeMap<String, Vec<u8>>) -> (Vec<String>, Vec<(String, String)>) {
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    let mut missing = Vec::new();
    let mut queue = vec![("targets".to_string(), "root".to_string())];
    while let Some((role, delegator)) = queue.pop() {
        if !seen.insert(role.clone()) {
            continue;
        }
        let Some(bytes) = metadata.get(&role) else {
            missing.push((role, delegator));
            continue;
        };
        order.push(role.clone());
        let Some((_, Some(delegations))) = targets_outline(bytes) else {
            continue;
        };
        if let Ok(delegations) = serde_json::from_value::<Delegations>(delegations) {
            let children: Vec<String> = delegations.children().collect();
            queue.extend(children.into_iter().rev().map(|child| (child, role.clone())));
        }
    }
    (order, missing)
}
