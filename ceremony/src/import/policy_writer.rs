//! The `trustroot.toml` of an imported repository: what its metadata says, written as a
//! policy a person reads (comments say where each value came from), and parsed back by
//! [`Policy::parse`] before anything is written.

use std::fmt::Write as _;

use serde_json::{Map, Value};
use trustroot_core::metadata::Targets;

use super::naming::Naming;
use super::verify::Verified;
use crate::error::{ImportError, Result};
use crate::policy::Policy;

/// tuf-on-ci's period fields (days), and the names its predecessor wrote.
const EXPIRY: [&str; 2] = ["x-tuf-on-ci-expiry-period", "x-playground-expiry-period"];
const SIGNING: [&str; 2] = ["x-tuf-on-ci-signing-period", "x-playground-signing-period"];

/// Where a policy's values come from, besides the metadata.
pub struct Origin<'a> {
    pub source: &'a str,
    pub layout: &'a str,
    pub at: &'a str,
    pub pinned: &'a str,
    pub metadata_only: bool,
}

/// The policy text, and the policy it parses to.
pub fn write(verified: &Verified, naming: &Naming, origin: &Origin) -> Result<(String, Policy)> {
    let root_file = format!("root v{}", verified.root.common.version);
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# trustroot signing repository policy, written by `trustroot init --import` from the\n\
         # {} {}, verified from {} as of {}.\n\
         # Every value below is what the imported metadata says; every field is documented in\n\
         # docs/policy.md. `trustroot ceremony start` stages the next versions from it, keeping\n\
         # every field of the metadata this policy does not model.\n",
        origin.layout,
        toml_string(origin.source),
        origin.pinned,
        origin.at
    );
    let _ = writeln!(text, "[import]");
    let _ = writeln!(text, "source = {}", toml_string(origin.source));
    let _ = writeln!(
        text,
        "# Roots up to this version were published before trustroot took the repository over."
    );
    let _ = writeln!(text, "root_version = {}", verified.root.common.version);
    let _ = writeln!(text, "at = {}", toml_string(origin.at));
    if origin.metadata_only {
        let _ = writeln!(text, "# Only metadata was imported: targets/ holds no target files.");
        let _ = writeln!(text, "metadata_only = true");
    }
    let _ = writeln!(text);

    let _ = writeln!(
        text,
        "# Keys, named after their x-tuf-on-ci-keyowner; each file in keys/ is the key object as\n\
         # the metadata lists it (re-adding one from a PEM would drop its fields and change its ID)."
    );
    let _ = writeln!(text, "[keys]");
    for key in &naming.keys {
        let _ = writeln!(text, "[keys.{}]", toml_key(&key.name));
        let _ = writeln!(text, "public = {}", toml_string(&format!("keys/{}.pub", key.name)));
        if let Some(holder) = &key.holder {
            let _ = writeln!(text, "holder = {}", toml_string(holder));
        }
        if let Some(online) = &key.online {
            let _ = writeln!(
                text,
                "# Signs online with this reference, as the metadata wrote it (x-tuf-on-ci-online-uri)."
            );
            let _ = writeln!(text, "online = {}", toml_string(online));
        }
    }
    let _ = writeln!(text);

    let targets = verified
        .targets
        .get("targets")
        .ok_or_else(|| unmodeled("targets", "missing"))?;
    for role in ["root", "targets"] {
        let assignment = verified
            .root
            .roles
            .get(role)
            .ok_or_else(|| unmodeled(&format!("{root_file}: roles.{role}"), "missing"))?;
        let fields = if role == "root" {
            &verified.root.unknown
        } else {
            &targets.unknown
        };
        let _ = writeln!(text, "[roles.{role}]");
        let _ = writeln!(text, "keys = {}", toml_list(&naming.role_keys[role]));
        let _ = writeln!(text, "threshold = {}", assignment.threshold);
        write_periods(&mut text, fields);
        let _ = writeln!(text);
    }
    for role in ["snapshot", "timestamp"] {
        let _ = writeln!(text, "[roles.{role}]");
        if let Some(assignment) = verified.root.roles.get(role) {
            write_periods(&mut text, &assignment.unknown);
        }
        let _ = writeln!(text);
    }

    write_delegations(&mut text, verified, naming, targets)?;

    let _ = writeln!(text, "[online]");
    match &naming.online.uri {
        Some(uri) if uri.starts_with("awskms:") => {
            let _ = writeln!(
                text,
                "# The online key's x-tuf-on-ci-online-uri, as written: usable as it is."
            );
            let _ = writeln!(text, "signer = {}", toml_string(uri));
        }
        Some(uri) => {
            let _ = writeln!(
                text,
                "# The online key's x-tuf-on-ci-online-uri, as written. trustroot cannot sign with this\n\
                 # kind of reference itself: configure `signer` (for Google Cloud KMS, a pkcs11: URI\n\
                 # through libkmsp11) or rotate the online key before `ceremony publish` or `online refresh`."
            );
            let _ = writeln!(text, "signer = {}", toml_string(uri));
        }
        None => {
            let _ = writeln!(
                text,
                "# The metadata names no reference for the online key: configure where its private key is."
            );
            let _ = writeln!(text, "signer = \"env:TRUSTROOT_ONLINE_KEY\"");
        }
    }
    let _ = writeln!(text, "public = \"keys/online.pub\"");
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "# Where `ceremony publish` and `online refresh` write the published repository.\n[publish]\ndestination = \"public\"\n"
    );
    // The gate's minimum validity: Sigstore's defaults, lowered below any role's own
    // expiry period (a timestamp that lives two days can stay valid at most one).
    let draft = Policy::parse(&format!("{text}[gate]\n"))
        .map_err(|e| unmodeled("trustroot.toml (as imported)", &e.to_string()))?;
    let mut roles: Vec<String> = ["root", "targets", "snapshot", "timestamp"].map(String::from).to_vec();
    roles.extend(draft.delegations.keys().cloned());
    let minimums: Vec<String> = roles
        .iter()
        .filter_map(|role| {
            let (default, expiry) = (draft.min_valid_days(role), draft.periods(role).expiry_days);
            let days = default.min(expiry.saturating_sub(1));
            let top_level = ["root", "targets", "snapshot", "timestamp"].contains(&role.as_str());
            (top_level || days != default).then(|| format!("{} = {days}", toml_key(role)))
        })
        .collect();
    let _ = writeln!(text, "[gate]");
    let _ = writeln!(text, "min_valid_days = {{ {} }}", minimums.join(", "));
    let p384 = naming.keys.iter().any(|k| crate::keys::is_p384(&k.key)) || crate::keys::is_p384(&naming.online.key);
    if p384 {
        let _ = writeln!(
            text,
            "# The repository lists ECDSA P-384 keys: tough (and tuf-js) cannot verify them; python-tuf\n\
             # and trustroot can. Set by the import, which could not load the keys otherwise."
        );
        let _ = writeln!(text, "allow_p384 = true");
    }
    let predicted = predicted_findings(verified);
    if !predicted.is_empty() {
        let _ = writeln!(
            text,
            "# The gate will name these findings about what was published before trustroot (see\n\
             # docs/policy.md, \"Named findings\"). Accept them only once you have read why:"
        );
        for (name, why) in &predicted {
            let _ = writeln!(text, "#   {name}: {why}");
        }
        let names: Vec<String> = predicted.iter().map(|(name, _)| (*name).to_string()).collect();
        let _ = writeln!(text, "# accept = {}", toml_list(&names));
    }
    let policy = Policy::parse(&text).map_err(|e| unmodeled("trustroot.toml (as imported)", &e.to_string()))?;
    Ok((text, policy))
}

/// The named gate findings the imported metadata will raise, each with why: key IDs that
/// are not the hash of their key (carried into the next versions), roots of the history
/// tough refuses for that reason, and fields inside delegation entries that tough drops.
fn predicted_findings(verified: &Verified) -> Vec<(&'static str, String)> {
    let not_hash = |keys: &std::collections::BTreeMap<String, trustroot_core::Key>| -> Vec<String> {
        keys.iter()
            .filter(|(id, key)| key.computed_key_id() != id.as_str())
            .map(|(id, _)| crate::keys::short_id(id).to_string())
            .collect()
    };
    let mut findings = Vec::new();
    let mut carried = not_hash(&verified.root.keys);
    for targets in verified.targets.values() {
        if let Some(delegations) = &targets.delegations {
            carried.extend(not_hash(&delegations.keys));
        }
    }
    if !carried.is_empty() {
        findings.push((
            crate::finding::named::KEY_ID_NOT_HASH,
            format!(
                "key IDs {} are not the sha256 of their keys; the next versions keep them",
                carried.join(", ")
            ),
        ));
    }
    let old_roots: Vec<String> = verified
        .history
        .iter()
        .filter(|(version, _)| **version < verified.root.common.version)
        .filter_map(|(version, bytes)| {
            let envelope = trustroot_core::Envelope::parse("root", bytes, &trustroot_core::Limits::default()).ok()?;
            let root: trustroot_core::metadata::Root = serde_json::from_value(envelope.signed).ok()?;
            (!not_hash(&root.keys).is_empty()).then(|| format!("v{version}"))
        })
        .collect();
    if !old_roots.is_empty() {
        findings.push((
            crate::finding::named::TOUGH_ROOT_HISTORY,
            format!(
                "roots {} list key IDs that are not the hash of their keys, which tough refuses; clients that start from them cannot be tough-based",
                old_roots.join(", ")
            ),
        ));
    }
    let fields: Vec<String> = verified
        .targets
        .iter()
        .filter_map(|(role, targets)| {
            let entries = targets.delegations.as_ref()?.roles.as_ref()?;
            entries
                .iter()
                .any(|entry| !entry.unknown.is_empty())
                .then(|| role.clone())
        })
        .collect();
    if !fields.is_empty() {
        findings.push((
            crate::finding::named::TOUGH_DELEGATION_FIELDS,
            format!(
                "delegation entries of {} carry fields tough drops, and then refuses the role",
                fields.join(", ")
            ),
        ));
    }
    findings
}

/// `[delegations.NAME]` for each role `targets` delegates to, in the metadata's order.
fn write_delegations(text: &mut String, verified: &Verified, naming: &Naming, targets: &Targets) -> Result<()> {
    let file = format!("targets v{}", targets.common.version);
    let Some(delegations) = &targets.delegations else {
        return Ok(());
    };
    if delegations.succinct_roles.is_some() {
        return Err(unmodeled(
            &format!("{file}: delegations.succinct_roles"),
            "succinct hashed bins are not imported",
        ));
    }
    for delegated in delegations.roles.iter().flatten() {
        let name = &delegated.name;
        let field = format!("{file}: delegations.roles[{name}]");
        let paths = match (&delegated.paths, &delegated.path_hash_prefixes) {
            (Some(paths), None) => paths,
            _ => return Err(unmodeled(&field, "trustroot imports delegations by paths only")),
        };
        let role = verified
            .targets
            .get(name)
            .ok_or_else(|| unmodeled(&field, "its metadata was not reached"))?;
        if role
            .delegations
            .as_ref()
            .is_some_and(|d| d.roles.as_ref().is_some_and(|r| !r.is_empty()) || d.succinct_roles.is_some())
        {
            return Err(unmodeled(
                &format!("{name} v{}: delegations", role.common.version),
                "delegations below a delegated role are not imported (trustroot's policy delegates from targets)",
            ));
        }
        let _ = writeln!(text, "[delegations.{}]", toml_key(name));
        let _ = writeln!(text, "keys = {}", toml_list(&naming.role_keys[name]));
        let _ = writeln!(text, "threshold = {}", delegated.threshold);
        let _ = writeln!(text, "paths = {}", toml_list(paths));
        let _ = writeln!(text, "terminating = {}", delegated.terminating);
        write_periods(text, &role.unknown);
        let _ = writeln!(text);
    }
    Ok(())
}

/// `expiry_days` and `signing_days` from tuf-on-ci's period fields, where the metadata has them.
fn write_periods(text: &mut String, fields: &Map<String, Value>) {
    let days = |names: &[&str; 2]| names.iter().find_map(|n| fields.get(*n).and_then(Value::as_u64));
    if let Some(expiry) = days(&EXPIRY) {
        let _ = writeln!(text, "expiry_days = {expiry}");
    }
    if let Some(signing) = days(&SIGNING) {
        let _ = writeln!(text, "signing_days = {signing}");
    }
}

fn unmodeled(field: &str, what: &str) -> crate::Error {
    ImportError::Unmodeled {
        file: "the imported metadata".to_string(),
        field: field.to_string(),
        what: what.to_string(),
    }
    .into()
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    toml_edit::Value::from(text).to_string().trim().to_string()
}

/// A table key: bare where TOML allows it, else quoted.
fn toml_key(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        name.to_string()
    } else {
        toml_string(name)
    }
}

fn toml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| toml_string(i)).collect();
    format!("[{}]", quoted.join(", "))
}
