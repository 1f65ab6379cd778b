//! Whether one certificate of the chain signed another: the algorithms Yubico's
//! attestation certificates use (RSA PKCS#1 v1.5 and ECDSA P-256/P-384 with SHA-2).

use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use rsa::pkcs8::DecodePublicKey as _;
use sha2::{Digest as _, Sha256, Sha384, Sha512};
use x509_cert::der::asn1::ObjectIdentifier;

use super::cert::Cert;
use crate::error::AttestationError;

const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

/// The hash a signature algorithm signs with.
#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        }
    }

    fn pkcs1v15(self) -> rsa::Pkcs1v15Sign {
        match self {
            Hash::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
            Hash::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
            Hash::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
        }
    }
}

/// Checks that `child`'s signature verifies with `parent`'s public key.
pub(crate) fn check_signed_by(child: &Cert, parent: &Cert) -> Result<(), AttestationError> {
    let algorithm = &child.cert.signature_algorithm;
    // The algorithm inside the signed part must be the one outside it (RFC 5280 4.1.1.2).
    if child.cert.tbs_certificate.signature.oid != algorithm.oid {
        return Err(AttestationError::NotCertificate {
            file: child.file.clone(),
            reason: "its two signature algorithm fields differ".to_string(),
        });
    }
    let (rsa, hash) = match algorithm.oid {
        SHA256_WITH_RSA => (true, Hash::Sha256),
        SHA384_WITH_RSA => (true, Hash::Sha384),
        SHA512_WITH_RSA => (true, Hash::Sha512),
        ECDSA_WITH_SHA256 => (false, Hash::Sha256),
        ECDSA_WITH_SHA384 => (false, Hash::Sha384),
        other => {
            return Err(AttestationError::UnsupportedAlgorithm {
                file: child.file.clone(),
                what: "signature algorithm",
                oid: other.to_string(),
            });
        }
    };
    let bad = || AttestationError::BadSignature {
        file: child.file.clone(),
        signer: parent.subject(),
    };
    // A signature with unused bits is no signature of these algorithms.
    let signature = child.cert.signature.as_bytes().ok_or_else(bad)?;
    let digest = hash.digest(child.tbs_der()?);
    let spki = parent.spki_der()?;
    let verified = if rsa {
        let key = rsa::RsaPublicKey::from_public_key_der(&spki).map_err(|_| bad())?;
        key.verify(hash.pkcs1v15(), &digest, signature).is_ok()
    } else if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_der(&spki) {
        p256::ecdsa::Signature::from_der(signature).is_ok_and(|sig| key.verify_prehash(&digest, &sig).is_ok())
    } else if let Ok(key) = p384::ecdsa::VerifyingKey::from_public_key_der(&spki) {
        p384::ecdsa::Signature::from_der(signature).is_ok_and(|sig| key.verify_prehash(&digest, &sig).is_ok())
    } else {
        // The issuer's key is of another kind than the signature: it did not make it.
        return Err(bad());
    };
    if verified { Ok(()) } else { Err(bad()) }
}
