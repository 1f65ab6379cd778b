//! Signing a `signed` value into a metadata envelope, and how to misbehave while doing it.

use serde_json::{Value, json};

use crate::keys::SimKey;

/// How a role is signed at publish time. The default signs with every key of the role.
/// Fields combine; they are applied in the order they are listed here.
#[derive(Debug, Clone, Default)]
pub struct SignPlan {
    /// Sign with exactly these keys instead of the role's own (for root: instead of the
    /// previous root's keys plus the new ones).
    pub signers: Option<Vec<SimKey>>,
    /// Keep only the first `n` signatures (threshold not met when `n` < threshold).
    pub only_first: Option<usize>,
    /// Also sign with these keys (foreign keys, not listed for the role, or listed ones).
    pub extra_keys: Vec<SimKey>,
    /// Repeat the first signature entry (the same key ID twice in `signatures`).
    pub duplicate_first: bool,
    /// Key IDs whose `sig` is `""`: existing entries are emptied, others are appended.
    pub empty_sigs: Vec<String>,
    /// Key IDs whose `sig` is a well-formed but wrong signature: existing entries are
    /// corrupted, others are appended.
    pub invalid_sigs: Vec<String>,
    /// Do not sign: reuse the signatures of the role's previously published version.
    pub reuse_previous: bool,
}

/// Signs the canonical JSON of `signed` with each key, in order.
pub fn sign_all(signed: &Value, keys: &[SimKey]) -> Vec<Value> {
    let msg = trustroot_core::canonical::to_canonical_bytes(signed).expect("no floats in metadata");
    keys.iter()
        .map(|k| json!({ "keyid": k.key_id(), "sig": k.sign(&msg) }))
        .collect()
}

/// Applies the misbehaviours of `plan` (all but `signers` and `reuse_previous`, which
/// choose the starting set) to a list of signature entries.
pub fn apply_plan(signed: &Value, mut sigs: Vec<Value>, plan: &SignPlan) -> Vec<Value> {
    if let Some(n) = plan.only_first {
        sigs.truncate(n);
    }
    sigs.extend(sign_all(signed, &plan.extra_keys));
    if plan.duplicate_first
        && let Some(first) = sigs.first().cloned()
    {
        sigs.push(first);
    }
    for id in &plan.empty_sigs {
        set_sig(&mut sigs, id, String::new());
    }
    for id in &plan.invalid_sigs {
        // A DER ECDSA-shaped blob that verifies under no key.
        let bogus = format!("3044022{}", "1".repeat(137));
        set_sig(&mut sigs, id, bogus);
    }
    sigs
}

fn set_sig(sigs: &mut Vec<Value>, keyid: &str, sig: String) {
    let mut found = false;
    for entry in sigs.iter_mut() {
        if entry["keyid"] == keyid {
            entry["sig"] = json!(sig);
            found = true;
        }
    }
    if !found {
        sigs.push(json!({ "keyid": keyid, "sig": sig }));
    }
}

/// Serializes `{"signatures", "signed"}` the way python-tuf's default serializer does:
/// pretty-printed with a one-space indent, keys sorted (so `signatures` comes before
/// `signed`), no trailing newline. Non-ASCII text is written as UTF-8, not `\u` escapes.
pub fn serialize(signatures: Vec<Value>, signed: &Value) -> Vec<u8> {
    let envelope = json!({ "signatures": signatures, "signed": signed });
    let pretty = serde_json::to_string_pretty(&envelope).expect("JSON serialization");
    // serde_json indents by two spaces; JSON strings hold no raw newline, so every line
    // starts with indentation only and halving it gives python-tuf's one-space indent.
    let lines: Vec<String> = pretty
        .lines()
        .map(|line| {
            let body = line.trim_start_matches(' ');
            let indent = (line.len() - body.len()) / 2;
            format!("{}{body}", " ".repeat(indent))
        })
        .collect();
    lines.join("\n").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_like_python_json_dumps_indent_1_sort_keys() {
        let out = serialize(vec![], &json!({ "b": {}, "a": [1, "x y"] }));
        let want = "{\n \"signatures\": [],\n \"signed\": {\n  \"a\": [\n   1,\n   \"x y\"\n  ],\n  \"b\": {}\n }\n}";
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }
}
