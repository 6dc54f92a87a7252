//! Post HTML to plain paragraphs, through `ammonia`.
//!
//! A WordPress body (`content:encoded`) mixes three ways of marking paragraphs:
//! blank lines (the classic editor stores text that `wpautop` turns into `<p>`s on
//! output), explicit block elements, and Gutenberg's `<!-- wp:... -->` comments around
//! blocks. It also holds shortcodes (`[caption]`, `[gallery]`, `[embed]`), which are
//! WordPress's, not HTML's.
//!
//! The way through: shortcodes are handled on the raw text; `ammonia` then parses the
//! HTML as a browser would and keeps only a small set of block tags with no
//! attributes (script, style, iframes and other embedded content are removed with
//! their content); a tiny tokenizer walks that normalised output, ending a paragraph
//! at each block tag or blank line and decoding the few entities the serializer
//! writes. What comes out is plain text: the site escapes it again on output.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;

use memchr::{memchr, memchr2, memmem};

pub use crate::html_depth::{MAX_NESTING, too_deep};

/// Tags kept by `ammonia` (without attributes) because they end a paragraph, or
/// (`br`, `td`, `th`) separate words. Every other tag is unwrapped: its text stays.
const STRUCTURE_TAGS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "td",
    "th",
    "caption",
    "figure",
    "figcaption",
    "br",
    "hr",
    "section",
    "article",
    "aside",
    "header",
    "footer",
    "main",
    "nav",
    "address",
    "details",
    "summary",
    "center",
];

/// Tags removed together with everything inside them: code, styling, embedded
/// players and their fallback text ("your browser does not support video"), forms,
/// drawings. None of it is a story's words.
const DROPPED_WITH_CONTENT: &[&str] = &[
    "script",
    "style",
    "iframe",
    "noscript",
    "noembed",
    "noframes",
    "object",
    "template",
    "video",
    "audio",
    "svg",
    "math",
    "textarea",
    "select",
    "button",
    "title",
    "xmp",
    "plaintext",
    "canvas",
    "map",
];

/// The configured sanitiser, built once: building one means filling hash sets.
fn sanitiser() -> &'static ammonia::Builder<'static> {
    static SANITISER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    SANITISER.get_or_init(|| {
        let mut builder = ammonia::Builder::empty();
        builder
            .tags(STRUCTURE_TAGS.iter().copied().collect())
            .clean_content_tags(DROPPED_WITH_CONTENT.iter().copied().collect())
            .generic_attributes(HashSet::new())
            .tag_attributes(Default::default())
            .tag_attribute_values(Default::default())
            .set_tag_attribute_values(Default::default())
            .allowed_classes(Default::default())
            .generic_attribute_prefixes(HashSet::new())
            .link_rel(None)
            .strip_comments(true);
        builder
    })
}

/// What a body lost on the way to plain text, for one warning per post.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Dropped {
    images: u32,
    galleries: u32,
    videos: u32,
    audio: u32,
    embeds: u32,
    controls: u32,
}

impl Dropped {
    fn warnings(&self) -> Vec<String> {
        let mut parts = Vec::new();
        let mut part = |n: u32, one: &str, many: &str| {
            if n > 0 {
                parts.push(format!("{n} {}", if n == 1 { one } else { many }));
            }
        };
        part(self.images, "image", "images");
        part(self.galleries, "gallery", "galleries");
        part(self.videos, "video", "videos");
        part(self.audio, "audio player", "audio players");
        part(self.embeds, "embedded item", "embedded items");
        let mut warnings = Vec::new();
        if !parts.is_empty() {
            let list = match parts.len() {
                1 => parts.remove(0),
                _ => {
                    let last = parts.pop().unwrap_or_default();
                    format!("{} and {last}", parts.join(", "))
                }
            };
            warnings.push(format!("left out {list}: a story holds text only"));
        }
        if self.controls > 0 {
            warnings.push(format!(
                "removed {} control character{} from the text",
                self.controls,
                if self.controls == 1 { "" } else { "s" }
            ));
        }
        warnings
    }
}

/// A WordPress body as plain-text paragraphs, in order, and warnings (plain
/// sentences) about what was left out. Never returns markup from the input:
/// a `<` in the result is one the text itself held (written `&lt;`).
///
/// HTML nested deeper than [`MAX_NESTING`] is not parsed (its cost would grow
/// with the square of its size): it gives no paragraphs, and a warning says why.
/// Readers refuse such input first, with its position (see [`too_deep`]).
pub fn paragraphs(html: &str) -> (Vec<String>, Vec<String>) {
    let mut dropped = Dropped::default();
    let mut out = Paragraphs::default();
    if too_deep(html).is_some() {
        return (Vec::new(), vec![too_deep_warning()]);
    }
    if !html.contains(['<', '&', '[']) {
        // Plain text (many classic-editor posts): nothing to sanitise.
        out.text(html);
    } else {
        count_media(html, &mut dropped);
        let html = strip_shortcodes(html, &mut dropped);
        tokenize(&sanitise(&html), &mut out);
    }
    dropped.controls = out.controls;
    (out.finish(), dropped.warnings())
}

/// One line of plain text from a short piece of HTML: a post title, a tag name, a
/// site name (WordPress lets all of these hold markup and entities).
/// Empty for HTML nested deeper than [`MAX_NESTING`], as [`paragraphs`] says.
pub fn text(html: &str) -> String {
    let mut out = Paragraphs::default();
    if too_deep(html).is_some() {
        return String::new();
    }
    if !html.contains(['<', '&']) {
        out.text(html);
    } else {
        tokenize(&sanitise(html), &mut out);
    }
    out.finish().join(" ")
}

/// Why a body gave no paragraphs.
fn too_deep_warning() -> String {
    format!("its HTML nests elements more than {MAX_NESTING} deep, so it was not read")
}

fn sanitise(html: &str) -> String {
    let document = sanitiser().clean(html);
    let mut bytes = Vec::with_capacity(html.len());
    // Writing into a Vec cannot fail.
    if document.write_to(&mut bytes).is_err() {
        return String::new();
    }
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Counts the media elements the sanitiser will drop, from the raw HTML (a cheap
/// scan; a tag name inside a comment counts too, which is fine for a warning).
fn count_media(html: &str, dropped: &mut Dropped) {
    let bytes = html.as_bytes();
    let mut at = 0;
    while let Some(rel) = memchr(b'<', &bytes[at..]) {
        let start = at + rel + 1;
        at = start;
        let name_len = bytes[start..]
            .iter()
            .take(7)
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let name = &bytes[start..start + name_len];
        let is = |word: &[u8]| name.eq_ignore_ascii_case(word);
        if is(b"img") {
            dropped.images += 1;
        } else if is(b"video") {
            dropped.videos += 1;
        } else if is(b"audio") {
            dropped.audio += 1;
        } else if is(b"iframe") || is(b"object") || is(b"embed") {
            dropped.embeds += 1;
        }
    }
}

/// What a shortcode becomes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shortcode {
    /// `[caption ...]<img> text[/caption]`: the caption's words stay, as their own
    /// paragraph.
    Caption,
    /// Removed with anything up to its closing tag, and counted.
    Gallery,
    Video,
    Audio,
    Embed,
}

fn shortcode(name: &[u8]) -> Option<Shortcode> {
    Some(match name {
        b"caption" | b"wp_caption" => Shortcode::Caption,
        b"gallery" | b"tiled-gallery" | b"slideshow" => Shortcode::Gallery,
        b"video" | b"wpvideo" | b"youtube" | b"vimeo" | b"dailymotion" | b"ted" | b"videopress" => {
            Shortcode::Video
        }
        b"audio" | b"playlist" | b"soundcloud" | b"spotify" => Shortcode::Audio,
        b"embed" | b"tweet" | b"twitter" | b"instagram" | b"facebook" | b"googlemaps"
        | b"scribd" | b"flickr" | b"pdf-embedder" => Shortcode::Embed,
        _ => return None,
    })
}

/// Longest shortcode opening tag looked at (`[gallery ids="..."]` can be long); a
/// `[` with no `]` within this many bytes is plain text.
const MAX_SHORTCODE_TAG: usize = 8192;

/// Removes or unwraps the shortcodes of [`shortcode`]; any other `[...]` is text
/// (WordPress shows unknown shortcodes as written, too).
fn strip_shortcodes<'a>(html: &'a str, dropped: &mut Dropped) -> Cow<'a, str> {
    let bytes = html.as_bytes();
    if memchr(b'[', bytes).is_none() {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut copied = 0;
    let mut at = 0;
    // Where each name's next closing tag was found (or that there is none after a
    // point), so that many unclosed shortcodes do not each search to the end.
    let mut closings: Vec<(&[u8], Option<usize>, usize)> = Vec::new();
    while let Some(rel) = memchr(b'[', &bytes[at..]) {
        let open = at + rel;
        at = open + 1;
        let closing_tag = bytes.get(open + 1) == Some(&b'/');
        let name_start = open + 1 + usize::from(closing_tag);
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
            .count();
        let name = &bytes[name_start..name_start + name_len];
        let Some(kind) = shortcode(name) else {
            continue;
        };
        let after_name = name_start + name_len;
        if !matches!(
            bytes.get(after_name),
            Some(b']' | b' ' | b'/' | b'\t' | b'\n')
        ) {
            continue;
        }
        let limit = bytes.len().min(after_name + MAX_SHORTCODE_TAG);
        let Some(close_rel) = memchr(b']', &bytes[after_name..limit]) else {
            continue;
        };
        let tag_end = after_name + close_rel + 1;
        out.push_str(&html[copied..open]);
        if kind == Shortcode::Caption {
            // The caption's own tags become paragraph ends; its words stay. The
            // older form keeps the words in a caption="..." attribute.
            out.push_str("\n\n");
            if !closing_tag && let Some(words) = attribute(&html[after_name..tag_end], "caption") {
                out.push_str(words);
                out.push_str("\n\n");
            }
            copied = tag_end;
            at = tag_end;
            continue;
        }
        if closing_tag {
            // A stray closing tag of a removed shortcode.
            copied = tag_end;
            at = tag_end;
            continue;
        }
        match kind {
            Shortcode::Gallery => dropped.galleries += 1,
            Shortcode::Video => dropped.videos += 1,
            Shortcode::Audio => dropped.audio += 1,
            Shortcode::Embed | Shortcode::Caption => dropped.embeds += 1,
        }
        let self_closing = bytes[..tag_end].ends_with(b"/]");
        let mut end = tag_end;
        if !self_closing {
            let entry = match closings.iter().position(|(n, _, _)| *n == name) {
                Some(i) => i,
                None => {
                    closings.push((name, None, 0));
                    closings.len() - 1
                }
            };
            let (_, found, searched_from) = closings[entry];
            let next = match found {
                Some(pos) if pos >= tag_end => Some(pos),
                // Searched from an earlier point and found nothing: nothing later.
                None if searched_from > 0 && searched_from <= tag_end => None,
                _ => {
                    let mut needle = Vec::with_capacity(name.len() + 3);
                    needle.extend_from_slice(b"[/");
                    needle.extend_from_slice(name);
                    needle.push(b']');
                    let pos = memmem::find(&bytes[tag_end..], &needle).map(|p| tag_end + p);
                    closings[entry] = (name, pos, tag_end);
                    pos
                }
            };
            if let Some(pos) = next {
                end = pos + name.len() + 3;
            }
        }
        copied = end;
        at = end;
    }
    out.push_str(&html[copied..]);
    Cow::Owned(out)
}

/// `name="value"` (or single quotes) inside a shortcode's opening tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = tag;
    while let Some(i) = rest.find(name) {
        let before_ok = i == 0 || rest.as_bytes()[i - 1].is_ascii_whitespace();
        let after = rest[i + name.len()..].trim_start();
        if before_ok && let Some(value) = after.strip_prefix('=') {
            let value = value.trim_start();
            let quote = value.chars().next()?;
            if quote == '"' || quote == '\'' {
                let inner = &value[1..];
                return inner.find(quote).map(|end| &inner[..end]);
            }
            return None;
        }
        rest = &rest[i + name.len()..];
    }
    None
}

/// How a kept tag affects the text around it.
enum Break {
    /// Ends the paragraph.
    Block,
    /// `br`, table cells: a space between words (two `br` in a row end a paragraph,
    /// as old posts wrote paragraphs).
    Line,
    Cell,
    PreOpen,
    PreClose,
}

fn tag_break(name: &str, closing: bool) -> Break {
    match name {
        "br" => Break::Line,
        "td" | "th" => Break::Cell,
        "pre" if closing => Break::PreClose,
        "pre" => Break::PreOpen,
        _ => Break::Block,
    }
}

/// Walks the sanitiser's output: tags are `<name>`, `</name>` or `<name/>` with no
/// attributes; text has `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&nbsp;` and perhaps
/// numeric references.
fn tokenize(html: &str, out: &mut Paragraphs) {
    let bytes = html.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let Some(rel) = memchr2(b'<', b'&', &bytes[at..]) else {
            out.text(&html[at..]);
            break;
        };
        let mark = at + rel;
        out.text(&html[at..mark]);
        if bytes[mark] == b'<' {
            let Some(close_rel) = memchr(b'>', &bytes[mark..]) else {
                // Cannot happen with the serializer's output; never let a '<' through.
                break;
            };
            let inner = &html[mark + 1..mark + close_rel];
            let closing = inner.starts_with('/');
            let name = inner
                .trim_start_matches('/')
                .trim_end_matches('/')
                .split(|c: char| c.is_ascii_whitespace())
                .next()
                .unwrap_or("");
            match tag_break(name, closing) {
                Break::Block => out.end_paragraph(),
                Break::Line => out.line_break(),
                Break::Cell => out.space(),
                Break::PreOpen => {
                    out.end_paragraph();
                    out.in_pre += 1;
                }
                Break::PreClose => {
                    out.end_paragraph();
                    out.in_pre = out.in_pre.saturating_sub(1);
                }
            }
            at = mark + close_rel + 1;
        } else {
            let (c, len) = entity(&bytes[mark..]);
            out.char(c);
            at = mark + len;
        }
    }
}

/// The character an entity reference at the start of `bytes` stands for, and its
/// length; an `&` that starts no known reference is itself.
fn entity(bytes: &[u8]) -> (char, usize) {
    let Some(semi) = bytes.iter().take(12).position(|&b| b == b';') else {
        return ('&', 1);
    };
    let name = &bytes[1..semi];
    let c = match name {
        b"amp" => Some('&'),
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"quot" => Some('"'),
        b"apos" => Some('\''),
        b"nbsp" => Some('\u{a0}'),
        [b'#', b'x' | b'X', hex @ ..] => std::str::from_utf8(hex)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32),
        [b'#', dec @ ..] => std::str::from_utf8(dec)
            .ok()
            .and_then(|d| d.parse::<u32>().ok())
            .and_then(char::from_u32),
        _ => None,
    };
    match c {
        Some(c) => (c, semi + 1),
        None => ('&', 1),
    }
}

/// Paragraphs being assembled: whitespace runs fold to one space (a lone no-break
/// space stays, as the text reader keeps it), a blank line ends a paragraph,
/// control characters are dropped.
#[derive(Default)]
struct Paragraphs {
    done: Vec<String>,
    current: String,
    /// Characters in the whitespace run being read.
    run: u32,
    /// Newlines and `<br>`s in that run.
    newlines: u32,
    breaks: u32,
    /// The run's only character, when it is one that may stay as it is.
    lone: Option<char>,
    in_pre: u32,
    controls: u32,
}

impl Paragraphs {
    fn text(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            // Most text is runs of printable ASCII: copy those whole.
            let mut end = at;
            while end < bytes.len() && bytes[end] > 0x20 && bytes[end] < 0x7F {
                end += 1;
            }
            if end > at {
                self.flush_space();
                self.current.push_str(&text[at..end]);
                at = end;
                continue;
            }
            if bytes[at] == b' ' {
                // What `char(' ')` does, without decoding.
                self.run += 1;
                self.lone = None;
                at += 1;
                continue;
            }
            let Some(c) = text[at..].chars().next() else {
                break;
            };
            self.char(c);
            at += c.len_utf8();
        }
    }

    fn char(&mut self, c: char) {
        if c.is_whitespace() || c == '\u{feff}' {
            if c == '\n' && self.in_pre > 0 {
                // Preformatted text keeps its lines.
                self.end_paragraph();
                return;
            }
            self.run += 1;
            if c == '\n' {
                self.newlines += 1;
            }
            self.lone = (self.run == 1 && keeps_lone(c)).then_some(c);
            return;
        }
        if c.is_control() {
            self.controls += 1;
            return;
        }
        self.flush_space();
        self.current.push(c);
    }

    fn space(&mut self) {
        self.run += 2;
        self.lone = None;
    }

    fn line_break(&mut self) {
        self.space();
        self.breaks += 1;
    }

    fn flush_space(&mut self) {
        if self.run == 0 {
            return;
        }
        if self.newlines >= 2 || self.breaks >= 2 {
            self.end_paragraph();
        } else if !self.current.is_empty() {
            self.current.push(self.lone.unwrap_or(' '));
        }
        self.reset_space();
    }

    fn reset_space(&mut self) {
        self.run = 0;
        self.newlines = 0;
        self.breaks = 0;
        self.lone = None;
    }

    fn end_paragraph(&mut self) {
        self.reset_space();
        if !self.current.is_empty() {
            self.done.push(std::mem::take(&mut self.current));
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.end_paragraph();
        self.done
    }
}

/// Spaces that mean something when they stand alone between words (no-break,
/// thin, figure spaces); any other whitespace becomes a plain space.
fn keeps_lone(c: char) -> bool {
    matches!(
        c,
        '\u{a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paras(html: &str) -> Vec<String> {
        paragraphs(html).0
    }

    #[test]
    fn blank_lines_and_blocks_end_paragraphs() {
        assert_eq!(paras("one\ntwo\n\nthree"), ["one two", "three"]);
        assert_eq!(
            paras(
                "<!-- wp:paragraph -->\n<p>A <em>b</em></p>\n<!-- /wp:paragraph -->\n\n<h2>C</h2><ul><li>d</li><li>e</li></ul>"
            ),
            ["A b", "C", "d", "e"]
        );
        assert_eq!(paras("a<br>b<br/>\nc<br><br>d"), ["a b c", "d"]);
        assert_eq!(
            paras("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"),
            ["a b", "c"]
        );
        assert_eq!(paras("<pre>x = 1\ny = 2</pre>"), ["x = 1", "y = 2"]);
    }

    #[test]
    fn entities_and_spaces() {
        assert_eq!(
            paras("Tom &amp; Jerry &lt;3 &#8217;&#x2019;"),
            ["Tom & Jerry <3 \u{2019}\u{2019}"]
        );
        assert_eq!(
            paras("<p>10&nbsp;km</p><p>&nbsp;</p><p> a &nbsp; b </p>"),
            ["10\u{a0}km", "a b"]
        );
        assert_eq!(paras("AT&T and &bogus; &"), ["AT&T and &bogus; &"]);
    }

    #[test]
    fn dangerous_content_is_gone() {
        let (p, _) = paragraphs(
            "<p>Hi<script>alert('x')</script></p><style>p{}</style><iframe src=x>fallback</iframe><p onclick=\"x\">there</p>",
        );
        assert_eq!(p, ["Hi", "there"]);
        let (p, _) = paragraphs("<svg><text>drawn</text></svg>ok<img src=x onerror=alert(1)>");
        assert_eq!(p, ["ok"]);
    }

    #[test]
    fn shortcodes() {
        let (p, w) = paragraphs(
            "Before [caption id=\"a\" width=\"3\"]<img src=\"x.jpg\"> Bell on a wharf[/caption] after\n\n[gallery ids=\"1,2\"]\n\n[embed]https://example.com/v[/embed] end [video src=x /] [unknown thing]",
        );
        assert_eq!(
            p,
            ["Before", "Bell on a wharf", "after", "end [unknown thing]"]
        );
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("1 image")
                && w[0].contains("1 gallery")
                && w[0].contains("1 video")
                && w[0].contains("1 embedded item"),
            "{w:?}"
        );
        assert_eq!(
            paras("[caption caption=\"Old style\"]<img>[/caption]"),
            ["Old style"]
        );
        // Many unclosed shortcodes: linear, and nothing lost after them.
        let many = "[video] x ".repeat(10_000);
        assert_eq!(paras(&many).len(), 1);
    }

    #[test]
    fn titles_are_one_line() {
        assert_eq!(
            text("Markup: Title <em>With</em> <b>Mark<sup>up</sup></b>"),
            "Markup: Title With Markup"
        );
        assert_eq!(
            text("~`!@#$%^&*()-_=+{}[]/\\;:'\"?,.>"),
            "~`!@#$%^&*()-_=+{}[]/\\;:'\"?,.>"
        );
        assert_eq!(text("  two\n lines "), "two lines");
        assert_eq!(text("A &amp; B"), "A & B");
    }

    #[test]
    fn control_characters_are_removed_and_counted() {
        let (p, w) = paragraphs("a\u{1}b\u{85}c");
        assert_eq!(p, ["ab c"]);
        assert_eq!(w, ["removed 1 control character from the text"]);
    }
}
