//! A repository whose every key is keyless, in tuf-on-ci's shape, signed by a
//! [`SigstoreInstance`] through root rotations: what issue 21's client and mirror tests
//! verify from its root v1.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::{BundleVersion, Identity, SigstoreInstance, rfc3339};

/// A keyless repository in tuf-on-ci's shape, as [`keyless_repository`] writes it.
pub struct KeylessRepository {
    /// tuf-on-ci's source layout: `metadata/` (with `root_history/`) and `targets/`.
    pub source: std::path::PathBuf,
    /// The published layout clients read: `N.root.json`, `timestamp.json`,
    /// `V.snapshot.json`, `V.targets.json`, `targets/<sha256>.<name>`.
    pub published: std::path::PathBuf,
    /// The instance's `trusted_root.json`.
    pub trusted_root: std::path::PathBuf,
    /// The target file it holds.
    pub target: (&'static str, &'static [u8]),
}

/// The identities of [`keyless_repository`]: three keyholders and the online workflow.
pub fn keyless_identities() -> [Identity; 4] {
    let google = "https://accounts.google.com";
    [
        Identity::new("alice@example.com", google),
        Identity::new("bob@example.com", "https://github.com/login/oauth"),
        Identity::new("carol@example.com", google),
        Identity::new(
            "https://github.com/example/tuf/.github/workflows/online-sign.yml@refs/heads/main",
            "https://token.actions.githubusercontent.com",
        ),
    ]
}

/// Writes into `dir` a repository whose every key is keyless, signed by `instance` from
/// `start` on, through two root rotations:
/// - root v1: root 2 of 2 (alice, bob), targets 1 of 1 (alice), snapshot and timestamp by
///   the online workflow's identity (`x-tuf-on-ci-online-uri: "sigstore:"`);
/// - root v2: bob leaves root and carol joins (signed by alice and bob for v1's threshold,
///   alice and carol for v2's);
/// - root v3: alice signs in through another issuer, a new key for the same address
///   (signed by v2's alice and carol, and v3's alice and carol);
/// - targets v1 with one file, snapshot v1, timestamp v1; v0.3 bundles throughout, v0.1 for
///   root v1 (tuf-on-ci's first keyless repositories used the older format).
pub fn keyless_repository(
    dir: &std::path::Path,
    instance: &mut SigstoreInstance,
    start: DateTime<Utc>,
) -> KeylessRepository {
    let [alice, bob, carol, online] = keyless_identities();
    let alice_elsewhere = Identity::new(&alice.identity, "https://github.com/login/oauth");
    let owner = |handle: &'static str| [("x-tuf-on-ci-keyowner", handle)];
    let online_fields = [("x-tuf-on-ci-online-uri", "sigstore:")];
    let at = |minutes: i64| start + Duration::minutes(minutes);
    let periods = json!({"x-tuf-on-ci-expiry-period": 365, "x-tuf-on-ci-signing-period": 60});
    let expires = rfc3339(start + Duration::days(365));

    let root = |version: u64, holders: &[(&Identity, &'static str)]| -> Value {
        let mut keys = serde_json::Map::new();
        let mut root_ids = Vec::new();
        for (who, handle) in holders {
            keys.insert(who.keyid(&owner(handle)), who.key(&owner(handle)));
            root_ids.push(who.keyid(&owner(handle)));
        }
        keys.insert(online.keyid(&online_fields), online.key(&online_fields));
        let (first, handle) = holders[0];
        let online_role = json!({"keyids": [online.keyid(&online_fields)], "threshold": 1,
            "x-tuf-on-ci-expiry-period": 7, "x-tuf-on-ci-signing-period": 6});
        json!({
            "_type": "root", "spec_version": "1.0", "version": version, "expires": expires,
            "consistent_snapshot": true, "keys": keys,
            "roles": {
                "root": {"keyids": root_ids, "threshold": 2},
                "targets": {"keyids": [first.keyid(&owner(handle))], "threshold": 1},
                "snapshot": online_role.clone(),
                "timestamp": online_role
            },
            "x-tuf-on-ci-expiry-period": periods["x-tuf-on-ci-expiry-period"],
            "x-tuf-on-ci-signing-period": periods["x-tuf-on-ci-signing-period"]
        })
    };
    let id = |who: &Identity, handle: &'static str| who.keyid(&owner(handle));
    let v1 = root(1, &[(&alice, "@alice"), (&bob, "@bob")]);
    let v2 = root(2, &[(&alice, "@alice"), (&carol, "@carol")]);
    let v3 = root(3, &[(&alice_elsewhere, "@alice"), (&carol, "@carol")]);
    let roots = [
        instance.envelope(
            &v1,
            &[(&alice, &id(&alice, "@alice")), (&bob, &id(&bob, "@bob"))],
            at(1),
            BundleVersion::V01,
        ),
        instance.envelope(
            &v2,
            &[
                (&alice, &id(&alice, "@alice")),
                (&bob, &id(&bob, "@bob")),
                (&carol, &id(&carol, "@carol")),
            ],
            at(2),
            BundleVersion::V03,
        ),
        instance.envelope(
            &v3,
            &[
                (&alice, &id(&alice, "@alice")),
                (&carol, &id(&carol, "@carol")),
                (&alice_elsewhere, &id(&alice_elsewhere, "@alice")),
            ],
            at(3),
            BundleVersion::V03,
        ),
    ];

    let target: (&'static str, &'static [u8]) = ("trusted_root.json", b"{\"mediaType\": \"a target\"}\n");
    let target_hash = hex::encode(Sha256::digest(target.1));
    let targets = json!({
        "_type": "targets", "spec_version": "1.0", "version": 1, "expires": expires,
        "targets": {target.0: {"length": target.1.len(), "hashes": {"sha256": target_hash}}},
        "x-tuf-on-ci-expiry-period": 365, "x-tuf-on-ci-signing-period": 60
    });
    let targets = instance.envelope(
        &targets,
        &[(&alice_elsewhere, &id(&alice_elsewhere, "@alice"))],
        at(4),
        BundleVersion::V03,
    );
    let online_id = online.keyid(&online_fields);
    let snapshot = json!({"_type": "snapshot", "spec_version": "1.0", "version": 1, "expires": expires,
        "meta": {"targets.json": {"version": 1}}});
    let snapshot = instance.envelope(&snapshot, &[(&online, &online_id)], at(5), BundleVersion::V03);
    let timestamp = json!({"_type": "timestamp", "spec_version": "1.0", "version": 1,
        "expires": rfc3339(start + Duration::days(7)), "meta": {"snapshot.json": {"version": 1}}});
    let timestamp = instance.envelope(&timestamp, &[(&online, &online_id)], at(6), BundleVersion::V03);

    let source = dir.join("source");
    let published = dir.join("published");
    let write = |path: std::path::PathBuf, bytes: &[u8]| {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
        std::fs::write(path, bytes).expect("written");
    };
    let json_bytes = |value: &Value| serde_json::to_vec_pretty(value).expect("JSON");
    for (i, root) in roots.iter().enumerate() {
        let version = i + 1;
        write(
            source.join(format!("metadata/root_history/{version}.root.json")),
            &json_bytes(root),
        );
        write(published.join(format!("{version}.root.json")), &json_bytes(root));
    }
    write(source.join("metadata/root.json"), &json_bytes(&roots[2]));
    for (role, envelope) in [("targets", &targets), ("snapshot", &snapshot)] {
        write(source.join(format!("metadata/{role}.json")), &json_bytes(envelope));
        write(published.join(format!("1.{role}.json")), &json_bytes(envelope));
    }
    write(source.join("metadata/timestamp.json"), &json_bytes(&timestamp));
    write(published.join("timestamp.json"), &json_bytes(&timestamp));
    write(source.join("targets").join(target.0), target.1);
    write(published.join(format!("targets/{target_hash}.{}", target.0)), target.1);
    let trusted_root = dir.join("trusted_root.json");
    write(trusted_root.clone(), &instance.trusted_root());
    KeylessRepository {
        source,
        published,
        trusted_root,
        target,
    }
}
