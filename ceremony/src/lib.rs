//! trustroot-ceremony: the signing side of a TUF trust root.
//!
//! A signing repository (see `docs/policy.md` and DESIGN.md) holds the policy
//! (`trustroot.toml`), keyholders' public keys, the target files and the published
//! metadata. A ceremony round stages new versions of root, targets and delegated targets,
//! exports self-contained signing requests, collects detached signatures from keyholders
//! (often on air-gapped machines), and reports thresholds honestly: a signature counts
//! only when it verifies over the staged bytes with a key that is a signer of the role.

pub mod assemble;
pub mod attestation;
pub mod baseline;
pub mod bins;
pub mod candidate;
pub mod delegate;
pub mod edit;
pub mod error;
pub mod expiry;
pub mod export;
pub mod finding;
pub mod gate;
pub mod import;
pub mod keys;
pub mod lock;
pub mod online;
pub mod overview;
pub mod policy;
pub mod precheck;
pub mod pubdir;
pub mod publish;
pub mod published;
pub mod push;
pub mod readback;
pub mod recover;
pub mod repo;
pub mod rotate;
pub mod round;
pub mod sign;
pub mod stage;
mod target_file;
pub mod targets_role;

pub use error::{Error, Result};
pub use keys::{KeyRef, KeyType, PrivateKey, Signer, SoftwareSigner};
