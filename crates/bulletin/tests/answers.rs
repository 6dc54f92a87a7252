//! What the site answers, through the binary over real TCP: every address it
//! gives out (sitemaps, feeds, redirects) answers 200; old addresses of stories
//! that are no longer public reveal nothing; and two `serve` processes on one
//! archive answer byte for byte the same.

use std::collections::BTreeSet;
use std::io::{Read, Write};

use bulletin_store::Actor;
use bulletin_test_support::shared;

use crate::{Archive, serve, text, write};

const WXR: &str = "fixtures/wxr/themeunittestdata.wordpress.xml";

/// One GET over a fresh connection, as the server sent it.
struct Answer {
    status: u16,
    /// Header lines, lowercase names, without `date` (the one header that
    /// names the moment of answering).
    head: Vec<String>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}: ");
        self.head.iter().find_map(|l| l.strip_prefix(&prefix))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn get(addr: &str, target: &str) -> Answer {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("{target}: no header end"));
    let head_text = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head_text.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let head: Vec<String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| format!("{}: {}", n.trim().to_lowercase(), v.trim()))
        .filter(|l| !l.starts_with("date: "))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if head.iter().any(|l| l == "transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Answer { status, head, body }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..end]).unwrap().trim(), 16).unwrap();
        raw = &raw[end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// The text between each `open` and the next `close` in `xml`.
fn between(xml: &str, open: &str, close: &str) -> Vec<String> {
    xml.split(open)
        .skip(1)
        .filter_map(|rest| rest.split_once(close).map(|(inside, _)| inside.to_owned()))
        .collect()
}

/// `https://host/a/b/` → `/a/b/` (the XML's `&amp;` unescaped).
fn path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("/", |at| &after_scheme[at..]);
    path.replace("&amp;", "&")
}

/// Every address the sitemap gives (following an index to its parts), and
/// the sitemap files themselves.
fn sitemap_addresses(addr: &str) -> (Vec<String>, Vec<String>) {
    let mut files = vec!["/sitemap.xml".to_owned()];
    let mut pages = Vec::new();
    let mut at = 0;
    while let Some(file) = files.get(at).cloned() {
        at += 1;
        let answer = get(addr, &file);
        assert_eq!(answer.status, 200, "{file}");
        let xml = answer.text();
        for loc in between(&xml, "<loc>", "</loc>") {
            let path = path_of(&loc);
            if xml.contains("<sitemapindex") {
                files.push(path);
            } else {
                pages.push(path);
            }
        }
    }
    (files, pages)
}

/// The feeds of the site and of every tag and issue among `pages`.
fn feeds_of(pages: &[String]) -> Vec<String> {
    let mut feeds = vec!["/feed/".to_owned(), "/feed/atom/".to_owned()];
    for page in pages {
        if (page.starts_with("/tag/") || page.starts_with("/issue/"))
            && page.matches('/').count() == 3
        {
            feeds.push(format!("{page}feed/"));
            feeds.push(format!("{page}feed/atom/"));
        }
    }
    feeds
}

/// The addresses a feed links to (RSS `<link>`, Atom `href`), within the site.
fn feed_links(xml: &str) -> Vec<String> {
    let mut links = between(xml, "<link>", "</link>");
    links.extend(between(xml, "href=\"", "\""));
    links
        .iter()
        .filter(|l| l.contains("://"))
        .map(|l| path_of(l))
        .collect()
}

/// `bulletin redirects`: (from, to) pairs.
fn redirects(archive: &Archive) -> Vec<(String, String)> {
    text(&archive.run_ok(&["redirects"]).stdout)
        .lines()
        .filter_map(|l| l.split_once(" -> "))
        .map(|(from, to)| (from.to_owned(), to.to_owned()))
        .collect()
}

/// A request target for a stored (decoded) address: non-ASCII percent-encoded.
fn target(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[test]
fn every_address_in_sitemaps_feeds_and_redirects_answers_200() {
    let Some(wxr) = shared(WXR) else { return };
    let wxr = wxr.display().to_string();
    for archive in Archive::each() {
        let name = archive.name();
        archive.run_ok(&["import", &wxr]);
        let (_server, addr) = serve(&archive);
        let mut failures = Vec::new();
        let check = |failures: &mut Vec<String>, what: &str, path: &str| {
            let answer = get(&addr, &target(path));
            if answer.status != 200 {
                failures.push(format!("{what} {path}: {}", answer.status));
            }
        };

        let (_, pages) = sitemap_addresses(&addr);
        assert!(pages.len() > 53, "[{name}] {pages:?}");
        for page in &pages {
            check(&mut failures, "sitemap", page);
        }
        let mut linked = BTreeSet::new();
        for feed in feeds_of(&pages) {
            let answer = get(&addr, &feed);
            if answer.status != 200 {
                failures.push(format!("feed {feed}: {}", answer.status));
                continue;
            }
            linked.extend(feed_links(&answer.text()));
        }
        for link in &linked {
            check(&mut failures, "feed link", link);
        }

        let listed = redirects(&archive);
        assert!(
            listed.iter().any(|(from, _)| from.starts_with("/?p=")),
            "[{name}] {listed:?}"
        );
        assert!(
            listed
                .iter()
                .any(|(from, _)| from.starts_with("/category/")),
            "[{name}] {listed:?}"
        );
        for (from, to) in &listed {
            let answer = get(&addr, &target(from));
            if answer.status != 301 || answer.header("location") != Some(target(to).as_str()) {
                failures.push(format!(
                    "redirect {from}: {} to {:?}, listed as {to}",
                    answer.status,
                    answer.header("location")
                ));
            }
            check(&mut failures, "redirect target", to);
        }
        // Every category of the export: its old address leads to a page, or
        // is a plain 404, never a redirect to one.
        let export = std::fs::read_to_string(&wxr).unwrap();
        for nicename in between(&export, "<wp:category_nicename>", "</wp:category_nicename>") {
            let nicename = nicename
                .trim_start_matches("<![CDATA[")
                .trim_end_matches("]]>")
                .to_owned();
            let old = format!("/category/{nicename}/");
            let answer = get(&addr, &old);
            if let Some(to) = answer.header("location") {
                let reached = get(&addr, to);
                if reached.status != 200 {
                    failures.push(format!("{old} -> {to}: {}", reached.status));
                }
            }
        }
        assert!(failures.is_empty(), "[{name}] {failures:#?}");
    }
}

#[test]
fn old_addresses_of_stories_no_longer_public_reveal_nothing() {
    let Some(wxr) = shared(WXR) else { return };
    let slug = "markup-html-tags-and-formatting";
    for archive in Archive::each() {
        let name = archive.name();
        archive.run_ok(&["import", &wxr.display().to_string()]);
        let (from, to) = redirects(&archive)
            .into_iter()
            .find(|(from, to)| from.starts_with("/?p=") && to.ends_with(&format!("/{slug}/")))
            .expect("the post's ?p= link is kept");
        let (_server, addr) = serve(&archive);
        let listed = |archive: &Archive| {
            redirects(archive)
                .into_iter()
                .filter(|(_, listed_to)| *listed_to == to)
                .count()
        };
        let reveals_nothing = |when: &str| {
            // What an address never known answers (the home page), then ours.
            let unknown = get(&addr, "/?p=999999");
            let answer = get(&addr, &from);
            assert_eq!(answer.header("location"), None, "[{name}] {when}");
            assert!(!answer.text().contains(slug), "[{name}] {when}");
            assert_eq!(
                (answer.status, &answer.body),
                (unknown.status, &unknown.body),
                "[{name}] {when}: answered as an unknown address"
            );
            assert_eq!(listed(&archive), 0, "[{name}] {when}: still listed");
        };
        let leads_to_it = |when: &str| {
            let answer = get(&addr, &from);
            assert_eq!(answer.status, 301, "[{name}] {when}");
            assert_eq!(
                answer.header("location"),
                Some(to.as_str()),
                "[{name}] {when}"
            );
            assert!(listed(&archive) > 0, "[{name}] {when}: not listed");
        };
        leads_to_it("published");

        let runtime = tokio::runtime::Runtime::new().unwrap();
        let store = runtime
            .block_on(bulletin_store::open(&archive.url()))
            .unwrap();
        let actor = Actor::system("test");
        let now = jiff::Timestamp::now().as_second();
        runtime
            .block_on(store.unpublish_story(slug, &actor, now))
            .unwrap();
        reveals_nothing("unpublished");
        runtime
            .block_on(store.publish_story(slug, &actor, now))
            .unwrap();
        leads_to_it("published again");
        runtime
            .block_on(store.delete_desk_story(slug, &actor, now))
            .unwrap();
        reveals_nothing("deleted");
    }
}

#[test]
fn two_servers_on_one_archive_answer_byte_for_byte_alike() {
    let archive = Archive::sqlite();
    let generated = archive.run_ok(&["gen", "--stories", "300", "--seed", "16"]);
    let input = write(&archive.path("archive.txt"), &generated.stdout);
    archive.run_ok(&["import", &input]);
    let (_first, one) = serve(&archive);
    let (_second, two) = serve(&archive);

    let (files, pages) = sitemap_addresses(&one);
    assert!(pages.len() > 300, "{}", pages.len());
    let mut addresses: Vec<String> = files;
    addresses.extend(pages.iter().cloned());
    addresses.extend(feeds_of(&pages));
    addresses.extend(["/tag/".into(), "/country/".into(), "/place/".into()]);
    let mut differ = Vec::new();
    for address in &addresses {
        let a = get(&one, address);
        let b = get(&two, address);
        assert_eq!(a.status, 200, "{address}");
        if (&a.head, &a.body) != (&b.head, &b.body) {
            differ.push(address.clone());
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} addresses differ between two processes: {differ:#?}",
        differ.len(),
        addresses.len()
    );
}
