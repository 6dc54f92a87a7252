//! Replays the fuzz corpora through the functions the fuzz targets call (see
//! `bulletin_test_support::replay_fuzz_corpus` and `scripts/fuzz.sh`).

use bulletin_import::fuzzing;
use bulletin_test_support::replay_fuzz_corpus;

#[test]
fn wxr_reader_corpus_replays() {
    replay_fuzz_corpus("wxr_reader", fuzzing::wxr_reader);
}

#[test]
fn html_paragraphs_corpus_replays() {
    replay_fuzz_corpus("html_paragraphs", fuzzing::html_paragraphs);
}

#[test]
fn front_matter_corpus_replays() {
    replay_fuzz_corpus("front_matter", fuzzing::front_matter);
}

#[test]
fn backup_reader_corpus_replays() {
    replay_fuzz_corpus("backup_reader", fuzzing::backup_reader);
}
