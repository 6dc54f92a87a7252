//! `bulletin-import`: archives from other systems into bulletin stories, and back out.
//!
//! - [`wxr`]: WordPress eXtended RSS exports, streamed with `quick-xml` (no DTD is
//!   processed, no entity expanded), bodies sanitised with `ammonia`.
//! - [`markdown`]: Hugo and Zola content folders (TOML `+++` or YAML `---` front
//!   matter), read and written.
//! - [`backup`]: bulletin's own complete JSON backup.
//!
//! Readers yield [`Item`]s in file order; the caller (the `bulletin` binary) writes
//! them to the store in one transaction and keeps a [`Report`]. Nothing here does
//! I/O beyond the input it is given and the folder it is told to write.
//!
//! ```no_run
//! use bulletin_import::{wxr, Item, Report, Settings};
//! let file = std::io::BufReader::new(std::fs::File::open("export.xml").unwrap());
//! let mut report = Report::default();
//! for item in wxr::read("export.xml", file, &Settings::default()) {
//!     match item {
//!         Ok(item) => report.record(&item),
//!         Err(e) => { eprintln!("{}", e.display("export.xml")); break }
//!     }
//! }
//! print!("{report}");
//! ```

use std::collections::BTreeMap;
use std::fmt;

use bulletin_core::{Story, Tag};
pub use bulletin_text::{Diagnostic, Severity};

pub mod backup;
pub mod body;
#[doc(hidden)]
pub mod fuzzing;
pub mod html;
mod html_depth;
pub mod left_out;
pub mod markdown;
pub mod wxr;

/// What the importing publication contributes to stories that do not say it
/// themselves (a WordPress post has no dateline credit or copyright line).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Dateline credit: "The Bulletin".
    pub credit: String,
    /// Copyright holder: the publication's name.
    pub holder: String,
    /// The time zone the source's local times are in, when it does not give UTC.
    pub time_zone: jiff::tz::TimeZone,
}

impl Default for Settings {
    fn default() -> Self {
        let publication = bulletin_core::Publication::default();
        Settings {
            holder: publication.holder().to_owned(),
            credit: publication.credit,
            time_zone: jiff::tz::TimeZone::UTC,
        }
    }
}

/// How the source system left a post. Only [`PostStatus::Published`] stories become
/// public; the others go to the newsroom as drafts, keeping what they were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostStatus {
    Published,
    Draft,
    /// Waiting for review (WordPress "pending").
    Pending,
    /// Readable by staff only (WordPress "private", or password-protected).
    Private,
    /// To be published at this time (WordPress "future").
    Scheduled(jiff::Timestamp),
}

impl PostStatus {
    /// "publish", "draft", "pending", "private", "future": WordPress's words.
    pub fn as_str(self) -> &'static str {
        match self {
            PostStatus::Published => "publish",
            PostStatus::Draft => "draft",
            PostStatus::Pending => "pending",
            PostStatus::Private => "private",
            PostStatus::Scheduled(_) => "future",
        }
    }
}

/// One story read from a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedStory {
    pub story: Story,
    pub status: PostStatus,
    /// Addresses the story had in the old system, which should answer with a 301 to
    /// its new URL: percent-decoded paths starting with `/`, ending with `/` unless
    /// they name a file, possibly with a query (`/?p=123`). Never the new URL.
    pub old_paths: Vec<String>,
    /// Where the story starts in the source (1-based line; 0 when unknown).
    pub line: u64,
    /// The source's own title for messages (the headline may have been cleaned).
    pub title: String,
    /// What identifies the item in its source, so that importing it again
    /// updates this story and no other: `wordpress <site URL> <post ID>`, or
    /// `markdown <path in the content folder>`. `None` when the source gives
    /// nothing that identifies it (a post without an ID).
    pub source: Option<String>,
}

/// One thing a reader found, in source order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// The source site's name and address (the WXR channel, a Hugo config).
    Site {
        title: String,
        url: String,
    },
    Story(Box<ImportedStory>),
    /// A tag (or a WordPress category, which becomes a tag) with its description,
    /// whether or not a story carries it.
    Tag(Tag),
    /// An old address that is not a story's: a category or tag archive moved.
    /// `from` as in [`ImportedStory::old_paths`]; `to` a path on this site. The web
    /// site also answers `from` + `page/N/` and `from` + `feed/` with `to` + the same.
    Redirect {
        from: String,
        to: String,
    },
    /// Something counted and reported but not imported: `kind` is "page",
    /// "attachment", "nav_menu_item", "comment", "trash", ... as the source names it.
    Skipped {
        kind: String,
        title: String,
        line: u64,
        reason: String,
        /// Whether it is one of the source's items (a WordPress `<item>`, a
        /// Markdown file), which the report's count of items includes; not a
        /// part of one or of the site (a comment, an author, a menu's term).
        item: bool,
    },
    /// A problem that does not stop the import (line, column and quoted line as in
    /// bulletin text diagnostics; the message names the item's title).
    Warning(Diagnostic),
}

/// Reasons shown per kind of thing not imported; the rest are counted.
const SHOWN_REASONS: usize = 5;

/// What an import found, for the summary printed at its end.
///
/// Every item of the source is accounted for: [`Report::items`] (each story,
/// whatever its status, and each item not imported) is the number of items the
/// source holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Stories by [`PostStatus::as_str`].
    pub stories: BTreeMap<&'static str, u64>,
    /// Skipped things by kind, and one reason per kind (the first seen).
    pub skipped: BTreeMap<String, (u64, String)>,
    /// Skipped things by kind, then by reason.
    pub reasons: BTreeMap<String, BTreeMap<String, u64>>,
    /// Items of the source read: stories and items not imported.
    pub items: u64,
    /// Items of the source not imported (among `skipped`, those that are items).
    pub items_not_imported: u64,
    pub tags: u64,
    /// Old addresses to keep: archive redirects and public stories' old paths.
    pub redirects: u64,
    pub warnings: u64,
    pub site: Option<(String, String)>,
}

impl Report {
    pub fn record(&mut self, item: &Item) {
        match item {
            Item::Site { title, url } => self.site = Some((title.clone(), url.clone())),
            Item::Story(s) => {
                self.items += 1;
                *self.stories.entry(s.status.as_str()).or_default() += 1;
                // Only public stories keep their old addresses (a redirect would
                // show a draft's slug).
                if s.status == PostStatus::Published {
                    self.redirects += s.old_paths.len() as u64;
                }
            }
            Item::Tag(_) => self.tags += 1,
            Item::Redirect { .. } => self.redirects += 1,
            Item::Skipped {
                kind, reason, item, ..
            } => {
                if *item {
                    self.items += 1;
                    self.items_not_imported += 1;
                }
                let entry = self
                    .skipped
                    .entry(kind.clone())
                    .or_insert_with(|| (0, reason.clone()));
                entry.0 += 1;
                *self
                    .reasons
                    .entry(kind.clone())
                    .or_default()
                    .entry(reason.clone())
                    .or_default() += 1;
            }
            Item::Warning(_) => self.warnings += 1,
        }
    }

    pub fn story_count(&self) -> u64 {
        self.stories.values().sum()
    }

    /// Stories that are public ("publish").
    pub fn public_count(&self) -> u64 {
        self.stories
            .get(PostStatus::Published.as_str())
            .copied()
            .unwrap_or(0)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((title, url)) = &self.site {
            writeln!(f, "source: {title} <{url}>")?;
        }
        let stories: Vec<String> = self
            .stories
            .iter()
            .map(|(status, n)| format!("{n} {status}"))
            .collect();
        writeln!(
            f,
            "stories: {} ({})",
            self.story_count(),
            if stories.is_empty() {
                "none".to_owned()
            } else {
                stories.join(", ")
            }
        )?;
        writeln!(
            f,
            "tags and categories: {}; old addresses: {}; warnings: {}",
            self.tags, self.redirects, self.warnings
        )?;
        writeln!(
            f,
            "items read: {} ({} public, {} kept as drafts, {} not imported)",
            self.items,
            self.public_count(),
            self.story_count().saturating_sub(self.public_count()),
            self.items_not_imported
        )?;
        for (kind, (n, first)) in &self.skipped {
            let reasons = self.reasons.get(kind);
            match reasons {
                Some(reasons) if reasons.len() > 1 => {
                    let mut shown: Vec<String> = reasons
                        .iter()
                        .take(SHOWN_REASONS)
                        .map(|(reason, n)| format!("{n}: {reason}"))
                        .collect();
                    if reasons.len() > SHOWN_REASONS {
                        shown.push(format!("{} other reasons", reasons.len() - SHOWN_REASONS));
                    }
                    writeln!(f, "not imported: {n} {kind} ({})", shown.join("; "))?;
                }
                _ => writeln!(f, "not imported: {n} {kind} ({first})")?,
            }
        }
        Ok(())
    }
}
