//! `ceremony start`: staging the next versions of root, targets and delegated targets
//! from the policy and the `targets/` tree. Versions and expiry dates are computed, never
//! typed; a role whose content is unchanged and that is not inside its signing period is
//! not staged.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use trustroot_core::delegation::path_matches;

use crate::error::{Error, FileProblem, Result, RoundError};
use crate::policy::{Policy, ResolvedKeys};
use crate::repo::Repo;
use crate::targets_role::{Signed, TargetEntry, TargetsRole};

mod carry;
#[cfg(test)]
pub(crate) mod carry_tests;
pub use carry::top_level as carried_top_level;

/// The spec version written into new metadata (python-tuf's).
pub const SPEC_VERSION: &str = "1.0.31";
/// tuf-on-ci's period fields.
pub const EXPIRY_FIELD: &str = "x-tuf-on-ci-expiry-period";
pub const SIGNING_FIELD: &str = trustroot_core::expiry::SIGNING_PERIOD_FIELD;

/// One role to stage: its new `signed` content and the version of the published one it follows.
#[derive(Debug, Clone)]
pub struct StagedRole {
    pub role: String,
    pub signed: Signed,
    pub previous_version: Option<u64>,
    /// Why it is staged (content changed, new role, renewal).
    pub reason: String,
    /// The published version is inside its signing period (or has no readable expiry):
    /// it must be renewed whatever else changes. What `ceremony start --due` stages.
    pub due: bool,
}

/// The role a file of `targets/` goes to: the first delegation (by name) whose paths match
/// it (the bin of a delegation in hashed bins), else targets.
pub(crate) fn owner_of(policy: &Policy, path: &str) -> String {
    match policy
        .delegations
        .iter()
        .find(|(_, d)| d.paths.iter().any(|p| path_matches(p, path)))
    {
        Some((name, d)) => match d.bins {
            Some(bins) => crate::bins::bin_for_target(name, bins, path),
            None => name.clone(),
        },
        None => "targets".to_string(),
    }
}

/// Computes what `ceremony start` would stage, at `now`.
pub fn plan(repo: &Repo, now: DateTime<Utc>) -> Result<Vec<StagedRole>> {
    plan_requested(repo, now, &[])
}

/// What `ceremony start --role ROLE...` would stage: [`plan`], with each role of
/// `requested` staged at its next version even when nothing else calls for it (to renew
/// it before its signing period). The caller checks the names (see [`requestable`]).
pub fn plan_requested(repo: &Repo, now: DateTime<Utc>, requested: &[String]) -> Result<Vec<StagedRole>> {
    let policy = &repo.policy;
    policy.check_complete()?;
    let keys = repo.keys_for_staging(now)?;
    let now = now.with_nanosecond_zero();
    let mut staged = Vec::new();
    let request = |role: &str| requested.iter().any(|r| r == role);

    // Root.
    let published_root = repo.published("root")?;
    let root_body = root_body(policy, &keys, published_root.as_ref().map(|p| &p.envelope.signed))?;
    // Who signs each role, as the new metadata will say and as the published says: a role
    // whose signers or threshold change is re-staged, or its published version would no
    // longer meet the new threshold (clients would refuse it).
    let mut new_signers: BTreeMap<String, Value> = BTreeMap::new();
    let mut old_signers: BTreeMap<String, Value> = BTreeMap::new();
    let mut listed = Listed {
        policy: &keys,
        keys: BTreeMap::new(),
    };
    collect_signers(&Value::Object(root_body.clone()), &mut new_signers, &mut listed.keys);
    if let Some(published) = &published_root {
        collect_signers(&published.envelope.signed, &mut old_signers, &mut listed.keys);
    }
    // A root whose signers change says who left and who joined, role by role.
    let changes: Vec<String> = old_signers
        .iter()
        .filter_map(|(role, old)| {
            let new = new_signers.get(role)?;
            (old != new).then(|| format!("{role} role {}", signers_text(old, new, &listed)))
        })
        .collect();
    let root_reason = (!changes.is_empty()).then(|| format!("content changed: {}", changes.join("; ")));
    let published_root = published_root.map(|p| (p.path, Signed::Other(p.envelope.signed)));
    let root_body = Signed::Other(Value::Object(root_body));
    let wanted = Wanted {
        force: root_reason,
        requested: request("root"),
    };
    if let Some(role) = stage_one("root", root_body, published_root, policy, now, wanted)? {
        staged.push(role);
    }

    // Targets and delegated targets: each file goes to the first delegation (by name)
    // whose paths match it, else to targets.
    let tree = trustroot_targets::tree::walk(&repo.root.join("targets")).map_err(RoundError::TargetsTree)?;
    let mut files: BTreeMap<String, Vec<trustroot_targets::tree::TreeFile>> = BTreeMap::new();
    for (path, file) in tree {
        trustroot_core::target_path::validate(&path).map_err(|source| RoundError::TargetPath {
            path: path.clone(),
            source: Box::new(source),
        })?;
        files.entry(owner_of(policy, &path)).or_default().push(file);
    }
    for role in targets_roles(policy) {
        let published = match repo.published(&role)? {
            Some(p) => {
                collect_signers(&p.envelope.signed, &mut old_signers, &mut listed.keys);
                Some((p.path, Signed::from_value(p.envelope.signed)))
            }
            None => None,
        };
        let role_files = files.remove(&role).unwrap_or_default();
        let unimported = published
            .as_ref()
            .and_then(|(_, signed)| unimported_target(policy, signed, &role_files));
        let body = targets_body(
            policy,
            &keys,
            &role,
            role_files,
            published.as_ref().map(|(_, signed)| signed),
        )?;
        collect_signers(&body.without_targets(), &mut new_signers, &mut listed.keys);
        let force = match (old_signers.get(&role), new_signers.get(&role)) {
            (Some(old), Some(new)) if old != new => Some(format!(
                "its signers or threshold change ({}): the published version must be signed again",
                signers_text(old, new, &listed)
            )),
            _ => None,
        };
        let wanted = Wanted {
            force,
            requested: request(&role),
        };
        if let Some(staged_role) = stage_one(&role, body, published, policy, now, wanted)? {
            // Refused only where it would be staged (with --role, only the roles asked for).
            if let Some(path) = unimported.filter(|_| requested.is_empty() || request(&role)) {
                return Err(RoundError::TargetsNotImported { role, path }.into());
            }
            staged.push(staged_role);
        }
    }
    Ok(staged)
}

/// A repository imported with `--metadata-only` has no target files in `targets/`: staging
/// a targets role from that tree would remove every target it lists. The first listed file
/// missing from `targets/`, which refuses staging the role until it is there.
fn unimported_target(
    policy: &Policy,
    published: &Signed,
    files: &[trustroot_targets::tree::TreeFile],
) -> Option<String> {
    if !policy.import.as_ref().is_some_and(|i| i.metadata_only) {
        return None;
    }
    let here: std::collections::BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    published
        .listed_targets(|p| !here.contains(p))
        .first()
        .map(|(path, _, _)| path.to_string())
}

/// The roles `ceremony start --role` can ask for: root and every targets role (snapshot
/// and timestamp are signed online, by `online refresh`).
pub fn requestable(policy: &Policy) -> Vec<String> {
    std::iter::once("root".to_string())
        .chain(targets_roles(policy))
        .collect()
}

/// Every targets role the policy has: `targets`, each delegation, and each delegation's
/// hashed bins.
pub fn targets_roles(policy: &Policy) -> Vec<String> {
    let mut roles = vec!["targets".to_string()];
    for (name, delegation) in &policy.delegations {
        roles.push(name.clone());
        if let Some(bins) = delegation.bins {
            roles.extend(crate::bins::bin_names(name, bins));
        }
    }
    roles
}

/// The keys a signer change is told with: the policy's names, and every key listed by the
/// published and the new metadata (for a holder's label, and for a key no longer in the policy).
struct Listed<'k> {
    policy: &'k ResolvedKeys,
    keys: BTreeMap<String, Value>,
}

impl Listed<'_> {
    /// A key as a person knows it: its name in the policy, its holder, its short key ID.
    fn who(&self, keyid: &str) -> String {
        let name = self.policy.name_of(keyid);
        let holder = self
            .keys
            .get(keyid)
            .and_then(|k| k.get("x-tuf-on-ci-keyowner"))
            .and_then(Value::as_str)
            .map(trustroot_core::display::escape);
        let id = crate::keys::short_id(keyid);
        match (name, holder) {
            (Some(name), Some(holder)) => format!("{name} ({holder}, {id})"),
            (Some(name), None) => format!("{name} ({id})"),
            (None, Some(holder)) => format!("{holder} ({id})"),
            (None, None) => format!("key {id}"),
        }
    }
}

/// Records the key IDs and threshold that `signed` (root or targets) gives each role, and
/// the keys it lists.
fn collect_signers(signed: &Value, out: &mut BTreeMap<String, Value>, keys: &mut BTreeMap<String, Value>) {
    for listed in [
        signed.get("keys"),
        signed.get("delegations").and_then(|d| d.get("keys")),
    ]
    .into_iter()
    .flatten()
    .filter_map(Value::as_object)
    {
        for (id, key) in listed {
            keys.entry(id.clone()).or_insert_with(|| key.clone());
        }
    }
    let entry = |v: &Value| {
        let mut ids = keyids(v);
        ids.sort();
        json!({"keyids": ids, "threshold": v.get("threshold").cloned().unwrap_or(Value::Null)})
    };
    if let Some(roles) = signed.get("roles").and_then(Value::as_object) {
        for (name, v) in roles {
            out.insert(name.clone(), entry(v));
        }
    }
    if let Some(roles) = signed
        .get("delegations")
        .and_then(|d| d.get("roles"))
        .and_then(Value::as_array)
    {
        for v in roles {
            if let Some(name) = v.get("name").and_then(Value::as_str) {
                out.insert(name.to_string(), entry(v));
            }
        }
    }
}

/// The `keyids` of a role entry (a root role or a delegation); none when it lists none,
/// so an entry without key IDs has no signers to compare.
fn keyids(v: &Value) -> Vec<String> {
    v.get("keyids")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// `from 3 of 5 key(s) to 3 of 5 key(s); left: ...; joined: ...`: the thresholds, and
/// who left and who joined by name, holder and short key ID.
fn signers_text(old: &Value, new: &Value, listed: &Listed<'_>) -> String {
    let count = |v: &Value| {
        format!(
            "{} of {} key(s)",
            v.get("threshold").unwrap_or(&Value::Null),
            keyids(v).len()
        )
    };
    let (old_ids, new_ids) = (keyids(old), keyids(new));
    let mut text = format!("from {} to {}", count(old), count(new));
    let left: Vec<String> = old_ids
        .iter()
        .filter(|id| !new_ids.contains(id))
        .map(|id| listed.who(id))
        .collect();
    let joined: Vec<String> = new_ids
        .iter()
        .filter(|id| !old_ids.contains(id))
        .map(|id| listed.who(id))
        .collect();
    if !left.is_empty() {
        text.push_str(&format!("; left: {}", left.join(", ")));
    }
    if !joined.is_empty() {
        text.push_str(&format!("; joined: {}", joined.join(", ")));
    }
    text
}

trait NoNanos {
    fn with_nanosecond_zero(self) -> Self;
}

impl NoNanos for DateTime<Utc> {
    fn with_nanosecond_zero(self) -> Self {
        DateTime::from_timestamp(self.timestamp(), 0).unwrap_or(self)
    }
}

/// Why a role is staged whatever its content: `force` when it must be (its signers
/// change), `requested` when `ceremony start --role` asks for it.
struct Wanted {
    force: Option<String>,
    requested: bool,
}

/// Decides whether `role` needs a new version: `body` is the wanted `signed` content
/// without `version` and `expires`; `published` the published version and its file.
fn stage_one(
    role: &str,
    mut body: Signed,
    published: Option<(std::path::PathBuf, Signed)>,
    policy: &Policy,
    now: DateTime<Utc>,
    wanted: Wanted,
) -> Result<Option<StagedRole>> {
    let periods = policy.periods(role);
    let (version, reason, previous_version, due) = match published {
        None => (1, "new role: no published version".to_string(), None, false),
        Some((path, mut old)) => {
            let no_version = || Error::content(&path, FileProblem::NoVersion);
            if !matches!(&old, Signed::Targets(_) | Signed::Other(Value::Object(_))) {
                return Err(no_version());
            }
            let old_version = old.version().ok_or_else(no_version)?;
            let expires = old
                .get("expires")
                .and_then(Value::as_str)
                .and_then(trustroot_core::time::parse);
            let renew = match expires {
                Some(expires) => now + Duration::days(i64::from(periods.signing_days)) >= expires,
                None => true,
            };
            old.remove("version");
            old.remove("expires");
            let changed = old != body;
            drop(old);
            if !changed && !renew && wanted.force.is_none() && !wanted.requested {
                return Ok(None);
            }
            let reason = if let Some(force) = wanted.force {
                force
            } else if changed {
                "content changed".to_string()
            } else if renew {
                format!("renewal: within {} days of expiry", periods.signing_days)
            } else {
                format!("requested (--role {role})")
            };
            (old_version + 1, reason, Some(old_version), renew)
        }
    };
    body.set("version", json!(version));
    let expires = now + Duration::days(i64::from(periods.expiry_days));
    body.set("expires", json!(trustroot_core::time::format(&expires)));
    Ok(Some(StagedRole {
        role: role.to_string(),
        signed: body,
        previous_version,
        reason,
        due,
    }))
}

/// The IDs (in carried order, see [`carry::DelegatorKeys::ordered`]) the next version
/// lists policy keys `names` under, for a role entry whose published version is
/// `published_entry`; their key objects go to `keys.listed`.
fn key_ids(
    keys: &mut carry::DelegatorKeys<'_>,
    names: &[String],
    published_entry: Option<&Value>,
) -> Result<Vec<String>> {
    let mut wanted = Vec::with_capacity(names.len());
    for name in names {
        wanted.push((name.clone(), keys.add(name)?));
    }
    Ok(keys.ordered(published_entry, &wanted))
}

/// The wanted `signed` content of root (without version and expiry): the published root
/// carried over (see [`carry`]) with the policy's keys, signers, thresholds and periods.
fn root_body(policy: &Policy, keys: &ResolvedKeys, published: Option<&Value>) -> Result<Map<String, Value>> {
    let mut body = carry::top_level(published, "root");
    let published_roles = published.and_then(|p| p.get("roles"));
    let published_role = |role: &str| published_roles.and_then(|r| r.get(role));
    let mut listed = carry::DelegatorKeys::new(published.and_then(|p| p.get("keys")), keys);
    let offline_role = |listed: &mut carry::DelegatorKeys<'_>, role: &str, names: &[String], threshold: u64| {
        let ids = key_ids(listed, names, published_role(role))?;
        Ok::<_, Error>(carry::entry(
            published_role(role),
            Map::from_iter([("keyids".into(), json!(ids)), ("threshold".into(), json!(threshold))]),
        ))
    };
    let root_role = offline_role(
        &mut listed,
        "root",
        &policy.roles.root.keys,
        policy.roles.root.threshold,
    )?;
    let targets_role = offline_role(
        &mut listed,
        "targets",
        &policy.roles.targets.keys,
        policy.roles.targets.threshold,
    )?;
    let online_id = listed.add_online()?;
    let online_role = |role: &str| {
        let p = policy.periods(role);
        carry::entry(
            published_role(role),
            Map::from_iter([
                ("keyids".into(), json!([online_id])),
                ("threshold".into(), json!(1)),
                (EXPIRY_FIELD.into(), json!(p.expiry_days)),
                (SIGNING_FIELD.into(), json!(p.signing_days)),
            ]),
        )
    };
    let roles = json!({
        "root": root_role,
        "targets": targets_role,
        "snapshot": online_role("snapshot"),
        "timestamp": online_role("timestamp"),
    });
    let root_periods = policy.periods("root");
    body.insert("consistent_snapshot".into(), json!(true));
    body.insert("keys".into(), Value::Object(listed.listed));
    body.insert("roles".into(), roles);
    body.insert(EXPIRY_FIELD.into(), json!(root_periods.expiry_days));
    body.insert(SIGNING_FIELD.into(), json!(root_periods.signing_days));
    Ok(body)
}

/// The wanted `signed` content of targets role `role` (without version and expiry): the
/// published version carried over (see [`carry`]) with the policy's fields, and an entry
/// for each of `files`. A file the published version lists with the same length and sha256
/// keeps its published entry whole; a changed file keeps every field of its published
/// entry but the length and hashes (e.g. Sigstore's `custom` usage/status).
fn targets_body(
    policy: &Policy,
    keys: &ResolvedKeys,
    role: &str,
    files: Vec<trustroot_targets::tree::TreeFile>,
    published: Option<&Signed>,
) -> Result<Signed> {
    let mut entries = Vec::with_capacity(files.len());
    for file in files {
        let mut sha256 = [0u8; 32];
        // The tree's digests are sha256 in lowercase hex; anything else is a bug in the walk.
        hex::decode_to_slice(&file.sha256, &mut sha256).map_err(|e| {
            RoundError::TargetsTree(trustroot_targets::tree::TreeError::Io {
                path: std::path::PathBuf::from("targets").join(&file.path),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            })
        })?;
        let kept = match published {
            Some(Signed::Targets(old)) => old.target(&file.path).cloned(),
            Some(Signed::Other(old)) => old
                .get("targets")
                .and_then(|t| t.get(&file.path))
                .cloned()
                .and_then(|entry| TargetEntry::from_value(file.path.clone(), entry).ok()),
            None => None,
        };
        let entry = match kept {
            Some(kept) if kept.length == file.length && kept.sha256 == sha256 => kept,
            Some(kept) => TargetEntry {
                custom: kept.custom,
                // Other fields are carried; other hashes were of the old content.
                extra: kept
                    .extra
                    .map(|mut extra| {
                        extra.remove("hashes");
                        extra
                    })
                    .filter(|extra| !extra.is_empty()),
                ..TargetEntry::new(file.path, file.length, sha256)
            },
            None => {
                // A published entry the compact form cannot hold: every field but its
                // length and hashes is carried.
                let mut fields = match published {
                    Some(Signed::Other(old)) => old
                        .get("targets")
                        .and_then(|t| t.get(&file.path))
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default(),
                    _ => Map::new(),
                };
                fields.remove("length");
                fields.remove("hashes");
                let custom = fields.remove("custom");
                TargetEntry {
                    custom,
                    extra: (!fields.is_empty()).then(|| Box::new(fields)),
                    ..TargetEntry::new(file.path, file.length, sha256)
                }
            }
        };
        entries.push(entry);
    }
    let periods = policy.periods(role);
    let published_fields = published.map(|published| match published {
        Signed::Targets(old) => Value::Object(old.fields().clone()),
        Signed::Other(old) => old.clone(),
    });
    let mut body = carry::top_level(published_fields.as_ref(), "targets");
    // `targets` is rebuilt from the tree; `delegations` from the policy (below), and
    // dropped when the policy delegates nothing.
    body.remove("targets");
    let published_delegations = body.remove("delegations");
    let published_delegations = published_delegations.as_ref();
    let mut keys = carry::DelegatorKeys::new(published_delegations.and_then(|d| d.get("keys")), keys);
    let published_entries = carry::delegation_index(published_delegations);
    if role == "targets" && !policy.delegations.is_empty() {
        let mut roles = BTreeMap::new();
        for (name, delegation) in &policy.delegations {
            let published_entry = published_entries.get(name.as_str()).copied();
            let ids = key_ids(&mut keys, &delegation.keys, published_entry)?;
            let fields = Map::from_iter([
                ("name".into(), json!(name)),
                ("keyids".into(), json!(ids)),
                ("threshold".into(), json!(delegation.threshold)),
                ("terminating".into(), json!(delegation.terminating)),
                ("paths".into(), json!(delegation.paths)),
            ]);
            roles.insert(name.clone(), carry::delegation_entry(published_entry, fields));
        }
        let delegations = carry::delegations(published_delegations, std::mem::take(&mut keys.listed), roles);
        body.insert("delegations".into(), delegations);
    }
    if let Some(delegation) = policy.delegations.get(role)
        && let Some(bins) = delegation.bins
    {
        // Every bin has the same keys: their IDs and order are worked out once.
        let first_bin = crate::bins::bin_name(role, bins, 0);
        let ids = key_ids(
            &mut keys,
            &delegation.keys,
            published_entries.get(first_bin.as_str()).copied(),
        )?;
        let mut roles = BTreeMap::new();
        for i in 0..bins {
            let name = crate::bins::bin_name(role, bins, i);
            let published_entry = published_entries.get(name.as_str()).copied();
            let fields = Map::from_iter([
                ("name".into(), json!(name)),
                ("keyids".into(), json!(ids)),
                ("threshold".into(), json!(delegation.threshold)),
                ("terminating".into(), json!(true)),
                ("path_hash_prefixes".into(), json!(crate::bins::hash_prefixes(bins, i))),
            ]);
            roles.insert(name, carry::delegation_entry(published_entry, fields));
        }
        let delegations = carry::delegations(published_delegations, std::mem::take(&mut keys.listed), roles);
        body.insert("delegations".into(), delegations);
    }
    body.insert(EXPIRY_FIELD.into(), json!(periods.expiry_days));
    body.insert(SIGNING_FIELD.into(), json!(periods.signing_days));
    Ok(Signed::Targets(TargetsRole::new(body, entries)?))
}

/// A line-by-line account of what changes from `old` to `new` (JSON paths; values in
/// compact JSON). With no `old`, every leaf is an addition.
pub fn diff(old: Option<&Value>, new: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    match old {
        Some(old) => diff_values("", old, new, &mut lines),
        None => added("", new, &mut lines),
    }
    lines
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn show(value: &Value) -> String {
    let text = value.to_string();
    text.replace("\\n", "⏎")
}

fn added(path: &str, value: &Value, lines: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                added(&join(path, k), v, lines);
            }
        }
        _ => lines.push(format!("+ {path} = {}", show(value))),
    }
}

fn removed(path: &str, value: &Value, lines: &mut Vec<String>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                removed(&join(path, k), v, lines);
            }
        }
        _ => lines.push(format!("- {path} = {}", show(value))),
    }
}

fn diff_values(path: &str, old: &Value, new: &Value, lines: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => diff_values(&join(path, k), v, w, lines),
                    None => removed(&join(path, k), v, lines),
                }
            }
            for (k, w) in b {
                if !a.contains_key(k) {
                    added(&join(path, k), w, lines);
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => lines.push(format!("~ {path}: {} -> {}", show(a), show(b))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn diff_names_paths() {
        let old = json!({"version": 1, "targets": {"a": {"length": 1}}, "x": [1]});
        let new = json!({"version": 2, "targets": {"b": {"length": 2}}, "x": [1]});
        assert_eq!(
            diff(Some(&old), &new),
            vec!["- targets.a.length = 1", "+ targets.b.length = 2", "~ version: 1 -> 2"]
        );
        assert_eq!(diff(None, &json!({"a": {"b": 1}})), vec!["+ a.b = 1"]);
    }
}
