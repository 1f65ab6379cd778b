//! What each file of a published TUF tree is, for a push: the phase it goes up in
//! (DESIGN.md principle 5: targets, delegated metadata, targets, snapshot, root versions,
//! timestamp last), whether its name is immutable (a version or a hash in the name), and
//! the Content-Type and Cache-Control it is served with.

/// The upload phases, in the order they run. Each starts only after the previous one
/// fully succeeded, so a reader never sees metadata naming a file that is not there yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Targets,
    Delegated,
    TopTargets,
    Snapshot,
    Root,
    Timestamp,
}

impl Phase {
    pub const ALL: [Phase; 6] = [
        Phase::Targets,
        Phase::Delegated,
        Phase::TopTargets,
        Phase::Snapshot,
        Phase::Root,
        Phase::Timestamp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Targets => "targets",
            Phase::Delegated => "delegated metadata",
            Phase::TopTargets => "targets metadata",
            Phase::Snapshot => "snapshot",
            Phase::Root => "root versions",
            Phase::Timestamp => "timestamp",
        }
    }
}

/// One file of the tree, by its key (its path under the prefix, '/'-separated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub phase: Phase,
    /// A versioned (`N.role.json`) or hashed (`targets/.../<sha256>.name`) name: its bytes
    /// never change, so it may be cached for ever and is never replaced by a push.
    pub immutable: bool,
}

/// The kinds of name a Cache-Control value is set for (`--cache-control KIND=VALUE`,
/// `[publish.cache]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CacheKind {
    /// `timestamp.json`: the one name every client asks for on every update.
    Timestamp,
    /// Other names whose bytes change between versions: unversioned metadata
    /// (`snapshot.json` of a repository without consistent snapshots) and unhashed targets.
    Unversioned,
    /// `N.role.json`: its bytes never change.
    Versioned,
    /// Content-addressed targets (`targets/.../<sha256>.name`): their bytes never change.
    Targets,
}

impl CacheKind {
    pub const ALL: [CacheKind; 4] = [
        CacheKind::Timestamp,
        CacheKind::Unversioned,
        CacheKind::Versioned,
        CacheKind::Targets,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CacheKind::Timestamp => "timestamp",
            CacheKind::Unversioned => "unversioned",
            CacheKind::Versioned => "versioned",
            CacheKind::Targets => "targets",
        }
    }

    /// The kind of `entry`'s name.
    pub fn of(entry: Entry) -> CacheKind {
        match (entry.phase, entry.immutable) {
            (Phase::Timestamp, _) => CacheKind::Timestamp,
            (_, false) => CacheKind::Unversioned,
            (Phase::Targets, true) => CacheKind::Targets,
            (_, true) => CacheKind::Versioned,
        }
    }
}

/// The longest Cache-Control value accepted: real ones are a few dozen characters.
const MAX_CACHE_CONTROL: usize = 256;

/// Cache-Control values, by kind of name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheControl {
    pub timestamp: String,
    pub unversioned: String,
    pub versioned: String,
    pub targets: String,
}

/// The default for names whose bytes change: a CDN may keep a copy but must revalidate it
/// (by ETag, a 304 when unchanged) on every request, so clients see a new timestamp at once.
pub const REVALIDATE: &str = "no-cache";
/// The default for versioned and hashed names: their bytes never change, so any cache may
/// keep them for a year without asking again.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

impl Default for CacheControl {
    fn default() -> Self {
        CacheControl {
            timestamp: REVALIDATE.to_string(),
            unversioned: REVALIDATE.to_string(),
            versioned: IMMUTABLE.to_string(),
            targets: IMMUTABLE.to_string(),
        }
    }
}

impl CacheControl {
    pub fn for_entry(&self, entry: Entry) -> &str {
        self.get(CacheKind::of(entry))
    }

    pub fn get(&self, kind: CacheKind) -> &str {
        match kind {
            CacheKind::Timestamp => &self.timestamp,
            CacheKind::Unversioned => &self.unversioned,
            CacheKind::Versioned => &self.versioned,
            CacheKind::Targets => &self.targets,
        }
    }

    /// Sets the value of the kind named `kind`; the value becomes an HTTP header, so only
    /// printable ASCII is accepted. The error says what is wrong and what is accepted.
    pub fn set(&mut self, kind: &str, value: &str) -> Result<(), String> {
        let Some(kind) = CacheKind::ALL.into_iter().find(|k| k.name() == kind) else {
            return Err(format!(
                "'{}' is not a kind of name; give one of {}",
                kind.escape_debug(),
                CacheKind::ALL.map(CacheKind::name).join(", ")
            ));
        };
        let value = value.trim();
        if value.is_empty() || value.len() > MAX_CACHE_CONTROL || !value.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            return Err(format!(
                "the {} value '{}' is not a Cache-Control header value (printable ASCII, 1 to {MAX_CACHE_CONTROL} characters, e.g. \"max-age=60\")",
                kind.name(),
                value.escape_debug()
            ));
        }
        let slot = match kind {
            CacheKind::Timestamp => &mut self.timestamp,
            CacheKind::Unversioned => &mut self.unversioned,
            CacheKind::Versioned => &mut self.versioned,
            CacheKind::Targets => &mut self.targets,
        };
        *slot = value.to_string();
        Ok(())
    }

    /// Applies one `KIND=VALUE` (the flag's form).
    pub fn apply(&mut self, spec: &str) -> Result<(), String> {
        let Some((kind, value)) = spec.split_once('=') else {
            return Err(format!(
                "'{}' is not KIND=VALUE (e.g. timestamp=max-age=60)",
                spec.escape_debug()
            ));
        };
        self.set(kind.trim(), value)
    }
}

/// What `key` is in a published tree, or why it is not part of one.
pub fn classify(key: &str) -> Result<Entry, String> {
    check_key(key)?;
    if let Some(target) = key.strip_prefix("targets/") {
        // A content-addressed name: a path segment starting with a sha256 and a dot
        // (`dir/<sha256>.name`, or tough's `<sha256>.dir/name` alias).
        let immutable = target
            .split('/')
            .any(|segment| match segment.as_bytes().split_at_checked(64) {
                Some((hash, [b'.', _, ..])) => hash.iter().all(u8::is_ascii_hexdigit),
                _ => false,
            });
        return Ok(Entry {
            phase: Phase::Targets,
            immutable,
        });
    }
    if key.contains('/') {
        return Err(
            "not a file of a published TUF repository (metadata sits at the top, targets under targets/)".into(),
        );
    }
    let Some(stem) = key.strip_suffix(".json") else {
        return Err("not a file of a published TUF repository (metadata is .json)".into());
    };
    let (version, role) = match stem.split_once('.') {
        Some((number, role)) if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => (true, role),
        _ => (false, stem),
    };
    let phase = match role {
        "timestamp" if !version => Phase::Timestamp,
        "timestamp" => return Err("a versioned timestamp is not part of a TUF repository".into()),
        "snapshot" => Phase::Snapshot,
        "targets" => Phase::TopTargets,
        "root" => Phase::Root,
        _ => Phase::Delegated,
    };
    Ok(Entry {
        phase,
        immutable: version,
    })
}

/// Keys are '/'-separated relative paths of plain segments.
fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.starts_with('/') || key.ends_with('/') {
        return Err("not a relative file name".into());
    }
    if key.chars().any(|c| c.is_control() || c == '\\') {
        return Err("a name with a control character or '\\' is refused".into());
    }
    if key.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err("a name with an empty, '.' or '..' segment is refused".into());
    }
    Ok(())
}

/// The Content-Type a file is served with.
pub fn content_type(key: &str) -> &'static str {
    let lower = key.to_ascii_lowercase();
    if lower.ends_with(".json") {
        "application/json"
    } else if lower.ends_with(".pem") {
        "application/x-pem-file"
    } else {
        "application/octet-stream"
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    const SHA: &str = "3f5c1e0d3b8b4d2c2f3f1b7a0c7f6e5d4c3b2a19087f6e5d4c3b2a1908f6e5d4";

    #[test]
    fn phases_follow_the_upload_order() {
        let phase = |key: &str| classify(key).unwrap().phase;
        assert_eq!(phase(&format!("targets/{SHA}.trusted_root.json")), Phase::Targets);
        assert_eq!(phase("3.registry.npmjs.org.json"), Phase::Delegated);
        assert_eq!(phase("7.targets.json"), Phase::TopTargets);
        assert_eq!(phase("9.snapshot.json"), Phase::Snapshot);
        assert_eq!(phase("12.root.json"), Phase::Root);
        assert_eq!(phase("timestamp.json"), Phase::Timestamp);
        assert_eq!(phase("snapshot.json"), Phase::Snapshot);
        assert!(Phase::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn versioned_and_hashed_names_are_immutable() {
        assert!(classify("2.root.json").unwrap().immutable);
        assert!(classify(&format!("targets/a/{SHA}.b.json")).unwrap().immutable);
        assert!(classify(&format!("targets/{SHA}.a/b.json")).unwrap().immutable);
        assert!(!classify("targets/a/b.json").unwrap().immutable);
        assert!(!classify("timestamp.json").unwrap().immutable);
        let cache = CacheControl::default();
        assert_eq!(cache.for_entry(classify("timestamp.json").unwrap()), "no-cache");
    }

    #[test]
    fn cache_control_by_kind_and_hostile_values_refused() {
        let mut cache = CacheControl::default();
        cache.apply("timestamp=max-age=60").unwrap();
        cache.apply("targets = public, max-age=600").unwrap();
        assert_eq!(cache.for_entry(classify("timestamp.json").unwrap()), "max-age=60");
        assert_eq!(
            cache.for_entry(classify(&format!("targets/{SHA}.a.json")).unwrap()),
            "public, max-age=600"
        );
        assert_eq!(cache.for_entry(classify("2.root.json").unwrap()), IMMUTABLE);
        assert_eq!(cache.for_entry(classify("snapshot.json").unwrap()), REVALIDATE);
        assert_eq!(cache.for_entry(classify("targets/plain.json").unwrap()), REVALIDATE);
        for bad in [
            "timestamp",
            "root=no-cache",
            "timestamp=",
            "timestamp=a\r\nSet-Cookie: x",
            "versioned=caf\u{e9}",
        ] {
            let error = cache.apply(bad).unwrap_err();
            assert!(!error.contains('\n'), "{bad}: {error}");
        }
        assert_eq!(cache.timestamp, "max-age=60", "a refused value changes nothing");
    }

    #[test]
    fn traversal_and_stray_files_are_refused() {
        for key in [
            "../x.json",
            "targets/../../x",
            "a/b.json",
            "notes.txt",
            "/root.json",
            "7.timestamp.json",
            "targets/a\\b",
        ] {
            assert!(classify(key).is_err(), "{key}");
        }
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("timestamp.json"), "application/json");
        assert_eq!(content_type("targets/ctfe.pem"), "application/x-pem-file");
        assert_eq!(content_type("targets/artifact.sig"), "application/octet-stream");
    }
}
