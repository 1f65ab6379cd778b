//! Succinct hashed bin delegations (TAP 15): which bin a target path belongs to.

use sha2::{Digest as _, Sha256};

/// Number of bins for `bit_length` (1..=32).
pub fn bin_count(bit_length: u32) -> u64 {
    1u64 << bit_length
}

/// Index of the bin holding `target_path`: the first 4 bytes of sha256(path) as a
/// big-endian u32, shifted right by `32 - bit_length`.
pub fn bin_index(target_path: &str, bit_length: u32) -> u64 {
    let digest = Sha256::digest(target_path.as_bytes());
    let prefix = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    u64::from(prefix) >> (32 - bit_length)
}

/// Name of bin `index`: `{prefix}-{index:0w$x}`, where `w` is the number of hex digits
/// of `2^bit_length - 1`.
pub fn bin_name_for_index(name_prefix: &str, bit_length: u32, index: u64) -> String {
    let width = format!("{:x}", bin_count(bit_length) - 1).len();
    format!("{name_prefix}-{index:0width$x}")
}

/// Name of the bin holding `target_path`.
pub fn bin_name(target_path: &str, bit_length: u32, name_prefix: &str) -> String {
    bin_name_for_index(name_prefix, bit_length, bin_index(target_path, bit_length))
}

/// Every bin name, in index order.
pub fn all_bin_names(name_prefix: &str, bit_length: u32) -> Vec<String> {
    (0..bin_count(bit_length))
        .map(|i| bin_name_for_index(name_prefix, bit_length, i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_padded_to_the_last_bin_width() {
        assert_eq!(bin_name_for_index("bin", 8, 5), "bin-05");
        assert_eq!(bin_name_for_index("bin", 5, 5), "bin-05");
        assert_eq!(bin_name_for_index("bin", 4, 5), "bin-5");
        assert_eq!(bin_name_for_index("bin", 1, 1), "bin-1");
        assert_eq!(bin_name_for_index("bin", 9, 255), "bin-0ff");
        assert_eq!(all_bin_names("b", 2), ["b-0", "b-1", "b-2", "b-3"]);
    }

    #[test]
    fn index_is_the_hash_prefix() {
        // sha256("a") = ca978112...
        assert_eq!(bin_index("a", 8), 0xca);
        assert_eq!(bin_index("a", 4), 0xc);
        assert_eq!(bin_index("a", 32), 0xca97_8112);
        assert_eq!(bin_name("a", 8, "bin"), "bin-ca");
    }
}
