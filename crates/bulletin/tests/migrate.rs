//! Coming from WordPress, Hugo and Zola and leaving again, through the binary:
//! WXR imports with their old addresses, Markdown folders, complete backups.

use std::io::Write;
use std::process::Stdio;

use bulletin_test_support::shared;
use serde_json::Value;

use crate::{Archive, http_get, serve, text, write};

const WXR: &str = "fixtures/wxr/themeunittestdata.wordpress.xml";

/// Status line and Location of one GET.
fn get(addr: &str, target: &str) -> (String, Option<String>) {
    let response = http_get(addr, target);
    let status = response.lines().next().unwrap_or("").to_owned();
    let location = response
        .lines()
        .find_map(|l| l.strip_prefix("location: ").map(str::to_owned));
    (status, location)
}

#[test]
fn a_wordpress_export_comes_across_with_its_old_addresses() {
    let Some(wxr) = shared(WXR) else { return };
    let wxr = wxr.display().to_string();
    for archive in Archive::each() {
        let out = archive.run_ok(&["import", &wxr]);
        let log = text(&out.stderr);
        // The report: what came in by status, and what was counted and left out.
        assert!(
            log.contains("stories: 58 (1 draft, 1 future, 1 private, 55 publish)"),
            "[{}] {log}",
            archive.name()
        );
        assert!(log.contains("not imported: 21 page"), "{log}");
        // Every <item> of the file (186) is a story, a draft or not imported.
        assert!(
            log.contains("items read: 186 (55 public, 3 kept as drafts, 128 not imported)"),
            "{log}"
        );
        assert!(log.contains("not imported: 37 attachment"), "{log}");
        assert!(log.contains("not imported: 33 comment"), "{log}");
        assert!(log.contains("not imported: 70 nav_menu_item"), "{log}");
        // Warnings name the post and where it is in the file.
        assert!(
            log.contains(&format!(
                "{wxr}:10454:1: warning: the post “Markup: Image Alignment”"
            )),
            "{log}"
        );

        let export: Value = serde_json::from_str(&archive.export(&["--format", "json"])).unwrap();
        let stories = export["stories"].as_array().unwrap();
        assert_eq!(stories.len(), 55, "only published posts are public");
        assert_eq!(export["drafts"].as_array().unwrap().len(), 3);
        let statuses: Vec<&str> = export["drafts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["status"].as_str().unwrap())
            .collect();
        let mut statuses = statuses;
        statuses.sort_unstable();
        assert_eq!(statuses, ["draft", "future", "private"]);
        let markup = stories
            .iter()
            .find(|s| s["slug"] == "markup-html-tags-and-formatting")
            .expect("the post keeps its WordPress slug");
        assert_eq!(markup["headline"], "Markup: HTML Tags and Formatting");
        assert_eq!(markup["dateline"]["date"], "2013-01-11");
        // Sanitised to plain text: no tag or attribute of the post's HTML is left
        // (the post also names tags in its prose, as text, which stays).
        for paragraph in markup["body"].as_array().unwrap() {
            let p = paragraph.as_str().unwrap();
            for markup in ["<p>", "</p>", "<strong>", "<em>", "href=", "<!--"] {
                assert!(!p.contains(markup), "{markup} left in {p:?}");
            }
        }

        let listed = text(&archive.run_ok(&["redirects"]).stdout);
        assert!(
            listed.contains("/category/markup/ -> /tag/markup/"),
            "[{}] {listed}",
            archive.name()
        );
        let plain_link = listed
            .lines()
            .find(|l| l.starts_with("/?p=") && l.ends_with("/markup-html-tags-and-formatting/"))
            .expect("the post's ?p= link is kept");
        let (from, to) = plain_link.split_once(" -> ").unwrap();

        let (_server, addr) = serve(&archive);
        let (status, location) = get(&addr, from);
        assert!(status.starts_with("HTTP/1.1 301"), "{from}: {status}");
        assert_eq!(location.as_deref(), Some(to));
        let (status, _) = get(&addr, to);
        assert!(status.starts_with("HTTP/1.1 200"), "{to}: {status}");
        let (status, location) = get(&addr, "/category/markup/page/2/");
        assert!(status.starts_with("HTTP/1.1 301"), "{status}");
        assert_eq!(location.as_deref(), Some("/tag/markup/page/2/"));
        let (status, location) = get(&addr, "/category/markup/feed/");
        assert!(status.starts_with("HTTP/1.1 301"), "{status}");
        assert_eq!(location.as_deref(), Some("/tag/markup/feed/"));
        // A private post's old address says nothing of it.
        let (status, location) = get(&addr, "/?p=999999");
        assert!(
            status.starts_with("HTTP/1.1 200"),
            "the home page: {status}"
        );
        assert_eq!(location, None);
        drop(_server);

        // The same export again changes nothing and doubles nothing.
        let before = archive.export(&["--format", "json"]);
        let out = archive.run_ok(&["import", &wxr]);
        assert!(
            text(&out.stderr).contains("0 new, 0 updated, 55 unchanged"),
            "{}",
            text(&out.stderr)
        );
        assert_eq!(archive.export(&["--format", "json"]), before);
    }
}

#[test]
fn a_dry_run_and_a_broken_export_leave_nothing() {
    let Some(wxr) = shared(WXR) else { return };
    let archive = Archive::sqlite();
    let out = archive.run_ok(&["import", "--dry-run", &wxr.display().to_string()]);
    assert!(
        text(&out.stderr).contains("dry run, nothing kept"),
        "{}",
        text(&out.stderr)
    );
    let export: Value = serde_json::from_str(&archive.export(&["--format", "json"])).unwrap();
    assert_eq!(export["stories"].as_array().unwrap().len(), 0);
    assert!(text(&archive.run_ok(&["redirects"]).stdout).is_empty());

    // A WordPress export cut short: an error at its end, and nothing imported.
    let whole = std::fs::read(&wxr).unwrap();
    let cut = write(&archive.path("cut.xml"), &whole[..whole.len() / 2]);
    let out = archive.run(&["import", &cut]);
    assert!(!out.status.success());
    let log = text(&out.stderr);
    assert!(log.contains(&format!("{cut}:")), "{log}");
    assert!(log.contains("nothing was imported"), "{log}");
    let export: Value = serde_json::from_str(&archive.export(&["--format", "json"])).unwrap();
    assert_eq!(export["stories"].as_array().unwrap().len(), 0);
}

#[test]
fn a_backup_moves_between_backends_byte_for_byte() {
    let Some(wxr) = shared(WXR) else { return };
    let Some(corpus) = shared("corpus/tag-archive-political-rights.txt") else {
        return;
    };
    let source = Archive::sqlite();
    source.run_ok(&["import", &wxr.display().to_string()]);
    source.run_ok(&["import", &corpus.display().to_string()]);
    let mut add = source
        .command()
        .args(["user", "add", "editor@example.org", "--role", "editor"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    assert!(add.wait().unwrap().success());
    let list = write(
        &source.path("subscribers.csv"),
        "email,name,plan,status\npaid@example.org,Paid Reader,paid,active\nleft@example.org,,free,unsubscribed\n",
    );
    source.run_ok(&["subscribers", "import", &list]);
    let first = source.path("first.json");
    source.run_ok(&[
        "export",
        "--format",
        "json",
        "-o",
        &first.display().to_string(),
    ]);
    let first_bytes = std::fs::read(&first).unwrap();
    assert!(
        !text(&first_bytes).contains("$argon2id$"),
        "no password hashes without --with-secrets"
    );

    // SQLite → JSON → PostgreSQL (when available) → JSON → SQLite → JSON.
    let mut hops: Vec<Archive> = Archive::postgres().into_iter().collect();
    hops.push(Archive::sqlite());
    let mut backup = first.clone();
    for hop in &hops {
        let out = hop.run_ok(&["import", &backup.display().to_string()]);
        assert!(
            text(&out.stderr).contains("restored 65 stories, 3 drafts"),
            "{}",
            text(&out.stderr)
        );
        let next = hop.path("backup.json");
        hop.run_ok(&[
            "export",
            "--format",
            "json",
            "-o",
            &next.display().to_string(),
        ]);
        let bytes = std::fs::read(&next).unwrap();
        assert!(
            bytes == first_bytes,
            "[{}] the backup changed on its way through",
            hop.name()
        );
        // Into a data directory that already holds an archive: refused, untouched.
        let out = hop.run(&["import", &next.display().to_string()]);
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("only into an empty data directory"),
            "{}",
            text(&out.stderr)
        );
        backup = next;
    }
    let last = hops.last().unwrap();
    assert!(text(&last.run_ok(&["user", "list"]).stdout).contains("editor@example.org"));
    let subscribers = text(&last.run_ok(&["subscribers", "list"]).stdout);
    assert!(subscribers.contains("paid@example.org"), "{subscribers}");
    assert!(subscribers.contains("unsubscribed"), "{subscribers}");

    // With secrets, the hash comes along and the account can sign in after.
    let secret = source.path("secret.json");
    source.run_ok(&[
        "export",
        "--format",
        "json",
        "--with-secrets",
        "-o",
        &secret.display().to_string(),
    ]);
    assert!(text(&std::fs::read(&secret).unwrap()).contains("$argon2id$"));

    // A damaged backup: its line and column, and nothing restored.
    let fresh = Archive::sqlite();
    // A stray character before the tenth story (many records come before it).
    let mut lines: Vec<String> = text(&first_bytes).lines().map(str::to_owned).collect();
    let at = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("{\"slug\""))
        .nth(9)
        .unwrap()
        .0;
    lines[at].insert(0, 'x');
    let path = write(&fresh.path("damaged.json"), lines.join("\n"));
    let out = fresh.run(&["import", &path]);
    assert!(!out.status.success());
    let log = text(&out.stderr);
    assert!(
        log.contains(&format!("{path}:{}:1: error:", at + 1)),
        "{log}"
    );
    assert!(log.contains(" | x{\"slug\""), "the line is quoted: {log}");
    assert!(log.contains("nothing was imported"), "{log}");
    let export: Value = serde_json::from_str(&fresh.export(&["--format", "json"])).unwrap();
    assert_eq!(export["stories"].as_array().unwrap().len(), 0);
}

#[test]
fn a_markdown_export_comes_back_the_same() {
    let Some(corpus) = shared("corpus/tag-archive-political-rights.txt") else {
        return;
    };
    let source = Archive::sqlite();
    source.run_ok(&["import", &corpus.display().to_string()]);
    let site = source.path("site");
    let out = source.run_ok(&[
        "export",
        "--format",
        "markdown",
        "-o",
        &site.display().to_string(),
    ]);
    assert!(
        text(&out.stderr).contains("wrote 10 stories"),
        "{}",
        text(&out.stderr)
    );
    let copy = Archive::sqlite();
    copy.run_ok(&["import", &site.display().to_string()]);
    assert_eq!(
        copy.export(&["--format", "text"]),
        source.export(&["--format", "text"]),
        "bulletin text of the archive, before and after the Markdown round trip"
    );
}

/// A WordPress post, as an export writes one.
fn wxr_post(id: u32, title: &str, slug: &str, date: &str, body: &str) -> String {
    format!(
        "<item><title>{title}</title><link>https://old.example/{slug}/</link>\
         <content:encoded><![CDATA[{body}]]></content:encoded>\
         <wp:post_id>{id}</wp:post_id><wp:post_date>{date} 09:00:00</wp:post_date>\
         <wp:post_date_gmt>{date} 09:00:00</wp:post_date_gmt><wp:post_name>{slug}</wp:post_name>\
         <wp:status>publish</wp:status><wp:post_type>post</wp:post_type>\
         <wp:post_password></wp:post_password></item>\n"
    )
}

fn wxr(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel><title>Old site</title>\
         <link>https://old.example</link><wp:wxr_version>1.2</wp:wxr_version>\n{items}</channel></rss>\n"
    )
}

#[test]
fn two_posts_of_one_title_and_day_stay_two_stories() {
    for archive in Archive::each() {
        let file = write(
            &archive.path("briefings.xml"),
            wxr(&format!(
                "{}{}",
                wxr_post(
                    1,
                    "Daily briefing",
                    "daily-briefing",
                    "2024-03-01",
                    "<p>Morning edition text.</p>"
                ),
                wxr_post(
                    2,
                    "Daily briefing",
                    "daily-briefing-2",
                    "2024-03-01",
                    "<p>Evening edition text.</p>"
                ),
            )),
        );
        let out = archive.run_ok(&["import", &file]);
        assert!(
            text(&out.stderr).contains("2 new, 0 updated, 0 unchanged"),
            "[{}] {}",
            archive.name(),
            text(&out.stderr)
        );
        let export: Value = serde_json::from_str(&archive.export(&["--format", "json"])).unwrap();
        let mut bodies: Vec<(String, String)> = export["stories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["slug"].as_str().unwrap().to_owned(),
                    s["body"][0].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        bodies.sort();
        assert_eq!(
            bodies,
            [
                (
                    "daily-briefing".to_owned(),
                    "Morning edition text.".to_owned()
                ),
                (
                    "daily-briefing-2".to_owned(),
                    "Evening edition text.".to_owned()
                ),
            ]
        );
        // Again: both recognised, neither doubled nor overwritten.
        let out = archive.run_ok(&["import", &file]);
        assert!(
            text(&out.stderr).contains("0 new, 0 updated, 2 unchanged"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn posts_of_one_slug_and_day_and_posts_without_text_are_all_kept() {
    let posts = [
        (
            1,
            "Morning",
            "same-slug",
            "2024-03-01",
            "<p>Morning walrus text.</p>",
        ),
        (
            2,
            "Evening",
            "same-slug",
            "2024-03-01",
            "<p>Evening narwhal text.</p>",
        ),
        (3, "Only a title", "only-a-title", "2024-03-02", ""),
        (
            4,
            "Only a picture",
            "only-a-picture",
            "2024-03-02",
            "<img src=\"x.jpg\">",
        ),
        (5, "Left empty", "left-empty", "2024-03-02", "&nbsp;"),
    ];
    let items: String = posts
        .iter()
        .map(|(id, title, slug, date, body)| wxr_post(*id, title, slug, date, body))
        .collect();
    // Where each post's `?p=ID` must lead, and what its page must say.
    let expected = [
        ("/?p=1", "/2024/03/01/same-slug/", "Morning walrus text."),
        ("/?p=2", "/2024/03/01/same-slug-2/", "Evening narwhal text."),
        ("/?p=3", "/2024/03/02/only-a-title/", "Only a title"),
        ("/?p=4", "/2024/03/02/only-a-picture/", "[image left out]"),
        ("/?p=5", "/2024/03/02/left-empty/", "Left empty"),
    ];
    for archive in Archive::each() {
        let file = write(&archive.path("posts.xml"), wxr(&items));
        let out = archive.run_ok(&["import", &file]);
        let log = text(&out.stderr);
        let name = archive.name();
        assert!(
            log.contains("5 new, 0 updated, 0 unchanged"),
            "[{name}] {log}"
        );
        assert!(
            log.contains("items read: 5 (5 public, 0 kept as drafts, 0 not imported)"),
            "[{name}] {log}"
        );
        assert!(!log.contains("not imported:"), "[{name}] {log}");
        assert_eq!(
            log.matches(": it has no text; it is kept").count(),
            3,
            "{log}"
        );

        let (server, addr) = serve(&archive);
        for (from, to, says) in expected {
            let (status, location) = get(&addr, from);
            assert!(
                status.starts_with("HTTP/1.1 301"),
                "[{name}] {from}: {status}"
            );
            assert_eq!(location.as_deref(), Some(to), "[{name}] {from}");
            let page = http_get(&addr, to);
            assert!(page.starts_with("HTTP/1.1 200"), "[{name}] {to}: {page}");
            assert!(page.contains(says), "[{name}] {to} does not say {says:?}");
        }
        drop(server);
        // Search finds both bodies, each at its own story.
        for (word, url) in [
            ("walrus", "/2024/03/01/same-slug/"),
            ("narwhal", "/2024/03/01/same-slug-2/"),
        ] {
            let found = text(&archive.run_ok(&["search", word]).stdout);
            assert!(found.contains(url), "[{name}] {word}: {found}");
        }

        // Imported again: the same five items, none new, none merged.
        let before = archive.export(&["--format", "json"]);
        let out = archive.run_ok(&["import", &file]);
        assert!(
            text(&out.stderr).contains("0 new, 0 updated, 5 unchanged"),
            "[{name}] {}",
            text(&out.stderr)
        );
        assert_eq!(archive.export(&["--format", "json"]), before);
    }
}

#[test]
fn a_plain_json_file_cannot_bring_accounts() {
    let archive = Archive::sqlite();
    let file = write(
        &archive.path("sneaky.json"),
        r#"{"stories":[],"users":[{"email":"eve@example.org","role":"admin","disabled":false,"created_at":"2026-01-01T00:00:00Z","password_hash":"$argon2id$v=19$x"}]}"#,
    );
    let out = archive.run(&["import", &file]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("only a complete backup"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&archive.run_ok(&["user", "list"]).stdout).contains("eve@example.org"));
}
