//! `trustroot ceremony delegate`: creating or changing a delegated targets role in the
//! policy (paths, threshold, terminating, hashed bins). Its keys are added with
//! `trustroot key add NAME --role ROLE REF` and removed with `trustroot key remove`.
//! The next `ceremony start` stages targets (which lists the delegation) and the role
//! itself, signed in the round like any other role.

use std::path::Path;

use toml_edit::{Array, DocumentMut, Item, Table, value};

use crate::error::{EditError, Error, FileProblem, Result};
use crate::keys;
use crate::policy::{MAX_POLICY_SIZE, Policy, check_name};
use crate::repo::{POLICY_FILE, Repo};

/// What to set on a delegation; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct DelegationEdit {
    pub paths: Option<Vec<String>>,
    pub threshold: Option<u64>,
    pub terminating: Option<bool>,
    /// `Some(0)` removes the bins.
    pub bins: Option<u32>,
    pub expiry_days: Option<u32>,
    pub signing_days: Option<u32>,
}

/// Creates delegation `name` (paths and threshold are required then) or changes it.
/// Returns true when it was created.
pub fn delegate(repo_dir: &Path, name: &str, edit: &DelegationEdit) -> Result<bool> {
    let repo = Repo::open(repo_dir)?;
    check_name("NAME", name).map_err(|_| EditError::InvalidRoleName { name: name.to_string() })?;
    let path = repo.root.join(POLICY_FILE);
    let text = String::from_utf8(keys::read_limited(&path, MAX_POLICY_SIZE)?)
        .map_err(|_| Error::content(&path, FileProblem::NotUtf8))?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| Error::content(&path, FileProblem::NotToml { reason: e.to_string() }))?;
    let created = !repo.policy.delegations.contains_key(name);
    if created && (edit.paths.is_none() || edit.threshold.is_none()) {
        return Err(EditError::NewDelegationIncomplete { name: name.to_string() }.into());
    }
    if !doc.contains_key("delegations") {
        let mut table = Table::new();
        table.set_implicit(true);
        doc["delegations"] = Item::Table(table);
    }
    if created {
        let mut table = Table::new();
        table["keys"] = value(Array::new());
        doc["delegations"][name] = Item::Table(table);
    }
    let table = &mut doc["delegations"][name];
    if let Some(paths) = &edit.paths {
        let mut array = Array::new();
        for p in paths {
            array.push(p.as_str());
        }
        table["paths"] = value(array);
    }
    if let Some(threshold) = edit.threshold {
        table["threshold"] = value(i64::try_from(threshold).map_err(|_| EditError::ThresholdTooLarge { threshold })?);
    }
    if let Some(terminating) = edit.terminating {
        table["terminating"] = value(terminating);
    }
    match edit.bins {
        Some(0) => {
            if let Some(t) = table.as_table_like_mut() {
                t.remove("bins");
            }
        }
        Some(bins) => table["bins"] = value(i64::from(bins)),
        None => {}
    }
    if let Some(days) = edit.expiry_days {
        table["expiry_days"] = value(i64::from(days));
    }
    if let Some(days) = edit.signing_days {
        table["signing_days"] = value(i64::from(days));
    }
    let new_text = doc.to_string();
    Policy::parse(&new_text)?;
    repo.write(&path, new_text.as_bytes())?;
    Ok(created)
}
