//! Where a policy registers a key: under which names, for which roles, and with which
//! YubiKey attestation, so that `key show` run in a repository can say whether the key in
//! a keyholder's hand is the one the policy trusts.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;
use trustroot_core::Key;

use super::{Policy, check_evidence};
use crate::attestation::Attestation;
use crate::keys;

/// One name under which the policy registers a key.
#[derive(Debug, Clone, Serialize)]
pub struct Registration {
    /// The key's name in `[keys]`, or `online` for `[online] public`.
    pub name: String,
    /// The roles whose keys list it (`online` signs snapshot and timestamp).
    pub roles: Vec<String>,
    /// The attestation the policy records for it.
    pub attestation: Option<Attestation>,
    /// The kept evidence checked again: `verified`, `not kept` (a record without
    /// certificates), or why it no longer verifies.
    pub evidence: Option<String>,
}

/// Every registration of `key` (compared by key material, so a holder's name in the
/// metadata does not matter) in the policy of the repository at `repo`, its attestation
/// evidence checked again at `now`. A registered public key file that cannot be read is
/// passed over: it cannot be this key, and the commands that use the policy report it.
pub fn registrations(policy: &Policy, repo: &Path, key: &Key, now: DateTime<Utc>) -> Vec<Registration> {
    let mut found = Vec::new();
    for (name, entry) in &policy.keys {
        let Some(registered) = read_public(repo, &entry.public) else {
            continue;
        };
        if !same_material(&registered, key) {
            continue;
        }
        let roles: Vec<String> = ["root", "targets"]
            .into_iter()
            .map(str::to_string)
            .chain(policy.delegations.keys().cloned())
            .filter(|role| policy.signers(role).is_some_and(|(keys, _)| keys.contains(name)))
            .collect();
        let attestation = entry.attestation.clone();
        let evidence = attestation.as_ref().map(|record| {
            if record.key_cert.is_none() {
                return "not kept".to_string();
            }
            match check_evidence(repo, name, record, &registered, now) {
                Ok(()) => "verified".to_string(),
                Err(e) => e.to_string(),
            }
        });
        found.push(Registration {
            name: name.clone(),
            roles,
            attestation,
            evidence,
        });
    }
    if read_public(repo, &policy.online.public).is_some_and(|online| same_material(&online, key)) {
        found.push(Registration {
            name: "online".to_string(),
            roles: vec!["snapshot".to_string(), "timestamp".to_string()],
            attestation: None,
            evidence: None,
        });
    }
    found
}

/// A registered public key file, if it can be read.
fn read_public(repo: &Path, public: &str) -> Option<Key> {
    let bytes = keys::read_limited(&repo.join(public), 64 * 1024).ok()?;
    keys::parse_public_key(public, &bytes).ok()
}

/// The same public key, whatever custom fields (a holder's name) the entries carry.
fn same_material(a: &Key, b: &Key) -> bool {
    match (a.fingerprint(), b.fingerprint()) {
        (Some(x), Some(y)) => x == y,
        _ => a.keytype == b.keytype && a.keyval.public == b.keyval.public,
    }
}
