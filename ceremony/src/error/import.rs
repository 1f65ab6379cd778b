//! `trustroot init --import`: why a repository cannot be taken over as it is. Each names the
//! source file and, where one is at fault, the field; nothing is written when one is raised.

use trustroot_core::display::escape;
use trustroot_core::{ErrorClass, Hint};

/// An import was refused; the new signing repository was not created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// SOURCE is neither a tuf-on-ci checkout (`metadata/root_history/`) nor a published
    /// repository (`N.root.json` and `timestamp.json`).
    #[error(
        "{}: not a repository to import: a tuf-on-ci checkout has metadata/root_history/1.root.json, a published repository N.root.json and timestamp.json",
        escape(dir)
    )]
    NotASource { dir: String },
    /// A root version between the oldest and the newest is missing.
    #[error("{file} is missing (have {have}): a client walking the root chain stops there")]
    HistoryGap { file: String, have: String },
    /// The pinned root (`--root`) is not the source's own copy of that version.
    #[error(
        "the pinned root ({}) is root v{version}, but the source's {file} is another file of that version",
        escape(pinned)
    )]
    PinnedRootDiffers { pinned: String, version: u64, file: String },
    /// The pinned root is newer than every root of the source.
    #[error(
        "the pinned root ({}) is root v{version}, newer than the source's newest root v{newest}",
        escape(pinned)
    )]
    PinnedRootAhead { pinned: String, version: u64, newest: u64 },
    /// `metadata/root.json` of a checkout is not its newest `root_history` file.
    #[error("{file} is not {history} byte for byte: a tuf-on-ci checkout writes both together")]
    RootNotInHistory { file: String, history: String },
    /// One file names a version of another that the other is not.
    #[error("{file}: {field} is {listed}, but {other} is v{found}")]
    VersionContradiction {
        file: String,
        field: String,
        listed: u64,
        other: String,
        found: u64,
    },
    /// A role the repository lists has no metadata in the source.
    #[error("{file} is missing: {referrer} lists it")]
    MissingRole { file: String, referrer: String },
    /// Core refused the repository, walking it as a client from the pinned root.
    #[error("{file}: {source}")]
    Refused {
        file: String,
        #[source]
        source: trustroot_core::Error,
    },
    /// A target a role lists is absent from the source or differs from the listing.
    #[error("{file}: {role} v{version} lists {}, {problem}", escape(path))]
    Target {
        file: String,
        role: String,
        version: u64,
        path: String,
        problem: String,
    },
    /// Two keyholders' handles become the same key name.
    #[error(
        "{file}: keys.{first_id}.{field} '{}' and keys.{second_id}.{field} '{}' both become key name '{name}' (key names are compared ignoring case); rename one keyowner first",
        escape(first),
        escape(second)
    )]
    KeyownerCollision {
        file: String,
        field: String,
        first_id: String,
        first: String,
        second_id: String,
        second: String,
        name: String,
    },
    /// A key's online URI is of a kind trustroot cannot keep as an online key.
    #[error("{file}: keys.{keyid}.{field} '{}': {reason}", escape(uri))]
    OnlineUri {
        file: String,
        keyid: String,
        field: String,
        uri: String,
        reason: String,
    },
    /// The repository uses something trustroot's policy cannot express.
    #[error("{file}: {field}: {what}")]
    Unmodeled { file: String, field: String, what: String },
    /// A target is listed by another role than the one `ceremony start` would give it to.
    #[error(
        "{file}: {role} lists {}, but trustroot's policy gives that path to {owner} (the first delegation by name whose paths match, else targets): the next ceremony would move it",
        escape(path)
    )]
    TargetOwner {
        file: String,
        role: String,
        path: String,
        owner: String,
    },
}

impl ImportError {
    pub fn class(&self) -> ErrorClass {
        match self {
            ImportError::NotASource { .. } | ImportError::PinnedRootAhead { .. } => ErrorClass::Usage,
            _ => ErrorClass::Repository,
        }
    }

    pub fn hint(&self) -> Option<Hint> {
        match self {
            // An archived repository is imported as of a moment it was valid.
            ImportError::Refused { source, .. } if source.is_expired() => Some(Hint::ChooseReferenceTime),
            _ => None,
        }
    }
}
