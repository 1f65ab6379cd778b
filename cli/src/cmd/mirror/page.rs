//! The mirror's status page: written by `mirror status --html` and served by `mirror serve
//! --status-page` at `/_status`, through the same HTML writer, style and escaping as the
//! signing repository's page. Everything on it (origin URLs, role names, the recorded sync
//! error) comes from the repository or the mirror's files and is escaped.
//!
//! The mirror's local directory is left out: the same page is served to other machines.
//!
//! A directory of named repositories gets one page with a section for each repository
//! ([`render_named`]), each holding what the page of one repository shows.

use chrono::{DateTime, Utc};
use trustroot_core::expiry::State;
use trustroot_mirror::serve::status_page::{NamedOutcome, NamedStatus};
use trustroot_mirror::status::{MirrorStatus, RoleStatus};

use crate::output::html::{CSS, Html, days, problem, role_row_start, table_end, table_start};

/// The page for `status`, computed at `now`.
pub fn render(status: &MirrorStatus, now: DateTime<Utc>) -> String {
    let at = trustroot_core::time::format(&now);
    let mut b = Html::new();
    b.markup("<header><h1>trustroot mirror status</h1>")
        .open("p", &[("class", "muted")])
        .markup("Computed at ")
        .element("time", &[("datetime", &at)], &at)
        .markup(" by <code>trustroot mirror</code>. Times are UTC.</p></header><main>");
    let part = Part {
        heading: "h2",
        id: "",
        name: "",
    };
    origin(&mut b, status, &part);
    syncs(&mut b, status, &part);
    roles(&mut b, status, &part);
    b.markup("</main>");
    Html::document("en", "trustroot mirror status", CSS, b)
}

/// The page of a directory of named repositories (`statuses` from
/// `trustroot_mirror::serve::status_page::named_statuses`), computed at `now`: a list of
/// the repositories, then a section for each with what [`render`] shows of one. A
/// repository whose status cannot be read is shown with why.
pub fn render_named(statuses: &[NamedStatus], now: DateTime<Utc>) -> String {
    let at = trustroot_core::time::format(&now);
    let mut b = Html::new();
    b.markup("<header><h1>trustroot mirror status</h1>")
        .open("p", &[("class", "muted")])
        .text(&format!(
            "{} named repositor{}, each served at /NAME/. Computed at ",
            statuses.len(),
            if statuses.len() == 1 { "y" } else { "ies" }
        ))
        .element("time", &[("datetime", &at)], &at)
        .markup(" by <code>trustroot mirror</code>. Times are UTC.</p>");
    if !statuses.is_empty() {
        b.markup("<nav aria-label=\"repositories\"><ul>");
        for named in statuses {
            b.markup("<li>")
                .element("a", &[("href", &format!("#{}", named.name))], &named.name)
                .markup("</li>");
        }
        b.markup("</ul></nav>");
    }
    b.markup("</header><main>");
    for named in statuses {
        b.open(
            "section",
            &[("aria-labelledby", &named.name), ("data-repository", &named.name)],
        )
        .open("h2", &[("id", &named.name)])
        .text(&format!("/{}/", named.name))
        .close("h2");
        match &named.status {
            NamedOutcome::Status(status) => {
                // A name has no '/': "NAME/origin" is never another repository's id.
                let id = format!("{}/", named.name);
                let part = Part {
                    heading: "h3",
                    id: &id,
                    name: &named.name,
                };
                origin(&mut b, status, &part);
                syncs(&mut b, status, &part);
                roles(&mut b, status, &part);
            }
            NamedOutcome::Unreadable(why) => problem(&mut b, &format!("not served: {why}")),
        }
        b.markup("</section>");
    }
    b.markup("</main>");
    Html::document("en", "trustroot mirror status", CSS, b)
}

/// Where a repository's sections go: the level of their headings, and the prefix of their
/// ids (a page of named repositories has one set of sections for each, and ids are unique).
struct Part<'a> {
    heading: &'static str,
    id: &'a str,
    /// The repository's name, for the tables' labels ("" for an unnamed mirror).
    name: &'a str,
}

impl Part<'_> {
    /// Opens a section and writes its heading.
    fn section(&self, b: &mut Html, id: &str, title: &str) {
        let id = format!("{}{id}", self.id);
        b.open("section", &[("aria-labelledby", &id)])
            .open(self.heading, &[("id", &id)])
            .text(title)
            .close(self.heading);
    }

    fn id(&self, id: &str) -> String {
        format!("{}{id}", self.id)
    }

    /// A table's label, naming the repository on a page of several: screen readers list
    /// the tables by label, and two alike would not tell which repository is which.
    fn label(&self, label: &str) -> String {
        if self.name.is_empty() {
            label.to_string()
        } else {
            format!("{}: {label}", self.name)
        }
    }
}

fn origin(b: &mut Html, s: &MirrorStatus, part: &Part<'_>) {
    part.section(b, "origin", "What is served");
    table_start(
        b,
        &part.label("what is served"),
        "The served state, where it came from and what it holds",
        &["What", "Value"],
    );
    let row = |b: &mut Html, name: &'static str, value: &str| {
        b.markup("<tr><th scope=\"row\">")
            .markup(name)
            .markup("</th>")
            .element("td", &[], value)
            .markup("</tr>");
    };
    row(b, "Metadata from", &without_credentials(&s.origin.metadata_url));
    row(b, "Targets from", &without_credentials(&s.origin.targets_url));
    row(b, "State", &s.state.to_string());
    b.markup("<tr><th scope=\"row\">State built</th><td>");
    time(b, &s.synced_at);
    b.markup("</td></tr>");
    row(b, "Files served", &s.files.to_string());
    row(b, "Bytes served", &format!("{} ({})", s.bytes, human_bytes(s.bytes)));
    table_end(b);
    b.markup("</section>");
}

/// A URL with any user name and password taken out: the page may be served to anyone who
/// can reach the mirror, and an origin may have been given as `https://user:token@host/`.
fn without_credentials(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            // Both only fail for URLs that cannot have credentials, which these have.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            format!("{url} (credentials hidden)")
        }
        _ => text.to_string(),
    }
}

/// A recorded time: shown as recorded, in a `<time>` only when it parses as one.
fn time(b: &mut Html, text: &str) {
    match trustroot_core::time::parse(text) {
        Some(t) => {
            let t = trustroot_core::time::format(&t);
            b.element("time", &[("datetime", &t)], &t);
        }
        None => {
            b.text(text);
        }
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn syncs(b: &mut Html, s: &MirrorStatus, part: &Part<'_>) {
    part.section(b, "syncs", "Syncs");
    if let Some(p) = &s.syncs_unreadable {
        problem(
            b,
            &format!("the record of syncs cannot be read: {p} (the next sync replaces it)"),
        );
    }
    match &s.syncs {
        None if s.syncs_unreadable.is_none() => {
            b.markup("<p>No sync has been recorded yet: the served state was built at ");
            time(b, &s.synced_at);
            b.markup(".</p>");
        }
        None => {}
        Some(r) => {
            b.open("p", &[("id", &part.id("last-sync"))])
                .markup("Last sync that succeeded: ");
            match &r.last_success {
                Some(at) => time(b, at),
                None => {
                    b.markup("never");
                }
            }
            b.markup(".</p>");
            if r.failures_total == 0 {
                b.markup("<p class=\"ok\">No sync has failed.</p>");
            } else {
                // The last outcome is what an operator acts on: a failure after the last
                // success means the mirror is going stale.
                let failing_now = match (
                    r.last_failure.as_deref().and_then(trustroot_core::time::parse),
                    r.last_success_at(),
                ) {
                    // Recorded to the second: a tie is read the cautious way.
                    (Some(failed), Some(succeeded)) => failed >= succeeded,
                    (Some(_), None) => true,
                    _ => false,
                };
                b.open(
                    "p",
                    &[
                        ("class", if failing_now { "bad" } else { "due" }),
                        ("id", &part.id("last-failure")),
                    ],
                )
                .text(&format!(
                    "{} failed sync{}{}; the last at ",
                    r.failures_total,
                    if r.failures_total == 1 { "" } else { "s" },
                    if failing_now {
                        ", the latest sync among them"
                    } else {
                        ", none since the last success"
                    }
                ));
                match &r.last_failure {
                    Some(at) => time(b, at),
                    None => {
                        b.markup("an unknown time");
                    }
                }
                b.text(&format!(": {}", r.last_error.as_deref().unwrap_or("no error recorded")))
                    .close("p");
            }
        }
    }
    b.markup("</section>");
}

fn roles(b: &mut Html, s: &MirrorStatus, part: &Part<'_>) {
    part.section(b, "roles", "Roles");
    table_start(
        b,
        &part.label("roles"),
        "Every role the mirror serves, its version and when it expires",
        &["Role", "Version", "Expires", "State"],
    );
    for r in &s.roles {
        role(b, r);
    }
    table_end(b);
    match &s.valid_until {
        Some(until) => {
            b.markup("<p>Clients of this mirror fail after ");
            time(b, until);
            b.markup(" unless it is synced again.</p>");
        }
        None => {
            b.markup("<p>No role states an expiry.</p>");
        }
    }
    b.markup("</section>");
}

/// Time left in hours near the expiry, where a timestamp lives (a day's rounding would
/// say "today" of a timestamp that has 23 hours left), in days otherwise.
fn left(hours: i64) -> String {
    match hours {
        1 => "in 1 hour".into(),
        -1 => "1 hour ago".into(),
        h if (0..48).contains(&h) => format!("in {h} hours"),
        h if (-47..0).contains(&h) => format!("{} hours ago", -h),
        h => days(h.div_euclid(24)),
    }
}

fn role(b: &mut Html, r: &RoleStatus) {
    let expires = trustroot_core::time::format(&r.expires);
    let left = left(r.hours_left);
    let (class, state) = match r.state {
        State::Expired => ("bad", format!("EXPIRED {left}: clients refuse it")),
        State::Within => ("due", format!("{left}: a new version is due")),
        State::Valid => ("ok", left),
    };
    role_row_start(b, &r.role, r.version, &expires, class, &state);
    b.markup("</tr>");
}

#[cfg(test)]
mod tests {
    use super::{human_bytes, left, without_credentials};

    /// The row mirror::status's state decides: expired, due (inside the declared signing
    /// period) or fine.
    #[test]
    fn a_role_inside_its_signing_period_is_shown_as_due() {
        use trustroot_core::expiry::State;
        let row = |state: State, hours_left: i64| {
            let status = super::RoleStatus {
                role: "root".into(),
                version: 15,
                expires: chrono::Utc::now(),
                expired: state == State::Expired,
                hours_left,
                state,
                signing_days: Some(60),
            };
            let mut b = super::Html::new();
            super::role(&mut b, &status);
            super::Html::document("en", "t", "", b)
        };
        let due = row(State::Within, 24 * 30);
        assert!(
            due.contains("in 30 days: a new version is due") && due.contains("class=\"due\""),
            "{due}"
        );
        let fine = row(State::Valid, 24 * 90);
        assert!(!fine.contains("due") && fine.contains("class=\"ok\""), "{fine}");
        let expired = row(State::Expired, -3);
        assert!(expired.contains("EXPIRED 3 hours ago"), "{expired}");
    }

    /// A named repository whose status cannot be read has its section, saying why (as
    /// text: the reason may quote a repository's file), and a link from the list.
    #[test]
    fn a_named_repository_that_cannot_be_read_is_listed_with_why() {
        use trustroot_mirror::serve::status_page::{NamedOutcome, NamedStatus};
        let statuses = [NamedStatus {
            name: "staging".into(),
            status: NamedOutcome::Unreadable("role <script>x</script> is broken".into()),
        }];
        let page = super::render_named(&statuses, chrono::Utc::now());
        assert!(page.contains("1 named repository, each served at /NAME/"), "{page}");
        assert!(page.contains("<a href=\"#staging\">staging</a>"), "{page}");
        assert!(
            page.contains(
                "<section aria-labelledby=\"staging\" data-repository=\"staging\"><h2 id=\"staging\">/staging/</h2>"
            ),
            "{page}"
        );
        assert!(
            page.contains("not served: role &lt;script&gt;x&lt;/script&gt; is broken"),
            "{page}"
        );
        assert!(!page.contains("<script"), "{page}");
        let empty = super::render_named(&[], chrono::Utc::now());
        assert!(
            empty.contains("0 named repositories") && !empty.contains("<nav"),
            "{empty}"
        );
    }

    #[test]
    fn credentials_in_an_origin_url_are_not_shown() {
        assert_eq!(
            without_credentials("https://user:s3cret@mirror.example/metadata/"),
            "https://mirror.example/metadata/ (credentials hidden)"
        );
        assert_eq!(
            without_credentials("https://token@mirror.example/"),
            "https://mirror.example/ (credentials hidden)"
        );
        assert_eq!(without_credentials("file:///srv/tuf/"), "file:///srv/tuf/");
        assert_eq!(without_credentials("not a url"), "not a url");
    }

    #[test]
    fn time_left_is_in_hours_near_the_expiry() {
        assert_eq!(left(23), "in 23 hours");
        assert_eq!(left(0), "in 0 hours");
        assert_eq!(left(-5), "5 hours ago");
        assert_eq!(left(49), "in 2 days");
        assert_eq!(left(-49), "3 days ago");
    }

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(u64::MAX), "16777216.0 TiB");
    }
}
