//! Related stories: more like this one.
//!
//! The terms are chosen here rather than by tantivy's `MoreLikeThisQuery`, which
//! counts them in a `HashMap` and keeps the first of tied terms in that map's
//! order: random per process, so two servers on the same archive listed
//! different related stories. Here every step has a total order: terms by score,
//! then field, then bytes; results by score, then newest (date, issue, slug
//! hash), then slug.

use std::collections::BTreeMap;

use tantivy::collector::TopDocs;
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue, SortByString};
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::tokenizer::TokenStream;
use tantivy::{DocAddress, Order, Searcher, TantivyDocument, Term};

use crate::{Hit, MAX_LIMIT, SearchError, SearchIndex};

/// Terms the query is made of, at most.
const MAX_QUERY_TERMS: usize = 16;
/// Shorter words (in bytes, after analysis) say little about a story.
const MIN_WORD_BYTES: usize = 3;
/// A term must be in at least this many stories (this one and another).
const MIN_DOC_FREQUENCY: u64 = 2;

impl SearchIndex {
    /// Stories like the one with `slug` (its rarest shared words in headline and
    /// text), best first, without itself. The same index gives the same list in
    /// every process.
    pub fn related(&self, slug: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        let snapshot = self.snapshot();
        let searcher = &snapshot.searcher;
        let f = self.inner.fields;
        let this_story = TermQuery::new(
            Term::from_field_text(f.slug, slug),
            IndexRecordOption::Basic,
        );
        let found = searcher.search(&this_story, &TopDocs::with_limit(1).order_by_score())?;
        let Some(&(_, address)) = found.first() else {
            return Ok(Vec::new());
        };
        let doc: TantivyDocument = searcher.doc(address)?;
        let terms = best_terms(searcher, &doc, &[f.headline, f.body])?;
        let Some(best) = terms.first().map(|t| t.score) else {
            return Ok(Vec::new());
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = terms
            .into_iter()
            .map(|t| {
                let query = TermQuery::new(t.term, IndexRecordOption::Basic);
                let boost = if best > 0.0 { t.score / best } else { 1.0 };
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), boost)) as Box<dyn Query>,
                )
            })
            .collect();
        clauses.push((Occur::MustNot, Box::new(this_story)));
        let query = BooleanQuery::new(clauses);
        let top = TopDocs::with_limit(limit.clamp(1, MAX_LIMIT)).order_by((
            (SortBySimilarityScore, Order::Desc),
            (
                SortByStaticFastValue::<u64>::for_field("newest"),
                Order::Desc,
            ),
            (SortByString::for_field("slug"), Order::Asc),
        ));
        let found = searcher.search(&query, &top)?;
        let addresses: Vec<DocAddress> = found.into_iter().map(|x| x.1).collect();
        self.hits(searcher, &AllQuery, &addresses, false)
    }
}

/// A term of the story and how much it says about it.
#[derive(Debug)]
struct ScoredTerm {
    term: Term,
    score: f32,
}

/// The story's most telling terms: frequent in it, rare in the archive (tf ×
/// BM25 idf), though in at least one other story and in at most a fifth of
/// them. Best first; ties go to the field, then the term's bytes.
fn best_terms(
    searcher: &Searcher,
    doc: &TantivyDocument,
    fields: &[Field],
) -> Result<Vec<ScoredTerm>, SearchError> {
    // Ordered maps: the counting order cannot leak into the choice.
    let mut frequencies: BTreeMap<(u32, String), u32> = BTreeMap::new();
    let mut analyzer = crate::schema::analyzer();
    for &field in fields {
        for value in doc.get_all(field) {
            let Some(text) = value.as_str() else { continue };
            let mut stream = analyzer.token_stream(text);
            while stream.advance() {
                let word = &stream.token().text;
                if word.len() >= MIN_WORD_BYTES {
                    *frequencies
                        .entry((field.field_id(), word.clone()))
                        .or_insert(0) += 1;
                }
            }
        }
    }
    let num_docs = searcher.num_docs();
    let max_doc_frequency = (num_docs / 5).max(MIN_DOC_FREQUENCY);
    let mut scored = Vec::new();
    for ((field, word), tf) in frequencies {
        let term = Term::from_field_text(Field::from_field_id(field), &word);
        let doc_frequency = searcher.doc_freq(&term)?;
        if !(MIN_DOC_FREQUENCY..=max_doc_frequency).contains(&doc_frequency) {
            continue;
        }
        scored.push(ScoredTerm {
            score: tf as f32 * idf(doc_frequency, num_docs),
            term,
        });
    }
    // The map gave (field, word) order; a stable sort by score keeps it for ties.
    scored.sort_by(|a, b| b.score.total_cmp(&a.score));
    scored.truncate(MAX_QUERY_TERMS);
    Ok(scored)
}

/// BM25's inverse document frequency, as tantivy scores with it.
fn idf(doc_frequency: u64, num_docs: u64) -> f32 {
    let x = (num_docs.saturating_sub(doc_frequency) as f32 + 0.5) / (doc_frequency as f32 + 0.5);
    (1.0 + x).ln()
}
