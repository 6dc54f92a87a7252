//! `/search` and `/api/v1/search` over real HTTP, and related stories.

use std::time::{Duration, Instant};

use bulletin_search::SearchIndex;

use crate::{Site, corpus, get, import, searchable_site, site_with};

/// A site with a search index, and the index.
async fn searchable() -> (Site, SearchIndex) {
    let site = searchable_site().await;
    let index = site.search.clone().unwrap();
    (site, index)
}

async fn corpus_site() -> Option<(Site, SearchIndex)> {
    let text = corpus()?;
    let (site, index) = searchable().await;
    import(site.store.as_ref(), &text).await;
    site.index().await;
    Some((site, index))
}

/// minijinja escapes `/` in HTML (as OWASP advises); browsers read it back.
fn unescaped(html: &str) -> String {
    html.replace("&#x2f;", "/").replace("&amp;", "&")
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[tokio::test]
async fn the_search_page_finds_highlights_and_narrows() {
    let Some((site, _index)) = corpus_site().await else {
        return;
    };
    let (status, head, body) = get(&site, "/search?q=Pegasus").await;
    let body = unescaped(&body);
    assert_eq!(status, 200);
    assert!(head.contains("text/html"));
    assert!(body.contains("<mark>Pegasus</mark>"), "{body}");
    assert!(body.contains("/2021/07/18/pegasus-spyware"));
    assert!(
        body.contains(r#"value="Pegasus""#),
        "the form keeps the query"
    );
    // Facets are links that add a filter.
    assert!(body.contains("/search?q=Pegasus&country=KZ"), "{body}");
    let (status, _, narrowed) = get(&site, "/search?q=opposition&country=KZ").await;
    assert_eq!(status, 200);
    assert!(
        narrowed.contains("Filtered by country <strong>Kazakhstan</strong>"),
        "{narrowed}"
    );
    assert!(!narrowed.contains("Uzbek police detain"));

    // Old names, and the note saying so.
    let (_, _, alma) = get(&site, "/search?q=Alma-Ata").await;
    assert!(alma.contains("also found as"), "{alma}");
    assert!(alma.contains("<mark>Almaty</mark>"));

    // No query: the form only.
    let (status, _, empty) = get(&site, "/search").await;
    assert_eq!(status, 200);
    assert!(empty.contains("<form action=\"/search\""));
    assert!(!empty.contains("role=\"status\""));
}

#[tokio::test]
async fn the_search_page_escapes_and_explains_bad_input() {
    let Some((site, _index)) = corpus_site().await else {
        return;
    };
    let (status, _, body) = get(&site, "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(status, 200);
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(body.contains("&lt;script&gt;"));
    let (status, _, body) = get(&site, "/search?q=court&from=2021-13").await;
    assert_eq!(status, 400);
    assert!(body.contains("is not a date"), "{body}");
    let (status, _, body) = get(&site, "/search?q=court&from=2022&to=2021").await;
    assert_eq!(status, 400);
    assert!(body.contains("inverted"), "{body}");
    let long = "a".repeat(501);
    let (status, _, body) = get(&site, &format!("/search?q={long}")).await;
    assert_eq!(status, 400);
    assert!(body.contains("the limit is 500"));
    let (status, _, _) = get(&site, &format!("/search?q={}", "a".repeat(10_000))).await;
    assert_eq!(status, 414);
    for odd in [
        "%22unbalanced",
        "-",
        "OR%20OR",
        "%00%01%1b",
        "%FF%FE",
        "court&page=0",
        "court&page=999999",
    ] {
        let (status, _, _) = get(&site, &format!("/search?q={odd}")).await;
        assert!(status == 200 || status == 400, "{odd}: {status}");
    }
    // A page number near the top of usize is too deep, not a wrapped offset (D13).
    for page in ["18446744073709551615", "1844674407370955161"] {
        let (status, _, body) = get(&site, &format!("/search?q=tax&page={page}")).await;
        assert_eq!(status, 400, "page {page}: {body}");
    }
}

#[tokio::test]
async fn the_api_answers_json_and_problems() {
    let Some((site, _index)) = corpus_site().await else {
        return;
    };
    let (status, head, body) = get(&site, "/api/v1/search?q=detained&limit=1").await;
    assert_eq!(status, 200);
    assert!(head.contains("application/json"));
    let v = json(&body);
    assert!(v["total"].as_u64().unwrap() >= 2);
    assert_eq!(v["hits"].as_array().unwrap().len(), 1);
    let hit = &v["hits"][0];
    for field in [
        "headline",
        "dateline",
        "date",
        "url",
        "snippet_html",
        "headline_html",
    ] {
        assert!(hit[field].is_string(), "{field}: {hit}");
    }
    assert!(hit["issue"].is_u64());
    assert!(
        v["facets"]["countries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "KZ")
    );
    // The next page is a link that works.
    let next = v["next"].as_str().unwrap().to_owned();
    let (status, _, body) = get(&site, &next).await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["offset"], 1);

    let filtered = json(
        &get(&site, "/api/v1/search?country=Kazakhstan&facets=false")
            .await
            .2,
    );
    assert!(filtered["facets"].is_null());
    assert!(
        filtered["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["countries"].as_array().unwrap().iter().any(|c| c == "KZ"))
    );

    for (target, words) in [
        ("/api/v1/search?q=x&from=2022&to=2021", "inverted"),
        ("/api/v1/search?country=Atlantis", "Atlantis"),
        ("/api/v1/search?offset=99999", "beyond"),
        // Numbers near the top of usize must not wrap past the window check (D13).
        (
            "/api/v1/search?q=tax&offset=18446744073709551600&limit=100",
            "beyond",
        ),
        ("/api/v1/search?issue=first", "issue"),
        ("/api/v1/search?sort=best", "sort"),
        ("/api/v1/search?page=2", "offset"),
    ] {
        let (status, head, body) = get(&site, target).await;
        assert_eq!(status, 400, "{target}");
        assert!(head.contains("application/problem+json"), "{target}");
        let problem = json(&body);
        assert_eq!(problem["status"], 400);
        assert!(
            problem["detail"].as_str().unwrap().contains(words),
            "{target}: {body}"
        );
    }
}

#[tokio::test]
async fn without_an_index_search_is_unavailable_not_broken() {
    let site = site_with(None, bulletin_web::Options::default()).await;
    let (status, head, body) = get(&site, "/api/v1/search?q=x").await;
    assert_eq!(status, 503);
    assert!(head.contains("application/problem+json"), "{body}");
    let (status, _, body) = get(&site, "/search?q=x").await;
    assert_eq!(status, 503);
    assert!(body.contains("not available"));
}

#[tokio::test]
async fn story_pages_list_related_stories() {
    let Some((site, _index)) = corpus_site().await else {
        return;
    };
    let (status, _, body) = get(
        &site,
        "/2021/07/18/pegasus-spyware-targets-azerbaijani-and-kazakh-opposition/",
    )
    .await;
    assert_eq!(status, 200);
    let body = unescaped(&body);
    let related = body
        .split("<h2>Related stories</h2>")
        .nth(1)
        .expect("a related list");
    assert!(related.contains("<li><a href=\"/20"), "{related}");
    assert!(!related.contains("pegasus-spyware"));
}

#[tokio::test]
async fn a_new_story_is_found_over_http_within_a_second() {
    let (site, index) = searchable().await;
    let follower = index.follow(site.store.clone(), Duration::from_millis(50));
    let text = crate::generated(20, 3);
    import(site.store.as_ref(), &text).await;
    // Ask before the index has caught up: whatever is served then must not be
    // kept and served again once it has.
    let (_, _, early) = get(&site, "/api/v1/search?q=the").await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _, body) = get(&site, "/api/v1/search?q=the").await;
        assert_eq!(status, 200);
        if json(&body)["total"].as_u64().unwrap() > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "never found: {early}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    follower.abort();
}
