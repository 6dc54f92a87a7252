//! Send-queue throughput: `cargo run --release -p bulletin-store --example queue_bench -- URL [N]`
//! (an empty database: `sqlite:///tmp/q.db` or `postgres://...`). Adds N active
//! subscribers (default 100,000), publishes an issue, then times queueing it for all
//! of them (one statement) and claiming and recording every row in batches of 100,
//! as a sender would. Prints figures; asserts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::time::Instant;

use bulletin_core::subscriber::{Plan, SubscriberStatus};
use bulletin_core::{Access, Copyright, Dateline, IssueRef, Story};
use bulletin_store::{NewSubscriber, SendOutcome};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: queue_bench URL [N]")?;
    let n: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let store = bulletin_store::open(&url).await?;
    let now = jiff::Timestamp::now().as_second();

    let started = Instant::now();
    let mut tx = store.begin_import().await?;
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let list = chunk
            .iter()
            .map(|i| NewSubscriber {
                email: format!("reader{i}@example.org"),
                name: format!("Reader {i}"),
                plan: if i % 4 == 0 { Plan::Paid } else { Plan::Free },
                status: SubscriberStatus::Active,
            })
            .collect();
        tx.put_subscribers(list, now).await?;
    }
    let date = jiff::civil::date(2021, 7, 22);
    tx.put_stories(vec![Story {
        slug: "bench".into(),
        headline: "Bench".into(),
        dateline: Dateline {
            places: vec![],
            date,
            year_inferred: false,
            credit: "The Bulletin".into(),
        },
        body: vec!["Text.".into()],
        tags: vec![],
        countries: vec![],
        issue: Some(IssueRef {
            number: 1,
            date: Some(date),
        }),
        first_published: false,
        copyright: Copyright {
            holder: "The Bulletin".into(),
            year: 2021,
        },
        access: Access::Public,
    }])
    .await?;
    tx.commit().await?;
    println!(
        "{n} subscribers added in {:.2}s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let queued = store.queue_issue(1, now).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "queued {queued} sends in {secs:.2}s ({:.0}/s)",
        queued as f64 / secs
    );

    let started = Instant::now();
    let mut done = 0u64;
    loop {
        let jobs = store.claim_sends("bench", 100, now, 300).await?;
        if jobs.is_empty() {
            break;
        }
        for job in jobs {
            store
                .record_send(job.id, "bench", &SendOutcome::Sent, now)
                .await?;
            done += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "claimed and recorded {done} sends in {secs:.2}s ({:.0}/s): the queue's own ceiling on messages/s",
        done as f64 / secs
    );
    Ok(())
}
