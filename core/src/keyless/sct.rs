//! The certificate's embedded signed certificate timestamps (RFC 6962): at least one must
//! be signed by a CT log of the trusted root over the precertificate, inside that log's
//! window. A certificate no CT log vouches for may have been issued in secret.

use sha2::{Digest, Sha256};
use x509_cert::TbsCertificate;
use x509_cert::der::asn1::OctetString;
use x509_cert::der::{Decode, Encode};
use x509_cert::spki::ObjectIdentifier;

use super::fulcio::Leaf;
use super::trust::{Authority, SigstoreTrust, window_contains};
use super::{Refusal, Step};
use crate::display::escape;
use crate::sigstore::certs::{OID_ECDSA_SHA256, verify_signature};

const OID_SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

fn refuse(detail: impl Into<String>) -> Refusal {
    Refusal::new(Step::Sct, detail)
}

/// One SCT of the list, as read.
struct Sct<'a> {
    log_id: &'a [u8],
    timestamp_ms: u64,
    extensions: &'a [u8],
    signature: &'a [u8],
}

/// A big-endian reader over TLS-encoded bytes; every read is bounds-checked.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Refusal> {
        if self.0.len() < n {
            return Err(refuse("the SCT list is truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn uint(&mut self, n: usize) -> Result<u64, Refusal> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
    fn vec16(&mut self) -> Result<&'a [u8], Refusal> {
        let n = self.uint(2)? as usize;
        self.take(n)
    }
}

fn parse_list(bytes: &[u8]) -> Result<Vec<Sct<'_>>, Refusal> {
    let mut outer = Reader(bytes);
    let mut list = Reader(outer.vec16()?);
    if !outer.0.is_empty() {
        return Err(refuse("bytes after the SCT list"));
    }
    let mut out = Vec::new();
    while !list.0.is_empty() {
        let mut sct = Reader(list.vec16()?);
        if sct.uint(1)? != 0 {
            return Err(refuse("an SCT of a version other than 1"));
        }
        let log_id = sct.take(32)?;
        let timestamp_ms = sct.uint(8)?;
        let extensions = sct.vec16()?;
        // hash sha256 (4), signature ecdsa (3): what every CT log Sigstore names uses.
        if sct.take(2)? != [4, 3] {
            return Err(refuse("an SCT signed with another algorithm than ECDSA with SHA-256"));
        }
        let signature = sct.vec16()?;
        if !sct.0.is_empty() {
            return Err(refuse("bytes after an SCT"));
        }
        out.push(Sct {
            log_id,
            timestamp_ms,
            extensions,
            signature,
        });
    }
    Ok(out)
}

/// The precertificate's TBS: the leaf's TBSCertificate without the SCT list extension,
/// as the log signed it before the extension existed.
fn precert_tbs(leaf: &Leaf) -> Result<Vec<u8>, Refusal> {
    let tbs = leaf
        .x509
        .tbs_certificate
        .to_der()
        .map_err(|e| refuse(format!("the certificate cannot be re-encoded: {e}")))?;
    // Re-encoding must give the signed bytes back, or the removal below would not either.
    if tbs != leaf.cert.tbs_der() {
        return Err(refuse("the certificate is not in DER"));
    }
    let mut pre: TbsCertificate = leaf.x509.tbs_certificate.clone();
    if let Some(exts) = pre.extensions.as_mut() {
        exts.retain(|e| e.extn_id != OID_SCT_LIST);
    }
    pre.to_der()
        .map_err(|e| refuse(format!("the precertificate cannot be encoded: {e}")))
}

/// Checks that a CT log of `trust` signed an SCT for the leaf issued by `issuer`.
pub(super) fn check(trust: &SigstoreTrust, leaf: &Leaf, issuer: &Authority) -> Result<(), Refusal> {
    let ext = leaf
        .x509
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == OID_SCT_LIST)
        .ok_or_else(|| refuse("the certificate carries no SCT"))?;
    // The extension's value is an OCTET STRING holding the TLS-encoded list.
    let list = OctetString::from_der(ext.extn_value.as_bytes())
        .map_err(|e| refuse(format!("the SCT extension is not an OCTET STRING: {e}")))?;
    let scts = parse_list(list.as_bytes())?;
    let issuer_cert = issuer
        .chain
        .first()
        .ok_or_else(|| refuse("the CA has no certificate"))?;
    let issuer_key_hash: [u8; 32] = Sha256::digest(issuer_cert.spki_der()).into();
    let tbs = precert_tbs(leaf)?;
    let tbs_len = u32::try_from(tbs.len())
        .ok()
        .filter(|n| *n < 1 << 24)
        .ok_or_else(|| refuse("the precertificate is too large"))?;
    let mut why = "the certificate carries no SCT".to_string();
    for sct in &scts {
        let Some(log) = trust.ctlogs.iter().find(|l| l.log_id == sct.log_id) else {
            why = "no CT log of the trusted root signed the certificate's SCT".to_string();
            continue;
        };
        let mut signed = Vec::with_capacity(tbs.len() + 64);
        signed.extend_from_slice(&[0, 0]); // version 1, certificate_timestamp
        signed.extend_from_slice(&sct.timestamp_ms.to_be_bytes());
        signed.extend_from_slice(&[0, 1]); // precert_entry
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
        signed.extend_from_slice(&tbs);
        signed.extend_from_slice(&(sct.extensions.len() as u16).to_be_bytes());
        signed.extend_from_slice(sct.extensions);
        if let Err(e) = verify_signature(&log.spki_der, OID_ECDSA_SHA256, &signed, sct.signature) {
            why = format!("the SCT does not verify with the key of {}: {e}", escape(&log.name));
            continue;
        }
        let at = i64::try_from(sct.timestamp_ms / 1000)
            .ok()
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0));
        if !at.is_some_and(|t| window_contains(&log.window, t)) {
            why = format!("the SCT's time is outside the window of {}", escape(&log.name));
            continue;
        }
        return Ok(());
    }
    Err(refuse(why))
}
