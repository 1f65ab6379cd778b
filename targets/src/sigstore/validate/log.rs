//! Transparency-log and CT-log instances of the trusted root: base URL, hash algorithm,
//! public key, log ID and checkpoint key ID.

use serde_json::{Map, Value};
use trustroot_core::display::escape;

use super::trusted_root::operator;
use super::{Ctx, InstanceFacts, Window, norm_url, rules};
use crate::sigstore::json::JsonPath;
use crate::sigstore::keys::{self, KeyKind};
use crate::sigstore::trusted_root::Section;

/// A transparency log or CT log instance as its rules see it.
pub(super) struct LogPart<'a> {
    o: &'a Map<String, Value>,
    path: JsonPath,
    section: Section,
    url: Option<&'a str>,
    window: Window,
    parsed: Option<keys::ParsedKey>,
    identity: Option<String>,
}

/// A transparency log or CT log instance, when it is an object.
pub(super) fn log_instance(cx: &mut Ctx, v: &Value, path: &JsonPath, section: Section) -> Option<InstanceFacts> {
    let o = cx.object(v, path, section.noun())?;
    let mut part = LogPart {
        o,
        path: path.clone(),
        section,
        url: None,
        window: Window::default(),
        parsed: None,
        identity: None,
    };
    rules::run_log(cx, &mut part);
    Some(InstanceFacts {
        path: part.path,
        url: part.url.map(norm_url),
        identity: part.identity,
        window: part.window,
    })
}

pub(super) fn log_fields(cx: &mut Ctx, part: &mut LogPart<'_>) {
    cx.fields(
        part.o,
        &part.path,
        &["baseUrl", "hashAlgorithm", "publicKey", "logId"],
        &["checkpointKeyId", "operator"],
    );
}

pub(super) fn log_base_url(cx: &mut Ctx, part: &mut LogPart<'_>) {
    part.url = cx.string(
        part.o,
        "baseUrl",
        &part.path,
        Some("add the log's base URL, e.g. https://rekor.sigstore.dev"),
    );
}

pub(super) fn log_hash_algorithm(cx: &mut Ctx, part: &mut LogPart<'_>) {
    hash_algorithm(cx, part.o, &part.path);
}

pub(super) fn log_operator(cx: &mut Ctx, part: &mut LogPart<'_>) {
    operator(cx, part.o, &part.path);
}

pub(super) fn log_key(cx: &mut Ctx, part: &mut LogPart<'_>) {
    (part.window, part.parsed) = log_public_key(cx, part.o, &part.path, part.section);
}

pub(super) fn log_log_id(cx: &mut Ctx, part: &mut LogPart<'_>) {
    part.identity = log_id(cx, part.o, &part.path, &part.parsed, part.url, part.section);
}

/// Judged at a time: a key window that ends within the signing period
/// (`window-ends-soon`).
pub(super) fn log_as_of(cx: &mut Ctx, part: &mut LogPart<'_>) {
    cx.window_as_of(part.window, &part.path.key("publicKey"), part.section.noun());
}

pub(super) fn log_checkpoint_key_id(cx: &mut Ctx, part: &mut LogPart<'_>) {
    checkpoint_key_id(cx, part.o, &part.path, &part.parsed, part.url);
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
