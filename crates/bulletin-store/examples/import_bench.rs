//! Import throughput: `cargo run --release -p bulletin-store --example import_bench -- URL [N]`
//! (e.g. `sqlite:///tmp/bench.db` or `postgres://...`; use an empty database).
//! Puts N synthetic stories (default 100,000) in batches of 1,000 in one transaction,
//! then puts them all again (all unchanged), and prints stories per second.
//! A third argument `tx-per-batch` commits after every batch instead.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::time::Instant;

use bulletin_core::{Access, Copyright, Dateline, IssueRef, Story, slugify};

fn synthetic(i: u32) -> Story {
    let date = jiff::civil::date(
        2000 + (i / 5000 % 25) as i16,
        1 + (i % 12) as i8,
        1 + (i % 28) as i8,
    );
    let headline = format!("Synthetic headline number {} about things", i % 20_000);
    Story {
        slug: slugify(&headline),
        headline,
        dateline: Dateline {
            places: vec!["Baku".into(), "Almaty".into()],
            date,
            year_inferred: i.is_multiple_of(7),
            credit: "The Bulletin".into(),
        },
        body: (0..4)
            .map(|p| {
                format!(
                    "Paragraph {p} of story {i}. {}",
                    "Lorem ipsum dolor sit amet. ".repeat(8)
                )
            })
            .collect(),
        tags: vec![format!("tag {}", i % 40), "political rights".into()],
        countries: vec!["AZ".into(), "KZ".into()],
        issue: Some(IssueRef {
            number: i / 20 + 1,
            date: Some(date),
        }),
        first_published: i.is_multiple_of(2),
        copyright: Copyright {
            holder: "Central Asia & South Caucasus Bulletin".into(),
            year: date.year(),
        },
        access: Access::Public,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: import_bench URL [N]")?;
    let n: u32 = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    // "tx-per-batch": commit every batch instead of once at the end.
    let per_batch = args.next().as_deref() == Some("tx-per-batch");
    let store = bulletin_store::open(&url).await?;
    for pass in ["insert", "unchanged"] {
        // Only the store's work is timed, not making up the stories.
        let mut elapsed = std::time::Duration::ZERO;
        let mut start = Instant::now();
        let mut tx = store.begin_import().await?;
        elapsed += start.elapsed();
        let mut i = 0;
        while i < n {
            let batch: Vec<Story> = (i..(i + 1000).min(n)).map(synthetic).collect();
            i += batch.len() as u32;
            start = Instant::now();
            tx.put_stories(batch).await?;
            if per_batch {
                tx.commit().await?;
                tx = store.begin_import().await?;
            }
            elapsed += start.elapsed();
        }
        start = Instant::now();
        tx.commit().await?;
        elapsed += start.elapsed();
        let secs = elapsed.as_secs_f64();
        println!(
            "{} {pass}: {n} stories in {secs:.2}s = {:.0} stories/s",
            store.backend(),
            f64::from(n) / secs
        );
    }
    Ok(())
}
