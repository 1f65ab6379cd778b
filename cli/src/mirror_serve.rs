//! `trustroot mirror serve`: serve a mirror over HTTP. (Filled in by the serve work.)

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The mirror directory (as given to `mirror sync`).
    pub dir: PathBuf,
}

pub fn run(_args: ServeArgs) -> ExitCode {
    eprintln!("error: `trustroot mirror serve` is not implemented yet");
    ExitCode::from(1)
}
