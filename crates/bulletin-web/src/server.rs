//! Serving the app over TCP with limits on connections (issue 16): a client
//! cannot hold the server by opening connections and sending nothing, or
//! sending a request head a byte at a time, or never reading the answer.
//!
//! - **Header timeout** ([`ServeLimits::header_read_timeout`], hyper's): a
//!   request head must be complete within this time of the server starting to
//!   wait for it (the connection opening, or the previous answer ending), or
//!   the connection is closed. So it also closes keep-alive connections that
//!   send nothing more.
//! - **Idle timeout** ([`ServeLimits::idle_timeout`]): a connection on which
//!   no byte moved either way for this long is closed: a client that stopped
//!   reading its answer, or stalled mid-body. It is longer than the handlers'
//!   own timeout, so a slow page is never cut.
//! - **Connection cap** ([`ServeLimits::max_connections`]): past it, a new
//!   connection is answered `503` with `Retry-After` and closed at once
//!   (load shedding), so clients learn to come back instead of hanging, and
//!   the process keeps file descriptors for its database and index.
//! - **Accept errors** (out of file descriptors, `EMFILE`): the accept loop
//!   backs off (10 ms, doubling to 1 s) instead of spinning, and carries on.
//!
//! Shutdown is graceful: accepting stops, connections finish the request in
//! flight, and idle ones close.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::IpAddr;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use tokio::sync::Semaphore;
use tokio::time::Instant;
use tower::ServiceExt as _;

use crate::WebError;

/// How long and how many connections the server keeps; `bulletin serve`'s
/// `--header-timeout`, `--idle-timeout` and `--max-connections`.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// Time to receive a whole request head, from when the server waits for
    /// it.
    pub header_read_timeout: Duration,
    /// A connection on which nothing moves for this long is closed.
    pub idle_timeout: Duration,
    /// Connections open at once; past it new ones get a 503 and are closed.
    pub max_connections: usize,
    /// Peers (a load balancer, nginx) whose `X-Forwarded-For` names the
    /// client: the throttles then count the client, not the proxy.
    pub trusted_proxies: Vec<IpAddr>,
}

/// The address a request came from: the peer, or, behind a trusted proxy,
/// the last address in `X-Forwarded-For` that is not a trusted proxy's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// [`ClientAddr`] of a request from `peer` with `headers`.
pub fn client_addr(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut client = peer;
    // Proxies append: read from the right, past every trusted hop.
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => client = ip,
            Ok(ip) => return ip,
            // Garbage from further out: stop at what the trusted hops vouch for.
            Err(_) => return client,
        }
    }
    client
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            // Well under the usual 1,024 file descriptors, leaving room for
            // the database, the search index and SMTP.
            max_connections: 512,
            trusted_proxies: Vec::new(),
        }
    }
}

/// What a connection over the cap is told before it is closed.
const SHED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
    Retry-After: 1\r\n\
    Content-Type: text/plain; charset=utf-8\r\n\
    Content-Length: 46\r\n\
    Connection: close\r\n\r\n\
    The server is busy. Please try again shortly.\n";
/// Shed connections being closed at once; more are simply dropped.
const SHEDDING: usize = 64;
/// How long a shed connection's request is read (and discarded) after the
/// 503, so that closing it does not reset the answer away.
const SHED_LINGER: Duration = Duration::from_secs(1);
const BACKOFF_FIRST: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` under `limits` until `shutdown` completes, then
/// lets open connections finish. Handlers see the peer as
/// `ConnectInfo<SocketAddr>`.
pub async fn serve_app(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), WebError> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let shedding = Arc::new(Semaphore::new(SHEDDING));
    let mut backoff = BACKOFF_FIRST;
    let trusted: Arc<[IpAddr]> = limits.trusted_proxies.clone().into();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                backoff = BACKOFF_FIRST;
                accepted
            }
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of descriptors or memory: waiting frees some (closed
                // connections); spinning would not.
                tracing::error!(error = %e, retry_in = ?backoff, "cannot accept a connection");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            if let Ok(slot) = Arc::clone(&shedding).try_acquire_owned() {
                tokio::spawn(async move {
                    shed(stream).await;
                    drop(slot);
                });
            }
            continue;
        };
        let (io, activity) = Watched::new(stream);
        let router = app.clone();
        let trusted = Arc::clone(&trusted);
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            let client = client_addr(peer.ip(), request.headers(), &trusted);
            request.extensions_mut().insert(ConnectInfo(peer));
            request.extensions_mut().insert(ClientAddr(client));
            router.clone().oneshot(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(io), service));
        let idle = limits.idle_timeout;
        tokio::spawn(async move {
            tokio::select! {
                result = connection => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                // Dropping the connection closes it.
                () = activity.idle_for(idle) => {
                    tracing::debug!(%peer, "idle connection closed");
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Errors about one connection that was already gone; the next accept is
/// fine.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}

/// Answers 503 and closes, reading what the client sent meanwhile for a
/// moment so that the close does not reset the connection before the client
/// has read the answer.
async fn shed(mut stream: TcpStream) {
    if stream.write_all(SHED).await.is_err() || stream.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(SHED_LINGER, async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// A stream that notes when a byte last moved, for the idle timeout.
struct Watched {
    stream: TcpStream,
    activity: Activity,
}

/// When a [`Watched`] stream last moved a byte: milliseconds since `start`.
#[derive(Clone)]
struct Activity {
    start: Instant,
    last: Arc<AtomicU64>,
}

impl Watched {
    fn new(stream: TcpStream) -> (Watched, Activity) {
        let activity = Activity {
            start: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        };
        (
            Watched {
                stream,
                activity: activity.clone(),
            },
            activity,
        )
    }
}

impl Activity {
    fn touch(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last.load(Ordering::Relaxed))
    }

    /// Completes once nothing has moved for `idle`.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let deadline = self.last() + idle;
            tokio::time::sleep_until(deadline).await;
            if self.last() + idle <= Instant::now() {
                return;
            }
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_is_read_through_trusted_proxies_only() {
        let proxy = ip("10.0.0.2");
        let trusted = [proxy, ip("10.0.0.3")];
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "1.1.1.1, 203.0.113.9, 10.0.0.3".parse().unwrap(),
        );
        // A stranger's header is ignored: the peer is the client.
        assert_eq!(
            client_addr(ip("198.51.100.7"), &headers, &trusted),
            ip("198.51.100.7")
        );
        // Through trusted hops, the first untrusted address from the right;
        // what the client itself claimed further left does not count.
        assert_eq!(client_addr(proxy, &headers, &trusted), ip("203.0.113.9"));
        // No header: the proxy itself.
        assert_eq!(
            client_addr(proxy, &axum::http::HeaderMap::new(), &trusted),
            proxy
        );
        headers.insert("x-forwarded-for", "not-an-address".parse().unwrap());
        assert_eq!(client_addr(proxy, &headers, &trusted), proxy);
    }
}
