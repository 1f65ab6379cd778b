//! Where the client's region, credentials and endpoint come from: the standard AWS
//! environment and the shared `~/.aws/credentials` and `~/.aws/config` files, as the AWS
//! CLI reads them.
//!
//! Supported: static keys (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional
//! `AWS_SESSION_TOKEN`) in the environment or in a profile. Web identity, SSO, assumed
//! roles, `credential_process` and instance metadata are not yet: a profile that only has
//! those is refused with a sentence that says so, never silently skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pkcs8::der::zeroize::Zeroizing;

use crate::error::KmsError;

/// The environment, as a lookup: `std::env::var` in use, a map in tests (so no test
/// changes the process environment).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The largest shared config or credentials file read.
const MAX_CONFIG_FILE: u64 = 1024 * 1024;

/// AWS credentials. The secret and the session token never leave this struct but into a
/// request signature: its `Debug` shows the access key ID only.
pub struct Credentials {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"(hidden)")
            .field("session_token", &self.session_token.as_ref().map(|_| "(hidden)"))
            .finish()
    }
}

impl Credentials {
    pub fn new(access_key_id: &str, secret_access_key: &str, session_token: Option<String>) -> Self {
        Credentials {
            access_key_id: access_key_id.to_string(),
            secret_access_key: Zeroizing::new(secret_access_key.to_string()),
            session_token: session_token.map(Zeroizing::new),
        }
    }
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
    pub(crate) fn secret(&self) -> &str {
        &self.secret_access_key
    }
    pub(crate) fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref().map(String::as_str)
    }
}

/// The region, endpoint and credentials for one key reference.
#[derive(Debug)]
pub struct Settings {
    pub region: String,
    pub endpoint: url::Url,
    pub credentials: Credentials,
}

/// A profile's `key = value` pairs.
type Section = BTreeMap<String, String>;

/// The shared files' path and the profile's section of each (absent when the file or
/// section is).
struct Profile {
    name: String,
    credentials_path: PathBuf,
    config_path: PathBuf,
    credentials: Option<Section>,
    config: Option<Section>,
}

impl Profile {
    /// A value of the profile, the credentials file first (as the AWS CLI reads them).
    fn get(&self, name: &str) -> Option<&str> {
        [&self.credentials, &self.config]
            .into_iter()
            .flatten()
            .find_map(|section| section.get(name))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Resolves the settings for `key` (the text after `awskms:`): a region in the key's ARN
/// wins over the environment.
pub fn resolve(key: &str, env: Env<'_>) -> Result<Settings, KmsError> {
    let profile = read_profile(key, env)?;
    let region = arn_region(key)
        .map(str::to_string)
        .or_else(|| var(env, "AWS_REGION"))
        .or_else(|| var(env, "AWS_DEFAULT_REGION"))
        .or_else(|| profile.get("region").map(str::to_string))
        .ok_or_else(|| KmsError::NoRegion { key: key.to_string() })?;
    if !region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(KmsError::BadRegion {
            key: key.to_string(),
            region,
        });
    }
    let endpoint = endpoint(key, &region, env)?;
    let credentials = credentials(key, &profile, env)?;
    Ok(Settings {
        region,
        endpoint,
        credentials,
    })
}

/// The region of a key or alias ARN (`arn:PARTITION:kms:REGION:ACCOUNT:key/ID`).
pub fn arn_region(key: &str) -> Option<&str> {
    let mut parts = key.split(':');
    (parts.next() == Some("arn")).then_some(())?;
    let _partition = parts.next()?;
    (parts.next() == Some("kms")).then_some(())?;
    parts.next().filter(|region| !region.is_empty())
}

/// A set, non-empty variable.
fn var(env: Env<'_>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.is_empty())
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

/// Static keys from the environment, else from the profile.
fn credentials(key: &str, profile: &Profile, env: Env<'_>) -> Result<Credentials, KmsError> {
    let id = var(env, "AWS_ACCESS_KEY_ID");
    let secret = var(env, "AWS_SECRET_ACCESS_KEY").map(Zeroizing::new);
    match (id, secret) {
        (Some(id), Some(secret)) => return Ok(Credentials::new(&id, &secret, var(env, "AWS_SESSION_TOKEN"))),
        (Some(_), None) => return Err(half(key, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")),
        (None, Some(_)) => return Err(half(key, "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID")),
        (None, None) => {}
    }
    if let (Some(id), Some(secret)) = (profile.get("aws_access_key_id"), profile.get("aws_secret_access_key")) {
        return Ok(Credentials::new(
            id,
            secret,
            profile.get("aws_session_token").map(str::to_string),
        ));
    }
    if let Some(how) = unsupported_source(profile, env) {
        return Err(KmsError::UnsupportedCredentials {
            key: key.to_string(),
            profile: profile.name.clone(),
            how,
        });
    }
    if profile.credentials.is_none() && profile.config.is_none() && profile.name != "default" {
        return Err(KmsError::NoSuchProfile {
            key: key.to_string(),
            profile: profile.name.clone(),
            credentials: profile.credentials_path.clone(),
            config: profile.config_path.clone(),
        });
    }
    Err(KmsError::NoCredentials { key: key.to_string() })
}

fn half(key: &str, set: &'static str, missing: &'static str) -> KmsError {
    KmsError::HalfCredentials {
        key: key.to_string(),
        set,
        missing,
    }
}

/// A credential source the profile or environment names that this client cannot use yet.
fn unsupported_source(profile: &Profile, env: Env<'_>) -> Option<&'static str> {
    if var(env, "AWS_WEB_IDENTITY_TOKEN_FILE").is_some() || profile.get("web_identity_token_file").is_some() {
        return Some("web identity (a token file)");
    }
    if profile.get("sso_session").is_some() || profile.get("sso_start_url").is_some() {
        return Some("IAM Identity Center (SSO)");
    }
    if profile.get("credential_process").is_some() {
        return Some("credential_process");
    }
    if profile.get("role_arn").is_some() {
        return Some("an assumed role (role_arn)");
    }
    None
}

/// The profile `AWS_PROFILE` names (else `default`) in both shared files.
fn read_profile(key: &str, env: Env<'_>) -> Result<Profile, KmsError> {
    let home = var(env, "HOME").map(PathBuf::from).unwrap_or_default();
    let credentials_path = var(env, "AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".aws").join("credentials"));
    let config_path = var(env, "AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".aws").join("config"));
    let name = var(env, "AWS_PROFILE").unwrap_or_else(|| "default".to_string());
    let credentials = read_ini(key, &credentials_path)?.and_then(|mut sections| sections.remove(&name));
    // The config file names a profile `[profile NAME]`, except `[default]`.
    let config = read_ini(key, &config_path)?.and_then(|mut sections| {
        sections
            .remove(&format!("profile {name}"))
            .or_else(|| (name == "default").then(|| sections.remove("default")).flatten())
    });
    Ok(Profile {
        name,
        credentials_path,
        config_path,
        credentials,
        config,
    })
}

/// The sections of an INI file, `None` when there is no file.
fn read_ini(key: &str, path: &Path) -> Result<Option<BTreeMap<String, Section>>, KmsError> {
    let bytes = match crate::keys::read_limited(path, MAX_CONFIG_FILE) {
        Ok(bytes) => bytes,
        Err(_) if !path.exists() => return Ok(None),
        Err(e) => {
            return Err(KmsError::ConfigFile {
                key: key.to_string(),
                path: path.to_path_buf(),
                reason: e.to_string(),
            });
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| KmsError::ConfigFile {
        key: key.to_string(),
        path: path.to_path_buf(),
        reason: "not UTF-8 text".to_string(),
    })?;
    Ok(Some(parse_ini(&text)))
}

/// `[section]` headers and `name = value` lines; comments (`#`, `;`) and the indented
/// sub-settings of nested blocks (e.g. `s3 =` followed by indented lines) are skipped.
fn parse_ini(text: &str) -> BTreeMap<String, Section> {
    let mut sections: BTreeMap<String, Section> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            sections.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        if let (Some(section), Some((name, value))) = (&current, line.split_once('=')) {
            sections
                .entry(section.clone())
                .or_default()
                .insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    sections
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use std::collections::HashMap;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    fn files(credentials: &str, config: &str) -> (tempfile::TempDir, Vec<(String, String)>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("credentials"), credentials).unwrap();
        std::fs::write(dir.path().join("config"), config).unwrap();
        let vars = vec![
            (
                "AWS_SHARED_CREDENTIALS_FILE".to_string(),
                dir.path().join("credentials").display().to_string(),
            ),
            (
                "AWS_CONFIG_FILE".to_string(),
                dir.path().join("config").display().to_string(),
            ),
        ];
        (dir, vars)
    }

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

    #[test]
    fn debug_hides_the_secret_and_the_token() {
        let credentials = Credentials::new("AKID", "very-secret", Some("session-secret".into()));
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKID"));
        assert!(
            !shown.contains("very-secret") && !shown.contains("session-secret"),
            "{shown}"
        );
    }
}
