//! The leak test of the one access rule: for a subscribers' story, no output a
//! visitor or a free subscriber can reach (pages, archives, feeds, sitemap,
//! search results and snippets, the JSON API, JSON-LD, Open Graph) carries any
//! sentence past its first paragraph; a paying subscriber's pages do. (The
//! newsletter's side is tested in bulletin-mail and, end to end over SMTP, in
//! the bulletin binary's tests.)

use bulletin_core::Access;
use bulletin_core::subscriber::{Plan, SubscriberStatus};
use bulletin_store::NewSubscriber;

use crate::{Site, request};

const LEAD: &str = "Customs officers at the border crossing counted fewer lorries this spring.";
/// Sentences past the first paragraph, with words found nowhere else, so a
/// search for them must find nothing.
const WITHHELD: [&str; 3] = [
    "Quillwort traders said the zephyrine permits were never issued.",
    "Officials blamed a marmalade of paperwork for the delay.",
    "A third sentence about the hornbeam ledger closes the story.",
];

async fn leak_site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let index = bulletin_search::SearchIndex::open(&dir.path().join("search")).unwrap();
    let mut site = crate::site_in(
        dir,
        None,
        bulletin_web::Options {
            search: Some(index.clone()),
            ..Default::default()
        },
    )
    .await;
    site.search = Some(index);
    let text = format!(
        "Lorry traffic falls at the frontier\n\n\
         SARPI/APRIL 12 2023 (The Bulletin) \u{2014} {LEAD}\n\n{} {}\n\n{}\n\nENDS\n\n\
         \u{2014} This story was published in issue 601 of the Example Bulletin, on April 14 2023\n\n\
         \u{2014} Copyright the Example Bulletin 2023\n",
        WITHHELD[0], WITHHELD[1], WITHHELD[2]
    );
    let mut stories = bulletin_text::read_str(&text).unwrap().stories;
    stories[0].access = Access::Subscribers;
    stories[0].tags = vec!["border trade".into()];
    let mut tx = site.store.begin_import().await.unwrap();
    tx.put_stories(stories).await.unwrap();
    tx.commit().await.unwrap();
    site.index().await;
    site
}

/// A signed-in subscriber on `plan`: their session cookie.
async fn session(site: &Site, email: &str, plan: Plan) -> String {
    let subscriber = site
        .store
        .add_subscriber(
            &NewSubscriber {
                email: email.into(),
                name: String::new(),
                plan,
                status: SubscriberStatus::Active,
            },
            jiff::Timestamp::now().as_second(),
        )
        .await
        .unwrap();
    let id = format!("session-of-{email}");
    site.store
        .create_reader_session(
            &bulletin_web::admin::auth::id_hash(&id),
            subscriber.id,
            "csrf",
            jiff::Timestamp::now().as_second(),
        )
        .await
        .unwrap();
    format!("bulletin_reader={id}")
}

/// Every public output that could carry the story, by path.
fn outputs(story: &bulletin_core::Story) -> Vec<String> {
    let url = story.url();
    let mut paths = fixed(&url);
    for c in &story.countries {
        paths.push(format!("/country/{}/", c.to_lowercase()));
    }
    for p in &story.dateline.places {
        paths.push(format!("/place/{}/", bulletin_core::slugify(p)));
    }
    paths
}

fn fixed(story: &str) -> Vec<String> {
    [
        story,
        "/",
        "/issue/",
        "/issue/601/",
        "/2023/",
        "/2023/04/",
        "/2023/04/12/",
        "/tag/border-trade/",
        "/feed/",
        "/feed/atom/",
        "/tag/border-trade/feed/",
        "/tag/border-trade/feed/atom/",
        "/issue/601/feed/",
        "/issue/601/feed/atom/",
        "/sitemap.xml",
        "/search?q=lorries",
        "/search?q=quillwort",
        "/search?q=%22marmalade+of+paperwork%22",
        "/api/v1/search?q=lorries",
        "/api/v1/search?q=hornbeam",
        "/api/v1/search?q=zephyrine+permits",
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .collect()
}

/// Whether `text` holds any withheld sentence, or a telling word of one,
/// escaped or not; a word the address itself asked for (a search page shows
/// its query) does not count.
fn leaks(text: &str) -> Option<&'static str> {
    leaks_at(text, "")
}

fn leaks_at(text: &str, path: &str) -> Option<&'static str> {
    let asked = path.to_lowercase();
    let unescaped = text
        .replace("&#x2f;", "/")
        .replace("&#39;", "'")
        .replace("&quot;", "\"");
    let needles = [
        "zephyrine",
        "Quillwort",
        "quillwort",
        "marmalade",
        "hornbeam",
    ];
    WITHHELD
        .iter()
        .copied()
        .find(|s| unescaped.contains(s))
        .or_else(|| {
            needles
                .iter()
                .copied()
                .filter(|n| !asked.contains(&n.to_lowercase()))
                .find(|n| unescaped.contains(n))
        })
}

#[tokio::test]
async fn no_output_shows_paid_text_to_visitors_or_free_subscribers() {
    let site = leak_site().await;
    let story = site
        .store
        .stories(&Default::default())
        .await
        .unwrap()
        .stories[0]
        .clone();
    let free = session(&site, "free@example.org", Plan::Free).await;
    let paid = session(&site, "paid@example.org", Plan::Paid).await;
    let mut checked = 0;
    for cookie in ["", free.as_str(), "bulletin_reader=forged"] {
        for path in outputs(&story) {
            let header = format!("Cookie: {cookie}");
            let headers: Vec<&str> = if cookie.is_empty() {
                vec![]
            } else {
                vec![header.as_str()]
            };
            let reply = request(&site, "GET", &path, &headers).await;
            assert_eq!(reply.status, 200, "{path} ({cookie}): {}", reply.text());
            let body = String::from_utf8_lossy(&reply.body).into_owned();
            assert_eq!(
                leaks_at(&body, &path),
                None,
                "{path} with {cookie:?} leaks: {body}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 3 * outputs(&story).len());

    // The story page does show its lead, and names the paywall for search
    // engines, to everyone.
    let story = story.url();
    assert!(checked > 3 * 20, "{checked}");
    let page = request(&site, "GET", &story, &[]).await.text();
    assert!(page.contains(LEAD));
    assert!(page.contains("\"isAccessibleForFree\":false"), "{page}");
    // A search for a withheld word finds nothing at all: no title, no count.
    let api = request(&site, "GET", "/api/v1/search?q=quillwort", &[])
        .await
        .text();
    let found: serde_json::Value = serde_json::from_str(&api).unwrap();
    assert_eq!(found["total"], 0, "{api}");

    // The paying subscriber's page has it all (and is theirs alone).
    let header = format!("Cookie: {paid}");
    let reply = request(&site, "GET", &story, &[header.as_str()]).await;
    let text = reply.text();
    for sentence in WITHHELD {
        assert!(text.contains(sentence), "{sentence}");
    }
    assert_eq!(reply.header("cache-control"), Some("private, no-store"));
    // ...and after it, a visitor still gets the short page.
    assert_eq!(
        leaks(&request(&site, "GET", &story, &[]).await.text()),
        None
    );
}
