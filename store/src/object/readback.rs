//! What every read-back client of a push shares (`ReadBack` implementations live with the
//! clients: tough's in ceremony, ours in mirror): where the clients start, and which
//! uploaded keys are targets to download.

use std::path::{Path, PathBuf};

/// The starting roots of the clients, read from the local tree `tree`: root v1 (a new
/// client), the newest root the store already served (a client that has kept up: the one
/// a root rotation strands if anything is missing) and the newest; each once. `uploaded`
/// are the keys this push put up. `Err((key, reason))` as `ReadBack::check` returns it.
pub fn starting_roots(tree: &Path, uploaded: &[String]) -> Result<Vec<(u64, PathBuf)>, (String, String)> {
    let whole = |reason: String| ("(the repository)".to_string(), reason);
    let mut roots: Vec<(u64, PathBuf)> = std::fs::read_dir(tree)
        .map_err(|e| whole(format!("cannot list the local tree: {e}")))?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let version = name.strip_suffix(".root.json")?.parse::<u64>().ok()?;
            Some((version, tree.join(name)))
        })
        .collect();
    roots.sort();
    let served_before = roots
        .iter()
        .rev()
        .find(|(version, _)| !uploaded.iter().any(|key| *key == format!("{version}.root.json")));
    let mut starts: Vec<(u64, PathBuf)> = Vec::new();
    for root in [roots.first(), served_before, roots.last()].into_iter().flatten() {
        if !starts.iter().any(|(version, _)| *version == root.0) {
            starts.push(root.clone());
        }
    }
    if starts.is_empty() {
        return Err(whole("the local tree holds no N.root.json".into()));
    }
    Ok(starts)
}

/// The target path of an uploaded key `targets/<dir>/<sha256>.<name>`: `<dir>/<name>`.
/// Other keys (metadata, tough's `targets/<sha256>.<dir>/<name>` alias) give `None`.
pub fn target_path(key: &str) -> Option<String> {
    let rest = key.strip_prefix("targets/")?;
    let (dir, file) = match rest.rsplit_once('/') {
        Some((dir, file)) => (Some(dir), file),
        None => (None, rest),
    };
    let (hash, name) = file.split_once('.')?;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || name.is_empty() {
        return None;
    }
    Some(match dir {
        Some(dir) => format!("{dir}/{name}"),
        None => name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn target_paths_of_uploaded_keys() {
        let hash = "a".repeat(64);
        assert_eq!(
            target_path(&format!("targets/{hash}.trusted_root.json")).as_deref(),
            Some("trusted_root.json")
        );
        assert_eq!(
            target_path(&format!("targets/npm/{hash}.keys.json")).as_deref(),
            Some("npm/keys.json")
        );
        // tough's alias, metadata and names without a hash are not targets to download.
        assert_eq!(target_path(&format!("targets/{hash}.npm/keys.json")), None);
        assert_eq!(target_path("2.snapshot.json"), None);
        assert_eq!(target_path("targets/short.keys.json"), None);
        assert_eq!(target_path(&format!("targets/{hash}.")), None);
    }

    #[test]
    fn clients_start_from_root_v1_the_root_served_before_and_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        for v in 1..=4 {
            std::fs::write(dir.path().join(format!("{v}.root.json")), b"{}").unwrap();
        }
        let uploaded = vec!["4.root.json".to_string(), "3.root.json".to_string()];
        let versions: Vec<u64> = starting_roots(dir.path(), &uploaded)
            .unwrap()
            .into_iter()
            .map(|(v, _)| v)
            .collect();
        assert_eq!(versions, vec![1, 2, 4]);
        let empty = tempfile::tempdir().unwrap();
        assert!(starting_roots(empty.path(), &[]).is_err());
    }
}
