//! Throughput of the WXR reader on a generated export (posts/s and MB/s on one
//! core). `cargo bench -p bulletin-import --bench wxr`
//!
//! The export is generated into memory once, checked to import in full, and then
//! read again and again; generating it is measured apart, as a peer.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use bulletin_import::wxr::synth::{Synth, generate};
use bulletin_import::{Report, Settings, wxr};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Enough posts for a figure that is not dominated by the header: ~19 MB.
const POSTS: u64 = 5_000;

fn import(export: &[u8]) -> Report {
    let mut report = Report::default();
    for item in wxr::read("generated.xml", export, &Settings::default()) {
        match item {
            Ok(item) => report.record(&item),
            Err(e) => panic!("{}", e.display("generated.xml")),
        }
    }
    report
}

fn reader(c: &mut Criterion) {
    let mut export = Vec::new();
    if let Err(e) = generate(POSTS, 1, &mut export) {
        panic!("generating into memory: {e}");
    }
    let report = import(&export);
    assert_eq!(report.story_count(), POSTS);
    print!("{report}");

    let mut group = c.benchmark_group("wxr");
    group.throughput(Throughput::Bytes(export.len() as u64));
    group.sample_size(10);
    group.bench_function("read 5k posts", |b| {
        b.iter(|| import(&export).story_count())
    });
    group.bench_function("generate 5k posts (peer)", |b| {
        b.iter(|| std::io::copy(&mut Synth::new(POSTS, 1), &mut std::io::sink()).ok())
    });
    group.finish();
}

criterion_group!(benches, reader);
criterion_main!(benches);
