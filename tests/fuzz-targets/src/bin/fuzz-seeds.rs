//! Writes seed inputs for the fuzz targets: `fuzz-seeds OUT [SIGSTORE_DIR]` fills
//! `OUT/<target>/` from the fixed repository, generated keys and bundles, and (when
//! given) the unpacked Sigstore fixture repositories (tests/fixtures/sigstore-repos.tar.xz).
//! scripts/fuzz.sh --seed runs it, then minimises into fuzz/corpus/ with `cargo fuzz cmin`.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use trustroot_ceremony::keys::{KdfCost, KeyType, PrivateKey};
use trustroot_fuzz_targets::fixed::{self, envelope, fixed, signed_of};

struct Out {
    dir: PathBuf,
    count: usize,
}

impl Out {
    fn put(&mut self, target: &str, bytes: &[u8]) {
        let dir = self.dir.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        let name = trustroot_core::hashes::sha256_hex(bytes);
        std::fs::write(dir.join(&name[..16]), bytes).unwrap();
        self.count += 1;
    }

    fn put_mode(&mut self, target: &str, mode: u8, bytes: &[u8]) {
        let mut data = vec![mode];
        data.extend_from_slice(bytes);
        self.put(target, &data);
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn tar_bundle(members: &[(&str, &[u8])], manifest: &Value, zstd: bool) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut add = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, bytes).unwrap();
    };
    for (name, bytes) in members {
        add(&format!("repository/{name}"), bytes);
    }
    add("trustroot-bundle.json", &serde_json::to_vec(manifest).unwrap());
    let tar = builder.into_inner().unwrap();
    if zstd { compress(&tar) } else { tar }
}

fn compress(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

fn bundle_seeds(out: &mut Out) {
    let f = fixed();
    let members: Vec<(&str, &[u8])> = vec![
        ("1.root.json", &f.root),
        ("timestamp.json", &f.timestamp),
        ("1.snapshot.json", &f.snapshot),
        ("1.targets.json", &f.targets),
        ("1.d.json", &f.delegated),
        ("targets/dir/abc.c.txt", b"c"),
    ];
    let manifest = json!({
        "format": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "origin": {"metadata_url": "https://tuf.example/", "targets_url": "https://tuf.example/targets/"},
        "files": members.iter().map(|(name, bytes)| {
            (name.to_string(), json!({"length": bytes.len(), "sha256": trustroot_core::hashes::sha256_hex(bytes)}))
        }).collect::<serde_json::Map<String, Value>>(),
    });
    out.put("bundle_unpack", &tar_bundle(&members, &manifest, false));
    out.put("bundle_unpack", &tar_bundle(&members[..2], &manifest, false));
    out.put("bundle_unpack", &tar_bundle(&members, &manifest, true));
    // A long name (GNU long-name record) and a PAX path record.
    let long = format!("targets/{}/x.json", "d".repeat(120));
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(1);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, format!("repository/{long}"), &b"x"[..])
        .unwrap();
    let mut pax = tar::Builder::new(Vec::new());
    pax.append_pax_extensions([("path", format!("repository/{long}").as_bytes())])
        .unwrap();
    let mut header = tar::Header::new_ustar();
    header.set_size(1);
    header.set_mode(0o644);
    pax.append_data(&mut header, "repository/short", &b"x"[..]).unwrap();
    let manifest = json!({"format": 1, "created_at": "2026-01-01T00:00:00Z",
        "origin": {"metadata_url": "https://tuf.example/", "targets_url": null},
        "files": {long.clone(): {"length": 1, "sha256": trustroot_core::hashes::sha256_hex(b"x")}}});
    for mut b in [builder, pax] {
        let mut header = tar::Header::new_gnu();
        let bytes = serde_json::to_vec(&manifest).unwrap();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        b.append_data(&mut header, "trustroot-bundle.json", bytes.as_slice())
            .unwrap();
        out.put("bundle_unpack", &b.into_inner().unwrap());
    }
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: fuzz-seeds OUT [SIGSTORE_DIR]"));
    let sigstore = args.next().map(PathBuf::from);
    let mut out = Out { dir, count: 0 };
    let f = fixed();

    // TUF metadata: the fixed repository in every mode, signed and to be re-signed.
    for resign in [0u8, 1] {
        out.put_mode("trusted_set_root", resign, &f.root);
    }
    let mut root_v2 = signed_of(&f.root);
    root_v2["version"] = json!(2);
    out.put_mode("trusted_set_root", 0, &envelope(&root_v2, &[&f.root_key]));
    for (mode, doc) in [
        (0u8, &f.timestamp),
        (1, &f.snapshot),
        (2, &f.snapshot),
        (3, &f.targets),
        (4, &f.delegated),
        (5, &f.timestamp),
        (6, &f.snapshot),
    ] {
        out.put_mode("trusted_set_chain", mode, doc);
        out.put_mode("trusted_set_chain", mode | 0x80, doc);
    }
    let mut ts2 = signed_of(&f.timestamp);
    ts2["version"] = json!(2);
    out.put_mode("trusted_set_chain", 5, &envelope(&ts2, &[&f.timestamp_key]));
    let mut targets = signed_of(&f.targets);
    targets["delegations"] = json!({
        "keys": {},
        "succinct_roles": {"keyids": [], "threshold": 1, "bit_length": 4, "name_prefix": "bin"},
    });
    out.put_mode("trusted_set_chain", 0x83, &envelope(&targets, &[&f.targets_key]));
    for doc in [&f.root, &f.timestamp, &f.snapshot, &f.targets, &f.delegated] {
        out.put("canonical_json", doc);
    }

    // Delegation patterns and target names.
    for (pattern, target) in [
        ("*", "a.json"),
        ("dir/*.json", "dir/x.json"),
        ("a/*/c", "a/b/c"),
        ("[a-c]?[!x]*", "bqy.txt"),
        ("[]]x", "]x"),
        ("[!]]", "a"),
        ("*[", "a["),
        ("foo", "foo"),
        ("targets/*/*.tgz", "targets/pkg/x-1.0.tgz"),
        ("*/*", "a"),
    ] {
        out.put("delegation_path", format!("{pattern}\0{target}").as_bytes());
    }
    for path in [
        "trusted_root.json",
        "a/b.json",
        "../x",
        "a//b",
        "/etc/passwd",
        "a\\b",
        "%2F",
        "x/..",
    ] {
        out.put("target_path", path.as_bytes());
    }

    // Keys: plain and encrypted PKCS#8 of both types, and their public keys.
    for key_type in [KeyType::Ed25519, KeyType::EcdsaP256] {
        let key = PrivateKey::generate(key_type);
        let cheap = KdfCost {
            log_n: KdfCost::MIN_LOG_N,
        };
        out.put("pkcs8_key", key.to_pkcs8_pem(None, cheap).unwrap().as_bytes());
        out.put(
            "pkcs8_key",
            key.to_pkcs8_pem(Some(trustroot_fuzz_targets::FUZZ_PASSPHRASE), cheap)
                .unwrap()
                .as_bytes(),
        );
        out.put("pkcs8_key", key.public_pem().unwrap().as_bytes());
        out.put("pkcs8_key", &serde_json::to_vec(&key.public_key()).unwrap());
    }

    bundle_seeds(&mut out);

    // The real Sigstore repositories and payloads.
    if let Some(sigstore) = sigstore {
        let mut all = Vec::new();
        files(&sigstore, &mut all);
        // Sigstore's delegated role is named after a package registry's host, which this
        // repository does not spell: seeds get a neutral name instead (read from the
        // metadata, not written here).
        let mut role_names: Vec<String> = Vec::new();
        for path in &all {
            let value: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap_or(Value::Null);
            for role in value
                .pointer("/signed/delegations/roles")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = role.get("name").and_then(Value::as_str) {
                    role_names.push(name.to_string());
                }
            }
        }
        role_names.sort();
        role_names.dedup();
        for path in all {
            let mut bytes = std::fs::read(&path).unwrap();
            if role_names.iter().any(|n| path.to_string_lossy().contains(n.as_str())) {
                continue;
            }
            for name in &role_names {
                bytes = replace(&bytes, name.as_bytes(), b"delegated-role");
            }
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.ends_with(".json") && bytes.first() == Some(&b'{') {
                let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                let kind = value.pointer("/signed/_type").and_then(Value::as_str).unwrap_or("");
                match kind {
                    "root" => {
                        out.put_mode("trusted_set_root", 1, &bytes);
                        out.put("canonical_json", &bytes);
                    }
                    "timestamp" => out.put_mode("trusted_set_chain", 0x80, &bytes),
                    "snapshot" => out.put_mode("trusted_set_chain", 0x82, &bytes),
                    "targets" => {
                        out.put_mode("trusted_set_chain", 0x83, &bytes);
                        if let Some(targets) = value.pointer("/signed/targets").and_then(Value::as_object) {
                            for t in targets.keys() {
                                out.put("target_path", t.as_bytes());
                            }
                        }
                        if let Some(roles) = value.pointer("/signed/delegations/roles").and_then(Value::as_array) {
                            for role in roles {
                                for p in role.get("paths").and_then(Value::as_array).into_iter().flatten() {
                                    if let Some(p) = p.as_str() {
                                        out.put("delegation_path", p.as_bytes());
                                    }
                                }
                            }
                        }
                    }
                    _ => {}
                }
                let media = value.get("mediaType").and_then(Value::as_str).unwrap_or("");
                if media.contains("trustedroot") || name.contains("trusted_root") {
                    out.put("sigstore_trusted_root", &bytes);
                }
                if media.contains("signingconfig") || name.contains("signing_config") {
                    out.put_mode("sigstore_signing_config", 0, &bytes);
                    out.put_mode("sigstore_signing_config", 1, &bytes);
                }
            } else if name.ends_with(".pub") || name.ends_with(".pem") {
                out.put("pkcs8_key", &bytes);
            }
        }
    }
    // Keyless signatures: the real Sigstore bundles of tests/fixtures/keyless.
    let keyless = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/keyless/conformance");
    let mut bundles = Vec::new();
    files(&keyless, &mut bundles);
    for path in bundles.iter().filter(|p| p.ends_with("bundle.sigstore.json")) {
        out.put("keyless_bundle", &std::fs::read(path).unwrap());
    }
    let _ = fixed::now();
    eprintln!("{} seed files in {}", out.count, out.dir.display());
}
