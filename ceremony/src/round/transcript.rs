//! What a round's transcript says happened to it: whether it was published, and when.

use serde_json::Value;

use super::{Round, TRANSCRIPT};
use crate::error::{Result, RoundError};
use crate::keys;

/// Largest transcript read.
const MAX_TRANSCRIPT: u64 = 64 * 1024 * 1024;

impl Round {
    /// When this round was published (its transcript logs a `publish` entry), or `None`.
    pub fn published_at(&self) -> Result<Option<String>> {
        let bytes = keys::read_limited(&self.dir.join(TRANSCRIPT), MAX_TRANSCRIPT)?;
        Ok(published_in(&bytes))
    }

    /// Refuses a round that is already published: a new request, signature or publish of
    /// it would only confuse whoever reads the result.
    pub fn ensure_unpublished(&self) -> Result<()> {
        match self.published_at()? {
            Some(at) => Err(RoundError::AlreadyPublished {
                round: self.id.clone(),
                at,
            }
            .into()),
            None => Ok(()),
        }
    }
}

/// The time of the last `publish` entry of a transcript. Lines that do not parse are
/// skipped: the transcript is a log, not a source of truth for anything else.
fn published_in(transcript: &[u8]) -> Option<String> {
    transcript
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
        .filter(|entry| entry.get("action").and_then(Value::as_str) == Some("publish"))
        .filter_map(|entry| entry.get("at").and_then(Value::as_str).map(str::to_string))
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::published_in;

    #[test]
    fn the_last_publish_entry_of_a_transcript_says_when_the_round_was_published() {
        let log = b"{\"action\":\"stage\",\"at\":\"2026-01-01T00:00:00Z\"}\nnot json\n{\"action\":\"publish\",\"at\":\"2026-01-02T00:00:00Z\"}\n";
        assert_eq!(published_in(log).as_deref(), Some("2026-01-02T00:00:00Z"));
        assert_eq!(published_in(b"{\"action\":\"stage\",\"at\":\"x\"}\n"), None);
    }
}
