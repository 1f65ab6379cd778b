//! The signing repository at a glance, for `ceremony status --html` and `--json`: every
//! published role with its expiry against the policy's signing period, its keys and
//! threshold; every key with its holder, type and YubiKey attestation; and the history of
//! the rounds. Each part that cannot be read carries its problem instead of failing the
//! whole, so that a page can still say what is wrong where it is wrong.

use chrono::{DateTime, Utc};
use serde::Serialize;
use trustroot_core::expiry;

use crate::attestation::Attestation;
use crate::keys::{self, KeyRef};
use crate::online;
use crate::policy::{self, ResolvedKeys};
use crate::repo::Repo;
use crate::round::{self, RoundHistory};

/// The whole status, apart from the open round's thresholds (`round::status`).
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// The time the status is computed at.
    pub at: String,
    /// The published roles (from `metadata/`).
    pub roles: Vec<RoleOverview>,
    /// Why `roles` could not be read, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles_problem: Option<String>,
    /// The policy's keys, by name.
    pub keys: Vec<KeyOverview>,
    /// Why the key files could not be read, if so (the names and holders are still listed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys_problem: Option<String>,
    /// The keys that sign online (`[online]`, and every `[keys.X] online`): usable or not.
    pub online_keys: Vec<OnlineKeyOverview>,
    /// Every round, oldest first.
    pub rounds: Vec<RoundHistory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rounds_problem: Option<String>,
}

/// Where a role stands against its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpiryState {
    /// Outside its signing period.
    Ok,
    /// Inside its signing period: a new version is due.
    SigningPeriod,
    /// Expired: clients refuse it.
    Expired,
}

/// One published role.
#[derive(Debug, Clone, Serialize)]
pub struct RoleOverview {
    pub role: String,
    pub version: u64,
    #[serde(serialize_with = "trustroot_core::time::serialize")]
    pub expires: DateTime<Utc>,
    /// Whole days from `at` to `expires` (negative once expired).
    pub days_left: i64,
    /// The policy's signing period, in days before expiry.
    pub signing_days: u32,
    #[serde(serialize_with = "trustroot_core::time::serialize")]
    pub signing_period_starts: DateTime<Utc>,
    pub state: ExpiryState,
    /// The policy's key names for it (`online` for snapshot and timestamp): who signs its
    /// next version, which may differ from who signed this one while a round is open.
    pub keys: Vec<String>,
    /// The policy's threshold for its next version (1 for the online roles).
    pub threshold: u64,
}

/// One key of the policy.
#[derive(Debug, Clone, Serialize)]
pub struct KeyOverview {
    pub name: String,
    pub holder: Option<String>,
    pub keyid: Option<String>,
    pub keytype: Option<String>,
    pub scheme: Option<String>,
    /// For a keyless key, the identity and issuer it names (it has no key material).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyless: Option<trustroot_core::keys::KeylessIdentity>,
    /// The roles whose signers the policy makes it.
    pub roles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation: Option<Attestation>,
    /// Why the attestation's evidence does not verify at `at` (it then proves nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation_problem: Option<String>,
}

/// A key that signs online: the `[online]` signer, or a key `[keys.NAME] online` marks (an
/// imported repository's online-signed delegation). Its reference is shown as written;
/// one trustroot cannot sign with (an imported `gcpkms:` or `azurekms://` key) is marked
/// unusable, with what to do.
#[derive(Debug, Clone, Serialize)]
pub struct OnlineKeyOverview {
    /// `online` for `[online]`, else the key's name.
    pub name: String,
    /// Where the reference is configured: `online.signer` or `keys.NAME.online`.
    pub field: String,
    /// The reference as written.
    pub reference: String,
    /// Its kind (`file`, `env`, `pkcs11`, `awskms`, `gcpkms`, `azurekms`...), when it parses.
    pub kind: Option<String>,
    /// The roles it signs.
    pub roles: Vec<String>,
    /// Whether trustroot can sign with this kind of reference.
    pub usable: bool,
    /// Why not, and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl OnlineKeyOverview {
    /// One line for a terminal: `online (online.signer, signs snapshot, timestamp): REF: usable`.
    pub fn line(&self) -> String {
        let reference = trustroot_core::display::escape(&self.reference);
        let state = match &self.reason {
            None => "usable".to_string(),
            Some(reason) => format!("NOT usable: {reason}"),
        };
        format!(
            "online key {} ({}, signs {}): {reference}: {state}",
            trustroot_core::display::escape(&self.name),
            self.field,
            if self.roles.is_empty() {
                "no role".to_string()
            } else {
                self.roles.join(", ")
            }
        )
    }
}

/// Every key of `policy` that signs online, the `[online]` signer first.
pub fn online_keys(policy: &policy::Policy) -> Vec<OnlineKeyOverview> {
    let describe = |name: &str, field: String, reference: &str, roles: Vec<String>, configure: &str| {
        let (kind, reason) = match KeyRef::parse(reference) {
            Ok(key @ KeyRef::Unsupported { scheme, .. }) => (
                Some(key.kind().to_string()),
                Some(format!(
                    "trustroot cannot sign with {scheme} keys: {}",
                    keys::online_advice(configure, scheme)
                )),
            ),
            Ok(key) => (Some(key.kind().to_string()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        OnlineKeyOverview {
            name: name.to_string(),
            field,
            reference: reference.to_string(),
            kind,
            roles,
            usable: reason.is_none(),
            reason,
        }
    };
    let mut keys = vec![describe(
        "online",
        "online.signer".to_string(),
        &policy.online.signer,
        vec!["snapshot".to_string(), "timestamp".to_string()],
        "[online] signer",
    )];
    for (name, entry) in &policy.keys {
        let Some(reference) = &entry.online else { continue };
        let roles = ["root", "targets"]
            .into_iter()
            .map(str::to_string)
            .chain(policy.delegations.keys().cloned())
            .filter(|role| policy.signers(role).is_some_and(|(names, _)| names.contains(name)))
            .collect();
        keys.push(describe(
            name,
            format!("keys.{name}.online"),
            reference,
            roles,
            &format!("[keys.{name}] online"),
        ));
    }
    keys
}

/// The overview of `repo` at `now`.
pub fn overview(repo: &Repo, now: DateTime<Utc>) -> Overview {
    let (resolved, keys_problem) = match repo.keys() {
        Ok(k) => (Some(k), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let (roles, roles_problem) = match online::published(repo) {
        Ok(published) => (published.iter().map(|r| role_overview(repo, r, now)).collect(), None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let name_of = |keyid: &str| resolved.as_ref().and_then(|k| k.name_of(keyid)).map(str::to_string);
    let (rounds, rounds_problem) = match round::history(repo, &name_of) {
        Ok(rounds) => (rounds, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Overview {
        at: trustroot_core::time::format(&now),
        roles,
        roles_problem,
        keys: key_overviews(repo, resolved.as_ref(), now),
        keys_problem,
        online_keys: online_keys(&repo.policy),
        rounds,
        rounds_problem,
    }
}

fn role_overview(repo: &Repo, published: &online::RoleExpiry, now: DateTime<Utc>) -> RoleOverview {
    let signing_days = repo.policy.periods(&published.role).signing_days;
    let signing_period_starts = published.expires - chrono::Duration::days(i64::from(signing_days));
    // Core's expiry states, with the signing period as the window.
    let state = match expiry::State::of(published.expires, now, chrono::Duration::days(i64::from(signing_days))) {
        expiry::State::Expired => ExpiryState::Expired,
        expiry::State::Within => ExpiryState::SigningPeriod,
        expiry::State::Valid => ExpiryState::Ok,
    };
    let (keys, threshold) = match repo.policy.signers(&published.role) {
        Some((names, threshold)) => (names.to_vec(), threshold),
        None => (vec!["online".to_string()], 1),
    };
    RoleOverview {
        role: published.role.clone(),
        version: published.version,
        expires: published.expires,
        days_left: (published.expires - now).num_days(),
        signing_days,
        signing_period_starts,
        state,
        keys,
        threshold,
    }
}

fn key_overviews(repo: &Repo, resolved: Option<&ResolvedKeys>, now: DateTime<Utc>) -> Vec<KeyOverview> {
    let policy = &repo.policy;
    policy
        .keys
        .iter()
        .map(|(name, entry)| {
            let key = resolved.and_then(|r| r.by_name.get(name));
            let mut roles: Vec<String> = ["root", "targets"]
                .into_iter()
                .map(str::to_string)
                .chain(policy.delegations.keys().cloned())
                .filter(|role| policy.signers(role).is_some_and(|(names, _)| names.contains(name)))
                .collect();
            roles.dedup();
            let attestation_problem = match (&entry.attestation, key) {
                (Some(record), Some(key)) => policy::check_evidence(&repo.root, name, record, key, now)
                    .err()
                    .map(|e| e.to_string()),
                _ => None,
            };
            KeyOverview {
                name: name.clone(),
                holder: entry.holder.clone(),
                keyid: key.map(|k| k.computed_key_id().into_string()),
                keytype: key.map(|k| k.keytype.clone()),
                scheme: key.map(|k| k.scheme.clone()),
                keyless: key.and_then(|k| k.keyless()),
                roles,
                attestation: entry.attestation.clone(),
                attestation_problem,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Sigstore's online keys as an import keeps them: the `[online]` Google Cloud KMS key
    /// and the npm delegation's Azure key, neither usable; an AWS KMS key is.
    #[test]
    fn every_online_key_is_listed_with_whether_trustroot_can_sign_with_it_and_why_not() {
        let policy = policy::Policy::parse(
            r#"
[keys.npm-online]
public = "keys/npm-online.pub"
online = "azurekms://npm-tuf-delegate.vault.azure.net/keys/npm-tuf-delegate-2024-08/e2772c1d01ca400da571096889f1660e"
[keys.aws-online]
public = "keys/aws-online.pub"
online = "awskms:751429f1-0000-0000-0000-000000000000"
[roles.root]
threshold = 1
[roles.targets]
threshold = 1
[delegations.npm]
keys = ["npm-online"]
threshold = 1
paths = ["npm/*"]
[online]
signer = "gcpkms:projects/sigstore-root-signing/locations/global/keyRings/root/cryptoKeys/timestamp/cryptoKeyVersions/1"
public = "keys/online.pub"
[publish]
destination = "public"
"#,
        )
        .unwrap();
        let keys = online_keys(&policy);
        let summary: Vec<(&str, &str, bool, Vec<String>)> = keys
            .iter()
            .map(|k| (k.name.as_str(), k.kind.as_deref().unwrap(), k.usable, k.roles.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "online",
                    "gcpkms",
                    false,
                    vec!["snapshot".to_string(), "timestamp".to_string()]
                ),
                ("aws-online", "awskms", true, vec![]),
                ("npm-online", "azurekms", false, vec!["npm".to_string()]),
            ]
        );
        assert!(keys[0].reason.as_ref().unwrap().contains("configure [online] signer"));
        assert!(
            keys[2]
                .reason
                .as_ref()
                .unwrap()
                .contains("configure [keys.npm-online] online")
        );
        assert!(keys[2].line().contains("signs npm"), "{}", keys[2].line());
        assert!(keys[1].reason.is_none());
    }
}
