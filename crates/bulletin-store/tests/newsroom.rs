//! Conformance cases for the newsroom ([`bulletin_store::Newsroom`]): sessions,
//! sign-in throttling, drafts kept out of every public read, issues built and
//! published, edit conflicts and history, scheduled publishing exactly once.

use bulletin_core::staff::Role;
use bulletin_core::{IssueRef, IssueStatus};
use bulletin_store::{Actor, DeskQuery, DeskState, SaveOutcome, StoreError, StoryQuery};

use super::{Ctx, date, put, story};

const NOW: i64 = 1_800_000_000;

async fn editor(ctx: &Ctx, email: &str) -> Actor {
    let user = ctx
        .store
        .create_user(email, Role::Editor, "$argon2id$v=19$x")
        .await
        .unwrap();
    Actor::user(user.id, &user.email)
}

fn saved(outcome: SaveOutcome) -> (String, u32) {
    match outcome {
        SaveOutcome::Saved { slug, version } => (slug, version),
        other => panic!("expected a save, got {other:?}"),
    }
}

async fn new_draft(ctx: &Ctx, headline: &str, actor: &Actor) -> String {
    let s = story(headline, date(2021, 7, 18));
    saved(
        ctx.store
            .save_story(s, None, "save", actor, NOW)
            .await
            .unwrap(),
    )
    .0
}

pub(crate) async fn sessions(ctx: Ctx) {
    let s = &ctx.store;
    let user = s
        .create_user("a@example.org", Role::Contributor, "$argon2id$v=19$x")
        .await
        .unwrap();
    s.create_session("hash-1", user.id, "csrf-1", NOW)
        .await
        .unwrap();
    s.create_session("hash-2", user.id, "csrf-2", NOW + 5)
        .await
        .unwrap();
    let got = s.session("hash-1").await.unwrap().unwrap();
    assert_eq!(
        (
            got.user_id,
            got.email.as_str(),
            got.role,
            got.csrf_token.as_str()
        ),
        (user.id, "a@example.org", Role::Contributor, "csrf-1")
    );
    assert_eq!((got.created_at, got.last_seen_at), (NOW, NOW));
    s.touch_session("hash-1", NOW + 60).await.unwrap();
    assert_eq!(
        s.session("hash-1").await.unwrap().unwrap().last_seen_at,
        NOW + 60
    );
    assert!(s.session("nope").await.unwrap().is_none());

    // A disabled account's sessions stop working at once.
    s.set_user_disabled("a@example.org", true).await.unwrap();
    assert!(s.session("hash-1").await.unwrap().is_none());
    s.set_user_disabled("a@example.org", false).await.unwrap();
    assert!(s.session("hash-1").await.unwrap().is_some());

    // Expiry: hash-1 idle since NOW+60, hash-2 seen at NOW+5.
    assert_eq!(
        s.delete_expired_sessions(NOW - 1, NOW + 10).await.unwrap(),
        1
    );
    assert!(s.session("hash-2").await.unwrap().is_none());
    assert!(s.session("hash-1").await.unwrap().is_some());
    s.delete_session("hash-1").await.unwrap();
    assert!(s.session("hash-1").await.unwrap().is_none());

    s.create_session("hash-3", user.id, "c", NOW).await.unwrap();
    s.create_session("hash-4", user.id, "c", NOW).await.unwrap();
    assert_eq!(s.delete_user_sessions(user.id).await.unwrap(), 2);
    assert!(s.session("hash-3").await.unwrap().is_none());
}

pub(crate) async fn login_failures(ctx: Ctx) {
    let s = &ctx.store;
    for t in [NOW, NOW + 10, NOW + 20] {
        s.record_login_failure("account:a@example.org", t, t - 3600)
            .await
            .unwrap();
    }
    s.record_login_failure("address:127.0.0.1", NOW, NOW - 3600)
        .await
        .unwrap();
    assert_eq!(
        s.login_failures("account:a@example.org", NOW)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        s.login_failures("account:a@example.org", NOW + 15)
            .await
            .unwrap(),
        1
    );
    // Recording forgets what is older than the window.
    s.record_login_failure("account:a@example.org", NOW + 5000, NOW + 15)
        .await
        .unwrap();
    assert_eq!(
        s.login_failures("account:a@example.org", 0).await.unwrap(),
        2
    );
    s.clear_login_failures("account:a@example.org")
        .await
        .unwrap();
    assert_eq!(
        s.login_failures("account:a@example.org", 0).await.unwrap(),
        0
    );
    assert_eq!(s.login_failures("address:127.0.0.1", 0).await.unwrap(), 1);
}

pub(crate) async fn drafts_are_not_public(ctx: Ctx) {
    let s = &ctx.store;
    let actor = editor(&ctx, "e@example.org").await;
    put(s, vec![story("Published already", date(2021, 7, 1))]).await;
    let before = s.last_change().await.unwrap();
    let slug = new_draft(&ctx, "Secret plans", &actor).await;
    assert_eq!(slug, "secret-plans");
    // A second story with the same headline gets its own slug.
    let second = new_draft(&ctx, "Secret plans", &actor).await;
    assert_eq!(second, "secret-plans-2");
    // So does one whose headline matches a public story.
    assert_eq!(
        new_draft(&ctx, "Published already", &actor).await,
        "published-already-2"
    );

    let desk = s.desk_story(&slug).await.unwrap().unwrap();
    assert_eq!(desk.state, DeskState::Draft);
    assert_eq!(desk.version, 1);
    assert_eq!(desk.author.as_deref(), Some("e@example.org"));
    // No public read sees a draft, and drafts do not touch the change log.
    assert!(s.story(&slug).await.unwrap().is_none());
    let listed = s.stories(&StoryQuery::default()).await.unwrap().stories;
    assert_eq!(listed.len(), 1);
    assert_eq!(s.count_stories(&StoryQuery::default()).await.unwrap(), 1);
    assert_eq!(s.counts().await.unwrap().stories, 1);
    assert_eq!(s.story_index(0, 100).await.unwrap().len(), 1);
    assert_eq!(s.last_change().await.unwrap(), before);

    let (all, total) = s.desk(&DeskQuery::default()).await.unwrap();
    assert_eq!(total, 4);
    assert_eq!(
        all.iter().map(|e| e.state).collect::<Vec<_>>(),
        [
            DeskState::Draft,
            DeskState::Draft,
            DeskState::Draft,
            DeskState::Published
        ]
    );
    let log = s.audit_log(0, 10).await.unwrap();
    assert_eq!(log.len(), 3);
    assert!(
        log.iter()
            .all(|e| e.action == "create" && e.actor == "e@example.org")
    );
}

pub(crate) async fn issue_publish_flow(ctx: Ctx) {
    let s = &ctx.store;
    let actor = editor(&ctx, "e@example.org").await;
    s.create_issue(501, Some(date(2021, 7, 22)), &actor, NOW)
        .await
        .unwrap();
    let again = s.create_issue(501, None, &actor, NOW).await;
    assert!(
        matches!(&again, Err(StoreError::Duplicate { what: "issue", key }) if key == "501"),
        "{again:?}"
    );
    let a = new_draft(&ctx, "First story", &actor).await;
    let b = new_draft(&ctx, "Second story", &actor).await;
    s.set_issue_stories(501, &[b.clone(), a.clone()], &actor, NOW)
        .await
        .unwrap();
    let desk = s.issue_desk(501).await.unwrap().unwrap();
    assert_eq!(desk.status, IssueStatus::Draft);
    assert_eq!(
        desk.stories
            .iter()
            .map(|e| e.slug.as_str())
            .collect::<Vec<_>>(),
        [b.as_str(), a.as_str()]
    );
    // The draft's footer follows its issue.
    let draft = s.desk_story(&a).await.unwrap().unwrap().story;
    assert_eq!(
        draft.issue,
        Some(IssueRef {
            number: 501,
            date: Some(date(2021, 7, 22))
        })
    );
    // A draft issue is not public, and neither are its stories.
    assert!(s.latest_issue().await.unwrap().is_none());

    let before = s.last_change().await.unwrap();
    assert_eq!(s.publish_issue(501, &actor, NOW + 1).await.unwrap(), 2);
    assert!(s.last_change().await.unwrap() > before);
    let public = s
        .stories(&StoryQuery {
            issue: Some(501),
            ..StoryQuery::default()
        })
        .await
        .unwrap()
        .stories;
    assert_eq!(
        public.iter().map(|s| s.slug.as_str()).collect::<Vec<_>>(),
        [b.as_str(), a.as_str()],
        "published in the builder's order"
    );
    assert_eq!(
        s.issue(501).await.unwrap().unwrap().status,
        IssueStatus::Published
    );
    assert_eq!(s.latest_issue().await.unwrap().unwrap().number, 501);
    assert_eq!(
        s.desk_story(&a).await.unwrap().unwrap().state,
        DeskState::Published
    );
    let twice = s.publish_issue(501, &actor, NOW + 2).await;
    assert!(matches!(twice, Err(StoreError::Refused(_))), "{twice:?}");

    // Unpublishing takes every story down again, into the drafts.
    s.unpublish_issue(501, &actor, NOW + 3).await.unwrap();
    assert!(s.story(&a).await.unwrap().is_none());
    assert_eq!(s.counts().await.unwrap().stories, 0);
    let desk = s.issue_desk(501).await.unwrap().unwrap();
    assert_eq!(desk.status, IssueStatus::Draft);
    assert_eq!(
        desk.stories
            .iter()
            .map(|e| e.slug.as_str())
            .collect::<Vec<_>>(),
        [b.as_str(), a.as_str()]
    );
    assert_eq!(s.publish_issue(501, &actor, NOW + 4).await.unwrap(), 2);
    assert!(s.story(&a).await.unwrap().is_some());

    let actions: Vec<(String, String)> = s
        .audit_log(0, 100)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| (e.action, e.entity))
        .collect();
    let expected = [
        ("create", "issue"),
        ("create", "story"),
        ("create", "story"),
        ("arrange", "issue"),
        ("publish", "issue"),
        ("unpublish", "issue"),
        ("publish", "issue"),
    ];
    assert_eq!(
        actions
            .iter()
            .map(|(a, e)| (a.as_str(), e.as_str()))
            .collect::<Vec<_>>(),
        expected
    );
    let summary = s.issue_list().await.unwrap();
    assert_eq!(summary.len(), 1);
    assert_eq!((summary[0].number, summary[0].stories), (501, 2));
}

pub(crate) async fn edit_conflict_and_history(ctx: Ctx) {
    let s = &ctx.store;
    let alice = editor(&ctx, "alice@example.org").await;
    let bob = editor(&ctx, "bob@example.org").await;
    let slug = new_draft(&ctx, "Draft headline", &alice).await;

    let mut by_alice = s.desk_story(&slug).await.unwrap().unwrap().story;
    by_alice.body = vec!["Alice's paragraph.".to_owned()];
    let mut by_bob = by_alice.clone();
    by_bob.body = vec!["Bob's paragraph.".to_owned()];

    let (_, v) = saved(
        s.save_story(by_alice.clone(), Some(1), "save", &alice, NOW + 1)
            .await
            .unwrap(),
    );
    assert_eq!(v, 2);
    // Bob started from version 1 too: refused, with Alice's text shown.
    match s
        .save_story(by_bob.clone(), Some(1), "save", &bob, NOW + 2)
        .await
        .unwrap()
    {
        SaveOutcome::Conflict { current, base, by } => {
            assert_eq!(current.version, 2);
            assert_eq!(current.story.body, by_alice.body);
            assert_eq!(by, "alice@example.org");
            assert_eq!(base.unwrap().headline, "Draft headline");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        s.desk_story(&slug).await.unwrap().unwrap().story.body,
        by_alice.body,
        "nothing of Bob's was written"
    );
    // Bob merges and saves on top of version 2.
    let (_, v) = saved(
        s.save_story(by_bob, Some(2), "save", &bob, NOW + 3)
            .await
            .unwrap(),
    );
    assert_eq!(v, 3);
    let history = s.history(&slug).await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|h| (h.number, h.actor.as_str(), h.action.as_str(), h.at))
            .collect::<Vec<_>>(),
        [
            (1, "alice@example.org", "create", NOW),
            (2, "alice@example.org", "save", NOW + 1),
            (3, "bob@example.org", "save", NOW + 3),
        ]
    );
    // Restoring version 1 is a save like any other.
    let (_, v) = saved(
        s.save_story(
            history[0].story.clone(),
            Some(3),
            "restore",
            &alice,
            NOW + 4,
        )
        .await
        .unwrap(),
    );
    assert_eq!(v, 4);
    let restored = s.desk_story(&slug).await.unwrap().unwrap();
    assert_eq!(restored.story.body, history[0].story.body);
    assert_eq!(s.history(&slug).await.unwrap()[3].action, "restore");
    // Saving a story that does not exist is an error, not a new story.
    let mut ghost = restored.story.clone();
    ghost.slug = "no-such-story".into();
    let missing = s.save_story(ghost, Some(0), "save", &alice, NOW).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
}

pub(crate) async fn published_story_edits(ctx: Ctx) {
    let s = &ctx.store;
    let actor = editor(&ctx, "e@example.org").await;
    // An imported story, never edited in the newsroom: version 0.
    let imported = story("Imported story", date(2021, 7, 18));
    let slug = match &put(s, vec![imported.clone()]).await[0] {
        bulletin_store::PutOutcome::New { slug } => slug.clone(),
        other => panic!("{other:?}"),
    };
    let desk = s.desk_story(&slug).await.unwrap().unwrap();
    assert_eq!((desk.state, desk.version), (DeskState::Published, 0));

    // A new headline keeps the slug and the URL; the old text is a revision.
    let mut edited = desk.story.clone();
    edited.headline = "Imported story, corrected".into();
    let before = s.last_change().await.unwrap();
    let (got, v) = saved(
        s.save_story(edited.clone(), Some(0), "save", &actor, NOW)
            .await
            .unwrap(),
    );
    assert_eq!((got.as_str(), v), (slug.as_str(), 2));
    let public = s.story(&slug).await.unwrap().unwrap();
    assert_eq!(public.headline, "Imported story, corrected");
    assert_eq!(s.counts().await.unwrap().stories, 1);
    assert_eq!(s.revisions(&slug).await.unwrap().len(), 1);
    assert!(
        s.last_change().await.unwrap() > before,
        "search must follow"
    );
    let history = s.history(&slug).await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|h| (h.action.as_str(), h.actor.as_str()))
            .collect::<Vec<_>>(),
        [("import", "import"), ("save", "e@example.org")]
    );
    assert_eq!(history[0].story.headline, "Imported story");

    // Unpublish, then publish again (no issue: a standalone story).
    s.unpublish_story(&slug, &actor, NOW + 1).await.unwrap();
    assert!(s.story(&slug).await.unwrap().is_none());
    assert_eq!(
        s.desk_story(&slug).await.unwrap().unwrap().state,
        DeskState::Draft
    );
    s.publish_story(&slug, &actor, NOW + 2).await.unwrap();
    assert_eq!(
        s.story(&slug).await.unwrap().unwrap().headline,
        "Imported story, corrected"
    );
    s.delete_desk_story(&slug, &actor, NOW + 3).await.unwrap();
    assert!(s.desk_story(&slug).await.unwrap().is_none());
    assert!(s.story(&slug).await.unwrap().is_none());
    let gone = s.delete_desk_story(&slug, &actor, NOW + 4).await;
    assert!(matches!(gone, Err(StoreError::NotFound { .. })), "{gone:?}");
    // Its history stays, and a new story does not take its slug.
    assert_eq!(s.history(&slug).await.unwrap().len(), 2);
    assert_eq!(
        new_draft(&ctx, "Imported story", &actor).await,
        format!("{slug}-2")
    );
}

pub(crate) async fn scheduled_issue_fires_once(ctx: Ctx) {
    let s = &ctx.store;
    let actor = editor(&ctx, "e@example.org").await;
    s.create_issue(7, Some(date(2021, 7, 22)), &actor, NOW)
        .await
        .unwrap();
    let slug = new_draft(&ctx, "Scheduled story", &actor).await;
    s.set_issue_stories(7, std::slice::from_ref(&slug), &actor, NOW)
        .await
        .unwrap();
    let past = s.schedule_issue(7, NOW - 1, &actor, NOW).await;
    assert!(matches!(past, Err(StoreError::Refused(_))), "{past:?}");
    s.schedule_issue(7, NOW + 100, &actor, NOW).await.unwrap();
    let desk = s.issue_desk(7).await.unwrap().unwrap();
    assert_eq!(
        (desk.status, desk.publish_at),
        (IssueStatus::Scheduled, Some(NOW + 100))
    );
    assert!(s.publish_due(NOW + 99).await.unwrap().is_empty());
    assert!(s.story(&slug).await.unwrap().is_none());

    // Two stores on one database race for it: exactly one publishes it.
    let other = bulletin_store::open(&ctx.url).await.unwrap();
    let (x, y) = tokio::join!(s.publish_due(NOW + 100), other.publish_due(NOW + 100));
    let mut fired = x.unwrap();
    fired.extend(y.unwrap());
    assert_eq!(fired, [7]);
    assert!(s.publish_due(NOW + 200).await.unwrap().is_empty());
    assert!(s.story(&slug).await.unwrap().is_some());
    let publishes = s
        .audit_log(0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "publish")
        .collect::<Vec<_>>();
    assert_eq!(publishes.len(), 1);
    assert_eq!(publishes[0].actor, "scheduler");
}

pub(crate) async fn refusals(ctx: Ctx) {
    let s = &ctx.store;
    let actor = editor(&ctx, "e@example.org").await;
    s.create_issue(1, Some(date(2021, 1, 7)), &actor, NOW)
        .await
        .unwrap();
    s.create_issue(2, None, &actor, NOW).await.unwrap();
    let a = new_draft(&ctx, "Story A", &actor).await;
    s.set_issue_stories(1, std::slice::from_ref(&a), &actor, NOW)
        .await
        .unwrap();
    fn refused<T>(r: Result<T, StoreError>, needle: &str) {
        match r {
            Err(StoreError::Refused(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
            Err(e) => panic!("expected a refusal with {needle:?}, got {e:?}"),
            Ok(_) => panic!("expected a refusal with {needle:?}, got success"),
        }
    }
    // A story in two issues.
    refused(
        s.set_issue_stories(2, std::slice::from_ref(&a), &actor, NOW)
            .await,
        "already in issue 1",
    );
    refused(
        s.set_issue_stories(1, &[a.clone(), a.clone()], &actor, NOW)
            .await,
        "twice",
    );
    // Publishing a story of an unpublished issue, or an issue without a date.
    refused(s.publish_story(&a, &actor, NOW).await, "publish the issue");
    let b = new_draft(&ctx, "Story B", &actor).await;
    s.set_issue_stories(2, std::slice::from_ref(&b), &actor, NOW)
        .await
        .unwrap();
    refused(s.publish_issue(2, &actor, NOW).await, "no date");
    refused(s.schedule_issue(2, NOW + 10, &actor, NOW).await, "no date");
    assert!(s.story(&b).await.unwrap().is_none(), "nothing half-done");
    // Given a date, the draft's footer follows it.
    s.set_issue_date(2, Some(date(2021, 1, 14)), &actor, NOW)
        .await
        .unwrap();
    assert_eq!(
        s.desk_story(&b).await.unwrap().unwrap().story.issue,
        Some(IssueRef {
            number: 2,
            date: Some(date(2021, 1, 14))
        })
    );
    assert_eq!(
        s.issue_desk(2).await.unwrap().unwrap().date,
        Some(date(2021, 1, 14))
    );
    s.set_issue_date(2, None, &actor, NOW).await.unwrap();
    // A story already public cannot be put in an issue being built.
    s.publish_issue(1, &actor, NOW).await.unwrap();
    refused(
        s.set_issue_stories(2, std::slice::from_ref(&a), &actor, NOW)
            .await,
        "already published",
    );
    refused(s.publish_story(&a, &actor, NOW).await, "already published");
    refused(
        s.set_issue_stories(1, std::slice::from_ref(&b), &actor, NOW)
            .await,
        "is published",
    );
    refused(s.set_issue_date(1, None, &actor, NOW).await, "is published");
    // Same headline, date and issue as a public story, under a slug of its own:
    // a second story (as WordPress keeps two posts of one title and day), never
    // an overwrite of the first.
    let public_a = s.story(&a).await.unwrap().unwrap();
    let mut twin = public_a.clone();
    twin.body = vec!["A different text under the same headline.".into()];
    let (twin, _) = saved(s.save_story(twin, None, "save", &actor, NOW).await.unwrap());
    assert_eq!(twin, "story-a-2");
    s.publish_story(&twin, &actor, NOW).await.unwrap();
    assert_eq!(s.story(&a).await.unwrap().unwrap(), public_a);
    assert_eq!(
        s.story(&twin).await.unwrap().unwrap().body,
        ["A different text under the same headline."]
    );
    // An import naming an issue still being prepared is refused, whole: its
    // stories would be public before their issue.
    let mut imported = story("Imported into a draft issue", date(2021, 1, 5));
    imported.issue = Some(IssueRef {
        number: 2,
        date: None,
    });
    let mut tx = s.begin_import().await.unwrap();
    let r = tx.put_stories(vec![imported.clone()]).await;
    drop(tx);
    refused(r, "issue 2 is draft in the newsroom");
    assert!(
        s.story("imported-into-a-draft-issue")
            .await
            .unwrap()
            .is_none()
    );
    let none = s.publish_issue(9, &actor, NOW).await;
    assert!(matches!(none, Err(StoreError::NotFound { .. })), "{none:?}");
    // An invalid headline is refused and nothing is saved.
    let mut bad = story("x", date(2021, 1, 1));
    bad.headline = "h".repeat(10_000);
    let r = s.save_story(bad, None, "save", &actor, NOW).await;
    assert!(
        matches!(r, Err(StoreError::InvalidStory { .. })),
        "{:?}",
        r.map(|_| ())
    );
    let (_, total) = s.desk(&DeskQuery::default()).await.unwrap();
    assert_eq!(total, 3);
}

pub(crate) async fn desk_filters(ctx: Ctx) {
    let s = &ctx.store;
    let alice = editor(&ctx, "alice@example.org").await;
    let bob = editor(&ctx, "bob@example.org").await;
    let mut tagged = story("Tagged 50% story", date(2021, 7, 1));
    tagged.tags = vec!["political rights".into()];
    saved(
        s.save_story(tagged, None, "save", &alice, NOW)
            .await
            .unwrap(),
    );
    new_draft(&ctx, "Bob's draft", &bob).await;
    put(s, vec![story("Old public story", date(2020, 1, 1))]).await;
    let q = |f: fn(&mut DeskQuery)| {
        let mut q = DeskQuery::default();
        f(&mut q);
        q
    };
    let headlines = |q: DeskQuery| async move {
        let (entries, total) = s.desk(&q).await.unwrap();
        assert_eq!(entries.len() as u64, total);
        entries.into_iter().map(|e| e.headline).collect::<Vec<_>>()
    };
    assert_eq!(
        headlines(q(|q| q.tag = Some("political rights".into()))).await,
        ["Tagged 50% story"]
    );
    assert_eq!(
        headlines(q(|q| q.author = Some("bob@example.org".into()))).await,
        ["Bob's draft"]
    );
    assert_eq!(
        headlines(q(|q| q.text = Some("50%".into()))).await,
        ["Tagged 50% story"]
    );
    assert_eq!(
        headlines(q(|q| q.text = Some("OLD PUBLIC".into()))).await,
        ["Old public story"]
    );
    assert_eq!(
        headlines(q(|q| q.state = Some(DeskState::Published))).await,
        ["Old public story"]
    );
    assert_eq!(
        headlines(q(|q| q.state = Some(DeskState::Draft)))
            .await
            .len(),
        2
    );
    let page = s
        .desk(&DeskQuery {
            offset: 1,
            limit: 1,
            ..DeskQuery::default()
        })
        .await
        .unwrap();
    assert_eq!((page.0.len(), page.1), (1, 3));
}

pub(crate) async fn api_tokens(ctx: Ctx) {
    let s = &ctx.store;
    let user = s
        .create_user("bot@example.org", Role::Editor, "$argon2id$v=19$x")
        .await
        .unwrap();
    let other = s
        .create_user("other@example.org", Role::Admin, "$argon2id$v=19$x")
        .await
        .unwrap();
    let made = s
        .create_api_token(user.id, "importer", "hash-a", "read write", NOW)
        .await
        .unwrap();
    assert_eq!(
        (made.name.as_str(), made.scopes.as_str(), made.revoked),
        ("importer", "read write", false)
    );
    let (token, session) = s.api_token("hash-a", NOW + 100).await.unwrap().unwrap();
    assert_eq!(token.id, made.id);
    assert_eq!(
        (session.email.as_str(), session.role),
        ("bot@example.org", Role::Editor)
    );
    assert_eq!(
        s.api_tokens(user.id).await.unwrap()[0].last_used_at,
        Some(NOW + 100)
    );
    assert!(s.api_token("hash-b", NOW).await.unwrap().is_none());
    // Only the owner revokes; a revoked token and a disabled account stop at once.
    assert!(!s.revoke_api_token(other.id, made.id, NOW).await.unwrap());
    s.set_user_disabled("bot@example.org", true).await.unwrap();
    assert!(s.api_token("hash-a", NOW).await.unwrap().is_none());
    s.set_user_disabled("bot@example.org", false).await.unwrap();
    assert!(s.revoke_api_token(user.id, made.id, NOW).await.unwrap());
    assert!(!s.revoke_api_token(user.id, made.id, NOW).await.unwrap());
    assert!(s.api_token("hash-a", NOW).await.unwrap().is_none());
    assert!(s.api_tokens(user.id).await.unwrap()[0].revoked);
    let taken = s
        .create_api_token(other.id, "copy", "hash-a", "read", NOW)
        .await;
    assert!(taken.is_err(), "token hashes are unique");
}
