//! trustroot-store: durable state on a local file system, shared by the signing side
//! (ceremony's publish directory, the signing repository) and the mirror.
//!
//! A reader, or a crash, sees the old state or the new one, never a mix:
//!
//! * [`atomic`]: one file replaced through a temporary file in the same directory, synced,
//!   renamed, and the rename synced.
//! * [`durable`]: directory and file syncs, each error returned to the caller.
//! * [`states`]: numbered state directories, one of them served through a symlink that is
//!   switched with one atomic rename.
//! * [`crash`]: crash points for the crash tests, compiled in only with the
//!   `crash-injection` feature.
//!
//! It depends on no other trustroot crate.

pub mod atomic;
pub mod crash;
pub mod durable;
pub mod error;
pub mod object;
pub mod paths;
pub mod states;

pub use atomic::{Durability, make_readable, persist, read_optional, temp_file_in, write_atomic, write_replacing};
pub use durable::{sync_dir, sync_dirs, sync_files, sync_tree};
pub use error::Error;
pub use states::{StateDir, ensure_plain, remove_if_exists};
