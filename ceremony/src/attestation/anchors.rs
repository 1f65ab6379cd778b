//! Yubico's PIV attestation certificates, embedded (see `roots/README.md`): the roots a
//! chain must end at, and the intermediates of the 5.7.4+ hierarchy that sit between a
//! device certificate and "Yubico Attestation Root 1". They are data compiled in, never
//! fetched: an attestation is checked the same way on an air-gapped machine.

use sha2::{Digest as _, Sha256};

use super::cert::Cert;
use crate::error::AttestationError;

/// One embedded certificate: a name for messages, its PEM, the sha256 of its DER.
pub(crate) struct Embedded {
    pub name: &'static str,
    pub pem: &'static [u8],
    pub sha256: &'static str,
}

impl Embedded {
    /// Parses the certificate and refuses it unless its DER has the recorded sha256.
    pub(crate) fn load(&self) -> Result<Cert, AttestationError> {
        let damaged = |reason: String| AttestationError::Embedded {
            name: self.name,
            reason,
        };
        let cert =
            Cert::from_pem(&format!("embedded '{}'", self.name), self.pem).map_err(|e| damaged(e.to_string()))?;
        let sha256 = hex::encode(Sha256::digest(&cert.der));
        if sha256 != self.sha256 {
            return Err(damaged(format!(
                "its sha256 is {sha256}, not the recorded {}",
                self.sha256
            )));
        }
        Ok(cert)
    }
}

/// The roots: a chain is trusted when it ends at one of these.
pub(crate) const ROOTS: &[Embedded] = &[
    Embedded {
        name: "Yubico PIV Root CA Serial 263751",
        pem: include_bytes!("roots/yubico-piv-root-ca-serial-263751.pem"),
        sha256: "63ece914e54dd87915f34033c85af4c0696ba1512f8add66ced738331207b546",
    },
    Embedded {
        name: "Yubico U2F Root CA Serial 457200631",
        pem: include_bytes!("roots/yubico-u2f-root-ca-serial-457200631.pem"),
        sha256: "0fa1386f80eb8713263ae5c1d84deb455bdf08aea50ab05503cefee82b092d42",
    },
    Embedded {
        name: "Yubico Attestation Root 1",
        pem: include_bytes!("roots/yubico-attestation-root-1.pem"),
        sha256: "62760c6a6ef91679f454c8902b80fd009825b3f25da90f1fbace2ec6586cd5a8",
    },
];

/// The intermediates of the 5.7.4+ hierarchy (PIV branch only): a YubiKey hands out its
/// device certificate, not these, so the check supplies them.
pub(crate) const INTERMEDIATES: &[Embedded] = &[
    Embedded {
        name: "Yubico Attestation Intermediate A 1",
        pem: include_bytes!("roots/yubico-attestation-intermediate-a-1.pem"),
        sha256: "4698a1d3389c3ec60016c216250f1d0439922832d65142327436376dc2942b55",
    },
    Embedded {
        name: "Yubico Attestation Intermediate B 1",
        pem: include_bytes!("roots/yubico-attestation-intermediate-b-1.pem"),
        sha256: "d4cc3f456fdaf4e7812a21aab1dfe9d8e27d24e2fd2d6f21c9940109f0daa754",
    },
    Embedded {
        name: "Yubico PIV Attestation A 1",
        pem: include_bytes!("roots/yubico-piv-attestation-a-1.pem"),
        sha256: "6de693f05376f5d8ca29069261e1c8626c75d503bd2edbfd75354cad1f722870",
    },
    Embedded {
        name: "Yubico PIV Attestation B 1",
        pem: include_bytes!("roots/yubico-piv-attestation-b-1.pem"),
        sha256: "2d55b7998f4e42569d6d8fa382b6dc77d1dacf07358b19701163892922b17052",
    },
    Embedded {
        name: "Yubico PIV Attestation B2 1",
        pem: include_bytes!("roots/yubico-piv-attestation-b2-1.pem"),
        sha256: "0c90b7d184a36edf50a35f9be935f0c5689bfdcfe5bdd073366cafb49061a440",
    },
];

/// The certificates a chain may use beyond the two given: roots end it, intermediates
/// continue it. A parameter of the check, so tests can stand up a hierarchy of their own
/// (Yubico's keys sign nothing for a test).
pub(crate) struct Anchors {
    pub roots: Vec<Cert>,
    pub intermediates: Vec<Cert>,
}

impl Anchors {
    /// Yubico's embedded certificates, parsed, each checked against its recorded sha256.
    pub(crate) fn yubico() -> Result<Anchors, AttestationError> {
        let parse = |list: &[Embedded]| list.iter().map(Embedded::load).collect::<Result<Vec<Cert>, _>>();
        Ok(Anchors {
            roots: parse(ROOTS)?,
            intermediates: parse(INTERMEDIATES)?,
        })
    }
}
