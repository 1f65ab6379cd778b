//! sigstore-python, the reference Sigstore verifier, as a cross-check of core's keyless
//! verification: the test instance (test-support's sigstore_instance) makes bundles whose
//! time comes from its Rekor log, its RFC 3161 timestamp authority or both, and tampered
//! ones; each is verified offline by sigstore-python (tests/interop/sigstore_verify.py,
//! `$TRUSTROOT_TEST_PYTHON`) and by core against the same `trusted_root.json`, and the two
//! must give the outcome the case expects. Where they differ on purpose, the case says why.
//! Last, `trustroot client` verifies a keyless repository whose every signing time comes
//! from the instance's TSA.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use trustroot_core::envelope::Signature;
use trustroot_core::keyless::{self, SigstoreTrust, Step};
use trustroot_core::keys::KeylessIdentity;
use trustroot_test_support::sigstore_instance::{
    ACTIONS, Entry, Instance, Leaf, ONLINE, ONLINE_ID, Stamp, at, metadata, role_signed, root_signed,
};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const GOOGLE: &str = "https://accounts.google.com";
const GITHUB: &str = "https://github.com/login/oauth";
const MESSAGE: &[u8] = b"{\"_type\":\"root\",\"version\":1}";

/// One bundle, checked for alice from Google over `artifact` against `trusted_root`.
struct Case {
    name: &'static str,
    /// The signature entry (`keyid`, `sig`, `bundle`).
    entry: Value,
    artifact: &'static [u8],
    trusted_root: Value,
    /// What core must say: verified, or refused at this step.
    core: Option<Step>,
    /// Whether sigstore-python must verify it.
    python_verifies: bool,
}

fn case(name: &'static str, signer: &Instance, leaf: Leaf, entry: Entry, core: Option<Step>) -> Case {
    let python_verifies = core.is_none();
    Case {
        name,
        entry: signer.signature_entry("k", &leaf, MESSAGE, &entry),
        artifact: MESSAGE,
        trusted_root: Instance::new(1, 1).trusted_root(None),
        core,
        python_verifies,
    }
}

fn cases() -> Vec<Case> {
    let i = Instance::new(1, 1);
    let alice = || Leaf::new(ALICE, GOOGLE);
    let stamp = || Stamp::at(at("2026-01-01T00:02:00Z"));
    let timestamped = || Entry::timestamped(at("2026-01-01T00:02:00Z"));
    let mut tsa_retired = i.trusted_root(None);
    tsa_retired["timestampAuthorities"][0]["validFor"]["end"] = json!("2025-12-31T23:59:59Z");
    vec![
        // Good bundles: each time source.
        case("rekor time", &i, alice(), Entry::default(), None),
        case("tsa time", &i, alice(), timestamped(), None),
        case(
            "rekor and tsa time",
            &i,
            alice(),
            Entry {
                timestamp: Some(stamp()),
                ..Entry::default()
            },
            None,
        ),
        // Tampered: who signed, and what.
        case(
            "another identity",
            &i,
            Leaf::new(BOB, GOOGLE),
            Entry::default(),
            Some(Step::Identity),
        ),
        case(
            "another issuer",
            &i,
            Leaf::new(ALICE, GITHUB),
            Entry::default(),
            Some(Step::Issuer),
        ),
        case(
            "another identity, tsa time",
            &i,
            Leaf::new(BOB, GOOGLE),
            timestamped(),
            Some(Step::Identity),
        ),
        Case {
            artifact: b"{\"_type\":\"root\",\"version\":2}",
            ..case(
                "changed message",
                &i,
                alice(),
                Entry::default(),
                Some(Step::SignedBytes),
            )
        },
        // Tampered: the time sources.
        case(
            "no promise and no timestamp",
            &i,
            alice(),
            Entry {
                promise: false,
                ..Entry::default()
            },
            Some(Step::SigningTime),
        ),
        case(
            "tsa outside the trusted root",
            &Instance::new(1, 1).with_tsa_seed(80),
            alice(),
            timestamped(),
            Some(Step::Timestamp),
        ),
        case(
            "forged timestamp signature",
            &i,
            alice(),
            Entry {
                timestamp: Some(Stamp {
                    forged: true,
                    ..stamp()
                }),
                ..timestamped()
            },
            Some(Step::Timestamp),
        ),
        case(
            "timestamp over another signature",
            &i,
            alice(),
            Entry {
                timestamp: Some(Stamp {
                    over_another_signature: true,
                    ..stamp()
                }),
                ..timestamped()
            },
            Some(Step::Timestamp),
        ),
        case(
            "timestamp after the certificate expired",
            &i,
            alice(),
            Entry::timestamped(at("2026-01-01T00:11:00Z")),
            Some(Step::SigningTime),
        ),
        Case {
            trusted_root: tsa_retired,
            ..case(
                "tsa outside its window",
                &i,
                alice(),
                timestamped(),
                Some(Step::Timestamp),
            )
        },
        // A known difference: sigstore-python drops a timestamp that does not verify and
        // goes on if another time source (here the log's promise) does; core refuses a
        // bundle any of whose time sources is false.
        Case {
            python_verifies: true,
            ..case(
                "forged timestamp beside a good promise",
                &i,
                alice(),
                Entry {
                    timestamp: Some(Stamp {
                        forged: true,
                        ..stamp()
                    }),
                    ..Entry::default()
                },
                Some(Step::Timestamp),
            )
        },
    ]
}

/// Core's verdict: `None` if verified, else the step that refused.
fn core_verdict(c: &Case) -> Result<Option<Step>, String> {
    let trust = SigstoreTrust::from_json(&serde_json::to_vec(&c.trusted_root).unwrap()).unwrap();
    let entry = Signature {
        keyid: "k".into(),
        sig: c.entry["sig"].as_str().unwrap().into(),
        bundle: Some(c.entry["bundle"].clone()),
    };
    let who = KeylessIdentity {
        identity: ALICE.into(),
        issuer: GOOGLE.into(),
    };
    match keyless::verify(&trust, &who, c.artifact, &entry, at("2026-06-01T00:00:00Z")) {
        Ok(_) => Ok(None),
        Err(r) if Some(r.step) == c.core => Ok(Some(r.step)),
        Err(r) => Err(format!("refused: {r}")),
    }
}

/// Writes the cases for sigstore_verify.py into `dir`.
fn write_cases(dir: &Path, cases: &[Case]) {
    let listed: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(n, c)| {
            let (bundle, artifact, root) = (format!("{n}.sigstore.json"), format!("{n}.artifact"), format!("{n}.trusted_root.json"));
            std::fs::write(dir.join(&bundle), serde_json::to_vec(&c.entry["bundle"]).unwrap()).unwrap();
            std::fs::write(dir.join(&artifact), c.artifact).unwrap();
            std::fs::write(dir.join(&root), serde_json::to_vec(&c.trusted_root).unwrap()).unwrap();
            json!({"name": c.name, "bundle": bundle, "artifact": artifact, "trusted_root": root, "identity": ALICE, "issuer": GOOGLE})
        })
        .collect();
    std::fs::write(dir.join("cases.json"), serde_json::to_vec(&listed).unwrap()).unwrap();
}

#[test]
fn sigstore_python_and_core_agree_on_the_test_instances_bundles() {
    let python = common::python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/sigstore_verify.py");
    let dir = tempfile::tempdir().unwrap();
    let cases = cases();
    write_cases(dir.path(), &cases);
    let out = Command::new(&python).arg(&script).arg(dir.path()).output().unwrap();
    assert!(
        out.status.success(),
        "sigstore_verify.py failed (is sigstore-python installed in {}? scripts/test.sh installs tests/interop/requirements.txt): {}",
        python.display(),
        common::text(&out)
    );
    let verdicts: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts.len(), cases.len(), "{verdicts:?}");
    let mut wrong = Vec::new();
    for (c, python) in cases.iter().zip(&verdicts) {
        assert_eq!(python["name"], c.name);
        // Shown with --nocapture: why sigstore-python refused each case.
        println!("{}: sigstore-python: {}", c.name, python["error"]);
        if python["verified"] != c.python_verifies {
            wrong.push(format!(
                "{}: sigstore-python {} (expected {}): {}",
                c.name,
                if c.python_verifies { "refused" } else { "verified" },
                if c.python_verifies { "verified" } else { "refused" },
                python["error"]
            ));
        }
        match core_verdict(c) {
            Ok(got) if got == c.core => {}
            Ok(got) => wrong.push(format!("{}: core gave {got:?}, expected {:?}", c.name, c.core)),
            Err(e) => wrong.push(format!("{}: core {e}, expected {:?}", c.name, c.core)),
        }
    }
    assert!(wrong.is_empty(), "disagreements:\n{}", wrong.join("\n"));
}

#[test]
fn the_client_verifies_a_keyless_repository_whose_signing_times_come_from_the_tsa() {
    let i = Instance::new(1, 1);
    // Every bundle: an inclusion proof without a promise, and a signed timestamp.
    let tsa = Entry::timestamped(at("2026-01-01T00:02:00Z"));
    let work = tempfile::tempdir().unwrap();
    let (published, local) = (work.path().join("published"), work.path().join("metadata"));
    std::fs::create_dir_all(&published).unwrap();
    std::fs::create_dir_all(&local).unwrap();
    let root = root_signed(1, &[("k1", ALICE)], GOOGLE, 1);
    let online = [(ONLINE_ID, ONLINE, ACTIONS)];
    let timestamp = role_signed("timestamp", 1, Some(("snapshot.json", 1)));
    let snapshot = role_signed("snapshot", 1, Some(("targets.json", 1)));
    let targets = role_signed("targets", 1, None);
    for (name, signed, signers) in [
        ("1.root.json", &root, &[("k1", ALICE, GOOGLE)]),
        ("timestamp.json", &timestamp, &online),
        ("1.snapshot.json", &snapshot, &online),
        ("1.targets.json", &targets, &[("k1", ALICE, GOOGLE)]),
    ] {
        std::fs::write(
            published.join(name),
            metadata(signed, i.sign_with(signed, signers, &tsa)),
        )
        .unwrap();
    }
    let trust = work.path().join("trusted_root.json");
    std::fs::write(&trust, serde_json::to_vec(&i.trusted_root(None)).unwrap()).unwrap();
    let url = common::file_url(&published);
    let client = |action: &[&str]| {
        let mut args = vec![
            "client",
            "--at",
            "2026-06-01T00:00:00Z",
            "--metadata-dir",
            local.to_str().unwrap(),
        ];
        args.extend([
            "--metadata-url",
            url.as_str(),
            "--sigstore-trusted-root",
            trust.to_str().unwrap(),
        ]);
        args.extend(action);
        common::trustroot(&args)
    };
    let out = client(&["init", published.join("1.root.json").to_str().unwrap()]);
    assert!(out.status.success(), "{}", common::text(&out));
    let out = client(&["refresh"]);
    assert!(out.status.success(), "{}", common::text(&out));
    assert!(
        common::text(&out).contains("refreshed: root v1, timestamp v1, snapshot v1, targets v1"),
        "{}",
        common::text(&out)
    );
}
