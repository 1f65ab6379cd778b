//! `ceremony verify` and `ceremony publish`: a signed round becomes a published
//! repository only when the gate (see [`crate::gate`]) passes.
//!
//! A publish builds the candidate (the round's roles with their valid signatures merged,
//! snapshot and timestamp signed with the online key), runs the gate, builds the complete
//! new tree beside the published one, runs tough against that tree, then records the new
//! metadata in `metadata/` (root history first, timestamp last) and switches the published
//! tree with one atomic rename. A refusal writes nothing: `metadata/` and the destination
//! are left byte for byte as they were.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::assemble;
use crate::candidate::Candidate;
use crate::error::{Error, KeyError, Operation, PolicyProblem, PublishError, Result, TokenError};
use crate::gate::{self, Finding};
use crate::keys::Signer;
use crate::pubdir::PublishDir;
use crate::published::published_tree;
use crate::repo::Repo;
use crate::round::{Round, role_file};

/// What the gate found for a round.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub round: String,
    pub passed: bool,
    pub findings: Vec<Finding>,
    /// Signature files that were left out of the published metadata, and why.
    pub left_out: Vec<String>,
    /// Role -> version after the publish.
    pub versions: std::collections::BTreeMap<String, u64>,
    /// The roles this publish writes a new version of.
    pub new_roles: Vec<String>,
    /// The number of targets published.
    pub targets: usize,
    /// `metadata/` was restored from the published tree first (an earlier publish or
    /// refresh had stopped half way): what was restored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<String>,
}

impl Report {
    fn new(candidate: &Candidate, findings: Vec<Finding>) -> Report {
        Report {
            round: candidate.round.clone(),
            passed: !gate::has_errors(&findings),
            findings,
            left_out: candidate.left_out.clone(),
            versions: candidate.versions.clone(),
            new_roles: candidate.new_roles.clone(),
            targets: candidate.targets.len(),
            recovered: None,
        }
    }

    /// The refusal a failed gate makes: every error, one per line.
    pub fn refusal(&self, operation: Operation) -> Error {
        let findings = self
            .findings
            .iter()
            .filter(|f| f.severity == gate::Severity::Error)
            .map(ToString::to_string)
            .collect();
        PublishError::GateFailed {
            operation,
            round: self.round.clone(),
            findings,
        }
        .into()
    }
}

/// Runs the whole gate on `round` without writing anything to the repository or the
/// destination (the candidate tree tough reads is built in a temporary directory).
pub fn verify(repo: &Repo, round: &Round, online: &dyn Signer, now: DateTime<Utc>) -> Result<Report> {
    round.ensure_unpublished()?;
    let (candidate, mut findings) = assemble::build(repo, round, online, now)?;
    findings.extend(gate::check_in_memory(&candidate, &repo.policy, now));
    let scratch = tempfile::tempdir().map_err(PublishError::TempDir)?;
    let dir = PublishDir::at(&scratch.path().join("publish"));
    let current = published_tree(repo)?;
    match dir.stage_from(&candidate, current.as_deref()) {
        Ok(staged) => findings.extend(gate::tough_client(&candidate, &staged.dir, &repo.policy)),
        Err(e) => findings.push(Finding::error(
            gate::Check::Lint,
            "repository",
            "published tree",
            format!("the tree cannot be built: {e}"),
        )),
    }
    Ok(Report::new(&candidate, findings))
}

/// Publishes `round` when the gate passes (every threshold met, our core and tough accept
/// the repository, payloads and lints pass). When it does not, nothing is written and the
/// report says why (`passed` is false): the caller refuses with [`Report::refusal`], after
/// showing the findings. An error is what stopped the publish before the gate could judge.
pub fn publish(repo: &Repo, round: &Round, online: &dyn Signer, now: DateTime<Utc>) -> Result<Report> {
    let _lock = crate::lock::lock(repo, Operation::Publish)?;
    round.ensure_unpublished()?;
    let dir = PublishDir::new(&repo.policy, &repo.root);
    ensure_outside_metadata(repo, &dir)?;
    let recovered = crate::recover::reconcile(repo, &dir)?;
    let (candidate, mut findings) = assemble::build(repo, round, online, now)?;
    findings.extend(gate::check_in_memory(&candidate, &repo.policy, now));
    let refused = |findings: Vec<Finding>, recovered: Option<String>| {
        let mut report = Report::new(&candidate, findings);
        report.recovered = recovered;
        Ok(report)
    };
    if !Report::new(&candidate, findings.clone()).passed {
        return refused(findings, recovered);
    }
    let staged = dir.stage(&candidate)?;
    let tough = gate::tough_client(&candidate, &staged.dir, &repo.policy);
    if gate::has_errors(&tough) {
        staged.discard();
        findings.extend(tough);
        return refused(findings, recovered);
    }
    findings.extend(tough);
    if let Err(e) = write_metadata(repo, &candidate) {
        staged.discard();
        return Err(e);
    }
    let state = dir.commit(staged)?;
    round.log(
        repo,
        now,
        "publish",
        json!({
            "versions": candidate.versions,
            "new_roles": candidate.new_roles,
            "targets": candidate.targets.len(),
            "state": state,
            "left_out": candidate.left_out,
        }),
    )?;
    let mut report = Report::new(&candidate, findings);
    report.recovered = recovered;
    Ok(report)
}

/// The destination must not be (or contain) the signing repository's own directories.
pub(crate) fn ensure_outside_metadata(repo: &Repo, dir: &PublishDir) -> Result<()> {
    // Compared as written and as resolved: a symlink (or `..`) in the destination must not
    // lead a publish into the repository's own directories.
    let dest = dir.root();
    for sub in ["metadata", "targets", "ceremonies", "keys"] {
        let inner = repo.root.join(sub);
        if trustroot_store::paths::overlaps(dest, &inner) {
            return Err(Error::policy(
                "publish.destination",
                PolicyProblem::Overlaps {
                    destination: dest.to_path_buf(),
                    sub,
                },
            ));
        }
    }
    Ok(())
}

/// Records the published metadata in `metadata/`, in publish order: root history, delegated
/// roles, targets, snapshot, root, timestamp last. Each file is written atomically.
pub(crate) fn write_metadata(repo: &Repo, candidate: &Candidate) -> Result<()> {
    let dir = repo.root.join("metadata");
    for (version, bytes) in &candidate.root_history {
        let path = dir.join("root_history").join(format!("{version}.root.json"));
        if !path.exists() {
            repo.write(&path, bytes)?;
        }
    }
    let delegated = candidate
        .new_roles
        .iter()
        .filter(|r| !["root", "targets", "snapshot", "timestamp"].contains(&r.as_str()));
    let ordered = delegated
        .map(String::as_str)
        .chain(["targets", "snapshot", "root", "timestamp"]);
    for role in ordered {
        if !candidate.new_roles.iter().any(|r| r == role) {
            continue;
        }
        if let Some(bytes) = candidate.metadata.get(role) {
            repo.write(&dir.join(role_file(role)), bytes)?;
            // A crash test can stop here, before the rest of `metadata/` and before the
            // published tree is switched, as a power cut would.
            trustroot_store::crash::after_metadata(role);
        }
    }
    Ok(())
}

/// The online signer the policy names (`[online] signer`): `env:VAR`, a key file outside
/// the signing repository (a relative path is relative to the repository's directory), a
/// `pkcs11:` URI or a KMS key. `secret` gives a key file's passphrase or a token's PIN.
pub fn online_signer(
    repo: &Repo,
    secret: &mut dyn FnMut() -> Result<crate::keys::Zeroizing<String>>,
) -> Result<Box<dyn Signer>> {
    use crate::keys::KeyRef;
    let key_ref = KeyRef::parse(&repo.policy.online.signer)
        .map_err(|e| Error::policy("online.signer", PolicyProblem::Key(Box::new(e))))?;
    let key_ref = match key_ref {
        KeyRef::File(path) if path.is_relative() => KeyRef::File(repo.root.join(path)),
        // Kept as written (an imported repository's KMS key), but nothing can sign with it.
        KeyRef::Unsupported { scheme, reference, .. } => {
            return Err(Error::policy(
                "online.signer",
                PolicyProblem::OnlineKeyUnusable {
                    reference,
                    scheme,
                    advice: crate::keys::online_advice("[online] signer", scheme),
                },
            ));
        }
        other => other,
    };
    if let KeyRef::File(path) = &key_ref
        && let Ok(real) = std::fs::canonicalize(path)
        && real.starts_with(&repo.root)
    {
        return Err(Error::policy(
            "online.signer",
            PolicyProblem::PrivateKeyInside { path: path.clone() },
        ));
    }
    // A key that cannot be had at all is named with where it is configured (a KMS key
    // that cannot be reached or used included); a wrong passphrase or a damaged key is
    // the key's own error.
    key_ref.load(secret).map_err(|error| match error {
        Error::Key(KeyError::VariableUnset { .. })
        | Error::Io { .. }
        | Error::Kms(_)
        | Error::Token(TokenError::NoToken { .. } | TokenError::NoModule { .. }) => {
            PublishError::OnlineKeyUnavailable {
                signer: repo.policy.online.signer.clone(),
                source: Box::new(error),
            }
            .into()
        }
        other => other,
    })
}
