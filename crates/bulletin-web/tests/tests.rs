//! The site over real HTTP: a server on a free loopback port, requests over TCP.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::sync::Arc;

use bulletin_store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod admin;
mod browser;
mod feeds;
mod fuzz_corpus;
mod http;
mod leaks;
mod queries;
mod races;
mod readers;
mod search;
mod serving;
mod snapshots;
mod support;
mod sweep;
mod validate;

// Counts allocations, so that complexity tests measure work without a clock.
#[global_allocator]
static ALLOCATOR: bulletin_test_support::work::Counting = bulletin_test_support::work::Counting;

/// The corpus under the sibling `shared/`; absent → a failure saying how to
/// provide it (a counted skip only with `BULLETIN_ALLOW_SKIP=1`).
fn corpus() -> Option<String> {
    let path = bulletin_test_support::shared("corpus/tag-archive-political-rights.txt")?;
    Some(std::fs::read_to_string(&path).unwrap())
}

/// A clock the test moves: the system time plus an offset, for expiry tests
/// that must not wait.
#[derive(Debug, Default)]
struct MovableClock(std::sync::atomic::AtomicI64);

impl MovableClock {
    fn advance(&self, seconds: i64) {
        self.0
            .fetch_add(seconds, std::sync::atomic::Ordering::SeqCst);
    }
}

impl bulletin_web::clock::Clock for MovableClock {
    fn now(&self) -> jiff::Timestamp {
        let offset = self.0.load(std::sync::atomic::Ordering::SeqCst);
        jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_secs(offset))
            .unwrap()
    }
}

struct Site {
    addr: std::net::SocketAddr,
    store: Arc<dyn Store>,
    /// For sites made by [`searchable_site`].
    search: Option<bulletin_search::SearchIndex>,
    _dir: tempfile::TempDir,
}

impl Site {
    /// Brings the search index up to date with the store.
    async fn index(&self) {
        if let Some(index) = &self.search {
            index.catch_up(self.store.as_ref()).await.unwrap();
        }
    }
}

async fn site(theme: Option<&std::path::Path>) -> Site {
    site_with(theme, bulletin_web::Options::default()).await
}

/// A site whose search index lives beside its store; call [`Site::index`] after
/// an import (or run a follower).
async fn searchable_site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let index = bulletin_search::SearchIndex::open(&dir.path().join("search")).unwrap();
    let mut site = site_in(
        dir,
        None,
        bulletin_web::Options {
            search: Some(index.clone()),
            ..Default::default()
        },
    )
    .await;
    site.search = Some(index);
    site
}

async fn site_with(theme: Option<&std::path::Path>, options: bulletin_web::Options) -> Site {
    site_in(tempfile::tempdir().unwrap(), theme, options).await
}

async fn site_in(
    dir: tempfile::TempDir,
    theme: Option<&std::path::Path>,
    options: bulletin_web::Options,
) -> Site {
    let store = bulletin_store::open(&format!("sqlite://{}/b.db", dir.path().display()))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = bulletin_web::app_with(
        Arc::clone(&store),
        bulletin_web::Theme::load(theme).unwrap(),
        options,
    );
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    Site {
        addr,
        store,
        search: None,
        _dir: dir,
    }
}

/// A generated archive of `stories` stories as bulletin text.
fn generated(stories: u64, seed: u64) -> String {
    let mut out = Vec::new();
    bulletin_text::synth::generate(
        &bulletin_text::synth::GenOptions {
            stories,
            seed,
            ..Default::default()
        },
        &mut out,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

async fn import(store: &dyn Store, text: &str) {
    let doc = bulletin_text::read_str(text).unwrap();
    let mut tx = store.begin_import().await.unwrap();
    tx.put_stories(doc.stories).await.unwrap();
    tx.commit().await.unwrap();
}

/// One HTTP/1.1 exchange over a plain TCP connection.
struct Reply {
    status: u16,
    /// Lowercase names.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

/// Sends `method target` with `headers` ("Name: value" lines) and reads the
/// whole reply (the server closes: `Connection: close`).
async fn request(site: &Site, method: &str, target: &str, headers: &[&str]) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(site.addr).await.unwrap();
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        site.addr
    );
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    parse_reply(&raw)
}

/// A whole HTTP/1.1 reply, as read from a closed connection.
fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = head.to_lowercase().contains("transfer-encoding: chunked");
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..end]).unwrap().trim(), 16).unwrap();
        raw = &raw[end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// GET: (status, head, body).
async fn get(site: &Site, path: &str) -> (u16, String, String) {
    let reply = request(site, "GET", path, &[]).await;
    let head = reply
        .headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect::<Vec<_>>()
        .join("\r\n");
    (
        reply.status,
        head,
        String::from_utf8_lossy(&reply.body).into_owned(),
    )
}

#[tokio::test]
async fn an_empty_archive_says_how_to_start() {
    let site = site(None).await;
    let (status, head, body) = get(&site, "/").await;
    assert_eq!(status, 200);
    assert!(
        head.to_lowercase()
            .contains("content-type: text/html; charset=utf-8")
    );
    assert!(body.contains("bulletin import"), "{body}");
}

#[tokio::test]
async fn the_corpus_tag_archive_page() {
    let Some(text) = corpus() else { return };
    let site = site(None).await;
    import(site.store.as_ref(), &text).await;
    let (status, _, body) = get(&site, "/tag/political-rights/").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("<h1>Tag Archives: political rights</h1>"),
        "{body}"
    );
    assert!(body.contains("10 stories"));
    for story in bulletin_text::read_str(&text).unwrap().stories {
        // minijinja escapes "/" too (OWASP's advice); browsers decode it in href.
        let href = story.url().replace('/', "&#x2f;");
        assert!(body.contains(&format!("href=\"{href}\"")), "{href}");
    }
    // Datelines in capitals with credit, footers from data, escaped.
    assert!(
        body.contains(
            "BAKU&#x2f;ALMATY&#x2f;JULY 18 2021 (The Bulletin)</span> — Officials in Kazakhstan"
        ),
        "{body}"
    );
    assert!(body.contains("This story was published in issue 493 of the Central Asia &amp; South Caucasus Bulletin, on July 22 2021"));
    assert!(body.contains("This story was first published in issue 471 of the Central Asia &amp; South Caucasus Bulletin</p>"));
    assert!(body.contains("Copyright the Central Asia &amp; South Caucasus Bulletin 2020"));
    // Newest first.
    let tajik = body.find("tajik-opposition-in-exile-disappear").unwrap();
    let pegasus = body.find("pegasus-spyware-targets").unwrap();
    assert!(tajik < pegasus);
    // One page only.
    assert_eq!(get(&site, "/tag/political-rights/page/2/").await.0, 404);
    assert_eq!(get(&site, "/tag/political-rights/page/x/").await.0, 404);
    assert_eq!(get(&site, "/tag/no-such-tag/").await.0, 404);
    let (status, _, tags) = get(&site, "/tag/").await;
    assert_eq!(status, 200);
    assert!(tags.contains("political rights</a> (10)"), "{tags}");
}

#[tokio::test]
async fn story_issue_and_missing_pages() {
    let Some(text) = corpus() else { return };
    let site = site(None).await;
    import(site.store.as_ref(), &text).await;
    let url = "/2021/07/18/pegasus-spyware-targets-azerbaijani-and-kazakh-opposition/";
    let (status, _, body) = get(&site, url).await;
    assert_eq!(status, 200);
    assert!(body.contains("<h1>Pegasus spyware targets Azerbaijani and Kazakh opposition</h1>"));
    assert!(body.contains("href=\"/issue/493/\""));
    // The date in the address must match.
    assert_eq!(
        get(
            &site,
            "/2021/07/19/pegasus-spyware-targets-azerbaijani-and-kazakh-opposition/"
        )
        .await
        .0,
        404
    );
    let (status, _, issue) = get(&site, "/issue/474/").await;
    assert_eq!(status, 200);
    let order: Vec<usize> = [
        "tajik-court-imprisons-son",
        "police-in-almaty-detain",
        "uzbek-police-detain",
    ]
    .iter()
    .map(|s| issue.find(s).unwrap())
    .collect();
    assert!(order[0] < order[1] && order[1] < order[2], "issue order");
    let (status, _, index) = get(&site, "/issue/").await;
    assert_eq!(status, 200);
    assert!(index.contains("Issue 471</a> · 1 story"), "{index}");
    assert!(index.contains("<h2>2024</h2>"));
    let (status, _, home) = get(&site, "/").await;
    assert_eq!(status, 200);
    assert!(home.contains("Issue 565 · April 23 2024"), "{home}");
    let (status, _, missing) = get(&site, "/no/such/page").await;
    assert_eq!(status, 404);
    assert!(missing.contains("action=\"/search\""));
    assert!(missing.contains("no&#x2f;such&#x2f;page"), "{missing}");
    assert_eq!(get(&site, "/issue/99999/").await.0, 404);
    assert_eq!(get(&site, "/issue/abc/").await.0, 404);
}

#[tokio::test]
async fn everything_is_escaped() {
    let site = site(None).await;
    let text = "<script>alert(1)</script> & “quotes”\n\n\
        TBILISI/MAY 3 2022 (The Bulletin) \u{2014} <img src=x onerror=alert(2)> said.\n\nENDS\n\n\
        \u{2014} This story was published in issue 520 of the Example Bulletin, on May 5 2022\n\n\
        \u{2014} Copyright the Example Bulletin 2022\n";
    import(site.store.as_ref(), text).await;
    let (_, _, body) = get(&site, "/issue/520/").await;
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(!body.contains("<img"), "{body}");
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{body}"
    );
    let (_, _, missing) = get(&site, "/%3Cscript%3E").await;
    assert!(!missing.contains("<script>"), "{missing}");
}

#[tokio::test]
async fn a_theme_folder_overrides_templates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("start.html"),
        "{% extends \"base.html\" %}{% block content %}<p>Custom start for {{ publication.name }}</p>{% endblock %}",
    )
    .unwrap();
    let site = site(Some(dir.path())).await;
    let (_, _, body) = get(&site, "/").await;
    assert!(
        body.contains("Custom start for Central Asia &amp; South Caucasus Bulletin"),
        "{body}"
    );
    // A broken template stops start-up with the file and line.
    std::fs::write(
        dir.path().join("story.html"),
        "{% extends \"base.html\" %}\n{% block content %}\n{{ story.headline \n{% endblock %}",
    )
    .unwrap();
    let err = bulletin_web::Theme::load(Some(dir.path())).err().unwrap();
    let shown = format!("{err}");
    assert!(shown.contains("story.html:4"), "{shown}");
}
