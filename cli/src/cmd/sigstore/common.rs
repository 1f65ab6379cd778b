//! What the trusted-root and signing-config commands share: reading, atomic writing,
//! the edit guard, and printing findings.

use std::path::Path;
use std::process::ExitCode;

use trustroot_targets::sigstore::PayloadError;
use trustroot_targets::sigstore::validate::{Finding, Severity};

use crate::outln;
use crate::output::{self, Failure};

/// A command's exit code, or why it failed.
pub type CmdResult = output::Outcome;

/// Reads an input file, at most [`crate::input::MAX_INPUT_BYTES`].
pub fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    crate::input::read_bounded(path)
}

/// Reads a PEM input file.
pub fn read_text(path: &Path) -> Result<String, Failure> {
    String::from_utf8(read(path)?).map_err(|_| Failure::usage(format!("{}: not UTF-8 text", path.display())))
}

/// A payload error about `file`, named in its message.
pub fn in_file(file: &Path) -> impl Fn(PayloadError) -> Failure + '_ {
    move |error| Failure::from(error).about(file.display())
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename,
/// so a reader sees the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    trustroot_store::write_atomic(path, bytes).map_err(|e| match e {
        trustroot_store::Error::Io { source, .. } => Failure::io(format!("{}: cannot write: {source}", path.display())),
        other => Failure::local_state(other),
    })
}

/// Refuses to replace `file` unless `force`.
pub fn refuse_overwrite(file: &Path, force: bool) -> Result<(), Failure> {
    if file.exists() && !force {
        return Err(Failure::local_state(format!("{}: already exists", file.display()))
            .with_hint_text("use --force to overwrite"));
    }
    Ok(())
}

fn error_keys(findings: &[Finding]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| (f.code.to_string(), f.message.clone()))
        .collect();
    v.sort();
    v
}

/// The errors in `after` that `before` did not have (compared by rule and message, since
/// an insertion moves paths).
pub fn new_errors<'a>(before: &[Finding], after: &'a [Finding]) -> Vec<&'a Finding> {
    let mut old = error_keys(before);
    let mut out = Vec::new();
    for f in after.iter().filter(|f| f.severity == Severity::Error) {
        let k = (f.code.to_string(), f.message.clone());
        if let Some(i) = old.iter().position(|o| *o == k) {
            old.remove(i);
        } else {
            out.push(f);
        }
    }
    out
}

/// Prints validation results; returns the exit code.
pub fn report(file: &Path, kind: &str, findings: &[Finding], json: bool, strict: bool) -> CmdResult {
    let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
    let warnings = findings.len() - errors;
    let failed = errors > 0 || (strict && warnings > 0);
    if json {
        let v = serde_json::json!({
            "file": file.display().to_string(),
            "kind": kind,
            "valid": errors == 0,
            "errors": errors,
            "warnings": warnings,
            "strict": strict,
            "findings": findings,
        });
        output::json(&v)?;
    } else {
        for f in findings {
            outln!("{f}")?;
        }
        let verdict = if errors > 0 {
            "not valid"
        } else if failed {
            "valid, but --strict fails on warnings"
        } else {
            "valid"
        };
        outln!(
            "{}: {kind}: {errors} error{}, {warnings} warning{}: {verdict}",
            file.display(),
            if errors == 1 { "" } else { "s" },
            if warnings == 1 { "" } else { "s" }
        )?;
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Refuses an edit that adds errors; otherwise writes and reports.
pub fn finish_edit(
    file: &Path,
    before: &[Finding],
    new_bytes: &[u8],
    after: &[Finding],
    done: &str,
    notes: &[String],
) -> CmdResult {
    let added = new_errors(before, after);
    if !added.is_empty() {
        let mut msg = format!("{}: edit refused, it would leave these errors:", file.display());
        for f in added {
            msg.push_str(&format!("\n{f}"));
        }
        return Err(Failure::usage(msg));
    }
    write_atomic(file, new_bytes)?;
    outln!("{}: {done}", file.display())?;
    for n in notes {
        outln!("note: {n}")?;
    }
    let errors = after.iter().filter(|f| f.severity == Severity::Error).count();
    let warnings = after.len() - errors;
    if errors + warnings > 0 {
        outln!("the file has {errors} error(s) and {warnings} warning(s); run `validate` to see them")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// When a `validate` judges the payload: its certificates and validity windows are checked
/// at a time and over the signing period after it.
#[derive(Debug, clap::Args)]
pub struct AsOfArgs {
    /// Judge certificates and validity windows at this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME", value_parser = crate::cmd::shared::parse_time)]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    /// The signing period of the role that carries the payload: what is over, or ends
    /// within it after the time, is reported (e.g. 31d, the targets role's).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "30d",
        value_parser = crate::cmd::shared::parse_duration
    )]
    pub signing_period: chrono::Duration,
}

impl AsOfArgs {
    pub fn as_of(&self) -> trustroot_targets::sigstore::validate::AsOf {
        trustroot_targets::sigstore::validate::AsOf {
            at: crate::cmd::shared::now(self.at),
            period: self.signing_period,
        }
    }
}
