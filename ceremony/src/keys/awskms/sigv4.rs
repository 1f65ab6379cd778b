//! AWS Signature Version 4: the `Authorization` header that authenticates a request.
//!
//! Written here rather than taken from the AWS SDK (see docs/decisions/aws-kms-client.md):
//! a canonical request, the string to sign, a key derived from the secret by a chain of
//! HMAC-SHA256, and the signature. Only what KMS's JSON API needs and the published test
//! suite checks: header signing, no presigned URLs, no chunked payloads.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac as _};
use sha2::{Digest as _, Sha256};

use super::credentials::Credentials;

/// The algorithm name in the string to sign and the header.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// A request to sign. Header names may be in any case; `host` and `x-amz-date` must be
/// among the headers (and `x-amz-security-token` when the credentials have a session
/// token), since they are what the service checks.
pub(crate) struct Request<'a> {
    pub method: &'a str,
    /// The path, already URI-encoded as it goes on the wire (KMS: `/`).
    pub path: &'a str,
    /// Query parameters, not encoded.
    pub query: &'a [(&'a str, &'a str)],
    pub headers: &'a [(&'a str, &'a str)],
    pub payload: &'a [u8],
}

/// Where and when the signature is valid.
pub(crate) struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
    pub time: DateTime<Utc>,
}

/// `20150830T123600Z`: the `x-amz-date` header's form.
pub(crate) fn amz_date(time: DateTime<Utc>) -> String {
    time.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The value of the `Authorization` header for `request`.
pub(crate) fn authorization(request: &Request<'_>, credentials: &Credentials, scope: &Scope<'_>) -> String {
    let (canonical, signed_headers) = canonical_request(request);
    let date = scope.time.format("%Y%m%d").to_string();
    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{credential_scope}\n{}",
        amz_date(scope.time),
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let key = signing_key(credentials.secret_access_key(), &date, scope.region, scope.service);
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    format!(
        "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id()
    )
}

/// The canonical request and the list of signed header names (`host;x-amz-date`).
fn canonical_request(request: &Request<'_>) -> (String, String) {
    let mut query: Vec<(String, String)> = request
        .query
        .iter()
        .map(|(name, value)| (uri_encode(name), uri_encode(value)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), collapse_spaces(value)))
        .collect();
    headers.sort();
    let signed: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
    let signed = signed.join(";");
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let canonical = format!(
        "{}\n{}\n{query}\n{canonical_headers}\n{signed}\n{}",
        request.method,
        request.path,
        hex::encode(Sha256::digest(request.payload))
    );
    (canonical, signed)
}

/// A header value as signed: trimmed, runs of spaces made one.
fn collapse_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// SigV4's URI encoding: every byte but `A-Z a-z 0-9 - _ . ~` as `%XX` (upper case).
fn uri_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The key for one day, region and service: HMAC chained from `AWS4` + the secret.
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    //! The cases of AWS's published SigV4 test suite (its credentials, date, region and
    //! service "service"), and the derived-key example of the SigV4 documentation.
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const DATE: &str = "20150830T123600Z";
    const SCOPE: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

    fn suite(method: &str, query: &[(&str, &str)], extra: &[(&str, &str)], token: Option<&str>) -> String {
        let mut headers = vec![("Host", "example.amazonaws.com"), ("X-Amz-Date", DATE)];
        headers.extend_from_slice(extra);
        if let Some(token) = token {
            headers.push(("X-Amz-Security-Token", token));
        }
        let credentials = Credentials::new("AKIDEXAMPLE", SECRET, token.map(str::to_string));
        let time = DateTime::parse_from_rfc3339("2015-08-30T12:36:00Z").unwrap().to_utc();
        let request = Request {
            method,
            path: "/",
            query,
            headers: &headers,
            payload: b"",
        };
        authorization(
            &request,
            &credentials,
            &Scope {
                region: "us-east-1",
                service: "service",
                time,
            },
        )
    }

    #[test]
    fn get_vanilla() {
        assert_eq!(
            suite("GET", &[], &[], None),
            format!(
                "{SCOPE}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            )
        );
    }

    #[test]
    fn post_vanilla() {
        assert_eq!(
            suite("POST", &[], &[], None),
            format!(
                "{SCOPE}, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
            )
        );
    }

    #[test]
    fn get_vanilla_query_order_key_case() {
        assert_eq!(
            suite("GET", &[("Param2", "value2"), ("Param1", "value1")], &[], None),
            format!(
                "{SCOPE}, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
            )
        );
    }

    #[test]
    fn post_header_value_case() {
        assert_eq!(
            suite("POST", &[], &[("My-Header1", "VALUE1")], None),
            format!(
                "{SCOPE}, SignedHeaders=host;my-header1;x-amz-date, Signature=cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"
            )
        );
    }

    #[test]
    fn get_header_value_trim() {
        assert_eq!(
            suite(
                "GET",
                &[],
                &[("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
                None
            ),
            format!(
                "{SCOPE}, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
            )
        );
    }

    #[test]
    fn post_sts_header_before() {
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
        assert_eq!(
            suite("POST", &[], &[], Some(token)),
            format!(
                "{SCOPE}, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
            )
        );
    }

    /// The SigV4 documentation's example of a derived signing key (IAM, 2012-02-15).
    #[test]
    fn derived_signing_key() {
        assert_eq!(
            hex::encode(signing_key(SECRET, "20120215", "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn uri_encoding_keeps_only_unreserved() {
        assert_eq!(uri_encode("a b/c~d_e.f-g*"), "a%20b%2Fc~d_e.f-g%2A");
    }
}
