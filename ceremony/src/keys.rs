//! Keys: generating signing keys, PKCS#8 PEM files (passphrase-encrypted or not), key
//! references, public keys as TUF key objects, and the [`Signer`] trait.
//!
//! Private keys are referenced, never copied into the signing repository: a [`KeyRef`] is
//! a file path, `env:VAR` (the PEM in an environment variable), a `pkcs11:` URI (a key on
//! a token) or a cloud KMS key; each is a [`Signer`].

use std::fs;
use std::io::Write as _;
use std::path::Path;

pub use pkcs8::der::zeroize::Zeroizing;
use pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use rand_core::{OsRng, RngCore as _};
use serde_json::Map;
use trustroot_core::Key;

use crate::error::{Error, FileProblem, IoOp, KdfProblem, KeyError, PrivateKeyProblem, PublicKeyProblem, Result};

pub mod awskms;
pub mod pkcs11;
mod reference;

pub use reference::{KeyRef, online_advice};

/// The largest key file read (a PEM key is well under 1 KiB).
pub(crate) const MAX_KEY_FILE: u64 = 64 * 1024;

/// Key types `trustroot key generate` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// Ed25519: `keytype`/`scheme` `ed25519`, hex public key.
    Ed25519,
    /// ECDSA on P-256 with SHA-256: `keytype` `ecdsa`, scheme `ecdsa-sha2-nistp256`, PEM
    /// public key (what YubiKeys and Sigstore's keyholders use).
    EcdsaP256,
}

impl std::str::FromStr for KeyType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "ed25519" => Ok(KeyType::Ed25519),
            "ecdsa-p256" | "ecdsa" | "p256" => Ok(KeyType::EcdsaP256),
            other => Err(KeyError::UnknownType {
                name: other.to_string(),
            }
            .into()),
        }
    }
}

/// Cost of the scrypt key derivation that protects an encrypted key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfCost {
    /// log2 of scrypt's N (r = 8, p = 1).
    pub log_n: u8,
}

impl KdfCost {
    /// The default: N = 2^17, r = 8, p = 1 (128 MiB, OWASP's recommendation for scrypt).
    pub const STRONG: KdfCost = KdfCost { log_n: 17 };
    /// The lowest cost accepted (for tests only; documented as such).
    pub const MIN_LOG_N: u8 = 10;
}

impl Default for KdfCost {
    fn default() -> Self {
        KdfCost::STRONG
    }
}

/// A private signing key held in memory.
pub enum PrivateKey {
    Ed25519(ed25519_dalek::SigningKey),
    EcdsaP256(p256::ecdsa::SigningKey),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PrivateKey::Ed25519(_) => "PrivateKey::Ed25519(..)",
            PrivateKey::EcdsaP256(_) => "PrivateKey::EcdsaP256(..)",
        })
    }
}

impl PrivateKey {
    /// A new random key.
    pub fn generate(key_type: KeyType) -> PrivateKey {
        match key_type {
            KeyType::Ed25519 => PrivateKey::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng)),
            KeyType::EcdsaP256 => PrivateKey::EcdsaP256(p256::ecdsa::SigningKey::random(&mut OsRng)),
        }
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        match self {
            PrivateKey::Ed25519(_) => KeyType::Ed25519,
            PrivateKey::EcdsaP256(_) => KeyType::EcdsaP256,
        }
    }

    /// PKCS#8 PEM: `PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY` (PBES2: scrypt + AES-256-CBC)
    /// when a passphrase is given.
    pub fn to_pkcs8_pem(&self, passphrase: Option<&str>, cost: KdfCost) -> Result<Zeroizing<String>> {
        let der = match self {
            PrivateKey::Ed25519(key) => key.to_pkcs8_der(),
            PrivateKey::EcdsaP256(key) => key.to_pkcs8_der(),
        }
        .map_err(encode_private)?;
        let Some(passphrase) = passphrase else {
            return der.to_pem("PRIVATE KEY", LineEnding::LF).map_err(encode_private);
        };
        if passphrase.is_empty() {
            return Err(KeyError::EmptyPassphrase.into());
        }
        if cost.log_n < KdfCost::MIN_LOG_N || cost.log_n > 22 {
            return Err(KeyError::ScryptCost {
                log_n: cost.log_n,
                min: KdfCost::MIN_LOG_N,
            }
            .into());
        }
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        OsRng.fill_bytes(&mut iv);
        let scrypt = pkcs8::pkcs5::scrypt::Params::new(cost.log_n, 8, 1, 32)
            .map_err(|e| KeyError::ScryptParameters { reason: e.to_string() })?;
        let params = pkcs8::pkcs5::pbes2::Parameters::scrypt_aes256cbc(scrypt, &salt, &iv)
            .map_err(|e| KeyError::EncryptionParameters { reason: e.to_string() })?;
        let info = pkcs8::PrivateKeyInfo::try_from(der.as_bytes()).map_err(encode_private)?;
        let encrypted = info
            .encrypt_with_params(params, passphrase.as_bytes())
            .map_err(|e| KeyError::Encrypt { reason: e.to_string() })?;
        encrypted
            .to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF)
            .map_err(encode_private)
    }

    /// Reads a PKCS#8 PEM private key. `what` names the key in errors; `passphrase` is
    /// asked for only when the key is encrypted.
    pub fn from_pkcs8_pem(
        what: &str,
        pem: &[u8],
        passphrase: &mut dyn FnMut() -> Result<Zeroizing<String>>,
    ) -> Result<PrivateKey> {
        let refuse = |problem: PrivateKeyProblem| -> Error {
            KeyError::Private {
                what: what.to_string(),
                problem,
            }
            .into()
        };
        let (label, der) = pkcs8::der::pem::decode_vec(pem)
            .map_err(|e| refuse(PrivateKeyProblem::NotPem { reason: e.to_string() }))?;
        let der = Zeroizing::new(der);
        let plain: Zeroizing<Vec<u8>> = match label {
            "PRIVATE KEY" => der,
            "ENCRYPTED PRIVATE KEY" => {
                let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice())
                    .map_err(|e| refuse(PrivateKeyProblem::DamagedEncrypted { reason: e.to_string() }))?;
                check_kdf_cost(&info.encryption_algorithm).map_err(|e| refuse(PrivateKeyProblem::Kdf(e)))?;
                let secret = passphrase()?;
                let document = info
                    .decrypt(secret.as_bytes())
                    .map_err(|_| Error::WrongPassphrase { what: what.to_string() })?;
                Zeroizing::new(document.as_bytes().to_vec())
            }
            "PUBLIC KEY" => {
                return Err(refuse(PrivateKeyProblem::PublicKeyGiven));
            }
            other => {
                return Err(refuse(PrivateKeyProblem::UnknownLabel {
                    label: other.to_string(),
                }));
            }
        };
        if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_der(&plain) {
            return Ok(PrivateKey::Ed25519(key));
        }
        if let Ok(key) = p256::SecretKey::from_pkcs8_der(&plain) {
            return Ok(PrivateKey::EcdsaP256(p256::ecdsa::SigningKey::from(key)));
        }
        Err(refuse(PrivateKeyProblem::UnknownAlgorithm))
    }

    /// The public key as a TUF key object (no custom fields).
    pub fn public_key(&self) -> Key {
        match self {
            PrivateKey::Ed25519(key) => ed25519_key(&key.verifying_key()),
            PrivateKey::EcdsaP256(key) => p256_key(key.verifying_key()),
        }
    }

    /// The public key as PEM SPKI (what `keys/<name>.pub` holds).
    pub fn public_pem(&self) -> Result<String> {
        match self {
            PrivateKey::Ed25519(key) => key.verifying_key().to_public_key_pem(LineEnding::LF),
            PrivateKey::EcdsaP256(key) => key.verifying_key().to_public_key_pem(LineEnding::LF),
        }
        .map_err(|e| {
            KeyError::Encode {
                what: "public key",
                reason: e.to_string(),
            }
            .into()
        })
    }

    fn sign_raw(&self, msg: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer as _;
        match self {
            PrivateKey::Ed25519(key) => key.sign(msg).to_bytes().to_vec(),
            PrivateKey::EcdsaP256(key) => {
                let sig: p256::ecdsa::Signature = key.sign(msg);
                sig.to_der().as_bytes().to_vec()
            }
        }
    }
}

pub(crate) fn ed25519_key(key: &ed25519_dalek::VerifyingKey) -> Key {
    tuf_key("ed25519", "ed25519", hex::encode(key.as_bytes()))
}

pub(crate) fn p256_key(key: &p256::ecdsa::VerifyingKey) -> Key {
    tuf_key("ecdsa", "ecdsa-sha2-nistp256", p256_public_pem(key))
}

/// A TUF key object with no custom fields.
pub(crate) fn tuf_key(keytype: &str, scheme: &str, public: String) -> Key {
    Key {
        keytype: keytype.to_string(),
        scheme: scheme.to_string(),
        keyval: trustroot_core::keys::KeyVal {
            public: Some(public),
            unknown: Map::new(),
        },
        unknown: Map::new(),
    }
}

/// The DER SubjectPublicKeyInfo header of an uncompressed P-256 point: the sequence,
/// the algorithm (id-ecPublicKey, prime256v1) and the bit string of 66 bytes.
const P256_SPKI_HEADER: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The PEM SPKI of a P-256 key, as `to_public_key_pem` writes it, built without a step
/// that can fail: the point of a verifying key always encodes to 65 bytes.
fn p256_public_pem(key: &p256::ecdsa::VerifyingKey) -> String {
    use base64::Engine as _;
    let mut der = P256_SPKI_HEADER.to_vec();
    der.extend_from_slice(key.to_encoded_point(false).as_bytes());
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in text.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

/// The TUF key of a P-256 public key given as DER SPKI (what a KMS returns), in the PEM
/// form a `.pub` file holds, so its key ID is the one of the same key read from a file.
pub(crate) fn p256_key_from_spki_der(der: &[u8]) -> std::result::Result<Key, String> {
    use pkcs8::DecodePublicKey as _;
    let key = p256::PublicKey::from_public_key_der(der).map_err(|e| format!("not a P-256 public key: {e}"))?;
    Ok(p256_key(&p256::ecdsa::VerifyingKey::from(key)))
}

/// The TUF key (`rsa`, `rsassa-pss-sha256`, PEM SPKI) of an RSA public key of 3072 or
/// 4096 bits given as DER SPKI.
pub(crate) fn rsa_key_from_spki_der(der: &[u8]) -> std::result::Result<Key, String> {
    use pkcs8::DecodePublicKey as _;
    use rsa::traits::PublicKeyParts as _;
    let key = rsa::RsaPublicKey::from_public_key_der(der).map_err(|e| format!("not an RSA public key: {e}"))?;
    let bits = key.size() * 8;
    if bits != 3072 && bits != 4096 {
        return Err(format!("an RSA key of {bits} bits where 3072 or 4096 were announced"));
    }
    let pem = key
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the RSA key: {e}"))?;
    Ok(tuf_key("rsa", "rsassa-pss-sha256", pem))
}

/// Reads a public key: PEM SPKI (Ed25519 or P-256), or a TUF key object in JSON. The key
/// must be usable (`Key::public_key` succeeds).
pub fn parse_public_key(what: &str, bytes: &[u8]) -> Result<Key> {
    use pkcs8::DecodePublicKey as _;
    let refuse = |problem: PublicKeyProblem| -> Error {
        KeyError::Public {
            what: what.to_string(),
            problem,
        }
        .into()
    };
    let text = std::str::from_utf8(bytes).map_err(|_| refuse(PublicKeyProblem::NotUtf8))?;
    let trimmed = text.trim_start();
    let key = if trimmed.starts_with('{') {
        let key: Key =
            serde_json::from_str(text).map_err(|e| refuse(PublicKeyProblem::NotKeyObject { reason: e.to_string() }))?;
        key
    } else if trimmed.starts_with("-----BEGIN PUBLIC KEY-----") {
        if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(trimmed) {
            ed25519_key(&key)
        } else if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_pem(trimmed) {
            p256_key(&key)
        } else if p384::ecdsa::VerifyingKey::from_public_key_pem(trimmed).is_ok() {
            // P-384 keys are registered only where the policy allows them (tough refuses
            // a root that lists one); the PEM is kept as it is.
            tuf_key("ecdsa", "ecdsa-sha2-nistp384", trimmed.to_string())
        } else if let Ok(key) = rsa::RsaPublicKey::from_public_key_pem(trimmed) {
            // TUF's one RSA scheme, RSASSA-PSS with SHA-256 (an AWS KMS RSA key registered
            // from KMS, or a keyholder signing with their own tool); core refuses keys
            // under 2048 bits below.
            let pem = key
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| refuse(PublicKeyProblem::Unusable { reason: e.to_string() }))?;
            tuf_key("rsa", "rsassa-pss-sha256", pem)
        } else {
            return Err(refuse(PublicKeyProblem::UnknownAlgorithm));
        }
    } else if trimmed.starts_with("-----BEGIN") {
        return Err(refuse(PublicKeyProblem::NotPublicPem));
    } else {
        return Err(refuse(PublicKeyProblem::Unrecognized));
    };
    key.public_key()
        .map_err(|reason| refuse(PublicKeyProblem::Unusable { reason }))?;
    Ok(key)
}

/// Something that signs with a key: a key file today, a PKCS#11 token or a cloud KMS key
/// later. Signatures are in the encoding TUF puts in `sig` (before hex): raw 64 bytes for
/// Ed25519, DER for ECDSA.
pub trait Signer {
    /// The public key, as a TUF key object without custom fields.
    fn public_key(&self) -> Key;
    /// Signs `msg`.
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>>;
    /// Where the key lives, for messages and transcripts (never secret).
    fn describe(&self) -> String;
}

/// The PEM SPKI of a public key (what `keys/<name>.pub` holds): ECDSA and RSA keys carry it
/// already, an Ed25519 key's hex is encoded.
pub fn public_pem(key: &Key) -> Result<String> {
    use pkcs8::EncodePublicKey as _;
    let unusable = |reason: String| -> Error {
        KeyError::Public {
            what: "key".to_string(),
            problem: PublicKeyProblem::Unusable { reason },
        }
        .into()
    };
    let public = key.keyval.public.as_deref().unwrap_or_default();
    if key.keytype == "ed25519" {
        let bytes: [u8; 32] = hex::decode(public)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| unusable("an Ed25519 key that is not 32 bytes of hex".to_string()))?;
        let verifying = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|e| unusable(e.to_string()))?;
        return verifying
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| unusable(e.to_string()));
    }
    if public.trim_start().starts_with("-----BEGIN PUBLIC KEY-----") {
        return Ok(public.to_string());
    }
    Err(unusable(format!("a {} key without a PEM public key", key.keytype)))
}

/// A private key loaded from a PEM file or environment variable.
#[derive(Debug)]
pub struct SoftwareSigner {
    key: PrivateKey,
    source: String,
}

impl SoftwareSigner {
    pub fn new(key: PrivateKey, source: impl Into<String>) -> Self {
        SoftwareSigner {
            key,
            source: source.into(),
        }
    }
}

impl Signer for SoftwareSigner {
    fn public_key(&self) -> Key {
        self.key.public_key()
    }
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        Ok(self.key.sign_raw(msg))
    }
    fn describe(&self) -> String {
        self.source.clone()
    }
}

/// A warning when the private key file at `path` is open to its group or others (any of
/// the mode bits 077): its mode, and the `chmod` that fixes it. `None` when it is private, or not on
/// Unix.
pub fn loose_permissions_warning(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(path).ok()?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Some(format!(
                "warning: the private key file {} has mode {mode:04o}, open to its group or others; \
                 run `chmod 600 {}`",
                path.display(),
                path.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    None
}

/// The crypto crate's refusal to encode a private key.
fn encode_private(e: impl std::fmt::Display) -> Error {
    KeyError::Encode {
        what: "private key",
        reason: e.to_string(),
    }
    .into()
}

/// Reads a file of at most `limit` bytes; errors name the file.
pub fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let file = fs::File::open(path).map_err(|e| Error::io(path, IoOp::Read, e))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, IoOp::Read, e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::content(path, FileProblem::TooLarge { limit }));
    }
    Ok(bytes)
}

/// Creates a new file readable only by its owner (0600 on Unix); refuses to overwrite.
pub fn create_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    create_key_file(path, bytes, 0o600)
}

/// Creates a public key file readable by everyone (mode 0644 on Unix), never replacing a
/// file: it is shared, copied into `keys/`, handed to the coordinator.
pub fn create_public_file(path: &Path, bytes: &[u8]) -> Result<()> {
    create_key_file(path, bytes, 0o644)
}

/// Creates `path` with `mode` (on Unix) and `bytes`, synced; an existing file is refused.
fn create_key_file(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::content(path, FileProblem::KeyFileExists)
        } else {
            Error::io(path, IoOp::Create, e)
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(path, IoOp::Write, e))
}

/// Reads a passphrase from a file: its first line, without the line ending.
pub fn passphrase_from_file(path: &Path) -> Result<Zeroizing<String>> {
    let bytes = Zeroizing::new(read_limited(path, 4096)?);
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::content(path, FileProblem::PassphraseNotUtf8))?;
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(Error::content(path, FileProblem::PassphraseEmpty));
    }
    Ok(Zeroizing::new(line.to_string()))
}

/// Reads a passphrase from an environment variable.
pub fn passphrase_from_env(var: &str) -> Result<Zeroizing<String>> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(Zeroizing::new(v)),
        _ => Err(KeyError::PassphraseVariableUnset { var: var.to_string() }.into()),
    }
}

/// True when `a` and `b` are the same key material (whatever their custom fields).
pub fn same_key(a: &Key, b: &Key) -> bool {
    match (a.public_key(), b.public_key()) {
        (Ok(a), Ok(b)) => a.identity() == b.identity(),
        _ => false,
    }
}

/// The TUF key object of a keyless keyholder (tuf-on-ci's `sigstore-oidc` key): the
/// identity Sigstore's CA certifies and the OIDC issuer they sign in with. Either is
/// refused when it is empty or holds a control character; the issuer must be an https URL.
pub fn keyless_key_json(identity: &str, issuer: &str) -> Result<Vec<u8>> {
    let refuse = |reason: String| -> Error {
        KeyError::Public {
            what: "--identity / --issuer".to_string(),
            problem: PublicKeyProblem::Unusable { reason },
        }
        .into()
    };
    if identity.is_empty() || identity.chars().any(char::is_control) {
        return Err(refuse(
            "--identity must be a non-empty e-mail address or URI".to_string(),
        ));
    }
    if !issuer.starts_with("https://") || issuer.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refuse(format!(
            "--issuer '{}' is not an https:// URL",
            trustroot_core::display::escape(issuer)
        )));
    }
    let key = serde_json::json!({
        "keytype": "sigstore-oidc",
        "scheme": "Fulcio",
        "keyval": {"identity": identity, "issuer": issuer}
    });
    let mut bytes = serde_json::to_vec_pretty(&key).map_err(Error::encode("a keyless key"))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// True for an ECDSA P-384 key, which tough cannot read (see `[gate] allow_p384`).
pub fn is_p384(key: &Key) -> bool {
    key.scheme == "ecdsa-sha2-nistp384"
}

/// A short human form of a key: its type and the first 16 hex digits of its ID.
pub fn short_id(keyid: &str) -> &str {
    keyid.get(..16).unwrap_or(keyid)
}

/// Most memory an encrypted key file may make scrypt use (2^22 x 8 x 128 bytes, the most
/// `key generate` itself asks for).
const MAX_SCRYPT_MEMORY: u64 = 4 << 30;
/// Most PBKDF2 iterations an encrypted key file may ask for (OpenSSL writes 2,048, current
/// guidance is 600,000).
const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// The key derivation's cost comes from the key file itself: a hostile or damaged file must
/// not make us spend hours or every byte of memory before the passphrase is even checked.
fn check_kdf_cost(scheme: &pkcs8::pkcs5::EncryptionScheme<'_>) -> std::result::Result<(), KdfProblem> {
    use pkcs8::pkcs5::pbes2::Kdf;
    let pkcs8::pkcs5::EncryptionScheme::Pbes2(params) = scheme else {
        return Err(KdfProblem::Pbes1);
    };
    match &params.kdf {
        Kdf::Scrypt(scrypt) => {
            let memory = 128u64
                .saturating_mul(u64::from(scrypt.block_size))
                .saturating_mul(scrypt.cost_parameter)
                .saturating_mul(u64::from(scrypt.parallelization));
            if memory > MAX_SCRYPT_MEMORY || scrypt.parallelization > 16 {
                return Err(KdfProblem::ScryptTooCostly {
                    n: scrypt.cost_parameter,
                    r: scrypt.block_size,
                    p: scrypt.parallelization,
                    mib: memory >> 20,
                    max_mib: MAX_SCRYPT_MEMORY >> 20,
                });
            }
        }
        Kdf::Pbkdf2(pbkdf2) => {
            if pbkdf2.iteration_count > MAX_PBKDF2_ITERATIONS {
                return Err(KdfProblem::Pbkdf2TooCostly {
                    count: pbkdf2.iteration_count,
                    max: MAX_PBKDF2_ITERATIONS,
                });
            }
        }
        _ => return Err(KdfProblem::OtherKdf),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
