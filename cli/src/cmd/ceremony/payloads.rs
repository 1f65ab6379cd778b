//! The Sigstore payloads among a signing repository's targets (`targets/trusted_root.json`,
//! `targets/signing_config*.json`), summarised for the status page: each CA, transparency
//! log, CT log and TSA (and, in a signing config, each service) with its validity window.
//!
//! Everything here is read from files anyone with the repository can edit: a file that
//! cannot be read or parsed becomes a problem the page shows, and a time that does not
//! parse is kept as text and left off the time line.

use std::io::Read as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use trustroot_targets::sigstore::json::parse_typed;
use trustroot_targets::sigstore::signing_config::{Service, SigningConfig};
use trustroot_targets::sigstore::trusted_root::{
    CertificateAuthority, TimeRange, TransparencyLogInstance, TrustedRoot,
};

/// The largest payload read: Sigstore's production trusted root is about 10 KiB.
const MAX_PAYLOAD_BYTES: u64 = 4 * 1024 * 1024;

/// The signing configs looked for, as Sigstore names them.
const SIGNING_CONFIGS: [&str; 2] = ["signing_config.v0.2.json", "signing_config.json"];

/// One entry with a validity window.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Window {
    /// What it is: "Certificate authority", "Transparency log"...
    pub kind: &'static str,
    /// How it is named: its URL, and its subject or operator when given.
    pub name: String,
    /// The window's start and end as written (`None`: not stated; an end not stated is open).
    pub start: Option<String>,
    pub end: Option<String>,
}

impl Window {
    pub fn start_at(&self) -> Option<DateTime<Utc>> {
        self.start.as_deref().and_then(parse_time)
    }

    pub fn end_at(&self) -> Option<DateTime<Utc>> {
        self.end.as_deref().and_then(parse_time)
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    trustroot_targets::sigstore::time::parse(text).ok().map(|(t, _)| t)
}

/// One payload file and what it lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// The target's name (`trusted_root.json`).
    pub file: String,
    pub windows: Result<Vec<Window>, String>,
}

/// How `ceremony status --json` prints a payload: its windows, or why it cannot be read.
#[derive(Debug, serde::Serialize)]
pub struct PayloadJson<'a> {
    pub file: &'a str,
    pub windows: &'a [Window],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<&'a str>,
}

impl Payload {
    pub fn json(&self) -> PayloadJson<'_> {
        let (windows, problem) = match &self.windows {
            Ok(windows) => (windows.as_slice(), None),
            Err(why) => (&[][..], Some(why.as_str())),
        };
        PayloadJson {
            file: &self.file,
            windows,
            problem,
        }
    }
}

/// The payloads found in `targets_dir` (none: not a Sigstore-shaped repository).
pub fn read(targets_dir: &Path) -> Vec<Payload> {
    let mut found = Vec::new();
    if let Some(bytes) = read_file(&targets_dir.join("trusted_root.json")) {
        found.push(Payload {
            file: "trusted_root.json".into(),
            windows: bytes.and_then(|b| {
                parse_typed::<TrustedRoot>(&b)
                    .map(|root| trusted_root(&root))
                    .map_err(|e| format!("does not parse: {e}"))
            }),
        });
    }
    for name in SIGNING_CONFIGS {
        if let Some(bytes) = read_file(&targets_dir.join(name)) {
            found.push(Payload {
                file: name.into(),
                windows: bytes.and_then(|b| {
                    parse_typed::<SigningConfig>(&b)
                        .map(|config| signing_config(&config))
                        .map_err(|e| format!("does not parse: {e}"))
                }),
            });
        }
    }
    found
}

/// `None` when there is no such file; the bytes, or why they cannot be read.
fn read_file(path: &Path) -> Option<Result<Vec<u8>, String>> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(format!("cannot be read: {e}"))),
    };
    let mut bytes = Vec::new();
    Some(match file.take(MAX_PAYLOAD_BYTES + 1).read_to_end(&mut bytes) {
        Err(e) => Err(format!("cannot be read: {e}")),
        Ok(_) if bytes.len() as u64 > MAX_PAYLOAD_BYTES => Err(format!(
            "larger than {} MiB: not read",
            MAX_PAYLOAD_BYTES / (1024 * 1024)
        )),
        Ok(_) => Ok(bytes),
    })
}

fn window(kind: &'static str, name: String, range: Option<&TimeRange>) -> Window {
    Window {
        kind,
        name,
        start: range.and_then(|r| r.start.clone()),
        end: range.and_then(|r| r.end.clone()),
    }
}

fn named(url: Option<&str>, detail: Option<String>) -> String {
    let url = url.unwrap_or("(no URL)");
    match detail {
        Some(d) if !d.is_empty() => format!("{url} ({d})"),
        _ => url.to_string(),
    }
}

fn trusted_root(root: &TrustedRoot) -> Vec<Window> {
    let log = |kind: &'static str, l: &TransparencyLogInstance| {
        window(
            kind,
            named(l.base_url.as_deref(), l.operator.clone()),
            l.public_key.as_ref().and_then(|k| k.valid_for.as_ref()),
        )
    };
    let authority = |kind: &'static str, a: &CertificateAuthority| {
        let subject = a.subject.as_ref().map(|s| {
            [s.organization.as_deref(), s.common_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
        });
        window(kind, named(a.uri.as_deref(), subject), a.valid_for.as_ref())
    };
    let mut windows = Vec::new();
    for a in root.certificate_authorities.iter().flatten() {
        windows.push(authority("Certificate authority", a));
    }
    for l in root.tlogs.iter().flatten() {
        windows.push(log("Transparency log", l));
    }
    for l in root.ctlogs.iter().flatten() {
        windows.push(log("CT log", l));
    }
    for a in root.timestamp_authorities.iter().flatten() {
        windows.push(authority("Timestamp authority", a));
    }
    windows
}

fn signing_config(config: &SigningConfig) -> Vec<Window> {
    let service = |kind: &'static str, s: &Service| {
        let api = s.major_api_version.map(|v| format!("API v{v}"));
        let detail = [api, s.operator.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        window(kind, named(s.url.as_deref(), Some(detail)), s.valid_for.as_ref())
    };
    let url = |kind: &'static str, url: &str| Window {
        kind,
        name: url.to_string(),
        start: None,
        end: None,
    };
    let mut windows = Vec::new();
    match config {
        SigningConfig::V02(c) => {
            for (kind, list) in [
                ("Certificate authority", &c.ca_urls),
                ("OIDC provider", &c.oidc_urls),
                ("Transparency log", &c.rekor_tlog_urls),
                ("Timestamp authority", &c.tsa_urls),
            ] {
                for s in list.iter().flatten() {
                    windows.push(service(kind, s));
                }
            }
        }
        // v0.1 names services without windows.
        SigningConfig::V01(c) => {
            windows.extend(c.ca_url.as_deref().map(|u| url("Certificate authority", u)));
            windows.extend(c.oidc_url.as_deref().map(|u| url("OIDC provider", u)));
            windows.extend(c.tlog_urls.iter().flatten().map(|u| url("Transparency log", u)));
            windows.extend(c.tsa_urls.iter().flatten().map(|u| url("Timestamp authority", u)));
        }
    }
    windows
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::{Window, read};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/history/prod/");

    #[test]
    fn sigstore_production_signing_config_lists_each_service_with_its_window() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), vec![], "no payload: nothing to show");
        std::fs::copy(
            format!("{FIXTURES}2025-09-22_c9bda74a_signing_config.v0.2.json"),
            dir.path().join("signing_config.v0.2.json"),
        )
        .unwrap();
        let found = read(dir.path());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].file, "signing_config.v0.2.json");
        let windows = found[0].windows.as_ref().unwrap();
        let w = |kind, name: &str, start: &str| Window {
            kind,
            name: name.into(),
            start: Some(start.into()),
            end: None,
        };
        assert_eq!(
            windows,
            &vec![
                w(
                    "Certificate authority",
                    "https://fulcio.sigstore.dev (API v1, sigstore.dev)",
                    "2022-04-13T20:06:15.000Z"
                ),
                w(
                    "OIDC provider",
                    "https://oauth2.sigstore.dev/auth (API v1, sigstore.dev)",
                    "2022-04-13T20:06:15.000Z"
                ),
                w(
                    "Transparency log",
                    "https://log2025-1.rekor.sigstore.dev (API v2, sigstore.dev)",
                    "2025-10-06T00:00:00Z"
                ),
                w(
                    "Transparency log",
                    "https://rekor.sigstore.dev (API v1, sigstore.dev)",
                    "2021-01-12T11:53:27.000Z"
                ),
                w(
                    "Timestamp authority",
                    "https://timestamp.sigstore.dev/api/v1/timestamp (API v1, sigstore.dev)",
                    "2025-07-04T00:00:00Z"
                ),
            ]
        );
        assert!(windows.iter().all(|w| w.start_at().is_some()));
    }
}
