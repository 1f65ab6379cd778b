//! Tests of `keys`, kept beside it so that the module itself stays short.

#![allow(clippy::unwrap_used, clippy::panic)]
use super::*;

const FAST: KdfCost = KdfCost { log_n: 10 };

fn no_passphrase() -> Result<Zeroizing<String>> {
    panic!("no passphrase expected")
}

#[test]
fn round_trips_plain_and_encrypted_keys_of_both_types() {
    for key_type in [KeyType::Ed25519, KeyType::EcdsaP256] {
        let key = PrivateKey::generate(key_type);
        let public = key.public_key();
        let plain = key.to_pkcs8_pem(None, FAST).unwrap();
        assert!(plain.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = PrivateKey::from_pkcs8_pem("k", plain.as_bytes(), &mut no_passphrase).unwrap();
        assert_eq!(back.public_key(), public);

        let encrypted = key.to_pkcs8_pem(Some("correct horse"), FAST).unwrap();
        assert!(encrypted.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let mut good = || Ok(Zeroizing::new("correct horse".to_string()));
        let back = PrivateKey::from_pkcs8_pem("k", encrypted.as_bytes(), &mut good).unwrap();
        assert_eq!(back.public_key(), public);
        let mut bad = || Ok(Zeroizing::new("wrong".to_string()));
        let err = PrivateKey::from_pkcs8_pem("k", encrypted.as_bytes(), &mut bad).unwrap_err();
        assert!(matches!(err, Error::WrongPassphrase { .. }), "{err}");

        // Signatures verify under the TUF key object.
        let signer = SoftwareSigner::new(back, "test");
        let sig = signer.sign(b"message").unwrap();
        assert!(public.public_key().unwrap().verify(b"message", &sig));
        assert!(!public.public_key().unwrap().verify(b"other", &sig));

        // The public PEM parses back to the same TUF key.
        let pem = signer.key.public_pem().unwrap();
        assert_eq!(parse_public_key("pub", pem.as_bytes()).unwrap(), public);
    }
}

#[test]
fn tuf_key_objects_use_the_spec_encodings() {
    let ed = PrivateKey::generate(KeyType::Ed25519).public_key();
    assert_eq!((ed.keytype.as_str(), ed.scheme.as_str()), ("ed25519", "ed25519"));
    assert_eq!(ed.keyval.public.as_deref().unwrap().len(), 64);
    let ec = PrivateKey::generate(KeyType::EcdsaP256).public_key();
    assert_eq!(
        (ec.keytype.as_str(), ec.scheme.as_str()),
        ("ecdsa", "ecdsa-sha2-nistp256")
    );
    assert!(
        ec.keyval
            .public
            .as_deref()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----\n")
    );
}

#[test]
fn refuses_private_keys_where_public_ones_belong_and_garbage() {
    let key = PrivateKey::generate(KeyType::Ed25519);
    let pem = key.to_pkcs8_pem(None, FAST).unwrap();
    assert!(parse_public_key("pub", pem.as_bytes()).is_err());
    assert!(parse_public_key("pub", b"\xff\xfe").is_err());
    assert!(parse_public_key("pub", b"{\"keytype\":\"ed25519\"}").is_err());
    assert!(PrivateKey::from_pkcs8_pem("k", b"garbage", &mut no_passphrase).is_err());
}

/// An encrypted key file whose KDF parameters are `params`, with dummy ciphertext: the
/// key derivation is never run to build it.
fn encrypted_pem(params: pkcs8::pkcs5::pbes2::Parameters<'_>) -> String {
    use pkcs8::der::Encode as _;
    let info = pkcs8::EncryptedPrivateKeyInfo {
        encryption_algorithm: pkcs8::pkcs5::EncryptionScheme::Pbes2(params),
        encrypted_data: &[0u8; 48],
    };
    let der = info.to_der().unwrap();
    pkcs8::der::pem::encode_string("ENCRYPTED PRIVATE KEY", LineEnding::LF, &der).unwrap()
}

#[test]
fn key_files_asking_for_a_huge_kdf_cost_are_refused_before_the_passphrase() {
    let (salt, iv) = ([1u8; 16], [2u8; 16]);
    let scrypt = pkcs8::pkcs5::scrypt::Params::new(24, 8, 1, 32).unwrap();
    let pem = encrypted_pem(pkcs8::pkcs5::pbes2::Parameters::scrypt_aes256cbc(scrypt, &salt, &iv).unwrap());
    let err = PrivateKey::from_pkcs8_pem("k", pem.as_bytes(), &mut no_passphrase).unwrap_err();
    assert!(err.to_string().contains("would need 16384 MiB"), "{err}");
    let pem = encrypted_pem(pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(50_000_000, &salt, &iv).unwrap());
    let err = PrivateKey::from_pkcs8_pem("k", pem.as_bytes(), &mut no_passphrase).unwrap_err();
    assert!(err.to_string().contains("PBKDF2 iteration count 50000000"), "{err}");
    // A cost we write ourselves is accepted.
    let key = PrivateKey::generate(KeyType::Ed25519);
    let pem = key.to_pkcs8_pem(Some("pass"), FAST).unwrap();
    let mut good = || Ok(Zeroizing::new("pass".to_string()));
    assert!(PrivateKey::from_pkcs8_pem("k", pem.as_bytes(), &mut good).is_ok());
}

#[test]
fn key_refs() {
    assert_eq!(KeyRef::parse("env:MY_KEY").unwrap(), KeyRef::Env("MY_KEY".into()));
    assert_eq!(KeyRef::parse("a/b.pem").unwrap(), KeyRef::File("a/b.pem".into()));
    assert!(KeyRef::parse("env:").is_err());
    assert_eq!(
        KeyRef::parse("awskms:alias/online").unwrap(),
        KeyRef::AwsKms("alias/online".into())
    );
    assert!(KeyRef::parse("awskms:").is_err());
    assert!(KeyRef::parse("env:A B").is_err());
}

#[test]
fn p256_public_pem_is_what_the_spki_encoder_writes() {
    use pkcs8::EncodePublicKey as _;
    for _ in 0..8 {
        let PrivateKey::EcdsaP256(key) = PrivateKey::generate(KeyType::EcdsaP256) else {
            panic!("not a P-256 key");
        };
        let expected = key.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
        assert_eq!(super::p256_public_pem(key.verifying_key()), expected);
    }
}

#[test]
fn rsa_public_key_pem_is_an_rsassa_pss_key() {
    use pkcs8::EncodePublicKey as _;
    let private = rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
    let pem = private.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
    let key = parse_public_key("rsa.pub", pem.as_bytes()).unwrap();
    assert_eq!(
        (key.keytype.as_str(), key.scheme.as_str()),
        ("rsa", "rsassa-pss-sha256")
    );
    assert_eq!(key.keyval.public.as_deref(), Some(pem.as_str()));
}
