//! Conformance cases for the send queue ([`bulletin_store::Outbox`]).

use std::collections::HashSet;

use bulletin_core::subscriber::{Plan, SubscriberStatus};
use bulletin_core::{IssueRef, IssueStatus};
use bulletin_store::{
    Actor, NewSubscriber, SendOutcome, SendProgress, StoreError, SubscriberQuery,
};

use super::{CaseFn, Ctx, date, put, story};

macro_rules! outbox_cases {
    ($($name:ident),* $(,)?) => {
        vec![$((concat!("outbox_", stringify!($name)), (|ctx| Box::pin($name(ctx))) as CaseFn)),*]
    };
}

pub fn cases() -> Vec<(&'static str, CaseFn)> {
    outbox_cases![
        queueing_follows_the_list,
        claims_are_shared_and_fenced,
        outcomes
    ]
}

const NOW: i64 = 1_800_000_000;
const LEASE: i64 = 300;

/// A published issue 7 and `n` subscribers: even ones active (odd ones paid),
/// every fifth unsubscribed, the rest pending.
async fn setup(ctx: &Ctx, n: usize) {
    let s = &ctx.store;
    let mut st = story("In the issue", date(2021, 7, 18));
    st.issue = Some(IssueRef {
        number: 7,
        date: Some(date(2021, 7, 22)),
    });
    put(s, vec![st]).await;
    let list = (0..n)
        .map(|i| NewSubscriber {
            email: format!("r{i:05}@example.org"),
            name: String::new(),
            plan: if i % 2 == 1 { Plan::Paid } else { Plan::Free },
            status: if i % 5 == 0 {
                SubscriberStatus::Unsubscribed
            } else if i % 2 == 0 || i % 3 == 0 {
                SubscriberStatus::Active
            } else {
                SubscriberStatus::Pending
            },
        })
        .collect();
    let mut tx = s.begin_import().await.unwrap();
    tx.put_subscribers(list, NOW).await.unwrap();
    tx.commit().await.unwrap();
}

async fn queueing_follows_the_list(ctx: Ctx) {
    setup(&ctx, 100).await;
    let s = &ctx.store;
    let active = s
        .count_subscribers(&SubscriberQuery {
            status: Some(SubscriberStatus::Active),
            ..SubscriberQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(s.queue_issue(7, NOW).await.unwrap(), active);
    // Queueing again adds only those who joined since.
    assert_eq!(s.queue_issue(7, NOW).await.unwrap(), 0);
    s.set_subscriber_status("r00001@example.org", SubscriberStatus::Active, NOW)
        .await
        .unwrap();
    assert_eq!(s.queue_issue(7, NOW).await.unwrap(), 1);
    assert_eq!(
        s.send_progress(7).await.unwrap(),
        SendProgress {
            queued: active + 1,
            ..SendProgress::default()
        }
    );
    // Only published issues are sent.
    let actor = Actor::system("test");
    s.create_issue(8, Some(date(2021, 7, 29)), &actor, NOW)
        .await
        .unwrap();
    let r = s.queue_issue(8, NOW).await;
    assert!(
        matches!(&r, Err(StoreError::Refused(m)) if m.contains("publish it")),
        "{r:?}"
    );
    assert!(matches!(
        s.queue_issue(99, NOW).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        s.issue(7).await.unwrap().unwrap().status,
        IssueStatus::Published
    );
}

async fn claims_are_shared_and_fenced(ctx: Ctx) {
    setup(&ctx, 300).await;
    let s = &ctx.store;
    let queued = s.queue_issue(7, NOW).await.unwrap();
    // Two instances claim at once: disjoint sets, together everything.
    let other = bulletin_store::open(&ctx.url).await.unwrap();
    let mut seen = HashSet::new();
    loop {
        let (a, b) = tokio::join!(
            s.claim_sends("a", 25, NOW, LEASE),
            other.claim_sends("b", 25, NOW, LEASE)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        if a.is_empty() && b.is_empty() {
            break;
        }
        for job in a.iter().chain(&b) {
            assert!(seen.insert(job.id), "row {} claimed twice", job.id);
            assert_eq!(job.attempt, 1);
            assert_eq!(job.message_key, format!("issue-7-{}", job.subscriber_id));
        }
        assert!(a.windows(2).all(|w| w[0].id < w[1].id));
    }
    assert_eq!(seen.len() as u64, queued);
    // Worker a dies holding its rows; after the lease, c takes one over, and a's
    // late report for it is refused.
    let before = s.claim_sends("c", 1, NOW + LEASE - 1, LEASE).await.unwrap();
    assert!(
        before.is_empty(),
        "nothing is taken before the lease passes"
    );
    let taken = s.claim_sends("c", 1, NOW + LEASE, LEASE).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].attempt, 2);
    assert!(
        !s.record_send(taken[0].id, "a", &SendOutcome::Sent, NOW + LEASE)
            .await
            .unwrap(),
        "a stale worker's report is fenced off"
    );
    assert!(
        s.record_send(taken[0].id, "c", &SendOutcome::Sent, NOW + LEASE)
            .await
            .unwrap()
    );
    // Recorded once: a second report changes nothing.
    assert!(
        !s.record_send(taken[0].id, "c", &SendOutcome::Sent, NOW + LEASE)
            .await
            .unwrap()
    );
    let p = s.send_progress(7).await.unwrap();
    assert_eq!((p.sent, p.sending, p.total()), (1, queued - 1, queued));
}

async fn outcomes(ctx: Ctx) {
    setup(&ctx, 10).await;
    let s = &ctx.store;
    s.queue_issue(7, NOW).await.unwrap();
    let jobs = s.claim_sends("w", 3, NOW, LEASE).await.unwrap();
    assert_eq!(jobs.len(), 3);
    assert!(
        s.record_send(jobs[0].id, "w", &SendOutcome::Sent, NOW)
            .await
            .unwrap()
    );
    assert!(
        s.record_send(
            jobs[1].id,
            "w",
            &SendOutcome::Retry {
                error: "421 try later".into(),
                retry_at: NOW + 60,
            },
            NOW,
        )
        .await
        .unwrap()
    );
    assert!(
        s.record_send(
            jobs[2].id,
            "w",
            &SendOutcome::Failed {
                error: "550 no such user".into(),
            },
            NOW,
        )
        .await
        .unwrap()
    );
    // The permanent failure marks the address; the retry waits for its time.
    let bounced = s.subscriber(&jobs[2].email).await.unwrap().unwrap();
    assert_eq!(bounced.status, SubscriberStatus::Bounced);
    let rest: Vec<i64> = s
        .claim_sends("w", 100, NOW + 59, LEASE)
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    assert!(!rest.contains(&jobs[1].id));
    let again = s.claim_sends("w", 100, NOW + 60, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].id, again[0].attempt), (jobs[1].id, 2));
    let p = s.send_progress(7).await.unwrap();
    assert_eq!((p.sent, p.failed, p.queued), (1, 1, 0));
}
