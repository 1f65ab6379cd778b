//! Our own client as the read-back of a push (`ClientReadBack`), against a real S3 API
//! (moto on 127.0.0.1): it walks a root rotation through the store from root v1 and from
//! the new root with the new timestamp from memory, and a store serving a snapshot other
//! than the pushed one stops the push before `timestamp.json`.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::path::Path;

use chrono::{TimeZone as _, Utc};
use trustroot_mirror::readback::ClientReadBack;
use trustroot_store::object::{Connect, Destination, ObjectError, PushOptions, ReadBack, StoreBackend, push};
use trustroot_test_support::moto::MotoServer;
use trustroot_test_support::{KeyType, RepoSim};

const BUCKET: &str = "tuf-repo";
const PREFIX: &str = "prod";

fn backend(moto: &MotoServer) -> StoreBackend {
    let env: HashMap<String, String> = moto.env().into_iter().collect();
    let lookup = move |name: &str| env.get(name).cloned();
    let destination = Destination::parse(&format!("s3://{BUCKET}/{PREFIX}"), Path::new("/")).unwrap();
    let connect = Connect {
        endpoint: Some(moto.endpoint()),
        retries: 0,
        ..Connect::default()
    };
    StoreBackend::open(&destination, &connect, &lookup).unwrap().0
}

/// A store with v1 pushed, read back by our client; returns the simulator and the public
/// address.
fn v1_pushed(moto: &MotoServer, tree: &Path) -> (RepoSim, url::Url) {
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, PREFIX);
    let public = url::Url::parse(&moto.public_url(BUCKET, PREFIX)).unwrap();
    let mut sim = RepoSim::new(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap());
    sim.add_target("targets", "trusted_root.json", b"{\"mediaType\":\"trusted-root\"}");
    sim.publish();
    sim.write_published(tree).unwrap();
    let client = ClientReadBack::new(public.clone(), tree.to_path_buf());
    push(&backend(moto), tree, &PushOptions::new(Utc::now()), Some(&client)).unwrap();
    assert_eq!(
        client.runs(),
        ["trustroot client from root v1: 1 new target(s) downloaded"]
    );
    (sim, public)
}

#[test]
fn new_root_is_walked_by_our_client_from_root_v1_and_the_new_root_before_the_timestamp() {
    let moto = MotoServer::start();
    let tree = tempfile::tempdir().unwrap();
    let (mut sim, public) = v1_pushed(&moto, tree.path());
    sim.rotate_keys("root", 1, KeyType::Ed25519);
    sim.publish();
    sim.write_published(tree.path()).unwrap();
    let client = ClientReadBack::new(public, tree.path().to_path_buf());
    push(
        &backend(&moto),
        tree.path(),
        &PushOptions::new(Utc::now()),
        Some(&client),
    )
    .unwrap();
    assert_eq!(
        client.runs(),
        [
            "trustroot client from root v1: 0 new target(s) downloaded",
            "trustroot client from root v2: 0 new target(s) downloaded",
        ],
    );
}

/// Serves another snapshot than the one pushed, as a stale or hostile cache would: the
/// client's read-back refuses it and the timestamp stays the old one.
struct SnapshotSwapped<'a> {
    moto: &'a MotoServer,
    inner: ClientReadBack,
}

impl ReadBack for SnapshotSwapped<'_> {
    fn check(&self, uploaded: &[String], timestamp: &[u8]) -> Result<(), (String, String)> {
        let snapshot = uploaded.iter().find(|k| k.ends_with(".snapshot.json")).unwrap();
        self.moto.boto3(&format!(
            "s3.put_object(Bucket='{BUCKET}', Key='{PREFIX}/{snapshot}', Body=b'{{}}', ContentType='application/json')"
        ));
        self.inner.check(uploaded, timestamp)
    }
}

#[test]
fn snapshot_replaced_in_the_store_is_refused_by_our_client_before_the_timestamp() {
    let moto = MotoServer::start();
    let tree = tempfile::tempdir().unwrap();
    let (mut sim, public) = v1_pushed(&moto, tree.path());
    let before = moto.boto3(&format!(
        "print(s3.get_object(Bucket='{BUCKET}', Key='{PREFIX}/timestamp.json')['Body'].read().hex())"
    ));
    sim.add_target("targets", "signing_config.json", b"{}");
    sim.publish();
    sim.write_published(tree.path()).unwrap();
    let swapped = SnapshotSwapped {
        moto: &moto,
        inner: ClientReadBack::new(public, tree.path().to_path_buf()),
    };
    let error = push(
        &backend(&moto),
        tree.path(),
        &PushOptions::new(Utc::now()),
        Some(&swapped),
    )
    .unwrap_err();
    assert!(matches!(error, ObjectError::ReadBack { .. }), "{error}");
    assert!(error.to_string().contains("refuses the repository"), "{error}");
    let after = moto.boto3(&format!(
        "print(s3.get_object(Bucket='{BUCKET}', Key='{PREFIX}/timestamp.json')['Body'].read().hex())"
    ));
    assert_eq!(before, after);
}
