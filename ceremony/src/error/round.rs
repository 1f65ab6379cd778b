//! Rounds: starting, reading and completing them, and the signatures collected in them.

use std::path::PathBuf;

use trustroot_core::display::escape;
use trustroot_core::{ErrorClass, Hint, RoleName};

use super::shown;

/// A round cannot be started, found or completed as asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoundError {
    #[error("'{}' is not a valid round id", escape(id))]
    InvalidId { id: String },
    /// No round was ever started in this repository.
    #[error("no ceremony round yet")]
    NoRound,
    #[error("round {} is not fully signed", escape(round))]
    NotFullySigned { round: String },
    /// Root was published again since the round staged its root.
    #[error(
        "round {}: it stages root v{staged} after root v{previous}, but root v{latest} is published now; start a new round",
        escape(round)
    )]
    RootPublishedSince {
        round: String,
        staged: u64,
        previous: u64,
        latest: u64,
    },
    /// A role listed as published when the round was planned is gone.
    #[error("{role}: the published version vanished")]
    PublishedVanished { role: RoleName },
    /// Nothing staged or published says who signs a staged role.
    #[error("{role}: no metadata says who signs this role")]
    NoSigners { role: RoleName },
    /// Nothing to assemble a repository from.
    #[error("there is no root: the first round must stage root v1")]
    NoRoot,
    #[error("targets is staged but there is no root to say who signs it")]
    NoRootForTargets,
    #[error("{delegated} is staged but there is no {delegator} metadata delegating it")]
    NoDelegator { delegated: RoleName, delegator: RoleName },
    /// Staged or published metadata that must be a root (`what`: "staged root"...) is not.
    #[error("{what}: not a valid root: {reason}")]
    InvalidRoot { what: &'static str, reason: String },
    #[error("{role}: not valid targets metadata: {reason}")]
    InvalidTargets { role: RoleName, reason: String },
    /// The `targets/` tree could not be walked.
    #[error("targets/ tree: {0}")]
    TargetsTree(trustroot_targets::tree::TreeError),
    /// A file under `targets/` whose path cannot be a target path.
    #[error("targets/{}: {source}", escape(path))]
    TargetPath {
        path: String,
        #[source]
        source: Box<trustroot_core::Error>,
    },
    /// A caller put `targets` among the other fields of a targets role.
    #[error("a targets role's fields must not hold `targets` itself")]
    TargetsInFields,
    #[error("target '{}' is listed twice", escape(path))]
    DuplicateTarget { path: String },
    /// The round's transcript logs its publish: there is nothing left to do with it.
    #[error(
        "round {} was published at {}; start a new round for any further change",
        escape(round),
        escape(at)
    )]
    AlreadyPublished { round: String, at: String },
    /// `ceremony start --role` names a role the policy does not have (`known`: the
    /// roles it does have, comma-separated).
    #[error(
        "--role {}: trustroot.toml has no such role (roles that can be requested: {known}); nothing was changed",
        escape(role)
    )]
    UnknownRole { role: String, known: String },
    /// `ceremony start --role` names snapshot or timestamp, which the online key signs.
    #[error(
        "--role {role}: {role} is signed online, not in a round: run `trustroot online refresh --force` to re-sign it; nothing was changed"
    )]
    OnlineRoleRequested { role: String },
    /// The repository was imported with `--metadata-only` and a file its published role
    /// lists is not in `targets/`: staging the role would remove it.
    #[error(
        "{role} lists {}, which is not in targets/: this repository was imported with --metadata-only ([import] metadata_only); put the role's target files in targets/ before staging it (root can be staged with --role root)",
        escape(path)
    )]
    TargetsNotImported { role: String, path: String },
}

impl RoundError {
    /// Which kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            RoundError::InvalidId { .. }
            | RoundError::NoRound
            | RoundError::TargetsInFields
            | RoundError::UnknownRole { .. }
            | RoundError::OnlineRoleRequested { .. } => ErrorClass::Usage,
            RoundError::TargetsTree(trustroot_targets::tree::TreeError::Io { .. }) => ErrorClass::Io,
            _ => ErrorClass::LocalState,
        }
    }

    /// The remedy, when there is one beyond the message.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            RoundError::NoRound => Some(Hint::StartRound),
            _ => None,
        }
    }
}

/// A signature could not be made or collected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// What a key just signed does not verify with its public key.
    #[error("the signature just made with {signer} over {role} does not verify; nothing was written")]
    MadeDoesNotVerify { signer: String, role: RoleName },
    /// The key signs nothing the request asks for (`keyid`: its short form).
    /// `fingerprint` is the key's material sha256 (what `key show` prints).
    #[error("the key {signer} (material sha256:{fingerprint}) is not a signer of any role in this request")]
    NotASigner { signer: String, fingerprint: String },
    /// A signature file that cannot be used.
    #[error("{}: {problem}", shown(path))]
    File { path: PathBuf, problem: SignatureProblem },
    /// A signature file that is well formed but does not count for the round.
    #[error("{}: refused: {problem}; nothing was changed", shown(path))]
    Refused { path: PathBuf, problem: SignatureProblem },
}

impl SignatureError {
    /// Which kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            SignatureError::MadeDoesNotVerify { .. } => ErrorClass::LocalState,
            SignatureError::NotASigner { .. } => ErrorClass::Usage,
            SignatureError::File { .. } | SignatureError::Refused { .. } => ErrorClass::LocalState,
        }
    }
}

/// Why a detached signature file is unusable or does not count.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureProblem {
    #[error("not a trustroot signature file: {reason}")]
    NotSignatureFile { reason: String },
    #[error("unsupported signature file format")]
    UnsupportedFormat,
    #[error("keyid and signed_sha256 must be 64 lowercase hex digits")]
    BadHexIds,
    #[error("sig must be a non-empty hex signature")]
    EmptySig,
    #[error("too large to be a signature file")]
    TooLarge,
    /// A signing request handed in where a signature file belongs.
    #[error(
        "this is a signing request, not a signature file: it is signed with `ceremony sign --request`, which writes the signature files to hand back"
    )]
    SigningRequest,
    #[error("the file name does not match its contents")]
    NameMismatch,
    #[error("it is for round '{}', not round '{}'", escape(found), escape(round))]
    OtherRound { found: String, round: String },
    #[error("role '{role}' is not staged in round '{}'", escape(round))]
    NotStaged { role: RoleName, round: String },
    #[error("it signs {role} v{version}, but v{staged} is staged")]
    OtherVersion { role: RoleName, version: u64, staged: u64 },
    /// Made over other bytes; both digests in their short form.
    #[error("it was made over different bytes (sha256 {found}) than the staged {role} v{version} (sha256 {staged})")]
    OtherBytes {
        found: String,
        role: RoleName,
        version: u64,
        staged: String,
    },
    #[error("key {keyid} is not a signer of {role}")]
    NotSigner { keyid: String, role: RoleName },
    #[error("key {keyid} cannot verify: {reason}")]
    KeyUnusable { keyid: String, reason: String },
    #[error("sig is not hex")]
    NotHex,
    #[error("the signature by key {keyid} does not verify over the staged {role} v{version}")]
    DoesNotVerify {
        keyid: String,
        role: RoleName,
        version: u64,
    },
}
