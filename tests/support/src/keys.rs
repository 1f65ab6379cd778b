//! Signing keys for the simulator: the four TUF key types, their public key objects and
//! signatures in the exact encodings real repositories use.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use ed25519_dalek::Signer as _;
use p256::pkcs8::{EncodePublicKey as _, LineEnding};
use rand_core::OsRng;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

/// The key types (and signature schemes) the simulator can sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `ed25519` / `ed25519`: hex raw 32-byte public key, hex 64-byte signature.
    Ed25519,
    /// `ecdsa` / `ecdsa-sha2-nistp256`: PEM SPKI public key, hex DER signature over SHA-256.
    EcdsaP256,
    /// `ecdsa` / `ecdsa-sha2-nistp384`: PEM SPKI public key, hex DER signature over SHA-384.
    EcdsaP384,
    /// `rsa` / `rsassa-pss-sha256`: 2048-bit, PEM SPKI, PSS with MGF1-SHA256, salt length 32.
    RsaPss,
}

impl KeyType {
    /// The `keytype` string of the TUF key object.
    pub fn keytype(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::EcdsaP256 | KeyType::EcdsaP384 => "ecdsa",
            KeyType::RsaPss => "rsa",
        }
    }

    /// The `scheme` string of the TUF key object.
    pub fn scheme(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::EcdsaP256 => "ecdsa-sha2-nistp256",
            KeyType::EcdsaP384 => "ecdsa-sha2-nistp384",
            KeyType::RsaPss => "rsassa-pss-sha256",
        }
    }
}

enum Secret {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Rsa(rsa::RsaPrivateKey),
}

/// A private key plus the public TUF key object that describes it.
///
/// Cloning is cheap and keeps the same secret. The public object can be altered
/// ([`SimKey::with_keytype_scheme`], [`SimKey::with_field`]) to build odd or hostile key
/// objects; the key ID always follows the object unless overridden with
/// [`SimKey::with_key_id`].
#[derive(Clone)]
pub struct SimKey {
    secret: Arc<Secret>,
    key_type: KeyType,
    keytype: String,
    scheme: String,
    public: String,
    extra: Map<String, Value>,
    key_id_override: Option<String>,
}

impl std::fmt::Debug for SimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimKey")
            .field("key_id", &self.key_id())
            .field("keytype", &self.keytype)
            .field("scheme", &self.scheme)
            .finish()
    }
}

/// Number of distinct RSA keys generated per process; later RSA keys repeat them.
pub const RSA_POOL_SIZE: usize = 6;

fn rsa_pool() -> &'static [OnceLock<rsa::RsaPrivateKey>] {
    static POOL: OnceLock<Vec<OnceLock<rsa::RsaPrivateKey>>> = OnceLock::new();
    POOL.get_or_init(|| (0..RSA_POOL_SIZE).map(|_| OnceLock::new()).collect())
}

/// RSA 2048 generation is slow in debug builds: keys are generated on first use and
/// cycled, so at most [`RSA_POOL_SIZE`] distinct RSA keys exist per process.
fn pooled_rsa_key() -> rsa::RsaPrivateKey {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let pool = rsa_pool();
    let slot = &pool[NEXT.fetch_add(1, Ordering::Relaxed) % pool.len()];
    slot.get_or_init(|| rsa::RsaPrivateKey::new(&mut OsRng, 2048).expect("RSA key generation"))
        .clone()
}

impl SimKey {
    /// Generates a new key of `key_type` (RSA keys come from a small per-process pool).
    pub fn generate(key_type: KeyType) -> SimKey {
        let (secret, public) = match key_type {
            KeyType::Ed25519 => {
                let sk = ed25519_dalek::SigningKey::generate(&mut OsRng);
                let public = hex::encode(sk.verifying_key().as_bytes());
                (Secret::Ed25519(sk), public)
            }
            KeyType::EcdsaP256 => {
                let sk = p256::ecdsa::SigningKey::random(&mut OsRng);
                let pem = sk
                    .verifying_key()
                    .to_public_key_pem(LineEnding::LF)
                    .expect("P-256 SPKI PEM");
                (Secret::P256(sk), pem)
            }
            KeyType::EcdsaP384 => {
                let sk = p384::ecdsa::SigningKey::random(&mut OsRng);
                let pem = sk
                    .verifying_key()
                    .to_public_key_pem(LineEnding::LF)
                    .expect("P-384 SPKI PEM");
                (Secret::P384(sk), pem)
            }
            KeyType::RsaPss => {
                let sk = pooled_rsa_key();
                let pem = sk
                    .to_public_key()
                    .to_public_key_pem(LineEnding::LF)
                    .expect("RSA SPKI PEM");
                (Secret::Rsa(sk), pem)
            }
        };
        SimKey {
            secret: Arc::new(secret),
            key_type,
            keytype: key_type.keytype().to_string(),
            scheme: key_type.scheme().to_string(),
            public,
            extra: Map::new(),
            key_id_override: None,
        }
    }

    /// The algorithm this key really signs with (whatever its key object claims).
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The public key as it appears in `keyval.public` (hex for ed25519, PEM otherwise).
    pub fn public_value(&self) -> &str {
        &self.public
    }

    /// The TUF public key object: `{"keytype", "scheme", "keyval": {"public"}}` plus any
    /// custom fields added with [`SimKey::with_field`].
    pub fn public_json(&self) -> Value {
        let mut obj = self.extra.clone();
        obj.insert("keytype".into(), json!(self.keytype));
        obj.insert("scheme".into(), json!(self.scheme));
        obj.insert("keyval".into(), json!({ "public": self.public }));
        Value::Object(obj)
    }

    /// The key ID: sha256 hex of the canonical JSON of [`SimKey::public_json`] (every field
    /// included), unless overridden with [`SimKey::with_key_id`].
    pub fn key_id(&self) -> String {
        if let Some(id) = &self.key_id_override {
            return id.clone();
        }
        compute_key_id(&self.public_json())
    }

    /// Signs `msg`; returns the hex signature as it goes into a `sig` field.
    pub fn sign(&self, msg: &[u8]) -> String {
        hex::encode(self.sign_raw(msg))
    }

    /// Signs `msg`; returns the raw signature bytes (DER for ECDSA).
    pub fn sign_raw(&self, msg: &[u8]) -> Vec<u8> {
        match &*self.secret {
            Secret::Ed25519(sk) => sk.sign(msg).to_bytes().to_vec(),
            Secret::P256(sk) => {
                let sig: p256::ecdsa::Signature = signature_sign(sk, msg);
                sig.to_der().as_bytes().to_vec()
            }
            Secret::P384(sk) => {
                let sig: p384::ecdsa::Signature = signature_sign(sk, msg);
                sig.to_der().as_bytes().to_vec()
            }
            Secret::Rsa(sk) => {
                use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
                let signer = rsa::pss::SigningKey::<Sha256>::new_with_salt_len(sk.clone(), 32);
                signer.sign_with_rng(&mut OsRng, msg).to_vec()
            }
        }
    }

    /// The same secret, with a key object claiming another `keytype`/`scheme`
    /// (for "wrong key type" cases). The key ID changes with the object.
    pub fn with_keytype_scheme(&self, keytype: &str, scheme: &str) -> SimKey {
        let mut key = self.clone();
        key.keytype = keytype.to_string();
        key.scheme = scheme.to_string();
        key
    }

    /// The same secret, with a custom field (e.g. `x-tuf-on-ci-keyowner`) in its key object.
    /// The key ID changes with the object, as it does in python-tuf.
    pub fn with_field(&self, name: &str, value: Value) -> SimKey {
        let mut key = self.clone();
        key.extra.insert(name.to_string(), value);
        key
    }

    /// The same key, listed under a key ID that is not the hash of its object.
    pub fn with_key_id(&self, key_id: &str) -> SimKey {
        let mut key = self.clone();
        key.key_id_override = Some(key_id.to_string());
        key
    }
}

fn signature_sign<S, Sig>(signer: &S, msg: &[u8]) -> Sig
where
    S: p256::ecdsa::signature::Signer<Sig>,
{
    signer.sign(msg)
}

/// sha256 hex of the canonical JSON of a key object.
pub fn compute_key_id(key_object: &Value) -> String {
    let bytes = trustroot_core::canonical::to_canonical_bytes(key_object).expect("key objects have no floats");
    hex::encode(Sha256::digest(bytes))
}
