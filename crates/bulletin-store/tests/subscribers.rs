//! Conformance cases for subscribers ([`bulletin_store::Subscribers`] and the
//! import transaction's `put_subscribers`).

use bulletin_core::subscriber::{Plan, SubscriberStatus};
use bulletin_store::{NewSubscriber, StoreError, SubscriberPut, SubscriberQuery};

use super::Ctx;

const NOW: i64 = 1_800_000_000;

fn new(email: &str, plan: Plan, status: SubscriberStatus) -> NewSubscriber {
    NewSubscriber {
        email: email.to_owned(),
        name: String::new(),
        plan,
        status,
    }
}

pub(crate) async fn life_of_a_subscriber(ctx: Ctx) {
    let s = &ctx.store;
    let added = s
        .add_subscriber(
            &new("reader@example.org", Plan::Free, SubscriberStatus::Pending),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(added.status, SubscriberStatus::Pending);
    assert_eq!((added.created_at, added.confirmed_at), (NOW, None));
    // A second sign-up with the same address is a duplicate, not a second row.
    let again = s
        .add_subscriber(
            &new("reader@example.org", Plan::Free, SubscriberStatus::Pending),
            NOW + 1,
        )
        .await;
    assert!(
        matches!(again, Err(StoreError::Duplicate { .. })),
        "{again:?}"
    );

    assert!(
        s.set_subscriber_status("reader@example.org", SubscriberStatus::Active, NOW + 10)
            .await
            .unwrap()
    );
    let active = s.subscriber("reader@example.org").await.unwrap().unwrap();
    assert_eq!(active.confirmed_at, Some(NOW + 10));
    // Confirming again keeps the first confirmation time.
    s.set_subscriber_status("reader@example.org", SubscriberStatus::Active, NOW + 20)
        .await
        .unwrap();
    assert_eq!(
        s.subscriber("reader@example.org")
            .await
            .unwrap()
            .unwrap()
            .confirmed_at,
        Some(NOW + 10)
    );
    assert!(
        s.set_subscriber_plan("reader@example.org", Plan::Paid, NOW + 30)
            .await
            .unwrap()
    );
    s.set_subscriber_status(
        "reader@example.org",
        SubscriberStatus::Unsubscribed,
        NOW + 40,
    )
    .await
    .unwrap();
    let gone = s.subscriber("reader@example.org").await.unwrap().unwrap();
    assert_eq!(
        (gone.status, gone.plan, gone.unsubscribed_at),
        (SubscriberStatus::Unsubscribed, Plan::Paid, Some(NOW + 40))
    );
    assert!(
        !s.set_subscriber_status("nobody@example.org", SubscriberStatus::Active, NOW)
            .await
            .unwrap()
    );
    assert!(
        !s.set_subscriber_plan("nobody@example.org", Plan::Paid, NOW)
            .await
            .unwrap()
    );
    assert!(s.subscriber("nobody@example.org").await.unwrap().is_none());
}

pub(crate) async fn lists_and_counts(ctx: Ctx) {
    let s = &ctx.store;
    let mut tx = s.begin_import().await.unwrap();
    let list: Vec<NewSubscriber> = (0..25)
        .map(|i| {
            new(
                &format!("r{i:02}@example.org"),
                if i % 5 == 0 { Plan::Paid } else { Plan::Free },
                if i % 2 == 0 {
                    SubscriberStatus::Active
                } else {
                    SubscriberStatus::Pending
                },
            )
        })
        .collect();
    let outcomes = tx.put_subscribers(list, NOW).await.unwrap();
    assert!(outcomes.iter().all(|o| *o == SubscriberPut::Added));
    tx.commit().await.unwrap();
    let all = SubscriberQuery::default();
    assert_eq!(s.count_subscribers(&all).await.unwrap(), 25);
    let paid_active = SubscriberQuery {
        status: Some(SubscriberStatus::Active),
        plan: Some(Plan::Paid),
        ..SubscriberQuery::default()
    };
    // Paid: 0, 5, 10, 15, 20; active among them: 0, 10, 20.
    assert_eq!(s.count_subscribers(&paid_active).await.unwrap(), 3);
    // Keyset pages of 10 visit every subscriber once, in id order.
    let mut seen = Vec::new();
    let mut q = SubscriberQuery {
        limit: 10,
        ..SubscriberQuery::default()
    };
    loop {
        let page = s.subscribers(&q).await.unwrap();
        let Some(last) = page.last() else { break };
        q.after = last.id;
        seen.extend(page.into_iter().map(|x| x.email));
    }
    let expected: Vec<String> = (0..25).map(|i| format!("r{i:02}@example.org")).collect();
    assert_eq!(seen, expected);
    let confirmed = s
        .subscribers(&SubscriberQuery {
            status: Some(SubscriberStatus::Active),
            ..SubscriberQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(confirmed.len(), 13);
    assert!(confirmed.iter().all(|x| x.confirmed_at == Some(NOW)));
}

pub(crate) async fn imports_respect_consent(ctx: Ctx) {
    let s = &ctx.store;
    for (email, status) in [
        ("left@example.org", SubscriberStatus::Unsubscribed),
        ("bounced@example.org", SubscriberStatus::Bounced),
        ("stays@example.org", SubscriberStatus::Active),
    ] {
        s.add_subscriber(&new(email, Plan::Free, status), NOW)
            .await
            .unwrap();
    }
    let mut tx = s.begin_import().await.unwrap();
    let mut named = new("stays@example.org", Plan::Free, SubscriberStatus::Active);
    named.name = "Nurlan".into();
    let outcomes = tx
        .put_subscribers(
            vec![
                new("left@example.org", Plan::Paid, SubscriberStatus::Active),
                new("bounced@example.org", Plan::Free, SubscriberStatus::Active),
                named.clone(),
                named,
                new("fresh@example.org", Plan::Paid, SubscriberStatus::Active),
            ],
            NOW + 5,
        )
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [
            SubscriberPut::KeptOut,
            SubscriberPut::KeptOut,
            SubscriberPut::Updated,
            SubscriberPut::Unchanged,
            SubscriberPut::Added,
        ]
    );
    tx.commit().await.unwrap();
    let left = s.subscriber("left@example.org").await.unwrap().unwrap();
    assert_eq!(
        (left.status, left.plan),
        (SubscriberStatus::Unsubscribed, Plan::Paid),
        "the plan follows the import; the status does not"
    );
    assert_eq!(
        s.subscriber("bounced@example.org")
            .await
            .unwrap()
            .unwrap()
            .status,
        SubscriberStatus::Bounced
    );
    assert_eq!(
        s.subscriber("stays@example.org")
            .await
            .unwrap()
            .unwrap()
            .name,
        "Nurlan"
    );
    // Rolled back: nothing of an import stays.
    let mut tx = s.begin_import().await.unwrap();
    tx.put_subscribers(
        vec![new(
            "ghost@example.org",
            Plan::Free,
            SubscriberStatus::Active,
        )],
        NOW,
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert!(s.subscriber("ghost@example.org").await.unwrap().is_none());
}

pub(crate) async fn secrets_and_spent_tokens(ctx: Ctx) {
    let s = &ctx.store;
    // Two instances on one database agree on the secret: the first one kept wins.
    let other = bulletin_store::open(&ctx.url).await.unwrap();
    let (a, b) = tokio::join!(
        s.site_secret("links", "first-candidate", NOW),
        other.site_secret("links", "second-candidate", NOW)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    assert!(a == "first-candidate" || a == "second-candidate");
    assert_eq!(s.site_secret("links", "later", NOW + 9).await.unwrap(), a);
    assert_eq!(s.site_secret("other", "own", NOW).await.unwrap(), "own");

    // A single-use token is spent once, even when two requests race.
    let (x, y) = tokio::join!(
        s.spend_token("nonce-1", NOW + 3600, NOW),
        other.spend_token("nonce-1", NOW + 3600, NOW)
    );
    assert_eq!(
        [x.unwrap(), y.unwrap()]
            .iter()
            .filter(|spent| **spent)
            .count(),
        1
    );
    assert!(
        !s.spend_token("nonce-1", NOW + 3600, NOW + 10)
            .await
            .unwrap()
    );
    assert!(s.spend_token("nonce-2", NOW + 60, NOW).await.unwrap());
    // Past its expiry a nonce is forgotten (the token itself is refused by then).
    assert!(
        s.spend_token("nonce-3", NOW + 7200, NOW + 3601)
            .await
            .unwrap()
    );
    assert!(
        s.spend_token("nonce-1", NOW + 9000, NOW + 3601)
            .await
            .unwrap()
    );
}

pub(crate) async fn reader_sessions_and_private_feeds(ctx: Ctx) {
    let s = &ctx.store;
    let paid = s
        .add_subscriber(
            &new("paid@example.org", Plan::Paid, SubscriberStatus::Active),
            NOW,
        )
        .await
        .unwrap();
    let other = s
        .add_subscriber(
            &new("other@example.org", Plan::Free, SubscriberStatus::Active),
            NOW,
        )
        .await
        .unwrap();
    assert!(paid.reads_everything() && !other.reads_everything());

    s.create_reader_session("h1", paid.id, "csrf1", NOW)
        .await
        .unwrap();
    s.create_reader_session("h2", paid.id, "csrf2", NOW)
        .await
        .unwrap();
    s.create_reader_session("h3", other.id, "csrf3", NOW)
        .await
        .unwrap();
    let found = s.reader_session("h1").await.unwrap().unwrap();
    assert_eq!(found.subscriber, paid);
    assert_eq!(
        (found.csrf_token.as_str(), found.created_at),
        ("csrf1", NOW)
    );
    assert_eq!(s.reader_session("nope").await.unwrap(), None);

    // The session reads the subscriber as they are now: a plan taken away
    // is taken away at once.
    s.set_subscriber_plan("paid@example.org", Plan::Free, NOW + 5)
        .await
        .unwrap();
    let now_free = s.reader_session("h1").await.unwrap().unwrap();
    assert_eq!(now_free.subscriber.plan, Plan::Free);
    assert!(!now_free.subscriber.reads_everything());

    s.touch_reader_session("h1", NOW + 60).await.unwrap();
    assert_eq!(
        s.reader_session("h1").await.unwrap().unwrap().last_seen_at,
        NOW + 60
    );
    s.delete_reader_session("h1").await.unwrap();
    assert_eq!(s.reader_session("h1").await.unwrap(), None);
    // Signing out everywhere ends this subscriber's sessions only.
    assert_eq!(s.delete_reader_sessions(paid.id).await.unwrap(), 1);
    assert_eq!(s.reader_session("h2").await.unwrap(), None);
    assert!(s.reader_session("h3").await.unwrap().is_some());

    // Names, and the private feed's nonce.
    assert!(
        s.set_subscriber_name("paid@example.org", "A Reader", NOW)
            .await
            .unwrap()
    );
    assert_eq!(
        s.subscriber("paid@example.org")
            .await
            .unwrap()
            .unwrap()
            .name,
        "A Reader"
    );
    assert!(
        !s.set_subscriber_name("ghost@example.org", "x", NOW)
            .await
            .unwrap()
    );
    assert_eq!(s.feed_nonce("paid@example.org").await.unwrap(), None);
    assert!(
        s.set_feed_nonce("paid@example.org", Some("n1"), NOW)
            .await
            .unwrap()
    );
    assert_eq!(
        s.feed_nonce("paid@example.org").await.unwrap().as_deref(),
        Some("n1")
    );
    s.set_feed_nonce("paid@example.org", Some("n2"), NOW)
        .await
        .unwrap();
    assert_eq!(
        s.feed_nonce("paid@example.org").await.unwrap().as_deref(),
        Some("n2")
    );
    s.set_feed_nonce("paid@example.org", None, NOW)
        .await
        .unwrap();
    assert_eq!(s.feed_nonce("paid@example.org").await.unwrap(), None);
    assert_eq!(s.feed_nonce("ghost@example.org").await.unwrap(), None);
    assert!(
        !s.set_feed_nonce("ghost@example.org", Some("x"), NOW)
            .await
            .unwrap()
    );
}
