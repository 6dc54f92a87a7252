//! Step 4, running queries: each system's queries, timed, and their counts.

use std::time::{Duration, Instant};

use bulletin_search::{SearchIndex, SearchRequest, Sort};
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;

use crate::build::Build;
use crate::helpers::{CpuWatch, mb, secs};
use crate::queries::BenchQuery;
use crate::{Result, TOP};

pub(crate) enum System {
    Bulletin(SearchIndex),
    Fts5(SqliteConnection),
    Pg(PgConnection),
}

const FTS5_RANK: &str =
    "SELECT rowid FROM fts WHERE fts MATCH ?1 ORDER BY bm25(fts, 3.0, 1.0, 0.5) LIMIT 10";
const FTS5_RANK_COUNTRY: &str = "SELECT fts.rowid FROM fts JOIN stories s ON s.id = fts.rowid \
     WHERE fts MATCH ?1 AND EXISTS (SELECT 1 FROM story_countries c WHERE c.code = ?2 AND c.id = s.id) \
     ORDER BY bm25(fts, 3.0, 1.0, 0.5) LIMIT 10";
const FTS5_NEWEST: &str = "SELECT s.id FROM fts JOIN stories s ON s.id = fts.rowid \
     WHERE fts MATCH ?1 ORDER BY s.day DESC, s.id LIMIT 10";
const FTS5_COUNT: &str = "SELECT count(*) FROM fts WHERE fts MATCH ?1";
const FTS5_COUNT_COUNTRY: &str = "SELECT count(*) FROM fts JOIN stories s ON s.id = fts.rowid \
     WHERE fts MATCH ?1 AND EXISTS (SELECT 1 FROM story_countries c WHERE c.code = ?2 AND c.id = s.id)";

const PG_RANK: &str = "SELECT id FROM bench_search.stories, websearch_to_tsquery('english', $1) q \
     WHERE tsv @@ q ORDER BY ts_rank(tsv, q) DESC LIMIT 10";
const PG_RANK_COUNTRY: &str = "SELECT id FROM bench_search.stories, websearch_to_tsquery('english', $1) q \
     WHERE tsv @@ q AND countries @> ARRAY[$2::text] ORDER BY ts_rank(tsv, q) DESC LIMIT 10";
const PG_NEWEST: &str = "SELECT id FROM bench_search.stories, websearch_to_tsquery('english', $1) q \
     WHERE tsv @@ q ORDER BY day DESC, id LIMIT 10";
const PG_COUNT: &str = "SELECT count(*) FROM bench_search.stories \
     WHERE tsv @@ websearch_to_tsquery('english', $1)";
const PG_COUNT_COUNTRY: &str = "SELECT count(*) FROM bench_search.stories \
     WHERE tsv @@ websearch_to_tsquery('english', $1) AND countries @> ARRAY[$2::text]";

impl System {
    /// Runs `q` as the site would; returns how many results came back (≤ 10) and,
    /// for bulletin, the total count.
    async fn run(&mut self, q: &BenchQuery) -> Result<(usize, Option<u64>)> {
        match self {
            System::Bulletin(index) => {
                let request = SearchRequest {
                    q: q.text(),
                    country: q.country.clone(),
                    sort: if q.newest() {
                        Sort::Newest
                    } else {
                        Sort::Relevance
                    },
                    limit: TOP,
                    ..SearchRequest::default()
                };
                let results = index.search(&request)?;
                Ok((results.hits.len(), Some(results.total)))
            }
            System::Fts5(conn) => {
                let sql = match (&q.country, q.newest()) {
                    (_, true) => FTS5_NEWEST,
                    (Some(_), _) => FTS5_RANK_COUNTRY,
                    (None, _) => FTS5_RANK,
                };
                let mut query = sqlx::query_scalar::<_, i64>(sql).bind(q.fts5());
                if let Some(c) = &q.country {
                    query = query.bind(c.clone());
                }
                Ok((query.fetch_all(&mut *conn).await?.len(), None))
            }
            System::Pg(conn) => {
                let sql = match (&q.country, q.newest()) {
                    (_, true) => PG_NEWEST,
                    (Some(_), _) => PG_RANK_COUNTRY,
                    (None, _) => PG_RANK,
                };
                let mut query = sqlx::query_scalar::<_, i64>(sql).bind(q.text());
                if let Some(c) = &q.country {
                    query = query.bind(c.clone());
                }
                Ok((query.fetch_all(&mut *conn).await?.len(), None))
            }
        }
    }

    /// All matches (untimed; for the sanity check).
    async fn count(&mut self, q: &BenchQuery) -> Result<u64> {
        match self {
            System::Bulletin(_) => Ok(self.run(q).await?.1.unwrap_or(0)),
            System::Fts5(conn) => {
                let sql = if q.country.is_some() {
                    FTS5_COUNT_COUNTRY
                } else {
                    FTS5_COUNT
                };
                let mut query = sqlx::query_scalar::<_, i64>(sql).bind(q.fts5());
                if let Some(c) = &q.country {
                    query = query.bind(c.clone());
                }
                Ok(query.fetch_one(&mut *conn).await?.max(0) as u64)
            }
            System::Pg(conn) => {
                let sql = if q.country.is_some() {
                    PG_COUNT_COUNTRY
                } else {
                    PG_COUNT
                };
                let mut query = sqlx::query_scalar::<_, i64>(sql).bind(q.text());
                if let Some(c) = &q.country {
                    query = query.bind(c.clone());
                }
                Ok(query.fetch_one(&mut *conn).await?.max(0) as u64)
            }
        }
    }
}

/// Latencies of one system: per query, every measured run.
pub(crate) struct Measured {
    pub(crate) name: String,
    pub(crate) build: Option<Build>,
    /// `times[i]`: the runs of query i.
    pub(crate) times: Vec<Vec<Duration>>,
    /// Results returned (≤ 10) per query, from the warm-up.
    pub(crate) returned: Vec<usize>,
    pub(crate) counts: Vec<u64>,
}

/// Prints a system's build, times its queries and counts their matches.
pub(crate) async fn measure_built(
    (label, name): (&str, &str),
    system: &mut System,
    mut build: Build,
    cpu: CpuWatch,
    queries: &[BenchQuery],
    runs: usize,
) -> Result<Measured> {
    build.notes.push(cpu.note());
    println!("build {:.1} s, {:.0} MB", secs(build.time), mb(build.bytes));
    for n in &build.notes {
        println!("  {n}");
    }
    let (times, returned) = measure(label, system, queries, runs).await?;
    let mut counts = Vec::with_capacity(queries.len());
    for q in queries {
        counts.push(system.count(q).await?);
    }
    Ok(Measured {
        name: name.into(),
        build: Some(build),
        times,
        returned,
        counts,
    })
}

pub(crate) async fn measure(
    name: &str,
    system: &mut System,
    queries: &[BenchQuery],
    runs: usize,
) -> Result<(Vec<Vec<Duration>>, Vec<usize>)> {
    let started = Instant::now();
    let mut returned = Vec::with_capacity(queries.len());
    for q in queries {
        returned.push(system.run(q).await?.0);
    }
    let mut times = vec![Vec::with_capacity(runs); queries.len()];
    let cpu = CpuWatch::start();
    for _ in 0..runs {
        for (i, q) in queries.iter().enumerate() {
            let t = Instant::now();
            system.run(q).await?;
            times[i].push(t.elapsed());
        }
    }
    println!(
        "  {name}: warm-up + {runs} timed runs of {} queries in {:.1} s; timed runs: {}",
        queries.len(),
        secs(started.elapsed()),
        cpu.note()
    );
    Ok((times, returned))
}
