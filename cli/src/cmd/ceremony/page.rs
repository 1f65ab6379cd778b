//! The status page (`ceremony status --html`): the repository's overview and the open
//! round's thresholds, rendered from the same data `--json` prints, as one self-contained
//! HTML file. Every piece of repository text goes through the output layer's escaping; a
//! part that could not be read is said in its own section, and the rest still renders.

use trustroot_ceremony::overview::{ExpiryState, Overview};
use trustroot_ceremony::round::{Keyholder, MAX_CHANGE_LINES, RoleChanges, RoleStatus, RoundStatus, ThresholdStatus};

use super::payloads::{Payload, Window};
use crate::output::html::{CSS, Html, date, days, problem, role_row_start, table_end, table_start};

/// What the page shows of the latest round: its status, none (no round yet), or why it
/// could not be read.
pub type OpenRound = Result<Option<RoundStatus>, String>;

/// The page for the repository called `name`.
pub fn render(name: &str, overview: &Overview, round: &OpenRound, sigstore: &[Payload]) -> String {
    let mut b = Html::new();
    b.markup("<header>")
        .element("h1", &[], &format!("trustroot status: {name}"))
        .open("p", &[("class", "muted")])
        .markup("Computed at ")
        .element("time", &[("datetime", &overview.at)], &overview.at)
        .markup(" by <code>trustroot ceremony status --html</code>. Times are UTC.</p></header><main>");
    open_round(&mut b, round);
    roles(&mut b, overview);
    if !sigstore.is_empty() {
        payloads(&mut b, sigstore, &overview.at);
    }
    keyholders(&mut b, overview);
    history(&mut b, overview);
    b.markup("</main>");
    Html::document("en", &format!("trustroot status: {name}"), CSS, b)
}

fn open_round(b: &mut Html, round: &OpenRound) {
    b.markup("<section aria-labelledby=\"open-round\"><h2 id=\"open-round\">Open round</h2>");
    match round {
        Err(why) => problem(b, &format!("the latest round cannot be read: {why}")),
        Ok(None) => {
            b.markup("<p>No round has been started yet: <code>trustroot ceremony start</code> opens one.</p>");
        }
        Ok(Some(state)) => match &state.published_at {
            Some(at) => {
                b.open("p", &[])
                    .text(&format!("No round is open: round {} was published at ", state.round))
                    .element("time", &[("datetime", at)], at)
                    .markup(". <code>trustroot ceremony start</code> opens the next.</p>");
            }
            None => {
                b.open("p", &[("id", "round-summary")])
                    .text(&format!(
                        "Round {}: {}",
                        state.round,
                        if state.complete {
                            "every threshold is met; it can be published."
                        } else {
                            "signatures are missing."
                        }
                    ))
                    .close("p");
                for role in &state.roles {
                    round_role(b, role);
                }
            }
        },
    }
    b.markup("</section>");
}

fn round_role(b: &mut Html, role: &RoleStatus) {
    b.element("h3", &[], &format!("{} v{}", role.role, role.version))
        .open("p", &[])
        .markup("Expires ");
    date(b, &role.expires);
    b.text(&format!(". Staged bytes sha256 {}.", role.signed_sha256))
        .close("p");
    if role.changed_since_start {
        problem(
            b,
            "the staged file was changed after the round started: its signatures do not count",
        );
    }
    for t in &role.thresholds {
        threshold(b, role, t);
    }
    // Files that count nowhere and name no listed keyholder: shown once, with why.
    let listed = |keyid: &str| {
        role.thresholds
            .iter()
            .any(|t| t.signed.iter().chain(&t.not_signed).any(|k| k.keyid == keyid))
    };
    let unmatched: Vec<_> = role
        .rejected
        .iter()
        .filter(|r| r.keyid.as_deref().is_none_or(|k| !listed(k)))
        .collect();
    if !unmatched.is_empty() {
        table_start(
            b,
            &format!("{} signature files not counted", role.role),
            "Signature files that do not count",
            &["File", "Why"],
        );
        for r in unmatched {
            b.markup("<tr>")
                .element("td", &[], &r.file)
                .element("td", &[], &r.reason)
                .markup("</tr>");
        }
        table_end(b);
    }
}

fn who(k: &Keyholder) -> String {
    match (&k.name, &k.holder) {
        (Some(n), Some(h)) => format!("{n} ({h})"),
        (Some(n), None) => n.clone(),
        (None, Some(h)) => h.clone(),
        (None, None) => "a key not in trustroot.toml".into(),
    }
}

fn threshold(b: &mut Html, role: &RoleStatus, t: &ThresholdStatus) {
    let caption = format!(
        "Signers of {}: {} of {} valid signatures{}",
        t.of,
        t.valid,
        t.required,
        if t.met { " (met)" } else { " (not met)" }
    );
    table_start(
        b,
        &format!("{} {}", role.role, t.of),
        &caption,
        &["Keyholder", "Key", "Signature"],
    );
    let rows = t
        .signed
        .iter()
        .map(|k| (k, "signed", None))
        .chain(t.not_signed.iter().map(|k| {
            // A signature file from this key that does not verify: invalid, not missing.
            let invalid = role.rejected.iter().find(|r| r.keyid.as_deref() == Some(&k.keyid));
            match invalid {
                Some(r) => (k, "invalid", Some(r.reason.as_str())),
                None => (k, "missing", None),
            }
        }));
    for (k, state, reason) in rows {
        let class = match state {
            "signed" => "ok",
            "invalid" => "bad",
            _ => "due",
        };
        let name = k.name.as_deref().unwrap_or(&k.keyid);
        b.open("tr", &[("data-keyholder", name), ("data-state", state)])
            .open("th", &[("scope", "row")])
            .text(&who(k))
            .close("th")
            .open("td", &[])
            .element("code", &[], trustroot_ceremony::keys::short_id(&k.keyid));
        // A keyless key has no material: who it names is what the keyholder recognises.
        if let Some(who) = &k.keyless {
            b.text(&format!(" identity {} (issuer {})", who.identity, who.issuer));
        }
        b.close("td").open("td", &[("class", class)]).text(state);
        if let Some(reason) = reason {
            b.text(&format!(": {reason}"));
        }
        b.markup("</td></tr>");
    }
    table_end(b);
}

fn roles(b: &mut Html, o: &Overview) {
    b.markup("<section aria-labelledby=\"roles\"><h2 id=\"roles\">Published roles</h2>");
    if let Some(p) = &o.roles_problem {
        problem(b, &format!("the published metadata cannot be read: {p}"));
    }
    if !o.roles.is_empty() {
        table_start(
            b,
            "published roles",
            "Every published role, its expiry against the signing period trustroot.toml gives it, and who signs its next version",
            &[
                "Role",
                "Version",
                "Expires",
                "State",
                "Signing period",
                "Next threshold",
                "Next signers",
            ],
        );
        for r in &o.roles {
            let expires = trustroot_core::time::format(&r.expires);
            let starts = trustroot_core::time::format(&r.signing_period_starts);
            let (class, state) = match r.state {
                ExpiryState::Ok => ("ok", days(r.days_left)),
                ExpiryState::SigningPeriod => ("due", format!("{}: a new version is due", days(r.days_left))),
                ExpiryState::Expired => ("bad", format!("EXPIRED {}: clients refuse it", days(r.days_left))),
            };
            role_row_start(b, &r.role, r.version, &expires, class, &state);
            b.open("td", &[]).text(&format!("{} days, from ", r.signing_days));
            date(b, &starts);
            b.markup("</td>")
                .element("td", &[], &format!("{} of {}", r.threshold, r.keys.len()))
                .element("td", &[], &r.keys.join(", "))
                .markup("</tr>");
        }
        table_end(b);
    }
    b.markup("</section>");
}

fn keyholders(b: &mut Html, o: &Overview) {
    b.markup("<section aria-labelledby=\"keys\"><h2 id=\"keys\">Keyholders</h2>");
    if let Some(p) = &o.keys_problem {
        problem(b, &format!("the key files cannot all be read: {p}"));
    }
    table_start(
        b,
        "keyholders",
        "The keys trustroot.toml names",
        &["Key", "Holder", "Type", "Key ID", "Signs", "YubiKey attestation"],
    );
    for k in &o.keys {
        b.open("tr", &[("data-key", &k.name)])
            .open("th", &[("scope", "row")])
            .text(&k.name)
            .close("th")
            .element("td", &[], k.holder.as_deref().unwrap_or("not named"))
            .element(
                "td",
                &[],
                &match (&k.keytype, &k.scheme, &k.keyless) {
                    (Some(t), Some(s), Some(who)) => {
                        format!("{t} ({s}): identity {}, issuer {}", who.identity, who.issuer)
                    }
                    (Some(t), Some(s), None) if t != s => format!("{t} ({s})"),
                    (Some(t), _, _) => t.clone(),
                    _ => "unreadable".into(),
                },
            )
            .open("td", &[])
            .element(
                "code",
                &[],
                k.keyid.as_deref().map_or("?", trustroot_ceremony::keys::short_id),
            )
            .close("td")
            .element("td", &[], &k.roles.join(", "));
        match (&k.attestation, &k.attestation_problem) {
            (None, _) => {
                b.element("td", &[("class", "muted")], "none recorded");
            }
            (Some(_), Some(p)) => {
                b.element("td", &[("class", "bad")], &format!("does not verify: {p}"));
            }
            (Some(a), None) if !a.has_evidence() => {
                b.element(
                    "td",
                    &[],
                    &format!("{} (recorded without evidence: not checked again)", a.summary()),
                );
            }
            (Some(a), None) => {
                b.element("td", &[("class", "ok")], &a.summary());
            }
        }
        b.markup("</tr>");
    }
    table_end(b);
    // Who signs online, and whether trustroot can (an imported KMS key is kept as written).
    for k in &o.online_keys {
        let class = if k.usable { "ok" } else { "bad" };
        b.element("p", &[("class", class), ("data-online-key", &k.name)], &k.line());
    }
    b.markup("</section>");
}

fn history(b: &mut Html, o: &Overview) {
    b.markup("<section aria-labelledby=\"history\"><h2 id=\"history\">Rounds</h2>");
    if let Some(p) = &o.rounds_problem {
        problem(b, &format!("the rounds cannot be listed: {p}"));
    }
    if o.rounds.is_empty() && o.rounds_problem.is_none() {
        b.markup("<p>No round yet.</p>");
    }
    // Newest first: what people look for.
    for r in o.rounds.iter().rev() {
        b.open("article", &[("data-round", &r.round)])
            .element("h3", &[], &format!("Round {}", r.round))
            .markup("<p>");
        match &r.started {
            Some(at) => {
                b.markup("Started ").element("time", &[("datetime", at)], at);
            }
            None => {
                b.markup("Start time unknown");
            }
        }
        match &r.published_at {
            Some(at) => {
                b.markup("; published ").element("time", &[("datetime", at)], at);
            }
            None => {
                b.markup("; not published");
            }
        }
        b.markup(".</p>");
        for p in &r.problems {
            problem(b, p);
        }
        if !r.staged.is_empty() {
            b.markup("<p>What changed:</p><ul>");
            for s in &r.staged {
                let version = s.version.map_or_else(String::new, |v| format!(" v{v}"));
                b.open("li", &[]).text(&format!(
                    "{}{version}: {}",
                    s.role,
                    s.detail.as_deref().unwrap_or("no reason logged")
                ));
                b.close("li");
            }
            b.markup("</ul>");
        }
        for c in &r.changes {
            changes(b, c);
        }
        if r.signatures.is_empty() {
            b.markup("<p>No signature brought in.</p>");
        } else {
            b.markup("<p>Signed by:</p><ul>");
            for s in &r.signatures {
                let signer = s
                    .key_name
                    .clone()
                    .unwrap_or_else(|| format!("key {}", trustroot_ceremony::keys::short_id(&s.keyid)));
                let version = s.version.map_or_else(String::new, |v| format!(" v{v}"));
                b.open("li", &[]).text(&format!("{signer}: {}{version}", s.role));
                if let Some(at) = &s.at {
                    b.markup(", ").element("time", &[("datetime", at)], at);
                }
                b.close("li");
            }
            b.markup("</ul>");
        }
        b.close("article");
    }
    b.markup("</section>");
}

/// What one staged role changes, folded: the lines `ceremony sign` shows keyholders, one
/// per line in a `<pre>`. The `+`/`-`/`~` stays in the text (a screen reader and a copy
/// keep it); the class only colours it.
fn changes(b: &mut Html, c: &RoleChanges) {
    let against = c
        .previous_version
        .map_or_else(|| "new role".to_string(), |v| format!("against v{v}"));
    let count = c.lines.len() + c.more_lines;
    b.markup("<details><summary>").text(&format!(
        "Changes to {} v{} ({against}): {count} line(s)",
        c.role, c.version
    ));
    b.markup("</summary><pre class=\"diff\">");
    if count == 0 {
        b.markup("no change to the signed content\n");
    }
    for line in &c.lines {
        let class = match line.chars().next() {
            Some('+') => "add",
            Some('-') => "del",
            _ => "chg",
        };
        b.open("span", &[("class", class)])
            .text(line)
            .close("span")
            .markup("\n");
    }
    if c.more_lines > 0 {
        // The full account is the signing request's (`ceremony sign` prints every line).
        b.text(&format!(
            "… {} more line(s) (only the first {MAX_CHANGE_LINES} are shown)",
            c.more_lines
        ));
    }
    b.markup("</pre></details>");
}

/// The Sigstore payloads' validity windows, as a table with a time line drawn in CSS (no
/// script): each bar runs from the window's start to its end, or to the right edge when
/// it has none; a red line marks now. The bars only repeat the table's dates, so they are
/// hidden from screen readers.
fn payloads(b: &mut Html, payloads: &[Payload], at: &str) {
    b.markup("<section aria-labelledby=\"sigstore\"><h2 id=\"sigstore\">Sigstore payloads</h2>");
    let now = trustroot_core::time::parse(at);
    for p in payloads {
        let windows = match &p.windows {
            Ok(windows) => windows,
            Err(why) => {
                problem(b, &format!("targets/{} {why}", p.file));
                continue;
            }
        };
        // The time line spans every start and end that parses, and now.
        let times: Vec<_> = windows
            .iter()
            .flat_map(|w| [w.start_at(), w.end_at()])
            .chain([now])
            .flatten()
            .collect();
        let span = times.iter().min().zip(times.iter().max());
        table_start(
            b,
            &format!("validity windows in {}", p.file),
            &format!("targets/{}: what it lists and when each is valid", p.file),
            &["Kind", "Name", "Valid from", "Until", "Time line"],
        );
        for w in windows {
            b.open(
                "tr",
                &[
                    ("data-payload", &p.file),
                    ("data-kind", w.kind),
                    ("data-start", w.start.as_deref().unwrap_or("")),
                    ("data-end", w.end.as_deref().unwrap_or("")),
                ],
            )
            .markup("<th scope=\"row\">")
            .text(w.kind)
            .markup("</th>")
            .element("td", &[], &w.name)
            .open("td", &[]);
            match &w.start {
                Some(start) => window_time(b, start),
                None => {
                    b.markup("not stated");
                }
            }
            b.markup("</td><td>");
            match &w.end {
                Some(end) => window_time(b, end),
                None => {
                    b.markup("open");
                }
            }
            b.markup("</td><td>");
            timeline(b, w, span.map(|(lo, hi)| (*lo, *hi)), now);
            b.markup("</td></tr>");
        }
        table_end(b);
    }
    b.markup("</section>");
}

/// A window's bound: its date in a `<time>` when it parses, else the text as written.
fn window_time(b: &mut Html, text: &str) {
    match trustroot_targets::sigstore::time::parse(text) {
        Ok((t, _)) => date(b, &trustroot_core::time::format(&t)),
        Err(_) => {
            b.text(&format!("{text} (not a time)"));
        }
    }
}

fn timeline(
    b: &mut Html,
    w: &Window,
    span: Option<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)>,
    now: Option<chrono::DateTime<chrono::Utc>>,
) {
    let Some((lo, hi)) = span else {
        return;
    };
    let total = (hi - lo).num_seconds().max(1) as f64;
    let at = |t: chrono::DateTime<chrono::Utc>| ((t - lo).num_seconds() as f64 / total * 100.0).clamp(0.0, 100.0);
    b.markup("<div class=\"tl\" aria-hidden=\"true\">");
    if let Some(start) = w.start_at() {
        let end = w.end_at().map_or(100.0, at);
        let left = at(start);
        let style = format!("left:{left:.2}%;width:{:.2}%", (end - left).max(0.5));
        let class = if w.end.is_none() { "bar open" } else { "bar" };
        b.open("span", &[("class", class), ("style", &style)]).close("span");
    }
    if let Some(now) = now {
        let style = format!("left:{:.2}%", at(now));
        b.open("span", &[("class", "now"), ("style", &style)]).close("span");
    }
    b.markup("</div>");
}
