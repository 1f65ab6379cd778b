//! Listing the tree: the walk, and the tree's rules for names and kinds of file. Hashing
//! is left to `hash`: the walk stays sequential, so its order (sorted, depth first) is
//! the order refusals and errors are reported in.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::{MAX_DEPTH, Refusal, TreeError};

/// A regular file the walk found.
#[derive(Debug)]
pub(super) struct Listed {
    /// Its target path: relative to the tree's root, segments joined with `/`.
    pub target: String,
    /// Where it is on disk.
    pub path: PathBuf,
}

/// The files found in walk order, up to the first refusal or error, which the caller
/// reports only after hashing those files: a failure to hash one of them came first.
pub(super) struct Listing {
    pub files: Vec<Listed>,
    pub stopped_by: Option<TreeError>,
}

pub(super) fn list(root: &Path) -> Listing {
    let mut files = Vec::new();
    let stopped_by = visit(root, |file| files.push(file)).err();
    Listing { files, stopped_by }
}

fn visit(root: &Path, mut found: impl FnMut(Listed)) -> Result<(), TreeError> {
    // The directories being read, by depth: walkdir reports an entry it failed to read
    // without a path, and the error names the directory instead.
    let mut open: Vec<PathBuf> = vec![root.to_path_buf()];
    let entries = WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        // Directories MAX_DEPTH deep are read; the ones inside them are seen, to be refused.
        .max_depth(MAX_DEPTH + 1)
        .into_iter()
        // The root is exempt: its name is the caller's (and `.` when it is the current
        // directory).
        .filter_entry(|entry| entry.depth() == 0 || !is_hidden(entry.file_name()));
    for entry in entries {
        let entry = entry.map_err(|e| walk_error(e, &open, root))?;
        let depth = entry.depth();
        if depth == 0 {
            continue;
        }
        let path = entry.path();
        let target = target_path(root, path)?;
        let kind = entry.file_type();
        if kind.is_dir() {
            if depth > MAX_DEPTH {
                return Err(refused(path, Refusal::TooDeep));
            }
            open.truncate(depth);
            open.push(path.to_path_buf());
        } else if kind.is_file() {
            found(Listed {
                target,
                path: path.to_path_buf(),
            });
        } else {
            // With links not followed, a link is reported as a link: refusing it keeps a
            // link from pulling in a file from outside the tree.
            return Err(refused(path, Refusal::NotARegularFile));
        }
    }
    Ok(())
}

/// Names starting with `.` (`.gitkeep`, `.git/`, `.DS_Store`, editor files) are not part
/// of the tree. A name that is not UTF-8 is not skipped, whatever it starts with: it is
/// refused, as it always was.
fn is_hidden(name: &OsStr) -> bool {
    name.to_str().is_some_and(|name| name.starts_with('.'))
}

/// The target path of an entry the walk found under `root`, checked by core's rule for
/// target paths. The entry's ancestors were checked when the walk passed them, so only
/// its own name can fail.
fn target_path(root: &Path, path: &Path) -> Result<String, TreeError> {
    let name = path.file_name().and_then(OsStr::to_str);
    if name.is_none() {
        return Err(refused(path, Refusal::NameNotUtf8));
    }
    let segments: Option<Vec<&str>> = path
        .strip_prefix(root)
        .ok()
        .and_then(|relative| relative.iter().map(OsStr::to_str).collect());
    let Some(segments) = segments else {
        return Err(refused(path, Refusal::OutsideRoot));
    };
    let target = segments.join("/");
    // A name read from a directory holds no `/` and is never empty, `.` or `..` (nor any
    // other dot-name: those are skipped), so core refuses it only for a backslash or a
    // control character; the message says so in the words of a file name.
    trustroot_core::target_path::validate(&target).map_err(|_| refused(path, Refusal::UnsafeName))?;
    Ok(target)
}

fn refused(path: &Path, reason: Refusal) -> TreeError {
    TreeError::Refused {
        path: path.to_path_buf(),
        reason,
    }
}

fn walk_error(error: walkdir::Error, open: &[PathBuf], root: &Path) -> TreeError {
    // An error without a path is a failed read of the entries of the directory one level
    // up from the error's depth.
    let path = match error.path() {
        Some(path) => path.to_path_buf(),
        None => error
            .depth()
            .checked_sub(1)
            .and_then(|depth| open.get(depth))
            .map_or_else(|| root.to_path_buf(), Clone::clone),
    };
    let source = error
        .into_io_error()
        // Only a link loop has no I/O error, and links are not followed.
        .unwrap_or_else(|| std::io::Error::other("a loop of symbolic links"));
    TreeError::Io { path, source }
}
