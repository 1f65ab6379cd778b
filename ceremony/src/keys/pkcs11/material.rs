//! Key material as PKCS#11 tokens show it: the curve in CKA_EC_PARAMS, the point in
//! CKA_EC_POINT, raw ECDSA signatures; turned into TUF key objects and DER signatures.

use trustroot_core::Key;

/// The key algorithms trustroot signs with on a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    EcdsaP256,
    EcdsaP384,
    Ed25519,
}

impl Algorithm {
    /// The DER CKA_EC_PARAMS that names the curve when generating a key.
    pub fn ec_params(self) -> &'static [u8] {
        match self {
            Algorithm::EcdsaP256 => &P256_OID,
            Algorithm::EcdsaP384 => &P384_OID,
            Algorithm::Ed25519 => &ED25519_OID,
        }
    }

    /// How the algorithm is named in messages.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::EcdsaP256 => "ECDSA P-256",
            Algorithm::EcdsaP384 => "ECDSA P-384",
            Algorithm::Ed25519 => "Ed25519",
        }
    }
}

/// DER OBJECT IDENTIFIER prime256v1 (1.2.840.10045.3.1.7).
const P256_OID: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER OBJECT IDENTIFIER secp384r1 (1.3.132.0.34).
const P384_OID: [u8; 7] = [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
/// DER OBJECT IDENTIFIER id-Ed25519 (1.3.101.112).
const ED25519_OID: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];
/// DER PrintableString "edwards25519": how PKCS#11 2.40-era tokens name the curve.
const ED25519_NAME: &[u8] = b"\x13\x0cedwards25519";

/// The algorithm a CKA_EC_PARAMS names, or `None` for a curve trustroot does not use.
pub fn curve(ec_params: &[u8]) -> Option<Algorithm> {
    match ec_params {
        p if p == P256_OID => Some(Algorithm::EcdsaP256),
        p if p == P384_OID => Some(Algorithm::EcdsaP384),
        p if p == ED25519_OID || p == ED25519_NAME => Some(Algorithm::Ed25519),
        _ => None,
    }
}

/// The point bytes of CKA_EC_POINT: the standard form is a DER OCTET STRING around them,
/// some tokens give them bare. `len` is the point's size for the curve.
fn point(ec_point: &[u8], len: usize) -> Option<&[u8]> {
    if ec_point.len() == len + 2 && ec_point[0] == 0x04 && usize::from(ec_point[1]) == len {
        return Some(&ec_point[2..]);
    }
    if ec_point.len() == len + 3 && ec_point[0] == 0x04 && ec_point[1] == 0x81 && usize::from(ec_point[2]) == len {
        return Some(&ec_point[3..]);
    }
    (ec_point.len() == len).then_some(ec_point)
}

/// The TUF key object for a point on `algorithm`'s curve, or `None` if the bytes are not a
/// valid point.
pub fn tuf_key(algorithm: Algorithm, ec_point: &[u8]) -> Option<Key> {
    match algorithm {
        Algorithm::EcdsaP256 => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point(ec_point, 65)?).ok()?;
            Some(crate::keys::p256_key(&key))
        }
        Algorithm::EcdsaP384 => {
            use p384::pkcs8::EncodePublicKey as _;
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point(ec_point, 97)?).ok()?;
            let pem = key.to_public_key_pem(p384::pkcs8::LineEnding::LF).ok()?;
            Some(crate::keys::tuf_key("ecdsa", "ecdsa-sha2-nistp384", pem))
        }
        Algorithm::Ed25519 => {
            let bytes: [u8; 32] = point(ec_point, 32)?.try_into().ok()?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok()?;
            Some(crate::keys::ed25519_key(&key))
        }
    }
}

/// What the token signs for `msg`: ECDSA tokens (SoftHSM2, most HSMs) offer only raw
/// CKM_ECDSA over a digest, so the host hashes; EdDSA signs the message itself.
pub fn to_be_signed(algorithm: Algorithm, msg: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    match algorithm {
        Algorithm::EcdsaP256 => sha2::Sha256::digest(msg).to_vec(),
        Algorithm::EcdsaP384 => sha2::Sha384::digest(msg).to_vec(),
        Algorithm::Ed25519 => msg.to_vec(),
    }
}

/// The signature in TUF's encoding: PKCS#11 returns ECDSA as r || s, TUF wants DER.
pub fn tuf_signature(algorithm: Algorithm, raw: &[u8]) -> Option<Vec<u8>> {
    match algorithm {
        Algorithm::EcdsaP256 => Some(
            p256::ecdsa::Signature::from_slice(raw)
                .ok()?
                .to_der()
                .as_bytes()
                .to_vec(),
        ),
        Algorithm::EcdsaP384 => Some(
            p384::ecdsa::Signature::from_slice(raw)
                .ok()?
                .to_der()
                .as_bytes()
                .to_vec(),
        ),
        Algorithm::Ed25519 => (raw.len() == 64).then(|| raw.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ed25519_is_recognised_by_oid_and_by_name() {
        assert_eq!(curve(&ED25519_OID), Some(Algorithm::Ed25519));
        assert_eq!(curve(ED25519_NAME), Some(Algorithm::Ed25519));
        assert_eq!(curve(&P256_OID), Some(Algorithm::EcdsaP256));
        assert_eq!(curve(&P384_OID), Some(Algorithm::EcdsaP384));
        assert_eq!(curve(b"\x06\x05\x2b\x81\x04\x00\x23"), None, "P-521");
    }

    #[test]
    fn points_are_read_wrapped_or_bare() {
        let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let bare = key.verifying_key().to_encoded_point(false).as_bytes().to_vec();
        let mut wrapped = vec![0x04, 65];
        wrapped.extend_from_slice(&bare);
        let want = crate::keys::p256_key(key.verifying_key());
        assert_eq!(tuf_key(Algorithm::EcdsaP256, &bare), Some(want.clone()));
        assert_eq!(tuf_key(Algorithm::EcdsaP256, &wrapped), Some(want));
        assert_eq!(tuf_key(Algorithm::EcdsaP256, &bare[..40]), None);
        assert_eq!(tuf_key(Algorithm::Ed25519, &[0u8; 5]), None);
    }

    #[test]
    fn raw_ecdsa_signatures_become_der_that_verifies() {
        use p256::ecdsa::signature::hazmat::PrehashSigner as _;
        let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let digest = to_be_signed(Algorithm::EcdsaP256, b"metadata");
        let raw: p256::ecdsa::Signature = key.sign_prehash(&digest).unwrap();
        let der = tuf_signature(Algorithm::EcdsaP256, &raw.to_bytes()).unwrap();
        let public = crate::keys::p256_key(key.verifying_key());
        assert!(public.public_key().unwrap().verify(b"metadata", &der));
        assert_eq!(tuf_signature(Algorithm::EcdsaP256, &[0u8; 10]), None);
    }
}
