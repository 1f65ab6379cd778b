//! `trustroot key ...`: generate, show and register keys, remove them, set thresholds.
//! No TUF logic lives here: parsing arguments, prompting, printing.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use trustroot_ceremony::keys::{self, KdfCost, KeyRef, KeyType, PrivateKey};
use trustroot_ceremony::{Signer as _, attestation, edit, rotate};

use super::shared::{CmdResult, PassphraseArgs, Zeroizing, finish, passphrase_source};
use crate::outln;
use crate::output::{self, Failure, Format};

/// `trustroot key ...`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a signing key: PKCS#8 PEM written with mode 0600 (never overwriting a file),
    /// and its public key beside it as FILE.pub (mode 0644, for sharing).
    ///
    /// With --encrypt, --passphrase-env or --passphrase-file the key is encrypted
    /// (PBES2: scrypt N=2^17 r=8 p=1, AES-256-CBC); --encrypt alone asks for the
    /// passphrase twice at the terminal.
    Generate {
        /// ed25519 or ecdsa-p256 (the YubiKey/Sigstore keyholder key type).
        #[arg(long = "type", value_name = "TYPE")]
        key_type: String,
        /// Private key file to create.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Encrypt the key with a passphrase typed at the terminal.
        #[arg(long)]
        encrypt: bool,
        #[command(flatten)]
        passphrase: PassphraseArgs,
        /// log2 of scrypt's N for an encrypted key (default 17). Lower it only in tests:
        /// it weakens the protection of the key file.
        #[arg(long, value_name = "N", default_value_t = KdfCost::STRONG.log_n)]
        scrypt_log_n: u8,
        /// Print JSON: the files written, whether the key is encrypted, its key ID, fingerprint and public key.
        #[arg(long)]
        json: bool,
    },
    /// Show a key's fingerprint (material sha256, the same in every root that lists it), its
    /// ID as a key alone, type and public key. REF is a private key (file or env:VAR) or a
    /// public key file (PEM or TUF key JSON).
    Show {
        /// The key: a private key file, env:VAR, or a public key file.
        #[arg(value_name = "REF")]
        key: String,
        #[command(flatten)]
        passphrase: PassphraseArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Register a keyholder's public key in the policy (copied to keys/NAME.pub).
    Add {
        /// Name of the key in trustroot.toml.
        name: String,
        /// root, targets, a delegated role, or `online` (the snapshot/timestamp key).
        #[arg(long)]
        role: String,
        /// Who holds the private key (name, e-mail or @handle).
        #[arg(long)]
        holder: Option<String>,
        /// The public key file (PEM or TUF key JSON).
        pubkey: PathBuf,
        /// The signing repository (default: the current directory).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
        #[command(flatten)]
        attestation: AttestationArgs,
        /// Print JSON: the name, role, holder, key ID and fingerprint registered.
        #[arg(long)]
        json: bool,
    },
    /// Remove a key from a role (or, without --role, from every role): a keyholder who
    /// leaves, or a compromised key. The next `ceremony start` stages a new root (or
    /// targets) that the old and the new thresholds must both sign.
    Remove {
        /// Name of the key in trustroot.toml.
        name: String,
        /// root, targets or a delegated role (default: every role).
        #[arg(long)]
        role: Option<String>,
        /// The signing repository (default: the current directory).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
    },
    /// Set the threshold of root, targets or a delegated role.
    Threshold {
        /// root, targets or a delegated role.
        role: String,
        /// How many distinct keys must sign.
        threshold: u64,
        /// The signing repository (default: the current directory).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
    },
}

/// A YubiKey PIV attestation of the key being registered: both files or neither.
#[derive(Debug, clap::Args)]
pub struct AttestationArgs {
    /// The key's attestation certificate (`ykman piv keys attest 9c KEY_CERT`): the key is
    /// registered only if it chains to Yubico's PIV attestation roots (embedded) and attests
    /// this very key; its serial, firmware, form factor, slot, PIN and touch policy are
    /// recorded in trustroot.toml.
    #[arg(long, value_name = "KEY_CERT", requires = "attestation_intermediate")]
    attestation: Option<PathBuf>,
    /// The YubiKey's device certificate that signed it (slot F9: `ykman piv certificates
    /// export f9 DEVICE_CERT`).
    #[arg(long, value_name = "DEVICE_CERT", requires = "attestation")]
    attestation_intermediate: Option<PathBuf>,
}

pub fn run(command: KeyCommand) -> ExitCode {
    match command {
        KeyCommand::Generate {
            key_type,
            out,
            encrypt,
            passphrase,
            scrypt_log_n,
            json,
        } => finish(
            Format::json_if(json),
            generate(&key_type, &out, encrypt, &passphrase, scrypt_log_n, json),
        ),
        KeyCommand::Show { key, passphrase, json } => finish(Format::json_if(json), show(&key, &passphrase, json)),
        KeyCommand::Add {
            name,
            role,
            holder,
            pubkey,
            repo,
            attestation,
            json,
        } => finish(
            Format::json_if(json),
            add(&repo, &name, &role, holder.as_deref(), &pubkey, &attestation, json),
        ),
        KeyCommand::Remove { name, role, repo } => finish(Format::Text, remove_key(&name, role.as_deref(), &repo)),
        KeyCommand::Threshold { role, threshold, repo } => finish(Format::Text, set_threshold(&role, threshold, &repo)),
    }
}

fn add(
    repo: &Path,
    name: &str,
    role: &str,
    holder: Option<&str>,
    pubkey: &Path,
    attestation: &AttestationArgs,
    json: bool,
) -> CmdResult {
    let bytes = keys::read_limited(pubkey, 64 * 1024)?;
    let certs = read_attestation(attestation)?;
    let notes: Vec<&str> = if role != "online" {
        Vec::new()
    } else if trustroot_ceremony::repo::Repo::open(repo)?.published("root")?.is_some() {
        vec![
            "Rotating the online key: the next root must list it; point [online] signer at its private key before `ceremony publish`.",
        ]
    } else {
        vec![
            "The online key signs timestamp and snapshot: the first root lists it; point [online] signer at its private key before `ceremony publish`.",
        ]
    };
    if !json {
        for note in &notes {
            outln!("{note}")?;
        }
    }
    let evidence = certs.as_ref().map(|c| c.evidence(chrono::Utc::now()));
    let keyid = edit::add_key(
        repo,
        name,
        role,
        holder,
        &bytes,
        &pubkey.display().to_string(),
        evidence.as_ref(),
    )?;
    let fingerprint = keys::parse_public_key(&pubkey.display().to_string(), &bytes)?.fingerprint();
    // What the policy now records (also an attestation registered earlier for this key).
    let recorded = match role {
        "online" => None,
        _ => trustroot_ceremony::repo::Repo::open(repo)?
            .policy
            .keys
            .get(name)
            .and_then(|e| e.attestation.clone()),
    };
    if json {
        return output::json(&serde_json::json!({
            "name": name,
            "role": role,
            "holder": holder,
            "keyid": keyid,
            "fingerprint": fingerprint,
            "public_file": format!("keys/{name}.pub"),
            "attestation": recorded,
            "notes": notes,
        }));
    }
    outln!("Registered '{name}' as a signer of {role}:")?;
    outln!("  key ID in metadata: {keyid}")?;
    if let Some(fingerprint) = fingerprint {
        outln!("  material sha256:{fingerprint} (what `trustroot key show` prints for the keyholder's file)")?;
    }
    if let Some(attested) = &recorded {
        outln!(
            "  YubiKey attestation: {} (chains to {})",
            attested.summary(),
            attested.root
        )?;
    }
    outln!("Next: `trustroot ceremony start` stages the change.")
}

/// The two attestation files, read (with their names for messages).
struct AttestationFiles {
    key_cert_file: String,
    key_cert: Vec<u8>,
    device_cert_file: String,
    device_cert: Vec<u8>,
}

impl AttestationFiles {
    fn evidence(&self, now: chrono::DateTime<chrono::Utc>) -> attestation::Evidence<'_> {
        attestation::Evidence {
            key_cert_file: &self.key_cert_file,
            key_cert: &self.key_cert,
            device_cert_file: &self.device_cert_file,
            device_cert: &self.device_cert,
            now,
        }
    }
}

/// Reads `--attestation` and `--attestation-intermediate` (clap has made sure both or neither).
fn read_attestation(args: &AttestationArgs) -> Result<Option<AttestationFiles>, Failure> {
    let (Some(key_cert), Some(device_cert)) = (&args.attestation, &args.attestation_intermediate) else {
        return Ok(None);
    };
    let limit = u64::try_from(attestation::MAX_CERT_FILE).unwrap_or(u64::MAX);
    Ok(Some(AttestationFiles {
        key_cert_file: key_cert.display().to_string(),
        key_cert: keys::read_limited(key_cert, limit)?,
        device_cert_file: device_cert.display().to_string(),
        device_cert: keys::read_limited(device_cert, limit)?,
    }))
}

fn remove_key(name: &str, role: Option<&str>, repo: &Path) -> CmdResult {
    let roles = rotate::remove_key(repo, name, role)?;
    outln!("Removed '{name}' from {}.", roles.join(", "))?;
    outln!(
        "Next: `trustroot ceremony start` stages the new version(s); the old and the new root thresholds must sign a new root."
    )
}

fn set_threshold(role: &str, threshold: u64, repo: &Path) -> CmdResult {
    rotate::set_threshold(repo, role, threshold)?;
    outln!("{role} now needs {threshold} signature(s).")?;
    outln!("Next: `trustroot ceremony start` stages the change.")
}

fn generate(
    key_type: &str,
    out: &Path,
    encrypt: bool,
    passphrase: &PassphraseArgs,
    log_n: u8,
    json: bool,
) -> CmdResult {
    let key_type: KeyType = key_type.parse()?;
    let encrypted = encrypt || passphrase.passphrase_env.is_some() || passphrase.passphrase_file.is_some();
    if !encrypted && let Some(repo) = signing_repository_keys_dir(out) {
        return Err(Failure::usage(format!(
            "{}: refused: this is the keys/ directory of the signing repository {}, which holds \
             public keys only and is committed and shared; an unencrypted private key must \
             not be written there",
            out.display(),
            repo.display()
        ))
        .with_hint_text(
            "write it outside the repository (e.g. ../private-keys/), or encrypt it with --encrypt, \
             --passphrase-env or --passphrase-file",
        ));
    }
    let pub_path = PathBuf::from(format!("{}.pub", out.display()));
    for path in [out, pub_path.as_path()] {
        if path.exists() {
            return Err(Failure::local_state(format!(
                "{}: already exists; refusing to overwrite a key file",
                path.display()
            ))
            .with_hint_text("choose another --out, or move the old key away first"));
        }
    }
    let secret: Option<Zeroizing<String>> = if let Some(var) = &passphrase.passphrase_env {
        Some(keys::passphrase_from_env(var)?)
    } else if let Some(file) = &passphrase.passphrase_file {
        Some(keys::passphrase_from_file(file)?)
    } else if encrypt {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::usage("--encrypt needs a terminal to ask for the passphrase")
                .with_hint_text("use --passphrase-env or --passphrase-file"));
        }
        let unreadable = |e: std::io::Error| Failure::io(format!("cannot read the passphrase: {e}"));
        let first = rpassword::prompt_password("New passphrase: ").map_err(unreadable)?;
        let second = rpassword::prompt_password("Repeat it: ").map_err(unreadable)?;
        if first != second {
            return Err(
                Failure::usage("the passphrases differ; nothing was written").with_hint_text("run the command again")
            );
        }
        Some(Zeroizing::new(first))
    } else {
        None
    };
    let key = PrivateKey::generate(key_type);
    let pem = key.to_pkcs8_pem(secret.as_ref().map(|s| s.as_str()), KdfCost { log_n })?;
    let public_pem = key.public_pem()?;
    keys::create_private_file(out, pem.as_bytes())?;
    if let Err(e) = keys::create_public_file(&pub_path, public_pem.as_bytes()) {
        let _ = std::fs::remove_file(out);
        return Err(e.into());
    }
    let public = key.public_key();
    if json {
        return output::json(&serde_json::json!({
            "file": out.display().to_string(),
            "public_file": pub_path.display().to_string(),
            "encrypted": secret.is_some(),
            "keyid": public.computed_key_id(),
            "fingerprint": public.fingerprint(),
            "key": public,
        }));
    }
    outln!(
        "Wrote {} ({}) and {}",
        out.display(),
        if secret.is_some() { "encrypted" } else { "NOT encrypted" },
        pub_path.display()
    )?;
    outln!("key ID {}", public.computed_key_id())?;
    match public.fingerprint() {
        Some(fingerprint) => outln!("material sha256:{fingerprint} (its fingerprint: compare this)"),
        None => Ok(()),
    }
}

/// The signing repository whose `keys/` directory `out` would be written into, if any: a
/// directory holding `trustroot.toml` whose `keys/` contains `out`'s directory, both
/// resolved (symbolic links, `..`), so `repo/keys/../keys/x.pem` and a link to `keys/`
/// are caught.
fn signing_repository_keys_dir(out: &Path) -> Option<PathBuf> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let resolved = parent.canonicalize().ok()?;
    // The repositories above the directory as written (a link to keys/ resolves elsewhere)
    // and above it resolved.
    let written = std::path::absolute(parent).ok()?;
    written.ancestors().chain(resolved.ancestors()).find_map(|dir| {
        if !dir.join("trustroot.toml").is_file() {
            return None;
        }
        let keys = dir.join("keys").canonicalize().ok()?;
        resolved.starts_with(&keys).then(|| dir.to_path_buf())
    })
}

fn show(reference: &str, passphrase: &PassphraseArgs, json: bool) -> CmdResult {
    let key_ref = KeyRef::parse(reference)?;
    let bytes = key_ref.read()?;
    let is_private = std::str::from_utf8(&bytes).is_ok_and(|t| t.contains("PRIVATE KEY-----"));
    let public = if is_private {
        key_ref
            .load(&mut passphrase_source(passphrase, key_ref.describe()))?
            .public_key()
    } else {
        keys::parse_public_key(&key_ref.describe(), &bytes)?
    };
    let keyid = public.computed_key_id();
    let fingerprint = public.fingerprint();
    let value = public.keyval.public.clone().unwrap_or_default();
    if json {
        return output::json(&serde_json::json!({"keyid": keyid, "fingerprint": fingerprint, "key": public}));
    }
    if let Some(fingerprint) = &fingerprint {
        outln!("material sha256:{fingerprint}")?;
        outln!("         the key's fingerprint, the same in every root that lists it: compare this")?;
    }
    outln!("key ID:  {keyid}")?;
    outln!("         of this key alone; a root that names its holder lists it under another ID")?;
    outln!("type:    {} ({})", public.keytype, public.scheme)?;
    outln!("public:  {}", value.trim_end().replace('\n', "\n         "))
}
