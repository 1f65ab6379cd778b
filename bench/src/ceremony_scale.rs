//! The ceremony at scale: `trustroot ceremony start` then `publish` of N new targets of
//! 1 KiB of random bytes, on a repository made by `trustroot init` with file keys, each
//! command timed in its own process as a person runs it; python-tuf's Metadata API signing
//! the same targets role beside it; a sweep over sizes, drawn as an SVG.
//!
//! The round is the whole workflow of one keyholder: `ceremony start` (walk, hash, stage),
//! `ceremony request`, `ceremony sign` (the keyholder's machine), `ceremony add-signature`
//! and `ceremony publish` (gate: our core and tough as clients, every target read; the
//! published tree built and switched). Its time is the sum, its memory the largest peak.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::Result;
use crate::measure::{self, Job, Measured, Outcome};
use crate::plot::{self, Series};
use crate::runner::{fresh_dir, note};
use crate::workspace;

/// What `trustroot-bench ceremony-scale` is given.
pub struct Args {
    pub trustroot: PathBuf,
    pub python: Option<PathBuf>,
    pub work: PathBuf,
    pub sizes: Vec<usize>,
    pub svg: Option<PathBuf>,
    pub limit: Duration,
    /// Hashed bins the targets are spread over (`ceremony delegate bins --bins N`); 0 lists
    /// them all in `targets`.
    pub bins: u32,
}

/// Bytes of each target.
const TARGET_SIZE: usize = 1024;
/// The goal for 100,000 targets, start to publish.
const GOAL_SECONDS: f64 = 10.0;
const GOAL_MB: f64 = 150.0;
/// The commands of one round, in order.
const STEPS: [&str; 5] = ["start", "request", "sign", "add-signature", "publish"];

/// One size's figures.
struct Point {
    targets: usize,
    /// Each step's measurement, in [`STEPS`] order.
    steps: Vec<Measured>,
    python: Option<Measured>,
}

impl Point {
    fn round_ok(&self) -> bool {
        self.steps.len() == STEPS.len() && self.steps.iter().all(Measured::ok)
    }

    fn round_seconds(&self) -> f64 {
        self.steps.iter().map(|m| m.wall.as_secs_f64()).sum()
    }

    fn round_mb(&self) -> f64 {
        self.steps.iter().filter_map(|m| m.rss_kib).max().unwrap_or(0) as f64 / 1024.0
    }
}

/// Runs the sweep, prints the table and the verdict, writes WORK/ceremony-scale.md and the SVG.
pub fn run(args: &Args) -> Result<()> {
    std::fs::create_dir_all(&args.work)?;
    let work = std::path::absolute(&args.work)?;
    std::fs::create_dir_all(work.join("logs"))?;
    let mut points = Vec::new();
    for &n in &args.sizes {
        points.push(measure_size(args, &work, n)?);
    }
    let report = report(&points);
    println!("{report}");
    std::fs::write(work.join("ceremony-scale.md"), &report)?;
    if let Some(svg) = &args.svg {
        std::fs::write(svg, draw(&points))?;
        note(&format!("wrote {}", svg.display()));
    }
    Ok(())
}

fn measure_size(args: &Args, work: &Path, n: usize) -> Result<Point> {
    let dir = work.join(format!("ceremony-{n}"));
    fresh_dir(&dir)?;
    let setup = Setup::new(&args.trustroot, &dir, args.bins)?;
    note(&format!("{n} targets: writing random files"));
    let listing = write_targets(&setup.repo.join("targets"), n)?;
    let mut steps = Vec::new();
    let request = dir.join("request.json");
    let airgap = dir.join("airgap");
    std::fs::create_dir_all(&airgap)?;
    for step in STEPS {
        let job = match step {
            "start" => setup.job(&["ceremony", "start"]),
            "request" => setup.job(&["ceremony", "request"]).arg("--out").arg(&request),
            // The keyholder checks the request against their copy of the published root.
            "sign" => Job::new(&args.trustroot)
                .args(["ceremony", "sign", "--yes", "--request"])
                .arg(&request)
                .arg("--key")
                .arg(&setup.holder_key)
                .arg("--root")
                .arg(setup.repo.join("metadata/root.json"))
                .arg("--out-dir")
                .arg(&airgap),
            "add-signature" => signatures(&airgap)?
                .into_iter()
                .fold(setup.job(&["ceremony", "add-signature"]), Job::arg),
            _ => setup.job(&["ceremony", "publish"]),
        };
        let m = timed(&job, work, &format!("ceremony-{n}-{step}"), args.limit)?;
        let ok = m.ok();
        steps.push(m);
        if !ok {
            break;
        }
    }
    let python = match &args.python {
        Some(python) => {
            let job = Job::new(python)
                .arg(workspace().join("bench/clients/sign_python.py"))
                .arg(&listing)
                .arg(dir.join("python.targets.json"));
            Some(timed(&job, work, &format!("ceremony-{n}-python-tuf"), args.limit)?)
        }
        None => None,
    };
    // The repository (N files, their published copies) is not needed again.
    std::fs::remove_dir_all(&dir)?;
    Ok(Point {
        targets: n,
        steps,
        python,
    })
}

fn timed(job: &Job, work: &Path, name: &str, limit: Duration) -> Result<Measured> {
    let log = work.join("logs").join(format!("{name}.log"));
    let m = measure::run(job, &log, limit)?;
    note(&format!(
        "{name}: {:.3} s, {} KiB, {:?}",
        m.wall.as_secs_f64(),
        m.rss_kib.unwrap_or(0),
        m.outcome
    ));
    Ok(m)
}

/// The signature files `ceremony sign` wrote into `dir`.
fn signatures(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    files.sort();
    Ok(files)
}

/// A signing repository made as a person makes one: `trustroot init`, a keyholder's
/// Ed25519 key for root and targets, an online key in a file, and a first publish with no
/// targets, so the measured round adds every target to a published repository.
struct Setup {
    trustroot: PathBuf,
    repo: PathBuf,
    holder_key: PathBuf,
}

impl Setup {
    fn new(trustroot: &Path, dir: &Path, bins: u32) -> Result<Setup> {
        let repo = dir.join("repo");
        let keys = dir.join("keys");
        std::fs::create_dir_all(&keys)?;
        let setup = Setup {
            trustroot: trustroot.to_path_buf(),
            repo: repo.clone(),
            holder_key: keys.join("holder.pem"),
        };
        let online = keys.join("online.pem");
        run_ok(trustroot, dir, &["init", "repo"])?;
        for (key, kind) in [(&setup.holder_key, "ed25519"), (&online, "ecdsa-p256")] {
            run_ok(
                trustroot,
                dir,
                &["key", "generate", "--type", kind, "--out", &key.display().to_string()],
            )?;
        }
        let holder_pub = format!("{}.pub", setup.holder_key.display());
        for role in ["root", "targets"] {
            run_ok(
                trustroot,
                &repo,
                &[
                    "key",
                    "add",
                    "holder",
                    "--role",
                    role,
                    "--holder",
                    "@holder",
                    &holder_pub,
                ],
            )?;
        }
        let online_pub = format!("{}.pub", online.display());
        run_ok(
            trustroot,
            &repo,
            &["key", "add", "online", "--role", "online", &online_pub],
        )?;
        if bins > 0 {
            // Every target (`dNNN/tNNNNNN.bin`) in one delegated role spread over hashed bins,
            // signed by the same keyholder.
            let bins = bins.to_string();
            run_ok(
                trustroot,
                &repo,
                &[
                    "ceremony",
                    "delegate",
                    "bins",
                    "--path",
                    "*/*",
                    "--threshold",
                    "1",
                    "--bins",
                    &bins,
                ],
            )?;
            run_ok(
                trustroot,
                &repo,
                &["key", "add", "holder", "--role", "bins", &holder_pub],
            )?;
        }
        let policy_path = repo.join("trustroot.toml");
        let policy = std::fs::read_to_string(&policy_path)?;
        let policy = policy.replace(
            "signer = \"env:TRUSTROOT_ONLINE_KEY\"",
            &format!("signer = \"{}\"", online.display()),
        );
        std::fs::write(&policy_path, policy)?;
        // The first publish: root, an empty targets, snapshot and timestamp.
        let request = dir.join("first-request.json");
        let airgap = dir.join("first-airgap");
        std::fs::create_dir_all(&airgap)?;
        run_ok(trustroot, &repo, &["ceremony", "start"])?;
        run_ok(
            trustroot,
            &repo,
            &["ceremony", "request", "--out", &request.display().to_string()],
        )?;
        run_ok(
            trustroot,
            &repo,
            &[
                "ceremony",
                "sign",
                "--yes",
                "--request",
                &request.display().to_string(),
                "--key",
                &setup.holder_key.display().to_string(),
                "--out-dir",
                &airgap.display().to_string(),
            ],
        )?;
        let mut add = vec!["ceremony".to_string(), "add-signature".to_string()];
        add.extend(signatures(&airgap)?.iter().map(|p| p.display().to_string()));
        let add: Vec<&str> = add.iter().map(String::as_str).collect();
        run_ok(trustroot, &repo, &add)?;
        run_ok(trustroot, &repo, &["ceremony", "publish"])?;
        Ok(setup)
    }

    /// `trustroot ARGS --repo REPO`.
    fn job(&self, args: &[&str]) -> Job {
        Job::new(&self.trustroot).args(args).arg("--repo").arg(&self.repo)
    }
}

fn run_ok(program: &Path, dir: &Path, args: &[&str]) -> Result<()> {
    let out = std::process::Command::new(program)
        .current_dir(dir)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "trustroot {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(())
}

/// Writes `n` files of [`TARGET_SIZE`] random bytes under `dir` (1,000 to a directory) and
/// a listing of them (`path<TAB>length<TAB>sha256`) beside it, for python-tuf.
fn write_targets(dir: &Path, n: usize) -> Result<PathBuf> {
    use sha2::{Digest as _, Sha256};
    let mut random = std::fs::File::open("/dev/urandom")?;
    let mut bytes = vec![0u8; TARGET_SIZE];
    let mut listing = String::new();
    for i in 0..n {
        let name = format!("d{:03}/t{i:06}.bin", i / 1000);
        let path = dir.join(&name);
        if i % 1000 == 0 {
            std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
        }
        random.read_exact(&mut bytes)?;
        std::fs::write(&path, &bytes)?;
        listing.push_str(&format!(
            "{name}\t{TARGET_SIZE}\t{}\n",
            hex::encode(Sha256::digest(&bytes))
        ));
    }
    let path = dir.with_file_name("listing.tsv");
    std::fs::write(&path, listing)?;
    Ok(path)
}

fn cell(m: &Measured) -> (String, String) {
    match &m.outcome {
        Outcome::Ok => (
            format!("{:.3}", m.wall.as_secs_f64()),
            m.rss_kib.map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
        ),
        Outcome::Failed(why) => (format!("FAILED ({})", why.replace('|', "/")), "-".into()),
        Outcome::TimedOut(limit) => (format!("stopped after {} s", limit.as_secs()), "-".into()),
        Outcome::Skipped(why) => (format!("skipped: {why}"), "-".into()),
    }
}

/// The table of every step at every size, the sweep, and the verdict at 100,000.
fn report(points: &[Point]) -> String {
    let mut out = String::from("| targets | command | wall s | peak RSS MB |\n|---|---|---|---|\n");
    for p in points {
        for (step, m) in STEPS.iter().zip(&p.steps) {
            let (wall, rss) = cell(m);
            out.push_str(&format!(
                "| {} | trustroot ceremony {step} | {wall} | {rss} |\n",
                p.targets
            ));
        }
        if p.round_ok() {
            out.push_str(&format!(
                "| {} | **round: start to publish** | **{:.3}** | **{:.1}** (largest) |\n",
                p.targets,
                p.round_seconds(),
                p.round_mb()
            ));
        }
        if let Some(m) = &p.python {
            let (wall, rss) = cell(m);
            out.push_str(&format!(
                "| {} | python-tuf Metadata API: sign the targets role | {wall} | {rss} |\n",
                p.targets
            ));
        }
    }
    out.push('\n');
    match points.iter().find(|p| p.targets == 100_000) {
        Some(p) if p.round_ok() => {
            let (s, mb) = (p.round_seconds(), p.round_mb());
            let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
            out.push_str(&format!(
                "- {}: `ceremony start` to `publish` of 100,000 new targets x 1 KiB in at most {GOAL_SECONDS} s: {s:.2} s\n- {}: at most {GOAL_MB} MB peak RSS: {mb:.1} MB\n",
                verdict(s <= GOAL_SECONDS),
                verdict(mb <= GOAL_MB)
            ));
        }
        Some(_) => out.push_str("- MISSED: the round of 100,000 targets did not complete (see the table)\n"),
        None => out.push_str("- not measured: 100,000 targets\n"),
    }
    out
}

/// Time and peak memory against the number of targets, log-log, as an SVG of two panels.
fn draw(points: &[Point]) -> String {
    let series = |f: &dyn Fn(&Point) -> Option<f64>| -> Vec<(f64, f64)> {
        points
            .iter()
            .filter_map(|p| f(p).map(|v| (p.targets as f64, v)))
            .collect()
    };
    fn python_ok(p: &Point) -> Option<&Measured> {
        p.python.as_ref().filter(|m| m.ok())
    }
    let time = [
        Series {
            name: "trustroot ceremony start to publish",
            colour: "#1f77b4",
            points: series(&|p| p.round_ok().then(|| p.round_seconds())),
        },
        Series {
            name: "python-tuf: sign the targets role",
            colour: "#d62728",
            points: series(&|p| python_ok(p).map(|m| m.wall.as_secs_f64())),
        },
    ];
    let memory = [
        Series {
            name: "trustroot (largest peak of the round)",
            colour: "#1f77b4",
            points: series(&|p| p.round_ok().then(|| p.round_mb())),
        },
        Series {
            name: "python-tuf: sign the targets role",
            colour: "#d62728",
            points: series(&|p| python_ok(p).and_then(|m| m.rss_kib).map(|k| k as f64 / 1024.0)),
        },
    ];
    plot::two_panels(
        &time,
        Some((GOAL_SECONDS, "goal: 10 s")),
        &memory,
        Some((GOAL_MB, "goal: 150 MB")),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn measured(secs: f64, mb: u64) -> Measured {
        Measured {
            wall: Duration::from_secs_f64(secs),
            rss_kib: Some(mb * 1024),
            outcome: Outcome::Ok,
        }
    }

    fn point(targets: usize, secs: f64, mb: u64) -> Point {
        Point {
            targets,
            steps: STEPS.iter().map(|_| measured(secs / 5.0, mb)).collect(),
            python: Some(measured(secs * 2.0, mb * 3)),
        }
    }

    #[test]
    fn the_verdict_judges_the_sum_of_the_steps_and_their_largest_peak() {
        let text = report(&[point(1000, 0.5, 20), point(100_000, 9.0, 120)]);
        assert!(text.contains("- met: `ceremony start` to `publish`"), "{text}");
        assert!(text.contains("- met: at most 150 MB peak RSS: 120.0 MB"), "{text}");
        let text = report(&[point(100_000, 12.0, 200)]);
        assert!(
            text.contains(
                "- MISSED: `ceremony start` to `publish` of 100,000 new targets x 1 KiB in at most 10 s: 12.00 s"
            ),
            "{text}"
        );
        assert!(text.contains("- MISSED: at most 150 MB"), "{text}");
        let mut failed = point(100_000, 1.0, 1);
        failed.steps[4].outcome = Outcome::Failed("exit 1: gate".into());
        assert!(report(&[failed]).contains("did not complete"));
    }

    #[test]
    fn the_plot_puts_every_point_on_its_log_scale() {
        let svg = draw(&[point(1000, 0.5, 20), point(10_000, 2.0, 40), point(100_000, 9.0, 120)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        // Two series of three points in each of two panels.
        assert_eq!(svg.matches("<circle").count(), 12);
        assert!(svg.contains(">1k<") && svg.contains(">100k<"));
        // 1,000 targets sit on the left edge of the first panel (x = 60).
        assert!(svg.contains("<circle cx=\"60.0\""), "{svg}");
    }
}
