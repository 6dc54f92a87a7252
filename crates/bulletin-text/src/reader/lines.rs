//! How the reader tells a story's lines apart: spaces (NBSP and BOM included),
//! the end mark, the issue, copyright and tags footers, and paragraph cleaning.
//! The public ones are `bulletin_text::lines`, for readers of bulletin text held
//! in other formats.

pub fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}' || c == '\u{feff}'
}

pub fn trim(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Trims and folds every run of two or more spaces (NBSP included) into one
/// space; a lone NBSP inside a paragraph is kept, it may be deliberate.
pub(super) fn clean_paragraph(text: &str) -> String {
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
pub(super) fn needs_folding(text: &str) -> bool {
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

pub(super) fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
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
pub(super) fn starts_issue_line(text: &str) -> bool {
    strip_prefix_ci(strip_dash(text), "This story was ").is_some()
}

pub(super) fn starts_copyright(text: &str) -> bool {
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

pub(super) fn tags_line(text: &str) -> Option<&str> {
    strip_prefix_ci(strip_dash(text), "Tags:")
}

/// Byte offset of `part` (a subslice of `whole`) within `whole`.
pub(super) fn offset(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
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
}
