//! The signing config, v0.1 and v0.2, and its cross-checks against a trusted root.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use trustroot_core::display::escape;

use super::{AsOf, Ctx, Finding, Window, norm_url, rules};
use crate::sigstore::json::JsonPath;
use crate::sigstore::time;
use crate::sigstore::trusted_root::{Section, TrustedRoot};
use crate::sigstore::{SIGNING_CONFIG_MEDIA_TYPE_V01, SIGNING_CONFIG_MEDIA_TYPE_V02};

/// A URL the config names: its field, its path and the URL.
type NamedUrl = (&'static str, JsonPath, String);

/// Validates signing config bytes; with `trusted_root`, also checks that every service the
/// config names is an instance of that trusted root.
pub fn validate_signing_config(bytes: &[u8], trusted_root: Option<&TrustedRoot>) -> Vec<Finding> {
    validate_signing_config_at(bytes, trusted_root, None)
}

/// Validates signing config bytes as [`validate_signing_config`] does; with `as_of`, also
/// judges the services' windows at that time and over the signing period after it.
pub fn validate_signing_config_at(
    bytes: &[u8],
    trusted_root: Option<&TrustedRoot>,
    as_of: Option<AsOf>,
) -> Vec<Finding> {
    let mut cx = Ctx {
        as_of,
        ..Ctx::default()
    };
    let root = JsonPath::root();
    let Some(v) = cx.parse(bytes) else {
        return cx.findings;
    };
    let Some(o) = cx.object(&v, &root, "the signing config") else {
        return cx.findings;
    };
    let mut doc = ConfigDoc {
        o,
        root,
        trusted_root,
        is_v01: false,
        urls: Vec::new(),
        counts: BTreeMap::new(),
    };
    rules::run_signing_config(&mut cx, &mut doc);
    cx.findings
}

/// The signing config as its rules see it.
pub(super) struct ConfigDoc<'a> {
    o: &'a Map<String, Value>,
    root: JsonPath,
    trusted_root: Option<&'a TrustedRoot>,
    /// Read as v0.1 (from the media type, or the fields when it is missing or unknown).
    is_v01: bool,
    /// Every URL the config names, for the check against the trusted root.
    urls: Vec<NamedUrl>,
    /// Each v0.2 service list: (services listed, services a client can pick).
    counts: BTreeMap<&'static str, (usize, usize)>,
}

/// One v0.2 service list as its rules see it, with the service in focus.
pub(super) struct ServiceListPart<'a> {
    key: &'static str,
    path: JsonPath,
    list: Option<&'a Vec<Value>>,
    /// The service the service rules look at: its index, object and path.
    current: Option<(usize, &'a Map<String, Value>, JsonPath)>,
    /// What the service rules found of the current service.
    url: Option<&'a str>,
    version: Option<u64>,
    /// Across the list: each start, each (URL, version), each operator.
    starts: Vec<(JsonPath, DateTime<Utc>)>,
    /// Each service's validity window.
    windows: Vec<Window>,
    seen: Vec<(String, Option<u64>)>,
    operators: Vec<String>,
    urls: Vec<NamedUrl>,
}

pub(super) fn config_media_type(cx: &mut Ctx, doc: &mut ConfigDoc<'_>) {
    doc.is_v01 = media_type(cx, doc.o, &doc.root);
    cx.v02 = !doc.is_v01;
}

pub(super) fn config_v01_services(cx: &mut Ctx, doc: &mut ConfigDoc<'_>) {
    if doc.is_v01 {
        v01_urls(cx, doc.o, &doc.root, &mut doc.urls);
    }
}

pub(super) fn config_fields(cx: &mut Ctx, doc: &mut ConfigDoc<'_>) {
    if doc.is_v01 {
        return;
    }
    cx.fields(
        doc.o,
        &doc.root,
        &[
            "mediaType",
            "caUrls",
            "oidcUrls",
            "rekorTlogUrls",
            "rekorTlogConfig",
            "tsaUrls",
            "tsaConfig",
        ],
        &[],
    );
}

/// Each v0.2 service list, through the service-list and service rules.
pub(super) fn config_service_lists(cx: &mut Ctx, doc: &mut ConfigDoc<'_>) {
    if doc.is_v01 {
        return;
    }
    for key in ["caUrls", "oidcUrls", "rekorTlogUrls", "tsaUrls"] {
        let mut part = ServiceListPart {
            key,
            path: doc.root.key(key),
            list: cx.array(doc.o, key, &doc.root),
            current: None,
            url: None,
            version: None,
            starts: Vec::new(),
            windows: Vec::new(),
            seen: Vec::new(),
            operators: Vec::new(),
            urls: Vec::new(),
        };
        rules::run_service_list(cx, &mut part);
        doc.urls.append(&mut part.urls);
        let n = part.list.map_or(0, Vec::len);
        part.operators.sort();
        part.operators.dedup();
        doc.counts.insert(key, (n, part.operators.len()));
    }
}

pub(super) fn config_selection(cx: &mut Ctx, doc: &mut ConfigDoc<'_>) {
    if doc.is_v01 {
        return;
    }
    for (cfg, list) in [("rekorTlogConfig", "rekorTlogUrls"), ("tsaConfig", "tsaUrls")] {
        let (n, eligible) = doc.counts.get(list).copied().unwrap_or((0, 0));
        selection_config(cx, doc.o, &doc.root, cfg, n, eligible);
    }
}

pub(super) fn config_in_trusted_root(cx: &mut Ctx, doc: &mut ConfigDoc<'_>) {
    if let Some(tr) = doc.trusted_root {
        in_trusted_root(cx, tr, std::mem::take(&mut doc.urls));
    }
}

/// The media type, or the version the fields suggest when it is missing or unknown.
/// Returns whether the file is read as v0.1.
fn media_type(cx: &mut Ctx, o: &Map<String, Value>, root: &JsonPath) -> bool {
    let v01_shape = o.contains_key("caUrl") || o.contains_key("tlogUrls") || o.contains_key("oidcUrl");
    match o.get("mediaType") {
        None => {
            let (m, shape) = if v01_shape {
                (SIGNING_CONFIG_MEDIA_TYPE_V01, "v0.1")
            } else {
                (SIGNING_CONFIG_MEDIA_TYPE_V02, "v0.2")
            };
            cx.warn(
                "missing-media-type",
                &root.key("mediaType"),
                format!("no `mediaType`; the fields are those of {shape}, and clients that require the media type will reject the file"),
                format!("add \"mediaType\": \"{}\"", escape(m)),
            );
            v01_shape
        }
        Some(_) => match cx.string(o, "mediaType", root, Some("add the media type")) {
            Some(SIGNING_CONFIG_MEDIA_TYPE_V01) => true,
            Some(SIGNING_CONFIG_MEDIA_TYPE_V02) => false,
            Some(other) => {
                cx.err(
                    "unknown-media-type",
                    &root.key("mediaType"),
                    format!("unknown media type `{}`: clients reject the file", escape(other)),
                    format!("use {SIGNING_CONFIG_MEDIA_TYPE_V02}"),
                );
                v01_shape
            }
            None => v01_shape,
        },
    }
}

/// The v0.1 fields: `caUrl`, `oidcUrl`, and the `tlogUrls` and `tsaUrls` lists.
fn v01_urls(cx: &mut Ctx, o: &Map<String, Value>, root: &JsonPath, urls: &mut Vec<NamedUrl>) {
    cx.fields(o, root, &["mediaType", "caUrl", "oidcUrl", "tlogUrls", "tsaUrls"], &[]);
    for key in ["caUrl", "oidcUrl"] {
        if let Some(u) = cx.string(o, key, root, Some("add the service URL")) {
            check_url(cx, u, &root.key(key));
            urls.push((key, root.key(key), u.to_string()));
        }
    }
    for key in ["tlogUrls", "tsaUrls"] {
        let p = root.key(key);
        match cx.array(o, key, root) {
            None if key == "tlogUrls" => cx.err(
                "missing-field",
                &p,
                "`tlogUrls` is missing: clients have no log to upload to".into(),
                "add the Rekor URL",
            ),
            None => {}
            Some(a) => {
                if a.is_empty() && key == "tlogUrls" {
                    cx.err(
                        "missing-field",
                        &p,
                        "`tlogUrls` is empty: clients have no log to upload to".into(),
                        "add the Rekor URL",
                    );
                }
                for (i, u) in a.iter().enumerate() {
                    match u.as_str() {
                        Some(s) if !s.is_empty() => {
                            check_url(cx, s, &p.index(i));
                            urls.push((key, p.index(i), s.to_string()));
                        }
                        _ => cx.err(
                            "wrong-type",
                            &p.index(i),
                            "each URL must be a non-empty string".into(),
                            "write the URL as a string",
                        ),
                    }
                }
            }
        }
    }
}

/// Clients need a service of every kind but timestamping.
pub(super) fn services_present(cx: &mut Ctx, part: &mut ServiceListPart<'_>) {
    if part.list.is_none_or(Vec::is_empty) && part.key != "tsaUrls" {
        cx.err(
            "missing-field",
            &part.path,
            format!("`{}` is missing or empty: clients have no service to use", part.key),
            "add a service (its URL, API version, operator and validity window)",
        );
    }
}

/// Each service that is an object, through the service rules.
pub(super) fn services_each(cx: &mut Ctx, part: &mut ServiceListPart<'_>) {
    for (i, s) in part.list.into_iter().flatten().enumerate() {
        let sp = part.path.index(i);
        let Some(so) = cx.object(s, &sp, "a service") else {
            continue;
        };
        part.current = Some((i, so, sp));
        part.url = None;
        part.version = None;
        rules::run_service(cx, part);
    }
    part.current = None;
}

/// Services are listed newest first.
pub(super) fn services_sorted(cx: &mut Ctx, part: &mut ServiceListPart<'_>) {
    for pair in part.starts.windows(2) {
        if pair[1].1 > pair[0].1 {
            cx.warn(
                "not-sorted",
                &pair[1].0,
                format!(
                    "services should be sorted newest first; this one starts {} after the previous one",
                    time::format(&pair[1].1)
                ),
                "order services by validFor.start, newest first",
            );
        }
    }
}

pub(super) fn service_fields(cx: &mut Ctx, part: &mut ServiceListPart<'_>) {
    if let Some((_, so, sp)) = &part.current {
        cx.fields(so, sp, &["url", "majorApiVersion", "validFor", "operator"], &[]);
    }
}

pub(super) fn service_url(cx: &mut Ctx, part: &mut ServiceListPart<'_>) {
    let Some((_, so, sp)) = part.current.clone() else {
        return;
    };
    part.url = cx.string(so, "url", &sp, Some("add the service URL"));
    if let Some(u) = part.url {
        check_url(cx, u, &sp.key("url"));
        part.urls.push((part.key, sp.key("url"), u.to_string()));
    }
}

pub(super) fn service_api_version(cx: &mut Ctx, part: &mut ServiceListPart<'_>) {
    if let Some((_, so, sp)) = &part.current {
        part.version = api_version(cx, so, sp);
    }
}

pub(super) fn service_validity(cx: &mut Ctx, part: &mut ServiceListPart<'_>) {
    let Some((_, so, sp)) = &part.current else { return };
    let w = cx.time_range(so, sp, "this service");
    if let Some(s) = w.start {
        part.starts.push((sp.clone(), s));
    }
    cx.window_as_of(w, sp, "this service");
    part.windows.push(w);
}

/// Judged at a time: a list whose every service is over or not started then
/// (`no-current-instance`).
pub(super) fn services_current(cx: &mut Ctx, part: &mut ServiceListPart<'_>) {
    cx.no_current(&part.windows, &part.path, "service");
}

pub(super) fn service_operator_rule(cx: &mut Ctx, part: &mut ServiceListPart<'_>) {
    let Some((i, so, sp)) = &part.current else { return };
    if let Some(op) = service_operator(cx, so, sp, *i) {
        part.operators.push(op);
    }
}

/// No service is listed twice with the same API version.
pub(super) fn service_duplicate(cx: &mut Ctx, part: &mut ServiceListPart<'_>) {
    let (Some((_, _, sp)), Some(u)) = (&part.current, part.url) else {
        return;
    };
    let ver = part.version;
    let k = (norm_url(u), ver);
    if part.seen.contains(&k) {
        cx.warn(
            "duplicate",
            sp,
            format!(
                "{} with API version {} is listed twice",
                escape(u),
                ver.map_or("?".into(), |v| v.to_string())
            ),
            "remove one",
        );
    }
    part.seen.push(k);
}

/// A service's `majorApiVersion`: present, an unsigned 32-bit integer, released.
fn api_version(cx: &mut Ctx, so: &Map<String, Value>, sp: &JsonPath) -> Option<u64> {
    let Some(v) = so.get("majorApiVersion") else {
        cx.err(
            "missing-field",
            &sp.key("majorApiVersion"),
            "`majorApiVersion` is missing: clients select services by API version".into(),
            "add the service's major API version, e.g. 1",
        );
        return None;
    };
    match v.as_u64().filter(|n| *n <= u64::from(u32::MAX)) {
        Some(0) => {
            cx.warn(
                "unreleased-api",
                &sp.key("majorApiVersion"),
                "majorApiVersion 0 means an unreleased API".into(),
                "use the released major version",
            );
            Some(0)
        }
        Some(n) => Some(n),
        None => {
            cx.err(
                "wrong-type",
                &sp.key("majorApiVersion"),
                format!("majorApiVersion must be an unsigned 32-bit integer, found {v}"),
                "write it as a number, e.g. 1",
            );
            None
        }
    }
}

/// A service's `operator`, as clients count it: a service without one is its own operator
/// (`#index`). `None` when the field is there but unusable.
fn service_operator(cx: &mut Ctx, so: &Map<String, Value>, sp: &JsonPath, i: usize) -> Option<String> {
    match so.get("operator") {
        None => {
            cx.warn(
                "missing-operator",
                &sp.key("operator"),
                "the service has no `operator`: clients use it to pick at most one service per operator".into(),
                "add the operator, e.g. sigstore.dev",
            );
            Some(format!("#{i}"))
        }
        Some(_) => cx
            .string(so, "operator", sp, Some("write the operator, e.g. sigstore.dev"))
            .map(str::to_string),
    }
}

/// A selection config (`rekorTlogConfig`, `tsaConfig`) for a list of `n` services of which
/// clients can pick `eligible`.
fn selection_config(cx: &mut Ctx, o: &Map<String, Value>, root: &JsonPath, cfg: &str, n: usize, eligible: usize) {
    let p = root.key(cfg);
    match o.get(cfg) {
        None if n > 0 => cx.err(
            "missing-field",
            &p,
            format!("`{cfg}` is missing: clients read it as selector UNDEFINED and refuse"),
            format!("add \"{cfg}\": {{\"selector\": \"ANY\"}}"),
        ),
        None => {}
        Some(c) => {
            let Some(co) = cx.object(c, &p, cfg) else { return };
            cx.fields(co, &p, &["selector", "count"], &[]);
            let sel = cx.string(co, "selector", &p, Some("add a selector: ALL, ANY or EXACT"));
            let count = co.get("count");
            match sel {
                Some("ALL" | "ANY")
                    if count.is_some() => {
                        cx.warn("count-ignored", &p.key("count"), format!("`count` is used only with EXACT; clients ignore it with {}", sel.unwrap_or("")), "remove count");
                    }
                Some("ALL" | "ANY") => {}
                Some("EXACT") => match count.and_then(Value::as_u64) {
                    None | Some(0) => cx.err("bad-count", &p.key("count"), "EXACT needs a `count` greater than 0".into(), "add \"count\": N, at most the number of services"),
                    Some(c) if c > eligible as u64 => cx.err(
                        "bad-count",
                        &p.key("count"),
                        format!("EXACT count {c} is more than the {eligible} services clients can pick (one per operator, {n} listed)"),
                        format!("lower count to {eligible} or add services"),
                    ),
                    Some(_) => {}
                },
                Some(other) => cx.err("bad-selector", &p.key("selector"), format!("selector `{}` is not ALL, ANY or EXACT; clients refuse it", escape(other)), "use ALL, ANY or EXACT"),
                None => {}
            }
        }
    }
}

/// Every CA, Rekor and TSA URL the config names is an instance of the trusted root.
fn in_trusted_root(cx: &mut Ctx, tr: &TrustedRoot, urls: Vec<NamedUrl>) {
    for (key, path, url) in urls {
        let section = match key {
            "caUrl" | "caUrls" => Section::CertificateAuthorities,
            "tlogUrls" | "rekorTlogUrls" => Section::Tlogs,
            "tsaUrls" => Section::TimestampAuthorities,
            _ => continue,
        };
        if tr.find_by_url(section, &url).is_empty() {
            cx.err(
                "not-in-trusted-root",
                &path,
                format!("{} is not a {} of the trusted root: clients would sign with a service whose signatures they cannot verify", escape(&url), section.noun()),
                "add it to the trusted root first, or fix the URL",
            );
        }
    }
}

fn check_url(cx: &mut Ctx, u: &str, path: &JsonPath) {
    let ok = u.split_once("://").is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && !rest.is_empty()
            && !rest.starts_with('/')
    });
    if !ok {
        cx.err(
            "bad-url",
            path,
            format!("`{}` is not a URL with a scheme and a host", escape(u)),
            "write it as https://host[/path]",
        );
    }
}
