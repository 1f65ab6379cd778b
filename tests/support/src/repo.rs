//! [`RepoSim`]: an in-memory TUF repository with real keys, and its editing operations.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::bins;
use crate::encode::{metadata_path, target_path};
use crate::keys::{KeyType, SimKey};
use crate::role::{Delegation, Role, Target, TargetHashes};

/// The four top-level roles.
pub const TOP_LEVEL_ROLES: [&str; 4] = ["root", "timestamp", "snapshot", "targets"];

/// A delegated targets role to create with [`RepoSim::add_delegation`].
#[derive(Debug, Clone)]
pub struct DelegatedRoleSpec {
    /// Role name; anything goes (`?`, `#`, `/delegatedrole`, `../delegatedrole`).
    pub name: String,
    /// Shell-style path patterns (`paths`), if any.
    pub paths: Option<Vec<String>>,
    /// Hex prefixes of the target path's sha256 (`path_hash_prefixes`), if any.
    pub path_hash_prefixes: Option<Vec<String>>,
    /// `terminating` flag.
    pub terminating: bool,
    /// Signature threshold of the role.
    pub threshold: u64,
    /// Number of keys generated for the role.
    pub keys: usize,
    /// Type of the generated keys.
    pub key_type: KeyType,
}

impl DelegatedRoleSpec {
    /// A non-terminating role with the given `paths`, one ECDSA P-256 key, threshold 1.
    pub fn new(name: &str, paths: &[&str]) -> DelegatedRoleSpec {
        DelegatedRoleSpec {
            name: name.to_string(),
            paths: Some(paths.iter().map(|p| p.to_string()).collect()),
            path_hash_prefixes: None,
            terminating: false,
            threshold: 1,
            keys: 1,
            key_type: KeyType::EcdsaP256,
        }
    }
}

/// An in-memory TUF repository: every role has real keys, every publish keeps its bytes.
///
/// Defaults: `consistent_snapshot: true`, `spec_version: "1.0.31"`, one key per top-level
/// role (ECDSA P-256 unless [`RepoSim::with_key_type`]), threshold 1, version 1, expiry
/// `base` + 365 days (root, targets, delegated roles), 30 days (snapshot), 1 day
/// (timestamp). The constructor publishes once, so version 1 of everything is served.
///
/// Edits (targets, keys, delegations, expiries, misbehaviours) take effect at the next
/// [`RepoSim::publish`], which bumps the version of each role whose content or keys
/// changed, then snapshot and timestamp as needed.
///
/// Served paths (see [`RepoSim::bytes`]) are relative to the server root:
/// `metadata/N.root.json`, `metadata/timestamp.json`, `metadata/V.<encoded role>.json`
/// (or `metadata/<encoded role>.json` without consistent snapshots) and
/// `targets/<dir/>H.<basename>` (or `targets/<path>`).
#[derive(Debug)]
pub struct RepoSim {
    pub(crate) base: DateTime<Utc>,
    pub(crate) key_type: KeyType,
    pub(crate) spec_version: String,
    pub(crate) consistent_snapshot: bool,
    pub(crate) snapshot_meta_hashes: bool,
    pub(crate) timestamp_meta_hashes: bool,
    pub(crate) roles: BTreeMap<String, Role>,
    /// Root keys of the last published root: they co-sign the next root.
    pub(crate) prev_root_keys: Vec<SimKey>,
    /// Versions snapshot/timestamp must reference instead of the latest.
    pub(crate) pins: BTreeMap<String, u64>,
    pub(crate) files: BTreeMap<String, Vec<u8>>,
    pub(crate) overrides: BTreeMap<String, Option<Vec<u8>>>,
}

impl RepoSim {
    /// A repository whose keys are all ECDSA P-256, published once at version 1.
    pub fn new(base: DateTime<Utc>) -> RepoSim {
        RepoSim::with_key_type(base, KeyType::EcdsaP256)
    }

    /// A repository whose top-level keys (and default new keys) are of `key_type`.
    pub fn with_key_type(base: DateTime<Utc>, key_type: KeyType) -> RepoSim {
        let mut roles = BTreeMap::new();
        for (name, days) in [("root", 365), ("timestamp", 1), ("snapshot", 30), ("targets", 365)] {
            let role = Role::new(vec![SimKey::generate(key_type)], 1, base + TimeDelta::days(days));
            roles.insert(name.to_string(), role);
        }
        let mut sim = RepoSim {
            base,
            key_type,
            spec_version: "1.0.31".to_string(),
            consistent_snapshot: true,
            snapshot_meta_hashes: false,
            timestamp_meta_hashes: false,
            roles,
            prev_root_keys: Vec::new(),
            pins: BTreeMap::new(),
            files: BTreeMap::new(),
            overrides: BTreeMap::new(),
        };
        sim.publish();
        sim
    }

    pub(crate) fn role(&self, name: &str) -> &Role {
        self.roles
            .get(name)
            .unwrap_or_else(|| panic!("no role {name:?} in the simulator"))
    }

    pub(crate) fn role_mut(&mut self, name: &str) -> &mut Role {
        self.roles
            .get_mut(name)
            .unwrap_or_else(|| panic!("no role {name:?} in the simulator"))
    }

    // ----- settings -----------------------------------------------------------------

    /// The base time expiries are computed from.
    pub fn base(&self) -> DateTime<Utc> {
        self.base
    }

    /// Default type of newly generated keys.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// Sets root's `consistent_snapshot` (changes root, and the served layout).
    pub fn set_consistent_snapshot(&mut self, on: bool) {
        self.consistent_snapshot = on;
    }

    /// Whether the layout is consistent-snapshot.
    pub fn consistent_snapshot(&self) -> bool {
        self.consistent_snapshot
    }

    /// Sets `spec_version` of every role.
    pub fn set_spec_version(&mut self, spec_version: &str) {
        self.spec_version = spec_version.to_string();
    }

    /// Whether snapshot's `meta` entries carry `length` and `hashes` (default false).
    pub fn set_snapshot_meta_hashes(&mut self, on: bool) {
        self.snapshot_meta_hashes = on;
    }

    /// Whether timestamp's `snapshot.json` entry carries `length` and `hashes` (default false).
    pub fn set_timestamp_meta_hashes(&mut self, on: bool) {
        self.timestamp_meta_hashes = on;
    }

    /// Sets a role's expiry.
    pub fn set_expires(&mut self, role: &str, expires: DateTime<Utc>) {
        self.role_mut(role).expires = expires;
    }

    /// A role's expiry.
    pub fn expires(&self, role: &str) -> DateTime<Utc> {
        self.role(role).expires
    }

    /// Makes a role expired: its expiry becomes `base` - 1 day.
    pub fn expire(&mut self, role: &str) {
        let at = self.base - TimeDelta::days(1);
        self.set_expires(role, at);
    }

    /// Forces a version bump of `role` at the next publish, even if nothing changed.
    pub fn bump(&mut self, role: &str) {
        self.role_mut(role).force_bump = true;
    }

    // ----- introspection ------------------------------------------------------------

    /// Names of every role (top-level, delegated and bins).
    pub fn role_names(&self) -> Vec<String> {
        self.roles.keys().cloned().collect()
    }

    /// Whether `role` exists.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains_key(role)
    }

    /// The current (last published) version of `role`.
    pub fn version(&self, role: &str) -> u64 {
        self.role(role).version
    }

    /// The keys of `role` (as listed in root or in the delegator).
    pub fn keys(&self, role: &str) -> Vec<SimKey> {
        self.role(role).keys.clone()
    }

    /// The threshold of `role`.
    pub fn threshold(&self, role: &str) -> u64 {
        self.role(role).threshold
    }

    /// Bytes of `role` as published at `version`.
    pub fn role_bytes(&self, role: &str, version: u64) -> Option<Vec<u8>> {
        self.roles.get(role)?.history.get(&version).cloned()
    }

    /// Bytes of the latest published version of `role`.
    pub fn current_bytes(&self, role: &str) -> Vec<u8> {
        let r = self.role(role);
        r.history
            .get(&r.version)
            .cloned()
            .unwrap_or_else(|| panic!("role {role:?} was never published"))
    }

    /// The latest published `signed` value of `role`.
    pub fn signed(&self, role: &str) -> Value {
        self.role(role).last_signed.clone().unwrap_or(Value::Null)
    }

    /// Bytes of root version `version`.
    pub fn root_bytes(&self, version: u64) -> Option<Vec<u8>> {
        self.role_bytes("root", version)
    }

    /// Served path of the latest version of `role` (`metadata/...`).
    pub fn current_path(&self, role: &str) -> String {
        metadata_path(role, self.version(role), self.consistent_snapshot)
    }

    // ----- served tree --------------------------------------------------------------

    /// The bytes served at `path` (relative to the server root, e.g.
    /// `metadata/1.root.json`, `targets/<sha256>.file.txt`), overrides first.
    pub fn bytes(&self, path: &str) -> Option<Vec<u8>> {
        match self.overrides.get(path) {
            Some(over) => over.clone(),
            None => self.files.get(path).cloned(),
        }
    }

    /// Every served path, sorted.
    pub fn paths(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .files
            .keys()
            .filter(|p| !matches!(self.overrides.get(*p), Some(None)))
            .cloned()
            .collect();
        for (p, v) in &self.overrides {
            if v.is_some() && !self.files.contains_key(p) {
                all.push(p.clone());
            }
        }
        all.sort();
        all
    }

    /// Serves `bytes` at `path` (`Some`) or a 404 (`None`), whatever was published.
    pub fn set_override(&mut self, path: &str, bytes: Option<Vec<u8>>) {
        self.overrides.insert(path.to_string(), bytes);
    }

    /// Drops every override set with [`RepoSim::set_override`] or [`RepoSim::serve_version`].
    pub fn clear_overrides(&mut self) {
        self.overrides.clear();
    }

    /// Writes the served tree into `dir` the way Sigstore publishes: metadata files at the
    /// top of `dir`, targets under `dir/targets/`.
    pub fn write_published(&self, dir: &Path) -> std::io::Result<()> {
        for path in self.paths() {
            let rel = path.strip_prefix("metadata/").unwrap_or(&path);
            let dest = dir.join(rel);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)?;
            }
            if let Some(bytes) = self.bytes(&path) {
                std::fs::write(dest, bytes)?;
            }
        }
        Ok(())
    }

    // ----- targets ------------------------------------------------------------------

    /// Adds (or replaces) target `path` in targets role `role`, hashed with sha256.
    pub fn add_target(&mut self, role: &str, path: &str, bytes: &[u8]) {
        self.add_target_with(role, path, bytes, TargetHashes::Sha256);
    }

    /// Adds (or replaces) a target with the given hash algorithms.
    pub fn add_target_with(&mut self, role: &str, path: &str, bytes: &[u8], hashes: TargetHashes) {
        let target = Target {
            bytes: bytes.to_vec(),
            hashes,
            fields: Map::new(),
        };
        self.role_mut(role).targets.insert(path.to_string(), target);
    }

    /// Removes target `path` from `role`; returns whether it was there.
    pub fn remove_target(&mut self, role: &str, path: &str) -> bool {
        self.role_mut(role).targets.remove(path).is_some()
    }

    /// Sets an extra field of a target entry (e.g. `custom`, or an unknown field).
    pub fn set_target_field(&mut self, role: &str, path: &str, name: &str, value: Value) {
        let target = self
            .role_mut(role)
            .targets
            .get_mut(path)
            .unwrap_or_else(|| panic!("no target {path:?} in {role:?}"));
        target.fields.insert(name.to_string(), value);
    }

    /// Sets the `custom` field of a target entry.
    pub fn set_target_custom(&mut self, role: &str, path: &str, custom: Value) {
        self.set_target_field(role, path, "custom", custom);
    }

    /// The paths a target is served under (one per hash with consistent snapshots).
    pub fn target_paths(&self, role: &str, path: &str) -> Vec<String> {
        let Some(target) = self.role(role).targets.get(path) else {
            return Vec::new();
        };
        crate::publish::hash_values(target)
            .into_iter()
            .map(|(_, h)| target_path(path, &h, self.consistent_snapshot))
            .collect()
    }

    // ----- keys and thresholds ------------------------------------------------------

    /// Adds `key` to `role` (root `keys`/`roles`, or the delegator's `delegations`).
    pub fn add_key(&mut self, role: &str, key: SimKey) {
        self.role_mut(role).keys.push(key);
    }

    /// Generates a key of the default type, adds it to `role` and returns it.
    pub fn add_new_key(&mut self, role: &str) -> SimKey {
        let key = SimKey::generate(self.key_type);
        self.add_key(role, key.clone());
        key
    }

    /// Removes the key with `key_id` from `role`; returns whether it was there.
    pub fn remove_key(&mut self, role: &str, key_id: &str) -> bool {
        let keys = &mut self.role_mut(role).keys;
        let before = keys.len();
        keys.retain(|k| k.key_id() != key_id);
        keys.len() != before
    }

    /// Replaces every key of `role` with `n` new keys of `key_type`; returns them.
    pub fn rotate_keys(&mut self, role: &str, n: usize, key_type: KeyType) -> Vec<SimKey> {
        let keys: Vec<SimKey> = (0..n).map(|_| SimKey::generate(key_type)).collect();
        self.role_mut(role).keys = keys.clone();
        keys
    }

    /// Sets the threshold of `role`.
    pub fn set_threshold(&mut self, role: &str, threshold: u64) {
        self.role_mut(role).threshold = threshold;
    }

    // ----- delegations --------------------------------------------------------------

    /// Delegates from `delegator` to a new role with its own keys (appended to the
    /// delegator's `roles`, so it is searched after earlier ones). Returns its keys.
    pub fn add_delegation(&mut self, delegator: &str, spec: DelegatedRoleSpec) -> Vec<SimKey> {
        assert!(
            !self.roles.contains_key(&spec.name),
            "role {:?} already exists",
            spec.name
        );
        let keys: Vec<SimKey> = (0..spec.keys).map(|_| SimKey::generate(spec.key_type)).collect();
        let expires = self.base + TimeDelta::days(365);
        self.role_mut(delegator).delegations.push(Delegation::Role {
            name: spec.name.clone(),
            paths: spec.paths,
            path_hash_prefixes: spec.path_hash_prefixes,
            terminating: spec.terminating,
        });
        self.roles
            .insert(spec.name, Role::new(keys.clone(), spec.threshold, expires));
        keys
    }

    /// Removes delegation `name` from `delegator` and drops the role (it leaves snapshot).
    pub fn remove_delegation(&mut self, delegator: &str, name: &str) {
        self.role_mut(delegator)
            .delegations
            .retain(|d| !matches!(d, Delegation::Role { name: n, .. } if n == name));
        self.roles.remove(name);
    }

    /// Adds TAP 15 succinct hashed bins under `delegator`: `2^bit_length` roles named
    /// `{name_prefix}-{index}` (see [`crate::bins`]), all signed by one new key of the
    /// default type, threshold 1. Every bin is published (so keep `bit_length` small).
    pub fn add_succinct_delegation(&mut self, delegator: &str, bit_length: u32, name_prefix: &str) -> SimKey {
        assert!((1..=32).contains(&bit_length), "bit_length must be 1..=32");
        let key = SimKey::generate(self.key_type);
        let expires = self.base + TimeDelta::days(365);
        for name in bins::all_bin_names(name_prefix, bit_length) {
            self.roles.insert(name, Role::new(vec![key.clone()], 1, expires));
        }
        self.role_mut(delegator).delegations.push(Delegation::Succinct {
            bit_length,
            name_prefix: name_prefix.to_string(),
            keys: vec![key.clone()],
            threshold: 1,
        });
        key
    }

    /// The bin of `delegator`'s succinct delegation that `target_path` belongs to.
    pub fn bin_for(&self, delegator: &str, target_path: &str) -> Option<String> {
        self.role(delegator).delegations.iter().find_map(|d| match d {
            Delegation::Succinct {
                bit_length,
                name_prefix,
                ..
            } => Some(bins::bin_name(target_path, *bit_length, name_prefix)),
            Delegation::Role { .. } => None,
        })
    }

    /// Adds a target to the bin of `delegator`'s succinct delegation it hashes to;
    /// returns the bin name.
    pub fn add_target_to_bin(&mut self, delegator: &str, path: &str, bytes: &[u8]) -> String {
        let bin = self
            .bin_for(delegator, path)
            .unwrap_or_else(|| panic!("{delegator:?} has no succinct delegation"));
        self.add_target(&bin, path, bytes);
        bin
    }
}
