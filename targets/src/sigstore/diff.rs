//! What changed between two versions of a trusted root or signing config, in sentences an
//! operator can paste into a ceremony announcement. Changes that can break verification of
//! existing signatures, or that deployed clients may not handle, are marked `attention`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use trustroot_core::display::escape;

use super::keys;
use super::signing_config::{Service, ServiceKind, SigningConfig, SigningConfigV02};
use super::time;
use super::trusted_root::{CertificateAuthority, Section, TimeRange, TransparencyLogInstance, TrustedRoot};

/// The kind of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Added,
    Removed,
    /// A validity window got an end.
    Retired,
    Changed,
    Reordered,
    /// Timestamps rewritten in another notation, naming the same instants.
    Reformatted,
}

/// One change, as a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    /// The JSON path in the new file (in the old one for removals).
    pub path: String,
    pub summary: String,
    /// Whether this can break verification or deployed clients; `summary` says why.
    pub attention: bool,
}

fn change(kind: ChangeKind, path: String, summary: String, attention: bool) -> Change {
    Change {
        kind,
        path,
        summary,
        attention,
    }
}

fn parse_t(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(|s| time::parse(s).ok()).map(|(t, _)| t)
}

fn show_t(s: &str) -> String {
    match time::parse(s) {
        Ok((t, _)) => time::format(&t),
        Err(_) => format!("`{}` (not a valid timestamp)", escape(s)),
    }
}

fn window_words(r: Option<&TimeRange>) -> String {
    let start = r.and_then(|r| r.start.as_deref());
    let end = r.and_then(|r| r.end.as_deref());
    match (start, end) {
        (Some(s), Some(e)) => format!("valid from {} until {}", show_t(s), show_t(e)),
        (Some(s), None) => format!("valid from {}, open-ended", show_t(s)),
        (None, Some(e)) => format!("valid until {} (no start)", show_t(e)),
        (None, None) => "with no validity window".into(),
    }
}

#[derive(Default)]
struct Reformat {
    count: usize,
    example: Option<(String, String)>,
}

/// Compares two validity windows of the same instance.
fn diff_window(
    what: &str,
    path: &str,
    old: Option<&TimeRange>,
    new: Option<&TimeRange>,
    out: &mut Vec<Change>,
    ref_: &mut Reformat,
) {
    let os = old.and_then(|r| r.start.as_deref());
    let ns = new.and_then(|r| r.start.as_deref());
    if os != ns {
        match (parse_t(os), parse_t(ns)) {
            (Some(a), Some(b)) if a == b => {
                ref_.count += 1;
                ref_.example.get_or_insert((os.unwrap_or("").into(), ns.unwrap_or("").into()));
            }
            (Some(a), Some(b)) if b > a => out.push(change(
                ChangeKind::Changed,
                format!("{path}.start"),
                format!(
                    "{what}: start moved later, from {} to {}. Signatures made with it between those times no longer verify.",
                    time::format(&a),
                    time::format(&b)
                ),
                true,
            )),
            (Some(a), Some(b)) => out.push(change(
                ChangeKind::Changed,
                format!("{path}.start"),
                format!("{what}: start moved earlier, from {} to {}.", time::format(&a), time::format(&b)),
                false,
            )),
            _ => out.push(change(
                ChangeKind::Changed,
                format!("{path}.start"),
                format!(
                    "{what}: start changed from {} to {}.",
                    os.map_or("none".into(), show_t),
                    ns.map_or("none".into(), show_t)
                ),
                true,
            )),
        }
    }
    let oe = old.and_then(|r| r.end.as_deref());
    let ne = new.and_then(|r| r.end.as_deref());
    if oe == ne {
        return;
    }
    let p = format!("{path}.end");
    match (oe, ne) {
        (None, Some(e)) => {
            let bad = parse_t(Some(e)).is_none();
            out.push(change(
                ChangeKind::Retired,
                p,
                format!(
                    "{what}: retired, valid until {}.{}",
                    show_t(e),
                    if bad { " Clients cannot parse that end: fix it before signing." } else { "" }
                ),
                bad,
            ));
        }
        (Some(e), None) => out.push(change(
            ChangeKind::Changed,
            p,
            format!("{what}: end {} removed; the window is open-ended again.", show_t(e)),
            false,
        )),
        (Some(a), Some(b)) => match (parse_t(Some(a)), parse_t(Some(b))) {
            (Some(x), Some(y)) if x == y => {
                ref_.count += 1;
                ref_.example.get_or_insert((a.into(), b.into()));
            }
            (Some(x), Some(y)) if y < x => out.push(change(
                ChangeKind::Changed,
                p,
                format!(
                    "{what}: window shortened, end moved from {} to {}. Signatures made with it between those times no longer verify.",
                    time::format(&x),
                    time::format(&y)
                ),
                true,
            )),
            (Some(x), Some(y)) => out.push(change(
                ChangeKind::Changed,
                p,
                format!("{what}: window extended, end moved from {} to {}.", time::format(&x), time::format(&y)),
                false,
            )),
            _ => out.push(change(
                ChangeKind::Changed,
                p,
                format!("{what}: end changed from {} to {}.", show_t(a), show_t(b)),
                parse_t(Some(b)).is_none(),
            )),
        },
        (None, None) => {}
    }
}

fn diff_extra(what: &str, path: &str, old: &Map<String, Value>, new: &Map<String, Value>, out: &mut Vec<Change>) {
    for (k, v) in new {
        match old.get(k) {
            None => out.push(change(
                ChangeKind::Added,
                format!("{path}.{k}"),
                format!(
                    "{what}: unknown field `{}` added; clients that reject unknown fields will reject the file.",
                    escape(k)
                ),
                true,
            )),
            Some(o) if o != v => out.push(change(
                ChangeKind::Changed,
                format!("{path}.{k}"),
                format!("{what}: field `{}` changed.", escape(k)),
                false,
            )),
            Some(_) => {}
        }
    }
    for k in old.keys().filter(|k| !new.contains_key(*k)) {
        out.push(change(
            ChangeKind::Removed,
            format!("{path}.{k}"),
            format!("{what}: field `{}` removed.", escape(k)),
            false,
        ));
    }
}

fn diff_opt_str(
    what: &str,
    field: &str,
    path: &str,
    old: Option<&str>,
    new: Option<&str>,
    out: &mut Vec<Change>,
    attention: bool,
) {
    if old == new {
        return;
    }
    let s = match (old, new) {
        (None, Some(n)) => format!("{what}: {field} set to {n}."),
        (Some(o), None) => format!("{what}: {field} {o} removed."),
        (Some(o), Some(n)) => format!("{what}: {field} changed from {o} to {n}."),
        (None, None) => return,
    };
    out.push(change(ChangeKind::Changed, format!("{path}.{field}"), s, attention));
}

fn log_words(section: Section, l: &TransparencyLogInstance) -> String {
    let kd = l
        .public_key
        .as_ref()
        .and_then(|k| k.key_details.as_deref())
        .unwrap_or("");
    format!(
        "{} {} ({}, log ID {})",
        section.noun(),
        l.base_url.as_deref().unwrap_or("(no baseUrl)"),
        keys::describe_key_details(kd),
        l.log_id.as_ref().and_then(|i| i.key_id.as_deref()).unwrap_or("none")
    )
}

fn log_name(section: Section, l: &TransparencyLogInstance) -> String {
    let id = l.log_id.as_ref().and_then(|i| i.key_id.as_deref()).unwrap_or("none");
    format!(
        "{} {} (log ID {})",
        upper_first(section.noun()),
        l.base_url.as_deref().unwrap_or("(no baseUrl)"),
        id
    )
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn ca_subject(a: &CertificateAuthority) -> String {
    match &a.subject {
        Some(s) => format!(
            "O={}, CN={}",
            s.organization.as_deref().unwrap_or(""),
            s.common_name.as_deref().unwrap_or("")
        ),
        None => "no subject".into(),
    }
}

fn ca_words(section: Section, a: &CertificateAuthority) -> String {
    let n = a
        .cert_chain
        .as_ref()
        .and_then(|c| c.certificates.as_ref())
        .map_or(0, Vec::len);
    format!(
        "{} {} ({}, chain of {n} certificate{})",
        section.noun(),
        a.uri.as_deref().unwrap_or("(no uri)"),
        ca_subject(a),
        if n == 1 { "" } else { "s" }
    )
}

fn chain_set(a: &CertificateAuthority) -> Vec<String> {
    let mut v: Vec<String> = a
        .cert_chain
        .as_ref()
        .and_then(|c| c.certificates.as_ref())
        .map(|c| c.iter().filter_map(|x| x.raw_bytes.clone()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn chain_list(a: &CertificateAuthority) -> Vec<Option<String>> {
    a.cert_chain
        .as_ref()
        .and_then(|c| c.certificates.as_ref())
        .map(|c| c.iter().map(|x| x.raw_bytes.clone()).collect())
        .unwrap_or_default()
}

/// Pairs old and new items: first by `primary`, then the leftovers by `fallback`.
fn pair<T, K: PartialEq, F: PartialEq>(
    old: &[T],
    new: &[T],
    primary: impl Fn(&T) -> Option<K>,
    fallback: impl Fn(&T) -> Option<F>,
) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
    let mut pairs = Vec::new();
    let mut used_new = vec![false; new.len()];
    let mut unmatched_old = Vec::new();
    for (i, o) in old.iter().enumerate() {
        let k = primary(o);
        let hit = k
            .as_ref()
            .and_then(|k| (0..new.len()).find(|&j| !used_new[j] && primary(&new[j]).as_ref() == Some(k)));
        match hit {
            Some(j) => {
                used_new[j] = true;
                pairs.push((i, j));
            }
            None => unmatched_old.push(i),
        }
    }
    let mut removed = Vec::new();
    for i in unmatched_old {
        let k = fallback(&old[i]);
        let hit = k
            .as_ref()
            .and_then(|k| (0..new.len()).find(|&j| !used_new[j] && fallback(&new[j]).as_ref() == Some(k)));
        match hit {
            Some(j) => {
                used_new[j] = true;
                pairs.push((i, j));
            }
            None => removed.push(i),
        }
    }
    pairs.sort_by_key(|p| p.1);
    let added = (0..new.len()).filter(|&j| !used_new[j]).collect();
    (pairs, removed, added)
}

fn reorder_note(field: &str, noun: &str, pairs: &[(usize, usize)], out: &mut Vec<Change>) {
    // Pairs are sorted by new index; the old indices should then increase.
    if pairs.windows(2).any(|w| w[1].0 < w[0].0) {
        out.push(change(
            ChangeKind::Reordered,
            format!("$.{field}"),
            format!("The {noun} entries were reordered."),
            false,
        ));
    }
}

/// Diffs two trusted roots.
pub fn diff_trusted_roots(old: &TrustedRoot, new: &TrustedRoot) -> Vec<Change> {
    let mut out = Vec::new();
    let mut rf = Reformat::default();
    if old.media_type != new.media_type {
        let to_v02 = new.is_v02() && !old.is_v02();
        out.push(change(
            ChangeKind::Changed,
            "$.mediaType".into(),
            format!(
                "Media type changed from {} to {}.{}",
                old.media_type.as_deref().unwrap_or("none"),
                new.media_type.as_deref().unwrap_or("none"),
                if to_v02 {
                    " Deployed clients read only the legacy v0.1 media type; publish v0.2 as a separate target."
                } else {
                    ""
                }
            ),
            to_v02,
        ));
    }
    diff_extra("The trusted root", "$", &old.extra, &new.extra, &mut out);
    for section in Section::ALL {
        let field = section.field();
        if section.is_log() {
            let (o, n) = (old.logs(section), new.logs(section));
            let (pairs, removed, added) = pair(
                o,
                n,
                |l| l.log_id.as_ref().and_then(|i| i.key_id.clone()),
                |l| l.public_key.as_ref().and_then(|k| k.raw_bytes.clone()),
            );
            for i in removed {
                out.push(change(
                    ChangeKind::Removed,
                    format!("$.{field}[{i}]"),
                    format!(
                        "Removed {}, {}. Signatures and entries that rely on it can no longer be verified; retire instances instead of removing them.",
                        log_words(section, &o[i]),
                        window_words(o[i].public_key.as_ref().and_then(|k| k.valid_for.as_ref()))
                    ),
                    true,
                ));
            }
            for &j in &added {
                let l = &n[j];
                let kd = l
                    .public_key
                    .as_ref()
                    .and_then(|k| k.key_details.as_deref())
                    .unwrap_or("");
                let new_type = kd.starts_with("PKIX_ED25519") || kd.starts_with("ML_DSA") || kd.starts_with("LMS");
                let had_type = o
                    .iter()
                    .any(|x| x.public_key.as_ref().and_then(|k| k.key_details.as_deref()) == Some(kd));
                let attention = new_type && !had_type;
                out.push(change(
                    ChangeKind::Added,
                    format!("$.{field}[{j}]"),
                    format!(
                        "Added {}, {}.{}",
                        log_words(section, l),
                        window_words(l.public_key.as_ref().and_then(|k| k.valid_for.as_ref())),
                        if attention {
                            format!(" It is the first {} key of this list: deployed clients may not parse it, so it should go to staging first.", keys::describe_key_details(kd))
                        } else {
                            String::new()
                        }
                    ),
                    attention,
                ));
            }
            for &(i, j) in &pairs {
                let (a, b) = (&o[i], &n[j]);
                let what = log_name(section, b);
                let p = format!("$.{field}[{j}]");
                let aid = a.log_id.as_ref().and_then(|x| x.key_id.as_deref());
                let bid = b.log_id.as_ref().and_then(|x| x.key_id.as_deref());
                if aid != bid {
                    out.push(change(
                        ChangeKind::Changed,
                        format!("{p}.logId.keyId"),
                        format!(
                            "{} {}: log ID changed from {} to {} (same key). Clients look entries up by log ID: entries under the old ID no longer match.",
                            upper_first(section.noun()),
                            b.base_url.as_deref().unwrap_or("(no baseUrl)"),
                            aid.unwrap_or("none"),
                            bid.unwrap_or("none")
                        ),
                        true,
                    ));
                }
                diff_opt_str(
                    &what,
                    "baseUrl",
                    &p,
                    a.base_url.as_deref(),
                    b.base_url.as_deref(),
                    &mut out,
                    false,
                );
                diff_opt_str(
                    &what,
                    "hashAlgorithm",
                    &p,
                    a.hash_algorithm.as_deref(),
                    b.hash_algorithm.as_deref(),
                    &mut out,
                    true,
                );
                diff_opt_str(
                    &what,
                    "operator",
                    &p,
                    a.operator.as_deref(),
                    b.operator.as_deref(),
                    &mut out,
                    false,
                );
                let ac = a.checkpoint_key_id.as_ref().and_then(|x| x.key_id.as_deref());
                let bc = b.checkpoint_key_id.as_ref().and_then(|x| x.key_id.as_deref());
                diff_opt_str(&what, "checkpointKeyId", &p, ac, bc, &mut out, false);
                let (ak, bk) = (a.public_key.as_ref(), b.public_key.as_ref());
                let pk = format!("{p}.publicKey");
                diff_opt_str(
                    &what,
                    "rawBytes",
                    &pk,
                    ak.and_then(|k| k.raw_bytes.as_deref()),
                    bk.and_then(|k| k.raw_bytes.as_deref()),
                    &mut out,
                    true,
                );
                diff_opt_str(
                    &what,
                    "keyDetails",
                    &pk,
                    ak.and_then(|k| k.key_details.as_deref()),
                    bk.and_then(|k| k.key_details.as_deref()),
                    &mut out,
                    true,
                );
                diff_window(
                    &what,
                    &format!("{pk}.validFor"),
                    ak.and_then(|k| k.valid_for.as_ref()),
                    bk.and_then(|k| k.valid_for.as_ref()),
                    &mut out,
                    &mut rf,
                );
                diff_extra(&what, &p, &a.extra, &b.extra, &mut out);
            }
            reorder_note(field, section.noun(), &pairs, &mut out);
        } else {
            let (o, n) = (old.authorities(section), new.authorities(section));
            let (pairs, removed, added) = pair(o, n, |a| Some(chain_set(a)).filter(|v| !v.is_empty()), |_| None::<()>);
            for i in removed {
                out.push(change(
                    ChangeKind::Removed,
                    format!("$.{field}[{i}]"),
                    format!(
                        "Removed {}, {}. Signatures {} by it can no longer be verified; retire instances instead of removing them.",
                        ca_words(section, &o[i]),
                        window_words(o[i].valid_for.as_ref()),
                        if section == Section::TimestampAuthorities { "timestamped" } else { "certified" }
                    ),
                    true,
                ));
            }
            for &j in &added {
                out.push(change(
                    ChangeKind::Added,
                    format!("$.{field}[{j}]"),
                    format!(
                        "Added {}, {}.",
                        ca_words(section, &n[j]),
                        window_words(n[j].valid_for.as_ref())
                    ),
                    false,
                ));
            }
            for &(i, j) in &pairs {
                let (a, b) = (&o[i], &n[j]);
                let what = format!(
                    "{} {} ({})",
                    upper_first(section.noun()),
                    b.uri.as_deref().unwrap_or("(no uri)"),
                    ca_subject(b)
                );
                let p = format!("$.{field}[{j}]");
                diff_opt_str(&what, "uri", &p, a.uri.as_deref(), b.uri.as_deref(), &mut out, false);
                diff_opt_str(
                    &what,
                    "operator",
                    &p,
                    a.operator.as_deref(),
                    b.operator.as_deref(),
                    &mut out,
                    false,
                );
                if a.subject != b.subject {
                    out.push(change(
                        ChangeKind::Changed,
                        format!("{p}.subject"),
                        format!("{what}: subject changed from {} to {}.", ca_subject(a), ca_subject(b)),
                        false,
                    ));
                }
                if chain_list(a) != chain_list(b) {
                    out.push(change(
                        ChangeKind::Reordered,
                        format!("{p}.certChain.certificates"),
                        format!("{what}: the same certificates, listed in another order."),
                        false,
                    ));
                }
                diff_window(
                    &what,
                    &format!("{p}.validFor"),
                    a.valid_for.as_ref(),
                    b.valid_for.as_ref(),
                    &mut out,
                    &mut rf,
                );
                diff_extra(&what, &p, &a.extra, &b.extra, &mut out);
            }
            reorder_note(field, section.noun(), &pairs, &mut out);
        }
    }
    push_reformat(rf, &mut out);
    out
}

fn push_reformat(rf: Reformat, out: &mut Vec<Change>) {
    if let Some((a, b)) = rf.example {
        out.push(change(
            ChangeKind::Reformatted,
            "$".into(),
            format!(
                "{} timestamp{} rewritten without changing the time named (e.g. {a} -> {b}).",
                rf.count,
                if rf.count == 1 { "" } else { "s" }
            ),
            false,
        ));
    }
}

fn service_words(kind: ServiceKind, s: &Service) -> String {
    format!(
        "{} {} (API v{}{})",
        kind.noun(),
        s.url.as_deref().unwrap_or("(no url)"),
        s.major_api_version.map_or("?".into(), |v| v.to_string()),
        s.operator
            .as_deref()
            .map_or(String::new(), |o| format!(", operator {o}"))
    )
}

fn selector_words(c: Option<&super::signing_config::ServiceConfiguration>) -> String {
    match c {
        None => "none".into(),
        Some(c) => match (c.selector.as_deref(), c.count) {
            (Some(s), Some(n)) => format!("{} (count {n})", escape(s)),
            (Some(s), None) => s.into(),
            (None, _) => "no selector".into(),
        },
    }
}

fn diff_v02(old: &SigningConfigV02, new: &SigningConfigV02, out: &mut Vec<Change>) {
    let mut rf = Reformat::default();
    for kind in ServiceKind::ALL {
        let field = kind.field();
        let (o, n) = (old.services(kind), new.services(kind));
        let (pairs, removed, added) = pair(o, n, |s| Some((s.url.clone(), s.major_api_version)), |_| None::<()>);
        for i in removed {
            out.push(change(
                ChangeKind::Removed,
                format!("$.{field}[{i}]"),
                format!(
                    "Removed {}: clients stop using it for new signatures.",
                    service_words(kind, &o[i])
                ),
                false,
            ));
        }
        let old_max = o.iter().filter_map(|s| s.major_api_version).max();
        for &j in &added {
            let s = &n[j];
            let newer_api =
                kind == ServiceKind::Rekor && old_max.is_some_and(|m| s.major_api_version.is_some_and(|v| v > m));
            out.push(change(
                ChangeKind::Added,
                format!("$.{field}[{j}]"),
                format!(
                    "Added {}, {}.{}",
                    service_words(kind, s),
                    window_words(s.valid_for.as_ref()),
                    if newer_api {
                        " Clients that support this API version will write to it from its start; older verifiers cannot verify those entries (sigstore/root-signing#1548)."
                    } else {
                        ""
                    }
                ),
                newer_api,
            ));
        }
        for &(i, j) in &pairs {
            let (a, b) = (&o[i], &n[j]);
            let what = upper_first(&service_words(kind, b));
            let p = format!("$.{field}[{j}]");
            diff_opt_str(
                &what,
                "operator",
                &p,
                a.operator.as_deref(),
                b.operator.as_deref(),
                out,
                false,
            );
            diff_window(
                &what,
                &format!("{p}.validFor"),
                a.valid_for.as_ref(),
                b.valid_for.as_ref(),
                out,
                &mut rf,
            );
            diff_extra(&what, &p, &a.extra, &b.extra, out);
        }
        reorder_note(field, kind.noun(), &pairs, out);
    }
    for (name, a, b) in [
        (
            "rekorTlogConfig",
            old.rekor_tlog_config.as_ref(),
            new.rekor_tlog_config.as_ref(),
        ),
        ("tsaConfig", old.tsa_config.as_ref(), new.tsa_config.as_ref()),
    ] {
        if a != b {
            out.push(change(
                ChangeKind::Changed,
                format!("$.{name}"),
                format!("{name} changed from {} to {}.", selector_words(a), selector_words(b)),
                false,
            ));
        }
    }
    diff_extra("The signing config", "$", &old.extra, &new.extra, out);
    push_reformat(rf, out);
}

/// Diffs two signing configs.
pub fn diff_signing_configs(old: &SigningConfig, new: &SigningConfig) -> Vec<Change> {
    let mut out = Vec::new();
    match (old, new) {
        (SigningConfig::V02(a), SigningConfig::V02(b)) => {
            if a.media_type != b.media_type {
                out.push(change(
                    ChangeKind::Changed,
                    "$.mediaType".into(),
                    format!(
                        "Media type changed from {} to {}.",
                        a.media_type.as_deref().unwrap_or("none"),
                        b.media_type.as_deref().unwrap_or("none")
                    ),
                    false,
                ));
            }
            diff_v02(a, b, &mut out);
        }
        (SigningConfig::V01(a), SigningConfig::V01(b)) => {
            if a.media_type != b.media_type {
                out.push(change(
                    ChangeKind::Changed,
                    "$.mediaType".into(),
                    format!(
                        "Media type changed from {} to {}.",
                        a.media_type.as_deref().unwrap_or("none"),
                        b.media_type.as_deref().unwrap_or("none")
                    ),
                    false,
                ));
            }
            diff_opt_str(
                "The signing config",
                "caUrl",
                "$",
                a.ca_url.as_deref(),
                b.ca_url.as_deref(),
                &mut out,
                false,
            );
            diff_opt_str(
                "The signing config",
                "oidcUrl",
                "$",
                a.oidc_url.as_deref(),
                b.oidc_url.as_deref(),
                &mut out,
                false,
            );
            for (field, x, y) in [
                ("tlogUrls", &a.tlog_urls, &b.tlog_urls),
                ("tsaUrls", &a.tsa_urls, &b.tsa_urls),
            ] {
                let x = x.clone().unwrap_or_default();
                let y = y.clone().unwrap_or_default();
                for u in y.iter().filter(|u| !x.contains(u)) {
                    out.push(change(
                        ChangeKind::Added,
                        format!("$.{field}"),
                        format!("Added {} to {field}.", escape(u)),
                        false,
                    ));
                }
                for u in x.iter().filter(|u| !y.contains(u)) {
                    out.push(change(
                        ChangeKind::Removed,
                        format!("$.{field}"),
                        format!("Removed {} from {field}.", escape(u)),
                        false,
                    ));
                }
            }
            diff_extra("The signing config", "$", &a.extra, &b.extra, &mut out);
        }
        (a, b) => {
            let v = |c: &SigningConfig| match c {
                SigningConfig::V01(_) => "v0.1",
                SigningConfig::V02(_) => "v0.2",
            };
            out.push(change(
                ChangeKind::Changed,
                "$".into(),
                format!(
                    "The signing config changed format from {} to {}; compare the services by hand.",
                    v(a),
                    v(b)
                ),
                true,
            ));
        }
    }
    out
}
