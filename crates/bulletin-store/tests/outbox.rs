//! Conformance cases for the send queue ([`bulletin_store::Outbox`]).

use std::collections::HashSet;

use bulletin_core::subscriber::{Plan, SubscriberStatus};
use bulletin_core::{IssueRef, IssueStatus};
use bulletin_store::{
    Actor, NewSubscriber, SendOutcome, SendProgress, StoreError, SubscriberQuery,
};

use super::{Ctx, date, put, story};

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

pub(crate) async fn queueing_follows_the_list(ctx: Ctx) {
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

pub(crate) async fn claims_are_shared_and_fenced(ctx: Ctx) {
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

pub(crate) async fn outcomes(ctx: Ctx) {
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

pub(crate) async fn batched_outcomes_and_releases(ctx: Ctx) {
    setup(&ctx, 20).await;
    let s = &ctx.store;
    s.queue_issue(7, NOW).await.unwrap();
    let jobs = s.claim_sends("w", 6, NOW, LEASE).await.unwrap();
    assert_eq!(jobs.len(), 6);
    assert_eq!(s.send_progress(7).await.unwrap().next_retry_at, None);
    // Several outcomes in one call; a row another worker holds is fenced off
    // and the rest still recorded.
    let stolen = s.claim_sends("x", 1, NOW, LEASE).await.unwrap();
    let done = s
        .record_sends(
            &[
                (jobs[0].id, SendOutcome::Sent),
                (
                    jobs[1].id,
                    SendOutcome::Retry {
                        error: "451 later".into(),
                        retry_at: NOW + 120,
                    },
                ),
                (
                    jobs[2].id,
                    SendOutcome::Failed {
                        error: "550 5.1.1 no such user".into(),
                    },
                ),
                (stolen[0].id, SendOutcome::Sent),
            ],
            "w",
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(done, [true, true, true, false]);
    assert!(s.record_sends(&[], "w", NOW).await.unwrap().is_empty());
    let bounced = s.subscriber(&jobs[2].email).await.unwrap().unwrap();
    assert_eq!(bounced.status, SubscriberStatus::Bounced);
    let p = s.send_progress(7).await.unwrap();
    assert_eq!((p.sent, p.failed, p.sending), (1, 1, 4));
    assert_eq!(p.next_retry_at, Some(NOW + 120));

    // A sender stopping gives back what it did not try: due at once, the
    // attempt not counted; rows it no longer holds stay where they are.
    let back: Vec<i64> = jobs[3..].iter().map(|j| j.id).collect();
    let mut asked = back.clone();
    asked.push(stolen[0].id);
    asked.push(jobs[0].id);
    assert_eq!(s.release_sends(&asked, "w").await.unwrap(), 3);
    assert_eq!(s.release_sends(&[], "w").await.unwrap(), 0);
    let again = s.claim_sends("y", 100, NOW, LEASE).await.unwrap();
    let again_ids: Vec<i64> = again.iter().map(|j| j.id).collect();
    for id in &back {
        assert!(again_ids.contains(id), "released row {id} is due again");
    }
    assert!(!again_ids.contains(&stolen[0].id));
    assert!(
        !again_ids.contains(&jobs[1].id),
        "the retry waits for its time"
    );
    for job in again.iter().filter(|j| back.contains(&j.id)) {
        assert_eq!(job.attempt, 1, "a released claim is not an attempt");
    }

    // A worker does not take over its own claims, however old (it knows
    // what it holds); another does, once the lease has passed.
    let late = NOW + LEASE;
    let own = s.claim_sends("y", 100, late, LEASE).await.unwrap();
    let own_ids: Vec<i64> = own.iter().map(|j| j.id).collect();
    assert_eq!(
        own_ids,
        [jobs[1].id, stolen[0].id],
        "the retry, now due, and x's row, whose lease has passed"
    );
    let taken = s.claim_sends("z", 100, late, LEASE).await.unwrap();
    let mut taken_ids: Vec<i64> = taken.iter().map(|j| j.id).collect();
    let mut held = again_ids.clone();
    taken_ids.sort_unstable();
    held.sort_unstable();
    assert_eq!(taken_ids, held);
}

pub(crate) async fn one_issue_at_a_time_and_previews(ctx: Ctx) {
    setup(&ctx, 30).await;
    let s = &ctx.store;
    let mut st = story("In issue eight", date(2021, 7, 25));
    st.issue = Some(IssueRef {
        number: 8,
        date: Some(date(2021, 7, 29)),
    });
    put(s, vec![st]).await;
    let seven = s.queue_issue(7, NOW).await.unwrap();
    let eight = s.queue_issue(8, NOW).await.unwrap();
    assert_eq!(seven, eight);
    let mut claimed = Vec::new();
    loop {
        let jobs = s.claim_issue_sends(8, "w", 4, NOW, LEASE).await.unwrap();
        if jobs.is_empty() {
            break;
        }
        assert!(jobs.iter().all(|j| j.issue == 8), "{jobs:?}");
        claimed.extend(jobs);
    }
    assert_eq!(claimed.len() as u64, eight);
    assert_eq!(s.send_progress(7).await.unwrap().queued, seven);

    // A preview of issue 7: what is queued or claimed, and who joined since,
    // in subscriber order, without writing anything.
    let first = s.claim_issue_sends(7, "w", 2, NOW, LEASE).await.unwrap();
    s.record_send(first[0].id, "w", &SendOutcome::Sent, NOW)
        .await
        .unwrap();
    s.set_subscriber_status("r00001@example.org", SubscriberStatus::Active, NOW)
        .await
        .unwrap();
    let before = s.send_progress(7).await.unwrap();
    let mut preview = Vec::new();
    let mut after = 0;
    loop {
        let page = s.preview_sends(7, after, 7).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.subscriber_id;
        preview.extend(page);
    }
    assert_eq!(s.send_progress(7).await.unwrap(), before);
    assert_eq!(preview.len() as u64, seven - 1 + 1);
    assert!(
        preview
            .windows(2)
            .all(|w| w[0].subscriber_id < w[1].subscriber_id)
    );
    assert!(
        !preview.iter().any(|j| j.id == first[0].id),
        "sent is not sent again"
    );
    assert!(
        preview.iter().any(|j| j.id == first[1].id),
        "claimed is still to send"
    );
    let joined: Vec<_> = preview.iter().filter(|j| j.id == 0).collect();
    assert_eq!(joined.len(), 1);
    assert_eq!(joined[0].email, "r00001@example.org");
    assert_eq!(joined[0].plan, Plan::Paid);
    assert_eq!(
        joined[0].message_key,
        format!("issue-7-{}", joined[0].subscriber_id)
    );
    assert!(preview.iter().all(|j| j.issue == 7));
    // Queueing gives the newcomer the key the preview showed.
    assert_eq!(s.queue_issue(7, NOW).await.unwrap(), 1);
    let rest = s.claim_issue_sends(7, "w", 100, NOW, LEASE).await.unwrap();
    let newcomer = rest
        .iter()
        .find(|j| j.email == "r00001@example.org")
        .unwrap();
    assert_eq!(newcomer.message_key, joined[0].message_key);
}

pub(crate) async fn a_standing_sender_finds_due_issues(ctx: Ctx) {
    setup(&ctx, 20).await;
    let s = &ctx.store;
    assert_eq!(
        s.issues_with_due_sends(NOW, LEASE).await.unwrap(),
        Vec::<u32>::new()
    );
    let queued = s.queue_issue(7, NOW).await.unwrap();
    assert!(queued > 2);
    assert_eq!(s.issues_with_due_sends(NOW, LEASE).await.unwrap(), vec![7]);
    // Claimed rows are not due until their lease has passed.
    let claimed = s.claim_sends("w", 1000, NOW, LEASE).await.unwrap();
    assert_eq!(claimed.len() as u64, queued);
    assert!(
        s.issues_with_due_sends(NOW, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.issues_with_due_sends(NOW + LEASE, LEASE).await.unwrap(),
        vec![7]
    );
    // Sent rows are never due; a retry is due at its time.
    for job in &claimed[1..] {
        assert!(
            s.record_send(job.id, "w", &SendOutcome::Sent, NOW)
                .await
                .unwrap()
        );
    }
    let retry = SendOutcome::Retry {
        error: "451 try later".into(),
        retry_at: NOW + 60,
    };
    assert!(
        s.record_send(claimed[0].id, "w", &retry, NOW)
            .await
            .unwrap()
    );
    assert!(
        s.issues_with_due_sends(NOW + 59, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.issues_with_due_sends(NOW + 60, LEASE).await.unwrap(),
        vec![7]
    );
}
