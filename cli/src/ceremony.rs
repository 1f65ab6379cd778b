//! `trustroot init`, `trustroot key ...` and `trustroot ceremony ...`: the signing side.
//! (Filled in by the key ceremonies work.)

use std::process::ExitCode;

use clap::{Args, Subcommand};

/// Arguments of `trustroot init`.
#[derive(Debug, Args)]
pub struct InitArgs {}

/// `trustroot key ...`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {}

/// `trustroot ceremony ...`
#[derive(Debug, Subcommand)]
pub enum CeremonyCommand {}

pub fn run_init(_args: InitArgs) -> ExitCode {
    eprintln!("error: `trustroot init` is not implemented yet");
    ExitCode::from(1)
}

pub fn run_key(command: KeyCommand) -> ExitCode {
    match command {}
}

pub fn run_ceremony(command: CeremonyCommand) -> ExitCode {
    match command {}
}
