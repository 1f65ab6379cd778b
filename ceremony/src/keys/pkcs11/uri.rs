//! `pkcs11:` URIs (RFC 7512): which token, which object, which module, where the PIN comes
//! from. A URI is a reference, never a secret: `pin-value` is refused.

use std::path::PathBuf;

use crate::error::{TokenError, UriProblem};

/// Where the PIN of a token comes from when the URI says (`pin-source=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinSource {
    /// `pin-source=file:PATH` (RFC 7512): the file's first line.
    File(PathBuf),
    /// `pin-source=env:VAR`: an environment variable (our extension).
    Env(String),
}

/// A parsed `pkcs11:` URI. Path attributes select the token and the object; query
/// attributes name the module and the PIN source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pkcs11Uri {
    /// The URI as written, for messages (it holds no secret).
    pub text: String,
    pub token: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub slot_id: Option<u64>,
    pub object: Option<String>,
    /// `id=`: the object's CKA_ID, bytes.
    pub id: Option<Vec<u8>>,
    /// `type=`: `private`, `public` or `cert`; only `private` (or none) signs.
    pub object_type: Option<String>,
    pub module_path: Option<PathBuf>,
    pub pin_source: Option<PinSource>,
}

impl Pkcs11Uri {
    /// Parses `pkcs11:path-attrs[?query-attrs]`.
    pub fn parse(text: &str) -> Result<Pkcs11Uri, TokenError> {
        let bad = |problem: UriProblem| TokenError::Uri {
            uri: redacted(text),
            problem,
        };
        let rest = text.strip_prefix("pkcs11:").ok_or_else(|| bad(UriProblem::NotPkcs11))?;
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        let mut uri = Pkcs11Uri {
            text: text.to_string(),
            ..Pkcs11Uri::default()
        };
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = split_attribute(attr).map_err(bad)?;
            uri.set_path_attribute(name, value).map_err(bad)?;
        }
        for attr in query.into_iter().flat_map(|q| q.split('&')).filter(|a| !a.is_empty()) {
            let (name, value) = split_attribute(attr).map_err(bad)?;
            uri.set_query_attribute(name, value).map_err(bad)?;
        }
        if uri.object.is_none() && uri.id.is_none() && uri.token.is_none() && uri.serial.is_none() {
            return Err(bad(UriProblem::NamesNothing));
        }
        Ok(uri)
    }

    fn set_path_attribute(&mut self, name: &str, value: Vec<u8>) -> Result<(), UriProblem> {
        let text = || {
            String::from_utf8(value.clone()).map_err(|_| UriProblem::NotUtf8 {
                attribute: name.to_string(),
            })
        };
        let slot = match name {
            "token" => &mut self.token,
            "manufacturer" => &mut self.manufacturer,
            "model" => &mut self.model,
            "serial" => &mut self.serial,
            "object" => &mut self.object,
            "type" => {
                let kind = text()?;
                if !matches!(kind.as_str(), "private" | "public" | "cert" | "secret-key" | "data") {
                    return Err(UriProblem::BadValue {
                        attribute: name.to_string(),
                        value: kind,
                    });
                }
                return set_once(name, &mut self.object_type, kind);
            }
            "id" => return set_once(name, &mut self.id, value),
            "slot-id" => {
                let number = text()?;
                let id = number.parse::<u64>().map_err(|_| UriProblem::BadValue {
                    attribute: name.to_string(),
                    value: number,
                })?;
                return set_once(name, &mut self.slot_id, id);
            }
            // Library and slot descriptions select among several modules; one module is
            // loaded here, so they narrow nothing.
            "library-manufacturer"
            | "library-description"
            | "library-version"
            | "slot-description"
            | "slot-manufacturer" => return Ok(()),
            other if other.starts_with("x-") => return Ok(()),
            other => {
                return Err(UriProblem::UnknownAttribute {
                    attribute: other.to_string(),
                });
            }
        };
        let value = text()?;
        set_once(name, slot, value)
    }

    fn set_query_attribute(&mut self, name: &str, value: Vec<u8>) -> Result<(), UriProblem> {
        let text = String::from_utf8(value).map_err(|_| UriProblem::NotUtf8 {
            attribute: name.to_string(),
        })?;
        match name {
            "module-path" => set_once(name, &mut self.module_path, PathBuf::from(text)),
            "pin-source" => {
                let source = if let Some(path) = text.strip_prefix("file:") {
                    // RFC 7512 allows a file URI; `file:///p` and `file:/p` both name /p.
                    let path = path.strip_prefix("//").unwrap_or(path);
                    PinSource::File(PathBuf::from(path))
                } else if let Some(var) = text.strip_prefix("env:") {
                    PinSource::Env(var.to_string())
                } else if text.starts_with('/') {
                    PinSource::File(PathBuf::from(text))
                } else {
                    return Err(UriProblem::BadValue {
                        attribute: name.to_string(),
                        value: text,
                    });
                };
                set_once(name, &mut self.pin_source, source)
            }
            "pin-value" => Err(UriProblem::PinInUri),
            "module-name" => Err(UriProblem::ModuleName),
            other if other.starts_with("x-") => Ok(()),
            other => Err(UriProblem::UnknownAttribute {
                attribute: other.to_string(),
            }),
        }
    }

    /// The URI of one object on a token: what `key list` and `key generate` print.
    pub fn for_object(token: &str, label: Option<&str>, id: Option<&[u8]>, kind: &str) -> String {
        let mut text = format!("pkcs11:token={}", encode(token.as_bytes()));
        if let Some(label) = label {
            text.push_str(&format!(";object={}", encode(label.as_bytes())));
        }
        if let Some(id) = id {
            text.push_str(";id=");
            for byte in id {
                text.push_str(&format!("%{byte:02x}"));
            }
        }
        text.push_str(&format!(";type={kind}"));
        text
    }
}

/// `?module-path=PATH`, the path percent-encoded (RFC 7512: a path with a space, `&` or `;`
/// would otherwise print as a URI that does not parse back to the same module). `/` stays.
pub fn module_query(module: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt as _;
    let encoded: Vec<String> = module
        .as_os_str()
        .as_bytes()
        .split(|&b| b == b'/')
        .map(encode)
        .collect();
    format!("?module-path={}", encoded.join("/"))
}

/// The URI with the value of any `pin-value` hidden: a PIN written into a reference is
/// refused, and must not be repeated in the error that refuses it.
fn redacted(text: &str) -> String {
    let Some((path, query)) = text.split_once('?') else {
        return text.to_string();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|attr| match attr.split_once('=') {
            Some(("pin-value", _)) => "pin-value=(hidden)".to_string(),
            _ => attr.to_string(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

fn set_once<T>(name: &str, slot: &mut Option<T>, value: T) -> Result<(), UriProblem> {
    if slot.is_some() {
        return Err(UriProblem::Repeated {
            attribute: name.to_string(),
        });
    }
    *slot = Some(value);
    Ok(())
}

/// `name=value`, the value percent-decoded to bytes.
fn split_attribute(attr: &str) -> Result<(&str, Vec<u8>), UriProblem> {
    let (name, value) = attr.split_once('=').ok_or_else(|| UriProblem::NoValue {
        attribute: attr.to_string(),
    })?;
    Ok((name, decode(name, value)?))
}

fn decode(name: &str, value: &str) -> Result<Vec<u8>, UriProblem> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| UriProblem::BadEscape {
                    attribute: name.to_string(),
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn module_paths_print_percent_encoded_and_parse_back() {
        let module = std::path::Path::new("/opt/My HSM/lib&1;x.so");
        let text = format!("pkcs11:token=t{}", module_query(module));
        assert_eq!(text, "pkcs11:token=t?module-path=/opt/My%20HSM/lib%261%3Bx.so");
        let uri = Pkcs11Uri::parse(&text).unwrap();
        assert_eq!(uri.module_path.as_deref(), Some(module));
    }

    #[test]
    fn parses_token_object_id_module_and_pin_source() {
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=My%20Token;object=root%2Dkey;id=%01%ab;type=private?module-path=/usr/lib/m.so&pin-source=file:/run/pin",
        )
        .unwrap();
        assert_eq!(uri.token.as_deref(), Some("My Token"));
        assert_eq!(uri.object.as_deref(), Some("root-key"));
        assert_eq!(uri.id.as_deref(), Some(&[1u8, 0xab][..]));
        assert_eq!(uri.object_type.as_deref(), Some("private"));
        assert_eq!(uri.module_path, Some(PathBuf::from("/usr/lib/m.so")));
        assert_eq!(uri.pin_source, Some(PinSource::File("/run/pin".into())));
        let env = Pkcs11Uri::parse("pkcs11:object=k?pin-source=env:PIN").unwrap();
        assert_eq!(env.pin_source, Some(PinSource::Env("PIN".into())));
    }

    #[test]
    fn a_pin_written_into_the_reference_is_refused() {
        let err = Pkcs11Uri::parse("pkcs11:object=k?pin-value=1234").unwrap_err();
        assert!(err.to_string().contains("pin-source"), "{err}");
        assert!(!err.to_string().contains("1234"), "the PIN must not be echoed: {err}");
    }

    #[test]
    fn refuses_repeated_unknown_and_badly_escaped_attributes() {
        for bad in [
            "pkcs11:object=a;object=b",
            "pkcs11:objekt=a",
            "pkcs11:object=%zz",
            "pkcs11:object=%4",
            "pkcs11:object",
            "pkcs11:",
            "pkcs11:object=k?module-name=softhsm2",
            "pkcs11:slot-id=x;object=k",
            "pkcs11:object=k;type=wrong",
        ] {
            assert!(Pkcs11Uri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_object_uri_round_trips() {
        let text = Pkcs11Uri::for_object("tok en", Some("a;b"), Some(&[0, 255]), "private");
        let uri = Pkcs11Uri::parse(&text).unwrap();
        assert_eq!(uri.token.as_deref(), Some("tok en"));
        assert_eq!(uri.object.as_deref(), Some("a;b"));
        assert_eq!(uri.id.as_deref(), Some(&[0u8, 255][..]));
    }
}
