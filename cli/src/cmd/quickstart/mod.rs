//! `trustroot quickstart [DIR]`: a whole life of a trust root, offline, in one directory.
//!
//! Every step runs the very command it prints (this binary, spawned in DIR with those
//! arguments), so a user can type the same commands by hand. No TUF logic lives here.

mod life;

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Args;

use crate::output::{self, Format};
use crate::say;

/// Arguments of `trustroot quickstart`.
#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// Directory to create and leave behind (it must not exist, or be empty).
    #[arg(default_value = "trustroot-quickstart")]
    pub dir: PathBuf,
}

/// The keyholders of the first root (2 of 3 sign each round), and the one who joins.
const HOLDERS: [&str; 3] = ["alice", "bob", "carol"];
const NEWCOMER: &str = "dave";
const REPO: &str = "signing-repo";
const PUBLISHED: &str = "signing-repo/public/repository";
const MIRROR: &str = "mirror";
const TARGET: &str = "trusted_root.json";
/// The status page the quickstart ends by writing, in its directory.
const STATUS_PAGE: &str = "status.html";
/// The line `trustroot init` writes for the online key, and what the quickstart puts there.
const TEMPLATE_SIGNER: &str = "signer = \"env:TRUSTROOT_ONLINE_KEY\"";
const ONLINE_SIGNER: &str = "signer = \"../private-keys/online.pem\"";
/// How long `mirror serve` may take to print its address.
const SERVER_START: Duration = Duration::from_secs(30);

/// A failed step: which one, what ran, and what came back.
struct Failure {
    step: usize,
    title: String,
    what: String,
}

/// Why the life stopped before its end.
enum Stop {
    Failed(Failure),
    /// Standard output is a closed pipe: nobody is watching any more.
    NobodyReads,
}

impl From<Failure> for Stop {
    fn from(failure: Failure) -> Self {
        Stop::Failed(failure)
    }
}

type Result<T> = std::result::Result<T, Stop>;

pub fn run(args: QuickstartArgs) -> ExitCode {
    output::finish(Format::Text, quickstart(&args.dir).map(|()| ExitCode::SUCCESS), 1)
}

fn quickstart(dir: &Path) -> std::result::Result<(), output::Failure> {
    let started = Instant::now();
    let dir = prepare(dir)?;
    let exe = std::env::current_exe()
        .map_err(|e| output::Failure::io(format!("cannot find the trustroot binary to run each step with: {e}")))?;
    let log_path = dir.join("quickstart.log");
    let log = std::fs::File::create(&log_path)
        .map_err(|e| output::Failure::io(format!("cannot create {}: {e}", log_path.display())))?;
    let mut quick = Quickstart {
        exe,
        dir,
        step: 0,
        title: String::new(),
        log: Some(log),
    };
    match quick.life() {
        Ok(()) => {
            quick.summary(started.elapsed());
            Ok(())
        }
        Err(Stop::NobodyReads) => Err(output::Failure::ClosedPipe),
        Err(Stop::Failed(failure)) => {
            crate::note!("");
            Err(output::Failure::local_state(format!(
                "step {} ({}) failed: {}",
                failure.step, failure.title, failure.what
            ))
            .with_hint_text(format!(
                "{} is left as it is for you to look at. Fix the cause above, then run `trustroot quickstart` again into a new directory.",
                quick.dir.display()
            )))
        }
    }
}

/// Creates DIR (or accepts an empty one) and returns its absolute path. Never writes into a
/// directory that holds anything.
fn prepare(dir: &Path) -> std::result::Result<PathBuf, output::Failure> {
    use output::Failure;
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            let mut entries = std::fs::read_dir(dir)
                .map_err(|e| Failure::io(format!("{}: cannot read the directory: {e}", dir.display())))?;
            if entries.next().is_some() {
                return Err(Failure::usage(format!(
                    "{} is not empty: the quickstart never writes into a directory that holds files",
                    dir.display()
                ))
                .with_hint_text(
                    "give it a new or empty directory, e.g. `trustroot quickstart /tmp/trustroot-quickstart`",
                ));
            }
        }
        Ok(_) => {
            return Err(Failure::usage(format!(
                "{} exists and is not a directory: give the quickstart a new or empty directory",
                dir.display()
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| Failure::io(format!("cannot create {}: {e}", dir.display())))?;
        }
        Err(e) => return Err(Failure::io(format!("{}: {e}", dir.display()))),
    }
    std::fs::canonicalize(dir).map_err(|e| Failure::io(format!("{}: {e}", dir.display())))
}

/// A word as a POSIX shell would need it typed.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn indent(text: &str) {
    for line in text.lines() {
        say!("     {line}");
    }
}

/// `mirror serve`, stopped (and reaped) when dropped, whatever happened meanwhile.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    /// SIGTERM first, as Ctrl-C would: the server then writes out its buffered access log
    /// (which the quickstart points the reader to) and exits at once when idle. Killed
    /// if it has not within five seconds.
    fn drop(&mut self) {
        let terminated = rustix::process::kill_process(
            rustix::process::Pid::from_child(&self.child),
            rustix::process::Signal::TERM,
        );
        if terminated.is_ok() {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Quickstart {
    exe: PathBuf,
    dir: PathBuf,
    step: usize,
    title: String,
    /// quickstart.log in DIR: every command and its whole output.
    log: Option<std::fs::File>,
}

/// How much of a command's output goes to the terminal (all of it goes to quickstart.log).
#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    All,
    /// `ceremony sign`: the summary with each list of changes cut short.
    SignSummary,
    /// `ceremony sign` after a first signer: only what was signed.
    SignResult,
}

/// The lines of `ceremony sign`'s output worth showing.
fn sign_view(output: &str, view: View) -> String {
    const CHANGES_SHOWN: usize = 6;
    let mut shown = Vec::new();
    if view == View::SignResult {
        shown.push("(the same request summary as above)".to_string());
        shown.extend(
            output
                .lines()
                .filter(|l| l.starts_with("request digest") || l.starts_with("Signed ") || l.starts_with("Hand "))
                .map(str::to_string),
        );
        return shown.join("\n");
    }
    let mut in_changes = 0usize;
    let mut hidden = 0usize;
    let flush = |shown: &mut Vec<String>, hidden: &mut usize| {
        if *hidden > 0 {
            shown.push(format!("    ... and {hidden} more (all of them in quickstart.log)"));
            *hidden = 0;
        }
    };
    for line in output.lines() {
        if line.starts_with("    ") {
            in_changes += 1;
            if in_changes > CHANGES_SHOWN {
                hidden += 1;
                continue;
            }
        } else {
            in_changes = 0;
            flush(&mut shown, &mut hidden);
        }
        shown.push(line.to_string());
    }
    flush(&mut shown, &mut hidden);
    shown.join("\n")
}

impl Quickstart {
    fn begin(&mut self, title: &str) {
        self.step += 1;
        self.title = title.to_string();
        say!();
        say!("{}. {title}", self.step);
    }

    fn fail(&self, what: impl Into<String>) -> Stop {
        Stop::Failed(Failure {
            step: self.step,
            title: self.title.clone(),
            what: what.into(),
        })
    }

    fn note(&self, text: &str) {
        say!("   {text}");
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Prints `$ trustroot ARGS`, runs it in DIR, prints its output; fails on a non-zero exit.
    fn trustroot(&mut self, args: &[&str]) -> Result<String> {
        let line: Vec<String> = args.iter().map(|a| shell_word(a)).collect();
        self.trustroot_as(&format!("trustroot {}", line.join(" ")), args, View::All)
    }

    /// Runs `trustroot ARGS`, shown as `line` (what a user types: a glob, say), with `view`
    /// of its output on the terminal and all of it in quickstart.log.
    fn trustroot_as(&mut self, line: &str, args: &[&str], view: View) -> Result<String> {
        if output::stdout_closed() {
            return Err(Stop::NobodyReads);
        }
        say!("   $ {line}");
        let output = Command::new(&self.exe)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| self.fail(format!("`{line}` could not be started: {e}")))?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        self.log(&format!("$ {line}\n{stdout}{stderr}\n"));
        if view == View::All || !output.status.success() {
            indent(&stdout);
        } else {
            indent(&sign_view(&stdout, view));
        }
        indent(&stderr);
        if !output.status.success() {
            return Err(self.fail(format!("`{line}` exited with {} (its output is above)", output.status)));
        }
        Ok(stdout)
    }

    fn log(&mut self, text: &str) {
        use std::io::Write as _;
        if let Some(file) = &mut self.log
            && file.write_all(text.as_bytes()).is_err()
        {
            // The log is a convenience: the terminal has the same steps.
            self.log = None;
        }
    }

    /// Prints a shell command and does what it says.
    fn shell(&mut self, line: &str, action: impl FnOnce(&Path) -> std::io::Result<()>) -> Result<()> {
        say!("   $ {line}");
        self.log(&format!("$ {line}\n\n"));
        let dir = self.dir.clone();
        action(&dir).map_err(|e| self.fail(format!("`{line}`: {e}")))
    }

    fn mkdir(&mut self, dirs: &[String]) -> Result<()> {
        self.shell(&format!("mkdir -p {}", dirs.join(" ")), |root| {
            dirs.iter().try_for_each(|d| std::fs::create_dir_all(root.join(d)))
        })
    }

    /// The version in a metadata file's `signed`.
    fn version(&self, rel: &str) -> Result<u64> {
        let bytes = std::fs::read(self.path(rel)).map_err(|e| self.fail(format!("{rel}: {e}")))?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| self.fail(format!("{rel}: not JSON: {e}")))?;
        value
            .pointer("/signed/version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| self.fail(format!("{rel} has no signed.version")))
    }

    fn expect_version(&self, rel: &str, want: u64) -> Result<()> {
        let got = self.version(rel)?;
        if got != want {
            return Err(self.fail(format!("{rel} is version {got}, expected {want}")));
        }
        Ok(())
    }
}

fn key(name: &str) -> String {
    format!("private-keys/{name}.pem")
}

fn public(name: &str) -> String {
    format!("private-keys/{name}.pem.pub")
}
