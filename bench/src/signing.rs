//! The signing benchmark: a targets role of N targets signed by trustroot (two ways),
//! python-tuf's Metadata API and tuftool, from the same listing.

use std::path::{Path, PathBuf};

use crate::Result;
use crate::measure::Job;
use crate::repo;
use crate::runner::{Bench, fresh_dir, note};
use crate::workspace;

/// What every row of one signing size shares.
struct SigningTask {
    count: usize,
    task: String,
    /// The input files (tuftool hashes them itself).
    files: PathBuf,
    /// `path<TAB>length<TAB>sha256` of each.
    listing: PathBuf,
    out: PathBuf,
}

impl Bench<'_> {
    pub fn signing(&mut self, count: usize) -> Result<()> {
        let dir = self.work.join(format!("sign-{count}"));
        note(&format!("signing input: {count} files"));
        let (files, listing) = repo::signing_input(&dir.join("input"), count)?;
        let out = dir.join("out");
        fresh_dir(&out)?;
        let t = SigningTask {
            count,
            task: format!("sign a targets role of {count} targets"),
            files,
            listing,
            out,
        };
        self.sign_trustroot(&t)?;
        self.sign_python_tuf(&t)?;
        self.sign_tuftool(&t)?;
        std::fs::remove_dir_all(&t.out)?;
        Ok(())
    }

    /// trustroot's two ways of holding the role, each in its own process.
    fn sign_trustroot(&mut self, t: &SigningTask) -> Result<()> {
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
                "the role as a serde_json::Value, as ceremony stage held it before issue 24; the same listing",
            ),
        ] {
            let job = Job::new(&me)
                .args(["sign-targets", "--path", path])
                .arg(&t.listing)
                .arg(t.out.join(format!("trustroot-{path}.targets.json")));
            let m = self.measure(&format!("sign-{}-trustroot-{path}", t.count), &job)?;
            self.row(&t.task, tool, m, 0, t.count as u64, None, None, what);
        }
        Ok(())
    }

    fn sign_python_tuf(&mut self, t: &SigningTask) -> Result<()> {
        const TOOL: &str = "python-tuf 7.0.1 Metadata API";
        let Some(python) = self.tools.python.clone() else {
            self.skipped(&t.task, TOOL, "no --python");
            return Ok(());
        };
        let job = Job::new(python)
            .arg(workspace().join("bench/clients/sign_python.py"))
            .arg(&t.listing)
            .arg(t.out.join("python.targets.json"));
        let m = self.measure(&format!("sign-{}-python-tuf", t.count), &job)?;
        self.row(&t.task, TOOL, m, 0, t.count as u64, None, None, "from the same listing");
        Ok(())
    }

    fn sign_tuftool(&mut self, t: &SigningTask) -> Result<()> {
        const TOOL: &str = "tuftool 0.17.0 create";
        let Some(tuftool) = self.tools.tuftool.clone() else {
            self.skipped(&t.task, TOOL, "no --tuftool");
            return Ok(());
        };
        let (root, key) = tuftool_root(&tuftool, &t.out)?;
        let job = Job::new(tuftool)
            .arg("create")
            .arg("--root")
            .arg(&root)
            .arg("--key")
            .arg(&key)
            .arg("--add-targets")
            .arg(&t.files)
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
            .arg(t.out.join("tuftool"));
        let m = self.measure(&format!("sign-{}-tuftool", t.count), &job)?;
        self.row(
            &t.task,
            TOOL,
            m,
            0,
            t.count as u64,
            None,
            None,
            "hashes the files itself and writes a whole repository (snapshot, timestamp, targets copied)",
        );
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
