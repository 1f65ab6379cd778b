//! Signing a targets role of many targets without holding it as a `serde_json::Value`.
//!
//! A `Value` costs about 1.4 KB per target entry (a `BTreeMap` node for the entry and another
//! for its `hashes`), so a role of 100,000 targets needs some 150 MB before it is even
//! encoded. [`TargetsRole`] keeps each entry as a path, a length and a sha256 digest (about
//! 90 bytes), writes the canonical JSON it is signed over straight from them, and streams
//! the envelope to a writer. The bytes are exactly those of [`crate::sign::sign_envelope`]
//! over the equivalent `Value` (a test checks it), so either path publishes the same file.

use std::io::Write;

use serde::Serialize;
use serde::ser::SerializeMap as _;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result, RoundError};
use crate::keys::Signer;

/// One target of a [`TargetsRole`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetEntry {
    pub path: String,
    pub length: u64,
    pub sha256: [u8; 32],
    /// The entry's `custom` object, if any.
    pub custom: Option<Value>,
    /// Every other field of the entry, kept as it was (other hash algorithms under
    /// `hashes`, fields of a later spec): a published entry is republished byte for byte.
    /// `None` for the usual entry, so it costs one pointer.
    pub extra: Option<Box<Map<String, Value>>>,
}

/// The sha256 an entry lists, when it is 64 lowercase hex digits: what is written back
/// from the digest is then exactly what was read.
fn listed_sha256(entry: &Value) -> Option<[u8; 32]> {
    let hex_digest = entry.get("hashes")?.get("sha256")?.as_str()?;
    if hex_digest.len() != 64 || !hex_digest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut digest).ok()?;
    Some(digest)
}

impl TargetEntry {
    /// The entry a file of `length` bytes and this `sha256` gets, with no other field.
    pub fn new(path: String, length: u64, sha256: [u8; 32]) -> TargetEntry {
        TargetEntry {
            path,
            length,
            sha256,
            custom: None,
            extra: None,
        }
    }

    /// The entry of `path` in a `targets` map, when it has a `length` and a sha256 of 64
    /// lowercase hex digits (what the compact form can write back exactly); the value back
    /// when not.
    pub fn from_value(path: String, entry: Value) -> std::result::Result<TargetEntry, Value> {
        let (Some(length), Some(sha256)) = (entry.get("length").and_then(Value::as_u64), listed_sha256(&entry)) else {
            return Err(entry);
        };
        let Value::Object(mut fields) = entry else {
            return Err(entry);
        };
        fields.remove("length");
        let custom = fields.remove("custom");
        if let Some(Value::Object(hashes)) = fields.get_mut("hashes") {
            hashes.remove("sha256");
            if hashes.is_empty() {
                fields.remove("hashes");
            }
        }
        Ok(TargetEntry {
            path,
            length,
            sha256,
            custom,
            extra: (!fields.is_empty()).then(|| Box::new(fields)),
        })
    }

    /// Whether [`TargetEntry::from_value`] takes `entry`.
    fn fits(entry: &Value) -> bool {
        entry.get("length").and_then(Value::as_u64).is_some() && listed_sha256(entry).is_some()
    }

    /// The entry as a JSON object (what it is signed as).
    pub fn to_value(&self) -> Value {
        let mut fields = self.extra.as_deref().cloned().unwrap_or_default();
        let mut hashes = match fields.remove("hashes") {
            Some(Value::Object(hashes)) => hashes,
            _ => Map::new(),
        };
        hashes.insert("sha256".into(), Value::String(hex::encode(self.sha256)));
        fields.insert("hashes".into(), Value::Object(hashes));
        fields.insert("length".into(), json!(self.length));
        if let Some(custom) = &self.custom {
            fields.insert("custom".into(), custom.clone());
        }
        Value::Object(fields)
    }
}

/// The `signed` part of a targets role: every field but `targets`, and the target entries.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetsRole {
    fields: Map<String, Value>,
    targets: Vec<TargetEntry>,
}

impl TargetsRole {
    /// `fields` is the rest of `signed` (`_type`, `spec_version`, `version`, `expires`,
    /// `delegations`...). Refuses a `targets` field and two entries for one path.
    pub fn new(fields: Map<String, Value>, mut targets: Vec<TargetEntry>) -> Result<TargetsRole> {
        if fields.contains_key("targets") {
            return Err(RoundError::TargetsInFields.into());
        }
        targets.sort_unstable_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        if let Some(pair) = targets.windows(2).find(|w| w[0].path == w[1].path) {
            return Err(RoundError::DuplicateTarget {
                path: pair[0].path.clone(),
            }
            .into());
        }
        Ok(TargetsRole { fields, targets })
    }

    /// A targets role's `signed` value in the compact form, when every entry fits it (see
    /// [`TargetEntry::from_value`]); the value back, untouched, when one does not or when it
    /// has no `targets` object.
    pub fn from_value(signed: Value) -> std::result::Result<TargetsRole, Value> {
        let fits = signed
            .get("targets")
            .and_then(Value::as_object)
            .is_some_and(|t| t.values().all(TargetEntry::fits));
        let Value::Object(mut fields) = signed else {
            return Err(signed);
        };
        if !fits {
            return Err(Value::Object(fields));
        }
        let Some(Value::Object(map)) = fields.remove("targets") else {
            return Err(Value::Object(fields));
        };
        let mut targets = Vec::with_capacity(map.len());
        for (path, entry) in map {
            // Checked above: every entry converts.
            if let Ok(entry) = TargetEntry::from_value(path, entry) {
                targets.push(entry);
            }
        }
        // The map's keys are distinct and sorted by bytes already.
        Ok(TargetsRole { fields, targets })
    }

    /// A field of `signed` other than `targets`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }

    /// Every field of `signed` other than `targets`.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// Sets a field other than `targets`.
    pub fn set(&mut self, key: &str, value: Value) {
        if key != "targets" {
            self.fields.insert(key.to_string(), value);
        }
    }

    /// Removes a field other than `targets`.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.fields.remove(key)
    }

    /// The entries, sorted by path (as bytes).
    pub fn targets(&self) -> &[TargetEntry] {
        &self.targets
    }

    /// The entry of `path`.
    pub fn target(&self, path: &str) -> Option<&TargetEntry> {
        self.targets
            .binary_search_by(|t| t.path.as_bytes().cmp(path.as_bytes()))
            .ok()
            .map(|i| &self.targets[i])
    }

    /// The whole `signed` value. It costs what the compact form saves: only for the
    /// places that must have a value (the request summary's diff of a small role).
    pub fn to_value(&self) -> Value {
        let mut fields = self.fields.clone();
        let targets: Map<String, Value> = self.targets.iter().map(|t| (t.path.clone(), t.to_value())).collect();
        fields.insert("targets".into(), Value::Object(targets));
        Value::Object(fields)
    }

    /// How many targets it lists.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The fields in canonical order, `targets` (as `None`) in its place.
    fn ordered(&self) -> Vec<(&str, Option<&Value>)> {
        let mut keys: Vec<(&str, Option<&Value>)> = self.fields.iter().map(|(k, v)| (k.as_str(), Some(v))).collect();
        keys.push(("targets", None));
        keys.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        keys
    }

    /// The canonical JSON of `signed`: what signatures are over.
    pub fn canonical(&self) -> Result<Vec<u8>> {
        use trustroot_core::canonical::{write_string, write_value};
        let fail = |e: trustroot_core::canonical::CanonicalError| Error::canonical("targets")(e);
        let per_entry: usize = 120;
        let mut out = Vec::with_capacity(self.targets.iter().map(|t| t.path.len() + per_entry).sum::<usize>() + 4096);
        out.push(b'{');
        for (i, (key, value)) in self.ordered().into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_string(key, &mut out);
            out.push(b':');
            match value {
                Some(value) => write_value(value, &mut out).map_err(fail)?,
                None => {
                    out.push(b'{');
                    for (j, entry) in self.targets.iter().enumerate() {
                        if j > 0 {
                            out.push(b',');
                        }
                        write_string(&entry.path, &mut out);
                        out.push(b':');
                        if entry.extra.is_some() {
                            write_value(&entry.to_value(), &mut out).map_err(fail)?;
                            continue;
                        }
                        out.push(b'{');
                        if let Some(custom) = &entry.custom {
                            out.extend_from_slice(b"\"custom\":");
                            write_value(custom, &mut out).map_err(fail)?;
                            out.push(b',');
                        }
                        out.extend_from_slice(b"\"hashes\":{\"sha256\":\"");
                        out.extend_from_slice(hex::encode(entry.sha256).as_bytes());
                        out.extend_from_slice(b"\"},\"length\":");
                        out.extend_from_slice(entry.length.to_string().as_bytes());
                        out.push(b'}');
                    }
                    out.push(b'}');
                }
            }
        }
        out.push(b'}');
        Ok(out)
    }

    /// Signs with `signer` under each of `keyids` and writes the envelope to `out`, as
    /// [`crate::sign::sign_envelope`] would write it.
    pub fn write_signed(&self, keyids: &[String], signer: &dyn Signer, out: impl Write) -> Result<()> {
        let canonical = self.canonical()?;
        let mut signatures = Vec::new();
        for keyid in keyids {
            let sig = signer.sign(&canonical)?;
            signatures.push(json!({"keyid": keyid, "sig": hex::encode(sig)}));
        }
        drop(canonical);
        crate::sign::write_envelope("targets", &signatures, self, out)
    }
}

/// A role's `signed` content as a round holds it: a targets role in the compact form when
/// it fits ([`TargetsRole::from_value`]), anything else (root; a targets role with an entry
/// the compact form cannot write back exactly) as the value it is. Either way it is signed
/// and written as the same bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum Signed {
    Targets(TargetsRole),
    Other(Value),
}

impl Signed {
    /// `signed` in the compact form when it is a targets role that fits.
    pub fn from_value(signed: Value) -> Signed {
        if signed.get("_type").and_then(Value::as_str) != Some("targets") {
            return Signed::Other(signed);
        }
        match TargetsRole::from_value(signed) {
            Ok(role) => Signed::Targets(role),
            Err(value) => Signed::Other(value),
        }
    }

    /// A top-level field; `targets` only from a value (the compact form has no `Value` of it).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Signed::Targets(role) => role.get(key),
            Signed::Other(value) => value.get(key),
        }
    }

    pub fn version(&self) -> Option<u64> {
        self.get("version").and_then(Value::as_u64)
    }

    /// Sets a top-level field other than `targets`.
    pub fn set(&mut self, key: &str, field: Value) {
        match self {
            Signed::Targets(role) => role.set(key, field),
            Signed::Other(Value::Object(map)) if key != "targets" => {
                map.insert(key.to_string(), field);
            }
            Signed::Other(_) => {}
        }
    }

    /// Removes a top-level field other than `targets`.
    pub fn remove(&mut self, key: &str) {
        match self {
            Signed::Targets(role) => {
                role.remove(key);
            }
            Signed::Other(Value::Object(map)) if key != "targets" => {
                map.remove(key);
            }
            Signed::Other(_) => {}
        }
    }

    /// The canonical JSON signatures are over.
    pub fn canonical(&self, role: &str) -> Result<Vec<u8>> {
        match self {
            Signed::Targets(targets) => targets.canonical(),
            Signed::Other(value) => {
                trustroot_core::canonical::to_canonical_bytes(value).map_err(Error::canonical(role))
            }
        }
    }

    /// The metadata file of `signed` with `signatures`, as [`crate::repo::to_metadata_json`]
    /// writes `{"signatures": ..., "signed": ...}`, streamed from the compact form.
    pub fn metadata_json(&self, role: &str, signatures: &[Value]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        match self {
            Signed::Targets(targets) => crate::sign::write_envelope(role, signatures, targets, &mut out)?,
            Signed::Other(value) => crate::sign::write_envelope(role, signatures, value, &mut out)?,
        }
        Ok(out)
    }

    /// The whole value: what the compact form saves, spent. Only for a small role or
    /// where a whole value is the point (the request's line-by-line summary).
    pub fn to_value(&self) -> Value {
        match self {
            Signed::Targets(role) => role.to_value(),
            Signed::Other(value) => value.clone(),
        }
    }

    /// Every field but `targets`, with an empty `targets` object when it has one: enough
    /// to read a targets role's version and delegations without its entries.
    pub fn without_targets(&self) -> Value {
        let mut fields = match self {
            Signed::Targets(role) => role.fields().clone(),
            Signed::Other(Value::Object(map)) => map
                .iter()
                .filter(|(k, _)| k.as_str() != "targets")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Signed::Other(other) => return other.clone(),
        };
        if matches!(self, Signed::Targets(_)) || self.get("targets").is_some() {
            fields.insert("targets".into(), Value::Object(Map::new()));
        }
        Value::Object(fields)
    }

    /// The targets whose path is `wanted`: path, length and sha256 (hex, as listed), for a
    /// targets role. An entry without a length or a sha256 string is given with 0 or "".
    pub fn listed_targets(&self, wanted: impl Fn(&str) -> bool) -> Vec<(&str, u64, String)> {
        match self {
            Signed::Targets(role) => role
                .targets()
                .iter()
                .filter(|t| wanted(&t.path))
                .map(|t| (t.path.as_str(), t.length, hex::encode(t.sha256)))
                .collect(),
            Signed::Other(value) => value
                .get("targets")
                .and_then(Value::as_object)
                .map(|targets| {
                    targets
                        .iter()
                        .filter(|(path, _)| wanted(path))
                        .map(|(path, entry)| {
                            let length = entry.get("length").and_then(Value::as_u64).unwrap_or(0);
                            let sha256 = entry
                                .get("hashes")
                                .and_then(|h| h.get("sha256"))
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string();
                            (path.as_str(), length, sha256)
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// Reads the `signed` object of a metadata file straight into the compact form: each
/// target entry is parsed on its own and converted at once, so a role of 100,000 targets is
/// never held as one value. Duplicate object keys are refused at any depth, as
/// [`trustroot_core::Envelope::parse`] refuses them. `None` when the bytes are not a
/// targets role the compact form holds (the caller parses them as a value then, and reports
/// what is wrong with them).
pub fn parse_compact(bytes: &[u8]) -> Option<TargetsRole> {
    let envelope: CompactEnvelope = serde_json::from_slice(bytes).ok()?;
    if envelope.signed.fields.get("_type").and_then(Value::as_str) != Some("targets") {
        return None;
    }
    let mut fields = envelope.signed.fields;
    fields.remove("targets");
    TargetsRole::new(fields, envelope.signed.targets?).ok()
}

#[derive(serde::Deserialize)]
struct CompactEnvelope {
    #[allow(dead_code)] // Only its shape is checked: an array of objects.
    signatures: Vec<Strict>,
    signed: CompactSigned,
}

/// `signed`: every field strictly parsed, `targets` entry by entry.
struct CompactSigned {
    fields: Map<String, Value>,
    targets: Option<Vec<TargetEntry>>,
}

impl<'de> serde::Deserialize<'de> for CompactSigned {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = CompactSigned;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a signed object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<CompactSigned, A::Error> {
                let mut fields = Map::new();
                let mut targets = None;
                while let Some(key) = map.next_key::<String>()? {
                    if fields.contains_key(&key) || (key == "targets" && targets.is_some()) {
                        return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
                    }
                    if key == "targets" {
                        targets = Some(map.next_value::<CompactTargets>()?.0);
                        // A marker, so a second `targets` is a duplicate and the role's
                        // field order is kept; removed by `parse_compact`.
                        fields.insert(key, Value::Null);
                    } else {
                        let value = map.next_value::<Strict>()?.0;
                        fields.insert(key, value);
                    }
                }
                Ok(CompactSigned {
                    fields,
                    targets: targets.flatten(),
                })
            }
        }
        d.deserialize_map(V)
    }
}

/// A `targets` map, each entry converted as it is read; `None` when one does not fit.
struct CompactTargets(Option<Vec<TargetEntry>>);

impl<'de> serde::Deserialize<'de> for CompactTargets {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = CompactTargets;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a targets object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<CompactTargets, A::Error> {
                let mut entries = Vec::new();
                let mut fits = true;
                while let Some(path) = map.next_key::<String>()? {
                    let entry = map.next_value::<Strict>()?.0;
                    // Keep reading after a misfit, so the JSON is still checked whole.
                    if fits {
                        match TargetEntry::from_value(path, entry) {
                            Ok(entry) => entries.push(entry),
                            Err(_) => fits = false,
                        }
                    }
                }
                Ok(CompactTargets(fits.then_some(entries)))
            }
        }
        d.deserialize_map(V)
    }
}

/// A JSON value read with duplicate object keys refused, at any depth.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Strict;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<Strict, E> {
                Ok(Strict(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<Strict, E> {
                Ok(Strict(Value::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<Strict, E> {
                Ok(Strict(Value::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<Strict, E> {
                Ok(Strict(
                    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
                ))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Strict, E> {
                Ok(Strict(Value::String(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Strict, E> {
                Ok(Strict(Value::String(v)))
            }
            fn visit_unit<E>(self) -> std::result::Result<Strict, E> {
                Ok(Strict(Value::Null))
            }
            fn visit_none<E>(self) -> std::result::Result<Strict, E> {
                Ok(Strict(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Strict, A::Error> {
                let mut items = Vec::new();
                while let Some(Strict(item)) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Strict(Value::Array(items)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Strict, A::Error> {
                let mut out = Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
                    }
                    let Strict(value) = map.next_value()?;
                    out.insert(key, value);
                }
                Ok(Strict(Value::Object(out)))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Signed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Signed::Targets(role) => role.serialize(s),
            Signed::Other(value) => value.serialize(s),
        }
    }
}

impl Serialize for TargetsRole {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let ordered = self.ordered();
        let mut map = s.serialize_map(Some(ordered.len()))?;
        for (key, value) in ordered {
            match value {
                Some(value) => map.serialize_entry(key, value)?,
                None => map.serialize_entry(key, &Entries(&self.targets))?,
            }
        }
        map.end()
    }
}

struct Entries<'a>(&'a [TargetEntry]);

impl Serialize for Entries<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for entry in self.0 {
            map.serialize_entry(&entry.path, &Entry(entry))?;
        }
        map.end()
    }
}

struct Entry<'a>(&'a TargetEntry);

impl Serialize for Entry<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.0.extra.is_some() {
            return self.0.to_value().serialize(s);
        }
        let mut map = s.serialize_map(None)?;
        if let Some(custom) = &self.0.custom {
            map.serialize_entry("custom", custom)?;
        }
        map.serialize_entry("hashes", &Sha256Only(&self.0.sha256))?;
        map.serialize_entry("length", &self.0.length)?;
        map.end()
    }
}

struct Sha256Only<'a>(&'a [u8; 32]);

impl Serialize for Sha256Only<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("sha256", &hex::encode(self.0))?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use crate::keys::{KeyType, PrivateKey, SoftwareSigner};
    use sha2::{Digest as _, Sha256};

    fn entry(path: &str, custom: Option<Value>) -> TargetEntry {
        TargetEntry {
            custom,
            ..TargetEntry::new(
                path.into(),
                path.len() as u64 * 7,
                Sha256::digest(path.as_bytes()).into(),
            )
        }
    }

    #[test]
    fn writes_exactly_what_sign_envelope_writes_for_the_same_value() {
        let signer = SoftwareSigner::new(PrivateKey::generate(KeyType::Ed25519), "test");
        let keyid = signer.public_key().computed_key_id().into_string();
        let fields = json!({
            "_type": "targets",
            "spec_version": "1.0.31",
            "version": 3,
            "expires": "2030-01-01T00:00:00Z",
            "delegations": {"keys": {}, "roles": []},
            "x-custom": {"b": [1, "\"q\\"], "a": null},
        });
        let targets = vec![
            entry("z/last.json", None),
            entry(
                "a \"quoted\" \\ name\n.txt",
                Some(json!({"sigstore": {"usage": "Fulcio", "status": "Active"}})),
            ),
            entry("\u{e9}t\u{e9}.bin", None),
            entry("Z.bin", None),
        ];
        let role = TargetsRole::new(fields.as_object().unwrap().clone(), targets.clone()).unwrap();
        let mut value = fields.clone();
        let mut map = Map::new();
        for t in &targets {
            let mut e = json!({"length": t.length, "hashes": {"sha256": hex::encode(t.sha256)}});
            if let Some(custom) = &t.custom {
                e["custom"] = custom.clone();
            }
            map.insert(t.path.clone(), e);
        }
        value["targets"] = Value::Object(map);
        assert_eq!(
            role.canonical().unwrap(),
            trustroot_core::canonical::to_canonical_bytes(&value).unwrap()
        );
        let mut streamed = Vec::new();
        role.write_signed(std::slice::from_ref(&keyid), &signer, &mut streamed)
            .unwrap();
        let expected = crate::sign::sign_envelope("targets", &value, &[keyid], &signer).unwrap();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }

    #[test]
    fn a_published_role_with_unknown_and_custom_fields_is_written_back_to_the_byte() {
        let signed = json!({
            "_type": "targets",
            "spec_version": "1.0.31",
            "version": 7,
            "expires": "2030-01-01T00:00:00Z",
            "x-unknown": {"z": [1, 2], "a": "\u{1}"},
            "targets": {
                "plain.bin": {"length": 3, "hashes": {"sha256": "ab".repeat(32)}},
                "custom.json": {"length": 4, "hashes": {"sha256": "cd".repeat(32)}, "custom": {"sigstore": {"usage": "Fulcio"}}},
                "more.json": {"length": 5, "hashes": {"sha256": "ef".repeat(32), "sha512": "01".repeat(64)}, "x-entry": [null]},
            },
        });
        let Signed::Targets(role) = Signed::from_value(signed.clone()) else {
            panic!("every entry fits the compact form")
        };
        assert_eq!(role.len(), 3);
        assert!(role.target("plain.bin").unwrap().extra.is_none());
        assert!(role.target("more.json").unwrap().extra.is_some());
        assert_eq!(role.to_value(), signed);
        assert_eq!(
            role.canonical().unwrap(),
            trustroot_core::canonical::to_canonical_bytes(&signed).unwrap()
        );
        let compact = Signed::Targets(role);
        assert_eq!(
            compact.metadata_json("targets", &[]).unwrap(),
            crate::repo::to_metadata_json(&json!({"signatures": [], "signed": signed}))
        );
    }

    #[test]
    fn an_entry_the_compact_form_cannot_write_back_keeps_the_role_a_value() {
        for entry in [
            json!({"length": 3, "hashes": {"sha512": "01".repeat(64)}}),
            json!({"length": 3, "hashes": {"sha256": "AB".repeat(32)}}),
            json!({"length": -1, "hashes": {"sha256": "ab".repeat(32)}}),
            json!({"hashes": {"sha256": "ab".repeat(32)}}),
        ] {
            let signed = json!({"_type": "targets", "targets": {"a": entry}});
            assert_eq!(Signed::from_value(signed.clone()), Signed::Other(signed));
        }
        let root = json!({"_type": "root", "targets": {}});
        assert_eq!(Signed::from_value(root.clone()), Signed::Other(root));
    }

    #[test]
    fn without_targets_keeps_every_other_field_and_an_empty_map() {
        let signed = json!({"_type": "targets", "version": 2, "delegations": {"keys": {}, "roles": []},
            "targets": {"a": {"length": 1, "hashes": {"sha256": "ab".repeat(32)}}}});
        let expected =
            json!({"_type": "targets", "version": 2, "delegations": {"keys": {}, "roles": []}, "targets": {}});
        assert_eq!(Signed::from_value(signed.clone()).without_targets(), expected);
        assert_eq!(Signed::Other(signed).without_targets(), expected);
    }

    #[test]
    fn a_staged_file_is_read_into_the_compact_form_as_its_value_would_be() {
        let signed = json!({
            "_type": "targets",
            "version": 2,
            "x-unknown": [1, {"a": null}],
            "targets": {
                "b.bin": {"length": 3, "hashes": {"sha256": "ab".repeat(32)}, "custom": {"k": "v"}},
                "a.bin": {"length": 4, "hashes": {"sha256": "cd".repeat(32), "sha512": "01".repeat(64)}},
            },
        });
        let bytes = crate::repo::to_metadata_json(&json!({"signatures": [], "signed": signed}));
        let role = parse_compact(&bytes).unwrap();
        assert_eq!(Signed::Targets(role), Signed::from_value(signed));
        // Not a targets role, or an entry the compact form cannot hold: left to the value parse.
        let root = crate::repo::to_metadata_json(&json!({"signatures": [], "signed": {"_type": "root"}}));
        assert!(parse_compact(&root).is_none());
        let odd = br#"{"signatures": [], "signed": {"_type": "targets", "targets": {"a": {"length": 1}}}}"#;
        assert!(parse_compact(odd).is_none());
    }

    #[test]
    fn duplicate_keys_in_a_staged_file_are_refused_at_any_depth() {
        // A parser that keeps the first of two keys would read other bytes than one that
        // keeps the last: a staged file with a repeated key is never read as a role.
        let sha = "ab".repeat(32);
        for text in [
            r#"{"signatures": [], "signed": {"_type": "targets", "_type": "targets", "targets": {}}}"#.to_string(),
            r#"{"signatures": [], "signed": {"_type": "targets", "targets": {}, "targets": {}}}"#.to_string(),
            format!(
                r#"{{"signatures": [], "signed": {{"_type": "targets", "targets": {{"a": {{"length": 1, "length": 2, "hashes": {{"sha256": "{sha}"}}}}}}}}}}"#
            ),
            format!(
                r#"{{"signatures": [], "signed": {{"_type": "targets", "targets": {{"a": {{"length": 1, "hashes": {{"sha256": "{sha}"}}}}, "a": {{"length": 1, "hashes": {{"sha256": "{sha}"}}}}}}}}}}"#
            ),
            r#"{"signatures": [], "signed": {"_type": "targets", "x": {"k": 1, "k": 2}, "targets": {}}}"#.to_string(),
        ] {
            assert!(parse_compact(text.as_bytes()).is_none(), "{text}");
            assert!(trustroot_core::Envelope::parse("targets", text.as_bytes(), &Default::default()).is_err());
        }
    }

    #[test]
    fn refuses_duplicates_and_a_targets_field() {
        let fields = json!({"_type": "targets"}).as_object().unwrap().clone();
        assert!(TargetsRole::new(fields.clone(), vec![entry("a", None), entry("a", None)]).is_err());
        let with_targets = json!({"targets": {}}).as_object().unwrap().clone();
        assert!(TargetsRole::new(with_targets, vec![]).is_err());
        assert_eq!(TargetsRole::new(fields, vec![entry("a", None)]).unwrap().len(), 1);
    }
}
