//! Export: the served tree of a mirror written into one bundle, metadata first, targets
//! next, the manifest last, optionally zstd-compressed.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::{BundleFile, BundleManifest, ExportSummary, Hashing, MANIFEST_NAME, TREE_PREFIX};
use crate::error::UpdateError;
use crate::layout::{MirrorDir, scan_files};
use crate::manifest::Manifest;
use crate::verify::TrustedTargets;
use trustroot_core::hashes::StreamVerifier;

pub(super) fn header_for(size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mtime(0);
    header
}

/// Writes the served tree of the mirror in `dir` into a bundle at `out` (zstd-compressed
/// when `compress`). The caller verifies the mirror first, leaving the targets' hashes to
/// this pass ([`crate::verify::verify_leaving_targets`]): each target in `trusted` is held
/// to its trusted length and hashes as it is written, and one that differs stops the
/// export, nothing written at `out`.
pub fn export(dir: &Path, out: &Path, compress: bool, trusted: &TrustedTargets) -> Result<ExportSummary, UpdateError> {
    let layout = MirrorDir::new(dir);
    let n = layout
        .current()?
        .ok_or_else(|| UpdateError::NothingMirrored { dir: dir.to_path_buf() })?;
    let state = layout.state(n);
    let tree = state.join("tree");
    let mirror_manifest = Manifest::read_state(&state)?;
    let parent = parent_of(out);
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
        let target = trusted.0.get(&relative);
        let mut reader = Checked {
            inner: Hashing {
                inner: file,
                hasher: Sha256::new(),
                count: 0,
            },
            verifier: match target {
                Some(target) => Some(
                    StreamVerifier::new(
                        &target.name,
                        Some(target.length),
                        target.length,
                        Some(&target.target_file().hashes),
                    )
                    .map_err(|_| UpdateError::ExportedTargetDiffers {
                        path: path.clone(),
                        target: target.name.clone(),
                    })?,
                ),
                None => None,
            },
            differs: false,
        };
        let mut header = header_for(meta.len());
        builder
            .append_data(&mut header, format!("{TREE_PREFIX}{relative}"), &mut reader)
            .map_err(|e| UpdateError::io(&path, e))?;
        let Checked {
            inner: reader,
            verifier,
            differs,
        } = reader;
        if let Some(target) = target
            && (differs || verifier.is_some_and(|v| v.finish().is_err()))
        {
            return Err(UpdateError::ExportedTargetDiffers {
                path,
                target: target.name.clone(),
            });
        }
        if reader.count != meta.len() {
            return Err(UpdateError::ChangedWhileExported { path });
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
    // A failure to encode the manifest is a failure to write the bundle, never an empty one.
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| UpdateError::io(out, e.into()))?;
    let mut header = header_for(manifest_bytes.len() as u64);
    builder
        .append_data(&mut header, MANIFEST_NAME, manifest_bytes.as_slice())
        .map_err(|e| UpdateError::io(out, e))?;
    let tar_file = builder.into_inner().map_err(|e| UpdateError::io(out, e))?;
    seal(tar_file, out, compress)?;
    Ok(ExportSummary {
        bundle: out.display().to_string(),
        files: manifest.files.len() as u64,
        bytes,
        compressed: compress,
    })
}

/// A reader that checks a target's bytes against its trusted length and hashes as they
/// pass (the export's one read of each target).
struct Checked<R> {
    inner: R,
    verifier: Option<StreamVerifier>,
    /// Set once the bytes read went past the trusted length or a chunk was refused.
    differs: bool,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(verifier) = &mut self.verifier
            && verifier.update(&buf[..n]).is_err()
        {
            self.differs = true;
        }
        Ok(n)
    }
}

/// The directory `out` is written in.
pub(super) fn parent_of(out: &Path) -> &Path {
    out.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Writes the finished tar archive `tar_file` to `out` (zstd-compressed when `compress`),
/// through a temporary file beside it: `out` is replaced whole or not at all.
pub(super) fn seal(mut tar_file: std::fs::File, out: &Path, compress: bool) -> Result<(), UpdateError> {
    let parent = parent_of(out);
    let temp = tempfile::Builder::new()
        .prefix(".trustroot-bundle-")
        .tempfile_in(parent)
        .map_err(|e| UpdateError::io(parent, e))?;
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
    Ok(())
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
