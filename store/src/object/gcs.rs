//! Google Cloud Storage through its JSON API. object_store's GCS backend speaks the XML API,
//! which gcp-storage-emulator (the store the tests run against) cannot serve; the JSON API
//! is what Google's own client libraries use, so this path is the one tested. Only the
//! credentials come from object_store: its provider reads the standard Google set-up
//! (a service account key, application-default credentials, the instance's metadata
//! server) and hands out bearer tokens.
//!
//! An object's "ETag" here is its *generation*, the number GCS gives every write of an
//! object: it changes whenever the object is replaced, and it is what `ifGenerationMatch`
//! takes, so the manifest is replaced only if it is still the generation read at the start.
//!
//! Every answer is size-limited and every request has a time limit, as on the S3 path.

use std::time::Duration;

use object_store::gcp::GcpCredentialProvider;
use sha2::{Digest as _, Sha256};

use super::backend::{Backend, Connect, Expect, Fetched, Headers, Meta, check_endpoint, one_line};
use super::credentials::{Env, var};
use super::error::ObjectError;
use super::url::MANIFEST_SUFFIX;

/// Where the JSON API is when no `--endpoint` names another.
const GOOGLE: &str = "https://storage.googleapis.com";
/// Largest object resource or error body read.
const MAX_RESOURCE: u64 = 1 << 20;
/// Largest page of a listing (1,000 object resources).
const MAX_PAGE: u64 = 16 << 20;
/// Pages of a listing before giving up on a store that never ends one (100 million keys).
const MAX_PAGES: usize = 100_000;
/// What `--help`, the operator guide and the errors name as GCS's credentials.
pub const CREDENTIALS: &str =
    "GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_SERVICE_ACCOUNT or `gcloud auth application-default login`";

/// A bucket (and a prefix in it) reached through the JSON API.
pub struct GcsBackend {
    client: reqwest::Client,
    url: String,
    bucket: String,
    prefix: String,
    manifest: String,
    /// `https://storage.googleapis.com`, or the `--endpoint` / `STORAGE_EMULATOR_HOST`.
    api: url::Url,
    /// Bearer tokens for Google itself; `None` for an emulator, which is sent none.
    credentials: Option<GcpCredentialProvider>,
    retries: usize,
}

/// A JSON API request, rebuilt for each attempt.
struct Call<'a> {
    method: reqwest::Method,
    url: url::Url,
    body: Option<(&'a str, &'a [u8])>,
}

impl GcsBackend {
    /// Connects to `gs://bucket/prefix`. With `--endpoint` (or `STORAGE_EMULATOR_HOST`,
    /// Google's client libraries' convention) the store is an emulator: no credentials
    /// are looked up or sent, so a wrong set-up never ends up asking a metadata server.
    pub fn open(
        url: &str,
        bucket: &str,
        prefix: &str,
        connect: &Connect,
        env: Env<'_>,
    ) -> Result<(GcsBackend, Vec<String>), ObjectError> {
        let setup = |reason: String| ObjectError::Setup {
            url: url.to_string(),
            reason,
        };
        let mut warnings = Vec::new();
        let emulator = connect.endpoint.clone().or_else(|| {
            var(env, "STORAGE_EMULATOR_HOST").map(|host| {
                if host.contains("://") {
                    host
                } else {
                    format!("http://{host}")
                }
            })
        });
        let (api, credentials) = match emulator {
            Some(endpoint) => (check_endpoint(&endpoint, &mut warnings)?, None),
            None => {
                let mut builder = object_store::gcp::GoogleCloudStorageBuilder::new().with_bucket_name(bucket);
                for (variable, key) in [
                    (
                        "GOOGLE_APPLICATION_CREDENTIALS",
                        object_store::gcp::GoogleConfigKey::ApplicationCredentials,
                    ),
                    (
                        "GOOGLE_SERVICE_ACCOUNT",
                        object_store::gcp::GoogleConfigKey::ServiceAccount,
                    ),
                    (
                        "GOOGLE_SERVICE_ACCOUNT_PATH",
                        object_store::gcp::GoogleConfigKey::ServiceAccount,
                    ),
                    (
                        "GOOGLE_SERVICE_ACCOUNT_KEY",
                        object_store::gcp::GoogleConfigKey::ServiceAccountKey,
                    ),
                ] {
                    if let Some(value) = var(env, variable) {
                        builder = builder.with_config(key, value);
                    }
                }
                let store = builder.build().map_err(|e| {
                    setup(format!(
                        "cannot read the Google credentials: {}; set {CREDENTIALS}",
                        one_line(&e.to_string())
                    ))
                })?;
                let api = url::Url::parse(GOOGLE).map_err(|e| setup(e.to_string()))?;
                (api, Some(store.credentials().clone()))
            }
        };
        let client = reqwest::Client::builder()
            .timeout(connect.timeout)
            .connect_timeout(connect.timeout.min(Duration::from_secs(10)))
            // A redirect could carry the bearer token elsewhere; the API never sends one.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| setup(format!("cannot build the HTTP client: {e}")))?;
        Ok((
            GcsBackend {
                client,
                url: url.to_string(),
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
                manifest: format!("{prefix}{MANIFEST_SUFFIX}"),
                api,
                credentials,
                retries: connect.retries,
            },
            warnings,
        ))
    }

    /// `{api}/{segments...}`, each segment percent-encoded whole ('/' in an object name
    /// included, as the JSON API wants it).
    fn endpoint(&self, segments: &[&str], query: &[(&str, &str)]) -> url::Url {
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    fn object_url(&self, name: &str, query: &[(&str, &str)]) -> url::Url {
        self.endpoint(&["storage", "v1", "b", &self.bucket, "o", name], query)
    }

    /// Sends `call`, again after a back-off on a dropped connection, a timeout, 429 or
    /// 5xx, up to `retries` more times. Answers with other statuses are returned as they
    /// are; `op` and `key` name the request in errors.
    async fn send(&self, call: &Call<'_>, op: &'static str, key: &str) -> Result<reqwest::Response, ObjectError> {
        let mut attempt = 0;
        loop {
            let mut request = self.client.request(call.method.clone(), call.url.clone());
            if let Some((content_type, body)) = call.body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, content_type)
                    .body(body.to_vec());
            }
            if let Some(credentials) = &self.credentials {
                let token = credentials.get_credential().await.map_err(|e| ObjectError::Setup {
                    url: self.url.clone(),
                    reason: format!(
                        "cannot get a Google access token: {}; set {CREDENTIALS}",
                        one_line(&e.to_string())
                    ),
                })?;
                request = request.bearer_auth(&token.bearer);
            }
            let outcome = request.send().await;
            let retry = match &outcome {
                Ok(response) => {
                    let status = response.status();
                    status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
                }
                Err(e) => e.is_timeout() || e.is_connect() || e.is_request() || e.is_body(),
            };
            if !retry || attempt >= self.retries {
                return match outcome {
                    Ok(response) => Ok(response),
                    Err(e) => Err(ObjectError::Request {
                        url: self.url.clone(),
                        op,
                        key: key.to_string(),
                        reason: one_line(&without_url(&e)),
                    }),
                };
            }
            attempt += 1;
            let backoff = Duration::from_millis(200u64.saturating_mul(1 << attempt.min(5)));
            tokio::time::sleep(backoff.min(Duration::from_secs(5))).await;
        }
    }

    /// An answer that is not a success, said about `key`: refused credentials, a missing
    /// bucket (`missing_is_bucket`: a 404 on an upload or a listing), a lost race on the
    /// manifest, or the status and Google's message.
    async fn refused(
        &self,
        response: reqwest::Response,
        op: &'static str,
        key: &str,
        missing_is_bucket: bool,
    ) -> ObjectError {
        let status = response.status();
        let body = read_limited(response, MAX_RESOURCE).await.unwrap_or_default();
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
            .unwrap_or_default();
        let reason = one_line(&format!("HTTP {status} {message}"));
        match status.as_u16() {
            401 | 403 => ObjectError::Denied {
                url: self.url.clone(),
                op,
                key: key.to_string(),
                reason,
                credentials: CREDENTIALS,
            },
            404 if missing_is_bucket => ObjectError::NoBucket {
                url: self.url.clone(),
                bucket: self.bucket.clone(),
            },
            // Only the manifest's write carries a condition (ifGenerationMatch).
            412 if key == self.manifest => ObjectError::Raced {
                url: self.url.clone(),
                manifest: self.manifest.clone(),
            },
            _ => ObjectError::Request {
                url: self.url.clone(),
                op,
                key: key.to_string(),
                reason,
            },
        }
    }

    /// A JSON answer of at most `limit` bytes.
    async fn json(
        &self,
        response: reqwest::Response,
        op: &'static str,
        key: &str,
        limit: u64,
    ) -> Result<serde_json::Value, ObjectError> {
        let body = read_limited(response, limit)
            .await
            .map_err(|reason| self.failed(op, key, reason))?;
        serde_json::from_slice(&body).map_err(|e| self.failed(op, key, format!("not a JSON API answer: {e}")))
    }

    fn failed(&self, op: &'static str, key: &str, reason: String) -> ObjectError {
        ObjectError::Request {
            url: self.url.clone(),
            op,
            key: key.to_string(),
            reason,
        }
    }

    /// The object resource's size and generation.
    fn meta(&self, key: &str, resource: &serde_json::Value, op: &'static str) -> Result<Meta, ObjectError> {
        let size = number(&resource["size"]).ok_or_else(|| self.failed(op, key, "the answer has no size".into()))?;
        Ok(Meta {
            key: key.to_string(),
            size,
            etag: generation(resource),
        })
    }

    /// Uploads `bytes` as object `name` in one multipart request; returns its generation.
    async fn upload(
        &self,
        name: &str,
        key: &str,
        bytes: &[u8],
        headers: &Headers,
        if_generation: Option<&str>,
    ) -> Result<Option<String>, ObjectError> {
        let metadata = serde_json::json!({
            "name": name,
            "contentType": headers.content_type,
            "cacheControl": headers.cache_control,
        });
        let (content_type, body) = multipart(&metadata, &headers.content_type, bytes);
        let mut query = vec![("uploadType", "multipart")];
        if let Some(generation) = if_generation {
            query.push(("ifGenerationMatch", generation));
        }
        let call = Call {
            method: reqwest::Method::POST,
            url: self.endpoint(&["upload", "storage", "v1", "b", &self.bucket, "o"], &query),
            body: Some((&content_type, &body)),
        };
        let response = self.send(&call, "PUT", key).await?;
        if !response.status().is_success() {
            return Err(self.refused(response, "PUT", key, true).await);
        }
        let resource = self.json(response, "PUT", key, MAX_RESOURCE).await?;
        Ok(generation(&resource))
    }

    /// Object `name`'s resource, `None` when absent.
    async fn resource(
        &self,
        name: &str,
        key: &str,
        op: &'static str,
    ) -> Result<Option<serde_json::Value>, ObjectError> {
        let call = Call {
            method: reqwest::Method::GET,
            url: self.object_url(name, &[]),
            body: None,
        };
        let response = self.send(&call, op, key).await?;
        match response.status().as_u16() {
            404 => Ok(None),
            200 => self.json(response, op, key, MAX_RESOURCE).await.map(Some),
            _ => Err(self.refused(response, op, key, false).await),
        }
    }

    /// Object `name`'s bytes and generation: its resource first (so that an object over
    /// `limit` is refused before a byte of it is read), then the bytes of that very
    /// generation.
    async fn download(&self, name: &str, key: &str, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        let Some(resource) = self.resource(name, key, "GET").await? else {
            return Ok(None);
        };
        let meta = self.meta(key, &resource, "GET")?;
        if meta.size > limit {
            return Err(self.failed("GET", key, format!("{} bytes, more than the {limit} read", meta.size)));
        }
        let mut query = vec![("alt", "media")];
        if let Some(generation) = &meta.etag {
            query.push(("generation", generation));
        }
        let call = Call {
            method: reqwest::Method::GET,
            url: self.object_url(name, &query),
            body: None,
        };
        let response = self.send(&call, "GET", key).await?;
        if response.status().as_u16() == 404 {
            // Replaced or deleted between the two requests.
            return Err(self.failed("GET", key, "changed while it was read; run the command again".into()));
        }
        if !response.status().is_success() {
            return Err(self.refused(response, "GET", key, false).await);
        }
        let bytes = read_limited(response, limit)
            .await
            .map_err(|reason| self.failed("GET", key, reason))?;
        Ok(Some((bytes, meta.etag)))
    }

    fn name(&self, key: &str) -> String {
        format!("{}/{key}", self.prefix)
    }
}

impl Backend for GcsBackend {
    fn url(&self) -> &str {
        &self.url
    }

    fn manifest_name(&self) -> String {
        self.manifest.clone()
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, headers: &Headers) -> Result<Option<String>, ObjectError> {
        self.upload(&self.name(key), key, &bytes, headers, None).await
    }

    async fn get(&self, key: &str, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        self.download(&self.name(key), key, limit).await
    }

    async fn head(&self, key: &str) -> Result<Option<Meta>, ObjectError> {
        match self.resource(&self.name(key), key, "HEAD").await? {
            Some(resource) => self.meta(key, &resource, "HEAD").map(Some),
            None => Ok(None),
        }
    }

    async fn list(&self) -> Result<Vec<Meta>, ObjectError> {
        let start = format!("{}/", self.prefix);
        let mut listed = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("prefix", start.as_str()), ("maxResults", "1000")];
            if let Some(token) = &token {
                query.push(("pageToken", token));
            }
            let call = Call {
                method: reqwest::Method::GET,
                url: self.endpoint(&["storage", "v1", "b", &self.bucket, "o"], &query),
                body: None,
            };
            let response = self.send(&call, "LIST", &start).await?;
            if !response.status().is_success() {
                return Err(self.refused(response, "LIST", &start, true).await);
            }
            let page = self.json(response, "LIST", &start, MAX_PAGE).await?;
            for item in page["items"].as_array().into_iter().flatten() {
                let name = item["name"].as_str().unwrap_or_default();
                if let Some(key) = name.strip_prefix(&start) {
                    listed.push(self.meta(key, item, "LIST")?);
                }
            }
            match page["nextPageToken"].as_str() {
                Some(next) if !next.is_empty() && token.as_deref() != Some(next) => token = Some(next.to_string()),
                _ => return Ok(listed),
            }
        }
        Err(self.failed(
            "LIST",
            &start,
            format!("more than {MAX_PAGES} pages: the listing never ends"),
        ))
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        let call = Call {
            method: reqwest::Method::DELETE,
            url: self.object_url(&self.name(key), &[]),
            body: None,
        };
        let response = self.send(&call, "DELETE", key).await?;
        match response.status().as_u16() {
            // Gone already is what was wanted.
            200 | 204 | 404 => Ok(()),
            _ => Err(self.refused(response, "DELETE", key, false).await),
        }
    }

    async fn get_manifest(&self, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        let manifest = self.manifest.clone();
        self.download(&manifest, &manifest, limit).await
    }

    async fn put_manifest(&self, bytes: Vec<u8>, expect: &Expect) -> Result<Option<String>, ObjectError> {
        let headers = Headers {
            content_type: "application/json".into(),
            cache_control: "no-store".into(),
        };
        // Generation 0 means "no such object yet".
        let condition = match expect {
            Expect::Absent => Some("0"),
            Expect::ETag(generation) => generation.as_deref(),
        };
        let manifest = self.manifest.clone();
        self.upload(&manifest, &manifest, &bytes, &headers, condition).await
    }

    async fn barrier(&self) -> Result<(), ObjectError> {
        // An upload is durable once answered.
        Ok(())
    }
}

/// A `multipart/related` upload body: the object resource as JSON, then the bytes. The
/// boundary is derived from the bytes and checked not to occur in either part.
fn multipart(metadata: &serde_json::Value, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let metadata = metadata.to_string();
    let digest = hex::encode(Sha256::digest(bytes));
    let mut boundary = format!("trustroot-{}", &digest[..32]);
    while contains(bytes, boundary.as_bytes()) || metadata.contains(&boundary) {
        boundary.push('x');
    }
    let mut body = Vec::with_capacity(bytes.len() + metadata.len() + 256);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{metadata}\r\n--{boundary}\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/related; boundary={boundary}"), body)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The body, refused past `limit` bytes (announced or read).
async fn read_limited(mut response: reqwest::Response, limit: u64) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(format!("the answer is larger than the {limit} bytes read"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| one_line(&without_url(&e)))? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(format!("the answer is larger than the {limit} bytes read"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// reqwest's error without the request URL (already named by the message around it).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(&format!(" ({url})"), "");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// A JSON API number: a decimal string (as GCS sends 64-bit numbers) or a number.
fn number(value: &serde_json::Value) -> Option<u64> {
    value.as_str().and_then(|s| s.parse().ok()).or_else(|| value.as_u64())
}

fn generation(resource: &serde_json::Value) -> Option<String> {
    number(&resource["generation"]).map(|g| g.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_boundary_found_in_the_parts_is_not_used() {
        let digest = hex::encode(Sha256::digest(b"x"));
        let hostile = format!("--trustroot-{}", &digest[..32]);
        // Bytes holding the boundary their own hash would give cannot exist in practice;
        // the loop is checked on the metadata side instead.
        let metadata = serde_json::json!({ "name": hostile });
        let (content_type, body) = multipart(&metadata, "application/json", b"x");
        let boundary = content_type.rsplit_once('=').unwrap().1;
        assert!(boundary.ends_with('x'), "{boundary}");
        let text = String::from_utf8(body).unwrap();
        assert_eq!(text.matches(&format!("--{boundary}")).count(), 3, "{text}");
    }

    #[test]
    fn numbers_as_the_json_api_sends_them() {
        assert_eq!(
            number(&serde_json::json!("1796449365232101579")),
            Some(1796449365232101579)
        );
        assert_eq!(number(&serde_json::json!(7)), Some(7));
        assert_eq!(number(&serde_json::json!("-1")), None);
        assert_eq!(number(&serde_json::json!(null)), None);
    }
}
