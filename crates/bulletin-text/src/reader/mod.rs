//! The streaming reader: one story in memory at a time, whatever the file's size.
//!
//! This module holds the state machine over lines; `lines` tells lines apart and
//! `parse` reads the dateline and the footers.

mod lines;
mod parse;

use std::collections::{HashSet, VecDeque};
use std::io::{self, BufRead};

use bulletin_core::{
    Access, Copyright, Date, Dateline, IssueRef, Month, Story, format_issue_date, infer_year,
    infer_year_from_copyright, slugify,
};

use crate::diagnostic::{Diagnostic, Severity, column_of};
use crate::limits::{MAX_LINE, MAX_STORY, MAX_TAGS};
use crate::lint::IssueSequence;
use lines::{clean_paragraph, starts_copyright, starts_issue_line, strip_prefix_ci, tags_line};
pub use lines::{is_copyright_line, is_end_mark, is_issue_line, is_space, strip_dash, trim};
use parse::{parse_copyright, parse_dateline, parse_issue_line};

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
    /// Bytes of headline and paragraphs kept, against [`MAX_STORY`].
    size: usize,
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

    /// Reads one line into `buf`, keeping at most [`MAX_LINE`] bytes of it (and
    /// its line end) and skipping the rest: the bytes read (0 at the end of
    /// input) and whether any were skipped.
    fn read_line(&mut self) -> io::Result<(usize, bool)> {
        self.buf.clear();
        let mut read = 0;
        let mut skipped = false;
        loop {
            let available = match self.input.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok((read, skipped));
            }
            let (chunk, ends) = match memchr::memchr(b'\n', available) {
                Some(i) => (&available[..=i], true),
                None => (available, false),
            };
            let room = (MAX_LINE + 2).saturating_sub(self.buf.len());
            let keep = chunk.len().min(room);
            self.buf.extend_from_slice(&chunk[..keep]);
            skipped |= keep < chunk.len();
            let used = chunk.len();
            read += used;
            self.input.consume(used);
            if ends {
                return Ok((read, skipped));
            }
        }
    }

    /// Reads and handles one line; false at end of input.
    fn step(&mut self) -> bool {
        let skipped = match self.read_line() {
            Ok((0, _)) => return false,
            Ok((_, skipped)) => skipped,
            Err(e) => {
                let line = self.line_no + 1;
                self.error(line, 1, format!("cannot read input: {e}"), "");
                return false;
            }
        };
        self.line_no += 1;
        if skipped || self.buf.trim_ascii_end().len() > MAX_LINE {
            let line = self.line_no;
            let kept = String::from_utf8_lossy(&self.buf[..self.buf.len().min(MAX_LINE)]);
            let kept = kept.into_owned();
            self.error(
                line,
                1,
                format!(
                    "this line is longer than {MAX_LINE} bytes; no paragraph is that long (the limit is {} characters)",
                    bulletin_core::MAX_PARAGRAPH
                ),
                &kept,
            );
            return true;
        }
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
                    if self.draft.failed && self.draft.size > MAX_STORY {
                        // Refused already: keep nothing more of it.
                        return;
                    }
                    self.draft.size += text.len() + 1;
                    if self.draft.size > MAX_STORY {
                        let headline_line = self.draft.lines.headline;
                        self.error(
                            line,
                            1,
                            format!(
                                "the story that starts at line {headline_line} holds more than {} MiB of text here; no story is that long (is an end mark missing?)",
                                MAX_STORY >> 20
                            ),
                            raw,
                        );
                        self.draft.body.clear();
                        return;
                    }
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
                    self.tags_line(raw, tags);
                    self.end_story();
                    self.state = State::Headline;
                } else {
                    self.end_story();
                    self.start_story(raw, text);
                }
            }
        }
    }

    /// Adds a `— Tags:` line's tags, each once, in first-seen order (a set makes
    /// it linear: a line of 200,000 tags took half a minute with a list).
    fn tags_line(&mut self, raw: &str, tags: &str) {
        let mut seen: HashSet<String> = self.draft.tags.iter().cloned().collect();
        for tag in tags.split(',').map(trim).filter(|t| !t.is_empty()) {
            if seen.contains(tag) {
                continue;
            }
            if self.draft.tags.len() >= MAX_TAGS {
                // `tag` is a piece of `raw`: its offset there is its column.
                let at = (tag.as_ptr() as usize).saturating_sub(raw.as_ptr() as usize);
                let line = self.line_no;
                self.error(
                    line,
                    column_of(raw, at),
                    format!("this story has more than {MAX_TAGS} tags; no story needs that many"),
                    raw,
                );
                return;
            }
            seen.insert(tag.to_owned());
            self.draft.tags.push(tag.to_owned());
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
            size: text.len(),
            ..Draft::default()
        };
        self.state = State::Dateline;
        // A "— Tags:" line taken as a headline would be written back after the
        // story before it and read as that story's tags (found by fuzzing).
        if is_end_mark(text) || is_issue_line(text) || is_copyright_line(text) {
            self.error(
                self.line_no,
                1,
                "expected a headline here, but this is a story's end mark or footer",
                raw,
            );
        } else if tags_line(text).is_some() {
            self.error(
                self.line_no,
                1,
                "expected a headline here, but this is a “— Tags:” line, which belongs right after a story's copyright line",
                raw,
            );
        }
    }

    fn dateline(&mut self, raw: &str, text: &str) {
        let line = self.line_no;
        self.draft.lines.dateline = line;
        self.draft.size += text.len() + 1;
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
