//! `--to URL`: the published tree (the committed state under `publish.destination`, the
//! source of truth) pushed to object storage with [`trustroot_store::object::push`], and
//! read back through the address clients use before `timestamp.json` goes up.
//!
//! The refusals that need no request (a URL that is not a store, a destination inside the
//! signing repository or the local publish directory, a remote store without a public
//! address) are made by [`Target::check`] before anything is published, so a mistyped
//! `--to` never leaves a local publish without its push.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use trustroot_store::object::backend::Connect;
use trustroot_store::object::layout;
use trustroot_store::object::{Destination, Kind, ObjectError, PushOptions, ReadBack, StoreBackend};

use crate::error::{Error, Result};
use crate::policy::Publish;
use crate::pubdir::PublishDir;
use crate::repo::Repo;

/// The largest object the read-back fetches beyond its local size: one byte more than the
/// file shows a longer answer without reading an unbounded body.
const READ_BACK_SLACK: u64 = 1;

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
        .map(|base| HttpReadBack::new(base.clone(), served.clone()));
    let read_back = reader.as_ref().map(|r| r as &dyn ReadBack);
    let report = trustroot_store::object::push(&backend, &served, &PushOptions::new(now), read_back)?;
    Ok(PushReport {
        to: target.destination.url.clone(),
        uploaded: report.plan.upload_count(),
        deleted: report.deleted,
        read_back: reader.map_or(0, |r| r.checked.into_inner().len()),
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

/// The read-back (plan step 5a): every object this push uploaded, GET through the public
/// address, must have the local file's sha256 and Content-Type. A CDN serving stale
/// bytes, a bucket policy hiding the prefix, or an object replaced between the PUT and
/// now all stop the push before `timestamp.json` makes clients look.
struct HttpReadBack {
    base: url::Url,
    tree: PathBuf,
    checked: std::cell::RefCell<BTreeSet<String>>,
}

impl HttpReadBack {
    fn new(base: url::Url, tree: PathBuf) -> HttpReadBack {
        HttpReadBack {
            base,
            tree,
            checked: std::cell::RefCell::new(BTreeSet::new()),
        }
    }

    async fn check_one(&self, client: &reqwest::Client, key: &str) -> std::result::Result<(), String> {
        let local = std::fs::read(self.tree.join(key)).map_err(|e| format!("cannot read the local file: {e}"))?;
        let url = self
            .base
            .join(key)
            .ok()
            .filter(|u| u.as_str().starts_with(self.base.as_str()))
            .ok_or_else(|| format!("cannot be addressed under {}", self.base))?;
        let mut response = client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| format!("GET {url} failed: {}", one_line(&e)))?;
        if !response.status().is_success() {
            return Err(format!(
                "GET {url} answered {} (is the prefix publicly readable at --public-url?)",
                response.status()
            ));
        }
        let expected_type = layout::content_type(key);
        let served_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let limit = (local.len() as u64).saturating_add(READ_BACK_SLACK);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("GET {url} failed mid-body: {}", one_line(&e)))?
        {
            body.extend_from_slice(&chunk);
            if body.len() as u64 > limit {
                return Err(format!("GET {url} served more than the {} bytes pushed", local.len()));
            }
        }
        if Sha256::digest(&body) != Sha256::digest(&local) {
            return Err(format!(
                "GET {url} served {} bytes with another sha256 than the {} bytes pushed (a stale cache, or the object was replaced)",
                body.len(),
                local.len()
            ));
        }
        if !served_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case(expected_type)
        {
            return Err(format!(
                "GET {url} is served as '{}', not {expected_type}",
                served_type.escape_debug()
            ));
        }
        Ok(())
    }
}

impl ReadBack for HttpReadBack {
    fn check(&self, uploaded: &[String], _timestamp: &[u8]) -> std::result::Result<(), (String, String)> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ("(all)".to_string(), format!("cannot start the I/O runtime: {e}")))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            // The public address is the one clients use; a redirect elsewhere is refused
            // here as clients would see something else than what was checked.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ("(all)".to_string(), format!("cannot build the HTTP client: {e}")))?;
        runtime.block_on(async {
            for key in uploaded {
                self.check_one(&client, key)
                    .await
                    .map_err(|reason| (key.clone(), reason))?;
                self.checked.borrow_mut().insert(key.clone());
            }
            Ok(())
        })
    }
}

fn one_line(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text.replace(['\n', '\r'], " ")
}
