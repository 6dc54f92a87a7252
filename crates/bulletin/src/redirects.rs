//! `bulletin redirects`: every old address (from imports) that the site follows
//! and where it goes, in byte order. Those of stories that are not public (or
//! tags without public stories) are left out, as the site leaves them out.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use bulletin_store::Store;

use crate::global::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// One JSON object a line: {"from": ..., "to": ...}.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    global.with_store(async |store, _| {
        list(store.as_ref(), args.json).await?;
        Ok(ExitCode::SUCCESS)
    })
}

async fn list(store: &dyn Store, json: bool) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut after = String::new();
    let mut n = 0u64;
    loop {
        let page = store.live_redirects(&after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.from.clone();
        for r in &page {
            if json {
                serde_json::to_writer(&mut out, r)?;
                writeln!(out)?;
            } else {
                writeln!(out, "{} -> {}", r.from, r.to)?;
            }
        }
        n += page.len() as u64;
    }
    out.flush()?;
    if !json {
        eprintln!("{n} redirects");
    }
    Ok(())
}
