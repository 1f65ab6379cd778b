//! Offline bundles: one archive that carries a mirror across an air gap.
//!
//! A bundle is a tar archive (optionally zstd-compressed) holding the served tree under
//! `repository/` and, last, `trustroot-bundle.json`: the length and sha256 of every file.
//! The TUF metadata inside already authenticates everything; the manifest catches damage in
//! transit early and with a clear message. Import never trusts the archive: it unpacks it
//! outside the mirror refusing anything but plain files with safe names, checks the
//! manifest, then runs the full client verification on the unpacked tree (from the site's
//! pinned root, and from the trust the mirror already holds) and updates the mirror
//! through the same atomic switch as `mirror sync`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use trustroot_core::display::escape;
use trustroot_core::{Limits, TargetFile};
use url::Url;

use crate::download::file_matches;
use crate::error::UpdateError;
use crate::fetch::FetchConfig;
use crate::layout::{MirrorDir, scan_files};
use crate::manifest::{Manifest, Origin};
use crate::sync::{SyncOptions, SyncSummary, sync};
use crate::tree_path::TreePath;

/// The name of the manifest member, the last one of a bundle.
pub const MANIFEST_NAME: &str = "trustroot-bundle.json";
const TREE_PREFIX: &str = "repository/";
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// The manifest is read into memory: enough for millions of files, no more.
const MAX_MANIFEST_SIZE: u64 = 256 << 20;

/// The default cap on all of a bundle's members together (`mirror import --max-size`).
pub const DEFAULT_MAX_TOTAL_SIZE: u64 = 16 << 30;

/// Bounds on what an import unpacks: a hostile archive cannot fill the disk. Beyond these,
/// each target is held to the length its verified metadata gives it, and all of them
/// together to the free space where they are written.
#[derive(Debug, Clone)]
pub struct BundleLimits {
    pub max_files: usize,
    pub max_file_size: u64,
    pub max_total_size: u64,
}

impl Default for BundleLimits {
    fn default() -> Self {
        BundleLimits {
            max_files: 1_000_000,
            max_file_size: 8 << 30,
            max_total_size: DEFAULT_MAX_TOTAL_SIZE,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleFile {
    pub length: u64,
    pub sha256: String,
}

/// `trustroot-bundle.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleManifest {
    pub format: u32,
    pub created_at: String,
    /// Where the mirror that made the bundle syncs from.
    pub origin: Origin,
    /// Every file of the served tree, by path relative to it.
    pub files: BTreeMap<String, BundleFile>,
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    pub bundle: String,
    pub files: u64,
    pub bytes: u64,
    pub compressed: bool,
}

fn bundle_error(bundle: &Path, reason: impl std::fmt::Display) -> UpdateError {
    UpdateError::Config(format!("bundle {}: {reason}", bundle.display()))
}

/// A writer that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

fn header_for(size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mtime(0);
    header
}

/// Writes the served tree of the mirror in `dir` into a bundle at `out` (zstd-compressed
/// when `compress`). The caller verifies the mirror first (the CLI runs `mirror verify`).
pub fn export(dir: &Path, out: &Path, compress: bool) -> Result<ExportSummary, UpdateError> {
    let layout = MirrorDir::new(dir);
    let n = layout
        .current()?
        .ok_or_else(|| UpdateError::Config(format!(
            "{}: nothing is mirrored here yet (run `trustroot mirror sync DIR`, or `trustroot mirror import DIR` with a bundle)",
            dir.display()
        )))?;
    let state = layout.state(n);
    let tree = state.join("tree");
    let mirror_manifest = Manifest::read(&state.join("manifest.json"))?;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = tempfile::Builder::new()
        .prefix(".trustroot-bundle-")
        .tempfile_in(parent)
        .map_err(|e| UpdateError::io(parent, e))?;
    let tar_file = tempfile::tempfile_in(parent).map_err(|e| UpdateError::io(parent, e))?;
    let mut builder = tar::Builder::new(tar_file);
    let mut files = BTreeMap::new();
    let mut bytes = 0;
    // Metadata first, then targets, the manifest last: an import verifies the metadata
    // before it unpacks any target, and holds each target to its verified length.
    let mut members = scan_files(&tree)?;
    members.sort_by(|(a, _), (b, _)| (a.starts_with("targets/"), a).cmp(&(b.starts_with("targets/"), b)));
    for (relative, meta) in members {
        let path = tree.join(&relative);
        let file = std::fs::File::open(&path).map_err(|e| UpdateError::io(&path, e))?;
        let mut reader = Hashing {
            inner: file,
            hasher: Sha256::new(),
            count: 0,
        };
        let mut header = header_for(meta.len());
        builder
            .append_data(&mut header, format!("{TREE_PREFIX}{relative}"), &mut reader)
            .map_err(|e| UpdateError::io(&path, e))?;
        if reader.count != meta.len() {
            return Err(UpdateError::Config(format!(
                "{} changed while it was exported",
                path.display()
            )));
        }
        bytes += reader.count;
        files.insert(
            relative,
            BundleFile {
                length: reader.count,
                sha256: hex::encode(reader.hasher.finalize()),
            },
        );
    }
    let manifest = BundleManifest {
        format: 1,
        created_at: trustroot_core::time::format(&Utc::now()),
        origin: mirror_manifest.origin,
        files,
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    let mut header = header_for(manifest_bytes.len() as u64);
    builder
        .append_data(&mut header, MANIFEST_NAME, manifest_bytes.as_slice())
        .map_err(|e| UpdateError::io(out, e))?;
    let mut tar_file = builder.into_inner().map_err(|e| UpdateError::io(out, e))?;
    tar_file.flush().map_err(|e| UpdateError::io(out, e))?;
    use std::io::Seek as _;
    tar_file.rewind().map_err(|e| UpdateError::io(out, e))?;
    let mut destination = temp.as_file();
    if compress {
        zstd_compress(&mut tar_file, &mut destination).map_err(|e| UpdateError::io(out, e))?;
    } else {
        std::io::copy(&mut tar_file, &mut destination).map_err(|e| UpdateError::io(out, e))?;
    }
    trustroot_store::persist(temp, out, trustroot_store::Durability::Synced)?;
    Ok(ExportSummary {
        bundle: out.display().to_string(),
        files: manifest.files.len() as u64,
        bytes,
        compressed: compress,
    })
}

/// ruzstd's encoder panics on I/O errors; these adapters record the first error instead
/// (reporting end of input, or discarding output), so it is returned, not panicked on.
struct ErrorCapture<T> {
    inner: T,
    error: Option<std::io::Error>,
}

impl<R: Read> Read for ErrorCapture<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.error.is_some() {
            return Ok(0);
        }
        self.inner.read(buf).or_else(|e| {
            self.error = Some(e);
            Ok(0)
        })
    }
}

impl<W: Write> Write for ErrorCapture<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.error.is_none()
            && let Err(e) = self.inner.write_all(buf)
        {
            self.error = Some(e);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if self.error.is_none()
            && let Err(e) = self.inner.flush()
        {
            self.error = Some(e);
        }
        Ok(())
    }
}

fn zstd_compress(source: &mut impl Read, target: &mut impl Write) -> std::io::Result<()> {
    let mut reader = ErrorCapture {
        inner: source,
        error: None,
    };
    let mut writer = ErrorCapture {
        inner: target,
        error: None,
    };
    ruzstd::encoding::compress(&mut reader, &mut writer, ruzstd::encoding::CompressionLevel::Fastest);
    match reader.error.or(writer.error) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// Opens a bundle, transparently decompressing zstd.
fn open_bundle(bundle: &Path) -> Result<Box<dyn Read>, UpdateError> {
    let mut file = std::fs::File::open(bundle).map_err(|e| UpdateError::io(bundle, e))?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(|e| UpdateError::io(bundle, e))?;
    use std::io::Seek as _;
    file.rewind().map_err(|e| UpdateError::io(bundle, e))?;
    if n == 4 && magic == ZSTD_MAGIC {
        let decoder = ruzstd::decoding::StreamingDecoder::new(std::io::BufReader::new(file))
            .map_err(|e| bundle_error(bundle, format!("not a valid zstd stream: {}", escape(&e.to_string()))))?;
        Ok(Box::new(decoder))
    } else {
        Ok(Box::new(std::io::BufReader::new(file)))
    }
}

/// One member of a bundle as [`for_each_member`] hands it over: a plain file with a safe
/// name, its size as the header declares it (checked against the limits).
struct Member {
    /// The member's name: [`MANIFEST_NAME`], or a path under [`TREE_PREFIX`].
    name: String,
    /// The path in the served tree (empty for the manifest).
    relative: String,
    declared: u64,
}

impl Member {
    fn is_target(&self) -> bool {
        self.relative.starts_with("targets/")
    }
}

/// Goes through a bundle's members in order, refusing links, devices, unsafe or duplicate
/// names, members after the manifest, and members over the limits, and hands each plain
/// file to `visit` with a reader of its content. `visit` returns false to stop early.
fn for_each_member(
    bundle: &Path,
    limits: &BundleLimits,
    mut visit: impl FnMut(&Member, &mut dyn Read) -> Result<bool, UpdateError>,
) -> Result<(), UpdateError> {
    let mut archive = tar::Archive::new(open_bundle(bundle)?);
    // Raw entries: the tar crate would read a GNU long-name or PAX record into memory
    // whatever size it declares (a zstd bomb of a few kilobytes can declare gigabytes), so
    // those records come to us, are size-checked first, and name the member after them.
    let entries = archive
        .entries()
        .map_err(|e| bundle_error(bundle, format!("not a tar archive: {}", escape(&e.to_string()))))?
        .raw(true);
    let mut seen = BTreeSet::new();
    let mut manifest_seen = false;
    let mut total = 0u64;
    let mut long_name: Option<String> = None;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| bundle_error(bundle, format!("damaged or truncated: {}", escape(&e.to_string()))))?;
        let kind = entry.header().entry_type();
        if kind.is_gnu_longname() || kind.is_pax_local_extensions() {
            if long_name.is_some() {
                return Err(bundle_error(bundle, "two name records in a row for one member"));
            }
            long_name = Some(name_record(bundle, &mut entry)?);
            continue;
        }
        if kind.is_gnu_longlink() || kind.is_pax_global_extensions() {
            return Err(bundle_error(
                bundle,
                format!("a {kind:?} record: bundles hold plain files only"),
            ));
        }
        let name = match long_name.take().filter(|n| !n.is_empty()) {
            Some(name) => name,
            None => String::from_utf8(entry.path_bytes().into_owned())
                .map_err(|_| bundle_error(bundle, "a member name is not UTF-8"))?,
        };
        if kind.is_dir() {
            continue;
        }
        let shown = escape(&name);
        if !kind.is_file() {
            return Err(bundle_error(
                bundle,
                format!("'{shown}' is a link or special file ({kind:?}); bundles hold plain files only"),
            ));
        }
        if manifest_seen {
            return Err(bundle_error(
                bundle,
                format!("'{shown}' comes after the manifest, which must be last"),
            ));
        }
        if !seen.insert(name.clone()) {
            return Err(bundle_error(bundle, format!("'{shown}' appears twice")));
        }
        if seen.len() > limits.max_files {
            return Err(bundle_error(bundle, format!("more than {} members", limits.max_files)));
        }
        // The header's size: a PAX `size` record is refused in `name_record`.
        let declared = entry.size();
        if declared > limits.max_file_size {
            return Err(bundle_error(
                bundle,
                format!(
                    "'{shown}' is {declared} bytes, over the limit of {}",
                    limits.max_file_size
                ),
            ));
        }
        total = total.saturating_add(declared);
        if total > limits.max_total_size {
            return Err(bundle_error(
                bundle,
                format!(
                    "over the limit of {} bytes in all (raise it with --max-size)",
                    limits.max_total_size
                ),
            ));
        }
        let relative = if name == MANIFEST_NAME {
            manifest_seen = true;
            String::new()
        } else {
            let relative = name
                .strip_prefix(TREE_PREFIX)
                .ok_or_else(|| bundle_error(bundle, format!("'{shown}' is outside '{TREE_PREFIX}'")))?;
            TreePath::new(relative).map_err(|reason| bundle_error(bundle, format!("member '{shown}': {reason}")))?;
            relative.to_string()
        };
        let member = Member {
            name,
            relative,
            declared,
        };
        if !visit(&member, &mut (&mut entry).take(declared))? {
            return Ok(());
        }
    }
    Ok(())
}

/// Copies a member's content to `out` (or nowhere), hashing it; refuses a short member.
fn copy_member(
    bundle: &Path,
    member: &Member,
    content: &mut dyn Read,
    out: &mut dyn Write,
) -> Result<BundleFile, UpdateError> {
    let mut reader = Hashing {
        inner: content,
        hasher: Sha256::new(),
        count: 0,
    };
    let shown = escape(&member.name);
    std::io::copy(&mut reader, out)
        .map_err(|e| bundle_error(bundle, format!("'{shown}' is truncated: {}", escape(&e.to_string()))))?;
    if reader.count != member.declared {
        return Err(bundle_error(
            bundle,
            format!("'{shown}' is truncated ({} of {} bytes)", reader.count, member.declared),
        ));
    }
    Ok(BundleFile {
        length: reader.count,
        sha256: hex::encode(reader.hasher.finalize()),
    })
}

/// Writes a member into the unpacked tree at `into`, as a new file.
fn write_member(
    bundle: &Path,
    into: &Path,
    member: &Member,
    content: &mut dyn Read,
) -> Result<BundleFile, UpdateError> {
    let destination = into.join(&member.relative);
    if let Some(parent) = destination.parent() {
        std::fs::create_dir_all(parent).map_err(|e| UpdateError::io(parent, e))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&destination)
        .map_err(|e| UpdateError::io(&destination, e))?;
    copy_member(bundle, member, content, &mut file)
}

fn read_manifest(bundle: &Path, member: &Member, content: &mut dyn Read) -> Result<BundleManifest, UpdateError> {
    if member.declared > MAX_MANIFEST_SIZE {
        return Err(bundle_error(
            bundle,
            format!("the manifest is {} bytes, over {MAX_MANIFEST_SIZE}", member.declared),
        ));
    }
    let mut bytes = Vec::new();
    content
        .read_to_end(&mut bytes)
        .map_err(|e| bundle_error(bundle, format!("truncated manifest: {}", escape(&e.to_string()))))?;
    let manifest: BundleManifest = serde_json::from_slice(&bytes)
        .map_err(|e| bundle_error(bundle, format!("unreadable manifest: {}", escape(&e.to_string()))))?;
    if manifest.format != 1 {
        return Err(bundle_error(
            bundle,
            format!("manifest format {} is not 1", manifest.format),
        ));
    }
    Ok(manifest)
}

/// The first step of an import: unpacks the metadata members, which an export writes
/// before any target, into `into`, bounded by the sizes a client allows for metadata.
/// Returns each one's length and sha256. Stops at the first target.
pub fn unpack_metadata(
    bundle: &Path,
    into: &Path,
    limits: &BundleLimits,
    metadata_limits: &Limits,
) -> Result<BTreeMap<String, BundleFile>, UpdateError> {
    let largest = metadata_limits
        .max_root_size
        .max(metadata_limits.max_timestamp_size)
        .max(metadata_limits.max_snapshot_size)
        .max(metadata_limits.max_targets_size);
    let mut metadata = BTreeMap::new();
    for_each_member(bundle, limits, |member, content| {
        if member.is_target() || member.name == MANIFEST_NAME {
            return Ok(false);
        }
        if member.declared > largest {
            return Err(bundle_error(
                bundle,
                format!(
                    "metadata member '{}' is {} bytes, over the {largest} bytes a client reads",
                    escape(&member.name),
                    member.declared
                ),
            ));
        }
        let file = write_member(bundle, into, member, content)?;
        metadata.insert(member.relative.clone(), file);
        Ok(true)
    })?;
    if !metadata.contains_key("timestamp.json") {
        return Err(bundle_error(
            bundle,
            "no timestamp.json before the first target: the bundle was written by an older trustroot, \
             which put targets first; re-export it with this version",
        ));
    }
    Ok(metadata)
}

/// The second step of an import, once the metadata unpacked by [`unpack_metadata`] has
/// verified: unpacks the targets that verified metadata calls for (`wanted`: each file
/// name with the target it holds, whose verified length its member must have and whose
/// hashes its content must match), skips the others (files a mirror keeps for a grace
/// period), checks the metadata members again (the bundle may have changed since), and
/// checks everything unpacked against the bundle's manifest.
pub fn unpack_targets(
    bundle: &Path,
    into: &Path,
    limits: &BundleLimits,
    metadata: &BTreeMap<String, BundleFile>,
    wanted: &BTreeMap<String, (String, TargetFile)>,
) -> Result<BundleManifest, UpdateError> {
    let mut unpacked: BTreeMap<String, BundleFile> = BTreeMap::new();
    let mut manifest = None;
    let mut in_targets = false;
    for_each_member(bundle, limits, |member, content| {
        let shown = escape(&member.name);
        if member.name == MANIFEST_NAME {
            manifest = Some(read_manifest(bundle, member, content)?);
            return Ok(true);
        }
        if !member.is_target() {
            if in_targets {
                return Err(bundle_error(
                    bundle,
                    format!(
                        "metadata member '{shown}' comes after a target: the bundle was written by an older \
                         trustroot; re-export it with this version"
                    ),
                ));
            }
            let again = copy_member(bundle, member, content, &mut std::io::sink())?;
            if metadata.get(&member.relative) != Some(&again) {
                return Err(bundle_error(bundle, format!("'{shown}' changed while it was imported")));
            }
            unpacked.insert(member.relative.clone(), again);
            return Ok(true);
        }
        in_targets = true;
        let Some((target, info)) = wanted.get(&member.relative) else {
            // Not called for by the verified metadata: never written.
            return Ok(true);
        };
        if member.declared != info.length {
            return Err(bundle_error(
                bundle,
                format!(
                    "'{shown}' is {} bytes, but the verified metadata says {}",
                    member.declared, info.length
                ),
            ));
        }
        let file = write_member(bundle, into, member, content)?;
        if !file_matches(&into.join(&member.relative), target, info)? {
            return Err(bundle_error(
                bundle,
                format!(
                    "'{shown}' does not match the hashes the verified metadata gives target '{}'",
                    escape(target)
                ),
            ));
        }
        unpacked.insert(member.relative.clone(), file);
        Ok(true)
    })?;
    let manifest = manifest
        .ok_or_else(|| bundle_error(bundle, "no manifest: the bundle is truncated or not a trustroot bundle"))?;
    for (path, found) in &unpacked {
        match manifest.files.get(path) {
            None => {
                return Err(bundle_error(
                    bundle,
                    format!("'{}' is in the bundle but not in its manifest", escape(path)),
                ));
            }
            Some(expected) if expected != found => {
                return Err(bundle_error(
                    bundle,
                    format!("'{}' does not match the manifest (length or sha256)", escape(path)),
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(missing) = manifest
        .files
        .keys()
        .find(|path| wanted.contains_key(*path) && !unpacked.contains_key(*path))
    {
        return Err(bundle_error(
            bundle,
            format!("the manifest lists '{}', which the bundle lacks", escape(missing)),
        ));
    }
    Ok(manifest)
}

/// Bytes free for an unprivileged writer on the file system holding `path` (or its
/// nearest existing parent); `None` when it cannot be told.
fn free_space(path: &Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let stat = rustix::fs::statvfs(existing).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Longest GNU long-name or PAX record accepted (names in a bundle are short).
const MAX_NAME_RECORD: u64 = 64 * 1024;

/// Reads a GNU long-name or PAX record (raw mode) after checking its size, and returns
/// the member name it gives (empty for a PAX record without `path`).
fn name_record<R: Read>(bundle: &Path, entry: &mut tar::Entry<'_, R>) -> Result<String, UpdateError> {
    let size = entry.size();
    if size > MAX_NAME_RECORD {
        return Err(bundle_error(
            bundle,
            format!("a name record of {size} bytes, over the limit of {MAX_NAME_RECORD}"),
        ));
    }
    let mut bytes = Vec::new();
    entry
        .take(size)
        .read_to_end(&mut bytes)
        .map_err(|e| bundle_error(bundle, format!("a truncated name record: {}", escape(&e.to_string()))))?;
    if entry.header().entry_type().is_gnu_longname() {
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        return String::from_utf8(bytes).map_err(|_| bundle_error(bundle, "a member name is not UTF-8"));
    }
    let mut name = String::new();
    for record in tar::PaxExtensions::new(&bytes) {
        let record =
            record.map_err(|e| bundle_error(bundle, format!("a damaged PAX record: {}", escape(&e.to_string()))))?;
        match record.key() {
            Ok("path") => {
                name = record
                    .value()
                    .map_err(|_| bundle_error(bundle, "a member name is not UTF-8"))?
                    .to_string();
            }
            Ok("size") => {
                return Err(bundle_error(
                    bundle,
                    "a PAX size record: members that large are not bundle members",
                ));
            }
            _ => {}
        }
    }
    Ok(name)
}

/// Refuses an import whose verified targets (`need` bytes) are over the bundle's total
/// limit, or more than the free space where they are unpacked or where the mirror keeps
/// them: better refused up front than a disk filled half way.
fn check_room(options: &ImportOptions, scratch: &Path, need: u64) -> Result<(), UpdateError> {
    if need > options.bundle_limits.max_total_size {
        return Err(bundle_error(
            &options.bundle,
            format!(
                "its verified targets are {need} bytes, over the limit of {} bytes (raise it with --max-size)",
                options.bundle_limits.max_total_size
            ),
        ));
    }
    // A mirror that exists links what it already holds: only a new one needs room for all.
    let places = if MirrorDir::new(&options.dir).current()?.is_some() {
        vec![scratch]
    } else {
        vec![scratch, options.dir.as_path()]
    };
    for place in places {
        if let Some(free) = free_space(place)
            && free < need
        {
            return Err(bundle_error(
                &options.bundle,
                format!(
                    "its verified targets are {need} bytes, but only {free} bytes are free at {}",
                    place.display()
                ),
            ));
        }
    }
    Ok(())
}

/// What an import needs to know.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub dir: PathBuf,
    pub bundle: PathBuf,
    /// The site's pinned root: the bundle must verify from it.
    pub root: Option<Vec<u8>>,
    pub now: DateTime<Utc>,
    pub limits: Limits,
    pub bundle_limits: BundleLimits,
    /// Where to unpack (default: the system's temporary directory).
    pub scratch: Option<PathBuf>,
}

/// Imports a bundle into the mirror in `dir`: unpack and check it outside the mirror,
/// verify it from the pinned root, then update the mirror with a sync from the unpacked
/// tree (which verifies it again from the trust the mirror holds, refuses a bundle older
/// than the mirror, and switches atomically). On failure the mirror is left as it was.
pub async fn import(options: ImportOptions) -> Result<SyncSummary, UpdateError> {
    let scratch = match &options.scratch {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .map_err(|e| UpdateError::io(std::env::temp_dir(), e))?;
    let tree = scratch.path().join("repository");
    std::fs::create_dir_all(&tree).map_err(|e| UpdateError::io(&tree, e))?;
    let layout = MirrorDir::new(&options.dir);
    let existed = options.dir.exists();
    let had_staging = layout.staging().exists();
    let current = layout.current()?;
    // The metadata comes first and is verified before any target is unpacked: from the
    // root the site pins, or from the root the mirror trusts. Only then does each target
    // have a length to be held to.
    let (trusted_root, from) = match (&options.root, current) {
        (Some(root), _) => (root.clone(), "the pinned root"),
        (None, Some(n)) => {
            let path = layout.state(n).join("client/root.json");
            (
                std::fs::read(&path).map_err(|e| UpdateError::io(&path, e))?,
                "the root the mirror trusts",
            )
        }
        (None, None) => {
            return Err(UpdateError::Config(format!(
                "{} holds no mirror yet: pass --root with the root this site trusts",
                options.dir.display()
            )));
        }
    };
    let metadata = unpack_metadata(&options.bundle, &tree, &options.bundle_limits, &options.limits)?;
    let desired = match crate::verify::verify_metadata(&tree, trusted_root, options.now, options.limits.clone()).await?
    {
        Ok((_, desired)) => desired,
        Err(problem) => {
            return Err(bundle_error(
                &options.bundle,
                format!("does not verify from {from}: {problem}"),
            ));
        }
    };
    let wanted: BTreeMap<String, (String, TargetFile)> = desired
        .files
        .into_iter()
        .filter_map(|(path, want)| match want {
            crate::sync::Wanted::Target { name, info } => Some((path.as_str().to_string(), (name, info))),
            crate::sync::Wanted::Metadata(_) => None,
        })
        .collect();
    check_room(&options, &tree, wanted.values().map(|(_, info)| info.length).sum())?;
    let manifest = unpack_targets(&options.bundle, &tree, &options.bundle_limits, &metadata, &wanted)?;
    // The bundle's origin is not signed by anything: a mirror keeps the origin it has, and
    // only a new mirror takes the bundle's (which later syncs would fetch from).
    let origin = match current {
        Some(n) => Manifest::read(&layout.state(n).join("manifest.json"))?.origin,
        None => manifest.origin.clone(),
    };
    // The mirror directory may be a relative path: the URLs are made from its absolute form.
    let url = |path: &Path| {
        let absolute = std::path::absolute(path).map_err(|e| UpdateError::io(path, e))?;
        Url::from_directory_path(&absolute)
            .map_err(|_| UpdateError::Config(format!("{} is not absolute", path.display())))
    };
    let sync_options = SyncOptions {
        dir: options.dir.clone(),
        from: Some(url(&tree)?),
        targets_from: Some(url(&tree.join("targets"))?),
        root: options.root.clone(),
        jobs: 4,
        keep: chrono::Duration::days(7),
        verify_all: false,
        now: options.now,
        limits: options.limits.clone(),
        fetch: FetchConfig::default(),
        progress: false,
        record_origin: Some(origin),
    };
    let result = sync(sync_options).await;
    if result.is_err() {
        // Leave the mirror as it was: no half-built state from this import.
        if !existed {
            let _ = std::fs::remove_dir_all(&options.dir);
        } else if !had_staging {
            let _ = std::fs::remove_dir_all(layout.staging());
        }
    }
    result
}
