//! A small fixed repository the TUF targets start from: five Ed25519 keys made from fixed
//! seeds (root, timestamp, snapshot, targets, and the delegated role `d`), one version of
//! each role, expiring long after the reference time. Deterministic, so a saved input
//! means the same thing in every run.
//!
//! The harness holds the private keys, so it can also *re-sign* an input: a fuzzer cannot
//! forge signatures, and without re-signing every mutated document would stop at the
//! signature check. Re-signed inputs reach the version, rollback, expiry, length/hash and
//! delegation rules behind it.

use std::sync::OnceLock;

use chrono::{DateTime, TimeZone as _, Utc};
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{Value, json};
use trustroot_core::canonical::to_canonical_bytes;

/// The reference time every check runs at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default()
}

const EXPIRES: &str = "2030-01-01T00:00:00Z";
const SPEC: &str = "1.0.31";

/// One key of the fixed repository.
pub struct FixedKey {
    signing: SigningKey,
    /// The TUF key object.
    pub key: Value,
    /// Its key ID (sha256 of the canonical key object).
    pub keyid: String,
}

impl FixedKey {
    fn new(seed: u8) -> FixedKey {
        let signing = SigningKey::from_bytes(&[seed; 32]);
        let key = json!({
            "keytype": "ed25519",
            "scheme": "ed25519",
            "keyval": {"public": hex::encode(signing.verifying_key().as_bytes())},
        });
        let keyid = trustroot_core::hashes::sha256_hex(&to_canonical_bytes(&key).unwrap_or_default());
        FixedKey { signing, key, keyid }
    }
}

/// The fixed repository: keys and the envelope bytes of each role.
pub struct Fixed {
    pub root_key: FixedKey,
    pub timestamp_key: FixedKey,
    pub snapshot_key: FixedKey,
    pub targets_key: FixedKey,
    pub delegated_key: FixedKey,
    pub root: Vec<u8>,
    pub timestamp: Vec<u8>,
    pub snapshot: Vec<u8>,
    pub targets: Vec<u8>,
    /// The delegated role `d` (delegated by targets for `dir/*` and `*.txt`).
    pub delegated: Vec<u8>,
}

/// The name of the fixed delegated role.
pub const DELEGATED: &str = "d";

/// The fixed repository (built once per process).
pub fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(build)
}

fn target(content: &[u8]) -> Value {
    json!({"length": content.len(), "hashes": {"sha256": trustroot_core::hashes::sha256_hex(content)}})
}

fn build() -> Fixed {
    let [root_key, timestamp_key, snapshot_key, targets_key, delegated_key] = [1u8, 2, 3, 4, 5].map(FixedKey::new);
    let role = |k: &FixedKey| json!({"keyids": [k.keyid], "threshold": 1});
    let root = json!({
        "_type": "root",
        "spec_version": SPEC,
        "version": 1,
        "expires": EXPIRES,
        "consistent_snapshot": true,
        "keys": {
            root_key.keyid.clone(): root_key.key.clone(),
            timestamp_key.keyid.clone(): timestamp_key.key.clone(),
            snapshot_key.keyid.clone(): snapshot_key.key.clone(),
            targets_key.keyid.clone(): targets_key.key.clone(),
        },
        "roles": {
            "root": role(&root_key),
            "timestamp": role(&timestamp_key),
            "snapshot": role(&snapshot_key),
            "targets": role(&targets_key),
        },
    });
    let timestamp = json!({
        "_type": "timestamp",
        "spec_version": SPEC,
        "version": 1,
        "expires": EXPIRES,
        "meta": {"snapshot.json": {"version": 1}},
    });
    let snapshot = json!({
        "_type": "snapshot",
        "spec_version": SPEC,
        "version": 1,
        "expires": EXPIRES,
        "meta": {"targets.json": {"version": 1}, "d.json": {"version": 1}},
    });
    let targets = json!({
        "_type": "targets",
        "spec_version": SPEC,
        "version": 1,
        "expires": EXPIRES,
        "targets": {"a.txt": target(b"hello"), "trusted_root.json": target(b"{}")},
        "delegations": {
            "keys": {delegated_key.keyid.clone(): delegated_key.key.clone()},
            "roles": [{
                "name": DELEGATED,
                "keyids": [delegated_key.keyid],
                "threshold": 1,
                "terminating": false,
                "paths": ["dir/*", "*.txt"],
            }],
        },
    });
    let delegated = json!({
        "_type": "targets",
        "spec_version": SPEC,
        "version": 1,
        "expires": EXPIRES,
        "targets": {"dir/c.txt": target(b"c"), "b.txt": target(b"b")},
    });
    Fixed {
        root: envelope(&root, &[&root_key]),
        timestamp: envelope(&timestamp, &[&timestamp_key]),
        snapshot: envelope(&snapshot, &[&snapshot_key]),
        targets: envelope(&targets, &[&targets_key]),
        delegated: envelope(&delegated, &[&delegated_key]),
        root_key,
        timestamp_key,
        snapshot_key,
        targets_key,
        delegated_key,
    }
}

fn signatures(canonical: &[u8], keys: &[&FixedKey]) -> Value {
    keys.iter()
        .map(|k| json!({"keyid": k.keyid, "sig": hex::encode(k.signing.sign(canonical).to_bytes())}))
        .collect()
}

/// The envelope bytes of `signed` signed by `keys`.
pub fn envelope(signed: &Value, keys: &[&FixedKey]) -> Vec<u8> {
    let canonical = to_canonical_bytes(signed).unwrap_or_default();
    let envelope = json!({"signatures": signatures(&canonical, keys), "signed": signed});
    serde_json::to_vec_pretty(&envelope).unwrap_or_default()
}

/// `bytes` with its signatures replaced by valid ones from `keys`, when it is a JSON object
/// whose `signed` has a canonical form; otherwise `bytes` unchanged.
pub fn resign(bytes: &[u8], keys: &[&FixedKey]) -> Vec<u8> {
    let Ok(Value::Object(mut top)) = serde_json::from_slice::<Value>(bytes) else {
        return bytes.to_vec();
    };
    let Some(canonical) = top.get("signed").and_then(|s| to_canonical_bytes(s).ok()) else {
        return bytes.to_vec();
    };
    top.insert("signatures".to_string(), signatures(&canonical, keys));
    serde_json::to_vec(&top).unwrap_or_else(|_| bytes.to_vec())
}

/// The `signed` part of an envelope (for writing seeds).
pub fn signed_of(bytes: &[u8]) -> Value {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| v.get("signed").cloned())
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use trustroot_core::{Limits, TimestampUpdate, TrustedSet};

    #[test]
    fn the_fixed_repository_loads_end_to_end() {
        let f = fixed();
        let mut set = TrustedSet::new(&f.root, now(), Limits::default()).unwrap();
        set.update_timestamp(&f.timestamp).unwrap();
        set.update_snapshot(&f.snapshot, false).unwrap();
        set.update_targets(&f.targets).unwrap();
        set.update_delegated_targets(&f.delegated, DELEGATED, "targets")
            .unwrap();
        let mut verified = std::collections::HashSet::new();
        assert_eq!(set.find_loaded_target("dir/c.txt", &mut verified).unwrap().0, DELEGATED);
        assert_eq!(set.find_loaded_target("a.txt", &mut verified).unwrap().0, "targets");
    }

    #[test]
    fn a_re_signed_input_gets_past_the_signature_check() {
        let f = fixed();
        let mut signed = signed_of(&f.timestamp);
        signed["version"] = json!(2);
        let unsigned = serde_json::to_vec(&json!({"signatures": [], "signed": signed})).unwrap();
        let mut set = TrustedSet::new(&f.root, now(), Limits::default()).unwrap();
        set.update_timestamp(&f.timestamp).unwrap();
        assert!(set.update_timestamp(&unsigned).is_err());
        let resigned = resign(&unsigned, &[&f.timestamp_key]);
        assert_eq!(set.update_timestamp(&resigned).unwrap(), TimestampUpdate::Updated);
        // Not JSON, or no canonical form: unchanged.
        assert_eq!(resign(b"nope", &[&f.timestamp_key]), b"nope");
    }
}
