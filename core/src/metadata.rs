//! The metadata model: root, timestamp, snapshot, targets and delegated targets.
//!
//! These types are read from the `signed` value of an [`Envelope`] and keep every field
//! they do not know in `unknown`. They are for reading and for building new metadata;
//! signatures are always checked over the envelope's bytes as received, never over a
//! re-serialisation of these types.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::display::escape;
use crate::envelope::Envelope;
use crate::error::{Error, ErrorKind, MalformedProblem, Result};
pub use crate::keys::Key;

/// The four top-level role names.
pub const TOP_LEVEL_ROLES: [&str; 4] = ["root", "timestamp", "snapshot", "targets"];

/// Fields every role has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Common {
    #[serde(rename = "_type")]
    pub role_type: String,
    pub spec_version: String,
    pub version: u64,
    #[serde(deserialize_with = "de_time", serialize_with = "ser_time")]
    pub expires: DateTime<Utc>,
}

fn de_time<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(d)?;
    crate::time::parse(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("'{}' is not an RFC 3339 time", escape(&text))))
}

fn ser_time<S: Serializer>(t: &DateTime<Utc>, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&crate::time::format(t))
}

/// Root metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Root {
    #[serde(flatten)]
    pub common: Common,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistent_snapshot: Option<bool>,
    pub keys: BTreeMap<String, Key>,
    pub roles: BTreeMap<String, RoleKeys>,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// The key IDs and threshold of one role, as root or a delegator lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleKeys {
    pub keyids: Vec<String>,
    pub threshold: u64,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// Timestamp metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timestamp {
    #[serde(flatten)]
    pub common: Common,
    pub meta: BTreeMap<String, MetaFile>,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// Snapshot metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(flatten)]
    pub common: Common,
    pub meta: BTreeMap<String, MetaFile>,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// A METAFILE entry: the version of a metadata file, and optionally its length and hashes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaFile {
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<BTreeMap<String, String>>,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// Targets metadata, top-level or delegated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    #[serde(flatten)]
    pub common: Common,
    pub targets: BTreeMap<String, TargetFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegations: Option<Delegations>,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// A TARGETFILE entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetFile {
    pub length: u64,
    pub hashes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// The `delegations` of a targets role: either a list of roles or succinct hashed bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delegations {
    pub keys: BTreeMap<String, Key>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<DelegatedRole>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succinct_roles: Option<SuccinctRoles>,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// One delegated role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DelegatedRole {
    pub name: String,
    pub keyids: Vec<String>,
    pub threshold: u64,
    #[serde(default)]
    pub terminating: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hash_prefixes: Option<Vec<String>>,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// TAP 15 succinct hashed-bin delegation: `2^bit_length` roles named
/// `<name_prefix>-<hex index>`, all signed by the same keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuccinctRoles {
    pub keyids: Vec<String>,
    pub threshold: u64,
    pub bit_length: u32,
    pub name_prefix: String,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// A role type that can be read out of an envelope.
pub trait Role: DeserializeOwned {
    /// The `_type` value of this role.
    const TYPE: &'static str;
    fn common(&self) -> &Common;
    /// Rules serde cannot express; `name` is the role name for errors.
    fn check(&self, name: &str) -> Result<()>;

    /// Reads the typed role from an envelope, checking `_type`, the spec version and the
    /// role's own rules. `name` is the role name (a delegated role's name for targets).
    fn from_envelope(name: &str, envelope: &Envelope) -> Result<Self> {
        checked_role(name, envelope, |signed| {
            Self::deserialize(signed).map_err(|e| e.to_string())
        })
    }

    /// [`Role::from_envelope`], taking the `signed` value out of the envelope instead of
    /// copying from it: each part of the value is freed as the typed role takes it, so a
    /// targets role of 100,000 entries is never held twice (as a value and as a role).
    /// The envelope keeps its signatures and canonical bytes, and answers
    /// [`Envelope::role_type`] and [`Envelope::version`] as before.
    fn from_envelope_taking(name: &str, envelope: &mut Envelope) -> Result<Self> {
        let signed = envelope.take_signed();
        checked_role(name, envelope, |_| Self::deserialize(signed).map_err(|e| e.to_string()))
    }

    /// [`Role::from_envelope`] for an envelope read by [`Envelope::parse_outline`] from
    /// `bytes`: the typed role is read straight from the `signed` member of `bytes`, with
    /// no `Value` of it in between (already read once, the document is known to be JSON
    /// with no repeated key).
    fn from_document(name: &str, envelope: &Envelope, bytes: &[u8]) -> Result<Self> {
        checked_role(name, envelope, |_| signed_member(bytes))
    }
}

/// The `signed` member of the metadata document `bytes`, read as a `T`; other members are
/// skipped unread.
fn signed_member<T: DeserializeOwned>(bytes: &[u8]) -> std::result::Result<T, String> {
    #[derive(Deserialize)]
    #[serde(bound = "T: DeserializeOwned")]
    struct Document<T> {
        signed: T,
    }
    serde_json::from_slice::<Document<T>>(bytes)
        .map(|document| document.signed)
        .map_err(|e| {
            // Reported as a `Value` of `signed` reports it, without a position: errors name
            // the field, and a position in the file would differ from before. (A role with
            // two bad fields is reported for the first in the file, where the `Value`,
            // its keys sorted, reported the first by name.)
            let text = e.to_string();
            let position = format!(" at line {} column {}", e.line(), e.column());
            text.strip_suffix(&position).map_or_else(|| text.clone(), str::to_owned)
        })
}

/// The checks of [`Role::from_envelope`] around `deserialize`, which reads the typed role
/// from the envelope's `signed` value (or from one taken out of it).
fn checked_role<T: Role>(
    name: &str,
    envelope: &Envelope,
    deserialize: impl FnOnce(&Value) -> std::result::Result<T, String>,
) -> Result<T> {
    let version_of = |e: Error| match envelope.version() {
        Some(v) => e.with_version(v),
        None => e,
    };
    let found = envelope.role_type().unwrap_or("");
    if found != T::TYPE {
        return Err(version_of(Error::new(
            name,
            ErrorKind::WrongType {
                expected: T::TYPE.to_string(),
                found: found.to_string(),
            },
        )));
    }
    // serde's messages can quote the metadata (an unknown variant, a custom error).
    let role = deserialize(&envelope.signed)
        .map_err(|e| version_of(Error::malformed(name, MalformedProblem::Fields { reason: e })))?;
    let common = role.common();
    if common.version == 0 {
        return Err(Error::malformed(name, MalformedProblem::VersionZero));
    }
    if !supported_spec_version(&common.spec_version) {
        return Err(version_of(Error::malformed(
            name,
            MalformedProblem::UnsupportedSpecVersion {
                found: common.spec_version.clone(),
            },
        )));
    }
    role.check(name).map_err(version_of)?;
    Ok(role)
}

/// The spec versions read, as python-tuf reads them: `X.Y` or `X.Y.Z`, every part
/// digits, the major part exactly `1`. `1`, `1.x.y`, `1.0.0-rc1` and `01.0` are refused.
/// (python-tuf's digits are Unicode's; these are ASCII.)
pub fn supported_spec_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    matches!(parts.len(), 2 | 3)
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts[0] == "1"
}

fn check_threshold(name: &str, threshold: u64) -> Result<()> {
    if threshold == 0 {
        return Err(Error::malformed(name, MalformedProblem::ThresholdZero));
    }
    Ok(())
}

/// `empty` is the problem to report when `hashes` is empty.
fn check_hashes(name: &str, hashes: &BTreeMap<String, String>, empty: impl FnOnce() -> MalformedProblem) -> Result<()> {
    if hashes.is_empty() {
        return Err(Error::malformed(name, empty()));
    }
    Ok(())
}

impl Role for Root {
    const TYPE: &'static str = "root";
    fn common(&self) -> &Common {
        &self.common
    }
    fn check(&self, name: &str) -> Result<()> {
        for role in TOP_LEVEL_ROLES {
            let keys = self
                .roles
                .get(role)
                .ok_or_else(|| Error::malformed(name, MalformedProblem::MissingTopLevelRole { role }))?;
            check_threshold(name, keys.threshold)?;
        }
        Ok(())
    }
}

impl Role for Timestamp {
    const TYPE: &'static str = "timestamp";
    fn common(&self) -> &Common {
        &self.common
    }
    fn check(&self, name: &str) -> Result<()> {
        let meta = self
            .meta
            .get("snapshot.json")
            .ok_or_else(|| Error::malformed(name, MalformedProblem::NoSnapshotEntry))?;
        check_meta_file(name, "snapshot.json", meta)
    }
}

fn check_meta_file(name: &str, file: &str, meta: &MetaFile) -> Result<()> {
    if meta.version == 0 {
        return Err(Error::malformed(
            name,
            MalformedProblem::MetaVersionZero { file: file.to_string() },
        ));
    }
    if let Some(hashes) = &meta.hashes {
        check_hashes(name, hashes, || MalformedProblem::EmptyMetaHashes {
            file: file.to_string(),
        })?;
    }
    Ok(())
}

impl Timestamp {
    /// The snapshot entry (presence is checked when parsing).
    pub fn snapshot_meta(&self) -> Option<&MetaFile> {
        self.meta.get("snapshot.json")
    }
}

impl Role for Snapshot {
    const TYPE: &'static str = "snapshot";
    fn common(&self) -> &Common {
        &self.common
    }
    fn check(&self, name: &str) -> Result<()> {
        for (file, meta) in &self.meta {
            check_meta_file(name, file, meta)?;
        }
        Ok(())
    }
}

impl Role for Targets {
    const TYPE: &'static str = "targets";
    fn common(&self) -> &Common {
        &self.common
    }
    fn check(&self, name: &str) -> Result<()> {
        for (path, target) in &self.targets {
            check_hashes(name, &target.hashes, || MalformedProblem::EmptyTargetHashes {
                path: path.clone(),
            })?;
        }
        if let Some(delegations) = &self.delegations {
            delegations.check(name)?;
        }
        Ok(())
    }
}

impl Delegations {
    fn check(&self, name: &str) -> Result<()> {
        match (&self.roles, &self.succinct_roles) {
            (Some(_), Some(_)) => Err(Error::malformed(name, MalformedProblem::DelegationsBoth)),
            (None, None) => Err(Error::malformed(name, MalformedProblem::DelegationsNeither)),
            (Some(roles), None) => {
                let mut seen = std::collections::BTreeSet::new();
                for role in roles {
                    // A delegated role named like a top-level role would be confused with
                    // it (and stored over it).
                    if TOP_LEVEL_ROLES.contains(&role.name.as_str()) {
                        return Err(Error::malformed(
                            name,
                            MalformedProblem::DelegatedTopLevelName {
                                role: role.name.clone(),
                            },
                        ));
                    }
                    if !seen.insert(role.name.as_str()) {
                        return Err(Error::malformed(
                            name,
                            MalformedProblem::DelegatedTwice {
                                role: role.name.clone(),
                            },
                        ));
                    }
                    check_threshold(name, role.threshold)?;
                    if role.paths.is_some() && role.path_hash_prefixes.is_some() {
                        return Err(Error::malformed(
                            name,
                            MalformedProblem::DelegatedBothPaths {
                                role: role.name.clone(),
                            },
                        ));
                    }
                }
                Ok(())
            }
            (None, Some(succinct)) => {
                check_threshold(name, succinct.threshold)?;
                if !(1..=32).contains(&succinct.bit_length) {
                    return Err(Error::malformed(
                        name,
                        MalformedProblem::BitLength {
                            bit_length: succinct.bit_length,
                        },
                    ));
                }
                Ok(())
            }
        }
    }
}

impl Common {
    /// True when `now` is at or past `expires`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        now >= self.expires
    }
}
