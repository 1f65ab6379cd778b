//! Import: a bundle unpacked outside the mirror, its metadata verified before any target
//! is written, its targets held to their verified lengths and hashes, and the mirror then
//! updated by a sync from the unpacked tree.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use trustroot_core::{Limits, TargetFile};
use url::Url;

use super::members::{Member, Naming, copy_member, for_each_member, write_member};
use super::{BundleFile, BundleLimits, BundleManifest, MANIFEST_NAME, MAX_MANIFEST_SIZE, refused};
use crate::download::file_matches;
use crate::error::{BundleProblem, TrustSource, UpdateError};
use crate::fetch::FetchConfig;
use crate::layout::MirrorDir;
use crate::manifest::Manifest;
use crate::sync::{SyncOptions, SyncSummary, sync};

/// A bundle's manifest member (its last), bounded and of format 1: one repository's
/// [`BundleManifest`], or named repositories' `RepositoriesManifest` (`format_of` reads
/// its format).
pub(super) fn read_manifest<T: serde::de::DeserializeOwned>(
    bundle: &Path,
    member: &Member,
    content: &mut dyn Read,
    format_of: fn(&T) -> u32,
) -> Result<T, UpdateError> {
    if member.declared > MAX_MANIFEST_SIZE {
        return Err(refused(
            bundle,
            BundleProblem::ManifestTooLarge {
                size: member.declared,
                limit: MAX_MANIFEST_SIZE,
            },
        ));
    }
    let mut bytes = Vec::new();
    content
        .read_to_end(&mut bytes)
        .map_err(|e| refused(bundle, BundleProblem::ManifestTruncated { reason: e.to_string() }))?;
    let manifest: T = serde_json::from_slice(&bytes)
        .map_err(|e| refused(bundle, BundleProblem::ManifestUnreadable { reason: e.to_string() }))?;
    if format_of(&manifest) != 1 {
        return Err(refused(
            bundle,
            BundleProblem::ManifestFormat {
                found: format_of(&manifest),
                expected: 1,
            },
        ));
    }
    Ok(manifest)
}

/// The first step of an import: unpacks the metadata members, which an export writes
/// before any target, into `into`, bounded by the sizes a client allows for metadata.
/// Returns each one's length and sha256. Stops at the first target.
pub fn unpack_metadata(
    bundle: &Path,
    into: &Path,
    limits: &BundleLimits,
    metadata_limits: &Limits,
) -> Result<BTreeMap<String, BundleFile>, UpdateError> {
    let largest = metadata_limits
        .max_root_size
        .max(metadata_limits.max_timestamp_size)
        .max(metadata_limits.max_snapshot_size)
        .max(metadata_limits.max_targets_size);
    let mut metadata = BTreeMap::new();
    for_each_member(bundle, limits, Naming::Tree, |member, content| {
        if member.is_target() || member.name == MANIFEST_NAME {
            return Ok(false);
        }
        if member.declared > largest {
            return Err(refused(
                bundle,
                BundleProblem::MetadataTooLarge {
                    name: member.name.clone(),
                    size: member.declared,
                    limit: largest,
                },
            ));
        }
        let file = write_member(bundle, into, member, content)?;
        metadata.insert(member.relative.clone(), file);
        Ok(true)
    })?;
    if !metadata.contains_key("timestamp.json") {
        return Err(refused(bundle, BundleProblem::NoTimestampFirst));
    }
    Ok(metadata)
}

/// The second step of an import, once the metadata unpacked by [`unpack_metadata`] has
/// verified: unpacks the targets that verified metadata calls for (`wanted`: each file
/// name with the target it holds, whose verified length its member must have and whose
/// hashes its content must match), skips the others (files a mirror keeps for a grace
/// period), checks the metadata members again (the bundle may have changed since), and
/// checks everything unpacked against the bundle's manifest.
pub fn unpack_targets(
    bundle: &Path,
    into: &Path,
    limits: &BundleLimits,
    metadata: &BTreeMap<String, BundleFile>,
    wanted: &BTreeMap<String, (String, TargetFile)>,
) -> Result<BundleManifest, UpdateError> {
    let mut unpacked: BTreeMap<String, BundleFile> = BTreeMap::new();
    let mut manifest = None;
    let mut in_targets = false;
    for_each_member(bundle, limits, Naming::Tree, |member, content| {
        if member.name == MANIFEST_NAME {
            manifest = Some(read_manifest(bundle, member, content, |m: &BundleManifest| m.format)?);
            return Ok(true);
        }
        if !member.is_target() {
            if in_targets {
                return Err(refused(
                    bundle,
                    BundleProblem::MetadataAfterTarget {
                        name: member.name.clone(),
                    },
                ));
            }
            let again = copy_member(bundle, member, content, &mut std::io::sink())?;
            if metadata.get(&member.relative) != Some(&again) {
                return Err(refused(
                    bundle,
                    BundleProblem::ChangedWhileImported {
                        name: member.name.clone(),
                    },
                ));
            }
            unpacked.insert(member.relative.clone(), again);
            return Ok(true);
        }
        in_targets = true;
        let Some((target, info)) = wanted.get(&member.relative) else {
            // Not called for by the verified metadata: never written.
            return Ok(true);
        };
        if member.declared != info.length {
            return Err(refused(
                bundle,
                BundleProblem::LengthMismatch {
                    name: member.name.clone(),
                    size: member.declared,
                    expected: info.length,
                },
            ));
        }
        let file = write_member(bundle, into, member, content)?;
        if !file_matches(&into.join(&member.relative), target, info)? {
            return Err(refused(
                bundle,
                BundleProblem::HashMismatch {
                    name: member.name.clone(),
                    target: target.clone(),
                },
            ));
        }
        unpacked.insert(member.relative.clone(), file);
        Ok(true)
    })?;
    let manifest = manifest.ok_or_else(|| refused(bundle, BundleProblem::NoManifest))?;
    for (path, found) in &unpacked {
        match manifest.files.get(path) {
            None => {
                return Err(refused(bundle, BundleProblem::NotInManifest { path: path.clone() }));
            }
            Some(expected) if expected != found => {
                return Err(refused(bundle, BundleProblem::ManifestMismatch { path: path.clone() }));
            }
            Some(_) => {}
        }
    }
    if let Some(missing) = manifest
        .files
        .keys()
        .find(|path| wanted.contains_key(*path) && !unpacked.contains_key(*path))
    {
        return Err(refused(bundle, BundleProblem::MissingMember { path: missing.clone() }));
    }
    Ok(manifest)
}

/// Bytes free for an unprivileged writer on the file system holding `path` (or its
/// nearest existing parent); `None` when it cannot be told.
pub(super) fn free_space(path: &Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let stat = rustix::fs::statvfs(existing).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Refuses an import whose verified targets (`need` bytes) are over the bundle's total
/// limit, or more than the free space where they are unpacked or where the mirror keeps
/// them: better refused up front than a disk filled half way.
fn check_room(options: &ImportOptions, scratch: &Path, need: u64) -> Result<(), UpdateError> {
    if need > options.bundle_limits.max_total_size {
        return Err(refused(
            &options.bundle,
            BundleProblem::TargetsTooLarge {
                need,
                limit: options.bundle_limits.max_total_size,
            },
        ));
    }
    // A mirror that exists links what it already holds: only a new one needs room for all.
    let places = if MirrorDir::new(&options.dir).current()?.is_some() {
        vec![scratch]
    } else {
        vec![scratch, options.dir.as_path()]
    };
    for place in places {
        if let Some(free) = free_space(place)
            && free < need
        {
            return Err(refused(
                &options.bundle,
                BundleProblem::NoRoom {
                    need,
                    free,
                    place: place.to_path_buf(),
                },
            ));
        }
    }
    Ok(())
}

/// What an import needs to know.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub dir: PathBuf,
    pub bundle: PathBuf,
    /// The site's pinned root: the bundle must verify from it.
    pub root: Option<Vec<u8>>,
    pub now: DateTime<Utc>,
    pub limits: Limits,
    pub bundle_limits: BundleLimits,
    /// Where to unpack (default: the system's temporary directory).
    pub scratch: Option<PathBuf>,
    /// The Sigstore trust material keyless keys are checked against (see
    /// [`SyncOptions::sigstore`]).
    pub sigstore: Option<std::sync::Arc<trustroot_core::keyless::SigstoreTrust>>,
}

/// Imports a bundle into the mirror in `dir`: unpack and check it outside the mirror,
/// verify it from the pinned root, then update the mirror with a sync from the unpacked
/// tree (which verifies it again from the trust the mirror holds, refuses a bundle older
/// than the mirror, and switches atomically). On failure the mirror is left as it was.
pub async fn import(options: ImportOptions) -> Result<SyncSummary, UpdateError> {
    let scratch = match &options.scratch {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .map_err(|e| UpdateError::io(std::env::temp_dir(), e))?;
    let tree = scratch.path().join("repository");
    std::fs::create_dir_all(&tree).map_err(|e| UpdateError::io(&tree, e))?;
    let layout = MirrorDir::new(&options.dir);
    let existed = options.dir.exists();
    let had_staging = layout.staging().exists();
    let current = layout.current()?;
    // The metadata comes first and is verified before any target is unpacked: from the
    // root the site pins, or from the root the mirror trusts. Only then does each target
    // have a length to be held to.
    let (trusted_root, from) = match (&options.root, current) {
        (Some(root), _) => (root.clone(), TrustSource::PinnedRoot),
        (None, Some(n)) => {
            let path = layout.state(n).join("client/root.json");
            (
                std::fs::read(&path).map_err(|e| UpdateError::io(&path, e))?,
                TrustSource::MirrorRoot,
            )
        }
        (None, None) => {
            return Err(UpdateError::NoMirrorToImportInto {
                dir: options.dir.clone(),
            });
        }
    };
    let metadata = unpack_metadata(&options.bundle, &tree, &options.bundle_limits, &options.limits)?;
    let desired = match crate::verify::verify_metadata(
        &tree,
        trusted_root,
        options.now,
        options.limits.clone(),
        options.sigstore.clone(),
    )
    .await?
    {
        Ok((_, desired)) => desired,
        Err(problem) => {
            return Err(refused(
                &options.bundle,
                BundleProblem::DoesNotVerify {
                    from,
                    source: Box::new(problem),
                },
            ));
        }
    };
    let wanted: BTreeMap<String, (String, TargetFile)> = desired
        .files
        .into_iter()
        .filter_map(|(path, want)| match want {
            crate::sync::Wanted::Target(target) => {
                Some((path.as_str().to_string(), (target.name.clone(), target.target_file())))
            }
            crate::sync::Wanted::Metadata(_) => None,
        })
        .collect();
    check_room(&options, &tree, wanted.values().map(|(_, info)| info.length).sum())?;
    let manifest = unpack_targets(&options.bundle, &tree, &options.bundle_limits, &metadata, &wanted)?;
    // The bundle's origin is not signed by anything: a mirror keeps the origin it has, and
    // only a new mirror takes the bundle's (which later syncs would fetch from).
    let origin = match current {
        Some(n) => Manifest::read_state(&layout.state(n))?.origin,
        None => manifest.origin.clone(),
    };
    // The mirror directory may be a relative path: the URLs are made from its absolute form.
    let url = |path: &Path| {
        let absolute = std::path::absolute(path).map_err(|e| UpdateError::io(path, e))?;
        Url::from_directory_path(&absolute).map_err(|_| UpdateError::NotAbsolute {
            path: path.to_path_buf(),
        })
    };
    let sync_options = SyncOptions {
        dir: options.dir.clone(),
        from: Some(url(&tree)?),
        targets_from: Some(url(&tree.join("targets"))?),
        root: options.root.clone(),
        jobs: 4,
        keep: chrono::Duration::days(7),
        verify_all: false,
        now: options.now,
        limits: options.limits.clone(),
        fetch: FetchConfig::default(),
        progress: false,
        record_origin: Some(origin),
        // A refused bundle changes nothing in the mirror, its record of syncs included.
        record_failure: false,
        sigstore: options.sigstore.clone(),
        // The unpacked targets are this import's own, checked against the bundle's
        // manifest: moved into the new state, not written a second time.
        adopt_local_targets: true,
    };
    let result = sync(sync_options).await;
    if result.is_err() {
        // Leave the mirror as it was: no half-built state from this import.
        if !existed {
            let _ = std::fs::remove_dir_all(&options.dir);
        } else if !had_staging {
            let _ = std::fs::remove_dir_all(layout.staging());
        }
    }
    result
}
