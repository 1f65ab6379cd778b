//! The read-back of a push against a real S3 API (moto on 127.0.0.1): an object replaced
//! in the store between its upload and the read-back (as by another writer, or a CDN
//! serving something else) stops the push before `timestamp.json`, and clients keep the
//! previous version.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::path::Path;

use chrono::{TimeZone as _, Utc};
use trustroot_ceremony::readback::HttpReadBack;
use trustroot_store::object::layout::CacheControl;
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

/// Replaces `key` in the store (`Body` and the rest of put_object's arguments in `put`),
/// then reads back as a push does.
struct ReplacedAfterUpload<'a> {
    moto: &'a MotoServer,
    key: String,
    put: String,
    inner: HttpReadBack,
}

impl ReadBack for ReplacedAfterUpload<'_> {
    fn check(&self, uploaded: &[String], timestamp: &[u8]) -> Result<(), (String, String)> {
        assert!(uploaded.contains(&self.key), "{uploaded:?}");
        self.moto.boto3(&format!(
            "s3.put_object(Bucket='{BUCKET}', Key='{PREFIX}/{}', {})",
            self.key, self.put
        ));
        self.inner.check(uploaded, timestamp)
    }
}

fn public_timestamp(moto: &MotoServer) -> String {
    moto.boto3(&format!(
        "print(s3.get_object(Bucket='{BUCKET}', Key='{PREFIX}/timestamp.json')['Body'].read().hex())"
    ))
}

/// A store with v1 pushed (and read back for real: bytes and tough) and v2 (a new
/// targets version) written locally; the public address and the key of targets v2.
fn v1_up_v2_local(moto: &MotoServer, tree: &Path) -> (url::Url, String) {
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, PREFIX);
    let public = url::Url::parse(&moto.public_url(BUCKET, PREFIX)).unwrap();
    let mut sim = RepoSim::new(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap());
    sim.add_target("targets", "trusted_root.json", b"{\"mediaType\":\"trusted-root\"}");
    sim.publish();
    sim.write_published(tree).unwrap();
    let reader = HttpReadBack::new(public.clone(), tree.to_path_buf(), false, CacheControl::default());
    push(&backend(moto), tree, &PushOptions::new(Utc::now()), Some(&reader)).unwrap();
    assert!(reader.checked() >= 4, "{}", reader.checked());
    assert_eq!(reader.runs(), ["tough from root v1: 1 new target(s) read"]);
    sim.bump("targets");
    sim.publish();
    sim.write_published(tree).unwrap();
    (public, format!("{}.targets.json", sim.version("targets")))
}

/// A bucket whose prefix anyone may read, with v1 (one target) pushed without a
/// read-back; the repository and the public address.
fn v1_pushed(moto: &MotoServer, tree: &Path) -> (RepoSim, url::Url) {
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, PREFIX);
    let public = url::Url::parse(&moto.public_url(BUCKET, PREFIX)).unwrap();
    let mut sim = RepoSim::new(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap());
    sim.add_target("targets", "trusted_root.json", b"{\"mediaType\":\"trusted-root\"}");
    sim.publish();
    sim.write_published(tree).unwrap();
    push(&backend(moto), tree, &PushOptions::new(Utc::now()), None).unwrap();
    (sim, public)
}

/// Pushes v2 with `key` replaced after its upload as `put` says; returns the refusal.
fn push_replacing(moto: &MotoServer, tree: &Path, public: url::Url, key: &str, put: String) -> ObjectError {
    let v1 = public_timestamp(moto);
    let tamper = ReplacedAfterUpload {
        moto,
        key: key.to_string(),
        put,
        inner: HttpReadBack::new(public, tree.to_path_buf(), false, CacheControl::default()),
    };
    let error = push(&backend(moto), tree, &PushOptions::new(Utc::now()), Some(&tamper)).unwrap_err();
    assert!(
        matches!(&error, ObjectError::ReadBack { key: k, .. } if k == key),
        "{error}"
    );
    assert!(error.to_string().contains("timestamp.json was not uploaded"), "{error}");
    assert_eq!(public_timestamp(moto), v1, "the store still serves v1's timestamp");
    error
}

#[test]
fn object_replaced_between_upload_and_read_back_keeps_the_old_timestamp() {
    let moto = MotoServer::start();
    let tree = tempfile::tempdir().unwrap();
    let (public, key) = v1_up_v2_local(&moto, tree.path());
    let error = push_replacing(
        &moto,
        tree.path(),
        public,
        &key,
        "Body=b'{\"replaced\": true}', ContentType='application/json'".into(),
    );
    assert!(error.to_string().contains("another sha256"), "{error}");
}

/// A push stopped by its read-back leaves its uploads in the store (the targets phase is
/// recorded in the manifest once it is up); the run that resumes it uploads none of them
/// again, and must not take them on trust: it reads them back too.
#[test]
fn target_replaced_before_a_refused_read_back_is_read_back_again_by_the_rerun() {
    let moto = MotoServer::start();
    let tree = tempfile::tempdir().unwrap();
    let (mut sim, public) = v1_pushed(&moto, tree.path());
    let v1 = public_timestamp(&moto);
    sim.add_target("targets", "signing_config.json", b"{\"mediaType\":\"signing-config\"}");
    sim.publish();
    sim.write_published(tree.path()).unwrap();
    let key = std::fs::read_dir(tree.path().join("targets"))
        .unwrap()
        .map(|entry| format!("targets/{}", entry.unwrap().file_name().to_str().unwrap()))
        .find(|key| key.ends_with(".signing_config.json"))
        .unwrap();
    push_replacing(
        &moto,
        tree.path(),
        public.clone(),
        &key,
        "Body=b'{\"replaced\": true}', ContentType='application/octet-stream'".into(),
    );

    // The same command again, nothing fixed: the target is not uploaded again, but read
    // back again; still refused, still v1's timestamp.
    let reader = HttpReadBack::new(
        public.clone(),
        tree.path().to_path_buf(),
        false,
        CacheControl::default(),
    );
    let options = PushOptions::new(Utc::now());
    let error = push(&backend(&moto), tree.path(), &options, Some(&reader)).unwrap_err();
    assert!(
        matches!(&error, ObjectError::ReadBack { key: k, .. } if *k == key),
        "{error}"
    );
    assert!(error.to_string().contains("another sha256"), "{error}");
    assert_eq!(public_timestamp(&moto), v1);
    let mut dry = options.clone();
    dry.dry_run = true;
    let plan = push(&backend(&moto), tree.path(), &dry, None).unwrap().plan;
    assert!(
        !plan.uploads.values().flatten().any(|k| *k == key),
        "{:?}",
        plan.uploads
    );
    assert!(plan.read_back_keys().contains(&key), "{:?}", plan.read_back_keys());
    assert!(
        plan.render().iter().any(|line| line.starts_with("read back again: ")),
        "{:?}",
        plan.render()
    );

    // The target put right: the rerun reads it back, and only then the timestamp goes up.
    let bytes = std::fs::read(tree.path().join(&key)).unwrap();
    let cache = CacheControl::default();
    let entry = trustroot_store::object::layout::classify(&key).unwrap();
    moto.boto3(&format!(
        "s3.put_object(Bucket='{BUCKET}', Key='{PREFIX}/{key}', Body=bytes.fromhex('{}'), ContentType='{}', CacheControl='{}')",
        hex::encode(&bytes),
        trustroot_store::object::layout::content_type(&key),
        cache.for_entry(entry)
    ));
    let reader = HttpReadBack::new(public, tree.path().to_path_buf(), false, cache);
    push(&backend(&moto), tree.path(), &options, Some(&reader)).unwrap();
    assert!(
        reader.checked() >= 3,
        "the target, targets and snapshot: {}",
        reader.checked()
    );
    assert_eq!(reader.runs(), ["tough from root v1: 1 new target(s) read"]);
    assert_ne!(public_timestamp(&moto), v1);

    // Accepted: nothing is left to read back again.
    let plan = push(&backend(&moto), tree.path(), &dry, None).unwrap().plan;
    assert!(plan.read_back_keys().is_empty(), "{:?}", plan.read_back_keys());
}

#[test]
fn cache_control_rewritten_after_upload_keeps_the_old_timestamp() {
    let moto = MotoServer::start();
    let tree = tempfile::tempdir().unwrap();
    let (public, key) = v1_up_v2_local(&moto, tree.path());
    // The same bytes, served with a header that would make a CDN refetch for ever.
    let bytes = std::fs::read(tree.path().join(&key)).unwrap();
    let error = push_replacing(
        &moto,
        tree.path(),
        public,
        &key,
        format!(
            "Body=bytes.fromhex('{}'), ContentType='application/json', CacheControl='no-store'",
            hex::encode(bytes)
        ),
    );
    assert!(error.to_string().contains("Cache-Control 'no-store'"), "{error}");
}

#[test]
fn new_root_is_read_back_from_root_v1_and_from_the_new_root_before_the_timestamp() {
    let moto = MotoServer::start();
    let tree = tempfile::tempdir().unwrap();
    let (mut sim, public) = v1_pushed(&moto, tree.path());

    // Root v2 (new keys signed over by v1's): a client that trusts v1 must walk to it
    // through the store before the new timestamp, signed for v2, goes up.
    sim.rotate_keys("root", 1, trustroot_test_support::KeyType::Ed25519);
    sim.publish();
    sim.write_published(tree.path()).unwrap();
    let reader = HttpReadBack::new(public, tree.path().to_path_buf(), false, CacheControl::default());
    push(
        &backend(&moto),
        tree.path(),
        &PushOptions::new(Utc::now()),
        Some(&reader),
    )
    .unwrap();
    // (Our own client's read-back is the mirror crate's: mirror/tests/push_read_back.rs.)
    assert_eq!(
        reader.runs(),
        [
            "tough from root v1: 0 new target(s) read",
            "tough from root v2: 0 new target(s) read",
        ],
    );
}

#[test]
fn cache_still_serving_the_old_timestamp_after_the_push_is_a_warning() {
    // A cache in front of the store: it answers the old timestamp.json.
    let cache = tempfile::tempdir().unwrap();
    std::fs::write(cache.path().join("timestamp.json"), b"{\"old\": true}").unwrap();
    let server = trustroot_test_support::SimServer::serve_dir(cache.path());
    let tree = tempfile::tempdir().unwrap();
    std::fs::write(tree.path().join("timestamp.json"), b"{\"new\": true}").unwrap();
    let base = url::Url::parse(&server.base_url()).unwrap();
    let reader = HttpReadBack::new(base, tree.path().to_path_buf(), false, CacheControl::default());
    let warning = reader.timestamp_served().unwrap();
    assert!(warning.contains("still serves an older timestamp.json"), "{warning}");

    std::fs::write(cache.path().join("timestamp.json"), b"{\"new\": true}").unwrap();
    assert_eq!(reader.timestamp_served(), None);
}

/// Sigstore production's published tree read back as a push of it would be: tough cannot
/// start from its roots 1 to 11 (published before a tool that checks key IDs), so the
/// read-back refuses it, as the gate does; with `tough-root-history` accepted for roots
/// before the import (root v15), tough starts from the first root it can, v12, as the
/// gate does.
#[test]
fn tough_root_history_accepted_by_the_policy_is_read_back_as_the_gate_reads_it() {
    // tough reads the wall clock: the body runs again under faketime at the fixture's time.
    let test = "tough_root_history_accepted_by_the_policy_is_read_back_as_the_gate_reads_it";
    if !trustroot_test_support::faketime::under_faketime(test, "2026-08-22 00:00:00") {
        return;
    }
    let fixtures = trustroot_test_support::unpack_sigstore_fixtures();
    let published = fixtures.path().join("sigstore-prod/published");
    let server = trustroot_test_support::SimServer::serve_dir(&published);
    let public = url::Url::parse(&server.base_url()).unwrap();
    // Nothing uploaded by this "push": the byte compare (which a store's content types are
    // part of) has nothing to do, and tough starts from root v1 and from the newest root.
    let uploaded: Vec<String> = Vec::new();
    let timestamp = std::fs::read(published.join("timestamp.json")).unwrap();

    let strict = HttpReadBack::new(public.clone(), published.clone(), false, CacheControl::default());
    let (key, reason) = strict.check(&uploaded, &timestamp).unwrap_err();
    assert_eq!(key, "(the repository)");
    assert!(reason.contains("tough from root v1 refuses"), "{reason}");

    let accepted =
        HttpReadBack::new(public, published, false, CacheControl::default()).with_history_accepted_below(Some(15));
    accepted.check(&uploaded, &timestamp).unwrap();
    let runs = accepted.runs().join("\n");
    assert!(runs.contains("tough from root v11: refused"), "{runs}");
    assert!(runs.contains("accepted by [gate] accept"), "{runs}");
    assert!(runs.contains("tough from root v12: 0 new target(s) read"), "{runs}");
    assert!(runs.contains("tough from root v15"), "{runs}");
}
