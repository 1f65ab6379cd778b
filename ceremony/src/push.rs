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
use trustroot_store::object::layout::CacheControl;
use trustroot_store::object::readback::{Chain, public_url};
use trustroot_store::object::{Destination, Kind, ObjectError, PushOptions, ReadBack};
use trustroot_store::paths::overlaps;

use crate::error::{Error, Result};
use crate::policy::Publish;
use crate::pubdir::PublishDir;
use crate::repo::Repo;

/// The root version below which the policy accepts that tough cannot start: the imported
/// history, when `[gate] accept` lists `tough-root-history` (as the gate reads it).
fn history_accepted_below(policy: &crate::policy::Policy) -> Option<u64> {
    let import = policy.import.as_ref()?;
    policy
        .gate
        .accepts(crate::finding::named::TOUGH_ROOT_HISTORY)
        .then_some(import.root_version)
}

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
        self.check_with(repo, None)
    }

    /// [`Target::check`] with `--manifest` (over `[publish] manifest`): a bucket's root is
    /// taken only with a manifest kept elsewhere.
    pub fn check_with(&self, repo: &Repo, manifest: Option<&str>) -> Result<Checked> {
        let cwd = std::env::current_dir().unwrap_or_else(|_| repo.root.clone());
        let manifest = manifest.or(repo.policy.publish.manifest.as_deref());
        let destination = if manifest.is_some() {
            Destination::parse_root(&self.to, &cwd)?
        } else {
            Destination::parse(&self.to, &cwd)?
        };
        let local = PublishDir::new(&repo.policy, &repo.root);
        let mut forbidden: Vec<PathBuf> = ["metadata", "targets", "ceremonies", "keys"]
            .iter()
            .map(|sub| repo.root.join(sub))
            .collect();
        forbidden.push(local.root().to_path_buf());
        if let Kind::File { dir } = &destination.kind {
            for inner in &forbidden {
                if overlaps(dir, inner) {
                    return Err(ObjectError::Inside {
                        url: self.to.clone(),
                        dir: inner.clone(),
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
        if let Some(endpoint) = &self.endpoint {
            // Refused here, before anything is published; its warnings come with the push.
            trustroot_store::object::backend::check_endpoint(endpoint, &mut Vec::new())?;
        }
        let publish = &repo.policy.publish;
        let policy_error = |key: &str, reason: String| -> Error {
            Error::Push(ObjectError::BadUrl {
                url: self.to.clone(),
                reason: format!("[publish] {key} in policy.toml: {reason}"),
            })
        };
        let jobs = match publish.jobs {
            Some(n) => trustroot_store::object::parse_jobs(&n.to_string()).map_err(|e| policy_error("jobs", e))?,
            None => trustroot_store::object::DEFAULT_JOBS,
        };
        let mut cache = CacheControl::default();
        for (kind, value) in &publish.cache {
            cache.set(kind, value).map_err(|e| policy_error("cache", e))?;
        }
        let mut checked = Checked {
            destination,
            endpoint: self.endpoint.clone(),
            public_url,
            audit: false,
            jobs,
            cache,
            dry_run: false,
            manifest: None,
        };
        if let Some(manifest) = manifest {
            checked.set_manifest(manifest, &cwd)?;
            // A local manifest is a file written beside its name: never into the signing
            // repository or the publish destination either.
            if let Some(Destination {
                kind: Kind::File { dir },
                ..
            }) = &checked.manifest
                && let Some(inner) = forbidden.iter().find(|inner| overlaps(dir, inner))
            {
                return Err(ObjectError::BadManifestUrl {
                    url: manifest.to_string(),
                    reason: format!(
                        "inside {}; keep the push manifest outside the signing repository and the publish destination",
                        inner.display()
                    ),
                }
                .into());
            }
        }
        Ok(checked)
    }
}

/// A target that passed [`Target::check`].
#[derive(Debug, Clone)]
pub struct Checked {
    pub destination: Destination,
    pub endpoint: Option<String>,
    pub public_url: Option<url::Url>,
    /// List the prefix and compare it with the manifest before planning (`--audit`).
    pub audit: bool,
    /// Uploads in flight at once (`--jobs`, `[publish] jobs`).
    pub jobs: usize,
    /// Cache-Control by kind of name (`--cache-control`, `[publish.cache]`).
    pub cache: CacheControl,
    /// Print the plan and write nothing (`--dry-run`).
    pub dry_run: bool,
    /// Where the push manifest is kept, when not beside the prefix (`--manifest`).
    pub manifest: Option<Destination>,
}

impl Checked {
    /// `--manifest URL` (or `[publish] manifest`): refused unless it names a
    /// `….trustroot-push.json` object of the same kind of store, outside the served prefix.
    pub fn set_manifest(&mut self, text: &str, cwd: &Path) -> Result<()> {
        let manifest = trustroot_store::object::manifest::location(text, &self.destination, cwd)?;
        self.manifest = Some(manifest);
        Ok(())
    }
}

/// What a push did, for the command's output.
#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    /// The destination, as given.
    pub to: String,
    /// With `--dry-run`: what the push would do (nothing was written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<DryRun>,
    /// Objects uploaded (0: the store already served this tree).
    pub uploaded: usize,
    /// Objects deleted after their grace period.
    pub deleted: usize,
    /// Objects read back through the public address and found identical.
    pub read_back: usize,
    /// The push manifest's generation.
    pub generation: u64,
    /// Found by `--audit`: objects under the prefix no push of trustroot's put there (left
    /// alone), and objects the manifest lists that were missing (uploaded again).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub foreign: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// tough's and our client's runs against the public address (the new timestamp from
    /// memory), one line per client and starting root.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<String>,
    /// The public address read back from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Warnings about the set-up (an `http://` endpoint off this machine).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The plan `--dry-run` prints: per phase, the objects and bytes to upload; the
/// deletions; the requests on paper.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    /// Phase name -> (objects, bytes), in upload order.
    pub uploads: Vec<PhasePlan>,
    pub unchanged: usize,
    pub superseded: Vec<String>,
    pub deletions: Vec<String>,
    /// PUT, DELETE and GET/HEAD requests to the store.
    pub requests: RequestPlan,
    /// GETs through the public address before the timestamp goes up.
    pub read_back_gets: usize,
    /// The plan in words, as printed.
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhasePlan {
    pub phase: &'static str,
    pub objects: usize,
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct RequestPlan {
    pub put: usize,
    pub delete: usize,
    pub read: usize,
}

impl DryRun {
    pub fn of(plan: &trustroot_store::object::plan::Plan) -> DryRun {
        let requests = plan.requests();
        DryRun {
            uploads: plan
                .uploads
                .iter()
                .map(|(phase, keys)| PhasePlan {
                    phase: phase.name(),
                    objects: keys.len(),
                    bytes: plan.bytes.get(phase).copied().unwrap_or(0),
                })
                .collect(),
            unchanged: plan.unchanged,
            superseded: plan.superseded.clone(),
            deletions: plan.deletions.clone(),
            requests: RequestPlan {
                put: requests.put,
                delete: requests.delete,
                read: requests.read,
            },
            read_back_gets: plan.read_back_gets(),
            lines: plan.render(),
        }
    }
}

impl PushReport {
    /// What the push to `to` did (`report`, or planned with `dry_run`), read back by
    /// `reader` (the byte compare and tough) and the clients whose runs are `clients`;
    /// every command that pushes reports through this.
    pub fn of(
        to: &Destination,
        report: trustroot_store::object::Report,
        dry_run: bool,
        reader: Option<&crate::readback::HttpReadBack>,
        clients: Vec<String>,
        public_url: Option<&url::Url>,
        mut warnings: Vec<String>,
    ) -> PushReport {
        let uploaded = if dry_run { 0 } else { report.plan.upload_count() };
        if let Some(reader) = reader
            && uploaded > 0
            && let Some(warning) = reader.timestamp_served()
        {
            warnings.push(warning);
        }
        PushReport {
            to: to.url.clone(),
            plan: dry_run.then(|| DryRun::of(&report.plan)),
            uploaded,
            deleted: report.deleted,
            read_back: reader.map_or(0, crate::readback::HttpReadBack::checked),
            clients,
            generation: report.generation,
            foreign: report.foreign,
            missing: report.missing,
            public_url: public_url.map(ToString::to_string),
            warnings,
        }
    }
}

/// Makes the read-back of our own client for a public address and the local tree pushed
/// (the mirror's `ClientReadBack`, which the command hands in: ceremony does not depend
/// on the mirror).
pub type ClientReadBack<'a> = &'a dyn Fn(url::Url, PathBuf) -> Box<dyn ReadBack>;

/// Pushes the tree `repo` serves locally to `target`, reading every uploaded object back
/// through the public address before `timestamp.json` goes up: the bytes and tough here,
/// then `client`'s.
pub fn push(repo: &Repo, target: &Checked, now: DateTime<Utc>, client: ClientReadBack<'_>) -> Result<PushReport> {
    let tree = PublishDir::new(&repo.policy, &repo.root).served();
    let served = std::fs::canonicalize(&tree).map_err(|e| Error::io(&tree, crate::error::IoOp::Read, e))?;
    let connect = Connect {
        endpoint: target.endpoint.clone(),
        ..Connect::default()
    };
    let env = |name: &str| std::env::var(name).ok();
    let options = PushOptions {
        audit: target.audit,
        jobs: target.jobs,
        cache: target.cache.clone(),
        dry_run: target.dry_run,
        ..PushOptions::new(now)
    };
    let reader = target.public_url.as_ref().map(|base| {
        crate::readback::HttpReadBack::new(
            base.clone(),
            served.clone(),
            repo.policy.gate.allow_p384,
            options.cache.clone(),
        )
        .with_jobs(options.jobs)
        .with_history_accepted_below(history_accepted_below(&repo.policy))
    });
    let ours = target
        .public_url
        .as_ref()
        .map(|base| client(base.clone(), served.clone()));
    let read_back = Chain {
        first: reader.as_ref().map(|r| r as &dyn ReadBack),
        then: ours.as_deref(),
    };
    let (report, warnings) = trustroot_store::object::open_and_push(
        &target.destination,
        target.manifest.as_ref(),
        &connect,
        &env,
        &served,
        &options,
        read_back.active(),
    )?;
    Ok(PushReport::of(
        &target.destination,
        report,
        options.dry_run,
        reader.as_ref(),
        read_back.runs(),
        target.public_url.as_ref(),
        warnings,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn repo() -> (tempfile::TempDir, Repo) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("repo");
        crate::repo::init(&root).unwrap();
        let repo = Repo::open(&root).unwrap();
        (dir, repo)
    }

    fn check(repo: &Repo, to: &str, public_url: Option<&str>) -> Result<Checked> {
        Target {
            to: to.into(),
            endpoint: None,
            public_url: public_url.map(str::to_string),
        }
        .check(repo)
    }

    #[test]
    fn flags_override_the_policy_and_no_to_means_no_push() {
        let policy = Publish {
            destination: "public".into(),
            to: Some("s3://bucket/policy".into()),
            endpoint: Some("http://127.0.0.1:9000".into()),
            public_url: None,
            jobs: None,
            manifest: None,
            cache: Default::default(),
        };
        let target = Target::resolve(Some("s3://bucket/flag"), None, Some("https://cdn.test/r/"), &policy).unwrap();
        assert_eq!(target.to, "s3://bucket/flag");
        assert_eq!(target.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(target.public_url.as_deref(), Some("https://cdn.test/r/"));
        let none = Publish { to: None, ..policy };
        assert_eq!(Target::resolve(None, Some("http://x"), None, &none), None);
    }

    #[test]
    fn to_inside_metadata_or_the_publish_destination_is_refused() {
        let (_dir, repo) = repo();
        for to in [
            repo.root.join("metadata").display().to_string(),
            format!("file://{}/targets/x", repo.root.display()),
            repo.root.join("public/copy").display().to_string(),
            repo.root.join("ceremonies").display().to_string(),
        ] {
            let error = check(&repo, &to, None).unwrap_err();
            assert!(
                matches!(error, Error::Push(ObjectError::Inside { .. })),
                "{to}: {error}"
            );
            assert!(error.to_string().contains(&to), "{error}");
        }
    }

    #[test]
    fn symlink_into_metadata_is_refused() {
        let (dir, repo) = repo();
        let link = dir.path().join("innocent");
        std::os::unix::fs::symlink(repo.root.join("metadata"), &link).unwrap();
        let error = check(&repo, &link.join("pushed").display().to_string(), None).unwrap_err();
        assert!(matches!(error, Error::Push(ObjectError::Inside { .. })), "{error}");
    }

    #[test]
    fn remote_store_without_a_public_url_is_refused() {
        let (_dir, repo) = repo();
        let error = check(&repo, "s3://bucket/repo", None).unwrap_err().to_string();
        assert!(error.contains("--public-url"), "{error}");
        // A local directory needs none (clients read it as written).
        let (dir, repo) = self::repo();
        check(&repo, &dir.path().join("out").display().to_string(), None).unwrap();
    }

    #[test]
    fn hostile_public_urls_are_refused() {
        let (_dir, repo) = repo();
        for url in [
            "ftp://cdn.test/r/",
            "file:///etc/",
            "https://user:secret@cdn.test/r/",
            "https://cdn.test/r/?token=x",
            "https://cdn.test/r/#x",
            "not a url",
            "https://",
        ] {
            let error = check(&repo, "s3://bucket/repo", Some(url)).unwrap_err();
            assert!(
                matches!(error, Error::Push(ObjectError::BadPublicUrl { .. })),
                "{url}: {error}"
            );
            assert!(!error.to_string().contains("secret"), "{error}");
            assert!(error.to_string().starts_with("--public-url "), "{error}");
        }
    }

    #[test]
    fn endpoint_with_credentials_is_refused_before_publishing_without_echoing_them() {
        let (_dir, repo) = repo();
        let error = Target {
            to: "s3://bucket/repo".into(),
            endpoint: Some("https://key:secret@s3.test".into()),
            public_url: Some("https://cdn.test/r/".into()),
        }
        .check(&repo)
        .unwrap_err();
        assert!(matches!(error, Error::Push(ObjectError::BadEndpoint { .. })), "{error}");
        assert!(!error.to_string().contains("secret"), "{error}");
    }

    #[test]
    fn local_manifest_inside_the_signing_repository_is_refused() {
        let (dir, repo) = repo();
        let to = dir.path().join("out").display().to_string();
        let target = Target {
            to,
            endpoint: None,
            public_url: None,
        };
        let inside = repo
            .root
            .join("metadata/push.trustroot-push.json")
            .display()
            .to_string();
        let error = target.check_with(&repo, Some(&inside)).unwrap_err();
        assert!(
            matches!(error, Error::Push(ObjectError::BadManifestUrl { .. })),
            "{error}"
        );
        // Beside the destination, as the default: taken.
        let beside = dir.path().join("out.trustroot-push.json").display().to_string();
        target.check_with(&repo, Some(&beside)).unwrap();
    }

    #[test]
    fn public_url_gets_its_trailing_slash() {
        let (_dir, repo) = repo();
        let checked = check(&repo, "s3://bucket/repo", Some("https://cdn.test/tuf")).unwrap();
        assert_eq!(checked.public_url.unwrap().as_str(), "https://cdn.test/tuf/");
    }
}
