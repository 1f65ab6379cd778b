//! Pushes to a real Azure Blob API (Azurite on 127.0.0.1, `az://CONTAINER/PREFIX` with
//! `--endpoint http://127.0.0.1:PORT/devstoreaccount1`) and what clients then read
//! anonymously from the container's public address.
#![allow(clippy::unwrap_used, clippy::panic)]

mod object_common;

use std::sync::atomic::Ordering;

use object_common::*;
use trustroot_store::object::backend::{Backend as _, Counted, Headers};
use trustroot_store::object::{ObjectError, StoreBackend, push};
use trustroot_test_support::azurite::AzuriteServer;
use trustroot_test_support::public_get::public_get;

const CONTAINER: &str = "tuf-repo";
const PREFIX: &str = "prod";

fn url() -> String {
    format!("az://{CONTAINER}/{PREFIX}")
}

fn backend(azurite: &AzuriteServer, url: &str) -> StoreBackend {
    open(url, Some(azurite.endpoint()), &azurite.env()).unwrap()
}

/// Azurite with a container whose blobs anyone may read, as one served to the public is.
fn started() -> AzuriteServer {
    let azurite = AzuriteServer::start();
    azurite.create_public_container(CONTAINER);
    azurite
}

#[test]
fn fresh_push_serves_a_repository_python_tuf_updates_from() {
    let azurite = started();
    let tree = tempfile::tempdir().unwrap();
    let sim = published(tree.path());

    let report = push(&backend(&azurite, &url()), tree.path(), &options(), None).unwrap();
    assert!(report.plan.upload_count() >= 5, "{:?}", report.plan.render());
    assert_eq!(report.generation, 1);

    let public = azurite.public_url(CONTAINER, PREFIX);
    let timestamp = public_get(&format!("{public}timestamp.json"));
    assert_eq!(timestamp.status, 200);
    assert_eq!(
        timestamp.body,
        std::fs::read(tree.path().join("timestamp.json")).unwrap()
    );
    assert_eq!(timestamp.header("content-type"), Some("application/json"));
    assert_eq!(timestamp.header("cache-control"), Some("no-cache"));
    let root = public_get(&format!("{public}1.root.json"));
    assert_eq!(
        root.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_updates(&sim.root_bytes(1).unwrap(), &public);

    // The manifest sits beside the prefix in the same container, never under it: no
    // client asks for it. With blob-level public access it is readable like every blob
    // (it holds names, sizes, hashes and generations of public files, no secret), while
    // the container's listing stays refused to anonymous readers.
    let beside = format!("{}/{CONTAINER}/{PREFIX}.trustroot-push.json", azurite.endpoint());
    assert_eq!(public_get(&beside).status, 200);
    assert_eq!(public_get(&format!("{public}{PREFIX}.trustroot-push.json")).status, 404);
    let listing = format!("{}/{CONTAINER}?restype=container&comp=list", azurite.endpoint());
    assert_ne!(public_get(&listing).status, 200);
}

#[test]
fn no_change_rerun_makes_at_most_3_requests() {
    let azurite = started();
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    push(&backend(&azurite, &url()), tree.path(), &options(), None).unwrap();

    let counted = Counted::new(backend(&azurite, &url()));
    let report = push(&counted, tree.path(), &options(), None).unwrap();
    assert_eq!(report.plan.upload_count(), 0);
    // One GET of the manifest, one HEAD of timestamp.json.
    assert!(counted.counts.total() <= 3, "{:?}", counted.counts);
    assert_eq!(counted.counts.put.load(Ordering::Relaxed), 0);
}

#[test]
fn a_new_version_uploads_only_what_differs_timestamp_last() {
    let azurite = started();
    let tree = tempfile::tempdir().unwrap();
    let mut sim = published(tree.path());
    push(&backend(&azurite, &url()), tree.path(), &options(), None).unwrap();

    next_version(&mut sim, tree.path());
    let report = push(&backend(&azurite, &url()), tree.path(), &options(), None).unwrap();
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
    let public = azurite.public_url(CONTAINER, PREFIX);
    assert_eq!(
        public_get(&format!("{public}timestamp.json")).body,
        std::fs::read(tree.path().join("timestamp.json")).unwrap()
    );
    assert_updates(&sim.root_bytes(1).unwrap(), &public);
}

#[test]
fn object_replaced_behind_our_back_is_caught_by_audit() {
    let azurite = started();
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    push(&backend(&azurite, &url()), tree.path(), &options(), None).unwrap();
    // Someone else (with the account key) replaces a file of the tree.
    let headers = Headers {
        content_type: "application/json".into(),
        cache_control: "no-cache".into(),
    };
    let other = backend(&azurite, &url());
    futures_block_on(other.put("1.root.json", b"{\"signed\": \"forged\"}".to_vec(), &headers));

    let mut audit = options();
    audit.audit = true;
    let error = push(&backend(&azurite, &url()), tree.path(), &audit, None).unwrap_err();
    assert!(
        matches!(&error, ObjectError::Changed { key, .. } if key == "1.root.json"),
        "{error}"
    );
    assert!(error.to_string().contains("az://tuf-repo/prod: 1.root.json"), "{error}");
}

#[test]
fn wrong_account_key_is_refused_and_the_store_keeps_serving_the_old_version() {
    let azurite = started();
    let tree = tempfile::tempdir().unwrap();
    let mut sim = published(tree.path());
    push(&backend(&azurite, &url()), tree.path(), &options(), None).unwrap();
    let public = azurite.public_url(CONTAINER, PREFIX);
    let served = public_get(&format!("{public}timestamp.json")).body;

    next_version(&mut sim, tree.path());
    // Another key of the same length, as a rotated-away key would be.
    let wrong: Vec<(String, String)> = azurite
        .env()
        .into_iter()
        .map(|(k, v)| {
            if k == "AZURE_STORAGE_ACCOUNT_KEY" {
                (k, trustroot_test_support::azurite::KEY.replace('E', "F"))
            } else {
                (k, v)
            }
        })
        .collect();
    let wrong = open(&url(), Some(azurite.endpoint()), &wrong).unwrap();
    let error = push(&wrong, tree.path(), &options(), None).unwrap_err();
    assert!(matches!(error, ObjectError::Denied { .. }), "{error}");
    let message = error.to_string();
    assert!(!message.contains('\n'), "{message}");
    // Azurite serves the manifest's GET anonymously (the container is public) where Azure
    // refuses the bad signature outright; either way the first write is refused, before
    // anything changed.
    assert!(
        message.starts_with("az://tuf-repo/prod: ")
            && message.contains(" was refused: ")
            && message.contains("AZURE_STORAGE_ACCOUNT_KEY"),
        "{message}"
    );
    assert!(!message.contains(trustroot_test_support::azurite::KEY), "{message}");
    assert_eq!(public_get(&format!("{public}timestamp.json")).body, served);
    assert_updates(&sim.root_bytes(1).unwrap(), &public);
}

#[test]
fn missing_container_is_refused_by_name() {
    let azurite = started();
    let tree = tempfile::tempdir().unwrap();
    published(tree.path());
    let error = push(
        &backend(&azurite, "az://no-such-container/prod"),
        tree.path(),
        &options(),
        None,
    )
    .unwrap_err();
    assert!(matches!(error, ObjectError::NoBucket { .. }), "{error}");
    assert!(
        error.to_string().contains("'no-such-container' does not exist"),
        "{error}"
    );
}

/// Runs one request of a backend outside a push.
fn futures_block_on<T>(request: impl std::future::Future<Output = Result<T, ObjectError>>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(request)
        .unwrap()
}
