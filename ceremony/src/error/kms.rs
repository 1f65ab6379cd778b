//! AWS KMS keys: the configuration that reaches them, the service's refusals, and keys or
//! answers that cannot be used. Every variant names the key reference (`awskms:...`).
//!
//! A secret (secret access key, session token) is never a field here: nothing of an
//! error can leak one into a message, a log or `--json`.

use std::path::PathBuf;

use trustroot_core::{ErrorClass, Hint};

use super::shown;

/// A KMS operation, for messages.
pub type Operation = &'static str;

/// An AWS KMS key could not be reached, used or trusted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KmsError {
    /// The text after `awskms:` is not a key ID, key ARN, alias name or alias ARN.
    #[error(
        "awskms:{key}: not an AWS KMS key reference ({reason}); give a key ID, a key ARN, alias/NAME or an alias ARN"
    )]
    BadReference { key: String, reason: &'static str },
    /// No region from the key ARN, `AWS_REGION`, `AWS_DEFAULT_REGION` or the profile.
    #[error(
        "awskms:{key}: no AWS region: set AWS_REGION, give the key's ARN, or set region in the profile of ~/.aws/config"
    )]
    NoRegion { key: String },
    /// A region that is not letters, digits and '-'.
    #[error("awskms:{key}: the AWS region '{region}' is not a region name (letters, digits and '-')")]
    BadRegion { key: String, region: String },
    /// No credentials in the environment nor in the profile.
    #[error(
        "awskms:{key}: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE naming a profile with aws_access_key_id and aws_secret_access_key in ~/.aws/credentials"
    )]
    NoCredentials { key: String },
    /// Only one of `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` is set.
    #[error("awskms:{key}: {set} is set but {missing} is not: set both, or neither to use the profile")]
    HalfCredentials {
        key: String,
        set: &'static str,
        missing: &'static str,
    },
    /// A profile named by `AWS_PROFILE` is in neither file.
    #[error(
        "awskms:{key}: the AWS profile '{profile}' is in neither {} nor {}",
        shown(credentials),
        shown(config)
    )]
    NoSuchProfile {
        key: String,
        profile: String,
        credentials: PathBuf,
        config: PathBuf,
    },
    /// A profile gets its credentials in a way this client does not support yet.
    #[error(
        "awskms:{key}: the AWS profile '{profile}' gets its credentials through {how}, which trustroot does not support yet; give static keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), e.g. from `aws configure export-credentials`"
    )]
    UnsupportedCredentials {
        key: String,
        profile: String,
        how: &'static str,
    },
    /// A shared config or credentials file could not be read.
    #[error("awskms:{key}: cannot read {}: {reason}", shown(path))]
    ConfigFile { key: String, path: PathBuf, reason: String },
    /// `AWS_ENDPOINT_URL_KMS` / `AWS_ENDPOINT_URL` is not an http(s) URL.
    #[error("awskms:{key}: the KMS endpoint '{endpoint}' ({variable}) is not an http or https URL with a host")]
    BadEndpoint {
        key: String,
        endpoint: String,
        variable: &'static str,
    },
    /// The key does not exist (or not in this region and account).
    #[error("awskms:{key}: no such KMS key in region {region} ({message}); check the key ID or alias, and AWS_REGION")]
    NotFound {
        key: String,
        region: String,
        message: String,
    },
    /// The credentials may not use the key for this operation.
    #[error(
        "awskms:{key}: {operation} denied ({message}); the credentials need kms:GetPublicKey and kms:Sign on this key"
    )]
    AccessDenied {
        key: String,
        operation: Operation,
        message: String,
    },
    /// The key is disabled or pending deletion.
    #[error(
        "awskms:{key}: the key is disabled or pending deletion ({message}); enable it (aws kms enable-key) or use another key"
    )]
    Disabled { key: String, message: String },
    /// KMS throttled the request.
    #[error("awskms:{key}: {operation} throttled by KMS ({message}); try again in a moment")]
    Throttled {
        key: String,
        operation: Operation,
        message: String,
    },
    /// KMS refused the credentials (unknown, expired or a bad signature).
    #[error(
        "awskms:{key}: KMS refused the credentials: {kind} ({message}); check AWS_ACCESS_KEY_ID, the secret key and, for temporary credentials, AWS_SESSION_TOKEN"
    )]
    BadCredentials { key: String, kind: String, message: String },
    /// Any other KMS error.
    #[error("awskms:{key}: {operation} failed: {kind} ({message})")]
    Service {
        key: String,
        operation: Operation,
        kind: String,
        message: String,
    },
    /// An error status without a KMS error body (a proxy, a wrong endpoint).
    #[error("awskms:{key}: {operation} failed: the endpoint {endpoint} answered HTTP {status} without a KMS error")]
    HttpStatus {
        key: String,
        operation: Operation,
        endpoint: String,
        status: u16,
    },
    /// No full answer within the time limit.
    #[error("awskms:{key}: {operation} timed out after {seconds} s at {endpoint}; check the network and the endpoint")]
    Timeout {
        key: String,
        operation: Operation,
        endpoint: String,
        seconds: u64,
    },
    /// The endpoint could not be reached.
    #[error("awskms:{key}: {operation}: cannot reach {endpoint}: {reason}")]
    Unreachable {
        key: String,
        operation: Operation,
        endpoint: String,
        reason: String,
    },
    /// The answer is larger than any KMS answer this client asks for.
    #[error("awskms:{key}: {operation}: the answer of {endpoint} is larger than {limit} bytes; refused")]
    ResponseTooLarge {
        key: String,
        operation: Operation,
        endpoint: String,
        limit: usize,
    },
    /// The answer is not what the KMS API defines.
    #[error("awskms:{key}: {operation}: the answer is not a KMS answer: {reason}")]
    BadResponse {
        key: String,
        operation: Operation,
        reason: String,
    },
    /// The key exists but cannot sign TUF metadata.
    #[error("awskms:{key}: {problem}")]
    Unsuitable { key: String, problem: Unsuitable },
    /// KMS returned a signature that does not verify with the key's public key.
    #[error(
        "awskms:{key}: KMS returned a signature that does not verify with the key's public key; nothing was signed with it"
    )]
    BadSignature { key: String },
}

/// Why a KMS key cannot sign TUF metadata.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Unsuitable {
    /// A symmetric (or HMAC) key: no public key, no signature TUF can verify.
    #[error("a {spec} key cannot sign TUF metadata; create an asymmetric ECC_NIST_P256 key with key usage SIGN_VERIFY")]
    NotAsymmetric { spec: String },
    /// An asymmetric key made for encryption or key agreement.
    #[error("the key usage is {usage}, not SIGN_VERIFY; create the key with --key-usage SIGN_VERIFY")]
    Usage { usage: String },
    /// An RSA key whose algorithms lack RSASSA-PSS with SHA-256.
    #[error(
        "the RSA key does not offer RSASSA_PSS_SHA_256, the only RSA scheme of TUF (rsassa-pss-sha256); its algorithms: {algorithms}"
    )]
    NoPss { algorithms: String },
    /// A P-256 key that does not offer ECDSA with SHA-256.
    #[error("the key does not offer ECDSA_SHA_256; its algorithms: {algorithms}")]
    NoEcdsaSha256 { algorithms: String },
    /// P-384: core verifies it, but tough refuses a whole root that lists one.
    #[error(
        "ECC_NIST_P384 keys are refused: the TUF spec's ecdsa-sha2-nistp384 scheme verifies in trustroot, but tough (the publish gate and tough-based clients such as sigstore-rs) refuses a whole root that lists one; use ECC_NIST_P256"
    )]
    P384,
    /// Any other key spec (secp256k1, P-521, SM2, ML-DSA...).
    #[error(
        "key spec {spec} has no TUF signing scheme clients verify; use ECC_NIST_P256 (or RSA_3072/RSA_4096 with RSASSA_PSS_SHA_256)"
    )]
    Spec { spec: String },
    /// The public key KMS gave does not parse or is not the spec it claims.
    #[error("the public key KMS returned is unusable: {reason}")]
    PublicKey { reason: String },
}

impl KmsError {
    /// Which kind of failure this is.
    pub fn class(&self) -> ErrorClass {
        match self {
            KmsError::BadReference { .. } | KmsError::BadRegion { .. } | KmsError::BadEndpoint { .. } => {
                ErrorClass::Usage
            }
            KmsError::NoRegion { .. }
            | KmsError::NoCredentials { .. }
            | KmsError::HalfCredentials { .. }
            | KmsError::NoSuchProfile { .. }
            | KmsError::UnsupportedCredentials { .. }
            | KmsError::NotFound { .. }
            | KmsError::AccessDenied { .. }
            | KmsError::Disabled { .. }
            | KmsError::BadCredentials { .. }
            | KmsError::Service { .. }
            | KmsError::Unsuitable { .. } => ErrorClass::LocalState,
            KmsError::ConfigFile { .. }
            | KmsError::Throttled { .. }
            | KmsError::HttpStatus { .. }
            | KmsError::Timeout { .. }
            | KmsError::Unreachable { .. } => ErrorClass::Io,
            // A server's answer failed a check: nothing of it was used.
            KmsError::ResponseTooLarge { .. } | KmsError::BadResponse { .. } | KmsError::BadSignature { .. } => {
                ErrorClass::Repository
            }
        }
    }

    /// The remedy beyond the message: each message already says what to do.
    pub fn hint(&self) -> Option<Hint> {
        None
    }
}
