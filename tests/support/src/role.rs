//! The simulator's per-role state (crate-internal).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::envelope::SignPlan;
use crate::keys::SimKey;

/// Which hashes a target lists (and is served under, with consistent snapshots).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetHashes {
    /// `{"sha256": ...}` (the default).
    Sha256,
    /// `{"sha512": ...}`.
    Sha512,
    /// `{"sha256": ..., "sha512": ...}`.
    Both,
    /// One hash under an algorithm name clients do not know; its value is the sha256 hex.
    Custom(String),
    /// The real sha256, plus extra `(algorithm, value)` entries listed as they are: a hostile
    /// publisher's digests (not hex, of the wrong length, or a path).
    Listed(Vec<(String, String)>),
}

#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub bytes: Vec<u8>,
    pub hashes: TargetHashes,
    /// Extra fields of the target entry (e.g. `custom`).
    pub fields: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub(crate) enum Delegation {
    Role {
        name: String,
        paths: Option<Vec<String>>,
        path_hash_prefixes: Option<Vec<String>>,
        terminating: bool,
    },
    Succinct {
        bit_length: u32,
        name_prefix: String,
        keys: Vec<SimKey>,
        threshold: u64,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Role {
    pub keys: Vec<SimKey>,
    pub threshold: u64,
    pub expires: DateTime<Utc>,
    pub version: u64,
    /// Fields merged into (and overriding) the role's `signed` value.
    pub signed_fields: Map<String, Value>,
    /// Fields merged into the role's entry in root `roles` or the delegator's `roles`.
    pub entry_fields: Map<String, Value>,
    /// List the first key ID twice in the role's `keyids`.
    pub keyid_listed_twice: bool,
    pub plan: SignPlan,
    pub force_bump: bool,
    pub reuse_once: bool,
    pub last_signed: Option<Value>,
    pub last_key_ids: Vec<String>,
    pub last_sigs: Vec<Value>,
    /// Every published version's bytes.
    pub history: BTreeMap<u64, Vec<u8>>,
    pub targets: BTreeMap<String, Target>,
    pub delegations: Vec<Delegation>,
}

impl Role {
    pub fn new(keys: Vec<SimKey>, threshold: u64, expires: DateTime<Utc>) -> Role {
        Role {
            keys,
            threshold,
            expires,
            version: 1,
            signed_fields: Map::new(),
            entry_fields: Map::new(),
            keyid_listed_twice: false,
            plan: SignPlan::default(),
            force_bump: false,
            reuse_once: false,
            last_signed: None,
            last_key_ids: Vec::new(),
            last_sigs: Vec::new(),
            history: BTreeMap::new(),
            targets: BTreeMap::new(),
            delegations: Vec::new(),
        }
    }

    pub fn key_ids(&self) -> Vec<String> {
        self.keys.iter().map(SimKey::key_id).collect()
    }

    /// The `keyids` list as published (with the optional duplicate).
    pub fn listed_key_ids(&self) -> Vec<String> {
        let mut ids = self.key_ids();
        if self.keyid_listed_twice
            && let Some(first) = ids.first().cloned()
        {
            ids.push(first);
        }
        ids
    }
}
