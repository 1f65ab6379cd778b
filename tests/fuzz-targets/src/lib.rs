//! trustroot's fuzz targets as plain functions, one per target, each fed arbitrary bytes.
//!
//! `fuzz/` (cargo-fuzz, nightly) wraps each in a `fuzz_target!`; on the stable toolchain
//! `tests/replay.rs` feeds them every file of `fuzz/corpus/<target>/` and
//! `fuzz/artifacts-kept/<target>/`, so a crash once found stays a test. A function
//! returns normally for any input a correct program handles (an error is a correct answer
//! to bad input); it panics only when the code under test panics or breaks an invariant
//! checked here. Several targets read their first byte as a mode (what to do with the
//! rest): see each function. docs/fuzzing.md describes them.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

pub mod fixed;
mod targets;

pub use targets::*;

/// A fuzz target: its name (the cargo-fuzz target and corpus folder) and its function.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, in the order `scripts/fuzz.sh` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "canonical_json",
        run: canonical_json,
    },
    Target {
        name: "target_path",
        run: target_path,
    },
    Target {
        name: "delegation_path",
        run: delegation_path,
    },
    Target {
        name: "trusted_set_root",
        run: trusted_set_root,
    },
    Target {
        name: "trusted_set_chain",
        run: trusted_set_chain,
    },
    Target {
        name: "bundle_unpack",
        run: bundle_unpack,
    },
    Target {
        name: "signing_request",
        run: signing_request,
    },
    Target {
        name: "signature_file",
        run: signature_file,
    },
    Target {
        name: "policy",
        run: policy,
    },
    Target {
        name: "pkcs8_key",
        run: pkcs8_key,
    },
    Target {
        name: "key_reference",
        run: key_reference,
    },
    Target {
        name: "yubikey_attestation",
        run: yubikey_attestation,
    },
    Target {
        name: "sigstore_trusted_root",
        run: sigstore_trusted_root,
    },
    Target {
        name: "sigstore_signing_config",
        run: sigstore_signing_config,
    },
    Target {
        name: "keyless_bundle",
        run: keyless_bundle,
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// Splits an input into its mode byte and the rest (mode 0 for an empty input).
pub fn mode(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((m, rest)) => (*m, rest),
        None => (0, data),
    }
}

/// The two halves of a delegation-path input: `pattern NUL target`, or the whole text as
/// both when there is no NUL. `None` when the input is not UTF-8. The differential test
/// decodes corpus files the same way for python-tuf.
pub fn split_pattern_input(data: &[u8]) -> Option<(&str, &str)> {
    let text = std::str::from_utf8(data).ok()?;
    Some(text.split_once('\0').unwrap_or((text, text)))
}
