//! Downloading one target: streamed, its length and hashes checked on the way, and moved
//! into place only once verified.

use std::io::Write as _;
use std::path::Path;

use trustroot_core::TargetFile;
use trustroot_core::hashes::StreamVerifier;
use url::Url;

use crate::error::UpdateError;
use crate::fetch::Fetcher;

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
    let mut verifier = StreamVerifier::new(name, Some(target.length), target.length, Some(&target.hashes))?;
    let dir = destination.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".trustroot-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| UpdateError::io(dir, e))?;
    let mut body = fetcher.open(url, target.length).await?;
    while let Some(chunk) = body.chunk().await? {
        verifier.update(&chunk)?;
        temp.write_all(&chunk).map_err(|e| UpdateError::io(temp.path(), e))?;
    }
    verifier.finish()?;
    crate::store::make_readable(temp.as_file(), temp.path())?;
    temp.as_file().sync_all().map_err(|e| UpdateError::io(temp.path(), e))?;
    temp.persist(destination)
        .map_err(|e| UpdateError::io(destination, e.error))?;
    crate::store::sync_dir(dir);
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
