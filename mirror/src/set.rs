//! Several named repositories in one mirror directory (Sigstore's production and staging,
//! a site's own instance, side by side):
//!
//! ```text
//! DIR/.trustroot-mirrors.json   marks DIR as a directory of named repositories
//! DIR/NAME/                     one repository: a one-repository mirror directory as
//!                               `layout` describes it (its own states, lock, record, and
//!                               `NAME/repository` served at `/NAME/`)
//! ```
//!
//! A mirror made before names existed keeps its one repository at the top
//! (`DIR/repository`, `DIR/.trustroot-mirror`) and is served at `/`. A directory never
//! holds both kinds: [`rename`] moves an unnamed repository under a name, after which
//! others can be added beside it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::UpdateError;
use crate::layout::{HIDDEN, MirrorDir, SERVED, check_plain};

/// The file that marks a directory of named repositories.
pub const MARKER: &str = ".trustroot-mirrors.json";
/// The name a rename under way gives the repository, written before anything moves and
/// removed once the marker is written: a rename stopped half-way is known by it, and
/// nothing else is taken for one.
const RENAMING: &str = ".trustroot-mirror-renaming";
/// Names that would collide with what `mirror serve` answers at the top level.
pub const RESERVED: [&str; 2] = ["_status", "metrics"];
/// The longest name (a path component, and a Prometheus label value).
pub const MAX_NAME: usize = 64;

/// What a mirror directory holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Nothing mirrored yet (or the directory does not exist).
    Empty,
    /// One unnamed repository, served at `/` (a mirror made before names existed).
    Unnamed,
    /// Named repositories, sorted by name (none yet, right after the marker is written).
    Named(Vec<String>),
}

/// The marker's content: a format number, so a later layout can be told apart.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Marker {
    format: u32,
}

const FORMAT: u32 = 1;

/// Checks `name` as a repository name: letters, digits, `-`, `_` and `.`, not starting with
/// `.` (no `..`, nothing hidden), at most [`MAX_NAME`] bytes, not a reserved name.
pub fn check_name(name: &str) -> Result<(), UpdateError> {
    let bad = |reason: &str| UpdateError::BadRepositoryName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(bad(&format!("a name has 1 to {MAX_NAME} characters")));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(bad("a name has letters, digits, '-', '_' and '.' only"));
    }
    if name.starts_with('.') {
        return Err(bad("a name cannot start with '.'"));
    }
    if RESERVED.contains(&name) {
        return Err(bad("mirror serve answers that path itself"));
    }
    Ok(())
}

/// What `dir` holds. A directory with both an unnamed repository and the marker, or a
/// rename stopped half-way, is refused with what to do.
pub fn kind(dir: &Path) -> Result<Kind, UpdateError> {
    let unnamed = exists(&dir.join(HIDDEN))?;
    let marked = exists(&dir.join(MARKER))?;
    match (unnamed, marked) {
        (true, true) => Err(UpdateError::MixedMirror { dir: dir.to_path_buf() }),
        (true, false) => Ok(Kind::Unnamed),
        (false, true) => {
            read_marker(dir)?;
            Ok(Kind::Named(names(dir)?))
        }
        (false, false) => match half_renamed(dir)? {
            Some(name) => Err(UpdateError::RenameUnfinished {
                dir: dir.to_path_buf(),
                name,
            }),
            None => Ok(Kind::Empty),
        },
    }
}

/// The directory of repository `name` in `dir`.
pub fn repository_dir(dir: &Path, name: &str) -> Result<PathBuf, UpdateError> {
    check_name(name)?;
    Ok(dir.join(name))
}

/// Marks `dir` (created if missing) as a directory of named repositories. Refused where
/// an unnamed repository is.
pub fn create(dir: &Path) -> Result<(), UpdateError> {
    match kind(dir)? {
        Kind::Named(_) => Ok(()),
        Kind::Unnamed => Err(UpdateError::UnnamedMirror { dir: dir.to_path_buf() }),
        Kind::Empty => {
            std::fs::create_dir_all(dir).map_err(|e| UpdateError::io(dir, e))?;
            write_marker(dir)
        }
    }
}

/// `mirror rename DIR --name NAME`: the unnamed repository of `dir` becomes `dir/NAME`,
/// served at `/NAME/`. Each step is skipped when done, so a rename stopped half-way (a
/// crash) is finished by running it again. Takes the repository's lock: no sync runs
/// meanwhile.
pub fn rename(dir: &Path, name: &str) -> Result<(), UpdateError> {
    let target = repository_dir(dir, name)?;
    match kind(dir) {
        Ok(Kind::Unnamed) => {}
        // Stopped after its marker: only the file naming it is left to remove.
        Ok(Kind::Named(_)) if half_renamed(dir)?.is_some_and(|started| started == name) => {
            return std::fs::remove_file(dir.join(RENAMING)).map_err(|e| UpdateError::io(dir.join(RENAMING), e));
        }
        Ok(Kind::Named(_)) => return Err(UpdateError::AlreadyNamed { dir: dir.to_path_buf() }),
        Ok(Kind::Empty) => return Err(UpdateError::NothingMirrored { dir: dir.to_path_buf() }),
        // Finishing a rename stopped half-way, under the name it was given.
        Err(UpdateError::RenameUnfinished { name: started, .. }) if started == name => {}
        Err(e) => return Err(e),
    }
    trustroot_store::write_atomic(&dir.join(RENAMING), name.as_bytes())?;
    if exists(&dir.join(HIDDEN))? {
        let old = MirrorDir::new(dir);
        let _lock = crate::sync::lock(&old)?;
        match std::fs::symlink_metadata(&target) {
            Ok(meta) => {
                check_plain(&target, &meta)?;
                if std::fs::read_dir(&target)
                    .map_err(|e| UpdateError::io(&target, e))?
                    .next()
                    .is_some()
                {
                    return Err(UpdateError::RepositoryDirTaken { path: target });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(&target).map_err(|e| UpdateError::io(&target, e))?;
            }
            Err(e) => return Err(UpdateError::io(&target, e)),
        }
        // The lock file moves with the directory; the lock stays held on it.
        move_entry(&dir.join(HIDDEN), &target.join(HIDDEN))?;
    }
    // The served symlink is relative (`.trustroot-mirror/states/<n>/tree`): it serves the
    // same state from its new place.
    if exists(&dir.join(SERVED))? {
        move_entry(&dir.join(SERVED), &target.join(SERVED))?;
    }
    write_marker(dir)?;
    std::fs::remove_file(dir.join(RENAMING)).map_err(|e| UpdateError::io(dir.join(RENAMING), e))
}

/// Before repository `name` is added to `dir`: its directory must be missing or an empty
/// plain directory (a sync would otherwise start a mirror among someone else's files).
/// True when it is missing, so that a first sync that fails can take away what it made
/// ([`undo_add`]). Nothing is written.
pub fn check_new(dir: &Path, name: &str) -> Result<bool, UpdateError> {
    let target = repository_dir(dir, name)?;
    match std::fs::symlink_metadata(&target) {
        Ok(meta) => {
            check_plain(&target, &meta)?;
            let taken = !meta.is_dir()
                || std::fs::read_dir(&target)
                    .map_err(|e| UpdateError::io(&target, e))?
                    .next()
                    .is_some();
            if taken {
                return Err(UpdateError::RepositoryDirTaken { path: target });
            }
            Ok(false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(UpdateError::io(&target, e)),
    }
}

/// Takes away a repository whose first sync failed, so that a failed `mirror sync DIR
/// --name NAME` leaves no repository serving nothing (which a later `mirror sync DIR`
/// would find with no origin to sync from): `dir/NAME` when that sync made it (`made`,
/// from [`check_new`]), else only the mirror's hidden directory it made inside the empty
/// directory it found; and the marker when `unmark` (that sync marked `dir`) and no
/// repository is left.
/// Nothing is taken away while another sync holds the repository's lock (one adding the
/// same name at the same time) or once it serves a state.
pub fn undo_add(dir: &Path, name: &str, made: bool, unmark: bool) -> Result<(), UpdateError> {
    let target = repository_dir(dir, name)?;
    let layout = MirrorDir::new(&target);
    if let Ok(meta) = std::fs::symlink_metadata(layout.hidden()) {
        // Never through a symlink planted meanwhile.
        check_plain(&layout.hidden(), &meta)?;
        let _lock = match crate::sync::lock(&layout) {
            Ok(lock) => lock,
            Err(UpdateError::SyncRunning { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        if layout.current()?.is_some() {
            return Ok(());
        }
        let made_there = if made { target } else { layout.hidden() };
        std::fs::remove_dir_all(&made_there).map_err(|e| UpdateError::io(&made_there, e))?;
    } else if made {
        // The sync stopped before it made its hidden directory: only the empty directory.
        let _ = std::fs::remove_dir(&target);
    }
    if unmark && names(dir)?.is_empty() && exists(&dir.join(MARKER))? {
        std::fs::remove_file(dir.join(MARKER)).map_err(|e| UpdateError::io(dir.join(MARKER), e))?;
    }
    Ok(())
}

/// The named repositories of `dir`: plain directories with a valid name that hold a
/// mirror's hidden directory, sorted. Anything else in `dir` (the marker, a status page
/// written there) is not a repository.
fn names(dir: &Path) -> Result<Vec<String>, UpdateError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| UpdateError::io(dir, e))? {
        let entry = entry.map_err(|e| UpdateError::io(dir, e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if check_name(&name).is_err() {
            continue;
        }
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).map_err(|e| UpdateError::io(&path, e))?;
        if meta.is_dir() && exists(&path.join(HIDDEN))? {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// A rename stopped before its marker was written: the name it was giving, from the file
/// it wrote first.
fn half_renamed(dir: &Path) -> Result<Option<String>, UpdateError> {
    let path = dir.join(RENAMING);
    let Ok(meta) = std::fs::symlink_metadata(&path) else {
        return Ok(None);
    };
    check_plain(&path, &meta)?;
    let bytes = if meta.len() > MAX_NAME as u64 {
        Vec::new()
    } else {
        std::fs::read(&path).map_err(|e| UpdateError::io(&path, e))?
    };
    let name = String::from_utf8_lossy(&bytes).into_owned();
    check_name(&name)?;
    Ok(Some(name))
}

fn read_marker(dir: &Path) -> Result<(), UpdateError> {
    let path = dir.join(MARKER);
    let meta = std::fs::symlink_metadata(&path).map_err(|e| UpdateError::io(&path, e))?;
    check_plain(&path, &meta)?;
    // A few bytes; anything larger is not ours.
    let bytes = if meta.len() > 4096 {
        Vec::new()
    } else {
        std::fs::read(&path).map_err(|e| UpdateError::io(&path, e))?
    };
    let marker: Marker = serde_json::from_slice(&bytes).map_err(|source| UpdateError::ManifestUnreadable {
        path: path.clone(),
        source,
    })?;
    if marker.format != FORMAT {
        return Err(UpdateError::ManifestFormat {
            path,
            found: marker.format,
            expected: FORMAT,
        });
    }
    Ok(())
}

fn write_marker(dir: &Path) -> Result<(), UpdateError> {
    let bytes = serde_json::to_vec(&Marker { format: FORMAT }).map_err(|source| UpdateError::ManifestUnreadable {
        path: dir.join(MARKER),
        source,
    })?;
    Ok(trustroot_store::write_atomic(&dir.join(MARKER), &bytes)?)
}

/// True when `path` exists (a symlink counts, not followed).
fn exists(path: &Path) -> Result<bool, UpdateError> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(UpdateError::io(path, e)),
    }
}

fn move_entry(from: &Path, to: &Path) -> Result<(), UpdateError> {
    std::fs::rename(from, to).map_err(|e| UpdateError::io(from, e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_are_plain_and_not_reserved() {
        for good in ["production", "staging", "site-1", "vendor_x.v2", "A9"] {
            check_name(good).unwrap();
        }
        let long = "a".repeat(MAX_NAME + 1);
        for bad in [
            "", ".", "..", ".hidden", "a/b", "a\\b", "a b", "_status", "metrics", "é", &long,
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_empty_directory_becomes_a_directory_of_named_repositories() {
        let dir = tempfile::tempdir().unwrap();
        let set = dir.path().join("mirror");
        assert_eq!(kind(&set).unwrap(), Kind::Empty);
        create(&set).unwrap();
        assert_eq!(kind(&set).unwrap(), Kind::Named(vec![]));
        std::fs::create_dir_all(set.join("staging").join(HIDDEN)).unwrap();
        std::fs::create_dir_all(set.join("production").join(HIDDEN)).unwrap();
        // Not repositories: a file, a directory without a mirror, a hidden name.
        std::fs::write(set.join("status.html"), b"").unwrap();
        std::fs::create_dir_all(set.join("notes")).unwrap();
        std::fs::create_dir_all(set.join(".cache").join(HIDDEN)).unwrap();
        assert_eq!(
            kind(&set).unwrap(),
            Kind::Named(vec!["production".into(), "staging".into()])
        );
    }

    #[test]
    fn unnamed_mirror_is_renamed_under_a_name_and_a_stopped_rename_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path();
        std::fs::create_dir_all(top.join(HIDDEN).join("states/1/tree")).unwrap();
        std::os::unix::fs::symlink(".trustroot-mirror/states/1/tree", top.join(SERVED)).unwrap();
        assert_eq!(kind(top).unwrap(), Kind::Unnamed);
        assert!(matches!(create(top), Err(UpdateError::UnnamedMirror { .. })));
        assert!(matches!(
            rename(top, "../x"),
            Err(UpdateError::BadRepositoryName { .. })
        ));

        // Stopped after the hidden directory moved: the same command finishes it.
        std::fs::write(top.join(RENAMING), b"production").unwrap();
        std::fs::create_dir(top.join("production")).unwrap();
        std::fs::rename(top.join(HIDDEN), top.join("production").join(HIDDEN)).unwrap();
        assert!(matches!(kind(top), Err(UpdateError::RenameUnfinished { .. })));
        assert!(rename(top, "staging").is_err());
        rename(top, "production").unwrap();
        assert_eq!(kind(top).unwrap(), Kind::Named(vec!["production".into()]));
        // The relative symlink serves the same state from its new place.
        assert!(top.join("production").join(SERVED).join(".").is_dir());
        assert!(!top.join(RENAMING).exists());
        assert!(matches!(
            rename(top, "production"),
            Err(UpdateError::AlreadyNamed { .. })
        ));
    }

    #[test]
    fn a_directory_holding_one_mirror_beside_others_is_not_taken_for_a_stopped_rename() {
        // /srv/mirrors/prod is a mirror of its own; /srv/mirrors is not a half-renamed one.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("prod").join(HIDDEN)).unwrap();
        assert_eq!(kind(dir.path()).unwrap(), Kind::Empty);
    }

    #[test]
    fn a_new_repository_goes_only_where_nothing_is_and_a_failed_add_is_taken_away() {
        let dir = tempfile::tempdir().unwrap();
        let set = dir.path();
        create(set).unwrap();
        assert!(check_new(set, "production").unwrap());
        std::fs::create_dir(set.join("empty")).unwrap();
        assert!(!check_new(set, "empty").unwrap());
        std::fs::create_dir(set.join("notes")).unwrap();
        std::fs::write(set.join("notes").join("todo.txt"), b"mine").unwrap();
        assert!(matches!(
            check_new(set, "notes"),
            Err(UpdateError::RepositoryDirTaken { .. })
        ));
        std::fs::write(set.join("file"), b"").unwrap();
        assert!(matches!(
            check_new(set, "file"),
            Err(UpdateError::RepositoryDirTaken { .. })
        ));
        assert!(matches!(
            check_new(set, ".."),
            Err(UpdateError::BadRepositoryName { .. })
        ));

        // A first sync that failed: its directory and the marker made for it go.
        std::fs::create_dir_all(set.join("production").join(HIDDEN).join("states")).unwrap();
        assert_eq!(kind(set).unwrap(), Kind::Named(vec!["production".into()]));
        std::fs::create_dir_all(set.join("empty").join(HIDDEN).join("states")).unwrap();
        undo_add(set, "empty", false, true).unwrap();
        assert!(set.join("empty").is_dir() && !set.join("empty").join(HIDDEN).exists());
        assert_eq!(kind(set).unwrap(), Kind::Named(vec!["production".into()]));
        // Not while another sync holds its lock, nor once it serves a state.
        let held = crate::sync::lock(&MirrorDir::new(&set.join("production"))).unwrap();
        undo_add(set, "production", true, true).unwrap();
        assert!(set.join("production").join(HIDDEN).is_dir());
        drop(held);
        undo_add(set, "production", true, true).unwrap();
        assert!(!set.join("production").exists());
        assert_eq!(kind(set).unwrap(), Kind::Empty);
        assert!(set.join("notes").join("todo.txt").is_file());
    }

    #[test]
    fn both_kinds_in_one_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(HIDDEN)).unwrap();
        write_marker(dir.path()).unwrap();
        assert!(matches!(kind(dir.path()), Err(UpdateError::MixedMirror { .. })));
    }

    #[test]
    fn a_marker_of_another_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MARKER), br#"{"format": 2}"#).unwrap();
        assert!(matches!(kind(dir.path()), Err(UpdateError::ManifestFormat { .. })));
        std::fs::write(dir.path().join(MARKER), b"not json").unwrap();
        assert!(matches!(kind(dir.path()), Err(UpdateError::ManifestUnreadable { .. })));
    }
}
