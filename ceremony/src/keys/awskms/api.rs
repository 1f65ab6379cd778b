//! KMS's JSON API over HTTP: one signed POST per operation, with time and size limits, and
//! KMS's error answers mapped to [`KmsError`]s that name the key reference.

use std::time::Duration;

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::credentials::Settings;
use super::sigv4;
use crate::error::KmsError;

/// Limits on every call. KMS answers in milliseconds with well under 2 KiB (an RSA-4096
/// public key is the largest); anything slower or larger is a fault or an attack.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// To open the connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// For the whole call, from connecting to the last byte of the answer.
    pub request_timeout: Duration,
    /// The largest answer read.
    pub max_response: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_response: 64 * 1024,
        }
    }
}

/// A client for one key: its settings, an HTTP client and the runtime that drives it.
pub(crate) struct Client {
    key: String,
    settings: Settings,
    limits: Limits,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Client {
    pub(crate) fn new(key: &str, settings: Settings, limits: Limits) -> Result<Client, KmsError> {
        let unreachable = |reason: String| KmsError::Unreachable {
            key: key.to_string(),
            operation: "connect",
            endpoint: settings.endpoint.to_string(),
            reason,
        };
        let http = reqwest::Client::builder()
            .connect_timeout(limits.connect_timeout)
            .timeout(limits.request_timeout)
            // A KMS endpoint never redirects; following one would send the signed
            // request's answer from elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| unreachable(chain(&e)))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(Client {
            key: key.to_string(),
            settings,
            limits,
            http,
            runtime,
        })
    }

    pub(crate) fn region(&self) -> &str {
        &self.settings.region
    }

    /// Calls `operation` (`GetPublicKey`, `Sign`) with `body` and returns KMS's answer.
    ///
    /// The call runs on a thread of its own: signing is synchronous, and a caller may
    /// already be inside a Tokio runtime, where blocking on another one would panic.
    pub(crate) fn call(&self, operation: &'static str, body: &Value) -> Result<Value, KmsError> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| self.runtime.block_on(self.call_async(operation, body)))
                .join()
                .unwrap_or_else(|_| {
                    Err(KmsError::Unreachable {
                        key: self.key.clone(),
                        operation,
                        endpoint: self.endpoint(),
                        reason: "the request thread stopped".to_string(),
                    })
                })
        })
    }

    fn endpoint(&self) -> String {
        self.settings.endpoint.to_string()
    }

    async fn call_async(&self, operation: &'static str, body: &Value) -> Result<Value, KmsError> {
        // reqwest's own timeout covers the whole call too; this one also bounds the body
        // read below whatever the client does.
        let call = self.exchange(operation, body);
        let answer = match tokio::time::timeout(self.limits.request_timeout, call).await {
            Ok(answer) => answer?,
            Err(_) => return Err(self.timeout(operation)),
        };
        let value: Option<Value> = serde_json::from_slice(&answer.body).ok();
        if answer.status == 200 {
            return value.ok_or_else(|| self.bad_response(operation, "not JSON"));
        }
        match error_kind(value.as_ref(), answer.error_type.as_deref(), &answer.body) {
            Some((kind, message)) => Err(self.service_error(operation, &kind, &message)),
            None => Err(KmsError::HttpStatus {
                key: self.key.clone(),
                operation,
                endpoint: self.endpoint(),
                status: answer.status,
            }),
        }
    }

    /// Sends the signed request; returns the status, the error type header and the body,
    /// at most the limit.
    async fn exchange(&self, operation: &'static str, body: &Value) -> Result<Answer, KmsError> {
        let payload = serde_json::to_vec(body).map_err(|e| self.bad_response(operation, &e.to_string()))?;
        let request = self.signed(operation, payload);
        let mut response = request.send().await.map_err(|e| self.transport(operation, &e))?;
        let status = response.status().as_u16();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if response
            .content_length()
            .is_some_and(|length| length > self.limits.max_response as u64)
        {
            return Err(self.too_large(operation));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(operation, &e))? {
            if bytes.len() + chunk.len() > self.limits.max_response {
                return Err(self.too_large(operation));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            error_type,
            body: bytes,
        })
    }

    /// The POST with its SigV4 `Authorization`. The clock is read here: SigV4 requests are
    /// valid for minutes around the time they carry, whatever time the command works at.
    fn signed(&self, operation: &str, payload: Vec<u8>) -> reqwest::RequestBuilder {
        let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
        let url = &self.settings.endpoint;
        // The Host header as reqwest sends it: the port only when it is not the scheme's.
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let date = sigv4::amz_date(now);
        let target = format!("TrentService.{operation}");
        let content_sha = hex::encode(Sha256::digest(&payload));
        let mut headers: Vec<(&str, &str)> = vec![
            ("content-type", "application/x-amz-json-1.1"),
            ("host", &host),
            ("x-amz-date", &date),
            ("x-amz-target", &target),
            ("x-amz-content-sha256", &content_sha),
        ];
        let credentials = &self.settings.credentials;
        if let Some(token) = credentials.session_token() {
            headers.push(("x-amz-security-token", token));
        }
        let authorization = sigv4::authorization(
            &sigv4::Request {
                method: "POST",
                path: url.path(),
                query: &[],
                headers: &headers,
                payload: &payload,
            },
            credentials,
            &sigv4::Scope {
                region: &self.settings.region,
                service: "kms",
                time: now,
            },
        );
        let mut request = self.http.post(url.clone());
        for (name, value) in headers.iter().filter(|(name, _)| *name != "host") {
            request = request.header(*name, *value);
        }
        request.header("authorization", authorization).body(payload)
    }

    /// KMS's error `kind` (`NotFoundException`...) and message as an error of ours.
    fn service_error(&self, operation: &'static str, kind: &str, message: &str) -> KmsError {
        let key = self.key.clone();
        let message = shown_message(message);
        match kind {
            "NotFoundException" => KmsError::NotFound {
                key,
                region: self.settings.region.clone(),
                message,
            },
            "AccessDeniedException" | "AccessDenied" => KmsError::AccessDenied {
                key,
                operation,
                message,
            },
            "DisabledException" | "KMSInvalidStateException" => KmsError::Disabled { key, message },
            "ThrottlingException" | "LimitExceededException" => KmsError::Throttled {
                key,
                operation,
                message,
            },
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "IncompleteSignature"
            | "InvalidClientTokenId"
            | "ExpiredTokenException"
            | "ExpiredToken"
            | "SignatureDoesNotMatch" => KmsError::BadCredentials {
                key,
                kind: kind.to_string(),
                message,
            },
            _ => KmsError::Service {
                key,
                operation,
                kind: shown_message(kind),
                message,
            },
        }
    }

    fn transport(&self, operation: &'static str, error: &reqwest::Error) -> KmsError {
        if error.is_timeout() {
            return self.timeout(operation);
        }
        KmsError::Unreachable {
            key: self.key.clone(),
            operation,
            endpoint: self.endpoint(),
            reason: chain(error),
        }
    }

    fn timeout(&self, operation: &'static str) -> KmsError {
        KmsError::Timeout {
            key: self.key.clone(),
            operation,
            endpoint: self.endpoint(),
            seconds: self.limits.request_timeout.as_secs().max(1),
        }
    }

    fn too_large(&self, operation: &'static str) -> KmsError {
        KmsError::ResponseTooLarge {
            key: self.key.clone(),
            operation,
            endpoint: self.endpoint(),
            limit: self.limits.max_response,
        }
    }

    pub(crate) fn bad_response(&self, operation: &'static str, reason: &str) -> KmsError {
        KmsError::BadResponse {
            key: self.key.clone(),
            operation,
            reason: reason.to_string(),
        }
    }
}

/// An HTTP answer, read within the limits.
struct Answer {
    status: u16,
    /// `x-amzn-ErrorType`, which AWS's JSON protocols send with an error.
    error_type: Option<String>,
    body: Vec<u8>,
}

/// The error type and message of an error answer: KMS's JSON (`{"__type":
/// "...#NotFoundException", "message": "..."}`), else the `x-amzn-ErrorType` header, else
/// the `<Code>` of an XML error (what AWS's query protocol and some gateways and emulators
/// send, moto's authentication errors among them). `None`: not an AWS error at all.
fn error_kind(json: Option<&Value>, header: Option<&str>, body: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let json_field = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| json.and_then(|v| v.get(*name)).and_then(Value::as_str))
            .map(str::to_string)
    };
    let kind = json_field(&["__type", "code"])
        .or_else(|| header.map(str::to_string))
        .or_else(|| xml_element(&text, "Code"))?;
    // `aws.protocols#...#Name` and `Name:http://internal...` both name `Name`.
    let kind = kind.rsplit('#').next().unwrap_or(&kind);
    let kind = kind.split(':').next().unwrap_or(kind).trim().to_string();
    if kind.is_empty() {
        return None;
    }
    let message = json_field(&["message", "Message"])
        .or_else(|| xml_element(&text, "Message"))
        .unwrap_or_default();
    Some((kind, message))
}

/// The text of the first `<name>...</name>` in `xml`.
fn xml_element(xml: &str, name: &str) -> Option<String> {
    let start = xml.find(&format!("<{name}>"))? + name.len() + 2;
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(xml[start..end].to_string())
}

/// A server's text for a message: control characters escaped, at most 300 characters.
fn shown_message(text: &str) -> String {
    let short: String = text.chars().take(300).collect();
    trustroot_core::display::escape(&short).into_owned()
}

/// What went wrong, in the words of the deepest cause ("Connection refused (os error
/// 111)", "invalid peer certificate: UnknownIssuer"): reqwest's outer layers only repeat
/// the URL, which the message already names.
fn chain(error: &dyn std::error::Error) -> String {
    let mut deepest = error;
    while let Some(cause) = deepest.source() {
        deepest = cause;
    }
    deepest.to_string()
}
