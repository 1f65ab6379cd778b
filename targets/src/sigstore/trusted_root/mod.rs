//! The edits trustroot makes to a trusted root (`add-*`, `retire`, `extract`). The model
//! itself lives in `trustroot_core::sigstore::trusted_root`, where the keyless verifier
//! reads it; it is re-exported here unchanged.

use chrono::{DateTime, Utc};

use super::PayloadError;
use super::certs::ParsedCert;
use super::keys;

pub use trustroot_core::sigstore::trusted_root::*;

mod edit;

pub use edit::Retired;

/// How a transparency log's ID is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogIdKind {
    /// SHA-256 of the SPKI (Rekor v1, CT logs).
    Spki,
    /// The C2SP signed-note key hash with the `baseUrl` host as origin (Rekor v2).
    Checkpoint,
}

/// What `add-tlog` / `add-ctlog` take.
#[derive(Debug, Clone)]
pub struct LogParams {
    pub key: keys::PemKey,
    /// Overrides the key details trustroot would pick (for RSA-PSS, or ECDSA with another hash).
    pub key_details: Option<String>,
    pub base_url: String,
    pub hash_algorithm: String,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub log_id: LogIdKind,
    pub operator: Option<String>,
}

/// What `add-ca` / `add-tsa` take.
#[derive(Debug, Clone)]
pub struct AuthorityParams {
    pub chain: Vec<ParsedCert>,
    pub uri: Option<String>,
    /// The subject to record when it differs from the anchor certificate's.
    pub subject: Option<(Option<String>, Option<String>)>,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub operator: Option<String>,
}

/// Something an edit did that the operator should read.
pub type Notes = Vec<String>;

/// What `trustroot sigstore trusted-root` does to a trusted root. A trait because the model
/// is core's type: bring it into scope to edit.
pub trait TrustedRootEdit {
    /// Adds a transparency log (`Section::Tlogs`) or CT log (`Section::Ctlogs`), computing
    /// its log ID and key details. Returns the index it got and notes.
    fn add_log(&mut self, section: Section, p: &LogParams) -> Result<(usize, Notes), PayloadError>;
    /// Adds a certificate authority or timestamp authority. Returns the index it got and notes.
    fn add_authority(&mut self, section: Section, p: &AuthorityParams) -> Result<(usize, Notes), PayloadError>;
    /// Ends instance `index` of `section` at `end`.
    fn retire(&mut self, section: Section, index: usize, end: DateTime<Utc>) -> Result<Retired, PayloadError>;
    /// Every instance's key or chain as PEM: (suggested file name, PEM text).
    fn extract_all(&self) -> Result<Vec<(String, String)>, PayloadError>;
    /// One instance's key (logs) or chain (authorities) as PEM, with a suggested file name.
    fn extract(&self, section: Section, index: usize) -> Result<(String, String), PayloadError>;
}

fn file_name(section: Section, index: usize, url: Option<&str>) -> String {
    let slug: String = url
        .map(|u| u.split_once("://").map_or(u, |(_, r)| r))
        .unwrap_or("no-url")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches('-');
    format!("{}-{index}-{slug}.pem", section.short())
}
