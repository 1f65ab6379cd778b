//! Public keys as Sigstore records them (`rawBytes` + `keyDetails`), and log IDs.
//!
//! * Rekor v1 and CT logs: the log ID is SHA-256 of the DER SubjectPublicKeyInfo (for a
//!   `PKCS1_*` key, of the key re-encoded as SPKI).
//! * Rekor v2 (tile logs, C2SP signed notes): the log ID is
//!   `SHA-256(origin || "\n" || 0x01 || raw Ed25519 key)`, where the origin is the `baseUrl`
//!   host; its first 4 bytes are the checkpoint key ID.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};
use x509_cert::der::asn1::BitString;
use x509_cert::der::{Decode, Encode};

use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};

/// Why a public key cannot be used. `reason` fields hold the DER, curve or RSA crate's
/// message; `details` is a `keyDetails` value from the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("not a DER SubjectPublicKeyInfo: {reason}")]
    NotSpki { reason: String },
    #[error("the public key bit string has unused bits")]
    UnusedBits,
    #[error("not a PKCS#1 RSA public key: {reason}")]
    NotPkcs1 { reason: String },
    /// The DER encoder refused the SPKI made from a PKCS#1 key.
    #[error("{reason}")]
    Encoding { reason: String },
    /// `algorithm` is `P-256`, `P-384` or `Ed25519`.
    #[error("not a valid {algorithm} point: {reason}")]
    InvalidPoint { algorithm: &'static str, reason: String },
    #[error("not an uncompressed P-521 point")]
    P521NotUncompressed,
    #[error("an EC key on an unsupported curve ({curve})")]
    UnsupportedCurve { curve: String },
    #[error("an EC key without a named curve")]
    NoNamedCurve,
    #[error("an {algorithm} key must be {expected} bytes, this one has {found}")]
    WrongLength {
        algorithm: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("not a valid RSA public key: {reason}")]
    InvalidRsa { reason: String },
    #[error("an unsupported key algorithm ({oid})")]
    UnsupportedAlgorithm { oid: String },
    #[error("{details} needs a PKCS#1 RSAPublicKey in rawBytes, but it is {reason}")]
    RawNotPkcs1 { details: String, reason: String },
    /// `rawBytes` is no key of any kind.
    #[error("rawBytes is {0}")]
    RawBytes(Box<KeyError>),
    /// `kind` is the key's description (`ECDSA P-256`, ...).
    #[error("rawBytes holds an {kind} key, which does not match keyDetails {details}")]
    DetailsMismatch { kind: String, details: String },
    /// A key trustroot does not inspect (LMS) has no details it could record.
    #[error("trustroot cannot tell this key's details")]
    UnknownDetails,
}

/// A `bytes` value that is not base64; `reason` is the decoder's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not valid base64: {reason}")]
pub struct Base64Error {
    pub reason: String,
}

pub const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
pub const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
pub const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
pub const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
pub const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_ML_DSA_44: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.17");
const OID_ML_DSA_65: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.18");
const OID_ML_DSA_87: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.19");

/// Every `PublicKeyDetails` name of protobuf-specs, except `…UNSPECIFIED`.
pub const KEY_DETAILS: &[&str] = &[
    "PKCS1_RSA_PKCS1V5",
    "PKCS1_RSA_PSS",
    "PKIX_RSA_PKCS1V5",
    "PKIX_RSA_PSS",
    "PKIX_RSA_PKCS1V15_2048_SHA256",
    "PKIX_RSA_PKCS1V15_3072_SHA256",
    "PKIX_RSA_PKCS1V15_4096_SHA256",
    "PKIX_RSA_PSS_2048_SHA256",
    "PKIX_RSA_PSS_3072_SHA256",
    "PKIX_RSA_PSS_4096_SHA256",
    "PKIX_ECDSA_P256_HMAC_SHA_256",
    "PKIX_ECDSA_P256_SHA_256",
    "PKIX_ECDSA_P384_SHA_384",
    "PKIX_ECDSA_P521_SHA_512",
    "PKIX_ED25519",
    "PKIX_ED25519_PH",
    "PKIX_ECDSA_P384_SHA_256",
    "PKIX_ECDSA_P521_SHA_256",
    "LMS_SHA256",
    "LMOTS_SHA256",
    "ML_DSA_44",
    "ML_DSA_65",
    "ML_DSA_87",
];

/// Key details protobuf-specs marks deprecated.
pub const DEPRECATED_KEY_DETAILS: &[&str] = &[
    "PKCS1_RSA_PKCS1V5",
    "PKCS1_RSA_PSS",
    "PKIX_RSA_PKCS1V5",
    "PKIX_RSA_PSS",
    "PKIX_ECDSA_P256_HMAC_SHA_256",
];

/// The `HashAlgorithm` names of protobuf-specs, except `…UNSPECIFIED`.
pub const HASH_ALGORITHMS: &[&str] = &["SHA2_256", "SHA2_384", "SHA2_512", "SHA3_256", "SHA3_384"];
/// Hash algorithms protobuf-specs marks deprecated.
pub const DEPRECATED_HASH_ALGORITHMS: &[&str] = &["SHA3_256", "SHA3_384"];

/// What kind of key a `rawBytes` value holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    EcdsaP256,
    EcdsaP384,
    EcdsaP521,
    Ed25519([u8; 32]),
    Rsa {
        bits: usize,
    },
    MlDsa(&'static str),
    /// A key type trustroot cannot inspect (LMS).
    Opaque,
}

impl KeyKind {
    /// A short human name ("ECDSA P-256", "Ed25519", "RSA-2048"...).
    pub fn describe(&self) -> String {
        match self {
            KeyKind::EcdsaP256 => "ECDSA P-256".into(),
            KeyKind::EcdsaP384 => "ECDSA P-384".into(),
            KeyKind::EcdsaP521 => "ECDSA P-521".into(),
            KeyKind::Ed25519(_) => "Ed25519".into(),
            KeyKind::Rsa { bits } => format!("RSA-{bits}"),
            KeyKind::MlDsa(n) => (*n).into(),
            KeyKind::Opaque => "an uninspected key type".into(),
        }
    }
}

/// A parsed public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedKey {
    pub kind: KeyKind,
    /// The key as DER SubjectPublicKeyInfo (a `PKCS1_*` key re-encoded), for log IDs.
    pub spki_der: Vec<u8>,
}

/// Describes a key-details name in words, for diffs.
pub fn describe_key_details(details: &str) -> &'static str {
    match details {
        "PKIX_ECDSA_P256_SHA_256" => "ECDSA P-256",
        "PKIX_ECDSA_P384_SHA_384" | "PKIX_ECDSA_P384_SHA_256" => "ECDSA P-384",
        "PKIX_ECDSA_P521_SHA_512" | "PKIX_ECDSA_P521_SHA_256" => "ECDSA P-521",
        "PKIX_ED25519" | "PKIX_ED25519_PH" => "Ed25519",
        "ML_DSA_44" => "ML-DSA-44",
        "ML_DSA_65" => "ML-DSA-65",
        "ML_DSA_87" => "ML-DSA-87",
        "LMS_SHA256" | "LMOTS_SHA256" => "LMS",
        d if d.contains("RSA") => "RSA",
        _ => "unknown key type",
    }
}

/// Decodes standard base64 (the proto3 JSON mapping of `bytes`; URL-safe is accepted too).
pub fn decode_b64(s: &str) -> Result<Vec<u8>, Base64Error> {
    B64.decode(s)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(s))
        .map_err(|e| Base64Error { reason: e.to_string() })
}

/// Encodes standard base64.
pub fn encode_b64(b: &[u8]) -> String {
    B64.encode(b)
}

fn spki_algorithm(der: &[u8]) -> Result<(ObjectIdentifier, Option<ObjectIdentifier>, Vec<u8>), KeyError> {
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| KeyError::NotSpki { reason: e.to_string() })?;
    let param = spki.algorithm.parameters_oid().ok();
    let key = spki.subject_public_key.as_bytes().ok_or(KeyError::UnusedBits)?.to_vec();
    Ok((spki.algorithm.oid, param, key))
}

/// Re-encodes a PKCS#1 RSAPublicKey as SPKI (the original bytes are kept inside).
pub fn pkcs1_to_spki(pkcs1: &[u8]) -> Result<Vec<u8>, KeyError> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    rsa::RsaPublicKey::from_pkcs1_der(pkcs1).map_err(|e| KeyError::NotPkcs1 { reason: e.to_string() })?;
    let spki = SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: OID_RSA,
            parameters: Some(x509_cert::der::asn1::Null.into()),
        },
        subject_public_key: BitString::from_bytes(pkcs1).map_err(|e| KeyError::Encoding { reason: e.to_string() })?,
    };
    spki.to_der().map_err(|e| KeyError::Encoding { reason: e.to_string() })
}

/// Parses a key in SPKI DER form and says what it is.
pub fn parse_spki(der: &[u8]) -> Result<ParsedKey, KeyError> {
    let (oid, param, key) = spki_algorithm(der)?;
    let kind = if oid == OID_EC_PUBLIC_KEY {
        match param {
            Some(c) if c == OID_P256 => {
                use p256::pkcs8::DecodePublicKey;
                p256::PublicKey::from_public_key_der(der).map_err(|e| KeyError::InvalidPoint {
                    algorithm: "P-256",
                    reason: e.to_string(),
                })?;
                KeyKind::EcdsaP256
            }
            Some(c) if c == OID_P384 => {
                use p384::pkcs8::DecodePublicKey;
                p384::PublicKey::from_public_key_der(der).map_err(|e| KeyError::InvalidPoint {
                    algorithm: "P-384",
                    reason: e.to_string(),
                })?;
                KeyKind::EcdsaP384
            }
            Some(c) if c == OID_P521 => {
                if key.len() != 133 || key[0] != 4 {
                    return Err(KeyError::P521NotUncompressed);
                }
                KeyKind::EcdsaP521
            }
            Some(c) => return Err(KeyError::UnsupportedCurve { curve: c.to_string() }),
            None => return Err(KeyError::NoNamedCurve),
        }
    } else if oid == OID_ED25519 {
        let raw: [u8; 32] = key.as_slice().try_into().map_err(|_| KeyError::WrongLength {
            algorithm: "Ed25519",
            expected: 32,
            found: key.len(),
        })?;
        ed25519_dalek::VerifyingKey::from_bytes(&raw).map_err(|e| KeyError::InvalidPoint {
            algorithm: "Ed25519",
            reason: e.to_string(),
        })?;
        KeyKind::Ed25519(raw)
    } else if oid == OID_RSA || oid == OID_RSA_PSS {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::traits::PublicKeyParts;
        let k = rsa::RsaPublicKey::from_pkcs1_der(&key).map_err(|e| KeyError::InvalidRsa { reason: e.to_string() })?;
        KeyKind::Rsa { bits: k.n().bits() }
    } else if oid == OID_ML_DSA_44 || oid == OID_ML_DSA_65 || oid == OID_ML_DSA_87 {
        let (name, len) = if oid == OID_ML_DSA_44 {
            ("ML-DSA-44", 1312)
        } else if oid == OID_ML_DSA_65 {
            ("ML-DSA-65", 1952)
        } else {
            ("ML-DSA-87", 2592)
        };
        if key.len() != len {
            return Err(KeyError::WrongLength {
                algorithm: name,
                expected: len,
                found: key.len(),
            });
        }
        KeyKind::MlDsa(name)
    } else {
        return Err(KeyError::UnsupportedAlgorithm { oid: oid.to_string() });
    };
    Ok(ParsedKey {
        kind,
        spki_der: der.to_vec(),
    })
}

/// Parses `raw` (decoded `rawBytes`) as the key type `details` implies.
pub fn parse_raw(raw: &[u8], details: &str) -> Result<ParsedKey, KeyError> {
    if details.starts_with("PKCS1_") {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::traits::PublicKeyParts;
        let k = rsa::RsaPublicKey::from_pkcs1_der(raw).map_err(|e| KeyError::RawNotPkcs1 {
            details: details.to_string(),
            reason: e.to_string(),
        })?;
        return Ok(ParsedKey {
            kind: KeyKind::Rsa { bits: k.n().bits() },
            spki_der: pkcs1_to_spki(raw)?,
        });
    }
    if details == "LMS_SHA256" || details == "LMOTS_SHA256" {
        return Ok(ParsedKey {
            kind: KeyKind::Opaque,
            spki_der: raw.to_vec(),
        });
    }
    let key = parse_spki(raw).map_err(|e| KeyError::RawBytes(Box::new(e)))?;
    let ok = match (&key.kind, details) {
        (KeyKind::EcdsaP256, "PKIX_ECDSA_P256_SHA_256" | "PKIX_ECDSA_P256_HMAC_SHA_256") => true,
        (KeyKind::EcdsaP384, "PKIX_ECDSA_P384_SHA_384" | "PKIX_ECDSA_P384_SHA_256") => true,
        (KeyKind::EcdsaP521, "PKIX_ECDSA_P521_SHA_512" | "PKIX_ECDSA_P521_SHA_256") => true,
        (KeyKind::Ed25519(_), "PKIX_ED25519" | "PKIX_ED25519_PH") => true,
        (KeyKind::Rsa { .. }, "PKIX_RSA_PKCS1V5" | "PKIX_RSA_PSS") => true,
        (KeyKind::Rsa { bits }, d) if d.starts_with("PKIX_RSA_") => d.contains(&format!("_{bits}_")),
        (KeyKind::MlDsa(n), d) => n.replace('-', "_") == d,
        _ => false,
    };
    if !ok {
        return Err(KeyError::DetailsMismatch {
            kind: key.kind.describe(),
            details: details.to_string(),
        });
    }
    Ok(key)
}

/// The key details trustroot records for a key, unless told otherwise.
pub fn default_key_details(kind: &KeyKind, pkcs1: bool) -> Result<&'static str, KeyError> {
    Ok(match kind {
        KeyKind::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256",
        KeyKind::EcdsaP384 => "PKIX_ECDSA_P384_SHA_384",
        KeyKind::EcdsaP521 => "PKIX_ECDSA_P521_SHA_512",
        KeyKind::Ed25519(_) => "PKIX_ED25519",
        KeyKind::Rsa { .. } if pkcs1 => "PKCS1_RSA_PKCS1V5",
        KeyKind::Rsa { bits: 2048 } => "PKIX_RSA_PKCS1V15_2048_SHA256",
        KeyKind::Rsa { bits: 3072 } => "PKIX_RSA_PKCS1V15_3072_SHA256",
        KeyKind::Rsa { bits: 4096 } => "PKIX_RSA_PKCS1V15_4096_SHA256",
        KeyKind::Rsa { .. } => "PKIX_RSA_PKCS1V5",
        KeyKind::MlDsa("ML-DSA-44") => "ML_DSA_44",
        KeyKind::MlDsa("ML-DSA-65") => "ML_DSA_65",
        KeyKind::MlDsa(_) => "ML_DSA_87",
        KeyKind::Opaque => return Err(KeyError::UnknownDetails),
    })
}

/// SHA-256 of the SPKI: the log ID of Rekor v1 and CT logs.
pub fn spki_log_id(spki_der: &[u8]) -> [u8; 32] {
    Sha256::digest(spki_der).into()
}

/// The origin of a log: its `baseUrl` without scheme and path.
pub fn origin_of(base_url: &str) -> &str {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

/// The C2SP signed-note key hash for an Ed25519 key: the Rekor v2 log ID. Its first 4 bytes
/// are the checkpoint key ID.
pub fn checkpoint_log_id(origin: &str, ed25519: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(origin.as_bytes());
    h.update(b"\n");
    h.update([0x01]);
    h.update(ed25519);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn origin_strips_scheme_and_path() {
        assert_eq!(
            origin_of("https://log2025-1.rekor.sigstore.dev"),
            "log2025-1.rekor.sigstore.dev"
        );
        assert_eq!(origin_of("https://ctfe.sigstore.dev/2022"), "ctfe.sigstore.dev");
        assert_eq!(origin_of("rekor.example"), "rekor.example");
    }

    #[test]
    fn prod_rekor_v2_log_id() {
        let raw = decode_b64("MCowBQYDK2VwAyEAt8rlp1knGwjfbcXAYPYAkn0XiLz1x8O4t0YkEhie244=").unwrap();
        let k = parse_raw(&raw, "PKIX_ED25519").unwrap();
        let KeyKind::Ed25519(pk) = k.kind else { panic!() };
        let id = checkpoint_log_id("log2025-1.rekor.sigstore.dev", &pk);
        assert_eq!(encode_b64(&id), "zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A=");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for d in KEY_DETAILS {
            assert!(parse_raw(b"\x30\x03\x02\x01", d).is_err() || *d == "LMS_SHA256" || *d == "LMOTS_SHA256");
        }
    }
}
