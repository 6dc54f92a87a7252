//! Integration tests of the text format: one binary, one module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod corpus;
mod errors;
mod fuzz_corpus;
mod generated;
mod limits;
mod roundtrip;

// Counts allocations, so that complexity tests measure work without a clock.
#[global_allocator]
static ALLOCATOR: bulletin_test_support::work::Counting = bulletin_test_support::work::Counting;
