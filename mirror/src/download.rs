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
    download(fetcher, url, name, target, destination).await
}

/// [`download_verified`] without the syncs, for a directory made durable as a whole later
/// (a mirror's `staging/`), and written straight under its name: nothing serves
/// `staging/`, and a file an interrupted sync left there is re-hashed before it is kept
/// (one temporary name, one rename and one mode change fewer per target). A download that
/// fails removes what it wrote.
pub(crate) async fn download_unsynced(
    fetcher: &Fetcher,
    url: &Url,
    name: &str,
    target: &TargetFile,
    destination: &Path,
) -> Result<u64, UpdateError> {
    let mut verifier = StreamVerifier::new(name, Some(target.length), target.length, Some(&target.hashes))?;
    let written = async {
        let file = create_readable(destination)?;
        let mut body = fetcher.open(url, target.length).await?;
        let mut out = std::io::BufWriter::with_capacity(buffer_for(target), file);
        while let Some(chunk) = body.chunk().await? {
            verifier.update(&chunk)?;
            out.write_all(&chunk).map_err(|e| UpdateError::io(destination, e))?;
        }
        out.flush().map_err(|e| UpdateError::io(destination, e))?;
        verifier.finish()?;
        Ok(target.length)
    }
    .await;
    if written.is_err() {
        let _ = std::fs::remove_file(destination);
    }
    written
}

/// A new file at `destination`, readable by all as every served file is, replacing a
/// leftover but never written through a symlink planted there.
fn create_readable(destination: &Path) -> Result<std::fs::File, UpdateError> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let create = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(destination)
    };
    let file = match create() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            trustroot_store::remove_if_exists(destination)?;
            create()
        }
        other => other,
    }
    .map_err(|e| UpdateError::io(destination, e))?;
    // The mode asked for is cut by the process's umask.
    trustroot_store::make_readable(&file, destination)?;
    Ok(file)
}

/// The write buffer for `target`: its length, up to [`WRITE_BUFFER`]. A buffer of the full
/// size for a 1 KiB target is an allocation the size of a memory mapping, made and
/// unmapped once per target.
fn buffer_for(target: &TargetFile) -> usize {
    usize::try_from(target.length).map_or(WRITE_BUFFER, |length| length.clamp(1, WRITE_BUFFER))
}

/// [`download_unsynced`] from a private local directory this process filled (an import's
/// unpacked bundle, see `SyncOptions::adopt_local_targets`): a file there that has the
/// trusted length and hashes is renamed into `destination`, neither written nor created
/// again. Anything else (another scheme, a file that does not verify, another file
/// system) takes the download path, which copies, verifies and names what is wrong.
pub(crate) async fn adopt_unsynced(
    fetcher: &Fetcher,
    url: &Url,
    name: &str,
    target: &TargetFile,
    destination: &Path,
) -> Result<u64, UpdateError> {
    if let ("file", Ok(source)) = (url.scheme(), url.to_file_path()) {
        let (name_owned, target_owned, destination_owned) =
            (name.to_string(), target.clone(), destination.to_path_buf());
        let moved =
            tokio::task::spawn_blocking(move || adopt_file(&source, &name_owned, &target_owned, &destination_owned))
                .await
                .unwrap_or(false);
        if moved {
            return Ok(target.length);
        }
    }
    download_unsynced(fetcher, url, name, target, destination).await
}

/// Moves `source` to `destination` when it is a plain file with the trusted length and
/// hashes, made readable by all as every served file is; false (nothing moved) otherwise.
fn adopt_file(source: &Path, name: &str, target: &TargetFile, destination: &Path) -> bool {
    // A plain file only (the unpacking never makes anything else), checked whole before
    // it is moved.
    if !std::fs::symlink_metadata(source).is_ok_and(|meta| meta.is_file()) {
        return false;
    }
    let Ok(file) = std::fs::File::open(source) else {
        return false;
    };
    file_matches(source, name, target).unwrap_or(false)
        && trustroot_store::make_readable(&file, source).is_ok()
        && std::fs::rename(source, destination).is_ok()
}

async fn download(
    fetcher: &Fetcher,
    url: &Url,
    name: &str,
    target: &TargetFile,
    destination: &Path,
) -> Result<u64, UpdateError> {
    let mut verifier = StreamVerifier::new(name, Some(target.length), target.length, Some(&target.hashes))?;
    let dir = destination.parent().unwrap_or(Path::new("."));
    let mut temp = trustroot_store::temp_file_in(dir)?;
    let mut body = fetcher.open(url, target.length).await?;
    // Network chunks are small (often 16 KiB): written in blocks, in fewer system calls.
    let mut out = std::io::BufWriter::with_capacity(buffer_for(target), temp.as_file_mut());
    while let Some(chunk) = body.chunk().await? {
        verifier.update(&chunk)?;
        out.write_all(&chunk).map_err(|e| UpdateError::io(destination, e))?;
    }
    out.flush().map_err(|e| UpdateError::io(destination, e))?;
    drop(out);
    verifier.finish()?;
    trustroot_store::persist(temp, destination, Durability::Synced)?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn target_of(bytes: &[u8]) -> TargetFile {
        TargetFile {
            length: bytes.len() as u64,
            hashes: [("sha256".to_string(), trustroot_core::hashes::sha256_hex(bytes))].into(),
            custom: None,
            unknown: Default::default(),
        }
    }

    /// What an import adopts from its unpacked bundle must be the file the metadata lists,
    /// a plain file, and once moved readable by a web server like every other served file.
    #[test]
    fn only_a_plain_file_with_the_trusted_hashes_is_adopted_and_it_is_made_readable() {
        let dir = tempfile::tempdir().unwrap();
        let (source, destination) = (dir.path().join("unpacked"), dir.path().join("served"));
        std::fs::write(&source, b"hello\n").unwrap();
        std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o600)).unwrap();

        assert!(!adopt_file(&source, "hello", &target_of(b"other\n"), &destination));
        assert!(
            source.exists() && !destination.exists(),
            "a file that does not verify stays"
        );

        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&source, &link).unwrap();
        assert!(!adopt_file(&link, "hello", &target_of(b"hello\n"), &destination));
        assert!(!destination.exists(), "a symlink is never adopted");

        assert!(adopt_file(&source, "hello", &target_of(b"hello\n"), &destination));
        assert!(!source.exists());
        assert_eq!(std::fs::read(&destination).unwrap(), b"hello\n");
        let mode = std::fs::metadata(&destination).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }
}
