//! Detached signatures: one key's signature over one staged role, made from a checked
//! signing request and collected into the round only when it verifies.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use trustroot_core::Key;

use super::{MAX_SIGNATURE_FILE, Round, RoundRole, SigningRequest, signature_file_name};
use trustroot_core::RoleName;

use crate::error::{Error, FileProblem, IoOp, Result, SignatureError, SignatureProblem};
use crate::keys::{self, Signer};
use crate::repo::Repo;

/// A detached signature file: one key's signature over one staged role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetachedSignature {
    pub trustroot_signature: u32,
    pub round: String,
    pub role: String,
    pub version: u64,
    pub signed_sha256: String,
    pub keyid: String,
    pub sig: String,
}

impl DetachedSignature {
    /// The file name it is stored under.
    pub fn file_name(&self) -> String {
        signature_file_name(&self.role, &self.keyid)
    }

    /// Parses a signature file strictly.
    pub fn parse(what: &Path, bytes: &[u8]) -> Result<DetachedSignature> {
        let unusable = |problem| -> Error {
            SignatureError::File {
                path: what.to_path_buf(),
                problem,
            }
            .into()
        };
        let sig: DetachedSignature = serde_json::from_slice(bytes)
            .map_err(|e| unusable(SignatureProblem::NotSignatureFile { reason: e.to_string() }))?;
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        if sig.trustroot_signature != 1 {
            return Err(unusable(SignatureProblem::UnsupportedFormat));
        }
        if !hex64(&sig.keyid) || !hex64(&sig.signed_sha256) {
            return Err(unusable(SignatureProblem::BadHexIds));
        }
        if sig.sig.is_empty() || sig.sig.len() > 2048 || hex::decode(&sig.sig).is_err() {
            return Err(unusable(SignatureProblem::EmptySig));
        }
        Ok(sig)
    }

    /// Why this signature does not count for `round`, or the role it signs.
    pub fn check<'r>(&self, round: &'r Round) -> std::result::Result<&'r RoundRole, SignatureProblem> {
        let role_name = || RoleName::from(self.role.as_str());
        if self.round != round.id {
            return Err(SignatureProblem::OtherRound {
                found: self.round.clone(),
                round: round.id.clone(),
            });
        }
        let role = round.role(&self.role).ok_or_else(|| SignatureProblem::NotStaged {
            role: role_name(),
            round: round.id.clone(),
        })?;
        if self.version != role.meta.version {
            return Err(SignatureProblem::OtherVersion {
                role: role_name(),
                version: self.version,
                staged: role.meta.version,
            });
        }
        if self.signed_sha256 != role.digest {
            return Err(SignatureProblem::OtherBytes {
                found: keys::short_id(&self.signed_sha256).to_string(),
                role: role_name(),
                version: self.version,
                staged: keys::short_id(&role.digest).to_string(),
            });
        }
        let key = role
            .requirements
            .iter()
            .flat_map(|r| r.signers.iter())
            .find(|s| s.keyid == self.keyid)
            .ok_or_else(|| SignatureProblem::NotSigner {
                keyid: keys::short_id(&self.keyid).to_string(),
                role: role_name(),
            })?;
        let public = key.key.public_key().map_err(|reason| SignatureProblem::KeyUnusable {
            keyid: keys::short_id(&self.keyid).to_string(),
            reason,
        })?;
        let sig = hex::decode(&self.sig).map_err(|_| SignatureProblem::NotHex)?;
        if !public.verify(&role.bytes, &sig) {
            return Err(SignatureProblem::DoesNotVerify {
                keyid: keys::short_id(&self.keyid).to_string(),
                role: role_name(),
                version: self.version,
            });
        }
        Ok(role)
    }
}

/// Signs every role of a checked request that `signer` is a signer of; each signature is
/// verified right after it is made. One signature per key ID listing the key.
pub fn sign_request(
    request: &SigningRequest,
    role_bytes: &[Vec<u8>],
    signer: &dyn Signer,
) -> Result<Vec<DetachedSignature>> {
    let public = signer.public_key();
    let mut out = Vec::new();
    for (role, bytes) in request.roles.iter().zip(role_bytes) {
        let mut keyids: Vec<(&String, &Key)> = Vec::new();
        for s in role.requirements.iter().flat_map(|r| r.signers.iter()) {
            if keys::same_key(&s.key, &public) && !keyids.iter().any(|(id, _)| *id == &s.keyid) {
                keyids.push((&s.keyid, &s.key));
            }
        }
        for (keyid, key) in keyids {
            let sig = signer.sign(bytes)?;
            let verifies = key.public_key().map(|k| k.verify(bytes, &sig)).unwrap_or(false);
            if !verifies {
                return Err(SignatureError::MadeDoesNotVerify {
                    signer: signer.describe(),
                    role: role.role.as_str().into(),
                }
                .into());
            }
            out.push(DetachedSignature {
                trustroot_signature: 1,
                round: request.round.clone(),
                role: role.role.clone(),
                version: role.version,
                signed_sha256: role.signed_sha256.clone(),
                keyid: keyid.clone(),
                sig: hex::encode(sig),
            });
        }
    }
    if out.is_empty() {
        return Err(SignatureError::NotASigner {
            signer: signer.describe(),
            fingerprint: public.fingerprint().unwrap_or_else(|| "unknown".to_string()),
        }
        .into());
    }
    Ok(out)
}

/// What [`add_signature`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Stored under this path.
    Stored(PathBuf),
    /// This key already signed this role; the key counts once and nothing changed.
    AlreadySigned(PathBuf),
}

/// Checks a detached signature against the round and stores it. Nothing is written when
/// it does not verify.
/// Reads a signature file a keyholder handed back, at most [`MAX_SIGNATURE_FILE`]. A
/// signing request given by mistake (it is larger) is named as one.
pub fn read_signature_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, IoOp::Read, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_SIGNATURE_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, IoOp::Read, e))?;
    // A request names its format first; a look at its start is enough to say what it is.
    let start = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let problem = if start.contains("\"trustroot_signing_request\"") {
        SignatureProblem::SigningRequest
    } else if bytes.len() as u64 > MAX_SIGNATURE_FILE {
        SignatureProblem::TooLarge
    } else {
        return Ok(bytes);
    };
    Err(SignatureError::File {
        path: path.to_path_buf(),
        problem,
    }
    .into())
}

pub fn add_signature(repo: &Repo, round: &Round, source: &Path, bytes: &[u8], now: DateTime<Utc>) -> Result<Added> {
    // A published round is closed: a late signature changes nothing that was published.
    round.ensure_unpublished()?;
    if bytes.len() as u64 > MAX_SIGNATURE_FILE {
        return Err(SignatureError::File {
            path: source.to_path_buf(),
            problem: SignatureProblem::TooLarge,
        }
        .into());
    }
    let sig = DetachedSignature::parse(source, bytes)?;
    let role = sig.check(round).map_err(|problem| SignatureError::Refused {
        path: source.to_path_buf(),
        problem,
    })?;
    if role.changed_since_start() {
        return Err(Error::content(
            &role.staged_path,
            FileProblem::StagedChangedUncollectable,
        ));
    }
    let path = round.dir.join("signatures").join(sig.file_name());
    if path.exists() {
        return Ok(Added::AlreadySigned(path));
    }
    let mut text = serde_json::to_vec_pretty(&sig).map_err(Error::encode("the signature"))?;
    text.push(b'\n');
    repo.write(&path, &text)?;
    round.log(
        repo,
        now,
        "add-signature",
        json!({
            "role": sig.role,
            "version": sig.version,
            "signed_sha256": sig.signed_sha256,
            "keyid": sig.keyid,
            "file": sig.file_name(),
            "from": source.file_name().and_then(|n| n.to_str()).unwrap_or(""),
        }),
    )?;
    Ok(Added::Stored(path))
}
