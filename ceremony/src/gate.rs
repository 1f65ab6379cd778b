//! The verify-before-publish gate. A round is published only when:
//!
//! 1. **our core**, as a client that holds the published repository (its root, timestamp
//!    and snapshot), updates to the candidate: the root chain, timestamp, snapshot, targets
//!    and every delegated role, at `now`; and so does a client that starts from root v1;
//!    every target is found through the delegations and matches its file;
//! 2. **tough** (0.24, the Rust client of sigstore-rs and Bottlerocket), in-process, loads the
//!    candidate tree from the published root and from root v1 and reads every target;
//! 3. every Sigstore payload (`trusted_root*.json`, `signing_config*.json`) passes the
//!    payload validation of `trustroot sigstore validate`;
//! 4. the lints pass: key IDs are the sha256 of their keys, `spec_version` is 1.x or 1.x.y, and each
//!    role stays valid for at least the policy's `gate.min_valid_days`.
//!
//! Each finding names the check, the role and the file.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use trustroot_core::metadata::{Root, Targets};
use trustroot_core::{ClientWalk, Goal, Limits, Need, Source, Step, TrustedSet};

use crate::candidate::Candidate;
pub use crate::finding::{Check, Finding, Severity, has_errors};
use crate::policy::Policy;

fn meta_file(role: &str, version: Option<u64>) -> String {
    trustroot_core::role_name::metadata_file_name(role, version)
}

/// The checks that need no files: lints, payloads, and our core as a client.
pub fn check_in_memory(candidate: &Candidate, policy: &Policy, now: DateTime<Utc>) -> Vec<Finding> {
    let mut findings = lint(candidate, policy, now);
    findings.extend(payloads_at(candidate, Some((policy, now))));
    findings.extend(core_client(candidate, now));
    findings
}

/// Lints: key IDs, spec_version, expiry horizons.
pub fn lint(candidate: &Candidate, policy: &Policy, now: DateTime<Utc>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (role, version) in &candidate.versions {
        let Some(bytes) = candidate.metadata.get(role) else {
            continue;
        };
        let Some(signed) = lint_view(role, bytes) else {
            continue;
        };
        let file = meta_file(role, if role == "timestamp" { None } else { Some(*version) });
        let signed = &signed;
        // spec_version: 1.y or 1.y.z (what python-tuf and tuf-js accept).
        let spec = signed.get("spec_version").and_then(|v| v.as_str()).unwrap_or("");
        if !trustroot_core::metadata::supported_spec_version(spec) {
            findings.push(Finding::error(
                Check::Lint,
                role,
                &file,
                format!(
                    "spec_version '{spec}' is not a 1.x or 1.x.y version (clients check the major version; write e.g. 1.0.31)"
                ),
            ));
        }
        // Expiry horizon.
        let expires = signed
            .get("expires")
            .and_then(|v| v.as_str())
            .and_then(trustroot_core::time::parse);
        let min_days = policy.min_valid_days(role);
        match expires {
            None => findings.push(Finding::error(Check::Lint, role, &file, "has no valid 'expires'")),
            Some(expires) if expires < now + Duration::days(i64::from(min_days)) => {
                findings.push(Finding::error(
                    Check::Lint,
                    role,
                    &file,
                    format!(
                        "{role} v{version} {}, inside the policy's horizon of {min_days} days (gate.min_valid_days): renew it in a new round",
                        trustroot_core::expiry::expires_phrase(expires, now)
                    ),
                ));
            }
            Some(_) => {}
        }
        // Key IDs: the sha256 of the canonical key, every field included.
        let keys = match role.as_str() {
            "root" => serde_json::from_value::<Root>(signed.clone()).ok().map(|r| r.keys),
            "snapshot" | "timestamp" => None,
            _ => serde_json::from_value::<Targets>(signed.clone())
                .ok()
                .and_then(|t| t.delegations)
                .map(|d| d.keys),
            // (`signed` of a targets role has an empty `targets` here: see `lint_view`.)
        };
        // Snapshot, timestamp and a targets role without delegations list no keys.
        for (keyid, key) in keys.unwrap_or_default() {
            let computed = key.computed_key_id();
            if computed != keyid {
                findings.push(Finding::error(
                    Check::Lint,
                    role,
                    &file,
                    format!(
                        "key ID {keyid} is not the sha256 of its key ({computed}): tough and sigstore-rs reject the whole file (sigstore/root-signing#1431); re-register the key"
                    ),
                ));
            }
        }
        if role == "root"
            && let Ok(root) = serde_json::from_value::<Root>(signed.clone())
            && root.consistent_snapshot != Some(true)
        {
            findings.push(Finding::error(
                Check::Lint,
                role,
                &file,
                "consistent_snapshot is not true: the published tree uses consistent-snapshot names",
            ));
        }
    }
    findings
}

/// The `signed` object of `role`'s envelope as the lints read it: a targets role's entries
/// are skipped while the bytes are parsed (an empty `targets` in their place), so linting
/// 100,000 targets never holds them as values. `None` when the envelope is not metadata (the
/// clients' checks report that).
fn lint_view(role: &str, bytes: &[u8]) -> Option<serde_json::Value> {
    use serde_json::{Map, Value};
    if role == "root" || role == "snapshot" || role == "timestamp" {
        return Some(
            trustroot_core::Envelope::parse(role, bytes, &trustroot_core::Limits::default())
                .ok()?
                .signed,
        );
    }
    #[derive(serde::Deserialize)]
    struct View {
        signed: Fields,
    }
    #[derive(serde::Deserialize)]
    struct Fields {
        #[serde(default)]
        targets: Option<serde::de::IgnoredAny>,
        #[serde(flatten)]
        rest: Map<String, Value>,
    }
    let view: View = serde_json::from_slice(bytes).ok()?;
    let mut signed = view.signed.rest;
    if view.signed.targets.is_some() {
        signed.insert("targets".into(), Value::Object(Map::new()));
    }
    Some(Value::Object(signed))
}

/// The Sigstore payloads the gate validates, named by their file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    /// `trusted_root*.json`
    TrustedRoot,
    /// `signing_config*.json`
    SigningConfig,
}

/// The payload a target path names, if it names one.
pub fn payload_kind(path: &str) -> Option<PayloadKind> {
    let base = path.rsplit('/').next().unwrap_or(path);
    if !base.ends_with(".json") {
        return None;
    }
    if base.starts_with("trusted_root") {
        Some(PayloadKind::TrustedRoot)
    } else if base.starts_with("signing_config") {
        Some(PayloadKind::SigningConfig)
    } else {
        None
    }
}

/// Sigstore payloads under `targets/`, validated by trustroot-targets; with a policy and a
/// time (the gate's: the publish time), certificates and validity windows are also judged
/// at that time and over the signing period of the role that lists the payload.
pub fn payloads_at(candidate: &Candidate, when: Option<(&Policy, DateTime<Utc>)>) -> Vec<Finding> {
    use trustroot_targets::sigstore::validate;
    let mut findings = Vec::new();
    for (path, target) in &candidate.targets {
        let Some(kind) = payload_kind(path) else {
            continue;
        };
        let Some(source) = &target.source else { continue };
        let Ok(bytes) = crate::keys::read_limited(source, target.length) else {
            continue;
        };
        let as_of = when.map(|(policy, at)| validate::AsOf {
            at,
            period: chrono::Duration::days(i64::from(policy.periods(&target.role).signing_days)),
        });
        let found = match kind {
            PayloadKind::TrustedRoot => validate::validate_trusted_root_at(&bytes, as_of),
            PayloadKind::SigningConfig => validate::validate_signing_config_at(&bytes, None, as_of),
        };
        for f in found {
            let message = format!("{} {}: {} (fix: {})", f.code, f.path, f.message, f.fix);
            let file = format!("targets/{path}");
            findings.push(match f.severity {
                validate::Severity::Error => Finding::error(Check::Payload, &target.role, &file, message),
                validate::Severity::Warning => Finding::warning(Check::Payload, &target.role, &file, message),
            });
        }
    }
    findings
}

/// A refusal by a client: the role, the file and why.
struct Refusal {
    role: String,
    file: String,
    message: String,
}

impl Refusal {
    fn new(role: &str, file: impl Into<String>, message: impl Into<String>) -> Refusal {
        Refusal {
            role: role.to_string(),
            file: file.into(),
            message: message.into(),
        }
    }
}

/// The candidate file a client reads for `role`: `N.root.json` for the root chain,
/// `timestamp.json`, else the version the candidate publishes.
fn candidate_file(candidate: &Candidate, role: &str, root_version: Option<u64>) -> String {
    match role {
        "root" => format!("{}.root.json", root_version.unwrap_or(0)),
        "timestamp" => "timestamp.json".to_string(),
        _ => meta_file(role, candidate.versions.get(role).copied()),
    }
}

/// Core's client walk in memory: from `start` (a root), optionally holding a cached
/// timestamp and snapshot, to the candidate. Returns the trusted set or the first refusal.
fn walk(
    candidate: &Candidate,
    start: &[u8],
    cached: Option<(&[u8], &[u8])>,
    now: DateTime<Utc>,
) -> Result<TrustedSet, Refusal> {
    let set = TrustedSet::new(start, now, Limits::default())
        .map_err(|e| Refusal::new("root", "trusted root", e.to_string()))?;
    let newest = candidate.versions.get("root").copied().unwrap_or(0);
    let mut walk = ClientWalk::new(set, cached.is_some());
    walk.start(Goal::Everything);
    loop {
        let need = match walk.next_step() {
            Ok(Step::Need(need)) => need,
            Ok(_) => return Ok(walk.trusted().clone()),
            Err(e) => {
                let file = candidate_file(candidate, &e.role, e.version);
                return Err(Refusal::new(&e.role, file, e.to_string()));
            }
        };
        let file = candidate_file(candidate, &need.role, need.version);
        let bytes = match need.source {
            // A client of the published repository holds its timestamp and snapshot.
            Source::Cache => cached.and_then(|(timestamp, snapshot)| match need.role.as_str() {
                "timestamp" => Some(timestamp),
                "snapshot" => Some(snapshot),
                _ => None,
            }),
            Source::Remote => published(candidate, &need, newest).map_err(|m| Refusal::new(&need.role, &file, m))?,
        };
        walk.answer(bytes)
            .map_err(|e| Refusal::new(&need.role, &file, e.to_string()))?;
    }
}

/// What the candidate publishes for a remote need; `None` past the newest root.
fn published<'c>(candidate: &'c Candidate, need: &Need, newest_root: u64) -> Result<Option<&'c [u8]>, String> {
    if need.role == "root" {
        let version = need.version.unwrap_or(0);
        if version > newest_root {
            return Ok(None);
        }
        return match candidate.root_history.get(&version) {
            Some(bytes) => Ok(Some(bytes)),
            None => Err(format!("root v{version} is missing from the root history")),
        };
    }
    match candidate.metadata.get(need.role.as_str()) {
        Some(bytes) => Ok(Some(bytes)),
        None => Err(match &need.delegator {
            Some(delegator) => format!("{delegator} delegates to it, but it is not published"),
            None => "missing".to_string(),
        }),
    }
}

/// Our core as a client: one that holds the published repository, and one that starts
/// from the oldest root; every target must be found through the delegations.
pub fn core_client(candidate: &Candidate, now: DateTime<Utc>) -> Vec<Finding> {
    let mut findings = Vec::new();
    /// Who, their root, and their cached timestamp and snapshot.
    type Start = (String, Vec<u8>, Option<(Vec<u8>, Vec<u8>)>);
    let mut starts: Vec<Start> = Vec::new();
    if let Some(root) = candidate.previous.get("root") {
        let cached = match (candidate.previous.get("timestamp"), candidate.previous.get("snapshot")) {
            (Some(t), Some(s)) => Some((t.clone(), s.clone())),
            _ => None,
        };
        let version = candidate.published_root_version().unwrap_or(0);
        starts.push((
            format!("a client of the published repository (root v{version})"),
            root.clone(),
            cached,
        ));
    }
    if let Some((version, oldest)) = candidate.root_history.iter().next() {
        let already = starts.iter().any(|(_, r, _)| r == oldest);
        if !already {
            starts.push((
                format!("a new client starting from root v{version}"),
                oldest.clone(),
                None,
            ));
        }
    }
    for (who, root, cached) in &starts {
        let cached = cached.as_ref().map(|(t, s)| (t.as_slice(), s.as_slice()));
        match walk(candidate, root, cached, now) {
            Err(refusal) => {
                findings.push(Finding::error(
                    Check::Core,
                    &refusal.role,
                    &refusal.file,
                    format!("{who} refuses it: {}", refusal.message),
                ));
            }
            Ok(set) => findings.extend(find_targets(candidate, &set, who)),
        }
    }
    findings
}

/// Every target must be what a client's search through the delegations finds.
fn find_targets(candidate: &Candidate, set: &TrustedSet, who: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut verified = std::collections::HashSet::new();
    for (path, target) in &candidate.targets {
        let found = set.find_loaded_target(path, &mut verified).map(|(_, file)| file);
        let ok = found
            .as_ref()
            .is_some_and(|f| f.length == target.length && f.hashes.get("sha256") == Some(&target.sha256));
        if !ok {
            findings.push(Finding::error(
                Check::Core,
                &target.role,
                path,
                format!(
                    "{who} cannot download {path}: {} lists it, but a search through the delegations {}",
                    target.role,
                    if found.is_some() {
                        "finds another entry first"
                    } else {
                        "does not reach it (is the role delegated this path?)"
                    }
                ),
            ));
        }
    }
    findings
}

/// tough, in-process, against the candidate tree at `tree`: from the published root and
/// from the oldest root, loading every role and reading every target. tough checks expiry
/// against the wall clock (`ExpirationEnforcement::Safe`).
///
/// tough refuses a whole root that lists an ECDSA P-384 key. Where the policy allows such
/// keys (`allow_p384`) and a root lists one, tough is skipped and a warning says so.
pub fn tough_client(candidate: &Candidate, tree: &Path, allow_p384: bool) -> Vec<Finding> {
    if allow_p384 && let Some(version) = root_with_p384(candidate) {
        return vec![Finding::warning(
            Check::Tough,
            "root",
            &format!("{version}.root.json"),
            format!(
                "{TOUGH_SKIPPED_P384}: tough was not run: root v{version} lists an ECDSA P-384 key, which tough refuses \
                 (the policy allows P-384 keys: [gate] allow_p384); clients built on tough cannot use this repository"
            ),
        )];
    }
    let mut findings = Vec::new();
    let mut starts: Vec<(String, Vec<u8>)> = Vec::new();
    if let Some(root) = candidate.previous.get("root") {
        let version = candidate.published_root_version().unwrap_or(0);
        starts.push((format!("tough from the published root v{version}"), root.clone()));
    }
    if let Some((version, oldest)) = candidate.root_history.iter().next()
        && !starts.iter().any(|(_, r)| r == oldest)
    {
        starts.push((format!("tough from root v{version}"), oldest.clone()));
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            findings.push(Finding::error(
                Check::Tough,
                "-",
                "-",
                format!("cannot start tough: {e}"),
            ));
            return findings;
        }
    };
    for (who, root) in starts {
        if let Err(refusal) = runtime.block_on(tough_load(candidate, tree, &root)) {
            findings.push(Finding::error(
                Check::Tough,
                &refusal.role,
                &refusal.file,
                format!("{who} refuses it: {}", refusal.message),
            ));
        }
    }
    findings
}

/// Targets tough reads at once in the gate.
const TOUGH_READS_AT_ONCE: usize = 16;

/// The name of the finding that says tough was skipped for a root with a P-384 key.
pub const TOUGH_SKIPPED_P384: &str = "tough-skipped-p384";

/// The version of the first root (the candidate's, then its history) that lists a P-384 key.
fn root_with_p384(candidate: &Candidate) -> Option<u64> {
    let lists_p384 = |bytes: &[u8]| {
        let Ok(envelope) = trustroot_core::Envelope::parse("root", bytes, &trustroot_core::Limits::default()) else {
            return false;
        };
        envelope
            .signed
            .get("keys")
            .and_then(|k| k.as_object())
            .is_some_and(|keys| {
                keys.values()
                    .any(|key| key.get("scheme").and_then(|s| s.as_str()) == Some("ecdsa-sha2-nistp384"))
            })
    };
    let new_root = candidate.metadata.get("root").filter(|bytes| lists_p384(bytes));
    if new_root.is_some() {
        return candidate.versions.get("root").copied();
    }
    candidate
        .root_history
        .iter()
        .find(|(_, bytes)| lists_p384(bytes))
        .map(|(version, _)| *version)
}

fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

async fn tough_load(candidate: &Candidate, tree: &Path, root: &[u8]) -> Result<(), Refusal> {
    use tough::{ExpirationEnforcement, FilesystemTransport, IntoVec as _, RepositoryLoader, TargetName};
    let whole = |message: String| Refusal::new("repository", tree.display().to_string(), message);
    let metadata_url = url::Url::from_directory_path(tree).map_err(|()| whole("not an absolute path".into()))?;
    let targets_url =
        url::Url::from_directory_path(tree.join("targets")).map_err(|()| whole("not an absolute path".into()))?;
    let datastore = tempfile::tempdir().map_err(|e| whole(format!("cannot make a datastore: {e}")))?;
    let root = root.to_vec();
    let repository = RepositoryLoader::new(&root, metadata_url, targets_url)
        .transport(FilesystemTransport)
        .datastore(datastore.path())
        .expiration_enforcement(ExpirationEnforcement::Safe)
        .load()
        .await
        .map_err(|e| whole(chain(&e)))?;
    // Every target read through tough, several at once: each read waits on tough's file
    // transport and its datastore's clock check (a file read and written per target), so
    // one at a time 100,000 targets take minutes. `buffered` keeps the order: the refusal
    // reported is the first in path order, as one at a time.
    use futures::StreamExt as _;
    let repository = &repository;
    let mut reads = futures::stream::iter(&candidate.targets)
        .map(|(path, target)| async move {
            let fail = |message: String| Refusal::new(&target.role, format!("targets/{path}"), message);
            let name = TargetName::new(path.as_str()).map_err(|e| fail(chain(&e)))?;
            let stream = repository
                .read_target(&name)
                .await
                .map_err(|e| fail(chain(&e)))?
                .ok_or_else(|| fail(format!("tough does not find {path} through the delegations")))?;
            let bytes = stream.into_vec().await.map_err(|e| fail(chain(&e)))?;
            if trustroot_core::hashes::sha256_hex(&bytes) != target.sha256 {
                return Err(fail("tough read other bytes than the metadata lists".into()));
            }
            Ok(())
        })
        .buffered(TOUGH_READS_AT_ONCE);
    while let Some(read) = reads.next().await {
        read?;
    }
    Ok(())
}
