//! How deep a piece of HTML nests, found by one linear scan before `ammonia`
//! (html5ever) parses it.
//!
//! html5ever's tree builder walks its stack of open elements for many tags (is a
//! `<p>` open in scope? which element does this end tag close?), so its work
//! grows with depth times tags: 100,000 nested `<div>`s (500 KB) took 34
//! seconds. No post nests more than a few dozen elements, so HTML deeper than
//! [`MAX_NESTING`] is refused before it is parsed.
//!
//! The scan models the parser's stack closely enough never to count less than
//! the parser will hold, and rarely more: end tags close only what the parser's
//! own rules let them close (not past a table cell, nor, for an unknown tag, past
//! a block), the starts that close an open `p`, `li`, `dd`, `dt` or table cell
//! close them here too, void and self-closed foreign elements open nothing, and
//! formatting elements (`b`, `a`, `em`, ...) are counted apart, open until their
//! own end tag, since the parser re-opens them after a block closes them.
//! Comments are skipped. Anything it cannot tell counts as deeper, never
//! shallower.

/// Deepest nesting of HTML elements accepted in one field (a post's body, a
/// title): elements open at once plus formatting elements left open.
pub const MAX_NESTING: usize = 256;

/// Where `html` first nests deeper than [`MAX_NESTING`]: the byte offset of the
/// tag that goes too deep; `None` when it stays within.
pub fn too_deep(html: &str) -> Option<usize> {
    scan(html, MAX_NESTING).err()
}

/// The deepest nesting of `html`, or the offset of the tag that passes `limit`.
fn scan(html: &str, limit: usize) -> Result<usize, usize> {
    let bytes = html.as_bytes();
    let mut deepest = 0;
    let mut scan = Scan::default();
    let mut at = 0;
    while let Some(rel) = memchr::memchr(b'<', &bytes[at..]) {
        let open = at + rel;
        let rest = &bytes[open + 1..];
        if rest.starts_with(b"!--") {
            // A comment, to its `-->` (an unclosed one runs to the end).
            at = match memchr::memmem::find(&rest[3..], b"-->") {
                Some(i) => open + 4 + i + 3,
                None => return Ok(deepest),
            };
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = open + 1 + usize::from(closing);
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            at = open + 1;
            continue;
        }
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| !b.is_ascii_whitespace() && **b != b'/' && **b != b'>')
            .count();
        let name = Name::of(&bytes[name_start..name_start + name_len]);
        let (end, self_closed) = tag_end(bytes, name_start + name_len);
        at = end;
        if closing {
            scan.end_tag(&name);
        } else {
            scan.start_tag(name, self_closed);
            deepest = deepest.max(scan.depth());
            if deepest > limit {
                return Err(open);
            }
        }
    }
    Ok(deepest)
}

/// Where the tag whose attributes start at `from` ends (after its `>`), and
/// whether it ends with `/>`. Quotes count only where an attribute value
/// starts (after `=`), as the HTML tokenizer reads them.
fn tag_end(bytes: &[u8], from: usize) -> (usize, bool) {
    let mut i = from;
    let mut after_equals = false;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'>' => return (i + 1, i > from && bytes[i - 1] == b'/'),
            b'=' => after_equals = true,
            b'"' | b'\'' if after_equals => {
                match memchr::memchr(b, &bytes[i + 1..]) {
                    Some(close) => i += close + 1,
                    None => return (bytes.len(), false),
                }
                after_equals = false;
            }
            _ if b.is_ascii_whitespace() => {}
            _ => after_equals = false,
        }
        i += 1;
    }
    (bytes.len(), false)
}

/// A tag name, lowercased; long names are cut (they match nothing known).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Name(Box<[u8]>);

impl Name {
    fn of(raw: &[u8]) -> Name {
        Name(raw.iter().take(32).map(u8::to_ascii_lowercase).collect())
    }

    fn is(&self, any: &[&str]) -> bool {
        any.iter().any(|n| n.as_bytes() == &*self.0)
    }
}

/// Elements that hold nothing: they open no level.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr", "basefont", "bgsound", "frame", "image",
];

/// Formatting elements, which the parser keeps in its list of active
/// formatting elements and re-opens.
const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];

/// Elements an end tag does not close past (the parser's scope boundaries).
const BOUNDARY: &[&str] = &[
    "applet",
    "caption",
    "html",
    "table",
    "td",
    "th",
    "marquee",
    "object",
    "template",
    "foreignobject",
    "desc",
    "title",
    "mi",
    "mo",
    "mn",
    "ms",
    "mtext",
    "annotation-xml",
    "svg",
    "math",
];

/// The parser's "special" elements: an end tag of another, unknown element does
/// not close past them.
const SPECIAL: &[&str] = &[
    "address",
    "applet",
    "area",
    "article",
    "aside",
    "base",
    "basefont",
    "bgsound",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "center",
    "col",
    "colgroup",
    "dd",
    "details",
    "dir",
    "div",
    "dl",
    "dt",
    "embed",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "frame",
    "frameset",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hgroup",
    "hr",
    "html",
    "iframe",
    "img",
    "input",
    "keygen",
    "li",
    "link",
    "listing",
    "main",
    "marquee",
    "menu",
    "meta",
    "nav",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "ol",
    "p",
    "param",
    "plaintext",
    "pre",
    "script",
    "search",
    "section",
    "select",
    "source",
    "style",
    "summary",
    "table",
    "tbody",
    "td",
    "template",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "track",
    "ul",
    "wbr",
    "xmp",
];

/// Start tags that first close an open `p`.
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "header",
    "hgroup",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "search",
    "section",
    "summary",
    "ul",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "listing",
    "form",
    "hr",
    "xmp",
    "plaintext",
    "table",
    "li",
    "dd",
    "dt",
];

#[derive(Default)]
struct Scan {
    /// Open elements other than formatting ones.
    stack: Vec<Name>,
    /// Formatting elements opened and not yet ended, by name.
    formatting: Vec<(Name, usize)>,
    formatting_open: usize,
}

impl Scan {
    fn depth(&self) -> usize {
        self.stack.len() + self.formatting_open
    }

    fn in_foreign(&self) -> bool {
        self.stack.iter().any(|n| n.is(&["svg", "math"]))
    }

    fn start_tag(&mut self, name: Name, self_closed: bool) {
        if name.is(&["html", "head", "body"]) || name.is(VOID) {
            return;
        }
        if self_closed && self.in_foreign() {
            return;
        }
        if name.is(FORMATTING) {
            if name.is(&["a", "nobr"]) {
                // A second `a` (or `nobr`) first ends the open one.
                self.end_tag(&name);
            }
            match self.formatting.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => *count += 1,
                None => self.formatting.push((name, 1)),
            }
            self.formatting_open += 1;
            return;
        }
        if name.is(CLOSES_P) {
            self.close_if_open("p", &["button"]);
        }
        if name.is(&["li"]) {
            self.close_if_open("li", &["ol", "ul"]);
        } else if name.is(&["dd", "dt"]) {
            self.close_if_open("dd", &[]);
            self.close_if_open("dt", &[]);
        } else if name.is(&["td", "th"]) {
            self.close_if_open("td", &["tr"]);
            self.close_if_open("th", &["tr"]);
        } else if name.is(&["tr"]) {
            self.close_cell();
            self.close_if_open("tr", &["tbody", "thead", "tfoot"]);
        } else if name.is(&["tbody", "thead", "tfoot"]) {
            self.close_cell();
            self.close_if_open("tr", &["tbody", "thead", "tfoot"]);
            for section in ["tbody", "thead", "tfoot"] {
                self.close_if_open(section, &[]);
            }
        }
        self.stack.push(name);
    }

    /// Closes an open table cell of the current row.
    fn close_cell(&mut self) {
        self.close_if_open("td", &["tr"]);
        self.close_if_open("th", &["tr"]);
    }

    /// Pops through the innermost open `target`, if one is open within a
    /// boundary (or one of `also`, which bound it too).
    fn close_if_open(&mut self, target: &str, also: &[&str]) {
        for i in (0..self.stack.len()).rev() {
            let n = &self.stack[i];
            if n.is(&[target]) {
                self.stack.truncate(i);
                return;
            }
            if n.is(BOUNDARY) || n.is(also) {
                return;
            }
        }
    }

    fn end_tag(&mut self, name: &Name) {
        if name.is(FORMATTING) {
            if let Some((_, count)) = self.formatting.iter_mut().find(|(n, _)| n == name)
                && *count > 0
            {
                *count -= 1;
                self.formatting_open -= 1;
            }
            return;
        }
        let special = name.is(SPECIAL);
        for i in (0..self.stack.len()).rev() {
            let n = &self.stack[i];
            if n == name {
                self.stack.truncate(i);
                return;
            }
            if n.is(BOUNDARY) || (!special && n.is(SPECIAL)) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(html: &str) -> usize {
        scan(html, usize::MAX).unwrap_or(usize::MAX)
    }

    #[test]
    fn ordinary_posts_are_shallow() {
        assert_eq!(depth("<p>a <b>b</b> <em>c</em></p><ul><li>x<li>y</ul>"), 2);
        assert_eq!(depth("<a href=x>one<a href=y>two"), 1);
        // A `>` inside a quoted value does not end the tag.
        assert_eq!(depth("<p title=\"a > <div><div>\">x</p>"), 1);
        // Unclosed paragraphs, list items and cells close each other.
        let sloppy = "<p>one<p>two<p>three".repeat(200);
        assert_eq!(too_deep(&sloppy), None);
        let table = format!("<table>{}</table>", "<tr><td>a<td>b".repeat(500));
        assert_eq!(too_deep(&table), None);
        let svg = format!("<svg>{}</svg>", "<path d=\"M0 0\"/>".repeat(500));
        assert_eq!(too_deep(&svg), None);
        let comments = "<!-- <div><div><div> -->".repeat(500);
        assert_eq!(too_deep(&comments), None);
    }

    #[test]
    fn deep_nesting_is_found_at_its_tag() {
        let html = "<div>".repeat(MAX_NESTING + 10);
        assert_eq!(too_deep(&html), Some(MAX_NESTING * 5));
        let closed = "<div>x</div>".repeat(10_000);
        assert_eq!(too_deep(&closed), None);
    }

    #[test]
    fn end_tags_the_parser_ignores_close_nothing() {
        // `</div>` does not close past a table cell; unknown end tags close no
        // block; `</b>` after a block leaves `b` to be re-opened.
        for unit in [
            "<div><table><td></div>",
            "<div></x>",
            "<p><b id=1>x</p>",
            "<b><div></b>",
        ] {
            assert!(too_deep(&unit.repeat(MAX_NESTING + 1)).is_some(), "{unit}");
        }
    }
}
