//! Recovery from a publish or an online refresh that stopped half way.
//!
//! Both record the new metadata in `metadata/` file by file (timestamp last) and only then
//! switch the published tree with one rename. A crash in between leaves the served tree as
//! it was, complete and valid, and `metadata/` partly ahead of it (for example a new
//! snapshot beside the old timestamp). The served tree is therefore the truth: before the
//! next publish or refresh, under the repository lock, `metadata/` is brought back to
//! exactly what is served, and the interrupted command can simply be run again.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use trustroot_core::metadata::{Snapshot, Timestamp};
use trustroot_core::role_name::metadata_file_name;
use trustroot_core::{Envelope, Limits};

use crate::error::{Error, FileProblem, IoOp, Result};
use crate::keys::read_limited;
use crate::pubdir::PublishDir;
use crate::repo::{MAX_METADATA_SIZE, Repo};

/// Brings `metadata/` back to the state `dir` serves, if they differ. Returns what was
/// restored, for the caller to report; `None` when they already agree or nothing is
/// published yet.
pub(crate) fn reconcile(repo: &Repo, dir: &PublishDir) -> Result<Option<String>> {
    let Some((state, tree)) = dir.current()? else {
        return Ok(None);
    };
    let served = served_metadata(&tree)?;
    let metadata = repo.root.join("metadata");
    // What differs. A crash only ever leaves `metadata/` ahead of the served tree; a
    // recorded version behind the served one means the destination is not this
    // repository's (or metadata/ was replaced), and nothing is guessed.
    let mut differing = Vec::new();
    for (role, version, bytes) in &served.roles {
        let path = metadata.join(metadata_file_name(role, None));
        let recorded = match fs::symlink_metadata(&path) {
            Ok(_) => read_limited(&path, MAX_METADATA_SIZE)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                differing.push((path, role, *version, bytes));
                continue;
            }
            Err(e) => return Err(Error::io(&path, IoOp::Access, e)),
        };
        if recorded == *bytes {
            continue;
        }
        let recorded_version = Envelope::parse(role, &recorded, &Limits::default())
            .ok()
            .and_then(|e| e.version());
        if recorded_version.is_some_and(|v| v < *version) {
            return Err(Error::content(
                &path,
                FileProblem::BehindPublished {
                    role: role.as_str().into(),
                    recorded: recorded_version.unwrap_or(0),
                    state,
                    served: *version,
                },
            ));
        }
        differing.push((path, role, *version, bytes));
    }
    let mut restored = Vec::new();
    for (path, role, version, bytes) in differing {
        repo.write(&path, bytes)?;
        restored.push(format!("{role} v{version}"));
    }
    // Targets roles a crashed publish added, that the served snapshot does not list.
    let listed: BTreeSet<String> = served
        .roles
        .iter()
        .map(|(role, _, _)| metadata_file_name(role, None))
        .collect();
    for entry in fs::read_dir(&metadata).map_err(|e| Error::io(&metadata, IoOp::Access, e))? {
        let entry = entry.map_err(|e| Error::io(&metadata, IoOp::Access, e))?;
        let name = entry.file_name().to_string_lossy().to_string();
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if is_file && name.ends_with(".json") && !name.starts_with('.') && !listed.contains(&name) {
            fs::remove_file(entry.path()).map_err(|e| Error::io(&entry.path(), IoOp::Remove, e))?;
            restored.push(format!("removed {name} (not published)"));
        }
    }
    // Root versions recorded in root_history but never served.
    let history = metadata.join("root_history");
    if let Ok(entries) = fs::read_dir(&history) {
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&history, IoOp::Access, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            let version = name.strip_suffix(".root.json").and_then(|v| v.parse::<u64>().ok());
            if version.is_some_and(|v| v > served.root_version) {
                fs::remove_file(entry.path()).map_err(|e| Error::io(&entry.path(), IoOp::Remove, e))?;
                restored.push(format!("removed root_history/{name} (not published)"));
            }
        }
    }
    if restored.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "metadata/ did not match the published tree (state {state}): an earlier publish or online refresh stopped before it finished, or metadata/ was edited; metadata/ was restored from what clients are served ({})",
        restored.join(", ")
    )))
}

/// The metadata a served tree holds: each role's current version and bytes, and the
/// highest root version.
struct Served {
    roles: Vec<(String, u64, Vec<u8>)>,
    root_version: u64,
}

fn served_metadata(tree: &Path) -> Result<Served> {
    let read = |name: &str| read_limited(&tree.join(name), MAX_METADATA_SIZE);
    let parse = |name: &str, role: &str, bytes: &[u8]| {
        Envelope::parse(role, bytes, &Limits::default())
            .map_err(|e| Error::content(&tree.join(name), FileProblem::Metadata(Box::new(e))))
    };
    let mut roles = Vec::new();

    let timestamp_bytes = read("timestamp.json")?;
    let envelope = parse("timestamp.json", "timestamp", &timestamp_bytes)?;
    let timestamp: Timestamp = serde_json::from_value(envelope.signed)
        .map_err(Error::not_role(&tree.join("timestamp.json"), "a timestamp"))?;
    let snapshot_version = timestamp
        .snapshot_meta()
        .ok_or_else(|| Error::content(&tree.join("timestamp.json"), FileProblem::NoSnapshotListed))?
        .version;
    roles.push(("timestamp".to_string(), timestamp.common.version, timestamp_bytes));

    let name = format!("{snapshot_version}.snapshot.json");
    let snapshot_bytes = read(&name)?;
    let envelope = parse(&name, "snapshot", &snapshot_bytes)?;
    let snapshot: Snapshot =
        serde_json::from_value(envelope.signed).map_err(Error::not_role(&tree.join(&name), "a snapshot"))?;
    for (file, meta) in &snapshot.meta {
        let Some(role) = file.strip_suffix(".json") else {
            continue;
        };
        let name = metadata_file_name(role, Some(meta.version));
        roles.push((role.to_string(), meta.version, read(&name)?));
    }
    roles.push(("snapshot".to_string(), snapshot_version, snapshot_bytes));

    let mut root_version = 0;
    for entry in fs::read_dir(tree).map_err(|e| Error::io(tree, IoOp::Access, e))? {
        let entry = entry.map_err(|e| Error::io(tree, IoOp::Access, e))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(v) = name.strip_suffix(".root.json").and_then(|v| v.parse::<u64>().ok()) {
            root_version = root_version.max(v);
        }
    }
    if root_version == 0 {
        return Err(Error::content(tree, FileProblem::NoRootHistory));
    }
    roles.push((
        "root".to_string(),
        root_version,
        read(&format!("{root_version}.root.json"))?,
    ));
    Ok(Served { roles, root_version })
}
