//! One certificate of an attestation chain: read from PEM (or DER) with a size limit,
//! parsed with `x509-cert`, with the few things the chain check asks of it.

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use x509_cert::Certificate;
use x509_cert::der::asn1::{Ia5StringRef, ObjectIdentifier, PrintableStringRef, Utf8StringRef};
use x509_cert::der::{Decode as _, Encode as _, Reader as _, SliceReader};
use x509_cert::name::Name;

use crate::error::AttestationError;

/// Largest certificate file read. Yubico's are under 2 KiB; a file many times larger is
/// not one of them, and is refused before any parsing.
pub const MAX_CERT_FILE: usize = 16 * 1024;

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";
/// The commonName attribute (RFC 4519).
const CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// A parsed certificate and the file it came from (for messages).
pub(crate) struct Cert {
    pub file: String,
    pub der: Vec<u8>,
    pub cert: Certificate,
}

impl Cert {
    /// Reads one certificate from `bytes` (PEM, or DER as `ykman --format DER` writes it).
    pub(crate) fn from_pem(file: &str, bytes: &[u8]) -> Result<Cert, AttestationError> {
        if bytes.len() > MAX_CERT_FILE {
            return Err(AttestationError::TooLarge {
                file: file.to_string(),
                limit: MAX_CERT_FILE,
            });
        }
        let der = if bytes.first() == Some(&0x30) {
            bytes.to_vec()
        } else {
            pem_body(file, bytes)?
        };
        let cert = Certificate::from_der(&der).map_err(|e| AttestationError::NotCertificate {
            file: file.to_string(),
            reason: e.to_string(),
        })?;
        Ok(Cert {
            file: file.to_string(),
            der,
            cert,
        })
    }

    /// The DER of the signed part, exactly as received: the signature is over these bytes,
    /// not over a re-encoding.
    pub(crate) fn tbs_der(&self) -> Result<&[u8], AttestationError> {
        let not_cert = |e: x509_cert::der::Error| AttestationError::NotCertificate {
            file: self.file.clone(),
            reason: e.to_string(),
        };
        let mut reader = SliceReader::new(&self.der).map_err(not_cert)?;
        // The outer SEQUENCE's header, then the first element whole: tbsCertificate.
        let _outer: x509_cert::der::Header = reader.decode().map_err(not_cert)?;
        reader.tlv_bytes().map_err(not_cert)
    }

    /// True when this certificate names `issuer`'s subject as its issuer, compared as DER
    /// byte for byte (Yubico's chains are written by one CA each; a name that cannot be
    /// encoded matches nothing).
    pub(crate) fn names_issuer(&self, issuer: &Cert) -> bool {
        match (
            self.cert.tbs_certificate.issuer.to_der(),
            issuer.cert.tbs_certificate.subject.to_der(),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }

    /// The subject as text, for messages.
    pub(crate) fn subject(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    /// The issuer as text, for messages.
    pub(crate) fn issuer(&self) -> String {
        self.cert.tbs_certificate.issuer.to_string()
    }

    /// The subject's common name, when it has one that is text.
    pub(crate) fn subject_cn(&self) -> Option<String> {
        common_name(&self.cert.tbs_certificate.subject)
    }

    /// The subject public key info, DER.
    pub(crate) fn spki_der(&self) -> Result<Vec<u8>, AttestationError> {
        self.cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| AttestationError::NotCertificate {
                file: self.file.clone(),
                reason: e.to_string(),
            })
    }

    /// Refuses a certificate that is expired or not yet valid at `now`.
    pub(crate) fn check_validity(&self, now: DateTime<Utc>) -> Result<(), AttestationError> {
        let validity = &self.cert.tbs_certificate.validity;
        let not_before = validity.not_before.to_unix_duration().as_secs();
        let not_after = validity.not_after.to_unix_duration().as_secs();
        // A time before 1970 is before every certificate here.
        let now_secs = u64::try_from(now.timestamp()).unwrap_or(0);
        if now_secs < not_before {
            return Err(AttestationError::NotYetValid {
                file: self.file.clone(),
                subject: self.subject(),
                not_before: show_time(not_before),
            });
        }
        if now_secs > not_after {
            return Err(AttestationError::Expired {
                file: self.file.clone(),
                subject: self.subject(),
                not_after: show_time(not_after),
            });
        }
        Ok(())
    }
}

/// The bytes inside the one `CERTIFICATE` PEM block of `bytes` (text around it is allowed,
/// as `openssl x509 -text` writes it; a second certificate is not).
fn pem_body(file: &str, bytes: &[u8]) -> Result<Vec<u8>, AttestationError> {
    let not_pem = |reason: &str| AttestationError::NotPem {
        file: file.to_string(),
        reason: reason.to_string(),
    };
    let text = std::str::from_utf8(bytes).map_err(|_| not_pem("not UTF-8 text"))?;
    let start = text
        .find(PEM_BEGIN)
        .ok_or_else(|| not_pem("no '-----BEGIN CERTIFICATE-----' line"))?;
    let rest = &text[start + PEM_BEGIN.len()..];
    let end = rest
        .find(PEM_END)
        .ok_or_else(|| not_pem("no '-----END CERTIFICATE-----' line"))?;
    if rest[end..].contains(PEM_BEGIN) {
        return Err(not_pem("more than one certificate: give each in its own file"));
    }
    let body: String = rest[..end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| not_pem("its base64 is damaged"))
}

/// The first text common name of `name`.
fn common_name(name: &Name) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|atv| atv.oid == CN)
        .find_map(|atv| {
            atv.value
                .decode_as::<Utf8StringRef<'_>>()
                .map(|s| s.as_str().to_string())
                .or_else(|_| {
                    atv.value
                        .decode_as::<PrintableStringRef<'_>>()
                        .map(|s| s.as_str().to_string())
                })
                .or_else(|_| {
                    atv.value
                        .decode_as::<Ia5StringRef<'_>>()
                        .map(|s| s.as_str().to_string())
                })
                .ok()
        })
}

/// A certificate time (seconds since 1970) in RFC 3339.
fn show_time(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .map_or_else(
            || format!("{secs} seconds after 1970"),
            |t| t.to_rfc3339_opts(SecondsFormat::Secs, true),
        )
}
