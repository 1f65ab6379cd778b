//! Rebuilding the current production and staging trusted roots from PEM files, URLs and
//! dates alone: `extract` every instance, then `new` and `add-*` (and `retire`), with every
//! log ID and key detail computed by trustroot. The result must be JSON-equal to the
//! original.
#![allow(clippy::unwrap_used, clippy::panic)]

mod sigstore_support;

use std::path::Path;

use serde_json::Value;
use sigstore_support::{ok, repos, trustroot};

fn s(v: &Value) -> String {
    v.as_str().unwrap().to_string()
}

/// Operator knowledge the file does not spell out: which logs are Rekor v2 (tile) logs.
fn rekor_version(url: &str) -> &'static str {
    if url.contains("://log20") { "2" } else { "1" }
}

fn rebuild(original: &Path, subjects: &[(usize, &str)]) -> Vec<u8> {
    let work = tempfile::tempdir().unwrap();
    let pem = work.path().join("pem");
    let out = ok([
        "trusted-root".as_ref(),
        "extract".as_ref(),
        original.as_os_str(),
        "--out-dir".as_ref(),
        pem.as_os_str(),
    ]);
    let orig: Value = serde_json::from_slice(&std::fs::read(original).unwrap()).unwrap();
    let built = work.path().join("trusted_root.json");
    let b = built.to_str().unwrap();
    ok(["trusted-root", "new", b]);
    let files: Vec<String> = out.lines().map(str::to_string).collect();
    let find = |prefix: &str| -> String {
        files
            .iter()
            .find(|f| Path::new(f).file_name().unwrap().to_str().unwrap().starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} not extracted: {files:?}"))
            .clone()
    };
    let mut retire = Vec::new();
    for (field, cmd, short) in [("tlogs", "add-tlog", "tlog"), ("ctlogs", "add-ctlog", "ctlog")] {
        for (i, l) in orig[field].as_array().unwrap().iter().enumerate() {
            let url = s(&l["baseUrl"]);
            let vf = &l["publicKey"]["validFor"];
            let key = find(&format!("{short}-{i}-"));
            let mut args = vec![
                "trusted-root".to_string(),
                cmd.into(),
                b.into(),
                "--key".into(),
                key,
                "--url".into(),
                url.clone(),
                "--start".into(),
                s(&vf["start"]),
            ];
            if field == "tlogs" {
                args.extend(["--rekor-version".into(), rekor_version(&url).into()]);
            }
            // Half of the closed windows are given at add time, half by `retire`.
            if let Some(end) = vf.get("end") {
                if i % 2 == 0 {
                    args.extend(["--end".into(), s(end)]);
                } else {
                    retire.push((short, i, s(end)));
                }
            }
            ok(&args);
        }
    }
    for (field, cmd, short) in [
        ("certificateAuthorities", "add-ca", "ca"),
        ("timestampAuthorities", "add-tsa", "tsa"),
    ] {
        for (i, a) in orig[field].as_array().unwrap().iter().enumerate() {
            let mut args = vec![
                "trusted-root".to_string(),
                cmd.into(),
                b.into(),
                "--chain".into(),
                find(&format!("{short}-{i}-")),
                "--uri".into(),
                s(&a["uri"]),
                "--start".into(),
                s(&a["validFor"]["start"]),
            ];
            if let Some(end) = a["validFor"].get("end") {
                args.extend(["--end".into(), s(end)]);
            }
            let subject = subjects.iter().find(|(j, _)| *j == i);
            if let (true, Some((_, subj))) = (field == "timestampAuthorities", subject) {
                args.extend(["--subject".into(), subj.to_string()]);
            }
            ok(&args);
        }
    }
    for (short, i, end) in retire {
        ok([
            "trusted-root",
            "retire",
            b,
            "--kind",
            short,
            "--index",
            &i.to_string(),
            "--end",
            &end,
        ]);
    }
    let rebuilt: Value = serde_json::from_slice(&std::fs::read(&built).unwrap()).unwrap();
    assert_eq!(rebuilt, orig, "rebuilt:\n{}", std::fs::read_to_string(&built).unwrap());
    // And the rebuilt file has no errors.
    let v = trustroot(["trusted-root", "validate", b]);
    assert!(v.status.success());
    std::fs::read(&built).unwrap()
}

#[test]
fn rebuilds_the_production_trusted_root_byte_for_byte() {
    let original = repos().join("sigstore-prod/source/targets/trusted_root.json");
    let rebuilt = rebuild(&original, &[]);
    // Production is written exactly as trustroot writes, so the bytes match too.
    assert_eq!(rebuilt, std::fs::read(&original).unwrap());
    let work = tempfile::tempdir().unwrap();
    let copy = work.path().join("t.json");
    std::fs::copy(&original, &copy).unwrap();
    let orig_bytes = std::fs::read(&original).unwrap();
    // An edit refused changes nothing; retiring and comparing proves the writer is stable.
    let c = copy.to_str().unwrap();
    let o = trustroot([
        "trusted-root",
        "retire",
        c,
        "--kind",
        "ca",
        "--index",
        "0",
        "--end",
        "2020-01-01T00:00:00Z",
    ]);
    assert!(!o.status.success(), "an end before the CA's start must be refused");
    assert_eq!(std::fs::read(&copy).unwrap(), orig_bytes);
}

#[test]
fn rebuilds_the_staging_trusted_root() {
    // Staging's second TSA records O=sigstore.dev although its certificate has an empty
    // organization: the real case `--subject` is for.
    let _ = rebuild(
        &repos().join("sigstore-staging/source/targets/trusted_root.json"),
        &[(1, "/O=sigstore.dev/CN=sigstore-tsa-selfsigned")],
    );
}
