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

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use trustroot_core::metadata::{Root, Targets};
use trustroot_core::verify::{KeyStatus, check_signatures};
use trustroot_core::{Envelope, Key, Limits};

use crate::error::{Error, Result};
use crate::keys::{self, Signer};
use crate::policy::check_name;
use crate::repo::{self, Repo};
use crate::stage;

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

/// Who must sign: the keys of one role as some metadata lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// What lists these keys: `root v2`, `root v1 (the published root)`, ...
    pub of: String,
    pub threshold: u64,
    pub signers: Vec<RequestSigner>,
}

/// One key of a [`Requirement`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSigner {
    pub keyid: String,
    pub key: Key,
}

impl Requirement {
    pub(crate) fn new(of: String, keys: &BTreeMap<String, Key>, keyids: &[String], threshold: u64) -> Requirement {
        let mut signers: Vec<RequestSigner> = Vec::new();
        for id in keyids {
            if signers.iter().any(|s| &s.keyid == id) {
                continue;
            }
            if let Some(key) = keys.get(id) {
                signers.push(RequestSigner {
                    keyid: id.clone(),
                    key: key.clone(),
                });
            }
        }
        Requirement { of, threshold, signers }
    }

    fn key_map(&self) -> (BTreeMap<String, Key>, Vec<String>) {
        let keys = self.signers.iter().map(|s| (s.keyid.clone(), s.key.clone())).collect();
        let ids = self.signers.iter().map(|s| s.keyid.clone()).collect();
        (keys, ids)
    }
}

/// A staged role, loaded.
#[derive(Debug, Clone)]
pub struct RoundRole {
    pub meta: ManifestRole,
    pub staged_path: PathBuf,
    pub signed: Value,
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
    trustroot_core::canonical::to_canonical_bytes(value).map_err(|e| Error::refused(format!("{what}: {e}")))
}

/// Starts a round: stages what changed. `None` when nothing needs signing.
pub fn start(repo: &Repo, id: Option<&str>, now: DateTime<Utc>) -> Result<Option<Round>> {
    let planned = stage::plan(repo, now)?;
    if planned.is_empty() {
        return Ok(None);
    }
    create(repo, id, now, &planned).map(Some)
}

/// What `ceremony start --due` found and did.
#[derive(Debug, Clone)]
pub enum DueOutcome {
    /// A round was opened for the roles inside their signing period.
    Opened(Round),
    /// A round that is not published yet already exists: nothing was opened, so a
    /// scheduled `start --due` never piles up rounds while keyholders are signing.
    AlreadyOpen { round: String, pending: Vec<String> },
    /// No offline role is inside its signing period.
    NothingDue { next: Vec<NextDue> },
}

/// When an offline role enters its signing period.
#[derive(Debug, Clone, Serialize)]
pub struct NextDue {
    pub role: String,
    pub version: u64,
    pub expires: String,
    /// `expires` minus the role's signing period.
    pub due_from: String,
}

/// `ceremony start --due`: opens a round for the offline roles (root, targets, delegated
/// roles, bins) that are inside their signing period, and only those: content changes
/// waiting in `targets/` or the policy are left for a round a person starts. Meant for a
/// scheduler, so it is idempotent: a round still waiting to be published is reported, not
/// duplicated. Holds the repository lock while it looks and writes.
pub fn start_due(repo: &Repo, id: Option<&str>, now: DateTime<Utc>) -> Result<DueOutcome> {
    let _lock = crate::lock::lock(repo, "ceremony start --due")?;
    if let Some((round, pending)) = unpublished_round(repo)? {
        return Ok(DueOutcome::AlreadyOpen { round, pending });
    }
    let planned: Vec<stage::StagedRole> = stage::plan(repo, now)?.into_iter().filter(|r| r.due).collect();
    if planned.is_empty() {
        return Ok(DueOutcome::NothingDue { next: next_due(repo)? });
    }
    create(repo, id, now, &planned).map(DueOutcome::Opened)
}

/// The newest round with a staged version that is not published yet, and those roles.
fn unpublished_round(repo: &Repo) -> Result<Option<(String, Vec<String>)>> {
    let ceremonies = repo.ceremonies_dir();
    for id in list_rounds(&ceremonies)?.into_iter().rev() {
        let path = ceremonies.join(&id).join(MANIFEST);
        let bytes = keys::read_limited(&path, 1024 * 1024)?;
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|e| Error::file(&path, format!("invalid: {e}")))?;
        let mut pending = Vec::new();
        for role in &manifest.roles {
            let published = repo
                .published(&role.role)?
                .and_then(|p| p.envelope.signed.get("version").and_then(Value::as_u64));
            if published.is_none_or(|v| v < role.version) {
                pending.push(format!("{} v{}", role.role, role.version));
            }
        }
        if !pending.is_empty() {
            return Ok(Some((id, pending)));
        }
    }
    Ok(None)
}

/// When each published offline role enters its signing period, soonest first.
fn next_due(repo: &Repo) -> Result<Vec<NextDue>> {
    let mut next = Vec::new();
    for role in std::iter::once("root".to_string()).chain(stage::targets_roles(&repo.policy)) {
        let Some(published) = repo.published(&role)? else {
            continue;
        };
        let signed = &published.envelope.signed;
        let Some(expires) = signed
            .get("expires")
            .and_then(Value::as_str)
            .and_then(trustroot_core::time::parse)
        else {
            continue;
        };
        let signing = chrono::Duration::days(i64::from(repo.policy.periods(&role).signing_days));
        next.push(NextDue {
            version: signed.get("version").and_then(Value::as_u64).unwrap_or(0),
            expires: trustroot_core::time::format(&expires),
            due_from: trustroot_core::time::format(&(expires - signing)),
            role,
        });
    }
    next.sort_by(|a, b| a.due_from.cmp(&b.due_from).then_with(|| a.role.cmp(&b.role)));
    Ok(next)
}

/// Writes a new round with `planned` under `ceremonies/`.
fn create(repo: &Repo, id: Option<&str>, now: DateTime<Utc>, planned: &[stage::StagedRole]) -> Result<Round> {
    let ceremonies = repo.ceremonies_dir();
    let id = match id {
        Some(id) => {
            check_name("round id", id).map_err(|_| Error::refused(format!("'{id}' is not a valid round id")))?;
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
        return Err(Error::file(&dir, "a round with this id already exists"));
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
            let envelope = json!({"signatures": [], "signed": role.signed});
            repo.write(
                &tmp.join("staged").join(role_file(&role.role)),
                &repo::to_metadata_json(&envelope),
            )?;
            let (previous_version, previous_sha256) = match &role.previous {
                Some(previous) => {
                    let published = repo
                        .published(&role.role)?
                        .ok_or_else(|| Error::refused(format!("{}: the published version vanished", role.role)))?;
                    let bytes = keys::read_limited(&published.path, repo::MAX_METADATA_SIZE)?;
                    repo.write(&tmp.join("previous").join(role_file(&role.role)), &bytes)?;
                    (
                        previous.get("version").and_then(Value::as_u64),
                        Some(trustroot_core::hashes::sha256_hex(&bytes)),
                    )
                }
                None => (None, None),
            };
            let digest = trustroot_core::hashes::sha256_hex(&canonical(&role.role, &role.signed)?);
            let version = role.signed.get("version").and_then(Value::as_u64).unwrap_or(0);
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
        let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::refused(e.to_string()))?;
        repo.write(&tmp.join(MANIFEST), &manifest_bytes)?;
        let mut lines = String::new();
        for entry in transcript {
            lines.push_str(&entry.to_string());
            lines.push('\n');
        }
        repo.write(&tmp.join(TRANSCRIPT), lines.as_bytes())?;
        fs::create_dir_all(tmp.join("signatures")).map_err(|e| Error::file(&tmp, e))?;
        fs::rename(&tmp, &dir).map_err(|e| Error::file(&dir, format!("cannot create: {e}")))
    })();
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    Round::open(repo, Some(&id))
}

fn list_rounds(ceremonies: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let entries = match fs::read_dir(ceremonies) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
        Err(e) => return Err(Error::file(ceremonies, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::file(ceremonies, e))?;
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

fn parse_signed(path: &Path, role: &str, bytes: &[u8]) -> Result<Value> {
    let envelope = Envelope::parse(role, bytes, &Limits::default()).map_err(|e| Error::file(path, e))?;
    Ok(envelope.signed)
}

impl Round {
    /// Opens round `id`, or the latest round when `None`.
    pub fn open(repo: &Repo, id: Option<&str>) -> Result<Round> {
        let ceremonies = repo.ceremonies_dir();
        let id = match id {
            Some(id) => {
                check_name("round", id).map_err(|_| Error::refused(format!("'{id}' is not a valid round id")))?;
                id.to_string()
            }
            None => list_rounds(&ceremonies)?
                .pop()
                .ok_or_else(|| Error::refused("no ceremony round yet: start one with `trustroot ceremony start`"))?,
        };
        let dir = ceremonies.join(&id);
        let manifest_path = dir.join(MANIFEST);
        let manifest_bytes = keys::read_limited(&manifest_path, 1024 * 1024)?;
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| Error::file(&manifest_path, format!("invalid: {e}")))?;
        if manifest.round != id {
            return Err(Error::file(
                &manifest_path,
                format!("names round '{}', not '{id}'", manifest.round),
            ));
        }
        type Staged = (ManifestRole, PathBuf, Value, Option<(Value, Vec<u8>)>);
        let mut staged: Vec<Staged> = Vec::new();
        for meta in &manifest.roles {
            let staged_path = dir.join("staged").join(role_file(&meta.role));
            let bytes = keys::read_limited(&staged_path, repo::MAX_METADATA_SIZE)?;
            let signed = parse_signed(&staged_path, &meta.role, &bytes)?;
            let previous = if meta.previous_version.is_some() {
                let path = dir.join("previous").join(role_file(&meta.role));
                let bytes = keys::read_limited(&path, repo::MAX_METADATA_SIZE)?;
                // Defence in depth: what the round was staged against must not change
                // under it. (The keyholder's own check is `ceremony sign --root`.)
                if let Some(expected) = &meta.previous_sha256 {
                    let found = trustroot_core::hashes::sha256_hex(&bytes);
                    if &found != expected {
                        return Err(Error::file(
                            &path,
                            format!(
                                "changed since round '{id}' started (sha256 {found}, was {expected}): it must hold the published {} v{} the round was staged against; start a new round",
                                trustroot_core::display::escape(&meta.role),
                                meta.previous_version.unwrap_or(0)
                            ),
                        ));
                    }
                }
                Some((parse_signed(&path, &meta.role, &bytes)?, bytes))
            } else {
                None
            };
            staged.push((meta.clone(), staged_path, signed, previous));
        }
        // The root and targets in effect once this round is published.
        let staged_values: BTreeMap<String, Value> = staged.iter().map(|s| (s.0.role.clone(), s.2.clone())).collect();
        let staged_value = |role: &str| staged_values.get(role).cloned();
        let root_value = match staged_value("root") {
            Some(v) => Some(v),
            None => repo.published("root")?.map(|p| p.envelope.signed),
        };
        let parse_root = |what: &str, value: &Value| -> Result<Root> {
            serde_json::from_value(value.clone()).map_err(|e| Error::refused(format!("{what}: not a valid root: {e}")))
        };
        let mut roles = Vec::new();
        for (meta, staged_path, signed, previous) in staged {
            let (previous, previous_bytes) = match previous {
                Some((value, bytes)) => (Some(value), Some(bytes)),
                None => (None, None),
            };
            let bytes = canonical(&meta.role, &signed)?;
            let digest = trustroot_core::hashes::sha256_hex(&bytes);
            let version = signed.get("version").and_then(Value::as_u64).unwrap_or(0);
            let mut requirements = Vec::new();
            match meta.role.as_str() {
                "root" => {
                    let new = parse_root("staged root", &signed)?;
                    if let Some(r) = new.roles.get("root") {
                        requirements.push(Requirement::new(
                            format!("root v{version}"),
                            &new.keys,
                            &r.keyids,
                            r.threshold,
                        ));
                    }
                    if let Some(previous) = &previous {
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
                }
                "targets" => {
                    let root_value = root_value
                        .as_ref()
                        .ok_or_else(|| Error::refused("targets is staged but there is no root to say who signs it"))?;
                    let root = parse_root("root", root_value)?;
                    if let Some(r) = root.roles.get("targets") {
                        requirements.push(Requirement::new(
                            format!("root v{} (targets role)", root.common.version),
                            &root.keys,
                            &r.keyids,
                            r.threshold,
                        ));
                    }
                }
                delegated => {
                    // A hashed bin is delegated by its role; any other role by targets.
                    let delegator = repo
                        .policy
                        .delegation_of_bin(delegated)
                        .unwrap_or("targets")
                        .to_string();
                    let delegator_value = match staged_value(&delegator) {
                        Some(v) => Some(v),
                        None => repo.published(&delegator)?.map(|p| p.envelope.signed),
                    };
                    let delegator_value = delegator_value.ok_or_else(|| {
                        Error::refused(format!(
                            "{delegated} is staged but there is no {delegator} metadata delegating it"
                        ))
                    })?;
                    let targets: Targets = serde_json::from_value(delegator_value)
                        .map_err(|e| Error::refused(format!("{delegator}: not valid targets metadata: {e}")))?;
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
                }
            }
            if requirements.is_empty() {
                return Err(Error::refused(format!(
                    "{}: no metadata says who signs this role",
                    meta.role
                )));
            }
            roles.push(RoundRole {
                meta,
                staged_path,
                signed,
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
            .map_err(|e| Error::file(&path, e))?;
        writeln!(file, "{fields}").map_err(|e| Error::file(&path, e))
    }

    /// The signing request for this round: the staged bytes, the published version each
    /// role follows (its file, signatures included), and every published root version, so
    /// a keyholder can check that baseline against a root they keep (`ceremony sign --root`).
    pub fn request(&self, repo: &Repo, now: DateTime<Utc>) -> Result<SigningRequest> {
        let mut roles = Vec::new();
        for role in &self.roles {
            if role.changed_since_start() {
                return Err(Error::file(
                    &role.staged_path,
                    "was changed after the round started; start a new round instead of editing staged files",
                ));
            }
            let mut request_role = RequestRole {
                role: role.meta.role.clone(),
                version: role.meta.version,
                expires: role.meta.expires.clone(),
                signed_sha256: role.digest.clone(),
                signed: b64(&role.bytes),
                previous: role.previous_bytes.as_deref().map(b64),
                requirements: role.requirements.clone(),
                summary: Vec::new(),
            };
            request_role.summary = summary(&request_role, &role.signed, role.previous.as_ref());
            roles.push(request_role);
        }
        let (_, history) = crate::published::read_published(repo)?;
        if let Some(root) = self.role("root")
            && let Some(previous) = root.meta.previous_version
            && let Some(latest) = history.keys().next_back()
            && *latest != previous
        {
            return Err(Error::refused(format!(
                "round {}: it stages root v{} after root v{previous}, but root v{latest} is published now; start a new round",
                self.id, root.meta.version
            )));
        }
        let mut request = SigningRequest {
            trustroot_signing_request: REQUEST_FORMAT,
            round: self.id.clone(),
            created: trustroot_core::time::format(&now),
            published_roots: history.values().map(|bytes| b64(bytes)).collect(),
            roles,
            request_sha256: String::new(),
        };
        request.request_sha256 = request.compute_digest()?;
        Ok(request)
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(what: &str, text: &str) -> Result<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| Error::refused(format!("{what}: not base64: {e}")))
}

/// Parses canonical JSON, whose strings carry control characters (PEM newlines) raw.
/// Canonical JSON has no whitespace outside strings, so every control byte is inside one
/// and can be escaped before parsing.
fn parse_canonical(bytes: &[u8]) -> std::result::Result<Value, serde_json::Error> {
    let mut escaped = Vec::with_capacity(bytes.len() + 64);
    for &b in bytes {
        if b < 0x20 {
            escaped.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            escaped.push(b);
        }
    }
    serde_json::from_slice(&escaped)
}

/// The format of signing requests this version writes and reads. Format 1 carried the
/// previous versions without their signatures and no root history: it cannot be checked
/// against a keyholder's root, and is refused.
pub const REQUEST_FORMAT: u32 = 2;

/// A self-contained signing request: everything a keyholder needs on a machine that has
/// nothing else.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningRequest {
    pub trustroot_signing_request: u32,
    pub round: String,
    pub created: String,
    /// Every published root version, oldest first, as the published files (base64): the
    /// chain from whichever version a keyholder pins to the root the round follows.
    /// Claims of the coordinator until `ceremony sign --root` verifies them.
    pub published_roots: Vec<String>,
    pub roles: Vec<RequestRole>,
    /// sha256 of the canonical JSON of this request with this field empty: compare it
    /// with the coordinator's by another channel.
    pub request_sha256: String,
}

/// One role of a [`SigningRequest`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestRole {
    pub role: String,
    pub version: u64,
    pub expires: String,
    pub signed_sha256: String,
    /// The exact bytes to sign (canonical JSON of the staged `signed`), base64.
    pub signed: String,
    /// The published version it follows, as the published file (signatures included),
    /// base64. A claim of the coordinator until `ceremony sign --root` verifies it.
    pub previous: Option<String>,
    pub requirements: Vec<Requirement>,
    /// Human summary, regenerated and compared on the signing machine.
    pub summary: Vec<String>,
}

/// A request is hostile input: no text in it may carry control characters (terminal
/// escapes could rewrite what the keyholder reads, the request digest included), a role
/// name must be a plain file name once encoded, and a key ID must be a sha256 in hex (it
/// becomes part of a signature file's name).
fn check_request_text(request: &SigningRequest) -> std::result::Result<(), String> {
    let plain = |what: &str, text: &str| {
        if text.chars().any(char::is_control) {
            Err(format!("{what} contains control characters"))
        } else {
            Ok(())
        }
    };
    plain("round", &request.round)?;
    plain("created", &request.created)?;
    for role in &request.roles {
        plain("a role name", &role.role)?;
        if role.role.is_empty() || role.role == "." || role.role == ".." {
            return Err(format!("role name {:?} cannot name a file", role.role));
        }
        plain("expires", &role.expires)?;
        for line in &role.summary {
            plain("the summary", line)?;
        }
        for requirement in &role.requirements {
            plain("a requirement", &requirement.of)?;
            for signer in &requirement.signers {
                let hex = signer.keyid.len() == 64
                    && signer
                        .keyid
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
                if !hex {
                    return Err(format!("key ID {:?} is not a sha256 in lowercase hex", signer.keyid));
                }
                for value in signer.key.unknown.values() {
                    if value.as_str().is_some_and(|t| t.chars().any(char::is_control)) {
                        return Err(format!("key {} has a field with control characters", signer.keyid));
                    }
                }
            }
        }
    }
    Ok(())
}

/// `text` with control characters escaped, for printing untrusted strings.
pub fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn key_label(key: &Key, keyid: &str) -> String {
    match key_owner(key) {
        Some(owner) => format!("{} ({})", escape(owner), keys::short_id(keyid)),
        None => format!("key {}", keys::short_id(keyid)),
    }
}

use trustroot_core::display::escape;

/// The label a key carries in metadata (tuf-on-ci's `x-tuf-on-ci-keyowner`): text chosen
/// by whoever staged the metadata, never proof of who holds the key.
fn key_owner(key: &Key) -> Option<&str> {
    key.unknown.get("x-tuf-on-ci-keyowner").and_then(Value::as_str)
}

/// A line of a summary with every character a terminal would hide or act on escaped (the
/// lines quote metadata, which is untrusted). Backslashes are left alone: the diff shows
/// JSON, where a backslash in the text is already `\\`.
fn shown_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut buf = [0u8; 4];
    for c in line.chars() {
        if c == '\\' {
            out.push(c);
        } else {
            out.push_str(&escape(c.encode_utf8(&mut buf)));
        }
    }
    out
}

/// sha256 of a key's material (its public key, however the metadata encodes it), or why
/// the key cannot be used.
fn key_material(key: &Key) -> String {
    match key.public_key() {
        Ok(public) => format!(
            "material sha256:{}",
            trustroot_core::hashes::sha256_hex(&public.identity())
        ),
        Err(reason) => format!("unusable key: {}", escape(&reason)),
    }
}

/// One key, in full: ID, type, material fingerprint and label (escaped, with a warning
/// when it holds characters a terminal would hide).
fn key_line(keyid: &str, key: &Key) -> String {
    let mut line = format!(
        "key {keyid} ({}/{}, {})",
        escape(&key.keytype),
        escape(&key.scheme),
        key_material(key)
    );
    if let Some(owner) = key_owner(key) {
        let shown = escape(owner);
        line.push_str(&format!(" labelled \"{shown}\""));
        if shown != owner {
            line.push_str(" (the label holds hidden or control characters, shown escaped)");
        }
    }
    line
}

/// Keys and the roles they sign, from root (`keys`, `roles`) or targets
/// (`delegations.keys`, `delegations.roles`, `delegations.succinct_roles`).
type KeyTable = (BTreeMap<String, Key>, BTreeMap<String, (Vec<String>, u64)>);

fn key_table(role: &str, signed: &Value) -> Option<KeyTable> {
    if role == "root" {
        let root: Root = serde_json::from_value(signed.clone()).ok()?;
        let roles = root
            .roles
            .into_iter()
            .map(|(name, r)| (format!("{name} role"), (r.keyids, r.threshold)))
            .collect();
        return Some((root.keys, roles));
    }
    let targets: Targets = serde_json::from_value(signed.clone()).ok()?;
    let Some(delegations) = targets.delegations else {
        return Some((BTreeMap::new(), BTreeMap::new()));
    };
    let mut roles = BTreeMap::new();
    for r in delegations.roles.unwrap_or_default() {
        roles.insert(
            format!("delegated role \"{}\"", escape(&r.name)),
            (r.keyids, r.threshold),
        );
    }
    if let Some(succinct) = delegations.succinct_roles {
        roles.insert(
            format!("hashed bins \"{}-*\"", escape(&succinct.name_prefix)),
            (succinct.keyids, succinct.threshold),
        );
    }
    Some((delegations.keys, roles))
}

/// Every key added or removed and every threshold or signer change, by key ID and key
/// material: labels alone can impersonate a keyholder.
fn key_changes(role: &str, previous: Option<&Value>, signed: &Value) -> Vec<String> {
    let Some((new_keys, new_roles)) = key_table(role, signed) else {
        return Vec::new();
    };
    let label_note = "(labels are text chosen by whoever staged this version: compare key IDs and material)";
    let Some(previous) = previous else {
        if new_keys.is_empty() && new_roles.is_empty() {
            return Vec::new();
        }
        let mut lines = vec![format!("keys and thresholds of this new version {label_note}:")];
        for (id, key) in &new_keys {
            lines.push(format!("  + {}", key_line(id, key)));
        }
        for (name, (ids, threshold)) in &new_roles {
            lines.push(format!("  + {name}: threshold {threshold} of {} key(s)", ids.len()));
        }
        return lines;
    };
    let (old_keys, old_roles) = key_table(role, previous).unwrap_or_default();
    let mut lines = Vec::new();
    for (id, key) in &old_keys {
        match new_keys.get(id) {
            None => lines.push(format!("  - {} removed", key_line(id, key))),
            Some(new) if new != key => {
                lines.push(format!("  ~ {} changed to", key_line(id, key)));
                lines.push(format!("    {}", key_line(id, new)));
            }
            Some(_) => {}
        }
    }
    for (id, key) in &new_keys {
        if !old_keys.contains_key(id) {
            lines.push(format!("  + {} added", key_line(id, key)));
        }
    }
    let label = |keys: &BTreeMap<String, Key>, id: &str| match keys.get(id) {
        Some(key) => key_label(key, id),
        None => format!("key {} (not in the key list)", keys::short_id(id)),
    };
    let empty = (Vec::new(), 0);
    for name in old_roles
        .keys()
        .chain(new_roles.keys().filter(|n| !old_roles.contains_key(*n)))
    {
        let (old_ids, old_threshold) = old_roles.get(name).unwrap_or(&empty);
        let (new_ids, new_threshold) = new_roles.get(name).unwrap_or(&empty);
        if !old_roles.contains_key(name) {
            lines.push(format!("  + {name}: threshold {new_threshold}"));
        } else if !new_roles.contains_key(name) {
            lines.push(format!("  - {name} removed (it had threshold {old_threshold})"));
            continue;
        } else if old_threshold != new_threshold {
            lines.push(format!("  ~ {name}: threshold {old_threshold} -> {new_threshold}"));
        }
        for id in old_ids.iter().filter(|id| !new_ids.contains(id)) {
            lines.push(format!("  ~ {name}: - {}", label(&old_keys, id)));
        }
        for id in new_ids.iter().filter(|id| !old_ids.contains(id)) {
            lines.push(format!("  ~ {name}: + {}", label(&new_keys, id)));
        }
    }
    if lines.is_empty() {
        vec!["keys and thresholds: unchanged".to_string()]
    } else {
        lines.insert(0, format!("keys and thresholds that change {label_note}:"));
        lines
    }
}

fn summary(role: &RequestRole, signed: &Value, previous: Option<&Value>) -> Vec<String> {
    let mut lines = vec![
        match previous.and_then(|p| p.get("version")).and_then(Value::as_u64) {
            Some(v) => format!(
                "{} v{} (replaces v{v}), expires {}",
                escape(&role.role),
                role.version,
                escape(&role.expires)
            ),
            None => format!(
                "{} v{} (new), expires {}",
                escape(&role.role),
                role.version,
                escape(&role.expires)
            ),
        },
        format!("sha256 of the bytes to sign: {}", escape(&role.signed_sha256)),
    ];
    for req in &role.requirements {
        let names: Vec<String> = req.signers.iter().map(|s| key_label(&s.key, &s.keyid)).collect();
        lines.push(format!(
            "needs {} of {} signer(s) of {}: {}",
            req.threshold,
            req.signers.len(),
            escape(&req.of),
            names.join(", ")
        ));
    }
    if role.role == "root" || role.role == "targets" || previous.is_some() {
        lines.extend(key_changes(&role.role, previous, signed));
    }
    let changes = stage::diff(previous, signed);
    lines.push(format!(
        "changes against {}:",
        if previous.is_some() {
            "the published version"
        } else {
            "nothing (new role)"
        }
    ));
    lines.extend(changes.into_iter().map(|l| format!("  {}", shown_line(&l))));
    lines
}

impl RequestRole {
    /// The published version this role follows, as the request carries it.
    pub fn previous_bytes(&self) -> Result<Option<Vec<u8>>> {
        self.previous.as_deref().map(|text| unb64(&self.role, text)).transpose()
    }
}

impl SigningRequest {
    /// The published root versions the request carries, oldest first.
    pub fn published_root_bytes(&self) -> Result<Vec<Vec<u8>>> {
        self.published_roots
            .iter()
            .map(|text| unb64("published root", text))
            .collect()
    }

    fn compute_digest(&self) -> Result<String> {
        let mut copy = self.clone();
        copy.request_sha256 = String::new();
        let value = serde_json::to_value(&copy).map_err(|e| Error::refused(e.to_string()))?;
        Ok(trustroot_core::hashes::sha256_hex(&canonical(
            "signing request",
            &value,
        )?))
    }

    /// Reads and checks a request file: every digest, the bytes' canonical form, the
    /// declared role, version and expiry, root's signers against root's own bytes, and
    /// the summary against one regenerated from the bytes. Any mismatch means the file
    /// was altered.
    pub fn load(path: &Path) -> Result<(SigningRequest, Vec<Vec<u8>>)> {
        let bytes = keys::read_limited(path, MAX_REQUEST_FILE)?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::file(path, format!("not a trustroot signing request: {e}")))?;
        match value.get("trustroot_signing_request").and_then(Value::as_u64) {
            Some(v) if v == u64::from(REQUEST_FORMAT) => {}
            Some(v) if v < u64::from(REQUEST_FORMAT) => {
                return Err(Error::file(
                    path,
                    format!(
                        "is a signing request in format {v}, made by an older trustroot: it does not carry the published root versions and signatures your root can check its changes against; ask for a new request (the coordinator runs `trustroot ceremony request` with this version)"
                    ),
                ));
            }
            Some(v) => {
                return Err(Error::file(
                    path,
                    format!(
                        "is a signing request in format {v}, newer than this trustroot reads (format {REQUEST_FORMAT}): use the coordinator's trustroot version, or ask for a new request"
                    ),
                ));
            }
            None => {
                return Err(Error::file(
                    path,
                    "not a trustroot signing request: no trustroot_signing_request format number",
                ));
            }
        }
        let request: SigningRequest = serde_json::from_value(value)
            .map_err(|e| Error::file(path, format!("not a trustroot signing request: {e}")))?;
        let tampered = |reason: String| Error::file(path, format!("tampered or damaged signing request: {reason}"));
        check_request_text(&request)
            .map_err(|reason| Error::file(path, format!("refused signing request: {reason}")))?;
        if request.compute_digest()? != request.request_sha256 {
            return Err(tampered(
                "request_sha256 does not match the request's contents".to_string(),
            ));
        }
        // The published root versions: consecutive, each a root. Whether they verify is
        // for `ceremony sign --root` (see `baseline`); here they must only be coherent.
        let mut last_root: Option<Value> = None;
        for (i, text) in request.published_roots.iter().enumerate() {
            let bytes = unb64("published root", text)?;
            let envelope = Envelope::parse("root", &bytes, &Limits::default())
                .map_err(|e| tampered(format!("published root #{}: {e}", i + 1)))?;
            let version = envelope.version();
            let previous_version = last_root
                .as_ref()
                .and_then(|r| r.get("version"))
                .and_then(Value::as_u64);
            if envelope.role_type() != Some("root")
                || version.is_none()
                || previous_version.is_some_and(|p| Some(p + 1) != version)
            {
                return Err(tampered(format!(
                    "published root #{} is not the next root version after v{}",
                    i + 1,
                    previous_version.unwrap_or(0)
                )));
            }
            last_root = Some(envelope.signed);
        }
        let mut all_bytes = Vec::new();
        for role in &request.roles {
            let name = &role.role;
            let bytes = unb64(name, &role.signed)?;
            if trustroot_core::hashes::sha256_hex(&bytes) != role.signed_sha256 {
                return Err(tampered(format!("{name}: the bytes do not match signed_sha256")));
            }
            let signed =
                parse_canonical(&bytes).map_err(|e| tampered(format!("{name}: the bytes are not JSON: {e}")))?;
            if canonical(name, &signed)? != bytes {
                return Err(tampered(format!("{name}: the bytes are not canonical JSON")));
            }
            let previous = match &role.previous {
                Some(text) => {
                    let prev = unb64(name, text)?;
                    let envelope = Envelope::parse(name, &prev, &Limits::default())
                        .map_err(|e| tampered(format!("{name}: the previous version is not metadata: {e}")))?;
                    Some(envelope.signed)
                }
                None => None,
            };
            if name == "root" {
                match (&previous, &last_root) {
                    (Some(prev), Some(last)) if prev != last => {
                        return Err(tampered(format!(
                            "root: the previous version (v{}) is not the last published root the request carries (v{})",
                            prev.get("version").and_then(Value::as_u64).unwrap_or(0),
                            last.get("version").and_then(Value::as_u64).unwrap_or(0)
                        )));
                    }
                    (Some(_), None) => {
                        return Err(tampered(
                            "root: it names a previous version but carries no published root".to_string(),
                        ));
                    }
                    (None, Some(last)) => {
                        return Err(tampered(format!(
                            "root v{}: staged as a new root, yet the request carries published root v{}",
                            role.version,
                            last.get("version").and_then(Value::as_u64).unwrap_or(0)
                        )));
                    }
                    _ => {}
                }
            }
            let expected_type = if name == "root" { "root" } else { "targets" };
            if signed.get("_type").and_then(Value::as_str) != Some(expected_type)
                || signed.get("version").and_then(Value::as_u64) != Some(role.version)
                || signed.get("expires").and_then(Value::as_str) != Some(role.expires.as_str())
            {
                return Err(tampered(format!(
                    "{name}: role type, version or expiry differ from the bytes"
                )));
            }
            if name == "root" {
                let root: Root = serde_json::from_value(signed.clone())
                    .map_err(|e| tampered(format!("root: not a valid root: {e}")))?;
                let mut expected = Vec::new();
                if let Some(r) = root.roles.get("root") {
                    expected.push(Requirement::new(
                        format!("root v{}", role.version),
                        &root.keys,
                        &r.keyids,
                        r.threshold,
                    ));
                }
                if let Some(prev) = &previous {
                    let old: Root = serde_json::from_value(prev.clone())
                        .map_err(|e| tampered(format!("root: the previous version is not a valid root: {e}")))?;
                    if let Some(r) = old.roles.get("root") {
                        expected.push(Requirement::new(
                            format!("root v{} (the published root)", old.common.version),
                            &old.keys,
                            &r.keyids,
                            r.threshold,
                        ));
                    }
                }
                if expected != role.requirements {
                    return Err(tampered(
                        "root: the listed signers differ from the root's own keys".to_string(),
                    ));
                }
            }
            if summary(role, &signed, previous.as_ref()) != role.summary {
                return Err(tampered(format!("{name}: the summary does not match the bytes")));
            }
            all_bytes.push(bytes);
        }
        Ok((request, all_bytes))
    }
}

/// A detached signature file: one key's signature over one staged role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetachedSignature {
    pub trustroot_signature: u32,
    pub round: String,
    pub role: String,
    pub version: u64,
    pub signed_sha256: String,
    pub keyid: String,
    pub sig: String,
}

impl DetachedSignature {
    /// The file name it is stored under.
    pub fn file_name(&self) -> String {
        signature_file_name(&self.role, &self.keyid)
    }

    /// Parses a signature file strictly.
    pub fn parse(what: &Path, bytes: &[u8]) -> Result<DetachedSignature> {
        let sig: DetachedSignature = serde_json::from_slice(bytes)
            .map_err(|e| Error::file(what, format!("not a trustroot signature file: {e}")))?;
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        if sig.trustroot_signature != 1 {
            return Err(Error::file(what, "unsupported signature file format"));
        }
        if !hex64(&sig.keyid) || !hex64(&sig.signed_sha256) {
            return Err(Error::file(
                what,
                "keyid and signed_sha256 must be 64 lowercase hex digits",
            ));
        }
        if sig.sig.is_empty() || sig.sig.len() > 2048 || hex::decode(&sig.sig).is_err() {
            return Err(Error::file(what, "sig must be a non-empty hex signature"));
        }
        Ok(sig)
    }

    /// Why this signature does not count for `round`, or the role it signs.
    pub fn check<'r>(&self, round: &'r Round) -> std::result::Result<&'r RoundRole, String> {
        if self.round != round.id {
            return Err(format!("it is for round '{}', not round '{}'", self.round, round.id));
        }
        let role = round
            .role(&self.role)
            .ok_or_else(|| format!("role '{}' is not staged in round '{}'", self.role, round.id))?;
        if self.version != role.meta.version {
            return Err(format!(
                "it signs {} v{}, but v{} is staged",
                self.role, self.version, role.meta.version
            ));
        }
        if self.signed_sha256 != role.digest {
            return Err(format!(
                "it was made over different bytes (sha256 {}) than the staged {} v{} (sha256 {})",
                keys::short_id(&self.signed_sha256),
                self.role,
                self.version,
                keys::short_id(&role.digest)
            ));
        }
        let key = role
            .requirements
            .iter()
            .flat_map(|r| r.signers.iter())
            .find(|s| s.keyid == self.keyid)
            .ok_or_else(|| format!("key {} is not a signer of {}", keys::short_id(&self.keyid), self.role))?;
        let public = key
            .key
            .public_key()
            .map_err(|e| format!("key {} cannot verify: {e}", keys::short_id(&self.keyid)))?;
        let sig = hex::decode(&self.sig).map_err(|_| "sig is not hex".to_string())?;
        if !public.verify(&role.bytes, &sig) {
            return Err(format!(
                "the signature by key {} does not verify over the staged {} v{}",
                keys::short_id(&self.keyid),
                self.role,
                self.version
            ));
        }
        Ok(role)
    }
}

/// Signs every role of a checked request that `signer` is a signer of; each signature is
/// verified right after it is made. One signature per key ID listing the key.
pub fn sign_request(
    request: &SigningRequest,
    role_bytes: &[Vec<u8>],
    signer: &dyn Signer,
) -> Result<Vec<DetachedSignature>> {
    let public = signer.public_key();
    let mut out = Vec::new();
    for (role, bytes) in request.roles.iter().zip(role_bytes) {
        let mut keyids: Vec<(&String, &Key)> = Vec::new();
        for s in role.requirements.iter().flat_map(|r| r.signers.iter()) {
            if keys::same_key(&s.key, &public) && !keyids.iter().any(|(id, _)| *id == &s.keyid) {
                keyids.push((&s.keyid, &s.key));
            }
        }
        for (keyid, key) in keyids {
            let sig = signer.sign(bytes)?;
            let verifies = key.public_key().map(|k| k.verify(bytes, &sig)).unwrap_or(false);
            if !verifies {
                return Err(Error::refused(format!(
                    "the signature just made with {} over {} does not verify; nothing was written",
                    signer.describe(),
                    role.role
                )));
            }
            out.push(DetachedSignature {
                trustroot_signature: 1,
                round: request.round.clone(),
                role: role.role.clone(),
                version: role.version,
                signed_sha256: role.signed_sha256.clone(),
                keyid: keyid.clone(),
                sig: hex::encode(sig),
            });
        }
    }
    if out.is_empty() {
        return Err(Error::refused(format!(
            "the key {} ({}) is not a signer of any role in this request",
            signer.describe(),
            keys::short_id(&public.computed_key_id())
        )));
    }
    Ok(out)
}

/// What [`add_signature`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Stored under this path.
    Stored(PathBuf),
    /// This key already signed this role; the key counts once and nothing changed.
    AlreadySigned(PathBuf),
}

/// Checks a detached signature against the round and stores it. Nothing is written when
/// it does not verify.
pub fn add_signature(repo: &Repo, round: &Round, source: &Path, bytes: &[u8], now: DateTime<Utc>) -> Result<Added> {
    if bytes.len() as u64 > MAX_SIGNATURE_FILE {
        return Err(Error::file(source, "too large to be a signature file"));
    }
    let sig = DetachedSignature::parse(source, bytes)?;
    let role = sig
        .check(round)
        .map_err(|reason| Error::file(source, format!("refused: {reason}; nothing was changed")))?;
    if role.changed_since_start() {
        return Err(Error::file(
            &role.staged_path,
            "was changed after the round started; its signatures cannot be collected",
        ));
    }
    let path = round.dir.join("signatures").join(sig.file_name());
    if path.exists() {
        return Ok(Added::AlreadySigned(path));
    }
    let mut text = serde_json::to_vec_pretty(&sig).map_err(|e| Error::refused(e.to_string()))?;
    text.push(b'\n');
    repo.write(&path, &text)?;
    round.log(
        repo,
        now,
        "add-signature",
        json!({
            "role": sig.role,
            "version": sig.version,
            "signed_sha256": sig.signed_sha256,
            "keyid": sig.keyid,
            "file": sig.file_name(),
            "from": source.file_name().and_then(|n| n.to_str()).unwrap_or(""),
        }),
    )?;
    Ok(Added::Stored(path))
}

/// Threshold status of a round.
#[derive(Debug, Clone, Serialize)]
pub struct RoundStatus {
    pub round: String,
    pub complete: bool,
    pub roles: Vec<RoleStatus>,
}

/// Status of one staged role.
#[derive(Debug, Clone, Serialize)]
pub struct RoleStatus {
    pub role: String,
    pub version: u64,
    pub expires: String,
    pub signed_sha256: String,
    /// The staged file no longer matches what the round started with.
    pub changed_since_start: bool,
    pub complete: bool,
    pub thresholds: Vec<ThresholdStatus>,
    /// Signature files that do not count, and why.
    pub rejected: Vec<Rejected>,
}

/// One threshold: e.g. the new root's, or the published root's.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdStatus {
    pub of: String,
    pub valid: usize,
    pub required: u64,
    pub met: bool,
    pub signed: Vec<Keyholder>,
    pub not_signed: Vec<Keyholder>,
}

/// A signer of a role, named as the policy names it.
#[derive(Debug, Clone, Serialize)]
pub struct Keyholder {
    pub keyid: String,
    pub name: Option<String>,
    pub holder: Option<String>,
}

/// A signature file that does not count.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    pub file: String,
    pub keyid: Option<String>,
    pub reason: String,
}

/// Computes the status of `round` from its signature files. Only signatures that verify
/// over the staged bytes, from keys that sign the role, count; keys count once.
pub fn status(repo: &Repo, round: &Round) -> Result<RoundStatus> {
    let policy_keys = repo.keys().ok();
    let sig_dir = round.dir.join("signatures");
    let mut by_role: BTreeMap<String, Vec<DetachedSignature>> = BTreeMap::new();
    let mut rejected: BTreeMap<String, Vec<Rejected>> = BTreeMap::new();
    let mut files: Vec<PathBuf> = match fs::read_dir(&sig_dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::file(&sig_dir, e)),
    };
    files.sort();
    for path in files {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        if name.starts_with('.') {
            continue;
        }
        let parsed = keys::read_limited(&path, MAX_SIGNATURE_FILE).and_then(|b| DetachedSignature::parse(&path, &b));
        let (role_name, outcome) = match parsed {
            Err(e) => ("?".to_string(), Err((None, e.to_string()))),
            Ok(sig) => {
                let role_name = sig.role.clone();
                let outcome = if sig.file_name() != name {
                    Err((
                        Some(sig.keyid.clone()),
                        "the file name does not match its contents".to_string(),
                    ))
                } else {
                    match sig.check(round) {
                        Ok(_) => Ok(sig),
                        Err(reason) => Err((Some(sig.keyid.clone()), reason)),
                    }
                };
                (role_name, outcome)
            }
        };
        match outcome {
            Ok(sig) => by_role.entry(role_name).or_default().push(sig),
            Err((keyid, reason)) => rejected.entry(role_name).or_default().push(Rejected {
                file: name,
                keyid,
                reason,
            }),
        }
    }
    let describe = |keyid: &str, key: &Key| -> Keyholder {
        let named = policy_keys.as_ref().and_then(|pk| {
            pk.by_name
                .iter()
                .find(|(_, k)| keys::same_key(k, key))
                .map(|(n, _)| n.clone())
        });
        let holder = named
            .as_ref()
            .and_then(|n| repo.policy.keys.get(n))
            .and_then(|e| e.holder.clone())
            .or_else(|| {
                key.unknown
                    .get("x-tuf-on-ci-keyowner")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
        Keyholder {
            keyid: keyid.to_string(),
            name: named,
            holder,
        }
    };
    let mut roles = Vec::new();
    for role in &round.roles {
        let sigs = by_role.remove(&role.meta.role).unwrap_or_default();
        let mut role_rejected = rejected.remove(&role.meta.role).unwrap_or_default();
        let entries: Vec<Value> = sigs.iter().map(|s| json!({"keyid": s.keyid, "sig": s.sig})).collect();
        let envelope_bytes = serde_json::to_vec(&json!({"signatures": entries, "signed": role.signed}))
            .map_err(|e| Error::refused(e.to_string()))?;
        let envelope = Envelope::parse(&role.meta.role, &envelope_bytes, &Limits::default())?;
        let mut thresholds = Vec::new();
        for req in &role.requirements {
            let (key_map, ids) = req.key_map();
            let report = check_signatures(&envelope, &key_map, &ids, req.threshold);
            let mut signed = Vec::new();
            let mut not_signed = Vec::new();
            for (keyid, key_status) in &report.keys {
                let Some(key) = key_map.get(keyid) else { continue };
                match key_status {
                    KeyStatus::Valid => signed.push(describe(keyid, key)),
                    KeyStatus::DuplicateKey => {
                        let file = signature_file_name(&role.meta.role, keyid);
                        if !role_rejected.iter().any(|r| r.file == file) {
                            role_rejected.push(Rejected {
                                file,
                                keyid: Some(keyid.clone()),
                                reason: "the same key already signed under another key ID; a key counts once".into(),
                            });
                        }
                    }
                    _ => not_signed.push(describe(keyid, key)),
                }
            }
            let order = |k: &Keyholder| (k.name.clone(), k.keyid.clone());
            signed.sort_by_key(order);
            not_signed.sort_by_key(order);
            thresholds.push(ThresholdStatus {
                of: req.of.clone(),
                valid: report.valid,
                required: req.threshold,
                met: report.is_met(),
                signed,
                not_signed,
            });
        }
        let complete = thresholds.iter().all(|t| t.met) && !role.changed_since_start();
        roles.push(RoleStatus {
            role: role.meta.role.clone(),
            version: role.meta.version,
            expires: role.meta.expires.clone(),
            signed_sha256: role.digest.clone(),
            changed_since_start: role.changed_since_start(),
            complete,
            thresholds,
            rejected: role_rejected,
        });
    }
    // Signature files for roles this round does not stage (or unreadable ones).
    if let Some(first) = roles.first_mut() {
        for (_, list) in rejected {
            first.rejected.extend(list);
        }
    }
    Ok(RoundStatus {
        round: round.id.clone(),
        complete: roles.iter().all(|r| r.complete),
        roles,
    })
}

/// Installs a fully signed round as the published metadata in `metadata/` (with
/// `root_history/N.root.json`). Not a publish: no snapshot or timestamp is made. For
/// tests and for the publish step of the next issue to build on.
#[doc(hidden)]
pub fn install_signed_round(repo: &Repo, round: &Round) -> Result<()> {
    let state = status(repo, round)?;
    if !state.complete {
        return Err(Error::refused(format!("round {} is not fully signed", round.id)));
    }
    for role in &round.roles {
        let mut entries = Vec::new();
        let sig_dir = round.dir.join("signatures");
        let role_status = state.roles.iter().find(|r| r.role == role.meta.role);
        let signed_ids: Vec<&String> = role_status
            .map(|r| {
                r.thresholds
                    .iter()
                    .flat_map(|t| t.signed.iter().map(|k| &k.keyid))
                    .collect()
            })
            .unwrap_or_default();
        let mut seen = std::collections::BTreeSet::new();
        for keyid in signed_ids {
            if !seen.insert(keyid.clone()) {
                continue;
            }
            let path = sig_dir.join(signature_file_name(&role.meta.role, keyid));
            let sig = DetachedSignature::parse(&path, &keys::read_limited(&path, MAX_SIGNATURE_FILE)?)?;
            entries.push(json!({"keyid": sig.keyid, "sig": sig.sig}));
        }
        let bytes = repo::to_metadata_json(&json!({"signatures": entries, "signed": role.signed}));
        let metadata = repo.root.join("metadata");
        repo.write(&metadata.join(role_file(&role.meta.role)), &bytes)?;
        if role.meta.role == "root" {
            repo.write(
                &metadata
                    .join("root_history")
                    .join(format!("{}.root.json", role.meta.version)),
                &bytes,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn root(keys: Value, keyids: &[&str], threshold: u64) -> Value {
        json!({
            "_type": "root", "spec_version": "1.0.31", "version": 1,
            "expires": "2030-01-01T00:00:00Z", "consistent_snapshot": true,
            "keys": keys,
            "roles": {"root": {"keyids": keyids, "threshold": threshold}},
        })
    }

    fn key(public: &str, owner: &str) -> Value {
        json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": public}, "x-tuf-on-ci-keyowner": owner})
    }

    #[test]
    fn key_changes_name_every_key_by_id_and_material_and_every_threshold_change() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let old = root(json!({&a: key(&"11".repeat(32), "@alice")}), &[&a], 2);
        let new = root(
            json!({&a: key(&"11".repeat(32), "@alice"), &b: key(&"22".repeat(32), "car\u{200b}ol")}),
            &[&a, &b],
            1,
        );
        let lines = key_changes("root", Some(&old), &new);
        let text = lines.join("\n");
        assert!(text.contains(&format!("+ key {b} (ed25519/ed25519, ")), "{text}");
        assert!(
            text.contains("labelled \"car\\u{200b}ol\" (the label holds hidden"),
            "{text}"
        );
        assert!(text.contains("~ root role: threshold 2 -> 1"), "{text}");
        assert!(
            text.contains("~ root role: + car\\u{200b}ol (bbbbbbbbbbbbbbbb)"),
            "{text}"
        );
        assert!(!text.contains('\u{200b}'), "{text}");
        assert_eq!(
            key_changes("root", Some(&old), &old),
            vec!["keys and thresholds: unchanged"]
        );
    }

    #[test]
    fn summary_lines_escape_what_a_terminal_would_hide_but_keep_json_backslashes() {
        assert_eq!(shown_line("+ a = \"\u{202e}x\\\"\""), "+ a = \"\\u{202e}x\\\"\"");
    }
}
