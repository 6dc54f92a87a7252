//! Limits on size and count (`bulletin_text::limits`): beyond each, a refusal at
//! `line:column`; within them, work that grows linearly with the input
//! (measured in allocations by `bulletin_test_support::work`, never by a clock).

use bulletin_test_support::work::{assert_linear, measure};
use bulletin_text::limits::{MAX_LINE, MAX_QUOTE, MAX_STORY, MAX_TAGS};
use bulletin_text::{Diagnostic, Quote, Reader, read_str};

/// One story with `body` as its text and `tags` as its `— Tags:` line.
fn story(body: &str, tags: &str) -> String {
    format!(
        "Ministers meet\n\nTBILISI/MAY 3 2022 (The Bulletin) \u{2014} {body}\n\nENDS\n\n\
         \u{2014} This story was published in issue 520 of the Example Bulletin, on May 5 2022\n\n\
         \u{2014} Copyright the Example Bulletin 2022\n\n\u{2014} Tags: {tags}\n\n"
    )
}

fn errors_of(text: &[u8]) -> Vec<Diagnostic> {
    Reader::new(text).filter_map(Result::err).collect()
}

#[test]
fn tags_are_kept_once_in_first_seen_order() {
    let doc = read_str(&story("Words.", "b, a, b, c, a, d")).unwrap();
    assert_eq!(doc.stories[0].tags, ["b", "a", "c", "d"]);
    let doc = read_str(&format!(
        "Tag Archives: a\n\n{}",
        story("Words.", "b, a, c")
    ))
    .unwrap();
    assert_eq!(doc.stories[0].tags, ["a", "b", "c"]);
}

/// D8: one `— Tags:` line of 50,000 distinct tags (360 KB, under the line limit)
/// took seconds to de-duplicate, since each tag was compared with every tag
/// before it; 200,000 took half a minute. It is now refused at the first tag
/// past the limit, and de-duplication is linear below it.
#[test]
fn a_tags_line_past_the_limit_is_refused_at_the_first_tag_too_many() {
    let tags: Vec<String> = (0..50_000).map(|i| format!("t{i}")).collect();
    let line = tags.join(", ");
    let text = story("Words.", &line);
    let errors = errors_of(text.as_bytes());
    assert_eq!(errors.len(), 1, "{:?}", errors.first().map(|e| &e.message));
    let e = &errors[0];
    assert_eq!(e.line, 11);
    // The column of the first tag past the limit, counted here from the line.
    let prefix = format!("\u{2014} Tags: {}, ", tags[..MAX_TAGS].join(", "));
    assert_eq!(e.column, prefix.chars().count() as u64 + 1);
    assert!(
        e.message.contains(&format!("more than {MAX_TAGS} tags")),
        "{}",
        e.message
    );
    assert!(e.source_line.chars().count() <= MAX_QUOTE + 2);
    // The excerpt is around the column: it shows the offending tag.
    assert!(e.source_line.contains(&tags[MAX_TAGS]), "{}", e.source_line);
}

#[test]
fn de_duplicating_tags_is_linear() {
    let line = |n: usize| -> String {
        // Every tag twice, so that de-duplication has work to do.
        (0..n)
            .chain(0..n)
            .map(|i| format!("t{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let n = MAX_TAGS / 2;
    assert_linear(
        "a tags line",
        story("Words.", &line(n / 2)),
        story("Words.", &line(n)),
        1.25,
        |text| {
            let doc = read_str(&text).unwrap();
            assert!(doc.stories[0].tags.len() >= n / 2);
        },
    );
}

/// D10: a line of 20 MB was kept whole and repeated whole on stderr. It is now
/// skipped past the line limit and quoted in at most `MAX_QUOTE` characters.
#[test]
fn a_line_of_twenty_megabytes_is_refused_and_quoted_short() {
    let long = "x".repeat(20 << 20);
    let text = story(&format!("Words.\n\n{long}"), "a");
    let (errors, work) = measure(|| errors_of(text.as_bytes()));
    assert_eq!(errors.len(), 1, "{:?}", errors.first().map(|e| &e.message));
    let e = &errors[0];
    assert_eq!((e.line, e.column), (5, 1));
    assert!(e.message.contains("longer than"), "{}", e.message);
    assert!(e.source_line.starts_with("xxxx"), "{}", e.source_line);
    assert_eq!(e.source_line.chars().count(), MAX_QUOTE + 1);
    assert!(e.source_line.ends_with('\u{2026}'));
    let shown = e.display("big.txt").to_string();
    assert!(
        shown.len() < 2 * MAX_QUOTE + 400,
        "{} bytes shown",
        shown.len()
    );
    // The reader kept at most one line's worth, not the 20 MB.
    assert!(work.peak < 4 * MAX_LINE as u64, "{work:?}");
}

#[test]
fn quotes_are_cut_around_the_column_on_character_boundaries() {
    // A 20 MB line of three-byte characters, with the offending word far in.
    let mut line = "\u{2014}".repeat(10_000_000);
    line.push_str("HERE");
    line.push_str(&"\u{2014}".repeat(1_000));
    let column = 10_000_001;
    let d = Diagnostic::new(bulletin_text::Severity::Error, 7, column, "bad", &line);
    assert_eq!(d.column, column);
    assert_eq!(d.source_line.chars().count(), MAX_QUOTE + 2);
    assert!(d.source_line.starts_with('\u{2026}') && d.source_line.ends_with('\u{2026}'));
    let shown = d.display("f.txt").to_string();
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines[0], format!("f.txt:7:{column}: error: bad"));
    // The caret stands under the H of HERE.
    let quoted: Vec<char> = lines[1].chars().collect();
    let caret = lines[2].chars().count() - 1;
    assert_eq!(quoted[caret], 'H', "{shown}");
    // A short line is quoted whole, the caret where the column says.
    let q = Quote::of("short line", 7);
    assert_eq!((q.text.as_str(), q.caret), ("short line", 7));
    // The line's end, and beyond it.
    let q = Quote::of(&"y".repeat(1000), 1001);
    assert!(q.text.starts_with('\u{2026}') && !q.text.ends_with('\u{2026}'));
    assert_eq!(q.caret, MAX_QUOTE as u64 + 2);
}

#[test]
fn a_story_past_the_size_limit_is_refused_and_not_kept() {
    // Paragraphs of 100 KB with no end mark: a story that never ends.
    let paragraph = format!("{}end", "word ".repeat(20_000));
    let count = MAX_STORY / paragraph.len() + 2;
    let mut text =
        String::from("Ministers meet\n\nTBILISI/MAY 3 2022 (The Bulletin) \u{2014} First.\n\n");
    for _ in 0..count {
        text.push_str(&paragraph);
        text.push_str("\n\n");
    }
    let (errors, work) = measure(|| errors_of(text.as_bytes()));
    assert!(
        errors.iter().any(|e| e
            .message
            .contains(&format!("more than {} MiB", MAX_STORY >> 20))),
        "{:?}",
        errors.iter().map(|e| &e.message).collect::<Vec<_>>()
    );
    let first = errors.iter().find(|e| e.message.contains("MiB")).unwrap();
    // The refused line is a paragraph (lines 5, 7, 9, ...) at which the story's
    // text, counted here to within a line's end per line, passes the limit.
    assert!(
        first.line >= 5 && first.line % 2 == 1,
        "line {}",
        first.line
    );
    let paragraphs_through = (first.line - 5) / 2 + 1;
    let text_through = paragraphs_through as usize * paragraph.len();
    let lines_through = paragraphs_through as usize + 2;
    assert!(text_through + 1000 > MAX_STORY, "{text_through}");
    assert!(
        text_through - paragraph.len() <= MAX_STORY + lines_through,
        "{text_through}"
    );
    assert!(work.peak < MAX_STORY as u64 * 3, "{work:?}");
}

#[test]
fn reading_stories_is_linear() {
    let file = |n: usize| -> String {
        (0..n)
            .map(|i| story(&format!("Story number {i} of the file."), "a, b"))
            .collect()
    };
    assert_linear("stories", file(200), file(400), 1.25, |text| {
        let doc = read_str(&text).unwrap();
        assert!(doc.stories.len() >= 200);
    });
}

#[test]
fn reading_a_long_paragraph_is_linear() {
    let body = |n: usize| "word ".repeat(n);
    assert_linear(
        "a paragraph",
        story(&body(5_000), "a"),
        story(&body(10_000), "a"),
        1.25,
        |text| {
            read_str(&text).unwrap();
        },
    );
}
