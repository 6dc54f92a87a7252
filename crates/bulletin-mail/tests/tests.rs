//! bulletin-mail's integration tests: one binary, one module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod common;
mod message;
mod props;
mod render;
mod send;
