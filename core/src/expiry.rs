//! Expiry as data: given roles' `expires` and a time, which roles have expired, which expire
//! within a window, and which expires first. Pure: callers read the metadata and the clock.

use chrono::{DateTime, Duration, Utc};

/// Where one role stands at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Valid beyond the window.
    Valid,
    /// Still valid, but expires within the window.
    Within,
    /// Expired (a client refuses it from its `expires` on).
    Expired,
}

impl State {
    /// The state of a role that `expires`, at `now`, for a window of `within`.
    pub fn of(expires: DateTime<Utc>, now: DateTime<Utc>, within: Duration) -> State {
        if now >= expires {
            State::Expired
        } else if expires - now <= within {
            State::Within
        } else {
            State::Valid
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Valid => "valid",
            State::Within => "within",
            State::Expired => "expired",
        }
    }
}

/// What a set of roles' expiries says at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Each role's state, in the order given.
    pub states: Vec<State>,
    /// The worst state of any role (`Valid` when there is none).
    pub worst: State,
    /// The index of the role that expires first, and its expiry.
    pub earliest: Option<(usize, DateTime<Utc>)>,
}

/// The window that applies to `role`: timestamp and snapshot are re-signed by the online
/// key (from cron) and normally always expire within days, so they alert only when they are
/// within `online_within` (refreshes stopped); every other role needs a ceremony and alerts
/// within `within`.
pub fn window_for(role: &str, within: Duration, online_within: Duration) -> Duration {
    match role {
        "timestamp" | "snapshot" => within.min(online_within),
        _ => within,
    }
}

/// The metadata field (tuf-on-ci's) naming a role's signing period, in days: how long
/// before its expiry the role is due to be re-signed.
pub const SIGNING_PERIOD_FIELD: &str = "x-tuf-on-ci-signing-period";

/// The signing period, in days, a role's `signed` object declares, when it declares one.
pub fn declared_signing_days(signed: &serde_json::Value) -> Option<u32> {
    signed
        .get(SIGNING_PERIOD_FIELD)
        .and_then(serde_json::Value::as_u64)
        .and_then(|d| u32::try_from(d).ok())
}

/// The signing period of a role that declares none: 1 day for timestamp and snapshot
/// (re-signed by the online key), 30 days for every role that needs a ceremony.
pub fn default_signing_days(role: &str) -> u32 {
    match role {
        "timestamp" | "snapshot" => 1,
        _ => 30,
    }
}

/// The window `expiry` uses for `role` when `within` and `online_within` may be absent:
/// with neither, the role's own signing period (`signing_days`, else
/// [`default_signing_days`]); `within` overrides it for every role (timestamp and
/// snapshot: the shorter of it and `online_within`, 2 days unless given), and
/// `online_within` alone overrides it for timestamp and snapshot.
pub fn default_window(
    role: &str,
    within: Option<Duration>,
    online_within: Option<Duration>,
    signing_days: Option<u32>,
) -> Duration {
    let period = Duration::days(i64::from(signing_days.unwrap_or_else(|| default_signing_days(role))));
    let online = matches!(role, "timestamp" | "snapshot");
    match (within, online_within) {
        (Some(w), o) => window_for(role, w, o.unwrap_or(Duration::days(2))),
        (None, Some(o)) if online => o,
        _ => period,
    }
}

/// Summarises roles, each given as its expiry and the window that applies to it, at `now`.
pub fn summarize(roles: &[(DateTime<Utc>, Duration)], now: DateTime<Utc>) -> Summary {
    let states: Vec<State> = roles.iter().map(|(e, w)| State::of(*e, now, *w)).collect();
    let expires: Vec<DateTime<Utc>> = roles.iter().map(|(e, _)| *e).collect();
    let worst = states.iter().copied().max().unwrap_or(State::Valid);
    let earliest = expires.iter().copied().enumerate().min_by_key(|(_, e)| *e);
    Summary {
        states,
        worst,
        earliest,
    }
}

/// Time left as "12d 3h" (or "expired 2d 1h ago").
pub fn describe_left(expires: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let left = expires - now;
    let (past, left) = if left < Duration::zero() {
        (true, -left)
    } else {
        (false, left)
    };
    let days = left.num_days();
    let hours = left.num_hours() - days * 24;
    let text = if days > 0 {
        format!("{days}d {hours}h")
    } else {
        format!("{hours}h {}m", left.num_minutes() - left.num_hours() * 60)
    };
    if past { format!("expired {text} ago") } else { text }
}

/// Parses a window like `30d`, `12h`, `90m`, `45s` or `2w`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(seconds).and_then(Duration::try_seconds)
}

/// When `expires` is, from `now`, for a sentence about one role: "expires TIME (2.5 days
/// from now)" or "expired TIME (3.0 days ago)", never a negative count of days.
pub fn expires_phrase(expires: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let days = (expires - now).num_hours() as f64 / 24.0;
    let at = crate::time::format(&expires);
    if expires > now {
        format!("expires {at} ({days:.1} days from now)")
    } else {
        format!("expired {at} ({:.1} days ago)", -days)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn t(text: &str) -> DateTime<Utc> {
        crate::time::parse(text).unwrap()
    }

    #[test]
    fn an_expiry_in_the_past_reads_as_days_ago_not_negative_days_from_now() {
        let now = t("2030-01-10T00:00:00Z");
        assert_eq!(
            expires_phrase(t("2030-01-07T00:00:00Z"), now),
            "expired 2030-01-07T00:00:00Z (3.0 days ago)"
        );
        assert_eq!(
            expires_phrase(t("2030-01-12T12:00:00Z"), now),
            "expires 2030-01-12T12:00:00Z (2.5 days from now)"
        );
    }

    #[test]
    fn states_at_the_edges() {
        let now = t("2030-01-01T00:00:00Z");
        let within = Duration::days(30);
        assert_eq!(State::of(t("2030-01-01T00:00:00Z"), now, within), State::Expired);
        assert_eq!(State::of(t("2029-12-01T00:00:00Z"), now, within), State::Expired);
        assert_eq!(State::of(t("2030-01-31T00:00:00Z"), now, within), State::Within);
        assert_eq!(State::of(t("2030-01-31T00:00:01Z"), now, within), State::Valid);
        assert_eq!(
            State::of(t("2030-01-01T00:00:01Z"), now, Duration::zero()),
            State::Valid
        );
    }

    #[test]
    fn summary_names_the_worst_and_the_earliest() {
        let now = t("2030-01-01T00:00:00Z");
        let expires = [
            t("2031-01-01T00:00:00Z"),
            t("2030-01-05T00:00:00Z"),
            t("2030-06-01T00:00:00Z"),
        ];
        let w = |d| expires.iter().map(|e| (*e, Duration::days(d))).collect::<Vec<_>>();
        let s = summarize(&w(30), now);
        assert_eq!(s.states, vec![State::Valid, State::Within, State::Valid]);
        assert_eq!(s.worst, State::Within);
        assert_eq!(s.earliest, Some((1, expires[1])));
        let s = summarize(&w(1), t("2030-02-01T00:00:00Z"));
        assert_eq!(s.worst, State::Expired);
        assert_eq!(summarize(&[], now).worst, State::Valid);
        let d = Duration::days;
        assert_eq!(window_for("timestamp", d(30), d(2)), d(2));
        assert_eq!(window_for("snapshot", d(1), d(2)), d(1));
        assert_eq!(window_for("root", d(30), d(2)), d(30));
    }

    #[test]
    fn without_a_window_each_role_alerts_inside_its_own_signing_period() {
        let d = Duration::days;
        assert_eq!(default_window("timestamp", None, None, None), d(1));
        assert_eq!(default_window("snapshot", None, None, None), d(1));
        assert_eq!(default_window("root", None, None, None), d(30));
        assert_eq!(default_window("role1", None, None, None), d(30));
        assert_eq!(default_window("root", None, None, Some(60)), d(60));
        assert_eq!(default_window("timestamp", None, None, Some(3)), d(3));
        // --within and --online-within override the period.
        assert_eq!(default_window("root", Some(d(10)), None, Some(60)), d(10));
        assert_eq!(default_window("timestamp", Some(d(10)), None, Some(3)), d(2));
        assert_eq!(default_window("timestamp", Some(d(10)), Some(d(5)), None), d(5));
        assert_eq!(default_window("timestamp", None, Some(d(5)), None), d(5));
        assert_eq!(default_window("root", None, Some(d(5)), Some(40)), d(40));
        let signed = serde_json::json!({"x-tuf-on-ci-signing-period": 46});
        assert_eq!(declared_signing_days(&signed), Some(46));
        assert_eq!(declared_signing_days(&serde_json::json!({})), None);
    }

    #[test]
    fn durations_and_descriptions() {
        assert_eq!(parse_duration("30d"), Some(Duration::days(30)));
        assert_eq!(parse_duration("12h"), Some(Duration::hours(12)));
        assert_eq!(parse_duration("2w"), Some(Duration::days(14)));
        assert_eq!(parse_duration("0s"), Some(Duration::zero()));
        for bad in ["", "d", "30", "30y", "-3d", "99999999999999999999d", "3 d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        let now = t("2030-01-01T00:00:00Z");
        assert_eq!(describe_left(t("2030-01-03T05:00:00Z"), now), "2d 5h");
        assert_eq!(describe_left(t("2030-01-01T05:30:00Z"), now), "5h 30m");
        assert_eq!(describe_left(t("2029-12-30T00:00:00Z"), now), "expired 2d 0h ago");
    }
}
