//! The push manifest: what trustroot last put under the prefix (size, sha256 and the
//! store's ETag of every object) and what it stopped serving when. It sits beside the
//! prefix, never under it. A re-run trusts it, so that a push with nothing new makes two
//! requests; `--audit` checks it against a listing. Anyone who can write the bucket can
//! write it too, so it is parsed as hostile input: bounded, every key and hash checked.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::layout;

/// The format written; a reader refuses any other.
pub const FORMAT: u32 = 1;

/// The largest manifest read (about 100 bytes an object: millions of objects).
pub const MAX_MANIFEST: u64 = 512 * 1024 * 1024;

/// Where a push got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Some phases are done; `timestamp.json` may still be the previous one.
    Pushing,
    /// Everything up to `timestamp.json` is up.
    Complete,
}

/// One object trustroot put under the prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Object {
    pub size: u64,
    pub sha256: String,
    /// As the store returned it on upload (absent where the store gives none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub content_type: String,
    pub cache_control: String,
}

/// An object no longer in the local tree, kept for clients mid-update until the grace
/// period after `superseded_at` has passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Superseded {
    pub size: u64,
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub superseded_at: DateTime<Utc>,
}

/// The manifest object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    pub tool: String,
    pub destination: String,
    pub generation: u64,
    pub state: State,
    pub pushed_at: DateTime<Utc>,
    /// Served objects, by key under the prefix.
    pub objects: BTreeMap<String, Object>,
    /// Objects no longer in the tree, still served for the grace period.
    #[serde(default)]
    pub superseded: BTreeMap<String, Superseded>,
}

impl Manifest {
    /// An empty manifest for a first push.
    pub fn new(destination: &str, now: DateTime<Utc>) -> Manifest {
        Manifest {
            format: FORMAT,
            tool: concat!("trustroot ", env!("CARGO_PKG_VERSION")).to_string(),
            destination: destination.to_string(),
            generation: 0,
            state: State::Pushing,
            pushed_at: now,
            objects: BTreeMap::new(),
            superseded: BTreeMap::new(),
        }
    }

    /// Parses and checks a manifest read from the store.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
        let manifest: Manifest =
            serde_json::from_slice(bytes).map_err(|e| format!("not a trustroot push manifest: {e}"))?;
        if manifest.format != FORMAT {
            return Err(format!(
                "format {} (this trustroot reads format {FORMAT}); push with the trustroot that wrote it",
                manifest.format
            ));
        }
        let entries = manifest
            .objects
            .iter()
            .map(|(k, o)| (k, &o.sha256))
            .chain(manifest.superseded.iter().map(|(k, s)| (k, &s.sha256)));
        for (key, sha256) in entries {
            layout::classify(key).map_err(|reason| format!("it lists '{}': {reason}", key.escape_debug()))?;
            if sha256.len() != 64 || !sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(format!(
                    "the sha256 of '{}' is not 64 lowercase hex digits",
                    key.escape_debug()
                ));
            }
        }
        Ok(manifest)
    }

    /// The bytes written.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        serde_json::to_vec(self).map_err(|e| format!("cannot encode the push manifest: {e}"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn object() -> Object {
        Object {
            size: 3,
            sha256: "a".repeat(64),
            etag: Some("\"e\"".into()),
            content_type: "application/json".into(),
            cache_control: "no-cache".into(),
        }
    }

    #[test]
    fn round_trip() {
        let mut manifest = Manifest::new("s3://b/r", Utc::now());
        manifest.objects.insert("timestamp.json".into(), object());
        assert_eq!(Manifest::parse(&manifest.to_bytes().unwrap()).unwrap(), manifest);
    }

    #[test]
    fn a_manifest_naming_a_key_outside_the_prefix_is_refused() {
        let mut manifest = Manifest::new("s3://b/r", Utc::now());
        manifest.objects.insert("../other/timestamp.json".into(), object());
        let error = Manifest::parse(&manifest.to_bytes().unwrap()).unwrap_err();
        assert!(error.contains("other"), "{error}");
    }

    #[test]
    fn a_bad_hash_an_unknown_field_and_another_format_are_refused() {
        let mut manifest = Manifest::new("s3://b/r", Utc::now());
        let mut bad = object();
        bad.sha256 = "Z".repeat(64);
        manifest.objects.insert("timestamp.json".into(), bad);
        assert!(Manifest::parse(&manifest.to_bytes().unwrap()).is_err());
        let mut value = serde_json::to_value(Manifest::new("s3://b/r", Utc::now())).unwrap();
        let mut extra = value.clone();
        extra["extra"] = 1.into();
        assert!(Manifest::parse(extra.to_string().as_bytes()).is_err());
        value["format"] = 2.into();
        assert!(
            Manifest::parse(value.to_string().as_bytes())
                .unwrap_err()
                .contains("format 2")
        );
    }
}
