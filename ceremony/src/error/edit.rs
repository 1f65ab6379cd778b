//! Changes to the policy: keys added or removed, thresholds, delegations.

use trustroot_core::display::escape;
use trustroot_core::{ErrorClass, Hint, RoleName};

/// A change to the policy was refused; `trustroot.toml` is left as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    #[error("'{}' is not a valid key name (letters, digits, '-', '_', '.')", escape(name))]
    InvalidKeyName { name: String },
    #[error("'{}' is not a valid role name (letters, digits, '-', '_', '.')", escape(name))]
    InvalidRoleName { name: String },
    /// Another key is registered under the name (`public`: its file, as the policy says).
    #[error(
        "a different key is already registered as '{name}' ({}); choose another name",
        escape(public)
    )]
    NameTaken { name: String, public: String },
    /// The same key material is registered under another name.
    #[error("this key is already registered as '{name}'")]
    KeyRegistered { name: String },
    #[error("'{name}' already signs {role}")]
    AlreadySigns { name: String, role: RoleName },
    /// Snapshot and timestamp are signed by the online key, not by keyholders.
    #[error("{role} is signed by the online key")]
    OnlineRole { role: RoleName },
    /// The online roles have one key, threshold 1: it is replaced, never removed.
    #[error("{role} is signed by the one online key (threshold 1)")]
    OnlineKeyRotation { role: RoleName },
    /// No such role in the policy; `with_online` when `online` would have been accepted.
    #[error(
        "no role '{role}' in the policy ({})",
        if *with_online { "root, targets, online, or a [delegations.NAME]" } else { "root, targets, or a [delegations.NAME]" }
    )]
    UnknownRole { role: RoleName, with_online: bool },
    #[error("no key '{}' in [keys]", escape(name))]
    UnknownKey { name: String },
    /// The key signs none of the roles asked (`role`: the one asked, `None` for all).
    #[error("'{}' signs {}", escape(name), match role { Some(r) => format!("no '{r}'"), None => "no role".to_string() })]
    SignsNothing { name: String, role: Option<RoleName> },
    /// Removing the key would leave a role with fewer keys than its threshold.
    #[error(
        "removing '{}' from {} would leave an invalid policy: {source}; lower the threshold or add a key first",
        escape(name),
        roles.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    RemovalBreaksPolicy {
        name: String,
        roles: Vec<RoleName>,
        #[source]
        source: Box<crate::Error>,
    },
    /// `[attestation] required_for` names the role and no attestation was given.
    #[error(
        "{role} requires a verified YubiKey attestation for every key ([attestation] in trustroot.toml); '{}' was given none",
        escape(name)
    )]
    AttestationRequired { name: String, role: RoleName },
    /// An attestation is recorded for a keyholder's key; the online key has no `[keys]` entry.
    #[error("an attestation is recorded for keyholders' keys; the online key takes none")]
    OnlineAttestation,
    #[error("threshold too large")]
    ThresholdTooLarge { threshold: u64 },
    /// A delegation that does not exist yet needs its paths and threshold.
    #[error(
        "a new delegation needs its paths (one or more) and a threshold; '{}' does not exist yet",
        escape(name)
    )]
    NewDelegationIncomplete { name: String },
}

impl EditError {
    /// Which kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            EditError::NameTaken { .. } | EditError::KeyRegistered { .. } | EditError::RemovalBreaksPolicy { .. } => {
                ErrorClass::LocalState
            }
            _ => ErrorClass::Usage,
        }
    }

    /// The remedy, when there is one beyond the message.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            EditError::OnlineRole { role } => Some(Hint::UseOnlineRole { role: role.clone() }),
            EditError::OnlineKeyRotation { role } => Some(Hint::RotateOnlineKey { role: role.clone() }),
            EditError::RemovalBreaksPolicy { .. } => Some(Hint::LowerThreshold),
            EditError::NewDelegationIncomplete { .. } => Some(Hint::DelegationPathsAndThreshold),
            EditError::AttestationRequired { .. } => Some(Hint::ExportAttestation),
            _ => None,
        }
    }
}
