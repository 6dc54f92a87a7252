//! Step 1, the bulletin store: generated once, kept, and reused by the next run
//! with the same N and seed.

use std::sync::Arc;
use std::time::Instant;

use bulletin_core::Story;
use bulletin_store::Store;

use crate::helpers::{dir_size, mb, secs};
use crate::{Args, BATCH, Result};

const MARKER: &str = "bench-marker.txt";

pub(crate) async fn ensure_store(args: &Args) -> Result<Arc<dyn Store>> {
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
