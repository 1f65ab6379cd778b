//! `mirror sync|import DIR --to URL` against a real S3 API (moto on 127.0.0.1): the
//! mirror's served tree pushed with the publish side's rules, python-tuf and `trustroot
//! client` updating from the bucket's public address, a re-sync uploading only what
//! changed and pruning only after `--keep`; `mirror verify|status URL` reading the pushed
//! repository back through the store's API and through the public address, and naming an
//! object changed behind the push's back; every refusal leaving DIR and the store as
//! they were.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{Duration, Utc};
use trustroot_test_support::RepoSim;
use trustroot_test_support::moto::MotoServer;

const BUCKET: &str = "tuf-mirror";

/// A repository to mirror, published into `dir` (a file:// origin), valid now.
struct Origin {
    sim: RepoSim,
    dir: PathBuf,
}

impl Origin {
    fn new(dir: &Path) -> Origin {
        let mut sim = RepoSim::new(Utc::now() - Duration::hours(1));
        sim.add_target("targets", "trusted_root.json", b"{\"mediaType\":\"trusted-root\"}\n");
        sim.publish();
        sim.write_published(dir).unwrap();
        Origin {
            sim,
            dir: dir.to_path_buf(),
        }
    }

    fn republish(&mut self) {
        self.sim.publish();
        self.sim.write_published(&self.dir).unwrap();
    }

    fn url(&self) -> String {
        common::file_url(&self.dir)
    }

    fn root(&self) -> PathBuf {
        self.dir.join("1.root.json")
    }
}

/// `trustroot ARGS` with moto's credentials in the environment.
fn run(moto: &MotoServer, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trustroot"));
    cmd.args(args).stdin(std::process::Stdio::null());
    for (k, v) in moto.env() {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn succeeded(out: &Output) -> String {
    assert!(out.status.success(), "{}", common::text(out));
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Exit 1, one `error:` line; returns stderr.
fn refused(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{}", common::text(out));
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error: ")).count(),
        1,
        "{stderr}"
    );
    stderr
}

/// `mirror sync DIR --from ORIGIN --root R --to s3://BUCKET/PREFIX --endpoint E
/// --public-url P EXTRA...`.
fn sync_to(moto: &MotoServer, origin: &Origin, dir: &Path, prefix: &str, extra: &[&str]) -> Output {
    let (from, root, endpoint) = (origin.url(), origin.root(), moto.endpoint());
    let (to, public) = (format!("s3://{BUCKET}/{prefix}"), moto.public_url(BUCKET, prefix));
    let mut args = vec![
        "mirror",
        "sync",
        dir.to_str().unwrap(),
        "--from",
        &from,
        "--root",
        root.to_str().unwrap(),
        "--to",
        &to,
        "--endpoint",
        &endpoint,
        "--public-url",
        &public,
    ];
    args.extend(extra);
    run(moto, &args)
}

/// The keys under `prefix/` in the bucket, sorted.
fn keys(moto: &MotoServer, prefix: &str) -> Vec<String> {
    let listed = moto.boto3(&format!(
        "p = s3.get_paginator('list_objects_v2')\n\
         for page in p.paginate(Bucket='{BUCKET}', Prefix='{prefix}/'):\n    \
         for o in page.get('Contents', []): print(o['Key'][len('{prefix}/'):])"
    ));
    let mut keys: Vec<String> = listed.lines().map(str::to_string).collect();
    keys.sort();
    keys
}

/// The store's `timestamp.json` under `prefix`.
fn stored_timestamp(moto: &MotoServer, prefix: &str) -> String {
    moto.boto3(&format!(
        "print(s3.get_object(Bucket='{BUCKET}', Key='{prefix}/timestamp.json')['Body'].read().hex())"
    ))
}

/// Every file of the mirror's served tree, with its bytes.
fn served_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    tree_files(&dir.join("repository"))
}

/// Every file under `tree` (symlinks resolved), with its bytes, sorted by path.
fn tree_files(tree: &Path) -> Vec<(String, Vec<u8>)> {
    let served = std::fs::canonicalize(tree).unwrap();
    let mut files = Vec::new();
    let mut pending = vec![served.clone()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                let rel = entry.path().strip_prefix(&served).unwrap().display().to_string();
                files.push((rel, std::fs::read(entry.path()).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// python-tuf and `trustroot client` update from `base` trusting `root` and download
/// trusted_root.json.
fn clients_update(root: &Path, base: &str) {
    let targets = format!("{base}targets/");
    let wanted = ["trusted_root.json"];
    for (name, out) in [
        ("python-tuf", common::ngclient(None, root, base, &targets, &wanted)),
        (
            "trustroot client",
            common::trustroot_client(None, root, base, &targets, &wanted),
        ),
    ] {
        assert!(out.status.success(), "{name}: {}", common::text(&out));
    }
}

/// The number in "Pushed to ...: N object(s) uploaded ...; M deleted ...".
fn pushed_counts(out: &str) -> (usize, usize) {
    let line = out
        .lines()
        .find(|l| l.starts_with("Pushed to "))
        .unwrap_or_else(|| panic!("{out}"));
    let number_before = |marker: &str| -> usize {
        let head = &line[..line.find(marker).unwrap_or_else(|| panic!("{line}"))];
        head.rsplit(' ').find(|w| !w.is_empty()).unwrap().parse().unwrap()
    };
    (number_before(" object(s) uploaded"), number_before(" deleted after"))
}

#[test]
fn mirror_sync_to_s3_serves_clients_resyncs_upload_only_the_diff_and_prune_after_keep() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, "mirror");
    let public = moto.public_url(BUCKET, "mirror");
    let work = tempfile::tempdir().unwrap();
    let mut origin = Origin::new(&work.path().join("origin"));
    let dir = work.path().join("mirror");

    // First sync: the whole served tree goes up, read back by the bytes, tough and our
    // client before the timestamp.
    let out = succeeded(&sync_to(&moto, &origin, &dir, "mirror", &[]));
    assert!(out.contains("now serving state 1"), "{out}");
    assert!(out.contains(&format!("read back from {public} and identical")), "{out}");
    assert!(
        out.contains("tough from root v1") && out.contains("trustroot client from root v1"),
        "{out}"
    );
    let served: Vec<String> = served_files(&dir).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys(&moto, "mirror"), served);
    assert_eq!(pushed_counts(&out), (served.len(), 0));
    clients_update(&origin.root(), &public);

    // Nothing new: nothing uploaded (the text, and the push in the JSON summary).
    let out = succeeded(&sync_to(&moto, &origin, &dir, "mirror", &[]));
    assert!(out.contains("already serves this tree (nothing uploaded)"), "{out}");
    let out = succeeded(&sync_to(&moto, &origin, &dir, "mirror", &["--json"]));
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["changed"], false, "{out}");
    assert_eq!(summary["push"]["to"], "s3://tuf-mirror/mirror", "{out}");
    assert_eq!(summary["push"]["uploaded"], 0, "{out}");

    // A new timestamp only: one object.
    origin.sim.bump("timestamp");
    origin.republish();
    let out = succeeded(&sync_to(&moto, &origin, &dir, "mirror", &[]));
    assert_eq!(pushed_counts(&out), (1, 0), "{out}");
    let (_, local_timestamp) = served_files(&dir)
        .into_iter()
        .find(|(k, _)| k == "timestamp.json")
        .unwrap();
    assert_eq!(stored_timestamp(&moto, "mirror"), hex(&local_timestamp));

    // A new target: the target, targets, snapshot and timestamp. The old snapshot and
    // targets versions stay served for the grace period (7 days by default).
    let before = keys(&moto, "mirror");
    origin.sim.add_target("targets", "signing_config.json", b"{\"v\":2}\n");
    origin.republish();
    let out = succeeded(&sync_to(&moto, &origin, &dir, "mirror", &[]));
    assert_eq!(pushed_counts(&out), (4, 0), "{out}");
    let after = keys(&moto, "mirror");
    assert!(before.iter().all(|k| after.contains(k)), "{before:?} {after:?}");
    clients_update(&origin.root(), &public);

    // With --keep 0s, what the new state no longer references goes at once, locally and
    // in the store; the store again holds exactly the served tree.
    origin.sim.remove_target("targets", "signing_config.json");
    origin.republish();
    let out = succeeded(&sync_to(&moto, &origin, &dir, "mirror", &["--keep", "0s"]));
    eprintln!("{out}");
    let (uploaded, deleted) = pushed_counts(&out);
    assert_eq!(uploaded, 3, "{out}");
    assert!(deleted >= 3, "{out}");
    let served: Vec<String> = served_files(&dir).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys(&moto, "mirror"), served);
    assert!(
        !served.iter().any(|k| k.ends_with(".signing_config.json")),
        "{served:?}"
    );
    clients_update(&origin.root(), &public);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A mirror synced from a fresh origin, exported to a bundle; returns (origin, bundle).
fn bundle(work: &Path) -> (Origin, PathBuf) {
    let origin = Origin::new(&work.join("origin"));
    let connected = work.join("connected");
    let (from, root) = (origin.url(), origin.root());
    let out = common::trustroot(&[
        "mirror",
        "sync",
        connected.to_str().unwrap(),
        "--from",
        &from,
        "--root",
        root.to_str().unwrap(),
    ]);
    succeeded(&out);
    let bundle = work.join("bundle.tar");
    succeeded(&common::trustroot(&[
        "mirror",
        "export",
        connected.to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
    ]));
    (origin, bundle)
}

#[test]
fn mirror_import_to_s3_then_verify_and_status_read_it_back_through_the_store_and_the_public_address() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, "site");
    let public = moto.public_url(BUCKET, "site");
    let endpoint = moto.endpoint();
    let work = tempfile::tempdir().unwrap();
    let (origin, bundle) = bundle(work.path());
    let root = origin.root();
    let root = root.to_str().unwrap();
    let dir = work.path().join("isolated");
    let out = succeeded(&run(
        &moto,
        &[
            "mirror",
            "import",
            dir.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
            "--root",
            root,
            "--to",
            "s3://tuf-mirror/site",
            "--endpoint",
            &endpoint,
            "--public-url",
            &public,
        ],
    ));
    assert!(out.contains("Pushed to s3://tuf-mirror/site"), "{out}");
    clients_update(&origin.root(), &public);

    for target in ["s3://tuf-mirror/site", public.as_str()] {
        let mut args = vec!["mirror", "verify", target, "--root", root];
        if target.starts_with("s3://") {
            args.extend(["--endpoint", &endpoint]);
        }
        let out = succeeded(&run(&moto, &args));
        assert!(out.contains("verified: no problems"), "{out}");
        assert!(out.contains("files checked"), "{out}");
        args[1] = "status";
        let out = succeeded(&run(&moto, &args));
        assert!(out.contains("(verified from the pinned root)"), "{out}");
        // The store's own record of the push, read only through the store's API.
        assert_eq!(
            target.starts_with("s3://"),
            out.contains("pushed:  ") && out.contains("(push 1, complete;"),
            "{out}"
        );
        assert!(out.contains("timestamp") && out.contains("targets"), "{out}");
    }
    // A URL needs the root this site pins.
    let out = run(&moto, &["mirror", "verify", &public]);
    assert_eq!(out.status.code(), Some(2), "{}", common::text(&out));
    assert!(common::text(&out).contains("--root"), "{}", common::text(&out));
}

#[test]
fn target_or_snapshot_replaced_in_the_bucket_behind_the_pushs_back_is_named_by_mirror_verify() {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, "mirror");
    let public = moto.public_url(BUCKET, "mirror");
    let endpoint = moto.endpoint();
    let work = tempfile::tempdir().unwrap();
    let origin = Origin::new(&work.path().join("origin"));
    let dir = work.path().join("mirror");
    succeeded(&sync_to(&moto, &origin, &dir, "mirror", &[]));
    let target = keys(&moto, "mirror")
        .into_iter()
        .find(|k| k.starts_with("targets/") && k.ends_with(".trusted_root.json"))
        .unwrap();
    moto.boto3(&format!(
        "s3.put_object(Bucket='{BUCKET}', Key='mirror/{target}', Body=b'{{\"mediaType\":\"evil-root\"}}\\n', ContentType='application/json')"
    ));
    let root = origin.root();
    for url in ["s3://tuf-mirror/mirror", public.as_str()] {
        let mut args = vec!["mirror", "verify", url, "--root", root.to_str().unwrap()];
        if url.starts_with("s3://") {
            args.extend(["--endpoint", &endpoint]);
        }
        let out = run(&moto, &args);
        assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));
        let text = common::text(&out);
        eprintln!("{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("problem: ") && l.contains(&target) && l.contains("length or hash differs")),
            "{text}"
        );
    }
    // The local mirror is untouched and still verifies.
    succeeded(&common::trustroot(&["mirror", "verify", dir.to_str().unwrap()]));

    // A snapshot replaced: the client refuses it, and the problem names it.
    let snapshot = keys(&moto, "mirror")
        .into_iter()
        .filter(|k| k.ends_with(".snapshot.json"))
        .max_by_key(|k| k.split('.').next().unwrap().parse::<u64>().unwrap())
        .unwrap();
    moto.boto3(&format!(
        "s3.put_object(Bucket='{BUCKET}', Key='mirror/{snapshot}', Body=b'{{}}', ContentType='application/json')"
    ));
    let out = run(
        &moto,
        &[
            "mirror",
            "verify",
            "s3://tuf-mirror/mirror",
            "--root",
            root.to_str().unwrap(),
            "--endpoint",
            &endpoint,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));
    let text = common::text(&out);
    eprintln!("{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("problem: s3://tuf-mirror/mirror/: snapshot")),
        "{text}"
    );
}

#[test]
fn push_refused_by_the_read_back_leaves_the_mirror_synced_and_the_store_serving_the_old_timestamp_and_a_rerun_resumes()
{
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, "mirror");
    let work = tempfile::tempdir().unwrap();
    let mut origin = Origin::new(&work.path().join("origin"));
    let dir = work.path().join("mirror");
    succeeded(&sync_to(&moto, &origin, &dir, "mirror", &[]));
    let old = stored_timestamp(&moto, "mirror");

    // The public address is one clients cannot read (no bucket policy for it): the
    // read-back refuses, so timestamp.json never goes up.
    origin.sim.add_target("targets", "signing_config.json", b"{}\n");
    origin.republish();
    let (from, root, endpoint) = (origin.url(), origin.root(), moto.endpoint());
    let hidden = moto.public_url(BUCKET, "elsewhere");
    let out = run(
        &moto,
        &[
            "mirror",
            "sync",
            dir.to_str().unwrap(),
            "--from",
            &from,
            "--root",
            root.to_str().unwrap(),
            "--to",
            "s3://tuf-mirror/mirror",
            "--endpoint",
            &endpoint,
            "--public-url",
            &hidden,
        ],
    );
    let stderr = refused(&out);
    assert!(stderr.contains("read back") || stderr.contains("GET"), "{stderr}");
    assert!(
        stderr.contains(&format!("the mirror in {} is up to date", dir.display()))
            && stderr.contains("trustroot mirror sync")
            && stderr.contains("--to s3://tuf-mirror/mirror"),
        "{stderr}"
    );
    // The sync itself succeeded: the new metadata was served (in place) before the push.
    assert!(String::from_utf8_lossy(&out.stdout).contains("state 1 updated in place"));
    assert_eq!(stored_timestamp(&moto, "mirror"), old);

    // The same command with the right address resumes: the timestamp goes up.
    let out = succeeded(&sync_to(&moto, &origin, &dir, "mirror", &[]));
    assert!(out.contains("already current"), "{out}");
    assert_ne!(stored_timestamp(&moto, "mirror"), old);
    clients_update(&origin.root(), &moto.public_url(BUCKET, "mirror"));
}

#[test]
fn to_inside_the_mirror_directory_or_without_a_public_url_is_refused_with_nothing_changed() {
    let work = tempfile::tempdir().unwrap();
    let origin = Origin::new(&work.path().join("origin"));
    let dir = work.path().join("mirror");
    let (from, root) = (origin.url(), origin.root());
    let sync = |extra: &[&str]| {
        let mut args = vec![
            "mirror",
            "sync",
            dir.to_str().unwrap(),
            "--from",
            &from,
            "--root",
            root.to_str().unwrap(),
        ];
        args.extend(extra);
        common::trustroot(&args)
    };
    let inside = dir.join("pushed").display().to_string();
    let holding = work.path().display().to_string();
    for (extra, expected) in [
        (vec!["--to", inside.as_str()], "the mirror directory"),
        (vec!["--to", holding.as_str()], "the mirror directory"),
        (vec!["--to", "s3://tuf-mirror/mirror"], "--public-url"),
        (vec!["--audit"], "give --to URL"),
    ] {
        let out = sync(&extra);
        let stderr = refused(&out);
        assert!(stderr.contains(expected), "{extra:?}: {stderr}");
        assert!(!dir.exists(), "{extra:?}: the mirror directory was created");
    }
    // Once synced, a --to inside it still changes nothing.
    succeeded(&sync(&[]));
    let before = served_files(&dir);
    refused(&sync(&["--to", inside.as_str()]));
    assert_eq!(served_files(&dir), before);
    assert!(!dir.join("pushed").exists());
}

/// The push flags on `mirror sync`: `--dry-run` plans and uploads nothing (the sync itself
/// runs), `--manifest` keeps the push manifest elsewhere (and never inside DIR),
/// `--cache-control` and `--jobs` reach the push.
#[test]
fn mirror_push_flags_dry_run_manifest_elsewhere_and_their_refusals() {
    let work = tempfile::tempdir().unwrap();
    let origin = Origin::new(&work.path().join("origin"));
    let dir = work.path().join("mirror");
    let store = work.path().join("store");
    let kept = work.path().join("kept");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::create_dir_all(&kept).unwrap();
    let (from, root) = (origin.url(), origin.root());
    let pushed = store.join("repo");
    let sync = |extra: &[&str]| {
        let mut args = vec![
            "mirror",
            "sync",
            dir.to_str().unwrap(),
            "--from",
            &from,
            "--root",
            root.to_str().unwrap(),
            "--to",
            pushed.to_str().unwrap(),
        ];
        args.extend(extra);
        common::trustroot(&args)
    };

    // --dry-run: the mirror is synced, the store is not touched.
    let planned = succeeded(&sync(&["--dry-run", "--jobs", "2"]));
    assert!(
        planned.contains("Dry run: nothing was written") && planned.contains("upload 1 timestamp"),
        "the plan says what would go up: {planned}"
    );
    assert!(dir.join("repository/timestamp.json").is_file(), "the sync itself ran");
    assert_eq!(
        std::fs::read_dir(&store).unwrap().count(),
        0,
        "a dry run wrote to the store"
    );

    // A manifest inside the mirror directory is refused before anything is pushed.
    let inside = dir.join("push.trustroot-push.json").display().to_string();
    let stderr = refused(&sync(&["--manifest", &inside]));
    assert!(stderr.contains("inside the mirror directory"), "{stderr}");
    assert_eq!(std::fs::read_dir(&store).unwrap().count(), 0);

    // Kept elsewhere: the store holds only the served tree, the manifest is where named.
    let manifest = kept.join("mirror.trustroot-push.json");
    let out = succeeded(&sync(&[
        "--manifest",
        manifest.to_str().unwrap(),
        "--cache-control",
        "timestamp=max-age=30",
    ]));
    assert!(out.contains("Pushed to"), "{out}");
    assert!(manifest.is_file(), "the manifest is where --manifest named it");
    assert!(
        !store.join("repo.trustroot-push.json").exists(),
        "no manifest beside the prefix"
    );
    assert_eq!(tree_files(&pushed), served_files(&dir));
    // The same command again: nothing new, nothing uploaded.
    let same = [
        "--manifest",
        manifest.to_str().unwrap(),
        "--cache-control",
        "timestamp=max-age=30",
    ];
    let again = succeeded(&sync(&same));
    assert!(again.contains("nothing uploaded"), "{again}");
    // Back to the default Cache-Control: timestamp.json alone is put again with it.
    let headers = succeeded(&sync(&["--manifest", manifest.to_str().unwrap()]));
    assert!(headers.contains("1 object(s) uploaded"), "{headers}");
}
