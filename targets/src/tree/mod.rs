//! The target tree: the files under a signing repository's `targets/` directory, each
//! hashed once, named by its `/`-separated path relative to that directory.
//!
//! Rules, so that what is published is exactly what the keyholders reviewed:
//! - names starting with `.` (`.gitkeep`, `.DS_Store`, editor files) are skipped, files
//!   and directories alike;
//! - symbolic links and other non-regular files are refused (a link could pull in a file
//!   from outside the tree);
//! - names must be UTF-8, and each path a target path by core's rule
//!   ([`trustroot_core::target_path::validate`]): no backslashes or control characters;
//! - the tree is at most [`MAX_DEPTH`] directories deep.
//!
//! Modules:
//! - `list`: the walk (walkdir, sorted, links not followed) and the rules above, in order;
//! - `hash`: the files' lengths and sha256, on every core.

mod hash;
mod list;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

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
#[non_exhaustive]
pub enum TreeError {
    #[error("{}: {source}", escape(&path.display().to_string()))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {reason}", escape(&path.display().to_string()))]
    Refused { path: PathBuf, reason: Refusal },
}

/// Why an entry of a tree cannot be published as a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The root of the walk exists but is a file, a link or a device.
    #[error("is not a directory")]
    RootNotADirectory,
    #[error("is a symbolic link or special file; only regular files can be targets")]
    NotARegularFile,
    #[error("more than {MAX_DEPTH} directories deep")]
    TooDeep,
    #[error("the name is not UTF-8")]
    NameNotUtf8,
    /// An entry the walk reported outside the root it walked.
    #[error("is not under the tree's root")]
    OutsideRoot,
    /// Core refuses the name as a target path; in a file name that can only be a
    /// backslash or a control character.
    #[error("the name contains a backslash or a control character")]
    UnsafeName,
}

impl TreeError {
    /// A tree that cannot be read is I/O; one holding what cannot be a target is the
    /// local state the person publishes from.
    pub fn class(&self) -> trustroot_core::ErrorClass {
        match self {
            TreeError::Io { .. } => trustroot_core::ErrorClass::Io,
            TreeError::Refused { .. } => trustroot_core::ErrorClass::LocalState,
        }
    }
}

/// Walks `root` and hashes every file, keyed by target path. A missing `root` is an
/// empty tree. Of several problems, the one reported is the first in walk order (names
/// sorted, depth first).
pub fn walk(root: &Path) -> Result<BTreeMap<String, TreeFile>, TreeError> {
    match fs::symlink_metadata(root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(source) => {
            return Err(TreeError::Io {
                path: root.to_path_buf(),
                source,
            });
        }
        Ok(meta) if !meta.is_dir() => {
            return Err(TreeError::Refused {
                path: root.to_path_buf(),
                reason: Refusal::RootNotADirectory,
            });
        }
        Ok(_) => {}
    }
    let listing = list::list(root);
    // The files listed all come before the walk's refusal, if any: a failure to hash one
    // of them is the first problem.
    let files = hash::hash_all(&listing.files)?;
    if let Some(error) = listing.stopped_by {
        return Err(error);
    }
    Ok(files.into_iter().map(|file| (file.path.clone(), file)).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
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

    #[cfg(unix)]
    #[test]
    fn symlink_to_outside_file_is_refused() {
        // A link in the tree to a file outside it would publish that file's contents.
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), b"not for publishing").unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/a.json"), b"{}").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("sub/b.json")).unwrap();
        match walk(dir.path()) {
            Err(TreeError::Refused { path, reason }) => {
                assert_eq!(path, dir.path().join("sub/b.json"));
                assert_eq!(
                    reason.to_string(),
                    "is a symbolic link or special file; only regular files can be targets"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlink_to_outside_directory_is_refused_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), b"x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
        let err = walk(dir.path()).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        // A linked root is not a directory of the tree either.
        let err = walk(&dir.path().join("linked")).unwrap_err().to_string();
        assert!(err.ends_with("is not a directory"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn hidden_symlink_is_skipped_like_any_dot_name() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join(".link")).unwrap();
        fs::write(dir.path().join("a"), b"a").unwrap();
        assert_eq!(walk(dir.path()).unwrap().keys().collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn dot_entries_are_skipped_at_every_depth_but_not_the_root() {
        let parent = tempfile::tempdir().unwrap();
        let root = parent.path().join(".tree");
        fs::create_dir_all(root.join("a/.cache/deep")).unwrap();
        fs::create_dir_all(root.join(".hidden")).unwrap();
        fs::write(root.join("a/.cache/deep/x"), b"x").unwrap();
        fs::write(root.join(".hidden/y"), b"y").unwrap();
        fs::write(root.join("a/.swp"), b"z").unwrap();
        fs::write(root.join("a/..double"), b"z").unwrap();
        fs::write(root.join("a/kept.json"), b"{}").unwrap();
        // A hidden directory is skipped without a look inside: nothing in it is refused.
        fs::write(root.join(".hidden/bad\\name"), b"").unwrap();
        let files = walk(&root).unwrap();
        assert_eq!(files.keys().collect::<Vec<_>>(), ["a/kept.json"]);
    }

    #[test]
    fn names_core_refuses_as_target_paths_are_refused() {
        for name in ["back\\slash", "tab\there", "bell\u{7}"] {
            let dir = tempfile::tempdir().unwrap();
            fs::write(dir.path().join(name), b"").unwrap();
            match walk(dir.path()) {
                Err(TreeError::Refused { reason, .. }) => {
                    assert_eq!(
                        reason.to_string(),
                        "the name contains a backslash or a control character"
                    )
                }
                other => panic!("{name:?}: {other:?}"),
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_names_are_refused_even_when_dotted() {
        use std::os::unix::ffi::OsStrExt as _;
        for name in [&b"a\xff"[..], &b".\xff"[..]] {
            let dir = tempfile::tempdir().unwrap();
            fs::write(dir.path().join(std::ffi::OsStr::from_bytes(name)), b"").unwrap();
            let err = walk(dir.path()).unwrap_err().to_string();
            assert!(err.ends_with("the name is not UTF-8"), "{err}");
        }
    }

    #[test]
    fn depth_limit() {
        let dir = tempfile::tempdir().unwrap();
        let deepest = (0..MAX_DEPTH).fold(dir.path().to_path_buf(), |path, _| path.join("d"));
        fs::create_dir_all(&deepest).unwrap();
        fs::write(deepest.join("leaf"), b"ok").unwrap();
        let target = format!("{}leaf", "d/".repeat(MAX_DEPTH));
        assert_eq!(walk(dir.path()).unwrap().keys().collect::<Vec<_>>(), [&target]);
        // One directory deeper is refused, even empty, naming that directory.
        fs::create_dir(deepest.join("e")).unwrap();
        match walk(dir.path()) {
            Err(TreeError::Refused { path, reason }) => {
                assert_eq!(path, deepest.join("e"));
                assert_eq!(reason.to_string(), format!("more than {MAX_DEPTH} directories deep"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn many_file_tree_hashes_as_a_single_threaded_reference() {
        let dir = tempfile::tempdir().unwrap();
        let mut reference = BTreeMap::new();
        for i in 0..400usize {
            // Sizes from empty to past the 64 KiB read buffer; names that sort differently
            // as paths and as strings (`a/b` and `a.b`).
            let target = match i % 4 {
                0 => format!("flat{i}"),
                1 => format!("d{}/f{i}.json", i % 7),
                2 => format!("d{}.x/e{}/g{i}", i % 3, i % 5),
                _ => format!("d{}/e/f{i}", i % 2),
            };
            let contents: Vec<u8> = (0..(i * 337) % 150_000).map(|j| (j * 31 + i) as u8).collect();
            let path = dir.path().join(&target);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, &contents).unwrap();
            let file = TreeFile {
                path: target.clone(),
                length: contents.len() as u64,
                sha256: trustroot_core::hashes::sha256_hex(&contents),
            };
            reference.insert(target, file);
        }
        for _ in 0..3 {
            assert_eq!(walk(dir.path()).unwrap(), reference);
        }
    }

    #[test]
    fn first_refusal_in_walk_order_is_reported() {
        // `a/` is walked before `a.x`: its deeper problem is the one reported.
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("a")).unwrap();
        fs::write(dir.path().join("a.x\\"), b"").unwrap();
        fs::write(dir.path().join("a/z\\"), b"").unwrap();
        for _ in 0..5 {
            match walk(dir.path()) {
                Err(TreeError::Refused { path, .. }) => assert_eq!(path, dir.path().join("a/z\\")),
                other => panic!("{other:?}"),
            }
        }
    }
}
