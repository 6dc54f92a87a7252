//! A deterministic generator of realistic bulletin text, for demos, tests and
//! benchmarks (`bulletin gen --stories N [--seed S]`).
//!
//! The output follows the bulletin text format of DESIGN.md, oldest issue first so
//! that issue numbers increase through the file:
//!
//! ```text
//! HEADLINE
//!
//! PLACE/MONTH DAY YEAR (The Bulletin) — FIRST PARAGRAPH
//!
//! PARAGRAPH
//!
//! ENDS
//!
//! — This story was published in issue N of the Central Asia & South Caucasus Bulletin, on July 22 2021
//!
//! — Copyright the Central Asia & South Caucasus Bulletin 2021
//!
//! — Tags: political rights, elections
//! ```
//!
//! and sprinkles in, at low rates, every real-world variation the reader has to
//! accept: en dashes without a following space, non-breaking spaces after the date
//! and after the dash, trailing spaces and NBSPs, datelines without a year (including
//! December stories in January issues), `— ENDS`, `first published`, issue lines
//! without a date, `, published on DATE`, a trailing full stop, and (one issue in a
//! thousand) an issue number with a dropped digit that a linter should flag.
//!
//! The text is invented from templates; the same options and seed always give the same
//! bytes. Only `std` is used (a splitmix64 PRNG, proleptic Gregorian day arithmetic).
//!
//! The parts: `story` (issues, people, and each story's lines), `template` (the
//! `{slot}`s of sentences), `vocabulary` (the word lists of `data/`, parsed once),
//! `rates` (how often each variation appears), `text` (numbers and names), `rng`
//! and `calendar`.

mod calendar;
mod rates;
mod rng;
mod story;
mod template;
#[cfg(test)]
mod tests;
mod text;
mod vocabulary;

use std::io::{self, Write};

use story::Generator;

/// Options for [`generate`].
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub stories: u64,
    pub seed: u64,
    /// Write CRLF line ends (as files from Windows editors have).
    pub crlf: bool,
    /// Start with a UTF-8 BOM.
    pub bom: bool,
    /// Write a `Tag Archives: TAG` header line first.
    pub header_tag: Option<String>,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            stories: 100,
            seed: 0,
            crlf: false,
            bom: false,
            header_tag: None,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenStats {
    pub stories: u64,
    pub issues: u64,
    pub bytes: u64,
}

/// Write `options.stories` synthetic stories to `out`.
///
/// Output is buffered internally (in chunks of about 64 KiB), so `out` need not be a
/// `BufWriter`. Same options ⇒ byte-identical output.
pub fn generate<W: Write>(options: &GenOptions, mut out: W) -> io::Result<GenStats> {
    let mut g = Generator::new(options);
    let mut stats = GenStats::default();
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 16 * 1024);
    let eol: &[u8] = if options.crlf { b"\r\n" } else { b"\n" };

    if options.bom {
        buf.extend_from_slice("\u{feff}".as_bytes());
    }
    if let Some(tag) = &options.header_tag {
        buf.extend_from_slice(b"Tag Archives: ");
        buf.extend_from_slice(tag.as_bytes());
        buf.extend_from_slice(eol);
        buf.extend_from_slice(eol);
    }

    let mut offsets: Vec<u32> = Vec::new();
    while stats.stories < options.stories {
        let issue = g.next_issue();
        let remaining = options.stories - stats.stories;
        let n = g.stories_in_issue().min(remaining) as usize;
        stats.issues += 1;
        // Story dates: on or up to 14 days before the issue date, oldest first.
        offsets.clear();
        for _ in 0..n {
            offsets.push(g.rng.below(MAX_STORY_AGE_DAYS + 1) as u32);
        }
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        for &off in &offsets {
            if stats.stories > 0 {
                buf.extend_from_slice(eol);
            }
            g.story(&mut buf, eol, &issue, issue.date - i64::from(off));
            stats.stories += 1;
            if buf.len() >= CHUNK {
                out.write_all(&buf)?;
                stats.bytes += buf.len() as u64;
                buf.clear();
            }
        }
    }
    out.write_all(&buf)?;
    stats.bytes += buf.len() as u64;
    out.flush()?;
    Ok(stats)
}

/// Bytes gathered before a write to `out`.
const CHUNK: usize = 64 * 1024;
/// Stories are dated on or up to this many days before their issue.
const MAX_STORY_AGE_DAYS: u64 = 14;
