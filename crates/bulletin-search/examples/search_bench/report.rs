//! Step 5, statistics and the report, and the sanity check of the counts.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::helpers::{mb, ms, secs};
use crate::measure::Measured;
use crate::queries::{BenchQuery, KINDS, Kind};
use crate::{Args, Result, TOP};

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

pub(crate) fn report(args: &Args, queries: &[BenchQuery], measured: &[Measured]) {
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
pub(crate) fn check_counts(queries: &[BenchQuery], measured: &[Measured]) -> Result<()> {
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
