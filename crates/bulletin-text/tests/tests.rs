//! Integration tests of the text format: one binary, one module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod corpus;
mod errors;
mod generated;
mod roundtrip;
