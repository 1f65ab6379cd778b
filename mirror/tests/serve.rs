//! `mirror serve` in process: a mirror of the repository simulator served on 127.0.0.1,
//! checked with raw HTTP/1.1 requests (so paths reach the server exactly as written) and
//! with the TUF client, including while syncs replace the served state.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use trustroot_core::Limits;
use trustroot_mirror::serve::{ServeOptions, Server, Stopped};
use trustroot_mirror::sync::{SyncOptions, sync};
use trustroot_mirror::{FetchConfig, Fetcher, Updater, UpdaterConfig};
use trustroot_test_support::{DelegatedRoleSpec, RepoSim, SimServer};
use url::Url;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A simulated repository mirrored once, and the mirror served.
struct Served {
    repo: Arc<Mutex<RepoSim>>,
    origin: SimServer,
    mirror: tempfile::TempDir,
    log: tempfile::NamedTempFile,
    now: DateTime<Utc>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<Stopped>>,
}

impl Served {
    async fn start() -> Served {
        Served::start_with(|_| {}).await
    }

    /// As [`Served::start`], with the server's options adjusted by `adjust`.
    async fn start_with(adjust: impl FnOnce(&mut ServeOptions)) -> Served {
        Served::start_from(|_| {}, adjust).await
    }

    /// As [`Served::start_with`], the simulated repository changed by `change` before
    /// its first publish.
    async fn start_from(change: impl FnOnce(&mut RepoSim), adjust: impl FnOnce(&mut ServeOptions)) -> Served {
        let now = Utc::now();
        let mut repo = RepoSim::new(now);
        repo.add_target("targets", "a.txt", b"first target");
        repo.add_target("targets", "dir/b c.txt", b"a name with a space");
        repo.add_target("targets", "ctfe.pem", b"-----BEGIN PUBLIC KEY-----\n");
        change(&mut repo);
        repo.publish();
        let root = repo.root_bytes(1).unwrap();
        let repo = Arc::new(Mutex::new(repo));
        let origin = SimServer::start(repo.clone());
        let mirror = tempfile::tempdir().unwrap();
        let mut first = sync_options(mirror.path(), &origin, now);
        first.root = Some(root);
        sync(first).await.unwrap();

        let log = tempfile::NamedTempFile::new().unwrap();
        let mut options = ServeOptions {
            access_log: Some(log.path().to_path_buf()),
            ..ServeOptions::new(mirror.path())
        };
        adjust(&mut options);
        let server = Server::bind(options, "127.0.0.1:0").await.unwrap();
        let addr = server.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Served {
            repo,
            origin,
            mirror,
            log,
            now,
            addr,
            stop: Some(stop),
            server: Some(server),
        }
    }

    fn served(&self) -> std::path::PathBuf {
        self.mirror.path().join("repository")
    }

    fn target_path(&self, name: &str) -> String {
        self.repo.lock().unwrap().target_paths("targets", name)[0].clone()
    }

    async fn resync(&self) {
        sync(sync_options(self.mirror.path(), &self.origin, self.now))
            .await
            .unwrap();
    }

    /// Stops the server and waits for it.
    async fn stop(&mut self) -> Stopped {
        self.stop.take().unwrap().send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(15), self.server.take().unwrap())
            .await
            .unwrap()
            .unwrap()
    }

    /// A client of the served mirror with its own metadata, initialised from root v1.
    fn client(&self) -> (tempfile::TempDir, UpdaterConfig) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("metadata")).unwrap();
        std::fs::create_dir(dir.path().join("targets")).unwrap();
        let root = self.repo.lock().unwrap().root_bytes(1).unwrap();
        Updater::init(&dir.path().join("metadata"), &root, self.now, &Limits::default(), None).unwrap();
        let base = format!("http://{}/", self.addr);
        let config = UpdaterConfig {
            metadata_dir: dir.path().join("metadata"),
            metadata_url: Url::parse(&base).unwrap(),
            target_dir: Some(dir.path().join("targets")),
            target_url: Some(Url::parse(&format!("{base}targets/")).unwrap()),
            now: self.now,
            limits: Limits::default(),
            root_history_dir: None,
            sigstore: None,
        };
        (dir, config)
    }
}

fn sync_options(dir: &Path, origin: &SimServer, now: DateTime<Utc>) -> SyncOptions {
    SyncOptions {
        from: Some(Url::parse(&origin.metadata_url()).unwrap()),
        targets_from: Some(Url::parse(&origin.targets_url()).unwrap()),
        jobs: 2,
        ..SyncOptions::new(dir, now)
    }
}

/// One HTTP response, as read off the socket.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
}

/// Sends `request` as is and reads the response until the server closes the connection.
fn raw(addr: SocketAddr, request: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(bytes[..end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.to_ascii_lowercase(), value.trim().to_string())
        })
        .collect();
    Reply {
        status,
        headers,
        body: bytes[end + 4..].to_vec(),
    }
}

fn request(addr: SocketAddr, method: &str, path: &str) -> Reply {
    raw(
        addr,
        &format!("{method} {path} HTTP/1.1\r\nHost: mirror\r\nConnection: close\r\n\r\n"),
    )
}

/// Checks a 200 response carries exactly the served file, with its headers.
fn assert_file(served: &Served, path: &str, content_type: &str, cache: &str) {
    let reply = request(served.addr, "GET", &format!("/{path}"));
    let bytes = std::fs::read(served.served().join(path)).unwrap();
    assert_eq!(reply.status, 200, "{path}");
    assert_eq!(reply.body, bytes, "{path}");
    assert_eq!(reply.header("content-length"), bytes.len().to_string(), "{path}");
    assert_eq!(reply.header("content-type"), content_type, "{path}");
    assert_eq!(reply.header("cache-control"), cache, "{path}");
}

/// Without consistent snapshots a name that looks versioned is the current file of a role
/// named like it (`2.bins` here), replaced in place by each new version: a cache told it
/// is immutable for a year would keep serving the old one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_consistent_snapshots_a_versioned_looking_name_is_not_cached_for_a_year() {
    let hashlike = format!("{}.x", "ab".repeat(32));
    let mut served = Served::start_from(
        |repo| {
            repo.set_consistent_snapshot(false);
            repo.add_delegation("targets", DelegatedRoleSpec::new("2.bins", &["bins/*"]));
            repo.add_target("2.bins", "bins/one", b"first");
            repo.add_target("targets", &hashlike, b"a target named like a hash-prefixed one");
        },
        |_| {},
    )
    .await;
    let json = "application/json";
    assert_file(&served, "2.bins.json", json, "no-store");
    assert_file(&served, "1.root.json", json, "no-store");
    assert_file(
        &served,
        &format!("targets/{hashlike}"),
        "application/octet-stream",
        "no-cache",
    );

    // The name is indeed reused: the next version of the role is served under it.
    let first = request(served.addr, "GET", "/2.bins.json").body;
    {
        let mut repo = served.repo.lock().unwrap();
        repo.add_target("2.bins", "bins/two", b"second");
        repo.publish();
    }
    served.resync().await;
    let second = request(served.addr, "GET", "/2.bins.json");
    assert_eq!(second.status, 200);
    assert_ne!(second.body, first);
    assert_eq!(second.header("cache-control"), "no-store");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_each_file_with_its_type_and_caching() {
    let mut served = Served::start().await;
    let json = "application/json";
    assert_file(&served, "timestamp.json", json, "no-store");
    assert_file(&served, "1.root.json", json, IMMUTABLE);
    for role in ["snapshot", "targets"] {
        let version = served.repo.lock().unwrap().version(role);
        assert_file(&served, &format!("{version}.{role}.json"), json, IMMUTABLE);
    }
    let octets = "application/octet-stream";
    assert_file(&served, &served.target_path("a.txt"), octets, IMMUTABLE);
    assert_file(
        &served,
        &served.target_path("ctfe.pem"),
        "application/x-pem-file",
        IMMUTABLE,
    );

    // A percent-encoded name is decoded: the file is `dir/<sha256>.b c.txt`.
    let spaced = served.target_path("dir/b c.txt");
    let reply = request(served.addr, "GET", &format!("/{}", spaced.replace(' ', "%20")));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"a name with a space");

    // HEAD: the same headers, no body.
    let reply = request(served.addr, "HEAD", "/timestamp.json");
    let length = std::fs::metadata(served.served().join("timestamp.json")).unwrap().len();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), length.to_string());
    assert_eq!(reply.header("content-type"), json);
    assert_eq!(reply.header("cache-control"), "no-store");
    assert!(reply.body.is_empty());

    let reply = request(served.addr, "POST", "/timestamp.json");
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), "GET, HEAD");
    assert_eq!(request(served.addr, "DELETE", "/1.root.json").status, 405);

    assert_eq!(served.stop().await, Stopped { drained: true });
    let log = std::fs::read_to_string(served.log.path()).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 10, "one line per request:\n{log}");
    let first: Vec<&str> = lines[0].split(' ').collect();
    assert_eq!(first[2..6], ["GET", "/timestamp.json", "200", &length.to_string()]);
    assert!(
        first[1].starts_with("127.0.0.1:") && first[6].ends_with("ms"),
        "{}",
        lines[0]
    );
    assert!(log.contains(" HEAD /timestamp.json 200 0 "), "{log}");
    assert!(log.contains(" POST /timestamp.json 405 "), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_everything_that_is_not_a_file_of_the_served_tree() {
    let mut served = Served::start().await;
    // A secret beside the mirror, a symlink and a directory planted in the served tree.
    std::fs::write(served.mirror.path().join("secret.json"), b"secret").unwrap();
    std::os::unix::fs::symlink("timestamp.json", served.served().join("link.json")).unwrap();
    std::os::unix::fs::symlink("/etc", served.served().join("etc")).unwrap();
    let state = served.mirror.path().join(std::fs::read_link(served.served()).unwrap());
    let state = state
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();

    for path in [
        "/missing.json",
        "/",
        "/targets",
        "/targets/",
        "/link.json",
        "/etc/passwd",
        "/etc%2fpasswd",
        "/../secret.json",
        "/targets/../../secret.json",
        "/%2e%2e/secret.json",
        "/..%2fsecret.json",
        "/..%5csecret.json",
        "/..\\secret.json",
        "/timestamp.json%00",
        "//timestamp.json",
        "/./timestamp.json",
        "/targets//a.txt",
        &format!("/../.trustroot-mirror/states/{state}/manifest.json"),
        "/%ff",
        &format!("/{}", "a".repeat(300)),
        &format!("/targets/{}", "a/".repeat(3000)),
    ] {
        let reply = request(served.addr, "GET", path);
        assert_eq!(reply.status, 404, "{path}: {:?}", String::from_utf8_lossy(&reply.body));
        assert!(!String::from_utf8_lossy(&reply.body).contains("secret"), "{path}");
    }
    // An absolute-form request target is held to the same rules.
    assert_eq!(request(served.addr, "GET", "http://mirror/../secret.json").status, 404);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tuf_client_updates_and_downloads_through_it() {
    let mut served = Served::start().await;
    let (_dir, config) = served.client();
    let mut updater = Updater::new(config.clone(), Fetcher::new(FetchConfig::default())).unwrap();
    updater.refresh().await.unwrap();
    for name in ["a.txt", "dir/b c.txt", "ctfe.pem"] {
        let info = updater.target_info(name).await.unwrap();
        let path = updater.download_target(name, &info).await.unwrap();
        assert_eq!(
            std::fs::read(path).unwrap(),
            std::fs::read(served.served().join(served.target_path(name))).unwrap()
        );
    }
    // The origin changes, the mirror syncs, the client follows.
    served
        .repo
        .lock()
        .unwrap()
        .add_target("targets", "new.txt", b"a new target");
    served.repo.lock().unwrap().publish();
    served.resync().await;
    let mut updater = Updater::new(config, Fetcher::new(FetchConfig::default())).unwrap();
    updater.refresh().await.unwrap();
    let info = updater.target_info("new.txt").await.unwrap();
    let path = updater.download_target("new.txt", &info).await.unwrap();
    assert_eq!(std::fs::read(path).unwrap(), b"a new target");
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_never_fail_while_syncs_replace_the_served_state() {
    let mut served = Served::start().await;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..3 {
        let (dir, config) = served.client();
        let done = done.clone();
        clients.push(tokio::spawn(async move {
            let _dir = dir;
            let mut refreshes = 0u32;
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let mut updater = Updater::new(config.clone(), Fetcher::new(FetchConfig::default())).unwrap();
                if let Err(e) = updater.refresh().await {
                    panic!("refresh {refreshes} failed: {e}");
                }
                let info = updater.target_info("a.txt").await.unwrap();
                updater.download_target("a.txt", &info).await.unwrap();
                refreshes += 1;
            }
            refreshes
        }));
    }
    for round in 0..8 {
        {
            let mut repo = served.repo.lock().unwrap();
            repo.add_target("targets", &format!("round-{round}.txt"), round.to_string().as_bytes());
            repo.publish();
        }
        served.resync().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    for client in clients {
        let refreshes = client.await.unwrap();
        assert!(refreshes > 0);
    }
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_lets_the_response_in_flight_finish_then_accepts_no_more() {
    let mut served = Served::start().await;
    let big: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    served.repo.lock().unwrap().add_target("targets", "big.bin", &big);
    served.repo.lock().unwrap().publish();
    served.resync().await;
    let path = served.target_path("big.bin");

    // The response has started (the client reads slowly), then the server is told to stop.
    let mut stream = TcpStream::connect(served.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET /{path} HTTP/1.1\r\nHost: mirror\r\n\r\n").unwrap();
    let mut start = [0u8; 12];
    stream.read_exact(&mut start).unwrap();
    assert_eq!(&start, b"HTTP/1.1 200");
    served.stop.take().unwrap().send(()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    let body = rest.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(
        rest[body..] == big[..],
        "the whole target arrives, then the connection closes"
    );

    let stopped = tokio::time::timeout(Duration::from_secs(15), served.server.take().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(stopped.drained);
    assert!(TcpStream::connect(served.addr).is_err());
    let log = std::fs::read_to_string(served.log.path()).unwrap();
    assert!(log.contains(&format!(" GET /{path} 200 {} ", big.len())), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_a_client_that_stops_reading_a_large_target_loses_its_connection() {
    // One connection slot: a client that holds it for ever would lock everyone out.
    let mut served = Served::start_with(|options| {
        options.max_connections = 1;
        options.idle_timeout = Duration::from_secs(1);
    })
    .await;
    let big: Vec<u8> = (0..32 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    served.repo.lock().unwrap().add_target("targets", "big.bin", &big);
    served.repo.lock().unwrap().publish();
    served.resync().await;
    let path = served.target_path("big.bin");
    let addr = served.addr;
    let small = served.target_path("a.txt");
    let outcome = tokio::task::spawn_blocking(move || {
        // The response starts, then the client reads no more (and keeps the socket open).
        let mut stalled = TcpStream::connect(addr).unwrap();
        write!(stalled, "GET /{path} HTTP/1.1\r\nHost: mirror\r\n\r\n").unwrap();
        let mut start = [0u8; 12];
        stalled.read_exact(&mut start).unwrap();
        assert_eq!(&start, b"HTTP/1.1 200");
        // Another client is served once the stalled connection has been dropped.
        let started = std::time::Instant::now();
        let mut other = TcpStream::connect(addr).unwrap();
        other.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(
            other,
            "GET /{small} HTTP/1.1\r\nHost: mirror\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut reply = Vec::new();
        let read = other.read_to_end(&mut reply);
        drop(stalled);
        (read.map(|_| reply), started.elapsed())
    })
    .await
    .unwrap();
    let (reply, waited) = outcome;
    let reply = reply.unwrap_or_else(|e| panic!("the second client was never served: {e}"));
    assert!(
        reply.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    assert!(reply.ends_with(b"first target"));
    assert!(
        waited >= Duration::from_millis(500),
        "served before the stalled one was dropped? {waited:?}"
    );
    served.stop().await;
}

/// A FIFO planted in the served tree: opening one for reading blocks until a writer comes,
/// so a server that opened it would hang on the request. It is refused as not a file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_planted_in_the_served_tree_does_not_hang_the_server() {
    let mut served = Served::start().await;
    let status = std::process::Command::new("mkfifo")
        .arg(served.served().join("fifo.json"))
        .status()
        .unwrap();
    assert!(status.success());
    let addr = served.addr;
    let reply = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::task::spawn_blocking(move || request(addr, "GET", "/fifo.json")),
    )
    .await
    .expect("answered, not hung")
    .unwrap();
    assert_eq!(reply.status, 404);
    assert_eq!(request(served.addr, "GET", "/timestamp.json").status, 200);
    served.stop().await;
}

/// A sync that updates the served state in place replaces `timestamp.json` within the same
/// state, and adds new files to it: the server answers the new timestamp at once and
/// every file it names, whatever it had read of that state before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_in_place_is_served_at_once() {
    let served = Served::start().await;
    let before = request(served.addr, "GET", "/timestamp.json");
    assert_eq!(before.status, 200);
    // Asked twice, as a server keeping what it read would answer the second time.
    assert_eq!(request(served.addr, "GET", "/timestamp.json").body, before.body);
    let state = std::fs::read_link(served.served()).unwrap();
    for round in 0..3 {
        {
            let mut repo = served.repo.lock().unwrap();
            repo.add_target(
                "targets",
                &format!("new-{round}.txt"),
                format!("round {round}").as_bytes(),
            );
            repo.publish();
        }
        served.resync().await;
        assert_eq!(std::fs::read_link(served.served()).unwrap(), state, "updated in place");
        let now = request(served.addr, "GET", "/timestamp.json");
        assert_eq!(now.status, 200);
        assert_eq!(now.body, std::fs::read(served.served().join("timestamp.json")).unwrap());
        assert_ne!(now.body, before.body, "round {round}: the old timestamp was served");
        let path = served.target_path(&format!("new-{round}.txt"));
        let target = request(served.addr, "GET", &format!("/{path}"));
        assert_eq!(
            (target.status, target.body),
            (200, format!("round {round}").into_bytes())
        );
    }
}

/// The server opens a state's `tree/` once and files beneath that descriptor. Someone who
/// can write the mirror's directory moves the served tree away and plants a symlink to a
/// directory of their own in its place: the running server keeps answering from the
/// directory it checked, never from the planted one, and a server started afresh refuses
/// to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_planted_in_place_of_the_served_tree_is_never_followed() {
    let mut served = Served::start().await;
    let real = std::fs::read(served.served().join("timestamp.json")).unwrap();
    assert_eq!(request(served.addr, "GET", "/timestamp.json").body, real);

    let planted = served.mirror.path().join("planted");
    std::fs::create_dir(&planted).unwrap();
    std::fs::write(planted.join("timestamp.json"), b"secret planted timestamp").unwrap();
    let tree = served.mirror.path().join(std::fs::read_link(served.served()).unwrap());
    std::fs::rename(&tree, tree.with_file_name("moved")).unwrap();
    std::os::unix::fs::symlink(&planted, &tree).unwrap();

    for _ in 0..3 {
        let reply = request(served.addr, "GET", "/timestamp.json");
        assert_eq!(
            (reply.status, &reply.body),
            (200, &real),
            "{:?}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    assert_eq!(served.stop().await, Stopped { drained: true });

    // A server started afresh checks the state first, and refuses to start.
    let refused = Server::bind(ServeOptions::new(served.mirror.path()), "127.0.0.1:0").await;
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains(tree.to_str().unwrap()), "{message}");
}

/// Access-log lines are buffered, and written out within about a second while the server
/// keeps running (and the rest when it stops, checked by the tests above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_log_is_written_out_while_the_server_runs() {
    let mut served = Served::start().await;
    assert_eq!(request(served.addr, "GET", "/timestamp.json").status, 200);
    assert_eq!(request(served.addr, "GET", "/missing.json").status, 404);
    let deadline = std::time::Instant::now() + trustroot_mirror::serve::LOG_FLUSH_INTERVAL * 3;
    let log = loop {
        let log = std::fs::read_to_string(served.log.path()).unwrap();
        if log.lines().count() == 2 || std::time::Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(log.contains(" GET /timestamp.json 200 "), "{log}");
    assert!(log.contains(" GET /missing.json 404 "), "{log}");
    assert!(log.ends_with("ms\n"), "{log}");
    served.stop().await;
}

/// The server remembers what it resolved of the served state (its tree, its small files)
/// until the served link changes. A mirror removed and made again while the server runs
/// numbers its states from 1 again: the server answers from the new mirror, never from
/// what it remembered of the old one under the same state number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_made_again_under_the_same_state_number_is_never_answered_from_the_old_one() {
    let mut served = Served::start().await;
    let old_state = std::fs::read_link(served.served()).unwrap();
    let old = std::fs::read(served.served().join("timestamp.json")).unwrap();
    for _ in 0..2 {
        assert_eq!(request(served.addr, "GET", "/timestamp.json").body, old);
    }

    std::fs::remove_file(served.served()).unwrap();
    std::fs::remove_dir_all(served.mirror.path().join(".trustroot-mirror")).unwrap();
    assert_eq!(request(served.addr, "GET", "/timestamp.json").status, 503);
    let root = {
        let mut repo = served.repo.lock().unwrap();
        repo.add_target("targets", "new.txt", b"the mirror made again");
        repo.publish();
        repo.root_bytes(1).unwrap()
    };
    let mut again = sync_options(served.mirror.path(), &served.origin, served.now);
    again.root = Some(root);
    sync(again).await.unwrap();
    assert_eq!(
        std::fs::read_link(served.served()).unwrap(),
        old_state,
        "the same state number"
    );
    let new = std::fs::read(served.served().join("timestamp.json")).unwrap();
    assert_ne!(new, old);

    let reply = request(served.addr, "GET", "/timestamp.json");
    assert_eq!((reply.status, reply.body), (200, new));
    served.stop().await;
}
