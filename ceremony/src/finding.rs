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

/// The findings the gate names, which an operator can accept in the policy
/// (`[gate] accept`): each is a way a repository that trustroot's own client, python-tuf
/// and tuf-js accept is still refused by some client, or breaks a rule trustroot keeps for
/// what it writes. Each name is documented in docs/policy.md.
pub mod named {
    /// A key ID that is not the sha256 of the key (tough and sigstore-rs refuse the file).
    pub const KEY_ID_NOT_HASH: &str = "key-id-not-hash";
    /// A key whose type or scheme tough 0.24 cannot read (it refuses the whole file).
    pub const TOUGH_KEY_TYPE: &str = "tough-key-type";
    /// Fields inside `delegations` or a delegation entry that tough drops, so that the
    /// signature over the file no longer verifies for it.
    pub const TOUGH_DELEGATION_FIELDS: &str = "tough-delegation-fields";
    /// tough cannot start from an old root published before trustroot took the repository
    /// over (`[import] root_version`).
    pub const TOUGH_ROOT_HISTORY: &str = "tough-root-history";
    /// The name the P-384 case had before `tough-key-type`: accepted for it.
    pub const TOUGH_SKIPPED_P384: &str = "tough-skipped-p384";

    /// Every name `[gate] accept` may list.
    pub const ACCEPTABLE: [&str; 5] = [
        KEY_ID_NOT_HASH,
        TOUGH_KEY_TYPE,
        TOUGH_DELEGATION_FIELDS,
        TOUGH_ROOT_HISTORY,
        TOUGH_SKIPPED_P384,
    ];

    /// The finding an accepted name stands for (an old alias names its new finding).
    pub fn canonical(name: &str) -> &str {
        if name == TOUGH_SKIPPED_P384 {
            TOUGH_KEY_TYPE
        } else {
            name
        }
    }
}

/// One problem the gate found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: Check,
    pub severity: Severity,
    /// The finding's name when it is one the policy can accept (see [`named`]).
    pub name: Option<&'static str>,
    pub role: String,
    pub file: String,
    pub message: String,
}

impl Finding {
    pub fn error(check: Check, role: &str, file: &str, message: impl Into<String>) -> Finding {
        Finding {
            check,
            severity: Severity::Error,
            name: None,
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

    /// The same finding under one of the [`named`] names.
    pub fn named(self, name: &'static str) -> Finding {
        Finding {
            name: Some(name),
            ..self
        }
    }

    /// A named error the policy accepts becomes a warning that says so; anything else is
    /// returned as it is.
    pub fn judged(self, accepted: impl Fn(&str) -> bool) -> Finding {
        match self.name {
            Some(name) if self.severity == Severity::Error && accepted(name) => Finding {
                severity: Severity::Warning,
                message: format!("{} (accepted by [gate] accept)", self.message),
                ..self
            },
            _ => self,
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity} [{}] {} ({}): ", self.check.name(), self.role, self.file)?;
        if let Some(name) = self.name {
            write!(f, "{name}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}
