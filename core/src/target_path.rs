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

/// The number of hex digits of a digest of `algorithm`, for the algorithms whose digests
/// become parts of file names (`sha256`, `sha512`); `None` for any other algorithm, whose
/// digests are kept but never used in a name.
pub fn hex_digest_len(algorithm: &str) -> Option<usize> {
    match algorithm {
        "sha256" => Some(64),
        "sha512" => Some(128),
        _ => None,
    }
}

/// True when `value` is a digest of `algorithm` that may become part of a file name: hex
/// digits, exactly as many as the algorithm's digest has.
pub fn is_hex_digest(algorithm: &str, value: &str) -> bool {
    hex_digest_len(algorithm).is_some_and(|len| value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks what a client needs before it uses a target listed in trusted metadata: every
/// `sha256` and `sha512` value is a hex digest of its length (it becomes part of a file
/// name and a URL), and at least one of them is listed (nothing else can be checked).
/// Metadata listing an unusable target still loads: only that target fails, with an error
/// naming it, as python-tuf fails only that target.
pub fn check_usable(path: &str, hashes: &std::collections::BTreeMap<String, String>) -> Result<()> {
    let refuse = |reason: String| Err(Error::new(path, ErrorKind::UnusableTarget { reason }));
    let mut known = 0;
    for (algorithm, value) in hashes {
        let Some(len) = hex_digest_len(algorithm) else {
            continue;
        };
        if !is_hex_digest(algorithm, value) {
            return refuse(format!(
                "its {algorithm} is not {len} hex digits: '{}'",
                crate::display::escape(value)
            ));
        }
        known += 1;
    }
    if known == 0 {
        let listed: Vec<String> = hashes.keys().map(|a| crate::display::escape(a).into_owned()).collect();
        return refuse(format!(
            "it lists no sha256 or sha512 hash (only: {})",
            listed.join(", ")
        ));
    }
    Ok(())
}

/// The name a target is published under in a consistent snapshot: `a/b.json` with hash
/// `H` becomes `a/H.b.json`.
pub fn consistent_name(path: &str, hex_digest: &str) -> String {
    let (dir, base) = split(path);
    format!("{dir}{hex_digest}.{base}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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
    fn a_hash_value_that_is_a_path_makes_only_its_target_unusable() {
        let hashes = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            pairs.iter().map(|(a, v)| (a.to_string(), v.to_string())).collect()
        };
        let good = "ab".repeat(32);
        let good512 = "CD".repeat(64);
        assert!(check_usable("t", &hashes(&[("sha256", &good)])).is_ok());
        assert!(check_usable("t", &hashes(&[("sha256", &good), ("sha512", &good512)])).is_ok());
        // Unknown algorithms are kept, never used in names, and do not make it unusable.
        assert!(check_usable("t", &hashes(&[("sha256", &good), ("blake2b", "../../x")])).is_ok());
        for bad in [
            hashes(&[("sha256", &good), ("sha512", "../../../../victim/")]),
            hashes(&[("sha256", "../x")]),
            hashes(&[("sha256", &good[..63])]),
            hashes(&[("sha256", &format!("{good}0"))]),
            hashes(&[("sha256", &format!("{}/x", &good[..62]))]),
            hashes(&[("blake2b", &good)]),
        ] {
            let error = check_usable("npm/x", &bad).unwrap_err();
            assert!(matches!(error.kind, ErrorKind::UnusableTarget { .. }), "{error}");
            assert!(error.to_string().starts_with("npm/x: unusable target: "), "{error}");
        }
    }

    #[test]
    fn consistent_names_keep_the_directory() {
        assert_eq!(consistent_name("a/b.json", "ff"), "a/ff.b.json");
        assert_eq!(consistent_name("b.json", "ff"), "ff.b.json");
    }
}
