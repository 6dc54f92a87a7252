//! Parser errors in words: what `quick-xml` reports, said as a person fixing the
//! file needs it (a cut-off file, a mismatched tag, a bare ampersand), with the
//! offset it belongs at.

use std::io::BufRead;

use super::limits::{MAX_EVENT, MAX_PROLOG_EVENT};
use super::tracker::Tracker;

/// The offset and message for a `quick-xml` error raised at `at`, in an event that
/// starts at `event_start`; `in_prolog` while no root element has been seen.
pub(super) fn xml_error_message<R: BufRead>(
    e: &quick_xml::Error,
    at: u64,
    tracker: &Tracker<R>,
    event_start: u64,
    in_prolog: bool,
) -> (u64, String) {
    use quick_xml::Error as E;
    use quick_xml::errors::{IllFormedError as I, SyntaxError as S};
    let last_line = tracker.last_line();
    let early = |what: &str| {
        format!(
            "the file ends early, at line {last_line}, inside {what} that starts here: was the export cut off?"
        )
    };
    match e {
        E::Io(_) if tracker.over_limit => (
            event_start,
            format!(
                "this element or text is larger than {} MiB; a WordPress export holds nothing that large",
                if in_prolog {
                    MAX_PROLOG_EVENT >> 20
                } else {
                    MAX_EVENT >> 20
                }
            ),
        ),
        E::Io(io) => (tracker.pos, format!("cannot read the file: {io}")),
        E::Syntax(S::UnclosedCData) => (at, early("a CDATA section")),
        E::Syntax(S::UnclosedComment) => (at, early("a comment")),
        E::Syntax(S::UnclosedDoctype) => (at, early("a document type declaration")),
        E::Syntax(S::UnclosedTag)
        | E::Syntax(S::UnclosedDoubleQuotedAttributeValue)
        | E::Syntax(S::UnclosedSingleQuotedAttributeValue) => (at, early("a tag")),
        E::Syntax(S::UnclosedPI) | E::Syntax(S::UnclosedXmlDecl) => {
            (at, early("a processing instruction"))
        }
        E::Syntax(s) => (at, format!("malformed XML: {s}")),
        E::IllFormed(I::MismatchedEndTag { expected, found }) => (
            at,
            format!("malformed XML: </{found}> here closes <{expected}>"),
        ),
        E::IllFormed(I::UnmatchedEndTag(name)) => {
            (at, format!("malformed XML: </{name}> closes no open element"))
        }
        E::IllFormed(I::UnclosedReference) => (
            at,
            "malformed XML: an “&” that starts no entity reference (a literal ampersand is written &amp;)".to_owned(),
        ),
        E::IllFormed(other) => (at, format!("malformed XML: {other}")),
        other => (at, format!("malformed XML: {other}")),
    }
}
