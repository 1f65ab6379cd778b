//! Key rotations as policy edits: removing a (compromised) key from roles and changing a
//! role's threshold. Adding keys is `trustroot key add`; rotating the online key is
//! `trustroot key add NAME --role online REF` plus pointing `[online] signer` at the new
//! private key. Each edit only changes `trustroot.toml` (comments and layout kept, the
//! result re-checked before it is written); the next `ceremony start` stages a new root
//! that the old and the new root thresholds must both sign, like any other round.

use std::path::Path;

use toml_edit::{DocumentMut, Item, value};

use trustroot_core::RoleName;

use crate::error::{EditError, Error, FileProblem, PolicyProblem, Result};
use crate::keys;
use crate::policy::{MAX_POLICY_SIZE, Policy};
use crate::repo::{POLICY_FILE, Repo};

fn load(repo_dir: &Path) -> Result<(Repo, DocumentMut)> {
    let repo = Repo::open(repo_dir)?;
    let path = repo.root.join(POLICY_FILE);
    let text = String::from_utf8(keys::read_limited(&path, MAX_POLICY_SIZE)?)
        .map_err(|_| Error::content(&path, FileProblem::NotUtf8))?;
    let doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| Error::content(&path, FileProblem::NotToml { reason: e.to_string() }))?;
    Ok((repo, doc))
}

fn save(repo: &Repo, doc: &DocumentMut) -> Result<()> {
    let text = doc.to_string();
    Policy::parse(&text)?;
    repo.write(&repo.root.join(POLICY_FILE), text.as_bytes())
}

/// The table of an offline role in the policy document.
fn role_table<'d>(doc: &'d mut DocumentMut, repo: &Repo, role: &str) -> Result<&'d mut Item> {
    match role {
        "root" | "targets" => Ok(&mut doc["roles"][role]),
        "snapshot" | "timestamp" | "online" => Err(EditError::OnlineKeyRotation { role: role.into() }.into()),
        other if repo.policy.delegations.contains_key(other) => Ok(&mut doc["delegations"][other]),
        other => Err(EditError::UnknownRole {
            role: other.into(),
            with_online: false,
        }
        .into()),
    }
}

/// Removes key `name` from `role`, or from every role when `role` is `None`; a key no role
/// uses any more leaves `[keys]` too (its public key file stays, for the record). Refused
/// when a threshold could no longer be met: lower the threshold first, or add a key.
pub fn remove_key(repo_dir: &Path, name: &str, role: Option<&str>) -> Result<Vec<String>> {
    let (repo, mut doc) = load(repo_dir)?;
    if !repo.policy.keys.contains_key(name) {
        return Err(EditError::UnknownKey { name: name.to_string() }.into());
    }
    let mut roles: Vec<String> = match role {
        Some(r) => vec![r.to_string()],
        None => {
            let mut all = vec!["root".to_string(), "targets".to_string()];
            all.extend(repo.policy.delegations.keys().cloned());
            all
        }
    };
    roles.retain(|r| {
        repo.policy
            .signers(r)
            .is_some_and(|(keys, _)| keys.iter().any(|k| k == name))
    });
    if roles.is_empty() {
        return Err(EditError::SignsNothing {
            name: name.to_string(),
            role: role.map(RoleName::from),
        }
        .into());
    }
    for r in &roles {
        let table = role_table(&mut doc, &repo, r)?;
        let array = table["keys"]
            .as_array_mut()
            .ok_or_else(|| Error::policy(format!("{r}.keys"), PolicyProblem::NotAnArray))?;
        array.retain(|v| v.as_str() != Some(name));
    }
    // Does any role still use it?
    let text = doc.to_string();
    let still_used = match Policy::parse(&text) {
        Ok(p) => {
            p.roles.root.keys.iter().any(|k| k == name)
                || p.roles.targets.keys.iter().any(|k| k == name)
                || p.delegations.values().any(|d| d.keys.iter().any(|k| k == name))
        }
        Err(e) => {
            return Err(EditError::RemovalBreaksPolicy {
                name: name.to_string(),
                roles: roles.iter().map(|r| RoleName::from(r.as_str())).collect(),
                source: Box::new(e),
            }
            .into());
        }
    };
    if !still_used && let Some(keys) = doc["keys"].as_table_like_mut() {
        keys.remove(name);
    }
    save(&repo, &doc)?;
    Ok(roles)
}

/// Sets the threshold of `role` (root, targets or a delegation).
pub fn set_threshold(repo_dir: &Path, role: &str, threshold: u64) -> Result<()> {
    let (repo, mut doc) = load(repo_dir)?;
    let table = role_table(&mut doc, &repo, role)?;
    let threshold = i64::try_from(threshold).map_err(|_| EditError::ThresholdTooLarge { threshold })?;
    table["threshold"] = value(threshold);
    save(&repo, &doc)
}
