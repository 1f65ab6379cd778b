//! Whether a file on disk is the target a role lists: its length and every hash listed,
//! checked with core's [`StreamVerifier`] as the file is read (a large target is never
//! held in memory).

use std::io::Read as _;
use std::path::Path;

use trustroot_core::hashes::StreamVerifier;
use trustroot_core::metadata::TargetFile;

use crate::error::{Error, IoOp, Result};

/// Reads `path` against `target` (named `what` in messages): `Ok(Err(..))` is core's
/// refusal (another length, another hash), `Err` a file that could not be read.
pub(crate) fn check(path: &Path, what: &str, target: &TargetFile) -> Result<Result<(), trustroot_core::Error>> {
    let mut verifier = match StreamVerifier::new(what, Some(target.length), target.length, Some(&target.hashes)) {
        Ok(verifier) => verifier,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, IoOp::Read, e))?;
    // One byte past the length is enough to tell a longer file.
    let mut reader = file.take(target.length.saturating_add(1));
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut buffer).map_err(|e| Error::io(path, IoOp::Read, e))?;
        if n == 0 {
            return Ok(verifier.finish());
        }
        if let Err(refusal) = verifier.update(&buffer[..n]) {
            return Ok(Err(refusal));
        }
    }
}
