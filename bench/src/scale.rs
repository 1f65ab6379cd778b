//! The scale benchmark (issue 24): cost that grows with the change, not with the
//! repository. Repositories of 10,000 and 100,000 targets of 1 KiB of random content
//! (flat, and in 1,024 hashed bins), mirrored fresh beside curl, then re-synced with
//! nothing changed, after a new timestamp and snapshot only, and after one target changed;
//! the largest one exported into a bundle and imported again, beside tar and zstd.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use crate::Result;
use crate::measure::{Job, Measured};
use crate::plot;
use crate::repo::{Keys, binned_targets, consistent_name, expires, root_signed, targets_role};
use crate::runner::{Bench, fresh_dir, note};

/// A repository the benchmark publishes again, role by role.
pub struct ScaleRepo {
    pub name: String,
    pub dir: PathBuf,
    keys: Keys,
    seed: [u8; 32],
    now: DateTime<Utc>,
    /// (target path, its `targets` entry), in order.
    entries: Vec<(String, Value)>,
    pub bins: u32,
    pub target_size: usize,
    timestamp: u64,
    snapshot: u64,
    targets: u64,
    /// Files the last publish added (what a client fetches for it), relative to `dir`.
    pub files: Vec<String>,
    pub bytes: u64,
}

/// 32 random bytes: bench repositories hold random target content.
fn random_seed() -> Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut seed)?;
    Ok(seed)
}

/// `size` bytes, random (from the run's seed), different for every `name` and `round`.
fn random_bytes(seed: &[u8; 32], name: &str, round: u64, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 32);
    let mut block = 0u64;
    while out.len() < size {
        let mut hasher = Sha256::new();
        hasher.update(seed);
        hasher.update(name.as_bytes());
        hasher.update(round.to_le_bytes());
        hasher.update(block.to_le_bytes());
        out.extend_from_slice(&hasher.finalize());
        block += 1;
    }
    out.truncate(size);
    out
}

fn put(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, bytes)?;
    Ok(())
}

impl ScaleRepo {
    /// Builds a repository of `count` targets of `target_size` bytes under `dir`
    /// (emptied first), flat or in `bins` hashed bins.
    pub fn build(name: &str, dir: &Path, count: usize, target_size: usize, bins: u32) -> Result<ScaleRepo> {
        fresh_dir(dir)?;
        let now = Utc::now();
        let keys = Keys::generate()?;
        let seed = random_seed()?;
        let mut repo = ScaleRepo {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            keys,
            seed,
            now,
            entries: Vec::with_capacity(count),
            bins,
            target_size,
            timestamp: 0,
            snapshot: 0,
            targets: 0,
            files: Vec::new(),
            bytes: 0,
        };
        let root = repo.keys.sign("root", &root_signed(&repo.keys, 1, now))?;
        repo.add_file("1.root.json", &root)?;
        let mut target_files = Vec::with_capacity(count);
        for i in 0..count {
            let path = format!("file-{i:06}.bin");
            let (entry, file) = repo.write_target(&path, 0)?;
            repo.entries.push((path, entry));
            target_files.push(file);
        }
        repo.publish(true)?;
        // Targets are fetched after the metadata.
        for file in target_files {
            repo.files.push(file);
            repo.bytes += target_size as u64;
        }
        Ok(repo)
    }

    pub fn root(&self) -> PathBuf {
        self.dir.join("1.root.json")
    }

    /// Every target's served path, from the repository's base.
    pub fn target_files(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter_map(|(path, entry)| entry["hashes"]["sha256"].as_str().map(|h| consistent_name(path, h)))
            .collect()
    }

    fn add_file(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        put(&self.dir, name, bytes)?;
        self.files.push(name.to_string());
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Writes target `path`'s content of `round`; returns its entry and served file.
    fn write_target(&self, path: &str, round: u64) -> Result<(Value, String)> {
        let content = random_bytes(&self.seed, path, round, self.target_size);
        let sha256 = hex::encode(Sha256::digest(&content));
        let file = consistent_name(path, &sha256);
        put(&self.dir, &file, &content)?;
        Ok((json!({"length": content.len(), "hashes": {"sha256": sha256}}), file))
    }

    /// Publishes a new timestamp and snapshot, and a new targets role when
    /// `targets_changed`.
    fn publish(&mut self, targets_changed: bool) -> Result<()> {
        let mut snapshot_meta = Map::new();
        if targets_changed {
            self.targets += 1;
            let (mut signed, delegated) = if self.bins == 0 {
                let listed: Map<String, Value> = self.entries.iter().cloned().collect();
                (targets_role(self.now, listed, None), Vec::new())
            } else {
                binned_targets(
                    self.bins,
                    &self.keys,
                    self.entries.clone(),
                    self.now,
                    &mut snapshot_meta,
                )?
            };
            signed["version"] = json!(self.targets);
            let bytes = self.keys.sign("targets", &signed)?;
            self.add_file(&format!("{}.targets.json", self.targets), &bytes)?;
            for (name, bytes) in delegated {
                self.add_file(&name, &bytes)?;
            }
        } else if self.bins > 0 {
            return Err("the benchmark republishes flat repositories only".into());
        }
        snapshot_meta.insert("targets.json".into(), json!({"version": self.targets}));
        self.snapshot += 1;
        self.timestamp += 1;
        let snapshot = json!({
            "_type": "snapshot",
            "spec_version": "1.0.31",
            "version": self.snapshot,
            "expires": expires(self.now),
            "meta": snapshot_meta,
        });
        let timestamp = json!({
            "_type": "timestamp",
            "spec_version": "1.0.31",
            "version": self.timestamp,
            "expires": expires(self.now),
            "meta": {"snapshot.json": {"version": self.snapshot}},
        });
        let snapshot_bytes = self.keys.sign("snapshot", &snapshot)?;
        let timestamp_bytes = self.keys.sign("timestamp", &timestamp)?;
        self.add_file(&format!("{}.snapshot.json", self.snapshot), &snapshot_bytes)?;
        // The timestamp last, as a publisher does: a client never sees it before the rest.
        self.add_file("timestamp.json", &timestamp_bytes)?;
        Ok(())
    }

    /// Forgets the files of the last publish: the next one lists only its own.
    fn start_publish(&mut self) {
        self.files.clear();
        self.bytes = 0;
    }

    /// A new timestamp and snapshot; the targets are unchanged.
    pub fn new_timestamp_and_snapshot(&mut self) -> Result<()> {
        self.start_publish();
        self.publish(false)
    }

    /// The first target's content changes (a new targets role, snapshot and timestamp).
    pub fn change_one_target(&mut self, round: u64) -> Result<()> {
        self.start_publish();
        let path = self.entries[0].0.clone();
        let (entry, file) = self.write_target(&path, round)?;
        self.entries[0].1 = entry;
        self.publish(true)?;
        self.files.push(file);
        self.bytes += self.target_size as u64;
        Ok(())
    }
}

/// The rows' task names, and what the verdicts look for.
pub mod task {
    pub fn fresh(count: usize, bins: u32) -> String {
        format!(
            "scale: fresh mirror of {count} targets x 1 KiB{}",
            if bins > 0 {
                format!(" in {bins} hashed bins")
            } else {
                ", flat".into()
            }
        )
    }
    pub fn no_change(count: usize) -> String {
        format!("scale: no-change mirror sync, {count} targets")
    }
    pub fn new_snapshot(count: usize) -> String {
        format!("scale: new timestamp and snapshot, targets unchanged, {count} targets")
    }
    pub fn one_changed(count: usize) -> String {
        format!("scale: one target changed among {count}")
    }
    pub fn export(count: usize) -> String {
        format!("scale: export the mirror of {count} targets into one zstd bundle")
    }
    pub fn import(count: usize) -> String {
        format!("scale: import that bundle into a new mirror, {count} targets")
    }
}

/// The floor the export and import are held to: tar with zstd over the same tree.
pub const TAR: &str = "tar + zstd (floor)";

pub const TRUSTROOT: &str = "trustroot mirror sync";
pub const CURL: &str = "curl -Z --parallel-max 8 (floor)";

impl Bench<'_> {
    /// The scale rows for repositories of `counts` targets; returns the mirror of
    /// `serve_count` targets (flat), kept for the `serve` rows.
    pub fn scale(&mut self, counts: &[usize], bins: u32, serve_count: usize) -> Result<Option<(ScaleRepo, PathBuf)>> {
        let mut kept = None;
        for &count in counts {
            let name = format!("scale-{count}");
            let started = std::time::Instant::now();
            let mut repo = ScaleRepo::build(&name, &self.work.join("serve").join(&name), count, 1024, 0)?;
            note(&format!(
                "built {name}: {} files in {:.1} s",
                repo.files.len(),
                started.elapsed().as_secs_f64()
            ));
            let mirror = self.work.join("out").join(&name);
            self.fresh_pair(&repo, &mirror, &task::fresh(count, 0))?;
            for run in 0..2 {
                let (m, requests) = self.sync_again(&repo, &mirror, &format!("{name}-nochange-{run}"))?;
                // The first re-sync after a fresh one is what an operator's timer sees;
                // the second shows it does not move.
                self.row(&task::no_change(count), TRUSTROOT, m, 0, 0, None, Some(requests), "");
            }
            // At every size, for the plot; the targets are judged at the largest.
            {
                repo.new_timestamp_and_snapshot()?;
                let (m, requests) = self.sync_again(&repo, &mirror, &format!("{name}-new-snapshot"))?;
                self.row(
                    &task::new_snapshot(count),
                    TRUSTROOT,
                    m,
                    repo.bytes,
                    repo.files.len() as u64,
                    None,
                    Some(requests),
                    "",
                );
                repo.change_one_target(1)?;
                let (m, requests) = self.sync_again(&repo, &mirror, &format!("{name}-one-changed"))?;
                self.row(
                    &task::one_changed(count),
                    TRUSTROOT,
                    m,
                    repo.bytes,
                    repo.files.len() as u64,
                    None,
                    Some(requests),
                    "",
                );
                if count == *counts.iter().max().unwrap_or(&count) {
                    self.export_pair(&repo, &mirror, count)?;
                }
            }
            if count == serve_count && kept.is_none() {
                kept = Some((repo, mirror));
            } else {
                std::fs::remove_dir_all(&mirror)?;
                std::fs::remove_dir_all(&repo.dir)?;
            }
        }
        if bins > 0 {
            let count = *counts.iter().max().unwrap_or(&0);
            let name = format!("scale-{count}-bins");
            let repo = ScaleRepo::build(&name, &self.work.join("serve").join(&name), count, 1024, bins)?;
            let mirror = self.work.join("out").join(&name);
            self.fresh_pair(&repo, &mirror, &task::fresh(count, bins))?;
            std::fs::remove_dir_all(&mirror)?;
            std::fs::remove_dir_all(&repo.dir)?;
        }
        Ok(kept)
    }

    /// curl over every file, then a fresh `trustroot mirror sync` into `mirror`.
    /// Curl, then a fresh `mirror sync`, [`FRESH_RUNS`] times alternated (the judge takes
    /// the median of each): a disk or a neighbour that slows one run moves one figure, not
    /// the ratio. Each tool's previous copy is removed right before its own run and the
    /// file system synced, so both start after the same work on the disk (removing 100,000
    /// files slows the creation of the next ones on this machine's ext4). The last sync's
    /// mirror is left for the rows after.
    fn fresh_pair(&mut self, repo: &ScaleRepo, mirror: &Path, task: &str) -> Result<()> {
        let base = format!("{}{}/", self.server.url(), repo.name);
        let files = repo.files.len() as u64;
        let curl_out = self.work.join("out").join(format!("{}-curl", repo.name));
        for run in 1..=FRESH_RUNS {
            let note = format!("run {run} of {FRESH_RUNS}");
            fresh_dir(&curl_out)?;
            settle_disk();
            let (floor, requests) = self.curl_floor(&format!("{}-{run}", repo.name), &base, &repo.files, &curl_out)?;
            let floor_wall = floor.ok().then_some(floor.wall);
            self.row(task, CURL, floor, repo.bytes, files, floor_wall, Some(requests), &note);

            if mirror.exists() {
                std::fs::remove_dir_all(mirror)?;
            }
            settle_disk();
            let job = Job::new(&self.tools.trustroot)
                .args(["mirror", "sync"])
                .arg(mirror)
                .args(["--from", &base, "--targets-from", &format!("{base}targets/"), "--root"])
                .arg(repo.root());
            let m = self.measure(&format!("{}-trustroot-{run}", repo.name), &job)?;
            let requests = self.server.take_requests();
            self.row(task, TRUSTROOT, m, repo.bytes, files, floor_wall, Some(requests), &note);
        }
        std::fs::remove_dir_all(&curl_out)?;
        Ok(())
    }

    /// `mirror export` of `mirror` into a zstd bundle and `mirror import` of it into a new
    /// mirror (which verifies everything from the root), beside tar and zstd packing and
    /// unpacking the served tree (which verify nothing).
    fn export_pair(&mut self, repo: &ScaleRepo, mirror: &Path, count: usize) -> Result<()> {
        let out = self.work.join("out").join(format!("{}-bundles", repo.name));
        fresh_dir(&out)?;
        let (tarball, unpacked) = (out.join("tree.tar.zst"), out.join("tree"));
        fresh_dir(&unpacked)?;
        let files = repo.files.len() as u64;
        let pack = Job::new("tar")
            .args(["-I", "zstd", "-cf"])
            .arg(&tarball)
            .arg("-C")
            .arg(mirror.join("repository"))
            .arg(".");
        let packed = self.measure(&format!("{}-tar-c", repo.name), &pack)?;
        let unpack = Job::new("tar")
            .args(["-I", "zstd", "-xf"])
            .arg(&tarball)
            .arg("-C")
            .arg(&unpacked);
        let unpacked_m = self.measure(&format!("{}-tar-x", repo.name), &unpack)?;
        let (pack_floor, unpack_floor) = (
            packed.ok().then_some(packed.wall),
            unpacked_m.ok().then_some(unpacked_m.wall),
        );
        self.row(
            &task::export(count),
            TAR,
            packed,
            repo.bytes,
            files,
            pack_floor,
            None,
            "",
        );
        self.row(
            &task::import(count),
            TAR,
            unpacked_m,
            repo.bytes,
            files,
            unpack_floor,
            None,
            "",
        );

        let bundle = out.join("mirror.tar.zst");
        let export = Job::new(&self.tools.trustroot)
            .args(["mirror", "export", "--out"])
            .arg(&bundle)
            .arg(mirror);
        let m = self.measure(&format!("{}-export", repo.name), &export)?;
        self.row(
            &task::export(count),
            "trustroot mirror export",
            m,
            repo.bytes,
            files,
            pack_floor,
            None,
            "",
        );
        let import = Job::new(&self.tools.trustroot)
            .args(["mirror", "import", "--bundle"])
            .arg(&bundle)
            .arg("--root")
            .arg(repo.root())
            .arg(out.join("imported"));
        let m = self.measure(&format!("{}-import", repo.name), &import)?;
        self.row(
            &task::import(count),
            "trustroot mirror import",
            m,
            repo.bytes,
            files,
            unpack_floor,
            None,
            "",
        );
        std::fs::remove_dir_all(&out)?;
        Ok(())
    }

    /// `trustroot mirror sync MIRROR` again, with the origin it records.
    fn sync_again(&mut self, _repo: &ScaleRepo, mirror: &Path, label: &str) -> Result<(Measured, u64)> {
        let job = Job::new(&self.tools.trustroot).args(["mirror", "sync"]).arg(mirror);
        self.server.take_requests();
        let m = self.measure(label, &job)?;
        Ok((m, self.server.take_requests()))
    }
}

/// A duration as the verdicts print it.
/// Writes out what the file system holds dirty (`sync(1)`) before a timed run, so a run
/// does not pay for the one before it. Best effort: a missing `sync` only adds noise.
fn settle_disk() {
    let _ = std::process::Command::new("sync").status();
}

/// Fresh syncs (and curl over the same files) run this many times, alternated.
const FRESH_RUNS: usize = 3;

/// The median of `values` (the upper one of an even count); NaN when there are none.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// The issue-24 targets, judged from the scale rows and the serve loads.
pub fn judge(
    rows: &[crate::measure::Row],
    serve: Option<&(crate::serve_load::Load, crate::serve_load::Load)>,
) -> String {
    let find = |task: &str, tool: &str| -> Vec<&crate::measure::Row> {
        rows.iter()
            .filter(|r| r.task == task && r.tool == tool && r.measured.ok())
            .collect()
    };
    let mb = |r: &crate::measure::Row| r.measured.rss_kib.map_or(f64::NAN, |k| k as f64 / 1024.0);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let mut counts: Vec<usize> = rows
        .iter()
        .filter_map(|r| r.task.strip_prefix("scale: no-change mirror sync, "))
        .filter_map(|rest| rest.strip_suffix(" targets")?.parse().ok())
        .collect();
    counts.sort_unstable();
    counts.dedup();
    let mut out = String::new();
    for &count in &counts {
        let runs = find(&task::no_change(count), TRUSTROOT);
        if let Some(worst) = runs.iter().max_by_key(|r| r.measured.wall) {
            let requests = runs.iter().filter_map(|r| r.requests).max().unwrap_or(0);
            let rss = runs.iter().map(|r| mb(r)).fold(0.0, f64::max);
            out.push_str(&format!(
                "- {}: no-change sync of {count} targets in at most 30 ms and 15 MB, 2 requests: {:.3} s (slowest of {}), {rss:.1} MB, {requests} requests\n",
                verdict(secs(worst.measured.wall) <= 0.030 && rss <= 15.0 && requests <= 2),
                secs(worst.measured.wall),
                runs.len()
            ));
        }
    }
    if let Some(&largest) = counts.last() {
        if let Some(r) = find(&task::new_snapshot(largest), TRUSTROOT).first().copied() {
            out.push_str(&format!(
                "- {}: new timestamp and snapshot, targets unchanged, {largest} targets, in at most 0.2 s: {:.3} s, {:.1} MB, {} requests\n",
                verdict(secs(r.measured.wall) <= 0.2),
                secs(r.measured.wall),
                mb(r),
                r.requests.unwrap_or(0)
            ));
        }
        if let Some(r) = find(&task::one_changed(largest), TRUSTROOT).first().copied() {
            let requests = r.requests.unwrap_or(0);
            out.push_str(&format!(
                "- {}: one target changed among {largest} in at most 5 requests and 1 s: {requests} requests, {:.3} s, {:.1} MB\n",
                verdict(requests <= 5 && secs(r.measured.wall) <= 1.0),
                secs(r.measured.wall),
                mb(r)
            ));
        }
        let exported = (
            find(&task::export(largest), "trustroot mirror export").first().copied(),
            find(&task::import(largest), "trustroot mirror import").first().copied(),
            find(&task::export(largest), TAR).first().copied(),
            find(&task::import(largest), TAR).first().copied(),
        );
        if let (Some(export), Some(import), Some(pack), Some(unpack)) = exported {
            let ours = secs(export.measured.wall) + secs(import.measured.wall);
            let floor = secs(pack.measured.wall) + secs(unpack.measured.wall);
            out.push_str(&format!(
                "- {}: mirror export then import of {largest} targets within 2x of tar + zstd: {:.3} s + {:.3} s = {ours:.3} s vs {floor:.3} s = {:.2}x ({:.1} and {:.1} MB)\n",
                verdict(ours <= 2.0 * floor),
                secs(export.measured.wall),
                secs(import.measured.wall),
                ours / floor,
                mb(export),
                mb(import)
            ));
        }
        for bins in [0u32, 1024] {
            let task = task::fresh(largest, bins);
            let (ours, curl) = (find(&task, TRUSTROOT), find(&task, CURL));
            if !ours.is_empty() && !curl.is_empty() {
                let wall = |rows: &[&crate::measure::Row]| median(rows.iter().map(|r| secs(r.measured.wall)).collect());
                let (t, f) = (wall(&ours), wall(&curl));
                // Memory is judged on the largest of the runs, not the median.
                let rss = ours.iter().map(|r| mb(r)).fold(0.0, f64::max);
                let ratio = t / f;
                out.push_str(&format!(
                    "- {}: {task}: within 1.5x of curl and at most 150 MB: median {t:.3} s vs {f:.3} s = {ratio:.2}x ({} and {} runs, alternated), at most {rss:.1} MB\n",
                    verdict(ratio <= 1.5 && rss <= 150.0),
                    ours.len(),
                    curl.len()
                ));
            }
        }
    }
    if let Some((nginx, serve)) = serve {
        let share = serve.requests_per_second / nginx.requests_per_second;
        let p99 = serve.p99_ms / nginx.p99_ms;
        out.push_str(&format!(
            "- {}: mirror serve at least 80% of nginx's requests/s, p99 at most 2x, no errors: {:.0}% ({:.0} vs {:.0} requests/s), p99 {:.2} ms vs {:.2} ms = {p99:.2}x, {} errors\n",
            verdict(share >= 0.8 && p99 <= 2.0 && serve.errors == 0),
            share * 100.0,
            serve.requests_per_second,
            nginx.requests_per_second,
            serve.p99_ms,
            nginx.p99_ms,
            serve.errors
        ));
    }
    out
}

/// The scale rows as a plot: fresh syncs beside curl (medians), a new snapshot and one
/// changed target, against the number of targets.
pub fn draw(rows: &[crate::measure::Row]) -> String {
    let mut counts: Vec<usize> = rows
        .iter()
        .filter_map(|r| r.task.strip_prefix("scale: no-change mirror sync, "))
        .filter_map(|rest| rest.strip_suffix(" targets")?.parse().ok())
        .collect();
    counts.sort_unstable();
    counts.dedup();
    let points = |task: &dyn Fn(usize) -> String, tool: &str, value: &dyn Fn(&crate::measure::Row) -> f64| {
        counts
            .iter()
            .filter_map(|&count| {
                let values: Vec<f64> = rows
                    .iter()
                    .filter(|r| r.task == task(count) && r.tool == tool && r.measured.ok())
                    .map(value)
                    .collect();
                (!values.is_empty()).then(|| (count as f64, median(values)))
            })
            .collect::<Vec<_>>()
    };
    let wall = |r: &crate::measure::Row| secs(r.measured.wall);
    let rss = |r: &crate::measure::Row| r.measured.rss_kib.map_or(f64::NAN, |k| k as f64 / 1024.0);
    let fresh = |count| task::fresh(count, 0);
    // The same four lines in both panels, of wall time and of peak memory.
    let lines = |value: &dyn Fn(&crate::measure::Row) -> f64| {
        [
            plot::Series {
                name: "trustroot mirror sync, fresh (median)",
                colour: "#1f77b4",
                points: points(&fresh, TRUSTROOT, value),
            },
            plot::Series {
                name: "curl -Z over the same files (median)",
                colour: "#7f7f7f",
                points: points(&fresh, CURL, value),
            },
            plot::Series {
                name: "trustroot, one target changed",
                colour: "#ff7f0e",
                points: points(&task::one_changed, TRUSTROOT, value),
            },
            plot::Series {
                name: "trustroot, new timestamp and snapshot",
                colour: "#2ca02c",
                points: points(&task::new_snapshot, TRUSTROOT, value),
            },
        ]
    };
    let (time, memory) = (lines(&wall), lines(&rss));
    plot::two_panels(&time, None, &memory, Some((150.0, "goal: 150 MB (fresh)")))
}
