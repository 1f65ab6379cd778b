//! Reading a file named on the command line, with a size cap: `inspect /dev/zero` or a
//! runaway file must fail with a sentence, not exhaust memory.

use std::io::Read as _;
use std::path::Path;

use crate::output::Failure;

/// The most read from one input file: 64 MiB, the largest metadata core accepts
/// ([`trustroot_core::Limits`]' `max_targets_size`). Sigstore payloads are far smaller.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Reads `path` whole, refusing it (with an error naming it) when it is larger than
/// [`MAX_INPUT_BYTES`]. Works on pipes and devices too: it stops reading at the cap.
pub fn read_bounded(path: &Path) -> Result<Vec<u8>, Failure> {
    let cannot_read = |e: std::io::Error| Failure::io(format!("{}: cannot read: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(Failure::usage(format!(
            "{}: refused: larger than {} MiB, the most trustroot reads from one input file",
            path.display(),
            MAX_INPUT_BYTES / (1024 * 1024)
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_the_largest_metadata_core_accepts() {
        assert_eq!(MAX_INPUT_BYTES, trustroot_core::Limits::default().max_targets_size);
    }
}
