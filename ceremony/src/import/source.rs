//! What `init --import` reads: a tuf-on-ci checkout (`metadata/` with `root_history/`,
//! `targets/` under plain names) or a published repository (`N.root.json`,
//! `timestamp.json`, versioned roles, targets under hashed names). Only reading here:
//! whether the bytes can be trusted is `verify`'s job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use trustroot_core::role_name::metadata_file_name;
use trustroot_core::target_path::consistent_name;

use crate::error::{Error, FileProblem, ImportError, IoOp, Result};
use crate::keys::read_limited;
use crate::repo::MAX_METADATA_SIZE;

/// How the source lays out its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// tuf-on-ci's source layout: `metadata/<role>.json` (unversioned),
    /// `metadata/root_history/N.root.json`, `targets/<path>`.
    Checkout,
    /// A published repository: `N.root.json`, `timestamp.json`, `V.<role>.json`,
    /// `targets/<dir>/<sha256>.<name>`.
    Published,
}

impl Layout {
    pub fn describe(self) -> &'static str {
        match self {
            Layout::Checkout => "tuf-on-ci checkout",
            Layout::Published => "published repository",
        }
    }
}

/// An import source on disk.
#[derive(Debug, Clone)]
pub struct Source {
    pub layout: Layout,
    pub dir: PathBuf,
    /// Every root version the source holds, by version (the file's bytes).
    pub history: BTreeMap<u64, Vec<u8>>,
}

impl Source {
    /// Finds the layout of `dir` and reads its root history; a gap in the history is
    /// refused here, before anything is verified.
    pub fn open(dir: &Path) -> Result<Source> {
        let layout = if dir.join("metadata/root_history").is_dir() {
            Layout::Checkout
        } else if dir.join("timestamp.json").is_file() {
            Layout::Published
        } else if dir.is_dir() {
            return Err(ImportError::NotASource {
                dir: dir.display().to_string(),
            }
            .into());
        } else {
            return Err(Error::io(
                dir,
                IoOp::Read,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
            ));
        };
        let mut source = Source {
            layout,
            dir: dir.to_path_buf(),
            history: BTreeMap::new(),
        };
        source.read_history()?;
        Ok(source)
    }

    /// The directory root versions are read from, and how a name holds the version.
    fn history_dir(&self) -> PathBuf {
        match self.layout {
            Layout::Checkout => self.dir.join("metadata/root_history"),
            Layout::Published => self.dir.clone(),
        }
    }

    fn read_history(&mut self) -> Result<()> {
        let dir = self.history_dir();
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, IoOp::Read, e))?;
        let mut versions = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, IoOp::Read, e))?;
            let name = entry.file_name();
            let Some(version) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".root.json"))
                .and_then(|v| v.parse::<u64>().ok())
            else {
                continue;
            };
            versions.push(version);
        }
        versions.sort_unstable();
        // A client walks at most this many root versions; more files than that is no
        // repository a client could follow, and would only cost memory to read.
        let most = trustroot_core::Limits::default().max_root_rotations as usize + 1;
        if versions.len() > most {
            return Err(ImportError::Unmodeled {
                file: self.root_file(versions[most]),
                field: "root history".to_string(),
                what: format!("{} root versions, more than the {most} a client walks", versions.len()),
            }
            .into());
        }
        let (Some(&first), Some(&last)) = (versions.first(), versions.last()) else {
            return Err(ImportError::NotASource {
                dir: self.dir.display().to_string(),
            }
            .into());
        };
        if let Some(missing) = (first..=last).find(|v| versions.binary_search(v).is_err()) {
            return Err(ImportError::HistoryGap {
                file: self.root_file(missing),
                have: ranges(&versions),
            }
            .into());
        }
        let root_limit = trustroot_core::Limits::default().max_root_size;
        for version in versions {
            let bytes = read_limited(&self.path(&self.root_file(version))?, root_limit)?;
            self.history.insert(version, bytes);
        }
        if self.layout == Layout::Checkout {
            let newest = self.root_file(last);
            let root = self.read("metadata/root.json")?;
            if self.history.get(&last) != Some(&root) {
                return Err(ImportError::RootNotInHistory {
                    file: "metadata/root.json".to_string(),
                    history: newest,
                }
                .into());
            }
        }
        Ok(())
    }

    /// The source's file of root `version`, as messages name it.
    pub fn root_file(&self, version: u64) -> String {
        match self.layout {
            Layout::Checkout => format!("metadata/root_history/{version}.root.json"),
            Layout::Published => format!("{version}.root.json"),
        }
    }

    /// The source's file of a role other than root: unversioned in a checkout, versioned
    /// (where the repository names a version) in a published repository.
    pub fn role_file(&self, role: &str, version: Option<u64>) -> String {
        match self.layout {
            Layout::Checkout => format!("metadata/{}", metadata_file_name(role, None)),
            Layout::Published => metadata_file_name(role, version),
        }
    }

    /// Where the bytes of a target are: its plain path in a checkout, its hashed name in a
    /// published repository.
    pub fn target_file(&self, path: &str, sha256: &str) -> String {
        match self.layout {
            Layout::Checkout => format!("targets/{path}"),
            Layout::Published => format!("targets/{}", consistent_name(path, sha256)),
        }
    }

    /// Whether the source has `file` (a name from [`Self::role_file`] and the like).
    pub fn has(&self, file: &str) -> bool {
        self.dir.join(file).is_file()
    }

    /// Reads `file` (relative to the source), at most the metadata size limit. A symbolic
    /// link is refused: the source's bytes are its own files, never something it points at.
    pub fn read(&self, file: &str) -> Result<Vec<u8>> {
        let path = self.path(file)?;
        read_limited(&path, MAX_METADATA_SIZE)
    }

    /// The path of `file` inside the source, refusing any symbolic link on the way.
    pub fn path(&self, file: &str) -> Result<PathBuf> {
        let mut path = self.dir.clone();
        for part in file.split('/') {
            path.push(part);
            if let Ok(meta) = std::fs::symlink_metadata(&path)
                && meta.file_type().is_symlink()
            {
                return Err(Error::content(&path, FileProblem::SymbolicLink));
            }
        }
        Ok(path)
    }
}

/// "1–6, 8–15": versions as ranges, for a message.
fn ranges(versions: &[u64]) -> String {
    let mut parts = Vec::new();
    let mut iter = versions.iter().copied().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end = iter.next().unwrap_or(end);
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}–{end}")
        });
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::ranges;

    #[test]
    fn ranges_name_the_gap() {
        assert_eq!(ranges(&[1, 2, 3, 4, 5, 6, 8, 9, 10]), "1–6, 8–10");
        assert_eq!(ranges(&[3]), "3");
    }
}
