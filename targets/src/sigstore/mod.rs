//! Sigstore's trust-root payloads: `trusted_root.json` and `signing_config`.
//!
//! Each module has one job:
//!
//! * [`json`]: reading and writing the documents (stable bytes, JSON paths in errors);
//! * [`time`]: proto3-JSON timestamps;
//! * [`keys`]: public keys, key details and log IDs (SPKI hash, C2SP checkpoint hash);
//! * [`certs`]: X.509 certificates and chains;
//! * [`trusted_root`]: the TrustedRoot model and its builders (`new`, `add-*`, `retire`,
//!   `extract`);
//! * [`signing_config`]: the SigningConfig model (v0.1 and v0.2) and its builders;
//! * [`validate`]: the linter (reference section 6.5), findings with JSON paths and fixes;
//! * [`diff`]: what changed between two versions, in words for a ceremony announcement.
//!
//! Nothing here prints; the CLI does.

pub mod certs;
pub mod diff;
pub mod json;
pub mod keys;
pub mod signing_config;
pub mod trusted_root;

/// proto3-JSON timestamps (in core, where the keyless verifier reads them).
pub use trustroot_core::sigstore::time;
pub mod validate;

pub use validate::{Finding, Severity};

pub use trustroot_core::sigstore::{
    TRUSTED_ROOT_MEDIA_TYPE_LEGACY, TRUSTED_ROOT_MEDIA_TYPE_V01, TRUSTED_ROOT_MEDIA_TYPE_V02,
};
/// SigningConfig v0.1 media type.
pub const SIGNING_CONFIG_MEDIA_TYPE_V01: &str = "application/vnd.dev.sigstore.signingconfig.v0.1+json";
/// SigningConfig v0.2 media type.
pub const SIGNING_CONFIG_MEDIA_TYPE_V02: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";

mod error;

pub use error::{EditError, PayloadError, PemError};
