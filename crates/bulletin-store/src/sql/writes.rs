//! Writes that stamp the older tables' RFC 3339 times (`updated_at`,
//! `changes.at`): the time comes from the backend's clock
//! ([`Dialect::now_sql`], [`Dialect::clock`]).

use bulletin_core::staff::Role;
use bulletin_core::{IssueStatus, Publication};

use super::{BackendImport, BackendStore, Db, DbRow, Dialect};
use crate::Result;
use crate::rows::duplicate;

type Pool = sqlx::Pool<Db>;
type Connection = <Db as sqlx::Database>::Connection;

/// `now` for parameter `$param`.
fn now_sql(param: usize) -> String {
    <BackendStore as Dialect>::now_sql(param)
}

/// The value of [`now_sql`]'s parameter, if the backend binds one.
fn clock() -> Option<String> {
    <BackendStore as Dialect>::clock()
}

/// Seeds the default publication into a fresh store.
pub(crate) async fn seed_publication(pool: &Pool) -> Result<()> {
    let p = Publication::default();
    let sql = format!(
        "INSERT INTO publication (id, name, credit, base_url, time_zone, copyright, updated_at)
         VALUES (1, $1, $2, $3, $4, $5, {}) ON CONFLICT (id) DO NOTHING",
        now_sql(6)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&p.name)
        .bind(&p.credit)
        .bind(&p.base_url)
        .bind(&p.time_zone)
        .bind(&p.copyright);
    if let Some(at) = clock() {
        query = query.bind(at);
    }
    query.execute(pool).await?;
    Ok(())
}

pub(super) async fn set_publication(store: &BackendStore, p: &Publication) -> Result<()> {
    let mut tx = store.begin_write().await?;
    // One time for both rows.
    let at = clock();
    let sql = format!(
        "UPDATE publication SET name = $1, credit = $2, base_url = $3, time_zone = $4,
             copyright = $5, language = $6, copyright_holder = $7, default_access = $8,
             sender_name = $9, updated_at = {}
         WHERE id = 1 AND {}",
        now_sql(10),
        <BackendStore as Dialect>::PUBLICATION_DIFFERS
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&p.name)
        .bind(&p.credit)
        .bind(&p.base_url)
        .bind(&p.time_zone)
        .bind(&p.copyright)
        .bind(&p.language)
        .bind(&p.copyright_holder)
        .bind(p.default_access.as_str())
        .bind(&p.sender_name);
    if let Some(at) = &at {
        query = query.bind(at);
    }
    let changed = query.execute(&mut *tx).await?.rows_affected();
    if changed > 0 {
        let sql = format!(
            "INSERT INTO changes (entity, key, op, at)
             VALUES ('publication', 'publication', 'update', {})",
            now_sql(1)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(at) = &at {
            query = query.bind(at);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The new account's row, as [`Dialect::USER_COLUMNS`].
pub(super) async fn create_user(
    store: &BackendStore,
    email: &str,
    role: Role,
    password_hash: &str,
) -> Result<DbRow> {
    let sql = format!(
        "INSERT INTO users (email, role, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, {}, {})
         RETURNING {}",
        now_sql(4),
        now_sql(5),
        <BackendStore as Dialect>::USER_COLUMNS
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(email)
        .bind(role.as_str())
        .bind(password_hash);
    for at in [clock(), clock()].into_iter().flatten() {
        query = query.bind(at);
    }
    query
        .fetch_one(&store.pool)
        .await
        .map_err(|e| duplicate(e, "account", email))
}

pub(super) async fn set_user_disabled(
    store: &BackendStore,
    email: &str,
    disabled: bool,
) -> Result<bool> {
    let sql = format!(
        "UPDATE users SET disabled = $1, updated_at = {} WHERE email = $2",
        now_sql(3)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(disabled)
        .bind(email);
    if let Some(at) = clock() {
        query = query.bind(at);
    }
    Ok(query.execute(&store.pool).await?.rows_affected() > 0)
}

pub(super) async fn set_password_hash(
    store: &BackendStore,
    email: &str,
    password_hash: &str,
) -> Result<bool> {
    let sql = format!(
        "UPDATE users SET password_hash = $1, updated_at = {} WHERE email = $2",
        now_sql(3)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(password_hash)
        .bind(email);
    if let Some(at) = clock() {
        query = query.bind(at);
    }
    Ok(query.execute(&store.pool).await?.rows_affected() > 0)
}

/// Sets an issue's status, clears its scheduled time and logs the change.
pub(super) async fn set_issue_status(
    import: &mut BackendImport,
    number: u32,
    status: IssueStatus,
) -> Result<bool> {
    let sql = format!(
        "UPDATE issues SET status = $1, publish_at = NULL, updated_at = {} WHERE number = $2",
        now_sql(3)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(status.as_str())
        .bind(i64::from(number));
    if let Some(at) = clock() {
        query = query.bind(at);
    }
    let updated = query.execute(&mut *import.tx).await?.rows_affected();
    if updated > 0 {
        log_change(&mut import.tx, "issue", &number.to_string(), "update").await?;
    }
    Ok(updated > 0)
}

/// Appends a change-log entry.
pub(crate) async fn log_change(
    conn: &mut Connection,
    entity: &str,
    key: &str,
    op: &str,
) -> Result<()> {
    let sql = format!(
        "INSERT INTO changes (entity, key, op, at) VALUES ($1, $2, $3, {})",
        now_sql(4)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(entity)
        .bind(key)
        .bind(op);
    if let Some(at) = clock() {
        query = query.bind(at);
    }
    query.execute(conn).await?;
    Ok(())
}
