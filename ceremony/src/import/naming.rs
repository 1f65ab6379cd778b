//! Naming an imported repository's keys for `trustroot.toml`: a keyholder's key after its
//! `x-tuf-on-ci-keyowner` handle, the snapshot and timestamp key `online`, a delegation's
//! online key `<role>-online`, any other key `key-<first 8 digits of its ID>`. One
//! physical key listed under several IDs gets one name.

use std::collections::BTreeMap;

use trustroot_core::Key;
use trustroot_core::metadata::{Root, Targets};

use crate::error::{ImportError, Result};
use crate::keys::{KeyRef, same_key};

/// tuf-on-ci's key fields, and the names its predecessor (repository-playground) wrote.
const KEYOWNER: [&str; 2] = ["x-tuf-on-ci-keyowner", "x-playground-keyowner"];
const ONLINE_URI: [&str; 2] = ["x-tuf-on-ci-online-uri", "x-playground-online-uri"];

/// A key of the policy's `[keys]`.
#[derive(Debug, Clone)]
pub struct NamedKey {
    pub name: String,
    /// The key ID it is first listed under (not always the hash of the key).
    pub keyid: String,
    /// The key object as the metadata lists it first (every field kept).
    pub key: Key,
    pub holder: Option<String>,
    /// The online URI of a key that signs a delegation online, as written.
    pub online: Option<String>,
}

/// The key that signs snapshot and timestamp.
#[derive(Debug, Clone)]
pub struct OnlineKey {
    pub key: Key,
    pub keyid: String,
    /// Its `x-tuf-on-ci-online-uri`, as written.
    pub uri: Option<String>,
}

/// Every key of the repository, named.
#[derive(Debug, Clone)]
pub struct Naming {
    pub keys: Vec<NamedKey>,
    pub online: OnlineKey,
    /// Root, targets and each delegation: the names of its keys, in the metadata's order.
    pub role_keys: BTreeMap<String, Vec<String>>,
}

/// One listing of a key: where, under which ID, and the object.
struct Listing<'a> {
    file: &'a str,
    keyid: &'a str,
    key: &'a Key,
    /// The delegation it signs, for an online delegation key's name.
    role: &'a str,
}

/// Names every key of `root` (as `root_file` holds it) and of the delegations of
/// `targets` (as `targets_file` holds it).
pub fn name_keys(root: &Root, root_file: &str, targets: &Targets, targets_file: &str) -> Result<Naming> {
    let online = online_key(root, root_file)?;
    let mut naming = Naming {
        keys: Vec::new(),
        online,
        role_keys: BTreeMap::new(),
    };
    // Who first took each name, by its lowercase form (key files must not differ by case only).
    let mut taken: BTreeMap<String, Taken> = BTreeMap::new();
    for role in ["root", "targets"] {
        let Some(assignment) = root.roles.get(role) else {
            continue;
        };
        let mut names = Vec::new();
        for keyid in &assignment.keyids {
            let Some(key) = root.keys.get(keyid) else { continue };
            let listing = Listing {
                file: root_file,
                keyid,
                key,
                role,
            };
            names.push(name_one(&mut naming, &mut taken, &listing, root_file)?);
        }
        naming.role_keys.insert(role.to_string(), names);
    }
    if let Some(delegations) = &targets.delegations {
        for delegated in delegations.roles.iter().flatten() {
            let mut names = Vec::new();
            for keyid in &delegated.keyids {
                let Some(key) = delegations.keys.get(keyid) else {
                    continue;
                };
                let listing = Listing {
                    file: targets_file,
                    keyid,
                    key,
                    role: &delegated.name,
                };
                names.push(name_one(&mut naming, &mut taken, &listing, root_file)?);
            }
            naming.role_keys.insert(delegated.name.clone(), names);
        }
    }
    Ok(naming)
}

/// Snapshot and timestamp must share one key at threshold 1: the policy has one online key.
fn online_key(root: &Root, root_file: &str) -> Result<OnlineKey> {
    let unmodeled = |field: &str, what: String| -> crate::Error {
        ImportError::Unmodeled {
            file: root_file.to_string(),
            field: field.to_string(),
            what,
        }
        .into()
    };
    let role = |name: &str| {
        root.roles
            .get(name)
            .ok_or_else(|| unmodeled(&format!("roles.{name}"), "missing".to_string()))
    };
    let (timestamp, snapshot) = (role("timestamp")?, role("snapshot")?);
    let one = |name: &str, keys: &trustroot_core::metadata::RoleKeys| {
        if keys.keyids.len() != 1 || keys.threshold != 1 {
            return Err(unmodeled(
                &format!("roles.{name}"),
                format!(
                    "{} keys, threshold {}: trustroot signs snapshot and timestamp with one online key (threshold 1); rotate to one key before importing",
                    keys.keyids.len(),
                    keys.threshold
                ),
            ));
        }
        Ok(keys.keyids[0].clone())
    };
    let keyid = one("timestamp", timestamp)?;
    if one("snapshot", snapshot)? != keyid {
        return Err(unmodeled(
            "roles.snapshot.keyids",
            "snapshot and timestamp have different keys: trustroot signs both with one online key".to_string(),
        ));
    }
    let key = root
        .keys
        .get(&keyid)
        .ok_or_else(|| unmodeled(&format!("keys.{keyid}"), "the timestamp key is not listed".to_string()))?
        .clone();
    let online = field(&key, &ONLINE_URI);
    if let Some((field_name, uri)) = &online {
        check_online_uri(root_file, &keyid, field_name, uri)?;
    }
    Ok(OnlineKey {
        key,
        keyid,
        uri: online.map(|(_, uri)| uri),
    })
}

/// A key name given, by whom: to tell a second key of one owner (numbered) from another
/// owner's handle that becomes the same name (refused).
struct Taken {
    name: String,
    owner: Option<String>,
    keyid: String,
    /// The field the owner was read from.
    field: String,
}

/// Names one listing, reusing the name of the same physical key listed before.
fn name_one(
    naming: &mut Naming,
    taken: &mut BTreeMap<String, Taken>,
    listing: &Listing,
    root_file: &str,
) -> Result<String> {
    let key = listing.key;
    if same_key(key, &naming.online.key) && listing.role != "timestamp" {
        return Err(ImportError::Unmodeled {
            file: listing.file.to_string(),
            field: format!("keys.{}", listing.keyid),
            what: format!(
                "{} is signed by the online key of snapshot and timestamp (listed in {root_file} as {}): trustroot keeps the online key apart from every other role's keys",
                listing.role, naming.online.keyid
            ),
        }
        .into());
    }
    if let Some(named) = naming.keys.iter().find(|k| same_key(&k.key, key)) {
        return Ok(named.name.clone());
    }
    let owner = field(key, &KEYOWNER);
    let online = field(key, &ONLINE_URI);
    if let Some((field_name, uri)) = &online {
        check_online_uri(listing.file, listing.keyid, field_name, uri)?;
    }
    let base = match (&owner, &online) {
        (Some((_, handle)), _) => sanitize(handle),
        (None, Some(_)) => format!("{}-online", sanitize(listing.role)),
        (None, None) => format!("key-{}", listing.keyid.get(..8).unwrap_or(listing.keyid)),
    };
    let base = if base.is_empty() || base == "online" {
        format!("key-{}", listing.keyid.get(..8).unwrap_or(listing.keyid))
    } else {
        base
    };
    let owner_text = owner.as_ref().map(|(_, v)| v.clone());
    let mut name = base.clone();
    let mut n = 1;
    while let Some(first) = taken.get(&name.to_lowercase()) {
        match (&owner_text, &first.owner) {
            (Some(this), Some(first_owner)) if this != first_owner => {
                return Err(ImportError::KeyownerCollision {
                    file: listing.file.to_string(),
                    field: first.field.clone(),
                    first_id: first.keyid.clone(),
                    first: first_owner.clone(),
                    second_id: listing.keyid.to_string(),
                    second: this.clone(),
                    name: first.name.clone(),
                }
                .into());
            }
            // The same owner's second key, or a generated name taken: number it.
            _ => {
                n += 1;
                name = format!("{base}-{n}");
            }
        }
    }
    crate::policy::check_name("keys", &name).map_err(|_| ImportError::Unmodeled {
        file: listing.file.to_string(),
        field: format!("keys.{}", listing.keyid),
        what: format!("its keyowner gives the key name '{name}', which is not a valid name (at most 64 characters)"),
    })?;
    taken.insert(
        name.to_lowercase(),
        Taken {
            name: name.clone(),
            owner: owner_text.clone(),
            keyid: listing.keyid.to_string(),
            field: owner.as_ref().map_or(KEYOWNER[0], |(f, _)| f).to_string(),
        },
    );
    naming.keys.push(NamedKey {
        name: name.clone(),
        keyid: listing.keyid.to_string(),
        key: key.clone(),
        holder: owner_text,
        online: online.map(|(_, v)| v),
    });
    Ok(name)
}

/// The first of `fields` the key carries, as a string.
fn field(key: &Key, fields: &[&'static str]) -> Option<(&'static str, String)> {
    fields.iter().find_map(|f| {
        key.unknown
            .get(*f)
            .and_then(|v| v.as_str())
            .map(|v| (*f, v.to_string()))
    })
}

/// A keyowner handle as a key name: without `@`, other characters than letters, digits,
/// `-`, `_` and `.` become `-`, no leading `.` or `-`.
pub fn sanitize(handle: &str) -> String {
    let mapped: String = handle
        .trim_start_matches('@')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    mapped.trim_start_matches(['.', '-']).to_string()
}

/// An online URI trustroot can keep ([`KeyRef::parse_online_uri`]'s allowlist: `awskms:`
/// usable as it is, `gcpkms:`, `azurekms://` and keyless `sigstore:` kept until `[online]
/// signer` is configured),
/// else the refusal naming the file, the key and the field. A reference such as `file2:PATH`
/// is never read as a local path.
fn check_online_uri(file: &str, keyid: &str, field: &str, uri: &str) -> Result<()> {
    KeyRef::parse_online_uri(uri).map(|_| ()).map_err(|_| {
        ImportError::OnlineUri {
            file: file.to_string(),
            keyid: keyid.to_string(),
            field: field.to_string(),
            uri: uri.to_string(),
            reason: "not an online key reference trustroot knows (awskms:, gcpkms:, azurekms://, sigstore:), and never read as a local file; rotate the key in tuf-on-ci first".to_string(),
        }
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn handles_become_key_names() {
        assert_eq!(sanitize("@mnm678"), "mnm678");
        assert_eq!(sanitize("@rachel-taylor-docker"), "rachel-taylor-docker");
        assert_eq!(sanitize("@.hidden"), "hidden");
        assert_eq!(sanitize("a b/c"), "a-b-c");
    }
}
