//! What every trustroot error says beyond its message: which kind of failure it is
//! ([`ErrorClass`]) and, when there is one, what the person can do about it ([`Hint`]).
//!
//! Libraries name the remedy as a value; only the command line turns it into words with
//! flag and command names, so a library never speaks of `--at` or `trustroot key add`.

use std::path::PathBuf;

use crate::names::RoleName;

/// Which kind of failure an error is: what a caller acts on, and the `kind` of a `--json`
/// error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The repository is invalid or hostile: metadata, targets, payloads, bundles or a
    /// server's answers failed a check. Nothing of it was trusted.
    Repository,
    /// Local state is wrong or inconsistent: the policy, a key file, a round, a mirror or
    /// publish directory, or a request that does not match what is staged.
    LocalState,
    /// Reading or writing failed: a disk, a network, a clock, a terminal.
    Io,
    /// The caller asked for something that cannot be done as asked: an argument, a
    /// combination of arguments, or calls in the wrong order.
    Usage,
}

impl ErrorClass {
    /// The class as the `kind` of a `--json` error: `repository`, `local-state`, `io`, `usage`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Repository => "repository",
            ErrorClass::LocalState => "local-state",
            ErrorClass::Io => "io",
            ErrorClass::Usage => "usage",
        }
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A remedy the person can apply. The command line renders each one with its own flag and
/// command names; a library only picks the variant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// The metadata is expired (or not yet valid) by the clock: check it at another time.
    ChooseReferenceTime,
    /// The directory is not a signing repository: create one, or point at one.
    CreateOrChooseRepository,
    /// The role has no keys yet: register keyholders for it.
    AddKeyholders { role: RoleName },
    /// The online key is missing: generate it and register it for the online roles.
    AddOnlineKey,
    /// The role is signed by the online key: act on it with the online role.
    UseOnlineRole { role: RoleName },
    /// The role is signed by the online key alone: rotate that key instead.
    RotateOnlineKey { role: RoleName },
    /// A key file is encrypted and no terminal can ask for its passphrase.
    PassphraseFromEnvOrFile,
    /// A token needs its PIN and no terminal can ask for it.
    PinFromSource,
    // ceremony
    /// A new signing repository is made only in an empty or new directory.
    InitEmptyDirectory,
    /// Nothing is published yet: publish a round first.
    PublishFirst,
    /// A private key (or other PEM) was given where a public key belongs: show the public one.
    ShowPublicKey,
    /// Removing a key would leave a role below its threshold: lower it, or add a key first.
    LowerThreshold,
    /// A delegation that does not exist yet needs its paths and threshold.
    DelegationPathsAndThreshold,
    /// No round exists yet: start one.
    StartRound,
    /// The signing request is in an older format: the coordinator makes a new one.
    NewSigningRequest,
    /// A request for a new repository is signed without pinning a root.
    SignNewRepositoryWithoutRoot,
    /// The online key is named by `[online] signer` in the policy: set what it names, or
    /// point it at the key.
    OnlineSigner,
    /// A YubiKey attestation was refused: export the key's attestation and the device
    /// certificate again from the YubiKey that holds the key.
    ExportAttestation,
    /// A path holds no roles to list: name a signing repository, a published tree, a
    /// publish destination or a mirror.
    ChooseRolesPath,

    // mirror and targets
    /// Nothing is mirrored in the directory: sync it from a repository, or import a bundle.
    SyncOrImportMirror,
    /// The mirror in `dir` has no served state: sync it first.
    SyncMirror { dir: PathBuf },
    /// A new mirror needs the root the site trusts, pinned.
    PinMirrorRoot,
    /// A mirror started from a pinned root needs the repository's URL.
    GiveMirrorOrigin,
    /// A bundle is over the import's size cap: raise the cap if the bundle is expected.
    RaiseBundleMaxSize,
    /// Several services of a signing config share the URL: name the API version.
    ChooseServiceApiVersion,
}
