//! One module per command group; `main` holds the clap root and dispatches to them.

pub mod ceremony;
pub mod client;
pub mod docs;
pub mod expiry;
pub mod export;
pub mod init;
pub mod inspect;
pub mod key;
pub mod mirror;
pub mod online;
pub mod quickstart;
pub mod shared;
pub mod sigstore;
