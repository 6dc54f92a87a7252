//! The newsletter's durable send queue: one row per (issue, subscriber).
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
//!
//! SQL: one text for both backends, expanded inside the newsroom module by
//! [`outbox_sql!`].

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
    /// What sending the issue now would send, by subscriber id after `after`,
    /// writing nothing: its queued and claimed rows, and the active
    /// subscribers not yet queued (with `id` 0, `attempt` 0 and the message
    /// key queueing would give them). For `bulletin send --dry-run`.
    async fn preview_sends(&self, issue: u32, after: i64, limit: u32) -> Result<Vec<SendJob>>;
}

/// Expands the [`Outbox`] implementation inside the newsroom module of a backend.
macro_rules! outbox_sql {
    ($store:ident) => {
        mod outbox_sql {
            use bulletin_core::IssueStatus;
            use bulletin_core::subscriber::Plan;
            use sqlx::Row as _;

            use super::super::$store;
            use super::{corrupt, issue_head, number, refused};
            use crate::Result;
            use crate::outbox::{Outbox, SendJob, SendOutcome, SendProgress};

            /// `FOR UPDATE SKIP LOCKED` where the backend has it.
            fn skip_locked() -> &'static str {
                <$store as crate::newsroom::Backend>::SKIP_LOCKED
            }

            #[async_trait::async_trait]
            impl Outbox for $store {
                async fn queue_issue(&self, issue: u32, now: i64) -> Result<u64> {
                    let mut import = self.begin_newsroom().await?;
                    match issue_head(&mut import.tx, issue).await? {
                        Some((_, IssueStatus::Published)) => {}
                        Some((_, status)) => {
                            return Err(refused(format!(
                                "issue {issue} is {}: publish it before sending it",
                                status.as_str()
                            )));
                        }
                        None => {
                            return Err(crate::StoreError::NotFound {
                                what: "issue",
                                key: issue.to_string(),
                            });
                        }
                    }
                    let added = sqlx::query(
                        "INSERT INTO sends (issue_number, subscriber_id, email, name, plan, state,
                             attempts, next_attempt_at, message_key)
                         SELECT $1, s.id, s.email, s.name,
                             CASE WHEN s.plan = 'paid' AND s.confirmed_at IS NOT NULL
                                 THEN 'paid' ELSE 'free' END,
                             'queued', 0, $2,
                             'issue-' || CAST($1 AS TEXT) || '-' || CAST(s.id AS TEXT)
                         FROM subscribers s
                         WHERE s.status = 'active'
                         ORDER BY s.id
                         ON CONFLICT (issue_number, subscriber_id) DO NOTHING",
                    )
                    .bind(i64::from(issue))
                    .bind(now)
                    .execute(&mut *import.tx)
                    .await?
                    .rows_affected();
                    import.tx.commit().await?;
                    Ok(added)
                }

                async fn claim_sends(
                    &self,
                    worker: &str,
                    limit: u32,
                    now: i64,
                    lease: i64,
                ) -> Result<Vec<SendJob>> {
                    claim(self, None, worker, limit, now, lease).await
                }

                async fn claim_issue_sends(
                    &self,
                    issue: u32,
                    worker: &str,
                    limit: u32,
                    now: i64,
                    lease: i64,
                ) -> Result<Vec<SendJob>> {
                    claim(self, Some(issue), worker, limit, now, lease).await
                }

                async fn record_send(
                    &self,
                    id: i64,
                    worker: &str,
                    outcome: &SendOutcome,
                    now: i64,
                ) -> Result<bool> {
                    let mut import = self.begin_newsroom().await?;
                    let done = record(&mut import.tx, id, worker, outcome, now).await?;
                    import.tx.commit().await?;
                    Ok(done)
                }

                async fn record_sends(
                    &self,
                    outcomes: &[(i64, SendOutcome)],
                    worker: &str,
                    now: i64,
                ) -> Result<Vec<bool>> {
                    if outcomes.is_empty() {
                        return Ok(Vec::new());
                    }
                    let mut import = self.begin_newsroom().await?;
                    let mut done = Vec::with_capacity(outcomes.len());
                    for (id, outcome) in outcomes {
                        done.push(record(&mut import.tx, *id, worker, outcome, now).await?);
                    }
                    import.tx.commit().await?;
                    Ok(done)
                }

                async fn release_sends(&self, ids: &[i64], worker: &str) -> Result<u64> {
                    if ids.is_empty() {
                        return Ok(0);
                    }
                    let mut import = self.begin_newsroom().await?;
                    let mut released = 0;
                    for id in ids {
                        released += sqlx::query(
                            "UPDATE sends SET state = 'queued', attempts = attempts - 1,
                                 claimed_by = NULL, claimed_at = NULL
                             WHERE id = $1 AND state = 'sending' AND claimed_by = $2",
                        )
                        .bind(id)
                        .bind(worker)
                        .execute(&mut *import.tx)
                        .await?
                        .rows_affected();
                    }
                    import.tx.commit().await?;
                    Ok(released)
                }

                async fn issues_with_due_sends(&self, now: i64, lease: i64) -> Result<Vec<u32>> {
                    let rows: Vec<i64> = sqlx::query_scalar(
                        "SELECT DISTINCT issue_number FROM sends
                         WHERE (state = 'queued' AND next_attempt_at <= $1)
                            OR (state = 'sending' AND claimed_at <= $2)
                         ORDER BY issue_number",
                    )
                    .bind(now)
                    .bind(now - lease)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.into_iter()
                        .map(|n| {
                            u32::try_from(n)
                                .map_err(|_| corrupt(format_args!("issue number {n} in sends")))
                        })
                        .collect()
                }

                async fn send_progress(&self, issue: u32) -> Result<SendProgress> {
                    let rows = sqlx::query(
                        "SELECT state, count(*) AS n,
                             min(CASE WHEN attempts > 0 THEN next_attempt_at END) AS retry
                         FROM sends WHERE issue_number = $1
                         GROUP BY state",
                    )
                    .bind(i64::from(issue))
                    .fetch_all(&self.pool)
                    .await?;
                    let mut p = SendProgress::default();
                    for row in &rows {
                        let state: String = row.try_get("state")?;
                        let n: i64 = row.try_get("n")?;
                        let n = u64::try_from(n).unwrap_or(0);
                        match state.as_str() {
                            "queued" => {
                                p.queued = n;
                                p.next_retry_at = row.try_get("retry")?;
                            }
                            "sending" => p.sending = n,
                            "sent" => p.sent = n,
                            "failed" => p.failed = n,
                            other => return Err(corrupt(format_args!("send state {other:?}"))),
                        }
                    }
                    Ok(p)
                }

                async fn preview_sends(
                    &self,
                    issue: u32,
                    after: i64,
                    limit: u32,
                ) -> Result<Vec<SendJob>> {
                    let rows = sqlx::query(
                        "SELECT * FROM (
                             SELECT id, issue_number, subscriber_id, email, name, plan,
                                 message_key, attempts
                             FROM sends
                             WHERE issue_number = $1 AND state IN ('queued', 'sending')
                               AND subscriber_id > $2
                             UNION ALL
                             SELECT 0, $1, s.id, s.email, s.name,
                                 CASE WHEN s.plan = 'paid' AND s.confirmed_at IS NOT NULL
                                     THEN 'paid' ELSE 'free' END,
                                 'issue-' || CAST($1 AS TEXT) || '-' || CAST(s.id AS TEXT), 0
                             FROM subscribers s
                             WHERE s.status = 'active' AND s.id > $2
                               AND NOT EXISTS (SELECT 1 FROM sends x
                                   WHERE x.issue_number = $1 AND x.subscriber_id = s.id)
                         ) AS p
                         ORDER BY subscriber_id LIMIT $3",
                    )
                    .bind(i64::from(issue))
                    .bind(after)
                    .bind(i64::from(limit.clamp(1, 10_000)))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(job).collect()
                }
            }

            /// Claims due rows (of `issue`, or of any issue) for `worker`.
            async fn claim(
                store: &$store,
                issue: Option<u32>,
                worker: &str,
                limit: u32,
                now: i64,
                lease: i64,
            ) -> Result<Vec<SendJob>> {
                let mut import = store.begin_newsroom().await?;
                // Two index walks that stop after `limit` rows (due rows in
                // the order of `sends_due`; dead workers' claims), not one OR
                // that sorts every queued row of a big issue at each claim.
                let sql = format!(
                    "UPDATE sends SET state = 'sending', claimed_by = $1, claimed_at = $2,
                         attempts = attempts + 1
                     WHERE id IN (
                         SELECT id FROM (
                             SELECT id FROM (
                                 SELECT id FROM sends
                                 WHERE state = 'queued' AND next_attempt_at <= $2
                                   AND ($5 IS NULL OR issue_number = $5)
                                 ORDER BY next_attempt_at, id LIMIT $4 {lock}
                             ) AS due
                             UNION ALL
                             SELECT id FROM (
                                 SELECT id FROM sends
                                 WHERE state = 'sending' AND claimed_at <= $3
                                   AND claimed_by <> $1
                                   AND ($5 IS NULL OR issue_number = $5)
                                 ORDER BY id LIMIT $4 {lock}
                             ) AS stale
                         ) AS claimable
                         LIMIT $4
                     )
                     RETURNING id, issue_number, subscriber_id, email, name, plan,
                         message_key, attempts",
                    lock = skip_locked()
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(worker)
                    .bind(now)
                    .bind(now - lease)
                    .bind(i64::from(limit.clamp(1, 10_000)))
                    .bind(issue.map(i64::from))
                    .fetch_all(&mut *import.tx)
                    .await?;
                import.tx.commit().await?;
                let mut jobs = rows.iter().map(job).collect::<Result<Vec<_>>>()?;
                // RETURNING gives no order; send in queue order.
                jobs.sort_by_key(|j| j.id);
                Ok(jobs)
            }

            type Row = <<$store as crate::newsroom::Backend>::Db as sqlx::Database>::Row;

            fn job(row: &Row) -> Result<SendJob> {
                let plan: String = row.try_get("plan")?;
                Ok(SendJob {
                    id: row.try_get("id")?,
                    issue: number(row.try_get("issue_number")?, "issue number")?,
                    subscriber_id: row.try_get("subscriber_id")?,
                    email: row.try_get("email")?,
                    name: row.try_get("name")?,
                    plan: Plan::parse(&plan).ok_or_else(|| corrupt(format_args!("plan {plan:?}")))?,
                    message_key: row.try_get("message_key")?,
                    attempt: number(row.try_get("attempts")?, "attempts")?,
                })
            }

            /// One outcome, fenced by the claim; a permanent failure marks the
            /// subscriber bounced in the same transaction.
            async fn record(
                tx: &mut super::Tx,
                id: i64,
                worker: &str,
                outcome: &SendOutcome,
                now: i64,
            ) -> Result<bool> {
                let (state, error, retry_at) = match outcome {
                    SendOutcome::Sent => ("sent", None, None),
                    SendOutcome::Retry { error, retry_at } => {
                        ("queued", Some(error.as_str()), Some(*retry_at))
                    }
                    SendOutcome::Failed { error } => ("failed", Some(error.as_str()), None),
                };
                let done = sqlx::query(
                    "UPDATE sends SET state = $1, last_error = $2,
                         next_attempt_at = COALESCE($3, next_attempt_at),
                         sent_at = CASE WHEN $1 = 'sent' THEN $4 ELSE sent_at END,
                         claimed_by = NULL, claimed_at = NULL
                     WHERE id = $5 AND state = 'sending' AND claimed_by = $6",
                )
                .bind(state)
                .bind(error)
                .bind(retry_at)
                .bind(now)
                .bind(id)
                .bind(worker)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                if done == 1 && matches!(outcome, SendOutcome::Failed { .. }) {
                    sqlx::query(
                        "UPDATE subscribers SET status = 'bounced', updated_at = $1
                         WHERE id = (SELECT subscriber_id FROM sends WHERE id = $2)
                           AND status = 'active'",
                    )
                    .bind(now)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(done == 1)
            }
        }
    };
}

pub(crate) use outbox_sql;
