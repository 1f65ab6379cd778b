//! `trustroot init`: lay down a new signing repository.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use trustroot_ceremony::repo;

use super::shared::finish;
use crate::outln;
use crate::output::Format;

/// Arguments of `trustroot init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory of the new signing repository (created; must be empty if it exists).
    pub dir: PathBuf,
}

pub fn run(args: InitArgs) -> ExitCode {
    finish(
        Format::Text,
        (|| {
            repo::init(&args.dir)?;
            outln!("Created a signing repository in {}", args.dir.display())?;
            outln!(
                "Next: edit trustroot.toml, register keys with `trustroot key add`, then `trustroot ceremony start`."
            )
        })(),
    )
}
