//! The generator's text is text the reader accepts, with the warnings it plants.

use bulletin_text::synth::{GenOptions, generate};
use bulletin_text::{Document, Reader, read_str, write_to_string};

fn generated(stories: u64, seed: u64, crlf: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let options = GenOptions {
        stories,
        seed,
        crlf,
        bom: crlf,
        header_tag: None,
    };
    let stats = generate(&options, &mut out).unwrap();
    assert_eq!(stats.stories, stories);
    assert_eq!(stats.bytes, out.len() as u64);
    out
}

#[test]
fn every_generated_story_reads() {
    let text = generated(5_000, 11, false);
    let mut reader = Reader::new(&text[..]);
    let mut stories = 0;
    let mut inferred = 0;
    for item in &mut reader {
        let parsed = item.unwrap_or_else(|e| panic!("{}", e.display("gen")));
        stories += 1;
        inferred += parsed.story.dateline.year_inferred as usize;
        assert!(parsed.story.validate().is_ok());
    }
    assert_eq!(stories, 5_000);
    assert!(inferred > 50, "datelines without a year: {inferred}");
    let sequence = reader.finish();
    assert!(
        sequence
            .iter()
            .any(|w| w.message.contains("does not fit the sequence")),
        "the planted issue-number typo is caught"
    );
}

#[test]
fn generated_text_round_trips() {
    let text = String::from_utf8(generated(2_000, 5, false)).unwrap();
    let doc: Document = read_str(&text).unwrap();
    assert_eq!(read_str(&write_to_string(&doc)).unwrap(), doc);
    let windows = String::from_utf8(generated(2_000, 5, true)).unwrap();
    assert_eq!(read_str(&windows).unwrap(), doc);
}
