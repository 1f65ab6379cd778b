//! The linter for `trusted_root.json` and `signing_config` (reference section 6.5, as
//! amended by issue 3): every finding names its JSON path and says how to fix it.
//!
//! Errors are what would break or mislead clients; warnings are what real, published files
//! have and clients accept. Validation works on the JSON value, not on the typed model, so
//! that a file of the wrong shape still gets every finding rather than the first one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use trustroot_core::display::escape;

use super::TRUSTED_ROOT_MEDIA_TYPE_V02;
use super::json::JsonPath;
use super::time::{self, TimestampStyle};

mod authority;
mod log;
mod rules;
mod signing_config;
mod trusted_root;

pub use signing_config::{validate_signing_config, validate_signing_config_at};
pub use trusted_root::{validate_trusted_root, validate_trusted_root_at};

/// The time a payload is judged at, and the signing period of the role that carries it:
/// certificates and validity windows that are over at `at`, or end before `at + period`
/// (before the role is due to be signed again), are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsOf {
    pub at: DateTime<Utc>,
    pub period: chrono::Duration,
}

impl AsOf {
    /// The end of the signing period.
    fn horizon(&self) -> DateTime<Utc> {
        self.at.checked_add_signed(self.period).unwrap_or(self.at)
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Would break or mislead clients.
    Error,
    /// Found in real, published files that clients accept; worth a look.
    Warning,
}

/// One problem found in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable identifier for the rule, e.g. `bad-timestamp`, `log-id-mismatch`.
    pub code: &'static str,
    /// The JSON path, e.g. `$.tlogs[1].publicKey.validFor.end`.
    pub path: String,
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{sev}[{}] {}: {}\n  fix: {}",
            self.code,
            escape(&self.path.to_string()),
            self.message,
            self.fix
        )
    }
}

/// The linter's rules in the order they run: (id, the part of a document it applies to).
pub fn rule_table() -> Vec<(&'static str, &'static str)> {
    rules::RULES.iter().map(|r| (r.id, r.check.applies_to())).collect()
}

/// Whether `findings` contain an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

#[derive(Default)]
struct Ctx {
    findings: Vec<Finding>,
    /// Unknown fields are errors (a known media type), v0.2-only fields are warnings.
    v02: bool,
    /// The time to judge windows and certificates at, when one is given.
    as_of: Option<AsOf>,
}

impl Ctx {
    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        path: &JsonPath,
        message: String,
        fix: impl Into<String>,
    ) {
        self.findings.push(Finding {
            severity,
            code,
            path: path.to_string(),
            message,
            fix: fix.into(),
        });
    }
    fn err(&mut self, code: &'static str, path: &JsonPath, message: String, fix: impl Into<String>) {
        self.push(Severity::Error, code, path, message, fix);
    }
    fn warn(&mut self, code: &'static str, path: &JsonPath, message: String, fix: impl Into<String>) {
        self.push(Severity::Warning, code, path, message, fix);
    }

    /// Parses the document; reports `not-json` at the root when it is not JSON.
    fn parse(&mut self, bytes: &[u8]) -> Option<Value> {
        match serde_json::from_slice(bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                self.err(
                    "not-json",
                    &JsonPath::root(),
                    format!("not valid JSON: {e}"),
                    "fix the syntax at the line and column given",
                );
                None
            }
        }
    }

    fn object<'a>(&mut self, v: &'a Value, path: &JsonPath, what: &str) -> Option<&'a Map<String, Value>> {
        match v.as_object() {
            Some(o) => Some(o),
            None => {
                self.err(
                    "wrong-type",
                    path,
                    format!("{what} must be a JSON object, found {}", kind(v)),
                    format!("write {what} as an object"),
                );
                None
            }
        }
    }

    /// A string field; reports a missing one when `required` names the fix.
    fn string<'a>(
        &mut self,
        o: &'a Map<String, Value>,
        key: &str,
        path: &JsonPath,
        required: Option<&str>,
    ) -> Option<&'a str> {
        let p = path.key(key);
        match o.get(key) {
            None | Some(Value::Null) => {
                if let Some(fix) = required {
                    self.err("missing-field", &p, format!("`{key}` is missing"), fix.to_string());
                }
                None
            }
            Some(Value::String(s)) if s.is_empty() => {
                if let Some(fix) = required {
                    self.err("missing-field", &p, format!("`{key}` is empty"), fix.to_string());
                }
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                self.err(
                    "wrong-type",
                    &p,
                    format!("`{key}` must be a string, found {}", kind(other)),
                    "write it as a JSON string",
                );
                None
            }
        }
    }

    fn array<'a>(&mut self, o: &'a Map<String, Value>, key: &str, path: &JsonPath) -> Option<&'a Vec<Value>> {
        match o.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(a),
            Some(other) => {
                self.err(
                    "wrong-type",
                    &path.key(key),
                    format!("`{key}` must be a list, found {}", kind(other)),
                    "write it as a JSON list",
                );
                None
            }
        }
    }

    /// Flags fields outside `known`; `v02_only` fields are warnings under a v0.1 media type.
    fn fields(&mut self, o: &Map<String, Value>, path: &JsonPath, known: &[&str], v02_only: &[&str]) {
        for k in o.keys() {
            if known.contains(&k.as_str()) {
                continue;
            }
            let p = path.key(k);
            if v02_only.contains(&k.as_str()) {
                if !self.v02 {
                    self.warn(
                        "v02-field-under-v01",
                        &p,
                        format!("`{}` belongs to the v0.2 media type, but this file declares v0.1; clients accepted it when staging published it, but Go protojson parsers may reject it", escape(k)),
                        format!("remove `{}`, or publish it in a separate file under {TRUSTED_ROOT_MEDIA_TYPE_V02}", escape(k)),
                    );
                }
                continue;
            }
            self.err(
                "unknown-field",
                &p,
                format!(
                    "unknown field `{}`: clients that parse with Go protojson reject the whole file",
                    escape(k)
                ),
                format!("remove `{}` (known fields here: {})", escape(k), known.join(", ")),
            );
        }
    }

    /// Checks a timestamp string; returns the time when it parses.
    fn timestamp(&mut self, v: &Value, path: &JsonPath) -> Option<DateTime<Utc>> {
        let Some(s) = v.as_str() else {
            self.err(
                "wrong-type",
                path,
                format!("a timestamp must be a string, found {}", kind(v)),
                "write it as \"YYYY-MM-DDTHH:MM:SSZ\"",
            );
            return None;
        };
        match time::parse(s) {
            Ok((t, TimestampStyle::Canonical)) => Some(t),
            Ok((t, TimestampStyle::Offset)) => {
                self.warn(
                    "timestamp-offset",
                    path,
                    format!("`{}` has a UTC offset; protobuf writers use `Z`", escape(s)),
                    format!("write it as {}", time::format(&t)),
                );
                Some(t)
            }
            Ok((t, TimestampStyle::OddFraction)) => {
                self.warn(
                    "timestamp-fraction",
                    path,
                    format!(
                        "`{}` has a fraction of an unusual length; protobuf writers use 0, 3, 6 or 9 digits",
                        escape(s)
                    ),
                    format!("write it as {}", time::format(&t)),
                );
                Some(t)
            }
            Err(e) => {
                self.err(
                    "bad-timestamp",
                    path,
                    e.to_string(),
                    "write an RFC 3339 UTC time such as 2025-09-04T00:00:00Z (date, `T`, time, `Z`)",
                );
                None
            }
        }
    }

    /// Checks a `validFor` TimeRange; returns (start, end, end present).
    fn time_range(&mut self, parent: &Map<String, Value>, path: &JsonPath, what: &str) -> Window {
        let p = path.key("validFor");
        let mut w = Window::default();
        let Some(v) = parent.get("validFor") else {
            self.err(
                "missing-validity",
                &p,
                format!("`validFor` is missing: clients cannot tell when {what} is valid"),
                "add validFor with at least `start`",
            );
            return w;
        };
        let Some(o) = self.object(v, &p, "validFor") else {
            return w;
        };
        self.fields(o, &p, &["start", "end"], &[]);
        match o.get("start") {
            Some(s) => w.start = self.timestamp(s, &p.key("start")),
            None => self.err(
                "missing-start",
                &p.key("start"),
                format!("`validFor.start` is missing for {what}"),
                "add the time it started being used",
            ),
        }
        if let Some(e) = o.get("end") {
            w.has_end = true;
            w.end = self.timestamp(e, &p.key("end"));
        }
        if let (Some(s), Some(e)) = (w.start, w.end)
            && e < s
        {
            self.err(
                "end-before-start",
                &p.key("end"),
                format!(
                    "the window ends ({}) before it starts ({})",
                    time::format(&e),
                    time::format(&s)
                ),
                "fix whichever of the two is wrong",
            );
        }
        w
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Window {
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    has_end: bool,
}

impl Window {
    /// Whether the window holds `at`: started (or no start known) and not over.
    fn holds(&self, at: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| s <= at) && self.end.is_none_or(|e| e > at)
    }
}

impl Ctx {
    /// A window that ends inside the signing period (a warning: clients stop accepting the
    /// instance before the role is due to be signed again). A window over at the time is
    /// retired, which is not a finding on its own (see [`Ctx::no_current`]).
    fn window_as_of(&mut self, window: Window, path: &JsonPath, what: &str) {
        let (Some(as_of), Some(end)) = (self.as_of, window.end) else {
            return;
        };
        if end > as_of.at && end <= as_of.horizon() {
            self.warn(
                "window-ends-soon",
                &path.key("validFor").key("end"),
                format!(
                    "{what} stops being valid at {}, within the signing period (before {})",
                    time::format(&end),
                    time::format(&as_of.horizon())
                ),
                "add its successor before the role is signed, or sign the role again before then",
            );
        }
    }

    /// A list whose every window is over (or not started) at the time: clients have no
    /// instance to use (an error).
    fn no_current(&mut self, windows: &[Window], path: &JsonPath, what: &str) {
        let Some(as_of) = self.as_of else { return };
        if windows.is_empty() || windows.iter().any(|w| w.holds(as_of.at)) {
            return;
        }
        self.err(
            "no-current-instance",
            path,
            format!(
                "no {what} is valid at {}: every validity window is over or not started",
                time::format(&as_of.at)
            ),
            format!("add a {what} whose window holds that time"),
        );
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn norm_url(u: &str) -> String {
    u.trim_end_matches('/').to_ascii_lowercase()
}

struct InstanceFacts {
    path: JsonPath,
    url: Option<String>,
    identity: Option<String>,
    window: Window,
}
