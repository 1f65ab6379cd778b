//! Pushes to a real Google Cloud Storage JSON API (gcp-storage-emulator on 127.0.0.1,
//! `gs://BUCKET/PREFIX` with `--endpoint http://127.0.0.1:PORT` or
//! `STORAGE_EMULATOR_HOST`) and what clients then read anonymously from the bucket's
//! public address.
//!
//! The emulator returns no Cache-Control on its public GETs, so the headers are checked
//! on the objects' JSON resources; it checks no credentials and does not enforce
//! `ifGenerationMatch`, so refused credentials are shown where trustroot reads them (before
//! any request) and a lost manifest race only on real GCS.
#![allow(clippy::unwrap_used, clippy::panic)]

mod object_common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use object_common::*;
use trustroot_store::object::backend::{Backend as _, Counted, Headers};
use trustroot_store::object::{Connect, ObjectError, StoreBackend, push};
use trustroot_test_support::gcs::GcsEmulator;
use trustroot_test_support::public_get::public_get;
use trustroot_test_support::{Fault, SimServer};

const BUCKET: &str = "tuf-repo";
const PREFIX: &str = "prod";

fn url() -> String {
    format!("gs://{BUCKET}/{PREFIX}")
}

fn backend(gcs: &GcsEmulator, url: &str) -> StoreBackend {
    open(url, Some(gcs.endpoint()), &[]).unwrap()
}

#[test]
fn fresh_push_serves_a_repository_python_tuf_updates_from() {
    let gcs = GcsEmulator::start(BUCKET);
    let tree = tempfile::tempdir().unwrap();
    let sim = published(tree.path());

    let report = push(&backend(&gcs, &url()), tree.path(), &options(), None).unwrap();
    assert!(report.plan.upload_count() >= 5, "{:?}", report.plan.render());
    assert_eq!(report.generation, 1);

    let timestamp = gcs.object(BUCKET, "prod/timestamp.json").unwrap();
    assert_eq!(timestamp["contentType"], "application/json", "{timestamp}");
    assert_eq!(timestamp["cacheControl"], "no-cache", "{timestamp}");
    let root = gcs.object(BUCKET, "prod/1.root.json").unwrap();
    assert_eq!(root["cacheControl"], "public, max-age=31536000, immutable", "{root}");
    // The manifest sits beside the prefix, never under it.
    let manifest = gcs.object(BUCKET, "prod.trustroot-push.json").unwrap();
    assert_eq!(manifest["cacheControl"], "no-store", "{manifest}");
    assert!(gcs.object(BUCKET, "prod/prod.trustroot-push.json").is_none());

    let public = gcs.public_url(BUCKET, PREFIX);
    let served = public_get(&format!("{public}timestamp.json"));
    assert_eq!(served.status, 200);
    assert_eq!(served.body, std::fs::read(tree.path().join("timestamp.json")).unwrap());
    assert_eq!(served.header("content-type"), Some("application/json"));
    // The emulator's known gap (the operator guide says so): no Cache-Control on public
    // downloads, although the object resource holds it (checked above).
    assert_eq!(served.header("cache-control"), None);
    assert_updates(&sim.root_bytes(1).unwrap(), &public);
}

#[test]
fn no_change_rerun_makes_at_most_3_requests() {
    let gcs = GcsEmulator::start(BUCKET);
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    push(&backend(&gcs, &url()), tree.path(), &options(), None).unwrap();

    let counted = Counted::new(backend(&gcs, &url()));
    let report = push(&counted, tree.path(), &options(), None).unwrap();
    assert_eq!(report.plan.upload_count(), 0);
    // The manifest's GET and timestamp.json's HEAD: on the JSON API the manifest is read
    // as its resource (for the generation) then its bytes, so 3 HTTP requests in all.
    assert_eq!(counted.counts.total(), 2, "{:?}", counted.counts);
    assert_eq!(counted.counts.put.load(Ordering::Relaxed), 0);
}

#[test]
fn a_new_version_uploads_only_what_differs_timestamp_last() {
    let gcs = GcsEmulator::start(BUCKET);
    let tree = tempfile::tempdir().unwrap();
    let mut sim = published(tree.path());
    push(&backend(&gcs, &url()), tree.path(), &options(), None).unwrap();
    let root_generation = gcs.object(BUCKET, "prod/1.root.json").unwrap()["generation"].clone();

    next_version(&mut sim, tree.path());
    // The emulator named the way Google's client libraries find one.
    let host = gcs.endpoint().replace("http://", "");
    let emulated = open(&url(), None, &[("STORAGE_EMULATOR_HOST".into(), host)]).unwrap();
    let report = push(&emulated, tree.path(), &options(), None).unwrap();
    let uploaded: Vec<&String> = report.plan.uploads.values().flatten().collect();
    assert!(!uploaded.iter().any(|k| k.as_str() == "1.root.json"), "{uploaded:?}");
    assert!(
        uploaded.iter().any(|k| k.ends_with(".signing_config.json")),
        "{uploaded:?}"
    );
    assert_eq!(
        uploaded.last().map(|k| k.as_str()),
        Some("timestamp.json"),
        "{uploaded:?}"
    );
    assert_eq!(report.generation, 2);
    assert_eq!(
        gcs.object(BUCKET, "prod/1.root.json").unwrap()["generation"],
        root_generation,
        "an unchanged file is not uploaded again"
    );
    let public = gcs.public_url(BUCKET, PREFIX);
    assert_eq!(
        public_get(&format!("{public}timestamp.json")).body,
        std::fs::read(tree.path().join("timestamp.json")).unwrap()
    );
    assert_updates(&sim.root_bytes(1).unwrap(), &public);
}

#[test]
fn object_replaced_behind_our_back_is_caught_by_audit() {
    let gcs = GcsEmulator::start(BUCKET);
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    push(&backend(&gcs, &url()), tree.path(), &options(), None).unwrap();
    // Someone else replaces a file of the tree with bytes of the same size: only the
    // generation tells.
    let original = std::fs::read(tree.path().join("1.root.json")).unwrap();
    let mut forged = original.clone();
    forged[0] = b' ';
    let headers = Headers {
        content_type: "application/json".into(),
        cache_control: "no-cache".into(),
    };
    block_on(backend(&gcs, &url()).put("1.root.json", forged, &headers));
    let before = gcs.listing(BUCKET);

    let mut audit = options();
    audit.audit = true;
    let error = push(&backend(&gcs, &url()), tree.path(), &audit, None).unwrap_err();
    assert!(
        matches!(&error, ObjectError::Changed { key, .. } if key == "1.root.json"),
        "{error}"
    );
    assert!(error.to_string().contains("gs://tuf-repo/prod: 1.root.json"), "{error}");
    assert_eq!(gcs.listing(BUCKET), before, "a refused audit changes nothing");
}

#[test]
fn missing_bucket_is_refused_by_name_and_nothing_is_written() {
    let gcs = GcsEmulator::start(BUCKET);
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    let error = push(
        &backend(&gcs, "gs://no-such-bucket/prod"),
        tree.path(),
        &options(),
        None,
    )
    .unwrap_err();
    assert!(matches!(error, ObjectError::NoBucket { .. }), "{error}");
    assert!(error.to_string().contains("'no-such-bucket' does not exist"), "{error}");
    assert_eq!(gcs.listing(BUCKET), "");
}

#[test]
fn unreadable_google_credentials_are_refused_before_any_request() {
    let gcs = GcsEmulator::start(BUCKET);
    let tree = tempfile::tempdir().unwrap();
    let sim = published(tree.path());
    push(&backend(&gcs, &url()), tree.path(), &options(), None).unwrap();
    let before = gcs.listing(BUCKET);

    // No --endpoint: Google itself, with a credentials file that is not one.
    let bad = tree.path().join("credentials.json");
    std::fs::write(&bad, b"{\"type\": \"service_account\", \"private_key\": \"not a key\"}").unwrap();
    let env = [("GOOGLE_APPLICATION_CREDENTIALS".to_string(), bad.display().to_string())];
    let error = open(&url(), None, &env).err().unwrap();
    assert!(matches!(error, ObjectError::Setup { .. }), "{error}");
    let message = error.to_string();
    assert!(!message.contains('\n'), "{message}");
    assert!(
        message.starts_with("gs://tuf-repo/prod: cannot set up the store client: cannot read the Google credentials")
            && message.contains("GOOGLE_APPLICATION_CREDENTIALS"),
        "{message}"
    );
    assert_eq!(gcs.listing(BUCKET), before);
    assert_updates(&sim.root_bytes(1).unwrap(), &gcs.public_url(BUCKET, PREFIX));
}

#[test]
fn a_hostile_endpoint_is_refused() {
    for endpoint in [
        "file:///etc",
        "http://user:secret@127.0.0.1:1",
        "http://127.0.0.1:1/?x=1",
    ] {
        let error = open(&url(), Some(endpoint.into()), &[]).err().unwrap();
        assert!(matches!(error, ObjectError::BadEndpoint { .. }), "{endpoint}: {error}");
        assert!(!error.to_string().contains("secret"), "{error}");
    }
}

/// A store on 127.0.0.1 that answers every JSON API request for the manifest's resource
/// with `fault` (where it would have served one) and 404 for anything else; the backend
/// reaching it.
fn hostile(fault: Fault, retries: usize, timeout: Duration) -> (SimServer, StoreBackend, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let resource = dir.path().join(MANIFEST_RESOURCE);
    std::fs::create_dir_all(resource.parent().unwrap()).unwrap();
    std::fs::write(
        &resource,
        br#"{"name": "prod.trustroot-push.json", "size": "2", "generation": "7"}"#,
    )
    .unwrap();
    let server = SimServer::serve_dir(dir.path());
    server.set_fault(MANIFEST_RESOURCE, fault);
    let connect = Connect {
        endpoint: Some(format!("http://{}", server.addr())),
        retries,
        timeout,
    };
    let backend = open_with(&url(), &connect, &[]).unwrap();
    (server, backend, dir)
}

const MANIFEST_RESOURCE: &str = "storage/v1/b/tuf-repo/o/prod.trustroot-push.json";

#[test]
fn store_answering_500_is_retried_then_refused_and_nothing_else_is_requested() {
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    let (server, backend, _dir) = hostile(Fault::Status(500), 2, Duration::from_secs(10));
    let error = push(&backend, tree.path(), &options(), None).unwrap_err();
    assert!(matches!(error, ObjectError::Request { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with("gs://tuf-repo/prod: GET prod.trustroot-push.json failed: HTTP 500"),
        "{message}"
    );
    assert!(message.contains("run the same command again"), "{message}");
    assert_eq!(server.requests(), vec![MANIFEST_RESOURCE; 3], "one try and 2 retries");
}

#[test]
fn endless_answer_is_cut_at_the_size_limit() {
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    let (_server, backend, _dir) = hostile(Fault::Endless, 0, Duration::from_secs(30));
    let started = Instant::now();
    let error = push(&backend, tree.path(), &options(), None).unwrap_err();
    assert!(
        error.to_string().contains("larger than the 1048576 bytes read"),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
}

#[test]
fn stalled_store_times_out() {
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    let (_server, backend, _dir) = hostile(Fault::Stall(Duration::from_secs(60)), 0, Duration::from_secs(1));
    let started = Instant::now();
    let error = push(&backend, tree.path(), &options(), None).unwrap_err();
    assert!(matches!(error, ObjectError::Request { .. }), "{error}");
    assert!(error.to_string().contains("timed out"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

#[test]
fn manifest_claiming_a_huge_size_is_refused_before_its_bytes_are_read() {
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    let resource = br#"{"name": "prod.trustroot-push.json", "size": "1000000000000", "generation": "7"}"#;
    let (server, backend, _dir) = hostile(Fault::Body(resource.to_vec()), 0, Duration::from_secs(10));
    let error = push(&backend, tree.path(), &options(), None).unwrap_err();
    assert!(
        error.to_string().contains("1000000000000 bytes, more than the"),
        "{error}"
    );
    assert_eq!(
        server.requests(),
        vec![MANIFEST_RESOURCE],
        "the bytes were never asked for"
    );
}

/// Runs one request of a backend outside a push.
fn block_on<T>(request: impl std::future::Future<Output = Result<T, ObjectError>>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(request)
        .unwrap()
}
