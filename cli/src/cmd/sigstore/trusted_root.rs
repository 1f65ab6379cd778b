//! `trustroot sigstore trusted-root ...`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use trustroot_targets::sigstore::certs;
use trustroot_targets::sigstore::diff::{self, Change};
use trustroot_targets::sigstore::json::Document;
use trustroot_targets::sigstore::keys;
use trustroot_targets::sigstore::trusted_root::{
    AuthorityParams, LogIdKind, LogParams, MediaTypeChoice, Retired, Section, TrustedRoot, TrustedRootEdit,
};
use trustroot_targets::sigstore::validate;

use super::common::{self, CmdResult, in_file};
use crate::cmd::shared::parse_time;
use crate::outln;
use crate::output::{self, Failure};

#[derive(Debug, Subcommand)]
pub enum TrustedRootCommand {
    /// Lint a trusted_root.json: every finding with its JSON path and a fix.
    ///
    /// Exit 1 on errors (what would break or mislead clients); warnings (what real,
    /// published files have and clients accept) exit 0 unless --strict.
    #[command(
        after_help = "Exit status: 0 valid; 1 errors (or warnings with --strict; under --json, the report); 2 could not run: the file cannot be read, a usage error (under --json, the error object). See docs/exit-codes.md."
    )]
    Validate {
        /// The trusted_root.json to check.
        file: PathBuf,
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
        /// Fail on warnings too.
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        as_of: common::AsOfArgs,
    },
    /// Start a new, empty trusted root.
    New {
        /// The file to create.
        file: PathBuf,
        /// `legacy` (what every deployed client reads) or `v0.2` (allows operators and
        /// checkpoint key IDs; publish it as a separate target).
        #[arg(long, value_enum, default_value = "legacy")]
        media_type: MediaArg,
        /// Overwrite the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Add a Rekor transparency log from its PEM public key; the log ID and key details
    /// are computed.
    AddTlog(AddLog),
    /// Add a certificate transparency log from its PEM public key.
    AddCtlog(AddLog),
    /// Add a certificate authority (Fulcio) from its PEM certificate chain.
    AddCa(AddAuthority),
    /// Add a timestamp authority from its PEM certificate chain.
    AddTsa(AddAuthority),
    /// End an instance's validity window at a given time (instances are never deleted:
    /// old signatures still need them). An end already set is moved, with a warning when
    /// it moves back in time.
    Retire {
        /// The trusted root to edit (in place).
        file: PathBuf,
        #[command(flatten)]
        which: Which,
        /// The last time the instance is valid (RFC 3339, e.g. 2026-01-01T00:00:00Z).
        #[arg(long, value_parser = parse_time)]
        end: DateTime<Utc>,
    },
    /// Write instance keys or chains out as PEM.
    ///
    /// With --out-dir, every instance goes to its own file (tlog-0-rekor.sigstore.dev.pem,
    /// ca-1-fulcio.sigstore.dev.pem, ...); with --kind and --index, one instance goes to
    /// --out or to standard output.
    Extract {
        /// The trusted root to read.
        file: PathBuf,
        /// Write every instance into this directory, one PEM file each.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["kind", "index", "out"])]
        out_dir: Option<PathBuf>,
        /// The list of the one instance to write.
        #[arg(long, value_enum, requires = "index")]
        kind: Option<KindArg>,
        /// The instance's index in its list.
        #[arg(long, value_name = "N", requires = "kind")]
        index: Option<usize>,
        /// Write the instance to this file instead of standard output.
        #[arg(long, value_name = "FILE", requires = "kind")]
        out: Option<PathBuf>,
    },
    /// What was added, retired and changed between two versions, in words for a ceremony
    /// announcement. Lines starting with `!` need attention.
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
pub enum MediaArg {
    Legacy,
    #[value(name = "v0.2")]
    V02,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum KindArg {
    Tlog,
    Ctlog,
    Ca,
    Tsa,
}

impl KindArg {
    fn section(self) -> Section {
        match self {
            KindArg::Tlog => Section::Tlogs,
            KindArg::Ctlog => Section::Ctlogs,
            KindArg::Ca => Section::CertificateAuthorities,
            KindArg::Tsa => Section::TimestampAuthorities,
        }
    }
}

#[derive(Debug, Args)]
pub struct AddLog {
    /// The trusted root to edit (in place).
    file: PathBuf,
    /// PEM public key: `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1).
    #[arg(long)]
    key: PathBuf,
    /// The log's base URL, e.g. https://rekor.sigstore.dev.
    #[arg(long)]
    url: String,
    /// When the log starts being valid (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    start: DateTime<Utc>,
    /// When it stops (RFC 3339); leave out for open-ended.
    #[arg(long, value_parser = parse_time)]
    end: Option<DateTime<Utc>>,
    /// Rekor API version of a tlog: 1 (log ID = SHA-256 of the key) or 2 (tile log: log ID
    /// = C2SP checkpoint key hash with the URL's host as origin). Required for Ed25519 keys.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    rekor_version: Option<u8>,
    /// The log's hash algorithm.
    #[arg(long, default_value = "SHA2_256")]
    hash_algorithm: String,
    /// Override the key details trustroot derives from the key (e.g. PKIX_RSA_PSS_2048_SHA256).
    #[arg(long)]
    key_details: Option<String>,
    /// The operator (v0.2 media type only), e.g. sigstore.dev.
    #[arg(long)]
    operator: Option<String>,
}

#[derive(Debug, Args)]
pub struct AddAuthority {
    /// The trusted root to edit (in place).
    file: PathBuf,
    /// PEM file with the chain's certificates (any order; recorded leaf-most first).
    #[arg(long)]
    chain: PathBuf,
    /// The service URL, e.g. https://fulcio.sigstore.dev.
    #[arg(long)]
    uri: Option<String>,
    /// When the chain starts being valid (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    start: DateTime<Utc>,
    /// When it stops (RFC 3339); leave out for open-ended.
    #[arg(long, value_parser = parse_time)]
    end: Option<DateTime<Utc>>,
    /// Record this subject instead of the anchor certificate's, as `/O=org/CN=name`.
    #[arg(long)]
    subject: Option<String>,
    /// The operator (v0.2 media type only), e.g. sigstore.dev.
    #[arg(long)]
    operator: Option<String>,
}

#[derive(Debug, Args)]
pub struct Which {
    /// The list the instance is in.
    #[arg(long, value_enum)]
    kind: KindArg,
    /// The instance's URL (baseUrl or uri); if several match, the open-ended one.
    #[arg(long, conflicts_with = "index")]
    url: Option<String>,
    /// The instance's index in its list.
    #[arg(long)]
    index: Option<usize>,
}

impl TrustedRootCommand {
    /// Whether the command is a check (`validate`): 1 problems found, 2 could not run.
    pub fn is_check(&self) -> bool {
        matches!(self, TrustedRootCommand::Validate { .. })
    }

    /// Whether the command prints JSON (results and errors).
    pub fn json(&self) -> bool {
        matches!(
            self,
            TrustedRootCommand::Validate { json: true, .. } | TrustedRootCommand::Diff { json: true, .. }
        )
    }
}

pub fn run(c: TrustedRootCommand) -> CmdResult {
    match c {
        TrustedRootCommand::Validate {
            file,
            json,
            strict,
            as_of,
        } => {
            let bytes = common::read(&file)?;
            let findings = validate::validate_trusted_root_at(&bytes, Some(as_of.as_of()));
            common::report(&file, "trusted root", &findings, json, strict)
        }
        TrustedRootCommand::New {
            file,
            media_type,
            force,
        } => {
            common::refuse_overwrite(&file, force)?;
            let media = match media_type {
                MediaArg::Legacy => MediaTypeChoice::Legacy,
                MediaArg::V02 => MediaTypeChoice::V02,
            };
            let doc = Document::new(TrustedRoot::new(media));
            common::write_atomic(&file, &doc.to_bytes().map_err(in_file(&file))?)?;
            outln!(
                "{}: new trusted root ({})",
                file.display(),
                doc.value.media_type.as_deref().unwrap_or("")
            )?;
            Ok(ExitCode::SUCCESS)
        }
        TrustedRootCommand::AddTlog(a) => add_log(Section::Tlogs, a),
        TrustedRootCommand::AddCtlog(a) => add_log(Section::Ctlogs, a),
        TrustedRootCommand::AddCa(a) => add_authority(Section::CertificateAuthorities, a),
        TrustedRootCommand::AddTsa(a) => add_authority(Section::TimestampAuthorities, a),
        TrustedRootCommand::Retire { file, which, end } => {
            let section = which.kind.section();
            let mut moved_back = None;
            edit(&file, |root| {
                let index = resolve(root, section, &which)?;
                let at = trustroot_targets::sigstore::time::format(&end);
                let path = format!("$.{}[{index}]", section.field());
                let done = match root.retire(section, index, end)? {
                    Retired::Moved { from, back_in_time } => {
                        if back_in_time {
                            moved_back = Some((path.clone(), from.clone()));
                        }
                        format!("moved the end of {path} from {from} to {at}")
                    }
                    _ => format!("retired {path} at {at}"),
                };
                Ok((done, Vec::new()))
            })?;
            if let Some((path, from)) = moved_back {
                crate::note!(
                    "warning: the end of {path} moved back in time (it was {from}): what this instance signed or logged after the new end no longer verifies"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TrustedRootCommand::Extract {
            file,
            out_dir,
            kind,
            index,
            out,
        } => extract(&file, out_dir, kind, index, out),
        TrustedRootCommand::Diff { old, new, json } => {
            let a = load(&old)?;
            let b = load(&new)?;
            let changes = diff::diff_trusted_roots(&a.value, &b.value);
            print_diff(&old, &new, &changes, json)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load(file: &Path) -> Result<Document<TrustedRoot>, Failure> {
    let bytes = common::read(file)?;
    Document::parse(&bytes).map_err(in_file(file))
}

/// Reads, edits, validates and (unless the edit adds errors) writes a trusted root.
fn edit(file: &Path, f: impl FnOnce(&mut TrustedRoot) -> Result<(String, Vec<String>), Failure>) -> CmdResult {
    let bytes = common::read(file)?;
    let before = validate::validate_trusted_root(&bytes);
    let mut doc: Document<TrustedRoot> = Document::parse(&bytes).map_err(in_file(file))?;
    let (done, notes) = f(&mut doc.value).map_err(|e| e.about(file.display()))?;
    let new_bytes = doc.to_bytes().map_err(in_file(file))?;
    let after = validate::validate_trusted_root(&new_bytes);
    common::finish_edit(file, &before, &new_bytes, &after, &done, &notes)
}

fn add_log(section: Section, a: AddLog) -> CmdResult {
    let key = keys::key_from_pem(&common::read_text(&a.key)?).map_err(in_file(&a.key))?;
    let (start, end) = (a.start, a.end);
    let is_ed25519 = matches!(key.key.kind, keys::KeyKind::Ed25519(_));
    let log_id = match (section, a.rekor_version) {
        (Section::Ctlogs, Some(_)) => return Err(Failure::usage("--rekor-version is for add-tlog")),
        (Section::Ctlogs, None) => LogIdKind::Spki,
        (_, Some(2)) => LogIdKind::Checkpoint,
        (_, Some(_)) => LogIdKind::Spki,
        (_, None) if is_ed25519 => {
            return Err(Failure::usage(
                "an Ed25519 tlog key needs --rekor-version: 2 for a Rekor v2 (tile) log, whose log ID is the checkpoint key hash, or 1 for a Rekor v1 log, whose log ID is the SHA-256 of the key",
            ));
        }
        (_, None) => LogIdKind::Spki,
    };
    let params = LogParams {
        key,
        key_details: a.key_details,
        base_url: a.url,
        hash_algorithm: a.hash_algorithm,
        start,
        end,
        log_id,
        operator: a.operator,
    };
    edit(&a.file, |root| {
        let (i, notes) = root.add_log(section, &params)?;
        let l = &root.logs(section)[i];
        Ok((
            format!(
                "added $.{}[{i}] {} with log ID {} ({})",
                section.field(),
                params.base_url,
                l.log_id.as_ref().and_then(|x| x.key_id.as_deref()).unwrap_or(""),
                l.public_key
                    .as_ref()
                    .and_then(|k| k.key_details.as_deref())
                    .unwrap_or("")
            ),
            notes,
        ))
    })
}

fn parse_subject(s: &str) -> Result<(Option<String>, Option<String>), Failure> {
    let mut org = None;
    let mut cn = None;
    for part in s.split('/').filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some(("O", v)) => org = Some(v.to_string()).filter(|v| !v.is_empty()),
            Some(("CN", v)) => cn = Some(v.to_string()).filter(|v| !v.is_empty()),
            _ => {
                return Err(Failure::usage(format!(
                    "--subject: `{part}` is not O=... or CN=... (write /O=org/CN=name)"
                )));
            }
        }
    }
    Ok((org, cn))
}

fn add_authority(section: Section, a: AddAuthority) -> CmdResult {
    let chain = certs::certs_from_pem(&common::read_text(&a.chain)?).map_err(in_file(&a.chain))?;
    let (start, end) = (a.start, a.end);
    if section == Section::CertificateAuthorities && a.uri.is_none() {
        return Err(Failure::usage(
            "add-ca needs --uri (the CA's URL, e.g. https://fulcio.sigstore.dev)",
        ));
    }
    let params = AuthorityParams {
        chain,
        uri: a.uri,
        subject: a.subject.as_deref().map(parse_subject).transpose()?,
        start,
        end,
        operator: a.operator,
    };
    edit(&a.file, |root| {
        let (i, notes) = root.add_authority(section, &params)?;
        Ok((
            format!(
                "added $.{}[{i}] {} ({} certificate{})",
                section.field(),
                params.uri.as_deref().unwrap_or("(no uri)"),
                params.chain.len(),
                if params.chain.len() == 1 { "" } else { "s" }
            ),
            notes,
        ))
    })
}

fn resolve(root: &TrustedRoot, section: Section, which: &Which) -> Result<usize, Failure> {
    if let Some(i) = which.index {
        return Ok(i);
    }
    let Some(url) = &which.url else {
        return Err(Failure::usage("say which instance with --url or --index"));
    };
    let matches = root.find_by_url(section, url);
    let open: Vec<usize> = matches
        .iter()
        .copied()
        .filter(|&i| root.is_open_ended(section, i))
        .collect();
    match (matches.as_slice(), open.as_slice()) {
        ([], _) => Err(Failure::usage(format!("no {} has the URL {url}", section.noun()))),
        ([i], _) => Ok(*i),
        (_, [i]) => Ok(*i),
        _ => Err(Failure::usage(format!(
            "{} instances of {} have the URL {url} ({:?}); say which with --index",
            matches.len(),
            section.field(),
            matches
        ))),
    }
}

fn extract(
    file: &Path,
    out_dir: Option<PathBuf>,
    kind: Option<KindArg>,
    index: Option<usize>,
    out: Option<PathBuf>,
) -> CmdResult {
    let doc = load(file)?;
    let root = &doc.value;
    if let Some(dir) = out_dir {
        std::fs::create_dir_all(&dir).map_err(|e| Failure::io(format!("{}: {e}", dir.display())))?;
        let all = root.extract_all().map_err(in_file(file))?;
        for (name, pem) in &all {
            let p = dir.join(name);
            common::write_atomic(&p, pem.as_bytes())?;
            outln!("{}", p.display())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(kind), Some(index)) = (kind, index) else {
        return Err(Failure::usage("give --out-dir, or --kind and --index"));
    };
    let (_, pem) = root.extract(kind.section(), index).map_err(in_file(file))?;
    match out {
        Some(p) => {
            common::write_atomic(&p, pem.as_bytes())?;
            outln!("{}", p.display())?;
        }
        None => output::text(&pem)?,
    }
    Ok(ExitCode::SUCCESS)
}

pub fn print_diff(old: &Path, new: &Path, changes: &[Change], json: bool) -> Result<(), Failure> {
    if json {
        return output::json(&serde_json::json!({
            "old": old.display().to_string(),
            "new": new.display().to_string(),
            "changes": changes,
        }));
    }
    if changes.is_empty() {
        return outln!("No changes between {} and {}.", old.display(), new.display());
    }
    outln!("Changes from {} to {}:", old.display(), new.display())?;
    for c in changes {
        outln!("{} {}", if c.attention { "!" } else { "*" }, c.summary)?;
    }
    let n = changes.iter().filter(|c| c.attention).count();
    if n > 0 {
        outln!(
            "{n} change{} marked `!` need{} attention before signing.",
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" }
        )?;
    }
    Ok(())
}
