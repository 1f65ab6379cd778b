//! The SigningConfig model: v0.1 (`caUrl`, `oidcUrl`, `tlogUrls`, `tsaUrls` as strings) and
//! v0.2 (lists of `Service` with `validFor`, `majorApiVersion` and `operator`, plus the
//! ALL/ANY/EXACT selectors), and the edits trustroot makes to both.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::trusted_root::TimeRange;
use super::{EditError, PayloadError, SIGNING_CONFIG_MEDIA_TYPE_V01, SIGNING_CONFIG_MEDIA_TYPE_V02, time};

/// A signing config of either version. Which one is decided by `mediaType`, or, without
/// one, by the fields present.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SigningConfig {
    V01(SigningConfigV01),
    V02(SigningConfigV02),
}

impl<'de> Deserialize<'de> for SigningConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = Value::deserialize(d)?;
        let Some(o) = v.as_object() else {
            return Err(D::Error::custom("a signing config must be a JSON object"));
        };
        let v01 = match o.get("mediaType").and_then(Value::as_str) {
            Some(SIGNING_CONFIG_MEDIA_TYPE_V01) => true,
            Some(SIGNING_CONFIG_MEDIA_TYPE_V02) => false,
            _ => o.contains_key("caUrl") || o.contains_key("tlogUrls") || o.contains_key("oidcUrl"),
        };
        if v01 {
            serde_path_to_error::deserialize(v)
                .map(SigningConfig::V01)
                .map_err(|e| D::Error::custom(format!("at $.{}: {}", e.path(), e.inner())))
        } else {
            serde_path_to_error::deserialize(v)
                .map(SigningConfig::V02)
                .map_err(|e| D::Error::custom(format!("at $.{}: {}", e.path(), e.inner())))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningConfigV01 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlog_urls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa_urls: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningConfigV02 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_urls: Option<Vec<Service>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_urls: Option<Vec<Service>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekor_tlog_urls: Option<Vec<Service>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa_urls: Option<Vec<Service>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekor_tlog_config: Option<ServiceConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa_config: Option<ServiceConfiguration>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_api_version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The four service lists of a v0.2 signing config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    Ca,
    Oidc,
    Rekor,
    Tsa,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 4] = [ServiceKind::Ca, ServiceKind::Oidc, ServiceKind::Rekor, ServiceKind::Tsa];
    pub fn field(self) -> &'static str {
        match self {
            ServiceKind::Ca => "caUrls",
            ServiceKind::Oidc => "oidcUrls",
            ServiceKind::Rekor => "rekorTlogUrls",
            ServiceKind::Tsa => "tsaUrls",
        }
    }
    pub fn noun(self) -> &'static str {
        match self {
            ServiceKind::Ca => "certificate authority",
            ServiceKind::Oidc => "OIDC provider",
            ServiceKind::Rekor => "Rekor log",
            ServiceKind::Tsa => "timestamp authority",
        }
    }
}

/// A selector for `rekorTlogConfig` / `tsaConfig`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    All,
    Any,
    Exact(u32),
}

impl Selector {
    fn config(self) -> ServiceConfiguration {
        let (selector, count) = match self {
            Selector::All => ("ALL", None),
            Selector::Any => ("ANY", None),
            Selector::Exact(n) => ("EXACT", Some(n)),
        };
        ServiceConfiguration {
            selector: Some(selector.into()),
            count,
            extra: Map::new(),
        }
    }
}

/// What `add-service` takes.
#[derive(Debug, Clone)]
pub struct ServiceParams {
    pub url: String,
    pub major_api_version: u32,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub operator: String,
}

impl SigningConfigV02 {
    /// A v0.2 signing config with empty service lists and the given selectors.
    pub fn new(rekor: Selector, tsa: Selector) -> Self {
        SigningConfigV02 {
            media_type: Some(SIGNING_CONFIG_MEDIA_TYPE_V02.into()),
            ca_urls: Some(Vec::new()),
            oidc_urls: Some(Vec::new()),
            rekor_tlog_urls: Some(Vec::new()),
            tsa_urls: Some(Vec::new()),
            rekor_tlog_config: Some(rekor.config()),
            tsa_config: Some(tsa.config()),
            extra: Map::new(),
        }
    }

    pub fn services(&self, kind: ServiceKind) -> &[Service] {
        match kind {
            ServiceKind::Ca => self.ca_urls.as_deref(),
            ServiceKind::Oidc => self.oidc_urls.as_deref(),
            ServiceKind::Rekor => self.rekor_tlog_urls.as_deref(),
            ServiceKind::Tsa => self.tsa_urls.as_deref(),
        }
        .unwrap_or_default()
    }

    fn services_mut(&mut self, kind: ServiceKind) -> &mut Vec<Service> {
        match kind {
            ServiceKind::Ca => self.ca_urls.get_or_insert_with(Vec::new),
            ServiceKind::Oidc => self.oidc_urls.get_or_insert_with(Vec::new),
            ServiceKind::Rekor => self.rekor_tlog_urls.get_or_insert_with(Vec::new),
            ServiceKind::Tsa => self.tsa_urls.get_or_insert_with(Vec::new),
        }
    }

    /// Adds a service, keeping the list sorted newest first. Returns its index.
    pub fn add_service(&mut self, kind: ServiceKind, p: &ServiceParams) -> Result<usize, PayloadError> {
        if !is_service_url(&p.url) {
            return Err(EditError::NotAServiceUrl { url: p.url.clone() }.into());
        }
        if p.operator.trim().is_empty() {
            return Err(EditError::EmptyOperator.into());
        }
        if let Some(end) = p.end
            && end < p.start
        {
            return Err(EditError::ServiceEndBeforeStart.into());
        }
        let list = self.services(kind);
        if let Some(i) = list
            .iter()
            .position(|s| s.url.as_deref() == Some(p.url.as_str()) && s.major_api_version == Some(p.major_api_version))
        {
            return Err(EditError::DuplicateService {
                path: format!("$.{}[{i}]", kind.field()),
                url: p.url.clone(),
                api_version: p.major_api_version,
            }
            .into());
        }
        let mut at = list.len();
        for (i, s) in list.iter().enumerate() {
            let st = s
                .valid_for
                .as_ref()
                .and_then(|v| v.start.as_deref())
                .and_then(|s| time::parse(s).ok())
                .map(|(t, _)| t);
            if st.is_some_and(|t| t < p.start) {
                at = i;
                break;
            }
        }
        let svc = Service {
            url: Some(p.url.clone()),
            major_api_version: Some(p.major_api_version),
            valid_for: Some(TimeRange {
                start: Some(time::format(&p.start)),
                end: p.end.map(|e| time::format(&e)),
                extra: Map::new(),
            }),
            operator: Some(p.operator.clone()),
            extra: Map::new(),
        };
        self.services_mut(kind).insert(at, svc);
        Ok(at)
    }

    /// Removes the service with `url` (and `major_api_version`, when given). Returns it.
    pub fn remove_service(
        &mut self,
        kind: ServiceKind,
        url: &str,
        major_api_version: Option<u32>,
    ) -> Result<Service, PayloadError> {
        let norm = |s: &str| s.trim_end_matches('/').to_string();
        let matches: Vec<usize> = self
            .services(kind)
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.url.as_deref().map(norm) == Some(norm(url))
                    && major_api_version.is_none_or(|v| s.major_api_version == Some(v))
            })
            .map(|(i, _)| i)
            .collect();
        match matches.as_slice() {
            [] => Err(EditError::NoSuchService {
                noun: kind.noun(),
                field: kind.field(),
                url: url.to_string(),
            }
            .into()),
            [i] => Ok(self.services_mut(kind).remove(*i)),
            _ => Err(EditError::AmbiguousService {
                url: url.to_string(),
                count: matches.len(),
                field: kind.field(),
            }
            .into()),
        }
    }
}

/// Whether `url` has a scheme and a host.
fn is_service_url(url: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(s, r)| !s.is_empty() && !r.is_empty() && !r.starts_with('/'))
}

impl SigningConfigV01 {
    /// The v0.1 field of `kind`: `caUrl` and `oidcUrl` hold one URL, `tlogUrls` and
    /// `tsaUrls` a list.
    pub fn field(kind: ServiceKind) -> &'static str {
        match kind {
            ServiceKind::Ca => "caUrl",
            ServiceKind::Oidc => "oidcUrl",
            ServiceKind::Rekor => "tlogUrls",
            ServiceKind::Tsa => "tsaUrls",
        }
    }

    /// Adds `url` for `kind`: sets `caUrl` or `oidcUrl` (returning the URL it replaces,
    /// if any), or appends to `tlogUrls` or `tsaUrls`.
    pub fn add_url(&mut self, kind: ServiceKind, url: &str) -> Result<Option<String>, PayloadError> {
        if !is_service_url(url) {
            return Err(EditError::NotAServiceUrl { url: url.to_string() }.into());
        }
        let list = match kind {
            ServiceKind::Ca => return Ok(self.ca_url.replace(url.to_string())),
            ServiceKind::Oidc => return Ok(self.oidc_url.replace(url.to_string())),
            ServiceKind::Rekor => self.tlog_urls.get_or_insert_with(Vec::new),
            ServiceKind::Tsa => self.tsa_urls.get_or_insert_with(Vec::new),
        };
        let norm = |s: &str| s.trim_end_matches('/').to_string();
        if let Some(i) = list.iter().position(|u| norm(u) == norm(url)) {
            return Err(EditError::DuplicateUrl {
                path: format!("$.{}[{i}]", Self::field(kind)),
                url: url.to_string(),
            }
            .into());
        }
        list.push(url.to_string());
        Ok(None)
    }

    /// Removes `url` for `kind`.
    pub fn remove_url(&mut self, kind: ServiceKind, url: &str) -> Result<(), PayloadError> {
        let norm = |s: &str| s.trim_end_matches('/').to_string();
        let missing = || EditError::NoSuchService {
            noun: kind.noun(),
            field: Self::field(kind),
            url: url.to_string(),
        };
        let single = match kind {
            ServiceKind::Ca => &mut self.ca_url,
            ServiceKind::Oidc => &mut self.oidc_url,
            ServiceKind::Rekor | ServiceKind::Tsa => {
                let list = match kind {
                    ServiceKind::Rekor => &mut self.tlog_urls,
                    _ => &mut self.tsa_urls,
                };
                let list = list.as_mut().ok_or_else(missing)?;
                let i = list.iter().position(|u| norm(u) == norm(url)).ok_or_else(missing)?;
                list.remove(i);
                return Ok(());
            }
        };
        if single.as_deref().map(norm) != Some(norm(url)) {
            return Err(missing().into());
        }
        *single = None;
        Ok(())
    }
}
