//! Markdown bodies ↔ plain paragraphs.
//!
//! [`escape_paragraph`] writes one paragraph so that a CommonMark reader (ours,
//! pulldown-cmark; Hugo's Goldmark; Zola's pulldown-cmark) gives back exactly its
//! text; [`plain_paragraphs`] reads any Markdown body down to plain paragraphs.
//! The pair is lossless for every single-line string without control characters
//! other than tab (`tests/markdown.rs` proves it with proptest).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// The Markdown source of one paragraph whose text, read back, is `text`.
///
/// - ASCII punctuation with inline meaning (`\` `` ` `` `*` `_` `[` `]` `|` `~`)
///   is backslash-escaped everywhere; `{` too, so no `{{<`, `{{%` (Hugo) or
///   `{{ f(` / `{% f(` (Zola) shortcode can appear in the source.
/// - `<` becomes `&lt;`: no raw HTML, no autolink, and no `<!--more-->` summary
///   divider (Hugo finds that one in the raw source, backslash or not).
/// - `&` becomes `\&` where it could start an entity reference.
/// - Characters that open a block only at the start of a line (`#`, `>`, `+`,
///   `-`, `=`, `:`, and the `.` or `)` after leading digits) are escaped there.
/// - Whitespace Markdown would drop or fold — a tab, a space at either end, a
///   space after another — is written as a character reference (`&#9;`,
///   `&#32;`); the reader keeps what references give and folds only literal
///   whitespace.
pub fn escape_paragraph(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8 + 4);
    let mut chars = text.char_indices().peekable();
    let mut previous: Option<char> = None;
    // Leading digits may make an ordered-list marker with the `.` or `)` after them.
    let mut in_leading_digits = true;
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let at_start = i == 0;
        match c {
            '\t' => out.push_str("&#9;"),
            ' ' if at_start || next.is_none() || matches!(previous, Some(' ' | '\t')) => {
                out.push_str("&#32;")
            }
            '<' => out.push_str("&lt;"),
            '&' if next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '#') => {
                out.push_str("\\&")
            }
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '>' | '+' | '-' | '=' | ':' if at_start => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')' if in_leading_digits && i > 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
        in_leading_digits = in_leading_digits && c.is_ascii_digit();
        previous = Some(c);
    }
    out
}

/// What a Markdown body holds as plain text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlainBody {
    /// Paragraphs, headings, list items, quotes, table rows and code blocks, each
    /// as one line of text with literal whitespace folded.
    pub paragraphs: Vec<String>,
    /// Images dropped (their alt text is not story text).
    pub images: usize,
    /// Raw HTML blocks dropped (comments, such as a summary divider, not counted).
    pub html_blocks: usize,
}

/// The extensions Hugo's Goldmark turns on by default (tables, footnotes,
/// strikethrough, task lists, definition lists, heading ids), so that their
/// syntax is read as syntax, not as text. Smart punctuation stays off: the
/// source's own characters are the story's.
fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_DEFINITION_LIST
}

/// Reads a Markdown body (without front matter) down to plain paragraphs: block
/// elements become paragraphs; emphasis, code and links become their text;
/// images and raw HTML go (tags never pass through); soft and hard line breaks
/// become spaces; Hugo and Zola shortcodes are removed, their inner text kept.
pub fn plain_paragraphs(markdown: &str) -> PlainBody {
    let source = strip_shortcodes(markdown);
    let mut body = PlainBody::default();
    let mut text = Collector::default();
    let mut image_depth = 0usize;
    // Whether the HTML block being read is a comment (so not counted).
    let mut html_block: Option<bool> = None;
    for (event, range) in Parser::new_ext(&source, options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Image { .. }) => {
                image_depth += 1;
                body.images += 1;
            }
            Event::End(TagEnd::Image) => image_depth = image_depth.saturating_sub(1),
            // An image's alt text.
            _ if image_depth > 0 => {}
            Event::Start(Tag::HtmlBlock) => html_block = Some(true),
            Event::End(TagEnd::HtmlBlock) => {
                if html_block == Some(false) {
                    body.html_blocks += 1;
                }
                html_block = None;
                text.flush(&mut body.paragraphs);
            }
            Event::Html(html) => {
                if html_block == Some(true) && !is_comment(&html) {
                    html_block = Some(false);
                }
            }
            Event::InlineHtml(_) => {}
            Event::Start(Tag::TableCell) => text.separator(" | "),
            Event::End(TagEnd::TableCell) => {}
            Event::Start(tag) => {
                if !is_inline(&tag) {
                    text.flush(&mut body.paragraphs);
                }
            }
            Event::End(tag) => {
                if !is_inline_end(tag) {
                    text.flush(&mut body.paragraphs);
                }
            }
            Event::Text(t) => {
                let raw = source.get(range).unwrap_or("");
                // A character reference comes as an event of its own; what it
                // gives is kept as is (the writer encodes whitespace that way).
                if raw.starts_with('&') && raw.ends_with(';') {
                    text.exact(&t);
                } else {
                    text.literal(&t);
                }
            }
            Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => text.literal(&t),
            Event::SoftBreak | Event::HardBreak => text.literal(" "),
            Event::Rule => text.flush(&mut body.paragraphs),
            Event::FootnoteReference(_) | Event::TaskListMarker(_) => {}
        }
    }
    text.flush(&mut body.paragraphs);
    body
}

fn is_comment(html: &str) -> bool {
    let t = html.trim();
    t.is_empty() || (t.starts_with("<!--") && t.ends_with("-->"))
}

fn is_inline(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Link { .. }
            | Tag::Image { .. }
    )
}

fn is_inline_end(tag: TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link
            | TagEnd::Image
    )
}

/// Builds one paragraph: literal whitespace (and stray control characters) folds
/// to one space and is trimmed at both ends; text from character references is
/// kept exactly.
#[derive(Default)]
struct Collector {
    current: String,
    pending_space: bool,
    /// A table cell began after text: the separator goes in before the next
    /// character (so an empty last cell leaves none).
    pending_separator: Option<&'static str>,
}

impl Collector {
    fn literal(&mut self, text: &str) {
        for c in text.chars() {
            if c.is_ascii_whitespace() || c.is_control() {
                if !self.current.is_empty() {
                    self.pending_space = true;
                }
            } else {
                self.push(c);
            }
        }
    }

    fn exact(&mut self, text: &str) {
        for c in text.chars() {
            // A reference to a control character (`&#7;`) gives nothing a story
            // may hold; a tab is fine.
            if c == '\t' || !c.is_control() {
                self.push(c);
            }
        }
    }

    fn separator(&mut self, sep: &'static str) {
        if !self.current.is_empty() {
            self.pending_space = false;
            self.pending_separator = Some(sep);
        }
    }

    fn push(&mut self, c: char) {
        if let Some(sep) = self.pending_separator.take() {
            self.current.push_str(sep);
        } else if self.pending_space {
            self.current.push(' ');
        }
        self.pending_space = false;
        self.current.push(c);
    }

    fn flush(&mut self, into: &mut Vec<String>) {
        self.pending_space = false;
        self.pending_separator = None;
        let text = std::mem::take(&mut self.current);
        if !text.is_empty() {
            into.push(text);
        }
    }
}

/// Removes Hugo shortcodes (`{{< name ... >}}`, `{{% name ... %}}`, their closing
/// forms) and Zola shortcodes (`{{ name(...) }}`, `{% name(...) %}`, `{% end %}`),
/// keeping the text between paired ones. Line ends inside a removed call stay,
/// so line numbers do not move.
pub(crate) fn strip_shortcodes(source: &str) -> std::borrow::Cow<'_, str> {
    if !source.contains("{{") && !source.contains("{%") {
        return std::borrow::Cow::Borrowed(source);
    }
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match shortcode_len(tail) {
            Some(len) => {
                out.extend(tail[..len].chars().filter(|&c| c == '\n'));
                rest = &tail[len..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The length of the shortcode call starting `s`, if one does.
fn shortcode_len(s: &str) -> Option<usize> {
    let close_at = |open: usize, close: &str| s[open..].find(close).map(|i| open + i + close.len());
    if s.starts_with("{{<") {
        return close_at(3, ">}}");
    }
    if s.starts_with("{{%") {
        return close_at(3, "%}}");
    }
    if let Some(inner) = s.strip_prefix("{{") {
        // Zola: `{{ name(args) }}`.
        return starts_call(inner).then(|| close_at(2, "}}")).flatten();
    }
    if let Some(inner) = s.strip_prefix("{%") {
        let word = inner.trim_start();
        if let Some(after) = word.strip_prefix("end")
            && after.trim_start().starts_with("%}")
        {
            return close_at(2, "%}");
        }
        return starts_call(inner).then(|| close_at(2, "%}")).flatten();
    }
    None
}

/// Whether `s` (after optional spaces) is an identifier followed by `(`.
fn starts_call(s: &str) -> bool {
    let s = s.trim_start_matches([' ', '\t']);
    let ident_len = s
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    ident_len > 0 && s[ident_len..].starts_with('(')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(md: &str) -> Vec<String> {
        plain_paragraphs(md).paragraphs
    }

    #[test]
    fn blocks_become_paragraphs() {
        let md = "# Heading {#id}\n\nOne *two* __three__ `four` [five](http://x).\nSix\n\n\
                  - item one\n- item **two**\n\n> quoted\n> text\n\n1. first\n\n---\n\n\
                  | a | b | |\n|---|---|---|\n| c | d | |\n";
        assert_eq!(
            read(md),
            [
                "Heading",
                "One two three four five. Six",
                "item one",
                "item two",
                "quoted text",
                "first",
                "a | b",
                "c | d"
            ]
        );
    }

    #[test]
    fn images_and_html_go() {
        let body = plain_paragraphs(
            "Before ![alt text](x.png) after <b>bold</b>.\n\n<div>\nraw\n</div>\n\n<!--more-->\n\nEnd",
        );
        assert_eq!(body.paragraphs, ["Before after bold.", "End"]);
        assert_eq!(body.images, 1);
        assert_eq!(body.html_blocks, 1);
    }

    #[test]
    fn shortcodes_go_and_keep_inner_text() {
        assert_eq!(
            read(
                "A {{< figure src=\"x\" >}} b\n\n{{% note %}}\nInside\n{{% /note %}}\n\n{{ youtube(id=\"x\") }}\n\n{% quote(a=1) %}Q{% end %}"
            ),
            ["A b", "Inside", "Q"]
        );
        assert_eq!(read("a {b} {{ c }} {%x"), ["a {b} {{ c }} {%x"]);
    }

    #[test]
    fn escaping_round_trips() {
        for p in [
            "1. Not a list",
            "2021) either",
            "# not a heading",
            "- nor an item",
            "+ nor this",
            "> nor a quote",
            ": nor a definition",
            "=== plain",
            "*stars* and _underscores_ and `ticks` and \\ backslash",
            "[link](x) and ![image](y) and [^1] footnote",
            "a | table | row",
            "~~strike~~ and ~~~",
            "<b>tag</b> <!--more--> <http://x>",
            "&amp; &#32; & AT&T",
            "{{< shortcode >}} {{% x %}} {{ f(a=1) }} {% f() %} {% end %}",
            " leading, trailing ",
            "two  spaces\tand a tab",
            "    indented code?",
            "\u{a0}nbsp\u{a0}",
            "ends with backslash \\",
            "ends with two spaces  ",
        ] {
            let md = escape_paragraph(p);
            assert_eq!(read(&md), [p], "{md}");
        }
    }
}
