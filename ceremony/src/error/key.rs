//! Keys: generating, encoding, reading and finding them, and their passphrases.

use trustroot_core::{ErrorClass, Hint};

/// A key, a key reference or a passphrase is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A key type that `generate` does not make.
    #[error("unknown key type '{name}': use ed25519 or ecdsa-p256")]
    UnknownType { name: String },
    /// The crypto crate could not encode a key (`what`: "private key" or "public key").
    #[error("cannot encode the {what}: {reason}")]
    Encode { what: &'static str, reason: String },
    /// The crypto crate could not encrypt a private key.
    #[error("cannot encrypt the private key: {reason}")]
    Encrypt { reason: String },
    #[error("bad scrypt parameters: {reason}")]
    ScryptParameters { reason: String },
    #[error("bad encryption parameters: {reason}")]
    EncryptionParameters { reason: String },
    #[error("the passphrase is empty")]
    EmptyPassphrase,
    /// A key-derivation cost outside what encryption accepts.
    #[error("scrypt log2(N) {log_n} is outside {min}..=22")]
    ScryptCost { log_n: u8, min: u8 },
    /// A private key file (`what` describes where it came from) is unusable.
    #[error("{what}: {problem}")]
    Private { what: String, problem: PrivateKeyProblem },
    /// A public key (`what` names it) is unusable.
    #[error("{what}: {problem}")]
    Public { what: String, problem: PublicKeyProblem },
    /// `env:NAME` with a name that is not an environment variable's.
    #[error("'{text}': an environment variable name is letters, digits and '_'")]
    BadVariableName { text: String },
    #[error("empty key reference")]
    EmptyReference,
    /// `awskms:` with no key, or with spaces in it.
    #[error("'{text}': an AWS KMS key reference is awskms: followed by a key ID, key ARN or alias")]
    BadKmsKey { text: String },
    /// A key service recognised but not supported (yet).
    #[error("{scheme} keys are not supported yet: {advice}")]
    UnsupportedService { scheme: &'static str, advice: &'static str },
    /// A URI of another tool's signer (securesystemslib's `file:`/`file2:`/`envvar:`)
    /// where a key reference is expected: refused rather than read as a file name.
    #[error(
        "'{}': {scheme} is another tool's signer URI, not a key trustroot can use (and never read as a file name); name a key file, env:VAR, a pkcs11: URI or awskms:KEY",
        trustroot_core::display::escape(text)
    )]
    ForeignUri { text: String, scheme: String },
    /// An online key URI (tuf-on-ci's `x-tuf-on-ci-online-uri`) of a kind outside the
    /// allowlist: it is never read as a file name.
    #[error(
        "'{}' is not an online key reference trustroot knows (awskms:, gcpkms:, azurekms://, sigstore:); a URI naming a local file is never read",
        trustroot_core::display::escape(text)
    )]
    NotAnOnlineUri { text: String },
    /// Bytes were asked of a reference that is not a file or a variable.
    #[error("{reference}: not a key file; the key stays on its token or service")]
    NotAFile { reference: String },
    /// The variable a key reference names is not set.
    #[error("environment variable {var} is not set (or not UTF-8)")]
    VariableUnset { var: String },
    /// The variable that should hold a passphrase is not set.
    #[error("environment variable {var} (the passphrase) is not set or empty")]
    PassphraseVariableUnset { var: String },
    /// An encrypted key (`what` names it) and no terminal to ask for its passphrase.
    #[error("{what} is encrypted and there is no terminal to ask for its passphrase")]
    NoPassphraseSource { what: String },
    /// A token that needs a PIN, no PIN source and no terminal to ask for it.
    #[error("{what} needs its PIN and there is no terminal to ask for it")]
    NoPinSource { what: String },
    /// The terminal could not be read.
    #[error("cannot read the passphrase: {source}")]
    PassphraseUnreadable {
        #[source]
        source: std::io::Error,
    },
}

/// Why a private key file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrivateKeyProblem {
    #[error("not a PEM private key ({reason})")]
    NotPem { reason: String },
    #[error("damaged encrypted key ({reason})")]
    DamagedEncrypted { reason: String },
    /// Its encryption asks for a cost refused before any passphrase is tried.
    #[error("{0}")]
    Kdf(KdfProblem),
    #[error("this is a public key; signing needs the private key")]
    PublicKeyGiven,
    #[error("PEM label '{label}' is not a PKCS#8 private key ('PRIVATE KEY' or 'ENCRYPTED PRIVATE KEY')")]
    UnknownLabel { label: String },
    #[error("not an Ed25519 or ECDSA P-256 PKCS#8 key (a wrong passphrase can also cause this)")]
    UnknownAlgorithm,
}

/// An encrypted key whose key derivation is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KdfProblem {
    #[error("uses PBES1, an obsolete encryption; re-encrypt the key with PBES2 (scrypt or PBKDF2)")]
    Pbes1,
    #[error(
        "its scrypt parameters (N = {n}, r = {r}, p = {p}) would need {mib} MiB; at most {max_mib} MiB is accepted"
    )]
    ScryptTooCostly {
        n: u64,
        r: u16,
        p: u16,
        mib: u64,
        max_mib: u64,
    },
    #[error("its PBKDF2 iteration count {count} is above the {max} accepted")]
    Pbkdf2TooCostly { count: u32, max: u32 },
    #[error("uses a key derivation other than scrypt or PBKDF2")]
    OtherKdf,
}

/// Why a public key cannot be registered or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublicKeyProblem {
    #[error("not UTF-8 text")]
    NotUtf8,
    #[error("not a TUF key object: {reason}")]
    NotKeyObject { reason: String },
    #[error("not an Ed25519, P-256, P-384 or RSA public key")]
    UnknownAlgorithm,
    /// A PEM block of another kind, maybe a private key.
    #[error("not a public key: give the PEM 'PUBLIC KEY', never a private key")]
    NotPublicPem,
    #[error("neither a PEM public key nor a TUF key object")]
    Unrecognized,
    /// The key object parses but core cannot use it.
    #[error("{reason}")]
    Unusable { reason: String },
}

impl KeyError {
    /// Which kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            KeyError::UnknownType { .. }
            | KeyError::EmptyPassphrase
            | KeyError::ScryptCost { .. }
            | KeyError::BadVariableName { .. }
            | KeyError::EmptyReference
            | KeyError::BadKmsKey { .. }
            | KeyError::UnsupportedService { .. }
            | KeyError::ForeignUri { .. }
            | KeyError::NotAnOnlineUri { .. }
            | KeyError::NotAFile { .. }
            | KeyError::NoPassphraseSource { .. }
            | KeyError::NoPinSource { .. } => ErrorClass::Usage,
            KeyError::PassphraseUnreadable { .. } => ErrorClass::Io,
            KeyError::ScryptParameters { .. } | KeyError::EncryptionParameters { .. } => ErrorClass::Usage,
            _ => ErrorClass::LocalState,
        }
    }

    /// The remedy, when there is one beyond the message.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            KeyError::Public {
                problem: PublicKeyProblem::NotPublicPem,
                ..
            } => Some(Hint::ShowPublicKey),
            KeyError::NoPassphraseSource { .. } => Some(Hint::PassphraseFromEnvOrFile),
            KeyError::NoPinSource { .. } => Some(Hint::PinFromSource),
            _ => None,
        }
    }
}
