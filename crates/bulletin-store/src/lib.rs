//! The store: bulletin's single source of truth.
//!
//! The traits and values, without SQL, are in `api/`: [`PublicSite`] (what the
//! site and the search index read), [`Import`], [`StaffAccounts`], [`Newsroom`],
//! [`Archive`], [`Subscribers`] and [`Outbox`]; [`Store`] is all of them. The SQL
//! is written once, in `sql/`, and compiled into each backend's module
//! (`sqlite/`, `postgres/`), which keeps only what truly differs: opening,
//! locking, the batch writers of imports, and its own `migrations/`. Only this
//! crate writes SQL. Every change appends a row to the
//! change log, whose sequence number only grows; the search index and caches follow
//! it.
//!
//! Reads are shaped for the public site, so that no page loads a whole table or
//! queries per item: [`PublicSite::stories`] filters by tag, issue, country, place and
//! date range and pages by keyset cursor or offset; [`PublicSite::count_stories`] gives
//! page counts; [`PublicSite::countries`], [`PublicSite::places`] and [`PublicSite::months`] list
//! the archives; [`PublicSite::latest_issue`] and [`PublicSite::neighbour_issues`] serve the
//! home and issue pages without [`PublicSite::issues`]; [`PublicSite::story_index`] feeds
//! sitemaps; [`PublicSite::last_change`] and [`PublicSite::latest_change`] (one index lookup
//! each) make HTTP validators and cache keys. The newsroom's reads and writes
//! (drafts, versions, issues being built, publishing, sessions, audit log) are
//! [`Newsroom`].
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

pub mod api;
mod dialect;
mod error;
mod import_plan;
mod listing;
pub mod postgres;
mod rows;
mod schema;
pub mod sqlite;

pub use api::archive::{Archive, NewDraft, RestorePart, import_actor};
pub use api::import::{Import, ImportTx, PutOutcome, SourcedStory};
pub use api::newsroom::{
    Actor, ApiToken, AttemptLimit, AuditEntry, DeskEntry, DeskQuery, DeskState, DeskStory,
    HistoryEntry, IssueDesk, IssueSummary, Newsroom, Reservation, SaveOutcome, Session,
};
pub use api::outbox::{Notice, NoticeJob, Outbox, SendJob, SendOutcome, SendProgress};
pub use api::site::{Change, Counts, PublicSite, Revision, StoryIndexEntry, StoryPage, StoryQuery};
pub use api::staff::StaffAccounts;
pub use api::store::Store;
pub use api::subscribers::{
    NewSubscriber, ReaderSession, SubscriberPut, SubscriberQuery, Subscribers,
};
pub use bulletin_core::backup::Redirect;
pub use error::{Result, StoreError, disk_is_full};
pub use schema::{Migrations, SchemaStatus};

/// Opens (creating and migrating as needed) the store at `url`:
/// `sqlite://PATH` or `postgres://...`.
///
/// `sqlite://PATH` creates the file and its parent directories if missing;
/// `sqlite::memory:` is a private in-memory database (for tests).
/// `postgres://...` and `postgresql://...` take the usual libpq-style URL.
/// A fresh store holds the default [`Publication`].
pub async fn open(url: &str) -> Result<Arc<dyn Store>> {
    open_with(url, Migrations::Run).await
}

/// [`open`], choosing what happens to the schema: migrated, or required to be
/// current already (see [`Migrations`]).
pub async fn open_with(url: &str, migrations: Migrations) -> Result<Arc<dyn Store>> {
    if url == "sqlite::memory:" || url.starts_with("sqlite://") {
        Ok(Arc::new(
            sqlite::SqliteStore::open_with(url, migrations).await?,
        ))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            postgres::PgStore::open_with(url, migrations).await?,
        ))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}
