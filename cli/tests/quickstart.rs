//! `trustroot quickstart`, run as a newcomer runs it, with the network cut off: in a network
//! namespace of its own (`unshare --net`) where only the loopback interface exists. Then
//! every step's outcome is checked on disk: the round files and the detached signatures,
//! the published versions (root v1 then v2, the timestamp bumped by the refresh), the
//! mirror's tree, the client's metadata following to root v2, and the downloaded target.
//! Then each guide (keyholder, operator, air-gapped site) is followed to its end by running
//! its commands in the directory a quickstart left, offline too.
//!
//! `unshare` (util-linux) and `ip` (iproute2) are required test dependencies (scripts/test.sh
//! installs them), and so, for the guides' object-storage rehearsals, are `curl` and moto's
//! `moto_server` (in `$TRUSTROOT_TEST_PYTHON`'s venv): without them the test fails, saying
//! so; it never skips.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Brings `lo` up, checks it is the only interface, then runs the quickstart.
const OFFLINE: &str = r#"set -e
PATH="$PATH:/usr/sbin:/sbin"
ip link set lo up
links=$(ip -o link show | wc -l)
if [ "$links" != 1 ]; then echo "the namespace has $links interfaces, expected only lo" >&2; exit 97; fi
exec "$1" quickstart "$2"
"#;

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

fn quickstart_offline(dir: &Path) -> Output {
    let mut cmd = Command::new("unshare");
    if !is_root() {
        // Without root, a user namespace maps us to root inside it (where the kernel allows).
        cmd.arg("--map-root-user");
    }
    cmd.args(["--net", "sh", "-c", OFFLINE, "sh", env!("CARGO_BIN_EXE_trustroot")])
        .arg(dir)
        .stdin(std::process::Stdio::null());
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run `unshare` ({e}): install the Debian packages util-linux and iproute2 (scripts/test.sh does)")
    });
    assert!(
        !String::from_utf8_lossy(&out.stderr).starts_with("unshare: "),
        "`unshare --net` cannot make a network namespace here (it needs root, or unprivileged user namespaces): {}",
        text(&out)
    );
    assert_ne!(
        out.status.code(),
        Some(97),
        "the test's network namespace is not isolated:\n{}",
        text(&out)
    );
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn version(path: &Path) -> u64 {
    json(path)["signed"]["version"]
        .as_u64()
        .unwrap_or_else(|| panic!("{} has no version", path.display()))
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// The key IDs of a role in a root, and the holder of each.
fn signers(root: &Value, role: &str) -> Vec<(String, String)> {
    root["signed"]["roles"][role]["keyids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| {
            let id = id.as_str().unwrap().to_string();
            let holder = root["signed"]["keys"][&id]["x-tuf-on-ci-keyowner"]
                .as_str()
                .unwrap_or("")
                .to_string();
            (id, holder)
        })
        .collect()
}

fn holder_of(root: &Value, keyid: &str) -> String {
    root["signed"]["keys"][keyid]["x-tuf-on-ci-keyowner"]
        .as_str()
        .unwrap_or_else(|| panic!("key {keyid} is not in root v{}", root["signed"]["version"]))
        .to_string()
}

/// The detached signature files `holder` handed back in `round`: (role, keyid) per file,
/// each checked against what is stored in the round.
fn detached(dir: &Path, round: &str, holder: &str) -> Vec<(String, String)> {
    let from = dir.join(format!("signatures/{round}/{holder}"));
    let mut out = Vec::new();
    for name in files(&from) {
        let (role, rest) = name.split_once('.').unwrap();
        let keyid = rest.strip_suffix(".json").unwrap().to_string();
        let sig = json(&from.join(&name));
        assert_eq!(sig["role"], role, "{name}");
        assert_eq!(sig["keyid"], keyid.as_str(), "{name}");
        let stored = dir.join(format!("signing-repo/ceremonies/{round}/signatures/{name}"));
        assert_eq!(
            std::fs::read(from.join(&name))
                .ok()
                .map(|b| serde_json::from_slice::<Value>(&b).unwrap()),
            std::fs::read(&stored)
                .ok()
                .map(|b| serde_json::from_slice::<Value>(&b).unwrap()),
            "{name} handed back by {holder} is the one stored in round {round}"
        );
        out.push((role.to_string(), keyid));
    }
    out
}

/// Processes whose working directory is inside `dir` (a server left running).
fn processes_in(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cwd) = std::fs::read_link(entry.path().join("cwd"))
            && cwd.starts_with(dir)
        {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            found.push(String::from_utf8_lossy(&cmdline).replace('\0', " "));
        }
    }
    found
}

/// [`processes_in`] once those still there have had `grace` to exit: a guide's `kill` is
/// not waited for, and moto, stopped by it, takes a moment to shut its Python down.
fn still_running_after(dir: &Path, grace: Duration) -> Vec<String> {
    let deadline = Instant::now() + grace;
    loop {
        let found = processes_in(dir);
        if found.is_empty() || Instant::now() >= deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn quickstart_lives_a_whole_life_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().join("qs");
    let out = quickstart_offline(&dir);
    let output = text(&out);
    assert!(out.status.success(), "quickstart failed offline:\n{output}");
    let dir = std::fs::canonicalize(&dir).unwrap();
    assert!(processes_in(&dir).is_empty(), "left running: {:?}", processes_in(&dir));

    // The printed steps are numbered and show the commands they ran.
    for expected in [
        "1. Create a signing repository",
        "$ trustroot init signing-repo",
        "$ trustroot ceremony request --out requests/0001.json --repo signing-repo",
        "$ trustroot ceremony sign --request requests/0001.json --key private-keys/alice.pem --out-dir signatures/0001/alice --yes",
        "$ trustroot ceremony add-signature --repo signing-repo signatures/0001/*/*.json",
        "$ trustroot ceremony publish --repo signing-repo",
        "$ trustroot mirror serve mirror --listen 127.0.0.1:0 --access-log mirror-access.log &",
        "$ trustroot online refresh --repo signing-repo --force",
        "$ trustroot key remove carol --role root --repo signing-repo",
        "$ trustroot ceremony sign --request requests/0002.json --key private-keys/dave.pem --out-dir signatures/0002/dave --root signing-repo/public/repository/1.root.json --yes",
        "Baseline VERIFIED against your root signing-repo/public/repository/1.root.json (v1)",
        "Baseline: none. Nothing published precedes this request (a new repository, root v1)",
        "NOT encrypted",
        "docs/keyholder-guide.md",
    ] {
        assert!(output.contains(expected), "missing {expected:?} in:\n{output}");
    }
    let url = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("serving mirror/repository on "))
        .unwrap_or_else(|| panic!("no served address in:\n{output}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(output.contains(&format!("--metadata-url {url} refresh")), "{output}");

    // The signing repository: policy with the online key outside it, two rounds.
    let repo = dir.join("signing-repo");
    let policy = std::fs::read_to_string(repo.join("trustroot.toml")).unwrap();
    assert!(policy.contains("signer = \"../private-keys/online.pem\""), "{policy}");
    for round in ["0001", "0002"] {
        let round_dir = repo.join("ceremonies").join(round);
        for file in ["round.json", "transcript.jsonl", "staged", "signatures"] {
            assert!(round_dir.join(file).exists(), "{}/{file}", round_dir.display());
        }
        let request = json(&dir.join(format!("requests/{round}.json")));
        assert_eq!(request["round"], round);
        assert_eq!(request["request_sha256"].as_str().unwrap().len(), 64);
    }
    // Private keys stay outside the signing repository.
    for name in ["alice", "bob", "carol", "dave", "online", "rekor"] {
        assert!(dir.join(format!("private-keys/{name}.pem")).is_file());
    }
    let mut in_repo = Vec::new();
    for entry in walk(&repo) {
        if std::fs::read(&entry).is_ok_and(|b| b.windows(11).any(|w| w == b"PRIVATE KEY")) {
            in_repo.push(entry);
        }
    }
    assert!(
        in_repo.is_empty(),
        "private keys inside the signing repository: {in_repo:?}"
    );

    // Published: root v1 (2-of-3, signed by alice and bob), then root v2 (carol out, dave in,
    // signed by alice, bob and dave); the timestamp v1 -> v2 (refresh) -> v3 (publish).
    let published = repo.join("public/repository");
    let root1 = json(&published.join("1.root.json"));
    let root2 = json(&published.join("2.root.json"));
    assert_eq!(root1["signed"]["version"], 1);
    assert_eq!(root2["signed"]["version"], 2);
    assert!(!published.join("3.root.json").exists());
    for (root, holders) in [
        (&root1, ["@alice", "@bob", "@carol"]),
        (&root2, ["@alice", "@bob", "@dave"]),
    ] {
        assert_eq!(root["signed"]["roles"]["root"]["threshold"], 2);
        let mut got: Vec<String> = signers(root, "root").into_iter().map(|(_, h)| h).collect();
        got.sort();
        assert_eq!(got, holders);
    }
    assert_eq!(root2["signed"]["roles"]["targets"]["threshold"], 2);
    assert_eq!(version(&published.join("timestamp.json")), 3);
    assert_eq!(version(&published.join("2.snapshot.json")), 2);
    assert_eq!(version(&published.join("1.targets.json")), 1);
    for v in [1, 2] {
        assert_eq!(
            std::fs::read(repo.join(format!("metadata/root_history/{v}.root.json"))).unwrap(),
            std::fs::read(published.join(format!("{v}.root.json"))).unwrap()
        );
    }

    // The detached signatures each keyholder handed back, stored in the rounds, and the
    // published roots carry them.
    let sig_ids = |root: &Value| -> Vec<String> {
        let mut ids: Vec<String> = root["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["keyid"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let mut round1_root = Vec::new();
    for holder in ["alice", "bob"] {
        let sigs = detached(&dir, "0001", holder);
        let roles: Vec<&str> = sigs.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(roles, ["root", "targets"], "{holder}");
        for (_, keyid) in &sigs {
            assert_eq!(holder_of(&root1, keyid), format!("@{holder}"));
        }
        round1_root.push(sigs[0].1.clone());
    }
    assert!(
        !dir.join("signatures/0001/carol").exists(),
        "carol does not sign round 0001"
    );
    assert_eq!(files(&repo.join("ceremonies/0001/signatures")).len(), 4);
    round1_root.sort();
    assert_eq!(sig_ids(&root1), round1_root);
    let mut round2_root = Vec::new();
    for holder in ["alice", "bob", "dave"] {
        let sigs = detached(&dir, "0002", holder);
        assert_eq!(sigs.len(), 1, "{holder} signs root v2 only");
        assert_eq!(sigs[0].0, "root");
        assert_eq!(holder_of(&root2, &sigs[0].1), format!("@{holder}"));
        round2_root.push(sigs[0].1.clone());
    }
    assert_eq!(files(&repo.join("ceremonies/0002/signatures")).len(), 3);
    round2_root.sort();
    assert_eq!(sig_ids(&root2), round2_root);

    // The mirror: the served symlink, the same metadata bytes as published, the target at
    // its hash-prefixed name.
    let mirror = dir.join("mirror/repository");
    assert!(std::fs::symlink_metadata(&mirror).unwrap().file_type().is_symlink());
    for file in [
        "1.root.json",
        "2.root.json",
        "timestamp.json",
        "1.snapshot.json",
        "2.snapshot.json",
        "1.targets.json",
    ] {
        assert_eq!(
            std::fs::read(mirror.join(file)).unwrap_or_else(|e| panic!("mirror {file}: {e}")),
            std::fs::read(published.join(file)).unwrap(),
            "mirror {file}"
        );
    }
    let source = std::fs::read(repo.join("targets/trusted_root.json")).unwrap();
    let hash = hex::encode(Sha256::digest(&source));
    let mirrored = mirror.join(format!("targets/{hash}.trusted_root.json"));
    assert_eq!(std::fs::read(&mirrored).unwrap(), source);
    let trusted_root = json(&repo.join("targets/trusted_root.json"));
    assert_eq!(trusted_root["tlogs"][0]["baseUrl"], "https://rekor.example.internal");

    // The client: followed to root v2 and timestamp v3, through the mirror's HTTP server.
    let client = dir.join("client/metadata");
    assert_eq!(
        std::fs::read(client.join("root.json")).unwrap(),
        std::fs::read(published.join("2.root.json")).unwrap()
    );
    assert_eq!(
        std::fs::read(client.join("timestamp.json")).unwrap(),
        std::fs::read(published.join("timestamp.json")).unwrap()
    );
    assert_eq!(version(&client.join("snapshot.json")), 2);
    assert_eq!(
        std::fs::read(dir.join("client/targets/trusted_root.json")).unwrap(),
        source
    );
    let access = std::fs::read_to_string(dir.join("mirror-access.log")).unwrap();
    for request in [
        "GET /1.targets.json 200",
        &format!("GET /targets/{hash}.trusted_root.json 200"),
        "GET /2.root.json 200",
        "GET /3.root.json 404",
    ] {
        assert!(access.contains(request), "{request:?} not in the access log:\n{access}");
    }
    // Each timestamp version was fetched by the client: v1, v2 after the refresh, v3.
    assert_eq!(access.matches("GET /timestamp.json 200").count(), 3, "{access}");

    // What the air-gapped guide does next works on what the quickstart left, with the
    // relative paths it uses: the mirror verifies, exports and imports into a site mirror.
    let in_dir = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_trustroot"))
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "trustroot {args:?}:\n{}", text(&out));
    };
    in_dir(&["mirror", "verify", "mirror"]);
    in_dir(&["mirror", "export", "mirror", "--out", "bundle.tar"]);
    in_dir(&[
        "mirror",
        "import",
        "site-mirror",
        "--bundle",
        "bundle.tar",
        "--root",
        "signing-repo/public/repository/1.root.json",
    ]);
    assert_eq!(
        std::fs::read(dir.join("site-mirror/repository/2.root.json")).unwrap(),
        std::fs::read(published.join("2.root.json")).unwrap()
    );

    // The log holds every command with its whole output.
    let log = std::fs::read_to_string(dir.join("quickstart.log")).unwrap();
    assert!(log.contains("+ roles.root.threshold = 2"), "{log}");

    // It ends with the status page: both rounds, root v2 with dave among its signers.
    let page = std::fs::read_to_string(dir.join("status.html")).unwrap();
    for shown in ["Round 0001", "Round 0002", "data-role=\"root\"", "data-key=\"dave\""] {
        assert!(page.contains(shown), "{shown} is not on the status page:\n{page}");
    }
    assert!(log.contains("--html status.html"), "{log}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            out.extend(walk(&path));
        } else if meta.is_file() {
            out.push(path);
        }
    }
    out
}

#[test]
fn quickstart_refuses_a_directory_that_holds_anything() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), b"mine\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_trustroot"))
        .arg("quickstart")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not empty"), "{stderr}");
    assert_eq!(files(tmp.path()), ["notes.txt"]);
    assert_eq!(std::fs::read(tmp.path().join("notes.txt")).unwrap(), b"mine\n");

    // A file where the directory should be.
    let file = tmp.path().join("notes.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_trustroot"))
        .arg("quickstart")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a directory"));
}

#[test]
fn quickstart_names_the_failed_step() {
    // Loopback down (a namespace where no interface is up): the server binds but no client
    // can reach it. Everything before works, the client's update fails, the error names
    // that step, and the server is stopped all the same.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("qs");
    let mut cmd = Command::new("unshare");
    if !is_root() {
        cmd.arg("--map-root-user");
    }
    let out = cmd
        .args(["--net", env!("CARGO_BIN_EXE_trustroot"), "quickstart"])
        .arg(&dir)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `unshare` ({e}): install util-linux (scripts/test.sh does)"));
    let output = text(&out);
    assert_eq!(out.status.code(), Some(1), "{output}");
    assert!(
        output
            .contains("error: step 10 (A client trusts root v1 and updates from the mirror) failed: `trustroot client"),
        "{output}"
    );
    assert!(output.contains("is left as it is for you to look at"), "{output}");
    // What came before is on disk; nothing after.
    assert!(dir.join("signing-repo/public/repository/1.root.json").is_file());
    assert!(dir.join("mirror/repository").exists());
    assert!(!dir.join("client/targets/trusted_root.json").exists());
    assert!(!dir.join("signing-repo/ceremonies/0002").exists());
    let dir = std::fs::canonicalize(&dir).unwrap();
    assert!(processes_in(&dir).is_empty(), "left running: {:?}", processes_in(&dir));
}

/// The `sh` blocks of a guide, in order, as one bash script, for a reader with no terminal:
/// `ceremony sign` gets `--yes` (a reader types `yes`), `--encrypt` gets its passphrase from
/// the environment (a reader types it), and a server started in the background (trustroot's
/// own, or the S3 store of the object-storage rehearsals) is waited for (a reader starts
/// typing the next command a second later). Blocks marked
/// `# (outside world)` are left out: they need the network.
fn guide_script(guide: &str) -> String {
    let text = std::fs::read_to_string(format!("{}/../docs/{guide}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut script = String::from("set -ex\nexport PW=rehearsal\n");
    let mut blocks = 0;
    for block in text.split("```sh\n").skip(1) {
        let block = block.split("```").next().unwrap();
        if block.starts_with("# (outside world)") {
            continue;
        }
        blocks += 1;
        for line in block.lines() {
            let mut line = line.replace("--encrypt", "--passphrase-env PW --scrypt-log-n 10");
            if line.contains("ceremony sign") {
                let code = line.split(" #").next().unwrap().trim_end().to_string();
                line = format!("{code} --yes");
            }
            script.push_str(&line);
            script.push('\n');
            if let Some(port) = background_port(&line) {
                script.push_str(&format!(
                    "for i in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; sleep 0.1; done\n"
                ));
            }
        }
    }
    assert!(blocks >= 3, "docs/{guide} has {blocks} runnable sh blocks");
    script
}

/// The port a server started in the background (a line ending in `&`) listens on:
/// `--listen 127.0.0.1:PORT` (trustroot's servers) or `-p PORT` (the S3 store, moto).
fn background_port(line: &str) -> Option<&str> {
    let command = line.trim_end().strip_suffix('&')?;
    let words: Vec<&str> = command.split_whitespace().collect();
    words.windows(2).find_map(|pair| match pair {
        ["--listen", address] => address.strip_prefix("127.0.0.1:"),
        ["-p", port] => Some(*port),
        _ => None,
    })
}

/// The directory `$TRUSTROOT_TEST_PYTHON` is in: its venv's `bin/`, where pip put the
/// `moto_server` the guides start, as for a reader who ran `pip install 'moto[server]'`.
fn moto_server_dir() -> PathBuf {
    let python = trustroot_test_support::moto::python();
    let dir = python.parent().unwrap().to_path_buf();
    assert!(
        dir.join("moto_server").is_file(),
        "{} has no moto_server: install tests/interop/requirements.txt there (scripts/test.sh does)",
        dir.display()
    );
    dir
}

/// Each guide, followed to its end by copying its commands into the directory a fresh
/// quickstart left, in a network namespace with only loopback (and so a port of its own).
#[test]
fn each_guide_can_be_followed_against_the_quickstart_directory() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_trustroot"))
        .parent()
        .unwrap()
        .to_path_buf();
    let moto_dir = moto_server_dir();
    for guide in [
        "keyholder-guide.md",
        "operator-guide.md",
        "air-gapped-site.md",
        "tuf-on-ci.md",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        // Where a guide reads trustroot's bundled fixtures: "your clone of trustroot".
        std::os::unix::fs::symlink(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
            tmp.path().join("trustroot-src"),
        )
        .unwrap();
        let script = format!(
            "trustroot quickstart trustroot-quickstart > quickstart.out\n{}",
            guide_script(guide)
        );
        std::fs::write(tmp.path().join("guide.sh"), script).unwrap();
        let mut cmd = Command::new("unshare");
        if !is_root() {
            cmd.arg("--map-root-user");
        }
        // The pinned moto before the PATH's own: another `moto_server` (a pyenv shim, say)
        // would run another version.
        let path = format!(
            "{}:{}:{}:/usr/sbin:/sbin",
            bin_dir.display(),
            moto_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = cmd
            .args(["--net", "sh", "-c", "ip link set lo up && exec bash guide.sh"])
            .env("PATH", path)
            .env_remove("TRUSTROOT_ONLINE_KEY")
            .current_dir(tmp.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run `unshare` ({e}): install util-linux and iproute2 (scripts/test.sh does)")
            });
        assert!(
            out.status.success(),
            "docs/{guide} cannot be followed to its end against the quickstart's directory:\n{}",
            text(&out)
        );
        let dir = std::fs::canonicalize(tmp.path()).unwrap();
        let left = still_running_after(&dir, Duration::from_secs(5));
        assert!(left.is_empty(), "{guide} left running: {left:?}");
    }
}
