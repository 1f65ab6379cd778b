//! Target paths: refusing names that would escape a directory, and the
//! consistent-snapshot names targets are published under.

use crate::error::{Error, ErrorKind, Result};

/// Checks that a target path is a relative path of plain segments, safe to map onto a
/// directory: no empty, `.` or `..` segment, no leading `/`, no backslash, no control
/// characters. A hostile repository (or a hostile user) can otherwise name
/// `../../etc/cron.d/x`.
pub fn validate(path: &str) -> Result<()> {
    let refuse = |reason: &str| {
        Err(Error::new(
            path,
            ErrorKind::UnsafePath {
                reason: reason.to_string(),
            },
        ))
    };
    if path.is_empty() {
        return refuse("the path is empty");
    }
    if path.starts_with('/') {
        return refuse("the path is absolute");
    }
    if path.contains('\\') {
        return refuse("the path contains a backslash");
    }
    if path.chars().any(char::is_control) {
        return refuse("the path contains a control character");
    }
    for segment in path.split('/') {
        match segment {
            "" => return refuse("the path has an empty segment"),
            "." | ".." => return refuse("the path has a '.' or '..' segment"),
            _ => {}
        }
    }
    Ok(())
}

/// Splits a target path into its directory part (with the trailing `/`, or empty) and its
/// file name.
pub fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => ("", path),
    }
}

/// The name a target is published under in a consistent snapshot: `a/b.json` with hash
/// `H` becomes `a/H.b.json`.
pub fn consistent_name(path: &str, hex_digest: &str) -> String {
    let (dir, base) = split(path);
    format!("{dir}{hex_digest}.{base}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_path_traversal_in_target_names() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "a/./b",
            "a\\b",
            "a/",
            "a\0b",
        ] {
            assert!(validate(bad).is_err(), "{bad:?} was accepted");
        }
        for good in ["trusted_root.json", "a/b.json", "nonexistent target", "..x/y..", "%2F"] {
            assert!(validate(good).is_ok(), "{good:?} was refused");
        }
    }

    #[test]
    fn consistent_names_keep_the_directory() {
        assert_eq!(consistent_name("a/b.json", "ff"), "a/ff.b.json");
        assert_eq!(consistent_name("b.json", "ff"), "ff.b.json");
    }
}
