//! Reading and writing payload documents.
//!
//! Files are written as 2-space-indented JSON, fields in the order of the protobuf
//! definitions, the way every real Sigstore file is written, so that reading and writing a
//! file without an edit keeps its bytes (the trailing newline, present or not, is kept).

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::PayloadError;

/// A parsed document with the formatting facts needed to write it back unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct Document<T> {
    pub value: T,
    /// Whether the file ended with a newline.
    pub trailing_newline: bool,
}

impl<T: DeserializeOwned> Document<T> {
    /// Parses `bytes`; the error names the JSON path where parsing failed.
    pub fn parse(bytes: &[u8]) -> Result<Self, PayloadError> {
        let value = parse_typed(bytes)?;
        Ok(Document {
            value,
            trailing_newline: bytes.ends_with(b"\n"),
        })
    }
}

impl<T: Serialize> Document<T> {
    /// A new document, written with a trailing newline.
    pub fn new(value: T) -> Self {
        Document {
            value,
            trailing_newline: true,
        }
    }

    /// The bytes to write.
    pub fn to_bytes(&self) -> Result<Vec<u8>, PayloadError> {
        to_pretty(&self.value, self.trailing_newline)
    }
}

/// Parses `bytes` into `T`, naming the JSON path of the first problem.
pub fn parse_typed<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, PayloadError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    match result {
        Ok(v) => {
            de.end().map_err(|e| PayloadError::Parse {
                path: "$".into(),
                message: format!("trailing data after the JSON document: {e}"),
            })?;
            Ok(v)
        }
        Err(e) => {
            let path = display_path(&e.path().to_string());
            Err(PayloadError::Parse {
                path,
                message: e.into_inner().to_string(),
            })
        }
    }
}

/// Parses `bytes` as an untyped JSON value.
pub fn parse_value(bytes: &[u8]) -> Result<serde_json::Value, PayloadError> {
    serde_json::from_slice(bytes).map_err(|e| PayloadError::Parse {
        path: "$".into(),
        message: format!("not valid JSON: {e}"),
    })
}

/// Serialises `value` as 2-space-indented JSON.
pub fn to_pretty<T: Serialize + ?Sized>(value: &T, trailing_newline: bool) -> Result<Vec<u8>, PayloadError> {
    let mut out = serde_json::to_vec_pretty(value).map_err(|e| PayloadError::Parse {
        path: "$".into(),
        message: format!("cannot serialise: {e}"),
    })?;
    if trailing_newline {
        out.push(b'\n');
    }
    Ok(out)
}

fn display_path(p: &str) -> String {
    if p == "." || p.is_empty() {
        "$".into()
    } else {
        format!("$.{p}")
    }
}

/// Builds JSON paths such as `$.tlogs[0].publicKey.validFor.end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(String);

impl JsonPath {
    pub fn root() -> Self {
        JsonPath("$".into())
    }
    pub fn key(&self, k: &str) -> Self {
        JsonPath(format!("{}.{k}", self.0))
    }
    pub fn index(&self, i: usize) -> Self {
        JsonPath(format!("{}[{i}]", self.0))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
