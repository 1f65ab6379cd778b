//! `/_status` (with `mirror serve --status-page`): the mirror's status as an HTML page,
//! read afresh from the mirror's files on every request, as `mirror status --html` writes
//! it.
//!
//! The page is rendered by the caller's [`StatusPage`]: the command-line crate holds the
//! one HTML writer (and its escaping) every trustroot page goes through, and this crate
//! only says when to call it.
//!
//! On a directory of named repositories ([`crate::set`]) the page has a section for
//! each repository, in name order; one whose status cannot be read is listed with why, and
//! the others are shown as usual.
//!
//! `/_status` never names a file of the served tree: a tree's top level holds only
//! metadata (`*.json`) and the `targets/` directory, so a target called `_status` is
//! `/targets/_status`. Without `--status-page`, `/_status` is an ordinary path (a 404).

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::UpdateError;
use crate::set::{self, Kind};
use crate::status::MirrorStatus;

/// The path the page is served at.
pub const PATH: &str = "/_status";

/// The `Content-Type` of the page.
pub const CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// What the page's own `<meta>` says, repeated as a header: browsers enforce it before
/// reading a byte of the page. No script runs and nothing is fetched.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// One named repository's status, or why it cannot be read (the message of the error).
#[derive(Debug, Clone, Serialize)]
pub struct NamedStatus {
    pub name: String,
    #[serde(flatten)]
    pub status: NamedOutcome,
}

/// What was read of a named repository.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NamedOutcome {
    Status(Box<MirrorStatus>),
    /// Why its status cannot be read (no served state yet, a broken record...).
    Unreadable(String),
}

/// The status of every named repository in `dir` as of `now`, in name order. A repository
/// whose status cannot be read is listed with the reason; the others are still read.
/// Refused when `dir` is not a directory of named repositories.
pub fn named_statuses(dir: &Path, now: DateTime<Utc>) -> Result<Vec<NamedStatus>, UpdateError> {
    let names = match set::kind(dir)? {
        Kind::Named(names) => names,
        Kind::Unnamed | Kind::Empty => return Err(UpdateError::NotNamed { dir: dir.to_path_buf() }),
    };
    names
        .into_iter()
        .map(|name| {
            let status = match crate::status::status(&set::repository_dir(dir, &name)?, now) {
                Ok(status) => NamedOutcome::Status(Box::new(status)),
                // Said without the local directory: the page is served to other machines.
                Err(UpdateError::NothingMirrored { .. }) => {
                    NamedOutcome::Unreadable("nothing is served yet: its first sync has not finished".into())
                }
                Err(e) => NamedOutcome::Unreadable(e.to_string()),
            };
            Ok(NamedStatus { name, status })
        })
        .collect()
}

type Render = dyn Fn(&MirrorStatus, DateTime<Utc>) -> String + Send + Sync;
type RenderNamed = dyn Fn(&[NamedStatus], DateTime<Utc>) -> String + Send + Sync;

/// Renders the page from the mirror's status as of a time (the status holds repository
/// text: the renderer escapes it): one repository's, or a section for each named one.
#[derive(Clone)]
pub struct StatusPage {
    one: Arc<Render>,
    named: Arc<RenderNamed>,
}

impl StatusPage {
    pub fn new(
        one: impl Fn(&MirrorStatus, DateTime<Utc>) -> String + Send + Sync + 'static,
        named: impl Fn(&[NamedStatus], DateTime<Utc>) -> String + Send + Sync + 'static,
    ) -> Self {
        StatusPage {
            one: Arc::new(one),
            named: Arc::new(named),
        }
    }

    /// The page of an unnamed mirror.
    pub fn render(&self, status: &MirrorStatus, now: DateTime<Utc>) -> String {
        (self.one)(status, now)
    }

    /// The page of a directory of named repositories.
    pub fn render_named(&self, statuses: &[NamedStatus], now: DateTime<Utc>) -> String {
        (self.named)(statuses, now)
    }
}

impl std::fmt::Debug for StatusPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatusPage")
    }
}
