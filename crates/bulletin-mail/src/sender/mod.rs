//! The newsletter's send engine: an issue from the durable queue
//! ([`bulletin_store::Outbox`]) to the SMTP server. `bulletin send` and the
//! standing sender of `bulletin serve` both run it; they word what it reports
//! (through [`Progress`] and the [`Report`]).
//!
//! **Queue.** With [`Options::queue`] the issue is queued first
//! (`Outbox::queue_issue`: one row per active subscriber not queued yet,
//! refused unless the issue is published), so running again resumes where it
//! stopped and adds only those who subscribed since. Each row carries the
//! subscriber's plan as it was at queueing and a Message-ID key fixed then.
//!
//! **Claim, send, record** (`queue.rs`, `worker.rs`, `record.rs`). The main task
//! claims a few rows at a time for this process (`claim_issue_sends`, worker
//! id `host:pid:random`, lease [`Options::lease`]) and hands them to
//! [`Options::workers`] tasks. A worker renders the issue for the row's reader
//! (free or paid: the one access rule decides what each sees) with the
//! recipient's own signed links, builds the message under the row's fixed
//! Message-ID, waits for the rate limit (`rate.rs`: `smtp.per_second` over all
//! workers), sends it, and waits until the outcome is recorded before taking
//! another row. One recorder task writes what the workers finished meanwhile
//! in one transaction (`record_sends`), each row fenced by this process's
//! claim.
//!
//! **The window.** The SMTP server's "250" and the database write cannot be
//! one transaction. A crash between them leaves the row claimed (`sending`);
//! it is claimed again once the lease has passed and sent again, as the same
//! message (same Message-ID), which receiving systems can recognise as a
//! duplicate. Because every worker holds at most one message between send and
//! record, a crash re-sends at most one message per worker of the crashed
//! process. A claimed row that has waited longer than half the lease before
//! its turn is given back unsent, so no row is sent while another sender may
//! already have taken it over. All senders on one queue should use the same
//! lease.
//!
//! **Outcomes** ([`policy`]). 2xx: sent. 4xx answers for the recipient: tried
//! again with exponential backoff (1 min, 2, 4 ... at most 6 h), given up
//! after [`MAX_ATTEMPTS`] attempts (then failed). A 5xx that is about the
//! recipient (550, 551, 553, or an enhanced code 5.1.x or 5.2.x): failed, and
//! the store marks the subscriber bounced. Anything else says the server or
//! the settings are at fault, not the address, and nobody is marked: a
//! session that cannot be opened (connection refused, TLS or AUTH refused)
//! gives the row back untried; a 421, a dropped connection or a timeout during
//! the transaction (the message may have arrived) retries the row with
//! backoff; three of these in a row stop the run, and so does at once a 5xx of
//! another kind (the row is retried later). Rows claimed but not tried go back
//! to the queue, due at once, their attempt not counted.
//!
//! **Ending.** The run ends when nothing is due and no row is claimed by
//! another sender (it waits for those, at most their lease), or when the
//! `interrupt` future given to [`run`] completes (after the messages in
//! flight).
//!
//! **Reader mail** ([`deliver_notices`]): the site's confirmations and sign-in
//! links wait in the same store as notices, and are delivered one at a time
//! by the standing sender of `bulletin serve`.
//!
//! [`preview`] renders and builds every message that would be sent, writing
//! nothing; [`Mailing::test_message`] builds one copy for one address.

mod edition;
mod notices;
pub mod policy;
mod preview;
mod progress;
mod queue;
mod rate;
mod record;
mod worker;

pub use edition::{Edition, Mailing};
pub use notices::{NOTICE_LEASE, NoticeTally, deliver_notices, keep_delivering_notices};
pub use policy::{MAX_ATTEMPTS, StopReason};
pub use preview::{Preview, preview};
pub use progress::{Event, Progress, Started, Tally};
pub use queue::{Report, SendError, run};

/// How a run works the queue.
#[derive(Debug, Clone)]
pub struct Options {
    /// Queue the issue first (`bulletin send`); a standing sender only works
    /// what others queued.
    pub queue: bool,
    /// Messages in flight at once (SMTP connections).
    pub workers: usize,
    /// Seconds a claim holds before another sender may take the row over.
    pub lease: i64,
    /// Seconds before the first retry; doubled for each further one.
    pub retry_base: i64,
    /// The queue's clock: the system's, `ahead` seconds ahead (0 but in tests,
    /// which move time with it instead of waiting for a retry to come due).
    pub clock: QueueClock,
}

/// The time as the queue counts it, in Unix seconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueClock {
    /// Seconds added to the system clock.
    pub ahead: i64,
}

impl QueueClock {
    /// Now, in Unix seconds (a system clock before 1970 counts as 0).
    pub fn now(self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .saturating_add(self.ahead)
    }
}

/// Counts one message's outcome (`bulletin_mail_messages_total{kind,outcome}`;
/// kind is "newsletter" or "reader"), for the metrics `serve --metrics-addr`
/// exposes.
fn count_outcome(kind: &'static str, outcome: &bulletin_store::SendOutcome) {
    let outcome = match outcome {
        bulletin_store::SendOutcome::Sent => "sent",
        bulletin_store::SendOutcome::Retry { .. } => "retry",
        bulletin_store::SendOutcome::Failed { .. } => "failed",
    };
    metrics::counter!("bulletin_mail_messages_total", "kind" => kind, "outcome" => outcome)
        .increment(1);
}
