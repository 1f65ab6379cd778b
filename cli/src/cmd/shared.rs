//! What the signing-side groups share (`init`, `key`, `ceremony`, `expiry`, `online`):
//! passphrase arguments and prompting, `--at` times, `--json` printing, the exit code.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Args;
use trustroot_ceremony::keys;
use trustroot_ceremony::{Error, Result};

pub type Zeroizing<T> = trustroot_ceremony::keys::Zeroizing<T>;

/// Where a passphrase comes from when it is not typed at a prompt.
#[derive(Debug, Args, Clone, Default)]
pub struct PassphraseArgs {
    /// Read the passphrase from this environment variable (for automation).
    #[arg(long, value_name = "VAR", conflicts_with = "passphrase_file")]
    pub passphrase_env: Option<String>,
    /// Read the passphrase from the first line of this file (for automation).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

pub fn finish(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

pub fn now(at: Option<&str>) -> Result<DateTime<Utc>> {
    match at {
        Some(text) => trustroot_core::time::parse(text).ok_or_else(|| {
            Error::refused(format!(
                "--at '{text}' is not an RFC 3339 time (e.g. 2030-01-01T00:00:00Z)"
            ))
        }),
        None => Ok(Utc::now()),
    }
}

/// A passphrase from --passphrase-env / --passphrase-file, or typed at the terminal.
pub fn passphrase_source(args: &PassphraseArgs, what: String) -> impl FnMut() -> Result<Zeroizing<String>> {
    let args = args.clone();
    move || {
        if let Some(var) = &args.passphrase_env {
            return keys::passphrase_from_env(var);
        }
        if let Some(file) = &args.passphrase_file {
            return keys::passphrase_from_file(file);
        }
        if !std::io::stdin().is_terminal() {
            return Err(Error::refused(format!(
                "{what} is encrypted and there is no terminal to ask for its passphrase: use --passphrase-env VAR or --passphrase-file FILE"
            )));
        }
        rpassword::prompt_password(format!("Passphrase for {what}: "))
            .map(Zeroizing::new)
            .map_err(|e| Error::refused(format!("cannot read the passphrase: {e}")))
    }
}

/// Prints `value` as pretty JSON on standard output (the shape of every `--json`).
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::refused(format!("cannot write JSON: {e}")))?;
    println!("{text}");
    Ok(())
}
