//! `trustroot export OUT --layout tuf-on-ci`: the way back. Writes the repository in
//! tuf-on-ci's source layout (`metadata/<role>.json`, `metadata/root_history/N.root.json`,
//! `targets/<path>`), so a team can return to tuf-on-ci at any time. Published metadata is
//! copied as bytes. An open round is written as tuf-on-ci's signing event would hold it:
//! each staged role with the signatures collected so far and a `"sig": ""` placeholder for
//! each keyholder who has not signed; snapshot and timestamp stay the published ones (a
//! signing event never changes them).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use trustroot_core::metadata::{Root, Targets};
use trustroot_core::role_name::metadata_file_name;

use crate::error::{Error, FileProblem, IoOp, Result};
use crate::published::{published_tree, reachable_roles, read_published};
use crate::repo::{self, Repo, write_atomic};
use crate::round::{self, Round};

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub out: PathBuf,
    /// The open round exported, if any.
    pub round: Option<String>,
    pub roles: Vec<ExportedRole>,
    pub targets: usize,
    /// What tuf-on-ci needs that this repository lacks, or what it would change.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedRole {
    pub role: String,
    pub version: u64,
    /// Staged in the open round (not published yet).
    pub staged: bool,
    pub signatures: usize,
    /// `"sig": ""` placeholders: keyholders who have not signed.
    pub placeholders: usize,
}

/// tuf-on-ci's key fields; a key with neither cannot sign in tuf-on-ci.
const KEYOWNER: &str = "x-tuf-on-ci-keyowner";
const ONLINE_URI: &str = "x-tuf-on-ci-online-uri";

/// Exports `repo` into `out` (absent or empty), with the open round `round_id` (default:
/// the newest round, when it is not published).
pub fn tuf_on_ci(repo: &Repo, out: &Path, round_id: Option<&str>, now: DateTime<Utc>) -> Result<Report> {
    let (mut roles, mut history) = read_published(repo)?;
    if !roles.contains_key("root") {
        return Err(Error::content(
            &repo.root.join("metadata"),
            FileProblem::NothingPublished,
        ));
    }
    let round = open_round(repo, round_id)?;
    let mut exported: BTreeMap<String, ExportedRole> = BTreeMap::new();
    for (role, bytes) in &roles {
        exported.insert(role.clone(), exported_role(role, bytes));
    }
    if let Some(round) = &round {
        let status = round::status(repo, round, now)?;
        for role in &round.roles {
            let name = &role.meta.role;
            let Some(state) = status.roles.iter().find(|r| &r.role == name) else {
                continue;
            };
            let mut signatures = crate::assemble::collected_signatures(round, role, state)?;
            let signed: BTreeSet<String> = signatures
                .iter()
                .filter_map(|s| s["keyid"].as_str().map(str::to_string))
                .collect();
            let mut waiting = BTreeSet::new();
            for threshold in &state.thresholds {
                for keyholder in &threshold.not_signed {
                    if !signed.contains(&keyholder.keyid) && waiting.insert(keyholder.keyid.clone()) {
                        signatures.push(json!({"keyid": keyholder.keyid, "sig": ""}));
                    }
                }
            }
            let bytes = role.signed.metadata_json(name, &signatures)?;
            if name == "root" {
                history.insert(role.meta.version, bytes.clone());
            }
            exported.insert(
                name.clone(),
                ExportedRole {
                    role: name.clone(),
                    version: role.meta.version,
                    staged: true,
                    signatures: signed.len(),
                    placeholders: waiting.len(),
                },
            );
            roles.insert(name.clone(), bytes);
        }
    }

    let targets = listed_targets(repo, &roles)?;
    let warnings = warnings(repo, &roles, &targets);
    let count = targets.len();
    repo::build_beside(out, "trustroot-export", |dir| {
        let metadata = dir.join("metadata");
        fs::create_dir_all(metadata.join("root_history")).map_err(|e| Error::io(&metadata, IoOp::Create, e))?;
        for (version, bytes) in &history {
            write_atomic(&metadata.join(format!("root_history/{version}.root.json")), bytes)?;
        }
        for (role, bytes) in &roles {
            write_atomic(&metadata.join(metadata_file_name(role, None)), bytes)?;
        }
        for (path, source) in &targets {
            let to = dir.join("targets").join(path);
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent).map_err(|e| Error::io(parent, IoOp::Create, e))?;
            }
            fs::copy(source, &to).map_err(|e| Error::io(&to, IoOp::Copy, e))?;
        }
        fs::create_dir_all(dir.join("targets")).map_err(|e| Error::io(dir, IoOp::Create, e))?;
        Ok(())
    })?;
    Ok(Report {
        out: out.to_path_buf(),
        round: round.map(|r| r.id),
        roles: exported.into_values().collect(),
        targets: count,
        warnings,
    })
}

/// The round to export: the one asked for, else the newest one when it is not published.
fn open_round(repo: &Repo, id: Option<&str>) -> Result<Option<Round>> {
    if let Some(id) = id {
        let round = Round::open(repo, Some(id))?;
        if let Some(at) = round.published_at()? {
            return Err(Error::content(
                &round.dir,
                FileProblem::NotRole {
                    what: "an open round",
                    reason: format!("it was published at {at}: its roles are in metadata/ already"),
                },
            ));
        }
        return Ok(Some(round));
    }
    let Some(newest) = round::list(repo)?.pop() else {
        return Ok(None);
    };
    let round = Round::open(repo, Some(&newest))?;
    Ok(round.published_at()?.is_none().then_some(round))
}

fn exported_role(role: &str, bytes: &[u8]) -> ExportedRole {
    // The signatures and the version only: a large targets role is skipped over, never
    // held as values.
    #[derive(serde::Deserialize)]
    struct Outline {
        signatures: Vec<Entry>,
        signed: Version,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        sig: String,
    }
    #[derive(serde::Deserialize)]
    struct Version {
        version: u64,
    }
    let (version, sigs) = serde_json::from_slice::<Outline>(bytes)
        .map(|o| (o.signed.version, o.signatures))
        .unwrap_or((0, Vec::new()));
    let placeholders = sigs.iter().filter(|s| s.sig.is_empty()).count();
    ExportedRole {
        role: role.to_string(),
        version,
        staged: false,
        signatures: sigs.len() - placeholders,
        placeholders,
    }
}

/// Every target the exported roles list, with the file whose bytes it is: the signing
/// repository's `targets/<path>` when its sha256 matches, else the published tree's copy.
fn listed_targets(repo: &Repo, roles: &BTreeMap<String, Vec<u8>>) -> Result<BTreeMap<String, PathBuf>> {
    let tree = published_tree(repo)?;
    let (reachable, _) = reachable_roles(roles);
    let mut targets = BTreeMap::new();
    for role in reachable {
        let Some(parsed) = targets_of(roles, &role) else {
            continue;
        };
        for (path, entry) in &parsed.targets {
            trustroot_core::target_path::validate(path).map_err(Error::Core)?;
            let Some(sha256) = entry.hashes.get("sha256") else {
                return Err(missing_target(repo, &role, path));
            };
            let local = repo.root.join("targets").join(path);
            let published = tree.as_ref().map(|t| {
                t.join("targets")
                    .join(trustroot_core::target_path::consistent_name(path, sha256))
            });
            let found = [Some(local), published].into_iter().flatten().find(|candidate| {
                is_regular(candidate) && matches!(crate::target_file::check(candidate, path, entry), Ok(Ok(())))
            });
            let Some(found) = found else {
                return Err(missing_target(repo, &role, path));
            };
            targets.insert(path.clone(), found);
        }
    }
    Ok(targets)
}

fn missing_target(repo: &Repo, role: &str, path: &str) -> Error {
    Error::content(
        &repo.root.join("targets").join(path),
        FileProblem::NotRole {
            what: "a target file the metadata lists",
            reason: format!(
                "{role} lists it, and neither targets/ nor the published tree has a file of its length and sha256"
            ),
        },
    )
}

/// A regular file, not a symlink: the export copies files, never what a link points at.
fn is_regular(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|meta| meta.is_file())
}

fn targets_of(roles: &BTreeMap<String, Vec<u8>>, role: &str) -> Option<Targets> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        signed: Targets,
    }
    serde_json::from_slice::<Envelope>(roles.get(role)?)
        .ok()
        .map(|e| e.signed)
}

/// What tuf-on-ci needs and this repository may lack, or what it would change on its
/// next signing event.
fn warnings(repo: &Repo, roles: &BTreeMap<String, Vec<u8>>, targets: &BTreeMap<String, PathBuf>) -> Vec<String> {
    let mut warnings = Vec::new();
    let root: Option<Root> = roles
        .get("root")
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .and_then(|v| serde_json::from_value(v["signed"].clone()).ok());
    let mut keys: Vec<(String, String, &trustroot_core::Key)> = Vec::new();
    if let Some(root) = &root {
        keys.extend(root.keys.iter().map(|(id, k)| ("root".to_string(), id.clone(), k)));
    }
    let delegating: Vec<(String, Targets)> = roles
        .keys()
        .filter_map(|role| targets_of(roles, role).map(|t| (role.clone(), t)))
        .collect();
    for (role, parsed) in &delegating {
        if let Some(delegations) = &parsed.delegations {
            keys.extend(delegations.keys.iter().map(|(id, k)| (role.clone(), id.clone(), k)));
            if role != "targets" && delegations.roles.as_ref().is_some_and(|r| !r.is_empty()) {
                warnings.push(format!(
                    "{role} delegates further (hashed bins or nested delegations): tuf-on-ci manages delegations from targets only"
                ));
            }
        }
    }
    for (role, keyid, key) in keys {
        if !key.unknown.contains_key(KEYOWNER) && !key.unknown.contains_key(ONLINE_URI) {
            warnings.push(format!(
                "key {} (listed by {role}) has neither {KEYOWNER} nor {ONLINE_URI}: tuf-on-ci cannot sign with it; give it a holder (`key add --holder`) or, for the online key, rotate to one whose reference tuf-on-ci knows",
                crate::keys::short_id(&keyid)
            ));
        }
    }
    let delegated_paths: Vec<String> = repo.policy.delegations.values().flat_map(|d| d.paths.clone()).collect();
    for path in targets.keys() {
        let covered = delegated_paths
            .iter()
            .any(|p| trustroot_core::delegation::path_matches(p, path));
        if path.contains('/') && !covered {
            warnings.push(format!(
                "targets/{path} is in a subdirectory no delegation covers: tuf-on-ci's next targets signing event would drop it"
            ));
        }
    }
    for (role, bytes) in roles {
        if !bytes.is_ascii() {
            warnings.push(format!(
                "metadata/{role}.json holds non-ASCII text: tuf-on-ci writes it escaped (\\uXXXX), so its next version of the file differs in form"
            ));
        }
    }
    warnings
}
