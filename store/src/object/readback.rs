//! What every read-back client of a push shares (`ReadBack` implementations live with the
//! clients: tough's in ceremony, ours in mirror): the public address read back from,
//! where the clients start, and which uploaded keys are targets to download.

use std::path::{Path, PathBuf};

use super::error::ObjectError;
use super::push::ReadBack;

/// `--public-url`: an http(s) address with a host and no credentials, query or fragment,
/// ending in '/' so that keys are joined under it. Clients read the prefix anonymously,
/// so anything that would make the read-back see more than they do is refused.
pub fn public_url(text: &str) -> Result<url::Url, ObjectError> {
    let bad = |reason: &str| ObjectError::BadPublicUrl {
        url: super::url::without_userinfo(text),
        reason: reason.to_string(),
    };
    let mut url = url::Url::parse(text).map_err(|e| bad(&format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(bad("give the http or https address clients read the prefix from"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "credentials, a query or a fragment are refused: clients read the prefix anonymously",
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// The starting roots of the clients, read from the local tree `tree`: root v1 (a new
/// client), the newest root the store already served (a client that has kept up: the one
/// a root rotation strands if anything is missing) and the newest; each once. `uploaded`
/// are the keys this push put up. `Err((key, reason))` as `ReadBack::check` returns it.
pub fn starting_roots(tree: &Path, uploaded: &[String]) -> Result<Vec<(u64, PathBuf)>, (String, String)> {
    let whole = |reason: String| ("(the repository)".to_string(), reason);
    let mut roots: Vec<(u64, PathBuf)> = std::fs::read_dir(tree)
        .map_err(|e| whole(format!("cannot list the local tree: {e}")))?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let version = name.strip_suffix(".root.json")?.parse::<u64>().ok()?;
            Some((version, tree.join(name)))
        })
        .collect();
    roots.sort();
    let served_before = roots
        .iter()
        .rev()
        .find(|(version, _)| !uploaded.iter().any(|key| *key == format!("{version}.root.json")));
    let mut starts: Vec<(u64, PathBuf)> = Vec::new();
    for root in [roots.first(), served_before, roots.last()].into_iter().flatten() {
        if !starts.iter().any(|(version, _)| *version == root.0) {
            starts.push(root.clone());
        }
    }
    if starts.is_empty() {
        return Err(whole("the local tree holds no N.root.json".into()));
    }
    Ok(starts)
}

/// The target path of an uploaded key `targets/<dir>/<sha256>.<name>`: `<dir>/<name>`.
/// Other keys (metadata, tough's `targets/<sha256>.<dir>/<name>` alias) give `None`.
pub fn target_path(key: &str) -> Option<String> {
    let rest = key.strip_prefix("targets/")?;
    let (dir, file) = match rest.rsplit_once('/') {
        Some((dir, file)) => (Some(dir), file),
        None => (None, rest),
    };
    let (hash, name) = file.split_once('.')?;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || name.is_empty() {
        return None;
    }
    Some(match dir {
        Some(dir) => format!("{dir}/{name}"),
        None => name.to_string(),
    })
}

/// Two read-backs that must both accept (a command's byte compare and tough, and our own
/// client), run side by side on threads of their own: the byte compare waits on the
/// store, the clients on this machine's CPU. The first one's refusal is the one reported
/// when both refuse: it names the object.
pub struct Chain<'a> {
    pub first: Option<&'a dyn ReadBack>,
    pub then: Option<&'a dyn ReadBack>,
}

impl Chain<'_> {
    /// The chain as the push takes it: `None` when neither reads anything back.
    pub fn active(&self) -> Option<&dyn ReadBack> {
        (self.first.is_some() || self.then.is_some()).then_some(self as &dyn ReadBack)
    }
}

impl ReadBack for Chain<'_> {
    fn check(&self, uploaded: &[String], timestamp: &[u8]) -> Result<(), (String, String)> {
        std::thread::scope(|scope| {
            let running: Vec<_> = [self.first, self.then]
                .into_iter()
                .flatten()
                .map(|read_back| scope.spawn(move || read_back.check(uploaded, timestamp)))
                .collect();
            // Every thread is joined before any result is looked at.
            let results: Vec<_> = running
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|_| Err(("(read-back)".to_string(), "a read-back panicked".to_string())))
                })
                .collect();
            results.into_iter().collect::<Result<Vec<()>, _>>().map(drop)
        })
    }

    fn runs(&self) -> Vec<String> {
        [self.first, self.then]
            .into_iter()
            .flatten()
            .flat_map(ReadBack::runs)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn public_urls_get_their_slash_and_hostile_ones_are_refused() {
        assert_eq!(
            public_url("https://cdn.test/tuf").unwrap().as_str(),
            "https://cdn.test/tuf/"
        );
        for bad in [
            "ftp://cdn.test/r/",
            "https://user:secret@cdn.test/r/",
            "https://cdn.test/r/?token=x",
            "https://cdn.test/r/#x",
            "not a url",
        ] {
            let error = public_url(bad).unwrap_err().to_string();
            assert!(error.starts_with("--public-url "), "{error}");
            assert!(!error.contains("secret"), "{error}");
        }
    }

    #[test]
    fn target_paths_of_uploaded_keys() {
        let hash = "a".repeat(64);
        assert_eq!(
            target_path(&format!("targets/{hash}.trusted_root.json")).as_deref(),
            Some("trusted_root.json")
        );
        assert_eq!(
            target_path(&format!("targets/npm/{hash}.keys.json")).as_deref(),
            Some("npm/keys.json")
        );
        // tough's alias, metadata and names without a hash are not targets to download.
        assert_eq!(target_path(&format!("targets/{hash}.npm/keys.json")), None);
        assert_eq!(target_path("2.snapshot.json"), None);
        assert_eq!(target_path("targets/short.keys.json"), None);
        assert_eq!(target_path(&format!("targets/{hash}.")), None);
    }

    #[test]
    fn clients_start_from_root_v1_the_root_served_before_and_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        for v in 1..=4 {
            std::fs::write(dir.path().join(format!("{v}.root.json")), b"{}").unwrap();
        }
        let uploaded = vec!["4.root.json".to_string(), "3.root.json".to_string()];
        let versions: Vec<u64> = starting_roots(dir.path(), &uploaded)
            .unwrap()
            .into_iter()
            .map(|(v, _)| v)
            .collect();
        assert_eq!(versions, vec![1, 2, 4]);
        let empty = tempfile::tempdir().unwrap();
        assert!(starting_roots(empty.path(), &[]).is_err());
    }
}
