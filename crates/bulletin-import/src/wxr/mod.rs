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
//!
//! The parts, by concern:
//! - `limits`: every cap on size and depth, in one place;
//! - `tracker`: the input as the parser consumes it (lines, a window to quote from,
//!   the per-event cap);
//! - `guard`: what XML may not do here (DTDs, entities, encodings other than UTF-8);
//! - `diagnostics`: parser errors in words, at their place;
//! - `elements`: what each element of an export is to the reader;
//! - `walker`: the state between events (the channel, terms, items) and what each
//!   element's end makes;
//! - `status`: WordPress's post statuses and dates;
//! - `addresses`: a post's old addresses, for redirects;
//! - [`synth`]: a generator of realistic exports, for tests and benchmarks.

mod addresses;
mod diagnostics;
mod elements;
mod guard;
mod limits;
mod status;
pub mod synth;
mod tracker;
mod walker;

use std::io::BufRead;

use crate::{Diagnostic, Item, Settings, Severity};
use elements::Root;
use tracker::Tracker;
use walker::Walker;

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
            limits::MAX_PROLOG_EVENT
        } else {
            limits::MAX_EVENT
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
