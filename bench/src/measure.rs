//! Running one tool and measuring it: wall time around the process, peak RSS from
//! GNU time (`/usr/bin/time -f %M`, the child's `ru_maxrss`), and the results table.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;

/// GNU time, which reports a child's peak resident set size.
pub const GNU_TIME: &str = "/usr/bin/time";

/// How one run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok,
    /// Exited unsuccessfully; the last lines of its output.
    Failed(String),
    /// Killed after the time limit.
    TimedOut(Duration),
    /// Not run, and why.
    Skipped(String),
}

/// One measured run.
#[derive(Debug, Clone)]
pub struct Measured {
    pub wall: Duration,
    /// Peak RSS in KiB, when known.
    pub rss_kib: Option<u64>,
    pub outcome: Outcome,
}

impl Measured {
    pub fn skipped(why: impl Into<String>) -> Measured {
        Measured {
            wall: Duration::ZERO,
            rss_kib: None,
            outcome: Outcome::Skipped(why.into()),
        }
    }

    pub fn ok(&self) -> bool {
        self.outcome == Outcome::Ok
    }
}

/// A command to run: program and arguments.
#[derive(Debug, Clone)]
pub struct Job {
    pub program: PathBuf,
    pub args: Vec<String>,
}

impl Job {
    pub fn new(program: impl Into<PathBuf>) -> Job {
        Job {
            program: program.into(),
            args: Vec::new(),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Job {
        self.args.push(arg.as_ref().to_string_lossy().into_owned());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, args: I) -> Job {
        for a in args {
            self = self.arg(a);
        }
        self
    }
}

/// Why a run failed, from its output: the first line that says so (Rust tools print the
/// error and then a backtrace), or else the last `n` lines.
fn reason(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let says = |l: &&&str| {
        let l = l.to_lowercase();
        l.contains("error") || l.contains("failed")
    };
    match lines.iter().find(says) {
        Some(line) => line.trim().to_string(),
        None => lines[lines.len().saturating_sub(n)..].join(" | "),
    }
}

/// Parses what `/usr/bin/time -f %M -o FILE` wrote: the peak RSS in KiB on the last line
/// (GNU time puts "Command exited with non-zero status N" before it).
pub fn parse_time_output(text: &str) -> Option<u64> {
    text.lines().rev().find_map(|l| l.trim().parse::<u64>().ok())
}

/// Runs `job` under GNU time, its output to `log`, killed (with its whole process group)
/// after `limit`.
pub fn run(job: &Job, log: &Path, limit: Duration) -> Result<Measured> {
    let rss_file = log.with_extension("rss");
    let _ = std::fs::remove_file(&rss_file);
    let out = std::fs::File::create(log)?;
    let err = out.try_clone()?;
    let mut command = Command::new(GNU_TIME);
    command
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(&job.program)
        .args(&job.args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", job.program.display()))?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let wall = started.elapsed();
    let rss_kib = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|t| parse_time_output(&t));
    let outcome = match status {
        None => Outcome::TimedOut(limit),
        Some(s) if s.success() => Outcome::Ok,
        Some(s) => Outcome::Failed(format!(
            "{s}: {}",
            reason(&std::fs::read_to_string(log).unwrap_or_default(), 3)
        )),
    };
    Ok(Measured { wall, rss_kib, outcome })
}

/// One row of the results.
#[derive(Debug, Clone)]
pub struct Row {
    pub task: String,
    pub tool: String,
    pub measured: Measured,
    /// Bytes and files the run moved (or signed), for MB/s and files/s.
    pub bytes: u64,
    pub files: u64,
    /// The floor's wall time for this task, for the ratio.
    pub floor: Option<Duration>,
    /// HTTP requests the server answered during the run.
    pub requests: Option<u64>,
    pub note: String,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl Row {
    pub fn cells(&self) -> Vec<String> {
        let m = &self.measured;
        let t = secs(m.wall);
        let timed = matches!(m.outcome, Outcome::Ok);
        let rate = |n: f64| {
            if timed && t > 0.0 {
                format!("{:.0}", n / t)
            } else {
                "-".into()
            }
        };
        let mb = self.bytes as f64 / 1e6;
        let mut note = match &m.outcome {
            Outcome::Ok => String::new(),
            Outcome::Failed(why) => format!("FAILED ({why})"),
            Outcome::TimedOut(limit) => format!("skipped: ran past {} s and was stopped", limit.as_secs()),
            Outcome::Skipped(why) => format!("skipped: {why}"),
        };
        if !self.note.is_empty() {
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str(&self.note);
        }
        vec![
            self.task.clone(),
            self.tool.clone(),
            if timed { format!("{t:.3}") } else { "-".into() },
            m.rss_kib.map_or("-".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
            if self.bytes > 0 && timed && t > 0.0 {
                format!("{:.1}", mb / t)
            } else {
                "-".into()
            },
            if self.files > 0 {
                rate(self.files as f64)
            } else {
                "-".into()
            },
            match (self.floor, timed) {
                (Some(f), true) if f > Duration::ZERO => format!("{:.2}x", t / secs(f)),
                _ => "-".into(),
            },
            self.requests.map_or("-".into(), |r| r.to_string()),
            note.replace('|', "/"),
        ]
    }
}

pub const HEADER: [&str; 9] = [
    "task",
    "tool",
    "wall s",
    "peak RSS MB",
    "MB/s",
    "files/s",
    "vs floor",
    "requests",
    "note",
];

/// The rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = format!("| {} |\n", HEADER.join(" | "));
    out.push_str(&format!("|{}\n", "---|".repeat(HEADER.len())));
    for row in rows {
        out.push_str(&format!("| {} |\n", row.cells().join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_failure_is_told_by_its_error_line_not_its_backtrace() {
        let log = "Cloning\nFailed to walk directory tree: Too many open files\n\n   0: frame\n   1: _start\n";
        assert_eq!(reason(log, 3), "Failed to walk directory tree: Too many open files");
        assert_eq!(reason("a\nb\nc\nd\n", 2), "c | d");
    }

    #[test]
    fn gnu_time_output_is_read_even_after_a_failure_line() {
        assert_eq!(parse_time_output("12345\n"), Some(12345));
        assert_eq!(
            parse_time_output("Command exited with non-zero status 1\n2048\n"),
            Some(2048)
        );
        assert_eq!(parse_time_output(""), None);
    }

    #[test]
    fn a_row_shows_rates_and_the_ratio_to_the_floor() {
        let row = Row {
            task: "small".into(),
            tool: "x".into(),
            measured: Measured {
                wall: Duration::from_millis(2000),
                rss_kib: Some(10 * 1024),
                outcome: Outcome::Ok,
            },
            bytes: 40_000_000,
            files: 10_000,
            floor: Some(Duration::from_millis(1000)),
            requests: Some(2),
            note: String::new(),
        };
        assert_eq!(
            row.cells(),
            ["small", "x", "2.000", "10.0", "20.0", "5000", "2.00x", "2", ""]
        );
        let failed = Row {
            measured: Measured {
                outcome: Outcome::Failed("exit 1: boom".into()),
                ..row.measured.clone()
            },
            ..row.clone()
        };
        assert_eq!(failed.cells()[2], "-");
        assert_eq!(failed.cells()[8], "FAILED (exit 1: boom)");
        let text = table(&[row]);
        assert!(text.starts_with("| task | tool |"));
        assert_eq!(text.lines().count(), 3);
    }

    #[test]
    fn a_run_measures_a_real_process() {
        if !Path::new(GNU_TIME).exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let ok = run(
            &Job::new("/bin/sh").args(["-c", "echo hi"]),
            &dir.path().join("a.log"),
            Duration::from_secs(10),
        )
        .unwrap();
        assert!(ok.ok());
        assert!(ok.rss_kib.unwrap() > 0);
        let slow = run(
            &Job::new("/bin/sh").args(["-c", "sleep 5"]),
            &dir.path().join("b.log"),
            Duration::from_millis(100),
        )
        .unwrap();
        assert!(matches!(slow.outcome, Outcome::TimedOut(_)));
    }
}
