//! The signing request: what a keyholder takes to a machine that has nothing else, and
//! the checks it must pass there before anything is signed.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use trustroot_core::metadata::Root;
use trustroot_core::{Envelope, Key, Limits};

use super::summary::{key_changes, key_label, shown_line};
use super::{MAX_REQUEST_FILE, Round, canonical};
use crate::attestation::Attestation;
use crate::error::{Error, FileProblem, RequestError, RequestProblem, Result, RoundError, Tamper, UnsafeText};
use crate::keys;
use crate::policy::check_evidence;
use crate::repo::Repo;
use crate::stage;
use trustroot_core::display::escape;

/// Who must sign: the keys of one role as some metadata lists them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// What lists these keys: `root v2`, `root v1 (the published root)`, ...
    pub of: String,
    pub threshold: u64,
    pub signers: Vec<RequestSigner>,
}

/// One key of a [`Requirement`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSigner {
    pub keyid: String,
    pub key: Key,
    /// The YubiKey attestation the coordinator's policy records for this key: a claim of
    /// the coordinator (the signing machine has no policy to check it against), shown in
    /// the summary. Absent when none is recorded, so requests without one keep their digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<Attestation>,
}

impl Requirement {
    pub(crate) fn new(of: String, keys: &BTreeMap<String, Key>, keyids: &[String], threshold: u64) -> Requirement {
        let mut signers: Vec<RequestSigner> = Vec::new();
        for id in keyids {
            if signers.iter().any(|s| &s.keyid == id) {
                continue;
            }
            if let Some(key) = keys.get(id) {
                signers.push(RequestSigner {
                    keyid: id.clone(),
                    key: key.clone(),
                    attestation: None,
                });
            }
        }
        Requirement { of, threshold, signers }
    }

    pub(super) fn key_map(&self) -> (BTreeMap<String, Key>, Vec<String>) {
        let keys = self.signers.iter().map(|s| (s.keyid.clone(), s.key.clone())).collect();
        let ids = self.signers.iter().map(|s| s.keyid.clone()).collect();
        (keys, ids)
    }
}

impl Round {
    /// The signing request for this round: the staged bytes, the published version each
    /// role follows (its file, signatures included), and every published root version, so
    /// a keyholder can check that baseline against a root they keep (`ceremony sign --root`).
    pub fn request(&self, repo: &Repo, now: DateTime<Utc>) -> Result<SigningRequest> {
        self.ensure_unpublished()?;
        let mut roles = Vec::new();
        for role in &self.roles {
            if role.changed_since_start() {
                return Err(Error::content(&role.staged_path, FileProblem::StagedChanged));
            }
            let mut request_role = RequestRole {
                role: role.meta.role.clone(),
                version: role.meta.version,
                expires: role.meta.expires.clone(),
                signed_sha256: role.digest.clone(),
                signed: b64(&role.bytes),
                previous: role.previous_bytes.as_deref().map(b64),
                requirements: with_attestations(repo, &role.requirements, now),
                summary: Vec::new(),
                findings: Vec::new(),
            };
            // The summary is a line per changed field: the whole value, once per role.
            request_role.summary = summary(&request_role, &role.signed.to_value(), role.previous.as_ref());
            roles.push(request_role);
        }
        // The payload rules and lints, run here on the staged bytes and the payload files
        // they list (a keyholder's machine has no payload files): the request digest covers
        // them, they are not regenerated on the signing machine.
        let staged: Vec<(&str, &crate::targets_role::Signed)> =
            self.roles.iter().map(|r| (r.meta.role.as_str(), &r.signed)).collect();
        let findings = crate::precheck::staged(repo, &staged, now);
        for role in &mut roles {
            role.findings = findings
                .iter()
                .filter(|f| f.role == role.role)
                .map(|f| escape(&f.to_string()).into_owned())
                .collect();
        }
        let (_, history) = crate::published::read_published(repo)?;
        if let Some(root) = self.role("root")
            && let Some(previous) = root.meta.previous_version
            && let Some(latest) = history.keys().next_back()
            && *latest != previous
        {
            return Err(RoundError::RootPublishedSince {
                round: self.id.clone(),
                staged: root.meta.version,
                previous,
                latest: *latest,
            }
            .into());
        }
        let mut request = SigningRequest {
            trustroot_signing_request: REQUEST_FORMAT,
            round: self.id.clone(),
            created: trustroot_core::time::format(&now),
            published_roots: history.values().map(|bytes| b64(bytes)).collect(),
            roles,
            request_sha256: String::new(),
        };
        request.request_sha256 = request.compute_digest()?;
        Ok(request)
    }
}

/// `requirements` with each signer's attestation as the policy records it (for a key the
/// policy names; the others have none). A record whose kept evidence does not verify at
/// `now` is left out: the keyholder is not shown a YubiKey nothing backs.
fn with_attestations(repo: &Repo, requirements: &[Requirement], now: DateTime<Utc>) -> Vec<Requirement> {
    let policy_keys = repo.keys().ok();
    let mut requirements = requirements.to_vec();
    for signer in requirements.iter_mut().flat_map(|r| r.signers.iter_mut()) {
        signer.attestation = policy_keys
            .as_ref()
            .and_then(|pk| pk.by_name.iter().find(|(_, k)| keys::same_key(k, &signer.key)))
            .and_then(|(name, key)| {
                let record = repo.policy.keys.get(name)?.attestation.clone()?;
                check_evidence(&repo.root, name, &record, key, now).ok()?;
                Some(record)
            })
            // Where the coordinator keeps the evidence means nothing on the signing machine.
            .map(|mut record| {
                record.key_cert = None;
                record.device_cert = None;
                record
            });
    }
    requirements
}

/// `requirements` without the attestations: what the metadata alone determines, compared
/// on the signing machine.
pub(crate) fn without_attestations(requirements: &[Requirement]) -> Vec<Requirement> {
    let mut requirements = requirements.to_vec();
    for signer in requirements.iter_mut().flat_map(|r| r.signers.iter_mut()) {
        signer.attestation = None;
    }
    requirements
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(what: &str, text: &str) -> Result<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| {
        RequestError::NotBase64 {
            what: what.to_string(),
            reason: e.to_string(),
        }
        .into()
    })
}

/// Parses canonical JSON, whose strings carry control characters (PEM newlines) raw.
/// Canonical JSON has no whitespace outside strings, so every control byte is inside one
/// and can be escaped before parsing.
fn parse_canonical(bytes: &[u8]) -> std::result::Result<Value, serde_json::Error> {
    let mut escaped = Vec::with_capacity(bytes.len() + 64);
    for &b in bytes {
        if b < 0x20 {
            escaped.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            escaped.push(b);
        }
    }
    serde_json::from_slice(&escaped)
}

/// The format of signing requests this version writes and reads. Format 1 carried the
/// previous versions without their signatures and no root history: it cannot be checked
/// against a keyholder's root, and is refused.
pub const REQUEST_FORMAT: u32 = 2;

/// A self-contained signing request: everything a keyholder needs on a machine that has
/// nothing else.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningRequest {
    pub trustroot_signing_request: u32,
    pub round: String,
    pub created: String,
    /// Every published root version, oldest first, as the published files (base64): the
    /// chain from whichever version a keyholder pins to the root the round follows.
    /// Claims of the coordinator until `ceremony sign --root` verifies them.
    pub published_roots: Vec<String>,
    pub roles: Vec<RequestRole>,
    /// sha256 of the canonical JSON of this request with this field empty: compare it
    /// with the coordinator's by another channel.
    pub request_sha256: String,
}

/// One role of a [`SigningRequest`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestRole {
    pub role: String,
    pub version: u64,
    pub expires: String,
    pub signed_sha256: String,
    /// The exact bytes to sign (canonical JSON of the staged `signed`), base64.
    pub signed: String,
    /// The published version it follows, as the published file (signatures included),
    /// base64. A claim of the coordinator until `ceremony sign --root` verifies it.
    pub previous: Option<String>,
    pub requirements: Vec<Requirement>,
    /// Human summary, regenerated and compared on the signing machine.
    pub summary: Vec<String>,
    /// What the payload rules and lints found in the staged bytes and the payloads they
    /// list, one finding a line, as the coordinator's machine ran them when it wrote the
    /// request (the signing machine has no payload files to run them on). Covered by
    /// `request_sha256`; absent when there is nothing to report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
}

/// A request is hostile input: no text in it may carry control characters (terminal
/// escapes could rewrite what the keyholder reads, the request digest included), a role
/// name must be a plain file name once encoded, and a key ID must be a sha256 in hex (it
/// becomes part of a signature file's name).
fn check_request_text(request: &SigningRequest) -> std::result::Result<(), UnsafeText> {
    let plain = |what: &'static str, text: &str| {
        if text.chars().any(char::is_control) {
            Err(UnsafeText::ControlCharacters { what })
        } else {
            Ok(())
        }
    };
    plain("round", &request.round)?;
    plain("created", &request.created)?;
    for role in &request.roles {
        plain("a role name", &role.role)?;
        if role.role.is_empty() || role.role == "." || role.role == ".." {
            return Err(UnsafeText::RoleNameNotAFile {
                role: role.role.clone(),
            });
        }
        plain("expires", &role.expires)?;
        for line in role.summary.iter().chain(&role.findings) {
            plain("the summary", line)?;
        }
        for requirement in &role.requirements {
            plain("a requirement", &requirement.of)?;
            for signer in &requirement.signers {
                let hex = signer.keyid.len() == 64
                    && signer
                        .keyid
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
                if !hex {
                    return Err(UnsafeText::KeyIdNotHex {
                        keyid: signer.keyid.clone(),
                    });
                }
                if let Some(attested) = &signer.attestation {
                    plain("an attestation", &attested.summary())?;
                    plain("an attestation", &attested.root)?;
                }
                for value in signer.key.unknown.values() {
                    if value.as_str().is_some_and(|t| t.chars().any(char::is_control)) {
                        return Err(UnsafeText::KeyFieldControl {
                            keyid: signer.keyid.clone(),
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

impl RequestRole {
    /// The published version this role follows, as the request carries it.
    pub fn previous_bytes(&self) -> Result<Option<Vec<u8>>> {
        self.previous.as_deref().map(|text| unb64(&self.role, text)).transpose()
    }
}

impl SigningRequest {
    /// The published root versions the request carries, oldest first.
    pub fn published_root_bytes(&self) -> Result<Vec<Vec<u8>>> {
        self.published_roots
            .iter()
            .map(|text| unb64("published root", text))
            .collect()
    }

    fn compute_digest(&self) -> Result<String> {
        let mut copy = self.clone();
        copy.request_sha256 = String::new();
        let value = serde_json::to_value(&copy).map_err(Error::encode("the signing request"))?;
        Ok(trustroot_core::hashes::sha256_hex(&canonical(
            "signing request",
            &value,
        )?))
    }

    /// Reads and checks a request file: every digest, the bytes' canonical form, the
    /// declared role, version and expiry, root's signers against root's own bytes, and
    /// the summary against one regenerated from the bytes. Any mismatch means the file
    /// was altered.
    pub fn load(path: &Path) -> Result<(SigningRequest, Vec<Vec<u8>>)> {
        let bytes = keys::read_limited(path, MAX_REQUEST_FILE)?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| not_request(path, &e))?;
        check_format(path, &value)?;
        let request: SigningRequest = serde_json::from_value(value).map_err(|e| not_request(path, &e))?;
        check_request_text(&request).map_err(|e| request_error(path, RequestProblem::UnsafeText(e)))?;
        if request.compute_digest()? != request.request_sha256 {
            return Err(tampered(path, Tamper::Digest));
        }
        let last_root = check_published_roots(path, &request)?;
        let mut all_bytes = Vec::new();
        for role in &request.roles {
            all_bytes.push(check_role(path, role, last_root.as_ref())?);
        }
        Ok((request, all_bytes))
    }
}

/// The request at `path` has `problem`.
fn request_error(path: &Path, problem: RequestProblem) -> Error {
    RequestError::File {
        path: path.to_path_buf(),
        problem,
    }
    .into()
}

/// A file that does not parse as a signing request.
fn not_request(path: &Path, e: &serde_json::Error) -> Error {
    request_error(path, RequestProblem::NotRequest { reason: e.to_string() })
}

/// A request whose contents contradict themselves: altered on the way, or damaged.
fn tampered(path: &Path, how: Tamper) -> Error {
    request_error(path, RequestProblem::Tampered(how))
}

/// Refuses a request in any format but [`REQUEST_FORMAT`], saying which side to upgrade.
fn check_format(path: &Path, value: &Value) -> Result<()> {
    match value.get("trustroot_signing_request").and_then(Value::as_u64) {
        Some(v) if v == u64::from(REQUEST_FORMAT) => Ok(()),
        Some(v) if v < u64::from(REQUEST_FORMAT) => Err(request_error(path, RequestProblem::OlderFormat { format: v })),
        Some(v) => Err(request_error(
            path,
            RequestProblem::NewerFormat {
                format: v,
                supported: REQUEST_FORMAT,
            },
        )),
        None => Err(request_error(path, RequestProblem::NoFormat)),
    }
}

/// The published root versions: consecutive, each a root; the last one's `signed` value.
/// Whether they verify is for `ceremony sign --root` (see `baseline`); here they must only
/// be coherent.
fn check_published_roots(path: &Path, request: &SigningRequest) -> Result<Option<Value>> {
    let mut last_root: Option<Value> = None;
    for (i, text) in request.published_roots.iter().enumerate() {
        let bytes = unb64("published root", text)?;
        let envelope = Envelope::parse("root", &bytes, &Limits::default()).map_err(|source| {
            tampered(
                path,
                Tamper::PublishedRoot {
                    index: i + 1,
                    source: Box::new(source),
                },
            )
        })?;
        let version = envelope.version();
        let previous_version = last_root
            .as_ref()
            .and_then(|r| r.get("version"))
            .and_then(Value::as_u64);
        if envelope.role_type() != Some("root")
            || version.is_none()
            || previous_version.is_some_and(|p| Some(p + 1) != version)
        {
            return Err(tampered(
                path,
                Tamper::PublishedRootOrder {
                    index: i + 1,
                    previous: previous_version.unwrap_or(0),
                },
            ));
        }
        last_root = Some(envelope.signed);
    }
    Ok(last_root)
}

/// Checks one role of a request against its own bytes; the bytes to sign.
fn check_role(path: &Path, role: &RequestRole, last_root: Option<&Value>) -> Result<Vec<u8>> {
    let name = &role.role;
    let (bytes, signed) = decode_signed(path, role)?;
    let previous = match &role.previous {
        Some(text) => {
            let prev = unb64(name, text)?;
            let envelope = Envelope::parse(name, &prev, &Limits::default()).map_err(|source| {
                tampered(
                    path,
                    Tamper::PreviousNotMetadata {
                        role: name.as_str().into(),
                        source: Box::new(source),
                    },
                )
            })?;
            Some(envelope.signed)
        }
        None => None,
    };
    if name == "root" {
        check_root_follows(path, role, previous.as_ref(), last_root)?;
    }
    let expected_type = if name == "root" { "root" } else { "targets" };
    if signed.get("_type").and_then(Value::as_str) != Some(expected_type)
        || signed.get("version").and_then(Value::as_u64) != Some(role.version)
        || signed.get("expires").and_then(Value::as_str) != Some(role.expires.as_str())
    {
        return Err(tampered(
            path,
            Tamper::Claims {
                role: name.as_str().into(),
            },
        ));
    }
    if name == "root" {
        check_root_signers(path, role, &signed, previous.as_ref())?;
    }
    if summary(role, &signed, previous.as_ref()) != role.summary {
        return Err(tampered(
            path,
            Tamper::Summary {
                role: name.as_str().into(),
            },
        ));
    }
    Ok(bytes)
}

/// The bytes to sign of one role, which must match their digest and be canonical JSON,
/// and the value they hold.
fn decode_signed(path: &Path, role: &RequestRole) -> Result<(Vec<u8>, Value)> {
    let name = &role.role;
    let bytes = unb64(name, &role.signed)?;
    if trustroot_core::hashes::sha256_hex(&bytes) != role.signed_sha256 {
        return Err(tampered(
            path,
            Tamper::SignedDigest {
                role: name.as_str().into(),
            },
        ));
    }
    let signed = parse_canonical(&bytes).map_err(|e| {
        tampered(
            path,
            Tamper::NotJson {
                role: name.as_str().into(),
                reason: e.to_string(),
            },
        )
    })?;
    if canonical(name, &signed)? != bytes {
        return Err(tampered(
            path,
            Tamper::NotCanonical {
                role: name.as_str().into(),
            },
        ));
    }
    Ok((bytes, signed))
}

/// A staged root follows the last published root the request carries, and only then.
fn check_root_follows(
    path: &Path,
    role: &RequestRole,
    previous: Option<&Value>,
    last_root: Option<&Value>,
) -> Result<()> {
    match (previous, last_root) {
        (Some(prev), Some(last)) if prev != last => Err(tampered(
            path,
            Tamper::PreviousNotLastRoot {
                previous: prev.get("version").and_then(Value::as_u64).unwrap_or(0),
                last: last.get("version").and_then(Value::as_u64).unwrap_or(0),
            },
        )),
        (Some(_), None) => Err(tampered(path, Tamper::PreviousWithoutRoots)),
        (None, Some(last)) => Err(tampered(
            path,
            Tamper::NewRootWithPublished {
                version: role.version,
                last: last.get("version").and_then(Value::as_u64).unwrap_or(0),
            },
        )),
        _ => Ok(()),
    }
}

/// The signers a request lists for root must be the root's own keys, new and published.
fn check_root_signers(path: &Path, role: &RequestRole, signed: &Value, previous: Option<&Value>) -> Result<()> {
    let root: Root = serde_json::from_value(signed.clone())
        .map_err(|e| tampered(path, Tamper::InvalidRoot { reason: e.to_string() }))?;
    let mut expected = Vec::new();
    if let Some(r) = root.roles.get("root") {
        expected.push(Requirement::new(
            format!("root v{}", role.version),
            &root.keys,
            &r.keyids,
            r.threshold,
        ));
    }
    if let Some(prev) = previous {
        let old: Root = serde_json::from_value(prev.clone())
            .map_err(|e| tampered(path, Tamper::InvalidPreviousRoot { reason: e.to_string() }))?;
        if let Some(r) = old.roles.get("root") {
            expected.push(Requirement::new(
                format!("root v{} (the published root)", old.common.version),
                &old.keys,
                &r.keyids,
                r.threshold,
            ));
        }
    }
    if expected != without_attestations(&role.requirements) {
        return Err(tampered(path, Tamper::RootSigners));
    }
    Ok(())
}

/// The human summary of one role of a request: version, digest, who must sign, and what
/// changes against the published version.
fn summary(role: &RequestRole, signed: &Value, previous: Option<&Value>) -> Vec<String> {
    let mut lines = vec![
        match previous.and_then(|p| p.get("version")).and_then(Value::as_u64) {
            Some(v) => format!(
                "{} v{} (replaces v{v}), expires {}",
                escape(&role.role),
                role.version,
                escape(&role.expires)
            ),
            None => format!(
                "{} v{} (new), expires {}",
                escape(&role.role),
                role.version,
                escape(&role.expires)
            ),
        },
        format!("sha256 of the bytes to sign: {}", escape(&role.signed_sha256)),
    ];
    for req in &role.requirements {
        let names: Vec<String> = req.signers.iter().map(|s| key_label(&s.key, &s.keyid)).collect();
        lines.push(format!(
            "needs {} of {} signer(s) of {}: {}",
            req.threshold,
            req.signers.len(),
            escape(&req.of),
            names.join(", ")
        ));
        for signer in &req.signers {
            if let Some(attested) = &signer.attestation {
                lines.push(format!(
                    "  {}: YubiKey {} (as the coordinator's policy records it)",
                    key_label(&signer.key, &signer.keyid),
                    escape(&attested.summary())
                ));
            }
        }
    }
    if role.role == "root" || role.role == "targets" || previous.is_some() {
        lines.extend(key_changes(&role.role, previous, signed));
    }
    let changes = stage::diff(previous, signed);
    lines.push(format!(
        "changes against {}:",
        if previous.is_some() {
            "the published version"
        } else {
            "nothing (new role)"
        }
    ));
    lines.extend(changes.into_iter().map(|l| format!("  {}", shown_line(&l))));
    lines
}
