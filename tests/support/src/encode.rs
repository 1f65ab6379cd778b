//! File names and URL paths of the published layout.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Every byte except `A-Z a-z 0-9 - . _ ~`, as Python's `urllib.parse.quote(s, safe="")`.
const ROLE_NAME: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes a role name for a file name or URL, exactly as
/// `urllib.parse.quote(name, safe="")`: `?` -> `%3F`, `/delegatedrole` -> `%2Fdelegatedrole`.
pub fn encode_role_name(name: &str) -> String {
    utf8_percent_encode(name, ROLE_NAME).to_string()
}

/// Served path of a role's metadata (relative to the server root, `metadata/` included):
/// `metadata/V.<encoded>.json` with consistent snapshots, `metadata/<encoded>.json` without.
/// `timestamp` is always unversioned and `root` always versioned.
pub fn metadata_path(role: &str, version: u64, consistent: bool) -> String {
    if role == "timestamp" {
        "metadata/timestamp.json".to_string()
    } else if consistent || role == "root" {
        format!("metadata/{version}.{}.json", encode_role_name(role))
    } else {
        format!("metadata/{}.json", encode_role_name(role))
    }
}

/// Served path of a target file: `targets/<dir/>H.<basename>` for hash value `H` with
/// consistent snapshots, `targets/<path>` without.
pub fn target_path(path: &str, hash_hex: &str, consistent: bool) -> String {
    if !consistent {
        return format!("targets/{path}");
    }
    match path.rsplit_once('/') {
        Some((dir, base)) => format!("targets/{dir}/{hash_hex}.{base}"),
        None => format!("targets/{hash_hex}.{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_encode_like_python_quote() {
        assert_eq!(encode_role_name("?"), "%3F");
        assert_eq!(encode_role_name("#"), "%23");
        assert_eq!(encode_role_name("/delegatedrole"), "%2Fdelegatedrole");
        assert_eq!(encode_role_name("../delegatedrole"), "..%2Fdelegatedrole");
        assert_eq!(encode_role_name("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(encode_role_name("é "), "%C3%A9%20");
    }

    #[test]
    fn paths() {
        assert_eq!(metadata_path("root", 3, false), "metadata/3.root.json");
        assert_eq!(metadata_path("timestamp", 3, true), "metadata/timestamp.json");
        assert_eq!(metadata_path("?", 2, true), "metadata/2.%3F.json");
        assert_eq!(metadata_path("snapshot", 2, false), "metadata/snapshot.json");
        assert_eq!(target_path("a/b.json", "ff", true), "targets/a/ff.b.json");
        assert_eq!(target_path("b.json", "ff", true), "targets/ff.b.json");
        assert_eq!(target_path("a/b.json", "ff", false), "targets/a/b.json");
    }
}
