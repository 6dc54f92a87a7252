//! The index follows the store: imports, edits, deletions, unpublished issues,
//! rebuilds, and one writer per index directory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bulletin_core::{Access, IssueStatus};
use bulletin_search::{SearchError, SearchIndex, SearchRequest, Sort};
use bulletin_store::{PublicSite, Store};

use crate::{empty_archive, generated, put};

#[tokio::test]
async fn imports_edits_and_deletions_are_followed() {
    let a = empty_archive().await;
    let mut stories = generated(40, 7);
    stories[0].body[0] = "A xylographic report from the steppe.".into();
    let slug = stories[0].slug.clone();
    put(&*a.store, stories.clone()).await;
    let follower = a
        .index
        .follow(Arc::clone(&a.store), Duration::from_millis(50));

    // Searchable within a second, without anyone asking the index to catch up.
    let deadline = Instant::now() + Duration::from_secs(5);
    while a.search("xylographic").total == 0 {
        assert!(
            Instant::now() < deadline,
            "the import never became searchable"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(a.slugs("xylographic"), vec![slug.clone()]);
    assert_eq!(a.index.num_stories(), 40);

    // An edit: the new word is found, the old one is gone.
    let mut edited = a.store.story(&slug).await.unwrap().unwrap();
    edited.body[0] = "A zymurgical report from the steppe.".into();
    put(&*a.store, vec![edited]).await;
    let seq = a.store.last_change().await.unwrap();
    a.index.catch_up(&*a.store).await.unwrap();
    assert_eq!(a.index.applied_seq(), seq);
    assert_eq!(a.slugs("zymurgical"), vec![slug.clone()]);
    assert!(a.slugs("xylographic").is_empty());
    assert_eq!(a.index.num_stories(), 40);

    // A deletion.
    let mut tx = a.store.begin_import().await.unwrap();
    assert!(tx.delete_story(&slug).await.unwrap());
    tx.commit().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !a.slugs("zymurgical").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the deletion never reached the index"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(a.index.num_stories(), 39);
    follower.abort();
}

#[tokio::test]
async fn only_what_a_visitor_may_read_is_indexed() {
    let a = empty_archive().await;
    let mut stories = generated(30, 11);
    // A subscribers' story: its lead is findable, the rest is not.
    let paid = stories
        .iter_mut()
        .find(|s| s.body.len() >= 2)
        .expect("a story with two paragraphs");
    paid.access = Access::Subscribers;
    paid.body[0] = "An openly quizzical lead.".into();
    paid.body[1] = "A paid-only quixotic paragraph.".into();
    let paid_slug = paid.slug.clone();
    put(&*a.store, stories.clone()).await;
    a.index.catch_up(&*a.store).await.unwrap();
    assert_eq!(a.slugs("quizzical"), vec![paid_slug.clone()]);
    assert!(a.slugs("quixotic").is_empty());
    assert!(a.slugs("\"paid-only\"").is_empty());
    let hit = &a.search("quizzical").hits[0];
    assert!(!hit.snippet_html.contains("quixotic"));
    assert_eq!(hit.access, "subscribers");

    // An issue taken back to draft: its stories leave search, counts and facets.
    let issue = stories.iter().find_map(|s| s.issue).unwrap().number;
    let in_issue = stories
        .iter()
        .filter(|s| s.issue.map(|i| i.number) == Some(issue))
        .count() as u64;
    let everything = |a: &crate::Archive| {
        a.find(SearchRequest {
            facets: true,
            ..SearchRequest::default()
        })
    };
    let before = everything(&a);
    assert_eq!(before.total, 30);
    let mut tx = a.store.begin_import().await.unwrap();
    tx.set_issue_status(issue, IssueStatus::Draft)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    a.index.catch_up(&*a.store).await.unwrap();
    let after = everything(&a);
    assert_eq!(after.total, 30 - in_issue);
    assert_eq!(
        after.facets.unwrap().years.iter().map(|y| y.1).sum::<u64>(),
        30 - in_issue
    );
    let by_issue = a.find(SearchRequest {
        issue: Some(issue),
        ..SearchRequest::default()
    });
    assert_eq!(by_issue.total, 0);

    // Published again: back.
    let mut tx = a.store.begin_import().await.unwrap();
    tx.set_issue_status(issue, IssueStatus::Published)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    a.index.catch_up(&*a.store).await.unwrap();
    assert_eq!(everything(&a).total, 30);
}

/// Every answer of `index` to a fixed set of requests, in order.
fn answers(index: &SearchIndex) -> Vec<String> {
    let mut out = Vec::new();
    let queries = [
        "",
        "the",
        "court",
        "opposition OR protest",
        "\"human rights\"",
        "police -court",
        "Almaty",
        "Alma-Ata",
        "Kazakhstan",
        "detained",
    ];
    for q in queries {
        for sort in [Sort::Relevance, Sort::Newest] {
            let r = index
                .search(&SearchRequest {
                    sort,
                    limit: 100,
                    facets: true,
                    ..SearchRequest::new(q)
                })
                .unwrap();
            let mut slugs: Vec<String> = r.hits.into_iter().map(|h| h.slug).collect();
            if sort == Sort::Relevance {
                // Scores count deleted documents until segments merge, so the
                // relevance order may differ; the set and the counts may not.
                slugs.sort();
            }
            out.push(format!(
                "{q:?} {sort:?} {} {:?} {slugs:?}",
                r.total, r.facets
            ));
        }
    }
    out
}

#[tokio::test]
async fn an_incremental_index_answers_like_a_rebuilt_one() {
    let a = empty_archive().await;
    let stories = generated(300, 3);
    // In three imports with catch-ups between, then edits and deletions.
    for chunk in stories.chunks(100) {
        put(&*a.store, chunk.to_vec()).await;
        a.index.catch_up(&*a.store).await.unwrap();
    }
    let mut edits = Vec::new();
    for s in stories.iter().step_by(7) {
        let mut s = a.store.story(&s.slug).await.unwrap().unwrap();
        s.body
            .insert(0, "Police detained protesters in Alma-Ata.".into());
        edits.push(s);
    }
    put(&*a.store, edits).await;
    let mut tx = a.store.begin_import().await.unwrap();
    for s in stories.iter().step_by(11) {
        tx.delete_story(&s.slug).await.unwrap();
    }
    tx.commit().await.unwrap();
    a.index.catch_up(&*a.store).await.unwrap();
    let incremental = answers(&a.index);

    let rebuilt_dir = a.dir.path().join("rebuilt");
    let rebuilt = SearchIndex::open(&rebuilt_dir).unwrap();
    let mut calls = 0;
    let seq = rebuilt
        .rebuild(&*a.store, &mut |done, total| {
            calls += 1;
            assert!(done <= total);
        })
        .await
        .unwrap();
    assert!(calls >= 2);
    assert_eq!(seq, a.store.last_change().await.unwrap());
    assert_eq!(rebuilt.num_stories(), a.index.num_stories());
    assert_eq!(answers(&rebuilt), incremental);
}

#[tokio::test]
async fn one_writer_per_directory_and_readers_follow_it() {
    let a = empty_archive().await;
    assert!(a.index.is_writer());
    let reader = SearchIndex::open(&a.dir.path().join("search")).unwrap();
    assert!(!reader.is_writer());
    put(&*a.store, generated(20, 5)).await;
    // The reader cannot rebuild: the directory has a writer.
    let refused = reader.rebuild(&*a.store, &mut |_, _| {}).await;
    assert!(
        matches!(refused, Err(SearchError::Locked(_))),
        "{refused:?}"
    );
    a.index.catch_up(&*a.store).await.unwrap();
    // The reader's catch-up picks up what the writer committed.
    assert_eq!(
        reader.catch_up(&*a.store).await.unwrap(),
        a.index.applied_seq()
    );
    assert_eq!(reader.num_stories(), 20);

    // The writer goes away; the reader takes over and writes.
    let store = Arc::clone(&a.store);
    let dir = a.dir;
    drop(a.index);
    put(&*store, generated(5, 6)).await;
    reader.catch_up(&*store).await.unwrap();
    assert!(reader.is_writer());
    assert_eq!(reader.num_stories(), 25);
    drop(dir);
}

#[tokio::test]
async fn another_schema_version_is_set_aside_and_rebuilt() {
    let a = empty_archive().await;
    put(&*a.store, generated(10, 9)).await;
    let root = a.dir.path().join("search");
    // An index left by another schema version.
    let old = root.join("v0");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("meta.json"), "{}").unwrap();
    drop(a.index);
    let index = SearchIndex::open(&root).unwrap();
    assert!(!old.exists());
    index.catch_up(&*a.store).await.unwrap();
    assert_eq!(index.num_stories(), 10);
    // A damaged index of this version is rebuilt too.
    drop(index);
    let current = root.join(format!("v{}", bulletin_search::SCHEMA_VERSION));
    std::fs::write(current.join("meta.json"), "not json").unwrap();
    let index = SearchIndex::open(&root).unwrap();
    index.catch_up(&*a.store).await.unwrap();
    assert_eq!(index.num_stories(), 10);
}

#[tokio::test]
async fn a_replaced_store_is_reindexed() {
    let a = empty_archive().await;
    put(&*a.store, generated(30, 1)).await;
    a.index.catch_up(&*a.store).await.unwrap();
    // The same index directory, pointed at a smaller, newer store.
    let other = bulletin_store::open(&format!("sqlite://{}/other.db", a.dir.path().display()))
        .await
        .unwrap();
    put(&*other, generated(3, 2)).await;
    a.index.catch_up(&*other).await.unwrap();
    assert_eq!(a.index.num_stories(), 3);
}

#[tokio::test]
async fn postgres_store_is_followed_too() {
    let Some(pg) = bulletin_test_support::TempPostgres::create_or_skip().await else {
        return;
    };
    let store: Arc<dyn Store> = bulletin_store::open(pg.url()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(&dir.path().join("search")).unwrap();
    let stories = generated(50, 4);
    put(&*store, stories.clone()).await;
    index.catch_up(&*store).await.unwrap();
    assert_eq!(index.num_stories(), 50);
    let mut tx = store.begin_import().await.unwrap();
    tx.delete_story(&stories[0].slug).await.unwrap();
    tx.commit().await.unwrap();
    index.catch_up(&*store).await.unwrap();
    assert_eq!(index.num_stories(), 49);
    assert_eq!(index.applied_seq(), store.last_change().await.unwrap());
    pg.drop_now().await;
}

#[tokio::test]
async fn a_name_is_not_found_by_a_word_that_stems_like_it() {
    let a = empty_archive().await;
    let mut stories = generated(12, 21);
    stories[0].body[0] = "Archaeologists returned to the ruins of Ani.".into();
    stories[1].body[0] = "Officials denied any wrongdoing.".into();
    let (ani, any) = (stories[0].slug.clone(), stories[1].slug.clone());
    put(&*a.store, stories).await;
    a.index.catch_up(&*a.store).await.unwrap();
    let found = a.slugs("Ani");
    assert!(found.contains(&ani) && !found.contains(&any), "{found:?}");
    assert!(a.slugs("any").contains(&any));
}

#[test]
fn a_reader_of_a_directory_nobody_built_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("search");
    std::fs::create_dir_all(&root).unwrap();
    // Another process holds the lock but never creates the index.
    let lock = std::fs::File::create(root.join("writer.lock")).unwrap();
    lock.try_lock().unwrap();
    // (flock locks belong to the open file, so this process's second open is refused.)
    let error = SearchIndex::open(&root).unwrap_err();
    assert!(matches!(error, SearchError::NotBuilt(_)), "{error}");
    assert!(error.to_string().contains("has not been built"));
}

/// A store that fails its `n`-th `stories` call (a database gone mid-rebuild).
struct Flaky {
    inner: Arc<dyn Store>,
    stories_calls: std::sync::atomic::AtomicU32,
    fail_at: u32,
}

/// Reads as `inner` does, except that the `fail_at`-th `stories` call fails:
/// the index reads nothing else of a store.
#[async_trait::async_trait]
impl PublicSite for Flaky {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn schema_status(&self) -> bulletin_store::Result<bulletin_store::SchemaStatus> {
        self.inner.schema_status().await
    }
    fn pool_connections(&self) -> (u32, usize) {
        self.inner.pool_connections()
    }
    async fn publication(&self) -> bulletin_store::Result<bulletin_core::Publication> {
        self.inner.publication().await
    }
    async fn story(&self, slug: &str) -> bulletin_store::Result<Option<bulletin_core::Story>> {
        self.inner.story(slug).await
    }
    async fn stories(
        &self,
        query: &bulletin_store::StoryQuery,
    ) -> bulletin_store::Result<bulletin_store::StoryPage> {
        let n = self
            .stories_calls
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n + 1 == self.fail_at {
            return Err(bulletin_store::StoreError::Corrupt(
                "the database went away".into(),
            ));
        }
        self.inner.stories(query).await
    }
    async fn count_stories(&self, q: &bulletin_store::StoryQuery) -> bulletin_store::Result<u64> {
        self.inner.count_stories(q).await
    }
    async fn issues(&self) -> bulletin_store::Result<Vec<bulletin_core::Issue>> {
        self.inner.issues().await
    }
    async fn issue(&self, n: u32) -> bulletin_store::Result<Option<bulletin_core::Issue>> {
        self.inner.issue(n).await
    }
    async fn latest_issue(&self) -> bulletin_store::Result<Option<bulletin_core::Issue>> {
        self.inner.latest_issue().await
    }
    async fn neighbour_issues(&self, n: u32) -> bulletin_store::Result<(Option<u32>, Option<u32>)> {
        self.inner.neighbour_issues(n).await
    }
    async fn issue_statuses(&self) -> bulletin_store::Result<Vec<(u32, IssueStatus)>> {
        self.inner.issue_statuses().await
    }
    async fn tags(&self) -> bulletin_store::Result<Vec<(bulletin_core::Tag, u64)>> {
        self.inner.tags().await
    }
    async fn countries(&self) -> bulletin_store::Result<Vec<(String, u64)>> {
        self.inner.countries().await
    }
    async fn places(&self) -> bulletin_store::Result<Vec<(String, u64)>> {
        self.inner.places().await
    }
    async fn months(&self) -> bulletin_store::Result<Vec<(i16, i8, u64)>> {
        self.inner.months().await
    }
    async fn revisions(&self, slug: &str) -> bulletin_store::Result<Vec<bulletin_store::Revision>> {
        self.inner.revisions(slug).await
    }
    async fn counts(&self) -> bulletin_store::Result<bulletin_store::Counts> {
        self.inner.counts().await
    }
    async fn story_index(
        &self,
        offset: u64,
        limit: u32,
    ) -> bulletin_store::Result<Vec<bulletin_store::StoryIndexEntry>> {
        self.inner.story_index(offset, limit).await
    }
    async fn changes_since(
        &self,
        after: i64,
        limit: u32,
    ) -> bulletin_store::Result<Vec<bulletin_store::Change>> {
        self.inner.changes_since(after, limit).await
    }
    async fn last_change(&self) -> bulletin_store::Result<i64> {
        self.inner.last_change().await
    }
    async fn latest_change(&self) -> bulletin_store::Result<Option<bulletin_store::Change>> {
        self.inner.latest_change().await
    }
}

#[tokio::test]
async fn a_rebuild_that_fails_half_way_leaves_the_index_as_it_was() {
    let a = empty_archive().await;
    // More than one page of the rebuild's store reads (2,000 stories a page).
    put(&*a.store, generated(4_500, 13)).await;
    a.index.catch_up(&*a.store).await.unwrap();
    let before = a.index.num_stories();
    assert_eq!(before, a.store.counts().await.unwrap().stories);
    let flaky = Flaky {
        inner: Arc::clone(&a.store),
        stories_calls: Default::default(),
        fail_at: 2,
    };
    let failed = a.index.rebuild(&flaky, &mut |_, _| {}).await;
    assert!(matches!(failed, Err(SearchError::Store(_))), "{failed:?}");
    assert_eq!(a.index.num_stories(), before);
    // The next commit (a catch-up after a change) must not carry the failed
    // rebuild's deletions or its first page.
    let mut extra = generated(1, 99);
    extra[0].headline = "A late arrival".into();
    extra[0].slug = "a-late-arrival".into();
    put(&*a.store, extra).await;
    a.index.catch_up(&*a.store).await.unwrap();
    assert_eq!(a.index.num_stories(), before + 1);
    assert_eq!(a.search("").total, before + 1);
}
