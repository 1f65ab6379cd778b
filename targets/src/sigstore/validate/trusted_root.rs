//! The trusted root's document and its transparency-log instances; the certificate
//! authorities and timestamp authorities are checked in `authority`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use trustroot_core::display::escape;

use super::authority::authority;
use super::{Ctx, Finding, InstanceFacts, Window, kind, norm_url};
use crate::sigstore::json::JsonPath;
use crate::sigstore::keys::{self, KeyKind};
use crate::sigstore::time;
use crate::sigstore::trusted_root::Section;
use crate::sigstore::{TRUSTED_ROOT_MEDIA_TYPE_LEGACY, TRUSTED_ROOT_MEDIA_TYPE_V01, TRUSTED_ROOT_MEDIA_TYPE_V02};

/// Validates trusted_root.json bytes.
pub fn validate_trusted_root(bytes: &[u8]) -> Vec<Finding> {
    let mut cx = Ctx::default();
    let root = JsonPath::root();
    let Some(v) = cx.parse(bytes) else {
        return cx.findings;
    };
    let Some(o) = cx.object(&v, &root, "the trusted root") else {
        return cx.findings;
    };
    media_type(&mut cx, o, &root);
    cx.fields(
        o,
        &root,
        &[
            "mediaType",
            "tlogs",
            "certificateAuthorities",
            "ctlogs",
            "timestampAuthorities",
        ],
        &[],
    );
    let mut facts: BTreeMap<&'static str, Vec<InstanceFacts>> = BTreeMap::new();
    for section in Section::ALL {
        if let Some(out) = section_instances(&mut cx, o, &root, section) {
            facts.insert(section.field(), out);
        }
    }
    if facts.get("certificateAuthorities").is_some_and(|c| !c.is_empty())
        && facts.get("ctlogs").is_none_or(|c| c.is_empty())
    {
        cx.warn(
            "no-ctlogs",
            &root.key("ctlogs"),
            "certificate authorities but no CT logs: clients that check certificate transparency will reject Fulcio certificates".into(),
            "add the CT log (its key, URL and validity window)",
        );
    }
    cx.findings
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

/// One section (`tlogs`, `ctlogs`, ...): that it is present where clients need it, each
/// instance, then the checks across instances. `None` when the section is absent.
fn section_instances(
    cx: &mut Ctx,
    o: &Map<String, Value>,
    root: &JsonPath,
    section: Section,
) -> Option<Vec<InstanceFacts>> {
    let p = root.key(section.field());
    let Some(list) = cx.array(o, section.field(), root) else {
        match section {
            Section::Tlogs => cx.err(
                "no-tlogs",
                &p,
                "no transparency logs: clients cannot verify any signature".into(),
                "add a transparency log (its key, URL and validity window)",
            ),
            Section::CertificateAuthorities => cx.warn(
                "no-cas",
                &p,
                "no certificate authorities: keyless (Fulcio) signatures cannot be verified".into(),
                "add a certificate authority (its chain) if clients verify keyless signatures",
            ),
            _ => {}
        }
        return None;
    };
    if list.is_empty() && section == Section::Tlogs {
        cx.err(
            "no-tlogs",
            &p,
            "no transparency logs: clients cannot verify any signature".into(),
            "add a transparency log (its key, URL and validity window)",
        );
    }
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let ip = p.index(i);
        let f = if section.is_log() {
            log_instance(cx, item, &ip, section)
        } else {
            authority(cx, item, &ip, section)
        };
        if let Some(f) = f {
            out.push(f);
        }
    }
    cross_instance(cx, section, &p, &out);
    Some(out)
}

/// A transparency log or CT log instance.
fn log_instance(cx: &mut Ctx, v: &Value, path: &JsonPath, section: Section) -> Option<InstanceFacts> {
    let o = cx.object(v, path, section.noun())?;
    cx.fields(
        o,
        path,
        &["baseUrl", "hashAlgorithm", "publicKey", "logId"],
        &["checkpointKeyId", "operator"],
    );
    let url = cx.string(
        o,
        "baseUrl",
        path,
        Some("add the log's base URL, e.g. https://rekor.sigstore.dev"),
    );
    hash_algorithm(cx, o, path);
    operator(cx, o, path);
    let (window, parsed) = log_public_key(cx, o, path, section);
    let identity = log_id(cx, o, path, &parsed, url, section);
    checkpoint_key_id(cx, o, path, &parsed, url);
    Some(InstanceFacts {
        path: path.clone(),
        url: url.map(norm_url),
        identity,
        window,
    })
}

fn hash_algorithm(cx: &mut Ctx, o: &Map<String, Value>, path: &JsonPath) {
    match cx.string(o, "hashAlgorithm", path, Some("add \"hashAlgorithm\": \"SHA2_256\"")) {
        Some(h) if keys::DEPRECATED_HASH_ALGORITHMS.contains(&h) => cx.warn(
            "deprecated-hash",
            &path.key("hashAlgorithm"),
            format!("`{}` is deprecated in protobuf-specs", escape(h)),
            "use SHA2_256",
        ),
        Some(h) if !keys::HASH_ALGORITHMS.contains(&h) => cx.err(
            "unknown-hash",
            &path.key("hashAlgorithm"),
            format!("unknown hash algorithm `{}`", escape(h)),
            format!("use one of {}", keys::HASH_ALGORITHMS.join(", ")),
        ),
        _ => {}
    }
}

/// The log's `publicKey`: key type, DER bytes and validity window. Returns the window and
/// the key when it parses.
fn log_public_key(
    cx: &mut Ctx,
    o: &Map<String, Value>,
    path: &JsonPath,
    section: Section,
) -> (Window, Option<keys::ParsedKey>) {
    let pk_path = path.key("publicKey");
    let mut window = Window::default();
    let mut parsed: Option<keys::ParsedKey> = None;
    let Some(pkv) = o.get("publicKey") else {
        cx.err(
            "missing-field",
            &pk_path,
            "`publicKey` is missing".into(),
            "add the log's public key (rawBytes, keyDetails and validFor)",
        );
        return (window, parsed);
    };
    if let Some(pk) = cx.object(pkv, &pk_path, "publicKey") {
        cx.fields(pk, &pk_path, &["rawBytes", "keyDetails", "validFor"], &[]);
        let raw = cx.string(pk, "rawBytes", &pk_path, Some("add the key's DER, base64"));
        let details = key_details(cx, pk, &pk_path);
        if let Some(raw) = raw {
            match keys::decode_b64(raw) {
                Err(e) => cx.err(
                    "bad-base64",
                    &pk_path.key("rawBytes"),
                    format!("rawBytes is {e}"),
                    "write the DER key in standard base64",
                ),
                Ok(der) => {
                    if let Some(d) = details {
                        match keys::parse_raw(&der, d) {
                            Ok(k) => parsed = Some(k),
                            Err(e) => cx.err(
                                "bad-key",
                                &pk_path.key("rawBytes"),
                                e.to_string(),
                                "re-add the key from its PEM file with trustroot, which sets keyDetails from the key",
                            ),
                        }
                    }
                }
            }
        }
        window = cx.time_range(pk, &pk_path, &format!("this {}", section.noun()));
    }
    (window, parsed)
}

/// `publicKey.keyDetails`: a key type clients can use; returns it when they can.
fn key_details<'a>(cx: &mut Ctx, pk: &'a Map<String, Value>, pk_path: &JsonPath) -> Option<&'a str> {
    let details = cx.string(
        pk,
        "keyDetails",
        pk_path,
        Some("add the key details, e.g. PKIX_ECDSA_P256_SHA_256"),
    );
    match details {
        Some(d) if d == "PUBLIC_KEY_DETAILS_UNSPECIFIED" || !keys::KEY_DETAILS.contains(&d) => {
            cx.err(
                "unknown-key-details",
                &pk_path.key("keyDetails"),
                format!("`{}` is not a key type clients can use", escape(d)),
                "use the PublicKeyDetails name of the key, e.g. PKIX_ECDSA_P256_SHA_256",
            );
            None
        }
        Some(d) => {
            if keys::DEPRECATED_KEY_DETAILS.contains(&d) {
                cx.warn(
                    "deprecated-key-details",
                    &pk_path.key("keyDetails"),
                    format!(
                        "`{}` is deprecated in protobuf-specs; clients still accept it",
                        escape(d)
                    ),
                    "when the key is next rotated, use a PKIX_* name with the key size and hash",
                );
            }
            Some(d)
        }
        None => None,
    }
}

/// `logId.keyId`: present, 32 bytes, and derived from the key. Returns it as written.
fn log_id(
    cx: &mut Ctx,
    o: &Map<String, Value>,
    path: &JsonPath,
    parsed: &Option<keys::ParsedKey>,
    url: Option<&str>,
    section: Section,
) -> Option<String> {
    let lid_path = path.key("logId");
    let mut identity = None;
    match o.get("logId") {
        None => cx.err(
            "missing-log-id",
            &lid_path,
            "`logId` is missing: clients cannot match entries to this log (\"tlog missing log ID\", sigstore/root-signing#1565)".into(),
            expected_id_fix(parsed, url, section),
        ),
        Some(lv) => {
            if let Some(lo) = cx.object(lv, &lid_path, "logId") {
                cx.fields(lo, &lid_path, &["keyId"], &[]);
                if let Some(kid) = cx.string(lo, "keyId", &lid_path, Some(&expected_id_fix(parsed, url, section))) {
                    identity = Some(kid.to_string());
                    let kp = lid_path.key("keyId");
                    match keys::decode_b64(kid) {
                        Err(e) => cx.err("bad-base64", &kp, format!("keyId is {e}"), expected_id_fix(parsed, url, section)),
                        Ok(b) if b.len() != 32 => cx.err("bad-log-id", &kp, format!("keyId is {} bytes; a log ID is a 32-byte SHA-256", b.len()), expected_id_fix(parsed, url, section)),
                        Ok(b) => check_log_id(cx, &kp, &b, parsed, url, section),
                    }
                }
            }
        }
    }
    identity
}

/// `checkpointKeyId.keyId` (v0.2): 4 bytes, and for Ed25519 keys the start of the
/// checkpoint key hash.
fn checkpoint_key_id(
    cx: &mut Ctx,
    o: &Map<String, Value>,
    path: &JsonPath,
    parsed: &Option<keys::ParsedKey>,
    url: Option<&str>,
) {
    let Some(cv) = o.get("checkpointKeyId") else {
        return;
    };
    let cp = path.key("checkpointKeyId");
    let Some(co) = cx.object(cv, &cp, "checkpointKeyId") else {
        return;
    };
    cx.fields(co, &cp, &["keyId"], &[]);
    let Some(kid) = cx.string(co, "keyId", &cp, Some("add the 4-byte checkpoint key ID, base64")) else {
        return;
    };
    match keys::decode_b64(kid) {
        Err(e) => cx.err(
            "bad-base64",
            &cp.key("keyId"),
            format!("keyId is {e}"),
            "write it in standard base64",
        ),
        Ok(b) if b.len() != 4 => cx.err(
            "bad-checkpoint-key-id",
            &cp.key("keyId"),
            format!("checkpointKeyId is {} bytes; it must be 4", b.len()),
            "use the first 4 bytes of the checkpoint key hash",
        ),
        Ok(b) => {
            if let (
                Some(keys::ParsedKey {
                    kind: KeyKind::Ed25519(raw),
                    ..
                }),
                Some(u),
            ) = (parsed, url)
            {
                let want = keys::checkpoint_log_id(keys::origin_of(u), raw);
                if b[..] != want[..4] {
                    cx.err(
                        "checkpoint-key-id-mismatch",
                        &cp.key("keyId"),
                        format!(
                            "checkpointKeyId does not match the key: expected {}",
                            keys::encode_b64(&want[..4])
                        ),
                        format!("set it to {}", keys::encode_b64(&want[..4])),
                    );
                }
            } else if parsed.is_some() {
                cx.warn(
                    "unchecked-checkpoint-key-id",
                    &cp.key("keyId"),
                    "trustroot computes checkpoint key IDs for Ed25519 keys only; this one is not checked".into(),
                    "check it against the log's signed-note key by hand",
                );
            }
        }
    }
}

fn expected_id_fix(parsed: &Option<keys::ParsedKey>, url: Option<&str>, section: Section) -> String {
    match parsed {
        Some(k) => {
            let spki = keys::encode_b64(&keys::spki_log_id(&k.spki_der));
            match (&k.kind, url, section) {
                (KeyKind::Ed25519(raw), Some(u), Section::Tlogs) => format!(
                    "set logId.keyId to {} for a Rekor v2 log (checkpoint key hash, origin {}), or {spki} for a Rekor v1 log (SHA-256 of the key)",
                    keys::encode_b64(&keys::checkpoint_log_id(keys::origin_of(u), raw)),
                    keys::origin_of(u)
                ),
                _ => format!("set logId.keyId to {spki} (SHA-256 of the DER public key)"),
            }
        }
        None => "add logId.keyId, the SHA-256 of the log's DER public key (base64)".into(),
    }
}

fn check_log_id(
    cx: &mut Ctx,
    path: &JsonPath,
    got: &[u8],
    parsed: &Option<keys::ParsedKey>,
    url: Option<&str>,
    section: Section,
) {
    let Some(k) = parsed else { return };
    if matches!(k.kind, KeyKind::Opaque) {
        cx.warn(
            "unchecked-log-id",
            path,
            "trustroot cannot derive log IDs for this key type; the log ID is not checked".into(),
            "check it against the log by hand",
        );
        return;
    }
    let spki = keys::spki_log_id(&k.spki_der);
    let checkpoint = match (&k.kind, url, section) {
        (KeyKind::Ed25519(raw), Some(u), Section::Tlogs) => Some(keys::checkpoint_log_id(keys::origin_of(u), raw)),
        _ => None,
    };
    if got == spki {
        if let (Some(cp), Some(u)) = (checkpoint, url) {
            cx.warn(
                "ed25519-spki-log-id",
                path,
                format!("this Ed25519 log's ID is the SHA-256 of its key, which is right for Rekor v1; a Rekor v2 (tile) log at {} is identified by its checkpoint key hash {}", escape(u), keys::encode_b64(&cp)),
                format!("if this is a Rekor v2 log, set logId.keyId to {}", keys::encode_b64(&cp)),
            );
        }
        return;
    }
    if checkpoint.is_some_and(|cp| got == cp) {
        return;
    }
    cx.err(
        "log-id-mismatch",
        path,
        format!("the log ID {} does not match the log's key", keys::encode_b64(got)),
        expected_id_fix(parsed, url, section),
    );
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

fn cross_instance(cx: &mut Ctx, section: Section, path: &JsonPath, facts: &[InstanceFacts]) {
    // Sorted by start.
    for pair in facts.windows(2) {
        if let (Some(a), Some(b)) = (pair[0].window.start, pair[1].window.start)
            && b < a
        {
            cx.warn(
                "not-sorted",
                &pair[1].path,
                format!(
                    "instances of {} are not sorted by validFor.start: this one starts {} before the previous one ({})",
                    section.field(),
                    time::format(&b),
                    time::format(&a)
                ),
                "order instances by validFor.start, oldest first",
            );
        }
    }
    // Duplicates.
    for (i, f) in facts.iter().enumerate() {
        if let Some(id) = &f.identity
            && let Some(prev) = facts[..i].iter().find(|g| g.identity.as_ref() == Some(id))
        {
            let what = if section.is_log() {
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
    // More than one open-ended instance per URL.
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
    let _ = path;
}
