//! `Envelope::parse_outline` (canonical bytes written while reading, no `Value` of `signed`)
//! against `Envelope::parse` (a strict `Value`, then `to_canonical_bytes`): every document
//! must read the same, byte for byte, or be refused with the same error, and the typed
//! role read by `Role::from_document` must equal the one read from the `Value`.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;

use trustroot_core::envelope::Signature;
use trustroot_core::metadata::Role;
use trustroot_core::{Envelope, ErrorKind, Limits, MalformedProblem, Root, Snapshot, Targets, Timestamp};

/// What a parse gives, comparable: the canonical bytes, `_type`, `version` and signatures,
/// or the error (all of it, role and version included).
type Outcome = Result<(Vec<u8>, Option<String>, Option<u64>, Vec<Signature>), String>;

fn outcome(result: trustroot_core::Result<Envelope>) -> Outcome {
    result
        .map(|e| {
            let (role_type, version) = (e.role_type().map(str::to_owned), e.version());
            (e.signed_bytes().to_vec(), role_type, version, e.signatures)
        })
        .map_err(|e| format!("{e:?} / {e}"))
}

/// Parses `bytes` both ways, asserts they agree, and gives the outcome.
fn both(bytes: &[u8]) -> Outcome {
    let limits = Limits::default();
    let value = outcome(Envelope::parse("targets", bytes, &limits));
    let streamed = outcome(Envelope::parse_outline("targets", bytes, &limits));
    assert_eq!(value, streamed, "read differently: {}", String::from_utf8_lossy(bytes));
    streamed
}

/// `signed` (JSON text) in an envelope with no signatures.
fn with_signed(signed: &str) -> Vec<u8> {
    format!(r#"{{"signatures": [], "signed": {signed}}}"#).into_bytes()
}

/// The canonical bytes of `signed`, read both ways (which must agree).
fn canonical(signed: &str) -> Outcome {
    both(&with_signed(signed))
}

fn refused_json(outcome: &Outcome) -> bool {
    outcome
        .as_ref()
        .is_err_and(|e| e.contains("RefusedJson") && e.contains("appears twice"))
}

/// The typed role read both ways: equal roles, or the same error.
fn typed_both<T: Role + PartialEq + std::fmt::Debug>(name: &str, bytes: &[u8]) {
    let limits = Limits::default();
    let from_value = Envelope::parse(name, bytes, &limits)
        .and_then(|mut envelope| T::from_envelope_taking(name, &mut envelope))
        .map_err(|e| format!("{e:?} / {e}"));
    let from_document = Envelope::parse_outline(name, bytes, &limits)
        .and_then(|envelope| T::from_document(name, &envelope, bytes))
        .map_err(|e| format!("{e:?} / {e}"));
    assert_eq!(
        from_value,
        from_document,
        "typed differently: {}",
        String::from_utf8_lossy(bytes)
    );
}

fn json_files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "json") {
            found.push(path);
        }
    }
}

#[test]
fn every_json_file_in_the_sigstore_fixtures_reads_the_same_streamed() {
    let fixtures = common::unpack();
    let mut files = Vec::new();
    json_files(fixtures.path(), &mut files);
    assert!(
        files.len() > 200,
        "only {} JSON files in the fixture archive",
        files.len()
    );
    let mut verified_envelopes = 0;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        if both(&bytes).is_ok() {
            verified_envelopes += 1;
        }
        // The whole file as `signed` too: its `signed`, `signatures` and bundles, and the
        // target files (Sigstore's trusted_root.json...), through the canonicalizer.
        let mut wrapped = b"{\"signatures\": [], \"signed\": ".to_vec();
        wrapped.extend_from_slice(&bytes);
        wrapped.push(b'}');
        both(&wrapped).ok();
        let name = path.file_name().unwrap().to_string_lossy();
        match name.rsplit('.').nth(1) {
            Some("root") => typed_both::<Root>("root", &bytes),
            Some("timestamp") => typed_both::<Timestamp>("timestamp", &bytes),
            Some("snapshot") => typed_both::<Snapshot>("snapshot", &bytes),
            _ => typed_both::<Targets>("targets", &bytes),
        }
    }
    assert!(verified_envelopes > 150, "only {verified_envelopes} envelopes read");
}

#[test]
fn duplicate_key_smuggling_at_the_top_of_signed_is_refused() {
    assert!(refused_json(&canonical(
        r#"{"_type": "targets", "version": 1, "version": 2}"#
    )));
}

#[test]
fn duplicate_key_smuggling_three_objects_deep_is_refused() {
    assert!(refused_json(&canonical(
        r#"{"delegations": {"keys": {"k": {"keytype": "ed25519", "keytype": "rsa"}}}}"#
    )));
}

#[test]
fn duplicate_key_smuggling_inside_a_target_custom_field_is_refused() {
    let signed =
        r#"{"targets": {"f": {"length": 1, "hashes": {}, "custom": {"a": [{"x": 1, "y": {"z": 1, "z": 2}}]}}}}"#;
    assert!(refused_json(&canonical(signed)));
}

#[test]
fn duplicate_key_smuggling_with_an_escaped_key_that_unescapes_to_the_same_is_refused() {
    assert!(refused_json(&canonical(r#"{"a": 1, "\u0061": 2}"#)));
    assert!(refused_json(&canonical(r#"{"t": {"\u00e9": 1, "é": 2}}"#)));
}

#[test]
fn a_second_signed_member_smuggled_into_the_envelope_is_refused() {
    let bytes = br#"{"signed": {"_type": "targets"}, "signatures": [], "signed": {"_type": "root"}}"#;
    assert!(refused_json(&both(bytes)));
}

#[test]
fn duplicate_key_smuggling_in_a_signature_entry_or_an_unknown_member_is_refused() {
    assert!(refused_json(&both(
        br#"{"signed": {}, "signatures": [{"keyid": "a", "sig": "", "keyid": "b"}]}"#
    )));
    assert!(refused_json(&both(
        br#"{"signed": {}, "signatures": [], "extra": {"a": 1, "a": 2}}"#
    )));
    assert!(refused_json(&both(br#"[{"a": 1, "a": 2}]"#)));
}

#[test]
fn a_repeated_key_is_refused_before_a_later_number_or_syntax_error() {
    // As read by the strict parser: the first problem in the text wins, and a repeated key
    // beats a float anywhere (floats are refused only once the document is read).
    assert!(refused_json(&canonical(r#"{"a": 1.5, "b": {"c": 1, "c": 2}}"#)));
    assert!(refused_json(&both(
        br#"{"signed": {"c": 1, "c": 2}, "signatures": [ nonsense"#
    )));
    let later = both(br#"{"signed": {"c": 1, "d": 2}, "signatures": [ nonsense, "x": {"c": 1, "c": 2}"#);
    assert!(later.is_err_and(|e| e.contains("NotJson")));
}

#[test]
fn keys_are_sorted_by_their_unescaped_utf8_bytes() {
    let (bytes, ..) = canonical(r#"{"\u0062": 1, "a": 2, "é": 3, "Z": 4, "\"q": 5, "\\": 6, "": 7}"#).unwrap();
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "{\"\":7,\"\\\"q\":5,\"Z\":4,\"\\\\\":6,\"a\":2,\"b\":1,\"é\":3}"
    );
    // Many members out of order, at several depths.
    let members: Vec<String> = (0..2000)
        .map(|i| format!(r#""k{}": {{"z": {i}, "a": [{{"y": 1, "b": 2}}]}}"#, (i * 7919) % 2000))
        .collect();
    canonical(&format!("{{{}}}", members.join(","))).unwrap();
}

#[test]
fn non_ascii_control_characters_and_escapes_in_strings_are_written_as_canonical_json_writes_them() {
    let signed = r#"{"s": "\u00e9\u20ac\ud83d\ude00 \" \\ \/ \b\f\n\r\t \u0000 \u001f é 😀 \u202e"}"#;
    let (bytes, ..) = canonical(signed).unwrap();
    assert!(
        bytes.contains(&0u8) && bytes.contains(&b'\n'),
        "control characters are written raw"
    );
}

#[test]
fn numbers_are_accepted_and_refused_as_before() {
    let accepted = [
        "0",
        "-1",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
        "-9223372036854775808",
    ];
    for n in accepted {
        let (bytes, ..) = canonical(&format!(r#"{{"n": {n}, "a": [{n}]}}"#)).unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), format!(r#"{{"a":[{n}],"n":{n}}}"#));
    }
    let refused = [
        ("-0", "negative zero"),
        ("1.0", "floating"),
        ("1e3", "floating"),
        ("1.5", "floating"),
        ("-9223372036854775809", "outside that range"),
        ("18446744073709551616", "outside that range"),
        ("1e20", "outside that range"),
    ];
    for (n, why) in refused {
        let err = canonical(&format!(r#"{{"version": 3, "custom": [{{"n": {n}}}]}}"#)).unwrap_err();
        assert!(err.contains("Canonical") && err.contains(why), "{n}: {err}");
        assert!(err.contains("version: Some(3)"), "the version is named: {err}");
    }
    // Beyond f64: not JSON serde_json reads, either way.
    assert!(canonical(r#"{"n": 1e400}"#).unwrap_err().contains("NotJson"));
}

#[test]
fn of_two_numbers_with_no_canonical_form_the_first_in_canonical_order_is_named() {
    // `to_canonical_bytes` walks keys sorted: "a" (1.5) before "b" (-0), though -0 is read first.
    let err = canonical(r#"{"b": -0, "a": 1.5}"#).unwrap_err();
    assert!(err.contains("1.5"), "{err}");
    let err = canonical(r#"{"z": [2.5], "m": "!0 \"!1", "a": {"y": -0, "b": [1, 7.5]}}"#).unwrap_err();
    assert!(err.contains("7.5"), "{err}");
}

#[test]
fn deep_nesting_is_accepted_and_refused_at_the_same_depth() {
    for depth in [1, 100, 125, 126, 127, 128, 200] {
        let arrays = format!("{{\"a\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
        canonical(&arrays).ok();
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        canonical(&objects).ok();
    }
    let nested = |depth: usize| format!("{{\"a\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
    assert!(canonical(&nested(100)).is_ok());
    assert!(canonical(&nested(200)).unwrap_err().contains("recursion limit"));
}

#[test]
fn empty_objects_and_arrays_are_written_as_they_are() {
    let (bytes, ..) =
        canonical(r#"{ "b" : [ ] , "a" : { } , "c" : [ { } , [ ] , [ [ ] ] ] , "d": {"e": {}} }"#).unwrap();
    assert_eq!(bytes, br#"{"a":{},"b":[],"c":[{},[],[[]]],"d":{"e":{}}}"#);
    canonical("{}").unwrap();
}

#[test]
fn envelopes_that_are_not_metadata_are_refused_the_same_way() {
    for text in [
        "",
        "[]",
        "1",
        "\"signed\"",
        "null",
        "{}",
        r#"{"signed": []}"#,
        r#"{"signed": "x", "signatures": []}"#,
        r#"{"signed": {"version": 4}}"#,
        r#"{"signed": {"version": 4}, "signatures": {}}"#,
        r#"{"signed": {"version": 4}, "signatures": [{"keyid": "a"}]}"#,
        r#"{"signed": {"version": 4}, "signatures": [{"keyid": "a", "sig": ""}, {"keyid": "a", "sig": ""}]}"#,
        r#"{"signed": {}, "signatures": []} trailing"#,
        r#"{"signed": {"a": 1,}, "signatures": []}"#,
        r#"{"signed": {"a": "\ud800"}, "signatures": []}"#,
        r#"{"signed": {"_type": ["targets"], "version": -1}, "signatures": []}"#,
        r#"{"signed": {"_type": 1, "version": "1"}, "signatures": []}"#,
    ] {
        both(text.as_bytes()).ok();
    }
    let err = both(br#"{"signed": {"version": 4}}"#).unwrap_err();
    assert!(
        err.contains("NoSignatures") && err.contains("version: Some(4)"),
        "{err}"
    );
}

#[test]
fn the_outline_answers_type_and_version_as_the_value_did() {
    let (_, role_type, version, _) =
        canonical(r#"{"_type": "targets", "version": 7, "x": {"_type": "root", "version": 9}}"#).unwrap();
    assert_eq!((role_type.as_deref(), version), (Some("targets"), Some(7)));
    let (_, role_type, version, _) = canonical(r#"{"_type": {"a": "b"}, "version": [1]}"#).unwrap();
    assert_eq!((role_type, version), (None, None));
}

/// A targets role with `signed` as given (signatures are not what these tests read).
fn targets_role(signed: &str) -> Vec<u8> {
    with_signed(signed)
}

#[test]
fn typed_roles_and_their_field_errors_are_the_same_read_from_the_document() {
    let good = r#"{"_type": "targets", "spec_version": "1.0.31", "version": 2, "expires": "2030-01-01T00:00:00Z",
        "targets": {"a/b.txt": {"length": 3, "hashes": {"sha256": "00"}, "custom": {"k": [1, {"x": null}]}, "extra": true}},
        "unknown_top": {"kept": "yes"}}"#;
    typed_both::<Targets>("targets", &targets_role(good));
    let document = targets_role(good);
    let envelope = Envelope::parse_outline("targets", &document, &Limits::default()).unwrap();
    let role = Targets::from_document("targets", &envelope, &document).unwrap();
    assert!(role.unknown.contains_key("unknown_top") && role.targets["a/b.txt"].unknown.contains_key("extra"));
    for bad in [
        r#"{"_type": "targets", "spec_version": "1.0.31", "version": 2, "expires": "2030-01-01T00:00:00Z", "targets": 5}"#,
        r#"{"_type": "targets", "spec_version": "1.0.31", "version": 2, "expires": "2030-01-01T00:00:00Z", "targets": {"f": {"length": "3", "hashes": {}}}}"#,
        r#"{"_type": "targets", "spec_version": "1.0.31", "version": 2, "expires": "2030-01-01T00:00:00Z", "targets": {"f": {"length": 3}}}"#,
        r#"{"_type": "targets", "spec_version": "1.0.31", "version": 2, "targets": {}}"#,
        r#"{"_type": "targets", "spec_version": "1.0.31", "version": 2, "expires": "tomorrow", "targets": {}}"#,
        r#"{"_type": "targets", "spec_version": "1.0.31", "version": -2, "expires": "2030-01-01T00:00:00Z", "targets": {}}"#,
        r#"{"_type": "targets", "spec_version": "1.0.31", "version": 0, "expires": "2030-01-01T00:00:00Z", "targets": {}}"#,
        r#"{"_type": "targets", "spec_version": "2.0.0", "version": 2, "expires": "2030-01-01T00:00:00Z", "targets": {}}"#,
        r#"{"_type": "root", "spec_version": "1.0.31", "version": 2, "expires": "2030-01-01T00:00:00Z", "targets": {}}"#,
        r#"{"spec_version": "1.0.31", "version": 2, "expires": "2030-01-01T00:00:00Z", "targets": {}}"#,
        r#"{"_type": "targets", "spec_version": "1.0.31", "version": 2, "expires": "2030-01-01T00:00:00Z", "targets": {},
            "delegations": {"keys": {}, "roles": [{"name": "r", "keyids": [], "threshold": 0, "paths": ["*"]}]}}"#,
        r#"{"_type": "targets", "spec_version": "1.0.31", "version": 2, "expires": "2030-01-01T00:00:00Z", "targets": {},
            "delegations": {"keys": {}, "roles": [{"name": "r", "keyids": "k", "threshold": 1}]}}"#,
    ] {
        typed_both::<Targets>("targets", &targets_role(bad));
    }
}

#[test]
fn a_document_refused_as_json_names_the_problem_kind() {
    let err = Envelope::parse_outline("targets", &with_signed(r#"{"a": 1, "a": 1}"#), &Limits::default()).unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Malformed(MalformedProblem::RefusedJson { .. })),
        "{err}"
    );
}
