//! The policy, `trustroot.toml`: who signs what, with which thresholds, for how long.
//! It is the source of truth `ceremony start` stages metadata from. Every field is
//! documented in `docs/policy.md`; an invalid policy gets an error naming the field.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use trustroot_core::Key;

use crate::error::{Error, FileProblem, PolicyProblem, Result};
use crate::keys::{self, KeyRef};

/// Largest policy file read.
pub const MAX_POLICY_SIZE: u64 = 1024 * 1024;

/// The whole policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Named public keys.
    #[serde(default)]
    pub keys: BTreeMap<String, KeyEntry>,
    /// The four top-level roles.
    pub roles: Roles,
    /// Roles delegated by `targets`, by name.
    #[serde(default)]
    pub delegations: BTreeMap<String, Delegation>,
    /// The online key (signs snapshot and timestamp).
    pub online: Online,
    /// Where `publish` writes the repository.
    pub publish: Publish,
    /// What the verify-before-publish gate requires.
    #[serde(default)]
    pub gate: Gate,
    /// Which roles' keys must carry a verified YubiKey attestation.
    #[serde(default, skip_serializing_if = "AttestationPolicy::is_empty")]
    pub attestation: AttestationPolicy,
    /// Where the repository came from when it was imported (`trustroot init --import`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<Import>,
}

/// `[import]`: the repository was taken over from another tool (a tuf-on-ci checkout, a
/// published repository). Its root history up to `root_version` was published before
/// trustroot ran it: what the gate may accept about those old roots (`tough-root-history`)
/// it never accepts about a root trustroot staged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Import {
    /// What was imported, as given to `--import` (a directory or a URL).
    pub source: String,
    /// The newest root version imported: roots below it predate trustroot.
    pub root_version: u64,
    /// The time the import verified the repository at (RFC 3339).
    pub at: String,
    /// Only metadata was imported (the source had no target files).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub metadata_only: bool,
}

impl Import {
    fn check(&self) -> Result<()> {
        if self.source.trim().is_empty() {
            return Err(Error::policy("import.source", PolicyProblem::Empty));
        }
        if self.source.chars().any(char::is_control) {
            return Err(Error::policy(
                "import.source",
                PolicyProblem::ControlCharacters {
                    text: self.source.clone(),
                },
            ));
        }
        if self.root_version == 0 {
            return Err(Error::policy("import.root_version", PolicyProblem::VersionZero));
        }
        if trustroot_core::time::parse(&self.at).is_none() {
            return Err(Error::policy(
                "import.at",
                PolicyProblem::NotATime { text: self.at.clone() },
            ));
        }
        Ok(())
    }
}

/// `[attestation]`: the roles whose every key must have been registered with a YubiKey
/// attestation that verified (`key add --attestation`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationPolicy {
    /// Role names: `root`, `targets` or a delegated role.
    #[serde(default)]
    pub required_for: Vec<String>,
}

impl AttestationPolicy {
    fn is_empty(&self) -> bool {
        self.required_for.is_empty()
    }

    /// True when keys of `role` must be attested (a hashed bin follows its delegation).
    pub fn required(&self, role: &str) -> bool {
        self.required_for.iter().any(|r| r == role)
    }
}

/// The verify-before-publish gate's policy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// Each role must stay valid at least this many days after a publish, by role name
    /// (`root`, `targets`, `snapshot`, `timestamp`, or a delegated role; a delegated role
    /// without an entry uses `targets`'). Defaults: 30 for root and targets (and delegated
    /// roles), 5 for snapshot and timestamp, as Sigstore's repository tests require.
    #[serde(default)]
    pub min_valid_days: BTreeMap<String, u32>,
    /// Allow ECDSA P-384 keys (on a token, in a KMS or in a file). Off by default: tough,
    /// a gate client and a client in the field, refuses a whole root that lists one. When
    /// on, the gate skips tough for such a root and says so in a finding.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_p384: bool,
    /// Named gate findings the operator accepts: each is then a warning that says
    /// "accepted by [gate] accept" instead of an error (names in docs/policy.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<String>,
}

impl Gate {
    /// True when `[gate] accept` lists the finding `name` (or an older name of it).
    pub fn accepts(&self, name: &str) -> bool {
        self.accept
            .iter()
            .any(|listed| crate::finding::named::canonical(listed) == crate::finding::named::canonical(name))
    }
}

/// A named public key and who holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// Path of the public key (PEM or TUF key JSON), relative to the repository.
    pub public: String,
    /// Who holds the private key (a name, e-mail or `@handle`); written into root as
    /// `x-tuf-on-ci-keyowner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// The YubiKey attestation verified when the key was registered: serial, firmware,
    /// form factor, slot, PIN and touch policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<crate::attestation::Attestation>,
    /// The key signs online, not by a keyholder (e.g. a delegation signed by a KMS key):
    /// where its private key is, as a key reference kept as written (an imported
    /// `gcpkms:` or `azurekms://` reference loads but cannot sign until it is replaced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<String>,
}

/// The top-level roles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    pub root: OfflineRole,
    pub targets: OfflineRole,
    #[serde(default)]
    pub snapshot: OnlineRole,
    #[serde(default)]
    pub timestamp: OnlineRole,
}

/// A role signed by keyholders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfflineRole {
    /// Names of keys in `[keys]`.
    #[serde(default)]
    pub keys: Vec<String>,
    pub threshold: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_days: Option<u32>,
}

/// A role signed by the online key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnlineRole {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_days: Option<u32>,
}

/// A delegated targets role (delegated by `targets`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delegation {
    #[serde(default)]
    pub keys: Vec<String>,
    pub threshold: u64,
    /// Target path patterns this role is trusted for (`*` matches within one segment).
    pub paths: Vec<String>,
    #[serde(default = "default_true")]
    pub terminating: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_days: Option<u32>,
    /// Hashed bins: this role's targets are delegated to `bins` roles named
    /// `<name>-<hex index>` (TAP 15's naming), each trusted for the targets whose path's
    /// sha256 falls in its range, all signed by this role's keys and threshold. A power of
    /// two, 2 to 4096.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bins: Option<u32>,
}

fn default_true() -> bool {
    true
}

/// The online signer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Online {
    /// Where the private key is: `env:VAR` or a file path (never inside the repository).
    pub signer: String,
    /// Path of its public key, relative to the repository.
    pub public: String,
}

/// Where the published repository goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    pub destination: String,
    /// Object storage the published tree is pushed to after each publish and refresh
    /// (`s3://BUCKET/PREFIX`, `az://CONTAINER/PREFIX`, `gs://BUCKET/PREFIX`, `file:///DIR`);
    /// `--to` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Another address for the store (an S3-compatible store, an Azure account's blob URL,
    /// a GCS emulator); `--endpoint` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The address clients read the pushed prefix from, read back before timestamp.json
    /// goes up; `--public-url` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Uploads in flight at once (1 to 256, default 8); `--jobs` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<usize>,
    /// Where the push manifest is kept (`s3://BUCKET/KEY.trustroot-push.json`, never under
    /// the served prefix; required when `to` is a bucket's root); `--manifest` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// Cache-Control by kind of name (`timestamp`, `unversioned`, `versioned`, `targets`),
    /// over the defaults; each `--cache-control KIND=VALUE` overrides one.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub cache: std::collections::BTreeMap<String, String>,
}

/// Default expiry and signing periods (days), Sigstore's.
pub fn default_periods(role: &str) -> (u32, u32) {
    match role {
        "root" => (197, 46),
        "targets" => (3650, 31),
        "snapshot" => (3650, 365),
        "timestamp" => (7, 6),
        _ => (3650, 31),
    }
}

/// A role's expiry and signing periods, defaults applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Periods {
    pub expiry_days: u32,
    pub signing_days: u32,
}

fn periods(role: &str, expiry: Option<u32>, signing: Option<u32>) -> Periods {
    let (default_expiry, default_signing) = default_periods(role);
    match (expiry, signing) {
        (None, None) => Periods {
            expiry_days: default_expiry,
            signing_days: default_signing,
        },
        (Some(e), None) => Periods {
            expiry_days: e,
            signing_days: e / 2,
        },
        (e, Some(s)) => Periods {
            expiry_days: e.unwrap_or(default_expiry),
            signing_days: s,
        },
    }
}

/// Key and role names: letters, digits, `-`, `_`, `.`, not starting with `.`, at most 64.
pub fn check_name(field: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::policy(
            field,
            PolicyProblem::InvalidName { name: name.to_string() },
        ))
    }
}

impl Policy {
    /// Parses and checks a policy (without reading key files).
    pub fn parse(text: &str) -> Result<Policy> {
        let policy: Policy = toml::from_str(text).map_err(|e| {
            // toml's message names the key (and line) that is wrong.
            Error::policy(
                "parse",
                PolicyProblem::Syntax {
                    reason: e.to_string().trim().replace('\n', " "),
                },
            )
        })?;
        policy.check()?;
        Ok(policy)
    }

    /// Reads `trustroot.toml`.
    pub fn load(path: &Path) -> Result<Policy> {
        let bytes = keys::read_limited(path, MAX_POLICY_SIZE)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| Error::content(path, FileProblem::NotUtf8))?;
        Policy::parse(text)
    }

    /// Structural checks: names, thresholds, periods, key references.
    pub fn check(&self) -> Result<()> {
        for (name, entry) in &self.keys {
            check_name(&format!("keys.{name}"), name)?;
            check_relative(&format!("keys.{name}.public"), &entry.public)?;
            if let Some(record) = &entry.attestation {
                check_evidence_paths(name, record)?;
            }
        }
        self.check_offline("roles.root", &self.roles.root.keys, self.roles.root.threshold)?;
        self.check_offline("roles.targets", &self.roles.targets.keys, self.roles.targets.threshold)?;
        for (role, field) in [("root", &self.roles.root), ("targets", &self.roles.targets)] {
            check_periods(&format!("roles.{role}"), self.periods(role), field.expiry_days)?;
        }
        for role in ["snapshot", "timestamp"] {
            check_periods(&format!("roles.{role}"), self.periods(role), Some(1))?;
        }
        for (name, delegation) in &self.delegations {
            let field = format!("delegations.{name}");
            check_name(&field, name)?;
            if trustroot_core::metadata::TOP_LEVEL_ROLES.contains(&name.as_str()) {
                return Err(Error::policy(&field, PolicyProblem::TopLevelName));
            }
            self.check_offline(&field, &delegation.keys, delegation.threshold)?;
            if delegation.paths.is_empty() {
                return Err(Error::policy(format!("{field}.paths"), PolicyProblem::NoPaths));
            }
            for pattern in &delegation.paths {
                if pattern.is_empty() || pattern.starts_with('/') || pattern.chars().any(char::is_control) {
                    return Err(Error::policy(
                        format!("{field}.paths"),
                        PolicyProblem::BadPattern {
                            pattern: pattern.clone(),
                        },
                    ));
                }
            }
            check_periods(&field, self.periods(name), delegation.expiry_days)?;
            if let Some(bins) = delegation.bins {
                if !(2..=crate::bins::MAX_BINS).contains(&bins) || !bins.is_power_of_two() {
                    return Err(Error::policy(
                        format!("{field}.bins"),
                        PolicyProblem::BadBins {
                            bins: u64::from(bins),
                            max: u64::from(crate::bins::MAX_BINS),
                        },
                    ));
                }
                for bin in crate::bins::bin_names(name, bins) {
                    if self.delegations.contains_key(&bin) {
                        return Err(Error::policy(
                            format!("delegations.{bin}"),
                            PolicyProblem::BinName {
                                delegation: name.as_str().into(),
                            },
                        ));
                    }
                }
            }
        }
        for (role, days) in &self.gate.min_valid_days {
            let field = format!("gate.min_valid_days.{role}");
            let known = ["root", "targets", "snapshot", "timestamp"].contains(&role.as_str())
                || self.delegations.contains_key(role);
            if !known {
                return Err(Error::policy(&field, PolicyProblem::NoSuchRole));
            }
            let expiry = self.periods(role).expiry_days;
            if *days >= expiry {
                return Err(Error::policy(
                    &field,
                    PolicyProblem::MinValidDays {
                        days: u64::from(*days),
                        expiry: u64::from(expiry),
                    },
                ));
            }
        }
        for role in &self.attestation.required_for {
            let known = role == "root" || role == "targets" || self.delegations.contains_key(role);
            if !known {
                return Err(Error::policy(
                    "attestation.required_for",
                    PolicyProblem::NotAttestable { role: role.clone() },
                ));
            }
        }
        KeyRef::parse(&self.online.signer)
            .map_err(|e| Error::policy("online.signer", PolicyProblem::Key(Box::new(e))))?;
        for (name, entry) in &self.keys {
            if let Some(reference) = &entry.online {
                KeyRef::parse(reference)
                    .map_err(|e| Error::policy(format!("keys.{name}.online"), PolicyProblem::Key(Box::new(e))))?;
            }
        }
        for name in &self.gate.accept {
            if !crate::finding::named::ACCEPTABLE.contains(&name.as_str()) {
                return Err(Error::policy(
                    "gate.accept",
                    PolicyProblem::UnknownFinding {
                        name: name.clone(),
                        known: crate::finding::named::ACCEPTABLE.join(", "),
                    },
                ));
            }
        }
        if let Some(import) = &self.import {
            import.check()?;
        }
        check_relative("online.public", &self.online.public)?;
        if self.publish.destination.trim().is_empty() {
            return Err(Error::policy("publish.destination", PolicyProblem::Empty));
        }
        Ok(())
    }

    fn check_offline(&self, field: &str, names: &[String], threshold: u64) -> Result<()> {
        let mut seen = BTreeSet::new();
        for name in names {
            if !self.keys.contains_key(name) {
                return Err(Error::policy(
                    format!("{field}.keys"),
                    PolicyProblem::UnknownKey { name: name.clone() },
                ));
            }
            if !seen.insert(name) {
                return Err(Error::policy(
                    format!("{field}.keys"),
                    PolicyProblem::ListedTwice { name: name.clone() },
                ));
            }
        }
        if threshold == 0 {
            return Err(Error::policy(
                format!("{field}.threshold"),
                PolicyProblem::ThresholdZero,
            ));
        }
        if !names.is_empty() && threshold > names.len() as u64 {
            return Err(Error::policy(
                format!("{field}.threshold"),
                PolicyProblem::ThresholdAboveKeys {
                    threshold,
                    keys: names.len(),
                },
            ));
        }
        Ok(())
    }

    /// A role's periods, defaults applied (`None` for a role the policy does not have).
    pub fn periods(&self, role: &str) -> Periods {
        match role {
            "root" => periods(role, self.roles.root.expiry_days, self.roles.root.signing_days),
            "targets" => periods(role, self.roles.targets.expiry_days, self.roles.targets.signing_days),
            "snapshot" => periods(role, self.roles.snapshot.expiry_days, self.roles.snapshot.signing_days),
            "timestamp" => periods(
                role,
                self.roles.timestamp.expiry_days,
                self.roles.timestamp.signing_days,
            ),
            other => match self.delegations.get(other) {
                Some(d) => periods(other, d.expiry_days, d.signing_days),
                None => match self.delegation_of_bin(other).and_then(|p| self.delegations.get(p)) {
                    Some(d) => periods(other, d.expiry_days, d.signing_days),
                    None => periods(other, None, None),
                },
            },
        }
    }

    /// How many days `role` must stay valid after a publish (the gate's horizon).
    pub fn min_valid_days(&self, role: &str) -> u32 {
        if let Some(days) = self.gate.min_valid_days.get(role) {
            return *days;
        }
        let base = match role {
            "root" | "targets" | "snapshot" | "timestamp" => role,
            other => match self.delegation_of_bin(other) {
                Some(parent) => return self.min_valid_days(parent),
                None => "targets",
            },
        };
        if let Some(days) = self.gate.min_valid_days.get(base) {
            return *days;
        }
        match base {
            "snapshot" | "timestamp" => 5,
            _ => 30,
        }
    }

    /// The delegation whose hashed bin `role` is, if it is one.
    pub fn delegation_of_bin(&self, role: &str) -> Option<&str> {
        self.delegations
            .iter()
            .find(|(name, d)| {
                d.bins
                    .is_some_and(|n| crate::bins::bin_names(name, n).any(|b| b == role))
            })
            .map(|(name, _)| name.as_str())
    }

    /// The key names and threshold of an offline role (`root`, `targets` or a delegation).
    pub fn signers(&self, role: &str) -> Option<(&[String], u64)> {
        match role {
            "root" => Some((&self.roles.root.keys, self.roles.root.threshold)),
            "targets" => Some((&self.roles.targets.keys, self.roles.targets.threshold)),
            other => match self.delegations.get(other) {
                Some(d) => Some((d.keys.as_slice(), d.threshold)),
                None => self
                    .delegation_of_bin(other)
                    .and_then(|p| self.delegations.get(p))
                    .map(|d| (d.keys.as_slice(), d.threshold)),
            },
        }
    }

    /// Checks that every offline role has enough keys to meet its threshold (needed
    /// before staging; a freshly initialised policy has none yet).
    pub fn check_complete(&self) -> Result<()> {
        let mut roles = vec!["root".to_string(), "targets".to_string()];
        roles.extend(self.delegations.keys().cloned());
        for role in roles {
            let Some((names, threshold)) = self.signers(&role) else {
                continue;
            };
            let field = if role == "root" || role == "targets" {
                format!("roles.{role}")
            } else {
                format!("delegations.{role}")
            };
            if names.is_empty() {
                return Err(Error::policy(
                    format!("{field}.keys"),
                    PolicyProblem::NoKeys { role: role.into() },
                ));
            }
            if threshold > names.len() as u64 {
                return Err(Error::policy(
                    format!("{field}.threshold"),
                    PolicyProblem::ThresholdAboveKeys {
                        threshold,
                        keys: names.len(),
                    },
                ));
            }
            self.check_attested(&role, names)?;
        }
        Ok(())
    }

    /// Refuses a role `[attestation] required_for` names when one of its keys was
    /// registered without a verified attestation, or with one whose evidence was not kept
    /// (a record alone is a claim anyone who can edit the policy can write).
    fn check_attested(&self, role: &str, names: &[String]) -> Result<()> {
        let role_of_policy = self.delegation_of_bin(role).unwrap_or(role);
        if !self.attestation.required(role_of_policy) {
            return Ok(());
        }
        for name in names {
            let Some(entry) = self.keys.get(name) else {
                continue;
            };
            let problem = match &entry.attestation {
                None => PolicyProblem::NotAttested {
                    role: role_of_policy.into(),
                },
                Some(record) if !record.has_evidence() => PolicyProblem::NoEvidence {
                    role: role_of_policy.into(),
                },
                Some(_) => continue,
            };
            return Err(Error::policy(format!("keys.{name}.attestation"), problem));
        }
        Ok(())
    }
}

/// A key that field `field` names cannot be read or used.
fn key_problem(field: String, e: Error) -> Error {
    Error::policy(field, PolicyProblem::Key(Box::new(e)))
}

fn check_relative(field: &str, path: &str) -> Result<()> {
    if path.is_empty() || path.starts_with('/') || path.split(['/', '\\']).any(|s| s == "..") {
        return Err(Error::policy(
            field,
            PolicyProblem::OutsideRepository { path: path.to_string() },
        ));
    }
    Ok(())
}

/// An attestation record's evidence: both paths or neither, inside the repository.
fn check_evidence_paths(name: &str, record: &crate::attestation::Attestation) -> Result<()> {
    let field = format!("keys.{name}.attestation");
    match (&record.key_cert, &record.device_cert) {
        (Some(key_cert), Some(device_cert)) => {
            check_relative(&format!("{field}.key_cert"), key_cert)?;
            check_relative(&format!("{field}.device_cert"), device_cert)
        }
        (None, None) => Ok(()),
        _ => Err(Error::policy(field, PolicyProblem::HalfEvidence)),
    }
}

fn check_periods(field: &str, periods: Periods, _given: Option<u32>) -> Result<()> {
    if periods.expiry_days == 0 || periods.expiry_days > 36500 {
        return Err(Error::policy(
            format!("{field}.expiry_days"),
            PolicyProblem::ExpiryRange {
                days: u64::from(periods.expiry_days),
            },
        ));
    }
    if periods.signing_days == 0 || periods.signing_days >= periods.expiry_days {
        return Err(Error::policy(
            format!("{field}.signing_days"),
            PolicyProblem::SigningRange {
                days: u64::from(periods.signing_days),
                expiry: u64::from(periods.expiry_days),
            },
        ));
    }
    Ok(())
}

/// The keys of the policy, read from their files, as they go into metadata (with
/// `x-tuf-on-ci-keyowner` when a holder is named), by name.
#[derive(Debug, Clone)]
pub struct ResolvedKeys {
    pub by_name: BTreeMap<String, Key>,
    pub online: Key,
    /// Key IDs the published root and targets list a policy key under that are not its
    /// computed ID (written by another tool, kept by `ceremony start`), with its name.
    pub aliases: BTreeMap<String, String>,
}

impl ResolvedKeys {
    /// Reads every key file the policy names.
    pub fn load(policy: &Policy, repo: &Path) -> Result<ResolvedKeys> {
        let mut by_name = BTreeMap::new();
        for (name, entry) in &policy.keys {
            let path = repo.join(&entry.public);
            let bytes =
                keys::read_limited(&path, 64 * 1024).map_err(|e| key_problem(format!("keys.{name}.public"), e))?;
            let mut key = keys::parse_public_key(&entry.public, &bytes)
                .map_err(|e| key_problem(format!("keys.{name}.public"), e))?;
            if let Some(holder) = &entry.holder {
                key.unknown.insert(
                    "x-tuf-on-ci-keyowner".to_string(),
                    serde_json::Value::String(holder.clone()),
                );
            }
            by_name.insert(name.clone(), key);
        }
        let path = repo.join(&policy.online.public);
        let bytes = keys::read_limited(&path, 64 * 1024)
            .map_err(|e| Error::policy("online.public", PolicyProblem::OnlineKeyMissing(Box::new(e))))?;
        let online = keys::parse_public_key(&policy.online.public, &bytes)
            .map_err(|e| key_problem("online.public".to_string(), e))?;
        if !policy.gate.allow_p384 {
            let p384 = by_name
                .iter()
                .find(|(_, key)| keys::is_p384(key))
                .map(|(name, _)| format!("keys.{name}"));
            if let Some(field) = p384.or_else(|| keys::is_p384(&online).then(|| "online.public".to_string())) {
                return Err(Error::policy(field, PolicyProblem::P384NotAllowed));
            }
        }
        // One key under two names would look like two signers while a threshold counts it
        // once (and a keyholder's key doubling as the online key would put it online).
        let named: Vec<(&String, &Key)> = by_name.iter().collect();
        for (i, (name, key)) in named.iter().enumerate() {
            if let Some((other, _)) = named[i + 1..].iter().find(|(_, k)| keys::same_key(key, k)) {
                return Err(Error::policy(
                    format!("keys.{other}"),
                    PolicyProblem::SameKey {
                        other: name.to_string(),
                    },
                ));
            }
            if keys::same_key(key, &online) {
                return Err(Error::policy(format!("keys.{name}"), PolicyProblem::OnlineKeyholder));
            }
        }
        let aliases = published_aliases(repo, &by_name);
        Ok(ResolvedKeys {
            by_name,
            online,
            aliases,
        })
    }

    /// The key ID and key of a named key.
    pub fn get(&self, name: &str) -> Option<(String, &Key)> {
        self.by_name.get(name).map(|k| (k.computed_key_id().into_string(), k))
    }

    /// The name of a key ID, if the policy has it (under its computed ID, or under the ID
    /// the published metadata lists it under).
    pub fn name_of(&self, keyid: &str) -> Option<&str> {
        self.by_name
            .iter()
            .find(|(_, k)| k.computed_key_id() == keyid)
            .map(|(n, _)| n.as_str())
            .or_else(|| self.aliases.get(keyid).map(String::as_str))
    }
}

/// The IDs other than the computed one that `metadata/root.json` (`keys`) and
/// `metadata/targets.json` (`delegations.keys`) list a key of `by_name` under. Only names
/// are taken from them, so a file that cannot be read gives none: whatever reads the
/// published metadata for its content reports that file.
fn published_aliases(repo: &Path, by_name: &BTreeMap<String, Key>) -> BTreeMap<String, String> {
    let mut aliases = BTreeMap::new();
    for (file, pointer) in [
        ("metadata/root.json", "/signed/keys"),
        ("metadata/targets.json", "/signed/delegations/keys"),
    ] {
        let Ok(bytes) = keys::read_limited(&repo.join(file), crate::repo::MAX_METADATA_SIZE) else {
            continue;
        };
        let Ok(metadata) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        let Some(listed) = metadata.pointer(pointer).and_then(serde_json::Value::as_object) else {
            continue;
        };
        for (id, object) in listed {
            let Ok(listed_key) = serde_json::from_value::<Key>(object.clone()) else {
                continue;
            };
            if listed_key.computed_key_id() == id.as_str() {
                continue;
            }
            if let Some((name, _)) = by_name.iter().find(|(_, k)| keys::same_key(k, &listed_key)) {
                aliases.insert(id.clone(), name.clone());
            }
        }
    }
    aliases
}

mod evidence;
mod registered;
#[cfg(test)]
mod tests;

pub use self::evidence::{check_all_evidence, check_evidence};
pub use self::registered::{Registration, registrations};
