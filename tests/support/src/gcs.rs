//! A real gcp-storage-emulator (a Google Cloud Storage JSON API server, pinned in
//! tests/interop/requirements.txt) on 127.0.0.1, for the GCS push's tests: started from
//! `$TRUSTROOT_TEST_PYTHON -m gcp_storage_emulator start` on a free port, in memory, with
//! one bucket made at start, waited for, and killed by its pid when dropped.
//!
//! The emulator checks no credentials, serves every object anonymously at
//! `/BUCKET/KEY`, and does not enforce `ifGenerationMatch`: the GCS tests cannot show a
//! refused credential or a refused concurrent manifest write, only real GCS can.
//!
//! A missing emulator fails the test loudly: these tests never skip.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::public_get::public_get;

/// A running emulator; killed (by pid) when dropped.
pub struct GcsEmulator {
    child: Child,
    port: u16,
    /// The emulator's working directory (it keeps nothing there in memory, but must not
    /// write into the test's).
    _workspace: tempfile::TempDir,
}

impl GcsEmulator {
    /// Starts the emulator on a free loopback port with `bucket` created, and waits until
    /// it answers.
    pub fn start(bucket: &str) -> GcsEmulator {
        let python = crate::moto::python();
        let workspace = tempfile::tempdir().unwrap();
        // A port the kernel hands out, released just before the emulator binds it.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&python)
            .args(["-m", "gcp_storage_emulator", "start", "-H", "127.0.0.1"])
            .args([
                "--port",
                &port.to_string(),
                "--default-bucket",
                bucket,
                "--in-memory",
                "--quiet",
            ])
            .current_dir(workspace.path())
            .env_remove("STORAGE_EMULATOR_HOST")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start gcp-storage-emulator with {}: {e}", python.display()));
        let mut server = GcsEmulator {
            child,
            port,
            _workspace: workspace,
        };
        server.wait_ready();
        server
    }

    /// `http://127.0.0.1:PORT`: what `--endpoint` (or `STORAGE_EMULATOR_HOST`) is set to.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT/BUCKET/PREFIX/`: the address clients read from anonymously.
    pub fn public_url(&self, bucket: &str, prefix: &str) -> String {
        format!("{}/{bucket}/{prefix}/", self.endpoint())
    }

    /// The JSON API's resource of object `key` in `bucket` (its size, generation,
    /// contentType, cacheControl...), `None` when there is no such object.
    pub fn object(&self, bucket: &str, key: &str) -> Option<serde_json::Value> {
        let encoded = percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC);
        let answer = public_get(&format!("{}/storage/v1/b/{bucket}/o/{encoded}", self.endpoint()));
        match answer.status {
            200 => Some(serde_json::from_slice(&answer.body).unwrap()),
            404 => None,
            status => panic!("GET the object resource of {key}: {status}"),
        }
    }

    /// Every object in `bucket`: `key size contentType | cacheControl | generation`, a
    /// line each, sorted.
    pub fn listing(&self, bucket: &str) -> String {
        let answer = public_get(&format!("{}/storage/v1/b/{bucket}/o", self.endpoint()));
        assert_eq!(answer.status, 200, "listing {bucket}");
        let listed: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
        let mut lines: Vec<String> = listed["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|o| {
                format!(
                    "{} {} {} | {} | {}",
                    o["name"].as_str().unwrap_or_default(),
                    o["size"].as_str().unwrap_or_default(),
                    o["contentType"].as_str().unwrap_or_default(),
                    o["cacheControl"].as_str().unwrap_or_default(),
                    o["generation"].as_str().unwrap_or_default()
                )
            })
            .collect();
        lines.sort();
        lines.join("\n")
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "gcp-storage-emulator exited ({status}) before answering: is it installed in \
                     $TRUSTROOT_TEST_PYTHON's venv? (scripts/test.sh installs tests/interop/requirements.txt)"
                );
            }
            if crate::moto::answers(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("gcp-storage-emulator did not answer on port {} within 60 s", self.port);
    }
}

impl Drop for GcsEmulator {
    fn drop(&mut self) {
        // Our own child, by its pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
