//! The refusals of a push to object storage. Each names the destination (as the user wrote
//! it), the object where there is one, and what to do next; none carries a secret.

use std::path::PathBuf;

use super::credentials::CredentialsError;

/// A request to the store, for messages.
pub type Op = &'static str;

/// A push, an audit or a plan could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// The destination is not a URL or path trustroot can push to.
    #[error("--to {url}: {reason}")]
    BadUrl { url: String, reason: String },
    /// A scheme this build does not push to yet.
    #[error("--to {url}: {what}")]
    Unsupported { url: String, what: &'static str },
    /// An `--endpoint` that is not an http(s) URL with a host.
    #[error("--endpoint {endpoint}: not an http or https URL with a host and no path, query or credentials")]
    BadEndpoint { endpoint: String },
    /// A `--public-url` (or `[publish] public_url`) that clients cannot be read through;
    /// `url` is shown without any credentials it held.
    #[error("--public-url {url}: {reason}")]
    BadPublicUrl { url: String, reason: String },
    /// A `--manifest` (or `[publish] manifest`) that cannot hold the push manifest.
    #[error("--manifest {url}: {reason}")]
    BadManifestUrl { url: String, reason: String },
    /// The destination resolves inside a directory it must never be written into.
    #[error("--to {url} is inside {}; push to a directory outside the signing repository and the publish destination", dir.display())]
    Inside { url: String, dir: PathBuf },
    /// No usable credentials for the store.
    #[error("{url}: {source}")]
    Credentials {
        url: String,
        #[source]
        source: CredentialsError,
    },
    /// object_store refused the configuration.
    #[error("{url}: cannot set up the store client: {reason}")]
    Setup { url: String, reason: String },
    /// The bucket or container is not there.
    #[error(
        "{url}: the bucket '{bucket}' does not exist (or is not visible to these credentials); create it, or check the name and --endpoint"
    )]
    NoBucket { url: String, bucket: String },
    /// The store refused the credentials or the operation.
    #[error(
        "{url}: {op} {key} was refused: {reason}; check the credentials ({credentials}) and that they may read, write, list and delete under the prefix"
    )]
    Denied {
        url: String,
        op: Op,
        key: String,
        reason: String,
        /// What the store reads as credentials (environment variables, files).
        credentials: &'static str,
    },
    /// A request failed (an error status, a timeout, a connection that dropped).
    #[error(
        "{url}: {op} {key} failed: {reason}; nothing after it was uploaded: check the store and run the same command again to resume"
    )]
    Request {
        url: String,
        op: Op,
        key: String,
        reason: String,
    },
    /// The prefix holds objects that are not ours and no manifest says we put them there.
    #[error(
        "{url}: the prefix holds {key}, which is not a file of this repository, and there is no push manifest ({manifest}); push to an empty prefix, or remove what is there"
    )]
    ForeignPrefix { url: String, key: String, manifest: String },
    /// An object differs from what the manifest recorded for it.
    #[error(
        "{url}: {key} was changed behind trustroot's back ({what}); delete it from the store and run the same command again with --audit, which uploads it again"
    )]
    Changed { url: String, key: String, what: String },
    /// A versioned or content-addressed name would get other bytes than the ones pushed.
    #[error(
        "{url}: {key} was already pushed with other bytes (sha256 {pushed}, now {local}); a versioned name is never replaced: publish a new version instead"
    )]
    Republished {
        url: String,
        key: String,
        pushed: String,
        local: String,
    },
    /// The manifest object is not one we wrote.
    #[error(
        "{url}: the push manifest {manifest} is unusable: {reason}; if the prefix holds nothing else of value, delete the manifest and the prefix and push again"
    )]
    BadManifest {
        url: String,
        manifest: String,
        reason: String,
    },
    /// Another push changed the manifest while this one ran.
    #[error(
        "{url}: the push manifest {manifest} changed while this push ran (another push to the same destination?); run the command again once the other push is done"
    )]
    Raced { url: String, manifest: String },
    /// A file of the local tree cannot be pushed.
    #[error("{}: {reason}", path.display())]
    LocalTree { path: PathBuf, reason: String },
    /// The read-back (through the public address, before the timestamp) refused the state.
    #[error(
        "{url}: read-back refused {key}: {reason}; timestamp.json was not uploaded, so clients still see the previous state: fix the store and run the same command again"
    )]
    ReadBack { url: String, key: String, reason: String },
}

impl ObjectError {
    /// True when the user's input (a URL, a flag) is at fault rather than the store.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            ObjectError::BadUrl { .. }
                | ObjectError::Unsupported { .. }
                | ObjectError::BadEndpoint { .. }
                | ObjectError::BadPublicUrl { .. }
                | ObjectError::BadManifestUrl { .. }
                | ObjectError::Inside { .. }
        )
    }
}
