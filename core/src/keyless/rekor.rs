//! The transparency-log entry of a bundle: that it records this signature, the log's
//! signed promise (the signing time), and the inclusion proof against a signed checkpoint.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::bundle::{Bundle, Entry, Proof};
use super::trust::{Log, SigstoreTrust};
use super::{Refusal, Step, b64};
use crate::display::escape;
use crate::sigstore::certs::{OID_ECDSA_SHA256, verify_signature};
use crate::sigstore::keys::{OID_ED25519, encode_b64};

/// Finds the entry's log in the trust material and checks that the entry's body records
/// this digest, signature and certificate (so that no entry for another artifact or
/// another certificate can stand in, as in CVE-2022-36056).
pub(super) fn check_entry<'t>(
    trust: &'t SigstoreTrust,
    bundle: &Bundle,
    digest: &[u8; 32],
) -> Result<&'t Log, Refusal> {
    let entry = &bundle.entry;
    let refuse = |detail: String| Refusal::new(Step::LogEntry, detail);
    let log = trust.tlogs.iter().find(|l| l.log_id == entry.log_id).ok_or_else(|| {
        refuse(format!(
            "no transparency log of the trusted root has the entry's log ID {}",
            encode_b64(&entry.log_id)
        ))
    })?;
    let v2 = match (entry.kind.as_str(), entry.kind_version.as_str()) {
        ("hashedrekord", "0.0.1") => false,
        ("hashedrekord", "0.0.2") => true,
        _ => {
            return Err(refuse(format!(
                "a {} {} entry; trustroot reads hashedrekord 0.0.1 and 0.0.2 entries",
                escape(&entry.kind),
                escape(&entry.kind_version)
            )));
        }
    };
    let body: Value = serde_json::from_slice(&entry.body)
        .map_err(|e| refuse(format!("the entry's body is not JSON: {}", escape(&e.to_string()))))?;
    let text = |path: &str| {
        path.split('.')
            .try_fold(&body, |v, k| v.get(k))
            .and_then(Value::as_str)
            .ok_or_else(|| refuse(format!("the entry's body has no string {path}")))
    };
    if text("kind")? != "hashedrekord" || text("apiVersion")? != entry.kind_version {
        return Err(refuse("the entry's body is not the kind its bundle says".to_string()));
    }
    // What the entry records: whether it is for this digest, the signature, the certificate.
    let (for_digest, sig, cert) = if v2 {
        // Rekor v2 (hashedrekord 0.0.2): the same three facts, as protobuf JSON.
        let bytes = |path: &str, what: &str| b64(Step::LogEntry, what, text(&format!("spec.hashedRekordV002.{path}"))?);
        (
            text("spec.hashedRekordV002.data.algorithm")? == "SHA2_256"
                && bytes("data.digest", "the entry's digest")? == digest,
            bytes("signature.content", "the entry's signature")?,
            bytes("signature.verifier.x509Certificate.rawBytes", "the entry's certificate")?,
        )
    } else {
        let pem = b64(
            Step::LogEntry,
            "the entry's public key",
            text("spec.signature.publicKey.content")?,
        )?;
        let (label, der) = x509_cert::der::pem::decode_vec(&pem)
            .map_err(|e| refuse(format!("the entry's public key is not PEM: {e}")))?;
        if label != "CERTIFICATE" {
            return Err(refuse(
                "the log entry records a public key, not a certificate".to_string(),
            ));
        }
        (
            text("spec.data.hash.algorithm")? == "sha256" && text("spec.data.hash.value")? == hex::encode(digest),
            b64(Step::LogEntry, "the entry's signature", text("spec.signature.content")?)?,
            der,
        )
    };
    if !for_digest {
        return Err(refuse("the log entry is for another artifact".to_string()));
    }
    if sig != bundle.signature {
        return Err(refuse("the log entry records another signature".to_string()));
    }
    if cert != bundle.leaf_der {
        return Err(refuse("the log entry records another certificate".to_string()));
    }
    Ok(log)
}

/// Checks the inclusion promise (the signed entry timestamp), if any: the log signed the
/// entry's body, time, log ID and index. Returns the integrated time it vouches for.
pub(super) fn check_promise(log: &Log, entry: &Entry) -> Result<Option<DateTime<Utc>>, Refusal> {
    // Rekor v2 makes no promise and records no time: the time comes from a TSA.
    let Some(promise) = entry.promise.as_ref().filter(|_| entry.kind_version == "0.0.1") else {
        return Ok(None);
    };
    let refuse = |detail: String| Refusal::new(Step::InclusionPromise, detail);
    let time = entry
        .integrated_time
        .ok_or_else(|| refuse("the entry has an inclusion promise but no integratedTime".to_string()))?;
    // What Rekor signs: the canonical JSON (sorted keys, no spaces) of these four fields;
    // logIndex is the entry's global index, not the inclusion proof's.
    let payload = serde_json::json!({
        "body": entry.body_b64,
        "integratedTime": time,
        "logID": hex::encode(&entry.log_id),
        "logIndex": entry.log_index,
    });
    let bytes = crate::canonical::to_canonical_bytes(&payload)
        .map_err(|e| refuse(format!("the promised fields have no canonical form: {e}")))?;
    verify_signature(&log.spki_der, OID_ECDSA_SHA256, &bytes, promise)
        .map_err(|e| refuse(format!("the promise is not signed by {}: {e}", escape(&log.name))))?;
    let seconds = i64::try_from(time).map_err(|_| refuse("integratedTime is out of range".to_string()))?;
    DateTime::from_timestamp(seconds, 0)
        .map(Some)
        .ok_or_else(|| refuse("integratedTime is out of range".to_string()))
}

/// Checks the inclusion proof against its checkpoint, and the checkpoint's signature by
/// the log.
pub(super) fn check_proof(log: &Log, entry: &Entry, proof: &Proof) -> Result<(), Refusal> {
    let refuse = |detail: &str| Refusal::new(Step::InclusionProof, detail);
    let leaf: [u8; 32] = Sha256::new()
        .chain_update([0u8])
        .chain_update(&entry.body)
        .finalize()
        .into();
    let root = root_from_proof(proof.log_index, proof.tree_size, leaf, &proof.hashes)
        .ok_or_else(|| refuse("the proof's index, tree size and hashes do not fit together"))?;
    if root.as_slice() != proof.root_hash {
        return Err(refuse(
            "the entry is not in the tree the proof names (root hash differs)",
        ));
    }
    let Some(note) = &proof.checkpoint else {
        return Ok(());
    };
    check_checkpoint(log, note, proof)
}

/// An interior node of an RFC 9162 Merkle tree: SHA-256(0x01 || left || right).
fn node_hash(l: &[u8], r: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update([1u8])
        .chain_update(l)
        .chain_update(r)
        .finalize()
        .into()
}

/// RFC 9162 section 2.1.3.2: the root a leaf at `index` in a tree of `size` leaves
/// yields with the audit path `hashes`, or `None` when they do not fit.
fn root_from_proof(index: u64, size: u64, leaf: [u8; 32], hashes: &[Vec<u8>]) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = leaf;
    for p in hashes {
        if s == 0 || p.len() != 32 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

/// A C2SP signed note: `origin\nsize\nroot\n[extra lines]\n\n— name base64(hint||sig)\n...`.
/// The note must be for the proof's tree, and one signature line, whose key hint is the
/// first 4 bytes of the log's ID, must verify over the body (final newline included).
fn check_checkpoint(log: &Log, note: &str, proof: &Proof) -> Result<(), Refusal> {
    let refuse = |detail: String| Refusal::new(Step::Checkpoint, detail);
    let (body, signatures) = note
        .split_once("\n\n")
        .ok_or_else(|| refuse("the checkpoint has no signature lines".to_string()))?;
    let body = format!("{body}\n");
    let mut lines = body.lines();
    let (_origin, size, root) = match (lines.next(), lines.next(), lines.next()) {
        (Some(o), Some(s), Some(r)) if !o.is_empty() => (o, s, r),
        _ => return Err(refuse("the checkpoint lacks its origin, size or root hash".to_string())),
    };
    if size.parse::<u64>().ok() != Some(proof.tree_size) {
        return Err(refuse(
            "the checkpoint is for another tree size than the proof".to_string(),
        ));
    }
    if crate::sigstore::keys::decode_b64(root).ok().as_deref() != Some(proof.root_hash.as_slice()) {
        return Err(refuse(
            "the checkpoint is for another root hash than the proof".to_string(),
        ));
    }
    let hint = log.log_id.get(..4).unwrap_or_default();
    let alg = if log.ed25519 { OID_ED25519 } else { OID_ECDSA_SHA256 };
    let mut matching = 0;
    for line in signatures.lines().filter(|l| !l.is_empty()) {
        let Some((_name, sig)) = line.strip_prefix("\u{2014} ").and_then(|l| l.rsplit_once(' ')) else {
            return Err(refuse(
                "a checkpoint signature line is not `— name signature`".to_string(),
            ));
        };
        let Ok(sig) = crate::sigstore::keys::decode_b64(sig) else {
            return Err(refuse("a checkpoint signature is not base64".to_string()));
        };
        if sig.len() < 4 || sig[..4] != *hint {
            continue; // a cosigner's line: not this log's.
        }
        matching += 1;
        if verify_signature(&log.spki_der, alg, body.as_bytes(), &sig[4..]).is_ok() {
            return Ok(());
        }
    }
    Err(refuse(if matching == 0 {
        format!("no signature of {} on the checkpoint", escape(&log.name))
    } else {
        format!(
            "the checkpoint's signature does not verify with the key of {}",
            escape(&log.name)
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(n: u8) -> [u8; 32] {
        Sha256::new().chain_update([0u8, n]).finalize().into()
    }

    fn node(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
        node_hash(l, r)
    }

    #[test]
    fn an_inclusion_proof_in_a_tree_of_three_leaves_gives_its_root_and_no_other_index_does() {
        let (a, b, c) = (leaf(0), leaf(1), leaf(2));
        let root = node(&node(&a, &b), &c);
        assert_eq!(root_from_proof(2, 3, c, &[node(&a, &b).to_vec()]), Some(root));
        assert_eq!(root_from_proof(0, 3, a, &[b.to_vec(), c.to_vec()]), Some(root));
        assert_eq!(root_from_proof(1, 3, b, &[a.to_vec(), c.to_vec()]), Some(root));
        assert_ne!(root_from_proof(0, 3, b, &[a.to_vec(), c.to_vec()]), Some(root));
        assert_eq!(root_from_proof(3, 3, c, &[]), None);
        assert_eq!(root_from_proof(0, 3, a, &[b.to_vec()]), None);
    }
}
