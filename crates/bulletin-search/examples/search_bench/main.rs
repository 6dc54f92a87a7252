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

mod build;
mod helpers;
mod measure;
mod queries;
mod report;
mod store;

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use sqlx::Executor as _;

use build::{build_bulletin, build_fts5, build_pg};
use helpers::{CpuWatch, secs};
use measure::{Measured, System, measure, measure_built};
use queries::{BenchQuery, KINDS, Rng, make_queries, sample_stories};
use report::{check_counts, report};
use store::ensure_store;

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
