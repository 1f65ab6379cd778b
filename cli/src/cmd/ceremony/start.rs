//! `trustroot ceremony start`: a round opened from the policy and `targets/`, or why none
//! was (waiting, nothing due, refused by its checks), in text or JSON.

use trustroot_ceremony::gate::Severity;
use trustroot_ceremony::repo;
use trustroot_ceremony::round;

use super::super::shared::{CmdResult, now};
use super::RepoArgs;
use crate::outln;
use crate::output::{self, Failure};

pub fn start(
    id: Option<&str>,
    due: bool,
    roles: &[String],
    allow_findings: bool,
    json: bool,
    args: &RepoArgs,
) -> CmdResult {
    let now = now(args.at);
    let repo = repo::Repo::open(&args.repo)?;
    let mut waiting = Vec::new();
    let outcome = if due {
        round::start_due(&repo, id, now)?
    } else if !roles.is_empty() {
        let requested = round::start_requested(&repo, id, now, allow_findings, roles)?;
        waiting = requested.waiting;
        requested.outcome
    } else {
        round::start(&repo, id, now, allow_findings)?
    };
    if let round::DueOutcome::Refused { findings } = &outcome {
        let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
        let failure = Failure::local_state(format!(
            "{errors} error(s) in what the round would stage (the payload rules and lints the publish gate runs); no round was opened"
        ))
        .with_hint_text(if due {
            "fix them (each finding names its fix), then run it again"
        } else {
            "fix them (each finding names its fix), or pass --allow-findings to open the round anyway"
        });
        if json {
            return Err(output::json_failed(&start_json(&outcome, &waiting), failure));
        }
        for f in findings {
            outln!("{f}")?;
        }
        return Err(failure);
    }
    if json {
        return output::json(&start_json(&outcome, &waiting));
    }
    match outcome {
        round::DueOutcome::Refused { .. } => Ok(()),
        round::DueOutcome::Opened(round, findings) => {
            for f in &findings {
                outln!("{f}")?;
            }
            outln!("Started round {} in {}", round.id, round.dir.display())?;
            for role in &round.roles {
                outln!(
                    "  staged {} v{} (expires {}): {}",
                    role.meta.role,
                    role.meta.version,
                    role.meta.expires,
                    role.meta.reason
                )?;
            }
            if !waiting.is_empty() {
                outln!("Not staged (only the roles given with --role are; a later round stages these):")?;
                for role in &waiting {
                    outln!("  {}: {}", role.role, role.reason)?;
                }
            }
            outln!("Next: `trustroot ceremony request --out request.json` and hand it to the keyholders.")
        }
        round::DueOutcome::AlreadyOpen { round, pending } => {
            outln!(
                "Round {round} is still waiting to be published ({}); no new round opened.",
                pending.join(", ")
            )?;
            outln!(
                "Next: collect its signatures (`trustroot ceremony status --round {round}`) and publish it, or remove ceremonies/{round}/ if it is abandoned."
            )
        }
        round::DueOutcome::NothingDue { next } if due => {
            outln!("Nothing is due: no offline role is inside its signing period.")?;
            for role in &next {
                outln!(
                    "  {} v{} expires {}; due from {}",
                    role.role,
                    role.version,
                    role.expires,
                    role.due_from
                )?;
            }
            Ok(())
        }
        round::DueOutcome::NothingDue { .. } => outln!(
            "Nothing to stage: every role matches the policy and the targets/ tree, and none is within its signing period."
        ),
    }
}

/// `ceremony start --json`: `action` is `opened`, `waiting` or `nothing-due`; with
/// --role, `not_staged` lists the roles with changes that were not staged.
fn start_json(outcome: &round::DueOutcome, waiting: &[round::Waiting]) -> serde_json::Value {
    let mut value = start_outcome_json(outcome);
    if !waiting.is_empty()
        && let Some(object) = value.as_object_mut()
    {
        object.insert("not_staged".into(), serde_json::json!(waiting));
    }
    value
}

fn start_outcome_json(outcome: &round::DueOutcome) -> serde_json::Value {
    match outcome {
        round::DueOutcome::Opened(round, findings) => serde_json::json!({
            "action": "opened",
            "round": round.id,
            "roles": round.roles.iter().map(|r| serde_json::json!({
                "role": r.meta.role,
                "version": r.meta.version,
                "expires": r.meta.expires,
                "reason": r.meta.reason,
            })).collect::<Vec<_>>(),
            "findings": findings,
        }),
        round::DueOutcome::Refused { findings } => serde_json::json!({
            "action": "refused",
            "findings": findings,
        }),
        round::DueOutcome::AlreadyOpen { round, pending } => serde_json::json!({
            "action": "waiting",
            "round": round,
            "pending": pending,
        }),
        round::DueOutcome::NothingDue { next } => serde_json::json!({
            "action": "nothing-due",
            "next": next,
        }),
    }
}
