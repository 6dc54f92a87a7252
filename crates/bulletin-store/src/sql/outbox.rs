//! [`Outbox`] over one backend: the newsletter's send queue (see
//! [`crate::api::outbox`] for how claims, leases and outcomes fit together).

use bulletin_core::IssueStatus;
use bulletin_core::subscriber::Plan;
use sqlx::Row as _;

use super::{BackendStore, DbRow, Dialect, corrupt, issue_head, number, refused};
use crate::{Notice, NoticeJob, Outbox, Result, SendJob, SendOutcome, SendProgress};

/// `FOR UPDATE SKIP LOCKED` where the backend has it.
fn skip_locked() -> &'static str {
    <BackendStore as Dialect>::SKIP_LOCKED
}

#[async_trait::async_trait]
impl Outbox for BackendStore {
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
                u32::try_from(n).map_err(|_| corrupt(format_args!("issue number {n} in sends")))
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

    async fn queue_notice(
        &self,
        notice: &Notice,
        only_if_confirmed: bool,
        now: i64,
    ) -> Result<bool> {
        super::notices::queue(self, notice, only_if_confirmed, now).await
    }

    async fn claim_notices(
        &self,
        worker: &str,
        limit: u32,
        now: i64,
        lease: i64,
    ) -> Result<Vec<NoticeJob>> {
        super::notices::claim(self, worker, limit, now, lease).await
    }

    async fn record_notice(
        &self,
        id: i64,
        worker: &str,
        outcome: &SendOutcome,
        _now: i64,
    ) -> Result<bool> {
        super::notices::record(self, id, worker, outcome).await
    }

    async fn notices_waiting(&self) -> Result<u64> {
        super::notices::waiting(self).await
    }

    async fn sends_waiting(&self) -> Result<u64> {
        // Two index range counts (sends_due leads with state).
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM sends WHERE state = 'queued')
                  + (SELECT count(*) FROM sends WHERE state = 'sending')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn preview_sends(&self, issue: u32, after: i64, limit: u32) -> Result<Vec<SendJob>> {
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
    store: &BackendStore,
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

fn job(row: &DbRow) -> Result<SendJob> {
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
        SendOutcome::Retry { error, retry_at } => ("queued", Some(error.as_str()), Some(*retry_at)),
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
