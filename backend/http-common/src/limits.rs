//! The HTTP server loop both binaries use instead of `axum::serve`, which
//! has no header-read timeout, no idle timeout and no connection cap: 50
//! sockets with half-sent headers stayed open 45 s, and at 128 open files
//! 130 silent sockets starved the server of descriptors ("Too many open
//! files") so healthy requests timed out.
//!
//! - At most `max_connections` connections are held (fewer when the
//!   process' open-file limit is low: [`effective_cap`]); past it the loop
//!   stops accepting, so new sockets wait in the kernel's backlog and cost
//!   the process no descriptor.
//! - HTTP/1: a request's head must arrive within `header_read_timeout`
//!   (that is also how long a kept-alive connection may sit between
//!   requests). Heads are at most [`MAX_HEAD_BYTES`], [`MAX_HEADERS`] lines.
//! - A handler (reading its body included) gets `request_timeout`, then a
//!   JSON 503.
//! - A connection with no byte read or written for `idle_timeout` is closed
//!   (a client that stops reading an answer, an idle HTTP/2 connection).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::error::{error_response, PublicError};

/// Largest request head (request line and headers) read: larger is 431.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most header lines in a request head.
pub const MAX_HEADERS: usize = 100;
/// Most concurrent HTTP/2 streams on one connection.
const MAX_H2_STREAMS: u32 = 100;
/// Open files kept for everything but client connections (upstream
/// sockets, the database, static files, logs).
const RESERVED_FDS: usize = 64;

/// How much of a server one client can hold. The same flags in both
/// binaries (`#[command(flatten)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct ServeArgs {
    /// Client connections held at once; past it new ones wait in the
    /// kernel's backlog. Lowered to fit the open-file limit (ulimit -n).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    /// Seconds a client has to send a request's headers (and how long a
    /// kept-alive connection may wait for its next request).
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub header_read_timeout_seconds: u64,

    /// Seconds a request may take, its body included, before a 503.
    #[arg(long, env = "REQUEST_TIMEOUT_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout_seconds: u64,

    /// Seconds a connection may go without a byte either way before it is
    /// closed (raised to the request timeout plus 1 s if below it: a
    /// handler may be silent that long).
    #[arg(long, env = "IDLE_TIMEOUT_SECONDS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub idle_timeout_seconds: u64,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_read_timeout_seconds: 10,
            request_timeout_seconds: 60,
            idle_timeout_seconds: 90,
        }
    }
}

impl ServeArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_connections: self.max_connections as usize,
            header_read_timeout: Duration::from_secs(self.header_read_timeout_seconds),
            request_timeout: Duration::from_secs(self.request_timeout_seconds),
            idle_timeout: Duration::from_secs(self.idle_timeout_seconds),
        }
    }
}

/// [`ServeArgs`] as durations (tests use sub-second ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        ServeArgs::default().limits()
    }
}

/// The connection cap for an open-file limit `nofile` (`None`: unknown):
/// `wanted`, lowered so [`RESERVED_FDS`] (or half the limit, if that is
/// more) stay for everything else. Never 0.
pub fn effective_cap(wanted: usize, nofile: Option<u64>) -> usize {
    let Some(nofile) = nofile.and_then(|n| usize::try_from(n).ok()) else {
        return wanted.max(1);
    };
    let room = if nofile >= 2 * RESERVED_FDS {
        nofile - RESERVED_FDS
    } else {
        nofile / 2
    };
    wanted.min(room).max(1)
}

/// The soft open-file limit, from `/proc/self/limits` (Linux); `None`
/// elsewhere or when unlimited.
pub fn open_file_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_file_limit(&text)
}

/// The soft limit on the `Max open files` line of a `/proc/<pid>/limits`.
pub fn parse_open_file_limit(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Serves `app` on `listener` within `limits` until `shutdown` resolves;
/// then stops accepting, lets every connection finish its requests (the
/// caller bounds how long it waits) and returns. `ConnectInfo<SocketAddr>`
/// is in every request's extensions, as with
/// `into_make_service_with_connect_info`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let nofile = open_file_limit();
    let cap = effective_cap(limits.max_connections, nofile);
    if cap < limits.max_connections {
        tracing::warn!(
            wanted = limits.max_connections,
            cap,
            open_file_limit = nofile,
            "connection cap lowered to fit the open-file limit (raise ulimit -n)"
        );
    }
    let limits = Limits {
        max_connections: cap,
        idle_timeout: limits
            .idle_timeout
            .max(limits.request_timeout + Duration::from_secs(1)),
        ..limits
    };
    let slots = Arc::new(Semaphore::new(cap));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_H2_STREAMS)
        .max_header_list_size(MAX_HEAD_BYTES as u32);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        // A slot first: at the cap nothing is accepted (no descriptor spent).
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    // EMFILE and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let builder = Arc::clone(&builder);
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            connection(stream, peer, app, &builder, limits, stop).await;
            drop(permit);
        });
    }
    let _ = stop_tx.send(true);
    drop(listener);
    // Every slot back: every connection done.
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    builder: &auto::Builder<TokioExecutor>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let (io, seen) = Watched::new(stream);
    let request_timeout = limits.request_timeout;
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let app = app.clone();
        async move {
            let answer = tokio::time::timeout(request_timeout, app.oneshot(req.map(Body::new)));
            Ok::<Response, std::convert::Infallible>(match answer.await {
                Ok(Ok(r)) => r,
                Ok(Err(never)) => match never {},
                Err(_) => {
                    tracing::info!(client = %peer, "request timed out");
                    error_response(
                        StatusCode::SERVICE_UNAVAILABLE,
                        PublicError::with_code("request_timeout", "the request took too long"),
                    )
                }
            })
        }
    });
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut stopping = *stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    // Until its first byte a connection gets the header timeout: hyper's
    // protocol detection (HTTP/1 or HTTP/2) waits for bytes before its own
    // header timer starts, so a silent socket would otherwise stay open
    // for the whole idle timeout.
    let deadline = |seen: &LastSeen| {
        if seen.read_any.load(Ordering::Relaxed) {
            seen.last() + limits.idle_timeout
        } else {
            seen.base + limits.header_read_timeout
        }
    };
    loop {
        let idle_until = deadline(&seen);
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(client = %peer, error = %e, "connection ended");
                }
                return;
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
            () = tokio::time::sleep_until(idle_until) => {
                if deadline(&seen) <= Instant::now() {
                    tracing::debug!(client = %peer, "idle connection closed");
                    return;
                }
            }
        }
    }
}

/// When a connection last moved a byte.
struct LastSeen {
    base: Instant,
    millis: AtomicU64,
    read_any: std::sync::atomic::AtomicBool,
}

impl LastSeen {
    fn touch(&self) {
        let ms = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.millis.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.base + Duration::from_millis(self.millis.load(Ordering::Relaxed))
    }
}

/// A socket that notes when it last read or wrote a byte.
struct Watched {
    inner: TcpStream,
    seen: Arc<LastSeen>,
}

impl Watched {
    fn new(inner: TcpStream) -> (Self, Arc<LastSeen>) {
        let seen = Arc::new(LastSeen {
            base: Instant::now(),
            millis: AtomicU64::new(0),
            read_any: std::sync::atomic::AtomicBool::new(false),
        });
        (
            Self {
                inner,
                seen: Arc::clone(&seen),
            },
            seen,
        )
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.seen.touch();
            self.seen.read_any.store(true, Ordering::Relaxed);
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.seen.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.seen.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn caps_fit_the_open_file_limit() {
        let cases = [
            // (wanted, nofile, cap)
            (1024, None, 1024),
            (1024, Some(1024), 960),
            (1024, Some(128), 64),
            (1024, Some(100), 50),
            (1024, Some(1), 1),
            (1024, Some(0), 1),
            (10, Some(1_048_576), 10),
            (0, None, 1),
            (5, Some(u64::MAX), 5),
        ];
        for (wanted, nofile, cap) in cases {
            assert_eq!(effective_cap(wanted, nofile), cap, "{wanted} {nofile:?}");
        }
        let limits =
            "Limit                     Soft Limit           Hard Limit           Units     \n\
            Max processes             63402                63402                processes \n\
            Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_file_limit(limits), Some(1024));
        assert_eq!(
            parse_open_file_limit("Max open files            unlimited unlimited files"),
            None
        );
        assert_eq!(parse_open_file_limit(""), None);
    }

    async fn start(limits: Limits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let app = Router::new()
            .route("/", get(|| async { "hi" }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    "late"
                }),
            )
            .route(
                "/peer",
                get(|ConnectInfo(p): ConnectInfo<SocketAddr>| async move { p.ip().to_string() }),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, app, limits, async {
            let _ = rx.await;
        }));
        (addr, tx)
    }

    /// One request on `s`; the whole answer (status line to body).
    async fn ask(s: &mut TcpStream, path: &str) -> String {
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&buf));
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    return text;
                }
            }
        }
    }

    /// Whether the server closes `s` within `within`.
    async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
        let mut b = [0u8; 64];
        matches!(
            tokio::time::timeout(within, s.read(&mut b)).await,
            Ok(Ok(0) | Err(_))
        )
    }

    fn quick() -> Limits {
        Limits {
            max_connections: 8,
            header_read_timeout: Duration::from_millis(500),
            request_timeout: Duration::from_millis(500),
            idle_timeout: Duration::from_secs(30),
        }
    }

    // Regression (issue 15, 2): 50 connections with half-sent headers
    // stayed open 45 s (axum::serve has no header-read timeout).
    #[tokio::test]
    async fn half_sent_headers_are_closed_within_the_timeout() {
        let (addr, _stop) = start(Limits {
            max_connections: 100,
            ..quick()
        })
        .await;
        let t0 = std::time::Instant::now();
        let mut socks = Vec::new();
        for _ in 0..50 {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ")
                .await
                .unwrap();
            socks.push(s);
        }
        for s in &mut socks {
            assert!(closed_within(s, Duration::from_secs(3)).await, "still open");
        }
        assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    }

    // Regression (issue 15, 2): silent sockets past any number were held,
    // each a descriptor, until healthy requests starved.
    #[tokio::test]
    async fn past_the_cap_healthy_connections_still_answer() {
        let (addr, _stop) = start(Limits {
            max_connections: 4,
            ..quick()
        })
        .await;
        let mut healthy = TcpStream::connect(addr).await.unwrap();
        assert!(ask(&mut healthy, "/").await.ends_with("hi"));
        // 30 silent sockets: 3 take the remaining slots, the rest wait in
        // the backlog.
        let mut silent = Vec::new();
        for _ in 0..30 {
            silent.push(TcpStream::connect(addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let t0 = std::time::Instant::now();
        assert!(ask(&mut healthy, "/").await.ends_with("hi"));
        assert!(ask(&mut healthy, "/peer").await.ends_with("127.0.0.1"));
        assert!(
            t0.elapsed() < Duration::from_millis(300),
            "{:?}",
            t0.elapsed()
        );
        // The silent ones are closed by the header timeout, a few at a
        // time, so a new client gets in.
        let mut late = tokio::time::timeout(Duration::from_secs(10), async {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let a = ask(&mut s, "/").await;
            (s, a)
        })
        .await
        .expect("a new client is served once silent ones time out");
        assert!(late.1.ends_with("hi"));
        assert!(ask(&mut late.0, "/").await.ends_with("hi"));
    }

    // Issue 15, 2: a client that stops reading an answer held its
    // connection (and the answer's buffers) for ever.
    #[tokio::test]
    async fn a_client_that_stops_reading_is_dropped_when_idle() {
        const BIG: usize = 32 << 20;
        let app = Router::new().route("/big", get(|| async { vec![b'x'; BIG] }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = Limits {
            idle_timeout: Duration::from_millis(500),
            ..quick()
        };
        tokio::spawn(serve(listener, app, limits, std::future::pending()));
        // A small receive window of its own: Linux grows a loopback one up
        // to tcp_rmem's maximum (32 MB on CI's machine), which held the
        // whole answer, so the server never waited and the test failed.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(64 << 10).unwrap();
        let mut s = socket.connect(addr).await.unwrap();
        s.write_all(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        // Idle: 500 ms asked, raised to the request timeout + 1 s.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut got)).await;
        assert!(read.is_ok(), "the connection is closed, not left open");
        assert!(
            got.len() < BIG,
            "closed before the whole answer ({} bytes)",
            got.len()
        );
    }

    #[tokio::test]
    async fn a_slow_handler_gets_a_json_503() {
        let (addr, _stop) = start(quick()).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        let t0 = std::time::Instant::now();
        let a = ask(&mut s, "/slow").await;
        assert!(a.starts_with("HTTP/1.1 503"), "{a}");
        assert!(a.contains(r#""code":"request_timeout""#), "{a}");
        assert!(t0.elapsed() < Duration::from_secs(5));
        // The connection is still good.
        assert!(ask(&mut s, "/").await.ends_with("hi"));
    }

    #[tokio::test]
    async fn oversized_heads_are_refused() {
        let (addr, _stop) = start(quick()).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        let big = "a".repeat(MAX_HEAD_BYTES + 10);
        s.write_all(format!("GET / HTTP/1.1\r\nHost: t\r\nX-Big: {big}\r\n\r\n").as_bytes())
            .await
            .ok();
        let mut buf = vec![0u8; 256];
        let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
            .await
            .expect("answered")
            .unwrap_or(0);
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(n == 0 || text.starts_with("HTTP/1.1 431"), "{text}");
    }

    #[tokio::test]
    async fn shutdown_waits_for_requests_then_returns() {
        let app = Router::new().route(
            "/",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "done"
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, app, quick(), async {
            let _ = rx.await;
        }));
        let mut s = TcpStream::connect(addr).await.unwrap();
        let req = tokio::spawn(async move { ask(&mut s, "/").await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        tx.send(()).unwrap();
        assert!(req.await.unwrap().ends_with("done"));
        tokio::time::timeout(Duration::from_secs(3), server)
            .await
            .expect("server returns")
            .unwrap()
            .unwrap();
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "no longer listening"
        );
    }
}
