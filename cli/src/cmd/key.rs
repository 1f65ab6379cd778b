//! `trustroot key ...`: generate, show and register keys, remove them, set thresholds.
//! No TUF logic lives here: parsing arguments, prompting, printing.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use trustroot_ceremony::keys::pkcs11::{self, Pkcs11Uri};
use trustroot_ceremony::keys::{self, KdfCost, KeyRef, KeyType, PrivateKey};
use trustroot_ceremony::repo::{POLICY_FILE, Repo};
use trustroot_ceremony::{attestation, edit, policy, rotate};

use super::shared::{CmdResult, PassphraseArgs, Zeroizing, finish, secret_source};
use crate::outln;
use crate::output::{self, Failure, Format};

/// The key reference forms, for the --help of every command that names a key.
pub const KEY_REF_HELP: &str = "The key, as a reference (never secret):
  FILE             a key file: PKCS#8 PEM private key, or a PEM / TUF JSON public key
  env:VAR          the PEM in an environment variable
  pkcs11:URI       a key on a PKCS#11 token (YubiKey, HSM; RFC 7512), e.g.
                   pkcs11:token=YubiKey%20PIV;id=%02?module-path=/usr/lib/x86_64-linux-gnu/libykcs11.so
                   the module can also come from TRUSTROOT_PKCS11_MODULE; the PIN from
                   pin-source=file:PATH or env:VAR in the URI, TRUSTROOT_PKCS11_PIN, or a prompt
  awskms:KEY       an AWS KMS key: key ID, key ARN or alias/NAME (region and credentials
                   from the standard AWS environment)
  `trustroot key list --module PATH` prints the pkcs11: URI of every key on a token.";

/// `trustroot key add`'s arguments.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Name of the key in trustroot.toml.
    pub name: String,
    /// root, targets, a delegated role, or `online` (the snapshot/timestamp key).
    #[arg(long)]
    pub role: String,
    /// Who holds the private key (name, e-mail or @handle).
    #[arg(long)]
    pub holder: Option<String>,
    #[arg(
        value_name = "REF",
        help = "The public key: a file (PEM or TUF key JSON), a pkcs11: URI or awskms:KEY",
        long_help = KEY_REF_HELP,
        required_unless_present = "identity"
    )]
    pub key: Option<String>,
    /// Register a keyless keyholder instead of a key: the identity Sigstore's CA certifies
    /// (an e-mail address, or a CI workflow's URI), signing in with --issuer. Their
    /// signatures are checked against Sigstore trust material (docs/client.md, "Keyless
    /// keys"); trustroot verifies them, and signs with keys only.
    #[arg(long, value_name = "EMAIL_OR_URI", requires = "issuer", conflicts_with = "key")]
    pub identity: Option<String>,
    /// The OIDC issuer the --identity signs in with, e.g. https://accounts.google.com or
    /// https://github.com/login/oauth: compared byte for byte with the certificate's.
    #[arg(long, value_name = "URL", requires = "identity")]
    pub issuer: Option<String>,
    /// The signing repository (default: the current directory).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The token's PIN, when reading the key needs a login.
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    #[command(flatten)]
    pub attestation: AttestationArgs,
    /// Print JSON: the name, role, holder, key ID and fingerprint registered.
    #[arg(long)]
    pub json: bool,
}

/// `trustroot key ...`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a signing key: PKCS#8 PEM written with mode 0600 (never overwriting a file),
    /// and its public key beside it as FILE.pub (mode 0644, for sharing); or, with --out
    /// pkcs11:..., a key made on a PKCS#11 token (YubiKey, HSM) that never leaves it.
    ///
    /// With --encrypt, --passphrase-env or --passphrase-file the key is encrypted
    /// (PBES2: scrypt N=2^17 r=8 p=1, AES-256-CBC); --encrypt alone asks for the
    /// passphrase twice at the terminal.
    Generate {
        /// ed25519 or ecdsa-p256 (the YubiKey/Sigstore keyholder key type).
        #[arg(long = "type", value_name = "TYPE")]
        key_type: String,
        /// Where the new key goes: a private key file to create, or a pkcs11: URI (token=...;
        /// object=LABEL[;id=%xx...]?module-path=...) to generate the key on the token, where
        /// it stays (nothing is written to disk).
        #[arg(long, value_name = "FILE|pkcs11:URI")]
        out: String,
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
    /// ID as a key alone, type and public key. Run in a repository (or given --repo), also
    /// under which names and for which roles its policy registers the key, with the
    /// recorded YubiKey attestation and its kept evidence verified again.
    Show {
        #[arg(value_name = "REF", help = "The key", long_help = KEY_REF_HELP)]
        key: String,
        /// The repository whose policy to look the key up in (default: the current
        /// directory, when it holds trustroot.toml).
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
        #[command(flatten)]
        passphrase: PassphraseArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Register a keyholder's public key in the policy (copied to keys/NAME.pub): from a
    /// public key file, or read from the token or KMS key a reference names.
    Add(AddArgs),
    /// List the tokens a PKCS#11 module shows, and the keys and certificates on each, with
    /// the pkcs11: URI that names each one. Private keys are listed only with --login.
    List {
        /// The PKCS#11 module (e.g. /usr/lib/x86_64-linux-gnu/libykcs11.so for YubiKeys,
        /// /usr/lib/softhsm/libsofthsm2.so).
        #[arg(long, value_name = "PATH")]
        module: PathBuf,
        /// Log in to each token (asking for its PIN, or reading TRUSTROOT_PKCS11_PIN) to list
        /// its private keys too.
        #[arg(long)]
        login: bool,
        #[command(flatten)]
        passphrase: PassphraseArgs,
        /// Print JSON.
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
    /// recorded in trustroot.toml, and both certificates are kept as
    /// keys/NAME.attestation-key.pem and keys/NAME.attestation-device.pem, which every
    /// `ceremony start` verifies again.
    #[arg(long, value_name = "KEY_CERT", requires = "attestation_intermediate")]
    attestation: Option<PathBuf>,
    /// The YubiKey's device certificate that signed it (slot F9: `ykman piv certificates
    /// export f9 DEVICE_CERT`).
    #[arg(long, value_name = "DEVICE_CERT", requires = "attestation")]
    attestation_intermediate: Option<PathBuf>,
}

impl AttestationArgs {
    fn is_given(&self) -> bool {
        self.attestation.is_some() || self.attestation_intermediate.is_some()
    }
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
        KeyCommand::Show {
            key,
            repo,
            passphrase,
            json,
        } => finish(Format::json_if(json), show(&key, repo.as_deref(), &passphrase, json)),
        KeyCommand::Add(args) => finish(Format::json_if(args.json), add(&args)),
        KeyCommand::List {
            module,
            login,
            passphrase,
            json,
        } => finish(Format::json_if(json), list(&module, login, &passphrase, json)),
        KeyCommand::Remove { name, role, repo } => finish(Format::Text, remove_key(&name, role.as_deref(), &repo)),
        KeyCommand::Threshold { role, threshold, repo } => finish(Format::Text, set_threshold(&role, threshold, &repo)),
    }
}

fn add(args: &AddArgs) -> CmdResult {
    let AddArgs {
        name,
        role,
        holder,
        key: reference,
        identity,
        issuer,
        repo,
        passphrase,
        attestation,
        json,
    } = args;
    let (name, role, holder, json) = (name.as_str(), role.as_str(), holder.as_deref(), *json);
    let (bytes, what) = match (reference, identity, issuer) {
        (_, Some(identity), Some(issuer)) => {
            if role == "online" {
                return Err(Failure::usage(
                    "--identity registers a keyholder; the online key signs snapshot and timestamp with a key",
                ));
            }
            if attestation.is_given() {
                return Err(Failure::usage(
                    "--identity takes no attestation: there is no key to attest",
                ));
            }
            (
                keys::keyless_key_json(identity, issuer)?,
                format!("keyless identity {identity} (issuer {issuer})"),
            )
        }
        (Some(reference), _, _) => {
            let key_ref = KeyRef::parse(reference)?;
            let bytes: Vec<u8> = match &key_ref {
                // A file is registered as it is written (PEM or TUF key JSON); a private key
                // is refused with a pointer to its public half.
                KeyRef::File(path) => keys::read_limited(path, 64 * 1024)?,
                KeyRef::Env(_) => key_ref.read()?.to_vec(),
                _ => keys::public_pem(&key_ref.public_key(&mut secret_source(passphrase, &key_ref))?)?.into_bytes(),
            };
            (bytes, key_ref.describe())
        }
        _ => return Err(Failure::usage("give the public key REF, or --identity with --issuer")),
    };
    let certs = read_attestation(attestation)?;
    let notes: Vec<&str> = if role != "online" {
        Vec::new()
    } else if Repo::open(repo)?.published("root")?.is_some() {
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
    let keyid = edit::add_key(repo, name, role, holder, &bytes, &what, evidence.as_ref())?;
    let fingerprint = keys::parse_public_key(&what, &bytes)?.fingerprint();
    // What the policy now records (also an attestation registered earlier for this key).
    let recorded = match role {
        "online" => None,
        _ => Repo::open(repo)?
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
            "source": what,
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
        if let (Some(key_cert), Some(device_cert)) = (&attested.key_cert, &attested.device_cert) {
            outln!("  evidence kept, checked again at every `ceremony start`: {key_cert}, {device_cert}")?;
        }
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

fn generate(key_type: &str, out: &str, encrypt: bool, passphrase: &PassphraseArgs, log_n: u8, json: bool) -> CmdResult {
    let key_type: KeyType = key_type.parse()?;
    match KeyRef::parse(out)? {
        KeyRef::Pkcs11(uri) => {
            if encrypt {
                return Err(Failure::usage("--encrypt is for key files: a key on a token is protected by its PIN"));
            }
            generate_on_token(key_type, &uri, passphrase, json)
        }
        KeyRef::File(path) => generate_file(key_type, &path, encrypt, passphrase, log_n, json),
        KeyRef::AwsKms(_) => Err(Failure::usage("AWS KMS keys are made in KMS, not by trustroot").with_hint_text(
            "`aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY`, then `trustroot key add NAME --role ROLE awskms:KEY`",
        )),
        other => Err(Failure::usage(format!(
            "{}: --out is a key file or a pkcs11: URI",
            other.describe()
        ))),
    }
}

/// `key generate --out pkcs11:...`: the key pair is made on the token; nothing is written.
fn generate_on_token(key_type: KeyType, uri: &Pkcs11Uri, passphrase: &PassphraseArgs, json: bool) -> CmdResult {
    let algorithm = match key_type {
        KeyType::Ed25519 => pkcs11::Algorithm::Ed25519,
        KeyType::EcdsaP256 => pkcs11::Algorithm::EcdsaP256,
    };
    let key_ref = KeyRef::Pkcs11(Box::new(uri.clone()));
    let (new_uri, public) = pkcs11::generate(uri, algorithm, &mut secret_source(passphrase, &key_ref))?;
    if json {
        return output::json(&serde_json::json!({
            "uri": new_uri,
            "keyid": public.computed_key_id(),
            "fingerprint": public.fingerprint(),
            "key": public,
        }));
    }
    outln!(
        "Generated an {} key on the token; it never leaves it. Its reference:",
        algorithm.name()
    )?;
    outln!("  {new_uri}")?;
    outln!("key ID {}", public.computed_key_id())?;
    if let Some(fingerprint) = public.fingerprint() {
        outln!("material sha256:{fingerprint} (its fingerprint: compare this)")?;
    }
    outln!("Next: the coordinator registers it with `trustroot key add NAME --role ROLE '{new_uri}'`,")?;
    outln!("or with the public key `trustroot key show '{new_uri}'` prints.")
}

/// `key list --module PATH`: tokens and their objects, each with its URI.
fn list(module: &Path, login: bool, passphrase: &PassphraseArgs, json: bool) -> CmdResult {
    let mut ask = super::shared::passphrase_source(passphrase, format!("the tokens of {}", module.display()), "PIN");
    let tokens = pkcs11::list(module, login, &mut ask)?;
    if json {
        return output::json(&serde_json::json!({ "module": module.display().to_string(), "tokens": tokens }));
    }
    if tokens.is_empty() {
        return outln!(
            "{}: no token is present (is the YubiKey or HSM connected?)",
            module.display()
        );
    }
    for token in &tokens {
        outln!(
            "slot {}: token '{}' ({} {}, serial {})",
            token.slot,
            token.label,
            token.manufacturer,
            token.model,
            token.serial
        )?;
        if token.objects.is_empty() {
            outln!("  no objects{}", if login { "" } else { " visible without --login" })?;
        }
        for object in &token.objects {
            outln!(
                "  {:<7} {} {}",
                object.kind,
                object.algorithm.as_deref().unwrap_or("-"),
                if object.label.is_empty() {
                    "(no label)"
                } else {
                    object.label.as_str()
                }
            )?;
            outln!("          {}", object.uri)?;
        }
    }
    if !login {
        outln!("Private keys are listed with --login.")?;
    }
    Ok(())
}

fn generate_file(
    key_type: KeyType,
    out: &Path,
    encrypt: bool,
    passphrase: &PassphraseArgs,
    log_n: u8,
    json: bool,
) -> CmdResult {
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

fn show(reference: &str, repo: Option<&Path>, passphrase: &PassphraseArgs, json: bool) -> CmdResult {
    let key_ref = KeyRef::parse(reference)?;
    let public = key_ref.public_key(&mut secret_source(passphrase, &key_ref))?;
    let keyid = public.computed_key_id();
    let fingerprint = public.fingerprint();
    // A keyless key has no public key: who it is, and the issuer they sign in with (text
    // from a key file, escaped).
    let value = match public.keyless() {
        Some(who) => format!(
            "identity {} (issuer {})",
            trustroot_core::display::escape(&who.identity),
            trustroot_core::display::escape(&who.issuer)
        ),
        None => public.keyval.public.clone().unwrap_or_default(),
    };
    // The repository named (its policy must be readable), or the current directory when it
    // holds a policy (one that cannot be read is mentioned, not an error: the key is shown).
    let mut policy_problem = None;
    let opened = match repo {
        Some(dir) => Some(Repo::open(dir)?),
        None if Path::new(POLICY_FILE).is_file() => Repo::open(Path::new(".")).map(Some).unwrap_or_else(|e| {
            policy_problem = Some(e.to_string());
            None
        }),
        None => None,
    };
    let registered = opened.map(|repo| policy::registrations(&repo.policy, &repo.root, &public, chrono::Utc::now()));
    if json {
        return output::json(&serde_json::json!({
            "keyid": keyid,
            "fingerprint": fingerprint,
            "key": public,
            "registered": registered,
            "policy_problem": policy_problem,
        }));
    }
    if let Some(fingerprint) = &fingerprint {
        outln!("material sha256:{fingerprint}")?;
        outln!("         the key's fingerprint, the same in every root that lists it: compare this")?;
    }
    outln!("key ID:  {keyid}")?;
    outln!("         of this key alone; a root that names its holder lists it under another ID")?;
    outln!("type:    {} ({})", public.keytype, public.scheme)?;
    outln!("public:  {}", value.trim_end().replace('\n', "\n         "))?;
    if let Some(problem) = policy_problem {
        return outln!("policy:  not looked up: {problem}");
    }
    let Some(registered) = registered else {
        return Ok(());
    };
    if registered.is_empty() {
        return outln!("policy:  this repository's policy does not register this key");
    }
    for entry in &registered {
        let roles = if entry.roles.is_empty() {
            "no role".to_string()
        } else {
            entry.roles.join(", ")
        };
        outln!("policy:  registered as '{}' for {roles}", entry.name)?;
        if let Some(attested) = &entry.attestation {
            outln!(
                "         YubiKey attestation: {} (chains to {})",
                attested.summary(),
                attested.root
            )?;
        }
        if let Some(evidence) = &entry.evidence {
            outln!("         attestation evidence: {evidence}")?;
        }
    }
    Ok(())
}
