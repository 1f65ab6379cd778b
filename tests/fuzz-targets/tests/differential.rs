//! Differential checks over the saved fuzz corpus, each by one Python run: canonical
//! JSON against securesystemslib's `encode_canonical`, and delegation path patterns
//! against python-tuf's `DelegatedRole._is_target_in_pathpattern` (python-tuf 7.0.1,
//! pinned by tests/interop/requirements.txt; scripts/test.sh installs it and sets
//! `TRUSTROOT_TEST_PYTHON`). Without that Python these tests fail, saying so.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> String {
    let python = std::env::var("TRUSTROOT_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "TRUSTROOT_TEST_PYTHON is not set: the differential fuzz-corpus tests need python-tuf; \
             run the tests through scripts/test.sh, which installs it"
        )
    });
    let check = Command::new(&python)
        .args(["-c", "import tuf.api.metadata, securesystemslib.formats"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        check.status.success(),
        "{python} cannot import python-tuf and securesystemslib: run scripts/test.sh\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    python
}

/// The corpus and kept crashes of `target`.
fn corpus(target: &str) -> Vec<PathBuf> {
    let fuzz = here().join("../../fuzz");
    let mut files = Vec::new();
    for dir in [
        fuzz.join("corpus").join(target),
        fuzz.join("artifacts-kept").join(target),
    ] {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            files.extend(entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()));
        }
    }
    files.sort();
    assert!(!files.is_empty(), "fuzz/corpus/{target}/ is empty");
    files
}

/// One Python run over `files`: its answer for each.
fn reference(check: &str, files: &[PathBuf]) -> Vec<Value> {
    let python = python();
    let list = tempfile::NamedTempFile::new().unwrap();
    let text: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    std::fs::write(list.path(), text).unwrap();
    let output = Command::new(&python)
        .arg(here().join("differential.py"))
        .arg(check)
        .arg(list.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "differential.py {check} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), files.len(), "one answer per file");
    answers
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().to_string()
}

#[test]
fn canonical_json_agrees_with_securesystemslib_over_the_corpus() {
    let files = corpus("canonical_json");
    let answers = reference("canonical", &files);
    let (mut compared, mut refused_big_ints) = (0, 0);
    let mut disagreements = Vec::new();
    for (file, answer) in files.iter().zip(&answers) {
        let data = std::fs::read(file).unwrap();
        let ours = serde_json::from_slice::<Value>(&data)
            .ok()
            .map(|v| trustroot_core::canonical::to_canonical_bytes(&v));
        match (ours, answer.get("ok").and_then(Value::as_str), answer.get("error")) {
            // serde_json refuses it or Python cannot read it: a parser difference, not
            // the encoder's (the replay test covers our side).
            (None, _, _) => {}
            (Some(_), None, None) => {}
            (Some(Ok(bytes)), Some(theirs), _) => {
                compared += 1;
                if hex::encode(&bytes) != theirs {
                    disagreements.push(format!(
                        "{}: ours {:?}, securesystemslib's {:?}",
                        name(file),
                        String::from_utf8_lossy(&bytes),
                        String::from_utf8_lossy(&hex::decode(theirs).unwrap())
                    ));
                }
            }
            (Some(Ok(bytes)), None, Some(error)) => disagreements.push(format!(
                "{}: we encode it as {:?}, securesystemslib refuses it: {error}",
                name(file),
                String::from_utf8_lossy(&bytes)
            )),
            // We refuse numbers serde_json reads as floats; so does securesystemslib,
            // except integers beyond 64 bits and -0, which Python reads as integers.
            (Some(Err(_)), Some(_), _) => refused_big_ints += 1,
            (Some(Err(_)), None, Some(_)) => compared += 1,
        }
    }
    eprintln!(
        "{} corpus files: {compared} compared, {refused_big_ints} refused by us only (integers beyond 64 bits or -0)",
        files.len()
    );
    assert!(compared > 0, "nothing was compared");
    assert!(
        disagreements.is_empty(),
        "canonical JSON differs:\n{}",
        disagreements.join("\n")
    );
}

#[test]
fn delegation_patterns_agree_with_python_tuf_over_the_corpus() {
    let files = corpus("delegation_path");
    let answers = reference("pattern", &files);
    let mut compared = 0;
    let mut disagreements = Vec::new();
    for (file, answer) in files.iter().zip(&answers) {
        let data = std::fs::read(file).unwrap();
        let Some((pattern, target)) = trustroot_fuzz_targets::split_pattern_input(&data) else {
            assert!(answer.get("skip").is_some(), "{}: Python read non-UTF-8", name(file));
            continue;
        };
        let theirs = answer.get("ok").and_then(Value::as_bool).unwrap();
        let ours = trustroot_core::delegation::path_matches(pattern, target);
        compared += 1;
        if ours != theirs {
            disagreements.push(format!(
                "{}: pattern {pattern:?}, target {target:?}: we say {ours}, python-tuf {theirs}",
                name(file)
            ));
        }
    }
    eprintln!("{} corpus files: {compared} compared", files.len());
    assert!(compared > 0, "nothing was compared");
    assert!(
        disagreements.is_empty(),
        "delegation path matching differs:\n{}",
        disagreements.join("\n")
    );
}
