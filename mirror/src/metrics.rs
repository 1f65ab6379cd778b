//! Metrics in the Prometheus text exposition format (version 0.0.4), for
//! `trustroot expiry --format prometheus` (node_exporter's textfile collector) and
//! `mirror serve --metrics`: the format, the role expiry gauges both report, and the
//! mirror's own metrics.
//!
//! The format is a few lines of text, so it is written here rather than pulled in with a
//! metrics crate. Every label value is untrusted text (role names come from a
//! repository's delegations, repository names from the command line or a recorded origin)
//! and is escaped as the format requires: a backslash, a double quote or a newline in a
//! value can then never end the value, the sample or the line.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use trustroot_core::expiry::default_signing_days;

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a metric measures over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value that goes up and down (a time, a version).
    Gauge,
    /// A count that only grows, restarting from 0 only when its process or record does.
    Counter,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        }
    }
}

/// One metric: its name, help and type, and its samples, one per label set.
#[derive(Debug, Clone)]
pub struct Family {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    samples: Vec<(Vec<(&'static str, String)>, i128)>,
}

impl Family {
    /// A metric with no samples yet. `name` and `help` are ours, never input.
    pub fn new(name: &'static str, kind: Kind, help: &'static str) -> Self {
        Family {
            name,
            help,
            kind,
            samples: Vec::new(),
        }
    }

    /// Adds a sample. Values are whole numbers: Unix seconds, versions, counts. A label
    /// set already present is not added again: two samples of one series in one
    /// exposition would make the scrape fail.
    pub fn sample(&mut self, labels: &[(&'static str, &str)], value: i128) -> &mut Self {
        let labels: Vec<(&'static str, String)> = labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect();
        if !self.samples.iter().any(|(existing, _)| *existing == labels) {
            self.samples.push((labels, value));
        }
        self
    }

    /// The family in the text format: `# HELP`, `# TYPE`, then one line per sample.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, escape_help(self.help));
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind.as_str());
        for (labels, value) in &self.samples {
            out.push_str(self.name);
            if !labels.is_empty() {
                out.push('{');
                for (i, (name, value)) in labels.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{name}=\"{}\"", escape_label_value(value));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {value}");
        }
    }
}

/// Adds each family of `more` to `families`: its samples go to the family of the same
/// name already there (a metric has one `# HELP` and `# TYPE`, whatever its label sets), or
/// it is appended. Several repositories' families are gathered so.
pub fn merge(families: &mut Vec<Family>, more: Vec<Family>) {
    for family in more {
        match families.iter_mut().find(|existing| existing.name == family.name) {
            Some(existing) => {
                for (labels, value) in family.samples {
                    if !existing.samples.iter().any(|(present, _)| *present == labels) {
                        existing.samples.push((labels, value));
                    }
                }
            }
            None => families.push(family),
        }
    }
}

/// Families in the text format, one after the other.
pub fn render(families: &[Family]) -> String {
    let mut out = String::new();
    for family in families {
        family.render(&mut out);
    }
    out
}

/// A label value as the format requires it: `\` as `\\`, `"` as `\"`, a newline as `\n`.
/// Everything else is valid UTF-8 and stands as it is.
pub fn escape_label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Help text as the format requires it: `\` as `\\`, a newline as `\n`.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// One role's times, as the expiry gauges report them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleTimes {
    pub role: String,
    pub version: u64,
    pub expires: DateTime<Utc>,
    /// The role's signing period, in days: the policy's, else what its metadata declares,
    /// else the default (1 day for timestamp and snapshot, 30 for the others).
    pub signing_days: Option<u32>,
}

impl RoleTimes {
    /// When the role enters its signing period: its expiry less the signing period.
    pub fn signing_period_start(&self) -> DateTime<Utc> {
        let days = self.signing_days.unwrap_or_else(|| default_signing_days(&self.role));
        self.expires - Duration::days(i64::from(days))
    }
}

/// The role gauges of one repository: expiry, signing period start and version, labelled
/// `repository` and `role`.
pub fn role_families(repository: &str, roles: &[RoleTimes]) -> Vec<Family> {
    let mut expiry = Family::new(
        "trustroot_role_expiry_timestamp_seconds",
        Kind::Gauge,
        "When the role's current metadata expires (Unix time); clients refuse the repository after it.",
    );
    let mut start = Family::new(
        "trustroot_role_signing_period_start_timestamp_seconds",
        Kind::Gauge,
        "When the role enters its signing period (Unix time): its expiry less the signing period; it is due to be re-signed from then on.",
    );
    let mut version = Family::new(
        "trustroot_role_version",
        Kind::Gauge,
        "The version of the role's current metadata.",
    );
    for role in roles {
        let labels = [("repository", repository), ("role", role.role.as_str())];
        expiry.sample(&labels, i128::from(role.expires.timestamp()));
        start.sample(&labels, i128::from(role.signing_period_start().timestamp()));
        version.sample(&labels, i128::from(role.version));
    }
    vec![expiry, start, version]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        trustroot_core::time::parse(text).unwrap()
    }

    #[test]
    fn role_gauges_are_unix_seconds_with_help_and_type() {
        let roles = [
            RoleTimes {
                role: "timestamp".into(),
                version: 762,
                expires: at("2026-08-28T19:25:56Z"),
                signing_days: None,
            },
            RoleTimes {
                role: "root".into(),
                version: 15,
                expires: at("2027-01-01T00:00:00Z"),
                signing_days: Some(60),
            },
        ];
        let text = render(&role_families("sigstore-prod", &roles));
        assert!(
            text.contains("# TYPE trustroot_role_expiry_timestamp_seconds gauge\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "trustroot_role_expiry_timestamp_seconds{repository=\"sigstore-prod\",role=\"timestamp\"} 1787945156\n"
            ),
            "{text}"
        );
        // One day before expiry for timestamp, the policy's 60 days for root.
        assert!(text.contains(
            "trustroot_role_signing_period_start_timestamp_seconds{repository=\"sigstore-prod\",role=\"timestamp\"} 1787858756\n"
        ));
        assert!(text.contains(
            "trustroot_role_signing_period_start_timestamp_seconds{repository=\"sigstore-prod\",role=\"root\"} 1793577600\n"
        ));
        assert!(text.contains("trustroot_role_version{repository=\"sigstore-prod\",role=\"root\"} 15\n"));
    }

    #[test]
    fn a_role_name_built_to_inject_a_sample_stays_one_label_value() {
        // A delegated role named to end the label value, close the sample and start a
        // forged one on a new line; and a repository name ending in a backslash, which
        // would otherwise escape the closing quote.
        let hostile = "x\"} 0\ntrustroot_role_expiry_timestamp_seconds{role=\"root\"} 9999999999\n#\\";
        let roles = [RoleTimes {
            role: hostile.into(),
            version: 1,
            expires: at("2026-08-28T19:25:56Z"),
            signing_days: None,
        }];
        let text = render(&role_families("C:\\repo\\", &roles));
        let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(samples.len(), 3, "{text}");
        assert_eq!(
            samples[0],
            "trustroot_role_expiry_timestamp_seconds{repository=\"C:\\\\repo\\\\\",role=\"x\\\"} 0\\ntrustroot_role_expiry_timestamp_seconds{role=\\\"root\\\"} 9999999999\\n#\\\\\"} 1787945156"
        );
        assert!(!text.contains("9999999999\n"), "{text}");
    }

    #[test]
    fn a_label_set_is_reported_once() {
        let mut family = Family::new("m", Kind::Gauge, "h");
        family.sample(&[("role", "root")], 1).sample(&[("role", "root")], 2);
        assert_eq!(render(&[family]), "# HELP m h\n# TYPE m gauge\nm{role=\"root\"} 1\n");
    }

    #[test]
    fn families_of_several_repositories_merge_under_one_help_and_type() {
        let roles = |version| {
            [RoleTimes {
                role: "root".into(),
                version,
                expires: at("2027-01-01T00:00:00Z"),
                signing_days: None,
            }]
        };
        let mut families = role_families("production", &roles(15));
        merge(&mut families, role_families("staging", &roles(12)));
        let text = render(&families);
        assert_eq!(
            text.matches("# TYPE trustroot_role_version gauge\n").count(),
            1,
            "{text}"
        );
        assert!(text.contains("trustroot_role_version{repository=\"production\",role=\"root\"} 15\n"));
        assert!(text.contains("trustroot_role_version{repository=\"staging\",role=\"root\"} 12\n"));
    }

    #[test]
    fn help_text_is_escaped() {
        assert_eq!(escape_help("a\\b\nc"), "a\\\\b\\nc");
    }
}
