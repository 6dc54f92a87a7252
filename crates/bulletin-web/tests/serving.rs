//! The server's connection limits over real TCP (issue 16): a request head
//! that never ends is closed after the header timeout, a silent connection
//! after the idle timeout, connections over the cap are answered 503 and
//! closed (and the server keeps accepting), and shutdown is graceful.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far longer than any limit a test sets: only a server that never closes a
/// connection runs into it.
const NEVER: Duration = Duration::from_secs(60);

struct Server {
    addr: std::net::SocketAddr,
    store: Arc<dyn bulletin_store::Store>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    running: tokio::task::JoinHandle<Result<(), bulletin_web::WebError>>,
    _dir: tempfile::TempDir,
}

async fn server(limits: bulletin_web::ServeLimits) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = bulletin_store::open(&format!("sqlite://{}/b.db", dir.path().display()))
        .await
        .unwrap();
    let app = bulletin_web::app_with(
        Arc::clone(&store),
        bulletin_web::Theme::load(None).unwrap(),
        bulletin_web::Options::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(bulletin_web::serve_app(listener, app, limits, async {
        let _ = stopped.await;
    }));
    Server {
        addr,
        store,
        stop: Some(stop),
        running,
        _dir: dir,
    }
}

fn limits(header: u64, idle: u64, connections: usize) -> bulletin_web::ServeLimits {
    bulletin_web::ServeLimits {
        header_read_timeout: Duration::from_secs(header),
        idle_timeout: Duration::from_secs(idle),
        max_connections: connections,
        trusted_proxies: Vec::new(),
    }
}

/// Reads until the server closes the connection: what it sent, and whether
/// the close was orderly (a reset counts as closed too).
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut raw = Vec::new();
    let read = tokio::time::timeout(NEVER, stream.read_to_end(&mut raw)).await;
    match read {
        Ok(Ok(_)) => raw,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => raw,
        Ok(Err(e)) => panic!("reading failed: {e}"),
        Err(_) => panic!("the server kept the connection open for {NEVER:?}"),
    }
}

/// One whole request on a connection of its own; the reply.
async fn get(addr: std::net::SocketAddr, path: &str) -> super::Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    super::parse_reply(&until_closed(&mut stream).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_that_never_ends_is_closed_after_the_header_timeout() {
    // Idle far off, so only the header timeout can close it.
    let server = server(limits(1, 3600, 16)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // A request line and nothing more, as a slow client sends it.
    stream.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    let raw = until_closed(&mut stream).await;
    // Closed, with no page: at most an error status.
    let text = String::from_utf8_lossy(&raw);
    assert!(raw.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
    // The server still answers others.
    assert_eq!(get(server.addr, "/robots.txt").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_where_nothing_moves_is_closed_after_the_idle_timeout() {
    // The header timeout far off, so only the idle timeout can close it.
    let server = server(limits(3600, 1, 16)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"GET / HT").await.unwrap();
    let raw = until_closed(&mut stream).await;
    assert!(raw.is_empty(), "{}", String::from_utf8_lossy(&raw));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_answered_503_and_closed() {
    let server = server(limits(3600, 3600, 2)).await;
    // Two connections that hold their places: accepted in the order they
    // were made, they take the two places before the third is accepted.
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    first.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    second.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
    // The third is told to come back, and closed: no hang.
    let shed = get(server.addr, "/robots.txt").await;
    assert_eq!(shed.status, 503, "{}", shed.text());
    assert_eq!(shed.header("retry-after"), Some("1"));
    assert_eq!(shed.header("connection"), Some("close"));
    // So is the next: the server keeps accepting.
    assert_eq!(get(server.addr, "/robots.txt").await.status, 503);
    // One holder leaves: once the server has seen it go, there is room.
    first.shutdown().await.unwrap();
    drop(first);
    loop {
        match get(server.addr, "/robots.txt").await.status {
            503 => tokio::task::yield_now().await,
            status => {
                assert_eq!(status, 200);
                break;
            }
        }
    }
    second.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_served_with_the_peer_address_and_shutdown_is_graceful() {
    let mut server = server(bulletin_web::ServeLimits::default()).await;
    let home = get(server.addr, "/").await;
    assert_eq!(home.status, 200);
    // The sign-in throttle sees the peer's address.
    let page = get(server.addr, "/admin/login").await;
    let cookie = page
        .headers
        .iter()
        .find(|(n, v)| n == "set-cookie" && v.starts_with("bulletin_form="))
        .map(|(_, v)| v.split(';').next().unwrap().to_owned())
        .unwrap();
    let token = cookie.strip_prefix("bulletin_form=").unwrap();
    let body = format!("form_token={token}&email=nobody%40example.org&password=guess");
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /admin/login HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Cookie: {cookie}\r\nSec-Fetch-Site: same-origin\r\n\r\n{body}",
        server.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let reply = super::parse_reply(&until_closed(&mut stream).await);
    assert_eq!(reply.status, 401, "{}", reply.text());
    assert_eq!(
        server
            .store
            .login_failures("address:127.0.0.1", 0)
            .await
            .unwrap(),
        1
    );
    // A keep-alive connection that has been answered, then shutdown: the
    // server stops, and closes the connection.
    let mut kept = TcpStream::connect(server.addr).await.unwrap();
    let head = format!("GET /robots.txt HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    kept.write_all(head.as_bytes()).await.unwrap();
    let mut answered = Vec::new();
    while !String::from_utf8_lossy(&answered).contains("Sitemap") {
        let mut chunk = [0u8; 4096];
        let n = kept.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed before answering");
        answered.extend_from_slice(&chunk[..n]);
    }
    server.stop.take().unwrap().send(()).unwrap();
    tokio::time::timeout(NEVER, &mut server.running)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
    until_closed(&mut kept).await;
}
