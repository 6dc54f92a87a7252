//! How often each real-world variation appears, per 10,000 (per story unless said
//! otherwise).

/// Dash after the credit: `–Text` (en dash, no space).
pub(super) const R_EN_DASH: u64 = 350;
/// Dash after the credit: `—\u{a0} Text`.
pub(super) const R_NBSP_DASH: u64 = 350;
/// `2021\u{a0} (The Bulletin)` (as in the corpus).
pub(super) const R_NBSP_DATE_SPACE: u64 = 250;
/// `2021\u{a0}(The Bulletin)`.
pub(super) const R_NBSP_DATE: u64 = 60;
/// Per paragraph line: trailing NBSP.
pub(super) const R_TRAIL_NBSP: u64 = 300;
/// Per paragraph line: trailing space.
pub(super) const R_TRAIL_SPACE: u64 = 200;
/// Per sentence break: `.\u{a0} Next` instead of `. Next`.
pub(super) const R_NBSP_SENTENCE: u64 = 50;
/// Dateline without a year.
pub(super) const R_NO_YEAR: u64 = 400;
/// Dateline without a year when a December story sits in a January issue.
pub(super) const R_NO_YEAR_DEC_IN_JAN: u64 = 2500;
/// `— ENDS` instead of `ENDS`.
pub(super) const R_DASH_ENDS: u64 = 400;
/// `first published`.
pub(super) const R_FIRST: u64 = 500;
/// Issue line with no date at all.
pub(super) const R_NO_ISSUE_DATE: u64 = 100;
/// `, published on DATE` instead of `, on DATE`.
pub(super) const R_PUBLISHED_ON: u64 = 300;
/// Trailing full stop after the issue line's date.
pub(super) const R_FULL_STOP: u64 = 300;
/// Headlines with an ending such as `, officials say` or `, Baku says`.
pub(super) const R_HEADLINE_TAIL: u64 = 5000;
/// Stories without a `— Tags:` line.
pub(super) const R_NO_TAGS: u64 = 1000;
/// A dateline place written in an old spelling (`ALMA-ATA`), per place that has one.
pub(super) const R_OLD_SPELLING: u64 = 300;
/// One issue in every `TYPO_BLOCK` issues carries a mistyped number (placed in the
/// first half of each block, so the first one always appears early in a file).
pub(super) const TYPO_BLOCK: u64 = 1000;
