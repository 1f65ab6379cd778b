//! Hints in the command line's words: the libraries name a remedy ([`Hint`]), only here does
//! it become a sentence with flag and command names.

use trustroot_core::Hint;

/// The sentence shown after `hint:` (and as `hint` in a `--json` error). `None` for a hint
/// a library added before its words were written here: no sentence beats a wrong one.
pub fn hint_text(hint: &Hint) -> Option<String> {
    let text = match hint {
        Hint::ChooseReferenceTime => "pass --at TIME (RFC 3339) to check at another time".to_string(),
        Hint::CreateOrChooseRepository => {
            "create one with `trustroot init DIR`, or name an existing one with --repo DIR".to_string()
        }
        Hint::AddKeyholders { role } => format!("add keyholders with `trustroot key add NAME --role {role} REF`"),
        Hint::AddOnlineKey => "generate the online key with `trustroot key generate` and register it with \
             `trustroot key add online --role online REF`"
            .to_string(),
        Hint::UseOnlineRole { role } => format!("{role} is signed by the online key: use --role online"),
        Hint::RotateOnlineKey { role } => {
            format!("{role} is signed by the online key: rotate it with `trustroot key add NAME --role online REF`")
        }
        Hint::PassphraseFromEnvOrFile => "use --passphrase-env VAR or --passphrase-file FILE".to_string(),
        Hint::PinFromSource => "add pin-source=file:PATH (or env:VAR) to the pkcs11: URI, set TRUSTROOT_PKCS11_PIN, \
             or give --passphrase-env VAR / --passphrase-file FILE"
            .to_string(),
        Hint::InitEmptyDirectory => {
            "`trustroot init` only creates a new signing repository: give it a new or empty directory".to_string()
        }
        Hint::PublishFirst => "publish a round with `trustroot ceremony publish` first".to_string(),
        Hint::ShowPublicKey => "give the PEM 'PUBLIC KEY' that `trustroot key show` prints".to_string(),
        Hint::LowerThreshold => "lower the threshold (`trustroot key threshold`) or add a key first".to_string(),
        Hint::DelegationPathsAndThreshold => "a new delegation needs --path (one or more) and --threshold".to_string(),
        Hint::StartRound => "start one with `trustroot ceremony start`".to_string(),
        Hint::NewSigningRequest => "the coordinator runs `trustroot ceremony request` with this version".to_string(),
        Hint::SignNewRepositoryWithoutRoot => {
            "to sign the first root of a new repository, run without --root".to_string()
        }
        Hint::ExportAttestation => {
            "export both from the YubiKey that holds the key: `ykman piv keys attest SLOT key_cert.pem` \
             and `ykman piv certificates export f9 device_cert.pem`, then pass them as --attestation and \
             --attestation-intermediate"
                .to_string()
        }
        Hint::ChooseRolesPath => "pass one of those as PATH".to_string(),
        Hint::OnlineSigner => {
            "`[online] signer` in trustroot.toml names the online key (a file, env:VAR, a pkcs11: URI or awskms:KEY): \
             provide what it names, or point it at the key"
                .to_string()
        }
        // mirror and targets
        Hint::SyncOrImportMirror => {
            "run `trustroot mirror sync DIR`, or `trustroot mirror import DIR` with a bundle".to_string()
        }
        Hint::SyncMirror { dir } => format!("run `trustroot mirror sync {}` first", dir.display()),
        Hint::PinMirrorRoot => "pass --root with the root this site trusts".to_string(),
        Hint::GiveMirrorOrigin => "a new mirror started from --root needs --from URL".to_string(),
        Hint::RaiseBundleMaxSize => "raise it with --max-size".to_string(),
        Hint::ChooseServiceApiVersion => "say which with --api-version".to_string(),
        _ => return None,
    };
    Some(text)
}
