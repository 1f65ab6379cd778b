//! The `trustroot` binary: clap definitions, output and exit codes. No TUF logic lives here.

mod ceremony;
mod client;
mod inspect;
mod keepalive;
mod mirror;
mod mirror_serve;
mod quickstart;
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
    /// A verifying TUF client: init from a root, refresh metadata, download targets.
    ///
    /// Speaks the client protocol of the TUF conformance suite: exit 0 on success, 1 on
    /// any failure.
    Client(client::ClientArgs),
    /// Show a metadata file: role, version, expiry, keys and owners, thresholds, and
    /// which signatures verify.
    Inspect(inspect::InspectArgs),
    /// Verified mirrors for air-gapped sites: sync, verify, status.
    #[command(subcommand)]
    Mirror(mirror::MirrorCommand),
    /// Lay down a new signing repository (policy, keys/, targets/, metadata/).
    Init(ceremony::InitArgs),
    /// Generate, show and register keys.
    #[command(subcommand)]
    Key(ceremony::KeyCommand),
    /// Signing rounds: stage, request, sign, collect signatures, status.
    #[command(subcommand)]
    Ceremony(ceremony::CeremonyCommand),
    /// Every role's version, expiry and time left, for a signing repository, a published
    /// tree or a mirror. Exit 0: nothing expires within --within; 1: something does;
    /// 3: something has expired; 2: an error.
    Expiry(keepalive::ExpiryArgs),
    /// The online key's work: keep timestamp and snapshot fresh between ceremonies.
    #[command(subcommand)]
    Online(keepalive::OnlineCommand),
    /// The whole life of a trust root, offline, in DIR: keys, a 2-of-3 ceremony from
    /// request files, a publish, a mirror served on 127.0.0.1, a client update, an online
    /// refresh, a root rotation the client follows. Each step prints the command it runs.
    Quickstart(quickstart::QuickstartArgs),
    /// Sigstore payloads: trusted_root.json and signing_config.
    Sigstore {
        #[command(subcommand)]
        command: sigstore::SigstoreCommand,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            use clap::error::ErrorKind;
            let _ = error.print();
            return match error.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => ExitCode::SUCCESS,
                // The client protocol allows only 0 and 1.
                _ if std::env::args().nth(1).as_deref() == Some("client") => ExitCode::from(1),
                _ => ExitCode::from(2),
            };
        }
    };
    match cli.command {
        Command::Client(args) => client::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Mirror(command) => mirror::run(command),
        Command::Init(args) => ceremony::run_init(args),
        Command::Key(command) => ceremony::run_key(command),
        Command::Ceremony(command) => ceremony::run_ceremony(command),
        Command::Expiry(args) => keepalive::run_expiry(args),
        Command::Online(command) => keepalive::run_online(command),
        Command::Quickstart(args) => quickstart::run(args),
        Command::Sigstore { command } => sigstore::run(command),
    }
}
