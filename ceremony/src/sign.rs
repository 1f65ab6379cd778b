//! Signed metadata as the ceremony writes it: the envelope (`signatures` then `signed`,
//! pretty printed), signed over canonical JSON, and the expiry it gives new versions.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use trustroot_core::metadata::Root;

use crate::error::{Error, Result};
use crate::keys::{self, Signer};

pub(crate) fn expires(now: DateTime<Utc>, days: u32) -> String {
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    trustroot_core::time::format(&(now + Duration::days(i64::from(days))))
}

/// The envelope of `signed` (metadata as published: `signatures` then `signed`, pretty
/// printed), signed over its canonical JSON with `signer` under each of `keyids`.
pub fn sign_envelope(role: &str, signed: &Value, keyids: &[String], signer: &dyn Signer) -> Result<Vec<u8>> {
    let bytes = trustroot_core::canonical::to_canonical_bytes(signed).map_err(Error::canonical(role))?;
    let mut signatures = Vec::new();
    for keyid in keyids {
        let sig = signer.sign(&bytes)?;
        signatures.push(json!({"keyid": keyid, "sig": hex::encode(sig)}));
    }
    drop(bytes);
    let mut out = Vec::new();
    write_envelope(role, &signatures, signed, &mut out)?;
    Ok(out)
}

/// Writes `{"signatures": ..., "signed": ...}` as [`repo::to_metadata_json`] formats metadata,
/// without first copying `signed` into one `Value` with its signatures.
pub(crate) fn write_envelope<T: serde::Serialize + ?Sized>(
    role: &str,
    signatures: &[Value],
    signed: &T,
    out: impl std::io::Write,
) -> Result<()> {
    use serde::ser::{SerializeMap as _, Serializer as _};
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut serializer = serde_json::Serializer::with_formatter(out, formatter);
    let written = (|| {
        let mut map = (&mut serializer).serialize_map(Some(2))?;
        map.serialize_entry("signatures", signatures)?;
        map.serialize_entry("signed", signed)?;
        map.end()
    })();
    written.map_err(|source| Error::WriteMetadata {
        role: role.into(),
        source,
    })
}

/// The key IDs under which `root` lists `signer`'s key for `role`.
pub(crate) fn online_keyids(root: &Root, role: &str, signer: &dyn Signer) -> Vec<String> {
    let public = signer.public_key();
    root.roles
        .get(role)
        .map(|r| {
            r.keyids
                .iter()
                .filter(|id| root.keys.get(*id).is_some_and(|k| keys::same_key(k, &public)))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}
