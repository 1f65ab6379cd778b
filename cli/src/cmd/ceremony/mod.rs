//! `trustroot ceremony ...`: signing rounds, from staging to publishing.
//! No TUF logic lives here: parsing arguments, prompting, printing.
//!
//! - `start`: `ceremony start`, a round opened (or why not), with what its checks found.
//! - `sign`: `ceremony sign`, a request's baseline checked, shown and confirmed.
//! - `status`: `ceremony status`, who signed and who has not.
//! - `page`: the status page of `ceremony status --html`.
//! - `payloads`: the Sigstore payloads among the targets, summarised for that page.

mod page;
mod payloads;
mod sign;
mod start;
mod status;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use trustroot_ceremony::round::{self, Added, Round};
use trustroot_ceremony::{delegate, publish, repo};

use super::shared::{
    CmdResult, PassphraseArgs, PushArgs, finish, now, online_secret_source, parse_time, push_published,
    refuse_stale_publish, show_push,
};
use crate::output::{self, Failure, Format};
use crate::{note, outln};
use sign::{BaselineArgs, sign};
use start::start;
use status::status;

#[derive(Debug, Args, Clone)]
pub struct RepoArgs {
    /// The signing repository (default: the current directory).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The round (default: the latest).
    #[arg(long)]
    pub round: Option<String>,
    /// Use this time instead of the clock (RFC 3339), e.g. for tests and rehearsals.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<DateTime<Utc>>,
}

/// `trustroot ceremony ...`
#[derive(Debug, Subcommand)]
pub enum CeremonyCommand {
    /// Stage the next versions of root, targets and delegated targets from trustroot.toml
    /// and the targets/ tree, in a new round under ceremonies/<id>/. Roles that did not
    /// change (and are not within their signing period) are not staged.
    ///
    /// With --due, for a scheduler (cron, CI): stage only the offline roles inside their
    /// signing period, and only if no earlier round is still waiting to be published;
    /// otherwise say what is waiting, or when the next role falls due, and change nothing.
    /// Exit 0 in each of those cases (read `action` in --json: `opened`, `waiting`,
    /// `nothing-due`); exit 1 on an error.
    ///
    /// What would be staged is checked first, as the publish gate will check it: the
    /// Sigstore payload rules on every trusted_root*.json and signing_config*.json it
    /// lists, and the lints (key IDs, spec_version, expiry horizons). Warnings are shown;
    /// an error opens no round (exit 1, `action` `refused` in --json) unless
    /// --allow-findings is given. With --due an error always opens no round.
    ///
    /// With --role ROLE (repeatable), stage exactly those roles at their next version, even
    /// when nothing changed: e.g. `--role root` renews root before its signing period, so
    /// the keyholders can sign while they are all available. Other roles with waiting
    /// changes are listed, not staged (`not_staged` in --json).
    Start {
        /// Round id (default: the next number).
        #[arg(long)]
        id: Option<String>,
        /// Open a round only for roles inside their signing period (see above).
        #[arg(long)]
        due: bool,
        /// Stage this role (root, targets or a delegated role) at its next version even if
        /// nothing changed, and no other role. Repeat for several roles.
        #[arg(long = "role", value_name = "ROLE", conflicts_with = "due")]
        roles: Vec<String>,
        /// Open the round even when the checks find errors in what it stages (they are
        /// shown, and shown again to every keyholder in the request).
        #[arg(long, conflicts_with = "due")]
        allow_findings: bool,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Write a self-contained signing request for a keyholder to carry to their signing
    /// machine: the exact bytes to sign per role, their sha256, the signers, and a summary
    /// of what changed against the published version.
    Request {
        /// Request file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Print JSON: the round, the file, the request digest and the roles to sign.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Sign a round with one key, after showing what is signed and asking for confirmation.
    ///
    /// On an air-gapped machine, with the request file, your key and your own copy of the
    /// published root:
    ///
    ///   trustroot ceremony sign --request request.json --key my-key.pem --root root.json
    ///
    /// The request is checked first (every digest; the summary is regenerated from the
    /// bytes; a mismatch means it was altered). Then its baseline, the published versions
    /// its changes are shown against, is checked against the root you give with --root:
    /// the request's root versions must be that root or verify from it, the staged root
    /// must follow the root reached, and the previous targets must be signed by that
    /// root's targets keys. A baseline that does not verify is refused before any change
    /// is shown. --root is required for any request that follows a published root;
    /// --unverified-baseline signs against the request's own claim instead, and says so.
    /// A request for a new repository (root v1) has no baseline: sign it without --root.
    /// Compare the request digest printed with the one the coordinator gave you by
    /// another channel. Then type `yes`. One
    /// signature file per role you sign is written to --out-dir (default: the current
    /// directory); hand those files back to the coordinator, who runs
    /// `trustroot ceremony add-signature`. Without --request, the latest round of the
    /// repository is signed and the signatures are stored in it directly.
    ///
    /// Without a terminal the command refuses unless --yes is given. Your private key is
    /// never written anywhere.
    Sign {
        #[arg(
            long,
            value_name = "REF",
            help = "Your private key: a PEM file, env:VAR, a pkcs11: URI or awskms:KEY",
            long_help = crate::cmd::key::KEY_REF_HELP
        )]
        key: String,
        /// Sign this request file (no repository needed).
        #[arg(long, value_name = "FILE")]
        request: Option<PathBuf>,
        /// Where to write signature files when signing a request (default: .).
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// Your own copy of the published root (metadata/root.json of your clone of the
        /// signing repository, or root_history/N.root.json): the request's changes are
        /// checked against the published versions it authenticates.
        #[arg(long, value_name = "FILE", conflicts_with = "unverified_baseline")]
        root: Option<PathBuf>,
        /// Sign without --root: the changes are shown against the request's own claim of
        /// what is published, which is not verified (the summary says so, with its sha256).
        #[arg(long)]
        unverified_baseline: bool,
        /// Do not ask for confirmation (the summary is still printed).
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        passphrase: PassphraseArgs,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Bring signature files (from `ceremony sign --request`) back into the round. Each is
    /// checked (round, role, version, digest, signer, signature) before it is stored.
    #[command(
        after_help = "Exit status: 0 every file stored (or already there); 1 any file refused (the others are still stored); 2 usage error. See docs/exit-codes.md."
    )]
    AddSignature {
        /// Signature files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON: per file, stored, already signed or refused (and why). Exit 1 when
        /// any file is refused.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Run the verify-before-publish gate on a round, writing nothing: our client updates
    /// from the published repository (and from root v1) to the round's; tough loads it
    /// in-process and reads every target; Sigstore payloads are validated; key IDs,
    /// spec_version and expiry horizons are linted. Needs the online key (snapshot and
    /// timestamp are signed as a publish would). Exit 1 when a check fails.
    #[command(
        after_help = "Exit status: 0 the gate passes; 1 it does not (the findings say why; under --json, the report); 2 could not run: the round cannot be read, the online key is missing, a usage error (under --json, the error object). See docs/exit-codes.md."
    )]
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Passphrase of the online key, when it is encrypted.
        #[command(flatten)]
        passphrase: PassphraseArgs,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Publish a fully signed round: refused unless every threshold is met and the gate
    /// passes. Snapshot and timestamp are signed with the online key; metadata/ (with
    /// root_history/) is updated; the published tree is built beside the old one under
    /// publish.destination and switched with one atomic rename (serve DEST/repository).
    /// With --to, the published tree is then pushed to object storage, timestamp.json last
    /// and only after a read-back through --public-url.
    #[command(
        after_help = "Exit status: 0 published (and pushed, with --to); 1 refused (thresholds not met, the gate fails, the lock is held, --to inside the repository...), nothing written, or the push failed: the local tree is published, the store serves what it served, and the same command resumes; 2 usage error. See docs/exit-codes.md."
    )]
    Publish {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Passphrase of the online key, when it is encrypted.
        #[command(flatten)]
        passphrase: PassphraseArgs,
        #[command(flatten)]
        repo: RepoArgs,
        #[command(flatten)]
        push: PushArgs,
        /// After publishing (or pushing), write the status page (as `ceremony status --html`)
        /// to OUT, showing the round just published: for instance DEST/index.html, beside
        /// the published tree for the same web server. Not inside the published tree
        /// (DEST/repository), which holds TUF files only.
        #[arg(long, value_name = "OUT")]
        html: Option<PathBuf>,
    },
    /// Create or change a delegated targets role (delegated by targets). Add its keys with
    /// `trustroot key add KEY --role NAME REF`; the next `ceremony start` stages it.
    Delegate {
        /// The delegated role's name.
        name: String,
        /// A target path pattern the role is trusted for (repeat for more; `*` matches
        /// within one path segment). Replaces the role's patterns.
        #[arg(long = "path", value_name = "PATTERN")]
        paths: Vec<String>,
        /// How many of its keys must sign it.
        #[arg(long)]
        threshold: Option<u64>,
        /// Whether the search for a target stops at this role (default for a new role: true).
        #[arg(long, value_name = "BOOL")]
        terminating: Option<bool>,
        /// Spread the role's targets over this many hashed bins (a power of two; 0 removes
        /// the bins), each signed by the role's keys.
        #[arg(long, value_name = "N")]
        bins: Option<u32>,
        /// Expiry period of new versions, in days.
        #[arg(long, value_name = "DAYS")]
        expiry_days: Option<u32>,
        /// Renew a version once it is within this many days of expiring.
        #[arg(long, value_name = "DAYS")]
        signing_days: Option<u32>,
        /// The signing repository (default: the current directory).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
    },
    /// Per staged role: version, expiry, valid signatures against each required threshold
    /// (for a new root, the published root's and the new one's), who signed and who has
    /// not. Signatures that do not verify or come from non-signers are listed, never counted.
    #[command(
        after_help = "Exit status: 0 the status was shown, complete or not (`complete` in --json says which); 1 no round, or it cannot be read; 2 usage error. See docs/exit-codes.md."
    )]
    ///
    /// With --html, also write the repository's whole status as one self-contained HTML
    /// page (no scripts, nothing fetched: it opens offline and from file://): every
    /// published role with its expiry against its signing period, the keyholders and their
    /// YubiKey attestations, the round's signatures (signed, missing, invalid), every
    /// round's history, and the Sigstore payloads among the targets (trusted_root.json,
    /// signing_config.v0.2.json / signing_config.json): each CA, transparency log, CT log
    /// and TSA with its validity window, on a time line. A part that cannot be read is shown as such on the page; the page
    /// is still written, and the command then exits 1.
    Status {
        /// Print JSON (with `repository`: the same data the page shows).
        #[arg(long)]
        json: bool,
        /// Write the status page to this file.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        #[command(flatten)]
        repo: RepoArgs,
    },
}

pub fn run(command: CeremonyCommand) -> ExitCode {
    let format = match &command {
        CeremonyCommand::Start { json, .. }
        | CeremonyCommand::Request { json, .. }
        | CeremonyCommand::AddSignature { json, .. }
        | CeremonyCommand::Verify { json, .. }
        | CeremonyCommand::Publish { json, .. }
        | CeremonyCommand::Status { json, .. } => Format::json_if(*json),
        CeremonyCommand::Sign { .. } | CeremonyCommand::Delegate { .. } => Format::Text,
    };
    // `verify` is a check: 0 the gate passes, 1 problems found (the report printed), 2 it
    // could not run (the error printed).
    if let CeremonyCommand::Verify { json, passphrase, repo } = &command {
        let outcome = gate(false, *json, passphrase, repo, None).map(|passed| ExitCode::from(u8::from(!passed)));
        return output::finish(format, outcome, 2);
    }
    finish(format, dispatch(command))
}

fn dispatch(command: CeremonyCommand) -> CmdResult {
    match command {
        CeremonyCommand::Start {
            id,
            due,
            roles,
            allow_findings,
            json,
            repo,
        } => start(id.as_deref(), due, &roles, allow_findings, json, &repo),
        CeremonyCommand::Request { out, json, repo } => request(&out, json, &repo),
        CeremonyCommand::Sign {
            key,
            request,
            out_dir,
            root,
            unverified_baseline,
            yes,
            passphrase,
            repo,
        } => sign(
            &key,
            request.as_deref(),
            out_dir.as_deref(),
            BaselineArgs {
                root: root.as_deref(),
                unverified: unverified_baseline,
            },
            yes,
            &passphrase,
            &repo,
        ),
        CeremonyCommand::AddSignature { files, json, repo } => add_signatures(&files, json, &repo),
        CeremonyCommand::Status { json, html, repo } => status(json, html.as_deref(), &repo),
        CeremonyCommand::Verify { json, passphrase, repo } => gate(false, json, &passphrase, &repo, None).map(drop),
        CeremonyCommand::Publish {
            json,
            passphrase,
            repo,
            push,
            html,
        } => publish_command(json, &passphrase, &repo, &push, html.as_deref()),
        CeremonyCommand::Delegate {
            name,
            paths,
            threshold,
            terminating,
            bins,
            expiry_days,
            signing_days,
            repo,
        } => {
            let edit = delegate::DelegationEdit {
                paths: (!paths.is_empty()).then_some(paths),
                threshold,
                terminating,
                bins,
                expiry_days,
                signing_days,
            };
            let created = delegate::delegate(&repo, &name, &edit)?;
            outln!(
                "{} delegation '{name}' in trustroot.toml.",
                if created { "Created" } else { "Changed" }
            )?;
            if created {
                outln!(
                    "Next: add its keys with `trustroot key add KEY --role {name} REF`, then `trustroot ceremony start`."
                )
            } else {
                outln!("Next: `trustroot ceremony start` stages targets and '{name}' for signing.")
            }
        }
    }
}

fn open(args: &RepoArgs) -> CmdResult<(repo::Repo, Round)> {
    let repo = repo::Repo::open(&args.repo)?;
    let round = Round::open(&repo, args.round.as_deref())?;
    Ok((repo, round))
}

fn request(out: &Path, json: bool, args: &RepoArgs) -> CmdResult {
    let now = now(args.at);
    let (repo, round) = open(args)?;
    let request = round.request(&repo, now)?;
    let mut bytes =
        serde_json::to_vec_pretty(&request).map_err(|e| Failure::io(format!("cannot write the request: {e}")))?;
    bytes.push(b'\n');
    if out.exists() {
        return Err(
            Failure::local_state(format!("{}: already exists; refusing to overwrite", out.display()))
                .with_hint_text("choose another --out, or remove the old request"),
        );
    }
    repo::write_atomic(out, &bytes)?;
    round.log(
        &repo,
        now,
        "request",
        serde_json::json!({"request_sha256": request.request_sha256, "file": out.file_name().and_then(|n| n.to_str())}),
    )?;
    if json {
        let roles: Vec<serde_json::Value> = request
            .roles
            .iter()
            .map(|r| {
                serde_json::json!({
                    "role": r.role,
                    "version": r.version,
                    "expires": r.expires,
                    "signed_sha256": r.signed_sha256,
                    "findings": r.findings,
                })
            })
            .collect();
        return output::json(&serde_json::json!({
            "round": round.id,
            "file": out.display().to_string(),
            "request_sha256": request.request_sha256,
            "roles": roles,
        }));
    }
    for role in &request.roles {
        for f in &role.findings {
            outln!("{f}")?;
        }
    }
    outln!("Wrote signing request {} for round {}", out.display(), round.id)?;
    outln!(
        "request digest (read it to the keyholders by another channel): {}",
        request.request_sha256
    )
}

fn add_signatures(files: &[PathBuf], json: bool, args: &RepoArgs) -> CmdResult {
    let now = now(args.at);
    let (repo, round) = open(args)?;
    let mut failures = 0;
    let mut results = Vec::new();
    for file in files {
        let result =
            round::read_signature_file(file).and_then(|bytes| round::add_signature(&repo, &round, file, &bytes, now));
        let name = file.display().to_string();
        match result {
            Ok(Added::Stored(path)) => {
                if !json {
                    outln!("{name}: stored as {}", path.display())?;
                }
                results.push(serde_json::json!({"file": name, "result": "stored", "path": path.display().to_string()}));
            }
            Ok(Added::AlreadySigned(path)) => {
                if !json {
                    outln!(
                        "{name}: this key already signed this role ({}); a key counts once, nothing changed",
                        path.display()
                    )?;
                }
                results.push(
                    serde_json::json!({"file": name, "result": "already_signed", "path": path.display().to_string()}),
                );
            }
            Err(e) => {
                failures += 1;
                if !json {
                    note!("error: {e}");
                }
                results.push(serde_json::json!({"file": name, "result": "refused", "error": e.to_string()}));
            }
        }
    }
    let result = serde_json::json!({"round": round.id, "refused": failures, "files": results});
    if failures > 0 {
        let failure = Failure::local_state(format!(
            "{failures} signature file(s) refused{}",
            if json {
                " (see \"files\")"
            } else {
                " (the reasons are above)"
            }
        ))
        .with_hint_text("`trustroot ceremony status` shows who still has to sign");
        return Err(if json {
            output::json_failed(&result, failure)
        } else {
            failure
        });
    }
    if json {
        return output::json(&result);
    }
    Ok(())
}

/// `ceremony publish`: the round through the gate, then the push `--to` names. With a
/// destination and no round waiting (none, or the latest one published), the push alone:
/// how a push that failed after the local publish is resumed.
fn publish_command(
    json: bool,
    passphrase: &PassphraseArgs,
    args: &RepoArgs,
    push: &PushArgs,
    html: Option<&Path>,
) -> CmdResult {
    let repo = repo::Repo::open(&args.repo)?;
    let target = push.checked(&repo)?;
    if let Some(out) = html {
        refuse_page_in_published_tree(&repo, out)?;
    }
    publish_or_push(json, passphrase, args, &repo, target.as_ref())?;
    if let Some(out) = html {
        // The publish stands whatever the page finds: a page that shows a problem is still
        // written, and the problem is a warning here.
        if let Err(Failure::Report(problem)) = status::write_page(out, args, now(args.at))? {
            note!("warning: the status page shows a problem: {}", problem.message);
        }
        if !json {
            outln!("Wrote the status page {}", out.display())?;
        }
    }
    Ok(())
}

/// The served tree (and its state directories) hold TUF files only: a page there would be
/// refused by a push and carried, stale, into every later state by `online refresh`.
fn refuse_page_in_published_tree(repo: &repo::Repo, out: &Path) -> CmdResult {
    let local = trustroot_ceremony::pubdir::PublishDir::new(&repo.policy, &repo.root);
    // As written and with symlinks and `..` resolved (store's one resolver).
    let page = trustroot_store::paths::resolve(out);
    let inside = [local.served(), local.root().join(trustroot_ceremony::pubdir::HIDDEN)]
        .iter()
        .any(|dir| out.starts_with(dir) || page.starts_with(trustroot_store::paths::resolve(dir)));
    if inside {
        return Err(Failure::usage(format!(
            "--html {}: inside the published tree, which holds TUF files only",
            out.display()
        ))
        .with_hint_text(format!(
            "write it beside the tree instead, e.g. --html {}",
            local.root().join("index.html").display()
        )));
    }
    Ok(())
}

/// Publishes the waiting round (then pushes, with `--to`), or with no round waiting and a
/// destination, pushes the published tree.
fn publish_or_push(
    json: bool,
    passphrase: &PassphraseArgs,
    args: &RepoArgs,
    repo: &repo::Repo,
    target: Option<&trustroot_ceremony::push::Checked>,
) -> CmdResult {
    if let Some(target) = target
        && (target.dry_run || (args.round.is_none() && nothing_waiting(repo)?))
    {
        let report = push_published(repo, target, now(args.at), &rerun_publish(target))?;
        if json {
            return output::json(&serde_json::json!({"round": null, "push": report}));
        }
        let served = trustroot_ceremony::pubdir::PublishDir::new(&repo.policy, &repo.root).served();
        if target.dry_run {
            // A dry run signs and publishes nothing: its plan is for the tree published now.
            if args.round.is_some() || !nothing_waiting(repo)? {
                note!(
                    "note: --dry-run publishes nothing: the round waiting stays waiting; the plan is for the tree published now"
                );
            }
            outln!("Planning the push of the published tree ({}).", served.display())?;
        } else {
            outln!("No round waiting: pushing the published tree ({}).", served.display())?;
        }
        return show_push(&report);
    }
    gate(true, json, passphrase, args, target).map(drop)
}

/// True when no round is waiting to be published: there is none, or the latest one is.
fn nothing_waiting(repo: &repo::Repo) -> CmdResult<bool> {
    use trustroot_ceremony::error::{Error, RoundError};
    match Round::open(repo, None) {
        Err(Error::Round(RoundError::NoRound)) => Ok(true),
        Err(e) => Err(e.into()),
        Ok(round) => Ok(round.published_at()?.is_some()),
    }
}

fn rerun_publish(target: &trustroot_ceremony::push::Checked) -> String {
    super::shared::rerun("trustroot ceremony publish", target)
}

/// The gate of `verify` and `publish`: whether it passed. A publish it refuses is an
/// error; a verify that does not pass prints its report and the refusal and is `false`.
/// A publish that passes is then pushed to `target`, if any.
fn gate(
    publish: bool,
    json: bool,
    passphrase: &PassphraseArgs,
    args: &RepoArgs,
    target: Option<&trustroot_ceremony::push::Checked>,
) -> CmdResult<bool> {
    use trustroot_ceremony::error::Operation;
    let now = now(args.at);
    let (repo, round) = open(args)?;
    if publish {
        refuse_stale_publish(&repo, args.at)?;
    }
    let signer = publish::online_signer(&repo, &mut online_secret_source(passphrase, &repo.policy.online.signer))?;
    let (report, operation) = if publish {
        (
            publish::publish(&repo, &round, signer.as_ref(), now)?,
            Operation::Publish,
        )
    } else {
        (publish::verify(&repo, &round, signer.as_ref(), now)?, Operation::Verify)
    };
    if let Some(recovered) = &report.recovered {
        note!("note: {recovered}");
    }
    // A gate that does not pass: the same report as when it passes, and the refusal.
    let refused = |failure: Failure| match failure {
        Failure::Shown if !publish => Ok(false),
        Failure::Report(r) if !publish => {
            output::print_error(Format::Text, &r);
            Ok(false)
        }
        other => Err(other),
    };
    let pushed = match target {
        Some(target) if publish && report.passed => Some(push_published(&repo, target, now, &rerun_publish(target))?),
        _ => None,
    };
    if json {
        if !report.passed {
            return refused(output::json_failed(&report, report.refusal(operation).into()));
        }
        let Some(pushed) = pushed else {
            return output::json(&report).map(|()| true);
        };
        let mut value =
            serde_json::to_value(&report).map_err(|e| Failure::io(format!("cannot encode the report as JSON: {e}")))?;
        if let Some(object) = value.as_object_mut() {
            object.insert("push".into(), serde_json::json!(pushed));
        }
        return output::json(&value).map(|()| true);
    }
    for f in &report.findings {
        outln!("{f}")?;
    }
    for l in &report.left_out {
        outln!("signature left out: {l}")?;
    }
    if !report.passed {
        return refused(report.refusal(operation).into());
    }
    let versions: Vec<String> = report.versions.iter().map(|(r, v)| format!("{r} v{v}")).collect();
    if publish {
        let dest = trustroot_ceremony::pubdir::PublishDir::new(&repo.policy, &repo.root);
        outln!(
            "Published round {}: {} ({} targets). Serve {}",
            report.round,
            versions.join(", "),
            report.targets,
            dest.served().display()
        )?;
        if let Some(pushed) = &pushed {
            show_push(pushed)?;
        }
    } else {
        outln!(
            "Round {} passes the gate: {} ({} targets). Publish it with `trustroot ceremony publish`.",
            report.round,
            versions.join(", "),
            report.targets
        )?;
    }
    Ok(true)
}
