//! Certificate authorities and timestamp authorities of the trusted root: subject, URI,
//! validity window and certificate chain.

use serde_json::{Map, Value};

use super::trusted_root::operator;
use super::{Ctx, InstanceFacts, Window, norm_url, rules};
use crate::sigstore::certs::{self, ChainOrder, ParsedCert};
use crate::sigstore::json::JsonPath;
use crate::sigstore::keys;
use crate::sigstore::time;
use crate::sigstore::trusted_root::Section;

/// A certificate authority or timestamp authority, when it is an object.
pub(super) fn authority(cx: &mut Ctx, v: &Value, path: &JsonPath, section: Section) -> Option<InstanceFacts> {
    let o = cx.object(v, path, section.noun())?;
    let mut part = AuthorityPart {
        o,
        path: path.clone(),
        section,
        recorded_subject: None,
        uri: None,
        window: Window::default(),
        parsed: Vec::new(),
        all_parsed: true,
        identity: None,
        order: Vec::new(),
    };
    rules::run_authority(cx, &mut part);
    Some(InstanceFacts {
        path: part.path,
        url: part.uri.map(norm_url),
        identity: part.identity,
        window: part.window,
    })
}

/// A certificate authority or timestamp authority as its rules see it.
pub(super) struct AuthorityPart<'a> {
    o: &'a Map<String, Value>,
    path: JsonPath,
    section: Section,
    /// The recorded (organization, common name), when `subject` is an object.
    recorded_subject: Option<(Option<String>, Option<String>)>,
    uri: Option<&'a str>,
    window: Window,
    /// The certificates that parsed, and whether all of them did.
    parsed: Vec<ParsedCert>,
    all_parsed: bool,
    /// The chain's identity: the sorted base64 of its certificates.
    identity: Option<String>,
    /// The chain leaf-most first, as indices into `parsed`; empty when it forms no chain.
    order: Vec<usize>,
}

impl AuthorityPart<'_> {
    fn chain_path(&self) -> JsonPath {
        self.path.key("certChain")
    }

    /// The chain leaf-most first (empty when it forms no chain or was not checked).
    fn ordered(&self) -> Vec<&ParsedCert> {
        self.order.iter().filter_map(|&i| self.parsed.get(i)).collect()
    }
}

pub(super) fn authority_fields(cx: &mut Ctx, part: &mut AuthorityPart<'_>) {
    cx.fields(
        part.o,
        &part.path,
        &["subject", "uri", "certChain", "validFor"],
        &["operator"],
    );
}

pub(super) fn authority_subject(cx: &mut Ctx, part: &mut AuthorityPart<'_>) {
    part.recorded_subject = subject(cx, part.o, &part.path);
}

pub(super) fn authority_uri(cx: &mut Ctx, part: &mut AuthorityPart<'_>) {
    part.uri = cx.string(part.o, "uri", &part.path, None);
    if part.o.get("uri").is_none() {
        cx.warn(
            "missing-uri",
            &part.path.key("uri"),
            format!("this {} has no `uri`; clients verify without it, but signing configs and operators cannot tell which service it is", part.section.noun()),
            "add the service URL",
        );
    }
}

pub(super) fn authority_operator(cx: &mut Ctx, part: &mut AuthorityPart<'_>) {
    operator(cx, part.o, &part.path);
}

pub(super) fn authority_validity(cx: &mut Ctx, part: &mut AuthorityPart<'_>) {
    part.window = cx.time_range(part.o, &part.path, &format!("this {}", part.section.noun()));
}

/// `certChain.certificates`: present, not empty, each certificate DER that parses.
pub(super) fn authority_chain(cx: &mut Ctx, part: &mut AuthorityPart<'_>) {
    let cp = part.chain_path();
    if let Some(list) = chain_list(cx, part.o, &cp) {
        let (certs, ids, ok) = parse_certificates(cx, list, &cp);
        part.parsed = certs;
        part.all_parsed = ok;
        part.identity = Some(ids);
    }
}

/// The order of a chain whose every certificate parsed.
pub(super) fn authority_chain_order(cx: &mut Ctx, part: &mut AuthorityPart<'_>) {
    if part.all_parsed && !part.parsed.is_empty() {
        part.order = chain_order(cx, &part.parsed, &part.chain_path());
    }
}

pub(super) fn authority_anchor(cx: &mut Ctx, part: &mut AuthorityPart<'_>) {
    if let Some(anchor) = part.ordered().last() {
        check_anchor(cx, anchor, &part.chain_path());
    }
}

pub(super) fn authority_subject_matches(cx: &mut Ctx, part: &mut AuthorityPart<'_>) {
    if let (Some(anchor), Some(recorded)) = (part.ordered().last(), &part.recorded_subject) {
        check_subject(cx, recorded, anchor, &part.path);
    }
}

/// A timestamp authority's leaf can stamp time.
pub(super) fn authority_tsa_eku(cx: &mut Ctx, part: &mut AuthorityPart<'_>) {
    if let Some(leaf) = part.ordered().first()
        && part.section == Section::TimestampAuthorities
        && !leaf.has_time_stamping_eku()
    {
        cx.warn(
            "tsa-eku",
            &part.chain_path().key("certificates").index(0),
            format!("the TSA leaf {} has no timeStamping extended key usage", leaf.subject),
            "check this is the TSA's signing certificate",
        );
    }
}

/// Judged at a time (`--at`, the publish time): a certificate of an instance still in use
/// that has expired (an error) or expires within the signing period (a warning), and a
/// window that ends within it (`window-ends-soon`). Reports `certificate-expired`,
/// `certificate-expiring` and `window-ends-soon`.
pub(super) fn authority_as_of(cx: &mut Ctx, part: &mut AuthorityPart<'_>) {
    let Some(as_of) = cx.as_of else { return };
    cx.window_as_of(part.window, &part.path, part.section.noun());
    if !part.window.holds(as_of.at) {
        return;
    }
    let Some(na) = part.ordered().iter().map(|c| c.not_after).min() else {
        return;
    };
    let path = part.chain_path();
    if na <= as_of.at {
        cx.err(
            "certificate-expired",
            &path,
            format!(
                "a certificate of the chain expired at {} while the window is still open at {}",
                time::format(&na),
                time::format(&as_of.at)
            ),
            "end the window at the certificate's expiry and add the renewed chain",
        );
    } else if na <= as_of.horizon() {
        cx.warn(
            "certificate-expiring",
            &path,
            format!(
                "a certificate of the chain expires at {}, within the signing period (before {})",
                time::format(&na),
                time::format(&as_of.horizon())
            ),
            "add the renewed chain before the role is signed again",
        );
    }
}

pub(super) fn authority_window_within_certs(cx: &mut Ctx, part: &mut AuthorityPart<'_>) {
    let ordered = part.ordered();
    if !ordered.is_empty() {
        window_within_certs(cx, &ordered, part.window, &part.path);
    }
}

/// The recorded `subject`: (organization, common name) when it is an object.
fn subject(cx: &mut Ctx, o: &Map<String, Value>, path: &JsonPath) -> Option<(Option<String>, Option<String>)> {
    let Some(sv) = o.get("subject") else {
        cx.warn(
            "missing-subject",
            &path.key("subject"),
            "`subject` is missing".into(),
            "add the anchor certificate's organization and common name",
        );
        return None;
    };
    let so = cx.object(sv, &path.key("subject"), "subject")?;
    cx.fields(so, &path.key("subject"), &["organization", "commonName"], &[]);
    let org = cx
        .string(so, "organization", &path.key("subject"), None)
        .map(str::to_string);
    let cn = cx
        .string(so, "commonName", &path.key("subject"), None)
        .map(str::to_string);
    Some((org, cn))
}

/// `certChain.certificates`: present and not empty.
fn chain_list<'a>(cx: &mut Ctx, o: &'a Map<String, Value>, cp: &JsonPath) -> Option<&'a Vec<Value>> {
    match o.get("certChain") {
        None => {
            cx.err(
                "missing-chain",
                cp,
                "`certChain` is missing".into(),
                "add the chain (its certificates, leaf-most first)",
            );
            None
        }
        Some(c) => cx.object(c, cp, "certChain").and_then(|co| {
            cx.fields(co, cp, &["certificates"], &[]);
            let a = cx.array(co, "certificates", cp);
            if a.is_none_or(|a| a.is_empty()) {
                cx.err(
                    "missing-chain",
                    &cp.key("certificates"),
                    "the certificate chain is empty".into(),
                    "add the chain, leaf-most first",
                );
            }
            a
        }),
    }
}

/// Each certificate's DER. Returns the parsed certificates, the chain's identity (the
/// sorted base64 of its certificates) and whether every certificate parsed.
fn parse_certificates(cx: &mut Ctx, list: &[Value], cp: &JsonPath) -> (Vec<ParsedCert>, String, bool) {
    let mut parsed = Vec::new();
    let mut all_parsed = true;
    let mut ids = Vec::new();
    for (j, c) in list.iter().enumerate() {
        let pj = cp.key("certificates").index(j);
        let Some(co) = cx.object(c, &pj, "a certificate") else {
            all_parsed = false;
            continue;
        };
        cx.fields(co, &pj, &["rawBytes"], &[]);
        let Some(raw) = cx.string(co, "rawBytes", &pj, Some("add the certificate's DER, base64")) else {
            all_parsed = false;
            continue;
        };
        ids.push(raw.to_string());
        match keys::decode_b64(raw)
            .map_err(|e| format!("rawBytes is {e}"))
            .and_then(|d| certs::parse_cert(&d).map_err(|e| e.to_string()))
        {
            Ok(c) => parsed.push(c),
            Err(e) => {
                all_parsed = false;
                cx.err(
                    "bad-certificate",
                    &pj.key("rawBytes"),
                    e,
                    "replace it with the DER certificate, base64",
                );
            }
        }
    }
    ids.sort();
    (parsed, ids.join(","), all_parsed)
}

/// The chain in leaf-most-first order, as indices into `parsed`; empty when the
/// certificates form no chain.
fn chain_order(cx: &mut Ctx, parsed: &[ParsedCert], cp: &JsonPath) -> Vec<usize> {
    match certs::chain_order(parsed) {
        ChainOrder::AsListed => (0..parsed.len()).collect(),
        ChainOrder::Reordered(order) => {
            let desc = if order.iter().rev().copied().eq(0..order.len()) {
                "root-first"
            } else {
                "out of order"
            };
            cx.warn(
                "chain-order",
                &cp.key("certificates"),
                format!("the chain is listed {desc}; clients accept it, but the format says leaf-most first (a valid order is {order:?})"),
                "list the certificates leaf-most first, the order trustroot records chains in",
            );
            order
        }
        ChainOrder::Broken(e) => {
            cx.err(
                "broken-chain",
                &cp.key("certificates"),
                format!("the certificates do not form a chain in any order: {e}"),
                "list the leaf-most certificate first, each followed by its issuer",
            );
            Vec::new()
        }
    }
}

/// The anchor: a root that signs itself, or an intermediate pinned on purpose.
fn check_anchor(cx: &mut Ctx, anchor: &ParsedCert, cp: &JsonPath) {
    if anchor.self_issued() && !anchor.self_signed() {
        cx.err(
            "bad-anchor",
            &cp.key("certificates"),
            format!(
                "the anchor {} names itself as issuer but its self-signature does not verify",
                anchor.subject
            ),
            "replace it with the real root certificate",
        );
    } else if !anchor.self_issued() {
        cx.warn(
            "intermediate-anchor",
            &cp.key("certificates"),
            format!(
                "the chain ends in {}, issued by {}: clients will trust it as an intermediate anchor",
                anchor.subject, anchor.issuer
            ),
            "append the root certificate, unless pinning the intermediate is intended",
        );
    }
}

/// The recorded subject against the anchor certificate's.
fn check_subject(cx: &mut Ctx, recorded: &(Option<String>, Option<String>), anchor: &ParsedCert, path: &JsonPath) {
    let (org, cn) = recorded;
    let norm = |s: &Option<String>| s.clone().unwrap_or_default();
    if norm(org) != norm(&anchor.subject.organization) || norm(cn) != norm(&anchor.subject.common_name) {
        cx.warn(
            "subject-mismatch",
            &path.key("subject"),
            format!(
                "the recorded subject (O={}, CN={}) differs from the anchor certificate's ({})",
                norm(org),
                norm(cn),
                anchor.subject
            ),
            "record the anchor's subject, or keep the recorded one on purpose",
        );
    }
}

/// The `validFor` window against the validity of every certificate of the chain.
fn window_within_certs(cx: &mut Ctx, ordered: &[&ParsedCert], window: Window, path: &JsonPath) {
    let latest_nb = ordered.iter().map(|c| c.not_before).max();
    let earliest_na = ordered.iter().map(|c| c.not_after).min();
    let (Some(nb), Some(na)) = (latest_nb, earliest_na) else {
        return;
    };
    if let Some(s) = window.start {
        if s > na {
            cx.err(
                "window-outside-certs",
                &path.key("validFor").key("start"),
                format!(
                    "the window starts after a certificate of the chain expired ({})",
                    time::format(&na)
                ),
                "check the dates: the chain is expired for the whole window",
            );
        } else if s < nb {
            cx.warn(
                "window-before-certs",
                &path.key("validFor").key("start"),
                format!(
                    "the window starts before every certificate of the chain is valid (latest notBefore {})",
                    time::format(&nb)
                ),
                format!("start the window at {} or later", time::format(&nb)),
            );
        }
    }
    if let Some(e) = window.end
        && e > na
    {
        cx.err(
            "window-after-certs",
            &path.key("validFor").key("end"),
            format!(
                "the window ends after a certificate of the chain expires ({})",
                time::format(&na)
            ),
            format!("end the window at {} or earlier", time::format(&na)),
        );
    }
}
