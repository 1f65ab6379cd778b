//! A Sigstore-like instance built in the tests: a Fulcio-shaped CA (P-384 root and
//! intermediate), a CT log and a Rekor v1 log (P-256), an RFC 3161 timestamp authority
//! (P-384 root and timestamping leaf), the certificates, SCTs, log entries, inclusion
//! promises, inclusion proofs, checkpoints and signed timestamps they make, and the matching
//! `trusted_root.json`. Built by hand with x509-cert's, cms's and x509-tsp's types (no
//! certificate or CMS builder), every knob an attack test needs is a field of [`Leaf`],
//! [`Entry`] or [`Stamp`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use p256::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha384};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::der::asn1::{BitString, GeneralizedTime, Ia5String, Int, OctetString, SetOfVec, UtcTime, Utf8StringRef};
use x509_cert::der::{Any, Decode, Encode, Tag};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_tsp::{MessageImprint, TspVersion, TstInfo};

const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
const TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// ESS signingCertificateV2 (RFC 5035): which certificate signed, as RFC 3161 requires.
const SIGNING_CERTIFICATE_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// The TSA's policy: Sigstore's timestamp authority's arc, any OID would do.
const TSA_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.2");

pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn time(t: DateTime<Utc>) -> Time {
    let secs = std::time::Duration::from_secs(u64::try_from(t.timestamp()).unwrap());
    Time::UtcTime(UtcTime::from_unix_duration(secs).unwrap())
}

fn spki_p256(key: &p256::ecdsa::SigningKey) -> SubjectPublicKeyInfoOwned {
    let der = key.verifying_key().to_public_key_der().unwrap();
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).unwrap()
}

fn spki_p384(key: &p384::ecdsa::SigningKey) -> SubjectPublicKeyInfoOwned {
    use p384::pkcs8::EncodePublicKey as _;
    let der = key.verifying_key().to_public_key_der().unwrap();
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).unwrap()
}

fn sign_p256(key: &p256::ecdsa::SigningKey, msg: &[u8]) -> Vec<u8> {
    use p256::ecdsa::signature::Signer;
    let sig: p256::ecdsa::Signature = key.sign(msg);
    sig.to_der().as_bytes().to_vec()
}

fn sign_p384(key: &p384::ecdsa::SigningKey, msg: &[u8]) -> Vec<u8> {
    use p384::ecdsa::signature::Signer;
    let sig: p384::ecdsa::Signature = key.sign(msg);
    sig.to_der().as_bytes().to_vec()
}

fn ext(oid: &str, critical: bool, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: ObjectIdentifier::new_unwrap(oid),
        critical,
        extn_value: OctetString::new(value).unwrap(),
    }
}

fn name(s: &str) -> Name {
    s.parse().unwrap()
}

fn alg(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid, parameters: None }
}

/// Signs `tbs` with the P-384 `key` (ecdsa-with-SHA384, as Fulcio's intermediate does).
fn certificate(tbs: TbsCertificate, key: &p384::ecdsa::SigningKey) -> Vec<u8> {
    let signature = sign_p384(key, &tbs.to_der().unwrap());
    Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg(ECDSA_SHA384),
        signature: BitString::from_bytes(&signature).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// A key identifier (SKI, and AKI of what it issues): 20 bytes of the key's hash. Real
/// Fulcio certificates carry both, and path builders (Python's cryptography, which
/// sigstore-python verifies with) require them.
fn key_id(spki: &SubjectPublicKeyInfoOwned) -> OctetString {
    OctetString::new(Sha256::digest(spki.to_der().unwrap())[..20].to_vec()).unwrap()
}

fn authority(issuer: &SubjectPublicKeyInfoOwned) -> Extension {
    let aki = x509_cert::ext::pkix::AuthorityKeyIdentifier {
        key_identifier: Some(key_id(issuer)),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    ext("2.5.29.35", false, aki.to_der().unwrap())
}

/// A CA certificate; `eku` lists its extended key usages (none: no extension).
fn ca_tbs(
    serial: u8,
    subject: &str,
    issuer: &str,
    spki: SubjectPublicKeyInfoOwned,
    issuer_spki: &SubjectPublicKeyInfoOwned,
    eku: &[ObjectIdentifier],
) -> TbsCertificate {
    let bc = BasicConstraints {
        ca: true,
        path_len_constraint: None,
    };
    let ku = KeyUsage(KeyUsages::KeyCertSign.into());
    let mut extensions = vec![
        ext("2.5.29.19", true, bc.to_der().unwrap()),
        ext("2.5.29.15", true, ku.to_der().unwrap()),
        ext(
            "2.5.29.14",
            false,
            x509_cert::ext::pkix::SubjectKeyIdentifier(key_id(&spki))
                .to_der()
                .unwrap(),
        ),
        authority(issuer_spki),
    ];
    if !eku.is_empty() {
        // Where the Fulcio CA certificates have it, after the key usage.
        let eku = ExtendedKeyUsage(eku.to_vec());
        extensions.insert(2, ext("2.5.29.37", false, eku.to_der().unwrap()));
    }
    TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&[serial]).unwrap(),
        signature: alg(ECDSA_SHA384),
        issuer: name(issuer),
        validity: Validity {
            not_before: time(at("2025-01-01T00:00:00Z")),
            not_after: time(at("2030-01-01T00:00:00Z")),
        },
        subject: name(subject),
        extensions: Some(extensions),
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
    }
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A Sigstore-like instance. `ca_seed` and `log_seed` pick the keys: an instance with
/// another CA seed is an attacker's CA beside the same logs.
pub struct Instance {
    inter_key: p384::ecdsa::SigningKey,
    pub root_der: Vec<u8>,
    pub inter_der: Vec<u8>,
    ct_key: p256::ecdsa::SigningKey,
    rekor_key: p256::ecdsa::SigningKey,
    leaf_key: p256::ecdsa::SigningKey,
    tsa: Tsa,
}

/// The RFC 3161 timestamp authority: a P-384 root and the timestamping leaf it issued.
struct Tsa {
    key: p384::ecdsa::SigningKey,
    /// Not the TSA's key: what a forger signs with under the TSA's name.
    forger_key: p384::ecdsa::SigningKey,
    root_der: Vec<u8>,
    leaf_der: Vec<u8>,
}

impl Tsa {
    fn new(seed: u8) -> Self {
        Self::with_purposes(seed, &[TIME_STAMPING], true)
    }

    /// A TSA whose leaf's extended key usage lists `purposes`, `critical` or not.
    fn with_purposes(seed: u8, purposes: &[ObjectIdentifier], critical: bool) -> Self {
        let root_key = p384::ecdsa::SigningKey::from_slice(&[seed.wrapping_add(40); 48]).unwrap();
        let key = p384::ecdsa::SigningKey::from_slice(&[seed.wrapping_add(41); 48]).unwrap();
        let root_name = format!("O=tsa{seed},CN=test-tsa-root");
        let root_spki = spki_p384(&root_key);
        // A TSA root lists no extended key usage; its leaf only timeStamping, critical
        // (RFC 3161 section 2.3).
        let root_der = certificate(
            ca_tbs(1, &root_name, &root_name, root_spki.clone(), &root_spki, &[]),
            &root_key,
        );
        let spki = spki_p384(&key);
        let leaf = TbsCertificate {
            version: Version::V3,
            serial_number: SerialNumber::new(&[0x51]).unwrap(),
            signature: alg(ECDSA_SHA384),
            issuer: name(&root_name),
            validity: Validity {
                not_before: time(at("2025-01-01T00:00:00Z")),
                not_after: time(at("2030-01-01T00:00:00Z")),
            },
            subject: name(&format!("O=tsa{seed},CN=test-tsa")),
            extensions: Some(vec![
                ext(
                    "2.5.29.15",
                    true,
                    KeyUsage(KeyUsages::DigitalSignature.into()).to_der().unwrap(),
                ),
                ext(
                    "2.5.29.37",
                    critical,
                    ExtendedKeyUsage(purposes.to_vec()).to_der().unwrap(),
                ),
                ext(
                    "2.5.29.14",
                    false,
                    x509_cert::ext::pkix::SubjectKeyIdentifier(key_id(&spki))
                        .to_der()
                        .unwrap(),
                ),
                authority(&root_spki),
            ]),
            subject_public_key_info: spki,
            issuer_unique_id: None,
            subject_unique_id: None,
        };
        Tsa {
            key,
            forger_key: p384::ecdsa::SigningKey::from_slice(&[seed.wrapping_add(42); 48]).unwrap(),
            root_der,
            leaf_der: certificate(leaf, &root_key),
        }
    }

    /// A DER `TimeStampResp` (status granted) whose token is CMS SignedData over a TSTInfo
    /// stamping `signature` (SHA-256 imprint, as Sigstore's TSA is asked for), signed with
    /// ecdsa-with-SHA384 over signed attributes, the TSA's leaf embedded.
    fn stamp(&self, signature: &[u8], stamp: &Stamp) -> Vec<u8> {
        let leaf = Certificate::from_der(&self.leaf_der).unwrap();
        let secs = std::time::Duration::from_secs(u64::try_from(stamp.gen_time.timestamp()).unwrap());
        let tst = TstInfo {
            version: TspVersion::V1,
            policy: TSA_POLICY,
            message_imprint: MessageImprint {
                hash_algorithm: alg(SHA256),
                hashed_message: OctetString::new(Sha256::digest(signature).to_vec()).unwrap(),
            },
            serial_number: Int::new(&[0x01, 0x23]).unwrap(),
            gen_time: GeneralizedTime::from_unix_duration(secs).unwrap(),
            accuracy: None,
            ordering: false,
            nonce: None,
            tsa: None,
            extensions: None,
        };
        let tst_der = tst.to_der().unwrap();
        let attribute = |oid: ObjectIdentifier, value: Any| Attribute {
            oid,
            values: SetOfVec::try_from(vec![value]).unwrap(),
        };
        // SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { certHash (SHA-256) } }.
        let cert_hash = OctetString::new(Sha256::digest(&self.leaf_der).to_vec()).unwrap();
        let ess_cert_id = Any::new(Tag::Sequence, cert_hash.to_der().unwrap()).unwrap();
        let certs = Any::new(Tag::Sequence, ess_cert_id.to_der().unwrap()).unwrap();
        let signing_certificate = Any::new(Tag::Sequence, certs.to_der().unwrap()).unwrap();
        let digest = OctetString::new(Sha384::digest(&tst_der).to_vec()).unwrap();
        let attrs = SetOfVec::try_from(vec![
            attribute(CONTENT_TYPE, Any::encode_from(&TST_INFO).unwrap()),
            attribute(MESSAGE_DIGEST, Any::encode_from(&digest).unwrap()),
            attribute(SIGNING_CERTIFICATE_V2, signing_certificate),
        ])
        .unwrap();
        // The signature covers the attributes' DER as a SET OF (RFC 5652 section 5.4).
        let signer_key = if stamp.forged { &self.forger_key } else { &self.key };
        let signature = sign_p384(signer_key, &attrs.to_der().unwrap());
        let signer = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: leaf.tbs_certificate.issuer.clone(),
                serial_number: leaf.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: alg(SHA384),
            signed_attrs: Some(attrs),
            signature_algorithm: alg(ECDSA_SHA384),
            signature: OctetString::new(signature).unwrap(),
            unsigned_attrs: None,
        };
        let signed_data = SignedData {
            version: CmsVersion::V3,
            digest_algorithms: SetOfVec::try_from(vec![alg(SHA384)]).unwrap(),
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: TST_INFO,
                econtent: Some(Any::new(Tag::OctetString, tst_der).unwrap()),
            },
            certificates: Some(CertificateSet(
                SetOfVec::try_from(vec![CertificateChoices::Certificate(leaf)]).unwrap(),
            )),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer]).unwrap()),
        };
        let token = ContentInfo {
            content_type: SIGNED_DATA,
            content: Any::encode_from(&signed_data).unwrap(),
        };
        // TimeStampResp ::= SEQUENCE { status PKIStatusInfo { granted (0) }, timeStampToken }.
        let status = Any::new(Tag::Sequence, vec![0x02, 0x01, 0x00]).unwrap();
        let mut resp = status.to_der().unwrap();
        resp.extend_from_slice(&token.to_der().unwrap());
        Any::new(Tag::Sequence, resp).unwrap().to_der().unwrap()
    }
}

/// How a leaf certificate is made.
#[derive(Clone)]
pub struct Leaf {
    /// An email (with `@`) or a URI.
    pub identity: String,
    /// `.1.1` (raw) and `.1.8` (UTF8String) OIDC issuer extensions.
    pub issuer_v1: Option<String>,
    pub issuer_v8: Option<String>,
    pub not_before: DateTime<Utc>,
    pub minutes: i64,
    pub code_signing: bool,
    pub is_ca: bool,
    pub sct: Sct,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sct {
    /// An SCT by the instance's CT log over this certificate.
    Valid,
    /// No SCT extension.
    None,
    /// An SCT by the instance's CT log, over another precertificate.
    OverAnotherCertificate,
}

impl Leaf {
    pub fn new(identity: &str, issuer: &str) -> Self {
        Leaf {
            identity: identity.into(),
            issuer_v1: Some(issuer.into()),
            issuer_v8: Some(issuer.into()),
            not_before: at("2026-01-01T00:00:00Z"),
            minutes: 10,
            code_signing: true,
            is_ca: false,
            sct: Sct::Valid,
        }
    }
}

/// How the log entry of a signature, and its time sources, are made.
#[derive(Clone)]
pub struct Entry {
    pub integrated_time: DateTime<Utc>,
    /// Whether the log signed an inclusion promise, Rekor v1's signed time. Without one,
    /// `integratedTime` vouches for nothing: the time must come from a signed timestamp.
    pub promise: bool,
    /// An RFC 3161 signed timestamp in the bundle, beside the entry.
    pub timestamp: Option<Stamp>,
}

impl Default for Entry {
    /// The log entry (with its promise) is the time source.
    fn default() -> Self {
        Entry {
            integrated_time: at("2026-01-01T00:01:00Z"),
            promise: true,
            timestamp: None,
        }
    }
}

impl Entry {
    /// A signed timestamp at `time` is the only time source: the entry has an inclusion
    /// proof but no promise, as a Rekor v2 entry (time from a TSA) has.
    pub fn timestamped(time: DateTime<Utc>) -> Self {
        Entry {
            promise: false,
            timestamp: Some(Stamp::at(time)),
            ..Entry::default()
        }
    }
}

/// How a signed timestamp is made.
#[derive(Clone)]
pub struct Stamp {
    /// The TSTInfo's genTime.
    pub gen_time: DateTime<Utc>,
    /// The message imprint is over another signature than the bundle's.
    pub over_another_signature: bool,
    /// Signed by a key that is not the TSA's, naming the TSA's certificate.
    pub forged: bool,
}

impl Stamp {
    /// A timestamp of the instance's TSA over the bundle's signature at `gen_time`.
    pub fn at(gen_time: DateTime<Utc>) -> Self {
        Stamp {
            gen_time,
            over_another_signature: false,
            forged: false,
        }
    }
}

impl Instance {
    pub fn new(ca_seed: u8, log_seed: u8) -> Self {
        let root_key = p384::ecdsa::SigningKey::from_slice(&[ca_seed; 48]).unwrap();
        let inter_key = p384::ecdsa::SigningKey::from_slice(&[ca_seed.wrapping_add(1); 48]).unwrap();
        let root_name = format!("O=test{ca_seed},CN=test-root");
        let inter_name = format!("O=test{ca_seed},CN=test-intermediate");
        let root_spki = spki_p384(&root_key);
        // Like the real ones, Fulcio's CA certificates list codeSigning.
        let root_der = certificate(
            ca_tbs(
                1,
                &root_name,
                &root_name,
                root_spki.clone(),
                &root_spki,
                &[CODE_SIGNING],
            ),
            &root_key,
        );
        let inter_der = certificate(
            ca_tbs(
                2,
                &inter_name,
                &root_name,
                spki_p384(&inter_key),
                &root_spki,
                &[CODE_SIGNING],
            ),
            &root_key,
        );
        Instance {
            inter_key,
            root_der,
            inter_der,
            ct_key: p256::ecdsa::SigningKey::from_slice(&[log_seed.wrapping_add(10); 32]).unwrap(),
            rekor_key: p256::ecdsa::SigningKey::from_slice(&[log_seed.wrapping_add(20); 32]).unwrap(),
            leaf_key: p256::ecdsa::SigningKey::from_slice(&[ca_seed.wrapping_add(30); 32]).unwrap(),
            tsa: Tsa::new(log_seed),
        }
    }

    /// The same instance with another timestamp authority (by default the TSA's seed is
    /// `log_seed`): an attacker's TSA beside the real CA and logs.
    pub fn with_tsa_seed(mut self, tsa_seed: u8) -> Self {
        self.tsa = Tsa::new(tsa_seed);
        self
    }

    /// The same instance with a TSA (made from seed 1, listed in its trusted root as any)
    /// whose leaf lists these extended key usages (by OID text), `critical` or not: RFC 3161
    /// allows timeStamping alone, critical.
    pub fn with_tsa_purposes(mut self, purposes: &[&str], critical: bool) -> Self {
        let purposes: Vec<ObjectIdentifier> = purposes.iter().map(|p| ObjectIdentifier::new_unwrap(p)).collect();
        self.tsa = Tsa::with_purposes(1, &purposes, critical);
        self
    }

    fn inter_name(&self) -> Name {
        Certificate::from_der(&self.inter_der).unwrap().tbs_certificate.subject
    }

    fn ct_spki(&self) -> Vec<u8> {
        spki_p256(&self.ct_key).to_der().unwrap()
    }

    fn rekor_spki(&self) -> Vec<u8> {
        spki_p256(&self.rekor_key).to_der().unwrap()
    }

    pub fn rekor_log_id(&self) -> [u8; 32] {
        Sha256::digest(self.rekor_spki()).into()
    }

    /// The matching `trusted_root.json` (CA, Rekor log, CT log, TSA), every window open from
    /// 2025-01-01; `ca_end` closes the CA's.
    pub fn trusted_root(&self, ca_end: Option<&str>) -> Value {
        let log = |spki: Vec<u8>, url: &str| {
            json!({
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": b64(&spki),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": "2025-01-01T00:00:00Z"}
                },
                "logId": {"keyId": b64(&Sha256::digest(&spki))}
            })
        };
        let mut valid_for = json!({"start": "2025-01-01T00:00:00Z"});
        if let Some(end) = ca_end {
            valid_for["end"] = json!(end);
        }
        json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(self.rekor_spki(), "https://rekor.test.local")],
            "certificateAuthorities": [{
                "subject": {"organization": "test", "commonName": "test-intermediate"},
                "uri": "https://fulcio.test.local",
                "certChain": {"certificates": [{"rawBytes": b64(&self.inter_der)}, {"rawBytes": b64(&self.root_der)}]},
                "validFor": valid_for
            }],
            "ctlogs": [log(self.ct_spki(), "https://ctfe.test.local")],
            "timestampAuthorities": [{
                "subject": {"organization": "test", "commonName": "test-tsa"},
                "uri": "https://tsa.test.local",
                "certChain": {"certificates": [{"rawBytes": b64(&self.tsa.leaf_der)}, {"rawBytes": b64(&self.tsa.root_der)}]},
                "validFor": {"start": "2025-01-01T00:00:00Z"}
            }]
        })
    }

    /// A Fulcio-shaped leaf certificate for the instance's signing key.
    pub fn leaf(&self, leaf: &Leaf) -> Vec<u8> {
        let san = if leaf.identity.contains('@') {
            GeneralName::Rfc822Name(Ia5String::new(&leaf.identity).unwrap())
        } else {
            GeneralName::UniformResourceIdentifier(Ia5String::new(&leaf.identity).unwrap())
        };
        let eku = ExtendedKeyUsage(vec![if leaf.code_signing { CODE_SIGNING } else { SERVER_AUTH }]);
        let mut exts = vec![
            authority(&spki_p384(&self.inter_key)),
            ext(
                "2.5.29.15",
                true,
                KeyUsage(KeyUsages::DigitalSignature.into()).to_der().unwrap(),
            ),
            ext("2.5.29.37", false, eku.to_der().unwrap()),
            ext("2.5.29.17", true, SubjectAltName(vec![san]).to_der().unwrap()),
        ];
        if leaf.is_ca {
            let bc = BasicConstraints {
                ca: true,
                path_len_constraint: None,
            };
            exts.push(ext("2.5.29.19", true, bc.to_der().unwrap()));
        }
        if let Some(i) = &leaf.issuer_v1 {
            exts.push(ext("1.3.6.1.4.1.57264.1.1", false, i.as_bytes().to_vec()));
        }
        if let Some(i) = &leaf.issuer_v8 {
            exts.push(ext(
                "1.3.6.1.4.1.57264.1.8",
                false,
                Utf8StringRef::new(i).unwrap().to_der().unwrap(),
            ));
        }
        let mut tbs = TbsCertificate {
            version: Version::V3,
            serial_number: SerialNumber::new(&[0x42, leaf.minutes as u8]).unwrap(),
            signature: alg(ECDSA_SHA384),
            issuer: self.inter_name(),
            validity: Validity {
                not_before: time(leaf.not_before),
                not_after: time(leaf.not_before + chrono::Duration::minutes(leaf.minutes)),
            },
            subject: Name::default(),
            subject_public_key_info: spki_p256(&self.leaf_key),
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(exts),
        };
        if leaf.sct != Sct::None {
            // The log signs the precertificate: this TBS before the SCT list is added.
            let mut pre = tbs.clone();
            if leaf.sct == Sct::OverAnotherCertificate {
                pre.serial_number = SerialNumber::new(&[0x66]).unwrap();
            }
            let sct = self.sct(&pre.to_der().unwrap(), leaf.not_before);
            let list_value = OctetString::new(sct).unwrap().to_der().unwrap();
            if let Some(exts) = tbs.extensions.as_mut() {
                exts.push(ext("1.3.6.1.4.1.11129.2.4.2", false, list_value));
            }
        }
        certificate(tbs, &self.inter_key)
    }

    /// An RFC 6962 SCT list with one SCT over the precertificate `pre_tbs`.
    fn sct(&self, pre_tbs: &[u8], at: DateTime<Utc>) -> Vec<u8> {
        let ts = u64::try_from(at.timestamp_millis()).unwrap();
        let issuer_key_hash = Sha256::digest(spki_p384(&self.inter_key).to_der().unwrap());
        let mut signed = vec![0, 0];
        signed.extend_from_slice(&ts.to_be_bytes());
        signed.extend_from_slice(&[0, 1]);
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&(pre_tbs.len() as u32).to_be_bytes()[1..]);
        signed.extend_from_slice(pre_tbs);
        signed.extend_from_slice(&[0, 0]);
        let sig = sign_p256(&self.ct_key, &signed);
        let mut sct = vec![0];
        sct.extend_from_slice(&Sha256::digest(self.ct_spki()));
        sct.extend_from_slice(&ts.to_be_bytes());
        sct.extend_from_slice(&[0, 0, 4, 3]);
        sct.extend_from_slice(&(sig.len() as u16).to_be_bytes());
        sct.extend_from_slice(&sig);
        let mut list = (sct.len() as u16 + 2).to_be_bytes().to_vec();
        list.extend_from_slice(&(sct.len() as u16).to_be_bytes());
        list.extend_from_slice(&sct);
        list
    }

    /// A v0.3 bundle: the leaf signs `message`; one Rekor v1 entry with a proof in a one-leaf
    /// tree, with its signed checkpoint, and (as `entry` says) a promise and a signed
    /// timestamp over the signature.
    pub fn bundle(&self, leaf_der: &[u8], message: &[u8], entry: &Entry) -> Value {
        let signature = sign_p256(&self.leaf_key, message);
        let digest = Sha256::digest(message);
        let pem =
            x509_cert::der::pem::encode_string("CERTIFICATE", x509_cert::der::pem::LineEnding::LF, leaf_der).unwrap();
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
                "signature": {"content": b64(&signature), "publicKey": {"content": b64(pem.as_bytes())}}
            }
        });
        let body_bytes = serde_json::to_vec(&body).unwrap();
        let body_b64 = b64(&body_bytes);
        let log_id = self.rekor_log_id();
        let time = entry.integrated_time.timestamp();
        let log_index = 7u64;
        let promised = trustroot_core::canonical::to_canonical_bytes(&json!({
            "body": body_b64, "integratedTime": time, "logID": hex::encode(log_id), "logIndex": log_index
        }))
        .unwrap();
        let set = sign_p256(&self.rekor_key, &promised);
        let root: [u8; 32] = Sha256::new()
            .chain_update([0u8])
            .chain_update(&body_bytes)
            .finalize()
            .into();
        let note = format!("rekor.test.local - 42\n1\n{}\n", b64(&root));
        let mut hint_sig = log_id[..4].to_vec();
        hint_sig.extend_from_slice(&sign_p256(&self.rekor_key, note.as_bytes()));
        let checkpoint = format!("{note}\n\u{2014} rekor.test.local {}\n", b64(&hint_sig));
        let mut tlog_entry = json!({
            "logIndex": log_index.to_string(),
            "logId": {"keyId": b64(&log_id)},
            "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
            "integratedTime": time.to_string(),
            "inclusionProof": {
                "logIndex": "0",
                "rootHash": b64(&root),
                "treeSize": "1",
                "hashes": [],
                "checkpoint": {"envelope": checkpoint}
            },
            "canonicalizedBody": body_b64
        });
        if entry.promise {
            tlog_entry["inclusionPromise"] = json!({"signedEntryTimestamp": b64(&set)});
        }
        let mut material = json!({
            "certificate": {"rawBytes": b64(leaf_der)},
            "tlogEntries": [tlog_entry]
        });
        if let Some(stamp) = &entry.timestamp {
            // Sigstore's TSA stamps the signature bytes, not the artifact.
            let stamped = if stamp.over_another_signature {
                sign_p256(&self.leaf_key, b"another message")
            } else {
                signature.clone()
            };
            material["timestampVerificationData"] =
                json!({"rfc3161Timestamps": [{"signedTimestamp": b64(&self.tsa.stamp(&stamped, stamp))}]});
        }
        json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": material,
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": b64(&digest)},
                "signature": b64(&signature)
            }
        })
    }

    /// The tuf-on-ci signature entry for `key_id`: `sig` base64, the bundle beside it.
    pub fn signature_entry(&self, key_id: &str, leaf: &Leaf, message: &[u8], entry: &Entry) -> Value {
        let bundle = self.bundle(&self.leaf(leaf), message, entry);
        json!({"keyid": key_id, "sig": bundle["messageSignature"]["signature"].clone(), "bundle": bundle})
    }
}

// ---- tuf-on-ci-shaped metadata whose every key is keyless ----

/// The online key's identity: a repository's signing workflow, as tuf-on-ci names it.
pub const ONLINE: &str = "https://github.com/o/r/.github/workflows/online-sign.yml@refs/heads/main";
/// The OIDC issuer of GitHub Actions workflows.
pub const ACTIONS: &str = "https://token.actions.githubusercontent.com";
/// The online key's ID: tuf-on-ci lists it as "abcd" (its workaround), taken as given.
pub const ONLINE_ID: &str = "abcd";

pub fn keyless_key(identity: &str, issuer: &str) -> Value {
    json!({
        "keytype": "sigstore-oidc",
        "scheme": "Fulcio",
        "keyval": {"identity": identity, "issuer": issuer},
        "x-tuf-on-ci-keyowner": identity
    })
}

/// A root whose keyholders `(key ID, identity)` (from `issuer`) hold root and targets, and
/// whose online workflow holds timestamp and snapshot.
pub fn root_signed(version: u64, keyholders: &[(&str, &str)], issuer: &str, root_threshold: u64) -> Value {
    let mut keys = serde_json::Map::new();
    for (id, identity) in keyholders {
        keys.insert((*id).to_string(), keyless_key(identity, issuer));
    }
    keys.insert(ONLINE_ID.into(), keyless_key(ONLINE, ACTIONS));
    let ids: Vec<&str> = keyholders.iter().map(|(id, _)| *id).collect();
    json!({
        "_type": "root",
        "spec_version": "1.0.31",
        "version": version,
        "expires": "2027-01-01T00:00:00Z",
        "consistent_snapshot": true,
        "keys": keys,
        "roles": {
            "root": {"keyids": ids, "threshold": root_threshold},
            "targets": {"keyids": ids, "threshold": 1},
            "snapshot": {"keyids": [ONLINE_ID], "threshold": 1},
            "timestamp": {"keyids": [ONLINE_ID], "threshold": 1}
        }
    })
}

/// `signed` of a targets, snapshot or timestamp role (`meta` for the last two).
pub fn role_signed(role: &str, version: u64, meta: Option<(&str, u64)>) -> Value {
    let mut signed = json!({
        "_type": role,
        "spec_version": "1.0.31",
        "version": version,
        "expires": "2027-01-01T00:00:00Z",
    });
    match meta {
        Some((file, v)) => signed["meta"] = json!({file: {"version": v}}),
        None => signed["targets"] = json!({}),
    }
    signed
}

impl Instance {
    /// Signature entries over `signed` by `signers` (key ID, identity, issuer).
    pub fn sign(&self, signed: &Value, signers: &[(&str, &str, &str)]) -> Vec<Value> {
        self.sign_with(signed, signers, &Entry::default())
    }

    /// Signature entries over `signed` by `signers`, their time sources as `entry` says.
    pub fn sign_with(&self, signed: &Value, signers: &[(&str, &str, &str)], entry: &Entry) -> Vec<Value> {
        let message = trustroot_core::canonical::to_canonical_bytes(signed).unwrap();
        signers
            .iter()
            .map(|(id, identity, issuer)| self.signature_entry(id, &Leaf::new(identity, issuer), &message, entry))
            .collect()
    }
}

/// Metadata bytes: `signed` and its signature entries.
pub fn metadata(signed: &Value, signatures: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"signed": signed, "signatures": signatures})).unwrap()
}
