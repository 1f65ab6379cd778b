//! Crash points for the crash tests, which stop a process where a power cut could, and
//! check that what it leaves is whole. They exist only with the `crash-injection` feature
//! (enabled by the CLI's dev-dependency on this crate, so `cargo test` has them and
//! `cargo build --release` does not): without it every function here is empty, and the
//! environment variables below are not even named in the binary.
//!
//! * `TRUSTROOT_TEST_CRASH_AFTER_WRITE=N` aborts right after the N-th [`after_write`].
//! * `TRUSTROOT_TEST_COUNT_WRITES` (any value) prints a line to standard error at each
//!   [`after_write`] (`TRUSTROOT_TEST_COUNT_WRITES: write N`): how a test learns the
//!   points there are.
//! * `TRUSTROOT_TEST_CRASH_AFTER_METADATA=<role>` aborts right after
//!   [`after_metadata`] of that role.

/// True when the crash points are compiled in.
pub const ENABLED: bool = cfg!(feature = "crash-injection");

/// Marks one durable write (a file, a link, a rename): the points a crash test stops at,
/// counted from the start of the process.
#[inline]
pub fn after_write() {
    #[cfg(feature = "crash-injection")]
    hooks::after_write();
}

/// Marks the write of `metadata/<role>.json` in a signing repository.
#[inline]
pub fn after_metadata(role: &str) {
    #[cfg(feature = "crash-injection")]
    hooks::after_metadata(role);
    #[cfg(not(feature = "crash-injection"))]
    let _ = role;
}

#[cfg(feature = "crash-injection")]
mod hooks {
    use std::sync::atomic::{AtomicU64, Ordering};

    static WRITES: AtomicU64 = AtomicU64::new(0);

    pub(super) fn after_write() {
        let n = WRITES.fetch_add(1, Ordering::SeqCst) + 1;
        if std::env::var_os("TRUSTROOT_TEST_COUNT_WRITES").is_some() {
            eprintln!("TRUSTROOT_TEST_COUNT_WRITES: write {n}");
        }
        if std::env::var("TRUSTROOT_TEST_CRASH_AFTER_WRITE")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            == Some(n)
        {
            eprintln!("TRUSTROOT_TEST_CRASH_AFTER_WRITE: crashing after write {n}");
            std::process::abort();
        }
    }

    pub(super) fn after_metadata(role: &str) {
        if std::env::var("TRUSTROOT_TEST_CRASH_AFTER_METADATA").is_ok_and(|v| v == role) {
            eprintln!("TRUSTROOT_TEST_CRASH_AFTER_METADATA: crashing after writing metadata/{role}.json");
            std::process::abort();
        }
    }
}
