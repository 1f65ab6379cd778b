//! Names inside a mirror state. Every file a sync creates, links or removes in the state it
//! builds is named by a [`TreePath`]: a relative path proven, when it was made, to stay
//! inside the directory it is joined to. Names come from hostile metadata (target paths,
//! hash values, role names), so nothing else may be joined to a state's directory.

use std::path::{Path, PathBuf};

use trustroot_core::display::escape;
use trustroot_core::target_path;

/// The longest file name (one path segment, in bytes) Linux file systems store.
pub const NAME_MAX: usize = 255;

/// Why a name cannot be a [`TreePath`]; the name is escaped when shown.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TreePathError {
    /// `reason` is trustroot-core's, from its target path check.
    #[error("its file name {} is unsafe: {reason}", escape(path))]
    Unsafe { path: String, reason: String },
    #[error(
        "its file name {} has a segment of {bytes} bytes, over the file-name limit of {NAME_MAX}",
        escape(path)
    )]
    SegmentTooLong { path: String, bytes: usize },
    #[error("{0}")]
    Invalid(trustroot_core::Error),
}

/// A relative path of plain segments (no empty, `.` or `..` segment, no leading `/`, no
/// backslash, no control character), each segment at most [`NAME_MAX`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TreePath(String);

impl TreePath {
    /// Checks `relative`; the error is the reason, for a report that names the target.
    pub fn new(relative: &str) -> Result<TreePath, TreePathError> {
        if let Err(error) = target_path::validate(relative) {
            return Err(match error.kind {
                trustroot_core::ErrorKind::UnsafePath { reason } => TreePathError::Unsafe {
                    path: relative.to_string(),
                    reason,
                },
                _ => TreePathError::Invalid(error),
            });
        }
        if let Some(long) = relative.split('/').find(|segment| segment.len() > NAME_MAX) {
            return Err(TreePathError::SegmentTooLong {
                path: relative.to_string(),
                bytes: long.len(),
            });
        }
        Ok(TreePath(relative.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// This path inside `dir`.
    pub fn under(&self, dir: &Path) -> PathBuf {
        dir.join(&self.0)
    }

    /// The directories this path lies in, outermost first: `a`, `a/b` for `a/b/c`.
    pub fn parents(&self) -> impl Iterator<Item = &str> {
        self.0.match_indices('/').map(|(i, _)| &self.0[..i])
    }
}

/// Lets a map keyed by tree paths be searched by a plain name (both order alike).
impl std::borrow::Borrow<str> for TreePath {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for TreePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&escape(&self.0))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_hash_value_that_climbs_out_of_the_tree_is_no_tree_path() {
        let climbing = format!("targets/npm/{}.bashrc", "../../../../../../victim/");
        for bad in [
            climbing.as_str(),
            "/etc/passwd",
            "targets/a\\b",
            "targets/npm/..",
            "targets//x",
            "targets/x\0",
        ] {
            assert!(TreePath::new(bad).is_err(), "{bad:?}");
        }
        let long = format!("targets/npm/{}.{}", "a".repeat(128), "x".repeat(200));
        let error = TreePath::new(&long).unwrap_err().to_string();
        assert!(error.contains("329 bytes") && error.contains("limit of 255"), "{error}");
    }

    #[test]
    fn plain_names_stay_under_their_directory() {
        let path = TreePath::new("targets/a/b.json").unwrap();
        assert_eq!(path.under(Path::new("/m/tree")), Path::new("/m/tree/targets/a/b.json"));
        assert_eq!(path.parents().collect::<Vec<_>>(), ["targets", "targets/a"]);
        assert!(TreePath::new("1.root.json").unwrap().parents().next().is_none());
    }
}
