//! The metadata envelope: `{"signatures": [...], "signed": {...}}` as received.

use serde_json::Value;

use crate::canonical::to_canonical_bytes;
use crate::error::{Error, ErrorKind, MalformedProblem, Result};
use crate::limits::Limits;
use crate::streamed_envelope::{Document, read_document};

/// One entry of `signatures`. An empty or undecodable `sig` is kept and simply never
/// verifies (tuf-on-ci publishes `"sig": ""` placeholders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub keyid: String,
    pub sig: String,
    /// The Sigstore bundle of a keyless signature (tuf-on-ci writes it beside `sig`), kept
    /// as received and read only by [`crate::keyless::verify`].
    pub bundle: Option<Value>,
}

/// Metadata as received: the `signed` value untouched (unknown fields included), its
/// canonical bytes (what the signatures cover), and the signatures.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub signed: Value,
    pub signatures: Vec<Signature>,
    canonical: Vec<u8>,
}

impl Envelope {
    /// Parses metadata bytes. `role` names the metadata in errors.
    pub fn parse(role: &str, bytes: &[u8], limits: &Limits) -> Result<Self> {
        // Duplicate object keys are refused at any depth (see `strict_json`).
        let value: Value = crate::strict_json::from_slice(bytes).map_err(|e| json_error(role, &e))?;
        let Value::Object(mut top) = value else {
            return Err(Error::malformed(role, MalformedProblem::NotAnObject));
        };
        let signed = top
            .remove("signed")
            .ok_or_else(|| Error::malformed(role, MalformedProblem::NoSigned))?;
        if !signed.is_object() {
            return Err(Error::malformed(role, MalformedProblem::SignedNotAnObject));
        }
        let version = signed.get("version").and_then(Value::as_u64);
        let signatures = read_signatures(role, version, top.remove("signatures"), limits)?;
        let canonical = to_canonical_bytes(&signed)
            .map_err(|e| with_version(Error::malformed(role, MalformedProblem::Canonical(e)), version))?;
        Ok(Envelope {
            signed,
            signatures,
            canonical,
        })
    }

    /// [`Envelope::parse`] without a `Value` of `signed`, which costs about 13 times its
    /// text: the canonical bytes are written while `signed` is read, and `signed` is left
    /// as its outline, only `_type` (if a string) and `version` (if an unsigned integer),
    /// which is what [`Self::role_type`] and [`Self::version`] answer. The same documents
    /// are refused with the same errors. For verifying; the typed role is read from the
    /// same bytes by [`crate::Role::from_document`].
    pub fn parse_outline(role: &str, bytes: &[u8], limits: &Limits) -> Result<Self> {
        let document = read_document(bytes).map_err(|e| json_error(role, &e))?;
        let Document::Object { signed, signatures } = document else {
            return Err(Error::malformed(role, MalformedProblem::NotAnObject));
        };
        let signed = signed.ok_or_else(|| Error::malformed(role, MalformedProblem::NoSigned))?;
        if !signed.is_object {
            return Err(Error::malformed(role, MalformedProblem::SignedNotAnObject));
        }
        let signatures = read_signatures(role, signed.version, signatures, limits)?;
        let canonical = signed
            .canonical
            .map_err(|e| with_version(Error::malformed(role, MalformedProblem::Canonical(e)), signed.version))?;
        let mut outline = serde_json::Map::new();
        if let Some(role_type) = signed.role_type {
            outline.insert("_type".to_string(), Value::String(role_type));
        }
        if let Some(version) = signed.version {
            outline.insert("version".to_string(), Value::from(version));
        }
        Ok(Envelope {
            signed: Value::Object(outline),
            signatures,
            canonical,
        })
    }

    /// The bytes the signatures are computed over.
    pub fn signed_bytes(&self) -> &[u8] {
        &self.canonical
    }

    /// Frees the canonical bytes once the signatures have been checked over them (for a
    /// large role they are as large as its text). Nothing verifies against this envelope
    /// afterwards: every signature would fail.
    pub(crate) fn release_signed_bytes(&mut self) {
        self.canonical = Vec::new();
    }

    /// Takes the `signed` value out, leaving only its `_type` and `version` (what
    /// [`Self::role_type`] and [`Self::version`] answer, and errors name); the canonical
    /// bytes the signatures are checked over are kept.
    pub(crate) fn take_signed(&mut self) -> Value {
        let mut outline = serde_json::Map::new();
        for field in ["_type", "version"] {
            if let Some(value) = self.signed.get(field) {
                outline.insert(field.to_string(), value.clone());
            }
        }
        std::mem::replace(&mut self.signed, Value::Object(outline))
    }

    /// `signed._type`, if present.
    pub fn role_type(&self) -> Option<&str> {
        self.signed.get("_type").and_then(Value::as_str)
    }

    /// `signed.version`, if present.
    pub fn version(&self) -> Option<u64> {
        self.signed.get("version").and_then(Value::as_u64)
    }
}

/// The error for metadata that is not JSON (`NotJson`) or is refused as read (`RefusedJson`:
/// a repeated key, a value serde refuses).
fn json_error(role: &str, e: &serde_json::Error) -> Error {
    let reason = e.to_string();
    let problem = match e.classify() {
        serde_json::error::Category::Data => MalformedProblem::RefusedJson { reason },
        _ => MalformedProblem::NotJson { reason },
    };
    Error::malformed(role, problem)
}

fn with_version(e: Error, version: Option<u64>) -> Error {
    match version {
        Some(v) => e.with_version(v),
        None => e,
    }
}

/// Checks and reads the `signatures` member; errors carry the role's `version` if known.
fn read_signatures(
    role: &str,
    version: Option<u64>,
    signatures: Option<Value>,
    limits: &Limits,
) -> Result<Vec<Signature>> {
    let with_version = |e: Error| with_version(e, version);
    let Some(Value::Array(entries)) = signatures else {
        return Err(with_version(Error::malformed(role, MalformedProblem::NoSignatures)));
    };
    if entries.len() > limits.max_signatures {
        return Err(with_version(Error::malformed(
            role,
            MalformedProblem::TooManySignatures {
                count: entries.len(),
                limit: limits.max_signatures,
            },
        )));
    }
    let mut signatures: Vec<Signature> = Vec::with_capacity(entries.len());
    for entry in &entries {
        let keyid = entry.get("keyid").and_then(Value::as_str);
        let sig = entry.get("sig").and_then(Value::as_str);
        let (Some(keyid), Some(sig)) = (keyid, sig) else {
            return Err(with_version(Error::malformed(
                role,
                MalformedProblem::BadSignatureEntry,
            )));
        };
        // Spec 5.x / python-tuf: key IDs in `signatures` must be unique.
        if signatures.iter().any(|s| s.keyid == keyid) {
            return Err(with_version(Error::new(
                role,
                ErrorKind::DuplicateSignature {
                    keyid: keyid.to_string(),
                },
            )));
        }
        let bundle = entry.get("bundle").cloned();
        if let Some(b) = &bundle {
            // Bounded by its compact size: a hostile bundle must not make every later
            // step (base64, DER, hashing) work on megabytes.
            let size = serde_json::to_vec(b).map_or(usize::MAX, |v| v.len());
            if size as u64 > limits.max_bundle_size {
                return Err(with_version(Error::malformed(
                    role,
                    MalformedProblem::BundleTooLarge {
                        keyid: keyid.to_string(),
                        size: size as u64,
                        limit: limits.max_bundle_size,
                    },
                )));
            }
        }
        signatures.push(Signature {
            keyid: keyid.to_string(),
            sig: sig.to_string(),
            bundle,
        });
    }
    Ok(signatures)
}
