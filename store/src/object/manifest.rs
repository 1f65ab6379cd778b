//! The push manifest: what trustroot last put under the prefix (size, sha256 and the
//! store's ETag of every object) and what it stopped serving when. It sits beside the
//! prefix, never under it. A re-run trusts it, so that a push with nothing new makes two
//! requests; `--audit` checks it against a listing. Anyone who can write the bucket can
//! write it too, so it is parsed as hostile input: bounded, every key and hash checked.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::backend::{Backend, Expect, Fetched, Headers, Meta};
use super::error::ObjectError;
use super::layout;
use super::url::{Destination, Kind, MANIFEST_SUFFIX};

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
    /// Objects put up since the last complete push and not yet accepted by a read-back:
    /// a push stopped by its read-back leaves them here, and the run that resumes it reads
    /// them back before its `timestamp.json`, though it uploads none of them again.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub unconfirmed: BTreeSet<String>,
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
            unconfirmed: BTreeSet::new(),
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
        for key in &manifest.unconfirmed {
            layout::classify(key).map_err(|reason| format!("it lists '{}': {reason}", key.escape_debug()))?;
        }
        Ok(manifest)
    }

    /// The bytes written.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        serde_json::to_vec(self).map_err(|e| format!("cannot encode the push manifest: {e}"))
    }
}

/// Where `--manifest TEXT` keeps the manifest of a push to `served`: the destination whose
/// sibling manifest it is (TEXT less its `.trustroot-push.json` suffix), so that the
/// manifest is read and written the same way as one beside the prefix. Refused: another
/// kind of store than `served` (one set of credentials and one endpoint serve both), a
/// name without the suffix, and a place under the served prefix (clients could read it,
/// and a listing of the prefix must hold the tree only).
pub fn location(text: &str, served: &Destination, cwd: &std::path::Path) -> Result<Destination, ObjectError> {
    let bad = |reason: String| ObjectError::BadManifestUrl {
        url: super::url::without_userinfo(text),
        reason,
    };
    let stem = text
        .strip_suffix(MANIFEST_SUFFIX)
        .filter(|stem| !stem.is_empty() && !stem.ends_with('/'))
        .ok_or_else(|| {
            bad(format!(
                "name the manifest object itself, ending in {MANIFEST_SUFFIX} (e.g. s3://BUCKET/trustroot/prod{MANIFEST_SUFFIX})"
            ))
        })?;
    let manifest = Destination::parse(stem, cwd).map_err(|e| bad(e.to_string()))?;
    let inside = match (&served.kind, &manifest.kind) {
        (Kind::S3 { bucket: a, prefix: p }, Kind::S3 { bucket: b, prefix: m })
        | (Kind::Gcs { bucket: a, prefix: p }, Kind::Gcs { bucket: b, prefix: m })
        | (
            Kind::Azure {
                container: a,
                prefix: p,
            },
            Kind::Azure {
                container: b,
                prefix: m,
            },
        ) => a == b && (p.is_empty() || m.starts_with(&format!("{p}/"))),
        // The directory itself names the default place, beside it.
        (Kind::File { dir: served }, Kind::File { dir }) => dir != served && dir.starts_with(served),
        _ => {
            return Err(bad(
                "another kind of store than --to; keep the manifest in the same kind of store (the same credentials and --endpoint reach both)".into(),
            ));
        }
    };
    if inside {
        return Err(bad(format!(
            "under the served prefix of --to {}, where clients could read it; keep it beside the prefix or in another bucket",
            served.url
        )));
    }
    Ok(manifest)
}

/// A backend whose push manifest is kept elsewhere (`--manifest`): the served objects go to
/// `served`, the manifest to `manifest`'s sibling manifest.
pub struct ManifestAt<S, M> {
    pub served: S,
    pub manifest: M,
}

impl<S: Backend, M: Backend> Backend for ManifestAt<S, M> {
    fn url(&self) -> &str {
        self.served.url()
    }
    fn manifest_name(&self) -> String {
        format!("{} ({})", self.manifest.manifest_name(), self.manifest.url())
    }
    async fn put(&self, key: &str, bytes: Vec<u8>, headers: &Headers) -> Result<Option<String>, ObjectError> {
        self.served.put(key, bytes, headers).await
    }
    async fn get(&self, key: &str, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        self.served.get(key, limit).await
    }
    async fn head(&self, key: &str) -> Result<Option<Meta>, ObjectError> {
        self.served.head(key).await
    }
    async fn list(&self) -> Result<Vec<Meta>, ObjectError> {
        self.served.list().await
    }
    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        self.served.delete(key).await
    }
    async fn get_manifest(&self, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        self.manifest.get_manifest(limit).await
    }
    async fn put_manifest(&self, bytes: Vec<u8>, expect: &Expect) -> Result<Option<String>, ObjectError> {
        self.manifest.put_manifest(bytes, expect).await
    }
    async fn barrier(&self) -> Result<(), ObjectError> {
        self.served.barrier().await?;
        self.manifest.barrier().await
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

    fn served(text: &str) -> Destination {
        Destination::parse(text, std::path::Path::new("/")).unwrap()
    }

    #[test]
    fn manifest_beside_the_prefix_or_in_another_bucket_is_taken() {
        let to = served("s3://bkt/prod");
        let at = location("s3://bkt/ops/prod.trustroot-push.json", &to, std::path::Path::new("/")).unwrap();
        assert_eq!(at.manifest_name(), "ops/prod.trustroot-push.json");
        location("s3://other/prod.trustroot-push.json", &to, std::path::Path::new("/")).unwrap();
        location(
            "/srv/state/prod.trustroot-push.json",
            &served("/srv/www/prod"),
            std::path::Path::new("/"),
        )
        .unwrap();
    }

    #[test]
    fn manifest_under_the_served_prefix_is_refused() {
        let cwd = std::path::Path::new("/");
        for (to, manifest) in [
            ("s3://bkt/prod", "s3://bkt/prod/m.trustroot-push.json"),
            ("s3://bkt/prod", "s3://bkt/prod/deep/m.trustroot-push.json"),
            ("/srv/www/prod", "/srv/www/prod/m.trustroot-push.json"),
        ] {
            let error = location(manifest, &served(to), cwd).unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("--manifest {manifest}: under the served prefix")),
                "{error}"
            );
        }
        // Not a manifest name, another kind of store.
        let to = served("s3://bkt/prod");
        for manifest in [
            "s3://bkt/ops/manifest.json",
            "s3://bkt/ops/",
            "az://bkt/prod.trustroot-push.json",
        ] {
            let error = location(manifest, &to, cwd).unwrap_err();
            assert!(
                matches!(error, ObjectError::BadManifestUrl { .. }),
                "{manifest}: {error}"
            );
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
