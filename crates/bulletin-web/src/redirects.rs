//! Old addresses answered with a 301 (WordPress permalinks, `/?p=ID`, category
//! and tag archives, Hugo and Zola aliases), from the store's redirects.
//!
//! Asked only for a GET or HEAD that would otherwise be a 404 (and for `/?p=ID`,
//! which the home page would otherwise answer), so a live page never pays for it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bulletin_store::{Store, StoreError};

/// How long browsers and proxies may remember a redirect: a day, so that a
/// corrected import is seen soon (a bare 301 may be kept for ever).
const REDIRECT_MAX_AGE: &str = "public, max-age=86400";

/// Trailing parts of an archive address that follow it to its new home.
fn split_suffix(path: &str) -> Option<(&str, &str)> {
    for suffix in ["feed/atom/", "feed/rss2/", "feed/rss/", "feed/"] {
        if let Some(base) = path.strip_suffix(suffix)
            && base.ends_with('/')
        {
            return Some((base, suffix));
        }
    }
    // `/page/N/`
    let trimmed = path.strip_suffix('/')?;
    let (rest, n) = trimmed.rsplit_once('/')?;
    let base = rest.strip_suffix("page")?;
    if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && base.ends_with('/') {
        return Some((base, &path[base.len()..]));
    }
    None
}

/// Where the (percent-decoded) `path` and raw `query` now live, if anywhere.
pub async fn find(
    store: &dyn Store,
    path: &str,
    query: Option<&str>,
) -> Result<Option<String>, StoreError> {
    if path == "/" {
        // WordPress's plain links: `/?p=123` (and `?page_id=`, `?attachment_id=`
        // never become stories, so they are not looked up).
        let Some(id) = query.and_then(|q| {
            q.split('&')
                .find_map(|pair| pair.strip_prefix("p="))
                .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        }) else {
            return Ok(None);
        };
        return store.redirect(&format!("/?p={id}")).await;
    }
    if let Some(to) = store.redirect(path).await? {
        return Ok(Some(to));
    }
    let last = path.rsplit('/').next().unwrap_or("");
    if !path.ends_with('/')
        && !last.contains('.')
        && let Some(to) = store.redirect(&format!("{path}/")).await?
    {
        return Ok(Some(to));
    }
    if let Some((base, suffix)) = split_suffix(path)
        && let Some(to) = store.redirect(base).await?
        && to.ends_with('/')
    {
        return Ok(Some(format!("{to}{suffix}")));
    }
    Ok(None)
}

/// The 301 itself.
pub fn moved(to: &str) -> Response {
    // `to` came from an import: a path on this site. Anything else (a scheme, a
    // `//host`) would make this an open redirect, so it is not followed.
    if !to.starts_with('/') || to.starts_with("//") || to.contains(['\r', '\n', '\\']) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let location = encode_path(to);
    let Ok(location) = HeaderValue::from_str(&location) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        StatusCode::MOVED_PERMANENTLY,
        [
            (header::LOCATION, location),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(REDIRECT_MAX_AGE),
            ),
        ],
    )
        .into_response()
}

/// Percent-encodes what a Location header may not carry raw (non-ASCII, spaces).
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path` with `%XX` escapes decoded, or `None` if they do not make UTF-8.
pub fn decode_path(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_follow_the_archive() {
        assert_eq!(
            split_suffix("/category/news/page/3/"),
            Some(("/category/news/", "page/3/"))
        );
        assert_eq!(
            split_suffix("/category/news/feed/"),
            Some(("/category/news/", "feed/"))
        );
        assert_eq!(
            split_suffix("/tag/x/feed/atom/"),
            Some(("/tag/x/", "feed/atom/"))
        );
        assert_eq!(split_suffix("/category/news/"), None);
        assert_eq!(split_suffix("/category/news/page/x/"), None);
        assert_eq!(split_suffix("/homepage/2/"), None);
    }

    #[test]
    fn paths_decode_and_encode() {
        assert_eq!(decode_path("/%D0%BA%d0%b8/").as_deref(), Some("/ки/"));
        assert_eq!(decode_path("/%FF/"), None);
        assert_eq!(decode_path("/%4/"), None);
        assert_eq!(encode_path("/ки a/"), "/%D0%BA%D0%B8%20a/");
        assert_eq!(encode_path("/50%/"), "/50%25/");
    }
}
