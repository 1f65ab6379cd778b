//! Peak memory and time of verifying one large top-level targets role, the heaviest step of
//! a mirror sync of a repository with many targets (issue 24).
//!
//!     cargo run --release -p trustroot-core --example targets_peak -- [ENTRIES] [--unsorted]
//!
//! Builds root, timestamp, snapshot and a targets role of ENTRIES targets (default 100,000;
//! each a path, a length and a sha256), signed with an ed25519 key, then measures a fresh
//! process of itself loading them with `TrustedSet`: peak RSS (VmHWM, Linux) before and
//! after `update_targets`, and its wall time. `--unsorted` writes every object's keys in
//! reverse order, so the canonical form must reorder each one. (A counting allocator would
//! need `unsafe`, which the workspace forbids; peak RSS over a baseline is what a mirror's
//! operator sees anyway.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::path::Path;
use std::time::Instant;

use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{Value, json};
use trustroot_core::canonical::to_canonical_bytes;
use trustroot_core::{Limits, TrustedSet};

const EXPIRES: &str = "2030-01-01T00:00:00Z";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("measure") {
        measure(Path::new(&args[1]));
        return;
    }
    let unsorted = args.iter().any(|a| a == "--unsorted");
    let entries: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("trustroot-targets-peak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    write_repository(&dir, entries, unsorted);
    let size = std::fs::metadata(dir.join("targets.json")).unwrap().len();
    println!(
        "targets role: {entries} entries, {:.1} MB{}",
        size as f64 / 1e6,
        if unsorted { ", keys unsorted" } else { "" }
    );
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("measure")
        .arg(&dir)
        .status()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(status.success());
}

/// Loads the repository in `dir` and prints the peak RSS and time of `update_targets`.
fn measure(dir: &Path) {
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    let now = trustroot_core::time::parse("2026-01-01T00:00:00Z").unwrap();
    let mut set = TrustedSet::new(&read("root.json"), now, Limits::default()).unwrap();
    set.update_timestamp(&read("timestamp.json")).unwrap();
    set.update_snapshot(&read("snapshot.json"), false).unwrap();
    let targets = read("targets.json");
    let baseline = peak_rss_kb();
    let start = Instant::now();
    set.update_targets(&targets).unwrap();
    let elapsed = start.elapsed();
    let peak = peak_rss_kb();
    let listed = set.targets("targets").unwrap().signed().targets.len();
    println!(
        "update_targets: {:.0} ms; peak RSS {:.1} MB (baseline with the role's bytes read: {:.1} MB, +{:.1} MB); {listed} targets trusted",
        elapsed.as_secs_f64() * 1e3,
        peak as f64 / 1024.0,
        baseline as f64 / 1024.0,
        (peak - baseline) as f64 / 1024.0,
    );
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status (Linux only)")
}

fn write_repository(dir: &Path, entries: usize, unsorted: bool) {
    let signing = SigningKey::from_bytes(&[7; 32]);
    let public = json!({
        "keytype": "ed25519",
        "scheme": "ed25519",
        "keyval": {"public": hex::encode(signing.verifying_key().to_bytes())},
    });
    let keyid = trustroot_core::hashes::sha256_hex(&to_canonical_bytes(&public).unwrap());
    let write = |name: &str, signed: Value| {
        let canonical = to_canonical_bytes(&signed).unwrap();
        let sig = hex::encode(signing.sign(&canonical).to_bytes());
        let envelope = json!({"signed": signed, "signatures": [{"keyid": keyid, "sig": sig}]});
        let mut text = Vec::new();
        write_json(&envelope, unsorted, &mut text);
        std::fs::write(dir.join(name), text).unwrap();
    };
    let roles: serde_json::Map<String, Value> = ["root", "timestamp", "snapshot", "targets"]
        .iter()
        .map(|r| (r.to_string(), json!({"keyids": [keyid], "threshold": 1})))
        .collect();
    write(
        "root.json",
        json!({
            "_type": "root", "spec_version": "1.0.31", "version": 1, "expires": EXPIRES,
            "consistent_snapshot": false, "keys": {keyid.clone(): public}, "roles": roles,
        }),
    );
    write(
        "timestamp.json",
        json!({"_type": "timestamp", "spec_version": "1.0.31", "version": 1, "expires": EXPIRES,
               "meta": {"snapshot.json": {"version": 1}}}),
    );
    write(
        "snapshot.json",
        json!({"_type": "snapshot", "spec_version": "1.0.31", "version": 1, "expires": EXPIRES,
               "meta": {"targets.json": {"version": 1}}}),
    );
    let targets: serde_json::Map<String, Value> = (0..entries)
        .map(|i| {
            let path = format!("packages/pkg-{:06}/pkg-{i}-1.0.{}.tar.gz", i / 3, i % 7);
            let digest = trustroot_core::hashes::sha256_hex(path.as_bytes());
            (path, json!({"length": 1000 + i, "hashes": {"sha256": digest}}))
        })
        .collect();
    write(
        "targets.json",
        json!({"_type": "targets", "spec_version": "1.0.31", "version": 1, "expires": EXPIRES, "targets": targets}),
    );
}

/// Compact JSON, object keys sorted (as python-tuf writes them) or in reverse order.
fn write_json(value: &Value, reversed: bool, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            out.push(b'{');
            let mut members: Vec<_> = map.iter().collect();
            if reversed {
                members.reverse();
            }
            for (i, (key, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key).unwrap();
                out.push(b':');
                write_json(item, reversed, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(item, reversed, out);
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar).unwrap(),
    }
}
