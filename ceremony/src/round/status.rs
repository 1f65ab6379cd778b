//! Threshold status of a round: which signature files count, for which threshold, and
//! why the others do not.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use trustroot_core::Key;
use trustroot_core::verify::{KeyStatus, check_signatures_over};

use super::{DetachedSignature, MAX_SIGNATURE_FILE, Requirement, Round, RoundRole, role_file, signature_file_name};
use crate::error::{Error, IoOp, Result, RoundError, SignatureProblem};
use crate::keys;
use crate::policy::ResolvedKeys;
use crate::repo::Repo;

/// Threshold status of a round.
#[derive(Debug, Clone, Serialize)]
pub struct RoundStatus {
    pub round: String,
    pub complete: bool,
    /// When the round was published (its transcript logs it), or `null`.
    pub published_at: Option<String>,
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
    /// The fingerprint of the key material (`Key::fingerprint`), what `key show` prints.
    pub fingerprint: Option<String>,
    /// For a keyless key, the identity and issuer it names (it has no key material).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyless: Option<trustroot_core::keys::KeylessIdentity>,
    pub name: Option<String>,
    pub holder: Option<String>,
    /// The YubiKey attestation the policy records for the key, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation: Option<crate::attestation::Attestation>,
    /// Why that attestation's evidence does not verify now (it then proves nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation_problem: Option<String>,
}

/// A signature file that does not count.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    pub file: String,
    pub keyid: Option<String>,
    pub reason: String,
}

/// Computes the status of `round` from its signature files. Only signatures that verify
/// over the staged bytes, from keys that sign the role, count; keys count once. Recorded
/// YubiKey attestations are checked again from their evidence at `now`.
pub fn status(repo: &Repo, round: &Round, now: DateTime<Utc>) -> Result<RoundStatus> {
    status_at(repo, round, Some(now))
}

/// [`status`], with attestations checked again only when a time is given (what counts
/// toward a threshold does not depend on it).
fn status_at(repo: &Repo, round: &Round, now: Option<DateTime<Utc>>) -> Result<RoundStatus> {
    let policy_keys = repo.keys().ok();
    let (mut by_role, mut rejected) = read_signature_files(round)?;
    let describe = |keyid: &str, key: &Key| keyholder(repo, policy_keys.as_ref(), keyid, key, now);
    let mut roles = Vec::new();
    for role in &round.roles {
        // A role no signature file names has none yet.
        let sigs = by_role.remove(&role.meta.role).unwrap_or_default();
        let role_rejected = rejected.remove(&role.meta.role).unwrap_or_default();
        roles.push(role_status(role, &sigs, role_rejected, &describe)?);
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
        published_at: round.published_at()?,
        roles,
    })
}

/// Signature files that count, by role, as opposed to those that do not.
type Sorted = (
    BTreeMap<String, Vec<DetachedSignature>>,
    BTreeMap<String, Vec<Rejected>>,
);

/// Reads every signature file of `round` and sorts them by role into those that count
/// and those that do not (a file that cannot be read or parsed is filed under role `?`).
fn read_signature_files(round: &Round) -> Result<Sorted> {
    let sig_dir = round.dir.join("signatures");
    let mut by_role: BTreeMap<String, Vec<DetachedSignature>> = BTreeMap::new();
    let mut rejected: BTreeMap<String, Vec<Rejected>> = BTreeMap::new();
    let mut files: Vec<PathBuf> = match fs::read_dir(&sig_dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(&sig_dir, IoOp::Access, e)),
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
                    Err((Some(sig.keyid.clone()), SignatureProblem::NameMismatch.to_string()))
                } else {
                    match sig.check(round) {
                        Ok(_) => Ok(sig),
                        Err(problem) => Err((Some(sig.keyid.clone()), problem.to_string())),
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
    Ok((by_role, rejected))
}

/// A signer named as the policy names its key, with the holder the policy gives (or,
/// failing that, the label the metadata carries).
fn keyholder(
    repo: &Repo,
    policy_keys: Option<&ResolvedKeys>,
    keyid: &str,
    key: &Key,
    now: Option<DateTime<Utc>>,
) -> Keyholder {
    let named = policy_keys.and_then(|pk| {
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
    let attestation = named
        .as_ref()
        .and_then(|n| repo.policy.keys.get(n))
        .and_then(|e| e.attestation.clone());
    let attestation_problem = match (&named, &attestation, now) {
        (Some(name), Some(record), Some(now)) => crate::policy::check_evidence(&repo.root, name, record, key, now)
            .err()
            .map(|e| e.to_string()),
        _ => None,
    };
    Keyholder {
        keyid: keyid.to_string(),
        fingerprint: key.fingerprint(),
        keyless: key.keyless(),
        name: named,
        holder,
        attestation,
        attestation_problem,
    }
}

/// The status of one staged role from the signatures that count for it.
fn role_status(
    role: &RoundRole,
    sigs: &[DetachedSignature],
    mut role_rejected: Vec<Rejected>,
    describe: &dyn Fn(&str, &Key) -> Keyholder,
) -> Result<RoleStatus> {
    // Checked over the canonical bytes the round already holds: the staged role is never
    // written out and parsed back as a value.
    let signatures: Vec<trustroot_core::envelope::Signature> = sigs
        .iter()
        .map(|s| trustroot_core::envelope::Signature {
            keyid: s.keyid.clone(),
            sig: s.sig.clone(),
            // Signatures made with trustroot carry no Sigstore bundle (no keyless signing yet).
            bundle: None,
        })
        .collect();
    let mut thresholds = Vec::new();
    for req in &role.requirements {
        thresholds.push(threshold_status(role, req, &signatures, &mut role_rejected, describe));
    }
    let complete = thresholds.iter().all(|t| t.met) && !role.changed_since_start();
    Ok(RoleStatus {
        role: role.meta.role.clone(),
        version: role.meta.version,
        expires: role.meta.expires.clone(),
        signed_sha256: role.digest.clone(),
        changed_since_start: role.changed_since_start(),
        complete,
        thresholds,
        rejected: role_rejected,
    })
}

/// One threshold of a role: who signed, who did not; a second key ID for a key that
/// already signed is added to `role_rejected`, since a key counts once.
fn threshold_status(
    role: &RoundRole,
    req: &Requirement,
    signatures: &[trustroot_core::envelope::Signature],
    role_rejected: &mut Vec<Rejected>,
    describe: &dyn Fn(&str, &Key) -> Keyholder,
) -> ThresholdStatus {
    let (key_map, ids) = req.key_map();
    // Keyless keyholders cannot sign with trustroot yet: their keys show as not signed.
    let report = check_signatures_over(&role.bytes, signatures, &key_map, &ids, req.threshold, None);
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
    ThresholdStatus {
        of: req.of.clone(),
        valid: report.valid,
        required: req.threshold,
        met: report.is_met(),
        signed,
        not_signed,
    }
}

/// Installs a fully signed round as the published metadata in `metadata/` (with
/// `root_history/N.root.json`). Not a publish: no snapshot or timestamp is made. For
/// tests and for the publish step of the next issue to build on.
#[doc(hidden)]
pub fn install_signed_round(repo: &Repo, round: &Round) -> Result<()> {
    let state = status_at(repo, round, None)?;
    if !state.complete {
        return Err(RoundError::NotFullySigned {
            round: round.id.clone(),
        }
        .into());
    }
    // `status` reports the round's roles in the round's order, one each.
    for (role, role_status) in round.roles.iter().zip(&state.roles) {
        let mut entries = Vec::new();
        let sig_dir = round.dir.join("signatures");
        let signed_ids: Vec<&String> = role_status
            .thresholds
            .iter()
            .flat_map(|t| t.signed.iter().map(|k| &k.keyid))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for keyid in signed_ids {
            if !seen.insert(keyid.clone()) {
                continue;
            }
            let path = sig_dir.join(signature_file_name(&role.meta.role, keyid));
            let sig = DetachedSignature::parse(&path, &keys::read_limited(&path, MAX_SIGNATURE_FILE)?)?;
            entries.push(json!({"keyid": sig.keyid, "sig": sig.sig}));
        }
        let bytes = role.signed.metadata_json(&role.meta.role, &entries)?;
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
