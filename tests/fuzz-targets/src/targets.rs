use std::collections::{BTreeMap, HashSet};
use std::path::{Component, Path};

use serde_json::Value;
use trustroot_ceremony::error::KeyError;
use trustroot_ceremony::keys::{KdfCost, PrivateKey, Zeroizing, parse_public_key};
use trustroot_ceremony::policy::Policy;
use trustroot_ceremony::round::{DetachedSignature, SigningRequest};
use trustroot_core::canonical::to_canonical_bytes;
use trustroot_core::{
    DelegatedRole, Delegations, Limits, SuccinctRoles, TimestampUpdate, TrustedSet, target_path as tp,
};
use trustroot_mirror::bundle::{BundleLimits, unpack_metadata, unpack_targets};

use crate::fixed::{self, DELEGATED, fixed, resign};
use crate::{mode, split_pattern_input};

fn has_control_chars(value: &Value) -> bool {
    match value {
        Value::String(s) => s.bytes().any(|b| b < 0x20),
        Value::Array(items) => items.iter().any(has_control_chars),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.bytes().any(|b| b < 0x20) || has_control_chars(v)),
        _ => false,
    }
}

/// Canonical JSON (core/src/canonical.rs): any JSON value serde_json reads. The encoding
/// is deterministic, and wherever no string holds a control character (canonical JSON
/// writes those raw, which ordinary JSON forbids) it is valid JSON that reads back as the
/// same value and encodes to the same bytes again.
pub fn canonical_json(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(out) = to_canonical_bytes(&value) else {
        return;
    };
    assert_eq!(
        to_canonical_bytes(&value).ok().as_ref(),
        Some(&out),
        "not deterministic"
    );
    match serde_json::from_slice::<Value>(&out) {
        Ok(again) => {
            assert_eq!(again, value, "canonical form reads back as another value");
            assert_eq!(
                to_canonical_bytes(&again).ok().as_ref(),
                Some(&out),
                "canonical form is not a fixed point"
            );
        }
        Err(e) => assert!(
            has_control_chars(&value),
            "canonical form of a value without control characters is not JSON: {e}"
        ),
    }
}

/// Target names (core/src/target_path.rs): the input as a path. A name `validate`
/// accepts maps onto a directory as plain components only, and keeps its directory when
/// given its consistent-snapshot name.
pub fn target_path(data: &[u8]) {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let (dir, base) = tp::split(path);
    assert_eq!(format!("{dir}{base}"), path);
    assert!(!base.contains('/'));
    if tp::validate(path).is_err() {
        return;
    }
    for component in Path::new(path).components() {
        assert!(
            matches!(component, Component::Normal(_)),
            "accepted {path:?} has a {component:?} component"
        );
    }
    let joined = Path::new("/base").join(path);
    assert!(joined.starts_with("/base") && joined != Path::new("/base"));
    let name = tp::consistent_name(path, "0123abcd");
    assert!(tp::validate(&name).is_ok(), "{name:?} (from {path:?}) is refused");
    assert_eq!(tp::split(&name).0, dir);
    assert_eq!(tp::split(&name).1, format!("0123abcd.{base}"));
}

/// Delegation patterns (core/src/delegation.rs): `pattern NUL target` (or one text as
/// both). Matching agrees between `path_matches`, a delegated role's `paths` and
/// `roles_for_target`; a pattern without wildcards matches exactly itself; hashed bins
/// (bit length from the pattern's length) always name one of their own bins. The
/// differential test checks the same inputs against python-tuf.
pub fn delegation_path(data: &[u8]) {
    let Some((pattern, target)) = split_pattern_input(data) else {
        return;
    };
    let matched = trustroot_core::delegation::path_matches(pattern, target);
    if !pattern.contains(['*', '?', '[']) {
        assert_eq!(matched, pattern == target, "literal pattern {pattern:?} vs {target:?}");
    }
    if pattern == target && !pattern.contains('[') {
        assert!(matched, "{pattern:?} does not match itself");
    }
    let role: DelegatedRole = serde_json::from_value(serde_json::json!({
        "name": "r",
        "keyids": [],
        "threshold": 1,
        "paths": [pattern],
    }))
    .expect("a delegated role");
    assert_eq!(role.is_delegated_path(target), matched);
    let hashed: DelegatedRole = serde_json::from_value(serde_json::json!({
        "name": "h",
        "keyids": [],
        "threshold": 1,
        "path_hash_prefixes": [pattern],
    }))
    .expect("a delegated role");
    let prefix_match = hashed.is_delegated_path(target);
    let digest = trustroot_core::hashes::sha256_hex(target.as_bytes());
    assert_eq!(prefix_match, digest.starts_with(pattern));
    let delegations = Delegations {
        keys: BTreeMap::new(),
        roles: Some(vec![role, hashed]),
        succinct_roles: None,
        unknown: Default::default(),
    };
    let found: Vec<String> = delegations.roles_for_target(target).into_iter().map(|r| r.0).collect();
    let expected: Vec<String> = [("r", matched), ("h", prefix_match)]
        .iter()
        .filter(|(_, m)| *m)
        .map(|(n, _)| n.to_string())
        .collect();
    assert_eq!(found, expected);

    let succinct = SuccinctRoles {
        keyids: Vec::new(),
        threshold: 1,
        bit_length: (pattern.len() % 40) as u32,
        name_prefix: pattern.to_string(),
        unknown: Default::default(),
    };
    let bin = succinct.bin_for_target(target);
    assert!(succinct.is_bin(&bin), "{bin:?} is not a bin of its own delegation");
    let _ = succinct.is_bin(target);
    let _ = succinct.bin_name(succinct.bin_count() - 1);
    let delegations = Delegations {
        keys: BTreeMap::new(),
        roles: None,
        succinct_roles: Some(succinct),
        unknown: Default::default(),
    };
    assert_eq!(delegations.roles_for_target(target), vec![(bin.clone(), true)]);
    assert!(delegations.role_keys(&bin).is_some());
}

fn limits() -> Limits {
    Limits::default()
}

fn new_set() -> TrustedSet {
    TrustedSet::new(&fixed().root, fixed::now(), limits()).expect("the fixed root loads")
}

/// Metadata as a root (core/src/trusted_set.rs). Mode bit 0 set: the input is first
/// re-signed with the fixed root key. The input is loaded as a starting root, and as
/// version 2 after the fixed root; whatever is accepted then has the fixed timestamp,
/// snapshot and targets loaded under it.
pub fn trusted_set_root(data: &[u8]) {
    let (m, doc) = mode(data);
    let doc = if m & 1 == 1 {
        resign(doc, &[&fixed().root_key])
    } else {
        doc.to_vec()
    };
    if let Ok(mut set) = TrustedSet::new(&doc, fixed::now(), limits()) {
        assert_eq!(set.root().bytes(), doc);
        let _ = set.consistent_snapshot();
        load_rest(&mut set);
    }
    let mut set = new_set();
    if set.update_root(&doc).is_ok() {
        assert_eq!(set.root().signed().common.version, 2);
        assert_eq!(set.root().bytes(), doc);
        assert_eq!(set.root_updates(), 1);
        let _ = set.snapshot_keys_rotated();
        load_rest(&mut set);
    }
}

fn load_rest(set: &mut TrustedSet) {
    let f = fixed();
    if set.update_timestamp(&f.timestamp).is_err() {
        return;
    }
    if set.update_snapshot(&f.snapshot, false).is_err() {
        return;
    }
    if set.update_targets(&f.targets).is_err() {
        return;
    }
    let _ = set.update_delegated_targets(&f.delegated, DELEGATED, "targets");
    find_all(set, &[]);
}

fn find_all(set: &TrustedSet, extra: &[String]) {
    let mut verified = HashSet::new();
    let mut names: Vec<String> = ["a.txt", "b.txt", "dir/c.txt", "none"].map(String::from).to_vec();
    names.extend(extra.iter().take(16).cloned());
    for name in names {
        if let Some((role, _)) = set.find_loaded_target(&name, &mut verified) {
            assert!(set.targets(&role).is_some(), "found {name:?} in unloaded role {role:?}");
        }
    }
}

fn target_names(set: &TrustedSet, role: &str) -> Vec<String> {
    set.targets(role)
        .map(|t| t.signed().targets.keys().cloned().collect())
        .unwrap_or_default()
}

/// Metadata after the fixed root (core/src/trusted_set.rs). The mode byte: bit 7 set
/// re-signs the input with the key of the role it is loaded as; bits 0-2 choose where it
/// goes: 0 timestamp, 1 snapshot (as a local copy), 2 snapshot (as fetched), 3 targets
/// (then every target it names is searched for), 4 the delegated role `d`, 5 a second
/// timestamp after the fixed one, 6 a second snapshot after the fixed one, 7 as 3.
pub fn trusted_set_chain(data: &[u8]) {
    let (m, doc) = mode(data);
    let f = fixed();
    let key = match m & 7 {
        0 | 5 => &f.timestamp_key,
        1 | 2 | 6 => &f.snapshot_key,
        4 => &f.delegated_key,
        _ => &f.targets_key,
    };
    let doc = if m & 0x80 != 0 {
        resign(doc, &[key])
    } else {
        doc.to_vec()
    };
    let mut set = new_set();
    match m & 7 {
        0 => {
            if set.update_timestamp(&doc).is_ok() {
                assert_eq!(set.timestamp().map(|t| t.bytes()), Some(doc.as_slice()));
                let _ = set.update_snapshot(&f.snapshot, false);
            }
        }
        1 | 2 => {
            set.update_timestamp(&f.timestamp).expect("the fixed timestamp loads");
            if set.update_snapshot(&doc, m & 7 == 1).is_ok() {
                assert_eq!(set.snapshot().map(|t| t.bytes()), Some(doc.as_slice()));
                assert_eq!(set.snapshot().map(|s| s.signed().common.version), Some(1));
                if set.update_targets(&f.targets).is_ok() {
                    let _ = set.update_delegated_targets(&f.delegated, DELEGATED, "targets");
                    find_all(&set, &[]);
                }
            }
        }
        4 => {
            load_fixed_targets(&mut set);
            if set.update_delegated_targets(&doc, DELEGATED, "targets").is_ok() {
                assert_eq!(set.targets(DELEGATED).map(|t| t.bytes()), Some(doc.as_slice()));
                let names = target_names(&set, DELEGATED);
                find_all(&set, &names);
            }
        }
        5 => {
            set.update_timestamp(&f.timestamp).expect("the fixed timestamp loads");
            match set.update_timestamp(&doc) {
                Ok(TimestampUpdate::Updated) => {
                    assert_eq!(set.timestamp().map(|t| t.bytes()), Some(doc.as_slice()));
                    assert!(set.timestamp().is_some_and(|t| t.signed().common.version > 1));
                }
                Ok(TimestampUpdate::Unchanged) => {
                    assert_eq!(set.timestamp().map(|t| t.bytes()), Some(f.timestamp.as_slice()));
                }
                Err(_) => {}
            }
        }
        6 => {
            set.update_timestamp(&f.timestamp).expect("the fixed timestamp loads");
            set.update_snapshot(&f.snapshot, false)
                .expect("the fixed snapshot loads");
            if set.update_snapshot(&doc, false).is_ok() {
                assert_eq!(set.snapshot().map(|t| t.bytes()), Some(doc.as_slice()));
            }
        }
        _ => {
            set.update_timestamp(&f.timestamp).expect("the fixed timestamp loads");
            set.update_snapshot(&f.snapshot, false)
                .expect("the fixed snapshot loads");
            if set.update_targets(&doc).is_ok() {
                assert_eq!(set.targets("targets").map(|t| t.bytes()), Some(doc.as_slice()));
                let _ = set.update_delegated_targets(&f.delegated, DELEGATED, "targets");
                let names = target_names(&set, "targets");
                find_all(&set, &names);
            }
        }
    }
}

fn load_fixed_targets(set: &mut TrustedSet) {
    let f = fixed();
    set.update_timestamp(&f.timestamp).expect("the fixed timestamp loads");
    set.update_snapshot(&f.snapshot, false)
        .expect("the fixed snapshot loads");
    set.update_targets(&f.targets).expect("the fixed targets load");
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("trustroot-fuzz-")
        .tempdir()
        .expect("a temporary directory")
}

/// Every regular file under `dir` (relative path, length); panics on anything else.
fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, u64>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let entry = entry.expect("readable");
        let meta = std::fs::symlink_metadata(entry.path()).expect("readable");
        let name = entry.file_name().into_string().expect("UTF-8 names");
        let relative = format!("{prefix}{name}");
        if meta.is_dir() {
            walk(&entry.path(), &format!("{relative}/"), out);
        } else {
            assert!(meta.is_file(), "unpack made {relative:?}, not a plain file");
            out.insert(relative, meta.len());
        }
    }
}

/// The one target the bundle fuzzer's verified metadata calls for: `targets/file.txt`,
/// five bytes, `hello`.
fn bundle_wanted() -> BTreeMap<String, (String, trustroot_core::TargetFile)> {
    let info = trustroot_core::TargetFile {
        length: 5,
        hashes: [("sha256".to_string(), trustroot_core::hashes::sha256_hex(b"hello"))].into(),
        custom: None,
        unknown: Default::default(),
    };
    [("targets/file.txt".to_string(), ("file.txt".to_string(), info))].into()
}

/// Bundle unpacking (mirror/src/bundle/import.rs `unpack_metadata`, then `unpack_targets` as an
/// import runs them once the metadata verified): the input is the bundle file (tar, or
/// zstd-compressed tar), unpacked into a fresh empty directory with small limits, the
/// verified metadata calling for one target ([`bundle_wanted`]). When it is accepted, the
/// directory holds exactly the metadata members and, if the bundle has it, that target
/// with its verified length; nothing outside it was written (the scratch directory holds
/// only the bundle and the target directory).
pub fn bundle_unpack(data: &[u8]) {
    let scratch = scratch();
    let bundle = scratch.path().join("bundle.tar");
    std::fs::write(&bundle, data).expect("writable");
    let into = scratch.path().join("into");
    std::fs::create_dir(&into).expect("writable");
    let limits = BundleLimits {
        max_files: 64,
        max_file_size: 1 << 20,
        max_total_size: 4 << 20,
    };
    let wanted = bundle_wanted();
    let result = unpack_metadata(&bundle, &into, &limits, &Limits::default())
        .and_then(|metadata| unpack_targets(&bundle, &into, &limits, &metadata, &wanted).map(|_| metadata));
    let mut outside = BTreeMap::new();
    walk(scratch.path(), "", &mut outside);
    assert!(
        outside.keys().all(|p| p == "bundle.tar" || p.starts_with("into/")),
        "unpack wrote outside its directory: {outside:?}"
    );
    if let Ok(metadata) = result {
        let mut files = BTreeMap::new();
        walk(&into, "", &mut files);
        let mut listed: BTreeMap<String, u64> = metadata.iter().map(|(p, f)| (p.clone(), f.length)).collect();
        if files.contains_key("targets/file.txt") {
            listed.insert("targets/file.txt".to_string(), 5);
        }
        assert_eq!(
            files, listed,
            "the unpacked tree is not the metadata and the wanted target"
        );
    }
}

/// Re-computes a request's digests, so inputs get past them to the checks behind.
fn fix_request_digests(bytes: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let mut request: SigningRequest = serde_json::from_slice(bytes).ok()?;
    for role in &mut request.roles {
        if let Ok(signed) = base64::engine::general_purpose::STANDARD.decode(&role.signed) {
            role.signed_sha256 = trustroot_core::hashes::sha256_hex(&signed);
        }
    }
    request.request_sha256 = String::new();
    let value = serde_json::to_value(&request).ok()?;
    request.request_sha256 = trustroot_core::hashes::sha256_hex(&to_canonical_bytes(&value).ok()?);
    serde_json::to_vec_pretty(&request).ok()
}

/// Signing requests (ceremony/src/round.rs `SigningRequest::load`, the public entry as it
/// is: it reads a file). Mode bit 0 set: the request's digests are first recomputed.
/// An accepted request's role bytes match their digests.
pub fn signing_request(data: &[u8]) {
    let (m, doc) = mode(data);
    let doc = if m & 1 == 1 {
        fix_request_digests(doc).unwrap_or_else(|| doc.to_vec())
    } else {
        doc.to_vec()
    };
    let scratch = scratch();
    let path = scratch.path().join("request.json");
    std::fs::write(&path, &doc).expect("writable");
    if let Ok((request, bytes)) = SigningRequest::load(&path) {
        assert_eq!(request.roles.len(), bytes.len());
        for (role, bytes) in request.roles.iter().zip(&bytes) {
            assert_eq!(trustroot_core::hashes::sha256_hex(bytes), role.signed_sha256);
        }
    }
}

/// Detached signature files (ceremony/src/round.rs `DetachedSignature::parse`). An
/// accepted file's name is one path segment (no `/`, not `.` or `..`, no control
/// characters), and it reads back the same after a round trip.
pub fn signature_file(data: &[u8]) {
    let Ok(sig) = DetachedSignature::parse(Path::new("fuzz.sig.json"), data) else {
        return;
    };
    let name = sig.file_name();
    assert!(
        !name.contains('/') && name != "." && name != ".." && !name.chars().any(char::is_control),
        "signature file name {name:?}"
    );
    let again = serde_json::to_vec(&sig).expect("serialisable");
    let back = DetachedSignature::parse(Path::new("again"), &again).expect("a parsed signature parses again");
    assert_eq!(back, sig);
}

/// `trustroot.toml` (ceremony/src/policy.rs `Policy::parse`), then everything that reads
/// a parsed policy. An accepted policy serialises and parses back the same.
pub fn policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::parse(text) else {
        return;
    };
    let _ = policy.check_complete();
    let mut roles: Vec<String> = ["root", "targets", "snapshot", "timestamp"].map(String::from).to_vec();
    roles.extend(policy.delegations.keys().cloned());
    for role in &roles {
        let _ = policy.periods(role);
        let _ = policy.min_valid_days(role);
        let _ = policy.signers(role);
        let _ = policy.delegation_of_bin(role);
    }
    if let Ok(again) = toml::to_string(&policy) {
        let back = Policy::parse(&again).expect("a serialised policy parses again");
        assert_eq!(back, policy);
    }
}

/// The largest scrypt memory (128 r N p bytes) and PBKDF2 iteration count the harness
/// decrypts with: anything dearer gets no passphrase, so no input costs more than a few
/// milliseconds (the product's own caps, 4 GiB and 10,000,000, are far above).
pub const FUZZ_MAX_SCRYPT_MEMORY: u64 = 1 << 20;
pub const FUZZ_MAX_PBKDF2_ITERATIONS: u32 = 2048;

/// Whether the harness gives an encrypted PEM key its passphrase: only when its key
/// derivation is cheap (see [`FUZZ_MAX_SCRYPT_MEMORY`]).
fn cheap_kdf(pem: &[u8]) -> bool {
    use pkcs8::pkcs5::{EncryptionScheme, pbes2::Kdf};
    let Ok((_, der)) = pkcs8::der::pem::decode_vec(pem) else {
        return false;
    };
    let Ok(info) = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice()) else {
        return false;
    };
    let EncryptionScheme::Pbes2(params) = &info.encryption_algorithm else {
        return false;
    };
    match &params.kdf {
        Kdf::Scrypt(s) => {
            128u64
                .saturating_mul(u64::from(s.block_size))
                .saturating_mul(s.cost_parameter)
                .saturating_mul(u64::from(s.parallelization))
                <= FUZZ_MAX_SCRYPT_MEMORY
        }
        Kdf::Pbkdf2(p) => p.iteration_count <= FUZZ_MAX_PBKDF2_ITERATIONS,
        _ => false,
    }
}

/// The passphrase of the encrypted seed keys.
pub const FUZZ_PASSPHRASE: &str = "fuzz";

/// PKCS#8 and public key files (ceremony/src/keys.rs `PrivateKey::from_pkcs8_pem` and
/// `parse_public_key`). Encrypted keys get the passphrase `fuzz` when their key
/// derivation is cheap. An accepted private key re-encodes and reads back as the same
/// key, and its public PEM reads as its public key; an accepted public key is usable.
pub fn pkcs8_key(data: &[u8]) {
    let cheap = cheap_kdf(data);
    let mut passphrase = || {
        if cheap {
            Ok(Zeroizing::new(FUZZ_PASSPHRASE.to_string()))
        } else {
            // Too dear a key derivation for the fuzzer: as if nobody could type a passphrase.
            Err(KeyError::NoPassphraseSource { what: "fuzz".into() }.into())
        }
    };
    if let Ok(key) = PrivateKey::from_pkcs8_pem("fuzz", data, &mut passphrase) {
        let public = key.public_key();
        let pem = key.public_pem().expect("a loaded key has a public PEM");
        let parsed = parse_public_key("fuzz", pem.as_bytes()).expect("its public PEM reads");
        assert!(trustroot_ceremony::keys::same_key(&parsed, &public));
        let plain = key
            .to_pkcs8_pem(
                None,
                KdfCost {
                    log_n: KdfCost::MIN_LOG_N,
                },
            )
            .expect("a loaded key encodes");
        let mut none = || -> trustroot_ceremony::Result<Zeroizing<String>> {
            Err(KeyError::NoPassphraseSource {
                what: "an unencrypted key".into(),
            }
            .into())
        };
        let back = PrivateKey::from_pkcs8_pem("again", plain.as_bytes(), &mut none).expect("it reads back");
        assert_eq!(back.public_key(), public);
    }
    if let Ok(key) = parse_public_key("fuzz", data) {
        assert!(key.public_key().is_ok(), "parse_public_key accepted an unusable key");
        let _ = key.computed_key_id();
    }
}

/// The Sigstore trusted_root.json validator (targets/src/sigstore/validate.rs).
pub fn sigstore_trusted_root(data: &[u8]) {
    let findings = trustroot_targets::sigstore::validate::validate_trusted_root(data);
    for finding in &findings {
        let _ = finding.to_string();
    }
    let _ = trustroot_targets::sigstore::validate::has_errors(&findings);
}

/// The signing_config validator (targets/src/sigstore/validate.rs). Mode bit 0 set: it
/// is validated against the trusted root of the fixed Sigstore seed (data/), else alone.
pub fn sigstore_signing_config(data: &[u8]) {
    let (m, doc) = mode(data);
    let root = if m & 1 == 1 {
        static ROOT: std::sync::OnceLock<Option<trustroot_targets::sigstore::trusted_root::TrustedRoot>> =
            std::sync::OnceLock::new();
        ROOT.get_or_init(|| serde_json::from_slice(include_bytes!("../data/trusted_root.json")).ok())
            .as_ref()
    } else {
        None
    };
    let findings = trustroot_targets::sigstore::validate::validate_signing_config(doc, root);
    for finding in &findings {
        let _ = finding.to_string();
    }
}

/// A key reference (`KeyRef::parse`: files, `env:`, `pkcs11:` URIs, `awskms:`). A parsed
/// `pkcs11:` URI's token, label and id, written back as a URI, parse to the same values;
/// a refused URI never repeats the value of a `pin-value` in its error.
pub fn key_reference(data: &[u8]) {
    use trustroot_ceremony::keys::KeyRef;
    use trustroot_ceremony::keys::pkcs11::Pkcs11Uri;
    let Ok(text) = std::str::from_utf8(data) else { return };
    match KeyRef::parse(text) {
        Ok(KeyRef::Pkcs11(uri)) => {
            let token = uri.token.clone().unwrap_or_default();
            let again = Pkcs11Uri::parse(&Pkcs11Uri::for_object(
                &token,
                uri.object.as_deref(),
                uri.id.as_deref(),
                "private",
            ))
            .expect("a URI written from parsed values parses");
            assert_eq!(again.token.unwrap_or_default(), token);
            assert_eq!(again.object, uri.object);
            assert_eq!(again.id, uri.id);
        }
        Ok(_) => {}
        Err(error) => {
            let message = error.to_string();
            for secret in text.split(['?', '&']).filter_map(|a| a.strip_prefix("pin-value=")) {
                // Only a value that occurs nowhere else in the reference can be told apart.
                if secret.len() >= 4 && text.matches(secret).count() == 1 {
                    assert!(!message.contains(secret), "the PIN {secret:?} is in {message:?}");
                }
            }
        }
    }
}

/// The key Sigstore's keyholder 13078778 registered with its YubiKey attestation: the key
/// the `yubikey_attestation` target checks attestations against.
const ATTESTED_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEy8XKsmhBYDI8Jc0GwzBxeKax0cm5
STKEU65HPFunUn41sT8pi0FjM4IkHz/YUmwmLUO0Wt7lxhj6BkLIK4qYAw==
-----END PUBLIC KEY-----
";

/// A YubiKey PIV attestation (`ceremony/src/attestation/`): `KEY_CERT NUL DEVICE_CERT` (the
/// whole input as both when there is no NUL), verified against Yubico's embedded roots at
/// 2025-06-01 for [`ATTESTED_KEY`]. An accepted attestation is of that key and names a
/// slot and a firmware version.
pub fn yubikey_attestation(data: &[u8]) {
    let (key_cert, device_cert) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, data),
    };
    let key = parse_public_key("fuzz", ATTESTED_KEY.as_bytes()).expect("the fixed key reads");
    let now = chrono::DateTime::from_timestamp(1_748_736_000, 0).expect("a time");
    if let Ok(attested) = trustroot_ceremony::attestation::verify(key_cert, device_cert, &key, now) {
        assert_eq!(attested.slot.len(), 2);
        assert_eq!(attested.firmware.split('.').count(), 3);
    }
}

/// The keyless verifier (core/src/keyless/): the input as a signature entry's Sigstore
/// bundle, over the conformance suite's signed artifact (tests/fixtures/keyless), for the
/// identity that signed the real bundles there, against Sigstore's production trusted
/// root (data/) at a fixed time. A bundle that verifies names a signing time that is not
/// in the future.
pub fn keyless_bundle(data: &[u8]) {
    use trustroot_core::keyless::{self, SigstoreTrust};
    static TRUST: std::sync::OnceLock<SigstoreTrust> = std::sync::OnceLock::new();
    let trust = TRUST.get_or_init(|| {
        SigstoreTrust::from_json(include_bytes!("../data/trusted_root.json"))
            .expect("the production trusted root reads")
    });
    let Ok(bundle) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let sig = bundle
        .pointer("/messageSignature/signature")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let entry = trustroot_core::envelope::Signature {
        keyid: "k".into(),
        sig,
        bundle: Some(bundle),
    };
    let who = trustroot_core::keys::KeylessIdentity {
        identity: "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main".into(),
        issuer: "https://token.actions.githubusercontent.com".into(),
    };
    let message = include_bytes!("../../fixtures/keyless/conformance/a.txt");
    let now = fixed::now();
    match keyless::verify(trust, &who, message, &entry, now) {
        Ok(verified) => assert!(verified.signing_time <= now + chrono::Duration::minutes(5)),
        Err(refusal) => {
            let _ = refusal.to_string();
        }
    }
}
