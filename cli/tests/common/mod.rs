//! Shared helpers for tests of the `trustroot` binary.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The real Sigstore repositories, unpacked into a temporary directory.
pub fn unpack_fixtures() -> tempfile::TempDir {
    trustroot_test_support::unpack_sigstore_fixtures()
}

/// `faketime` is a required test dependency (scripts/test.sh installs it): without it,
/// tests of the binary against expired fixtures cannot run, and must say so.
pub fn faketime() -> PathBuf {
    let found = Command::new("sh")
        .arg("-c")
        .arg("command -v faketime")
        .output()
        .unwrap();
    assert!(
        found.status.success(),
        "faketime is missing: install the Debian package 'faketime' (scripts/test.sh does)"
    );
    PathBuf::from(String::from_utf8(found.stdout).unwrap().trim())
}

/// Runs `trustroot ARGS` with the clock pinned at `time` ("YYYY-MM-DD hh:mm:ss", UTC).
pub fn trustroot_at(time: &str, args: &[&str]) -> Output {
    Command::new(faketime())
        .env("TZ", "UTC")
        .arg(time)
        .arg(env!("CARGO_BIN_EXE_trustroot"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `trustroot ARGS` at the real time.
pub fn trustroot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustroot"))
        .args(args)
        .output()
        .unwrap()
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn file_url(path: &Path) -> String {
    format!("file://{}/", path.display())
}

/// The Python with python-tuf installed (scripts/test.sh sets `TRUSTROOT_TEST_PYTHON`).
/// Interop tests need it: without it they fail, saying how to get it.
pub fn python() -> PathBuf {
    let python = std::env::var("TRUSTROOT_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("TRUSTROOT_TEST_PYTHON is not set: run the tests through scripts/test.sh, which installs python-tuf")
    });
    let check = Command::new(&python)
        .args(["-c", "import tuf.ngclient"])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{python} cannot import tuf.ngclient: run scripts/test.sh"
    );
    PathBuf::from(python)
}

/// Runs python-tuf's ngclient (tests/interop/ngclient.py) against a repository, with the
/// clock pinned by faketime when `time` is given. Returns its output; asserts nothing.
pub fn ngclient(time: Option<&str>, root: &Path, metadata_url: &str, targets_url: &str, targets: &[&str]) -> Output {
    let work = tempfile::tempdir().unwrap();
    let metadata = work.path().join("metadata");
    let downloads = work.path().join("targets");
    std::fs::create_dir_all(&metadata).unwrap();
    std::fs::create_dir_all(&downloads).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/ngclient.py");
    let mut command = match time {
        Some(time) => {
            let mut c = Command::new(faketime());
            c.env("TZ", "UTC").arg(time).arg(python());
            c
        }
        None => Command::new(python()),
    };
    command.arg(script).arg("--root").arg(root);
    command.args(["--metadata-url", metadata_url, "--target-base-url", targets_url]);
    command
        .arg("--metadata-dir")
        .arg(&metadata)
        .arg("--target-dir")
        .arg(&downloads);
    for target in targets {
        command.args(["--target", target]);
    }
    command
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env("NO_PROXY", "127.0.0.1");
    command.output().unwrap()
}

/// Runs `trustroot client` init + download against a repository URL (http or file).
pub fn trustroot_client(
    time: Option<&str>,
    root: &Path,
    metadata_url: &str,
    targets_url: &str,
    targets: &[&str],
) -> Output {
    let work = tempfile::tempdir().unwrap();
    let metadata = work.path().join("metadata");
    let downloads = work.path().join("targets");
    std::fs::create_dir_all(&metadata).unwrap();
    std::fs::create_dir_all(&downloads).unwrap();
    let run = |args: &[&str]| match time {
        Some(time) => trustroot_at(time, args),
        None => trustroot(args),
    };
    let metadata_dir = metadata.to_str().unwrap();
    let init = run(&["client", "--metadata-dir", metadata_dir, "init", root.to_str().unwrap()]);
    if !init.status.success() {
        return init;
    }
    let mut args = vec![
        "client",
        "--metadata-dir",
        metadata_dir,
        "--metadata-url",
        metadata_url,
        "--target-base-url",
        targets_url,
        "--target-dir",
        downloads.to_str().unwrap(),
    ];
    for target in targets {
        args.push("--target-name");
        args.push(target);
    }
    args.push(if targets.is_empty() { "refresh" } else { "download" });
    run(&args)
}

/// A client program from an environment variable scripts/test.sh sets; without it (or
/// with a path that does not exist) the interop test fails, saying how to get it.
fn interop_client(variable: &str, what: &str) -> PathBuf {
    let path = std::env::var_os(variable).unwrap_or_else(|| {
        panic!("{variable} is not set: run the tests through scripts/test.sh, which installs {what}")
    });
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "{variable}={} does not exist: run scripts/test.sh, which installs {what}",
        path.display()
    );
    path
}

/// Runs one of the interop clients that share ngclient.py's command line (`--root`,
/// `--metadata-url`, `--target-base-url`, `--metadata-dir`, `--target-dir`, `--target`...),
/// with the clock pinned by faketime when `time` is given.
fn interop_run(
    program: &[&std::ffi::OsStr],
    time: Option<&str>,
    root: &Path,
    metadata_url: &str,
    targets_url: &str,
    targets: &[&str],
) -> Output {
    let work = tempfile::tempdir().unwrap();
    let metadata = work.path().join("metadata");
    let downloads = work.path().join("targets");
    std::fs::create_dir_all(&metadata).unwrap();
    std::fs::create_dir_all(&downloads).unwrap();
    let mut command = match time {
        Some(time) => {
            let mut c = Command::new(faketime());
            c.env("TZ", "UTC").arg(time).args(program);
            c
        }
        None => {
            let mut c = Command::new(program[0]);
            c.args(&program[1..]);
            c
        }
    };
    command.arg("--root").arg(root);
    command.args(["--metadata-url", metadata_url, "--target-base-url", targets_url]);
    command
        .arg("--metadata-dir")
        .arg(&metadata)
        .arg("--target-dir")
        .arg(&downloads);
    for target in targets {
        command.args(["--target", target]);
    }
    command
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env("NO_PROXY", "127.0.0.1");
    command.output().unwrap()
}

/// Runs tuf-js (tests/interop/tuf-js/client.mjs, pinned by its package-lock.json; scripts/test.sh
/// sets `TRUSTROOT_TEST_TUFJS`) against a repository over HTTP (tuf-js cannot read file://),
/// with the clock pinned by faketime when `time` is given. Returns its output; asserts nothing.
pub fn tufjs(time: Option<&str>, root: &Path, metadata_url: &str, targets_url: &str, targets: &[&str]) -> Output {
    let script = interop_client("TRUSTROOT_TEST_TUFJS", "tuf-js (npm ci in tests/interop/tuf-js)");
    let node = Command::new("sh").arg("-c").arg("command -v node").output().unwrap();
    assert!(
        node.status.success(),
        "node is missing: run scripts/test.sh, which installs Debian's nodejs"
    );
    let node = PathBuf::from(String::from_utf8(node.stdout).unwrap().trim());
    interop_run(
        &[node.as_os_str(), script.as_os_str()],
        time,
        root,
        metadata_url,
        targets_url,
        targets,
    )
}

/// Runs tough (the `trustroot-tough-client` binary of tests/interop/tough-client, tough
/// pinned; scripts/test.sh builds it and sets `TRUSTROOT_TEST_TOUGH`) against a repository
/// (http:// or file://), with the clock pinned by faketime when `time` is given: tough reads
/// the wall clock. Returns its output; asserts nothing.
pub fn tough(time: Option<&str>, root: &Path, metadata_url: &str, targets_url: &str, targets: &[&str]) -> Output {
    let client = interop_client(
        "TRUSTROOT_TEST_TOUGH",
        "the tough client (cargo build -p trustroot-tough-client)",
    );
    interop_run(&[client.as_os_str()], time, root, metadata_url, targets_url, targets)
}

/// A running `trustroot mirror serve`, killed if the test ends without stopping it.
pub struct Serving {
    pub child: std::process::Child,
    pub url: String,
}

impl Serving {
    pub fn start(dir: &Path, access_log: &Path) -> Serving {
        Serving::start_with(dir, access_log, &[])
    }

    /// [`Serving::start`] with more arguments (`--metrics`).
    pub fn start_with(dir: &Path, access_log: &Path, args: &[&str]) -> Serving {
        let mut child = Command::new(env!("CARGO_BIN_EXE_trustroot"))
            .args(["mirror", "serve"])
            .arg(dir)
            .args(["--listen", "127.0.0.1:0", "--access-log"])
            .arg(access_log)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .rsplit_once(" on ")
            .map(|(_, url)| url.to_string())
            .unwrap_or_else(|| panic!("no address printed: {line:?}"));
        assert!(url.starts_with("http://127.0.0.1:") && url.ends_with('/'), "{line}");
        Serving { child, url }
    }

    /// Sends `signal` (TERM, INT) and waits up to 5 s for the exit status.
    pub fn stop(&mut self, signal: &str) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "still running 5 s after SIG{signal}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Every file under `dir` (symbolic links to directories followed), by path relative to it.
pub fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
