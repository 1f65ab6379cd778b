//! Shared helpers for core's tests on the real Sigstore repositories.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

/// The Sigstore fixture archive, unpacked into a temporary directory. (Core cannot use the
/// test-support crate's copy of this helper: that crate depends on core.)
pub fn unpack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let archive = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/sigstore-repos.tar.xz");
    let status = Command::new("tar")
        .arg("-xJf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "could not unpack {}", archive.display());
    dir
}

pub fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    trustroot_core::time::parse(text).unwrap()
}
