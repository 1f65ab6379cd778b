//! The real Sigstore repositories (tests/fixtures/sigstore-repos.tar.xz), unpacked for a test.

use std::path::Path;
use std::process::Command;

/// Unpacks the Sigstore fixture archive (sigstore-prod, sigstore-staging,
/// sigstore-prod-legacy) into a new temporary directory, removed when dropped.
pub fn unpack_sigstore_fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let archive = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/sigstore-repos.tar.xz");
    let status = Command::new("tar")
        .arg("-xJf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("tar (with xz) is installed: scripts/test.sh installs it");
    assert!(status.success(), "could not unpack {}", archive.display());
    dir
}
