//! `trustroot quickstart [DIR]`: a whole life of a trust root, offline, in one directory.
//!
//! Every step runs the very command it prints (this binary, spawned in DIR with those
//! arguments), so a user can type the same commands by hand. No TUF logic lives here.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Args;

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

type Result<T> = std::result::Result<T, Failure>;

pub fn run(args: QuickstartArgs) -> ExitCode {
    let started = Instant::now();
    let dir = match prepare(&args.dir) {
        Ok(dir) => dir,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(1);
        }
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("error: cannot find the trustroot binary to run each step with: {e}");
            return ExitCode::from(1);
        }
    };
    let log = match std::fs::File::create(dir.join("quickstart.log")) {
        Ok(file) => Some(file),
        Err(e) => {
            eprintln!("error: cannot create {}: {e}", dir.join("quickstart.log").display());
            return ExitCode::from(1);
        }
    };
    let mut quick = Quickstart {
        exe,
        dir,
        step: 0,
        title: String::new(),
        log,
    };
    match quick.life() {
        Ok(()) => {
            quick.summary(started.elapsed());
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!();
            eprintln!(
                "error: step {} ({}) failed: {}",
                failure.step, failure.title, failure.what
            );
            eprintln!(
                "{} is left as it is for you to look at. Fix the cause above, then run `trustroot quickstart` again into a new directory.",
                quick.dir.display()
            );
            ExitCode::from(1)
        }
    }
}

/// Creates DIR (or accepts an empty one) and returns its absolute path. Never writes into a
/// directory that holds anything.
fn prepare(dir: &Path) -> std::result::Result<PathBuf, String> {
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            let mut entries =
                std::fs::read_dir(dir).map_err(|e| format!("{}: cannot read the directory: {e}", dir.display()))?;
            if entries.next().is_some() {
                return Err(format!(
                    "{} is not empty: the quickstart never writes into a directory that holds files. Give it a new or empty directory, e.g. `trustroot quickstart /tmp/trustroot-quickstart`.",
                    dir.display()
                ));
            }
        }
        Ok(_) => {
            return Err(format!(
                "{} exists and is not a directory: give the quickstart a new or empty directory",
                dir.display()
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    }
    std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))
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
        println!("     {line}");
    }
}

/// `mirror serve`, stopped (and reaped) when dropped, whatever happened meanwhile.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
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
        println!();
        println!("{}. {title}", self.step);
    }

    fn fail(&self, what: impl Into<String>) -> Failure {
        Failure {
            step: self.step,
            title: self.title.clone(),
            what: what.into(),
        }
    }

    fn note(&self, text: &str) {
        println!("   {text}");
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
        println!("   $ {line}");
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
        println!("   $ {line}");
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

    fn life(&mut self) -> Result<()> {
        println!("trustroot quickstart: the whole life of a TUF trust root, offline, in");
        println!("  {}", self.dir.display());
        println!("Each step runs the `$ trustroot ...` command it shows, in that directory: type the same");
        println!("commands there to do it by hand.");

        self.begin("Create a signing repository (policy, keys/, targets/, metadata/, ceremonies/)");
        self.trustroot(&["init", REPO])?;

        self.begin("Generate keys: three root and targets keyholders, and the online key");
        self.note("Each keyholder generates their key on their own machine. These keys are NOT");
        self.note("encrypted, for this rehearsal only: real keys are made with --encrypt and never");
        self.note("leave their holder. private-keys/ sits outside the signing repository.");
        self.mkdir(&["private-keys".to_string()])?;
        for holder in HOLDERS {
            self.trustroot(&["key", "generate", "--type", "ecdsa-p256", "--out", &key(holder)])?;
        }
        self.trustroot(&["key", "generate", "--type", "ed25519", "--out", &key("online")])?;

        self.begin("Register the public keys: root and targets 2-of-3, snapshot and timestamp online");
        for holder in HOLDERS {
            for role in ["root", "targets"] {
                self.trustroot(&[
                    "key",
                    "add",
                    holder,
                    "--role",
                    role,
                    "--holder",
                    &format!("@{holder}"),
                    &public(holder),
                    "--repo",
                    REPO,
                ])?;
            }
        }
        self.trustroot(&["key", "threshold", "root", "2", "--repo", REPO])?;
        self.trustroot(&["key", "threshold", "targets", "2", "--repo", REPO])?;
        self.trustroot(&[
            "key",
            "add",
            "online",
            "--role",
            "online",
            &public("online"),
            "--repo",
            REPO,
        ])?;
        self.point_online_signer()?;

        self.begin("Put a file to publish under targets/: a Sigstore trusted_root.json");
        self.note("With one Rekor log whose key is generated here (a real one lists Sigstore's");
        self.note("logs and certificate authorities; see docs/operator-sigstore-payloads.md).");
        let target = format!("{REPO}/targets/{TARGET}");
        self.trustroot(&["sigstore", "trusted-root", "new", &target])?;
        self.trustroot(&["key", "generate", "--type", "ecdsa-p256", "--out", &key("rekor")])?;
        let start = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        self.trustroot(&[
            "sigstore",
            "trusted-root",
            "add-tlog",
            "--key",
            &public("rekor"),
            "--url",
            "https://rekor.example.internal",
            "--start",
            &start,
            &target,
        ])?;

        let first = self.round(
            "First signing round: stage root v1 and targets v1, and write the signing request",
            "Each keyholder signs the request file with their key (2 of 3: carol does not)",
            &["alice", "bob"],
            None,
        )?;
        self.expect_version(&format!("{PUBLISHED}/1.root.json"), 1)?;
        self.expect_version(&format!("{PUBLISHED}/timestamp.json"), 1)?;

        self.begin("Mirror the published repository, verifying it as a client would");
        self.note("A site's mirror pulls from the repository's URL; here it is a local file:// URL.");
        let from = url::Url::from_directory_path(self.path(PUBLISHED))
            .map_err(|()| self.fail(format!("{} is not an absolute path", self.path(PUBLISHED).display())))?;
        self.trustroot(&[
            "mirror",
            "sync",
            MIRROR,
            "--from",
            from.as_str(),
            "--root",
            &format!("{PUBLISHED}/1.root.json"),
        ])?;

        self.begin("Serve the mirror over HTTP on 127.0.0.1 (a free port)");
        let server = self.serve()?;
        let targets_url = format!("{}targets/", server.url);

        self.begin("A client trusts root v1 and updates from the mirror");
        self.note("A client gets its first root out of band (shipped with it, checked by hash).");
        self.mkdir(&["client/metadata".to_string(), "client/targets".to_string()])?;
        self.trustroot(&[
            "client",
            "--metadata-dir",
            "client/metadata",
            "init",
            &format!("{PUBLISHED}/1.root.json"),
        ])?;
        self.trustroot(&[
            "client",
            "--metadata-dir",
            "client/metadata",
            "--metadata-url",
            &server.url,
            "--target-base-url",
            &targets_url,
            "--target-dir",
            "client/targets",
            "--target-name",
            TARGET,
            "download",
        ])?;
        self.same_bytes(&format!("client/targets/{TARGET}"), &target)?;

        self.begin("The online key re-signs the timestamp (cron does this daily), the mirror and client follow");
        self.note("--force: the new timestamp is not yet due for re-signing.");
        let before = self.version(&format!("{PUBLISHED}/timestamp.json"))?;
        self.trustroot(&["online", "refresh", "--repo", REPO, "--force"])?;
        self.expect_version(&format!("{PUBLISHED}/timestamp.json"), before + 1)?;
        self.trustroot(&["mirror", "sync", MIRROR])?;
        self.trustroot(&[
            "client",
            "--metadata-dir",
            "client/metadata",
            "--metadata-url",
            &server.url,
            "refresh",
        ])?;
        self.expect_version("client/metadata/timestamp.json", before + 1)?;

        self.begin("Rotate root: dave joins, carol leaves");
        self.note("A new root must be signed by 2 of the keys of root v1 and 2 of its own keys.");
        self.trustroot(&["key", "generate", "--type", "ecdsa-p256", "--out", &key(NEWCOMER)])?;
        self.trustroot(&[
            "key",
            "add",
            NEWCOMER,
            "--role",
            "root",
            "--holder",
            &format!("@{NEWCOMER}"),
            &public(NEWCOMER),
            "--repo",
            REPO,
        ])?;
        self.trustroot(&["key", "remove", "carol", "--role", "root", "--repo", REPO])?;
        let second = self.round(
            "Second signing round: stage root v2 and write its signing request",
            "alice, bob and dave sign root v2 from the request file",
            &["alice", "bob", NEWCOMER],
            Some(&format!("{PUBLISHED}/1.root.json")),
        )?;
        self.expect_version(&format!("{PUBLISHED}/2.root.json"), 2)?;

        self.begin("The mirror and the client follow the rotation to root v2");
        self.trustroot(&["mirror", "sync", MIRROR])?;
        self.trustroot(&[
            "client",
            "--metadata-dir",
            "client/metadata",
            "--metadata-url",
            &server.url,
            "refresh",
        ])?;
        self.expect_version("client/metadata/root.json", 2)?;
        self.note("The client now trusts root v2 (client/metadata/root.json), signed by alice, bob and dave.");

        self.begin("Stop the server");
        self.note(&format!(
            "(Ctrl-C when you run `trustroot mirror serve` yourself.) It served {}.",
            server.url
        ));
        drop(server);
        println!("   stopped; its access log is mirror-access.log");
        println!();
        println!("Rounds {first} and {second} are in {REPO}/ceremonies/.");
        Ok(())
    }

    /// `[online] signer` to the online key's file, outside the repository.
    fn point_online_signer(&mut self) -> Result<()> {
        let policy = self.path(&format!("{REPO}/trustroot.toml"));
        let line = format!("# edit {REPO}/trustroot.toml, section [online]:  {ONLINE_SIGNER}");
        println!("   {line}");
        self.log(&format!("{line}\n\n"));
        let text = std::fs::read_to_string(&policy).map_err(|e| self.fail(format!("{}: {e}", policy.display())))?;
        if text.matches(TEMPLATE_SIGNER).count() != 1 {
            return Err(self.fail(format!(
                "{} does not hold the line `{TEMPLATE_SIGNER}` that `trustroot init` writes",
                policy.display()
            )));
        }
        let text = text.replacen(TEMPLATE_SIGNER, ONLINE_SIGNER, 1);
        std::fs::write(&policy, text).map_err(|e| self.fail(format!("{}: {e}", policy.display())))
    }

    /// One signing round: start, request, each signer signs the request file on their own,
    /// the signatures come back, status, publish. Returns the round's id.
    /// A signing round. `root`: the published root the keyholders check the request
    /// against (`ceremony sign --root`); `None` for the first round, which has none.
    fn round(&mut self, title: &str, sign_title: &str, signers: &[&str], root: Option<&str>) -> Result<String> {
        self.begin(title);
        let out = self.trustroot(&["ceremony", "start", "--repo", REPO])?;
        let id = out
            .lines()
            .find_map(|l| l.strip_prefix("Started round "))
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string)
            .ok_or_else(|| self.fail("`ceremony start` did not say which round it started"))?;
        let request = format!("requests/{id}.json");
        let mut dirs = vec!["requests".to_string()];
        dirs.extend(signers.iter().map(|s| format!("signatures/{id}/{s}")));
        self.mkdir(&dirs)?;
        self.trustroot(&["ceremony", "request", "--out", &request, "--repo", REPO])?;

        self.begin(sign_title);
        self.note("On their own (air-gapped) machine, with only the request and their key. They");
        self.note("compare the request digest with the one the coordinator read out, read the");
        self.note("changes, and type yes (--yes here).");
        match root {
            Some(root) => {
                self.note("With --root they check the request against the published root they hold: the");
                self.note("changes shown are then against what is really published, not the request's claim.");
                self.note(&format!(
                    "(Here that root is {root}; a keyholder keeps their own copy.)"
                ));
            }
            None => self.note("Root v1 of a new repository follows nothing published: there is no --root to give."),
        }
        for (i, signer) in signers.iter().enumerate() {
            let (key, out_dir) = (key(signer), format!("signatures/{id}/{signer}"));
            let mut args = vec![
                "ceremony",
                "sign",
                "--request",
                &request,
                "--key",
                &key,
                "--out-dir",
                &out_dir,
            ];
            if let Some(root) = root {
                args.extend(["--root", root]);
            }
            args.push("--yes");
            let view = if i == 0 { View::SignSummary } else { View::SignResult };
            self.trustroot_as(&format!("trustroot {}", args.join(" ")), &args, view)?;
        }

        self.begin("Collect the signatures, check the thresholds, publish");
        let mut files = Vec::new();
        for signer in signers {
            let dir = self.path(&format!("signatures/{id}/{signer}"));
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .map_err(|e| self.fail(format!("{}: {e}", dir.display())))?
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter(|name| name.ends_with(".json"))
                .collect();
            names.sort();
            if names.is_empty() {
                return Err(self.fail(format!("{signer} wrote no signature file in {}", dir.display())));
            }
            files.extend(names.into_iter().map(|n| format!("signatures/{id}/{signer}/{n}")));
        }
        let mut args = vec!["ceremony", "add-signature", "--repo", REPO];
        args.extend(files.iter().map(String::as_str));
        self.trustroot_as(
            &format!("trustroot ceremony add-signature --repo {REPO} signatures/{id}/*/*.json"),
            &args,
            View::All,
        )?;
        self.trustroot(&["ceremony", "status", "--repo", REPO])?;
        self.trustroot(&["ceremony", "publish", "--repo", REPO])?;
        Ok(id)
    }

    fn same_bytes(&self, got: &str, want: &str) -> Result<()> {
        let read = |rel: &str| std::fs::read(self.path(rel)).map_err(|e| self.fail(format!("{rel}: {e}")));
        if read(got)? != read(want)? {
            return Err(self.fail(format!("{got} differs from {want}")));
        }
        println!("   {got} is byte for byte {want}");
        Ok(())
    }

    /// Starts `mirror serve` on an ephemeral port of 127.0.0.1 and reads the URL it prints.
    fn serve(&mut self) -> Result<Server> {
        let args = [
            "mirror",
            "serve",
            MIRROR,
            "--listen",
            "127.0.0.1:0",
            "--access-log",
            "mirror-access.log",
        ];
        let line = format!("trustroot {} &", args.join(" "));
        println!("   $ {line}");
        self.log(&format!("$ {line}\n"));
        let mut child = Command::new(&self.exe)
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.fail(format!("`trustroot mirror serve` could not be started: {e}")))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(self.fail("`trustroot mirror serve`: no standard output to read its address from"));
        };
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = send.send(line);
        });
        // From here the server is stopped whatever happens.
        let mut server = Server {
            child,
            url: String::new(),
        };
        let line = receive.recv_timeout(SERVER_START).unwrap_or_default();
        let url = line
            .trim_end()
            .rsplit_once(" on ")
            .map(|(_, url)| url.to_string())
            .filter(|url| url.starts_with("http://127.0.0.1:") && url.ends_with('/'));
        let Some(url) = url else {
            let _ = server.child.kill();
            let _ = server.child.wait();
            let mut stderr = String::new();
            if let Some(mut pipe) = server.child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            return Err(self.fail(format!(
                "`trustroot mirror serve` did not start serving on 127.0.0.1: {}",
                if stderr.trim().is_empty() {
                    format!("it printed {:?}", line.trim_end())
                } else {
                    stderr.trim().to_string()
                }
            )));
        };
        indent(&line);
        self.log(&format!("{line}\n"));
        server.url = url;
        Ok(server)
    }

    fn summary(&self, elapsed: Duration) {
        println!();
        println!(
            "Done in {:.1}s. {} is yours to explore:",
            elapsed.as_secs_f64(),
            self.dir.display()
        );
        let rows = [
            (
                "signing-repo/",
                "the signing repository: trustroot.toml, keys/ (public), targets/, metadata/",
            ),
            (
                "signing-repo/ceremonies/",
                "each round: staged metadata, signatures, transcript",
            ),
            (
                "signing-repo/public/repository/",
                "the published repository (root v1 and v2): serve this path",
            ),
            (
                "private-keys/",
                "the private keys (NOT encrypted: for this rehearsal only)",
            ),
            ("requests/", "the signing request of each round"),
            ("signatures/", "the signature files each keyholder handed back"),
            ("mirror/", "a verified mirror; mirror/repository is what it serves"),
            ("mirror-access.log", "what the client asked the mirror for"),
            ("client/metadata/", "the client's trusted metadata, now at root v2"),
            ("client/targets/", "trusted_root.json, downloaded and verified"),
            ("quickstart.log", "every command above with its whole output"),
        ];
        for (path, what) in rows {
            println!("  {path:<33} {what}");
        }
        println!();
        println!("Try next, in {}:", self.dir.display());
        let next = [
            (format!("trustroot expiry {REPO}"), "every role's version and expiry"),
            (
                "trustroot inspect client/metadata/root.json".to_string(),
                "who signs what in root v2",
            ),
            (
                format!("trustroot ceremony status --repo {REPO}"),
                "the last round's signatures",
            ),
            (
                format!("trustroot mirror serve {MIRROR}"),
                "serve the mirror again on http://127.0.0.1:8080/",
            ),
        ];
        for (command, what) in next {
            println!("  $ {command:<48} {what}");
        }
        println!(
            "The published timestamp expires in 7 days: `trustroot online refresh --repo {REPO}` re-signs it (cron's job)."
        );
        println!("The guides in trustroot's docs/ can be followed against this directory:");
        println!("  docs/keyholder-guide.md   sign a request with private-keys/alice.pem");
        println!("  docs/operator-guide.md    change the policy, run rounds, keep the repository alive");
        println!("  docs/air-gapped-site.md   mirror it, carry it across a gap as a bundle, serve it");
    }
}

fn key(name: &str) -> String {
    format!("private-keys/{name}.pem")
}

fn public(name: &str) -> String {
    format!("private-keys/{name}.pem.pub")
}
