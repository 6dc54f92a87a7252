//! The store: bulletin's single source of truth.
//!
//! One [`Store`] trait, one module per backend (`sqlite`, `postgres`), each with its
//! own `migrations/`. Only this crate writes SQL. Every change appends a row to the
//! change log, whose sequence number only grows; the search index and caches follow
//! it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), bulletin_store::StoreError> {
//! let store = bulletin_store::open("sqlite://bulletin-data/bulletin.db").await?;
//! let mut tx = store.begin_import().await?;
//! // tx.put_stories(stories).await?;
//! tx.commit().await?;
//! println!("{} stories", store.counts().await?.stories);
//! # Ok(()) }
//! ```

use std::sync::Arc;

mod common;
pub mod postgres;
pub mod sqlite;
pub mod testing;

use async_trait::async_trait;
use bulletin_core::{Date, Issue, Publication, Story, Tag};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("invalid story {slug:?}: {source}")]
    InvalidStory {
        slug: String,
        source: bulletin_core::ModelError,
    },
    /// A [`StoryQuery::after`] that no [`StoryPage::next`] produced.
    #[error("invalid page cursor {0:?}")]
    BadCursor(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What `put_stories` did with one story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// Stored for the first time, under this (possibly `-2`-suffixed) slug.
    New { slug: String },
    /// Content differed; the earlier version was kept as a revision.
    Updated { slug: String },
    /// Identical to what is stored; nothing written.
    Unchanged { slug: String },
}

/// Which stories to list. Results are newest first: dateline date descending, then
/// issue number descending, then position in the issue, then id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoryQuery {
    /// Tag name (not slug).
    pub tag: Option<String>,
    pub issue: Option<u32>,
    /// Keyset pagination: continue after this cursor (from [`StoryPage::next`]).
    pub after: Option<String>,
    /// Page size; the store caps it at 10,000 (0 also means 10,000).
    pub limit: u32,
}

/// One page of stories and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryPage {
    pub stories: Vec<Story>,
    /// `None` on the last page.
    pub next: Option<String>,
}

/// An earlier version of a story, kept when an update replaced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// 1, 2, ... per story, oldest first.
    pub number: u32,
    pub story: Story,
    /// When it was replaced (RFC 3339, UTC).
    pub replaced_at: String,
}

/// One entry of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    /// "story", "issue", "tag", "publication".
    pub entity: String,
    /// Slug, issue number, tag name.
    pub key: String,
    /// "insert", "update", "delete".
    pub op: String,
}

/// Sizes of the archive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub stories: u64,
    pub issues: u64,
    pub tags: u64,
    pub revisions: u64,
    /// Distinct dateline years, ascending.
    pub years: Vec<i16>,
    pub first_date: Option<Date>,
    pub last_date: Option<Date>,
}

/// The single source of truth. Implementations: SQLite and PostgreSQL.
#[async_trait]
pub trait Store: Send + Sync {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;

    async fn publication(&self) -> Result<Publication>;
    async fn set_publication(&self, publication: &Publication) -> Result<()>;

    /// Starts one all-or-nothing write: nothing is visible until `commit`, and
    /// dropping the transaction without committing discards everything.
    async fn begin_import(&self) -> Result<Box<dyn ImportTx + '_>>;

    async fn story(&self, slug: &str) -> Result<Option<Story>>;
    async fn stories(&self, query: &StoryQuery) -> Result<StoryPage>;
    /// All issues by number, each with its stories' slugs in issue order.
    async fn issues(&self) -> Result<Vec<Issue>>;
    async fn issue(&self, number: u32) -> Result<Option<Issue>>;
    /// All tags by name, with how many stories carry each.
    async fn tags(&self) -> Result<Vec<(Tag, u64)>>;
    /// Earlier versions of a story, oldest first.
    async fn revisions(&self, slug: &str) -> Result<Vec<Revision>>;
    async fn counts(&self) -> Result<Counts>;

    /// Changes with `seq > after`, in order, at most `limit`.
    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<Change>>;
    /// The highest sequence number so far (0 for an empty store).
    async fn last_change(&self) -> Result<i64>;
}

/// An open all-or-nothing write.
#[async_trait]
pub trait ImportTx: Send {
    /// Inserts or updates stories, matched on [`Story::natural_key`]. New stories
    /// get a unique slug (`-2`, `-3` on collision); updated ones keep theirs and the
    /// earlier version becomes a revision; identical ones are left alone. Issues
    /// named by the stories are created or updated (a known date is never replaced
    /// by an unknown one); tags are created as needed. Outcomes are in input order.
    async fn put_stories(&mut self, stories: Vec<Story>) -> Result<Vec<PutOutcome>>;
    async fn commit(self: Box<Self>) -> Result<()>;
    async fn rollback(self: Box<Self>) -> Result<()>;
}

/// Opens (creating and migrating as needed) the store at `url`:
/// `sqlite://PATH` or `postgres://...`.
///
/// `sqlite://PATH` creates the file and its parent directories if missing;
/// `sqlite::memory:` is a private in-memory database (for tests).
/// `postgres://...` and `postgresql://...` take the usual libpq-style URL.
/// A fresh store holds the default [`Publication`].
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url == "sqlite::memory:" || url.starts_with("sqlite://") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}
