//! The input as the XML parser consumes it: read through a buffer of its own so
//! that every byte is seen once, to count lines, keep the last stretch of the file
//! for quoting in messages, and cap the size of each event.

use std::io::{self, BufRead, Read};

use memchr::{memchr, memchr_iter, memrchr};

use bulletin_text::Quote;
use bulletin_text::limits::MAX_QUOTE;

use super::limits::{CHUNK, MAX_PROLOG_EVENT, WINDOW};

/// A place in the file: byte offset, 1-based line, and where that line starts.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Mark {
    pub(super) pos: u64,
    pub(super) line: u64,
    pub(super) line_start: u64,
}

/// The input, read through a buffer of its own so that every byte the XML parser
/// consumes is seen once: lines are counted, the last stretch of the file is kept
/// for quoting, and each event's size is capped.
pub(super) struct Tracker<R> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// Bytes consumed (after a UTF-8 byte order mark, which the parser never sees).
    pub(super) pos: u64,
    /// 1-based line at `pos`, and the offset where that line starts.
    line: u64,
    line_start: u64,
    /// The last bytes consumed, from offset `window_start`.
    window: Vec<u8>,
    window_start: u64,
    /// Bytes consumed since the current event began, and the cap.
    used: u64,
    limit: u64,
    pub(super) over_limit: bool,
}

impl<R: BufRead> Tracker<R> {
    pub(super) fn new(inner: R) -> Tracker<R> {
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
    pub(super) fn sniff(&mut self) -> io::Result<Option<&'static str>> {
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

    pub(super) fn begin_event(&mut self, limit: u64) -> Mark {
        self.used = 0;
        self.limit = limit;
        Mark {
            pos: self.pos,
            line: self.line,
            line_start: self.line_start,
        }
    }

    /// The last line that has anything on it (a final line end opens no line).
    pub(super) fn last_line(&self) -> u64 {
        if self.window.last() == Some(&b'\n') {
            self.line.saturating_sub(1).max(1)
        } else {
            self.line
        }
    }

    /// Line, column and quoted line of offset `at` (at most the current position).
    /// Exact while `at` is within the kept window; before it (only the start of an
    /// event over a megabyte long), the line from `fallback` and a byte column.
    pub(super) fn locate(&self, at: u64, fallback: Mark) -> (u64, u64, Quote) {
        let at = at.min(self.pos);
        if at < self.window_start {
            let column = at.saturating_sub(fallback.line_start) + 1;
            return (fallback.line, column, Quote::of("", 1));
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
        let began_before = line_start == 0 && self.window_start > 0 && line == self.line;
        let quote = self.quote(line_start, idx, began_before);
        (line, column, quote)
    }

    /// The line through window index `from` (its start) and `through` (the
    /// place the message is about), looking ahead into the unread buffer when the
    /// parser stopped mid-line: only a stretch around `through`, cut on character
    /// boundaries, since a line may be megabytes long.
    fn quote(&self, from: usize, through: usize, began_before: bool) -> Quote {
        let w = &self.window;
        // Bytes enough for `MAX_QUOTE` characters on either side.
        let reach = 4 * MAX_QUOTE;
        let mut start = from.max(through.saturating_sub(reach));
        while start < through && w[start] & 0xC0 == 0x80 {
            start += 1;
        }
        let mut bytes: Vec<u8> = w[start..through].to_vec();
        let mut cut_after = false;
        let rest = &w[through..];
        let ahead = &self.buf[self.start..self.end];
        let tail_in_window = memchr(b'\n', rest);
        let tail: Vec<u8> = match tail_in_window {
            Some(i) => rest[..i].to_vec(),
            None => {
                let mut v = rest.to_vec();
                let take = memchr(b'\n', ahead).unwrap_or(ahead.len());
                v.extend_from_slice(&ahead[..take]);
                // The line may go on past what has been read.
                cut_after = take == ahead.len() && !ahead.is_empty();
                v
            }
        };
        let mut end = tail.len().min(reach);
        if end < tail.len() {
            cut_after = true;
            while end > 0 && tail[end] & 0xC0 == 0x80 {
                end -= 1;
            }
        }
        bytes.extend_from_slice(&tail[..end]);
        if !cut_after && bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        let text = String::from_utf8_lossy(&bytes);
        let column = chars(&w[start..through]) + 1;
        Quote::part(&text, column, began_before || start > from, cut_after)
    }

    /// Column and quoted line of a mark, cheaply (for warnings about an item):
    /// exact when its line is short and still in the window.
    pub(super) fn at_mark(&self, mark: Mark) -> (u64, String) {
        let bytes_before = mark.pos.saturating_sub(mark.line_start);
        if mark.line_start < self.window_start || bytes_before > 4 * MAX_QUOTE as u64 {
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
        if end - from > 8 * MAX_QUOTE {
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
