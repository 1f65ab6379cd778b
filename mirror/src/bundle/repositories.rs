//! Bundles of several named repositories (a directory of named repositories, `crate::set`).
//!
//! The bundle is a tar archive (optionally zstd-compressed) of each repository's own
//! bundle, exactly what `mirror export` writes for one repository (uncompressed), as
//! `repositories/NAME.tar`, and last `trustroot-bundles.json`: each one's length and
//! sha256. An import unpacks the inner bundles outside the mirror (plain files with
//! repository names only, within the limits), checks them against that manifest, and then
//! imports each as one repository's bundle is imported, from its own pinned root (or the
//! root that repository already trusts), into `DIR/NAME`: each verified, switched or
//! refused on its own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::export::{export, header_for, parent_of, seal};
use super::import::{ImportOptions, free_space, import, read_manifest};
use super::members::{Naming, for_each_member, write_member};
use super::{BundleFile, BundleLimits, ExportSummary, Hashing, refused};
use crate::error::{BundleProblem, UpdateError};
use crate::set::{self, Kind};
use crate::sync::SyncSummary;
use crate::verify::TrustedTargets;

/// The manifest member of a bundle of named repositories, its last member.
pub const REPOSITORIES_MANIFEST: &str = "trustroot-bundles.json";
/// Where each repository's bundle is inside it.
pub const REPOSITORIES_PREFIX: &str = "repositories/";

/// `trustroot-bundles.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositoriesManifest {
    pub format: u32,
    pub created_at: String,
    /// Each repository's bundle, by repository name.
    pub repositories: BTreeMap<String, BundleFile>,
}

/// Writes the named repositories of the directory `dir` into one bundle at `out`
/// (zstd-compressed when `compress`). The caller verifies each first, leaving its targets'
/// hashes to the export: each name comes with its verified targets (see [`export`]).
pub fn export_named(
    dir: &Path,
    repositories_verified: &[(String, TrustedTargets)],
    out: &Path,
    compress: bool,
) -> Result<Vec<(String, ExportSummary)>, UpdateError> {
    let scratch = tempfile::tempdir_in(parent_of(out)).map_err(|e| UpdateError::io(parent_of(out), e))?;
    let tar_file = tempfile::tempfile_in(scratch.path()).map_err(|e| UpdateError::io(scratch.path(), e))?;
    let mut builder = tar::Builder::new(tar_file);
    let mut repositories = BTreeMap::new();
    let mut summaries = Vec::new();
    for (name, trusted) in repositories_verified {
        let inner = scratch.path().join(format!("{name}.tar"));
        let summary = export(&set::repository_dir(dir, name)?, &inner, false, trusted)?;
        let file = std::fs::File::open(&inner).map_err(|e| UpdateError::io(&inner, e))?;
        let length = file.metadata().map_err(|e| UpdateError::io(&inner, e))?.len();
        let mut reader = Hashing {
            inner: file,
            hasher: Sha256::new(),
            count: 0,
        };
        builder
            .append_data(
                &mut header_for(length),
                format!("{REPOSITORIES_PREFIX}{name}.tar"),
                &mut reader,
            )
            .map_err(|e| UpdateError::io(&inner, e))?;
        repositories.insert(
            name.clone(),
            BundleFile {
                length: reader.count,
                sha256: hex::encode(reader.hasher.finalize()),
            },
        );
        std::fs::remove_file(&inner).map_err(|e| UpdateError::io(&inner, e))?;
        summaries.push((name.clone(), summary));
    }
    let manifest = RepositoriesManifest {
        format: 1,
        created_at: trustroot_core::time::format(&Utc::now()),
        repositories,
    };
    let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| UpdateError::io(out, e.into()))?;
    builder
        .append_data(
            &mut header_for(bytes.len() as u64),
            REPOSITORIES_MANIFEST,
            bytes.as_slice(),
        )
        .map_err(|e| UpdateError::io(out, e))?;
    let tar_file = builder.into_inner().map_err(|e| UpdateError::io(out, e))?;
    seal(tar_file, out, compress)?;
    Ok(summaries)
}

/// What an import of named repositories needs to know.
#[derive(Debug, Clone)]
pub struct NamedImportOptions {
    /// The directory of named repositories (made one when empty).
    pub dir: PathBuf,
    pub bundle: PathBuf,
    /// The root each repository's bundle must verify from, by name (`--root NAME=FILE`);
    /// required for a repository `dir` does not hold yet.
    pub roots: BTreeMap<String, Vec<u8>>,
    /// Import this repository only (`--only NAME`).
    pub only: Option<String>,
    pub now: DateTime<Utc>,
    pub limits: trustroot_core::Limits,
    pub bundle_limits: BundleLimits,
    /// Where to unpack (default: the system's temporary directory).
    pub scratch: Option<PathBuf>,
    /// The Sigstore trust material keyless keys are checked against.
    pub sigstore: Option<std::sync::Arc<trustroot_core::keyless::SigstoreTrust>>,
}

/// One repository's import: its own outcome, whatever the others'.
#[derive(Debug)]
pub struct NamedImport {
    pub name: String,
    pub result: Result<SyncSummary, UpdateError>,
}

/// Imports a bundle of named repositories into `options.dir`. The bundle as a whole is
/// checked first (an error here changes nothing); then each repository is imported on its
/// own: one that does not verify is reported and left as it was, the others switch.
pub async fn import_named(options: NamedImportOptions) -> Result<Vec<NamedImport>, UpdateError> {
    let dir = &options.dir;
    let existed = dir.exists();
    if let Kind::Unnamed = set::kind(dir)? {
        return Err(UpdateError::UnnamedMirror { dir: dir.clone() });
    }
    for name in options.roots.keys().chain(options.only.iter()) {
        set::check_name(name)?;
    }
    let scratch = match &options.scratch {
        Some(place) => tempfile::tempdir_in(place),
        None => tempfile::tempdir(),
    }
    .map_err(|e| UpdateError::io(std::env::temp_dir(), e))?;
    let inner = unpack(&options.bundle, scratch.path(), &options.bundle_limits)?;
    let held = || inner.keys().cloned().collect::<Vec<_>>().join(", ");
    // A pinned root or --only for a repository the bundle lacks is a mistake to name,
    // never a repository silently left out.
    for name in options.roots.keys().chain(options.only.iter()) {
        if !inner.contains_key(name) {
            return Err(refused(
                &options.bundle,
                BundleProblem::NoSuchRepository {
                    name: name.clone(),
                    held: held(),
                },
            ));
        }
    }
    set::create(dir)?;
    let mut imports = Vec::new();
    for (name, path) in &inner {
        if options.only.as_ref().is_some_and(|only| only != name) {
            continue;
        }
        let result = import(ImportOptions {
            dir: set::repository_dir(dir, name)?,
            bundle: path.clone(),
            root: options.roots.get(name).cloned(),
            now: options.now,
            limits: options.limits.clone(),
            bundle_limits: options.bundle_limits.clone(),
            scratch: Some(scratch.path().to_path_buf()),
            sigstore: options.sigstore.clone(),
        })
        .await;
        imports.push(NamedImport {
            name: name.clone(),
            result,
        });
    }
    // Nothing imported into a directory this import made: leave no trace of it.
    if !existed && imports.iter().all(|i| i.result.is_err()) {
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(imports)
}

/// Unpacks each repository's bundle into `into` as `NAME.tar` and checks them all
/// against the bundle's manifest; returns their paths by name.
fn unpack(bundle: &Path, into: &Path, limits: &BundleLimits) -> Result<BTreeMap<String, PathBuf>, UpdateError> {
    let mut unpacked: BTreeMap<String, BundleFile> = BTreeMap::new();
    let mut manifest = None;
    for_each_member(bundle, limits, Naming::Repositories, |member, content| {
        if member.relative.is_empty() {
            manifest = Some(read_manifest(bundle, member, content, |m: &RepositoriesManifest| {
                m.format
            })?);
            return Ok(true);
        }
        // Each repository's bundle is written whole before it is checked: never past the
        // free space (the limits bound the declared sizes, not the disk).
        if let Some(free) = free_space(into)
            && free < member.declared
        {
            return Err(refused(
                bundle,
                BundleProblem::NoRoomForMember {
                    name: member.name.clone(),
                    need: member.declared,
                    free,
                    place: into.to_path_buf(),
                },
            ));
        }
        let file = write_member(bundle, into, member, content)?;
        unpacked.insert(member.relative.trim_end_matches(".tar").to_string(), file);
        Ok(true)
    })?;
    let manifest = manifest.ok_or_else(|| refused(bundle, BundleProblem::NoManifest))?;
    for (name, found) in &unpacked {
        match manifest.repositories.get(name) {
            None => {
                return Err(refused(bundle, BundleProblem::NotInManifest { path: name.clone() }));
            }
            Some(expected) if expected != found => {
                return Err(refused(bundle, BundleProblem::ManifestMismatch { path: name.clone() }));
            }
            Some(_) => {}
        }
    }
    if let Some(missing) = manifest.repositories.keys().find(|name| !unpacked.contains_key(*name)) {
        return Err(refused(bundle, BundleProblem::MissingMember { path: missing.clone() }));
    }
    Ok(unpacked
        .into_keys()
        .map(|name| {
            let path = into.join(format!("{name}.tar"));
            (name, path)
        })
        .collect())
}
