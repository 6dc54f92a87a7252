//! Every cap the text reader puts on a file, in one place. Within them the reader
//! does work in proportion to the input; beyond them it refuses the story with an
//! error at `line:column`, as it does for any other problem.

/// Longest line read, in bytes (without its line end). A paragraph may hold
/// [`bulletin_core::MAX_PARAGRAPH`] characters, four bytes at most each; a line
/// longer than that can only be refused, so the rest of it is skipped unread
/// rather than kept in memory.
pub const MAX_LINE: usize = 4 * bulletin_core::MAX_PARAGRAPH + 1024;

/// Most text one story may hold, in bytes: its headline and paragraphs. Far beyond
/// any real story (a long one is some 50 KB); it keeps a file with no story breaks
/// from growing one story without bound.
pub const MAX_STORY: usize = 16 << 20;

/// Most tags one story may carry, counting the `Tag Archives:` header's. Real
/// stories carry a handful.
pub const MAX_TAGS: usize = 1000;

/// Most characters of a line a message quotes, around the column it points at.
pub const MAX_QUOTE: usize = 200;
