//! Whether two directories overlap, as written and with symlinks resolved: a push, a
//! publish or a mirror must never write into the directories it reads from, and a
//! symlink or a `..` must not hide that.

use std::path::{Path, PathBuf};

/// `a` is `b`, or one holds the other, as written or with symlinks resolved.
pub fn overlaps(a: &Path, b: &Path) -> bool {
    let (ra, rb) = (resolve(a), resolve(b));
    a.starts_with(b) || b.starts_with(a) || ra.starts_with(&rb) || rb.starts_with(&ra)
}

/// `path` with its longest existing ancestor resolved (symlinks, `..`) and the rest
/// appended, `..` in the rest applied lexically (the rest may not exist yet: a push or a
/// publish creates it).
pub fn resolve(path: &Path) -> PathBuf {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while std::fs::symlink_metadata(&existing).is_err() {
        // The last component, `..` included (`file_name` has none for a path ending in
        // `..`, which would stop the walk with `missing/..` unresolved).
        let Some(last) = existing.components().next_back() else {
            break;
        };
        let last = last.as_os_str().to_os_string();
        if !existing.pop() {
            break;
        }
        rest.push(last);
    }
    let mut resolved = std::fs::canonicalize(&existing).unwrap_or(existing);
    for name in rest.into_iter().rev() {
        if name == ".." {
            resolved.pop();
        } else if name != "." {
            resolved.push(name);
        }
        // Past a `..`, what follows may exist again, and be a symlink.
        if let Ok(canonical) = std::fs::canonicalize(&resolved) {
            resolved = canonical;
        }
    }
    resolved
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_symlink_or_dotdot_does_not_hide_an_overlap() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("metadata")).unwrap();
        std::os::unix::fs::symlink(repo.join("metadata"), dir.path().join("link")).unwrap();
        assert!(overlaps(&dir.path().join("link/out"), &repo.join("metadata")));
        assert!(overlaps(
            &dir.path().join("elsewhere/../repo/metadata/x"),
            &repo.join("metadata")
        ));
        assert!(!overlaps(&dir.path().join("published"), &repo.join("metadata")));
    }
}
