//! HTTP behaviour: validators and 304s, caching after imports, compression,
//! headers, archives, and the bad addresses that must be 404/414, never 500.

use std::io::Read;

use super::{Site, corpus, get, import, request, site};

async fn corpus_site() -> Option<(Site, Vec<bulletin_core::Story>)> {
    let text = corpus()?;
    let site = site(None).await;
    import(site.store.as_ref(), &text).await;
    let stories = bulletin_text::read_str(&text).unwrap().stories;
    Some((site, stories))
}

#[tokio::test]
async fn security_and_cache_headers_on_every_page() {
    let Some((site, _)) = corpus_site().await else {
        return;
    };
    for path in [
        "/",
        "/tag/political-rights/",
        "/feed/",
        "/sitemap.xml",
        "/no-such-page/",
    ] {
        let reply = request(&site, "GET", path, &[]).await;
        let csp = reply.header("content-security-policy").unwrap_or("");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(
            reply.header("referrer-policy"),
            Some("strict-origin-when-cross-origin")
        );
        if reply.status == 200 {
            assert!(reply.header("etag").is_some(), "{path}");
            assert!(reply.header("last-modified").unwrap().ends_with(" GMT"));
            assert!(reply.header("cache-control").unwrap().starts_with("public"));
        }
    }
    assert_eq!(
        request(&site, "GET", "/", &[])
            .await
            .header("cache-control"),
        Some("public, no-cache")
    );
    assert_eq!(
        request(&site, "GET", "/feed/", &[])
            .await
            .header("content-type"),
        Some("application/rss+xml; charset=utf-8")
    );
}

#[tokio::test]
async fn validators_answer_304_until_an_import_changes_the_archive() {
    let Some((site, _)) = corpus_site().await else {
        return;
    };
    let path = "/tag/political-rights/";
    let first = request(&site, "GET", path, &[]).await;
    assert_eq!(first.status, 200);
    let etag = first.header("etag").unwrap().to_owned();
    let modified = first.header("last-modified").unwrap().to_owned();
    let again = request(&site, "GET", path, &[&format!("If-None-Match: {etag}")]).await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let since = request(
        &site,
        "GET",
        path,
        &[&format!("If-Modified-Since: {modified}")],
    )
    .await;
    assert_eq!(since.status, 304);
    // `*` never turns a missing page into a 304.
    let star = request(&site, "GET", "/no-such-page/", &["If-None-Match: *"]).await;
    assert_eq!(star.status, 404);
    let other = request(&site, "GET", path, &["If-None-Match: W/\"0-0\""]).await;
    assert_eq!(other.status, 200);
    // The rendered page came from the cache the second time: byte-identical.
    assert_eq!(other.body, first.body);

    // A new story under the same tag shows up on the very next request.
    let story = "Example headline about new arrests\n\n\
        BAKU/NOVEMBER 3 2024 (The Bulletin) \u{2014} A new paragraph here.\n\nENDS\n\n\
        \u{2014} This story was published in issue 566 of the Central Asia & South Caucasus Bulletin, on November 5 2024\n\n\
        \u{2014} Copyright the Central Asia & South Caucasus Bulletin 2024\n\n\
        \u{2014} Tags: political rights\n";
    import(site.store.as_ref(), story).await;
    let after = request(&site, "GET", path, &[&format!("If-None-Match: {etag}")]).await;
    assert_eq!(after.status, 200, "a changed archive must not answer 304");
    assert_ne!(after.header("etag"), Some(etag.as_str()));
    let body = after.text();
    assert!(
        body.contains("Example headline about new arrests"),
        "{body}"
    );
    assert!(body.contains("11 stories"), "{body}");
    let home = get(&site, "/").await.2;
    assert!(home.contains("Issue 566"), "{home}");
}

/// RFC 9110 §13.2.1: preconditions apply only where the answer would be 2xx, so
/// the site-wide validators never turn a missing page or an error into a 304 (D6).
#[tokio::test]
async fn validators_never_turn_a_missing_page_or_an_error_into_304() {
    let Some((site, _)) = corpus_site().await else {
        return;
    };
    let home = request(&site, "GET", "/", &[]).await;
    assert_eq!(home.status, 200);
    let etag = home.header("etag").unwrap().to_owned();
    let far_future = "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT";
    for (path, expected) in [
        ("/no/such/page/", 404),
        ("/tag/no-such-tag/", 404),
        ("/2021/13/", 404),
    ] {
        for header in [format!("If-None-Match: {etag}"), far_future.to_owned()] {
            let reply = request(&site, "GET", path, &[&header]).await;
            assert_eq!(reply.status, expected, "{path} with {header}");
            assert!(
                !reply.body.is_empty(),
                "{path} with {header}: a page says why"
            );
        }
    }
    // A page that exists still answers 304 to the same validators.
    let again = request(&site, "GET", "/", &[&format!("If-None-Match: {etag}")]).await;
    assert_eq!(again.status, 304);
    let since = request(&site, "GET", "/issue/", &[far_future]).await;
    assert_eq!(since.status, 304);
}

/// Headers a handler sets survive the page cache: the second answer is the first's
/// (D14: the OpenAPI description lost `Access-Control-Allow-Origin`).
#[tokio::test]
async fn a_cached_answer_keeps_the_handlers_headers() {
    let site = site(None).await;
    for attempt in ["first", "cached"] {
        let reply = request(&site, "GET", "/api/v1/openapi.json", &[]).await;
        assert_eq!(reply.status, 200, "{attempt}");
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{attempt}"
        );
        assert!(
            reply
                .header("content-type")
                .unwrap()
                .starts_with("application/json"),
            "{attempt}"
        );
    }
}

#[tokio::test]
async fn pages_are_compressed_when_asked() {
    let Some((site, _)) = corpus_site().await else {
        return;
    };
    let path = "/tag/political-rights/";
    let plain = request(&site, "GET", path, &[]).await;
    assert_eq!(plain.header("content-encoding"), None);
    // Shared caches must not give a signed-in reader's request the anonymous copy.
    assert_eq!(plain.header("vary"), Some("Accept-Encoding, Cookie"));

    let gz = request(&site, "GET", path, &["Accept-Encoding: gzip"]).await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain.body);
    assert!(gz.body.len() < plain.body.len() / 2);

    let br = request(&site, "GET", path, &["Accept-Encoding: gzip, deflate, br"]).await;
    assert_eq!(br.header("content-encoding"), Some("br"));
    let mut unbrotli = Vec::new();
    brotli::BrotliDecompress(&mut &br.body[..], &mut unbrotli).unwrap();
    assert_eq!(unbrotli, plain.body);

    let refused = request(&site, "GET", path, &["Accept-Encoding: br;q=0, gzip;q=0"]).await;
    assert_eq!(refused.header("content-encoding"), None);
}

#[tokio::test]
async fn head_and_other_methods() {
    let Some((site, _)) = corpus_site().await else {
        return;
    };
    let head = request(&site, "HEAD", "/tag/political-rights/", &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert!(head.header("etag").is_some());
    let post = request(
        &site,
        "POST",
        "/tag/political-rights/",
        &["Content-Length: 0"],
    )
    .await;
    assert_eq!(post.status, 405);
}

#[tokio::test]
async fn country_place_and_date_archives() {
    let Some((site, stories)) = corpus_site().await else {
        return;
    };
    // Kazakhstan: every story whose countries include KZ, newest first.
    let kz: Vec<_> = stories
        .iter()
        .filter(|s| s.countries.iter().any(|c| c == "KZ"))
        .collect();
    assert!(!kz.is_empty());
    let (status, _, body) = get(&site, "/country/kz/").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("<h1>Country Archives: Kazakhstan</h1>"),
        "{body}"
    );
    let count = format!(
        "{} {}",
        kz.len(),
        if kz.len() == 1 { "story" } else { "stories" }
    );
    assert!(body.contains(&count), "{count}");
    for story in &kz {
        assert!(body.contains(&story.slug), "{}", story.slug);
    }
    let (status, _, index) = get(&site, "/country/").await;
    assert_eq!(status, 200);
    assert!(index.contains("Kazakhstan</a> ("), "{index}");

    // A dateline place.
    let (status, _, baku) = get(&site, "/place/baku/").await;
    assert_eq!(status, 200);
    assert!(baku.contains("<h1>Place Archives: Baku</h1>"), "{baku}");
    assert!(baku.contains("pegasus-spyware-targets"), "{baku}");
    assert_eq!(get(&site, "/place/").await.0, 200);

    // Year, month and day archives of the Pegasus story (July 18 2021).
    let year_count = stories
        .iter()
        .filter(|s| s.dateline.date.year() == 2021)
        .count();
    let (status, _, year) = get(&site, "/2021/").await;
    assert_eq!(status, 200);
    assert!(year.contains("<h1>Yearly Archives: 2021</h1>"), "{year}");
    assert!(year.contains(&format!("{year_count} stor")), "{year}");
    assert!(year.contains("July 2021</a>"), "month links: {year}");
    let (status, _, month) = get(&site, "/2021/07/").await;
    assert_eq!(status, 200);
    assert!(month.contains("Monthly Archives: July 2021"), "{month}");
    assert!(month.contains("pegasus-spyware-targets"));
    let (status, _, day) = get(&site, "/2021/07/18/").await;
    assert_eq!(status, 200);
    assert!(day.contains("Daily Archives: July 18 2021"), "{day}");
}

#[tokio::test]
async fn deep_pages_and_page_links() {
    let site = site(None).await;
    let generated = super::generated(300, 7);
    import(site.store.as_ref(), &generated).await;
    let (status, _, tags) = get(&site, "/tag/").await;
    assert_eq!(status, 200);
    // The most used tag and its count, read from the index.
    let mut best: Option<(String, u32)> = None;
    let terms = tags.split("<ul class=\"terms\">").nth(1).unwrap();
    let terms = terms.split("</ul>").next().unwrap();
    for item in terms.split("<li><a href=\"").skip(1) {
        let slug = item
            .trim_start_matches("&#x2f;tag&#x2f;")
            .split("&#x2f;")
            .next()
            .unwrap()
            .to_owned();
        let count: u32 = item
            .split("</a> (")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        if best.as_ref().is_none_or(|b| count > b.1) {
            best = Some((slug, count));
        }
    }
    let (slug, count) = best.unwrap();
    assert!(count > 20, "need several pages: {slug} has {count}");
    let pages = count.div_ceil(10);
    let mut seen = std::collections::HashSet::new();
    for page in 1..=pages {
        let path = if page == 1 {
            format!("/tag/{slug}/")
        } else {
            format!("/tag/{slug}/page/{page}/")
        };
        let (status, _, body) = get(&site, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains(&format!("page {page} of {pages}")), "{path}");
        let articles = body.matches("<article>").count();
        let expected = if page == pages {
            count - 10 * (pages - 1)
        } else {
            10
        };
        assert_eq!(articles as u32, expected, "{path}");
        for piece in body.split("<h2><a href=\"").skip(1) {
            assert!(seen.insert(piece.split('"').next().unwrap().to_owned()));
        }
        if page < pages {
            assert!(body.contains("rel=\"next\""), "{path}");
        }
    }
    assert_eq!(
        seen.len() as u32,
        count,
        "every story once across the pages"
    );
    for bad in [
        format!("/tag/{slug}/page/0/"),
        format!("/tag/{slug}/page/-1/"),
        format!("/tag/{slug}/page/x/"),
        format!("/tag/{slug}/page/01/"),
        format!("/tag/{slug}/page/{}/", pages + 1),
        format!("/tag/{slug}/page/99999999999999/"),
    ] {
        assert_eq!(get(&site, &bad).await.0, 404, "{bad}");
    }
}

#[tokio::test]
async fn bad_addresses_are_404_or_414_never_500() {
    let Some((site, _)) = corpus_site().await else {
        return;
    };
    let long_path = format!("/tag/{}/", "a".repeat(3000));
    assert_eq!(request(&site, "GET", &long_path, &[]).await.status, 414);
    let long_query = format!("/?q={}", "b".repeat(3000));
    assert_eq!(request(&site, "GET", &long_query, &[]).await.status, 414);
    for path in [
        "/tag/../issue/",
        "/tag/..%2F..%2Fetc%2Fpasswd/",
        "/tag/political-rights%2F/",
        "/tag/political%00rights/",
        "/2021/07/18/pegasus%00/",
        "/tag/%FF%FE/",
        "/tag/Political-Rights/",
        "/tag/political-rights/feed/x/",
        "/country/zz/",
        "/country/KZ/",
        "/country/kaz/",
        "/place/nowhere/",
        "/2021/13/",
        "/2021/02/30/",
        "/2021/7/",
        "/1900/",
        "/99999/",
        "/abcd/",
        "/issue/0/",
        "/issue/-3/",
        "/issue/007/",
        "/issue/99999999999999999999/",
        "/issue/99999/feed/",
        "/sitemap-0.xml",
        "/sitemap-99.xml",
        "/sitemap-x.xml",
        "/wp-admin/",
        "/%3Cscript%3Ealert(1)%3C%2Fscript%3E/",
    ] {
        let reply = request(&site, "GET", path, &[]).await;
        assert_eq!(reply.status, 404, "{path}");
        let body = reply.text();
        assert!(!body.contains("<script>"), "{path}: {body}");
    }
    // The 404 page helps: a search box and the archives.
    let missing = get(&site, "/no-such-story/").await.2;
    assert!(missing.contains("role=\"search\""), "{missing}");
    assert!(missing.contains("all issues"), "{missing}");
}

/// A page larger than the cache keeps (the sitemap of a large archive) is
/// streamed whole: 200 with every address, not a 500, and not kept, so it is
/// served as the handler made it, uncompressed; it still validates.
#[tokio::test]
async fn a_page_larger_than_the_cache_limit_is_streamed_whole() {
    let limit = 4096;
    let site = super::site_with(
        None,
        bulletin_web::Options {
            max_cached_page: limit,
            ..Default::default()
        },
    )
    .await;
    let text = super::generated(80, 5);
    import(site.store.as_ref(), &text).await;
    let stories = bulletin_text::read_str(&text).unwrap().stories;

    let reply = request(&site, "GET", "/sitemap.xml", &["Accept-Encoding: gzip, br"]).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.len() > limit, "{}", reply.body.len());
    assert_eq!(reply.header("content-encoding"), None, "not from the cache");
    let body = reply.text();
    assert!(
        body.ends_with("</urlset>\n"),
        "cut short: {}",
        &body[body.len() - 100..]
    );
    for story in &stories {
        assert!(
            body.contains(&format!("{}</loc>", story.url())),
            "{} missing",
            story.url()
        );
    }
    // Validators hold for a streamed page too.
    let etag = reply.header("etag").unwrap().to_owned();
    let again = request(
        &site,
        "GET",
        "/sitemap.xml",
        &[&format!("If-None-Match: {etag}")],
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
}
