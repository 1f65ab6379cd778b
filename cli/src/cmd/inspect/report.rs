//! What `inspect` reports, as types: the `--json` output is these structs serialized, and
//! the text output is rendered from them (`render`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use trustroot_core::metadata::{Common, Delegations};
use trustroot_core::verify::{KeyStatus, ThresholdReport};
use trustroot_core::{Key, MetaFile, RoleKeys, TargetFile};

/// One metadata file, inspected.
#[derive(Debug, Serialize)]
pub struct Report {
    pub file: String,
    pub role: String,
    #[serde(rename = "type")]
    pub role_type: String,
    pub version: u64,
    pub spec_version: String,
    #[serde(serialize_with = "trustroot_core::time::serialize")]
    pub expires: DateTime<Utc>,
    pub expired: bool,
    pub days_left: i64,
    /// A root's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistent_snapshot: Option<bool>,
    /// A root's keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<KeyView>>,
    /// A root's roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<BTreeMap<String, RoleKeysView>>,
    /// A timestamp's or snapshot's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<BTreeMap<String, MetaView>>,
    /// A targets role's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<TargetView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegations: Option<DelegationsView>,
    /// `None` when nothing to check against was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signatures: Option<Vec<SignatureCheck>>,
}

impl Report {
    /// The fields every role has; the rest is filled in per role.
    pub fn new(file: String, role: &str, common: &Common, now: DateTime<Utc>) -> Self {
        Report {
            file,
            role: role.to_string(),
            role_type: common.role_type.clone(),
            version: common.version,
            spec_version: common.spec_version.clone(),
            expires: common.expires,
            expired: common.is_expired(now),
            days_left: (common.expires - now).num_days(),
            consistent_snapshot: None,
            keys: None,
            roles: None,
            meta: None,
            targets: None,
            delegations: None,
            signatures: None,
        }
    }
}

/// A key as listed, with what can be said about it.
#[derive(Debug, Serialize)]
pub struct KeyView {
    pub keyid: String,
    pub keytype: String,
    pub scheme: String,
    /// tuf-on-ci's `x-tuf-on-ci-keyowner`, as the metadata has it.
    pub owner: Option<Value>,
    /// tuf-on-ci's `x-tuf-on-ci-online-uri`.
    pub online_uri: Option<Value>,
    /// `true`, or why the key cannot verify anything.
    #[serde(serialize_with = "usability")]
    pub unusable: Option<String>,
    pub keyid_matches_content: bool,
    pub computed_keyid: String,
}

fn usability<S: serde::Serializer>(unusable: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    match unusable {
        None => serializer.serialize_bool(true),
        Some(reason) => serializer.serialize_str(reason),
    }
}

impl KeyView {
    pub fn new(id: &str, key: &Key) -> Self {
        let computed = key.computed_key_id().to_string();
        KeyView {
            keyid: id.to_string(),
            keytype: key.keytype.clone(),
            scheme: key.scheme.clone(),
            owner: key.unknown.get("x-tuf-on-ci-keyowner").cloned(),
            online_uri: key.unknown.get("x-tuf-on-ci-online-uri").cloned(),
            unusable: key.public_key().err(),
            keyid_matches_content: computed == id,
            computed_keyid: computed,
        }
    }

    pub fn all(keys: &BTreeMap<String, Key>) -> Vec<KeyView> {
        keys.iter().map(|(id, key)| KeyView::new(id, key)).collect()
    }
}

#[derive(Debug, Serialize)]
pub struct RoleKeysView {
    pub keyids: Vec<String>,
    pub threshold: u64,
}

impl From<&RoleKeys> for RoleKeysView {
    fn from(keys: &RoleKeys) -> Self {
        RoleKeysView {
            keyids: keys.keyids.clone(),
            threshold: keys.threshold,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct MetaView {
    pub version: u64,
    pub length: Option<u64>,
    pub hashes: Option<BTreeMap<String, String>>,
}

impl From<&MetaFile> for MetaView {
    fn from(meta: &MetaFile) -> Self {
        MetaView {
            version: meta.version,
            length: meta.length,
            hashes: meta.hashes.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TargetView {
    pub path: String,
    pub length: u64,
    pub hashes: BTreeMap<String, String>,
    pub custom: Option<Value>,
}

impl TargetView {
    pub fn new(path: &str, target: &TargetFile) -> Self {
        TargetView {
            path: path.to_string(),
            length: target.length,
            hashes: target.hashes.clone(),
            custom: target.custom.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct DelegationsView {
    pub keys: Vec<KeyView>,
    pub roles: Option<Vec<DelegatedRoleView>>,
    pub succinct_roles: Option<SuccinctRolesView>,
}

#[derive(Debug, Serialize)]
pub struct DelegatedRoleView {
    pub name: String,
    pub keyids: Vec<String>,
    pub threshold: u64,
    pub terminating: bool,
    pub paths: Option<Vec<String>>,
    pub path_hash_prefixes: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
pub struct SuccinctRolesView {
    pub name_prefix: String,
    pub bit_length: u32,
    pub bins: u64,
    pub keyids: Vec<String>,
    pub threshold: u64,
}

impl From<&Delegations> for DelegationsView {
    fn from(d: &Delegations) -> Self {
        DelegationsView {
            keys: KeyView::all(&d.keys),
            roles: d.roles.as_ref().map(|roles| {
                roles
                    .iter()
                    .map(|r| DelegatedRoleView {
                        name: r.name.clone(),
                        keyids: r.keyids.clone(),
                        threshold: r.threshold,
                        terminating: r.terminating,
                        paths: r.paths.clone(),
                        path_hash_prefixes: r.path_hash_prefixes.clone(),
                    })
                    .collect()
            }),
            succinct_roles: d.succinct_roles.as_ref().map(|s| SuccinctRolesView {
                name_prefix: s.name_prefix.clone(),
                bit_length: s.bit_length,
                bins: s.bin_count(),
                keyids: s.keyids.clone(),
                threshold: s.threshold,
            }),
        }
    }
}

/// The signatures of the file checked against one set of keys, or why they could not be.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum SignatureCheck {
    Checked {
        checked_against: String,
        threshold: u64,
        valid: usize,
        met: bool,
        keys: Vec<KeyCheck>,
        signatures_from_unlisted_keys: Vec<String>,
    },
    /// The keys to check against are not there (the root lists no such role, the
    /// delegator does not delegate to it).
    NotChecked { checked_against: String, error: String },
}

#[derive(Debug, Serialize)]
pub struct KeyCheck {
    pub keyid: String,
    pub status: String,
}

impl SignatureCheck {
    pub fn new(checked_against: String, report: &ThresholdReport) -> Self {
        SignatureCheck::Checked {
            checked_against,
            threshold: report.threshold,
            valid: report.valid,
            met: report.is_met(),
            keys: report
                .keys
                .iter()
                .map(|(id, status)| KeyCheck {
                    keyid: id.clone(),
                    status: status_text(status),
                })
                .collect(),
            signatures_from_unlisted_keys: report.unlisted_signatures.clone(),
        }
    }
}

fn status_text(status: &KeyStatus) -> String {
    match status {
        KeyStatus::Valid => "valid".into(),
        KeyStatus::DuplicateKey => "valid, same key as another ID (counted once)".into(),
        KeyStatus::Invalid => "INVALID or empty signature".into(),
        KeyStatus::Missing => "not signed".into(),
        KeyStatus::Unusable(reason) => format!("unusable key: {reason}"),
        KeyStatus::Refused(refusal) => format!("keyless signature refused: {refusal}"),
    }
}
