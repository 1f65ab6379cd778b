//! X.509 certificates and chains: the parsing and signature checks live in
//! `trustroot_core::sigstore::certs` (the keyless verifier needs them); reading and writing
//! PEM files is this crate's job.

use x509_cert::der::pem;
use x509_cert::der::pem::LineEnding;

pub use trustroot_core::sigstore::certs::*;

use super::{PayloadError, PemError};

/// Reads every `CERTIFICATE` block of PEM text, in order.
pub fn certs_from_pem(text: &str) -> Result<Vec<ParsedCert>, PayloadError> {
    let blocks = super::keys::pem_blocks(text)?;
    if blocks.is_empty() {
        return Err(PemError::NoCertificate.into());
    }
    blocks
        .iter()
        .enumerate()
        .map(|(i, (label, der))| {
            if label != "CERTIFICATE" {
                return Err(PemError::NotACertificate {
                    index: i,
                    label: label.clone(),
                }
                .into());
            }
            parse_cert(der).map_err(|reason| PayloadError::Certificate { index: i, reason })
        })
        .collect()
}

/// Writes certificates as concatenated PEM `CERTIFICATE` blocks.
pub fn certs_to_pem(ders: &[Vec<u8>]) -> Result<String, PayloadError> {
    let mut out = String::new();
    for d in ders {
        out.push_str(
            &pem::encode_string("CERTIFICATE", LineEnding::LF, d)
                .map_err(|e| PayloadError::from(PemError::Write { reason: e.to_string() }))?,
        );
    }
    Ok(out)
}
