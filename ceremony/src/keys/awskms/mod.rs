//! Keys in AWS KMS (`awskms:KEY`): a [`Signer`] whose private key never leaves KMS.
//!
//! `KEY` is a key ID, a key ARN, an alias name (`alias/NAME`) or an alias ARN, the forms
//! tuf-on-ci and securesystemslib write. The client is ours (SigV4 over reqwest, see
//! `sigv4`), not the AWS SDK: docs/decisions/aws-kms-client.md says why.
//!
//! Usable keys: `ECC_NIST_P256` (TUF `ecdsa` / `ecdsa-sha2-nistp256`) and `RSA_3072` /
//! `RSA_4096` offering `RSASSA_PSS_SHA_256` (TUF `rsa` / `rsassa-pss-sha256`).

mod api;
mod credentials;
mod sigv4;

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use trustroot_core::Key;
use trustroot_core::keys::PublicKey;

pub use api::Limits;
pub use credentials::{Credentials, Env};

use crate::error::{KmsError, Result, Unsuitable};
use crate::keys::Signer;

/// The largest message KMS signs as `RAW`; larger ones are sent as their digest.
const MAX_RAW_MESSAGE: usize = 4096;

/// The longest key reference accepted (an alias ARN is well under 300 characters).
const MAX_REFERENCE: usize = 2048;

/// How KMS signs for a TUF scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    EcdsaSha256,
    RsaPssSha256,
}

impl Algorithm {
    fn kms_name(self) -> &'static str {
        match self {
            Algorithm::EcdsaSha256 => "ECDSA_SHA_256",
            Algorithm::RsaPssSha256 => "RSASSA_PSS_SHA_256",
        }
    }
}

/// A signing key in AWS KMS.
pub struct AwsKmsSigner {
    /// What follows `awskms:`, as given.
    reference: String,
    /// The key's ARN as GetPublicKey returned it: every signature is asked of exactly
    /// this key, even if the alias is pointed elsewhere meanwhile.
    key_arn: String,
    algorithm: Algorithm,
    key: Key,
    verifier: PublicKey,
    client: api::Client,
}

impl std::fmt::Debug for AwsKmsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsKmsSigner")
            .field("reference", &self.reference)
            .field("key_arn", &self.key_arn)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl AwsKmsSigner {
    /// Connects to the key `key` (what follows `awskms:`) with the region, credentials and
    /// endpoint of the process environment, and reads its public key.
    pub fn connect(key: &str) -> Result<AwsKmsSigner> {
        AwsKmsSigner::connect_with(key, &|name| std::env::var(name).ok(), Limits::default())
    }

    /// [`AwsKmsSigner::connect`] with the environment as a lookup and other limits.
    pub fn connect_with(key: &str, env: Env<'_>, limits: Limits) -> Result<AwsKmsSigner> {
        check_reference(key)?;
        let settings = credentials::resolve(key, env)?;
        let client = api::Client::new(key, settings, limits)?;
        let answer = client.call("GetPublicKey", &json!({ "KeyId": key }))?;
        let described = Described::from_answer(&client, &answer)?;
        let (algorithm, tuf_key) = tuf_key(key, &described)?;
        let verifier = tuf_key.public_key().map_err(|reason| KmsError::Unsuitable {
            key: key.to_string(),
            problem: Unsuitable::PublicKey { reason },
        })?;
        Ok(AwsKmsSigner {
            reference: key.to_string(),
            key_arn: described.key_id,
            algorithm,
            key: tuf_key,
            verifier,
            client,
        })
    }

    /// The region the key is used in.
    pub fn region(&self) -> &str {
        self.client.region()
    }
}

impl Signer for AwsKmsSigner {
    fn public_key(&self) -> Key {
        self.key.clone()
    }

    /// Signs `msg` with ECDSA or RSA-PSS over its SHA-256.
    ///
    /// KMS signs a `RAW` message of at most 4096 bytes, and root or snapshot metadata can
    /// be larger: past that size the SHA-256 is computed here and sent with
    /// `MessageType=DIGEST`, which gives the same signature. Up to it the message goes as
    /// `RAW` (TUF metadata is public), the form emulators such as moto implement too (moto
    /// 5.2 ignores DIGEST and would hash the digest again: a signature that the check below
    /// refuses).
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        let (message, message_type) = if msg.len() <= MAX_RAW_MESSAGE {
            (msg.to_vec(), "RAW")
        } else {
            (Sha256::digest(msg).to_vec(), "DIGEST")
        };
        let body = json!({
            "KeyId": self.key_arn,
            "Message": base64::engine::general_purpose::STANDARD.encode(message),
            "MessageType": message_type,
            "SigningAlgorithm": self.algorithm.kms_name(),
        });
        let answer = self.client.call("Sign", &body)?;
        let signature = answer
            .get("Signature")
            .and_then(Value::as_str)
            .and_then(|text| base64::engine::general_purpose::STANDARD.decode(text).ok())
            .ok_or_else(|| self.client.bad_response("Sign", "no base64 Signature"))?;
        // ECDSA comes back DER-encoded and RSA-PSS raw: exactly TUF's encodings. A
        // signature that does not verify (a faulty or hostile endpoint) is never returned.
        if !self.verifier.verify(msg, &signature) {
            return Err(KmsError::BadSignature {
                key: self.reference.clone(),
            }
            .into());
        }
        Ok(signature)
    }

    fn describe(&self) -> String {
        format!("awskms:{}", self.reference)
    }
}

/// A key ID, key ARN, alias name or alias ARN: printable ASCII without spaces.
fn check_reference(key: &str) -> Result<(), KmsError> {
    let bad = |reason| KmsError::BadReference {
        key: trustroot_core::display::escape(key).into_owned(),
        reason,
    };
    if key.is_empty() {
        return Err(bad("empty"));
    }
    if key.len() > MAX_REFERENCE {
        return Err(bad("too long"));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("spaces or characters other than printable ASCII"));
    }
    if key.starts_with("arn:") && credentials::arn_region(key).is_none() {
        return Err(bad(
            "an ARN must be arn:PARTITION:kms:REGION:ACCOUNT:key/ID or :alias/NAME",
        ));
    }
    Ok(())
}

/// What GetPublicKey says of a key.
struct Described {
    key_id: String,
    spec: String,
    usage: String,
    algorithms: Vec<String>,
    der: Vec<u8>,
}

impl Described {
    fn from_answer(client: &api::Client, answer: &Value) -> Result<Described, KmsError> {
        let text = |name: &str| answer.get(name).and_then(Value::as_str).map(str::to_string);
        let bad = |reason: &str| client.bad_response("GetPublicKey", reason);
        // KeySpec replaced CustomerMasterKeySpec; KMS sends both, some emulators the old one.
        let spec = text("KeySpec")
            .or_else(|| text("CustomerMasterKeySpec"))
            .ok_or_else(|| bad("no KeySpec"))?;
        let der = text("PublicKey")
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .unwrap_or_default();
        Ok(Described {
            key_id: text("KeyId").ok_or_else(|| bad("no KeyId"))?,
            usage: text("KeyUsage").unwrap_or_default(),
            algorithms: answer
                .get("SigningAlgorithms")
                .and_then(Value::as_array)
                .map(|list| list.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default(),
            spec,
            der,
        })
    }

    fn offers(&self, algorithm: Algorithm) -> bool {
        self.algorithms.iter().any(|a| a == algorithm.kms_name())
    }
}

/// The TUF key object for a KMS key, or why the key cannot sign TUF metadata.
fn tuf_key(key: &str, described: &Described) -> Result<(Algorithm, Key), KmsError> {
    let refuse = |problem| KmsError::Unsuitable {
        key: key.to_string(),
        problem,
    };
    let spec = trustroot_core::display::escape(&described.spec).into_owned();
    if spec.starts_with("SYMMETRIC") || spec.starts_with("HMAC") {
        return Err(refuse(Unsuitable::NotAsymmetric { spec }));
    }
    if described.usage != "SIGN_VERIFY" {
        return Err(refuse(Unsuitable::Usage {
            usage: trustroot_core::display::escape(&described.usage).into_owned(),
        }));
    }
    let algorithms = trustroot_core::display::escape(&described.algorithms.join(", ")).into_owned();
    let public_key = |reason: String| refuse(Unsuitable::PublicKey { reason });
    match spec.as_str() {
        "ECC_NIST_P256" => {
            if !described.offers(Algorithm::EcdsaSha256) {
                return Err(refuse(Unsuitable::NoEcdsaSha256 { algorithms }));
            }
            let key = crate::keys::p256_key_from_spki_der(&described.der).map_err(public_key)?;
            Ok((Algorithm::EcdsaSha256, key))
        }
        "RSA_3072" | "RSA_4096" => {
            if !described.offers(Algorithm::RsaPssSha256) {
                return Err(refuse(Unsuitable::NoPss { algorithms }));
            }
            let key = crate::keys::rsa_key_from_spki_der(&described.der).map_err(public_key)?;
            Ok((Algorithm::RsaPssSha256, key))
        }
        "ECC_NIST_P384" => Err(refuse(Unsuitable::P384)),
        _ => Err(refuse(Unsuitable::Spec { spec })),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    #[test]
    fn references_of_every_form_are_accepted() {
        for key in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "alias/online",
            "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-2:111122223333:alias/online",
        ] {
            check_reference(key).unwrap();
        }
    }

    #[test]
    fn bad_references_are_refused() {
        for key in ["", "alias/a b", "arn:aws:s3:::bucket", "a\nb"] {
            assert!(check_reference(key).is_err(), "{key:?}");
        }
    }
}
