//! Numbered state directories, one of them served through a symlink:
//!
//! ```text
//! ROOT/<served> -> <hidden>/states/<n>[/<part>]   what readers are given (a symlink)
//! ROOT/<hidden>/states/<n>/                        state n, complete before it is served
//! ```
//!
//! A state is built elsewhere (beside the states), [`StateDir::install`]ed under the next
//! number, then served with one atomic rename of the symlink ([`StateDir::switch_to`]): a
//! reader, or a crash, sees the old state or the new one, never a mix. Nothing here
//! follows a symlink it did not make: a planted one is refused.

use std::path::{Path, PathBuf};

use crate::durable::sync_dir;
use crate::error::Error;

/// One directory of numbered states and the symlink serving one of them.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
    served: String,
    hidden: String,
    /// The part of a state that is served, when not the whole state (a mirror serves
    /// `tree/` and keeps its own metadata beside it).
    part: Option<String>,
}

impl StateDir {
    /// States of `ROOT/hidden/states/`, served at `ROOT/served`.
    pub fn new(root: &Path, served: &str, hidden: &str, part: Option<&str>) -> Self {
        StateDir {
            root: root.to_path_buf(),
            served: served.to_string(),
            hidden: hidden.to_string(),
            part: part.map(str::to_string),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The symlink readers are given.
    pub fn served(&self) -> PathBuf {
        self.root.join(&self.served)
    }

    pub fn hidden(&self) -> PathBuf {
        self.root.join(&self.hidden)
    }

    pub fn states(&self) -> PathBuf {
        self.hidden().join("states")
    }

    pub fn state(&self, n: u64) -> PathBuf {
        self.states().join(format!("{n:08}"))
    }

    /// The relative symlink target that serves state `n`.
    fn link_target(&self, n: u64) -> PathBuf {
        let state = Path::new(&self.hidden).join("states").join(format!("{n:08}"));
        match &self.part {
            Some(part) => state.join(part),
            None => state,
        }
    }

    /// The number of the state served now, if any. The served path must be the symlink
    /// [`StateDir::switch_to`] makes, pointing at one of the states: anything else is
    /// refused, never followed or replaced.
    pub fn current(&self) -> Result<Option<u64>, Error> {
        let served = self.served();
        // One system call when it is the symlink (every request a server answers asks):
        // `readlink` refuses anything else with EINVAL.
        let target = match std::fs::read_link(&served) {
            Ok(target) => target,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                return Err(Error::NotALink { path: served });
            }
            Err(e) => return Err(Error::io(&served, e)),
        };
        let n = target
            .strip_prefix(Path::new(&self.hidden).join("states"))
            .ok()
            .and_then(|rest| {
                let mut parts = rest.components();
                let n = parts.next()?.as_os_str().to_str()?.parse::<u64>().ok()?;
                if let Some(part) = &self.part {
                    (parts.next()?.as_os_str() == part.as_str()).then_some(())?;
                }
                parts.next().is_none().then_some(n)
            });
        n.map(Some).ok_or(Error::ForeignTarget { path: served, target })
    }

    /// Creates `states/` if needed. The hidden directory and `states/` must be plain
    /// directories: `create_dir_all` accepts a symlink to a directory, and a planted one
    /// would send the removal of old states into whatever it points at.
    pub fn create_states(&self) -> Result<(), Error> {
        let hidden = self.hidden();
        if let Ok(meta) = std::fs::symlink_metadata(&hidden) {
            ensure_plain(&hidden, &meta)?;
        }
        let states = self.states();
        std::fs::create_dir_all(&states).map_err(|e| Error::io(&states, e))?;
        let meta = std::fs::symlink_metadata(&states).map_err(|e| Error::io(&states, e))?;
        ensure_plain(&states, &meta)
    }

    /// The numbers of the states present, served or not, in no particular order.
    pub fn numbers(&self) -> Result<Vec<u64>, Error> {
        let states = self.states();
        let mut numbers = Vec::new();
        for entry in std::fs::read_dir(&states).map_err(|e| Error::io(&states, e))? {
            let entry = entry.map_err(|e| Error::io(&states, e))?;
            if let Some(n) = entry.file_name().to_str().and_then(|s| s.parse::<u64>().ok()) {
                numbers.push(n);
            }
        }
        Ok(numbers)
    }

    /// Moves the complete state built at `built` (on the same file system) to number `n`,
    /// durably. A leftover at that number (a state built but never served) is replaced.
    pub fn install(&self, built: &Path, n: u64) -> Result<PathBuf, Error> {
        let state = self.state(n);
        remove_if_exists(&state)?;
        std::fs::rename(built, &state).map_err(|e| Error::io(&state, e))?;
        sync_dir(&self.states())?;
        Ok(state)
    }

    /// Serves state `n`: a new symlink beside the served path, renamed over it (one atomic
    /// step), then the rename synced.
    pub fn switch_to(&self, n: u64) -> Result<(), Error> {
        let temp = self.root.join(format!(".{}.{n}.tmp", self.served));
        // A leftover of a crashed switch; symlink() below fails on anything still there.
        let _ = std::fs::remove_file(&temp);
        std::os::unix::fs::symlink(self.link_target(n), &temp).map_err(|e| Error::io(&temp, e))?;
        let served = self.served();
        std::fs::rename(&temp, &served).map_err(|e| Error::io(&served, e))?;
        sync_dir(&self.root)
    }

    /// Removes everything in `states/` but the states numbered `keep_from` or above.
    /// Failures are ignored: what is left is garbage the next prune removes, never served.
    pub fn prune(&self, keep_from: u64) {
        let Ok(entries) = std::fs::read_dir(self.states()) else {
            return;
        };
        for entry in entries.flatten() {
            let keep = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|n| n >= keep_from);
            if !keep {
                // remove_dir_all removes a symlink itself, never what it points at.
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// Refuses a symlink or a special file where the store expects its own file or directory:
/// nothing planted is followed.
pub fn ensure_plain(path: &Path, meta: &std::fs::Metadata) -> Result<(), Error> {
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Err(Error::Symlink {
            path: path.to_path_buf(),
        });
    }
    if !kind.is_file() && !kind.is_dir() {
        return Err(Error::Special {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Removes what is at `path`, a directory tree or a file (a symlink itself, never what it
/// points at); nothing there is not an error.
pub fn remove_if_exists(path: &Path) -> Result<(), Error> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path).map_err(|e| Error::io(path, e)),
        Ok(_) => std::fs::remove_file(path).map_err(|e| Error::io(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn built(dir: &StateDir, n: u64, content: &[u8]) -> PathBuf {
        let staging = dir.hidden().join(format!("staging-{n}"));
        std::fs::create_dir_all(staging.join("tree")).unwrap();
        std::fs::write(staging.join("tree/file"), content).unwrap();
        staging
    }

    #[test]
    fn states_are_installed_switched_and_pruned() {
        let root = tempfile::tempdir().unwrap();
        let dir = StateDir::new(root.path(), "repository", ".hidden", Some("tree"));
        dir.create_states().unwrap();
        assert_eq!(dir.current().unwrap(), None);
        for n in 1..=3 {
            dir.install(&built(&dir, n, &[n as u8]), n).unwrap();
            dir.switch_to(n).unwrap();
            assert_eq!(dir.current().unwrap(), Some(n));
            assert_eq!(std::fs::read(dir.served().join("file")).unwrap(), [n as u8]);
        }
        std::fs::create_dir(dir.states().join("junk")).unwrap();
        dir.prune(2);
        let mut numbers = dir.numbers().unwrap();
        numbers.sort();
        assert_eq!(numbers, [2, 3]);
        assert!(!dir.states().join("junk").exists());
    }

    #[test]
    fn a_served_path_that_is_not_our_symlink_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = StateDir::new(root.path(), "repository", ".hidden", None);
        std::fs::create_dir(dir.served()).unwrap();
        assert!(matches!(dir.current(), Err(Error::NotALink { .. })));
        std::fs::remove_dir(dir.served()).unwrap();
        for target in [
            "/etc",
            ".hidden/states/x",
            ".hidden/states/00000001/more",
            "elsewhere/states/1",
        ] {
            let _ = std::fs::remove_file(dir.served());
            std::os::unix::fs::symlink(target, dir.served()).unwrap();
            match dir.current() {
                Err(Error::ForeignTarget { target: t, .. }) => assert_eq!(t, Path::new(target)),
                other => panic!("{target}: {other:?}"),
            }
        }
        // With a served part, the link must end in it.
        let dir = StateDir::new(root.path(), "repository", ".hidden", Some("tree"));
        let _ = std::fs::remove_file(dir.served());
        std::os::unix::fs::symlink(".hidden/states/00000001", dir.served()).unwrap();
        assert!(matches!(dir.current(), Err(Error::ForeignTarget { .. })));
    }

    #[test]
    fn a_planted_states_symlink_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let dir = StateDir::new(root.path(), "repository", ".hidden", None);
        std::fs::create_dir(dir.hidden()).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), dir.states()).unwrap();
        assert!(matches!(dir.create_states(), Err(Error::Symlink { path }) if path == dir.states()));
        let hidden = tempfile::tempdir().unwrap();
        let dir = StateDir::new(hidden.path(), "repository", ".hidden", None);
        std::os::unix::fs::symlink(elsewhere.path(), dir.hidden()).unwrap();
        assert!(matches!(dir.create_states(), Err(Error::Symlink { path }) if path == dir.hidden()));
    }
}
