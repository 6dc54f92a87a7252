//! The durable send queue: the newsletter's, one row per (issue,
//! subscriber), and the site's reader mail ([`Notice`]s: confirmations and
//! sign-in links), one row per message.
//!
//! Workers claim rows (several instances on one PostgreSQL share the queue:
//! `FOR UPDATE SKIP LOCKED` there, one writer at a time on SQLite), send, and
//! record the outcome, fenced by the claim, so a worker whose lease ran out
//! cannot overwrite the row another worker has since taken. A claimed row whose
//! worker died is claimed again once its lease has passed.
//!
//! The window between the SMTP server's "250 OK" and the write of `sent` cannot
//! be closed by any design (the database and the SMTP server do not share a
//! transaction): a crash inside it leaves the row `sending`, and it is sent again
//! after the lease. Each row carries a Message-ID fixed when it is queued, so a
//! message sent twice is the same message twice, which receiving systems can
//! recognise; and the window is kept to one row per worker at a time (the
//! sender, `bulletin send`, has each worker wait for its outcome to be written
//! before taking another row; [`Outbox::record_sends`] writes what several
//! workers finished meanwhile in one commit).
//!
//! A worker never takes over its own claims; rows it will not send it gives
//! back ([`Outbox::release_sends`]), due at once and the attempt not counted.

use async_trait::async_trait;
use bulletin_core::subscriber::Plan;

use crate::Result;

/// One message to send, as claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendJob {
    pub id: i64,
    pub issue: u32,
    pub subscriber_id: i64,
    pub email: String,
    pub name: String,
    /// What the recipient may read, as it was when the issue was queued:
    /// paid only for a paid plan on a confirmed address (the rule of
    /// `Subscriber::reads_everything`; queued subscribers are all active).
    pub plan: Plan,
    /// Fixed at queueing: the local part of the Message-ID (`issue-493-17`).
    pub message_key: String,
    /// 1 on the first try.
    pub attempt: u32,
}

/// A short message the site sends one reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub email: String,
    pub subject: String,
    /// Plain text.
    pub text: String,
}

/// A queued [`Notice`], as claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeJob {
    pub id: i64,
    pub notice: Notice,
    /// 1 on the first try.
    pub attempt: u32,
}

/// How one send ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    /// Try again at `retry_at` (Unix seconds): a 4xx answer, a dropped
    /// connection.
    Retry {
        error: String,
        retry_at: i64,
    },
    /// Never again: a 5xx answer. The subscriber is marked bounced.
    Failed {
        error: String,
    },
}

/// Where an issue's sending stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendProgress {
    pub queued: u64,
    pub sending: u64,
    pub sent: u64,
    pub failed: u64,
    /// The earliest `next_attempt_at` (Unix seconds) of the queued rows that
    /// wait for a retry (attempted before, not yet due or due now); `None`
    /// when none waits.
    pub next_retry_at: Option<i64>,
}

impl SendProgress {
    pub fn total(&self) -> u64 {
        self.queued + self.sending + self.sent + self.failed
    }
}

#[async_trait]
pub trait Outbox: Send + Sync {
    /// Queues the issue for every active subscriber not yet queued for it (so
    /// queueing again after new sign-ups adds only them). Refused unless the
    /// issue is published. Returns how many rows were added. One statement.
    async fn queue_issue(&self, issue: u32, now: i64) -> Result<u64>;
    /// Claims up to `limit` rows that are due (queued and past their retry
    /// time, or claimed by another worker whose `lease` seconds have passed),
    /// for `worker`. A worker never takes over its own claims: it knows what
    /// it holds (and gives back with [`Outbox::release_sends`] what it will
    /// not send), so a slow send of its own is never claimed twice.
    async fn claim_sends(
        &self,
        worker: &str,
        limit: u32,
        now: i64,
        lease: i64,
    ) -> Result<Vec<SendJob>>;
    /// [`Outbox::claim_sends`] for one issue's rows only.
    async fn claim_issue_sends(
        &self,
        issue: u32,
        worker: &str,
        limit: u32,
        now: i64,
        lease: i64,
    ) -> Result<Vec<SendJob>>;
    /// Records how a claimed send ended. `false` when the claim is no longer
    /// `worker`'s (its lease passed and another worker took the row): nothing
    /// is written.
    async fn record_send(
        &self,
        id: i64,
        worker: &str,
        outcome: &SendOutcome,
        now: i64,
    ) -> Result<bool>;
    /// [`Outbox::record_send`] for several rows in one transaction (one commit,
    /// so one disk flush, for what several workers finished meanwhile). One
    /// answer per row, in order.
    async fn record_sends(
        &self,
        outcomes: &[(i64, SendOutcome)],
        worker: &str,
        now: i64,
    ) -> Result<Vec<bool>>;
    /// Gives claimed rows that were not tried back to the queue, due at once,
    /// their claim's attempt not counted (a sender stopping with rows in hand).
    /// Rows no longer `worker`'s are left alone. Returns how many went back.
    async fn release_sends(&self, ids: &[i64], worker: &str) -> Result<u64>;
    async fn send_progress(&self, issue: u32) -> Result<SendProgress>;
    /// Issues with rows a sender could claim now (queued and due, or claimed
    /// under a lease that has passed), lowest number first: what a standing
    /// sender (`bulletin serve` with SMTP settings) works on.
    async fn issues_with_due_sends(&self, now: i64, lease: i64) -> Result<Vec<u32>>;
    /// Queues a short message to one address (a confirmation or a sign-in
    /// link) for the send engine, in one statement. With `only_if_confirmed`
    /// nothing is queued unless the address is a subscriber's confirmed one;
    /// the statement is the same either way, so the caller does the same work
    /// whether or not the address is known. Returns whether it was queued.
    async fn queue_notice(
        &self,
        notice: &Notice,
        only_if_confirmed: bool,
        now: i64,
    ) -> Result<bool>;
    /// Claims up to `limit` due notices for `worker`, as
    /// [`Outbox::claim_sends`] claims rows (queued and due, or another
    /// worker's claim older than `lease`), oldest first.
    async fn claim_notices(
        &self,
        worker: &str,
        limit: u32,
        now: i64,
        lease: i64,
    ) -> Result<Vec<NoticeJob>>;
    /// Records how a claimed notice ended, fenced by the claim as
    /// [`Outbox::record_send`] is. A sent notice is deleted (its text is a
    /// credential); a failed one keeps its error, not its text. Nobody is
    /// marked bounced: the address may never have been confirmed.
    async fn record_notice(
        &self,
        id: i64,
        worker: &str,
        outcome: &SendOutcome,
        now: i64,
    ) -> Result<bool>;
    /// Notices not yet delivered or given up: queued or claimed.
    async fn notices_waiting(&self) -> Result<u64>;
    /// Newsletter messages not yet sent or given up, over every issue: queued
    /// or claimed (the send queue's depth).
    async fn sends_waiting(&self) -> Result<u64>;
    /// What sending the issue now would send, by subscriber id after `after`,
    /// writing nothing: its queued and claimed rows, and the active
    /// subscribers not yet queued (with `id` 0, `attempt` 0 and the message
    /// key queueing would give them). For `bulletin send --dry-run`.
    async fn preview_sends(&self, issue: u32, after: i64, limit: u32) -> Result<Vec<SendJob>>;
}
