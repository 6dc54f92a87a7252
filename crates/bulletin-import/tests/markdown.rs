//! Hugo and Zola folders: bulletin's export read back exactly, hand-written sites
//! read right, errors placed right, paragraphs escaped losslessly, and Hugo
//! building an export.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use bulletin_core::{Access, Copyright, Date, Dateline, IssueRef, Story, unique_slug};
use bulletin_import::markdown::{
    self, Error, Flavor, SiteInfo, escape_paragraph, plain_paragraphs, read_dir, write_site,
};
use bulletin_import::{ImportedStory, Item, PostStatus, Settings};
use bulletin_test_support::shared;
use jiff::civil::date;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

const HOLDER: &str = "Central Asia & South Caucasus Bulletin";

#[allow(clippy::too_many_arguments)]
fn story(
    slug: &str,
    headline: &str,
    places: &[&str],
    on: Date,
    year_inferred: bool,
    body: &[&str],
    tags: &[&str],
    countries: &[&str],
    issue: Option<IssueRef>,
    first_published: bool,
    access: Access,
) -> Story {
    Story {
        slug: slug.into(),
        headline: headline.into(),
        dateline: Dateline {
            places: places.iter().map(|p| p.to_string()).collect(),
            date: on,
            year_inferred,
            credit: "The Bulletin".into(),
        },
        body: body.iter().map(|p| p.to_string()).collect(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        countries: countries.iter().map(|c| c.to_string()).collect(),
        issue,
        first_published,
        copyright: Copyright {
            holder: HOLDER.into(),
            year: on.year(),
        },
        access,
    }
}

/// Varied stories, in words written for these tests.
fn stories() -> Vec<Story> {
    vec![
        story(
            "pipeline-talks-resume-in-baku-and-almaty",
            "Pipeline talks resume in Baku and Almaty",
            &["Baku", "Almaty"],
            date(2021, 7, 18),
            false,
            &[
                "Negotiators from both capitals met again on Sunday & agreed to keep talking.",
                "A second round is planned for the autumn, officials said.",
            ],
            &["political rights", "energy"],
            &["AZ", "KZ"],
            Some(IssueRef {
                number: 493,
                date: Some(date(2021, 7, 22)),
            }),
            false,
            Access::Public,
        ),
        story(
            "minister-says-no-to-reform-plans",
            "Minister says \"no\" to 'reform' plans",
            &[],
            date(2020, 12, 30),
            true,
            &[
                "The minister rejected the draft in a short statement.",
                "*Not* emphasis, _nor_ this, [not a link](http://example.com), `no code`, \
                 <b>no tag</b>, AT&T &amp; {{< no shortcode >}} {% end %} | pipes | ~~no strike~~.",
                "1. Not a list item",
                "# Not a heading",
                "- Not a bullet, > not a quote, + not either",
                "Ends with a backslash \\",
            ],
            &["права человека", "Kəlbəcər region"],
            &["KZ"],
            Some(IssueRef {
                number: 471,
                date: Some(date(2021, 1, 5)),
            }),
            true,
            Access::Public,
        ),
        story(
            "court-jails-blogger",
            "Court jails blogger",
            &["Dushanbe"],
            date(2019, 3, 2),
            false,
            &[
                "A court sentenced a blogger to five years on Tuesday.",
                "The rest of the story is for subscribers only.",
                "Another paragraph\twith a tab and  two spaces.",
            ],
            &[],
            &["TJ"],
            Some(IssueRef {
                number: 48,
                date: None,
            }),
            false,
            Access::Subscribers,
        ),
        story(
            "no-issue-no-tags",
            "No issue, no tags",
            &["Tbilisi"],
            date(2022, 2, 28),
            false,
            &["A story that was never in an issue."],
            &[],
            &["GE"],
            None,
            false,
            Access::Public,
        ),
    ]
}

fn site() -> SiteInfo {
    SiteInfo {
        title: "Example \"Bulletin\" & Co".into(),
        base_url: "https://bulletin.example.org/".into(),
        language: None,
    }
}

fn export(dir: &Path, flavor: Flavor, stories: &[Story]) {
    let mut writer = write_site(dir, flavor, &site()).unwrap();
    for s in stories {
        writer.write_story(s).unwrap();
    }
    assert_eq!(writer.finish().unwrap(), stories.len() as u64);
}

/// Everything read from `dir`: the stories, and the other items.
fn read_all(dir: &Path) -> (Vec<ImportedStory>, Vec<Item>) {
    read_all_with(dir, &Settings::default())
}

fn read_all_with(dir: &Path, settings: &Settings) -> (Vec<ImportedStory>, Vec<Item>) {
    let mut stories = Vec::new();
    let mut other = Vec::new();
    for found in read_dir(dir, settings) {
        match found {
            Ok((_, Item::Story(s))) => stories.push(*s),
            Ok((_, item)) => other.push(item),
            Err(e) => panic!("{e}"),
        }
    }
    (stories, other)
}

fn sorted(mut v: Vec<Story>) -> Vec<Story> {
    v.sort_by(|a, b| a.slug.cmp(&b.slug));
    v
}

fn round_trip(flavor: Flavor, stories: &[Story]) {
    let tmp = tempfile::tempdir().unwrap();
    export(tmp.path(), flavor, stories);
    // Dates are written as dates, so a publication far west of UTC reads the
    // same days back.
    let settings = Settings {
        time_zone: jiff::tz::TimeZone::fixed(jiff::tz::offset(-10)),
        ..Settings::default()
    };
    let (read, other) = read_all_with(tmp.path(), &settings);
    for s in &read {
        assert_eq!(s.status, PostStatus::Published, "{}", s.title);
        assert_eq!(s.old_paths, Vec::<String>::new(), "{}", s.title);
        assert_eq!(s.title, s.story.headline);
    }
    let read: Vec<Story> = read.into_iter().map(|s| s.story).collect();
    assert_eq!(sorted(read), sorted(stories.to_vec()));
    assert!(other.contains(&Item::Site {
        title: site().title,
        url: site().base_url,
    }));
    assert!(
        other.iter().all(|i| match i {
            Item::Site { .. } => true,
            Item::Skipped { kind, .. } => kind == "section",
            _ => false,
        }),
        "{other:?}"
    );
}

#[test]
fn hugo_export_reads_back_the_same_stories() {
    round_trip(Flavor::Hugo, &stories());
    // Read from its content folder, without the site's permalink rules, an
    // export still gives no old addresses.
    let tmp = tempfile::tempdir().unwrap();
    export(tmp.path(), Flavor::Hugo, &stories());
    let (read, _) = read_all(&tmp.path().join("content"));
    assert_eq!(read.len(), stories().len());
    assert!(read.iter().all(|s| s.old_paths.is_empty()), "{read:#?}");
}

#[test]
fn zola_export_reads_back_the_same_stories() {
    round_trip(Flavor::Zola, &stories());
}

#[test]
fn hugo_front_matter_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    export(tmp.path(), Flavor::Hugo, &stories()[..1]);
    let text = fs::read_to_string(
        tmp.path()
            .join("content/posts/2021/pipeline-talks-resume-in-baku-and-almaty.md"),
    )
    .unwrap();
    assert!(
        text.starts_with(
            "+++\ntitle = \"Pipeline talks resume in Baku and Almaty\"\ndate = 2021-07-18\nslug = "
        ),
        "{text}"
    );
    assert!(
        text.contains("\n[bulletin]\nplaces = [\"Baku\", \"Almaty\"]\n"),
        "{text}"
    );
    assert!(
        text.contains("issue = 493\nissue_date = 2021-07-22\n"),
        "{text}"
    );
    assert!(
        text.contains("dateline_caps = \"BAKU/ALMATY/JULY 18 2021\""),
        "{text}"
    );
    assert!(text.contains("+++\n\nNegotiators from both capitals met again on Sunday & agreed to keep talking.\n\nA second round"), "{text}");
    let config = fs::read_to_string(tmp.path().join("hugo.toml")).unwrap();
    assert!(
        config.contains("posts = \"/:year/:month/:day/:slug/\""),
        "{config}"
    );
}

#[test]
fn zola_front_matter_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    export(tmp.path(), Flavor::Zola, &stories()[..1]);
    let text = fs::read_to_string(
        tmp.path()
            .join("content/posts/2021/pipeline-talks-resume-in-baku-and-almaty.md"),
    )
    .unwrap();
    assert!(
        text.contains("\npath = \"2021/07/18/pipeline-talks-resume-in-baku-and-almaty/\"\n"),
        "{text}"
    );
    assert!(
        text.contains("\n[taxonomies]\ntags = [\"political rights\", \"energy\"]\n"),
        "{text}"
    );
    assert!(text.contains("\n[extra.bulletin]\n"), "{text}");
    let year = fs::read_to_string(tmp.path().join("content/posts/2021/_index.md")).unwrap();
    assert!(year.contains("transparent = true"), "{year}");
    let config = fs::read_to_string(tmp.path().join("config.toml")).unwrap();
    assert!(
        config.contains("base_url = \"https://bulletin.example.org/\""),
        "{config}"
    );
    assert!(fs::metadata(tmp.path().join("templates/tags/single.html")).is_ok());
}

#[test]
fn writer_refuses_a_slug_twice_and_invalid_stories() {
    let tmp = tempfile::tempdir().unwrap();
    let mut writer = write_site(tmp.path(), Flavor::Hugo, &site()).unwrap();
    let s = &stories()[0];
    writer.write_story(s).unwrap();
    let again = writer.write_story(s).unwrap_err();
    assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
    let mut bad = stories()[1].clone();
    bad.slug = "../escape".into();
    assert_eq!(
        writer.write_story(&bad).unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
    assert!(!tmp.path().join("content/escape.md").exists());
}

#[test]
fn corpus_stories_round_trip_through_both_flavors() {
    let Some(path) = shared("corpus/tag-archive-political-rights.txt") else {
        return;
    };
    let text = fs::read_to_string(path).unwrap();
    let doc = bulletin_text::read_str(&text).unwrap();
    assert!(doc.stories.len() > 5);
    // The archive page may repeat a headline; an export needs slugs once each.
    let mut taken = HashSet::new();
    let stories: Vec<Story> = doc
        .stories
        .into_iter()
        .map(|mut s| {
            s.slug = unique_slug(&s.slug, |c| taken.contains(c));
            taken.insert(s.slug.clone());
            s
        })
        .collect();
    round_trip(Flavor::Hugo, &stories);
    round_trip(Flavor::Zola, &stories);
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

fn one(stories: &[ImportedStory], slug: &str) -> ImportedStory {
    stories
        .iter()
        .find(|s| s.story.slug == slug)
        .unwrap_or_else(|| panic!("no story {slug} in {stories:#?}"))
        .clone()
}

#[test]
fn hand_written_hugo_site() {
    let tmp = folder(&[
        (
            "hugo.toml",
            "baseURL = 'https://old.example.com/'\ntitle = 'Old Site'\n\
             [permalinks]\nnews = '/:year/:month/:title/'\n",
        ),
        ("content/_index.md", "+++\ntitle = 'Home'\n+++\n"),
        ("content/posts/_index.md", "---\ntitle: Posts\n---\n"),
        (
            "content/posts/first-post.md",
            "+++\ntitle = \"Strike in the oil fields\"\ndate = 2021-07-18T23:30:00Z\n\
             tags = [\"labour\", \"oil\"]\ncategories = [\"Kazakhstan\"]\n\
             aliases = [\"/old/strike.html\", \"strike-old\"]\n\
             unknown_key = { nested = true }\n+++\n\
             Workers in Zhanaozen *stopped* work on Monday,\nsaid [the union](http://x).\n\n\
             ![photo](strike.jpg)\n\n## What next\n\n- talks\n- more talks\n",
        ),
        (
            "content/posts/draft.md",
            "---\ntitle: A draft\ndate: 2021-07-19\ndraft: true\nslug: Custom Slug\n---\nText.\n",
        ),
        (
            "content/posts/later.md",
            "---\nTitle: Later\npublishDate: 2999-01-01T00:00:00Z\ndate: \"2021-07-20 10:00:00\"\n---\nSoon.\n",
        ),
        (
            "content/posts/gone.md",
            "+++\ntitle = \"Gone\"\ndate = 2021-07-21\nexpiryDate = 2021-08-01\n+++\nExpired.\n",
        ),
        (
            "content/posts/bundle-name/index.md",
            "---\ntitle: Bundled\ndate: 2021-07-22\n---\nIn a bundle.\n",
        ),
        (
            "content/posts/bundle-name/other.md",
            "not a page: a resource\n",
        ),
        ("content/posts/bundle-name/photo.jpg", "JPEG"),
        (
            "content/news/item.md",
            "+++\ntitle = \"A news item\"\ndate = 2021-06-01\nurl = \"/custom/address/\"\n+++\nItem.\n",
        ),
        (
            "content/news/dated.md",
            "+++\ntitle = \"Dated News\"\ndate = 2021-06-02\naliases = [\"older\"]\n+++\nItem.\n",
        ),
        ("content/README.md", "Just notes, no front matter.\n"),
    ]);
    let (stories, other) = read_all(tmp.path());
    assert_eq!(
        other[0],
        Item::Site {
            title: "Old Site".into(),
            url: "https://old.example.com/".into()
        }
    );
    let sections = other
        .iter()
        .filter(|i| matches!(i, Item::Skipped { kind, .. } if kind == "section"))
        .count();
    assert_eq!(sections, 2, "{other:#?}");
    assert!(other.iter().any(
        |i| matches!(i, Item::Skipped { kind, title, .. } if kind == "file" && title == "README.md")
    ));
    assert!(other.iter().any(
        |i| matches!(i, Item::Warning(d) if d.message.contains("1 image left out") && d.line == 9)
    ), "{other:#?}");
    assert_eq!(stories.len(), 7, "{stories:#?}");

    let first = one(&stories, "first-post");
    assert_eq!(first.status, PostStatus::Published);
    assert_eq!(first.story.headline, "Strike in the oil fields");
    assert_eq!(first.story.dateline.date, date(2021, 7, 18));
    assert_eq!(first.story.tags, ["labour", "oil", "Kazakhstan"]);
    assert_eq!(
        first.story.body,
        [
            "Workers in Zhanaozen stopped work on Monday, said the union.",
            "What next",
            "talks",
            "more talks"
        ]
    );
    assert_eq!(
        first.old_paths,
        [
            "/old/strike.html",
            "/posts/strike-old/",
            "/posts/first-post/"
        ]
    );

    let draft = one(&stories, "custom-slug");
    assert_eq!(draft.status, PostStatus::Draft);
    assert_eq!(draft.old_paths, ["/posts/custom-slug/"]);

    let later = one(&stories, "later");
    assert!(
        matches!(later.status, PostStatus::Scheduled(at) if at.to_string() == "2999-01-01T00:00:00Z")
    );
    assert_eq!(later.story.dateline.date, date(2021, 7, 20));

    assert_eq!(one(&stories, "gone").status, PostStatus::Private);

    let bundled = one(&stories, "bundle-name");
    assert_eq!(bundled.story.body, ["In a bundle."]);
    assert_eq!(bundled.old_paths, ["/posts/bundle-name/"]);

    assert_eq!(one(&stories, "item").old_paths, ["/custom/address/"]);
    // A relative alias is a sibling of the page's own address.
    assert_eq!(
        one(&stories, "dated").old_paths,
        ["/2021/06/older/", "/2021/06/dated-news/"]
    );
}

#[test]
fn a_content_folder_without_a_site() {
    let tmp = folder(&[
        (
            "posts/hugo-style.md",
            "---\ntitle: Hugo style\ndate: 2021-07-18\ntags: [a, 2021, true]\n---\nText.\n",
        ),
        (
            "posts/zola-style.md",
            "+++\ntitle = \"Zola style\"\ndate = 2021-07-18\n[taxonomies]\ntags = [\"b\"]\n+++\nText.\n",
        ),
        ("posts/photo.png", "PNG"),
    ]);
    let (stories, other) = read_all(tmp.path());
    assert_eq!(other, []);
    let hugo = one(&stories, "hugo-style");
    assert_eq!(hugo.story.tags, ["a", "2021", "true"]);
    assert_eq!(hugo.old_paths, ["/posts/hugo-style/"]);
    let zola = one(&stories, "zola-style");
    assert_eq!(zola.story.tags, ["b"]);
    assert_eq!(zola.old_paths, ["/posts/zola-style/"]);
    // Missing folders are errors naming the folder.
    let missing = read_dir(&tmp.path().join("nowhere"), &Settings::default())
        .next()
        .unwrap()
        .unwrap_err();
    assert!(matches!(missing, Error::Io { .. }), "{missing}");
    assert!(missing.path().ends_with("nowhere"));
}

#[test]
fn hand_written_zola_site() {
    let tmp = folder(&[
        (
            "config.toml",
            "base_url = \"https://zola.example.com\"\ntitle = \"Zola Site\"\n\
             taxonomies = [{name = \"tags\"}]\n",
        ),
        (
            "content/blog/_index.md",
            "+++\ntitle = \"Blog\"\nsort_by = \"date\"\n+++\n",
        ),
        (
            "content/blog/2021-07-18-border-reopens.md",
            "+++\ntitle = \"Border reopens\"\naliases = [\"old/border/\"]\n\
             [taxonomies]\ntags = [\"borders\"]\ncategories = [\"Central Asia\"]\n\
             [extra]\ncolour = \"blue\"\n+++\nThe crossing opened at dawn.\n",
        ),
        (
            "content/blog/moved.md",
            "+++\ntitle = \"Moved page\"\ndate = 2021-05-05\nslug = \"moved_Page\"\npath = \"elsewhere/moved\"\n\
             [extra.bulletin]\nplaces = [\"Bishkek\"]\nissue = 480\n+++\nBody here.\n",
        ),
    ]);
    let (stories, other) = read_all(tmp.path());
    assert_eq!(
        other[0],
        Item::Site {
            title: "Zola Site".into(),
            url: "https://zola.example.com".into()
        }
    );
    assert_eq!(stories.len(), 2);
    let border = one(&stories, "border-reopens");
    assert_eq!(border.story.dateline.date, date(2021, 7, 18));
    assert_eq!(border.story.tags, ["borders", "Central Asia"]);
    assert_eq!(border.old_paths, ["/old/border/", "/blog/border-reopens/"]);

    let moved = &stories[1];
    assert_eq!(moved.story.headline, "Moved page");
    // A partial [extra.bulletin] overrides what it gives.
    assert_eq!(moved.story.dateline.places, ["Bishkek"]);
    assert_eq!(moved.story.countries, ["KG"]);
    assert_eq!(
        moved.story.issue,
        Some(IssueRef {
            number: 480,
            date: None
        })
    );
    assert_eq!(moved.old_paths, ["/elsewhere/moved/"]);
}

/// The errors met reading `dir`, as (file name, line, column, quoted line).
fn errors(dir: &Path) -> Vec<(String, u64, u64, String, String)> {
    read_dir(dir, &Settings::default())
        .filter_map(Result::err)
        .map(|e| match e {
            Error::Parse { path, diagnostic } => (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                diagnostic.line,
                diagnostic.column,
                diagnostic.source_line,
                diagnostic.message,
            ),
            Error::Io { path, source } => panic!("{}: {source}", path.display()),
        })
        .collect()
}

#[test]
fn bad_front_matter_is_an_error_at_its_place() {
    let tmp = folder(&[
        (
            "a-toml.md",
            "+++\ntitle = \"Fine\"\ndate = 2021-07-18\ntags = [\"a\", \n+++\nBody.\n",
        ),
        (
            "b-yaml.md",
            "---\ntitle: Fine\ndate: 18 July 2021\n---\nBody.\n",
        ),
        ("c-unclosed.md", "---\ntitle: Never closed\n"),
        (
            "d-type.md",
            "+++\ntitle = \"Fine\"\n\n[bulletin]\naccess = \"everyone\"\n+++\nBody.\n",
        ),
        (
            "e-good.md",
            "+++\ntitle = \"Good\"\ndate = 2021-07-18\n+++\nBody.\n",
        ),
        ("f-latin1.md", "+++\ntitle = \"Caf\u{e9}\"\n+++\n"),
        ("g-story.md", "+++\ntitle = \"No date\"\n+++\nBody.\n"),
    ]);
    // The latin-1 file: é as the single byte 0xE9.
    fs::write(
        tmp.path().join("f-latin1.md"),
        b"+++\ntitle = \"Caf\xe9\"\n+++\n",
    )
    .unwrap();
    let errors = errors(tmp.path());
    let find = |name: &str| {
        errors
            .iter()
            .find(|e| e.0 == name)
            .unwrap_or_else(|| panic!("no error for {name}: {errors:#?}"))
            .clone()
    };
    let toml = find("a-toml.md");
    assert_eq!(toml.1, 4, "{toml:?}");
    assert_eq!(toml.3, "tags = [\"a\", ");
    let yaml = find("b-yaml.md");
    assert_eq!(
        (yaml.1, yaml.2, yaml.3.as_str()),
        (3, 7, "date: 18 July 2021"),
        "{yaml:?}"
    );
    assert!(yaml.4.contains("not a date"), "{yaml:?}");
    let unclosed = find("c-unclosed.md");
    assert_eq!((unclosed.1, unclosed.2, unclosed.3.as_str()), (1, 1, "---"));
    let access = find("d-type.md");
    assert_eq!((access.1, access.2), (5, 10), "{access:?}");
    assert_eq!(access.3, "access = \"everyone\"");
    let latin1 = find("f-latin1.md");
    assert_eq!((latin1.1, latin1.2), (2, 13), "{latin1:?}");
    assert!(latin1.4.contains("not UTF-8"), "{latin1:?}");
    let no_date = find("g-story.md");
    assert_eq!(
        (no_date.1, no_date.3.as_str()),
        (2, "title = \"No date\""),
        "{no_date:?}"
    );
    assert!(no_date.4.contains("no date"), "{no_date:?}");
    assert_eq!(errors.len(), 6, "{errors:#?}");
    // The good file between them was read.
    let (good, _) = {
        let mut good = Vec::new();
        for found in read_dir(tmp.path(), &Settings::default()).flatten() {
            if let (_, Item::Story(s)) = found {
                good.push(s.story.headline.clone());
            }
        }
        (good, ())
    };
    assert_eq!(good, ["Good"]);
    // The message names the file, the position and quotes the line.
    let shown = read_dir(tmp.path(), &Settings::default())
        .find_map(Result::err)
        .unwrap()
        .to_string();
    assert!(shown.contains("a-toml.md:4:"), "{shown}");
    assert!(shown.contains("tags = [\"a\", "), "{shown}");
}

fn no_controls() -> impl Strategy<Value = String> {
    // Any characters but controls (a tab is allowed, as stories allow it; other
    // controls become spaces), with spaces of all kinds more often than chance.
    let any_char = any::<char>().prop_map(|c| if c.is_control() && c != '\t' { ' ' } else { c });
    let spaces = prop::sample::select(
        &[
            ' ', '\t', '\u{a0}', '\u{2028}', '\u{2029}', '\u{3000}', '\u{200b}', '\u{feff}',
            '\u{2003}',
        ][..],
    );
    prop::collection::vec(prop_oneof![3 => any_char, 1 => spaces], 1..40)
        .prop_map(|cs| cs.into_iter().collect())
}

fn markdownish() -> impl Strategy<Value = String> {
    // Mostly the characters Markdown gives meaning to, to find escaping gaps.
    prop::collection::vec(
        prop::sample::select(
            &[
                "*",
                "_",
                "`",
                "\\",
                "[",
                "]",
                "(",
                ")",
                "<",
                ">",
                "#",
                "+",
                "-",
                "=",
                "!",
                "|",
                "~",
                "{",
                "}",
                "%",
                "&",
                ";",
                ":",
                ".",
                "1",
                "a",
                " ",
                "  ",
                "\t",
                "&amp;",
                "&#32;",
                "<!--more-->",
                "{{<",
                ">}}",
                "http://x",
                "www.x.org",
                "\u{a0}",
                "é",
                "^",
                "$",
                "\"",
                "'",
            ][..],
        ),
        1..30,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn escaped_paragraphs_read_back_exactly(p in prop_oneof![no_controls(), markdownish()]) {
        let md = escape_paragraph(&p);
        prop_assert_eq!(plain_paragraphs(&md).paragraphs, vec![p.clone()], "markdown: {:?}", md);
    }

    #[test]
    fn escaped_bodies_read_back_exactly(ps in prop::collection::vec(prop_oneof![no_controls(), markdownish()], 1..5)) {
        let md: Vec<String> = ps.iter().map(|p| escape_paragraph(p)).collect();
        let md = md.join("\n\n");
        prop_assert_eq!(plain_paragraphs(&md).paragraphs, ps);
    }
}

/// `hugo` on PATH (absent: a failure saying how to install it, or a counted skip
/// when skipping is allowed).
fn hugo() -> Option<PathBuf> {
    bulletin_test_support::tool(
        "hugo",
        "this test builds bulletin's Markdown export with Hugo: install Hugo (https://gohugo.io/installation/)",
    )
}

/// Escaped as Go's html/template escapes text.
fn go_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

/// Escaped as Hugo's Markdown renderer (Goldmark) escapes text.
fn goldmark_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `html` without `<a ...>` and `</a>` tags.
fn without_links(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find("<a href=\"") {
        out.push_str(&rest[..i]);
        rest = rest[i..].split_once('>').map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out.replace("</a>", "")
}

#[test]
fn hugo_builds_an_export() {
    let Some(hugo) = hugo() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let site_dir = tmp.path().join("site");
    let out = tmp.path().join("public");
    let mut stories = stories();
    // Generated paragraphs full of Markdown's characters: Hugo's renderer must
    // show each one exactly, as our reader reads it.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = prop_oneof![no_controls(), markdownish()];
    let generated: Vec<String> = (0..300)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .filter(|p| !p.trim().is_empty())
        .collect();
    let mut stress = stories[3].clone();
    stress.slug = "generated-paragraphs".into();
    stress.body = generated;
    stories.push(stress);
    export(&site_dir, Flavor::Hugo, &stories);
    let help = Command::new(&hugo).arg("--help").output().unwrap();
    let mut cmd = Command::new(&hugo);
    cmd.arg("--source")
        .arg(&site_dir)
        .arg("--destination")
        .arg(&out)
        .arg("--cacheDir")
        .arg(tmp.path().join("cache"));
    if String::from_utf8_lossy(&help.stdout).contains("--panicOnWarning") {
        cmd.arg("--panicOnWarning");
    }
    let run = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "hugo failed:\n{stdout}\n{stderr}");
    assert!(
        !stderr.contains("WARN") && !stdout.contains("WARN"),
        "{stdout}\n{stderr}"
    );

    for s in &stories {
        let d = s.dateline.date;
        let page = out.join(format!(
            "{:04}/{:02}/{:02}/{}/index.html",
            d.year(),
            d.month(),
            d.day(),
            s.slug
        ));
        let html = fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        // Hugo makes links of bare URLs (Goldmark's linkify); the text stays.
        let text = without_links(&html);
        assert!(
            html.contains(&format!("<h1>{}</h1>", go_escape(&s.headline))),
            "{html}"
        );
        assert!(
            html.contains(&format!(
                "{} ({})",
                bulletin_core::render::dateline_caps(s, true),
                s.dateline.credit
            )),
            "{html}"
        );
        // Every paragraph a reader may see, exactly as written; no more.
        let visible = bulletin_core::render::visible_body(s, false);
        for p in &s.body {
            let shown = text.contains(&format!("<p>{}</p>", goldmark_escape(p)));
            assert_eq!(shown, visible.contains(p), "{p:?} in\n{html}");
        }
        if let Some(footer) = bulletin_core::render::issue_footer(s) {
            assert!(html.contains(&go_escape(&footer)), "{html}");
        }
    }
    let tag_page = fs::read_to_string(out.join("tags/political-rights/index.html")).unwrap();
    assert!(
        tag_page.contains("Pipeline talks resume in Baku and Almaty"),
        "{tag_page}"
    );
    assert!(out.join("index.html").is_file());
}

#[test]
fn flavor_names() {
    assert_eq!("Zola".parse::<Flavor>(), Ok(Flavor::Zola));
    assert_eq!("hugo".parse::<Flavor>(), Ok(Flavor::Hugo));
    assert!("jekyll".parse::<Flavor>().is_err());
    assert_eq!(Flavor::default(), Flavor::Hugo);
    let _ = markdown::Flavor::Hugo.to_string();
}
