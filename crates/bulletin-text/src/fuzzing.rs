//! The functions the fuzz targets call (`fuzz/fuzz_targets/`), so that the
//! corpus replay tests (`tests/fuzz_corpus.rs`) run exactly the same code on
//! stable. Not part of the API.

/// Reads `data` as bulletin text to the end, as `bulletin import` and
/// `bulletin check` do, and writes back what was read: every story it accepts must
/// read back the same (the round-trip invariant).
pub fn text_reader(data: &[u8]) {
    let mut reader = crate::Reader::new(data);
    let mut stories = Vec::new();
    for item in &mut reader {
        match item {
            Ok(parsed) => stories.push(parsed.story),
            Err(diagnostic) => {
                // Quoting must stay short whatever the line.
                let quoted = diagnostic.source_line.chars().count();
                assert!(
                    quoted <= crate::limits::MAX_QUOTE + 2,
                    "{quoted} characters quoted"
                );
            }
        }
    }
    let tag = reader.header_tag().map(str::to_owned);
    let _warnings = reader.finish();
    let doc = crate::Document { tag, stories };
    let written = crate::write_to_string(&doc);
    if let Ok(again) = crate::read_str(&written) {
        assert_eq!(
            again.stories, doc.stories,
            "the written text reads back differently"
        );
    }
}
