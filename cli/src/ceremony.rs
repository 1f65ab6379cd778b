//! `trustroot init`, `trustroot key ...` and `trustroot ceremony ...`: the signing side.
//! No TUF logic lives here: parsing arguments, prompting, printing.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use trustroot_ceremony::baseline::Baseline;
use trustroot_ceremony::keys::{self, KdfCost, KeyRef, KeyType, PrivateKey};
use trustroot_ceremony::round::{self, Added, Round, SigningRequest, printable};
use trustroot_ceremony::{Error, Result, Signer as _, delegate, edit, publish, repo, rotate};
use trustroot_core::display::escape;

type Zeroizing<T> = trustroot_ceremony::keys::Zeroizing<T>;

/// Arguments of `trustroot init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory of the new signing repository (created; must be empty if it exists).
    pub dir: PathBuf,
}

/// Where a passphrase comes from when it is not typed at a prompt.
#[derive(Debug, Args, Clone, Default)]
pub struct PassphraseArgs {
    /// Read the passphrase from this environment variable (for automation).
    #[arg(long, value_name = "VAR", conflicts_with = "passphrase_file")]
    pub passphrase_env: Option<String>,
    /// Read the passphrase from the first line of this file (for automation).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// `trustroot key ...`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a signing key: PKCS#8 PEM written with mode 0600 (never overwriting a file),
    /// and its public key beside it as FILE.pub.
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
        /// Print JSON: the files written, whether the key is encrypted, its key ID and public key.
        #[arg(long)]
        json: bool,
    },
    /// Show a key's ID, type and public key. REF is a private key (file or env:VAR) or a
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
        /// Print JSON: the name, role, holder and key ID registered.
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

#[derive(Debug, Args, Clone)]
pub struct RepoArgs {
    /// The signing repository (default: the current directory).
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// The round (default: the latest).
    #[arg(long)]
    pub round: Option<String>,
    /// Use this time instead of the clock (RFC 3339), e.g. for tests and rehearsals.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

/// `trustroot ceremony ...`
#[derive(Debug, Subcommand)]
pub enum CeremonyCommand {
    /// Stage the next versions of root, targets and delegated targets from trustroot.toml
    /// and the targets/ tree, in a new round under ceremonies/<id>/. Roles that did not
    /// change (and are not within their signing period) are not staged.
    ///
    /// With --due, for a scheduler (cron, CI): stage only the offline roles inside their
    /// signing period, and only if no earlier round is still waiting to be published;
    /// otherwise say what is waiting, or when the next role falls due, and change nothing.
    /// Exit 0 in each of those cases (read `action` in --json: `opened`, `waiting`,
    /// `nothing-due`); exit 1 on an error.
    Start {
        /// Round id (default: the next number).
        #[arg(long)]
        id: Option<String>,
        /// Open a round only for roles inside their signing period (see above).
        #[arg(long)]
        due: bool,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Write a self-contained signing request for a keyholder to carry to their signing
    /// machine: the exact bytes to sign per role, their sha256, the signers, and a summary
    /// of what changed against the published version.
    Request {
        /// Request file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Print JSON: the round, the file, the request digest and the roles to sign.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Sign a round with one key, after showing what is signed and asking for confirmation.
    ///
    /// On an air-gapped machine, with the request file, your key and your own copy of the
    /// published root:
    ///
    ///   trustroot ceremony sign --request request.json --key my-key.pem --root root.json
    ///
    /// The request is checked first (every digest; the summary is regenerated from the
    /// bytes; a mismatch means it was altered). Then its baseline, the published versions
    /// its changes are shown against, is checked against the root you give with --root:
    /// the request's root versions must be that root or verify from it, the staged root
    /// must follow the root reached, and the previous targets must be signed by that
    /// root's targets keys. A baseline that does not verify is refused before any change
    /// is shown. --root is required for any request that follows a published root;
    /// --unverified-baseline signs against the request's own claim instead, and says so.
    /// A request for a new repository (root v1) has no baseline: sign it without --root.
    /// Compare the request digest printed with the one the coordinator gave you by
    /// another channel. Then type `yes`. One
    /// signature file per role you sign is written to --out-dir (default: the current
    /// directory); hand those files back to the coordinator, who runs
    /// `trustroot ceremony add-signature`. Without --request, the latest round of the
    /// repository is signed and the signatures are stored in it directly.
    ///
    /// Without a terminal the command refuses unless --yes is given. Your private key is
    /// never written anywhere.
    Sign {
        /// Your private key: a PKCS#8 PEM file, or env:VAR.
        #[arg(long, value_name = "REF")]
        key: String,
        /// Sign this request file (no repository needed).
        #[arg(long, value_name = "FILE")]
        request: Option<PathBuf>,
        /// Where to write signature files when signing a request (default: .).
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// Your own copy of the published root (metadata/root.json of your clone of the
        /// signing repository, or root_history/N.root.json): the request's changes are
        /// checked against the published versions it authenticates.
        #[arg(long, value_name = "FILE", conflicts_with = "unverified_baseline")]
        root: Option<PathBuf>,
        /// Sign without --root: the changes are shown against the request's own claim of
        /// what is published, which is not verified (the summary says so, with its sha256).
        #[arg(long)]
        unverified_baseline: bool,
        /// Do not ask for confirmation (the summary is still printed).
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        passphrase: PassphraseArgs,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Bring signature files (from `ceremony sign --request`) back into the round. Each is
    /// checked (round, role, version, digest, signer, signature) before it is stored.
    #[command(
        after_help = "Exit status: 0 every file stored (or already there); 1 any file refused (the others are still stored); 2 usage error. See docs/exit-codes.md."
    )]
    AddSignature {
        /// Signature files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON: per file, stored, already signed or refused (and why). Exit 1 when
        /// any file is refused.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Run the verify-before-publish gate on a round, writing nothing: our client updates
    /// from the published repository (and from root v1) to the round's; tough loads it
    /// in-process and reads every target; Sigstore payloads are validated; key IDs,
    /// spec_version and expiry horizons are linted. Needs the online key (snapshot and
    /// timestamp are signed as a publish would). Exit 1 when a check fails.
    #[command(
        after_help = "Exit status: 0 the gate passes; 1 it does not (the findings say why), or the round cannot be read; 2 usage error. See docs/exit-codes.md."
    )]
    Verify {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Passphrase of the online key, when it is encrypted.
        #[command(flatten)]
        passphrase: PassphraseArgs,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Publish a fully signed round: refused unless every threshold is met and the gate
    /// passes. Snapshot and timestamp are signed with the online key; metadata/ (with
    /// root_history/) is updated; the published tree is built beside the old one under
    /// publish.destination and switched with one atomic rename (serve DEST/repository).
    #[command(
        after_help = "Exit status: 0 published; 1 refused (thresholds not met, the gate fails, the lock is held...), nothing written; 2 usage error. See docs/exit-codes.md."
    )]
    Publish {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Passphrase of the online key, when it is encrypted.
        #[command(flatten)]
        passphrase: PassphraseArgs,
        #[command(flatten)]
        repo: RepoArgs,
    },
    /// Create or change a delegated targets role (delegated by targets). Add its keys with
    /// `trustroot key add KEY --role NAME PUBKEY`; the next `ceremony start` stages it.
    Delegate {
        /// The delegated role's name.
        name: String,
        /// A target path pattern the role is trusted for (repeat for more; `*` matches
        /// within one path segment). Replaces the role's patterns.
        #[arg(long = "path", value_name = "PATTERN")]
        paths: Vec<String>,
        /// How many of its keys must sign it.
        #[arg(long)]
        threshold: Option<u64>,
        /// Whether the search for a target stops at this role (default for a new role: true).
        #[arg(long, value_name = "BOOL")]
        terminating: Option<bool>,
        /// Spread the role's targets over this many hashed bins (a power of two; 0 removes
        /// the bins), each signed by the role's keys.
        #[arg(long, value_name = "N")]
        bins: Option<u32>,
        /// Expiry period of new versions, in days.
        #[arg(long, value_name = "DAYS")]
        expiry_days: Option<u32>,
        /// Renew a version once it is within this many days of expiring.
        #[arg(long, value_name = "DAYS")]
        signing_days: Option<u32>,
        /// The signing repository (default: the current directory).
        #[arg(long, default_value = ".")]
        repo: PathBuf,
    },
    /// Per staged role: version, expiry, valid signatures against each required threshold
    /// (for a new root, the published root's and the new one's), who signed and who has
    /// not. Signatures that do not verify or come from non-signers are listed, never counted.
    #[command(
        after_help = "Exit status: 0 the status was shown, complete or not (`complete` in --json says which); 1 no round, or it cannot be read; 2 usage error. See docs/exit-codes.md."
    )]
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        repo: RepoArgs,
    },
}

fn remove_key(name: &str, role: Option<&str>, repo: &Path) -> Result<()> {
    let roles = rotate::remove_key(repo, name, role)?;
    println!("Removed '{name}' from {}.", roles.join(", "));
    println!(
        "Next: `trustroot ceremony start` stages the new version(s); the old and the new root thresholds must sign a new root."
    );
    Ok(())
}

fn set_threshold(role: &str, threshold: u64, repo: &Path) -> Result<()> {
    rotate::set_threshold(repo, role, threshold)?;
    println!("{role} now needs {threshold} signature(s).");
    println!("Next: `trustroot ceremony start` stages the change.");
    Ok(())
}

fn gate(publish: bool, json: bool, passphrase: &PassphraseArgs, args: &RepoArgs) -> Result<()> {
    let now = now(args.at.as_deref())?;
    let (repo, round) = open(args)?;
    let signer = publish::online_signer(
        &repo,
        &mut passphrase_source(passphrase, format!("the online key ({})", repo.policy.online.signer)),
    )?;
    let report = if publish {
        publish::publish(&repo, &round, &signer, now)?
    } else {
        publish::verify(&repo, &round, &signer, now)?
    };
    if let Some(recovered) = &report.recovered {
        eprintln!("note: {recovered}");
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| Error::refused(e.to_string()))?
        );
    } else {
        for f in &report.findings {
            println!("{f}");
        }
        for l in &report.left_out {
            println!("signature left out: {l}");
        }
        let versions: Vec<String> = report.versions.iter().map(|(r, v)| format!("{r} v{v}")).collect();
        if publish {
            let dest = trustroot_ceremony::pubdir::PublishDir::new(&repo.policy, &repo.root);
            println!(
                "Published round {}: {} ({} targets). Serve {}",
                report.round,
                versions.join(", "),
                report.targets,
                dest.served().display()
            );
        } else if report.passed {
            println!(
                "Round {} passes the gate: {} ({} targets). Publish it with `trustroot ceremony publish`.",
                report.round,
                versions.join(", "),
                report.targets
            );
        }
    }
    if !report.passed {
        return Err(report.refusal("verify"));
    }
    Ok(())
}

fn finish(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

pub fn now(at: Option<&str>) -> Result<DateTime<Utc>> {
    match at {
        Some(text) => trustroot_core::time::parse(text).ok_or_else(|| {
            Error::refused(format!(
                "--at '{text}' is not an RFC 3339 time (e.g. 2030-01-01T00:00:00Z)"
            ))
        }),
        None => Ok(Utc::now()),
    }
}

/// A passphrase from --passphrase-env / --passphrase-file, or typed at the terminal.
pub fn passphrase_source(args: &PassphraseArgs, what: String) -> impl FnMut() -> Result<Zeroizing<String>> {
    let args = args.clone();
    move || {
        if let Some(var) = &args.passphrase_env {
            return keys::passphrase_from_env(var);
        }
        if let Some(file) = &args.passphrase_file {
            return keys::passphrase_from_file(file);
        }
        if !std::io::stdin().is_terminal() {
            return Err(Error::refused(format!(
                "{what} is encrypted and there is no terminal to ask for its passphrase: use --passphrase-env VAR or --passphrase-file FILE"
            )));
        }
        rpassword::prompt_password(format!("Passphrase for {what}: "))
            .map(Zeroizing::new)
            .map_err(|e| Error::refused(format!("cannot read the passphrase: {e}")))
    }
}

pub fn run_init(args: InitArgs) -> ExitCode {
    finish((|| {
        repo::init(&args.dir)?;
        println!("Created a signing repository in {}", args.dir.display());
        println!("Next: edit trustroot.toml, register keys with `trustroot key add`, then `trustroot ceremony start`.");
        Ok(())
    })())
}

pub fn run_key(command: KeyCommand) -> ExitCode {
    finish(match command {
        KeyCommand::Generate {
            key_type,
            out,
            encrypt,
            passphrase,
            scrypt_log_n,
            json,
        } => generate(&key_type, &out, encrypt, &passphrase, scrypt_log_n, json),
        KeyCommand::Show { key, passphrase, json } => show(&key, &passphrase, json),
        KeyCommand::Add {
            name,
            role,
            holder,
            pubkey,
            repo,
            json,
        } => (|| {
            let bytes = keys::read_limited(&pubkey, 64 * 1024)?;
            let notes: Vec<&str> = if role == "online" {
                vec![
                    "Rotating the online key: the next root must list it; point [online] signer at its private key before `ceremony publish`.",
                ]
            } else {
                Vec::new()
            };
            if !json {
                notes.iter().for_each(|n| println!("{n}"));
            }
            let keyid = edit::add_key(
                &repo,
                &name,
                &role,
                holder.as_deref(),
                &bytes,
                &pubkey.display().to_string(),
            )?;
            if json {
                return print_json(&serde_json::json!({
                    "name": name,
                    "role": role,
                    "holder": holder,
                    "keyid": keyid,
                    "public_file": format!("keys/{name}.pub"),
                    "notes": notes,
                }));
            }
            println!("Registered '{name}' (key ID {keyid}) as a signer of {role}");
            println!("Next: `trustroot ceremony start` stages the change.");
            Ok(())
        })(),
        KeyCommand::Remove { name, role, repo } => remove_key(&name, role.as_deref(), &repo),
        KeyCommand::Threshold { role, threshold, repo } => set_threshold(&role, threshold, &repo),
    })
}

/// Prints `value` as pretty JSON on standard output (the shape of every `--json`).
fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::refused(format!("cannot write JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

fn generate(
    key_type: &str,
    out: &Path,
    encrypt: bool,
    passphrase: &PassphraseArgs,
    log_n: u8,
    json: bool,
) -> Result<()> {
    let key_type: KeyType = key_type.parse()?;
    let encrypted = encrypt || passphrase.passphrase_env.is_some() || passphrase.passphrase_file.is_some();
    if !encrypted && let Some(repo) = signing_repository_keys_dir(out) {
        return Err(Error::file(
            out,
            format!(
                "refused: this is the keys/ directory of the signing repository {}, which holds \
                 public keys only and is committed and shared; an unencrypted private key must \
                 not be written there. Write it outside the repository (e.g. ../private-keys/), \
                 or encrypt it with --encrypt, --passphrase-env or --passphrase-file",
                repo.display()
            ),
        ));
    }
    let pub_path = PathBuf::from(format!("{}.pub", out.display()));
    for path in [out, pub_path.as_path()] {
        if path.exists() {
            return Err(Error::file(
                path,
                "already exists; refusing to overwrite a key file (choose another --out, or move the old key away first)",
            ));
        }
    }
    let secret: Option<Zeroizing<String>> = if let Some(var) = &passphrase.passphrase_env {
        Some(keys::passphrase_from_env(var)?)
    } else if let Some(file) = &passphrase.passphrase_file {
        Some(keys::passphrase_from_file(file)?)
    } else if encrypt {
        if !std::io::stdin().is_terminal() {
            return Err(Error::refused(
                "--encrypt needs a terminal to ask for the passphrase: use --passphrase-env or --passphrase-file",
            ));
        }
        let unreadable = |e: std::io::Error| Error::refused(format!("cannot read the passphrase: {e}"));
        let first = rpassword::prompt_password("New passphrase: ").map_err(unreadable)?;
        let second = rpassword::prompt_password("Repeat it: ").map_err(unreadable)?;
        if first != second {
            return Err(Error::refused(
                "the passphrases differ; nothing was written (run the command again)",
            ));
        }
        Some(Zeroizing::new(first))
    } else {
        None
    };
    let key = PrivateKey::generate(key_type);
    let pem = key.to_pkcs8_pem(secret.as_ref().map(|s| s.as_str()), KdfCost { log_n })?;
    let public_pem = key.public_pem()?;
    keys::create_private_file(out, pem.as_bytes())?;
    if let Err(e) = keys::create_private_file(&pub_path, public_pem.as_bytes()) {
        let _ = std::fs::remove_file(out);
        return Err(e);
    }
    let public = key.public_key();
    if json {
        return print_json(&serde_json::json!({
            "file": out.display().to_string(),
            "public_file": pub_path.display().to_string(),
            "encrypted": secret.is_some(),
            "keyid": public.computed_key_id(),
            "key": public,
        }));
    }
    println!(
        "Wrote {} ({}) and {}",
        out.display(),
        if secret.is_some() { "encrypted" } else { "NOT encrypted" },
        pub_path.display()
    );
    println!("key ID {}", public.computed_key_id());
    Ok(())
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

fn show(reference: &str, passphrase: &PassphraseArgs, json: bool) -> Result<()> {
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
    let value = public.keyval.public.clone().unwrap_or_default();
    if json {
        print_json(&serde_json::json!({"keyid": keyid, "key": public}))?;
    } else {
        println!("key ID:  {keyid}");
        println!("type:    {} ({})", public.keytype, public.scheme);
        println!("public:  {}", value.trim_end().replace('\n', "\n         "));
    }
    Ok(())
}

pub fn run_ceremony(command: CeremonyCommand) -> ExitCode {
    finish(match command {
        CeremonyCommand::Start { id, due, json, repo } => start(id.as_deref(), due, json, &repo),
        CeremonyCommand::Request { out, json, repo } => request(&out, json, &repo),
        CeremonyCommand::Sign {
            key,
            request,
            out_dir,
            root,
            unverified_baseline,
            yes,
            passphrase,
            repo,
        } => sign(
            &key,
            request.as_deref(),
            out_dir.as_deref(),
            BaselineArgs {
                root: root.as_deref(),
                unverified: unverified_baseline,
            },
            yes,
            &passphrase,
            &repo,
        ),
        CeremonyCommand::AddSignature { files, json, repo } => add_signatures(&files, json, &repo),
        CeremonyCommand::Status { json, repo } => status(json, &repo),
        CeremonyCommand::Verify { json, passphrase, repo } => gate(false, json, &passphrase, &repo),
        CeremonyCommand::Publish { json, passphrase, repo } => gate(true, json, &passphrase, &repo),
        CeremonyCommand::Delegate {
            name,
            paths,
            threshold,
            terminating,
            bins,
            expiry_days,
            signing_days,
            repo,
        } => (|| {
            let edit = delegate::DelegationEdit {
                paths: (!paths.is_empty()).then_some(paths),
                threshold,
                terminating,
                bins,
                expiry_days,
                signing_days,
            };
            let created = delegate::delegate(&repo, &name, &edit)?;
            println!(
                "{} delegation '{name}' in trustroot.toml.",
                if created { "Created" } else { "Changed" }
            );
            if created {
                println!(
                    "Next: add its keys with `trustroot key add KEY --role {name} PUBKEY`, then `trustroot ceremony start`."
                );
            } else {
                println!("Next: `trustroot ceremony start` stages targets and '{name}' for signing.");
            }
            Ok(())
        })(),
    })
}

fn open(args: &RepoArgs) -> Result<(repo::Repo, Round)> {
    let repo = repo::Repo::open(&args.repo)?;
    let round = Round::open(&repo, args.round.as_deref())?;
    Ok((repo, round))
}

fn start(id: Option<&str>, due: bool, json: bool, args: &RepoArgs) -> Result<()> {
    let now = now(args.at.as_deref())?;
    let repo = repo::Repo::open(&args.repo)?;
    let outcome = if due {
        round::start_due(&repo, id, now)?
    } else {
        match round::start(&repo, id, now)? {
            Some(round) => round::DueOutcome::Opened(round),
            None => round::DueOutcome::NothingDue { next: Vec::new() },
        }
    };
    if json {
        return print_json(&start_json(&outcome));
    }
    match outcome {
        round::DueOutcome::Opened(round) => {
            println!("Started round {} in {}", round.id, round.dir.display());
            for role in &round.roles {
                println!(
                    "  staged {} v{} (expires {}): {}",
                    role.meta.role, role.meta.version, role.meta.expires, role.meta.reason
                );
            }
            println!("Next: `trustroot ceremony request --out request.json` and hand it to the keyholders.");
        }
        round::DueOutcome::AlreadyOpen { round, pending } => {
            println!(
                "Round {round} is still waiting to be published ({}); no new round opened.",
                pending.join(", ")
            );
            println!(
                "Next: collect its signatures (`trustroot ceremony status --round {round}`) and publish it, or remove ceremonies/{round}/ if it is abandoned."
            );
        }
        round::DueOutcome::NothingDue { next } if due => {
            println!("Nothing is due: no offline role is inside its signing period.");
            for role in &next {
                println!(
                    "  {} v{} expires {}; due from {}",
                    role.role, role.version, role.expires, role.due_from
                );
            }
        }
        round::DueOutcome::NothingDue { .. } => println!(
            "Nothing to stage: every role matches the policy and the targets/ tree, and none is within its signing period."
        ),
    }
    Ok(())
}

/// `ceremony start --json`: `action` is `opened`, `waiting` or `nothing-due`.
fn start_json(outcome: &round::DueOutcome) -> serde_json::Value {
    match outcome {
        round::DueOutcome::Opened(round) => serde_json::json!({
            "action": "opened",
            "round": round.id,
            "roles": round.roles.iter().map(|r| serde_json::json!({
                "role": r.meta.role,
                "version": r.meta.version,
                "expires": r.meta.expires,
                "reason": r.meta.reason,
            })).collect::<Vec<_>>(),
        }),
        round::DueOutcome::AlreadyOpen { round, pending } => serde_json::json!({
            "action": "waiting",
            "round": round,
            "pending": pending,
        }),
        round::DueOutcome::NothingDue { next } => serde_json::json!({
            "action": "nothing-due",
            "next": next,
        }),
    }
}

fn request(out: &Path, json: bool, args: &RepoArgs) -> Result<()> {
    let now = now(args.at.as_deref())?;
    let (repo, round) = open(args)?;
    let request = round.request(&repo, now)?;
    let mut bytes = serde_json::to_vec_pretty(&request).map_err(|e| Error::refused(e.to_string()))?;
    bytes.push(b'\n');
    if out.exists() {
        return Err(Error::file(
            out,
            "already exists; refusing to overwrite (choose another --out, or remove the old request)",
        ));
    }
    repo::write_atomic(out, &bytes)?;
    round.log(
        &repo,
        now,
        "request",
        serde_json::json!({"request_sha256": request.request_sha256, "file": out.file_name().and_then(|n| n.to_str())}),
    )?;
    if json {
        let roles: Vec<serde_json::Value> = request
            .roles
            .iter()
            .map(|r| {
                serde_json::json!({
                    "role": r.role,
                    "version": r.version,
                    "expires": r.expires,
                    "signed_sha256": r.signed_sha256,
                })
            })
            .collect();
        return print_json(&serde_json::json!({
            "round": round.id,
            "file": out.display().to_string(),
            "request_sha256": request.request_sha256,
            "roles": roles,
        }));
    }
    println!("Wrote signing request {} for round {}", out.display(), round.id);
    println!(
        "request digest (read it to the keyholders by another channel): {}",
        request.request_sha256
    );
    Ok(())
}

/// How `ceremony sign` decides what a request's changes are shown against.
#[derive(Clone, Copy)]
struct BaselineArgs<'a> {
    root: Option<&'a Path>,
    unverified: bool,
}

/// The request's baseline, checked against the keyholder's root, before anything of the
/// request is shown.
fn baseline(request: &SigningRequest, args: BaselineArgs<'_>, now: DateTime<Utc>) -> Result<Baseline> {
    if let Some(path) = args.root {
        let bytes = keys::read_limited(path, repo::MAX_METADATA_SIZE)?;
        return Ok(Baseline::Verified(trustroot_ceremony::baseline::check(
            request, &bytes, path, now,
        )?));
    }
    if !trustroot_ceremony::baseline::needs_root(request) {
        return Ok(Baseline::New);
    }
    if args.unverified {
        return Ok(Baseline::Unverified(trustroot_ceremony::baseline::claims(request)?));
    }
    Err(Error::refused(format!(
        "round {}: this request stages {} after published versions; pass --root FILE, your own copy of the published root (metadata/root.json of your clone of the signing repository, or root_history/N.root.json), so its changes are checked against what is really published, or --unverified-baseline to sign against the request's own claim; nothing was signed",
        escape(&request.round),
        trustroot_ceremony::baseline::followers(request)
    )))
}

fn print_request(request: &SigningRequest, baseline: &Baseline) {
    println!(
        "Signing request for round {} (made {})",
        escape(&request.round),
        escape(&request.created)
    );
    println!();
    for line in trustroot_ceremony::baseline::describe(baseline) {
        println!("{line}");
    }
    for role in &request.roles {
        println!();
        for line in &role.summary {
            println!("  {}", printable(line));
        }
    }
    println!();
    if let Baseline::Unverified(_) = baseline {
        println!("Reminder: the baseline above is NOT VERIFIED; it is the request's own claim.");
    }
    // Last, right before the question: nothing printed after it can hide it.
    println!("request digest: {}", escape(&request.request_sha256));
}

fn confirm(yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::refused(
            "refusing to sign without confirmation: there is no terminal to ask; read the summary above and pass --yes",
        ));
    }
    print!("Sign these roles? Type 'yes' to sign: ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::refused(format!("cannot read the answer: {e}")))?;
    if answer.trim() != "yes" {
        return Err(Error::refused("not confirmed; nothing was signed"));
    }
    Ok(())
}

fn sign(
    key: &str,
    request_path: Option<&Path>,
    out_dir: Option<&Path>,
    baseline_args: BaselineArgs<'_>,
    yes: bool,
    passphrase: &PassphraseArgs,
    args: &RepoArgs,
) -> Result<()> {
    let now = now(args.at.as_deref())?;
    let key_ref = KeyRef::parse(key)?;
    match request_path {
        Some(path) => {
            let (request, bytes) = SigningRequest::load(path)?;
            let baseline = baseline(&request, baseline_args, now)?;
            print_request(&request, &baseline);
            let signer = key_ref.load(&mut passphrase_source(passphrase, key_ref.describe()))?;
            // Find out what this key signs before asking.
            let signatures = round::sign_request(&request, &bytes, &signer)?;
            confirm(yes)?;
            let dir = out_dir.unwrap_or(Path::new("."));
            let mut written = Vec::new();
            for sig in &signatures {
                let file = dir.join(sig.file_name());
                if file.exists() {
                    return Err(Error::file(
                        &file,
                        "already exists; refusing to overwrite a signature file (hand it back first, or choose another --out-dir)",
                    ));
                }
            }
            for sig in &signatures {
                let file = dir.join(sig.file_name());
                let mut text = serde_json::to_vec_pretty(sig).map_err(|e| Error::refused(e.to_string()))?;
                text.push(b'\n');
                repo::write_atomic(&file, &text)?;
                written.push(file);
            }
            for (sig, file) in signatures.iter().zip(&written) {
                println!(
                    "Signed {} v{} with key {}: {}",
                    escape(&sig.role),
                    sig.version,
                    keys::short_id(&sig.keyid),
                    file.display()
                );
            }
            println!("Hand these files back to the coordinator (`trustroot ceremony add-signature`).");
            Ok(())
        }
        None => {
            let (repo, round) = open(args)?;
            let request = round.request(&repo, now)?;
            let bytes: Vec<Vec<u8>> = round.roles.iter().map(|r| r.bytes.clone()).collect();
            let baseline = baseline(&request, baseline_args, now)?;
            print_request(&request, &baseline);
            let signer = key_ref.load(&mut passphrase_source(passphrase, key_ref.describe()))?;
            let signatures = round::sign_request(&request, &bytes, &signer)?;
            confirm(yes)?;
            for sig in &signatures {
                let text = serde_json::to_vec(sig).map_err(|e| Error::refused(e.to_string()))?;
                let source = PathBuf::from(format!("(signed here with {})", signer.describe()));
                match round::add_signature(&repo, &round, &source, &text, now)? {
                    Added::Stored(path) => {
                        println!("Signed {} v{}: {}", escape(&sig.role), sig.version, path.display())
                    }
                    Added::AlreadySigned(_) => println!(
                        "{} v{}: key {} had already signed; counted once",
                        escape(&sig.role),
                        sig.version,
                        keys::short_id(&sig.keyid)
                    ),
                }
            }
            Ok(())
        }
    }
}

fn add_signatures(files: &[PathBuf], json: bool, args: &RepoArgs) -> Result<()> {
    let now = now(args.at.as_deref())?;
    let (repo, round) = open(args)?;
    let mut failures = 0;
    let mut results = Vec::new();
    for file in files {
        let result = keys::read_limited(file, round::MAX_SIGNATURE_FILE)
            .and_then(|bytes| round::add_signature(&repo, &round, file, &bytes, now));
        let name = file.display().to_string();
        match result {
            Ok(Added::Stored(path)) => {
                if !json {
                    println!("{name}: stored as {}", path.display());
                }
                results.push(serde_json::json!({"file": name, "result": "stored", "path": path.display().to_string()}));
            }
            Ok(Added::AlreadySigned(path)) => {
                if !json {
                    println!(
                        "{name}: this key already signed this role ({}); a key counts once, nothing changed",
                        path.display()
                    );
                }
                results.push(
                    serde_json::json!({"file": name, "result": "already_signed", "path": path.display().to_string()}),
                );
            }
            Err(e) => {
                failures += 1;
                if !json {
                    eprintln!("error: {e}");
                }
                results.push(serde_json::json!({"file": name, "result": "refused", "error": e.to_string()}));
            }
        }
    }
    if json {
        print_json(&serde_json::json!({"round": round.id, "refused": failures, "files": results}))?;
    }
    if failures > 0 {
        return Err(Error::refused(format!(
            "{failures} signature file(s) refused{}; `trustroot ceremony status` shows who still has to sign",
            if json {
                " (see \"files\" above)"
            } else {
                " (the reasons are above)"
            }
        )));
    }
    Ok(())
}

fn holder_label(k: &round::Keyholder) -> String {
    let id = keys::short_id(&k.keyid);
    // A holder may come from a key's x-tuf-on-ci-keyowner: text whoever staged it chose.
    let name = k.name.as_deref().map(escape);
    let holder = k.holder.as_deref().map(escape);
    match (name, holder) {
        (Some(name), Some(holder)) => format!("{name} ({holder}, {id})"),
        (Some(name), None) => format!("{name} ({id})"),
        (None, Some(holder)) => format!("{holder} ({id})"),
        (None, None) => format!("key {id}"),
    }
}

fn status(json: bool, args: &RepoArgs) -> Result<()> {
    let (repo, round) = open(args)?;
    let state = round::status(&repo, &round)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&state).map_err(|e| Error::refused(e.to_string()))?
        );
        return Ok(());
    }
    println!(
        "Round {}: {}",
        state.round,
        if state.complete {
            "every threshold is met"
        } else {
            "signatures missing"
        }
    );
    for role in &state.roles {
        println!();
        println!(
            "{} v{} (expires {}), sha256 {}",
            role.role,
            role.version,
            role.expires,
            keys::short_id(&role.signed_sha256)
        );
        if role.changed_since_start {
            println!("  WARNING: the staged file was changed after the round started; its signatures do not count");
        }
        for t in &role.thresholds {
            println!(
                "  {}/{} valid signatures from signers of {}{}",
                t.valid,
                t.required,
                t.of,
                if t.met { " (met)" } else { " (not met)" }
            );
            let list = |v: &[round::Keyholder]| {
                if v.is_empty() {
                    "nobody".to_string()
                } else {
                    v.iter().map(holder_label).collect::<Vec<_>>().join(", ")
                }
            };
            println!("    signed:         {}", list(&t.signed));
            println!("    not signed yet: {}", list(&t.not_signed));
        }
        for r in &role.rejected {
            println!("  not counted: {}: {}", r.file, r.reason);
        }
    }
    Ok(())
}
