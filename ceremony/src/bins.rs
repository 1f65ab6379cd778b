//! Hashed bins: a delegated role's targets spread over `N` roles by the sha256 of each
//! target path, so that a change to one target re-signs one small bin, not one huge role.
//!
//! Bins are named and filled as TAP 15 (`succinct_roles`) says: `N = 2^bit_length` bins
//! named `<role>-<index in hex, zero-padded>`, a target going to the bin whose index is the
//! first `bit_length` bits of `sha256(path)`. They are *written* as ordinary delegations
//! with `path_hash_prefixes` (spec 1.0 hashed bins), because tough 0.24 cannot parse
//! `succinct_roles` and rejects the whole targets role (and so would sigstore-rs and every
//! tough-based client); python-tuf, tuf-js and tough all read `path_hash_prefixes`. Since the
//! names and the assignment are TAP 15's, moving to `succinct_roles` later re-signs only the
//! delegating role.

use sha2::{Digest as _, Sha256};

/// The most bins a role may have.
pub const MAX_BINS: u32 = 4096;

fn bit_length(bins: u32) -> u32 {
    bins.trailing_zeros()
}

fn suffix_width(bins: u32) -> usize {
    format!("{:x}", bins.saturating_sub(1)).len()
}

/// The name of bin `index` of `role`.
pub fn bin_name(role: &str, bins: u32, index: u32) -> String {
    format!("{role}-{index:0width$x}", width = suffix_width(bins))
}

/// Every bin name of `role`, in order.
pub fn bin_names(role: &str, bins: u32) -> impl Iterator<Item = String> + '_ {
    (0..bins).map(move |i| bin_name(role, bins, i))
}

/// The index of the bin responsible for `target`.
pub fn bin_index(target: &str, bins: u32) -> u32 {
    let digest: [u8; 32] = Sha256::digest(target.as_bytes()).into();
    let first = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    let bits = bit_length(bins);
    if bits == 0 { 0 } else { first >> (32 - bits) }
}

/// The name of the bin responsible for `target`.
pub fn bin_for_target(role: &str, bins: u32, target: &str) -> String {
    bin_name(role, bins, bin_index(target, bins))
}

/// The `path_hash_prefixes` of bin `index`: the hex prefixes (of one length, enough hex
/// digits to hold `bit_length` bits) whose first `bit_length` bits are `index`.
pub fn hash_prefixes(bins: u32, index: u32) -> Vec<String> {
    let bits = bit_length(bins);
    let digits = bits.div_ceil(4).max(1);
    let spare = digits * 4 - bits;
    let first = index << spare;
    (first..first + (1 << spare))
        .map(|p| format!("{p:0width$x}", width = digits as usize))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_and_prefixes_follow_tap_15() {
        assert_eq!(bin_name("bins", 16, 10), "bins-a");
        assert_eq!(bin_name("bins", 256, 10), "bins-0a");
        assert_eq!(bin_name("bins", 32, 31), "bins-1f");
        assert_eq!(hash_prefixes(16, 10), vec!["a"]);
        assert_eq!(hash_prefixes(2, 1), vec!["8", "9", "a", "b", "c", "d", "e", "f"]);
        assert_eq!(
            hash_prefixes(32, 1),
            vec!["08", "09", "0a", "0b", "0c", "0d", "0e", "0f"]
        );
        assert_eq!(bin_names("x", 4).collect::<Vec<_>>(), ["x-0", "x-1", "x-2", "x-3"]);
    }

    #[test]
    fn every_target_lands_in_the_bin_whose_prefixes_match_and_as_the_core_finds_it() {
        for bins in [2u32, 8, 16, 64, 4096] {
            let succinct = trustroot_core::metadata::SuccinctRoles {
                keyids: vec![],
                threshold: 1,
                bit_length: bins.trailing_zeros(),
                name_prefix: "r".into(),
                unknown: Default::default(),
            };
            for i in 0..200 {
                let target = format!("dir/file-{i}.txt");
                let index = bin_index(&target, bins);
                let digest = hex::encode(Sha256::digest(target.as_bytes()));
                assert!(
                    hash_prefixes(bins, index)
                        .iter()
                        .any(|p| digest.starts_with(p.as_str()))
                );
                let matching = (0..bins)
                    .filter(|j| hash_prefixes(bins, *j).iter().any(|p| digest.starts_with(p.as_str())))
                    .count();
                assert_eq!(matching, 1);
                assert_eq!(succinct.bin_for_target(&target), bin_for_target("r", bins, &target));
            }
        }
    }
}
