//! The reader on the real archive page: expected values written from reading it.

use bulletin_core::Date;
use bulletin_text::{Reader, Severity, read_str};

fn date(y: i16, m: i8, d: i8) -> Date {
    Date::new(y, m, d).unwrap()
}

struct Expected {
    headline_starts: &'static str,
    places: &'static [&'static str],
    date: Date,
    year_inferred: bool,
    paragraphs: usize,
    issue: u32,
    issue_date: Option<Date>,
    first_published: bool,
    copyright: i16,
    countries: &'static [&'static str],
}

/// One row a story, in file order: headline start, places, date, year inferred,
/// paragraphs, issue, issue date, first published, copyright year, countries.
#[rustfmt::skip]
fn expected() -> Vec<Expected> {
    type Row = (&'static str, &'static [&'static str], Date, bool, usize, u32, Option<Date>, bool, i16, &'static [&'static str]);
    let rows: Vec<Row> = vec![
        ("Tajik opposition in exile", &[], date(2024, 4, 16), false, 1, 565, Some(date(2024, 4, 23)), false, 2024, &["TJ"]),
        ("Turkey needs to do more", &[], date(2021, 11, 2), false, 1, 506, Some(date(2021, 11, 4)), false, 2021, &["TM"]),
        ("Pegasus spyware targets", &["Baku", "Almaty"], date(2021, 7, 18), false, 7, 493, Some(date(2021, 7, 22)), false, 2021, &["AZ", "KZ"]),
        ("Kazakh court sentences activist", &[], date(2021, 6, 15), false, 1, 48, Some(date(2021, 6, 16)), false, 2021, &["KZ"]),
        ("Tajik court imprisons son", &[], date(2021, 3, 1), false, 1, 474, Some(date(2021, 3, 5)), false, 2021, &["TJ"]),
        ("Police in Almaty detain", &[], date(2021, 2, 28), false, 1, 474, Some(date(2021, 3, 5)), false, 2021, &["KZ"]),
        ("Uzbek police detain", &[], date(2021, 2, 28), false, 1, 474, Some(date(2021, 3, 5)), false, 2021, &["UZ"]),
        ("Kazakh authorities clamp down", &["Almaty"], date(2021, 2, 10), false, 8, 471, None, true, 2021, &["KZ"]),
        ("Azerbaijani authorities arrest", &[], date(2020, 7, 28), true, 1, 455, Some(date(2020, 7, 31)), false, 2020, &["AM", "AZ"]),
        ("Kazakh court imprisons activist", &[], date(2020, 6, 22), true, 1, 451, Some(date(2020, 6, 23)), true, 2020, &["KZ"]),
    ];
    rows.into_iter()
        .map(|(headline_starts, places, date, year_inferred, paragraphs, issue, issue_date, first_published, copyright, countries)| Expected {
            headline_starts, places, date, year_inferred, paragraphs, issue, issue_date, first_published, copyright, countries,
        })
        .collect()
}

fn corpus_text() -> Option<String> {
    let path = bulletin_test_support::shared("corpus/tag-archive-political-rights.txt")?;
    Some(std::fs::read_to_string(path).unwrap())
}

#[test]
fn every_story_as_written() {
    let Some(text) = corpus_text() else { return };
    let doc = read_str(&text).unwrap_or_else(|e| panic!("corpus must read cleanly: {e:?}"));
    assert_eq!(doc.tag.as_deref(), Some("political rights"));
    let expected = expected();
    assert_eq!(doc.stories.len(), expected.len());
    for (story, want) in doc.stories.iter().zip(&expected) {
        let h = &story.headline;
        assert!(h.starts_with(want.headline_starts), "{h}");
        assert_eq!(story.dateline.places, want.places, "{h}");
        assert_eq!(story.dateline.date, want.date, "{h}");
        assert_eq!(story.dateline.year_inferred, want.year_inferred, "{h}");
        assert_eq!(story.dateline.credit, "The Bulletin", "{h}");
        assert_eq!(story.body.len(), want.paragraphs, "{h}");
        let issue = story.issue.unwrap();
        assert_eq!(issue.number, want.issue, "{h}");
        assert_eq!(issue.date, want.issue_date, "{h}");
        assert_eq!(story.first_published, want.first_published, "{h}");
        assert_eq!(story.copyright.year, want.copyright, "{h}");
        assert_eq!(
            story.copyright.holder,
            "Central Asia & South Caucasus Bulletin"
        );
        assert_eq!(story.tags, ["political rights"], "{h}");
        assert_eq!(story.countries, want.countries, "{h}");
        for p in &story.body {
            assert_eq!(p.trim(), p, "paragraphs are trimmed: {p:?}");
            assert!(!p.ends_with('\u{a0}') && !p.starts_with('\u{a0}'), "{p:?}");
            assert!(
                !p.contains("ENDS") && !p.contains("Copyright the"),
                "footers are not body: {p}"
            );
            assert!(
                !p.contains("(The Bulletin)"),
                "the dateline is out of the body: {p}"
            );
        }
    }
    // Every headline exactly, through its WordPress slug.
    let slugs: Vec<&str> = doc.stories.iter().map(|s| s.slug.as_str()).collect();
    assert_eq!(
        slugs,
        [
            "tajik-opposition-in-exile-disappear",
            "turkey-needs-to-do-more-to-protect-turkmen-exiles-say-human-rights-groups",
            "pegasus-spyware-targets-azerbaijani-and-kazakh-opposition",
            "kazakh-court-sentences-activist-to-prison-for-ablyazov-links",
            "tajik-court-imprisons-son-of-opposition-leader",
            "police-in-almaty-detain-demonstrators",
            "uzbek-police-detain-opposition-leader",
            "kazakh-authorities-clamp-down-on-anti-china-protests",
            "azerbaijani-authorities-arrest-opposition-leaders",
            "kazakh-court-imprisons-activist-for-insulting-ruling-party",
        ]
    );
    // Details the reader must get exactly.
    let tajik = &doc.stories[0];
    assert_eq!(
        tajik.headline,
        "Tajik opposition in exile \u{201c}disappear\u{201d}"
    );
    assert_eq!(tajik.slug, "tajik-opposition-in-exile-disappear");
    let pegasus = &doc.stories[2];
    assert!(
        pegasus.body[0].starts_with("Officials in Kazakhstan"),
        "en dash without space: {}",
        pegasus.body[0]
    );
    assert_eq!(
        pegasus.url(),
        "/2021/07/18/pegasus-spyware-targets-azerbaijani-and-kazakh-opposition/"
    );
    assert!(
        doc.stories[5].body[0].starts_with("Police in Almaty"),
        "NBSP after the date"
    );
    assert!(
        doc.stories[7].body[0].starts_with("Apparently"),
        "NBSP after the dash"
    );
    // "reported.\u{a0} Supporters": the run of NBSP and space becomes one space.
    assert!(
        doc.stories[4].body[0].contains("reported. Supporters"),
        "{}",
        doc.stories[4].body[0]
    );
}

#[test]
fn lint_finds_issue_48_and_nothing_else_out_of_sequence() {
    let Some(text) = corpus_text() else { return };
    let mut reader = Reader::new(text.as_bytes());
    let mut warnings = Vec::new();
    for item in &mut reader {
        warnings.extend(item.expect("no errors in the corpus").warnings);
    }
    let file_level = reader.finish();
    assert_eq!(file_level.len(), 1, "{file_level:#?}");
    assert_eq!(file_level[0].line, 51);
    assert_eq!(file_level[0].severity, Severity::Warning);
    assert!(
        file_level[0].message.contains("issue number 48"),
        "{}",
        file_level[0].message
    );
    assert!(file_level[0].message.contains("474") && file_level[0].message.contains("493"));
    assert!(file_level[0].source_line.contains("issue 48 of"));
    // Per-story warnings: the undated issue line and the two inferred years.
    let mut found: Vec<(u64, &str)> = warnings
        .iter()
        .map(|w| {
            let kind = if w.message.contains("no year") {
                "inferred year"
            } else if w.message.contains("gives no date") {
                "undated issue"
            } else {
                "other"
            };
            (w.line, kind)
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            (105, "undated issue"),
            (111, "inferred year"),
            (121, "inferred year")
        ]
    );
    let inferred = warnings.iter().find(|w| w.line == 111).unwrap();
    assert!(
        inferred
            .message
            .contains("2020 was inferred from the issue date (July 31 2020)"),
        "{}",
        inferred.message
    );
}

#[test]
fn windows_editor_variants_read_the_same() {
    let Some(text) = corpus_text() else { return };
    let plain = read_str(&text).unwrap();
    let crlf = format!("\u{feff}{}", text.replace('\n', "\r\n"));
    assert_eq!(read_str(&crlf).unwrap(), plain);
    let trailing_newline = format!("{text}\n\n");
    assert_eq!(read_str(&trailing_newline).unwrap(), plain);
}

#[test]
fn canonical_rewrite_of_the_corpus() {
    let Some(text) = corpus_text() else { return };
    let doc = read_str(&text).unwrap();
    let canonical = bulletin_text::write_to_string(&doc);
    assert_eq!(read_str(&canonical).unwrap(), doc);
    // Canonical means: em dash, `ENDS`, full footers, no NBSP or trailing spaces.
    assert!(!canonical.contains('\u{2013}'));
    assert!(!canonical.contains("\u{2014} ENDS"));
    assert!(
        canonical
            .lines()
            .all(|l| l.trim_end() == l && !l.ends_with('\u{a0}'))
    );
    assert!(
        canonical.contains("JULY 28 (The Bulletin) \u{2014} "),
        "the inferred year stays implicit"
    );
    assert!(canonical.contains("first published in issue 451 of the Central Asia & South Caucasus Bulletin, on June 23 2020\n"));
    // Canonical text is a fixed point of read + write.
    assert_eq!(
        bulletin_text::write_to_string(&read_str(&canonical).unwrap()),
        canonical
    );
}
