//! One test binary for the crate (see ripgrep): a module per source kind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod accounting;
mod backup;
mod fuzz_corpus;
mod limits;
mod markdown;
mod wxr;

// Counts allocations, so that complexity tests measure work without a clock.
#[global_allocator]
static ALLOCATOR: bulletin_test_support::work::Counting = bulletin_test_support::work::Counting;
