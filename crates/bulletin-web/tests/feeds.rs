//! Feeds, sitemaps, robots.txt and JSON-LD, parsed back with real parsers and
//! held to the rules feed validators apply.

use bulletin_core::Access;

use super::{Site, corpus, get, import, site, site_with};

/// RSS 2.0: required channel elements, absolute links, permalink GUIDs that
/// are unique, RFC 822 dates, an `atom:link rel="self"` to `self_url`.
fn check_rss(xml: &str, self_url: &str) -> rss::Channel {
    let channel = rss::Channel::read_from(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}: {xml}"));
    assert!(!channel.title.is_empty());
    assert!(channel.link.starts_with("http://"), "{}", channel.link);
    assert!(!channel.description.is_empty());
    let self_link = channel
        .atom_ext
        .as_ref()
        .and_then(|a| a.links.iter().find(|l| l.rel == "self"))
        .expect("atom:link rel=self");
    assert_eq!(self_link.href, self_url);
    let mut guids = std::collections::HashSet::new();
    for item in &channel.items {
        let link = item.link.as_deref().unwrap();
        assert!(link.starts_with("http://"), "{link}");
        assert!(item.title.is_some());
        let guid = item.guid.as_ref().unwrap();
        assert!(guid.permalink);
        assert_eq!(guid.value, link);
        assert!(guids.insert(guid.value.clone()), "duplicate guid");
        let date = item.pub_date.as_deref().unwrap();
        jiff::fmt::rfc2822::parse(date).unwrap_or_else(|e| panic!("{date}: {e}"));
        assert!(date.ends_with(" +0000"), "{date}");
    }
    for date in [&channel.last_build_date, &channel.pub_date]
        .into_iter()
        .flatten()
    {
        jiff::fmt::rfc2822::parse(date).unwrap();
    }
    channel
}

/// Atom (RFC 4287): ids, titles, `updated` in RFC 3339, absolute links, a
/// `rel="self"` link, an author.
fn check_atom(xml: &str, self_url: &str) -> atom_syndication::Feed {
    let feed =
        atom_syndication::Feed::read_from(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}: {xml}"));
    assert!(feed.id.starts_with("http://"), "{}", feed.id);
    assert!(!feed.title.value.is_empty());
    assert!(xml.contains("<updated>"), "updated is required");
    assert!(!feed.authors.is_empty(), "an author is required");
    let self_link = feed.links.iter().find(|l| l.rel == "self").unwrap();
    assert_eq!(self_link.href, self_url);
    let mut ids = std::collections::HashSet::new();
    for entry in &feed.entries {
        assert!(entry.id.starts_with("http://"), "{}", entry.id);
        assert!(ids.insert(entry.id.clone()), "duplicate id");
        assert!(!entry.title.value.is_empty());
        let alternate = entry.links.iter().find(|l| l.rel == "alternate").unwrap();
        assert!(alternate.href.starts_with("http://"));
        let content = entry.content.as_ref().unwrap();
        assert_eq!(content.content_type.as_deref(), Some("html"));
    }
    // RFC 3339 as written.
    for updated in xml.split("<updated>").skip(1) {
        let text = updated.split('<').next().unwrap();
        text.parse::<jiff::Timestamp>()
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }
    feed
}

const BASE: &str = "http://127.0.0.1:8080";

async fn corpus_site() -> Option<(Site, Vec<bulletin_core::Story>)> {
    let text = corpus()?;
    let site = site(None).await;
    import(site.store.as_ref(), &text).await;
    Some((site, bulletin_text::read_str(&text).unwrap().stories))
}

#[tokio::test]
async fn site_tag_and_issue_feeds_parse_and_follow_the_rules() {
    let Some((site, stories)) = corpus_site().await else {
        return;
    };
    let (status, _, rss_xml) = get(&site, "/feed/").await;
    assert_eq!(status, 200);
    let channel = check_rss(&rss_xml, &format!("{BASE}/feed/"));
    assert_eq!(channel.items.len(), stories.len());
    // Newest first, full text with the dateline, end mark and footers.
    let newest = stories.iter().max_by_key(|s| s.dateline.date).unwrap();
    assert_eq!(
        channel.items[0].title.as_deref(),
        Some(newest.headline.as_str())
    );
    let pegasus = channel
        .items
        .iter()
        .find(|i| i.link.as_deref().unwrap().contains("pegasus-spyware"))
        .unwrap();
    let content = pegasus.content.as_deref().unwrap();
    assert!(
        content.contains("BAKU/ALMATY/JULY 18 2021 (The Bulletin) — "),
        "{content}"
    );
    assert!(content.contains("<p>ENDS</p>"));
    assert!(content.contains("issue 493 of the Central Asia &amp; South Caucasus Bulletin"));
    assert_eq!(
        pegasus.pub_date.as_deref(),
        Some("Sun, 18 Jul 2021 00:00:00 +0000")
    );
    assert_eq!(pegasus.categories[0].name, "political rights");

    let (status, _, atom_xml) = get(&site, "/feed/atom/").await;
    assert_eq!(status, 200);
    let feed = check_atom(&atom_xml, &format!("{BASE}/feed/atom/"));
    assert_eq!(feed.entries.len(), stories.len());
    assert_eq!(feed.updated.to_rfc3339(), "2024-04-16T00:00:00+00:00");

    let tag = check_rss(
        &get(&site, "/tag/political-rights/feed/").await.2,
        &format!("{BASE}/tag/political-rights/feed/"),
    );
    assert_eq!(tag.items.len(), stories.len());
    assert!(tag.title.contains("political rights"));
    check_atom(
        &get(&site, "/tag/political-rights/feed/atom/").await.2,
        &format!("{BASE}/tag/political-rights/feed/atom/"),
    );

    // An issue feed lists the issue's stories in issue order.
    let issue = check_rss(
        &get(&site, "/issue/474/feed/").await.2,
        &format!("{BASE}/issue/474/feed/"),
    );
    let expected: Vec<_> = stories
        .iter()
        .filter(|s| s.issue.map(|i| i.number) == Some(474))
        .map(|s| s.headline.clone())
        .collect();
    let got: Vec<_> = issue
        .items
        .iter()
        .map(|i| i.title.clone().unwrap())
        .collect();
    assert_eq!(got, expected);
    let issue_atom = check_atom(
        &get(&site, "/issue/474/feed/atom/").await.2,
        &format!("{BASE}/issue/474/feed/atom/"),
    );
    assert_eq!(issue_atom.entries.len(), expected.len());
    assert_eq!(get(&site, "/tag/no-such-tag/feed/").await.0, 404);
    assert_eq!(get(&site, "/issue/1/feed/atom/").await.0, 404);
}

#[tokio::test]
async fn feeds_escape_markup_and_keep_subscribers_stories_short() {
    let site = site(None).await;
    let text = "<script>alert(1)</script> & \"quotes\"\n\n\
        TBILISI/MAY 3 2022 (The Bulletin) \u{2014} Lead with <b>markup</b> & more.\n\n\
        Second paragraph only subscribers read.\n\nENDS\n\n\
        \u{2014} This story was published in issue 520 of the Example Bulletin, on May 5 2022\n\n\
        \u{2014} Copyright the Example Bulletin 2022\n";
    let mut stories = bulletin_text::read_str(text).unwrap().stories;
    stories[0].access = Access::Subscribers;
    let mut tx = site.store.begin_import().await.unwrap();
    tx.put_stories(stories).await.unwrap();
    tx.commit().await.unwrap();

    let (_, _, rss_xml) = get(&site, "/feed/").await;
    assert!(!rss_xml.contains("<script>"), "{rss_xml}");
    assert!(!rss_xml.contains("<b>markup"), "{rss_xml}");
    let channel = check_rss(&rss_xml, &format!("{BASE}/feed/"));
    let item = &channel.items[0];
    assert_eq!(
        item.title.as_deref(),
        Some("<script>alert(1)</script> & \"quotes\"")
    );
    let content = item.content.as_deref().unwrap();
    assert!(
        content.contains("Lead with &lt;b&gt;markup&lt;/b&gt; &amp; more."),
        "{content}"
    );
    assert!(!content.contains("Second paragraph"), "{content}");
    assert!(content.contains("for subscribers"), "{content}");

    let (_, _, atom_xml) = get(&site, "/feed/atom/").await;
    assert!(!atom_xml.contains("<script>"));
    let feed = check_atom(&atom_xml, &format!("{BASE}/feed/atom/"));
    assert_eq!(
        feed.entries[0].title.value,
        "<script>alert(1)</script> & \"quotes\""
    );
    assert!(!atom_xml.contains("Second paragraph"));

    // The story page: JSON-LD that cannot close its script element, the body
    // cut the same way, and Open Graph tags escaped.
    let url = channel.items[0].link.as_deref().unwrap().replace(BASE, "");
    let (status, _, page) = get(&site, &url).await;
    assert_eq!(status, 200);
    assert!(!page.contains("Second paragraph"), "{page}");
    assert!(page.contains("The rest of this story is for subscribers."));
    let json = page
        .split("<script type=\"application/ld+json\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap();
    assert!(!json.contains('<'), "{json}");
    let ld: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(ld["@type"], "NewsArticle");
    assert_eq!(ld["headline"], "<script>alert(1)</script> & \"quotes\"");
    assert_eq!(ld["isAccessibleForFree"], false);
    assert_eq!(ld["hasPart"]["cssSelector"], ".paywall");
    // The element it names holds the invitation standing in for the rest.
    assert!(
        page.contains("<div class=\"paywall\">\n<p class=\"locked\">"),
        "{page}"
    );
    assert!(!ld["articleBody"].as_str().unwrap().contains("Second"));
    assert!(
        page.contains("<meta property=\"og:title\" content=\"&lt;script&gt;"),
        "{page}"
    );
    assert!(page.contains("<title>&lt;script&gt;"), "{page}");
}

#[tokio::test]
async fn story_pages_carry_json_ld_open_graph_and_feed_links() {
    let Some((site, _)) = corpus_site().await else {
        return;
    };
    let url = "/2021/07/18/pegasus-spyware-targets-azerbaijani-and-kazakh-opposition/";
    let (_, _, page) = get(&site, url).await;
    let json = page
        .split("<script type=\"application/ld+json\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap();
    let ld: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["@type"], "NewsArticle");
    assert_eq!(
        ld["headline"],
        "Pegasus spyware targets Azerbaijani and Kazakh opposition"
    );
    assert_eq!(ld["datePublished"], "2021-07-18");
    assert_eq!(ld["dateline"], "BAKU/ALMATY/JULY 18 2021");
    assert_eq!(ld["isPartOf"]["issueNumber"], "493");
    assert_eq!(ld["url"], format!("{BASE}{url}"));
    assert_eq!(ld["isAccessibleForFree"], true);
    assert!(page.contains("<meta property=\"og:type\" content=\"article\">"));
    assert!(page.contains("property=\"article:published_time\" content=\"2021-07-18\""));
    assert!(page.contains("rel=\"canonical\""));
    assert!(page.contains("type=\"application/rss+xml\""));
    assert!(page.contains("type=\"application/atom+xml\""));
    let (_, _, tag) = get(&site, "/tag/political-rights/").await;
    assert!(
        tag.contains("href=\"&#x2f;tag&#x2f;political-rights&#x2f;feed&#x2f;\""),
        "{tag}"
    );
}

/// `<loc>` values of a sitemap or sitemap index.
fn locs(xml: &str) -> Vec<String> {
    xml.split("<loc>")
        .skip(1)
        .map(|s| s.split("</loc>").next().unwrap().replace("&amp;", "&"))
        .collect()
}

#[tokio::test]
async fn sitemap_lists_every_story_and_becomes_an_index_when_large() {
    let Some(text) = corpus() else { return };
    let stories = bulletin_text::read_str(&text).unwrap().stories;
    let site = site(None).await;
    import(site.store.as_ref(), &text).await;
    let (status, head, xml) = get(&site, "/sitemap.xml").await;
    assert_eq!(status, 200);
    assert!(head.contains("application/xml"), "{head}");
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"));
    let all = locs(&xml);
    for story in &stories {
        assert!(
            all.contains(&format!("{BASE}{}", story.url())),
            "{}",
            story.slug
        );
    }
    assert!(all.contains(&format!("{BASE}/issue/493/")));
    assert!(all.contains(&format!("{BASE}/tag/political-rights/")));
    let unique: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), all.len());
    let (_, _, robots) = get(&site, "/robots.txt").await;
    assert!(
        robots.contains(&format!("Sitemap: {BASE}/sitemap.xml")),
        "{robots}"
    );

    // With room for only 4 addresses a file, the sitemap is an index.
    let small = site_with(
        None,
        bulletin_web::Options {
            sitemap_urls: 4,
            ..Default::default()
        },
    )
    .await;
    import(small.store.as_ref(), &text).await;
    let (_, _, index) = get(&small, "/sitemap.xml").await;
    assert!(index.contains("<sitemapindex"), "{index}");
    let parts = locs(&index);
    assert_eq!(parts.len(), 1 + stories.len().div_ceil(4), "{index}");
    let mut story_locs = Vec::new();
    for part in &parts {
        let (status, _, xml) = get(&small, &part.replace(BASE, "")).await;
        assert_eq!(status, 200, "{part}");
        assert!(xml.contains("<urlset"));
        let found = locs(&xml);
        if !part.ends_with("archives.xml") {
            assert!(found.len() <= 4);
            story_locs.extend(found);
        }
    }
    let mut expected: Vec<_> = stories
        .iter()
        .map(|s| format!("{BASE}{}", s.url()))
        .collect();
    expected.sort();
    story_locs.sort();
    assert_eq!(story_locs, expected);
}
