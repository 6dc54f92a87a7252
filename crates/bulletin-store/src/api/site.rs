//! What the public site and the search index read: the publication, public
//! stories and their listings, issues, tags, the archives by place, country and
//! month, and the change log they follow.

use async_trait::async_trait;
use bulletin_core::{Date, Issue, IssueStatus, Publication, Story, Tag};

use crate::Result;

/// Which stories to list (and, for [`PublicSite::count_stories`], count).
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

/// The public read side of the store: what pages, feeds and the search index
/// read.
///
/// Every story these methods read is public: unpublished stories live in the
/// newsroom's tables ([`Newsroom`](crate::Newsroom)), which only the admin area reads. Issues are
/// listed whatever their status (each says its own); the site shows published ones.
#[async_trait]
pub trait PublicSite: Send + Sync {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;

    /// The store's migrations against this release's (for `bulletin migrate`
    /// and the readiness check).
    async fn schema_status(&self) -> Result<crate::SchemaStatus>;

    /// The connection pool now: connections open, and how many of them idle.
    fn pool_connections(&self) -> (u32, usize);

    async fn publication(&self) -> Result<Publication>;

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
    /// reads every story's slug; pages should use [`PublicSite::issue`],
    /// [`PublicSite::latest_issue`] and [`PublicSite::neighbour_issues`].
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
    /// public needs, without [`PublicSite::issues`]' story lists.
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
    /// show it on every page should cache it (keyed by [`PublicSite::last_change`]).
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
}
