//! `--to URL`: the published tree (the committed state under `publish.destination`, the
//! source of truth) pushed to object storage with [`trustroot_store::object::push`], and
//! read back through the address clients use before `timestamp.json` goes up.
//!
//! The refusals that need no request (a URL that is not a store, a destination inside the
//! signing repository or the local publish directory, a remote store without a public
//! address) are made by [`Target::check`] before anything is published, so a mistyped
//! `--to` never leaves a local publish without its push.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use trustroot_store::object::backend::Connect;
use trustroot_store::object::{Destination, Kind, ObjectError, PushOptions, ReadBack, StoreBackend};

use crate::error::{Error, Result};
use crate::policy::Publish;
use crate::pubdir::PublishDir;
use crate::repo::Repo;

/// Where a push goes: the command line's flags over `[publish]`'s keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub to: String,
    pub endpoint: Option<String>,
    pub public_url: Option<String>,
}

impl Target {
    /// The target the flags and the policy name, if any: `--to` (or `[publish] to`) decides
    /// whether there is a push; `--endpoint` and `--public-url` override the policy's.
    pub fn resolve(
        to: Option<&str>,
        endpoint: Option<&str>,
        public_url: Option<&str>,
        policy: &Publish,
    ) -> Option<Target> {
        let to = to.or(policy.to.as_deref())?;
        Some(Target {
            to: to.to_string(),
            endpoint: endpoint.or(policy.endpoint.as_deref()).map(str::to_string),
            public_url: public_url.or(policy.public_url.as_deref()).map(str::to_string),
        })
    }

    /// The refusals that need no request: the URL, where it points, the public address.
    pub fn check(&self, repo: &Repo) -> Result<Checked> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| repo.root.clone());
        let destination = Destination::parse(&self.to, &cwd)?;
        if let Kind::File { dir } = &destination.kind {
            let local = PublishDir::new(&repo.policy, &repo.root);
            let mut forbidden: Vec<PathBuf> = ["metadata", "targets", "ceremonies", "keys"]
                .iter()
                .map(|sub| repo.root.join(sub))
                .collect();
            forbidden.push(local.root().to_path_buf());
            for inner in forbidden {
                if overlaps(dir, &inner) {
                    return Err(ObjectError::Inside {
                        url: self.to.clone(),
                        dir: inner,
                    }
                    .into());
                }
            }
        }
        let public_url = match &self.public_url {
            Some(text) => Some(public_url(text)?),
            None if matches!(destination.kind, Kind::File { .. }) => None,
            None => {
                return Err(ObjectError::BadUrl {
                    url: self.to.clone(),
                    reason: "give --public-url (or [publish] public_url): the address clients read the prefix from, which the push reads back before timestamp.json goes up".into(),
                }
                .into());
            }
        };
        Ok(Checked {
            destination,
            endpoint: self.endpoint.clone(),
            public_url,
        })
    }
}

/// A target that passed [`Target::check`].
#[derive(Debug, Clone)]
pub struct Checked {
    pub destination: Destination,
    pub endpoint: Option<String>,
    pub public_url: Option<url::Url>,
}

/// What a push did, for the command's output.
#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    /// The destination, as given.
    pub to: String,
    /// Objects uploaded (0: the store already served this tree).
    pub uploaded: usize,
    /// Objects deleted after their grace period.
    pub deleted: usize,
    /// Objects read back through the public address and found identical.
    pub read_back: usize,
    /// The push manifest's generation.
    pub generation: u64,
    /// tough's runs against the public address (the new timestamp from memory), one line
    /// per starting root.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tough: Vec<String>,
    /// The public address read back from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Warnings about the set-up (an `http://` endpoint off this machine).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Pushes the tree `repo` serves locally to `target`, reading every uploaded object back
/// through the public address before `timestamp.json` goes up.
pub fn push(repo: &Repo, target: &Checked, now: DateTime<Utc>) -> Result<PushReport> {
    let tree = PublishDir::new(&repo.policy, &repo.root).served();
    let served = std::fs::canonicalize(&tree).map_err(|e| Error::io(&tree, crate::error::IoOp::Read, e))?;
    let connect = Connect {
        endpoint: target.endpoint.clone(),
        ..Connect::default()
    };
    let env = |name: &str| std::env::var(name).ok();
    let (backend, warnings) = StoreBackend::open(&target.destination, &connect, &env)?;
    let reader = target
        .public_url
        .as_ref()
        .map(|base| crate::readback::HttpReadBack::new(base.clone(), served.clone(), repo.policy.gate.allow_p384));
    let read_back = reader.as_ref().map(|r| r as &dyn ReadBack);
    let report = trustroot_store::object::push(&backend, &served, &PushOptions::new(now), read_back)?;
    Ok(PushReport {
        to: target.destination.url.clone(),
        uploaded: report.plan.upload_count(),
        deleted: report.deleted,
        read_back: reader.as_ref().map_or(0, |r| r.checked()),
        tough: reader.as_ref().map(|r| r.tough_runs()).unwrap_or_default(),
        generation: report.generation,
        public_url: target.public_url.as_ref().map(ToString::to_string),
        warnings,
    })
}

/// `a` is `b`, or one holds the other, as written or as resolved.
fn overlaps(a: &Path, b: &Path) -> bool {
    let lexical = a.starts_with(b) || b.starts_with(a);
    let (ra, rb) = (crate::publish::resolve(a), crate::publish::resolve(b));
    lexical || ra.starts_with(&rb) || rb.starts_with(&ra)
}

/// An http(s) address with a host and no credentials, query or fragment, ending in '/' so
/// that keys are joined under it.
fn public_url(text: &str) -> Result<url::Url> {
    let bad = |reason: &str| -> Error {
        ObjectError::BadUrl {
            url: text.to_string(),
            reason: format!("--public-url {reason}"),
        }
        .into()
    };
    let mut url = url::Url::parse(text).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad("must be an http or https URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not carry credentials, a query or a fragment"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}
