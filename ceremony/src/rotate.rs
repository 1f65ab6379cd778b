//! Key rotations as policy edits: removing a (compromised) key from roles and changing a
//! role's threshold. Adding keys is `trustroot key add`; rotating the online key is
//! `trustroot key add NAME --role online PUBKEY` plus pointing `[online] signer` at the new
//! private key. Each edit only changes `trustroot.toml` (comments and layout kept, the
//! result re-checked before it is written); the next `ceremony start` stages a new root
//! that the old and the new root thresholds must both sign, like any other round.

use std::path::Path;

use toml_edit::{DocumentMut, Item, value};

use crate::error::{Error, Result};
use crate::keys;
use crate::policy::{MAX_POLICY_SIZE, Policy};
use crate::repo::{POLICY_FILE, Repo};

fn load(repo_dir: &Path) -> Result<(Repo, DocumentMut)> {
    let repo = Repo::open(repo_dir)?;
    let path = repo.root.join(POLICY_FILE);
    let text =
        String::from_utf8(keys::read_limited(&path, MAX_POLICY_SIZE)?).map_err(|_| Error::file(&path, "not UTF-8"))?;
    let doc: DocumentMut = text
        .parse()
        .map_err(|e| Error::file(&path, format!("not valid TOML: {e}")))?;
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
        "snapshot" | "timestamp" | "online" => Err(Error::refused(format!(
            "{role} is signed by the one online key (threshold 1): rotate it with `trustroot key add NAME --role online PUBKEY`"
        ))),
        other if repo.policy.delegations.contains_key(other) => Ok(&mut doc["delegations"][other]),
        other => Err(Error::refused(format!(
            "no role '{other}' in the policy (root, targets, or a [delegations.NAME])"
        ))),
    }
}

/// Removes key `name` from `role`, or from every role when `role` is `None`; a key no role
/// uses any more leaves `[keys]` too (its public key file stays, for the record). Refused
/// when a threshold could no longer be met: lower the threshold first, or add a key.
pub fn remove_key(repo_dir: &Path, name: &str, role: Option<&str>) -> Result<Vec<String>> {
    let (repo, mut doc) = load(repo_dir)?;
    if !repo.policy.keys.contains_key(name) {
        return Err(Error::refused(format!("no key '{name}' in [keys]")));
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
        return Err(Error::refused(format!(
            "'{name}' signs {}",
            role.map_or("no role".to_string(), |r| format!("no '{r}'"))
        )));
    }
    for r in &roles {
        let table = role_table(&mut doc, &repo, r)?;
        let array = table["keys"]
            .as_array_mut()
            .ok_or_else(|| Error::policy(format!("{r}.keys"), "is not an array"))?;
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
            return Err(Error::refused(format!(
                "removing '{name}' from {} would leave an invalid policy: {e}; lower the threshold (`trustroot key threshold`) or add a key first",
                roles.join(", ")
            )));
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
    let threshold = i64::try_from(threshold).map_err(|_| Error::refused("threshold too large"))?;
    table["threshold"] = value(threshold);
    save(&repo, &doc)
}
