//! trustroot-core: TUF without I/O.
//!
//! Everything here answers one question: "is this TUF metadata valid, given what I already
//! trust, at this time?" The crate reads no file, opens no socket and never reads the
//! clock: callers pass bytes and a time. The client workflow of the TUF specification
//! (sections 5.3 to 5.6) lives in [`TrustedSet`], its order in [`ClientWalk`]; delegation
//! search in [`TargetSearch`].

pub mod canonical;
pub mod class;
pub mod delegation;
pub mod display;
pub mod envelope;
pub mod error;
pub mod expiry;
pub mod hashes;
pub mod keyless;
pub mod keys;
pub mod limits;
pub mod metadata;
pub mod names;
pub mod role_name;
pub mod sigstore;
mod streamed_envelope;
mod strict_json;
pub mod target_path;
pub mod time;
pub mod trusted_set;
pub mod verify;
pub mod walk;

pub use class::{ErrorClass, Hint};
pub use delegation::{RoleToVisit, TargetSearch};
pub use envelope::Envelope;
pub use error::{Error, ErrorKind, MalformedProblem, OrderProblem, Result};
pub use keys::Key;
pub use limits::Limits;
pub use metadata::{
    DelegatedRole, Delegations, MetaFile, Role, RoleKeys, Root, Snapshot, SuccinctRoles, TargetFile, Targets, Timestamp,
};
pub use names::{KeyId, RoleName, TargetPath};
pub use trusted_set::{TimestampUpdate, Trusted, TrustedSet};
pub use walk::{ClientWalk, Goal, Keep, Need, Source, Step};
