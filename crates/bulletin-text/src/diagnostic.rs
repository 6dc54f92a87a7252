//! Messages about a file: position, severity, plain words, the line quoted.
//!
//! A quote is at most [`MAX_QUOTE`] characters of the line, around the column the
//! message points at: a 20 MB line is quoted as a short excerpt with ellipses,
//! never whole. [`Quote`] is the one place that cuts lines, for every reader.

use std::fmt;

use crate::limits::MAX_QUOTE;

/// How bad a finding is: errors stop an import, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding at `line:column` (both 1-based; columns count characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: u64,
    pub column: u64,
    pub severity: Severity,
    pub message: String,
    /// The offending line as it stands in the file (lossily decoded if it was not
    /// UTF-8), without its line end; a long line only around `column`, cut with
    /// `…` (see [`Quote`]).
    pub source_line: String,
    /// Where `column` falls in `source_line` (1-based, in characters).
    caret: u64,
}

/// At most [`MAX_QUOTE`] characters of a line around a column, on character
/// boundaries, with `…` where the line was cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub text: String,
    /// The column within `text` (1-based, in characters).
    pub caret: u64,
}

impl Quote {
    /// The excerpt of a whole `line` around `column` (1-based, in characters).
    pub fn of(line: &str, column: u64) -> Quote {
        Quote::part(line, column, false, false)
    }

    /// The excerpt of `part`, a piece of a longer line that a reader kept (it
    /// could not keep the whole): `column` counts within `part`, and
    /// `cut_before`/`cut_after` say whether the line goes on beyond it.
    pub fn part(part: &str, column: u64, cut_before: bool, cut_after: bool) -> Quote {
        // Characters never outnumber bytes: most lines need no counting.
        let total = if part.len() <= MAX_QUOTE {
            None
        } else {
            Some(part.chars().count()).filter(|&n| n > MAX_QUOTE)
        };
        let Some(total) = total else {
            let mut text = String::with_capacity(part.len() + 6);
            if cut_before {
                text.push('\u{2026}');
            }
            text.push_str(part);
            if cut_after {
                text.push('\u{2026}');
            }
            return Quote {
                text,
                caret: column.saturating_add(u64::from(cut_before)),
            };
        };
        let caret = usize::try_from(column.saturating_sub(1))
            .unwrap_or(usize::MAX)
            .min(total);
        // The caret stands in the middle of the excerpt where the line allows.
        let start = caret.saturating_sub(MAX_QUOTE / 2).min(total - MAX_QUOTE);
        let from = part
            .char_indices()
            .nth(start)
            .map_or(part.len(), |(i, _)| i);
        let to = part[from..]
            .char_indices()
            .nth(MAX_QUOTE)
            .map_or(part.len(), |(i, _)| from + i);
        let before = cut_before || start > 0;
        let after = cut_after || to < part.len();
        let mut text = String::with_capacity(to - from + 6);
        if before {
            text.push('\u{2026}');
        }
        text.push_str(&part[from..to]);
        if after {
            text.push('\u{2026}');
        }
        Quote {
            text,
            caret: (caret - start) as u64 + 1 + u64::from(before),
        }
    }
}

impl Diagnostic {
    pub fn new(
        severity: Severity,
        line: u64,
        column: u64,
        message: impl Into<String>,
        source_line: &str,
    ) -> Diagnostic {
        Diagnostic::quoted(
            severity,
            line,
            column,
            message,
            Quote::of(source_line, column),
        )
    }

    /// As [`Diagnostic::new`], with the line already cut by the reader.
    pub fn quoted(
        severity: Severity,
        line: u64,
        column: u64,
        message: impl Into<String>,
        quote: Quote,
    ) -> Diagnostic {
        Diagnostic {
            line,
            column,
            severity,
            message: message.into(),
            source_line: quote.text,
            caret: quote.caret,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `FILE:LINE:COLUMN: SEVERITY: MESSAGE` and the quoted line under it.
    pub fn display<'a>(&'a self, file: &'a str) -> impl fmt::Display + 'a {
        DisplayIn { d: self, file }
    }
}

struct DisplayIn<'a> {
    d: &'a Diagnostic,
    file: &'a str,
}

impl fmt::Display for DisplayIn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.d;
        writeln!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, d.line, d.column, d.severity, d.message
        )?;
        // Control characters would garble a terminal; show them escaped.
        let quoted: String = d
            .source_line
            .chars()
            .flat_map(|c| {
                if c.is_control() && c != '\t' {
                    c.escape_default().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect();
        writeln!(f, "{:>6} | {}", d.line, quoted)?;
        let pad = " ".repeat(d.caret.saturating_sub(1).min(MAX_QUOTE as u64 + 2) as usize);
        write!(f, "{:>6} | {pad}^", "")
    }
}

/// Column (1-based, in characters) of byte offset `at` within `line`.
pub(crate) fn column_of(line: &str, at: usize) -> u64 {
    let at = at.min(line.len());
    // `at` may fall inside a character when the caller found it in a trimmed copy;
    // step back to a boundary.
    let mut at = at;
    while !line.is_char_boundary(at) {
        at -= 1;
    }
    line[..at].chars().count() as u64 + 1
}
