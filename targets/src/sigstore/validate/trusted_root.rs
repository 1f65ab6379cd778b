//! The trusted root's document and its transparency-log instances; the certificate
//! authorities and timestamp authorities are checked in `authority`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use trustroot_core::display::escape;

use super::authority::authority;
use super::log;
use super::{AsOf, Ctx, Finding, InstanceFacts, kind, rules};
use crate::sigstore::json::JsonPath;
use crate::sigstore::time;
use crate::sigstore::trusted_root::Section;
use crate::sigstore::{TRUSTED_ROOT_MEDIA_TYPE_LEGACY, TRUSTED_ROOT_MEDIA_TYPE_V01, TRUSTED_ROOT_MEDIA_TYPE_V02};

/// Validates trusted_root.json bytes.
pub fn validate_trusted_root(bytes: &[u8]) -> Vec<Finding> {
    validate_trusted_root_at(bytes, None)
}

/// Validates trusted_root.json bytes; with `as_of`, also judges its windows and
/// certificates at that time and over the signing period after it.
pub fn validate_trusted_root_at(bytes: &[u8], as_of: Option<AsOf>) -> Vec<Finding> {
    let mut cx = Ctx {
        as_of,
        ..Ctx::default()
    };
    let root = JsonPath::root();
    let Some(v) = cx.parse(bytes) else {
        return cx.findings;
    };
    let Some(o) = cx.object(&v, &root, "the trusted root") else {
        return cx.findings;
    };
    let mut doc = RootDoc {
        o,
        root,
        facts: BTreeMap::new(),
    };
    rules::run_trusted_root(&mut cx, &mut doc);
    cx.findings
}

/// The trusted root as its rules see it: the document, and what its sections held.
pub(super) struct RootDoc<'a> {
    o: &'a Map<String, Value>,
    root: JsonPath,
    /// Each section's instances, once the `sections` rule has checked them.
    facts: BTreeMap<&'static str, Vec<InstanceFacts>>,
}

/// One section of the trusted root (`tlogs`, `ctlogs`, ...) as its rules see it.
pub(super) struct SectionPart<'a> {
    section: Section,
    path: JsonPath,
    /// The list, when the section is there and is a list.
    list: Option<&'a Vec<Value>>,
    /// Its instances, once the `instances` rule has checked them.
    facts: Vec<InstanceFacts>,
}

pub(super) fn root_media_type(cx: &mut Ctx, doc: &mut RootDoc<'_>) {
    media_type(cx, doc.o, &doc.root);
}

pub(super) fn root_fields(cx: &mut Ctx, doc: &mut RootDoc<'_>) {
    cx.fields(
        doc.o,
        &doc.root,
        &[
            "mediaType",
            "tlogs",
            "certificateAuthorities",
            "ctlogs",
            "timestampAuthorities",
        ],
        &[],
    );
}

/// Each section, in the specification's order, through the section rules.
pub(super) fn root_sections(cx: &mut Ctx, doc: &mut RootDoc<'_>) {
    for section in Section::ALL {
        let list = cx.array(doc.o, section.field(), &doc.root);
        let mut part = SectionPart {
            section,
            path: doc.root.key(section.field()),
            list,
            facts: Vec::new(),
        };
        rules::run_section(cx, &mut part);
        if list.is_some() {
            doc.facts.insert(section.field(), part.facts);
        }
    }
}

pub(super) fn root_ctlogs_for_cas(cx: &mut Ctx, doc: &mut RootDoc<'_>) {
    if doc.facts.get("certificateAuthorities").is_some_and(|c| !c.is_empty())
        && doc.facts.get("ctlogs").is_none_or(|c| c.is_empty())
    {
        cx.warn(
            "no-ctlogs",
            &doc.root.key("ctlogs"),
            "certificate authorities but no CT logs: clients that check certificate transparency will reject Fulcio certificates".into(),
            "add the CT log (its key, URL and validity window)",
        );
    }
}

/// The media type: the legacy v0.1 spelling is the one deployed clients read; v0.2 turns on
/// the v0.2 fields.
fn media_type(cx: &mut Ctx, o: &Map<String, Value>, root: &JsonPath) {
    match cx.string(
        o,
        "mediaType",
        root,
        Some("add \"mediaType\": \"application/vnd.dev.sigstore.trustedroot+json;version=0.1\""),
    ) {
        Some(TRUSTED_ROOT_MEDIA_TYPE_LEGACY) => {}
        Some(m @ TRUSTED_ROOT_MEDIA_TYPE_V01) => cx.warn(
            "media-type-spelling",
            &root.key("mediaType"),
            format!(
                "`{}` is the specification's v0.1 spelling, but deployed clients check for the legacy one",
                escape(m)
            ),
            format!("write {TRUSTED_ROOT_MEDIA_TYPE_LEGACY}"),
        ),
        Some(TRUSTED_ROOT_MEDIA_TYPE_V02) => {
            cx.v02 = true;
            cx.warn(
                "media-type-v02",
                &root.key("mediaType"),
                "the v0.2 media type is not read by deployed clients, which expect the legacy v0.1 one".into(),
                "publish v0.2 as a separate target (sigstore/root-signing#1499) and keep trusted_root.json at v0.1",
            );
        }
        Some(other) => cx.err(
            "unknown-media-type",
            &root.key("mediaType"),
            format!("unknown media type `{}`: clients reject the file", escape(other)),
            format!("use {TRUSTED_ROOT_MEDIA_TYPE_LEGACY}"),
        ),
        None => {}
    }
}

/// The sections clients need: transparency logs always, certificate authorities for
/// keyless signatures.
pub(super) fn section_present(cx: &mut Ctx, part: &mut SectionPart<'_>) {
    let p = &part.path;
    match (part.list.map(Vec::as_slice), part.section) {
        (None | Some([]), Section::Tlogs) => cx.err(
            "no-tlogs",
            p,
            "no transparency logs: clients cannot verify any signature".into(),
            "add a transparency log (its key, URL and validity window)",
        ),
        (None, Section::CertificateAuthorities) => cx.warn(
            "no-cas",
            p,
            "no certificate authorities: keyless (Fulcio) signatures cannot be verified".into(),
            "add a certificate authority (its chain) if clients verify keyless signatures",
        ),
        _ => {}
    }
}

/// Each instance of the section, through the log or authority rules.
pub(super) fn section_instances(cx: &mut Ctx, part: &mut SectionPart<'_>) {
    for (i, item) in part.list.into_iter().flatten().enumerate() {
        let ip = part.path.index(i);
        let f = if part.section.is_log() {
            log::log_instance(cx, item, &ip, part.section)
        } else {
            authority(cx, item, &ip, part.section)
        };
        if let Some(f) = f {
            part.facts.push(f);
        }
    }
}

pub(super) fn operator(cx: &mut Ctx, o: &Map<String, Value>, path: &JsonPath) {
    match o.get("operator") {
        Some(Value::String(s)) if s.is_empty() => cx.err(
            "missing-field",
            &path.key("operator"),
            "`operator` is empty".into(),
            "write the operator's scheme-less URI, e.g. sigstore.dev, or remove the field",
        ),
        Some(Value::String(s)) if s.contains("://") => cx.warn(
            "operator-scheme",
            &path.key("operator"),
            format!("operator `{}` has a scheme; it should be a scheme-less URI", escape(s)),
            "write it without the scheme, e.g. sigstore.dev",
        ),
        Some(Value::String(_)) | None => {}
        Some(other) => cx.err(
            "wrong-type",
            &path.key("operator"),
            format!("`operator` must be a string, found {}", kind(other)),
            "write it as a JSON string",
        ),
    }
    if cx.v02 && o.get("operator").is_none() {
        cx.warn(
            "missing-operator",
            &path.key("operator"),
            "no `operator` under the v0.2 media type: clients cannot tell which instances share an operator".into(),
            "add the operator, a scheme-less URI such as sigstore.dev",
        );
    }
}

/// Instances are sorted by the start of their window.
pub(super) fn section_sorted(cx: &mut Ctx, part: &mut SectionPart<'_>) {
    for pair in part.facts.windows(2) {
        if let (Some(a), Some(b)) = (pair[0].window.start, pair[1].window.start)
            && b < a
        {
            cx.warn(
                "not-sorted",
                &pair[1].path,
                format!(
                    "instances of {} are not sorted by validFor.start: this one starts {} before the previous one ({})",
                    part.section.field(),
                    time::format(&b),
                    time::format(&a)
                ),
                "order instances by validFor.start, oldest first",
            );
        }
    }
}

/// No two instances share a log ID or a certificate chain.
pub(super) fn section_duplicates(cx: &mut Ctx, part: &mut SectionPart<'_>) {
    let facts = &part.facts;
    for (i, f) in facts.iter().enumerate() {
        if let Some(id) = &f.identity
            && let Some(prev) = facts[..i].iter().find(|g| g.identity.as_ref() == Some(id))
        {
            let what = if part.section.is_log() {
                "log ID"
            } else {
                "certificate chain"
            };
            cx.warn(
                "duplicate",
                &f.path,
                format!("same {what} as {}", prev.path),
                "remove the duplicate, or retire one of them",
            );
        }
    }
}

/// At most one open-ended instance per URL.
/// Judged at a time: a section whose every instance is over or not started then
/// (`no-current-instance`).
pub(super) fn section_current(cx: &mut Ctx, part: &mut SectionPart<'_>) {
    let windows: Vec<_> = part.facts.iter().map(|f| f.window).collect();
    cx.no_current(&windows, &part.path, part.section.noun());
}

pub(super) fn section_open_ended(cx: &mut Ctx, part: &mut SectionPart<'_>) {
    let facts = &part.facts;
    for (i, f) in facts.iter().enumerate() {
        if f.window.has_end || f.window.start.is_none() {
            continue;
        }
        let Some(url) = &f.url else { continue };
        if let Some(prev) = facts[..i]
            .iter()
            .find(|g| g.url.as_ref() == Some(url) && !g.window.has_end && g.window.start.is_some())
        {
            cx.warn(
                "open-ended-overlap",
                &f.path,
                format!("{} and {} are both open-ended for {}", prev.path, f.path, escape(url)),
                "retire the older one when the new one takes over (end its validity window), or keep both if they are meant to overlap",
            );
        }
    }
}
