//! Checking a recorded YubiKey attestation again from the certificates kept beside it.
//!
//! `[keys.NAME.attestation]` is text anyone who can edit the policy can write; what makes
//! it worth something is the evidence it names (`key_cert`, `device_cert`), which is
//! verified again, at the time given, every time the keys are resolved for staging: the
//! chain to Yubico's roots, the attested key against the registered one, and every fact
//! of the record against what the key certificate says.

use std::path::Path;

use chrono::{DateTime, Utc};
use trustroot_core::Key;

use super::{Policy, ResolvedKeys};
use crate::attestation::{self, Attestation, Evidence, MAX_CERT_FILE};
use crate::error::{Error, PolicyProblem, Result};
use crate::keys;

/// Checks the evidence of every recorded attestation of the policy's keys at `now`. A
/// record without evidence passes here: whether a role may have one is
/// [`Policy::check_complete`]'s decision.
pub fn check_all_evidence(policy: &Policy, repo: &Path, keys: &ResolvedKeys, now: DateTime<Utc>) -> Result<()> {
    for (name, entry) in &policy.keys {
        let (Some(record), Some(key)) = (&entry.attestation, keys.by_name.get(name)) else {
            continue;
        };
        check_evidence(repo, name, record, key, now)?;
    }
    Ok(())
}

/// Checks the evidence of key `name`'s attestation `record` against `key` at `now`: the
/// files must be readable, verify as at registration, and attest exactly what the record
/// says. Errors name `keys.NAME.attestation`.
pub fn check_evidence(repo: &Path, name: &str, record: &Attestation, key: &Key, now: DateTime<Utc>) -> Result<()> {
    let (Some(key_rel), Some(device_rel)) = (&record.key_cert, &record.device_cert) else {
        return Ok(());
    };
    let field = format!("keys.{name}.attestation");
    let key_cert = read_evidence(repo, &field, key_rel)?;
    let device_cert = read_evidence(repo, &field, device_rel)?;
    let evidence = Evidence {
        key_cert_file: key_rel,
        key_cert: &key_cert,
        device_cert_file: device_rel,
        device_cert: &device_cert,
        now,
    };
    let attested = attestation::verify_evidence(&evidence, key)
        .map_err(|e| Error::policy(&field, PolicyProblem::EvidenceRefused(Box::new(e))))?;
    if let Some((fact, recorded, attested)) = record.first_difference(&attested) {
        return Err(Error::policy(
            field,
            PolicyProblem::EvidenceMismatch {
                fact,
                recorded,
                attested,
            },
        ));
    }
    Ok(())
}

/// One evidence file, size-limited like the files `key add` reads.
fn read_evidence(repo: &Path, field: &str, rel: &str) -> Result<Vec<u8>> {
    let limit = u64::try_from(MAX_CERT_FILE).unwrap_or(u64::MAX);
    keys::read_limited(&repo.join(rel), limit)
        .map_err(|e| Error::policy(field, PolicyProblem::EvidenceUnreadable(Box::new(e))))
}
