//! Starting a round: by hand (`ceremony start`), or on a schedule (`start --due`). The
//! staged metadata is checked first with the gate's checks that need no online key (the
//! Sigstore payload rules and the lints): errors refuse to open a round unless allowed.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{MANIFEST, Manifest, Round, create, invalid_manifest, list_rounds};
use crate::error::{Operation, Result, RoundError};
use crate::finding::{Finding, has_errors};
use crate::keys;
use crate::precheck;
use crate::repo::Repo;
use crate::stage;

/// Starts a round: stages what changed, after checking it (see [`precheck`]). Errors
/// refuse to open it ([`DueOutcome::Refused`]) unless `allow_findings`; warnings never do.
/// [`DueOutcome::NothingDue`] (with no `next`) when nothing needs signing.
pub fn start(repo: &Repo, id: Option<&str>, now: DateTime<Utc>, allow_findings: bool) -> Result<DueOutcome> {
    let planned = stage::plan(repo, now)?;
    if planned.is_empty() {
        return Ok(DueOutcome::NothingDue { next: Vec::new() });
    }
    open_checked(repo, id, now, &planned, allow_findings)
}

/// What `ceremony start --role` did, and the roles it left waiting.
#[derive(Debug, Clone)]
pub struct Requested {
    pub outcome: DueOutcome,
    /// Roles `ceremony start` alone would stage (their content changed, or they are due)
    /// that were not asked for: not staged, so a later round stages them.
    pub waiting: Vec<Waiting>,
}

/// A role left for a later round, and why it would be staged.
#[derive(Debug, Clone, Serialize)]
pub struct Waiting {
    pub role: String,
    pub reason: String,
}

/// `ceremony start --role ROLE...`: opens a round staging each of `roles` at its next
/// version, changed or not (to renew root before its signing period, say), and nothing
/// else; roles with other waiting changes are listed in [`Requested::waiting`]. A name
/// that is not a role of the policy is refused before anything is read or written.
pub fn start_requested(
    repo: &Repo,
    id: Option<&str>,
    now: DateTime<Utc>,
    allow_findings: bool,
    roles: &[String],
) -> Result<Requested> {
    let requestable = stage::requestable(&repo.policy);
    for role in roles {
        if role == "snapshot" || role == "timestamp" {
            return Err(RoundError::OnlineRoleRequested { role: role.clone() }.into());
        }
        if !requestable.contains(role) {
            return Err(RoundError::UnknownRole {
                role: role.clone(),
                known: requestable.join(", "),
            }
            .into());
        }
    }
    let (planned, waiting): (Vec<_>, Vec<_>) = stage::plan_requested(repo, now, roles)?
        .into_iter()
        .partition(|r| roles.contains(&r.role));
    let waiting = waiting
        .into_iter()
        .map(|r| Waiting {
            role: r.role,
            reason: r.reason,
        })
        .collect();
    let outcome = open_checked(repo, id, now, &planned, allow_findings)?;
    Ok(Requested { outcome, waiting })
}

/// Checks `planned` and opens a round with it, unless the checks found an error and that
/// is not allowed.
fn open_checked(
    repo: &Repo,
    id: Option<&str>,
    now: DateTime<Utc>,
    planned: &[stage::StagedRole],
    allow_findings: bool,
) -> Result<DueOutcome> {
    let staged: Vec<(&str, &crate::targets_role::Signed)> =
        planned.iter().map(|r| (r.role.as_str(), &r.signed)).collect();
    let findings = precheck::staged(repo, &staged, now);
    if has_errors(&findings) && !allow_findings {
        return Ok(DueOutcome::Refused { findings });
    }
    let round = create(repo, id, now, planned)?;
    Ok(DueOutcome::Opened(round, findings))
}

/// What `ceremony start` (and `start --due`) found and did.
#[derive(Debug, Clone)]
pub enum DueOutcome {
    /// A round was opened, with what the checks found in it (warnings, or errors that
    /// were allowed).
    Opened(Round, Vec<Finding>),
    /// The checks found errors in what would be staged: no round was opened.
    Refused { findings: Vec<Finding> },
    /// A round that is not published yet already exists: nothing was opened, so a
    /// scheduled `start --due` never piles up rounds while keyholders are signing.
    AlreadyOpen { round: String, pending: Vec<String> },
    /// No offline role is inside its signing period.
    NothingDue { next: Vec<NextDue> },
}

/// When an offline role enters its signing period.
#[derive(Debug, Clone, Serialize)]
pub struct NextDue {
    pub role: String,
    pub version: u64,
    pub expires: String,
    /// `expires` minus the role's signing period.
    pub due_from: String,
}

/// `ceremony start --due`: opens a round for the offline roles (root, targets, delegated
/// roles, bins) that are inside their signing period, and only those: content changes
/// waiting in `targets/` or the policy are left for a round a person starts. Meant for a
/// scheduler, so it is idempotent: a round still waiting to be published is reported, not
/// duplicated. Staged metadata the checks find errors in opens no round (errors are never
/// allowed here: nobody is there to judge them). Holds the repository lock while it looks
/// and writes.
pub fn start_due(repo: &Repo, id: Option<&str>, now: DateTime<Utc>) -> Result<DueOutcome> {
    let _lock = crate::lock::lock(repo, Operation::ScheduledStart)?;
    if let Some((round, pending)) = unpublished_round(repo)? {
        return Ok(DueOutcome::AlreadyOpen { round, pending });
    }
    let planned: Vec<stage::StagedRole> = stage::plan(repo, now)?.into_iter().filter(|r| r.due).collect();
    if planned.is_empty() {
        return Ok(DueOutcome::NothingDue { next: next_due(repo)? });
    }
    open_checked(repo, id, now, &planned, false)
}

/// The newest round with a staged version that is not published yet, and those roles.
fn unpublished_round(repo: &Repo) -> Result<Option<(String, Vec<String>)>> {
    let ceremonies = repo.ceremonies_dir();
    for id in list_rounds(&ceremonies)?.into_iter().rev() {
        let path = ceremonies.join(&id).join(MANIFEST);
        let bytes = keys::read_limited(&path, 1024 * 1024)?;
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| invalid_manifest(&path, &e))?;
        let mut pending = Vec::new();
        for role in &manifest.roles {
            let published = repo
                .published(&role.role)?
                .and_then(|p| p.envelope.signed.get("version").and_then(Value::as_u64));
            if published.is_none_or(|v| v < role.version) {
                pending.push(format!("{} v{}", role.role, role.version));
            }
        }
        if !pending.is_empty() {
            return Ok(Some((id, pending)));
        }
    }
    Ok(None)
}

/// When each published offline role enters its signing period, soonest first.
fn next_due(repo: &Repo) -> Result<Vec<NextDue>> {
    let mut next = Vec::new();
    for role in std::iter::once("root".to_string()).chain(stage::targets_roles(&repo.policy)) {
        let Some(published) = repo.published(&role)? else {
            continue;
        };
        let signed = &published.envelope.signed;
        let Some(expires) = signed
            .get("expires")
            .and_then(Value::as_str)
            .and_then(trustroot_core::time::parse)
        else {
            continue;
        };
        let signing = chrono::Duration::days(i64::from(repo.policy.periods(&role).signing_days));
        next.push(NextDue {
            version: signed.get("version").and_then(Value::as_u64).unwrap_or(0),
            expires: trustroot_core::time::format(&expires),
            due_from: trustroot_core::time::format(&(expires - signing)),
            role,
        });
    }
    next.sort_by(|a, b| a.due_from.cmp(&b.due_from).then_with(|| a.role.cmp(&b.role)));
    Ok(next)
}
