//! [`StaffAccounts`] over one backend. Reads are shared; writes stamp times,
//! which each backend does its own way ([`super::writes`]).

use async_trait::async_trait;
use bulletin_core::staff::{Role, User};
use sqlx::Row as _;

use super::{BackendStore, DbRow, Dialect, corrupt, writes};
use crate::{Result, StaffAccounts};

/// An account from a row of [`Dialect::USER_COLUMNS`].
pub(super) fn user_row(row: &DbRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).ok_or_else(|| corrupt(format_args!("role {role:?}")))?,
        disabled: row.try_get("disabled")?,
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl StaffAccounts for BackendStore {
    async fn create_user(&self, email: &str, role: Role, password_hash: &str) -> Result<User> {
        user_row(&writes::create_user(self, email, role, password_hash).await?)
    }

    async fn users(&self) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {} FROM users ORDER BY id",
            <BackendStore as Dialect>::USER_COLUMNS
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_row).collect()
    }

    async fn user_credentials(&self, email: &str) -> Result<Option<(User, String)>> {
        let sql = format!(
            "SELECT {}, password_hash FROM users WHERE email = $1",
            <BackendStore as Dialect>::USER_COLUMNS
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((user_row(&row)?, row.try_get("password_hash")?)))
            .transpose()
    }

    async fn set_user_disabled(&self, email: &str, disabled: bool) -> Result<bool> {
        writes::set_user_disabled(self, email, disabled).await
    }

    async fn set_password_hash(&self, email: &str, password_hash: &str) -> Result<bool> {
        writes::set_password_hash(self, email, password_hash).await
    }
}
