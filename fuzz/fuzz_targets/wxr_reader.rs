#![no_main]
// The body is the library's own, so that `cargo test` replays fuzz/corpus/wxr_reader/
// through exactly this code on stable.
libfuzzer_sys::fuzz_target!(|data: &[u8]| bulletin_import::fuzzing::wxr_reader(data));
