//! Related stories: more like this one.

use tantivy::collector::TopDocs;
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue};
use tantivy::query::{AllQuery, BooleanQuery, MoreLikeThisQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, OwnedValue, Value};
use tantivy::{DocAddress, Order, TantivyDocument, Term};

use crate::{Hit, MAX_LIMIT, SearchError, SearchIndex};

impl SearchIndex {
    /// Stories like the one with `slug` (more-like-this on headline and text),
    /// best first, without itself.
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
        let value = |field| -> Vec<OwnedValue> {
            doc.get_all(field)
                .filter_map(|v| v.as_str().map(|s| OwnedValue::Str(s.to_owned())))
                .collect()
        };
        let max_doc_frequency = (searcher.num_docs() / 5).max(2);
        let like = MoreLikeThisQuery::builder()
            .with_min_doc_frequency(2)
            .with_max_doc_frequency(max_doc_frequency)
            .with_min_term_frequency(1)
            .with_min_word_length(3)
            .with_max_query_terms(16)
            .with_document_fields(vec![
                (f.headline, value(f.headline)),
                (f.body, value(f.body)),
            ]);
        let query = BooleanQuery::new(vec![
            (Occur::Should, Box::new(like) as Box<dyn Query>),
            (Occur::MustNot, Box::new(this_story)),
        ]);
        let top = TopDocs::with_limit(limit.clamp(1, MAX_LIMIT)).order_by((
            (SortBySimilarityScore, Order::Desc),
            (
                SortByStaticFastValue::<u64>::for_field("newest"),
                Order::Desc,
            ),
        ));
        let found = searcher.search(&query, &top)?;
        let addresses: Vec<DocAddress> = found.into_iter().map(|x| x.1).collect();
        self.hits(searcher, &AllQuery, &addresses, false)
    }
}
