//! Machine-read outputs: RSS 2.0 and Atom feeds (site, tag, issue), the
//! sitemap (an index past 50,000 addresses), robots.txt and the JSON-LD of a
//! story page. Feeds carry the full text of public stories and only the lead of
//! subscribers' stories: the same access rule as the pages.

use crate::routes::RouteBook;
use axum::extract::{Path, State};
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};

use bulletin_core::render::escape_html as escape;
use bulletin_core::{Publication, Story, render};
use bulletin_store::StoryQuery;

use crate::AppState;
use crate::error::Failure;
use crate::pages::{base_url, respond, site_facts};

/// Stories in the site and tag feeds.
const FEED_ITEMS: u32 = 20;
/// Addresses in one sitemap file: the sitemaps.org limit.
pub const SITEMAP_URLS: u64 = 50_000;

pub fn routes() -> RouteBook {
    RouteBook::new()
        .get("/feed/", site_rss)
        .get("/feed/atom/", site_atom)
        .get("/tag/{slug}/feed/", tag_rss)
        .get("/tag/{slug}/feed/atom/", tag_atom)
        .get("/issue/{number}/feed/", issue_rss)
        .get("/issue/{number}/feed/atom/", issue_atom)
        .get("/sitemap.xml", sitemap)
        .get("/sitemap-{part}", sitemap_part)
        .get("/robots.txt", robots)
}

/// What a feed is about, before it is written as RSS or Atom.
struct FeedSource {
    title: String,
    /// The page the feed follows (absolute).
    page: String,
    /// The feed's own address without the `atom/` suffix (absolute).
    rss: String,
    stories: Vec<Story>,
    /// Subscribers' stories whole: only a paying subscriber's private feed.
    full: bool,
}

#[derive(Clone, Copy)]
enum Format {
    Rss,
    Atom,
}

async fn site_source(state: &AppState) -> Result<FeedSource, Failure> {
    let facts = site_facts(state).await?;
    let base = base_url(&facts.publication);
    let stories = state
        .store
        .stories(&StoryQuery {
            limit: FEED_ITEMS,
            ..StoryQuery::default()
        })
        .await?
        .stories;
    Ok(FeedSource {
        title: facts.publication.name.clone(),
        page: format!("{base}/"),
        rss: format!("{base}/feed/"),
        stories,
        full: false,
    })
}

async fn tag_source(state: &AppState, slug: String) -> Result<FeedSource, Failure> {
    let archive = crate::pages::tag_by_slug(state, vec![slug]).await?;
    let facts = site_facts(state).await?;
    let base = base_url(&facts.publication);
    let stories = state
        .store
        .stories(&StoryQuery {
            limit: FEED_ITEMS,
            ..archive.query
        })
        .await?
        .stories;
    Ok(FeedSource {
        title: format!("{} · {}", archive.heading, facts.publication.name),
        page: format!("{base}{}", archive.base),
        rss: format!("{base}{}feed/", archive.base),
        stories,
        full: false,
    })
}

async fn issue_source(state: &AppState, number: String) -> Result<FeedSource, Failure> {
    let number = crate::pages::issue_number(&number)?;
    let issue = crate::pages::published_issue(state, number).await?;
    let facts = site_facts(state).await?;
    let base = base_url(&facts.publication);
    let stories = crate::pages::issue_stories_raw(state, &issue).await?;
    Ok(FeedSource {
        title: format!("Issue {number} · {}", facts.publication.name),
        page: format!("{base}/issue/{number}/"),
        rss: format!("{base}/issue/{number}/feed/"),
        stories,
        full: false,
    })
}

macro_rules! feed_handlers {
    ($rss:ident, $atom:ident) => {
        async fn $rss(State(state): State<AppState>, uri: Uri) -> Response {
            let path = uri.path().to_owned();
            respond(&state, &path, async {
                let source = site_source(&state).await?;
                feed(&state, source, Format::Rss).await
            })
            .await
        }
        async fn $atom(State(state): State<AppState>, uri: Uri) -> Response {
            let path = uri.path().to_owned();
            respond(&state, &path, async {
                let source = site_source(&state).await?;
                feed(&state, source, Format::Atom).await
            })
            .await
        }
    };
    ($rss:ident, $atom:ident, $source:ident) => {
        async fn $rss(
            State(state): State<AppState>,
            Path(key): Path<String>,
            uri: Uri,
        ) -> Response {
            let path = uri.path().to_owned();
            respond(&state, &path, async {
                let source = $source(&state, key).await?;
                feed(&state, source, Format::Rss).await
            })
            .await
        }
        async fn $atom(
            State(state): State<AppState>,
            Path(key): Path<String>,
            uri: Uri,
        ) -> Response {
            let path = uri.path().to_owned();
            respond(&state, &path, async {
                let source = $source(&state, key).await?;
                feed(&state, source, Format::Atom).await
            })
            .await
        }
    };
}

feed_handlers!(site_rss, site_atom);
feed_handlers!(tag_rss, tag_atom, tag_source);
feed_handlers!(issue_rss, issue_atom, issue_source);

async fn feed(state: &AppState, source: FeedSource, format: Format) -> crate::pages::Page {
    let facts = site_facts(state).await?;
    let publication = &facts.publication;
    let (content_type, body) = match format {
        Format::Rss => (
            "application/rss+xml; charset=utf-8",
            rss(publication, &source),
        ),
        Format::Atom => (
            "application/atom+xml; charset=utf-8",
            atom(publication, &source),
        ),
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// The story as feed readers show it: dateline, visible paragraphs, the end
/// mark or the subscribers' note, footers. Every piece escaped.
pub fn story_html(story: &Story, permalink: &str, full: bool) -> String {
    let visible = render::visible_body(story, full);
    let mut out = String::new();
    for (i, paragraph) in visible.iter().enumerate() {
        out.push_str("<p>");
        if i == 0 {
            out.push_str(&escape(&format!(
                "{} ({}) — ",
                render::dateline_caps(story, true),
                story.dateline.credit
            )));
        }
        out.push_str(&escape(paragraph));
        out.push_str("</p>\n");
    }
    if render::is_withheld(story, full) {
        out.push_str(&format!(
            "<p><a href=\"{}\">The rest of this story is for subscribers.</a></p>\n",
            escape(permalink)
        ));
    } else {
        out.push_str("<p>ENDS</p>\n");
    }
    if let Some(footer) = render::issue_footer(story) {
        out.push_str(&format!("<p>— {}</p>\n", escape(&footer)));
    }
    out.push_str(&format!(
        "<p>— {}</p>",
        escape(&render::copyright_footer(story))
    ));
    out
}

/// Feeds date a story at midnight UTC of its dateline: the archive knows days,
/// not hours, and a fixed hour keeps dates stable across rebuilds.
fn story_time(story: &Story) -> jiff::Timestamp {
    story
        .dateline
        .date
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map_or(jiff::Timestamp::UNIX_EPOCH, |z| z.timestamp())
}

/// RFC 822 (as RFC 2822 writes it), e.g. "Thu, 22 Jul 2021 00:00:00 +0000".
fn rfc822(at: jiff::Timestamp) -> String {
    at.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

fn rss(publication: &Publication, source: &FeedSource) -> String {
    let base = base_url(publication);
    let items: Vec<rss::Item> = source
        .stories
        .iter()
        .map(|story| {
            let link = format!("{base}{}", story.url());
            let lead = render::visible_body(story, source.full)
                .first()
                .cloned()
                .unwrap_or_default();
            rss::Item {
                title: Some(story.headline.clone()),
                link: Some(link.clone()),
                // RSS readers take the description as HTML.
                description: Some(escape(&lead)),
                content: Some(story_html(story, &link, source.full)),
                guid: Some(rss::Guid {
                    value: link,
                    permalink: true,
                }),
                pub_date: Some(rfc822(story_time(story))),
                categories: story
                    .tags
                    .iter()
                    .map(|t| rss::Category {
                        name: t.clone(),
                        domain: None,
                    })
                    .collect(),
                ..Default::default()
            }
        })
        .collect();
    let newest = source.stories.iter().map(story_time).max();
    let mut self_link = atom_syndication::Link::default();
    self_link.set_href(source.rss.clone());
    self_link.set_rel("self");
    self_link.set_mime_type(Some("application/rss+xml".to_owned()));
    let channel = rss::Channel {
        title: source.title.clone(),
        link: source.page.clone(),
        description: format!("Stories from the {}", publication.name),
        language: Some(publication.language.clone()),
        copyright: Some(format!("Copyright the {}", publication.holder())),
        last_build_date: newest.map(rfc822),
        pub_date: newest.map(rfc822),
        generator: Some("bulletin".to_owned()),
        items,
        atom_ext: Some(rss::extension::atom::AtomExtension {
            links: vec![self_link],
        }),
        ..Default::default()
    };
    channel.to_string()
}

fn atom(publication: &Publication, source: &FeedSource) -> String {
    use atom_syndication::{Category, Content, Entry, Feed, FixedDateTime, Link, Person, Text};
    let base = base_url(publication);
    let time = |at: jiff::Timestamp| -> FixedDateTime {
        FixedDateTime::parse_from_rfc3339(&at.to_string())
            .unwrap_or_else(|_| FixedDateTime::default())
    };
    let link = |href: String, rel: &str, mime: Option<&str>| {
        let mut l = Link::default();
        l.set_href(href);
        l.set_rel(rel);
        l.set_mime_type(mime.map(str::to_owned));
        l
    };
    let entries: Vec<Entry> = source
        .stories
        .iter()
        .map(|story| {
            let permalink = format!("{base}{}", story.url());
            let mut entry = Entry::default();
            entry.set_id(permalink.clone());
            entry.set_title(Text::plain(story.headline.clone()));
            entry.set_updated(time(story_time(story)));
            entry.set_published(Some(time(story_time(story))));
            entry.set_links(vec![link(
                permalink.clone(),
                "alternate",
                Some("text/html"),
            )]);
            let mut content = Content::default();
            content.set_content_type(Some("html".to_owned()));
            content.set_value(Some(story_html(story, &permalink, source.full)));
            entry.set_content(Some(content));
            entry.set_categories(
                story
                    .tags
                    .iter()
                    .map(|t| {
                        let mut c = Category::default();
                        c.set_term(t.clone());
                        c
                    })
                    .collect::<Vec<_>>(),
            );
            entry
        })
        .collect();
    let newest = source
        .stories
        .iter()
        .map(story_time)
        .max()
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let mut author = Person::default();
    author.set_name(publication.name.clone());
    let mut feed = Feed::default();
    // The feed's id is its own address: stable as long as the site's is.
    feed.set_id(format!("{}atom/", source.rss));
    feed.set_title(Text::plain(source.title.clone()));
    feed.set_updated(time(newest));
    feed.set_authors(vec![author]);
    feed.set_lang(Some(publication.language.clone()));
    feed.set_links(vec![
        link(
            format!("{}atom/", source.rss),
            "self",
            Some("application/atom+xml"),
        ),
        link(source.page.clone(), "alternate", Some("text/html")),
    ]);
    feed.set_rights(Some(Text::plain(format!(
        "Copyright the {}",
        publication.name
    ))));
    feed.set_entries(entries);
    feed.to_string()
}

/// A paying subscriber's private feed: the newest stories, subscribers' ones
/// whole. The caller has checked the token (`token` is its last path part).
pub async fn private_rss(state: &AppState, items: u32, token: &str) -> Result<String, Failure> {
    let facts = site_facts(state).await?;
    let base = base_url(&facts.publication);
    let stories = state
        .store
        .stories(&StoryQuery {
            limit: items,
            ..StoryQuery::default()
        })
        .await?
        .stories;
    let source = FeedSource {
        title: format!("{} (subscriber's feed)", facts.publication.name),
        page: format!("{base}/"),
        rss: format!("{base}/feed/private/{token}/"),
        stories,
        full: true,
    };
    Ok(rss(&facts.publication, &source))
}

/// The schema.org `NewsArticle` of a story, ready to sit inside
/// `<script type="application/ld+json">`: `<`, `>` and `&` are written as JSON
/// escapes so no headline can close the script element.
///
/// Whether the story is free is a fact about the story, the same for every
/// reader (`isAccessibleForFree`, and `hasPart` naming the `.paywall` element
/// as search engines ask of paywalled news); `articleBody` is what this
/// reader may read (`entitled`: the access rule's answer for them).
pub fn json_ld(
    story: &Story,
    publication: &Publication,
    canonical: &str,
    entitled: bool,
) -> String {
    let withheld = render::is_withheld(story, false);
    let organisation = serde_json::json!({ "@type": "Organization", "name": publication.name });
    let mut value = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": story.headline,
        "datePublished": story.dateline.date.to_string(),
        "dateline": render::dateline_caps(story, true),
        "url": canonical,
        "mainEntityOfPage": canonical,
        "author": organisation,
        "publisher": organisation,
        "copyrightHolder": organisation,
        "copyrightYear": story.copyright.year,
        "keywords": story.tags,
        "contentLocation": story.dateline.places.iter()
            .map(|p| serde_json::json!({ "@type": "Place", "name": p }))
            .collect::<Vec<_>>(),
        "isAccessibleForFree": !withheld,
        "articleBody": render::visible_body(story, entitled).join("\n\n"),
    });
    if withheld {
        value["hasPart"] = serde_json::json!({
            "@type": "WebPageElement",
            "isAccessibleForFree": false,
            "cssSelector": ".paywall",
        });
    }
    if let Some(issue) = story.issue {
        value["isPartOf"] = serde_json::json!({
            "@type": "PublicationIssue",
            "issueNumber": issue.number.to_string(),
            "datePublished": issue.date.map(|d| d.to_string()),
        });
    }
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

async fn sitemap(State(state): State<AppState>) -> Response {
    respond(&state, "/sitemap.xml", async {
        let facts = site_facts(&state).await?;
        let base = base_url(&facts.publication).to_owned();
        let stories = state.store.counts().await?.stories;
        let limit = state.options.sitemap_urls.max(1);
        let mut urls = archive_urls(&state).await?;
        if stories + urls.len() as u64 <= limit {
            urls.extend(story_urls(&state, 0, limit).await?);
            return Ok(xml(urlset(&base, &urls)));
        }
        // Past the limit: an index of the archive pages and story slices.
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
        );
        out.push_str(&format!(
            "<sitemap><loc>{}</loc></sitemap>\n",
            escape(&format!("{base}/sitemap-archives.xml"))
        ));
        for part in 1..=stories.div_ceil(limit) {
            out.push_str(&format!(
                "<sitemap><loc>{}</loc></sitemap>\n",
                escape(&format!("{base}/sitemap-{part}.xml"))
            ));
        }
        out.push_str("</sitemapindex>\n");
        Ok(xml(out))
    })
    .await
}

async fn sitemap_part(State(state): State<AppState>, Path(part): Path<String>) -> Response {
    let path = format!("/sitemap-{part}");
    respond(&state, &path, async {
        let facts = site_facts(&state).await?;
        let base = base_url(&facts.publication).to_owned();
        let name = part.strip_suffix(".xml").ok_or(Failure::NotFound)?;
        if name == "archives" {
            return Ok(xml(urlset(&base, &archive_urls(&state).await?)));
        }
        let number = crate::pages::issue_number(name)?;
        if number == 0 {
            return Err(Failure::NotFound);
        }
        let limit = state.options.sitemap_urls.max(1);
        let urls = story_urls(&state, (u64::from(number) - 1) * limit, limit).await?;
        if urls.is_empty() {
            return Err(Failure::NotFound);
        }
        Ok(xml(urlset(&base, &urls)))
    })
    .await
}

/// (path, lastmod) of the site's archive pages: home, issues, tags, countries.
async fn archive_urls(state: &AppState) -> Result<Vec<(String, Option<String>)>, Failure> {
    let mut urls = vec![("/".to_owned(), None), ("/issue/".to_owned(), None)];
    for issue in state.store.issues().await? {
        if issue.status != bulletin_core::IssueStatus::Published {
            continue;
        }
        urls.push((
            format!("/issue/{}/", issue.number),
            issue.date.map(|d| d.to_string()),
        ));
    }
    let facts = site_facts(state).await?;
    // A tag without public stories (imports bring tags of drafts too) has no
    // page: only addresses that answer 200 belong here.
    for (tag, _) in facts.tags(state).await?.iter().filter(|(_, n)| *n > 0) {
        urls.push((format!("/tag/{}/", tag.slug), None));
    }
    for (code, _) in facts.countries(state).await? {
        urls.push((format!("/country/{}/", code.to_lowercase()), None));
    }
    Ok(urls)
}

async fn story_urls(
    state: &AppState,
    offset: u64,
    limit: u64,
) -> Result<Vec<(String, Option<String>)>, Failure> {
    let mut urls = Vec::new();
    let mut at = offset;
    // Slices of 10,000 keep each query's result small.
    while (urls.len() as u64) < limit {
        let want = (limit - urls.len() as u64).min(10_000) as u32;
        let slice = state.store.story_index(at, want).await?;
        let got = slice.len();
        urls.extend(slice.into_iter().map(|e| {
            let day = e.updated_at.get(..10).map(str::to_owned);
            (e.url, day)
        }));
        if got < want as usize {
            break;
        }
        at += got as u64;
    }
    Ok(urls)
}

fn urlset(base: &str, urls: &[(String, Option<String>)]) -> String {
    let mut out = String::with_capacity(urls.len() * 100 + 200);
    out.push_str(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (path, lastmod) in urls {
        out.push_str("<url><loc>");
        out.push_str(&escape(&format!("{base}{path}")));
        out.push_str("</loc>");
        if let Some(lastmod) = lastmod {
            out.push_str("<lastmod>");
            out.push_str(&escape(lastmod));
            out.push_str("</lastmod>");
        }
        out.push_str("</url>\n");
    }
    out.push_str("</urlset>\n");
    out
}

fn xml(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn robots(State(state): State<AppState>) -> Response {
    respond(&state, "/robots.txt", async {
        let facts = site_facts(&state).await?;
        let body = format!(
            "User-agent: *\nDisallow: /admin/\nDisallow: /search\n\nSitemap: {}/sitemap.xml\n",
            base_url(&facts.publication)
        );
        Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc822_dates() {
        let at: jiff::Timestamp = "2021-07-22T00:00:00Z".parse().unwrap();
        assert_eq!(rfc822(at), "Thu, 22 Jul 2021 00:00:00 +0000");
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}
