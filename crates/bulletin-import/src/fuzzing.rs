//! The functions the fuzz targets call (`fuzz/fuzz_targets/`), so that the
//! corpus replay tests (`tests/fuzz_corpus.rs`) run exactly the same code on
//! stable. Not part of the API.

use bulletin_text::limits::MAX_QUOTE;

use crate::markdown::front;
use crate::{Diagnostic, Item, Settings};

/// Every message quotes at most `MAX_QUOTE` characters of its line (and the two
/// ellipses).
fn check_quote(d: &Diagnostic) {
    let quoted = d.source_line.chars().count();
    assert!(quoted <= MAX_QUOTE + 2, "{quoted} characters quoted");
}

/// A WordPress export, read to its end or its first error.
pub fn wxr_reader(data: &[u8]) {
    for item in crate::wxr::read("fuzz.xml", data, &Settings::default()) {
        match item {
            Ok(Item::Warning(d)) => check_quote(&d),
            Ok(_) => {}
            Err(d) => check_quote(&d),
        }
    }
}

/// A post body to paragraphs, and a title to one line.
pub fn html_paragraphs(data: &[u8]) {
    let html = String::from_utf8_lossy(data);
    let (paragraphs, _warnings) = crate::html::paragraphs(&html);
    for p in &paragraphs {
        assert!(!p.is_empty());
    }
    let _ = crate::html::text(&html);
}

/// A Markdown file's front matter (TOML, YAML or JSON), found and read as the
/// Markdown reader does; and the same text read as a site configuration in each
/// format.
pub fn front_matter(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match front::split(&text) {
        Ok(Some(split)) => match front::parse(&text, &split) {
            Ok(fm) => {
                let _ = fm.all_tags();
            }
            Err(d) => check_quote(&d),
        },
        Ok(None) => {}
        Err(d) => check_quote(&d),
    }
    for format in [
        front::Format::Toml,
        front::Format::Yaml,
        front::Format::Json,
    ] {
        if let Err(d) = front::parse_as::<serde_json::Value>(&text, format, &text, 0) {
            check_quote(&d);
        }
    }
}

/// A JSON backup or export, every part read and dropped.
pub fn backup_reader(data: &[u8]) {
    let _ = crate::backup::read(data, &mut |_part| Ok(()));
}
