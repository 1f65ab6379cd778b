//! `trustroot sigstore ...`: build, validate, edit and diff Sigstore payloads
//! (`trusted_root.json` and `signing_config`). The logic lives in
//! `trustroot_targets::sigstore`; this module parses arguments, reads and writes files,
//! prints, and picks the exit code.
//!
//! Exit codes: 0 success; 1 a validation error (or, with `--strict`, a warning), an edit
//! refused, or a file that cannot be read or written; 2 a usage error. The checks
//! (`validate`) keep 1 for problems found: one that could not run (a file that cannot be
//! read) exits 2.

mod common;
mod signing_config;
mod trusted_root;

use std::process::ExitCode;

use clap::Subcommand;

use crate::output::Format;

/// Commands for Sigstore's trusted_root.json and signing_config.
#[derive(Debug, Subcommand)]
pub enum SigstoreCommand {
    /// trusted_root.json: validate, build from PEM files, edit, extract, diff.
    #[command(subcommand)]
    TrustedRoot(trusted_root::TrustedRootCommand),
    /// signing_config (v0.1 and v0.2): validate, build, edit, diff.
    #[command(subcommand)]
    SigningConfig(signing_config::SigningConfigCommand),
}

pub fn run(command: SigstoreCommand) -> ExitCode {
    let format = Format::json_if(match &command {
        SigstoreCommand::TrustedRoot(c) => c.json(),
        SigstoreCommand::SigningConfig(c) => c.json(),
    });
    let check = match &command {
        SigstoreCommand::TrustedRoot(c) => c.is_check(),
        SigstoreCommand::SigningConfig(c) => c.is_check(),
    };
    let outcome = match command {
        SigstoreCommand::TrustedRoot(c) => trusted_root::run(c),
        SigstoreCommand::SigningConfig(c) => signing_config::run(c),
    };
    crate::output::finish(format, outcome, if check { 2 } else { 1 })
}
