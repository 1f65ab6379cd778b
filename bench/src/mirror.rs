//! The mirror benchmark: every tool mirrors (or updates and downloads every target of) a
//! built repository, beside curl fetching the same files (the floor); and the hashed-bins
//! resolution in process.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use trustroot_core::{Limits, TrustedSet};

use crate::Result;
use crate::judge::human;
use crate::measure::{Job, Measured, Outcome};
use crate::repo::Built;
use crate::runner::{Bench, fresh_dir, note};
use crate::workspace;

/// What every row of one repository's mirror shares.
struct MirrorTask<'a> {
    built: &'a Built,
    /// The row's task column.
    task: String,
    base: String,
    targets_url: String,
    out: PathBuf,
    /// The target paths, one per line, for the client libraries.
    list: PathBuf,
    files: u64,
    bytes: u64,
}

impl Bench<'_> {
    /// Every tool mirrors (or updates and downloads every target of) `built`.
    pub fn mirror(&mut self, built: &Built) -> Result<()> {
        let name = built.spec.name;
        let base = format!("{}{name}/", self.server.url());
        let task = MirrorTask {
            built,
            task: format!(
                "mirror {name}: {} targets x {}, {} root versions{}",
                built.spec.targets,
                human(built.spec.target_size as u64),
                built.spec.root_versions,
                if built.spec.bins > 0 {
                    format!(", {} hashed bins", built.spec.bins)
                } else {
                    String::new()
                }
            ),
            targets_url: format!("{base}targets/"),
            base,
            out: self.work.join("out").join(name),
            list: self.work.join(format!("{name}.targets.txt")),
            files: built.files.len() as u64,
            bytes: built.bytes,
        };
        std::fs::write(&task.list, built.target_names.join("\n") + "\n")?;
        let floor = self.mirror_floor(&task)?;
        self.mirror_trustroot(&task, floor)?;
        self.mirror_python_tuf(&task, floor)?;
        self.mirror_tuf_js(&task, floor)?;
        self.mirror_tuftool(&task, floor)
    }

    /// The floor: curl fetching the same files, 8 at a time, nothing verified. Returns its
    /// time when it succeeded.
    fn mirror_floor(&mut self, t: &MirrorTask<'_>) -> Result<Option<Duration>> {
        let name = t.built.spec.name;
        let curl_out = t.out.join("curl");
        fresh_dir(&curl_out)?;
        let (floor, requests) = self.curl_floor(name, &t.base, &t.built.files, &curl_out)?;
        let floor_wall = floor.ok().then_some(floor.wall);
        self.row(
            &t.task,
            "curl -Z --parallel-max 8 (floor)",
            floor,
            t.bytes,
            t.files,
            floor_wall,
            Some(requests),
            "",
        );
        std::fs::remove_dir_all(&curl_out)?;
        Ok(floor_wall)
    }

    /// `trustroot mirror sync`, fresh and again with nothing changed.
    fn mirror_trustroot(&mut self, t: &MirrorTask<'_>, floor: Option<Duration>) -> Result<()> {
        let name = t.built.spec.name;
        let mirror_dir = t.out.join("trustroot");
        if mirror_dir.exists() {
            std::fs::remove_dir_all(&mirror_dir)?;
        }
        let job = Job::new(&self.tools.trustroot)
            .args(["mirror", "sync"])
            .arg(&mirror_dir)
            .args(["--from", &t.base, "--targets-from", &t.targets_url, "--root"])
            .arg(&t.built.root);
        let m = self.measure(&format!("{name}-trustroot"), &job)?;
        let requests = self.server.take_requests();
        self.row(
            &t.task,
            "trustroot mirror sync",
            m,
            t.bytes,
            t.files,
            floor,
            Some(requests),
            "",
        );
        let job = Job::new(&self.tools.trustroot)
            .args(["mirror", "sync"])
            .arg(&mirror_dir);
        let m = self.measure(&format!("{name}-trustroot-resync"), &job)?;
        let requests = self.server.take_requests();
        self.row(
            &t.task,
            "trustroot mirror sync, nothing changed",
            m,
            0,
            0,
            None,
            Some(requests),
            "",
        );
        std::fs::remove_dir_all(&mirror_dir)?;
        Ok(())
    }

    /// The arguments of the client-library scripts: refresh, then download every target.
    fn client_args(t: &MirrorTask<'_>, dir: &Path) -> Vec<String> {
        vec![
            "--root".to_string(),
            t.built.root.display().to_string(),
            "--metadata-url".into(),
            t.base.clone(),
            "--target-base-url".into(),
            t.targets_url.clone(),
            "--metadata-dir".into(),
            dir.join("metadata").display().to_string(),
            "--target-dir".into(),
            dir.join("targets").display().to_string(),
            "--targets-file".into(),
            t.list.display().to_string(),
        ]
    }

    /// Runs one peer's `job` into the fresh directory `dir` and records its row.
    fn mirror_peer(
        &mut self,
        t: &MirrorTask<'_>,
        floor: Option<Duration>,
        (label, tool): (&str, &str),
        dir: &Path,
        job: &Job,
    ) -> Result<()> {
        let m = self.measure(&format!("{}-{label}", t.built.spec.name), job)?;
        let requests = self.server.take_requests();
        self.row(&t.task, tool, m, t.bytes, t.files, floor, Some(requests), "");
        std::fs::remove_dir_all(dir)?;
        Ok(())
    }

    fn mirror_python_tuf(&mut self, t: &MirrorTask<'_>, floor: Option<Duration>) -> Result<()> {
        const TOOL: &str = "python-tuf 7.0.1 ngclient";
        let Some(python) = self.tools.python.clone() else {
            self.skipped(&t.task, TOOL, "no --python");
            return Ok(());
        };
        let dir = t.out.join("ngclient");
        fresh_dir(&dir)?;
        let job = Job::new(python)
            .arg(workspace().join("tests/interop/ngclient.py"))
            .args(Self::client_args(t, &dir));
        self.mirror_peer(t, floor, ("ngclient", TOOL), &dir, &job)
    }

    fn mirror_tuf_js(&mut self, t: &MirrorTask<'_>, floor: Option<Duration>) -> Result<()> {
        const TOOL: &str = "tuf-js 5.0.1";
        let Some(client) = self.tools.tufjs.clone() else {
            self.skipped(&t.task, TOOL, "no --tufjs");
            return Ok(());
        };
        let dir = t.out.join("tuf-js");
        fresh_dir(&dir)?;
        let job = Job::new("node").arg(client).args(Self::client_args(t, &dir));
        self.mirror_peer(t, floor, ("tuf-js", TOOL), &dir, &job)
    }

    fn mirror_tuftool(&mut self, t: &MirrorTask<'_>, floor: Option<Duration>) -> Result<()> {
        const TOOL: &str = "tuftool 0.17.0 clone";
        let Some(tuftool) = self.tools.tuftool.clone() else {
            self.skipped(&t.task, TOOL, "no --tuftool");
            return Ok(());
        };
        let dir = t.out.join("tuftool");
        fresh_dir(&dir)?;
        let job = Job::new(tuftool)
            .arg("clone")
            .arg("--root")
            .arg(&t.built.root)
            .args([
                "--metadata-url",
                &t.base,
                "--targets-url",
                &t.targets_url,
                "--metadata-dir",
            ])
            .arg(dir.join("metadata"))
            .arg("--targets-dir")
            .arg(dir.join("targets"));
        self.mirror_peer(t, floor, ("tuftool", TOOL), &dir, &job)
    }

    /// In process: verifies the 256 bins and resolves every target through them, as a
    /// sync does once it has fetched them.
    pub fn resolve_bins(&mut self, built: &Built) -> Result<()> {
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
        let task = format!(
            "resolve {} targets through {} hashed bins (in process)",
            built.spec.targets, built.spec.bins
        );
        self.row(
            &task,
            "trustroot-core TrustedSet, resolution only",
            Measured {
                wall: wall - loaded,
                rss_kib: None,
                outcome: outcome.clone(),
            },
            0,
            found,
            None,
            None,
            "each path through the delegations (spec 5.6.7), the metadata already verified",
        );
        self.row(
            &task,
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
}
