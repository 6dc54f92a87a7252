//! Every unreadable input is an error with line, column and the line quoted;
//! nothing panics.

use bulletin_text::{Diagnostic, Reader, Severity, read_str};

const GOOD: &str = "Ministers meet in Tbilisi\n\
\n\
TBILISI/MAY 3 2022 (The Bulletin) \u{2014} Ministers from three countries met on Tuesday.\n\
\n\
They agreed to meet again.\n\
\n\
ENDS\n\
\n\
\u{2014} This story was published in issue 520 of the Example Bulletin, on May 5 2022\n\
\n\
\u{2014} Copyright the Example Bulletin 2022\n";

fn errors_of(text: &[u8]) -> Vec<Diagnostic> {
    Reader::new(text).filter_map(Result::err).collect()
}

fn single_error(text: &str) -> Diagnostic {
    let errors = errors_of(text.as_bytes());
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].severity, Severity::Error);
    errors[0].clone()
}

#[test]
fn the_good_sample_reads() {
    let doc = read_str(GOOD).unwrap();
    assert_eq!(doc.stories.len(), 1);
    assert_eq!(doc.stories[0].countries, ["GE"]);
}

#[test]
fn paragraphs_that_open_like_footers_stay_paragraphs() {
    let text = GOOD.replace(
        "They agreed to meet again.",
        "This story was first reported by a local radio station.\n\nCopyright lawyers said the case would set a precedent.",
    );
    let doc = read_str(&text).unwrap();
    assert_eq!(doc.stories[0].body.len(), 3);
    assert!(doc.stories[0].body[2].starts_with("Copyright lawyers"));
}

#[test]
fn unknown_month() {
    let e = single_error(&GOOD.replace("MAY 3", "MAYY 3"));
    assert_eq!((e.line, e.column), (3, 9));
    assert!(
        e.message.contains("unknown month \u{201c}MAYY\u{201d}"),
        "{}",
        e.message
    );
    assert!(e.source_line.starts_with("TBILISI/MAYY 3 2022"));
    let shown = e.display("f.txt").to_string();
    assert!(
        shown.starts_with("f.txt:3:9: error: unknown month"),
        "{shown}"
    );
    assert!(shown.contains("     3 | TBILISI/MAYY"), "{shown}");
}

#[test]
fn impossible_date() {
    let e = single_error(&GOOD.replace("MAY 3 2022", "FEB. 30 2022"));
    assert_eq!((e.line, e.column), (3, 9));
    assert!(e.message.contains("impossible date"), "{}", e.message);
    let e = single_error(&GOOD.replace("MAY 3 2022", "FEB. 29 2022"));
    assert!(
        e.message.contains("FEB. 29 2022 does not exist"),
        "{}",
        e.message
    );
    let e = single_error(&GOOD.replace("on May 5 2022", "on May 32 2022"));
    assert_eq!(e.line, 9);
    assert!(e.message.contains("impossible issue date"), "{}", e.message);
}

#[test]
fn truncated_story() {
    let cut = &GOOD[..GOOD.find("ENDS").unwrap()];
    let e = single_error(cut);
    assert_eq!(e.line, 1);
    assert!(e.message.contains("no end mark"), "{}", e.message);
    let cut = &GOOD[..GOOD.find("\u{2014} This story").unwrap()];
    assert!(single_error(cut).message.contains("no footer"));
    let cut = &GOOD[..GOOD.find("\u{2014} Copyright").unwrap()];
    assert!(
        single_error(cut)
            .message
            .contains("copyright footer is missing")
    );
    assert!(
        single_error("Only a headline\n")
            .message
            .contains("headline with no story")
    );
}

#[test]
fn missing_end_mark_before_footer() {
    let e = single_error(&GOOD.replace("ENDS\n\n", ""));
    assert_eq!(e.line, 7);
    assert!(e.message.contains("no end mark"), "{}", e.message);
}

#[test]
fn invalid_utf8() {
    let mut bytes = GOOD.as_bytes().to_vec();
    let at = GOOD.find("agreed").unwrap();
    bytes[at] = 0xff;
    let errors = errors_of(&bytes);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!((errors[0].line, errors[0].column), (5, 6));
    assert!(errors[0].message.contains("not valid UTF-8"));
}

#[test]
fn unreadable_dateline_and_missing_year_source() {
    let e = single_error(&GOOD.replace(" (The Bulletin)", ""));
    assert!(e.message.contains("unreadable dateline"), "{}", e.message);
    assert_eq!(e.line, 3);
    // No year, no issue date: the copyright year decides ...
    let no_year = GOOD
        .replace("MAY 3 2022", "MAY 3")
        .replace(", on May 5 2022", "");
    let doc = read_str(&no_year).unwrap();
    assert_eq!(doc.stories[0].dateline.date.year(), 2022);
    // ... and with no copyright year either, it is an error.
    let e = single_error(&no_year.replace(" 2022\n", "\n"));
    assert!(e.message.contains("copyright"), "{}", e.message);
}

#[test]
fn a_bad_story_does_not_hide_the_good_ones() {
    let text = format!("{GOOD}\n{}\n{GOOD}", GOOD.replace("MAY 3", "MAYY 3"));
    let items: Vec<_> = Reader::new(text.as_bytes()).collect();
    assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 2);
    let errors: Vec<_> = items.iter().filter_map(|i| i.as_ref().err()).collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 15);
    assert!(read_str(&text).is_err(), "read_str is all or nothing");
}

#[test]
fn lint_warnings() {
    // The dateline after its issue date; the copyright year differs.
    let text = GOOD
        .replace("MAY 3 2022", "MAY 9 2022")
        .replace("Bulletin 2022", "Bulletin 2021");
    let items: Vec<_> = Reader::new(text.as_bytes()).collect();
    let story = items[0].as_ref().unwrap();
    let messages: Vec<&str> = story.warnings.iter().map(|w| w.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("after the date of issue 520")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("copyright year 2021 differs")),
        "{messages:?}"
    );
}

/// Found by fuzzing: a "— Tags:" line where a headline belongs was taken as
/// the next story's headline, and written back it read as the story before's
/// tags. It is refused where it stands.
#[test]
fn a_tags_line_is_not_a_headline() {
    let text = format!("\u{2014} Tags: ports, shipping\n\n{GOOD}");
    let errors = errors_of(text.as_bytes());
    let first = &errors[0];
    assert_eq!((first.line, first.column), (1, 1), "{errors:#?}");
    assert!(first.message.contains("Tags:"), "{}", first.message);
    // Right after a story's copyright line, it is that story's tags.
    let doc = read_str(&format!("{GOOD}\n\u{2014} Tags: ports, shipping\n")).unwrap();
    assert_eq!(doc.stories[0].tags, ["ports", "shipping"]);
}
