//! An issue rendered as an email for one kind of reader: the subject, the HTML
//! part (a compiled-in minijinja template) and the plain-text part (the bulletin
//! text format). What a reader sees of each story is decided by
//! `bulletin_core::render::visible_body` alone.

use std::sync::LazyLock;

use bulletin_core::render::{
    copyright_footer, dateline_caps, escape_html, is_withheld, issue_footer, visible_body,
};
use bulletin_core::{Issue, Publication, Story, format_issue_date};
use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment};
use serde::Serialize;

/// One issue as a newsletter: the publication, the issue and its stories.
#[derive(Debug, Clone, Copy)]
pub struct Newsletter<'a> {
    pub publication: &'a Publication,
    pub issue: &'a Issue,
    /// The issue's stories in issue order (the order of `issue.stories`); they
    /// are rendered in the order given.
    pub stories: &'a [Story],
}

/// Who the newsletter is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reader {
    /// A free subscriber: subscribers' stories show only what a visitor sees.
    Free,
    /// A paying subscriber: every story whole.
    Paid,
}

impl Reader {
    /// The `subscriber` argument of the access rule
    /// (`bulletin_core::render::visible_body`).
    pub fn subscriber(self) -> bool {
        self == Reader::Paid
    }
}

/// The links one recipient's copy carries. All absolute URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// The site's base URL, e.g. `https://bulletin.example.org`; story links are
    /// this plus the story's path.
    pub site: String,
    /// This recipient's one-click unsubscribe URL (RFC 8058: it must accept a
    /// POST of `List-Unsubscribe=One-Click`; a GET should show a confirmation).
    pub unsubscribe: String,
    /// Where the recipient manages their subscription.
    pub account: String,
    /// Where a free reader upgrades to a paid subscription.
    pub subscribe: String,
}

/// A newsletter rendered for one reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    /// A whole HTML document: table layout, inline styles, no scripts.
    pub html: String,
    /// The bulletin text of the issue's stories, then a `-- ` line and the links.
    pub text: String,
}

/// The line between the stories and the links in the text part: the email
/// signature delimiter, which mail clients show as apart from the body (and
/// some fold away), so the stories above it stay exactly the bulletin text.
pub const SIGNATURE_DELIMITER: &str = "-- \n";

/// What a withheld story says where `ENDS` would stand.
pub const INVITATION: &str = "The rest of this story is for subscribers.";

/// `Central Asia & South Caucasus Bulletin — Issue 493, July 22 2021`; without
/// the date when the issue's date is unknown.
pub fn subject(publication: &Publication, issue: &Issue) -> String {
    match issue.date {
        Some(date) => format!(
            "{} \u{2014} Issue {}, {}",
            publication.name,
            issue.number,
            format_issue_date(date)
        ),
        None => format!("{} \u{2014} Issue {}", publication.name, issue.number),
    }
}

/// Renders `newsletter` for `reader` with one recipient's `links`.
///
/// Never fails: the HTML template is compiled in and exercised by the tests; if
/// it ever could not render, the HTML part falls back to the (escaped) text
/// part, which shows no more than the access rule allows.
pub fn render(newsletter: &Newsletter, reader: Reader, links: &Links) -> Rendered {
    let subject = subject(newsletter.publication, newsletter.issue);
    let text = text_part(newsletter, reader, links);
    let html = html_part(newsletter, reader, links, &subject)
        .unwrap_or_else(|_| fallback_html(&subject, &text));
    Rendered {
        subject,
        html,
        text,
    }
}

fn site_base(links: &Links) -> &str {
    links.site.trim_end_matches('/')
}

fn story_link(links: &Links, story: &Story) -> String {
    format!("{}{}", site_base(links), story.url())
}

fn issue_link(links: &Links, issue: &Issue) -> String {
    format!("{}/issue/{}/", site_base(links), issue.number)
}

fn any_withheld(newsletter: &Newsletter, reader: Reader) -> bool {
    newsletter
        .stories
        .iter()
        .any(|s| is_withheld(s, reader.subscriber()))
}

// ---------------------------------------------------------------- text part

fn text_part(newsletter: &Newsletter, reader: Reader, links: &Links) -> String {
    let mut out = String::new();
    for (i, story) in newsletter.stories.iter().enumerate() {
        let first = i == 0;
        if is_withheld(story, reader.subscriber()) {
            out.push_str(&withheld_story_text(story, reader, links, first));
        } else {
            out.push_str(&story_text(story, first));
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(SIGNATURE_DELIMITER);
    let issue = newsletter.issue;
    match issue.date {
        Some(date) => out.push_str(&format!(
            "{}, issue {}, {}\n",
            newsletter.publication.name,
            issue.number,
            format_issue_date(date)
        )),
        None => out.push_str(&format!(
            "{}, issue {}\n",
            newsletter.publication.name, issue.number
        )),
    }
    out.push_str(&format!(
        "Read this issue on the site: {}\n",
        issue_link(links, issue)
    ));
    if any_withheld(newsletter, reader) {
        out.push_str(&format!(
            "Subscribe to read every story in full: {}\n",
            links.subscribe
        ));
    }
    out.push_str(&format!("Your subscription: {}\n", links.account));
    out.push_str(&format!("Unsubscribe: {}\n", links.unsubscribe));
    out
}

/// One story exactly as the bulletin text writer writes it in a document
/// without a `Tag Archives:` header.
fn story_text(story: &Story, first: bool) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = bulletin_text::write_story(&mut out, story, None, first);
    String::from_utf8_lossy(&out).into_owned()
}

/// A story the reader may see only part of: the writer's form of the visible
/// part, with the invitation to subscribe where `ENDS` would say the story is
/// over.
fn withheld_story_text(story: &Story, reader: Reader, links: &Links, first: bool) -> String {
    // Built from the visible paragraphs only, so nothing else can reach the text.
    let shown = Story {
        body: visible_body(story, reader.subscriber()).to_vec(),
        ..story.clone()
    };
    let written = story_text(&shown, first);
    let invitation = format!("{INVITATION} Subscribe: {}", links.subscribe);
    let footers = writer_footers(&shown);
    match written.strip_suffix(&format!("ENDS\n\n{footers}")) {
        Some(head) => format!("{head}{invitation}\n\n{footers}"),
        // The writer's form changed: still only visible text, invitation last.
        None => format!("{written}\n{invitation}\n"),
    }
}

/// What the writer writes after a story's `ENDS`: the footers and the story's
/// own tags (all of them, there being no file header).
fn writer_footers(story: &Story) -> String {
    let mut tail = String::new();
    if let Some(line) = issue_footer(story) {
        tail.push_str(&format!("\u{2014} {line}\n\n"));
    }
    tail.push_str(&format!("\u{2014} {}\n", copyright_footer(story)));
    if !story.tags.is_empty() {
        tail.push_str(&format!("\n\u{2014} Tags: {}\n", story.tags.join(", ")));
    }
    tail
}

// ---------------------------------------------------------------- HTML part

const TEMPLATE_NAME: &str = "newsletter.html";

/// The compiled template. A `.html` name turns minijinja's auto-escaping on,
/// so every value is escaped unless the template says otherwise (it never does).
/// (The error is kept as text: `minijinja::Error` is not `Clone`.)
static TEMPLATES: LazyLock<Result<Environment<'static>, String>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // Block tags on lines of their own leave no blank lines behind.
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
        .map_err(|e| e.to_string())?;
    env.set_syntax(syntax);
    // Escape the five characters that matter in text and double-quoted
    // attributes, as every other output does (`escape_html`), rather than
    // minijinja's stricter set: it also writes `/` as `&#x2f;`, which turns every
    // link into `https:&#x2f;&#x2f;...`, valid but opaque to the people and the
    // link checkers that read the source of an email.
    env.set_formatter(|out, state, value| {
        if *state.auto_escape() == AutoEscape::Html
            && !value.is_safe()
            && let Some(text) = value.as_str()
        {
            return out
                .write_str(&escape_html(text))
                .map_err(minijinja::Error::from);
        }
        minijinja::escape_formatter(out, state, value)
    });
    // A misspelt variable is an error (seen by the tests), not an empty string.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template(TEMPLATE_NAME, include_str!("../templates/newsletter.html"))
        .map_err(|e| e.to_string())?;
    Ok(env)
});

#[derive(Serialize)]
struct HtmlContext<'a> {
    subject: &'a str,
    preheader: String,
    publication: &'a str,
    issue_line: String,
    issue_url: String,
    free: bool,
    any_withheld: bool,
    stories: Vec<HtmlStory<'a>>,
    links: HtmlLinks<'a>,
}

#[derive(Serialize)]
struct HtmlLinks<'a> {
    unsubscribe: &'a str,
    account: &'a str,
    subscribe: &'a str,
}

#[derive(Serialize)]
struct HtmlStory<'a> {
    headline: &'a str,
    url: String,
    dateline: String,
    credit: &'a str,
    lead: &'a str,
    rest: &'a [String],
    withheld: bool,
    issue_footer: Option<String>,
    copyright_footer: String,
}

fn html_part(
    newsletter: &Newsletter,
    reader: Reader,
    links: &Links,
    subject: &str,
) -> Result<String, String> {
    let env = TEMPLATES.as_ref().map_err(Clone::clone)?;
    let template = env.get_template(TEMPLATE_NAME).map_err(|e| e.to_string())?;
    let stories = newsletter
        .stories
        .iter()
        .map(|story| {
            let visible = visible_body(story, reader.subscriber());
            let (lead, rest) = match visible.split_first() {
                Some((lead, rest)) => (lead.as_str(), rest),
                None => ("", visible),
            };
            HtmlStory {
                headline: &story.headline,
                url: story_link(links, story),
                dateline: dateline_caps(story, true),
                credit: &story.dateline.credit,
                lead,
                rest,
                withheld: is_withheld(story, reader.subscriber()),
                issue_footer: issue_footer(story),
                copyright_footer: copyright_footer(story),
            }
        })
        .collect();
    let issue = newsletter.issue;
    let issue_line = match issue.date {
        Some(date) => format!("Issue {} \u{b7} {}", issue.number, format_issue_date(date)),
        None => format!("Issue {}", issue.number),
    };
    let context = HtmlContext {
        subject,
        preheader: preheader(newsletter.stories),
        publication: &newsletter.publication.name,
        issue_line,
        issue_url: issue_link(links, issue),
        free: reader == Reader::Free,
        any_withheld: any_withheld(newsletter, reader),
        stories,
        links: HtmlLinks {
            unsubscribe: &links.unsubscribe,
            account: &links.account,
            subscribe: &links.subscribe,
        },
    };
    template.render(Serde(context)).map_err(|e| e.to_string())
}

/// The line inbox lists show beside the subject: the issue's headlines. Only
/// headlines, which every reader may see.
fn preheader(stories: &[Story]) -> String {
    const MAX: usize = 150;
    let joined = stories
        .iter()
        .map(|s| s.headline.as_str())
        .collect::<Vec<_>>()
        .join(" \u{b7} ");
    match joined.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}\u{2026}", joined[..cut].trim_end()),
        None => joined,
    }
}

/// Only if the compiled-in template could not render: the text part, escaped.
fn fallback_html(subject: &str, text: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body><pre style=\"white-space:pre-wrap;font-family:Georgia,serif;\">{}</pre></body></html>\n",
        escape_html(subject),
        escape_html(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_renders_without_falling_back() {
        let publication = Publication::default();
        let issue = Issue {
            number: 1,
            date: None,
            status: bulletin_core::IssueStatus::Draft,
            stories: vec!["s".into()],
        };
        let stories = [sample_story()];
        let newsletter = Newsletter {
            publication: &publication,
            issue: &issue,
            stories: &stories,
        };
        let links = Links {
            site: "https://b.example".into(),
            unsubscribe: "https://b.example/u".into(),
            account: "https://b.example/a".into(),
            subscribe: "https://b.example/s".into(),
        };
        for reader in [Reader::Free, Reader::Paid] {
            let html = html_part(&newsletter, reader, &links, "S");
            assert!(html.is_ok(), "{html:?}");
        }
    }

    #[test]
    fn preheader_is_cut_on_a_character_boundary() {
        let story = Story {
            headline: "\u{e9}".repeat(400),
            ..sample_story()
        };
        let p = preheader(std::slice::from_ref(&story));
        assert_eq!(p.chars().count(), 151);
        assert!(p.ends_with('\u{2026}'));
    }

    fn sample_story() -> Story {
        Story {
            slug: "s".into(),
            headline: "H".into(),
            dateline: bulletin_core::Dateline {
                places: vec![],
                date: bulletin_core::Date::constant(2021, 7, 1),
                year_inferred: false,
                credit: "The Bulletin".into(),
            },
            body: vec!["P".into()],
            tags: vec![],
            countries: vec![],
            issue: None,
            first_published: false,
            copyright: bulletin_core::Copyright {
                holder: "X".into(),
                year: 2021,
            },
            access: bulletin_core::Access::Public,
        }
    }
}
