//! X.509 certificates and chains, as listed in `certChain.certificates` (leaf-most first).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode, Reader, SliceReader};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage};
use x509_cert::name::Name;
use x509_cert::spki::ObjectIdentifier;

/// Why a certificate cannot be read, or does not verify as issued by another. `reason`
/// fields hold the DER, x509 or signature crate's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    #[error("not a DER X.509 certificate: {reason}")]
    NotDer { reason: String },
    /// The DER reader refused the certificate's structure.
    #[error("{reason}")]
    Encoding { reason: String },
    #[error("the extended key usage extension cannot be read: {reason}")]
    ExtendedKeyUsage { reason: String },
    #[error("the basic constraints extension cannot be read: {reason}")]
    BasicConstraints { reason: String },
    /// `issuer` and `subject` are distinguished names as shown.
    #[error("its issuer ({issuer}) is not the next certificate's subject ({subject})")]
    IssuerMismatch { issuer: String, subject: String },
    #[error("the signature bit string has unused bits")]
    SignatureUnusedBits,
    #[error("the issuer key cannot be read: {reason}")]
    IssuerKey { reason: String },
    #[error("the signature does not verify: {reason}")]
    BadSignature { reason: String },
    /// `key` is `EC` or `Ed25519`; `algorithm` the signature algorithm's OID.
    #[error("an {key} issuer key cannot check a signature of algorithm {algorithm}")]
    AlgorithmMismatch { key: &'static str, algorithm: String },
    #[error("trustroot checks certificate signatures from P-256 and P-384 keys only")]
    UnsupportedCurve,
    #[error("trustroot cannot check an RSA signature of algorithm {algorithm}")]
    UnsupportedRsaAlgorithm { algorithm: String },
    #[error("the issuer's Ed25519 key is not 32 bytes")]
    Ed25519KeyLength,
    #[error("trustroot cannot check signatures from issuer keys of algorithm {algorithm}")]
    UnsupportedKeyAlgorithm { algorithm: String },
}

/// Where a list of certificates, in the order listed, stops being a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("certificate {index} is not signed by certificate {}: {reason}", index + 1)]
pub struct ChainBreak {
    /// The certificate that the next one did not issue.
    pub index: usize,
    pub reason: CertError,
}
use super::keys::{OID_EC_PUBLIC_KEY, OID_ED25519, OID_P256, OID_P384, OID_RSA};

const OID_ORG: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_EKU: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
/// id-kp-timeStamping.
pub const OID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
/// ecdsa-with-SHA256.
pub const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384.
pub const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
/// ecdsa-with-SHA512.
pub const OID_ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const OID_RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_RSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const OID_RSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");

/// The longest chain for which trustroot searches for another valid order.
pub const MAX_REORDER: usize = 8;

/// A parsed certificate with what the checks need.
#[derive(Debug, Clone)]
pub struct ParsedCert {
    pub der: Vec<u8>,
    tbs: Vec<u8>,
    subject_der: Vec<u8>,
    issuer_der: Vec<u8>,
    spki_der: Vec<u8>,
    sig_alg: ObjectIdentifier,
    signature: Vec<u8>,
    pub subject: Subject,
    pub issuer: Subject,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub ekus: Vec<ObjectIdentifier>,
    /// Whether the extended key usage extension is marked critical (RFC 3161 requires it
    /// of a timestamping certificate).
    pub eku_critical: bool,
    pub is_ca: bool,
}

/// The `organization` and `commonName` of a name (what `subject` records).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subject {
    pub organization: Option<String>,
    pub common_name: Option<String>,
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "O={}, CN={}",
            self.organization.as_deref().unwrap_or(""),
            self.common_name.as_deref().unwrap_or("")
        )
    }
}

fn subject_of(name: &Name) -> Subject {
    let mut s = Subject::default();
    for rdn in name.0.iter() {
        for atv in rdn.0.iter() {
            let text = String::from_utf8_lossy(atv.value.value()).into_owned();
            if atv.oid == OID_ORG && s.organization.is_none() {
                s.organization = Some(text);
            } else if atv.oid == OID_CN && s.common_name.is_none() {
                s.common_name = Some(text);
            }
        }
    }
    s
}

fn to_utc(t: x509_cert::time::Time) -> DateTime<Utc> {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Parses one DER certificate.
pub fn parse_cert(der: &[u8]) -> Result<ParsedCert, CertError> {
    let encoding = |e: x509_cert::der::Error| CertError::Encoding { reason: e.to_string() };
    let cert = Certificate::from_der(der).map_err(|e| CertError::NotDer { reason: e.to_string() })?;
    let tbs = {
        let mut r = SliceReader::new(der).map_err(encoding)?;
        let outer = x509_cert::der::Header::decode(&mut r).map_err(encoding)?;
        let _ = outer;
        r.tlv_bytes().map_err(encoding)?.to_vec()
    };
    let t = &cert.tbs_certificate;
    let mut ekus = Vec::new();
    let mut eku_critical = false;
    let mut is_ca = false;
    for ext in t.extensions.iter().flatten() {
        if ext.extn_id == OID_EKU {
            let e = ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
                .map_err(|e| CertError::ExtendedKeyUsage { reason: e.to_string() })?;
            ekus = e.0;
            eku_critical = ext.critical;
        } else if ext.extn_id == OID_BASIC_CONSTRAINTS {
            let b = BasicConstraints::from_der(ext.extn_value.as_bytes())
                .map_err(|e| CertError::BasicConstraints { reason: e.to_string() })?;
            is_ca = b.ca;
        }
    }
    Ok(ParsedCert {
        der: der.to_vec(),
        tbs,
        subject_der: t.subject.to_der().map_err(encoding)?,
        issuer_der: t.issuer.to_der().map_err(encoding)?,
        spki_der: t.subject_public_key_info.to_der().map_err(encoding)?,
        sig_alg: cert.signature_algorithm.oid,
        signature: cert
            .signature
            .as_bytes()
            .ok_or(CertError::SignatureUnusedBits)?
            .to_vec(),
        subject: subject_of(&t.subject),
        issuer: subject_of(&t.issuer),
        not_before: to_utc(t.validity.not_before),
        not_after: to_utc(t.validity.not_after),
        ekus,
        eku_critical,
        is_ca,
    })
}

impl ParsedCert {
    /// Whether the subject and issuer names are the same.
    pub fn self_issued(&self) -> bool {
        self.subject_der == self.issuer_der
    }

    /// Whether this certificate is self-issued and its signature verifies with its own key.
    pub fn self_signed(&self) -> bool {
        self.self_issued() && self.signed_by(self).is_ok()
    }

    /// Checks that `issuer` issued this certificate: names chain and the signature verifies.
    pub fn signed_by(&self, issuer: &ParsedCert) -> Result<(), CertError> {
        if self.issuer_der != issuer.subject_der {
            return Err(CertError::IssuerMismatch {
                issuer: self.issuer.to_string(),
                subject: issuer.subject.to_string(),
            });
        }
        verify_cached(&issuer.spki_der, self.sig_alg, &self.tbs, &self.signature)
    }

    /// Whether the extended key usage lists `timeStamping`.
    pub fn has_time_stamping_eku(&self) -> bool {
        self.ekus.contains(&OID_KP_TIME_STAMPING)
    }

    /// The subject public key, DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The DER of the TBSCertificate, as signed.
    pub fn tbs_der(&self) -> &[u8] {
        &self.tbs
    }

    /// SHA-256 of the DER, hex, for messages.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(&self.der))
    }
}

/// Signature checks are memoised per process: a chain is checked in several orders, and a
/// file before and after an edit; P-384 verification is the slowest thing trustroot does
/// on these files.
fn verify_cached(issuer_spki: &[u8], alg: ObjectIdentifier, msg: &[u8], sig: &[u8]) -> Result<(), CertError> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Cache = Mutex<HashMap<[u8; 32], Result<(), CertError>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let mut h = Sha256::new();
    for part in [issuer_spki, alg.as_bytes(), msg, sig] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    let key: [u8; 32] = h.finalize().into();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let hit = cache.lock().ok().and_then(|c| c.get(&key).cloned());
    if let Some(r) = hit {
        return r;
    }
    let r = verify_signature(issuer_spki, alg, msg, sig);
    if let Ok(mut c) = cache.lock() {
        if c.len() > 4096 {
            c.clear();
        }
        c.insert(key, r.clone());
    }
    r
}

/// Checks `sig` over `msg` with the key `issuer_spki` (DER SubjectPublicKeyInfo) for the
/// signature algorithm `alg` (ECDSA P-256/P-384 with SHA-2, RSA PKCS#1 v1.5, Ed25519).
pub fn verify_signature(issuer_spki: &[u8], alg: ObjectIdentifier, msg: &[u8], sig: &[u8]) -> Result<(), CertError> {
    let spki = x509_cert::spki::SubjectPublicKeyInfoRef::from_der(issuer_spki)
        .map_err(|e| CertError::IssuerKey { reason: e.to_string() })?;
    let key_alg = spki.algorithm.oid;
    let bad = |e: &dyn std::fmt::Display| CertError::BadSignature { reason: e.to_string() };
    if key_alg == OID_EC_PUBLIC_KEY {
        let digest: Vec<u8> = if alg == OID_ECDSA_SHA256 {
            Sha256::digest(msg).to_vec()
        } else if alg == OID_ECDSA_SHA384 {
            Sha384::digest(msg).to_vec()
        } else if alg == OID_ECDSA_SHA512 {
            Sha512::digest(msg).to_vec()
        } else {
            return Err(CertError::AlgorithmMismatch {
                key: "EC",
                algorithm: alg.to_string(),
            });
        };
        let curve = spki.algorithm.parameters_oid().ok();
        if curve == Some(OID_P256) {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            use p256::pkcs8::DecodePublicKey;
            let vk = p256::ecdsa::VerifyingKey::from_public_key_der(issuer_spki).map_err(|e| bad(&e))?;
            let s = p256::ecdsa::Signature::from_der(sig).map_err(|e| bad(&e))?;
            vk.verify_prehash(&digest, &s).map_err(|e| bad(&e))
        } else if curve == Some(OID_P384) {
            use p384::ecdsa::signature::hazmat::PrehashVerifier;
            use p384::pkcs8::DecodePublicKey;
            let vk = p384::ecdsa::VerifyingKey::from_public_key_der(issuer_spki).map_err(|e| bad(&e))?;
            let s = p384::ecdsa::Signature::from_der(sig).map_err(|e| bad(&e))?;
            vk.verify_prehash(&digest, &s).map_err(|e| bad(&e))
        } else {
            Err(CertError::UnsupportedCurve)
        }
    } else if key_alg == OID_RSA {
        use rsa::pkcs8::DecodePublicKey;
        use rsa::signature::Verifier;
        let pk = rsa::RsaPublicKey::from_public_key_der(issuer_spki).map_err(|e| bad(&e))?;
        let s = rsa::pkcs1v15::Signature::try_from(sig).map_err(|e| bad(&e))?;
        if alg == OID_RSA_SHA256 {
            rsa::pkcs1v15::VerifyingKey::<Sha256>::new(pk)
                .verify(msg, &s)
                .map_err(|e| bad(&e))
        } else if alg == OID_RSA_SHA384 {
            rsa::pkcs1v15::VerifyingKey::<Sha384>::new(pk)
                .verify(msg, &s)
                .map_err(|e| bad(&e))
        } else if alg == OID_RSA_SHA512 {
            rsa::pkcs1v15::VerifyingKey::<Sha512>::new(pk)
                .verify(msg, &s)
                .map_err(|e| bad(&e))
        } else {
            Err(CertError::UnsupportedRsaAlgorithm {
                algorithm: alg.to_string(),
            })
        }
    } else if key_alg == OID_ED25519 {
        use ed25519_dalek::Verifier;
        if alg != OID_ED25519 {
            return Err(CertError::AlgorithmMismatch {
                key: "Ed25519",
                algorithm: alg.to_string(),
            });
        }
        let raw: [u8; 32] = spki
            .subject_public_key
            .raw_bytes()
            .try_into()
            .map_err(|_| CertError::Ed25519KeyLength)?;
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&raw).map_err(|e| bad(&e))?;
        let s = ed25519_dalek::Signature::from_slice(sig).map_err(|e| bad(&e))?;
        vk.verify(msg, &s).map_err(|e| bad(&e))
    } else {
        Err(CertError::UnsupportedKeyAlgorithm {
            algorithm: key_alg.to_string(),
        })
    }
}

/// How a list of certificates forms a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainOrder {
    /// Each certificate is signed by the next one, as listed.
    AsListed,
    /// The certificates form a chain in another order, leaf-most first (indices into the list).
    Reordered(Vec<usize>),
    /// No order forms a chain; where the listed order breaks.
    Broken(ChainBreak),
}

/// Checks whether `certs` form a chain, leaf-most first.
pub fn chain_order(certs: &[ParsedCert]) -> ChainOrder {
    let n = certs.len();
    let mut first_break = None;
    for i in 0..n.saturating_sub(1) {
        if let Err(reason) = certs[i].signed_by(&certs[i + 1]) {
            first_break = Some(ChainBreak { index: i, reason });
            break;
        }
    }
    let Some(msg) = first_break else {
        return ChainOrder::AsListed;
    };
    if n > MAX_REORDER {
        return ChainOrder::Broken(msg);
    }
    // signs[a][b]: certificate a is signed by certificate b.
    let signs: Vec<Vec<bool>> = (0..n)
        .map(|a| {
            (0..n)
                .map(|b| a != b && certs[a].signed_by(&certs[b]).is_ok())
                .collect()
        })
        .collect();
    fn dfs(path: &mut Vec<usize>, used: &mut [bool], signs: &[Vec<bool>]) -> bool {
        if path.len() == used.len() {
            return true;
        }
        let Some(&last) = path.last() else { return false };
        for next in 0..used.len() {
            if !used[next] && signs[last][next] {
                used[next] = true;
                path.push(next);
                if dfs(path, used, signs) {
                    return true;
                }
                path.pop();
                used[next] = false;
            }
        }
        false
    }
    for start in 0..n {
        let mut used = vec![false; n];
        used[start] = true;
        let mut path = vec![start];
        if dfs(&mut path, &mut used, &signs) {
            return ChainOrder::Reordered(path);
        }
    }
    ChainOrder::Broken(msg)
}
