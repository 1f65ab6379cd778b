//! What the object-store push tests share: a published repository, a backend opened with
//! a given environment, and python-tuf updating from a store's public address.
#![allow(clippy::unwrap_used, clippy::panic, dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};

use chrono::{TimeZone as _, Utc};
use trustroot_store::object::{Connect, Destination, ObjectError, PushOptions, StoreBackend};
use trustroot_test_support::RepoSim;

/// A published repository (v1, one target) written as the local publish serves it.
pub fn published(dir: &Path) -> RepoSim {
    let mut sim = RepoSim::new(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap());
    sim.add_target("targets", "trusted_root.json", b"{\"mediaType\":\"trusted-root\"}");
    sim.publish();
    sim.write_published(dir).unwrap();
    sim
}

/// The next version of `sim` (one more target), written over `dir`.
pub fn next_version(sim: &mut RepoSim, dir: &Path) {
    sim.add_target("targets", "signing_config.json", b"{\"mediaType\":\"signing-config\"}");
    sim.publish();
    sim.write_published(dir).unwrap();
}

/// Opens `url` with `endpoint` and exactly the environment `env` (nothing of the
/// machine's own cloud set-up), no retries.
pub fn open(url: &str, endpoint: Option<String>, env: &[(String, String)]) -> Result<StoreBackend, ObjectError> {
    let connect = Connect {
        endpoint,
        retries: 0,
        ..Connect::default()
    };
    open_with(url, &connect, env)
}

/// [`open`] with `connect` as given.
pub fn open_with(url: &str, connect: &Connect, env: &[(String, String)]) -> Result<StoreBackend, ObjectError> {
    let env: HashMap<String, String> = env.iter().cloned().collect();
    let lookup = move |name: &str| env.get(name).cloned();
    let destination = Destination::parse(url, Path::new("/")).unwrap();
    StoreBackend::open(&destination, connect, &lookup).map(|(backend, _)| backend)
}

pub fn options() -> PushOptions {
    PushOptions::new(Utc::now())
}

/// python-tuf's ngclient, trusting `root`, updating from `base` and downloading
/// trusted_root.json.
pub fn python_tuf_updates(root: &[u8], base: &str) -> Output {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("root.json"), root).unwrap();
    for dir in ["metadata", "targets"] {
        std::fs::create_dir(work.path().join(dir)).unwrap();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/ngclient.py");
    Command::new(trustroot_test_support::moto::python())
        .arg(script)
        .arg("--root")
        .arg(work.path().join("root.json"))
        .args(["--metadata-url", base, "--target-base-url", &format!("{base}targets/")])
        .arg("--metadata-dir")
        .arg(work.path().join("metadata"))
        .arg("--target-dir")
        .arg(work.path().join("targets"))
        .args(["--target", "trusted_root.json"])
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .output()
        .unwrap()
}

/// python-tuf updated; what it printed otherwise.
pub fn assert_updates(root: &[u8], base: &str) {
    let out = python_tuf_updates(root, base);
    assert!(
        out.status.success(),
        "python-tuf from {base}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
