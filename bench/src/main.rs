//! `trustroot-bench`: trustroot's mirror and signing beside python-tuf, tuf-js, tuftool and
//! curl, in one run on one machine. See docs/benchmarks.md; scripts/bench.sh installs the
//! peers and runs it.

//!
//! - `machine`: the tools and the machine; `runner`: measuring a job into a row;
//! - `repo`: the synthetic repositories; `server`: serving them on 127.0.0.1;
//! - `mirror` and `signing`: the two benchmarks; `judge`: the verdicts against the targets;
//! - `store`: publishing into object storage (moto on 127.0.0.1) beside `aws s3 sync`;
//! - `signers`: the file signer beside a PKCS#11 token (SoftHSM2) and AWS KMS (moto),
//!   signatures per second and refreshes.

mod ceremony_scale;
mod judge;
mod machine;
mod measure;
mod mirror;
mod plot;
mod repo;
mod runner;
mod scale;
mod serve_load;
mod server;
mod signers;
mod signing;
mod store;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

use machine::{Tools, machine};
use repo::Spec;
use runner::{Bench, note};

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
    /// Signatures per second and the time of a whole `trustroot online refresh` with the
    /// online key in a file, on a SoftHSM2 token and in AWS KMS (a moto server started
    /// from $TRUSTROOT_TEST_PYTHON); prints a table.
    Signers {
        /// The trustroot binary (default: beside this one).
        #[arg(long)]
        trustroot: Option<PathBuf>,
        /// Signatures made with each signer.
        #[arg(long, default_value_t = 300)]
        signatures: usize,
        /// Refreshes timed with each signer (the median is shown).
        #[arg(long, default_value_t = 9)]
        refreshes: usize,
    },
    /// Publishing into object storage: a tree of each size in --targets (1 KiB targets)
    /// pushed to a moto server (from $TRUSTROOT_TEST_PYTHON) on 127.0.0.1 with each --jobs,
    /// read back as the command does, then a no-change re-run, beside `aws s3 sync` of the
    /// same tree; the store's requests counted. Prints a table.
    Store {
        /// Tree sizes, in targets.
        #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
        targets: Vec<usize>,
        /// Concurrent uploads, one fresh publish each.
        #[arg(long, value_delimiter = ',', default_value = "8,32,64")]
        jobs: Vec<usize>,
        /// The `aws` program of awscli (scripts/bench.sh installs awscli 1.46.2 in a venv
        /// of its own); without it the transport floor is not measured.
        #[arg(long)]
        aws: Option<PathBuf>,
        /// Leave out the read-back (the uploads alone).
        #[arg(long)]
        no_read_back: bool,
        /// Also measure `mirror sync --to`: a mirror of the tree synced and pushed with
        /// the first --jobs, then again with nothing new.
        #[arg(long)]
        mirror: bool,
    },
    /// `trustroot ceremony start` to `publish` of N new 1 KiB targets, each command timed,
    /// beside python-tuf signing the same targets role, at each size; prints the table and
    /// writes WORK/ceremony-scale.md and, with --svg, the plot (docs/benchmarks.md).
    CeremonyScale {
        #[arg(long, default_value = "bench-work")]
        work: PathBuf,
        /// The trustroot binary (default: beside this one).
        #[arg(long)]
        trustroot: Option<PathBuf>,
        /// A Python with `tuf` 7.0.1 (python-tuf) installed.
        #[arg(long)]
        python: Option<PathBuf>,
        #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
        sizes: Vec<usize>,
        /// Write the plot of time and peak memory against size here.
        #[arg(long)]
        svg: Option<PathBuf>,
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// Spread the targets over this many hashed bins (0: all in `targets`).
        #[arg(long, default_value_t = 0)]
        bins: u32,
    },
    /// One signer's rate (run by `signers` in its own process, with the environment the
    /// reference needs): opens REF, makes the signatures, prints the seconds the opening
    /// took and the signatures per second.
    SignRate {
        reference: String,
        #[arg(long, default_value_t = 300)]
        signatures: usize,
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
    /// Run only these parts (small, large, bins, chain, sign, resolve, scale, serve); all
    /// when not given. `resolve`: the in-process hashed-bins rows without the mirrors. `scale`: 10,000 and 100,000 targets of 1 KiB (fresh, no change, a new
    /// snapshot, one target changed, 1,024 bins, and the largest exported and imported beside
    /// tar + zstd); `serve`: `mirror serve` beside nginx.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Write the plot of the `scale` rows (time and peak memory against the number of
    /// targets) here, as SVG.
    #[arg(long)]
    scale_svg: Option<PathBuf>,
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
        Command::Signers {
            trustroot,
            signatures,
            refreshes,
        } => std::env::current_exe().map_err(Into::into).and_then(|me| {
            signers::run(&signers::Args {
                bench: me.clone(),
                trustroot: trustroot.unwrap_or_else(|| me.with_file_name("trustroot")),
                signatures,
                refreshes,
            })
        }),
        Command::Store {
            targets,
            jobs,
            aws,
            no_read_back,
            mirror,
        } => store::run(&store::Args {
            targets,
            jobs,
            aws,
            no_read_back,
            mirror,
        }),
        Command::CeremonyScale {
            work,
            trustroot,
            python,
            sizes,
            svg,
            timeout,
            bins,
        } => std::env::current_exe().map_err(Into::into).and_then(|me| {
            ceremony_scale::run(&ceremony_scale::Args {
                trustroot: trustroot.unwrap_or_else(|| me.with_file_name("trustroot")),
                python,
                work,
                sizes,
                svg,
                limit: Duration::from_secs(timeout),
                bins,
            })
        }),
        Command::SignRate { reference, signatures } => signers::sign_rate(&reference, signatures),
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
    let wanted = |part: &str| args.only.is_empty() || args.only.iter().any(|o| o == part);
    let now = chrono::Utc::now();
    let serve = work.join("serve");
    let mut built = Vec::new();
    // `resolve` alone builds the bins repository for the in-process rows only.
    for spec in specs(scale)
        .iter()
        .filter(|s| wanted(s.name) || (s.bins > 0 && wanted("resolve")))
    {
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
        if wanted(b.spec.name) {
            bench.mirror(b)?;
        }
        if b.spec.bins > 0 {
            bench.resolve_bins(b)?;
        }
    }
    if wanted("sign") {
        for count in [10_000 / scale, 100_000 / scale] {
            bench.signing(count)?;
        }
    }
    let mut loads = None;
    if wanted("scale") || wanted("serve") {
        let (counts, bins) = if wanted("scale") {
            (vec![1_000 / scale, 10_000 / scale, 100_000 / scale], 1024)
        } else {
            (vec![10_000 / scale], 0)
        };
        if let Some((repo, mirror)) = bench.scale(&counts, bins, 10_000 / scale)? {
            if wanted("serve") {
                loads = Some(bench.serve_load(&mirror, &repo.target_files(), 30)?);
            }
            std::fs::remove_dir_all(&mirror)?;
            std::fs::remove_dir_all(&repo.dir)?;
        }
    }
    if let Some(svg) = &args.scale_svg
        && wanted("scale")
    {
        std::fs::write(svg, scale::draw(&bench.rows))?;
        note(&format!("wrote {}", svg.display()));
    }
    let table = measure::table(&bench.rows);
    let verdicts = judge::judge(&bench.rows, args.quick) + &scale::judge(&bench.rows, loads.as_ref());
    let report = format!(
        "Machine:\n\n{machine}\nRun: {} UTC{}\n\n{table}\nTargets:\n\n{verdicts}",
        now.format("%Y-%m-%d %H:%M"),
        if args.quick { " (--quick)" } else { "" }
    );
    println!("{report}");
    std::fs::write(work.join("results.md"), &report)?;
    Ok(())
}

/// The four repositories, at full size or divided by `scale`.
fn specs(scale: usize) -> [Spec; 4] {
    [
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
    ]
}
