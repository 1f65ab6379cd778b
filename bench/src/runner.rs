//! A run's measuring: each job timed in its own process (with its peak RSS), its log kept,
//! its row recorded.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::Result;
use crate::machine::Tools;
use crate::measure::{self, Job, Measured, Row};
use crate::server;

/// Prints a progress line on standard error, with the time.
pub fn note(text: &str) {
    eprintln!("[{}] {text}", chrono::Utc::now().format("%H:%M:%S"));
}

/// Empties `path` (or creates it).
pub fn fresh_dir(path: &Path) -> Result<()> {
    if path.exists() {
        std::fs::remove_dir_all(path)?;
    }
    std::fs::create_dir_all(path)?;
    Ok(())
}

/// One run: the tools, the work directory, the server of the built repositories, and the
/// rows measured so far.
pub struct Bench<'a> {
    pub tools: &'a Tools,
    pub work: PathBuf,
    pub server: server::Server,
    pub rows: Vec<Row>,
}

impl Bench<'_> {
    /// The transport floor: curl fetching `files` (paths under `base`) into `out`, 8 at a
    /// time, nothing verified. Returns its measurement and the requests the server saw.
    pub fn curl_floor(&self, name: &str, base: &str, files: &[String], out: &Path) -> Result<(Measured, u64)> {
        let config = self.work.join(format!("{name}.curl.txt"));
        let mut text = String::new();
        for file in files {
            text.push_str(&format!(
                "url = \"{base}{file}\"\noutput = \"{}\"\n",
                out.join(file).display()
            ));
        }
        std::fs::write(&config, text)?;
        let job = Job::new(&self.tools.curl)
            .args(["-Z", "--parallel-max", "8", "--create-dirs", "--fail", "-sS", "-K"])
            .arg(&config);
        self.server.take_requests();
        let floor = self.measure(&format!("{name}-curl"), &job)?;
        Ok((floor, self.server.take_requests()))
    }

    pub fn measure(&self, name: &str, job: &Job) -> Result<Measured> {
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
    pub fn row(
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

    /// The row of a peer that was not given (`--python`, `--tufjs`, `--tuftool`).
    pub fn skipped(&mut self, task: &str, tool: &str, why: &str) {
        self.row(task, tool, Measured::skipped(why), 0, 0, None, None, "");
    }
}
