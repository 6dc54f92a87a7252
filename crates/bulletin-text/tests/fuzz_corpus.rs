//! Replays the fuzz corpus through the function the fuzz target calls (see
//! `bulletin_test_support::replay_fuzz_corpus` and `scripts/fuzz.sh`).

#[test]
fn text_reader_corpus_replays() {
    bulletin_test_support::replay_fuzz_corpus("text_reader", bulletin_text::fuzzing::text_reader);
}
