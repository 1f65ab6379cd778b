//! Builds the [`Candidate`] of a round: the round's newly signed roles, the online-signed
//! snapshot and timestamp, the published roles it keeps, the root history and every target.
//!
//! Building it writes nothing. What cannot be built (a threshold not met, a staged file
//! edited after signing, a target file that no longer matches its hash) becomes a
//! [`Finding`] of the gate, so `ceremony verify` can report everything at once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use trustroot_core::Envelope;
use trustroot_core::metadata::{Root, TargetFile, Targets};

use crate::candidate::{Candidate, CandidateTarget};
use crate::error::{Result, RoundError};
use crate::finding::{Check, Finding};
use crate::keys::{self, Signer};
use crate::published::{parse_envelope, published_tree, reachable_roles, read_published};
use crate::repo::Repo;
use crate::round::{self, DetachedSignature, RoleStatus, Round, RoundRole, ThresholdStatus};
use crate::sign::{expires, online_keyids, sign_envelope};
use crate::stage::carried_top_level;

/// Builds the candidate of `round`, signing snapshot and timestamp with `online` at `now`.
/// Problems that a publish must refuse become findings; only I/O and unreadable published
/// metadata are errors.
pub fn build(repo: &Repo, round: &Round, online: &dyn Signer, now: DateTime<Utc>) -> Result<(Candidate, Vec<Finding>)> {
    let mut findings = Vec::new();
    let (previous, mut root_history) = read_published(repo)?;
    let state = round::status(repo, round, now)?;
    let mut metadata = previous.clone();
    let mut new_roles = Vec::new();
    let mut left_out = Vec::new();

    for role in &round.roles {
        let name = &role.meta.role;
        let Some(role_state) = state.roles.iter().find(|r| &r.role == name) else {
            continue;
        };
        findings.extend(signature_findings(round, role, role_state, &previous));
        for r in &role_state.rejected {
            left_out.push(format!("{}: {} (left out)", r.file, r.reason));
        }
        let bytes = signed_envelope(round, role, role_state)?;
        if name == "root" {
            root_history.insert(role.meta.version, bytes.clone());
        }
        metadata.insert(name.clone(), bytes);
        new_roles.push(name.clone());
    }

    let root = root_in_force(&metadata)?;
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

    let (online_roles, mut versions) = online_roles(repo, &previous, &metadata, &roles, now)?;
    for (role, value, version) in online_roles {
        let keyids = online_keyids(&root, role, online);
        if keyids.is_empty() {
            findings.push(online_key_not_listed(&root, role, online));
        }
        metadata.insert(role.to_string(), sign_envelope(role, &value, &keyids, online)?);
        versions.insert(role.to_string(), version);
        new_roles.push(role.to_string());
    }
    versions.insert("root".to_string(), root.common.version);

    let targets = collect_targets(repo, &roles, &metadata, &mut findings)?;

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

/// Why the signatures collected for one staged role do not let it be published: the round
/// no longer follows what is published, the staged file was edited, a threshold is not met.
fn signature_findings(
    round: &Round,
    role: &RoundRole,
    role_state: &RoleStatus,
    previous: &BTreeMap<String, Vec<u8>>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = &role.meta.role;
    let file = format!("ceremonies/{}/staged/{}", round.id, round::role_file(name));
    // The round must follow what is published now.
    let published_version = previous
        .get(name)
        .and_then(|b| crate::published::targets_outline(b))
        .and_then(|(version, _)| version);
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
    for t in role_state.thresholds.iter().filter(|t| !t.met) {
        findings.push(threshold_not_met(role, t, &file));
    }
    findings
}

/// A threshold of `role` that is not met, naming who has not signed yet.
fn threshold_not_met(role: &RoundRole, t: &ThresholdStatus, file: &str) -> Finding {
    let name = &role.meta.role;
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
    Finding::error(
        Check::Signatures,
        name,
        file,
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
    )
}

/// The staged role with its valid signatures, each key once, in key ID order.
fn signed_envelope(round: &Round, role: &RoundRole, role_state: &RoleStatus) -> Result<Vec<u8>> {
    role.signed
        .metadata_json(&role.meta.role, &collected_signatures(round, role, role_state)?)
}

/// The signatures that count for a staged role, as metadata `signatures` entries, by key ID.
pub(crate) fn collected_signatures(round: &Round, role: &RoundRole, role_state: &RoleStatus) -> Result<Vec<Value>> {
    let name = &role.meta.role;
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
    Ok(entries)
}

/// The root in force after this publish.
fn root_in_force(metadata: &BTreeMap<String, Vec<u8>>) -> Result<Root> {
    let root_bytes = metadata.get("root").cloned().ok_or(RoundError::NoRoot)?;
    let root_envelope = parse_envelope(Path::new("root.json"), "root", &root_bytes)?;
    serde_json::from_value(root_envelope.signed.clone()).map_err(|e| {
        RoundError::InvalidRoot {
            what: "root",
            reason: e.to_string(),
        }
        .into()
    })
}

/// An online role to sign: its name, its `signed` value and its version.
type OnlineRole = (&'static str, Value, u64);

/// The next snapshot and timestamp, unsigned, and the version of every targets role the
/// snapshot lists.
fn online_roles(
    repo: &Repo,
    previous: &BTreeMap<String, Vec<u8>>,
    metadata: &BTreeMap<String, Vec<u8>>,
    roles: &[String],
    now: DateTime<Utc>,
) -> Result<([OnlineRole; 2], BTreeMap<String, u64>)> {
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
    for role in roles {
        let Some(bytes) = metadata.get(role) else { continue };
        // Read without the role's entries (100,000 of them are never parsed into values here).
        let version = crate::published::targets_outline(bytes)
            .and_then(|(version, _)| version)
            .unwrap_or(0);
        versions.insert(role.clone(), version);
        meta.insert(format!("{role}.json"), json!({"version": version}));
    }
    let policy = &repo.policy;
    let snapshot_version = previous_snapshot.as_ref().and_then(Envelope::version).unwrap_or(0) + 1;
    // Every other field of the published versions is carried, and their spec_version kept.
    let mut snapshot = carried_top_level(previous_snapshot.as_ref().map(|e| &e.signed), "snapshot");
    snapshot.insert("version".into(), json!(snapshot_version));
    snapshot.insert(
        "expires".into(),
        json!(expires(now, policy.periods("snapshot").expiry_days)),
    );
    snapshot.insert("meta".into(), Value::Object(meta));
    let snapshot = Value::Object(snapshot);
    let previous_timestamp = previous
        .get("timestamp")
        .map(|b| parse_envelope(Path::new("metadata/timestamp.json"), "timestamp", b))
        .transpose()?;
    let timestamp_version = previous_timestamp.as_ref().and_then(Envelope::version).unwrap_or(0) + 1;
    let mut timestamp = carried_top_level(previous_timestamp.as_ref().map(|e| &e.signed), "timestamp");
    timestamp.insert("version".into(), json!(timestamp_version));
    timestamp.insert(
        "expires".into(),
        json!(expires(now, policy.periods("timestamp").expiry_days)),
    );
    timestamp.insert("meta".into(), json!({"snapshot.json": {"version": snapshot_version}}));
    let timestamp = Value::Object(timestamp);
    Ok((
        [
            ("snapshot", snapshot, snapshot_version),
            ("timestamp", timestamp, timestamp_version),
        ],
        versions,
    ))
}

/// The online key cannot sign `role`: root does not list it for that role.
fn online_key_not_listed(root: &Root, role: &str, online: &dyn Signer) -> Finding {
    Finding::error(
        Check::Signatures,
        role,
        &format!("metadata/{role}.json"),
        format!(
            "the online key ({}, key {}) is not a {role} key of root v{}: point [online] signer at the key root lists, or rotate the online key in a root round",
            online.describe(),
            keys::short_id(&online.public_key().computed_key_id()),
            root.common.version
        ),
    )
}

/// Targets: each file the reachable targets roles list, with where its bytes are.
fn collect_targets(
    repo: &Repo,
    roles: &[String],
    metadata: &BTreeMap<String, Vec<u8>>,
    findings: &mut Vec<Finding>,
) -> Result<BTreeMap<String, CandidateTarget>> {
    let tree = published_tree(repo)?;
    let mut targets = BTreeMap::new();
    for role in roles {
        let Some(bytes) = metadata.get(role) else { continue };
        // Read straight from the bytes into the typed role: 100,000 entries are never held
        // as values. Bytes that are not JSON at all are the clients' checks to report.
        if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() {
            continue;
        }
        #[derive(serde::Deserialize)]
        struct SignedTargets {
            signed: Targets,
        }
        let parsed: Targets = match serde_json::from_slice::<SignedTargets>(bytes) {
            Ok(t) => t.signed,
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
            let listed = Listed {
                role,
                file: &file,
                path,
                entry,
            };
            let Some(sha256) = listed_sha256(&listed, findings) else {
                continue;
            };
            let source = target_source(repo, tree.as_deref(), &listed, &sha256, findings);
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
    Ok(targets)
}

/// One file a targets role lists: the role, the role and version as messages name them,
/// the target path and its entry.
struct Listed<'a> {
    role: &'a str,
    file: &'a str,
    path: &'a str,
    entry: &'a TargetFile,
}

/// The sha256 a target entry lists, when its path is valid and the digest can be part of
/// a file name; otherwise a finding.
fn listed_sha256(listed: &Listed, findings: &mut Vec<Finding>) -> Option<String> {
    let Listed {
        role,
        file,
        path,
        entry,
    } = *listed;
    if let Err(e) = trustroot_core::target_path::validate(path) {
        findings.push(Finding::error(Check::Lint, role, path, e.to_string()));
        return None;
    }
    let Some(sha256) = entry.hashes.get("sha256").cloned() else {
        findings.push(Finding::error(
            Check::Lint,
            role,
            path,
            format!("{file} lists {path} without a sha256 hash; the published name needs one"),
        ));
        return None;
    };
    // The digest becomes part of a file name: only 64 lowercase hex digits may.
    if sha256.len() != 64 || !sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        findings.push(Finding::error(
            Check::Lint,
            role,
            path,
            format!("{file} lists {path} with a sha256 that is not 64 lowercase hex digits"),
        ));
        return None;
    }
    Some(sha256)
}

/// Where a target's bytes are: the published tree, else `targets/` when the file there is
/// the one listed. `None` (with a finding) when neither has it.
fn target_source(
    repo: &Repo,
    tree: Option<&Path>,
    listed: &Listed,
    sha256: &str,
    findings: &mut Vec<Finding>,
) -> Option<PathBuf> {
    let Listed {
        role,
        file,
        path,
        entry,
    } = *listed;
    let published_name = format!("targets/{}", trustroot_core::target_path::consistent_name(path, sha256));
    if let Some(tree) = tree {
        let candidate = tree.join(&published_name);
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    let local = repo.root.join("targets").join(path);
    let problem = match std::fs::File::open(&local).and_then(trustroot_core::hashes::sha256_hex_reader) {
        Ok((length, digest)) if digest == sha256 && length == entry.length => return Some(local),
        // Hashed as a stream: a file that grew is reported with what it is now, like any edit.
        Ok((length, digest)) => format!(
            "targets/{path} changed since {file} was signed (sha256 was {}, is {}; {} bytes, was {}): restore it, or start a new round to publish the new file",
            keys::short_id(sha256),
            keys::short_id(&digest),
            length,
            entry.length
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            format!("{file} lists {path}, but targets/{path} is missing and the published tree does not have it")
        }
        Err(e) => format!("{file} lists {path}, but targets/{path} cannot be read: {e}"),
    };
    findings.push(Finding::error(Check::Lint, role, &format!("targets/{path}"), problem));
    None
}
