//! `trustroot ceremony sign`: the request's baseline checked against the keyholder's root,
//! the request shown, the signer's confirmation, the signatures written or stored.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use trustroot_ceremony::baseline::Baseline;
use trustroot_ceremony::keys::{self, KeyRef};
use trustroot_ceremony::repo;
use trustroot_ceremony::round::{self, Added, SigningRequest, printable};
use trustroot_core::display::escape;

use super::super::shared::{CmdResult, PassphraseArgs, now, secret_source};
use super::{RepoArgs, open};
use crate::outln;
use crate::output::{self, Failure};

/// How `ceremony sign` decides what a request's changes are shown against.
#[derive(Clone, Copy)]
pub struct BaselineArgs<'a> {
    pub root: Option<&'a Path>,
    pub unverified: bool,
}

/// The request's baseline, checked against the keyholder's root, before anything of the
/// request is shown.
fn baseline(request: &SigningRequest, args: BaselineArgs<'_>, now: DateTime<Utc>) -> CmdResult<Baseline> {
    if let Some(path) = args.root {
        let bytes = keys::read_limited(path, repo::MAX_METADATA_SIZE)?;
        return Ok(Baseline::Verified(trustroot_ceremony::baseline::check(
            request, &bytes, path, now,
        )?));
    }
    if !trustroot_ceremony::baseline::needs_root(request) {
        return Ok(Baseline::New);
    }
    if args.unverified {
        return Ok(Baseline::Unverified(trustroot_ceremony::baseline::claims(request)?));
    }
    Err(Failure::usage(format!(
        "round {}: this request stages {} after published versions; pass --root FILE, your own copy of the published root (metadata/root.json of your clone of the signing repository, or root_history/N.root.json), so its changes are checked against what is really published, or --unverified-baseline to sign against the request's own claim; nothing was signed",
        escape(&request.round),
        trustroot_ceremony::baseline::followers(request)
    )))
}

fn print_request(request: &SigningRequest, baseline: &Baseline) -> CmdResult {
    outln!(
        "Signing request for round {} (made {})",
        escape(&request.round),
        escape(&request.created)
    )?;
    outln!()?;
    let unverified = matches!(baseline, Baseline::Unverified(_));
    if unverified {
        outln!(
            "Baseline NOT VERIFIED (--unverified-baseline): the changes below are against the request's own claim of what is published, not against a root you hold. Whoever made or altered the request chose it, and the request digest does not help: the same coordinator computes it."
        )?;
    }
    for line in trustroot_ceremony::baseline::describe(baseline) {
        outln!("{line}")?;
    }
    if unverified {
        outln!("  Compare these sha256 with your own copy of the published files, or sign with --root FILE instead.")?;
    }
    for role in &request.roles {
        outln!()?;
        for line in &role.summary {
            outln!("  {}", printable(line))?;
        }
        if !role.findings.is_empty() {
            outln!("  what the payload rules and lints found (run by the coordinator when the request was made):")?;
            for line in &role.findings {
                outln!("    {}", printable(line))?;
            }
        }
    }
    outln!()?;
    if unverified {
        outln!("Reminder: the baseline above is NOT VERIFIED; it is the request's own claim.")?;
    }
    // Last, right before the question: nothing printed after it can hide it.
    outln!("request digest: {}", escape(&request.request_sha256))
}

fn confirm(yes: bool) -> CmdResult {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(
            Failure::usage("refusing to sign without confirmation: there is no terminal to ask")
                .with_hint_text("read the summary above and pass --yes"),
        );
    }
    output::text("Sign these roles? Type 'yes' to sign: ")?;
    output::flush()?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::io(format!("cannot read the answer: {e}")))?;
    if answer.trim() != "yes" {
        return Err(Failure::usage("not confirmed; nothing was signed"));
    }
    Ok(())
}

pub fn sign(
    key: &str,
    request_path: Option<&Path>,
    out_dir: Option<&Path>,
    baseline_args: BaselineArgs<'_>,
    yes: bool,
    passphrase: &PassphraseArgs,
    args: &RepoArgs,
) -> CmdResult {
    let now = now(args.at);
    let key_ref = KeyRef::parse(key)?;
    match request_path {
        Some(path) => {
            let (request, bytes) = SigningRequest::load(path)?;
            let baseline = baseline(&request, baseline_args, now)?;
            print_request(&request, &baseline)?;
            let signer = key_ref.load(&mut secret_source(passphrase, &key_ref))?;
            // Find out what this key signs before asking.
            let signatures = round::sign_request(&request, &bytes, signer.as_ref())?;
            confirm(yes)?;
            let dir = out_dir.unwrap_or(Path::new("."));
            let mut written = Vec::new();
            for sig in &signatures {
                let file = dir.join(sig.file_name());
                if file.exists() {
                    return Err(Failure::local_state(format!(
                        "{}: already exists; refusing to overwrite a signature file",
                        file.display()
                    ))
                    .with_hint_text("hand it back first, or choose another --out-dir"));
                }
            }
            for sig in &signatures {
                let file = dir.join(sig.file_name());
                let mut text = serde_json::to_vec_pretty(sig).map_err(cannot_write)?;
                text.push(b'\n');
                repo::write_atomic(&file, &text)?;
                written.push(file);
            }
            for (sig, file) in signatures.iter().zip(&written) {
                outln!(
                    "Signed {} v{} with key {}: {}",
                    escape(&sig.role),
                    sig.version,
                    keys::short_id(&sig.keyid),
                    file.display()
                )?;
            }
            outln!("Hand these files back to the coordinator (`trustroot ceremony add-signature`).")
        }
        None => {
            let (repo, round) = open(args)?;
            let request = round.request(&repo, now)?;
            let bytes: Vec<Vec<u8>> = round.roles.iter().map(|r| r.bytes.clone()).collect();
            let baseline = baseline(&request, baseline_args, now)?;
            print_request(&request, &baseline)?;
            let signer = key_ref.load(&mut secret_source(passphrase, &key_ref))?;
            let signatures = round::sign_request(&request, &bytes, signer.as_ref())?;
            confirm(yes)?;
            for sig in &signatures {
                let text = serde_json::to_vec(sig).map_err(cannot_write)?;
                let source = PathBuf::from(format!("(signed here with {})", signer.describe()));
                match round::add_signature(&repo, &round, &source, &text, now)? {
                    Added::Stored(path) => outln!("Signed {} v{}: {}", escape(&sig.role), sig.version, path.display())?,
                    Added::AlreadySigned(_) => outln!(
                        "{} v{}: key {} had already signed; counted once",
                        escape(&sig.role),
                        sig.version,
                        keys::short_id(&sig.keyid)
                    )?,
                }
            }
            Ok(())
        }
    }
}

fn cannot_write(error: serde_json::Error) -> Failure {
    Failure::io(format!("cannot write the signature: {error}"))
}
