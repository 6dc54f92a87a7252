//! `bulletin search` and `bulletin reindex`: the index in `DATA/search`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use bulletin_search::{SearchIndex, SearchRequest, Sort};
use bulletin_store::Store;

use crate::global::Global;
use crate::progress::Progress;

/// The index of a data directory.
pub fn index_dir(data: &Path) -> std::path::PathBuf {
    data.join("search")
}

pub fn open(data: &Path) -> Result<SearchIndex> {
    let dir = index_dir(data);
    SearchIndex::open(&dir)
        .with_context(|| format!("cannot open the search index in {}", dir.display()))
}

/// `bulletin reindex`.
pub fn reindex(global: &Global) -> Result<ExitCode> {
    global.with_store(async |store, _| {
        rebuild(store.as_ref(), &global.data).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Rebuilds the index from scratch with a progress bar.
async fn rebuild(store: &dyn Store, data: &Path) -> Result<()> {
    let index = open(data)?;
    let started = Instant::now();
    let progress = Progress::items("indexing", 0);
    let seq = index
        .rebuild(store, &mut |done, total| progress.set_items(done, total))
        .await?;
    progress.finish();
    eprintln!(
        "indexed {} stories in {:.1} s ({:.0} MB on disk, change {seq})",
        index.num_stories(),
        started.elapsed().as_secs_f64(),
        index.size_on_disk() as f64 / 1e6,
    );
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(value_name = "QUERY")]
    query: String,
    /// Print the results (with counts per country, tag and year) as JSON.
    #[arg(long)]
    json: bool,
    /// Only stories with this tag (name or slug).
    #[arg(long, value_name = "T")]
    tag: Option<String>,
    /// Only stories about this country (ISO code such as KZ, or name).
    #[arg(long, value_name = "XX")]
    country: Option<String>,
    /// Only stories dated on or after this day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    from: Option<bulletin_core::Date>,
    /// Only stories dated on or before this day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    to: Option<bulletin_core::Date>,
    /// Newest first instead of best match first.
    #[arg(long)]
    newest: bool,
    /// How many results to show (at most 100).
    #[arg(long, default_value_t = 10, value_name = "N")]
    limit: usize,
}

/// `bulletin search`.
pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    global.with_store(async |store, _| search(store.as_ref(), &global.data, args).await)
}

/// Catches the index up with the store, then searches it. Exit 1 when nothing
/// matched (like grep), 2 on a bad query.
async fn search(store: &dyn Store, data: &Path, query: Args) -> Result<ExitCode> {
    let index = open(data)?;
    index
        .catch_up(store)
        .await
        .context("cannot bring the search index up to date")?;
    let request = SearchRequest {
        q: query.query,
        tag: query.tag,
        country: query.country,
        from: query.from,
        to: query.to,
        sort: if query.newest {
            Sort::Newest
        } else {
            Sort::Relevance
        },
        limit: query.limit,
        facets: query.json,
        ..SearchRequest::default()
    };
    let results = match index.search(&request) {
        Ok(r) => r,
        Err(e) if e.is_bad_request() => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) => return Err(e.into()),
    };
    if query.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        for note in &results.notes {
            eprintln!("note: {note}");
        }
        for (typed, names) in &results.also_searched {
            eprintln!("note: {typed:?} also searched as {}", names.join(", "));
        }
        for hit in &results.hits {
            let issue = hit
                .issue
                .map(|n| format!("  issue {n}"))
                .unwrap_or_default();
            println!("{}  {}{issue}", hit.date, hit.headline);
            println!("    {}  {}", hit.dateline, hit.url);
            println!("    {}", plain(&hit.snippet_html));
        }
        eprintln!(
            "{} of {} {}",
            results.hits.len(),
            results.total,
            if results.total == 1 {
                "story"
            } else {
                "stories"
            }
        );
    }
    Ok(if results.total == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Snippet HTML as terminal text: highlights in brackets, entities decoded.
fn plain(html: &str) -> String {
    let html = html.split_whitespace().collect::<Vec<_>>().join(" ");
    html.replace("<mark>", "[")
        .replace("</mark>", "]")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}
