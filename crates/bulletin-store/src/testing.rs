//! Helpers for other crates' tests, behind the `testing` feature (never in
//! release builds). Scratch PostgreSQL databases now live in
//! `bulletin-test-support`; this name stays so that tests written against it
//! keep compiling until they import it from there.

pub use bulletin_test_support::TempPostgres;
