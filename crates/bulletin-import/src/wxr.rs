//! WordPress eXtended RSS (WXR) exports.
//!
//! [`read`] streams an export with `quick-xml`, one event and one `<item>` in memory
//! at a time, whatever the file's size, and yields [`Item`]s in file order: the site,
//! tags and categories (with redirects from their old addresses), each post as a
//! story with its old addresses, and everything not imported (pages, attachments,
//! menu items, comments, ...) as [`Item::Skipped`].
//!
//! Safety: no DTD is processed and no entity is expanded. A document type
//! declaration with an internal subset or an external identifier is refused (a
//! WordPress export has none), entity references other than XML's five and numeric
//! character references are errors, every single event is capped in size (a DTD
//! before the root element at 1 MiB), and every byte must be UTF-8. Any such problem,
//! and any malformed XML, is an `Err` with line, column and the line quoted; the
//! iterator ends after it, so the caller can roll back the whole import.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, BufRead, Read};

use bulletin_core::{Tag, slugify};
use memchr::{memchr, memchr_iter, memrchr};
use quick_xml::events::{BytesStart, Event};

use crate::body::{self, Post, percent_decode};
use crate::{Diagnostic, ImportedStory, Item, PostStatus, Settings, Severity, html};

/// Largest single XML event (a tag, a text run, a CDATA section) accepted: far
/// beyond any real post (a few hundred kilobytes at most), small enough that
/// memory stays bounded even for a hostile file: sanitising HTML takes about
/// twelve times its size at its peak, so the worst body costs some 200 MB.
const MAX_EVENT: u64 = 16 << 20;
/// Before the root element only the XML declaration, comments and perhaps a
/// document type can stand; none needs more than this (WordPress writes ~1 KB).
const MAX_PROLOG_EVENT: u64 = 1 << 20;
/// Largest text kept for one field, and for one `<item>` in all.
const MAX_FIELD: usize = 16 << 20;
/// Deepest nesting of elements accepted (WordPress exports go five deep).
const MAX_DEPTH: usize = 256;
/// Bytes of the file kept behind the read position, to quote lines in messages.
const WINDOW: usize = 1 << 20;
/// Read buffer.
const CHUNK: usize = 64 << 10;
/// Longest quoted line in a message.
const MAX_QUOTE: usize = 1000;

/// Streams a WXR export from `input`; `name` is the file's name for messages.
/// See the module documentation.
pub fn read<R: BufRead>(name: &str, input: R, settings: &Settings) -> Reader<R> {
    let mut xml = quick_xml::Reader::from_reader(Tracker::new(input));
    let config = xml.config_mut();
    config.check_end_names = true;
    config.allow_dangling_amp = false;
    config.expand_empty_elements = false;
    config.trim_text(false);
    Reader {
        xml,
        buf: Vec::with_capacity(16 << 10),
        walker: Walker::new(name, settings),
    }
}

/// The iterator [`read`] returns.
pub struct Reader<R> {
    xml: quick_xml::Reader<Tracker<R>>,
    buf: Vec<u8>,
    walker: Walker,
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Item, Diagnostic>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.walker.out.pop_front() {
                return Some(item);
            }
            if self.walker.done {
                return None;
            }
            self.step();
        }
    }
}

impl<R: BufRead> Reader<R> {
    /// Reads one XML event and acts on it.
    fn step(&mut self) {
        let walker = &mut self.walker;
        if !walker.sniffed {
            walker.sniffed = true;
            match self.xml.get_mut().sniff() {
                Ok(None) => {}
                Ok(Some(message)) => {
                    walker.fatal(Diagnostic::new(Severity::Error, 1, 1, message, ""));
                    return;
                }
                Err(e) => {
                    walker.fatal(Diagnostic::new(
                        Severity::Error,
                        1,
                        1,
                        format!("cannot read the file: {e}"),
                        "",
                    ));
                    return;
                }
            }
        }
        let limit = if walker.root == Root::NotSeen {
            MAX_PROLOG_EVENT
        } else {
            MAX_EVENT
        };
        walker.mark = self.xml.get_mut().begin_event(limit);
        self.buf.clear();
        let result = self.xml.read_event_into(&mut self.buf);
        let tracker = self.xml.get_ref();
        let outcome = match result {
            Ok(event) => walker.event(event, tracker),
            Err(e) => Err(walker.xml_error(&e, self.xml.error_position(), tracker)),
        };
        if let Err(diagnostic) = outcome {
            walker.fatal(diagnostic);
        }
    }
}

/// A place in the file: byte offset, 1-based line, and where that line starts.
#[derive(Debug, Clone, Copy, Default)]
struct Mark {
    pos: u64,
    line: u64,
    line_start: u64,
}

/// The input, read through a buffer of its own so that every byte the XML parser
/// consumes is seen once: lines are counted, the last stretch of the file is kept
/// for quoting, and each event's size is capped.
struct Tracker<R> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// Bytes consumed (after a UTF-8 byte order mark, which the parser never sees).
    pos: u64,
    /// 1-based line at `pos`, and the offset where that line starts.
    line: u64,
    line_start: u64,
    /// The last bytes consumed, from offset `window_start`.
    window: Vec<u8>,
    window_start: u64,
    /// Bytes consumed since the current event began, and the cap.
    used: u64,
    limit: u64,
    over_limit: bool,
}

impl<R: BufRead> Tracker<R> {
    fn new(inner: R) -> Tracker<R> {
        Tracker {
            inner,
            buf: vec![0; CHUNK].into_boxed_slice(),
            start: 0,
            end: 0,
            pos: 0,
            line: 1,
            line_start: 0,
            window: Vec::with_capacity(2 * WINDOW),
            window_start: 0,
            used: 0,
            limit: MAX_PROLOG_EVENT,
            over_limit: false,
        }
    }

    /// Looks at the first bytes: skips a UTF-8 byte order mark, and names the
    /// encodings that are certainly not UTF-8.
    fn sniff(&mut self) -> io::Result<Option<&'static str>> {
        while self.end < 4 {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => break,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let head = &self.buf[..self.end];
        if head.starts_with(b"\xEF\xBB\xBF") {
            self.start = 3;
        } else if head.starts_with(b"\xFE\xFF")
            || head.starts_with(b"\xFF\xFE")
            || head.starts_with(b"<\0")
            || head.starts_with(b"\0<")
        {
            return Ok(Some(
                "the file is UTF-16, not UTF-8; bulletin reads UTF-8 only: save the export as UTF-8 and import it again",
            ));
        }
        Ok(None)
    }

    fn begin_event(&mut self, limit: u64) -> Mark {
        self.used = 0;
        self.limit = limit;
        Mark {
            pos: self.pos,
            line: self.line,
            line_start: self.line_start,
        }
    }

    /// The last line that has anything on it (a final line end opens no line).
    fn last_line(&self) -> u64 {
        if self.window.last() == Some(&b'\n') {
            self.line.saturating_sub(1).max(1)
        } else {
            self.line
        }
    }

    /// Line, column and quoted line of offset `at` (at most the current position).
    /// Exact while `at` is within the kept window; before it (only the start of an
    /// event over a megabyte long), the line from `fallback` and a byte column.
    fn locate(&self, at: u64, fallback: Mark) -> (u64, u64, String) {
        let at = at.min(self.pos);
        if at < self.window_start {
            let column = at.saturating_sub(fallback.line_start) + 1;
            return (fallback.line, column, String::new());
        }
        let w = &self.window;
        let idx = usize::try_from(at - self.window_start)
            .unwrap_or(w.len())
            .min(w.len());
        let after = memchr_iter(b'\n', &w[idx..]).count() as u64;
        let line = self.line - after;
        let line_start = memrchr(b'\n', &w[..idx]).map_or(0, |i| i + 1);
        let mut column = chars(&w[line_start..idx]) + 1;
        if line_start == 0 && self.window_start > 0 && line == self.line {
            // The line began before the window: count its earlier part in bytes.
            column += self.window_start.saturating_sub(self.line_start);
        }
        let quote = self.quote(line_start, idx);
        (line, column, quote)
    }

    /// The line through window index `from`, to its end (looking ahead into the
    /// unread buffer when the parser stopped mid-line).
    fn quote(&self, from: usize, through: usize) -> String {
        let w = &self.window;
        let mut bytes: Vec<u8> = match memchr(b'\n', &w[through..]) {
            Some(i) => w[from..through + i].to_vec(),
            None => {
                let mut v = w[from..].to_vec();
                let ahead = &self.buf[self.start..self.end];
                let take = memchr(b'\n', ahead).unwrap_or(ahead.len());
                v.extend_from_slice(&ahead[..take]);
                v
            }
        };
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        let text = String::from_utf8_lossy(&bytes);
        if text.chars().count() > MAX_QUOTE {
            let mut cut: String = text.chars().take(MAX_QUOTE).collect();
            cut.push('\u{2026}');
            cut
        } else {
            text.into_owned()
        }
    }

    /// Column and quoted line of a mark, cheaply (for warnings about an item):
    /// exact when its line is short and still in the window.
    fn at_mark(&self, mark: Mark) -> (u64, String) {
        let bytes_before = mark.pos.saturating_sub(mark.line_start);
        if mark.line_start < self.window_start || bytes_before > 4096 {
            return (bytes_before + 1, String::new());
        }
        let from = usize::try_from(mark.line_start - self.window_start).unwrap_or(0);
        let through = usize::try_from(mark.pos - self.window_start).unwrap_or(from);
        let w = &self.window;
        if through > w.len() {
            return (bytes_before + 1, String::new());
        }
        let column = chars(&w[from..through]) + 1;
        let end = memchr(b'\n', &w[through..]).map_or(w.len(), |i| through + i);
        if end - from > MAX_QUOTE * 4 {
            return (column, String::new());
        }
        let mut line = String::from_utf8_lossy(&w[from..end]).into_owned();
        if line.ends_with('\r') {
            line.pop();
        }
        (column, line)
    }
}

/// Characters in (possibly cut) UTF-8 bytes: every byte that does not continue one.
fn chars(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64
}

impl<R: BufRead> Read for Tracker<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Tracker<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.used > self.limit {
            self.over_limit = true;
            return Err(io::Error::other("an XML event is too large"));
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => {
                        self.end = n;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(&self.buf[self.start..self.end])
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.end - self.start);
        let chunk = &self.buf[self.start..self.start + amount];
        let mut newlines = 0;
        let mut last = None;
        for i in memchr_iter(b'\n', chunk) {
            newlines += 1;
            last = Some(i);
        }
        if let Some(i) = last {
            self.line += newlines;
            self.line_start = self.pos + i as u64 + 1;
        }
        self.window.extend_from_slice(chunk);
        if self.window.len() > 2 * WINDOW {
            let drop = self.window.len() - WINDOW;
            self.window.drain(..drop);
            self.window_start += drop as u64;
        }
        self.pos += amount as u64;
        self.used += amount as u64;
        self.start += amount;
    }
}

/// Where the reader stands with respect to the root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    NotSeen,
    Open,
    Closed,
}

/// What an open element is to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rss,
    Channel,
    SiteTitle,
    SiteLink,
    Author,
    AuthorField(AuthorField),
    Term(TermKind),
    TermField(TermField),
    Item,
    ItemField(ItemField),
    ItemCategory,
    Comment,
    /// Anything else: read past, text ignored.
    Other,
}

impl Kind {
    /// Whether the element's text is kept.
    fn captures(self) -> bool {
        matches!(
            self,
            Kind::SiteTitle
                | Kind::SiteLink
                | Kind::AuthorField(_)
                | Kind::TermField(_)
                | Kind::ItemField(_)
                | Kind::ItemCategory
        )
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Rss => "<rss>",
            Kind::Channel => "<channel>",
            Kind::SiteTitle => "the site's <title>",
            Kind::SiteLink => "the site's <link>",
            Kind::Author | Kind::AuthorField(_) => "<wp:author>",
            Kind::Term(TermKind::Category) => "<wp:category>",
            Kind::Term(TermKind::Tag) => "<wp:tag>",
            Kind::Term(TermKind::Term) => "<wp:term>",
            Kind::TermField(_) => "a field of a category or tag",
            Kind::Item => "<item>",
            Kind::ItemField(ItemField::Content) => "<content:encoded>",
            Kind::ItemField(_) => "a field of an <item>",
            Kind::ItemCategory => "an item's <category>",
            Kind::Comment => "<wp:comment>",
            Kind::Other => "an element",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthorField {
    Login,
    DisplayName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TermKind {
    Category,
    Tag,
    Term,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TermField {
    Slug,
    Parent,
    Name,
    Description,
    Taxonomy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemField {
    Title,
    Link,
    Content,
    Excerpt,
    PostId,
    Date,
    DateGmt,
    Name,
    Status,
    Type,
    Password,
}

#[derive(Debug, Clone, Copy)]
struct Open {
    kind: Kind,
    mark: Mark,
}

/// The namespace prefixes the root element binds (`wp`, `content`, `excerpt` in
/// every WordPress export, but read from the file rather than assumed).
#[derive(Debug, Default)]
struct Prefixes {
    wp: Vec<u8>,
    content: Vec<u8>,
    excerpt: Vec<u8>,
}

/// Fields of the `<wp:category>`, `<wp:tag>` or `<wp:term>` being read.
#[derive(Debug, Default)]
struct TermFields {
    slug: String,
    parent: String,
    name: String,
    description: String,
    taxonomy: String,
}

/// Fields of the `<item>` being read; reused from item to item.
#[derive(Debug, Default)]
struct ItemFields {
    mark: Mark,
    title: String,
    link: String,
    content: String,
    excerpt: String,
    post_id: String,
    date: String,
    date_gmt: String,
    name: String,
    status: String,
    post_type: String,
    password: String,
    /// (is a category, nicename, name) of `<category domain="category|post_tag">`.
    categories: Vec<(bool, String, String)>,
    /// Domain and nicename of the `<category>` being read (None: another domain).
    category: Option<(bool, String)>,
    /// Text kept for this item so far, against [`MAX_FIELD`].
    size: usize,
}

impl ItemFields {
    fn clear(&mut self, mark: Mark) {
        self.mark = mark;
        for field in [
            &mut self.title,
            &mut self.link,
            &mut self.content,
            &mut self.excerpt,
            &mut self.post_id,
            &mut self.date,
            &mut self.date_gmt,
            &mut self.name,
            &mut self.status,
            &mut self.post_type,
            &mut self.password,
        ] {
            field.clear();
        }
        self.categories.clear();
        self.category = None;
        self.size = 0;
    }
}

/// A category kept for its redirect, made once all categories are known (a
/// category's old address names its parents).
#[derive(Debug)]
struct PendingCategory {
    nicename: String,
    tag_slug: String,
}

/// Everything the reader knows between events.
struct Walker {
    file: String,
    settings: Settings,
    out: VecDeque<Result<Item, Diagnostic>>,
    done: bool,
    sniffed: bool,
    root: Root,
    channel_seen: bool,
    stack: Vec<Open>,
    /// Text of the capturing element being read.
    text: String,
    prefixes: Prefixes,
    /// Where the current event starts.
    mark: Mark,
    site_title: String,
    site_link: String,
    site_emitted: bool,
    author_login: String,
    author_name: String,
    term: TermFields,
    item: ItemFields,
    /// Tag slug → the tag's name, for every tag and category declared: names that
    /// make the same slug are one tag.
    tags: HashMap<String, String>,
    /// Category nicename → parent nicename, for old category addresses.
    parents: HashMap<String, String>,
    pending_categories: Vec<PendingCategory>,
    /// (old WordPress slug, tag slug) of tags whose address changes.
    pending_tags: Vec<(String, String)>,
    /// Old addresses already redirected.
    redirected: HashSet<String>,
}

impl Walker {
    fn new(file: &str, settings: &Settings) -> Walker {
        Walker {
            file: file.to_owned(),
            settings: settings.clone(),
            out: VecDeque::new(),
            done: false,
            sniffed: false,
            root: Root::NotSeen,
            channel_seen: false,
            stack: Vec::with_capacity(16),
            text: String::new(),
            prefixes: Prefixes::default(),
            mark: Mark::default(),
            site_title: String::new(),
            site_link: String::new(),
            site_emitted: false,
            author_login: String::new(),
            author_name: String::new(),
            term: TermFields::default(),
            item: ItemFields::default(),
            tags: HashMap::new(),
            parents: HashMap::new(),
            pending_categories: Vec::new(),
            pending_tags: Vec::new(),
            redirected: HashSet::new(),
        }
    }

    fn fatal(&mut self, diagnostic: Diagnostic) {
        self.out.push_back(Err(diagnostic));
        self.done = true;
    }

    fn error_at<R: BufRead>(
        &self,
        tracker: &Tracker<R>,
        at: u64,
        message: impl Into<String>,
    ) -> Diagnostic {
        let (line, column, quote) = tracker.locate(at, self.mark);
        Diagnostic::new(Severity::Error, line, column, message, &quote)
    }

    fn error<R: BufRead>(&self, tracker: &Tracker<R>, message: impl Into<String>) -> Diagnostic {
        self.error_at(tracker, self.mark.pos, message)
    }

    /// Words for a `quick-xml` error, at the place it names.
    fn xml_error<R: BufRead>(
        &self,
        e: &quick_xml::Error,
        at: u64,
        tracker: &Tracker<R>,
    ) -> Diagnostic {
        use quick_xml::Error as E;
        use quick_xml::errors::{IllFormedError as I, SyntaxError as S};
        let last_line = tracker.last_line();
        let early = |what: &str| {
            format!(
                "the file ends early, at line {last_line}, inside {what} that starts here: was the export cut off?"
            )
        };
        let (at, message) = match e {
            E::Io(_) if tracker.over_limit => (
                self.mark.pos,
                format!(
                    "this element or text is larger than {} MiB; a WordPress export holds nothing that large",
                    if self.root == Root::NotSeen {
                        MAX_PROLOG_EVENT >> 20
                    } else {
                        MAX_EVENT >> 20
                    }
                ),
            ),
            E::Io(io) => (tracker.pos, format!("cannot read the file: {io}")),
            E::Syntax(S::UnclosedCData) => (at, early("a CDATA section")),
            E::Syntax(S::UnclosedComment) => (at, early("a comment")),
            E::Syntax(S::UnclosedDoctype) => (at, early("a document type declaration")),
            E::Syntax(S::UnclosedTag)
            | E::Syntax(S::UnclosedDoubleQuotedAttributeValue)
            | E::Syntax(S::UnclosedSingleQuotedAttributeValue) => (at, early("a tag")),
            E::Syntax(S::UnclosedPI) | E::Syntax(S::UnclosedXmlDecl) => {
                (at, early("a processing instruction"))
            }
            E::Syntax(s) => (at, format!("malformed XML: {s}")),
            E::IllFormed(I::MismatchedEndTag { expected, found }) => (
                at,
                format!("malformed XML: </{found}> here closes <{expected}>"),
            ),
            E::IllFormed(I::UnmatchedEndTag(name)) => {
                (at, format!("malformed XML: </{name}> closes no open element"))
            }
            E::IllFormed(I::UnclosedReference) => (
                at,
                "malformed XML: an “&” that starts no entity reference (a literal ampersand is written &amp;)".to_owned(),
            ),
            E::IllFormed(other) => (at, format!("malformed XML: {other}")),
            other => (at, format!("malformed XML: {other}")),
        };
        self.error_at(tracker, at, message)
    }

    /// Acts on one event.
    fn event<R: BufRead>(
        &mut self,
        event: Event<'_>,
        tracker: &Tracker<R>,
    ) -> Result<(), Diagnostic> {
        match event {
            Event::Start(e) => {
                self.check_utf8(&e, 1, tracker)?;
                self.start(&e, tracker)
            }
            Event::Empty(e) => {
                self.check_utf8(&e, 1, tracker)?;
                self.start(&e, tracker)?;
                self.end(tracker)
            }
            Event::End(e) => {
                self.check_utf8(&e, 2, tracker)?;
                self.end(tracker)
            }
            Event::Text(e) => {
                let text = self.check_utf8(&e, 0, tracker)?;
                self.text_event(text, tracker)
            }
            Event::CData(e) => {
                let text = self.check_utf8(&e, 9, tracker)?;
                if self.root != Root::Open {
                    return Err(self.error(tracker, "a CDATA section outside the <rss> element"));
                }
                self.keep(text, tracker)
            }
            Event::GeneralRef(r) => {
                let c = self.reference(&r, tracker)?;
                if self.root != Root::Open {
                    return Err(self.error(tracker, "text outside the <rss> element"));
                }
                let mut utf8 = [0; 4];
                self.keep(c.encode_utf8(&mut utf8), tracker)
            }
            Event::Decl(d) => {
                self.check_utf8(&d, 2, tracker)?;
                match d.encoding() {
                    None => Ok(()),
                    Some(Ok(encoding)) => {
                        let encoding = String::from_utf8_lossy(&encoding).into_owned();
                        let label = encoding.to_ascii_lowercase();
                        if matches!(label.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
                            Ok(())
                        } else {
                            Err(self.error(
                                tracker,
                                format!(
                                    "the file declares the encoding “{encoding}”; bulletin reads UTF-8 only: convert the file to UTF-8 (e.g. iconv -f {encoding} -t UTF-8), change the declaration to encoding=\"UTF-8\", and import it again"
                                ),
                            ))
                        }
                    }
                    Some(Err(e)) => {
                        Err(self.error(tracker, format!("malformed XML declaration: {e}")))
                    }
                }
            }
            Event::DocType(d) => match self.doctype(&d, tracker) {
                Some(refused) => Err(refused),
                None => Ok(()),
            },
            Event::Comment(c) => {
                self.check_utf8(&c, 4, tracker)?;
                Ok(())
            }
            Event::PI(p) => {
                self.check_utf8(&p, 2, tracker)?;
                Ok(())
            }
            Event::Eof => self.eof(tracker),
        }
    }

    /// The bytes of an event as text; `offset` is where they start after the event's
    /// start (`<` plus what precedes the content), for the error's column.
    fn check_utf8<'a, R: BufRead>(
        &self,
        bytes: &'a [u8],
        offset: u64,
        tracker: &Tracker<R>,
    ) -> Result<&'a str, Diagnostic> {
        std::str::from_utf8(bytes).map_err(|e| {
            let good = e.valid_up_to();
            let byte = bytes.get(good).copied().unwrap_or(0);
            self.error_at(
                tracker,
                self.mark.pos + offset + good as u64,
                format!(
                    "the file is not valid UTF-8 here (byte 0x{byte:02X}); bulletin reads UTF-8 only: save the export as UTF-8 and import it again"
                ),
            )
        })
    }

    /// A document type declaration: harmless only as a bare `<!DOCTYPE rss>` before
    /// the root element; one with an internal subset (entity definitions) or an
    /// external identifier is refused before anything in it is used.
    fn doctype<R: BufRead>(&self, d: &[u8], tracker: &Tracker<R>) -> Option<Diagnostic> {
        let text = String::from_utf8_lossy(d);
        let upper = text.to_ascii_uppercase();
        let what = if upper.contains("<!ENTITY") {
            "declares entities"
        } else if text.contains('[') {
            "has an internal subset"
        } else if upper.contains("SYSTEM") || upper.contains("PUBLIC") {
            "names an external DTD"
        } else if self.root != Root::NotSeen {
            "stands inside the document"
        } else {
            return None;
        };
        Some(self.error(
            tracker,
            format!(
                "the file's document type declaration (DTD) {what}: DTDs are refused and no entity is ever expanded (a WordPress export has none); this file may be crafted to exhaust memory or read local files"
            ),
        ))
    }

    /// An entity or character reference in text: XML's five and numeric references
    /// only.
    fn reference<R: BufRead>(&self, r: &[u8], tracker: &Tracker<R>) -> Result<char, Diagnostic> {
        let c = match r {
            b"amp" => Some('&'),
            b"lt" => Some('<'),
            b"gt" => Some('>'),
            b"quot" => Some('"'),
            b"apos" => Some('\''),
            [b'#', b'x', hex @ ..] => std::str::from_utf8(hex)
                .ok()
                .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
                .filter(|&c| c != '\0'),
            [b'#', dec @ ..] => std::str::from_utf8(dec)
                .ok()
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|d| d.parse::<u32>().ok())
                .and_then(char::from_u32)
                .filter(|&c| c != '\0'),
            _ => {
                let name = String::from_utf8_lossy(r);
                return Err(self.error(
                    tracker,
                    format!(
                        "the entity reference “&{name};” is not defined: bulletin expands no entities besides &amp; &lt; &gt; &quot; &apos; and numeric character references"
                    ),
                ));
            }
        };
        c.ok_or_else(|| {
            self.error(
                tracker,
                format!(
                    "“&{};” is not a valid character reference",
                    String::from_utf8_lossy(r)
                ),
            )
        })
    }

    /// Text between tags: kept when inside a field, else ignored (but outside the
    /// root element only whitespace may stand).
    fn text_event<R: BufRead>(
        &mut self,
        text: &str,
        tracker: &Tracker<R>,
    ) -> Result<(), Diagnostic> {
        if self.root == Root::Open {
            return self.keep(text, tracker);
        }
        if text.trim().is_empty() {
            return Ok(());
        }
        Err(match self.root {
            Root::NotSeen if self.mark.pos == 0 => self.error(
                tracker,
                format!(
                    "{} is not a WordPress export: it does not start with XML markup",
                    self.file
                ),
            ),
            Root::NotSeen => self.error(tracker, "text before the <rss> element"),
            _ => self.error(
                tracker,
                "there is more after the end of the export (</rss>)",
            ),
        })
    }

    /// Appends text to the capturing element, if that is what is open.
    fn keep<R: BufRead>(&mut self, text: &str, tracker: &Tracker<R>) -> Result<(), Diagnostic> {
        let Some(open) = self.stack.last() else {
            return Ok(());
        };
        if !open.kind.captures() {
            return Ok(());
        }
        if self.text.len() + text.len() > MAX_FIELD || self.item.size + text.len() > MAX_FIELD {
            return Err(self.error(
                tracker,
                format!(
                    "{} holds more than {} MiB of text; a WordPress export holds nothing that large",
                    open.kind.label(),
                    MAX_FIELD >> 20
                ),
            ));
        }
        if matches!(open.kind, Kind::ItemField(_) | Kind::ItemCategory) {
            self.item.size += text.len();
        }
        self.text.push_str(text);
        Ok(())
    }

    /// `wp:post_name` → `Some("post_name")` when `name` has the prefix `prefix`.
    fn local<'a>(name: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
        if prefix.is_empty() {
            return None;
        }
        name.strip_prefix(prefix)?.strip_prefix(b":")
    }

    fn start<R: BufRead>(
        &mut self,
        e: &BytesStart<'_>,
        tracker: &Tracker<R>,
    ) -> Result<(), Diagnostic> {
        let qname = e.name();
        let name = qname.as_ref();
        let wp = Walker::local(name, &self.prefixes.wp);
        let parent = self.stack.last().map(|o| o.kind);
        let kind = match parent {
            None => {
                if self.root == Root::Closed {
                    return Err(self.error(
                        tracker,
                        "there is more after the end of the export (</rss>)",
                    ));
                }
                self.root_element(e, tracker)?;
                Kind::Rss
            }
            Some(Kind::Rss) => {
                if name == b"channel" {
                    self.channel_seen = true;
                    Kind::Channel
                } else {
                    Kind::Other
                }
            }
            Some(Kind::Channel) => {
                let kind = match (name, wp) {
                    (b"title", _) => Kind::SiteTitle,
                    (b"link", _) => Kind::SiteLink,
                    (b"item", _) => Kind::Item,
                    (_, Some(b"author")) => Kind::Author,
                    (_, Some(b"category")) => Kind::Term(TermKind::Category),
                    (_, Some(b"tag")) => Kind::Term(TermKind::Tag),
                    (_, Some(b"term")) => Kind::Term(TermKind::Term),
                    _ => Kind::Other,
                };
                match kind {
                    Kind::Author => {
                        self.emit_site();
                        self.author_login.clear();
                        self.author_name.clear();
                    }
                    Kind::Term(_) => {
                        self.emit_site();
                        self.term = TermFields::default();
                    }
                    Kind::Item => {
                        self.emit_site();
                        self.flush_categories();
                        self.item.clear(self.mark);
                    }
                    _ => {}
                }
                kind
            }
            Some(Kind::Author) => match wp {
                Some(b"author_login") => Kind::AuthorField(AuthorField::Login),
                Some(b"author_display_name") => Kind::AuthorField(AuthorField::DisplayName),
                _ => Kind::Other,
            },
            Some(Kind::Term(term)) => match (term, wp) {
                (TermKind::Category, Some(b"category_nicename"))
                | (TermKind::Tag, Some(b"tag_slug"))
                | (TermKind::Term, Some(b"term_slug")) => Kind::TermField(TermField::Slug),
                (TermKind::Category, Some(b"category_parent"))
                | (TermKind::Term, Some(b"term_parent")) => Kind::TermField(TermField::Parent),
                (TermKind::Category, Some(b"cat_name"))
                | (TermKind::Tag, Some(b"tag_name"))
                | (TermKind::Term, Some(b"term_name")) => Kind::TermField(TermField::Name),
                (TermKind::Category, Some(b"category_description"))
                | (TermKind::Tag, Some(b"tag_description"))
                | (TermKind::Term, Some(b"term_description")) => {
                    Kind::TermField(TermField::Description)
                }
                (TermKind::Term, Some(b"term_taxonomy")) => Kind::TermField(TermField::Taxonomy),
                _ => Kind::Other,
            },
            Some(Kind::Item) => {
                if name == b"title" {
                    Kind::ItemField(ItemField::Title)
                } else if name == b"link" {
                    Kind::ItemField(ItemField::Link)
                } else if name == b"category" {
                    let category = self.item_category(e, tracker)?;
                    // Counted against the item's size, so that an item with
                    // endless categories cannot grow without bound.
                    self.item.size += 64 + category.as_ref().map_or(0, |(_, n)| n.len());
                    if self.item.size > MAX_FIELD {
                        return Err(self.error(
                            tracker,
                            format!(
                                "this <item> holds more than {} MiB; a WordPress export holds nothing that large",
                                MAX_FIELD >> 20
                            ),
                        ));
                    }
                    self.item.category = category;
                    Kind::ItemCategory
                } else if Walker::local(name, &self.prefixes.content) == Some(b"encoded") {
                    Kind::ItemField(ItemField::Content)
                } else if Walker::local(name, &self.prefixes.excerpt) == Some(b"encoded") {
                    Kind::ItemField(ItemField::Excerpt)
                } else {
                    match wp {
                        Some(b"post_id") => Kind::ItemField(ItemField::PostId),
                        Some(b"post_date") => Kind::ItemField(ItemField::Date),
                        Some(b"post_date_gmt") => Kind::ItemField(ItemField::DateGmt),
                        Some(b"post_name") => Kind::ItemField(ItemField::Name),
                        Some(b"status") => Kind::ItemField(ItemField::Status),
                        Some(b"post_type") => Kind::ItemField(ItemField::Type),
                        Some(b"post_password") => Kind::ItemField(ItemField::Password),
                        Some(b"comment") => {
                            // Reported at once: an item may hold any number.
                            let title = html::text(&self.item.title);
                            let line = self.mark.line;
                            self.skip("comment", &title, line, "comments are not imported");
                            Kind::Comment
                        }
                        _ => Kind::Other,
                    }
                }
            }
            Some(_) => Kind::Other,
        };
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(
                tracker,
                format!("elements are nested more than {MAX_DEPTH} deep; a WordPress export goes five deep"),
            ));
        }
        if kind.captures() {
            self.text.clear();
        }
        self.stack.push(Open {
            kind,
            mark: self.mark,
        });
        Ok(())
    }

    /// Checks that the root element is a WordPress export's `<rss>` and learns its
    /// namespace prefixes.
    fn root_element<R: BufRead>(
        &mut self,
        e: &BytesStart<'_>,
        tracker: &Tracker<R>,
    ) -> Result<(), Diagnostic> {
        let name = e.name();
        if name.as_ref() != b"rss" {
            return Err(self.error(
                tracker,
                format!(
                    "{} is not a WordPress export: its root element is <{}>, not <rss>",
                    self.file,
                    String::from_utf8_lossy(name.as_ref())
                ),
            ));
        }
        for attribute in e.attributes() {
            let attribute = attribute.map_err(|err| {
                self.error(tracker, format!("malformed attribute in <rss>: {err}"))
            })?;
            let Some(prefix) = attribute.key.as_ref().strip_prefix(b"xmlns:") else {
                continue;
            };
            let value = unescape(&attribute.value).map_err(|m| self.error(tracker, m))?;
            let uri = value
                .trim_start_matches("https://")
                .trim_start_matches("http://")
                .trim_end_matches('/');
            if let Some(version) = uri.strip_prefix("wordpress.org/export/") {
                if version.ends_with("/excerpt") {
                    self.prefixes.excerpt = prefix.to_vec();
                } else if version.starts_with('1') {
                    self.prefixes.wp = prefix.to_vec();
                }
            } else if uri == "purl.org/rss/1.0/modules/content" {
                self.prefixes.content = prefix.to_vec();
            }
        }
        if self.prefixes.wp.is_empty() {
            return Err(self.error(
                tracker,
                format!(
                    "{} is not a WordPress export: its <rss> declares no WordPress export namespace (xmlns:wp=\"http://wordpress.org/export/1.2/\"); a plain RSS feed cannot be imported, export the site with WordPress's Tools → Export",
                    self.file
                ),
            ));
        }
        self.root = Root::Open;
        Ok(())
    }

    /// The domain and nicename of an item's `<category>`; `None` for domains that
    /// are not categories or tags (post formats, custom taxonomies).
    fn item_category<R: BufRead>(
        &self,
        e: &BytesStart<'_>,
        tracker: &Tracker<R>,
    ) -> Result<Option<(bool, String)>, Diagnostic> {
        let mut domain = None;
        let mut nicename = String::new();
        for attribute in e.attributes() {
            let attribute = attribute.map_err(|err| {
                self.error(tracker, format!("malformed attribute in <category>: {err}"))
            })?;
            match attribute.key.as_ref() {
                b"domain" => {
                    domain = Some(unescape(&attribute.value).map_err(|m| self.error(tracker, m))?)
                }
                b"nicename" => {
                    nicename = unescape(&attribute.value).map_err(|m| self.error(tracker, m))?
                }
                _ => {}
            }
        }
        Ok(match domain.as_deref() {
            Some("category") => Some((true, nicename)),
            Some("post_tag") | Some("tag") => Some((false, nicename)),
            _ => None,
        })
    }

    fn end<R: BufRead>(&mut self, tracker: &Tracker<R>) -> Result<(), Diagnostic> {
        let Some(open) = self.stack.pop() else {
            return Ok(());
        };
        match open.kind {
            Kind::Rss => {
                if !self.channel_seen {
                    return Err(self.error_at(
                        tracker,
                        open.mark.pos,
                        "this <rss> holds no <channel>: it is not a WordPress export",
                    ));
                }
                self.root = Root::Closed;
            }
            Kind::Channel => {
                self.emit_site();
                self.flush_categories();
            }
            Kind::SiteTitle => self.site_title = html::text(&self.text),
            Kind::SiteLink => self.site_link = self.text.trim().to_owned(),
            Kind::AuthorField(AuthorField::Login) => self.author_login = html::text(&self.text),
            Kind::AuthorField(AuthorField::DisplayName) => {
                self.author_name = html::text(&self.text);
            }
            Kind::Author => {
                let name = if self.author_name.is_empty() {
                    self.author_login.clone()
                } else {
                    self.author_name.clone()
                };
                self.out.push_back(Ok(Item::Skipped {
                    kind: "author".to_owned(),
                    title: name,
                    line: open.mark.line,
                    reason: "authors are not imported: stories carry no byline".to_owned(),
                }));
            }
            Kind::TermField(field) => {
                let value = std::mem::take(&mut self.text);
                match field {
                    TermField::Slug => self.term.slug = value,
                    TermField::Parent => self.term.parent = value,
                    TermField::Name => self.term.name = value,
                    TermField::Description => self.term.description = value,
                    TermField::Taxonomy => self.term.taxonomy = value,
                }
            }
            Kind::Term(kind) => self.finish_term(kind, open.mark, tracker),
            Kind::ItemField(field) => {
                let item = &mut self.item;
                let target = match field {
                    ItemField::Title => &mut item.title,
                    ItemField::Link => &mut item.link,
                    ItemField::Content => &mut item.content,
                    ItemField::Excerpt => &mut item.excerpt,
                    ItemField::PostId => &mut item.post_id,
                    ItemField::Date => &mut item.date,
                    ItemField::DateGmt => &mut item.date_gmt,
                    ItemField::Name => &mut item.name,
                    ItemField::Status => &mut item.status,
                    ItemField::Type => &mut item.post_type,
                    ItemField::Password => &mut item.password,
                };
                // Swapping keeps both buffers' capacity: no allocation per field.
                std::mem::swap(target, &mut self.text);
            }
            Kind::ItemCategory => {
                if let Some((is_category, nicename)) = self.item.category.take() {
                    let name = std::mem::take(&mut self.text);
                    self.item.categories.push((is_category, nicename, name));
                }
            }
            Kind::Item => self.finish_item(tracker),
            Kind::Comment | Kind::Other => {}
        }
        Ok(())
    }

    fn eof<R: BufRead>(&mut self, tracker: &Tracker<R>) -> Result<(), Diagnostic> {
        if let Some(open) = self
            .stack
            .iter()
            .rev()
            .find(|o| o.kind == Kind::Item)
            .or(self.stack.last())
            .copied()
        {
            return Err(self.error_at(
                tracker,
                open.mark.pos,
                format!(
                    "the file ends early, at line {}: {} opened here is never closed; was the export cut off?",
                    tracker.last_line(),
                    open.kind.label()
                ),
            ));
        }
        if self.root == Root::NotSeen {
            let message = if tracker.pos == 0 {
                format!("{} is empty", self.file)
            } else {
                format!(
                    "{} holds no <rss> element: it is not a WordPress export",
                    self.file
                )
            };
            return Err(self.error(tracker, message));
        }
        self.done = true;
        Ok(())
    }

    fn emit_site(&mut self) {
        if self.site_emitted {
            return;
        }
        self.site_emitted = true;
        if self.site_title.is_empty() && self.site_link.is_empty() {
            return;
        }
        self.out.push_back(Ok(Item::Site {
            title: self.site_title.clone(),
            url: self.site_link.clone(),
        }));
    }

    fn warn<R: BufRead>(&mut self, tracker: &Tracker<R>, mark: Mark, message: String) {
        let (column, quote) = tracker.at_mark(mark);
        self.out.push_back(Ok(Item::Warning(Diagnostic::new(
            Severity::Warning,
            mark.line,
            column,
            message,
            &quote,
        ))));
    }

    /// Declares a tag (or a category, which becomes a tag); returns its slug.
    /// Names that make the same slug are one tag: the first name stays.
    fn declare_tag<R: BufRead>(
        &mut self,
        name: &str,
        wp_slug: &str,
        description: &str,
        mark: Mark,
        tracker: &Tracker<R>,
    ) -> Option<String> {
        let mut slug = slugify(name);
        if slug.is_empty() {
            slug = slugify(wp_slug);
        }
        if slug.is_empty() || name.is_empty() {
            self.warn(
                tracker,
                mark,
                format!(
                    "the tag or category “{name}” ({wp_slug}) has no usable name; it is left out"
                ),
            );
            return None;
        }
        match self.tags.get(&slug) {
            Some(existing) if existing == name => {}
            Some(existing) => {
                let message = format!(
                    "the tag or category “{name}” and “{existing}” have the same address /tag/{slug}/; they become one tag, “{existing}”"
                );
                self.warn(tracker, mark, message);
            }
            None => {
                self.tags.insert(slug.clone(), name.to_owned());
                self.out.push_back(Ok(Item::Tag(Tag {
                    name: name.to_owned(),
                    slug: slug.clone(),
                    description: description.to_owned(),
                })));
            }
        }
        Some(slug)
    }

    fn finish_term<R: BufRead>(&mut self, kind: TermKind, mark: Mark, tracker: &Tracker<R>) {
        let term = std::mem::take(&mut self.term);
        let mut name = html::text(&term.name);
        if name.contains(',') {
            // Commas separate tags in bulletin text; a tag cannot hold one.
            let fixed = name
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            self.warn(
                tracker,
                mark,
                format!("the tag or category “{name}” holds commas, which tags may not; it is imported as “{fixed}”"),
            );
            name = fixed;
        }
        let wp_slug = percent_decode(term.slug.trim()).into_owned();
        let description = html::text(&term.description);
        let kind = match (kind, term.taxonomy.trim()) {
            (TermKind::Term, "category") => TermKind::Category,
            (TermKind::Term, "post_tag") => TermKind::Tag,
            (kind, _) => kind,
        };
        match kind {
            TermKind::Category => {
                let parent = percent_decode(term.parent.trim()).into_owned();
                if !wp_slug.is_empty() {
                    self.parents.insert(wp_slug.clone(), parent);
                }
                if wp_slug == "uncategorized" {
                    self.out.push_back(Ok(Item::Skipped {
                        kind: "category".to_owned(),
                        title: name,
                        line: mark.line,
                        reason: "WordPress's default category is not kept as a tag".to_owned(),
                    }));
                    return;
                }
                if let Some(tag_slug) =
                    self.declare_tag(&name, &wp_slug, &description, mark, tracker)
                    && !wp_slug.is_empty()
                {
                    self.pending_categories.push(PendingCategory {
                        nicename: wp_slug,
                        tag_slug,
                    });
                }
            }
            TermKind::Tag => {
                if let Some(tag_slug) =
                    self.declare_tag(&name, &wp_slug, &description, mark, tracker)
                    && !wp_slug.is_empty()
                    && wp_slug != tag_slug
                {
                    // Made once all tags are known: an old slug that another tag
                    // now has is that tag's address, not a redirect.
                    self.pending_tags.push((wp_slug, tag_slug));
                }
            }
            TermKind::Term => {
                let taxonomy = term.taxonomy.trim();
                self.out.push_back(Ok(Item::Skipped {
                    kind: "term".to_owned(),
                    title: name,
                    line: mark.line,
                    reason: format!(
                        "terms of WordPress menus and other taxonomies (here “{taxonomy}”) are not imported"
                    ),
                }));
            }
        }
    }

    fn redirect(&mut self, from: String, to: String) {
        if from != to && self.redirected.insert(from.clone()) {
            self.out.push_back(Ok(Item::Redirect { from, to }));
        }
    }

    /// Redirects from the old addresses of tags and categories
    /// (`/category/parent/child/`), once all tags and parents are known.
    fn flush_categories(&mut self) {
        for (wp_slug, tag_slug) in std::mem::take(&mut self.pending_tags) {
            if !self.tags.contains_key(&wp_slug) {
                self.redirect(format!("/tag/{wp_slug}/"), format!("/tag/{tag_slug}/"));
            }
        }
        for pending in std::mem::take(&mut self.pending_categories) {
            let mut path = vec![pending.nicename.as_str()];
            let mut at = pending.nicename.as_str();
            // WordPress forbids cycles; a damaged file must not loop.
            while path.len() < 16 {
                match self.parents.get(at) {
                    Some(parent) if !parent.is_empty() && !path.contains(&parent.as_str()) => {
                        path.push(parent);
                        at = parent;
                    }
                    _ => break,
                }
            }
            path.reverse();
            let from = format!("/category/{}/", path.join("/"));
            let to = format!("/tag/{}/", pending.tag_slug);
            self.redirect(from, to);
        }
    }

    fn skip(&mut self, kind: &str, title: &str, line: u64, reason: impl Into<String>) {
        self.out.push_back(Ok(Item::Skipped {
            kind: kind.to_owned(),
            title: title.to_owned(),
            line,
            reason: reason.into(),
        }));
    }

    fn finish_item<R: BufRead>(&mut self, tracker: &Tracker<R>) {
        let title = html::text(&self.item.title);
        let line = self.item.mark.line;
        let post_type = self.item.post_type.trim().to_owned();
        match post_type.as_str() {
            "post" => self.post(&title, tracker),
            "page" => self.skip("page", &title, line, "pages are not stories"),
            "attachment" => self.skip(
                "attachment",
                &title,
                line,
                "media files are not imported: stories hold text only",
            ),
            "nav_menu_item" => self.skip("nav_menu_item", &title, line, "menus are not imported"),
            "" => self.skip("item", &title, line, "it names no wp:post_type"),
            other => {
                let reason = format!("“{other}” items are not stories");
                self.skip(other, &title, line, reason);
            }
        }
    }

    /// The name a post's message calls it by.
    fn post_name(&self, title: &str) -> String {
        if title.is_empty() {
            format!("the untitled post {}", self.item.post_id.trim())
        } else {
            format!("the post “{title}”")
        }
    }

    fn post<R: BufRead>(&mut self, title: &str, tracker: &Tracker<R>) {
        let mark = self.item.mark;
        let line = mark.line;
        let who = self.post_name(title);
        let mut warnings: Vec<String> = Vec::new();
        let local = wp_datetime(&self.item.date);
        let gmt = wp_datetime(&self.item.date_gmt);
        let tz = self.settings.time_zone.clone();
        let gmt = gmt.and_then(|g| jiff::tz::TimeZone::UTC.to_timestamp(g).ok());
        let date = local
            .map(|d| d.date())
            .or_else(|| gmt.map(|ts| ts.to_zoned_datetime(tz.clone()).date()));
        let status_word = self.item.status.trim().to_owned();
        let mut status = match status_word.as_str() {
            "publish" => PostStatus::Published,
            "draft" => PostStatus::Draft,
            "pending" => PostStatus::Pending,
            "private" => PostStatus::Private,
            "future" => {
                let at = gmt.or_else(|| local.and_then(|l| tz.to_timestamp(l).ok()));
                match at {
                    Some(at) => PostStatus::Scheduled(at),
                    None => {
                        warnings.push(
                            "it is scheduled but gives no time; it is imported as a draft"
                                .to_owned(),
                        );
                        PostStatus::Draft
                    }
                }
            }
            "trash" => return self.skip("trash", title, line, "it is in WordPress's trash"),
            "auto-draft" => {
                return self.skip(
                    "auto-draft",
                    title,
                    line,
                    "WordPress made it automatically and nobody wrote in it",
                );
            }
            other => {
                warnings.push(format!(
                    "its status “{other}” is not one WordPress has; it is imported as a draft"
                ));
                PostStatus::Draft
            }
        };
        if !self.item.password.is_empty()
            && matches!(status, PostStatus::Published | PostStatus::Scheduled(_))
        {
            warnings.push(
                "it is password-protected in WordPress; it is imported as private (staff only)"
                    .to_owned(),
            );
            status = PostStatus::Private;
        }

        let (mut paragraphs, mut html_warnings) = html::paragraphs(&self.item.content);
        if paragraphs.is_empty() && !self.item.excerpt.trim().is_empty() {
            let (excerpt, excerpt_warnings) = html::paragraphs(&self.item.excerpt);
            if !excerpt.is_empty() {
                paragraphs = excerpt;
                html_warnings = excerpt_warnings;
                warnings.push("its content is empty; its excerpt is the story's text".to_owned());
            }
        }
        warnings.extend(html_warnings);

        let mut tags = Vec::with_capacity(self.item.categories.len());
        for (is_category, nicename, name) in &self.item.categories {
            if *is_category && nicename == "uncategorized" {
                continue;
            }
            let name = html::text(name);
            // A name declared under another spelling of the same address is that tag.
            let canonical = self.tags.get(&slugify(&name)).cloned().unwrap_or(name);
            tags.push(canonical);
        }

        let post = Post {
            title: title.to_owned(),
            slug: Some(self.item.name.trim().to_owned()),
            date,
            paragraphs,
            tags,
        };
        match body::to_story(post, &self.settings) {
            Ok(made) => {
                let old_paths = old_paths(
                    &self.item.link,
                    self.item.post_id.trim(),
                    self.item.name.trim(),
                    local.map(|d| d.date()),
                    &made.story.url(),
                );
                self.out.push_back(Ok(Item::Story(Box::new(ImportedStory {
                    story: made.story,
                    status,
                    old_paths,
                    line,
                    title: title.to_owned(),
                }))));
                for w in warnings.into_iter().chain(made.warnings) {
                    self.warn(tracker, mark, format!("{who}: {w}"));
                }
            }
            Err(reason) => {
                for w in warnings {
                    self.warn(tracker, mark, format!("{who}: {w}"));
                }
                self.warn(tracker, mark, format!("{who} is not imported: {reason}"));
                self.skip("post", title, line, reason);
            }
        }
    }
}

/// `2013-01-11 20:22:19` (WordPress's format); `None` for `0000-00-00 00:00:00`
/// (WordPress's "no date") or anything unreadable.
fn wp_datetime(text: &str) -> Option<jiff::civil::DateTime> {
    let text = text.trim();
    if text.is_empty() || text.starts_with("0000") {
        return None;
    }
    jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text)
        .or_else(|_| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", text))
        .ok()
}

/// A post's old addresses: its `<link>`'s path, `/?p=ID`, and the dated path
/// WordPress's default permalinks give, each once and never the new URL.
fn old_paths(
    link: &str,
    post_id: &str,
    post_name: &str,
    date: Option<jiff::civil::Date>,
    new_url: &str,
) -> Vec<String> {
    let mut paths: Vec<String> = Vec::with_capacity(3);
    let mut add = |path: String| {
        if path != "/" && path != new_url && !paths.contains(&path) {
            paths.push(path);
        }
    };
    if let Some(path) = link_path(link) {
        add(path);
    }
    if !post_id.is_empty() && post_id.bytes().all(|b| b.is_ascii_digit()) {
        add(format!("/?p={post_id}"));
    }
    if !post_name.is_empty()
        && let Some(d) = date
    {
        add(format!(
            "/{:04}/{:02}/{:02}/{}/",
            d.year(),
            d.month(),
            d.day(),
            percent_decode(post_name)
        ));
    }
    paths
}

/// The path and query of a link (`https://site/2013/01/11/slug/` →
/// `/2013/01/11/slug/`), percent-decoded; `None` for anything else.
fn link_path(link: &str) -> Option<String> {
    let link = link.trim();
    let rest = if let Some(i) = link.find("://") {
        let after = &link[i + 3..];
        match after.find(['/', '?', '#']) {
            Some(j) => &after[j..],
            None => "/",
        }
    } else if link.starts_with('/') {
        link
    } else {
        return None;
    };
    let rest = rest.split('#').next().unwrap_or("");
    let path = if rest.starts_with('?') {
        format!("/{rest}")
    } else {
        rest.to_owned()
    };
    if path.is_empty() || path.contains(char::is_whitespace) {
        return None;
    }
    Some(percent_decode(&path).into_owned())
}

/// An attribute value's references resolved (XML's five and numeric only).
fn unescape(raw: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(raw).map_err(|_| {
        "an attribute value is not valid UTF-8; bulletin reads UTF-8 only".to_owned()
    })?;
    if !text.contains('&') {
        return Ok(text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(semi) = after.find(';') else {
            return Err("an “&” in an attribute value starts no reference".to_owned());
        };
        let name = &after[..semi];
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32)
                .filter(|&c| c != '\0'),
        };
        let Some(c) = c else {
            return Err(format!(
                "the entity reference “&{name};” is not defined: bulletin expands no entities besides &amp; &lt; &gt; &quot; &apos; and numeric character references"
            ));
        };
        out.push(c);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

pub mod synth {
    //! A deterministic generator of realistic WordPress exports, for tests and the
    //! import benchmark: a channel, authors, categories (some nested), tags, and
    //! posts with ~2 KB multi-paragraph bodies in the shapes WordPress stores them
    //! (classic-editor text, block-editor markup, bulletin text with dateline and
    //! footers), some drafts, scheduled and private posts, pages, attachments,
    //! menu items and comments. All text is invented from word lists.
    //!
    //! [`Synth`] is a [`Read`] that makes the file as it is read (nothing is held
    //! but the current item); [`generate`] writes it.

    use std::io::{self, Read, Write};

    use bulletin_core::slugify;

    const SITE: &str = "https://bulletin.example";
    const HOLDER: &str = "Central Asia & South Caucasus Bulletin";

    const PLACES: &[(&str, &str)] = &[
        ("ALMATY", "Kazakhstan"),
        ("ASTANA", "Kazakhstan"),
        ("BAKU", "Azerbaijan"),
        ("TBILISI", "Georgia"),
        ("YEREVAN", "Armenia"),
        ("BISHKEK", "Kyrgyzstan"),
        ("TASHKENT", "Uzbekistan"),
        ("DUSHANBE", "Tajikistan"),
        ("ASHGABAT", "Turkmenistan"),
    ];
    const TOPICS: &[&str] = &[
        "political rights",
        "press freedom",
        "elections",
        "courts",
        "energy",
        "labour",
        "health",
        "environment",
        "religion",
        "migration",
        "corruption",
        "protests",
    ];
    const SUBJECTS: &[&str] = &[
        "Regional court",
        "Opposition party",
        "Election commission",
        "Independent newspaper",
        "Energy ministry",
        "Rights group",
        "City council",
        "Trade union",
        "Border service",
        "Central bank",
        "Parliament committee",
        "Prosecutor's office",
    ];
    const VERBS: &[&str] = &[
        "rejects",
        "approves",
        "questions",
        "postpones",
        "publishes",
        "challenges",
        "reviews",
        "suspends",
        "announces",
        "delays",
    ];
    const OBJECTS: &[&str] = &[
        "new media law",
        "pipeline tender",
        "appeal of jailed blogger",
        "budget for rural clinics",
        "ban on street rallies",
        "report on river pollution",
        "plan for a second airport",
        "wage agreement at copper mine",
        "list of foreign agents",
        "licence of private broadcaster",
    ];
    const NOUNS: &[&str] = &[
        "officials",
        "lawyers",
        "residents",
        "journalists",
        "deputies",
        "observers",
        "farmers",
        "teachers",
        "engineers",
        "activists",
        "investors",
        "doctors",
    ];
    const ACTIONS: &[&str] = &[
        "said the decision would be reviewed within a month",
        "asked for the documents to be made public",
        "gathered outside the building on Tuesday morning",
        "described the measure as a step backwards",
        "welcomed the change but warned about its cost",
        "filed a complaint with the constitutional court",
        "were not given a reason for the delay",
        "expect a final ruling before the end of the year",
        "pointed to similar cases in neighbouring provinces",
        "declined to comment when reached by telephone",
        "noted that the previous plan had been abandoned",
        "called for an independent inquiry into the matter",
    ];
    const MONTHS: &[&str] = &[
        "Jan.", "Feb.", "March", "April", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.",
        "Dec.",
    ];

    /// splitmix64: small, fast, and the same everywhere.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    /// Where the generator stands.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Stage {
        Header,
        Items,
        Footer,
        Done,
    }

    /// Counts of what a generated export holds, for tests to compare with.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Counts {
        pub posts: u64,
        pub published: u64,
        pub drafts: u64,
        pub scheduled: u64,
        pub private: u64,
        pub pages: u64,
        pub attachments: u64,
        pub menu_items: u64,
        pub comments: u64,
        pub bulletin_bodies: u64,
        pub bytes: u64,
    }

    /// A generated export, made as it is read.
    pub struct Synth {
        rng: Rng,
        posts: u64,
        post: u64,
        next_id: u64,
        stage: Stage,
        chunk: Vec<u8>,
        at: usize,
        counts: Counts,
    }

    impl Synth {
        /// An export with `posts` posts (and pages, attachments, comments in
        /// proportion), the same bytes for the same `seed`.
        pub fn new(posts: u64, seed: u64) -> Synth {
            Synth {
                rng: Rng(seed ^ 0x5EED_B011_E714_0F0F),
                posts,
                post: 0,
                next_id: 100,
                stage: Stage::Header,
                chunk: Vec::with_capacity(8192),
                at: 0,
                counts: Counts::default(),
            }
        }

        /// What has been generated so far (all of it once read to the end).
        pub fn counts(&self) -> Counts {
            self.counts
        }

        /// Makes the next piece of the file into `chunk`.
        fn refill(&mut self) {
            self.chunk.clear();
            self.at = 0;
            match self.stage {
                Stage::Header => {
                    self.header();
                    self.stage = Stage::Items;
                }
                Stage::Items if self.post < self.posts => {
                    self.item();
                }
                Stage::Items => {
                    self.chunk.extend_from_slice(b"</channel>\n</rss>\n");
                    self.stage = Stage::Footer;
                }
                Stage::Footer | Stage::Done => self.stage = Stage::Done,
            }
            self.counts.bytes += self.chunk.len() as u64;
        }

        fn header(&mut self) {
            let out = &mut self.chunk;
            out.extend_from_slice(
                concat!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n",
                    "<!-- This is a WordPress eXtended RSS file generated by bulletin's test generator. -->\n",
                    "<rss version=\"2.0\"\n",
                    "\txmlns:excerpt=\"http://wordpress.org/export/1.2/excerpt/\"\n",
                    "\txmlns:content=\"http://purl.org/rss/1.0/modules/content/\"\n",
                    "\txmlns:wfw=\"http://wellformedweb.org/CommentAPI/\"\n",
                    "\txmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n",
                    "\txmlns:wp=\"http://wordpress.org/export/1.2/\"\n>\n",
                    "<channel>\n",
                    "\t<title>Central Asia &amp; South Caucasus Bulletin</title>\n",
                    "\t<link>https://bulletin.example</link>\n",
                    "\t<description>News from eight countries, every week</description>\n",
                    "\t<pubDate>Mon, 03 Jan 2022 09:00:00 +0000</pubDate>\n",
                    "\t<language>en-US</language>\n",
                    "\t<wp:wxr_version>1.2</wp:wxr_version>\n",
                    "\t<wp:base_site_url>https://bulletin.example</wp:base_site_url>\n",
                    "\t<wp:base_blog_url>https://bulletin.example</wp:base_blog_url>\n",
                    "\t<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[editor]]></wp:author_login><wp:author_email><![CDATA[editor@bulletin.example]]></wp:author_email><wp:author_display_name><![CDATA[The Editor]]></wp:author_display_name><wp:author_first_name><![CDATA[]]></wp:author_first_name><wp:author_last_name><![CDATA[]]></wp:author_last_name></wp:author>\n",
                    "\t<wp:author><wp:author_id>2</wp:author_id><wp:author_login><![CDATA[desk]]></wp:author_login><wp:author_email><![CDATA[desk@bulletin.example]]></wp:author_email><wp:author_display_name><![CDATA[News Desk]]></wp:author_display_name><wp:author_first_name><![CDATA[]]></wp:author_first_name><wp:author_last_name><![CDATA[]]></wp:author_last_name></wp:author>\n",
                )
                .as_bytes(),
            );
            let mut id = 1;
            let mut category = |out: &mut Vec<u8>, nicename: &str, parent: &str, name: &str| {
                out.extend_from_slice(
                    format!(
                        "\t<wp:category>\n\t\t<wp:term_id>{id}</wp:term_id>\n\t\t<wp:category_nicename><![CDATA[{nicename}]]></wp:category_nicename>\n\t\t<wp:category_parent><![CDATA[{parent}]]></wp:category_parent>\n\t\t<wp:cat_name><![CDATA[{name}]]></wp:cat_name>\n\t</wp:category>\n"
                    )
                    .as_bytes(),
                );
                id += 1;
            };
            category(out, "region", "", "Region");
            let mut countries: Vec<&str> = PLACES.iter().map(|(_, c)| *c).collect();
            countries.dedup();
            for country in countries {
                category(out, &slugify(country), "region", country);
            }
            category(out, "uncategorized", "", "Uncategorized");
            for (i, topic) in TOPICS.iter().enumerate() {
                out.extend_from_slice(
                    format!(
                        "\t<wp:tag>\n\t\t<wp:term_id>{}</wp:term_id>\n\t\t<wp:tag_slug><![CDATA[{}-{i}]]></wp:tag_slug>\n\t\t<wp:tag_name><![CDATA[{topic}]]></wp:tag_name>\n\t\t<wp:tag_description><![CDATA[Stories about {topic}.]]></wp:tag_description>\n\t</wp:tag>\n",
                        100 + i,
                        slugify(topic)
                    )
                    .as_bytes(),
                );
            }
        }

        /// One post, preceded now and then by a page, an attachment or a menu item.
        fn item(&mut self) {
            let n = self.post;
            self.post += 1;
            self.counts.posts += 1;
            if n % 40 == 7 {
                self.page(n);
            }
            if n % 12 == 3 {
                self.attachment(n);
            }
            if n % 150 == 11 {
                self.menu_item();
            }
            // Dates advance about four posts a day from Jan. 1 2015.
            let day = (n / 4) as i64;
            let date = jiff::civil::date(2015, 1, 1)
                .checked_add(jiff::Span::new().days(day))
                .unwrap_or(jiff::civil::date(2015, 1, 1));
            let hour = 6 + self.rng.below(12);
            let minute = self.rng.below(60);
            let (status, date) = match n % 25 {
                5 => ("draft", date),
                9 => ("private", date),
                13 => (
                    "future",
                    date.checked_add(jiff::Span::new().days(3650))
                        .unwrap_or(date),
                ),
                _ => ("publish", date),
            };
            match status {
                "draft" => self.counts.drafts += 1,
                "private" => self.counts.private += 1,
                "future" => self.counts.scheduled += 1,
                _ => self.counts.published += 1,
            }
            let id = self.next_id;
            self.next_id += 1;
            let place = PLACES[self.rng.below(PLACES.len())];
            let headline = format!(
                "{} {} {} in {}",
                self.rng.pick(SUBJECTS),
                self.rng.pick(VERBS),
                self.rng.pick(OBJECTS),
                title_case(place.0)
            );
            let slug = format!("{}-{id}", slugify(&headline));
            let style = n % 4;
            let body = self.body(style, place.0, date, n);
            let y = date.year();
            let m = date.month();
            let d = date.day();
            let topic_a = self.rng.below(TOPICS.len());
            let topic_b = (topic_a + 1 + self.rng.below(TOPICS.len() - 1)) % TOPICS.len();
            let out = &mut self.chunk;
            out.extend_from_slice(
                format!(
                    "\t<item>\n\t\t<title><![CDATA[{headline}]]></title>\n\t\t<link>{SITE}/{y:04}/{m:02}/{d:02}/{slug}/</link>\n\t\t<pubDate>Thu, 01 Jan 2015 00:00:00 +0000</pubDate>\n\t\t<dc:creator><![CDATA[editor]]></dc:creator>\n\t\t<guid isPermaLink=\"false\">{SITE}/?p={id}</guid>\n\t\t<description></description>\n\t\t<content:encoded><![CDATA[{body}]]></content:encoded>\n\t\t<excerpt:encoded><![CDATA[]]></excerpt:encoded>\n\t\t<wp:post_id>{id}</wp:post_id>\n\t\t<wp:post_date><![CDATA[{y:04}-{m:02}-{d:02} {hour:02}:{minute:02}:00]]></wp:post_date>\n\t\t<wp:post_date_gmt><![CDATA[{y:04}-{m:02}-{d:02} {hour:02}:{minute:02}:00]]></wp:post_date_gmt>\n\t\t<wp:comment_status><![CDATA[open]]></wp:comment_status>\n\t\t<wp:ping_status><![CDATA[open]]></wp:ping_status>\n\t\t<wp:post_name><![CDATA[{slug}]]></wp:post_name>\n\t\t<wp:status><![CDATA[{status}]]></wp:status>\n\t\t<wp:post_parent>0</wp:post_parent>\n\t\t<wp:menu_order>0</wp:menu_order>\n\t\t<wp:post_type><![CDATA[post]]></wp:post_type>\n\t\t<wp:post_password><![CDATA[]]></wp:post_password>\n\t\t<wp:is_sticky>0</wp:is_sticky>\n\t\t<category domain=\"category\" nicename=\"{}\"><![CDATA[{}]]></category>\n\t\t<category domain=\"post_tag\" nicename=\"{}-{topic_a}\"><![CDATA[{}]]></category>\n\t\t<category domain=\"post_tag\" nicename=\"{}-{topic_b}\"><![CDATA[{}]]></category>\n\t\t<wp:postmeta>\n\t\t\t<wp:meta_key><![CDATA[_edit_last]]></wp:meta_key>\n\t\t\t<wp:meta_value><![CDATA[1]]></wp:meta_value>\n\t\t</wp:postmeta>\n",
                    slugify(place.1),
                    place.1,
                    slugify(TOPICS[topic_a]),
                    TOPICS[topic_a],
                    slugify(TOPICS[topic_b]),
                    TOPICS[topic_b],
                )
                .as_bytes(),
            );
            if n % 5 == 2 {
                let comments = 1 + self.rng.below(3);
                for c in 0..comments {
                    self.counts.comments += 1;
                    let noun = self.rng.pick(NOUNS);
                    let action = self.rng.pick(ACTIONS);
                    self.chunk.extend_from_slice(
                        format!(
                            "\t\t<wp:comment>\n\t\t\t<wp:comment_id>{}</wp:comment_id>\n\t\t\t<wp:comment_author><![CDATA[Reader {c}]]></wp:comment_author>\n\t\t\t<wp:comment_date><![CDATA[{y:04}-{m:02}-{d:02} 20:00:00]]></wp:comment_date>\n\t\t\t<wp:comment_content><![CDATA[The {noun} {action}.]]></wp:comment_content>\n\t\t\t<wp:comment_approved><![CDATA[1]]></wp:comment_approved>\n\t\t</wp:comment>\n",
                            id * 10 + c as u64
                        )
                        .as_bytes(),
                    );
                }
            }
            self.chunk.extend_from_slice(b"\t</item>\n");
        }

        /// A sentence of invented news prose.
        fn sentence(&mut self) -> String {
            let noun = self.rng.pick(NOUNS);
            let action = self.rng.pick(ACTIONS);
            let subject = self.rng.pick(SUBJECTS).to_lowercase();
            match self.rng.below(4) {
                0 => format!("The {noun} {action}."),
                1 => format!("According to the {subject}, the {noun} {action}."),
                2 => format!(
                    "Local {noun} {action}, while the {subject} said it had received {} letters.",
                    10 + self.rng.below(990)
                ),
                _ => format!("Some {noun} {action} &amp; others disagreed."),
            }
        }

        fn paragraph(&mut self) -> String {
            let sentences = 3 + self.rng.below(3);
            (0..sentences)
                .map(|_| self.sentence())
                .collect::<Vec<_>>()
                .join(" ")
        }

        /// About 2 KB of body in one of four shapes.
        fn body(&mut self, style: u64, place: &str, date: jiff::civil::Date, n: u64) -> String {
            let count = 4 + self.rng.below(3);
            let paragraphs: Vec<String> = (0..count).map(|_| self.paragraph()).collect();
            match style {
                // Classic editor: blank lines between paragraphs, inline markup.
                0 => {
                    let mut text = paragraphs.join("\n\n");
                    text.push_str("\n\n<strong>Read more</strong> on <a href=\"https://bulletin.example/tag/energy/\">energy</a>.");
                    text
                }
                // Block editor.
                1 => paragraphs
                    .iter()
                    .map(|p| format!("<!-- wp:paragraph -->\n<p>{p}</p>\n<!-- /wp:paragraph -->"))
                    .collect::<Vec<_>>()
                    .join("\n\n"),
                // Bulletin text: dateline, ENDS, footers.
                2 => {
                    self.counts.bulletin_bodies += 1;
                    let month = MONTHS[date.month() as usize - 1].to_uppercase();
                    let issue = 300 + n / 20;
                    let mut out = format!(
                        "<p>{place}/{month} {} {} (The Bulletin) &#8212; {}</p>\n",
                        date.day(),
                        date.year(),
                        paragraphs[0]
                    );
                    for p in &paragraphs[1..] {
                        out.push_str(&format!("<p>{p}</p>\n"));
                    }
                    out.push_str(&format!(
                        "<p>ENDS</p>\n<p>&#8212; This story was published in issue {issue} of the {}, on {} {} {}</p>\n<p>&#8212; Copyright the {} {}</p>",
                        HOLDER.replace('&', "&amp;"),
                        MONTHS[date.month() as usize - 1],
                        date.day(),
                        date.year(),
                        HOLDER.replace('&', "&amp;"),
                        date.year()
                    ));
                    out
                }
                // An image with a caption, then paragraphs.
                _ => {
                    let mut out = format!(
                        "[caption id=\"attachment_{n}\" align=\"alignnone\" width=\"600\"]<img src=\"https://bulletin.example/files/{n}.jpg\" alt=\"\" width=\"600\" height=\"400\" /> A view of {}[/caption]\n\n",
                        title_case(place)
                    );
                    out.push_str(&paragraphs.join("\n\n"));
                    out
                }
            }
        }

        fn page(&mut self, n: u64) {
            self.counts.pages += 1;
            let id = self.next_id;
            self.next_id += 1;
            self.chunk.extend_from_slice(
                format!(
                    "\t<item>\n\t\t<title><![CDATA[About page {n}]]></title>\n\t\t<link>{SITE}/about-{n}/</link>\n\t\t<content:encoded><![CDATA[<p>The bulletin is published weekly.</p>]]></content:encoded>\n\t\t<wp:post_id>{id}</wp:post_id>\n\t\t<wp:post_date><![CDATA[2015-01-01 00:00:00]]></wp:post_date>\n\t\t<wp:post_date_gmt><![CDATA[2015-01-01 00:00:00]]></wp:post_date_gmt>\n\t\t<wp:post_name><![CDATA[about-{n}]]></wp:post_name>\n\t\t<wp:status><![CDATA[publish]]></wp:status>\n\t\t<wp:post_type><![CDATA[page]]></wp:post_type>\n\t</item>\n"
                )
                .as_bytes(),
            );
        }

        fn attachment(&mut self, n: u64) {
            self.counts.attachments += 1;
            let id = self.next_id;
            self.next_id += 1;
            self.chunk.extend_from_slice(
                format!(
                    "\t<item>\n\t\t<title>photo-{n}</title>\n\t\t<link>{SITE}/files/{n}.jpg</link>\n\t\t<content:encoded><![CDATA[]]></content:encoded>\n\t\t<wp:post_id>{id}</wp:post_id>\n\t\t<wp:post_date>2015-01-01 00:00:00</wp:post_date>\n\t\t<wp:post_name>photo-{n}</wp:post_name>\n\t\t<wp:status>inherit</wp:status>\n\t\t<wp:post_type>attachment</wp:post_type>\n\t\t<wp:attachment_url>{SITE}/files/{n}.jpg</wp:attachment_url>\n\t</item>\n"
                )
                .as_bytes(),
            );
        }

        fn menu_item(&mut self) {
            self.counts.menu_items += 1;
            let id = self.next_id;
            self.next_id += 1;
            self.chunk.extend_from_slice(
                format!(
                    "\t<item>\n\t\t<title></title>\n\t\t<wp:post_id>{id}</wp:post_id>\n\t\t<wp:status>publish</wp:status>\n\t\t<wp:post_type>nav_menu_item</wp:post_type>\n\t</item>\n"
                )
                .as_bytes(),
            );
        }
    }

    fn title_case(word: &str) -> String {
        let lower = word.to_lowercase();
        let mut chars = lower.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }

    impl Read for Synth {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            while self.at >= self.chunk.len() {
                if self.stage == Stage::Done {
                    return Ok(0);
                }
                self.refill();
            }
            let n = (self.chunk.len() - self.at).min(out.len());
            out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// Writes an export with `posts` posts; the same `seed` gives the same bytes.
    pub fn generate(posts: u64, seed: u64, out: &mut impl Write) -> io::Result<Counts> {
        let mut synth = Synth::new(posts, seed);
        io::copy(&mut synth, out)?;
        Ok(synth.counts())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_paths() {
        assert_eq!(
            link_path("https://example.com/2013/01/11/markup/").as_deref(),
            Some("/2013/01/11/markup/")
        );
        assert_eq!(
            link_path("https://example.com/?p=12#x").as_deref(),
            Some("/?p=12")
        );
        assert_eq!(link_path("https://example.com").as_deref(), Some("/"));
        assert_eq!(
            link_path("http://e.com/%D0%B0%D0%B1/").as_deref(),
            Some("/аб/")
        );
        assert_eq!(link_path("not a link"), None);
    }

    #[test]
    fn old_paths_skip_the_new_url_and_duplicates() {
        let d = jiff::civil::date(2013, 1, 11);
        let paths = old_paths(
            "https://e.com/2013/01/11/markup/",
            "1178",
            "markup",
            Some(d),
            "/2013/01/11/markup/",
        );
        assert_eq!(paths, ["/?p=1178"]);
    }

    #[test]
    fn attribute_unescaping() {
        assert_eq!(unescape(b"a &amp; b &#233;&#xE9;").unwrap(), "a & b éé");
        assert!(unescape(b"&lol;").unwrap_err().contains("&lol;"));
        assert!(unescape(b"a & b").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(
            wp_datetime("2013-01-11 20:22:19"),
            Some(jiff::civil::date(2013, 1, 11).at(20, 22, 19, 0))
        );
        assert_eq!(wp_datetime("0000-00-00 00:00:00"), None);
        assert_eq!(wp_datetime("junk"), None);
    }
}
