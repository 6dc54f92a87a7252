//! The reader's state between events: where it stands in the document, the text
//! being kept, and what the channel, its terms and the current item hold so far.
//! Each event moves it on; each element's end may make [`Item`]s, queued in `out`.
//!
//! Tags and categories are finished in `terms`, posts and other items in `items`.

mod items;
mod terms;

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};

use super::diagnostics::xml_error_message;
use super::elements::{AuthorField, ItemField, Kind, Open, Prefixes, Root, TermField, TermKind};
use super::guard;
use super::limits::{MAX_DEPTH, MAX_FIELD, MAX_ITEM_CATEGORIES};
use super::tracker::{Mark, Tracker};
use crate::{Diagnostic, Item, Settings, Severity, html};
use items::ItemFields;
use terms::{PendingCategory, TermFields};

/// Everything the reader knows between events.
pub(super) struct Walker {
    file: String,
    settings: Settings,
    /// Items made and not yet handed out.
    pub(super) out: VecDeque<Result<Item, Diagnostic>>,
    /// Set after the end of the document or the first error.
    pub(super) done: bool,
    /// Whether the file's first bytes have been looked at.
    pub(super) sniffed: bool,
    pub(super) root: Root,
    channel_seen: bool,
    stack: Vec<Open>,
    /// Text of the capturing element being read.
    text: String,
    prefixes: Prefixes,
    /// Where the current event starts.
    pub(super) mark: Mark,
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
    pub(super) fn new(file: &str, settings: &Settings) -> Walker {
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

    pub(super) fn fatal(&mut self, diagnostic: Diagnostic) {
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
        Diagnostic::quoted(Severity::Error, line, column, message, quote)
    }

    fn error<R: BufRead>(&self, tracker: &Tracker<R>, message: impl Into<String>) -> Diagnostic {
        self.error_at(tracker, self.mark.pos, message)
    }

    /// Words for a `quick-xml` error, at the place it names.
    pub(super) fn xml_error<R: BufRead>(
        &self,
        e: &quick_xml::Error,
        at: u64,
        tracker: &Tracker<R>,
    ) -> Diagnostic {
        let in_prolog = self.root == Root::NotSeen;
        let (at, message) = xml_error_message(e, at, tracker, self.mark.pos, in_prolog);
        self.error_at(tracker, at, message)
    }

    /// Acts on one event.
    pub(super) fn event<R: BufRead>(
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
                let c = guard::reference(&r).map_err(|m| self.error(tracker, m))?;
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
                    Some(Ok(encoding)) => match guard::encoding_refusal(&encoding) {
                        Some(refused) => Err(self.error(tracker, refused)),
                        None => Ok(()),
                    },
                    Some(Err(e)) => {
                        Err(self.error(tracker, format!("malformed XML declaration: {e}")))
                    }
                }
            }
            Event::DocType(d) => match guard::doctype_refusal(&d, self.root) {
                Some(refused) => Err(self.error(tracker, refused)),
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
                guard::not_utf8(byte),
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
                    if self.item.categories.len() >= MAX_ITEM_CATEGORIES {
                        return Err(self.error(
                            tracker,
                            format!("this <item> holds more than {MAX_ITEM_CATEGORIES} categories and tags; a post carries a handful"),
                        ));
                    }
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
                            self.skip_part(
                                "comment",
                                &title,
                                line,
                                "comments are not imported",
                                false,
                            );
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
            let value = guard::unescape(&attribute.value).map_err(|m| self.error(tracker, m))?;
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
                    domain = Some(
                        guard::unescape(&attribute.value).map_err(|m| self.error(tracker, m))?,
                    )
                }
                b"nicename" => {
                    nicename =
                        guard::unescape(&attribute.value).map_err(|m| self.error(tracker, m))?
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
        // HTML nested too deep would cost the sanitiser time in its square.
        if open.kind.captures()
            && let Some(at) = html::too_deep(&self.text)
        {
            return Err(self.error_at(
                tracker,
                open.mark.pos,
                format!(
                    "{} holds HTML nested more than {} elements deep (at character {} of its text); a post's HTML goes a few dozen deep at most",
                    open.kind.label(),
                    html::MAX_NESTING,
                    self.text[..at].chars().count() + 1
                ),
            ));
        }
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
                    item: false,
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

    /// Reports an `<item>` not imported.
    fn skip(&mut self, kind: &str, title: &str, line: u64, reason: impl Into<String>) {
        self.skip_part(kind, title, line, reason, true);
    }

    /// Reports something not imported; `item` says whether it is an `<item>`.
    fn skip_part(
        &mut self,
        kind: &str,
        title: &str,
        line: u64,
        reason: impl Into<String>,
        item: bool,
    ) {
        self.out.push_back(Ok(Item::Skipped {
            kind: kind.to_owned(),
            title: title.to_owned(),
            line,
            reason: reason.into(),
            item,
        }));
    }
}
