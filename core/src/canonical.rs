//! OLPC canonical JSON, the form TUF signatures and key IDs are computed over.
//!
//! The rules (as securesystemslib and go-tuf implement them): object keys sorted by their
//! UTF-8 bytes, no insignificant whitespace, strings escape only `"` and `\` (every other
//! byte, newlines inside PEM keys included, is written raw), integers only (no floats).
//! Signatures are checked over this encoding of the `signed` value *as received*, so
//! unknown fields are part of what is verified.

use serde_json::Value;

/// A value that has no canonical form. serde_json reads `-0` and integers outside 64 bits
/// as floating-point numbers; they are named for what they were written as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("canonical JSON has no floating-point numbers (found {0})")]
    Float(String),
    #[error("canonical JSON has no negative zero (found -0; write 0)")]
    NegativeZero,
    #[error("canonical JSON has only integers from -2^63 to 2^64-1 (found {0}, an integer outside that range)")]
    OutOfRange(String),
}

impl CanonicalError {
    /// Why the number `n` (neither an `i64` nor a `u64`) has no canonical form.
    pub(crate) fn number(n: &serde_json::Number) -> CanonicalError {
        match n.as_f64() {
            Some(f) if f == 0.0 && f.is_sign_negative() => CanonicalError::NegativeZero,
            // A whole number here was written beyond 64 bits (-2^63 itself parses as an
            // integer, so -2^63 as a float is a rounded -2^63-1 or lower). `1e20` reads
            // the same and is named an integer too, which it is.
            Some(f) if f.fract() == 0.0 && (f >= 18_446_744_073_709_551_616.0 || f <= -9_223_372_036_854_775_808.0) => {
                CanonicalError::OutOfRange(n.to_string())
            }
            _ => CanonicalError::Float(n.to_string()),
        }
    }
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
                return Err(CanonicalError::number(n));
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

    #[test]
    fn negative_zero_and_integers_beyond_64_bits_are_refused_for_what_they_are() {
        let refuse = |text: &str| {
            let value: Value = serde_json::from_str(text).unwrap();
            to_canonical_bytes(&value).unwrap_err().to_string()
        };
        let zero = refuse(r#"{"custom": {"n": -0}}"#);
        assert!(zero.contains("negative zero") && !zero.contains("floating"), "{zero}");
        for big in [
            "18446744073709551616",
            "-9223372036854775809",
            "100000000000000000000000",
        ] {
            let err = refuse(&format!(r#"{{"custom": [{big}]}}"#));
            assert!(
                err.contains("outside that range") && !err.contains("floating"),
                "{big}: {err}"
            );
        }
        assert!(refuse(r#"{"n": 2.5}"#).contains("floating"));
        // The edges of the 64-bit range are integers.
        let edges: Value = serde_json::from_str("[18446744073709551615, -9223372036854775808]").unwrap();
        assert!(to_canonical_bytes(&edges).is_ok());
    }
}
