//! The chain from a key certificate to a trusted root: key certificate <- device (slot F9)
//! certificate <- [embedded intermediates] <- embedded root. Every link is a name match
//! and a signature check, and every certificate must be valid at the time given.

use chrono::{DateTime, Utc};

use super::anchors::Anchors;
use super::cert::Cert;
use super::signature::check_signed_by;
use crate::error::AttestationError;

/// The most certificates above the device certificate: Yubico's deepest hierarchy is three
/// (PIV Attestation B 1 <- Attestation Intermediate B 1 <- Attestation Root 1); a loop in a
/// hostile set of anchors ends here too.
const MAX_ABOVE_DEVICE: usize = 4;

/// Checks the whole chain; returns the common name (or name) of the root it ends at.
pub(crate) fn verify_chain(
    key: &Cert,
    device: &Cert,
    anchors: &Anchors,
    now: DateTime<Utc>,
) -> Result<String, AttestationError> {
    key.check_validity(now)?;
    device.check_validity(now)?;
    // The easiest mistake: the two files in each other's place.
    if !key.names_issuer(device) && device.names_issuer(key) {
        return Err(AttestationError::Swapped {
            key_file: key.file.clone(),
            device_file: device.file.clone(),
        });
    }
    link(key, device)?;
    let mut current = device;
    for _ in 0..MAX_ABOVE_DEVICE {
        // A root ends the chain; an embedded intermediate continues it.
        if let Some(root) = anchors.roots.iter().find(|r| current.names_issuer(r)) {
            link(current, root)?;
            root.check_validity(now)?;
            return Ok(root.subject_cn().unwrap_or_else(|| root.subject()));
        }
        let Some(next) = anchors.intermediates.iter().find(|i| current.names_issuer(i)) else {
            return Err(AttestationError::UnknownRoot {
                file: current.file.clone(),
                issuer: current.issuer(),
            });
        };
        link(current, next)?;
        next.check_validity(now)?;
        current = next;
    }
    Err(AttestationError::ChainTooLong {
        file: device.file.clone(),
        max: MAX_ABOVE_DEVICE + 2,
    })
}

/// `child` names `parent` as its issuer and carries its signature.
fn link(child: &Cert, parent: &Cert) -> Result<(), AttestationError> {
    if !child.names_issuer(parent) {
        return Err(AttestationError::IssuerMismatch {
            file: child.file.clone(),
            issuer: child.issuer(),
            signer: parent.subject(),
        });
    }
    check_signed_by(child, parent)
}
