//! The store: bulletin's single source of truth.
//!
//! One [`Store`] trait, one module per backend (`sqlite`, `postgres`), each with its
//! own `migrations/`. Only this crate writes SQL. Every change appends a row to the
//! change log, whose sequence number only grows; the search index and caches follow
//! it.
//!
//! Reads are shaped for the public site, so that no page loads a whole table or
//! queries per item: [`Store::stories`] filters by tag, issue, country, place and
//! date range and pages by keyset cursor or offset; [`Store::count_stories`] gives
//! page counts; [`Store::countries`], [`Store::places`] and [`Store::months`] list
//! the archives; [`Store::latest_issue`] and [`Store::neighbour_issues`] serve the
//! home and issue pages without [`Store::issues`]; [`Store::story_index`] feeds
//! sitemaps; [`Store::last_change`] and [`Store::latest_change`] (one index lookup
//! each) make HTTP validators and cache keys. The newsroom's reads and writes
//! (drafts, versions, issues being built, publishing, sessions, audit log) are the
//! [`Newsroom`] supertrait, in `newsroom.rs`.
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

pub mod archive;
mod common;
pub mod newsroom;
pub mod outbox;
pub mod postgres;
pub mod sqlite;
pub mod subscribers;
pub mod testing;

pub use archive::{Archive, NewDraft, RestorePart};
use async_trait::async_trait;
pub use bulletin_core::backup::Redirect;
use bulletin_core::staff::{Role, User};
use bulletin_core::{Date, Issue, IssueStatus, Publication, Story, Tag};
pub use newsroom::{
    Actor, ApiToken, AuditEntry, DeskEntry, DeskQuery, DeskState, DeskStory, HistoryEntry,
    IssueDesk, IssueSummary, Newsroom, SaveOutcome, Session,
};
pub use outbox::{Outbox, SendJob, SendOutcome, SendProgress};
pub use subscribers::{NewSubscriber, ReaderSession, SubscriberPut, SubscriberQuery, Subscribers};

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
    /// A value that must be unique is taken.
    #[error("{what} {key:?} already exists")]
    Duplicate { what: &'static str, key: String },
    #[error("there is no {what} {key:?}")]
    NotFound { what: &'static str, key: String },
    /// A newsroom action that the state of things does not allow; the message
    /// says why and what to do instead.
    #[error("{0}")]
    Refused(String),
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

/// Which stories to list (and, for [`Store::count_stories`], count).
///
/// Every filter that is set must hold (they combine with AND). Results are newest
/// first: dateline date descending, then issue number descending, then position in
/// the issue, then id.
///
/// Two ways to reach a later page, which may be combined:
/// - [`after`](Self::after), a keyset cursor from [`StoryPage::next`]: cheap at any
///   depth, but only reachable page by page;
/// - [`offset`](Self::offset), which skips that many matching stories (after the
///   cursor, when there is one): page N of size L directly, as `offset = (N-1)*L`,
///   for deep `/page/N/` archive pages. The database still steps over the skipped
///   rows, so its cost grows with the offset.
///
/// Either way [`StoryPage::next`] continues right after the page returned, so
/// `{ offset: k * L, limit: L }` and the k-th keyset page of size L are equal,
/// `next` included.
///
/// Cost: a listing walks one index in listing order and stops when the page is
/// full: an issue's stories; else the index of the place, country or tag (each
/// side table keeps a copy of its stories' sort keys for this); else the date
/// index, which also serves `from`/`to`. Other filters are checked on the stories
/// met. So a page costs about `offset + limit` index entries (more when a second
/// filter is rare among the first one's stories), however many stories match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoryQuery {
    /// Tag name (not slug).
    pub tag: Option<String>,
    pub issue: Option<u32>,
    /// ISO 3166-1 alpha-2 code, as in [`Story::countries`]; matched
    /// case-insensitively (`"kz"` finds `"KZ"`).
    pub country: Option<String>,
    /// A dateline place, exactly as stored (`"Almaty"`); any of a story's places.
    pub place: Option<String>,
    /// Earliest dateline date, inclusive.
    pub from: Option<Date>,
    /// Latest dateline date, inclusive.
    pub to: Option<Date>,
    /// Keyset pagination: continue after this cursor (from [`StoryPage::next`]).
    pub after: Option<String>,
    /// Skip this many matching stories (after [`after`](Self::after), if set)
    /// before the page starts. 0: none.
    pub offset: u32,
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
    /// When it was written (RFC 3339, UTC).
    pub at: String,
}

/// One line of the sitemap: where a story lives and when it last changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryIndexEntry {
    pub slug: String,
    /// The dateline date.
    pub date: Date,
    /// [`Story::url`]: `/YYYY/MM/DD/slug/`.
    pub url: String,
    /// When the story was last written (RFC 3339, UTC).
    pub updated_at: String,
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
///
/// Every story these methods read is public: unpublished stories live in the
/// newsroom's tables ([`Newsroom`]), which only the admin area reads. Issues are
/// listed whatever their status (each says its own); the site shows published ones.
#[async_trait]
pub trait Store: Newsroom + Archive + Subscribers + Outbox + Send + Sync {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;

    async fn publication(&self) -> Result<Publication>;
    async fn set_publication(&self, publication: &Publication) -> Result<()>;

    /// Starts one all-or-nothing write: nothing is visible until `commit`, and
    /// dropping the transaction without committing discards everything.
    async fn begin_import(&self) -> Result<Box<dyn ImportTx + '_>>;

    async fn story(&self, slug: &str) -> Result<Option<Story>>;
    /// One page of the stories matching `query`, newest first (see [`StoryQuery`]).
    async fn stories(&self, query: &StoryQuery) -> Result<StoryPage>;
    /// How many stories match the filters of `query` (its `after`, `offset` and
    /// `limit` are ignored): the page count of an archive. Counts index entries of
    /// the walk [`StoryQuery`] describes, so O(matching stories) but reading no
    /// story rows (except with an issue, whose stories are few).
    async fn count_stories(&self, query: &StoryQuery) -> Result<u64>;
    /// All issues by number, whatever their status (the site shows only the
    /// published ones), each with its public stories' slugs in issue order. This
    /// reads every story's slug; pages should use [`Store::issue`],
    /// [`Store::latest_issue`] and [`Store::neighbour_issues`].
    async fn issues(&self) -> Result<Vec<Issue>>;
    async fn issue(&self, number: u32) -> Result<Option<Issue>>;
    /// The newest published issue with at least one story: latest issue date first (issues
    /// of unknown date after all dated ones), then highest number; with its
    /// stories' slugs in issue order. `None` when no issue has a story.
    async fn latest_issue(&self) -> Result<Option<Issue>>;
    /// The issue numbers just below and just above `number` among the published
    /// issues (`number` itself need not exist); `None` at either end.
    async fn neighbour_issues(&self, number: u32) -> Result<(Option<u32>, Option<u32>)>;
    /// Every issue's number and status, by number: what deciding which stories are
    /// public needs, without [`Store::issues`]' story lists.
    async fn issue_statuses(&self) -> Result<Vec<(u32, IssueStatus)>>;
    /// All tags by name, with how many stories carry each.
    async fn tags(&self) -> Result<Vec<(Tag, u64)>>;
    /// Every country code that some story carries, by code, with how many stories
    /// carry it (a story that lists a code twice counts once).
    async fn countries(&self) -> Result<Vec<(String, u64)>>;
    /// Every dateline place, by name (byte order), with how many stories name it.
    async fn places(&self) -> Result<Vec<(String, u64)>>;
    /// (year, month, stories) for every month with stories by dateline date,
    /// newest first. One pass over the date index: O(stories), so callers that
    /// show it on every page should cache it (keyed by [`Store::last_change`]).
    async fn months(&self) -> Result<Vec<(i16, i8, u64)>>;
    /// Earlier versions of a story, oldest first.
    async fn revisions(&self, slug: &str) -> Result<Vec<Revision>>;
    async fn counts(&self) -> Result<Counts>;
    /// Up to `limit` stories in storage order (by id, which never changes), after
    /// skipping `offset`: the sitemap, in stable slices. Reads no bodies.
    async fn story_index(&self, offset: u64, limit: u32) -> Result<Vec<StoryIndexEntry>>;

    /// Changes with `seq > after`, in order, at most `limit`.
    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<Change>>;
    /// The highest sequence number so far (0 for an empty store). One index
    /// lookup: cheap enough for every request (an ETag, a cache key).
    async fn last_change(&self) -> Result<i64>;
    /// The change with the highest sequence number (`None` for an empty log): its
    /// `at` is the archive's Last-Modified.
    async fn latest_change(&self) -> Result<Option<Change>>;

    // Staff accounts. Not archive content: they write no change-log entries.

    /// Creates an account; `email` as [`bulletin_core::staff::normalize_email`]
    /// makes it, `password_hash` an argon2id PHC string. A taken address is
    /// [`StoreError::Duplicate`].
    async fn create_user(&self, email: &str, role: Role, password_hash: &str) -> Result<User>;
    /// Every account, oldest first.
    async fn users(&self) -> Result<Vec<User>>;
    /// An account with its password hash, to check a sign-in.
    async fn user_credentials(&self, email: &str) -> Result<Option<(User, String)>>;
    /// `false` when there is no such account.
    async fn set_user_disabled(&self, email: &str, disabled: bool) -> Result<bool>;
    /// `false` when there is no such account.
    async fn set_password_hash(&self, email: &str, password_hash: &str) -> Result<bool>;
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
    /// Deletes the story with this slug, its revisions and its index rows, and
    /// logs a `delete` change. `false` when there is no such story.
    async fn delete_story(&mut self, slug: &str) -> Result<bool>;
    /// Creates tags that do not exist (under their own slug when it is free) and
    /// sets the description of those that do, when one is given.
    async fn put_tags(&mut self, tags: Vec<Tag>) -> Result<()>;
    /// Adds stories that are not public to the newsroom, each under a free slug
    /// (returned in order), as version 1 of its history ("import"); one identical
    /// to the draft under its slug is not added again. A draft naming
    /// an issue waits in it (made as a draft issue if missing).
    async fn put_drafts(&mut self, drafts: Vec<NewDraft>, now: i64) -> Result<Vec<String>>;
    /// Adds old addresses (a later one for the same `from` replaces the earlier).
    async fn put_redirects(&mut self, redirects: Vec<Redirect>, now: i64) -> Result<()>;
    /// Restores one part of a backup into an empty store (see [`Archive::is_empty`]);
    /// parts come in [`RestorePart`]'s order.
    async fn restore(&mut self, part: RestorePart) -> Result<()>;
    /// Adds or updates subscribers by address (outcomes in input order). An
    /// address known as unsubscribed or bounced keeps its status: an import is
    /// not consent.
    async fn put_subscribers(
        &mut self,
        subscribers: Vec<NewSubscriber>,
        now: i64,
    ) -> Result<Vec<SubscriberPut>>;
    /// Sets an issue's status, clears any scheduled time (only
    /// [`Newsroom::schedule_issue`] sets one) and logs an `update` change of the
    /// issue (its stories' visibility follows it). `false` when there is no such
    /// issue.
    async fn set_issue_status(&mut self, number: u32, status: IssueStatus) -> Result<bool>;
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
