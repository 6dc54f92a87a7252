#![no_main]
// The body is the library's own, so that `cargo test` replays fuzz/corpus/one_click/
// through exactly this code on stable.
libfuzzer_sys::fuzz_target!(|data: &[u8]| bulletin_web::fuzzing::one_click(data));
