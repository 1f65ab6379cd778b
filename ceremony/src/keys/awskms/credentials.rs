//! Where the KMS client's region, credentials and endpoint come from. Credentials and the
//! profile are read by `trustroot_store::object::credentials` (the standard AWS
//! environment and the shared `~/.aws` files, shared with the S3 destination of a push);
//! this module adds what is KMS's own: the region of a key ARN and the KMS endpoint.

use trustroot_store::object::credentials::{self as shared, CredentialsError, Profile, var};

use crate::error::KmsError;

pub use shared::{Credentials, Env};

/// The region, endpoint and credentials for one key reference.
#[derive(Debug)]
pub struct Settings {
    pub region: String,
    pub endpoint: url::Url,
    pub credentials: Credentials,
}

/// Resolves the settings for `key` (the text after `awskms:`): a region in the key's ARN
/// wins over the environment.
pub fn resolve(key: &str, env: Env<'_>) -> Result<Settings, KmsError> {
    let profile = Profile::read(env).map_err(|e| for_key(key, e))?;
    let region = arn_region(key)
        .map(str::to_string)
        .or_else(|| profile.region(env))
        .ok_or_else(|| KmsError::NoRegion { key: key.to_string() })?;
    if !region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(KmsError::BadRegion {
            key: key.to_string(),
            region,
        });
    }
    let endpoint = endpoint(key, &region, env)?;
    let credentials = profile.credentials(env).map_err(|e| for_key(key, e))?;
    Ok(Settings {
        region,
        endpoint,
        credentials,
    })
}

/// The shared resolver's refusal, said about this key.
fn for_key(key: &str, error: CredentialsError) -> KmsError {
    let key = key.to_string();
    match error {
        CredentialsError::NoCredentials => KmsError::NoCredentials { key },
        CredentialsError::HalfCredentials { set, missing } => KmsError::HalfCredentials { key, set, missing },
        CredentialsError::NoSuchProfile {
            profile,
            credentials,
            config,
        } => KmsError::NoSuchProfile {
            key,
            profile,
            credentials,
            config,
        },
        CredentialsError::Unsupported { profile, how } => KmsError::UnsupportedCredentials { key, profile, how },
        CredentialsError::ConfigFile { path, reason } => KmsError::ConfigFile { key, path, reason },
    }
}

/// The region of a key or alias ARN (`arn:PARTITION:kms:REGION:ACCOUNT:key/ID`).
pub fn arn_region(key: &str) -> Option<&str> {
    let mut parts = key.split(':');
    (parts.next() == Some("arn")).then_some(())?;
    let _partition = parts.next()?;
    (parts.next() == Some("kms")).then_some(())?;
    parts.next().filter(|region| !region.is_empty())
}

/// `AWS_ENDPOINT_URL_KMS`, then `AWS_ENDPOINT_URL` (a local KMS such as moto), else the
/// region's public KMS endpoint.
fn endpoint(key: &str, region: &str, env: Env<'_>) -> Result<url::Url, KmsError> {
    for variable in ["AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL"] {
        if let Some(text) = var(env, variable) {
            let bad = || KmsError::BadEndpoint {
                key: key.to_string(),
                endpoint: text.clone(),
                variable,
            };
            let url = url::Url::parse(&text).map_err(|_| bad())?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(bad());
            }
            return Ok(url);
        }
    }
    let text = format!("https://kms.{region}.amazonaws.com/");
    url::Url::parse(&text).map_err(|_| KmsError::BadRegion {
        key: key.to_string(),
        region: region.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    use trustroot_test_support::aws_env::{env_of, shared_files as files};

    #[test]
    fn environment_keys_region_and_endpoint() {
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
            ("AWS_SESSION_TOKEN", "t0ken"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("HOME", "/nonexistent"),
        ]);
        let settings = resolve("alias/online", &env).unwrap();
        assert_eq!(settings.region, "eu-west-1");
        assert_eq!(settings.endpoint.as_str(), "http://127.0.0.1:5000/");
        assert_eq!(settings.credentials.access_key_id(), "AKID");
        assert_eq!(settings.credentials.session_token(), Some("t0ken"));
    }

    #[test]
    fn region_of_the_arn_wins_and_the_public_endpoint_follows_it() {
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
            ("AWS_REGION", "eu-west-1"),
            ("HOME", "/nonexistent"),
        ]);
        let key = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        let settings = resolve(key, &env).unwrap();
        assert_eq!(settings.region, "us-west-2");
        assert_eq!(settings.endpoint.as_str(), "https://kms.us-west-2.amazonaws.com/");
    }

    #[test]
    fn kms_endpoint_variable_wins_over_the_general_one() {
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:2"),
            ("HOME", "/nonexistent"),
        ]);
        assert_eq!(resolve("k", &env).unwrap().endpoint.port(), Some(2));
    }

    #[test]
    fn profile_from_the_shared_files() {
        let (_dir, mut vars) = files(
            "[default]\naws_access_key_id = DEF\naws_secret_access_key = d\n\n[ops]\naws_access_key_id = OPS\naws_secret_access_key = o\naws_session_token = tok\n",
            "[default]\nregion = us-east-1\n[profile ops]\nregion = eu-central-1\ns3 =\n  max_concurrent_requests = 2\n",
        );
        vars.push(("AWS_PROFILE".into(), "ops".into()));
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let settings = resolve("alias/online", &env_of(&pairs)).unwrap();
        assert_eq!(settings.region, "eu-central-1");
        assert_eq!(settings.credentials.access_key_id(), "OPS");
        assert_eq!(settings.credentials.session_token(), Some("tok"));
    }

    #[test]
    fn sso_only_profile_is_refused_with_the_reason() {
        let (_dir, mut vars) = files("", "[profile sso]\nsso_session = corp\nregion = us-east-1\n");
        vars.push(("AWS_PROFILE".into(), "sso".into()));
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let error = resolve("alias/online", &env_of(&pairs)).unwrap_err().to_string();
        assert!(
            error.contains("SSO") && error.contains("awskms:alias/online"),
            "{error}"
        );
    }

    #[test]
    fn missing_profile_names_both_files() {
        let (_dir, mut vars) = files("", "");
        vars.push(("AWS_PROFILE".into(), "nope".into()));
        vars.push(("AWS_REGION".into(), "us-east-1".into()));
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let error = resolve("k", &env_of(&pairs)).unwrap_err().to_string();
        assert!(error.contains("'nope'") && error.contains("credentials"), "{error}");
    }

    #[test]
    fn no_region_and_half_credentials_are_refused() {
        let env = env_of(&[("AWS_ACCESS_KEY_ID", "AKID"), ("HOME", "/nonexistent")]);
        assert!(matches!(resolve("k", &env), Err(KmsError::NoRegion { .. })));
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_REGION", "x"),
            ("HOME", "/nonexistent"),
        ]);
        assert!(matches!(resolve("k", &env), Err(KmsError::HalfCredentials { .. })));
    }

    #[test]
    fn a_region_that_could_change_the_host_is_refused() {
        let env = env_of(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_REGION", "evil.example/"),
            ("HOME", "/nonexistent"),
        ]);
        assert!(matches!(resolve("k", &env), Err(KmsError::BadRegion { .. })));
    }
}
