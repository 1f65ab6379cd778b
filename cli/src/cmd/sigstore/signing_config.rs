//! `trustroot sigstore signing-config ...`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Subcommand, ValueEnum};
use trustroot_targets::sigstore::diff;
use trustroot_targets::sigstore::json::Document;
use trustroot_targets::sigstore::signing_config::{
    Selector, ServiceKind, ServiceParams, SigningConfig, SigningConfigV01, SigningConfigV02,
};
use trustroot_targets::sigstore::trusted_root::TrustedRoot;
use trustroot_targets::sigstore::validate;

use super::common::{self, CmdResult, in_file};
use crate::cmd::shared::parse_time;
use crate::outln;
use crate::output::Failure;

#[derive(Debug, Subcommand)]
pub enum SigningConfigCommand {
    /// Lint a signing config (v0.1 or v0.2): every finding with its JSON path and a fix.
    ///
    /// Exit 1 on errors; warnings exit 0 unless --strict.
    #[command(
        after_help = "Exit status: 0 valid; 1 errors (or warnings with --strict; under --json, the report); 2 could not run: a file cannot be read, a usage error (under --json, the error object). See docs/exit-codes.md."
    )]
    Validate {
        /// The signing config to check.
        file: PathBuf,
        /// Also check that every CA, Rekor and TSA URL is an instance of this trusted root.
        #[arg(long, value_name = "FILE")]
        trusted_root: Option<PathBuf>,
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
        /// Fail on warnings too.
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        as_of: common::AsOfArgs,
    },
    /// Start a new v0.2 signing config with empty service lists.
    New {
        /// The file to create.
        file: PathBuf,
        /// How clients pick Rekor logs.
        #[arg(long, value_enum, default_value = "any")]
        rekor_selector: SelectorArg,
        /// With --rekor-selector exact: how many.
        #[arg(long)]
        rekor_count: Option<u32>,
        /// How clients pick timestamp authorities.
        #[arg(long, value_enum, default_value = "any")]
        tsa_selector: SelectorArg,
        /// With --tsa-selector exact: how many.
        #[arg(long)]
        tsa_count: Option<u32>,
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Add a service (kept sorted newest first). In a v0.1 signing config: set caUrl or
    /// oidcUrl, or add to tlogUrls or tsaUrls (bare URLs: no API version, window or
    /// operator).
    AddService {
        /// The signing config to edit (in place).
        file: PathBuf,
        /// The kind of service.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// The service's URL.
        #[arg(long)]
        url: String,
        /// The service's major API version (e.g. 1 for Rekor v1, 2 for Rekor v2); v0.2 only,
        /// where it is required.
        #[arg(long)]
        api_version: Option<u32>,
        /// When clients may start using it (RFC 3339); v0.2 only, where it is required.
        #[arg(long, value_parser = parse_time)]
        start: Option<DateTime<Utc>>,
        /// When clients stop using it (RFC 3339); leave out for open-ended.
        #[arg(long, value_parser = parse_time)]
        end: Option<DateTime<Utc>>,
        /// The operator, a scheme-less URI such as sigstore.dev; v0.2 only, where it is
        /// required.
        #[arg(long)]
        operator: Option<String>,
    },
    /// Remove a service (signing configs only steer new signatures).
    RemoveService {
        /// The signing config to edit (in place).
        file: PathBuf,
        /// The kind of service.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// The service's URL.
        #[arg(long)]
        url: String,
        /// Only the service with this major API version (when several share the URL).
        #[arg(long)]
        api_version: Option<u32>,
    },
    /// What changed between two versions. Lines starting with `!` need attention.
    Diff {
        /// The version before.
        old: PathBuf,
        /// The version after.
        new: PathBuf,
        /// Print the changes as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SelectorArg {
    All,
    Any,
    Exact,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Ca,
    Oidc,
    Rekor,
    Tsa,
}

impl KindArg {
    fn kind(self) -> ServiceKind {
        match self {
            KindArg::Ca => ServiceKind::Ca,
            KindArg::Oidc => ServiceKind::Oidc,
            KindArg::Rekor => ServiceKind::Rekor,
            KindArg::Tsa => ServiceKind::Tsa,
        }
    }
}

fn selector(s: SelectorArg, count: Option<u32>, flag: &str) -> Result<Selector, Failure> {
    match (s, count) {
        (SelectorArg::Exact, Some(n)) if n > 0 => Ok(Selector::Exact(n)),
        (SelectorArg::Exact, _) => Err(Failure::usage(format!(
            "--{flag}-selector exact needs --{flag}-count N (N > 0)"
        ))),
        (_, Some(_)) => Err(Failure::usage(format!(
            "--{flag}-count is only for --{flag}-selector exact"
        ))),
        (SelectorArg::All, None) => Ok(Selector::All),
        (SelectorArg::Any, None) => Ok(Selector::Any),
    }
}

fn load(file: &Path) -> Result<Document<SigningConfig>, Failure> {
    let bytes = common::read(file)?;
    Document::parse(&bytes).map_err(in_file(file))
}

/// Reads, edits (v0.1 or v0.2), validates and (unless the edit adds errors) writes a
/// signing config.
fn edit(file: &Path, f: impl FnOnce(&mut SigningConfig) -> Result<String, Failure>) -> CmdResult {
    let bytes = common::read(file)?;
    let before = validate::validate_signing_config(&bytes, None);
    let mut doc: Document<SigningConfig> = Document::parse(&bytes).map_err(in_file(file))?;
    let done = f(&mut doc.value).map_err(|e| e.about(file.display()))?;
    let new_bytes = doc.to_bytes().map_err(in_file(file))?;
    let after = validate::validate_signing_config(&new_bytes, None);
    common::finish_edit(file, &before, &new_bytes, &after, &done, &[])
}

impl SigningConfigCommand {
    /// Whether the command is a check (`validate`): 1 problems found, 2 could not run.
    pub fn is_check(&self) -> bool {
        matches!(self, SigningConfigCommand::Validate { .. })
    }

    /// Whether the command prints JSON (results and errors).
    pub fn json(&self) -> bool {
        matches!(
            self,
            SigningConfigCommand::Validate { json: true, .. } | SigningConfigCommand::Diff { json: true, .. }
        )
    }
}

pub fn run(c: SigningConfigCommand) -> CmdResult {
    match c {
        SigningConfigCommand::Validate {
            file,
            trusted_root,
            json,
            strict,
            as_of,
        } => {
            let bytes = common::read(&file)?;
            let tr = match &trusted_root {
                Some(p) => Some(
                    Document::<TrustedRoot>::parse(&common::read(p)?)
                        .map_err(in_file(p))?
                        .value,
                ),
                None => None,
            };
            let findings = validate::validate_signing_config_at(&bytes, tr.as_ref(), Some(as_of.as_of()));
            common::report(&file, "signing config", &findings, json, strict)
        }
        SigningConfigCommand::New {
            file,
            rekor_selector,
            rekor_count,
            tsa_selector,
            tsa_count,
            force,
        } => {
            common::refuse_overwrite(&file, force)?;
            let cfg = SigningConfigV02::new(
                selector(rekor_selector, rekor_count, "rekor")?,
                selector(tsa_selector, tsa_count, "tsa")?,
            );
            let doc = Document::new(SigningConfig::V02(cfg));
            common::write_atomic(&file, &doc.to_bytes().map_err(in_file(&file))?)?;
            outln!(
                "{}: new v0.2 signing config; add services with `add-service`",
                file.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        c @ SigningConfigCommand::AddService { .. } => add_service(c),
        SigningConfigCommand::RemoveService {
            file,
            kind,
            url,
            api_version,
        } => remove_service(&file, kind.kind(), &url, api_version),
        SigningConfigCommand::Diff { old, new, json } => {
            let a = load(&old)?;
            let b = load(&new)?;
            let changes = diff::diff_signing_configs(&a.value, &b.value);
            super::trusted_root::print_diff(&old, &new, &changes, json)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `add-service`: a v0.2 service, or a v0.1 URL.
fn add_service(c: SigningConfigCommand) -> CmdResult {
    let SigningConfigCommand::AddService {
        file,
        kind,
        url,
        api_version,
        start,
        end,
        operator,
    } = c
    else {
        return Err(Failure::usage("not add-service"));
    };
    edit(&file, |doc| match doc {
        SigningConfig::V02(cfg) => {
            let missing = |flag: &str| Failure::usage(format!("a v0.2 signing config needs {flag}"));
            let p = ServiceParams {
                url,
                major_api_version: api_version.ok_or_else(|| missing("--api-version"))?,
                start: start.ok_or_else(|| missing("--start"))?,
                end,
                operator: operator.ok_or_else(|| missing("--operator"))?,
            };
            let i = cfg.add_service(kind.kind(), &p)?;
            Ok(format!(
                "added $.{}[{i}] {} (API v{})",
                kind.kind().field(),
                p.url,
                p.major_api_version
            ))
        }
        SigningConfig::V01(cfg) => {
            if api_version.is_some() || start.is_some() || end.is_some() || operator.is_some() {
                return Err(Failure::usage(
                    "a v0.1 signing config lists bare URLs: it has no API versions, validity windows or operators (leave out --api-version, --start, --end and --operator)",
                ));
            }
            let field = SigningConfigV01::field(kind.kind());
            Ok(match cfg.add_url(kind.kind(), &url)? {
                Some(old) => format!("set {field} to {url} (it was {old})"),
                None => format!("added {url} to {field}"),
            })
        }
    })
}

/// `remove-service`: a v0.2 service, or a v0.1 URL.
fn remove_service(file: &Path, kind: ServiceKind, url: &str, api_version: Option<u32>) -> CmdResult {
    edit(file, |doc| match doc {
        SigningConfig::V02(cfg) => {
            let s = cfg.remove_service(kind, url, api_version)?;
            Ok(format!(
                "removed {} (API v{}) from {}",
                s.url.as_deref().unwrap_or(""),
                s.major_api_version.map_or("?".into(), |v| v.to_string()),
                kind.field()
            ))
        }
        SigningConfig::V01(cfg) => {
            cfg.remove_url(kind, url)?;
            Ok(format!("removed {url} from {}", SigningConfigV01::field(kind)))
        }
    })
}
