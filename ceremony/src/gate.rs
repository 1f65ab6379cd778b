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
//! Each finding names the check, the role and the file. Some also have a name (see
//! [`crate::finding::named`]): a repository taken over from another tool may carry what
//! trustroot would never write (a key ID that is not the hash, a key type or delegation
//! fields tough cannot read, old roots tough cannot start from). The operator accepts such
//! a finding by name in `[gate] accept`; it is then a warning that says so. A lint on a role
//! this publish does not write anew (already published, unchangeable) is a warning.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use trustroot_core::metadata::{Root, Targets};
use trustroot_core::{ClientWalk, Goal, Limits, Need, Source, Step, TrustedSet};

use crate::candidate::Candidate;
pub use crate::finding::{Check, Finding, Severity, has_errors, named};
use crate::policy::Policy;

/// A finding of the lints about `role`: an error for a role this publish writes anew, a
/// warning for one it carries as published (no round can change those bytes any more).
fn lint_finding(carried: bool, role: &str, file: &str, message: String) -> Finding {
    if carried {
        Finding::warning(
            Check::Lint,
            role,
            file,
            format!("{message} (already published: this publish does not change it)"),
        )
    } else {
        Finding::error(Check::Lint, role, file, message)
    }
}

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
        let carried = !candidate.new_roles.iter().any(|r| r == role);
        // spec_version: 1.y or 1.y.z (what python-tuf and tuf-js accept).
        let spec = signed.get("spec_version").and_then(|v| v.as_str()).unwrap_or("");
        if !trustroot_core::metadata::supported_spec_version(spec) {
            findings.push(lint_finding(
                carried,
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
                let finding = lint_finding(
                    carried,
                    role,
                    &file,
                    format!(
                        "key ID {keyid} is not the sha256 of its key ({computed}): tough and sigstore-rs reject the whole file (sigstore/root-signing#1431); re-register the key"
                    ),
                );
                findings.push(
                    finding
                        .named(named::KEY_ID_NOT_HASH)
                        .judged(|name| policy.gate.accepts(name)),
                );
            }
        }
        if role == "root"
            && let Ok(root) = serde_json::from_value::<Root>(signed.clone())
            && root.consistent_snapshot != Some(true)
        {
            findings.push(lint_finding(
                carried,
                role,
                &file,
                "consistent_snapshot is not true: the published tree uses consistent-snapshot names".to_string(),
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
/// What tough 0.24 cannot read at all is found first, without running it (see
/// [`tough_readable`]): a key type it does not know makes it refuse every file, so it is
/// not run then. A refusal from the oldest root, where that root predates trustroot
/// (`[import] root_version`), is `tough-root-history`: once accepted, tough must start from
/// a later root, and from the published one.
pub fn tough_client(candidate: &Candidate, tree: &Path, policy: &Policy) -> Vec<Finding> {
    let readable = tough_readable(candidate, policy);
    let mut findings = readable.findings;
    if readable.unknown_key_type {
        return findings;
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
    let run = |root: &[u8]| runtime.block_on(tough_load(candidate, tree, root));
    // A refusal, named `tough-delegation-fields` when it is about a role whose delegations
    // carry fields tough drops (it then checks signatures over other bytes).
    let refused = |who: &str, refusal: Refusal| {
        let finding = Finding::error(
            Check::Tough,
            &refusal.role,
            &refusal.file,
            format!("{who} refuses it: {}", refusal.message),
        );
        let about = |role: &String| {
            refusal.message.contains(&format!("role {role}")) || refusal.message.contains(&format!("{role} metadata"))
        };
        if readable.extra_delegation_fields.iter().any(about) {
            finding
                .named(named::TOUGH_DELEGATION_FIELDS)
                .judged(|name| policy.gate.accepts(name))
        } else {
            finding
        }
    };
    let published = candidate.previous.get("root");
    let mut published_refused = false;
    if let Some(root) = published {
        let version = candidate.published_root_version().unwrap_or(0);
        if let Err(refusal) = run(root) {
            published_refused = true;
            findings.push(refused(&format!("tough from the published root v{version}"), refusal));
        }
    }
    let Some((&oldest_version, oldest)) = candidate.root_history.iter().next() else {
        return findings;
    };
    if published.is_some_and(|root| root == oldest) {
        return findings;
    }
    let Err(refusal) = run(oldest) else {
        return findings;
    };
    let who = format!("tough from root v{oldest_version}");
    let imported = policy.import.as_ref().map(|i| i.root_version);
    let before_trustroot = imported.filter(|&newest| oldest_version < newest);
    let (Some(import_version), false) = (before_trustroot, published_refused) else {
        // Not history that predates trustroot (or tough refuses the published root too,
        // so the old root is not what it stumbles on): an ordinary refusal.
        findings.push(refused(&who, refusal));
        return findings;
    };
    let finding = Finding::error(
        Check::Tough,
        &refusal.role,
        &refusal.file,
        format!(
            "{who} refuses it: {}; root v{oldest_version} was published before trustroot ([import] root_version = {import_version})",
            refusal.message
        ),
    )
    .named(named::TOUGH_ROOT_HISTORY);
    if !policy.gate.accepts(named::TOUGH_ROOT_HISTORY) {
        findings.push(finding);
        return findings;
    }
    findings.push(first_root_tough_reads(candidate, oldest_version, import_version, run));
    findings
}

/// With `tough-root-history` accepted: the first root after `oldest` that tough can start
/// from, as a warning, while every root it refuses predates trustroot; a root it refuses
/// that is `import_version` or later is an error no policy accepts.
fn first_root_tough_reads(
    candidate: &Candidate,
    oldest: u64,
    import_version: u64,
    run: impl Fn(&[u8]) -> Result<(), Refusal>,
) -> Finding {
    for (&version, root) in candidate.root_history.range(oldest + 1..) {
        match run(root) {
            Ok(()) => {
                return Finding::warning(
                    Check::Tough,
                    "root",
                    &format!("{version}.root.json"),
                    format!(
                        "tough can start from root v{version} (history before trustroot: v{oldest}–v{} accepted by [gate] accept); \
                         clients built on tough must ship root v{version} or later",
                        version - 1
                    ),
                )
                .named(named::TOUGH_ROOT_HISTORY);
            }
            Err(_) if version < import_version => {}
            Err(refusal) => {
                return Finding::error(
                    Check::Tough,
                    &refusal.role,
                    &refusal.file,
                    format!(
                        "tough from root v{version} refuses it: {}; root v{version} is not older than the import ([import] root_version = {import_version}), so [gate] accept cannot accept this",
                        refusal.message
                    ),
                )
                .named(named::TOUGH_ROOT_HISTORY);
            }
        }
    }
    Finding::error(
        Check::Tough,
        "root",
        "root history",
        format!("tough cannot start from any root of the history (v{oldest} and later)"),
    )
    .named(named::TOUGH_ROOT_HISTORY)
}

/// Targets tough reads at once in the gate.
const TOUGH_READS_AT_ONCE: usize = 16;

/// The name of the finding that said tough was skipped for a root with a P-384 key, kept
/// at the start of its message for the readers of older reports.
pub const TOUGH_SKIPPED_P384: &str = named::TOUGH_SKIPPED_P384;

/// What tough 0.24 cannot read, found in the metadata without running it.
pub struct ToughReadable {
    /// `tough-key-type` and `tough-delegation-fields` findings, judged by the policy.
    pub findings: Vec<Finding>,
    /// A file lists a key tough cannot parse: it refuses the whole file, so it is not run.
    pub unknown_key_type: bool,
    /// The roles whose `delegations` carry fields tough drops.
    pub extra_delegation_fields: Vec<String>,
}

/// The (keytype, scheme) pairs tough 0.24 parses (`tough::schema::key::Key`).
const TOUGH_KEY_TYPES: [(&str, &str); 4] = [
    ("ed25519", "ed25519"),
    ("ecdsa", "ecdsa-sha2-nistp256"),
    ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"),
    ("rsa", "rsassa-pss-sha256"),
];

/// The fields tough 0.24 reads in `delegations` and in a delegation entry; it has no place
/// for any other, drops it, and so verifies signatures over bytes the repository never
/// signed.
const TOUGH_DELEGATIONS_FIELDS: [&str; 2] = ["keys", "roles"];
const TOUGH_DELEGATED_ROLE_FIELDS: [&str; 6] = [
    "name",
    "keyids",
    "threshold",
    "terminating",
    "paths",
    "path_hash_prefixes",
];

/// Every file a client of the candidate reads that lists keys: each root of the history,
/// the candidate's root, and every targets role with delegations, as (role, file, signed).
fn files_with_keys(candidate: &Candidate) -> Vec<(String, String, serde_json::Value)> {
    let mut files = Vec::new();
    let mut roots: BTreeMap<u64, &[u8]> = candidate.root_history.iter().map(|(v, b)| (*v, b.as_slice())).collect();
    if let (Some(bytes), Some(version)) = (candidate.metadata.get("root"), candidate.versions.get("root")) {
        roots.insert(*version, bytes);
    }
    for (version, bytes) in roots {
        if let Some(signed) = lint_view("root", bytes) {
            files.push(("root".to_string(), format!("{version}.root.json"), signed));
        }
    }
    for (role, bytes) in &candidate.metadata {
        if ["root", "snapshot", "timestamp"].contains(&role.as_str()) {
            continue;
        }
        if let Some(signed) = lint_view(role, bytes) {
            let version = candidate.versions.get(role).copied();
            files.push((role.clone(), meta_file(role, version), signed));
        }
    }
    files
}

/// The keys tough cannot parse and the delegation fields it drops, in every file a client
/// reads. P-384 keys alone, with `[gate] allow_p384`, are accepted as they always were.
pub fn tough_readable(candidate: &Candidate, policy: &Policy) -> ToughReadable {
    let mut readable = ToughReadable {
        findings: Vec::new(),
        unknown_key_type: false,
        extra_delegation_fields: Vec::new(),
    };
    let accepted = |name: &str| policy.gate.accepts(name);
    for (role, file, signed) in files_with_keys(candidate) {
        let keys = if role == "root" {
            signed.get("keys")
        } else {
            signed.get("delegations").and_then(|d| d.get("keys"))
        };
        let unreadable: Vec<(String, String, String)> = keys
            .and_then(|k| k.as_object())
            .into_iter()
            .flatten()
            .filter_map(|(keyid, key)| {
                let field = |name: &str| key.get(name).and_then(|v| v.as_str()).unwrap_or("").to_string();
                let (keytype, scheme) = (field("keytype"), field("scheme"));
                let known = TOUGH_KEY_TYPES.contains(&(keytype.as_str(), scheme.as_str()));
                (!known).then(|| (keyid.clone(), keytype, scheme))
            })
            .collect();
        if let Some((keyid, keytype, scheme)) = unreadable.first() {
            readable.unknown_key_type = true;
            let only_p384 = unreadable.iter().all(|(_, _, scheme)| scheme == "ecdsa-sha2-nistp384");
            let finding = if only_p384 && policy.gate.allow_p384 {
                // The message older reports and tests know, with its old name first.
                let what = match file.strip_suffix(".root.json") {
                    Some(version) => format!("root v{version}"),
                    None => file.clone(),
                };
                Finding::warning(
                    Check::Tough,
                    &role,
                    &file,
                    format!(
                        "{TOUGH_SKIPPED_P384}: tough was not run: {what} lists an ECDSA P-384 key, which tough refuses \
                         (the policy allows P-384 keys: [gate] allow_p384); clients built on tough cannot use this repository"
                    ),
                )
            } else {
                // The issue's own words for the case users will meet: tuf-on-ci's keyless keys.
                let keyless = unreadable.iter().any(|(_, keytype, _)| keytype == "sigstore-oidc");
                Finding::error(
                    Check::Tough,
                    &role,
                    &file,
                    format!(
                        "{}lists {} key(s) tough 0.24 cannot read (first: {} of type {} with scheme {}): tough refuses the whole file, \
                         so it was not run; clients built on tough cannot use this repository",
                        if keyless {
                            "tough cannot read keyless keys: "
                        } else {
                            ""
                        },
                        unreadable.len(),
                        crate::keys::short_id(keyid),
                        trustroot_core::display::escape(keytype),
                        trustroot_core::display::escape(scheme)
                    ),
                )
            };
            readable
                .findings
                .push(finding.named(named::TOUGH_KEY_TYPE).judged(accepted));
        }
        if role == "root" {
            continue;
        }
        let Some(delegations) = signed.get("delegations").and_then(|d| d.as_object()) else {
            continue;
        };
        let mut extra: Vec<String> = delegations
            .keys()
            .filter(|k| !TOUGH_DELEGATIONS_FIELDS.contains(&k.as_str()))
            .map(|k| format!("delegations.{k}"))
            .collect();
        let entries = delegations.get("roles").and_then(|r| r.as_array());
        for (i, entry) in entries.into_iter().flatten().enumerate() {
            let name = entry.get("name").and_then(|n| n.as_str()).unwrap_or("?");
            let fields = entry.as_object().into_iter().flat_map(|o| o.keys());
            for field in fields.filter(|k| !TOUGH_DELEGATED_ROLE_FIELDS.contains(&k.as_str())) {
                extra.push(format!("delegations.roles[{i}] ({name}).{field}"));
            }
        }
        if !extra.is_empty() {
            let shown: Vec<String> = extra
                .iter()
                .map(|f| trustroot_core::display::escape(f).into_owned())
                .collect();
            readable.findings.push(
                Finding::error(
                    Check::Tough,
                    &role,
                    &file,
                    format!(
                        "has field(s) tough 0.24 drops: {}; tough then checks {role}'s signatures over other bytes and refuses it \
                         (trustroot's client, python-tuf and tuf-js keep them)",
                        shown.join(", ")
                    ),
                )
                .named(named::TOUGH_DELEGATION_FIELDS)
                .judged(accepted),
            );
            readable.extra_delegation_fields.push(role);
        }
    }
    readable
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
    let root = root.to_vec();
    let load = |enforcement: ExpirationEnforcement| {
        let (root, metadata_url, targets_url) = (&root, metadata_url.clone(), targets_url.clone());
        async move {
            let datastore = tempfile::tempdir().map_err(|e| whole(format!("cannot make a datastore: {e}")))?;
            let repository = RepositoryLoader::new(root, metadata_url, targets_url)
                .transport(FilesystemTransport)
                .datastore(datastore.path())
                .expiration_enforcement(enforcement)
                .load()
                .await
                .map_err(|e| whole(chain(&e)))?;
            Ok::<_, Refusal>((repository, datastore))
        }
    };
    // tough loads the repository as its clients do, every role's expiry checked against
    // the wall clock: an expired role is refused here.
    load(ExpirationEnforcement::Safe).await?;
    // The targets are then read through a second load of the same bytes, verified the same
    // way, that leaves out only tough's clock check at each read: under `Safe`, every
    // `read_target` reads and rewrites its datastore's `latest_known_time.json` under one
    // lock, which serialised 100,000 reads into minutes. What each read checks (the target
    // found through the delegations, its length and hashes) is unchanged.
    let (repository, _datastore) = load(ExpirationEnforcement::Unsafe).await?;
    // Every target read through tough, several at once: each read waits on tough's file
    // transport. `buffered` keeps the order: the refusal reported is the first in path
    // order, as one at a time.
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

#[cfg(test)]
mod tests;
