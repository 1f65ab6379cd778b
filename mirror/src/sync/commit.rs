//! The last step of a sync: the staged state is made durable, installed among the states,
//! served with one atomic symlink switch, and the state served before it pruned.

use std::collections::BTreeMap;

use super::SyncOptions;
use super::quick::{PlanFacts, StateSummary};
use super::stage::StagedTree;
use crate::error::UpdateError;
use crate::layout::{MirrorDir, scan_files};
use crate::manifest::{FORMAT, FileEntry, Manifest, Origin};

/// Syncs `staging/` to disk with its manifest, installs it as the next state and serves
/// it. Returns the new state's number.
pub(super) fn commit(
    layout: &MirrorDir,
    current: Option<u64>,
    tree: StagedTree,
    files: BTreeMap<String, FileEntry>,
    origin: Origin,
    facts: &PlanFacts,
    options: &SyncOptions,
) -> Result<u64, UpdateError> {
    let staging = layout.staging();
    let client = staging.join("client");
    let mut unsynced = tree.unsynced;
    for (relative, _) in scan_files(&client)? {
        unsynced.push(client.join(relative));
    }
    trustroot_store::sync_files(&staging, &unsynced)?;
    // The summary first: a state is installed with both or (after a crash in staging) with
    // neither, and a summary is only ever read beside a served state's manifest.
    StateSummary::new(facts, files.values()).write(&staging)?;
    let manifest = Manifest {
        format: FORMAT,
        origin,
        synced_at: trustroot_core::time::format(&options.now),
        files,
    };
    let manifest_path = staging.join(crate::manifest::FILE);
    trustroot_store::write_atomic(&manifest_path, &manifest.to_bytes(&manifest_path)?)?;
    trustroot_store::crash::after_write();
    trustroot_store::sync_dirs(&staging)?;
    let next = next_state_number(layout, current)?;
    layout.state_dir().install(&staging, next)?;
    trustroot_store::crash::after_write();
    layout.switch_to(next)?;
    trustroot_store::crash::after_write();
    // The state served before goes: readers resolve the served path per request, and an
    // open file survives removal.
    layout.state_dir().prune(next);
    Ok(next)
}

fn next_state_number(layout: &MirrorDir, current: Option<u64>) -> Result<u64, UpdateError> {
    let highest = layout.state_dir().numbers()?.into_iter().max().unwrap_or(0);
    Ok(highest.max(current.unwrap_or(0)) + 1)
}
