//! Shared helpers for tests of the `trustroot` binary.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The real Sigstore repositories, unpacked into a temporary directory.
pub fn unpack_fixtures() -> tempfile::TempDir {
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

/// `faketime` is a required test dependency (scripts/test.sh installs it): without it,
/// tests of the binary against expired fixtures cannot run, and must say so.
pub fn faketime() -> PathBuf {
    let found = Command::new("sh")
        .arg("-c")
        .arg("command -v faketime")
        .output()
        .unwrap();
    assert!(
        found.status.success(),
        "faketime is missing: install the Debian package 'faketime' (scripts/test.sh does)"
    );
    PathBuf::from(String::from_utf8(found.stdout).unwrap().trim())
}

/// Runs `trustroot ARGS` with the clock pinned at `time` ("YYYY-MM-DD hh:mm:ss", UTC).
pub fn trustroot_at(time: &str, args: &[&str]) -> Output {
    Command::new(faketime())
        .env("TZ", "UTC")
        .arg(time)
        .arg(env!("CARGO_BIN_EXE_trustroot"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `trustroot ARGS` at the real time.
pub fn trustroot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustroot"))
        .args(args)
        .output()
        .unwrap()
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn file_url(path: &Path) -> String {
    format!("file://{}/", path.display())
}
