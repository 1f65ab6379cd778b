//! What the publish gate and the candidate builder report: one finding per problem, naming
//! the check, the role and the file.

use serde::Serialize;

/// Which part of the gate found a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// Thresholds and the round's own consistency.
    Signatures,
    /// Our client (trustroot-core's state machine).
    Core,
    /// tough, the independent client.
    Tough,
    /// Sigstore payload validation.
    Payload,
    /// Key IDs, spec_version, expiry horizons, targets on disk.
    Lint,
}

impl Check {
    fn name(self) -> &'static str {
        match self {
            Check::Signatures => "signatures",
            Check::Core => "core client",
            Check::Tough => "tough",
            Check::Payload => "payload",
            Check::Lint => "lint",
        }
    }
}

/// How serious a finding is: errors refuse a publish, warnings are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem the gate found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: Check,
    pub severity: Severity,
    pub role: String,
    pub file: String,
    pub message: String,
}

impl Finding {
    pub fn error(check: Check, role: &str, file: &str, message: impl Into<String>) -> Finding {
        Finding {
            check,
            severity: Severity::Error,
            role: role.to_string(),
            file: file.to_string(),
            message: message.into(),
        }
    }

    pub fn warning(check: Check, role: &str, file: &str, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(check, role, file, message)
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{severity} [{}] {} ({}): {}",
            self.check.name(),
            self.role,
            self.file,
            self.message
        )
    }
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}
