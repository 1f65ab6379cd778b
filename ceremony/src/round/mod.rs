//! A ceremony round under `ceremonies/<id>/`: staged metadata, the published versions it
//! follows, detached signatures, the transcript, and the threshold status.
//!
//! ```text
//! ceremonies/<id>/round.json              manifest: roles, versions, digests
//! ceremonies/<id>/staged/<role>.json      the staged metadata (no signatures)
//! ceremonies/<id>/previous/<role>.json    the published version it follows
//! ceremonies/<id>/signatures/<role>.<keyid>.json   one detached signature per file
//! ceremonies/<id>/transcript.jsonl        every step: what, which digest, which key, when
//! ```
//!
//! The round itself (starting, opening, the manifest and transcript) is here; the rest:
//!
//! - `request`: the signing request a keyholder takes away, and its checks on arrival.
//! - `summary`: the human summary of a request: key tables, key and threshold changes.
//! - `signature`: detached signatures: making them from a request, collecting them.
//! - `start`: starting a round, by hand or on a schedule, after checking what it stages.
//! - `status`: threshold status from the collected signatures.
//! - `transcript`: whether the round was published, and when.
//! - `history`: every round's story from its transcript, for the status page.

mod history;
mod request;
mod signature;
mod start;
mod status;
mod summary;
mod transcript;

pub use history::{MAX_CHANGE_LINES, RequestEntry, RoleChanges, RoundHistory, SignatureEntry, StagedEntry, history};
pub(crate) use request::without_attestations;
pub use request::{REQUEST_FORMAT, RequestRole, RequestSigner, Requirement, SigningRequest};
pub use signature::{Added, DetachedSignature, add_signature, read_signature_file, sign_request};
pub use start::{DueOutcome, NextDue, Requested, Waiting, start, start_due, start_requested};
pub use status::{Keyholder, Rejected, RoleStatus, RoundStatus, ThresholdStatus, install_signed_round, status};
pub use summary::printable;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use trustroot_core::metadata::{Root, Targets};
use trustroot_core::{Envelope, Limits};

use crate::error::{Error, FileProblem, IoOp, Result, RoundError};
use crate::keys;
use crate::policy::check_name;
use crate::repo::{self, Repo};
use crate::stage;
use crate::targets_role::Signed;

/// The manifest file of a round.
pub const MANIFEST: &str = "round.json";
/// The transcript file of a round.
pub const TRANSCRIPT: &str = "transcript.jsonl";
/// Largest signature file accepted.
pub const MAX_SIGNATURE_FILE: u64 = 16 * 1024;
/// Largest signing request accepted.
pub const MAX_REQUEST_FILE: u64 = 64 * 1024 * 1024;

/// `round.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub trustroot_round: u32,
    pub round: String,
    pub started: String,
    pub roles: Vec<ManifestRole>,
}

/// One staged role in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestRole {
    pub role: String,
    pub version: u64,
    pub expires: String,
    /// sha256 of the canonical bytes of the staged `signed` value at start.
    pub signed_sha256: String,
    pub previous_version: Option<u64>,
    /// sha256 of `previous/<role>.json` as written at start: [`Round::open`] refuses a
    /// round whose copy of the published version changed since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_sha256: Option<String>,
    pub reason: String,
}

/// A staged role, loaded.
#[derive(Debug, Clone)]
pub struct RoundRole {
    pub meta: ManifestRole,
    pub staged_path: PathBuf,
    /// The staged `signed` content; a targets role in the compact form.
    pub signed: Signed,
    /// Canonical bytes of `signed` as it is on disk now: what signatures must cover.
    pub bytes: Vec<u8>,
    pub digest: String,
    pub previous: Option<Value>,
    /// The bytes of `previous/<role>.json`: the published file, signatures included.
    pub previous_bytes: Option<Vec<u8>>,
    pub requirements: Vec<Requirement>,
}

impl RoundRole {
    /// True when the staged file no longer holds what the round started with.
    pub fn changed_since_start(&self) -> bool {
        self.digest != self.meta.signed_sha256
    }
}

/// An open round.
#[derive(Debug, Clone)]
pub struct Round {
    pub id: String,
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub roles: Vec<RoundRole>,
}

pub(crate) fn role_file(role: &str) -> String {
    trustroot_core::role_name::metadata_file_name(role, None)
}

pub(crate) fn signature_file_name(role: &str, keyid: &str) -> String {
    format!("{}.{keyid}.json", trustroot_core::role_name::encode(role))
}

fn canonical(what: &str, value: &Value) -> Result<Vec<u8>> {
    trustroot_core::canonical::to_canonical_bytes(value).map_err(Error::canonical(what))
}

/// Writes a new round with `planned` under `ceremonies/`.
fn create(repo: &Repo, id: Option<&str>, now: DateTime<Utc>, planned: &[stage::StagedRole]) -> Result<Round> {
    let ceremonies = repo.ceremonies_dir();
    let id = match id {
        Some(id) => {
            check_name("round id", id).map_err(|_| RoundError::InvalidId { id: id.to_string() })?;
            id.to_string()
        }
        None => {
            let next = list_rounds(&ceremonies)?
                .iter()
                .filter_map(|name| name.parse::<u64>().ok())
                .max()
                .unwrap_or(0)
                + 1;
            format!("{next:04}")
        }
    };
    let dir = ceremonies.join(&id);
    if dir.exists() {
        return Err(Error::content(&dir, FileProblem::RoundExists));
    }
    // Build the round beside its final name, then rename: a crash leaves no half round.
    let tmp = ceremonies.join(format!(".tmp-{id}-{}", std::process::id()));
    let result = (|| {
        let mut manifest = Manifest {
            trustroot_round: 1,
            round: id.clone(),
            started: trustroot_core::time::format(&now),
            roles: Vec::new(),
        };
        let mut transcript = Vec::new();
        for role in planned {
            repo.write(
                &tmp.join("staged").join(role_file(&role.role)),
                &role.signed.metadata_json(&role.role, &[])?,
            )?;
            let (previous_version, previous_sha256) = match role.previous_version {
                Some(previous) => {
                    let published = repo
                        .published(&role.role)?
                        .ok_or_else(|| RoundError::PublishedVanished {
                            role: role.role.as_str().into(),
                        })?;
                    let bytes = keys::read_limited(&published.path, repo::MAX_METADATA_SIZE)?;
                    repo.write(&tmp.join("previous").join(role_file(&role.role)), &bytes)?;
                    (Some(previous), Some(trustroot_core::hashes::sha256_hex(&bytes)))
                }
                None => (None, None),
            };
            let digest = trustroot_core::hashes::sha256_hex(&role.signed.canonical(&role.role)?);
            let version = role.signed.version().unwrap_or(0);
            let expires = role
                .signed
                .get("expires")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            transcript.push(json!({
                "at": trustroot_core::time::format(&now),
                "action": "stage",
                "role": role.role,
                "version": version,
                "signed_sha256": digest,
                "detail": role.reason,
            }));
            manifest.roles.push(ManifestRole {
                role: role.role.clone(),
                version,
                expires,
                signed_sha256: digest,
                previous_version,
                previous_sha256,
                reason: role.reason.clone(),
            });
        }
        let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(Error::encode("the round manifest"))?;
        repo.write(&tmp.join(MANIFEST), &manifest_bytes)?;
        let mut lines = String::new();
        for entry in transcript {
            lines.push_str(&entry.to_string());
            lines.push('\n');
        }
        repo.write(&tmp.join(TRANSCRIPT), lines.as_bytes())?;
        fs::create_dir_all(tmp.join("signatures")).map_err(|e| Error::io(&tmp, IoOp::Create, e))?;
        fs::rename(&tmp, &dir).map_err(|e| Error::io(&dir, IoOp::Create, e))
    })();
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    Round::open(repo, Some(&id))
}

/// The ids of every round of `repo`, in the order `Round::open` takes the latest from.
pub fn list(repo: &Repo) -> Result<Vec<String>> {
    list_rounds(&repo.ceremonies_dir())
}

fn list_rounds(ceremonies: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let entries = match fs::read_dir(ceremonies) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
        Err(e) => return Err(Error::io(ceremonies, IoOp::Access, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(ceremonies, IoOp::Access, e))?;
        if let Some(name) = entry.file_name().to_str()
            && !name.starts_with('.')
            && entry.path().join(MANIFEST).is_file()
        {
            names.push(name.to_string());
        }
    }
    names.sort();
    Ok(names)
}

fn parse_signed(path: &Path, role: &str, bytes: &[u8]) -> Result<Signed> {
    let envelope = Envelope::parse(role, bytes, &Limits::default())
        .map_err(|e| Error::content(path, FileProblem::Metadata(Box::new(e))))?;
    Ok(Signed::from_value(envelope.signed))
}

impl Round {
    /// Opens round `id`, or the latest round when `None`.
    pub fn open(repo: &Repo, id: Option<&str>) -> Result<Round> {
        let ceremonies = repo.ceremonies_dir();
        let id = round_id(&ceremonies, id)?;
        let dir = ceremonies.join(&id);
        let manifest = read_manifest(&dir, &id)?;
        let mut staged: Vec<Staged> = Vec::new();
        for meta in &manifest.roles {
            staged.push(read_staged(&dir, &id, meta)?);
        }
        // The root and delegators in effect once this round is published: for targets
        // roles their fields only (version, delegations), never their entries.
        let staged_values: BTreeMap<String, Value> = staged
            .iter()
            .map(|s| (s.meta.role.clone(), s.signed.without_targets()))
            .collect();
        let root_value = match staged_values.get("root").cloned() {
            Some(v) => Some(v),
            None => repo.published("root")?.map(|p| p.envelope.signed),
        };
        let mut roles = Vec::new();
        for role in staged {
            let (previous, previous_bytes) = match role.previous {
                Some((value, bytes)) => (Some(value), Some(bytes)),
                None => (None, None),
            };
            let bytes = role.signed.canonical(&role.meta.role)?;
            let digest = trustroot_core::hashes::sha256_hex(&bytes);
            let version = role.signed.version().unwrap_or(0);
            let requirements = match role.meta.role.as_str() {
                "root" => root_requirements(version, &role.signed.to_value(), previous.as_ref())?,
                "targets" => targets_requirements(root_value.as_ref())?,
                delegated => delegated_requirements(repo, delegated, &staged_values)?,
            };
            if requirements.is_empty() {
                return Err(RoundError::NoSigners {
                    role: role.meta.role.as_str().into(),
                }
                .into());
            }
            roles.push(RoundRole {
                meta: role.meta,
                staged_path: role.staged_path,
                signed: role.signed,
                bytes,
                digest,
                previous,
                previous_bytes,
                requirements,
            });
        }
        Ok(Round {
            id,
            dir,
            manifest,
            roles,
        })
    }

    /// The staged role named `role`.
    pub fn role(&self, role: &str) -> Option<&RoundRole> {
        self.roles.iter().find(|r| r.meta.role == role)
    }

    /// Appends one entry to the transcript.
    pub fn log(&self, repo: &Repo, now: DateTime<Utc>, action: &str, mut fields: Value) -> Result<()> {
        use std::io::Write as _;
        if let Some(obj) = fields.as_object_mut() {
            obj.insert("at".into(), json!(trustroot_core::time::format(&now)));
            obj.insert("action".into(), json!(action));
        }
        let path = self.dir.join(TRANSCRIPT);
        repo.ensure_inside(&path)?;
        let mut file = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| Error::io(&path, IoOp::Access, e))?;
        writeln!(file, "{fields}").map_err(|e| Error::io(&path, IoOp::Write, e))
    }
}

/// A staged role as read from disk, before its signers are worked out.
struct Staged {
    meta: ManifestRole,
    staged_path: PathBuf,
    signed: Signed,
    /// The published version it follows: its `signed` value and the file's bytes.
    previous: Option<(Value, Vec<u8>)>,
}

/// The round `id` names (checked as a name), or the latest round when `None`.
fn round_id(ceremonies: &Path, id: Option<&str>) -> Result<String> {
    match id {
        Some(id) => {
            check_name("round", id).map_err(|_| RoundError::InvalidId { id: id.to_string() })?;
            Ok(id.to_string())
        }
        None => list_rounds(ceremonies)?.pop().ok_or_else(|| RoundError::NoRound.into()),
    }
}

/// A `round.json` that does not parse.
fn invalid_manifest(path: &Path, e: &serde_json::Error) -> Error {
    Error::content(path, FileProblem::InvalidManifest { reason: e.to_string() })
}

/// `round.json` of the round in `dir`, which must name round `id`.
fn read_manifest(dir: &Path, id: &str) -> Result<Manifest> {
    let manifest_path = dir.join(MANIFEST);
    let manifest_bytes = keys::read_limited(&manifest_path, 1024 * 1024)?;
    let manifest: Manifest =
        serde_json::from_slice(&manifest_bytes).map_err(|e| invalid_manifest(&manifest_path, &e))?;
    if manifest.round != id {
        return Err(Error::content(
            &manifest_path,
            FileProblem::ManifestNamesOther {
                found: manifest.round,
                expected: id.to_string(),
            },
        ));
    }
    Ok(manifest)
}

/// The staged file of one role and the copy of the published version it follows.
fn read_staged(dir: &Path, id: &str, meta: &ManifestRole) -> Result<Staged> {
    let staged_path = dir.join("staged").join(role_file(&meta.role));
    let bytes = keys::read_limited(&staged_path, repo::MAX_METADATA_SIZE)?;
    // A targets role is read straight into the compact form; anything else, or a file that
    // does not parse that way, as a value (whose parse names what is wrong).
    let signed = match crate::targets_role::parse_compact(&bytes) {
        Some(role) => Signed::Targets(role),
        None => parse_signed(&staged_path, &meta.role, &bytes)?,
    };
    drop(bytes);
    let previous = if meta.previous_version.is_some() {
        let path = dir.join("previous").join(role_file(&meta.role));
        let bytes = keys::read_limited(&path, repo::MAX_METADATA_SIZE)?;
        // Defence in depth: what the round was staged against must not change
        // under it. (The keyholder's own check is `ceremony sign --root`.)
        if let Some(expected) = &meta.previous_sha256 {
            let found = trustroot_core::hashes::sha256_hex(&bytes);
            if &found != expected {
                return Err(Error::content(
                    &path,
                    FileProblem::PreviousChanged {
                        round: id.to_string(),
                        found,
                        expected: expected.clone(),
                        role: meta.role.as_str().into(),
                        version: meta.previous_version.unwrap_or(0),
                    },
                ));
            }
        }
        let envelope = Envelope::parse(&meta.role, &bytes, &Limits::default())
            .map_err(|e| Error::content(&path, FileProblem::Metadata(Box::new(e))))?;
        Some((envelope.signed, bytes))
    } else {
        None
    };
    Ok(Staged {
        meta: meta.clone(),
        staged_path,
        signed,
        previous,
    })
}

fn parse_root(what: &'static str, value: &Value) -> Result<Root> {
    serde_json::from_value(value.clone()).map_err(|e| {
        RoundError::InvalidRoot {
            what,
            reason: e.to_string(),
        }
        .into()
    })
}

/// Who signs a staged root: the keys of the new root, and of the published root it
/// replaces.
fn root_requirements(version: u64, signed: &Value, previous: Option<&Value>) -> Result<Vec<Requirement>> {
    let mut requirements = Vec::new();
    let new = parse_root("staged root", signed)?;
    if let Some(r) = new.roles.get("root") {
        requirements.push(Requirement::new(
            format!("root v{version}"),
            &new.keys,
            &r.keyids,
            r.threshold,
        ));
    }
    if let Some(previous) = previous {
        let old = parse_root("previous root", previous)?;
        if let Some(r) = old.roles.get("root") {
            requirements.push(Requirement::new(
                format!("root v{} (the published root)", old.common.version),
                &old.keys,
                &r.keyids,
                r.threshold,
            ));
        }
    }
    Ok(requirements)
}

/// Who signs a staged targets: the root in effect once the round is published.
fn targets_requirements(root_value: Option<&Value>) -> Result<Vec<Requirement>> {
    let root_value = root_value.ok_or(RoundError::NoRootForTargets)?;
    let root = parse_root("root", root_value)?;
    Ok(root
        .roles
        .get("targets")
        .map(|r| {
            Requirement::new(
                format!("root v{} (targets role)", root.common.version),
                &root.keys,
                &r.keyids,
                r.threshold,
            )
        })
        .into_iter()
        .collect())
}

/// Who signs a staged delegated role: its delegator, staged in this round or published.
fn delegated_requirements(
    repo: &Repo,
    delegated: &str,
    staged_values: &BTreeMap<String, Value>,
) -> Result<Vec<Requirement>> {
    // A hashed bin is delegated by its role; any other role by targets.
    let delegator = repo
        .policy
        .delegation_of_bin(delegated)
        .unwrap_or("targets")
        .to_string();
    let delegator_value = match staged_values.get(&delegator).cloned() {
        Some(v) => Some(v),
        None => repo
            .published(&delegator)?
            .map(|p| Signed::Other(p.envelope.signed).without_targets()),
    };
    let delegator_value = delegator_value.ok_or_else(|| RoundError::NoDelegator {
        delegated: delegated.into(),
        delegator: delegator.as_str().into(),
    })?;
    let targets: Targets = serde_json::from_value(delegator_value).map_err(|e| RoundError::InvalidTargets {
        role: delegator.as_str().into(),
        reason: e.to_string(),
    })?;
    let mut requirements = Vec::new();
    if let Some(delegations) = &targets.delegations
        && let Some(roles) = &delegations.roles
        && let Some(r) = roles.iter().find(|r| r.name == delegated)
    {
        requirements.push(Requirement::new(
            format!("{delegator} v{} (delegation '{delegated}')", targets.common.version),
            &delegations.keys,
            &r.keyids,
            r.threshold,
        ));
    }
    Ok(requirements)
}
