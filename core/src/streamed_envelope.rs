//! Reading a metadata document in one pass without a `Value` of its `signed` part.
//!
//! A `Value` costs about 13 times the text it was read from: for a targets role of 100,000
//! entries that is more memory than everything else a client holds. So the canonical bytes
//! the signatures cover are written while `signed` is read, and the typed role is read
//! later from the same bytes (see [`crate::Role::from_document`]).
//!
//! What this reads must equal, byte for byte and error for error, what
//! [`crate::strict_json`] then [`crate::canonical::to_canonical_bytes`] give: it is one
//! parse by the same parser with the same visits, duplicate keys are refused at the same
//! point with the same message, and a number with no canonical form is reported as the
//! first one in canonical order (the order `to_canonical_bytes` walks), not as read.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Write as _;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::canonical::{CanonicalError, write_string};
use crate::strict_json::{StrictValue, duplicate_key};

/// A metadata document as read by [`read_document`].
pub(crate) enum Document {
    /// The document is JSON, but not an object.
    NotAnObject,
    Object {
        signed: Option<SignedPart>,
        signatures: Option<Value>,
    },
}

/// The `signed` member: what it is, its canonical form, and what errors name it by.
pub(crate) struct SignedPart {
    pub is_object: bool,
    /// The canonical bytes, or why there are none.
    pub canonical: Result<Vec<u8>, CanonicalError>,
    /// `_type`, if a string.
    pub role_type: Option<String>,
    /// `version`, if an unsigned integer.
    pub version: Option<u64>,
}

/// Reads `bytes` as one JSON document, refusing an object that repeats a key at any depth;
/// `signed` is kept only as its canonical bytes and outline, other members as values.
pub(crate) fn read_document(bytes: &[u8]) -> serde_json::Result<Document> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let document = deserializer.deserialize_any(DocumentVisitor { capacity: bytes.len() })?;
    deserializer.end()?;
    Ok(document)
}

struct DocumentVisitor {
    /// Room for the canonical bytes of `signed`, which are never longer than its text
    /// (every escape and number is written at most as long as it was read; only a
    /// refused document's marks may run over, and the room is only a first allocation).
    capacity: usize,
}

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Document, A::Error> {
        let mut keys: BTreeSet<String> = BTreeSet::new();
        let mut signed = None;
        let mut signatures = None;
        while let Some(key) = access.next_key::<String>()? {
            if keys.contains(&key) {
                return Err(duplicate_key(&key));
            }
            match key.as_str() {
                "signed" => {
                    signed = Some(access.next_value_seed(SignedSeed {
                        capacity: self.capacity,
                    })?)
                }
                "signatures" => signatures = Some(access.next_value::<StrictValue>()?.0),
                // Read (so it is held to the same rules) and dropped, as before.
                _ => drop(access.next_value::<StrictValue>()?),
            }
            keys.insert(key);
        }
        Ok(Document::Object { signed, signatures })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Document, A::Error> {
        // Still read in full: a repeated key inside is refused before "not an object".
        while seq.next_element::<StrictValue>()?.is_some() {}
        Ok(Document::NotAnObject)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Document, E> {
        Ok(Document::NotAnObject)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Document, E> {
        Ok(Document::NotAnObject)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Document, E> {
        Ok(Document::NotAnObject)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Document, E> {
        Ok(Document::NotAnObject)
    }

    fn visit_str<E>(self, _: &str) -> Result<Document, E> {
        Ok(Document::NotAnObject)
    }

    fn visit_unit<E>(self) -> Result<Document, E> {
        Ok(Document::NotAnObject)
    }
}

/// Reads the `signed` member into a [`SignedPart`].
struct SignedSeed {
    capacity: usize,
}

impl<'de> DeserializeSeed<'de> for SignedSeed {
    type Value = SignedPart;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<SignedPart, D::Error> {
        let mut out = Vec::with_capacity(self.capacity);
        let mut refusals = Vec::new();
        let mut outline = Outline::default();
        deserializer.deserialize_any(Canonical {
            out: &mut out,
            refusals: &mut refusals,
            outline: Some(&mut outline),
            capture: Capture::Nothing,
        })?;
        let canonical = match first_refusal(&out, refusals) {
            Some(refusal) => Err(refusal),
            None => Ok(out),
        };
        Ok(SignedPart {
            is_object: outline.is_object,
            canonical,
            role_type: outline.role_type,
            version: outline.version,
        })
    }
}

/// What `signed` itself is, read as its members go by.
#[derive(Default)]
struct Outline {
    is_object: bool,
    role_type: Option<String>,
    version: Option<u64>,
}

/// Where a scalar member of `signed` is kept besides its canonical form.
enum Capture<'s> {
    Nothing,
    RoleType(&'s mut Option<String>),
    Version(&'s mut Option<u64>),
}

/// The byte that stands, in the canonical bytes being written, for a number with no
/// canonical form: followed by its index in `refusals`. It cannot occur outside a string
/// in canonical JSON, so the first one found outside strings is the number
/// `to_canonical_bytes` would have refused first.
const REFUSAL_MARK: u8 = b'!';

/// Writes the canonical form of one value to `out`.
struct Canonical<'s> {
    out: &'s mut Vec<u8>,
    /// The numbers with no canonical form, as read (only the first in canonical order is
    /// reported; each is 8 bytes here, its error is made only for that one).
    refusals: &'s mut Vec<f64>,
    /// Set only for `signed` itself: its own members fill it.
    outline: Option<&'s mut Outline>,
    capture: Capture<'s>,
}

impl Canonical<'_> {
    /// The writer for a nested value, captured nowhere.
    fn nested(&mut self) -> Canonical<'_> {
        Canonical {
            out: &mut *self.out,
            refusals: &mut *self.refusals,
            outline: None,
            capture: Capture::Nothing,
        }
    }

    fn refuse(self, number: f64) {
        let index = self.refusals.len();
        self.refusals.push(number);
        self.out.push(REFUSAL_MARK);
        // Writing to a Vec cannot fail.
        let _ = write!(self.out, "{index}");
    }
}

impl<'de> DeserializeSeed<'de> for Canonical<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Canonical<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.out.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        if let (Capture::Version(slot), Ok(v)) = (self.capture, u64::try_from(v)) {
            *slot = Some(v);
        }
        let _ = write!(self.out, "{v}");
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        if let Capture::Version(slot) = self.capture {
            *slot = Some(v);
        }
        let _ = write!(self.out, "{v}");
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        // As strict_json reads it: a number that is not finite would be null (serde_json
        // reads none such).
        if v.is_finite() {
            self.refuse(v);
        } else {
            self.out.extend_from_slice(b"null");
        }
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        if let Capture::RoleType(slot) = self.capture {
            *slot = Some(v.to_owned());
        }
        write_string(v, self.out);
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.out.push(b'[');
        let mut first = true;
        loop {
            let comma_at = self.out.len();
            if !first {
                self.out.push(b',');
            }
            if seq.next_element_seed(self.nested())?.is_none() {
                self.out.truncate(comma_at);
                break;
            }
            first = false;
        }
        self.out.push(b']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut access: A) -> Result<(), A::Error> {
        if let Some(outline) = self.outline.as_deref_mut() {
            outline.is_object = true;
        }
        let start = self.out.len();
        self.out.push(b'{');
        // Each member's key (unescaped, as keys are compared) and where its `"key":value`
        // was written. Members are written as read; only an object read out of order is
        // rewritten, one object at a time.
        let mut members: BTreeMap<Cow<'de, str>, (usize, usize)> = BTreeMap::new();
        let mut in_order = true;
        while let Some(key) = access.next_key_seed(KeySeed)? {
            if members.contains_key(&key) {
                return Err(duplicate_key(&key));
            }
            if let Some((last, _)) = members.last_key_value() {
                in_order &= last.as_bytes() < key.as_bytes();
                self.out.push(b',');
            }
            let member_start = self.out.len();
            write_string(&key, self.out);
            self.out.push(b':');
            let capture = match (self.outline.as_deref_mut(), key.as_ref()) {
                (Some(outline), "_type") => Capture::RoleType(&mut outline.role_type),
                (Some(outline), "version") => Capture::Version(&mut outline.version),
                _ => Capture::Nothing,
            };
            access.next_value_seed(Canonical {
                out: &mut *self.out,
                refusals: &mut *self.refusals,
                outline: None,
                capture,
            })?;
            members.insert(key, (member_start, self.out.len()));
        }
        if !in_order {
            // Sorted by the keys' UTF-8 bytes, which is how `str` orders.
            let mut sorted = Vec::with_capacity(self.out.len() - start);
            for (i, (from, to)) in members.values().enumerate() {
                if i > 0 {
                    sorted.push(b',');
                }
                sorted.extend_from_slice(&self.out[*from..*to]);
            }
            self.out.truncate(start + 1);
            self.out.extend_from_slice(&sorted);
        }
        self.out.push(b'}');
        Ok(())
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

/// The refusal `to_canonical_bytes` would have returned: the one whose mark comes first in
/// `canonical` outside strings (canonical strings escape only `"` and `\`).
fn first_refusal(canonical: &[u8], refusals: Vec<f64>) -> Option<CanonicalError> {
    let refusal = |number: f64| serde_json::Number::from_f64(number).map(|n| CanonicalError::number(&n));
    if refusals.is_empty() {
        return None;
    }
    let mut in_string = false;
    let mut bytes = canonical.iter().enumerate();
    while let Some((at, &byte)) = bytes.next() {
        match (in_string, byte) {
            (true, b'\\') => {
                bytes.next();
            }
            (_, b'"') => in_string = !in_string,
            (false, REFUSAL_MARK) => {
                let digits = canonical[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                let index = std::str::from_utf8(&canonical[at + 1..at + 1 + digits])
                    .ok()
                    .and_then(|text| text.parse::<usize>().ok());
                if let Some(&number) = index.and_then(|i| refusals.get(i)) {
                    return refusal(number);
                }
            }
            _ => {}
        }
    }
    // Unreachable (every refusal left its mark); the first read is still a refusal.
    refusals.first().copied().and_then(refusal)
}
