//! The gate's checks that need no online key and no signature, run on staged metadata
//! before anyone signs it: the Sigstore payload rules on the payloads it lists, and the
//! lints (key IDs, spec_version, expiry horizons). `ceremony start` refuses on an error
//! (unless allowed); `ceremony request` carries the findings to every keyholder.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::targets_role::Signed;

use crate::candidate::{Candidate, CandidateTarget};
use crate::finding::{Check, Finding};
use crate::gate;
use crate::repo::Repo;

/// Findings for the staged `signed` values of `roles` (role name, `signed`), their
/// payloads read from the repository's `targets/`.
pub fn staged(repo: &Repo, roles: &[(&str, &Signed)], now: DateTime<Utc>) -> Vec<Finding> {
    let mut candidate = Candidate {
        round: String::new(),
        metadata: BTreeMap::new(),
        versions: BTreeMap::new(),
        new_roles: Vec::new(),
        root_history: BTreeMap::new(),
        previous: BTreeMap::new(),
        targets: BTreeMap::new(),
        left_out: Vec::new(),
    };
    let mut findings = Vec::new();
    for (role, signed) in roles {
        let version = signed.version().unwrap_or(0);
        // The lints read the envelope's bytes, written from the compact form (an envelope
        // that cannot be written has no bytes, and the lints find nothing to read).
        let bytes = signed.metadata_json(role, &[]).unwrap_or_default();
        candidate.metadata.insert((*role).to_string(), bytes);
        candidate.versions.insert((*role).to_string(), version);
        // Every role here is staged anew: the lints judge it as a role this round writes.
        candidate.new_roles.push((*role).to_string());
        for (path, length, sha256) in signed.listed_targets(|path| gate::payload_kind(path).is_some()) {
            let source = repo.root.join("targets").join(path);
            // The findings must be of the bytes staged: a file changed since is reported.
            let same = crate::keys::read_limited(&source, length)
                .is_ok_and(|bytes| trustroot_core::hashes::sha256_hex(&bytes) == sha256);
            if !same {
                findings.push(Finding::error(
                    Check::Payload,
                    role,
                    &format!("targets/{path}"),
                    format!(
                        "targets/{} is not the file {role} v{version} lists (sha256 {}): it changed since it was staged, so its payload rules were not run",
                        trustroot_core::display::escape(path),
                        crate::keys::short_id(&sha256)
                    ),
                ));
                continue;
            }
            candidate.targets.insert(
                path.to_string(),
                CandidateTarget {
                    role: (*role).to_string(),
                    length,
                    sha256,
                    source: Some(source),
                },
            );
        }
    }
    findings.extend(gate::lint(&candidate, &repo.policy, now));
    // Judged at the start, over each role's signing period, as the gate will at publish.
    findings.extend(gate::payloads_at(&candidate, Some((&repo.policy, now))));
    findings
}
