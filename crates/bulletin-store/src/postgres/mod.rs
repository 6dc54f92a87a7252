//! The PostgreSQL backend: several bulletin instances may share one database.
//!
//! Batches are written with one statement per table, the rows passed as arrays and
//! expanded with `unnest`, so a batch costs a handful of round trips whatever its
//! size.
//!
//! The SQL both backends share is `src/sql/`, compiled here as [`sql`]; this
//! module keeps what is PostgreSQL's own: connecting, the write lock, the batch
//! writer ([`batch`]), deleting a story, and the [`Dialect`].
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

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row as _, Transaction};

use self::batch::PgBatch;
use self::sql::{log_change, seed_publication};
use crate::Result;
use crate::dialect::Dialect;
use crate::import_plan::TxCache;
use crate::rows::corrupt;

mod batch;
// The SQL both backends share: the same files, compiled once per backend.
#[allow(
    clippy::duplicate_mod,
    reason = "each backend compiles the shared SQL for itself"
)]
#[path = "../sql/mod.rs"]
mod sql;

// What the shared SQL (`src/sql/`) works on.
type BackendStore = PgStore;
type BackendImport = PgImport;
type Db = Postgres;

/// The advisory lock key every writing transaction takes: "bulletin" in ASCII.
pub const WRITE_LOCK: i64 = 0x6275_6c6c_6574_696e;

/// The PostgreSQL store.
pub struct PgStore {
    pool: PgPool,
}

/// This release's PostgreSQL migrations.
fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("./migrations/postgres")
}

impl PgStore {
    /// Connects to `postgres://...`, migrates the database and seeds the
    /// publication.
    pub async fn open(url: &str) -> Result<PgStore> {
        PgStore::open_with(url, crate::Migrations::Run).await
    }

    /// [`PgStore::open`], choosing what happens to the schema.
    pub async fn open_with(url: &str, migrations: crate::Migrations) -> Result<PgStore> {
        let options = PgConnectOptions::from_str(url)?.application_name("bulletin");
        let pool = PgPoolOptions::new()
            .max_connections(10)
            // While the database restarts, a request waits at most this for a
            // connection, then gets a 503 (well inside the 15 s request timeout).
            .acquire_timeout(std::time::Duration::from_secs(3))
            .connect_with(options)
            .await?;
        sql::schema::prepare_schema(&pool, migrator(), migrations).await?;
        seed_publication(&pool).await?;
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

/// An open import (or newsroom) transaction, holding the write lock.
struct PgImport {
    tx: Transaction<'static, Postgres>,
    cache: TxCache,
}

fn batch_writer(conn: &mut PgConnection) -> PgBatch<'_> {
    PgBatch::new(conn)
}

/// Deletes a story, its side rows (the side tables carry no foreign keys: see
/// migrations/postgres/0001) and, by cascade, its revisions.
async fn delete_story(import: &mut PgImport, slug: &str) -> Result<bool> {
    let id: Option<i64> = sqlx::query_scalar("DELETE FROM stories WHERE slug = $1 RETURNING id")
        .bind(slug)
        .fetch_optional(&mut *import.tx)
        .await?;
    let Some(id) = id else {
        return Ok(false);
    };
    for sql in [
        "DELETE FROM story_tags WHERE story_id = $1",
        "DELETE FROM story_countries WHERE story_id = $1",
        "DELETE FROM story_places WHERE story_id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *import.tx).await?;
    }
    log_change(&mut import.tx, "story", slug, "delete").await?;
    Ok(true)
}

/// An INT4 column (SQLite: INTEGER).
fn read_int4(row: &PgRow, column: &str) -> Result<i64> {
    Ok(i64::from(row.try_get::<i32, _>(column)?))
}

/// An INT2 column (SQLite: INTEGER).
fn read_int2(row: &PgRow, column: &str) -> Result<i64> {
    Ok(i64::from(row.try_get::<i16, _>(column)?))
}

/// The distinct dateline years, ascending, by skipping through the date index
/// a year at a time.
async fn years(pool: &PgPool) -> Result<Vec<i16>> {
    let years: Vec<i32> = sqlx::query_scalar(
        "WITH RECURSIVE y(d) AS (
             SELECT max(dateline_date) FROM stories
             UNION ALL
             SELECT (SELECT max(dateline_date) FROM stories
                     WHERE dateline_date < date_trunc('year', y.d)::date)
             FROM y WHERE y.d IS NOT NULL)
         SELECT extract(year FROM d)::int4 FROM y WHERE d IS NOT NULL ORDER BY 1",
    )
    .fetch_all(pool)
    .await?;
    years
        .into_iter()
        .map(|y| i16::try_from(y).map_err(|_| corrupt(format_args!("year {y}"))))
        .collect()
}

impl Dialect for PgStore {
    const NAME: &'static str = "postgres";
    const MIGRATIONS_TABLE_EXISTS: &'static str =
        "SELECT to_regclass('_sqlx_migrations') IS NOT NULL";
    const DATE_TYPE: &'static str = "DATE";
    const TIME_TYPE: &'static str = "TIMESTAMPTZ";
    const JSON_TYPE: &'static str = "JSONB";
    const BEGIN_LOCKING: &'static str = "BEGIN";
    const SKIP_LOCKED: &'static str = "FOR UPDATE SKIP LOCKED";
    const BYTE_ORDER: &'static str = " COLLATE \"C\"";
    const STORY_COLUMNS: &'static str = "id, slug, headline, \
         dateline_date::text AS dateline_date, year_inferred, credit, places, body, tags, \
         countries, issue_id, issue_number, issue_date::text AS issue_date, issue_position, \
         first_published, copyright_holder, copyright_year, access";
    const LIST_COLUMNS: &'static str = "s.id, s.slug, s.headline, \
         s.dateline_date::text AS dateline_date, s.year_inferred, s.credit, s.places, s.body, \
         s.tags, s.countries, s.issue_id, s.issue_number, s.issue_date::text AS issue_date, \
         s.issue_position, s.first_published, s.copyright_holder, s.copyright_year, s.access";
    const ISSUE_COLUMNS: &'static str = "id, number, date::text AS date, status";
    const CHANGE_COLUMNS: &'static str = "seq, entity, key, op, \
         to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS at";
    const USER_COLUMNS: &'static str = "id, email, role, disabled, \
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
         AS created_at";
    // `i.date`: a bare `date` would be the text column of the select list,
    // which no index serves.
    const LATEST_ISSUE_ORDER: &'static str = "i.date DESC NULLS LAST, i.number DESC";
    // Days first (cheap to group), then the few thousand days into months.
    const MONTHS: &'static str = "SELECT min(d)::text, sum(n)::int8 FROM (
             SELECT dateline_date AS d, count(*) AS n FROM stories GROUP BY dateline_date
         ) days
         GROUP BY date_trunc('month', d)";
    const REVISIONS: &'static str = "SELECT r.number, r.content::text AS content,
                to_char(r.replaced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')
                    AS replaced_at
         FROM revisions r JOIN stories s ON s.id = r.story_id
         WHERE s.slug = $1 ORDER BY r.number";
    const COUNTS: &'static str = "SELECT (SELECT count(*) FROM stories) AS stories,
                (SELECT count(*) FROM issues) AS issues,
                (SELECT count(*) FROM tags) AS tags,
                (SELECT count(*) FROM revisions) AS revisions,
                (SELECT min(dateline_date) FROM stories)::text AS first_date,
                (SELECT max(dateline_date) FROM stories)::text AS last_date";
    // An index-only scan of stories_by_id (migration 0002) where the visibility
    // map allows: skipping rows does not visit the stories. The columns are
    // formatted outside, or every skipped row would be too.
    const STORY_INDEX: &'static str = "SELECT slug, dateline_date::text, \
         to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')
         FROM (SELECT id, slug, dateline_date, updated_at FROM stories
               ORDER BY id LIMIT $1 OFFSET $2) page
         ORDER BY id";

    // The planner's statistics already favour the primary key there.
    const UNINDEXED_PREFIX: &'static str = "";
    const DATE_PARAM_CAST: &'static str = "::date";
    const PUBLICATION_DIFFERS: &'static str =
        "(name, credit, base_url, time_zone, copyright, language,
          copyright_holder, default_access, sender_name)
         IS DISTINCT FROM ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

    fn time_text(column: &str) -> String {
        format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
    }

    fn now_sql(_param: usize) -> String {
        "now()".to_owned()
    }

    fn clock() -> Option<String> {
        None
    }
}
