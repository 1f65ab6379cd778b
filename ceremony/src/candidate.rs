//! The repository a round would publish: every role's envelope (the round's newly signed
//! roles, the online-signed snapshot and timestamp, and the published roles it keeps), the
//! whole root history, and every target with the file its bytes come from.
//!
//! Building it writes nothing. What cannot be built (a threshold not met, a staged file
//! edited after signing, a target file that no longer matches its hash) becomes a
//! [`Finding`] of the gate, so `ceremony verify` can report everything at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use trustroot_core::metadata::{Root, Snapshot, Targets};
use trustroot_core::{Envelope, Limits};

use crate::error::{Error, Result};
use crate::gate::{Check, Finding};
use crate::keys::{self, Signer};
use crate::repo::{self, Repo};
use crate::round::{self, DetachedSignature, Round};
use crate::stage::SPEC_VERSION;

/// One target of the candidate repository.
#[derive(Debug, Clone)]
pub struct CandidateTarget {
    /// The role that lists it.
    pub role: String,
    pub length: u64,
    pub sha256: String,
    /// Where its bytes are (the signing repository's `targets/`, or the published tree).
    pub source: Option<PathBuf>,
}

/// The repository a round would publish.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub round: String,
    /// Role name -> envelope bytes, for every role published after this round.
    pub metadata: BTreeMap<String, Vec<u8>>,
    /// Role name -> version, for every role in `metadata`.
    pub versions: BTreeMap<String, u64>,
    /// The roles this publish writes a new version of.
    pub new_roles: Vec<String>,
    /// Every root version, by version.
    pub root_history: BTreeMap<u64, Vec<u8>>,
    /// The published metadata this publish follows (`metadata/`), by role.
    pub previous: BTreeMap<String, Vec<u8>>,
    /// Every target listed by a role of the candidate, by path.
    pub targets: BTreeMap<String, CandidateTarget>,
    /// Signature files left out, and why.
    pub left_out: Vec<String>,
}

impl Candidate {
    /// The envelope of `role`, parsed.
    pub fn envelope(&self, role: &str) -> Option<Envelope> {
        let bytes = self.metadata.get(role)?;
        Envelope::parse(role, bytes, &Limits::default()).ok()
    }

    /// The version a client starting from the published repository holds (its root).
    pub fn published_root_version(&self) -> Option<u64> {
        let bytes = self.previous.get("root")?;
        Envelope::parse("root", bytes, &Limits::default()).ok()?.version()
    }
}

fn parse_envelope(path: &Path, role: &str, bytes: &[u8]) -> Result<Envelope> {
    Envelope::parse(role, bytes, &Limits::default()).map_err(|e| Error::file(path, e))
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
        let snapshot: Snapshot = serde_json::from_value(envelope.signed.clone())
            .map_err(|e| Error::file(&path, format!("not a snapshot: {e}")))?;
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
            let entry = entry.map_err(|e| Error::file(&history_dir, e))?;
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

pub(crate) fn expires(now: DateTime<Utc>, days: u32) -> String {
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    trustroot_core::time::format(&(now + Duration::days(i64::from(days))))
}

/// The envelope of `signed` (metadata as published: `signatures` then `signed`, pretty
/// printed), signed over its canonical JSON with `signer` under each of `keyids`.
pub fn sign_envelope(role: &str, signed: &Value, keyids: &[String], signer: &dyn Signer) -> Result<Vec<u8>> {
    let bytes = trustroot_core::canonical::to_canonical_bytes(signed)
        .map_err(|e| Error::refused(format!("{role}: cannot make canonical JSON: {e}")))?;
    let mut signatures = Vec::new();
    for keyid in keyids {
        let sig = signer.sign(&bytes)?;
        signatures.push(json!({"keyid": keyid, "sig": hex::encode(sig)}));
    }
    drop(bytes);
    let mut out = Vec::new();
    write_envelope(role, &signatures, signed, &mut out)?;
    Ok(out)
}

/// Writes `{"signatures": ..., "signed": ...}` as [`repo::to_metadata_json`] formats metadata,
/// without first copying `signed` into one `Value` with its signatures.
pub(crate) fn write_envelope<T: serde::Serialize + ?Sized>(
    role: &str,
    signatures: &[Value],
    signed: &T,
    out: impl std::io::Write,
) -> Result<()> {
    use serde::ser::{SerializeMap as _, Serializer as _};
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut serializer = serde_json::Serializer::with_formatter(out, formatter);
    let written = (|| {
        let mut map = (&mut serializer).serialize_map(Some(2))?;
        map.serialize_entry("signatures", signatures)?;
        map.serialize_entry("signed", signed)?;
        map.end()
    })();
    written.map_err(|e| Error::refused(format!("{role}: cannot write the signed metadata: {e}")))
}

/// The key IDs under which `root` lists `signer`'s key for `role`.
pub(crate) fn online_keyids(root: &Root, role: &str, signer: &dyn Signer) -> Vec<String> {
    let public = signer.public_key();
    root.roles
        .get(role)
        .map(|r| {
            r.keyids
                .iter()
                .filter(|id| root.keys.get(*id).is_some_and(|k| keys::same_key(k, &public)))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
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
        let Ok(envelope) = Envelope::parse(&role, bytes, &Limits::default()) else {
            continue;
        };
        let Ok(targets) = serde_json::from_value::<Targets>(envelope.signed) else {
            continue;
        };
        if let Some(delegations) = &targets.delegations {
            let children: Vec<String> = delegations.children().collect();
            queue.extend(children.into_iter().rev().map(|child| (child, role.clone())));
        }
    }
    (order, missing)
}

/// Builds the candidate of `round`, signing snapshot and timestamp with `online` at `now`.
/// Problems that a publish must refuse become findings; only I/O and unreadable published
/// metadata are errors.
pub fn build(repo: &Repo, round: &Round, online: &dyn Signer, now: DateTime<Utc>) -> Result<(Candidate, Vec<Finding>)> {
    let mut findings = Vec::new();
    let (previous, mut root_history) = read_published(repo)?;
    let state = round::status(repo, round)?;
    let mut metadata = previous.clone();
    let mut new_roles = Vec::new();
    let mut left_out = Vec::new();

    for role in &round.roles {
        let name = &role.meta.role;
        let file = format!("ceremonies/{}/staged/{}", round.id, round::role_file(name));
        let Some(role_state) = state.roles.iter().find(|r| &r.role == name) else {
            continue;
        };
        // The round must follow what is published now.
        let published_version = previous
            .get(name)
            .and_then(|b| Envelope::parse(name, b, &Limits::default()).ok())
            .and_then(|e| e.version());
        if published_version != role.meta.previous_version {
            let now_published = match published_version {
                Some(v) => format!("v{v}"),
                None => "nothing".to_string(),
            };
            let followed = match role.meta.previous_version {
                Some(v) => format!("v{v}"),
                None => "no published version".to_string(),
            };
            findings.push(Finding::error(
                Check::Signatures,
                name,
                &file,
                format!(
                    "round {} staged {name} v{} to follow {followed}, but metadata/ now holds {now_published}; start a new round",
                    round.id, role.meta.version
                ),
            ));
        }
        if role_state.changed_since_start {
            findings.push(Finding::error(
                Check::Signatures,
                name,
                &file,
                format!(
                    "the staged {name} v{} was edited after the round started (its sha256 is now {}, the round signed {}); no signature over it counts: start a new round",
                    role.meta.version,
                    keys::short_id(&role.digest),
                    keys::short_id(&role.meta.signed_sha256)
                ),
            ));
        }
        for t in &role_state.thresholds {
            if !t.met {
                let missing: Vec<String> = t
                    .not_signed
                    .iter()
                    .map(|k| match (&k.name, &k.holder) {
                        (Some(n), Some(h)) => format!("{n} ({h})"),
                        (Some(n), None) => n.clone(),
                        (None, Some(h)) => h.clone(),
                        (None, None) => format!("key {}", keys::short_id(&k.keyid)),
                    })
                    .collect();
                findings.push(Finding::error(
                    Check::Signatures,
                    name,
                    &file,
                    format!(
                        "{name} v{} has {} of the {} signatures required from the signers of {}; not signed yet: {}",
                        role.meta.version,
                        t.valid,
                        t.required,
                        t.of,
                        if missing.is_empty() {
                            "nobody left".to_string()
                        } else {
                            missing.join(", ")
                        }
                    ),
                ));
            }
        }
        for r in &role_state.rejected {
            left_out.push(format!("{}: {} (left out)", r.file, r.reason));
        }
        // The valid signatures, each key once, in key ID order.
        let mut ids: BTreeSet<String> = BTreeSet::new();
        for t in &role_state.thresholds {
            ids.extend(t.signed.iter().map(|k| k.keyid.clone()));
        }
        let mut entries = Vec::new();
        for keyid in ids {
            let path = round
                .dir
                .join("signatures")
                .join(round::signature_file_name(name, &keyid));
            let sig = DetachedSignature::parse(&path, &keys::read_limited(&path, round::MAX_SIGNATURE_FILE)?)?;
            entries.push(json!({"keyid": sig.keyid, "sig": sig.sig}));
        }
        let bytes = repo::to_metadata_json(&json!({"signatures": entries, "signed": role.signed}));
        if name == "root" {
            root_history.insert(role.meta.version, bytes.clone());
        }
        metadata.insert(name.clone(), bytes);
        new_roles.push(name.clone());
    }

    // The root in force after this publish.
    let root_bytes = metadata
        .get("root")
        .cloned()
        .ok_or_else(|| Error::refused("there is no root: the first round must stage root v1"))?;
    let root_envelope = parse_envelope(Path::new("root.json"), "root", &root_bytes)?;
    let root: Root = serde_json::from_value(root_envelope.signed.clone())
        .map_err(|e| Error::refused(format!("root: not a valid root: {e}")))?;

    // Every targets role reachable from targets; delegated roles without metadata are findings.
    let (roles, missing) = reachable_roles(&metadata);
    for (role, delegator) in missing {
        findings.push(Finding::error(
            Check::Lint,
            &role,
            &format!("metadata/{}", round::role_file(&role)),
            format!(
                "{delegator} delegates to {role}, which has no metadata: stage it in a round (is it in trustroot.toml?)"
            ),
        ));
    }

    // Snapshot: what the published snapshot lists (a client that holds it refuses a snapshot
    // that drops a role), with every role's current version.
    let mut versions = BTreeMap::new();
    let mut meta: Map<String, Value> = Map::new();
    let previous_snapshot = previous
        .get("snapshot")
        .map(|b| parse_envelope(Path::new("metadata/snapshot.json"), "snapshot", b))
        .transpose()?;
    if let Some(envelope) = &previous_snapshot
        && let Some(old) = envelope.signed.get("meta").and_then(Value::as_object)
    {
        meta.extend(old.clone());
    }
    for role in &roles {
        let Some(bytes) = metadata.get(role) else { continue };
        let version = Envelope::parse(role, bytes, &Limits::default())
            .ok()
            .and_then(|e| e.version())
            .unwrap_or(0);
        versions.insert(role.clone(), version);
        meta.insert(format!("{role}.json"), json!({"version": version}));
    }
    let policy = &repo.policy;
    let snapshot_version = previous_snapshot.as_ref().and_then(Envelope::version).unwrap_or(0) + 1;
    let snapshot = json!({
        "_type": "snapshot",
        "spec_version": SPEC_VERSION,
        "version": snapshot_version,
        "expires": expires(now, policy.periods("snapshot").expiry_days),
        "meta": meta,
    });
    let previous_timestamp = previous
        .get("timestamp")
        .map(|b| parse_envelope(Path::new("metadata/timestamp.json"), "timestamp", b))
        .transpose()?;
    let timestamp_version = previous_timestamp.as_ref().and_then(Envelope::version).unwrap_or(0) + 1;
    let timestamp = json!({
        "_type": "timestamp",
        "spec_version": SPEC_VERSION,
        "version": timestamp_version,
        "expires": expires(now, policy.periods("timestamp").expiry_days),
        "meta": {"snapshot.json": {"version": snapshot_version}},
    });
    for (role, value, version) in [
        ("snapshot", snapshot, snapshot_version),
        ("timestamp", timestamp, timestamp_version),
    ] {
        let keyids = online_keyids(&root, role, online);
        if keyids.is_empty() {
            findings.push(Finding::error(
                Check::Signatures,
                role,
                &format!("metadata/{role}.json"),
                format!(
                    "the online key ({}, key {}) is not a {role} key of root v{}: point [online] signer at the key root lists, or rotate the online key in a root round",
                    online.describe(),
                    keys::short_id(&online.public_key().computed_key_id()),
                    root.common.version
                ),
            ));
        }
        metadata.insert(role.to_string(), sign_envelope(role, &value, &keyids, online)?);
        versions.insert(role.to_string(), version);
        new_roles.push(role.to_string());
    }
    versions.insert("root".to_string(), root.common.version);

    // Targets: each listed file, with where its bytes are.
    let tree = published_tree(repo)?;
    let mut targets = BTreeMap::new();
    for role in &roles {
        let Some(bytes) = metadata.get(role) else { continue };
        let Ok(envelope) = Envelope::parse(role, bytes, &Limits::default()) else {
            continue;
        };
        let parsed: Targets = match serde_json::from_value(envelope.signed) {
            Ok(t) => t,
            Err(e) => {
                findings.push(Finding::error(
                    Check::Lint,
                    role,
                    &format!("metadata/{}", round::role_file(role)),
                    format!("not valid targets metadata: {e}"),
                ));
                continue;
            }
        };
        let file = format!("{role} v{}", parsed.common.version);
        for (path, entry) in &parsed.targets {
            if let Err(e) = trustroot_core::target_path::validate(path) {
                findings.push(Finding::error(Check::Lint, role, path, e.to_string()));
                continue;
            }
            let Some(sha256) = entry.hashes.get("sha256").cloned() else {
                findings.push(Finding::error(
                    Check::Lint,
                    role,
                    path,
                    format!("{file} lists {path} without a sha256 hash; the published name needs one"),
                ));
                continue;
            };
            // The digest becomes part of a file name: only 64 lowercase hex digits may.
            if sha256.len() != 64 || !sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                findings.push(Finding::error(
                    Check::Lint,
                    role,
                    path,
                    format!("{file} lists {path} with a sha256 that is not 64 lowercase hex digits"),
                ));
                continue;
            }
            let published_name = format!(
                "targets/{}",
                trustroot_core::target_path::consistent_name(path, &sha256)
            );
            let mut source = None;
            if let Some(tree) = &tree {
                let candidate = tree.join(&published_name);
                if candidate.is_file() {
                    source = Some(candidate);
                }
            }
            if source.is_none() {
                let local = repo.root.join("targets").join(path);
                match keys::read_limited(&local, entry.length.saturating_add(1)) {
                    Ok(bytes) => {
                        let digest = trustroot_core::hashes::sha256_hex(&bytes);
                        if digest != sha256 || bytes.len() as u64 != entry.length {
                            findings.push(Finding::error(
                                Check::Lint,
                                role,
                                &format!("targets/{path}"),
                                format!(
                                    "targets/{path} is not the file {file} lists (sha256 {}, {} bytes; it lists sha256 {}, {} bytes): restore it, or start a new round to publish the new file",
                                    keys::short_id(&digest),
                                    bytes.len(),
                                    keys::short_id(&sha256),
                                    entry.length
                                ),
                            ));
                        } else {
                            source = Some(local);
                        }
                    }
                    Err(_) => findings.push(Finding::error(
                        Check::Lint,
                        role,
                        &format!("targets/{path}"),
                        format!("{file} lists {path}, but targets/{path} is missing (or larger than listed) and the published tree does not have it"),
                    )),
                }
            }
            targets.insert(
                path.clone(),
                CandidateTarget {
                    role: role.clone(),
                    length: entry.length,
                    sha256,
                    source,
                },
            );
        }
    }

    Ok((
        Candidate {
            round: round.id.clone(),
            metadata,
            versions,
            new_roles,
            root_history,
            previous,
            targets,
            left_out,
        },
        findings,
    ))
}
