//! The command line's one output layer: every result and every error is printed here, as
//! text for people or as JSON for programs (`--json`); a command that reports
//! measurements also takes `--format prometheus` ([`ReportFormat`]).
//!
//! - Results go to standard output through [`line`] and [`json`], which return errors: a
//!   reader that went away (`trustroot expiry | head -1`) becomes [`Failure::ClosedPipe`]
//!   and the command ends quietly, as a program killed by SIGPIPE would.
//! - Errors are a [`Failure`]: a class, a message and maybe a hint. [`finish`] prints one
//!   as `error: ...` (and `hint: ...`) on standard error, or under `--json` as
//!   `{"error": {"kind", "message", "hint"}}` on standard output, with the same exit code.

pub mod hint;
pub mod html;

use std::fmt;
use std::io::{self, Write as _};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use trustroot_core::{ErrorClass, Hint};

/// How a command prints: words for people, or one JSON document for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Format {
    /// The format a command's `--json` flag asks for.
    pub fn json_if(flag: bool) -> Self {
        if flag { Format::Json } else { Format::Text }
    }
}

/// What a reporting command's `--format` asks for: words for people, one JSON document
/// (`--json` is its short form), or metrics in the Prometheus text format, for the
/// commands whose results are measurements (`expiry`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Prometheus,
}

impl ReportFormat {
    /// The format asked for by `--format`, or by `--json` (clap keeps them apart).
    pub fn chosen(format: Option<ReportFormat>, json: bool) -> Self {
        match format {
            Some(format) => format,
            None if json => ReportFormat::Json,
            None => ReportFormat::Text,
        }
    }

    /// How errors are printed: as JSON on standard output under `json`; otherwise as text
    /// on standard error, so that the metrics a collector reads from standard output are
    /// never mixed with an error.
    pub fn errors(self) -> Format {
        match self {
            ReportFormat::Json => Format::Json,
            ReportFormat::Text | ReportFormat::Prometheus => Format::Text,
        }
    }
}

/// Why a command stopped without its result.
#[derive(Debug)]
pub enum Failure {
    /// An error to report.
    Report(Report),
    /// Standard output is a closed pipe: nobody is left to read a result or an error.
    ClosedPipe,
    /// The failure is already printed, inside the command's JSON result (see [`json_failed`]).
    Shown,
}

/// An error as printed: its class (`kind` in JSON), what went wrong, what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    #[serde(serialize_with = "class_name")]
    pub kind: ErrorClass,
    pub message: String,
    pub hint: Option<String>,
}

fn class_name<S: serde::Serializer>(class: &ErrorClass, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(class.as_str())
}

impl Failure {
    pub fn new(kind: ErrorClass, message: impl fmt::Display) -> Self {
        Failure::Report(Report {
            kind,
            message: message.to_string(),
            hint: None,
        })
    }

    /// An argument, or a combination of them, that cannot be used.
    pub fn usage(message: impl fmt::Display) -> Self {
        Failure::new(ErrorClass::Usage, message)
    }

    /// Reading or writing failed.
    pub fn io(message: impl fmt::Display) -> Self {
        Failure::new(ErrorClass::Io, message)
    }

    /// Local state (a directory, a key file, a round) is not what the command needs.
    pub fn local_state(message: impl fmt::Display) -> Self {
        Failure::new(ErrorClass::LocalState, message)
    }

    /// What the repository gave failed a check.
    pub fn repository(message: impl fmt::Display) -> Self {
        Failure::new(ErrorClass::Repository, message)
    }

    /// Adds a library's hint, in the command line's words.
    pub fn with_hint(self, hint: Option<&Hint>) -> Self {
        match (self, hint.and_then(hint::hint_text)) {
            (Failure::Report(report), Some(text)) => Failure::Report(Report {
                hint: Some(text),
                ..report
            }),
            (failure, _) => failure,
        }
    }

    /// Adds a hint written here (one that names this command's own flags).
    pub fn with_hint_text(self, text: impl Into<String>) -> Self {
        match self {
            Failure::Report(report) => Failure::Report(Report {
                hint: Some(text.into()),
                ..report
            }),
            other => other,
        }
    }

    /// Puts what the error concerns (a file, a flag) before the message: `FILE: message`.
    pub fn about(self, what: impl fmt::Display) -> Self {
        match self {
            Failure::Report(report) => Failure::Report(Report {
                message: format!("{what}: {}", report.message),
                ..report
            }),
            other => other,
        }
    }

    /// A failure to write standard output: a closed pipe is no error of the command's.
    fn from_write(error: io::Error) -> Self {
        if error.kind() == io::ErrorKind::BrokenPipe {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Failure::ClosedPipe
        } else {
            Failure::io(format!("cannot write to standard output: {error}"))
        }
    }
}

impl From<trustroot_core::Error> for Failure {
    fn from(error: trustroot_core::Error) -> Self {
        Failure::new(error.class(), &error)
    }
}

impl From<trustroot_ceremony::Error> for Failure {
    fn from(error: trustroot_ceremony::Error) -> Self {
        Failure::new(error.class(), &error).with_hint(error.hint().as_ref())
    }
}

impl From<trustroot_mirror::UpdateError> for Failure {
    fn from(error: trustroot_mirror::UpdateError) -> Self {
        Failure::new(error.class(), &error).with_hint(error.hint().as_ref())
    }
}

impl From<trustroot_mirror::FetchError> for Failure {
    fn from(error: trustroot_mirror::FetchError) -> Self {
        Failure::new(error.class(), &error)
    }
}

impl From<trustroot_targets::sigstore::PayloadError> for Failure {
    fn from(error: trustroot_targets::sigstore::PayloadError) -> Self {
        Failure::new(error.class(), &error).with_hint(error.hint().as_ref())
    }
}

/// A command's result: the exit code it chose, or why it failed.
pub type Outcome = Result<ExitCode, Failure>;

/// Writes one line to standard output. Use through [`outln!`](crate::outln).
pub fn line(args: fmt::Arguments<'_>) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(Failure::from_write)
}

/// Set once a write found standard output to be a closed pipe.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether standard output has turned out to be a closed pipe: a command that narrates
/// (`quickstart`) stops at its next step once nobody reads it.
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Writes one line of narration to standard output. A closed pipe is remembered
/// ([`stdout_closed`]) for the caller to stop at its next step. Use through
/// [`say!`](crate::say).
pub fn say(args: fmt::Arguments<'_>) {
    let _ = line(args);
}

/// Writes text to standard output as it is (no newline added).
pub fn text(text: &str) -> Result<(), Failure> {
    io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(Failure::from_write)
}

/// Flushes standard output (before a question is asked on the terminal).
pub fn flush() -> Result<(), Failure> {
    io::stdout().flush().map_err(Failure::from_write)
}

/// Prints `value` as pretty JSON on standard output: the shape of every `--json` result.
pub fn json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::io(format!("cannot write JSON: {e}")))?;
    line(format_args!("{text}"))
}

/// Prints a JSON result that ends in a failure (a gate that does not pass, refused
/// signature files) as one document: the result with the error as its `error` member.
/// Returns the failure for the exit code, now [`Failure::Shown`].
pub fn json_failed(value: &impl serde::Serialize, failure: Failure) -> Failure {
    /// The result's own members, then `error`, in that order.
    #[derive(serde::Serialize)]
    struct WithError<'a, T: serde::Serialize> {
        #[serde(flatten)]
        result: &'a T,
        error: &'a Report,
    }
    let Failure::Report(report) = failure else {
        return failure;
    };
    match json(&WithError {
        result: value,
        error: &report,
    }) {
        Ok(()) => Failure::Shown,
        Err(failure) => failure,
    }
}

/// Prints the result of a command and returns its exit code: `code_on_error` when it
/// failed (1 for most commands, 2 for `expiry`), 141 when standard output was closed.
pub fn finish(format: Format, outcome: Outcome, code_on_error: u8) -> ExitCode {
    let outcome = outcome.and_then(|code| io::stdout().flush().map(|()| code).map_err(Failure::from_write));
    match outcome {
        Ok(code) => code,
        // 128 + SIGPIPE, what a shell shows for a program the closed pipe killed.
        Err(Failure::ClosedPipe) => ExitCode::from(141),
        Err(Failure::Shown) => ExitCode::from(code_on_error),
        Err(Failure::Report(report)) => {
            print_error(format, &report);
            ExitCode::from(code_on_error)
        }
    }
}

/// Prints an error: on standard error as text, on standard output as JSON. A reader that
/// has gone away by now is not told.
pub fn print_error(format: Format, report: &Report) {
    match format {
        Format::Text => {
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "error: {}", report.message);
            if let Some(hint) = &report.hint {
                let _ = writeln!(err, "hint: {hint}");
            }
        }
        Format::Json => {
            #[derive(serde::Serialize)]
            struct ErrorDocument<'a> {
                error: &'a Report,
            }
            // Strings and null only: serde_json cannot fail on them.
            if let Ok(text) = serde_json::to_string_pretty(&ErrorDocument { error: report }) {
                let mut out = io::stdout().lock();
                let _ = writeln!(out, "{text}").and_then(|()| out.flush());
            }
        }
    }
}

/// Prints a note for people on standard error (progress, warnings): it is never part of a
/// result, so a closed standard error does not stop the command.
pub fn note(args: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{args}");
}

/// `outln!("...", args)`: one line on standard output, `?`-able ([`line`]).
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}

/// `say!("...", args)`: one line of narration on standard output ([`say`]).
#[macro_export]
macro_rules! say {
    () => {
        $crate::output::say(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::say(format_args!($($arg)*))
    };
}

/// `note!("...", args)`: one line on standard error for people ([`note`]).
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::output::note(format_args!($($arg)*))
    };
}
