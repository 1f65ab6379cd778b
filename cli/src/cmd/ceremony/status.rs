//! `trustroot ceremony status`: per staged role, the thresholds, who signed and who has not.

use std::path::Path;

use chrono::{DateTime, Utc};
use trustroot_ceremony::overview::{self, Overview};
use trustroot_ceremony::round::{self, Round};
use trustroot_ceremony::{error::RoundError, keys, repo};
use trustroot_core::display::escape;

use super::super::shared::{CmdResult, now};
use super::{RepoArgs, open, page, payloads};
use crate::outln;
use crate::output::{self, Failure};

fn holder_label(k: &round::Keyholder) -> String {
    // Both, labelled: the ID root lists, and the fingerprint `key show` prints; a keyless
    // key has no material, so who it names stands in its place.
    let id = match (&k.keyless, &k.fingerprint) {
        (Some(who), _) => format!(
            "key {}, identity {} (issuer {})",
            keys::short_id(&k.keyid),
            escape(&who.identity),
            escape(&who.issuer)
        ),
        (None, Some(fingerprint)) => format!(
            "key {}, material {}",
            keys::short_id(&k.keyid),
            keys::short_id(fingerprint)
        ),
        (None, None) => format!("key {}", keys::short_id(&k.keyid)),
    };
    // A holder may come from a key's x-tuf-on-ci-keyowner: text whoever staged it chose.
    let name = k.name.as_deref().map(escape);
    let holder = k.holder.as_deref().map(escape);
    match (name, holder) {
        (Some(name), Some(holder)) => format!("{name} ({holder}, {id})"),
        (Some(name), None) => format!("{name} ({id})"),
        (None, Some(holder)) => format!("{holder} ({id})"),
        (None, None) => id,
    }
}

/// `--json`: the round's status as before, and the repository's overview beside it.
#[derive(serde::Serialize)]
struct StatusJson<'a> {
    #[serde(flatten)]
    round: &'a round::RoundStatus,
    repository: &'a Overview,
    /// The Sigstore payloads among the targets, as the page shows them.
    sigstore: Vec<payloads::PayloadJson<'a>>,
}

pub fn status(json: bool, html: Option<&Path>, args: &RepoArgs) -> CmdResult {
    let now = now(args.at);
    if let Some(out) = html {
        // The page is written whatever can or cannot be read: it says what is wrong.
        let outcome = write_page(out, args, now)?;
        if !json {
            outln!("Wrote the status page {}", out.display())?;
        }
        outcome?;
        if !json {
            return Ok(());
        }
    }
    let (repo, round) = open(args)?;
    let state = round::status(&repo, &round, now)?;
    if json {
        let overview = overview::overview(&repo, now);
        let sigstore = payloads::read(&repo.root.join("targets"));
        return output::json(&StatusJson {
            round: &state,
            repository: &overview,
            sigstore: sigstore.iter().map(payloads::Payload::json).collect(),
        });
    }
    match &state.published_at {
        Some(at) => outln!(
            "Round {} was published at {}; start a new round for any further change",
            state.round,
            escape(at)
        )?,
        None => outln!(
            "Round {}: {}",
            state.round,
            if state.complete {
                "every threshold is met"
            } else {
                "signatures missing"
            }
        )?,
    }
    for role in &state.roles {
        outln!()?;
        outln!(
            "{} v{} (expires {}), sha256 {}",
            role.role,
            role.version,
            role.expires,
            keys::short_id(&role.signed_sha256)
        )?;
        if role.changed_since_start {
            outln!("  WARNING: the staged file was changed after the round started; its signatures do not count")?;
        }
        for t in &role.thresholds {
            outln!(
                "  {}/{} valid signatures from signers of {}{}",
                t.valid,
                t.required,
                t.of,
                if t.met { " (met)" } else { " (not met)" }
            )?;
            let list = |v: &[round::Keyholder]| {
                if v.is_empty() {
                    "nobody".to_string()
                } else {
                    v.iter().map(holder_label).collect::<Vec<_>>().join(", ")
                }
            };
            outln!("    signed:         {}", list(&t.signed))?;
            outln!("    not signed yet: {}", list(&t.not_signed))?;
            for k in t.signed.iter().chain(&t.not_signed) {
                if let Some(attested) = &k.attestation {
                    let who = k
                        .name
                        .as_deref()
                        .map_or_else(|| keys::short_id(&k.keyid).into(), escape);
                    match &k.attestation_problem {
                        // A record whose evidence fails is not shown as a YubiKey.
                        Some(problem) => {
                            outln!("    WARNING: the YubiKey attestation of {who} does not verify: {problem}")?
                        }
                        None if !attested.has_evidence() => outln!(
                            "    YubiKey of {who}: {} (recorded without evidence: not checked again)",
                            attested.summary()
                        )?,
                        None => outln!("    YubiKey of {who}: {}", attested.summary())?,
                    }
                }
            }
        }
        for r in &role.rejected {
            outln!("  not counted: {}: {}", r.file, r.reason)?;
        }
    }
    // Who signs online, and whether trustroot can (an imported KMS key may be kept as
    // written until it is configured).
    outln!()?;
    for key in overview::online_keys(&repo.policy) {
        outln!("{}", key.line())?;
    }
    Ok(())
}

/// Writes the status page to `out` (atomically: a reader never sees half a page). The
/// outer error is the page not written; the inner one is what kept a part of it from
/// being read (the page shows it; the command still reports it, as plain `status` would).
pub(super) fn write_page(out: &Path, args: &RepoArgs, now: DateTime<Utc>) -> CmdResult<Result<(), Failure>> {
    let repo = repo::Repo::open(&args.repo)?;
    let overview = overview::overview(&repo, now);
    let (latest, problem) = match Round::open(&repo, args.round.as_deref()) {
        Ok(round) => match round::status(&repo, &round, now) {
            Ok(state) => (Ok(Some(state)), Ok(())),
            Err(e) => (Err(e.to_string()), Err(Failure::from(e))),
        },
        // Before the first round there is nothing wrong to report.
        Err(trustroot_ceremony::Error::Round(RoundError::NoRound)) if args.round.is_none() => (Ok(None), Ok(())),
        Err(e) => (Err(e.to_string()), Err(Failure::from(e))),
    };
    let name = std::fs::canonicalize(&repo.root)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| repo.root.display().to_string());
    let sigstore = payloads::read(&repo.root.join("targets"));
    let page = page::render(&name, &overview, &latest, &sigstore);
    repo::write_atomic(out, page.as_bytes())?;
    Ok(problem)
}
