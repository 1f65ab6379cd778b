//! Hashing the listed files on every core.
//!
//! Workers take files from one counter in walk order and stop taking new ones after a
//! failure. A file is taken only after every file before it, so when one fails, every
//! earlier file has been hashed: the error reported is the first in walk order, however
//! the threads ran.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use super::list::Listed;
use super::{TreeError, TreeFile};

/// Hashes every file, in parallel; the results are in the order of `files`.
pub(super) fn hash_all(files: &[Listed]) -> Result<Vec<TreeFile>, TreeError> {
    let workers = thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(files.len());
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let mut done: Vec<(usize, Result<TreeFile, TreeError>)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| scope.spawn(|| work(files, &next, &failed)))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(done) => done,
                // Hashing does not panic; if it ever does, the panic goes on as it would
                // have without threads.
                Err(payload) => std::panic::resume_unwind(payload),
            })
            .collect()
    });
    done.sort_by_key(|(index, _)| *index);
    // Without a failure every file is here; with one, the first error ends this.
    done.into_iter().map(|(_, result)| result).collect()
}

fn work(files: &[Listed], next: &AtomicUsize, failed: &AtomicBool) -> Vec<(usize, Result<TreeFile, TreeError>)> {
    let mut done = Vec::new();
    // The counter alone decides the order files are taken in (its updates are totally
    // ordered whatever the memory ordering); `failed` only saves work.
    while !failed.load(Ordering::Relaxed) {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(file) = files.get(index) else {
            break;
        };
        let result = hash_file(file);
        if result.is_err() {
            failed.store(true, Ordering::Relaxed);
        }
        done.push((index, result));
    }
    done
}

fn hash_file(file: &Listed) -> Result<TreeFile, TreeError> {
    let io = |source| TreeError::Io {
        path: file.path.clone(),
        source,
    };
    let reader = std::fs::File::open(&file.path).map_err(io)?;
    let (length, sha256) = trustroot_core::hashes::sha256_hex_reader(reader).map_err(io)?;
    Ok(TreeFile {
        path: file.target.clone(),
        length,
        sha256,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_file_gone_before_hashing_reports_the_first_in_walk_order() {
        // Files can vanish between the walk and the hashing; with several gone, the one
        // reported must not depend on which thread got there first.
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<Listed> = (0..200)
            .map(|i| {
                let target = format!("f{i:03}");
                let path = dir.path().join(&target);
                if i != 57 && i != 58 && i != 190 {
                    std::fs::write(&path, vec![b'x'; i * 500]).unwrap();
                }
                Listed { target, path }
            })
            .collect();
        for _ in 0..20 {
            match hash_all(&files) {
                Err(TreeError::Io { path, .. }) => assert_eq!(path, dir.path().join("f057")),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn no_files_no_threads() {
        assert!(hash_all(&[]).unwrap().is_empty());
    }
}
