//! The few requests a push makes (PUT, GET, HEAD, LIST, DELETE, and the manifest's
//! conditional PUT), over object_store for S3, Azure and local directories, and over
//! Google Cloud Storage's JSON API ([`super::gcs`]) for GCS. The push engine is written
//! against [`Backend`] so that tests and benchmarks can wrap a real store to count or
//! fail requests ([`Counted`]).

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt as _;
use object_store::path::Path as StorePath;
use object_store::{
    Attribute, Attributes, ClientOptions, GetOptions, ObjectStore, ObjectStoreExt as _, PutMode, PutOptions,
    PutPayload, RetryConfig, UpdateVersion,
};

use super::credentials::{Env, Profile, var};
use super::error::ObjectError;
use super::gcs::GcsBackend;
use super::url::{Destination, Kind, MANIFEST_SUFFIX};

/// Bytes, as object_store hands them out.
pub use object_store::PutPayload as Payload;

/// An object's bytes and the ETag the store gave them.
pub type Fetched = (Vec<u8>, Option<String>);

/// What the store says about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The key under the prefix.
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
}

/// The headers an object is served with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    pub content_type: String,
    pub cache_control: String,
}

/// How the manifest is written: created only if absent, or replaced only if it still has
/// the ETag read at the start (so two pushes to one destination never interleave).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Absent,
    ETag(Option<String>),
}

/// The requests of a push. Keys are relative to the served prefix.
pub trait Backend: Sync {
    /// The destination as the user wrote it, for messages.
    fn url(&self) -> &str;
    /// Where the push manifest is (its key in the bucket, or its path), for messages.
    fn manifest_name(&self) -> String;
    fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        headers: &Headers,
    ) -> impl Future<Output = Result<Option<String>, ObjectError>> + Send;
    /// The object's bytes and ETag, `None` when absent; refuses one larger than `limit`.
    fn get(&self, key: &str, limit: u64) -> impl Future<Output = Result<Option<Fetched>, ObjectError>> + Send;
    fn head(&self, key: &str) -> impl Future<Output = Result<Option<Meta>, ObjectError>> + Send;
    /// Every object under the prefix.
    fn list(&self) -> impl Future<Output = Result<Vec<Meta>, ObjectError>> + Send;
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), ObjectError>> + Send;
    fn get_manifest(&self, limit: u64) -> impl Future<Output = Result<Option<Fetched>, ObjectError>> + Send;
    fn put_manifest(
        &self,
        bytes: Vec<u8>,
        expect: &Expect,
    ) -> impl Future<Output = Result<Option<String>, ObjectError>> + Send;
    /// Makes everything put so far durable before the next phase starts (a local
    /// directory's fsyncs; nothing for a remote store, whose PUT is durable when answered).
    fn barrier(&self) -> impl Future<Output = Result<(), ObjectError>> + Send;
}

/// What S3 and Azure read as credentials, for a refusal's message.
const AWS_CREDENTIALS: &str = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE";
const AZURE_CREDENTIALS: &str = "AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN";

/// How to reach the store.
#[derive(Debug, Clone)]
pub struct Connect {
    /// `--endpoint`: an S3-compatible store (path-style requests), an Azure account URL
    /// (`http://HOST:PORT/ACCOUNT` for Azurite), or a GCS emulator (sent no credentials).
    pub endpoint: Option<String>,
    /// Retries of a failed request (object_store backs off between them).
    pub retries: usize,
    /// The time limit of one request.
    pub timeout: Duration,
}

impl Default for Connect {
    fn default() -> Self {
        Connect {
            endpoint: None,
            retries: 3,
            timeout: Duration::from_secs(30),
        }
    }
}

/// A destination: S3, Azure or a local directory through object_store, GCS through its
/// JSON API.
pub struct StoreBackend(Via);

enum Via {
    ObjectStore(ObjectStoreBackend),
    Gcs(GcsBackend),
}

impl StoreBackend {
    /// Connects to `destination`. Returns the warnings to show (an `http://` endpoint off
    /// this machine).
    pub fn open(
        destination: &Destination,
        connect: &Connect,
        env: Env<'_>,
    ) -> Result<(StoreBackend, Vec<String>), ObjectError> {
        match &destination.kind {
            Kind::Gcs { bucket, prefix } => GcsBackend::open(&destination.url, bucket, prefix, connect, env)
                .map(|(backend, warnings)| (StoreBackend(Via::Gcs(backend)), warnings)),
            _ => ObjectStoreBackend::open(destination, connect, env)
                .map(|(backend, warnings)| (StoreBackend(Via::ObjectStore(backend)), warnings)),
        }
    }
}

/// Calls `$call` on whichever backend `$self` holds.
macro_rules! via {
    ($self:ident, $backend:ident => $call:expr) => {
        match &$self.0 {
            Via::ObjectStore($backend) => $call,
            Via::Gcs($backend) => $call,
        }
    };
}

impl Backend for StoreBackend {
    fn url(&self) -> &str {
        via!(self, b => b.url())
    }
    fn manifest_name(&self) -> String {
        via!(self, b => b.manifest_name())
    }
    async fn put(&self, key: &str, bytes: Vec<u8>, headers: &Headers) -> Result<Option<String>, ObjectError> {
        via!(self, b => b.put(key, bytes, headers).await)
    }
    async fn get(&self, key: &str, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        via!(self, b => b.get(key, limit).await)
    }
    async fn head(&self, key: &str) -> Result<Option<Meta>, ObjectError> {
        via!(self, b => b.head(key).await)
    }
    async fn list(&self) -> Result<Vec<Meta>, ObjectError> {
        via!(self, b => b.list().await)
    }
    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        via!(self, b => b.delete(key).await)
    }
    async fn get_manifest(&self, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        via!(self, b => b.get_manifest(limit).await)
    }
    async fn put_manifest(&self, bytes: Vec<u8>, expect: &Expect) -> Result<Option<String>, ObjectError> {
        via!(self, b => b.put_manifest(bytes, expect).await)
    }
    async fn barrier(&self) -> Result<(), ObjectError> {
        via!(self, b => b.barrier().await)
    }
}

/// A destination reached through object_store.
pub struct ObjectStoreBackend {
    store: Arc<dyn ObjectStore>,
    url: String,
    /// The credentials the store reads, for a refusal's message.
    credentials: &'static str,
    /// The bucket or container, for messages.
    bucket: String,
    /// The served prefix, without a trailing '/'.
    prefix: String,
    manifest: StorePath,
    /// A local directory: object_store's LocalFileSystem takes no headers and does not
    /// fsync, so the files written are synced at each barrier.
    local: Option<Local>,
}

struct Local {
    /// The directory holding the served directory and the manifest.
    parent: PathBuf,
    written: Mutex<Vec<PathBuf>>,
}

impl ObjectStoreBackend {
    /// Connects to an S3, Azure or local `destination`. Returns the warnings to show (an
    /// `http://` endpoint off this machine).
    pub fn open(
        destination: &Destination,
        connect: &Connect,
        env: Env<'_>,
    ) -> Result<(ObjectStoreBackend, Vec<String>), ObjectError> {
        let url = destination.url.clone();
        let setup = |e: object_store::Error| ObjectError::Setup {
            url: url.clone(),
            reason: one_line(&e.to_string()),
        };
        let mut warnings = Vec::new();
        let endpoint = connect
            .endpoint
            .as_deref()
            .map(|text| check_endpoint(text, &mut warnings))
            .transpose()?;
        let retry = RetryConfig {
            max_retries: connect.retries,
            retry_timeout: connect
                .timeout
                .saturating_mul(u32::try_from(connect.retries + 1).unwrap_or(u32::MAX)),
            ..RetryConfig::default()
        };
        let client = ClientOptions::new()
            .with_timeout(connect.timeout)
            .with_connect_timeout(connect.timeout.min(Duration::from_secs(10)));
        let http = endpoint.as_ref().is_some_and(|e| e.scheme() == "http");
        let (store, bucket, prefix, local): (Arc<dyn ObjectStore>, _, _, _) = match &destination.kind {
            Kind::S3 { bucket, prefix } => {
                let profile = Profile::read(env).map_err(|source| ObjectError::Credentials {
                    url: url.clone(),
                    source,
                })?;
                // Never object_store's fall-back to instance metadata: a push names its
                // credentials, and a wrong set-up must say so rather than wait on a timeout.
                let credentials = profile.credentials(env).map_err(|source| ObjectError::Credentials {
                    url: url.clone(),
                    source,
                })?;
                let region = profile.region(env).unwrap_or_else(|| "us-east-1".to_string());
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(credentials.access_key_id())
                    .with_secret_access_key(credentials.secret_access_key())
                    .with_virtual_hosted_style_request(false)
                    .with_retry(retry)
                    .with_client_options(client)
                    .with_allow_http(http);
                if let Some(token) = credentials.session_token() {
                    builder = builder.with_token(token);
                }
                if let Some(endpoint) = &endpoint {
                    builder = builder.with_endpoint(endpoint.as_str().trim_end_matches('/'));
                }
                (
                    Arc::new(builder.build().map_err(setup)?),
                    bucket.clone(),
                    prefix.clone(),
                    None,
                )
            }
            Kind::Azure { container, prefix } => {
                // The account and its key (or SAS, or Entra ID) from the standard AZURE_*
                // variables, which the builder reads.
                let mut builder = object_store::azure::MicrosoftAzureBuilder::new()
                    .with_container_name(container)
                    .with_retry(retry)
                    .with_client_options(client)
                    .with_allow_http(http);
                for (variable, set) in [
                    (
                        "AZURE_STORAGE_ACCOUNT_NAME",
                        object_store::azure::AzureConfigKey::AccountName,
                    ),
                    (
                        "AZURE_STORAGE_ACCOUNT_KEY",
                        object_store::azure::AzureConfigKey::AccessKey,
                    ),
                    ("AZURE_STORAGE_SAS_TOKEN", object_store::azure::AzureConfigKey::SasKey),
                ] {
                    if let Some(value) = var(env, variable) {
                        builder = builder.with_config(set, value);
                    }
                }
                if let Some(endpoint) = &endpoint {
                    builder = builder.with_endpoint(endpoint.as_str().trim_end_matches('/').to_string());
                }
                (
                    Arc::new(builder.build().map_err(setup)?),
                    container.clone(),
                    prefix.clone(),
                    None,
                )
            }
            Kind::Gcs { .. } => {
                return Err(ObjectError::Unsupported {
                    url,
                    what: "Google Cloud Storage is reached through its JSON API (StoreBackend::open), not object_store",
                });
            }
            Kind::File { dir } => {
                let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
                    return Err(ObjectError::BadUrl {
                        url,
                        reason: "not a directory path".into(),
                    });
                };
                let name = name.to_str().ok_or_else(|| ObjectError::BadUrl {
                    url: url.clone(),
                    reason: "the directory name is not UTF-8".into(),
                })?;
                if !parent.is_dir() {
                    return Err(ObjectError::Setup {
                        url,
                        reason: format!("{} is not a directory; create it first", parent.display()),
                    });
                }
                let fs = object_store::local::LocalFileSystem::new_with_prefix(parent).map_err(setup)?;
                let local = Local {
                    parent: parent.to_path_buf(),
                    written: Mutex::new(Vec::new()),
                };
                (
                    Arc::new(fs),
                    parent.display().to_string(),
                    name.to_string(),
                    Some(local),
                )
            }
        };
        let manifest = StorePath::parse(format!("{prefix}{MANIFEST_SUFFIX}")).map_err(|e| ObjectError::BadUrl {
            url: url.clone(),
            reason: e.to_string(),
        })?;
        let credentials = match &destination.kind {
            Kind::Azure { .. } => AZURE_CREDENTIALS,
            _ => AWS_CREDENTIALS,
        };
        Ok((
            ObjectStoreBackend {
                store,
                url,
                credentials,
                bucket,
                prefix,
                manifest,
                local,
            },
            warnings,
        ))
    }

    fn path(&self, key: &str) -> Result<StorePath, ObjectError> {
        // A bucket's root (with the manifest kept elsewhere) has no prefix to put first.
        let full = if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        };
        StorePath::parse(full).map_err(|e| ObjectError::LocalTree {
            path: PathBuf::from(key),
            reason: format!("not a name a store can hold: {e}"),
        })
    }

    /// object_store's error, said about this destination and `key`.
    fn error(&self, op: &'static str, key: &str, error: object_store::Error) -> ObjectError {
        let reason = one_line(&error.to_string());
        match error {
            object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
                ObjectError::Denied {
                    url: self.url.clone(),
                    op,
                    key: key.to_string(),
                    reason,
                    credentials: self.credentials,
                }
            }
            _ if reason.contains("NoSuchBucket") || reason.contains("ContainerNotFound") => ObjectError::NoBucket {
                url: self.url.clone(),
                bucket: self.bucket.clone(),
            },
            object_store::Error::Precondition { .. } | object_store::Error::AlreadyExists { .. } => {
                ObjectError::Raced {
                    url: self.url.clone(),
                    manifest: self.manifest.to_string(),
                }
            }
            _ if reason.contains("InvalidAccessKeyId")
                || reason.contains("SignatureDoesNotMatch")
                || reason.contains("AuthenticationFailed")
                || reason.contains("AccessDenied") =>
            {
                ObjectError::Denied {
                    url: self.url.clone(),
                    op,
                    key: key.to_string(),
                    reason,
                    credentials: self.credentials,
                }
            }
            _ => ObjectError::Request {
                url: self.url.clone(),
                op,
                key: key.to_string(),
                reason,
            },
        }
    }

    async fn get_path(&self, path: &StorePath, key: &str, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        let result = match self.store.get_opts(path, GetOptions::default()).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.error("GET", key, e)),
        };
        if result.meta.size > limit {
            return Err(ObjectError::Request {
                url: self.url.clone(),
                op: "GET",
                key: key.to_string(),
                reason: format!("{} bytes, more than the {limit} read", result.meta.size),
            });
        }
        let etag = result.meta.e_tag.clone();
        let bytes = result.bytes().await.map_err(|e| self.error("GET", key, e))?;
        Ok(Some((bytes.to_vec(), etag)))
    }

    fn remember(&self, path: &StorePath) {
        if let Some(local) = &self.local {
            let file = local.parent.join(path.as_ref());
            if let Ok(mut written) = local.written.lock() {
                written.push(file);
            }
        }
    }
}

impl Backend for ObjectStoreBackend {
    fn url(&self) -> &str {
        &self.url
    }

    fn manifest_name(&self) -> String {
        match &self.local {
            Some(local) => local.parent.join(self.manifest.as_ref()).display().to_string(),
            None => self.manifest.to_string(),
        }
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, headers: &Headers) -> Result<Option<String>, ObjectError> {
        let path = self.path(key)?;
        let mut attributes = Attributes::new();
        if self.local.is_none() {
            attributes.insert(Attribute::ContentType, headers.content_type.clone().into());
            attributes.insert(Attribute::CacheControl, headers.cache_control.clone().into());
        }
        let options = PutOptions::from(attributes);
        let result = self
            .store
            .put_opts(&path, PutPayload::from(bytes), options)
            .await
            .map_err(|e| self.error("PUT", key, e))?;
        self.remember(&path);
        Ok(result.e_tag)
    }

    async fn get(&self, key: &str, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        let path = self.path(key)?;
        self.get_path(&path, key, limit).await
    }

    async fn head(&self, key: &str) -> Result<Option<Meta>, ObjectError> {
        let path = self.path(key)?;
        match self.store.head(&path).await {
            Ok(meta) => Ok(Some(Meta {
                key: key.to_string(),
                size: meta.size,
                etag: meta.e_tag,
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.error("HEAD", key, e)),
        }
    }

    async fn list(&self) -> Result<Vec<Meta>, ObjectError> {
        let prefix = StorePath::from(self.prefix.as_str());
        let listed: Vec<object_store::ObjectMeta> = match self.store.list(Some(&prefix)).try_collect().await {
            Ok(listed) => listed,
            // A local directory not made yet holds nothing.
            Err(object_store::Error::NotFound { .. }) if self.local.is_some() => Vec::new(),
            Err(e) => return Err(self.error("LIST", &format!("{}/", self.prefix), e)),
        };
        let start = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        Ok(listed
            .into_iter()
            .filter_map(|meta| {
                let key = meta.location.as_ref().strip_prefix(&start)?.to_string();
                Some(Meta {
                    key,
                    size: meta.size,
                    etag: meta.e_tag,
                })
            })
            .collect())
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        let path = self.path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error("DELETE", key, e)),
        }
    }

    async fn get_manifest(&self, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        let key = self.manifest.to_string();
        self.get_path(&self.manifest, &key, limit).await
    }

    async fn put_manifest(&self, bytes: Vec<u8>, expect: &Expect) -> Result<Option<String>, ObjectError> {
        let key = self.manifest.to_string();
        let mut attributes = Attributes::new();
        let mode = if self.local.is_some() {
            // LocalFileSystem has no conditional replace; a local directory has one pusher
            // at a time (the publish lock of the signing repository).
            match expect {
                Expect::Absent => PutMode::Create,
                Expect::ETag(_) => PutMode::Overwrite,
            }
        } else {
            attributes.insert(Attribute::ContentType, "application/json".into());
            attributes.insert(Attribute::CacheControl, "no-store".into());
            match expect {
                Expect::Absent => PutMode::Create,
                Expect::ETag(e_tag) => PutMode::Update(UpdateVersion {
                    e_tag: e_tag.clone(),
                    version: None,
                }),
            }
        };
        let options = PutOptions {
            mode,
            attributes,
            ..PutOptions::default()
        };
        let result = self
            .store
            .put_opts(&self.manifest, PutPayload::from(bytes), options)
            .await
            .map_err(|e| self.error("PUT", &key, e))?;
        self.remember(&self.manifest);
        Ok(result.e_tag)
    }

    async fn barrier(&self) -> Result<(), ObjectError> {
        let Some(local) = &self.local else {
            return Ok(());
        };
        let written = match local.written.lock() {
            Ok(mut written) => std::mem::take(&mut *written),
            Err(_) => Vec::new(),
        };
        let sync_error = |e: crate::Error| ObjectError::Request {
            url: self.url.clone(),
            op: "fsync",
            key: e.path().display().to_string(),
            reason: e.to_string(),
        };
        crate::sync_files(&local.parent, &written).map_err(sync_error)?;
        let served = local.parent.join(&self.prefix);
        if served.is_dir() {
            crate::sync_dirs(&served).map_err(sync_error)?;
        }
        crate::sync_dir(&local.parent).map_err(sync_error)
    }
}

/// `--endpoint`: http(s), a host, no credentials, path, query or fragment. `http://` is
/// allowed (local stores) with a warning unless the host is this machine.
/// An `--endpoint`: http(s), a host, no credentials, query or fragment. Warnings (plain
/// http off this machine) are added to `warnings`.
pub fn check_endpoint(text: &str, warnings: &mut Vec<String>) -> Result<url::Url, ObjectError> {
    let bad = || ObjectError::BadEndpoint {
        endpoint: super::url::without_userinfo(text),
    };
    let url = url::Url::parse(text).map_err(|_| bad())?;
    let plain = url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none()
        && url.host().is_some();
    if !plain || !matches!(url.scheme(), "http" | "https") {
        return Err(bad());
    }
    // Azure's account URL carries the account as its path; S3's has none.
    if url.scheme() == "http" {
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name == "localhost",
            None => false,
        };
        if !loopback {
            warnings.push(format!(
                "--endpoint {text} is plain http to another machine: credentials are signed, not sent, but the bytes travel in the clear"
            ));
        }
    }
    Ok(url)
}

/// A message on one line, at most 400 characters (a store's error body can be long).
pub(super) fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(400) {
        Some((cut, _)) => format!("{}...", &flat[..cut]),
        None => flat,
    }
}

/// Request counts, by kind.
#[derive(Debug, Default)]
pub struct Counts {
    pub put: AtomicU64,
    pub get: AtomicU64,
    pub head: AtomicU64,
    pub list: AtomicU64,
    pub delete: AtomicU64,
}

impl Counts {
    /// Every request counted.
    pub fn total(&self) -> u64 {
        [&self.put, &self.get, &self.head, &self.list, &self.delete]
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

/// A backend that counts the requests made through it (tests and benchmarks).
pub struct Counted<B> {
    pub inner: B,
    pub counts: Counts,
}

impl<B> Counted<B> {
    pub fn new(inner: B) -> Self {
        Counted {
            inner,
            counts: Counts::default(),
        }
    }
}

impl<B: Backend> Backend for Counted<B> {
    fn url(&self) -> &str {
        self.inner.url()
    }
    fn manifest_name(&self) -> String {
        self.inner.manifest_name()
    }
    async fn put(&self, key: &str, bytes: Vec<u8>, headers: &Headers) -> Result<Option<String>, ObjectError> {
        self.counts.put.fetch_add(1, Ordering::Relaxed);
        self.inner.put(key, bytes, headers).await
    }
    async fn get(&self, key: &str, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        self.counts.get.fetch_add(1, Ordering::Relaxed);
        self.inner.get(key, limit).await
    }
    async fn head(&self, key: &str) -> Result<Option<Meta>, ObjectError> {
        self.counts.head.fetch_add(1, Ordering::Relaxed);
        self.inner.head(key).await
    }
    async fn list(&self) -> Result<Vec<Meta>, ObjectError> {
        self.counts.list.fetch_add(1, Ordering::Relaxed);
        self.inner.list().await
    }
    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        self.counts.delete.fetch_add(1, Ordering::Relaxed);
        self.inner.delete(key).await
    }
    async fn get_manifest(&self, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        self.counts.get.fetch_add(1, Ordering::Relaxed);
        self.inner.get_manifest(limit).await
    }
    async fn put_manifest(&self, bytes: Vec<u8>, expect: &Expect) -> Result<Option<String>, ObjectError> {
        self.counts.put.fetch_add(1, Ordering::Relaxed);
        self.inner.put_manifest(bytes, expect).await
    }
    async fn barrier(&self) -> Result<(), ObjectError> {
        self.inner.barrier().await
    }
}
