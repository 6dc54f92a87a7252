//! Running a search: the query, its filters, the page of results and facets.

use bulletin_core::{Date, gazetteer, slugify};
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue, SortByString};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{Order, Term};

use crate::schema::day_number;
use crate::{
    MAX_LIMIT, MAX_WINDOW, QueryError, SearchError, SearchIndex, SearchRequest, SearchResults,
    Sort, facets, query,
};

impl SearchIndex {
    /// Runs a search. CPU-bound: call it off the async threads.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let started = std::time::Instant::now();
        let results = self.search_now(request);
        let outcome = if results.is_ok() { "ok" } else { "error" };
        metrics::histogram!("bulletin_search_duration_seconds", "outcome" => outcome)
            .record(started.elapsed().as_secs_f64());
        results
    }

    fn search_now(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let snapshot = self.snapshot();
        let searcher = &snapshot.searcher;
        let f = self.inner.fields;
        let parsed = query::parse(&request.q)?;
        let limit = match request.limit {
            0 => 10,
            n => n.min(MAX_LIMIT),
        };
        // The offset comes from outside: checked, so a huge one cannot wrap past
        // the window's bound.
        match request.offset.checked_add(limit) {
            Some(end) if end <= MAX_WINDOW => {}
            end => {
                return Err(QueryError::WindowTooDeep {
                    offset: request.offset,
                    end: end.unwrap_or(usize::MAX),
                    max: MAX_WINDOW,
                }
                .into());
            }
        }
        let mut clauses = query::text_clauses(&f, &parsed);
        let has_text = !parsed.required.is_empty();
        if !has_text {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        for filter in self.filters(request)? {
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
        }
        let query = BooleanQuery::new(clauses);
        let sort = if has_text { request.sort } else { Sort::Newest };

        let window = TopDocs::with_limit(limit).and_offset(request.offset);
        let newest = || SortByStaticFastValue::<u64>::for_field("newest");
        // The last key: `newest` holds only a hash of the slug, which two
        // stories of one day and issue could share; the order stays total.
        let slug = || SortByString::for_field("slug");
        let (total, addresses, facets) = match sort {
            Sort::Relevance => {
                let top = window.order_by((
                    (SortBySimilarityScore, Order::Desc),
                    (newest(), Order::Desc),
                    (slug(), Order::Asc),
                ));
                if request.facets {
                    let (total, top, facets) =
                        searcher.search(&query, &(Count, top, facets::FacetCollector))?;
                    (total, top.into_iter().map(|x| x.1).collect(), Some(facets))
                } else {
                    let (total, top) = searcher.search(&query, &(Count, top))?;
                    (
                        total,
                        top.into_iter().map(|x| x.1).collect::<Vec<_>>(),
                        None,
                    )
                }
            }
            Sort::Newest => {
                let top = window.order_by(((newest(), Order::Desc), (slug(), Order::Asc)));
                if request.facets {
                    let (total, top, facets) =
                        searcher.search(&query, &(Count, top, facets::FacetCollector))?;
                    (total, top.into_iter().map(|x| x.1).collect(), Some(facets))
                } else {
                    let (total, top) = searcher.search(&query, &(Count, top))?;
                    (
                        total,
                        top.into_iter().map(|x| x.1).collect::<Vec<_>>(),
                        None,
                    )
                }
            }
        };
        let hits = self.hits(searcher, &query, &addresses, has_text)?;
        Ok(SearchResults {
            total: total as u64,
            offset: request.offset,
            limit,
            sort,
            hits,
            facets,
            notes: parsed.notes,
            also_searched: parsed.expansions,
            seq: snapshot.seq,
        })
    }

    fn filters(&self, request: &SearchRequest) -> Result<Vec<Box<dyn Query>>, SearchError> {
        let f = self.inner.fields;
        let term = |field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::Basic,
            ))
        };
        let mut filters = Vec::new();
        if let Some(tag) = request.tag.as_deref().filter(|t| !t.trim().is_empty()) {
            filters.push(term(f.tag_slug, &slugify(tag)));
        }
        if let Some(country) = request.country.as_deref().filter(|c| !c.trim().is_empty()) {
            filters.push(term(f.country, &country_code(country)?));
        }
        if let Some(place) = request.place.as_deref().filter(|p| !p.trim().is_empty()) {
            let name = gazetteer()
                .place(place.trim())
                .map_or(place, |p| p.name.as_str());
            filters.push(term(f.place, &slugify(name)));
        }
        if let Some(issue) = request.issue {
            filters.push(Box::new(TermQuery::new(
                Term::from_field_u64(f.issue, u64::from(issue)),
                IndexRecordOption::Basic,
            )));
        }
        if let (Some(from), Some(to)) = (request.from, request.to)
            && from > to
        {
            return Err(QueryError::InvertedDates {
                from: from.to_string(),
                to: to.to_string(),
            }
            .into());
        }
        if request.from.is_some() || request.to.is_some() {
            use std::ops::Bound;
            let bound = |d: Option<Date>| {
                d.map_or(Bound::Unbounded, |d| {
                    Bound::Included(Term::from_field_i64(f.day, day_number(d)))
                })
            };
            filters.push(Box::new(RangeQuery::new(
                bound(request.from),
                bound(request.to),
            )));
        }
        Ok(filters)
    }
}

/// `KZ`, `kz`, `Kazakhstan`, `Kazakh SSR` → `KZ`.
fn country_code(input: &str) -> Result<String, QueryError> {
    let input = input.trim();
    if input.len() == 2 && input.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Ok(input.to_ascii_uppercase());
    }
    gazetteer()
        .country_code(&input.to_lowercase())
        .map(str::to_owned)
        .ok_or_else(|| QueryError::UnknownCountry(input.chars().take(100).collect()))
}
