//! Every item of an input is accounted for: the report's stories and items not
//! imported add up to the items the input holds, counted here by a scan of the
//! input's own (not by the reader under test). And no item is lost on the way:
//! posts without text are kept, and posts that share a slug and a day stay apart.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use bulletin_import::{ImportedStory, Item, Report, Settings, markdown, wxr};

/// What the scan sees of one `<item>`.
#[derive(Debug, Default)]
struct Scanned {
    post_type: String,
    status: String,
    password: bool,
}

/// The text of an element's value, without a CDATA wrapper.
fn value(raw: &str) -> String {
    let raw = raw.trim();
    raw.strip_prefix("<![CDATA[")
        .and_then(|r| r.strip_suffix("]]>"))
        .unwrap_or(raw)
        .trim()
        .to_owned()
}

/// The `<item>`s of a WordPress export, by a scan that knows only this much XML:
/// CDATA sections and comments hold no markup, an item is `<item>` to `</item>`,
/// and `<wp:post_type>`, `<wp:status>` and `<wp:post_password>` are its fields.
fn scan_items(xml: &str) -> Vec<Scanned> {
    let mut items = Vec::new();
    let mut current: Option<Scanned> = None;
    let mut at = 0;
    while let Some(offset) = xml[at..].find('<') {
        at += offset;
        let rest = &xml[at..];
        let skip_to = |end: &str| rest.find(end).map_or(xml.len(), |i| at + i + end.len());
        if rest.starts_with("<![CDATA[") {
            at = skip_to("]]>");
            continue;
        }
        if rest.starts_with("<!--") {
            at = skip_to("-->");
            continue;
        }
        if rest.starts_with("<item>") || rest.starts_with("<item ") {
            current = Some(Scanned::default());
        } else if rest.starts_with("</item>") {
            items.extend(current.take());
        } else if let Some(item) = current.as_mut() {
            for (name, field) in [
                ("wp:post_type", 0),
                ("wp:status", 1),
                ("wp:post_password", 2),
            ] {
                let open = format!("<{name}>");
                let close = format!("</{name}>");
                if let Some(after) = rest.strip_prefix(open.as_str()) {
                    let end = after.find(close.as_str()).expect("the field is closed");
                    let v = value(&after[..end]);
                    match field {
                        0 => item.post_type = v,
                        1 => item.status = v,
                        _ => item.password = !v.is_empty(),
                    }
                    at += open.len() + end;
                }
            }
        }
        at += 1;
    }
    items
}

fn report_of(items: &[Item]) -> Report {
    let mut report = Report::default();
    for item in items {
        report.record(item);
    }
    report
}

fn skipped(report: &Report, kind: &str) -> u64 {
    report.skipped.get(kind).map_or(0, |(n, _)| *n)
}

/// Checks the report of an export against the scan of its text.
fn check_wxr_accounts(name: &str, xml: &str) -> Report {
    let items: Vec<Item> = wxr::read(name, xml.as_bytes(), &Settings::default())
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}", e.display(name)));
    let report = report_of(&items);
    let scanned = scan_items(xml);
    assert_eq!(
        report.items,
        scanned.len() as u64,
        "{name}: items\n{report}"
    );

    let mut by_type: BTreeMap<&str, u64> = BTreeMap::new();
    for item in &scanned {
        *by_type.entry(item.post_type.as_str()).or_default() += 1;
    }
    for (post_type, n) in &by_type {
        let accounted = match *post_type {
            // Posts are stories (public or drafts), or not imported under their
            // status (trash, auto-draft) or as posts, with a reason.
            "post" => {
                report.story_count()
                    + skipped(&report, "post")
                    + skipped(&report, "trash")
                    + skipped(&report, "auto-draft")
            }
            "" => skipped(&report, "item"),
            other => skipped(&report, other),
        };
        assert_eq!(
            accounted, *n,
            "{name}: items of type {post_type:?}\n{report}"
        );
    }
    // Published posts are public stories unless a password keeps them private.
    if skipped(&report, "post") == 0 {
        let public = scanned
            .iter()
            .filter(|i| i.post_type == "post" && i.status == "publish" && !i.password)
            .count() as u64;
        assert_eq!(report.public_count(), public, "{name}: public\n{report}");
    }
    // The report says it in words, and the words add up too.
    let shown = report.to_string();
    let line = format!(
        "items read: {} ({} public, {} kept as drafts, {} not imported)",
        scanned.len(),
        report.public_count(),
        report.story_count() - report.public_count(),
        report.items_not_imported
    );
    assert!(shown.contains(&line), "{name}: {shown}");
    assert_eq!(
        report.story_count() + report.items_not_imported,
        scanned.len() as u64
    );
    report
}

/// Every `.xml` file under `dir`, at any depth.
fn xml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            xml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "xml") {
            out.push(path);
        }
    }
}

#[test]
fn every_item_of_every_wordpress_fixture_is_accounted_for() {
    let Some(fixtures) = bulletin_test_support::shared("fixtures") else {
        return;
    };
    let mut files = Vec::new();
    xml_files(&fixtures, &mut files);
    assert!(
        !files.is_empty(),
        "no WordPress export under {}",
        fixtures.display()
    );
    for file in files {
        let xml = fs::read_to_string(&file).unwrap();
        check_wxr_accounts(&file.display().to_string(), &xml);
    }
}

#[test]
fn every_item_of_a_generated_export_is_accounted_for() {
    let mut bytes = Vec::new();
    wxr::synth::generate(300, 3, &mut bytes).unwrap();
    check_wxr_accounts("generated.xml", &String::from_utf8(bytes).unwrap());
}

/// The scan itself: what it counts in a small export written here.
#[test]
fn the_scan_counts_items_and_not_what_their_text_says() {
    let xml = export(&format!(
        "{}<item><title>A page</title><wp:post_type>page</wp:post_type>\
         <content:encoded><![CDATA[<item>not an item</item>]]></content:encoded></item>\n\
         <!-- <item></item> -->",
        post(7, "Seven", "seven", "2024-03-01", "<p>Text.</p>")
    ));
    let scanned = scan_items(&xml);
    assert_eq!(scanned.len(), 2);
    assert_eq!(
        (scanned[0].post_type.as_str(), scanned[0].status.as_str()),
        ("post", "publish")
    );
    assert_eq!(scanned[1].post_type, "page");
}

/// A WordPress export around `items`.
fn export(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <rss version=\"2.0\" xmlns:excerpt=\"http://wordpress.org/export/1.2/excerpt/\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:wp=\"http://wordpress.org/export/1.2/\">\n<channel>\n<title>Old site</title>\n\
         <link>https://Old.Example/</link>\n{items}</channel>\n</rss>\n"
    )
}

/// One published post (one without a name has WordPress's plain link).
fn post(id: u32, title: &str, name: &str, date: &str, content: &str) -> String {
    let link = if name.is_empty() {
        format!("https://old.example/?p={id}")
    } else {
        format!("https://old.example/{name}/")
    };
    format!(
        "<item>\n<title><![CDATA[{title}]]></title>\n\
         <link>{link}</link>\n\
         <content:encoded><![CDATA[{content}]]></content:encoded>\n\
         <excerpt:encoded><![CDATA[]]></excerpt:encoded>\n\
         <wp:post_id>{id}</wp:post_id>\n\
         <wp:post_date><![CDATA[{date} 09:00:00]]></wp:post_date>\n\
         <wp:post_date_gmt><![CDATA[{date} 09:00:00]]></wp:post_date_gmt>\n\
         <wp:post_name><![CDATA[{name}]]></wp:post_name>\n\
         <wp:status><![CDATA[publish]]></wp:status>\n\
         <wp:post_type><![CDATA[post]]></wp:post_type>\n\
         <wp:post_password><![CDATA[]]></wp:post_password>\n</item>\n"
    )
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

fn read(xml: &str) -> Vec<Item> {
    wxr::read("test.xml", xml.as_bytes(), &Settings::default())
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}", e.display("test.xml")))
}

#[test]
fn posts_without_text_are_kept_with_a_warning() {
    let xml = export(&format!(
        "{}{}{}{}",
        post(11, "Only a title", "only-a-title", "2024-03-01", ""),
        post(
            12,
            "Only a picture",
            "only-a-picture",
            "2024-03-02",
            "<a href=\"x.jpg\"><img src=\"x.jpg\" alt=\"\"></a>&nbsp;"
        ),
        post(
            13,
            "Only a film",
            "only-a-film",
            "2024-03-03",
            "[embed]https://video.example/1[/embed]"
        ),
        post(14, "", "", "2024-03-04", "<p> </p>"),
    ));
    let items = read(&xml);
    let report = check_wxr_accounts("test.xml", &xml);
    assert_eq!(report.public_count(), 4, "{report}");
    assert_eq!(report.items_not_imported, 0, "{report}");
    let kept: Vec<(&str, &str, Vec<&str>, Vec<&str>)> = stories(&items)
        .iter()
        .map(|s| {
            (
                s.story.headline.as_str(),
                s.story.slug.as_str(),
                s.story.body.iter().map(String::as_str).collect(),
                s.old_paths.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        [
            // The dated address is the new URL: not an old one.
            (
                "Only a title",
                "only-a-title",
                vec!["[no text]"],
                vec!["/only-a-title/", "/?p=11"]
            ),
            (
                "Only a picture",
                "only-a-picture",
                vec!["[image left out]"],
                vec!["/only-a-picture/", "/?p=12"]
            ),
            (
                "Only a film",
                "only-a-film",
                vec!["[media left out]"],
                vec!["/only-a-film/", "/?p=13"]
            ),
            (
                "Untitled (2024-03-04)",
                "untitled-2024-03-04",
                vec!["[no text]"],
                vec!["/?p=14"]
            ),
        ]
    );
    let warnings: Vec<&str> = items
        .iter()
        .filter_map(|i| match i {
            Item::Warning(d) if d.message.contains("it has no text") => Some(d.message.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 4, "{warnings:#?}");
    assert_eq!(
        warnings[1],
        "the post “Only a picture”: it has no text; it is kept, with “[image left out]” as its only paragraph"
    );
}

#[test]
fn two_posts_of_one_slug_and_day_are_two_items() {
    let xml = export(&format!(
        "{}{}",
        post(
            1,
            "Morning",
            "same-slug",
            "2024-03-01",
            "<p>The morning's text.</p>"
        ),
        post(
            2,
            "Evening",
            "same-slug",
            "2024-03-01",
            "<p>The evening's text.</p>"
        ),
    ));
    let items = read(&xml);
    check_wxr_accounts("test.xml", &xml);
    let found: Vec<(&str, Option<&str>, &str)> = stories(&items)
        .iter()
        .map(|s| {
            (
                s.story.slug.as_str(),
                s.source.as_deref(),
                s.story.body[0].as_str(),
            )
        })
        .collect();
    // Each with its source's identity (the site without its scheme, in lowercase):
    // the store tells them apart by it.
    assert_eq!(
        found,
        [
            (
                "same-slug",
                Some("wordpress old.example/?p=1"),
                "The morning's text."
            ),
            (
                "same-slug",
                Some("wordpress old.example/?p=2"),
                "The evening's text."
            ),
        ]
    );
}

/// Writes `files` (path → text) under a new folder.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = tmp.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    tmp
}

/// The pages of a content folder as Hugo sees them: every `.md` or `.markdown`
/// file, except the other files of a leaf bundle (a folder with an `index.md`),
/// which are its resources.
fn count_pages(dir: &Path) -> u64 {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            dirs.push(path);
        } else if path
            .extension()
            .is_some_and(|e| e == "md" || e == "markdown")
        {
            files.push(path);
        }
    }
    if files
        .iter()
        .any(|f| f.file_name().is_some_and(|n| n == "index.md"))
    {
        return 1;
    }
    files.len() as u64 + dirs.iter().map(|d| count_pages(d)).sum::<u64>()
}

#[test]
fn every_file_of_a_markdown_folder_is_accounted_for() {
    let tmp = folder(&[
        (
            "hugo.toml",
            "baseURL = 'https://old.example/'\ntitle = 'Old'\n",
        ),
        ("content/_index.md", "+++\ntitle = 'Home'\n+++\n"),
        ("content/posts/_index.md", "---\ntitle: Posts\n---\n"),
        (
            "content/posts/words.md",
            "---\ntitle: Words\ndate: 2024-03-01\n---\nSome words.\n",
        ),
        (
            "content/posts/title-only.md",
            "---\ntitle: Title only\ndate: 2024-03-01\n---\n",
        ),
        (
            "content/posts/picture.md",
            "---\ntitle: Picture\ndate: 2024-03-02\n---\n![a view](view.jpg)\n",
        ),
        (
            "content/posts/same-slug.md",
            "---\ntitle: Morning\ndate: 2024-03-01\nslug: words\n---\nThe morning's text.\n",
        ),
        (
            "content/posts/draft.markdown",
            "---\ntitle: Draft\ndate: 2024-03-03\ndraft: true\n---\n",
        ),
        (
            "content/posts/bundle/index.md",
            "---\ntitle: Bundle\ndate: 2024-03-04\n---\nIn a bundle.\n",
        ),
        ("content/posts/bundle/notes.md", "a resource, not a page\n"),
        ("content/notes/README.md", "No front matter.\n"),
        ("content/notes/other.txt", "Not Markdown.\n"),
    ]);
    let mut items = Vec::new();
    for found in markdown::read_dir(tmp.path(), &Settings::default()) {
        let (_, item) = found.unwrap_or_else(|e| panic!("{e}"));
        items.push(item);
    }
    let report = report_of(&items);
    let pages = count_pages(&tmp.path().join("content"));
    assert_eq!(pages, 9);
    assert_eq!(report.items, pages, "{report}");
    assert_eq!(report.story_count() + report.items_not_imported, pages);
    assert_eq!(report.public_count(), 5, "{report}");
    assert_eq!(report.story_count(), 6, "{report}");
    // The empty pages are kept, saying what was left out.
    let bodies: BTreeMap<&str, (&str, &str)> = stories(&items)
        .iter()
        .map(|s| {
            (
                s.title.as_str(),
                (s.story.body[0].as_str(), s.source.as_deref().unwrap_or("")),
            )
        })
        .collect();
    assert_eq!(
        bodies["Title only"],
        ("[no text]", "markdown posts/title-only.md")
    );
    assert_eq!(
        bodies["Picture"],
        ("[image left out]", "markdown posts/picture.md")
    );
    assert_eq!(
        bodies["Draft"],
        ("[no text]", "markdown posts/draft.markdown")
    );
    // Two pages of one slug and day: two items, each with its own file.
    assert_eq!(bodies["Words"].1, "markdown posts/words.md");
    assert_eq!(bodies["Morning"].1, "markdown posts/same-slug.md");
}
