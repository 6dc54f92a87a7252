//! A deterministic generator of realistic WordPress exports, for tests and the
//! import benchmark: a channel, authors, categories (some nested), tags, and
//! posts with ~2 KB multi-paragraph bodies in the shapes WordPress stores them
//! (classic-editor text, block-editor markup, bulletin text with dateline and
//! footers), some drafts, scheduled and private posts, pages, attachments,
//! menu items and comments. All text is invented from word lists.
//!
//! [`Synth`] is a [`Read`] that makes the file as it is read (nothing is held
//! but the current item); [`generate`] writes it.
//!
//! The parts: `words` (the word lists and the random numbers that pick from them),
//! `items` (the channel header and each kind of item), `prose` (post bodies).

mod items;
mod prose;
mod words;

use std::io::{self, Read, Write};

use words::Rng;

/// Where the generator stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    Items,
    Footer,
    Done,
}

/// Counts of what a generated export holds, for tests to compare with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub posts: u64,
    pub published: u64,
    pub drafts: u64,
    pub scheduled: u64,
    pub private: u64,
    pub pages: u64,
    pub attachments: u64,
    pub menu_items: u64,
    pub comments: u64,
    pub bulletin_bodies: u64,
    pub bytes: u64,
}

/// A generated export, made as it is read.
pub struct Synth {
    rng: Rng,
    posts: u64,
    post: u64,
    next_id: u64,
    stage: Stage,
    chunk: Vec<u8>,
    at: usize,
    counts: Counts,
}

impl Synth {
    /// An export with `posts` posts (and pages, attachments, comments in
    /// proportion), the same bytes for the same `seed`.
    pub fn new(posts: u64, seed: u64) -> Synth {
        Synth {
            rng: Rng(seed ^ 0x5EED_B011_E714_0F0F),
            posts,
            post: 0,
            next_id: 100,
            stage: Stage::Header,
            chunk: Vec::with_capacity(8192),
            at: 0,
            counts: Counts::default(),
        }
    }

    /// What has been generated so far (all of it once read to the end).
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Makes the next piece of the file into `chunk`.
    fn refill(&mut self) {
        self.chunk.clear();
        self.at = 0;
        match self.stage {
            Stage::Header => {
                self.header();
                self.stage = Stage::Items;
            }
            Stage::Items if self.post < self.posts => {
                self.item();
            }
            Stage::Items => {
                self.chunk.extend_from_slice(b"</channel>\n</rss>\n");
                self.stage = Stage::Footer;
            }
            Stage::Footer | Stage::Done => self.stage = Stage::Done,
        }
        self.counts.bytes += self.chunk.len() as u64;
    }
}

impl Read for Synth {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.chunk.len() {
            if self.stage == Stage::Done {
                return Ok(0);
            }
            self.refill();
        }
        let n = (self.chunk.len() - self.at).min(out.len());
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Writes an export with `posts` posts; the same `seed` gives the same bytes.
pub fn generate(posts: u64, seed: u64, out: &mut impl Write) -> io::Result<Counts> {
    let mut synth = Synth::new(posts, seed);
    io::copy(&mut synth, out)?;
    Ok(synth.counts())
}
