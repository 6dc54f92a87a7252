//! The bulletin text format: a streaming reader, the canonical writer, and the
//! linter behind `bulletin check`.
//!
//! The format is the plain text of the Central Asia & South Caucasus Bulletin's
//! archive pages (DESIGN.md): headline, dateline with credit and dash, paragraphs,
//! `ENDS`, the issue footer and the copyright footer, with an optional
//! `Tag Archives: TAG` header. bulletin adds one optional footer, `— Tags: a, b`,
//! so that a story's own tags survive a round trip through text.
//!
//! ```
//! let text = "Police detain protesters\n\n\
//!     ALMATY/FEB. 28 2021 (The Bulletin) — Police detained dozens.\n\nENDS\n\n\
//!     — This story was published in issue 474 of the Example Bulletin, on March 5 2021\n\n\
//!     — Copyright the Example Bulletin 2021\n";
//! let doc = bulletin_text::read_str(text).unwrap();
//! let story = &doc.stories[0];
//! assert_eq!(story.dateline.places, ["Almaty"]);
//! assert_eq!(story.issue.map(|i| i.number), Some(474));
//! // The writer's canonical form reads back to the same stories.
//! let again = bulletin_text::read_str(&bulletin_text::write_to_string(&doc)).unwrap();
//! assert_eq!(again, doc);
//! ```

mod decode;
mod diagnostic;
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
mod lint;
mod reader;
pub mod synth;
mod writer;

pub use decode::utf8_input;

/// How the reader tells a story's lines apart, for readers of bulletin text held
/// in other formats (a WordPress post's paragraphs): one definition of `ENDS`, the
/// issue line and the copyright line.
pub mod lines {
    pub use crate::reader::{
        is_copyright_line, is_end_mark, is_issue_line, is_space, strip_dash, trim,
    };
}
pub use diagnostic::{Diagnostic, Quote, Severity};
pub use lint::IssueSequence;
pub use reader::{Document, ParsedStory, Reader, StoryLines, read_str};
pub use writer::{write_document, write_header, write_story, write_to_string};
