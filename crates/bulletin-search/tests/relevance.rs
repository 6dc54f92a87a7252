//! Relevance on the real archive page: what a researcher types finds what they
//! mean. Expected sets are computed from the stories themselves.

use std::collections::BTreeSet;

use bulletin_core::Date;
use bulletin_search::{SearchRequest, Sort};

use crate::{corpus_archive, visible_text};

fn set(v: Vec<String>) -> BTreeSet<String> {
    v.into_iter().collect()
}

#[tokio::test]
async fn pegasus_puts_the_pegasus_story_first() {
    let Some(a) = corpus_archive().await else {
        return;
    };
    let r = a.search("Pegasus");
    assert!(r.total >= 1);
    assert!(r.hits[0].headline.contains("Pegasus"), "{:?}", r.hits[0]);
    // Case and diacritics do not matter.
    assert_eq!(a.slugs("PEGASUS"), a.slugs("pégasus"));
}

#[tokio::test]
async fn old_names_find_the_new() {
    let Some(a) = corpus_archive().await else {
        return;
    };
    let almaty = set(a.slugs("Almaty"));
    let expected: BTreeSet<String> = a
        .stories
        .iter()
        .filter(|s| {
            visible_text(s).contains("almaty") || s.dateline.places.iter().any(|p| p == "Almaty")
        })
        .map(|s| s.slug.clone())
        .collect();
    assert!(expected.len() >= 3, "{expected:?}");
    assert_eq!(almaty, expected);
    for old in ["Alma-Ata", "alma ata", "\"Alma Ata\""] {
        let r = a.search(old);
        assert_eq!(
            set(r.hits.iter().map(|h| h.slug.clone()).collect()),
            expected,
            "{old}"
        );
        assert!(
            r.also_searched
                .iter()
                .any(|(_, names)| names.iter().any(|n| n == "Almaty")),
            "{old}: {:?}",
            r.also_searched
        );
    }
}

#[tokio::test]
async fn stems_match_but_detention_stays_itself() {
    let Some(a) = corpus_archive().await else {
        return;
    };
    let detained = set(a.slugs("detained"));
    let saying_detain: BTreeSet<String> = a
        .stories
        .iter()
        .filter(|s| {
            let t = visible_text(s);
            t.contains("detain ") || t.contains("detains") || t.contains("detained")
        })
        .map(|s| s.slug.clone())
        .collect();
    assert!(saying_detain.len() >= 2);
    assert_eq!(detained, saying_detain);
    assert_eq!(set(a.slugs("detain")), detained);
    let detention = a.slugs("detention");
    assert!(!detention.is_empty());
    for slug in &detention {
        assert!(visible_text(a.story(slug)).contains("detention"), "{slug}");
    }
    assert!(
        detained.iter().any(|s| !detention.contains(s)),
        "\"detention\" should not find every story that says \"detained\""
    );
}

#[tokio::test]
async fn phrases_match_only_the_exact_phrase() {
    let Some(a) = corpus_archive().await else {
        return;
    };
    let phrase = set(a.slugs("\"political prisoners\""));
    let expected: BTreeSet<String> = a
        .stories
        .iter()
        .filter(|s| visible_text(s).contains("political prisoner"))
        .map(|s| s.slug.clone())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(phrase, expected);
    // Both words, in any order: more stories than the phrase.
    let words = set(a.slugs("political prisoners"));
    assert!(
        words.is_superset(&phrase) && words.len() > phrase.len(),
        "{words:?}"
    );
    assert!(a.slugs("\"prisoners political\"").is_empty());
}

#[tokio::test]
async fn the_country_filter_returns_that_country_and_no_other() {
    let Some(a) = corpus_archive().await else {
        return;
    };
    let kazakh: BTreeSet<String> = a
        .stories
        .iter()
        .filter(|s| s.countries.iter().any(|c| c == "KZ"))
        .map(|s| s.slug.clone())
        .collect();
    assert!(kazakh.len() >= 3);
    for country in ["KZ", "kz", "Kazakhstan"] {
        let r = a.find(SearchRequest {
            country: Some(country.into()),
            limit: 100,
            ..SearchRequest::default()
        });
        assert_eq!(r.total as usize, kazakh.len(), "{country}");
        assert_eq!(set(r.hits.iter().map(|h| h.slug.clone()).collect()), kazakh);
        // No words: newest first.
        assert_eq!(r.sort, Sort::Newest);
        assert!(r.hits.windows(2).all(|w| w[0].date >= w[1].date));
    }
    // With words too: a subset, every one Kazakh.
    let r = a.find(SearchRequest {
        country: Some("KZ".into()),
        limit: 100,
        ..SearchRequest::new("opposition")
    });
    assert!(r.total > 0);
    assert!(r.hits.iter().all(|h| kazakh.contains(&h.slug)));
}

#[tokio::test]
async fn exclusion_and_or() {
    let Some(a) = corpus_archive().await else {
        return;
    };
    let pegasus = set(a.slugs("Pegasus"));
    let shymkent = set(a.slugs("Shymkent"));
    assert!(!pegasus.is_empty() && !shymkent.is_empty());
    let either = set(a.slugs("Pegasus OR Shymkent"));
    assert_eq!(either, pegasus.union(&shymkent).cloned().collect());
    let opposition = set(a.slugs("opposition"));
    let without = set(a.slugs("opposition -Pegasus"));
    assert_eq!(without, opposition.difference(&pegasus).cloned().collect());
    // Only exclusions: everything else.
    assert_eq!(
        a.search("-Pegasus").total as usize,
        a.stories.len() - pegasus.len()
    );
}

#[tokio::test]
async fn headline_matches_rank_above_body_matches() {
    let Some(a) = corpus_archive().await else {
        return;
    };
    for q in ["detain", "opposition", "court"] {
        let r = a.search(q);
        let in_headline: Vec<bool> = r
            .hits
            .iter()
            .map(|h| h.headline.to_lowercase().contains(q))
            .collect();
        assert!(in_headline.iter().any(|x| *x), "{q}: no headline match");
        assert!(in_headline.iter().any(|x| !*x), "{q}: no body-only match");
        let first_body_only = in_headline.iter().position(|x| !*x).unwrap();
        assert!(
            in_headline[first_body_only..].iter().all(|x| !*x),
            "{q}: {:?}",
            r.hits.iter().map(|h| &h.headline).collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn snippets_highlight_and_escape() {
    let Some(a) = corpus_archive().await else {
        return;
    };
    let r = a.search("Pegasus spyware");
    let hit = &r.hits[0];
    assert!(hit.snippet_html.contains("<mark>"), "{}", hit.snippet_html);
    assert!(
        hit.headline_html
            .starts_with("<mark>Pegasus spyware</mark>"),
        "{}",
        hit.headline_html
    );
    for h in &r.hits {
        for html in [&h.snippet_html, &h.headline_html] {
            let bare = html.replace("<mark>", "").replace("</mark>", "");
            assert!(!bare.contains('<') && !bare.contains('>'), "{html}");
        }
        assert!(!h.dateline.is_empty() && !h.date.is_empty() && h.url.starts_with('/'));
    }
}

#[tokio::test]
async fn facets_count_the_whole_query() {
    let Some(a) = corpus_archive().await else {
        return;
    };
    let r = a.find(SearchRequest {
        facets: true,
        limit: 2,
        ..SearchRequest::new("opposition")
    });
    let facets = r.facets.unwrap();
    assert_eq!(facets.years.iter().map(|y| y.1).sum::<u64>(), r.total);
    assert!(!facets.countries.is_empty() && !facets.tags.is_empty());
    for (code, n) in &facets.countries {
        let filtered = a.find(SearchRequest {
            country: Some(code.clone()),
            ..SearchRequest::new("opposition")
        });
        assert_eq!(filtered.total, *n, "{code}");
    }
    for (tag, n) in &facets.tags {
        let filtered = a.find(SearchRequest {
            tag: Some(tag.clone()),
            ..SearchRequest::new("opposition")
        });
        assert_eq!(filtered.total, *n, "{tag}");
    }
    for (year, n) in &facets.years {
        let year = i16::try_from(*year).unwrap();
        let filtered = a.find(SearchRequest {
            from: Some(Date::new(year, 1, 1).unwrap()),
            to: Some(Date::new(year, 12, 31).unwrap()),
            ..SearchRequest::new("opposition")
        });
        assert_eq!(filtered.total, *n, "{year}");
    }
}

#[tokio::test]
async fn pages_add_up_to_the_whole() {
    let Some(a) = corpus_archive().await else {
        return;
    };
    for sort in [Sort::Relevance, Sort::Newest] {
        let all = a.find(SearchRequest {
            sort,
            limit: 100,
            ..SearchRequest::new("the")
        });
        assert!(all.total > 5);
        let mut paged = Vec::new();
        for offset in (0..all.total as usize).step_by(3) {
            let page = a.find(SearchRequest {
                sort,
                offset,
                limit: 3,
                ..SearchRequest::new("the")
            });
            assert_eq!(page.total, all.total);
            paged.extend(page.hits.into_iter().map(|h| h.slug));
        }
        let whole: Vec<String> = all.hits.into_iter().map(|h| h.slug).collect();
        assert_eq!(paged, whole, "{sort:?}");
    }
    let newest = a.find(SearchRequest {
        sort: Sort::Newest,
        limit: 100,
        ..SearchRequest::new("the")
    });
    assert!(newest.hits.windows(2).all(|w| w[0].date >= w[1].date));
}

#[tokio::test]
async fn date_tag_place_and_issue_filters() {
    let Some(a) = corpus_archive().await else {
        return;
    };
    let from = Date::new(2021, 2, 1).unwrap();
    let to = Date::new(2021, 6, 30).unwrap();
    let r = a.find(SearchRequest {
        from: Some(from),
        to: Some(to),
        limit: 100,
        ..SearchRequest::default()
    });
    let expected = a
        .stories
        .iter()
        .filter(|s| s.dateline.date >= from && s.dateline.date <= to)
        .count();
    assert!(expected > 0);
    assert_eq!(r.total as usize, expected);

    let tagged = &a.stories.iter().find(|s| !s.tags.is_empty()).unwrap().tags[0];
    let with_tag = a.stories.iter().filter(|s| s.tags.contains(tagged)).count();
    let slug = bulletin_core::slugify(tagged);
    for tag in [tagged.as_str(), slug.as_str()] {
        let r = a.find(SearchRequest {
            tag: Some(tag.into()),
            ..SearchRequest::default()
        });
        assert_eq!(r.total as usize, with_tag, "{tag}");
    }

    let in_almaty = a
        .stories
        .iter()
        .filter(|s| s.dateline.places.iter().any(|p| p == "Almaty"))
        .count();
    assert!(in_almaty > 0);
    for place in ["Almaty", "almaty", "Alma-Ata"] {
        let r = a.find(SearchRequest {
            place: Some(place.into()),
            ..SearchRequest::default()
        });
        assert_eq!(r.total as usize, in_almaty, "{place}");
    }

    let numbered = a.stories.iter().find_map(|s| s.issue).unwrap();
    let in_issue = a
        .stories
        .iter()
        .filter(|s| s.issue.map(|i| i.number) == Some(numbered.number))
        .count();
    let r = a.find(SearchRequest {
        issue: Some(numbered.number),
        ..SearchRequest::default()
    });
    assert_eq!(r.total as usize, in_issue);
    assert!(r.hits.iter().all(|h| h.issue == Some(numbered.number)));
}

#[tokio::test]
async fn related_stories_are_like_the_story_and_not_it() {
    let Some(a) = corpus_archive().await else {
        return;
    };
    let pegasus = &a.search("Pegasus").hits[0].slug;
    let related = a.index.related(pegasus, 5).unwrap();
    assert!(!related.is_empty());
    assert!(related.len() <= 5);
    assert!(related.iter().all(|h| &h.slug != pegasus));
    assert!(a.index.related("no-such-story", 5).unwrap().is_empty());
}

/// Related stories are chosen with a total order, so every process lists the
/// same ones: among equally telling words the query keeps the first in byte
/// order, and equally good stories come newest first.
#[tokio::test]
async fn related_stories_break_every_tie_the_same_way() {
    let a = crate::empty_archive().await;
    // Twenty rare words, each in the story and in one other; every word tells
    // as much as the next (one use each, two stories each).
    let words: Vec<String> = "bcdfghjkmnpqrtvwxz"
        .chars()
        .map(|c| format!("kel{c}"))
        .chain(["kelbz".to_owned(), "kelcz".to_owned()])
        .collect();
    assert_eq!(words.len(), 20);
    let template = crate::generated(1, 3).remove(0);
    let make = |n: usize, body: String| {
        let mut s = template.clone();
        s.headline = format!("Notes {n:02}");
        s.slug = format!("notes-{n:02}");
        s.body = vec![body];
        s.dateline.date = Date::new(2020, 1, 1 + n as i8).unwrap();
        s.copyright.year = 2020;
        s.issue = None;
        s.tags = Vec::new();
        s.first_published = false;
        s.access = bulletin_core::Access::Public;
        s
    };
    let mut stories = vec![make(0, format!("Notes {}", words.join(" ")))];
    for (i, word) in words.iter().enumerate() {
        stories.push(make(i + 1, format!("Notes {word}")));
    }
    crate::put(&*a.store, stories.clone()).await;
    a.index.catch_up(&*a.store).await.unwrap();

    // The query keeps 16 words: the first 16 in byte order. Each finds one
    // story, all equally good, so they come newest first.
    let mut sorted = words.clone();
    sorted.sort();
    let kept: BTreeSet<String> = sorted.iter().take(16).cloned().collect();
    let mut expected: Vec<&bulletin_core::Story> = stories[1..]
        .iter()
        .filter(|s| kept.contains(s.body[0].trim_start_matches("Notes ")))
        .collect();
    expected.sort_by_key(|y| std::cmp::Reverse(y.dateline.date));
    let expected: Vec<String> = expected.iter().map(|s| s.slug.clone()).collect();
    assert_eq!(expected.len(), 16);
    for attempt in 0..5 {
        let related: Vec<String> = a
            .index
            .related("notes-00", 100)
            .unwrap()
            .into_iter()
            .map(|h| h.slug)
            .collect();
        assert_eq!(related, expected, "attempt {attempt}");
    }
}
