//! Why a bundle is refused: each problem names the member, size or limit concerned. Member
//! names and third-party messages come from the archive, so they are escaped when shown.

use std::path::PathBuf;

use trustroot_core::display::escape;
use trustroot_core::{ErrorClass, Hint};

use super::UpdateError;
use crate::tree_path::TreePathError;

/// The member names a bundle's served tree lives under.
const TREE_PREFIX: &str = "repository/";

/// What a bundle verified from: the root the site pins, or the one the mirror trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustSource {
    PinnedRoot,
    MirrorRoot,
}

impl std::fmt::Display for TrustSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TrustSource::PinnedRoot => "the pinned root",
            TrustSource::MirrorRoot => "the root the mirror trusts",
        })
    }
}

/// A bundle refused: what is wrong with it. `reason` fields hold a third party's message
/// (the tar, zstd or JSON reader's, or an I/O error's).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleProblem {
    // The archive itself.
    #[error("not a valid zstd stream: {}", escape(reason))]
    NotZstd { reason: String },
    #[error("not a tar archive: {}", escape(reason))]
    NotTar { reason: String },
    #[error("damaged or truncated: {}", escape(reason))]
    Damaged { reason: String },
    #[error("two name records in a row for one member")]
    TwoNameRecords,
    /// `kind` is the tar entry type, as the tar crate names it.
    #[error("a {kind} record: bundles hold plain files only")]
    ExtensionRecord { kind: String },
    #[error("a name record of {size} bytes, over the limit of {limit}")]
    NameRecordTooLarge { size: u64, limit: u64 },
    #[error("a truncated name record: {}", escape(reason))]
    NameRecordTruncated { reason: String },
    #[error("a damaged PAX record: {}", escape(reason))]
    PaxRecordDamaged { reason: String },
    #[error("a PAX size record: members that large are not bundle members")]
    PaxSizeRecord,
    #[error("a member name is not UTF-8")]
    NameNotUtf8,

    // One member.
    #[error(
        "'{}' is a link or special file ({kind}); bundles hold plain files only",
        escape(name)
    )]
    NotPlainFile { name: String, kind: String },
    #[error("'{}' comes after the manifest, which must be last", escape(name))]
    AfterManifest { name: String },
    #[error("'{}' appears twice", escape(name))]
    Duplicate { name: String },
    #[error("more than {limit} members")]
    TooManyMembers { limit: usize },
    #[error("'{}' is {size} bytes, over the limit of {limit}", escape(name))]
    MemberTooLarge { name: String, size: u64, limit: u64 },
    /// The members together declare more than the import's cap.
    #[error("over the limit of {limit} bytes in all")]
    TotalTooLarge { limit: u64 },
    #[error("'{}' is outside '{TREE_PREFIX}'", escape(name))]
    OutsideTree { name: String },
    /// A bundle of named repositories given where one repository's is expected.
    #[error(
        "it holds named repositories ('{}'): import it into a directory of named repositories, with --root NAME=FILE for each new one",
        escape(name)
    )]
    NamedRepositories { name: String },
    /// One repository's bundle given where named repositories' is expected.
    #[error(
        "it holds one unnamed repository ('{}'), not named ones: import it into a mirror of one repository",
        escape(name)
    )]
    OneRepository { name: String },
    #[error(
        "'{}' is not repositories/NAME.tar with a repository name (letters, digits, '-', '_', '.')",
        escape(name)
    )]
    NotARepository { name: String },
    #[error("it holds no repository named '{}' (it holds: {})", escape(name), escape(held))]
    NoSuchRepository { name: String, held: String },
    #[error("member '{}': {reason}", escape(name))]
    UnsafeName { name: String, reason: TreePathError },
    #[error("'{}' is truncated: {}", escape(name), escape(reason))]
    MemberUnreadable { name: String, reason: String },
    #[error("'{}' is truncated ({read} of {declared} bytes)", escape(name))]
    MemberTruncated { name: String, read: u64, declared: u64 },

    // The manifest.
    #[error("the manifest is {size} bytes, over {limit}")]
    ManifestTooLarge { size: u64, limit: u64 },
    #[error("truncated manifest: {}", escape(reason))]
    ManifestTruncated { reason: String },
    #[error("unreadable manifest: {}", escape(reason))]
    ManifestUnreadable { reason: String },
    #[error("manifest format {found} is not {expected}")]
    ManifestFormat { found: u32, expected: u32 },
    #[error("no manifest: the bundle is truncated or not a trustroot bundle")]
    NoManifest,
    #[error("'{}' is in the bundle but not in its manifest", escape(path))]
    NotInManifest { path: String },
    #[error("'{}' does not match the manifest (length or sha256)", escape(path))]
    ManifestMismatch { path: String },
    #[error("the manifest lists '{}', which the bundle lacks", escape(path))]
    MissingMember { path: String },

    // Against the verified metadata.
    #[error(
        "metadata member '{}' is {size} bytes, over the {limit} bytes a client reads",
        escape(name)
    )]
    MetadataTooLarge { name: String, size: u64, limit: u64 },
    /// An export writes metadata first; a bundle of an older trustroot had targets first.
    #[error(
        "no timestamp.json before the first target: the bundle was written by an older trustroot, \
         which put targets first; re-export it with this version"
    )]
    NoTimestampFirst,
    #[error(
        "metadata member '{}' comes after a target: the bundle was written by an older \
         trustroot; re-export it with this version",
        escape(name)
    )]
    MetadataAfterTarget { name: String },
    #[error("'{}' changed while it was imported", escape(name))]
    ChangedWhileImported { name: String },
    #[error("'{}' is {size} bytes, but the verified metadata says {expected}", escape(name))]
    LengthMismatch { name: String, size: u64, expected: u64 },
    #[error(
        "'{}' does not match the hashes the verified metadata gives target '{}'",
        escape(name),
        escape(target)
    )]
    HashMismatch { name: String, target: String },
    #[error("does not verify from {from}: {source}")]
    DoesNotVerify {
        from: TrustSource,
        source: Box<UpdateError>,
    },

    // Room to unpack it.
    #[error("its verified targets are {need} bytes, over the limit of {limit} bytes")]
    TargetsTooLarge { need: u64, limit: u64 },
    #[error("its verified targets are {need} bytes, but only {free} bytes are free at {}", place.display())]
    NoRoom { need: u64, free: u64, place: PathBuf },
    #[error("'{}' is {need} bytes, but only {free} bytes are free at {}", escape(name), place.display())]
    NoRoomForMember {
        name: String,
        need: u64,
        free: u64,
        place: PathBuf,
    },
}

impl BundleProblem {
    /// A bundle is the repository's; only the room where it is unpacked is local.
    pub fn class(&self) -> ErrorClass {
        match self {
            BundleProblem::NoRoom { .. } | BundleProblem::NoRoomForMember { .. } => ErrorClass::LocalState,
            _ => ErrorClass::Repository,
        }
    }

    /// A bundle over the import's cap may be one the person means to import.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            BundleProblem::TotalTooLarge { .. } | BundleProblem::TargetsTooLarge { .. } => {
                Some(Hint::RaiseBundleMaxSize)
            }
            _ => None,
        }
    }
}
