//! The rendered newsletter: subject, text part, HTML part, and the access rule.

use bulletin_core::render::{escape_html, visible_body};
use bulletin_core::{Access, Date};
use bulletin_mail::{INVITATION, Reader, SIGNATURE_DELIMITER, render};
use bulletin_text::{Document, read_str, write_to_string};

use crate::common::{fixture, links, story};

/// The stories part of a text part: everything before the signature line.
fn stories_part(text: &str) -> &str {
    let delimiter = format!("\n{SIGNATURE_DELIMITER}");
    let at = text.rfind(&delimiter).expect("signature delimiter");
    &text[..at]
}

#[test]
fn subject_names_publication_issue_and_date() {
    let f = fixture();
    let r = render(&f.newsletter(), Reader::Paid, &links());
    assert_eq!(
        r.subject,
        "Steppe and Caucasus Test Letter \u{2014} Issue 493, July 22 2021"
    );
    let mut undated = fixture();
    undated.issue.date = None;
    let r = render(&undated.newsletter(), Reader::Paid, &links());
    assert_eq!(
        r.subject,
        "Steppe and Caucasus Test Letter \u{2014} Issue 493"
    );
    let mut november = fixture();
    november.issue.date = Some(Date::constant(2021, 11, 4));
    let r = render(&november.newsletter(), Reader::Paid, &links());
    assert!(
        r.subject.ends_with("Issue 493, Nov. 4 2021"),
        "{}",
        r.subject
    );
}

#[test]
fn paid_text_is_exactly_the_bulletin_text_of_the_stories() {
    let f = fixture();
    let r = render(&f.newsletter(), Reader::Paid, &links());
    let expected = write_to_string(&Document {
        tag: None,
        stories: f.stories.clone(),
    });
    assert_eq!(stories_part(&r.text), expected);
    // And it reads back as the same stories.
    let back = read_str(stories_part(&r.text)).unwrap();
    assert_eq!(back.stories.len(), f.stories.len());
    for (read, original) in back.stories.iter().zip(&f.stories) {
        assert_eq!(read.headline, original.headline);
        assert_eq!(read.body, original.body);
        assert_eq!(read.dateline, original.dateline);
        assert_eq!(read.issue, original.issue);
    }
}

#[test]
fn text_footer_follows_the_signature_delimiter() {
    let f = fixture();
    let l = links();
    for reader in [Reader::Free, Reader::Paid] {
        let r = render(&f.newsletter(), reader, &l);
        let footer = &r.text[stories_part(&r.text).len()..];
        assert!(footer.starts_with("\n-- \n"), "{footer:?}");
        assert!(footer.contains(&format!("Unsubscribe: {}\n", l.unsubscribe)));
        assert!(footer.contains(&format!("Your subscription: {}\n", l.account)));
        assert!(
            footer
                .contains("Read this issue on the site: https://bulletin.example.org/issue/493/\n")
        );
        assert_eq!(
            footer.contains(&l.subscribe),
            reader == Reader::Free,
            "only free readers are invited to subscribe"
        );
    }
}

/// The leak test: a free reader gets no paragraph past the first of any
/// subscribers' story, in either part; a paid reader gets every one.
#[test]
fn free_reader_gets_no_paragraph_past_the_first_of_a_subscribers_story() {
    let f = fixture();
    let free = render(&f.newsletter(), Reader::Free, &links());
    let paid = render(&f.newsletter(), Reader::Paid, &links());
    let mut checked = 0;
    for story in f.stories.iter().filter(|s| s.access == Access::Subscribers) {
        let (lead, rest) = story.body.split_first().unwrap();
        assert!(free.text.contains(lead.as_str()));
        assert!(free.html.contains(&escape_html(lead)));
        for paragraph in rest {
            let escaped = escape_html(paragraph);
            assert!(
                !free.text.contains(paragraph.as_str()),
                "leaked {paragraph:?}"
            );
            assert!(
                !free.html.contains(paragraph.as_str()),
                "leaked {paragraph:?}"
            );
            assert!(!free.html.contains(&escaped), "leaked {paragraph:?}");
            // Each test paragraph carries a tag such as [court-3]: not even a
            // part of the paragraph may show.
            let tag = &paragraph[paragraph.rfind('[').unwrap()..];
            assert!(!free.text.contains(tag) && !free.html.contains(tag));
            assert!(paid.text.contains(paragraph.as_str()));
            assert!(paid.html.contains(&escaped));
            checked += 1;
        }
    }
    assert_eq!(checked, 4, "every withheld paragraph was checked");
}

#[test]
fn free_reader_gets_public_stories_whole_and_an_invitation_for_the_rest() {
    let f = fixture();
    let free = render(&f.newsletter(), Reader::Free, &links());
    let paid = render(&f.newsletter(), Reader::Paid, &links());
    let public = &f.stories[0];
    assert_eq!(public.access, Access::Public);
    for p in &public.body {
        assert!(free.text.contains(p.as_str()));
    }
    // Two withheld stories: two invitations where ENDS would be; the public
    // story still ends with ENDS.
    assert_eq!(free.text.matches(INVITATION).count(), 2);
    assert_eq!(free.text.matches("\nENDS\n").count(), 1);
    assert_eq!(free.html.matches(INVITATION).count(), 2);
    assert!(!paid.text.contains(INVITATION));
    assert!(!paid.html.contains(INVITATION));
    assert_eq!(paid.text.matches("\nENDS\n").count(), 3);
    // What the free text shows of a withheld story is the writer's form of
    // its visible part, invitation in place of ENDS.
    let court = &f.stories[1];
    let mut shown = court.clone();
    shown.body = visible_body(court, false).to_vec();
    let written = write_to_string(&Document {
        tag: None,
        stories: vec![shown],
    });
    let expected = written.replacen(
        "ENDS\n",
        &format!("{INVITATION} Subscribe: {}\n", links().subscribe),
        1,
    );
    assert!(free.text.contains(&expected), "{}", free.text);
}

#[test]
fn html_is_an_email_document() {
    let f = fixture();
    for reader in [Reader::Free, Reader::Paid] {
        let html = render(&f.newsletter(), reader, &links()).html;
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<meta name=\"color-scheme\" content=\"light dark\">"));
        assert!(html.contains("@media (prefers-color-scheme: dark)"));
        let lower = html.to_ascii_lowercase();
        for absent in [
            "<script",
            "<img",
            "<link",
            "javascript:",
            "<form",
            "<iframe",
        ] {
            assert!(!lower.contains(absent), "{absent}");
        }
        // Inline styles: every element that shows text or links carries its own.
        for tag in ["p", "td", "a", "h2", "table", "span"] {
            assert!(!html.contains(&format!("<{tag}>")), "<{tag}> without style");
            for (at, _) in html.match_indices(&format!("<{tag} ")) {
                let end = at + html[at..].find('>').unwrap();
                assert!(
                    html[at..end].contains("style=\""),
                    "no inline style: {}",
                    &html[at..end]
                );
            }
        }
        // Layout is tables, not CSS that clients strip.
        assert!(html.contains("role=\"presentation\""));
        // Story headlines, datelines in capitals, footers, links to the site.
        for story in &f.stories {
            assert!(html.contains(&escape_html(&story.headline)));
            assert!(html.contains(&format!(
                "href=\"https://bulletin.example.org{}\"",
                story.url()
            )));
        }
        assert!(html.contains("TBILISI/BAKU/JULY 21 2021 (The Bulletin)"));
        assert!(html.contains("DUSHANBE/JULY 19 2021 (The Bulletin)"));
        assert!(html.contains(
            "&mdash; This story was first published in issue 493 of the Steppe and Caucasus Test Letter, on July 22 2021"
        ));
        assert!(html.contains("&mdash; Copyright the Steppe and Caucasus Test Letter 2021"));
        assert!(html.contains("href=\"https://bulletin.example.org/unsubscribe/?t=abc123\""));
        assert!(html.contains("Read on the site"));
    }
}

#[test]
fn site_with_a_trailing_slash_makes_the_same_links() {
    let f = fixture();
    let mut l = links();
    l.site.push('/');
    let r = render(&f.newsletter(), Reader::Paid, &l);
    assert!(r.html.contains(&format!(
        "href=\"https://bulletin.example.org{}\"",
        f.stories[0].url()
    )));
    assert!(!r.html.contains("example.org//"));
    assert!(!r.text.contains("example.org//"));
}

#[test]
fn every_value_is_escaped_in_the_html() {
    let mut f = fixture();
    f.publication.name = "Bulletin <b>bold</b> & \"friends\"".into();
    let mut s = story(
        "escaping",
        "<script>alert('x')</script> & \"quotes\"",
        &["<Baku>"],
        20,
        &[
            "First <em>paragraph</em> & more </td></tr></table>",
            "Second <script src=\"https://evil.example/x.js\"></script>",
        ],
    );
    s.dateline.credit = "The <i>Bulletin</i>".into();
    f.stories = vec![s];
    let mut l = links();
    l.unsubscribe = "https://bulletin.example.org/u/?a=1&b=\"2\"><script>".into();
    for reader in [Reader::Free, Reader::Paid] {
        let html = render(&f.newsletter(), reader, &l).html;
        assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
        assert!(!html.contains("<em>") && !html.contains("<b>") && !html.contains("<i>"));
        assert!(
            html.contains(
                "&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2f;script&gt; &amp; &quot;quotes&quot;"
            ) || html.contains(
                "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"
            ),
            "{html}"
        );
        assert!(html.contains("Bulletin &lt;b&gt;bold&lt;"));
        assert!(html.contains("&lt;BAKU&gt;"));
        // The table is not closed early by a paragraph.
        assert_eq!(html.matches("</table>").count(), 2);
        assert!(!html.contains("\"><script>"));
    }
}

#[test]
fn an_empty_issue_renders() {
    let mut f = fixture();
    f.stories.clear();
    f.issue.stories.clear();
    let r = render(&f.newsletter(), Reader::Free, &links());
    assert!(r.text.starts_with(SIGNATURE_DELIMITER));
    assert!(r.html.contains("Unsubscribe"));
}

#[test]
fn a_story_without_paragraphs_renders() {
    let mut f = fixture();
    f.stories[1].body.clear();
    for reader in [Reader::Free, Reader::Paid] {
        let r = render(&f.newsletter(), reader, &links());
        assert!(r.text.contains("Court hears appeal of jailed reporter"));
        assert!(r.html.contains("Court hears appeal of jailed reporter"));
    }
}

#[test]
fn snapshot_text_free() {
    let f = fixture();
    insta::assert_snapshot!(render(&f.newsletter(), Reader::Free, &links()).text);
}

#[test]
fn snapshot_text_paid() {
    let f = fixture();
    insta::assert_snapshot!(render(&f.newsletter(), Reader::Paid, &links()).text);
}

#[test]
fn snapshot_html_free() {
    let f = fixture();
    insta::assert_snapshot!(render(&f.newsletter(), Reader::Free, &links()).html);
}

#[test]
fn snapshot_html_paid() {
    let f = fixture();
    insta::assert_snapshot!(render(&f.newsletter(), Reader::Paid, &links()).html);
}
