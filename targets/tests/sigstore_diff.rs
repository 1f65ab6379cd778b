//! `diff` between consecutive real versions reports what really changed. The expectations
//! were written by hand from reading each pair of files (see the comment on each test).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use trustroot_targets::sigstore::diff::{self, Change, ChangeKind};
use trustroot_targets::sigstore::json::Document;
use trustroot_targets::sigstore::signing_config::SigningConfig;
use trustroot_targets::sigstore::trusted_root::TrustedRoot;

fn root(rel: &str) -> TrustedRoot {
    Document::<TrustedRoot>::parse(&common::read(&common::history().join(rel)))
        .unwrap()
        .value
}

fn config(rel: &str) -> SigningConfig {
    Document::<SigningConfig>::parse(&common::read(&common::history().join(rel)))
        .unwrap()
        .value
}

fn diff_roots(a: &str, b: &str) -> Vec<Change> {
    diff::diff_trusted_roots(&root(a), &root(b))
}

/// Checks kind, path and attention of every change, and that each summary names `words`.
fn check(changes: &[Change], want: &[(ChangeKind, &str, bool, &[&str])]) {
    assert_eq!(changes.len(), want.len(), "{changes:#?}");
    for (c, (kind, path, attention, words)) in changes.iter().zip(want) {
        assert_eq!(
            (c.kind, c.path.as_str(), c.attention),
            (*kind, *path, *attention),
            "{c:#?}"
        );
        for w in *words {
            assert!(c.summary.contains(w), "`{}` does not say `{w}`", c.summary);
        }
    }
}

#[test]
fn prod_2023_02_14_to_02_20_moves_the_test_ct_log_window() {
    // ctlogs[0] (ctfe.sigstore.dev/test): start 2021-03-07T03:20:29.000Z -> 2021-03-14T00:00:00.000Z,
    // end 2022-01-01T00:00:00.000Z -> 2022-10-31T23:59:59.999Z. Nothing else changed.
    check(
        &diff_roots(
            "prod/2023-02-14_fc1d5d59_trusted_root.json",
            "prod/2023-02-20_d39a5fa7_trusted_root.json",
        ),
        &[
            (
                ChangeKind::Changed,
                "$.ctlogs[0].publicKey.validFor.start",
                true,
                &[
                    "https://ctfe.sigstore.dev/test",
                    "start moved later",
                    "2021-03-07T03:20:29Z",
                    "2021-03-14T00:00:00Z",
                ],
            ),
            (
                ChangeKind::Changed,
                "$.ctlogs[0].publicKey.validFor.end",
                false,
                &["window extended", "2022-01-01T00:00:00Z", "2022-10-31T23:59:59.999Z"],
            ),
        ],
    );
}

#[test]
fn prod_2023_02_20_to_04_04_adds_the_github_tsa_and_reorders_the_fulcio_chain() {
    // certificateAuthorities[1]: the same two certificates, swapped to leaf-first;
    // timestampAuthorities[0] added: GitHub's "Internal Services Root", 3 certificates, no
    // uri, from 2023-04-14.
    check(
        &diff_roots(
            "prod/2023-02-20_d39a5fa7_trusted_root.json",
            "prod/2023-04-04_f50a9deb_trusted_root.json",
        ),
        &[
            (
                ChangeKind::Reordered,
                "$.certificateAuthorities[1].certChain.certificates",
                false,
                &["https://fulcio.sigstore.dev", "another order"],
            ),
            (
                ChangeKind::Added,
                "$.timestampAuthorities[0]",
                false,
                &[
                    "timestamp authority (no uri)",
                    "GitHub, Inc.",
                    "Internal Services Root",
                    "chain of 3",
                    "2023-04-14T00:00:00Z",
                ],
            ),
        ],
    );
}

#[test]
fn prod_2023_04_04_to_2025_01_20_removes_the_github_tsa() {
    // The GitHub TSA is gone: an instance removal, which breaks old timestamps.
    check(
        &diff_roots(
            "prod/2023-04-04_f50a9deb_trusted_root.json",
            "prod/2025-01-20_36aee789_trusted_root.json",
        ),
        &[(
            ChangeKind::Removed,
            "$.timestampAuthorities[0]",
            true,
            &[
                "Removed timestamp authority",
                "Internal Services Root",
                "can no longer be verified",
            ],
        )],
    );
}

#[test]
fn prod_2025_01_20_to_07_07_adds_the_sigstore_tsa_and_drops_fractions() {
    // timestampAuthorities[0] added (sigstore-tsa-selfsigned, from 2025-07-04); five
    // `.000Z` starts rewritten as `Z` (tlog, 2 CAs, 2 CT logs): same instants.
    check(
        &diff_roots(
            "prod/2025-01-20_36aee789_trusted_root.json",
            "prod/2025-07-07_aa440a9b_trusted_root.json",
        ),
        &[
            (
                ChangeKind::Added,
                "$.timestampAuthorities[0]",
                false,
                &[
                    "https://timestamp.sigstore.dev/api/v1/timestamp",
                    "sigstore-tsa-selfsigned",
                    "2025-07-04T00:00:00Z",
                ],
            ),
            (
                ChangeKind::Reformatted,
                "$",
                false,
                &["5 timestamps", "2021-01-12T11:53:27.000Z -> 2021-01-12T11:53:27Z"],
            ),
        ],
    );
}

#[test]
fn prod_2025_07_07_to_09_22_adds_rekor_v2() {
    // tlogs[1] added: log2025-1.rekor.sigstore.dev, Ed25519, from 2025-09-23: the first
    // Ed25519 key, which deployed clients may not parse.
    check(
        &diff_roots(
            "prod/2025-07-07_aa440a9b_trusted_root.json",
            "prod/2025-09-22_c9bda74a_trusted_root.json",
        ),
        &[(
            ChangeKind::Added,
            "$.tlogs[1]",
            true,
            &[
                "https://log2025-1.rekor.sigstore.dev",
                "Ed25519",
                "zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A=",
                "2025-09-23T00:00:00Z",
                "staging first",
            ],
        )],
    );
}

#[test]
fn staging_2025_05_22_to_06_12_fixes_the_rekor_v2_log_id() {
    // Only tlogs[1].logId.keyId changed: the SPKI hash became the checkpoint key hash.
    check(
        &diff_roots(
            "staging/2025-05-22_260bb561_trusted_root.json",
            "staging/2025-06-12_90c66330_trusted_root.json",
        ),
        &[(
            ChangeKind::Changed,
            "$.tlogs[1].logId.keyId",
            true,
            &[
                "log2025-alpha1",
                "RycrnT/11WQ15JtgBXeYVLlFYMtbAka7+JnxUQaOX5E=",
                "8w1amZ2S5mJIQkQmPxdMuOrL/oJkvFg9MnQXmeOCXck=",
                "same key",
            ],
        )],
    );
}

#[test]
fn staging_2025_06_12_to_08_12_retires_alpha1_with_a_broken_end() {
    // tlogs[1] (alpha1) got the end "2025-09-04:00:00Z", which is not a timestamp;
    // tlogs[2] (alpha2) added from 2025-08-08.
    check(
        &diff_roots(
            "staging/2025-06-12_90c66330_trusted_root.json",
            "staging/2025-08-12_8f89c913_trusted_root.json",
        ),
        &[
            (
                ChangeKind::Added,
                "$.tlogs[2]",
                false,
                &["log2025-alpha2", "2025-08-08T00:00:00Z"],
            ),
            (
                ChangeKind::Retired,
                "$.tlogs[1].publicKey.validFor.end",
                true,
                &[
                    "log2025-alpha1",
                    "`2025-09-04:00:00Z` (not a valid timestamp)",
                    "Clients cannot parse",
                ],
            ),
        ],
    );
    // The next day's fix.
    check(
        &diff_roots(
            "staging/2025-08-12_8f89c913_trusted_root.json",
            "staging/2025-08-13_2ec248be_trusted_root.json",
        ),
        &[(
            ChangeKind::Changed,
            "$.tlogs[1].publicKey.validFor.end",
            false,
            &["from `2025-09-04:00:00Z` (not a valid timestamp) to 2025-09-04T00:00:00Z"],
        )],
    );
}

#[test]
fn staging_2026_01_12_to_01_14_retires_a_ct_log_and_moves_a_start() {
    // ctlogs[2] (2022-2) gets an end 2026-01-21; ctlogs[3] (log2026-1) starts a day later.
    check(
        &diff_roots(
            "staging/2026-01-12_5aeefe57_trusted_root.json",
            "staging/2026-01-14_41e2dadb_trusted_root.json",
        ),
        &[
            (
                ChangeKind::Retired,
                "$.ctlogs[2].publicKey.validFor.end",
                false,
                &["https://ctfe.sigstage.dev/2022-2", "2026-01-21T00:00:00Z"],
            ),
            (
                ChangeKind::Changed,
                "$.ctlogs[3].publicKey.validFor.start",
                true,
                &[
                    "https://log2026-1.ctfe.sigstage.dev",
                    "2026-01-13T00:00:00Z",
                    "2026-01-14T00:00:00Z",
                ],
            ),
        ],
    );
}

#[test]
fn identical_files_have_no_changes() {
    let r = root("prod/2025-09-22_c9bda74a_trusted_root.json");
    assert!(diff::diff_trusted_roots(&r, &r).is_empty());
}

#[test]
fn prod_signing_config_2025_07_07_to_09_22_adds_rekor_v2() {
    // rekorTlogUrls gains log2025-1 (API v2, from 2025-10-06), listed first; the rest is equal.
    let c = diff::diff_signing_configs(
        &config("prod/2025-07-07_aa440a9b_signing_config.v0.2.json"),
        &config("prod/2025-09-22_c9bda74a_signing_config.v0.2.json"),
    );
    check(
        &c,
        &[(
            ChangeKind::Added,
            "$.rekorTlogUrls[0]",
            true,
            &[
                "https://log2025-1.rekor.sigstore.dev",
                "API v2",
                "2025-10-06T00:00:00Z",
                "root-signing#1548",
            ],
        )],
    );
}

#[test]
fn staging_signing_config_gains_operators_and_a_media_type() {
    // 2025-04-25 -> 2025-05-15: `operator: sigstore.dev` added to each of the four services.
    let c = diff::diff_signing_configs(
        &config("staging/2025-04-25_05bd62b1_signing_config_0_2.json"),
        &config("staging/2025-05-15_34ed88c5_signing_config.v0.2.json"),
    );
    let paths: Vec<&str> = c.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "$.caUrls[0].operator",
            "$.oidcUrls[0].operator",
            "$.rekorTlogUrls[0].operator",
            "$.tsaUrls[0].operator"
        ]
    );
    assert!(
        c.iter().all(|c| c.kind == ChangeKind::Changed
            && !c.attention
            && c.summary.contains("operator set to sigstore.dev"))
    );
    // 2024-08-21 -> 2024-08-23 (v0.1): only the media type was added.
    let c = diff::diff_signing_configs(
        &config("staging/2024-08-21_6533dfb7_signing_config.json"),
        &config("staging/2024-08-23_951cec17_signing_config.json"),
    );
    check(
        &c,
        &[(
            ChangeKind::Changed,
            "$.mediaType",
            false,
            &["from none to application/vnd.dev.sigstore.signingconfig.v0.1+json"],
        )],
    );
}
