//! Sigstore's trust material, read: X.509 certificates and chains ([`certs`]), public keys
//! and log IDs ([`keys`]), proto3-JSON timestamps ([`time`]) and the `trusted_root.json`
//! model ([`trusted_root`]). The keyless verifier needs them, so they live here, without
//! I/O; `trustroot-targets` re-exports them and adds PEM files and edits.

pub mod certs;
pub mod keys;
pub mod time;
pub mod trusted_root;

/// The media type every real, published `trusted_root.json` uses today.
pub const TRUSTED_ROOT_MEDIA_TYPE_LEGACY: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// The v0.1 media type as the specification spells it now.
pub const TRUSTED_ROOT_MEDIA_TYPE_V01: &str = "application/vnd.dev.sigstore.trustedroot.v0.1+json";
/// The v0.2 media type the specification names (adds `operator` and `checkpointKeyId`).
pub const TRUSTED_ROOT_MEDIA_TYPE_V02: &str = "application/vnd.dev.sigstore.trustedroot.v0.2+json";
