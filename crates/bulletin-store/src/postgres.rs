//! The PostgreSQL backend: several bulletin instances may share one database.
//!
//! Batches are written with one statement per table, the rows passed as arrays and
//! expanded with `unnest`, so a batch costs a handful of round trips whatever its
//! size.
//!
//! ## Why every writing transaction takes an advisory lock
//!
//! The change log's `seq` comes from an identity sequence, and PostgreSQL hands out
//! sequence values when rows are inserted, not when transactions commit. Two writers
//! A and B could take seqs 10 and 11, B commit first, and a follower reading
//! `changes_since(9)` would see 11, remember it, and never see 10 once A commits.
//! So each writing transaction first takes `pg_advisory_xact_lock(WRITE_LOCK)`:
//! writers run one at a time, each one's seqs are above every committed seq, and the
//! log grows in commit order with no holes that fill in later. The lock is released
//! by commit or rollback (or by the connection closing).

use std::collections::HashMap;
use std::str::FromStr;

use async_trait::async_trait;
use bulletin_core::staff::{Role, User};
use bulletin_core::{Issue, IssueStatus, Publication, Story, Tag};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, QueryBuilder, Row as _, Transaction};

use crate::common::{
    self, Backend, Children, Existing, NewChange, Piece, Row, Select, StoryRow, TxCache, corrupt,
    parse_date, revision,
};
use crate::{
    Change, Counts, ImportTx, NewDraft, NewSubscriber, PutOutcome, Redirect, RestorePart, Result,
    Revision, Store, StoryIndexEntry, StoryPage, StoryQuery, SubscriberPut,
};

/// The advisory lock key every writing transaction takes: "bulletin" in ASCII.
pub const WRITE_LOCK: i64 = 0x6275_6c6c_6574_696e;

const STORY_COLUMNS: &str = "id, slug, headline, dateline_date::text AS dateline_date, \
     year_inferred, credit, places, body, tags, countries, issue_id, issue_number, \
     issue_date::text AS issue_date, issue_position, first_published, copyright_holder, \
     copyright_year, access";

/// [`STORY_COLUMNS`] of `stories s`, for listings that join it.
const LIST_COLUMNS: &str = "s.id, s.slug, s.headline, s.dateline_date::text AS dateline_date, \
     s.year_inferred, s.credit, s.places, s.body, s.tags, s.countries, s.issue_id, \
     s.issue_number, s.issue_date::text AS issue_date, s.issue_position, s.first_published, \
     s.copyright_holder, s.copyright_year, s.access";

/// The PostgreSQL store.
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `postgres://...`, migrates the database and seeds the
    /// publication.
    pub async fn open(url: &str) -> Result<PgStore> {
        let options = PgConnectOptions::from_str(url)?.application_name("bulletin");
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let p = Publication::default();
        sqlx::query(
            "INSERT INTO publication (id, name, credit, base_url, time_zone, copyright, updated_at)
             VALUES (1, $1, $2, $3, $4, $5, now()) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&p.name)
        .bind(&p.credit)
        .bind(&p.base_url)
        .bind(&p.time_zone)
        .bind(&p.copyright)
        .execute(&pool)
        .await?;
        Ok(PgStore { pool })
    }

    /// A transaction holding the write lock (see the module documentation).
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITE_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

fn story_row(row: &PgRow) -> Result<StoryRow> {
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
        issue_position: i64::from(row.try_get::<i32, _>("issue_position")?),
        first_published: row.try_get("first_published")?,
        copyright_holder: row.try_get("copyright_holder")?,
        copyright_year: i64::from(row.try_get::<i16, _>("copyright_year")?),
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

const ISSUE_COLUMNS: &str = "id, number, date::text AS date, status";

/// `TIMESTAMPTZ` as RFC 3339 in UTC, like SQLite's text timestamps.
macro_rules! rfc3339 {
    ($column:literal) => {
        concat!(
            "to_char(",
            $column,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        )
    };
}

const CHANGE_COLUMNS: &str = concat!("seq, entity, key, op, ", rfc3339!("at"), " AS at");

fn change(row: &PgRow) -> Result<Change> {
    Ok(Change {
        seq: row.try_get("seq")?,
        entity: row.try_get("entity")?,
        key: row.try_get("key")?,
        op: row.try_get("op")?,
        at: row.try_get("at")?,
    })
}

/// A query made of [`common::listing`]'s pieces.
fn build(pieces: Vec<Piece>) -> QueryBuilder<Postgres> {
    let mut qb = QueryBuilder::new("");
    for piece in pieces {
        match piece {
            Piece::Sql(sql) => {
                qb.push(sql);
            }
            // The planner's statistics already favour the primary key there.
            Piece::Unindexed(column) => {
                qb.push(column);
            }
            Piece::Int(n) => {
                qb.push_bind(n);
            }
            Piece::Text(t) => {
                qb.push_bind(t);
            }
            Piece::Date(d) => {
                qb.push_bind(d).push("::date");
            }
        }
    }
    qb
}

fn issue_head(row: &PgRow, stories: Vec<String>) -> Result<Issue> {
    let date: Option<String> = row.try_get("date")?;
    Ok(Issue {
        number: issue_number(row.try_get("number")?)?,
        date: date.as_deref().map(parse_date).transpose()?,
        status: issue_status(row.try_get("status")?)?,
        stories,
    })
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
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
        let changed = sqlx::query(
            "UPDATE publication SET name = $1, credit = $2, base_url = $3, time_zone = $4,
                 copyright = $5, updated_at = now()
             WHERE id = 1 AND (name, credit, base_url, time_zone, copyright)
                 IS DISTINCT FROM ($1, $2, $3, $4, $5)",
        )
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
                 VALUES ('publication', 'publication', 'update', now())",
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn begin_import(&self) -> Result<Box<dyn ImportTx + '_>> {
        Ok(Box::new(PgImport {
            tx: self.begin_write().await?,
            cache: TxCache::default(),
        }))
    }

    async fn story(&self, slug: &str) -> Result<Option<Story>> {
        let sql = format!("SELECT {STORY_COLUMNS} FROM stories WHERE slug = $1");
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
        let sql = format!("SELECT {ISSUE_COLUMNS} FROM issues ORDER BY number");
        let issues = sqlx::query(sqlx::AssertSqlSafe(sql))
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
        let sql = format!("SELECT {ISSUE_COLUMNS} FROM issues WHERE number = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(number))
            .fetch_optional(&self.pool)
            .await?;
        self.with_stories(row).await
    }

    async fn latest_issue(&self) -> Result<Option<Issue>> {
        // Walks issues_newest and stops at the first issue that stories_by_issue
        // says is not empty. (`i.date`: a bare `date` would be the text column
        // of the select list, which no index serves.)
        let sql = format!(
            "SELECT {ISSUE_COLUMNS} FROM issues i
             WHERE i.status = 'published'
                 AND EXISTS (SELECT 1 FROM stories s WHERE s.issue_id = i.id)
             ORDER BY i.date DESC NULLS LAST, i.number DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_optional(&self.pool)
            .await?;
        self.with_stories(row).await
    }

    async fn neighbour_issues(&self, number: u32) -> Result<(Option<u32>, Option<u32>)> {
        let row = sqlx::query(
            "SELECT (SELECT number FROM issues WHERE number < $1 AND status = 'published'
                        ORDER BY number DESC LIMIT 1)
                        AS previous,
                    (SELECT number FROM issues WHERE number > $1 AND status = 'published'
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
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT code, count(*) FROM story_countries
             GROUP BY code ORDER BY code COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(c, n)| (c, count(n))).collect())
    }

    async fn places(&self) -> Result<Vec<(String, u64)>> {
        // Byte order, as in SQLite, whatever the database's collation.
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT place, count(*) FROM story_places
             GROUP BY place ORDER BY place COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(p, n)| (p, count(n))).collect())
    }

    async fn months(&self) -> Result<Vec<(i16, i8, u64)>> {
        // Days first (cheap to group), then the few thousand days into months.
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT min(d)::text, sum(n)::int8 FROM (
                 SELECT dateline_date AS d, count(*) AS n FROM stories GROUP BY dateline_date
             ) days
             GROUP BY date_trunc('month', d)",
        )
        .fetch_all(&self.pool)
        .await?;
        common::months_from(rows)
    }

    async fn revisions(&self, slug: &str) -> Result<Vec<Revision>> {
        let rows = sqlx::query(
            "SELECT r.number, r.content::text AS content,
                    to_char(r.replaced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')
                        AS replaced_at
             FROM revisions r JOIN stories s ON s.id = r.story_id
             WHERE s.slug = $1 ORDER BY r.number",
        )
        .bind(slug)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let number: i32 = row.try_get("number")?;
                let content: String = row.try_get("content")?;
                revision(i64::from(number), &content, row.try_get("replaced_at")?)
            })
            .collect()
    }

    async fn counts(&self) -> Result<Counts> {
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM stories) AS stories,
                    (SELECT count(*) FROM issues) AS issues,
                    (SELECT count(*) FROM tags) AS tags,
                    (SELECT count(*) FROM revisions) AS revisions,
                    (SELECT min(dateline_date) FROM stories)::text AS first_date,
                    (SELECT max(dateline_date) FROM stories)::text AS last_date",
        )
        .fetch_one(&self.pool)
        .await?;
        // Distinct years by skipping through the date index a year at a time.
        let years: Vec<i32> = sqlx::query_scalar(
            "WITH RECURSIVE y(d) AS (
                 SELECT max(dateline_date) FROM stories
                 UNION ALL
                 SELECT (SELECT max(dateline_date) FROM stories
                         WHERE dateline_date < date_trunc('year', y.d)::date)
                 FROM y WHERE y.d IS NOT NULL)
             SELECT extract(year FROM d)::int4 FROM y WHERE d IS NOT NULL ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?;
        let years = years
            .into_iter()
            .map(|y| i16::try_from(y).map_err(|_| corrupt(format_args!("year {y}"))))
            .collect::<Result<Vec<i16>>>()?;
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
        // An index-only scan of stories_by_id (migration 0002) where the
        // visibility map allows: skipping rows does not visit the stories. The
        // columns are formatted outside, or every skipped row would be too.
        let rows: Vec<(String, String, String)> = sqlx::query_as(concat!(
            "SELECT slug, dateline_date::text, ",
            rfc3339!("updated_at"),
            " FROM (SELECT id, slug, dateline_date, updated_at FROM stories
                    ORDER BY id LIMIT $1 OFFSET $2) page
              ORDER BY id"
        ))
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
        let sql =
            format!("SELECT {CHANGE_COLUMNS} FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(change).collect()
    }

    async fn last_change(&self) -> Result<i64> {
        // One step down the primary key index.
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM changes ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(seq.unwrap_or(0))
    }

    async fn latest_change(&self) -> Result<Option<Change>> {
        let sql = format!("SELECT {CHANGE_COLUMNS} FROM changes ORDER BY seq DESC LIMIT 1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(change).transpose()
    }

    async fn create_user(&self, email: &str, role: Role, password_hash: &str) -> Result<User> {
        let row = sqlx::query(concat!(
            "INSERT INTO users (email, role, password_hash, created_at, updated_at)
             VALUES ($1, $2, $3, now(), now())
             RETURNING id, email, role, disabled, ",
            rfc3339!("created_at"),
            " AS created_at"
        ))
        .bind(email)
        .bind(role.as_str())
        .bind(password_hash)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| common::duplicate(e, "account", email))?;
        user_row(&row)
    }

    async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(concat!(
            "SELECT id, email, role, disabled, ",
            rfc3339!("created_at"),
            " AS created_at FROM users ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_row).collect()
    }

    async fn user_credentials(&self, email: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(concat!(
            "SELECT id, email, role, disabled, password_hash, ",
            rfc3339!("created_at"),
            " AS created_at FROM users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((user_row(&row)?, row.try_get("password_hash")?)))
            .transpose()
    }

    async fn set_user_disabled(&self, email: &str, disabled: bool) -> Result<bool> {
        let done =
            sqlx::query("UPDATE users SET disabled = $1, updated_at = now() WHERE email = $2")
                .bind(disabled)
                .bind(email)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_password_hash(&self, email: &str, password_hash: &str) -> Result<bool> {
        let done =
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = now() WHERE email = $2")
                .bind(password_hash)
                .bind(email)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }
}

impl PgStore {
    /// The issue of `row` (from `issues`) with its stories' slugs in issue order.
    async fn with_stories(&self, row: Option<PgRow>) -> Result<Option<Issue>> {
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        let stories: Vec<String> = sqlx::query_scalar(
            "SELECT slug FROM stories WHERE issue_id = $1 ORDER BY issue_position, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(issue_head(&row, stories)?))
    }
}

struct PgImport {
    tx: Transaction<'static, Postgres>,
    cache: TxCache,
}

#[async_trait]
impl ImportTx for PgImport {
    async fn put_stories(&mut self, stories: Vec<Story>) -> Result<Vec<PutOutcome>> {
        let batches = common::prepare(stories)?;
        let total = batches.iter().map(Vec::len).sum();
        let mut out = vec![None; total];
        let mut ops = Ops { conn: &mut self.tx };
        for batch in &batches {
            if let Err(e) = common::put_batch(&mut ops, &mut self.cache, batch, &mut out).await {
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
        let id: Option<i64> =
            sqlx::query_scalar("DELETE FROM stories WHERE slug = $1 RETURNING id")
                .bind(slug)
                .fetch_optional(&mut *self.tx)
                .await?;
        let Some(id) = id else {
            return Ok(false);
        };
        // The side tables carry no foreign keys (see migrations/postgres/0001).
        for sql in [
            "DELETE FROM story_tags WHERE story_id = $1",
            "DELETE FROM story_countries WHERE story_id = $1",
            "DELETE FROM story_places WHERE story_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *self.tx).await?;
        }
        log_change(&mut self.tx, "story", slug, "delete").await?;
        Ok(true)
    }

    async fn set_issue_status(&mut self, number: u32, status: IssueStatus) -> Result<bool> {
        let updated =
            sqlx::query("UPDATE issues SET status = $1, publish_at = NULL, updated_at = now() WHERE number = $2")
                .bind(status.as_str())
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

struct Ops<'t> {
    conn: &'t mut PgConnection,
}

async fn log_change(conn: &mut PgConnection, entity: &str, key: &str, op: &str) -> Result<()> {
    sqlx::query("INSERT INTO changes (entity, key, op, at) VALUES ($1, $2, $3, now())")
        .bind(entity)
        .bind(key)
        .bind(op)
        .execute(conn)
        .await?;
    Ok(())
}

fn strings<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    items.collect()
}

#[async_trait]
impl Backend for Ops<'_> {
    async fn lookup_existing(&mut self, keys: &[&str]) -> Result<Vec<Existing>> {
        let rows = sqlx::query(
            "SELECT id, natural_key, slug, content_hash, issue_id, issue_number, issue_position
             FROM stories WHERE natural_key = ANY($1::text[])",
        )
        .bind(keys)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Existing {
                    id: row.try_get("id")?,
                    key: row.try_get("natural_key")?,
                    slug: row.try_get("slug")?,
                    hash: row.try_get("content_hash")?,
                    issue_id: row.try_get("issue_id")?,
                    issue_number: row.try_get("issue_number")?,
                    position: i64::from(row.try_get::<i32, _>("issue_position")?),
                })
            })
            .collect()
    }

    async fn load_issues(&mut self, numbers: &[u32]) -> Result<Vec<common::LoadedIssue>> {
        let numbers: Vec<i64> = numbers.iter().map(|n| i64::from(*n)).collect();
        let rows = sqlx::query(
            "SELECT i.id, i.number, i.date::text AS date, i.status,
                    coalesce((SELECT max(s.issue_position) FROM stories s WHERE s.issue_id = i.id),
                             0)::int8 AS max_position
             FROM issues i WHERE i.number = ANY($1::int8[])",
        )
        .bind(&numbers)
        .fetch_all(&mut *self.conn)
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
        let numbers: Vec<i64> = issues.iter().map(|(n, _)| i64::from(*n)).collect();
        let dates: Vec<Option<&str>> = issues.iter().map(|(_, d)| d.as_deref()).collect();
        let rows = sqlx::query(
            "INSERT INTO issues (number, date, status, created_at, updated_at)
             SELECT u.n, u.d::date, 'published', now(), now()
             FROM unnest($1::int8[], $2::text[]) AS u(n, d)
             RETURNING id, number",
        )
        .bind(&numbers)
        .bind(&dates)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, issue_number(row.try_get("number")?)?)))
            .collect()
    }

    async fn update_issue_date(&mut self, id: i64, date: &str) -> Result<()> {
        sqlx::query("UPDATE issues SET date = $1::date, updated_at = now() WHERE id = $2")
            .bind(date)
            .bind(id)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn load_tags(&mut self, names: &[&str]) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT id, name FROM tags WHERE name = ANY($1::text[])")
            .bind(names)
            .fetch_all(&mut *self.conn)
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
        let names = strings(tags.iter().map(|(n, _)| n.as_str()));
        let slugs = strings(tags.iter().map(|(_, s)| s.as_str()));
        let rows = sqlx::query(
            "INSERT INTO tags (name, slug, created_at)
             SELECT u.name, u.slug, now() FROM unnest($1::text[], $2::text[]) AS u(name, slug)
             RETURNING id, name",
        )
        .bind(&names)
        .bind(&slugs)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("name")?)))
            .collect()
    }

    async fn taken_slugs(&mut self, bases: &[&str]) -> Result<Vec<String>> {
        // The slug index (byte order, COLLATE "C") answers both halves: equality,
        // and the range of slugs starting with "base-" ('.' follows '-').
        Ok(sqlx::query_scalar(
            "SELECT s.slug FROM unnest($1::text[]) AS b(base) JOIN stories s ON s.slug = b.base
             UNION ALL
             SELECT s.slug FROM unnest($1::text[]) AS b(base) JOIN stories s
               ON s.slug > (b.base || '-') COLLATE \"C\" AND s.slug < (b.base || '.') COLLATE \"C\"",
        )
        .bind(bases)
        .fetch_all(&mut *self.conn)
        .await?)
    }

    async fn fetch_stories(&mut self, ids: &[i64]) -> Result<Vec<(i64, Story)>> {
        let sql = format!("SELECT {STORY_COLUMNS} FROM stories WHERE id = ANY($1::int8[])");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ids)
            .fetch_all(&mut *self.conn)
            .await?;
        rows.iter()
            .map(|row| {
                let r = story_row(row)?;
                Ok((r.id, r.into_story()?))
            })
            .collect()
    }

    async fn insert_revisions(&mut self, revisions: &[(i64, String)]) -> Result<()> {
        let ids: Vec<i64> = revisions.iter().map(|(id, _)| *id).collect();
        let contents = strings(revisions.iter().map(|(_, c)| c.as_str()));
        sqlx::query(
            "INSERT INTO revisions (story_id, number, content, replaced_at)
             SELECT u.id,
                    coalesce((SELECT max(r.number) FROM revisions r WHERE r.story_id = u.id), 0) + 1,
                    u.content::jsonb, now()
             FROM unnest($1::int8[], $2::text[]) AS u(id, content)",
        )
        .bind(&ids)
        .bind(&contents)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn insert_stories(&mut self, rows: &[Row<'_>]) -> Result<Vec<(i64, String)>> {
        let a = Arrays::new(rows);
        let out = sqlx::query(
            "INSERT INTO stories (slug, natural_key, headline, dateline_date, year_inferred,
                 credit, places, body, tags, countries, issue_id, issue_number, issue_date,
                 issue_position, first_published, copyright_holder, copyright_year, access,
                 content_hash, created_at, updated_at)
             SELECT u.slug, u.natural_key, u.headline, u.dateline_date::date, u.year_inferred,
                 u.credit, u.places, u.body, u.tags, u.countries, u.issue_id, u.issue_number,
                 u.issue_date::date, u.issue_position, u.first_published, u.copyright_holder,
                 u.copyright_year, u.access, u.content_hash, now(), now()
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::text[],
                 $7::text[], $8::text[], $9::text[], $10::text[], $11::int8[], $12::int8[],
                 $13::text[], $14::int4[], $15::bool[], $16::text[], $17::int2[], $18::text[],
                 $19::int8[])
               AS u(slug, natural_key, headline, dateline_date, year_inferred, credit, places,
                 body, tags, countries, issue_id, issue_number, issue_date, issue_position,
                 first_published, copyright_holder, copyright_year, access, content_hash)
             RETURNING id, natural_key",
        )
        .bind(&a.slug)
        .bind(&a.natural_key)
        .bind(&a.headline)
        .bind(&a.dateline_date)
        .bind(&a.year_inferred)
        .bind(&a.credit)
        .bind(&a.places)
        .bind(&a.body)
        .bind(&a.tags)
        .bind(&a.countries)
        .bind(&a.issue_id)
        .bind(&a.issue_number)
        .bind(&a.issue_date)
        .bind(&a.issue_position)
        .bind(&a.first_published)
        .bind(&a.copyright_holder)
        .bind(&a.copyright_year)
        .bind(&a.access)
        .bind(&a.content_hash)
        .fetch_all(&mut *self.conn)
        .await?;
        out.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("natural_key")?)))
            .collect()
    }

    async fn update_stories(&mut self, rows: &[Row<'_>]) -> Result<()> {
        let a = Arrays::new(rows);
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        sqlx::query(
            "UPDATE stories SET headline = u.headline, dateline_date = u.dateline_date::date,
                 year_inferred = u.year_inferred, credit = u.credit, places = u.places,
                 body = u.body, tags = u.tags, countries = u.countries, issue_id = u.issue_id,
                 issue_number = u.issue_number, issue_date = u.issue_date::date,
                 issue_position = u.issue_position, first_published = u.first_published,
                 copyright_holder = u.copyright_holder, copyright_year = u.copyright_year,
                 access = u.access, content_hash = u.content_hash, updated_at = now()
             FROM unnest($1::int8[], $2::text[], $3::text[], $4::bool[], $5::text[],
                 $6::text[], $7::text[], $8::text[], $9::text[], $10::int8[], $11::int8[],
                 $12::text[], $13::int4[], $14::bool[], $15::text[], $16::int2[], $17::text[],
                 $18::int8[])
               AS u(id, headline, dateline_date, year_inferred, credit, places, body, tags,
                 countries, issue_id, issue_number, issue_date, issue_position, first_published,
                 copyright_holder, copyright_year, access, content_hash)
             WHERE stories.id = u.id",
        )
        .bind(&ids)
        .bind(&a.headline)
        .bind(&a.dateline_date)
        .bind(&a.year_inferred)
        .bind(&a.credit)
        .bind(&a.places)
        .bind(&a.body)
        .bind(&a.tags)
        .bind(&a.countries)
        .bind(&a.issue_id)
        .bind(&a.issue_number)
        .bind(&a.issue_date)
        .bind(&a.issue_position)
        .bind(&a.first_published)
        .bind(&a.copyright_holder)
        .bind(&a.copyright_year)
        .bind(&a.access)
        .bind(&a.content_hash)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn delete_children(&mut self, story_ids: &[i64]) -> Result<()> {
        for sql in [
            "DELETE FROM story_tags WHERE story_id = ANY($1::int8[])",
            "DELETE FROM story_countries WHERE story_id = ANY($1::int8[])",
            "DELETE FROM story_places WHERE story_id = ANY($1::int8[])",
        ] {
            sqlx::query(sql)
                .bind(story_ids)
                .execute(&mut *self.conn)
                .await?;
        }
        Ok(())
    }

    async fn insert_children(
        &mut self,
        stories: &[(i64, &Story)],
        tags: &HashMap<String, i64>,
    ) -> Result<()> {
        let c = &Children::of(stories, tags)?;
        if !c.tags.is_empty() {
            let ids: Vec<i64> = c.tags.iter().map(|t| t.0).collect();
            let positions: Vec<i32> = c.tags.iter().map(|t| t.1).collect();
            let tags: Vec<i64> = c.tags.iter().map(|t| t.2).collect();
            sqlx::query(
                "INSERT INTO story_tags (story_id, position, tag_id, dateline_date, issue_number,
                     issue_position)
                 SELECT u.id, u.position, u.value, s.dateline_date, s.issue_number,
                     s.issue_position
                 FROM unnest($1::int8[], $2::int4[], $3::int8[]) AS u(id, position, value)
                     JOIN stories s ON s.id = u.id",
            )
            .bind(&ids)
            .bind(&positions)
            .bind(&tags)
            .execute(&mut *self.conn)
            .await?;
        }
        for (sql, rows) in [
            (
                "INSERT INTO story_countries (story_id, position, code, dateline_date,
                     issue_number, issue_position)
                 SELECT u.id, u.position, u.value, s.dateline_date, s.issue_number,
                     s.issue_position
                 FROM unnest($1::int8[], $2::int4[], $3::text[]) AS u(id, position, value)
                     JOIN stories s ON s.id = u.id",
                &c.countries,
            ),
            (
                "INSERT INTO story_places (story_id, position, place, dateline_date,
                     issue_number, issue_position)
                 SELECT u.id, u.position, u.value, s.dateline_date, s.issue_number,
                     s.issue_position
                 FROM unnest($1::int8[], $2::int4[], $3::text[]) AS u(id, position, value)
                     JOIN stories s ON s.id = u.id",
                &c.places,
            ),
        ] {
            if rows.is_empty() {
                continue;
            }
            let ids: Vec<i64> = rows.iter().map(|t| t.0).collect();
            let positions: Vec<i32> = rows.iter().map(|t| t.1).collect();
            let values = strings(rows.iter().map(|t| t.2.as_str()));
            sqlx::query(sql)
                .bind(&ids)
                .bind(&positions)
                .bind(&values)
                .execute(&mut *self.conn)
                .await?;
        }
        Ok(())
    }

    async fn insert_changes(&mut self, changes: &[NewChange]) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let entities = strings(changes.iter().map(|c| c.entity));
        let keys = strings(changes.iter().map(|c| c.key.as_str()));
        let ops = strings(changes.iter().map(|c| c.op));
        // ORDER BY the array position: seqs follow the planner's order.
        sqlx::query(
            "INSERT INTO changes (entity, key, op, at)
             SELECT u.entity, u.key, u.op, now()
             FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(entity, key, op, n)
             ORDER BY u.n",
        )
        .bind(&entities)
        .bind(&keys)
        .bind(&ops)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }
}

/// The columns of a set of story rows, as arrays for `unnest`.
struct Arrays<'a> {
    slug: Vec<&'a str>,
    natural_key: Vec<&'a str>,
    headline: Vec<&'a str>,
    dateline_date: Vec<&'a str>,
    year_inferred: Vec<bool>,
    credit: Vec<&'a str>,
    places: Vec<&'a str>,
    body: Vec<&'a str>,
    tags: Vec<&'a str>,
    countries: Vec<&'a str>,
    issue_id: Vec<Option<i64>>,
    issue_number: Vec<i64>,
    issue_date: Vec<Option<&'a str>>,
    issue_position: Vec<i32>,
    first_published: Vec<bool>,
    copyright_holder: Vec<&'a str>,
    copyright_year: Vec<i16>,
    access: Vec<&'static str>,
    content_hash: Vec<i64>,
}

impl<'a> Arrays<'a> {
    fn new(rows: &'a [Row<'a>]) -> Arrays<'a> {
        Arrays {
            slug: rows.iter().map(|r| r.slug).collect(),
            natural_key: rows.iter().map(|r| r.p.key.as_str()).collect(),
            headline: rows.iter().map(|r| r.p.story.headline.as_str()).collect(),
            dateline_date: rows.iter().map(|r| r.p.date.as_str()).collect(),
            year_inferred: rows
                .iter()
                .map(|r| r.p.story.dateline.year_inferred)
                .collect(),
            credit: rows
                .iter()
                .map(|r| r.p.story.dateline.credit.as_str())
                .collect(),
            places: rows.iter().map(|r| r.p.places.as_str()).collect(),
            body: rows.iter().map(|r| r.p.body.as_str()).collect(),
            tags: rows.iter().map(|r| r.p.tags.as_str()).collect(),
            countries: rows.iter().map(|r| r.p.countries.as_str()).collect(),
            issue_id: rows.iter().map(|r| r.issue_id).collect(),
            issue_number: rows.iter().map(|r| r.issue_number).collect(),
            issue_date: rows.iter().map(|r| r.p.issue_date.as_deref()).collect(),
            // Positions are small; an absurd one saturates rather than wraps.
            issue_position: rows
                .iter()
                .map(|r| i32::try_from(r.position).unwrap_or(i32::MAX))
                .collect(),
            first_published: rows.iter().map(|r| r.p.story.first_published).collect(),
            copyright_holder: rows
                .iter()
                .map(|r| r.p.story.copyright.holder.as_str())
                .collect(),
            copyright_year: rows.iter().map(|r| r.p.story.copyright.year).collect(),
            access: rows.iter().map(|r| r.access()).collect(),
            content_hash: rows.iter().map(|r| r.p.hash).collect(),
        }
    }
}

fn user_row(row: &PgRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).ok_or_else(|| corrupt(format_args!("role {role:?}")))?,
        disabled: row.try_get("disabled")?,
        created_at: row.try_get("created_at")?,
    })
}

impl crate::newsroom::Backend for PgStore {
    type Db = Postgres;
    const DATE_TYPE: &'static str = "DATE";
    const TIME_TYPE: &'static str = "TIMESTAMPTZ";
    const JSON_TYPE: &'static str = "JSONB";
    const SKIP_LOCKED: &'static str = "FOR UPDATE SKIP LOCKED";
    fn time_text(column: &str) -> String {
        format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
    }
}

crate::newsroom::newsroom_impl!(PgStore, PgImport);
