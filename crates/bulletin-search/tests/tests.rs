//! bulletin-search's integration tests: a real store (SQLite, and PostgreSQL when
//! `BULLETIN_TEST_POSTGRES_URL` is set), a real index on disk.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::sync::Arc;

use bulletin_core::Story;
use bulletin_search::{SearchIndex, SearchRequest, SearchResults};
use bulletin_store::Store;

mod bad_input;
mod fuzz_corpus;
mod relevance;
mod updates;

// Counts allocations, so that complexity tests measure work without a clock.
#[global_allocator]
static ALLOCATOR: bulletin_test_support::work::Counting = bulletin_test_support::work::Counting;

/// The corpus under the sibling `shared/` (absent: a failure saying how to
/// provide it, or a counted skip with `BULLETIN_ALLOW_SKIP=1`).
fn corpus() -> Option<String> {
    let path = bulletin_test_support::shared("corpus/tag-archive-political-rights.txt")?;
    Some(std::fs::read_to_string(&path).unwrap())
}

struct Archive {
    store: Arc<dyn Store>,
    index: SearchIndex,
    stories: Vec<Story>,
    dir: tempfile::TempDir,
}

impl Archive {
    fn search(&self, q: &str) -> SearchResults {
        self.find(SearchRequest {
            limit: 100,
            ..SearchRequest::new(q)
        })
    }

    fn find(&self, request: SearchRequest) -> SearchResults {
        self.index
            .search(&request)
            .unwrap_or_else(|e| panic!("{request:?}: {e}"))
    }

    fn slugs(&self, q: &str) -> Vec<String> {
        self.search(q).hits.into_iter().map(|h| h.slug).collect()
    }

    fn story(&self, slug: &str) -> &Story {
        self.stories.iter().find(|s| s.slug == slug).unwrap()
    }
}

async fn empty_archive() -> Archive {
    let dir = tempfile::tempdir().unwrap();
    let store = bulletin_store::open(&format!("sqlite://{}/b.db", dir.path().display()))
        .await
        .unwrap();
    let index = SearchIndex::open(&dir.path().join("search")).unwrap();
    Archive {
        store,
        index,
        stories: Vec::new(),
        dir,
    }
}

async fn put(store: &dyn Store, stories: Vec<Story>) {
    let mut tx = store.begin_import().await.unwrap();
    tx.put_stories(stories).await.unwrap();
    tx.commit().await.unwrap();
}

/// The corpus in a store, indexed; `None` when the corpus is absent.
async fn corpus_archive() -> Option<Archive> {
    let text = corpus()?;
    let mut archive = empty_archive().await;
    let doc = bulletin_text::read_str(&text).unwrap();
    put(&*archive.store, doc.stories).await;
    archive.index.catch_up(&*archive.store).await.unwrap();
    let mut all = Vec::new();
    let mut query = bulletin_store::StoryQuery::default();
    loop {
        let page = archive.store.stories(&query).await.unwrap();
        all.extend(page.stories);
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    archive.stories = all;
    Some(archive)
}

/// Everything a visitor can search in a story, lowercased.
fn visible_text(story: &Story) -> String {
    let mut text = story.headline.clone();
    for p in bulletin_core::render::visible_body(story, false) {
        text.push('\n');
        text.push_str(p);
    }
    text.to_lowercase()
}

fn generated(stories: u64, seed: u64) -> Vec<Story> {
    let mut out = Vec::new();
    bulletin_text::synth::generate(
        &bulletin_text::synth::GenOptions {
            stories,
            seed,
            ..Default::default()
        },
        &mut out,
    )
    .unwrap();
    bulletin_text::read_str(&String::from_utf8(out).unwrap())
        .unwrap()
        .stories
}
