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
pub mod query;
mod schema;

use std::collections::{BTreeSet, HashMap};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bulletin_core::render::escape_html as escape;
use bulletin_core::{Date, IssueStatus, Story, gazetteer, slugify};
use bulletin_store::{PublicSite, StoreError, StoryQuery};
use serde::Serialize;
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue};
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, MoreLikeThisQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{IndexRecordOption, OwnedValue, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument,
    Term,
};

pub use facets::Facets;
pub use query::{MAX_QUERY_CHARS, QueryError};
pub use schema::SCHEMA_VERSION;
use schema::{Fields, build_schema, day_from_number, day_number, story_document};

/// Most results a page may ask for.
pub const MAX_LIMIT: usize = 100;
/// How deep results can be paged: offset plus limit.
pub const MAX_WINDOW: usize = 10_000;
/// Past this many changes behind, catching up reads the whole store instead.
const REBUILD_AFTER: i64 = 100_000;
/// Stories read from the store at a time.
const BATCH: u32 = 2_000;

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
}

impl SearchError {
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

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SearchError + '_ {
    move |source| SearchError::Io {
        path: path.to_owned(),
        source,
    }
}

fn lock_file(root: &Path) -> Result<Option<File>, SearchError> {
    let path = root.join("writer.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(io(&path)(e)),
    }
}

fn writer_for(index: &Index, lock: File) -> Result<Writer, SearchError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    Ok(Writer {
        writer: index.writer_with_num_threads(threads, 64_000_000 * threads)?,
        _lock: lock,
    })
}

fn payload_seq(index: &Index) -> i64 {
    index
        .load_metas()
        .ok()
        .and_then(|m| m.payload)
        .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
        .and_then(|v| v.get("seq").and_then(serde_json::Value::as_i64))
        .unwrap_or(0)
}

impl SearchIndex {
    /// Opens (creating if need be) the index in `root`, as its writer if no other
    /// process is. An index of another schema version is removed by the writer.
    pub fn open(root: &Path) -> Result<SearchIndex, SearchError> {
        std::fs::create_dir_all(root).map_err(io(root))?;
        let lock = lock_file(root)?;
        let dir = root.join(format!("v{SCHEMA_VERSION}"));
        let (schema, fields) = build_schema();
        let index = if lock.is_some() {
            remove_other_versions(root, &dir);
            std::fs::create_dir_all(&dir).map_err(io(&dir))?;
            let open = MmapDirectory::open(&dir)
                .map_err(|e| SearchError::Index(e.into()))
                .and_then(|d| Ok(Index::open_or_create(d, schema.clone())?));
            match open {
                Ok(index) => index,
                Err(e) => {
                    tracing::warn!(error = %e, dir = %dir.display(), "search index unreadable; rebuilding it");
                    std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
                    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
                    Index::create_in_dir(&dir, schema)?
                }
            }
        } else {
            // The writer creates the index as it starts; give a process started at
            // the same moment a few seconds to do so.
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while !dir.join("meta.json").exists() {
                if std::time::Instant::now() > deadline {
                    return Err(SearchError::NotBuilt(root.to_owned()));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Index::open_in_dir(&dir)?
        };
        schema::register_analyzer(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = match lock {
            Some(lock) => Some(writer_for(&index, lock)?),
            None => None,
        };
        let snapshot = Snapshot {
            searcher: reader.searcher(),
            seq: payload_seq(&index),
        };
        Ok(SearchIndex {
            inner: Arc::new(Inner {
                root: root.to_owned(),
                index,
                fields,
                reader,
                snapshot: RwLock::new(Arc::new(snapshot)),
                writer: Mutex::new(writer),
                updating: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// Whether this process writes the index.
    pub fn is_writer(&self) -> bool {
        self.inner.writer.lock().is_ok_and(|w| w.is_some())
    }

    /// The last change of the store's log that searches see.
    pub fn applied_seq(&self) -> i64 {
        self.snapshot().seq
    }

    /// Stories searchable now.
    pub fn num_stories(&self) -> u64 {
        self.snapshot().searcher.num_docs()
    }

    /// Bytes the index takes on disk.
    pub fn size_on_disk(&self) -> u64 {
        fn walk(path: &Path) -> u64 {
            std::fs::read_dir(path).map_or(0, |entries| {
                entries
                    .flatten()
                    .map(|e| match e.metadata() {
                        Ok(m) if m.is_dir() => walk(&e.path()),
                        Ok(m) => m.len(),
                        Err(_) => 0,
                    })
                    .sum()
            })
        }
        walk(&self.inner.root)
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        match self.inner.snapshot.read() {
            Ok(s) => Arc::clone(&s),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn set_snapshot(&self, seq: i64) -> Result<(), SearchError> {
        self.inner.reader.reload()?;
        let snapshot = Arc::new(Snapshot {
            searcher: self.inner.reader.searcher(),
            seq,
        });
        match self.inner.snapshot.write() {
            Ok(mut s) => *s = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
        Ok(())
    }

    /// A reader (not the writer) picks up what the writer committed, and takes
    /// over the lock when the writer has gone.
    fn refresh_from_disk(&self) -> Result<bool, SearchError> {
        if let Some(lock) = lock_file(&self.inner.root)? {
            let writer = writer_for(&self.inner.index, lock)?;
            if let Ok(mut w) = self.inner.writer.lock() {
                *w = Some(writer);
            }
            tracing::info!(dir = %self.inner.root.display(), "took over writing the search index");
            return Ok(true);
        }
        // The payload first: the searcher loaded after it is at least as new.
        let seq = payload_seq(&self.inner.index);
        self.set_snapshot(seq)?;
        Ok(false)
    }

    /// Applies every change the store logged since the index's last commit (or
    /// rebuilds, when far behind or when the store is not the one indexed).
    /// Returns the sequence the index now reflects.
    pub async fn catch_up<S: PublicSite + ?Sized>(&self, store: &S) -> Result<i64, SearchError> {
        let _one = self.inner.updating.lock().await;
        if !self.is_writer() && !self.refresh_from_disk()? {
            return Ok(self.applied_seq());
        }
        loop {
            let applied = self.applied_seq();
            let head = store.last_change().await?;
            if head == applied {
                return Ok(applied);
            }
            if head < applied || head - applied > REBUILD_AFTER {
                return self.rebuild_locked(store, &mut |_, _| {}).await;
            }
            let changes = store.changes_since(applied, 5_000).await?;
            let Some(last) = changes.last().map(|c| c.seq) else {
                // Nothing logged after `applied` although the head is later:
                // sequence numbers of rolled-back writes. Nothing to apply.
                self.commit(Vec::new(), head).await?;
                continue;
            };
            let mut slugs = BTreeSet::new();
            let mut issues = BTreeSet::new();
            for change in &changes {
                match change.entity.as_str() {
                    "story" => {
                        slugs.insert(change.key.clone());
                    }
                    "issue" => {
                        if let Ok(n) = change.key.parse::<u32>() {
                            issues.insert(n);
                        }
                    }
                    _ => {}
                }
            }
            let mut statuses = IssueStatuses::default();
            for n in issues {
                if let Some(issue) = store.issue(n).await? {
                    slugs.extend(issue.stories.iter().cloned());
                    statuses.0.insert(n, Some(issue.status));
                }
            }
            let mut updates = Vec::with_capacity(slugs.len());
            for slug in slugs {
                let story = match store.story(&slug).await? {
                    Some(story) if statuses.is_public(store, &story).await? => Some(story),
                    _ => None,
                };
                updates.push((slug, story));
            }
            if let Err(e) = self.commit(updates, last).await {
                self.rollback().await;
                return Err(e);
            }
        }
    }

    async fn commit(
        &self,
        updates: Vec<(String, Option<Story>)>,
        seq: i64,
    ) -> Result<(), SearchError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let f = this.inner.fields;
            let mut guard = this
                .inner
                .writer
                .lock()
                .map_err(|_| SearchError::Task("search writer poisoned".into()))?;
            let Some(w) = guard.as_mut() else {
                return Err(SearchError::Locked(this.inner.root.clone()));
            };
            for (slug, story) in updates {
                w.writer.delete_term(Term::from_field_text(f.slug, &slug));
                if let Some(story) = story {
                    w.writer.add_document(story_document(&f, &story))?;
                }
            }
            let mut commit = w.writer.prepare_commit()?;
            commit.set_payload(&payload(seq));
            commit.commit()?;
            drop(guard);
            this.set_snapshot(seq)
        })
        .await
        .map_err(|e| SearchError::Task(e.to_string()))?
    }

    /// Rebuilds the index from the whole store; searches see the old index until
    /// the new one is committed. `progress(done, total)` is called as it goes.
    pub async fn rebuild<S: PublicSite + ?Sized>(
        &self,
        store: &S,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<i64, SearchError> {
        let _one = self.inner.updating.lock().await;
        if !self.is_writer() && !self.refresh_from_disk()? {
            return Err(SearchError::Locked(self.inner.root.clone()));
        }
        let seq = self.rebuild_locked(store, progress).await?;
        drop(_one);
        // Whatever changed while the store was being read.
        self.catch_up(store).await.map(|s| s.max(seq))
    }

    async fn rebuild_locked<S: PublicSite + ?Sized>(
        &self,
        store: &S,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<i64, SearchError> {
        let outcome = self.rebuild_uncommitted(store, progress).await;
        if outcome.is_err() {
            // Nothing half-done may reach a later commit.
            self.rollback().await;
        }
        outcome
    }

    /// Undoes what the writer holds uncommitted.
    async fn rollback(&self) {
        let undone = self
            .blocking(|w| {
                w.writer.rollback()?;
                Ok(())
            })
            .await;
        if let Err(e) = undone {
            tracing::error!(error = %e, "cannot roll back the search index writer");
        }
    }

    async fn rebuild_uncommitted<S: PublicSite + ?Sized>(
        &self,
        store: &S,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<i64, SearchError> {
        // Changes after this sequence may or may not be in what is read; the next
        // catch-up applies them again, which is harmless.
        let seq = store.last_change().await?;
        let total = store.counts().await?.stories;
        self.blocking(|w| {
            w.writer.delete_all_documents()?;
            Ok(())
        })
        .await?;
        let mut statuses = IssueStatuses(
            store
                .issue_statuses()
                .await?
                .into_iter()
                .map(|(n, status)| (n, Some(status)))
                .collect(),
        );
        let mut query = StoryQuery {
            limit: BATCH,
            ..StoryQuery::default()
        };
        let mut done = 0u64;
        progress(0, total);
        loop {
            let page = store.stories(&query).await?;
            done += page.stories.len() as u64;
            let mut docs = Vec::with_capacity(page.stories.len());
            for story in page.stories {
                if statuses.is_public(store, &story).await? {
                    docs.push(story);
                }
            }
            let f = self.inner.fields;
            self.blocking(move |w| {
                for story in &docs {
                    w.writer.add_document(story_document(&f, story))?;
                }
                Ok(())
            })
            .await?;
            progress(done, total.max(done));
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        self.blocking(move |w| {
            let mut commit = w.writer.prepare_commit()?;
            commit.set_payload(&payload(seq));
            commit.commit()?;
            Ok(())
        })
        .await?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.set_snapshot(seq))
            .await
            .map_err(|e| SearchError::Task(e.to_string()))??;
        Ok(seq)
    }

    async fn blocking<F>(&self, work: F) -> Result<(), SearchError>
    where
        F: FnOnce(&mut Writer) -> Result<(), SearchError> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = this
                .inner
                .writer
                .lock()
                .map_err(|_| SearchError::Task("search writer poisoned".into()))?;
            match guard.as_mut() {
                Some(w) => work(w),
                None => Err(SearchError::Locked(this.inner.root.clone())),
            }
        })
        .await
        .map_err(|e| SearchError::Task(e.to_string()))?
    }

    /// Keeps the index caught up with `store`, checking every `every`, until the
    /// returned task is aborted.
    pub fn follow<S: PublicSite + ?Sized + 'static>(
        &self,
        store: Arc<S>,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                let pause = every * (1 << failures.min(6));
                tokio::time::sleep(pause).await;
                match this.catch_up(&*store).await {
                    Ok(_) => failures = 0,
                    Err(e) => {
                        failures += 1;
                        tracing::warn!(error = %e, "search index could not catch up");
                    }
                }
            }
        })
    }

    /// Runs a search. CPU-bound: call it off the async threads.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let snapshot = self.snapshot();
        let searcher = &snapshot.searcher;
        let f = self.inner.fields;
        let parsed = query::parse(&request.q)?;
        let limit = match request.limit {
            0 => 10,
            n => n.min(MAX_LIMIT),
        };
        if request.offset + limit > MAX_WINDOW {
            return Err(QueryError::WindowTooDeep {
                offset: request.offset,
                end: request.offset + limit,
                max: MAX_WINDOW,
            }
            .into());
        }
        let mut clauses = query::text_clauses(&f, &parsed);
        let has_text = !parsed.required.is_empty();
        if !has_text {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        for filter in self.filters(request)? {
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
        }
        let query = BooleanQuery::new(clauses);
        let sort = if has_text { request.sort } else { Sort::Newest };

        let window = TopDocs::with_limit(limit).and_offset(request.offset);
        let newest = || SortByStaticFastValue::<u64>::for_field("newest");
        let (total, addresses, facets) = match sort {
            Sort::Relevance => {
                let top = window.order_by((
                    (SortBySimilarityScore, Order::Desc),
                    (newest(), Order::Desc),
                ));
                if request.facets {
                    let (total, top, facets) =
                        searcher.search(&query, &(Count, top, facets::FacetCollector))?;
                    (total, top.into_iter().map(|x| x.1).collect(), Some(facets))
                } else {
                    let (total, top) = searcher.search(&query, &(Count, top))?;
                    (
                        total,
                        top.into_iter().map(|x| x.1).collect::<Vec<_>>(),
                        None,
                    )
                }
            }
            Sort::Newest => {
                let top = window.order_by((newest(), Order::Desc));
                if request.facets {
                    let (total, top, facets) =
                        searcher.search(&query, &(Count, top, facets::FacetCollector))?;
                    (total, top.into_iter().map(|x| x.1).collect(), Some(facets))
                } else {
                    let (total, top) = searcher.search(&query, &(Count, top))?;
                    (
                        total,
                        top.into_iter().map(|x| x.1).collect::<Vec<_>>(),
                        None,
                    )
                }
            }
        };
        let hits = self.hits(searcher, &query, &addresses, has_text)?;
        Ok(SearchResults {
            total: total as u64,
            offset: request.offset,
            limit,
            sort,
            hits,
            facets,
            notes: parsed.notes,
            also_searched: parsed.expansions,
            seq: snapshot.seq,
        })
    }

    fn filters(&self, request: &SearchRequest) -> Result<Vec<Box<dyn Query>>, SearchError> {
        let f = self.inner.fields;
        let term = |field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::Basic,
            ))
        };
        let mut filters = Vec::new();
        if let Some(tag) = request.tag.as_deref().filter(|t| !t.trim().is_empty()) {
            filters.push(term(f.tag_slug, &slugify(tag)));
        }
        if let Some(country) = request.country.as_deref().filter(|c| !c.trim().is_empty()) {
            filters.push(term(f.country, &country_code(country)?));
        }
        if let Some(place) = request.place.as_deref().filter(|p| !p.trim().is_empty()) {
            let name = gazetteer()
                .place(place.trim())
                .map_or(place, |p| p.name.as_str());
            filters.push(term(f.place, &slugify(name)));
        }
        if let Some(issue) = request.issue {
            filters.push(Box::new(TermQuery::new(
                Term::from_field_u64(f.issue, u64::from(issue)),
                IndexRecordOption::Basic,
            )));
        }
        if let (Some(from), Some(to)) = (request.from, request.to)
            && from > to
        {
            return Err(QueryError::InvertedDates {
                from: from.to_string(),
                to: to.to_string(),
            }
            .into());
        }
        if request.from.is_some() || request.to.is_some() {
            use std::ops::Bound;
            let bound = |d: Option<Date>| {
                d.map_or(Bound::Unbounded, |d| {
                    Bound::Included(Term::from_field_i64(f.day, day_number(d)))
                })
            };
            filters.push(Box::new(RangeQuery::new(
                bound(request.from),
                bound(request.to),
            )));
        }
        Ok(filters)
    }

    fn hits(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        addresses: &[DocAddress],
        has_text: bool,
    ) -> Result<Vec<Hit>, SearchError> {
        let f = self.inner.fields;
        let mut body_snippets = SnippetGenerator::create(searcher, query, f.body)?;
        body_snippets.set_max_num_chars(240);
        let mut headline_snippets = SnippetGenerator::create(searcher, query, f.headline)?;
        headline_snippets.set_max_num_chars(1_000);
        let mut hits = Vec::with_capacity(addresses.len());
        for &address in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            };
            let texts = |field| {
                doc.get_all(field)
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            };
            let headline = text(f.headline);
            let body = text(f.body);
            let headline_html = has_text
                .then(|| marked(&headline_snippets, &headline, false))
                .flatten()
                .unwrap_or_else(|| escape(&headline));
            let snippet_html = has_text
                .then(|| marked(&body_snippets, &body, true))
                .flatten()
                .unwrap_or_else(|| escape(&lead(&body, 240)));
            let day = doc.get_first(f.day).and_then(|v| v.as_i64()).unwrap_or(0);
            let date = day_from_number(day);
            let slug = text(f.slug);
            let url = date.map_or_else(String::new, |d| {
                format!("/{:04}/{:02}/{:02}/{slug}/", d.year(), d.month(), d.day())
            });
            hits.push(Hit {
                headline,
                headline_html,
                dateline: text(f.dateline),
                places: texts(f.place_name),
                date: date.map_or_else(String::new, |d| d.to_string()),
                issue: doc
                    .get_first(f.issue)
                    .and_then(|v| v.as_u64())
                    .and_then(|n| u32::try_from(n).ok()),
                url,
                snippet_html,
                access: text(f.access),
                tags: texts(f.tag),
                countries: texts(f.country),
                slug,
            });
        }
        Ok(hits)
    }

    /// Stories like the one with `slug` (more-like-this on headline and text),
    /// best first, without itself.
    pub fn related(&self, slug: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        let snapshot = self.snapshot();
        let searcher = &snapshot.searcher;
        let f = self.inner.fields;
        let this_story = TermQuery::new(
            Term::from_field_text(f.slug, slug),
            IndexRecordOption::Basic,
        );
        let found = searcher.search(&this_story, &TopDocs::with_limit(1).order_by_score())?;
        let Some(&(_, address)) = found.first() else {
            return Ok(Vec::new());
        };
        let doc: TantivyDocument = searcher.doc(address)?;
        let value = |field| -> Vec<OwnedValue> {
            doc.get_all(field)
                .filter_map(|v| v.as_str().map(|s| OwnedValue::Str(s.to_owned())))
                .collect()
        };
        let max_doc_frequency = (searcher.num_docs() / 5).max(2);
        let like = MoreLikeThisQuery::builder()
            .with_min_doc_frequency(2)
            .with_max_doc_frequency(max_doc_frequency)
            .with_min_term_frequency(1)
            .with_min_word_length(3)
            .with_max_query_terms(16)
            .with_document_fields(vec![
                (f.headline, value(f.headline)),
                (f.body, value(f.body)),
            ]);
        let query = BooleanQuery::new(vec![
            (Occur::Should, Box::new(like) as Box<dyn Query>),
            (Occur::MustNot, Box::new(this_story)),
        ]);
        let top = TopDocs::with_limit(limit.clamp(1, MAX_LIMIT)).order_by((
            (SortBySimilarityScore, Order::Desc),
            (
                SortByStaticFastValue::<u64>::for_field("newest"),
                Order::Desc,
            ),
        ));
        let found = searcher.search(&query, &top)?;
        let addresses: Vec<DocAddress> = found.into_iter().map(|x| x.1).collect();
        self.hits(searcher, &AllQuery, &addresses, false)
    }
}

fn payload(seq: i64) -> String {
    serde_json::json!({ "seq": seq, "schema": SCHEMA_VERSION }).to_string()
}

fn remove_other_versions(root: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path != keep
            && path.is_dir()
            && name.starts_with('v')
            && name[1..].bytes().all(|b| b.is_ascii_digit())
        {
            tracing::info!(dir = %path.display(), "removing a search index of another schema version");
            if let Err(e) = std::fs::remove_dir_all(&path) {
                tracing::warn!(dir = %path.display(), error = %e, "cannot remove an old search index");
            }
        }
    }
}

/// `KZ`, `kz`, `Kazakhstan`, `Kazakh SSR` → `KZ`.
fn country_code(input: &str) -> Result<String, QueryError> {
    let input = input.trim();
    if input.len() == 2 && input.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Ok(input.to_ascii_uppercase());
    }
    gazetteer()
        .country_code(&input.to_lowercase())
        .map(str::to_owned)
        .ok_or_else(|| QueryError::UnknownCountry(input.chars().take(100).collect()))
}

/// Published-issue status of each issue met, looked up once.
#[derive(Default)]
struct IssueStatuses(HashMap<u32, Option<IssueStatus>>);

impl IssueStatuses {
    /// Only stories of published issues (or of none) are for visitors.
    async fn is_public<S: PublicSite + ?Sized>(
        &mut self,
        store: &S,
        story: &Story,
    ) -> Result<bool, StoreError> {
        let Some(issue) = story.issue else {
            return Ok(true);
        };
        let status = match self.0.get(&issue.number) {
            Some(status) => *status,
            None => {
                let status = store.issue(issue.number).await?.map(|i| i.status);
                self.0.insert(issue.number, status);
                status
            }
        };
        Ok(matches!(status, None | Some(IssueStatus::Published)))
    }
}

/// `text` (or, when `excerpt`, the best passage of it) HTML-escaped, with the
/// words `generator` matched in `<mark>`; `None` when nothing matched.
fn marked(generator: &SnippetGenerator, text: &str, excerpt: bool) -> Option<String> {
    let snippet = generator.snippet(text);
    if snippet.highlighted().is_empty() {
        return None;
    }
    let fragment = snippet.fragment_range();
    let (start, end) = if excerpt {
        (fragment.start, fragment.end)
    } else {
        (0, text.len())
    };
    let mut html = String::with_capacity(end - start + 64);
    // Show where a passage was cut from a longer text.
    let cut = |part: &str| part.chars().any(char::is_alphanumeric);
    if cut(&text[..start]) {
        html.push_str("… ");
    }
    let mut at = start;
    for range in snippet.highlighted() {
        let (from, to) = (fragment.start + range.start, fragment.start + range.end);
        if from < at || to > end {
            continue;
        }
        let gap = &text[at..from];
        // Adjacent matches (a phrase) read as one mark.
        if html.ends_with("</mark>") && gap.trim().is_empty() {
            html.truncate(html.len() - "</mark>".len());
            html.push_str(&escape(gap));
        } else {
            html.push_str(&escape(gap));
            html.push_str("<mark>");
        }
        html.push_str(&escape(&text[from..to]));
        html.push_str("</mark>");
        at = to;
    }
    html.push_str(&escape(&text[at..end]));
    if cut(&text[end..]) {
        html.push_str(" …");
    }
    Some(html.trim().to_owned())
}

/// The first `max` characters of `text`, cut at a word, with an ellipsis.
fn lead(text: &str, max: usize) -> String {
    let first = text.split("\n\n").next().unwrap_or_default();
    if first.chars().count() <= max {
        return first.to_owned();
    }
    let cut: String = first.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}
