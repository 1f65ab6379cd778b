//! Detached signatures: one key's signature over one staged role, made from a checked
//! signing request and collected into the round only when it verifies.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use trustroot_core::Key;

use super::{MAX_SIGNATURE_FILE, Round, RoundRole, SigningRequest, signature_file_name};
use crate::error::{Error, Result};
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
        let sig: DetachedSignature = serde_json::from_slice(bytes)
            .map_err(|e| Error::file(what, format!("not a trustroot signature file: {e}")))?;
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        if sig.trustroot_signature != 1 {
            return Err(Error::file(what, "unsupported signature file format"));
        }
        if !hex64(&sig.keyid) || !hex64(&sig.signed_sha256) {
            return Err(Error::file(
                what,
                "keyid and signed_sha256 must be 64 lowercase hex digits",
            ));
        }
        if sig.sig.is_empty() || sig.sig.len() > 2048 || hex::decode(&sig.sig).is_err() {
            return Err(Error::file(what, "sig must be a non-empty hex signature"));
        }
        Ok(sig)
    }

    /// Why this signature does not count for `round`, or the role it signs.
    pub fn check<'r>(&self, round: &'r Round) -> std::result::Result<&'r RoundRole, String> {
        if self.round != round.id {
            return Err(format!("it is for round '{}', not round '{}'", self.round, round.id));
        }
        let role = round
            .role(&self.role)
            .ok_or_else(|| format!("role '{}' is not staged in round '{}'", self.role, round.id))?;
        if self.version != role.meta.version {
            return Err(format!(
                "it signs {} v{}, but v{} is staged",
                self.role, self.version, role.meta.version
            ));
        }
        if self.signed_sha256 != role.digest {
            return Err(format!(
                "it was made over different bytes (sha256 {}) than the staged {} v{} (sha256 {})",
                keys::short_id(&self.signed_sha256),
                self.role,
                self.version,
                keys::short_id(&role.digest)
            ));
        }
        let key = role
            .requirements
            .iter()
            .flat_map(|r| r.signers.iter())
            .find(|s| s.keyid == self.keyid)
            .ok_or_else(|| format!("key {} is not a signer of {}", keys::short_id(&self.keyid), self.role))?;
        let public = key
            .key
            .public_key()
            .map_err(|e| format!("key {} cannot verify: {e}", keys::short_id(&self.keyid)))?;
        let sig = hex::decode(&self.sig).map_err(|_| "sig is not hex".to_string())?;
        if !public.verify(&role.bytes, &sig) {
            return Err(format!(
                "the signature by key {} does not verify over the staged {} v{}",
                keys::short_id(&self.keyid),
                self.role,
                self.version
            ));
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
                return Err(Error::refused(format!(
                    "the signature just made with {} over {} does not verify; nothing was written",
                    signer.describe(),
                    role.role
                )));
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
        return Err(Error::refused(format!(
            "the key {} ({}) is not a signer of any role in this request",
            signer.describe(),
            keys::short_id(&public.computed_key_id())
        )));
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
pub fn add_signature(repo: &Repo, round: &Round, source: &Path, bytes: &[u8], now: DateTime<Utc>) -> Result<Added> {
    if bytes.len() as u64 > MAX_SIGNATURE_FILE {
        return Err(Error::file(source, "too large to be a signature file"));
    }
    let sig = DetachedSignature::parse(source, bytes)?;
    let role = sig
        .check(round)
        .map_err(|reason| Error::file(source, format!("refused: {reason}; nothing was changed")))?;
    if role.changed_since_start() {
        return Err(Error::file(
            &role.staged_path,
            "was changed after the round started; its signatures cannot be collected",
        ));
    }
    let path = round.dir.join("signatures").join(sig.file_name());
    if path.exists() {
        return Ok(Added::AlreadySigned(path));
    }
    let mut text = serde_json::to_vec_pretty(&sig).map_err(|e| Error::refused(e.to_string()))?;
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
