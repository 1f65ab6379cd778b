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
pub mod metrics;
pub mod push;
pub mod readback;
pub mod remote;
pub mod serve;
pub mod set;
pub mod status;
pub mod sync;
pub mod sync_record;
pub mod tree_path;
pub mod updater;
pub mod verify;

pub use error::{FetchError, UpdateError};

/// Most root versions a mirror crosses in one sync, verify or import.
pub const MIRROR_MAX_ROOT_ROTATIONS: u32 = 1024;

/// The limits of a mirror: a client's, except that a mirror follows a longer root chain in
/// one go. A client stops after 256 rotations (as python-tuf, go-tuf and tuf-js do); a
/// mirror keeps and serves every root version, and a sync that stopped part-way would
/// start over from the same root next time and never catch up. Every root fetched is
/// still capped at `max_root_size` and must verify against the one before it.
pub fn mirror_limits() -> trustroot_core::Limits {
    trustroot_core::Limits {
        max_root_rotations: MIRROR_MAX_ROOT_ROTATIONS,
        ..trustroot_core::Limits::default()
    }
}
pub use fetch::{FetchConfig, Fetcher};
pub use updater::{Updater, UpdaterConfig};
