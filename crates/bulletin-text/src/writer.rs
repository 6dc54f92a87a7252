//! The canonical form: em dash, single spaces, `ENDS`, full footers.

use std::io::{self, Write};

use bulletin_core::{Story, infer_year, infer_year_from_copyright, render};

use crate::reader::Document;

/// `Tag Archives: TAG` and the blank line after it.
pub fn write_header<W: Write + ?Sized>(out: &mut W, tag: &str) -> io::Result<()> {
    write!(out, "Tag Archives: {tag}\n\n")
}

/// One story in canonical form, ending with a newline. `header_tag` is the file's
/// `Tag Archives:` tag, which the story then need not list in its `— Tags:` line.
/// `first` is false for every story after the first, which gets a blank line
/// before it.
pub fn write_story<W: Write + ?Sized>(
    out: &mut W,
    story: &Story,
    header_tag: Option<&str>,
    first: bool,
) -> io::Result<()> {
    if !first {
        out.write_all(b"\n")?;
    }
    write!(out, "{}\n\n", story.headline)?;
    let dateline = render::dateline_caps(story, !year_can_be_left_out(story));
    write!(out, "{dateline} ({}) \u{2014}", story.dateline.credit)?;
    let mut paragraphs = story.body.iter();
    if let Some(first) = paragraphs.next() {
        write!(out, " {first}")?;
    }
    out.write_all(b"\n\n")?;
    for p in paragraphs {
        write!(out, "{p}\n\n")?;
    }
    out.write_all(b"ENDS\n\n")?;
    if let Some(line) = render::issue_footer(story) {
        write!(out, "\u{2014} {line}\n\n")?;
    }
    writeln!(out, "\u{2014} {}", render::copyright_footer(story))?;
    let own_tags: Vec<&str> = story
        .tags
        .iter()
        .map(String::as_str)
        .filter(|t| Some(*t) != header_tag)
        .collect();
    if !own_tags.is_empty() {
        write!(out, "\n\u{2014} Tags: {}\n", own_tags.join(", "))?;
    }
    Ok(())
}

/// A dateline leaves its year out only where the source did and the reader will
/// infer the same year again.
fn year_can_be_left_out(story: &Story) -> bool {
    let d = &story.dateline;
    if !d.year_inferred {
        return false;
    }
    let (m, day) = (d.date.month(), d.date.day());
    let inferred = match story.issue.and_then(|i| i.date) {
        Some(issue_date) => infer_year(m, day, issue_date),
        None => infer_year_from_copyright(m, day, story.copyright.year),
    };
    inferred == Some(d.date)
}

/// A whole document: header (if any) and stories.
pub fn write_document<W: Write + ?Sized>(out: &mut W, doc: &Document) -> io::Result<()> {
    if let Some(tag) = &doc.tag {
        write_header(out, tag)?;
    }
    for (i, story) in doc.stories.iter().enumerate() {
        write_story(out, story, doc.tag.as_deref(), i == 0)?;
    }
    Ok(())
}

/// [`write_document`] into a string.
pub fn write_to_string(doc: &Document) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write_document(&mut out, doc);
    String::from_utf8_lossy(&out).into_owned()
}
