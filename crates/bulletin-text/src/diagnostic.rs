//! Messages about a file: position, severity, plain words, the line quoted.

use std::fmt;

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
    /// UTF-8), without its line end.
    pub source_line: String,
}

impl Diagnostic {
    pub fn new(
        severity: Severity,
        line: u64,
        column: u64,
        message: impl Into<String>,
        source_line: &str,
    ) -> Diagnostic {
        Diagnostic {
            line,
            column,
            severity,
            message: message.into(),
            source_line: source_line.to_owned(),
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
        let pad = " ".repeat(d.column.saturating_sub(1).min(10_000) as usize);
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
