//! `trustroot ceremony status`: per staged role, the thresholds, who signed and who has not.

use trustroot_ceremony::keys;
use trustroot_ceremony::round;
use trustroot_core::display::escape;

use super::super::shared::CmdResult;
use super::{RepoArgs, open};
use crate::outln;
use crate::output;

fn holder_label(k: &round::Keyholder) -> String {
    // Both, labelled: the ID root lists, and the fingerprint `key show` prints.
    let id = match &k.fingerprint {
        Some(fingerprint) => format!(
            "key {}, material {}",
            keys::short_id(&k.keyid),
            keys::short_id(fingerprint)
        ),
        None => format!("key {}", keys::short_id(&k.keyid)),
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

pub fn status(json: bool, args: &RepoArgs) -> CmdResult {
    let (repo, round) = open(args)?;
    let state = round::status(&repo, &round, chrono::Utc::now())?;
    if json {
        return output::json(&state);
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
    Ok(())
}
