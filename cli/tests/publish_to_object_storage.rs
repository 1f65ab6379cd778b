//! `ceremony publish --to` and `online refresh --to` against a real S3 API (moto on
//! 127.0.0.1): python-tuf, tuf-js and `trustroot client` update from the bucket's public
//! address after each; every refusal (wrong credentials, a missing bucket, a foreign
//! prefix, a public address that does not serve the push, a destination inside the
//! repository) exits 1 with a one-line error and leaves what the store serves unchanged.
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

/// `trustroot ARGS --to s3://tuf-repo/prod --endpoint MOTO --public-url PUBLIC` in `dir`,
/// with `env` as the AWS environment.
fn push_cmd(dir: &Path, moto: &MotoServer, env: &[(String, String)], args: &[&str], public: &str) -> Output {
    let endpoint = moto.endpoint();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--to", TO, "--endpoint", &endpoint, "--public-url", public]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    trustroot_env(dir, &all, &env)
}

fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Exit 1 and a one-line error; returns it.
fn refused(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // One line of error (and one of hint): nothing wrapped, no chain of causes on more lines.
    assert!(
        stderr.lines().all(|l| ["error: ", "hint: ", "warning: ", "note: "]
            .iter()
            .any(|p| l.starts_with(p))),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error: ")).count(),
        1,
        "{stderr}"
    );
    eprintln!("{stderr}");
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("{stderr}"));
    error.to_string()
}

/// GET through the public address, anonymously, as a client does.
fn public_get(url: &str) -> Option<Vec<u8>> {
    let out = Command::new(common::python())
        .args([
            "-c",
            "import sys, urllib.request\ntry:\n    sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1]).read())\nexcept Exception:\n    sys.exit(3)",
            url,
        ])
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .unwrap();
    out.status.success().then_some(out.stdout)
}

/// python-tuf, tuf-js and `trustroot client` each update from `base` trusting root v1 and
/// download trusted_root.json.
fn clients_update(setup: &Setup, base: &str) {
    let root = setup.served().join("1.root.json");
    let targets = format!("{base}targets/");
    for (name, out) in [
        (
            "python-tuf",
            common::ngclient(None, &root, base, &targets, &["trusted_root.json"]),
        ),
        (
            "tuf-js",
            common::tufjs(None, &root, base, &targets, &["trusted_root.json"]),
        ),
        (
            "trustroot client",
            common::trustroot_client(None, &root, base, &targets, &["trusted_root.json"]),
        ),
    ] {
        assert!(out.status.success(), "{name}: {}", common::text(&out));
    }
}

/// A repository with its first round signed and waiting.
fn first_round() -> Setup {
    let setup = Setup::for_publish();
    setup.round_now(&["alice", "bob"]);
    setup
}

/// A second round (a new target), signed and waiting.
fn second_round(setup: &Setup) {
    std::fs::write(setup.repo.join("targets/extra.json"), b"{\"v\": 2}\n").unwrap();
    setup.round_now(&["alice", "bob"]);
}

#[test]
fn publish_and_refresh_push_to_s3_and_python_tuf_tuf_js_and_our_client_update_from_it() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, PREFIX);
    let public = moto.public_url(BUCKET, PREFIX);
    let setup = first_round();

    let out_full = push_cmd(&setup.repo, &moto, &moto.env(), &["ceremony", "publish"], &public);
    let out = succeeded(&out_full);
    assert!(
        out.contains("Published round") && out.contains(&format!("Pushed to {TO}")),
        "{out}"
    );
    assert!(out.contains(&format!("read back from {public} and identical")), "{out}");
    // The timestamp read back once it is up: the store serves the new one, no warning.
    assert!(
        !common::text(&out_full).contains("warning:"),
        "{}",
        common::text(&out_full)
    );
    assert!(
        out.contains(
            "given the new timestamp.json before it went up: tough from root v1: 1 new target(s) read, \
             trustroot client from root v1: 1 new target(s) downloaded"
        ),
        "{out}"
    );
    assert_eq!(
        public_get(&format!("{public}timestamp.json")).unwrap(),
        std::fs::read(setup.served().join("timestamp.json")).unwrap()
    );
    clients_update(&setup, &public);

    // The destination from [publish] this time, as a cron job would run it.
    let policy = setup.repo.join("trustroot.toml");
    let text = std::fs::read_to_string(&policy).unwrap();
    let text = text.replacen(
        "[publish]\n",
        &format!(
            "[publish]\nto = \"{TO}\"\nendpoint = \"{}\"\npublic_url = \"{public}\"\n",
            moto.endpoint()
        ),
        1,
    );
    std::fs::write(&policy, text).unwrap();
    let before = public_get(&format!("{public}timestamp.json")).unwrap();
    let owned = moto.env();
    let env: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = trustroot_env(&setup.repo, &["online", "refresh", "--force", "--json"], &env);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", common::text(&out)));
    assert_eq!(report["push"]["to"], TO, "{report}");
    assert!(report["push"]["uploaded"].as_u64().unwrap() >= 1, "{report}");
    assert_eq!(
        report["push"]["clients"],
        serde_json::json!([
            "tough from root v1: 0 new target(s) read",
            "trustroot client from root v1: 0 new target(s) downloaded"
        ]),
        "{report}"
    );
    let after = public_get(&format!("{public}timestamp.json")).unwrap();
    assert_ne!(after, before);
    assert_eq!(after, std::fs::read(setup.served().join("timestamp.json")).unwrap());
    clients_update(&setup, &public);

    // No round waiting: `publish --to` pushes the current tree, here already up.
    let out = succeeded(&trustroot_env(&setup.repo, &["ceremony", "publish"], &env));
    assert!(
        out.contains("No round waiting") && out.contains("already serves this tree"),
        "{out}"
    );
}

/// Runs `code` with `s3`, a boto3 client of `moto` signing as `id`/`secret`; returns its
/// output.
fn boto3_as(moto: &MotoServer, id: &str, secret: &str, code: &str) -> String {
    let script = format!(
        "import boto3, os\ns3 = boto3.client('s3', endpoint_url='{}', region_name='us-east-1', \
         aws_access_key_id='{id}', aws_secret_access_key='{secret}')\n{code}\n",
        moto.endpoint()
    );
    let out = Command::new(common::python()).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn wrong_aws_secret_is_refused_and_the_store_keeps_serving_the_old_version() {
    // Moto checks SigV4 and IAM after the readiness probe and the 5 set-up requests below.
    // (With checks on, moto answers anonymous GETs with a 500, so what the store serves is
    // read here with the publisher's own, valid, signature instead of by python-tuf.)
    let moto = MotoServer::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "6")]);
    let out = moto.boto3(&format!(
        "import json\n\
         iam = boto3.client('iam', **args)\n\
         s3.create_bucket(Bucket='{BUCKET}')\n\
         s3.put_bucket_policy(Bucket='{BUCKET}', Policy=json.dumps({{'Version': '2012-10-17', 'Statement': [{{'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject', 'Resource': 'arn:aws:s3:::{BUCKET}/{PREFIX}/*'}}]}}))\n\
         iam.create_user(UserName='publisher')\n\
         iam.put_user_policy(UserName='publisher', PolicyName='s3', PolicyDocument=json.dumps({{'Version': '2012-10-17', 'Statement': [{{'Effect': 'Allow', 'Action': 's3:*', 'Resource': '*'}}]}}))\n\
         k = iam.create_access_key(UserName='publisher')['AccessKey']\n\
         print(k['AccessKeyId'], k['SecretAccessKey'])"
    ));
    let [id, secret] = out.split_whitespace().collect::<Vec<_>>()[..] else {
        panic!("{out}")
    };
    let with = |secret: &str| {
        let mut env = moto.env();
        env.retain(|(k, _)| k != "AWS_ACCESS_KEY_ID" && k != "AWS_SECRET_ACCESS_KEY");
        env.push(("AWS_ACCESS_KEY_ID".into(), id.to_string()));
        env.push(("AWS_SECRET_ACCESS_KEY".into(), secret.to_string()));
        env
    };
    // v1 published locally and uploaded by hand (the operator guide's old way): a push
    // adopts a prefix holding only files of its tree.
    let setup = first_round();
    setup.publish();
    let served_dir = std::fs::canonicalize(setup.served()).unwrap();
    boto3_as(
        &moto,
        id,
        secret,
        &format!(
            "root = '{}'\n\
             for d, _, files in os.walk(root):\n\
             \x20   for f in files:\n\
             \x20       p = os.path.join(d, f)\n\
             \x20       s3.upload_file(p, '{BUCKET}', '{PREFIX}/' + os.path.relpath(p, root))",
            served_dir.display()
        ),
    );
    let read_timestamp = || {
        boto3_as(
            &moto,
            id,
            secret,
            &format!("print(s3.get_object(Bucket='{BUCKET}', Key='{PREFIX}/timestamp.json')['Body'].read().hex())"),
        )
    };
    let listing = || {
        boto3_as(
            &moto,
            id,
            secret,
            &format!("print(sorted((o['Key'], o['ETag']) for o in s3.list_objects_v2(Bucket='{BUCKET}')['Contents']))"),
        )
    };
    let v1 = read_timestamp();
    assert_eq!(
        v1,
        hex::encode(std::fs::read(setup.served().join("timestamp.json")).unwrap())
    );
    let before = listing();

    second_round(&setup);
    let error = refused(&push_cmd(
        &setup.repo,
        &moto,
        &with("not-the-secret"),
        &["ceremony", "publish"],
        &moto.public_url(BUCKET, PREFIX),
    ));
    assert!(error.contains(TO) && error.contains("refused"), "{error}");
    assert!(!error.contains("not-the-secret"), "{error}");
    assert_eq!(read_timestamp(), v1, "the store still serves v1's timestamp");
    assert_eq!(listing(), before, "nothing was uploaded");
}

#[test]
fn missing_bucket_is_refused_by_name_and_created_bucket_resumes() {
    let moto = MotoServer::start();
    let public = moto.public_url(BUCKET, PREFIX);
    let setup = first_round();
    let error = refused(&push_cmd(
        &setup.repo,
        &moto,
        &moto.env(),
        &["ceremony", "publish"],
        &public,
    ));
    assert!(
        error.contains(TO) && error.contains("'tuf-repo' does not exist"),
        "{error}"
    );
    assert_eq!(public_get(&format!("{public}timestamp.json")), None);

    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, PREFIX);
    let out = succeeded(&push_cmd(
        &setup.repo,
        &moto,
        &moto.env(),
        &["ceremony", "publish"],
        &public,
    ));
    assert!(out.contains("No round waiting") && out.contains("Pushed to"), "{out}");
    clients_update(&setup, &public);
}

#[test]
fn foreign_objects_under_the_prefix_are_refused_and_left_alone() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, PREFIX);
    moto.boto3(&format!(
        "s3.put_object(Bucket='{BUCKET}', Key='{PREFIX}/timestamp.json', Body=b'someone else')"
    ));
    let public = moto.public_url(BUCKET, PREFIX);
    let setup = first_round();
    let error = refused(&push_cmd(
        &setup.repo,
        &moto,
        &moto.env(),
        &["ceremony", "publish"],
        &public,
    ));
    assert!(
        error.contains(TO) && error.contains("timestamp.json, which is not a file of this repository"),
        "{error}"
    );
    assert_eq!(
        moto.boto3(&format!(
            "print(sorted(o['Key'] for o in s3.list_objects_v2(Bucket='{BUCKET}')['Contents']))"
        )),
        "['prod/timestamp.json']"
    );
    assert_eq!(public_get(&format!("{public}timestamp.json")).unwrap(), b"someone else");
}

#[test]
fn public_url_not_serving_the_push_stops_it_before_the_timestamp() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, PREFIX);
    let public = moto.public_url(BUCKET, PREFIX);
    let setup = first_round();
    succeeded(&push_cmd(
        &setup.repo,
        &moto,
        &moto.env(),
        &["ceremony", "publish"],
        &public,
    ));
    second_round(&setup);
    let served = public_get(&format!("{public}timestamp.json")).unwrap();

    // A CDN in front of another (stale, empty) prefix: the new objects are not there.
    let stale = moto.public_url(BUCKET, "stale");
    let error = refused(&push_cmd(
        &setup.repo,
        &moto,
        &moto.env(),
        &["ceremony", "publish"],
        &stale,
    ));
    assert!(
        error.contains("read-back refused") && error.contains("timestamp.json was not uploaded"),
        "{error}"
    );
    assert_eq!(public_get(&format!("{public}timestamp.json")).unwrap(), served);
    let out = common::ngclient(
        None,
        &setup.served().join("1.root.json"),
        &public,
        &format!("{public}targets/"),
        &["trusted_root.json"],
    );
    assert!(out.status.success(), "{}", common::text(&out));
}

#[test]
fn to_inside_the_signing_repository_or_the_local_destination_is_refused_before_publishing() {
    let setup = first_round();
    let before = tree_hash(&setup.repo);
    for to in [
        format!("file://{}/metadata/pushed", setup.repo.display()),
        setup.repo.join("public/copy").display().to_string(),
        setup.repo.join("targets").display().to_string(),
    ] {
        let error = refused(&trustroot(&setup.repo, &["ceremony", "publish", "--to", &to]));
        assert!(error.contains(&to) && error.contains(" is inside "), "{error}");
        let error = refused(&trustroot(&setup.repo, &["online", "refresh", "--force", "--to", &to]));
        assert!(error.contains(" is inside "), "{error}");
    }
    assert_eq!(tree_hash(&setup.repo), before, "nothing was published or refreshed");
}

#[test]
fn store_answering_500_is_refused_and_nothing_after_the_manifest_is_requested() {
    let empty = tempfile::tempdir().unwrap();
    let server = trustroot_test_support::SimServer::serve_dir(empty.path());
    let manifest = format!("{BUCKET}/{PREFIX}.trustroot-push.json");
    server.set_fault(&manifest, trustroot_test_support::Fault::Status(500));
    let endpoint = format!("http://{}", server.addr());
    let public = format!("{endpoint}/{BUCKET}/{PREFIX}/");
    let setup = first_round();
    let env = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing-secret"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials"),
        ("AWS_CONFIG_FILE", "/nonexistent/config"),
    ];
    let out = trustroot_env(
        &setup.repo,
        &[
            "ceremony",
            "publish",
            "--to",
            TO,
            "--endpoint",
            &endpoint,
            "--public-url",
            &public,
        ],
        &env,
    );
    let error = refused(&out);
    assert!(error.contains(TO) && error.contains("500"), "{error}");
    assert!(error.contains("run the same command again"), "{error}");
    let requests = server.requests();
    assert!(
        !requests.is_empty() && requests.iter().all(|p| *p == manifest),
        "{requests:?}"
    );
}

#[test]
fn object_replaced_in_the_bucket_is_caught_by_publish_audit_and_nothing_is_uploaded() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, PREFIX);
    let public = moto.public_url(BUCKET, PREFIX);
    let setup = first_round();
    succeeded(&push_cmd(
        &setup.repo,
        &moto,
        &moto.env(),
        &["ceremony", "publish"],
        &public,
    ));
    moto.boto3(&format!(
        "s3.put_object(Bucket='{BUCKET}', Key='{PREFIX}/1.root.json', Body=b'{{\"signed\": \"forged\"}}')"
    ));
    moto.boto3(&format!(
        "s3.put_object(Bucket='{BUCKET}', Key='{PREFIX}/index.html', Body=b'hello')"
    ));
    let listing = || {
        moto.boto3(&format!(
            "print(sorted((o['Key'], o['ETag']) for o in s3.list_objects_v2(Bucket='{BUCKET}')['Contents']))"
        ))
    };
    let before = listing();
    // Without --audit the manifest is trusted (two requests); with it, the change is found.
    let error = refused(&push_cmd(
        &setup.repo,
        &moto,
        &moto.env(),
        &["ceremony", "publish", "--audit"],
        &public,
    ));
    assert!(
        error.contains("1.root.json was changed behind trustroot's back"),
        "{error}"
    );
    assert_eq!(listing(), before, "nothing was uploaded or deleted");

    // Deleted instead: --audit uploads it again and reports the foreign object.
    moto.boto3(&format!(
        "s3.delete_object(Bucket='{BUCKET}', Key='{PREFIX}/1.root.json')"
    ));
    let out = push_cmd(
        &setup.repo,
        &moto,
        &moto.env(),
        &["ceremony", "publish", "--audit", "--json"],
        &public,
    );
    let report: serde_json::Value = serde_json::from_slice(&succeeded(&out).into_bytes()).unwrap();
    assert_eq!(
        report["push"]["missing"],
        serde_json::json!(["1.root.json"]),
        "{report}"
    );
    assert_eq!(report["push"]["foreign"], serde_json::json!(["index.html"]), "{report}");
    assert_eq!(
        public_get(&format!("{public}1.root.json")).unwrap(),
        std::fs::read(setup.served().join("1.root.json")).unwrap()
    );
    clients_update(&setup, &public);
}

#[test]
fn audit_without_a_destination_is_refused_before_publishing() {
    let setup = first_round();
    let before = tree_hash(&setup.repo);
    let error = refused(&trustroot(&setup.repo, &["ceremony", "publish", "--audit"]));
    assert!(error.contains("give --to URL"), "{error}");
    assert_eq!(tree_hash(&setup.repo), before, "nothing was published");
}
