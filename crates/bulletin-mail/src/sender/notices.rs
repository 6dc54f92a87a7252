//! Reader mail: the site queues confirmations and sign-in links
//! (`Outbox::queue_notice`) and answers at once; this delivers them. So the
//! site's answer never waits for the SMTP server, and takes as long for an
//! address that gets mail as for one that does not.
//!
//! Claims are fenced as newsletter rows are, so several instances on one
//! database share the queue. A notice that the server refuses for a while is
//! tried again with the engine's backoff (at most [`MAX_ATTEMPTS`] times); one
//! refused for good is failed. Nobody is marked bounced: the address may be
//! one that was never confirmed.

use std::sync::Arc;
use std::time::Duration;

use bulletin_store::{NoticeJob, Outbox, SendOutcome, StoreError};
use tokio::sync::Notify;

use super::QueueClock;
use super::policy::{Attempt, MAX_ATTEMPTS, backoff, classify};
use crate::{MailError, Mailer};

/// Seconds a claim on a notice holds before another instance may take it.
pub const NOTICE_LEASE: i64 = 120;
/// Notices claimed at a time.
const CLAIM: u32 = 16;
/// Seconds before a notice's first retry; doubled for each further one.
const RETRY_BASE: i64 = 60;

/// What [`deliver_notices`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct NoticeTally {
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
}

/// Delivers every notice that is due now, one at a time, and returns when
/// none is left to claim.
pub async fn deliver_notices<S: Outbox + ?Sized>(
    store: &S,
    mailer: &Mailer,
    worker: &str,
    clock: QueueClock,
) -> Result<NoticeTally, StoreError> {
    let mut tally = NoticeTally::default();
    loop {
        let jobs = store
            .claim_notices(worker, CLAIM, clock.now(), NOTICE_LEASE)
            .await?;
        if jobs.is_empty() {
            return Ok(tally);
        }
        for job in jobs {
            let outcome = attempt(mailer, &job, clock).await;
            super::count_outcome("reader", &outcome);
            match outcome {
                SendOutcome::Sent => tally.sent += 1,
                SendOutcome::Retry { .. } => tally.retried += 1,
                SendOutcome::Failed { .. } => tally.failed += 1,
            }
            store
                .record_notice(job.id, worker, &outcome, clock.now())
                .await?;
        }
    }
}

async fn attempt(mailer: &Mailer, job: &NoticeJob, clock: QueueClock) -> SendOutcome {
    let notice = &job.notice;
    let message = match mailer.notice(&notice.email, &notice.subject, &notice.text) {
        Ok(message) => message,
        // The site checks addresses before queueing; what still cannot be
        // built never will be.
        Err(e) => {
            return SendOutcome::Failed {
                error: e.to_string(),
            };
        }
    };
    let error = match mailer.send(message).await {
        Ok(()) => return SendOutcome::Sent,
        Err(MailError::Smtp(e)) => match classify(&e) {
            Attempt::Bounced(error) => return SendOutcome::Failed { error },
            _ => e.to_string(),
        },
        Err(e) => e.to_string(),
    };
    if job.attempt >= MAX_ATTEMPTS {
        SendOutcome::Failed { error }
    } else {
        SendOutcome::Retry {
            error,
            retry_at: clock.now().saturating_add(backoff(RETRY_BASE, job.attempt)),
        }
    }
}

/// Delivers notices for the life of the process: at once whenever `wake` is
/// notified (the site notifies it after queueing), and every `every` in any
/// case, for retries and for what other instances queued. A store error is
/// handed to `report` and tried again at the next turn.
pub async fn keep_delivering_notices<S>(
    store: Arc<S>,
    mailer: Mailer,
    wake: Arc<Notify>,
    every: Duration,
    report: impl Fn(&StoreError) + Send,
) where
    S: Outbox + ?Sized,
{
    let worker = match super::queue::worker_id() {
        Ok(worker) => format!("{worker}:notices"),
        Err(_) => format!("{}:notices", std::process::id()),
    };
    loop {
        if let Err(e) =
            deliver_notices(store.as_ref(), &mailer, &worker, QueueClock::default()).await
        {
            report(&e);
        }
        // A notification that came while delivering is kept (Notify keeps
        // one permit), so nothing queued meanwhile waits for the tick.
        let _ = tokio::time::timeout(every, wake.notified()).await;
    }
}
