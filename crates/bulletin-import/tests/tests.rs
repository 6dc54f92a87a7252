//! One test binary for the crate (see ripgrep): a module per source kind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

mod accounting;
mod backup;
mod markdown;
mod wxr;
