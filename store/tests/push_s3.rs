//! Pushes to a real S3 API (moto server on 127.0.0.1) and what clients then read from the
//! bucket's public, path-style address.
#![allow(clippy::unwrap_used, clippy::panic)]

mod object_common;

use object_common::*;
use trustroot_store::object::backend::Counted;
use trustroot_store::object::{ObjectError, StoreBackend, push};
use trustroot_test_support::moto::MotoServer;

const BUCKET: &str = "tuf-repo";
const PREFIX: &str = "prod";

fn backend(moto: &MotoServer, url: &str) -> StoreBackend {
    open(url, Some(moto.endpoint()), &moto.env()).unwrap()
}

fn url() -> String {
    format!("s3://{BUCKET}/{PREFIX}")
}

/// What the bucket holds: key, size, Content-Type | Cache-Control | ETag, a line each.
fn listing(moto: &MotoServer) -> String {
    moto.boto3(&format!(
        "r = s3.list_objects_v2(Bucket='{BUCKET}')\n\
         for o in r.get('Contents', []):\n\
         \x20   h = s3.head_object(Bucket='{BUCKET}', Key=o['Key'])\n\
         \x20   print(o['Key'], o['Size'], h.get('ContentType'), '|', h.get('CacheControl'), '|', o['ETag'])"
    ))
}

#[test]
fn fresh_push_serves_a_repository_python_tuf_updates_from() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, PREFIX);
    let tree = tempfile::tempdir().unwrap();
    let sim = published(tree.path());

    let report = push(&backend(&moto, &url()), tree.path(), &options(), None).unwrap();
    assert!(report.plan.upload_count() >= 5, "{:?}", report.plan.render());
    assert_eq!(report.generation, 1);

    let held = listing(&moto);
    assert!(
        held.contains("prod/timestamp.json") && held.contains("application/json | no-cache"),
        "{held}"
    );
    assert!(
        held.contains("prod/1.root.json") && held.contains("public, max-age=31536000, immutable"),
        "{held}"
    );
    // The manifest sits beside the prefix, not under it.
    assert!(held.contains("prod.trustroot-push.json"), "{held}");
    assert!(!held.contains("prod/prod.trustroot-push.json"), "{held}");

    let base = moto.public_url(BUCKET, PREFIX);
    let out = python_tuf_updates(&sim.root_bytes(1).unwrap(), &base);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn no_change_rerun_makes_at_most_3_requests() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    push(&backend(&moto, &url()), tree.path(), &options(), None).unwrap();

    let counted = Counted::new(backend(&moto, &url()));
    let report = push(&counted, tree.path(), &options(), None).unwrap();
    assert_eq!(report.plan.upload_count(), 0);
    assert!(counted.counts.total() <= 3, "{:?}", counted.counts);
    assert_eq!(counted.counts.put.load(std::sync::atomic::Ordering::Relaxed), 0);
}

#[test]
fn a_new_version_uploads_only_what_differs_timestamp_last() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, PREFIX);
    let tree = tempfile::tempdir().unwrap();
    let mut sim = published(tree.path());
    push(&backend(&moto, &url()), tree.path(), &options(), None).unwrap();

    sim.add_target("targets", "signing_config.json", b"{\"mediaType\":\"signing-config\"}");
    sim.publish();
    sim.write_published(tree.path()).unwrap();
    let report = push(&backend(&moto, &url()), tree.path(), &options(), None).unwrap();
    let uploaded: Vec<&String> = report.plan.uploads.values().flatten().collect();
    assert!(!uploaded.iter().any(|k| k.as_str() == "1.root.json"), "{uploaded:?}");
    assert_eq!(
        uploaded.last().map(|k| k.as_str()),
        Some("timestamp.json"),
        "{uploaded:?}"
    );
    assert_eq!(report.generation, 2);

    let out = python_tuf_updates(&sim.root_bytes(1).unwrap(), &moto.public_url(BUCKET, PREFIX));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn object_replaced_behind_our_back_is_caught_by_audit() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    push(&backend(&moto, &url()), tree.path(), &options(), None).unwrap();
    moto.boto3(&format!(
        "s3.put_object(Bucket='{BUCKET}', Key='{PREFIX}/1.root.json', Body=b'{{\"signed\": \"forged\"}}')"
    ));
    let before = listing(&moto);

    // A plain re-run trusts its manifest; --audit lists and compares.
    let mut audit = options();
    audit.audit = true;
    let error = push(&backend(&moto, &url()), tree.path(), &audit, None).unwrap_err();
    assert!(
        matches!(&error, ObjectError::Changed { key, .. } if key == "1.root.json"),
        "{error}"
    );
    assert!(error.to_string().contains("s3://tuf-repo/prod: 1.root.json"), "{error}");
    assert_eq!(listing(&moto), before, "a refused audit changes nothing");
}

#[test]
fn foreign_objects_under_the_prefix_are_refused() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.boto3(&format!(
        "s3.put_object(Bucket='{BUCKET}', Key='{PREFIX}/index.html', Body=b'hello')"
    ));
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    let before = listing(&moto);
    let error = push(&backend(&moto, &url()), tree.path(), &options(), None).unwrap_err();
    assert!(
        matches!(&error, ObjectError::ForeignPrefix { key, .. } if key == "index.html"),
        "{error}"
    );
    assert_eq!(listing(&moto), before);
}

#[test]
fn missing_bucket_is_refused_by_name() {
    let moto = MotoServer::start();
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    let error = push(
        &backend(&moto, "s3://no-such-bucket/prod"),
        tree.path(),
        &options(),
        None,
    )
    .unwrap_err();
    assert!(matches!(error, ObjectError::NoBucket { .. }), "{error}");
    assert!(error.to_string().contains("'no-such-bucket' does not exist"), "{error}");
}

#[test]
fn dry_run_writes_nothing() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    let mut dry = options();
    dry.dry_run = true;
    let report = push(&backend(&moto, &url()), tree.path(), &dry, None).unwrap();
    let plan = report.plan.render();
    assert!(plan.iter().any(|l| l.starts_with("upload 1 timestamp")), "{plan:?}");
    assert_eq!(listing(&moto), "");
}
