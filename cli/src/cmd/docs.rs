//! Documentation generated from the clap definitions: shell completions (`trustroot
//! completions`), man pages (`trustroot man`) and the Markdown CLI reference
//! (`trustroot docs cli-reference`, checked in as docs/cli-reference.md).
//!
//! All three walk the same `clap::Command` tree, so they cannot drift from `--help`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Command, CommandFactory as _, Subcommand};
use clap_complete::{Generator as _, Shell};

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
    if let Err(e) = args.shell.try_generate(&cmd, &mut script) {
        eprintln!("error: cannot generate the {} completion script: {e}", args.shell);
        return ExitCode::from(1);
    }
    write_stdout(&script)
}

fn write_stdout(bytes: &[u8]) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            ExitCode::from(1)
        }
    }
}

/// The file name of a command's man page: trustroot.1, trustroot-ceremony-start.1, ...
fn page_name(cmd: &Command) -> String {
    format!("{}.1", cmd.get_display_name().unwrap_or_else(|| cmd.get_name()))
}

/// Renders every page: (file name, roff text).
pub fn man_pages() -> Result<Vec<(String, Vec<u8>)>, String> {
    let root = public_command();
    let source = format!("trustroot {}", root.get_version().unwrap_or_default());
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
    match write_man(&args.out) {
        Ok(written) => {
            let mut list = String::new();
            for path in &written {
                list.push_str(&format!("{}\n", path.display()));
            }
            // A closed pipe (`| head`) is no reason to fail: the pages are written.
            let _ = std::io::stdout().lock().write_all(list.as_bytes());
            eprintln!(
                "Wrote {} man pages to {}. Read one with `man -l {}`, or add the directory to MANPATH.",
                written.len(),
                args.out.display(),
                args.out.join("trustroot.1").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn write_man(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let pages = man_pages()?;
    std::fs::create_dir_all(dir).map_err(|e| {
        format!(
            "{}: cannot create the directory: {e} (choose another --out)",
            dir.display()
        )
    })?;
    let mut written = Vec::new();
    for (name, text) in pages {
        let path = dir.join(name);
        std::fs::write(&path, text)
            .map_err(|e| format!("{}: cannot write: {e} (choose another --out)", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// `trustroot docs ...`
pub fn run_docs(command: DocsCommand) -> ExitCode {
    match command {
        DocsCommand::CliReference { out } => {
            let text = cli_reference();
            match out {
                None => write_stdout(text.as_bytes()),
                Some(path) => match std::fs::write(&path, text) {
                    Ok(()) => {
                        eprintln!("Wrote {}", path.display());
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("error: {}: cannot write: {e}", path.display());
                        ExitCode::from(1)
                    }
                },
            }
        }
    }
}

/// Escapes what Markdown would swallow (`<id>` read as an HTML tag, `*` as emphasis)
/// outside `code spans`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' | '>' | '*' | '[' | ']' | '\\' if !in_code => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Help text as Markdown paragraphs: clap joins the lines of a doc comment paragraph, so
/// each line here is a paragraph; indented lines (examples) become code blocks.
fn paragraphs(text: &str) -> String {
    let mut out = String::new();
    let mut code = false;
    for line in text.lines() {
        // Indented lines, and a command line the doc comment's paragraph joining unindented.
        let is_code = (line.starts_with("  ") && !line.trim().is_empty()) || line.starts_with("trustroot ");
        if is_code && !code {
            out.push_str("```text\n");
            code = true;
        } else if !is_code && code {
            out.push_str("```\n\n");
            code = false;
        }
        if code {
            out.push_str(line.trim_start());
            out.push('\n');
        } else if !line.trim().is_empty() {
            out.push_str(&link_docs(&sentence(&escape(line.trim_end()))));
            out.push_str("\n\n");
        }
    }
    if code {
        out.push_str("```\n\n");
    }
    out
}

/// `docs/exit-codes.md` in help text becomes a link: the reference lives beside it in docs/.
fn link_docs(text: &str) -> String {
    let mut words = Vec::new();
    for word in text.split(' ') {
        let end = word.trim_end_matches(['.', ',', ';', ':', ')']);
        match end
            .strip_prefix("docs/")
            .filter(|f| f.ends_with(".md") && !f.contains('/'))
        {
            Some(file) => words.push(format!("[{end}]({file}){}", &word[end.len()..])),
            None => words.push(word.to_string()),
        }
    }
    words.join(" ")
}

/// clap drops the final period of a one-paragraph doc comment; Markdown prose wants it back.
fn sentence(text: &str) -> String {
    if text.is_empty() || text.ends_with(['.', '!', '?', ':']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

fn value_name(arg: &clap::Arg) -> String {
    match arg.get_value_names() {
        Some(names) if !names.is_empty() => names.iter().map(|n| format!("<{n}>")).collect::<Vec<_>>().join(" "),
        _ => format!("<{}>", arg.get_id().as_str().to_uppercase()),
    }
}

fn takes_values(arg: &clap::Arg) -> bool {
    arg.get_num_args().is_some_and(|r| r.takes_values())
}

fn multiple(arg: &clap::Arg) -> bool {
    arg.get_num_args().is_some_and(|r| r.max_values() > 1)
        || matches!(arg.get_action(), clap::ArgAction::Append | clap::ArgAction::Count)
}

/// `--within <DURATION>`, `-h, --help`, `<DIR>`, `[PATH]`, `<FILES>...`
fn arg_syntax(arg: &clap::Arg) -> String {
    if arg.is_positional() {
        let name = value_name(arg);
        let name = if arg.is_required_set() {
            name
        } else {
            format!("[{}]", name.trim_start_matches('<').trim_end_matches('>'))
        };
        return if multiple(arg) { format!("{name}...") } else { name };
    }
    let mut s = String::new();
    if let Some(short) = arg.get_short() {
        s.push('-');
        s.push(short);
        if arg.get_long().is_some() {
            s.push_str(", ");
        }
    }
    if let Some(long) = arg.get_long() {
        s.push_str("--");
        s.push_str(long);
    }
    if takes_values(arg) {
        s.push(' ');
        s.push_str(&value_name(arg));
    }
    s
}

fn arg_entry(arg: &clap::Arg) -> String {
    let mut line = format!("- `{}`", arg_syntax(arg));
    let help = arg
        .get_long_help()
        .or_else(|| arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut notes = Vec::new();
    if arg.is_required_set() && !arg.is_positional() {
        notes.push("Required.".to_string());
    }
    if multiple(arg) && !arg.is_positional() {
        notes.push("May be repeated.".to_string());
    }
    let possible: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| format!("`{}`", v.get_name()))
        .collect();
    if takes_values(arg) && !possible.is_empty() {
        notes.push(format!("Values: {}.", possible.join(", ")));
    }
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| format!("`{}`", v.to_string_lossy()))
        .collect();
    if takes_values(arg) && !defaults.is_empty() && !help.contains("(default") {
        notes.push(format!("Default: {}.", defaults.join(", ")));
    }
    if arg.is_global_set() {
        notes.push("Global: may come before or after the subcommand.".to_string());
    }
    let mut text = sentence(&escape(&help));
    for note in notes {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&note);
    }
    if !text.is_empty() {
        line.push_str(": ");
        line.push_str(&text);
    }
    line.push('\n');
    line
}

/// GitHub's heading anchor for `trustroot ceremony add-signature`.
fn anchor(title: &str) -> String {
    title
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn title(cmd: &Command) -> String {
    cmd.get_bin_name().unwrap_or_else(|| cmd.get_name()).to_string()
}

/// The Markdown CLI reference: one section per command and subcommand, with its usage,
/// its help text and its arguments, generated from the same definitions as `--help`.
pub fn cli_reference() -> String {
    use std::fmt::Write as _;
    let root = public_command();
    let commands = walk(&root);
    let mut s = String::new();
    let _ = writeln!(s, "# trustroot command-line reference");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "<!-- Generated from the clap definitions in cli/src by `trustroot docs cli-reference`. Do not edit: regenerate with\n     {REGENERATE}\n     (cli/tests/cli_reference.rs fails when this file is out of date). -->"
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Every command accepts `-h` (short help) and `--help` (long help); `trustroot --version` prints the version. \
Exit codes: [exit-codes.md](exit-codes.md). JSON output of `--json`: [json-output.md](json-output.md). \
The same text is in the man pages (`trustroot man --out DIR`)."
    );
    let _ = writeln!(s);
    for cmd in &commands {
        let depth = title(cmd).split(' ').count().saturating_sub(1);
        let _ = writeln!(s, "{}- [{}](#{})", "  ".repeat(depth), title(cmd), anchor(&title(cmd)));
    }
    for (i, cmd) in commands.iter().enumerate() {
        // Options a parent declares global are listed once, at the parent.
        let parent = commands[..i]
            .iter()
            .rev()
            .find(|p| visible_subcommands(p).any(|c| c.get_bin_name() == cmd.get_bin_name()));
        let inherited = |a: &clap::Arg| {
            a.is_global_set() && parent.is_some_and(|p| p.get_arguments().any(|pa| pa.get_id() == a.get_id()))
        };
        let mut cmd = (*cmd).clone();
        let name = title(&cmd);
        if !s.ends_with("\n\n") {
            let _ = writeln!(s);
        }
        let _ = writeln!(s, "## {name}");
        let _ = writeln!(s);
        let about = cmd
            .get_long_about()
            .or_else(|| cmd.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        s.push_str(&paragraphs(&about));
        let usage = cmd.render_usage().to_string();
        let _ = writeln!(s, "```text\n{}\n```", usage.trim_end());
        let _ = writeln!(s);
        let args: Vec<&clap::Arg> = cmd
            .get_arguments()
            .filter(|a| !a.is_hide_set() && !is_builtin(a) && !inherited(a))
            .collect();
        let positionals: Vec<&&clap::Arg> = args.iter().filter(|a| a.is_positional()).collect();
        let options: Vec<&&clap::Arg> = args.iter().filter(|a| !a.is_positional()).collect();
        if !positionals.is_empty() {
            let _ = writeln!(s, "Arguments:");
            let _ = writeln!(s);
            for arg in positionals {
                s.push_str(&arg_entry(arg));
            }
            let _ = writeln!(s);
        }
        if !options.is_empty() {
            let _ = writeln!(s, "Options:");
            let _ = writeln!(s);
            for arg in options {
                s.push_str(&arg_entry(arg));
            }
            let _ = writeln!(s);
        }
        if let Some(p) = parent.filter(|p| p.get_arguments().any(|a| a.is_global_set())) {
            let _ = writeln!(
                s,
                "The global options of [`{}`](#{}) apply too.",
                title(p),
                anchor(&title(p))
            );
            let _ = writeln!(s);
        }
        let subs: Vec<&Command> = visible_subcommands(&cmd).collect();
        if !subs.is_empty() {
            let _ = writeln!(s, "Subcommands:");
            let _ = writeln!(s);
            for sub in subs {
                let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
                let _ = writeln!(
                    s,
                    "- [`{}`](#{}): {}",
                    sub.get_name(),
                    anchor(&title(sub)),
                    sentence(&escape(&about))
                );
            }
            let _ = writeln!(s);
        }
        if let Some(after) = cmd.get_after_long_help().or_else(|| cmd.get_after_help()) {
            s.push_str(&paragraphs(&after.to_string()));
        }
    }
    while s.ends_with("\n\n") {
        s.pop();
    }
    s
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

    #[test]
    fn markdown_escapes_outside_code_spans_only() {
        assert_eq!(escape("ceremonies/<id>/ and `<id>`"), "ceremonies/\\<id\\>/ and `<id>`");
        assert_eq!(escape("`*` matches, a*b"), "`*` matches, a\\*b");
        assert_eq!(sentence("Print JSON"), "Print JSON.");
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(
            anchor("trustroot ceremony add-signature"),
            "trustroot-ceremony-add-signature"
        );
        assert_eq!(
            link_docs("See docs/exit-codes.md. Or (docs/a/b.md) docs/x.md, then"),
            "See [docs/exit-codes.md](exit-codes.md). Or (docs/a/b.md) [docs/x.md](x.md), then"
        );
    }
}
