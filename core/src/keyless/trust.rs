//! The Sigstore trust material a keyless signature is checked against: the certificate
//! authorities, transparency logs and CT logs of a `trusted_root.json`, read once with
//! every CA chain checked.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::display::escape;
use crate::sigstore::certs::{self, ParsedCert};
use crate::sigstore::keys;
use crate::sigstore::trusted_root::{CertificateAuthority, TimeRange, TransparencyLogInstance, TrustedRoot};

/// Why a `trusted_root.json` cannot serve as trust material. The text names the JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Sigstore trusted root: {0}")]
pub struct TrustError(String);

/// A validity window; `end` inclusive (the conformance suite's reading), none = open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Window {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

pub(super) fn window_contains(w: &Window, t: DateTime<Utc>) -> bool {
    w.start <= t && w.end.is_none_or(|end| t <= end)
}

/// A certificate or timestamp authority: its chain, leaf-most (the certificate that
/// issues, or signs timestamps) first.
#[derive(Debug, Clone)]
pub(super) struct Authority {
    pub chain: Vec<ParsedCert>,
    pub window: Window,
    pub name: String,
}

/// A transparency or CT log: its ID, key (DER SPKI) and window.
#[derive(Debug, Clone)]
pub(super) struct Log {
    pub log_id: Vec<u8>,
    pub spki_der: Vec<u8>,
    pub ed25519: bool,
    pub window: Window,
    pub name: String,
}

/// Parsed Sigstore trust material (no I/O: the caller reads the file).
#[derive(Debug, Clone)]
pub struct SigstoreTrust {
    sha256: String,
    pub(super) authorities: Vec<Authority>,
    pub(super) tlogs: Vec<Log>,
    pub(super) ctlogs: Vec<Log>,
    pub(super) tsas: Vec<Authority>,
}

impl SigstoreTrust {
    /// Reads a `trusted_root.json`. Every instance must have a `validFor.start`, every log
    /// a usable key and ID, and every CA chain must verify up to a self-signed certificate.
    pub fn from_json(bytes: &[u8]) -> Result<Self, TrustError> {
        let value: serde_json::Value = crate::strict_json::from_slice(bytes)
            .map_err(|e| TrustError(format!("not JSON: {}", escape(&e.to_string()))))?;
        let root: TrustedRoot = serde_json::from_value(value)
            .map_err(|e| TrustError(format!("not a trusted root: {}", escape(&e.to_string()))))?;
        let authorities = |list: &Option<Vec<CertificateAuthority>>, field: &str| {
            list.as_deref()
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, a)| authority(a, &format!("$.{field}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
        };
        let logs = |list: &Option<Vec<TransparencyLogInstance>>, field: &str| {
            list.as_deref()
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, l)| log(l, &format!("$.{field}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(SigstoreTrust {
            sha256: hex::encode(Sha256::digest(bytes)),
            authorities: authorities(&root.certificate_authorities, "certificateAuthorities")?,
            tlogs: logs(&root.tlogs, "tlogs")?,
            ctlogs: logs(&root.ctlogs, "ctlogs")?,
            tsas: authorities(&root.timestamp_authorities, "timestampAuthorities")?,
        })
    }

    /// SHA-256 of the file read, lowercase hex: which trust material vouched.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

fn time(path: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, TrustError> {
    value
        .map(|s| crate::sigstore::time::parse(s).map(|(t, _)| t))
        .transpose()
        .map_err(|e| TrustError(format!("{path}: {e}")))
}

fn window(path: &str, range: Option<&TimeRange>) -> Result<Window, TrustError> {
    let path = format!("{path}.validFor");
    let start = time(&format!("{path}.start"), range.and_then(|r| r.start.as_deref()))?.ok_or_else(|| {
        TrustError(format!(
            "{path}.start is missing: an instance with no start vouches for nothing"
        ))
    })?;
    let end = time(&format!("{path}.end"), range.and_then(|r| r.end.as_deref()))?;
    Ok(Window { start, end })
}

fn authority(a: &CertificateAuthority, path: &str) -> Result<Authority, TrustError> {
    let certs = a
        .cert_chain
        .as_ref()
        .and_then(|c| c.certificates.as_deref())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| TrustError(format!("{path}.certChain.certificates is missing or empty")))?;
    let chain = certs
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let at = format!("{path}.certChain.certificates[{j}].rawBytes");
            let raw = c
                .raw_bytes
                .as_deref()
                .ok_or_else(|| TrustError(format!("{at} is missing")))?;
            let der = keys::decode_b64(raw).map_err(|e| TrustError(format!("{at}: {e}")))?;
            certs::parse_cert(&der).map_err(|e| TrustError(format!("{at}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    match certs::chain_order(&chain) {
        certs::ChainOrder::AsListed => {}
        certs::ChainOrder::Broken(b) => return Err(TrustError(format!("{path}.certChain: {b}"))),
        certs::ChainOrder::Reordered(_) => {
            return Err(TrustError(format!("{path}.certChain is not listed leaf-most first")));
        }
    }
    // Checked above: the chain is not empty.
    if !chain.last().is_some_and(ParsedCert::self_signed) {
        return Err(TrustError(format!(
            "{path}.certChain does not end in a self-signed certificate"
        )));
    }
    Ok(Authority {
        window: window(path, a.valid_for.as_ref())?,
        name: a.uri.clone().unwrap_or_else(|| path.to_string()),
        chain,
    })
}

fn log(l: &TransparencyLogInstance, path: &str) -> Result<Log, TrustError> {
    let key = l
        .public_key
        .as_ref()
        .ok_or_else(|| TrustError(format!("{path}.publicKey is missing")))?;
    let raw = key
        .raw_bytes
        .as_deref()
        .ok_or_else(|| TrustError(format!("{path}.publicKey.rawBytes is missing")))?;
    let raw = keys::decode_b64(raw).map_err(|e| TrustError(format!("{path}.publicKey.rawBytes: {e}")))?;
    let details = key.key_details.as_deref().unwrap_or_default();
    let parsed = keys::parse_raw(&raw, details).map_err(|e| TrustError(format!("{path}.publicKey: {e}")))?;
    let id = l
        .log_id
        .as_ref()
        .and_then(|id| id.key_id.as_deref())
        .ok_or_else(|| TrustError(format!("{path}.logId.keyId is missing")))?;
    let log_id = keys::decode_b64(id).map_err(|e| TrustError(format!("{path}.logId.keyId: {e}")))?;
    Ok(Log {
        log_id,
        ed25519: matches!(parsed.kind, keys::KeyKind::Ed25519(_)),
        spki_der: parsed.spki_der,
        window: window(&format!("{path}.publicKey"), key.valid_for.as_ref())?,
        name: l.base_url.clone().unwrap_or_else(|| path.to_string()),
    })
}
