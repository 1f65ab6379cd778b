//! YubiKey PIV attestations: why a key certificate and its device certificate do not prove
//! that the key being registered was made on a YubiKey.
//!
//! `file` in each variant is the file the problem is in as the person named it (the key
//! certificate or the device certificate), or an embedded Yubico certificate by its name.

use trustroot_core::display::escape;
use trustroot_core::{ErrorClass, Hint};

/// An attestation was refused; nothing was registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// The file is over the size accepted for one certificate.
    #[error("{}: larger than {limit} bytes: not one attestation certificate", escape(file))]
    TooLarge { file: String, limit: usize },
    /// The file is not one PEM `CERTIFICATE`.
    #[error("{}: not a PEM certificate ({reason})", escape(file))]
    NotPem { file: String, reason: String },
    /// The PEM holds something that is not an X.509 certificate.
    #[error("{}: not an X.509 certificate ({reason})", escape(file))]
    NotCertificate { file: String, reason: String },
    /// A certificate that is not a YubiKey PIV key attestation (`reason` says what is missing).
    #[error("{}: not a YubiKey PIV attestation: {reason}", escape(file))]
    NotYubico { file: String, reason: String },
    /// A Yubico extension whose value cannot be read.
    #[error("{}: not a YubiKey PIV attestation: its {what} extension is malformed", escape(file))]
    BadExtension { file: String, what: &'static str },
    /// A certificate of the chain expired before the time of the check.
    #[error(
        "{}: the attestation chain has expired: '{}' was valid until {not_after}",
        escape(file),
        escape(subject)
    )]
    Expired {
        file: String,
        subject: String,
        not_after: String,
    },
    /// A certificate of the chain is not valid yet at the time of the check.
    #[error(
        "{}: the attestation chain is not valid yet: '{}' is valid from {not_before}",
        escape(file),
        escape(subject)
    )]
    NotYetValid {
        file: String,
        subject: String,
        not_before: String,
    },
    /// The certificate names another issuer than the certificate given to sign it.
    #[error(
        "{}: issued by '{}', not by '{}' (the device certificate of another YubiKey, or not its slot F9 certificate?)",
        escape(file),
        escape(issuer),
        escape(signer)
    )]
    IssuerMismatch {
        file: String,
        issuer: String,
        signer: String,
    },
    /// The key certificate and the device certificate were given the other way round.
    #[error(
        "{} and {} are given the other way round: the second is the key's attestation, the first the device (slot F9) certificate that signed it",
        escape(key_file),
        escape(device_file)
    )]
    Swapped { key_file: String, device_file: String },
    /// The signature does not verify with the issuer's key.
    #[error(
        "{}: signature does not verify with the key of '{}' (a key certificate and a device certificate of two different YubiKeys, or an altered certificate)",
        escape(file),
        escape(signer)
    )]
    BadSignature { file: String, signer: String },
    /// The chain ends at an issuer that is none of Yubico's embedded attestation certificates.
    #[error(
        "{}: chains to no Yubico PIV attestation root: its issuer '{}' is a foreign or unknown root",
        escape(file),
        escape(issuer)
    )]
    UnknownRoot { file: String, issuer: String },
    /// The chain is longer than any Yubico issues.
    #[error("{}: the attestation chain is longer than {max} certificates", escape(file))]
    ChainTooLong { file: String, max: usize },
    /// A signature or key algorithm the check does not know.
    #[error("{}: unsupported {what} ({oid})", escape(file))]
    UnsupportedAlgorithm {
        file: String,
        what: &'static str,
        oid: String,
    },
    /// The attested key is not the key being registered.
    #[error(
        "{}: attests another key (material sha256:{attested}), not the key being registered (sha256:{expected})",
        escape(file),
        attested = attested.as_deref().unwrap_or("unknown"),
        expected = expected.as_deref().unwrap_or("unknown")
    )]
    AnotherKey {
        file: String,
        attested: Option<String>,
        expected: Option<String>,
    },
    /// An embedded Yubico certificate could not be read: the build is broken.
    #[error("the embedded Yubico certificate '{name}' cannot be read ({reason}): this build is damaged")]
    Embedded { name: &'static str, reason: String },
}

impl AttestationError {
    /// Which kind of failure this is: local input (the files given, or a damaged build).
    pub fn class(&self) -> ErrorClass {
        ErrorClass::LocalState
    }

    /// The remedy, when there is one beyond the message.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            AttestationError::Embedded { .. } => None,
            _ => Some(Hint::ExportAttestation),
        }
    }
}
