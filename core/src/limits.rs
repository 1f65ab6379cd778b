//! Every size and count bound in one place.

/// Bounds that keep hostile repositories from exhausting memory, disk or time.
///
/// Sizes apply to metadata whose length the trusted metadata does not pin (a root, the
/// timestamp, and snapshot or targets when their METAFILE has no `length`); a pinned length
/// is always enforced exactly. The defaults fit Sigstore's repositories with room to spare:
/// their roots are about 20 KB and their timestamps 1 KB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest root metadata accepted, in bytes.
    pub max_root_size: u64,
    /// Largest timestamp metadata accepted, in bytes.
    pub max_timestamp_size: u64,
    /// Largest snapshot metadata accepted when timestamp does not give its length.
    pub max_snapshot_size: u64,
    /// Largest targets or delegated targets metadata accepted when snapshot does not give
    /// its length. Large enough for a targets role of 100,000 targets.
    pub max_targets_size: u64,
    /// Most root versions accepted in one update (as python-tuf, go-tuf and tuf-js).
    pub max_root_rotations: u32,
    /// Most targets roles visited while searching for one target (cycles are skipped
    /// besides).
    pub max_delegations: usize,
    /// Most signature entries one metadata file may carry.
    pub max_signatures: usize,
    /// Most targets roles a mirror loads from one repository (hashed bins included).
    pub max_mirrored_roles: usize,
    /// Largest Sigstore bundle one keyless signature entry may carry, in bytes of compact
    /// JSON. Real ones are 5 to 12 KB (with a signed timestamp).
    pub max_bundle_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_root_size: 1024 * 1024,
            max_timestamp_size: 64 * 1024,
            max_snapshot_size: 16 * 1024 * 1024,
            max_targets_size: 64 * 1024 * 1024,
            max_root_rotations: 256,
            max_delegations: 32,
            max_signatures: 1024,
            max_mirrored_roles: 65_536,
            max_bundle_size: 64 * 1024,
        }
    }
}
