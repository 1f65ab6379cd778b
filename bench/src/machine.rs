//! The machine and the tools a run measures, as the report's first section shows them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::workspace;

/// The programs a run measures, and how long one may take.
pub struct Tools {
    pub trustroot: PathBuf,
    pub python: Option<PathBuf>,
    pub tufjs: Option<PathBuf>,
    pub tuftool: Option<PathBuf>,
    pub curl: PathBuf,
    pub limit: Duration,
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

/// The machine, its load and each tool's version.
pub fn machine(tools: &Tools) -> String {
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
