//! Shared helpers for the Sigstore payload tests: the real fixture files.
#![allow(clippy::unwrap_used, clippy::panic, dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

pub fn history() -> PathBuf {
    fixtures().join("history")
}

/// Unpacks tests/fixtures/sigstore-repos.tar.xz once per test binary, into a temp dir.
pub fn repos() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("tar")
            .arg("-xJf")
            .arg(fixtures().join("sigstore-repos.tar.xz"))
            .arg("-C")
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "tar -xJf sigstore-repos.tar.xz failed");
        dir
    })
    .path()
}

/// Every trusted_root* / signing_config* file: history, and the sigstore-* sets'
/// `*/source/targets/` and `*/published/targets/<sha256>.<name>`. Returns (label, path),
/// label relative to its root (`history/...` or `sigstore-prod/...`).
pub fn payload_files() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for env in ["prod", "staging"] {
        let d = history().join(env);
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.contains("trusted_root") || name.contains("signing_config") {
                out.push((format!("history/{env}/{name}"), p));
            }
        }
    }
    for set in ["sigstore-prod", "sigstore-staging", "sigstore-prod-legacy"] {
        for sub in ["source/targets", "published/targets"] {
            let d = repos().join(set).join(sub);
            let Ok(rd) = std::fs::read_dir(&d) else { continue };
            for e in rd {
                let p = e.unwrap().path();
                if !p.is_file() {
                    continue;
                }
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                if name.contains("trusted_root") || name.contains("signing_config") {
                    out.push((format!("{set}/{sub}/{name}"), p));
                }
            }
        }
    }
    out.sort();
    out
}

pub fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}
