//! Misbehaviour builders: the hostile or broken repositories attack tests need.
//! Each takes effect at the next [`RepoSim::publish`] unless it says otherwise.

use serde_json::Value;

use crate::encode::metadata_path;
use crate::envelope::SignPlan;
use crate::keys::SimKey;
use crate::repo::RepoSim;

impl RepoSim {
    /// Signs `role` according to `plan` from the next publish on (and forces a new
    /// version of it then). See [`SignPlan`].
    pub fn set_sign_plan(&mut self, role: &str, plan: SignPlan) {
        let r = self.role_mut(role);
        r.plan = plan;
        r.force_bump = true;
    }

    /// Back to signing `role` with its own keys (forces a new version at the next publish).
    pub fn clear_sign_plan(&mut self, role: &str) {
        self.set_sign_plan(role, SignPlan::default());
    }

    /// The current sign plan of `role`.
    pub fn sign_plan(&self, role: &str) -> SignPlan {
        self.role(role).plan.clone()
    }

    fn edit_plan(&mut self, role: &str, edit: impl FnOnce(&mut SignPlan)) {
        let mut plan = self.sign_plan(role);
        edit(&mut plan);
        self.set_sign_plan(role, plan);
    }

    /// Also sign `role` with `keys` (e.g. foreign keys not listed for it).
    pub fn sign_with_extra_keys(&mut self, role: &str, keys: Vec<SimKey>) {
        self.edit_plan(role, |p| p.extra_keys.extend(keys));
    }

    /// Sign `role` with exactly `keys` (root: instead of old + new root keys).
    pub fn sign_with(&mut self, role: &str, keys: Vec<SimKey>) {
        self.edit_plan(role, |p| p.signers = Some(keys));
    }

    /// Repeat the first signature entry of `role` (duplicate key ID in `signatures`).
    pub fn sign_with_duplicate_signature(&mut self, role: &str) {
        self.edit_plan(role, |p| p.duplicate_first = true);
    }

    /// Keep only `threshold - 1` signatures of `role`.
    pub fn sign_below_threshold(&mut self, role: &str) {
        let n = usize::try_from(self.threshold(role).saturating_sub(1)).unwrap_or(0);
        self.edit_plan(role, |p| p.only_first = Some(n));
    }

    /// Give `key_id`'s signature on `role` an empty `sig` (appended if it did not sign).
    pub fn sign_with_empty_sig(&mut self, role: &str, key_id: &str) {
        let id = key_id.to_string();
        self.edit_plan(role, |p| p.empty_sigs.push(id));
    }

    /// Give `key_id`'s signature on `role` a wrong `sig` (appended if it did not sign).
    pub fn sign_with_invalid_sig(&mut self, role: &str, key_id: &str) {
        let id = key_id.to_string();
        self.edit_plan(role, |p| p.invalid_sigs.push(id));
    }

    /// List `role`'s first key ID twice in its `keyids` (in root or in the delegator), so
    /// a threshold of 2 "met" by one key can be tested.
    pub fn list_key_id_twice(&mut self, role: &str) {
        self.role_mut(role).keyid_listed_twice = true;
    }

    /// Sets (or overrides) a field of `role`'s `signed` value, e.g. `_type`, an unknown
    /// `x-` field, or even `version`/`expires` (the file name keeps the real version).
    pub fn set_signed_field(&mut self, role: &str, name: &str, value: Value) {
        self.role_mut(role).signed_fields.insert(name.to_string(), value);
    }

    /// Removes a field set with [`RepoSim::set_signed_field`].
    pub fn clear_signed_field(&mut self, role: &str, name: &str) {
        self.role_mut(role).signed_fields.remove(name);
    }

    /// Publishes `role` with a wrong `_type`.
    pub fn set_type(&mut self, role: &str, type_: &str) {
        self.set_signed_field(role, "_type", Value::String(type_.to_string()));
    }

    /// Sets a field of `role`'s entry in root's `roles` (top-level roles) or in its
    /// delegator's `delegations.roles`.
    pub fn set_role_entry_field(&mut self, role: &str, name: &str, value: Value) {
        self.role_mut(role).entry_fields.insert(name.to_string(), value);
    }

    /// Adds a custom field to the key object of `role`'s key `key_id`; the key's ID
    /// changes with it (it is the hash of the whole object). Returns the new key.
    pub fn set_key_field(&mut self, role: &str, key_id: &str, name: &str, value: Value) -> SimKey {
        let keys = &mut self.role_mut(role).keys;
        let slot = keys
            .iter_mut()
            .find(|k| k.key_id() == key_id)
            .unwrap_or_else(|| panic!("no key {key_id} in {role:?}"));
        *slot = slot.with_field(name, value);
        slot.clone()
    }

    /// At the next publish, give `role` a new version that carries the previous
    /// version's signatures (a version bump without re-signing).
    pub fn bump_without_resign(&mut self, role: &str) {
        let r = self.role_mut(role);
        r.force_bump = true;
        r.reuse_once = true;
    }

    /// Immediately serves the bytes of `role`'s published `version` where its latest
    /// version is served (`timestamp.json`, `V.<role>.json` or `<role>.json`): a
    /// rollback / freeze / mix-and-match of files. Undo with [`RepoSim::clear_overrides`].
    pub fn serve_version(&mut self, role: &str, version: u64) {
        let bytes = self
            .role_bytes(role, version)
            .unwrap_or_else(|| panic!("{role:?} version {version} was never published"));
        let path = metadata_path(role, self.version(role), self.consistent_snapshot);
        self.set_override(&path, Some(bytes));
    }

    /// Makes snapshot (for a targets role) or timestamp (for `snapshot`) reference
    /// `version` of `role` instead of its latest: properly signed metadata that mixes
    /// one publish's snapshot with another's targets. `None` removes the pin.
    pub fn pin_meta_version(&mut self, role: &str, version: Option<u64>) {
        match version {
            Some(v) => self.pins.insert(role.to_string(), v),
            None => self.pins.remove(role),
        };
    }
}
