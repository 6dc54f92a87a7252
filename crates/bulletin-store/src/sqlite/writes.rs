//! SQLite's own writes: those that stamp the older tables' RFC 3339 times,
//! which SQLite takes as text from the clock here (PostgreSQL uses `now()`),
//! and deleting a story, whose side rows go by `ON DELETE CASCADE`.

use bulletin_core::staff::Role;
use bulletin_core::{IssueStatus, Publication};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

use super::{SqliteImport, SqliteStore, now};
use crate::Result;
use crate::rows::duplicate;

pub(super) async fn set_publication(store: &SqliteStore, p: &Publication) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let at = now();
    let changed = sqlx::query(
        "UPDATE publication SET name = ?, credit = ?, base_url = ?, time_zone = ?,
             copyright = ?, updated_at = ?
         WHERE id = 1 AND NOT (name = ? AND credit = ? AND base_url = ? AND time_zone = ?
             AND copyright = ?)",
    )
    .bind(&p.name)
    .bind(&p.credit)
    .bind(&p.base_url)
    .bind(&p.time_zone)
    .bind(&p.copyright)
    .bind(&at)
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
             VALUES ('publication', 'publication', 'update', ?)",
        )
        .bind(&at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The new account's row, as [`crate::dialect::Dialect::USER_COLUMNS`].
pub(super) async fn create_user(
    store: &SqliteStore,
    email: &str,
    role: Role,
    password_hash: &str,
) -> Result<SqliteRow> {
    sqlx::query(
        "INSERT INTO users (email, role, password_hash, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?)
         RETURNING id, email, role, disabled, created_at",
    )
    .bind(email)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(now())
    .bind(now())
    .fetch_one(&store.pool)
    .await
    .map_err(|e| duplicate(e, "account", email))
}

pub(super) async fn set_user_disabled(
    store: &SqliteStore,
    email: &str,
    disabled: bool,
) -> Result<bool> {
    let done = sqlx::query("UPDATE users SET disabled = ?, updated_at = ? WHERE email = ?")
        .bind(disabled)
        .bind(now())
        .bind(email)
        .execute(&store.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn set_password_hash(
    store: &SqliteStore,
    email: &str,
    password_hash: &str,
) -> Result<bool> {
    let done = sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE email = ?")
        .bind(password_hash)
        .bind(now())
        .bind(email)
        .execute(&store.pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_story(import: &mut SqliteImport, slug: &str) -> Result<bool> {
    // Side tables and revisions go with the story (ON DELETE CASCADE).
    let deleted = sqlx::query("DELETE FROM stories WHERE slug = ?")
        .bind(slug)
        .execute(&mut *import.tx)
        .await?
        .rows_affected();
    if deleted > 0 {
        log_change(&mut import.tx, "story", slug, "delete").await?;
    }
    Ok(deleted > 0)
}

pub(super) async fn set_issue_status(
    import: &mut SqliteImport,
    number: u32,
    status: IssueStatus,
) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE issues SET status = ?, publish_at = NULL, updated_at = ? WHERE number = ?",
    )
    .bind(status.as_str())
    .bind(now())
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
    conn: &mut SqliteConnection,
    entity: &str,
    key: &str,
    op: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO changes (entity, key, op, at) VALUES (?, ?, ?, ?)")
        .bind(entity)
        .bind(key)
        .bind(op)
        .bind(now())
        .execute(conn)
        .await?;
    Ok(())
}
