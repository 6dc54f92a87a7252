#![no_main]
// The body is the library's own, so that `cargo test` replays fuzz/corpus/search_query/
// through exactly this code on stable.
libfuzzer_sys::fuzz_target!(|data: &[u8]| bulletin_search::fuzzing::query(data));
