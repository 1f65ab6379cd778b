//! Building each role's `signed` value and publishing new versions.

use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256, Sha512};

use crate::encode::{metadata_path, target_path};
use crate::envelope::{apply_plan, serialize, sign_all};
use crate::keys::SimKey;
use crate::repo::RepoSim;
use crate::role::{Delegation, Target, TargetHashes};

/// `(algorithm, hex value)` pairs listed for a target.
pub(crate) fn hash_values(target: &Target) -> Vec<(String, String)> {
    let sha256 = || hex::encode(Sha256::digest(&target.bytes));
    let sha512 = || hex::encode(Sha512::digest(&target.bytes));
    match &target.hashes {
        TargetHashes::Sha256 => vec![("sha256".into(), sha256())],
        TargetHashes::Sha512 => vec![("sha512".into(), sha512())],
        TargetHashes::Both => vec![("sha256".into(), sha256()), ("sha512".into(), sha512())],
        TargetHashes::Custom(name) => vec![(name.clone(), sha256())],
        TargetHashes::Listed(extra) => {
            let mut all = vec![("sha256".to_string(), sha256())];
            all.extend(extra.iter().cloned());
            all
        }
    }
}

fn keys_object<'a>(keys: impl IntoIterator<Item = &'a SimKey>) -> Value {
    let mut map = Map::new();
    for key in keys {
        map.insert(key.key_id(), key.public_json());
    }
    Value::Object(map)
}

impl RepoSim {
    /// Publishes every pending change: targets roles, snapshot, root, then timestamp.
    /// A role gets a new version (+1) when its `signed` content or its keys changed, or
    /// when a bump was requested. Root is signed by the previous root's keys and its own.
    pub fn publish(&mut self) {
        let targets_roles: Vec<String> = self
            .roles
            .keys()
            .filter(|n| !matches!(n.as_str(), "root" | "timestamp" | "snapshot"))
            .cloned()
            .collect();
        for name in &targets_roles {
            self.publish_role(name);
        }
        self.publish_role("snapshot");
        self.publish_role("root");
        self.publish_role("timestamp");
    }

    fn publish_role(&mut self, name: &str) {
        let role = self.role(name);
        let key_ids = role.key_ids();
        let mut signed = self.build_signed(name, role.version);
        let changed = match &role.last_signed {
            None => true,
            Some(last) => *last != signed || role.last_key_ids != key_ids || role.force_bump,
        };
        if !changed {
            return;
        }
        let version = if role.last_signed.is_some() {
            role.version + 1
        } else {
            role.version
        };
        if version != role.version {
            signed = self.build_signed(name, version);
        }
        let sigs = if role.reuse_once || role.plan.reuse_previous {
            role.last_sigs.clone()
        } else {
            let signers = match &role.plan.signers {
                Some(keys) => keys.clone(),
                None if name == "root" => {
                    let mut keys = self.prev_root_keys.clone();
                    for k in &role.keys {
                        if !keys.iter().any(|p| p.key_id() == k.key_id()) {
                            keys.push(k.clone());
                        }
                    }
                    keys
                }
                None => self.signing_keys(name),
            };
            apply_plan(&signed, sign_all(&signed, &signers), &role.plan)
        };
        let bytes = serialize(sigs.clone(), &signed);
        let path = metadata_path(name, version, self.consistent_snapshot);
        self.files.insert(path, bytes.clone());
        let consistent = self.consistent_snapshot;
        let mut target_files = Vec::new();
        for (tpath, target) in &self.role(name).targets {
            for (_, h) in hash_values(target) {
                target_files.push((target_path(tpath, &h, consistent), target.bytes.clone()));
            }
        }
        self.files.extend(target_files);
        let role = self.role_mut(name);
        role.version = version;
        role.last_signed = Some(signed);
        role.last_key_ids = key_ids;
        role.last_sigs = sigs;
        role.history.insert(version, bytes);
        role.force_bump = false;
        role.reuse_once = false;
        if name == "root" {
            self.prev_root_keys = self.role("root").keys.clone();
        }
    }

    /// Keys that sign `name` by default: its own, or its succinct delegation's for bins.
    fn signing_keys(&self, name: &str) -> Vec<SimKey> {
        self.role(name).keys.clone()
    }

    fn meta_entry(&self, role: &str, with_hashes: bool) -> Value {
        let r = self.role(role);
        let version = self.pins.get(role).copied().unwrap_or(r.version);
        let mut entry = json!({ "version": version });
        if with_hashes && let Some(bytes) = r.history.get(&version) {
            entry["length"] = json!(bytes.len());
            entry["hashes"] = json!({ "sha256": hex::encode(Sha256::digest(bytes)) });
        }
        entry
    }

    /// The `signed` value of `name` at `version`, from the current state.
    pub(crate) fn build_signed(&self, name: &str, version: u64) -> Value {
        let role = self.role(name);
        let type_ = match name {
            "root" | "timestamp" | "snapshot" => name,
            _ => "targets",
        };
        let mut signed = json!({
            "_type": type_,
            "spec_version": self.spec_version,
            "version": version,
            "expires": role.expires.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        });
        match name {
            "root" => {
                let top: Vec<_> = ["root", "timestamp", "snapshot", "targets"]
                    .iter()
                    .map(|n| (*n, self.role(n)))
                    .collect();
                signed["consistent_snapshot"] = json!(self.consistent_snapshot);
                signed["keys"] = keys_object(top.iter().flat_map(|(_, r)| r.keys.iter()));
                let mut roles = Map::new();
                for (n, r) in &top {
                    let mut entry = r.entry_fields.clone();
                    entry.insert("keyids".into(), json!(r.listed_key_ids()));
                    entry.insert("threshold".into(), json!(r.threshold));
                    roles.insert(n.to_string(), Value::Object(entry));
                }
                signed["roles"] = Value::Object(roles);
            }
            "timestamp" => {
                signed["meta"] = json!({ "snapshot.json": self.meta_entry("snapshot", self.timestamp_meta_hashes) });
            }
            "snapshot" => {
                let mut meta = Map::new();
                for n in self.roles.keys() {
                    if !matches!(n.as_str(), "root" | "timestamp" | "snapshot") {
                        meta.insert(format!("{n}.json"), self.meta_entry(n, self.snapshot_meta_hashes));
                    }
                }
                signed["meta"] = Value::Object(meta);
            }
            _ => {
                let mut targets = Map::new();
                for (path, target) in &role.targets {
                    let mut entry = target.fields.clone();
                    entry.insert("length".into(), json!(target.bytes.len()));
                    let hashes: Map<String, Value> =
                        hash_values(target).into_iter().map(|(a, h)| (a, json!(h))).collect();
                    entry.insert("hashes".into(), Value::Object(hashes));
                    targets.insert(path.clone(), Value::Object(entry));
                }
                signed["targets"] = Value::Object(targets);
                if let Some(delegations) = self.delegations_json(name) {
                    signed["delegations"] = delegations;
                }
            }
        }
        for (k, v) in &role.signed_fields {
            signed[k] = v.clone();
        }
        signed
    }

    fn delegations_json(&self, name: &str) -> Option<Value> {
        let delegations = &self.role(name).delegations;
        if delegations.is_empty() {
            return None;
        }
        let mut keys = Map::new();
        let mut roles = Vec::new();
        let mut succinct = None;
        for d in delegations {
            match d {
                Delegation::Role {
                    name,
                    paths,
                    path_hash_prefixes,
                    terminating,
                } => {
                    let Some(r) = self.roles.get(name) else {
                        continue;
                    };
                    for k in &r.keys {
                        keys.insert(k.key_id(), k.public_json());
                    }
                    let mut entry = r.entry_fields.clone();
                    entry.insert("name".into(), json!(name));
                    entry.insert("keyids".into(), json!(r.listed_key_ids()));
                    entry.insert("threshold".into(), json!(r.threshold));
                    entry.insert("terminating".into(), json!(terminating));
                    if let Some(p) = paths {
                        entry.insert("paths".into(), json!(p));
                    }
                    if let Some(p) = path_hash_prefixes {
                        entry.insert("path_hash_prefixes".into(), json!(p));
                    }
                    roles.push(Value::Object(entry));
                }
                Delegation::Succinct {
                    bit_length,
                    name_prefix,
                    keys: bin_keys,
                    threshold,
                } => {
                    for k in bin_keys {
                        keys.insert(k.key_id(), k.public_json());
                    }
                    succinct = Some(json!({
                        "keyids": bin_keys.iter().map(SimKey::key_id).collect::<Vec<_>>(),
                        "threshold": threshold,
                        "bit_length": bit_length,
                        "name_prefix": name_prefix,
                    }));
                }
            }
        }
        let mut out = json!({ "keys": keys });
        if !roles.is_empty() || succinct.is_none() {
            out["roles"] = json!(roles);
        }
        if let Some(s) = succinct {
            out["succinct_roles"] = s;
        }
        Some(out)
    }
}
