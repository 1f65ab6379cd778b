//! Signers side by side: signatures per second and the time of a whole `trustroot online
//! refresh` with the online key in a file, on a PKCS#11 token (SoftHSM2, in a token store
//! of its own) and in AWS KMS (a moto server on 127.0.0.1, started from
//! `$TRUSTROOT_TEST_PYTHON -m moto.server`).
//!
//! Each signer's rate is measured in a child process (`trustroot-bench sign-rate REF`)
//! given the environment that reference needs: SoftHSM2 reads `SOFTHSM2_CONF` from its
//! process's environment, which this one cannot set safely once threads run.
//!
//! moto answers on loopback from one Python process: its figures are this client's and the
//! emulator's cost, not AWS's (a real KMS adds a network round trip of some milliseconds
//! per signature; docs/benchmarks.md says so beside the figures). SoftHSM2 signs in
//! software behind the PKCS#11 interface: a YubiKey or network HSM is slower.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use trustroot_ceremony::error::{Error, KeyError};
use trustroot_ceremony::keys::{KeyRef, Signer};
use trustroot_test_support::moto::MotoServer;
use trustroot_test_support::softhsm::SoftHsm;

use crate::Result;
use crate::runner::note;

/// A message the size of a timestamp.json's signed part.
const MESSAGE_BYTES: usize = 1024;

/// The PIN of the benchmark's token.
const PIN: &str = "2468";

/// What `signers` measures.
pub struct Args {
    /// This binary, for `sign-rate`.
    pub bench: PathBuf,
    pub trustroot: PathBuf,
    pub signatures: usize,
    pub refreshes: usize,
}

/// One signer measured: how it is named in the table, its reference, and whether the
/// online refresh is timed with it as the online key.
struct Measured {
    label: String,
    reference: String,
    refresh: bool,
}

pub fn run(args: &Args) -> Result<()> {
    let moto = MotoServer::start();
    let kms_key = moto.create_key("ECC_NIST_P256", "SIGN_VERIFY");
    let hsm = SoftHsm::new();
    hsm.token("bench", PIN);
    let env: HashMap<String, String> = moto.env().into_iter().chain(hsm.env(Some(PIN))).collect();
    let work = tempfile::tempdir()?;

    let file = work.path().join("file.pem");
    let token_p256 = "pkcs11:token=bench;object=p256".to_string();
    let token_ed25519 = "pkcs11:token=bench;object=ed25519".to_string();
    for (key_type, reference) in [
        ("ecdsa-p256", path(&file)?),
        ("ecdsa-p256", token_p256.as_str()),
        ("ed25519", token_ed25519.as_str()),
    ] {
        trustroot(
            args,
            work.path(),
            &["key", "generate", "--type", key_type, "--out", reference],
            &env,
        )?;
    }
    let softhsm = softhsm_version();
    let signers = [
        Measured {
            label: "file (P-256 PKCS#8, in process)".into(),
            reference: path(&file)?.into(),
            refresh: true,
        },
        Measured {
            label: format!("PKCS#11 token, P-256 ({softhsm})"),
            reference: token_p256,
            refresh: true,
        },
        Measured {
            label: format!("PKCS#11 token, Ed25519 ({softhsm})"),
            reference: token_ed25519,
            refresh: false,
        },
        Measured {
            label: "AWS KMS, P-256 (moto 5.2.5 on 127.0.0.1)".into(),
            reference: format!("awskms:{kms_key}"),
            refresh: true,
        },
    ];

    println!(
        "| signer | open (load, log in or connect) | signatures/s ({MESSAGE_BYTES}-byte message) | `online refresh --force`, median of {} |",
        args.refreshes
    );
    println!("| --- | --- | --- | --- |");
    for (n, signer) in signers.iter().enumerate() {
        let (open, rate) = child_rate(args, &signer.reference, &env)?;
        let refresh = if signer.refresh {
            let repo = published_repo(args, &work.path().join(format!("repo-{n}")), &signer.reference, &env)?;
            ms(median(refresh_times(args, &repo, &env)?))
        } else {
            "not measured".to_string()
        };
        println!("| {} | {} | {rate:.0} | {refresh} |", signer.label, ms(open));
    }
    Ok(())
}

/// `sign-rate`: opens the signer `reference` (a token's PIN from `TRUSTROOT_PKCS11_PIN`,
/// never a prompt) and makes `count` signatures; prints the seconds the opening took and
/// the signatures per second.
pub fn sign_rate(reference: &str, count: usize) -> Result<()> {
    let key = KeyRef::parse(reference)?;
    let opened = Instant::now();
    let signer = key.load(&mut || {
        Err(Error::from(KeyError::NoPinSource {
            what: reference.to_string(),
        }))
    })?;
    let open = opened.elapsed();
    let rate = rate(signer.as_ref(), count)?;
    println!("{} {rate}", open.as_secs_f64());
    Ok(())
}

/// Runs `sign-rate` for `reference` in a child process with `env`.
fn child_rate(args: &Args, reference: &str, env: &HashMap<String, String>) -> Result<(Duration, f64)> {
    note(&format!("{} signatures with {reference}", args.signatures));
    let out = Command::new(&args.bench)
        .args(["sign-rate", reference, "--signatures", &args.signatures.to_string()])
        .envs(env)
        .stdin(std::process::Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(format!("sign-rate {reference}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut figures = text.split_whitespace().map(str::parse::<f64>);
    match (figures.next(), figures.next()) {
        (Some(Ok(open)), Some(Ok(rate))) => Ok((Duration::from_secs_f64(open), rate)),
        _ => Err(format!("sign-rate {reference} printed {text:?}").into()),
    }
}

/// Signatures per second over `count` signatures of a 1 KiB message.
fn rate(signer: &dyn Signer, count: usize) -> Result<f64> {
    let message: Vec<u8> = (0..MESSAGE_BYTES).map(|i| (i % 251) as u8).collect();
    let started = Instant::now();
    for _ in 0..count {
        signer.sign(&message)?;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// "SoftHSM2 2.6.1", from `softhsm2-util --version`.
fn softhsm_version() -> String {
    let version = Command::new("softhsm2-util")
        .arg("--version")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default();
    format!("SoftHSM2 {version}")
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// A signing repository in `dir` published once (one keyholder with a key file, threshold
/// 1), its online key `online`.
fn published_repo(args: &Args, dir: &Path, online: &str, env: &HashMap<String, String>) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let repo = dir.join("repo");
    trustroot(args, dir, &["init", "repo"], env)?;
    let alice = dir.join("alice.pem");
    trustroot(
        args,
        dir,
        &["key", "generate", "--type", "ecdsa-p256", "--out", path(&alice)?],
        env,
    )?;
    let alice_public = format!("{}.pub", path(&alice)?);
    for role in ["root", "targets"] {
        trustroot(
            args,
            &repo,
            &["key", "add", "alice", "--role", role, &alice_public],
            env,
        )?;
    }
    // `key add` takes a key file's public half, and a token's or KMS key's reference itself.
    let online_public = match KeyRef::parse(online)? {
        KeyRef::File(_) => format!("{online}.pub"),
        _ => online.to_string(),
    };
    trustroot(
        args,
        &repo,
        &["key", "add", "online", "--role", "online", &online_public],
        env,
    )?;
    let policy_path = repo.join("trustroot.toml");
    let policy = std::fs::read_to_string(&policy_path)?;
    let policy = policy.replace(
        "signer = \"env:TRUSTROOT_ONLINE_KEY\"",
        &format!("signer = \"{online}\""),
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
