//! Conformance cases for the archive's way in and out ([`bulletin_store::Archive`]
//! and the import transaction's tags, drafts, redirects and backup restore).

use std::sync::Arc;

use bulletin_core::backup::{
    BackupDraft, BackupHistory, BackupIssue, BackupStory, BackupSubscriber, BackupUser, Redirect,
};
use bulletin_core::staff::Role;
use bulletin_core::subscriber::{Plan, SubscriberStatus};
use bulletin_core::{IssueStatus, Publication, Tag};
use bulletin_store::{Actor, DeskQuery, NewDraft, RestorePart, Store, StoreError};

use super::{Ctx, date, in_issue, put, story, tagged};

const NOW: i64 = 1_800_000_000;

fn redirect(from: &str, to: &str) -> Redirect {
    Redirect {
        from: from.to_owned(),
        to: to.to_owned(),
    }
}

pub(crate) async fn redirects(ctx: Ctx) {
    let s = &ctx.store;
    assert!(s.is_empty().await.unwrap());
    // The pages the redirects lead to: redirects are followed only to live pages.
    put(
        s,
        vec![
            story("A", date(2021, 7, 19)),
            tagged(story("B", date(2021, 7, 18)), &["news"]),
        ],
    )
    .await;
    let before = s.last_change().await.unwrap();
    let mut tx = s.begin_import().await.unwrap();
    tx.put_redirects(
        vec![
            redirect("/?p=12", "/2021/07/18/b/"),
            redirect("/old/a/", "/2021/07/18/a/"),
            redirect("/same/", "/same/"),
            redirect("/category/news/", "/tag/news/"),
        ],
        NOW,
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(s.redirect("/?p=12").await.unwrap(), None);

    let mut tx = s.begin_import().await.unwrap();
    tx.put_redirects(
        vec![
            redirect("/?p=12", "/2021/07/18/b/"),
            redirect("/old/a/", "/2021/07/18/a/"),
            redirect("/same/", "/same/"),
            redirect("/category/news/", "/tag/news/"),
            redirect("/кириллица/", "/2021/07/18/b/"),
        ],
        NOW,
    )
    .await
    .unwrap();
    // A later import moves an address.
    tx.put_redirects(vec![redirect("/old/a/", "/2021/07/19/a/")], NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        s.last_change().await.unwrap() > before,
        "caches must see it"
    );
    assert!(!s.is_empty().await.unwrap());

    assert_eq!(
        s.redirect("/old/a/").await.unwrap().as_deref(),
        Some("/2021/07/19/a/")
    );
    assert_eq!(
        s.redirect("/?p=12").await.unwrap().as_deref(),
        Some("/2021/07/18/b/")
    );
    assert_eq!(
        s.redirect("/category/news/").await.unwrap().as_deref(),
        Some("/tag/news/")
    );
    assert_eq!(
        s.redirect("/кириллица/").await.unwrap().as_deref(),
        Some("/2021/07/18/b/")
    );
    // An address that would answer itself is never stored.
    assert_eq!(s.redirect("/same/").await.unwrap(), None);
    assert_eq!(s.redirect("/OLD/A/").await.unwrap(), None);

    // Listed in byte order, page by page.
    let first = s.redirects("", 2).await.unwrap();
    assert_eq!(
        first.iter().map(|r| r.from.as_str()).collect::<Vec<_>>(),
        ["/?p=12", "/category/news/"]
    );
    let rest = s.redirects(&first[1].from, 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|r| r.from.as_str()).collect::<Vec<_>>(),
        ["/old/a/", "/кириллица/"]
    );
    // Every one leads to a live page, so all are listed as live too.
    let live = s.live_redirects("", 2).await.unwrap();
    assert_eq!(live, first);
    assert_eq!(s.live_redirects(&live[1].from, 10).await.unwrap(), rest);
}

/// Redirects lead only to pages that answer: an old address of a story that is
/// unpublished or deleted must not answer with (and so reveal) its slug, nor one
/// of a tag without public stories lead to a 404. They come back with the story.
pub(crate) async fn redirects_lead_only_to_public_pages(ctx: Ctx) {
    let s = &ctx.store;
    put(
        s,
        vec![
            tagged(story("Kept", date(2021, 7, 18)), &["common"]),
            tagged(story("Hidden", date(2021, 7, 18)), &["common", "lonely"]),
        ],
    )
    .await;
    let mut tx = s.begin_import().await.unwrap();
    tx.put_tags(vec![Tag {
        name: "empty".into(),
        slug: "empty".into(),
        description: String::new(),
    }])
    .await
    .unwrap();
    tx.put_redirects(
        vec![
            redirect("/?p=1", "/2021/07/18/kept/"),
            redirect("/?p=2", "/2021/07/18/hidden/"),
            redirect("/old/hidden/", "/2021/07/18/hidden/"),
            // The story is not at that date: the address would be a 404.
            redirect("/?p=3", "/2021/07/19/kept/"),
            redirect("/category/common/", "/tag/common/"),
            redirect("/category/lonely/", "/tag/lonely/"),
            redirect("/category/empty/", "/tag/empty/"),
            redirect("/category/none/", "/tag/none/"),
        ],
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    async fn live(s: &Arc<dyn Store>) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        loop {
            let after: String = all.last().cloned().unwrap_or_default();
            let page = s.live_redirects(&after, 2).await.unwrap();
            if page.is_empty() {
                return all;
            }
            // Each page follows the last; followed by the single lookup.
            for r in page {
                assert_eq!(s.redirect(&r.from).await.unwrap(), Some(r.to), "{}", r.from);
                all.push(r.from);
            }
        }
    }
    let while_public = [
        "/?p=1",
        "/?p=2",
        "/category/common/",
        "/category/lonely/",
        "/old/hidden/",
    ];
    assert_eq!(live(s).await, while_public);
    for dead in ["/?p=3", "/category/empty/", "/category/none/"] {
        assert_eq!(s.redirect(dead).await.unwrap(), None, "{dead}");
    }

    let actor = Actor::system("test");
    s.unpublish_story("hidden", &actor, NOW + 1).await.unwrap();
    let while_hidden = ["/?p=1", "/category/common/"];
    assert_eq!(live(s).await, while_hidden);
    for dead in ["/?p=2", "/old/hidden/", "/category/lonely/"] {
        assert_eq!(s.redirect(dead).await.unwrap(), None, "{dead}");
    }
    // A backup still keeps them all.
    assert_eq!(s.redirects("", 100).await.unwrap().len(), 8);

    s.publish_story("hidden", &actor, NOW + 2).await.unwrap();
    assert_eq!(live(s).await, while_public);

    s.delete_desk_story("hidden", &actor, NOW + 3)
        .await
        .unwrap();
    assert_eq!(live(s).await, while_hidden);
    assert_eq!(s.redirect("/?p=2").await.unwrap(), None);
}

fn draft(story: bulletin_core::Story, status: &'static str, at: Option<i64>) -> NewDraft {
    NewDraft {
        story,
        status,
        publish_at: at,
    }
}

pub(crate) async fn imported_drafts(ctx: Ctx) {
    let s = &ctx.store;
    put(s, vec![story("Already public", date(2021, 7, 1))]).await;
    let before = s.last_change().await.unwrap();
    let mut tx = s.begin_import().await.unwrap();
    let slugs = tx
        .put_drafts(
            vec![
                draft(story("Already public", date(2021, 7, 1)), "draft", None),
                draft(story("For review", date(2021, 7, 2)), "pending", None),
                draft(story("Staff only", date(2021, 7, 3)), "private", None),
                draft(
                    in_issue(story("Waits in an issue", date(2021, 7, 4)), 9, None),
                    "draft",
                    None,
                ),
            ],
            NOW,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        slugs,
        [
            "already-public-2",
            "for-review",
            "staff-only",
            "waits-in-an-issue"
        ]
    );
    // The same export imported again adds no second copy.
    let mut tx = s.begin_import().await.unwrap();
    let again = tx
        .put_drafts(
            vec![draft(
                story("For review", date(2021, 7, 2)),
                "pending",
                None,
            )],
            NOW,
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(again, ["for-review"]);
    // Nothing public changed: the drafts are in the newsroom only.
    assert_eq!(s.counts().await.unwrap().stories, 1);
    assert!(s.story("staff-only").await.unwrap().is_none());
    let (desk, total) = s.desk(&DeskQuery::default()).await.unwrap();
    assert_eq!(total, 5, "{desk:?}");
    let staff_only = s.desk_story("staff-only").await.unwrap().unwrap();
    assert_eq!(staff_only.version, 1);
    let history = s.history("staff-only").await.unwrap();
    assert_eq!(
        (history[0].action.as_str(), history[0].actor.as_str()),
        ("import", "import")
    );
    // The issue it names was made, as a draft, with the story in it.
    let issue = s.issue_desk(9).await.unwrap().unwrap();
    assert_eq!(issue.status, IssueStatus::Draft);
    assert!(s.last_change().await.unwrap() > before);
    let statuses: Vec<String> = {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = s.backup_drafts(after, 2).await.unwrap();
            let Some(last) = page.last() else { break };
            after = last.0;
            out.extend(page.into_iter().map(|(_, d)| d.status));
        }
        out
    };
    assert_eq!(statuses, ["draft", "pending", "private", "draft"]);
}

pub(crate) async fn scheduled_stories_publish_once(ctx: Ctx) {
    let s = &ctx.store;
    let actor = Actor::system("test");
    s.create_issue(3, Some(date(2021, 8, 1)), &actor, NOW)
        .await
        .unwrap();
    let mut tx = s.begin_import().await.unwrap();
    tx.put_drafts(
        vec![
            draft(story("Goes live", date(2021, 7, 20)), "future", Some(NOW)),
            draft(story("Later", date(2021, 7, 21)), "future", Some(NOW + 60)),
            draft(
                in_issue(story("Stuck in a draft issue", date(2021, 7, 22)), 3, None),
                "future",
                Some(NOW - 5),
            ),
        ],
        NOW - 100,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(s.publish_due_stories(NOW - 10).await.unwrap().is_empty());

    let other = bulletin_store::open(&ctx.url).await.unwrap();
    let (x, y) = tokio::join!(s.publish_due_stories(NOW), other.publish_due_stories(NOW));
    let mut fired = x.unwrap();
    fired.extend(y.unwrap());
    assert_eq!(fired, ["goes-live"]);
    assert!(s.story("goes-live").await.unwrap().is_some());
    assert!(s.story("later").await.unwrap().is_none());
    // The one whose issue is not published stays a draft, and the log says why.
    assert!(s.story("stuck-in-a-draft-issue").await.unwrap().is_none());
    let log = s.audit_log(0, 50).await.unwrap();
    let failed: Vec<_> = log
        .iter()
        .filter(|e| e.action == "schedule-failed")
        .collect();
    assert_eq!(failed.len(), 1, "{log:?}");
    assert_eq!(failed[0].key, "stuck-in-a-draft-issue");
    assert!(failed[0].detail.contains("issue 3"), "{}", failed[0].detail);
    assert!(s.publish_due_stories(NOW + 1).await.unwrap().is_empty());
    assert_eq!(s.publish_due_stories(NOW + 60).await.unwrap(), ["later"]);
}

pub(crate) async fn tag_descriptions(ctx: Ctx) {
    let s = &ctx.store;
    let tag = |name: &str, slug: &str, description: &str| Tag {
        name: name.to_owned(),
        slug: slug.to_owned(),
        description: description.to_owned(),
    };
    let mut tx = s.begin_import().await.unwrap();
    tx.put_tags(vec![
        tag(
            "political rights",
            "political-rights",
            "Rights of citizens.",
        ),
        tag("Elections", "votes", ""),
        tag("elections!", "elections", ""),
        tag("no slug", "Not A Slug", ""),
    ])
    .await
    .unwrap();
    // A story naming a tag made above uses it, not a new one.
    let mut st = story("Tagged story", date(2021, 7, 1));
    st.tags = vec!["Elections".into(), "brand new".into()];
    tx.put_stories(vec![st]).await.unwrap();
    tx.put_tags(vec![
        tag("political rights", "other", "Rights, described again."),
        tag("Elections", "votes", ""),
    ])
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let tags = s.tags().await.unwrap();
    let find = |name: &str| tags.iter().find(|(t, _)| t.name == name).cloned().unwrap();
    assert_eq!(
        find("political rights").0,
        tag(
            "political rights",
            "political-rights",
            "Rights, described again."
        )
    );
    assert_eq!(find("Elections"), (tag("Elections", "votes", ""), 1));
    assert_eq!(find("elections!").0.slug, "elections");
    assert_eq!(find("no slug").0.slug, "no-slug");
    assert_eq!(find("brand new").1, 1);
    assert_eq!(tags.len(), 5);
}

/// Everything a backup holds, read page by page.
#[derive(Debug, PartialEq)]
struct Full {
    publication: Publication,
    tags: Vec<Tag>,
    users: Vec<BackupUser>,
    subscribers: Vec<BackupSubscriber>,
    issues: Vec<BackupIssue>,
    stories: Vec<BackupStory>,
    drafts: Vec<BackupDraft>,
    history: Vec<BackupHistory>,
    redirects: Vec<Redirect>,
}

async fn full(s: &Arc<dyn Store>) -> Full {
    let mut stories = Vec::new();
    let mut query = bulletin_store::StoryQuery {
        limit: 2,
        ..Default::default()
    };
    loop {
        let page = s.stories(&query).await.unwrap();
        stories.extend(s.backup_stories(page.stories).await.unwrap());
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    let mut drafts = Vec::new();
    let mut after = 0;
    loop {
        let page = s.backup_drafts(after, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.0;
        drafts.extend(page.into_iter().map(|(_, x)| x));
    }
    let mut history: Vec<BackupHistory> = Vec::new();
    loop {
        let after = history.last().map(|h| (h.slug.clone(), h.number));
        let page = s.backup_history(after, 2).await.unwrap();
        if page.is_empty() {
            break;
        }
        history.extend(page);
    }
    let mut redirects: Vec<Redirect> = Vec::new();
    loop {
        let after = redirects.last().map_or(String::new(), |r| r.from.clone());
        let page = s.redirects(&after, 2).await.unwrap();
        if page.is_empty() {
            break;
        }
        redirects.extend(page);
    }
    Full {
        publication: s.publication().await.unwrap(),
        tags: s
            .tags()
            .await
            .unwrap()
            .into_iter()
            .map(|(t, _)| t)
            .collect(),
        users: s.backup_users().await.unwrap(),
        subscribers: s
            .subscribers(&bulletin_store::SubscriberQuery::default())
            .await
            .unwrap()
            .into_iter()
            .map(BackupSubscriber::from)
            .collect(),
        issues: s.backup_issues().await.unwrap(),
        stories,
        drafts,
        history,
        redirects,
    }
}

async fn restore(s: &Arc<dyn Store>, f: &Full) -> Result<(), StoreError> {
    let mut tx = s.begin_import().await?;
    tx.restore(RestorePart::Publication(f.publication.clone()))
        .await?;
    tx.put_tags(f.tags.clone()).await?;
    tx.restore(RestorePart::Users(f.users.clone())).await?;
    tx.restore(RestorePart::Subscribers(f.subscribers.clone()))
        .await?;
    tx.restore(RestorePart::Issues(f.issues.clone())).await?;
    tx.restore(RestorePart::Stories(f.stories.clone())).await?;
    tx.restore(RestorePart::Drafts(f.drafts.clone())).await?;
    tx.restore(RestorePart::History(f.history.clone())).await?;
    tx.put_redirects(f.redirects.clone(), NOW).await?;
    tx.restore(RestorePart::IssueOrder(f.issues.clone()))
        .await?;
    tx.commit().await
}

/// An archive with something of everything, built in a SQLite store of its own.
async fn rich_archive(dir: &std::path::Path) -> Arc<dyn Store> {
    let url = format!("sqlite://{}/source.db", dir.display());
    let s = bulletin_store::open(&url).await.unwrap();
    let mut publication = s.publication().await.unwrap();
    publication.name = "A Restored Bulletin".into();
    s.set_publication(&publication).await.unwrap();
    let user = s
        .create_user("editor@example.org", Role::Editor, "$argon2id$v=19$hash")
        .await
        .unwrap();
    s.create_user("old@example.org", Role::Contributor, "$argon2id$v=19$other")
        .await
        .unwrap();
    s.set_user_disabled("old@example.org", true).await.unwrap();
    let actor = Actor::user(user.id, &user.email);
    for (email, status) in [
        ("paid@example.org", SubscriberStatus::Active),
        ("left@example.org", SubscriberStatus::Unsubscribed),
    ] {
        s.add_subscriber(
            &bulletin_store::NewSubscriber {
                email: email.into(),
                name: "Reader".into(),
                plan: Plan::Paid,
                status,
            },
            NOW,
        )
        .await
        .unwrap();
    }
    let mut tx = s.begin_import().await.unwrap();
    tx.put_tags(vec![Tag {
        name: "rights".into(),
        slug: "rights-2".into(),
        description: "Described.".into(),
    }])
    .await
    .unwrap();
    let mut a = in_issue(
        story("First in issue", date(2021, 7, 20)),
        5,
        Some(date(2021, 7, 22)),
    );
    a.tags = vec!["rights".into()];
    let b = in_issue(
        story("Second in issue", date(2021, 7, 18)),
        5,
        Some(date(2021, 7, 22)),
    );
    let c = story("No issue", date(2021, 7, 18));
    let d = story("No issue either", date(2021, 7, 18));
    tx.put_stories(vec![a.clone(), b, c, d]).await.unwrap();
    tx.put_redirects(vec![redirect("/?p=1", "/2021/07/20/first-in-issue/")], NOW)
        .await
        .unwrap();
    tx.put_drafts(
        vec![
            draft(story("Private one", date(2021, 7, 25)), "private", None),
            draft(
                story("Future one", date(2021, 7, 26)),
                "future",
                Some(NOW + 99),
            ),
        ],
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    // An edit in the newsroom makes history.
    let desk = s.desk_story("private-one").await.unwrap().unwrap();
    let mut edited = desk.story.clone();
    edited.body.push("Edited.".into());
    s.save_story(edited, Some(desk.version), "save", &actor, NOW + 5)
        .await
        .unwrap();
    // An issue being built, one scheduled, and an order that is not arrival order.
    s.create_issue(6, Some(date(2021, 8, 1)), &actor, NOW)
        .await
        .unwrap();
    s.create_issue(7, Some(date(2021, 8, 8)), &actor, NOW)
        .await
        .unwrap();
    s.schedule_issue(7, NOW + 500, &actor, NOW).await.unwrap();
    s.unpublish_issue(5, &actor, NOW).await.unwrap();
    s.set_issue_stories(
        5,
        &["second-in-issue".to_owned(), "first-in-issue".to_owned()],
        &actor,
        NOW,
    )
    .await
    .unwrap();
    s.publish_issue(5, &actor, NOW).await.unwrap();
    // A correction by a later import makes a revision.
    a.body.push("A correction.".into());
    put(&s, vec![a]).await;
    s
}

pub(crate) async fn backup_restores_exactly(ctx: Ctx) {
    let dir = tempfile::tempdir().unwrap();
    let source = rich_archive(dir.path()).await;
    let taken = full(&source).await;
    // The fixture really holds each kind of thing.
    assert_eq!(taken.users.len(), 2);
    assert!(taken.users.iter().all(|u| u.password_hash.is_some()));
    assert_eq!(taken.issues.len(), 3);
    assert_eq!(
        taken.issues[0].stories,
        ["second-in-issue", "first-in-issue"]
    );
    assert_eq!(taken.issues[2].publish_at, Some(NOW + 500));
    assert_eq!(taken.stories.len(), 4);
    assert!(taken.stories.iter().any(|s| !s.revisions.is_empty()));
    assert_eq!(taken.drafts.len(), 2);
    assert!(taken.history.iter().any(|h| h.user.is_some()));
    assert_eq!(taken.redirects.len(), 1);
    assert_eq!(taken.subscribers.len(), 2);
    assert!(taken.tags.iter().any(|t| t.slug == "rights-2"));
    assert!(
        taken
            .stories
            .iter()
            .all(|s| s.created_at.ends_with('Z') && s.created_at.len() == 20)
    );

    // Into this backend, and read back: the same, field by field.
    assert!(ctx.store.is_empty().await.unwrap());
    restore(&ctx.store, &taken).await.unwrap();
    let back = full(&ctx.store).await;
    assert_eq!(back, taken);
    // The restored archive works: the issue order and the drafts' states hold.
    let five = ctx.store.issue(5).await.unwrap().unwrap();
    assert_eq!(five.stories, ["second-in-issue", "first-in-issue"]);
    assert!(ctx.store.story("private-one").await.unwrap().is_none());
    assert_eq!(
        ctx.store.publish_due_stories(NOW + 99).await.unwrap(),
        ["future-one"]
    );
    assert!(
        ctx.store
            .user_credentials("editor@example.org")
            .await
            .unwrap()
            .is_some()
    );
}

pub(crate) async fn restore_refuses_inconsistent_backups(ctx: Ctx) {
    let dir = tempfile::tempdir().unwrap();
    let source = rich_archive(dir.path()).await;
    let mut broken = full(&source).await;
    broken.issues[0].stories.push("not-in-the-backup".into());
    let e = restore(&ctx.store, &broken).await.unwrap_err();
    assert!(e.to_string().contains("not-in-the-backup"), "{e}");
    // All or nothing: the failed restore left the store empty.
    assert!(ctx.store.is_empty().await.unwrap());

    let mut broken = full(&source).await;
    broken.drafts[0].status = "published".into();
    let e = restore(&ctx.store, &broken).await.unwrap_err();
    assert!(e.to_string().contains("status"), "{e}");
    assert!(ctx.store.is_empty().await.unwrap());

    let mut twice = full(&source).await;
    let again = twice.users[0].clone();
    twice.users.push(again);
    let e = restore(&ctx.store, &twice).await.unwrap_err();
    assert!(matches!(e, StoreError::Duplicate { .. }), "{e}");
    assert!(ctx.store.is_empty().await.unwrap());
}

/// An issue's own date survives a restore even when its stories' footers
/// disagree with it (real archives have footers with a wrong date, and an
/// import keeps each story's footer as it was).
pub(crate) async fn restore_keeps_each_issue_date(ctx: Ctx) {
    let dir = tempfile::tempdir().unwrap();
    let source = rich_archive(dir.path()).await;
    let mut taken = full(&source).await;
    let five = taken.issues.iter_mut().find(|i| i.number == 5).unwrap();
    let footers: Vec<_> = taken
        .stories
        .iter()
        .filter_map(|s| s.story.issue)
        .filter(|r| r.number == 5)
        .map(|r| r.date)
        .collect();
    assert!(!footers.is_empty());
    // A date that none of its stories' footers carries.
    let own = Some(date(2021, 7, 23));
    assert!(footers.iter().all(|d| *d != own));
    five.date = own;
    restore(&ctx.store, &taken).await.unwrap();
    assert_eq!(ctx.store.issue(5).await.unwrap().unwrap().date, own);
    assert_eq!(full(&ctx.store).await, taken);
}
