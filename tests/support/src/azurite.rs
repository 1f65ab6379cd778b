//! A real Azurite (Microsoft's Azure Storage emulator, npm `azurite`, pinned in
//! tests/interop/azurite) blob service on 127.0.0.1, for the Azure push's tests: started
//! from `$TRUSTROOT_TEST_AZURITE` (its `azurite-blob`) on a free port, in memory, with
//! telemetry off (otherwise it reports to Microsoft), waited for, and killed by its pid
//! when dropped. Its account is Azurite's well-known development account.
//!
//! A missing Azurite fails the test loudly: these tests never skip.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// Azurite's one account, and its key: public, documented values, not secrets.
pub const ACCOUNT: &str = "devstoreaccount1";
pub const KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A running Azurite blob service; killed (by pid) when dropped.
pub struct AzuriteServer {
    child: Child,
    port: u16,
    /// Azurite's workspace (it keeps nothing there in memory, but must be given one that
    /// is not the test's working directory).
    _workspace: tempfile::TempDir,
}

impl AzuriteServer {
    /// Starts Azurite's blob service on a free loopback port and waits until it answers.
    pub fn start() -> AzuriteServer {
        let program = azurite();
        let workspace = tempfile::tempdir().unwrap();
        // A port the kernel hands out, released just before Azurite binds it.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&program)
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args([
                "--inMemoryPersistence",
                "--skipApiVersionCheck",
                "--disableTelemetry",
                "--silent",
            ])
            // Azurite refuses --location with --inMemoryPersistence; its working directory
            // is where it would put anything.
            .current_dir(workspace.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start Azurite with {}: {e}", program.display()));
        let mut server = AzuriteServer {
            child,
            port,
            _workspace: workspace,
        };
        server.wait_ready();
        server
    }

    /// `http://127.0.0.1:PORT/devstoreaccount1`: the account's blob endpoint, what
    /// `--endpoint` is set to for `az://` destinations.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.port)
    }

    /// The environment a client needs to sign as the account (and nothing of the
    /// machine's own Azure set-up).
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AZURE_STORAGE_ACCOUNT_NAME".into(), ACCOUNT.into()),
            ("AZURE_STORAGE_ACCOUNT_KEY".into(), KEY.into()),
        ]
    }

    /// `http://127.0.0.1:PORT/devstoreaccount1/CONTAINER/PREFIX/`: the address clients
    /// read from anonymously.
    pub fn public_url(&self, container: &str, prefix: &str) -> String {
        format!("{}/{container}/{prefix}/", self.endpoint())
    }

    /// Creates `container` with anonymous read access to its blobs (not to its listing),
    /// as a container served to the public is set up: `x-ms-blob-public-access: blob`.
    pub fn create_public_container(&self, container: &str) {
        let status = self.container_request(container, "blob");
        assert_eq!(status, 201, "creating the container {container} in Azurite");
    }

    /// `PUT /devstoreaccount1/CONTAINER?restype=container`, signed with the account key
    /// (SharedKey); returns the HTTP status.
    fn container_request(&self, container: &str, public_access: &str) -> u16 {
        let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        // Sorted by name, as the SharedKey string lists them.
        let ms_headers = [
            ("x-ms-blob-public-access", public_access),
            ("x-ms-date", date.as_str()),
            ("x-ms-version", "2021-08-06"),
        ];
        let path = format!("/{ACCOUNT}/{container}");
        // Azure's SharedKey string: the verb, eleven standard headers (all empty here, a
        // zero Content-Length included), the x-ms-* headers sorted, then the resource:
        // the account, the URL's path (which names the account again on Azurite's
        // path-style addresses) and the query parameters.
        let mut to_sign = String::from("PUT\n\n\n\n\n\n\n\n\n\n\n\n");
        for (name, value) in &ms_headers {
            to_sign.push_str(&format!("{name}:{value}\n"));
        }
        to_sign.push_str(&format!("/{ACCOUNT}{path}\nrestype:container"));
        let key = base64::engine::general_purpose::STANDARD.decode(KEY).unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(to_sign.as_bytes());
        let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());

        let mut request = format!(
            "PUT {path}?restype=container HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\nAuthorization: SharedKey {ACCOUNT}:{signature}\r\n",
            self.port
        );
        for (name, value) in &ms_headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        let answer = String::from_utf8_lossy(&answer);
        answer
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("Azurite's answer to PUT {path}?restype=container: {answer}"))
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "Azurite exited ({status}) before answering: is it installed? \
                     (scripts/test.sh installs tests/interop/azurite)"
                );
            }
            if crate::moto::answers(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("Azurite did not answer on port {} within 60 s", self.port);
    }
}

impl Drop for AzuriteServer {
    fn drop(&mut self) {
        // Our own child, by its pid; SIGKILL, as nothing in memory needs flushing.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `$TRUSTROOT_TEST_AZURITE`, Azurite's `azurite-blob`.
fn azurite() -> PathBuf {
    let program = std::env::var("TRUSTROOT_TEST_AZURITE").unwrap_or_else(|_| {
        panic!("TRUSTROOT_TEST_AZURITE is not set: run the tests through scripts/test.sh, which installs Azurite")
    });
    let program = PathBuf::from(program);
    assert!(
        program.is_file(),
        "{} is not there: install tests/interop/azurite (scripts/test.sh does)",
        program.display()
    );
    program
}
