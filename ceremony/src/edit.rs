//! `trustroot key add`: registering a keyholder's public key in the policy, keeping the
//! policy file's comments and layout.

use std::path::Path;

use toml_edit::{DocumentMut, Item, Table, value};

use crate::attestation::{self, Attestation, Evidence};
use crate::error::{EditError, Error, FileProblem, PolicyProblem, Result};
use crate::keys;
use crate::policy::{Policy, check_name};
use crate::repo::{POLICY_FILE, Repo};

/// Registers the public key `public_bytes` as `name`, a signer of `role` (`root`,
/// `targets`, a delegated role, or `online` for the online key). The key is written to
/// `keys/<name>.pub`; the policy is re-checked before anything is written.
///
/// With `attestation`, the YubiKey attestation must verify for this very key, and what it
/// says is recorded as `[keys.NAME.attestation]` (also for a key that already signs `role`:
/// that is how an attestation is added later). Its two certificates are kept, byte for
/// byte, as `keys/<name>.attestation-key.pem` and `keys/<name>.attestation-device.pem`
/// (replacing earlier ones), and the record names them, so staging can verify it again. A
/// role `[attestation] required_for` names takes no key without one.
pub fn add_key(
    repo_dir: &Path,
    name: &str,
    role: &str,
    holder: Option<&str>,
    public_bytes: &[u8],
    what: &str,
    attestation: Option<&Evidence<'_>>,
) -> Result<String> {
    let repo = Repo::open(repo_dir)?;
    check_name("NAME", name).map_err(|_| EditError::InvalidKeyName { name: name.to_string() })?;
    let key = keys::parse_public_key(what, public_bytes)?;
    if keys::is_p384(&key) && !repo.policy.gate.allow_p384 {
        return Err(Error::policy(format!("keys.{name}"), PolicyProblem::P384NotAllowed));
    }
    if role == "online" && attestation.is_some() {
        return Err(EditError::OnlineAttestation.into());
    }
    let attested = attestation
        .map(|evidence| attestation::verify_evidence(evidence, &key))
        .transpose()?;
    let kept = attestation.map(|evidence| KeptEvidence::of(name, evidence));
    let attested = attested.map(|mut record| {
        if let Some(kept) = &kept {
            record.key_cert = Some(kept.key_rel.clone());
            record.device_cert = Some(kept.device_rel.clone());
        }
        record
    });
    check_attestation_required(&repo, name, role, attested.as_ref())?;
    let key_rel = format!("keys/{name}.pub");
    let key_path = repo.root.join(&key_rel);
    let policy_path = repo.root.join(POLICY_FILE);
    let mut doc = read_policy_document(&policy_path)?;
    check_not_registered(&repo, name, &key)?;
    if role == "online" {
        doc["online"]["public"] = value(key_rel.clone());
    } else {
        add_signer(&mut doc, &repo, name, role, holder, &key_rel, attested.is_some())?;
        if let Some(attested) = &attested {
            set_attestation(&mut doc, name, attested)?;
        }
    }
    let new_text = doc.to_string();
    let new_policy = Policy::parse(&new_text)?;
    write_key_file(&repo, &key_path, public_bytes)?;
    // The evidence before the policy that names it; should the policy not be written, the
    // evidence files go back to what they were, so the policy on disk and the files it
    // names always agree (a key file left behind is harmless: nothing names it).
    let previous = match &kept {
        Some(kept) => Some(kept.write(&repo)?),
        None => None,
    };
    if let Err(e) = repo.write(&policy_path, new_text.as_bytes()) {
        if let Some(previous) = previous {
            previous.restore(&repo);
        }
        return Err(e);
    }
    // The key ID as it goes into metadata: the holder is part of the key object.
    let mut key = key;
    if role != "online"
        && let Some(holder) = new_policy.keys.get(name).and_then(|e| e.holder.clone())
    {
        key.unknown
            .insert("x-tuf-on-ci-keyowner".to_string(), serde_json::Value::String(holder));
    }
    Ok(key.computed_key_id().into_string())
}

/// The policy file as an editable document, comments and layout included.
fn read_policy_document(policy_path: &Path) -> Result<DocumentMut> {
    let text = std::str::from_utf8(&keys::read_limited(policy_path, crate::policy::MAX_POLICY_SIZE)?)
        .map_err(|_| Error::content(policy_path, FileProblem::NotUtf8))?
        .to_string();
    text.parse()
        .map_err(|e: toml_edit::TomlError| Error::content(policy_path, FileProblem::NotToml { reason: e.to_string() }))
}

/// Refuses a name registered with another key, and a key registered under another name.
fn check_not_registered(repo: &Repo, name: &str, key: &trustroot_core::Key) -> Result<()> {
    // The keys already registered (unreadable ones are skipped: the policy check names them).
    let existing: std::collections::BTreeMap<&String, trustroot_core::Key> = repo
        .policy
        .keys
        .iter()
        .filter_map(|(n, e)| {
            let bytes = keys::read_limited(&repo.root.join(&e.public), 64 * 1024).ok()?;
            keys::parse_public_key(&e.public, &bytes).ok().map(|k| (n, k))
        })
        .collect();
    if let Some(entry) = repo.policy.keys.get(name) {
        // The name exists: the key must be the same one.
        let same = existing.get(&name.to_string()).is_some_and(|k| keys::same_key(k, key));
        if !same {
            return Err(EditError::NameTaken {
                name: name.to_string(),
                public: entry.public.clone(),
            }
            .into());
        }
    } else if let Some((other, _)) = existing.iter().find(|(_, k)| keys::same_key(k, key)) {
        return Err(EditError::KeyRegistered {
            name: other.to_string(),
        }
        .into());
    }
    Ok(())
}

/// Refuses a key without a verified attestation for a role that requires one (a key that
/// already has one recorded keeps it).
fn check_attestation_required(repo: &Repo, name: &str, role: &str, attested: Option<&Attestation>) -> Result<()> {
    let policy_role = repo.policy.delegation_of_bin(role).unwrap_or(role);
    let recorded = repo.policy.keys.get(name).is_some_and(|e| e.attestation.is_some());
    if repo.policy.attestation.required(policy_role) && attested.is_none() && !recorded {
        return Err(EditError::AttestationRequired {
            name: name.to_string(),
            role: role.into(),
        }
        .into());
    }
    Ok(())
}

/// Records `attested` in key `name`'s entry, as a `[keys.NAME.attestation]` table, or as an
/// inline table when the entry is one (a hand-written `alice = { public = "..." }`).
fn set_attestation(doc: &mut DocumentMut, name: &str, attested: &Attestation) -> Result<()> {
    let table = attestation_table(attested);
    match doc["keys"].get_mut(name) {
        Some(Item::Table(entry)) => {
            entry.insert("attestation", Item::Table(table));
        }
        Some(Item::Value(toml_edit::Value::InlineTable(entry))) => {
            entry.insert("attestation", toml_edit::Value::InlineTable(table.into_inline_table()));
        }
        _ => return Err(Error::policy(format!("keys.{name}"), PolicyProblem::NotDefined)),
    }
    Ok(())
}

/// The `[keys.NAME.attestation]` table of a verified attestation.
fn attestation_table(attested: &Attestation) -> Table {
    let mut table = Table::new();
    if let Some(serial) = attested.serial {
        table["serial"] = value(i64::from(serial));
    }
    table["firmware"] = value(attested.firmware.as_str());
    if let Some(form) = &attested.form_factor {
        table["form_factor"] = value(form.as_str());
    }
    table["slot"] = value(attested.slot.as_str());
    if let Some(pin) = &attested.pin_policy {
        table["pin_policy"] = value(pin.as_str());
    }
    if let Some(touch) = &attested.touch_policy {
        table["touch_policy"] = value(touch.as_str());
    }
    table["root"] = value(attested.root.as_str());
    if let Some(key_cert) = &attested.key_cert {
        table["key_cert"] = value(key_cert.as_str());
    }
    if let Some(device_cert) = &attested.device_cert {
        table["device_cert"] = value(device_cert.as_str());
    }
    table
}

/// Adds key `name` to `[keys]` (when new) and to the signers of `role` in `doc`. A key
/// that already signs `role` is refused, unless `attesting` (an attestation added later).
fn add_signer(
    doc: &mut DocumentMut,
    repo: &Repo,
    name: &str,
    role: &str,
    holder: Option<&str>,
    key_rel: &str,
    attesting: bool,
) -> Result<()> {
    if !doc.contains_key("keys") {
        doc["keys"] = Item::Table(Table::new());
    }
    if !repo.policy.keys.contains_key(name) {
        let mut entry = Table::new();
        entry["public"] = value(key_rel);
        if let Some(holder) = holder {
            entry["holder"] = value(holder);
        }
        doc["keys"][name] = Item::Table(entry);
    }
    let role_table = match role {
        "root" | "targets" => &mut doc["roles"][role],
        "snapshot" | "timestamp" => {
            return Err(EditError::OnlineRole { role: role.into() }.into());
        }
        delegated if repo.policy.delegations.contains_key(delegated) => &mut doc["delegations"][delegated],
        other => {
            return Err(EditError::UnknownRole {
                role: other.into(),
                with_online: true,
            }
            .into());
        }
    };
    if role_table.get("keys").is_none() {
        role_table["keys"] = value(toml_edit::Array::new());
    }
    let array = role_table["keys"]
        .as_array_mut()
        .ok_or_else(|| Error::policy(format!("roles.{role}.keys"), PolicyProblem::NotAnArray))?;
    if array.iter().any(|v| v.as_str() == Some(name)) {
        if attesting {
            return Ok(());
        }
        return Err(EditError::AlreadySigns {
            name: name.to_string(),
            role: role.into(),
        }
        .into());
    }
    array.push(name);
    Ok(())
}

/// Writes `keys/<name>.pub`, unless it already holds these very bytes; refuses another key.
fn write_key_file(repo: &Repo, key_path: &Path, public_bytes: &[u8]) -> Result<()> {
    if key_path.exists() {
        let on_disk = keys::read_limited(key_path, 64 * 1024)?;
        if on_disk != public_bytes {
            return Err(Error::content(key_path, FileProblem::OtherKeyFile));
        }
        Ok(())
    } else {
        repo.write(key_path, public_bytes)
    }
}

/// The two attestation certificates of key `name`, exactly as given, and where they are kept.
struct KeptEvidence<'a> {
    key_rel: String,
    key_cert: &'a [u8],
    device_rel: String,
    device_cert: &'a [u8],
}

/// What the evidence files held before they were written (`None`: there was no file).
struct PreviousEvidence {
    files: Vec<(std::path::PathBuf, Option<Vec<u8>>)>,
}

impl<'a> KeptEvidence<'a> {
    fn of(name: &str, evidence: &Evidence<'a>) -> KeptEvidence<'a> {
        KeptEvidence {
            key_rel: format!("keys/{name}.attestation-key.pem"),
            key_cert: evidence.key_cert,
            device_rel: format!("keys/{name}.attestation-device.pem"),
            device_cert: evidence.device_cert,
        }
    }

    /// Writes both files (each atomically), replacing earlier evidence; if the second
    /// write fails the first is undone. Returns what they held, for [`PreviousEvidence::restore`].
    fn write(&self, repo: &Repo) -> Result<PreviousEvidence> {
        let mut previous = PreviousEvidence { files: Vec::new() };
        for (rel, bytes) in [(&self.key_rel, self.key_cert), (&self.device_rel, self.device_cert)] {
            let path = repo.root.join(rel);
            let before = match read_previous(&path) {
                Ok(before) => before,
                Err(e) => {
                    previous.restore(repo);
                    return Err(e);
                }
            };
            if let Err(e) = repo.write(&path, bytes) {
                previous.restore(repo);
                return Err(e);
            }
            previous.files.push((path, before));
        }
        Ok(previous)
    }
}

impl PreviousEvidence {
    /// Puts the evidence files back as they were. Best effort: it runs on the way out of
    /// a failure, whose error is the one to report.
    fn restore(self, repo: &Repo) {
        for (path, before) in self.files.into_iter().rev() {
            match before {
                Some(bytes) => {
                    let _ = repo.write(&path, &bytes);
                }
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }
}

/// What an evidence file holds before it is replaced (`None`: no file). Generous limit: a
/// file put there by hand must not make the registration fail for its size.
fn read_previous(path: &Path) -> Result<Option<Vec<u8>>> {
    if !path.exists() {
        return Ok(None);
    }
    keys::read_limited(path, crate::policy::MAX_POLICY_SIZE).map(Some)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn evidence<'a>(key_cert: &'a [u8], device_cert: &'a [u8]) -> Evidence<'a> {
        Evidence {
            key_cert_file: "key_cert.pem",
            key_cert,
            device_cert_file: "device_cert.pem",
            device_cert,
            now: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        }
    }

    /// What `add_key` does when the policy cannot be written after the evidence was: the
    /// evidence files go back to what they held, or away when there were none.
    #[test]
    fn evidence_written_before_a_failed_policy_write_is_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let repo_dir = dir.path().join("repo");
        crate::repo::init(&repo_dir).unwrap();
        let repo = Repo::open(&repo_dir).unwrap();
        let key_path = repo.root.join("keys/alice.attestation-key.pem");
        let device_path = repo.root.join("keys/alice.attestation-device.pem");

        // No evidence before: restoring removes both files.
        let first = KeptEvidence::of("alice", &evidence(b"key one", b"device one"));
        first.write(&repo).unwrap().restore(&repo);
        assert!(!key_path.exists() && !device_path.exists());

        // Evidence before: restoring puts the earlier bytes back.
        first.write(&repo).unwrap();
        let second = KeptEvidence::of("alice", &evidence(b"key two", b"device two"));
        let previous = second.write(&repo).unwrap();
        assert_eq!(std::fs::read(&key_path).unwrap(), b"key two");
        previous.restore(&repo);
        assert_eq!(std::fs::read(&key_path).unwrap(), b"key one");
        assert_eq!(std::fs::read(&device_path).unwrap(), b"device one");
    }
}
