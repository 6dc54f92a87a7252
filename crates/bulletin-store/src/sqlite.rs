//! The SQLite backend: one file, WAL journal, one writer at a time.
//!
//! Writing transactions start with `BEGIN IMMEDIATE`, so a writer takes the write
//! lock up front (waiting up to the busy timeout for another process) instead of
//! failing halfway when it upgrades from reading. SQLite serialises writers, so the
//! change log's `seq` grows in commit order without further ado.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use bulletin_core::staff::{Role, User};
use bulletin_core::{Issue, IssueStatus, Publication, Story, Tag};
use sqlx::query_builder::Separated;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row as _, Sqlite, SqlitePool, Transaction};

use crate::common::{
    self, Backend, Existing, NewChange, Piece, Row, Select, StoryRow, TxCache, corrupt, parse_date,
    revision,
};
use crate::{
    Change, Counts, ImportTx, NewDraft, NewSubscriber, PutOutcome, Redirect, RestorePart, Result,
    Revision, Store, StoreError, StoryIndexEntry, StoryPage, StoryQuery, SubscriberPut,
};

/// SQLite's limit on bound parameters per statement.
const MAX_VARS: usize = 32766;

const STORY_COLUMNS: &str = "id, slug, headline, dateline_date, year_inferred, credit, places, \
     body, tags, countries, issue_id, issue_number, issue_date, issue_position, \
     first_published, copyright_holder, copyright_year, access";

/// [`STORY_COLUMNS`] of `stories s`, for listings that join it.
const LIST_COLUMNS: &str = "s.id, s.slug, s.headline, s.dateline_date, s.year_inferred, \
     s.credit, s.places, s.body, s.tags, s.countries, s.issue_id, s.issue_number, \
     s.issue_date, s.issue_position, s.first_published, s.copyright_holder, \
     s.copyright_year, s.access";

fn json_array(items: &[&str]) -> String {
    // Serialising strings cannot fail.
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// The SQLite store.
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens `sqlite://PATH` (creating the file and its directories) or
    /// `sqlite::memory:`, migrates it and seeds the publication.
    pub async fn open(url: &str) -> Result<SqliteStore> {
        let options = SqliteConnectOptions::new()
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30))
            .pragma("temp_store", "memory")
            // 8 MiB of page cache per connection: up to eight readers serve the
            // site, and a million-story archive must stay well under 200 MB.
            .pragma("cache_size", "-8192")
            // Batch inserts are large prepared statements, one per distinct row
            // count; sqlx's default cache of 100 per connection let them hold over
            // 100 MB during a big import. A small cache keeps memory flat.
            .statement_cache_capacity(16);
        let pool = if url == "sqlite::memory:" {
            // Every connection to :memory: is its own database: keep exactly one,
            // forever. (A write transaction then holds the only connection.)
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options.in_memory(true))
                .await?
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .ok_or_else(|| StoreError::UnsupportedUrl(url.to_owned()))?;
            if path.is_empty() {
                return Err(StoreError::UnsupportedUrl(url.to_owned()));
            }
            if let Some(dir) = Path::new(path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
            }
            let options = options
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
            SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await?
        };
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let p = Publication::default();
        sqlx::query(
            "INSERT INTO publication (id, name, credit, base_url, time_zone, copyright, updated_at)
             VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&p.name)
        .bind(&p.credit)
        .bind(&p.base_url)
        .bind(&p.time_zone)
        .bind(&p.copyright)
        .bind(now())
        .execute(&pool)
        .await?;
        Ok(SqliteStore { pool })
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

fn story_row(row: &SqliteRow) -> Result<StoryRow> {
    Ok(StoryRow {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        headline: row.try_get("headline")?,
        dateline_date: row.try_get("dateline_date")?,
        year_inferred: row.try_get("year_inferred")?,
        credit: row.try_get("credit")?,
        places: row.try_get("places")?,
        body: row.try_get("body")?,
        tags: row.try_get("tags")?,
        countries: row.try_get("countries")?,
        issue_id: row.try_get("issue_id")?,
        issue_number: row.try_get("issue_number")?,
        issue_date: row.try_get("issue_date")?,
        issue_position: row.try_get("issue_position")?,
        first_published: row.try_get("first_published")?,
        copyright_holder: row.try_get("copyright_holder")?,
        copyright_year: row.try_get("copyright_year")?,
        access: row.try_get("access")?,
    })
}

fn issue_number(n: i64) -> Result<u32> {
    u32::try_from(n).map_err(|_| corrupt(format_args!("issue number {n}")))
}

fn issue_status(s: &str) -> Result<IssueStatus> {
    IssueStatus::parse(s).ok_or_else(|| corrupt(format_args!("issue status {s:?}")))
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A query made of [`common::listing`]'s pieces.
fn build(pieces: Vec<Piece>) -> QueryBuilder<Sqlite> {
    let mut qb = QueryBuilder::new("");
    for piece in pieces {
        match piece {
            Piece::Sql(sql) => {
                qb.push(sql);
            }
            Piece::Unindexed(column) => {
                qb.push(format_args!("+{column}"));
            }
            Piece::Int(n) => {
                qb.push_bind(n);
            }
            Piece::Text(t) | Piece::Date(t) => {
                qb.push_bind(t);
            }
        }
    }
    qb
}

fn change(row: &SqliteRow) -> Result<Change> {
    Ok(Change {
        seq: row.try_get("seq")?,
        entity: row.try_get("entity")?,
        key: row.try_get("key")?,
        op: row.try_get("op")?,
        at: row.try_get("at")?,
    })
}

fn issue_head(row: &SqliteRow, stories: Vec<String>) -> Result<Issue> {
    let date: Option<String> = row.try_get("date")?;
    Ok(Issue {
        number: issue_number(row.try_get("number")?)?,
        date: date.as_deref().map(parse_date).transpose()?,
        status: issue_status(row.try_get("status")?)?,
        stories,
    })
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn publication(&self) -> Result<Publication> {
        let row = sqlx::query(
            "SELECT name, credit, base_url, time_zone, copyright FROM publication WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| corrupt("the publication row is missing"))?;
        Ok(Publication {
            name: row.try_get("name")?,
            credit: row.try_get("credit")?,
            base_url: row.try_get("base_url")?,
            time_zone: row.try_get("time_zone")?,
            copyright: row.try_get("copyright")?,
        })
    }

    async fn set_publication(&self, p: &Publication) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let at = now();
        let changed = sqlx::query(
            "UPDATE publication SET name = ?, credit = ?, base_url = ?, time_zone = ?,
                 copyright = ?, updated_at = ?
             WHERE id = 1 AND NOT (name = ? AND credit = ? AND base_url = ? AND time_zone = ?
                 AND copyright = ?)",
        )
        .bind(&p.name)
        .bind(&p.credit)
        .bind(&p.base_url)
        .bind(&p.time_zone)
        .bind(&p.copyright)
        .bind(&at)
        .bind(&p.name)
        .bind(&p.credit)
        .bind(&p.base_url)
        .bind(&p.time_zone)
        .bind(&p.copyright)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed > 0 {
            sqlx::query(
                "INSERT INTO changes (entity, key, op, at)
                 VALUES ('publication', 'publication', 'update', ?)",
            )
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn begin_import(&self) -> Result<Box<dyn ImportTx + '_>> {
        Ok(Box::new(SqliteImport {
            tx: self.begin_write().await?,
            cache: TxCache::default(),
        }))
    }

    async fn story(&self, slug: &str) -> Result<Option<Story>> {
        let sql = format!("SELECT {STORY_COLUMNS} FROM stories WHERE slug = ?");
        match sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
        {
            Some(row) => Ok(Some(story_row(&row)?.into_story()?)),
            None => Ok(None),
        }
    }

    async fn stories(&self, query: &StoryQuery) -> Result<StoryPage> {
        let limit = common::page_size(query.limit);
        let select = Select::Page {
            columns: LIST_COLUMNS,
            limit,
        };
        let mut qb = build(common::listing(query, select)?);
        let rows = qb.build().fetch_all(&self.pool).await?;
        let rows = rows.iter().map(story_row).collect::<Result<Vec<_>>>()?;
        common::into_page(rows, limit)
    }

    async fn count_stories(&self, query: &StoryQuery) -> Result<u64> {
        let mut qb = build(common::listing(query, Select::Count)?);
        let n: i64 = qb.build_query_scalar().fetch_one(&self.pool).await?;
        Ok(count(n))
    }

    async fn issues(&self) -> Result<Vec<Issue>> {
        let issues = sqlx::query("SELECT id, number, date, status FROM issues ORDER BY number")
            .fetch_all(&self.pool)
            .await?;
        let slugs = sqlx::query(
            "SELECT issue_id, slug FROM stories WHERE issue_id IS NOT NULL
             ORDER BY issue_number, issue_position, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut by_issue: HashMap<i64, Vec<String>> = HashMap::new();
        for row in slugs {
            by_issue
                .entry(row.try_get("issue_id")?)
                .or_default()
                .push(row.try_get("slug")?);
        }
        issues
            .iter()
            .map(|row| {
                let id: i64 = row.try_get("id")?;
                issue_head(row, by_issue.remove(&id).unwrap_or_default())
            })
            .collect()
    }

    async fn issue(&self, number: u32) -> Result<Option<Issue>> {
        let row = sqlx::query("SELECT id, number, date, status FROM issues WHERE number = ?")
            .bind(i64::from(number))
            .fetch_optional(&self.pool)
            .await?;
        self.with_stories(row).await
    }

    async fn latest_issue(&self) -> Result<Option<Issue>> {
        // Walks issues_newest (NULL dates sort last in descending order) and stops
        // at the first issue that stories_by_issue says is not empty.
        let row = sqlx::query(
            "SELECT id, number, date, status FROM issues i
             WHERE i.status = 'published'
                 AND EXISTS (SELECT 1 FROM stories s WHERE s.issue_id = i.id)
             ORDER BY date DESC, number DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        self.with_stories(row).await
    }

    async fn neighbour_issues(&self, number: u32) -> Result<(Option<u32>, Option<u32>)> {
        let row = sqlx::query(
            "SELECT (SELECT number FROM issues WHERE number < ?1 AND status = 'published'
                        ORDER BY number DESC LIMIT 1)
                        AS previous,
                    (SELECT number FROM issues WHERE number > ?1 AND status = 'published'
                        ORDER BY number LIMIT 1)
                        AS next",
        )
        .bind(i64::from(number))
        .fetch_one(&self.pool)
        .await?;
        let previous: Option<i64> = row.try_get("previous")?;
        let next: Option<i64> = row.try_get("next")?;
        Ok((
            previous.map(issue_number).transpose()?,
            next.map(issue_number).transpose()?,
        ))
    }

    async fn issue_statuses(&self) -> Result<Vec<(u32, IssueStatus)>> {
        let rows = sqlx::query("SELECT number, status FROM issues ORDER BY number")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    issue_number(row.try_get("number")?)?,
                    issue_status(row.try_get("status")?)?,
                ))
            })
            .collect()
    }

    async fn tags(&self) -> Result<Vec<(Tag, u64)>> {
        let rows = sqlx::query(
            "SELECT t.name, t.slug, t.description,
                    (SELECT count(*) FROM story_tags st WHERE st.tag_id = t.id) AS n
             FROM tags t ORDER BY t.name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    Tag {
                        name: row.try_get("name")?,
                        slug: row.try_get("slug")?,
                        description: row.try_get("description")?,
                    },
                    count(row.try_get("n")?),
                ))
            })
            .collect()
    }

    async fn countries(&self) -> Result<Vec<(String, u64)>> {
        // One pass over story_countries_newest (one row per story and code).
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT code, count(*) FROM story_countries
             GROUP BY code ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(c, n)| (c, count(n))).collect())
    }

    async fn places(&self) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT place, count(*) FROM story_places
             GROUP BY place ORDER BY place",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(p, n)| (p, count(n))).collect())
    }

    async fn months(&self) -> Result<Vec<(i16, i8, u64)>> {
        // The inner GROUP BY follows the date index with no sorting; the outer one
        // folds days (a few thousand rows) into months. Every date ends in "-DD".
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT min(d), sum(n) FROM (
                 SELECT dateline_date AS d, count(*) AS n FROM stories GROUP BY dateline_date)
             GROUP BY substr(d, 1, length(d) - 3)",
        )
        .fetch_all(&self.pool)
        .await?;
        common::months_from(rows)
    }

    async fn revisions(&self, slug: &str) -> Result<Vec<Revision>> {
        let rows = sqlx::query(
            "SELECT r.number, r.content, r.replaced_at FROM revisions r
             JOIN stories s ON s.id = r.story_id WHERE s.slug = ? ORDER BY r.number",
        )
        .bind(slug)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let number: i64 = row.try_get("number")?;
                let content: String = row.try_get("content")?;
                revision(number, &content, row.try_get("replaced_at")?)
            })
            .collect()
    }

    async fn counts(&self) -> Result<Counts> {
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM stories) AS stories,
                    (SELECT count(*) FROM issues) AS issues,
                    (SELECT count(*) FROM tags) AS tags,
                    (SELECT count(*) FROM revisions) AS revisions,
                    (SELECT min(dateline_date) FROM stories) AS first_date,
                    (SELECT max(dateline_date) FROM stories) AS last_date",
        )
        .fetch_one(&self.pool)
        .await?;
        // Distinct years by skipping through the date index a year at a time.
        let years: Vec<String> = sqlx::query_scalar(
            "WITH RECURSIVE y(d) AS (
                 SELECT max(dateline_date) FROM stories
                 UNION ALL
                 SELECT (SELECT max(dateline_date) FROM stories
                         WHERE dateline_date < substr(y.d, 1, length(y.d) - 6) || '-01-01')
                 FROM y WHERE y.d IS NOT NULL)
             SELECT d FROM y WHERE d IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut years = years
            .iter()
            .map(|d| parse_date(d).map(|d| d.year()))
            .collect::<Result<Vec<i16>>>()?;
        years.sort_unstable();
        years.dedup();
        let first: Option<String> = row.try_get("first_date")?;
        let last: Option<String> = row.try_get("last_date")?;
        Ok(Counts {
            stories: count(row.try_get("stories")?),
            issues: count(row.try_get("issues")?),
            tags: count(row.try_get("tags")?),
            revisions: count(row.try_get("revisions")?),
            years,
            first_date: first.as_deref().map(parse_date).transpose()?,
            last_date: last.as_deref().map(parse_date).transpose()?,
        })
    }

    async fn story_index(&self, offset: u64, limit: u32) -> Result<Vec<StoryIndexEntry>> {
        // Served by the narrow covering index stories_by_id (migration 0002), so
        // skipping rows does not read the bodies.
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT slug, dateline_date, updated_at FROM stories ORDER BY id LIMIT ? OFFSET ?",
        )
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(slug, date, updated_at)| {
                let date = parse_date(&date)?;
                Ok(StoryIndexEntry {
                    url: common::story_url(date, &slug),
                    slug,
                    date,
                    updated_at,
                })
            })
            .collect()
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<Change>> {
        let rows = sqlx::query(
            "SELECT seq, entity, key, op, at FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(change).collect()
    }

    async fn last_change(&self) -> Result<i64> {
        // `seq` is the rowid: one step down the table's b-tree.
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM changes ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(seq.unwrap_or(0))
    }

    async fn latest_change(&self) -> Result<Option<Change>> {
        let row =
            sqlx::query("SELECT seq, entity, key, op, at FROM changes ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(change).transpose()
    }

    async fn create_user(&self, email: &str, role: Role, password_hash: &str) -> Result<User> {
        let row = sqlx::query(
            "INSERT INTO users (email, role, password_hash, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?)
             RETURNING id, email, role, disabled, created_at",
        )
        .bind(email)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now())
        .bind(now())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| common::duplicate(e, "account", email))?;
        user_row(&row)
    }

    async fn users(&self) -> Result<Vec<User>> {
        let rows =
            sqlx::query("SELECT id, email, role, disabled, created_at FROM users ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(user_row).collect()
    }

    async fn user_credentials(&self, email: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(
            "SELECT id, email, role, disabled, created_at, password_hash FROM users
             WHERE email = ?",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((user_row(&row)?, row.try_get("password_hash")?)))
            .transpose()
    }

    async fn set_user_disabled(&self, email: &str, disabled: bool) -> Result<bool> {
        let done = sqlx::query("UPDATE users SET disabled = ?, updated_at = ? WHERE email = ?")
            .bind(disabled)
            .bind(now())
            .bind(email)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_password_hash(&self, email: &str, password_hash: &str) -> Result<bool> {
        let done =
            sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE email = ?")
                .bind(password_hash)
                .bind(now())
                .bind(email)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }
}

impl SqliteStore {
    /// The issue of `row` (from `issues`) with its stories' slugs in issue order.
    async fn with_stories(&self, row: Option<SqliteRow>) -> Result<Option<Issue>> {
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        let stories: Vec<String> = sqlx::query_scalar(
            "SELECT slug FROM stories WHERE issue_id = ? ORDER BY issue_position, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(issue_head(&row, stories)?))
    }
}

struct SqliteImport {
    tx: Transaction<'static, Sqlite>,
    cache: TxCache,
}

#[async_trait]
impl ImportTx for SqliteImport {
    async fn put_stories(&mut self, stories: Vec<Story>) -> Result<Vec<PutOutcome>> {
        let batches = common::prepare(stories)?;
        let total = batches.iter().map(Vec::len).sum();
        let mut out = vec![None; total];
        let mut ops = Ops {
            conn: &mut self.tx,
            now: now(),
        };
        for batch in &batches {
            if let Err(e) = common::put_batch(&mut ops, &mut self.cache, batch, &mut out).await {
                // The caches may no longer match the database.
                self.cache = TxCache::default();
                return Err(e);
            }
        }
        out.into_iter()
            .map(|o| o.ok_or_else(|| corrupt("a story got no outcome")))
            .collect()
    }

    async fn put_tags(&mut self, tags: Vec<Tag>) -> Result<()> {
        self.put_tags_sql(tags).await
    }

    async fn put_drafts(&mut self, drafts: Vec<NewDraft>, now: i64) -> Result<Vec<String>> {
        self.put_drafts_sql(drafts, now).await
    }

    async fn put_redirects(&mut self, redirects: Vec<Redirect>, now: i64) -> Result<()> {
        self.put_redirects_sql(redirects, now).await
    }

    async fn restore(&mut self, part: RestorePart) -> Result<()> {
        self.restore_sql(part).await
    }

    async fn put_subscribers(
        &mut self,
        subscribers: Vec<NewSubscriber>,
        now: i64,
    ) -> Result<Vec<SubscriberPut>> {
        self.put_subscribers_sql(subscribers, now).await
    }

    async fn delete_story(&mut self, slug: &str) -> Result<bool> {
        // Side tables and revisions go with the story (ON DELETE CASCADE).
        let deleted = sqlx::query("DELETE FROM stories WHERE slug = ?")
            .bind(slug)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
        if deleted > 0 {
            log_change(&mut self.tx, "story", slug, "delete").await?;
        }
        Ok(deleted > 0)
    }

    async fn set_issue_status(&mut self, number: u32, status: IssueStatus) -> Result<bool> {
        let updated = sqlx::query(
            "UPDATE issues SET status = ?, publish_at = NULL, updated_at = ? WHERE number = ?",
        )
        .bind(status.as_str())
        .bind(now())
        .bind(i64::from(number))
        .execute(&mut *self.tx)
        .await?
        .rows_affected();
        if updated > 0 {
            log_change(&mut self.tx, "issue", &number.to_string(), "update").await?;
        }
        Ok(updated > 0)
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}

async fn log_change(
    conn: &mut sqlx::SqliteConnection,
    entity: &str,
    key: &str,
    op: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO changes (entity, key, op, at) VALUES (?, ?, ?, ?)")
        .bind(entity)
        .bind(key)
        .bind(op)
        .bind(now())
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs `INSERT ... VALUES (...), (...) [tail]` over `items`, as many rows per
/// statement as the parameter limit allows; returns any `RETURNING` rows.
async fn insert_values<T>(
    conn: &mut SqliteConnection,
    head: &str,
    columns: usize,
    tail: &str,
    items: &[T],
    mut bind: impl FnMut(&mut Separated<'_, Sqlite, &'static str>, &T),
) -> Result<Vec<SqliteRow>> {
    let mut rows = Vec::new();
    for chunk in items.chunks((MAX_VARS / columns).max(1)) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(head);
        qb.push_values(chunk, |mut sep, item| bind(&mut sep, item));
        qb.push(tail);
        rows.extend(qb.build().fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

/// Runs `head (?, ?, ...) tail` over `items` in chunks.
async fn select_in<T: Clone + Send + for<'q> sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite>>(
    conn: &mut SqliteConnection,
    head: &str,
    tail: &str,
    items: &[T],
) -> Result<Vec<SqliteRow>> {
    let mut rows = Vec::new();
    for chunk in items.chunks(MAX_VARS - 10) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(head);
        qb.push(" (");
        let mut sep = qb.separated(", ");
        for item in chunk {
            sep.push_bind(item.clone());
        }
        qb.push(")");
        qb.push(tail);
        rows.extend(qb.build().fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

struct Ops<'t> {
    conn: &'t mut SqliteConnection,
    now: String,
}

#[async_trait]
impl Backend for Ops<'_> {
    async fn lookup_existing(&mut self, keys: &[&str]) -> Result<Vec<Existing>> {
        // One JSON row instead of a row per story: sqlx hands SQLite rows over one by
        // one between threads, which costs more than the query itself.
        let json: String = sqlx::query_scalar(
            "SELECT json_group_array(json_array(s.id, s.natural_key, s.slug, s.content_hash,
                                                s.issue_id, s.issue_number, s.issue_position))
             FROM json_each(?) k CROSS JOIN stories s ON s.natural_key = k.value",
        )
        .bind(json_array(keys))
        .fetch_one(&mut *self.conn)
        .await?;
        type Tuple = (i64, String, String, i64, Option<i64>, i64, i64);
        let rows: Vec<Tuple> =
            serde_json::from_str(&json).map_err(|e| corrupt(format_args!("lookup: {e}")))?;
        Ok(rows
            .into_iter()
            .map(
                |(id, key, slug, hash, issue_id, issue_number, position)| Existing {
                    id,
                    key,
                    slug,
                    hash,
                    issue_id,
                    issue_number,
                    position,
                },
            )
            .collect())
    }

    async fn load_issues(&mut self, numbers: &[u32]) -> Result<Vec<common::LoadedIssue>> {
        let numbers: Vec<i64> = numbers.iter().map(|n| i64::from(*n)).collect();
        let rows = select_in(
            self.conn,
            "SELECT i.id, i.number, i.date, i.status,
                    coalesce((SELECT max(s.issue_position) FROM stories s WHERE s.issue_id = i.id), 0)
                        AS max_position
             FROM issues i WHERE i.number IN",
            "",
            &numbers,
        )
        .await?;
        rows.iter()
            .map(|row| {
                let date: Option<String> = row.try_get("date")?;
                Ok(common::LoadedIssue {
                    id: row.try_get("id")?,
                    number: issue_number(row.try_get("number")?)?,
                    date: date.as_deref().map(parse_date).transpose()?,
                    status: issue_status(row.try_get("status")?)?,
                    max_position: row.try_get("max_position")?,
                })
            })
            .collect()
    }

    async fn insert_issues(&mut self, issues: &[(u32, Option<String>)]) -> Result<Vec<(i64, u32)>> {
        let now = self.now.clone();
        let rows = insert_values(
            self.conn,
            "INSERT INTO issues (number, date, status, created_at, updated_at) ",
            4,
            " RETURNING id, number",
            issues,
            |sep, (number, date)| {
                sep.push_bind(i64::from(*number))
                    .push_bind(date.clone())
                    .push("'published'")
                    .push_bind(now.clone())
                    .push_bind(now.clone());
            },
        )
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, issue_number(row.try_get("number")?)?)))
            .collect()
    }

    async fn update_issue_date(&mut self, id: i64, date: &str) -> Result<()> {
        sqlx::query("UPDATE issues SET date = ?, updated_at = ? WHERE id = ?")
            .bind(date)
            .bind(&self.now)
            .bind(id)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn load_tags(&mut self, names: &[&str]) -> Result<Vec<(i64, String)>> {
        let rows = select_in(
            self.conn,
            "SELECT id, name FROM tags WHERE name IN",
            "",
            names,
        )
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("name")?)))
            .collect()
    }

    async fn all_tag_slugs(&mut self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT slug FROM tags")
            .fetch_all(&mut *self.conn)
            .await?)
    }

    async fn insert_tags(&mut self, tags: &[(String, String)]) -> Result<Vec<(i64, String)>> {
        let now = self.now.clone();
        let rows = insert_values(
            self.conn,
            "INSERT INTO tags (name, slug, created_at) ",
            3,
            " RETURNING id, name",
            tags,
            |sep, (name, slug)| {
                sep.push_bind(name.clone())
                    .push_bind(slug.clone())
                    .push_bind(now.clone());
            },
        )
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("name")?)))
            .collect()
    }

    async fn taken_slugs(&mut self, bases: &[&str]) -> Result<Vec<String>> {
        // The slug index answers both halves: equality, and the range of slugs that
        // start with "base-" ('.' follows '-' in byte order).
        let json: String = sqlx::query_scalar(
            "SELECT json_group_array(slug) FROM (
                 SELECT s.slug FROM json_each(?1) b CROSS JOIN stories s ON s.slug = b.value
                 UNION ALL
                 SELECT s.slug FROM json_each(?1) b CROSS JOIN stories s
                   ON s.slug > b.value || '-' AND s.slug < b.value || '.')",
        )
        .bind(json_array(bases))
        .fetch_one(&mut *self.conn)
        .await?;
        serde_json::from_str(&json).map_err(|e| corrupt(format_args!("slugs: {e}")))
    }

    async fn fetch_stories(&mut self, ids: &[i64]) -> Result<Vec<(i64, Story)>> {
        let rows = select_in(
            self.conn,
            &format!("SELECT {STORY_COLUMNS} FROM stories WHERE id IN"),
            "",
            ids,
        )
        .await?;
        rows.iter()
            .map(|row| {
                let r = story_row(row)?;
                Ok((r.id, r.into_story()?))
            })
            .collect()
    }

    async fn insert_revisions(&mut self, revisions: &[(i64, String)]) -> Result<()> {
        let now = self.now.clone();
        insert_values(
            self.conn,
            "INSERT INTO revisions (story_id, number, content, replaced_at) ",
            4,
            "",
            revisions,
            |sep, (id, content)| {
                sep.push_bind(*id)
                    .push("(SELECT coalesce(max(r.number), 0) + 1 FROM revisions r WHERE r.story_id = ")
                    .push_bind_unseparated(*id)
                    .push_unseparated(")")
                    .push_bind(content.clone())
                    .push_bind(now.clone());
            },
        )
        .await?;
        Ok(())
    }

    async fn insert_stories(&mut self, rows: &[Row<'_>]) -> Result<Vec<(i64, String)>> {
        // This transaction is the only writer, so it may number the rows itself and
        // skip `RETURNING` (a row handed back per story).
        let first: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM stories")
            .fetch_one(&mut *self.conn)
            .await?;
        let now = self.now.clone();
        let numbered: Vec<(i64, &Row<'_>)> = (first..).zip(rows).collect();
        insert_values(
            self.conn,
            "INSERT INTO stories (id, slug, natural_key, headline, dateline_date, year_inferred,
                 credit, places, body, tags, countries, issue_id, issue_number, issue_date,
                 issue_position, first_published, copyright_holder, copyright_year, access,
                 content_hash, created_at, updated_at) ",
            22,
            "",
            &numbered,
            |sep, (id, r)| {
                let s = &r.p.story;
                sep.push_bind(*id)
                    .push_bind(r.slug.to_owned())
                    .push_bind(r.p.key.clone())
                    .push_bind(s.headline.clone())
                    .push_bind(r.p.date.clone())
                    .push_bind(s.dateline.year_inferred)
                    .push_bind(s.dateline.credit.clone())
                    .push_bind(r.p.places.clone())
                    .push_bind(r.p.body.clone())
                    .push_bind(r.p.tags.clone())
                    .push_bind(r.p.countries.clone())
                    .push_bind(r.issue_id)
                    .push_bind(r.issue_number)
                    .push_bind(r.p.issue_date.clone())
                    .push_bind(r.position)
                    .push_bind(s.first_published)
                    .push_bind(s.copyright.holder.clone())
                    .push_bind(i64::from(s.copyright.year))
                    .push_bind(r.access())
                    .push_bind(r.p.hash)
                    .push_bind(now.clone())
                    .push_bind(now.clone());
            },
        )
        .await?;
        Ok(numbered
            .iter()
            .map(|(id, r)| (*id, r.p.key.clone()))
            .collect())
    }

    async fn update_stories(&mut self, rows: &[Row<'_>]) -> Result<()> {
        let now = self.now.clone();
        insert_values(
            self.conn,
            "WITH v(id, headline, dateline_date, year_inferred, credit, places, body, tags,
                    countries, issue_id, issue_number, issue_date, issue_position,
                    first_published, copyright_holder, copyright_year, access, content_hash,
                    updated_at) AS (",
            19,
            ") UPDATE stories SET headline = v.headline, dateline_date = v.dateline_date,
                 year_inferred = v.year_inferred, credit = v.credit, places = v.places,
                 body = v.body, tags = v.tags, countries = v.countries, issue_id = v.issue_id,
                 issue_number = v.issue_number, issue_date = v.issue_date,
                 issue_position = v.issue_position, first_published = v.first_published,
                 copyright_holder = v.copyright_holder, copyright_year = v.copyright_year,
                 access = v.access, content_hash = v.content_hash, updated_at = v.updated_at
               FROM v WHERE stories.id = v.id",
            rows,
            |sep, r| {
                let s = &r.p.story;
                sep.push_bind(r.id)
                    .push_bind(s.headline.clone())
                    .push_bind(r.p.date.clone())
                    .push_bind(s.dateline.year_inferred)
                    .push_bind(s.dateline.credit.clone())
                    .push_bind(r.p.places.clone())
                    .push_bind(r.p.body.clone())
                    .push_bind(r.p.tags.clone())
                    .push_bind(r.p.countries.clone())
                    .push_bind(r.issue_id)
                    .push_bind(r.issue_number)
                    .push_bind(r.p.issue_date.clone())
                    .push_bind(r.position)
                    .push_bind(s.first_published)
                    .push_bind(s.copyright.holder.clone())
                    .push_bind(i64::from(s.copyright.year))
                    .push_bind(r.access())
                    .push_bind(r.p.hash)
                    .push_bind(now.clone());
            },
        )
        .await?;
        Ok(())
    }

    async fn delete_children(&mut self, story_ids: &[i64]) -> Result<()> {
        for table in ["story_tags", "story_countries", "story_places"] {
            select_in(
                self.conn,
                &format!("DELETE FROM {table} WHERE story_id IN"),
                "",
                story_ids,
            )
            .await?;
        }
        Ok(())
    }

    async fn insert_children(
        &mut self,
        stories: &[(i64, &Story)],
        _tags: &HashMap<String, i64>,
    ) -> Result<()> {
        // SQLite unpacks the stories' own JSON columns: one statement per table and
        // one parameter, instead of a bound row per tag, country and place. A value
        // listed twice gets one row, at its first position; each row carries its
        // story's sort key (see migrations/sqlite/0002).
        let ids = serde_json::to_string(&stories.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            .map_err(|e| corrupt(format_args!("ids: {e}")))?;
        for sql in [
            "INSERT INTO story_tags (story_id, position, tag_id, dateline_date, issue_number,
                 issue_position)
             SELECT s.id, min(j.key), t.id, s.dateline_date, s.issue_number, s.issue_position
             FROM json_each(?) i CROSS JOIN stories s ON s.id = i.value
                 CROSS JOIN json_each(s.tags) j JOIN tags t ON t.name = j.value
             GROUP BY s.id, t.id",
            "INSERT INTO story_countries (story_id, position, code, dateline_date, issue_number,
                 issue_position)
             SELECT s.id, min(j.key), j.value, s.dateline_date, s.issue_number, s.issue_position
             FROM json_each(?) i CROSS JOIN stories s ON s.id = i.value
                 CROSS JOIN json_each(s.countries) j
             GROUP BY s.id, j.value",
            "INSERT INTO story_places (story_id, position, place, dateline_date, issue_number,
                 issue_position)
             SELECT s.id, min(j.key), j.value, s.dateline_date, s.issue_number, s.issue_position
             FROM json_each(?) i CROSS JOIN stories s ON s.id = i.value
                 CROSS JOIN json_each(s.places) j
             GROUP BY s.id, j.value",
        ] {
            sqlx::query(sql).bind(&ids).execute(&mut *self.conn).await?;
        }
        Ok(())
    }

    async fn insert_changes(&mut self, changes: &[NewChange]) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let now = self.now.clone();
        insert_values(
            self.conn,
            "INSERT INTO changes (entity, key, op, at) ",
            4,
            "",
            changes,
            |sep, c| {
                sep.push_bind(c.entity)
                    .push_bind(c.key.clone())
                    .push_bind(c.op)
                    .push_bind(now.clone());
            },
        )
        .await?;
        Ok(())
    }
}

fn user_row(row: &SqliteRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).ok_or_else(|| corrupt(format_args!("role {role:?}")))?,
        disabled: row.try_get("disabled")?,
        created_at: row.try_get("created_at")?,
    })
}

impl crate::newsroom::Backend for SqliteStore {
    type Db = Sqlite;
    const DATE_TYPE: &'static str = "TEXT";
    const TIME_TYPE: &'static str = "TEXT";
    const JSON_TYPE: &'static str = "TEXT";
    const SKIP_LOCKED: &'static str = "";
    fn time_text(column: &str) -> String {
        column.to_owned()
    }
}

crate::newsroom::newsroom_impl!(SqliteStore, SqliteImport);
