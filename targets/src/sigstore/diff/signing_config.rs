//! Signing configs: v0.2 services paired old to new, v0.1 URLs as sets.

use trustroot_core::display::escape;

use super::{
    Change, ChangeKind, Reformat, change, diff_extra, diff_opt_str, diff_window, pair, push_reformat, reorder_note,
    upper_first, window_words,
};
use crate::sigstore::signing_config::{Service, ServiceConfiguration, ServiceKind, SigningConfig, SigningConfigV02};

fn service_words(kind: ServiceKind, s: &Service) -> String {
    format!(
        "{} {} (API v{}{})",
        kind.noun(),
        s.url.as_deref().unwrap_or("(no url)"),
        s.major_api_version.map_or("?".into(), |v| v.to_string()),
        s.operator
            .as_deref()
            .map_or(String::new(), |o| format!(", operator {o}"))
    )
}

fn selector_words(c: Option<&ServiceConfiguration>) -> String {
    match c {
        None => "none".into(),
        Some(c) => match (c.selector.as_deref(), c.count) {
            (Some(s), Some(n)) => format!("{} (count {n})", escape(s)),
            (Some(s), None) => s.into(),
            (None, _) => "no selector".into(),
        },
    }
}

fn diff_v02(old: &SigningConfigV02, new: &SigningConfigV02, out: &mut Vec<Change>) {
    let mut rf = Reformat::default();
    for kind in ServiceKind::ALL {
        let field = kind.field();
        let (o, n) = (old.services(kind), new.services(kind));
        let (pairs, removed, added) = pair(o, n, |s| Some((s.url.clone(), s.major_api_version)), |_| None::<()>);
        for i in removed {
            out.push(change(
                ChangeKind::Removed,
                format!("$.{field}[{i}]"),
                format!(
                    "Removed {}: clients stop using it for new signatures.",
                    service_words(kind, &o[i])
                ),
                false,
            ));
        }
        let old_max = o.iter().filter_map(|s| s.major_api_version).max();
        for &j in &added {
            let s = &n[j];
            let newer_api =
                kind == ServiceKind::Rekor && old_max.is_some_and(|m| s.major_api_version.is_some_and(|v| v > m));
            out.push(change(
                ChangeKind::Added,
                format!("$.{field}[{j}]"),
                format!(
                    "Added {}, {}.{}",
                    service_words(kind, s),
                    window_words(s.valid_for.as_ref()),
                    if newer_api {
                        " Clients that support this API version will write to it from its start; older verifiers cannot verify those entries (sigstore/root-signing#1548)."
                    } else {
                        ""
                    }
                ),
                newer_api,
            ));
        }
        for &(i, j) in &pairs {
            let (a, b) = (&o[i], &n[j]);
            let what = upper_first(&service_words(kind, b));
            let p = format!("$.{field}[{j}]");
            diff_opt_str(
                &what,
                "operator",
                &p,
                a.operator.as_deref(),
                b.operator.as_deref(),
                out,
                false,
            );
            diff_window(
                &what,
                &format!("{p}.validFor"),
                a.valid_for.as_ref(),
                b.valid_for.as_ref(),
                out,
                &mut rf,
            );
            diff_extra(&what, &p, &a.extra, &b.extra, out);
        }
        reorder_note(field, kind.noun(), &pairs, out);
    }
    for (name, a, b) in [
        (
            "rekorTlogConfig",
            old.rekor_tlog_config.as_ref(),
            new.rekor_tlog_config.as_ref(),
        ),
        ("tsaConfig", old.tsa_config.as_ref(), new.tsa_config.as_ref()),
    ] {
        if a != b {
            out.push(change(
                ChangeKind::Changed,
                format!("$.{name}"),
                format!("{name} changed from {} to {}.", selector_words(a), selector_words(b)),
                false,
            ));
        }
    }
    diff_extra("The signing config", "$", &old.extra, &new.extra, out);
    push_reformat(rf, out);
}

/// Diffs two signing configs.
pub fn diff_signing_configs(old: &SigningConfig, new: &SigningConfig) -> Vec<Change> {
    let mut out = Vec::new();
    match (old, new) {
        (SigningConfig::V02(a), SigningConfig::V02(b)) => {
            if a.media_type != b.media_type {
                out.push(change(
                    ChangeKind::Changed,
                    "$.mediaType".into(),
                    format!(
                        "Media type changed from {} to {}.",
                        a.media_type.as_deref().unwrap_or("none"),
                        b.media_type.as_deref().unwrap_or("none")
                    ),
                    false,
                ));
            }
            diff_v02(a, b, &mut out);
        }
        (SigningConfig::V01(a), SigningConfig::V01(b)) => {
            if a.media_type != b.media_type {
                out.push(change(
                    ChangeKind::Changed,
                    "$.mediaType".into(),
                    format!(
                        "Media type changed from {} to {}.",
                        a.media_type.as_deref().unwrap_or("none"),
                        b.media_type.as_deref().unwrap_or("none")
                    ),
                    false,
                ));
            }
            diff_opt_str(
                "The signing config",
                "caUrl",
                "$",
                a.ca_url.as_deref(),
                b.ca_url.as_deref(),
                &mut out,
                false,
            );
            diff_opt_str(
                "The signing config",
                "oidcUrl",
                "$",
                a.oidc_url.as_deref(),
                b.oidc_url.as_deref(),
                &mut out,
                false,
            );
            for (field, x, y) in [
                ("tlogUrls", &a.tlog_urls, &b.tlog_urls),
                ("tsaUrls", &a.tsa_urls, &b.tsa_urls),
            ] {
                let x = x.clone().unwrap_or_default();
                let y = y.clone().unwrap_or_default();
                for u in y.iter().filter(|u| !x.contains(u)) {
                    out.push(change(
                        ChangeKind::Added,
                        format!("$.{field}"),
                        format!("Added {} to {field}.", escape(u)),
                        false,
                    ));
                }
                for u in x.iter().filter(|u| !y.contains(u)) {
                    out.push(change(
                        ChangeKind::Removed,
                        format!("$.{field}"),
                        format!("Removed {} from {field}.", escape(u)),
                        false,
                    ));
                }
            }
            diff_extra("The signing config", "$", &a.extra, &b.extra, &mut out);
        }
        (a, b) => {
            let v = |c: &SigningConfig| match c {
                SigningConfig::V01(_) => "v0.1",
                SigningConfig::V02(_) => "v0.2",
            };
            out.push(change(
                ChangeKind::Changed,
                "$".into(),
                format!(
                    "The signing config changed format from {} to {}; compare the services by hand.",
                    v(a),
                    v(b)
                ),
                true,
            ));
        }
    }
    out
}
