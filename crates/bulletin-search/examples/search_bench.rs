//! Search benchmark: bulletin's tantivy index against SQLite FTS5 (bm25) and
//! PostgreSQL full-text search (tsvector + GIN, ts_rank), on the same corpus and
//! the same queries, in the same run.
//!
//! ```text
//! cargo run --release -p bulletin-search --example search_bench -- \
//!     [--stories 1000000] [--seed 1] [--dir target/bench-search] \
//!     [--postgres postgres://postgres@127.0.0.1:5432/test] [--queries 200] [--runs 5] [--keep-pg]
//! ```
//! (`scripts/bench-search.sh` builds and runs it.)
//!
//! 1. N stories from the synthetic generator (`bulletin gen`, fixed seed) are
//!    imported into a bulletin SQLite store in DIR/store (kept, with a marker
//!    file, and reused by the next run with the same N and seed).
//! 2. Each system is built from that store, timed as a whole (reading the store
//!    included): bulletin's `SearchIndex::rebuild` in DIR/search; an SQLite file
//!    DIR/fts5.db (a content table and an external-content FTS5 table, porter
//!    unicode61); a `bench_search` schema in the PostgreSQL database (a stored
//!    generated weighted tsvector column, a GIN index). All three index the same
//!    text: headline (weight 3 / A), the visible body (1 / B) and the dateline
//!    places and country names (0.5 / C).
//! 3. A fixed set of queries (seeded, from the words of a sample of the stories):
//!    single words, two words (AND), exact phrases, a word with a country filter,
//!    a word sorted newest first. Each system runs every query once to warm up,
//!    then `--runs` rounds over the whole set, timed one by one.
//!
//! bulletin answers with the top 10 as the site shows them (stored fields read,
//! snippets with highlights) and the exact total count; the peers are asked only
//! for the top 10 ids (no count, no snippets), which favours them. Counts are
//! compared afterwards (untimed) as a sanity check; the run fails if bulletin
//! finds nothing where a peer finds many.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bulletin_core::{Story, gazetteer};
use bulletin_search::{SearchIndex, SearchRequest, Sort};
use bulletin_store::{Store, StoryQuery};
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{
    AssertSqlSafe, ConnectOptions as _, Connection as _, Executor as _, QueryBuilder, Row as _,
};

type Result<T, E = Box<dyn Error + Send + Sync>> = std::result::Result<T, E>;

/// Stories a store write or a peer load takes at a time.
const BATCH: usize = 5_000;
/// Results asked of every system.
const TOP: usize = 10;

// ---------------------------------------------------------------------------
// Arguments

struct Args {
    stories: u64,
    seed: u64,
    dir: PathBuf,
    postgres: Option<String>,
    queries: usize,
    runs: usize,
    keep_pg: bool,
}

const USAGE: &str = "usage: search_bench [--stories N] [--seed S] [--dir DIR] [--postgres URL] \
                     [--queries N] [--runs R] [--keep-pg]";

fn parse_args() -> Result<Args> {
    let mut args = Args {
        stories: 1_000_000,
        seed: 1,
        dir: PathBuf::from("target/bench-search"),
        postgres: None,
        queries: 200,
        runs: 5,
        keep_pg: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        if name == "--keep-pg" {
            args.keep_pg = true;
            continue;
        }
        if name == "-h" || name == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))?,
        };
        let number = |v: &str| -> Result<u64> {
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|e| format!("{name} {v:?}: {e}").into())
        };
        match name.as_str() {
            "--stories" => args.stories = number(&value)?,
            "--seed" => args.seed = number(&value)?,
            "--dir" => args.dir = PathBuf::from(value),
            "--postgres" => args.postgres = Some(value).filter(|v| !v.is_empty()),
            "--queries" => args.queries = usize::try_from(number(&value)?)?,
            "--runs" => args.runs = usize::try_from(number(&value)?)?,
            _ => return Err(format!("unknown argument {name}\n{USAGE}").into()),
        }
    }
    if args.stories == 0 || args.queries < 5 || args.runs == 0 {
        return Err(format!(
            "--stories and --runs must be positive, --queries at least 5\n{USAGE}"
        )
        .into());
    }
    Ok(args)
}

// ---------------------------------------------------------------------------
// A small deterministic PRNG (splitmix64), so that the queries are the same on
// every machine and in every build.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

// ---------------------------------------------------------------------------
// Helpers

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => dir_size(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    })
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// CPU seconds this process has used (user + system), from /proc.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses): utime is the 14th
    // field of the line, stime the 15th.
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // rest starts at field 3 (state): utime is field 14 → index 11.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU time of this process and of the others, from a start.
struct CpuWatch {
    wall: Instant,
    machine: f64,
    own: f64,
}

impl CpuWatch {
    fn start() -> CpuWatch {
        CpuWatch {
            wall: Instant::now(),
            machine: machine_cpu_seconds(),
            own: cpu_seconds(),
        }
    }

    /// `while timed (12.3 s): this process 20.1 CPU-s, other processes 0.4 CPU-s`
    fn note(&self) -> String {
        let own = cpu_seconds() - self.own;
        let others = (machine_cpu_seconds() - self.machine - own).max(0.0);
        format!(
            "CPU over {:.1} s: this process {own:.1} CPU-s, other processes {others:.1} CPU-s \
             (the database server for PostgreSQL; more elsewhere means the figures were disturbed)",
            secs(self.wall.elapsed())
        )
    }
}

/// CPU seconds all processes of the machine have used (busy time from /proc/stat).
fn machine_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0.0;
    };
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0.0;
    };
    let v: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    let at = |i: usize| v.get(i).copied().unwrap_or(0.0);
    // user nice system idle iowait irq softirq steal: all but idle and iowait.
    (at(0) + at(1) + at(2) + at(5) + at(6) + at(7)) / 100.0
}

/// `2021-07-18` as `20210718`, as bulletin's index keeps it.
fn day_number(story: &Story) -> i64 {
    let d = story.dateline.date;
    i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day())
}

/// What every system indexes of a story: the same as bulletin's document
/// (headline; the body a visitor may read; dateline places and country names).
struct Row {
    id: i64,
    headline: String,
    body: String,
    meta: String,
    /// The first country code (the filter column the issue asks for).
    country: String,
    /// All the story's country codes, space-separated (what bulletin filters on).
    countries: String,
    day: i64,
}

fn row_of(id: i64, story: &Story) -> Row {
    let mut meta = story.dateline.places.join(" ");
    for code in &story.countries {
        if let Some(country) = gazetteer().country(code) {
            meta.push(' ');
            meta.push_str(&country.name);
        }
    }
    let codes: Vec<String> = story
        .countries
        .iter()
        .map(|c| c.to_ascii_uppercase())
        .collect();
    Row {
        id,
        headline: story.headline.clone(),
        body: bulletin_core::render::visible_body(story, false).join("\n\n"),
        meta,
        country: codes.first().cloned().unwrap_or_default(),
        countries: codes.join(" "),
        day: day_number(story),
    }
}

/// Reads the whole store, newest first, in pages of [`BATCH`], into a channel of
/// rows (so that a peer's loading overlaps the reading, as bulletin's rebuild
/// overlaps reading and indexing).
fn read_rows(store: Arc<dyn Store>) -> tokio::sync::mpsc::Receiver<Result<Vec<Row>>> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::spawn(async move {
        let mut query = StoryQuery {
            limit: BATCH as u32,
            ..StoryQuery::default()
        };
        let mut id = 0i64;
        loop {
            let page = match store.stories(&query).await {
                Ok(page) => page,
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            let rows: Vec<Row> = page
                .stories
                .iter()
                .map(|s| {
                    id += 1;
                    row_of(id, s)
                })
                .collect();
            if tx.send(Ok(rows)).await.is_err() {
                return;
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => return,
            }
        }
    });
    rx
}

// ---------------------------------------------------------------------------
// 1. The bulletin store

const MARKER: &str = "bench-marker.txt";

async fn ensure_store(args: &Args) -> Result<Arc<dyn Store>> {
    let dir = std::path::absolute(args.dir.join("store"))?;
    let db = dir.join("bulletin.db");
    let marker = dir.join(MARKER);
    // The marker: what was asked for, and how many stories the store kept.
    let want = format!("stories={} seed={}", args.stories, args.seed);
    let kept = std::fs::read_to_string(&marker).ok().and_then(|m| {
        m.trim()
            .strip_prefix(&want)
            .and_then(|rest| rest.trim().strip_prefix("stored="))
            .and_then(|n| n.parse::<u64>().ok())
    });
    if let Some(kept) = kept {
        let store = bulletin_store::open(&format!("sqlite://{}", db.display())).await?;
        let counts = store.counts().await?;
        if counts.stories == kept {
            println!(
                "store: reusing {} ({} stories of seed {}; {:.0} MB)",
                db.display(),
                counts.stories,
                args.seed,
                mb(dir_size(&dir))
            );
            return Ok(store);
        }
        println!(
            "store: {} holds {} stories, not {kept}; generating again",
            db.display(),
            counts.stories,
        );
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let store = bulletin_store::open(&format!("sqlite://{}", db.display())).await?;

    // The generator writes into a pipe; a reader thread parses stories off the
    // other end and sends them in batches; this task puts them in the store.
    let started = Instant::now();
    let (pipe_in, pipe_out) = std::io::pipe()?;
    let options = bulletin_text::synth::GenOptions {
        stories: args.stories,
        seed: args.seed,
        ..Default::default()
    };
    let generator = std::thread::spawn(move || {
        bulletin_text::synth::generate(
            &options,
            std::io::BufWriter::with_capacity(1 << 20, pipe_out),
        )
    });
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Story>>(4);
    let parser = std::thread::spawn(move || -> Result<u64> {
        let input = bulletin_text::utf8_input(pipe_in)?;
        let mut reader = bulletin_text::Reader::new(input);
        let mut batch = Vec::with_capacity(BATCH);
        let mut n = 0u64;
        for item in &mut reader {
            let parsed =
                item.map_err(|d| format!("generated text does not read: {}", d.display("gen")))?;
            batch.push(parsed.story);
            n += 1;
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if tx.blocking_send(full).is_err() {
                    return Ok(n);
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
        Ok(n)
    });
    let mut import = store.begin_import().await?;
    let mut put = 0u64;
    let mut next_report = 100_000u64;
    while let Some(batch) = rx.recv().await {
        put += batch.len() as u64;
        import.put_stories(batch).await?;
        if put >= next_report {
            eprintln!(
                "  imported {put} of {} ({:.0} s)",
                args.stories,
                secs(started.elapsed())
            );
            next_report += 100_000;
        }
    }
    import.commit().await?;
    let parsed = parser.join().map_err(|_| "parser thread panicked")??;
    let generated = generator
        .join()
        .map_err(|_| "generator thread panicked")??;
    let elapsed = started.elapsed();
    let counts = store.counts().await?;
    println!(
        "store: generated {} stories ({:.0} MB of text), parsed {parsed}, stored {} in {} issues, \
         in {:.1} s = {:.0} stories/s (generate + parse + import into SQLite; not a search figure); {:.0} MB",
        generated.stories,
        mb(generated.bytes),
        counts.stories,
        counts.issues,
        secs(elapsed),
        parsed as f64 / secs(elapsed),
        mb(dir_size(&dir))
    );
    // A generated story that has the natural key of an earlier one is stored
    // as its update (as `bulletin import` does): a handful in a million.
    let merged = parsed.saturating_sub(counts.stories);
    if merged > 0 {
        println!(
            "  ({merged} generated stories had the natural key of an earlier one and were stored as its update)"
        );
    }
    if parsed != args.stories || merged > args.stories / 1000 {
        return Err(format!(
            "the store holds {} stories of the {} generated ({parsed} parsed)",
            counts.stories, args.stories
        )
        .into());
    }
    std::fs::write(&marker, format!("{want} stored={}\n", counts.stories))?;
    Ok(store)
}

// ---------------------------------------------------------------------------
// 2. Building each system

#[derive(Default, Clone)]
struct Build {
    /// Wall-clock of the whole build (the figure).
    time: Duration,
    bytes: u64,
    /// Details: what the time went to, and more.
    notes: Vec<String>,
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

async fn build_bulletin(store: &Arc<dyn Store>, dir: &Path) -> Result<(SearchIndex, Build)> {
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

async fn build_fts5(store: &Arc<dyn Store>, dir: &Path) -> Result<(SqliteConnection, Build)> {
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

async fn build_pg(store: &Arc<dyn Store>, url: &str) -> Result<(PgConnection, Build)> {
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

// ---------------------------------------------------------------------------
// 3. The queries

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    Word,
    TwoWords,
    Phrase,
    Filtered,
    Newest,
}

const KINDS: [Kind; 5] = [
    Kind::Word,
    Kind::TwoWords,
    Kind::Phrase,
    Kind::Filtered,
    Kind::Newest,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Word => "word",
            Kind::TwoWords => "two words",
            Kind::Phrase => "phrase",
            Kind::Filtered => "word+country",
            Kind::Newest => "word, newest",
        }
    }

    /// Share of the query set, in 200ths.
    fn share(self) -> usize {
        match self {
            Kind::Word => 60,
            Kind::TwoWords => 50,
            Kind::Phrase => 40,
            Kind::Filtered => 30,
            Kind::Newest => 20,
        }
    }
}

#[derive(Debug, Clone)]
struct BenchQuery {
    kind: Kind,
    /// Lowercase words; a phrase is one unit of several words.
    words: Vec<String>,
    /// Where it came from (a tier for single words).
    note: &'static str,
    country: Option<String>,
}

impl BenchQuery {
    fn is_phrase(&self) -> bool {
        self.kind == Kind::Phrase
    }

    fn newest(&self) -> bool {
        self.kind == Kind::Newest
    }

    /// bulletin's syntax, which is also what websearch_to_tsquery reads:
    /// `word word` (AND) or `"a phrase"`.
    fn text(&self) -> String {
        if self.is_phrase() {
            format!("\"{}\"", self.words.join(" "))
        } else {
            self.words.join(" ")
        }
    }

    /// An FTS5 MATCH expression of the same meaning: `"a" "b"` (AND of words) or
    /// `"a phrase"`.
    fn fts5(&self) -> String {
        if self.is_phrase() {
            format!("\"{}\"", self.words.join(" "))
        } else {
            self.words
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(" ")
        }
    }

    fn label(&self) -> String {
        match &self.country {
            Some(c) => format!("{} [country {c}]", self.text()),
            None if self.newest() => format!("{} [newest]", self.text()),
            None => self.text(),
        }
    }
}

/// PostgreSQL's English stop words (the Snowball list its `english` configuration
/// drops): kept out of the queries, which would otherwise mean different things
/// in PostgreSQL (dropped) and in FTS5 and bulletin (matched).
const STOP_WORDS: &str = "\
    i me my myself we our ours ourselves you your yours yourself yourselves he him \
    his himself she her hers herself it its itself they them their theirs themselves \
    what which who whom this that these those am is are was were be been being have \
    has had having do does did doing a an the and but if or because as until while \
    of at by for with about against between into through during before after above \
    below to from up down in out on off over under again further then once here \
    there when where why how all any both each few more most other some such no nor \
    not only own same so than too very s t can will just don should now";

/// One whitespace-separated token of story text: its letters (if it is a plain
/// word) and whether punctuation stood before or after it.
struct Token {
    word: Option<String>,
    lead: bool,
    trail: bool,
    /// The first of a headline or a paragraph.
    first: bool,
}

fn tokens(text: &str) -> Vec<Token> {
    let edge = |c: char| !c.is_alphanumeric();
    text.split_whitespace()
        .map(|raw| {
            let core = raw.trim_matches(edge);
            let lead = raw.len() - raw.trim_start_matches(edge).len() > 0;
            let trail = raw.len() - raw.trim_end_matches(edge).len() > 0;
            let plain = core.len() >= 3 && core.bytes().all(|b| b.is_ascii_alphabetic());
            let word = core.to_ascii_lowercase();
            let word = (plain && !STOP_WORDS.split_whitespace().any(|s| s == word)).then_some(word);
            Token {
                word,
                lead,
                trail,
                first: false,
            }
        })
        .collect()
}

/// The tokens of a story's headline and readable paragraphs, each part's first
/// marked: a phrase must not span two parts (PostgreSQL's concatenated tsvectors
/// would find it across the headline and the body; the others would not).
fn story_tokens(story: &Story) -> Vec<Token> {
    let mut out = Vec::new();
    let parts = std::iter::once(&story.headline)
        .chain(bulletin_core::render::visible_body(story, false).iter());
    for part in parts {
        let mut part = tokens(part);
        if let Some(first) = part.first_mut() {
            first.first = true;
        }
        out.extend(part);
    }
    out
}

/// Stories spread over the whole store, chosen by the seed.
async fn sample_stories(store: &dyn Store, total: u64, rng: &mut Rng) -> Result<Vec<Story>> {
    const SLICES: u64 = 10;
    const PER_SLICE: u32 = 40;
    let mut out = Vec::new();
    for k in 0..SLICES {
        let span = (total / SLICES).max(1);
        let room = span.saturating_sub(u64::from(PER_SLICE)).max(1);
        let offset = k * span + rng.below(room as usize) as u64;
        let page = store
            .stories(&StoryQuery {
                offset: u32::try_from(offset.min(total.saturating_sub(1)))?,
                limit: PER_SLICE,
                ..StoryQuery::default()
            })
            .await?;
        out.extend(page.stories);
    }
    Ok(out)
}

fn make_queries(sample: &[Story], n: usize, rng: &mut Rng) -> Result<Vec<BenchQuery>> {
    // How many of each kind: the issue's 60/50/40/30/20 of 200, scaled.
    let mut counts: Vec<(Kind, usize)> = KINDS.iter().map(|&k| (k, n * k.share() / 200)).collect();
    let mut short = n - counts.iter().map(|c| c.1).sum::<usize>();
    for c in counts.iter_mut() {
        if short == 0 {
            break;
        }
        c.1 += 1;
        short -= 1;
    }

    let texts: Vec<Vec<Token>> = sample.iter().map(story_tokens).collect();
    // Document frequency of each word in the sample.
    let mut df: HashMap<&str, usize> = HashMap::new();
    for t in &texts {
        let words: BTreeSet<&str> = t.iter().filter_map(|t| t.word.as_deref()).collect();
        for w in words {
            *df.entry(w).or_default() += 1;
        }
    }
    let mut by_df: Vec<(&str, usize)> = df.iter().map(|(w, n)| (*w, *n)).collect();
    by_df.sort_by_key(|&(word, df)| (std::cmp::Reverse(df), word));
    let common: Vec<&str> = by_df.iter().take(150).map(|x| x.0).collect();
    let rare: Vec<&str> = by_df.iter().filter(|x| x.1 == 1).map(|x| x.0).collect();
    let mid: Vec<&str> = by_df
        .iter()
        .skip(150)
        .filter(|x| x.1 > 1)
        .map(|x| x.0)
        .collect();
    if common.len() < 20 || mid.len() < 20 || rare.len() < 20 {
        return Err(format!(
            "the sample is too small for the query mix: {} common, {} middling, {} rare words",
            common.len(),
            mid.len(),
            rare.len()
        )
        .into());
    }

    let mut queries: Vec<BenchQuery> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut push = |q: BenchQuery, queries: &mut Vec<BenchQuery>| {
        if seen.insert(q.label()) {
            queries.push(q);
            true
        } else {
            false
        }
    };
    let word = |w: &str| vec![w.to_owned()];
    for &(kind, count) in &counts {
        let mut made = 0;
        let mut tries = 0;
        while made < count {
            tries += 1;
            if tries > 100_000 {
                return Err(
                    format!("could not make {count} distinct {} queries", kind.name()).into(),
                );
            }
            let q = match kind {
                Kind::Word => {
                    // A third each: common, middling and rare words (in the sample).
                    let (tier, note) = match made % 3 {
                        0 => (&common, "common"),
                        1 => (&mid, "middling"),
                        _ => (&rare, "rare"),
                    };
                    let Some(w) = rng.pick(tier) else { continue };
                    BenchQuery {
                        kind,
                        words: word(w),
                        note,
                        country: None,
                    }
                }
                Kind::TwoWords => {
                    // Two words of one story, so that something matches both.
                    let t = &texts[rng.below(texts.len())];
                    let words: Vec<&str> = t.iter().filter_map(|t| t.word.as_deref()).collect();
                    let (Some(a), Some(b)) = (rng.pick(&words), rng.pick(&words)) else {
                        continue;
                    };
                    if a == b {
                        continue;
                    }
                    BenchQuery {
                        kind,
                        words: vec![(*a).to_owned(), (*b).to_owned()],
                        note: "two words of one story",
                        country: None,
                    }
                }
                Kind::Phrase => {
                    // Two or three consecutive plain words of a headline or a
                    // paragraph, with no punctuation inside.
                    let t = &texts[rng.below(texts.len())];
                    let len = 2 + rng.below(2);
                    if t.len() < len {
                        continue;
                    }
                    let start = rng.below(t.len() - len + 1);
                    let window = &t[start..start + len];
                    let ok = window.iter().enumerate().all(|(i, tok)| {
                        tok.word.is_some()
                            && (i == 0 || !(tok.lead || tok.first))
                            && (i + 1 == len || !tok.trail)
                    });
                    if !ok {
                        continue;
                    }
                    BenchQuery {
                        kind,
                        words: window.iter().filter_map(|t| t.word.clone()).collect(),
                        note: "from story text",
                        country: None,
                    }
                }
                Kind::Filtered => {
                    // A word of a story and the story's (first) country.
                    let i = rng.below(texts.len());
                    let Some(country) = sample[i].countries.first() else {
                        continue;
                    };
                    let words: Vec<&str> =
                        texts[i].iter().filter_map(|t| t.word.as_deref()).collect();
                    let Some(w) = rng.pick(&words) else { continue };
                    BenchQuery {
                        kind,
                        words: word(w),
                        note: "a word of a story, its country",
                        country: Some(country.to_ascii_uppercase()),
                    }
                }
                Kind::Newest => {
                    let (tier, note) = if made % 2 == 0 {
                        (&common, "common")
                    } else {
                        (&mid, "middling")
                    };
                    let Some(w) = rng.pick(tier) else { continue };
                    BenchQuery {
                        kind,
                        words: word(w),
                        note,
                        country: None,
                    }
                }
            };
            if push(q, &mut queries) {
                made += 1;
            }
        }
    }
    Ok(queries)
}

// ---------------------------------------------------------------------------
// 4. Running queries

enum System {
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
struct Measured {
    name: String,
    build: Option<Build>,
    /// `times[i]`: the runs of query i.
    times: Vec<Vec<Duration>>,
    /// Results returned (≤ 10) per query, from the warm-up.
    returned: Vec<usize>,
    counts: Vec<u64>,
}

/// Prints a system's build, times its queries and counts their matches.
async fn measure_built(
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

async fn measure(
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

// ---------------------------------------------------------------------------
// 5. Statistics and the report

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

struct Stats {
    p50: Duration,
    p99: Duration,
    mean: Duration,
    max: Duration,
}

fn stats(times: impl Iterator<Item = Duration>) -> Stats {
    let mut all: Vec<Duration> = times.collect();
    all.sort();
    let mean = if all.is_empty() {
        Duration::ZERO
    } else {
        all.iter().sum::<Duration>() / all.len() as u32
    };
    Stats {
        p50: percentile(&all, 50.0),
        p99: percentile(&all, 99.0),
        mean,
        max: all.last().copied().unwrap_or_default(),
    }
}

fn kind_stats(m: &Measured, queries: &[BenchQuery], kind: Kind) -> Stats {
    stats(
        m.times
            .iter()
            .zip(queries)
            .filter(|(_, q)| q.kind == kind)
            .flat_map(|(t, _)| t.iter().copied()),
    )
}

fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        "-".into()
    } else {
        format!("{:.1}x", secs(a) / secs(b))
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("search_bench: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    let args = parse_args()?;
    let started = Instant::now();
    std::fs::create_dir_all(&args.dir)?;
    println!(
        "== search benchmark: {} stories (seed {}), {} queries x {} runs, top {TOP}; dir {}",
        args.stories,
        args.seed,
        args.queries,
        args.runs,
        args.dir.display()
    );

    let store = ensure_store(&args).await?;

    // The queries, from a sample of the stories (fixed by the seed).
    let mut rng = Rng(args.seed ^ 0x5eed_5eac_0000_0000);
    let stored = store.counts().await?.stories;
    let sample = sample_stories(&*store, stored, &mut rng).await?;
    let multi = sample.iter().filter(|s| s.countries.len() > 1).count();
    let queries = make_queries(&sample, args.queries, &mut rng)?;
    println!(
        "queries: {} from the words of {} sampled stories ({} of them with more than one country)",
        queries.len(),
        sample.len(),
        multi
    );
    for kind in KINDS {
        let of_kind: Vec<&BenchQuery> = queries.iter().filter(|q| q.kind == kind).collect();
        let examples: Vec<String> = of_kind.iter().take(4).map(|q| q.label()).collect();
        println!(
            "  {:<13} {:>3}  e.g. {}",
            kind.name(),
            of_kind.len(),
            examples.join(" | ")
        );
    }

    let mut measured: Vec<Measured> = Vec::new();

    println!("\n== bulletin (tantivy): SearchIndex::rebuild from the store");
    let cpu = CpuWatch::start();
    let (index, build) = build_bulletin(&store, &args.dir).await?;
    let mut system = System::Bulletin(index);
    let m = measure_built(
        ("bulletin", "bulletin (tantivy)"),
        &mut system,
        build,
        cpu,
        &queries,
        args.runs,
    );
    measured.push(m.await?);
    drop(system);

    println!("\n== SQLite FTS5 (bm25)");
    let cpu = CpuWatch::start();
    let (conn, build) = build_fts5(&store, &args.dir).await?;
    let mut system = System::Fts5(conn);
    let m = measure_built(
        ("fts5", "sqlite fts5"),
        &mut system,
        build,
        cpu,
        &queries,
        args.runs,
    );
    measured.push(m.await?);
    drop(system);

    match &args.postgres {
        None => println!("\n== PostgreSQL: skipped (no --postgres URL given)"),
        Some(url) => {
            println!("\n== PostgreSQL full-text search (tsvector + GIN, ts_rank)");
            let cpu = CpuWatch::start();
            let (conn, build) = build_pg(&store, url).await?;
            let mut system = System::Pg(conn);
            let m = measure_built(
                ("postgres", "postgres"),
                &mut system,
                build,
                cpu,
                &queries,
                args.runs,
            );
            let m = m.await?;
            let counts = m.counts.clone();
            measured.push(m);
            // The same, with JIT compilation off (a common setting for short
            // queries): shown too, so that PostgreSQL gets its better figure.
            if let System::Pg(conn) = &mut system {
                conn.execute("SET jit = off").await?;
            }
            let (times, returned) =
                measure("postgres jit=off", &mut system, &queries, args.runs).await?;
            measured.push(Measured {
                name: "postgres (jit=off)".into(),
                build: None,
                times,
                returned,
                counts,
            });
            if let System::Pg(conn) = &mut system
                && !args.keep_pg
            {
                conn.execute("DROP SCHEMA bench_search CASCADE").await?;
            }
        }
    }

    report(&args, &queries, &measured);
    println!("\ntotal: {:.0} s", secs(started.elapsed()));
    check_counts(&queries, &measured)
}

fn report(args: &Args, queries: &[BenchQuery], measured: &[Measured]) {
    println!(
        "\n== results: {} stories, {} queries, warm-up run then {} timed runs of each query, top {TOP}",
        args.stories,
        queries.len(),
        args.runs
    );
    println!(
        "bulletin: SearchIndex::search as the site calls it (top 10 with stored fields and highlighted \
         snippets, plus the exact total count), in process."
    );
    println!(
        "peers: only the top 10 ids (no count, no snippets), which favours them; through sqlx on one \
         connection (SQLite in process via sqlx's worker thread; PostgreSQL over TCP on localhost)."
    );
    println!(
        "\n{:<20} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "system", "build s", "size MB", "p50 ms", "p99 ms", "mean ms", "max ms"
    );
    for m in measured {
        let s = stats(m.times.iter().flatten().copied());
        let (build, size) = m.build.as_ref().map_or(("-".into(), "-".into()), |b| {
            (
                format!("{:.1}", secs(b.time)),
                format!("{:.0}", mb(b.bytes)),
            )
        });
        println!(
            "{:<20} {:>9} {:>9} {:>9.3} {:>9.3} {:>9.3} {:>9.1}",
            m.name,
            build,
            size,
            ms(s.p50),
            ms(s.p99),
            ms(s.mean),
            ms(s.max)
        );
    }
    for (title, pick) in [
        ("p50 by kind (ms)", 0usize),
        ("p99 by kind (ms)", 1),
        ("mean by kind (ms)", 2),
    ] {
        print!("\n{title:<20}");
        for kind in KINDS {
            print!(" {:>13}", kind.name());
        }
        println!();
        print!("{:<20}", "(queries)");
        for kind in KINDS {
            print!(" {:>13}", queries.iter().filter(|q| q.kind == kind).count());
        }
        println!();
        for m in measured {
            print!("{:<20}", m.name);
            for kind in KINDS {
                let s = kind_stats(m, queries, kind);
                let v = [s.p50, s.p99, s.mean][pick];
                print!(" {:>13.3}", ms(v));
            }
            println!();
        }
    }
    let tiers = ["common", "middling", "rare"];
    print!("\n{:<20}", "single words by tier");
    for tier in tiers {
        print!(" {:>13}", format!("{tier} p50"));
    }
    for tier in tiers {
        print!(" {:>13}", format!("{tier} p99"));
    }
    println!();
    for m in measured {
        print!("{:<20}", m.name);
        let tier_stats = |tier: &str| {
            stats(
                m.times
                    .iter()
                    .zip(queries)
                    .filter(|(_, q)| q.kind == Kind::Word && q.note == tier)
                    .flat_map(|(t, _)| t.iter().copied()),
            )
        };
        for tier in tiers {
            print!(" {:>13.3}", ms(tier_stats(tier).p50));
        }
        for tier in tiers {
            print!(" {:>13.3}", ms(tier_stats(tier).p99));
        }
        println!();
    }
    if let Some(b) = measured.first() {
        let bs = stats(b.times.iter().flatten().copied());
        println!("\nratios (peer time / bulletin time; above 1 means bulletin is faster):");
        for m in &measured[1..] {
            let s = stats(m.times.iter().flatten().copied());
            print!(
                "  {:<20} p50 {:>7}  p99 {:>7}  mean {:>7}   by kind p50:",
                m.name,
                ratio(s.p50, bs.p50),
                ratio(s.p99, bs.p99),
                ratio(s.mean, bs.mean)
            );
            for kind in KINDS {
                print!(
                    "  {} {}",
                    kind.name(),
                    ratio(
                        kind_stats(m, queries, kind).p50,
                        kind_stats(b, queries, kind).p50
                    )
                );
            }
            println!();
        }
        let build_s = b.build.as_ref().map_or(0.0, |b| secs(b.time));
        println!(
            "\naims: bulletin p50 {:.3} ms (aim < 2 ms: {}), p99 {:.3} ms (aim < 20 ms: {}), build {:.0} s (aim < 180 s: {})",
            ms(bs.p50),
            if bs.p50 < Duration::from_millis(2) {
                "met"
            } else {
                "NOT met"
            },
            ms(bs.p99),
            if bs.p99 < Duration::from_millis(20) {
                "met"
            } else {
                "NOT met"
            },
            build_s,
            if build_s < 180.0 { "met" } else { "NOT met" }
        );
        for m in &measured[1..] {
            let s = stats(m.times.iter().flatten().copied());
            let r = secs(s.p50) / secs(bs.p50).max(1e-9);
            println!(
                "  p50 vs {}: {:.1}x (aim >= 5x: {})",
                m.name,
                r,
                if r >= 5.0 { "met" } else { "NOT met" }
            );
        }

        // The slowest queries of bulletin, by their median.
        let mut slow: Vec<(Duration, usize)> = b
            .times
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut t = t.clone();
                t.sort();
                (percentile(&t, 50.0), i)
            })
            .collect();
        slow.sort_by_key(|&(t, i)| (std::cmp::Reverse(t), i));
        println!("\nbulletin's 10 slowest queries (median of the runs; total matches):");
        for &(t, i) in slow.iter().take(10) {
            let peers: Vec<String> = measured[1..]
                .iter()
                .filter(|m| m.build.is_some())
                .map(|m| {
                    let mut pt = m.times[i].clone();
                    pt.sort();
                    format!("{} {:.2} ms", m.name, ms(percentile(&pt, 50.0)))
                })
                .collect();
            println!(
                "  {:>8.2} ms  {:<45} {:>8} matches   ({})",
                ms(t),
                queries[i].label(),
                b.counts[i],
                peers.join(", ")
            );
        }
    }
}

/// Compares the number of matches (stemmers differ, so they need not be equal)
/// and fails when bulletin finds nothing where a peer finds many.
fn check_counts(queries: &[BenchQuery], measured: &[Measured]) -> Result<()> {
    let peers: Vec<&Measured> = measured
        .iter()
        .skip(1)
        .filter(|m| m.build.is_some())
        .collect();
    let Some(b) = measured.first() else {
        return Ok(());
    };
    println!("\n== sanity check: total matches per system (untimed count queries for the peers)");
    print!("{:<48} {:>10}", "query", "bulletin");
    for p in &peers {
        print!(" {:>12}", p.name);
    }
    println!("   top10 returned");
    let mut shown = BTreeMap::new();
    for (i, q) in queries.iter().enumerate() {
        shown.entry(q.kind).or_insert_with(Vec::new).push(i);
    }
    for kind in KINDS {
        for &i in shown.get(&kind).map_or(&[][..], |v| &v[..]).iter().take(3) {
            print!("{:<48} {:>10}", queries[i].label(), b.counts[i]);
            for p in &peers {
                print!(" {:>12}", p.counts[i]);
            }
            print!("   {}", b.returned[i]);
            for p in &peers {
                print!("/{}", p.returned[i]);
            }
            println!();
        }
    }
    let mut broken = Vec::new();
    for p in &peers {
        let mut within = 0;
        let mut both_zero = 0;
        let mut far = Vec::new();
        for (i, q) in queries.iter().enumerate() {
            let (a, c) = (b.counts[i] as f64, p.counts[i] as f64);
            if a == 0.0 && c == 0.0 {
                both_zero += 1;
            } else if a > 0.0 && c > 0.0 && a / c <= 2.0 && c / a <= 2.0 {
                within += 1;
            } else {
                far.push(i);
            }
            if b.counts[i] == 0 && p.counts[i] >= 10 {
                broken.push(format!(
                    "{:?}: bulletin found nothing, {} found {}",
                    q.label(),
                    p.name,
                    p.counts[i]
                ));
            }
        }
        println!(
            "bulletin vs {}: {} of {} queries within a factor of 2, {} both zero, {} further apart{}",
            p.name,
            within,
            queries.len(),
            both_zero,
            far.len(),
            if far.is_empty() { "" } else { ", e.g.:" }
        );
        for &i in far.iter().take(8) {
            println!(
                "    {:<48} bulletin {:>8}  {} {:>8}",
                queries[i].label(),
                b.counts[i],
                p.name,
                p.counts[i]
            );
        }
    }
    let zero = b.counts.iter().filter(|&&c| c == 0).count();
    println!(
        "bulletin: {zero} of {} queries with no match",
        queries.len()
    );
    if !broken.is_empty() {
        for line in &broken {
            eprintln!("BROKEN: {line}");
        }
        return Err(format!(
            "{} queries found nothing in bulletin but many in a peer: the benchmark is broken",
            broken.len()
        )
        .into());
    }
    Ok(())
}
