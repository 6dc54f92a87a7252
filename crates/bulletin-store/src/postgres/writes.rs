//! PostgreSQL's own writes: those that stamp the older tables' times, which
//! PostgreSQL takes from `now()` (SQLite binds the clock as text), and
//! deleting a story, whose side tables carry no foreign keys.

use bulletin_core::staff::Role;
use bulletin_core::{IssueStatus, Publication};
use sqlx::postgres::{PgConnection, PgRow};

use super::{PgImport, PgStore};
use crate::Result;
use crate::rows::duplicate;

pub(super) async fn set_publication(store: &PgStore, p: &Publication) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let changed = sqlx::query(
        "UPDATE publication SET name = $1, credit = $2, base_url = $3, time_zone = $4,
             copyright = $5, updated_at = now()
         WHERE id = 1 AND (name, credit, base_url, time_zone, copyright)
             IS DISTINCT FROM ($1, $2, $3, $4, $5)",
    )
    .bind(&p.name)
    .bind(&p.credit)
    .bind(&p.base_url)
    .bind(&p.time_zone)
    .bind(&p.copyright)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed > 0 {
        sqlx::query(
            "INSERT INTO changes (entity, key, op, at)
             VALUES ('publication', 'publication', 'update', now())",
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The new account's row, as [`crate::dialect::Dialect::USER_COLUMNS`].
pub(super) async fn create_user(
    store: &PgStore,
    email: &str,
    role: Role,
    password_hash: &str,
) -> Result<PgRow> {
    sqlx::query(
        "INSERT INTO users (email, role, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, now(), now())
         RETURNING id, email, role, disabled,
             to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')
                 AS created_at",
    )
    .bind(email)
    .bind(role.as_str())
    .bind(password_hash)
    .fetch_one(&store.pool)
    .await
    .map_err(|e| duplicate(e, "account", email))
}

pub(super) async fn set_user_disabled(
    store: &PgStore,
    email: &str,
    disabled: bool,
) -> Result<bool> {
    let done = sqlx::query("UPDATE users SET disabled = $1, updated_at = now() WHERE email = $2")
        .bind(disabled)
        .bind(email)
        .execute(&store.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn set_password_hash(
    store: &PgStore,
    email: &str,
    password_hash: &str,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = now() WHERE email = $2")
            .bind(password_hash)
            .bind(email)
            .execute(&store.pool)
            .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_story(import: &mut PgImport, slug: &str) -> Result<bool> {
    let id: Option<i64> = sqlx::query_scalar("DELETE FROM stories WHERE slug = $1 RETURNING id")
        .bind(slug)
        .fetch_optional(&mut *import.tx)
        .await?;
    let Some(id) = id else {
        return Ok(false);
    };
    // The side tables carry no foreign keys (see migrations/postgres/0001).
    for sql in [
        "DELETE FROM story_tags WHERE story_id = $1",
        "DELETE FROM story_countries WHERE story_id = $1",
        "DELETE FROM story_places WHERE story_id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *import.tx).await?;
    }
    log_change(&mut import.tx, "story", slug, "delete").await?;
    Ok(true)
}

pub(super) async fn set_issue_status(
    import: &mut PgImport,
    number: u32,
    status: IssueStatus,
) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE issues SET status = $1, publish_at = NULL, updated_at = now() WHERE number = $2",
    )
    .bind(status.as_str())
    .bind(i64::from(number))
    .execute(&mut *import.tx)
    .await?
    .rows_affected();
    if updated > 0 {
        log_change(&mut import.tx, "issue", &number.to_string(), "update").await?;
    }
    Ok(updated > 0)
}

/// Appends a change-log entry.
pub(super) async fn log_change(
    conn: &mut PgConnection,
    entity: &str,
    key: &str,
    op: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO changes (entity, key, op, at) VALUES ($1, $2, $3, now())")
        .bind(entity)
        .bind(key)
        .bind(op)
        .execute(conn)
        .await?;
    Ok(())
}
