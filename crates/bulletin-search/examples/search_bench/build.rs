//! Step 2, building each system: bulletin's index, SQLite FTS5, PostgreSQL.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bulletin_search::SearchIndex;
use bulletin_store::Store;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{
    AssertSqlSafe, ConnectOptions as _, Connection as _, Executor as _, QueryBuilder, Row as _,
};

use crate::Result;
use crate::helpers::{cpu_seconds, file_size, mb, read_rows, secs};

#[derive(Default, Clone)]
pub(crate) struct Build {
    /// Wall-clock of the whole build (the figure).
    pub(crate) time: Duration,
    pub(crate) bytes: u64,
    /// Details: what the time went to, and more.
    pub(crate) notes: Vec<String>,
}

fn segments(meta: &Path) -> usize {
    std::fs::read_to_string(meta)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("segments").and_then(|s| s.as_array()).map(Vec::len))
        .unwrap_or(0)
}

fn meta_json(root: &Path) -> PathBuf {
    root.join(format!("v{}", bulletin_search::SCHEMA_VERSION))
        .join("meta.json")
}

pub(crate) async fn build_bulletin(
    store: &Arc<dyn Store>,
    dir: &Path,
) -> Result<(SearchIndex, Build)> {
    let root = dir.join("search");
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    let started = Instant::now();
    let index = SearchIndex::open(&root)?;
    let mut next = 0.1f64;
    let mut progress = move |done: u64, total: u64| {
        if total > 0 && done as f64 >= next * total as f64 {
            eprintln!(
                "  bulletin: indexed {done} of {total} ({:.0} s)",
                secs(started.elapsed())
            );
            next += 0.1;
        }
    };
    index.rebuild(&**store, &mut progress).await?;
    let time = started.elapsed();
    let bytes_at_commit = index.size_on_disk();
    let segments_at_commit = segments(&meta_json(&root));
    let docs = index.num_stories();

    // The writer merges segments in the background after the commit. Wait until
    // it is idle (this process uses no CPU and the directory stops changing) so
    // that the queries are not measured against merging, then reopen, as a
    // server's next catch-up would, to search the merged segments.
    let settle_started = Instant::now();
    let mut quiet = 0;
    let mut last = (cpu_seconds(), index.size_on_disk());
    while quiet < 3 && settle_started.elapsed() < Duration::from_secs(900) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = (cpu_seconds(), index.size_on_disk());
        if now.0 - last.0 < 0.05 && now.1 == last.1 {
            quiet += 1;
        } else {
            quiet = 0;
        }
        last = now;
    }
    let settled = settle_started
        .elapsed()
        .saturating_sub(Duration::from_secs(3));
    drop(index);
    let index = SearchIndex::open(&root)?;
    let bytes = index.size_on_disk();
    let build = Build {
        time,
        bytes,
        notes: vec![
            format!(
                "rebuild: {docs} stories, {segments_at_commit} segments, {:.0} MB at commit",
                mb(bytes_at_commit)
            ),
            format!(
                "background merges after the commit: busy for about {:.0} s more; then {} segments, {:.0} MB (the size reported)",
                secs(settled),
                segments(&meta_json(&root)),
                mb(bytes)
            ),
        ],
    };
    if index.num_stories() != docs {
        return Err(format!(
            "the reopened index holds {} stories, the rebuilt one {docs}",
            index.num_stories()
        )
        .into());
    }
    Ok((index, build))
}

const FTS5_TOKENIZE: &str = "porter unicode61 remove_diacritics 2";
const SQLITE_CACHE_KIB: i64 = 131_072;
const SQLITE_MMAP: i64 = 1 << 30;

fn sqlite_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .pragma("temp_store", "memory")
        .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
        .pragma("mmap_size", SQLITE_MMAP.to_string())
}

pub(crate) async fn build_fts5(
    store: &Arc<dyn Store>,
    dir: &Path,
) -> Result<(SqliteConnection, Build)> {
    let path = std::path::absolute(dir.join("fts5.db"))?;
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        if p.exists() {
            std::fs::remove_file(&p)?;
        }
    }
    let started = Instant::now();
    let mut conn = sqlite_options(&path).connect().await?;
    conn.execute(
        "CREATE TABLE stories (
             id INTEGER PRIMARY KEY,
             headline TEXT NOT NULL,
             body TEXT NOT NULL,
             meta TEXT NOT NULL,
             country TEXT NOT NULL,
             countries TEXT NOT NULL,
             day INTEGER NOT NULL
         );
         CREATE TABLE story_countries (
             code TEXT NOT NULL,
             id INTEGER NOT NULL,
             PRIMARY KEY (code, id)
         ) WITHOUT ROWID",
    )
    .await?;
    conn.execute(AssertSqlSafe(format!(
        "CREATE VIRTUAL TABLE fts USING fts5(headline, body, meta, \
         content='stories', content_rowid='id', tokenize='{FTS5_TOKENIZE}')"
    )))
    .await?;
    let mut rows = read_rows(Arc::clone(store));
    let mut loaded = 0u64;
    let mut tx = conn.begin().await?;
    while let Some(batch) = rows.recv().await {
        let batch = batch?;
        loaded += batch.len() as u64;
        // Multi-row inserts: 7 values a row, 500 rows a statement.
        for chunk in batch.chunks(500) {
            let mut qb: QueryBuilder<sqlx::Sqlite> = QueryBuilder::new(
                "INSERT INTO stories (id, headline, body, meta, country, countries, day) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.id)
                    .push_bind(&r.headline)
                    .push_bind(&r.body)
                    .push_bind(&r.meta)
                    .push_bind(&r.country)
                    .push_bind(&r.countries)
                    .push_bind(r.day);
            });
            qb.build().execute(&mut *tx).await?;
            let pairs: Vec<(&str, i64)> = chunk
                .iter()
                .flat_map(|r| {
                    r.countries
                        .split(' ')
                        .filter(|c| !c.is_empty())
                        .map(|c| (c, r.id))
                })
                .collect();
            for pairs in pairs.chunks(2_000) {
                let mut qb: QueryBuilder<sqlx::Sqlite> =
                    QueryBuilder::new("INSERT OR IGNORE INTO story_countries (code, id) ");
                qb.push_values(pairs, |mut b, (code, id)| {
                    b.push_bind(*code).push_bind(*id);
                });
                qb.build().execute(&mut *tx).await?;
            }
        }
        if loaded.is_multiple_of(100_000) {
            eprintln!("  fts5: loaded {loaded} ({:.0} s)", secs(started.elapsed()));
        }
    }
    tx.commit().await?;
    let load = started.elapsed();
    let step = Instant::now();
    conn.execute("INSERT INTO fts (fts) VALUES ('rebuild')")
        .await?;
    let rebuild = step.elapsed();
    let step = Instant::now();
    conn.execute("INSERT INTO fts (fts) VALUES ('optimize')")
        .await?;
    let optimize = step.elapsed();
    let step = Instant::now();
    conn.execute(
        "CREATE INDEX stories_by_day ON stories (day);
         CREATE INDEX stories_by_country ON stories (country);
         ANALYZE;",
    )
    .await?;
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    let indexes = step.elapsed();
    let time = started.elapsed();
    let bytes = file_size(&path) + file_size(&PathBuf::from(format!("{}-wal", path.display())));
    let fts_bytes: i64 =
        sqlx::query_scalar("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'fts%'")
            .fetch_one(&mut conn)
            .await
            .unwrap_or(0);
    let build = Build {
        time,
        bytes,
        notes: vec![
            format!(
                "load {loaded} rows {:.1} s (reading the store included), FTS5 'rebuild' {:.1} s, \
                 'optimize' {:.1} s, day/country indexes + ANALYZE {:.1} s",
                secs(load),
                secs(rebuild),
                secs(optimize),
                secs(indexes)
            ),
            format!(
                "external-content FTS5 (tokenize='{FTS5_TOKENIZE}', detail=full) over a content table; \
                 the FTS5 index itself {:.0} MB of the {:.0} MB file; WAL, synchronous=NORMAL, \
                 cache_size {} MiB, mmap_size {} MiB",
                mb(fts_bytes.max(0) as u64),
                mb(bytes),
                SQLITE_CACHE_KIB / 1024,
                SQLITE_MMAP >> 20
            ),
        ],
    };
    Ok((conn, build))
}

pub(crate) async fn build_pg(store: &Arc<dyn Store>, url: &str) -> Result<(PgConnection, Build)> {
    let started = Instant::now();
    let mut conn = PgConnection::connect(url).await?;
    conn.execute(
        "DROP SCHEMA IF EXISTS bench_search CASCADE;
         CREATE SCHEMA bench_search;
         CREATE TABLE bench_search.stories (
             id bigint PRIMARY KEY,
             headline text NOT NULL,
             body text NOT NULL,
             meta text NOT NULL,
             country text NOT NULL,
             countries text[] NOT NULL,
             day integer NOT NULL,
             tsv tsvector GENERATED ALWAYS AS (
                 setweight(to_tsvector('english', headline), 'A')
                 || setweight(to_tsvector('english', body), 'B')
                 || setweight(to_tsvector('english', meta), 'C')
             ) STORED
         );",
    )
    .await?;
    let mut rows = read_rows(Arc::clone(store));
    let mut loaded = 0u64;
    let mut tx = conn.begin().await?;
    while let Some(batch) = rows.recv().await {
        let batch = batch?;
        loaded += batch.len() as u64;
        sqlx::query(
            "INSERT INTO bench_search.stories (id, headline, body, meta, country, countries, day)
             SELECT id, headline, body, meta, country, string_to_array(countries, ' '), day
             FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[])
                  AS t (id, headline, body, meta, country, countries, day)",
        )
        .bind(batch.iter().map(|r| r.id).collect::<Vec<i64>>())
        .bind(batch.iter().map(|r| r.headline.as_str()).collect::<Vec<&str>>())
        .bind(batch.iter().map(|r| r.body.as_str()).collect::<Vec<&str>>())
        .bind(batch.iter().map(|r| r.meta.as_str()).collect::<Vec<&str>>())
        .bind(batch.iter().map(|r| r.country.as_str()).collect::<Vec<&str>>())
        .bind(batch.iter().map(|r| r.countries.as_str()).collect::<Vec<&str>>())
        .bind(batch.iter().map(|r| r.day as i32).collect::<Vec<i32>>())
        .execute(&mut *tx)
        .await?;
        if loaded.is_multiple_of(100_000) {
            eprintln!(
                "  postgres: loaded {loaded} ({:.0} s)",
                secs(started.elapsed())
            );
        }
    }
    tx.commit().await?;
    let load = started.elapsed();
    let step = Instant::now();
    conn.execute("CREATE INDEX stories_tsv ON bench_search.stories USING GIN (tsv)")
        .await?;
    let gin = step.elapsed();
    let step = Instant::now();
    conn.execute(
        "CREATE INDEX stories_day ON bench_search.stories (day);
         CREATE INDEX stories_country ON bench_search.stories (country);
         CREATE INDEX stories_countries ON bench_search.stories USING GIN (countries);",
    )
    .await?;
    // VACUUM cannot share a (multi-statement, hence implicit) transaction.
    conn.execute("VACUUM ANALYZE bench_search.stories").await?;
    let rest = step.elapsed();
    let time = started.elapsed();
    let sizes = sqlx::query(
        "SELECT pg_total_relation_size('bench_search.stories')::bigint,
                pg_relation_size('bench_search.stories_tsv')::bigint,
                current_setting('shared_buffers'), current_setting('work_mem'),
                current_setting('maintenance_work_mem'), current_setting('jit'),
                current_setting('max_parallel_workers_per_gather'), version()",
    )
    .fetch_one(&mut conn)
    .await?;
    let bytes: i64 = sizes.try_get(0)?;
    let gin_bytes: i64 = sizes.try_get(1)?;
    let version: String = sizes.try_get(7)?;
    let build = Build {
        time,
        bytes: bytes.max(0) as u64,
        notes: vec![
            format!(
                "load {loaded} rows with batched INSERT ... SELECT FROM UNNEST, tsvector computed on insert \
                 (a stored generated column) {:.1} s (reading the store included), GIN index {:.1} s, \
                 day/country indexes + VACUUM ANALYZE {:.1} s",
                secs(load),
                secs(gin),
                secs(rest)
            ),
            format!(
                "pg_total_relation_size {:.0} MB (table, TOAST and indexes; the GIN index {:.0} MB); {}; \
                 as installed: shared_buffers {}, work_mem {}, maintenance_work_mem {}, jit {}, \
                 max_parallel_workers_per_gather {}",
                mb(bytes.max(0) as u64),
                mb(gin_bytes.max(0) as u64),
                version.split(" on ").next().unwrap_or(&version),
                sizes.try_get::<String, _>(2)?,
                sizes.try_get::<String, _>(3)?,
                sizes.try_get::<String, _>(4)?,
                sizes.try_get::<String, _>(5)?,
                sizes.try_get::<String, _>(6)?,
            ),
        ],
    };
    Ok((conn, build))
}
