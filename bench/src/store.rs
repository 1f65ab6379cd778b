//! Publishing into object storage: a published tree of N targets (1 KiB of random bytes
//! each; past 40,000 delegated to 1,024 hashed bins) pushed to a moto server on 127.0.0.1
//! with `--jobs` 8, 32 and 64, the store's requests counted, the read-back (every uploaded
//! object through the public address, beside it tough and our own client with the new
//! timestamp from memory) timed apart from the uploads; a no-change re-run; and `aws s3
//! sync` of the same tree, the transport floor.
//!
//! moto is one Python process: its figures are this client's and the emulator's cost on
//! loopback, not a cloud's (where each request adds a network round trip, which more
//! `--jobs` hide). docs/benchmarks.md says so beside the figures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};
use trustroot_store::object::backend::{Connect, Counted, Counts};
use trustroot_store::object::layout::CacheControl;
use trustroot_store::object::readback::Chain;
use trustroot_store::object::{Destination, PushOptions, ReadBack, StoreBackend, push};
use trustroot_test_support::RepoSim;
use trustroot_test_support::moto::MotoServer;

use crate::Result;
use crate::runner::note;

const BUCKET: &str = "bench";
/// Every push of the run goes under this prefix, which anyone may read.
const AREA: &str = "b";

/// What `store` measures.
pub struct Args {
    pub targets: Vec<usize>,
    pub jobs: Vec<usize>,
    /// `aws` from awscli (scripts/bench.sh installs 1.46.2 in a venv of its own).
    pub aws: Option<PathBuf>,
    /// Leave out the read-back (the uploads alone).
    pub no_read_back: bool,
    /// Also `mirror sync --to`: a mirror of the tree, synced from it, pushed with the
    /// first of `jobs`, then a no-change sync and push.
    pub mirror: bool,
}

/// One push measured.
struct Pushed {
    total: Duration,
    read_back: Duration,
    objects: usize,
    bytes: u64,
    requests: String,
    total_requests: u64,
}

pub fn run(args: &Args) -> Result<()> {
    let moto = MotoServer::start();
    moto.create_bucket(BUCKET);
    moto.public_read(BUCKET, AREA);
    let work = tempfile::tempdir()?;
    let mut rows = Vec::new();
    for &n in &args.targets {
        let tree = work.path().join(format!("tree-{n}"));
        let started = Instant::now();
        let files = build_tree(n, &tree)?;
        note(&format!(
            "store: {n} targets: tree of {files} files built in {:.1?}",
            started.elapsed()
        ));
        let mut first = None;
        for &jobs in &args.jobs {
            let prefix = format!("{AREA}/n{n}-j{jobs}");
            note(&format!("store: {n} targets, --jobs {jobs}: fresh publish"));
            let pushed = push_once(&moto, &prefix, &tree, jobs, !args.no_read_back)?;
            rows.push(row(&format!("publish, fresh, --jobs {jobs}"), n, &pushed));
            first.get_or_insert(prefix);
        }
        if let Some(prefix) = first {
            note(&format!("store: {n} targets: no-change re-run"));
            let again = push_once(&moto, &prefix, &tree, 8, !args.no_read_back)?;
            rows.push(row("publish, no change (re-run)", n, &again));
        }
        if args.mirror {
            let jobs = args
                .jobs
                .first()
                .copied()
                .unwrap_or(trustroot_store::object::DEFAULT_JOBS);
            let mirror = work.path().join(format!("mirror-{n}"));
            let prefix = format!("{AREA}/n{n}-mirror");
            for what in ["mirror sync --to, fresh", "mirror sync --to, no change (re-run)"] {
                note(&format!("store: {n} targets: {what}"));
                let (synced, pushed) = mirror_once(&moto, &prefix, &tree, &mirror, jobs, !args.no_read_back)?;
                rows.push(row(
                    &format!("{what}, --jobs {jobs} (sync {:.1} s of it)", synced.as_secs_f64()),
                    n,
                    &pushed,
                ));
            }
            std::fs::remove_dir_all(&mirror)?;
        }
        match &args.aws {
            Some(aws) => {
                note(&format!("store: {n} targets: aws s3 sync"));
                let started = Instant::now();
                aws_sync(&moto, aws, &tree, &format!("{AREA}/n{n}-aws"))?;
                let total = started.elapsed();
                rows.push(format!(
                    "| aws s3 sync (awscli, 10 concurrent requests) | {n} | {files} | {:.1} | – | {files} PUT + LIST (not counted) |",
                    total.as_secs_f64()
                ));
            }
            None => note("store: no aws (awscli) given: the transport floor is not measured"),
        }
        std::fs::remove_dir_all(&tree)?;
    }
    println!("| run | targets | objects uploaded | seconds (total) | of which read-back | requests to the store |");
    println!("|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    Ok(())
}

fn row(what: &str, n: usize, pushed: &Pushed) -> String {
    let read_back = if pushed.read_back.is_zero() {
        "–".to_string()
    } else {
        format!("{:.1}", pushed.read_back.as_secs_f64())
    };
    format!(
        "| {what} | {n} | {} ({:.1} MB) | {:.1} | {read_back} | {} ({}) |",
        pushed.objects,
        pushed.bytes as f64 / 1e6,
        pushed.total.as_secs_f64(),
        pushed.total_requests,
        pushed.requests
    )
}

/// A published tree of `n` targets of 1 KiB (bytes from a sha256 chain: random-looking,
/// the same every run) in `dir`; returns its number of files.
/// Past this many targets one targets role is over tough's 10 MiB limit for targets
/// metadata, which tough's clients, the gate and the read-back hold it to: a larger tree
/// is delegated to hashed bins, as a repository that size must be.
const FLAT_LIMIT: usize = 40_000;
const BINS: u32 = 1024;

/// Builds the published tree of `n` targets of 1 KiB; returns how many files it holds.
fn build_tree(n: usize, dir: &Path) -> Result<usize> {
    if n > FLAT_LIMIT {
        crate::scale::ScaleRepo::build("store", dir, n, 1024, BINS)?;
        return count_files(dir);
    }
    let mut sim = RepoSim::new(chrono::Utc::now());
    let mut seed = Sha256::digest(b"trustroot-bench store").to_vec();
    for i in 0..n {
        let mut content = Vec::with_capacity(1024);
        while content.len() < 1024 {
            seed = Sha256::digest(&seed).to_vec();
            content.extend_from_slice(&seed);
        }
        // Flat names, as Sigstore's: a target in a directory is also published under
        // tough's alias name, two objects a target.
        sim.add_target("targets", &format!("artifact-{i:06}.bin"), &content);
    }
    sim.publish();
    sim.write_published(dir)?;
    Ok(sim.paths().len())
}

fn count_files(dir: &Path) -> Result<usize> {
    let mut count = 0;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                pending.push(entry.path());
            } else {
                count += 1;
            }
        }
    }
    Ok(count)
}

fn backend(moto: &MotoServer, prefix: &str) -> Result<Counted<StoreBackend>> {
    let env: std::collections::HashMap<String, String> = moto.env().into_iter().collect();
    let lookup = move |name: &str| env.get(name).cloned();
    let destination = Destination::parse(&format!("s3://{BUCKET}/{prefix}"), Path::new("/"))?;
    let connect = Connect {
        endpoint: Some(moto.endpoint()),
        ..Connect::default()
    };
    Ok(Counted::new(StoreBackend::open(&destination, &connect, &lookup)?.0))
}

/// The read-backs the command runs (bytes and tough, and our client beside them, as the
/// command's `Chain` runs them), timed.
struct Timed {
    first: Box<dyn ReadBack>,
    then: Option<Box<dyn ReadBack>>,
    spent: Mutex<Duration>,
}

impl Timed {
    fn new(first: Box<dyn ReadBack>, then: Option<Box<dyn ReadBack>>) -> Timed {
        Timed {
            first,
            then,
            spent: Mutex::new(Duration::ZERO),
        }
    }

    fn spent(&self) -> Duration {
        *self.spent.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl ReadBack for Timed {
    fn check(&self, uploaded: &[String], timestamp: &[u8]) -> std::result::Result<(), (String, String)> {
        let started = Instant::now();
        let chain = Chain {
            first: Some(&*self.first),
            then: self.then.as_deref(),
        };
        chain.check(uploaded, timestamp)?;
        *self.spent.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = started.elapsed();
        Ok(())
    }
}

/// What `mirror sync DIR --to` does, timed as a whole: the sync of `mirror` from the
/// published `tree` (a file:// origin), then the push of the tree it serves, read back as
/// the command reads it back. Returns the sync's time and the whole.
fn mirror_once(
    moto: &MotoServer,
    prefix: &str,
    tree: &Path,
    mirror: &Path,
    jobs: usize,
    read_back: bool,
) -> Result<(Duration, Pushed)> {
    let started = Instant::now();
    let now = chrono::Utc::now();
    let mut options = trustroot_mirror::sync::SyncOptions::new(mirror, now);
    options.from = Some(url::Url::from_directory_path(tree).map_err(|()| "the tree's path is not absolute")?);
    options.root = Some(std::fs::read(tree.join("1.root.json"))?);
    options.jobs = jobs;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(trustroot_mirror::sync::sync(options))?;
    let synced = started.elapsed();
    let served = trustroot_mirror::push::served_tree(mirror)?;
    let counted = backend(moto, prefix)?;
    let push_options = PushOptions {
        jobs,
        ..PushOptions::new(now)
    };
    let base = url::Url::parse(&moto.public_url(BUCKET, prefix))?;
    let bytes_and_tough =
        trustroot_ceremony::readback::HttpReadBack::new(base.clone(), served.clone(), true, CacheControl::default())
            .with_jobs(jobs);
    let timed = Timed::new(Box::new(bytes_and_tough), None);
    let first = read_back.then_some(&timed as &dyn ReadBack);
    let public = read_back.then_some(&base);
    let pushed = trustroot_mirror::push::push_to(&counted, &served, public, &push_options, first)?;
    let total = started.elapsed();
    Ok((
        synced,
        Pushed {
            total,
            // Our client's read-back runs beside the timed one, inside the push: the
            // column shows the bytes and tough only.
            read_back: timed.spent(),
            objects: pushed.report.plan.upload_count(),
            bytes: pushed.report.plan.bytes.values().sum(),
            requests: describe(&counted.counts),
            total_requests: counted.counts.total(),
        },
    ))
}

fn push_once(moto: &MotoServer, prefix: &str, tree: &Path, jobs: usize, read_back: bool) -> Result<Pushed> {
    let counted = backend(moto, prefix)?;
    let options = PushOptions {
        jobs,
        ..PushOptions::new(chrono::Utc::now())
    };
    let base = url::Url::parse(&moto.public_url(BUCKET, prefix))?;
    let timed = Timed::new(
        Box::new(
            trustroot_ceremony::readback::HttpReadBack::new(
                base.clone(),
                tree.to_path_buf(),
                false,
                CacheControl::default(),
            )
            .with_jobs(jobs),
        ),
        Some(Box::new(
            trustroot_mirror::readback::ClientReadBack::new(base, tree.to_path_buf())
                .with_jobs(jobs)
                .after_byte_compare(),
        )),
    );
    let started = Instant::now();
    let report = push(&counted, tree, &options, read_back.then_some(&timed as &dyn ReadBack))?;
    let total = started.elapsed();
    Ok(Pushed {
        total,
        read_back: timed.spent(),
        objects: report.plan.upload_count(),
        bytes: report.plan.bytes.values().sum(),
        requests: describe(&counted.counts),
        total_requests: counted.counts.total(),
    })
}

fn describe(counts: &Counts) -> String {
    let parts = [
        ("PUT", &counts.put),
        ("GET", &counts.get),
        ("HEAD", &counts.head),
        ("LIST", &counts.list),
        ("DELETE", &counts.delete),
    ];
    parts
        .iter()
        .map(|(name, count)| (name, count.load(Ordering::Relaxed)))
        .filter(|(_, count)| *count > 0)
        .map(|(name, count)| format!("{count} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `aws s3 sync TREE s3://BUCKET/PREFIX` against moto, with moto's credentials only.
fn aws_sync(moto: &MotoServer, aws: &Path, tree: &Path, prefix: &str) -> Result<()> {
    let out = Command::new(aws)
        .args(["--endpoint-url", &moto.endpoint(), "s3", "sync", "--only-show-errors"])
        .arg(tree)
        .arg(format!("s3://{BUCKET}/{prefix}"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(moto.env())
        .output()?;
    if !out.status.success() {
        return Err(format!("aws s3 sync failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}
