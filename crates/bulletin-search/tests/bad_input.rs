//! What a researcher (or a robot) may type: a clear message or a result, never a
//! panic.

use bulletin_core::Date;
use bulletin_search::{MAX_QUERY_CHARS, QueryError, SearchError, SearchRequest};

use crate::{empty_archive, generated, put};

#[tokio::test]
async fn odd_queries_are_read_leniently() {
    let a = empty_archive().await;
    put(&*a.store, generated(50, 2)).await;
    a.index.catch_up(&*a.store).await.unwrap();
    let odd = [
        "\"unbalanced quote",
        "unbalanced\" quote",
        "-",
        "- -",
        "OR",
        "OR OR",
        "court OR",
        "OR court",
        "court OR OR police",
        "\u{0}\u{1b}[31mcourt\u{7f}",
        "\"\"",
        "\"",
        "---court",
        "-\"\"",
        "!!! ??? ...",
        "\u{202e}court\u{200b}",
        "日本語 العربية",
        "court -court",
        "*",
        "field:value",
        "(court AND police)",
        "court~2 pol*",
    ];
    for q in odd {
        let r = a
            .index
            .search(&SearchRequest::new(q))
            .unwrap_or_else(|e| panic!("{q:?}: {e}"));
        assert!(r.hits.len() as u64 <= r.total, "{q:?}");
    }
    let r = a.search("\"unbalanced quote");
    assert!(r.notes.iter().any(|n| n.contains("quote")), "{:?}", r.notes);
    let r = a.search("OR OR");
    assert!(!r.notes.is_empty());
    assert_eq!(a.search("court -court").total, 0);
}

#[tokio::test]
async fn limits_and_impossible_filters_are_clear_errors() {
    let a = empty_archive().await;
    put(&*a.store, generated(20, 2)).await;
    a.index.catch_up(&*a.store).await.unwrap();
    let error = |request: SearchRequest| -> QueryError {
        match a.index.search(&request) {
            Err(SearchError::Query(e)) => e,
            other => panic!("{request:?}: {other:?}"),
        }
    };
    let long = "word ".repeat(2_000);
    assert!(matches!(
        error(SearchRequest::new(&long)),
        QueryError::TooLong {
            len: 10_000,
            max: MAX_QUERY_CHARS
        }
    ));
    let many = vec!["word"; 40].join(" ");
    assert!(matches!(
        error(SearchRequest::new(&many)),
        QueryError::TooManyTerms { .. }
    ));
    let inverted = error(SearchRequest {
        from: Some(Date::new(2021, 2, 1).unwrap()),
        to: Some(Date::new(2020, 1, 1).unwrap()),
        ..SearchRequest::default()
    });
    assert!(inverted.to_string().contains("2021-02-01"), "{inverted}");
    let unknown = error(SearchRequest {
        country: Some("Atlantis".into()),
        ..SearchRequest::default()
    });
    assert!(unknown.to_string().contains("Atlantis"));
    assert!(matches!(
        error(SearchRequest {
            offset: 9_995,
            limit: 10,
            ..SearchRequest::default()
        }),
        QueryError::WindowTooDeep { .. }
    ));
    // An offset near the top of usize must not wrap past the window check (D13).
    for offset in [usize::MAX - 15, usize::MAX] {
        assert!(matches!(
            error(SearchRequest {
                offset,
                limit: 100,
                ..SearchRequest::default()
            }),
            QueryError::WindowTooDeep { .. }
        ));
    }
    // Unknown values that are well-formed simply match nothing.
    for request in [
        SearchRequest {
            tag: Some("no such tag".into()),
            ..SearchRequest::default()
        },
        SearchRequest {
            country: Some("ZZ".into()),
            ..SearchRequest::default()
        },
        SearchRequest {
            place: Some("Atlantis".into()),
            ..SearchRequest::default()
        },
        SearchRequest {
            issue: Some(u32::MAX),
            ..SearchRequest::default()
        },
    ] {
        assert_eq!(a.find(request).total, 0);
    }
    // Limits are clamped, not refused.
    let r = a.find(SearchRequest {
        limit: 1_000_000,
        ..SearchRequest::default()
    });
    assert_eq!(r.limit, bulletin_search::MAX_LIMIT);
    let r = a.find(SearchRequest {
        offset: 1_000,
        ..SearchRequest::default()
    });
    assert!(r.hits.is_empty() && r.total == 20);
}

#[tokio::test]
async fn markup_in_stories_comes_back_escaped() {
    let a = empty_archive().await;
    let mut stories = generated(5, 8);
    stories[0].headline = "Quango <b>bold</b> & \"quoted\"".into();
    stories[0].body[0] = "A quango said <script>alert('x')</script> & left.".into();
    put(&*a.store, stories).await;
    a.index.catch_up(&*a.store).await.unwrap();
    let hit = &a.search("quango").hits[0];
    assert_eq!(
        hit.headline_html,
        "<mark>Quango</mark> &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;"
    );
    assert!(
        hit.snippet_html.contains("&lt;script&gt;"),
        "{}",
        hit.snippet_html
    );
    assert!(!hit.snippet_html.contains("<script"));
    // Without a match to mark, the fallback escapes too.
    let listed = a.find(SearchRequest {
        limit: 10,
        ..SearchRequest::default()
    });
    let plain = listed
        .hits
        .iter()
        .find(|h| h.headline.starts_with("Quango"))
        .unwrap();
    assert!(
        plain.headline_html.starts_with("Quango &lt;b&gt;"),
        "{}",
        plain.headline_html
    );
    assert!(
        plain
            .snippet_html
            .contains("&lt;script&gt;alert(&#39;x&#39;)"),
        "{}",
        plain.snippet_html
    );
}
