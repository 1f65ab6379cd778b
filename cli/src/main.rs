//! The `trustroot` binary: clap definitions, output and exit codes. No TUF logic lives here.

mod sigstore;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// TUF trust roots for keyholders, operators and air-gapped sites.
#[derive(Debug, Parser)]
#[command(name = "trustroot", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sigstore payloads: trusted_root.json and signing_config.
    Sigstore {
        #[command(subcommand)]
        command: sigstore::SigstoreCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Sigstore { command } => sigstore::run(command),
    }
}
