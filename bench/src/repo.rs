//! Synthetic published repositories, signed with trustroot's own signing code
//! (`trustroot_ceremony`'s `SoftwareSigner` and `sign::sign_envelope`, the function a
//! ceremony publish signs snapshot and timestamp with).
//!
//! A repository is written as `trustroot ceremony publish` lays one out (consistent
//! snapshots): `N.root.json` for every root version, `timestamp.json`, `1.snapshot.json`,
//! `1.targets.json`, `1.<bin>.json` and each target at `targets/<dir>/<sha256>.<name>`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use trustroot_ceremony::keys::{KeyType, PrivateKey, Signer, SoftwareSigner};
use trustroot_ceremony::sign::sign_envelope;

use crate::Result;

/// The spec version written.
const SPEC_VERSION: &str = "1.0.31";

/// What to build.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: &'static str,
    pub targets: usize,
    pub target_size: usize,
    pub root_versions: u64,
    /// Hashed bins (0: every target in `targets`).
    pub bins: u32,
}

/// A built repository.
#[derive(Debug, Clone)]
pub struct Built {
    pub spec: Spec,
    pub dir: PathBuf,
    /// The first root (what every client starts from).
    pub root: PathBuf,
    /// Every file a full client update fetches, relative to `dir` (metadata, then targets).
    pub files: Vec<String>,
    /// Every target path.
    pub target_names: Vec<String>,
    /// Bytes of all of `files`.
    pub bytes: u64,
}

/// One signing key for every role: ed25519, as `trustroot key generate` makes it.
pub struct Keys {
    pub signer: SoftwareSigner,
    pub keyid: String,
    pub key: Value,
}

impl Keys {
    pub fn generate() -> Result<Keys> {
        let key = PrivateKey::generate(KeyType::Ed25519);
        let signer = SoftwareSigner::new(key, "generated for the benchmark");
        let public = signer.public_key();
        let keyid = public.computed_key_id().into_string();
        let key = serde_json::to_value(&public)?;
        Ok(Keys { signer, keyid, key })
    }

    pub fn sign(&self, role: &str, signed: &Value) -> Result<Vec<u8>> {
        Ok(sign_envelope(
            role,
            signed,
            std::slice::from_ref(&self.keyid),
            &self.signer,
        )?)
    }
}

pub fn expires(now: DateTime<Utc>) -> String {
    let now = DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    trustroot_core::time::format(&(now + Duration::days(365)))
}

/// The `signed` part of root version `version` where `keyid` holds every role.
pub fn root_signed(keys: &Keys, version: u64, now: DateTime<Utc>) -> Value {
    let role = json!({"keyids": [keys.keyid], "threshold": 1});
    json!({
        "_type": "root",
        "spec_version": SPEC_VERSION,
        "version": version,
        "expires": expires(now),
        "consistent_snapshot": true,
        "keys": {keys.keyid.clone(): keys.key},
        "roles": {"root": role, "targets": role, "snapshot": role, "timestamp": role},
    })
}

/// The bytes of target `index`: unique (so no two targets share a hash), cheap to make.
fn target_bytes(name: &str, size: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(size);
    bytes.extend_from_slice(name.as_bytes());
    bytes.push(b'\n');
    let seed = Sha256::digest(name.as_bytes());
    let mut i = 0usize;
    while bytes.len() < size {
        bytes.push(seed[i % 32].wrapping_add((i / 32) as u8));
        i += 1;
    }
    bytes.truncate(size);
    bytes
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    Ok(())
}

/// The consistent-snapshot file name of target `name` with `sha256`.
pub fn consistent_name(name: &str, sha256: &str) -> String {
    match name.rsplit_once('/') {
        Some((dir, base)) => format!("targets/{dir}/{sha256}.{base}"),
        None => format!("targets/{sha256}.{name}"),
    }
}

/// A repository being written: its files (relative paths) and their bytes in all.
struct Writer<'a> {
    dir: &'a Path,
    files: Vec<String>,
    bytes: u64,
}

impl Writer<'_> {
    fn put(&mut self, name: String, bytes: &[u8]) -> Result<()> {
        write(&self.dir.join(&name), bytes)?;
        self.bytes += bytes.len() as u64;
        self.files.push(name);
        Ok(())
    }
}

/// The targets of a repository, each written once at its consistent-snapshot name.
struct WrittenTargets {
    /// (target path, its `targets` entry), in order.
    entries: Vec<(String, Value)>,
    /// (file, length) of each target as served.
    files: Vec<(String, u64)>,
}

/// Builds `spec` under `dir` (emptied first).
pub fn build(spec: &Spec, dir: &Path, now: DateTime<Utc>) -> Result<Built> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let keys = Keys::generate()?;
    let mut out = Writer {
        dir,
        files: Vec::new(),
        bytes: 0,
    };
    for version in 1..=spec.root_versions {
        let bytes = keys.sign("root", &root_signed(&keys, version, now))?;
        out.put(format!("{version}.root.json"), &bytes)?;
    }
    let targets = write_targets(spec, dir)?;
    let target_names: Vec<String> = targets.entries.iter().map(|(n, _)| n.clone()).collect();
    let mut snapshot_meta = Map::new();
    let (targets_signed, delegated_files) = if spec.bins == 0 {
        let listed: Map<String, Value> = targets.entries.into_iter().collect();
        (targets_role(now, listed, None), Vec::new())
    } else {
        binned_targets(spec.bins, &keys, targets.entries, now, &mut snapshot_meta)?
    };
    snapshot_meta.insert("targets.json".into(), json!({"version": 1}));
    let snapshot = json!({
        "_type": "snapshot",
        "spec_version": SPEC_VERSION,
        "version": 1,
        "expires": expires(now),
        "meta": snapshot_meta,
    });
    let timestamp = json!({
        "_type": "timestamp",
        "spec_version": SPEC_VERSION,
        "version": 1,
        "expires": expires(now),
        "meta": {"snapshot.json": {"version": 1}},
    });
    out.put("timestamp.json".into(), &keys.sign("timestamp", &timestamp)?)?;
    out.put("1.snapshot.json".into(), &keys.sign("snapshot", &snapshot)?)?;
    out.put("1.targets.json".into(), &keys.sign("targets", &targets_signed)?)?;
    for (name, bytes) in delegated_files {
        out.put(name, &bytes)?;
    }
    // The targets are on disk already; they count and are fetched after the metadata.
    for (file, length) in targets.files {
        out.bytes += length;
        out.files.push(file);
    }
    Ok(Built {
        spec: spec.clone(),
        dir: dir.to_path_buf(),
        root: dir.join("1.root.json"),
        files: out.files,
        target_names,
        bytes: out.bytes,
    })
}

/// Writes every target of `spec`, hashed once as it is written.
fn write_targets(spec: &Spec, dir: &Path) -> Result<WrittenTargets> {
    let mut entries = Vec::with_capacity(spec.targets);
    let mut files = Vec::with_capacity(spec.targets);
    for i in 0..spec.targets {
        // Flat names: tough (tuftool clone) puts the hash before a path's directory, not
        // before its file name, so it cannot fetch `dir/name` targets of a consistent
        // snapshot repository.
        let name = format!("file-{i:06}.bin");
        let content = target_bytes(&name, spec.target_size);
        let sha256 = hex::encode(Sha256::digest(&content));
        let file = consistent_name(&name, &sha256);
        write(&dir.join(&file), &content)?;
        files.push((file, content.len() as u64));
        entries.push((name, json!({"length": content.len(), "hashes": {"sha256": sha256}})));
    }
    Ok(WrittenTargets { entries, files })
}

/// The `signed` part of a targets role listing `targets`, delegating to `delegations`.
pub(crate) fn targets_role(now: DateTime<Utc>, targets: Map<String, Value>, delegations: Option<Value>) -> Value {
    let mut signed = json!({
        "_type": "targets",
        "spec_version": SPEC_VERSION,
        "version": 1,
        "expires": expires(now),
        "targets": targets,
    });
    if let Some(delegations) = delegations {
        signed["delegations"] = delegations;
    }
    signed
}

/// A metadata file's name and its signed bytes.
pub(crate) type SignedFile = (String, Vec<u8>);

/// `targets` delegating every target to `bins` hashed bins: its `signed` part, and each
/// bin's file name and signed bytes (listed in `snapshot_meta`).
pub(crate) fn binned_targets(
    bins: u32,
    keys: &Keys,
    entries: Vec<(String, Value)>,
    now: DateTime<Utc>,
    snapshot_meta: &mut Map<String, Value>,
) -> Result<(Value, Vec<SignedFile>)> {
    let mut per_bin: Vec<Map<String, Value>> = (0..bins).map(|_| Map::new()).collect();
    for (name, entry) in entries {
        let index = trustroot_ceremony::bins::bin_index(&name, bins) as usize;
        if let Some(bin) = per_bin.get_mut(index) {
            bin.insert(name, entry);
        }
    }
    let mut roles = Vec::new();
    let mut files = Vec::new();
    for (index, bin_targets) in per_bin.into_iter().enumerate() {
        let index = index as u32;
        let name = trustroot_ceremony::bins::bin_name("bins", bins, index);
        roles.push(json!({
            "name": name,
            "keyids": [keys.keyid],
            "threshold": 1,
            "terminating": true,
            "path_hash_prefixes": trustroot_ceremony::bins::hash_prefixes(bins, index),
        }));
        files.push((
            format!("1.{name}.json"),
            keys.sign(&name, &targets_role(now, bin_targets, None))?,
        ));
        snapshot_meta.insert(format!("{name}.json"), json!({"version": 1}));
    }
    let delegations = json!({"keys": {keys.keyid.clone(): keys.key}, "roles": roles});
    Ok((targets_role(now, Map::new(), Some(delegations)), files))
}

/// Input of the signing benchmark: `count` small files under `dir/files/` and a listing
/// (`path<TAB>length<TAB>sha256` per line) of them at `dir/listing.tsv`.
pub fn signing_input(dir: &Path, count: usize) -> Result<(PathBuf, PathBuf)> {
    let files = dir.join("files");
    let listing = dir.join("listing.tsv");
    if listing.is_file() && std::fs::read_to_string(&listing)?.lines().count() == count {
        return Ok((files, listing));
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let mut out = String::new();
    for i in 0..count {
        let name = format!("{:02x}/{i:06}.txt", i % 256);
        let content = format!("target {i} of {count}\n");
        write(&files.join(&name), content.as_bytes())?;
        let sha256 = hex::encode(Sha256::digest(content.as_bytes()));
        out.push_str(&format!("{name}\t{}\t{sha256}\n", content.len()));
    }
    write(&listing, out.as_bytes())?;
    Ok((files, listing))
}

/// How the trustroot signing benchmark holds the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignPath {
    /// `trustroot_ceremony::targets_role::TargetsRole`: entries as path, length and digest,
    /// canonical JSON written from them, the envelope streamed to the file.
    Streamed,
    /// A `serde_json::Value`, as `ceremony stage` builds a targets role today, signed with
    /// `sign::sign_envelope`.
    Value,
}

/// The trustroot signing benchmark, run in its own process: reads a listing
/// (`path<TAB>length<TAB>sha256` per line), builds the targets role, signs it and writes it
/// to `out`.
pub fn sign_listing(listing: &Path, out: &Path, path: SignPath, now: DateTime<Utc>) -> Result<usize> {
    use std::io::BufRead as _;
    use trustroot_ceremony::targets_role::{TargetEntry, TargetsRole};
    let keys = Keys::generate()?;
    let reader = std::io::BufReader::new(std::fs::File::open(listing)?);
    let mut entries = Vec::new();
    for line in reader.lines() {
        let line = line?;
        let mut fields = line.split('\t');
        let (Some(path), Some(length), Some(sha256)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(format!("{}: bad line {line:?}", listing.display()).into());
        };
        let mut digest = [0u8; 32];
        hex::decode_to_slice(sha256, &mut digest)?;
        entries.push(TargetEntry::new(path.to_string(), length.parse()?, digest));
    }
    let count = entries.len();
    let fields = json!({
        "_type": "targets",
        "spec_version": SPEC_VERSION,
        "version": 1,
        "expires": expires(now),
    });
    let Value::Object(fields) = fields else {
        return Err("fields are an object".into());
    };
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match path {
        SignPath::Streamed => {
            let role = TargetsRole::new(fields, entries)?;
            let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
            role.write_signed(std::slice::from_ref(&keys.keyid), &keys.signer, &mut file)?;
            file.flush()?;
        }
        SignPath::Value => {
            let mut signed = fields;
            let targets: Map<String, Value> = entries
                .into_iter()
                .map(|e| {
                    let entry = json!({"length": e.length, "hashes": {"sha256": hex::encode(e.sha256)}});
                    (e.path, entry)
                })
                .collect();
            signed.insert("targets".into(), Value::Object(targets));
            let bytes = keys.sign("targets", &Value::Object(signed))?;
            write(out, &bytes)?;
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use trustroot_core::{Limits, TrustedSet};

    #[test]
    fn a_built_repository_verifies_with_the_core_client_and_resolves_through_bins() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let spec = Spec {
            name: "t",
            targets: 40,
            target_size: 100,
            root_versions: 3,
            bins: 16,
        };
        let built = build(&spec, dir.path(), now).unwrap();
        let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
        let mut set = TrustedSet::new(&read("1.root.json"), now, Limits::default()).unwrap();
        set.update_root(&read("2.root.json")).unwrap();
        set.update_root(&read("3.root.json")).unwrap();
        set.update_timestamp(&read("timestamp.json")).unwrap();
        set.update_snapshot(&read("1.snapshot.json"), false).unwrap();
        set.update_targets(&read("1.targets.json")).unwrap();
        for i in 0..16 {
            let name = trustroot_ceremony::bins::bin_name("bins", 16, i);
            set.update_delegated_targets(&read(&format!("1.{name}.json")), &name, "targets")
                .unwrap();
        }
        let mut seen = Default::default();
        for name in &built.target_names {
            let (_, info) = set.find_loaded_target(name, &mut seen).unwrap();
            let file = consistent_name(name, &info.hashes["sha256"]);
            assert_eq!(std::fs::metadata(dir.path().join(file)).unwrap().len(), 100);
        }
        assert_eq!(built.files.len(), 3 + 3 + 16 + 40);
    }
}
