//! Time as data: lenient parsing of the `expires` forms real repositories use.

use chrono::{DateTime, SecondsFormat, Utc};

/// Parses an RFC 3339 time. Accepts what real roots contain: `Z` or a UTC offset, and
/// fractions of a second down to nanoseconds (Sigstore root v1:
/// `2021-12-18T13:28:12.99008-06:00`).
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// Formats a time the way trustroot writes it: whole seconds, `Z`.
pub fn format(time: &DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Serializes a time as [`format`] writes it: `#[serde(serialize_with = "trustroot_core::time::serialize")]`.
pub fn serialize<S: serde::Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(time))
}
