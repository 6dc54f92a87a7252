//! Every cap the reader puts on a file, in one place: together they bound its
//! memory whatever the input (see `endless_inputs_stop_in_bounded_memory` and
//! `memory_stays_flat_as_the_export_grows`).

/// Largest single XML event (a tag, a text run, a CDATA section) accepted: far
/// beyond any real post (a few hundred kilobytes at most), small enough that
/// memory stays bounded even for a hostile file: sanitising HTML takes about
/// twelve times its size at its peak, so the worst body costs some 200 MB.
pub(super) const MAX_EVENT: u64 = 16 << 20;
/// Before the root element only the XML declaration, comments and perhaps a
/// document type can stand; none needs more than this (WordPress writes ~1 KB).
pub(super) const MAX_PROLOG_EVENT: u64 = 1 << 20;
/// Largest text kept for one field, and for one `<item>` in all.
pub(super) const MAX_FIELD: usize = 16 << 20;
/// Most `<category>` elements (tags and categories) one `<item>` may hold; a
/// post carries a handful. Within it, tags are de-duplicated in linear time.
pub(super) const MAX_ITEM_CATEGORIES: usize = 1000;
/// Deepest nesting of XML elements accepted (WordPress exports go five deep).
/// The HTML inside a field has its own limit, `html::MAX_NESTING`.
pub(super) const MAX_DEPTH: usize = 256;
/// Bytes of the file kept behind the read position, to quote lines in messages.
pub(super) const WINDOW: usize = 1 << 20;
/// Read buffer.
pub(super) const CHUNK: usize = 64 << 10;
