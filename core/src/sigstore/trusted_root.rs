//! The TrustedRoot model (protobuf-specs `dev.sigstore.trustroot.v1.TrustedRoot`).
//!
//! Every field is optional and every object keeps the fields it does not know
//! (`extra`), so that any real file reads and writes back unchanged; timestamps are kept as
//! the strings found. Fields are declared in protobuf order, which is the order of every
//! real file. The keyless verifier reads it; `trustroot-targets` edits it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{TRUSTED_ROOT_MEDIA_TYPE_LEGACY, TRUSTED_ROOT_MEDIA_TYPE_V02};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustedRoot {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlogs: Option<Vec<TransparencyLogInstance>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_authorities: Option<Vec<CertificateAuthority>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctlogs: Option<Vec<TransparencyLogInstance>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_authorities: Option<Vec<CertificateAuthority>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransparencyLogInstance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash_algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_id: Option<LogId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_key_id: Option<LogId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_bytes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogId {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateAuthority {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<DistinguishedName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_chain: Option<CertChain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DistinguishedName {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertChain {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificates: Option<Vec<X509Certificate>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509Certificate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_bytes: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The four instance lists of a trusted root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Tlogs,
    CertificateAuthorities,
    Ctlogs,
    TimestampAuthorities,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::Tlogs,
        Section::CertificateAuthorities,
        Section::Ctlogs,
        Section::TimestampAuthorities,
    ];
    /// The JSON field name.
    pub fn field(self) -> &'static str {
        match self {
            Section::Tlogs => "tlogs",
            Section::CertificateAuthorities => "certificateAuthorities",
            Section::Ctlogs => "ctlogs",
            Section::TimestampAuthorities => "timestampAuthorities",
        }
    }
    /// The word used in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Section::Tlogs => "transparency log",
            Section::CertificateAuthorities => "certificate authority",
            Section::Ctlogs => "CT log",
            Section::TimestampAuthorities => "timestamp authority",
        }
    }
    /// The short name used in file names and on the command line.
    pub fn short(self) -> &'static str {
        match self {
            Section::Tlogs => "tlog",
            Section::CertificateAuthorities => "ca",
            Section::Ctlogs => "ctlog",
            Section::TimestampAuthorities => "tsa",
        }
    }
    pub fn is_log(self) -> bool {
        matches!(self, Section::Tlogs | Section::Ctlogs)
    }
}

/// Which media type a new trusted root gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaTypeChoice {
    /// `application/vnd.dev.sigstore.trustedroot+json;version=0.1`: what every client reads.
    Legacy,
    /// `application/vnd.dev.sigstore.trustedroot.v0.2+json`: allows `operator` and
    /// `checkpointKeyId`; older clients reject it.
    V02,
}

impl TrustedRoot {
    /// An empty trusted root with the chosen media type.
    pub fn new(media: MediaTypeChoice) -> Self {
        TrustedRoot {
            media_type: Some(match media {
                MediaTypeChoice::Legacy => TRUSTED_ROOT_MEDIA_TYPE_LEGACY.into(),
                MediaTypeChoice::V02 => TRUSTED_ROOT_MEDIA_TYPE_V02.into(),
            }),
            ..TrustedRoot::default()
        }
    }

    /// Whether the media type is v0.2 (which allows `operator` and `checkpointKeyId`).
    pub fn is_v02(&self) -> bool {
        self.media_type.as_deref() == Some(TRUSTED_ROOT_MEDIA_TYPE_V02)
    }

    pub fn logs(&self, s: Section) -> &[TransparencyLogInstance] {
        match s {
            Section::Tlogs => self.tlogs.as_deref().unwrap_or_default(),
            Section::Ctlogs => self.ctlogs.as_deref().unwrap_or_default(),
            _ => &[],
        }
    }

    pub fn authorities(&self, s: Section) -> &[CertificateAuthority] {
        match s {
            Section::CertificateAuthorities => self.certificate_authorities.as_deref().unwrap_or_default(),
            Section::TimestampAuthorities => self.timestamp_authorities.as_deref().unwrap_or_default(),
            _ => &[],
        }
    }

    /// Finds instances of `section` whose URL (`baseUrl` or `uri`) is `url`.
    pub fn find_by_url(&self, section: Section, url: &str) -> Vec<usize> {
        let norm = |s: &str| s.trim_end_matches('/').to_string();
        let want = norm(url);
        if section.is_log() {
            self.logs(section)
                .iter()
                .enumerate()
                .filter(|(_, l)| l.base_url.as_deref().map(norm) == Some(want.clone()))
                .map(|(i, _)| i)
                .collect()
        } else {
            self.authorities(section)
                .iter()
                .enumerate()
                .filter(|(_, a)| a.uri.as_deref().map(norm) == Some(want.clone()))
                .map(|(i, _)| i)
                .collect()
        }
    }

    /// Whether instance `index` of `section` has no end.
    pub fn is_open_ended(&self, section: Section, index: usize) -> bool {
        if section.is_log() {
            self.logs(section)
                .get(index)
                .and_then(|l| l.public_key.as_ref())
                .and_then(|k| k.valid_for.as_ref())
                .is_some_and(|v| v.end.is_none())
        } else {
            self.authorities(section)
                .get(index)
                .and_then(|a| a.valid_for.as_ref())
                .is_some_and(|v| v.end.is_none())
        }
    }

    /// The list of a log section, to edit (created when absent).
    pub fn logs_mut(&mut self, s: Section) -> &mut Vec<TransparencyLogInstance> {
        match s {
            Section::Ctlogs => self.ctlogs.get_or_insert_with(Vec::new),
            _ => self.tlogs.get_or_insert_with(Vec::new),
        }
    }

    /// The list of an authority section, to edit (created when absent).
    pub fn authorities_mut(&mut self, s: Section) -> &mut Vec<CertificateAuthority> {
        match s {
            Section::TimestampAuthorities => self.timestamp_authorities.get_or_insert_with(Vec::new),
            _ => self.certificate_authorities.get_or_insert_with(Vec::new),
        }
    }
}
