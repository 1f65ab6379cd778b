//! The `trustroot sigstore` commands as an operator runs them: exit codes, output, edits
//! refused without touching the file, signing-config building.
#![allow(clippy::unwrap_used, clippy::panic)]

mod sigstore_support;

use serde_json::Value;
use sigstore_support::{history, ok, repos, stderr, stdout, trustroot};

#[test]
fn validate_exit_codes_and_output() {
    // The malformed staging root: exit 1, the bad string and its JSON path.
    let bad = history("staging/2025-08-12_8f89c913_trusted_root.json");
    let o = trustroot(["trusted-root".as_ref(), "validate".as_ref(), bad.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("error[bad-timestamp] $.tlogs[1].publicKey.validFor.end: `2025-09-04:00:00Z`"),
        "{out}"
    );
    assert!(out.contains("1 error, 1 warning: not valid"), "{out}");
    // --json.
    let o = trustroot([
        "trusted-root".as_ref(),
        "validate".as_ref(),
        bad.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["errors"], 1);
    assert_eq!(v["findings"][0]["severity"], "error");
    assert_eq!(v["findings"][0]["path"], "$.tlogs[1].publicKey.validFor.end");
    assert!(
        v["findings"][0]["fix"]
            .as_str()
            .unwrap()
            .contains("2025-09-04T00:00:00Z")
    );
    // Production: clean.
    let prod = repos().join("sigstore-prod/source/targets/trusted_root.json");
    let o = trustroot([
        "trusted-root".as_ref(),
        "validate".as_ref(),
        prod.as_os_str(),
        "--strict".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // Staging: warnings only; exit 0, and 1 with --strict.
    let staging = repos().join("sigstore-staging/source/targets/trusted_root.json");
    let o = trustroot(["trusted-root".as_ref(), "validate".as_ref(), staging.as_os_str()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("0 errors, 4 warnings: valid"), "{}", stdout(&o));
    let o = trustroot([
        "trusted-root".as_ref(),
        "validate".as_ref(),
        staging.as_os_str(),
        "--strict".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    // Signing config without mediaType: a warning.
    let sc = history("staging/2024-08-21_6533dfb7_signing_config.json");
    let o = trustroot(["signing-config".as_ref(), "validate".as_ref(), sc.as_os_str()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("warning[missing-media-type] $.mediaType"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn unreadable_and_broken_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let o = trustroot(["trusted-root".as_ref(), "validate".as_ref(), missing.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.json: cannot read"), "{}", stderr(&o));
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, b"{\"tlogs\": 5, ").unwrap();
    let o = trustroot(["trusted-root".as_ref(), "validate".as_ref(), broken.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("error[not-json] $"), "{}", stdout(&o));
    std::fs::write(&broken, b"{\"mediaType\": \"application/vnd.dev.sigstore.trustedroot+json;version=0.1\", \"tlogs\": [{\"baseUrl\": 7}]}").unwrap();
    // An edit of a file that does not parse names the file and the JSON path.
    let key = dir.path().join("k.pem");
    std::fs::write(&key, "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwrkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==\n-----END PUBLIC KEY-----\n").unwrap();
    let o = trustroot([
        "trusted-root".as_ref(),
        "add-ctlog".as_ref(),
        broken.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "--url".as_ref(),
        "https://ct.example".as_ref(),
        "--start".as_ref(),
        "2026-01-01T00:00:00Z".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("broken.json: $.tlogs[0].baseUrl"), "{}", stderr(&o));
}

fn copy_prod(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("trusted_root.json");
    std::fs::copy(repos().join("sigstore-prod/source/targets/trusted_root.json"), &p).unwrap();
    p
}

#[test]
fn edits_that_would_be_wrong_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let tr = copy_prod(dir.path());
    let t = tr.to_str().unwrap();
    let before = std::fs::read(&tr).unwrap();
    let pem = dir.path().join("pem");
    ok(["trusted-root", "extract", t, "--out-dir", pem.to_str().unwrap()]);
    let rekor_v2 = pem.join("tlog-1-log2025-1.rekor.sigstore.dev.pem");
    let ct = pem.join("ctlog-1-ctfe.sigstore.dev-2022.pem");
    let refused = |args: &[&str], why: &str| {
        let o = trustroot(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stdout(&o));
        assert!(stderr(&o).contains(why), "{args:?}: {}", stderr(&o));
        assert_eq!(std::fs::read(&tr).unwrap(), before, "{args:?} changed the file");
    };
    // An Ed25519 tlog key without saying which Rekor it is.
    refused(
        &[
            "trusted-root",
            "add-tlog",
            t,
            "--key",
            rekor_v2.to_str().unwrap(),
            "--url",
            "https://log2026-1.rekor.sigstore.dev",
            "--start",
            "2026-01-01T00:00:00Z",
        ],
        "--rekor-version",
    );
    // The same key twice.
    refused(
        &[
            "trusted-root",
            "add-ctlog",
            t,
            "--key",
            ct.to_str().unwrap(),
            "--url",
            "https://ctfe.sigstore.dev/2022",
            "--start",
            "2026-01-01T00:00:00Z",
        ],
        "already has log ID 3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4=",
    );
    // An operator under the legacy media type.
    refused(
        &[
            "trusted-root",
            "add-tlog",
            t,
            "--key",
            rekor_v2.to_str().unwrap(),
            "--url",
            "https://log2026-1.rekor.sigstore.dev",
            "--rekor-version",
            "2",
            "--start",
            "2026-01-01T00:00:00Z",
            "--operator",
            "sigstore.dev",
        ],
        "`operator` needs the v0.2 media type",
    );
    // A malformed time (the staging incident, typed on the command line): a usage error,
    // caught by the one time parser before anything is read (exit 2).
    let args = [
        "trusted-root",
        "retire",
        t,
        "--kind",
        "tlog",
        "--url",
        "https://rekor.sigstore.dev",
        "--end",
        "2025-09-04:00:00Z",
    ];
    let o = trustroot(args);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("'--end <END>': '2025-09-04:00:00Z' is not an RFC 3339 time"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(&tr).unwrap(),
        before,
        "a malformed --end changed the file"
    );
    // An end before the start.
    refused(
        &[
            "trusted-root",
            "retire",
            t,
            "--kind",
            "tlog",
            "--url",
            "https://rekor.sigstore.dev",
            "--end",
            "2020-01-01T00:00:00Z",
        ],
        "before the window's start",
    );
    // A CA window past the certificates' expiry (2031-10-05T13:56:58Z).
    let ca = pem.join("ca-1-fulcio.sigstore.dev.pem");
    refused(
        &[
            "trusted-root",
            "add-ca",
            t,
            "--chain",
            ca.to_str().unwrap(),
            "--uri",
            "https://fulcio.example",
            "--start",
            "2030-01-01T00:00:00Z",
            "--end",
            "2032-01-01T00:00:00Z",
        ],
        "after a certificate in the chain expires",
    );
    // A chain whose pieces do not belong together.
    let tsa = std::fs::read_to_string(pem.join("tsa-0-timestamp.sigstore.dev-api-v1-timestamp.pem")).unwrap();
    let ca_text = std::fs::read_to_string(&ca).unwrap();
    let mixed = dir.path().join("mixed.pem");
    let first_ca = &ca_text[..ca_text.find("-----END CERTIFICATE-----").unwrap() + 26];
    let last_tsa = &tsa[tsa.rfind("-----BEGIN CERTIFICATE-----").unwrap()..];
    std::fs::write(&mixed, format!("{first_ca}{last_tsa}")).unwrap();
    refused(
        &[
            "trusted-root",
            "add-ca",
            t,
            "--chain",
            mixed.to_str().unwrap(),
            "--uri",
            "https://fulcio.example",
            "--start",
            "2026-01-01T00:00:00Z",
        ],
        "do not form a chain in any order",
    );
}

#[test]
fn a_rekor_rotation_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let tr = copy_prod(dir.path());
    let old = dir.path().join("old.json");
    std::fs::copy(&tr, &old).unwrap();
    let t = tr.to_str().unwrap();
    // A new Rekor v1 log, with the CT 2022 key standing in for a freshly generated key.
    let key = dir.path().join("new-rekor.pem");
    let o = ok(["trusted-root", "extract", t, "--kind", "ctlog", "--index", "1"]);
    assert!(o.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{o}");
    std::fs::write(&key, o).unwrap();
    let out = ok([
        "trusted-root",
        "add-tlog",
        t,
        "--key",
        key.to_str().unwrap(),
        "--url",
        "https://rekor2.example.dev",
        "--start",
        "2026-09-01T00:00:00Z",
    ]);
    assert!(out.contains("added $.tlogs[2] https://rekor2.example.dev with log ID 3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4= (PKIX_ECDSA_P256_SHA_256)"), "{out}");
    ok([
        "trusted-root",
        "retire",
        t,
        "--kind",
        "tlog",
        "--url",
        "https://rekor.sigstore.dev",
        "--end",
        "2026-09-30T23:59:59Z",
    ]);
    ok(["trusted-root", "validate", t, "--strict"]);
    let d = ok(["trusted-root", "diff", old.to_str().unwrap(), t]);
    assert!(d.contains("* Added transparency log https://rekor2.example.dev (ECDSA P-256, log ID 3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4=), valid from 2026-09-01T00:00:00Z, open-ended."), "{d}");
    assert!(d.contains("* Transparency log https://rekor.sigstore.dev (log ID wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=): retired, valid until 2026-09-30T23:59:59Z."), "{d}");
    assert!(!d.contains("\n!"), "{d}");
    let j: Value = serde_json::from_str(&ok(["trusted-root", "diff", old.to_str().unwrap(), t, "--json"])).unwrap();
    let kinds: Vec<&str> = j["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["added", "retired"]);
    // Unchanged parts keep their bytes: the file is the original plus the two edits.
    let v: Value = serde_json::from_slice(&std::fs::read(&tr).unwrap()).unwrap();
    assert_eq!(v["tlogs"][0]["publicKey"]["validFor"]["end"], "2026-09-30T23:59:59Z");
}

#[test]
fn a_fulcio_chain_given_root_first_is_recorded_leaf_first() {
    let dir = tempfile::tempdir().unwrap();
    let prod = repos().join("sigstore-prod/source/targets/trusted_root.json");
    let chain = ok([
        "trusted-root".as_ref(),
        "extract".as_ref(),
        prod.as_os_str(),
        "--kind".as_ref(),
        "ca".as_ref(),
        "--index".as_ref(),
        "1".as_ref(),
    ]);
    let split = chain.find("-----BEGIN CERTIFICATE-----\n").unwrap();
    let second = chain[split + 1..].find("-----BEGIN CERTIFICATE-----").unwrap() + split + 1;
    let reversed = format!("{}{}", &chain[second..], &chain[..second]);
    let pem = dir.path().join("rootfirst.pem");
    std::fs::write(&pem, reversed).unwrap();
    let tr = dir.path().join("tr.json");
    let t = tr.to_str().unwrap();
    ok(["trusted-root", "new", t]);
    let out = ok([
        "trusted-root",
        "add-ca",
        t,
        "--chain",
        pem.to_str().unwrap(),
        "--uri",
        "https://fulcio.sigstore.dev",
        "--start",
        "2022-04-13T20:06:15Z",
        "--subject",
        "/O=example/CN=custom",
    ]);
    assert!(
        out.contains("note: the certificates were given in another order"),
        "{out}"
    );
    let v: Value = serde_json::from_slice(&std::fs::read(&tr).unwrap()).unwrap();
    let orig: Value = serde_json::from_slice(&std::fs::read(&prod).unwrap()).unwrap();
    assert_eq!(
        v["certificateAuthorities"][0]["certChain"],
        orig["certificateAuthorities"][1]["certChain"]
    );
    assert_eq!(
        v["certificateAuthorities"][0]["subject"],
        serde_json::json!({"organization": "example", "commonName": "custom"})
    );
    // `new` refuses to overwrite.
    let o = trustroot(["trusted-root", "new", t]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn signing_config_new_add_remove_validate_diff() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("signing_config.v0.2.json");
    let s = sc.to_str().unwrap();
    ok(["signing-config", "new", s]);
    // Empty lists: errors until services are added.
    assert_eq!(trustroot(["signing-config", "validate", s]).status.code(), Some(1));
    for (kind, url, v, start) in [
        ("ca", "https://fulcio.sigstore.dev", "1", "2022-04-13T20:06:15Z"),
        ("oidc", "https://oauth2.sigstore.dev/auth", "1", "2022-04-13T20:06:15Z"),
        ("rekor", "https://rekor.sigstore.dev", "1", "2021-01-12T11:53:27Z"),
        (
            "tsa",
            "https://timestamp.sigstore.dev/api/v1/timestamp",
            "1",
            "2025-07-04T00:00:00Z",
        ),
        (
            "rekor",
            "https://log2025-1.rekor.sigstore.dev",
            "2",
            "2026-01-01T00:00:00Z",
        ),
    ] {
        ok([
            "signing-config",
            "add-service",
            s,
            "--kind",
            kind,
            "--url",
            url,
            "--api-version",
            v,
            "--start",
            start,
            "--operator",
            "sigstore.dev",
        ]);
    }
    let tr = repos().join("sigstore-prod/source/targets/trusted_root.json");
    let o = trustroot([
        "signing-config".as_ref(),
        "validate".as_ref(),
        sc.as_os_str(),
        "--trusted-root".as_ref(),
        tr.as_os_str(),
        "--strict".as_ref(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // What was built is production's Rekor v2 signing config, up to `.000Z` fractions.
    let built: Value = serde_json::from_slice(&std::fs::read(&sc).unwrap()).unwrap();
    let prod: Value = serde_json::from_slice(
        &std::fs::read(repos().join("sigstore-prod/source/targets/signing_config_rekor_v2.v0.2.json")).unwrap(),
    )
    .unwrap();
    let norm = |v: &Value| serde_json::to_string(v).unwrap().replace(".000Z", "Z");
    assert_eq!(norm(&built), norm(&prod));
    // Against the staging trusted root, every URL is unknown.
    let staging = repos().join("sigstore-staging/source/targets/trusted_root.json");
    let o = trustroot([
        "signing-config".as_ref(),
        "validate".as_ref(),
        sc.as_os_str(),
        "--trusted-root".as_ref(),
        staging.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stdout(&o).matches("error[not-in-trusted-root]").count(),
        4,
        "{}",
        stdout(&o)
    );
    // Remove Rekor v2 again: that is production's default signing_config.v0.2.json.
    let before = dir.path().join("before.json");
    std::fs::copy(&sc, &before).unwrap();
    ok([
        "signing-config",
        "remove-service",
        s,
        "--kind",
        "rekor",
        "--url",
        "https://log2025-1.rekor.sigstore.dev",
    ]);
    let d = ok(["signing-config", "diff", before.to_str().unwrap(), s]);
    assert!(
        d.contains("* Removed Rekor log https://log2025-1.rekor.sigstore.dev (API v2, operator sigstore.dev)"),
        "{d}"
    );
    // Removing something absent, or adding a duplicate, is refused.
    let o = trustroot([
        "signing-config",
        "remove-service",
        s,
        "--kind",
        "rekor",
        "--url",
        "https://nope.example",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = trustroot([
        "signing-config",
        "add-service",
        s,
        "--kind",
        "ca",
        "--url",
        "https://fulcio.sigstore.dev",
        "--api-version",
        "1",
        "--start",
        "2022-04-13T20:06:15Z",
        "--operator",
        "sigstore.dev",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("already lists"), "{}", stderr(&o));
    // EXACT needs a count.
    let o = trustroot([
        "signing-config",
        "new",
        dir.path().join("x.json").to_str().unwrap(),
        "--rekor-selector",
        "exact",
    ]);
    assert_eq!(o.status.code(), Some(1));
    // A v0.1 file lists bare URLs: v0.2's API version, window and operator are refused.
    let v01 = dir.path().join("v01.json");
    std::fs::copy(history("prod/2025-01-20_66906739_signing_config.json"), &v01).unwrap();
    let o = trustroot([
        "signing-config",
        "add-service",
        v01.to_str().unwrap(),
        "--kind",
        "ca",
        "--url",
        "https://x.example",
        "--api-version",
        "1",
        "--start",
        "2022-04-13T20:06:15Z",
        "--operator",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("a v0.1 signing config lists bare URLs"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(&v01).unwrap(),
        std::fs::read(history("prod/2025-01-20_66906739_signing_config.json")).unwrap()
    );
}

#[test]
fn a_v01_signing_config_can_be_edited_url_by_url() {
    let dir = tempfile::tempdir().unwrap();
    let v01 = dir.path().join("v01.json");
    std::fs::copy(history("prod/2025-01-20_66906739_signing_config.json"), &v01).unwrap();
    let f = v01.to_str().unwrap();
    let o = ok([
        "signing-config",
        "add-service",
        f,
        "--kind",
        "rekor",
        "--url",
        "https://log2025-1.rekor.sigstore.dev",
    ]);
    assert!(
        o.contains("added https://log2025-1.rekor.sigstore.dev to tlogUrls"),
        "{}",
        o
    );
    let o = ok([
        "signing-config",
        "add-service",
        f,
        "--kind",
        "ca",
        "--url",
        "https://fulcio.example.dev",
    ]);
    assert!(
        o.contains("set caUrl to https://fulcio.example.dev (it was https://fulcio.sigstore.dev)"),
        "{}",
        o
    );
    ok([
        "signing-config",
        "remove-service",
        f,
        "--kind",
        "rekor",
        "--url",
        "https://rekor.sigstore.dev",
    ]);
    let v: Value = serde_json::from_slice(&std::fs::read(&v01).unwrap()).unwrap();
    assert_eq!(v["mediaType"], "application/vnd.dev.sigstore.signingconfig.v0.1+json");
    assert_eq!(v["caUrl"], "https://fulcio.example.dev");
    assert_eq!(
        v["tlogUrls"],
        serde_json::json!(["https://log2025-1.rekor.sigstore.dev"])
    );
    // A URL listed twice, and one not listed, are refused.
    let o = trustroot([
        "signing-config",
        "add-service",
        f,
        "--kind",
        "rekor",
        "--url",
        "https://log2025-1.rekor.sigstore.dev",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("$.tlogUrls[0] already lists"), "{}", stderr(&o));
    let o = trustroot([
        "signing-config",
        "remove-service",
        f,
        "--kind",
        "tsa",
        "--url",
        "https://tsa.example",
    ]);
    assert_eq!(o.status.code(), Some(1));
    ok(["signing-config", "validate", f]);
}

#[test]
fn a_v02_trusted_root_gets_operators_and_checkpoint_key_ids() {
    let dir = tempfile::tempdir().unwrap();
    let prod = repos().join("sigstore-prod/source/targets/trusted_root.json");
    let key = dir.path().join("rekor-v2.pem");
    let pem = ok([
        "trusted-root".as_ref(),
        "extract".as_ref(),
        prod.as_os_str(),
        "--kind".as_ref(),
        "tlog".as_ref(),
        "--index".as_ref(),
        "1".as_ref(),
    ]);
    std::fs::write(&key, pem).unwrap();
    let tr = dir.path().join("trusted_root.v0.2.json");
    let t = tr.to_str().unwrap();
    ok(["trusted-root", "new", t, "--media-type", "v0.2"]);
    ok([
        "trusted-root",
        "add-tlog",
        t,
        "--key",
        key.to_str().unwrap(),
        "--url",
        "https://log2025-1.rekor.sigstore.dev",
        "--rekor-version",
        "2",
        "--start",
        "2025-09-23T00:00:00Z",
        "--operator",
        "sigstore.dev",
    ]);
    let v: Value = serde_json::from_slice(&std::fs::read(&tr).unwrap()).unwrap();
    assert_eq!(v["mediaType"], "application/vnd.dev.sigstore.trustedroot.v0.2+json");
    let l = &v["tlogs"][0];
    assert_eq!(l["logId"]["keyId"], "zxGZFVvd0FEmjR8WrFwMdcAJ9vtaY/QXf44Y1wUeP6A=");
    // The first 4 bytes of the log ID: cf 11 99 15.
    assert_eq!(l["checkpointKeyId"]["keyId"], "zxGZFQ==");
    assert_eq!(l["operator"], "sigstore.dev");
    let o = trustroot(["trusted-root", "validate", t, "--json"]);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    // No errors; the media type and the missing CA list are pointed out.
    assert_eq!(codes, ["media-type-v02", "no-cas"], "{}", stdout(&o));
    assert_eq!(o.status.code(), Some(0));
}

fn finding_codes(args: &[&std::ffi::OsStr]) -> (Option<i32>, Vec<(String, String, String)>) {
    let mut all: Vec<&std::ffi::OsStr> = args.to_vec();
    all.push("--json".as_ref());
    let o = trustroot(all);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let codes = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap().to_string();
            (s("severity"), s("code"), s("path"))
        })
        .collect();
    (o.status.code(), codes)
}

#[test]
fn validate_at_judges_certificates_and_windows_at_that_time_and_over_the_signing_period() {
    let root = history("prod/2025-09-22_c9bda74a_trusted_root.json");
    let tr = |extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec!["trusted-root".as_ref(), "validate".as_ref(), root.as_os_str()];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        finding_codes(&args)
    };
    let ca = "$.certificateAuthorities[1].certChain".to_string();
    // The Fulcio chain expires 2031-10-05: clean a month and more before.
    assert_eq!(tr(&["--at", "2031-09-01T00:00:00Z"]), (Some(0), vec![]));
    // Inside the signing period (40 days here): a warning.
    assert_eq!(
        tr(&["--at", "2031-09-01T00:00:00Z", "--signing-period", "40d"]),
        (
            Some(0),
            vec![("warning".into(), "certificate-expiring".into(), ca.clone())]
        )
    );
    // Over while the CA's window is still open: an error.
    assert_eq!(
        tr(&["--at", "2031-12-01T00:00:00Z"]),
        (Some(1), vec![("error".into(), "certificate-expired".into(), ca)])
    );
    // A window that ends within the signing period; a section with nothing valid yet.
    let (code, found) = tr(&["--at", "2022-12-15T00:00:00Z"]);
    assert_eq!(code, Some(1));
    assert!(
        found.contains(&(
            "warning".into(),
            "window-ends-soon".into(),
            "$.certificateAuthorities[0].validFor.end".into()
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            "error".into(),
            "no-current-instance".into(),
            "$.timestampAuthorities".into()
        )),
        "{found:?}"
    );
    // The signing config: services not valid yet at the time.
    let config = history("prod/2025-09-22_c9bda74a_signing_config.v0.2.json");
    let args: Vec<&std::ffi::OsStr> = vec![
        "signing-config".as_ref(),
        "validate".as_ref(),
        config.as_os_str(),
        "--at".as_ref(),
        "2020-01-01T00:00:00Z".as_ref(),
    ];
    let (code, found) = finding_codes(&args);
    assert_eq!(code, Some(1));
    assert!(
        found.contains(&("error".into(), "no-current-instance".into(), "$.caUrls".into())),
        "{found:?}"
    );
    assert_eq!(finding_codes(&args[..3]), (Some(0), vec![]));
    // A wrong time is a usage error.
    let o = trustroot(["trusted-root", "validate", root.to_str().unwrap(), "--at", "soon"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_end_already_set_can_be_moved_with_a_warning_when_it_moves_back_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let tr = copy_prod(dir.path());
    let t = tr.to_str().unwrap();
    let retire = |end: &str| {
        let args = [
            "trusted-root",
            "retire",
            t,
            "--kind",
            "ctlog",
            "--url",
            "https://ctfe.sigstore.dev/test",
            "--end",
            end,
        ];
        let o = trustroot(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}{}", stdout(&o), stderr(&o));
        let v: Value = serde_json::from_slice(&std::fs::read(&tr).unwrap()).unwrap();
        assert_eq!(v["ctlogs"][0]["publicKey"]["validFor"]["end"], end);
        o
    };
    // Later: the end moves, no warning.
    let o = retire("2022-11-30T00:00:00Z");
    assert!(
        stdout(&o).contains("moved the end of $.ctlogs[0] from 2022-10-31T23:59:59.999Z to 2022-11-30T00:00:00Z"),
        "{}",
        stdout(&o)
    );
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    // Earlier: it moves too, with a warning.
    let o = retire("2022-06-01T00:00:00Z");
    assert!(
        stderr(&o).contains("warning: the end of $.ctlogs[0] moved back in time (it was 2022-11-30T00:00:00Z)"),
        "{}",
        stderr(&o)
    );
}
