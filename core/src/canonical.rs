//! OLPC canonical JSON, the form TUF signatures and key IDs are computed over.
//!
//! The rules (as securesystemslib and go-tuf implement them): object keys sorted by their
//! UTF-8 bytes, no insignificant whitespace, strings escape only `"` and `\` (every other
//! byte, newlines inside PEM keys included, is written raw), integers only (no floats).
//! Signatures are checked over this encoding of the `signed` value *as received*, so
//! unknown fields are part of what is verified.

use serde_json::Value;

/// A value that has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("canonical JSON has no floating-point numbers (found {0})")]
    Float(String),
}

/// Encodes `value` as OLPC canonical JSON.
pub fn to_canonical_bytes(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_value(value, &mut out)?;
    Ok(out)
}

/// Appends the canonical form of `value` to `out` (for writers that build a large document
/// piece by piece instead of as one `Value`).
pub fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.extend_from_slice(n.to_string().as_bytes());
            } else {
                return Err(CanonicalError::Float(n.to_string()));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Appends `s` as a canonical JSON string to `out`.
pub fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for byte in s.bytes() {
        if byte == b'"' || byte == b'\\' {
            out.push(b'\\');
        }
        out.push(byte);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_escapes_only_quote_and_backslash() {
        let value = json!({"b": 1, "a": "x\"y\\z\nw", "c": [true, null, -3]});
        let bytes = to_canonical_bytes(&value).unwrap();
        assert_eq!(
            bytes,
            b"{\"a\":\"x\\\"y\\\\z\nw\",\"b\":1,\"c\":[true,null,-3]}".to_vec()
        );
    }

    #[test]
    fn sorts_by_utf8_bytes() {
        let value = json!({"\u{e9}": 1, "z": 2, "Z": 3});
        let bytes = to_canonical_bytes(&value).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), "{\"Z\":3,\"z\":2,\"\u{e9}\":1}");
    }

    #[test]
    fn refuses_floats() {
        assert!(to_canonical_bytes(&json!({"a": 1.5})).is_err());
    }
}
