//! `trustroot online refresh`: the online key keeps timestamp and snapshot fresh between
//! ceremonies. No TUF logic lives here: the refresh is `trustroot_ceremony::online`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use trustroot_ceremony::{Error, Result, online, publish, repo};

use super::shared::{PassphraseArgs, now, passphrase_source};

/// `trustroot online ...`
#[derive(Debug, Subcommand)]
pub enum OnlineCommand {
    /// Re-sign timestamp (and snapshot, when inside its signing period) with the online key
    /// only, and publish like `ceremony publish` does. Does nothing (and says so) when no
    /// online role is inside its signing period, unless --force. Run it from cron.
    #[command(
        after_help = "Exit status: 0 refreshed, or nothing was due; 1 refused (no online key, the wrong key, the lock held, nothing published), nothing written; 2 usage error. See docs/exit-codes.md."
    )]
    Refresh {
        /// Re-sign timestamp even when it is not inside its signing period.
        #[arg(long)]
        force: bool,
        /// The signing repository (default: the current directory).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        /// Use this time instead of the clock (RFC 3339), e.g. for tests and rehearsals.
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Passphrase of the online key, when it is encrypted.
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
}

/// `trustroot online ...`
pub fn run(command: OnlineCommand) -> ExitCode {
    let result = match command {
        OnlineCommand::Refresh {
            force,
            repo,
            at,
            json,
            passphrase,
        } => refresh(&repo, force, at.as_deref(), json, &passphrase),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn refresh(dir: &Path, force: bool, at: Option<&str>, json: bool, passphrase: &PassphraseArgs) -> Result<()> {
    let now = now(at)?;
    let repo = repo::Repo::open(dir)?;
    let signer = publish::online_signer(
        &repo,
        &mut passphrase_source(passphrase, format!("the online key ({})", repo.policy.online.signer)),
    )?;
    let report = online::refresh(&repo, &signer, now, force)?;
    if let Some(recovered) = &report.recovered {
        eprintln!("note: {recovered}");
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| Error::refused(e.to_string()))?
        );
        return Ok(());
    }
    if report.refreshed.is_empty() {
        println!("Nothing refreshed: {}", report.reason);
        return Ok(());
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
    println!(
        "Refreshed {} ({}). Published state {}; serve {}",
        signed.join(", "),
        report.reason,
        report.state.unwrap_or(0),
        dest.served().display()
    );
    Ok(())
}
