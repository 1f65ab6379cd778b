//! Every quirk of real Sigstore metadata that a client must tolerate
//! (reference: sigstore-trust-root.md section 4.4), each checked on the real bytes.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::at;
use trustroot_core::keys::PublicKey;
use trustroot_core::metadata::Role;
use trustroot_core::verify::{KeyStatus, check_signatures};
use trustroot_core::{Envelope, Limits, Root, Snapshot, Targets, Timestamp, TrustedSet};

struct Fixtures(tempfile::TempDir);

impl Fixtures {
    fn new() -> Self {
        Fixtures(common::unpack())
    }

    fn bytes(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.0.path().join(path)).unwrap()
    }

    fn envelope(&self, path: &str) -> Envelope {
        Envelope::parse(path, &self.bytes(path), &Limits::default()).unwrap()
    }

    fn prod_root(&self, version: u64) -> (Envelope, Root) {
        let envelope = self.envelope(&format!(
            "sigstore-prod/source/metadata/root_history/{version}.root.json"
        ));
        let root = Root::from_envelope("root", &envelope).unwrap();
        (envelope, root)
    }
}

fn self_check(envelope: &Envelope, root: &Root) -> trustroot_core::verify::ThresholdReport {
    let role = &root.roles["root"];
    check_signatures(envelope, &root.keys, &role.keyids, role.threshold, None)
}

#[test]
fn quirk_01_key_id_that_is_not_the_key_hash_is_taken_as_given() {
    let f = Fixtures::new();
    let (_, root10) = f.prod_root(10);
    assert!(root10.keys.iter().all(|(id, key)| key.computed_key_id() == *id));
    let (envelope11, root11) = f.prod_root(11);
    let mismatched: Vec<&String> = root11
        .keys
        .iter()
        .filter(|(id, k)| k.computed_key_id() != **id)
        .map(|(id, _)| id)
        .collect();
    assert_eq!(mismatched.len(), 1);
    assert!(mismatched[0].starts_with("7247f0db"));
    assert!(self_check(&envelope11, &root11).is_met());
    for version in [5, 6, 7, 8] {
        let path = format!("sigstore-staging/source/metadata/root_history/{version}.root.json");
        let root = Root::from_envelope("root", &f.envelope(&path)).unwrap();
        assert!(
            root.keys.iter().any(|(id, k)| k.computed_key_id() != *id),
            "staging v{version}"
        );
    }
}

#[test]
fn quirk_02_empty_signature_placeholders_count_as_missing() {
    let f = Fixtures::new();
    let (envelope, root) = f.prod_root(12);
    assert_eq!(envelope.signatures.iter().filter(|s| s.sig.is_empty()).count(), 2);
    let report = self_check(&envelope, &root);
    assert!(report.is_met());
    assert_eq!(report.keys.iter().filter(|(_, s)| *s == KeyStatus::Invalid).count(), 2);
}

#[test]
fn quirk_03_expires_with_offsets_fractions_and_nanoseconds() {
    let f = Fixtures::new();
    assert_eq!(f.prod_root(1).1.common.expires, at("2021-12-18T19:28:12.990080Z"));
    assert_eq!(f.prod_root(2).1.common.expires, at("2022-05-11T19:09:02.663975009Z"));
    assert_eq!(f.prod_root(3).1.common.expires, at("2022-11-10T21:58:09.733402317Z"));
}

#[test]
fn quirk_04_hex_keys_old_keytype_with_pem_and_ecdsa_with_pem() {
    let f = Fixtures::new();
    for (version, keytype, pem) in [
        (1, "ecdsa-sha2-nistp256", false),
        (5, "ecdsa-sha2-nistp256", true),
        (9, "ecdsa", true),
    ] {
        let (_, root) = f.prod_root(version);
        for key in root.roles["root"].keyids.iter().filter_map(|id| root.keys.get(id)) {
            assert_eq!(key.keytype, keytype, "v{version}");
            assert_eq!(
                key.keyval.public.as_deref().unwrap().starts_with("-----BEGIN"),
                pem,
                "v{version}"
            );
            assert!(matches!(key.public_key(), Ok(PublicKey::EcdsaP256(_))), "v{version}");
        }
    }
}

#[test]
fn quirk_05_metafiles_without_length_or_hashes() {
    let f = Fixtures::new();
    let timestamp =
        Timestamp::from_envelope("timestamp", &f.envelope("sigstore-prod/source/metadata/timestamp.json")).unwrap();
    let meta = timestamp.snapshot_meta().unwrap();
    assert_eq!((meta.version, meta.length, meta.hashes.is_none()), (165, None, true));
}

#[test]
fn quirk_06_snapshot_lists_roles_that_no_longer_exist() {
    let f = Fixtures::new();
    let snapshot =
        Snapshot::from_envelope("snapshot", &f.envelope("sigstore-prod/source/metadata/snapshot.json")).unwrap();
    for retired in ["rekor.json", "revocation.json", "staging.json", "root.json"] {
        assert!(snapshot.meta.contains_key(retired), "{retired}");
    }
}

#[test]
fn quirk_07_signatures_from_keys_the_root_does_not_list_are_ignored() {
    let f = Fixtures::new();
    for version in [5, 9, 10] {
        let (envelope, root) = f.prod_root(version);
        let report = self_check(&envelope, &root);
        assert!(!report.unlisted_signatures.is_empty(), "v{version}");
        assert!(report.is_met(), "v{version}");
    }
}

#[test]
fn quirk_07_same_key_under_two_ids_counts_once() {
    // Root v9 lists each keyholder key under an old-type and a new-type ID; a threshold
    // counts distinct keys, and v9 still meets its threshold with distinct keys.
    let f = Fixtures::new();
    let (envelope, root) = f.prod_root(9);
    let report = self_check(&envelope, &root);
    assert!(report.is_met());
    assert!(report.valid >= root.roles["root"].threshold as usize);
}

#[test]
fn quirk_08_unknown_fields_are_kept_and_signed_over() {
    let f = Fixtures::new();
    let (envelope, root) = f.prod_root(15);
    assert!(root.unknown.contains_key("x-tuf-on-ci-expiry-period"));
    assert!(
        root.roles["timestamp"]
            .unknown
            .contains_key("x-tuf-on-ci-signing-period")
    );
    assert!(
        root.keys
            .values()
            .any(|k| k.unknown.contains_key("x-tuf-on-ci-keyowner"))
    );
    // Dropping one unknown field breaks every signature: they cover it.
    let mut tampered = envelope.signed.clone();
    tampered.as_object_mut().unwrap().remove("x-tuf-on-ci-expiry-period");
    let mut document = serde_json::json!({"signatures": [], "signed": tampered});
    document["signatures"] = envelope
        .signatures
        .iter()
        .map(|s| serde_json::json!({"keyid": s.keyid, "sig": s.sig}))
        .collect::<Vec<_>>()
        .into();
    let bytes = serde_json::to_vec(&document).unwrap();
    let reparsed = Envelope::parse("root", &bytes, &Limits::default()).unwrap();
    assert_eq!(self_check(&reparsed, &root).valid, 0);
}

#[test]
fn quirk_09_and_11_target_names_with_slashes_and_custom_metadata() {
    let f = Fixtures::new();
    let targets = Targets::from_envelope("targets", &f.envelope("sigstore-prod/source/metadata/targets.json")).unwrap();
    let delegated = &targets.delegations.as_ref().unwrap().roles.as_ref().unwrap()[0];
    let file = format!("sigstore-prod/source/metadata/{}.json", delegated.name);
    let npm = Targets::from_envelope(&delegated.name, &f.envelope(&file)).unwrap();
    assert!(
        npm.targets
            .keys()
            .all(|name| name.starts_with(&format!("{}/", delegated.name)))
    );
    let legacy =
        Targets::from_envelope("targets", &f.envelope("sigstore-prod-legacy/published/9.targets.json")).unwrap();
    let custom = legacy.targets["ctfe.pub"].custom.as_ref().unwrap();
    assert_eq!(custom["sigstore"]["usage"], "CTFE");
}

#[test]
fn quirk_10_legacy_targets_carry_sha256_and_sha512_and_both_files_verify() {
    let f = Fixtures::new();
    let legacy =
        Targets::from_envelope("targets", &f.envelope("sigstore-prod-legacy/published/9.targets.json")).unwrap();
    let target = &legacy.targets["trusted_root.json"];
    for algorithm in ["sha256", "sha512"] {
        let name = trustroot_core::target_path::consistent_name("trusted_root.json", &target.hashes[algorithm]);
        let bytes = f.bytes(&format!("sigstore-prod-legacy/published/targets/{name}"));
        trustroot_core::hashes::verify_bytes("trusted_root.json", &bytes, Some(target.length), Some(&target.hashes))
            .unwrap();
    }
}

#[test]
fn quirk_12_same_root_version_with_different_bytes_both_verify() {
    let f = Fixtures::new();
    let legacy9 = f.bytes("sigstore-prod-legacy/published/9.root.json");
    let prod9 = f.bytes("sigstore-prod/source/metadata/root_history/9.root.json");
    assert_ne!(legacy9, prod9);
    for nine in [legacy9, prod9] {
        let mut trusted = TrustedSet::new(
            &f.bytes("sigstore-prod/published/8.root.json"),
            at("2024-03-20T00:00:00Z"),
            Limits::default(),
        )
        .unwrap();
        trusted.update_root(&nine).unwrap();
        assert_eq!(trusted.root().signed().common.version, 9);
    }
}

#[test]
fn quirk_13_tab_indented_json_with_signed_first() {
    let f = Fixtures::new();
    let bytes = f.bytes("sigstore-prod-legacy/published/1.root.json");
    assert!(bytes.starts_with(b"{\n\t\""));
    let snapshot = f.bytes("sigstore-prod-legacy/published/100.snapshot.json");
    assert!(snapshot.starts_with(b"{\n\t\"signed\""));
    let envelope = Envelope::parse("snapshot", &snapshot, &Limits::default()).unwrap();
    assert_eq!(envelope.version(), Some(100));
}

#[test]
fn quirk_14_spec_version_1_0_is_read() {
    let f = Fixtures::new();
    assert_eq!(f.prod_root(15).1.common.spec_version, "1.0");
}

#[test]
fn a_key_of_unknown_type_parses_and_never_counts() {
    let f = Fixtures::new();
    let mut value: serde_json::Value =
        serde_json::from_slice(&f.bytes("sigstore-prod/source/metadata/root_history/15.root.json")).unwrap();
    let online = value["signed"]["roles"]["timestamp"]["keyids"][0]
        .as_str()
        .unwrap()
        .to_string();
    // gittuf's spelling of a keyless key: only tuf-on-ci's exact ("sigstore-oidc",
    // "Fulcio") is a keyless key (core/tests/keyless_real.rs); this one is unknown.
    value["signed"]["keys"][&online] =
        serde_json::json!({"keytype": "sigstore-oidc", "scheme": "fulcio", "keyval": {"identity": "x", "issuer": "y"}});
    let bytes = serde_json::to_vec(&value).unwrap();
    let envelope = Envelope::parse("root", &bytes, &Limits::default()).unwrap();
    let root = Root::from_envelope("root", &envelope).unwrap();
    // The timestamp that key signed no longer meets its threshold: the key cannot count.
    let timestamp = f.envelope("sigstore-prod/source/metadata/timestamp.json");
    let role = &root.roles["timestamp"];
    let report = check_signatures(&timestamp, &root.keys, &role.keyids, role.threshold, None);
    assert!(!report.is_met());
    assert!(matches!(&report.keys[0].1, KeyStatus::Unusable(reason) if reason.contains("sigstore-oidc")));
}
