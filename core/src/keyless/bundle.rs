//! A Sigstore bundle (protobuf-specs `Bundle`, v0.1 to v0.3, proto3 JSON) as a keyless TUF
//! signature carries it: a message signature, a certificate, one transparency-log entry.

use serde_json::Value;

use super::{Refusal, Step, b64};
use crate::display::escape;

/// Which bundle version: the proof rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    V01,
    V02,
    V03,
}

/// What the verifier needs of a bundle, decoded.
#[derive(Debug, Clone)]
pub(super) struct Bundle {
    pub leaf_der: Vec<u8>,
    /// `messageSignature.messageDigest.digest` (SHA-256).
    pub digest: Vec<u8>,
    /// `messageSignature.signature`, DER ECDSA.
    pub signature: Vec<u8>,
    pub entry: Entry,
    /// `timestampVerificationData.rfc3161Timestamps[].signedTimestamp`, DER.
    pub timestamps: Vec<Vec<u8>>,
}

/// The bundle's transparency-log entry.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub log_index: u64,
    pub log_id: Vec<u8>,
    pub kind: String,
    pub kind_version: String,
    pub integrated_time: Option<u64>,
    pub promise: Option<Vec<u8>>,
    pub proof: Option<Proof>,
    /// `canonicalizedBody` as given (base64) and decoded.
    pub body_b64: String,
    pub body: Vec<u8>,
}

/// An inclusion proof with its checkpoint.
#[derive(Debug, Clone)]
pub(super) struct Proof {
    pub log_index: u64,
    pub root_hash: Vec<u8>,
    pub tree_size: u64,
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: Option<String>,
}

/// A bundle is one signature's worth: anything longer is not real.
const MAX_PROOF_HASHES: usize = 64;
/// As sigstore-python: more signed timestamps than this are refused.
const MAX_TIMESTAMPS: usize = 32;

fn refuse(detail: impl Into<String>) -> Refusal {
    Refusal::new(Step::Bundle, detail)
}

fn field<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, Refusal> {
    field(v, path)
        .and_then(Value::as_str)
        .ok_or_else(|| refuse(format!("{path} is missing or not a string")))
}

fn bytes(v: &Value, path: &str) -> Result<Vec<u8>, Refusal> {
    b64(Step::Bundle, path, string(v, path)?)
}

/// proto3 JSON writes 64-bit integers as strings; numbers are accepted too.
fn int(v: &Value, path: &str) -> Result<Option<u64>, Refusal> {
    match field(v, path) {
        None => Some(None),
        Some(Value::Number(n)) => n.as_u64().map(Some),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok().map(Some),
        Some(_) => None,
    }
    .ok_or_else(|| refuse(format!("{path} is not a non-negative integer")))
}

impl Bundle {
    /// Reads `raw` (the entry's `bundle`), whose signature must be the entry's `sig`
    /// (hex, as tuf-on-ci wrote before sigstore 3, or base64).
    pub fn parse(raw: &Value, sig: &str) -> Result<Self, Refusal> {
        let version = match string(raw, "mediaType")? {
            "application/vnd.dev.sigstore.bundle+json;version=0.1" => Version::V01,
            "application/vnd.dev.sigstore.bundle+json;version=0.2" => Version::V02,
            "application/vnd.dev.sigstore.bundle+json;version=0.3"
            | "application/vnd.dev.sigstore.bundle.v0.3+json" => Version::V03,
            other => return Err(refuse(format!("unknown media type {}", escape(other)))),
        };
        if raw.get("dsseEnvelope").is_some() {
            return Err(refuse("a DSSE bundle signs an envelope, not this metadata"));
        }
        let Some(message) = raw.get("messageSignature") else {
            return Err(refuse("no messageSignature"));
        };
        let material = raw
            .get("verificationMaterial")
            .ok_or_else(|| refuse("no verificationMaterial"))?;
        if material.get("publicKey").is_some() {
            return Err(refuse("not a keyless bundle: it names a public key, not a certificate"));
        }
        // Only the leaf is read: other certificates of a chain are never trusted.
        let leaf_der = match (material.get("certificate"), material.get("x509CertificateChain")) {
            (Some(_), None) => bytes(material, "certificate.rawBytes")?,
            (None, Some(chain)) => {
                let first = chain
                    .get("certificates")
                    .and_then(Value::as_array)
                    .and_then(|c| c.first())
                    .ok_or_else(|| refuse("x509CertificateChain.certificates is empty"))?;
                bytes(first, "rawBytes")?
            }
            _ => return Err(refuse("the verification material holds no certificate, or two")),
        };
        if string(message, "messageDigest.algorithm")? != "SHA2_256" {
            return Err(refuse("the message digest is not SHA2_256"));
        }
        let digest = bytes(message, "messageDigest.digest")?;
        let signature = bytes(message, "signature")?;
        let same = |decoded: Option<Vec<u8>>| decoded.as_deref() == Some(signature.as_slice());
        if !same(hex::decode(sig).ok()) && !same(crate::sigstore::keys::decode_b64(sig).ok()) {
            return Err(refuse("the entry's sig is not the bundle's signature"));
        }
        let entries = material
            .get("tlogEntries")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let [entry] = entries else {
            return Err(refuse(format!(
                "{} transparency-log entries; a signature has exactly one",
                entries.len()
            )));
        };
        let entry = Entry::parse(entry)?;
        match version {
            Version::V01 if entry.promise.is_none() => {
                return Err(refuse("a v0.1 bundle needs an inclusion promise"));
            }
            Version::V02 | Version::V03 if entry.proof.as_ref().is_none_or(|p| p.checkpoint.is_none()) => {
                return Err(refuse(
                    "a v0.2 or later bundle needs an inclusion proof with a checkpoint",
                ));
            }
            _ => {}
        }
        let stamps = field(material, "timestampVerificationData.rfc3161Timestamps")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        if stamps.len() > MAX_TIMESTAMPS {
            return Err(refuse(format!("more than {MAX_TIMESTAMPS} signed timestamps")));
        }
        let mut timestamps: Vec<Vec<u8>> = Vec::with_capacity(stamps.len());
        for stamp in stamps {
            let der = bytes(stamp, "signedTimestamp")?;
            if timestamps.contains(&der) {
                return Err(refuse("the same signed timestamp twice"));
            }
            timestamps.push(der);
        }
        Ok(Bundle {
            leaf_der,
            digest,
            signature,
            entry,
            timestamps,
        })
    }
}

impl Entry {
    fn parse(e: &Value) -> Result<Self, Refusal> {
        let body_b64 = string(e, "canonicalizedBody")?.to_string();
        let proof = match e.get("inclusionProof") {
            None => None,
            Some(p) => {
                let hashes = p.get("hashes").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
                if hashes.len() > MAX_PROOF_HASHES {
                    return Err(refuse("the inclusion proof has more hashes than any real tree needs"));
                }
                Some(Proof {
                    log_index: int(p, "logIndex")?.ok_or_else(|| refuse("inclusionProof.logIndex is missing"))?,
                    root_hash: bytes(p, "rootHash")?,
                    tree_size: int(p, "treeSize")?.ok_or_else(|| refuse("inclusionProof.treeSize is missing"))?,
                    hashes: hashes
                        .iter()
                        .map(|h| {
                            h.as_str()
                                .ok_or_else(|| refuse("an inclusion proof hash is not a string"))
                                .and_then(|s| b64(Step::Bundle, "inclusionProof.hashes", s))
                        })
                        .collect::<Result<_, _>>()?,
                    checkpoint: field(p, "checkpoint.envelope")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                })
            }
        };
        Ok(Entry {
            log_index: int(e, "logIndex")?.ok_or_else(|| refuse("logIndex is missing"))?,
            log_id: bytes(e, "logId.keyId")?,
            kind: string(e, "kindVersion.kind")?.to_string(),
            kind_version: string(e, "kindVersion.version")?.to_string(),
            integrated_time: int(e, "integratedTime")?,
            promise: match field(e, "inclusionPromise.signedEntryTimestamp") {
                None => None,
                Some(_) => Some(bytes(e, "inclusionPromise.signedEntryTimestamp")?),
            },
            proof,
            body: b64(Step::Bundle, "canonicalizedBody", &body_b64)?,
            body_b64,
        })
    }
}
