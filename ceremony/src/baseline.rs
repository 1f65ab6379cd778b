//! What a keyholder's signature is judged against: the published versions a signing
//! request says its staged versions follow (its "baseline").
//!
//! A request is made by the coordinator, and so is everything in it: the staged bytes,
//! the previous versions the summary diffs against, the request digest. Left unchecked, a
//! coordinator could stage a root that adds a key and lowers the threshold while showing
//! a diff against a doctored "previous" root in which that key and threshold already
//! were. So the keyholder's side decides what "previous" is: `ceremony sign --root FILE`
//! takes a root the keyholder keeps (their copy of the published root), and [`check`]
//! verifies the request's baseline from it with core's client state machine:
//!
//! - the request's published root versions must be the pinned root itself (same signed
//!   bytes) or a chain that verifies from it (`TrustedSet::new` then `update_root` for
//!   each newer version, spec 5.3), and the staged root's previous version must be the
//!   root reached;
//! - the previous targets must be signed by a threshold of the targets keys of that root;
//! - the signers a targets-only request lists must be that root's targets keys.
//!
//! Expiry is not a reason to refuse a baseline: keyholders sign a new version precisely
//! because the old one is about to expire, or has. As in the client workflow, where only
//! the final root's expiry is checked (spec 5.3.10), expiry matters for what clients load,
//! not for the chain of signatures that authenticates a root.
//!
//! Delegated roles other than targets: their previous versions are shown as the request's
//! claim (with their sha256); the keys that sign them come from targets, whose changes are
//! shown against the verified baseline.

use std::path::Path;

use chrono::{DateTime, Utc};
use trustroot_core::display::escape;
use trustroot_core::metadata::{Role as _, Root, Targets};
use trustroot_core::verify::check_signatures;
use trustroot_core::{Envelope, Limits, TrustedSet};

use crate::error::{BaselineError, Error, FileProblem, Result};
use crate::round::{RequestRole, Requirement, SigningRequest};

/// A published version the request carries, unverified: role, version and the sha256 of
/// the file as carried (compare it with `sha256sum metadata/<role>.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub role: String,
    pub version: u64,
    pub sha256: String,
}

/// The baseline as checked against a keyholder's root.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The file the keyholder pinned, and its version.
    pub pinned: String,
    pub pinned_version: u64,
    /// The published root reached from it through the request's root versions.
    pub root_version: u64,
    /// What was checked, one sentence each.
    pub checked: Vec<String>,
    /// Previous versions of delegated roles, shown as the request's claim.
    pub unchecked: Vec<Claim>,
}

/// What the changes of a request are shown against.
#[derive(Debug, Clone)]
pub enum Baseline {
    /// Nothing published precedes the request: a new repository (root v1).
    New,
    /// Checked from the keyholder's root.
    Verified(Verified),
    /// The request's own claim, not checked (`--unverified-baseline`).
    Unverified(Vec<Claim>),
}

/// Every previous version the request carries, as claims.
pub fn claims(request: &SigningRequest) -> Result<Vec<Claim>> {
    let mut out = Vec::new();
    for role in &request.roles {
        if let Some(bytes) = role.previous_bytes()? {
            let version = Envelope::parse(&role.role, &bytes, &Limits::default())
                .ok()
                .and_then(|e| e.version())
                .unwrap_or(0);
            out.push(Claim {
                role: role.role.clone(),
                version,
                sha256: trustroot_core::hashes::sha256_hex(&bytes),
            });
        }
    }
    Ok(out)
}

/// True when the request stages root or targets after a published version (or a version
/// past 1): its changes mean something only against a baseline the keyholder trusts.
pub fn needs_root(request: &SigningRequest) -> bool {
    !request.published_roots.is_empty()
        || request
            .roles
            .iter()
            .any(|r| (r.role == "root" || r.role == "targets") && (r.previous.is_some() || r.version > 1))
}

/// The roles and versions that follow a published version, for messages: `root v3, targets v2`.
pub fn followers(request: &SigningRequest) -> String {
    let names: Vec<String> = request
        .roles
        .iter()
        .filter(|r| r.previous.is_some() || ((r.role == "root" || r.role == "targets") && r.version > 1))
        .map(|r| format!("{} v{}", escape(&r.role), r.version))
        .collect();
    names.join(", ")
}

/// Checks the request's baseline from `pinned` (the bytes of `pinned_file`, a root the
/// keyholder keeps). Refused, with the role, version and file named, unless every root
/// version the request carries verifies from it and the previous root and targets are the
/// ones that chain reaches. `now` is only the reference time of core's state machine;
/// no expiry is checked (see the module documentation).
pub fn check(request: &SigningRequest, pinned: &[u8], pinned_file: &Path, now: DateTime<Utc>) -> Result<Verified> {
    let file = pinned_file.display().to_string();
    let limits = Limits::default();
    let (set, pinned_version) = verify_root_chain(request, pinned, pinned_file, now, &limits)?;
    let root = set.root().signed().clone();
    let root_version = root.common.version;
    let root_signed = Envelope::parse("root", set.root().bytes(), &limits)?
        .signed_bytes()
        .to_vec();
    let reached = Reached {
        file,
        root,
        signed: root_signed,
    };
    let via = if root_version == pinned_version {
        format!("your root v{pinned_version} itself")
    } else {
        format!("verified from your root v{pinned_version} through v{root_version}")
    };
    let mut checked = vec![format!("published root v{root_version}: {via}")];
    let mut unchecked = Vec::new();
    let root_staged = request.roles.iter().any(|r| r.role == "root");
    for role in &request.roles {
        match check_previous(role, &reached, &limits)? {
            Previous::Checked(line) => checked.push(line),
            Previous::Claimed(claim) => unchecked.push(claim),
            Previous::Nothing => {}
        }
        // Who signs targets, when root is not staged: the targets keys of the root reached.
        if role.role == "targets" && !root_staged {
            check_targets_signers(role, &reached)?;
        }
    }
    Ok(Verified {
        pinned: reached.file,
        pinned_version,
        root_version,
        checked,
        unchecked,
    })
}

/// The published root reached from the keyholder's root.
struct Reached {
    /// The file the keyholder pinned, for messages.
    file: String,
    root: Root,
    /// Its signed bytes, as published.
    signed: Vec<u8>,
}

/// What became of the previous version of one role of the request.
enum Previous {
    /// Checked against the root reached: what was checked, in a sentence.
    Checked(String),
    /// Shown as the request's claim.
    Claimed(Claim),
    /// The request carries none, and needs none.
    Nothing,
}

/// Verifies the request's published root versions from the pinned root: each version is
/// the pinned root itself or verifies from it (spec 5.3). The state machine at the root
/// reached, and the pinned root's version.
fn verify_root_chain(
    request: &SigningRequest,
    pinned: &[u8],
    pinned_file: &Path,
    now: DateTime<Utc>,
    limits: &Limits,
) -> Result<(TrustedSet, u64)> {
    let file = pinned_file.to_path_buf();
    let mut set = TrustedSet::new(pinned, now, limits.clone())
        .map_err(|e| Error::content(pinned_file, FileProblem::UnverifiedRoot(Box::new(e))))?;
    let pinned_version = set.root().signed().common.version;
    let pinned_signed = Envelope::parse("root", pinned, limits)?.signed_bytes().to_vec();
    let roots = request.published_root_bytes()?;
    if roots.is_empty() {
        return Err(BaselineError::NoPublishedRoot {
            file,
            pinned: pinned_version,
        }
        .into());
    }
    let mut newest = 0;
    for bytes in &roots {
        let envelope = Envelope::parse("root", bytes, limits)?;
        newest = envelope.version().unwrap_or(0);
    }
    if pinned_version > newest {
        return Err(BaselineError::PinnedNewer {
            file,
            pinned: pinned_version,
            newest,
        }
        .into());
    }
    for bytes in &roots {
        let envelope = Envelope::parse("root", bytes, limits)?;
        let version = envelope.version().unwrap_or(0);
        if version < pinned_version {
            continue;
        }
        if version == pinned_version {
            if envelope.signed_bytes() != pinned_signed.as_slice() {
                return Err(BaselineError::RootDiffers {
                    file,
                    version,
                    pinned: pinned_version,
                }
                .into());
            }
            continue;
        }
        set.update_root(bytes)
            .map_err(|source| BaselineError::RootDoesNotVerify {
                file: file.clone(),
                version,
                pinned: pinned_version,
                source: Box::new(source),
            })?;
    }
    Ok((set, pinned_version))
}

/// Checks the previous version the request carries for `role` against the root reached:
/// root must be that root, targets must be signed by its targets keys; other roles' are
/// claims.
fn check_previous(role: &RequestRole, reached: &Reached, limits: &Limits) -> Result<Previous> {
    let file = &reached.file;
    let root = &reached.root;
    let root_version = root.common.version;
    let previous = role.previous_bytes()?;
    match (role.role.as_str(), previous) {
        ("root", Some(bytes)) => {
            let envelope = Envelope::parse("root", &bytes, limits)?;
            if envelope.signed_bytes() != reached.signed.as_slice() {
                return Err(BaselineError::PreviousRootDiffers {
                    file: file.into(),
                    version: role.version,
                    claimed: envelope.version().unwrap_or(0),
                    root_version,
                }
                .into());
            }
            Ok(Previous::Checked(format!(
                "root v{}: its changes are shown against that root v{root_version}",
                role.version
            )))
        }
        ("targets", Some(bytes)) => {
            let envelope = Envelope::parse("targets", &bytes, limits)?;
            let version = envelope.version().unwrap_or(0);
            Targets::from_envelope("targets", &envelope)?;
            let keys = root
                .roles
                .get("targets")
                .ok_or(BaselineError::NoTargetsRole { root_version, version })?;
            // trustroot signs no keyless role yet: a keyless key of a baseline is unusable, said so.
            let report = check_signatures(&envelope, &root.keys, &keys.keyids, keys.threshold, None);
            if !report.is_met() {
                return Err(BaselineError::PreviousTargetsUnsigned {
                    version: role.version,
                    previous: version,
                    threshold: keys.threshold,
                    root_version,
                    valid: report.valid,
                    failures: report.failures(),
                }
                .into());
            }
            Ok(Previous::Checked(format!(
                "targets v{}: its changes are shown against targets v{version}, signed by {} targets keys of root v{root_version} ({} required)",
                role.version, report.valid, keys.threshold
            )))
        }
        ("root" | "targets", None) if role.version > 1 => Err(BaselineError::NoPrevious {
            role: role.role.as_str().into(),
            version: role.version,
        }
        .into()),
        (_, Some(bytes)) => Ok(Previous::Claimed(Claim {
            role: role.role.clone(),
            version: Envelope::parse(&role.role, &bytes, limits)
                .ok()
                .and_then(|e| e.version())
                .unwrap_or(0),
            sha256: trustroot_core::hashes::sha256_hex(&bytes),
        })),
        _ => Ok(Previous::Nothing),
    }
}

/// The signers a targets-only request lists must be the targets keys of the root reached.
fn check_targets_signers(role: &RequestRole, reached: &Reached) -> Result<()> {
    let root = &reached.root;
    let root_version = root.common.version;
    let Some(keys) = root.roles.get("targets") else {
        return Ok(());
    };
    let expected = Requirement::new(
        format!("root v{root_version} (targets role)"),
        &root.keys,
        &keys.keyids,
        keys.threshold,
    );
    if crate::round::without_attestations(&role.requirements) != [expected] {
        return Err(BaselineError::TargetsSigners {
            file: (&reached.file).into(),
            version: role.version,
            root_version,
        }
        .into());
    }
    Ok(())
}

/// The baseline in plain words, for the summary a keyholder reads before signing.
pub fn describe(baseline: &Baseline) -> Vec<String> {
    let claim_line = |c: &Claim| {
        format!(
            "  {} v{}: sha256 {} of the file the request carries (compare: sha256sum metadata/{})",
            escape(&c.role),
            c.version,
            c.sha256,
            escape(&crate::round::role_file(&c.role))
        )
    };
    match baseline {
        Baseline::New => vec![
            "Baseline: none. Nothing published precedes this request (a new repository, root v1), so there is nothing to check its changes against: compare every key below with the other keyholders by another channel.".to_string(),
        ],
        Baseline::Verified(v) => {
            let mut lines = vec![format!(
                "Baseline VERIFIED against your root {} (v{}): the changes below are against the published versions it authenticates.",
                escape(&v.pinned),
                v.pinned_version
            )];
            lines.extend(v.checked.iter().map(|c| format!("  {c}")));
            if !v.unchecked.is_empty() {
                lines.push(
                    "  Not checked against your root (delegated roles: the request's own claim; their signers come from targets):"
                        .to_string(),
                );
                lines.extend(v.unchecked.iter().map(|c| format!("  {}", claim_line(c))));
            }
            lines
        }
        // The warning around these lines names the command line's flags: the CLI writes it.
        Baseline::Unverified(claims) => claims.iter().map(claim_line).collect(),
    }
}
