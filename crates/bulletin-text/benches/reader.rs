//! Reader and writer throughput on generated bulletin text (MB/s on one core).
//! `cargo bench -p bulletin-text`
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use bulletin_text::synth::{GenOptions, generate};
use bulletin_text::{Reader, read_str, write_to_string};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn text(stories: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let options = GenOptions {
        stories,
        seed: 1,
        crlf: false,
        bom: false,
        header_tag: None,
    };
    // Generating into memory cannot fail.
    let _ = generate(&options, &mut out);
    out
}

fn reader(c: &mut Criterion) {
    let input = text(20_000);
    let mut group = c.benchmark_group("text");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.sample_size(20);
    group.bench_function("read 20k stories", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for item in Reader::new(&input[..]) {
                n += item.is_ok() as usize;
            }
            n
        })
    });
    let doc = read_str(std::str::from_utf8(&input).unwrap_or_default()).unwrap_or_default();
    group.bench_function("write 20k stories", |b| {
        b.iter(|| write_to_string(&doc).len())
    });
    group.bench_function("memchr newline scan (peer)", |b| {
        b.iter(|| memchr::memchr_iter(b'\n', &input).count())
    });
    group.finish();
}

criterion_group!(benches, reader);
criterion_main!(benches);
