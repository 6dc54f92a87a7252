//! Conformance cases for what the site's forms lean on under load: reserving
//! attempts against rate limits ([`bulletin_store::Newsroom::reserve_attempt`]),
//! atomic, so however many tasks (on one store or on two opened on the same
//! database, as two instances would) reserve at once, exactly the limit are
//! granted; and the reader-mail queue the forms write to instead of waiting
//! for an SMTP server.

use std::sync::Arc;

use bulletin_core::subscriber::{Plan, SubscriberStatus};
use bulletin_store::{AttemptLimit, NewSubscriber, Notice, Reservation, SendOutcome, Store};

use super::Ctx;

const NOW: i64 = 1_800_000_000;
const WINDOW: i64 = 900;

fn granted(r: &Reservation) -> bool {
    matches!(r, Reservation::Granted(_))
}

/// Reserves under `key` (limit `max`) and under a per-task key with room to
/// spare, as a sign-in reserves per address and per account.
async fn reserve(store: &dyn Store, key: &str, max: u64, task: usize) -> Reservation {
    let own = format!("own:{task}");
    store
        .reserve_attempt(
            &[
                AttemptLimit { key, max },
                AttemptLimit {
                    key: &own,
                    max: 100,
                },
            ],
            NOW,
            NOW - WINDOW,
        )
        .await
        .unwrap()
}

pub(crate) async fn reservations_are_atomic(ctx: Ctx) {
    const TASKS: usize = 48;
    const MAX: u64 = 5;
    // A second store on the same database: another instance.
    let other = bulletin_store::open(&ctx.url).await.unwrap();
    let stores: [Arc<dyn Store>; 2] = [Arc::clone(&ctx.store), other];
    let barrier = Arc::new(tokio::sync::Barrier::new(TASKS));
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let store = Arc::clone(&stores[task % 2]);
        let barrier = Arc::clone(&barrier);
        tasks.spawn(async move {
            barrier.wait().await;
            reserve(store.as_ref(), "address:192.0.2.7", MAX, task).await
        });
    }
    let mut outcomes = Vec::new();
    while let Some(outcome) = tasks.join_next().await {
        outcomes.push(outcome.unwrap());
    }
    let grants = outcomes.iter().filter(|r| granted(r)).count();
    assert_eq!(
        grants, 5,
        "granted {grants} of {TASKS} against a limit of 5"
    );
    // Every refusal names the shared limit (the first), and counted nothing.
    assert!(
        outcomes
            .iter()
            .all(|r| granted(r) || *r == Reservation::Refused(0))
    );
    let s = &ctx.store;
    assert_eq!(
        s.login_failures("address:192.0.2.7", NOW - WINDOW)
            .await
            .unwrap(),
        5
    );
    let own_counted = {
        let mut n = 0;
        for task in 0..TASKS {
            n += s
                .login_failures(&format!("own:{task}"), NOW - WINDOW)
                .await
                .unwrap();
        }
        n
    };
    assert_eq!(own_counted, 5, "a refused reservation counted nothing");
}

pub(crate) async fn reservations_refuse_release_and_forget(ctx: Ctx) {
    let s = &ctx.store;
    let limits = [
        AttemptLimit {
            key: "address:192.0.2.1",
            max: 3,
        },
        AttemptLimit {
            key: "account:a@example.org",
            max: 2,
        },
    ];
    let first = s.reserve_attempt(&limits, NOW, NOW - WINDOW).await.unwrap();
    let Reservation::Granted(ids) = first else {
        panic!("the first attempt is refused: {first:?}");
    };
    assert_eq!(ids.len(), 2);
    assert!(granted(
        &s.reserve_attempt(&limits, NOW + 1, NOW + 1 - WINDOW)
            .await
            .unwrap()
    ));
    // The account's limit (the second) is reached; the address keeps 2.
    assert_eq!(
        s.reserve_attempt(&limits, NOW + 2, NOW + 2 - WINDOW)
            .await
            .unwrap(),
        Reservation::Refused(1)
    );
    assert_eq!(s.login_failures("address:192.0.2.1", 0).await.unwrap(), 2);
    // A success gives its attempt back: room for one more.
    s.release_attempt(ids[1]).await.unwrap();
    assert_eq!(
        s.login_failures("account:a@example.org", 0).await.unwrap(),
        1
    );
    assert!(granted(
        &s.reserve_attempt(&limits, NOW + 3, NOW + 3 - WINDOW)
            .await
            .unwrap()
    ));
    // Now the address (the first limit) is full too.
    assert_eq!(
        s.reserve_attempt(&limits, NOW + 4, NOW + 4 - WINDOW)
            .await
            .unwrap(),
        Reservation::Refused(0)
    );
    // A window later the old attempts are forgotten, and counting starts again.
    let later = NOW + WINDOW + 10;
    assert!(granted(
        &s.reserve_attempt(&limits, later, later - WINDOW)
            .await
            .unwrap()
    ));
    assert_eq!(s.login_failures("address:192.0.2.1", 0).await.unwrap(), 1);
}

fn notice(email: &str) -> Notice {
    Notice {
        email: email.to_owned(),
        subject: "Your sign-in link".to_owned(),
        text: format!("A link for {email}"),
    }
}

/// Reader mail ([`bulletin_store::Outbox::queue_notice`] and the rest):
/// queued only for a confirmed address when asked, claimed once across
/// workers, fenced by the claim, deleted when sent.
pub(crate) async fn notices_are_queued_claimed_and_fenced(ctx: Ctx) {
    let s = &ctx.store;
    for (email, status) in [
        ("pending@example.org", SubscriberStatus::Pending),
        ("confirmed@example.org", SubscriberStatus::Active),
    ] {
        let new = NewSubscriber {
            email: email.to_owned(),
            name: String::new(),
            plan: Plan::Free,
            status: SubscriberStatus::Pending,
        };
        s.add_subscriber(&new, NOW).await.unwrap();
        s.set_subscriber_status(email, status, NOW).await.unwrap();
    }
    // Only a confirmed address, when that is asked for.
    for (email, queued) in [
        ("nobody@example.org", false),
        ("pending@example.org", false),
        ("confirmed@example.org", true),
    ] {
        assert_eq!(
            s.queue_notice(&notice(email), true, NOW).await.unwrap(),
            queued,
            "{email}"
        );
    }
    // Any address otherwise (a confirmation goes to an unconfirmed one).
    assert!(
        s.queue_notice(&notice("pending@example.org"), false, NOW)
            .await
            .unwrap()
    );
    assert_eq!(s.notices_waiting().await.unwrap(), 2);

    // Two workers: each notice is claimed by one of them.
    let a = s.claim_notices("a", 1, NOW, 120).await.unwrap();
    let b = s.claim_notices("b", 10, NOW, 120).await.unwrap();
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_eq!(a[0].notice, notice("confirmed@example.org"));
    assert_eq!(a[0].attempt, 1);
    assert_eq!(b[0].notice, notice("pending@example.org"));
    assert!(s.claim_notices("c", 10, NOW, 120).await.unwrap().is_empty());
    // b's outcome cannot be written by another worker.
    assert!(
        !s.record_notice(b[0].id, "a", &SendOutcome::Sent, NOW)
            .await
            .unwrap()
    );
    // Sent: gone. Retried: due again at its time, as a second attempt.
    assert!(
        s.record_notice(a[0].id, "a", &SendOutcome::Sent, NOW)
            .await
            .unwrap()
    );
    let retry = SendOutcome::Retry {
        error: "451 later".into(),
        retry_at: NOW + 60,
    };
    assert!(s.record_notice(b[0].id, "b", &retry, NOW).await.unwrap());
    assert_eq!(s.notices_waiting().await.unwrap(), 1);
    assert!(
        s.claim_notices("c", 10, NOW + 59, 120)
            .await
            .unwrap()
            .is_empty()
    );
    let again = s.claim_notices("c", 10, NOW + 60, 120).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempt, 2);
    // A claim whose lease has passed is taken over, and the old claim is
    // fenced out.
    let taken = s.claim_notices("d", 10, NOW + 60 + 120, 120).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert!(
        !s.record_notice(again[0].id, "c", &SendOutcome::Sent, NOW)
            .await
            .unwrap()
    );
    let failed = SendOutcome::Failed {
        error: "550 no such user".into(),
    };
    assert!(
        s.record_notice(taken[0].id, "d", &failed, NOW)
            .await
            .unwrap()
    );
    assert_eq!(s.notices_waiting().await.unwrap(), 0);
    assert!(
        s.claim_notices("e", 10, NOW + 99_999, 120)
            .await
            .unwrap()
            .is_empty()
    );
    // Nobody is marked bounced by a notice.
    assert_eq!(
        s.subscriber("pending@example.org")
            .await
            .unwrap()
            .unwrap()
            .status,
        SubscriberStatus::Pending
    );
}
