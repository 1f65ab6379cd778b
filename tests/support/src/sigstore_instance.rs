//! A Sigstore-like instance built in the tests: a Fulcio-shaped CA (P-384 root and
//! intermediate), a CT log and a Rekor v1 log (P-256), the certificates, SCTs, log entries,
//! inclusion promises, inclusion proofs and checkpoints they make, and the matching
//! `trusted_root.json`. Built by hand with x509-cert's types (no certificate builder), every
//! knob an attack test needs is a field of [`Leaf`] or [`Entry`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use p256::pkcs8::EncodePublicKey;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::der::asn1::{BitString, Ia5String, OctetString, UtcTime, Utf8StringRef};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
const SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");

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

fn ca_tbs(
    serial: u8,
    subject: &str,
    issuer: &str,
    spki: SubjectPublicKeyInfoOwned,
    issuer_spki: &SubjectPublicKeyInfoOwned,
) -> TbsCertificate {
    let bc = BasicConstraints {
        ca: true,
        path_len_constraint: None,
    };
    let ku = KeyUsage(KeyUsages::KeyCertSign.into());
    // Like the real intermediate: a CA certificate that lists codeSigning.
    let eku = ExtendedKeyUsage(vec![CODE_SIGNING]);
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
        extensions: Some(vec![
            ext("2.5.29.19", true, bc.to_der().unwrap()),
            ext("2.5.29.15", true, ku.to_der().unwrap()),
            ext("2.5.29.37", false, eku.to_der().unwrap()),
            ext(
                "2.5.29.14",
                false,
                x509_cert::ext::pkix::SubjectKeyIdentifier(key_id(&spki))
                    .to_der()
                    .unwrap(),
            ),
            authority(issuer_spki),
        ]),
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

/// How the log entry of a signature is made.
#[derive(Clone)]
pub struct Entry {
    pub integrated_time: DateTime<Utc>,
}

impl Default for Entry {
    fn default() -> Self {
        Entry {
            integrated_time: at("2026-01-01T00:01:00Z"),
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
        let root_der = certificate(
            ca_tbs(1, &root_name, &root_name, root_spki.clone(), &root_spki),
            &root_key,
        );
        let inter_der = certificate(
            ca_tbs(2, &inter_name, &root_name, spki_p384(&inter_key), &root_spki),
            &root_key,
        );
        Instance {
            inter_key,
            root_der,
            inter_der,
            ct_key: p256::ecdsa::SigningKey::from_slice(&[log_seed.wrapping_add(10); 32]).unwrap(),
            rekor_key: p256::ecdsa::SigningKey::from_slice(&[log_seed.wrapping_add(20); 32]).unwrap(),
            leaf_key: p256::ecdsa::SigningKey::from_slice(&[ca_seed.wrapping_add(30); 32]).unwrap(),
        }
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

    /// The matching `trusted_root.json`, every window open from 2025-01-01; `ca_end`
    /// closes the CA's.
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
            "timestampAuthorities": []
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

    /// A v0.3 bundle: the leaf signs `message`; one Rekor v1 entry with a promise and a
    /// proof in a one-leaf tree, with its signed checkpoint.
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
        json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": b64(leaf_der)},
                "tlogEntries": [{
                    "logIndex": log_index.to_string(),
                    "logId": {"keyId": b64(&log_id)},
                    "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                    "integratedTime": time.to_string(),
                    "inclusionPromise": {"signedEntryTimestamp": b64(&set)},
                    "inclusionProof": {
                        "logIndex": "0",
                        "rootHash": b64(&root),
                        "treeSize": "1",
                        "hashes": [],
                        "checkpoint": {"envelope": checkpoint}
                    },
                    "canonicalizedBody": body_b64
                }]
            },
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
        let message = trustroot_core::canonical::to_canonical_bytes(signed).unwrap();
        signers
            .iter()
            .map(|(id, identity, issuer)| {
                self.signature_entry(id, &Leaf::new(identity, issuer), &message, &Entry::default())
            })
            .collect()
    }
}

/// Metadata bytes: `signed` and its signature entries.
pub fn metadata(signed: &Value, signatures: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({"signed": signed, "signatures": signatures})).unwrap()
}
