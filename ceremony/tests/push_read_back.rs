//! The read-back of a push against a real S3 API (moto on 127.0.0.1): an object replaced
//! in the store between its upload and the read-back (as by another writer, or a CDN
//! serving something else) stops the push before `timestamp.json`, and clients keep the
//! previous version.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::path::Path;

use chrono::{TimeZone as _, Utc};
use trustroot_ceremony::readback::HttpReadBack;
use trustroot_store::object::{Connect, Destination, ObjectError, PushOptions, ReadBack, StoreBackend, push};
use trustroot_test_support::RepoSim;
use trustroot_test_support::moto::MotoServer;

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

/// Replaces `key` in the store with other bytes, then reads back as a push does.
struct ReplacedAfterUpload<'a> {
    moto: &'a MotoServer,
    key: String,
    inner: HttpReadBack,
}

impl ReadBack for ReplacedAfterUpload<'_> {
    fn check(&self, uploaded: &[String], timestamp: &[u8]) -> Result<(), (String, String)> {
        assert!(uploaded.contains(&self.key), "{uploaded:?}");
        self.moto.boto3(&format!(
            "s3.put_object(Bucket='{BUCKET}', Key='{PREFIX}/{}', Body=b'{{\"replaced\": true}}', ContentType='application/json')",
            self.key
        ));
        self.inner.check(uploaded, timestamp)
    }
}

fn public_timestamp(moto: &MotoServer) -> String {
    moto.boto3(&format!(
        "print(s3.get_object(Bucket='{BUCKET}', Key='{PREFIX}/timestamp.json')['Body'].read().hex())"
    ))
}

#[test]
fn object_replaced_between_upload_and_read_back_keeps_the_old_timestamp() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, PREFIX);
    let public = url::Url::parse(&moto.public_url(BUCKET, PREFIX)).unwrap();
    let tree = tempfile::tempdir().unwrap();
    let mut sim = RepoSim::new(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap());
    sim.add_target("targets", "trusted_root.json", b"{\"mediaType\":\"trusted-root\"}");
    sim.publish();
    sim.write_published(tree.path()).unwrap();

    // v1 goes up, read back for real (bytes, tough, our client).
    let reader = HttpReadBack::new(public.clone(), tree.path().to_path_buf(), false);
    push(
        &backend(&moto),
        tree.path(),
        &PushOptions::new(Utc::now()),
        Some(&reader),
    )
    .unwrap();
    assert!(reader.checked() >= 4, "{}", reader.checked());
    assert_eq!(reader.client_runs().len(), 2, "{:?}", reader.client_runs());
    let v1 = public_timestamp(&moto);

    sim.bump("targets");
    sim.publish();
    sim.write_published(tree.path()).unwrap();
    let key = format!("{}.targets.json", sim.version("targets"));
    let tamper = ReplacedAfterUpload {
        moto: &moto,
        key: key.clone(),
        inner: HttpReadBack::new(public, tree.path().to_path_buf(), false),
    };
    let error = push(
        &backend(&moto),
        tree.path(),
        &PushOptions::new(Utc::now()),
        Some(&tamper),
    )
    .unwrap_err();
    assert!(
        matches!(&error, ObjectError::ReadBack { key: k, .. } if *k == key),
        "{error}"
    );
    let text = error.to_string();
    assert!(
        text.contains("another sha256") && text.contains("timestamp.json was not uploaded"),
        "{text}"
    );
    assert_eq!(public_timestamp(&moto), v1, "the store still serves v1's timestamp");
}
