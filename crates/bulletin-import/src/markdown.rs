//! Hugo and Zola content folders, read and written.
//!
//! # Reading: [`read_dir`]
//!
//! The folder given is a site (it has `content/`; its `hugo.toml`, `config.toml`,
//! `config.yaml`, ... gives an [`Item::Site`] and, for Hugo, the permalink rules)
//! or a content folder itself. Files are walked in sorted order, folders
//! depth-first; only `*.md` and `*.markdown` are read.
//!
//! - `_index.md` (a section's page) → [`Item::Skipped`] of kind "section"; a file
//!   without front matter → skipped, kind "file".
//! - A leaf bundle (`post-name/index.md`) is one page named after its folder; the
//!   folder's other files are its resources.
//! - Front matter is TOML between `+++` lines, YAML between `---` lines, or a JSON
//!   object (Hugo). Read: `title`, `date` (TOML datetime or `2021-07-18`,
//!   `2021-07-18T10:00:00Z`, `2021-07-18 10:00:00`; without an offset, in the
//!   publication's time zone), `slug` (default: the file or bundle name, without
//!   a leading `YYYY-MM-DD-`), `tags`, `categories` and Zola's `[taxonomies]`
//!   `tags`/`categories` (all become tags), `draft`, `publishDate` (still to come:
//!   [`PostStatus::Scheduled`]; also the date when `date` is missing),
//!   `expiryDate` (passed: [`PostStatus::Private`], as the site no longer showed
//!   it), `aliases`, Hugo's `url` and Zola's `path`. The date may also come from a
//!   dated file name (`2021-07-18-name.md`). Other keys are ignored.
//! - Old addresses ([`ImportedStory::old_paths`]): the aliases, and the page's own
//!   address — its `url`/`path`, else the one Hugo (`/<folders>/<slug or name>/`,
//!   or the site's `[permalinks]` pattern for the section) or Zola
//!   (`/<folders>/<slug>/`) gives it — never the story's new URL. A page
//!   bulletin wrote (see below) has no other address of its own than that URL.
//! - The body goes through [`plain_paragraphs`], then [`crate::body::to_story`].
//! - bulletin's own fields (`[bulletin]` for Hugo, `[extra.bulletin]` for Zola, as
//!   [`Writer`] writes them) override: dateline places, credit and inferred year,
//!   countries, issue and its date, first publication, copyright holder and year,
//!   access. When all of them are there the file is bulletin's own: the story is
//!   made from them, the title and the paragraphs exactly (not through
//!   `to_story`, which would read a paragraph that looks like a dateline or a
//!   footer as one), so export → import is lossless.
//!
//! The reader yields `Result<(PathBuf, Item), Error>`: each item with the file it
//! came from (a warning's position is in that file). An [`Error`] names its
//! file; parse errors carry line, column and the quoted line. Reading goes on
//! with the next file after an error; an import stops at the first.
//!
//! # Writing: [`write_site`]
//!
//! A site Hugo (without a theme) or Zola builds, with bulletin's URLs
//! (`/YYYY/MM/DD/slug/`). Stories stream in one at a time
//! ([`Writer::write_story`]) into `content/posts/YYYY/slug.md`; only the set of
//! slugs written is kept.
//!
//! Hugo: `hugo.toml` (`[permalinks] posts = "/:year/:month/:day/:slug/"`, tags
//! taxonomy, typographer off, `buildFuture`), `layouts/_default/single.html` and
//! `list.html`; each page has TOML front matter `title`, `date` (the dateline
//! date), `slug`, `tags` and a `[bulletin]` table: `places`, `credit`,
//! `year_inferred`, `countries`, `issue`, `issue_date`, `first_published`,
//! `copyright_holder`, `copyright_year`, `access`, and for the templates
//! `dateline_caps`, `issue_footer`, `copyright_footer` (derived, not read back).
//!
//! Zola: `config.toml` (tags taxonomy), `templates/` (index, section, page,
//! tags/list, tags/single), `content/posts/_index.md` (sorted by date, 50 a page)
//! and a transparent, unrendered section per year; pages have `title`, `date`,
//! `slug`, `path = "YYYY/MM/DD/slug/"`, `[taxonomies] tags` and
//! `[extra.bulletin]` (Zola refuses unknown top-level keys).
//!
//! Paragraphs are written with [`escape_paragraph`], which [`plain_paragraphs`]
//! reads back exactly. A subscribers' story gets a summary divider after its lead
//! paragraph; the templates then show only the lead, as bulletin's own site does.
//!
//! [`Item::Site`]: crate::Item::Site
//! [`Item::Skipped`]: crate::Item::Skipped
//! [`ImportedStory::old_paths`]: crate::ImportedStory::old_paths
//! [`PostStatus::Scheduled`]: crate::PostStatus::Scheduled
//! [`PostStatus::Private`]: crate::PostStatus::Private

use std::fmt;
use std::str::FromStr;

pub(crate) mod front;
pub mod limits;
mod paths;
mod read;
mod text;
mod write;
mod yaml_depth;

pub use read::{Error, Found, Reader, read_dir};
pub use text::{PlainBody, escape_paragraph, plain_paragraphs};
pub use write::{SiteInfo, Writer, write_site};

/// Which static site generator a folder is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Flavor {
    #[default]
    Hugo,
    Zola,
}

impl Flavor {
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Hugo => "hugo",
            Flavor::Zola => "zola",
        }
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Flavor {
    type Err = String;

    fn from_str(s: &str) -> Result<Flavor, String> {
        match s.to_ascii_lowercase().as_str() {
            "hugo" => Ok(Flavor::Hugo),
            "zola" => Ok(Flavor::Zola),
            _ => Err(format!(
                "{s:?} is not a site generator bulletin writes: use hugo or zola"
            )),
        }
    }
}
