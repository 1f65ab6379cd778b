//! `ceremony publish --to az://...` against Azurite and `--to gs://...` against
//! gcp-storage-emulator (both real servers on 127.0.0.1): python-tuf, tuf-js and
//! `trustroot client` update from each store's public address after each round, and a
//! refused push (a wrong account key, a missing bucket) exits 1 with one line and leaves
//! what the store serves unchanged.
#![allow(clippy::unwrap_used, clippy::panic)]

mod ceremony_common;
mod common;

use std::path::Path;
use std::process::Output;

use ceremony_common::*;
use trustroot_test_support::azurite::{self, AzuriteServer};
use trustroot_test_support::gcs::GcsEmulator;
use trustroot_test_support::public_get::public_get;

const BUCKET: &str = "tuf-repo";
const PREFIX: &str = "prod";

/// `trustroot ceremony publish --to TO --endpoint ENDPOINT --public-url PUBLIC` in `dir`.
fn publish(dir: &Path, to: &str, endpoint: &str, public: &str, env: &[(String, String)]) -> Output {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    trustroot_env(
        dir,
        &[
            "ceremony",
            "publish",
            "--to",
            to,
            "--endpoint",
            endpoint,
            "--public-url",
            public,
        ],
        &env,
    )
}

fn succeeded(out: &Output) -> String {
    assert!(out.status.success(), "{}", common::text(out));
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Exit 1 and exactly one line of error; returns it.
fn refused(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.lines().all(|l| ["error: ", "hint: ", "warning: ", "note: "]
            .iter()
            .any(|p| l.starts_with(p))),
        "{stderr}"
    );
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    errors[0].to_string()
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
        assert!(out.status.success(), "{name} from {base}: {}", common::text(&out));
    }
}

/// The store serves exactly the local tree's timestamp.json.
fn serves_local_timestamp(setup: &Setup, public: &str) {
    let served = public_get(&format!("{public}timestamp.json"));
    assert_eq!(served.status, 200, "{public}timestamp.json");
    assert_eq!(
        served.body,
        std::fs::read(setup.served().join("timestamp.json")).unwrap()
    );
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
fn publish_to_azure_blob_and_clients_update_from_the_container() {
    let azurite = AzuriteServer::start();
    azurite.create_public_container(BUCKET);
    let to = format!("az://{BUCKET}/{PREFIX}");
    let public = azurite.public_url(BUCKET, PREFIX);
    let setup = first_round();

    let out = succeeded(&publish(&setup.repo, &to, &azurite.endpoint(), &public, &azurite.env()));
    assert!(
        out.contains("Published round") && out.contains(&format!("Pushed to {to}")),
        "{out}"
    );
    assert!(out.contains(&format!("read back from {public} and identical")), "{out}");
    serves_local_timestamp(&setup, &public);
    clients_update(&setup, &public);

    // A wrong account key: refused, named, and the container still serves round 1.
    second_round(&setup);
    let served = public_get(&format!("{public}timestamp.json")).body;
    let wrong = vec![
        ("AZURE_STORAGE_ACCOUNT_NAME".to_string(), azurite::ACCOUNT.to_string()),
        ("AZURE_STORAGE_ACCOUNT_KEY".to_string(), azurite::KEY.replace('E', "F")),
    ];
    let error = refused(&publish(&setup.repo, &to, &azurite.endpoint(), &public, &wrong));
    assert!(
        error.contains(&to) && error.contains(" was refused: ") && error.contains("AZURE_STORAGE_ACCOUNT_KEY"),
        "{error}"
    );
    assert!(!error.contains(azurite::KEY), "{error}");
    assert_eq!(public_get(&format!("{public}timestamp.json")).body, served);
    clients_update(&setup, &public);

    // The right key again: round 2 (published locally by the refused run) goes up.
    let out = succeeded(&publish(&setup.repo, &to, &azurite.endpoint(), &public, &azurite.env()));
    assert!(out.contains("No round waiting") && out.contains("Pushed to"), "{out}");
    serves_local_timestamp(&setup, &public);
    clients_update(&setup, &public);
}

#[test]
fn publish_to_google_cloud_storage_and_clients_update_from_the_bucket() {
    let gcs = GcsEmulator::start(BUCKET);
    let to = format!("gs://{BUCKET}/{PREFIX}");
    let public = gcs.public_url(BUCKET, PREFIX);
    let setup = first_round();

    // A bucket that is not there: refused by name, nothing served anywhere.
    let missing = format!("gs://no-such-bucket/{PREFIX}");
    let error = refused(&publish(
        &setup.repo,
        &missing,
        &gcs.endpoint(),
        &gcs.public_url("no-such-bucket", PREFIX),
        &[],
    ));
    assert!(
        error.contains(&missing) && error.contains("'no-such-bucket' does not exist"),
        "{error}"
    );
    assert_eq!(gcs.listing(BUCKET), "");

    // The round was published locally by the refused run; the push takes the tree as it is.
    let out = succeeded(&publish(&setup.repo, &to, &gcs.endpoint(), &public, &[]));
    assert!(out.contains(&format!("Pushed to {to}")), "{out}");
    assert!(out.contains(&format!("read back from {public} and identical")), "{out}");
    serves_local_timestamp(&setup, &public);
    let timestamp = gcs.object(BUCKET, "prod/timestamp.json").unwrap();
    assert_eq!(timestamp["cacheControl"], "no-cache", "{timestamp}");
    clients_update(&setup, &public);

    second_round(&setup);
    let out = succeeded(&publish(&setup.repo, &to, &gcs.endpoint(), &public, &[]));
    assert!(
        out.contains("Published round") && out.contains(&format!("Pushed to {to}")),
        "{out}"
    );
    serves_local_timestamp(&setup, &public);
    clients_update(&setup, &public);
}
