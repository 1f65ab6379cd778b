//! A mirror's served tree pushed to a real S3 API (moto on 127.0.0.1) through
//! `trustroot_mirror::push`, its requests counted: a re-push with nothing new costs the
//! push's two requests, a new timestamp uploads one object, and an object the mirror no
//! longer serves stays in the store until the grace period has passed on the clock.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use trustroot_mirror::FetchConfig;
use trustroot_mirror::push::{push_to, served_tree};
use trustroot_mirror::sync::{SyncOptions, sync};
use trustroot_store::object::{Backend as _, Connect, Counted, Destination, PushOptions, StoreBackend};
use trustroot_test_support::RepoSim;
use trustroot_test_support::moto::MotoServer;

const BUCKET: &str = "tuf-mirror";
const PREFIX: &str = "mirror";

fn backend(moto: &MotoServer) -> Counted<StoreBackend> {
    let env: HashMap<String, String> = moto.env().into_iter().collect();
    let lookup = move |name: &str| env.get(name).cloned();
    let destination = Destination::parse(&format!("s3://{BUCKET}/{PREFIX}"), Path::new("/")).unwrap();
    let connect = Connect {
        endpoint: Some(moto.endpoint()),
        retries: 0,
        ..Connect::default()
    };
    Counted::new(StoreBackend::open(&destination, &connect, &lookup).unwrap().0)
}

/// Syncs the mirror in `dir` from the simulator's tree published in `origin`, at `now`,
/// keeping superseded files `keep`.
fn sync_at(sim: &RepoSim, origin: &Path, dir: &Path, now: DateTime<Utc>, keep: Duration) {
    sim.write_published(origin).unwrap();
    let options = SyncOptions {
        dir: dir.to_path_buf(),
        from: Some(url::Url::from_directory_path(origin).unwrap()),
        targets_from: None,
        root: Some(sim.root_bytes(1).unwrap()),
        jobs: 2,
        keep,
        verify_all: false,
        now,
        limits: trustroot_mirror::mirror_limits(),
        fetch: FetchConfig::default(),
        progress: false,
        record_origin: None,
        record_failure: false,
        sigstore: None,
        adopt_local_targets: false,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(sync(options)).unwrap();
}

/// Pushes the mirror's served tree at `now` with grace period `keep`; returns (uploaded,
/// deleted, requests).
fn push_at(moto: &MotoServer, dir: &Path, now: DateTime<Utc>, keep: Duration) -> (usize, usize, u64) {
    let backend = backend(moto);
    let public = url::Url::parse(&moto.public_url(BUCKET, PREFIX)).unwrap();
    let options = PushOptions {
        keep,
        ..PushOptions::new(now)
    };
    let tree = served_tree(dir).unwrap();
    let pushed = push_to(&backend, &tree, Some(&public), &options, None).unwrap();
    (
        pushed.report.plan.upload_count(),
        pushed.report.deleted,
        backend.counts.total(),
    )
}

/// The keys under the prefix.
fn stored(moto: &MotoServer) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut keys: Vec<String> = runtime
        .block_on(backend(moto).list())
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .collect();
    keys.sort();
    keys
}

#[test]
fn repush_with_nothing_new_costs_two_requests_and_superseded_objects_go_only_after_the_grace_period() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, PREFIX);
    let work = tempfile::tempdir().unwrap();
    let (origin, dir) = (work.path().join("origin"), work.path().join("mirror"));
    let now = Utc::now();
    let keep = Duration::days(7);
    let mut sim = RepoSim::new(now - Duration::hours(1));
    sim.add_target("targets", "trusted_root.json", b"{\"v\":1}\n");
    sim.publish();
    sync_at(&sim, &origin, &dir, now, keep);
    let (uploaded, _, _) = push_at(&moto, &dir, now, keep);
    assert!(uploaded >= 5, "{uploaded}");

    // Nothing new: one GET of the manifest, one HEAD of timestamp.json.
    assert_eq!(push_at(&moto, &dir, now, keep), (0, 0, 2));

    // A new timestamp: that one object.
    sim.bump("timestamp");
    sim.publish();
    sync_at(&sim, &origin, &dir, now, keep);
    assert_eq!(push_at(&moto, &dir, now, keep).0, 1);

    // The target replaced: the old one leaves the mirror at once (--keep 0s there), but
    // stays in the store for the grace period, and goes once the clock has passed it.
    let old: Vec<String> = stored(&moto)
        .into_iter()
        .filter(|k| k.ends_with(".trusted_root.json"))
        .collect();
    assert_eq!(old.len(), 1);
    sim.add_target("targets", "trusted_root.json", b"{\"v\":2}\n");
    sim.publish();
    sync_at(&sim, &origin, &dir, now, Duration::zero());
    let (uploaded, deleted, _) = push_at(&moto, &dir, now, keep);
    assert_eq!((uploaded, deleted), (4, 0));
    assert!(stored(&moto).contains(&old[0]));
    let (_, deleted, _) = push_at(&moto, &dir, now + Duration::days(6), keep);
    assert_eq!(deleted, 0);
    assert!(stored(&moto).contains(&old[0]));
    let (_, deleted, _) = push_at(&moto, &dir, now + keep + Duration::minutes(1), keep);
    assert!(deleted >= 1, "{deleted}");
    let after = stored(&moto);
    assert!(!after.contains(&old[0]), "{after:?}");
    assert_eq!(
        after.iter().filter(|k| k.ends_with(".trusted_root.json")).count(),
        1,
        "{after:?}"
    );
}
