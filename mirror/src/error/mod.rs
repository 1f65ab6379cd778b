//! Errors of fetching, updating and keeping a mirror, each naming the URL, file, role or
//! limit concerned, each with its [`ErrorClass`] and, where there is one, a [`Hint`].
//!
//! - [`FetchError`]: getting bytes from a repository;
//! - [`UpdateError`]: everything else, by what failed: the repository (metadata, names,
//!   bundles: [`BundleProblem`]), the local mirror directory, the caller, or the system.

mod bundle;
mod fetch;

use std::path::{Path, PathBuf};

use trustroot_core::display::escape;
use trustroot_core::{ErrorClass, Hint, RoleName};

pub use self::bundle::{BundleProblem, TrustSource};
pub use self::fetch::FetchError;
use crate::tree_path::{TreePath, TreePathError};

/// A path for a message: it can hold a role name or a target path from the repository.
fn shown(path: &Path) -> String {
    escape(&path.display().to_string()).into_owned()
}

/// A task of an update or a sync that runs on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Task {
    /// Fetching a root version ahead of its verification.
    RootFetch,
    /// Downloading a target into a mirror state.
    Download,
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Task::RootFetch => "a root fetch",
            Task::Download => "a download task",
        })
    }
}

/// A failure of an update, a download, or an operation on a mirror directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    // The repository.
    /// Metadata or a target failed verification.
    #[error("{0}")]
    Verify(#[from] trustroot_core::Error),
    #[error("{0}")]
    Fetch(#[from] FetchError),
    /// No trusted targets role lists the target.
    #[error("target '{}' is not listed by any trusted targets role", escape(target))]
    TargetNotFound { target: String },
    /// A bundle refused before anything of it was trusted.
    #[error("bundle {}: {problem}", bundle.display())]
    Bundle {
        bundle: PathBuf,
        problem: Box<BundleProblem>,
    },
    /// A role's metadata file name would be another file's (`2.root` without consistent
    /// snapshots, say).
    #[error("role '{}' would be published as {file}, which another file already is", escape(role.as_str()))]
    RoleFileTaken { role: RoleName, file: TreePath },
    /// A role's metadata file name cannot be a file in a mirror state.
    #[error("metadata file {reason}")]
    MetadataFileName { reason: TreePathError },
    /// A URL made from a base and a name the repository chose is no URL.
    #[error("cannot form a URL from {base} and {}: {source}", escape(relative))]
    UrlFromName {
        base: String,
        relative: String,
        source: url::ParseError,
    },

    // The mirror directory.
    /// A path the mirror owns is refused by the store (a symlink, a special file, a served
    /// link that is not ours). Its I/O failures are [`UpdateError::Io`].
    #[error("{}", store_refusal(.0))]
    Store(trustroot_store::Error),
    #[error("{}: nothing is mirrored here yet", dir.display())]
    NothingMirrored { dir: PathBuf },
    /// Named repositories (`mirror sync DIR --name`).
    #[error("'{}' cannot name a repository: {reason}", escape(name))]
    BadRepositoryName { name: String, reason: String },
    #[error(
        "{} holds one unnamed repository (served at /); name it first with `trustroot mirror rename {} --name NAME` (it is then served at /NAME/), then add others beside it",
        dir.display(),
        dir.display()
    )]
    UnnamedMirror { dir: PathBuf },
    #[error("{} already holds named repositories; give each sync, import or serve its --name", dir.display())]
    AlreadyNamed { dir: PathBuf },
    #[error(
        "{} holds both an unnamed repository (.trustroot-mirror) and named ones ({}); move one of them out",
        dir.display(),
        crate::set::MARKER
    )]
    MixedMirror { dir: PathBuf },
    #[error(
        "{}: a rename to '{}' stopped half-way; run `trustroot mirror rename {} --name {}` again to finish it",
        dir.display(),
        escape(name),
        dir.display(),
        escape(name)
    )]
    RenameUnfinished { dir: PathBuf, name: String },
    #[error("{} is not empty: a repository's directory must be new", path.display())]
    RepositoryDirTaken { path: PathBuf },
    #[error("{} has no served state yet", served.display())]
    NoServedState { served: PathBuf, dir: PathBuf },
    /// `mirror serve --repository-label` on a directory of named repositories.
    #[error(
        "{} holds named repositories: each is labelled with its name in /metrics; leave out --repository-label",
        dir.display()
    )]
    LabelOfNamedRepositories { dir: PathBuf },
    /// Something only a directory of named repositories has was asked of another.
    #[error("{} is not a directory of named repositories", dir.display())]
    NotNamed { dir: PathBuf },
    /// The served state went away while a server was running.
    #[error("{} no longer exists", served.display())]
    ServedStateGone { served: PathBuf },
    /// A bundle cannot be imported into an empty directory without a pinned root.
    #[error("{} holds no mirror yet", dir.display())]
    NoMirrorToImportInto { dir: PathBuf },
    #[error("another sync is running in {} (it holds {})", dir.display(), lock.display())]
    SyncRunning { dir: PathBuf, lock: PathBuf },
    #[error("{} changed while it was exported", path.display())]
    ChangedWhileExported { path: PathBuf },
    /// Checked as it was written into the bundle: nothing is exported.
    #[error(
        "{}: length or hash differs from target '{}', so nothing is exported",
        path.display(),
        trustroot_core::display::escape(target)
    )]
    ExportedTargetDiffers { path: PathBuf, target: String },
    #[error("{} has a name that is not UTF-8", path.display())]
    NameNotUtf8 { path: PathBuf },
    #[error("{}: not a mirror manifest: {source}", path.display())]
    ManifestUnreadable { path: PathBuf, source: serde_json::Error },
    #[error("{}: manifest format {found} is not {expected}", path.display())]
    ManifestFormat { path: PathBuf, found: u32, expected: u32 },
    /// The record of past syncs is not one this version wrote (edited, or damaged); the
    /// next sync replaces it.
    #[error("{}: not a record of syncs: {source}", path.display())]
    SyncRecordUnreadable { path: PathBuf, source: serde_json::Error },
    /// The origin a mirror state records is no URL.
    #[error("recorded origin is not a URL: {source}")]
    RecordedOrigin { url: String, source: url::ParseError },

    // The caller.
    /// A mirror that starts from a pinned root has no default origin.
    #[error("a new mirror started from a pinned root needs the repository's URL")]
    OriginNeeded,
    #[error("no target directory given")]
    NoTargetDir,
    #[error("no target base URL given")]
    NoTargetUrl,
    #[error("{} is not a URL: {source}", escape(url))]
    NotAUrl { url: String, source: url::ParseError },
    /// A directory that has no `file:` URL (not absolute once made so).
    #[error("{} is not an absolute path", path.display())]
    NotAbsolute { path: PathBuf },

    // The system.
    #[error("{}: {source}", shown(path))]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
    #[error("cannot read the address bound for {addr}: {source}")]
    BoundAddress { addr: String, source: std::io::Error },
    #[error("cannot handle {signal}: {source}")]
    Signal {
        signal: &'static str,
        source: std::io::Error,
    },
    /// A task panicked or was cancelled.
    #[error("{task} failed: {source}")]
    TaskFailed { task: Task, source: tokio::task::JoinError },
}

impl UpdateError {
    /// Which kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        use UpdateError as E;
        match self {
            E::Verify(e) => e.class(),
            E::Fetch(e) => e.class(),
            E::Bundle { problem, .. } => problem.class(),
            E::TargetNotFound { .. } => ErrorClass::Usage,
            E::RoleFileTaken { .. } | E::MetadataFileName { .. } | E::UrlFromName { .. } => ErrorClass::Repository,
            E::Store(_)
            | E::NothingMirrored { .. }
            | E::NoServedState { .. }
            | E::ServedStateGone { .. }
            | E::NoMirrorToImportInto { .. }
            | E::SyncRunning { .. }
            | E::ChangedWhileExported { .. }
            | E::ExportedTargetDiffers { .. }
            | E::NameNotUtf8 { .. }
            | E::ManifestUnreadable { .. }
            | E::ManifestFormat { .. }
            | E::SyncRecordUnreadable { .. }
            | E::RecordedOrigin { .. }
            | E::UnnamedMirror { .. }
            | E::AlreadyNamed { .. }
            | E::MixedMirror { .. }
            | E::RenameUnfinished { .. }
            | E::RepositoryDirTaken { .. } => ErrorClass::LocalState,
            E::BadRepositoryName { .. } | E::LabelOfNamedRepositories { .. } | E::NotNamed { .. } => ErrorClass::Usage,
            E::OriginNeeded | E::NoTargetDir | E::NoTargetUrl | E::NotAUrl { .. } | E::NotAbsolute { .. } => {
                ErrorClass::Usage
            }
            E::Io { .. } | E::Listen { .. } | E::BoundAddress { .. } | E::Signal { .. } | E::TaskFailed { .. } => {
                ErrorClass::Io
            }
        }
    }

    /// What the person can do about it, when there is something.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            UpdateError::Bundle { problem, .. } => problem.hint(),
            UpdateError::NothingMirrored { .. } => Some(Hint::SyncOrImportMirror),
            UpdateError::NoServedState { dir, .. } => Some(Hint::SyncMirror { dir: dir.clone() }),
            UpdateError::NoMirrorToImportInto { .. } => Some(Hint::PinMirrorRoot),
            UpdateError::OriginNeeded => Some(Hint::GiveMirrorOrigin),
            _ => None,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        UpdateError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn bundle(bundle: &Path, problem: BundleProblem) -> Self {
        UpdateError::Bundle {
            bundle: bundle.to_path_buf(),
            problem: Box::new(problem),
        }
    }
}

/// The store's refusals, in a mirror's words: what to do with the path it refuses.
fn store_refusal(error: &trustroot_store::Error) -> String {
    use trustroot_store::Error as Store;
    match error {
        Store::Symlink { path } => format!(
            "{} is a symlink, which a mirror never contains; remove it",
            path.display()
        ),
        Store::Special { path } => format!("{} is not a regular file or directory; remove it", path.display()),
        Store::NotALink { path } => format!(
            "{} is not the symlink a mirror sync makes; refusing to touch it",
            path.display()
        ),
        Store::ForeignTarget { path, target } => format!(
            "{} points at {}, not at a mirror state; refusing to follow it",
            path.display(),
            target.display()
        ),
        other => other.to_string(),
    }
}

/// The store's failures: its I/O failures are a mirror's I/O failures, its refusals stay
/// typed.
impl From<trustroot_store::Error> for UpdateError {
    fn from(error: trustroot_store::Error) -> Self {
        match error {
            trustroot_store::Error::Io { path, source } => UpdateError::Io { path, source },
            refusal => UpdateError::Store(refusal),
        }
    }
}
