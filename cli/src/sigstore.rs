//! `trustroot sigstore ...`: build, validate, edit and diff Sigstore payloads.
//! (Filled in by the Sigstore payloads work.)

use std::process::ExitCode;

use clap::Subcommand;

/// Commands for Sigstore's trusted_root.json and signing_config.
#[derive(Debug, Subcommand)]
pub enum SigstoreCommand {}

pub fn run(command: SigstoreCommand) -> ExitCode {
    match command {}
}
