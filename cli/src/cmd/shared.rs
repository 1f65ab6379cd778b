//! What the command groups share: passphrase arguments and prompting, the one parser of
//! every time argument (`--at`), and the exit code of a command that succeeded or failed.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Args;
use trustroot_ceremony::error::KeyError;
use trustroot_ceremony::keys;

use crate::output::{self, Failure, Format};

/// A command's result: `Ok` is success (exit 0), `Err` a failure to print.
pub type CmdResult<T = ()> = Result<T, Failure>;

pub type Zeroizing<T> = trustroot_ceremony::keys::Zeroizing<T>;

/// Where a passphrase comes from when it is not typed at a prompt.
#[derive(Debug, Args, Clone, Default)]
pub struct PassphraseArgs {
    /// Read the passphrase (or a token's PIN) from this environment variable (for automation).
    #[arg(long, value_name = "VAR", conflicts_with = "passphrase_file")]
    pub passphrase_env: Option<String>,
    /// Read the passphrase (or a token's PIN) from the first line of this file (for automation).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// Prints a command's failure (if any) in its format and returns the exit code: 0, or 1.
pub fn finish(format: Format, result: CmdResult) -> ExitCode {
    output::finish(format, result.map(|()| ExitCode::SUCCESS), 1)
}

/// The value parser of every time argument (`--at`, ...): RFC 3339, e.g.
/// `2030-01-01T00:00:00Z`. A wrong time is a usage error, caught before the command runs.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    trustroot_core::time::parse(text)
        .ok_or_else(|| format!("'{text}' is not an RFC 3339 time (e.g. 2030-01-01T00:00:00Z)"))
}

/// The value parser of every duration argument (`--within`, `--keep`, ...): a number and
/// s, m, h, d or w, e.g. `30d`, `12h`.
pub fn parse_duration(text: &str) -> Result<chrono::Duration, String> {
    trustroot_core::expiry::parse_duration(text)
        .ok_or_else(|| format!("'{text}' is not a duration: a number and s, m, h, d or w (30d, 12h)"))
}

/// Refuses to publish at a reference time (`--at`) whose timestamp would already be expired
/// by the clock: `--at` rehearses, on a copy; on the live repository one mistyped date
/// would publish metadata every client refuses.
pub fn refuse_stale_publish(repo: &trustroot_ceremony::repo::Repo, at: Option<DateTime<Utc>>) -> CmdResult {
    let Some(at) = at else { return Ok(()) };
    let days = repo.policy.periods("timestamp").expiry_days;
    let expires = at + chrono::Duration::days(i64::from(days));
    let clock = Utc::now();
    if expires > clock {
        return Ok(());
    }
    Err(crate::output::Failure::usage(format!(
        "--at {}: the timestamp it would sign expires {} ({days} days later), already past by the clock ({}); nothing was published",
        trustroot_core::time::format(&at),
        trustroot_core::time::format(&expires),
        trustroot_core::time::format(&clock)
    ))
    .with_hint_text("--at rehearses on a copy of the repository; leave it out to publish now"))
}

/// The reference time: the one given, or the clock.
pub fn now(at: Option<DateTime<Utc>>) -> DateTime<Utc> {
    at.unwrap_or_else(Utc::now)
}

/// A key's passphrase or a token's PIN (`secret`, as [`keys::KeyRef::secret_name`] says):
/// from --passphrase-env / --passphrase-file, or typed at the terminal.
pub fn passphrase_source(
    args: &PassphraseArgs,
    what: String,
    secret: &'static str,
) -> impl FnMut() -> trustroot_ceremony::Result<Zeroizing<String>> {
    let args = args.clone();
    move || {
        if let Some(var) = &args.passphrase_env {
            return keys::passphrase_from_env(var);
        }
        if let Some(file) = &args.passphrase_file {
            return keys::passphrase_from_file(file);
        }
        if !std::io::stdin().is_terminal() {
            return Err(if secret == "PIN" {
                KeyError::NoPinSource { what: what.clone() }
            } else {
                KeyError::NoPassphraseSource { what: what.clone() }
            }
            .into());
        }
        let label = if secret == "PIN" { "PIN" } else { "Passphrase" };
        rpassword::prompt_password(format!("{label} for {what}: "))
            .map(Zeroizing::new)
            .map_err(|source| KeyError::PassphraseUnreadable { source }.into())
    }
}

/// The secret source for a key reference: a PIN for a token, a passphrase for a key file.
pub fn secret_source(
    args: &PassphraseArgs,
    key_ref: &keys::KeyRef,
) -> impl FnMut() -> trustroot_ceremony::Result<Zeroizing<String>> {
    passphrase_source(args, key_ref.describe(), key_ref.secret_name())
}

/// The secret source of the online key `[online] signer` names (`reference`).
pub fn online_secret_source(
    args: &PassphraseArgs,
    reference: &str,
) -> impl FnMut() -> trustroot_ceremony::Result<Zeroizing<String>> {
    let secret = keys::KeyRef::parse(reference).map_or("passphrase", |r| r.secret_name());
    passphrase_source(args, format!("the online key ({reference})"), secret)
}

/// `--to` and its companions, on the commands that publish (`ceremony publish`, `online
/// refresh`).
#[derive(Debug, Args, Clone, Default)]
pub struct PushArgs {
    /// After publishing, push the published tree to object storage: s3://BUCKET/PREFIX
    /// (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE), az://CONTAINER/PREFIX
    /// (AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN),
    /// gs://BUCKET/PREFIX (GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_SERVICE_ACCOUNT or gcloud's
    /// application-default login), file:///DIR or a directory path (default: [publish] to).
    /// Uploads only what the store lacks, timestamp.json last; the same command resumes
    /// after a failure. With no round waiting, `ceremony publish --to` pushes the
    /// current published tree.
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
    /// Another address for the store (default: [publish] endpoint, else the cloud's own):
    /// for s3:// an S3-compatible store, reached path-style (http://127.0.0.1:9000); for
    /// az:// the account's blob URL (https://ACCOUNT.blob.core.windows.net, or
    /// http://127.0.0.1:10000/devstoreaccount1 for Azurite); for gs:// an emulator
    /// (http://127.0.0.1:4443), which is sent no credentials (STORAGE_EMULATOR_HOST does
    /// the same). Plain http:// is allowed, with a warning unless on this machine.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Where clients read the pushed prefix (default: [publish] public_url); every
    /// uploaded object is read back from here and compared before timestamp.json goes up.
    /// Required for s3://, az:// and gs://.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Before pushing, list the prefix and compare every object with what trustroot
    /// recorded: one changed behind its back is refused (nothing uploaded), a missing one
    /// is uploaded again, others' objects are reported. One LIST request per 1000 objects.
    #[arg(long)]
    pub audit: bool,
    /// Print the push's plan and write nothing: per phase the objects and bytes to upload,
    /// what would be deleted, and the requests it would make. Nothing is signed or
    /// published locally either (a round waiting stays waiting): the plan is for the tree
    /// published now. The store is only read (the manifest, and a listing on a first push).
    #[arg(long)]
    pub dry_run: bool,
    /// Uploads in flight at once, 1 to 256 (default: [publish] jobs, else 8). More hide a
    /// distant store's round trips; the phases still go up one after another.
    #[arg(long, value_name = "N", value_parser = trustroot_store::object::parse_jobs)]
    pub jobs: Option<usize>,
    /// Where the push manifest is kept (default: [publish] manifest, else beside the
    /// prefix: s3://BUCKET/PREFIX.trustroot-push.json). Name the object, ending in
    /// .trustroot-push.json, in the same kind of store; never under the served prefix.
    #[arg(long, value_name = "URL")]
    pub manifest: Option<String>,
    /// Cache-Control for one kind of name, KIND=VALUE, repeatable; KIND is timestamp,
    /// unversioned, versioned or targets (default: [publish.cache], else timestamp and
    /// unversioned "no-cache", versioned and targets "public, max-age=31536000, immutable").
    /// Objects already up are put again with the new value.
    #[arg(long = "cache-control", value_name = "KIND=VALUE")]
    pub cache_control: Vec<String>,
}

impl PushArgs {
    /// The push the flags and `[publish]` ask for, checked (no request made): `None` when
    /// neither names a destination.
    pub fn checked(
        &self,
        repo: &trustroot_ceremony::repo::Repo,
    ) -> CmdResult<Option<trustroot_ceremony::push::Checked>> {
        let target = trustroot_ceremony::push::Target::resolve(
            self.to.as_deref(),
            self.endpoint.as_deref(),
            self.public_url.as_deref(),
            &repo.policy.publish,
        );
        let companions = self.audit
            || self.endpoint.is_some()
            || self.public_url.is_some()
            || self.dry_run
            || self.jobs.is_some()
            || self.manifest.is_some()
            || !self.cache_control.is_empty();
        if target.is_none() && companions {
            return Err(Failure::usage(
                "--audit, --dry-run, --endpoint, --public-url, --jobs, --manifest and --cache-control go with a push: give --to URL (or set [publish] to)",
            ));
        }
        let Some(checked) = target
            .map(|t| t.check_with(repo, self.manifest.as_deref()))
            .transpose()?
        else {
            return Ok(None);
        };
        Ok(Some(trustroot_ceremony::push::Checked {
            audit: self.audit,
            dry_run: self.dry_run,
            jobs: self.jobs.unwrap_or(checked.jobs),
            cache: self.cache(checked.cache.clone())?,
            ..checked
        }))
    }

    /// `base` (the policy's values, or the defaults) with each `--cache-control KIND=VALUE`
    /// applied; needs no repository, so that every command pushing to a store can use it.
    pub fn cache(
        &self,
        base: trustroot_store::object::layout::CacheControl,
    ) -> CmdResult<trustroot_store::object::layout::CacheControl> {
        let mut cache = base;
        for spec in &self.cache_control {
            cache
                .apply(spec)
                .map_err(|reason| Failure::usage(format!("--cache-control {spec}: {reason}")))?;
        }
        Ok(cache)
    }
}

/// Pushes after a local publish or refresh. A failure says the local tree is published
/// and that the same command resumes the push.
pub fn push_published(
    repo: &trustroot_ceremony::repo::Repo,
    target: &trustroot_ceremony::push::Checked,
    now: DateTime<Utc>,
    rerun: &str,
) -> CmdResult<trustroot_ceremony::push::PushReport> {
    // Our own client reads the push back too; it lives in the mirror crate, which the
    // ceremony crate does not depend on.
    let client = |base: url::Url, tree: std::path::PathBuf| -> Box<dyn trustroot_store::object::ReadBack> {
        // After ceremony's byte compare (which runs first): targets from the local tree.
        Box::new(
            trustroot_mirror::readback::ClientReadBack::new(base, tree)
                .with_jobs(target.jobs)
                .after_byte_compare(),
        )
    };
    trustroot_ceremony::push::push(repo, target, now, &client).map_err(|e| {
        Failure::from(e).with_hint_text(format!(
            "the local tree is published, the store still serves what it served before; run `{rerun}` to push again"
        ))
    })
}

/// The lines a push prints.
pub fn show_push(report: &trustroot_ceremony::push::PushReport) -> CmdResult {
    for warning in &report.warnings {
        crate::note!("warning: {warning}");
    }
    for key in &report.foreign {
        crate::note!(
            "warning: {} holds {key}, which no push of trustroot's put there (left alone)",
            report.to
        );
    }
    for key in &report.missing {
        crate::note!("note: {key} was missing from {}; uploaded again", report.to);
    }
    if let Some(plan) = &report.plan {
        crate::outln!("Dry run: nothing was written. A push to {} would:", report.to)?;
        for line in &plan.lines {
            crate::outln!("  {line}")?;
        }
        return Ok(());
    }
    if report.uploaded == 0 {
        return crate::outln!("{} already serves this tree (nothing uploaded).", report.to);
    }
    let read = match &report.public_url {
        Some(url) => format!("; {} read back from {url} and identical", report.read_back),
        None => String::new(),
    };
    let clients = if report.clients.is_empty() {
        String::new()
    } else {
        format!(
            "; given the new timestamp.json before it went up: {}",
            report.clients.join(", ")
        )
    };
    crate::outln!(
        "Pushed to {}: {} object(s) uploaded, timestamp.json last{read}{clients}; {} deleted after the grace period.",
        report.to,
        report.uploaded,
        report.deleted
    )
}

/// The command that resumes a push: `command` with the destination's flags as given
/// (credentials never appear in them).
pub fn rerun(command: &str, target: &trustroot_ceremony::push::Checked) -> String {
    rerun_push(
        command,
        &target.destination,
        target.endpoint.as_deref(),
        target.public_url.as_ref(),
        target.manifest.as_ref(),
    )
}

/// [`rerun`] from a push's parts, for every command that pushes (`manifest` as
/// `store::object::manifest::location` names it: without its suffix).
pub fn rerun_push(
    command: &str,
    destination: &trustroot_store::object::Destination,
    endpoint: Option<&str>,
    public_url: Option<&url::Url>,
    manifest: Option<&trustroot_store::object::Destination>,
) -> String {
    let mut text = format!("{command} --to {}", destination.url);
    if let Some(endpoint) = endpoint {
        text.push_str(&format!(" --endpoint {endpoint}"));
    }
    if let Some(url) = public_url {
        text.push_str(&format!(" --public-url {url}"));
    }
    if let Some(manifest) = manifest {
        text.push_str(&format!(
            " --manifest {}{}",
            manifest.url,
            trustroot_store::object::url::MANIFEST_SUFFIX
        ));
    }
    text
}

/// `--sigstore-trusted-root FILE`: the Sigstore trust material keyless keys are checked
/// against.
#[derive(Debug, Args, Clone, Default)]
pub struct SigstoreTrustArgs {
    /// Sigstore trusted_root.json that keyless keys (tuf-on-ci's sigstore-oidc
    /// keyholders) are checked against: certificate authorities, transparency logs, CT logs
    /// and timestamp authorities. Default: Sigstore production's, embedded in trustroot
    /// (the trusted_root.json target of the production state root v15 belongs to). Take
    /// another from the Sigstore instance's own TUF repository, never from the repository
    /// being verified.
    #[arg(long, value_name = "FILE")]
    pub sigstore_trusted_root: Option<PathBuf>,
}

impl SigstoreTrustArgs {
    pub fn trust(&self) -> Result<std::sync::Arc<trustroot_core::keyless::SigstoreTrust>, Failure> {
        sigstore_trust(self.sigstore_trusted_root.as_ref())
    }
}

/// The Sigstore trust material in `path`, read once; by default the embedded production one.
pub fn sigstore_trust(
    path: Option<&PathBuf>,
) -> Result<std::sync::Arc<trustroot_core::keyless::SigstoreTrust>, Failure> {
    let Some(path) = path else {
        return Ok(trustroot_mirror::sync::embedded_sigstore_trust());
    };
    let bytes = crate::input::read_bounded(path)?;
    let trust = trustroot_core::keyless::SigstoreTrust::from_json(&bytes).map_err(|e| {
        Failure::usage(format!("{}: {e}", path.display()))
            .with_hint_text("--sigstore-trusted-root takes a Sigstore trusted_root.json")
    })?;
    Ok(std::sync::Arc::new(trust))
}
