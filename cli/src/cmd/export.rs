//! `trustroot export`: the repository in another tool's layout, so a team can go back. The
//! export itself is `trustroot_ceremony::export`.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use trustroot_ceremony::{export, repo};

use super::shared::{CmdResult, finish, now, parse_time};
use crate::outln;
use crate::output::{self, Format};

/// The layouts `export` writes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportLayout {
    /// tuf-on-ci's source layout: metadata/<role>.json, metadata/root_history/N.root.json,
    /// targets/<path>.
    TufOnCi,
}

/// Arguments of `trustroot export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Directory to write (created; must be empty if it exists).
    pub out: PathBuf,
    /// The layout to write.
    #[arg(long, value_enum)]
    pub layout: ExportLayout,
    /// The signing repository (default: the current directory).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The open round to export as tuf-on-ci's signing event would hold it (default: the
    /// newest round, when it is not published yet).
    #[arg(long, value_name = "ID")]
    pub round: Option<String>,
    /// Use this time instead of the clock when checking the round's signatures (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<DateTime<Utc>>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ExportArgs) -> ExitCode {
    finish(Format::json_if(args.json), run_export(&args))
}

fn run_export(args: &ExportArgs) -> CmdResult {
    let repo = repo::Repo::open(&args.repo)?;
    let ExportLayout::TufOnCi = args.layout;
    let report = export::tuf_on_ci(&repo, &args.out, args.round.as_deref(), now(args.at))?;
    if args.json {
        return output::json(&report);
    }
    outln!("Exported {} in tuf-on-ci's layout.", args.out.display())?;
    if let Some(round) = &report.round {
        outln!("  round {round}, as tuf-on-ci's signing event holds it:")?;
    }
    for role in &report.roles {
        let state = if role.staged { "staged" } else { "published" };
        let waiting = if role.placeholders > 0 {
            format!(
                ", {} \"sig\": \"\" placeholder(s) for keyholders who have not signed",
                role.placeholders
            )
        } else {
            String::new()
        };
        outln!(
            "  {} v{} ({state}): {} signature(s){waiting}",
            role.role,
            role.version,
            role.signatures
        )?;
    }
    outln!("  {} target files", report.targets)?;
    for warning in &report.warnings {
        outln!("  warning: {warning}")?;
    }
    Ok(())
}
