//! A round's history as its transcript tells it, for the status page: when it started,
//! what it staged and why, who signed when, when it was published. A transcript is a log
//! written by hand-editable files, so nothing here fails: what cannot be read is said in
//! `problems`, next to the round it concerns.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::{MANIFEST, TRANSCRIPT};
use crate::keys;
use crate::repo::Repo;

/// Largest transcript or manifest read for the history (as the transcript module's).
const MAX_FILE: u64 = 64 * 1024 * 1024;

/// One round, as its files tell it.
#[derive(Debug, Clone, Serialize)]
pub struct RoundHistory {
    pub round: String,
    /// `started` of its `round.json`.
    pub started: Option<String>,
    /// When it was published (its last `publish` entry), or `null`.
    pub published_at: Option<String>,
    /// What it staged: role, version and why.
    pub staged: Vec<StagedEntry>,
    /// Signatures brought in, in transcript order.
    pub signatures: Vec<SignatureEntry>,
    /// Signing requests written.
    pub requests: Vec<RequestEntry>,
    /// What could not be read (a missing transcript, lines that do not parse...).
    pub problems: Vec<String>,
}

/// A `stage` entry.
#[derive(Debug, Clone, Serialize)]
pub struct StagedEntry {
    pub role: String,
    pub version: Option<u64>,
    /// Why it was staged (the transcript's `detail`).
    pub detail: Option<String>,
    pub at: Option<String>,
}

/// An `add-signature` entry.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureEntry {
    pub role: String,
    pub version: Option<u64>,
    pub keyid: String,
    /// The policy's name for the key, when it still has it.
    pub key_name: Option<String>,
    pub at: Option<String>,
}

/// A `request` entry.
#[derive(Debug, Clone, Serialize)]
pub struct RequestEntry {
    pub request_sha256: Option<String>,
    pub at: Option<String>,
}

/// The history of every round of `repo`, oldest first; `name_of` names key IDs.
pub fn history(repo: &Repo, name_of: &dyn Fn(&str) -> Option<String>) -> crate::Result<Vec<RoundHistory>> {
    Ok(super::list(repo)?
        .into_iter()
        .map(|id| {
            let dir = repo.ceremonies_dir().join(&id);
            round_history(&dir, id, name_of)
        })
        .collect())
}

fn text(entry: &Value, field: &str) -> Option<String> {
    entry.get(field).and_then(Value::as_str).map(str::to_string)
}

/// The history of the round in `dir`.
fn round_history(dir: &Path, round: String, name_of: &dyn Fn(&str) -> Option<String>) -> RoundHistory {
    let mut history = RoundHistory {
        round,
        started: None,
        published_at: None,
        staged: Vec::new(),
        signatures: Vec::new(),
        requests: Vec::new(),
        problems: Vec::new(),
    };
    match keys::read_limited(&dir.join(MANIFEST), MAX_FILE)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| format!("{MANIFEST} does not parse: {e}")))
    {
        Ok(manifest) => history.started = text(&manifest, "started"),
        Err(problem) => history.problems.push(problem),
    }
    let bytes = match keys::read_limited(&dir.join(TRANSCRIPT), MAX_FILE) {
        Ok(bytes) => bytes,
        Err(e) => {
            history.problems.push(format!("the transcript cannot be read: {e}"));
            return history;
        }
    };
    let mut unreadable = 0usize;
    for line in bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
    {
        let Ok(entry) = serde_json::from_slice::<Value>(line) else {
            unreadable += 1;
            continue;
        };
        let at = text(&entry, "at");
        let version = entry.get("version").and_then(Value::as_u64);
        match entry.get("action").and_then(Value::as_str) {
            Some("stage") => history.staged.push(StagedEntry {
                role: text(&entry, "role").unwrap_or_default(),
                version,
                detail: text(&entry, "detail"),
                at,
            }),
            Some("add-signature") => {
                let keyid = text(&entry, "keyid").unwrap_or_default();
                history.signatures.push(SignatureEntry {
                    role: text(&entry, "role").unwrap_or_default(),
                    version,
                    key_name: name_of(&keyid),
                    keyid,
                    at,
                });
            }
            Some("request") => history.requests.push(RequestEntry {
                request_sha256: text(&entry, "request_sha256"),
                at,
            }),
            Some("publish") => history.published_at = at,
            _ => unreadable += 1,
        }
    }
    if unreadable > 0 {
        history.problems.push(format!(
            "{unreadable} line(s) of {TRANSCRIPT} are not entries trustroot writes (edited by hand?)"
        ));
    }
    history
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::round_history;

    #[test]
    fn a_missing_transcript_and_hand_edited_lines_are_problems_of_their_round_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("round.json"), br#"{"started":"2026-01-01T00:00:00Z"}"#).unwrap();
        let none = |_: &str| None;
        let h = round_history(dir.path(), "1".into(), &none);
        assert_eq!(h.started.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert!(h.problems[0].contains("transcript cannot be read"), "{:?}", h.problems);

        std::fs::write(
            dir.path().join("transcript.jsonl"),
            "{\"action\":\"stage\",\"role\":\"root\",\"version\":2,\"detail\":\"keys changed\"}\nhello\n{\"action\":\"add-signature\",\"role\":\"root\",\"keyid\":\"ab\",\"at\":\"t\"}\n{\"action\":\"publish\",\"at\":\"p\"}\n",
        )
        .unwrap();
        let named = |id: &str| (id == "ab").then(|| "alice".to_string());
        let h = round_history(dir.path(), "1".into(), &named);
        assert_eq!(h.staged[0].detail.as_deref(), Some("keys changed"));
        assert_eq!(h.signatures[0].key_name.as_deref(), Some("alice"));
        assert_eq!(h.published_at.as_deref(), Some("p"));
        assert_eq!(h.problems.len(), 1, "{:?}", h.problems);
    }
}
