//! The `trustroot` binary: clap definitions, output and exit codes. No TUF logic lives here.

mod cmd;
mod input;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cmd::{ceremony, client, docs, expiry, export, init, inspect, key, mirror, online, quickstart, sigstore};

/// TUF trust roots for keyholders, operators and air-gapped sites.
#[derive(Debug, Parser)]
#[command(name = "trustroot", version, about, long_about = None, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The exit codes in one line; docs/exit-codes.md has every command's.
const EXIT_CODES: &str = "Exit status: 0 success; 1 failure, or a problem found (a check that fails); 2 usage error. \
Checks (`ceremony verify`, `mirror verify`, `sigstore ... validate`): 1 problems found, 2 could not run. \
`expiry`: 1 a role is inside its window (default: its signing period), 2 error, 3 expired. `client`: 0 or 1 only. \
Every command's: docs/exit-codes.md";

#[derive(Debug, Subcommand)]
enum Command {
    /// A verifying TUF client: init from a root, refresh metadata, download targets.
    ///
    /// Speaks the client protocol of the TUF conformance suite: exit 0 on success, 1 on
    /// any failure.
    #[command(after_help = "Exit status: 0 success; 1 any failure, usage errors included. See docs/exit-codes.md.")]
    Client(client::ClientArgs),
    /// Show a metadata file: role, version, expiry, keys and owners, thresholds, and
    /// which signatures verify.
    #[command(
        after_help = "Exit status: 0 the file was read (even when a threshold is not met: see the report); 1 it could not be read or parsed; 2 usage error. See docs/exit-codes.md."
    )]
    Inspect(inspect::InspectArgs),
    /// Verified mirrors for air-gapped sites: sync, verify, status, export, import, serve.
    #[command(subcommand)]
    Mirror(mirror::MirrorCommand),
    /// Lay down a new signing repository (policy, keys/, targets/, metadata/), empty or
    /// taken over from a tuf-on-ci repository or a published one (--import).
    Init(init::InitArgs),
    /// Write the signing repository in another tool's layout (tuf-on-ci's), open round
    /// included, so a team can go back at any time.
    #[command(
        after_help = "Exit status: 0 written; 1 refused (OUT not empty, a target file missing), nothing written; 2 usage error. See docs/exit-codes.md."
    )]
    Export(export::ExportArgs),
    /// Generate, show and register keys.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// Signing rounds: stage, request, sign, collect signatures, status.
    #[command(subcommand)]
    Ceremony(ceremony::CeremonyCommand),
    /// Every role's version, expiry and time left, for a signing repository, a published
    /// tree or a mirror.
    ///
    /// For alerting: exit 0 when no role is inside its window (default: the role's own
    /// signing period), 1 when one is, 3 when something has expired, 2 on an error.
    #[command(
        after_help = "Exit status: 0 no role is inside its window; 1 one is (default window: the role's signing period, no longer 0); 3 something has expired; 2 an error (usage errors included). See docs/exit-codes.md."
    )]
    Expiry(expiry::ExpiryArgs),
    /// The online key's work: keep timestamp and snapshot fresh between ceremonies.
    #[command(subcommand)]
    Online(online::OnlineCommand),
    /// The whole life of a trust root, offline, in DIR: keys, a 2-of-3 ceremony from
    /// request files, a publish, a mirror served on 127.0.0.1, a client update, an online
    /// refresh, a root rotation the client follows. Each step prints the command it runs.
    Quickstart(quickstart::QuickstartArgs),
    /// Sigstore payloads: trusted_root.json and signing_config.
    ///
    /// Input files larger than 64 MiB are refused.
    Sigstore {
        #[command(subcommand)]
        command: sigstore::SigstoreCommand,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions(docs::CompletionsArgs),
    /// Write man pages for trustroot and every subcommand into a directory (trustroot.1,
    /// trustroot-ceremony-start.1, ...).
    Man(docs::ManArgs),
    /// Documentation generated from these definitions (for trustroot's maintainers).
    #[command(subcommand, hide = true)]
    Docs(docs::DocsCommand),
}

/// A closed standard output (`trustroot expiry | head -1`) is an error every write returns
/// and the output layer handles: the command ends quietly with 141, what a shell shows for
/// a program killed by SIGPIPE. Rust ignores SIGPIPE, so nothing is killed and nothing
/// panics.
fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    match cli.command {
        Command::Client(args) => client::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Mirror(command) => mirror::run(command),
        Command::Init(args) => init::run(args),
        Command::Export(args) => export::run(args),
        Command::Key(command) => key::run(command),
        Command::Ceremony(command) => ceremony::run(command),
        Command::Expiry(args) => expiry::run(args),
        Command::Online(command) => online::run(command),
        Command::Quickstart(args) => quickstart::run(args),
        Command::Sigstore { command } => sigstore::run(command),
        Command::Completions(args) => docs::run_completions(args),
        Command::Man(args) => docs::run_man(args),
        Command::Docs(command) => docs::run_docs(command),
    }
}

/// Help, the version, or a usage error from the argument parser. Under `--json` a usage
/// error is a JSON error on standard output like any other; its exit code is 2 (1 for
/// `client`, whose protocol allows only 0 and 1).
fn usage_error(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        // clap writes help in colour on a terminal; a reader gone away (`| head`) is fine.
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    // As the OS gave them: an argument that is not UTF-8 is still an argument.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let code = if args.first().is_some_and(|a| a == "client") {
        1
    } else {
        2
    };
    // `--json` anywhere before a `--` asks for JSON, even when the arguments around it are wrong.
    let json = args.iter().take_while(|a| *a != "--").any(|a| a == "--json");
    if !json {
        let _ = error.print();
        return ExitCode::from(code);
    }
    // clap's first line is the sentence ("error: unexpected argument '--x' found"); the
    // rest is usage and tips for a terminal.
    let rendered = error.render().to_string();
    let message = rendered
        .lines()
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ");
    let failure = output::Failure::usage(message).with_hint_text("run the command with --help for its arguments");
    output::finish(output::Format::Json, Err(failure), code)
}
