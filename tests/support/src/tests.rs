//! Unit tests of the simulator: signatures verify with the key crates directly, key IDs,
//! publish semantics, root rotation, bins, misbehaviours, and the server.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone as _, Utc};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::*;

pub(crate) fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 2, 9, 12, 0, 0).unwrap()
}

/// Verifies a hex signature with the key crates, from the public key object alone.
pub(crate) fn verify_with_key_object(key: &Value, msg: &[u8], sig_hex: &str) -> bool {
    use p256::pkcs8::DecodePublicKey as _;
    let Ok(sig) = hex::decode(sig_hex) else {
        return false;
    };
    let public = key["keyval"]["public"].as_str().unwrap();
    match (key["keytype"].as_str().unwrap(), key["scheme"].as_str().unwrap()) {
        ("ed25519", "ed25519") => {
            let pk: [u8; 32] = hex::decode(public).unwrap().try_into().unwrap();
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).unwrap();
            let Ok(sig) = ed25519_dalek::Signature::from_slice(&sig) else {
                return false;
            };
            vk.verify_strict(msg, &sig).is_ok()
        }
        ("ecdsa", "ecdsa-sha2-nistp256") => {
            use p256::ecdsa::signature::Verifier as _;
            let vk = p256::ecdsa::VerifyingKey::from_public_key_pem(public).unwrap();
            let Ok(sig) = p256::ecdsa::Signature::from_der(&sig) else {
                return false;
            };
            vk.verify(msg, &sig).is_ok()
        }
        ("ecdsa", "ecdsa-sha2-nistp384") => {
            use p384::ecdsa::signature::Verifier as _;
            let vk = p384::ecdsa::VerifyingKey::from_public_key_pem(public).unwrap();
            let Ok(sig) = p384::ecdsa::Signature::from_der(&sig) else {
                return false;
            };
            vk.verify(msg, &sig).is_ok()
        }
        ("rsa", "rsassa-pss-sha256") => {
            use rsa::signature::Verifier as _;
            let pk = rsa::RsaPublicKey::from_public_key_pem(public).unwrap();
            let vk = rsa::pss::VerifyingKey::<Sha256>::new(pk);
            let Ok(sig) = rsa::pss::Signature::try_from(sig.as_slice()) else {
                return false;
            };
            vk.verify(msg, &sig).is_ok()
        }
        other => panic!("unexpected key type {other:?}"),
    }
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// Key IDs whose signature on `envelope` verifies against `keys` (a key ID -> object map).
fn valid_signers(envelope: &Value, keys: &Value) -> Vec<String> {
    let msg = trustroot_core::canonical::to_canonical_bytes(&envelope["signed"]).unwrap();
    let mut ids = Vec::new();
    for sig in envelope["signatures"].as_array().unwrap() {
        let id = sig["keyid"].as_str().unwrap();
        if let Some(key) = keys.get(id)
            && verify_with_key_object(key, &msg, sig["sig"].as_str().unwrap())
        {
            ids.push(id.to_string());
        }
    }
    ids
}

fn root_of(repo: &RepoSim, version: u64) -> Value {
    parse(&repo.root_bytes(version).unwrap())
}

fn fetch(repo: &RepoSim, role: &str) -> Value {
    parse(&repo.bytes(&repo.current_path(role)).unwrap())
}

#[test]
fn every_key_type_signs_and_verifies() {
    for kt in [
        KeyType::Ed25519,
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::RsaPss,
    ] {
        let key = SimKey::generate(kt);
        let obj = key.public_json();
        assert_eq!(obj["keytype"], kt.keytype());
        assert_eq!(obj["scheme"], kt.scheme());
        let sig = key.sign(b"message");
        assert!(verify_with_key_object(&obj, b"message", &sig), "{kt:?}");
        assert!(!verify_with_key_object(&obj, b"other", &sig), "{kt:?}");
        let public = obj["keyval"]["public"].as_str().unwrap();
        match kt {
            KeyType::Ed25519 => {
                assert_eq!(public.len(), 64);
                assert_eq!(sig.len(), 128);
            }
            _ => {
                assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
                assert!(public.ends_with("-----END PUBLIC KEY-----\n"));
            }
        }
    }
}

#[test]
fn key_ids_are_sha256_of_canonical_key_json_with_every_field() {
    let key = SimKey::generate(KeyType::Ed25519);
    let canonical = trustroot_core::canonical::to_canonical_bytes(&key.public_json()).unwrap();
    assert_eq!(key.key_id(), hex::encode(Sha256::digest(&canonical)));
    let custom = key.with_field("x-owner", json!("@alice"));
    assert_eq!(custom.public_json()["x-owner"], "@alice");
    assert_ne!(custom.key_id(), key.key_id());
    let canonical = trustroot_core::canonical::to_canonical_bytes(&custom.public_json()).unwrap();
    assert_eq!(custom.key_id(), hex::encode(Sha256::digest(&canonical)));
    let odd = key.with_keytype_scheme("ecdsa", "ecdsa-sha2-nistp256");
    assert_eq!(odd.public_json()["keytype"], "ecdsa");
    assert_ne!(odd.key_id(), key.key_id());
    assert_eq!(key.with_key_id("abc").key_id(), "abc");
}

#[test]
fn initial_repository_is_published_and_signed() {
    let repo = RepoSim::new(base());
    for role in TOP_LEVEL_ROLES {
        assert_eq!(repo.version(role), 1);
    }
    let root = root_of(&repo, 1);
    let keys = &root["signed"]["keys"];
    assert_eq!(root["signed"]["consistent_snapshot"], true);
    assert_eq!(root["signed"]["spec_version"], "1.0.31");
    assert_eq!(root["signed"]["expires"], "2026-02-09T12:00:00Z");
    for (id, key) in keys.as_object().unwrap() {
        assert_eq!(&crate::keys::compute_key_id(key), id);
        assert_eq!(key["scheme"], "ecdsa-sha2-nistp256");
    }
    for role in TOP_LEVEL_ROLES {
        let env = fetch(&repo, role);
        assert_eq!(env["signed"]["_type"], role);
        let signers = valid_signers(&env, keys);
        let wanted = root["signed"]["roles"][role]["keyids"].as_array().unwrap();
        assert_eq!(signers.len(), 1, "{role}");
        assert_eq!(wanted[0], signers[0], "{role}");
    }
    let ts = fetch(&repo, "timestamp");
    assert_eq!(ts["signed"]["meta"], json!({ "snapshot.json": { "version": 1 } }));
    assert_eq!(ts["signed"]["expires"], "2025-02-10T12:00:00Z");
    let snap = fetch(&repo, "snapshot");
    assert_eq!(snap["signed"]["meta"], json!({ "targets.json": { "version": 1 } }));
    let paths = repo.paths();
    assert_eq!(
        paths,
        [
            "metadata/1.root.json",
            "metadata/1.snapshot.json",
            "metadata/1.targets.json",
            "metadata/timestamp.json"
        ]
    );
    // python-tuf layout: pretty JSON with "signatures" before "signed".
    let text = String::from_utf8(repo.current_bytes("timestamp")).unwrap();
    assert!(text.starts_with("{\n \"signatures\": [\n  {\n   \"keyid\": "));
    assert!(text.find("\"signatures\"").unwrap() < text.find("\"signed\"").unwrap());
}

#[test]
fn publish_bumps_only_what_changed() {
    let mut repo = RepoSim::new(base());
    repo.publish();
    assert_eq!(repo.version("timestamp"), 1, "nothing changed");
    repo.add_target("targets", "dir/file.txt", b"hello");
    repo.publish();
    assert_eq!(repo.version("targets"), 2);
    assert_eq!(repo.version("snapshot"), 2);
    assert_eq!(repo.version("timestamp"), 2);
    assert_eq!(repo.version("root"), 1);
    let sha = hex::encode(Sha256::digest(b"hello"));
    let targets = fetch(&repo, "targets");
    assert_eq!(
        targets["signed"]["targets"]["dir/file.txt"],
        json!({ "length": 5, "hashes": { "sha256": sha } })
    );
    assert_eq!(repo.bytes(&format!("targets/dir/{sha}.file.txt")).unwrap(), b"hello");
    assert_eq!(
        repo.target_paths("targets", "dir/file.txt"),
        [format!("targets/dir/{sha}.file.txt")]
    );
    // Old versions stay served.
    assert!(repo.bytes("metadata/1.targets.json").is_some());
    assert!(repo.bytes("metadata/2.targets.json").is_some());
    repo.set_expires("timestamp", base() + chrono::TimeDelta::days(2));
    repo.publish();
    assert_eq!(repo.version("timestamp"), 3);
    assert_eq!(repo.version("snapshot"), 2);
}

#[test]
fn target_hash_options_and_custom_fields() {
    let mut repo = RepoSim::new(base());
    repo.add_target_with("targets", "a", b"A", TargetHashes::Both);
    repo.add_target_with("targets", "b", b"B", TargetHashes::Sha512);
    repo.add_target_with("targets", "c", b"C", TargetHashes::Custom("sha3000".into()));
    repo.set_target_custom("targets", "a", json!({ "sigstore": { "usage": "Fulcio" } }));
    repo.publish();
    let t = &fetch(&repo, "targets")["signed"]["targets"];
    assert_eq!(t["a"]["hashes"].as_object().unwrap().len(), 2);
    assert_eq!(t["a"]["custom"]["sigstore"]["usage"], "Fulcio");
    assert_eq!(t["b"]["hashes"]["sha512"].as_str().unwrap().len(), 128);
    assert!(t["c"]["hashes"]["sha3000"].is_string());
    assert_eq!(repo.target_paths("targets", "a").len(), 2);
    for p in repo.target_paths("targets", "a") {
        assert_eq!(repo.bytes(&p).unwrap(), b"A");
    }
    assert!(repo.remove_target("targets", "a"));
    repo.publish();
    assert!(fetch(&repo, "targets")["signed"]["targets"].get("a").is_none());
}

#[test]
fn root_rotation_is_signed_by_old_and_new_keys() {
    let mut repo = RepoSim::new(base());
    let old = repo.keys("root");
    let new = repo.rotate_keys("root", 2, KeyType::Ed25519);
    repo.set_threshold("root", 2);
    repo.publish();
    assert_eq!(repo.version("root"), 2);
    let v1 = root_of(&repo, 1);
    let v2 = root_of(&repo, 2);
    assert_eq!(v2["signed"]["version"], 2);
    assert_eq!(v2["signed"]["roles"]["root"]["threshold"], 2);
    let by_old = valid_signers(&v2, &v1["signed"]["keys"]);
    assert_eq!(by_old, [old[0].key_id()]);
    let mut by_new = valid_signers(&v2, &v2["signed"]["keys"]);
    by_new.sort();
    let mut want: Vec<String> = new.iter().map(SimKey::key_id).collect();
    want.sort();
    assert_eq!(by_new, want);
    // The next root is signed by v2's keys only (v1's are gone), and bumps by exactly 1.
    repo.add_new_key("timestamp");
    repo.publish();
    assert_eq!(repo.version("root"), 3);
    let v3 = root_of(&repo, 3);
    assert_eq!(v3["signatures"].as_array().unwrap().len(), 2);
    assert_eq!(valid_signers(&v3, &v2["signed"]["keys"]).len(), 2);
    // A timestamp key change re-signs timestamp with the new keys.
    let ts = fetch(&repo, "timestamp");
    assert_eq!(valid_signers(&ts, &v3["signed"]["keys"]).len(), 2);
    assert_eq!(repo.root_bytes(4), None);
}

#[test]
fn delegations_with_odd_names_are_encoded() {
    let mut repo = RepoSim::new(base());
    for name in ["?", "#", "/delegatedrole", "../delegatedrole"] {
        let mut spec = DelegatedRoleSpec::new(name, &["*"]);
        spec.key_type = KeyType::Ed25519;
        repo.add_delegation("targets", spec);
        repo.add_target(name, "file", name.as_bytes());
    }
    repo.publish();
    for enc in ["%3F", "%23", "%2Fdelegatedrole", "..%2Fdelegatedrole"] {
        assert!(repo.bytes(&format!("metadata/1.{enc}.json")).is_some(), "{enc}");
    }
    let targets = fetch(&repo, "targets");
    let delegations = &targets["signed"]["delegations"];
    let roles = delegations["roles"].as_array().unwrap();
    assert_eq!(roles.len(), 4);
    assert_eq!(roles[0]["name"], "?");
    assert_eq!(roles[0]["paths"], json!(["*"]));
    assert_eq!(roles[0]["terminating"], false);
    let snap = fetch(&repo, "snapshot");
    assert_eq!(snap["signed"]["meta"]["../delegatedrole.json"]["version"], 1);
    let env = parse(&repo.bytes("metadata/1.%2Fdelegatedrole.json").unwrap());
    assert_eq!(valid_signers(&env, &delegations["keys"]).len(), 1);
    // Non-consistent layout.
    repo.set_consistent_snapshot(false);
    repo.add_target("?", "other", b"x");
    repo.publish();
    assert!(repo.bytes("metadata/%3F.json").is_some());
    assert!(repo.bytes("metadata/snapshot.json").is_some());
    assert!(repo.bytes("metadata/2.root.json").is_some());
    assert_eq!(repo.bytes("targets/other").unwrap(), b"x");
}

#[test]
fn succinct_bins_place_targets_by_path_hash() {
    let mut repo = RepoSim::new(base());
    let key = repo.add_succinct_delegation("targets", 3, "bin");
    let path = "some/target.txt";
    let digest = Sha256::digest(path.as_bytes());
    let want = format!("bin-{}", digest[0] >> 5);
    assert_eq!(repo.bin_for("targets", path).unwrap(), want);
    assert_eq!(repo.add_target_to_bin("targets", path, b"data"), want);
    repo.publish();
    let targets = fetch(&repo, "targets");
    let succinct = &targets["signed"]["delegations"]["succinct_roles"];
    assert_eq!(succinct["bit_length"], 3);
    assert_eq!(succinct["name_prefix"], "bin");
    assert_eq!(succinct["keyids"], json!([key.key_id()]));
    let snap = fetch(&repo, "snapshot");
    for i in 0..8 {
        assert!(snap["signed"]["meta"].get(format!("bin-{i}.json")).is_some());
    }
    let bin = fetch(&repo, &want);
    assert!(bin["signed"]["targets"].get(path).is_some());
    let keys = &targets["signed"]["delegations"]["keys"];
    assert_eq!(valid_signers(&bin, keys), [key.key_id()]);
}

#[test]
fn sign_plans_misbehave_as_asked() {
    let mut repo = RepoSim::new(base());
    let foreign = SimKey::generate(KeyType::Ed25519);
    let own = repo.keys("snapshot")[0].key_id();
    repo.sign_with_extra_keys("snapshot", vec![foreign.clone()]);
    repo.publish();
    assert_eq!(repo.version("snapshot"), 2, "a new plan forces a new version");
    let ids = |env: &Value| -> Vec<String> {
        env["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["keyid"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&fetch(&repo, "snapshot")), [own.clone(), foreign.key_id()]);

    repo.set_sign_plan(
        "snapshot",
        SignPlan {
            duplicate_first: true,
            empty_sigs: vec!["ab".into()],
            ..SignPlan::default()
        },
    );
    repo.publish();
    let env = fetch(&repo, "snapshot");
    assert_eq!(ids(&env), [own.clone(), own.clone(), "ab".to_string()]);
    assert_eq!(env["signatures"][2]["sig"], "");

    repo.clear_sign_plan("snapshot");
    repo.sign_below_threshold("snapshot");
    repo.publish();
    assert!(fetch(&repo, "snapshot")["signatures"].as_array().unwrap().is_empty());

    repo.clear_sign_plan("snapshot");
    repo.sign_with_invalid_sig("snapshot", &own);
    repo.publish();
    let root = root_of(&repo, 1);
    assert!(valid_signers(&fetch(&repo, "snapshot"), &root["signed"]["keys"]).is_empty());
}

#[test]
fn key_listed_twice_wrong_type_and_custom_fields() {
    let mut repo = RepoSim::new(base());
    repo.list_key_id_twice("timestamp");
    repo.set_type("timestamp", "snapshot");
    repo.set_signed_field("root", "x-custom", json!({ "a": 1 }));
    repo.set_role_entry_field("targets", "x-role", json!(true));
    let kid = repo.keys("snapshot")[0].key_id();
    let new_key = repo.set_key_field("snapshot", &kid, "x-owner", json!("bob"));
    repo.publish();
    let root = root_of(&repo, 2);
    let ids = root["signed"]["roles"]["timestamp"]["keyids"].as_array().unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);
    assert_eq!(root["signed"]["x-custom"]["a"], 1);
    assert_eq!(root["signed"]["roles"]["targets"]["x-role"], true);
    let key = &root["signed"]["keys"][new_key.key_id()];
    assert_eq!(key["x-owner"], "bob");
    assert_eq!(crate::keys::compute_key_id(key), new_key.key_id());
    assert_eq!(fetch(&repo, "timestamp")["signed"]["_type"], "snapshot");
    // The snapshot is re-signed by the key under its new ID.
    let snap = fetch(&repo, "snapshot");
    assert_eq!(valid_signers(&snap, &root["signed"]["keys"]), [new_key.key_id()]);
}

#[test]
fn rollback_bump_without_resign_expiry_and_mix_and_match() {
    let mut repo = RepoSim::new(base());
    repo.add_target("targets", "f", b"1");
    repo.publish();
    repo.add_target("targets", "f", b"2");
    repo.publish();
    assert_eq!(repo.version("timestamp"), 3);

    repo.serve_version("timestamp", 1);
    assert_eq!(
        parse(&repo.bytes("metadata/timestamp.json").unwrap())["signed"]["version"],
        1
    );
    repo.clear_overrides();
    assert_eq!(
        parse(&repo.bytes("metadata/timestamp.json").unwrap())["signed"]["version"],
        3
    );

    // Snapshot 4 (properly signed) says targets 2, while 3 is the latest.
    repo.pin_meta_version("targets", Some(2));
    repo.bump("snapshot");
    repo.publish();
    assert_eq!(fetch(&repo, "snapshot")["signed"]["meta"]["targets.json"]["version"], 2);
    repo.pin_meta_version("targets", None);

    repo.bump_without_resign("targets");
    repo.publish();
    let t4 = fetch(&repo, "targets");
    let t3 = parse(&repo.role_bytes("targets", 3).unwrap());
    assert_eq!(t4["signed"]["version"], 4);
    assert_eq!(t4["signatures"], t3["signatures"]);
    assert!(valid_signers(&t4, &root_of(&repo, 1)["signed"]["keys"]).is_empty());

    repo.expire("timestamp");
    repo.publish();
    assert_eq!(fetch(&repo, "timestamp")["signed"]["expires"], "2025-02-08T12:00:00Z");

    repo.set_timestamp_meta_hashes(true);
    repo.set_snapshot_meta_hashes(true);
    repo.publish();
    let snap_bytes = repo.current_bytes("snapshot");
    let ts = fetch(&repo, "timestamp");
    let meta = &ts["signed"]["meta"]["snapshot.json"];
    assert_eq!(meta["length"], snap_bytes.len());
    assert_eq!(meta["hashes"]["sha256"], hex::encode(Sha256::digest(&snap_bytes)));
    assert!(fetch(&repo, "snapshot")["signed"]["meta"]["targets.json"]["hashes"].is_object());
}

#[test]
fn write_published_lays_out_like_sigstore() {
    let mut repo = RepoSim::new(base());
    repo.add_target("targets", "trusted_root.json", b"{}");
    repo.publish();
    let dir = tempfile::tempdir().unwrap();
    repo.write_published(dir.path()).unwrap();
    assert!(dir.path().join("1.root.json").is_file());
    assert!(dir.path().join("timestamp.json").is_file());
    assert!(dir.path().join("2.snapshot.json").is_file());
    let sha = hex::encode(Sha256::digest(b"{}"));
    let t = dir.path().join("targets").join(format!("{sha}.trusted_root.json"));
    assert_eq!(std::fs::read(t).unwrap(), b"{}");
}

#[test]
fn core_trusted_set_accepts_the_simulated_repository() {
    use trustroot_core::{Limits, TrustedSet};
    let mut repo = RepoSim::with_key_type(base(), KeyType::Ed25519);
    repo.add_delegation("targets", DelegatedRoleSpec::new("role1", &["a/*"]));
    repo.add_target("role1", "a/x", b"x");
    repo.publish();
    let now = base();
    let mut set = TrustedSet::new(&repo.root_bytes(1).unwrap(), now, Limits::default()).unwrap();
    assert!(repo.root_bytes(2).is_none(), "delegations do not touch root");
    set.update_timestamp(&repo.current_bytes("timestamp")).unwrap();
    set.update_snapshot(&repo.current_bytes("snapshot"), false).unwrap();
    set.update_targets(&repo.current_bytes("targets")).unwrap();
    set.update_delegated_targets(&repo.current_bytes("role1"), "role1", "targets")
        .unwrap();
}

mod server {
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    use super::*;

    fn get(server: &SimServer, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(s, "GET /{path} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n").unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        split_response(&raw)
    }

    fn split_response(raw: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
        let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&raw[..end]).to_string();
        let mut lines = head.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers = lines
            .map(|l| {
                let (k, v) = l.split_once(": ").unwrap();
                (k.to_ascii_lowercase(), v.to_string())
            })
            .collect();
        (status, headers, raw[end + 4..].to_vec())
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn started() -> (SimServer, Arc<Mutex<RepoSim>>) {
        let mut repo = RepoSim::new(base());
        repo.add_delegation("targets", DelegatedRoleSpec::new("?", &["*"]));
        repo.publish();
        let repo = Arc::new(Mutex::new(repo));
        (SimServer::start(repo.clone()), repo)
    }

    #[test]
    fn serves_files_logs_requests_and_404s() {
        let (server, repo) = started();
        assert!(server.metadata_url().starts_with("http://127.0.0.1:"));
        assert!(server.metadata_url().ends_with("/metadata/"));
        assert!(server.targets_url().ends_with("/targets/"));
        let (status, headers, body) = get(&server, "metadata/1.root.json");
        assert_eq!(status, 200);
        assert_eq!(body, repo.lock().unwrap().root_bytes(1).unwrap());
        assert_eq!(header(&headers, "content-length"), Some(&*body.len().to_string()));
        assert_eq!(header(&headers, "connection"), Some("close"));
        assert_eq!(get(&server, "metadata/3.root.json").0, 404);
        assert_eq!(get(&server, "metadata/1.%3F.json").0, 200);
        assert_eq!(get(&server, "metadata/1.?.json").0, 404, "only the encoded form");
        assert_eq!(
            server.requests(),
            [
                "metadata/1.root.json",
                "metadata/3.root.json",
                "metadata/1.%3F.json",
                "metadata/1."
            ]
        );
        server.clear_requests();
        assert!(server.requests().is_empty());
        // Edits are visible at once.
        repo.lock().unwrap().add_target("targets", "t", b"T");
        repo.lock().unwrap().publish();
        assert_eq!(get(&server, "metadata/2.targets.json").0, 200);
    }

    #[test]
    fn status_body_and_wrong_length_faults() {
        let (server, _repo) = started();
        server.set_fault("metadata/timestamp.json", Fault::Status(503));
        assert_eq!(get(&server, "metadata/timestamp.json").0, 503);
        server.set_fault("metadata/timestamp.json", Fault::Body(b"junk".to_vec()));
        let (status, _, body) = get(&server, "metadata/timestamp.json");
        assert_eq!((status, body), (200, b"junk".to_vec()));
        server.set_fault("/metadata/timestamp.json", Fault::WrongContentLength);
        let (_, headers, body) = get(&server, "metadata/timestamp.json");
        let declared: usize = header(&headers, "content-length").unwrap().parse().unwrap();
        assert_eq!(declared, body.len() + 100);
        server.clear_faults();
        assert_eq!(get(&server, "metadata/timestamp.json").0, 200);
    }

    #[test]
    fn stall_endless_and_slow_drip() {
        let (server, _repo) = started();
        // Stall: headers arrive, then nothing.
        server.set_fault("metadata/timestamp.json", Fault::Stall(Duration::from_secs(30)));
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
        s.write_all(b"GET /metadata/timestamp.json HTTP/1.0\r\n\r\n").unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        assert!(buf[..n].ends_with(b"\r\n\r\n"));
        assert!(s.read(&mut buf).is_err(), "no body while stalled");
        drop(s);

        // Endless: no Content-Length, bytes keep coming.
        server.set_fault("metadata/1.snapshot.json", Fault::Endless);
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /metadata/1.snapshot.json HTTP/1.1\r\n\r\n").unwrap();
        let mut got = Vec::new();
        while got.len() < 1_000_000 {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
        let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&got[..head_end]).to_ascii_lowercase();
        assert!(!head.contains("content-length"));
        drop(s);

        // Slow drip: 20 bytes/s on a 10-byte target takes about half a second.
        let path = {
            let repo = server.repo();
            let mut repo = repo.lock().unwrap();
            repo.add_target("targets", "ten", b"0123456789");
            repo.publish();
            repo.target_paths("targets", "ten").remove(0)
        };
        server.set_fault(&path, Fault::SlowDrip(20));
        let t = Instant::now();
        let (status, _, body) = get(&server, &path);
        assert_eq!((status, body), (200, b"0123456789".to_vec()));
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(400), "{took:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
        server.clear_fault(&path);
    }

    #[test]
    fn stops_on_drop_even_with_a_stalled_client() {
        let (server, _repo) = started();
        let addr = server.addr();
        server.set_fault("metadata/timestamp.json", Fault::Stall(Duration::from_secs(300)));
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"GET /metadata/timestamp.json HTTP/1.1\r\n\r\n").unwrap();
        // An idle connection that never sends a request.
        let _idle = TcpStream::connect(addr).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let t = Instant::now();
        drop(server);
        assert!(t.elapsed() < Duration::from_secs(3), "drop took {:?}", t.elapsed());
        assert!(TcpStream::connect(addr).is_err(), "port closed");
    }
}
