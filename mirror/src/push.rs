//! `mirror sync|import DIR --to URL`: the mirror's served tree (the committed state at
//! `DIR/repository`, which stays the source of truth) pushed to object storage with
//! [`trustroot_store::object::push`], under the same rules as a publish: `timestamp.json`
//! last and only after the rest was read back through the address clients use, and a
//! superseded object deleted only after the mirror's own grace period (`--keep`).
//!
//! The refusals that need no request are made by [`Target::check`] before the sync
//! starts, so a mistyped `--to` never leaves a sync without its push.

use std::path::{Path, PathBuf};

use trustroot_store::object::backend::Connect;
use trustroot_store::object::readback::Chain;
use trustroot_store::object::{Backend, Destination, Kind, ObjectError, PushOptions, ReadBack, Report};
use url::Url;

use trustroot_store::paths::overlaps;

use crate::layout::MirrorDir;
use crate::readback::ClientReadBack;

/// Where a mirror's push goes, as the flags name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub to: String,
    pub endpoint: Option<String>,
    pub public_url: Option<String>,
    /// `--manifest`: where the push manifest is kept, when not beside the prefix.
    pub manifest: Option<String>,
}

/// A target that passed [`Target::check`].
#[derive(Debug, Clone)]
pub struct Checked {
    pub destination: Destination,
    pub endpoint: Option<String>,
    /// Where clients read the prefix; `None` only for a local directory.
    pub public_url: Option<Url>,
    /// Where the push manifest is kept, when not beside the prefix.
    pub manifest: Option<Destination>,
}

impl Target {
    /// The refusals that need no request, for the mirror in `dir`: the URL, where it
    /// points (never inside the mirror directory, nor holding it: the push would copy the
    /// mirror into itself, or a sync would prune the pushed tree), the public address.
    pub fn check(&self, dir: &Path) -> Result<Checked, ObjectError> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        // A bucket's root is taken only with the manifest kept elsewhere.
        let destination = if self.manifest.is_some() {
            Destination::parse_root(&self.to, &cwd)?
        } else {
            Destination::parse(&self.to, &cwd)?
        };
        let mirror = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let manifest = self
            .manifest
            .as_deref()
            .map(|text| trustroot_store::object::manifest::location(text, &destination, &cwd))
            .transpose()?;
        if let Some(Destination {
            kind: Kind::File { dir: at },
            url,
        }) = &manifest
            && overlaps(at, &mirror)
        {
            return Err(ObjectError::BadManifestUrl {
                url: url.clone(),
                reason: format!(
                    "inside the mirror directory {}; keep the push manifest outside it",
                    mirror.display()
                ),
            });
        }
        if let Kind::File { dir: to } = &destination.kind
            && overlaps(to, &mirror)
        {
            return Err(ObjectError::BadUrl {
                url: self.to.clone(),
                reason: format!(
                    "is the mirror directory {}, inside it or holds it; push to a directory outside it",
                    mirror.display()
                ),
            });
        }
        let public_url = match &self.public_url {
            Some(text) => Some(trustroot_store::object::readback::public_url(text)?),
            None if matches!(destination.kind, Kind::File { .. }) => None,
            None => {
                return Err(ObjectError::BadUrl {
                    url: self.to.clone(),
                    reason: "give --public-url: the address clients read the prefix from, which the push reads back before timestamp.json goes up".into(),
                });
            }
        };
        if let Some(endpoint) = &self.endpoint {
            // Refused here, before the sync; its warnings come with the push.
            trustroot_store::object::backend::check_endpoint(endpoint, &mut Vec::new())?;
        }
        Ok(Checked {
            destination,
            endpoint: self.endpoint.clone(),
            public_url,
            manifest,
        })
    }
}

/// The committed tree the mirror in `dir` serves, resolved once: the push reads that
/// state, whatever a later sync switches `DIR/repository` to.
pub fn served_tree(dir: &Path) -> Result<PathBuf, ObjectError> {
    let served = MirrorDir::new(dir).served();
    std::fs::canonicalize(&served).map_err(|e| ObjectError::LocalTree {
        path: served,
        reason: format!("the mirror serves no tree to push ({e}); run `trustroot mirror sync` first"),
    })
}

/// What a mirror's push did.
#[derive(Debug)]
pub struct Pushed {
    pub report: Report,
    /// The read-backs' runs, one line per client and starting root.
    pub clients: Vec<String>,
    /// Warnings about the set-up (an `http://` endpoint off this machine).
    pub warnings: Vec<String>,
}

/// Pushes `tree` (from [`served_tree`]) to `target`. With a public address, `first` (the
/// command's byte compare and tough, which live outside this crate) and our own client,
/// side by side, read everything back before `timestamp.json` goes up.
pub fn push(
    tree: &Path,
    target: &Checked,
    options: &PushOptions,
    first: Option<&dyn ReadBack>,
) -> Result<Pushed, ObjectError> {
    let connect = Connect {
        endpoint: target.endpoint.clone(),
        ..Connect::default()
    };
    let env = |name: &str| std::env::var(name).ok();
    let ours = client_read_back(tree, target.public_url.as_ref(), options, first);
    let read_back = Chain {
        first,
        then: ours.as_ref().map(|r| r as &dyn ReadBack),
    };
    let (report, warnings) = trustroot_store::object::open_and_push(
        &target.destination,
        target.manifest.as_ref(),
        &connect,
        &env,
        tree,
        options,
        read_back.active(),
    )?;
    Ok(Pushed {
        report,
        clients: read_back.runs(),
        warnings,
    })
}

/// [`push`] through an open `backend` (a test counts its requests through a wrapper).
pub fn push_to<B: Backend>(
    backend: &B,
    tree: &Path,
    public_url: Option<&Url>,
    options: &PushOptions,
    first: Option<&dyn ReadBack>,
) -> Result<Pushed, ObjectError> {
    let ours = client_read_back(tree, public_url, options, first);
    let read_back = Chain {
        first,
        then: ours.as_ref().map(|r| r as &dyn ReadBack),
    };
    let report = trustroot_store::object::push(backend, tree, options, read_back.active())?;
    Ok(Pushed {
        report,
        clients: read_back.runs(),
        warnings: Vec::new(),
    })
}

/// Our client's read-back of `tree` at `public_url`, if there is one: after `first` (the
/// command's byte compare, which read every object back already) it checks the targets
/// from the local tree.
fn client_read_back(
    tree: &Path,
    public_url: Option<&Url>,
    options: &PushOptions,
    first: Option<&dyn ReadBack>,
) -> Option<ClientReadBack> {
    public_url.map(|base| {
        let ours = ClientReadBack::new(base.clone(), tree.to_path_buf()).with_jobs(options.jobs);
        if first.is_some() {
            ours.after_byte_compare()
        } else {
            ours
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn target(to: &str, public_url: Option<&str>) -> Target {
        Target {
            to: to.into(),
            endpoint: None,
            public_url: public_url.map(str::to_string),
            manifest: None,
        }
    }

    #[test]
    fn to_inside_the_mirror_or_holding_it_is_refused() {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("mirror");
        std::fs::create_dir(&dir).unwrap();
        for to in [
            dir.display().to_string(),
            dir.join("repository").display().to_string(),
            format!("file://{}/out", dir.display()),
            work.path().display().to_string(),
        ] {
            let error = target(&to, None).check(&dir).unwrap_err().to_string();
            assert!(error.contains("the mirror directory"), "{to}: {error}");
        }
        let link = work.path().join("innocent");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let error = target(&link.join("x").display().to_string(), None).check(&dir);
        assert!(error.is_err());
        target(&work.path().join("elsewhere").display().to_string(), None)
            .check(&dir)
            .unwrap();
    }

    #[test]
    fn remote_store_needs_a_public_url() {
        let dir = tempfile::tempdir().unwrap();
        let error = target("s3://bucket/repo", None)
            .check(dir.path())
            .unwrap_err()
            .to_string();
        assert!(error.contains("--public-url"), "{error}");
        let checked = target("s3://bucket/repo", Some("http://127.0.0.1:9/bucket/repo"))
            .check(dir.path())
            .unwrap();
        assert_eq!(checked.public_url.unwrap().as_str(), "http://127.0.0.1:9/bucket/repo/");
    }
}
