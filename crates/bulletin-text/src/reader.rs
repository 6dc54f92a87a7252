//! The streaming reader: one story in memory at a time, whatever the file's size.

use std::collections::VecDeque;
use std::io::BufRead;

use bulletin_core::{
    Access, Copyright, Date, Dateline, IssueRef, Month, Story, format_issue_date, infer_year,
    infer_year_from_copyright, place_display_name, slugify,
};

use crate::diagnostic::{Diagnostic, Severity, column_of};
use crate::lint::IssueSequence;

/// A whole file read into memory: its header tag and its stories. For tests and
/// small inputs; large files go through [`Reader`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// `Tag Archives: TAG`
    pub tag: Option<String>,
    pub stories: Vec<Story>,
}

/// Where a story's parts stand in the file (1-based line numbers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoryLines {
    pub headline: u64,
    pub dateline: u64,
    pub issue: u64,
    pub copyright: u64,
}

/// A story as read, with its positions and the warnings found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedStory {
    pub story: Story,
    pub lines: StoryLines,
    pub warnings: Vec<Diagnostic>,
}

/// Reads a whole string; all errors (and no stories) if there is any error.
pub fn read_str(text: &str) -> Result<Document, Vec<Diagnostic>> {
    let mut reader = Reader::new(text.as_bytes());
    let mut stories = Vec::new();
    let mut errors = Vec::new();
    for item in &mut reader {
        match item {
            Ok(parsed) => stories.push(parsed.story),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(Document {
            tag: reader.header_tag().map(str::to_owned),
            stories,
        })
    } else {
        Err(errors)
    }
}

/// Where the reader is within a story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Headline,
    Dateline,
    Body,
    IssueLine,
    Copyright,
    AfterCopyright,
}

/// The date part of a dateline, before any year is inferred.
#[derive(Debug, Clone, Copy)]
struct DatelineDate {
    month: Month,
    day: i8,
    year: Option<i16>,
    /// Byte offset of the month in the dateline's line, for messages.
    at: usize,
}

/// The story being assembled.
#[derive(Debug, Default)]
struct Draft {
    headline: String,
    lines: StoryLines,
    places: Vec<String>,
    date: Option<DatelineDate>,
    dateline_source: String,
    credit: String,
    body: Vec<String>,
    paragraph_open: bool,
    issue: Option<(u32, Option<Date>, bool, String)>,
    issue_source: String,
    copyright: Option<Copyright>,
    copyright_source: String,
    tags: Vec<String>,
    failed: bool,
}

/// Reads bulletin text story by story from any [`BufRead`].
///
/// Yields each story, or an error [`Diagnostic`] for each problem; a story with an
/// error is not yielded. After the last item, [`Reader::finish`] gives the
/// file-level warnings (issue numbers out of sequence).
pub struct Reader<R> {
    input: R,
    buf: Vec<u8>,
    line_no: u64,
    state: State,
    header_tag: Option<String>,
    draft: Draft,
    out: VecDeque<Result<ParsedStory, Diagnostic>>,
    eof: bool,
    sequence: IssueSequence,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Reader<R> {
        Reader {
            input,
            buf: Vec::with_capacity(4096),
            line_no: 0,
            state: State::Start,
            header_tag: None,
            draft: Draft::default(),
            out: VecDeque::new(),
            eof: false,
            sequence: IssueSequence::default(),
        }
    }

    /// The `Tag Archives:` header's tag, once the reader has passed it.
    pub fn header_tag(&self) -> Option<&str> {
        self.header_tag.as_deref()
    }

    /// File-level warnings, available once the stories are read: issue numbers
    /// that do not fit the sequence of issue dates.
    pub fn finish(self) -> Vec<Diagnostic> {
        self.sequence.finish()
    }

    fn error(&mut self, line: u64, column: u64, message: impl Into<String>, source: &str) {
        self.draft.failed = true;
        self.out.push_back(Err(Diagnostic::new(
            Severity::Error,
            line,
            column,
            message,
            source,
        )));
    }

    /// Reads and handles one line; false at end of input.
    fn step(&mut self) -> bool {
        self.buf.clear();
        match self.input.read_until(b'\n', &mut self.buf) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(e) => {
                let line = self.line_no + 1;
                self.error(line, 1, format!("cannot read input: {e}"), "");
                return false;
            }
        }
        self.line_no += 1;
        // Take the buffer so the handler can borrow `self` mutably; put it back after.
        let buf = std::mem::take(&mut self.buf);
        let mut bytes: &[u8] = &buf;
        if let Some(rest) = bytes.strip_suffix(b"\n") {
            bytes = rest;
        }
        if let Some(rest) = bytes.strip_suffix(b"\r") {
            bytes = rest;
        }
        if self.line_no == 1
            && let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF")
        {
            bytes = rest;
        }
        match std::str::from_utf8(bytes) {
            Ok(line) => self.handle(line),
            Err(e) => {
                let good = e.valid_up_to();
                let prefix = String::from_utf8_lossy(&bytes[..good]);
                let column = prefix.chars().count() as u64 + 1;
                let lossy = String::from_utf8_lossy(bytes).into_owned();
                let line = self.line_no;
                self.error(
                    line,
                    column,
                    format!(
                        "this line is not valid UTF-8 (byte 0x{:02X}); save the file as UTF-8",
                        bytes[good]
                    ),
                    &lossy,
                );
                // Keep the structure going so later problems are found too.
                self.handle(&lossy);
            }
        }
        self.buf = buf;
        true
    }

    fn handle(&mut self, raw: &str) {
        let text = trim(raw);
        if text.is_empty() {
            if self.state == State::Body {
                self.draft.paragraph_open = false;
            }
            return;
        }
        let line = self.line_no;
        match self.state {
            State::Start => {
                if let Some(tag) = strip_prefix_ci(text, "Tag Archives:") {
                    let tag = trim(tag);
                    if tag.is_empty() {
                        self.error(line, 1, "the Tag Archives header names no tag", raw);
                    } else {
                        self.header_tag = Some(tag.to_owned());
                    }
                    self.state = State::Headline;
                } else {
                    self.start_story(raw, text);
                }
            }
            State::Headline => self.start_story(raw, text),
            State::Dateline => self.dateline(raw, text),
            State::Body => {
                if is_end_mark(text) {
                    self.draft.paragraph_open = false;
                    self.state = State::IssueLine;
                } else if is_issue_line(text) || is_copyright_line(text) {
                    let headline_line = self.draft.lines.headline;
                    self.error(
                        line,
                        1,
                        format!(
                            "the story that starts at line {headline_line} has no end mark: expected ENDS before its footer"
                        ),
                        raw,
                    );
                    self.state = State::IssueLine;
                    self.handle(raw);
                } else {
                    let cleaned = clean_paragraph(text);
                    let draft = &mut self.draft;
                    match draft.body.last_mut() {
                        // A paragraph hard-wrapped over several lines is one paragraph.
                        Some(last) if draft.paragraph_open => {
                            if !last.is_empty() {
                                last.push(' ');
                            }
                            last.push_str(&cleaned);
                        }
                        _ => draft.body.push(cleaned),
                    }
                    draft.paragraph_open = true;
                }
            }
            State::IssueLine => {
                if starts_copyright(text) {
                    self.error(
                        line,
                        1,
                        "the issue footer is missing: expected “— This story was published in issue N of the PUBLICATION, on DATE” before the copyright line",
                        raw,
                    );
                    self.state = State::Copyright;
                    self.handle(raw);
                } else if starts_issue_line(text) {
                    self.issue_line(raw, text);
                    self.state = State::Copyright;
                } else {
                    let ends_line = line;
                    self.error(
                        ends_line,
                        1,
                        "the story has no footer: expected “— This story was published in issue N of the PUBLICATION, on DATE” after ENDS",
                        raw,
                    );
                    // Most likely the next story's headline.
                    self.end_story();
                    self.start_story(raw, text);
                }
            }
            State::Copyright => {
                if starts_copyright(text) {
                    self.copyright_line(raw, text);
                    self.state = State::AfterCopyright;
                } else {
                    self.error(
                        line,
                        1,
                        "the copyright footer is missing: expected “— Copyright the PUBLICATION YEAR” after the issue footer",
                        raw,
                    );
                    self.end_story();
                    self.start_story(raw, text);
                }
            }
            State::AfterCopyright => {
                if let Some(tags) = tags_line(text) {
                    for tag in tags.split(',').map(trim).filter(|t| !t.is_empty()) {
                        if !self.draft.tags.iter().any(|t| t == tag) {
                            self.draft.tags.push(tag.to_owned());
                        }
                    }
                    self.end_story();
                    self.state = State::Headline;
                } else {
                    self.end_story();
                    self.start_story(raw, text);
                }
            }
        }
    }

    fn start_story(&mut self, raw: &str, text: &str) {
        self.draft = Draft {
            headline: clean_paragraph(text),
            lines: StoryLines {
                headline: self.line_no,
                ..StoryLines::default()
            },
            tags: self.header_tag.iter().cloned().collect(),
            ..Draft::default()
        };
        self.state = State::Dateline;
        if is_end_mark(text) || is_issue_line(text) || is_copyright_line(text) {
            self.error(
                self.line_no,
                1,
                "expected a headline here, but this is a story's end mark or footer",
                raw,
            );
        }
    }

    fn dateline(&mut self, raw: &str, text: &str) {
        let line = self.line_no;
        self.draft.lines.dateline = line;
        self.draft.dateline_source = raw.to_owned();
        self.state = State::Body;
        match parse_dateline(raw) {
            Ok(parsed) => {
                self.draft.places = parsed.places;
                self.draft.date = Some(parsed.date);
                self.draft.credit = parsed.credit;
                let first = clean_paragraph(parsed.first_paragraph);
                self.draft.paragraph_open = true;
                self.draft.body.push(first);
            }
            Err((at, message)) => {
                self.error(line, column_of(raw, at), message, raw);
                // Read on as body so the rest of the story is checked too.
                self.draft.body.push(clean_paragraph(text));
                self.draft.paragraph_open = true;
            }
        }
    }

    fn issue_line(&mut self, raw: &str, text: &str) {
        let line = self.line_no;
        self.draft.lines.issue = line;
        self.draft.issue_source = raw.to_owned();
        match parse_issue_line(raw, text) {
            Ok(issue) => {
                self.sequence.observe(issue.0, issue.1, line, raw);
                self.draft.issue = Some(issue);
            }
            Err((at, message)) => self.error(line, column_of(raw, at), message, raw),
        }
    }

    fn copyright_line(&mut self, raw: &str, text: &str) {
        let line = self.line_no;
        self.draft.lines.copyright = line;
        self.draft.copyright_source = raw.to_owned();
        match parse_copyright(raw, text) {
            Ok(c) => self.draft.copyright = Some(c),
            Err((at, message)) => self.error(line, column_of(raw, at), message, raw),
        }
    }

    /// Turns the draft into a story (or errors) at the end of its footers.
    fn end_story(&mut self) {
        let draft = std::mem::take(&mut self.draft);
        self.state = State::Headline;
        if draft.failed {
            return;
        }
        let (Some(dd), Some(copyright)) = (draft.date, draft.copyright.clone()) else {
            return;
        };
        let Some((number, issue_date, first_published, publication)) = draft.issue.clone() else {
            return;
        };
        let mut warnings = Vec::new();
        let dl_line = draft.lines.dateline;
        let dl_src = draft.dateline_source.as_str();
        let month_col = column_of(dl_src, dd.at);
        let warn = |warnings: &mut Vec<Diagnostic>, line, col, msg: String, src: &str| {
            warnings.push(Diagnostic::new(Severity::Warning, line, col, msg, src));
        };
        let (date, year_inferred) = match dd.year {
            Some(year) => match Date::new(year, dd.month.number(), dd.day) {
                Ok(d) => (d, false),
                Err(_) => {
                    self.error(
                        dl_line,
                        month_col,
                        format!(
                            "impossible date: {} {} {year} does not exist",
                            dd.month.ap_upper(),
                            dd.day
                        ),
                        dl_src,
                    );
                    return;
                }
            },
            None => {
                let (inferred, from) = match issue_date {
                    Some(issue_date) => (
                        infer_year(dd.month.number(), dd.day, issue_date),
                        format!("the issue date ({})", format_issue_date(issue_date)),
                    ),
                    None => (
                        infer_year_from_copyright(dd.month.number(), dd.day, copyright.year),
                        format!("the copyright year ({})", copyright.year),
                    ),
                };
                match inferred {
                    Some(d) => {
                        warn(
                            &mut warnings,
                            dl_line,
                            month_col,
                            format!(
                                "the dateline has no year; {} was inferred from {from}",
                                d.year()
                            ),
                            dl_src,
                        );
                        (d, true)
                    }
                    None => {
                        self.error(
                            dl_line,
                            month_col,
                            format!(
                                "impossible date: {} {} does not exist in the year given by {from}",
                                dd.month.ap_upper(),
                                dd.day
                            ),
                            dl_src,
                        );
                        return;
                    }
                }
            }
        };
        match issue_date {
            Some(issue_date) if date > issue_date => warn(
                &mut warnings,
                dl_line,
                month_col,
                format!(
                    "the dateline ({}) is after the date of issue {number} ({})",
                    format_issue_date(date),
                    format_issue_date(issue_date)
                ),
                dl_src,
            ),
            Some(_) => {}
            None => warn(
                &mut warnings,
                draft.lines.issue,
                1,
                format!("the issue line gives no date for issue {number}"),
                &draft.issue_source,
            ),
        }
        if copyright.year != date.year() {
            warn(
                &mut warnings,
                draft.lines.copyright,
                1,
                format!(
                    "the copyright year {} differs from the story's year {}",
                    copyright.year,
                    date.year()
                ),
                &draft.copyright_source,
            );
        }
        if !publication.eq_ignore_ascii_case(&copyright.holder) {
            warn(
                &mut warnings,
                draft.lines.issue,
                1,
                format!(
                    "the issue line names “{publication}” but the copyright line “{}”",
                    copyright.holder
                ),
                &draft.issue_source,
            );
        }
        let body: Vec<String> = draft.body.into_iter().filter(|p| !p.is_empty()).collect();
        let slug = match slugify(&draft.headline) {
            s if s.is_empty() => "story".to_owned(),
            s => s,
        };
        let mut story = Story {
            slug,
            headline: draft.headline,
            dateline: Dateline {
                places: draft.places,
                date,
                year_inferred,
                credit: draft.credit,
            },
            body,
            tags: draft.tags,
            countries: Vec::new(),
            issue: Some(IssueRef {
                number,
                date: issue_date,
            }),
            first_published,
            copyright,
            access: Access::Public,
        };
        story.countries = story.derive_countries();
        if let Err(e) = story.validate() {
            let line = draft.lines.headline;
            self.error(
                line,
                1,
                format!("this story cannot be stored: {e}"),
                &story.headline,
            );
            return;
        }
        self.out.push_back(Ok(ParsedStory {
            story,
            lines: draft.lines,
            warnings,
        }));
    }

    fn at_eof(&mut self) {
        let line = self.line_no;
        match self.state {
            State::Start | State::Headline => {}
            State::Dateline => {
                let at = self.draft.lines.headline;
                let headline = self.draft.headline.clone();
                self.error(
                    at,
                    1,
                    "the file ends after a headline with no story",
                    &headline,
                );
            }
            State::Body => {
                let at = self.draft.lines.headline;
                let headline = self.draft.headline.clone();
                self.error(
                    at,
                    1,
                    format!("the story that starts here has no end mark: the file ends at line {line} without ENDS"),
                    &headline,
                );
            }
            State::IssueLine => {
                let at = self.draft.lines.headline;
                let headline = self.draft.headline.clone();
                self.error(
                    at,
                    1,
                    "the story that starts here has no footer: the file ends after ENDS",
                    &headline,
                );
            }
            State::Copyright => {
                let at = self.draft.lines.issue;
                let src = self.draft.issue_source.clone();
                self.error(
                    at,
                    1,
                    "the copyright footer is missing: the file ends after the issue footer",
                    &src,
                );
            }
            State::AfterCopyright => self.end_story(),
        }
        self.state = State::Headline;
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<ParsedStory, Diagnostic>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.out.pop_front() {
                return Some(item);
            }
            if self.eof {
                return None;
            }
            if !self.step() {
                self.eof = true;
                self.at_eof();
            }
        }
    }
}

pub fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}' || c == '\u{feff}'
}

pub fn trim(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Trims and folds every run of two or more spaces (NBSP included) into one
/// space; a lone NBSP inside a paragraph is kept, it may be deliberate.
fn clean_paragraph(text: &str) -> String {
    let text = trim(text);
    if !needs_folding(text) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if is_space(c) {
            if chars.peek().is_some_and(|&n| is_space(n)) {
                while chars.peek().is_some_and(|&n| is_space(n)) {
                    chars.next();
                }
                out.push(' ');
            } else if c == '\t' || c == '\u{feff}' {
                out.push(' ');
            } else {
                out.push(c);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether [`clean_paragraph`] has anything to change: a run of spaces, a tab, or
/// any non-ASCII space. Almost every line has none, and this byte scan is far
/// cheaper than rebuilding the string char by char.
fn needs_folding(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut previous_space = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii() {
            let space = b == b' ';
            if (space && previous_space) || (b != b' ' && (b as char).is_whitespace()) {
                return true;
            }
            previous_space = space;
        } else if b >= 0xC0 {
            // A lead byte: decode just this character.
            if text[i..].chars().next().is_some_and(is_space) {
                return true;
            }
            previous_space = false;
        }
    }
    false
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Strips a leading dash (em, en, `--` or `-`) and the spaces after it.
pub fn strip_dash(s: &str) -> &str {
    let s = trim(s);
    let rest = s
        .strip_prefix('\u{2014}')
        .or_else(|| s.strip_prefix('\u{2013}'))
        .or_else(|| s.strip_prefix("--"))
        .or_else(|| s.strip_prefix('-'))
        .unwrap_or(s);
    trim(rest)
}

pub fn is_end_mark(text: &str) -> bool {
    let t = strip_dash(text);
    let t = t.strip_suffix('.').unwrap_or(t);
    t == "ENDS"
}

/// `— This story was [first ]published in issue …`: precise enough that a
/// paragraph opening "This story was first reported by …" stays a paragraph.
pub fn is_issue_line(text: &str) -> bool {
    let Some(rest) = strip_prefix_ci(strip_dash(text), "This story was ") else {
        return false;
    };
    let rest = strip_prefix_ci(rest, "first ").unwrap_or(rest);
    strip_prefix_ci(rest, "published in issue").is_some()
}

/// After ENDS, where a footer is expected, any line opening like one is read as
/// one, so that a damaged footer gets a precise message.
fn starts_issue_line(text: &str) -> bool {
    strip_prefix_ci(strip_dash(text), "This story was ").is_some()
}

fn starts_copyright(text: &str) -> bool {
    strip_prefix_ci(strip_dash(text), "Copyright ").is_some()
}

/// `— Copyright … YEAR`: a paragraph that merely opens with "Copyright" (and does
/// not end in a year, or runs long) stays a paragraph.
pub fn is_copyright_line(text: &str) -> bool {
    let body = strip_dash(text);
    let body = body.strip_suffix('.').unwrap_or(body);
    body.len() <= 300
        && strip_prefix_ci(body, "Copyright ").is_some()
        && body.len() >= 4
        && body.is_char_boundary(body.len() - 4)
        && body[body.len() - 4..].bytes().all(|b| b.is_ascii_digit())
}

fn tags_line(text: &str) -> Option<&str> {
    strip_prefix_ci(strip_dash(text), "Tags:")
}

/// Byte offset of `part` (a subslice of `whole`) within `whole`.
fn offset(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

type Positioned<T> = Result<T, (usize, String)>;

struct ParsedDateline<'a> {
    places: Vec<String>,
    date: DatelineDate,
    credit: String,
    first_paragraph: &'a str,
}

const DATELINE_FORM: &str =
    "expected a dateline such as “BAKU/JULY 18 2021 (The Bulletin) — first paragraph”";

fn parse_dateline(raw: &str) -> Positioned<ParsedDateline<'_>> {
    let line = trim(raw);
    let Some(open) = line.find('(') else {
        return Err((
            offset(raw, line),
            format!("unreadable dateline: no “(CREDIT)”; {DATELINE_FORM}"),
        ));
    };
    let Some(close_rel) = line[open..].find(')') else {
        return Err((
            offset(raw, line) + open,
            format!("unreadable dateline: the credit's “(” is never closed; {DATELINE_FORM}"),
        ));
    };
    let close = open + close_rel;
    let credit = trim(&line[open + 1..close]);
    if credit.is_empty() {
        return Err((
            offset(raw, line) + open,
            "unreadable dateline: the credit in parentheses is empty".into(),
        ));
    }
    let head = &line[..open];
    let mut segments: Vec<&str> = head.split('/').collect();
    let date_part = segments.pop().unwrap_or("");
    let mut places = Vec::with_capacity(segments.len());
    for seg in segments.iter().flat_map(|s| s.split(',')) {
        let place = trim(seg);
        if place.is_empty() {
            return Err((
                offset(raw, seg),
                format!("unreadable dateline: an empty place name; {DATELINE_FORM}"),
            ));
        }
        places.push(place_display_name(place));
    }
    // "BAKU, JULY 18 2021": commas also separate places, as long as what stands
    // before them is not already the date ("JULY 18, 2021").
    let mut date_part = date_part;
    while let Some((place, rest)) = date_part.split_once(',') {
        let first_word = date_part
            .split(is_space)
            .find(|w| !w.is_empty())
            .unwrap_or("");
        if Month::parse(first_word).is_some() || trim(place).is_empty() {
            break;
        }
        places.push(place_display_name(trim(place)));
        date_part = rest;
    }
    let date = parse_month_day_year(raw, date_part)?;
    let after = trim(&line[close + 1..]);
    let first = after
        .strip_prefix('\u{2014}')
        .or_else(|| after.strip_prefix('\u{2013}'))
        .or_else(|| after.strip_prefix("--"))
        .or_else(|| after.strip_prefix('-'));
    let Some(first) = first else {
        return Err((
            offset(raw, after),
            "unreadable dateline: expected a dash (—) after the credit".into(),
        ));
    };
    Ok(ParsedDateline {
        places,
        date,
        credit: credit.to_owned(),
        first_paragraph: trim(first),
    })
}

/// `JULY 18 2021`, `NOV. 2`, `Feb 28, 2021`.
fn parse_month_day_year(raw: &str, part: &str) -> Positioned<DatelineDate> {
    let mut words = part.split(is_space).filter(|w| !w.is_empty());
    let Some(month_word) = words.next() else {
        return Err((
            offset(raw, part),
            format!("unreadable dateline: no date before the credit; {DATELINE_FORM}"),
        ));
    };
    let at = offset(raw, month_word);
    let Some(month) = Month::parse(month_word) else {
        return Err((
            at,
            format!(
                "unknown month “{month_word}” in the dateline (expected e.g. JAN., FEB., MARCH, APRIL, SEPT.)"
            ),
        ));
    };
    let Some(day_word) = words.next() else {
        return Err((at, "unreadable dateline: the month has no day".into()));
    };
    let day_digits = day_word.strip_suffix(',').unwrap_or(day_word);
    let day = match day_digits.parse::<i8>() {
        Ok(d) if (1..=31).contains(&d) && day_digits.bytes().all(|b| b.is_ascii_digit()) => d,
        _ => {
            return Err((
                offset(raw, day_word),
                format!("unreadable day “{day_word}” in the dateline"),
            ));
        }
    };
    let year = match words.next() {
        None => None,
        Some(y) => match y.parse::<i16>() {
            Ok(v) if y.len() == 4 && (1000..=9999).contains(&v) => Some(v),
            _ => {
                return Err((
                    offset(raw, y),
                    format!("unreadable year “{y}” in the dateline"),
                ));
            }
        },
    };
    if let Some(extra) = words.next() {
        return Err((
            offset(raw, extra),
            format!("unexpected “{extra}” in the dateline's date; {DATELINE_FORM}"),
        ));
    }
    if Date::new(2000, month.number(), day).is_err() {
        // Not even in a leap year: FEB. 30, APRIL 31.
        return Err((
            at,
            format!("impossible date: {} {day} does not exist", month.ap_upper()),
        ));
    }
    Ok(DatelineDate {
        month,
        day,
        year,
        at,
    })
}

const ISSUE_FORM: &str =
    "expected “— This story was published in issue N of the PUBLICATION, on Month D YYYY”";

/// `— This story was [first ]published in issue N of the PUBLICATION[, [published ]on DATE][.]`
fn parse_issue_line(raw: &str, text: &str) -> Positioned<(u32, Option<Date>, bool, String)> {
    let fail = |at: &str, what: &str| Err((offset(raw, at), format!("{what}; {ISSUE_FORM}")));
    let body = strip_dash(text);
    let Some(rest) = strip_prefix_ci(body, "This story was ") else {
        return fail(body, "unreadable issue footer");
    };
    let (first, rest) = match strip_prefix_ci(rest, "first ") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let Some(rest) = strip_prefix_ci(rest, "published in issue ") else {
        return fail(rest, "unreadable issue footer");
    };
    // "issue 565", also "issue No. 565" and "issue #565".
    let rest = strip_prefix_ci(rest, "No. ")
        .or_else(|| rest.strip_prefix('#'))
        .unwrap_or(rest);
    let digits_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let number = match rest[..digits_len].parse::<u32>() {
        Ok(n) if n > 0 => n,
        _ => return fail(rest, "unreadable issue number"),
    };
    let rest = &rest[digits_len..];
    let Some(rest) = strip_prefix_ci(rest, " of ") else {
        return fail(rest, "expected “of the PUBLICATION” after the issue number");
    };
    let rest = trim(rest);
    let rest = rest.strip_suffix('.').map(trim).unwrap_or(rest);
    // The date follows the last " on " (", on", ", published on", or no comma at
    // all) when what comes next has a date's shape (month, day, four-digit year);
    // otherwise " on " belongs to the name ("the News on May Day").
    let looks_like_date = |text: &str| {
        let words: Vec<&str> = text.split(is_space).filter(|w| !w.is_empty()).collect();
        matches!(words[..], [a, b, y] if (Month::parse(a).is_some() || Month::parse(b).is_some())
            && y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
    };
    let (publication, date) = match rest.rfind(" on ") {
        Some(i) if looks_like_date(&rest[i + 4..]) => {
            let name = rest[..i].trim_end_matches(is_space);
            let name = name
                .strip_suffix("published")
                .or_else(|| name.strip_suffix("Published"))
                .unwrap_or(name);
            (name, Some(&rest[i + 4..]))
        }
        _ => (rest, None),
    };
    let publication = trim(publication).trim_end_matches(',');
    let publication = strip_prefix_ci(publication, "the ").unwrap_or(publication);
    let publication = trim(publication);
    if publication.is_empty() {
        return fail(rest, "the issue footer names no publication");
    }
    let date = match date {
        None => None,
        Some(d) => Some(parse_footer_date(raw, d)?),
    };
    Ok((number, date, first, publication.to_owned()))
}

/// `July 22 2021`, `Nov. 4 2021`, `June 23, 2020`.
fn parse_footer_date(raw: &str, text: &str) -> Positioned<Date> {
    let words: Vec<&str> = text.split(is_space).filter(|w| !w.is_empty()).collect();
    // "July 22 2021", or day first: "22 July 2021".
    let words = match words[..] {
        [d, m, y] if d.bytes().all(|b| b.is_ascii_digit()) && Month::parse(m).is_some() => {
            vec![m, d, y]
        }
        _ => words,
    };
    let [m, d, y] = words[..] else {
        return Err((
            offset(raw, text),
            format!(
                "unreadable issue date “{}” (expected e.g. July 22 2021)",
                trim(text)
            ),
        ));
    };
    let Some(month) = Month::parse(m) else {
        return Err((
            offset(raw, m),
            format!("unknown month “{m}” in the issue date"),
        ));
    };
    let d_digits = d.strip_suffix(',').unwrap_or(d);
    let (Ok(day), Ok(year)) = (d_digits.parse::<i8>(), y.parse::<i16>()) else {
        return Err((
            offset(raw, d),
            format!(
                "unreadable issue date “{}” (expected e.g. July 22 2021)",
                trim(text)
            ),
        ));
    };
    if y.len() != 4 {
        return Err((
            offset(raw, y),
            format!("unreadable year “{y}” in the issue date"),
        ));
    }
    Date::new(year, month.number(), day).map_err(|_| {
        (
            offset(raw, m),
            format!(
                "impossible issue date: {} {day} {year} does not exist",
                month.ap()
            ),
        )
    })
}

/// `— Copyright the PUBLICATION YEAR` (also `Copyright ©`, `(c)`).
fn parse_copyright(raw: &str, text: &str) -> Positioned<Copyright> {
    const FORM: &str = "expected “— Copyright the PUBLICATION YEAR”";
    let body = strip_dash(text);
    let Some(rest) = strip_prefix_ci(body, "Copyright ") else {
        return Err((
            offset(raw, body),
            format!("unreadable copyright footer; {FORM}"),
        ));
    };
    let rest = trim(rest);
    let rest = rest
        .strip_prefix('\u{a9}')
        .or_else(|| strip_prefix_ci(rest, "(c)"))
        .map(trim)
        .unwrap_or(rest);
    let rest = rest.strip_suffix('.').map(trim).unwrap_or(rest);
    let Some(space) = rest.rfind(is_space) else {
        return Err((
            offset(raw, rest),
            format!("the copyright footer has no year; {FORM}"),
        ));
    };
    let year_word = &rest[space..].trim_start_matches(is_space);
    let year = match year_word.parse::<i16>() {
        Ok(y) if year_word.len() == 4 && y >= 1000 => y,
        _ => {
            return Err((
                offset(raw, year_word),
                format!("unreadable copyright year “{year_word}”; {FORM}"),
            ));
        }
    };
    let holder = trim(rest[..space].trim_end_matches(|c| c == ',' || is_space(c)));
    let holder = strip_prefix_ci(holder, "the ").map(trim).unwrap_or(holder);
    if holder.is_empty() {
        return Err((
            offset(raw, rest),
            format!("the copyright footer names no holder; {FORM}"),
        ));
    }
    Ok(Copyright {
        holder: holder.to_owned(),
        year,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_fold_space_runs() {
        assert_eq!(clean_paragraph(" a\u{a0} b\u{a0}"), "a b");
        assert_eq!(clean_paragraph("10\u{a0}km"), "10\u{a0}km");
        assert_eq!(clean_paragraph("a\tb"), "a b");
    }

    #[test]
    fn dateline_forms() {
        let d = parse_dateline("BAKU/ALMATY/JULY 18 2021 (The Bulletin) \u{2013}Officials said")
            .ok()
            .unwrap();
        assert_eq!(d.places, ["Baku", "Almaty"]);
        assert_eq!(
            (d.date.month.number(), d.date.day, d.date.year),
            (7, 18, Some(2021))
        );
        assert_eq!(d.credit, "The Bulletin");
        assert_eq!(d.first_paragraph, "Officials said");
        let d = parse_dateline("FEB. 28 2021\u{a0} (The Bulletin) \u{2014}\u{a0} Police")
            .ok()
            .unwrap();
        assert_eq!(d.first_paragraph, "Police");
        let d = parse_dateline("JULY 28 (The Bulletin) \u{2014} x")
            .ok()
            .unwrap();
        assert_eq!(d.date.year, None);
        let d = parse_dateline("BAKU, TBILISI/JULY 18, 2021 (The Bulletin) \u{2014} x")
            .ok()
            .unwrap();
        assert_eq!(d.places, ["Baku", "Tbilisi"]);
        assert_eq!(
            (d.date.month.number(), d.date.day, d.date.year),
            (7, 18, Some(2021))
        );
        let e = parse_dateline("JULE 28 2021 (The Bulletin) \u{2014} x")
            .err()
            .unwrap();
        assert_eq!(e.0, 0);
        assert!(e.1.contains("unknown month"), "{}", e.1);
        let e = parse_dateline("ALMATY/FEB. 30 2021 (The Bulletin) \u{2014} x")
            .err()
            .unwrap();
        assert_eq!(e.0, 7);
        assert!(parse_dateline("no dateline here").is_err());
        assert!(parse_dateline("JULY 18 2021 (The Bulletin) no dash").is_err());
    }

    #[test]
    fn footer_forms() {
        let t = "\u{2014} This story was first published in issue 451 of the Central Asia & South Caucasus Bulletin, published on June 23 2020";
        let (n, d, first, p) = parse_issue_line(t, t).ok().unwrap();
        assert_eq!((n, d, first), (451, Date::new(2020, 6, 23).ok(), true));
        assert_eq!(p, "Central Asia & South Caucasus Bulletin");
        let t =
            "\u{2014} This story was published in issue 455 of the X Bulletin, on July 31 2020.";
        assert_eq!(
            parse_issue_line(t, t).ok().unwrap().1,
            Date::new(2020, 7, 31).ok()
        );
        let t = "\u{2014} This story was first published in issue 471 of the X Bulletin";
        assert_eq!(parse_issue_line(t, t).ok().unwrap().1, None);
        // No comma before "on", "No." and "#", a name with " on " in it.
        let t =
            "\u{2014} This story was published in issue No. 12 of the X Bulletin on Jan. 5 2022";
        let (n, d, _, p) = parse_issue_line(t, t).ok().unwrap();
        assert_eq!(
            (n, d, p.as_str()),
            (12, Date::new(2022, 1, 5).ok(), "X Bulletin")
        );
        let t =
            "\u{2014} This story was published in issue #12 of the News on Sunday, on Jan. 5 2022";
        let (n, d, _, p) = parse_issue_line(t, t).ok().unwrap();
        assert_eq!(
            (n, d, p.as_str()),
            (12, Date::new(2022, 1, 5).ok(), "News on Sunday")
        );
        let t = "\u{2014} This story was published in issue 12 of the X, on 23 April 2024";
        assert_eq!(
            parse_issue_line(t, t).ok().unwrap().1,
            Date::new(2024, 4, 23).ok()
        );
        let t = "\u{2014} This story was published in issue 12 of the News on Sunday";
        assert_eq!(parse_issue_line(t, t).ok().unwrap().3, "News on Sunday");
        let t = "\u{2014} This story was published in issue 12 of the News on May Day";
        assert_eq!(parse_issue_line(t, t).ok().unwrap().1, None);
        let t = "\u{2014} This story was published in issue 5 of the X, on Nov. 31 2021";
        assert!(parse_issue_line(t, t).is_err());
        let t = "\u{2014} Copyright the Central Asia & South Caucasus Bulletin 2024";
        let c = parse_copyright(t, t).ok().unwrap();
        assert_eq!(
            (c.holder.as_str(), c.year),
            ("Central Asia & South Caucasus Bulletin", 2024)
        );
        let t = "\u{2014} Copyright \u{a9} the Example Bulletin, 2024.";
        let c = parse_copyright(t, t).ok().unwrap();
        assert_eq!((c.holder.as_str(), c.year), ("Example Bulletin", 2024));
    }
}
