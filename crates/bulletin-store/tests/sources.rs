//! Conformance cases for stories that carry their source's identity
//! ([`bulletin_store::ImportTx::put_sourced_stories`]): two items of one slug and
//! day stay two stories, a re-import matches each item to its own story, and a
//! story stored by an import that kept no identity is taken over once.

use std::sync::Arc;

use bulletin_core::Story;
use bulletin_store::{PutOutcome, SourcedStory, Store};

use super::{Ctx, date, put, raw_sql, story};

const POST_1: &str = "wordpress old.example/?p=1";
const POST_2: &str = "wordpress old.example/?p=2";
const POST_3: &str = "wordpress old.example/?p=3";

/// A story under `slug` (as a WordPress post's `post_name` gives it).
fn under(slug: &str, headline: &str, body: &str) -> Story {
    let mut s = story(headline, date(2024, 3, 1));
    s.slug = slug.to_owned();
    s.body = vec![body.to_owned()];
    s
}

fn sourced(story: &Story, source: &str) -> SourcedStory {
    SourcedStory {
        story: story.clone(),
        source: Some(source.to_owned()),
    }
}

/// Puts `stories` in one committed transaction.
async fn put_sourced(store: &Arc<dyn Store>, stories: Vec<SourcedStory>) -> Vec<PutOutcome> {
    let mut tx = store.begin_import().await.unwrap();
    let out = tx.put_sourced_stories(stories).await.unwrap();
    tx.commit().await.unwrap();
    out
}

fn new(slug: &str) -> PutOutcome {
    PutOutcome::New { slug: slug.into() }
}

fn unchanged(slug: &str) -> PutOutcome {
    PutOutcome::Unchanged { slug: slug.into() }
}

fn updated(slug: &str) -> PutOutcome {
    PutOutcome::Updated { slug: slug.into() }
}

/// The body stored under `slug`.
async fn body(store: &Arc<dyn Store>, slug: &str) -> Vec<String> {
    store
        .story(slug)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no story {slug}"))
        .body
}

pub(crate) async fn two_items_of_one_slug_and_day(ctx: Ctx) {
    let s = &ctx.store;
    let first = under("same-slug", "Morning", "The morning's text.");
    let second = under("same-slug", "Evening", "The evening's text.");
    // One batch: the second takes the next free slug, as WordPress would.
    let out = put_sourced(s, vec![sourced(&first, POST_1), sourced(&second, POST_2)]).await;
    assert_eq!(out, [new("same-slug"), new("same-slug-2")]);
    assert_eq!(body(s, "same-slug").await, first.body);
    assert_eq!(body(s, "same-slug-2").await, second.body);
    assert_eq!(s.counts().await.unwrap().stories, 2);

    // Imported again: each item is its own story, unchanged.
    let out = put_sourced(s, vec![sourced(&first, POST_1), sourced(&second, POST_2)]).await;
    assert_eq!(out, [unchanged("same-slug"), unchanged("same-slug-2")]);
    // In the other order, and one corrected: still each its own.
    let mut corrected = second.clone();
    corrected.body = vec!["The evening's text, corrected.".into()];
    let out = put_sourced(
        s,
        vec![sourced(&corrected, POST_2), sourced(&first, POST_1)],
    )
    .await;
    assert_eq!(out, [updated("same-slug-2"), unchanged("same-slug")]);
    assert_eq!(body(s, "same-slug").await, first.body);
    assert_eq!(body(s, "same-slug-2").await, corrected.body);

    // A third item of that slug and day, in a later import, is a third story.
    let third = under("same-slug", "Night", "The night's text.");
    let out = put_sourced(s, vec![sourced(&third, POST_3)]).await;
    assert_eq!(out, [new("same-slug-3")]);
    assert_eq!(s.counts().await.unwrap().stories, 3);
    assert_eq!(body(s, "same-slug").await, first.body);

    // A natural key that a story under another slug already has is not taken:
    // the new story skips to a slug whose key is free.
    let mut other = under("same-slug-4", "Elsewhere", "Moved.");
    other.headline = "Same slug 4".into();
    assert_eq!(put(s, vec![other]).await, [new("same-slug-4")]);
    raw_sql(
        &ctx,
        "UPDATE stories SET slug = 'moved-away' WHERE slug = 'same-slug-4'",
        "UPDATE stories SET slug = 'moved-away' WHERE slug = 'same-slug-4'",
    )
    .await;
    let fourth = under("same-slug", "Late", "The late text.");
    let out = put_sourced(s, vec![sourced(&fourth, "wordpress old.example/?p=4")]).await;
    assert_eq!(out, [new("same-slug-5")]);
    assert_eq!(body(s, "same-slug-5").await, fourth.body);
    assert_eq!(body(s, "moved-away").await, ["Moved."]);
}

pub(crate) async fn an_older_import_is_taken_over_once(ctx: Ctx) {
    let s = &ctx.store;
    let first = under("same-slug", "Morning", "The morning's text.");
    let second = under("same-slug", "Evening", "The evening's text.");
    // Stored as an import that kept no identity stored it.
    assert_eq!(put(s, vec![first.clone()]).await, [new("same-slug")]);

    // The same item, now with its identity: recognised, nothing doubled.
    let out = put_sourced(s, vec![sourced(&first, POST_1)]).await;
    assert_eq!(out, [unchanged("same-slug")]);
    // Another item of the same natural key is not that story.
    let out = put_sourced(s, vec![sourced(&second, POST_2)]).await;
    assert_eq!(out, [new("same-slug-2")]);
    assert_eq!(body(s, "same-slug").await, first.body);
    assert_eq!(body(s, "same-slug-2").await, second.body);
    let out = put_sourced(s, vec![sourced(&first, POST_1), sourced(&second, POST_2)]).await;
    assert_eq!(out, [unchanged("same-slug"), unchanged("same-slug-2")]);

    // Both in one batch over an older import of the first: the first takes it
    // over, the second is new.
    let a = under("twin", "Twin A", "A's text.");
    let b = under("twin", "Twin B", "B's text.");
    assert_eq!(put(s, vec![a.clone()]).await, [new("twin")]);
    let out = put_sourced(
        s,
        vec![
            sourced(&a, "markdown posts/a.md"),
            sourced(&b, "markdown posts/b.md"),
        ],
    )
    .await;
    assert_eq!(out, [unchanged("twin"), new("twin-2")]);

    // Without an identity, a story is matched on its natural key as before.
    let mut edited = first.clone();
    edited.body = vec!["Edited in the text.".into()];
    assert_eq!(put(s, vec![edited]).await, [updated("same-slug")]);
    assert_eq!(s.counts().await.unwrap().stories, 4);
}
