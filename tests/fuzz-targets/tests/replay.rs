//! Replays the saved fuzz corpus and every kept crash through the same functions the
//! fuzz targets call (stable toolchain, no fuzzing): fuzz/corpus/<target>/ and
//! fuzz/artifacts-kept/<target>/. A crash a fuzzer once found stays a test.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use trustroot_fuzz_targets::{TARGETS, target};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// Feeds every saved input of `name` to its function; fails naming each input that panics.
fn replay(name: &str) {
    let run = target(name).unwrap().run;
    let corpus = inputs(&fuzz_dir().join("corpus").join(name));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{name}/ is empty: seed it (docs/fuzzing.md)"
    );
    let kept = inputs(&fuzz_dir().join("artifacts-kept").join(name));
    let mut failures = Vec::new();
    for file in corpus.iter().chain(&kept) {
        let data = std::fs::read(file).unwrap();
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            failures.push(file.display().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} saved inputs of {name} panic:\n{}",
        failures.len(),
        corpus.len() + kept.len(),
        failures.join("\n")
    );
}

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name));
            }
        )*

        #[test]
        fn every_target_is_replayed_and_has_a_fuzz_binary() {
            let replayed = [$(stringify!($name)),*];
            for t in TARGETS {
                assert!(replayed.contains(&t.name), "{} has no replay test", t.name);
                let binary = fuzz_dir().join("fuzz_targets").join(format!("{}.rs", t.name));
                assert!(binary.is_file(), "{} is missing", binary.display());
            }
            assert_eq!(replayed.len(), TARGETS.len());
        }
    };
}

replay_tests!(
    canonical_json,
    target_path,
    delegation_path,
    trusted_set_root,
    trusted_set_chain,
    bundle_unpack,
    signing_request,
    signature_file,
    policy,
    pkcs8_key,
    key_reference,
    yubikey_attestation,
    sigstore_trusted_root,
    sigstore_signing_config,
    keyless_bundle,
);
