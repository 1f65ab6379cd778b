//! The repository a round would publish: every role's envelope (the round's newly signed
//! roles, the online-signed snapshot and timestamp, and the published roles it keeps), the
//! whole root history, and every target with the file its bytes come from. Built by
//! [`crate::assemble`], checked by [`crate::gate`], written by [`crate::pubdir`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use trustroot_core::{Envelope, Limits};

/// One target of the candidate repository.
#[derive(Debug, Clone)]
pub struct CandidateTarget {
    /// The role that lists it.
    pub role: String,
    pub length: u64,
    pub sha256: String,
    /// Where its bytes are (the signing repository's `targets/`, or the published tree).
    pub source: Option<PathBuf>,
}

/// The repository a round would publish.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub round: String,
    /// Role name -> envelope bytes, for every role published after this round.
    pub metadata: BTreeMap<String, Vec<u8>>,
    /// Role name -> version, for every role in `metadata`.
    pub versions: BTreeMap<String, u64>,
    /// The roles this publish writes a new version of.
    pub new_roles: Vec<String>,
    /// Every root version, by version.
    pub root_history: BTreeMap<u64, Vec<u8>>,
    /// The published metadata this publish follows (`metadata/`), by role.
    pub previous: BTreeMap<String, Vec<u8>>,
    /// Every target listed by a role of the candidate, by path.
    pub targets: BTreeMap<String, CandidateTarget>,
    /// Signature files left out, and why.
    pub left_out: Vec<String>,
}

impl Candidate {
    /// The envelope of `role`, parsed.
    pub fn envelope(&self, role: &str) -> Option<Envelope> {
        let bytes = self.metadata.get(role)?;
        Envelope::parse(role, bytes, &Limits::default()).ok()
    }

    /// The version a client starting from the published repository holds (its root).
    pub fn published_root_version(&self) -> Option<u64> {
        let bytes = self.previous.get("root")?;
        Envelope::parse("root", bytes, &Limits::default()).ok()?.version()
    }
}
