//! The SQLite backend: one file, WAL journal, one writer at a time.
//!
//! Writing transactions start with `BEGIN IMMEDIATE`, so a writer takes the write
//! lock up front (waiting up to the busy timeout for another process) instead of
//! failing halfway when it upgrades from reading. SQLite serialises writers, so the
//! change log's `seq` grows in commit order without further ado.
//!
//! The SQL both backends share is `src/sql/`, compiled here as [`sql`]; this
//! module keeps what is SQLite's own: opening, the write lock, the batch writer
//! ([`batch`]), deleting a story, and the [`Dialect`].

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row as _, Sqlite, SqlitePool, Transaction};

use self::batch::SqliteBatch;
use self::sql::{log_change, seed_publication};
use crate::dialect::Dialect;
use crate::import_plan::TxCache;
use crate::rows::parse_date;
use crate::{Result, StoreError};

mod batch;
// The SQL both backends share: the same files, compiled once per backend.
#[allow(
    clippy::duplicate_mod,
    reason = "each backend compiles the shared SQL for itself"
)]
#[path = "../sql/mod.rs"]
mod sql;

// What the shared SQL (`src/sql/`) works on.
type BackendStore = SqliteStore;
type BackendImport = SqliteImport;
type Db = Sqlite;

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// The SQLite store.
pub struct SqliteStore {
    pool: SqlitePool,
}

/// This release's SQLite migrations.
fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("./migrations/sqlite")
}

impl SqliteStore {
    /// Opens `sqlite://PATH` (creating the file and its directories) or
    /// `sqlite::memory:`, migrates it and seeds the publication.
    pub async fn open(url: &str) -> Result<SqliteStore> {
        SqliteStore::open_with(url, crate::Migrations::Run).await
    }

    /// [`SqliteStore::open`], choosing what happens to the schema.
    pub async fn open_with(url: &str, migrations: crate::Migrations) -> Result<SqliteStore> {
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
            let dir = Path::new(path).parent().unwrap_or(Path::new("."));
            let opened = async {
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    // When SQLite ends a transaction itself (a full disk), the
                    // rollback sqlx sends fails and the connection would come
                    // back "in a transaction" that no longer exists, failing its
                    // next use: close it instead.
                    .after_release(|conn, _| {
                        Box::pin(async move {
                            use sqlx::Connection as _;
                            Ok(!conn.is_in_transaction())
                        })
                    })
                    .connect_with(options)
                    .await?;
                Self::prepare(&pool, migrations).await?;
                Ok(pool)
            };
            // SQLite says "disk I/O error" when it cannot grow its shared-memory
            // file: say what it was.
            return match opened.await {
                Ok(pool) => Ok(SqliteStore { pool }),
                Err(e) if crate::error::disk_is_full(dir) => Err(StoreError::DiskFull {
                    path: dir.to_owned(),
                    source: Box::new(e),
                }),
                Err(e) => Err(e),
            };
        };
        Self::prepare(&pool, migrations).await?;
        Ok(SqliteStore { pool })
    }

    /// Migrates the store and seeds the publication.
    async fn prepare(pool: &SqlitePool, migrations: crate::Migrations) -> Result<()> {
        sql::schema::prepare_schema(pool, migrator(), migrations).await?;
        seed_publication(pool).await
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// An open import (or newsroom) transaction.
struct SqliteImport {
    tx: Transaction<'static, Sqlite>,
    cache: TxCache,
}

fn batch_writer(conn: &mut SqliteConnection) -> SqliteBatch<'_> {
    SqliteBatch::new(conn, now())
}

/// Deletes a story; its side rows and revisions go with it (ON DELETE CASCADE).
async fn delete_story(import: &mut SqliteImport, slug: &str) -> Result<bool> {
    let deleted = sqlx::query("DELETE FROM stories WHERE slug = $1")
        .bind(slug)
        .execute(&mut *import.tx)
        .await?
        .rows_affected();
    if deleted > 0 {
        log_change(&mut import.tx, "story", slug, "delete").await?;
    }
    Ok(deleted > 0)
}

/// An INTEGER column (PostgreSQL: INT4).
fn read_int4(row: &SqliteRow, column: &str) -> Result<i64> {
    Ok(row.try_get(column)?)
}

/// An INTEGER column (PostgreSQL: INT2).
fn read_int2(row: &SqliteRow, column: &str) -> Result<i64> {
    Ok(row.try_get(column)?)
}

/// The distinct dateline years, ascending, by skipping through the date index
/// a year at a time.
async fn years(pool: &SqlitePool) -> Result<Vec<i16>> {
    let dates: Vec<String> = sqlx::query_scalar(
        "WITH RECURSIVE y(d) AS (
             SELECT max(dateline_date) FROM stories
             UNION ALL
             SELECT (SELECT max(dateline_date) FROM stories
                     WHERE dateline_date < substr(y.d, 1, length(y.d) - 6) || '-01-01')
             FROM y WHERE y.d IS NOT NULL)
         SELECT d FROM y WHERE d IS NOT NULL",
    )
    .fetch_all(pool)
    .await?;
    let mut years = dates
        .iter()
        .map(|d| parse_date(d).map(|d| d.year()))
        .collect::<Result<Vec<i16>>>()?;
    years.sort_unstable();
    years.dedup();
    Ok(years)
}

impl Dialect for SqliteStore {
    const NAME: &'static str = "sqlite";
    const MIGRATIONS_TABLE_EXISTS: &'static str = "SELECT EXISTS (SELECT 1 FROM sqlite_master \
         WHERE type = 'table' AND name = '_sqlx_migrations')";
    const DATE_TYPE: &'static str = "TEXT";
    const TIME_TYPE: &'static str = "TEXT";
    const JSON_TYPE: &'static str = "TEXT";
    const BEGIN_LOCKING: &'static str = "BEGIN IMMEDIATE";
    const SKIP_LOCKED: &'static str = "";
    // SQLite compares text bytewise.
    const BYTE_ORDER: &'static str = "";
    const STORY_COLUMNS: &'static str = "id, slug, headline, dateline_date, year_inferred, \
         credit, places, body, tags, countries, issue_id, issue_number, issue_date, \
         issue_position, first_published, copyright_holder, copyright_year, access";
    const LIST_COLUMNS: &'static str = "s.id, s.slug, s.headline, s.dateline_date, \
         s.year_inferred, s.credit, s.places, s.body, s.tags, s.countries, s.issue_id, \
         s.issue_number, s.issue_date, s.issue_position, s.first_published, \
         s.copyright_holder, s.copyright_year, s.access";
    const ISSUE_COLUMNS: &'static str = "id, number, date, status";
    const CHANGE_COLUMNS: &'static str = "seq, entity, key, op, at";
    const USER_COLUMNS: &'static str = "id, email, role, disabled, created_at";
    // NULL dates sort last in descending order.
    const LATEST_ISSUE_ORDER: &'static str = "date DESC, number DESC";
    // The inner GROUP BY follows the date index with no sorting; the outer one
    // folds days (a few thousand rows) into months. Every date ends in "-DD".
    const MONTHS: &'static str = "SELECT min(d), sum(n) FROM (
             SELECT dateline_date AS d, count(*) AS n FROM stories GROUP BY dateline_date)
         GROUP BY substr(d, 1, length(d) - 3)";
    const REVISIONS: &'static str = "SELECT r.number, r.content, r.replaced_at FROM revisions r
         JOIN stories s ON s.id = r.story_id WHERE s.slug = $1 ORDER BY r.number";
    const COUNTS: &'static str = "SELECT (SELECT count(*) FROM stories) AS stories,
                (SELECT count(*) FROM issues) AS issues,
                (SELECT count(*) FROM tags) AS tags,
                (SELECT count(*) FROM revisions) AS revisions,
                (SELECT min(dateline_date) FROM stories) AS first_date,
                (SELECT max(dateline_date) FROM stories) AS last_date";
    // Served by the narrow covering index stories_by_id (migration 0002), so
    // skipping rows does not read the bodies.
    const STORY_INDEX: &'static str =
        "SELECT slug, dateline_date, updated_at FROM stories ORDER BY id LIMIT $1 OFFSET $2";

    const UNINDEXED_PREFIX: &'static str = "+";
    const DATE_PARAM_CAST: &'static str = "";
    const PUBLICATION_DIFFERS: &'static str = "NOT (name = $1 AND credit = $2 AND base_url = $3 \
         AND time_zone = $4 AND copyright = $5 AND language = $6 AND copyright_holder = $7 \
         AND default_access = $8 AND sender_name = $9)";

    fn time_text(column: &str) -> String {
        column.to_owned()
    }

    fn now_sql(param: usize) -> String {
        format!("${param}")
    }

    fn clock() -> Option<String> {
        Some(now())
    }
}
