//! Counts per country, tag and year of every story a query matches, read from
//! fast fields (no stored document is opened).

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Counts of the current query's matches, largest first (years: newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Facets {
    pub countries: Vec<(String, u64)>,
    pub tags: Vec<(String, u64)>,
    pub years: Vec<(i64, u64)>,
}

pub struct FacetCollector;

pub struct SegmentFacets {
    countries: Option<StrColumn>,
    tags: Option<StrColumn>,
    day: Column<i64>,
    country_counts: Vec<u64>,
    tag_counts: Vec<u64>,
    years: HashMap<i64, u64>,
}

#[derive(Default)]
pub struct FacetFruit {
    countries: HashMap<String, u64>,
    tags: HashMap<String, u64>,
    years: HashMap<i64, u64>,
}

impl Collector for FacetCollector {
    type Fruit = Facets;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let fast = reader.fast_fields();
        let countries = fast.str("country")?;
        let tags = fast.str("tag")?;
        Ok(SegmentFacets {
            country_counts: vec![0; countries.as_ref().map_or(0, |c| c.num_terms())],
            tag_counts: vec![0; tags.as_ref().map_or(0, |c| c.num_terms())],
            countries,
            tags,
            day: fast.i64("day")?,
            years: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetFruit>) -> tantivy::Result<Facets> {
        let mut all = FacetFruit::default();
        for fruit in fruits {
            for (k, v) in fruit.countries {
                *all.countries.entry(k).or_default() += v;
            }
            for (k, v) in fruit.tags {
                *all.tags.entry(k).or_default() += v;
            }
            for (k, v) in fruit.years {
                *all.years.entry(k).or_default() += v;
            }
        }
        let by_count = |map: HashMap<String, u64>| {
            let mut v: Vec<(String, u64)> = map.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v
        };
        let mut years: Vec<(i64, u64)> = all.years.into_iter().collect();
        years.sort_by_key(|y| std::cmp::Reverse(y.0));
        Ok(Facets {
            countries: by_count(all.countries),
            tags: by_count(all.tags),
            years,
        })
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = FacetFruit;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(c) = &self.countries {
            for ord in c.term_ords(doc) {
                if let Some(n) = self.country_counts.get_mut(ord as usize) {
                    *n += 1;
                }
            }
        }
        if let Some(t) = &self.tags {
            for ord in t.term_ords(doc) {
                if let Some(n) = self.tag_counts.get_mut(ord as usize) {
                    *n += 1;
                }
            }
        }
        if let Some(day) = self.day.first(doc) {
            *self.years.entry(day / 10_000).or_default() += 1;
        }
    }

    fn harvest(self) -> FacetFruit {
        let names = |column: &Option<StrColumn>, counts: Vec<u64>| {
            let mut out = HashMap::new();
            let Some(column) = column else {
                return out;
            };
            for (ord, n) in counts.into_iter().enumerate() {
                let mut name = String::new();
                if n > 0 && column.ord_to_str(ord as u64, &mut name).unwrap_or(false) {
                    out.insert(name, n);
                }
            }
            out
        };
        FacetFruit {
            countries: names(&self.countries, self.country_counts),
            tags: names(&self.tags, self.tag_counts),
            years: self.years,
        }
    }
}
