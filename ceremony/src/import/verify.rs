//! Verifying an import source as a client would, from a pinned root, as of a given time:
//! first the cheap checks that name a contradiction between two files (a client would
//! only see "bad signature" or "version mismatch"), then core's client walk over every
//! role, then every target file against its listing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use trustroot_core::metadata::{Root, Targets};
use trustroot_core::walk::{ClientWalk, Goal, Step};
use trustroot_core::{Envelope, Limits, TrustedSet};

use super::Options;
use super::source::{Layout, Source};
use crate::error::{Error, ImportError, Result};

/// A target a verified role lists, and where its bytes are in the source.
#[derive(Debug, Clone)]
pub struct ListedTarget {
    pub path: String,
    pub role: String,
    pub length: u64,
    pub sha256: String,
    /// The checked file in the source; `None` with `--metadata-only`.
    pub file: Option<PathBuf>,
}

/// Everything the walk trusted.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Root versions from the pinned one to the newest, by version.
    pub history: BTreeMap<u64, Vec<u8>>,
    /// The newest root.
    pub root: Root,
    /// Timestamp, snapshot and every targets role reachable from targets: their bytes.
    pub roles: BTreeMap<String, Vec<u8>>,
    /// Every targets role, typed.
    pub targets: BTreeMap<String, Targets>,
    /// Every target file listed.
    pub listed: Vec<ListedTarget>,
}

/// Verifies `source` from `pinned` (its name for messages) as of `options.at`, keyless
/// signatures against `options.sigstore`.
pub fn verify(source: &Source, pinned: &[u8], pinned_name: &str, options: &Options) -> Result<Verified> {
    let (at, metadata_only) = (options.at, options.metadata_only);
    let refused = |file: &str| {
        let file = file.to_string();
        move |source: trustroot_core::Error| Error::from(ImportError::Refused { file, source })
    };
    let pinned_version = Envelope::parse("root", pinned, &Limits::default())
        .map_err(refused(pinned_name))?
        .version()
        .unwrap_or(0);
    let newest = source.history.keys().next_back().copied().unwrap_or(0);
    if pinned_version > newest {
        return Err(ImportError::PinnedRootAhead {
            pinned: pinned_name.to_string(),
            version: pinned_version,
            newest,
        }
        .into());
    }
    if let Some(own) = source.history.get(&pinned_version)
        && own.as_slice() != pinned
    {
        return Err(ImportError::PinnedRootDiffers {
            pinned: pinned_name.to_string(),
            version: pinned_version,
            file: source.root_file(pinned_version),
        }
        .into());
    }
    if source.layout == Layout::Checkout {
        versions_agree(source)?;
    }

    let set = TrustedSet::with_keyless(pinned, at, Limits::default(), options.sigstore.clone())
        .map_err(refused(pinned_name))?;
    let mut walk = ClientWalk::new(set, false);
    walk.start(Goal::Everything);
    let mut roles = BTreeMap::new();
    let mut history = BTreeMap::new();
    history.insert(pinned_version, pinned.to_vec());
    loop {
        let need = match walk.next_step() {
            Ok(Step::Need(need)) => need,
            Ok(_) => break,
            Err(e) => {
                let file = file_of(source, e.role.as_str(), e.version);
                return Err(refused(&file)(e));
            }
        };
        let role = need.role.as_str().to_string();
        let (file, bytes) = if role == "root" {
            let version = need.version.unwrap_or(0);
            (source.root_file(version), source.history.get(&version).cloned())
        } else {
            let file = source.role_file(&role, need.version);
            if !source.has(&file) {
                let referrer = match &need.delegator {
                    Some(delegator) if role != "targets" => {
                        format!("{delegator} delegates to {role}, and the snapshot")
                    }
                    _ if role == "snapshot" => "timestamp".to_string(),
                    _ if role == "timestamp" => "every repository".to_string(),
                    _ => "snapshot".to_string(),
                };
                return Err(ImportError::MissingRole { file, referrer }.into());
            }
            (file.clone(), Some(source.read(&file)?))
        };
        walk.answer(bytes.as_deref()).map_err(refused(&file))?;
        if let Some(bytes) = bytes {
            if role == "root" {
                history.insert(need.version.unwrap_or(0), bytes);
            } else {
                roles.insert(role, bytes);
            }
        }
    }

    let trusted = walk.trusted();
    let root = trusted.root().signed().clone();
    let mut targets = BTreeMap::new();
    let mut listed = Vec::new();
    for (name, role) in trusted.all_targets() {
        let signed = role.signed().clone();
        for (path, entry) in &signed.targets {
            listed.push(check_target(
                source,
                name.as_str(),
                &signed,
                path,
                entry,
                metadata_only,
            )?);
        }
        targets.insert(name.as_str().to_string(), signed);
    }
    Ok(Verified {
        history,
        root,
        roles,
        targets,
        listed,
    })
}

/// The source file a refusal about `role` concerns.
fn file_of(source: &Source, role: &str, version: Option<u64>) -> String {
    if role == "root" {
        source.root_file(version.unwrap_or(0))
    } else {
        source.role_file(role, version)
    }
}

/// A checkout's files are unversioned: check, before any signature, that each version one
/// file names is the version of the file it names, so the error says which two disagree.
fn versions_agree(source: &Source) -> Result<()> {
    // The version alone: a targets role of 100,000 entries is skipped over, not held.
    let version_of = |file: &str| -> Option<u64> { crate::published::targets_outline(&source.read(file).ok()?)?.0 };
    let meta_of = |file: &str| -> BTreeMap<String, u64> {
        let Some(value) = source
            .read(file)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        else {
            return BTreeMap::new();
        };
        value
            .pointer("/signed/meta")
            .and_then(Value::as_object)
            .map(|meta| {
                meta.iter()
                    .filter_map(|(name, entry)| Some((name.clone(), entry.get("version")?.as_u64()?)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let pairs = [
        ("timestamp", meta_of(&source.role_file("timestamp", None))),
        ("snapshot", meta_of(&source.role_file("snapshot", None))),
    ];
    for (role, meta) in pairs {
        let file = source.role_file(role, None);
        for (name, listed) in meta {
            let Some(other_role) = name.strip_suffix(".json") else {
                continue;
            };
            // A snapshot lists targets roles; an entry of a top-level role (Sigstore's
            // snapshot still lists root.json v2) is not one a client reads.
            if role == "snapshot" && ["root", "timestamp", "snapshot"].contains(&other_role) {
                continue;
            }
            let other = source.role_file(other_role, None);
            // Entries without a file (Sigstore's snapshot lists retired roles) are not
            // reachable; the walk says so if one is.
            if !source.has(&other) {
                continue;
            }
            if let Some(found) = version_of(&other)
                && found != listed
            {
                return Err(ImportError::VersionContradiction {
                    file,
                    field: format!("meta.{name}.version"),
                    listed,
                    other,
                    found,
                }
                .into());
            }
        }
    }
    Ok(())
}

/// Checks one listed target: a safe path, a sha256 to name it by, and (unless
/// `metadata_only`) a regular file in the source of exactly the listed length and hashes.
fn check_target(
    source: &Source,
    role: &str,
    signed: &Targets,
    path: &str,
    entry: &trustroot_core::metadata::TargetFile,
    metadata_only: bool,
) -> Result<ListedTarget> {
    let version = signed.common.version;
    let refuse = |file: String, problem: String| -> Error {
        ImportError::Target {
            file,
            role: role.to_string(),
            version,
            path: path.to_string(),
            problem,
        }
        .into()
    };
    let role_file = source.role_file(role, Some(version));
    trustroot_core::target_path::validate(path).map_err(|e| refuse(role_file.clone(), e.to_string()))?;
    let sha256 = entry
        .hashes
        .get("sha256")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            refuse(
                role_file.clone(),
                "without a sha256 hash: its published name needs one".to_string(),
            )
        })?
        .to_ascii_lowercase();
    let mut target = ListedTarget {
        path: path.to_string(),
        role: role.to_string(),
        length: entry.length,
        sha256: sha256.clone(),
        file: None,
    };
    if metadata_only {
        return Ok(target);
    }
    let file = source.target_file(path, &sha256);
    let full = source.path(&file)?;
    let meta =
        std::fs::metadata(&full).map_err(|_| refuse(file.clone(), "but the source has no such file".to_string()))?;
    if !meta.is_file() {
        return Err(refuse(file, "but it is not a regular file in the source".to_string()));
    }
    if meta.len() != entry.length {
        return Err(refuse(
            file,
            format!("{} bytes long, but the source's file has {}", entry.length, meta.len()),
        ));
    }
    if let Err(refusal) = crate::target_file::check(&full, &file, entry)? {
        return Err(refuse(
            file,
            format!("but the source's file is not that file: {refusal}"),
        ));
    }
    target.file = Some(full);
    Ok(target)
}
