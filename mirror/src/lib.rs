//! trustroot-mirror: the TUF client side with I/O.
//!
//! [`fetch`] gets bytes from HTTP(S) servers or local directories with size caps and
//! timeouts; [`Updater`] drives trustroot-core's state machine with them and persists
//! exactly the bytes it verified, atomically.

pub mod bundle;
pub mod download;
pub mod error;
pub mod fetch;
pub mod idle;
pub mod layout;
pub mod manifest;
pub mod serve;
pub mod status;
pub mod store;
pub mod sync;
pub mod updater;
pub mod verify;

pub use error::{FetchError, UpdateError};
pub use fetch::{FetchConfig, Fetcher};
pub use updater::{Updater, UpdaterConfig};
