//! `trustroot online refresh`: the online key keeps timestamp and snapshot fresh between
//! ceremonies. No TUF logic lives here: the refresh is `trustroot_ceremony::online`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Subcommand;
use trustroot_ceremony::{online, publish, repo};

use super::shared::{
    CmdResult, PassphraseArgs, PushArgs, finish, now, online_secret_source, parse_time, push_published,
    refuse_stale_publish, show_push,
};
use crate::output::{self, Format};
use crate::{note, outln};

/// `trustroot online ...`
#[derive(Debug, Subcommand)]
pub enum OnlineCommand {
    /// Re-sign timestamp (and snapshot, when inside its signing period) with the online key
    /// only, and publish like `ceremony publish` does. Does nothing (and says so) when no
    /// online role is inside its signing period, unless --force. Run it from cron.
    #[command(
        after_help = "Exit status: 0 refreshed, or nothing was due (and pushed, with --to); 1 refused (no online key, the wrong key, the lock held, nothing published, --to inside the repository), nothing written, or the push failed: the local tree is refreshed, the store serves what it served, and the same command resumes; 2 usage error. See docs/exit-codes.md."
    )]
    Refresh {
        /// Re-sign timestamp even when it is not inside its signing period.
        #[arg(long)]
        force: bool,
        /// The signing repository (default: the current directory).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// Use this time instead of the clock (RFC 3339), e.g. for tests and rehearsals.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        at: Option<DateTime<Utc>>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Passphrase of the online key, when it is encrypted.
        #[command(flatten)]
        passphrase: PassphraseArgs,
        #[command(flatten)]
        push: PushArgs,
    },
}

/// `trustroot online ...`
pub fn run(command: OnlineCommand) -> ExitCode {
    match command {
        OnlineCommand::Refresh {
            force,
            repo,
            at,
            json,
            passphrase,
            push,
        } => finish(
            Format::json_if(json),
            refresh(&repo, force, at, json, &passphrase, &push),
        ),
    }
}

fn refresh(
    dir: &Path,
    force: bool,
    at: Option<DateTime<Utc>>,
    json: bool,
    passphrase: &PassphraseArgs,
    push: &PushArgs,
) -> CmdResult {
    let repo = repo::Repo::open(dir)?;
    refuse_stale_publish(&repo, at)?;
    // A destination that cannot be pushed to is refused before anything is signed.
    let target = push.checked(&repo)?;
    let now = now(at);
    if let Some(target) = target.as_ref().filter(|t| t.dry_run) {
        // Nothing is signed: the plan is for the tree published now.
        let report = push_published(
            &repo,
            target,
            now,
            &super::shared::rerun("trustroot online refresh", target),
        )?;
        if json {
            return output::json(&serde_json::json!({"push": report}));
        }
        return show_push(&report);
    }
    let signer = publish::online_signer(&repo, &mut online_secret_source(passphrase, &repo.policy.online.signer))?;
    let report = online::refresh(&repo, signer.as_ref(), now, force)?;
    if let Some(recovered) = &report.recovered {
        note!("note: {recovered}");
    }
    // Pushed even when nothing was due: a store behind the local tree (an earlier push that
    // failed) catches up, and an up-to-date one costs two requests.
    let pushed = match &target {
        Some(target) => Some(push_published(
            &repo,
            target,
            now,
            &super::shared::rerun("trustroot online refresh", target),
        )?),
        None => None,
    };
    if json {
        let Some(pushed) = pushed else {
            return output::json(&report);
        };
        let mut value = serde_json::to_value(&report)
            .map_err(|e| output::Failure::io(format!("cannot encode the report as JSON: {e}")))?;
        if let Some(object) = value.as_object_mut() {
            object.insert("push".into(), serde_json::json!(pushed));
        }
        return output::json(&value);
    }
    if report.refreshed.is_empty() {
        outln!("Nothing refreshed: {}", report.reason)?;
        outln!("(--force re-signs timestamp anyway)")?;
        return pushed.as_ref().map_or(Ok(()), show_push);
    }
    let signed: Vec<String> = report
        .roles
        .iter()
        .filter(|r| report.refreshed.contains(&r.role))
        .map(|r| {
            format!(
                "{} v{} (expires {})",
                r.role,
                r.version,
                trustroot_core::time::format(&r.expires)
            )
        })
        .collect();
    let dest = trustroot_ceremony::pubdir::PublishDir::new(&repo.policy, &repo.root);
    outln!(
        "Refreshed {} ({}). Published state {}; serve {}",
        signed.join(", "),
        report.reason,
        report.state.unwrap_or(0),
        dest.served().display()
    )?;
    pushed.as_ref().map_or(Ok(()), show_push)
}
