//! Documentation generated from the clap definitions: shell completions (`trustroot
//! completions`), man pages (`trustroot man`) and the Markdown CLI reference
//! (`trustroot docs cli-reference`, checked in as docs/cli-reference.md).
//!
//! All three walk the same `clap::Command` tree, so they cannot drift from `--help`.

mod reference;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Command, CommandFactory as _, Subcommand};
use clap_complete::{Generator as _, Shell};
use reference::cli_reference;

use super::shared::finish;
use crate::note;
use crate::output::{self, Failure, Format};

/// How to regenerate the reference (printed by the test when it is out of date).
pub const REGENERATE: &str = "cargo run -q -p trustroot -- docs cli-reference --out docs/cli-reference.md";

/// Arguments of `trustroot completions`.
#[derive(Debug, Args)]
#[command(after_help = "\
Install, for example:
  bash:  trustroot completions bash > ~/.local/share/bash-completion/completions/trustroot
  zsh:   trustroot completions zsh > ~/.zfunc/_trustroot   (with fpath+=~/.zfunc before compinit)
  fish:  trustroot completions fish > ~/.config/fish/completions/trustroot.fish")]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `trustroot man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Directory to write the pages into (created if missing). Existing pages of the same
    /// names are replaced.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `trustroot docs ...` (hidden: for maintainers of trustroot itself).
#[derive(Debug, Subcommand)]
pub enum DocsCommand {
    /// Print the Markdown CLI reference (docs/cli-reference.md) generated from the clap
    /// definitions.
    CliReference {
        /// Write it to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// The command tree as users see it: hidden subcommands (`docs`) left out, so they appear
/// in no completion script, man page or reference.
pub fn public_command() -> Command {
    let full = crate::Cli::command();
    let visible: Vec<Command> = full.get_subcommands().filter(|c| !c.is_hide_set()).cloned().collect();
    // `Command` cannot drop a subcommand, so the root is rebuilt with the visible ones.
    let mut cmd = rebuild_root(&full, visible);
    cmd.set_bin_name("trustroot");
    cmd.build();
    cmd
}

fn rebuild_root(full: &Command, visible: Vec<Command>) -> Command {
    let mut root = Command::new("trustroot")
        .subcommand_required(full.is_subcommand_required_set())
        .arg_required_else_help(full.is_arg_required_else_help_set())
        .args(full.get_arguments().filter(|a| !is_builtin(a)).cloned())
        .subcommands(visible);
    if full.get_version().is_some() {
        root = root.version(env!("CARGO_PKG_VERSION"));
    }
    if let Some(about) = full.get_about() {
        root = root.about(about.clone());
    }
    if let Some(long) = full.get_long_about() {
        root = root.long_about(long.clone());
    }
    if let Some(after) = full.get_after_help() {
        root = root.after_help(after.clone());
    }
    if let Some(after) = full.get_after_long_help() {
        root = root.after_long_help(after.clone());
    }
    root
}

fn is_builtin(arg: &clap::Arg) -> bool {
    matches!(arg.get_id().as_str(), "help" | "version")
}

/// The commands worth a page or a section: `cmd` and every visible subcommand, depth first,
/// without clap's generated `help` subcommands.
fn walk(cmd: &Command) -> Vec<&Command> {
    let mut out = vec![cmd];
    for sub in visible_subcommands(cmd) {
        out.extend(walk(sub));
    }
    out
}

fn visible_subcommands(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

/// `trustroot completions SHELL`
pub fn run_completions(args: CompletionsArgs) -> ExitCode {
    let cmd = public_command();
    let mut script = Vec::new();
    let outcome = args
        .shell
        .try_generate(&cmd, &mut script)
        .map_err(|e| Failure::io(format!("cannot generate the {} completion script: {e}", args.shell)))
        .and_then(|()| output::text(&String::from_utf8_lossy(&script)));
    finish(Format::Text, outcome)
}

/// The file name of a command's man page: trustroot.1, trustroot-ceremony-start.1, ...
fn page_name(cmd: &Command) -> String {
    format!("{}.1", cmd.get_display_name().unwrap_or_else(|| cmd.get_name()))
}

/// Renders every page: (file name, roff text).
pub fn man_pages() -> Result<Vec<(String, Vec<u8>)>, String> {
    let root = public_command();
    let source = format!("trustroot {}", env!("CARGO_PKG_VERSION"));
    let commands = walk(&root);
    let mut pages = Vec::new();
    for (i, cmd) in commands.iter().enumerate() {
        let name = page_name(cmd);
        let man = clap_mangen::Man::new((*cmd).clone())
            .source(source.clone())
            .manual("trustroot manual");
        let mut text = Vec::new();
        man.render(&mut text)
            .map_err(|e| format!("cannot render the man page {name}: {e}"))?;
        // clap_mangen titles the after-help text EXTRA; here it holds exit status and notes.
        let mut text = String::from_utf8_lossy(&text).replace("\n.SH EXTRA\n", "\n.SH NOTES\n");
        let parent = commands[..i]
            .iter()
            .rev()
            .find(|p| visible_subcommands(p).any(|c| c.get_bin_name() == cmd.get_bin_name()));
        let mut see_also = Vec::new();
        for page in parent
            .iter()
            .map(|p| p.get_display_name().unwrap_or_else(|| p.get_name()))
        {
            see_also.push(clap_mangen::roff::bold(page));
            see_also.push(clap_mangen::roff::roman("(1), "));
        }
        see_also.push(clap_mangen::roff::roman(
            "docs/exit-codes.md and docs/cli-reference.md in the trustroot sources",
        ));
        let mut roff = clap_mangen::roff::Roff::new();
        roff.control("SH", ["SEE ALSO"]).text(see_also);
        text.push_str(&roff.to_roff());
        pages.push((name, text.into_bytes()));
    }
    Ok(pages)
}

/// `trustroot man --out DIR`
pub fn run_man(args: ManArgs) -> ExitCode {
    let outcome = write_man(&args.out).map(|written| {
        // The pages are written: a reader of the list that went away (`| head`) is no
        // reason to fail.
        for path in &written {
            crate::say!("{}", path.display());
        }
        note!(
            "Wrote {} man pages to {}. Read one with `man -l {}`, or add the directory to MANPATH.",
            written.len(),
            args.out.display(),
            args.out.join("trustroot.1").display()
        );
    });
    finish(Format::Text, outcome)
}

fn write_man(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let pages = man_pages().map_err(Failure::io)?;
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::io(format!("{}: cannot create the directory: {e}", dir.display()))
            .with_hint_text("choose another --out")
    })?;
    let mut written = Vec::new();
    for (name, text) in pages {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| {
            Failure::io(format!("{}: cannot write: {e}", path.display())).with_hint_text("choose another --out")
        })?;
        written.push(path);
    }
    Ok(written)
}

/// `trustroot docs ...`
pub fn run_docs(command: DocsCommand) -> ExitCode {
    match command {
        DocsCommand::CliReference { out } => {
            let text = cli_reference();
            let outcome = match out {
                None => output::text(&text),
                Some(path) => std::fs::write(&path, text)
                    .map(|()| note!("Wrote {}", path.display()))
                    .map_err(|e| Failure::io(format!("{}: cannot write: {e}", path.display()))),
            };
            finish(Format::Text, outcome)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rebuilt root shows users exactly what the real one does: `--help`, usage and
    /// version are the same (the hidden `docs` is in neither).
    #[test]
    fn public_command_matches_the_real_root() {
        let mut real = crate::Cli::command();
        real.set_bin_name("trustroot");
        real.build();
        let mut public = public_command();
        assert_eq!(
            public.render_long_help().to_string(),
            real.render_long_help().to_string()
        );
        assert_eq!(public.render_usage().to_string(), real.render_usage().to_string());
        assert_eq!(public.render_version(), real.render_version());
        assert!(real.find_subcommand("docs").is_some());
        assert!(public.find_subcommand("docs").is_none());
        let names = |c: &Command| {
            visible_subcommands(c)
                .map(|s| s.get_name().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&public), names(&real));
    }
}
