//! From a post's fields to a [`Story`]: bulletin text inside a post body is read as
//! the text reader reads it; any other body becomes a plain story.
//!
//! A publication that ran on WordPress before bulletin often kept its stories'
//! own structure in the post body: the dateline opening the first paragraph, `ENDS`,
//! the issue footer, the copyright footer. Such a body is rebuilt as bulletin text
//! (the post's title as headline, one paragraph per line) and given to
//! [`bulletin_text::Reader`], so the dateline, issue, first-published flag and
//! copyright are exactly what the text reader makes of them. Parts the body lacks
//! (a body with a dateline but no footers, say) are filled in from the post and the
//! settings for the reading, then taken out of the story again: an invented issue
//! never reaches the archive.

use std::borrow::Cow;
use std::collections::HashSet;

use bulletin_core::{
    Access, Copyright, Dateline, MAX_HEADLINE, MAX_PARAGRAPH, Month, Story, format_issue_date,
    slugify,
};

use bulletin_text::lines::{
    is_copyright_line, is_end_mark, is_issue_line, is_space, strip_dash, trim,
};

use crate::Settings;

/// The fields a source system gives for one post, cleaned to plain text.
#[derive(Debug, Clone, Default)]
pub struct Post {
    pub title: String,
    /// The source's slug, if any (any form; it is normalised).
    pub slug: Option<String>,
    /// The post's date in the publication's time zone.
    pub date: Option<jiff::civil::Date>,
    /// Plain-text paragraphs, in order.
    pub paragraphs: Vec<String>,
    pub tags: Vec<String>,
}

/// A story made from a post, with the warnings met on the way (plain sentences; the
/// caller adds the position and the post's title).
#[derive(Debug, Clone)]
pub struct Made {
    pub story: Story,
    pub warnings: Vec<String>,
}

/// Longest tag accepted (as `Story::validate` does).
const MAX_TAG: usize = 200;
/// Words of the body that make a headline for a post without a title.
const HEADLINE_WORDS: usize = 10;

/// Makes the story; `Err` says, in a sentence, why the post cannot be one.
pub fn to_story(post: Post, settings: &Settings) -> Result<Made, String> {
    let mut warnings = Vec::new();
    let Some(date) = post.date else {
        return Err("it has no date".to_owned());
    };
    let paragraphs: Vec<String> = post
        .paragraphs
        .iter()
        .map(|p| collapse(p).into_owned())
        .filter(|p| !p.is_empty())
        .collect();
    if paragraphs.is_empty() {
        return Err("it has no text".to_owned());
    }
    for (n, p) in paragraphs.iter().enumerate() {
        // Characters never outnumber bytes: count only long ones.
        if p.len() <= MAX_PARAGRAPH {
            continue;
        }
        let len = p.chars().count();
        if len > MAX_PARAGRAPH {
            return Err(format!(
                "its paragraph {} is {len} characters long; the limit is {MAX_PARAGRAPH}",
                n + 1
            ));
        }
    }
    let headline = headline(&post.title, &paragraphs, date, &mut warnings);
    let tags = clean_tags(&post.tags, &mut warnings);
    let source_slug = post
        .slug
        .as_deref()
        .map(|s| slugify(&percent_decode(s)))
        .unwrap_or_default();

    if let Some(shape) = Shape::of(&paragraphs, &headline) {
        match read_bulletin(&shape, &headline, &paragraphs, date, settings) {
            Ok((mut story, read_warnings)) => {
                if !source_slug.is_empty() {
                    story.slug = source_slug;
                }
                // The post's tags first, then any the text's own `— Tags:` line adds.
                let mut all = tags;
                let mut seen: HashSet<String> = all.iter().cloned().collect();
                for tag in std::mem::take(&mut story.tags) {
                    if seen.insert(tag.clone()) {
                        all.push(tag);
                    }
                }
                story.tags = all;
                story
                    .validate()
                    .map_err(|e| format!("it cannot be stored: {e}"))?;
                warnings.extend(read_warnings);
                return Ok(Made { story, warnings });
            }
            Err(Unread::Error(message)) => warnings.push(format!(
                "the body looks like bulletin text, but the text reader cannot read it ({message}); it is imported as a plain story"
            )),
            Err(Unread::Several(n)) => warnings.push(format!(
                "the body holds {n} bulletin stories; it is imported as one plain story"
            )),
        }
    }

    let slug = if source_slug.is_empty() {
        match slugify(&headline) {
            s if s.is_empty() => "story".to_owned(),
            s => s,
        }
    } else {
        source_slug
    };
    let mut story = Story {
        slug,
        headline,
        dateline: Dateline {
            places: Vec::new(),
            date,
            year_inferred: false,
            credit: settings.credit.clone(),
        },
        body: paragraphs,
        tags,
        countries: Vec::new(),
        issue: None,
        first_published: false,
        copyright: Copyright {
            holder: settings.holder.clone(),
            year: date.year(),
        },
        access: Access::Public,
    };
    story.countries = story.derive_countries();
    story
        .validate()
        .map_err(|e| format!("it cannot be stored: {e}"))?;
    Ok(Made { story, warnings })
}

/// Whether any paragraph holds text once spaces are collapsed (else
/// [`to_story`] refuses the post: "it has no text").
pub fn has_text(paragraphs: &[String]) -> bool {
    paragraphs.iter().any(|p| !collapse(p).is_empty())
}

/// The title, cleaned; a post without one gets its first words (WordPress allows
/// untitled posts, a story needs a headline).
fn headline(
    title: &str,
    paragraphs: &[String],
    date: jiff::civil::Date,
    warnings: &mut Vec<String>,
) -> String {
    let title = collapse(title);
    let mut headline = if title.is_empty() {
        // The first words of the text, after any dateline (a line saying what
        // was left out is not text).
        let first = paragraphs
            .first()
            .map(String::as_str)
            .filter(|p| !crate::left_out::is_stand_in(p))
            .unwrap_or("");
        let first = if looks_like_dateline(first) {
            first
                .split_once(')')
                .map_or(first, |(_, rest)| strip_dash(rest))
        } else {
            first
        };
        let words: Vec<&str> = first.split(' ').filter(|w| !w.is_empty()).collect();
        let mut made = words
            .iter()
            .take(HEADLINE_WORDS)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        if words.len() > HEADLINE_WORDS {
            made.push('\u{2026}');
        }
        if made.is_empty() {
            made = format!("Untitled ({date})");
        }
        warnings.push(format!(
            "the post has no title; its headline is made from its first words: “{made}”"
        ));
        made
    } else {
        title.into_owned()
    };
    if headline.chars().count() > MAX_HEADLINE {
        let mut cut: String = headline.chars().take(MAX_HEADLINE - 1).collect();
        if let Some(space) = cut.rfind(' ') {
            cut.truncate(space);
        }
        cut.push('\u{2026}');
        warnings.push(format!(
            "the title is longer than {MAX_HEADLINE} characters; the headline is cut to “{cut}”"
        ));
        headline = cut;
    }
    headline
}

/// Tags as given, without duplicates (first seen first; a set keeps this linear:
/// 200,000 categories took 40 seconds with a list); commas (which separate tags
/// in bulletin text) become spaces.
fn clean_tags(given: &[String], warnings: &mut Vec<String>) -> Vec<String> {
    let mut tags: Vec<String> = Vec::with_capacity(given.len());
    let mut seen: HashSet<String> = HashSet::with_capacity(given.len());
    for raw in given {
        let mut tag = collapse(raw).into_owned();
        if tag.contains(',') {
            let fixed = collapse(&tag.replace(',', " ")).into_owned();
            warnings.push(format!(
                "the tag “{tag}” holds commas, which tags may not; it is imported as “{fixed}”"
            ));
            tag = fixed;
        }
        if tag.is_empty() {
            continue;
        }
        if tag.chars().count() > MAX_TAG {
            warnings.push(format!(
                "a tag longer than {MAX_TAG} characters is left out: “{}…”",
                tag.chars().take(40).collect::<String>()
            ));
            continue;
        }
        if seen.insert(tag.clone()) {
            tags.push(tag);
        }
    }
    tags
}

/// Where the bulletin structure stands in a body.
struct Shape {
    /// The paragraph opening with a dateline, if any (0, or 1 when the body repeats
    /// the headline first).
    dateline: Option<usize>,
    /// Where the body's text starts (after a repeated headline).
    start: usize,
    /// The first paragraph that is `ENDS` or a footer.
    footer: Option<usize>,
}

impl Shape {
    /// `None` for a body with no bulletin structure at all.
    fn of(paragraphs: &[String], headline: &str) -> Option<Shape> {
        let repeated = paragraphs.len() > 1
            && paragraphs[0].eq_ignore_ascii_case(headline)
            && looks_like_dateline(&paragraphs[1]);
        let start = usize::from(repeated);
        let dateline = looks_like_dateline(&paragraphs[start]).then_some(start);
        let footer = paragraphs
            .iter()
            .position(|p| is_end_mark(p) || is_issue_line(p) || is_copyright_line(p));
        (dateline.is_some() || footer.is_some()).then_some(Shape {
            dateline,
            start,
            footer,
        })
    }
}

/// Why a body with bulletin structure did not become a bulletin story.
enum Unread {
    /// The reader's first error (with the line it is about).
    Error(String),
    Several(usize),
}

/// Rebuilds the body as bulletin text, fills in missing parts, reads it, and takes
/// the filled-in parts out of the result again.
fn read_bulletin(
    shape: &Shape,
    headline: &str,
    paragraphs: &[String],
    date: jiff::civil::Date,
    settings: &Settings,
) -> Result<(Story, Vec<String>), Unread> {
    let mut lines: Vec<(Cow<'_, str>, bool)> = Vec::with_capacity(paragraphs.len() + 4);
    lines.push((Cow::Borrowed(headline), false));
    let body_end = shape.footer.unwrap_or(paragraphs.len()).max(shape.start);
    let mut body = paragraphs[shape.start..body_end].iter();
    let synthetic_dateline = shape.dateline.is_none();
    if synthetic_dateline {
        let month = Month::new(date.month())
            .map(Month::ap_upper)
            .unwrap_or_default();
        let first = body.next().map(String::as_str).unwrap_or("");
        lines.push((
            Cow::Owned(format!(
                "{month} {} {} ({}) \u{2014} {first}",
                date.day(),
                date.year(),
                settings.credit
            )),
            true,
        ));
    }
    lines.extend(body.map(|p| (Cow::Borrowed(p.as_str()), false)));
    let mut footer: Vec<(Cow<'_, str>, bool)> = paragraphs[body_end..]
        .iter()
        .map(|p| (Cow::Borrowed(p.as_str()), false))
        .collect();
    if !footer.iter().any(|(p, _)| is_end_mark(p)) {
        footer.insert(0, (Cow::Borrowed("ENDS"), true));
    }
    let synthetic_issue = !footer.iter().any(|(p, _)| is_issue_line(p));
    if synthetic_issue {
        let at = footer
            .iter()
            .position(|(p, _)| is_end_mark(p))
            .map_or(0, |i| i + 1);
        footer.insert(
            at,
            (
                Cow::Owned(format!(
                    "\u{2014} This story was published in issue 1 of the {}, on {}",
                    settings.holder,
                    format_issue_date(date)
                )),
                true,
            ),
        );
    }
    let synthetic_copyright = !footer.iter().any(|(p, _)| is_copyright_line(p));
    if synthetic_copyright {
        let at = footer
            .iter()
            .position(|(p, _)| is_issue_line(p))
            .map_or(footer.len(), |i| i + 1);
        footer.insert(
            at,
            (
                Cow::Owned(format!(
                    "\u{2014} Copyright the {} {}",
                    settings.holder,
                    date.year()
                )),
                true,
            ),
        );
    }
    lines.extend(footer);

    // One paragraph per line, blank lines between: line n of `lines` is line
    // 2n + 1 of the text.
    let mut text = String::with_capacity(lines.iter().map(|(l, _)| l.len() + 2).sum());
    for (line, _) in &lines {
        text.push_str(line);
        text.push_str("\n\n");
    }
    let synthetic_line = |line: u64| {
        line % 2 == 1
            && lines
                .get(usize::try_from(line / 2).unwrap_or(usize::MAX))
                .is_some_and(|(_, synthetic)| *synthetic)
    };
    let dateline_line = 3;

    let mut stories = Vec::new();
    for item in bulletin_text::Reader::new(text.as_bytes()) {
        match item {
            Ok(parsed) => stories.push(parsed),
            Err(e) => {
                let quoted: String = e.source_line.chars().take(80).collect();
                return Err(Unread::Error(if quoted.is_empty() {
                    e.message
                } else {
                    format!("{}, at “{quoted}”", e.message)
                }));
            }
        }
    }
    if stories.len() > 1 {
        return Err(Unread::Several(stories.len()));
    }
    let Some(parsed) = stories.pop() else {
        return Err(Unread::Error("it finds no story".to_owned()));
    };
    let mut story = parsed.story;
    let mut warnings: Vec<String> = parsed
        .warnings
        .into_iter()
        .filter(|w| !synthetic_line(w.line))
        // With an invented issue, what the reader says about the dateline and
        // "the issue" is said again below in terms of the post's date.
        .filter(|w| !(synthetic_issue && w.line == dateline_line))
        .map(|w| w.message)
        .collect();
    if synthetic_issue {
        story.issue = None;
        story.first_published = false;
        if !synthetic_dateline {
            if story.dateline.year_inferred {
                warnings.push(format!(
                    "the dateline has no year; {} was inferred from the post's date ({})",
                    story.dateline.date.year(),
                    format_issue_date(date)
                ));
            }
            if story.dateline.date > date {
                warnings.push(format!(
                    "the dateline ({}) is after the post's date ({})",
                    format_issue_date(story.dateline.date),
                    format_issue_date(date)
                ));
            }
        }
    }
    if synthetic_copyright {
        story.copyright = Copyright {
            holder: settings.holder.clone(),
            year: story.dateline.date.year(),
        };
    }
    Ok((story, warnings))
}

// The text reader's own tests for what a dateline, `ENDS` and the footers look like,
// mirrored here (the reader keeps them private) to decide whether a body holds
// bulletin text at all. The reader remains the judge of what it means.

/// `[PLACE/]*MONTH DAY [YEAR] (CREDIT) — ...`: a month and a day right before a
/// parenthesis near the start, and a dash after it.
fn looks_like_dateline(paragraph: &str) -> bool {
    let text = trim(paragraph);
    let Some(open) = text.find('(') else {
        return false;
    };
    if open > 200 {
        return false;
    }
    let Some(close) = text[open..].find(')').map(|i| open + i) else {
        return false;
    };
    let after = trim(&text[close + 1..]);
    if !(after.starts_with('\u{2014}') || after.starts_with('\u{2013}') || after.starts_with('-')) {
        return false;
    }
    let head = &text[..open];
    let date_part = head.rsplit('/').next().unwrap_or(head);
    let words: Vec<&str> = date_part
        .split(|c: char| is_space(c) || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    let is_day = |w: &str| {
        w.len() <= 2
            && w.bytes().all(|b| b.is_ascii_digit())
            && w.parse::<u8>().is_ok_and(|d| (1..=31).contains(&d))
    };
    let is_year = |w: &str| w.len() == 4 && w.bytes().all(|b| b.is_ascii_digit());
    match words[..] {
        [.., month, day, year] if Month::parse(month).is_some() && is_day(day) && is_year(year) => {
            true
        }
        [.., month, day] => Month::parse(month).is_some() && is_day(day),
        _ => false,
    }
}

/// Trims and folds every whitespace run to one space, keeping a lone no-break
/// space (as the text reader does).
fn collapse(text: &str) -> Cow<'_, str> {
    let trimmed = trim(text);
    if !needs_folding(trimmed) {
        return Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    let mut chars = trimmed.chars().peekable();
    while let Some(c) = chars.next() {
        if is_space(c) {
            if chars.peek().is_some_and(|&n| is_space(n)) {
                while chars.peek().is_some_and(|&n| is_space(n)) {
                    chars.next();
                }
                out.push(' ');
            } else if c == '\u{a0}' {
                out.push(c);
            } else {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether [`collapse`] has anything to change: two spaces in a row, or a space
/// other than ' ' and a lone NBSP. A byte scan: almost every paragraph has none.
fn needs_folding(text: &str) -> bool {
    let bytes = text.as_bytes();
    if memchr::memmem::find(bytes, b"  ").is_some()
        || memchr::memchr3(b'\t', b'\n', b'\r', bytes).is_some()
        || memchr::memchr2(0x0B, 0x0C, bytes).is_some()
    {
        return true;
    }
    if bytes.is_ascii() {
        return false;
    }
    let mut previous_space = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            let space = b == b' ';
            if (space && previous_space) || (!space && b.is_ascii_whitespace()) || b == 0x0B {
                return true;
            }
            previous_space = space;
            i += 1;
        } else {
            let Some(c) = text[i..].chars().next() else {
                return false;
            };
            let space = is_space(c);
            if space && (previous_space || c != '\u{a0}') {
                return true;
            }
            previous_space = space;
            i += c.len_utf8();
        }
    }
    false
}

/// `%D0%B0` → `а`: WordPress stores non-ASCII slugs percent-encoded. Bytes that do
/// not decode to UTF-8 leave the text as it was.
pub(crate) fn percent_decode(text: &str) -> Cow<'_, str> {
    if !text.contains('%') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(_) => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn post(title: &str, paragraphs: &[&str]) -> Post {
        Post {
            title: title.into(),
            slug: None,
            date: Some(date(2021, 7, 20)),
            paragraphs: paragraphs.iter().map(|p| p.to_string()).collect(),
            tags: vec!["rights".into()],
        }
    }

    #[test]
    fn plain_post() {
        let made = to_story(post(" A  title ", &["One.", "Two."]), &Settings::default()).unwrap();
        let s = &made.story;
        assert_eq!(s.headline, "A title");
        assert_eq!(s.slug, "a-title");
        assert_eq!(s.dateline.places, Vec::<String>::new());
        assert_eq!(s.dateline.credit, "The Bulletin");
        assert_eq!(s.issue, None);
        assert_eq!(s.copyright.year, 2021);
        assert!(made.warnings.is_empty());
    }

    #[test]
    fn dateline_only_body_gets_its_dateline_and_no_issue() {
        let made = to_story(
            post(
                "Court fines editor",
                &[
                    "TBILISI/JULY 18 (The Bulletin) \u{2014} A court fined an editor.",
                    "More.",
                ],
            ),
            &Settings::default(),
        )
        .unwrap();
        let s = &made.story;
        assert_eq!(s.dateline.places, ["Tbilisi"]);
        assert_eq!(s.dateline.date, date(2021, 7, 18));
        assert!(s.dateline.year_inferred);
        assert_eq!(s.body, ["A court fined an editor.", "More."]);
        assert_eq!(s.issue, None);
        assert_eq!(s.countries, ["GE"]);
        assert_eq!(made.warnings.len(), 1, "{:?}", made.warnings);
        assert!(made.warnings[0].contains("inferred from the post's date"));
    }

    #[test]
    fn broken_bulletin_text_falls_back_with_the_readers_words() {
        let made = to_story(
            post(
                "T",
                &[
                    "JULY 18 2021 (The Bulletin) \u{2014} Text.",
                    "ENDS",
                    "\u{2014} This story was published in issue x of the B",
                ],
            ),
            &Settings::default(),
        )
        .unwrap();
        assert_eq!(made.story.issue, None);
        assert_eq!(made.story.body.len(), 3);
        assert!(
            made.warnings[0].contains("unreadable issue number"),
            "{:?}",
            made.warnings
        );
    }

    #[test]
    fn errors_and_fixes() {
        let mut p = post("T", &[]);
        assert_eq!(
            to_story(p.clone(), &Settings::default()).unwrap_err(),
            "it has no text"
        );
        p.paragraphs = vec!["x".repeat(MAX_PARAGRAPH + 1)];
        assert!(
            to_story(p.clone(), &Settings::default())
                .unwrap_err()
                .contains("paragraph 1")
        );
        p.paragraphs = vec!["Words here".into()];
        p.date = None;
        assert_eq!(
            to_story(p.clone(), &Settings::default()).unwrap_err(),
            "it has no date"
        );
        let untitled = post(
            "",
            &[
                "ALMATY/JULY 19 2021 (The Bulletin) \u{2014} Smoke covered the city.",
                "More.",
            ],
        );
        let made = to_story(untitled, &Settings::default()).unwrap();
        assert_eq!(made.story.headline, "Smoke covered the city.");
        assert_eq!(made.story.dateline.places, ["Almaty"]);
        let mut p = post(
            "",
            &["The first words of a post that has no title at all, none."],
        );
        p.tags = vec!["a, b".into(), "c".into(), "c".into()];
        p.slug = Some("%D0%B0%D0%BB%D0%BC%D0%B0%D1%82%D1%8B".into());
        let made = to_story(p, &Settings::default()).unwrap();
        assert_eq!(
            made.story.headline,
            "The first words of a post that has no title\u{2026}"
        );
        assert_eq!(made.story.tags, ["a b", "c"]);
        assert_eq!(made.story.slug, "almaty");
        assert_eq!(made.warnings.len(), 2);
    }

    #[test]
    fn datelines_recognised() {
        assert!(looks_like_dateline(
            "BAKU/ALMATY/JULY 18 2021 (The Bulletin) \u{2014} x"
        ));
        assert!(looks_like_dateline("NOV. 2 (RFE/RL) \u{2013}x"));
        assert!(looks_like_dateline(
            "BAKU, JULY 18, 2021 (The Bulletin) - x"
        ));
        assert!(!looks_like_dateline(
            "The minister (who spoke) \u{2014} said"
        ));
        assert!(!looks_like_dateline("In May 2021 (the year of) \u{2014} x"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("%ff%zz"), "%ff%zz");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
