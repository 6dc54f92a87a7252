//! Public pages make a fixed number of queries, whatever the archive's size (no
//! N+1): every SQL statement the store runs is counted (sqlx reports each one as a
//! `sqlx::query` tracing event), per page, on a small and a four times larger
//! archive, and the counts must be equal.
//!
//! Counting needs a process-wide tracing subscriber and a quiet process, so each
//! archive is measured in a child process running only [`query_count_child`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tracing::span;

const CHILD_ENV: &str = "BULLETIN_QUERY_COUNT_STORIES";

/// Counts statements that read or write data; connection set-up (PRAGMA) and
/// transaction control are the pool's business, not the page's.
struct CountStatements(Arc<AtomicUsize>);

struct Summary(Option<String>);

impl tracing::field::Visit for Summary {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "summary" {
            self.0 = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

impl tracing::Subscriber for CountStatements {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target() == "sqlx::query"
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut summary = Summary(None);
        event.record(&mut summary);
        let statement = summary.0.unwrap_or_default().to_ascii_lowercase();
        let word = statement.split_whitespace().next().unwrap_or("");
        if matches!(word, "select" | "with" | "insert" | "update" | "delete") {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

/// The first `href` in `body` that starts with `prefix` and ends with `/`.
fn first_link(body: &str, prefix: &str, what: &str) -> String {
    body.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|href| href.replace("&#x2f;", "/"))
        .find(|href| href.starts_with(prefix) && href.ends_with('/') && href.len() > prefix.len())
        .unwrap_or_else(|| panic!("no {what} link ({prefix}...) in:\n{body}"))
}

/// Run only by [`public_pages_make_a_fixed_number_of_queries`]: measures one
/// archive of `$BULLETIN_QUERY_COUNT_STORIES` stories and prints `COUNT page n`.
#[tokio::test]
#[ignore = "a child process of public_pages_make_a_fixed_number_of_queries"]
async fn query_count_child() {
    let stories: u64 = std::env::var(CHILD_ENV)
        .expect("run by public_pages_make_a_fixed_number_of_queries")
        .parse()
        .unwrap();
    let counter = Arc::new(AtomicUsize::new(0));
    tracing::subscriber::set_global_default(CountStatements(Arc::clone(&counter))).unwrap();

    let site = super::searchable_site().await;
    super::import(site.store.as_ref(), &super::generated(stories, 11)).await;
    site.index().await;

    let mut pages: Vec<(&str, String)> = vec![("home", "/".into())];
    let mut discovered: BTreeMap<&str, String> = BTreeMap::new();
    let mut i = 0;
    while i < pages.len() {
        let (kind, path) = pages[i].clone();
        i += 1;
        let before = counter.load(Ordering::SeqCst);
        let (status, _, body) = super::get(&site, &path).await;
        let used = counter.load(Ordering::SeqCst) - before;
        let expected = if kind == "not-found" { 404 } else { 200 };
        assert_eq!(status, expected, "{kind} {path}:\n{body}");
        println!("COUNT {kind} {used}");
        // Each page kind is fetched once, so every count is of a first rendering.
        let mut found = |kind: &'static str, path: String| {
            if !discovered.contains_key(kind) {
                discovered.insert(kind, path.clone());
                pages.push((kind, path));
            }
        };
        if kind == "home" {
            let story = first_link(&body, "/1", "story");
            let parts: Vec<&str> = story.trim_matches('/').split('/').collect();
            found("story", story.clone());
            found("year", format!("/{}/", parts[0]));
            found("month", format!("/{}/{}/", parts[0], parts[1]));
            found("day", format!("/{}/{}/{}/", parts[0], parts[1], parts[2]));
            for (kind, path) in [
                ("tags", "/tag/"),
                ("countries", "/country/"),
                ("places", "/place/"),
                ("issues", "/issue/"),
                ("rss", "/feed/"),
                ("atom", "/feed/atom/"),
                ("sitemap", "/sitemap.xml"),
                ("robots", "/robots.txt"),
                ("search-page", "/search?q=court"),
                ("search-api", "/api/v1/search?q=court"),
                ("not-found", "/no/such/page/"),
            ] {
                found(kind, path.into());
            }
        }
        if kind == "story" {
            let tag = first_link(&body, "/tag/", "tag");
            found("tag-rss", format!("{tag}feed/"));
            found("tag", tag);
            let issue = first_link(&body, "/issue/", "issue");
            found("issue-rss", format!("{issue}feed/"));
            found("issue", issue);
        }
        if kind == "year" {
            let next = body
                .split("<a href=\"")
                .skip(1)
                .find(|a| a.contains("rel=\"next\""))
                .and_then(|a| a.split('"').next())
                .unwrap_or_else(|| panic!("no next page on {path}:\n{body}"))
                .replace("&#x2f;", "/");
            found("year-page-2", next);
        }
        if kind == "countries" {
            found("country", first_link(&body, "/country/", "country"));
        }
        if kind == "places" {
            found("place", first_link(&body, "/place/", "place"));
        }
    }
}

fn measure(stories: u64) -> BTreeMap<String, usize> {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "queries::query_count_child",
            "--nocapture",
        ])
        .env(CHILD_ENV, stories.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the measuring child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("COUNT "))
        .map(|rest| {
            let (kind, n) = rest.rsplit_once(' ').unwrap();
            (kind.to_owned(), n.parse().unwrap())
        })
        .collect()
}

#[test]
fn public_pages_make_a_fixed_number_of_queries() {
    let small = measure(60);
    let large = measure(240);
    // The child must have measured every kind of page, and seen the queries.
    for kind in [
        "home",
        "story",
        "year",
        "year-page-2",
        "month",
        "day",
        "tag",
        "tag-rss",
        "issue",
        "issue-rss",
        "tags",
        "countries",
        "country",
        "places",
        "place",
        "issues",
        "rss",
        "atom",
        "sitemap",
        "robots",
        "search-page",
        "search-api",
        "not-found",
    ] {
        assert!(
            small.contains_key(kind),
            "{kind} was not measured: {small:?}"
        );
    }
    assert!(small["home"] > 0, "no statement was counted: {small:?}");
    println!("statements per page: {small:?}");
    assert_eq!(
        small, large,
        "queries per page, 60 stories (left) vs 240 (right)"
    );
}
