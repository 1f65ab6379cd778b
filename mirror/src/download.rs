//! Downloading one target: streamed, its length and hashes checked on the way, and moved
//! into place only once verified.

use std::io::Write as _;
use std::path::Path;

use trustroot_core::TargetFile;
use trustroot_core::hashes::StreamVerifier;
use trustroot_store::Durability;
use url::Url;

use crate::error::UpdateError;
use crate::fetch::Fetcher;

/// Bytes of a download buffered before they are written: memory per download stays
/// bounded whatever the size of the target.
const WRITE_BUFFER: usize = 256 * 1024;

/// Downloads `url` into `destination`, which is replaced only if the bytes match the
/// trusted length and hashes of `target` (named `name` in errors). Memory use does not
/// depend on the target's size. Returns the number of bytes written.
pub async fn download_verified(
    fetcher: &Fetcher,
    url: &Url,
    name: &str,
    target: &TargetFile,
    destination: &Path,
) -> Result<u64, UpdateError> {
    download(fetcher, url, name, target, destination, Durability::Synced).await
}

/// [`download_verified`] without the syncs, for a directory made durable as a whole later
/// (a mirror's `staging/`).
pub(crate) async fn download_unsynced(
    fetcher: &Fetcher,
    url: &Url,
    name: &str,
    target: &TargetFile,
    destination: &Path,
) -> Result<u64, UpdateError> {
    download(fetcher, url, name, target, destination, Durability::Deferred).await
}

async fn download(
    fetcher: &Fetcher,
    url: &Url,
    name: &str,
    target: &TargetFile,
    destination: &Path,
    durability: Durability,
) -> Result<u64, UpdateError> {
    let mut verifier = StreamVerifier::new(name, Some(target.length), target.length, Some(&target.hashes))?;
    let dir = destination.parent().unwrap_or(Path::new("."));
    let mut temp = trustroot_store::temp_file_in(dir)?;
    let mut body = fetcher.open(url, target.length).await?;
    // Network chunks are small (often 16 KiB): written in blocks, in fewer system calls.
    let mut out = std::io::BufWriter::with_capacity(WRITE_BUFFER, temp.as_file_mut());
    while let Some(chunk) = body.chunk().await? {
        verifier.update(&chunk)?;
        out.write_all(&chunk).map_err(|e| UpdateError::io(destination, e))?;
    }
    out.flush().map_err(|e| UpdateError::io(destination, e))?;
    drop(out);
    verifier.finish()?;
    trustroot_store::persist(temp, destination, durability)?;
    Ok(target.length)
}

/// True when the file at `path` has the trusted length and hashes of `target` (named
/// `name`). Streamed, so a large target is never held in memory.
pub fn file_matches(path: &Path, name: &str, target: &TargetFile) -> Result<bool, UpdateError> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).map_err(|e| UpdateError::io(path, e))?;
    let Ok(mut verifier) = StreamVerifier::new(name, Some(target.length), target.length, Some(&target.hashes)) else {
        return Ok(false);
    };
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buffer).map_err(|e| UpdateError::io(path, e))?;
        if n == 0 {
            return Ok(verifier.finish().is_ok());
        }
        if verifier.update(&buffer[..n]).is_err() {
            return Ok(false);
        }
    }
}
