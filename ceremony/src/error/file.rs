//! Files and directories: what was being done when the disk failed ([`IoOp`]), and what is
//! wrong with a file that could be read ([`FileProblem`]).

use std::fmt;

use trustroot_core::display::escape;
use trustroot_core::{ErrorClass, Hint, RoleName};

/// What was being done to a path when reading or writing failed. Displays as the start
/// of the message (`cannot read: `), empty when the path says enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IoOp {
    Read,
    Create,
    Write,
    Remove,
    Copy,
    /// Listing a directory, resolving a path or opening a file to append.
    Access,
    OpenLock,
    Lock,
}

impl fmt::Display for IoOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IoOp::Read => "cannot read: ",
            IoOp::Create => "cannot create: ",
            IoOp::Write => "cannot write: ",
            IoOp::Remove => "cannot remove: ",
            IoOp::Copy => "cannot copy: ",
            IoOp::Access => "",
            IoOp::OpenLock => "cannot open the repository lock: ",
            IoOp::Lock => "cannot lock: ",
        })
    }
}

/// What is wrong with a file or directory that is there. The path is beside it in
/// [`crate::Error::File`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileProblem {
    #[error("not UTF-8")]
    NotUtf8,
    #[error("not valid TOML: {reason}")]
    NotToml { reason: String },
    #[error("larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the passphrase is not UTF-8")]
    PassphraseNotUtf8,
    #[error("the passphrase file is empty")]
    PassphraseEmpty,
    /// A new key file would replace one.
    #[error("already exists; refusing to overwrite a key file")]
    KeyFileExists,
    /// `keys/<name>.pub` holds another key than the one being registered.
    #[error("already exists with another key; remove it or choose another name")]
    OtherKeyFile,
    /// A new signing repository goes only into an empty (or absent) directory.
    #[error("is not empty; a new signing repository is made only in an empty directory")]
    NotEmpty,
    #[error("is not a signing repository (no trustroot.toml)")]
    NotARepository,
    #[error("is outside the signing repository; refusing to write there")]
    OutsideRepository,
    #[error("is a symbolic link; refusing to write through it")]
    SymbolicLink,
    /// TUF metadata of the signing repository failed the core checks.
    #[error("{0}")]
    Metadata(Box<trustroot_core::Error>),
    /// Metadata that must be of one role type is not (`what`: "a root", "a snapshot"...).
    #[error("not {what}: {reason}")]
    NotRole { what: &'static str, reason: String },
    #[error("published metadata has no version")]
    NoVersion,
    #[error("{role} v{version} has no valid `expires`")]
    NoExpires { role: RoleName, version: u64 },
    /// A published snapshot without its `meta`.
    #[error("snapshot v{version} has no `meta`")]
    NoMeta { version: u64 },
    /// The published timestamp lists no snapshot.
    #[error("lists no snapshot.json")]
    NoSnapshotListed,
    /// A published tree without any `N.root.json`.
    #[error("holds no N.root.json: not a published tree")]
    NoRootHistory,
    /// A role the online refresh needs was never published.
    #[error("is missing: nothing to refresh ({role} was never published)")]
    NeverPublished { role: RoleName },
    /// The publish directory serves nothing yet.
    #[error("is not published yet: an online refresh carries the published tree over")]
    NotPublishedYet,
    /// `metadata/` holds an older version than the published tree serves.
    #[error(
        "holds {role} v{recorded} but the published tree (state {state}) serves v{served}: metadata/ is behind what clients are served; check publish.destination in trustroot.toml, nothing was written"
    )]
    BehindPublished {
        role: RoleName,
        recorded: u64,
        state: u64,
        served: u64,
    },
    /// A published tree holds something other than files and directories.
    #[error("is not a regular file or directory; a published tree never contains one")]
    NotRegular,
    /// A version already published, with other bytes.
    #[error(
        "is already published with other bytes: a version is never published twice (was metadata/ edited or reset?)"
    )]
    AlreadyPublished,
    /// A target file changed between its hashing and its copy.
    #[error("changed while publishing {}; nothing was published", escape(target))]
    ChangedWhilePublishing { target: String },
    /// The publish destination's served path is not the link a publish makes.
    #[error(
        "is not the symlink a publish makes; refusing to touch it (move it away, or choose another publish.destination)"
    )]
    NotPublishLink,
    #[error("points at {}, not at a published state; refusing to follow it", target.display())]
    ForeignLink { target: std::path::PathBuf },
    #[error("is a symlink where a publish keeps its states; refusing to follow it (remove it)")]
    StateSymlink,
    /// The root a keyholder pins does not verify by itself.
    #[error(
        "is not a root signed by a threshold of its own root keys, so it cannot be the root you check the request against: {0}"
    )]
    UnverifiedRoot(Box<trustroot_core::Error>),
    /// A round's `round.json` does not parse.
    #[error("invalid: {reason}")]
    InvalidManifest { reason: String },
    /// A round's `round.json` names another round.
    #[error("names round '{}', not '{}'", escape(found), escape(expected))]
    ManifestNamesOther { found: String, expected: String },
    /// What a round was staged against changed under it.
    #[error(
        "changed since round '{}' started (sha256 {found}, was {expected}): it must hold the published {role} v{version} the round was staged against; start a new round",
        escape(round)
    )]
    PreviousChanged {
        round: String,
        found: String,
        expected: String,
        role: RoleName,
        version: u64,
    },
    /// A staged file was edited after its round started.
    #[error("was changed after the round started; start a new round instead of editing staged files")]
    StagedChanged,
    /// A staged file was edited after its round started, so its signatures cannot count.
    #[error("was changed after the round started; its signatures cannot be collected")]
    StagedChangedUncollectable,
    #[error("a round with this id already exists")]
    RoundExists,
    /// A published tree whose timestamp names a snapshot it does not hold.
    #[error("has a timestamp.json but not the snapshot it names")]
    NoNamedSnapshot,
    /// A published tree without a root.
    #[error("has no root metadata (N.root.json or root.json)")]
    NoRootMetadata,
    /// A signing repository that has never published.
    #[error("holds no published metadata yet")]
    NothingPublished,
    /// A path `expiry` cannot read the roles of.
    #[error(
        "is not a signing repository (trustroot.toml), a published tree (timestamp.json), a publish destination or a mirror"
    )]
    NoRolesHere,
}

impl FileProblem {
    /// Which kind of failure the problem is.
    pub fn class(&self) -> ErrorClass {
        use FileProblem as P;
        match self {
            P::NotEmpty | P::NotARepository | P::KeyFileExists | P::RoundExists | P::NoRolesHere => ErrorClass::Usage,
            P::Metadata(_)
            | P::NotRole { .. }
            | P::NoVersion
            | P::NoExpires { .. }
            | P::NoMeta { .. }
            | P::NoSnapshotListed
            | P::NoRootHistory
            | P::NoNamedSnapshot
            | P::NoRootMetadata
            | P::NotRegular
            | P::UnverifiedRoot(_) => ErrorClass::Repository,
            _ => ErrorClass::LocalState,
        }
    }

    /// The remedy, when there is one beyond the message.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            FileProblem::NotEmpty => Some(Hint::InitEmptyDirectory),
            FileProblem::NotARepository => Some(Hint::CreateOrChooseRepository),
            FileProblem::NeverPublished { .. } | FileProblem::NotPublishedYet | FileProblem::NothingPublished => {
                Some(Hint::PublishFirst)
            }
            FileProblem::NoRolesHere => Some(Hint::ChooseRolesPath),
            _ => None,
        }
    }
}
