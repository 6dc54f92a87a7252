//! Staff accounts. Not archive content: they write no change-log entries.

use async_trait::async_trait;
use bulletin_core::staff::{Role, User};

use crate::Result;

/// Staff accounts: who may sign in to the newsroom, and as what.
#[async_trait]
pub trait StaffAccounts: Send + Sync {
    /// Creates an account; `email` as [`bulletin_core::staff::normalize_email`]
    /// makes it, `password_hash` an argon2id PHC string. A taken address is
    /// [`StoreError::Duplicate`].
    async fn create_user(&self, email: &str, role: Role, password_hash: &str) -> Result<User>;
    /// Every account, oldest first.
    async fn users(&self) -> Result<Vec<User>>;
    /// An account with its password hash, to check a sign-in.
    async fn user_credentials(&self, email: &str) -> Result<Option<(User, String)>>;
    /// `false` when there is no such account.
    async fn set_user_disabled(&self, email: &str, disabled: bool) -> Result<bool>;
    /// `false` when there is no such account.
    async fn set_password_hash(&self, email: &str, password_hash: &str) -> Result<bool>;
}
