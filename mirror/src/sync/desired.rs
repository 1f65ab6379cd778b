//! The published tree current metadata calls for, file by file: what a sync builds and
//! `mirror verify` checks.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;

use trustroot_core::display::escape;
use trustroot_core::{TargetFile, TrustedSet, role_name, target_path};

use super::Skipped;
use crate::error::UpdateError;
use crate::tree_path::TreePath;

/// A file the new state must hold.
pub(crate) enum Wanted {
    Metadata(Vec<u8>),
    /// A target, shared by all the names it is served under and by its download.
    Target(Arc<WantedTarget>),
}

/// What the mirror needs of a target: its path, length and every hash listed, nothing
/// else. Its custom and unknown fields stay in the targets role's bytes, which the state
/// serves exactly as verified; nothing on the mirror side reads them. Compact because a
/// sync holds one per target: core's `TargetFile` keeps its hashes in a map (about 600
/// bytes for one sha256), which for 100,000 targets cost more memory than the rest of
/// the sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WantedTarget {
    /// The target path, as metadata lists it.
    pub name: String,
    pub length: u64,
    /// Every hash listed, by algorithm name, in the metadata's (sorted) order; unknown
    /// algorithms are kept too, so a verifier sees exactly what the metadata lists.
    hashes: Box<[(Cow<'static, str>, Box<str>)]>,
}

impl WantedTarget {
    pub fn new(name: &str, info: &TargetFile) -> WantedTarget {
        let hashes = info
            .hashes
            .iter()
            .map(|(algorithm, digest)| {
                // The two algorithms every publisher writes cost no allocation of their own.
                let algorithm = match algorithm.as_str() {
                    "sha256" => Cow::Borrowed("sha256"),
                    "sha512" => Cow::Borrowed("sha512"),
                    other => Cow::Owned(other.to_string()),
                };
                (algorithm, digest.as_str().into())
            })
            .collect();
        WantedTarget {
            name: name.to_string(),
            length: info.length,
            hashes,
        }
    }

    /// The digest listed for `algorithm`, as written in the metadata.
    pub fn hash(&self, algorithm: &str) -> Option<&str> {
        self.hashes
            .iter()
            .find(|(listed, _)| listed == algorithm)
            .map(|(_, digest)| &**digest)
    }

    /// The hash its content is published under with consistent snapshots (see
    /// [`crate::updater::preferred_hash`]).
    pub fn preferred_hash(&self) -> Option<&str> {
        crate::updater::preferred_hash_of(|algorithm| self.hash(algorithm))
    }

    /// Its length and hashes as core's `TargetFile`, what a verifier reads: made for one
    /// file being checked at a time, never kept.
    pub fn target_file(&self) -> TargetFile {
        target_file(self.length, self.hashes.iter().map(|(a, d)| (&**a, &**d)))
    }
}

/// Core's `TargetFile` of a target's length and hashes only (what a verifier reads; custom
/// and unknown fields stay in the role's bytes).
pub(super) fn target_file<'a>(length: u64, hashes: impl Iterator<Item = (&'a str, &'a str)>) -> TargetFile {
    TargetFile {
        length,
        hashes: hashes
            .map(|(algorithm, digest)| (algorithm.to_string(), digest.to_string()))
            .collect(),
        custom: None,
        unknown: Default::default(),
    }
}

/// What a state must hold: every file by its name, and the targets left out.
pub(crate) struct Desired {
    pub files: BTreeMap<TreePath, Wanted>,
    pub skipped: Vec<Skipped>,
}

/// A target as a client resolves it, with the names it would be served under.
struct Resolved {
    /// The targets role a client would trust it from.
    role: String,
    target: Arc<WantedTarget>,
    names: Vec<TreePath>,
}

/// A metadata file name made from a role name (percent-encoded, so always one segment).
fn metadata_path(name: &str) -> Result<TreePath, UpdateError> {
    TreePath::new(name).map_err(|reason| UpdateError::MetadataFileName { reason })
}

/// The names a target is served under: with consistent snapshots its sha256 and sha512
/// names (clients may ask for either) and, in a directory, tough's name; without, its
/// path. Only hex digests of the right length become part of a name.
pub(super) fn target_names(path: &str, info: &TargetFile, consistent: bool) -> Result<Vec<TreePath>, String> {
    target_path::validate(path).map_err(|e| match e.kind {
        trustroot_core::ErrorKind::UnsafePath { reason } => format!("its path is unsafe: {reason}"),
        _ => e.to_string(),
    })?;
    target_path::check_usable(path, &info.hashes).map_err(|e| match e.kind {
        trustroot_core::ErrorKind::UnusableTarget { reason } => reason,
        _ => e.to_string(),
    })?;
    let mut names = Vec::new();
    if consistent {
        for alg in ["sha256", "sha512"] {
            if let Some(digest) = info.hashes.get(alg) {
                names.push(format!("targets/{}", target_path::consistent_name(path, digest)));
            }
        }
        // tough (and so sigstore-rs) asks for a target in a directory at
        // `targets/<sha256>.<dir>/<name>`, not the spec's `targets/<dir>/<sha256>.<name>`:
        // the mirror serves it under both, as trustroot's publish does.
        if path.contains('/')
            && let Some(digest) = info.hashes.get("sha256")
        {
            names.push(format!("targets/{digest}.{path}"));
        }
    } else {
        names.push(format!("targets/{path}"));
    }
    names
        .iter()
        .map(|name| TreePath::new(name).map_err(|e| e.to_string()))
        .collect()
}

/// The published tree current metadata calls for: every root version verified, the
/// timestamp, snapshot, every targets role, and every target it can store (see
/// [`target_names`]); the others are reported in [`Desired::skipped`].
pub(crate) fn desired_files(trusted: &TrustedSet, root_history: &Path) -> Result<Desired, UpdateError> {
    let mut wanted = root_versions(root_history)?;
    add_role_metadata(trusted, &mut wanted)?;
    let (targets, mut skipped) = resolve_targets(trusted);
    for Resolved { target, names, .. } in drop_clashing(targets, &wanted, &mut skipped) {
        for file in names {
            wanted.entry(file).or_insert_with(|| Wanted::Target(target.clone()));
        }
    }
    Ok(Desired { files: wanted, skipped })
}

/// Every root version in the verified history, under its `N.root.json` name.
fn root_versions(root_history: &Path) -> Result<BTreeMap<TreePath, Wanted>, UpdateError> {
    let mut wanted = BTreeMap::new();
    for entry in std::fs::read_dir(root_history).map_err(|e| UpdateError::io(root_history, e))? {
        let entry = entry.map_err(|e| UpdateError::io(root_history, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_root = name
            .strip_suffix(".root.json")
            .is_some_and(|v| v.parse::<u64>().is_ok());
        if is_root {
            let bytes = std::fs::read(entry.path()).map_err(|e| UpdateError::io(entry.path(), e))?;
            wanted.insert(metadata_path(&name)?, Wanted::Metadata(bytes));
        }
    }
    Ok(wanted)
}

/// Adds the timestamp, the snapshot and every targets role, each under the name a client
/// asks for.
fn add_role_metadata(trusted: &TrustedSet, wanted: &mut BTreeMap<TreePath, Wanted>) -> Result<(), UpdateError> {
    let consistent = trusted.consistent_snapshot();
    let name_of =
        |role: &str, version: u64| metadata_path(&role_name::metadata_file_name(role, consistent.then_some(version)));
    if let Some(timestamp) = trusted.timestamp() {
        wanted.insert(
            metadata_path("timestamp.json")?,
            Wanted::Metadata(timestamp.bytes().to_vec()),
        );
    }
    if let Some(snapshot) = trusted.snapshot() {
        wanted.insert(
            name_of("snapshot", snapshot.signed().common.version)?,
            Wanted::Metadata(snapshot.bytes().to_vec()),
        );
    }
    for (role, targets) in trusted.all_targets() {
        let name = name_of(role, targets.signed().common.version)?;
        // A role named like another file (`2.root` without consistent snapshots) must not
        // replace it.
        if wanted
            .insert(name.clone(), Wanted::Metadata(targets.bytes().to_vec()))
            .is_some()
        {
            return Err(UpdateError::RoleFileTaken {
                role: role.clone(),
                file: name,
            });
        }
    }
    Ok(())
}

/// Each target as a client would resolve it (spec 5.6.7): from the first role in the
/// delegation search trusted for its path, never from a role that merely lists it. Targets
/// that cannot be named or checked are returned as skipped.
fn resolve_targets(trusted: &TrustedSet) -> (Vec<Resolved>, Vec<Skipped>) {
    let consistent = trusted.consistent_snapshot();
    let paths: BTreeSet<&String> = trusted
        .all_targets()
        .values()
        .flat_map(|t| t.signed().targets.keys())
        .collect();
    let mut verified_edges = HashSet::new();
    let mut skipped = Vec::new();
    let mut targets = Vec::new();
    for path in paths {
        let Some((role, info)) = trusted.find_loaded_target(path, &mut verified_edges) else {
            continue;
        };
        match target_names(path, &info, consistent) {
            // Compact at once: the full entry is dropped before the next path is resolved.
            Ok(names) => targets.push(Resolved {
                role: role.into_string(),
                target: Arc::new(WantedTarget::new(path, &info)),
                names,
            }),
            Err(reason) => skipped.push(Skipped {
                target: path.clone(),
                role: role.into_string(),
                reason,
            }),
        }
    }
    (targets, skipped)
}

/// The targets whose names clash with no other file. A name that another target needs as
/// a directory (`a` and `a/b` without consistent snapshots) cannot be stored: both
/// targets are left out (added to `skipped`), never one replacing the other.
fn drop_clashing(
    targets: Vec<Resolved>,
    wanted: &BTreeMap<TreePath, Wanted>,
    skipped: &mut Vec<Skipped>,
) -> Vec<Resolved> {
    let all_names: HashSet<&str> = targets
        .iter()
        .flat_map(|t| t.names.iter().map(TreePath::as_str))
        .chain(wanted.keys().map(TreePath::as_str))
        .collect();
    let directories: HashSet<&str> = targets
        .iter()
        .flat_map(|t| t.names.iter().flat_map(TreePath::parents))
        .collect();
    let clashes: Vec<Option<String>> = targets
        .iter()
        .map(|target| {
            target.names.iter().find_map(|name| {
                if directories.contains(name.as_str()) {
                    return Some(format!("its file name {name} is a directory another target needs"));
                }
                let file = name.parents().find(|dir| all_names.contains(dir))?;
                Some(format!(
                    "its file name {name} lies under {}, which another file is",
                    escape(file)
                ))
            })
        })
        .collect();
    let mut kept = Vec::new();
    for (target, clash) in targets.into_iter().zip(clashes) {
        match clash {
            Some(reason) => skipped.push(Skipped {
                target: target.target.name.clone(),
                role: target.role,
                reason,
            }),
            None => kept.push(target),
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn target_file(length: u64, hashes: &[(&str, &str)]) -> TargetFile {
        TargetFile {
            length,
            hashes: hashes.iter().map(|(a, d)| (a.to_string(), d.to_string())).collect(),
            custom: Some(serde_json::json!({"kept": "in the role's bytes"})),
            unknown: Default::default(),
        }
    }

    /// The compact form must keep everything a verifier reads: the length and every hash
    /// listed (a sha512-only target, both hashes, an algorithm no verifier knows), and the
    /// path exactly (non-ASCII included).
    #[test]
    fn the_compact_target_keeps_path_length_and_every_hash() {
        let sha256 = "a".repeat(64);
        let sha512 = "B".repeat(128);
        let cases = [
            ("sha512-only.bin", target_file(7, &[("sha512", &sha512)])),
            ("both.bin", target_file(0, &[("sha256", &sha256), ("sha512", &sha512)])),
            (
                "dir/ünïcödé ✓.bin",
                target_file(u64::MAX, &[("blake2b", "not-hex"), ("sha256", &sha256)]),
            ),
        ];
        for (path, info) in cases {
            let compact = WantedTarget::new(path, &info);
            assert_eq!(compact.name, path);
            assert_eq!(compact.length, info.length);
            for (algorithm, digest) in &info.hashes {
                assert_eq!(compact.hash(algorithm), Some(digest.as_str()), "{path}: {algorithm}");
            }
            assert_eq!(compact.hash("md5"), None);
            // What a verifier gets back: the same length and hashes (custom fields are
            // served in the role's bytes, never read from here).
            let back = compact.target_file();
            assert_eq!((back.length, &back.hashes), (info.length, &info.hashes), "{path}");
        }
    }

    #[test]
    fn the_compact_target_is_published_under_the_same_hash_as_the_full_entry() {
        let sha256 = "c".repeat(64);
        let sha512 = "d".repeat(128);
        for hashes in [
            vec![("sha256", sha256.as_str()), ("sha512", sha512.as_str())],
            vec![("sha512", sha512.as_str())],
            vec![("sha256", "short"), ("sha512", sha512.as_str())],
            vec![("blake2b", sha256.as_str())],
        ] {
            let info = target_file(1, &hashes);
            let compact = WantedTarget::new("t", &info);
            assert_eq!(
                compact.preferred_hash(),
                crate::updater::preferred_hash(&info),
                "{hashes:?}"
            );
        }
    }
}
