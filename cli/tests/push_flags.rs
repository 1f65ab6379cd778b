//! The push's own flags against a real S3 API (moto on 127.0.0.1): `--dry-run` (a plan,
//! nothing written in the store or on disk, the same counts the real push then uploads),
//! `--manifest` (kept elsewhere; never under the served prefix), `--cache-control` and
//! `[publish.cache]` (what the public GET returns), `--jobs` (its bounds).
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;
mod common;

use std::path::Path;
use std::process::{Command, Output};

use ceremony_common::*;
use trustroot_test_support::moto::MotoServer;

const BUCKET: &str = "tuf-repo";
const PREFIX: &str = "prod";
const TO: &str = "s3://tuf-repo/prod";

/// `trustroot ARGS --endpoint MOTO --public-url PUBLIC` in `dir` with moto's credentials.
fn run(dir: &Path, moto: &MotoServer, args: &[&str]) -> Output {
    let endpoint = moto.endpoint();
    let public = moto.public_url(BUCKET, PREFIX);
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--endpoint", &endpoint, "--public-url", &public]);
    let owned = moto.env();
    let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    trustroot_env(dir, &all, &env)
}

fn succeeded(out: &Output) -> String {
    assert!(out.status.success(), "{}", common::text(out));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", common::text(out)))
}

/// Exit `code` (1: refused, 2: a flag clap could not parse) and one `error:` line;
/// returns it.
fn refused(out: &Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    errors[0].to_string()
}

/// Every key in the bucket, one a line.
fn keys(moto: &MotoServer) -> String {
    moto.boto3(&format!(
        "for o in s3.list_objects_v2(Bucket='{BUCKET}').get('Contents', []):\n    print(o['Key'])"
    ))
}

/// The Cache-Control an anonymous GET of `url` returns.
fn cache_control(url: &str) -> String {
    let out = Command::new(common::python())
        .args([
            "-c",
            "import sys, urllib.request\nprint(urllib.request.urlopen(sys.argv[1]).headers.get('Cache-Control'))",
            url,
        ])
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::text(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn moto() -> MotoServer {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, PREFIX);
    moto
}

/// A repository with its first round published locally (no push yet).
fn published() -> Setup {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup.publish();
    setup
}

#[test]
fn dry_run_writes_nothing_and_its_plan_is_what_the_push_then_uploads() {
    let moto = moto();
    let setup = published();
    let before = tree_hash(&setup.repo);

    let out = run(
        &setup.repo,
        &moto,
        &["ceremony", "publish", "--to", TO, "--dry-run", "--json"],
    );
    let report = json(&out);
    let plan = &report["push"]["plan"];
    let planned: u64 = plan["uploads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["objects"].as_u64().unwrap())
        .sum();
    assert!(planned >= 5, "{report}");
    assert_eq!(report["push"]["uploaded"], 0, "{report}");
    let phases: Vec<&str> = plan["uploads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phase"].as_str().unwrap())
        .collect();
    assert_eq!(phases.last(), Some(&"timestamp"), "{report}");
    assert_eq!(plan["requests"]["put"].as_u64().unwrap(), planned + 3, "{report}");
    assert_eq!(keys(&moto), "", "a dry run uploads nothing, not even a manifest");
    assert_eq!(tree_hash(&setup.repo), before, "a dry run writes nothing on disk");

    // The words: per phase, the total and the requests.
    let out = succeeded(&run(
        &setup.repo,
        &moto,
        &["ceremony", "publish", "--to", TO, "--dry-run"],
    ));
    assert!(out.contains("Dry run: nothing was written."), "{out}");
    assert!(out.contains("upload 1 timestamp ("), "{out}");
    assert!(out.contains(&format!("total: {planned} objects (")), "{out}");
    assert!(out.contains("requests to the store: about "), "{out}");

    // The real push uploads exactly what was planned.
    let report = json(&run(&setup.repo, &moto, &["ceremony", "publish", "--to", TO, "--json"]));
    assert_eq!(report["push"]["uploaded"].as_u64().unwrap(), planned, "{report}");

    // A round waiting stays waiting under --dry-run (nothing signed or published), and
    // `online refresh --dry-run` signs nothing.
    std::fs::write(setup.repo.join("targets/extra.json"), b"{\"v\": 2}\n").unwrap();
    setup.round_now(&["alice", "bob"]);
    let before = tree_hash(&setup.repo);
    let out = run(&setup.repo, &moto, &["ceremony", "publish", "--to", TO, "--dry-run"]);
    assert!(
        common::text(&out).contains("the round waiting stays waiting"),
        "{}",
        common::text(&out)
    );
    assert!(succeeded(&out).contains("unchanged: "), "{}", common::text(&out));
    let out = run(
        &setup.repo,
        &moto,
        &["online", "refresh", "--force", "--to", TO, "--dry-run"],
    );
    assert!(succeeded(&out).contains("Dry run: nothing was written."));
    assert_eq!(tree_hash(&setup.repo), before);
}

#[test]
fn manifest_kept_elsewhere_works_and_one_under_the_served_prefix_is_refused_before_publishing() {
    let moto = moto();
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    let before = tree_hash(&setup.repo);
    let inside = "s3://tuf-repo/prod/push.trustroot-push.json";
    let error = refused(
        &run(
            &setup.repo,
            &moto,
            &["ceremony", "publish", "--to", TO, "--manifest", inside],
        ),
        1,
    );
    assert!(
        error.contains(&format!("--manifest {inside}: under the served prefix")),
        "{error}"
    );
    assert_eq!(tree_hash(&setup.repo), before, "refused before anything was published");
    assert_eq!(keys(&moto), "");

    // A bucket's root as the destination: the manifest must be kept elsewhere.
    let error = refused(
        &run(&setup.repo, &moto, &["ceremony", "publish", "--to", "s3://tuf-repo"]),
        1,
    );
    assert!(error.contains("--manifest"), "{error}");

    let elsewhere = "s3://tuf-repo/ops/prod.trustroot-push.json";
    let out = run(
        &setup.repo,
        &moto,
        &["ceremony", "publish", "--to", TO, "--manifest", elsewhere],
    );
    assert!(
        succeeded(&out).contains(&format!("Pushed to {TO}")),
        "{}",
        common::text(&out)
    );
    let held = keys(&moto);
    assert!(held.lines().any(|k| k == "ops/prod.trustroot-push.json"), "{held}");
    assert!(!held.lines().any(|k| k == "prod.trustroot-push.json"), "{held}");
    // The re-run finds that manifest: nothing to upload.
    let out = run(
        &setup.repo,
        &moto,
        &["ceremony", "publish", "--to", TO, "--manifest", elsewhere],
    );
    assert!(
        succeeded(&out).contains("already serves this tree"),
        "{}",
        common::text(&out)
    );

    // A whole bucket served from its root, the manifest in another bucket; one in the same
    // bucket would be under the served prefix.
    moto.create_bucket("tuf-root");
    moto.boto3(
        "import json\ns3.put_bucket_policy(Bucket='tuf-root', Policy=json.dumps({'Version': '2012-10-17', \
         'Statement': [{'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject', \
         'Resource': 'arn:aws:s3:::tuf-root/*'}]}))",
    );
    let root_public = format!("{}/tuf-root/", moto.endpoint());
    let owned = moto.env();
    let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let endpoint = moto.endpoint();
    let at_root = |manifest: &str| {
        trustroot_env(
            &setup.repo,
            &[
                "ceremony",
                "publish",
                "--to",
                "s3://tuf-root",
                "--manifest",
                manifest,
                "--endpoint",
                &endpoint,
                "--public-url",
                &root_public,
            ],
            &env,
        )
    };
    let error = refused(&at_root("s3://tuf-root/ops/root.trustroot-push.json"), 1);
    assert!(error.contains("under the served prefix"), "{error}");
    let out = at_root("s3://tuf-repo/ops/root.trustroot-push.json");
    assert!(
        succeeded(&out).contains("Pushed to s3://tuf-root"),
        "{}",
        common::text(&out)
    );
    let root = setup.served().join("1.root.json");
    let targets = format!("{root_public}targets/");
    let out = common::ngclient(None, &root, &root_public, &targets, &["trusted_root.json"]);
    assert!(out.status.success(), "python-tuf: {}", common::text(&out));
    let held = moto.boto3("print(sorted(o['Key'] for o in s3.list_objects_v2(Bucket='tuf-root')['Contents']))");
    assert!(!held.contains("trustroot-push"), "{held}");
}

#[test]
fn cache_control_flags_and_policy_are_what_the_public_get_returns() {
    let moto = moto();
    let setup = published();
    let public = moto.public_url(BUCKET, PREFIX);
    let out = run(
        &setup.repo,
        &moto,
        &[
            "ceremony",
            "publish",
            "--to",
            TO,
            "--jobs",
            "64",
            "--cache-control",
            "timestamp=max-age=60",
            "--cache-control",
            "versioned=public, max-age=600",
        ],
    );
    succeeded(&out);
    assert_eq!(cache_control(&format!("{public}timestamp.json")), "max-age=60");
    assert_eq!(cache_control(&format!("{public}1.root.json")), "public, max-age=600");

    // From [publish.cache] this time: the objects already up are put again with it.
    let policy = setup.repo.join("trustroot.toml");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(
        &policy,
        format!("{text}\n[publish.cache]\ntimestamp = \"no-cache, max-age=0\"\n"),
    )
    .unwrap();
    let report = json(&run(&setup.repo, &moto, &["ceremony", "publish", "--to", TO, "--json"]));
    assert!(report["push"]["uploaded"].as_u64().unwrap() >= 1, "{report}");
    assert_eq!(cache_control(&format!("{public}timestamp.json")), "no-cache, max-age=0");
    assert_eq!(
        cache_control(&format!("{public}1.root.json")),
        "public, max-age=31536000, immutable"
    );

    // Bad values: a usage error naming the flag, or the policy key, and nothing pushed.
    let before = keys(&moto);
    let error = refused(
        &run(
            &setup.repo,
            &moto,
            &["ceremony", "publish", "--to", TO, "--cache-control", "root=no-cache"],
        ),
        1,
    );
    assert!(error.contains("--cache-control root=no-cache"), "{error}");
    std::fs::write(&policy, format!("{text}\n[publish.cache]\nsnapshot = \"no-cache\"\n")).unwrap();
    let error = refused(&run(&setup.repo, &moto, &["ceremony", "publish", "--to", TO]), 1);
    assert!(error.contains("[publish] cache"), "{error}");
    assert_eq!(keys(&moto), before);
}

#[test]
fn jobs_outside_1_to_256_is_a_usage_error() {
    let setup = Setup::new();
    for jobs in ["0", "257", "many"] {
        let out = trustroot(&setup.repo, &["ceremony", "publish", "--to", TO, "--jobs", jobs]);
        assert_eq!(out.status.code(), Some(2), "{}", common::text(&out));
        assert!(
            common::text(&out).contains("concurrent uploads from 1 to 256"),
            "{}",
            common::text(&out)
        );
    }
    // Flags of a push without a destination.
    let error = refused(&trustroot(&setup.repo, &["ceremony", "publish", "--dry-run"]), 1);
    assert!(error.contains("give --to URL"), "{error}");
}
