//! An environment for code that reads AWS settings the way the AWS CLI does (variables, then
//! `~/.aws/credentials` and `~/.aws/config`), built in memory so tests never read or change
//! the real environment.

use std::collections::HashMap;

/// A lookup over `pairs`, in the shape the credential resolvers take.
pub fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

/// A shared credentials file and config file with the given contents, in a new temporary
/// directory (kept alive by the returned guard), and the two variables that point at them.
pub fn shared_files(credentials: &str, config: &str) -> (tempfile::TempDir, Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let (credentials_path, config_path) = (dir.path().join("credentials"), dir.path().join("config"));
    std::fs::write(&credentials_path, credentials).unwrap();
    std::fs::write(&config_path, config).unwrap();
    let vars = vec![
        (
            "AWS_SHARED_CREDENTIALS_FILE".to_string(),
            credentials_path.display().to_string(),
        ),
        ("AWS_CONFIG_FILE".to_string(), config_path.display().to_string()),
    ];
    (dir, vars)
}
