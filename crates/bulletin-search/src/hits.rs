//! Hits as a visitor reads them: fields, URL, and headline and snippet with
//! matched words marked.

use bulletin_core::render::escape_html as escape;
use tantivy::query::Query;
use tantivy::schema::Value;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Searcher, TantivyDocument};

use crate::schema::day_from_number;
use crate::{Hit, SearchError, SearchIndex};

impl SearchIndex {
    pub(crate) fn hits(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        addresses: &[DocAddress],
        has_text: bool,
    ) -> Result<Vec<Hit>, SearchError> {
        let f = self.inner.fields;
        let mut body_snippets = SnippetGenerator::create(searcher, query, f.body)?;
        body_snippets.set_max_num_chars(240);
        let mut headline_snippets = SnippetGenerator::create(searcher, query, f.headline)?;
        headline_snippets.set_max_num_chars(1_000);
        let mut hits = Vec::with_capacity(addresses.len());
        for &address in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            let text = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            };
            let texts = |field| {
                doc.get_all(field)
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            };
            let headline = text(f.headline);
            let body = text(f.body);
            let headline_html = has_text
                .then(|| marked(&headline_snippets, &headline, false))
                .flatten()
                .unwrap_or_else(|| escape(&headline));
            let snippet_html = has_text
                .then(|| marked(&body_snippets, &body, true))
                .flatten()
                .unwrap_or_else(|| escape(&lead(&body, 240)));
            let day = doc.get_first(f.day).and_then(|v| v.as_i64()).unwrap_or(0);
            let date = day_from_number(day);
            let slug = text(f.slug);
            let url = date.map_or_else(String::new, |d| {
                format!("/{:04}/{:02}/{:02}/{slug}/", d.year(), d.month(), d.day())
            });
            hits.push(Hit {
                headline,
                headline_html,
                dateline: text(f.dateline),
                places: texts(f.place_name),
                date: date.map_or_else(String::new, |d| d.to_string()),
                issue: doc
                    .get_first(f.issue)
                    .and_then(|v| v.as_u64())
                    .and_then(|n| u32::try_from(n).ok()),
                url,
                snippet_html,
                access: text(f.access),
                tags: texts(f.tag),
                countries: texts(f.country),
                slug,
            });
        }
        Ok(hits)
    }
}

/// `text` (or, when `excerpt`, the best passage of it) HTML-escaped, with the
/// words `generator` matched in `<mark>`; `None` when nothing matched.
fn marked(generator: &SnippetGenerator, text: &str, excerpt: bool) -> Option<String> {
    let snippet = generator.snippet(text);
    if snippet.highlighted().is_empty() {
        return None;
    }
    let fragment = snippet.fragment_range();
    let (start, end) = if excerpt {
        (fragment.start, fragment.end)
    } else {
        (0, text.len())
    };
    let mut html = String::with_capacity(end - start + 64);
    // Show where a passage was cut from a longer text.
    let cut = |part: &str| part.chars().any(char::is_alphanumeric);
    if cut(&text[..start]) {
        html.push_str("… ");
    }
    let mut at = start;
    for range in snippet.highlighted() {
        let (from, to) = (fragment.start + range.start, fragment.start + range.end);
        if from < at || to > end {
            continue;
        }
        let gap = &text[at..from];
        // Adjacent matches (a phrase) read as one mark.
        if html.ends_with("</mark>") && gap.trim().is_empty() {
            html.truncate(html.len() - "</mark>".len());
            html.push_str(&escape(gap));
        } else {
            html.push_str(&escape(gap));
            html.push_str("<mark>");
        }
        html.push_str(&escape(&text[from..to]));
        html.push_str("</mark>");
        at = to;
    }
    html.push_str(&escape(&text[at..end]));
    if cut(&text[end..]) {
        html.push_str(" …");
    }
    Some(html.trim().to_owned())
}

/// The first `max` characters of `text`, cut at a word, with an ellipsis.
fn lead(text: &str, max: usize) -> String {
    let first = text.split("\n\n").next().unwrap_or_default();
    if first.chars().count() <= max {
        return first.to_owned();
    }
    let cut: String = first.chars().take(max).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}
