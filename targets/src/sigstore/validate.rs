//! The linter for `trusted_root.json` and `signing_config` (reference section 6.5, as
//! amended by issue 3): every finding names its JSON path and says how to fix it.
//!
//! Errors are what would break or mislead clients; warnings are what real, published files
//! have and clients accept. Validation works on the JSON value, not on the typed model, so
//! that a file of the wrong shape still gets every finding rather than the first one.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use trustroot_core::display::escape;

use super::certs::{self, ChainOrder, ParsedCert};
use super::json::JsonPath;
use super::keys::{self, KeyKind};
use super::time::{self, TimestampStyle};
use super::trusted_root::{Section, TrustedRoot};
use super::{
    SIGNING_CONFIG_MEDIA_TYPE_V01, SIGNING_CONFIG_MEDIA_TYPE_V02, TRUSTED_ROOT_MEDIA_TYPE_LEGACY,
    TRUSTED_ROOT_MEDIA_TYPE_V01, TRUSTED_ROOT_MEDIA_TYPE_V02,
};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Would break or mislead clients.
    Error,
    /// Found in real, published files that clients accept; worth a look.
    Warning,
}

/// One problem found in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable identifier for the rule, e.g. `bad-timestamp`, `log-id-mismatch`.
    pub code: &'static str,
    /// The JSON path, e.g. `$.tlogs[1].publicKey.validFor.end`.
    pub path: String,
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{sev}[{}] {}: {}\n  fix: {}",
            self.code,
            escape(&self.path.to_string()),
            self.message,
            self.fix
        )
    }
}

/// Whether `findings` contain an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

#[derive(Default)]
struct Ctx {
    findings: Vec<Finding>,
    /// Unknown fields are errors (a known media type), v0.2-only fields are warnings.
    v02: bool,
}

impl Ctx {
    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        path: &JsonPath,
        message: String,
        fix: impl Into<String>,
    ) {
        self.findings.push(Finding {
            severity,
            code,
            path: path.to_string(),
            message,
            fix: fix.into(),
        });
    }
    fn err(&mut self, code: &'static str, path: &JsonPath, message: String, fix: impl Into<String>) {
        self.push(Severity::Error, code, path, message, fix);
    }
    fn warn(&mut self, code: &'static str, path: &JsonPath, message: String, fix: impl Into<String>) {
        self.push(Severity::Warning, code, path, message, fix);
    }

    fn object<'a>(&mut self, v: &'a Value, path: &JsonPath, what: &str) -> Option<&'a Map<String, Value>> {
        match v.as_object() {
            Some(o) => Some(o),
            None => {
                self.err(
                    "wrong-type",
                    path,
                    format!("{what} must be a JSON object, found {}", kind(v)),
                    format!("write {what} as an object"),
                );
                None
            }
        }
    }

    /// A string field; reports a missing one when `required` names the fix.
    fn string<'a>(
        &mut self,
        o: &'a Map<String, Value>,
        key: &str,
        path: &JsonPath,
        required: Option<&str>,
    ) -> Option<&'a str> {
        let p = path.key(key);
        match o.get(key) {
            None | Some(Value::Null) => {
                if let Some(fix) = required {
                    self.err("missing-field", &p, format!("`{key}` is missing"), fix.to_string());
                }
                None
            }
            Some(Value::String(s)) if s.is_empty() => {
                if let Some(fix) = required {
                    self.err("missing-field", &p, format!("`{key}` is empty"), fix.to_string());
                }
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                self.err(
                    "wrong-type",
                    &p,
                    format!("`{key}` must be a string, found {}", kind(other)),
                    "write it as a JSON string",
                );
                None
            }
        }
    }

    fn array<'a>(&mut self, o: &'a Map<String, Value>, key: &str, path: &JsonPath) -> Option<&'a Vec<Value>> {
        match o.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) => Some(a),
            Some(other) => {
                self.err(
                    "wrong-type",
                    &path.key(key),
                    format!("`{key}` must be a list, found {}", kind(other)),
                    "write it as a JSON list",
                );
                None
            }
        }
    }

    /// Flags fields outside `known`; `v02_only` fields are warnings under a v0.1 media type.
    fn fields(&mut self, o: &Map<String, Value>, path: &JsonPath, known: &[&str], v02_only: &[&str]) {
        for k in o.keys() {
            if known.contains(&k.as_str()) {
                continue;
            }
            let p = path.key(k);
            if v02_only.contains(&k.as_str()) {
                if !self.v02 {
                    self.warn(
                        "v02-field-under-v01",
                        &p,
                        format!("`{}` belongs to the v0.2 media type, but this file declares v0.1; clients accepted it when staging published it, but Go protojson parsers may reject it", escape(k)),
                        format!("remove `{}`, or publish it in a separate file under {TRUSTED_ROOT_MEDIA_TYPE_V02}", escape(k)),
                    );
                }
                continue;
            }
            self.err(
                "unknown-field",
                &p,
                format!(
                    "unknown field `{}`: clients that parse with Go protojson reject the whole file",
                    escape(k)
                ),
                format!("remove `{}` (known fields here: {})", escape(k), known.join(", ")),
            );
        }
    }

    /// Checks a timestamp string; returns the time when it parses.
    fn timestamp(&mut self, v: &Value, path: &JsonPath) -> Option<DateTime<Utc>> {
        let Some(s) = v.as_str() else {
            self.err(
                "wrong-type",
                path,
                format!("a timestamp must be a string, found {}", kind(v)),
                "write it as \"YYYY-MM-DDTHH:MM:SSZ\"",
            );
            return None;
        };
        match time::parse(s) {
            Ok((t, TimestampStyle::Canonical)) => Some(t),
            Ok((t, TimestampStyle::Offset)) => {
                self.warn(
                    "timestamp-offset",
                    path,
                    format!("`{}` has a UTC offset; protobuf writers use `Z`", escape(s)),
                    format!("write it as {}", time::format(&t)),
                );
                Some(t)
            }
            Ok((t, TimestampStyle::OddFraction)) => {
                self.warn(
                    "timestamp-fraction",
                    path,
                    format!(
                        "`{}` has a fraction of an unusual length; protobuf writers use 0, 3, 6 or 9 digits",
                        escape(s)
                    ),
                    format!("write it as {}", time::format(&t)),
                );
                Some(t)
            }
            Err(e) => {
                self.err(
                    "bad-timestamp",
                    path,
                    e,
                    "write an RFC 3339 UTC time such as 2025-09-04T00:00:00Z (date, `T`, time, `Z`)",
                );
                None
            }
        }
    }

    /// Checks a `validFor` TimeRange; returns (start, end, end present).
    fn time_range(&mut self, parent: &Map<String, Value>, path: &JsonPath, what: &str) -> Window {
        let p = path.key("validFor");
        let mut w = Window::default();
        let Some(v) = parent.get("validFor") else {
            self.err(
                "missing-validity",
                &p,
                format!("`validFor` is missing: clients cannot tell when {what} is valid"),
                "add validFor with at least `start`",
            );
            return w;
        };
        let Some(o) = self.object(v, &p, "validFor") else {
            return w;
        };
        self.fields(o, &p, &["start", "end"], &[]);
        match o.get("start") {
            Some(s) => w.start = self.timestamp(s, &p.key("start")),
            None => self.err(
                "missing-start",
                &p.key("start"),
                format!("`validFor.start` is missing for {what}"),
                "add the time it started being used",
            ),
        }
        if let Some(e) = o.get("end") {
            w.has_end = true;
            w.end = self.timestamp(e, &p.key("end"));
        }
        if let (Some(s), Some(e)) = (w.start, w.end)
            && e < s
        {
            self.err(
                "end-before-start",
                &p.key("end"),
                format!(
                    "the window ends ({}) before it starts ({})",
                    time::format(&e),
                    time::format(&s)
                ),
                "fix whichever of the two is wrong",
            );
        }
        w
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Window {
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    has_end: bool,
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn norm_url(u: &str) -> String {
    u.trim_end_matches('/').to_ascii_lowercase()
}

struct InstanceFacts {
    path: JsonPath,
    url: Option<String>,
    identity: Option<String>,
    window: Window,
}

/// Validates trusted_root.json bytes.
pub fn validate_trusted_root(bytes: &[u8]) -> Vec<Finding> {
    let mut cx = Ctx::default();
    let root = JsonPath::root();
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            cx.err(
                "not-json",
                &root,
                format!("not valid JSON: {e}"),
                "fix the syntax at the line and column given",
            );
            return cx.findings;
        }
    };
    let Some(o) = cx.object(&v, &root, "the trusted root") else {
        return cx.findings;
    };
    match cx.string(
        o,
        "mediaType",
        &root,
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
        let p = root.key(section.field());
        let Some(list) = cx.array(o, section.field(), &root) else {
            match section {
                Section::Tlogs => cx.err(
                    "no-tlogs",
                    &p,
                    "no transparency logs: clients cannot verify any signature".into(),
                    "add one with `trustroot sigstore trusted-root add-tlog`",
                ),
                Section::CertificateAuthorities => cx.warn(
                    "no-cas",
                    &p,
                    "no certificate authorities: keyless (Fulcio) signatures cannot be verified".into(),
                    "add one with `trustroot sigstore trusted-root add-ca` if clients verify keyless signatures",
                ),
                _ => {}
            }
            continue;
        };
        if list.is_empty() && section == Section::Tlogs {
            cx.err(
                "no-tlogs",
                &p,
                "no transparency logs: clients cannot verify any signature".into(),
                "add one with `trustroot sigstore trusted-root add-tlog`",
            );
        }
        let mut out = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let ip = p.index(i);
            let f = if section.is_log() {
                log_instance(&mut cx, item, &ip, section)
            } else {
                authority(&mut cx, item, &ip, section)
            };
            if let Some(f) = f {
                out.push(f);
            }
        }
        cross_instance(&mut cx, section, &p, &out);
        facts.insert(section.field(), out);
    }
    if facts.get("certificateAuthorities").is_some_and(|c| !c.is_empty())
        && facts.get("ctlogs").is_none_or(|c| c.is_empty())
    {
        cx.warn(
            "no-ctlogs",
            &root.key("ctlogs"),
            "certificate authorities but no CT logs: clients that check certificate transparency will reject Fulcio certificates".into(),
            "add the CT log with `trustroot sigstore trusted-root add-ctlog`",
        );
    }
    cx.findings
}

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
    operator(cx, o, path);
    let pk_path = path.key("publicKey");
    let mut window = Window::default();
    let mut parsed: Option<keys::ParsedKey> = None;
    match o.get("publicKey") {
        None => cx.err(
            "missing-field",
            &pk_path,
            "`publicKey` is missing".into(),
            "add the log's key with `trustroot sigstore trusted-root add-tlog`/`add-ctlog`",
        ),
        Some(pkv) => {
            if let Some(pk) = cx.object(pkv, &pk_path, "publicKey") {
                cx.fields(pk, &pk_path, &["rawBytes", "keyDetails", "validFor"], &[]);
                let raw = cx.string(pk, "rawBytes", &pk_path, Some("add the key's DER, base64"));
                let details = cx.string(
                    pk,
                    "keyDetails",
                    &pk_path,
                    Some("add the key details, e.g. PKIX_ECDSA_P256_SHA_256"),
                );
                let details = match details {
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
                };
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
                                    Err(e) => cx.err("bad-key", &pk_path.key("rawBytes"), e, "re-add the key from its PEM file with trustroot, which sets keyDetails from the key"),
                                }
                            }
                        }
                    }
                }
                window = cx.time_range(pk, &pk_path, &format!("this {}", section.noun()));
            }
        }
    }
    // Log ID.
    let lid_path = path.key("logId");
    let mut identity = None;
    match o.get("logId") {
        None => cx.err(
            "missing-log-id",
            &lid_path,
            "`logId` is missing: clients cannot match entries to this log (\"tlog missing log ID\", sigstore/root-signing#1565)".into(),
            expected_id_fix(&parsed, url, section),
        ),
        Some(lv) => {
            if let Some(lo) = cx.object(lv, &lid_path, "logId") {
                cx.fields(lo, &lid_path, &["keyId"], &[]);
                if let Some(kid) = cx.string(lo, "keyId", &lid_path, Some(&expected_id_fix(&parsed, url, section))) {
                    identity = Some(kid.to_string());
                    let kp = lid_path.key("keyId");
                    match keys::decode_b64(kid) {
                        Err(e) => cx.err("bad-base64", &kp, format!("keyId is {e}"), expected_id_fix(&parsed, url, section)),
                        Ok(b) if b.len() != 32 => cx.err("bad-log-id", &kp, format!("keyId is {} bytes; a log ID is a 32-byte SHA-256", b.len()), expected_id_fix(&parsed, url, section)),
                        Ok(b) => check_log_id(cx, &kp, &b, &parsed, url, section),
                    }
                }
            }
        }
    }
    if let Some(cv) = o.get("checkpointKeyId") {
        let cp = path.key("checkpointKeyId");
        if let Some(co) = cx.object(cv, &cp, "checkpointKeyId") {
            cx.fields(co, &cp, &["keyId"], &[]);
            if let Some(kid) = cx.string(co, "keyId", &cp, Some("add the 4-byte checkpoint key ID, base64")) {
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
                        ) = (&parsed, url)
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
                                "trustroot computes checkpoint key IDs for Ed25519 keys only; this one is not checked"
                                    .into(),
                                "check it against the log's signed-note key by hand",
                            );
                        }
                    }
                }
            }
        }
    }
    Some(InstanceFacts {
        path: path.clone(),
        url: url.map(norm_url),
        identity,
        window,
    })
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
        None => "add logId.keyId; `trustroot sigstore trusted-root add-tlog` computes it from the key".into(),
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

fn operator(cx: &mut Ctx, o: &Map<String, Value>, path: &JsonPath) {
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
            "add the operator, e.g. --operator sigstore.dev",
        );
    }
}

fn authority(cx: &mut Ctx, v: &Value, path: &JsonPath, section: Section) -> Option<InstanceFacts> {
    let o = cx.object(v, path, section.noun())?;
    cx.fields(o, path, &["subject", "uri", "certChain", "validFor"], &["operator"]);
    let mut recorded_subject: Option<(Option<String>, Option<String>)> = None;
    match o.get("subject") {
        None => cx.warn(
            "missing-subject",
            &path.key("subject"),
            "`subject` is missing".into(),
            "add the anchor certificate's organization and common name",
        ),
        Some(sv) => {
            if let Some(so) = cx.object(sv, &path.key("subject"), "subject") {
                cx.fields(so, &path.key("subject"), &["organization", "commonName"], &[]);
                let org = cx
                    .string(so, "organization", &path.key("subject"), None)
                    .map(str::to_string);
                let cn = cx
                    .string(so, "commonName", &path.key("subject"), None)
                    .map(str::to_string);
                recorded_subject = Some((org, cn));
            }
        }
    }
    let uri = cx.string(o, "uri", path, None);
    if o.get("uri").is_none() {
        cx.warn(
            "missing-uri",
            &path.key("uri"),
            format!("this {} has no `uri`; clients verify without it, but signing configs and operators cannot tell which service it is", section.noun()),
            "add the service URL",
        );
    }
    operator(cx, o, path);
    let window = cx.time_range(o, path, &format!("this {}", section.noun()));
    // Certificates.
    let cp = path.key("certChain");
    let mut identity = None;
    let chain_val = o.get("certChain");
    let certs_val = match chain_val {
        None => {
            cx.err(
                "missing-chain",
                &cp,
                "`certChain` is missing".into(),
                "add the chain with `trustroot sigstore trusted-root add-ca`/`add-tsa`",
            );
            None
        }
        Some(c) => cx.object(c, &cp, "certChain").and_then(|co| {
            cx.fields(co, &cp, &["certificates"], &[]);
            let a = cx.array(co, "certificates", &cp);
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
    };
    let mut parsed: Vec<ParsedCert> = Vec::new();
    let mut all_parsed = true;
    if let Some(list) = certs_val {
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
                .and_then(|d| certs::parse_cert(&d))
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
        identity = Some(ids.join(","));
    }
    if all_parsed && !parsed.is_empty() {
        let ordered: Vec<&ParsedCert> = match certs::chain_order(&parsed) {
            ChainOrder::AsListed => parsed.iter().collect(),
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
                    "list the certificates leaf-most first; `trustroot sigstore trusted-root add-ca` records chains that way",
                );
                order.iter().map(|&i| &parsed[i]).collect()
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
        };
        if let (Some(leaf), Some(anchor)) = (ordered.first(), ordered.last()) {
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
            if let Some((org, cn)) = &recorded_subject {
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
                        "record the anchor's subject, or keep it on purpose (`add-ca --subject`)",
                    );
                }
            }
            if section == Section::TimestampAuthorities && !leaf.has_time_stamping_eku() {
                cx.warn(
                    "tsa-eku",
                    &cp.key("certificates").index(0),
                    format!("the TSA leaf {} has no timeStamping extended key usage", leaf.subject),
                    "check this is the TSA's signing certificate",
                );
            }
            let latest_nb = ordered.iter().map(|c| c.not_before).max();
            let earliest_na = ordered.iter().map(|c| c.not_after).min();
            if let (Some(nb), Some(na)) = (latest_nb, earliest_na) {
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
                        cx.warn("window-before-certs", &path.key("validFor").key("start"), format!("the window starts before every certificate of the chain is valid (latest notBefore {})", time::format(&nb)), format!("start the window at {} or later", time::format(&nb)));
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
        }
    }
    Some(InstanceFacts {
        path: path.clone(),
        url: uri.map(norm_url),
        identity,
        window,
    })
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
                format!("retire the older one when the new one takes over (`trustroot sigstore trusted-root retire --{} --url {} ...`), or keep both if they are meant to overlap", section.short(), escape(url)),
            );
        }
    }
    let _ = path;
}

// ---------------------------------------------------------------------------------------
// SigningConfig

/// Validates signing config bytes; with `trusted_root`, also checks that every service the
/// config names is an instance of that trusted root.
pub fn validate_signing_config(bytes: &[u8], trusted_root: Option<&TrustedRoot>) -> Vec<Finding> {
    let mut cx = Ctx::default();
    let root = JsonPath::root();
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            cx.err(
                "not-json",
                &root,
                format!("not valid JSON: {e}"),
                "fix the syntax at the line and column given",
            );
            return cx.findings;
        }
    };
    let Some(o) = cx.object(&v, &root, "the signing config") else {
        return cx.findings;
    };
    let v01_shape = o.contains_key("caUrl") || o.contains_key("tlogUrls") || o.contains_key("oidcUrl");
    let is_v01 = match o.get("mediaType") {
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
        Some(_) => match cx.string(o, "mediaType", &root, Some("add the media type")) {
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
    };
    cx.v02 = !is_v01;
    let mut urls: Vec<(&'static str, JsonPath, String)> = Vec::new();
    if is_v01 {
        cx.fields(o, &root, &["mediaType", "caUrl", "oidcUrl", "tlogUrls", "tsaUrls"], &[]);
        for key in ["caUrl", "oidcUrl"] {
            if let Some(u) = cx.string(o, key, &root, Some("add the service URL")) {
                check_url(&mut cx, u, &root.key(key));
                urls.push((key, root.key(key), u.to_string()));
            }
        }
        for key in ["tlogUrls", "tsaUrls"] {
            let p = root.key(key);
            match cx.array(o, key, &root) {
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
                                check_url(&mut cx, s, &p.index(i));
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
    } else {
        cx.fields(
            o,
            &root,
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
        let mut counts = BTreeMap::new();
        for key in ["caUrls", "oidcUrls", "rekorTlogUrls", "tsaUrls"] {
            let p = root.key(key);
            let list = cx.array(o, key, &root);
            let n = list.map_or(0, Vec::len);
            if n == 0 && key != "tsaUrls" {
                cx.err(
                    "missing-field",
                    &p,
                    format!("`{key}` is missing or empty: clients have no service to use"),
                    "add a service with `trustroot sigstore signing-config add-service`",
                );
            }
            let mut starts: Vec<(JsonPath, DateTime<Utc>)> = Vec::new();
            let mut seen: Vec<(String, Option<u64>)> = Vec::new();
            let mut operators = Vec::new();
            for (i, s) in list.into_iter().flatten().enumerate() {
                let sp = p.index(i);
                let Some(so) = cx.object(s, &sp, "a service") else {
                    continue;
                };
                cx.fields(so, &sp, &["url", "majorApiVersion", "validFor", "operator"], &[]);
                let url = cx.string(so, "url", &sp, Some("add the service URL"));
                if let Some(u) = url {
                    check_url(&mut cx, u, &sp.key("url"));
                    urls.push((key, sp.key("url"), u.to_string()));
                }
                let ver = match so.get("majorApiVersion") {
                    None => {
                        cx.err(
                            "missing-field",
                            &sp.key("majorApiVersion"),
                            "`majorApiVersion` is missing: clients select services by API version".into(),
                            "add the service's major API version, e.g. 1",
                        );
                        None
                    }
                    Some(v) => match v.as_u64().filter(|n| *n <= u64::from(u32::MAX)) {
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
                    },
                };
                let w = cx.time_range(so, &sp, "this service");
                if let Some(s) = w.start {
                    starts.push((sp.clone(), s));
                }
                match so.get("operator") {
                    None => cx.warn(
                        "missing-operator",
                        &sp.key("operator"),
                        "the service has no `operator`: clients use it to pick at most one service per operator".into(),
                        "add the operator, e.g. sigstore.dev",
                    ),
                    Some(_) => {
                        if let Some(op) = cx.string(so, "operator", &sp, Some("write the operator, e.g. sigstore.dev"))
                        {
                            operators.push(op.to_string());
                        }
                    }
                }
                if so.get("operator").is_none() {
                    operators.push(format!("#{i}"));
                }
                if let Some(u) = url {
                    let k = (norm_url(u), ver);
                    if seen.contains(&k) {
                        cx.warn(
                            "duplicate",
                            &sp,
                            format!(
                                "{} with API version {} is listed twice",
                                escape(u),
                                ver.map_or("?".into(), |v| v.to_string())
                            ),
                            "remove one",
                        );
                    }
                    seen.push(k);
                }
            }
            for pair in starts.windows(2) {
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
            operators.sort();
            operators.dedup();
            counts.insert(key, (n, operators.len()));
        }
        for (cfg, list) in [("rekorTlogConfig", "rekorTlogUrls"), ("tsaConfig", "tsaUrls")] {
            let p = root.key(cfg);
            let (n, eligible) = counts.get(list).copied().unwrap_or((0, 0));
            match o.get(cfg) {
                None if n > 0 => cx.err(
                    "missing-field",
                    &p,
                    format!("`{cfg}` is missing: clients read it as selector UNDEFINED and refuse"),
                    format!("add \"{cfg}\": {{\"selector\": \"ANY\"}}"),
                ),
                None => {}
                Some(c) => {
                    let Some(co) = cx.object(c, &p, cfg) else { continue };
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
    }
    if let Some(tr) = trusted_root {
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
                    format!("add it to the trusted root first (`trustroot sigstore trusted-root add-{}`), or fix the URL", section.short()),
                );
            }
        }
    }
    cx.findings
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
