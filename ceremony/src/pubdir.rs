//! The published tree on a local directory (the policy's `publish.destination`), written
//! the way a mirror writes its state:
//!
//! ```text
//! DEST/repository -> .trustroot-publish/states/<n>     what clients are served (a symlink)
//! DEST/.trustroot-publish/states/<n>/                  the complete published tree n
//! DEST/.trustroot-publish/staging-<pid>/               the next tree, while it is built
//! ```
//!
//! A new tree is built complete beside the old one (files the old tree has are hard-linked,
//! never written through), then `repository` is pointed at it with one atomic rename: a
//! reader or a crash sees the old repository or the new one, never a new root with an old
//! timestamp. The previous tree is kept for readers in the middle of an update; older ones
//! are removed. Inside a tree, files are written in Sigstore's upload order (targets,
//! delegated metadata, targets, snapshot, root versions, timestamp last), which is the
//! order a remote store (a bucket, a CDN) must be uploaded in, where no atomic switch exists.

use std::fs;
use std::path::{Path, PathBuf};

use trustroot_store::StateDir;

use crate::candidate::Candidate;
use trustroot_core::RoleName;

use crate::error::{Error, FileProblem, IoOp, PublishError, Result};
use crate::policy::Policy;

/// The served path inside the destination.
pub const SERVED: &str = "repository";
/// The hidden state directory inside the destination.
pub const HIDDEN: &str = ".trustroot-publish";

/// The publish destination: numbered states served through `repository` (a
/// [`StateDir`] serving each whole state).
#[derive(Debug, Clone)]
pub struct PublishDir {
    states: StateDir,
}

/// The store's refusals, in a publish's words.
fn refusal(error: trustroot_store::Error) -> Error {
    use trustroot_store::Error as Store;
    match error {
        Store::Io { path, source } => Error::io(&path, IoOp::Access, source),
        Store::NotALink { path } => Error::content(&path, FileProblem::NotPublishLink),
        Store::ForeignTarget { path, target } => Error::content(&path, FileProblem::ForeignLink { target }),
        Store::Symlink { path } => Error::content(&path, FileProblem::StateSymlink),
        other => Error::Store(other),
    }
}

impl PublishDir {
    /// The destination of `policy`, relative to the signing repository `repo` unless absolute.
    pub fn new(policy: &Policy, repo: &Path) -> PublishDir {
        let dest = Path::new(&policy.publish.destination);
        let root = if dest.is_absolute() {
            dest.to_path_buf()
        } else {
            repo.join(dest)
        };
        PublishDir::at(&root)
    }

    /// A destination directory given directly.
    pub fn at(root: &Path) -> PublishDir {
        PublishDir {
            states: StateDir::new(root, SERVED, HIDDEN, None),
        }
    }

    pub fn root(&self) -> &Path {
        self.states.root()
    }

    /// `DEST/repository`: point a static web server (or `trustroot client`) here.
    pub fn served(&self) -> PathBuf {
        self.states.served()
    }

    fn hidden(&self) -> PathBuf {
        self.states.hidden()
    }

    /// The state served now: its number and directory. Anything at `repository` other than
    /// the symlink a publish makes is refused, never followed or replaced.
    pub fn current(&self) -> Result<Option<(u64, PathBuf)>> {
        let current = self.states.current().map_err(refusal)?;
        Ok(current.map(|n| (n, self.states.state(n))))
    }

    /// Builds the tree of `candidate` in a staging directory beside the current state, and
    /// returns it. The caller either [`PublishDir::commit`]s it or [`PublishDir::discard`]s it.
    pub fn stage(&self, candidate: &Candidate) -> Result<Staged> {
        let current = self.current()?;
        let number = current.as_ref().map(|(n, _)| *n);
        self.stage_with(candidate, number, current.as_ref().map(|(_, p)| p.as_path()))
    }

    /// Builds the tree of `candidate` here, carrying the files of the tree at `base` (the
    /// published one, elsewhere): what `ceremony verify` hands to tough.
    pub fn stage_from(&self, candidate: &Candidate, base: Option<&Path>) -> Result<Staged> {
        self.stage_with(candidate, None, base)
    }

    fn stage_with(&self, candidate: &Candidate, current: Option<u64>, base: Option<&Path>) -> Result<Staged> {
        let created_root = !self.root().exists();
        let created_hidden = !self.hidden().exists();
        let staging = self.hidden().join(format!("staging-{}", std::process::id()));
        let staged = Staged {
            dir: staging.clone(),
            created_root,
            created_hidden,
            root: self.root().to_path_buf(),
            current,
        };
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, IoOp::Access, e))?;
        }
        fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, IoOp::Create, e))?;
        if let Err(e) = build_tree(&staging, base, candidate) {
            staged.discard();
            return Err(e);
        }
        Ok(staged)
    }

    /// Makes a staged tree the served one: make it durable, rename it to the next state,
    /// switch the symlink with one atomic rename, then remove states older than the
    /// previous one (kept for readers in the middle of an update).
    pub fn commit(&self, staged: Staged) -> Result<u64> {
        let next = staged.current.map_or(1, |n| n + 1);
        trustroot_store::sync_tree(&staged.dir).map_err(refusal)?;
        self.states.create_states().map_err(refusal)?;
        self.states.install(&staged.dir, next).map_err(refusal)?;
        self.states.switch_to(next).map_err(refusal)?;
        self.states.prune(next - 1);
        Ok(next)
    }
}

/// A tree built beside the served one.
#[derive(Debug)]
pub struct Staged {
    pub dir: PathBuf,
    created_root: bool,
    created_hidden: bool,
    root: PathBuf,
    current: Option<u64>,
}

impl Staged {
    /// Removes the staged tree, and the directories staging created: the destination is
    /// left exactly as it was.
    pub fn discard(&self) {
        let _ = fs::remove_dir_all(&self.dir);
        if self.created_root {
            let _ = fs::remove_dir_all(&self.root);
        } else if self.created_hidden {
            let _ = fs::remove_dir_all(self.root.join(HIDDEN));
        }
    }
}

/// Carries every file of the old tree over (hard links, copies across file systems),
/// refusing symlinks and special files.
fn carry(old: &Path, new: &Path) -> Result<()> {
    let mut pending = vec![(old.to_path_buf(), new.to_path_buf())];
    while let Some((from, to)) = pending.pop() {
        fs::create_dir_all(&to).map_err(|e| Error::io(&to, IoOp::Access, e))?;
        for entry in fs::read_dir(&from).map_err(|e| Error::io(&from, IoOp::Access, e))? {
            let entry = entry.map_err(|e| Error::io(&from, IoOp::Access, e))?;
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).map_err(|e| Error::io(&path, IoOp::Access, e))?;
            let dest = to.join(entry.file_name());
            if meta.is_dir() {
                pending.push((path, dest));
            } else if meta.is_file() {
                if fs::hard_link(&path, &dest).is_err() {
                    fs::copy(&path, &dest).map_err(|e| Error::io(&dest, IoOp::Copy, e))?;
                }
            } else {
                return Err(Error::content(&path, FileProblem::NotRegular));
            }
        }
    }
    Ok(())
}

/// Writes `bytes` as a new file at `path` in the staging tree. A file carried from the old
/// tree is a hard link: it is replaced (unlinked first), never written through; a versioned
/// file that exists with other bytes would be a version published twice, and is refused.
fn put(path: &Path, bytes: &[u8], replaceable: bool) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, IoOp::Access, e))?;
    }
    if path.exists() {
        let existing = fs::read(path).map_err(|e| Error::io(path, IoOp::Access, e))?;
        if existing == bytes {
            return Ok(());
        }
        if !replaceable {
            return Err(Error::content(path, FileProblem::AlreadyPublished));
        }
        fs::remove_file(path).map_err(|e| Error::io(path, IoOp::Access, e))?;
    }
    fs::write(path, bytes).map_err(|e| Error::io(path, IoOp::Write, e))
}

fn build_tree(dir: &Path, old: Option<&Path>, candidate: &Candidate) -> Result<()> {
    if let Some(old) = old {
        carry(old, dir)?;
    }
    // 1. Targets.
    for (path, target) in &candidate.targets {
        let name = trustroot_core::target_path::consistent_name(path, &target.sha256);
        let dest = dir.join("targets").join(&name);
        if dest.is_file() {
            continue;
        }
        let source = target.source.as_ref().ok_or_else(|| PublishError::NoTargetFile {
            path: path.to_string(),
            role: RoleName::from(target.role.as_str()),
        })?;
        let bytes = crate::keys::read_limited(source, target.length)?;
        if trustroot_core::hashes::sha256_hex(&bytes) != target.sha256 {
            return Err(Error::content(
                source,
                FileProblem::ChangedWhilePublishing {
                    target: path.to_string(),
                },
            ));
        }
        put(&dest, &bytes, false)?;
    }
    // tough 0.24 asks for `targets/<sha256>.<dir>/<name>` (the hash before the whole path)
    // where the spec, python-tuf and tuf-js use `targets/<dir>/<sha256>.<name>`: a target in
    // a directory is also published under tough's name (a hard link), or tough-based
    // clients (sigstore-rs) could not download it.
    for (path, target) in &candidate.targets {
        if !path.contains('/') {
            continue;
        }
        let dest = dir
            .join("targets")
            .join(trustroot_core::target_path::consistent_name(path, &target.sha256));
        let alias = dir.join("targets").join(format!("{}.{path}", target.sha256));
        if alias.exists() {
            continue;
        }
        if let Some(parent) = alias.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, IoOp::Access, e))?;
        }
        if fs::hard_link(&dest, &alias).is_err() {
            fs::copy(&dest, &alias).map_err(|e| Error::io(&alias, IoOp::Copy, e))?;
        }
    }
    // 2. Delegated targets, then targets (versioned names).
    let delegated = candidate
        .metadata
        .keys()
        .map(String::as_str)
        .filter(|r| !["root", "targets", "snapshot", "timestamp"].contains(r));
    for role in delegated.chain(std::iter::once("targets")) {
        let (Some(bytes), Some(version)) = (candidate.metadata.get(role), candidate.versions.get(role)) else {
            continue;
        };
        put(
            &dir.join(trustroot_core::role_name::metadata_file_name(role, Some(*version))),
            bytes,
            false,
        )?;
    }
    // 3. Snapshot.
    if let (Some(bytes), Some(version)) = (candidate.metadata.get("snapshot"), candidate.versions.get("snapshot")) {
        put(&dir.join(format!("{version}.snapshot.json")), bytes, false)?;
    }
    // 4. Every root version.
    for (version, bytes) in &candidate.root_history {
        put(&dir.join(format!("{version}.root.json")), bytes, false)?;
    }
    // 5. The timestamp, last.
    if let Some(bytes) = candidate.metadata.get("timestamp") {
        put(
            &dir.join(trustroot_core::role_name::metadata_file_name("timestamp", None)),
            bytes,
            true,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn staged_in(dir: &PublishDir) -> Staged {
        let staging = dir.hidden().join("staging-test");
        fs::create_dir_all(&staging).unwrap();
        fs::write(staging.join("timestamp.json"), b"{}").unwrap();
        Staged {
            dir: staging,
            created_root: false,
            created_hidden: false,
            root: dir.root().to_path_buf(),
            current: None,
        }
    }

    #[test]
    fn commits_switch_the_served_link_and_keep_the_previous_state() {
        let dest = tempfile::tempdir().unwrap();
        let dir = PublishDir::at(dest.path());
        assert!(dir.current().unwrap().is_none());
        for n in 1..=3 {
            let mut staged = staged_in(&dir);
            staged.current = dir.current().unwrap().map(|(n, _)| n);
            assert_eq!(dir.commit(staged).unwrap(), n);
            assert_eq!(dir.current().unwrap().map(|(n, _)| n), Some(n));
            assert!(dir.served().join("timestamp.json").is_file());
        }
        let mut states: Vec<_> = fs::read_dir(dest.path().join(HIDDEN).join("states"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        states.sort();
        assert_eq!(states, ["00000002", "00000003"]);
    }

    #[test]
    fn a_planted_states_symlink_is_refused_and_nothing_goes_through_it() {
        let dest = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let dir = PublishDir::at(dest.path());
        fs::create_dir_all(dir.hidden()).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), dir.hidden().join("states")).unwrap();
        let error = dir.commit(staged_in(&dir)).unwrap_err().to_string();
        assert!(error.contains("states") && error.contains("symlink"), "{error}");
        assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
        assert!(fs::symlink_metadata(dir.served()).is_err());
    }

    #[test]
    fn a_served_path_that_is_not_the_publish_symlink_is_refused_in_the_words_of_a_publish() {
        let dest = tempfile::tempdir().unwrap();
        let dir = PublishDir::at(dest.path());
        fs::create_dir_all(dir.served()).unwrap();
        let error = dir.current().unwrap_err().to_string();
        assert!(error.contains("is not the symlink a publish makes"), "{error}");
        fs::remove_dir(dir.served()).unwrap();
        std::os::unix::fs::symlink("/etc", dir.served()).unwrap();
        let error = dir.current().unwrap_err().to_string();
        assert!(error.contains("points at /etc, not at a published state"), "{error}");
    }
}
