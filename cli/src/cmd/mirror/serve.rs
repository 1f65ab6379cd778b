//! `trustroot mirror serve`: serve a mirror over HTTP (trustroot_mirror::serve does the work).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use trustroot_mirror::UpdateError;
use trustroot_mirror::serve::status_page::StatusPage;
use trustroot_mirror::serve::{MAX_CONNECTIONS, ServeOptions, Server, shutdown_signal};

use crate::output::{self, Failure, Format};
use crate::{note, outln};

#[derive(Debug, Args)]
#[command(after_long_help = "\
Every request reads DIR/repository afresh, so a sync or an import running meanwhile is seen \
whole or not at all: each response is one file of one complete state.

A directory of named repositories (several repositories in one mirror, DIR/NAME each) is \
served each under /NAME/ (metadata at /NAME/timestamp.json, targets under /NAME/targets/), \
with the same rules per repository. / answers a JSON list of the repositories and their \
paths; a path whose first part is not a repository is a 404; a repository synced for the \
first time while the server runs is served from its first request on.

Headers: Content-Type application/json (.json), application/x-pem-file (.pem) or \
application/octet-stream. Cache-Control: no-store on timestamp.json and other unversioned \
metadata; public, max-age=31536000, immutable on versioned metadata (N.root.json, \
N.snapshot.json...) and on hash-prefixed targets of a consistent-snapshot repository; \
no-cache on anything else. Only GET and HEAD; no directory listings.

With --metrics, /metrics answers in the Prometheus text format: the served repository's \
(or each named repository's, labelled with its name) role expiry gauges, the last \
successful sync and the failed syncs (recorded by `mirror sync`, and `mirror import` when \
it succeeds, in the mirror's directory), and the requests and bytes served. It names no \
file of the repository (targets are under /targets/); without --metrics it is a 404 like \
any other missing file. See docs/monitoring.md.

With --status-page, /_status answers the mirror's status as an HTML page (origin, last \
sync and its outcome, roles with versions and expiries, files and bytes served; a section \
for each named repository), the page `mirror status --html` writes, read afresh on every \
request; Content-Type text/html, Cache-Control no-store, a Content-Security-Policy that \
allows no script and no fetch. Like /metrics it names no file of the repository; without --status-page it is a 404.

Limits: 1024 connections at once (more wait in the listen backlog); request headers must \
arrive within 10 s, and idle keep-alive connections close after 10 s.

SIGINT or SIGTERM stops accepting, lets responses in flight finish for up to 10 s, and \
exits 0. Exit status 1 when the server cannot start (DIR is not a synced mirror, the \
address is taken).

See docs/mirror-serve.md and docs/exit-codes.md.")]
pub struct ServeArgs {
    /// The mirror directory (as given to `mirror sync`); DIR/repository is served, or each
    /// named repository's DIR/NAME/repository under /NAME/.
    pub dir: PathBuf,
    /// Address to listen on, HOST:PORT. Port 0 picks a free port; the address actually
    /// bound is printed on standard output. Use 0.0.0.0:PORT or [::]:PORT to serve
    /// other machines.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Append the access log to FILE instead of standard error. One line per request:
    /// time, client address, method, path, status, bytes sent, duration. Lines are
    /// written out at least once a second and when the server stops.
    #[arg(long, value_name = "FILE")]
    pub access_log: Option<PathBuf>,
    /// Also answer /metrics, in the Prometheus text format, on the same address.
    #[arg(long)]
    pub metrics: bool,
    /// The `repository` label of the metrics (default: the mirror's origin URL). Refused
    /// on a directory of named repositories: each is labelled with its name.
    #[arg(long, value_name = "NAME", requires = "metrics")]
    pub repository_label: Option<String>,
    /// Also answer /_status with the mirror's status page (HTML), on the same address.
    /// Off by default: it tells whoever can reach the server where the mirror syncs from
    /// and why its last sync failed.
    #[arg(long)]
    pub status_page: bool,
}

pub fn run(args: ServeArgs) -> ExitCode {
    output::finish(Format::Text, serve(args).map(|()| ExitCode::SUCCESS), 1)
}

fn serve(args: ServeArgs) -> Result<(), Failure> {
    // As many workers as cores: serving is the one mirror command that waits on clients.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::io(format!("cannot start the async runtime: {e}")))?;
    let stopped = runtime.block_on(async {
        // Signals are handled from before the address is printed: a supervisor (or a
        // test) may send one as soon as it reads it.
        let shutdown = shutdown_signal()?;
        let options = ServeOptions {
            access_log: args.access_log.clone(),
            max_connections: MAX_CONNECTIONS,
            metrics: args.metrics,
            repository_label: args.repository_label.clone(),
            status_page: args
                .status_page
                .then(|| StatusPage::new(super::page::render, super::page::render_named)),
            ..ServeOptions::new(&args.dir)
        };
        let server = Server::bind(options, &args.listen).await?;
        // Whoever started the server reads the address, so it must arrive now; a reader
        // that went away does not stop the server (its requests are what matters).
        let what = match server.named() {
            Some(names) => format!(
                "the named repositories of {} ({})",
                args.dir.display(),
                names
                    .iter()
                    .map(|name| format!("/{name}/"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => args.dir.join(trustroot_mirror::layout::SERVED).display().to_string(),
        };
        let _ = outln!("serving {what} on http://{}/", server.local_addr()).and_then(|()| output::flush());
        Ok::<_, UpdateError>(server.run(shutdown).await)
    })?;
    // Reads of local files run on blocking threads; none outlives a second.
    runtime.shutdown_timeout(Duration::from_secs(1));
    if stopped.drained {
        note!("stopped");
    } else {
        note!("stopped; responses still in flight after 10 s were cut off");
    }
    Ok(())
}
