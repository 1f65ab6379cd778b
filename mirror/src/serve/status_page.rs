//! `/_status` (with `mirror serve --status-page`): the mirror's status as an HTML page,
//! read afresh from the mirror's files on every request, as `mirror status --html` writes
//! it.
//!
//! The page is rendered by the caller's [`StatusPage`]: the command-line crate holds the
//! one HTML writer (and its escaping) every trustroot page goes through, and this crate
//! only says when to call it.
//!
//! `/_status` never names a file of the served tree: a tree's top level holds only
//! metadata (`*.json`) and the `targets/` directory, so a target called `_status` is
//! `/targets/_status`. Without `--status-page`, `/_status` is an ordinary path (a 404).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::status::MirrorStatus;

/// The path the page is served at.
pub const PATH: &str = "/_status";

/// The `Content-Type` of the page.
pub const CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// What the page's own `<meta>` says, repeated as a header: browsers enforce it before
/// reading a byte of the page. No script runs and nothing is fetched.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";

type Render = dyn Fn(&MirrorStatus, DateTime<Utc>) -> String + Send + Sync;

/// Renders the page from the mirror's status as of a time (the status holds repository
/// text: the renderer escapes it).
#[derive(Clone)]
pub struct StatusPage(Arc<Render>);

impl StatusPage {
    pub fn new(render: impl Fn(&MirrorStatus, DateTime<Utc>) -> String + Send + Sync + 'static) -> Self {
        StatusPage(Arc::new(render))
    }

    pub fn render(&self, status: &MirrorStatus, now: DateTime<Utc>) -> String {
        (self.0)(status, now)
    }
}

impl std::fmt::Debug for StatusPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StatusPage")
    }
}
