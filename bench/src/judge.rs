//! The targets, judged from a run's rows, and the sizes as the table shows them.

use crate::measure::Row;

/// A size in B, KiB or MiB.
pub fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} B")
    }
}

/// The targets, judged from the rows.
pub fn judge(rows: &[Row], quick: bool) -> String {
    let find = |task_prefix: &str, tool: &str| {
        rows.iter()
            .find(|r| r.task.starts_with(task_prefix) && r.tool == tool && r.measured.ok())
    };
    let secs = |r: &Row| r.measured.wall.as_secs_f64();
    let mb = |r: &Row| r.measured.rss_kib.map_or(f64::NAN, |k| k as f64 / 1024.0);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let tr = "trustroot mirror sync";
    let floor = "curl -Z --parallel-max 8 (floor)";
    let mut out = String::new();
    if quick {
        out.push_str("(--quick: sizes are one tenth of the targets' sizes; these verdicts mean little)\n");
    }
    match (find("mirror small", tr), find("mirror small", floor)) {
        (Some(t), Some(f)) => {
            let ratio = secs(t) / secs(f);
            out.push_str(&format!(
                "- {}: 10,000 small targets within 1.5x of the curl floor: {:.3} s vs {:.3} s = {ratio:.2}x\n",
                verdict(ratio <= 1.5),
                secs(t),
                secs(f)
            ));
        }
        _ => out.push_str("- not measured: mirror of small targets\n"),
    }
    match (
        find("mirror large", tr),
        find("mirror large", floor),
        find("mirror small", tr),
    ) {
        (Some(t), Some(f), small) => {
            let share = secs(f) / secs(t);
            out.push_str(&format!(
                "- {}: 20 x 50 MiB at 90% of the floor's throughput or better: {:.0}% ({:.3} s vs {:.3} s); peak RSS {:.1} MB (small targets: {})\n",
                verdict(share >= 0.9),
                share * 100.0,
                secs(t),
                secs(f),
                mb(t),
                small.map_or("-".into(), |s| format!("{:.1} MB", mb(s)))
            ));
        }
        _ => out.push_str("- not measured: mirror of large targets\n"),
    }
    match find("mirror small", "trustroot mirror sync, nothing changed") {
        Some(r) => {
            let requests = r.requests.unwrap_or(0);
            out.push_str(&format!(
                "- {}: no-change re-sync in two requests and under 0.2 s: {requests} requests, {:.3} s\n",
                verdict(requests <= 2 && secs(r) < 0.2),
                secs(r)
            ));
        }
        None => out.push_str("- not measured: no-change re-sync\n"),
    }
    match find("mirror chain", tr) {
        Some(r) => out.push_str(&format!(
            "- {}: the 500-version root chain in under 0.25 s: {:.3} s (whole `mirror sync`, {} requests)\n",
            verdict(secs(r) < 0.25),
            secs(r),
            r.requests.unwrap_or(0)
        )),
        None => out.push_str("- not measured: root chain\n"),
    }
    match find("resolve", "trustroot-core TrustedSet") {
        Some(r) => out.push_str(&format!(
            "- {}: 10,000 targets resolved through hashed bins in under 0.1 s: {:.3} s\n",
            verdict(secs(r) < 0.1),
            secs(r)
        )),
        None => out.push_str("- not measured: hashed bins\n"),
    }
    if let Some(r) = find("resolve", "trustroot-core TrustedSet, resolution only") {
        out.push_str(&format!(
            "- {}: 10,000 targets resolved through 256 hashed bins in at most 50 ms (the metadata verified): {:.3} s\n",
            verdict(secs(r) <= 0.05),
            secs(r)
        ));
    }
    let big = if quick {
        "sign a targets role of 10000 "
    } else {
        "sign a targets role of 100000 "
    };
    match find(big, "trustroot (TargetsRole, streamed)") {
        Some(r) => out.push_str(&format!(
            "- {}: signing 100,000 targets in under 1 s with peak RSS under 50 MB: {:.3} s, {:.1} MB\n",
            verdict(secs(r) < 1.0 && mb(r) < 50.0),
            secs(r),
            mb(r)
        )),
        None => out.push_str("- not measured: signing\n"),
    }
    out
}
