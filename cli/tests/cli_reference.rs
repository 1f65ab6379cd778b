//! docs/cli-reference.md is generated from the clap definitions (`trustroot docs
//! cli-reference`); this test fails when the checked-in file differs from what the current
//! definitions generate, and says how to regenerate it.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

const REGENERATE: &str = "cargo run -q -p trustroot -- docs cli-reference --out docs/cli-reference.md\n  \
     (or: TRUSTROOT_BLESS=1 cargo test -p trustroot --test cli_reference)";

fn reference_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/cli-reference.md")
}

fn generated() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_trustroot"))
        .args(["docs", "cli-reference"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "trustroot docs cli-reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn checked_in_reference_matches_the_clap_definitions() {
    let fresh = generated();
    let path = reference_path();
    if std::env::var_os("TRUSTROOT_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in == fresh {
        return;
    }
    let first_difference = checked_in
        .lines()
        .zip(fresh.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| format!("line {}:\n  checked in: {a}\n  generated:  {b}", i + 1))
        .unwrap_or_else(|| {
            format!(
                "one is a prefix of the other ({} lines checked in, {} generated)",
                checked_in.lines().count(),
                fresh.lines().count()
            )
        });
    panic!(
        "docs/cli-reference.md is out of date with the clap definitions in cli/src.\n\
         First difference at {first_difference}\n\
         Regenerate it from the repository root with\n  {REGENERATE}\n\
         and commit the result."
    );
}

#[test]
fn reference_has_a_section_per_command_with_usage_and_options() {
    let text = generated();
    for heading in [
        "## trustroot\n",
        "## trustroot ceremony start\n",
        "## trustroot ceremony add-signature\n",
        "## trustroot mirror sync\n",
        "## trustroot sigstore trusted-root validate\n",
        "## trustroot expiry\n",
        "## trustroot completions\n",
        "## trustroot man\n",
    ] {
        assert!(text.contains(heading), "missing {heading:?}");
    }
    // The hidden maintainer command is not documented for users.
    assert!(!text.contains("## trustroot docs"), "the hidden docs command leaked");
    // Each section has its usage line, and options come with their help text.
    let sections = text.split("\n## ").skip(1).count();
    assert_eq!(
        text.matches("\nUsage: trustroot").count(),
        sections,
        "one usage per section"
    );
    assert!(
        text.contains("- `--within <DURATION>`: Exit 1 when a role expires within this window"),
        "options with their help"
    );
    assert!(text.contains("Default: `7d`."), "defaults");
    assert!(
        text.contains("Values: `bash`, `elvish`, `fish`, `powershell`, `zsh`."),
        "possible values"
    );
    // `<id>` in help text must not be read as an HTML tag.
    assert!(text.contains("ceremonies/\\<id\\>/"), "escaped angle brackets");
    // Every section's anchor in the table of contents resolves to a heading.
    for line in text.lines().filter(|l| l.trim_start().starts_with("- [trustroot")) {
        let anchor = line.split("](#").nth(1).unwrap().trim_end_matches(')');
        let title = line.split("- [").nth(1).unwrap().split(']').next().unwrap();
        assert_eq!(anchor, title.replace(' ', "-"), "{line}");
        assert!(text.contains(&format!("\n## {title}\n")), "{line}");
    }
}
