//! Key references: where a private key is, as one string the user writes wherever a key is
//! named (`--key`, `--out`, `key add`'s REF, `[online] signer`). A reference is never
//! secret: PINs and passphrases come from elsewhere.

use std::io::Write as _;
use std::path::PathBuf;

use pkcs8::der::zeroize::Zeroizing;
use trustroot_core::Key;

use super::awskms::AwsKmsSigner;
use super::pkcs11::{self, Pkcs11Uri};
use super::{MAX_KEY_FILE, PrivateKey, Signer, SoftwareSigner, loose_permissions_warning, read_limited};
use crate::error::{Error, KeyError, Result};

/// Where a private key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// A PKCS#8 PEM file.
    File(PathBuf),
    /// An environment variable holding the PEM (`env:VAR`).
    Env(String),
    /// A key on a PKCS#11 token (`pkcs11:` URI, RFC 7512).
    Pkcs11(Box<Pkcs11Uri>),
    /// An AWS KMS key (`awskms:` key ID, key ARN or alias).
    AwsKms(String),
    /// A key in a service trustroot recognises but cannot use yet (`gcpkms:`, `azurekms:`,
    /// `hsm:`, tuf-on-ci's keyless `sigstore:`): `scheme` is the prefix, `advice` what to use instead, `reference` the
    /// reference as written (kept, e.g. an imported repository's online key URI).
    Unsupported {
        scheme: &'static str,
        advice: &'static str,
        reference: String,
    },
}

/// Reference prefixes of other tools' key services, recognised so that they are refused by
/// name rather than read as file names.
const UNSUPPORTED: [(&str, &str); 4] = [
    (
        "gcpkms:",
        "use the Google Cloud KMS PKCS#11 library (libkmsp11) with a pkcs11: URI",
    ),
    (
        "azurekms:",
        "use Azure Key Vault's Managed HSM through PKCS#11, or a key file",
    ),
    ("hsm:", "name the key with a pkcs11: URI"),
    (
        "sigstore:",
        "trustroot verifies keyless signatures but cannot make them yet; register a keyless keyholder with `key add NAME --role ROLE --identity ID --issuer URL`",
    ),
];

/// Other tools' signer URIs (securesystemslib's, which tuf-on-ci writes): refused by
/// name where a key reference is expected, never read as a file name (`file2:k` would
/// otherwise be a file called `file2:k`).
const FOREIGN: [&str; 3] = ["file:", "file2:", "envvar:"];

/// What to do about an online key of `scheme` trustroot cannot sign with, as the status
/// and the refusals say it (`field` is where the reference is configured).
pub fn online_advice(field: &str, scheme: &str) -> String {
    if scheme == "sigstore:" {
        // A keyless online key signs in tuf-on-ci's workflow; there is nothing to configure.
        return format!(
            "it signs keyless, which trustroot cannot do yet: rotate the online key to one {field} can name (awskms:, pkcs11:)"
        );
    }
    format!("configure {field} (for GCP, a pkcs11: URI through libkmsp11) or rotate the key")
}

impl KeyRef {
    /// Parses an online key URI as another tool wrote it (tuf-on-ci's
    /// `x-tuf-on-ci-online-uri`, from metadata that may be hostile), by allowlist:
    /// `awskms:` (usable), `gcpkms:` (also the older `gcpkms://`), `azurekms://` and
    /// `sigstore:` (a keyless online key, signing in tuf-on-ci's workflow), the last three
    /// kept as written, not usable: [`KeyRef::Unsupported`]. Everything else (`file:`,
    /// `file2:`, `hsm:`, a path) is refused: such a URI is never read as a file.
    pub fn parse_online_uri(text: &str) -> Result<KeyRef> {
        let allowed = ["awskms:", "gcpkms:", "azurekms://", "sigstore:"];
        if !allowed.iter().any(|scheme| text.starts_with(scheme)) {
            return Err(KeyError::NotAnOnlineUri { text: text.to_string() }.into());
        }
        let key = KeyRef::parse(text)?;
        // Every allowed prefix parses to one of these (never a file, a variable or a token).
        match key {
            KeyRef::AwsKms(_) | KeyRef::Unsupported { .. } => Ok(key),
            _ => Err(KeyError::NotAnOnlineUri { text: text.to_string() }.into()),
        }
    }

    /// Parses a reference: `pkcs11:...`, `awskms:KEY`, `env:VAR`, or a file path.
    pub fn parse(text: &str) -> Result<KeyRef> {
        if text.starts_with("pkcs11:") {
            return Ok(KeyRef::Pkcs11(Box::new(Pkcs11Uri::parse(text)?)));
        }
        if let Some(key) = text.strip_prefix("awskms:") {
            if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(KeyError::BadKmsKey { text: text.to_string() }.into());
            }
            return Ok(KeyRef::AwsKms(key.to_string()));
        }
        if let Some((scheme, advice)) = UNSUPPORTED.iter().find(|(scheme, _)| text.starts_with(scheme)) {
            return Ok(KeyRef::Unsupported {
                scheme,
                advice,
                reference: text.to_string(),
            });
        }
        if let Some(scheme) = FOREIGN.iter().find(|scheme| text.starts_with(**scheme)) {
            return Err(KeyError::ForeignUri {
                text: text.to_string(),
                scheme: (*scheme).to_string(),
            }
            .into());
        }
        if let Some(var) = text.strip_prefix("env:") {
            if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(KeyError::BadVariableName { text: text.to_string() }.into());
            }
            return Ok(KeyRef::Env(var.to_string()));
        }
        if text.is_empty() {
            return Err(KeyError::EmptyReference.into());
        }
        Ok(KeyRef::File(PathBuf::from(text)))
    }

    /// How the reference is shown in messages and transcripts.
    pub fn describe(&self) -> String {
        match self {
            KeyRef::File(path) => path.display().to_string(),
            KeyRef::Env(var) => format!("env:{var}"),
            KeyRef::Pkcs11(uri) => uri.text.clone(),
            KeyRef::AwsKms(key) => format!("awskms:{key}"),
            KeyRef::Unsupported { reference, .. } => reference.clone(),
        }
    }

    /// What unlocks the key, for a prompt: a token's PIN or a key file's passphrase.
    pub fn secret_name(&self) -> &'static str {
        match self {
            KeyRef::Pkcs11(_) => "PIN",
            _ => "passphrase",
        }
    }

    /// The PEM bytes behind a file or `env:` reference.
    pub fn read(&self) -> Result<Zeroizing<Vec<u8>>> {
        match self {
            KeyRef::File(path) => read_limited(path, MAX_KEY_FILE).map(Zeroizing::new),
            KeyRef::Env(var) => std::env::var(var)
                .map(|v| Zeroizing::new(v.into_bytes()))
                .map_err(|_| KeyError::VariableUnset { var: var.clone() }.into()),
            other => Err(KeyError::NotAFile {
                reference: other.describe(),
            }
            .into()),
        }
    }

    /// Loads the private key behind the reference as a [`Signer`]. `secret` gives a key
    /// file's passphrase or a token's PIN when one is needed (a prompt, usually). A key
    /// file that its group or others can read is used, with a warning on stderr.
    pub fn load(&self, secret: &mut dyn FnMut() -> Result<Zeroizing<String>>) -> Result<Box<dyn Signer>> {
        match self {
            KeyRef::File(_) | KeyRef::Env(_) => Ok(Box::new(self.load_software(secret)?)),
            KeyRef::Pkcs11(uri) => Ok(Box::new(pkcs11::Pkcs11Signer::open(uri, secret)?)),
            KeyRef::AwsKms(key) => Ok(Box::new(AwsKmsSigner::connect(key)?)),
            KeyRef::Unsupported { .. } => Err(self.unsupported()),
        }
    }

    /// Loads a key file or `env:` PEM; other references are refused.
    pub fn load_software(&self, secret: &mut dyn FnMut() -> Result<Zeroizing<String>>) -> Result<SoftwareSigner> {
        let pem = self.read()?;
        if let KeyRef::File(path) = self
            && let Some(warning) = loose_permissions_warning(path)
        {
            // A warning for the person at the terminal; a closed standard error loses it.
            let _ = writeln!(std::io::stderr().lock(), "{warning}");
        }
        let key = PrivateKey::from_pkcs8_pem(&self.describe(), &pem, secret)?;
        Ok(SoftwareSigner::new(key, self.describe()))
    }

    /// The public key behind the reference, to register or show it: a public key file (PEM
    /// or TUF key JSON) or private key file, or the key on a token or in a KMS.
    pub fn public_key(&self, secret: &mut dyn FnMut() -> Result<Zeroizing<String>>) -> Result<Key> {
        match self {
            KeyRef::File(_) | KeyRef::Env(_) => {
                let bytes = self.read()?;
                let is_private = std::str::from_utf8(&bytes).is_ok_and(|t| t.contains("PRIVATE KEY-----"));
                if is_private {
                    Ok(self.load_software(secret)?.public_key())
                } else {
                    super::parse_public_key(&self.describe(), &bytes)
                }
            }
            KeyRef::Pkcs11(uri) => pkcs11::read_public_key(uri, secret),
            KeyRef::AwsKms(key) => Ok(AwsKmsSigner::connect(key)?.public_key()),
            KeyRef::Unsupported { .. } => Err(self.unsupported()),
        }
    }

    /// What kind of reference this is, as the status shows it.
    pub fn kind(&self) -> &'static str {
        match self {
            KeyRef::File(_) => "file",
            KeyRef::Env(_) => "env",
            KeyRef::Pkcs11(_) => "pkcs11",
            KeyRef::AwsKms(_) => "awskms",
            KeyRef::Unsupported { scheme, .. } => scheme.trim_end_matches(':'),
        }
    }

    /// The refusal of a reference to a service trustroot names but cannot use.
    fn unsupported(&self) -> Error {
        let (scheme, advice) = match self {
            KeyRef::Unsupported { scheme, advice, .. } => (*scheme, *advice),
            // Never reached: every other reference loads.
            _ => ("this reference", "use a key file, a pkcs11: URI or awskms:KEY"),
        };
        KeyError::UnsupportedService { scheme, advice }.into()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn parses_every_reference_form() {
        assert_eq!(KeyRef::parse("env:MY_KEY").unwrap(), KeyRef::Env("MY_KEY".into()));
        assert_eq!(KeyRef::parse("a/b.pem").unwrap(), KeyRef::File("a/b.pem".into()));
        assert_eq!(
            KeyRef::parse("awskms:alias/tuf-online").unwrap(),
            KeyRef::AwsKms("alias/tuf-online".into())
        );
        let KeyRef::Pkcs11(uri) = KeyRef::parse("pkcs11:token=t;object=k").unwrap() else {
            panic!("not a pkcs11 reference")
        };
        assert_eq!(uri.object.as_deref(), Some("k"));
        assert!(matches!(
            KeyRef::parse("gcpkms:projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1").unwrap(),
            KeyRef::Unsupported { scheme: "gcpkms:", .. }
        ));
        assert!(matches!(
            KeyRef::parse("azurekms://vault.example/keys/k").unwrap(),
            KeyRef::Unsupported {
                scheme: "azurekms:",
                ..
            }
        ));
        assert!(matches!(
            KeyRef::parse("sigstore:"),
            Ok(KeyRef::Unsupported {
                scheme: "sigstore:",
                ..
            })
        ));
        assert!(matches!(
            KeyRef::parse("file2:k"),
            Err(Error::Key(KeyError::ForeignUri { .. }))
        ));
        for bad in ["env:", "env:A B", "", "awskms:", "pkcs11:object=k?pin-value=1"] {
            assert!(KeyRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_cloud_key_not_supported_yet_is_refused_by_name() {
        let reference = KeyRef::parse("gcpkms:projects/p").unwrap();
        let Err(err) = reference.load(&mut || panic!("no secret is asked for")) else {
            panic!("a gcpkms: key loaded")
        };
        assert!(err.to_string().contains("gcpkms:"), "{err}");
        assert!(err.to_string().contains("PKCS#11"), "{err}");
    }
}

#[cfg(test)]
mod online_uri_tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    /// The online key URIs real tuf-on-ci repositories carry (Sigstore's, Docker's, and the
    /// older double-slash Google form), each to the kind it is.
    #[test]
    fn real_online_key_uris_parse_to_their_kind_and_keep_what_is_written() {
        let sigstore = "gcpkms:projects/sigstore-root-signing/locations/global/keyRings/root/cryptoKeys/timestamp/cryptoKeyVersions/1";
        let old_gcp = "gcpkms://projects/sigstore-root-signing/locations/global/keyRings/root/cryptoKeys/timestamp/cryptoKeyVersions/1";
        let azure = "azurekms://npm-tuf-delegate.vault.azure.net/keys/npm-tuf-delegate-2024-08/e2772c1d01ca400da571096889f1660e";
        // tuf-on-ci's keyless online key (a workflow's Sigstore identity).
        let keyless = "sigstore:";
        for (uri, scheme) in [
            (sigstore, "gcpkms:"),
            (old_gcp, "gcpkms:"),
            (azure, "azurekms:"),
            (keyless, "sigstore:"),
        ] {
            let key = KeyRef::parse_online_uri(uri).unwrap();
            let KeyRef::Unsupported {
                scheme: parsed,
                reference,
                ..
            } = &key
            else {
                panic!("{uri}: {key:?}")
            };
            assert_eq!(*parsed, scheme);
            assert_eq!(reference, uri, "kept as written");
            assert_eq!(key.describe(), uri);
        }
        let docker = "awskms:arn:aws:kms:us-east-1:654654578585:key/751429f1-0000-0000-0000-000000000000";
        assert_eq!(
            KeyRef::parse_online_uri(docker).unwrap(),
            KeyRef::AwsKms("arn:aws:kms:us-east-1:654654578585:key/751429f1-0000-0000-0000-000000000000".into())
        );
        let uuid = "awskms:751429f1-0000-0000-0000-000000000000";
        assert_eq!(
            KeyRef::parse_online_uri(uuid).unwrap(),
            KeyRef::AwsKms("751429f1-0000-0000-0000-000000000000".into())
        );
        assert_eq!(KeyRef::parse_online_uri(uuid).unwrap().kind(), "awskms");
    }

    /// An online key URI in imported metadata is written by whoever wrote the metadata: one
    /// naming a local file (tuf-on-ci's test `file2:` signer, `file:`) or anything else
    /// must be refused, never read as a path, even when that file exists and holds a key.
    #[test]
    fn a_metadata_uri_naming_a_local_file_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("k");
        std::fs::write(&secret, "-----BEGIN PRIVATE KEY-----\n").unwrap();
        let named = secret.display().to_string();
        let uris = [
            format!("file2:{named}"),
            format!("file:{named}"),
            "file2:x".to_string(),
            "foo:bar".to_string(),
            "hsm:".to_string(),
            named.clone(),
            "env:HOME".to_string(),
            "pkcs11:token=t;object=k".to_string(),
        ];
        for uri in &uris {
            let Err(error) = KeyRef::parse_online_uri(uri) else {
                panic!("{uri} was accepted as an online key URI")
            };
            assert!(
                matches!(error, Error::Key(KeyError::NotAnOnlineUri { .. })),
                "{uri}: {error}"
            );
            assert!(error.to_string().contains("never read"), "{uri}: {error}");
        }
        // Where a key reference is expected, other tools' URIs are refused by name too.
        for uri in ["file2:x", "file:x"] {
            assert!(
                matches!(KeyRef::parse(uri), Err(Error::Key(KeyError::ForeignUri { .. }))),
                "{uri}"
            );
        }
    }
}
