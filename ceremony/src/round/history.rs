//! A round's history as its transcript tells it, for the status page: when it started,
//! what it staged and why, who signed when, when it was published. A transcript is a log
//! written by hand-editable files, so nothing here fails: what cannot be read is said in
//! `problems`, next to the round it concerns.
//!
//! What each staged role changes is the same account `ceremony sign` shows keyholders:
//! [`stage::diff`] of the round's `previous/<role>.json` (the published version it was
//! staged against, checked against the manifest's digest) and its `staged/<role>.json`,
//! both read by [`read_staged`], the reader the round itself opens them with.

use std::path::Path;

use serde::{Deserialize as _, Serialize};
use serde_json::Value;

use super::{MANIFEST, Manifest, TRANSCRIPT, read_staged};
use crate::keys;
use crate::repo::Repo;
use crate::stage;

/// Largest transcript or manifest read for the history (as the transcript module's).
const MAX_FILE: u64 = 64 * 1024 * 1024;
/// Most diff lines kept per role: a page (and its JSON) stays readable when a round adds
/// thousands of targets; the rest are counted in `more_lines`.
pub const MAX_CHANGE_LINES: usize = 200;

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
    /// What each staged role changes against the version before it, in manifest order.
    pub changes: Vec<RoleChanges>,
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

/// What one staged role changes: [`stage::diff`] of its `signed` against the published
/// version the round was staged against (every leaf an addition for a new role).
#[derive(Debug, Clone, Serialize)]
pub struct RoleChanges {
    pub role: String,
    pub version: u64,
    /// The version it was staged against, or `null` for a new role.
    pub previous_version: Option<u64>,
    /// `+ path = value`, `- path = value`, `~ path: old -> new`; at most
    /// [`MAX_CHANGE_LINES`].
    pub lines: Vec<String>,
    /// How many lines were left off after the first [`MAX_CHANGE_LINES`].
    pub more_lines: usize,
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
        changes: Vec::new(),
        signatures: Vec::new(),
        requests: Vec::new(),
        problems: Vec::new(),
    };
    match keys::read_limited(&dir.join(MANIFEST), MAX_FILE)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| format!("{MANIFEST} does not parse: {e}")))
    {
        Ok(manifest) => {
            history.started = text(&manifest, "started");
            changes(dir, &manifest, &mut history);
        }
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

/// Fills `history.changes` from the roles `manifest` names; a manifest that does not name
/// them, or a staged or previous file that cannot be read, is a problem of the round.
fn changes(dir: &Path, manifest: &Value, history: &mut RoundHistory) {
    let manifest = match Manifest::deserialize(manifest) {
        Ok(manifest) => manifest,
        Err(e) => {
            history.problems.push(format!(
                "{MANIFEST} does not list the staged roles, so what they change is unknown: {e}"
            ));
            return;
        }
    };
    for meta in &manifest.roles {
        match read_staged(dir, &history.round, meta) {
            Ok(staged) => {
                let mut lines = stage::diff(
                    staged.previous.as_ref().map(|(value, _)| value),
                    &staged.signed.to_value(),
                );
                let more_lines = lines.len().saturating_sub(MAX_CHANGE_LINES);
                lines.truncate(MAX_CHANGE_LINES);
                history.changes.push(RoleChanges {
                    role: meta.role.clone(),
                    version: meta.version,
                    previous_version: meta.previous_version,
                    lines,
                    more_lines,
                });
            }
            Err(e) => history.problems.push(format!(
                "what {} v{} changes cannot be shown: {e}",
                meta.role, meta.version
            )),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{MAX_CHANGE_LINES, round_history};
    use serde_json::json;

    /// A round in `dir` staging `root` v2 against a published v1 and a new `extra` role.
    fn staged_round(dir: &std::path::Path, root_v2: &serde_json::Value) {
        let write = |path: &str, value: &serde_json::Value| {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, serde_json::to_vec(value).unwrap()).unwrap();
        };
        write(
            "round.json",
            &json!({"trustroot_round": 1, "round": "1", "started": "s", "roles": [
                {"role": "root", "version": 2, "expires": "e", "signed_sha256": "x",
                 "previous_version": 1, "reason": "keys changed"},
                {"role": "extra", "version": 1, "expires": "e", "signed_sha256": "x",
                 "previous_version": null, "reason": "new"}]}),
        );
        write(
            "previous/root.json",
            &json!({"signatures": [], "signed": {"version": 1, "roles": {"root": {"keyids": ["a"], "threshold": 1}}}}),
        );
        write("staged/root.json", &json!({"signatures": [], "signed": root_v2}));
        write(
            "staged/extra.json",
            &json!({"signatures": [], "signed": {"version": 1}}),
        );
    }

    #[test]
    fn a_missing_transcript_and_hand_edited_lines_are_problems_of_their_round_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("round.json"),
            br#"{"trustroot_round":1,"round":"1","started":"2026-01-01T00:00:00Z","roles":[]}"#,
        )
        .unwrap();
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

    #[test]
    fn each_staged_role_is_diffed_against_the_version_it_was_staged_against() {
        let dir = tempfile::tempdir().unwrap();
        let v2 = json!({"version": 2, "roles": {"root": {"keyids": ["a", "d"], "threshold": 2}}});
        staged_round(dir.path(), &v2);
        let none = |_: &str| None;
        let h = round_history(dir.path(), "1".into(), &none);
        assert!(h.problems.iter().all(|p| !p.contains("changes")), "{:?}", h.problems);
        let root = &h.changes[0];
        assert_eq!(
            (root.role.as_str(), root.version, root.previous_version),
            ("root", 2, Some(1))
        );
        assert_eq!(
            root.lines,
            vec![
                "~ roles.root.keyids: [\"a\"] -> [\"a\",\"d\"]",
                "~ roles.root.threshold: 1 -> 2",
                "~ version: 1 -> 2"
            ]
        );
        // A new role: every leaf is an addition.
        assert_eq!(h.changes[1].lines, vec!["+ version = 1"]);
        assert_eq!(h.changes[1].previous_version, None);
    }

    #[test]
    fn long_diffs_are_capped_and_a_hand_broken_staged_file_is_a_problem_of_its_round() {
        let dir = tempfile::tempdir().unwrap();
        let targets: serde_json::Map<String, serde_json::Value> =
            (0..MAX_CHANGE_LINES + 5).map(|i| (format!("t{i}"), json!(i))).collect();
        staged_round(dir.path(), &json!({"version": 2, "targets": targets}));
        let none = |_: &str| None;
        let h = round_history(dir.path(), "1".into(), &none);
        assert_eq!(h.changes[0].lines.len(), MAX_CHANGE_LINES);
        // 205 added targets, the removed `roles` leaves (keyids, threshold), the version.
        assert_eq!(h.changes[0].more_lines, 8);

        std::fs::write(dir.path().join("staged/root.json"), b"{ not json").unwrap();
        std::fs::remove_file(dir.path().join("staged/extra.json")).unwrap();
        let h = round_history(dir.path(), "1".into(), &none);
        assert!(h.changes.is_empty(), "{:?}", h.changes);
        let problems = h.problems.join("\n");
        assert!(problems.contains("what root v2 changes cannot be shown"), "{problems}");
        assert!(problems.contains("what extra v1 changes cannot be shown"), "{problems}");

        std::fs::write(dir.path().join("round.json"), br#"{"started":"s"}"#).unwrap();
        let h = round_history(dir.path(), "1".into(), &none);
        assert!(
            h.problems.join("\n").contains("does not list the staged roles"),
            "{:?}",
            h.problems
        );
    }
}
