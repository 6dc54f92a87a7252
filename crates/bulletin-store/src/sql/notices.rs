//! The reader-mail half of [`crate::Outbox`]: notices queued by the site and
//! delivered by the send engine (see `api/outbox.rs`). Each operation is one
//! statement, atomic on its own; claims pass over each other's rows with
//! `SKIP LOCKED` on PostgreSQL, as newsletter claims do.

use sqlx::Row as _;

use super::{BackendStore, DbRow, Dialect, number};
use crate::{Notice, NoticeJob, Result, SendOutcome};

pub(super) async fn queue(
    store: &BackendStore,
    notice: &Notice,
    only_if_confirmed: bool,
    now: i64,
) -> Result<bool> {
    let added = sqlx::query(
        "INSERT INTO notices (email, subject, body, state, attempts, next_attempt_at, created_at)
         SELECT $1, $2, $3, 'queued', 0, $5, $5
         WHERE $4 = 0 OR EXISTS (SELECT 1 FROM subscribers
             WHERE email = $1 AND confirmed_at IS NOT NULL)",
    )
    .bind(&notice.email)
    .bind(&notice.subject)
    .bind(&notice.text)
    .bind(i64::from(only_if_confirmed))
    .bind(now)
    .execute(&store.pool)
    .await?
    .rows_affected();
    Ok(added == 1)
}

pub(super) async fn claim(
    store: &BackendStore,
    worker: &str,
    limit: u32,
    now: i64,
    lease: i64,
) -> Result<Vec<NoticeJob>> {
    let sql = format!(
        "UPDATE notices SET state = 'sending', claimed_by = $1, claimed_at = $2,
             attempts = attempts + 1
         WHERE id IN (
             SELECT id FROM notices
             WHERE (state = 'queued' AND next_attempt_at <= $2)
                OR (state = 'sending' AND claimed_at <= $3 AND claimed_by <> $1)
             ORDER BY id LIMIT $4 {lock}
         )
         RETURNING id, email, subject, body, attempts",
        lock = <BackendStore as Dialect>::SKIP_LOCKED
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(worker)
        .bind(now)
        .bind(now.saturating_sub(lease))
        .bind(i64::from(limit.clamp(1, 1_000)))
        .fetch_all(&store.pool)
        .await?;
    let mut jobs = rows.iter().map(job).collect::<Result<Vec<_>>>()?;
    // RETURNING gives no order; send oldest first.
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

fn job(row: &DbRow) -> Result<NoticeJob> {
    Ok(NoticeJob {
        id: row.try_get("id")?,
        notice: Notice {
            email: row.try_get("email")?,
            subject: row.try_get("subject")?,
            text: row.try_get("body")?,
        },
        attempt: number(row.try_get("attempts")?, "attempts")?,
    })
}

pub(super) async fn record(
    store: &BackendStore,
    id: i64,
    worker: &str,
    outcome: &SendOutcome,
) -> Result<bool> {
    let query = match outcome {
        SendOutcome::Sent => sqlx::query(
            "DELETE FROM notices WHERE id = $1 AND state = 'sending' AND claimed_by = $2",
        )
        .bind(id)
        .bind(worker),
        SendOutcome::Retry { error, retry_at } => sqlx::query(
            "UPDATE notices SET state = 'queued', last_error = $3, next_attempt_at = $4,
                 claimed_by = NULL, claimed_at = NULL
             WHERE id = $1 AND state = 'sending' AND claimed_by = $2",
        )
        .bind(id)
        .bind(worker)
        .bind(error.as_str())
        .bind(*retry_at),
        SendOutcome::Failed { error } => sqlx::query(
            "UPDATE notices SET state = 'failed', last_error = $3, body = '',
                 claimed_by = NULL, claimed_at = NULL
             WHERE id = $1 AND state = 'sending' AND claimed_by = $2",
        )
        .bind(id)
        .bind(worker)
        .bind(error.as_str()),
    };
    Ok(query.execute(&store.pool).await?.rows_affected() == 1)
}

pub(super) async fn waiting(store: &BackendStore) -> Result<u64> {
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notices WHERE state IN ('queued', 'sending')")
            .fetch_one(&store.pool)
            .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}
