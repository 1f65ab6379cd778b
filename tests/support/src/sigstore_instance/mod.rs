//! A Sigstore-like instance for tests, built here with real keys: a Fulcio-shaped CA that
//! issues short-lived certificates for an OIDC identity (SAN, the issuer extensions
//! 1.3.6.1.4.1.57264.1.1 and .1.8, code signing), a CT log that signs the precertificate of
//! each (an embedded SCT, RFC 6962), a Rekor-shaped transparency log that records each
//! signature as a `hashedrekord` entry with an inclusion promise (a signed entry timestamp)
//! and an inclusion proof with a signed checkpoint; and the
//! `trusted_root.json` naming all three. [`SigstoreInstance::sign`] signs a message as
//! tuf-on-ci's keyless signer does and returns the signature entry's `sig` and `bundle`.
//!
//! Nothing here is a mock: every signature is made with the instance's keys and verifies
//! with the public keys its trusted root publishes, with any Sigstore verifier.

use std::str::FromStr as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Duration, Utc};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use rand_core::OsRng;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use x509_cert::der::asn1::{Ia5String, ObjectIdentifier, OctetString, UtcTime, Utf8StringRef};
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate, Version};

mod repository;
pub use repository::{KeylessRepository, keyless_identities, keyless_repository};

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const SUBJECT_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// Fulcio's OIDC issuer extensions: the legacy raw one, and the DER UTF8String one.
const ISSUER_LEGACY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
const ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// The embedded SCT list (RFC 6962 section 3.3).
const SCT_LIST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// Which bundle format [`SigstoreInstance::sign`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleVersion {
    /// `…bundle+json;version=0.1`: the certificate in `x509CertificateChain`.
    V01,
    /// `…bundle.v0.3+json`: the certificate in `certificate`.
    V03,
}

/// A CA, a CT log and a transparency log, with their keys.
pub struct SigstoreInstance {
    ca_key: SigningKey,
    ca_der: Vec<u8>,
    ca_name: Name,
    ct_key: SigningKey,
    rekor_key: SigningKey,
    /// Every instance starts its validity windows here.
    start: DateTime<Utc>,
    /// The next entry's index in the log.
    next_index: u64,
    serial: u64,
}

/// A keyless signature: `sig` (base64, as tuf-on-ci writes it since sigstore 3) and the
/// bundle, as JSON.
pub struct KeylessSignature {
    pub sig: String,
    pub bundle: Value,
    /// The leaf certificate (DER), for tests that take it apart.
    pub certificate: Vec<u8>,
}

impl SigstoreInstance {
    /// A new instance whose CA, CT log and transparency log are valid from `start` on.
    pub fn new(start: DateTime<Utc>) -> SigstoreInstance {
        let ca_key = SigningKey::random(&mut OsRng);
        let ca_name = Name::from_str("CN=trustroot-test-fulcio,O=trustroot tests").expect("a valid name");
        let ca_validity = validity(start - Duration::days(1), start + Duration::days(3650));
        let extensions = vec![
            extension(
                BASIC_CONSTRAINTS,
                true,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: None,
                },
            ),
            extension(KEY_USAGE, true, &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)),
            extension(
                SUBJECT_KEY_IDENTIFIER,
                false,
                &SubjectKeyIdentifier(key_identifier(&ca_key)),
            ),
        ];
        let tbs = tbs(1, &ca_name, &ca_name, ca_validity, spki(&ca_key), extensions);
        let ca_der = sign_certificate(tbs, &ca_key);
        SigstoreInstance {
            ca_key,
            ca_der,
            ca_name,
            ct_key: SigningKey::random(&mut OsRng),
            rekor_key: SigningKey::random(&mut OsRng),
            start,
            next_index: 0,
            serial: 1,
        }
    }

    /// The instance's `trusted_root.json` (protobuf-specs JSON): its CA, transparency log
    /// and CT log, each valid from the instance's start.
    pub fn trusted_root(&self) -> Vec<u8> {
        let start = rfc3339(self.start - Duration::days(1));
        let log = |key: &SigningKey, url: &str| {
            json!({
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": B64.encode(spki_der(key)),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": {"start": start}
                },
                "logId": {"keyId": B64.encode(log_id(key))}
            })
        };
        let root = json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [log(&self.rekor_key, "https://rekor.trustroot.test")],
            "certificateAuthorities": [{
                "subject": {"organization": "trustroot tests", "commonName": "trustroot-test-fulcio"},
                "uri": "https://fulcio.trustroot.test",
                "certChain": {"certificates": [{"rawBytes": B64.encode(&self.ca_der)}]},
                "validFor": {"start": start}
            }],
            "ctlogs": [log(&self.ct_key, "https://ctfe.trustroot.test")],
            "timestampAuthorities": []
        });
        serde_json::to_vec_pretty(&root).expect("JSON")
    }

    /// Signs `message` (canonical `signed` bytes) as `identity` from `issuer` at `at`:
    /// a certificate issued at `at` for ten minutes, an SCT, a log entry integrated at `at`.
    pub fn sign(
        &mut self,
        identity: &str,
        issuer: &str,
        message: &[u8],
        at: DateTime<Utc>,
        version: BundleVersion,
    ) -> KeylessSignature {
        let leaf_key = SigningKey::random(&mut OsRng);
        let certificate = self.issue(&leaf_key, identity, issuer, at);
        let signature: DerSignature = leaf_key.sign(message);
        let signature = signature.as_bytes().to_vec();
        let digest = Sha256::digest(message);
        let entry = self.log_entry(&certificate, &signature, &digest, at);
        let material = match version {
            BundleVersion::V01 => json!({
                "x509CertificateChain": {"certificates": [{"rawBytes": B64.encode(&certificate)}]},
                "tlogEntries": [entry]
            }),
            BundleVersion::V03 => json!({
                "certificate": {"rawBytes": B64.encode(&certificate)},
                "tlogEntries": [entry]
            }),
        };
        let media_type = match version {
            BundleVersion::V01 => "application/vnd.dev.sigstore.bundle+json;version=0.1",
            BundleVersion::V03 => "application/vnd.dev.sigstore.bundle.v0.3+json",
        };
        let bundle = json!({
            "mediaType": media_type,
            "verificationMaterial": material,
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode(digest)},
                "signature": B64.encode(&signature)
            }
        });
        KeylessSignature {
            sig: B64.encode(&signature),
            bundle,
            certificate,
        }
    }

    /// A Fulcio-shaped leaf for `identity` (an e-mail address or a URI), valid from `at` for
    /// ten minutes, with an SCT from the CT log embedded.
    fn issue(&mut self, key: &SigningKey, identity: &str, issuer: &str, at: DateTime<Utc>) -> Vec<u8> {
        self.serial += 1;
        let san = if identity.contains("://") {
            GeneralName::UniformResourceIdentifier(Ia5String::new(identity).expect("an ASCII identity"))
        } else {
            GeneralName::Rfc822Name(Ia5String::new(identity).expect("an ASCII identity"))
        };
        let authority = AuthorityKeyIdentifier {
            key_identifier: Some(key_identifier(&self.ca_key)),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        let mut extensions = vec![
            extension(AUTHORITY_KEY_IDENTIFIER, false, &authority),
            extension(KEY_USAGE, true, &KeyUsage(KeyUsages::DigitalSignature.into())),
            extension(EXTENDED_KEY_USAGE, false, &ExtendedKeyUsage(vec![CODE_SIGNING])),
            extension(SUBJECT_ALT_NAME, true, &SubjectAltName(vec![san])),
            Extension {
                extn_id: ISSUER_LEGACY,
                critical: false,
                extn_value: OctetString::new(issuer.as_bytes().to_vec()).expect("an octet string"),
            },
            extension(ISSUER_V2, false, &Utf8StringRef::new(issuer).expect("a UTF-8 issuer")),
        ];
        let subject = Name::default();
        let window = validity(at, at + Duration::minutes(10));
        // The CT log signs the precertificate: this TBS, without the SCT list.
        let precert = tbs(
            self.serial,
            &self.ca_name,
            &subject,
            window,
            spki(key),
            extensions.clone(),
        );
        let sct = self.sct(&precert.to_der().expect("DER"), at);
        let mut list = Vec::new();
        list.extend_from_slice(&u16::try_from(sct.len() + 2).expect("short").to_be_bytes());
        list.extend_from_slice(&u16::try_from(sct.len()).expect("short").to_be_bytes());
        list.extend_from_slice(&sct);
        extensions.push(extension(
            SCT_LIST,
            false,
            &OctetString::new(list).expect("an octet string"),
        ));
        let leaf = tbs(self.serial, &self.ca_name, &subject, window, spki(key), extensions);
        sign_certificate(leaf, &self.ca_key)
    }

    /// An SCT (RFC 6962 section 3.2) over the precertificate `tbs`, at `at`.
    fn sct(&self, tbs: &[u8], at: DateTime<Utc>) -> Vec<u8> {
        let timestamp = u64::try_from(at.timestamp_millis()).expect("after 1970");
        let issuer_key_hash = Sha256::digest(spki_der(&self.ca_key));
        let mut signed = vec![0u8, 0u8];
        signed.extend_from_slice(&timestamp.to_be_bytes());
        signed.extend_from_slice(&1u16.to_be_bytes());
        signed.extend_from_slice(&issuer_key_hash);
        signed.extend_from_slice(&u32::try_from(tbs.len()).expect("short").to_be_bytes()[1..]);
        signed.extend_from_slice(tbs);
        signed.extend_from_slice(&0u16.to_be_bytes());
        let signature: DerSignature = self.ct_key.sign(&signed);
        let mut sct = vec![0u8];
        sct.extend_from_slice(&log_id(&self.ct_key));
        sct.extend_from_slice(&timestamp.to_be_bytes());
        sct.extend_from_slice(&0u16.to_be_bytes());
        sct.extend_from_slice(&[4, 3]);
        sct.extend_from_slice(&u16::try_from(signature.as_bytes().len()).expect("short").to_be_bytes());
        sct.extend_from_slice(signature.as_bytes());
        sct
    }

    /// The transparency log's `hashedrekord` 0.0.1 entry of a signature, integrated at `at`,
    /// with its signed entry timestamp (inclusion promise) and an inclusion proof with a
    /// signed checkpoint (in a tree of its own), as Rekor v1 gives both.
    fn log_entry(&mut self, certificate: &[u8], signature: &[u8], digest: &[u8], at: DateTime<Utc>) -> Value {
        let pem = pem(certificate);
        let body = json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
                "signature": {"content": B64.encode(signature), "publicKey": {"content": B64.encode(pem)}}
            }
        });
        let body = trustroot_core::canonical::to_canonical_bytes(&body).expect("canonical JSON");
        let body_b64 = B64.encode(&body);
        let index = self.next_index;
        self.next_index += 1;
        let integrated = at.timestamp();
        let id = log_id(&self.rekor_key);
        let promise = json!({
            "body": body_b64,
            "integratedTime": integrated,
            "logID": hex::encode(id),
            "logIndex": index
        });
        let promise = trustroot_core::canonical::to_canonical_bytes(&promise).expect("canonical JSON");
        let set: DerSignature = self.rekor_key.sign(&promise);
        let mut entry = json!({
            "logIndex": index.to_string(),
            "logId": {"keyId": B64.encode(id)},
            "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
            "integratedTime": integrated.to_string(),
            "inclusionPromise": {"signedEntryTimestamp": B64.encode(set.as_bytes())},
            "canonicalizedBody": body_b64
        });
        {
            // A tree of one leaf: its root is the leaf hash, and the proof has no hashes.
            let mut leaf = vec![0u8];
            leaf.extend_from_slice(&body);
            let root = Sha256::digest(&leaf);
            let note = format!("rekor.trustroot.test - 1\n1\n{}\n", B64.encode(root));
            let signature: DerSignature = self.rekor_key.sign(note.as_bytes());
            let mut hinted = id[..4].to_vec();
            hinted.extend_from_slice(signature.as_bytes());
            let checkpoint = format!("{note}\n\u{2014} rekor.trustroot.test {}\n", B64.encode(hinted));
            entry["inclusionProof"] = json!({
                "logIndex": "0",
                "rootHash": B64.encode(root),
                "treeSize": "1",
                "hashes": [],
                "checkpoint": {"envelope": checkpoint}
            });
        }
        entry
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A log's ID (Rekor v1 and RFC 6962): the sha256 of its key's SubjectPublicKeyInfo.
fn log_id(key: &SigningKey) -> [u8; 32] {
    Sha256::digest(spki_der(key)).into()
}

/// A key identifier (SKI, and the leaf's AKI): 20 bytes of the key's hash.
fn key_identifier(key: &SigningKey) -> OctetString {
    OctetString::new(Sha256::digest(spki_der(key))[..20].to_vec()).expect("an octet string")
}

fn spki_der(key: &SigningKey) -> Vec<u8> {
    key.verifying_key()
        .to_public_key_der()
        .expect("an encodable key")
        .as_bytes()
        .to_vec()
}

fn spki(key: &SigningKey) -> SubjectPublicKeyInfoOwned {
    SubjectPublicKeyInfoOwned::from_der(&spki_der(key)).expect("a SubjectPublicKeyInfo")
}

fn validity(from: DateTime<Utc>, to: DateTime<Utc>) -> Validity {
    let time = |at: DateTime<Utc>| {
        let seconds = u64::try_from(at.timestamp()).expect("after 1970");
        Time::UtcTime(UtcTime::from_unix_duration(std::time::Duration::from_secs(seconds)).expect("a UTCTime"))
    };
    Validity {
        not_before: time(from),
        not_after: time(to),
    }
}

fn extension<T: x509_cert::der::Encode>(oid: ObjectIdentifier, critical: bool, value: &T) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().expect("DER")).expect("an octet string"),
    }
}

fn tbs(
    serial: u64,
    issuer: &Name,
    subject: &Name,
    validity: Validity,
    spki: SubjectPublicKeyInfoOwned,
    extensions: Vec<Extension>,
) -> TbsCertificate {
    TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::new(&serial.to_be_bytes()).expect("a serial number"),
        signature: AlgorithmIdentifierOwned {
            oid: ECDSA_WITH_SHA256,
            parameters: None,
        },
        issuer: issuer.clone(),
        validity,
        subject: subject.clone(),
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    }
}

fn sign_certificate(tbs: TbsCertificate, key: &SigningKey) -> Vec<u8> {
    let signature: DerSignature = key.sign(&tbs.to_der().expect("DER"));
    let certificate = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: AlgorithmIdentifierOwned {
            oid: ECDSA_WITH_SHA256,
            parameters: None,
        },
        signature: x509_cert::der::asn1::BitString::from_bytes(signature.as_bytes()).expect("a bit string"),
    };
    certificate.to_der().expect("DER")
}

fn pem(der: &[u8]) -> String {
    let body = B64.encode(der);
    let mut text = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        text.push('\n');
    }
    text.push_str("-----END CERTIFICATE-----\n");
    text
}

/// A keyholder known by an OIDC identity instead of a key.
#[derive(Debug, Clone)]
pub struct Identity {
    pub identity: String,
    pub issuer: String,
}

impl Identity {
    pub fn new(identity: &str, issuer: &str) -> Identity {
        Identity {
            identity: identity.to_string(),
            issuer: issuer.to_string(),
        }
    }

    /// The TUF key object tuf-on-ci writes for it (`fields`: its `x-tuf-on-ci-*` fields).
    pub fn key(&self, fields: &[(&str, &str)]) -> Value {
        let mut key = json!({
            "keytype": "sigstore-oidc",
            "scheme": "Fulcio",
            "keyval": {"identity": self.identity, "issuer": self.issuer}
        });
        for (name, value) in fields {
            key[*name] = json!(value);
        }
        key
    }

    /// The key ID of [`Identity::key`]: the sha256 of its canonical form.
    pub fn keyid(&self, fields: &[(&str, &str)]) -> String {
        let canonical = trustroot_core::canonical::to_canonical_bytes(&self.key(fields)).expect("canonical JSON");
        hex::encode(Sha256::digest(canonical))
    }
}

impl SigstoreInstance {
    /// A metadata file whose `signed` is signed by each of `signers` (an identity, and the
    /// key ID the delegating role lists it under) at `at`: tuf-on-ci's envelope, each
    /// signature entry `{"keyid", "sig", "bundle"}`.
    pub fn envelope(
        &mut self,
        signed: &Value,
        signers: &[(&Identity, &str)],
        at: DateTime<Utc>,
        version: BundleVersion,
    ) -> Value {
        let message = trustroot_core::canonical::to_canonical_bytes(signed).expect("canonical JSON");
        let signatures: Vec<Value> = signers
            .iter()
            .map(|(who, keyid)| {
                let signature = self.sign(&who.identity, &who.issuer, &message, at, version);
                json!({"keyid": keyid, "sig": signature.sig, "bundle": signature.bundle})
            })
            .collect();
        json!({"signatures": signatures, "signed": signed})
    }
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::signature::Verifier as _;
    use x509_cert::der::Decode as _;

    use super::*;

    /// What a verifier checks first: the bundle's digest is the message's, and its
    /// signature verifies with the key of the certificate it carries, whose SAN is the
    /// identity. (The whole bundle, chain, SCT and log proofs included, was checked by
    /// sigstore-python 4.4 against this instance's trusted root when this was written.)
    #[test]
    fn a_keyless_signature_is_over_the_message_with_the_certificate_of_the_identity() {
        let now = Utc::now();
        let mut instance = SigstoreInstance::new(now - Duration::days(1));
        let alice = Identity::new("alice@example.com", "https://issuer.example.com");
        let signed = json!({"_type": "targets", "version": 1});
        let envelope = instance.envelope(&signed, &[(&alice, "abcd")], now, BundleVersion::V03);
        let entry = &envelope["signatures"][0];
        let bundle = &entry["bundle"];
        let message = trustroot_core::canonical::to_canonical_bytes(&signed).unwrap();
        let digest = B64
            .decode(bundle["messageSignature"]["messageDigest"]["digest"].as_str().unwrap())
            .unwrap();
        assert_eq!(digest, Sha256::digest(&message).to_vec());
        let signature = B64.decode(entry["sig"].as_str().unwrap()).unwrap();
        let der = B64
            .decode(
                bundle["verificationMaterial"]["certificate"]["rawBytes"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
        let certificate = Certificate::from_der(&der).unwrap();
        let spki = certificate.tbs_certificate.subject_public_key_info.to_der().unwrap();
        let key = <p256::ecdsa::VerifyingKey as p256::pkcs8::DecodePublicKey>::from_public_key_der(&spki).unwrap();
        let signature = p256::ecdsa::DerSignature::try_from(signature.as_slice()).unwrap();
        key.verify(&message, &signature).unwrap();
        let (_, san): (bool, SubjectAltName) = certificate.tbs_certificate.get().unwrap().unwrap();
        assert!(matches!(&san.0[0], GeneralName::Rfc822Name(name) if name.as_str() == "alice@example.com"));
        let root: Value = serde_json::from_slice(&instance.trusted_root()).unwrap();
        assert_eq!(
            root["certificateAuthorities"][0]["certChain"]["certificates"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}
