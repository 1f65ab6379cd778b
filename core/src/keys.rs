//! Public keys as they appear in TUF metadata, and signature checks with them.
//!
//! Supported: `ed25519` (hex), `ecdsa` / `ecdsa-sha2-nistp256` / `ecdsa-sha2-nistp384` with
//! the `ecdsa-sha2-nistp256` or `ecdsa-sha2-nistp384` scheme (PEM SPKI or hex SEC1 point,
//! DER signatures), and `rsa` with `rsassa-pss-sha256` (PEM SPKI, at least 2048 bits).
//! `sigstore-oidc` keys with the `Fulcio` scheme name a Sigstore identity instead of a key
//! (tuf-on-ci's keyless keyholders); their signatures are checked by [`crate::keyless`].
//! Any other key parses (so a root holding it stays readable) but never verifies anything.

use ed25519_dalek::Verifier as _;
use p256::pkcs8::DecodePublicKey as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// A public key entry of root `keys` or `delegations.keys`, unknown fields kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    pub keytype: String,
    pub scheme: String,
    pub keyval: KeyVal,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// `keyval` of a key. Keys of unknown types may have no `public` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyVal {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<String>,
    #[serde(flatten)]
    pub unknown: Map<String, Value>,
}

/// A key we can verify signatures with.
#[derive(Debug, Clone)]
pub enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    EcdsaP256(p256::ecdsa::VerifyingKey),
    EcdsaP384(p384::ecdsa::VerifyingKey),
    RsaPssSha256(rsa::RsaPublicKey),
    /// A Sigstore identity: a signature counts when its bundle proves this identity signed
    /// (see [`crate::keyless::verify`]); no raw signature can.
    Keyless(KeylessIdentity),
}

/// Who a `sigstore-oidc` / `Fulcio` key names: an OIDC identity (an email address or a
/// URI, such as a CI workflow's) as its issuer vouches for it. Both are compared exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeylessIdentity {
    pub identity: String,
    pub issuer: String,
}

const MIN_RSA_BITS: usize = 2048;

impl Key {
    /// The key ID the specification defines: sha256 over the canonical JSON of the whole
    /// key object, custom fields included. Real roots do not always list keys under this
    /// ID (Sigstore root v11); a client takes IDs as given, a producer must compute them.
    pub fn computed_key_id(&self) -> crate::KeyId {
        // A key object is strings and maps: it always serializes.
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        // A key whose custom fields hold a number canonical JSON cannot write (a float) has
        // no ID by the specification. Its compact JSON stands in, so that two such keys
        // still get two IDs, neither of which any producer can have listed.
        let bytes = crate::canonical::to_canonical_bytes(&value).unwrap_or_else(|_| value.to_string().into_bytes());
        crate::KeyId::new(hex::encode(Sha256::digest(bytes)))
    }

    /// The fingerprint of the key material: the sha256 of [`PublicKey::identity`], lowercase
    /// hex (`material sha256:` in a signing request's summary). Unlike the key ID it covers
    /// neither the encoding nor any custom field (a holder's name), so a keyholder's key has
    /// one fingerprint in every root and in its own `.pub` file. `None` for a key that
    /// cannot be used.
    pub fn fingerprint(&self) -> Option<String> {
        self.public_key().ok().map(|public| public.fingerprint())
    }

    /// The usable public key, or why this key can never count toward a threshold.
    pub fn public_key(&self) -> Result<PublicKey, String> {
        // The exact pair securesystemslib registers (KEY_FOR_TYPE_AND_SCHEME); other
        // spellings (gittuf's "fulcio") fall to the unsupported-type error below.
        if (self.keytype.as_str(), self.scheme.as_str()) == ("sigstore-oidc", "Fulcio") {
            return self.keyless_identity().map(PublicKey::Keyless);
        }
        let public = self
            .keyval
            .public
            .as_deref()
            .ok_or_else(|| format!("key type '{}' has no keyval.public", self.keytype))?;
        match (self.keytype.as_str(), self.scheme.as_str()) {
            ("ed25519", "ed25519") => {
                let raw = hex::decode(public.trim()).map_err(|e| format!("ed25519 key is not hex: {e}"))?;
                let raw: [u8; 32] = raw.try_into().map_err(|_| "ed25519 key is not 32 bytes".to_string())?;
                ed25519_dalek::VerifyingKey::from_bytes(&raw)
                    .map(PublicKey::Ed25519)
                    .map_err(|e| format!("invalid ed25519 key: {e}"))
            }
            ("ecdsa" | "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256") => {
                let key = if is_pem(public) {
                    p256::PublicKey::from_public_key_pem(public).map_err(|e| format!("invalid P-256 PEM key: {e}"))?
                } else {
                    let raw =
                        hex::decode(public.trim()).map_err(|e| format!("P-256 key is neither PEM nor hex: {e}"))?;
                    p256::PublicKey::from_sec1_bytes(&raw).map_err(|e| format!("invalid P-256 point: {e}"))?
                };
                Ok(PublicKey::EcdsaP256(key.into()))
            }
            ("ecdsa" | "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384") => {
                let key = if is_pem(public) {
                    p384::PublicKey::from_public_key_pem(public).map_err(|e| format!("invalid P-384 PEM key: {e}"))?
                } else {
                    let raw =
                        hex::decode(public.trim()).map_err(|e| format!("P-384 key is neither PEM nor hex: {e}"))?;
                    p384::PublicKey::from_sec1_bytes(&raw).map_err(|e| format!("invalid P-384 point: {e}"))?
                };
                Ok(PublicKey::EcdsaP384(key.into()))
            }
            ("rsa", "rsassa-pss-sha256") => {
                use rsa::traits::PublicKeyParts as _;
                let key =
                    rsa::RsaPublicKey::from_public_key_pem(public).map_err(|e| format!("invalid RSA PEM key: {e}"))?;
                if key.size() * 8 < MIN_RSA_BITS {
                    return Err(format!(
                        "RSA key of {} bits is below the {MIN_RSA_BITS}-bit minimum",
                        key.size() * 8
                    ));
                }
                Ok(PublicKey::RsaPssSha256(key))
            }
            (keytype, scheme) => Err(format!("unsupported key type '{keytype}' with scheme '{scheme}'")),
        }
    }
}

impl Key {
    /// Who this key names when it is a well-formed keyless (`sigstore-oidc` / `Fulcio`)
    /// key: what to show a person in place of a fingerprint.
    pub fn keyless(&self) -> Option<KeylessIdentity> {
        match self.public_key() {
            Ok(PublicKey::Keyless(who)) => Some(who),
            _ => None,
        }
    }

    fn keyless_identity(&self) -> Result<KeylessIdentity, String> {
        let field = |name: &str| match self.keyval.unknown.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(format!("keyless key: keyval.{name} is not a non-empty string")),
        };
        Ok(KeylessIdentity {
            identity: field("identity")?,
            issuer: field("issuer")?,
        })
    }
}

fn is_pem(text: &str) -> bool {
    text.trim_start().starts_with("-----BEGIN")
}

impl PublicKey {
    /// The sha256 of [`PublicKey::identity`], lowercase hex: see [`Key::fingerprint`].
    pub fn fingerprint(&self) -> String {
        crate::hashes::sha256_hex(&self.identity())
    }

    /// Checks `signature` (raw bytes, already hex-decoded) over `message`. Always false for
    /// a keyless key: a raw signature proves nothing about an identity.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Ed25519(key) => match ed25519_dalek::Signature::from_slice(signature) {
                Ok(sig) => key.verify_strict(message, &sig).is_ok(),
                Err(_) => false,
            },
            PublicKey::EcdsaP256(key) => match p256::ecdsa::Signature::from_der(signature) {
                Ok(sig) => key.verify(message, &sig).is_ok(),
                Err(_) => false,
            },
            PublicKey::EcdsaP384(key) => match p384::ecdsa::Signature::from_der(signature) {
                Ok(sig) => key.verify(message, &sig).is_ok(),
                Err(_) => false,
            },
            PublicKey::RsaPssSha256(key) => {
                let digest = Sha256::digest(message);
                key.verify(rsa::Pss::new::<Sha256>(), &digest, signature).is_ok()
            }
            PublicKey::Keyless(_) => false,
        }
    }

    /// The key material itself, independent of how the metadata encodes it: two key IDs
    /// for the same key (Sigstore root v9 lists each key twice) yield the same identity,
    /// so a threshold counts distinct keys, not distinct IDs.
    pub fn identity(&self) -> Vec<u8> {
        match self {
            PublicKey::Ed25519(key) => key.as_bytes().to_vec(),
            PublicKey::EcdsaP256(key) => key.to_encoded_point(true).as_bytes().to_vec(),
            PublicKey::EcdsaP384(key) => key.to_encoded_point(true).as_bytes().to_vec(),
            PublicKey::RsaPssSha256(key) => {
                use rsa::traits::PublicKeyParts as _;
                let mut id = key.n().to_bytes_be();
                id.extend_from_slice(&key.e().to_bytes_be());
                id
            }
            // Two key IDs naming one identity from one issuer are one signer.
            PublicKey::Keyless(who) => {
                let mut id = b"sigstore-oidc\0".to_vec();
                id.extend_from_slice(who.issuer.as_bytes());
                id.push(0);
                id.extend_from_slice(who.identity.as_bytes());
                id
            }
        }
    }
}
