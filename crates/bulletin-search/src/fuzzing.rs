//! The function the fuzz target calls (`fuzz/fuzz_targets/search_query.rs`), so
//! that the corpus replay test (`tests/fuzz_corpus.rs`) runs exactly the same
//! code on stable. Not part of the API.

/// What a researcher types, read as a query (refused past `MAX_QUERY_CHARS`).
pub fn query(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::query::parse(&text);
}
