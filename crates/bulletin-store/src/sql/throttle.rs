//! Reserving an attempt against rate limits, atomically (issue 16): the web
//! layer's sign-in throttle and reader-form limits decide before the work they
//! guard, and parallel requests must not all pass a count read before any of
//! them was recorded.
//!
//! The transaction first upserts one `throttle_keys` row per key, in sorted
//! key order (so two reservations over the same keys cannot deadlock). On
//! PostgreSQL the upsert locks that row until commit, so reservations of a key
//! take turns across connections and instances, and each statement after it
//! (read committed) sees the attempts the previous holder committed. On SQLite
//! the transaction begins `IMMEDIATE`, so writers take turns anyway.

use sqlx::Row as _;

use super::{BackendStore, Tx};
use crate::dialect::Dialect;
use crate::{AttemptLimit, Reservation, Result};

pub(super) async fn reserve(
    store: &BackendStore,
    limits: &[AttemptLimit<'_>],
    now: i64,
    since: i64,
) -> Result<Reservation> {
    let mut tx: Tx = store
        .pool
        .begin_with(<BackendStore as Dialect>::BEGIN_LOCKING)
        .await?;
    let mut keys: Vec<&str> = limits.iter().map(|l| l.key).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in &keys {
        sqlx::query(
            "INSERT INTO throttle_keys (key) VALUES ($1)
             ON CONFLICT (key) DO UPDATE SET key = excluded.key",
        )
        .bind(*key)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM login_failures WHERE key = $1 AND at < $2")
            .bind(*key)
            .bind(since)
            .execute(&mut *tx)
            .await?;
    }
    for (index, limit) in limits.iter().enumerate() {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM login_failures WHERE key = $1 AND at >= $2")
                .bind(limit.key)
                .bind(since)
                .fetch_one(&mut *tx)
                .await?;
        if u64::try_from(n).unwrap_or(0) >= limit.max {
            // The forgetting above is kept; nothing was counted.
            tx.commit().await?;
            return Ok(Reservation::Refused(index));
        }
    }
    let mut ids = Vec::with_capacity(limits.len());
    for limit in limits {
        let row = sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2) RETURNING id")
            .bind(limit.key)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        ids.push(row.try_get("id")?);
    }
    tx.commit().await?;
    Ok(Reservation::Granted(ids))
}

pub(super) async fn release(store: &BackendStore, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE id = $1")
        .bind(id)
        .execute(&store.pool)
        .await?;
    Ok(())
}
