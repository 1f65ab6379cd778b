//! Public keys as Sigstore records them, and log IDs: the parsing lives in
//! `trustroot_core::sigstore::keys` (the keyless verifier needs it); reading and writing
//! PEM files is this crate's job.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use x509_cert::der::pem;
use x509_cert::der::pem::LineEnding;

pub use trustroot_core::sigstore::keys::*;

use super::{PayloadError, PemError};

/// A public key read from a PEM file: `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemKey {
    /// What goes into `rawBytes` (SPKI DER, or PKCS#1 DER for an `RSA PUBLIC KEY`).
    pub raw: Vec<u8>,
    pub key: ParsedKey,
    pub pkcs1: bool,
}

/// Reads one public key from PEM text.
pub fn key_from_pem(text: &str) -> Result<PemKey, PayloadError> {
    let blocks = pem_blocks(text)?;
    let [(label, der)] = blocks.as_slice() else {
        return Err(PemError::KeyBlockCount { found: blocks.len() }.into());
    };
    match label.as_str() {
        "PUBLIC KEY" => {
            let key = parse_spki(der)?;
            Ok(PemKey {
                raw: der.clone(),
                key,
                pkcs1: false,
            })
        }
        "RSA PUBLIC KEY" => {
            let key = parse_raw(der, "PKCS1_RSA_PKCS1V5")?;
            Ok(PemKey {
                raw: der.clone(),
                key,
                pkcs1: true,
            })
        }
        other => Err(PemError::NotAPublicKey {
            label: other.to_string(),
        }
        .into()),
    }
}

/// Writes `rawBytes` as PEM: `RSA PUBLIC KEY` for `PKCS1_*` details, `PUBLIC KEY` otherwise.
pub fn key_to_pem(raw: &[u8], details: &str) -> Result<String, PayloadError> {
    let label = if details.starts_with("PKCS1_") {
        "RSA PUBLIC KEY"
    } else {
        "PUBLIC KEY"
    };
    pem::encode_string(label, LineEnding::LF, raw).map_err(|e| PemError::Write { reason: e.to_string() }.into())
}

/// Splits PEM text into its blocks (label, DER). Text outside blocks is ignored. Lenient
/// on the body: any line length, CRLF line ends, surrounding whitespace.
pub fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, PayloadError> {
    const BEGIN: &str = "-----BEGIN ";
    const END: &str = "-----END ";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let block = &rest[start + BEGIN.len()..];
        let Some(label_end) = block.find("-----") else {
            return Err(PemError::BeginNotClosed.into());
        };
        let label = &block[..label_end];
        let body_and_rest = &block[label_end + 5..];
        let Some(end_at) = body_and_rest.find(END) else {
            return Err(PemError::NoEnd {
                label: label.to_string(),
            }
            .into());
        };
        let after_end = &body_and_rest[end_at + END.len()..];
        let Some(close) = after_end.find("-----") else {
            return Err(PemError::EndNotClosed.into());
        };
        if &after_end[..close] != label {
            return Err(PemError::EndMismatch {
                label: label.to_string(),
                end: after_end[..close].to_string(),
            }
            .into());
        }
        let body: String = body_and_rest[..end_at].chars().filter(|c| !c.is_whitespace()).collect();
        let der = B64.decode(body.as_bytes()).map_err(|e| {
            PayloadError::from(PemError::NotBase64 {
                label: label.to_string(),
                reason: e.to_string(),
            })
        })?;
        out.push((label.to_string(), der));
        rest = &after_end[close + 5..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn garbage_pem_is_an_error_not_a_panic() {
        assert!(key_from_pem("-----BEGIN PUBLIC KEY-----\nabc").is_err());
        assert!(key_from_pem("").is_err());
    }
}
