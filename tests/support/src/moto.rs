//! A real moto server (the AWS API emulator, pinned in tests/interop/requirements.txt)
//! on 127.0.0.1, for the AWS KMS signer's and the S3 push's tests: started from `$TRUSTROOT_TEST_PYTHON -m
//! moto.server` on a free port, waited for, and killed by its pid when dropped.
//!
//! A missing moto fails the test loudly: these tests never skip.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The region every test key is made in.
pub const REGION: &str = "us-east-1";

/// A running moto server; killed (by pid) when dropped.
pub struct MotoServer {
    child: Child,
    port: u16,
    python: PathBuf,
}

impl MotoServer {
    /// Starts moto on a free loopback port and waits until it answers.
    pub fn start() -> MotoServer {
        MotoServer::start_with_env(&[])
    }

    /// [`MotoServer::start`] with more environment for moto, e.g.
    /// `INITIAL_NO_AUTH_ACTION_COUNT`, after which moto checks every request's SigV4
    /// signature and IAM policy as AWS does.
    pub fn start_with_env(env: &[(&str, &str)]) -> MotoServer {
        let python = python();
        // A port the kernel hands out, released just before moto binds it.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&python)
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start moto with {}: {e}", python.display()));
        let mut server = MotoServer { child, port, python };
        server.wait_ready();
        server
    }

    /// `http://127.0.0.1:PORT`: what `AWS_ENDPOINT_URL` is set to.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment a client needs to reach this server (and nothing of the machine's
    /// own AWS set-up).
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint()),
            ("AWS_REGION".into(), REGION.into()),
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing-secret".into()),
            ("AWS_SHARED_CREDENTIALS_FILE".into(), "/nonexistent/credentials".into()),
            ("AWS_CONFIG_FILE".into(), "/nonexistent/config".into()),
        ]
    }

    /// Creates a key (`spec`, `usage` as KMS names them) with boto3; returns its key ID.
    pub fn create_key(&self, spec: &str, usage: &str) -> String {
        self.boto3(&format!(
            "print(kms.create_key(KeySpec='{spec}', KeyUsage='{usage}')['KeyMetadata']['KeyId'])"
        ))
    }

    /// Points `alias` (`alias/NAME`) at `key_id`.
    pub fn create_alias(&self, alias: &str, key_id: &str) {
        self.boto3(&format!(
            "kms.create_alias(AliasName='{alias}', TargetKeyId='{key_id}')"
        ));
    }

    /// Creates an S3 bucket.
    pub fn create_bucket(&self, bucket: &str) {
        self.boto3(&format!("s3.create_bucket(Bucket='{bucket}')"));
    }

    /// Lets anyone GET the objects under `prefix/` of `bucket` (and nothing else, so a
    /// push manifest beside the prefix stays private), as a bucket served to the public is
    /// set up; anonymous requests then read the tree at [`MotoServer::public_url`].
    pub fn public_read(&self, bucket: &str, prefix: &str) {
        self.boto3(&format!(
            "import json\ns3.put_bucket_policy(Bucket='{bucket}', Policy=json.dumps({{'Version': '2012-10-17', \
             'Statement': [{{'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject', \
             'Resource': 'arn:aws:s3:::{bucket}/{prefix}/*'}}]}}))"
        ));
    }

    /// `http://127.0.0.1:PORT/BUCKET/PREFIX/`: the path-style address clients read from.
    pub fn public_url(&self, bucket: &str, prefix: &str) -> String {
        format!("{}/{bucket}/{prefix}/", self.endpoint())
    }

    /// Runs `code` with `kms` and `s3`, boto3 clients of this server; returns its output,
    /// trimmed.
    pub fn boto3(&self, code: &str) -> String {
        let script = format!(
            "import boto3\nargs = dict(endpoint_url='{}', region_name='{REGION}', \
             aws_access_key_id='testing', aws_secret_access_key='testing-secret')\n\
             kms = boto3.client('kms', **args)\ns3 = boto3.client('s3', **args)\n{code}\n",
            self.endpoint()
        );
        let out = Command::new(&self.python).args(["-c", &script]).output().unwrap();
        assert!(
            out.status.success(),
            "boto3 against moto failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "moto exited ({status}) before answering: is moto[server] installed in {}? \
                     (scripts/test.sh installs tests/interop/requirements.txt)",
                    self.python.display()
                );
            }
            if answers(self.port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto did not answer on port {} within 60 s", self.port);
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // Our own child, by its pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// True when an HTTP request to moto's health-less root gets any answer.
pub(crate) fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut first = [0u8; 12];
    stream.read_exact(&mut first).is_ok() && first.starts_with(b"HTTP/1.")
}

/// `$TRUSTROOT_TEST_PYTHON`, which must import moto's server and boto3.
pub fn python() -> PathBuf {
    let python = std::env::var("TRUSTROOT_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("TRUSTROOT_TEST_PYTHON is not set: run the tests through scripts/test.sh, which installs moto")
    });
    let check = Command::new(&python)
        .args(["-c", "import moto.server, boto3"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        check.status.success(),
        "{python} cannot import moto.server and boto3: install tests/interop/requirements.txt (scripts/test.sh does)\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    PathBuf::from(python)
}
