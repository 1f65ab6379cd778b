//! trustroot-test-support: a TUF repository simulator with real keys, served on 127.0.0.1.
//!
//! - [`keys`]: [`SimKey`], the four TUF key types, key IDs and signatures;
//! - [`RepoSim`]: an in-memory repository (targets, delegations, hashed bins, root
//!   rotation, publish) plus misbehaviour builders for attack tests;
//! - [`sigstore_instance`]: a Sigstore-like instance (CA, CT log, Rekor) and keyless
//!   tuf-on-ci-shaped metadata signed through it;
//! - [`SimServer`]: serves a shared `RepoSim` over HTTP on 127.0.0.1 with request logging
//!   and fault injection.
//!
//! ```no_run
//! use std::sync::{Arc, Mutex};
//! use trustroot_test_support::{RepoSim, SimServer};
//! let mut repo = RepoSim::new(chrono::Utc::now());
//! repo.add_target("targets", "a/b.txt", b"hello");
//! repo.publish();
//! let repo = Arc::new(Mutex::new(repo));
//! let server = SimServer::start(repo.clone());
//! let _root_url = format!("{}1.root.json", server.metadata_url());
//! ```
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod attacks;
pub mod aws_env;
pub mod azurite;
pub mod bins;
pub mod encode;
pub mod envelope;
pub mod faketime;
mod fixtures;
pub mod gcs;
pub mod keys;
pub mod moto;
pub mod prometheus;
pub mod proxy;
pub mod public_get;
mod publish;
mod repo;
mod role;
pub mod server;
pub mod sigstore_instance;
pub mod softhsm;
pub mod static_server;

pub use encode::{encode_role_name, metadata_path, target_path};
pub use envelope::SignPlan;
pub use fixtures::unpack_sigstore_fixtures;
pub use keys::{KeyType, SimKey};
pub use repo::{DelegatedRoleSpec, RepoSim, TOP_LEVEL_ROLES};
pub use role::TargetHashes;
pub use server::{Fault, SimServer};

#[cfg(test)]
mod tests;
