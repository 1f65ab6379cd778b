//! The Markdown CLI reference (`trustroot docs cli-reference`, checked in as
//! docs/cli-reference.md): one section per command, from the clap definitions.

use std::fmt::Write as _;

use clap::Command;

use super::{REGENERATE, is_builtin, public_command, visible_subcommands, walk};

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
    let root = public_command();
    let commands = walk(&root);
    let mut s = String::new();
    reference_header(&mut s, &commands);
    for i in 0..commands.len() {
        command_section(&mut s, &commands, i);
    }
    while s.ends_with("\n\n") {
        s.pop();
    }
    s
}

/// The title, the generated-file notice, the introduction and the table of contents.
fn reference_header(s: &mut String, commands: &[&Command]) {
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
    for cmd in commands {
        let depth = title(cmd).split(' ').count().saturating_sub(1);
        let _ = writeln!(s, "{}- [{}](#{})", "  ".repeat(depth), title(cmd), anchor(&title(cmd)));
    }
}

/// The section of `commands[i]`: heading, help text, usage, arguments, subcommands.
fn command_section(s: &mut String, commands: &[&Command], i: usize) {
    // Options a parent declares global are listed once, at the parent.
    let parent = commands[..i]
        .iter()
        .rev()
        .find(|p| visible_subcommands(p).any(|c| c.get_bin_name() == commands[i].get_bin_name()))
        .copied();
    let mut cmd = commands[i].clone();
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
    arguments_section(s, &cmd, parent);
    if let Some(p) = parent.filter(|p| p.get_arguments().any(|a| a.is_global_set())) {
        let _ = writeln!(
            s,
            "The global options of [`{}`](#{}) apply too.",
            title(p),
            anchor(&title(p))
        );
        let _ = writeln!(s);
    }
    subcommands_section(s, &cmd);
    if let Some(after) = cmd.get_after_long_help().or_else(|| cmd.get_after_help()) {
        s.push_str(&paragraphs(&after.to_string()));
    }
}

/// `Arguments:` and `Options:`, leaving out what `parent` declares global.
fn arguments_section(s: &mut String, cmd: &Command, parent: Option<&Command>) {
    let inherited = |a: &clap::Arg| {
        a.is_global_set() && parent.is_some_and(|p| p.get_arguments().any(|pa| pa.get_id() == a.get_id()))
    };
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
}

/// `Subcommands:`, each linked to its section with the first sentence of its help.
fn subcommands_section(s: &mut String, cmd: &Command) {
    let subs: Vec<&Command> = visible_subcommands(cmd).collect();
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
