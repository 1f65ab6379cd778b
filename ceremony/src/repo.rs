//! The signing repository on disk: layout, `init`, reading published metadata, and
//! writing files safely (inside the repository only, to a temporary name then renamed).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trustroot_core::{Envelope, Limits};

use crate::error::{Error, FileProblem, IoOp, Result};
use crate::keys;
use crate::policy::{Policy, ResolvedKeys};

/// The policy file name.
pub const POLICY_FILE: &str = "trustroot.toml";

const TEMPLATE_POLICY: &str = include_str!("../../repo-template/trustroot.toml");
pub(crate) const TEMPLATE_README: &str = include_str!("../../repo-template/README.md");

/// Largest metadata file read from the repository.
pub const MAX_METADATA_SIZE: u64 = 32 * 1024 * 1024;

/// Lays down a new signing repository in `dir` (created if missing; must be empty).
pub fn init(dir: &Path) -> Result<()> {
    ensure_empty(dir)?;
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, IoOp::Create, e))?;
    for sub in ["keys", "targets", "metadata", "ceremonies"] {
        let path = dir.join(sub);
        fs::create_dir_all(&path).map_err(|e| Error::io(&path, IoOp::Create, e))?;
        write_atomic(&path.join(".gitkeep"), b"")?;
    }
    write_atomic(&dir.join(POLICY_FILE), TEMPLATE_POLICY.as_bytes())?;
    write_atomic(&dir.join("README.md"), TEMPLATE_README.as_bytes())?;
    write_atomic(&dir.join(".gitignore"), gitignore().as_bytes())?;
    Ok(())
}

/// A new signing repository is made only in a new or empty directory.
pub(crate) fn ensure_empty(dir: &Path) -> Result<()> {
    if dir.exists() {
        let mut entries = fs::read_dir(dir).map_err(|e| Error::io(dir, IoOp::Read, e))?;
        if entries.next().is_some() {
            return Err(Error::content(dir, FileProblem::NotEmpty));
        }
    }
    Ok(())
}

/// Builds a new directory `dir` (absent or empty) complete in `<parent>/.<name>.<what>-<pid>`
/// with `build`, then renames it into place: a failure or a crash never leaves a half-made
/// `dir`, and the temporary directory is removed on failure.
pub(crate) fn build_beside<T>(dir: &Path, what: &str, build: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    ensure_empty(dir)?;
    let name = dir
        .file_name()
        .ok_or_else(|| Error::content(dir, FileProblem::NotEmpty))?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, IoOp::Create, e))?;
    let staging = parent.join(format!(".{name}.{what}-{}", std::process::id()));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, IoOp::Remove, e))?;
    }
    fs::create_dir(&staging).map_err(|e| Error::io(&staging, IoOp::Create, e))?;
    let built = build(&staging).and_then(|value| {
        if dir.exists() {
            fs::remove_dir(dir).map_err(|e| Error::io(dir, IoOp::Remove, e))?;
        }
        fs::rename(&staging, dir).map_err(|e| Error::io(dir, IoOp::Create, e))?;
        Ok(value)
    });
    if built.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    built
}

/// The `.gitignore` of a new signing repository: what trustroot writes there that is not
/// the repository's history (the template's publish destination, the lock).
pub(crate) fn gitignore() -> String {
    format!(
        "# Written by `trustroot init`: what trustroot makes here that is never committed.\n\
         # The publish destination (publish.destination in trustroot.toml; change this line\n\
         # with it): built and switched by `ceremony publish` and `online refresh`.\n\
         /{}/\n\
         # The repository lock that `ceremony publish` and `online refresh` hold.\n\
         /{}\n",
        TEMPLATE_DESTINATION,
        crate::lock::LOCK_FILE
    )
}

/// The publish destination the template's policy names.
const TEMPLATE_DESTINATION: &str = "public";

/// An open signing repository.
#[derive(Debug, Clone)]
pub struct Repo {
    pub root: PathBuf,
    pub policy: Policy,
}

/// Published metadata of one role, as found in `metadata/`.
#[derive(Debug, Clone)]
pub struct Published {
    pub path: PathBuf,
    pub envelope: Envelope,
}

impl Repo {
    /// Opens the repository at `dir` and reads its policy.
    pub fn open(dir: &Path) -> Result<Repo> {
        let policy_path = dir.join(POLICY_FILE);
        if !policy_path.is_file() {
            return Err(Error::content(dir, FileProblem::NotARepository));
        }
        let policy = Policy::load(&policy_path)?;
        let root = fs::canonicalize(dir).map_err(|e| Error::io(dir, IoOp::Access, e))?;
        Ok(Repo { root, policy })
    }

    /// Reads the public keys the policy names.
    pub fn keys(&self) -> Result<ResolvedKeys> {
        ResolvedKeys::load(&self.policy, &self.root)
    }

    /// Reads the public keys the policy names, for staging: every recorded YubiKey
    /// attestation's evidence is verified again at `now` (a record alone proves nothing).
    pub fn keys_for_staging(&self, now: chrono::DateTime<chrono::Utc>) -> Result<ResolvedKeys> {
        let keys = self.keys()?;
        crate::policy::check_all_evidence(&self.policy, &self.root, &keys, now)?;
        Ok(keys)
    }

    /// The published metadata of `role` (`metadata/<role>.json`), if any.
    pub fn published(&self, role: &str) -> Result<Option<Published>> {
        let name = trustroot_core::role_name::metadata_file_name(role, None);
        let path = self.root.join("metadata").join(name);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = keys::read_limited(&path, MAX_METADATA_SIZE)?;
        let envelope = Envelope::parse(role, &bytes, &Limits::default())
            .map_err(|e| Error::content(&path, FileProblem::Metadata(Box::new(e))))?;
        Ok(Some(Published { path, envelope }))
    }

    /// `ceremonies/`.
    pub fn ceremonies_dir(&self) -> PathBuf {
        self.root.join("ceremonies")
    }

    /// Checks that `path` (existing or about to be created) is inside the repository, with
    /// no symbolic link leading out of it.
    pub fn ensure_inside(&self, path: &Path) -> Result<()> {
        let mut existing = path;
        while !existing.exists() {
            match existing.parent() {
                Some(parent) => existing = parent,
                None => break,
            }
        }
        let real = fs::canonicalize(existing).map_err(|e| Error::io(path, IoOp::Access, e))?;
        if !real.starts_with(&self.root) {
            return Err(Error::content(path, FileProblem::OutsideRepository));
        }
        if let Ok(meta) = fs::symlink_metadata(path)
            && meta.file_type().is_symlink()
        {
            return Err(Error::content(path, FileProblem::SymbolicLink));
        }
        Ok(())
    }

    /// Writes a file inside the repository atomically.
    pub fn write(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.ensure_inside(path)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, IoOp::Create, e))?;
        }
        self.ensure_inside(path)?;
        write_atomic(path, bytes)
    }
}

/// Writes `bytes` to a temporary file beside `path`, synced, then renames it over `path`
/// (see [`trustroot_store::write_atomic`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    trustroot_store::write_atomic(path, bytes).map_err(|e| match e {
        trustroot_store::Error::Io { source, .. } => Error::io(path, IoOp::Write, source),
        other => Error::Store(other),
    })
}

/// Serialises metadata the way python-tuf's `JSONSerializer` (and so tuf-on-ci) does:
/// sorted keys, one-space indent, `signatures` before `signed`, no trailing newline.
pub fn to_metadata_json(value: &Value) -> Vec<u8> {
    use serde::Serialize as _;
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // serde_json's map is sorted (no preserve_order), so keys come out sorted.
    if value.serialize(&mut serializer).is_err() {
        return Vec::new();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn init_lays_down_a_repository_that_opens() {
        let dir = tempfile::tempdir().unwrap();
        let repo_dir = dir.path().join("repo");
        init(&repo_dir).unwrap();
        for sub in [
            "keys",
            "targets",
            "metadata",
            "ceremonies",
            "README.md",
            "trustroot.toml",
        ] {
            assert!(repo_dir.join(sub).exists(), "{sub}");
        }
        let repo = Repo::open(&repo_dir).unwrap();
        assert_eq!(repo.policy.periods("root").expiry_days, 197);
        assert!(repo.policy.check_complete().is_err());
        // A second init refuses.
        assert!(init(&repo_dir).is_err());
    }

    #[test]
    fn metadata_json_is_python_tuf_shaped() {
        let value = serde_json::json!({"signed": {"b": 1, "a": [1]}, "signatures": []});
        let text = String::from_utf8(to_metadata_json(&value)).unwrap();
        assert_eq!(
            text,
            "{\n \"signatures\": [],\n \"signed\": {\n  \"a\": [\n   1\n  ],\n  \"b\": 1\n }\n}"
        );
    }
}
