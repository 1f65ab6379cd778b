//! Signers side by side: signatures per second and the time of a whole `trustroot online
//! refresh` with the online key in a file and in AWS KMS (a moto server on 127.0.0.1,
//! started from `$TRUSTROOT_TEST_PYTHON -m moto.server`).
//!
//! moto answers on loopback from one Python process: its figures are this client's and the
//! emulator's cost, not AWS's (a real KMS adds a network round trip of some milliseconds
//! per signature; docs/benchmarks.md says so beside the figures).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use trustroot_ceremony::keys::awskms::{AwsKmsSigner, Limits};
use trustroot_ceremony::keys::{KeyType, PrivateKey, Signer, SoftwareSigner};
use trustroot_test_support::moto::MotoServer;

use crate::Result;
use crate::runner::note;

/// A message the size of a timestamp.json's signed part.
const MESSAGE_BYTES: usize = 1024;

/// What `signers` measures.
pub struct Args {
    pub trustroot: PathBuf,
    pub signatures: usize,
    pub refreshes: usize,
}

pub fn run(args: &Args) -> Result<()> {
    let moto = MotoServer::start();
    let key_id = moto.create_key("ECC_NIST_P256", "SIGN_VERIFY");
    let env: HashMap<String, String> = moto.env().into_iter().collect();
    let message: Vec<u8> = (0..MESSAGE_BYTES).map(|i| (i % 251) as u8).collect();

    let file = SoftwareSigner::new(PrivateKey::generate(KeyType::EcdsaP256), "a file key");
    let file_rate = rate(&file, &message, args.signatures)?;
    let connected = Instant::now();
    let kms = AwsKmsSigner::connect_with(&key_id, &|name| env.get(name).cloned(), Limits::default())?;
    let connect = connected.elapsed();
    let kms_rate = rate(&kms, &message, args.signatures)?;

    let work = tempfile::tempdir()?;
    let file_repo = published_repo(args, work.path(), "file", None, &env)?;
    let kms_repo = published_repo(args, work.path(), "kms", Some(&key_id), &env)?;
    let file_refresh = refresh_times(args, &file_repo, &env)?;
    let kms_refresh = refresh_times(args, &kms_repo, &env)?;

    println!(
        "| signer | signatures/s (ECDSA P-256, {MESSAGE_BYTES}-byte message) | `online refresh --force`, median of {} |",
        args.refreshes
    );
    println!("| --- | --- | --- |");
    println!(
        "| file (PKCS#8, in process) | {file_rate:.0} | {} |",
        ms(median(file_refresh))
    );
    println!(
        "| AWS KMS (moto 5.2.5 on 127.0.0.1; connect + GetPublicKey {}) | {kms_rate:.0} | {} |",
        ms(connect),
        ms(median(kms_refresh))
    );
    Ok(())
}

/// Signatures per second over `count` signatures.
fn rate(signer: &dyn Signer, message: &[u8], count: usize) -> Result<f64> {
    note(&format!("{} signatures with {}", count, signer.describe()));
    let started = Instant::now();
    for _ in 0..count {
        signer.sign(message)?;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// A signing repository published once (one keyholder, threshold 1), its online key a
/// file or the KMS key `kms`.
fn published_repo(
    args: &Args,
    work: &Path,
    name: &str,
    kms: Option<&str>,
    env: &HashMap<String, String>,
) -> Result<PathBuf> {
    let dir = work.join(name);
    std::fs::create_dir_all(&dir)?;
    let repo = dir.join("repo");
    trustroot(args, &dir, &["init", "repo"], env)?;
    let alice = dir.join("alice.pem");
    trustroot(
        args,
        &dir,
        &["key", "generate", "--type", "ecdsa-p256", "--out", path(&alice)?],
        env,
    )?;
    let alice_pub = format!("{}.pub", alice.display());
    for role in ["root", "targets"] {
        trustroot(args, &repo, &["key", "add", "alice", "--role", role, &alice_pub], env)?;
    }
    let signer = match kms {
        Some(key) => format!("awskms:{key}"),
        None => {
            let online = dir.join("online.pem");
            trustroot(
                args,
                &dir,
                &["key", "generate", "--type", "ecdsa-p256", "--out", path(&online)?],
                env,
            )?;
            trustroot(
                args,
                &repo,
                &[
                    "key",
                    "add",
                    "online",
                    "--role",
                    "online",
                    &format!("{}.pub", online.display()),
                ],
                env,
            )?;
            online.display().to_string()
        }
    };
    if kms.is_some() {
        trustroot(args, &repo, &["key", "add", "online", "--role", "online", &signer], env)?;
    }
    let policy_path = repo.join("trustroot.toml");
    let policy = std::fs::read_to_string(&policy_path)?;
    let policy = policy.replace(
        "signer = \"env:TRUSTROOT_ONLINE_KEY\"",
        &format!("signer = \"{signer}\""),
    );
    std::fs::write(&policy_path, policy)?;
    std::fs::write(repo.join("targets/hello.txt"), b"hello\n")?;
    trustroot(args, &repo, &["ceremony", "start"], env)?;
    trustroot(args, &repo, &["ceremony", "sign", "--key", path(&alice)?, "--yes"], env)?;
    trustroot(args, &repo, &["ceremony", "publish"], env)?;
    Ok(repo)
}

fn refresh_times(args: &Args, repo: &Path, env: &HashMap<String, String>) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(args.refreshes);
    for _ in 0..args.refreshes {
        let started = Instant::now();
        trustroot(args, repo, &["online", "refresh", "--force"], env)?;
        times.push(started.elapsed());
    }
    Ok(times)
}

fn path(p: &Path) -> Result<&str> {
    p.to_str().ok_or_else(|| format!("{} is not UTF-8", p.display()).into())
}

/// Runs the trustroot binary in `dir`; an error carries its standard error.
fn trustroot(args: &Args, dir: &Path, argv: &[&str], env: &HashMap<String, String>) -> Result<()> {
    let out = Command::new(&args.trustroot)
        .current_dir(dir)
        .args(argv)
        .envs(env)
        .stdin(std::process::Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(format!("trustroot {argv:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(())
}
