//! `trustroot-bench`: trustroot's mirror and signing beside python-tuf, tuf-js, tuftool and
//! curl, in one run on one machine. See docs/benchmarks.md; scripts/bench.sh installs the
//! peers and runs it.

mod measure;
mod repo;
mod server;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use trustroot_core::{Limits, TrustedSet};

use measure::{Job, Measured, Outcome, Row};
use repo::{Built, Spec};

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Parser)]
#[command(
    name = "trustroot-bench",
    about = "Benchmarks trustroot's mirror and signing against its peers."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Builds the synthetic repositories, serves them on 127.0.0.1, runs every tool and
    /// prints the results table (also written to WORK/results.md).
    Run(RunArgs),
    /// Serves DIR on 127.0.0.1 (as `run` does) until killed, printing the URL.
    Serve { dir: PathBuf },
    /// The trustroot signing workload (run by `run` in its own process): signs a targets
    /// role listing every line of LISTING (`path<TAB>length<TAB>sha256`) into OUT.
    SignTargets {
        listing: PathBuf,
        out: PathBuf,
        /// How the role is held while it is signed.
        #[arg(long, value_enum, default_value = "streamed")]
        path: repo::SignPath,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Working directory (repositories, clients' output, logs); about 8 GB at full size.
    #[arg(long, default_value = "bench-work")]
    work: PathBuf,
    /// The trustroot binary (default: beside this one).
    #[arg(long)]
    trustroot: Option<PathBuf>,
    /// A Python with `tuf` 7.0.1 (python-tuf) installed.
    #[arg(long)]
    python: Option<PathBuf>,
    /// tests/interop/tuf-js/client.mjs with its node_modules installed.
    #[arg(long)]
    tufjs: Option<PathBuf>,
    /// The tuftool 0.17.0 binary.
    #[arg(long)]
    tuftool: Option<PathBuf>,
    /// curl, the transport floor.
    #[arg(long, default_value = "curl")]
    curl: PathBuf,
    /// A run past this many seconds is stopped and reported as skipped.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// One tenth of every size: a quick check of the harness, not a benchmark.
    #[arg(long)]
    quick: bool,
    /// Run only these parts (small, large, bins, chain, sign); all when not given.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Serve { dir } => server::Server::start(&dir).map(|server| {
            println!("{}", server.url());
            loop {
                std::thread::park();
            }
        }),
        Command::SignTargets { listing, out, path } => {
            repo::sign_listing(&listing, &out, path, chrono::Utc::now()).map(|n| eprintln!("signed {n} targets"))
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trustroot-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Where the repository's scripts are (the workspace this binary was built from).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Tools {
    trustroot: PathBuf,
    python: Option<PathBuf>,
    tufjs: Option<PathBuf>,
    tuftool: Option<PathBuf>,
    curl: PathBuf,
    limit: Duration,
}

fn first_line(program: &Path, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() { o.stderr } else { o.stdout };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| "not found".into())
}

fn machine(tools: &Tools) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim())
        })
        .unwrap_or("unknown");
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown".into(), |kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = format!(
        "- CPU: {model}, {cores} cores (nproc)\n- memory: {mem_gib}\n- kernel: {}\n- load average when the run started: {load}\n",
        first_line(Path::new("uname"), &["-sr"])
    );
    out.push_str(&format!(
        "- trustroot: {}\n",
        first_line(&tools.trustroot, &["--version"])
    ));
    out.push_str(&format!("- curl: {}\n", first_line(&tools.curl, &["--version"])));
    if let Some(python) = &tools.python {
        out.push_str(&format!(
            "- python-tuf: {} ({})\n",
            first_line(python, &["-c", "import tuf; print(tuf.__version__)"]),
            first_line(python, &["--version"])
        ));
    }
    if tools.tufjs.is_some() {
        out.push_str(&format!(
            "- tuf-js: {} (node {})\n",
            first_line(
                Path::new("node"),
                &[
                    "-p",
                    &format!(
                        "require('{}/tests/interop/tuf-js/node_modules/tuf-js/package.json').version",
                        workspace().display()
                    )
                ]
            ),
            first_line(Path::new("node"), &["--version"])
        ));
    }
    if let Some(tuftool) = &tools.tuftool {
        out.push_str(&format!("- tuftool: {}\n", first_line(tuftool, &["--version"])));
    }
    out
}

fn fresh_dir(path: &Path) -> Result<()> {
    if path.exists() {
        std::fs::remove_dir_all(path)?;
    }
    std::fs::create_dir_all(path)?;
    Ok(())
}

fn note(text: &str) {
    eprintln!("[{}] {text}", chrono::Utc::now().format("%H:%M:%S"));
}

struct Bench<'a> {
    tools: &'a Tools,
    work: PathBuf,
    server: server::Server,
    rows: Vec<Row>,
}

impl Bench<'_> {
    fn measure(&self, name: &str, job: &Job) -> Result<Measured> {
        let log = self.work.join("logs").join(format!("{name}.log"));
        note(&format!(
            "{name}: {} {}",
            job.program.display(),
            job.args.join(" ").chars().take(160).collect::<String>()
        ));
        let m = measure::run(job, &log, self.tools.limit)?;
        note(&format!(
            "{name}: {:.3} s, {} KiB, {:?} (log: {})",
            m.wall.as_secs_f64(),
            m.rss_kib.unwrap_or(0),
            m.outcome,
            log.display()
        ));
        Ok(m)
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        task: &str,
        tool: &str,
        m: Measured,
        bytes: u64,
        files: u64,
        floor: Option<Duration>,
        requests: Option<u64>,
        note: &str,
    ) {
        self.rows.push(Row {
            task: task.into(),
            tool: tool.into(),
            measured: m,
            bytes,
            files,
            floor,
            requests,
            note: note.into(),
        });
    }

    /// Every tool mirrors (or updates and downloads every target of) `built`.
    fn mirror(&mut self, built: &Built) -> Result<()> {
        let name = built.spec.name;
        let base = format!("{}{name}/", self.server.url());
        let targets_url = format!("{base}targets/");
        let out = self.work.join("out").join(name);
        let files = built.files.len() as u64;
        let bytes = built.bytes;
        let task = format!(
            "mirror {name}: {} targets x {}, {} root versions{}",
            built.spec.targets,
            human(built.spec.target_size as u64),
            built.spec.root_versions,
            if built.spec.bins > 0 {
                format!(", {} hashed bins", built.spec.bins)
            } else {
                String::new()
            }
        );
        let list = self.work.join(format!("{name}.targets.txt"));
        std::fs::write(&list, built.target_names.join("\n") + "\n")?;

        // The floor: curl fetching the same files, 8 at a time, nothing verified.
        let curl_out = out.join("curl");
        fresh_dir(&curl_out)?;
        let config = self.work.join(format!("{name}.curl.txt"));
        let mut text = String::new();
        for file in &built.files {
            text.push_str(&format!(
                "url = \"{base}{file}\"\noutput = \"{}\"\n",
                curl_out.join(file).display()
            ));
        }
        std::fs::write(&config, text)?;
        let job = Job::new(&self.tools.curl)
            .args(["-Z", "--parallel-max", "8", "--create-dirs", "--fail", "-sS", "-K"])
            .arg(&config);
        self.server.take_requests();
        let floor = self.measure(&format!("{name}-curl"), &job)?;
        let requests = self.server.take_requests();
        let floor_wall = floor.ok().then_some(floor.wall);
        self.row(
            &task,
            "curl -Z --parallel-max 8 (floor)",
            floor,
            bytes,
            files,
            floor_wall,
            Some(requests),
            "",
        );
        std::fs::remove_dir_all(&curl_out)?;

        // trustroot mirror sync, fresh and again with nothing changed.
        let mirror_dir = out.join("trustroot");
        if mirror_dir.exists() {
            std::fs::remove_dir_all(&mirror_dir)?;
        }
        let job = Job::new(&self.tools.trustroot)
            .args(["mirror", "sync"])
            .arg(&mirror_dir)
            .args(["--from", &base, "--targets-from", &targets_url, "--root"])
            .arg(&built.root);
        let m = self.measure(&format!("{name}-trustroot"), &job)?;
        let requests = self.server.take_requests();
        self.row(
            &task,
            "trustroot mirror sync",
            m,
            bytes,
            files,
            floor_wall,
            Some(requests),
            "",
        );
        let job = Job::new(&self.tools.trustroot)
            .args(["mirror", "sync"])
            .arg(&mirror_dir);
        let m = self.measure(&format!("{name}-trustroot-resync"), &job)?;
        let requests = self.server.take_requests();
        self.row(
            &task,
            "trustroot mirror sync, nothing changed",
            m,
            0,
            0,
            None,
            Some(requests),
            "",
        );
        std::fs::remove_dir_all(&mirror_dir)?;

        // Client libraries: refresh, then download every target.
        let client_args = |dir: &Path| {
            vec![
                "--root".to_string(),
                built.root.display().to_string(),
                "--metadata-url".into(),
                base.clone(),
                "--target-base-url".into(),
                targets_url.clone(),
                "--metadata-dir".into(),
                dir.join("metadata").display().to_string(),
                "--target-dir".into(),
                dir.join("targets").display().to_string(),
                "--targets-file".into(),
                list.display().to_string(),
            ]
        };
        let python_tuf = "python-tuf 7.0.1 ngclient";
        match &self.tools.python {
            Some(python) => {
                let dir = out.join("ngclient");
                fresh_dir(&dir)?;
                let job = Job::new(python)
                    .arg(workspace().join("tests/interop/ngclient.py"))
                    .args(client_args(&dir));
                let m = self.measure(&format!("{name}-ngclient"), &job)?;
                let requests = self.server.take_requests();
                self.row(&task, python_tuf, m, bytes, files, floor_wall, Some(requests), "");
                std::fs::remove_dir_all(&dir)?;
            }
            None => self.row(
                &task,
                python_tuf,
                Measured::skipped("no --python"),
                0,
                0,
                None,
                None,
                "",
            ),
        }
        match &self.tools.tufjs {
            Some(client) => {
                let dir = out.join("tuf-js");
                fresh_dir(&dir)?;
                let job = Job::new("node").arg(client).args(client_args(&dir));
                let m = self.measure(&format!("{name}-tuf-js"), &job)?;
                let requests = self.server.take_requests();
                self.row(&task, "tuf-js 5.0.1", m, bytes, files, floor_wall, Some(requests), "");
                std::fs::remove_dir_all(&dir)?;
            }
            None => self.row(
                &task,
                "tuf-js 5.0.1",
                Measured::skipped("no --tufjs"),
                0,
                0,
                None,
                None,
                "",
            ),
        }
        match &self.tools.tuftool {
            Some(tuftool) => {
                let dir = out.join("tuftool");
                fresh_dir(&dir)?;
                let job = Job::new(tuftool)
                    .arg("clone")
                    .arg("--root")
                    .arg(&built.root)
                    .args(["--metadata-url", &base, "--targets-url", &targets_url, "--metadata-dir"])
                    .arg(dir.join("metadata"))
                    .arg("--targets-dir")
                    .arg(dir.join("targets"));
                let m = self.measure(&format!("{name}-tuftool"), &job)?;
                let requests = self.server.take_requests();
                self.row(
                    &task,
                    "tuftool 0.17.0 clone",
                    m,
                    bytes,
                    files,
                    floor_wall,
                    Some(requests),
                    "",
                );
                std::fs::remove_dir_all(&dir)?;
            }
            None => self.row(
                &task,
                "tuftool 0.17.0 clone",
                Measured::skipped("no --tuftool"),
                0,
                0,
                None,
                None,
                "",
            ),
        }
        Ok(())
    }

    /// In process: verifies the 256 bins and resolves every target through them, as a
    /// sync does once it has fetched them.
    fn resolve_bins(&mut self, built: &Built) -> Result<()> {
        let read = |name: &str| std::fs::read(built.dir.join(name));
        let mut bins = Vec::new();
        for i in 0..built.spec.bins {
            let name = trustroot_ceremony::bins::bin_name("bins", built.spec.bins, i);
            bins.push((read(&format!("1.{name}.json"))?, name));
        }
        let (root, timestamp, snapshot, targets) = (
            read("1.root.json")?,
            read("timestamp.json")?,
            read("1.snapshot.json")?,
            read("1.targets.json")?,
        );
        let now = chrono::Utc::now();
        let started = Instant::now();
        let mut set = TrustedSet::new(&root, now, Limits::default())?;
        set.update_timestamp(&timestamp)?;
        set.update_snapshot(&snapshot, false)?;
        set.update_targets(&targets)?;
        for (bytes, name) in &bins {
            set.update_delegated_targets(bytes, name, "targets")?;
        }
        let loaded = started.elapsed();
        let mut verified = HashSet::new();
        let mut found = 0u64;
        for target in &built.target_names {
            if set.find_loaded_target(target, &mut verified).is_some() {
                found += 1;
            }
        }
        let wall = started.elapsed();
        let outcome = if found == built.target_names.len() as u64 {
            Outcome::Ok
        } else {
            Outcome::Failed(format!("{found} of {} targets resolved", built.target_names.len()))
        };
        note(&format!(
            "bins: loaded and verified the metadata in {:.3} s, then resolved {found} targets: {:.3} s in all",
            loaded.as_secs_f64(),
            wall.as_secs_f64()
        ));
        self.row(
            &format!(
                "resolve {} targets through {} hashed bins (in process)",
                built.spec.targets, built.spec.bins
            ),
            "trustroot-core TrustedSet",
            Measured {
                wall,
                rss_kib: None,
                outcome,
            },
            0,
            found,
            None,
            None,
            "verifies root, timestamp, snapshot, targets and every bin, then resolves each path (spec 5.6.7)",
        );
        Ok(())
    }

    fn signing(&mut self, count: usize) -> Result<()> {
        let dir = self.work.join(format!("sign-{count}"));
        note(&format!("signing input: {count} files"));
        let (files, listing) = repo::signing_input(&dir.join("input"), count)?;
        let out = dir.join("out");
        fresh_dir(&out)?;
        let task = format!("sign a targets role of {count} targets");
        let n = count as u64;

        let me = std::env::current_exe()?;
        for (path, tool, what) in [
            (
                "streamed",
                "trustroot (TargetsRole, streamed)",
                "targets_role::TargetsRole: from a listing of paths, lengths and sha256",
            ),
            (
                "value",
                "trustroot (serde_json::Value, sign_envelope)",
                "the role as a serde_json::Value, as ceremony stage holds it; the same listing",
            ),
        ] {
            let job = Job::new(&me)
                .args(["sign-targets", "--path", path])
                .arg(&listing)
                .arg(out.join(format!("trustroot-{path}.targets.json")));
            let m = self.measure(&format!("sign-{count}-trustroot-{path}"), &job)?;
            self.row(&task, tool, m, 0, n, None, None, what);
        }

        match &self.tools.python {
            Some(python) => {
                let job = Job::new(python)
                    .arg(workspace().join("bench/clients/sign_python.py"))
                    .arg(&listing)
                    .arg(out.join("python.targets.json"));
                let m = self.measure(&format!("sign-{count}-python-tuf"), &job)?;
                self.row(
                    &task,
                    "python-tuf 7.0.1 Metadata API",
                    m,
                    0,
                    n,
                    None,
                    None,
                    "from the same listing",
                );
            }
            None => self.row(
                &task,
                "python-tuf 7.0.1 Metadata API",
                Measured::skipped("no --python"),
                0,
                0,
                None,
                None,
                "",
            ),
        }

        match &self.tools.tuftool {
            Some(tuftool) => {
                let (root, key) = tuftool_root(tuftool, &out)?;
                let job = Job::new(tuftool)
                    .arg("create")
                    .arg("--root")
                    .arg(&root)
                    .arg("--key")
                    .arg(&key)
                    .arg("--add-targets")
                    .arg(&files)
                    .args([
                        "--targets-expires",
                        "in 7 days",
                        "--targets-version",
                        "1",
                        "--snapshot-expires",
                        "in 7 days",
                        "--snapshot-version",
                        "1",
                        "--timestamp-expires",
                        "in 7 days",
                        "--timestamp-version",
                        "1",
                        "--outdir",
                    ])
                    .arg(out.join("tuftool"));
                let m = self.measure(&format!("sign-{count}-tuftool"), &job)?;
                self.row(
                    &task,
                    "tuftool 0.17.0 create",
                    m,
                    0,
                    n,
                    None,
                    None,
                    "hashes the files itself and writes a whole repository (snapshot, timestamp, targets copied)",
                );
            }
            None => self.row(
                &task,
                "tuftool 0.17.0 create",
                Measured::skipped("no --tuftool"),
                0,
                0,
                None,
                None,
                "",
            ),
        }
        std::fs::remove_dir_all(&out)?;
        Ok(())
    }
}

/// A root for `tuftool create`, made with tuftool itself: it reads neither the Ed25519 nor
/// the ECDSA PKCS#8 keys trustroot writes, so it signs with an RSA key it generates.
fn tuftool_root(tuftool: &Path, dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let root = dir.join("tuftool-root.json");
    let key = dir.join("tuftool-key.pem");
    let root_arg = root.display().to_string();
    let key_arg = key.display().to_string();
    let mut steps: Vec<Vec<&str>> = vec![
        vec!["root", "init", &root_arg],
        vec!["root", "expire", &root_arg, "in 7 days"],
    ];
    for role in ["root", "targets", "snapshot", "timestamp"] {
        steps.push(vec!["root", "set-threshold", &root_arg, role, "1"]);
    }
    steps.push(vec![
        "root",
        "gen-rsa-key",
        &root_arg,
        &key_arg,
        "-r",
        "root",
        "-r",
        "targets",
        "-r",
        "snapshot",
        "-r",
        "timestamp",
    ]);
    steps.push(vec!["root", "sign", &root_arg, "-k", &key_arg]);
    for step in steps {
        let output = std::process::Command::new(tuftool).args(&step).output()?;
        if !output.status.success() {
            return Err(format!(
                "tuftool {}: {}",
                step.join(" "),
                String::from_utf8_lossy(&output.stderr).lines().next().unwrap_or("")
            )
            .into());
        }
    }
    Ok((root, key))
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} B")
    }
}

/// The issue's targets, judged from the rows.
fn judge(rows: &[Row], quick: bool) -> String {
    let find = |task_prefix: &str, tool: &str| {
        rows.iter()
            .find(|r| r.task.starts_with(task_prefix) && r.tool == tool && r.measured.ok())
    };
    let secs = |r: &Row| r.measured.wall.as_secs_f64();
    let mb = |r: &Row| r.measured.rss_kib.map_or(f64::NAN, |k| k as f64 / 1024.0);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let tr = "trustroot mirror sync";
    let floor = "curl -Z --parallel-max 8 (floor)";
    let mut out = String::new();
    if quick {
        out.push_str("(--quick: sizes are one tenth of the targets' sizes; these verdicts mean little)\n");
    }
    match (find("mirror small", tr), find("mirror small", floor)) {
        (Some(t), Some(f)) => {
            let ratio = secs(t) / secs(f);
            out.push_str(&format!(
                "- {}: 10,000 small targets within 1.5x of the curl floor: {:.3} s vs {:.3} s = {ratio:.2}x\n",
                verdict(ratio <= 1.5),
                secs(t),
                secs(f)
            ));
        }
        _ => out.push_str("- not measured: mirror of small targets\n"),
    }
    match (
        find("mirror large", tr),
        find("mirror large", floor),
        find("mirror small", tr),
    ) {
        (Some(t), Some(f), small) => {
            let share = secs(f) / secs(t);
            out.push_str(&format!(
                "- {}: 20 x 50 MiB at 90% of the floor's throughput or better: {:.0}% ({:.3} s vs {:.3} s); peak RSS {:.1} MB (small targets: {})\n",
                verdict(share >= 0.9),
                share * 100.0,
                secs(t),
                secs(f),
                mb(t),
                small.map_or("-".into(), |s| format!("{:.1} MB", mb(s)))
            ));
        }
        _ => out.push_str("- not measured: mirror of large targets\n"),
    }
    match find("mirror small", "trustroot mirror sync, nothing changed") {
        Some(r) => {
            let requests = r.requests.unwrap_or(0);
            out.push_str(&format!(
                "- {}: no-change re-sync in two requests and under 0.2 s: {requests} requests, {:.3} s\n",
                verdict(requests <= 2 && secs(r) < 0.2),
                secs(r)
            ));
        }
        None => out.push_str("- not measured: no-change re-sync\n"),
    }
    match find("mirror chain", tr) {
        Some(r) => out.push_str(&format!(
            "- {}: the 500-version root chain in under 0.25 s: {:.3} s (whole `mirror sync`, {} requests)\n",
            verdict(secs(r) < 0.25),
            secs(r),
            r.requests.unwrap_or(0)
        )),
        None => out.push_str("- not measured: root chain\n"),
    }
    match find("resolve", "trustroot-core TrustedSet") {
        Some(r) => out.push_str(&format!(
            "- {}: 10,000 targets resolved through hashed bins in under 0.1 s: {:.3} s\n",
            verdict(secs(r) < 0.1),
            secs(r)
        )),
        None => out.push_str("- not measured: hashed bins\n"),
    }
    let big = if quick {
        "sign a targets role of 10000 "
    } else {
        "sign a targets role of 100000 "
    };
    match find(big, "trustroot (TargetsRole, streamed)") {
        Some(r) => out.push_str(&format!(
            "- {}: signing 100,000 targets in under 1 s with peak RSS under 50 MB: {:.3} s, {:.1} MB\n",
            verdict(secs(r) < 1.0 && mb(r) < 50.0),
            secs(r),
            mb(r)
        )),
        None => out.push_str("- not measured: signing\n"),
    }
    out
}

fn run(args: RunArgs) -> Result<()> {
    if !Path::new(measure::GNU_TIME).exists() {
        return Err(format!(
            "{} (GNU time, Debian package `time`) is needed to measure peak RSS",
            measure::GNU_TIME
        )
        .into());
    }
    let trustroot = match args.trustroot {
        Some(p) => p,
        None => std::env::current_exe()?.with_file_name("trustroot"),
    };
    let tools = Tools {
        trustroot,
        python: args.python,
        tufjs: args.tufjs,
        tuftool: args.tuftool,
        curl: args.curl,
        limit: Duration::from_secs(args.timeout),
    };
    std::fs::create_dir_all(&args.work)?;
    let work = std::path::absolute(&args.work)?;
    std::fs::create_dir_all(work.join("logs"))?;
    let scale = if args.quick { 10 } else { 1 };
    let specs = [
        Spec {
            name: "small",
            targets: 10_000 / scale,
            target_size: 4096,
            root_versions: 50,
            bins: 0,
        },
        Spec {
            name: "large",
            targets: 20,
            target_size: (50 << 20) / scale,
            root_versions: 1,
            bins: 0,
        },
        Spec {
            name: "bins",
            targets: 10_000 / scale,
            target_size: 4096,
            root_versions: 1,
            bins: 256,
        },
        Spec {
            name: "chain",
            targets: 1,
            target_size: 4096,
            root_versions: 500,
            bins: 0,
        },
    ];
    let wanted = |part: &str| args.only.is_empty() || args.only.iter().any(|o| o == part);
    let now = chrono::Utc::now();
    let serve = work.join("serve");
    let mut built = Vec::new();
    for spec in specs.iter().filter(|s| wanted(s.name)) {
        let started = Instant::now();
        let b = repo::build(spec, &serve.join(spec.name), now)?;
        note(&format!(
            "built {}: {} files, {} bytes in {:.1} s",
            spec.name,
            b.files.len(),
            b.bytes,
            started.elapsed().as_secs_f64()
        ));
        built.push(b);
    }
    let machine = machine(&tools);
    eprintln!("{machine}");
    let mut bench = Bench {
        tools: &tools,
        work: work.clone(),
        server: server::Server::start(&serve)?,
        rows: Vec::new(),
    };
    for b in &built {
        bench.mirror(b)?;
        if b.spec.bins > 0 {
            bench.resolve_bins(b)?;
        }
    }
    if wanted("sign") {
        for count in [10_000 / scale, 100_000 / scale] {
            bench.signing(count)?;
        }
    }
    let table = measure::table(&bench.rows);
    let verdicts = judge(&bench.rows, args.quick);
    let report = format!(
        "Machine:\n\n{machine}\nRun: {} UTC{}\n\n{table}\nTargets:\n\n{verdicts}",
        now.format("%Y-%m-%d %H:%M"),
        if args.quick { " (--quick)" } else { "" }
    );
    println!("{report}");
    std::fs::write(work.join("results.md"), &report)?;
    Ok(())
}
