//! `trustroot init`: lay down a new signing repository.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use trustroot_ceremony::repo;

use super::shared::finish;

/// Arguments of `trustroot init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory of the new signing repository (created; must be empty if it exists).
    pub dir: PathBuf,
}

pub fn run(args: InitArgs) -> ExitCode {
    finish((|| {
        repo::init(&args.dir)?;
        println!("Created a signing repository in {}", args.dir.display());
        println!("Next: edit trustroot.toml, register keys with `trustroot key add`, then `trustroot ceremony start`.");
        Ok(())
    })())
}
