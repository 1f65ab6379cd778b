//! The push cut at every one of its PUTs, against a real S3 API (moto on 127.0.0.1):
//! after each cut python-tuf and `trustroot client`, updating from the bucket's public
//! address, see exactly the old repository or exactly the new one, never a mix and never
//! an error; then the same push run again completes the new one. (The push engine is
//! driven directly, as the commands drive it, so that its requests can be cut.)
//!
//! The round pushed (v1 -> v2) changes a target of the top-level targets role and one of a
//! delegated role, and rotates the root key, so every phase has an upload: targets,
//! delegated metadata, targets metadata, snapshot, a root version, timestamp, and the
//! manifest's checkpoints between them. Each PUT is cut twice: before the store applied it
//! and after (the answer lost). One test cuts inside the process (a Backend decorator),
//! the other with a real TCP proxy that drops the connection, so that object_store's own
//! error path runs (no retries).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{TimeZone as _, Utc};
use trustroot_store::object::backend::{Expect, Fetched, Headers, Meta};
use trustroot_store::object::push::Report;
use trustroot_store::object::{Backend, Connect, Destination, ObjectError, PushOptions, StoreBackend, push};
use trustroot_test_support::moto::MotoServer;
use trustroot_test_support::proxy::{Cut, CutProxy};
use trustroot_test_support::{DelegatedRoleSpec, RepoSim};

const BUCKET: &str = "tuf-repo";
/// Every failure point gets its own prefix under this one, which anyone may read.
const AREA: &str = "cut";
const TARGETS: [&str; 2] = ["trusted_root.json", "npm/keys.json"];

/// The two published trees and what a client sees of each.
struct Rounds {
    _dirs: tempfile::TempDir,
    v1: PathBuf,
    v2: PathBuf,
    root1: Vec<u8>,
    seen_v1: Seen,
    seen_v2: Seen,
}

/// What python-tuf ended with: metadata versions and the targets' bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    root: u64,
    timestamp: u64,
    snapshot: u64,
    targets: u64,
    npm: u64,
    files: Vec<Vec<u8>>,
}

impl Seen {
    /// The repository's content, without the root (which may go up ahead of the
    /// timestamp, by design: principle 5 puts root versions before it).
    fn content(&self) -> (u64, u64, u64, u64, &[Vec<u8>]) {
        (self.timestamp, self.snapshot, self.targets, self.npm, &self.files)
    }
}

/// The targets' bytes in a fixed order, whatever the client named its files.
fn sorted(mut files: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    files.sort();
    files
}

fn rounds() -> Rounds {
    let dirs = tempfile::tempdir().unwrap();
    let (v1, v2) = (dirs.path().join("v1"), dirs.path().join("v2"));
    let mut sim = RepoSim::new(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap());
    sim.add_delegation("targets", DelegatedRoleSpec::new("npm", &["npm/*"]));
    sim.add_target("targets", TARGETS[0], b"{\"round\": 1}");
    sim.add_target("npm", TARGETS[1], b"{\"npm\": 1}");
    sim.publish();
    sim.write_published(&v1).unwrap();
    let version = |sim: &RepoSim, files: &[&[u8]]| Seen {
        root: sim.version("root"),
        timestamp: sim.version("timestamp"),
        snapshot: sim.version("snapshot"),
        targets: sim.version("targets"),
        npm: sim.version("npm"),
        files: sorted(files.iter().map(|f| f.to_vec()).collect()),
    };
    let seen_v1 = version(&sim, &[b"{\"round\": 1}", b"{\"npm\": 1}"]);
    sim.add_target("targets", TARGETS[0], b"{\"round\": 2}");
    sim.add_target("npm", TARGETS[1], b"{\"npm\": 2}");
    let key_type = sim.key_type();
    sim.rotate_keys("root", 1, key_type);
    sim.publish();
    // The local publish keeps every old version beside the new ones; so does this tree.
    sim.write_published(&v2).unwrap();
    let seen_v2 = version(&sim, &[b"{\"round\": 2}", b"{\"npm\": 2}"]);
    let newer = |a: &Seen, b: &Seen| {
        a.root < b.root
            && a.timestamp < b.timestamp
            && a.snapshot < b.snapshot
            && a.targets < b.targets
            && a.npm < b.npm
    };
    assert!(
        newer(&seen_v1, &seen_v2) && seen_v2.root == 2,
        "v2 must rotate the root and change every role: {seen_v1:?} {seen_v2:?}"
    );
    Rounds {
        root1: sim.root_bytes(1).unwrap(),
        _dirs: dirs,
        v1,
        v2,
        seen_v1,
        seen_v2,
    }
}

fn backend(moto: &MotoServer, endpoint: &str, prefix: &str) -> StoreBackend {
    let env: HashMap<String, String> = moto.env().into_iter().collect();
    let lookup = move |name: &str| env.get(name).cloned();
    let destination = Destination::parse(&format!("s3://{BUCKET}/{prefix}"), Path::new("/")).unwrap();
    let connect = Connect {
        endpoint: Some(endpoint.to_string()),
        retries: 0,
        ..Connect::default()
    };
    StoreBackend::open(&destination, &connect, &lookup).unwrap().0
}

fn options() -> PushOptions {
    PushOptions::new(Utc::now())
}

/// A backend that fails its `cut_at`-th PUT (object or manifest, 1-based), before
/// passing it on or after the store applied it, as a dropped connection does.
struct Faulty<B> {
    inner: B,
    cut_at: usize,
    when: Cut,
    puts: AtomicUsize,
    cut: Mutex<Option<String>>,
}

impl<B: Backend> Faulty<B> {
    fn new(inner: B, cut_at: usize, when: Cut) -> Self {
        Faulty {
            inner,
            cut_at,
            when,
            puts: AtomicUsize::new(0),
            cut: Mutex::new(None),
        }
    }

    /// Runs `put`, unless this is the PUT to cut.
    async fn put_or_cut<T>(
        &self,
        key: &str,
        put: impl Future<Output = Result<T, ObjectError>>,
    ) -> Result<T, ObjectError> {
        let n = self.puts.fetch_add(1, Ordering::SeqCst) + 1;
        if n != self.cut_at {
            return put.await;
        }
        *self.cut.lock().unwrap() = Some(format!("PUT {key}"));
        if self.when == Cut::AfterAnswer {
            put.await?;
        }
        Err(ObjectError::Request {
            url: self.inner.url().to_string(),
            op: "PUT",
            key: key.to_string(),
            reason: "connection reset (fault injected by the test)".into(),
        })
    }
}

impl<B: Backend> Backend for Faulty<B> {
    fn url(&self) -> &str {
        self.inner.url()
    }
    fn manifest_name(&self) -> String {
        self.inner.manifest_name()
    }
    async fn put(&self, key: &str, bytes: Vec<u8>, headers: &Headers) -> Result<Option<String>, ObjectError> {
        self.put_or_cut(key, self.inner.put(key, bytes, headers)).await
    }
    async fn get(&self, key: &str, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        self.inner.get(key, limit).await
    }
    async fn head(&self, key: &str) -> Result<Option<Meta>, ObjectError> {
        self.inner.head(key).await
    }
    async fn list(&self) -> Result<Vec<Meta>, ObjectError> {
        self.inner.list().await
    }
    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        self.inner.delete(key).await
    }
    async fn get_manifest(&self, limit: u64) -> Result<Option<Fetched>, ObjectError> {
        self.inner.get_manifest(limit).await
    }
    async fn put_manifest(&self, bytes: Vec<u8>, expect: &Expect) -> Result<Option<String>, ObjectError> {
        let name = self.inner.manifest_name();
        self.put_or_cut(&name, self.inner.put_manifest(bytes, expect)).await
    }
    async fn barrier(&self) -> Result<(), ObjectError> {
        self.inner.barrier().await
    }
}

/// python-tuf's ngclient, trusting root v1, updating from each of `bases` into a fresh
/// directory and downloading both targets, all in one Python process (a process per
/// update would dominate the test's time): what it saw at each, or its error.
fn python_tuf_sees(root1: &[u8], bases: &[String]) -> Vec<Result<Seen, String>> {
    const SCRIPT: &str = r#"
import json, sys
from tuf.ngclient import Updater
root = open(sys.argv[1], "rb").read()
targets = sys.argv[2].split(",")
for line in sys.stdin:
    base, work = line.rstrip("\n").split("\t")
    try:
        updater = Updater(metadata_dir=work + "/metadata", metadata_base_url=base,
                          target_dir=work + "/targets", target_base_url=base + "targets/",
                          bootstrap=root)
        updater.refresh()
        files = []
        for name in targets:
            info = updater.get_targetinfo(name)
            if info is None:
                raise LookupError(f"target {name!r} not found")
            files.append(updater.find_cached_target(info) or updater.download_target(info))
        print(json.dumps({"files": files}))
    except Exception as error:
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
"#;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("root.json"), root1).unwrap();
    let mut input = String::new();
    let dirs: Vec<PathBuf> = (0..bases.len()).map(|i| work.path().join(i.to_string())).collect();
    for (base, dir) in bases.iter().zip(&dirs) {
        for sub in ["metadata", "targets"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        input.push_str(&format!("{base}\t{}\n", dir.display()));
    }
    let mut child = Command::new(trustroot_test_support::moto::python())
        .args(["-c", SCRIPT])
        .arg(work.path().join("root.json"))
        .arg(TARGETS.join(","))
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python-tuf: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), bases.len());
    lines
        .iter()
        .zip(&dirs)
        .map(|(line, dir)| {
            if let Some(error) = line["error"].as_str() {
                return Err(error.to_string());
            }
            let version = |role: &str| -> u64 {
                let bytes = std::fs::read(dir.join("metadata").join(format!("{role}.json"))).unwrap();
                let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                value["signed"]["version"].as_u64().unwrap()
            };
            let files = sorted(
                line["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|path| std::fs::read(path.as_str().unwrap()).unwrap())
                    .collect(),
            );
            Ok(Seen {
                root: version("root"),
                timestamp: version("timestamp"),
                snapshot: version("snapshot"),
                targets: version("targets"),
                npm: version("npm"),
                files,
            })
        })
        .collect()
}

/// `trustroot client`, trusting root v1, updating from each of `bases` into a fresh
/// directory and downloading both targets (the bases side by side): what it saw at each,
/// or its error.
fn our_client_sees(root1: &[u8], bases: &[String]) -> Vec<Result<Seen, String>> {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root.json");
    std::fs::write(&root, root1).unwrap();
    let trustroot = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_trustroot"))
            .args(args)
            .env("NO_PROXY", "127.0.0.1")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .output()
            .unwrap()
    };
    std::thread::scope(|scope| {
        let runs: Vec<_> = bases
            .iter()
            .enumerate()
            .map(|(i, base)| {
                let (dir, root, trustroot) = (work.path().join(i.to_string()), &root, &trustroot);
                scope.spawn(move || {
                    let (metadata, downloads) = (dir.join("metadata"), dir.join("targets"));
                    std::fs::create_dir_all(&metadata).unwrap();
                    std::fs::create_dir_all(&downloads).unwrap();
                    let metadata_dir = metadata.to_str().unwrap();
                    let init = trustroot(&["client", "--metadata-dir", metadata_dir, "init", root.to_str().unwrap()]);
                    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
                    let targets_url = format!("{base}targets/");
                    let mut args = vec![
                        "client",
                        "--metadata-dir",
                        metadata_dir,
                        "--metadata-url",
                        base,
                        "--target-base-url",
                        &targets_url,
                        "--target-dir",
                        downloads.to_str().unwrap(),
                    ];
                    for target in TARGETS {
                        args.extend(["--target-name", target]);
                    }
                    args.push("download");
                    let out = trustroot(&args);
                    if !out.status.success() {
                        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
                    }
                    let version = |role: &str| -> u64 {
                        let bytes = std::fs::read(metadata.join(format!("{role}.json"))).unwrap();
                        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                        value["signed"]["version"].as_u64().unwrap()
                    };
                    let mut files = Vec::new();
                    let mut pending = vec![downloads.clone()];
                    while let Some(dir) = pending.pop() {
                        for entry in std::fs::read_dir(dir).unwrap() {
                            let path = entry.unwrap().path();
                            if path.is_dir() {
                                pending.push(path);
                            } else {
                                files.push(std::fs::read(path).unwrap());
                            }
                        }
                    }
                    Ok(Seen {
                        root: version("root"),
                        timestamp: version("timestamp"),
                        snapshot: version("snapshot"),
                        targets: version("targets"),
                        npm: version("npm"),
                        files: sorted(files),
                    })
                })
            })
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    })
}

/// What both clients saw at every base: python-tuf's and ours, a pair a base.
fn clients_see(root1: &[u8], bases: &[String]) -> Vec<[(&'static str, Result<Seen, String>); 2]> {
    python_tuf_sees(root1, bases)
        .into_iter()
        .zip(our_client_sees(root1, bases))
        .map(|(python, ours)| [("python-tuf", python), ("trustroot client", ours)])
        .collect()
}

/// Which round python-tuf saw at a failure point: 1 or 2, or a panic naming the point.
fn round_seen(rounds: &Rounds, seen: Result<Seen, String>, point: &str) -> u8 {
    let seen = seen.unwrap_or_else(|error| panic!("{point}: refused the store's state: {error}"));
    if seen == rounds.seen_v2 {
        2
    } else if seen.content() == rounds.seen_v1.content() {
        // Root v2 may already be up (root versions go before the timestamp).
        assert!(seen.root <= 2, "{point}: {seen:?}");
        1
    } else {
        panic!(
            "{point}: saw a mixed state: {seen:?}\nv1: {:?}\nv2: {:?}",
            rounds.seen_v1, rounds.seen_v2
        );
    }
}

/// A failure point: the prefix it used and the object whose PUT was cut.
struct Point {
    prefix: String,
    cut: String,
}

impl Point {
    fn name(&self) -> String {
        format!("{} (cut: {})", self.prefix, self.cut)
    }
}

/// v1 pushed to `prefix`, then the v2 push cut by `cut_push`, which returns its result
/// and what it cut; the push must fail with the cut PUT's error.
fn cut_v2_push(
    moto: &MotoServer,
    rounds: &Rounds,
    prefix: String,
    cut_push: impl FnOnce(&str) -> (Result<Report, ObjectError>, Option<String>),
) -> Point {
    push(&backend(moto, &moto.endpoint(), &prefix), &rounds.v1, &options(), None).unwrap();
    let (result, cut) = cut_push(&prefix);
    let cut = cut.unwrap_or_else(|| panic!("{prefix}: no PUT was cut"));
    let point = Point { prefix, cut };
    match result {
        Ok(report) => panic!(
            "{}: the push succeeded through a cut: {:?}",
            point.name(),
            report.plan.render()
        ),
        Err(error) => assert!(
            matches!(error, ObjectError::Request { op: "PUT", .. }),
            "{}: {error}",
            point.name()
        ),
    }
    point
}

/// After the cuts: both clients see v1 or v2 at every point, the same one; then the same
/// push run again at every point, and both see v2 everywhere. Returns the rounds seen
/// after the cuts.
fn old_or_new_then_rerun_completes(moto: &MotoServer, rounds: &Rounds, points: &[Point]) -> Vec<u8> {
    let bases: Vec<String> = points.iter().map(|p| moto.public_url(BUCKET, &p.prefix)).collect();
    let seen: Vec<u8> = clients_see(&rounds.root1, &bases)
        .into_iter()
        .zip(points)
        .map(|([python, ours], point)| {
            let by_python = round_seen(rounds, python.1, &format!("{} ({})", point.name(), python.0));
            let by_ours = round_seen(rounds, ours.1, &format!("{} ({})", point.name(), ours.0));
            assert_eq!(by_python, by_ours, "{}: the clients disagree", point.name());
            by_python
        })
        .collect();
    std::thread::scope(|scope| {
        for point in points {
            scope.spawn(|| {
                push(
                    &backend(moto, &moto.endpoint(), &point.prefix),
                    &rounds.v2,
                    &options(),
                    None,
                )
                .unwrap_or_else(|e| panic!("{}: the re-run failed: {e}", point.name()));
            });
        }
    });
    for (both, point) in clients_see(&rounds.root1, &bases).into_iter().zip(points) {
        for (client, seen) in both {
            let name = format!("{} ({client})", point.name());
            assert_eq!(
                round_seen(rounds, seen, &name),
                2,
                "{name}: the re-run did not complete v2"
            );
        }
    }
    // Cutting before the timestamp is applied leaves v1; once it is applied, v2.
    assert!(seen.contains(&1) && seen.contains(&2), "{seen:?}");
    seen
}

/// The PUTs of the v1 -> v2 push (objects and manifest writes), counted on a spare prefix.
fn puts_of_the_round(moto: &MotoServer, rounds: &Rounds) -> usize {
    let prefix = format!("{AREA}/count");
    let endpoint = moto.endpoint();
    push(&backend(moto, &endpoint, &prefix), &rounds.v1, &options(), None).unwrap();
    let counted = Faulty::new(backend(moto, &endpoint, &prefix), 0, Cut::BeforeForwarding);
    let report = push(&counted, &rounds.v2, &options(), None).unwrap();
    let puts = counted.puts.load(Ordering::SeqCst);
    // 2 targets, npm, targets, snapshot, root, timestamp; and the manifest 3 times.
    assert_eq!(report.plan.upload_count(), 7, "{:?}", report.plan.render());
    assert_eq!(puts, 10, "{:?}", report.plan.render());
    puts
}

fn setup() -> (MotoServer, Rounds) {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, AREA);
    (moto, rounds())
}

/// Every (cut, k), each point on its own prefix, run side by side.
fn every_point(moto: &MotoServer, rounds: &Rounds, run: impl Fn(Cut, usize) -> Point + Sync) -> Vec<Point> {
    let puts = puts_of_the_round(moto, rounds);
    let run = &run;
    std::thread::scope(|scope| {
        let handles: Vec<_> = [Cut::BeforeForwarding, Cut::AfterAnswer]
            .into_iter()
            .flat_map(|when| (1..=puts).map(move |k| (when, k)))
            .map(|(when, k)| scope.spawn(move || run(when, k)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn a_put_failing_at_every_point_before_or_after_the_store_applied_it_leaves_old_or_new_never_mixed() {
    let (moto, rounds) = setup();
    let points = every_point(&moto, &rounds, |when, k| {
        cut_v2_push(&moto, &rounds, format!("{AREA}/decorator-{when:?}-{k}"), |prefix| {
            let faulty = Faulty::new(backend(&moto, &moto.endpoint(), prefix), k, when);
            let result = push(&faulty, &rounds.v2, &options(), None);
            let cut = faulty.cut.lock().unwrap().clone();
            (result, cut)
        })
    });
    old_or_new_then_rerun_completes(&moto, &rounds, &points);
}

#[test]
fn a_connection_dropped_at_every_put_leaves_old_or_new_never_mixed() {
    let (moto, rounds) = setup();
    let upstream = moto.endpoint().trim_start_matches("http://").to_string();
    let points = every_point(&moto, &rounds, |when, k| {
        // A proxy per point, so that each counts only its own push's PUTs.
        let proxy = CutProxy::start(&upstream);
        cut_v2_push(&moto, &rounds, format!("{AREA}/proxy-{when:?}-{k}"), |prefix| {
            proxy.cut_put(k, when);
            let result = push(&backend(&moto, &proxy.endpoint(), prefix), &rounds.v2, &options(), None);
            (result, proxy.cut())
        })
    });
    old_or_new_then_rerun_completes(&moto, &rounds, &points);
}
