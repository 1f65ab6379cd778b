//! A SoftHSM2 token store of its own (Debian's softhsm2, a real PKCS#11 module, installed
//! by scripts/test.sh) in a temporary directory, for the tests and benchmarks of keys on
//! tokens. Every process that opens the module is given [`SoftHsm::conf`] as
//! `SOFTHSM2_CONF`, so the machine's own tokens are never touched.
//!
//! A missing softhsm2 or opensc fails loudly: these tests never skip.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

/// Debian's SoftHSM2 module.
pub const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The security officer PIN of every token made here.
pub const SO_PIN: &str = "12345678";

/// A token store in a temporary directory, removed when dropped.
pub struct SoftHsm {
    dir: tempfile::TempDir,
}

impl SoftHsm {
    /// An empty token store.
    pub fn new() -> SoftHsm {
        assert!(
            Path::new(SOFTHSM).is_file(),
            "{SOFTHSM} is missing: scripts/test.sh installs Debian's softhsm2"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tokens")).unwrap();
        std::fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.path().join("tokens").display()
            ),
        )
        .unwrap();
        SoftHsm { dir }
    }

    /// The configuration file: what `SOFTHSM2_CONF` is set to.
    pub fn conf(&self) -> String {
        self.dir.path().join("softhsm2.conf").display().to_string()
    }

    /// A new token `label` with user PIN `pin`.
    pub fn token(&self, label: &str, pin: &str) {
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", self.conf())
            .args([
                "--init-token",
                "--free",
                "--label",
                label,
                "--so-pin",
                SO_PIN,
                "--pin",
                pin,
            ])
            .output()
            .expect("softhsm2-util (Debian softhsm2) must be installed: scripts/test.sh installs it");
        assert!(out.status.success(), "softhsm2-util: {}", text(&out));
    }

    /// Runs pkcs11-tool (Debian opensc) on token `label`: keys of types trustroot does not
    /// generate (RSA, P-384), and lone public key objects.
    pub fn pkcs11_tool(&self, label: &str, pin: &str, args: &[&str]) {
        let out = Command::new("pkcs11-tool")
            .env("SOFTHSM2_CONF", self.conf())
            .args(["--module", SOFTHSM, "--token-label", label, "--login", "--pin", pin])
            .args(args)
            .output()
            .expect("pkcs11-tool (Debian opensc) must be installed: scripts/test.sh installs it");
        assert!(out.status.success(), "pkcs11-tool {args:?}: {}", text(&out));
    }

    /// The environment a trustroot process needs to use these tokens: the token store, the
    /// module, and the PIN when given.
    pub fn env(&self, pin: Option<&str>) -> Vec<(String, String)> {
        let mut env = vec![
            ("SOFTHSM2_CONF".to_string(), self.conf()),
            ("TRUSTROOT_PKCS11_MODULE".to_string(), SOFTHSM.to_string()),
        ];
        if let Some(pin) = pin {
            env.push(("TRUSTROOT_PKCS11_PIN".to_string(), pin.to_string()));
        }
        env
    }
}

impl Default for SoftHsm {
    fn default() -> SoftHsm {
        SoftHsm::new()
    }
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
