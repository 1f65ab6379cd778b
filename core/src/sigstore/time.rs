//! proto3-JSON timestamps: RFC 3339 with a `T`, a `Z` (or an offset), and 0-9 fraction digits.

use crate::display::escape;
use chrono::{DateTime, SecondsFormat, Utc};

/// How a timestamp string deviates from the form clients write, when it still parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampStyle {
    /// `Z`, with 0, 3, 6 or 9 fraction digits: what protobuf writers produce.
    Canonical,
    /// A numeric UTC offset instead of `Z` (accepted by proto3 JSON parsers).
    Offset,
    /// A fraction with a digit count other than 0, 3, 6 or 9.
    OddFraction,
}

/// What is wrong with a timestamp string. The string comes from a document or the command
/// line, so it is escaped when shown; `reason` is chrono's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    #[error(
        "`{}` is not an RFC 3339 timestamp of the form YYYY-MM-DDTHH:MM:SS[.fraction]Z",
        escape(value)
    )]
    Shape { value: String },
    #[error("`{}` has a fraction of {digits} digits; proto3 JSON allows 1 to 9", escape(value))]
    FractionDigits { value: String, digits: usize },
    #[error("`{}` does not end in `Z` or a `+HH:MM` offset after the seconds", escape(value))]
    Zone { value: String },
    #[error("`{}` is not a valid date and time: {reason}", escape(value))]
    Invalid { value: String, reason: String },
}

/// Parses a proto3-JSON timestamp strictly. The error says what is wrong with the string.
pub fn parse(s: &str) -> Result<(DateTime<Utc>, TimestampStyle), TimeError> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    let shape_ok = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape_ok {
        return Err(TimeError::Shape { value: s.to_string() });
    }
    let mut i = 19;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
            frac_digits += 1;
        }
        if frac_digits == 0 || frac_digits > 9 {
            return Err(TimeError::FractionDigits {
                value: s.to_string(),
                digits: frac_digits,
            });
        }
    }
    let zone = &s[i..];
    let offset = if zone == "Z" {
        false
    } else if zone.len() == 6
        && (zone.starts_with('+') || zone.starts_with('-'))
        && zone.as_bytes()[3] == b':'
        && zone.as_bytes()[1..3].iter().all(u8::is_ascii_digit)
        && zone.as_bytes()[4..6].iter().all(u8::is_ascii_digit)
    {
        true
    } else {
        return Err(TimeError::Zone { value: s.to_string() });
    };
    let dt = DateTime::parse_from_rfc3339(s)
        .map_err(|e| TimeError::Invalid {
            value: s.to_string(),
            reason: e.to_string(),
        })?
        .with_timezone(&Utc);
    let style = if offset {
        TimestampStyle::Offset
    } else if ![0, 3, 6, 9].contains(&frac_digits) {
        TimestampStyle::OddFraction
    } else {
        TimestampStyle::Canonical
    };
    Ok((dt, style))
}

/// Parses a timestamp given on the command line (same rules as in files).
pub fn parse_input(s: &str) -> Result<DateTime<Utc>, TimeError> {
    parse(s).map(|(t, _)| t)
}

/// Formats a time the way current Sigstore files do: `Z`, and a fraction only when needed.
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn accepts_real_forms_and_rejects_the_staging_typo() {
        for s in [
            "2021-01-12T11:53:27Z",
            "2021-01-12T11:53:27.000Z",
            "2022-12-31T23:59:59.999Z",
        ] {
            assert_eq!(parse(s).unwrap().1, TimestampStyle::Canonical, "{s}");
        }
        let e = parse("2025-09-04:00:00Z").unwrap_err().to_string();
        assert!(e.contains("2025-09-04:00:00Z"), "{e}");
        assert!(parse("2025-09-04 00:00:00Z").is_err());
        assert!(parse("2025-02-30T00:00:00Z").is_err());
        assert!(parse("2025-09-04T00:00:00").is_err());
        assert_eq!(
            parse("2021-12-18T13:28:12.99008-06:00").unwrap().1,
            TimestampStyle::Offset
        );
        assert_eq!(parse("2021-12-18T13:28:12.9Z").unwrap().1, TimestampStyle::OddFraction);
        assert!(parse("2021-12-18T13:28:12.Z").is_err());
        assert!(parse("").is_err());
        assert!(parse("2021-12-18T13:28:12Zé").is_err());
    }

    #[test]
    fn formats_like_current_files() {
        let t = parse_input("2022-12-31T23:59:59.999Z").unwrap();
        assert_eq!(format(&t), "2022-12-31T23:59:59.999Z");
        let t = parse_input("2021-01-12T11:53:27.000Z").unwrap();
        assert_eq!(format(&t), "2021-01-12T11:53:27Z");
    }
}
