//! The human summary of a signing request: what changes, and which keys and thresholds,
//! named by key ID and key material. Regenerated on the signing machine and compared.

use std::collections::BTreeMap;

use serde_json::Value;
use trustroot_core::Key;
use trustroot_core::keys::PublicKey;
use trustroot_core::metadata::{Root, Targets};

use crate::keys;
use trustroot_core::display::escape;

/// `text` with control characters escaped, for printing untrusted strings.
pub fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

pub(super) fn key_label(key: &Key, keyid: &str) -> String {
    match key_owner(key) {
        Some(owner) => format!("{} ({})", escape(owner), keys::short_id(keyid)),
        None => format!("key {}", keys::short_id(keyid)),
    }
}

/// The label a key carries in metadata (tuf-on-ci's `x-tuf-on-ci-keyowner`): text chosen
/// by whoever staged the metadata, never proof of who holds the key.
fn key_owner(key: &Key) -> Option<&str> {
    key.unknown.get("x-tuf-on-ci-keyowner").and_then(Value::as_str)
}

/// A line of a summary with every character a terminal would hide or act on escaped (the
/// lines quote metadata, which is untrusted). Backslashes are left alone: the diff shows
/// JSON, where a backslash in the text is already `\\`.
pub(super) fn shown_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut buf = [0u8; 4];
    for c in line.chars() {
        if c == '\\' {
            out.push(c);
        } else {
            out.push_str(&escape(c.encode_utf8(&mut buf)));
        }
    }
    out
}

/// sha256 of a key's material (its public key, however the metadata encodes it), who a
/// keyless key names (it has no material), or why the key cannot be used.
fn key_material(key: &Key) -> String {
    match key.public_key() {
        Ok(PublicKey::Keyless(who)) => format!(
            "identity \"{}\", issuer \"{}\"",
            escape(&who.identity),
            escape(&who.issuer)
        ),
        Ok(public) => format!("material sha256:{}", public.fingerprint()),
        Err(reason) => format!("unusable key: {}", escape(&reason)),
    }
}

/// One key, in full: ID, type, material fingerprint and label (escaped, with a warning
/// when it holds characters a terminal would hide).
fn key_line(keyid: &str, key: &Key) -> String {
    let mut line = format!(
        "key {keyid} ({}/{}, {})",
        escape(&key.keytype),
        escape(&key.scheme),
        key_material(key)
    );
    if let Some(owner) = key_owner(key) {
        let shown = escape(owner);
        line.push_str(&format!(" labelled \"{shown}\""));
        if shown != owner {
            line.push_str(" (the label holds hidden or control characters, shown escaped)");
        }
    }
    line
}

/// Keys and the roles they sign, from root (`keys`, `roles`) or targets
/// (`delegations.keys`, `delegations.roles`, `delegations.succinct_roles`).
type KeyTable = (BTreeMap<String, Key>, BTreeMap<String, (Vec<String>, u64)>);

fn key_table(role: &str, signed: &Value) -> Option<KeyTable> {
    if role == "root" {
        let root: Root = serde_json::from_value(signed.clone()).ok()?;
        let roles = root
            .roles
            .into_iter()
            .map(|(name, r)| (format!("{name} role"), (r.keyids, r.threshold)))
            .collect();
        return Some((root.keys, roles));
    }
    let targets: Targets = serde_json::from_value(signed.clone()).ok()?;
    let Some(delegations) = targets.delegations else {
        return Some((BTreeMap::new(), BTreeMap::new()));
    };
    let mut roles = BTreeMap::new();
    for r in delegations.roles.unwrap_or_default() {
        roles.insert(
            format!("delegated role \"{}\"", escape(&r.name)),
            (r.keyids, r.threshold),
        );
    }
    if let Some(succinct) = delegations.succinct_roles {
        roles.insert(
            format!("hashed bins \"{}-*\"", escape(&succinct.name_prefix)),
            (succinct.keyids, succinct.threshold),
        );
    }
    Some((delegations.keys, roles))
}

/// Every key added or removed and every threshold or signer change, by key ID and key
/// material: labels alone can impersonate a keyholder.
pub(super) fn key_changes(role: &str, previous: Option<&Value>, signed: &Value) -> Vec<String> {
    let Some((new_keys, new_roles)) = key_table(role, signed) else {
        return Vec::new();
    };
    let label_note = "(labels are text chosen by whoever staged this version: compare key IDs and material)";
    let Some(previous) = previous else {
        if new_keys.is_empty() && new_roles.is_empty() {
            return Vec::new();
        }
        let mut lines = vec![format!("keys and thresholds of this new version {label_note}:")];
        for (id, key) in &new_keys {
            lines.push(format!("  + {}", key_line(id, key)));
        }
        for (name, (ids, threshold)) in &new_roles {
            lines.push(format!("  + {name}: threshold {threshold} of {} key(s)", ids.len()));
        }
        return lines;
    };
    // A previous version that is no root or targets (checked before) has no keys to compare.
    let (old_keys, old_roles) = key_table(role, previous).unwrap_or_default();
    let mut lines = Vec::new();
    for (id, key) in &old_keys {
        match new_keys.get(id) {
            None => lines.push(format!("  - {} removed", key_line(id, key))),
            Some(new) if new != key => {
                lines.push(format!("  ~ {} changed to", key_line(id, key)));
                lines.push(format!("    {}", key_line(id, new)));
            }
            Some(_) => {}
        }
    }
    for (id, key) in &new_keys {
        if !old_keys.contains_key(id) {
            lines.push(format!("  + {} added", key_line(id, key)));
        }
    }
    let label = |keys: &BTreeMap<String, Key>, id: &str| match keys.get(id) {
        Some(key) => key_label(key, id),
        None => format!("key {} (not in the key list)", keys::short_id(id)),
    };
    let empty = (Vec::new(), 0);
    for name in old_roles
        .keys()
        .chain(new_roles.keys().filter(|n| !old_roles.contains_key(*n)))
    {
        let (old_ids, old_threshold) = old_roles.get(name).unwrap_or(&empty);
        let (new_ids, new_threshold) = new_roles.get(name).unwrap_or(&empty);
        if !old_roles.contains_key(name) {
            lines.push(format!("  + {name}: threshold {new_threshold}"));
        } else if !new_roles.contains_key(name) {
            lines.push(format!("  - {name} removed (it had threshold {old_threshold})"));
            continue;
        } else if old_threshold != new_threshold {
            lines.push(format!("  ~ {name}: threshold {old_threshold} -> {new_threshold}"));
        }
        for id in old_ids.iter().filter(|id| !new_ids.contains(id)) {
            lines.push(format!("  ~ {name}: - {}", label(&old_keys, id)));
        }
        for id in new_ids.iter().filter(|id| !old_ids.contains(id)) {
            lines.push(format!("  ~ {name}: + {}", label(&new_keys, id)));
        }
    }
    if lines.is_empty() {
        vec!["keys and thresholds: unchanged".to_string()]
    } else {
        lines.insert(0, format!("keys and thresholds that change {label_note}:"));
        lines
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn root(keys: Value, keyids: &[&str], threshold: u64) -> Value {
        json!({
            "_type": "root", "spec_version": "1.0.31", "version": 1,
            "expires": "2030-01-01T00:00:00Z", "consistent_snapshot": true,
            "keys": keys,
            "roles": {"root": {"keyids": keyids, "threshold": threshold}},
        })
    }

    fn key(public: &str, owner: &str) -> Value {
        json!({"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": public}, "x-tuf-on-ci-keyowner": owner})
    }

    #[test]
    fn key_changes_name_every_key_by_id_and_material_and_every_threshold_change() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let old = root(json!({&a: key(&"11".repeat(32), "@alice")}), &[&a], 2);
        let new = root(
            json!({&a: key(&"11".repeat(32), "@alice"), &b: key(&"22".repeat(32), "car\u{200b}ol")}),
            &[&a, &b],
            1,
        );
        let lines = key_changes("root", Some(&old), &new);
        let text = lines.join("\n");
        assert!(text.contains(&format!("+ key {b} (ed25519/ed25519, ")), "{text}");
        assert!(
            text.contains("labelled \"car\\u{200b}ol\" (the label holds hidden"),
            "{text}"
        );
        assert!(text.contains("~ root role: threshold 2 -> 1"), "{text}");
        assert!(
            text.contains("~ root role: + car\\u{200b}ol (bbbbbbbbbbbbbbbb)"),
            "{text}"
        );
        assert!(!text.contains('\u{200b}'), "{text}");
        assert_eq!(
            key_changes("root", Some(&old), &old),
            vec!["keys and thresholds: unchanged"]
        );
    }

    #[test]
    fn summary_lines_escape_what_a_terminal_would_hide_but_keep_json_backslashes() {
        assert_eq!(shown_line("+ a = \"\u{202e}x\\\"\""), "+ a = \"\\u{202e}x\\\"\"");
    }
}
