//! `trustroot init DIR --import SOURCE`: take over a repository another tool runs (a
//! tuf-on-ci checkout, or a published repository), keeping every byte its clients already
//! trust. The source is verified as a client would verify it, from a pinned root, as of a
//! given time; then the signing repository is built in a temporary directory beside DIR
//! (policy, key files, metadata copied as bytes, target files, the published tree laid out
//! as `ceremony publish` lays one out) and renamed into place. Nothing is re-signed; on
//! any refusal DIR is left as it was.

mod naming;
mod policy_writer;
mod source;
mod verify;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use trustroot_core::keyless::SigstoreTrust;
use trustroot_core::role_name::metadata_file_name;

use self::source::Layout;
use self::source::Source;
use crate::candidate::{Candidate, CandidateTarget};
use crate::error::{Error, FileProblem, IoOp, Result};
use crate::pubdir::PublishDir;
use crate::repo::{self, Repo, write_atomic};

/// What to import and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The source directory (a checkout, or a published repository).
    pub source: PathBuf,
    /// How `[import] source` records it (the URL, for a fetched repository).
    pub source_label: String,
    /// The pinned root, with its name for messages; `None`: the source's own root v1.
    pub root: Option<(String, Vec<u8>)>,
    pub at: DateTime<Utc>,
    /// Import metadata only (a source without its target files).
    pub metadata_only: bool,
    /// The Sigstore trust material keyless (`sigstore-oidc`) keys are checked against;
    /// `None`: a keyless signature never counts. Never the source's own trusted_root.json.
    pub sigstore: Option<Arc<SigstoreTrust>>,
}

/// What an import made.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub dir: PathBuf,
    pub layout: &'static str,
    /// The root trust was anchored on, and whether it came from the source itself.
    pub pinned: String,
    pub pinned_from_source: bool,
    pub roots: Vec<u64>,
    /// Roots of the source older than the pinned one: not imported, as nothing verifies them.
    pub older_roots: Vec<u64>,
    /// Every role imported, with its version and expiry.
    pub roles: Vec<ImportedRole>,
    pub keys: Vec<ImportedKey>,
    pub targets: usize,
    /// Files of the source's `targets/` that no role lists (not imported).
    pub unlisted: Vec<String>,
    /// Files of the source's `metadata/` that no verified role reaches (not imported).
    pub unreached: Vec<String>,
    /// Where the published tree is served from (the policy's destination), and its state.
    pub served: PathBuf,
    pub state: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportedRole {
    pub role: String,
    pub version: u64,
    pub expires: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportedKey {
    pub name: String,
    pub keyid: String,
    pub holder: Option<String>,
    pub online: Option<String>,
    pub roles: Vec<String>,
}

/// Imports `options.source` into the new signing repository `dir`.
pub fn import(dir: &Path, options: &Options) -> Result<Report> {
    repo::ensure_empty(dir)?;
    let source = Source::open(&options.source)?;
    let (pinned_name, pinned, pinned_from_source) = match &options.root {
        Some((name, bytes)) => (name.clone(), bytes.clone(), false),
        None => {
            let first = source.history.keys().next().copied().unwrap_or(0);
            if first != 1 {
                return Err(crate::error::ImportError::HistoryGap {
                    file: source.root_file(1),
                    have: format!("roots from v{first}; pin a root with --root"),
                }
                .into());
            }
            (source.root_file(1), source.history[&1].clone(), true)
        }
    };
    let verified = verify::verify(&source, &pinned, &pinned_name, options)?;
    let root_file = source.root_file(verified.root.common.version);
    let targets = verified
        .targets
        .get("targets")
        .ok_or_else(|| Error::content(&options.source, FileProblem::NoRootMetadata))?;
    let targets_file = source.role_file("targets", Some(targets.common.version));
    let naming = naming::name_keys(&verified.root, &root_file, targets, &targets_file)?;
    let at = trustroot_core::time::format(&options.at);
    let origin = policy_writer::Origin {
        source: &options.source_label,
        layout: source.layout.describe(),
        at: &at,
        pinned: &pinned_name,
        metadata_only: options.metadata_only,
    };
    let (policy_text, policy) = policy_writer::write(&verified, &naming, &origin)?;
    check_owners(&verified, &policy)?;

    let state = repo::build_beside(dir, "trustroot-import", |staging| {
        build(staging, &verified, &naming, &policy_text, &policy)
    })?;

    Ok(Report {
        dir: dir.to_path_buf(),
        layout: source.layout.describe(),
        pinned: pinned_name,
        pinned_from_source,
        roots: verified.history.keys().copied().collect(),
        older_roots: source
            .history
            .keys()
            .copied()
            .filter(|v| !verified.history.contains_key(v))
            .collect(),
        roles: imported_roles(&verified)?,
        keys: imported_keys(&naming),
        targets: verified.listed.len(),
        unlisted: unlisted(&source, &verified),
        unreached: unreached(&source, &verified),
        served: PublishDir::new(&policy, dir).served(),
        state,
    })
}

/// Every listed target must be where `ceremony start` would put it again: the first
/// delegation (by name) whose paths match, else targets. Otherwise the next ceremony would
/// move it from one role to another.
fn check_owners(verified: &verify::Verified, policy: &crate::policy::Policy) -> Result<()> {
    for target in &verified.listed {
        let owner = crate::stage::owner_of(policy, &target.path);
        if owner != target.role {
            let version = verified.targets.get(&target.role).map(|t| t.common.version);
            return Err(crate::error::ImportError::TargetOwner {
                file: format!("{} v{}", target.role, version.unwrap_or(0)),
                role: target.role.clone(),
                path: target.path.clone(),
                owner,
            }
            .into());
        }
    }
    Ok(())
}

/// Writes the whole signing repository into `dir` and lays out its published tree;
/// returns the published state's number.
fn build(
    dir: &Path,
    verified: &verify::Verified,
    naming: &naming::Naming,
    policy_text: &str,
    policy: &crate::policy::Policy,
) -> Result<u64> {
    for sub in ["keys", "targets", "metadata/root_history", "ceremonies"] {
        let path = dir.join(sub);
        fs::create_dir_all(&path).map_err(|e| Error::io(&path, IoOp::Create, e))?;
    }
    write_atomic(&dir.join("ceremonies/.gitkeep"), b"")?;
    write_atomic(&dir.join(repo::POLICY_FILE), policy_text.as_bytes())?;
    write_atomic(&dir.join("README.md"), repo::TEMPLATE_README.as_bytes())?;
    write_atomic(&dir.join(".gitignore"), repo::gitignore().as_bytes())?;

    let key_json = |key: &trustroot_core::Key| -> Result<Vec<u8>> {
        let mut bytes = serde_json::to_vec_pretty(key).map_err(Error::encode("a key"))?;
        bytes.push(b'\n');
        Ok(bytes)
    };
    for key in &naming.keys {
        write_atomic(&dir.join(format!("keys/{}.pub", key.name)), &key_json(&key.key)?)?;
    }
    write_atomic(&dir.join("keys/online.pub"), &key_json(&naming.online.key)?)?;

    // Metadata: the bytes as the source has them, under tuf-on-ci's names.
    let metadata = dir.join("metadata");
    for (version, bytes) in &verified.history {
        write_atomic(&metadata.join(format!("root_history/{version}.root.json")), bytes)?;
    }
    if let Some(newest) = verified.history.values().next_back() {
        write_atomic(&metadata.join("root.json"), newest)?;
    }
    for (role, bytes) in &verified.roles {
        write_atomic(&metadata.join(metadata_file_name(role, None)), bytes)?;
    }

    // Target files, checked against their listing by `verify`.
    let mut targets = BTreeMap::new();
    for target in &verified.listed {
        let Some(file) = &target.file else { continue };
        let to = dir.join("targets").join(&target.path);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, IoOp::Create, e))?;
        }
        let bytes = crate::keys::read_limited(file, target.length)?;
        write_atomic(&to, &bytes)?;
        targets.insert(
            target.path.clone(),
            CandidateTarget {
                role: target.role.clone(),
                length: target.length,
                sha256: target.sha256.clone(),
                source: Some(to),
            },
        );
    }

    // The published tree, as `ceremony publish` lays one out; the repository is opened as
    // every later command will open it, so a policy or key it cannot load fails here.
    let repo = Repo::open(dir)?;
    repo.keys()?;
    let mut versions = BTreeMap::new();
    let mut candidate_metadata = verified.roles.clone();
    if let Some(newest) = verified.history.values().next_back() {
        candidate_metadata.insert("root".to_string(), newest.clone());
    }
    for (role, bytes) in &candidate_metadata {
        let envelope =
            trustroot_core::Envelope::parse(role, bytes, &trustroot_core::Limits::default()).map_err(|e| {
                Error::content(
                    &metadata.join(metadata_file_name(role, None)),
                    FileProblem::Metadata(Box::new(e)),
                )
            })?;
        versions.insert(role.clone(), envelope.version().unwrap_or(0));
    }
    let candidate = Candidate {
        round: "import".to_string(),
        metadata: candidate_metadata.clone(),
        versions,
        new_roles: Vec::new(),
        root_history: verified.history.clone(),
        previous: candidate_metadata,
        targets,
        left_out: Vec::new(),
    };
    let published = PublishDir::new(policy, dir);
    let staged = published.stage(&candidate)?;
    published.commit(staged)
}

/// Every role imported: root, timestamp, snapshot, targets, then the delegated roles.
fn imported_roles(verified: &verify::Verified) -> Result<Vec<ImportedRole>> {
    let mut roles = vec![ImportedRole {
        role: "root".to_string(),
        version: verified.root.common.version,
        expires: trustroot_core::time::format(&verified.root.common.expires),
    }];
    let top = ["timestamp", "snapshot", "targets"];
    let ordered = top
        .iter()
        .filter_map(|role| verified.roles.get_key_value(*role))
        .chain(verified.roles.iter().filter(|(role, _)| !top.contains(&role.as_str())));
    // Only the version and expiry are read: a targets role of 100,000 entries is skipped
    // over, never held as values (the walk verified these bytes already).
    #[derive(serde::Deserialize)]
    struct Outline {
        signed: Fields,
    }
    #[derive(serde::Deserialize)]
    struct Fields {
        version: u64,
        expires: String,
    }
    for (role, bytes) in ordered {
        let outline: Outline = serde_json::from_slice(bytes).map_err(|e| {
            Error::content(
                Path::new(&metadata_file_name(role, None)),
                FileProblem::NotRole {
                    what: "TUF metadata",
                    reason: e.to_string(),
                },
            )
        })?;
        roles.push(ImportedRole {
            role: role.clone(),
            version: outline.signed.version,
            expires: outline.signed.expires,
        });
    }
    Ok(roles)
}

fn imported_keys(naming: &naming::Naming) -> Vec<ImportedKey> {
    let mut keys: Vec<ImportedKey> = naming
        .keys
        .iter()
        .map(|k| ImportedKey {
            name: k.name.clone(),
            keyid: k.keyid.clone(),
            holder: k.holder.clone(),
            online: k.online.clone(),
            roles: naming
                .role_keys
                .iter()
                .filter(|(_, names)| names.contains(&k.name))
                .map(|(role, _)| role.clone())
                .collect(),
        })
        .collect();
    keys.push(ImportedKey {
        name: "online".to_string(),
        keyid: naming.online.keyid.clone(),
        holder: None,
        online: naming.online.uri.clone(),
        roles: vec!["snapshot".to_string(), "timestamp".to_string()],
    });
    keys
}

/// Files under the source's `targets/` that no verified role lists (a checkout only).
fn unlisted(source: &Source, verified: &verify::Verified) -> Vec<String> {
    if source.layout != Layout::Checkout {
        return Vec::new();
    }
    let listed: std::collections::BTreeSet<&str> = verified.listed.iter().map(|t| t.path.as_str()).collect();
    let Ok(tree) = trustroot_targets::tree::walk(&source.dir.join("targets")) else {
        return Vec::new();
    };
    tree.into_keys().filter(|p| !listed.contains(p.as_str())).collect()
}

/// Role files of a checkout's `metadata/` that the verified repository does not reach.
fn unreached(source: &Source, verified: &verify::Verified) -> Vec<String> {
    if source.layout != Layout::Checkout {
        return Vec::new();
    }
    let Ok(entries) = fs::read_dir(source.dir.join("metadata")) else {
        return Vec::new();
    };
    let mut files: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|name| name.ends_with(".json") && name != "root.json")
        .filter(|name| {
            !verified
                .roles
                .keys()
                .any(|role| metadata_file_name(role, None) == *name)
        })
        .map(|name| format!("metadata/{name}"))
        .collect();
    files.sort();
    files
}
