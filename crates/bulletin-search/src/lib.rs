//! Search built for an archive: a tantivy index derived from the store.
//!
//! The index lives in the data directory (`search/`), holds what a visitor may
//! read and nothing else (the access rule of `bulletin_core::render`, and only
//! stories of published issues), and follows the store's change log: each commit
//! records the last change sequence it reflects, so [`SearchIndex::catch_up`]
//! applies exactly what happened since, and [`SearchIndex::follow`] does so a few
//! times a second. [`SearchIndex::rebuild`] starts from scratch.
//!
//! One process writes an index directory: the one holding `search/writer.lock`.
//! Others opening the same directory read it and reload what the writer commits
//! (and take over the lock if the writer goes away). Several servers on one
//! PostgreSQL each keep their own index directory caught up from the change log.
//!
//! The schema has a version ([`SCHEMA_VERSION`]); an index of another version is
//! set aside and rebuilt.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use bulletin_search::{SearchIndex, SearchRequest};
//! let store = bulletin_store::open("sqlite://bulletin-data/bulletin.db").await?;
//! let index = SearchIndex::open("bulletin-data/search".as_ref())?;
//! index.catch_up(&*store).await?;
//! let results = index.search(&SearchRequest::new("\"human rights\" -Russia Alma-Ata"))?;
//! for hit in results.hits {
//!     println!("{}  {}  {}", hit.date, hit.headline, hit.url);
//! }
//! # Ok(()) }
//! ```

mod facets;
mod follow;
#[doc(hidden)]
pub mod fuzzing;
mod hits;
mod index;
pub mod query;
mod related;
mod schema;
mod search;

use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use bulletin_core::Date;
use bulletin_store::StoreError;
use serde::Serialize;
use tantivy::{Index, IndexReader, IndexWriter, Searcher};

pub use facets::Facets;
pub use query::{MAX_QUERY_CHARS, QueryError};
use schema::Fields;
pub use schema::SCHEMA_VERSION;

/// Most results a page may ask for.
pub const MAX_LIMIT: usize = 100;
/// How deep results can be paged: offset plus limit.
pub const MAX_WINDOW: usize = 10_000;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "another process is writing the search index in {0} (a running `bulletin serve`?); stop it first"
    )]
    Locked(PathBuf),
    #[error("the search index in {0} has not been built yet, and another process holds its lock")]
    NotBuilt(PathBuf),
    #[error("search task failed: {0}")]
    Task(String),
    #[error(
        "search index directory {path}: no space left on its device; free some, then run `bulletin reindex` ({source})"
    )]
    DiskFull {
        path: PathBuf,
        source: Box<SearchError>,
    },
}

impl SearchError {
    /// Says so when an index failure is really a full disk: tantivy's worker
    /// threads report only that they stopped ("an index writer was killed").
    pub(crate) fn explained(self, root: &std::path::Path) -> SearchError {
        match self {
            SearchError::Index(_) | SearchError::Io { .. }
                if bulletin_store::disk_is_full(root) =>
            {
                SearchError::DiskFull {
                    path: root.to_owned(),
                    source: Box::new(self),
                }
            }
            other => other,
        }
    }

    /// Whether the request was at fault (not the index): shown to the asker.
    pub fn is_bad_request(&self) -> bool {
        matches!(self, SearchError::Query(_))
    }
}

/// How results are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Best match first (the default when there are words to match).
    #[default]
    Relevance,
    /// Newest dateline first.
    Newest,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        match s {
            "relevance" => Some(Sort::Relevance),
            "newest" | "date" => Some(Sort::Newest),
            _ => None,
        }
    }
}

/// A search: the text and the filters, which all must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchRequest {
    pub q: String,
    /// Tag name or slug.
    pub tag: Option<String>,
    /// ISO code (`KZ`) or a country's name or old name (`Kazakhstan`, `Kirghizia`).
    pub country: Option<String>,
    /// Dateline place, by name or old name.
    pub place: Option<String>,
    pub issue: Option<u32>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub sort: Sort,
    pub offset: usize,
    /// 0 means 10; at most [`MAX_LIMIT`].
    pub limit: usize,
    /// Count matches per country, tag and year too.
    pub facets: bool,
}

impl SearchRequest {
    pub fn new(q: &str) -> SearchRequest {
        SearchRequest {
            q: q.to_owned(),
            ..SearchRequest::default()
        }
    }
}

/// One found story, as a visitor may read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub slug: String,
    pub headline: String,
    /// The headline, HTML-escaped, with matched words in `<mark>`.
    pub headline_html: String,
    /// `BAKU/ALMATY/JULY 18 2021`
    pub dateline: String,
    pub places: Vec<String>,
    /// The dateline date, `2021-07-18`.
    pub date: String,
    pub issue: Option<u32>,
    pub url: String,
    /// Part of the readable text, HTML-escaped, with matched words in `<mark>`.
    pub snippet_html: String,
    pub access: String,
    pub tags: Vec<String>,
    pub countries: Vec<String>,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// All matches, not just this page.
    pub total: u64,
    pub offset: usize,
    pub limit: usize,
    pub sort: Sort,
    pub hits: Vec<Hit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<Facets>,
    /// Repairs made to the query ("a closing quote was added").
    pub notes: Vec<String>,
    /// Other names searched for a name in the query: `["Alma-Ata", ["Almaty", ...]]`.
    pub also_searched: Vec<(String, Vec<String>)>,
    /// The change sequence the index reflected.
    pub seq: i64,
}

/// What a search sees: a searcher and the change sequence it reflects.
struct Snapshot {
    searcher: Searcher,
    seq: i64,
}

struct Writer {
    writer: IndexWriter,
    _lock: File,
}

struct Inner {
    root: PathBuf,
    index: Index,
    fields: Fields,
    reader: IndexReader,
    snapshot: RwLock<Arc<Snapshot>>,
    /// `Some` in the process holding `writer.lock`.
    writer: Mutex<Option<Writer>>,
    /// One catch-up or rebuild at a time.
    updating: tokio::sync::Mutex<()>,
}

/// The search index of one data directory. Cheap to clone.
#[derive(Clone)]
pub struct SearchIndex {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("root", &self.inner.root)
            .field("seq", &self.applied_seq())
            .field("writer", &self.is_writer())
            .finish()
    }
}
