//! Names that cross APIs as types rather than strings: a role name, a key ID, a target
//! path. Each displays escaped (see [`crate::display::escape`]), since all three come from
//! metadata a hostile repository writes; each borrows as `str`, so maps keyed by them are
//! searched with plain names.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use crate::display::escape;
use crate::error::Result;

macro_rules! string_name {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        // No `Deserialize`: a name is made by the constructor that states what it checked.
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&escape(&self.0))
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }
    };
}

string_name!(
    /// The name of a role: `root`, `timestamp`, `snapshot`, `targets`, or a delegated role's
    /// name as its delegator wrote it (any string; percent-encode it with
    /// [`RoleName::file_name`] before it names a file).
    RoleName
);

string_name!(
    /// A key ID as metadata names it. [`crate::Key::computed_key_id`] makes the one a key
    /// should have; a listed ID is only a label until compared with it.
    KeyId
);

string_name!(
    /// A target path that passed [`crate::target_path::validate`]: relative, plain
    /// segments, no backslash or control character. Only [`TargetPath::parse`] makes one.
    TargetPath
);

impl RoleName {
    pub fn new(name: impl Into<String>) -> RoleName {
        RoleName(name.into())
    }

    /// The metadata file of this role: `<name>.json`, or `<version>.<name>.json`, the
    /// name percent-encoded.
    pub fn file_name(&self, version: Option<u64>) -> String {
        crate::role_name::metadata_file_name(&self.0, version)
    }
}

impl From<&str> for RoleName {
    fn from(name: &str) -> RoleName {
        RoleName::new(name)
    }
}

impl From<String> for RoleName {
    fn from(name: String) -> RoleName {
        RoleName(name)
    }
}

impl KeyId {
    pub fn new(id: impl Into<String>) -> KeyId {
        KeyId(id.into())
    }
}

impl TargetPath {
    /// Checks `path` as a target path; the error names it.
    pub fn parse(path: &str) -> Result<TargetPath> {
        crate::target_path::validate(path)?;
        Ok(TargetPath(path.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_display_escaped_and_borrow_as_str() {
        let role = RoleName::new("evil\u{1b}[2J");
        assert_eq!(role.to_string(), escape("evil\u{1b}[2J"));
        assert_eq!(role.as_str(), "evil\u{1b}[2J");
        let mut map = std::collections::BTreeMap::new();
        map.insert(RoleName::new("targets"), 1);
        assert_eq!(map.get("targets"), Some(&1));
        assert_eq!(RoleName::new("x/y").file_name(Some(2)), "2.x%2Fy.json");
    }

    #[test]
    fn target_path_traversal_is_refused_at_parse() {
        assert!(TargetPath::parse("../escape").is_err());
        assert!(TargetPath::parse("/etc/passwd").is_err());
        assert_eq!(TargetPath::parse("dir/file.json").unwrap(), "dir/file.json");
    }
}
