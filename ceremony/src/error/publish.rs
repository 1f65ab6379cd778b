//! Publishing: the repository lock, the gate, the publish directory, the online refresh.

use std::fmt;
use std::path::PathBuf;

use trustroot_core::{ErrorClass, Hint, RoleName};

use super::shown;

/// What was refused: the step that takes the lock or runs the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    Publish,
    OnlineRefresh,
    /// A scheduled start of a round for what is due.
    ScheduledStart,
    /// A check of a round without publishing it.
    Verify,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Publish => "publish",
            Operation::OnlineRefresh => "online refresh",
            Operation::ScheduledStart => "scheduled round start",
            Operation::Verify => "verify",
        })
    }
}

/// A publish, an online refresh or a scheduled start was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// Another publish or refresh holds the repository lock (`path`).
    #[error(
        "{operation} refused: another publish or online refresh holds the repository lock {} (is one running?); nothing was written",
        shown(path)
    )]
    LockHeld { operation: Operation, path: PathBuf },
    /// The gate found errors in what would be published, one finding a line. A verify
    /// writes nothing whatever it finds; a publish was refused.
    #[error(
        "{}: the gate found {} problem(s) in round {round}{}:\n{}",
        gate_verdict(*operation),
        findings.len(),
        if *operation == Operation::Verify { "" } else { "; nothing was written" },
        findings.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n")
    )]
    GateFailed {
        operation: Operation,
        round: String,
        findings: Vec<String>,
    },
    /// The scratch directory a publish checks its candidate in could not be made.
    #[error("cannot make a temporary directory: {0}")]
    TempDir(#[source] std::io::Error),
    /// A target listed by a role has no file under `targets/` to publish.
    #[error(
        "target {} (listed by {role}) has no file to publish",
        trustroot_core::display::escape(path)
    )]
    NoTargetFile { path: String, role: RoleName },
    /// The online key is not the one root lists for a role the refresh re-signs.
    #[error(
        "online refresh refused: the online key ({signer}, key {keyid}) is not a {role} key of root v{root_version} (metadata/root.json), so it cannot re-sign {role} v{version} (metadata/{role}.json): point [online] signer at the key root lists; nothing was written"
    )]
    OnlineKeyNotListed {
        signer: String,
        keyid: String,
        role: RoleName,
        root_version: u64,
        version: u64,
    },
    /// The online key that `[online] signer` names cannot be loaded (a variable not set, a
    /// file not there...).
    #[error("the online key ({signer}) cannot be loaded: {source}")]
    OnlineKeyUnavailable {
        signer: String,
        #[source]
        source: Box<super::Error>,
    },
}

/// How a failed gate starts its sentence: a verify only reports, anything else was refused.
fn gate_verdict(operation: Operation) -> String {
    match operation {
        Operation::Verify => "verify".to_string(),
        other => format!("{other} refused"),
    }
}

impl PublishError {
    /// Which kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            PublishError::TempDir(_) => ErrorClass::Io,
            PublishError::GateFailed { .. } => ErrorClass::Repository,
            PublishError::OnlineKeyUnavailable { source, .. } => source.class(),
            _ => ErrorClass::LocalState,
        }
    }

    /// The remedy, when there is one beyond the message.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            PublishError::OnlineKeyUnavailable { source, .. } => source.hint().or(Some(Hint::OnlineSigner)),
            _ => None,
        }
    }
}
