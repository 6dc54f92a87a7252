//! The words a story's dateline and footers are written in, shared by every
//! output (bulletin text, the web site, the newsletter) so they never disagree.

use crate::{Access, Month, Story, format_issue_date};

/// `BAKU/ALMATY/JULY 18 2021`; without the year when `with_year` is false.
pub fn dateline_caps(story: &Story, with_year: bool) -> String {
    let d = &story.dateline;
    let mut out = String::new();
    for place in &d.places {
        out.push_str(&place.to_uppercase());
        out.push('/');
    }
    let month = Month::new(d.date.month())
        .map(Month::ap_upper)
        .unwrap_or_default();
    out.push_str(&format!("{month} {}", d.date.day()));
    if with_year {
        out.push_str(&format!(" {}", d.date.year()));
    }
    out
}

/// `This story was published in issue 493 of the Central Asia & South Caucasus
/// Bulletin, on July 22 2021` (`first published` when so; no date when unknown).
pub fn issue_footer(story: &Story) -> Option<String> {
    let issue = story.issue?;
    let first = if story.first_published { "first " } else { "" };
    let mut line = format!(
        "This story was {first}published in issue {} of the {}",
        issue.number, story.copyright.holder
    );
    if let Some(date) = issue.date {
        line.push_str(&format!(", on {}", format_issue_date(date)));
    }
    Some(line)
}

/// `Copyright the Central Asia & South Caucasus Bulletin 2021`.
pub fn copyright_footer(story: &Story) -> String {
    format!(
        "Copyright the {} {}",
        story.copyright.holder, story.copyright.year
    )
}

/// The one access rule, applied by every output (web pages, feeds, JSON-LD,
/// email, API, search snippets): the paragraphs of `story` a reader may see.
/// Public stories are whole for everyone; a subscribers' story shows only its
/// lead paragraph to anyone who is not a subscriber.
pub fn visible_body(story: &Story, subscriber: bool) -> &[String] {
    match story.access {
        Access::Public => &story.body,
        Access::Subscribers if subscriber => &story.body,
        Access::Subscribers => &story.body[..story.body.len().min(1)],
    }
}

/// Whether `visible_body` withholds part of `story` from this reader.
pub fn is_withheld(story: &Story, subscriber: bool) -> bool {
    visible_body(story, subscriber).len() < story.body.len()
}

/// HTML and XML text escaping of the five significant characters, for outputs
/// built without a template engine (feeds, search snippets).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
