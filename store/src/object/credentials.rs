//! AWS settings from the standard environment and the shared `~/.aws/credentials` and
//! `~/.aws/config` files, as the AWS CLI reads them. Shared by ceremony's AWS KMS signer
//! and the S3 destination of a push, so both find the same credentials the same way
//! (object_store's own `from_env` reads the environment only, never the files).
//!
//! Supported: static keys (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional
//! `AWS_SESSION_TOKEN`) in the environment or in a profile. Web identity, SSO, assumed
//! roles, `credential_process` and instance metadata are not yet: a profile that only has
//! those is refused with a sentence that says so, never silently skipped.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// The environment, as a lookup: `std::env::var` in use, a map in tests (so no test
/// changes the process environment).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The largest shared config or credentials file read.
const MAX_CONFIG_FILE: u64 = 1024 * 1024;

/// Why no usable credentials were found. The caller adds what they were for (a KMS key, a
/// bucket): the same refusal reads differently for each. Exhaustive on purpose: a new
/// refusal must be worded by every caller.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// No credentials in the environment nor in the profile.
    #[error(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE naming a profile with aws_access_key_id and aws_secret_access_key in ~/.aws/credentials"
    )]
    NoCredentials,
    /// Only one of `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` is set.
    #[error("{set} is set but {missing} is not: set both, or neither to use the profile")]
    HalfCredentials { set: &'static str, missing: &'static str },
    /// A profile named by `AWS_PROFILE` is in neither file.
    #[error("the AWS profile '{profile}' is in neither {} nor {}", credentials.display(), config.display())]
    NoSuchProfile {
        profile: String,
        credentials: PathBuf,
        config: PathBuf,
    },
    /// A profile gets its credentials in a way this client does not support yet.
    #[error(
        "the AWS profile '{profile}' gets its credentials through {how}, which trustroot does not support yet; give static keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), e.g. from `aws configure export-credentials`"
    )]
    Unsupported { profile: String, how: &'static str },
    /// A shared config or credentials file could not be read.
    #[error("cannot read {}: {reason}", path.display())]
    ConfigFile { path: PathBuf, reason: String },
}

/// AWS credentials. The secret and the session token never leave this struct but into a
/// request signature: its `Debug` shows the access key ID only.
#[derive(Clone)]
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
    /// The secret, for a request signature only.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }
    /// The session token of temporary credentials, for a request header only.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref().map(String::as_str)
    }
}

/// A profile's `key = value` pairs.
type Section = BTreeMap<String, String>;

/// The profile `AWS_PROFILE` names (else `default`) as found in both shared files.
#[derive(Debug)]
pub struct Profile {
    name: String,
    credentials_path: PathBuf,
    config_path: PathBuf,
    credentials: Option<Section>,
    config: Option<Section>,
}

impl Profile {
    /// Reads the profile from the shared files (`AWS_SHARED_CREDENTIALS_FILE`,
    /// `AWS_CONFIG_FILE`, else under `$HOME/.aws`). A missing file is an empty one.
    pub fn read(env: Env<'_>) -> Result<Profile, CredentialsError> {
        let home = var(env, "HOME").map(PathBuf::from).unwrap_or_default();
        let credentials_path = var(env, "AWS_SHARED_CREDENTIALS_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".aws").join("credentials"));
        let config_path = var(env, "AWS_CONFIG_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".aws").join("config"));
        let name = var(env, "AWS_PROFILE").unwrap_or_else(|| "default".to_string());
        let credentials = read_ini(&credentials_path)?.and_then(|mut sections| sections.remove(&name));
        // The config file names a profile `[profile NAME]`, except `[default]`.
        let config = read_ini(&config_path)?.and_then(|mut sections| {
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

    /// The profile's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A value of the profile, the credentials file first (as the AWS CLI reads them).
    pub fn get(&self, name: &str) -> Option<&str> {
        [&self.credentials, &self.config]
            .into_iter()
            .flatten()
            .find_map(|section| section.get(name))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the profile's `region`.
    pub fn region(&self, env: Env<'_>) -> Option<String> {
        var(env, "AWS_REGION")
            .or_else(|| var(env, "AWS_DEFAULT_REGION"))
            .or_else(|| self.get("region").map(str::to_string))
    }

    /// Static keys from the environment, else from the profile.
    pub fn credentials(&self, env: Env<'_>) -> Result<Credentials, CredentialsError> {
        let id = var(env, "AWS_ACCESS_KEY_ID");
        let secret = var(env, "AWS_SECRET_ACCESS_KEY").map(Zeroizing::new);
        match (id, secret) {
            (Some(id), Some(secret)) => return Ok(Credentials::new(&id, &secret, var(env, "AWS_SESSION_TOKEN"))),
            (Some(_), None) => return Err(half("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")),
            (None, Some(_)) => return Err(half("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID")),
            (None, None) => {}
        }
        if let (Some(id), Some(secret)) = (self.get("aws_access_key_id"), self.get("aws_secret_access_key")) {
            return Ok(Credentials::new(
                id,
                secret,
                self.get("aws_session_token").map(str::to_string),
            ));
        }
        if let Some(how) = self.unsupported_source(env) {
            return Err(CredentialsError::Unsupported {
                profile: self.name.clone(),
                how,
            });
        }
        if self.credentials.is_none() && self.config.is_none() && self.name != "default" {
            return Err(CredentialsError::NoSuchProfile {
                profile: self.name.clone(),
                credentials: self.credentials_path.clone(),
                config: self.config_path.clone(),
            });
        }
        Err(CredentialsError::NoCredentials)
    }

    /// A credential source the profile or environment names that this client cannot use yet.
    fn unsupported_source(&self, env: Env<'_>) -> Option<&'static str> {
        if var(env, "AWS_WEB_IDENTITY_TOKEN_FILE").is_some() || self.get("web_identity_token_file").is_some() {
            return Some("web identity (a token file)");
        }
        if self.get("sso_session").is_some() || self.get("sso_start_url").is_some() {
            return Some("IAM Identity Center (SSO)");
        }
        if self.get("credential_process").is_some() {
            return Some("credential_process");
        }
        if self.get("role_arn").is_some() {
            return Some("an assumed role (role_arn)");
        }
        None
    }
}

/// A set, non-empty variable.
pub fn var(env: Env<'_>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.is_empty())
}

fn half(set: &'static str, missing: &'static str) -> CredentialsError {
    CredentialsError::HalfCredentials { set, missing }
}

/// The sections of an INI file, `None` when there is no file.
fn read_ini(path: &Path) -> Result<Option<BTreeMap<String, Section>>, CredentialsError> {
    let unreadable = |reason: String| CredentialsError::ConfigFile {
        path: path.to_path_buf(),
        reason,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e.to_string())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(e.to_string()))?;
    if bytes.len() as u64 > MAX_CONFIG_FILE {
        return Err(unreadable(format!("larger than {MAX_CONFIG_FILE} bytes")));
    }
    let text = String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8 text".to_string()))?;
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
    use super::*;

    use trustroot_test_support::aws_env::{env_of, shared_files as files};

    fn resolve(pairs: &[(&str, &str)]) -> Result<(Option<String>, Credentials), CredentialsError> {
        let env = env_of(pairs);
        let profile = Profile::read(&env)?;
        Ok((profile.region(&env), profile.credentials(&env)?))
    }

    #[test]
    fn environment_keys_and_region() {
        let (region, credentials) = resolve(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
            ("AWS_SESSION_TOKEN", "t0ken"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("HOME", "/nonexistent"),
        ])
        .unwrap();
        assert_eq!(region.as_deref(), Some("eu-west-1"));
        assert_eq!(credentials.access_key_id(), "AKID");
        assert_eq!(credentials.secret_access_key(), "s3cr3t");
        assert_eq!(credentials.session_token(), Some("t0ken"));
    }

    #[test]
    fn profile_from_the_shared_files() {
        let (_dir, mut vars) = files(
            "[default]\naws_access_key_id = DEF\naws_secret_access_key = d\n\n[ops]\naws_access_key_id = OPS\naws_secret_access_key = o\naws_session_token = tok\n",
            "[default]\nregion = us-east-1\n[profile ops]\nregion = eu-central-1\ns3 =\n  max_concurrent_requests = 2\n",
        );
        vars.push(("AWS_PROFILE".into(), "ops".into()));
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (region, credentials) = resolve(&pairs).unwrap();
        assert_eq!(region.as_deref(), Some("eu-central-1"));
        assert_eq!(credentials.access_key_id(), "OPS");
        assert_eq!(credentials.session_token(), Some("tok"));
    }

    #[test]
    fn sso_only_profile_is_refused_with_the_reason() {
        let (_dir, mut vars) = files("", "[profile sso]\nsso_session = corp\nregion = us-east-1\n");
        vars.push(("AWS_PROFILE".into(), "sso".into()));
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let error = resolve(&pairs).unwrap_err();
        assert!(matches!(error, CredentialsError::Unsupported { .. }), "{error}");
        assert!(error.to_string().contains("SSO"), "{error}");
    }

    #[test]
    fn missing_profile_names_both_files() {
        let (_dir, mut vars) = files("", "");
        vars.push(("AWS_PROFILE".into(), "nope".into()));
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let error = resolve(&pairs).unwrap_err().to_string();
        assert!(error.contains("'nope'") && error.contains("credentials"), "{error}");
    }

    #[test]
    fn half_credentials_are_refused() {
        let error = resolve(&[("AWS_ACCESS_KEY_ID", "AKID"), ("HOME", "/nonexistent")]).unwrap_err();
        assert!(matches!(error, CredentialsError::HalfCredentials { .. }), "{error}");
    }

    #[test]
    fn an_oversized_config_file_is_refused_not_read_whole() {
        let (dir, mut vars) = files("", "");
        std::fs::write(dir.path().join("big"), vec![b'#'; (MAX_CONFIG_FILE + 10) as usize]).unwrap();
        vars[0].1 = dir.path().join("big").display().to_string();
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert!(matches!(resolve(&pairs), Err(CredentialsError::ConfigFile { .. })));
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
