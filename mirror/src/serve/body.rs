//! Response bodies: a file streamed in bounded chunks, and a wrapper that counts the bytes
//! sent and, when the response is finished or abandoned, writes the access-log line and
//! counts the response for `/metrics`.

use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use chrono::{DateTime, Datelike, Timelike, Utc};
use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper::{Method, Uri};
use tokio::io::{AsyncRead, ReadBuf};

use super::{BoxBody, Shared};

/// A file streamed in chunks of [`super::CHUNK`] bytes.
pub(super) struct FileBody {
    pub file: tokio::fs::File,
    pub remaining: u64,
    pub buffer: Box<[u8]>,
}

impl Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = &mut *self;
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(this.remaining)
            .unwrap_or(usize::MAX)
            .min(this.buffer.len());
        let mut buffer = ReadBuf::new(&mut this.buffer[..want]);
        match Pin::new(&mut this.file).poll_read(cx, &mut buffer) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) if buffer.filled().is_empty() => Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file is shorter than when it was opened",
            )))),
            Poll::Ready(Ok(())) => {
                let filled = buffer.filled();
                this.remaining = this.remaining.saturating_sub(filled.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(Bytes::copy_from_slice(filled)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// One access-log line, written when the response body is finished or abandoned, so
/// it has the bytes really sent and the whole time taken.
pub(super) struct Record {
    pub shared: Arc<Shared>,
    pub at: DateTime<Utc>,
    pub started: Instant,
    pub peer: SocketAddr,
    pub method: Method,
    pub uri: Uri,
    pub status: u16,
}

impl Record {
    fn write(self, sent: u64) {
        if let Some(counters) = &self.shared.counters {
            counters.record(self.status, sent);
        }
        // The path is as received: a request target holds no spaces or control
        // characters, so one request is always one line.
        let millis = self.started.elapsed().as_secs_f64() * 1000.0;
        let mut log = self.shared.log.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        log.push(format_args!(
            "{} {} {} {} {} {sent} {millis:.1}ms\n",
            Rfc3339Millis(self.at),
            self.peer,
            self.method,
            self.uri.path(),
            self.status
        ));
    }
}

/// The access log: lines gathered in a buffer and written out whole, by the server every
/// [`super::LOG_FLUSH_INTERVAL`] and when it stops, and here when the buffer is full
/// (one `write` per request cost as much as opening and reading the file served).
/// Dropping it writes out what is left.
pub(super) struct AccessLog {
    out: BufWriter<Box<dyn Write + Send>>,
    /// The line being made, kept to be reused.
    line: Vec<u8>,
}

impl AccessLog {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        AccessLog {
            out: BufWriter::with_capacity(LOG_BUFFER, out),
            line: Vec::new(),
        }
    }

    /// Adds one line. A line that does not fit behind the lines buffered is buffered
    /// after writing them out, so every `write` holds whole lines only (`logrotate` with
    /// `copytruncate` never cuts one). A log that cannot be written loses lines, and
    /// nothing else: the server keeps serving.
    fn push(&mut self, line: std::fmt::Arguments<'_>) {
        self.line.clear();
        if self.line.write_fmt(line).is_ok() {
            let _ = self.out.write_all(&self.line);
        }
        // A very long request target does not keep its line's memory.
        if self.line.capacity() > LOG_BUFFER {
            self.line = Vec::new();
        }
    }

    /// Writes out the lines buffered.
    pub fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

/// The access log's buffer: about 500 lines.
const LOG_BUFFER: usize = 64 * 1024;

/// A time as RFC 3339 in UTC with milliseconds (`2026-12-05T17:00:00.123Z`), written
/// straight into the log's buffer: chrono's own formatting builds a `String` first, one
/// allocation per request.
struct Rfc3339Millis(DateTime<Utc>);

impl std::fmt::Display for Rfc3339Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            // A leap second's nanoseconds run past 10^9: it stays in its second.
            (t.nanosecond() / 1_000_000).min(999)
        )
    }
}

/// A response body that counts what it sends and logs the request when dropped.
pub(super) struct Logged {
    pub inner: BoxBody,
    pub sent: u64,
    pub record: Option<Record>,
}

impl Body for Logged {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            self.sent += frame.data_ref().map_or(0, |data| data.len() as u64);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if let Some(record) = self.record.take() {
            record.write(self.sent);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn log_times_are_rfc3339_with_milliseconds_as_chrono_writes_them() {
        for text in [
            "2026-12-05T17:00:00.123Z",
            "0999-01-02T03:04:05.000Z",
            "2026-12-31T23:59:59.999Z",
        ] {
            let at = DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc);
            assert_eq!(Rfc3339Millis(at).to_string(), text);
            assert_eq!(
                Rfc3339Millis(at).to_string(),
                at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            );
        }
    }

    /// Records every `write` made to it.
    #[derive(Clone, Default)]
    struct Writes(std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>);

    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().push(buf.to_vec());
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn access_log_writes_whole_lines_only_when_its_buffer_fills_and_when_flushed() {
        let writes = Writes::default();
        let mut log = AccessLog::new(Box::new(writes.clone()));
        // Lines of odd lengths, about six buffers' worth, then one longer than the buffer.
        let lines: Vec<String> = (0..5_000)
            .map(|i| format!("line {i} {}\n", "x".repeat(i % 97)))
            .chain([format!("{}\n", "y".repeat(LOG_BUFFER + 10))])
            .collect();
        for line in &lines[..100] {
            log.push(format_args!("{line}"));
        }
        assert!(writes.0.lock().unwrap().is_empty(), "100 lines fit in the buffer");
        for line in &lines[100..] {
            log.push(format_args!("{line}"));
        }
        log.flush();
        let written = writes.0.lock().unwrap().clone();
        assert!(written.len() > 5, "{} writes", written.len());
        for write in &written {
            assert!(write.len() <= LOG_BUFFER + 20);
            assert_eq!(write.last(), Some(&b'\n'), "a write that ends inside a line");
        }
        assert_eq!(written.concat(), lines.concat().into_bytes());
    }
}
