//! The target tree: the files under a signing repository's `targets/` directory, each
//! hashed once, named by its `/`-separated path relative to that directory.
//!
//! Rules, so that what is published is exactly what the keyholders reviewed:
//! - names starting with `.` (`.gitkeep`, `.DS_Store`, editor files) are skipped, files
//!   and directories alike;
//! - symbolic links and other non-regular files are refused (a link could pull in a file
//!   from outside the tree);
//! - names must be UTF-8 without backslashes or control characters, since they become
//!   TUF target paths;
//! - the tree is at most [`MAX_DEPTH`] directories deep.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use trustroot_core::display::escape;

/// Deepest directory nesting accepted under the tree's root.
pub const MAX_DEPTH: usize = 32;

/// One file of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// Path relative to the tree's root, segments joined with `/`.
    pub path: String,
    /// Length in bytes.
    pub length: u64,
    /// sha256 of the contents, lowercase hex.
    pub sha256: String,
}

/// Why a tree could not be walked.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("{}: {source}", escape(&path.display().to_string()))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {reason}", escape(&path.display().to_string()))]
    Refused { path: PathBuf, reason: String },
}

/// Walks `root` and hashes every file, keyed by target path. A missing `root` is an
/// empty tree.
pub fn walk(root: &Path) -> Result<BTreeMap<String, TreeFile>, TreeError> {
    let mut files = BTreeMap::new();
    match fs::symlink_metadata(root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(source) => {
            return Err(TreeError::Io {
                path: root.to_path_buf(),
                source,
            });
        }
        Ok(meta) if !meta.is_dir() => {
            return Err(TreeError::Refused {
                path: root.to_path_buf(),
                reason: "is not a directory".to_string(),
            });
        }
        Ok(_) => {}
    }
    walk_dir(root, "", 0, &mut files)?;
    Ok(files)
}

fn walk_dir(dir: &Path, prefix: &str, depth: usize, files: &mut BTreeMap<String, TreeFile>) -> Result<(), TreeError> {
    if depth > MAX_DEPTH {
        return Err(TreeError::Refused {
            path: dir.to_path_buf(),
            reason: format!("more than {MAX_DEPTH} directories deep"),
        });
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TreeError::Io { path, source }
    };
    let mut entries: Vec<fs::DirEntry> = fs::read_dir(dir)
        .map_err(io(dir))?
        .collect::<Result<_, _>>()
        .map_err(io(dir))?;
    entries.sort_by_key(fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(TreeError::Refused {
                path,
                reason: "the name is not UTF-8".to_string(),
            });
        };
        if name.starts_with('.') {
            continue;
        }
        if name.contains('\\') || name.chars().any(char::is_control) {
            return Err(TreeError::Refused {
                path,
                reason: "the name contains a backslash or a control character".to_string(),
            });
        }
        let target = format!("{prefix}{name}");
        let kind = entry.file_type().map_err(io(&path))?;
        if kind.is_dir() {
            walk_dir(&path, &format!("{target}/"), depth + 1, files)?;
        } else if kind.is_file() {
            let (length, sha256) = hash_file(&path)?;
            files.insert(
                target.clone(),
                TreeFile {
                    path: target,
                    length,
                    sha256,
                },
            );
        } else {
            return Err(TreeError::Refused {
                path,
                reason: "is a symbolic link or special file; only regular files can be targets".to_string(),
            });
        }
    }
    Ok(())
}

fn hash_file(path: &Path) -> Result<(u64, String), TreeError> {
    let io = |source| TreeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut length = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(io)?;
        if n == 0 {
            break;
        }
        length += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((length, hex::encode(hasher.finalize())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn walks_hashes_and_skips_hidden_names() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/b")).unwrap();
        fs::create_dir_all(dir.path().join(".git")).unwrap();
        fs::write(dir.path().join("a/b/x.json"), b"hello").unwrap();
        fs::write(dir.path().join("top.txt"), b"").unwrap();
        fs::write(dir.path().join(".gitkeep"), b"").unwrap();
        fs::write(dir.path().join(".git/config"), b"x").unwrap();
        let files = walk(dir.path()).unwrap();
        assert_eq!(files.keys().collect::<Vec<_>>(), ["a/b/x.json", "top.txt"]);
        let x = &files["a/b/x.json"];
        assert_eq!(x.length, 5);
        assert_eq!(
            x.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }

    #[test]
    fn missing_tree_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(walk(&dir.path().join("nope")).unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link")).unwrap();
        let err = walk(dir.path()).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
    }
}
