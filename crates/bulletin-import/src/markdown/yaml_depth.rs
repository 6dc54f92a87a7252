//! How deep YAML nests, found by one linear scan before the YAML parser sees it
//! (see [`MAX_NESTING`]).
//!
//! The scan over-counts rather than under-counts: a line's block depth is the
//! number of less-indented lines still open above it, plus one for each compact
//! `- ` or `? ` that starts a nested entry on the line itself; flow depth is the
//! `[` and `{` open outside quoted scalars and comments. Block scalars (`|`, `>`)
//! are skipped.

use super::limits::MAX_NESTING;

/// The byte offset in `text` where YAML first nests deeper than [`MAX_NESTING`].
pub(crate) fn too_deep(text: &str) -> Option<usize> {
    scan(text, MAX_NESTING).err()
}

/// The deepest nesting of `text`, or the offset where it passes `limit`.
fn scan(text: &str, limit: usize) -> Result<usize, usize> {
    let mut s = Scan::default();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        s.line(line, offset, limit)?;
        offset += line.len();
    }
    Ok(s.deepest)
}

#[derive(Default)]
struct Scan {
    /// Indents of the block nodes open above the current line.
    indents: Vec<usize>,
    flow: usize,
    /// Inside a quoted scalar that goes on to the next line: its quote.
    quote: Option<u8>,
    /// Inside a block scalar: the indent of the line that opened it.
    block_scalar: Option<usize>,
    deepest: usize,
}

impl Scan {
    fn line(&mut self, line: &str, offset: usize, limit: usize) -> Result<(), usize> {
        let bytes = line.trim_end_matches(['\n', '\r']).as_bytes();
        let indent = bytes.iter().take_while(|&&b| b == b' ').count();
        let blank = bytes[indent..].iter().all(|b| b.is_ascii_whitespace());
        if let Some(parent) = self.block_scalar {
            if blank || indent > parent {
                return Ok(());
            }
            self.block_scalar = None;
        }
        let mut at = 0;
        if self.quote.is_none() && self.flow == 0 {
            if blank || bytes[indent] == b'#' {
                return Ok(());
            }
            while self.indents.last().is_some_and(|&i| i >= indent) {
                self.indents.pop();
            }
            self.indents.push(indent);
            at = indent;
            // Compact nested entries: `- - - x`, `? - x`.
            while at < bytes.len()
                && matches!(bytes[at], b'-' | b'?')
                && bytes.get(at + 1).is_none_or(|b| *b == b' ' || *b == b'\t')
            {
                at += 1;
                while at < bytes.len() && matches!(bytes[at], b' ' | b'\t') {
                    at += 1;
                }
                self.indents.push(at);
                self.check(offset + at, limit)?;
            }
            self.check(offset + at, limit)?;
        }
        self.rest(bytes, at, indent, offset, limit)
    }

    fn check(&mut self, at: usize, limit: usize) -> Result<(), usize> {
        let depth = self.indents.len() + self.flow;
        self.deepest = self.deepest.max(depth);
        if depth > limit { Err(at) } else { Ok(()) }
    }

    /// Scans a line from `at` for quotes, flow brackets, comments and block
    /// scalar indicators.
    fn rest(
        &mut self,
        bytes: &[u8],
        mut at: usize,
        indent: usize,
        offset: usize,
        limit: usize,
    ) -> Result<(), usize> {
        // Whether a value may start here (a bracket or quote opens one only
        // there when outside flow collections).
        let mut value_start = true;
        while at < bytes.len() {
            if let Some(quote) = self.quote {
                match close_quote(bytes, at, quote) {
                    Some(end) => {
                        self.quote = None;
                        at = end;
                        value_start = false;
                        continue;
                    }
                    None => return Ok(()),
                }
            }
            let b = bytes[at];
            let after_space = at == 0 || matches!(bytes[at - 1], b' ' | b'\t');
            match b {
                b'#' if after_space => return Ok(()),
                b'"' | b'\'' if value_start || (self.flow > 0 && token_start(bytes, at)) => {
                    self.quote = Some(b);
                    at += 1;
                    continue;
                }
                b'[' | b'{' if value_start || self.flow > 0 => {
                    self.flow += 1;
                    self.check(offset + at, limit)?;
                    value_start = true;
                }
                b']' | b'}' if self.flow > 0 => {
                    self.flow -= 1;
                    value_start = false;
                }
                b',' if self.flow > 0 => value_start = true,
                b'|' | b'>' if value_start && self.flow == 0 => {
                    self.block_scalar = Some(indent);
                    return Ok(());
                }
                b':' if bytes.get(at + 1).is_none_or(|n| {
                    matches!(n, b' ' | b'\t' | b',' | b'[' | b']' | b'{' | b'}')
                }) =>
                {
                    value_start = true;
                }
                b' ' | b'\t' => {}
                // Anchors and tags come before a value: it may still start.
                b'&' | b'!' if value_start => {
                    while at < bytes.len() && !matches!(bytes[at], b' ' | b'\t') {
                        at += 1;
                    }
                    continue;
                }
                _ => value_start = false,
            }
            at += 1;
        }
        Ok(())
    }
}

/// Whether a quote at `at` starts a token inside a flow collection.
fn token_start(bytes: &[u8], at: usize) -> bool {
    at == 0 || matches!(bytes[at - 1], b' ' | b'\t' | b'[' | b'{' | b',' | b':')
}

/// Where a quoted scalar that is open at `from` closes on this line (just past
/// its quote), if it does.
fn close_quote(bytes: &[u8], from: usize, quote: u8) -> Option<usize> {
    let mut at = from;
    while at < bytes.len() {
        let b = bytes[at];
        if quote == b'"' && b == b'\\' {
            at += 2;
            continue;
        }
        if b == quote {
            if quote == b'\'' && bytes.get(at + 1) == Some(&b'\'') {
                at += 2;
                continue;
            }
            return Some(at + 1);
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(text: &str) -> usize {
        scan(text, usize::MAX).unwrap_or(usize::MAX)
    }

    #[test]
    fn front_matter_as_written_is_shallow() {
        let text = "title: \"A [bracket\" in a title\ntags: [a, \"b]\", c]\ndate: 2021-07-18\n\
                    extra:\n  bulletin:\n    places: [Baku, 'Alma''s {x']\n    note: a [plain {scalar\n\
                    summary: |\n  text [ with { brackets\n    and - - - dashes\n# [comment\nlist:\n  - a\n  - b\n";
        // `places` is a list in a mapping in a mapping in the top mapping.
        assert_eq!(depth(text), 4, "{text}");
        let many = "tags:\n  - [a, b]\n".repeat(1000);
        assert!(depth(&many) <= 4);
    }

    #[test]
    fn deep_yaml_is_found() {
        let flow = format!("a: {}{}", "[".repeat(100), "]".repeat(100));
        assert_eq!(too_deep(&flow), Some(3 + MAX_NESTING - 1));
        let compact = format!("a:\n{}x\n", "- ".repeat(100));
        assert!(too_deep(&compact).is_some());
        let mut block = String::new();
        for level in 0..100 {
            block.push_str(&" ".repeat(level));
            block.push_str("k:\n");
        }
        assert!(too_deep(&block).is_some());
        let mapping = format!("a: {}1{}", "{b: ".repeat(100), "}".repeat(100));
        assert!(too_deep(&mapping).is_some());
    }
}
