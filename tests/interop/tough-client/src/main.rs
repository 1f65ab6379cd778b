//! Runs tough (the Rust TUF client, pinned) against a repository: load from a root, refresh,
//! and download targets. Exit 0 on success, 1 on any failure (the reason on stderr).
//!
//! ```text
//! usage: trustroot-tough-client --root FILE --metadata-url URL --target-base-url URL
//!                               --metadata-dir DIR --target-dir DIR [--target NAME ...]
//! ```
//!
//! tough keeps its trusted metadata (and the last time it saw) in the metadata directory and
//! checks expiry against the wall clock: tests of expired fixtures run it under faketime.
//! URLs may be `http://` (a small HTTP/1.1 client below, so tough's `http` feature and its
//! reqwest + rustls tree stay out) or `file://` (tough's own `FilesystemTransport`).

use std::error::Error;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tough::{
    FilesystemTransport, IntoVec, RepositoryLoader, TargetName, Transport, TransportError, TransportErrorKind,
    TransportStream,
};
use url::Url;

type BoxError = Box<dyn Error + Send + Sync>;

/// The largest response the HTTP client reads; tough enforces the real limits on top.
const MAX_RESPONSE: u64 = 256 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tough: {}", chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// An error with all its causes, the way a test log should show it.
fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            let _ = write!(text, ": {cause_text}");
        }
        source = cause.source();
    }
    text
}

struct Args {
    root: PathBuf,
    metadata_url: Url,
    target_base_url: Url,
    metadata_dir: PathBuf,
    target_dir: PathBuf,
    targets: Vec<String>,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut root = None;
    let mut metadata_url = None;
    let mut target_base_url = None;
    let mut metadata_dir = None;
    let mut target_dir = None;
    let mut targets = Vec::new();
    let mut args = std::env::args_os().skip(1);
    while let Some(flag) = args.next() {
        let flag = flag.to_string_lossy().into_owned();
        const FLAGS: [&str; 6] = [
            "--root",
            "--metadata-url",
            "--target-base-url",
            "--metadata-dir",
            "--target-dir",
            "--target",
        ];
        if !FLAGS.contains(&flag.as_str()) {
            return Err(format!("unknown argument {flag}").into());
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let text = || {
            value
                .to_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{flag}: not UTF-8"))
        };
        match flag.as_str() {
            "--root" => root = Some(PathBuf::from(&value)),
            "--metadata-url" => metadata_url = Some(base_url(&text()?)?),
            "--target-base-url" => target_base_url = Some(base_url(&text()?)?),
            "--metadata-dir" => metadata_dir = Some(PathBuf::from(&value)),
            "--target-dir" => target_dir = Some(PathBuf::from(&value)),
            "--target" => targets.push(text()?),
            _ => return Err(format!("unknown argument {flag}").into()),
        }
    }
    Ok(Args {
        root: root.ok_or("--root is required")?,
        metadata_url: metadata_url.ok_or("--metadata-url is required")?,
        target_base_url: target_base_url.ok_or("--target-base-url is required")?,
        metadata_dir: metadata_dir.ok_or("--metadata-dir is required")?,
        target_dir: target_dir.ok_or("--target-dir is required")?,
        targets,
    })
}

/// tough joins file names onto the base URL: without a trailing slash the last segment
/// would be replaced.
fn base_url(text: &str) -> Result<Url, BoxError> {
    let text = if text.ends_with('/') {
        text.to_owned()
    } else {
        format!("{text}/")
    };
    Url::parse(&text).map_err(|e| format!("bad URL {text}: {e}").into())
}

fn run() -> Result<(), BoxError> {
    let args = parse_args()?;
    let root = std::fs::read(&args.root).map_err(|e| format!("cannot read {}: {e}", args.root.display()))?;
    std::fs::create_dir_all(&args.metadata_dir)?;
    std::fs::create_dir_all(&args.target_dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let repository = RepositoryLoader::new(&root, args.metadata_url.clone(), args.target_base_url.clone())
            .transport(LocalTransport)
            .datastore(&args.metadata_dir)
            .load()
            .await?;
        for name in &args.targets {
            let target = TargetName::new(name.as_str())?;
            let stream = repository
                .read_target(&target)
                .await?
                .ok_or_else(|| format!("target '{name}' not found"))?;
            let bytes = stream.into_vec().await?;
            let path = args.target_dir.join(file_name(name));
            write_file(&path, &bytes)?;
            println!("tough: {name} -> {}", path.display());
        }
        println!("tough: root v{}", repository.root().signed.version);
        Ok::<(), BoxError>(())
    })
}

/// The target name as one file name (like python-tuf: every byte but unreserved ones
/// percent-encoded), so a name can never leave the target directory.
fn file_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    if out == "." || out == ".." {
        out = out.replace('.', "%2E");
    }
    out
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BoxError> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".part");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)?;
    Ok(())
}

/// `file://` through tough's own transport, `http://` through [`http_get`].
#[derive(Debug, Clone, Copy)]
struct LocalTransport;

#[async_trait]
impl Transport for LocalTransport {
    async fn fetch(&self, url: Url) -> Result<TransportStream, TransportError> {
        match url.scheme() {
            "file" => FilesystemTransport.fetch(url).await,
            "http" => {
                let request = url.clone();
                let response = tokio::task::spawn_blocking(move || http_get(&request))
                    .await
                    .map_err(|e| TransportError::new_with_cause(TransportErrorKind::Other, &url, e))?;
                match response {
                    Ok(Response::Body(body)) => Ok(Box::pin(futures::stream::once(std::future::ready(Ok(
                        Bytes::from(body),
                    ))))),
                    Ok(Response::NotFound(status)) => Err(TransportError::new_with_cause(
                        TransportErrorKind::FileNotFound,
                        &url,
                        format!("HTTP {status}"),
                    )),
                    Err(e) => Err(TransportError::new_with_cause(TransportErrorKind::Other, &url, e)),
                }
            }
            _ => Err(TransportError::new(TransportErrorKind::UnsupportedUrlScheme, &url)),
        }
    }
}

enum Response {
    Body(Vec<u8>),
    /// 403, 404 and 410, which tough's own HTTP transport also reports as "not found".
    NotFound(u16),
}

/// One HTTP/1.1 GET over a fresh connection (`Connection: close`): a status line, headers,
/// then a body framed by `Content-Length`, `chunked` or the end of the stream.
fn http_get(url: &Url) -> Result<Response, BoxError> {
    let host = url.host_str().ok_or("URL without a host")?;
    let port = url.port_or_known_default().ok_or("URL without a port")?;
    let address = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| format!("{host} has no address"))?;
    let mut stream = TcpStream::connect_timeout(&address, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let host_header = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: trustroot-tough-client\r\n\
         Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
    )?;
    stream.flush()?;
    let mut raw = Vec::new();
    stream.take(MAX_RESPONSE + 1).read_to_end(&mut raw)?;
    if raw.len() as u64 > MAX_RESPONSE {
        return Err(format!("response larger than {MAX_RESPONSE} bytes").into());
    }
    let header_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("response without the end of its headers")?;
    let head = std::str::from_utf8(&raw[..header_end]).map_err(|_| "response headers are not UTF-8")?;
    let body = &raw[header_end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut content_length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("bad header line {line:?}").into());
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("bad Content-Length {value:?}"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().split(',').any(|v| v.trim() == "chunked");
        }
    }
    match status {
        200 => {}
        403 | 404 | 410 => return Ok(Response::NotFound(status)),
        _ => return Err(format!("HTTP {status}").into()),
    }
    let body = if chunked {
        dechunk(body)?
    } else if let Some(length) = content_length {
        if body.len() < length {
            return Err(format!("body cut short: {} of {length} bytes", body.len()).into());
        }
        body[..length].to_vec()
    } else {
        body.to_vec()
    };
    Ok(Response::Body(body))
}

/// Decodes a `Transfer-Encoding: chunked` body (trailers ignored).
fn dechunk(mut input: &[u8]) -> Result<Vec<u8>, BoxError> {
    let mut out = Vec::new();
    loop {
        let line_end = input
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("chunked body without a chunk size line")?;
        let size_text = std::str::from_utf8(&input[..line_end]).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size {size_text:?}"))?;
        input = &input[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if size.checked_add(2).is_none_or(|needed| input.len() < needed) {
            return Err("chunked body cut short".into());
        }
        out.extend_from_slice(&input[..size]);
        input = &input[size + 2..];
    }
}
