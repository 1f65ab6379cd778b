//! The AWS KMS signer against a real moto server (keys made there, signatures checked by
//! trustroot_core), and against tiny hostile HTTP servers made here for what a real KMS
//! never does: hang, answer without end, return a signature that does not verify.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use trustroot_ceremony::error::{Error, KmsError, Unsuitable};
use trustroot_ceremony::keys::Signer;
use trustroot_ceremony::keys::awskms::{AwsKmsSigner, Limits};
use trustroot_test_support::moto::MotoServer;

fn env_of(pairs: Vec<(String, String)>) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.into_iter().collect();
    move |name| map.get(name).cloned()
}

fn connect(moto: &MotoServer, key: &str) -> Result<AwsKmsSigner, Error> {
    AwsKmsSigner::connect_with(key, &env_of(moto.env()), Limits::default())
}

/// A message of `len` bytes.
fn message(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// The largest message sent to KMS as RAW (moto implements RAW only: larger messages,
/// sent as their digest, are tested against the KMS-like server below).
const RAW_MAX: usize = 4096;

#[test]
fn p256_key_signs_and_core_verifies() {
    let moto = MotoServer::start();
    let id = moto.create_key("ECC_NIST_P256", "SIGN_VERIFY");
    let signer = connect(&moto, &id).unwrap();
    let key = signer.public_key();
    assert_eq!(
        (key.keytype.as_str(), key.scheme.as_str()),
        ("ecdsa", "ecdsa-sha2-nistp256")
    );
    let pem = key.keyval.public.clone().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    assert_eq!(signer.describe(), format!("awskms:{id}"));
    let public = key.public_key().unwrap();
    // Many signatures: KMS's ECDSA signatures are not low-S normalised, and each must verify.
    for i in 0..16u8 {
        let msg = [&message(RAW_MAX - 1)[..], &[i]].concat();
        let sig = signer.sign(&msg).unwrap();
        assert!(public.verify(&msg, &sig), "signature {i}");
        assert!(!public.verify(b"another message", &sig));
    }
}

#[test]
fn same_key_through_its_alias_and_its_arn() {
    let moto = MotoServer::start();
    let id = moto.create_key("ECC_NIST_P256", "SIGN_VERIFY");
    moto.create_alias("alias/online", &id);
    let by_id = connect(&moto, &id).unwrap();
    let by_alias = connect(&moto, "alias/online").unwrap();
    let arn = format!("arn:aws:kms:us-east-1:123456789012:key/{id}");
    let by_arn = connect(&moto, &arn).unwrap();
    assert_eq!(by_id.public_key(), by_alias.public_key());
    assert_eq!(by_id.public_key(), by_arn.public_key());
    let sig = by_alias.sign(b"hello").unwrap();
    assert!(by_id.public_key().public_key().unwrap().verify(b"hello", &sig));
}

/// moto registers an RSA_3072 key as TUF's `rsa` / `rsassa-pss-sha256`, but signs PSS with
/// the largest salt where AWS KMS (and the verifiers of TUF's scheme) use the digest's
/// length: its signature is refused, never returned. The PSS path that verifies is
/// tested with a KMS-like server below.
#[test]
fn rsa_3072_key_registers_and_a_pss_signature_with_another_salt_is_refused() {
    let moto = MotoServer::start();
    let id = moto.create_key("RSA_3072", "SIGN_VERIFY");
    let signer = connect(&moto, &id).unwrap();
    let key = signer.public_key();
    assert_eq!(
        (key.keytype.as_str(), key.scheme.as_str()),
        ("rsa", "rsassa-pss-sha256")
    );
    assert!(key.public_key().is_ok());
    assert!(matches!(
        signer.sign(&message(100)),
        Err(Error::Kms(KmsError::BadSignature { .. }))
    ));
}

#[test]
fn rsa_3072_key_signs_with_pss_as_aws_kms_does() {
    use base64::Engine as _;
    use rsa::pkcs8::EncodePublicKey as _;
    use sha2::Digest as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let private = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 3072).unwrap();
    let der = private.to_public_key().to_public_key_der().unwrap();
    let public = serde_json::json!({
        "KeyId": "arn:aws:kms:us-east-1:111122223333:key/rsa",
        "PublicKey": b64.encode(der.as_bytes()),
        "KeySpec": "RSA_3072",
        "KeyUsage": "SIGN_VERIFY",
        "SigningAlgorithms": ["RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PSS_SHA_256"],
    })
    .to_string();
    let endpoint = tiny_server_with_body(2, move |target, body, stream| {
        if target.ends_with("getpublickey") {
            return respond(stream, "200 OK", &public);
        }
        assert_eq!(body["SigningAlgorithm"], "RSASSA_PSS_SHA_256");
        let raw = b64.decode(body["Message"].as_str().unwrap()).unwrap();
        let digest = match body["MessageType"].as_str() {
            Some("DIGEST") => raw,
            _ => sha2::Sha256::digest(&raw).to_vec(),
        };
        // AWS KMS: salt as long as the digest, what `Pss::new` uses.
        let sig = private
            .sign_with_rng(&mut rand_core::OsRng, rsa::Pss::new::<sha2::Sha256>(), &digest)
            .unwrap();
        respond(
            stream,
            "200 OK",
            &serde_json::json!({"Signature": b64.encode(sig)}).to_string(),
        );
    });
    let signer = AwsKmsSigner::connect_with("alias/rsa", &env_for(&endpoint), short_limits()).unwrap();
    let key = signer.public_key();
    assert_eq!(
        (key.keytype.as_str(), key.scheme.as_str()),
        ("rsa", "rsassa-pss-sha256")
    );
    let msg = message(RAW_MAX + 10);
    let sig = signer.sign(&msg).unwrap();
    assert_eq!(sig.len(), 384);
    assert!(key.public_key().unwrap().verify(&msg, &sig));
}

/// An RSA key that offers only PKCS#1 v1.5 (no PSS) cannot sign TUF's RSA scheme.
#[test]
fn rsa_key_without_pss_is_refused() {
    use base64::Engine as _;
    use rsa::pkcs8::EncodePublicKey as _;
    let private = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 3072).unwrap();
    let der = private.to_public_key().to_public_key_der().unwrap();
    let public = serde_json::json!({
        "KeyId": "arn:aws:kms:us-east-1:111122223333:key/rsa",
        "PublicKey": base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        "KeySpec": "RSA_3072",
        "KeyUsage": "SIGN_VERIFY",
        "SigningAlgorithms": ["RSASSA_PKCS1_V1_5_SHA_256"],
    })
    .to_string();
    let endpoint = tiny_server(1, move |_, stream| respond(stream, "200 OK", &public));
    let error = AwsKmsSigner::connect_with("alias/rsa", &env_for(&endpoint), short_limits()).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Kms(KmsError::Unsuitable {
                problem: Unsuitable::NoPss { .. },
                ..
            })
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("RSASSA_PSS_SHA_256"), "{error}");
}

#[test]
fn symmetric_key_is_refused() {
    let moto = MotoServer::start();
    let id = moto.create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT");
    let error = connect(&moto, &id).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Kms(KmsError::Unsuitable {
                problem: Unsuitable::NotAsymmetric { .. },
                ..
            })
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains(&format!("awskms:{id}")), "{error}");
}

#[test]
fn encryption_key_is_refused() {
    let moto = MotoServer::start();
    let id = moto.create_key("RSA_3072", "ENCRYPT_DECRYPT");
    let error = connect(&moto, &id).unwrap_err().to_string();
    assert!(
        error.contains("ENCRYPT_DECRYPT") && error.contains("SIGN_VERIFY"),
        "{error}"
    );
}

#[test]
fn p384_and_secp256k1_keys_are_refused_with_the_reason() {
    let moto = MotoServer::start();
    let p384 = moto.create_key("ECC_NIST_P384", "SIGN_VERIFY");
    let error = connect(&moto, &p384).unwrap_err().to_string();
    assert!(
        error.contains("ecdsa-sha2-nistp384") && error.contains("tough"),
        "{error}"
    );
    let k1 = moto.create_key("ECC_SECG_P256K1", "SIGN_VERIFY");
    let error = connect(&moto, &k1).unwrap_err().to_string();
    assert!(error.contains("ECC_SECG_P256K1"), "{error}");
}

#[test]
fn unknown_key_is_a_clear_error_naming_it() {
    let moto = MotoServer::start();
    let error = connect(&moto, "alias/nobody").unwrap_err();
    assert!(matches!(&error, Error::Kms(KmsError::NotFound { .. })), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains("awskms:alias/nobody") && text.contains("no such KMS key"),
        "{text}"
    );
}

/// moto with IAM authentication on (after the set-up's requests, as AWS does for every
/// one): it recomputes each request's SigV4 signature with botocore's signer and checks the
/// user's policy. A key usable with kms:GetPublicKey and kms:Sign signs; a wrong secret, an
/// unknown access key and a policy without kms:Sign are refused, each named.
#[test]
fn sigv4_and_iam_permissions_checked_by_moto() {
    // The set-up below makes exactly 7 requests (a key, two users with a policy and an access key each), and the readiness probe of `MotoServer::start` one, before authentication starts.
    let moto = MotoServer::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "8")]);
    let out = moto.boto3(
        "import json, boto3\n\
         iam = boto3.client('iam', endpoint_url=kms.meta.endpoint_url, region_name='us-east-1', \
           aws_access_key_id='testing', aws_secret_access_key='testing-secret')\n\
         key = kms.create_key(KeySpec='ECC_NIST_P256', KeyUsage='SIGN_VERIFY')['KeyMetadata']['KeyId']\n\
         def user(name, actions):\n\
         \x20   iam.create_user(UserName=name)\n\
         \x20   policy = {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': actions, 'Resource': '*'}]}\n\
         \x20   iam.put_user_policy(UserName=name, PolicyName='kms', PolicyDocument=json.dumps(policy))\n\
         \x20   k = iam.create_access_key(UserName=name)['AccessKey']\n\
         \x20   return k['AccessKeyId'] + ' ' + k['SecretAccessKey']\n\
         print(key, user('signer', ['kms:GetPublicKey', 'kms:Sign']), user('reader', ['kms:GetPublicKey']))",
    );
    let words: Vec<&str> = out.split_whitespace().collect();
    let [key, signer_id, signer_secret, reader_id, reader_secret] = words[..] else {
        panic!("{out}");
    };
    let with = |id: &str, secret: &str| {
        let mut env = moto.env();
        env.retain(|(k, _)| !k.starts_with("AWS_ACCESS_KEY_ID") && !k.starts_with("AWS_SECRET"));
        env.push(("AWS_ACCESS_KEY_ID".into(), id.to_string()));
        env.push(("AWS_SECRET_ACCESS_KEY".into(), secret.to_string()));
        env_of(env)
    };
    let signer = AwsKmsSigner::connect_with(key, &with(signer_id, signer_secret), Limits::default()).unwrap();
    let sig = signer.sign(b"checked by moto").unwrap();
    assert!(
        signer
            .public_key()
            .public_key()
            .unwrap()
            .verify(b"checked by moto", &sig)
    );

    let error = AwsKmsSigner::connect_with(key, &with(signer_id, "not-the-secret"), Limits::default()).unwrap_err();
    assert!(
        matches!(&error, Error::Kms(KmsError::BadCredentials { .. })),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?}").contains("not-the-secret"), "{error}");
    let error =
        AwsKmsSigner::connect_with(key, &with("AKIDUNKNOWN000000000", signer_secret), Limits::default()).unwrap_err();
    assert!(
        matches!(&error, Error::Kms(KmsError::BadCredentials { .. })),
        "{error:?}"
    );

    let reader = AwsKmsSigner::connect_with(key, &with(reader_id, reader_secret), Limits::default()).unwrap();
    let error = reader.sign(b"not allowed").unwrap_err();
    assert!(matches!(&error, Error::Kms(KmsError::AccessDenied { .. })), "{error:?}");
    assert!(error.to_string().contains("kms:Sign"), "{error}");
}

// ---- hostile or broken endpoints -------------------------------------------------------

/// A one-thread HTTP server on 127.0.0.1 answering each request with `answer(target)`,
/// where target is the request's `X-Amz-Target` (`TrentService.Sign`...). Stops after
/// `count` requests.
fn tiny_server(count: usize, answer: impl Fn(&str, &mut TcpStream) + Send + 'static) -> String {
    tiny_server_with_body(count, move |target, _, stream| answer(target, stream))
}

/// [`tiny_server`], the answer also given the request's JSON body.
fn tiny_server_with_body(
    count: usize,
    answer: impl Fn(&str, &serde_json::Value, &mut TcpStream) + Send + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(count) {
            let mut stream = stream.unwrap();
            let (target, body) = read_request(&mut stream);
            answer(&target, &body, &mut stream);
        }
    });
    format!("http://{addr}")
}

/// Reads one request; returns its X-Amz-Target and JSON body.
fn read_request(stream: &mut TcpStream) -> (String, serde_json::Value) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let (mut target, mut length) = (String::new(), 0usize);
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("x-amz-target:") {
            target = v.trim().to_string();
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).unwrap();
    (target, serde_json::from_slice(&body).unwrap_or_default())
}

fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn env_for(endpoint: &str) -> impl Fn(&str) -> Option<String> {
    env_of(vec![
        ("AWS_ENDPOINT_URL".into(), endpoint.to_string()),
        ("AWS_REGION".into(), "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID".into(), "AKIDTEST".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "secret-that-must-not-leak".into()),
        ("AWS_SESSION_TOKEN".into(), "token-that-must-not-leak".into()),
        ("AWS_SHARED_CREDENTIALS_FILE".into(), "/nonexistent/credentials".into()),
        ("AWS_CONFIG_FILE".into(), "/nonexistent/config".into()),
    ])
}

fn short_limits() -> Limits {
    Limits {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        max_response: 64 * 1024,
    }
}

/// The GetPublicKey answer of a P-256 key.
fn get_public_key_answer(key: &p256::ecdsa::VerifyingKey) -> String {
    use base64::Engine as _;
    use p256::pkcs8::EncodePublicKey as _;
    let der = key.to_public_key_der().unwrap();
    serde_json::json!({
        "KeyId": "arn:aws:kms:us-east-1:111122223333:key/hostile",
        "PublicKey": base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        "KeySpec": "ECC_NIST_P256",
        "KeyUsage": "SIGN_VERIFY",
        "SigningAlgorithms": ["ECDSA_SHA_256"],
    })
    .to_string()
}

fn no_secret_in(error: &Error) {
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(
            !text.contains("secret-that-must-not-leak") && !text.contains("token-that-must-not-leak"),
            "{text}"
        );
    }
}

#[test]
fn endpoint_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    // Accepts and keeps the connection open, saying nothing.
    std::thread::spawn(move || {
        let held: Vec<TcpStream> = listener.incoming().take(1).map(Result::unwrap).collect();
        std::thread::sleep(Duration::from_secs(10));
        drop(held);
    });
    let started = Instant::now();
    let error = AwsKmsSigner::connect_with("alias/online", &env_for(&endpoint), short_limits()).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(6), "{:?}", started.elapsed());
    assert!(matches!(&error, Error::Kms(KmsError::Timeout { .. })), "{error:?}");
    assert!(error.to_string().contains("awskms:alias/online"), "{error}");
    no_secret_in(&error);
}

#[test]
fn endpoint_answering_without_end_is_cut_at_the_size_limit() {
    // No Content-Length: the body streams until the client stops reading.
    let endpoint = tiny_server(1, |_, stream| {
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nConnection: close\r\n\r\n");
        let chunk = vec![b' '; 16 * 1024];
        for _ in 0..1024 {
            if stream.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let error = AwsKmsSigner::connect_with("alias/online", &env_for(&endpoint), short_limits()).unwrap_err();
    assert!(
        matches!(&error, Error::Kms(KmsError::ResponseTooLarge { .. })),
        "{error:?}"
    );
    no_secret_in(&error);
}

#[test]
fn endpoint_announcing_a_huge_body_is_refused_before_reading_it() {
    let endpoint = tiny_server(1, |_, stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\nConnection: close\r\n\r\n{");
    });
    let error = AwsKmsSigner::connect_with("alias/online", &env_for(&endpoint), short_limits()).unwrap_err();
    assert!(
        matches!(&error, Error::Kms(KmsError::ResponseTooLarge { .. })),
        "{error:?}"
    );
}

#[test]
fn kms_returning_a_signature_of_another_key_is_refused() {
    let real = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let other = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let public = get_public_key_answer(real.verifying_key());
    let endpoint = tiny_server(2, move |target, stream| {
        if target.ends_with("getpublickey") {
            respond(stream, "200 OK", &public);
        } else {
            use base64::Engine as _;
            let sig: p256::ecdsa::Signature = p256::ecdsa::signature::Signer::sign(&other, b"msg");
            let body = serde_json::json!({
                "KeyId": "arn:aws:kms:us-east-1:111122223333:key/hostile",
                "Signature": base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes()),
                "SigningAlgorithm": "ECDSA_SHA_256",
            });
            respond(stream, "200 OK", &body.to_string());
        }
    });
    let signer = AwsKmsSigner::connect_with("alias/online", &env_for(&endpoint), short_limits()).unwrap();
    let error = signer.sign(b"msg").unwrap_err();
    assert!(matches!(&error, Error::Kms(KmsError::BadSignature { .. })), "{error:?}");
}

#[test]
fn kms_returning_garbage_for_a_signature_is_refused() {
    let real = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let public = get_public_key_answer(real.verifying_key());
    let endpoint = tiny_server(2, move |target, stream| {
        if target.ends_with("getpublickey") {
            respond(stream, "200 OK", &public);
        } else {
            respond(stream, "200 OK", r#"{"Signature": "AAAA"}"#);
        }
    });
    let signer = AwsKmsSigner::connect_with("alias/online", &env_for(&endpoint), short_limits()).unwrap();
    assert!(matches!(
        signer.sign(b"msg"),
        Err(Error::Kms(KmsError::BadSignature { .. }))
    ));
}

/// moto does not refuse a disabled key (it signs with it): the real KMS answer is replayed.
#[test]
fn disabled_key_error_names_the_key_and_the_remedy() {
    let endpoint = tiny_server(1, |_, stream| {
        respond(
            stream,
            "400 Bad Request",
            r#"{"__type":"DisabledException","message":"arn:aws:kms:us-east-1:111122223333:key/x is disabled."}"#,
        );
    });
    let error = AwsKmsSigner::connect_with("alias/online", &env_for(&endpoint), short_limits()).unwrap_err();
    assert!(matches!(&error, Error::Kms(KmsError::Disabled { .. })), "{error:?}");
    assert!(error.to_string().contains("enable-key"), "{error}");
}

#[test]
fn refused_credentials_and_throttling_are_named() {
    let endpoint = tiny_server(2, |_, stream| {
        respond(
            stream,
            "400 Bad Request",
            r#"{"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"The security token included in the request is invalid."}"#,
        );
    });
    let error = AwsKmsSigner::connect_with("k", &env_for(&endpoint), short_limits()).unwrap_err();
    assert!(
        matches!(&error, Error::Kms(KmsError::BadCredentials { .. })),
        "{error:?}"
    );
    no_secret_in(&error);
    let endpoint = tiny_server(1, |_, stream| {
        respond(
            stream,
            "400 Bad Request",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        );
    });
    let error = AwsKmsSigner::connect_with("k", &env_for(&endpoint), short_limits()).unwrap_err();
    assert!(matches!(&error, Error::Kms(KmsError::Throttled { .. })), "{error:?}");
}

#[test]
fn access_denied_says_which_permissions_are_needed() {
    let endpoint = tiny_server(1, |_, stream| {
        respond(
            stream,
            "400 Bad Request",
            r#"{"__type":"AccessDeniedException","message":"User is not authorized to perform: kms:GetPublicKey"}"#,
        );
    });
    let error = AwsKmsSigner::connect_with("alias/online", &env_for(&endpoint), short_limits())
        .unwrap_err()
        .to_string();
    assert!(error.contains("kms:GetPublicKey and kms:Sign"), "{error}");
}

#[test]
fn an_endpoint_nobody_listens_on_is_unreachable() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let error = AwsKmsSigner::connect_with("alias/online", &env_for(&endpoint), short_limits()).unwrap_err();
    assert!(matches!(&error, Error::Kms(KmsError::Unreachable { .. })), "{error:?}");
}

/// A metadata file over KMS's RAW limit goes as its SHA-256 with MessageType=DIGEST; a
/// KMS-like server that signs the digest it gets (as the real KMS does) yields a
/// signature over the whole message.
#[test]
fn message_over_the_raw_limit_is_signed_as_its_digest() {
    use base64::Engine as _;
    use p256::ecdsa::signature::hazmat::PrehashSigner as _;
    use sha2::Digest as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let public = get_public_key_answer(key.verifying_key());
    let msg = message(RAW_MAX + 1);
    let expected = sha2::Sha256::digest(&msg).to_vec();
    let endpoint = tiny_server_with_body(2, move |target, body, stream| {
        if target.ends_with("getpublickey") {
            return respond(stream, "200 OK", &public);
        }
        assert_eq!(body["MessageType"], "DIGEST");
        assert_eq!(body["SigningAlgorithm"], "ECDSA_SHA_256");
        let digest = b64.decode(body["Message"].as_str().unwrap()).unwrap();
        assert_eq!(digest, expected);
        let sig: p256::ecdsa::Signature = key.sign_prehash(&digest).unwrap();
        let answer = serde_json::json!({"Signature": b64.encode(sig.to_der().as_bytes())});
        respond(stream, "200 OK", &answer.to_string());
    });
    let signer = AwsKmsSigner::connect_with("alias/online", &env_for(&endpoint), short_limits()).unwrap();
    let sig = signer.sign(&msg).unwrap();
    assert!(signer.public_key().public_key().unwrap().verify(&msg, &sig));
}
