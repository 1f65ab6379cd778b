//! Length and hash pinning: checking bytes against what trusted metadata says of them,
//! in one piece or as a stream (so a large target never has to sit in memory).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256, Sha512};

use crate::error::{Error, ErrorKind, Result};

enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

/// Checks a stream of bytes against a trusted length and trusted hashes.
///
/// Every listed algorithm we support must match; algorithms we do not support are
/// skipped, but at least one supported algorithm must be listed when hashes are given.
pub struct StreamVerifier {
    what: String,
    expected_length: Option<u64>,
    max_length: u64,
    seen: u64,
    hashers: Vec<(String, Vec<u8>, Hasher)>,
}

impl StreamVerifier {
    /// `what` names the file in errors. `length` is the trusted length (exact), or `None`
    /// with `max_length` as the cap. `hashes` maps algorithm names to hex digests.
    pub fn new(
        what: &str,
        length: Option<u64>,
        max_length: u64,
        hashes: Option<&BTreeMap<String, String>>,
    ) -> Result<Self> {
        let mut hashers = Vec::new();
        if let Some(hashes) = hashes {
            for (algorithm, hex_digest) in hashes {
                let hasher = match algorithm.as_str() {
                    "sha256" => Hasher::Sha256(Sha256::new()),
                    "sha512" => Hasher::Sha512(Sha512::new()),
                    _ => continue,
                };
                let expected = hex::decode(hex_digest).map_err(|_| {
                    Error::new(
                        what,
                        ErrorKind::HashMismatch {
                            algorithm: format!("{algorithm} (not hex)"),
                        },
                    )
                })?;
                hashers.push((algorithm.clone(), expected, hasher));
            }
            if hashers.is_empty() {
                return Err(Error::new(
                    what,
                    ErrorKind::NoSupportedHash {
                        algorithms: hashes.keys().cloned().collect(),
                    },
                ));
            }
        }
        Ok(StreamVerifier {
            what: what.to_string(),
            expected_length: length,
            max_length: length.unwrap_or(max_length),
            seen: 0,
            hashers,
        })
    }

    /// The most bytes this verifier will accept.
    pub fn max_length(&self) -> u64 {
        self.max_length
    }

    /// Feeds the next chunk; fails as soon as the data runs past the allowed length.
    pub fn update(&mut self, chunk: &[u8]) -> Result<()> {
        self.seen = self.seen.saturating_add(chunk.len() as u64);
        if self.seen > self.max_length {
            return Err(match self.expected_length {
                Some(expected) => Error::new(
                    &self.what,
                    ErrorKind::LengthMismatch {
                        expected,
                        found: self.seen,
                    },
                ),
                None => Error::new(&self.what, ErrorKind::TooLarge { limit: self.max_length }),
            });
        }
        for (_, _, hasher) in &mut self.hashers {
            match hasher {
                Hasher::Sha256(h) => h.update(chunk),
                Hasher::Sha512(h) => h.update(chunk),
            }
        }
        Ok(())
    }

    /// Checks the final length and every hash.
    pub fn finish(self) -> Result<()> {
        if let Some(expected) = self.expected_length
            && self.seen != expected
        {
            return Err(Error::new(
                &self.what,
                ErrorKind::LengthMismatch {
                    expected,
                    found: self.seen,
                },
            ));
        }
        for (algorithm, expected, hasher) in self.hashers {
            let digest = match hasher {
                Hasher::Sha256(h) => h.finalize().to_vec(),
                Hasher::Sha512(h) => h.finalize().to_vec(),
            };
            if digest != expected {
                return Err(Error::new(&self.what, ErrorKind::HashMismatch { algorithm }));
            }
        }
        Ok(())
    }
}

/// Checks `bytes` against a trusted length and hashes in one go.
pub fn verify_bytes(
    what: &str,
    bytes: &[u8],
    length: Option<u64>,
    hashes: Option<&BTreeMap<String, String>>,
) -> Result<()> {
    let mut verifier = StreamVerifier::new(what, length, u64::MAX, hashes)?;
    verifier.update(bytes)?;
    verifier.finish()
}

/// The sha256 of `bytes`, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The length and sha256 (lowercase hex) of everything `reader` yields, read in chunks so
/// that a large file never sits in memory. The caller opens the reader: core does no I/O
/// of its own.
pub fn sha256_hex_reader(mut reader: impl std::io::Read) -> std::io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut length = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            // A signal arrived mid-read: nothing was read, so read again.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        length = length.saturating_add(n as u64);
        hasher.update(&buffer[..n]);
    }
    Ok((length, hex::encode(hasher.finalize())))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn streaming_sha256_matches_the_one_piece_digest_across_chunks() {
        // Longer than the 64 KiB buffer, and not a multiple of it.
        let bytes: Vec<u8> = (0..200_003u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(sha256_hex_reader(&bytes[..]).unwrap(), (200_003, sha256_hex(&bytes)));
        assert_eq!(
            sha256_hex_reader(&b""[..]).unwrap(),
            (
                0,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_string()
            )
        );
    }
}
