//! `inspect`'s text output, rendered from its [`Report`]. Everything shown comes from the
//! metadata (role names, key IDs, owners, target paths), so every string is escaped.

use std::fmt::Write as _;

use serde_json::Value;
use trustroot_core::display::escape;

use super::report::{DelegationsView, KeyView, Report, SignatureCheck};

/// A JSON value from the metadata (an owner, a list of paths) as escaped text.
fn value_text(value: &Value) -> String {
    let raw = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
    escape(&raw).into_owned()
}

pub fn render(report: &Report) -> String {
    let mut s = String::new();
    header(&mut s, report);
    if let Some(keys) = &report.keys {
        let _ = writeln!(s, "  keys:");
        key_lines(&mut s, keys);
    }
    lists(&mut s, report);
    if let Some(d) = &report.delegations {
        delegations(&mut s, d);
    }
    signatures(&mut s, report.signatures.as_deref());
    s
}

/// The file, role, version, expiry and consistent_snapshot.
fn header(s: &mut String, report: &Report) {
    let _ = writeln!(s, "{}", escape(&report.file));
    let _ = writeln!(
        s,
        "  role:     {} (type {}, spec {})",
        escape(&report.role),
        escape(&report.role_type),
        escape(&report.spec_version)
    );
    let _ = writeln!(s, "  version:  {}", report.version);
    let state = if report.expired {
        "EXPIRED".to_string()
    } else {
        format!("{} days left", report.days_left)
    };
    let _ = writeln!(
        s,
        "  expires:  {} ({state})",
        trustroot_core::time::format(&report.expires)
    );
    if let Some(cs) = report.consistent_snapshot {
        let _ = writeln!(s, "  consistent snapshot: {cs}");
    }
}

fn key_lines(s: &mut String, keys: &[KeyView]) {
    for key in keys {
        let tag = |label: &str, value: &Option<Value>| match value.as_ref().and_then(Value::as_str) {
            Some(text) => format!(" {label} {}", escape(text)),
            None => String::new(),
        };
        let usable = match &key.unusable {
            None => String::new(),
            Some(reason) => format!(" [{}]", escape(reason)),
        };
        let mismatch = if key.keyid_matches_content {
            String::new()
        } else {
            format!(
                " [key ID is not the hash of the key; computed {}]",
                escape(&key.computed_keyid)
            )
        };
        let _ = writeln!(
            s,
            "    {} {}/{}{}{}{usable}{mismatch}",
            escape(&key.keyid),
            escape(&key.keytype),
            escape(&key.scheme),
            tag("owner", &key.owner),
            tag("online", &key.online_uri),
        );
    }
}

/// A root's roles, a timestamp's or snapshot's meta, a targets role's targets.
fn lists(s: &mut String, report: &Report) {
    if let Some(roles) = &report.roles {
        let _ = writeln!(s, "  roles:");
        for (name, r) in roles {
            let _ = writeln!(
                s,
                "    {}: threshold {} of {} keys",
                escape(name),
                r.threshold,
                r.keyids.len()
            );
        }
    }
    if let Some(meta) = &report.meta {
        let _ = writeln!(s, "  meta:");
        for (file, m) in meta {
            let _ = writeln!(s, "    {}: version {}", escape(file), m.version);
        }
    }
    if let Some(targets) = &report.targets {
        let _ = writeln!(s, "  targets: {}", targets.len());
        for t in targets {
            let _ = writeln!(s, "    {} ({} bytes)", escape(&t.path), t.length);
        }
    }
}

fn delegations(s: &mut String, d: &DelegationsView) {
    let _ = writeln!(s, "  delegations:");
    for r in d.roles.iter().flatten() {
        let paths = serde_json::to_value(&r.paths).unwrap_or(Value::Null);
        let _ = writeln!(
            s,
            "    {}: threshold {}, terminating {}, paths {}",
            escape(&r.name),
            r.threshold,
            r.terminating,
            value_text(&paths)
        );
    }
    if let Some(sr) = &d.succinct_roles {
        let _ = writeln!(
            s,
            "    {} hashed bins '{}-*', threshold {}",
            sr.bins,
            escape(&sr.name_prefix),
            sr.threshold
        );
    }
    key_lines(s, &d.keys);
}

/// Each signature check: the count against the threshold, and each key's status.
fn signatures(s: &mut String, checks: Option<&[SignatureCheck]>) {
    let Some(checks) = checks else {
        let _ = writeln!(
            s,
            "  signatures: not checked (pass --root, or --delegator for a delegated role)"
        );
        return;
    };
    for check in checks {
        match check {
            SignatureCheck::NotChecked { checked_against, error } => {
                // The error is escaped where it is made.
                let _ = writeln!(s, "  signatures checked against {}: {error}", escape(checked_against));
            }
            SignatureCheck::Checked {
                checked_against,
                threshold,
                valid,
                met,
                keys,
                signatures_from_unlisted_keys,
            } => {
                let met = if *met { "threshold met" } else { "THRESHOLD NOT MET" };
                let _ = writeln!(
                    s,
                    "  signatures checked against {}: {valid} valid, {threshold} required, {met}",
                    escape(checked_against)
                );
                for key in keys {
                    let _ = writeln!(s, "    {}: {}", escape(&key.keyid), escape(&key.status));
                }
                for id in signatures_from_unlisted_keys {
                    let _ = writeln!(
                        s,
                        "    {}: signature from a key this role does not list (ignored)",
                        escape(id)
                    );
                }
            }
        }
    }
}
