//! `trustroot completions SHELL` and `trustroot man --out DIR`, generated from the same clap
//! definitions as `--help`; and usage errors' exit codes.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::process::{Command, Output};

fn trustroot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustroot"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Every command path, as the reference lists them: "trustroot", "trustroot ceremony start"...
fn command_paths() -> BTreeSet<String> {
    let out = trustroot(&["docs", "cli-reference"]);
    assert!(out.status.success());
    stdout(&out)
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completion_knows_every_subcommand_and_is_valid_bash() {
    let out = trustroot(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let script = stdout(&out);
    assert!(script.contains("complete -F _trustroot"), "registers the function");
    for path in command_paths() {
        let Some(last) = path.rsplit(' ').next().filter(|_| path != "trustroot") else {
            continue;
        };
        assert!(script.contains(last), "no completion for `{path}`");
    }
    for word in [
        "add-signature",
        "trusted-root",
        "--passphrase-file",
        "--json",
        "--within",
    ] {
        assert!(script.contains(word), "bash completion lacks {word}");
    }
    // The hidden maintainer command is not offered.
    assert!(!script.contains("trustroot,docs)"), "hidden `docs` offered");
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("trustroot.bash");
    std::fs::write(&file, &script).unwrap();
    let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn every_shell_gets_a_script() {
    for (shell, marker) in [
        ("zsh", "#compdef trustroot"),
        ("fish", "complete -c trustroot"),
        ("elvish", "edit:completion:arg-completer[trustroot]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = trustroot(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        assert!(script.contains("add-signature"), "{shell}: subcommands missing");
    }
    // An unknown shell is a usage error.
    let out = trustroot(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[test]
fn man_writes_one_page_per_command_with_a_roff_header() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man1");
    let out = trustroot(&["man", "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let written: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let expected: BTreeSet<String> = command_paths()
        .iter()
        .map(|p| format!("{}.1", p.replace(' ', "-")))
        .collect();
    assert_eq!(written, expected, "one page per command and subcommand");
    for name in [
        "trustroot.1",
        "trustroot-ceremony-start.1",
        "trustroot-sigstore-trusted-root-validate.1",
    ] {
        assert!(written.contains(name), "{name}");
    }
    // The pages listed on standard output are the ones written.
    assert_eq!(stdout(&out).lines().count(), written.len());
    for name in &written {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let page = name.strip_suffix(".1").unwrap();
        let th = text
            .lines()
            .find(|l| l.starts_with(".TH "))
            .unwrap_or_else(|| panic!("{name}: no .TH header"));
        let fields: Vec<&str> = th.split_whitespace().collect();
        assert_eq!(fields.get(1), Some(&page), "{name}: {th}");
        assert_eq!(fields.get(2), Some(&"1"), "{name}: section 1: {th}");
        assert!(th.contains("\"trustroot "), "{name}: source: {th}");
        for section in [".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION"] {
            assert!(text.contains(section), "{name}: no {section}");
        }
        // NAME is `page \- summary`, with roff's escaped hyphens.
        let after_name = text.split(".SH NAME\n").nth(1).unwrap().lines().next().unwrap();
        assert!(
            after_name.starts_with(&format!("{} \\- ", page.replace('-', "\\-"))),
            "{name}: {after_name}"
        );
    }
    let top = std::fs::read_to_string(dir.join("trustroot.1")).unwrap();
    assert!(
        top.contains("exit\\-codes.md"),
        "the exit codes are linked from trustroot(1)"
    );
    assert!(
        top.contains(".SH NOTES\nExit status: 0"),
        "the exit status is in trustroot(1)"
    );
    // A subcommand's page points at its parent's.
    let start = std::fs::read_to_string(dir.join("trustroot-ceremony-start.1")).unwrap();
    assert!(
        start.contains(".SH \"SEE ALSO\"\n\\fBtrustroot\\-ceremony\\fR(1)"),
        "SEE ALSO: {start}"
    );
    // Running it again replaces the pages.
    let again = trustroot(&["man", "--out", dir.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0));
}

#[test]
fn man_into_a_file_fails_and_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let out = trustroot(&["man", "--out", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("choose another --out"), "{err}");
}

#[test]
fn usage_errors_exit_2_and_client_exits_1() {
    // A missing subcommand prints the help, and is a usage error all the same.
    for args in [
        &[][..],
        &["mirror"][..],
        &["ceremony"][..],
        &["sigstore", "trusted-root"][..],
    ] {
        let out = trustroot(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    assert_eq!(trustroot(&["expiry", "--no-such-flag"]).status.code(), Some(2));
    // The conformance protocol of `client` allows only 0 and 1.
    assert_eq!(trustroot(&["client"]).status.code(), Some(1));
    assert_eq!(trustroot(&["client", "refresh", "--bogus"]).status.code(), Some(1));
    // Help and version are not errors.
    assert_eq!(trustroot(&["--help"]).status.code(), Some(0));
    assert_eq!(trustroot(&["mirror", "--help"]).status.code(), Some(0));
    assert_eq!(trustroot(&["--version"]).status.code(), Some(0));
}
