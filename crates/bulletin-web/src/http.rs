//! HTTP done once for every page: address screening, validators and 304s from the
//! store's change sequence, the rendered-page cache, compression, caching and
//! security headers; the access log and metrics are `observe.rs`'s.
//!
//! Why the cache can never be stale: every request reads the change sequence
//! *after* it arrived (see [`SeqGate`]), and an entry is served only when it was
//! rendered under that same sequence. An import bumps the sequence, so the very
//! next request misses and renders afresh.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Longest path served; longer ones get 414 (WordPress permalinks stay far below).
const MAX_PATH: usize = 1024;
/// Longest query string served (search queries included).
const MAX_QUERY: usize = 1024;
/// Largest page the cache keeps; bigger ones (a sitemap of 36,000 stories, the
/// issue index of a long archive) are streamed as the handler made them, neither
/// kept nor compressed. [`crate::Options::max_cached_page`] says, by default this.
pub const MAX_CACHED_PAGE: usize = 4 << 20;
/// Total bytes the cache holds before it starts over.
const CACHE_BUDGET: usize = 64 << 20;
/// Bodies shorter than this are sent uncompressed: the headers would eat the gain.
const MIN_COMPRESS: usize = 1024;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

mod head;

pub use head::SeqGate;
use head::{HeadUnavailable, REQUEST_HEAD};

/// One rendered page, kept with the sequence it was rendered under and its
/// compressed forms, made on first demand.
struct CachedPage {
    seq: i64,
    content_type: HeaderValue,
    /// The handler's own headers (such as `Access-Control-Allow-Origin`), less
    /// those this layer sets and any cookie: a shared copy must carry no cookie.
    headers: HeaderMap,
    body: Bytes,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
}

impl CachedPage {
    fn encoded(&self, encoding: Encoding) -> Bytes {
        match encoding {
            Encoding::Identity => self.body.clone(),
            Encoding::Gzip => self.gzip.get_or_init(|| gzip(&self.body)).clone(),
            Encoding::Brotli => self.brotli.get_or_init(|| brotli(&self.body)).clone(),
        }
    }
}

/// Rendered pages by path and query, all of one sequence.
#[derive(Default)]
pub struct PageCache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    seq: i64,
    bytes: usize,
    pages: HashMap<String, Arc<CachedPage>>,
}

impl PageCache {
    fn get(&self, key: &str, seq: i64) -> Option<Arc<CachedPage>> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.seq != seq {
            // Everything kept belongs to an older archive: drop it now.
            inner.pages.clear();
            inner.bytes = 0;
            inner.seq = seq;
            return None;
        }
        inner.pages.get(key).cloned()
    }

    /// The page kept for `key`, whatever sequence it was rendered under.
    fn get_stale(&self, key: &str) -> Option<Arc<CachedPage>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.pages.get(key).cloned()
    }

    fn put(&self, key: String, page: Arc<CachedPage>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.seq != page.seq {
            return;
        }
        // Compressed forms roughly add a third; count them up front.
        let size = page.body.len() + page.body.len() / 3 + key.len();
        if inner.bytes + size > CACHE_BUDGET {
            inner.pages.clear();
            inner.bytes = 0;
        }
        inner.bytes += size;
        inner.pages.insert(key, page);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    fn header(self) -> Option<HeaderValue> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some(HeaderValue::from_static("gzip")),
            Encoding::Brotli => Some(HeaderValue::from_static("br")),
        }
    }
}

/// The best encoding the client accepts: brotli, then gzip, else none.
fn negotiate(headers: &HeaderMap) -> Encoding {
    let mut best = Encoding::Identity;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            if name.eq_ignore_ascii_case("br") {
                best = Encoding::Brotli;
            } else if name.eq_ignore_ascii_case("gzip") && best == Encoding::Identity {
                best = Encoding::Gzip;
            }
        }
    }
    best
}

fn gzip(body: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 3),
        flate2::Compression::new(6),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    Bytes::from(encoder.finish().unwrap_or_default())
}

fn brotli(body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 3);
    let params = brotli::enc::BrotliEncoderParams {
        quality: 6,
        lgwin: 22,
        ..Default::default()
    };
    let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
    Bytes::from(out)
}

/// How long clients and proxies may keep a response, by what it is.
fn cache_control(content_type: &[u8]) -> HeaderValue {
    if content_type.starts_with(b"text/css") {
        HeaderValue::from_static("public, max-age=86400")
    } else if content_type.starts_with(b"application/rss+xml")
        || content_type.starts_with(b"application/atom+xml")
        || content_type.starts_with(b"application/xml")
        || content_type.starts_with(b"text/plain")
    {
        HeaderValue::from_static("public, max-age=300")
    } else {
        // Pages revalidate every time; a 304 costs one indexed lookup.
        HeaderValue::from_static("public, no-cache")
    }
}

/// The HTTP date of `at`, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
fn http_date(at: jiff::Timestamp) -> String {
    at.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn parse_http_date(text: &str) -> Option<jiff::Timestamp> {
    jiff::fmt::strtime::parse("%a, %d %b %Y %H:%M:%S GMT", text)
        .ok()?
        .to_datetime()
        .ok()?
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// Why a path is refused before routing: `..`, `.`, NUL, encoded slashes or
/// backslashes, and escapes that are not UTF-8 all mean "no such page".
fn is_malformed(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b'/' | b'\\' | 0) | None => return true,
                Some(b) => decoded.push(b),
            }
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    let Ok(decoded) = String::from_utf8(decoded) else {
        return true;
    };
    decoded.contains('\0')
        || decoded.contains('\\')
        || decoded.split('/').any(|s| s == ".." || s == ".")
}

/// Every request passes here: screening, validators, cache, then headers and log.
pub async fn site_layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_owned());
    // Probes answer for the process and the store as they are now: never
    // cached, validated or redirected.
    let probe = crate::observe::is_probe(&path);
    // Old addresses (imports' redirects) are looked up only where the site has
    // nothing: a 404, or WordPress's `/?p=ID`, which the home page would answer.
    let redirectable = (method == Method::GET || method == Method::HEAD)
        && !path.starts_with("/admin")
        && !path.starts_with("/api/");
    // Copied only for the home page with a `p=` in its query: no cost elsewhere.
    let plain_link = if redirectable && path == "/" {
        request
            .uri()
            .query()
            .filter(|q| q.contains("p="))
            .map(str::to_owned)
    } else {
        None
    };
    let moved = match plain_link {
        Some(query) => old_address(&state, &path, Some(&query)).await,
        None => None,
    };
    let (mut response, cache) = match moved {
        Some(moved) => (moved, "301"),
        None if probe => (next.run(request).await, "-"),
        None => handle(&state, request, next).await,
    };
    if redirectable
        && response.status() == StatusCode::NOT_FOUND
        && let Some(moved) = old_address(&state, &path, None).await
    {
        response = moved;
    }
    let headers = response.headers_mut();
    // A page with a policy of its own (the newsletter preview) keeps it.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let bytes = axum::body::HttpBody::size_hint(response.body())
        .exact()
        .unwrap_or(0);
    crate::observe::record(
        &state,
        &crate::observe::Answered {
            method: &method,
            route: route.as_deref(),
            path: &path,
            status: response.status(),
            bytes,
            started,
            cache,
        },
    );
    response
}

/// The site's 503 while the store cannot be reached.
fn unavailable_page() -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        "The archive is unavailable for a moment; please try again.",
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(crate::error::RETRY_AFTER_SECONDS),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The 301 for an old address, if the store has one.
async fn old_address(state: &AppState, path: &str, query: Option<&str>) -> Option<Response> {
    let decoded = crate::redirects::decode_path(path)?;
    match crate::redirects::find(&*state.store, &decoded, query).await {
        Ok(found) => found.map(|to| crate::redirects::moved(&to)),
        Err(e) => {
            tracing::error!(error = %e, "cannot look up redirects");
            None
        }
    }
}

async fn handle(state: &AppState, request: Request, next: Next) -> (Response, &'static str) {
    let uri = request.uri();
    if uri.path().len() > MAX_PATH || uri.query().map_or(0, str::len) > MAX_QUERY {
        return (
            (StatusCode::URI_TOO_LONG, "The address is too long.").into_response(),
            "-",
        );
    }
    if is_malformed(uri.path()) {
        return (crate::pages::not_found_page(state, uri.path()).await, "-");
    }
    // A reader's own pages, and every page for a signed-in reader, are made
    // for that reader: handled inside `VIEWER`, never cached or validated.
    let personal = is_personal(uri.path());
    if personal || crate::access::has_cookie(request.headers()) {
        let viewer =
            match crate::access::lookup(&*state.store, request.headers(), state.now()).await {
                Ok(viewer) => viewer.map(Arc::new),
                Err(e) => {
                    tracing::error!(error = %e, "cannot read a reader session");
                    return (unavailable_page(), "-");
                }
            };
        if personal || viewer.is_some() {
            let mut response = crate::access::VIEWER.scope(viewer, next.run(request)).await;
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            return (response, "private");
        }
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return (next.run(request).await, "-");
    }
    // Admin pages depend on who asks and on drafts, which the change sequence
    // does not follow: never cached or validated.
    if uri.path() == "/admin"
        || uri.path().starts_with("/admin/")
        || uri.path().starts_with("/api/v1/admin/")
    {
        let mut response = next.run(request).await;
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return (response, "-");
    }
    let head = match state.seq.head(&*state.store).await {
        Ok(head) => head,
        // The store cannot say whether a kept page is current: serve it
        // anyway (stale-if-error), since the archive rarely changes; a page
        // not kept gets a 503 with Retry-After.
        Err(HeadUnavailable) => {
            let key = uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
            return match state.cache.get_stale(&key) {
                Some(page) => {
                    let etag = format!("W/\"{:x}-{:x}\"", page.seq, state.theme.id());
                    let encoding = negotiate(request.headers());
                    (page_response(&page, encoding, &etag, None), "stale")
                }
                None => (unavailable_page(), "-"),
            };
        }
    };
    // Pages that use the search index (search results, related stories) may be
    // older than the store until the index catches up (well under a second), so
    // until then nothing is cached or validated.
    if let Some(search) = &state.options.search
        && search.applied_seq() < head.seq
    {
        let mut response = REQUEST_HEAD.scope(head, next.run(request)).await;
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return (response, "lag");
    }
    let etag = format!("W/\"{:x}-{:x}\"", head.seq, state.theme.id());
    let last_modified = head.at.map(http_date);
    let key = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let encoding = negotiate(request.headers());

    // RFC 9110 §13.2.1: preconditions are evaluated only for an answer that
    // would be 2xx, so a missing page or an error is never a 304. A page in the
    // cache is such an answer; any other is rendered first.
    let preconditions = Preconditions::of(request.headers());
    if let Some(page) = state.cache.get(&key, head.seq) {
        if preconditions.not_modified(&etag, head.at) {
            return (
                not_modified_response(&page, &etag, last_modified.as_deref()),
                "304",
            );
        }
        return (
            page_response(&page, encoding, &etag, last_modified.as_deref()),
            "hit",
        );
    }

    let response = REQUEST_HEAD.scope(head, next.run(request)).await;
    let cacheable = response.status() == StatusCode::OK
        && response.headers().get(header::CONTENT_ENCODING).is_none();
    let Some(content_type) = response
        .headers()
        .get(header::CONTENT_TYPE)
        .filter(|_| cacheable)
        .cloned()
    else {
        return (response, "-");
    };
    let (parts, body) = response.into_parts();
    let mut headers = parts.headers;
    for set_here in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::SET_COOKIE,
        header::CACHE_CONTROL,
        header::ETAG,
        header::LAST_MODIFIED,
        header::VARY,
    ] {
        headers.remove(set_here);
    }
    let body = match read_up_to(body, state.options.max_cached_page).await {
        Ok(Read::Whole(body)) => body,
        Ok(Read::TooLarge(body)) => {
            // Validators still hold (they name the archive's version), so a 304
            // is as right as for a kept page.
            let (mut response, label) = if preconditions.not_modified(&etag, head.at) {
                (StatusCode::NOT_MODIFIED.into_response(), "304")
            } else {
                let mut response = Response::new(body);
                *response.headers_mut() = headers;
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, content_type.clone());
                (response, "large")
            };
            set_validators(
                response.headers_mut(),
                &etag,
                last_modified.as_deref(),
                Some(&content_type),
            );
            return (response, label);
        }
        Err(e) => {
            tracing::error!(path = %uri_path(&key), error = %e, "cannot read a page's body");
            return (StatusCode::INTERNAL_SERVER_ERROR.into_response(), "-");
        }
    };
    let page = Arc::new(CachedPage {
        seq: head.seq,
        content_type,
        headers,
        body,
        gzip: OnceLock::new(),
        brotli: OnceLock::new(),
    });
    let answer = if preconditions.not_modified(&etag, head.at) {
        (
            not_modified_response(&page, &etag, last_modified.as_deref()),
            "304",
        )
    } else {
        (
            page_response(&page, encoding, &etag, last_modified.as_deref()),
            "miss",
        )
    };
    state.cache.put(key, page);
    answer
}

/// A handler's body, read whole when it fits the cache.
enum Read {
    Whole(Bytes),
    /// Longer than the limit: what was read, then the rest, as one body to stream.
    TooLarge(Body),
}

/// Reads `body` whole if it has at most `limit` bytes; past that, stops reading
/// and gives back a body that yields everything, so a page of any size is
/// served whole and memory holds at most `limit` bytes of it here.
async fn read_up_to(body: Body, limit: usize) -> Result<Read, axum::Error> {
    use futures_util::StreamExt as _;
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    if axum::body::HttpBody::size_hint(&body).lower() > limit_u64 {
        return Ok(Read::TooLarge(body));
    }
    let mut stream = body.into_data_stream();
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut len = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        len = len.saturating_add(chunk.len());
        chunks.push(chunk);
        if len > limit {
            let read = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, axum::Error>));
            return Ok(Read::TooLarge(Body::from_stream(read.chain(stream))));
        }
    }
    Ok(Read::Whole(match chunks.len() {
        1 => chunks.swap_remove(0),
        _ => Bytes::from(chunks.concat()),
    }))
}

/// Pages that belong to one reader (forms with their own tokens, the account,
/// signed links, the private feed).
fn is_personal(path: &str) -> bool {
    ["/subscribe", "/account", "/unsubscribe/", "/feed/private/"]
        .iter()
        .any(|p| path.starts_with(p))
}

fn uri_path(key: &str) -> &str {
    key.split('?').next().unwrap_or(key)
}

/// A request's validators, kept while the request itself goes to the handler.
struct Preconditions {
    if_none_match: Option<HeaderValue>,
    if_modified_since: Option<HeaderValue>,
}

impl Preconditions {
    fn of(headers: &HeaderMap) -> Preconditions {
        Preconditions {
            if_none_match: headers.get(header::IF_NONE_MATCH).cloned(),
            if_modified_since: headers.get(header::IF_MODIFIED_SINCE).cloned(),
        }
    }

    /// RFC 9110: If-None-Match wins; If-Modified-Since only without it. Asked
    /// only of a page that exists (a 200), so `*` matches.
    fn not_modified(&self, etag: &str, at: Option<jiff::Timestamp>) -> bool {
        if let Some(value) = &self.if_none_match {
            let Ok(value) = value.to_str() else {
                return false;
            };
            let bare = etag.trim_start_matches("W/");
            return value.split(',').any(|candidate| {
                let candidate = candidate.trim();
                candidate == "*" || candidate.trim_start_matches("W/") == bare
            });
        }
        let (Some(since), Some(at)) = (
            self.if_modified_since
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .and_then(parse_http_date),
            at,
        ) else {
            return false;
        };
        // HTTP dates have whole seconds.
        at.as_second() <= since.as_second()
    }
}

/// A 304 for `page`: its validators, and no body.
fn not_modified_response(page: &CachedPage, etag: &str, last_modified: Option<&str>) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    set_validators(
        response.headers_mut(),
        etag,
        last_modified,
        Some(&page.content_type),
    );
    response
}

fn set_validators(
    headers: &mut HeaderMap,
    etag: &str,
    last_modified: Option<&str>,
    content_type: Option<&HeaderValue>,
) {
    if let Ok(v) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, v);
    }
    if let Some(v) = last_modified.and_then(|lm| HeaderValue::from_str(lm).ok()) {
        headers.insert(header::LAST_MODIFIED, v);
    }
    let cc = cache_control(content_type.map_or(b"text/html".as_slice(), |c| c.as_bytes()));
    headers.insert(header::CACHE_CONTROL, cc);
    // The same address gives a signed-in reader their own private copy: a shared
    // cache in front must key on the cookie too (or pass such requests through).
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Accept-Encoding, Cookie"),
    );
}

fn page_response(
    page: &CachedPage,
    encoding: Encoding,
    etag: &str,
    last_modified: Option<&str>,
) -> Response {
    let encoding = if page.body.len() < MIN_COMPRESS {
        Encoding::Identity
    } else {
        encoding
    };
    let mut response = Response::new(Body::from(page.encoded(encoding)));
    let headers = response.headers_mut();
    headers.clone_from(&page.headers);
    headers.insert(header::CONTENT_TYPE, page.content_type.clone());
    if let Some(v) = encoding.header() {
        headers.insert(header::CONTENT_ENCODING, v);
    }
    set_validators(headers, etag, last_modified, Some(&page.content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_paths() {
        for bad in [
            "/tag/../etc/",
            "/./",
            "/tag/a%2Fb/",
            "/tag/a%2fb/",
            "/tag/a%00/",
            "/tag/%5C/",
            "/tag/%ff/",
            "/tag/%zz/",
            "/tag/%2",
            "/tag/%2E%2E/x/",
        ] {
            assert!(is_malformed(bad), "{bad}");
        }
        for good in [
            "/",
            "/tag/political-rights/",
            "/2021/07/18/a-b/",
            "/tag/caf%C3%A9/",
        ] {
            assert!(!is_malformed(good), "{good}");
        }
    }

    #[test]
    fn encodings_are_negotiated() {
        let mut h = HeaderMap::new();
        assert_eq!(negotiate(&h), Encoding::Identity);
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate"),
        );
        assert_eq!(negotiate(&h), Encoding::Gzip);
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        assert_eq!(negotiate(&h), Encoding::Brotli);
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br;q=0, gzip;q=0.5"),
        );
        assert_eq!(negotiate(&h), Encoding::Gzip);
    }

    #[test]
    fn http_dates_round_trip() {
        let at: jiff::Timestamp = "2021-07-22T10:11:12Z".parse().unwrap();
        let text = http_date(at);
        assert_eq!(text, "Thu, 22 Jul 2021 10:11:12 GMT");
        assert_eq!(parse_http_date(&text), Some(at));
    }

    #[test]
    fn compressed_forms_decompress_to_the_page() {
        use std::io::Read;
        let body = "<p>Tag Archives</p>".repeat(200);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gzip(body.as_bytes())[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &brotli(body.as_bytes())[..], &mut out).unwrap();
        assert_eq!(out, body.as_bytes());
    }
}
