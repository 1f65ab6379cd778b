//! What changed between two versions of a trusted root or signing config, in sentences an
//! operator can paste into a ceremony announcement. Changes that can break verification of
//! existing signatures, or that deployed clients may not handle, are marked `attention`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use trustroot_core::display::escape;

use super::time;
use super::trusted_root::TimeRange;

mod signing_config;
mod trusted_root;

pub use signing_config::diff_signing_configs;
pub use trusted_root::diff_trusted_roots;

/// The kind of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    Added,
    Removed,
    /// A validity window got an end.
    Retired,
    Changed,
    Reordered,
    /// Timestamps rewritten in another notation, naming the same instants.
    Reformatted,
}

/// One change, as a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    /// The JSON path in the new file (in the old one for removals).
    pub path: String,
    pub summary: String,
    /// Whether this can break verification or deployed clients; `summary` says why.
    pub attention: bool,
}

fn change(kind: ChangeKind, path: String, summary: String, attention: bool) -> Change {
    Change {
        kind,
        path,
        summary,
        attention,
    }
}

fn parse_t(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(|s| time::parse(s).ok()).map(|(t, _)| t)
}

fn show_t(s: &str) -> String {
    match time::parse(s) {
        Ok((t, _)) => time::format(&t),
        Err(_) => format!("`{}` (not a valid timestamp)", escape(s)),
    }
}

fn window_words(r: Option<&TimeRange>) -> String {
    let start = r.and_then(|r| r.start.as_deref());
    let end = r.and_then(|r| r.end.as_deref());
    match (start, end) {
        (Some(s), Some(e)) => format!("valid from {} until {}", show_t(s), show_t(e)),
        (Some(s), None) => format!("valid from {}, open-ended", show_t(s)),
        (None, Some(e)) => format!("valid until {} (no start)", show_t(e)),
        (None, None) => "with no validity window".into(),
    }
}

#[derive(Default)]
struct Reformat {
    count: usize,
    example: Option<(String, String)>,
}

/// Compares two validity windows of the same instance: the starts here, the ends in
/// `diff_window_end`.
fn diff_window(
    what: &str,
    path: &str,
    old: Option<&TimeRange>,
    new: Option<&TimeRange>,
    out: &mut Vec<Change>,
    ref_: &mut Reformat,
) {
    let os = old.and_then(|r| r.start.as_deref());
    let ns = new.and_then(|r| r.start.as_deref());
    if os != ns {
        match (parse_t(os), parse_t(ns)) {
            (Some(a), Some(b)) if a == b => {
                ref_.count += 1;
                ref_.example.get_or_insert((os.unwrap_or("").into(), ns.unwrap_or("").into()));
            }
            (Some(a), Some(b)) if b > a => out.push(change(
                ChangeKind::Changed,
                format!("{path}.start"),
                format!(
                    "{what}: start moved later, from {} to {}. Signatures made with it between those times no longer verify.",
                    time::format(&a),
                    time::format(&b)
                ),
                true,
            )),
            (Some(a), Some(b)) => out.push(change(
                ChangeKind::Changed,
                format!("{path}.start"),
                format!("{what}: start moved earlier, from {} to {}.", time::format(&a), time::format(&b)),
                false,
            )),
            _ => out.push(change(
                ChangeKind::Changed,
                format!("{path}.start"),
                format!(
                    "{what}: start changed from {} to {}.",
                    os.map_or("none".into(), show_t),
                    ns.map_or("none".into(), show_t)
                ),
                true,
            )),
        }
    }
    diff_window_end(what, path, old, new, out, ref_);
}

/// Compares the ends of two validity windows: retired, reopened, shortened or extended.
fn diff_window_end(
    what: &str,
    path: &str,
    old: Option<&TimeRange>,
    new: Option<&TimeRange>,
    out: &mut Vec<Change>,
    ref_: &mut Reformat,
) {
    let oe = old.and_then(|r| r.end.as_deref());
    let ne = new.and_then(|r| r.end.as_deref());
    if oe == ne {
        return;
    }
    let p = format!("{path}.end");
    match (oe, ne) {
        (None, Some(e)) => {
            let bad = parse_t(Some(e)).is_none();
            out.push(change(
                ChangeKind::Retired,
                p,
                format!(
                    "{what}: retired, valid until {}.{}",
                    show_t(e),
                    if bad { " Clients cannot parse that end: fix it before signing." } else { "" }
                ),
                bad,
            ));
        }
        (Some(e), None) => out.push(change(
            ChangeKind::Changed,
            p,
            format!("{what}: end {} removed; the window is open-ended again.", show_t(e)),
            false,
        )),
        (Some(a), Some(b)) => match (parse_t(Some(a)), parse_t(Some(b))) {
            (Some(x), Some(y)) if x == y => {
                ref_.count += 1;
                ref_.example.get_or_insert((a.into(), b.into()));
            }
            (Some(x), Some(y)) if y < x => out.push(change(
                ChangeKind::Changed,
                p,
                format!(
                    "{what}: window shortened, end moved from {} to {}. Signatures made with it between those times no longer verify.",
                    time::format(&x),
                    time::format(&y)
                ),
                true,
            )),
            (Some(x), Some(y)) => out.push(change(
                ChangeKind::Changed,
                p,
                format!("{what}: window extended, end moved from {} to {}.", time::format(&x), time::format(&y)),
                false,
            )),
            _ => out.push(change(
                ChangeKind::Changed,
                p,
                format!("{what}: end changed from {} to {}.", show_t(a), show_t(b)),
                parse_t(Some(b)).is_none(),
            )),
        },
        (None, None) => {}
    }
}

fn diff_extra(what: &str, path: &str, old: &Map<String, Value>, new: &Map<String, Value>, out: &mut Vec<Change>) {
    for (k, v) in new {
        match old.get(k) {
            None => out.push(change(
                ChangeKind::Added,
                format!("{path}.{k}"),
                format!(
                    "{what}: unknown field `{}` added; clients that reject unknown fields will reject the file.",
                    escape(k)
                ),
                true,
            )),
            Some(o) if o != v => out.push(change(
                ChangeKind::Changed,
                format!("{path}.{k}"),
                format!("{what}: field `{}` changed.", escape(k)),
                false,
            )),
            Some(_) => {}
        }
    }
    for k in old.keys().filter(|k| !new.contains_key(*k)) {
        out.push(change(
            ChangeKind::Removed,
            format!("{path}.{k}"),
            format!("{what}: field `{}` removed.", escape(k)),
            false,
        ));
    }
}

fn diff_opt_str(
    what: &str,
    field: &str,
    path: &str,
    old: Option<&str>,
    new: Option<&str>,
    out: &mut Vec<Change>,
    attention: bool,
) {
    if old == new {
        return;
    }
    let s = match (old, new) {
        (None, Some(n)) => format!("{what}: {field} set to {n}."),
        (Some(o), None) => format!("{what}: {field} {o} removed."),
        (Some(o), Some(n)) => format!("{what}: {field} changed from {o} to {n}."),
        (None, None) => return,
    };
    out.push(change(ChangeKind::Changed, format!("{path}.{field}"), s, attention));
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Pairs old and new items: first by `primary`, then the leftovers by `fallback`.
fn pair<T, K: PartialEq, F: PartialEq>(
    old: &[T],
    new: &[T],
    primary: impl Fn(&T) -> Option<K>,
    fallback: impl Fn(&T) -> Option<F>,
) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
    let mut pairs = Vec::new();
    let mut used_new = vec![false; new.len()];
    let mut unmatched_old = Vec::new();
    for (i, o) in old.iter().enumerate() {
        let k = primary(o);
        let hit = k
            .as_ref()
            .and_then(|k| (0..new.len()).find(|&j| !used_new[j] && primary(&new[j]).as_ref() == Some(k)));
        match hit {
            Some(j) => {
                used_new[j] = true;
                pairs.push((i, j));
            }
            None => unmatched_old.push(i),
        }
    }
    let mut removed = Vec::new();
    for i in unmatched_old {
        let k = fallback(&old[i]);
        let hit = k
            .as_ref()
            .and_then(|k| (0..new.len()).find(|&j| !used_new[j] && fallback(&new[j]).as_ref() == Some(k)));
        match hit {
            Some(j) => {
                used_new[j] = true;
                pairs.push((i, j));
            }
            None => removed.push(i),
        }
    }
    pairs.sort_by_key(|p| p.1);
    let added = (0..new.len()).filter(|&j| !used_new[j]).collect();
    (pairs, removed, added)
}

fn reorder_note(field: &str, noun: &str, pairs: &[(usize, usize)], out: &mut Vec<Change>) {
    // Pairs are sorted by new index; the old indices should then increase.
    if pairs.windows(2).any(|w| w[1].0 < w[0].0) {
        out.push(change(
            ChangeKind::Reordered,
            format!("$.{field}"),
            format!("The {noun} entries were reordered."),
            false,
        ));
    }
}

fn push_reformat(rf: Reformat, out: &mut Vec<Change>) {
    if let Some((a, b)) = rf.example {
        out.push(change(
            ChangeKind::Reformatted,
            "$".into(),
            format!(
                "{} timestamp{} rewritten without changing the time named (e.g. {a} -> {b}).",
                rf.count,
                if rf.count == 1 { "" } else { "s" }
            ),
            false,
        ));
    }
}
