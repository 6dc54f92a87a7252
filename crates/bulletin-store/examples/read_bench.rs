//! Read latency of the site's queries on a big store:
//! `cargo run --release -p bulletin-store --example read_bench -- URL`
//! (fill it first with `import_bench URL 1000000`). Prints each query's time.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::time::Instant;

use bulletin_store::StoryQuery;

macro_rules! timed {
    ($what:expr, $e:expr) => {{
        let start = Instant::now();
        let out = $e;
        println!(
            "{:>40}: {:>9.1} ms",
            $what,
            start.elapsed().as_secs_f64() * 1e3
        );
        out
    }};
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).ok_or("usage: read_bench URL")?;
    let store = bulletin_store::open(&url).await?;
    let all = StoryQuery::default();
    let n = timed!("count_stories (all)", store.count_stories(&all).await?);
    println!("{n} stories");
    let kz = StoryQuery {
        country: Some("kz".into()),
        ..StoryQuery::default()
    };
    timed!("count_stories (country)", store.count_stories(&kz).await?);
    let year = StoryQuery {
        from: Some(jiff::civil::date(2010, 1, 1)),
        to: Some(jiff::civil::date(2010, 12, 31)),
        ..StoryQuery::default()
    };
    timed!(
        "count_stories (one year)",
        store.count_stories(&year).await?
    );
    for offset in [0, 1_000, 100_000] {
        let q = StoryQuery {
            offset,
            limit: 20,
            ..StoryQuery::default()
        };
        timed!(format!("stories offset {offset}"), store.stories(&q).await?);
        let q = StoryQuery {
            offset,
            limit: 20,
            ..kz.clone()
        };
        timed!(
            format!("stories country offset {offset}"),
            store.stories(&q).await?
        );
        let q = StoryQuery {
            offset: offset.min(1000),
            limit: 20,
            ..year.clone()
        };
        timed!(
            format!("stories year offset {}", offset.min(1000)),
            store.stories(&q).await?
        );
    }
    // A second filter tested on the stories the first one walks.
    let kz_tag = StoryQuery {
        tag: Some("tag 3".into()),
        limit: 20,
        ..kz.clone()
    };
    timed!("stories country + tag", store.stories(&kz_tag).await?);
    timed!(
        "stories country + tag offset 1000",
        store
            .stories(&StoryQuery {
                offset: 1000,
                ..kz_tag.clone()
            })
            .await?
    );
    timed!(
        "count_stories country + tag",
        store.count_stories(&kz_tag).await?
    );
    let issue_kz = StoryQuery {
        issue: Some(5),
        ..kz.clone()
    };
    timed!("stories issue + country", store.stories(&issue_kz).await?);
    let c = timed!("countries", store.countries().await?);
    println!("{} countries", c.len());
    let p = timed!("places", store.places().await?);
    println!("{} places", p.len());
    let m = timed!("months", store.months().await?);
    println!("{} months", m.len());
    let latest = timed!("latest_issue", store.latest_issue().await?);
    let number = latest.map(|i| i.number).unwrap_or(1);
    timed!("neighbour_issues", store.neighbour_issues(number).await?);
    for offset in [0u64, 500_000, 950_000] {
        let e = timed!(
            format!("story_index {offset} + 50000"),
            store.story_index(offset, 50_000).await?
        );
        println!("{} entries", e.len());
    }
    timed!("last_change", store.last_change().await?);
    timed!("latest_change", store.latest_change().await?);
    timed!("counts", store.counts().await?);
    Ok(())
}
