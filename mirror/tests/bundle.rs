//! Offline bundles: a mirror of Sigstore's production repository exported, imported into
//! another directory and verified; and every hostile archive refused with the mirror left
//! byte for byte as it was.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use trustroot_core::{Hint, Limits};
use trustroot_mirror::UpdateError;
use trustroot_mirror::bundle::{
    BundleLimits, ImportOptions, MANIFEST_NAME, NamedImportOptions, REPOSITORIES_MANIFEST, export, import, import_named,
};
use trustroot_mirror::sync::{SyncOptions, sync};
use trustroot_mirror::verify::verify_leaving_targets;
use url::Url;

fn at(text: &str) -> DateTime<Utc> {
    trustroot_core::time::parse(text).unwrap()
}

const NOW: &str = "2026-08-22T00:00:00Z";

/// `mirror export`: the mirror verified (targets left to the export), then written.
async fn export_verified(mirror: &Path, out: &Path, compress: bool) {
    let (report, trusted) = verify_leaving_targets(mirror, at(NOW), Limits::default(), None)
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    export(mirror, out, compress, &trusted).unwrap();
}

struct Setup {
    _fixtures: tempfile::TempDir,
    work: tempfile::TempDir,
    published: PathBuf,
}

impl Setup {
    /// The production fixture mirrored into `work/source`, exported to `work/good.tar`.
    async fn new() -> Setup {
        let fixtures = trustroot_test_support::unpack_sigstore_fixtures();
        let published = fixtures.path().join("sigstore-prod/published");
        let work = tempfile::tempdir().unwrap();
        let mut options = SyncOptions::new(&work.path().join("source"), at(NOW));
        options.from = Some(Url::from_directory_path(&published).unwrap());
        options.root = Some(std::fs::read(published.join("1.root.json")).unwrap());
        sync(options).await.unwrap();
        export_verified(&work.path().join("source"), &work.path().join("good.tar"), false).await;
        Setup {
            _fixtures: fixtures,
            work,
            published,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    fn root(&self) -> Vec<u8> {
        std::fs::read(self.published.join("5.root.json")).unwrap()
    }

    fn options(&self, dir: &str, bundle: &Path) -> ImportOptions {
        ImportOptions {
            dir: self.path(dir),
            bundle: bundle.to_path_buf(),
            root: Some(self.root()),
            now: at(NOW),
            limits: Limits::default(),
            bundle_limits: BundleLimits::default(),
            scratch: Some(self.work.path().to_path_buf()),
            sigstore: None,
        }
    }

    /// The members of the good bundle, in order.
    fn members(&self) -> Vec<(String, Vec<u8>)> {
        let mut archive = tar::Archive::new(std::fs::File::open(self.path("good.tar")).unwrap());
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let name = e.path().unwrap().to_string_lossy().into_owned();
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
                (name, bytes)
            })
            .collect()
    }
}

/// A tar member written without the tar crate's path checks, as an attacker would.
fn raw_member(builder: &mut tar::Builder<std::fs::File>, name: &[u8], kind: tar::EntryType, data: &[u8], link: &[u8]) {
    let mut header = tar::Header::new_gnu();
    {
        let gnu = header.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name);
        gnu.linkname[..link.len()].copy_from_slice(link);
    }
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(kind);
    header.set_cksum();
    builder.append(&header, data).unwrap();
}

/// Appends a plain member the ordinary way (long names included).
fn member<W: std::io::Write>(builder: &mut tar::Builder<W>, name: &str, data: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, name, data).unwrap();
}

/// Writes a bundle from `members`.
fn write_bundle(path: &Path, members: &[(String, Vec<u8>)]) {
    let mut builder = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, data) in members {
        member(&mut builder, name, data);
    }
    builder.finish().unwrap();
}

/// Every file and symlink under `dir`, hidden state included, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    if !dir.exists() {
        return files;
    }
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            let relative = entry.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if kind.is_symlink() {
                let target = std::fs::read_link(entry.path()).unwrap();
                files.insert(relative, target.to_string_lossy().as_bytes().to_vec());
            } else if kind.is_dir() {
                files.insert(format!("{relative}/"), Vec::new());
                pending.push(entry.path());
            } else {
                files.insert(relative, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    files
}

/// The site's mirror: the good bundle imported into `site`.
async fn site(setup: &Setup) -> PathBuf {
    import(setup.options("site", &setup.path("good.tar"))).await.unwrap();
    setup.path("site")
}

/// Imports `bundle` into the site's mirror; it must fail and leave the mirror as it was.
async fn refused(setup: &Setup, bundle: &Path, limits: Option<BundleLimits>) -> String {
    refused_with(setup, bundle, limits).await.to_string()
}

/// [`refused`], with the error itself (its class and hint).
async fn refused_with(setup: &Setup, bundle: &Path, limits: Option<BundleLimits>) -> UpdateError {
    let site = site(setup).await;
    let before = snapshot(&site);
    let mut options = setup.options("site", bundle);
    if let Some(limits) = limits {
        options.bundle_limits = limits;
    }
    let error = import(options).await.unwrap_err();
    assert_eq!(snapshot(&site), before, "the mirror changed after: {error}");
    error
}

#[tokio::test]
async fn a_bundle_exported_and_imported_elsewhere_verifies_and_serves_the_same_tree() {
    let setup = Setup::new().await;
    export_verified(&setup.path("source"), &setup.path("good.tar.zst"), true).await;
    for bundle in ["good.tar", "good.tar.zst"] {
        let dir = format!("imported-{bundle}");
        let summary = import(setup.options(&dir, &setup.path(bundle))).await.unwrap();
        assert!(summary.changed);
        assert_eq!((summary.after.root, summary.after.timestamp), (15, 762));
        let report = trustroot_mirror::verify::verify(&setup.path(&dir), None, at(NOW), Limits::default(), None)
            .await
            .unwrap();
        assert!(report.ok(), "{:?}", report.problems);
        for name in ["15.root.json", "timestamp.json", "165.snapshot.json", "14.targets.json"] {
            assert_eq!(
                std::fs::read(setup.path(&dir).join("repository").join(name)).unwrap(),
                std::fs::read(setup.published.join(name)).unwrap()
            );
        }
        // The origin recorded is the repository's, not the unpacked bundle.
        let status = trustroot_mirror::status::status(&setup.path(&dir), at(NOW)).unwrap();
        assert!(
            status.origin.metadata_url.ends_with("sigstore-prod/published/"),
            "{}",
            status.origin.metadata_url
        );
    }
    // Importing the same bundle again changes nothing.
    let again = import(setup.options("imported-good.tar", &setup.path("good.tar")))
        .await
        .unwrap();
    assert!(!again.changed);
}

#[tokio::test]
async fn a_new_mirror_needs_a_pinned_root() {
    let setup = Setup::new().await;
    let mut options = setup.options("fresh", &setup.path("good.tar"));
    options.root = None;
    let error = import(options).await.unwrap_err();
    // The remedy (pass --root) is the hint; the command line words it.
    assert_eq!(error.hint(), Some(Hint::PinMirrorRoot), "{error}");
    assert!(!setup.path("fresh").exists());
}

#[tokio::test]
async fn a_bundle_that_does_not_verify_from_the_pinned_root_is_refused() {
    let setup = Setup::new().await;
    let mut options = setup.options("fresh", &setup.path("good.tar"));
    // Sigstore's staging root is not the root of this repository.
    let staging = setup
        .published
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("sigstore-staging/published/5.root.json");
    options.root = Some(std::fs::read(staging).unwrap());
    let error = import(options).await.unwrap_err().to_string();
    assert!(error.contains("pinned root"), "{error}");
    assert!(!setup.path("fresh").exists());
}

async fn hostile_member(hostile: &[u8], kind: tar::EntryType, link: &[u8]) -> String {
    let setup = Setup::new().await;
    let bundle = setup.path("hostile.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&bundle).unwrap());
    for (name, data) in setup.members() {
        if name == MANIFEST_NAME {
            raw_member(&mut builder, hostile, kind, b"evil", link);
        }
        member(&mut builder, &name, &data);
    }
    builder.finish().unwrap();
    let error = refused(&setup, &bundle, None).await;
    assert!(!setup.work.path().join("evil").exists());
    error
}

#[tokio::test]
async fn path_traversal_in_a_bundle_is_refused() {
    let error = hostile_member(b"repository/../../evil", tar::EntryType::Regular, b"").await;
    assert!(error.contains("unsafe target path") || error.contains(".."), "{error}");
}

#[tokio::test]
async fn an_absolute_path_in_a_bundle_is_refused() {
    let error = hostile_member(b"/tmp/trustroot-evil", tar::EntryType::Regular, b"").await;
    assert!(error.contains("outside 'repository/'"), "{error}");
    assert!(!Path::new("/tmp/trustroot-evil").exists());
}

#[tokio::test]
async fn a_symlink_in_a_bundle_is_refused() {
    let error = hostile_member(b"repository/targets/evil", tar::EntryType::Symlink, b"/etc/passwd").await;
    assert!(error.contains("link or special file"), "{error}");
}

#[tokio::test]
async fn a_hard_link_in_a_bundle_is_refused() {
    let error = hostile_member(b"repository/targets/evil", tar::EntryType::Link, b"/etc/passwd").await;
    assert!(error.contains("link or special file"), "{error}");
}

#[tokio::test]
async fn a_device_file_in_a_bundle_is_refused() {
    let error = hostile_member(b"repository/evil", tar::EntryType::Char, b"").await;
    assert!(error.contains("link or special file"), "{error}");
}

#[tokio::test]
async fn a_duplicate_member_in_a_bundle_is_refused() {
    let setup = Setup::new().await;
    let mut members = setup.members();
    let duplicate = members
        .iter()
        .find(|(n, _)| n.ends_with("timestamp.json"))
        .unwrap()
        .clone();
    members.insert(0, duplicate);
    let bundle = setup.path("duplicate.tar");
    write_bundle(&bundle, &members);
    let error = refused(&setup, &bundle, None).await;
    assert!(error.contains("appears twice"), "{error}");
}

#[tokio::test]
async fn an_oversized_member_in_a_bundle_is_refused() {
    let setup = Setup::new().await;
    let limits = BundleLimits {
        max_files: 1000,
        max_file_size: 4096,
        max_total_size: 1 << 20,
    };
    let error = refused(&setup, &setup.path("good.tar"), Some(limits)).await;
    assert!(error.contains("over the limit"), "{error}");
}

#[tokio::test]
async fn a_truncated_bundle_is_refused() {
    let setup = Setup::new().await;
    let bytes = std::fs::read(setup.path("good.tar")).unwrap();
    for cut in [bytes.len() / 2, bytes.len() - 2048, 700] {
        let bundle = setup.path("truncated.tar");
        std::fs::write(&bundle, &bytes[..cut]).unwrap();
        let error = refused(&setup, &bundle, None).await;
        assert!(error.contains("truncated") || error.contains("no manifest"), "{error}");
    }
}

#[tokio::test]
async fn a_tampered_file_in_a_bundle_is_refused() {
    let setup = Setup::new().await;
    let mut members = setup.members();
    let target = members
        .iter_mut()
        .find(|(n, _)| n.ends_with("trusted_root.json"))
        .unwrap();
    target.1[20] ^= 1;
    let bundle = setup.path("tampered.tar");
    write_bundle(&bundle, &members);
    // The verified metadata's hashes catch it before the manifest is read.
    let error = refused(&setup, &bundle, None).await;
    assert!(
        error.contains("trusted_root.json") && error.contains("does not match the hashes the verified metadata"),
        "{error}"
    );
}

#[tokio::test]
async fn a_tampered_file_with_a_matching_manifest_fails_tuf_verification() {
    let setup = Setup::new().await;
    let mut members = setup.members();
    let (name, bytes) = {
        let target = members
            .iter_mut()
            .find(|(n, _)| n.ends_with("trusted_root.json"))
            .unwrap();
        target.1[20] ^= 1;
        (target.0.trim_start_matches("repository/").to_string(), target.1.clone())
    };
    let manifest = members.iter_mut().find(|(n, _)| n == MANIFEST_NAME).unwrap();
    let mut value: serde_json::Value = serde_json::from_slice(&manifest.1).unwrap();
    value["files"][&name]["sha256"] = trustroot_core::hashes::sha256_hex(&bytes).into();
    manifest.1 = serde_json::to_vec(&value).unwrap();
    let bundle = setup.path("tampered.tar");
    write_bundle(&bundle, &members);
    let error = refused(&setup, &bundle, None).await;
    assert!(error.contains("trusted_root.json") && error.contains("hash"), "{error}");
}

#[tokio::test]
async fn a_manifest_that_disagrees_with_the_content_is_refused() {
    let setup = Setup::new().await;
    let mut members = setup.members();
    let manifest = members.iter_mut().find(|(n, _)| n == MANIFEST_NAME).unwrap();
    let mut value: serde_json::Value = serde_json::from_slice(&manifest.1).unwrap();
    value["files"]["timestamp.json"]["length"] = 1.into();
    manifest.1 = serde_json::to_vec(&value).unwrap();
    let bundle = setup.path("lying.tar");
    write_bundle(&bundle, &members);
    let error = refused(&setup, &bundle, None).await;
    assert!(
        error.contains("timestamp.json") && error.contains("manifest"),
        "{error}"
    );
    // A file the manifest does not list is refused too.
    let mut members = setup.members();
    members.insert(0, ("repository/extra.json".to_string(), b"{}".to_vec()));
    write_bundle(&bundle, &members);
    let error = refused(&setup, &bundle, None).await;
    assert!(error.contains("not in its manifest"), "{error}");
}

#[tokio::test]
async fn a_bundle_older_than_the_mirror_is_refused() {
    use std::sync::{Arc, Mutex};
    use trustroot_test_support::{RepoSim, SimServer};
    let now = Utc::now();
    let mut repo = RepoSim::new(now);
    repo.add_target("targets", "a.txt", b"first");
    repo.publish();
    let root = repo.root_bytes(1).unwrap();
    let repo = Arc::new(Mutex::new(repo));
    let server = SimServer::start(repo.clone());
    let work = tempfile::tempdir().unwrap();
    let mirror = work.path().join("mirror");
    let run = |root: Option<Vec<u8>>| {
        let mut options = SyncOptions::new(&mirror, now);
        options.from = Some(Url::parse(&server.metadata_url()).unwrap());
        options.targets_from = Some(Url::parse(&server.targets_url()).unwrap());
        options.root = root;
        sync(options)
    };
    run(Some(root.clone())).await.unwrap();
    let old = work.path().join("old.tar");
    export_verified(&mirror, &old, false).await;
    {
        let mut repo = repo.lock().unwrap();
        repo.add_target("targets", "b.txt", b"second");
        repo.publish();
    }
    run(None).await.unwrap();
    let before = snapshot(&mirror);
    let options = ImportOptions {
        dir: mirror.clone(),
        bundle: old,
        root: Some(root),
        now,
        limits: Limits::default(),
        bundle_limits: BundleLimits::default(),
        scratch: Some(work.path().to_path_buf()),
        sigstore: None,
    };
    let error = import(options).await.unwrap_err().to_string();
    assert!(error.contains("rollback") && error.contains("timestamp"), "{error}");
    assert_eq!(snapshot(&mirror), before);
}

/// A GNU long-name record header declaring `size` bytes, followed by one block of data.
fn long_name_record(size: u64) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    header.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::GNULongName);
    header.set_cksum();
    let mut bytes = header.as_bytes().to_vec();
    bytes.extend_from_slice(&[b'a'; 512]);
    bytes
}

#[tokio::test]
async fn a_long_name_record_declaring_gigabytes_is_refused_before_it_is_read() {
    // Compressed, such a record costs the attacker kilobytes; read whole, it would cost the
    // importing site its memory.
    let setup = Setup::new().await;
    let bundle = setup.path("bomb.tar");
    let mut builder = tar::Builder::new(Vec::new());
    builder.get_mut().extend_from_slice(&long_name_record(4 << 30));
    for (name, data) in setup.members() {
        member(&mut builder, &name, &data);
    }
    std::fs::write(&bundle, builder.into_inner().unwrap()).unwrap();
    let error = refused(&setup, &bundle, None).await;
    assert!(error.contains("a name record of 4294967296 bytes"), "{error}");
}

#[tokio::test]
async fn a_member_with_a_long_name_is_read_under_that_name() {
    let setup = Setup::new().await;
    let long = format!("repository/{}.json", "n".repeat(150));
    let mut members = setup.members();
    members.insert(0, (long.clone(), b"unlisted".to_vec()));
    let bundle = setup.path("long.tar");
    write_bundle(&bundle, &members);
    let error = refused(&setup, &bundle, None).await;
    let relative = long.strip_prefix("repository/").unwrap();
    assert!(
        error.contains(&format!("'{relative}' is in the bundle but not in its manifest")),
        "{error}"
    );
}

/// The good bundle's members with `replace` applied to the member named `name`.
fn members_with(setup: &Setup, name_ends: &str, replace: impl Fn(&mut (String, Vec<u8>))) -> Vec<(String, Vec<u8>)> {
    let mut members = setup.members();
    let member = members.iter_mut().find(|(n, _)| n.ends_with(name_ends)).unwrap();
    replace(member);
    members
}

#[tokio::test]
async fn a_zstd_bomb_target_is_refused_at_its_verified_length_before_it_is_unpacked() {
    // 64 MiB of zeros compress to a few kilobytes: the member is refused from its header,
    // held to the length the verified metadata gives trusted_root.json, never written.
    let setup = Setup::new().await;
    let members = members_with(&setup, "trusted_root.json", |m| m.1 = vec![0; 64 << 20]);
    let tar = setup.path("bomb.tar");
    write_bundle(&tar, &members);
    let bomb = setup.path("bomb.tar.zst");
    let mut out = std::fs::File::create(&bomb).unwrap();
    ruzstd::encoding::compress(
        std::fs::File::open(&tar).unwrap(),
        &mut out,
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);
    let error = refused(&setup, &bomb, None).await;
    assert!(
        error.contains("trusted_root.json") && error.contains("67108864 bytes, but the verified metadata says"),
        "{error}"
    );
}

#[tokio::test]
async fn a_bundle_with_targets_before_its_metadata_is_refused_with_re_export() {
    let setup = Setup::new().await;
    let mut members = setup.members();
    // The order trustroot wrote before metadata came first: by name, so `targets/...` came
    // before `timestamp.json`; the manifest last.
    members.sort_by_key(|(name, _)| (name == MANIFEST_NAME, name.clone()));
    let bundle = setup.path("old.tar");
    write_bundle(&bundle, &members);
    let error = refused(&setup, &bundle, None).await;
    assert!(error.contains("re-export it"), "{error}");
    // Metadata after a target, with the first metadata in front, is refused the same way.
    let mut members = setup.members();
    let snapshot_at = members.iter().position(|(n, _)| n.ends_with(".snapshot.json")).unwrap();
    let snapshot = members.remove(snapshot_at);
    let manifest_at = members.iter().position(|(n, _)| n == MANIFEST_NAME).unwrap();
    members.insert(manifest_at, snapshot);
    write_bundle(&bundle, &members);
    // Refused whichever check meets it first: the metadata verified before the targets
    // lacks the snapshot, or the snapshot comes after a target.
    let error = refused(&setup, &bundle, None).await;
    assert!(
        error.contains("165.snapshot.json") || error.contains("comes after a target"),
        "{error}"
    );
}

#[tokio::test]
async fn an_import_over_max_size_is_refused_before_targets_are_unpacked() {
    let setup = Setup::new().await;
    let limits = BundleLimits {
        max_total_size: 64 * 1024,
        ..BundleLimits::default()
    };
    let error = refused_with(&setup, &setup.path("good.tar"), Some(limits)).await;
    // The remedy (raise --max-size) is the hint; the command line words it.
    assert_eq!(error.hint(), Some(Hint::RaiseBundleMaxSize), "{error}");
}

#[tokio::test]
async fn an_export_writes_metadata_before_targets_and_the_manifest_last() {
    let setup = Setup::new().await;
    let names: Vec<String> = setup.members().into_iter().map(|(n, _)| n).collect();
    let first_target = names.iter().position(|n| n.starts_with("repository/targets/")).unwrap();
    assert!(names[..first_target].iter().all(|n| !n.contains("/targets/")));
    assert!(
        names[first_target..names.len() - 1]
            .iter()
            .all(|n| n.starts_with("repository/targets/"))
    );
    assert_eq!(names.last().unwrap(), MANIFEST_NAME);
}

/// What a terminal must not receive raw: escape sequences and bidi controls.
fn assert_no_terminal_controls(error: &str) {
    for c in ['\u{1b}', '\u{7}', '\u{202e}', '\u{9b}'] {
        assert!(!error.contains(c), "{c:?} shown raw in: {error:?}");
    }
}

#[tokio::test]
async fn a_bundle_member_name_with_terminal_controls_is_escaped_in_the_error() {
    let name = "/tmp/\u{1b}]0;owned\u{7}\u{202e}live".as_bytes();
    let error = hostile_member(name, tar::EntryType::Regular, b"").await;
    assert!(error.contains("outside 'repository/'"), "{error}");
    assert!(error.contains("/tmp/\\u{1b}]0;owned\\u{7}\\u{202e}live"), "{error}");
    assert_no_terminal_controls(&error);
}

#[tokio::test]
async fn raw_tar_header_bytes_with_terminal_controls_are_escaped_in_the_error() {
    let setup = Setup::new().await;
    let bundle = setup.path("header.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&bundle).unwrap());
    // A size field of escape sequences: the tar crate quotes it in its error.
    let mut header = tar::Header::new_gnu();
    header.set_size(4);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    {
        let gnu = header.as_gnu_mut().unwrap();
        let name = b"repository/\x1b[2Jx";
        gnu.name[..name.len()].copy_from_slice(name);
        gnu.size.copy_from_slice(b"\x1b[2J\x1b]0;ev\x07\x00");
    }
    header.set_cksum();
    builder.append(&header, &b"evil"[..]).unwrap();
    builder.finish().unwrap();
    let error = refused(&setup, &bundle, None).await;
    assert!(error.contains("\\u{1b}"), "{error}");
    assert_no_terminal_controls(&error);
}

/// A bundle of named repositories whose one member is `hostile` (then a manifest): the
/// import refuses it before anything is written.
async fn hostile_repository_member(hostile: &[u8], kind: tar::EntryType) -> String {
    let work = tempfile::tempdir().unwrap();
    let bundle = work.path().join("hostile.tar");
    let mut builder = tar::Builder::new(std::fs::File::create(&bundle).unwrap());
    raw_member(&mut builder, hostile, kind, b"evil", b"");
    member(
        &mut builder,
        REPOSITORIES_MANIFEST,
        br#"{"format":1,"created_at":"x","repositories":{}}"#,
    );
    builder.finish().unwrap();
    let dir = work.path().join("site");
    let error = import_named(NamedImportOptions {
        dir: dir.clone(),
        bundle,
        roots: BTreeMap::new(),
        only: None,
        now: at(NOW),
        limits: Limits::default(),
        bundle_limits: BundleLimits::default(),
        scratch: Some(work.path().to_path_buf()),
        sigstore: None,
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(!dir.exists(), "{error}");
    assert!(!work.path().join("evil.tar").exists() && !work.path().join("evil").exists());
    error
}

#[tokio::test]
async fn path_traversal_in_a_bundle_of_named_repositories_is_refused() {
    for hostile in [
        &b"repositories/../evil.tar"[..],
        b"repositories/../../evil.tar",
        b"repositories/.hidden.tar",
        b"repositories/a/../b.tar",
        b"/tmp/trustroot-evil.tar",
        b"repositories/_status.tar",
    ] {
        let error = hostile_repository_member(hostile, tar::EntryType::Regular).await;
        assert!(error.contains("is not repositories/NAME.tar"), "{error}");
    }
}

#[tokio::test]
async fn a_symlink_in_a_bundle_of_named_repositories_is_refused() {
    let error = hostile_repository_member(b"repositories/production.tar", tar::EntryType::Symlink).await;
    assert!(error.contains("link or special file"), "{error}");
}

#[tokio::test]
async fn a_repository_bundle_declaring_more_than_the_free_space_is_refused_before_it_is_written() {
    // A header declaring a petabyte, with limits that would let it through: the free space
    // stops it before a byte is written.
    let work = tempfile::tempdir().unwrap();
    let bundle = work.path().join("huge.tar");
    let mut header = tar::Header::new_gnu();
    header.set_path("repositories/production.tar").unwrap();
    header.set_size(1 << 50);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    std::fs::write(&bundle, header.as_bytes()).unwrap();
    let dir = work.path().join("site");
    let error = import_named(NamedImportOptions {
        dir: dir.clone(),
        bundle,
        roots: BTreeMap::new(),
        only: None,
        now: at(NOW),
        limits: Limits::default(),
        bundle_limits: BundleLimits {
            max_file_size: u64::MAX,
            max_total_size: u64::MAX,
            ..BundleLimits::default()
        },
        scratch: Some(work.path().to_path_buf()),
        sigstore: None,
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains("bytes are free at"), "{error}");
    assert!(!dir.exists());
}

#[tokio::test]
async fn a_target_tampered_after_the_sync_is_caught_while_exporting_and_nothing_is_written() {
    let setup = Setup::new().await;
    let source = setup.path("source");
    let served = source.join("repository");
    // The same length, other bytes: only the hashes tell, and the export checks them as it
    // writes each target (the verification before it leaves the hashes to that pass).
    let target = std::fs::read_dir(served.join("targets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_file())
        .unwrap();
    let mut bytes = std::fs::read(&target).unwrap();
    bytes[0] ^= 0xff;
    std::fs::remove_file(&target).unwrap();
    std::fs::write(&target, &bytes).unwrap();
    let (report, trusted) = verify_leaving_targets(&source, at(NOW), Limits::default(), None)
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let out = setup.path("tampered.tar");
    let error = export(&source, &out, false, &trusted).unwrap_err();
    assert!(matches!(error, UpdateError::ExportedTargetDiffers { .. }), "{error}");
    assert!(error.to_string().contains("nothing is exported"), "{error}");
    assert!(!out.exists(), "no bundle is written");
    // And one of another length is a problem the verification itself reports.
    std::fs::write(&target, b"short").unwrap();
    let (report, _) = verify_leaving_targets(&source, at(NOW), Limits::default(), None)
        .await
        .unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("length or hash differs")),
        "{:?}",
        report.problems
    );
}
