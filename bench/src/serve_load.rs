//! `mirror serve` beside nginx (issue 24): the same mirror tree served by each on
//! 127.0.0.1, loaded by wrk with 256 keep-alive connections for 30 s, every request for
//! one of the 10,000 targets in turn. The two run alternately, [`ROUNDS`] times each
//! (nginx, `mirror serve`, nginx, ...), so a machine whose load changes during the
//! benchmark weighs on both alike; each run is a row, and the verdict takes each
//! server's median run (as the issue asks of the fresh syncs). nginx runs with a configuration of the benchmark's
//! own (its own prefix, pid file and logs, a random port), in the foreground as a child of
//! this process, and is stopped by its pid; no service is started or left running.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;
use crate::measure::{Measured, Outcome};
use crate::runner::{Bench, fresh_dir, note};

/// What wrk reported for one server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Load {
    pub requests: u64,
    pub requests_per_second: f64,
    /// The 99th percentile latency, in milliseconds.
    pub p99_ms: f64,
    /// Socket errors and non-2xx/3xx answers.
    pub errors: u64,
}

/// A latency as wrk prints it (`812.00us`, `1.23ms`, `2.00s`), in milliseconds.
fn millis(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// Parses `wrk --latency` output.
pub fn parse_wrk(text: &str) -> Option<Load> {
    let mut load = Load::default();
    let mut seen = (false, false);
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["99%", value] => {
                load.p99_ms = millis(value)?;
                seen.0 = true;
            }
            ["Requests/sec:", value] => {
                load.requests_per_second = value.parse().ok()?;
                seen.1 = true;
            }
            [count, "requests", "in", ..] => load.requests = count.parse().ok()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => load.errors += count.parse::<u64>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 0, write 0, timeout 0"
                for pair in rest.chunks(2) {
                    if let [_, n] = pair {
                        load.errors += n.trim_end_matches(',').parse::<u64>().ok()?;
                    }
                }
            }
            _ => {}
        }
    }
    (seen.0 && seen.1).then_some(load)
}

/// The resident set of process `pid` now, and its peak, in KiB (from /proc).
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A free port on 127.0.0.1 (bound, read, released: nginx binds it right after).
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child server, stopped (SIGTERM, then waited for) when dropped.
struct Running {
    child: Child,
    name: &'static str,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        note(&format!(
            "{} did not stop on SIGTERM within 10 s and was killed",
            self.name
        ));
    }
}

/// Waits until something accepts connections on `port`.
fn wait_for(port: u16, child: &mut Child) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            return Err(format!("the server exited before it listened: {status}").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("nothing listened on 127.0.0.1:{port} within 10 s").into())
}

/// nginx serving `root` on 127.0.0.1:`port` with a configuration under `dir`.
fn start_nginx(dir: &Path, root: &Path, port: u16) -> Result<Running> {
    fresh_dir(dir)?;
    let d = dir.display();
    let config = format!(
        "daemon off;\nmaster_process on;\nworker_processes 2;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 2048; }}\n\
         http {{\n  access_log {d}/access.log;\n  sendfile on;\n  tcp_nopush on;\n  keepalive_timeout 10s;\n  \
         keepalive_requests 1000000;\n  default_type application/octet-stream;\n  \
         types {{ application/json json; }}\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
         server {{ listen 127.0.0.1:{port}; root {}; autoindex off; }}\n}}\n",
        root.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, config)?;
    let mut child = Command::new("nginx")
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run nginx (Debian package nginx; scripts/bench.sh installs it): {e}"))?;
    wait_for(port, &mut child)?;
    Ok(Running { child, name: "nginx" })
}

/// `trustroot mirror serve MIRROR` on 127.0.0.1:`port`, its access log to a file (nginx
/// keeps one too).
fn start_trustroot(trustroot: &Path, mirror: &Path, port: u16, log: &Path) -> Result<Running> {
    let mut child = Command::new(trustroot)
        .args(["mirror", "serve"])
        .arg(mirror)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--access-log"])
        .arg(log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    // It prints the address once it listens.
    if let Some(out) = child.stdout.take() {
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line)?;
    }
    wait_for(port, &mut child)?;
    Ok(Running {
        child,
        name: "trustroot mirror serve",
    })
}

/// wrk against 127.0.0.1:`port`, each connection asking for the paths in `list` in turn.
fn run_wrk(port: u16, script: &Path, seconds: u64, connections: u32, log: &Path) -> Result<Load> {
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "--timeout",
            "10s",
            "-s",
        ])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}/"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run wrk (Debian package wrk; scripts/bench.sh installs it): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    std::fs::write(log, format!("{text}{}", String::from_utf8_lossy(&output.stderr)))?;
    parse_wrk(&text).ok_or_else(|| format!("wrk printed no results (log: {})", log.display()).into())
}

/// The Lua script that makes wrk ask for every path of `paths` in turn.
fn wrk_script(dir: &Path, paths: &[String]) -> Result<PathBuf> {
    let list = dir.join("paths.txt");
    std::fs::write(&list, paths.iter().map(|p| format!("/{p}\n")).collect::<String>())?;
    let script = dir.join("paths.lua");
    std::fs::write(
        &script,
        format!(
            "local paths = {{}}\nfor line in io.lines(\"{}\") do paths[#paths + 1] = line end\n\
             local i = math.random(#paths)\n\
             request = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n",
            list.display()
        ),
    )?;
    Ok(script)
}

/// How many times each server is loaded, alternately.
pub const ROUNDS: usize = 3;

/// The `serve` rows' task name.
pub fn task(count: usize, connections: u32, seconds: u64) -> String {
    format!("serve {count} targets x 1 KiB: {connections} keep-alive connections, {seconds} s (wrk)")
}

/// Several runs of one server as one: the median requests per second and the median p99
/// (each on its own: one run slowed by the machine's other work, as p99s are on a shared
/// machine, does not decide), and every error of every run.
fn pooled(runs: &[Load]) -> Load {
    let median = |value: fn(&Load) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(value).collect();
        values.sort_by(f64::total_cmp);
        match values.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => values[n / 2],
            n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
        }
    };
    Load {
        requests: runs.iter().map(|l| l.requests).sum(),
        requests_per_second: median(|l| l.requests_per_second),
        p99_ms: median(|l| l.p99_ms),
        errors: runs.iter().map(|l| l.errors).sum(),
    }
}

/// The one-minute load average now, as /proc/loadavg has it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

pub const NGINX: &str = "nginx (Debian)";
pub const SERVE: &str = "trustroot mirror serve";

impl Bench<'_> {
    /// nginx, then `mirror serve`, over the served tree of `mirror`, for `seconds` each,
    /// [`ROUNDS`] times. Returns each server's load, pooled over its runs, for the verdicts.
    pub fn serve_load(&mut self, mirror: &Path, targets: &[String], seconds: u64) -> Result<(Load, Load)> {
        const CONNECTIONS: u32 = 256;
        let dir = self.work.join("serve-load");
        fresh_dir(&dir)?;
        let script = wrk_script(&dir, targets)?;
        let tree = std::fs::canonicalize(mirror.join("repository"))?;
        let task = task(targets.len(), CONNECTIONS, seconds);
        let (mut nginx_runs, mut serve_runs) = (Vec::new(), Vec::new());
        for round in 1..=ROUNDS {
            let run = format!("run {round} of {ROUNDS}");
            let port = free_port()?;
            let nginx_load = {
                let server = start_nginx(&dir.join("nginx"), &tree, port)?;
                let load_average = load_average();
                note(&format!(
                    "wrk against nginx on 127.0.0.1:{port} for {seconds} s ({run})"
                ));
                let load = run_wrk(
                    port,
                    &script,
                    seconds,
                    CONNECTIONS,
                    &dir.join(format!("wrk-nginx-{round}.log")),
                );
                drop(server);
                (load?, load_average)
            };
            let extra = format!("{run}, load average {}", nginx_load.1);
            self.load_row(&task, NGINX, &nginx_load.0, seconds, &extra);
            nginx_runs.push(nginx_load.0);

            let port = free_port()?;
            let access_log = dir.join("serve-access.log");
            let (serve_load, memory, load_average) = {
                let server = start_trustroot(&self.tools.trustroot, mirror, port, &access_log)?;
                let pid = server.child.id();
                let before = rss_kib(pid);
                let load_average = load_average();
                note(&format!(
                    "wrk against mirror serve on 127.0.0.1:{port} for {seconds} s ({run})"
                ));
                let load = run_wrk(
                    port,
                    &script,
                    seconds,
                    CONNECTIONS,
                    &dir.join(format!("wrk-serve-{round}.log")),
                );
                let after = rss_kib(pid);
                drop(server);
                (load?, (before, after), load_average)
            };
            let ((rss_before, _), (rss_after, peak)) = memory;
            let extra = format!(
                "{run}, load average {load_average}; RSS {:.1} MB at start, {:.1} MB after the load (peak {:.1} MB)",
                rss_before as f64 / 1024.0,
                rss_after as f64 / 1024.0,
                peak as f64 / 1024.0
            );
            self.load_row(&task, SERVE, &serve_load, seconds, &extra);
            serve_runs.push(serve_load);
            std::fs::remove_file(&access_log).ok();
            std::fs::remove_file(dir.join("nginx").join("access.log")).ok();
        }
        Ok((pooled(&nginx_runs), pooled(&serve_runs)))
    }

    fn load_row(&mut self, task: &str, tool: &str, load: &Load, seconds: u64, extra: &str) {
        let wall = Duration::from_secs(seconds);
        let mut note = format!(
            "{:.0} requests/s, p99 {:.2} ms, {} errors",
            load.requests_per_second, load.p99_ms, load.errors
        );
        if !extra.is_empty() {
            note.push_str("; ");
            note.push_str(extra);
        }
        let measured = Measured {
            wall,
            rss_kib: None,
            outcome: Outcome::Ok,
        };
        self.row(task, tool, measured, 0, load.requests, None, Some(load.requests), &note);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn wrk_output_is_parsed() {
        let text = "Running 30s test @ http://127.0.0.1:1/\n  2 threads and 256 connections\n\
            \x20 Thread Stats   Avg      Stdev     Max   +/- Stdev\n\
            \x20   Latency     5.12ms    2.01ms  40.00ms   80.00%\n\
            \x20 Latency Distribution\n     50%    4.80ms\n     75%    6.00ms\n     90%    7.50ms\n     99%  812.00us\n\
            \x20 1234567 requests in 30.00s, 1.50GB read\n\
            \x20 Socket errors: connect 0, read 2, write 0, timeout 1\n\
            \x20 Non-2xx or 3xx responses: 4\nRequests/sec:  41152.23\nTransfer/sec:     51.20MB\n";
        let load = parse_wrk(text).unwrap();
        assert_eq!(load.requests, 1_234_567);
        assert!((load.requests_per_second - 41152.23).abs() < 1e-6);
        assert!((load.p99_ms - 0.812).abs() < 1e-9);
        assert_eq!(load.errors, 7);
        assert_eq!(parse_wrk("no results"), None);
        assert_eq!(millis("2.5s"), Some(2500.0));
    }

    #[test]
    fn runs_are_pooled_as_the_median_rate_the_median_p99_and_every_error() {
        let run = |requests_per_second: f64, p99_ms: f64, errors: u64| Load {
            requests: (requests_per_second * 30.0) as u64,
            requests_per_second,
            p99_ms,
            errors,
        };
        let runs = [run(40_000.0, 9.0, 0), run(50_000.0, 120.0, 2), run(20_000.0, 12.5, 1)];
        let pooled = pooled(&runs);
        assert!((pooled.requests_per_second - 40_000.0).abs() < 1e-9);
        assert!((pooled.p99_ms - 12.5).abs() < 1e-9);
        assert_eq!((pooled.requests, pooled.errors), (3_300_000, 3));
        let two = super::pooled(&runs[..2]);
        assert!((two.requests_per_second - 45_000.0).abs() < 1e-9);
        assert!((two.p99_ms - 64.5).abs() < 1e-9);
    }
}
