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
}

/// The `signed` part of a targets role: every field but `targets`, and the target entries.
#[derive(Debug, Clone)]
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
                        out.extend_from_slice(b":{");
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
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::keys::{KeyType, PrivateKey, SoftwareSigner};
    use sha2::{Digest as _, Sha256};

    fn entry(path: &str, custom: Option<Value>) -> TargetEntry {
        TargetEntry {
            path: path.into(),
            length: path.len() as u64 * 7,
            sha256: Sha256::digest(path.as_bytes()).into(),
            custom,
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
    fn refuses_duplicates_and_a_targets_field() {
        let fields = json!({"_type": "targets"}).as_object().unwrap().clone();
        assert!(TargetsRole::new(fields.clone(), vec![entry("a", None), entry("a", None)]).is_err());
        let with_targets = json!({"targets": {}}).as_object().unwrap().clone();
        assert!(TargetsRole::new(with_targets, vec![]).is_err());
        assert_eq!(TargetsRole::new(fields, vec![entry("a", None)]).unwrap().len(), 1);
    }
}
