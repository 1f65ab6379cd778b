//! Every real trusted_root* / signing_config* file validates without errors (except the
//! malformed staging one), and gets exactly the warnings recorded here.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use trustroot_targets::sigstore::json::Document;
use trustroot_targets::sigstore::signing_config::SigningConfig;
use trustroot_targets::sigstore::trusted_root::TrustedRoot;
use trustroot_targets::sigstore::validate::{self, Severity};

const MALFORMED: &str = "history/staging/2025-08-12_8f89c913_trusted_root.json";

// (file, [(severity, code, JSON path)]), reviewed by hand against the files:
// * chain-order: 2023 prod files list the Fulcio intermediate chain root-first;
// * missing-uri: the 2023 prod (GitHub) TSA had no uri;
// * deprecated-key-details: staging's ctfe.sigstage.dev/test is a PKCS#1 RSA key;
// * v02-field-under-v01: staging published `operator` under v0.1 on 2025-05-15;
// * ed25519-spki-log-id: staging's first Rekor v2 log (2025-05-22) got a SPKI-hash log ID,
//   fixed to the checkpoint hash on 2025-06-12;
// * open-ended-overlap / subject-mismatch: staging's 2026 Fulcio and TSA rotations keep the
//   old instances open, and the new TSA root has an empty organization;
// * missing-media-type, missing-operator: staging's 2024 v0.1 and early v0.2 configs.

/// (severity, code, JSON path)
type Expected = (&'static str, &'static str, &'static str);

const EXPECTED: &[(&str, &[Expected])] = &[
    (
        "history/prod/2023-02-08_49d1933b_trusted_root.json",
        &[(
            "warning",
            "chain-order",
            "$.certificateAuthorities[1].certChain.certificates",
        )],
    ),
    (
        "history/prod/2023-02-14_fc1d5d59_trusted_root.json",
        &[(
            "warning",
            "chain-order",
            "$.certificateAuthorities[1].certChain.certificates",
        )],
    ),
    (
        "history/prod/2023-02-20_d39a5fa7_trusted_root.json",
        &[(
            "warning",
            "chain-order",
            "$.certificateAuthorities[1].certChain.certificates",
        )],
    ),
    (
        "history/prod/2023-04-04_f50a9deb_trusted_root.json",
        &[("warning", "missing-uri", "$.timestampAuthorities[0].uri")],
    ),
    ("history/prod/2025-01-20_36aee789_trusted_root.json", &[]),
    ("history/prod/2025-01-20_66906739_signing_config.json", &[]),
    ("history/prod/2025-07-07_aa440a9b_signing_config.v0.2.json", &[]),
    ("history/prod/2025-07-07_aa440a9b_trusted_root.json", &[]),
    ("history/prod/2025-09-22_c9bda74a_signing_config.v0.2.json", &[]),
    ("history/prod/2025-09-22_c9bda74a_trusted_root.json", &[]),
    (
        "history/prod/2026-05-11_110f9879_signing_config_rekor_v2.v0.2.json",
        &[],
    ),
    (
        "history/staging/2023-11-10_a146d3cb_trusted_root.json",
        &[("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails")],
    ),
    (
        "history/staging/2024-08-21_6533dfb7_signing_config.json",
        &[("warning", "missing-media-type", "$.mediaType")],
    ),
    (
        "history/staging/2024-08-21_6533dfb7_trusted_root.json",
        &[("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails")],
    ),
    ("history/staging/2024-08-23_951cec17_signing_config.json", &[]),
    (
        "history/staging/2025-04-09_3d980cd1_trusted_root.json",
        &[("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails")],
    ),
    (
        "history/staging/2025-04-24_bb447401_signing_config_0_2.json",
        &[
            ("warning", "missing-operator", "$.caUrls[0].operator"),
            ("warning", "missing-operator", "$.oidcUrls[0].operator"),
            ("warning", "missing-operator", "$.rekorTlogUrls[0].operator"),
            ("warning", "missing-operator", "$.tsaUrls[0].operator"),
        ],
    ),
    (
        "history/staging/2025-04-25_05bd62b1_signing_config_0_2.json",
        &[
            ("warning", "missing-operator", "$.caUrls[0].operator"),
            ("warning", "missing-operator", "$.oidcUrls[0].operator"),
            ("warning", "missing-operator", "$.rekorTlogUrls[0].operator"),
            ("warning", "missing-operator", "$.tsaUrls[0].operator"),
        ],
    ),
    (
        "history/staging/2025-04-25_36550344_trusted_root.json",
        &[("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails")],
    ),
    ("history/staging/2025-05-15_34ed88c5_signing_config.v0.2.json", &[]),
    (
        "history/staging/2025-05-15_bee1b242_trusted_root.json",
        &[
            ("warning", "v02-field-under-v01", "$.tlogs[0].operator"),
            ("warning", "v02-field-under-v01", "$.certificateAuthorities[0].operator"),
            ("warning", "v02-field-under-v01", "$.ctlogs[0].operator"),
            ("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails"),
            ("warning", "v02-field-under-v01", "$.ctlogs[1].operator"),
            ("warning", "v02-field-under-v01", "$.ctlogs[2].operator"),
            ("warning", "v02-field-under-v01", "$.timestampAuthorities[0].operator"),
        ],
    ),
    (
        "history/staging/2025-05-22_260bb561_trusted_root.json",
        &[
            ("warning", "ed25519-spki-log-id", "$.tlogs[1].logId.keyId"),
            ("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails"),
        ],
    ),
    (
        "history/staging/2025-06-12_90c66330_trusted_root.json",
        &[("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails")],
    ),
    ("history/staging/2025-07-22_1caaab88_signing_config.v0.2.json", &[]),
    ("history/staging/2025-08-12_8f89c913_signing_config.v0.2.json", &[]),
    (
        "history/staging/2025-08-12_8f89c913_trusted_root.json",
        &[
            ("error", "bad-timestamp", "$.tlogs[1].publicKey.validFor.end"),
            ("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails"),
        ],
    ),
    (
        "history/staging/2025-08-13_2ec248be_trusted_root.json",
        &[("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails")],
    ),
    ("history/staging/2025-09-22_ddcf69fa_signing_config.v0.2.json", &[]),
    (
        "history/staging/2025-09-22_ddcf69fa_trusted_root.json",
        &[("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails")],
    ),
    (
        "history/staging/2026-01-12_5aeefe57_trusted_root.json",
        &[("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails")],
    ),
    (
        "history/staging/2026-01-14_41e2dadb_trusted_root.json",
        &[("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails")],
    ),
    (
        "history/staging/2026-01-14_652029d7_trusted_root.json",
        &[("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails")],
    ),
    ("history/staging/2026-06-11_3de6037c_signing_config.v0.2.json", &[]),
    (
        "history/staging/2026-06-11_8b4e8006_trusted_root.json",
        &[
            ("warning", "open-ended-overlap", "$.certificateAuthorities[1]"),
            ("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails"),
            ("warning", "subject-mismatch", "$.timestampAuthorities[1].subject"),
            ("warning", "open-ended-overlap", "$.timestampAuthorities[1]"),
        ],
    ),
    (
        "sigstore-prod-legacy/published/targets/08be2fd75c19e654caad30852847c566f97e6245f2bbcc54d347d6bdec7e879135e3395b5633b9e3b85d739fdb9b4eb8c09ddc70495792bc2ea65c8caf770d27.trusted_root.json",
        &[(
            "warning",
            "chain-order",
            "$.certificateAuthorities[1].certChain.certificates",
        )],
    ),
    (
        "sigstore-prod-legacy/published/targets/4364d7724c04cc912ce2a6c45ed2610e8d8d1c4dc857fb500292738d4d9c8d2c.trusted_root.json",
        &[("warning", "missing-uri", "$.timestampAuthorities[0].uri")],
    ),
    (
        "sigstore-prod-legacy/published/targets/cec894ad77f79b1cb324150f6363012bcef7492954f3ab9134f932e6aa2e2e20.trusted_root.json",
        &[(
            "warning",
            "chain-order",
            "$.certificateAuthorities[1].certChain.certificates",
        )],
    ),
    (
        "sigstore-prod-legacy/published/targets/fdebade075c4840d40f1806a14d0660ae1d22f47c0516abc4141e09f4ddf6ee6f4dbfbf08a7025bea10a4b8794658a4cd8ebb1024b963f239a9bfe02c2057fc6.trusted_root.json",
        &[("warning", "missing-uri", "$.timestampAuthorities[0].uri")],
    ),
    (
        "sigstore-prod/published/targets/0f5f38554e29e770d4d5d6f0e1b51fcbf84f61dc6934530a09b7a901eaad5bee.signing_config_rekor_v2.v0.2.json",
        &[],
    ),
    (
        "sigstore-prod/published/targets/6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66.trusted_root.json",
        &[],
    ),
    (
        "sigstore-prod/published/targets/9711a6d5375706957a4859af31c5866a4474f81f0544f9f4b76c9c4f4c8a539c.signing_config.v0.2.json",
        &[],
    ),
    (
        "sigstore-prod/published/targets/d358c75d032833f4193500f5b01b5760409410558fac962c599439adbb268b0f.signing_config.json",
        &[],
    ),
    ("sigstore-prod/source/targets/signing_config.json", &[]),
    ("sigstore-prod/source/targets/signing_config.v0.2.json", &[]),
    ("sigstore-prod/source/targets/signing_config_rekor_v2.v0.2.json", &[]),
    ("sigstore-prod/source/targets/trusted_root.json", &[]),
    (
        "sigstore-staging/published/targets/14452cddce0d882c7ee7124653ba03a6684afaca12be9e9561ee198cf46734ad.signing_config_rekor_v2.v0.2.json",
        &[],
    ),
    (
        "sigstore-staging/published/targets/44deb991d4bbf2150751ccee235d9810bce4434383c26d8898c1bcadbace6ed8.trusted_root.json",
        &[
            ("warning", "open-ended-overlap", "$.certificateAuthorities[1]"),
            ("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails"),
            ("warning", "subject-mismatch", "$.timestampAuthorities[1].subject"),
            ("warning", "open-ended-overlap", "$.timestampAuthorities[1]"),
        ],
    ),
    (
        "sigstore-staging/published/targets/7cd0090164c5c85e46d78ac44a28cca2e423967aa184c4d43c2108683ca26f62.signing_config.v0.2.json",
        &[],
    ),
    (
        "sigstore-staging/published/targets/bf52f4aa7dc05849a6c8c760f5ae2ea4047b03b59505d9280efe02a1ec63c6e8.signing_config.json",
        &[],
    ),
    ("sigstore-staging/source/targets/signing_config.json", &[]),
    ("sigstore-staging/source/targets/signing_config.v0.2.json", &[]),
    ("sigstore-staging/source/targets/signing_config_rekor_v2.v0.2.json", &[]),
    (
        "sigstore-staging/source/targets/trusted_root.json",
        &[
            ("warning", "open-ended-overlap", "$.certificateAuthorities[1]"),
            ("warning", "deprecated-key-details", "$.ctlogs[0].publicKey.keyDetails"),
            ("warning", "subject-mismatch", "$.timestampAuthorities[1].subject"),
            ("warning", "open-ended-overlap", "$.timestampAuthorities[1]"),
        ],
    ),
];

fn validate_file(label: &str, bytes: &[u8]) -> Vec<validate::Finding> {
    if label.contains("trusted_root") {
        validate::validate_trusted_root(bytes)
    } else {
        validate::validate_signing_config(bytes, None)
    }
}

#[test]
fn every_real_payload_validates_with_the_recorded_findings() {
    let files = common::payload_files();
    // 34 history files, 8 + 8 from the current prod and staging trees, 4 legacy targets.
    assert_eq!(
        files.len(),
        54,
        "fixture set changed: {:#?}",
        files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(files.len(), EXPECTED.len());
    for (label, path) in &files {
        let findings = validate_file(label, &common::read(path));
        let got: Vec<(String, String, String)> = findings
            .iter()
            .map(|f| {
                let sev = match f.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                };
                (sev.to_string(), f.code.to_string(), f.path.clone())
            })
            .collect();
        let Some((_, want)) = EXPECTED.iter().find(|(l, _)| l == label) else {
            panic!("{label} has no recorded expectation; it got {got:#?}");
        };
        let want: Vec<(String, String, String)> = want
            .iter()
            .map(|(s, c, p)| (s.to_string(), c.to_string(), p.to_string()))
            .collect();
        assert_eq!(
            got,
            want,
            "{label}:\n{}",
            findings.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n")
        );
        let errors = validate::has_errors(&findings);
        assert_eq!(errors, label == MALFORMED, "{label}");
    }
}

#[test]
fn the_malformed_staging_root_names_the_bad_timestamp_and_its_path() {
    let bytes = common::read(&common::history().join("staging/2025-08-12_8f89c913_trusted_root.json"));
    let findings = validate::validate_trusted_root(&bytes);
    let errors: Vec<_> = findings.iter().filter(|f| f.severity == Severity::Error).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].path, "$.tlogs[1].publicKey.validFor.end");
    assert!(errors[0].message.contains("2025-09-04:00:00Z"), "{}", errors[0].message);
    assert!(errors[0].fix.contains("2025-09-04T00:00:00Z"), "{}", errors[0].fix);
    // The fixed file of the next day is clean of errors.
    let next = common::read(&common::history().join("staging/2025-08-13_2ec248be_trusted_root.json"));
    assert!(!validate::has_errors(&validate::validate_trusted_root(&next)));
}

#[test]
fn real_files_read_and_write_back_byte_for_byte() {
    for (label, path) in common::payload_files() {
        let bytes = common::read(&path);
        let out = if label.contains("trusted_root") {
            Document::<TrustedRoot>::parse(&bytes).unwrap().to_bytes().unwrap()
        } else {
            Document::<SigningConfig>::parse(&bytes).unwrap().to_bytes().unwrap()
        };
        // Four staging roots have one `"hashAlgorithm":"SHA2_256"` without the space after the
        // colon (hand-edited); every other real file is exactly what trustroot writes.
        if bytes != out {
            let reformatted = String::from_utf8(bytes.clone())
                .unwrap()
                .replace("\"hashAlgorithm\":\"", "\"hashAlgorithm\": \"");
            assert_eq!(reformatted.as_bytes(), &out[..], "{label}");
            assert!(label.contains("staging") && label.contains("trusted_root"), "{label}");
        }
        // And what trustroot writes is a fixed point.
        let again = if label.contains("trusted_root") {
            Document::<TrustedRoot>::parse(&out).unwrap().to_bytes().unwrap()
        } else {
            Document::<SigningConfig>::parse(&out).unwrap().to_bytes().unwrap()
        };
        assert_eq!(again, out, "{label}");
    }
}
