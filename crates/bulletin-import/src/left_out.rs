//! The line a story stands on when its source item has no text: a title-only
//! post, an image-only post, a post left empty on purpose. WordPress shows each
//! at its permalink with its title, so the import keeps it too; a story needs at
//! least one paragraph, so it gets one line saying what was left out.

/// A post whose body held an image and no text.
pub const IMAGE: &str = "[image left out]";
/// A post whose body held a gallery, video, audio or an embed and no text.
pub const MEDIA: &str = "[media left out]";
/// A Markdown page whose body held raw HTML and no text.
pub const HTML: &str = "[HTML left out]";
/// A post with no body at all (or one of markup only).
pub const NO_TEXT: &str = "[no text]";

/// Markup (lowercase) that shows a picture.
const IMAGE_MARKS: &[&str] = &["<img", "<picture", "[gallery", "[caption", "wp:image"];
/// Markup (lowercase) that embeds other media.
const MEDIA_MARKS: &[&str] = &[
    "<video",
    "<audio",
    "<iframe",
    "<embed",
    "<object",
    "[video",
    "[audio",
    "[embed",
    "[playlist",
    "wp:embed",
    "wp:video",
    "wp:audio",
];

/// The line for a post whose HTML body (WordPress's `content:encoded`) gave no
/// text.
pub fn for_html(html: &str) -> &'static str {
    let lower = html.to_ascii_lowercase();
    if IMAGE_MARKS.iter().any(|m| lower.contains(m)) {
        IMAGE
    } else if MEDIA_MARKS.iter().any(|m| lower.contains(m)) {
        MEDIA
    } else {
        NO_TEXT
    }
}

/// The line for a Markdown page whose body gave no text, from what its reading
/// left out.
pub fn for_markdown(images: usize, html_blocks: usize) -> &'static str {
    if images > 0 {
        IMAGE
    } else if html_blocks > 0 {
        HTML
    } else {
        NO_TEXT
    }
}

/// Whether `paragraph` is one of these lines.
pub fn is_stand_in(paragraph: &str) -> bool {
    [IMAGE, MEDIA, HTML, NO_TEXT].contains(&paragraph)
}

/// The warning that says so (the caller names the item).
pub fn warning(line: &str) -> String {
    format!("it has no text; it is kept, with “{line}” as its only paragraph")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_left_out() {
        assert_eq!(for_html(""), NO_TEXT);
        assert_eq!(for_html("&nbsp;<p></p>"), NO_TEXT);
        assert_eq!(for_html(r#"<a href="x"><IMG src="a.jpg"></a>"#), IMAGE);
        assert_eq!(for_html("[gallery ids=\"1,2\"]"), IMAGE);
        assert_eq!(for_html("<iframe src=\"v\"></iframe>"), MEDIA);
        assert_eq!(for_markdown(2, 0), IMAGE);
        assert_eq!(for_markdown(0, 1), HTML);
        assert_eq!(for_markdown(0, 0), NO_TEXT);
    }
}
