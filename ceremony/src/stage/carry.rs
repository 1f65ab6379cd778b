//! Carrying a published version over into the next one (rules C1–C5 of issue 20).
//!
//! A repository whose published metadata another tool wrote (tuf-on-ci, python-tuf) holds
//! fields and orders trustroot does not model. Rebuilding each `signed` body from the
//! policy alone would change them, so every `ceremony start` would stage a spurious new
//! version and every keyholder would review a diff nobody asked for. Instead:
//!
//! * C1: a new version starts from the published `signed` and overwrites only what the
//!   policy models (key IDs, thresholds, keys, paths, `terminating`, the period fields);
//! * C2: `spec_version` stays as published when clients accept it; new roles get
//!   [`SPEC_VERSION`];
//! * C3: a `keyids` list keeps its published order, a key that joins is appended (sorted);
//!   delegation entries keep their published order, new ones are appended by name;
//! * C4: a key keeps the ID its delegator's published metadata lists it under when the key
//!   object is unchanged (some tools hash other bytes than the key object), else the
//!   computed ID;
//! * C5: unknown fields are kept at every level: the top level, root's `roles.*` entries,
//!   key objects, target entries, `delegations` and its entries (matched by name).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use trustroot_core::Key;

use super::SPEC_VERSION;
use crate::error::{Error, PolicyProblem, Result};
use crate::keys;
use crate::policy::ResolvedKeys;

/// The field tuf-on-ci names a key's holder with.
pub const KEYOWNER_FIELD: &str = "x-tuf-on-ci-keyowner";

/// The fields of a delegation entry the policy decides; every other field is carried.
const DELEGATION_FIELDS_FROM_POLICY: [&str; 6] = [
    "name",
    "keyids",
    "threshold",
    "terminating",
    "paths",
    "path_hash_prefixes",
];

/// The top level of the next version of a role of `type_`: the published `signed` (every
/// field carried, C1/C5) without `version` and `expires`, with `_type` set and the
/// published `spec_version` kept when clients accept it (C2). A role never published
/// starts empty, with [`SPEC_VERSION`].
pub fn top_level(published: Option<&Value>, type_: &str) -> Map<String, Value> {
    let mut body = published.and_then(Value::as_object).cloned().unwrap_or_default();
    body.remove("version");
    body.remove("expires");
    body.insert("_type".into(), Value::String(type_.to_string()));
    let spec = body
        .get("spec_version")
        .and_then(Value::as_str)
        .filter(|s| trustroot_core::metadata::supported_spec_version(s))
        .map_or_else(|| SPEC_VERSION.to_string(), str::to_string);
    body.insert("spec_version".into(), Value::String(spec));
    body
}

/// The keys one delegator (root, or a targets role for its `delegations`) lists: what its
/// published version lists, and the policy's keys by name.
pub struct DelegatorKeys<'a> {
    published: Vec<(&'a str, &'a Value, Option<Key>)>,
    resolved: &'a ResolvedKeys,
    /// The key objects the next version lists, by key ID.
    pub listed: Map<String, Value>,
    /// What [`DelegatorKeys::carried`] gave each key already added (by its computed ID):
    /// one key signs for many delegated roles and bins, and matching it decodes keys.
    carried: BTreeMap<String, (String, Value)>,
}

impl<'a> DelegatorKeys<'a> {
    /// `published`: the delegator's published key map (`keys`, or `delegations.keys`).
    pub fn new(published: Option<&'a Value>, resolved: &'a ResolvedKeys) -> DelegatorKeys<'a> {
        let published = published
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(id, v)| (id.as_str(), v, serde_json::from_value::<Key>(v.clone()).ok()))
                    .collect()
            })
            .unwrap_or_default();
        DelegatorKeys {
            published,
            resolved,
            listed: Map::new(),
            carried: BTreeMap::new(),
        }
    }

    /// The ID the next version lists policy key `name` under, after adding its object to
    /// [`DelegatorKeys::listed`].
    pub fn add(&mut self, name: &str) -> Result<String> {
        let key = self
            .resolved
            .by_name
            .get(name)
            .ok_or_else(|| Error::policy(format!("keys.{name}"), PolicyProblem::NotDefined))?
            .clone();
        self.add_key(key)
    }

    /// The ID the next version lists the online key under, after adding it.
    pub fn add_online(&mut self) -> Result<String> {
        self.add_key(self.resolved.online.clone())
    }

    fn add_key(&mut self, key: Key) -> Result<String> {
        let computed = key.computed_key_id().into_string();
        let (id, object) = match self.carried.get(&computed) {
            Some(done) => done.clone(),
            None => {
                let done = self.carried(key)?;
                self.carried.insert(computed, done.clone());
                done
            }
        };
        self.listed.insert(id.clone(), object);
        Ok(id)
    }

    /// C4/C5 for one key: the published object of the same key material, with the policy's
    /// type, scheme and fields over it and the policy's holder (or none); under the
    /// published ID when that leaves it unchanged, else under the computed ID.
    fn carried(&self, key: Key) -> Result<(String, Value)> {
        let same = self
            .published
            .iter()
            .find(|(_, _, published)| published.as_ref().is_some_and(|p| keys::same_key(p, &key)));
        let Some((published_id, published_object, _)) = same else {
            let id = key.computed_key_id().into_string();
            return Ok((id, serde_json::to_value(&key).map_err(Error::encode("a key"))?));
        };
        let mut object = published_object.as_object().cloned().unwrap_or_default();
        if !key.unknown.contains_key(KEYOWNER_FIELD) {
            // The policy names no holder: the published one does not stay by default.
            object.remove(KEYOWNER_FIELD);
        }
        object.insert("keytype".into(), Value::String(key.keytype.clone()));
        object.insert("scheme".into(), Value::String(key.scheme.clone()));
        for (field, value) in &key.unknown {
            object.insert(field.clone(), value.clone());
        }
        let object = Value::Object(object);
        if &object == *published_object {
            return Ok((published_id.to_string(), object));
        }
        let merged: Key = serde_json::from_value(object.clone()).map_err(Error::encode("a key"))?;
        Ok((merged.computed_key_id().into_string(), object))
    }

    /// The policy's name of a key this delegator's published version lists.
    fn published_name(&self, keyid: &str) -> Option<String> {
        let (_, _, key) = self.published.iter().find(|(id, _, _)| *id == keyid)?;
        let key = key.as_ref()?;
        self.resolved
            .by_name
            .iter()
            .find(|(_, k)| keys::same_key(k, key))
            .map(|(name, _)| name.clone())
    }

    /// C3: the `keyids` of a role entry whose keys are `wanted` (policy name and ID): the
    /// keys the published entry lists keep their places (a key whose ID changed, say with
    /// its holder, keeps its place too), the others follow sorted by ID.
    pub fn ordered(&self, published_entry: Option<&Value>, wanted: &[(String, String)]) -> Vec<String> {
        let mut ids: Vec<String> = Vec::with_capacity(wanted.len());
        let published_ids = published_entry
            .and_then(|e| e.get("keyids"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        for published_id in published_ids {
            let same_id = wanted.iter().find(|(_, id)| id == published_id);
            let same_name = || {
                let name = self.published_name(published_id)?;
                wanted.iter().find(|(n, _)| *n == name)
            };
            if let Some((_, id)) = same_id.or_else(same_name)
                && !ids.contains(id)
            {
                ids.push(id.clone());
            }
        }
        let mut rest: Vec<String> = wanted
            .iter()
            .map(|(_, id)| id.clone())
            .filter(|id| !ids.contains(id))
            .collect();
        rest.sort();
        rest.dedup();
        ids.extend(rest);
        ids
    }
}

/// A role entry (root's `roles.*`, a delegation entry) with its published fields carried
/// and the policy's over them.
pub fn entry(published: Option<&Value>, policy_fields: Map<String, Value>) -> Value {
    let mut entry = published.and_then(Value::as_object).cloned().unwrap_or_default();
    entry.extend(policy_fields);
    Value::Object(entry)
}

/// The `delegations` object of the next version: the published one's other fields, the
/// keys listed, and the entries (each built from the policy with its published entry of
/// the same name, see [`entry`]) in the published order, new ones after it by name.
pub fn delegations(published: Option<&Value>, keys: Map<String, Value>, wanted: BTreeMap<String, Value>) -> Value {
    let mut delegations = published.and_then(Value::as_object).cloned().unwrap_or_default();
    let published_roles: Vec<&Value> = delegations
        .get("roles")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let mut wanted = wanted;
    let mut roles = Vec::with_capacity(wanted.len());
    for published_entry in published_roles {
        let Some(name) = published_entry.get("name").and_then(Value::as_str) else {
            continue;
        };
        if let Some(entry) = wanted.remove(name) {
            roles.push(entry);
        }
    }
    roles.extend(wanted.into_values());
    delegations.insert("keys".into(), Value::Object(keys));
    delegations.insert("roles".into(), Value::Array(roles));
    Value::Object(delegations)
}

/// The published delegation entries of a `delegations` object, by name (looked up once
/// per role: a role may delegate to 4,096 bins).
pub fn delegation_index(delegations: Option<&Value>) -> BTreeMap<&str, &Value> {
    delegations
        .and_then(|d| d.get("roles"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e.get("name")?.as_str()?, e)))
        .collect()
}

/// The fields of a delegation entry the policy decides, with the published entry's other
/// fields carried.
pub fn delegation_entry(published: Option<&Value>, policy_fields: Map<String, Value>) -> Value {
    let mut entry = published.and_then(Value::as_object).cloned().unwrap_or_default();
    entry.retain(|k, _| !DELEGATION_FIELDS_FROM_POLICY.contains(&k.as_str()));
    entry.extend(policy_fields);
    Value::Object(entry)
}
