//! Rendered outputs of the corpus, held by `insta` snapshots
//! (`cargo insta review` after a deliberate change of the theme or feeds).
//!
//! The corpus's paragraphs are replaced by placeholders before a snapshot is
//! taken: the snapshots hold our markup, datelines, footers and order, and the
//! project never holds a copy of the archive's sentences.

use bulletin_core::Story;

use super::{corpus, get, import, site};

/// The only part of these outputs that depends on the day the test runs.
fn without_import_day(text: &str) -> String {
    let today = jiff::Timestamp::now().to_string()[..10].to_owned();
    text.replace(
        &format!("<lastmod>{today}</lastmod>"),
        "<lastmod>[import day]</lastmod>",
    )
}

fn escape_minijinja(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

fn escape_feed(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn escape_json(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap();
    quoted[1..quoted.len() - 1]
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Every way a paragraph is written in our outputs.
fn forms(paragraph: &str) -> Vec<String> {
    let mut forms = vec![
        paragraph.to_owned(),
        escape_minijinja(paragraph),
        escape_feed(paragraph),
        escape_xml(paragraph),
        escape_xml(&escape_feed(paragraph)),
        escape_json(paragraph),
    ];
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms
}

/// Replaces each corpus paragraph, and the shortened description made from a
/// lead, by a placeholder naming the story and paragraph.
fn redact(text: &str, stories: &[Story]) -> String {
    let mut out = text.to_owned();
    for story in stories {
        // Long headlines read as sentences too.
        if story.headline.chars().count() > 60 {
            for form in forms(&story.headline) {
                out = out.replace(&form, &format!("[{} headline]", story.slug));
            }
        }
        for (n, paragraph) in story.body.iter().enumerate() {
            let placeholder = format!("[{} ¶{}]", story.slug, n + 1);
            for form in forms(paragraph) {
                out = out.replace(&form, &placeholder);
            }
            // Descriptions: a cut-down lead, always inside content="…".
            let start: String = escape_minijinja(paragraph).chars().take(60).collect();
            while let Some(at) = out.find(&format!("content=\"{start}")) {
                let value = at + "content=\"".len();
                let end = value + out[value..].find('"').unwrap();
                out.replace_range(value..end, &format!("[{} summary]", story.slug));
            }
        }
    }
    out
}

/// Undoes every escaping `forms` knows, to check nothing slipped through.
fn unescaped(text: &str) -> String {
    text.replace("\\u003c", "<")
        .replace("\\u003e", ">")
        .replace("\\u0026", "&")
        .replace("\\\"", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn corpus_pages_feeds_and_sitemap() {
    let Some(text) = corpus() else { return };
    let stories = bulletin_text::read_str(&text).unwrap().stories;
    let site = site(None).await;
    import(site.store.as_ref(), &text).await;
    for (name, path) in [
        ("tag_page", "/tag/political-rights/"),
        (
            "story_page",
            "/2021/07/18/pegasus-spyware-targets-azerbaijani-and-kazakh-opposition/",
        ),
        ("issue_page", "/issue/474/"),
        ("rss_feed", "/feed/"),
        ("atom_feed", "/feed/atom/"),
        ("sitemap", "/sitemap.xml"),
    ] {
        let (status, _, body) = get(&site, path).await;
        assert_eq!(status, 200, "{path}");
        let shown = redact(&without_import_day(&body), &stories);
        // The placeholders stand where the paragraphs were...
        if name != "sitemap" {
            assert!(shown.contains(" ¶1]"), "{name}: {shown}");
        }
        // ...and no sentence of the archive is left, in any escaping.
        let plain = unescaped(&unescaped(&shown));
        for story in &stories {
            for paragraph in &story.body {
                let head: String = paragraph.chars().take(50).collect();
                assert!(
                    head.chars().count() < 50 || !plain.contains(&head),
                    "{name} still holds {head:?}"
                );
            }
        }
        insta::assert_snapshot!(name, shown);
    }
}
