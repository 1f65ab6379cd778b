//! Role names as file names and URL parts.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Every byte except `A-Z a-z 0-9 - . _ ~` is encoded, as Python's
/// `urllib.parse.quote(name, safe="")` does. Any role name then becomes one safe path
/// segment: `../x` becomes `..%2Fx`, which is a plain file name.
const ROLE_NAME_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The percent-encoded form of a role name.
pub fn encode(name: &str) -> String {
    utf8_percent_encode(name, ROLE_NAME_SET).to_string()
}

/// The metadata file name of a role: `<name>.json`, or `<version>.<name>.json` for a
/// consistent snapshot.
pub fn metadata_file_name(name: &str, version: Option<u64>) -> String {
    match version {
        Some(v) => format!("{v}.{}.json", encode(name)),
        None => format!("{}.json", encode(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_python_quote_with_no_safe_characters() {
        assert_eq!(encode("targets"), "targets");
        assert_eq!(encode("../delegatedrole"), "..%2Fdelegatedrole");
        assert_eq!(encode("/delegatedrole"), "%2Fdelegatedrole");
        assert_eq!(encode("?"), "%3F");
        assert_eq!(encode("#"), "%23");
        assert_eq!(encode("a b~c"), "a%20b~c");
        assert_eq!(metadata_file_name("x/y", Some(3)), "3.x%2Fy.json");
    }
}
