//! Certificates made by the tests: a hierarchy of their own (Yubico's keys sign nothing
//! for a test), with P-256 keys and Yubico's extensions where a key certificate needs them.

use std::str::FromStr as _;
use std::time::Duration;

use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::EncodePublicKey as _;
use x509_cert::Certificate;
use x509_cert::der::asn1::{BitString, GeneralizedTime, ObjectIdentifier, OctetString};
use x509_cert::der::{Decode as _, Encode as _, EncodePem as _};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{TbsCertificate, Version};

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// A made certificate and its private key.
pub(super) struct Made {
    pub key: p256::ecdsa::SigningKey,
    pub subject: String,
    pub pem: Vec<u8>,
}

/// Validity from 2020 to 2040 unless a test says otherwise (seconds since 1970).
pub(super) const DEFAULT_VALIDITY: (u64, u64) = (1_577_836_800, 2_208_988_800);

/// What a made certificate is.
pub(super) struct Spec<'a> {
    pub subject: &'a str,
    pub validity: (u64, u64),
    pub extensions: Vec<(&'a str, Vec<u8>)>,
}

impl<'a> Spec<'a> {
    pub(super) fn new(subject: &'a str) -> Self {
        Spec {
            subject,
            validity: DEFAULT_VALIDITY,
            extensions: Vec::new(),
        }
    }

    /// Yubico's key certificate extensions as firmware 5.7.4 writes them (each value inside
    /// an OCTET STRING): firmware 5.7.4, serial, PIN once, touch cached, USB-C nano.
    pub(super) fn yubico_574(mut self, serial: u32) -> Self {
        let wrap = |v: &[u8]| OctetString::new(v.to_vec()).and_then(|o| o.to_der()).expect("encodes");
        let serial = serial.to_der().expect("encodes");
        self.extensions = vec![
            ("1.3.6.1.4.1.41482.3.3", wrap(&[5, 7, 4])),
            ("1.3.6.1.4.1.41482.3.7", wrap(&serial)),
            ("1.3.6.1.4.1.41482.3.8", wrap(&[2, 3])),
            ("1.3.6.1.4.1.41482.3.9", wrap(&[4])),
        ];
        self
    }

    /// Yubico's key certificate extensions as earlier firmware writes them (bare bytes).
    pub(super) fn yubico_bare(mut self, serial: u32) -> Self {
        self.extensions = vec![
            ("1.3.6.1.4.1.41482.3.3", vec![5, 4, 3]),
            ("1.3.6.1.4.1.41482.3.7", serial.to_der().expect("encodes")),
            ("1.3.6.1.4.1.41482.3.8", vec![1, 1]),
            ("1.3.6.1.4.1.41482.3.9", vec![1]),
        ];
        self
    }

    pub(super) fn valid(mut self, from: u64, to: u64) -> Self {
        self.validity = (from, to);
        self
    }

    /// Signs the certificate with `issuer` (self-signed when `None`).
    pub(super) fn issue(self, issuer: Option<&Made>) -> Made {
        let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let (issuer_name, issuer_key) = match issuer {
            Some(i) => (i.subject.clone(), &i.key),
            None => (format!("CN={}", self.subject), &key),
        };
        let algorithm = AlgorithmIdentifierOwned {
            oid: ECDSA_WITH_SHA256,
            parameters: None,
        };
        let spki_der = key.verifying_key().to_public_key_der().expect("encodes");
        let time = |secs: u64| {
            Time::GeneralTime(GeneralizedTime::from_unix_duration(Duration::from_secs(secs)).expect("a time"))
        };
        let extensions: Vec<Extension> = self
            .extensions
            .iter()
            .map(|(oid, value)| Extension {
                extn_id: ObjectIdentifier::new(oid).expect("an OID"),
                critical: false,
                extn_value: OctetString::new(value.clone()).expect("a value"),
            })
            .collect();
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: SerialNumber::new(&[0x01, 0x02, 0x03]).expect("a serial"),
            signature: algorithm.clone(),
            issuer: Name::from_str(&issuer_name).expect("a name"),
            validity: Validity {
                not_before: time(self.validity.0),
                not_after: time(self.validity.1),
            },
            subject: Name::from_str(&format!("CN={}", self.subject)).expect("a name"),
            subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(spki_der.as_bytes()).expect("an SPKI"),
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: (!extensions.is_empty()).then_some(extensions),
        };
        let tbs_der = tbs.to_der().expect("encodes");
        let signature: p256::ecdsa::Signature = issuer_key.sign(&tbs_der);
        let cert = Certificate {
            tbs_certificate: tbs,
            signature_algorithm: algorithm,
            signature: BitString::from_bytes(signature.to_der().as_bytes()).expect("a bit string"),
        };
        let pem = cert
            .to_pem(x509_cert::der::pem::LineEnding::LF)
            .expect("encodes")
            .into_bytes();
        Made {
            key,
            subject: format!("CN={}", self.subject),
            pem,
        }
    }
}

/// The TUF key of a made key certificate's key.
pub(super) fn tuf_key(made: &Made) -> trustroot_core::Key {
    let pem = made
        .key
        .verifying_key()
        .to_public_key_pem(p256::pkcs8::LineEnding::LF)
        .expect("encodes");
    crate::keys::parse_public_key("made key", pem.as_bytes()).expect("a P-256 key")
}
