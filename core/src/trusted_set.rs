//! The trusted-metadata state machine: the TUF client workflow (spec 5.3-5.6) without I/O.
//!
//! Metadata is loaded in order: root, timestamp, snapshot, targets, delegated targets.
//! Each update is given bytes and checked against what is already trusted, at the
//! reference time given to [`TrustedSet::new`]. As in python-tuf's TrustedMetadataSet
//! (our model), metadata may be accepted as *intermediate* even when it is expired (or,
//! for snapshot, does not match timestamp's version): it then still protects against
//! rollback, but nothing can be loaded after it. Local copies that no longer verify
//! after a key rotation are simply not loaded, which is the fast-forward attack recovery
//! of spec 5.3.11.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::delegation::DelegationIndex;
use crate::envelope::Envelope;
use crate::error::{Error, ErrorKind, MalformedProblem, OrderProblem, Result};
use crate::hashes::verify_bytes;
use crate::keyless::{KeylessContext, SigstoreTrust};
use crate::limits::Limits;
use crate::metadata::{MetaFile, Role, Root, Snapshot, Targets, Timestamp};
use crate::names::RoleName;
use crate::verify::verify_threshold;

/// Trusted metadata with the exact bytes it was verified from. Only [`TrustedSet`] makes
/// one, after verifying it: holding a `Trusted<T>` is the proof.
#[derive(Debug, Clone)]
pub struct Trusted<T> {
    signed: T,
    bytes: Vec<u8>,
}

impl<T> Trusted<T> {
    /// The verified `signed` part.
    pub fn signed(&self) -> &T {
        &self.signed
    }

    /// The exact bytes that were verified.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// What [`TrustedSet::update_timestamp`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampUpdate {
    /// The new timestamp replaced the trusted one (or was the first).
    Updated,
    /// The new timestamp has the trusted version: the trusted one is kept (spec 5.4.3),
    /// and neither it nor the snapshot needs fetching again.
    Unchanged,
}

/// The metadata a client trusts, and the rules for trusting more.
#[derive(Debug, Clone)]
pub struct TrustedSet {
    now: DateTime<Utc>,
    limits: Limits,
    /// The Sigstore trust material keyless keys are checked against; none: they are
    /// unusable (every keyless signature is refused, naming why).
    keyless: Option<Arc<SigstoreTrust>>,
    root: Trusted<Root>,
    root_updates: u32,
    /// The snapshot role's keys in the starting root (spec 5.3.11 compares against them).
    initial_snapshot_keys: Option<(Vec<String>, u64, Vec<Option<crate::Key>>)>,
    timestamp: Option<Trusted<Timestamp>>,
    snapshot: Option<Trusted<Snapshot>>,
    targets: BTreeMap<RoleName, Trusted<Targets>>,
    /// For each trusted targets role with a long list of delegated roles, the index that
    /// finds the roles trusted for a path without scanning the list (256 hashed bins).
    delegation_indexes: BTreeMap<RoleName, std::sync::Arc<DelegationIndex>>,
    /// For each trusted targets role, the role whose keys it was verified against when it
    /// was loaded: [`TrustedSet::verify_trusted_targets`] need not parse and verify it
    /// again for that delegator (for a role of 100,000 entries, a parse costs more memory
    /// than the role itself). Dropped for every role a reloaded delegator vouched for.
    loaded_by: BTreeMap<RoleName, RoleName>,
}

/// Reads a role to verify. No `Value` of `signed` is built: for a targets role of 100,000
/// entries it would cost more memory than everything else together.
fn parse<T: Role>(name: &str, bytes: &[u8], limits: &Limits) -> Result<(Envelope, T)> {
    let envelope = Envelope::parse_outline(name, bytes, limits)?;
    let signed = T::from_document(name, &envelope, bytes)?;
    Ok((envelope, signed))
}

fn check_size(name: &str, bytes: &[u8], limit: u64) -> Result<()> {
    if bytes.len() as u64 > limit {
        return Err(Error::new(name, ErrorKind::TooLarge { limit }));
    }
    Ok(())
}

impl TrustedSet {
    /// Starts from a trusted root (spec 5.2): it must be signed by a threshold of its own
    /// root keys. Its expiry is not checked here: an expired root may still be used to
    /// update to a newer one.
    pub fn new(root_bytes: &[u8], now: DateTime<Utc>, limits: Limits) -> Result<Self> {
        Self::with_keyless(root_bytes, now, limits, None)
    }

    /// [`TrustedSet::new`], with the Sigstore trust material that keyless (`sigstore-oidc`)
    /// keys are checked against. It must come from elsewhere than the repository verified.
    pub fn with_keyless(
        root_bytes: &[u8],
        now: DateTime<Utc>,
        limits: Limits,
        keyless: Option<Arc<SigstoreTrust>>,
    ) -> Result<Self> {
        check_size("root", root_bytes, limits.max_root_size)?;
        let (envelope, root) = parse::<Root>("root", root_bytes, &limits)?;
        let context = keyless.as_deref().map(|trust| KeylessContext { trust, now });
        verify_root_signed_by(&root, &envelope, &root, context.as_ref())?;
        let initial_snapshot_keys = snapshot_keys(&root);
        Ok(TrustedSet {
            now,
            limits,
            keyless,
            initial_snapshot_keys,
            root: Trusted {
                signed: root,
                bytes: root_bytes.to_vec(),
            },
            root_updates: 0,
            timestamp: None,
            snapshot: None,
            targets: BTreeMap::new(),
            delegation_indexes: BTreeMap::new(),
            loaded_by: BTreeMap::new(),
        })
    }

    /// The reference time every expiry is checked against.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn root(&self) -> &Trusted<Root> {
        &self.root
    }

    pub fn timestamp(&self) -> Option<&Trusted<Timestamp>> {
        self.timestamp.as_ref()
    }

    pub fn snapshot(&self) -> Option<&Trusted<Snapshot>> {
        self.snapshot.as_ref()
    }

    /// A trusted targets role (`"targets"` or a delegated role).
    pub fn targets(&self, name: &str) -> Option<&Trusted<Targets>> {
        self.targets.get(name)
    }

    /// Every trusted targets role, by name.
    pub fn all_targets(&self) -> &BTreeMap<RoleName, Trusted<Targets>> {
        &self.targets
    }

    /// Whether the repository publishes consistent snapshots (version-prefixed metadata
    /// and hash-prefixed targets).
    pub fn consistent_snapshot(&self) -> bool {
        self.root.signed.consistent_snapshot.unwrap_or(false)
    }

    /// Spec 5.3.11: true when the root updates so far changed the snapshot role's keys or
    /// threshold. A locally stored timestamp and snapshot must then not be trusted: a
    /// snapshot version fast-forwarded by an attacker who held the old key would otherwise
    /// block every future update. (A changed timestamp key needs no such rule: the local
    /// timestamp simply no longer verifies.)
    pub fn snapshot_keys_rotated(&self) -> bool {
        snapshot_keys(&self.root.signed) != self.initial_snapshot_keys
    }

    /// Root versions accepted by [`TrustedSet::update_root`] so far.
    pub fn root_updates(&self) -> u32 {
        self.root_updates
    }

    /// Spec 5.3.4-5.3.7: accepts root version N+1 if a threshold of the trusted root's keys
    /// and a threshold of its own keys signed it. Expiry is checked only for the final
    /// root, when the timestamp is loaded.
    pub fn update_root(&mut self, bytes: &[u8]) -> Result<&Trusted<Root>> {
        if self.timestamp.is_some() {
            return Err(Error::new(
                "root",
                ErrorKind::Order(OrderProblem::Frozen {
                    role: "root",
                    by: "timestamp",
                }),
            ));
        }
        if self.root_updates >= self.limits.max_root_rotations {
            return Err(Error::new(
                "root",
                ErrorKind::TooManyRootRotations {
                    limit: self.limits.max_root_rotations,
                },
            ));
        }
        check_size("root", bytes, self.limits.max_root_size)?;
        let (envelope, new_root) = parse::<Root>("root", bytes, &self.limits)?;
        // 5.3.5: signed by a threshold of the trusted root's root keys...
        verify_root_signed_by(&self.root.signed, &envelope, &new_root, self.keyless_context().as_ref())?;
        // 5.3.6: ...with exactly the next version...
        let expected = self.root.signed.common.version + 1;
        if new_root.common.version != expected {
            return Err(Error::new(
                "root",
                ErrorKind::UnexpectedVersion {
                    expected,
                    found: new_root.common.version,
                },
            )
            .with_version(new_root.common.version));
        }
        // 5.3.5: ...and by a threshold of its own root keys.
        verify_root_signed_by(&new_root, &envelope, &new_root, self.keyless_context().as_ref())?;
        self.root = Trusted {
            signed: new_root,
            bytes: bytes.to_vec(),
        };
        self.root_updates += 1;
        Ok(&self.root)
    }

    /// Spec 5.4: accepts a timestamp signed by the root's timestamp keys, not older than
    /// the trusted one. The first call may pass a locally stored copy: if it no longer
    /// verifies (keys rotated), the error tells the caller to fetch a fresh one.
    pub fn update_timestamp(&mut self, bytes: &[u8]) -> Result<TimestampUpdate> {
        if self.snapshot.is_some() {
            return Err(Error::new(
                "timestamp",
                ErrorKind::Order(OrderProblem::Frozen {
                    role: "timestamp",
                    by: "snapshot",
                }),
            ));
        }
        // 5.3.10: the final root must not be expired.
        self.check_not_expired("root", self.root.signed.common.version, self.root.signed.common.expires)?;
        check_size("timestamp", bytes, self.limits.max_timestamp_size)?;
        let (envelope, new) = parse::<Timestamp>("timestamp", bytes, &self.limits)?;
        // 5.4.2: signed by a threshold of the timestamp keys.
        self.verify_top_level("timestamp", &envelope)?;
        let version = new.common.version;
        if let Some(trusted) = &self.timestamp {
            let trusted_version = trusted.signed.common.version;
            // 5.4.3.1: no rollback of the timestamp version.
            if version < trusted_version {
                return Err(Error::new(
                    "timestamp",
                    ErrorKind::Rollback {
                        trusted: trusted_version,
                        found: version,
                    },
                )
                .with_version(version));
            }
            // 5.4.3: an equal version keeps the trusted timestamp.
            if version == trusted_version {
                return Ok(TimestampUpdate::Unchanged);
            }
            // 5.4.3.2: no rollback of the snapshot version it names.
            let trusted_snapshot = trusted.signed.snapshot_meta().map_or(0, |m| m.version);
            let new_snapshot = new.snapshot_meta().map_or(0, |m| m.version);
            if new_snapshot < trusted_snapshot {
                return Err(Error::new(
                    "snapshot",
                    ErrorKind::Rollback {
                        trusted: trusted_snapshot,
                        found: new_snapshot,
                    },
                )
                .with_version(new_snapshot));
            }
        }
        let expires = new.common.expires;
        self.timestamp = Some(Trusted {
            signed: new,
            bytes: bytes.to_vec(),
        });
        // 5.4.4: kept for rollback protection even if expired, but not final.
        self.check_not_expired("timestamp", version, expires)?;
        Ok(TimestampUpdate::Updated)
    }

    /// Spec 5.5: accepts a snapshot matching the timestamp's METAFILE, signed by the
    /// snapshot keys, that drops no role and rolls back no role's version.
    /// `from_local_cache` skips the length and hash check for a copy this client verified
    /// earlier (the timestamp may have moved on since); such a copy still protects against
    /// rollback even when it is no longer final.
    pub fn update_snapshot(&mut self, bytes: &[u8], from_local_cache: bool) -> Result<()> {
        if !self.targets.is_empty() {
            return Err(Error::new(
                "snapshot",
                ErrorKind::Order(OrderProblem::Frozen {
                    role: "snapshot",
                    by: "targets",
                }),
            ));
        }
        let meta = self.final_timestamp_snapshot_meta()?.clone();
        if !from_local_cache {
            // 5.5.2: length and hashes as timestamp lists them.
            let limit = meta.length.unwrap_or(self.limits.max_snapshot_size);
            check_size("snapshot", bytes, limit)?;
            verify_bytes("snapshot", bytes, meta.length, meta.hashes.as_ref())?;
        } else {
            check_size("snapshot", bytes, self.limits.max_snapshot_size)?;
        }
        let (envelope, new) = parse::<Snapshot>("snapshot", bytes, &self.limits)?;
        // 5.5.3: signed by a threshold of the snapshot keys.
        self.verify_top_level("snapshot", &envelope)?;
        let version = new.common.version;
        if let Some(trusted) = &self.snapshot {
            // 5.5.5: every role listed before is still listed, at no lower version.
            for (file, old) in &trusted.signed.meta {
                let role = file.strip_suffix(".json").unwrap_or(file);
                let Some(current) = new.meta.get(file) else {
                    return Err(
                        Error::new("snapshot", ErrorKind::RoleRemoved { name: role.to_string() }).with_version(version),
                    );
                };
                if current.version < old.version {
                    return Err(Error::new(
                        role,
                        ErrorKind::Rollback {
                            trusted: old.version,
                            found: current.version,
                        },
                    )
                    .with_version(current.version));
                }
            }
        }
        self.snapshot = Some(Trusted {
            signed: new,
            bytes: bytes.to_vec(),
        });
        self.check_final_snapshot()
    }

    /// Spec 5.6 for the top-level targets role.
    pub fn update_targets(&mut self, bytes: &[u8]) -> Result<()> {
        self.update_delegated_targets(bytes, "targets", "root")
    }

    /// Spec 5.6 (and 5.6.7.2 for delegations): accepts targets metadata for `role`,
    /// matching snapshot's METAFILE, signed by a threshold of the keys `delegator` gives
    /// `role`, not expired.
    pub fn update_delegated_targets(&mut self, bytes: &[u8], role: &str, delegator: &str) -> Result<()> {
        self.check_final_snapshot()?;
        let meta = self.snapshot_meta(role)?.clone();
        // 5.6.2: length and hashes as snapshot lists them.
        let limit = meta.length.unwrap_or(self.limits.max_targets_size);
        check_size(role, bytes, limit)?;
        verify_bytes(role, bytes, meta.length, meta.hashes.as_ref())?;
        let mut envelope = Envelope::parse_outline(role, bytes, &self.limits)?;
        // 5.6.3: signed by the delegator's threshold for this role. Checked before the
        // typed role is read, so that the canonical bytes (as large as the role's text) are
        // freed first; a malformed role is still reported before a bad signature.
        let signed_by_delegator = self.verify_delegated(role, delegator, &envelope);
        envelope.release_signed_bytes();
        let new = Targets::from_document(role, &envelope, bytes)?;
        signed_by_delegator?;
        // 5.6.4: the version snapshot names.
        let version = new.common.version;
        if version != meta.version {
            return Err(Error::new(
                role,
                ErrorKind::UnexpectedVersion {
                    expected: meta.version,
                    found: version,
                },
            )
            .with_version(version));
        }
        // 5.6.5: not expired.
        self.check_not_expired(role, version, new.common.expires)?;
        match new.delegations.as_ref().and_then(DelegationIndex::build) {
            Some(index) => self
                .delegation_indexes
                .insert(RoleName::new(role), std::sync::Arc::new(index)),
            None => self.delegation_indexes.remove(role),
        };
        self.targets.insert(
            RoleName::new(role),
            Trusted {
                signed: new,
                bytes: bytes.to_vec(),
            },
        );
        // The roles this one vouched for were checked against its previous metadata.
        self.loaded_by.retain(|_, by| by.as_str() != role);
        self.loaded_by.insert(RoleName::new(role), RoleName::new(delegator));
        Ok(())
    }

    /// Re-checks an already trusted targets role against `delegator`: a role reached
    /// through a second delegator must be authorised by that delegator too, not inherit
    /// the trust of the first path ("diamond" delegations).
    pub fn verify_trusted_targets(&self, role: &str, delegator: &str) -> Result<()> {
        let trusted = self
            .targets
            .get(role)
            .ok_or_else(|| Error::new(role, ErrorKind::Order(OrderProblem::NotLoaded { what: "role" })))?;
        // Verified against this delegator's keys when loaded, and neither has changed
        // since (a reloaded delegator drops the entry; root is frozen once a timestamp is).
        if self.loaded_by.get(role).is_some_and(|by| by.as_str() == delegator) {
            return Ok(());
        }
        let envelope = Envelope::parse_outline(role, &trusted.bytes, &self.limits)?;
        self.verify_delegated(role, delegator, &envelope)
    }

    /// Spec 5.6.7 over the roles already loaded: the role a client would take `target`
    /// from, with its description, or `None` when no role trusted for that path lists it
    /// (or the search reaches a role that is not loaded). Each delegation edge the search
    /// crosses is checked against its delegator once; `verified` remembers the edges
    /// checked, so resolving many paths stays cheap.
    pub fn find_loaded_target(
        &self,
        target: &str,
        verified: &mut std::collections::HashSet<(RoleName, RoleName)>,
    ) -> Option<(RoleName, crate::TargetFile)> {
        let mut search = crate::TargetSearch::new(target, self.limits.max_delegations);
        while let Some(role) = search.next_role() {
            let trusted = self.targets.get(&role.name)?;
            let edge = (role.name.clone(), role.delegator.clone());
            if !verified.contains(&edge) {
                self.verify_trusted_targets(&role.name, &role.delegator).ok()?;
                verified.insert(edge);
            }
            if let Some(found) = search.visit_indexed(&role, &trusted.signed, self.delegation_index(&role.name)) {
                return Some((role.name, found));
            }
        }
        None
    }

    /// The index of the roles trusted targets role `role` delegates to, when it lists
    /// enough of them to have one (see [`DelegationIndex::build`]).
    pub fn delegation_index(&self, role: &str) -> Option<&DelegationIndex> {
        self.delegation_indexes.get(role).map(|index| &**index)
    }

    /// Snapshot's METAFILE for a targets role (spec 5.6.1), failing if it is not listed.
    pub fn snapshot_meta(&self, role: &str) -> Result<&MetaFile> {
        let snapshot = self
            .snapshot
            .as_ref()
            .ok_or_else(|| Error::new(role, ErrorKind::Order(OrderProblem::NotLoaded { what: "snapshot" })))?;
        snapshot.signed.meta.get(&format!("{role}.json")).ok_or_else(|| {
            Error::new(
                role,
                ErrorKind::NotListed {
                    listed_in: "snapshot".into(),
                },
            )
        })
    }

    /// Timestamp's METAFILE for the snapshot, once the timestamp is trusted and final.
    pub fn final_timestamp_snapshot_meta(&self) -> Result<&MetaFile> {
        let timestamp = self.timestamp.as_ref().ok_or_else(|| {
            Error::new(
                "snapshot",
                ErrorKind::Order(OrderProblem::NotLoaded { what: "timestamp" }),
            )
        })?;
        self.check_not_expired(
            "timestamp",
            timestamp.signed.common.version,
            timestamp.signed.common.expires,
        )?;
        timestamp
            .signed
            .snapshot_meta()
            .ok_or_else(|| Error::malformed("timestamp", MalformedProblem::NoSnapshotEntry))
    }

    fn check_final_snapshot(&self) -> Result<()> {
        let meta_version = self.final_timestamp_snapshot_meta()?.version;
        let snapshot = self.snapshot.as_ref().ok_or_else(|| {
            Error::new(
                "snapshot",
                ErrorKind::Order(OrderProblem::NotLoaded { what: "snapshot" }),
            )
        })?;
        let common = &snapshot.signed.common;
        // 5.5.6: not expired.
        self.check_not_expired("snapshot", common.version, common.expires)?;
        // 5.5.4: the version timestamp names.
        if common.version != meta_version {
            return Err(Error::new(
                "snapshot",
                ErrorKind::UnexpectedVersion {
                    expected: meta_version,
                    found: common.version,
                },
            )
            .with_version(common.version));
        }
        Ok(())
    }

    fn check_not_expired(&self, role: &str, version: u64, expires: DateTime<Utc>) -> Result<()> {
        if self.now >= expires {
            return Err(Error::new(role, ErrorKind::Expired { expires, now: self.now }).with_version(version));
        }
        Ok(())
    }

    fn verify_top_level(&self, role: &str, envelope: &Envelope) -> Result<()> {
        let root = &self.root.signed;
        let keys = root.roles.get(role).ok_or_else(|| {
            Error::new(
                role,
                ErrorKind::NotListed {
                    listed_in: "root".into(),
                },
            )
        })?;
        verify_threshold(
            role,
            envelope,
            &root.keys,
            &keys.keyids,
            keys.threshold,
            self.keyless_context().as_ref(),
        )
    }

    fn keyless_context(&self) -> Option<KeylessContext<'_>> {
        self.keyless
            .as_deref()
            .map(|trust| KeylessContext { trust, now: self.now })
    }

    fn verify_delegated(&self, role: &str, delegator: &str, envelope: &Envelope) -> Result<()> {
        if delegator == "root" {
            return self.verify_top_level(role, envelope);
        }
        let parent = self.targets.get(delegator).ok_or_else(|| {
            Error::new(
                role,
                ErrorKind::Order(OrderProblem::DelegatorNotLoaded {
                    delegator: delegator.to_string(),
                }),
            )
        })?;
        let not_delegated = || {
            Error::new(
                role,
                ErrorKind::NotListed {
                    listed_in: format!("the delegations of '{delegator}'"),
                },
            )
        };
        let delegations = parent.signed.delegations.as_ref().ok_or_else(not_delegated)?;
        let (keyids, threshold) = delegations.role_keys(role).ok_or_else(not_delegated)?;
        verify_threshold(
            role,
            envelope,
            &delegations.keys,
            keyids,
            threshold,
            self.keyless_context().as_ref(),
        )
    }
}

/// The snapshot role's key IDs (sorted), threshold and keys, for comparing roots.
fn snapshot_keys(root: &Root) -> Option<(Vec<String>, u64, Vec<Option<crate::Key>>)> {
    let role = root.roles.get("snapshot")?;
    let mut ids = role.keyids.clone();
    ids.sort();
    ids.dedup();
    let keys = ids.iter().map(|id| root.keys.get(id).cloned()).collect();
    Some((ids, role.threshold, keys))
}

/// Root `new` signed (envelope) by a threshold of `by`'s root keys.
fn verify_root_signed_by(
    by: &Root,
    envelope: &Envelope,
    new: &Root,
    keyless: Option<&KeylessContext<'_>>,
) -> Result<()> {
    let keys = by
        .roles
        .get("root")
        .ok_or_else(|| Error::malformed("root", MalformedProblem::MissingTopLevelRole { role: "root" }))?;
    verify_threshold("root", envelope, &by.keys, &keys.keyids, keys.threshold, keyless)
        .map_err(|e| e.with_version(new.common.version))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::canonical::to_canonical_bytes;
    use ed25519_dalek::{Signer as _, SigningKey};
    use serde_json::{Value, json};

    const EXPIRES: &str = "2030-01-01T00:00:00Z";

    struct TestKey {
        id: String,
        public: Value,
        signing: SigningKey,
    }

    fn key(seed: u8) -> TestKey {
        let signing = SigningKey::from_bytes(&[seed; 32]);
        let public = json!({
            "keytype": "ed25519",
            "scheme": "ed25519",
            "keyval": {"public": hex::encode(signing.verifying_key().to_bytes())},
        });
        let id = crate::hashes::sha256_hex(&to_canonical_bytes(&public).unwrap());
        TestKey { id, public, signing }
    }

    fn sign(signed: Value, key: &TestKey) -> Vec<u8> {
        let canonical = to_canonical_bytes(&signed).unwrap();
        let sig = hex::encode(key.signing.sign(&canonical).to_bytes());
        serde_json::to_vec(&json!({"signed": signed, "signatures": [{"keyid": key.id, "sig": sig}]})).unwrap()
    }

    /// A targets role delegating every path to each `(role, key)` given.
    fn targets_delegating(delegated: &[(&str, &TestKey)]) -> Value {
        let keys: serde_json::Map<String, Value> = delegated
            .iter()
            .map(|(_, k)| (k.id.clone(), k.public.clone()))
            .collect();
        let roles: Vec<Value> = delegated
            .iter()
            .map(|(name, k)| json!({"name": name, "keyids": [k.id], "threshold": 1, "terminating": false, "paths": ["*"]}))
            .collect();
        json!({
            "_type": "targets", "spec_version": "1.0.31", "version": 1, "expires": EXPIRES,
            "targets": {}, "delegations": {"keys": keys, "roles": roles},
        })
    }

    /// Root, timestamp, snapshot and a top-level targets role delegating to `a` and `b`,
    /// which both delegate to `r`: `a` trusts `a_trusts_for_r`, `b` trusts `b_trusts_for_r`.
    fn diamond(a_trusts_for_r: &TestKey, b_trusts_for_r: &TestKey) -> (TrustedSet, TestKey, TestKey) {
        let top = key(1);
        let (ka, kb) = (key(2), key(3));
        let roles: serde_json::Map<String, Value> = ["root", "timestamp", "snapshot", "targets"]
            .iter()
            .map(|r| (r.to_string(), json!({"keyids": [top.id], "threshold": 1})))
            .collect();
        let root = json!({
            "_type": "root", "spec_version": "1.0.31", "version": 1, "expires": EXPIRES,
            "consistent_snapshot": false, "keys": {top.id.clone(): top.public.clone()}, "roles": roles,
        });
        let now = crate::time::parse("2026-01-01T00:00:00Z").unwrap();
        let mut set = TrustedSet::new(&sign(root, &top), now, Limits::default()).unwrap();
        let timestamp = json!({
            "_type": "timestamp", "spec_version": "1.0.31", "version": 1, "expires": EXPIRES,
            "meta": {"snapshot.json": {"version": 1}},
        });
        set.update_timestamp(&sign(timestamp, &top)).unwrap();
        let meta: serde_json::Map<String, Value> = ["targets", "a", "b", "r"]
            .iter()
            .map(|r| (format!("{r}.json"), json!({"version": 1})))
            .collect();
        let snapshot = json!({
            "_type": "snapshot", "spec_version": "1.0.31", "version": 1, "expires": EXPIRES, "meta": meta,
        });
        set.update_snapshot(&sign(snapshot, &top), false).unwrap();
        set.update_targets(&sign(targets_delegating(&[("a", &ka), ("b", &kb)]), &top))
            .unwrap();
        let a = sign(targets_delegating(&[("r", a_trusts_for_r)]), &ka);
        set.update_delegated_targets(&a, "a", "targets").unwrap();
        let b = sign(targets_delegating(&[("r", b_trusts_for_r)]), &kb);
        set.update_delegated_targets(&b, "b", "targets").unwrap();
        (set, ka, kb)
    }

    fn leaf() -> Value {
        json!({"_type": "targets", "spec_version": "1.0.31", "version": 1, "expires": EXPIRES, "targets": {}})
    }

    /// A role loaded through one delegator is still checked in full against another that
    /// does not trust its signer ("diamond" delegations); the check it passed when loaded
    /// is not checked again.
    #[test]
    fn a_role_reached_through_a_second_delegator_is_checked_against_it() {
        let (kr, kx) = (key(4), key(5));
        let (mut set, _, _) = diamond(&kr, &kx);
        set.update_delegated_targets(&sign(leaf(), &kr), "r", "a").unwrap();
        assert!(set.verify_trusted_targets("r", "a").is_ok());
        let error = set.verify_trusted_targets("r", "b").unwrap_err();
        assert!(matches!(error.kind, ErrorKind::ThresholdNotMet { .. }), "{error}");
    }

    /// A delegator loaded again with other keys for a role it delegates: the role, verified
    /// against the delegator's earlier metadata, must be checked again, never vouched for
    /// by the earlier check.
    #[test]
    fn a_role_whose_delegator_was_reloaded_with_other_keys_is_checked_again() {
        let (kr, kx) = (key(4), key(5));
        let (mut set, ka, _) = diamond(&kr, &kr);
        set.update_delegated_targets(&sign(leaf(), &kr), "r", "a").unwrap();
        assert!(set.verify_trusted_targets("r", "a").is_ok());
        let a_now_trusts_x = sign(targets_delegating(&[("r", &kx)]), &ka);
        set.update_delegated_targets(&a_now_trusts_x, "a", "targets").unwrap();
        let error = set.verify_trusted_targets("r", "a").unwrap_err();
        assert!(matches!(error.kind, ErrorKind::ThresholdNotMet { .. }), "{error}");
    }
}
