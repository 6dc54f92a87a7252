//! Limits on size, depth and count in every importer: beyond each, the file is
//! refused at `line:column` with the line quoted short; within them, work that
//! grows linearly with the input (allocations counted by
//! `bulletin_test_support::work`, never a clock).

use std::fs;
use std::path::Path;

use bulletin_import::markdown::{self, Error, read_dir};
use bulletin_import::{Diagnostic, Item, Settings, html, wxr};
use bulletin_test_support::work::{assert_linear, measure};
use bulletin_text::limits::MAX_QUOTE;

/// A minimal WordPress export around `items`.
fn export(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" xmlns:wp=\"http://wordpress.org/export/1.2/\">\n\
         <channel>\n\
         <title>Test site</title>\n\
         {items}\
         </channel>\n\
         </rss>\n"
    )
}

/// One published post (its first line is the export's line 5).
fn post(content: &str, extra: &str) -> String {
    format!(
        "<item>\n\
         <title>A post</title>\n\
         <content:encoded><![CDATA[{content}]]></content:encoded>\n\
         <wp:post_id>42</wp:post_id>\n\
         <wp:post_date>2021-07-18 10:00:00</wp:post_date>\n\
         <wp:post_name>a-post</wp:post_name>\n\
         <wp:status>publish</wp:status>\n\
         <wp:post_type>post</wp:post_type>\n\
         {extra}\
         </item>\n"
    )
}

fn read_wxr(text: &str) -> Vec<Result<Item, Diagnostic>> {
    wxr::read("test.xml", text.as_bytes(), &Settings::default()).collect()
}

fn wxr_error(text: &str) -> Diagnostic {
    match read_wxr(text).pop() {
        Some(Err(e)) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn story_tags(items: &[Result<Item, Diagnostic>]) -> Vec<String> {
    items
        .iter()
        .find_map(|i| match i {
            Ok(Item::Story(s)) => Some(s.story.tags.clone()),
            _ => None,
        })
        .expect("a story")
}

/// D7: 100,000 nested `<div>`s (500 KB) in a post took 34 seconds in the
/// sanitiser, then imported. The export is now refused at the body's element,
/// before the sanitiser sees it.
#[test]
fn html_nested_past_the_limit_is_refused_before_it_is_parsed() {
    let body = "<div>".repeat(100_000);
    let text = export(&post(&body, ""));
    let (e, work) = measure(|| wxr_error(&text));
    // `<content:encoded>` opens line 7, at its first column.
    assert_eq!((e.line, e.column), (7, 1), "{}", e.message);
    let tag_at = html::MAX_NESTING * "<div>".len() + 1;
    assert!(
        e.message.contains(&format!(
            "more than {} elements deep (at character {tag_at} ",
            html::MAX_NESTING
        )),
        "{}",
        e.message
    );
    assert!(
        e.source_line.starts_with("<content:encoded>"),
        "{}",
        e.source_line
    );
    assert!(e.source_line.chars().count() <= MAX_QUOTE + 2);
    // No parse tree was built: far fewer allocations than the body's 100,000
    // elements (the reader's own buffers make a few hundred).
    assert!(work.allocations < 10_000, "{work:?}");
    // Directly, the sanitiser is not run on it either.
    let ((paragraphs, warnings), work) = measure(|| html::paragraphs(&body));
    assert!(paragraphs.is_empty());
    assert!(
        warnings[0].contains("nests elements more than"),
        "{warnings:?}"
    );
    assert!(work.allocations < 1_000, "{work:?}");
}

#[test]
fn html_within_the_limit_is_read_in_linear_work() {
    let nested = |depth: usize| {
        format!(
            "{}words{}",
            "<div><blockquote>".repeat(depth / 2),
            "</blockquote></div>".repeat(depth / 2)
        )
    };
    let deepest = html::MAX_NESTING;
    assert_eq!(html::paragraphs(&nested(deepest)).0, ["words"]);
    assert_linear(
        "nested HTML",
        nested(deepest / 2),
        nested(deepest),
        1.25,
        |h| {
            html::paragraphs(&h);
        },
    );
    let siblings = |n: usize| "<p>One <b>two</b> <a href=\"x\">three</a></p>\n".repeat(n);
    assert_linear(
        "sibling paragraphs",
        siblings(500),
        siblings(1000),
        1.25,
        |h| {
            assert!(html::paragraphs(&h).0.len() >= 500);
        },
    );
}

/// D8: a post with 200,000 categories took 40 seconds and 203 MB, since each
/// tag was compared with every tag kept before it. An item may now hold
/// `MAX_ITEM_CATEGORIES` (1,000), and tags are de-duplicated in linear time.
#[test]
fn a_post_with_too_many_categories_is_refused_at_the_first_too_many() {
    let categories: String = (0..200_000)
        .map(|i| format!("<category domain=\"post_tag\" nicename=\"t{i}\">t{i}</category>\n"))
        .collect();
    let text = export(&post("Words.", &categories));
    let e = wxr_error(&text);
    // The item's categories start on line 13, one a line; the 1,001st is refused.
    assert_eq!((e.line, e.column), (13 + 1000, 1), "{}", e.message);
    assert!(
        e.message.contains("more than 1000 categories"),
        "{}",
        e.message
    );
    assert!(
        e.source_line.contains("nicename=\"t1000\""),
        "{}",
        e.source_line
    );
}

#[test]
fn a_posts_tags_are_kept_once_in_first_seen_order_in_linear_work() {
    let categories = |n: usize| -> String {
        // Each tag twice, the second time after all the others.
        (0..n)
            .chain(0..n)
            .map(|i| format!("<category domain=\"post_tag\" nicename=\"t{i}\">T{i}</category>\n"))
            .collect()
    };
    let items = read_wxr(&export(&post("Words.", &categories(3))));
    assert_eq!(story_tags(&items), ["T0", "T1", "T2"]);
    assert_linear(
        "a post's categories",
        export(&post("Words.", &categories(250))),
        export(&post("Words.", &categories(500))),
        1.25,
        |text| {
            let items = read_wxr(&text);
            assert!(story_tags(&items).len() >= 250);
        },
    );
}

#[test]
fn reading_posts_is_linear() {
    let posts = |n: usize| -> String {
        export(
            &(0..n)
                .map(|i| {
                    post(
                        &format!("<p>Post {i}, <em>with</em> words.</p>\n\n<p>Two.</p>"),
                        "",
                    )
                })
                .collect::<String>(),
        )
    };
    assert_linear("posts", posts(100), posts(200), 1.25, |text| {
        assert!(read_wxr(&text).iter().all(Result::is_ok));
    });
}

/// One Markdown page in a fresh folder: what reading the folder gives.
fn read_page(dir: &Path, page: &str) -> Vec<Result<Item, Error>> {
    fs::create_dir_all(dir.join("content")).unwrap();
    fs::write(dir.join("content/page.md"), page).unwrap();
    read_dir(dir, &Settings::default())
        .map(|r| r.map(|(_, item)| item))
        .collect()
}

fn page_error(page: &str) -> Diagnostic {
    let tmp = tempfile::tempdir().unwrap();
    let items = read_page(tmp.path(), page);
    match items.into_iter().find_map(Result::err) {
        Some(Error::Parse { diagnostic, .. }) => diagnostic,
        other => panic!("expected a parse error, got {other:?}"),
    }
}

/// D9: YAML front matter nested 100,000 deep (200 KB) took 42 seconds in the
/// YAML parser, and then imported. It is now refused where it passes
/// `MAX_NESTING`, before the parser sees it.
#[test]
fn yaml_nested_past_the_limit_is_refused_before_it_is_parsed() {
    let limit = markdown::limits::MAX_NESTING;
    let deep = format!(
        "---\ntitle: Deep\nextra: {}{}\n---\nWords.\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let e = page_error(&deep);
    // Line 3 is `extra: [[[...`; the top mapping is one level, so the bracket
    // that passes the limit is the limit-th, after `extra: `.
    assert_eq!(
        (e.line, e.column),
        (3, ("extra: ".len() + limit) as u64),
        "{}",
        e.message
    );
    assert!(
        e.message.contains(&format!("more than {limit} deep")),
        "{}",
        e.message
    );
    assert!(e.source_line.chars().count() <= MAX_QUOTE + 2);
    // Block nesting, one `- ` a level on one line, is refused the same way.
    let compact = format!(
        "---\ntitle: Deep\nextra:\n  {}x\n---\nWords.\n",
        "- ".repeat(100_000)
    );
    let e = page_error(&compact);
    assert_eq!(e.line, 4, "{}", e.message);
}

#[test]
fn reading_front_matter_is_linear() {
    let yaml = |n: usize| -> String {
        let keys: String = (0..n).map(|i| format!("k{i}: [a, {{b: c}}]\n")).collect();
        format!("---\ntitle: T\ndate: 2021-07-18\n{keys}---\nWords.\n")
    };
    let toml = |n: usize| -> String {
        let keys: String = (0..n)
            .map(|i| format!("k{i} = [\"a\", {{ b = \"c\" }}]\n"))
            .collect();
        format!("+++\ntitle = \"T\"\ndate = 2021-07-18\n{keys}+++\nWords.\n")
    };
    let tmp = tempfile::tempdir().unwrap();
    let run = |page: String| {
        let items = read_page(tmp.path(), &page);
        assert!(items.iter().all(Result::is_ok), "{items:?}");
    };
    assert_linear("YAML keys", yaml(1000), yaml(2000), 1.25, run);
    assert_linear("TOML keys", toml(1000), toml(2000), 1.25, run);
}

/// D10: a Markdown file had no size limit (a 60 MB TOML front matter peaked at
/// 513 MB), and an error repeated its 20 MB line whole. Files past `MAX_FILE`
/// are now refused unread, front matter past `MAX_FRONT_MATTER` is refused at
/// its line, and quotes are short.
#[test]
fn oversized_markdown_is_refused_and_quoted_short() {
    let limits = (
        markdown::limits::MAX_FILE,
        markdown::limits::MAX_FRONT_MATTER,
    );
    // A file one byte over the limit: refused at its start, nothing parsed.
    let over = format!("+++\ntitle = \"{}\"\n+++\n", "x".repeat(limits.0 as usize));
    let (e, work) = measure(|| page_error(&over));
    assert_eq!((e.line, e.column), (1, 1));
    assert!(e.message.contains("larger than 16 MiB"), "{}", e.message);
    // Neither read nor parsed.
    assert!(work.peak < limits.0 / 4, "{work:?}");
    // A 10 MB line in front matter: refused at the line after it, where the
    // front matter is past its limit; every quote short.
    let long = format!(
        "+++\ntitle = \"{}\"\nslug = \"s\"\n+++\nWords.\n",
        "y".repeat(10 << 20)
    );
    let e = page_error(&long);
    assert_eq!((e.line, e.column), (3, 1), "{}", e.message);
    assert!(e.message.contains("longer than 1024 KiB"), "{}", e.message);
    assert_eq!(e.source_line, "slug = \"s\"");
    // A TOML error on a 5 MB line (within the file limit, front matter limit
    // aside): the quote is an excerpt around the column.
    let bad = format!("title = \"{}\" junk\n", "z".repeat(5 << 20));
    let e = markdown_toml_error(&bad);
    assert!(
        e.source_line.chars().count() <= MAX_QUOTE + 2,
        "{}",
        e.source_line.len()
    );
    assert!(e.source_line.contains("junk"), "{}", e.source_line);
    let shown = e.display("page.md").to_string();
    assert!(
        shown.len() < 4 * MAX_QUOTE + 200,
        "{} bytes shown",
        shown.len()
    );
}

/// A site configuration (`hugo.toml`) in a fresh folder, read: its error.
fn markdown_toml_error(config: &str) -> Diagnostic {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("content")).unwrap();
    fs::write(tmp.path().join("hugo.toml"), config).unwrap();
    let items: Vec<_> = read_dir(tmp.path(), &Settings::default()).collect();
    match items.into_iter().find_map(Result::err) {
        Some(Error::Parse { diagnostic, .. }) => diagnostic,
        other => panic!("expected a parse error, got {other:?}"),
    }
}
