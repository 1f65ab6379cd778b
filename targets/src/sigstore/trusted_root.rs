//! The TrustedRoot model (protobuf-specs `dev.sigstore.trustroot.v1.TrustedRoot`) and the
//! edits trustroot makes to it.
//!
//! Every field is optional and every object keeps the fields it does not know
//! (`extra`), so that any real file reads and writes back unchanged; timestamps are kept as
//! the strings found. Fields are declared in protobuf order, which is the order of every
//! real file.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::certs::{self, ChainOrder, ParsedCert};
use super::keys::{self, KeyKind};
use super::{PayloadError, TRUSTED_ROOT_MEDIA_TYPE_LEGACY, TRUSTED_ROOT_MEDIA_TYPE_V02, time};

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

/// How a transparency log's ID is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogIdKind {
    /// SHA-256 of the SPKI (Rekor v1, CT logs).
    Spki,
    /// The C2SP signed-note key hash with the `baseUrl` host as origin (Rekor v2).
    Checkpoint,
}

/// What `add-tlog` / `add-ctlog` take.
#[derive(Debug, Clone)]
pub struct LogParams {
    pub key: keys::PemKey,
    /// Overrides the key details trustroot would pick (for RSA-PSS, or ECDSA with another hash).
    pub key_details: Option<String>,
    pub base_url: String,
    pub hash_algorithm: String,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub log_id: LogIdKind,
    pub operator: Option<String>,
}

/// What `add-ca` / `add-tsa` take.
#[derive(Debug, Clone)]
pub struct AuthorityParams {
    pub chain: Vec<ParsedCert>,
    pub uri: Option<String>,
    /// The subject to record when it differs from the anchor certificate's.
    pub subject: Option<(Option<String>, Option<String>)>,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub operator: Option<String>,
}

/// Something an edit did that the operator should read.
pub type Notes = Vec<String>;

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

    fn logs_mut(&mut self, s: Section) -> &mut Vec<TransparencyLogInstance> {
        match s {
            Section::Ctlogs => self.ctlogs.get_or_insert_with(Vec::new),
            _ => self.tlogs.get_or_insert_with(Vec::new),
        }
    }

    fn authorities_mut(&mut self, s: Section) -> &mut Vec<CertificateAuthority> {
        match s {
            Section::TimestampAuthorities => self.timestamp_authorities.get_or_insert_with(Vec::new),
            _ => self.certificate_authorities.get_or_insert_with(Vec::new),
        }
    }

    fn check_operator(&self, operator: &Option<String>) -> Result<(), PayloadError> {
        if operator.is_some() && !self.is_v02() {
            return Err(PayloadError::edit(format!(
                "`operator` needs the v0.2 media type ({TRUSTED_ROOT_MEDIA_TYPE_V02}); this file is {}. \
                 Deployed clients read the legacy media type only, so keep operators for a separate v0.2 file",
                self.media_type.as_deref().unwrap_or("without a media type")
            )));
        }
        Ok(())
    }

    /// Adds a transparency log (`Section::Tlogs`) or CT log (`Section::Ctlogs`), computing
    /// its log ID and key details. Returns the index it got and notes.
    pub fn add_log(&mut self, section: Section, p: &LogParams) -> Result<(usize, Notes), PayloadError> {
        if !section.is_log() {
            return Err(PayloadError::edit("add_log takes tlogs or ctlogs"));
        }
        self.check_operator(&p.operator)?;
        let mut notes = Notes::new();
        if p.base_url.trim().is_empty() {
            return Err(PayloadError::edit("the log URL is empty"));
        }
        if !keys::HASH_ALGORITHMS.contains(&p.hash_algorithm.as_str()) {
            return Err(PayloadError::edit(format!(
                "unknown hash algorithm `{}` (known: {})",
                p.hash_algorithm,
                keys::HASH_ALGORITHMS.join(", ")
            )));
        }
        check_window(p.start, p.end)?;
        let details = match &p.key_details {
            Some(d) => {
                keys::parse_raw(&p.key.raw, d).map_err(PayloadError::material)?;
                d.clone()
            }
            None => keys::default_key_details(&p.key.key.kind, p.key.pkcs1)
                .map_err(PayloadError::material)?
                .to_string(),
        };
        let (log_id, checkpoint) = match p.log_id {
            LogIdKind::Spki => (keys::spki_log_id(&p.key.key.spki_der), None),
            LogIdKind::Checkpoint => {
                if section != Section::Tlogs {
                    return Err(PayloadError::edit(
                        "checkpoint log IDs are for Rekor v2 transparency logs, not CT logs",
                    ));
                }
                let KeyKind::Ed25519(raw) = &p.key.key.kind else {
                    return Err(PayloadError::edit(format!(
                        "trustroot computes Rekor v2 checkpoint log IDs for Ed25519 keys; this key is {}",
                        p.key.key.kind.describe()
                    )));
                };
                let id = keys::checkpoint_log_id(keys::origin_of(&p.base_url), raw);
                let cp = self.is_v02().then(|| id[..4].to_vec());
                (id, cp)
            }
        };
        let log_id_b64 = keys::encode_b64(&log_id);
        let list = self.logs(section);
        if let Some(i) = list
            .iter()
            .position(|l| l.log_id.as_ref().and_then(|x| x.key_id.as_deref()) == Some(log_id_b64.as_str()))
        {
            return Err(PayloadError::edit(format!(
                "$.{}[{i}] already has log ID {log_id_b64} ({}); retire it or edit its dates instead of adding it twice",
                section.field(),
                list[i].base_url.as_deref().unwrap_or("no baseUrl")
            )));
        }
        if let Some(i) = list.iter().position(|l| {
            l.base_url.as_deref() == Some(p.base_url.as_str())
                && l.public_key
                    .as_ref()
                    .and_then(|k| k.valid_for.as_ref())
                    .is_some_and(|v| v.end.is_none())
        }) {
            notes.push(format!(
                "$.{}[{i}] has the same URL and is still open-ended; retire it with `retire` if the new key replaces it",
                section.field()
            ));
        }
        let inst = TransparencyLogInstance {
            base_url: Some(p.base_url.clone()),
            hash_algorithm: Some(p.hash_algorithm.clone()),
            public_key: Some(PublicKey {
                raw_bytes: Some(keys::encode_b64(&p.key.raw)),
                key_details: Some(details),
                valid_for: Some(window(p.start, p.end)),
                extra: Map::new(),
            }),
            log_id: Some(LogId {
                key_id: Some(log_id_b64),
                extra: Map::new(),
            }),
            checkpoint_key_id: checkpoint.map(|c| LogId {
                key_id: Some(keys::encode_b64(&c)),
                extra: Map::new(),
            }),
            operator: p.operator.clone(),
            extra: Map::new(),
        };
        let list = self.logs_mut(section);
        let at = insert_position(
            list.iter()
                .map(|l| l.public_key.as_ref().and_then(|k| k.valid_for.as_ref())),
            p.start,
        );
        list.insert(at, inst);
        Ok((at, notes))
    }

    /// Adds a certificate authority or timestamp authority from a certificate chain.
    pub fn add_authority(&mut self, section: Section, p: &AuthorityParams) -> Result<(usize, Notes), PayloadError> {
        if section.is_log() {
            return Err(PayloadError::edit(
                "add_authority takes certificateAuthorities or timestampAuthorities",
            ));
        }
        self.check_operator(&p.operator)?;
        check_window(p.start, p.end)?;
        let mut notes = Notes::new();
        if p.chain.is_empty() {
            return Err(PayloadError::edit("the certificate chain is empty"));
        }
        let chain: Vec<&ParsedCert> = match certs::chain_order(&p.chain) {
            ChainOrder::AsListed => p.chain.iter().collect(),
            ChainOrder::Reordered(order) => {
                notes.push(format!(
                    "the certificates were given in another order; they are recorded leaf-most first (given order indices {order:?})"
                ));
                order.iter().map(|&i| &p.chain[i]).collect()
            }
            ChainOrder::Broken(e) => {
                return Err(PayloadError::material(format!(
                    "the certificates do not form a chain in any order: {e}"
                )));
            }
        };
        let anchor = chain[chain.len() - 1];
        if !anchor.self_signed() {
            notes.push(format!(
                "the last certificate ({}) is not self-signed: clients will trust it as an intermediate anchor",
                anchor.subject
            ));
        }
        let latest_nb = chain.iter().map(|c| c.not_before).max().unwrap_or(p.start);
        let earliest_na = chain.iter().map(|c| c.not_after).min().unwrap_or(p.start);
        if p.start > earliest_na {
            return Err(PayloadError::edit(format!(
                "the start {} is after a certificate in the chain expires ({})",
                time::format(&p.start),
                time::format(&earliest_na)
            )));
        }
        if let Some(end) = p.end
            && end > earliest_na
        {
            return Err(PayloadError::edit(format!(
                "the end {} is after a certificate in the chain expires ({}); end the window by then",
                time::format(&end),
                time::format(&earliest_na)
            )));
        }
        if p.start < latest_nb {
            notes.push(format!(
                "the start {} is before a certificate in the chain becomes valid ({})",
                time::format(&p.start),
                time::format(&latest_nb)
            ));
        }
        if section == Section::TimestampAuthorities && !chain[0].has_time_stamping_eku() {
            notes.push("the leaf certificate has no timeStamping extended key usage".into());
        }
        let (org, cn) = match &p.subject {
            Some(s) => s.clone(),
            None => (
                anchor.subject.organization.clone().filter(|s| !s.is_empty()),
                anchor.subject.common_name.clone().filter(|s| !s.is_empty()),
            ),
        };
        let inst = CertificateAuthority {
            subject: Some(DistinguishedName {
                organization: org,
                common_name: cn,
                extra: Map::new(),
            }),
            uri: p.uri.clone(),
            cert_chain: Some(CertChain {
                certificates: Some(
                    chain
                        .iter()
                        .map(|c| X509Certificate {
                            raw_bytes: Some(keys::encode_b64(&c.der)),
                            extra: Map::new(),
                        })
                        .collect(),
                ),
                extra: Map::new(),
            }),
            valid_for: Some(window(p.start, p.end)),
            operator: p.operator.clone(),
            extra: Map::new(),
        };
        let new_chain = &inst.cert_chain;
        if let Some(i) = self
            .authorities(section)
            .iter()
            .position(|a| &a.cert_chain == new_chain)
        {
            return Err(PayloadError::edit(format!(
                "$.{}[{i}] already has this certificate chain",
                section.field()
            )));
        }
        let list = self.authorities_mut(section);
        let at = insert_position(list.iter().map(|a| a.valid_for.as_ref()), p.start);
        list.insert(at, inst);
        Ok((at, notes))
    }

    /// Ends the validity window of instance `index` of `section` at `end`.
    pub fn retire(&mut self, section: Section, index: usize, end: DateTime<Utc>) -> Result<Notes, PayloadError> {
        let path = format!("$.{}[{index}]", section.field());
        let vf = match section {
            Section::Tlogs | Section::Ctlogs => self
                .logs_mut(section)
                .get_mut(index)
                .ok_or_else(|| PayloadError::edit(format!("{path} does not exist")))?
                .public_key
                .get_or_insert_with(PublicKey::default)
                .valid_for
                .get_or_insert_with(TimeRange::default),
            _ => self
                .authorities_mut(section)
                .get_mut(index)
                .ok_or_else(|| PayloadError::edit(format!("{path} does not exist")))?
                .valid_for
                .get_or_insert_with(TimeRange::default),
        };
        if let Some(old) = &vf.end {
            return Err(PayloadError::edit(format!(
                "{path} is already retired (its window ends {old}); trustroot does not move an end that was published"
            )));
        }
        if let Some(start) = vf.start.as_deref() {
            let (s, _) = time::parse(start).map_err(|e| PayloadError::edit(format!("{path}: {e}")))?;
            if end < s {
                return Err(PayloadError::edit(format!(
                    "the end {} is before the window's start {start}",
                    time::format(&end)
                )));
            }
        }
        vf.end = Some(time::format(&end));
        Ok(Notes::new())
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

    /// Every instance's key or chain as PEM: (suggested file name, PEM text).
    pub fn extract_all(&self) -> Result<Vec<(String, String)>, PayloadError> {
        let mut out = Vec::new();
        for s in Section::ALL {
            let n = if s.is_log() {
                self.logs(s).len()
            } else {
                self.authorities(s).len()
            };
            for i in 0..n {
                out.push(self.extract(s, i)?);
            }
        }
        Ok(out)
    }

    /// One instance's key (logs) or chain (authorities) as PEM, with a suggested file name.
    pub fn extract(&self, section: Section, index: usize) -> Result<(String, String), PayloadError> {
        let path = format!("$.{}[{index}]", section.field());
        let missing = |what: &str| PayloadError::edit(format!("{path}{what} is missing"));
        if section.is_log() {
            let l = self
                .logs(section)
                .get(index)
                .ok_or_else(|| PayloadError::edit(format!("{path} does not exist")))?;
            let pk = l.public_key.as_ref().ok_or_else(|| missing(".publicKey"))?;
            let raw = pk.raw_bytes.as_deref().ok_or_else(|| missing(".publicKey.rawBytes"))?;
            let raw =
                keys::decode_b64(raw).map_err(|e| PayloadError::material(format!("{path}.publicKey.rawBytes: {e}")))?;
            let details = pk.key_details.as_deref().unwrap_or("");
            let name = file_name(section, index, l.base_url.as_deref());
            Ok((name, keys::key_to_pem(&raw, details)?))
        } else {
            let a = self
                .authorities(section)
                .get(index)
                .ok_or_else(|| PayloadError::edit(format!("{path} does not exist")))?;
            let certs = a
                .cert_chain
                .as_ref()
                .and_then(|c| c.certificates.as_ref())
                .ok_or_else(|| missing(".certChain.certificates"))?;
            let ders = certs
                .iter()
                .enumerate()
                .map(|(j, c)| {
                    let raw = c
                        .raw_bytes
                        .as_deref()
                        .ok_or_else(|| missing(&format!(".certChain.certificates[{j}].rawBytes")))?;
                    keys::decode_b64(raw).map_err(|e| {
                        PayloadError::material(format!("{path}.certChain.certificates[{j}].rawBytes: {e}"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let name = file_name(section, index, a.uri.as_deref());
            Ok((name, certs::certs_to_pem(&ders)?))
        }
    }
}

fn file_name(section: Section, index: usize, url: Option<&str>) -> String {
    let slug: String = url
        .map(|u| u.split_once("://").map_or(u, |(_, r)| r))
        .unwrap_or("no-url")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches('-');
    format!("{}-{index}-{slug}.pem", section.short())
}

fn window(start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> TimeRange {
    TimeRange {
        start: Some(time::format(&start)),
        end: end.map(|e| time::format(&e)),
        extra: Map::new(),
    }
}

fn check_window(start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Result<(), PayloadError> {
    if let Some(end) = end
        && end < start
    {
        return Err(PayloadError::edit(format!(
            "the end {} is before the start {}",
            time::format(&end),
            time::format(&start)
        )));
    }
    Ok(())
}

/// Where to insert an instance so the list stays sorted by `validFor.start` (after equal
/// starts, and after instances whose start cannot be read).
fn insert_position<'a>(ranges: impl Iterator<Item = Option<&'a TimeRange>>, start: DateTime<Utc>) -> usize {
    let mut at = 0;
    for (i, r) in ranges.enumerate() {
        let s = r
            .and_then(|r| r.start.as_deref())
            .and_then(|s| time::parse(s).ok())
            .map(|(t, _)| t);
        match s {
            Some(t) if t > start => {}
            _ => at = i + 1,
        }
    }
    at
}
