//! The store's conformance suite: the same cases run against SQLite and
//! PostgreSQL (a scratch database on `BULLETIN_TEST_POSTGRES_URL` or the machine
//! default; unreachable, it fails saying how to provide one, or is a counted skip
//! with `BULLETIN_ALLOW_SKIP=1`), one test per case and backend. Each case gets a
//! fresh, empty store.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bulletin_core::{
    Access, Copyright, Date, Dateline, IssueRef, IssueStatus, Publication, Story, slugify,
};
use bulletin_store::{PutOutcome, Store, StoreError, StoryQuery};
use bulletin_test_support::TempPostgres;

/// What a case gets: a fresh store, and the URL to open it again.
struct Ctx {
    store: Arc<dyn Store>,
    url: String,
}

/// A conformance case: what it checks, on the store it is given.
type CaseFn = fn(Ctx) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// One test per case and backend, `conformance::sqlite::NAME` and
/// `conformance::postgres::NAME`, each on a fresh, empty store (so one
/// failure hides no other case, and `cargo test -- --list` shows them all).
macro_rules! conformance {
    ($($name:ident => $case:path),* $(,)?) => {
        mod conformance {
            mod sqlite {
                use crate::*;
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        run_on_sqlite(|ctx| Box::pin($case(ctx))).await;
                    }
                )*
            }
            mod postgres {
                use crate::*;
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        run_on_postgres(|ctx| Box::pin($case(ctx))).await;
                    }
                )*
            }
        }
    };
}

conformance! {
    fresh_store => site_cases::fresh_store,
    round_trip => site_cases::round_trip,
    publication => site_cases::publication,
    slug_collisions => site_cases::slug_collisions,
    reput_unchanged => site_cases::reput_unchanged,
    corrected_body => site_cases::corrected_body,
    same_key_twice_in_one_batch => site_cases::same_key_twice_in_one_batch,
    rollback_leaves_nothing => site_cases::rollback_leaves_nothing,
    drop_without_commit_leaves_nothing => site_cases::drop_without_commit_leaves_nothing,
    issues_and_positions => site_cases::issues_and_positions,
    issue_date_not_replaced_by_none => site_cases::issue_date_not_replaced_by_none,
    tags_with_counts => site_cases::tags_with_counts,
    filters => site_cases::filters,
    keyset_pagination => site_cases::keyset_pagination,
    change_log => site_cases::change_log,
    counts_and_years => site_cases::counts_and_years,
    invalid_story_rejected => site_cases::invalid_story_rejected,
    large_batch => site_cases::large_batch,
    two_stores_in_parallel => site_cases::two_stores_in_parallel,
    site_filters => site_cases::site_filters,
    offset_pages => site_cases::offset_pages,
    archive_lists => site_cases::archive_lists,
    latest_and_neighbour_issues => site_cases::latest_and_neighbour_issues,
    story_index_pages => site_cases::story_index_pages,
    latest_change => site_cases::latest_change,
    repeated_values => site_cases::repeated_values,
    delete_and_issue_status => site_cases::delete_and_issue_status,
    staff_accounts => site_cases::staff_accounts,
    newsroom_sessions => newsroom::sessions,
    newsroom_login_failures => newsroom::login_failures,
    newsroom_drafts_are_not_public => newsroom::drafts_are_not_public,
    newsroom_issue_publish_flow => newsroom::issue_publish_flow,
    newsroom_edit_conflict_and_history => newsroom::edit_conflict_and_history,
    newsroom_published_story_edits => newsroom::published_story_edits,
    newsroom_scheduled_issue_fires_once => newsroom::scheduled_issue_fires_once,
    newsroom_refusals => newsroom::refusals,
    newsroom_desk_filters => newsroom::desk_filters,
    newsroom_api_tokens => newsroom::api_tokens,
    archive_redirects => archive::redirects,
    archive_redirects_lead_only_to_public_pages => archive::redirects_lead_only_to_public_pages,
    archive_imported_drafts => archive::imported_drafts,
    archive_scheduled_stories_publish_once => archive::scheduled_stories_publish_once,
    archive_tag_descriptions => archive::tag_descriptions,
    archive_backup_restores_exactly => archive::backup_restores_exactly,
    archive_restore_refuses_inconsistent_backups => archive::restore_refuses_inconsistent_backups,
    archive_restore_keeps_each_issue_date => archive::restore_keeps_each_issue_date,
    subscribers_life_of_a_subscriber => subscribers::life_of_a_subscriber,
    subscribers_lists_and_counts => subscribers::lists_and_counts,
    subscribers_imports_respect_consent => subscribers::imports_respect_consent,
    subscribers_secrets_and_spent_tokens => subscribers::secrets_and_spent_tokens,
    subscribers_reader_sessions_and_private_feeds => subscribers::reader_sessions_and_private_feeds,
    outbox_queueing_follows_the_list => outbox::queueing_follows_the_list,
    outbox_claims_are_shared_and_fenced => outbox::claims_are_shared_and_fenced,
    outbox_outcomes => outbox::outcomes,
    outbox_batched_outcomes_and_releases => outbox::batched_outcomes_and_releases,
    outbox_one_issue_at_a_time_and_previews => outbox::one_issue_at_a_time_and_previews,
    outbox_a_standing_sender_finds_due_issues => outbox::a_standing_sender_finds_due_issues,
    throttle_reservations_are_atomic => throttle::reservations_are_atomic,
    throttle_reservations_refuse_release_and_forget => throttle::reservations_refuse_release_and_forget,
    throttle_notices_are_queued_claimed_and_fenced => throttle::notices_are_queued_claimed_and_fenced,
    sources_two_items_of_one_slug_and_day => sources::two_items_of_one_slug_and_day,
    sources_an_older_import_is_taken_over_once => sources::an_older_import_is_taken_over_once,
}

mod archive;
mod newsroom;
mod outbox;
mod sources;
mod subscribers;
mod throttle;
mod upgrade;

// ---------------------------------------------------------------------------------
// Runners

/// Runs `case` on a fresh SQLite store.
async fn run_on_sqlite(case: CaseFn) {
    let dir = tempfile::tempdir().unwrap();
    // A nested directory that does not exist yet: open creates it.
    let url = format!("sqlite://{}/case/sub/bulletin.db", dir.path().display());
    let store = bulletin_store::open(&url).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    case(Ctx { store, url }).await;
}

/// Runs `case` on a fresh PostgreSQL store (a scratch database of its own).
async fn run_on_postgres(case: CaseFn) {
    let Some(db) = TempPostgres::create_or_skip().await else {
        return;
    };
    let url = db.schema("conformance").await.unwrap();
    let store = bulletin_store::open(&url).await.unwrap();
    assert_eq!(store.backend(), "postgres");
    case(Ctx { store, url }).await;
    db.drop_now().await;
}

#[tokio::test]
async fn sqlite_two_opens_of_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/one.db", dir.path().display());
    let a = bulletin_store::open(&url).await.unwrap();
    let b = bulletin_store::open(&url).await.unwrap();
    put(&a, vec![story("First from A", date(2021, 1, 1))]).await;
    put(&b, vec![story("First from B", date(2021, 1, 2))]).await;
    assert_eq!(a.counts().await.unwrap().stories, 2);
    assert_eq!(b.counts().await.unwrap().stories, 2);
    assert!(b.story("first-from-a").await.unwrap().is_some());
    assert!(a.story("first-from-b").await.unwrap().is_some());
    assert_eq!(
        a.last_change().await.unwrap(),
        b.last_change().await.unwrap()
    );
}

#[tokio::test]
async fn sqlite_in_memory() {
    let store = bulletin_store::open("sqlite::memory:").await.unwrap();
    put(&store, vec![story("In memory", date(2021, 1, 1))]).await;
    assert_eq!(store.counts().await.unwrap().stories, 1);
}

#[tokio::test]
async fn unsupported_urls() {
    for url in ["mysql://localhost/x", "bulletin.db", "", "sqlite://"] {
        match bulletin_store::open(url).await {
            Err(StoreError::UnsupportedUrl(u)) => assert_eq!(u, url),
            Err(e) => panic!("{url}: unexpected error {e}"),
            Ok(_) => panic!("{url}: opened"),
        }
    }
}

/// Stories as a bulletin of schema 0001 stored them, with a value repeated in one
/// story (which 0001 kept as two side rows). `{false}` is the dialect's false.
const OLD_ROWS: &str = r#"
INSERT INTO issues (id, number, date, status, created_at, updated_at)
VALUES (1, 7, '2021-03-08', 'published', '2021-03-08T00:00:00Z', '2021-03-08T00:00:00Z');
INSERT INTO tags (id, name, slug, created_at)
VALUES (1, 'rights', 'rights', '2021-03-08T00:00:00Z');
INSERT INTO stories (id, slug, natural_key, headline, dateline_date, year_inferred, credit,
    places, body, tags, countries, issue_id, issue_number, issue_date, issue_position,
    first_published, copyright_holder, copyright_year, access, content_hash, created_at,
    updated_at)
VALUES
 (1, 'old', '-/2020-01-01/old', 'Old', '2020-01-01', {false}, 'The Bulletin', '["Baku"]',
  '["Body."]', '["rights"]', '["AZ"]', NULL, -1, NULL, 0, {false}, 'H', 2020, 'public', 0,
  '2021-03-08T00:00:00Z', '2021-03-08T00:00:00Z'),
 (2, 'second', '7/2021-03-01/second', 'Second', '2021-03-01', {false}, 'The Bulletin',
  '["Baku","Baku"]', '["Body."]', '["rights","rights"]', '["AZ","AZ"]', 1, 7, '2021-03-08',
  2, {false}, 'H', 2021, 'public', 0, '2021-03-08T00:00:00Z', '2021-03-08T00:00:00Z'),
 (3, 'first', '7/2021-03-01/first', 'First', '2021-03-01', {false}, 'The Bulletin',
  '["Ganja"]', '["Body."]', '["rights"]', '["AZ"]', 1, 7, '2021-03-08', 1, {false}, 'H', 2021,
  'public', 0, '2021-03-08T00:00:00Z', '2021-03-08T00:00:00Z');
INSERT INTO story_tags (story_id, position, tag_id) VALUES (1, 0, 1), (2, 0, 1), (2, 1, 1),
    (3, 0, 1);
INSERT INTO story_countries (story_id, position, code) VALUES (1, 0, 'AZ'), (2, 0, 'AZ'),
    (2, 1, 'AZ'), (3, 0, 'AZ');
INSERT INTO story_places (story_id, position, place) VALUES (1, 0, 'Baku'), (2, 0, 'Baku'),
    (2, 1, 'Baku'), (3, 0, 'Ganja');
"#;

/// A store opened on [`OLD_ROWS`] under schema 0001 has been migrated: the side
/// tables' sort keys are filled in and repeats dropped.
async fn check_upgraded(s: &Arc<dyn Store>) {
    let newest = ["first", "second", "old"];
    for q in [
        StoryQuery::default(),
        StoryQuery {
            country: Some("AZ".into()),
            ..Default::default()
        },
        StoryQuery {
            tag: Some("rights".into()),
            ..Default::default()
        },
    ] {
        for limit in [1, 10] {
            let listed = all_stories(s, StoryQuery { limit, ..q.clone() }).await;
            assert_eq!(slugs(&listed), newest, "{q:?}");
        }
        assert_eq!(s.count_stories(&q).await.unwrap(), 3, "{q:?}");
    }
    let baku = StoryQuery {
        place: Some("Baku".into()),
        ..Default::default()
    };
    assert_eq!(
        slugs(&all_stories(s, baku.clone()).await),
        ["second", "old"]
    );
    assert_eq!(s.count_stories(&baku).await.unwrap(), 2);
    assert_eq!(s.countries().await.unwrap(), [("AZ".to_owned(), 3)]);
    assert_eq!(
        s.places().await.unwrap(),
        [("Baku".to_owned(), 2), ("Ganja".to_owned(), 1)]
    );
    let tags = s.tags().await.unwrap();
    assert_eq!((tags[0].0.name.as_str(), tags[0].1), ("rights", 3));
    // The stories themselves keep their lists as they were.
    let second = s.story("second").await.unwrap().unwrap();
    assert_eq!(second.dateline.places, ["Baku", "Baku"]);
    assert_eq!(second.tags, ["rights", "rights"]);
    // And new writes take their places among the old rows.
    put(
        s,
        vec![located(
            "Newest",
            date(2021, 3, 2),
            &["Baku"],
            &["AZ"],
            &["rights"],
        )],
    )
    .await;
    let az = StoryQuery {
        country: Some("AZ".into()),
        limit: 2,
        ..Default::default()
    };
    assert_eq!(
        slugs(&all_stories(s, az).await),
        ["newest", "first", "second", "old"]
    );
}

/// A directory holding only migration 0001 of `backend`.
fn migration_0001(backend: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let name = "0001_initial.sql";
    let from = format!("{}/migrations/{backend}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(from, dir.path().join(name)).unwrap();
    dir
}

#[tokio::test]
async fn sqlite_upgrade_from_0001() {
    use std::str::FromStr;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/old.db", dir.path().display());
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let only = migration_0001("sqlite");
    let migrator = sqlx::migrate::Migrator::new(only.path()).await.unwrap();
    migrator.run(&pool).await.unwrap();
    let rows = OLD_ROWS.replace("{false}", "0");
    sqlx::raw_sql(sqlx::AssertSqlSafe(rows))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let store = bulletin_store::open(&url).await.unwrap();
    check_upgraded(&store).await;
}

#[tokio::test]
async fn postgres_upgrade_from_0001() {
    let Some(db) = TempPostgres::create_or_skip().await else {
        return;
    };
    let url = db.schema("upgrade").await.unwrap();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let only = migration_0001("postgres");
    let migrator = sqlx::migrate::Migrator::new(only.path()).await.unwrap();
    migrator.run(&pool).await.unwrap();
    // Explicit ids: move the identity sequences past them.
    let rows = OLD_ROWS.replace("{false}", "false")
        + "SELECT setval(pg_get_serial_sequence('stories', 'id'), 100);
           SELECT setval(pg_get_serial_sequence('issues', 'id'), 100);
           SELECT setval(pg_get_serial_sequence('tags', 'id'), 100);";
    sqlx::raw_sql(sqlx::AssertSqlSafe(rows))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let store = bulletin_store::open(&url).await.unwrap();
    check_upgraded(&store).await;
    drop(store);
    db.drop_now().await;
}

// ---------------------------------------------------------------------------------
// Helpers

fn date(y: i16, m: i8, d: i8) -> Date {
    Date::new(y, m, d).unwrap()
}

fn story(headline: &str, d: Date) -> Story {
    Story {
        slug: slugify(headline),
        headline: headline.to_owned(),
        dateline: Dateline {
            places: vec!["Baku".into()],
            date: d,
            year_inferred: false,
            credit: "The Bulletin".into(),
        },
        body: vec![format!("{headline}: the first paragraph."), "More.".into()],
        tags: vec![],
        countries: vec!["AZ".into()],
        issue: None,
        first_published: false,
        copyright: Copyright {
            holder: "Central Asia & South Caucasus Bulletin".into(),
            year: d.year(),
        },
        access: Access::Public,
    }
}

fn in_issue(mut s: Story, number: u32, d: Option<Date>) -> Story {
    s.issue = Some(IssueRef { number, date: d });
    s
}

fn tagged(mut s: Story, tags: &[&str]) -> Story {
    s.tags = tags.iter().map(|t| t.to_string()).collect();
    s
}

fn slug_of(o: &PutOutcome) -> &str {
    match o {
        PutOutcome::New { slug }
        | PutOutcome::Updated { slug }
        | PutOutcome::Unchanged { slug } => slug,
    }
}

/// Puts `stories` in one committed transaction.
async fn put(store: &Arc<dyn Store>, stories: Vec<Story>) -> Vec<PutOutcome> {
    let mut tx = store.begin_import().await.unwrap();
    let out = tx.put_stories(stories).await.unwrap();
    tx.commit().await.unwrap();
    out
}

async fn all_stories(store: &Arc<dyn Store>, query: StoryQuery) -> Vec<Story> {
    let mut out = Vec::new();
    let mut q = query;
    loop {
        let page = store.stories(&q).await.unwrap();
        out.extend(page.stories);
        match page.next {
            Some(next) => {
                // A cursor that does not move on would page forever.
                assert_ne!(q.after.as_ref(), Some(&next), "the cursor repeats");
                assert!(out.len() <= 100_000, "runaway paging");
                q.after = Some(next);
            }
            None => return out,
        }
    }
}

fn slugs(stories: &[Story]) -> Vec<&str> {
    stories.iter().map(|s| s.slug.as_str()).collect()
}

/// A story with these places, countries and tags.
fn located(headline: &str, d: Date, places: &[&str], countries: &[&str], tags: &[&str]) -> Story {
    let mut s = tagged(story(headline, d), tags);
    s.dateline.places = places.iter().map(|p| p.to_string()).collect();
    s.countries = countries.iter().map(|c| c.to_string()).collect();
    s
}

/// Slugs of every story matching `query`, checking that `count_stories` agrees.
async fn matching(store: &Arc<dyn Store>, query: StoryQuery) -> Vec<String> {
    let found: Vec<String> = all_stories(store, query.clone())
        .await
        .into_iter()
        .map(|s| s.slug)
        .collect();
    assert_eq!(
        store.count_stories(&query).await.unwrap(),
        found.len() as u64,
        "count_stories of {query:?}"
    );
    found
}

/// Whether `story` matches the filters of `q`: the reference for the store's.
fn model_matches(q: &StoryQuery, story: &Story) -> bool {
    let has =
        |list: &[String], value: &Option<String>| value.as_ref().is_none_or(|v| list.contains(v));
    let country = q.country.as_ref().map(|c| c.to_uppercase());
    has(&story.tags, &q.tag)
        && has(&story.countries, &country)
        && has(&story.dateline.places, &q.place)
        && q.issue
            .is_none_or(|n| story.issue.map(|i| i.number) == Some(n))
        && q.from.is_none_or(|d| story.dateline.date >= d)
        && q.to.is_none_or(|d| story.dateline.date <= d)
}

/// Every page of `query` by following `next`: (slugs, next) per page.
async fn keyset_pages(
    store: &Arc<dyn Store>,
    query: StoryQuery,
) -> Vec<(Vec<String>, Option<String>)> {
    let mut pages = Vec::new();
    let mut q = query;
    loop {
        let page = store.stories(&q).await.unwrap();
        let slugs = page.stories.into_iter().map(|s| s.slug).collect();
        pages.push((slugs, page.next.clone()));
        match page.next {
            Some(next) => {
                assert_ne!(q.after.as_ref(), Some(&next), "the cursor repeats");
                assert!(pages.len() <= 100_000, "runaway paging");
                q.after = Some(next);
            }
            None => return pages,
        }
    }
}

/// Runs one statement on the store's database directly (to set up a state the
/// `Store` API cannot produce). `sqlite` and `postgres` are the two dialects.
async fn raw_sql(ctx: &Ctx, sqlite: &str, postgres: &str) {
    use sqlx::Connection;
    match ctx.store.backend() {
        "sqlite" => {
            let mut c = sqlx::SqliteConnection::connect(&ctx.url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sqlite.to_owned()))
                .execute(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
        }
        _ => {
            let mut c = sqlx::PgConnection::connect(&ctx.url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(postgres.to_owned()))
                .execute(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------
// The cases

mod site_cases {
    use super::*;

    pub async fn fresh_store(ctx: Ctx) {
        let s = &ctx.store;
        assert_eq!(s.counts().await.unwrap(), Default::default());
        assert_eq!(s.last_change().await.unwrap(), 0);
        assert!(s.changes_since(0, 100).await.unwrap().is_empty());
        assert_eq!(s.publication().await.unwrap(), Publication::default());
        assert!(s.issues().await.unwrap().is_empty());
        assert!(s.issue_statuses().await.unwrap().is_empty());
        assert!(s.tags().await.unwrap().is_empty());
        assert!(s.story("nothing").await.unwrap().is_none());
        assert!(s.issue(1).await.unwrap().is_none());
        assert!(s.revisions("nothing").await.unwrap().is_empty());
        let page = s.stories(&StoryQuery::default()).await.unwrap();
        assert!(page.stories.is_empty() && page.next.is_none());
        assert_eq!(s.count_stories(&StoryQuery::default()).await.unwrap(), 0);
        assert!(s.countries().await.unwrap().is_empty());
        assert!(s.places().await.unwrap().is_empty());
        assert!(s.months().await.unwrap().is_empty());
        assert!(s.latest_issue().await.unwrap().is_none());
        assert_eq!(s.neighbour_issues(1).await.unwrap(), (None, None));
        assert!(s.story_index(0, 100).await.unwrap().is_empty());
        assert!(s.latest_change().await.unwrap().is_none());
        // Opening again migrates nothing and seeds nothing twice.
        let again = bulletin_store::open(&ctx.url).await.unwrap();
        assert_eq!(again.publication().await.unwrap(), Publication::default());
    }

    pub async fn round_trip(ctx: Ctx) {
        let s = &ctx.store;
        let mut pegasus = story(
            "Pegasus spyware targets Azerbaijani and Kazakh opposition",
            date(2021, 7, 18),
        );
        pegasus.dateline.places = vec!["Baku".into(), "Almaty".into()];
        pegasus.tags = vec!["political rights".into(), "surveillance".into()];
        pegasus.countries = vec!["AZ".into(), "KZ".into()];
        pegasus.issue = Some(IssueRef {
            number: 493,
            date: Some(date(2021, 7, 22)),
        });

        let mut inferred = story(
            "Tajik court imprisons son of opposition leader",
            date(2021, 7, 28),
        );
        inferred.dateline.year_inferred = true;
        inferred.dateline.places = vec![];
        inferred.issue = Some(IssueRef {
            number: 471,
            date: None,
        });
        inferred.first_published = true;
        inferred.access = Access::Subscribers;
        inferred.countries = vec![];
        inferred.body =
            vec!["One paragraph with “quotes”, an em dash — and NBSP\u{a0}here.".into()];

        let mut loose = story("No issue at all", date(2019, 2, 3));
        loose.dateline.credit = "Reuters".into();
        loose.copyright.year = 2020;

        let input = vec![pegasus.clone(), inferred.clone(), loose.clone()];
        let out = put(s, input.clone()).await;
        assert_eq!(
            out,
            input
                .iter()
                .map(|st| PutOutcome::New {
                    slug: st.slug.clone()
                })
                .collect::<Vec<_>>()
        );
        for st in &input {
            assert_eq!(s.story(&st.slug).await.unwrap().as_ref(), Some(st));
        }
        let listed = all_stories(s, StoryQuery::default()).await;
        assert_eq!(
            listed,
            vec![inferred.clone(), pegasus.clone(), loose.clone()]
        );

        let i493 = s.issue(493).await.unwrap().unwrap();
        assert_eq!(i493.date, Some(date(2021, 7, 22)));
        assert_eq!(i493.status, IssueStatus::Published);
        assert_eq!(i493.stories, vec![pegasus.slug.clone()]);
        let i471 = s.issue(471).await.unwrap().unwrap();
        assert_eq!(i471.date, None);
        assert_eq!(i471.stories, vec![inferred.slug.clone()]);
    }

    pub async fn publication(ctx: Ctx) {
        let s = &ctx.store;
        let p = Publication {
            name: "Test Bulletin".into(),
            credit: "TB".into(),
            base_url: "https://example.org".into(),
            time_zone: "Asia/Almaty".into(),
            copyright: "(c) {holder} {year}".into(),
            language: "ru".into(),
            copyright_holder: "Test Holder Ltd".into(),
            default_access: bulletin_core::Access::Subscribers,
            sender_name: "Test desk".into(),
        };
        s.set_publication(&p).await.unwrap();
        assert_eq!(s.publication().await.unwrap(), p);
        let changes = s.changes_since(0, 10).await.unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].entity, "publication");
        assert_eq!(changes[0].op, "update");
        // Setting the same again changes nothing.
        s.set_publication(&p).await.unwrap();
        assert_eq!(s.changes_since(0, 10).await.unwrap().len(), 1);
        // Another instance sees it.
        let again = bulletin_store::open(&ctx.url).await.unwrap();
        assert_eq!(again.publication().await.unwrap(), p);
        // Each of the newer settings alone is a change too.
        for (key, value) in [
            ("language", "kk"),
            ("copyright_holder", "Other Holder"),
            ("default_access", "public"),
            ("sender_name", "Other desk"),
        ] {
            let before = s.last_change().await.unwrap();
            let mut q = s.publication().await.unwrap();
            q.set(key, value).unwrap();
            s.set_publication(&q).await.unwrap();
            assert!(s.last_change().await.unwrap() > before, "{key}");
            assert_eq!(s.publication().await.unwrap(), q, "{key}");
        }
    }

    pub async fn slug_collisions(ctx: Ctx) {
        let s = &ctx.store;
        let out = put(
            s,
            vec![
                story("Weekly roundup", date(2021, 1, 1)),
                story("Weekly roundup", date(2021, 1, 8)),
                story("Weekly roundup", date(2021, 1, 15)),
            ],
        )
        .await;
        assert_eq!(
            out.iter().map(slug_of).collect::<Vec<_>>(),
            ["weekly-roundup", "weekly-roundup-2", "weekly-roundup-3"]
        );
        // An unrelated story already holds "-5"; and "weekly-roundup-extra" is no
        // suffix at all.
        put(
            s,
            vec![
                story("Weekly roundup 5", date(2020, 1, 1)),
                story("Weekly roundup extra", date(2020, 1, 2)),
            ],
        )
        .await;
        let out = put(
            s,
            vec![
                story("Weekly roundup", date(2021, 1, 22)),
                story("Weekly roundup", date(2021, 1, 29)),
                story("Weekly roundup", date(2021, 2, 5)),
            ],
        )
        .await;
        assert_eq!(
            out.iter().map(slug_of).collect::<Vec<_>>(),
            ["weekly-roundup-4", "weekly-roundup-6", "weekly-roundup-7"]
        );
        for o in &out {
            let st = s.story(slug_of(o)).await.unwrap().unwrap();
            assert_eq!(st.headline, "Weekly roundup");
        }
        // A story whose own base is taken by a suffixed one gets its own suffix.
        let out = put(s, vec![story("Weekly roundup 2", date(2020, 5, 5))]).await;
        assert_eq!(slug_of(&out[0]), "weekly-roundup-2-2");
        assert_eq!(s.counts().await.unwrap().stories, 9);
    }

    pub async fn reput_unchanged(ctx: Ctx) {
        let s = &ctx.store;
        let input = vec![
            tagged(
                in_issue(story("One", date(2021, 3, 1)), 5, Some(date(2021, 3, 2))),
                &["a"],
            ),
            story("Two", date(2021, 3, 1)),
            story("Two", date(2021, 3, 2)),
        ];
        let first = put(s, input.clone()).await;
        let counts = s.counts().await.unwrap();
        let last = s.last_change().await.unwrap();
        assert!(last > 0);
        let again = put(s, input.clone()).await;
        assert_eq!(
            again,
            first
                .iter()
                .map(|o| PutOutcome::Unchanged {
                    slug: slug_of(o).to_owned()
                })
                .collect::<Vec<_>>()
        );
        assert_eq!(s.counts().await.unwrap(), counts);
        assert_eq!(s.last_change().await.unwrap(), last);
        assert!(s.changes_since(last, 100).await.unwrap().is_empty());
        assert!(s.revisions("two-2").await.unwrap().is_empty());
    }

    pub async fn corrected_body(ctx: Ctx) {
        let s = &ctx.store;
        let original = in_issue(story("Correction", date(2021, 4, 1)), 7, None);
        let twin = in_issue(story("Correction", date(2021, 4, 2)), 7, None);
        let out = put(s, vec![original.clone(), twin.clone()]).await;
        assert_eq!(slug_of(&out[1]), "correction-2");
        let last = s.last_change().await.unwrap();

        let mut fixed = twin.clone();
        fixed.body[0] = "The corrected first paragraph.".into();
        fixed.tags = vec!["corrections".into()];
        let out = put(s, vec![fixed.clone()]).await;
        assert_eq!(
            out,
            vec![PutOutcome::Updated {
                slug: "correction-2".into()
            }]
        );
        let mut expect = fixed.clone();
        expect.slug = "correction-2".into();
        assert_eq!(s.story("correction-2").await.unwrap(), Some(expect.clone()));

        let revs = s.revisions("correction-2").await.unwrap();
        assert_eq!(revs.len(), 1);
        assert_eq!(revs[0].number, 1);
        let mut old = twin.clone();
        old.slug = "correction-2".into();
        assert_eq!(revs[0].story, old);
        assert!(
            revs[0].replaced_at.ends_with('Z'),
            "{}",
            revs[0].replaced_at
        );
        assert!(revs[0].replaced_at.parse::<jiff::Timestamp>().is_ok());

        let changes = s.changes_since(last, 100).await.unwrap();
        assert!(
            changes
                .iter()
                .any(|c| c.entity == "story" && c.key == "correction-2" && c.op == "update")
        );
        assert!(
            changes
                .iter()
                .any(|c| c.entity == "tag" && c.key == "corrections" && c.op == "insert")
        );

        // A second correction: two revisions, oldest first; position kept.
        let mut fixed2 = fixed.clone();
        fixed2.headline = "CORRECTION".into(); // same natural key
        let out = put(s, vec![fixed2.clone()]).await;
        assert_eq!(slug_of(&out[0]), "correction-2");
        let revs = s.revisions("correction-2").await.unwrap();
        assert_eq!(revs.iter().map(|r| r.number).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(revs[1].story, expect);
        assert_eq!(
            s.issue(7).await.unwrap().unwrap().stories,
            ["correction", "correction-2"]
        );
        assert_eq!(s.counts().await.unwrap().revisions, 2);
        assert_eq!(s.counts().await.unwrap().stories, 2);
        // The story's tag is now counted; the original has none.
        let tags = s.tags().await.unwrap();
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].1, 1);
    }

    pub async fn same_key_twice_in_one_batch(ctx: Ctx) {
        let s = &ctx.store;
        let a = story("Twice", date(2021, 5, 1));
        let mut b = a.clone();
        b.body = vec!["Second version.".into()];
        let out = put(
            s,
            vec![a.clone(), story("Other", date(2021, 5, 1)), b.clone()],
        )
        .await;
        assert_eq!(
            out,
            vec![
                PutOutcome::New {
                    slug: "twice".into()
                },
                PutOutcome::New {
                    slug: "other".into()
                },
                PutOutcome::Updated {
                    slug: "twice".into()
                },
            ]
        );
        assert_eq!(s.story("twice").await.unwrap(), Some(b));
        let revs = s.revisions("twice").await.unwrap();
        assert_eq!(revs.len(), 1);
        assert_eq!(revs[0].story, a);
        // And identical twice: the second is unchanged.
        let c = story("Thrice", date(2021, 5, 2));
        let out = put(s, vec![c.clone(), c.clone()]).await;
        assert_eq!(
            out,
            vec![
                PutOutcome::New {
                    slug: "thrice".into()
                },
                PutOutcome::Unchanged {
                    slug: "thrice".into()
                },
            ]
        );
    }

    pub async fn rollback_leaves_nothing(ctx: Ctx) {
        let s = &ctx.store;
        put(
            s,
            vec![tagged(
                in_issue(story("Kept", date(2021, 6, 1)), 1, None),
                &["x"],
            )],
        )
        .await;
        let counts = s.counts().await.unwrap();
        let last = s.last_change().await.unwrap();
        let mut tx = s.begin_import().await.unwrap();
        let mut changed = tagged(
            in_issue(story("Kept", date(2021, 6, 1)), 1, Some(date(2021, 6, 2))),
            &["y"],
        );
        changed.body = vec!["Changed.".into()];
        tx.put_stories(vec![
            tagged(in_issue(story("Gone", date(2021, 6, 1)), 2, None), &["z"]),
            changed,
        ])
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(s.counts().await.unwrap(), counts);
        assert_eq!(s.last_change().await.unwrap(), last);
        assert!(s.story("gone").await.unwrap().is_none());
        assert_eq!(
            s.story("kept").await.unwrap().unwrap().body,
            story("Kept", date(2021, 6, 1)).body
        );
        assert_eq!(s.issue(1).await.unwrap().unwrap().date, None);
        assert!(s.revisions("kept").await.unwrap().is_empty());
        // The store is still writable.
        put(s, vec![story("After", date(2021, 6, 3))]).await;
        assert_eq!(s.counts().await.unwrap().stories, 2);
    }

    pub async fn drop_without_commit_leaves_nothing(ctx: Ctx) {
        let s = &ctx.store;
        put(s, vec![story("Kept", date(2021, 6, 1))]).await;
        let counts = s.counts().await.unwrap();
        let last = s.last_change().await.unwrap();
        {
            let mut tx = s.begin_import().await.unwrap();
            tx.put_stories(vec![in_issue(story("Dropped", date(2021, 6, 2)), 9, None)])
                .await
                .unwrap();
        }
        assert_eq!(s.counts().await.unwrap(), counts);
        assert_eq!(s.last_change().await.unwrap(), last);
        assert!(s.story("dropped").await.unwrap().is_none());
        // The next writer is not blocked by the dropped one.
        put(s, vec![story("Next", date(2021, 6, 3))]).await;
        assert_eq!(s.counts().await.unwrap().stories, 2);
        assert!(s.story("dropped").await.unwrap().is_none());
    }

    pub async fn issues_and_positions(ctx: Ctx) {
        let s = &ctx.store;
        let d = date(2021, 7, 1);
        put(
            s,
            vec![
                in_issue(story("C first", d), 10, Some(d)),
                in_issue(story("A second", d), 10, Some(d)),
                in_issue(story("X elsewhere", d), 11, None),
                in_issue(story("B third", d), 10, Some(d)),
            ],
        )
        .await;
        assert_eq!(
            s.issue(10).await.unwrap().unwrap().stories,
            ["c-first", "a-second", "b-third"]
        );
        // Later arrivals append; an updated story keeps its place.
        let mut a = in_issue(story("A second", d), 10, Some(d));
        a.body = vec!["Updated.".into()];
        let out = put(s, vec![in_issue(story("D fourth", d), 10, Some(d)), a]).await;
        assert_eq!(slug_of(&out[1]), "a-second");
        assert!(matches!(out[1], PutOutcome::Updated { .. }));
        assert_eq!(
            s.issue(10).await.unwrap().unwrap().stories,
            ["c-first", "a-second", "b-third", "d-fourth"]
        );
        // The issue is part of a story's identity: the same headline and date in
        // another issue is another story (a republication), appended to that issue.
        let republished = in_issue(story("C first", d), 11, None);
        let out = put(s, vec![republished]).await;
        assert!(matches!(&out[0], PutOutcome::New { slug } if slug == "c-first-2"));
        assert_eq!(
            s.issue(10).await.unwrap().unwrap().stories,
            ["c-first", "a-second", "b-third", "d-fourth"]
        );
        assert_eq!(
            s.issue(11).await.unwrap().unwrap().stories,
            ["x-elsewhere", "c-first-2"]
        );
        // The listing within one date follows issue number desc, then position.
        let listed = all_stories(s, StoryQuery::default()).await;
        assert_eq!(
            slugs(&listed),
            [
                "x-elsewhere",
                "c-first-2",
                "c-first",
                "a-second",
                "b-third",
                "d-fourth"
            ]
        );
        let issues = s.issues().await.unwrap();
        assert_eq!(
            issues.iter().map(|i| i.number).collect::<Vec<_>>(),
            [10, 11]
        );
        assert_eq!(issues[0], s.issue(10).await.unwrap().unwrap());
        assert_eq!(issues[1], s.issue(11).await.unwrap().unwrap());
        assert!(issues.iter().all(|i| i.status == IssueStatus::Published));
        assert_eq!(s.counts().await.unwrap().issues, 2);
    }

    pub async fn issue_date_not_replaced_by_none(ctx: Ctx) {
        let s = &ctx.store;
        put(
            s,
            vec![in_issue(story("Undated", date(2021, 8, 1)), 20, None)],
        )
        .await;
        assert_eq!(s.issue(20).await.unwrap().unwrap().date, None);
        put(
            s,
            vec![in_issue(
                story("Dated", date(2021, 8, 2)),
                20,
                Some(date(2021, 8, 5)),
            )],
        )
        .await;
        assert_eq!(
            s.issue(20).await.unwrap().unwrap().date,
            Some(date(2021, 8, 5))
        );
        let last = s.last_change().await.unwrap();
        put(
            s,
            vec![in_issue(story("Undated again", date(2021, 8, 3)), 20, None)],
        )
        .await;
        assert_eq!(
            s.issue(20).await.unwrap().unwrap().date,
            Some(date(2021, 8, 5))
        );
        // Each story keeps the issue line it came with.
        assert_eq!(
            s.story("undated").await.unwrap().unwrap().issue,
            Some(IssueRef {
                number: 20,
                date: None
            })
        );
        // A different known date replaces the known one.
        put(
            s,
            vec![in_issue(
                story("Redated", date(2021, 8, 4)),
                20,
                Some(date(2021, 8, 6)),
            )],
        )
        .await;
        assert_eq!(
            s.issue(20).await.unwrap().unwrap().date,
            Some(date(2021, 8, 6))
        );
        let changes = s.changes_since(last, 100).await.unwrap();
        assert!(
            changes
                .iter()
                .any(|c| c.entity == "issue" && c.key == "20" && c.op == "update")
        );
        assert_eq!(
            s.issue(20).await.unwrap().unwrap().stories,
            ["undated", "dated", "undated-again", "redated"]
        );
    }

    pub async fn tags_with_counts(ctx: Ctx) {
        let s = &ctx.store;
        put(
            s,
            vec![
                tagged(
                    story("One", date(2021, 9, 1)),
                    &["political rights", "media"],
                ),
                tagged(story("Two", date(2021, 9, 2)), &["political rights"]),
                tagged(story("Three", date(2021, 9, 3)), &["Political Rights"]),
            ],
        )
        .await;
        put(
            s,
            vec![tagged(
                story("Four", date(2021, 9, 4)),
                &["media", "political rights"],
            )],
        )
        .await;
        let tags = s.tags().await.unwrap();
        let view: Vec<(&str, &str, u64)> = tags
            .iter()
            .map(|(t, n)| (t.name.as_str(), t.slug.as_str(), *n))
            .collect();
        assert_eq!(
            view,
            [
                ("Political Rights", "political-rights-2", 1),
                ("media", "media", 2),
                ("political rights", "political-rights", 3),
            ]
        );
        assert!(tags.iter().all(|(t, _)| t.description.is_empty()));
        assert_eq!(s.counts().await.unwrap().tags, 3);
        // Tag order within a story is kept.
        assert_eq!(
            s.story("four").await.unwrap().unwrap().tags,
            ["media", "political rights"]
        );
    }

    pub async fn filters(ctx: Ctx) {
        let s = &ctx.store;
        put(
            s,
            vec![
                tagged(in_issue(story("A", date(2021, 1, 1)), 1, None), &["t1"]),
                tagged(
                    in_issue(story("B", date(2021, 1, 3)), 1, None),
                    &["t1", "t2"],
                ),
                tagged(in_issue(story("C", date(2021, 1, 2)), 2, None), &["t2"]),
                tagged(story("D", date(2021, 1, 4)), &["t1"]),
                story("E", date(2021, 1, 5)),
            ],
        )
        .await;
        let by_tag = |t: &str| StoryQuery {
            tag: Some(t.into()),
            ..Default::default()
        };
        assert_eq!(slugs(&all_stories(s, by_tag("t1")).await), ["d", "b", "a"]);
        assert_eq!(slugs(&all_stories(s, by_tag("t2")).await), ["b", "c"]);
        assert!(all_stories(s, by_tag("nope")).await.is_empty());
        let by_issue = |n: u32| StoryQuery {
            issue: Some(n),
            ..Default::default()
        };
        assert_eq!(slugs(&all_stories(s, by_issue(1)).await), ["b", "a"]);
        assert_eq!(slugs(&all_stories(s, by_issue(2)).await), ["c"]);
        assert!(all_stories(s, by_issue(3)).await.is_empty());
        let both = StoryQuery {
            tag: Some("t2".into()),
            issue: Some(1),
            limit: 1,
            ..Default::default()
        };
        assert_eq!(slugs(&all_stories(s, both).await), ["b"]);
    }

    pub async fn keyset_pagination(ctx: Ctx) {
        let s = &ctx.store;
        let mut input = Vec::new();
        for i in 0..57u32 {
            let d = date(2020, 1, 1 + (i % 7) as i8);
            let mut st = story(&format!("Story {i}"), d);
            if i % 3 != 0 {
                st = in_issue(st, 100 + i % 4, None);
            }
            input.push(st);
        }
        // Two transactions, so ids and positions interleave across calls.
        put(s, input[..30].to_vec()).await;
        put(s, input[30..].to_vec()).await;
        let mut expected: Vec<(usize, &Story)> = input.iter().enumerate().collect();
        expected.sort_by_key(|(i, st)| {
            (
                std::cmp::Reverse(st.dateline.date),
                std::cmp::Reverse(st.issue.map(|r| i64::from(r.number)).unwrap_or(-1)),
                *i,
            )
        });
        let expected: Vec<&str> = expected.iter().map(|(_, st)| st.slug.as_str()).collect();

        for limit in [1, 7, 10, 56, 57, 100, 0] {
            let mut seen = Vec::new();
            let mut q = StoryQuery {
                limit,
                ..Default::default()
            };
            let mut pages = 0;
            loop {
                let page = s.stories(&q).await.unwrap();
                pages += 1;
                assert!(page.stories.len() <= if limit == 0 { 10_000 } else { limit as usize });
                seen.extend(page.stories.into_iter().map(|st| st.slug));
                match page.next {
                    Some(n) => q.after = Some(n),
                    None => break,
                }
            }
            assert_eq!(seen, expected, "limit {limit}");
            if limit > 0 {
                assert_eq!(
                    pages,
                    57usize.div_ceil(limit as usize).max(1),
                    "limit {limit}"
                );
            }
        }
        let bad = StoryQuery {
            after: Some("not a cursor".into()),
            ..Default::default()
        };
        assert!(matches!(
            s.stories(&bad).await,
            Err(StoreError::BadCursor(_))
        ));
    }

    pub async fn delete_and_issue_status(ctx: Ctx) {
        let s = &ctx.store;
        let a = located(
            "Gone soon",
            date(2021, 3, 1),
            &["Almaty"],
            &["KZ"],
            &["courts"],
        );
        let b = in_issue(story("Stays", date(2021, 3, 2)), 7, Some(date(2021, 3, 3)));
        put(s, vec![in_issue(a, 7, Some(date(2021, 3, 3))), b]).await;
        let mut changed = s.story("gone-soon").await.unwrap().unwrap();
        changed.body = vec!["Corrected.".into()];
        put(s, vec![changed]).await;
        assert_eq!(s.revisions("gone-soon").await.unwrap().len(), 1);
        let before = s.last_change().await.unwrap();

        let mut tx = s.begin_import().await.unwrap();
        assert!(tx.delete_story("gone-soon").await.unwrap());
        assert!(!tx.delete_story("never-was").await.unwrap());
        assert!(tx.set_issue_status(7, IssueStatus::Draft).await.unwrap());
        assert!(!tx.set_issue_status(8, IssueStatus::Draft).await.unwrap());
        tx.commit().await.unwrap();

        assert!(s.story("gone-soon").await.unwrap().is_none());
        assert!(s.revisions("gone-soon").await.unwrap().is_empty());
        let issue = s.issue(7).await.unwrap().unwrap();
        assert_eq!(issue.status, IssueStatus::Draft);
        assert_eq!(
            s.issue_statuses().await.unwrap(),
            vec![(7, IssueStatus::Draft)]
        );
        assert_eq!(issue.stories, vec!["stays".to_owned()]);
        // Nothing of the story is left in the archive lists.
        assert_eq!(s.counts().await.unwrap().stories, 1);
        assert_eq!(s.countries().await.unwrap(), vec![("AZ".to_owned(), 1)]);
        assert_eq!(s.places().await.unwrap(), vec![("Baku".to_owned(), 1)]);
        let courts = StoryQuery {
            tag: Some("courts".into()),
            ..StoryQuery::default()
        };
        assert_eq!(s.count_stories(&courts).await.unwrap(), 0);
        let logged: Vec<(String, String, String)> = s
            .changes_since(before, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.entity, c.key, c.op))
            .collect();
        assert_eq!(
            logged,
            vec![
                ("story".into(), "gone-soon".into(), "delete".into()),
                ("issue".into(), "7".into(), "update".into()),
            ]
        );

        // A rolled-back delete leaves the story.
        let mut tx = s.begin_import().await.unwrap();
        assert!(tx.delete_story("stays").await.unwrap());
        tx.rollback().await.unwrap();
        assert!(s.story("stays").await.unwrap().is_some());
    }

    pub async fn staff_accounts(ctx: Ctx) {
        use bulletin_core::staff::Role;
        let s = &ctx.store;
        assert!(s.users().await.unwrap().is_empty());
        let before = s.last_change().await.unwrap();
        let admin = s
            .create_user("admin@example.org", Role::Admin, "$argon2id$v=19$hash-a")
            .await
            .unwrap();
        assert_eq!(admin.email, "admin@example.org");
        assert_eq!(admin.role, Role::Admin);
        assert!(!admin.disabled);
        assert!(
            admin.created_at.parse::<jiff::Timestamp>().is_ok(),
            "{}",
            admin.created_at
        );
        let editor = s
            .create_user("editor@example.org", Role::Editor, "$argon2id$v=19$hash-e")
            .await
            .unwrap();
        let taken = s
            .create_user("admin@example.org", Role::Contributor, "x")
            .await;
        assert!(
            matches!(&taken, Err(StoreError::Duplicate { what: "account", key }) if key == "admin@example.org"),
            "{taken:?}"
        );
        assert_eq!(
            s.users().await.unwrap(),
            vec![admin.clone(), editor.clone()]
        );
        let (found, hash) = s
            .user_credentials("editor@example.org")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (found, hash.as_str()),
            (editor.clone(), "$argon2id$v=19$hash-e")
        );
        assert!(
            s.user_credentials("nobody@example.org")
                .await
                .unwrap()
                .is_none()
        );

        assert!(
            s.set_user_disabled("editor@example.org", true)
                .await
                .unwrap()
        );
        assert!(
            !s.set_user_disabled("nobody@example.org", true)
                .await
                .unwrap()
        );
        assert!(
            s.set_password_hash("editor@example.org", "$argon2id$v=19$new")
                .await
                .unwrap()
        );
        assert!(
            !s.set_password_hash("nobody@example.org", "x")
                .await
                .unwrap()
        );
        let (found, hash) = s
            .user_credentials("editor@example.org")
            .await
            .unwrap()
            .unwrap();
        assert!(found.disabled);
        assert_eq!(hash, "$argon2id$v=19$new");
        assert!(
            s.set_user_disabled("editor@example.org", false)
                .await
                .unwrap()
        );
        assert!(!s.users().await.unwrap()[1].disabled);
        // Accounts are not archive content: caches and the index need not follow.
        assert_eq!(s.last_change().await.unwrap(), before);
    }

    pub async fn change_log(ctx: Ctx) {
        let s = &ctx.store;
        put(
            s,
            vec![
                tagged(in_issue(story("A", date(2021, 1, 1)), 1, None), &["t"]),
                story("B", date(2021, 1, 2)),
            ],
        )
        .await;
        let mut b = story("B", date(2021, 1, 2));
        b.body = vec!["New.".into()];
        put(
            s,
            vec![
                b,
                in_issue(story("C", date(2021, 1, 3)), 1, Some(date(2021, 1, 4))),
            ],
        )
        .await;
        s.set_publication(&Publication {
            name: "Renamed".into(),
            ..Publication::default()
        })
        .await
        .unwrap();

        let all = s.changes_since(0, 1000).await.unwrap();
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
        assert!(all[0].seq > 0);
        for c in &all {
            assert!(c.at.ends_with('Z'), "{}", c.at);
            assert!(c.at.parse::<jiff::Timestamp>().is_ok(), "{}", c.at);
        }
        assert_eq!(s.last_change().await.unwrap(), all.last().unwrap().seq);
        let view: Vec<(&str, &str, &str)> = all
            .iter()
            .map(|c| (c.entity.as_str(), c.key.as_str(), c.op.as_str()))
            .collect();
        for want in [
            ("tag", "t", "insert"),
            ("issue", "1", "insert"),
            ("story", "a", "insert"),
            ("story", "b", "insert"),
            ("story", "b", "update"),
            ("story", "c", "insert"),
            ("issue", "1", "update"),
            ("publication", "publication", "update"),
        ] {
            assert!(view.contains(&want), "{want:?} not in {view:?}");
        }
        // Within a transaction entries follow the writes: the story after its tag.
        let pos = |w: (&str, &str, &str)| view.iter().position(|v| *v == w).unwrap();
        assert!(pos(("tag", "t", "insert")) < pos(("story", "a", "insert")));
        assert!(pos(("story", "b", "insert")) < pos(("story", "b", "update")));
        // Paging through the log gives the same entries.
        let mut paged = Vec::new();
        let mut after = 0;
        loop {
            let page = s.changes_since(after, 2).await.unwrap();
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 2);
            after = page.last().unwrap().seq;
            paged.extend(page);
        }
        assert_eq!(paged, all);
    }

    pub async fn counts_and_years(ctx: Ctx) {
        let s = &ctx.store;
        put(
            s,
            vec![
                tagged(
                    in_issue(story("A", date(2019, 12, 30)), 1, None),
                    &["x", "y"],
                ),
                in_issue(story("B", date(2021, 1, 2)), 2, None),
                story("C", date(2022, 6, 1)),
                story("D", date(2021, 3, 1)),
                story("E", date(1999, 3, 1)),
            ],
        )
        .await;
        let mut c = story("C", date(2022, 6, 1));
        c.body = vec!["Changed.".into()];
        put(s, vec![c]).await;
        let counts = s.counts().await.unwrap();
        assert_eq!(counts.stories, 5);
        assert_eq!(counts.issues, 2);
        assert_eq!(counts.tags, 2);
        assert_eq!(counts.revisions, 1);
        assert_eq!(counts.years, [1999, 2019, 2021, 2022]);
        assert_eq!(counts.first_date, Some(date(1999, 3, 1)));
        assert_eq!(counts.last_date, Some(date(2022, 6, 1)));
    }

    pub async fn invalid_story_rejected(ctx: Ctx) {
        let s = &ctx.store;
        let mut bad = story("Bad", date(2021, 1, 2));
        bad.body = vec![];
        let mut tx = s.begin_import().await.unwrap();
        let err = tx
            .put_stories(vec![
                tagged(in_issue(story("Good", date(2021, 1, 1)), 1, None), &["t"]),
                bad,
            ])
            .await
            .unwrap_err();
        match err {
            StoreError::InvalidStory { slug, .. } => assert_eq!(slug, "bad"),
            e => panic!("unexpected error {e}"),
        }
        // Nothing was written, even if the caller commits anyway.
        tx.commit().await.unwrap();
        assert_eq!(s.counts().await.unwrap(), Default::default());
        assert_eq!(s.last_change().await.unwrap(), 0);
        let mut bad = story("Bad country", date(2021, 1, 2));
        bad.countries = vec!["kz".into()];
        let mut tx = s.begin_import().await.unwrap();
        assert!(matches!(
            tx.put_stories(vec![bad]).await,
            Err(StoreError::InvalidStory { .. })
        ));
        drop(tx);
        assert_eq!(s.counts().await.unwrap(), Default::default());
    }

    pub async fn large_batch(ctx: Ctx) {
        let s = &ctx.store;
        // More than one internal batch; repeated headlines; repeated keys.
        let mut input = Vec::new();
        for i in 0..4500u32 {
            let d = date(
                2015 + (i % 8) as i16,
                1 + (i % 12) as i8,
                1 + (i % 28) as i8,
            );
            let headline = format!("Headline {}", i % 50);
            let st = tagged(
                in_issue(story(&headline, d), 1 + i % 30, Some(date(2023, 1, 1))),
                &[["a", "b", "c"][(i % 3) as usize]],
            );
            input.push(st);
        }
        let mut tx = s.begin_import().await.unwrap();
        let mut outcomes = Vec::new();
        for chunk in input.chunks(1000) {
            outcomes.extend(tx.put_stories(chunk.to_vec()).await.unwrap());
        }
        tx.commit().await.unwrap();
        let keys: HashSet<String> = input.iter().map(Story::natural_key).collect();
        let new = outcomes
            .iter()
            .filter(|o| matches!(o, PutOutcome::New { .. }))
            .count();
        assert_eq!(new, keys.len());
        let slugs: HashSet<&str> = outcomes.iter().map(slug_of).collect();
        assert_eq!(slugs.len(), keys.len());
        let counts = s.counts().await.unwrap();
        assert_eq!(counts.stories as usize, keys.len());
        assert_eq!(counts.issues, 30);
        let total: usize = s
            .issues()
            .await
            .unwrap()
            .iter()
            .map(|i| i.stories.len())
            .sum();
        assert_eq!(total, keys.len());
        // Re-importing all of it in one call changes nothing.
        let last = s.last_change().await.unwrap();
        let mut tx = s.begin_import().await.unwrap();
        let again = tx.put_stories(input.clone()).await.unwrap();
        tx.commit().await.unwrap();
        assert!(
            again
                .iter()
                .all(|o| matches!(o, PutOutcome::Unchanged { .. }))
        );
        assert_eq!(s.last_change().await.unwrap(), last);
        let listed = all_stories(
            s,
            StoryQuery {
                limit: 999,
                ..Default::default()
            },
        )
        .await;
        assert_eq!(listed.len(), keys.len());
    }

    /// Two instances on one database write in parallel while a follower tails the
    /// change log: seqs never repeat, and the follower misses nothing.
    pub async fn two_stores_in_parallel(ctx: Ctx) {
        let a = ctx.store.clone();
        let b = bulletin_store::open(&ctx.url).await.unwrap();
        let follower = bulletin_store::open(&ctx.url).await.unwrap();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));

        let writer = |store: Arc<dyn Store>, name: &'static str| {
            tokio::spawn(async move {
                for round in 0..15u32 {
                    let mut tx = store.begin_import().await.unwrap();
                    let stories = (0..20u32)
                        .map(|i| {
                            tagged(
                                in_issue(
                                    story(&format!("{name} {round} {i}"), date(2021, 1, 1)),
                                    round % 3 + 1,
                                    None,
                                ),
                                &[name],
                            )
                        })
                        .collect();
                    tx.put_stories(stories).await.unwrap();
                    tokio::task::yield_now().await;
                    tx.commit().await.unwrap();
                }
            })
        };
        let follow = {
            let done = done.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut after = 0;
                loop {
                    let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                    let page = follower.changes_since(after, 50).await.unwrap();
                    if let Some(last) = page.last() {
                        after = last.seq;
                    }
                    let empty = page.is_empty();
                    seen.extend(page);
                    if finished && empty {
                        return seen;
                    }
                }
            })
        };
        let (ra, rb) = tokio::join!(writer(a.clone(), "alpha"), writer(b.clone(), "beta"));
        ra.unwrap();
        rb.unwrap();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let seen = follow.await.unwrap();

        let all = a.changes_since(0, 100_000).await.unwrap();
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(seen, all, "the follower missed or repeated changes");
        let stories: Vec<_> = all.iter().filter(|c| c.entity == "story").collect();
        assert_eq!(stories.len(), 2 * 15 * 20);
        assert_eq!(a.counts().await.unwrap().stories, 600);
        assert_eq!(b.counts().await.unwrap().stories, 600);
        let issue_stories: usize = a
            .issues()
            .await
            .unwrap()
            .iter()
            .map(|i| i.stories.len())
            .sum();
        assert_eq!(issue_stories, 600);
        for n in 1..=3 {
            let issue = a.issue(n).await.unwrap().unwrap();
            let unique: HashSet<&String> = issue.stories.iter().collect();
            assert_eq!(unique.len(), issue.stories.len());
        }
    }

    /// A small archive for the site's listings. Newest first: f, a, b, c, e, d.
    fn archive() -> Vec<Story> {
        vec![
            in_issue(
                located(
                    "A Pegasus",
                    date(2021, 7, 18),
                    &["Baku", "Almaty"],
                    &["AZ", "KZ"],
                    &["political rights"],
                ),
                493,
                Some(date(2021, 7, 22)),
            ),
            in_issue(
                located(
                    "B Almaty protest",
                    date(2021, 7, 1),
                    &["Almaty"],
                    &["KZ"],
                    &["political rights"],
                ),
                493,
                Some(date(2021, 7, 22)),
            ),
            in_issue(
                located(
                    "C Tajik court",
                    date(2021, 6, 30),
                    &[],
                    &["TJ"],
                    &["courts"],
                ),
                492,
                Some(date(2021, 7, 1)),
            ),
            located(
                "D Tbilisi march",
                date(2019, 12, 31),
                &["Tbilisi"],
                &["GE"],
                &["political rights"],
            ),
            in_issue(
                located(
                    "E Baku trial",
                    date(2020, 1, 1),
                    &["Baku"],
                    &["AZ"],
                    &["courts"],
                ),
                400,
                None,
            ),
            located(
                "F Aktau strike",
                date(2021, 7, 31),
                &["aktau"],
                &["KZ"],
                &[],
            ),
        ]
    }

    pub async fn site_filters(ctx: Ctx) {
        let s = &ctx.store;
        put(s, archive()).await;
        let q = StoryQuery::default;
        assert_eq!(
            matching(s, q()).await,
            [
                "f-aktau-strike",
                "a-pegasus",
                "b-almaty-protest",
                "c-tajik-court",
                "e-baku-trial",
                "d-tbilisi-march"
            ]
        );
        let country = |c: &str| StoryQuery {
            country: Some(c.into()),
            ..q()
        };
        let kz = ["f-aktau-strike", "a-pegasus", "b-almaty-protest"];
        assert_eq!(matching(s, country("KZ")).await, kz);
        // Case-insensitive.
        assert_eq!(matching(s, country("kz")).await, kz);
        assert_eq!(matching(s, country("Kz")).await, kz);
        assert_eq!(
            matching(s, country("AZ")).await,
            ["a-pegasus", "e-baku-trial"]
        );
        assert!(matching(s, country("XX")).await.is_empty());
        assert!(matching(s, country("")).await.is_empty());

        let place = |p: &str| StoryQuery {
            place: Some(p.into()),
            ..q()
        };
        assert_eq!(
            matching(s, place("Almaty")).await,
            ["a-pegasus", "b-almaty-protest"]
        );
        assert_eq!(
            matching(s, place("Baku")).await,
            ["a-pegasus", "e-baku-trial"]
        );
        // Exact: no case folding, no prefix.
        assert!(matching(s, place("almaty")).await.is_empty());
        assert!(matching(s, place("Alma")).await.is_empty());

        let range = |from: Option<Date>, to: Option<Date>| StoryQuery { from, to, ..q() };
        // Both bounds are inclusive.
        assert_eq!(
            matching(s, range(Some(date(2021, 7, 1)), None)).await,
            ["f-aktau-strike", "a-pegasus", "b-almaty-protest"]
        );
        assert_eq!(
            matching(s, range(None, Some(date(2021, 6, 30)))).await,
            ["c-tajik-court", "e-baku-trial", "d-tbilisi-march"]
        );
        assert_eq!(
            matching(s, range(Some(date(2021, 6, 30)), Some(date(2021, 7, 18)))).await,
            ["a-pegasus", "b-almaty-protest", "c-tajik-court"]
        );
        assert_eq!(
            matching(s, range(Some(date(2020, 1, 1)), Some(date(2020, 1, 1)))).await,
            ["e-baku-trial"]
        );
        assert!(
            matching(s, range(Some(date(2021, 7, 2)), Some(date(2021, 7, 1))))
                .await
                .is_empty()
        );

        // Everything combines with AND, the old filters included.
        let kz_rights = StoryQuery {
            country: Some("kz".into()),
            tag: Some("political rights".into()),
            ..q()
        };
        assert_eq!(
            matching(s, kz_rights.clone()).await,
            ["a-pegasus", "b-almaty-protest"]
        );
        let later = StoryQuery {
            from: Some(date(2021, 7, 2)),
            ..kz_rights.clone()
        };
        assert_eq!(matching(s, later).await, ["a-pegasus"]);
        let all_of_them = StoryQuery {
            issue: Some(493),
            place: Some("Almaty".into()),
            to: Some(date(2021, 7, 1)),
            ..kz_rights.clone()
        };
        assert_eq!(matching(s, all_of_them).await, ["b-almaty-protest"]);
        let courts_az = StoryQuery {
            tag: Some("courts".into()),
            country: Some("AZ".into()),
            ..q()
        };
        assert_eq!(matching(s, courts_az).await, ["e-baku-trial"]);
        let none = StoryQuery {
            issue: Some(492),
            country: Some("KZ".into()),
            ..q()
        };
        assert!(matching(s, none).await.is_empty());
        let baku_az_2021 = StoryQuery {
            place: Some("Baku".into()),
            country: Some("AZ".into()),
            from: Some(date(2021, 1, 1)),
            to: Some(date(2021, 12, 31)),
            ..q()
        };
        assert_eq!(matching(s, baku_az_2021).await, ["a-pegasus"]);

        // The count ignores the cursor, the offset and the page size.
        let first = s
            .stories(&StoryQuery {
                limit: 1,
                ..kz_rights.clone()
            })
            .await
            .unwrap();
        let paged = StoryQuery {
            after: first.next.clone(),
            offset: 1,
            limit: 1,
            ..kz_rights.clone()
        };
        assert_eq!(s.count_stories(&paged).await.unwrap(), 2);
        assert!(s.stories(&paged).await.unwrap().stories.is_empty());
        assert_eq!(
            s.count_stories(&StoryQuery {
                limit: 2,
                offset: 4,
                ..q()
            })
            .await
            .unwrap(),
            6
        );
    }

    pub async fn offset_pages(ctx: Ctx) {
        let s = &ctx.store;
        let mut input = Vec::new();
        for i in 0..57u32 {
            let d = date(2020, 1 + (i % 3) as i8, 1 + (i % 5) as i8);
            let mut st = story(&format!("Paged {i}"), d);
            if i % 4 != 0 {
                st = in_issue(st, 200 + i % 3, None);
            }
            if i % 2 == 0 {
                st.countries = vec!["KZ".into()];
            }
            if i % 3 == 0 {
                st.tags = vec!["t".into()];
            }
            if i % 5 != 0 {
                st.dateline.places = vec!["Osh".into()];
            }
            input.push(st);
        }
        put(s, input[..20].to_vec()).await;
        put(s, input[20..].to_vec()).await;
        // Updated stories keep their places in every listing.
        let mut updated: Vec<Story> = [4, 6, 30].iter().map(|i| input[*i].clone()).collect();
        for st in &mut updated {
            st.body = vec!["Rewritten.".into()];
        }
        assert!(
            put(s, updated)
                .await
                .iter()
                .all(|o| matches!(o, PutOutcome::Updated { .. }))
        );
        let kz = StoryQuery {
            country: Some("kz".into()),
            ..Default::default()
        };
        assert_eq!(s.count_stories(&kz).await.unwrap(), 29);
        assert_eq!(s.count_stories(&StoryQuery::default()).await.unwrap(), 57);

        // Every listing is the full one, filtered.
        let full = all_stories(s, StoryQuery::default()).await;
        let bases = [
            StoryQuery::default(),
            kz.clone(),
            StoryQuery {
                tag: Some("t".into()),
                ..Default::default()
            },
            StoryQuery {
                place: Some("Osh".into()),
                ..Default::default()
            },
            StoryQuery {
                from: Some(date(2020, 2, 1)),
                ..kz.clone()
            },
            StoryQuery {
                tag: Some("t".into()),
                to: Some(date(2020, 2, 3)),
                ..kz.clone()
            },
            StoryQuery {
                tag: Some("t".into()),
                place: Some("Osh".into()),
                ..Default::default()
            },
            StoryQuery {
                issue: Some(201),
                ..kz.clone()
            },
        ];
        for base in &bases {
            let expected: Vec<&str> = full
                .iter()
                .filter(|st| model_matches(base, st))
                .map(|st| st.slug.as_str())
                .collect();
            assert!(!expected.is_empty(), "{base:?}");
            for limit in [1u32, 4, 100] {
                let listed = all_stories(
                    s,
                    StoryQuery {
                        limit,
                        ..base.clone()
                    },
                )
                .await;
                assert_eq!(slugs(&listed), expected, "{base:?} limit {limit}");
            }
            assert_eq!(
                s.count_stories(base).await.unwrap(),
                expected.len() as u64,
                "{base:?}"
            );
        }

        for base in bases {
            let total = s.count_stories(&base).await.unwrap() as usize;
            for limit in [1u32, 7, 10, 29, 57, 100] {
                let pages = keyset_pages(
                    s,
                    StoryQuery {
                        limit,
                        ..base.clone()
                    },
                )
                .await;
                assert_eq!(pages.len(), total.div_ceil(limit as usize).max(1));
                for (k, expected) in pages.iter().enumerate() {
                    let q = StoryQuery {
                        offset: k as u32 * limit,
                        limit,
                        ..base.clone()
                    };
                    let page = s.stories(&q).await.unwrap();
                    let got = (
                        page.stories
                            .into_iter()
                            .map(|st| st.slug)
                            .collect::<Vec<_>>(),
                        page.next,
                    );
                    assert_eq!(&got, expected, "{base:?} limit {limit} page {k}");
                }
                // Past the end: nothing, and no next page.
                let past = s
                    .stories(&StoryQuery {
                        offset: total as u32,
                        limit,
                        ..base.clone()
                    })
                    .await
                    .unwrap();
                assert!(past.stories.is_empty() && past.next.is_none());
            }
            if total <= 14 {
                continue;
            }
            // Offset after a cursor skips from the cursor on: page 1's cursor plus
            // one page of offset is page 3.
            let pages = keyset_pages(
                s,
                StoryQuery {
                    limit: 7,
                    ..base.clone()
                },
            )
            .await;
            let q = StoryQuery {
                after: pages[0].1.clone(),
                offset: 7,
                limit: 7,
                ..base.clone()
            };
            let page = s.stories(&q).await.unwrap();
            let got: Vec<String> = page.stories.into_iter().map(|st| st.slug).collect();
            assert_eq!(got, pages[2].0);
            assert_eq!(page.next, pages[2].1);
            // And following an offset page's cursor continues without a gap.
            let q = StoryQuery {
                offset: 3,
                limit: 4,
                ..base.clone()
            };
            let page = s.stories(&q).await.unwrap();
            let mut seen: Vec<String> = page.stories.into_iter().map(|st| st.slug).collect();
            let rest = all_stories(
                s,
                StoryQuery {
                    after: page.next,
                    limit: 5,
                    ..base.clone()
                },
            )
            .await;
            seen.extend(rest.into_iter().map(|st| st.slug));
            let everything: Vec<String> = pages.into_iter().flat_map(|(p, _)| p).collect();
            assert_eq!(seen, everything[3..]);
        }
    }

    pub async fn archive_lists(ctx: Ctx) {
        let s = &ctx.store;
        put(s, archive()).await;
        let countries = s.countries().await.unwrap();
        assert_eq!(
            countries,
            [
                ("AZ".to_owned(), 2),
                ("GE".to_owned(), 1),
                ("KZ".to_owned(), 3),
                ("TJ".to_owned(), 1)
            ]
        );
        // Each count is what the country filter finds.
        for (code, n) in &countries {
            let q = StoryQuery {
                country: Some(code.clone()),
                ..Default::default()
            };
            assert_eq!(s.count_stories(&q).await.unwrap(), *n, "{code}");
        }
        // Places by name in byte order (upper case before lower case).
        let places = s.places().await.unwrap();
        assert_eq!(
            places,
            [
                ("Almaty".to_owned(), 2),
                ("Baku".to_owned(), 2),
                ("Tbilisi".to_owned(), 1),
                ("aktau".to_owned(), 1)
            ]
        );
        for (place, n) in &places {
            let q = StoryQuery {
                place: Some(place.clone()),
                ..Default::default()
            };
            assert_eq!(s.count_stories(&q).await.unwrap(), *n, "{place}");
        }
        assert_eq!(
            s.months().await.unwrap(),
            [(2021, 7, 3), (2021, 6, 1), (2020, 1, 1), (2019, 12, 1)]
        );
        // An update that changes a story's countries and places moves its counts
        // (no stale side-table rows); a story in a new month adds to that month.
        let mut b = archive().remove(1);
        b.countries = vec!["TJ".into()];
        b.dateline.places = vec!["Dushanbe".into()];
        put(s, vec![b]).await;
        let mut moved = archive().remove(5);
        moved.dateline.date = date(2021, 8, 1);
        put(s, vec![moved]).await; // another dateline date: a new story
        assert_eq!(
            s.countries().await.unwrap(),
            [
                ("AZ".to_owned(), 2),
                ("GE".to_owned(), 1),
                ("KZ".to_owned(), 3),
                ("TJ".to_owned(), 2)
            ]
        );
        assert_eq!(
            s.places().await.unwrap(),
            [
                ("Almaty".to_owned(), 1),
                ("Baku".to_owned(), 2),
                ("Dushanbe".to_owned(), 1),
                ("Tbilisi".to_owned(), 1),
                ("aktau".to_owned(), 2)
            ]
        );
        assert_eq!(
            s.months().await.unwrap(),
            [
                (2021, 8, 1),
                (2021, 7, 3),
                (2021, 6, 1),
                (2020, 1, 1),
                (2019, 12, 1)
            ]
        );
        let total: u64 = s.months().await.unwrap().iter().map(|m| m.2).sum();
        assert_eq!(total, s.counts().await.unwrap().stories);
    }

    pub async fn latest_and_neighbour_issues(ctx: Ctx) {
        let s = &ctx.store;
        // Only an issue of unknown date: it is the latest.
        put(
            s,
            vec![in_issue(story("Undated issue", date(2021, 1, 1)), 20, None)],
        )
        .await;
        let latest = s.latest_issue().await.unwrap().unwrap();
        assert_eq!(latest.number, 20);
        assert_eq!(latest.date, None);
        assert_eq!(latest.stories, ["undated-issue"]);
        assert_eq!(s.neighbour_issues(20).await.unwrap(), (None, None));

        let d7 = Some(date(2021, 3, 8));
        put(
            s,
            vec![
                in_issue(story("Old", date(2021, 2, 1)), 5, Some(date(2021, 2, 1))),
                in_issue(story("Seven a", date(2021, 3, 1)), 7, d7),
                in_issue(story("Eight z", date(2021, 3, 2)), 8, d7),
                in_issue(story("Seven b", date(2021, 3, 2)), 7, d7),
                in_issue(story("Eight a", date(2021, 3, 1)), 8, d7),
            ],
        )
        .await;
        // Dated issues before the undated one; on the same date, the higher number.
        let latest = s.latest_issue().await.unwrap().unwrap();
        assert_eq!(latest.number, 8);
        assert_eq!(latest.date, d7);
        assert_eq!(latest.stories, ["eight-z", "eight-a"]);
        assert_eq!(latest, s.issue(8).await.unwrap().unwrap());

        // A newer issue that has no story is passed over (the API cannot make
        // one, so it is written directly).
        raw_sql(
            &ctx,
            "INSERT INTO issues (number, date, status, created_at, updated_at)
             VALUES (30, '2030-01-01', 'published', '2030-01-01T00:00:00Z',
                     '2030-01-01T00:00:00Z')",
            "INSERT INTO issues (number, date, status, created_at, updated_at)
             VALUES (30, '2030-01-01', 'published', now(), now())",
        )
        .await;
        assert_eq!(s.issue(30).await.unwrap().unwrap().stories.len(), 0);
        assert_eq!(s.latest_issue().await.unwrap().unwrap().number, 8);
        // A later dated issue with a story takes over.
        put(
            s,
            vec![in_issue(
                story("Nine", date(2021, 4, 1)),
                9,
                Some(date(2021, 4, 2)),
            )],
        )
        .await;
        let latest = s.latest_issue().await.unwrap().unwrap();
        assert_eq!((latest.number, latest.date), (9, Some(date(2021, 4, 2))));
        assert_eq!(latest.stories, ["nine"]);

        // Issues: 5, 7, 8, 9, 20, 30.
        for (n, want) in [
            (5, (None, Some(7))),
            (7, (Some(5), Some(8))),
            (8, (Some(7), Some(9))),
            (9, (Some(8), Some(20))),
            (20, (Some(9), Some(30))),
            (30, (Some(20), None)),
            // Numbers that are not issues have neighbours too.
            (1, (None, Some(5))),
            (6, (Some(5), Some(7))),
            (25, (Some(20), Some(30))),
            (1000, (Some(30), None)),
            (0, (None, Some(5))),
            (u32::MAX, (Some(30), None)),
        ] {
            assert_eq!(s.neighbour_issues(n).await.unwrap(), want, "issue {n}");
        }
    }

    pub async fn story_index_pages(ctx: Ctx) {
        let s = &ctx.store;
        // One transaction per story, so that ids follow this order.
        let mut order = Vec::new();
        for i in 0..23u32 {
            let d = date(
                2021 - (i % 3) as i16,
                1 + (i % 12) as i8,
                28 - (i % 9) as i8,
            );
            let st = in_issue(story(&format!("Indexed {}", 23 - i), d), 50 + i % 2, None);
            let out = put(s, vec![st]).await;
            order.push(slug_of(&out[0]).to_owned());
        }
        let everything = s.story_index(0, 100).await.unwrap();
        let slugs: Vec<&str> = everything.iter().map(|e| e.slug.as_str()).collect();
        assert_eq!(slugs, order);
        // Pages of 10: no gaps, no repeats.
        let mut paged = Vec::new();
        for (offset, len) in [(0u64, 10usize), (10, 10), (20, 3), (23, 0), (1000, 0)] {
            let page = s.story_index(offset, 10).await.unwrap();
            assert_eq!(page.len(), len, "offset {offset}");
            paged.extend(page);
        }
        assert_eq!(paged, everything);
        assert_eq!(s.story_index(5, 2).await.unwrap(), everything[5..7]);
        for e in &everything {
            let st = s.story(&e.slug).await.unwrap().unwrap();
            assert_eq!(e.url, st.url());
            assert_eq!(e.date, st.dateline.date);
            assert!(e.updated_at.ends_with('Z'), "{}", e.updated_at);
            assert!(e.updated_at.parse::<jiff::Timestamp>().is_ok());
        }

        // Updating a story keeps its place and moves its updated_at on.
        let now = jiff::Timestamp::now();
        let cut = jiff::Timestamp::from_microsecond(now.as_microsecond()).unwrap();
        // i = 1 above: "Indexed 22", 2020-02-27, issue 51.
        let mut changed = in_issue(story("Indexed 22", date(2020, 2, 27)), 51, None);
        changed.body = vec!["Rewritten.".into()];
        let out = put(s, vec![changed]).await;
        assert!(matches!(&out[0], PutOutcome::Updated { slug } if slug == "indexed-22"));
        let again = s.story_index(0, 100).await.unwrap();
        let slugs: Vec<&str> = again.iter().map(|e| e.slug.as_str()).collect();
        assert_eq!(slugs, order);
        let at =
            |e: &bulletin_store::StoryIndexEntry| e.updated_at.parse::<jiff::Timestamp>().unwrap();
        assert_eq!(again[1].slug, "indexed-22");
        assert!(at(&again[1]) >= cut, "{} < {cut}", again[1].updated_at);
        for (i, e) in again.iter().enumerate().filter(|(i, _)| *i != 1) {
            assert!(at(e) <= now, "{i}: {} > {now}", e.updated_at);
            assert_eq!(e, &everything[i]);
        }
    }

    pub async fn latest_change(ctx: Ctx) {
        let s = &ctx.store;
        assert!(s.latest_change().await.unwrap().is_none());
        let before = jiff::Timestamp::now() - jiff::SignedDuration::from_millis(1);
        put(
            s,
            vec![tagged(
                in_issue(story("Logged", date(2021, 1, 1)), 1, None),
                &["t"],
            )],
        )
        .await;
        let after = jiff::Timestamp::now() + jiff::SignedDuration::from_millis(1);
        let latest = s.latest_change().await.unwrap().unwrap();
        let all = s.changes_since(0, 100).await.unwrap();
        assert_eq!(all.len(), 3); // tag, issue, story
        assert_eq!(Some(&latest), all.last());
        assert_eq!(
            (latest.entity.as_str(), latest.key.as_str()),
            ("story", "logged")
        );
        assert_eq!(latest.seq, s.last_change().await.unwrap());
        let at: jiff::Timestamp = latest.at.parse().unwrap();
        assert!(latest.at.ends_with('Z'), "{}", latest.at);
        assert!(before <= at && at <= after, "{before} <= {at} <= {after}");

        // A later write becomes the latest change.
        s.set_publication(&Publication {
            name: "Changed".into(),
            ..Publication::default()
        })
        .await
        .unwrap();
        let newer = s.latest_change().await.unwrap().unwrap();
        assert!(newer.seq > latest.seq);
        assert_eq!(newer.seq, s.last_change().await.unwrap());
        assert_eq!(
            (newer.entity.as_str(), newer.op.as_str()),
            ("publication", "update")
        );
        assert!(newer.at.parse::<jiff::Timestamp>().unwrap() >= at);
        assert_eq!(
            s.changes_since(latest.seq, 10).await.unwrap(),
            vec![newer.clone()]
        );
        // Another instance sees the same.
        let other = bulletin_store::open(&ctx.url).await.unwrap();
        assert_eq!(other.latest_change().await.unwrap(), Some(newer));
    }

    /// A value listed twice in one story still makes it one story of that value.
    pub async fn repeated_values(ctx: Ctx) {
        let s = &ctx.store;
        let twice = located(
            "Twice over",
            date(2021, 5, 1),
            &["Baku", "Ganja", "Baku"],
            &["AZ", "AZ"],
            &["rights", "rights", "media"],
        );
        let once = located("Once", date(2021, 5, 2), &["Baku"], &["AZ"], &["rights"]);
        put(s, vec![twice.clone(), once]).await;
        // The story keeps its lists as given.
        assert_eq!(s.story("twice-over").await.unwrap(), Some(twice.clone()));
        let check = || async {
            for q in [
                StoryQuery {
                    country: Some("AZ".into()),
                    ..Default::default()
                },
                StoryQuery {
                    place: Some("Baku".into()),
                    ..Default::default()
                },
                StoryQuery {
                    tag: Some("rights".into()),
                    ..Default::default()
                },
                StoryQuery {
                    tag: Some("rights".into()),
                    country: Some("AZ".into()),
                    place: Some("Baku".into()),
                    limit: 1,
                    ..Default::default()
                },
            ] {
                assert_eq!(matching(s, q).await, ["once", "twice-over"]);
            }
            assert_eq!(s.countries().await.unwrap(), [("AZ".to_owned(), 2)]);
            assert_eq!(
                s.places().await.unwrap(),
                [("Baku".to_owned(), 2), ("Ganja".to_owned(), 1)]
            );
            let tags: Vec<(String, u64)> = s
                .tags()
                .await
                .unwrap()
                .into_iter()
                .map(|(t, n)| (t.name, n))
                .collect();
            assert_eq!(tags, [("media".to_owned(), 1), ("rights".to_owned(), 2)]);
        };
        check().await;
        // An update rewrites the side rows the same way.
        let mut again = twice.clone();
        again.countries = vec!["AZ".into(), "AZ".into(), "AZ".into()];
        again.body = vec!["Rewritten.".into()];
        let out = put(s, vec![again.clone()]).await;
        assert!(matches!(&out[0], PutOutcome::Updated { .. }));
        assert_eq!(s.story("twice-over").await.unwrap(), Some(again));
        check().await;
    }
}
